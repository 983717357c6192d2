/* Unit tests of host/util: durable writes, hashing, JSON, threads, logging, errors. */
#include <stdatomic.h>
#include <fcntl.h>
#include "harness.h"
#include "seqa/cli.h"
#include "seqa/durable.h"
#include "seqa/hash.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"

static void test_durable_commit(void)
{
	const char *d = sq_test_tmpdir();
	char path[1200], out[256];
	snprintf(path, sizeof path, "%s/a.txt", d);
	sq_durable_t *w = sq_durable_open(path);
	SQ_REQUIRE(w);
	fprintf(sq_durable_fp(w), "hello\n");
	SQ_CHECK(access(path, F_OK) != 0);          /* nothing under the final name yet */
	SQ_CHECK(access(sq_durable_tmp_path(w), F_OK) == 0);
	SQ_CHECK(sq_durable_commit(w) == 0);
	SQ_CHECK(sq_test_capture(out, sizeof out, "cat %s", path) == 0 && strcmp(out, "hello\n") == 0);
	SQ_CHECK(sq_test_sh("ls %s | grep -q tmp", d) != 0); /* no temporary left */
}

static void test_durable_abort_and_errors(void)
{
	const char *d = sq_test_tmpdir();
	char path[1200];
	snprintf(path, sizeof path, "%s/b.txt", d);
	sq_durable_t *w = sq_durable_open(path);
	SQ_REQUIRE(w);
	fputs("partial", sq_durable_fp(w));
	sq_durable_abort(w);
	SQ_CHECK(access(path, F_OK) != 0);
	SQ_CHECK(sq_test_sh("[ -z \"$(ls %s)\" ]", d) == 0);
	SQ_CHECK(sq_durable_open("/nonexistent-dir/x") == NULL);
	/* disk full: /dev/full fails at flush; commit must report it and leave nothing behind */
	if (access("/dev/full", W_OK) == 0) {
		SQ_CHECK(sq_durable_rename("/nonexistent-tmp", path) == SQ_EOUTPUT);
	}
}

static void test_durable_enospc(void)
{
	/* A real full disk: a 64 KiB tmpfs (needs root; skipped otherwise). */
	const char *d = sq_test_tmpdir();
	char mnt[1200], path[1300], big[4096];
	snprintf(mnt, sizeof mnt, "%s/full", d);
	snprintf(path, sizeof path, "%s/out.bin", mnt);
	if (sq_test_sh("mkdir -p %s && mount -t tmpfs -o size=64k tmpfs %s 2>/dev/null", mnt, mnt) != 0)
		SQ_SKIP("cannot mount a small tmpfs here (not root?)");
	memset(big, 'x', sizeof big);
	sq_durable_t *w = sq_durable_open(path);
	SQ_CHECK(w != NULL);
	if (w) {
		for (int i = 0; i < 64; ++i) fwrite(big, 1, sizeof big, sq_durable_fp(w)); /* 256 KiB */
		SQ_CHECK(sq_durable_commit(w) == SQ_EOUTPUT);
	}
	SQ_CHECK(access(path, F_OK) != 0);                       /* nothing that looks complete */
	SQ_CHECK(sq_test_sh("[ -z \"$(ls %s)\" ]", mnt) == 0);  /* and no temporary left */
	sq_test_sh("umount %s", mnt);
}

static void test_sha256_matches_coreutils(void)
{
	const char *d = sq_test_tmpdir();
	char path[1200], hex[65], ref[200];
	snprintf(path, sizeof path, "%s/r.bin", d);
	SQ_REQUIRE(sq_test_sh("head -c 300000 /dev/urandom > %s", path) == 0);
	SQ_REQUIRE(sq_sha256_file(path, hex) == 0);
	SQ_REQUIRE(sq_test_capture(ref, sizeof ref, "sha256sum %s | cut -c1-64", path) == 0);
	SQ_CHECKF(strncmp(hex, ref, 64) == 0, "%s vs %s", hex, ref);
	SQ_CHECK(sq_sha256_file("/nonexistent", hex) == SQ_EIO);
	char m[33];
	sq_md5_buf("ACGT", 4, m);
	SQ_REQUIRE(sq_test_capture(ref, sizeof ref, "printf ACGT | md5sum | cut -c1-32") == 0);
	SQ_CHECKF(strncmp(m, ref, 32) == 0, "%s vs %s", m, ref);
}

static void test_json_roundtrip(void)
{
	const char *d = sq_test_tmpdir();
	char path[1200];
	snprintf(path, sizeof path, "%s/j.json", d);
	json_t *j = json_pack("{s:s, s:i, s:f}", "name", "S1", "reads", 42, "q30", 93.5);
	SQ_REQUIRE(j);
	SQ_CHECK(sq_json_save(j, path) == 0);
	json_decref(j);
	j = sq_json_load(path);
	SQ_REQUIRE(j);
	SQ_CHECK(strcmp(sq_json_str(j, "name", ""), "S1") == 0);
	SQ_CHECK(sq_json_int(j, "reads", -1) == 42);
	SQ_CHECK(sq_json_num(j, "q30", 0) == 93.5);
	SQ_CHECK(sq_json_int(j, "absent", -7) == -7);
	json_decref(j);
	SQ_REQUIRE(sq_test_sh("printf '{\"a\":1,' > %s", path) == 0);
	SQ_CHECK(sq_json_load(path) == NULL);
	SQ_REQUIRE(sq_test_sh("printf '{\"a\":1,\"a\":2}' > %s", path) == 0);
	SQ_CHECK(sq_json_load(path) == NULL); /* duplicate keys are rejected */
}

static _Atomic long sum_for;
static int hits[10000];
static void for_body(void *data, int64_t i, int tid)
{
	(void)data;
	SQ_CHECK(tid >= 0 && tid < 4);
	hits[i]++;
	atomic_fetch_add(&sum_for, (long)i);
}

static void test_sq_for(void)
{
	for (int nt = 1; nt <= 4; ++nt) {
		memset(hits, 0, sizeof hits);
		sum_for = 0;
		SQ_CHECK(sq_for(nt, for_body, 0, 10000) == 0);
		SQ_CHECK(sum_for == 10000L * 9999 / 2);
		int all_once = 1;
		for (int i = 0; i < 10000; ++i) all_once &= hits[i] == 1;
		SQ_CHECK(all_once);
	}
}

static _Atomic int pool_count;
static void pool_task(void *arg) { atomic_fetch_add(&pool_count, *(int *)arg); }

static void test_pool(void)
{
	static int one = 1;
	sq_pool_t *p = sq_pool_create(3);
	SQ_REQUIRE(p);
	for (int i = 0; i < 1000; ++i) SQ_CHECK(sq_pool_submit(p, pool_task, &one) == 0);
	sq_pool_wait(p);
	SQ_CHECK(pool_count == 1000);
	sq_pool_destroy(p);
	SQ_CHECK(sq_ncpu() >= 1);
}

static void test_log_and_errors(void)
{
	SQ_CHECK(sq_log_parse_level("debug") == SQ_LOG_DEBUG);
	SQ_CHECK(sq_log_parse_level("WARN") == SQ_LOG_WARN);
	SQ_CHECK(sq_log_parse_level("3") == 3);
	SQ_CHECK(sq_log_parse_level("loud") == -2);
	SQ_CHECK(sq_err2exit(SQ_EINPUT) == SQ_EXIT_INPUT);
	SQ_CHECK(sq_err2exit(SQ_EOUTPUT) == SQ_EXIT_OUTPUT);
	SQ_CHECK(sq_err2exit(-99) == SQ_EXIT_FAIL);
	/* JSON log lines are valid JSON with the escaped message */
	const char *d = sq_test_tmpdir();
	char path[1200];
	snprintf(path, sizeof path, "%s/log.jsonl", d);
	fflush(stderr);
	int saved = dup(2), fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	SQ_REQUIRE(fd >= 0 && saved >= 0);
	dup2(fd, 2);
	sq_log_set_json(1);
	sq_log_warn("quote \" and\nnewline");
	sq_log_set_level(SQ_LOG_ERROR);
	sq_log_info("suppressed");
	fflush(stderr);
	dup2(saved, 2);
	close(fd);
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e);
	SQ_REQUIRE(j);
	SQ_CHECK(strcmp(sq_json_str(j, "level", ""), "warn") == 0);
	SQ_CHECK(strcmp(sq_json_str(j, "msg", ""), "quote \" and\nnewline") == 0);
	json_decref(j);
}

static void test_cmdline_quoting(void)
{
	char *argv[] = { "seqa", "run", "--override-by", "tech A", "-o", "it's", "--x=1", "" };
	sq_cli_set_cmdline(8, argv);
	SQ_CHECKF(strcmp(sq_cli_cmdline(), "seqa run --override-by 'tech A' -o 'it'\\''s' --x=1 ''") == 0, "%s", sq_cli_cmdline());
	/* the quoted line gives back the same words through a real shell */
	char out[256];
	SQ_REQUIRE(sq_test_capture(out, sizeof out, "for a in %s; do printf '[%%s]' \"$a\"; done", sq_cli_cmdline()) == 0);
	SQ_CHECKF(strcmp(out, "[seqa][run][--override-by][tech A][-o][it's][--x=1][]") == 0, "%s", out);
}

SQ_TESTS = {
	{ "cmdline_quoting", test_cmdline_quoting },
	{ "durable_commit", test_durable_commit },
	{ "durable_abort_and_errors", test_durable_abort_and_errors },
	{ "durable_enospc", test_durable_enospc },
	{ "sha256_matches_coreutils", test_sha256_matches_coreutils },
	{ "json_roundtrip", test_json_roundtrip },
	{ "sq_for", test_sq_for },
	{ "pool", test_pool },
	{ "log_and_errors", test_log_and_errors },
	{ 0, 0 }
};
