/* Unit tests of the service's parts: configuration, tokens, sample sheets, batch keys, the job
 * database (idempotency, claim, cancel, recovery), run-folder detection, stage progress and the
 * embedded dashboard.  The daemon as a whole is tested in tests/cli/serve*.sh. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "../../host/server/server_internal.h"

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");
	SQ_REQUIRE(fp != NULL);
	fputs(text, fp);
	fclose(fp);
}

static void test_config(void)
{
	const char *d = sq_test_tmpdir();
	char p[2048];
	sq_srv_conf_t c;
	snprintf(p, sizeof p, "%s/ok.conf", d);
	write_file(p, "# comment\n[server]\nlisten = 127.0.0.1:0\n[paths]\ndata_dir = /tmp/x\nallow_inputs = /a, /b /c\n"
	              "[pipeline]\ngpus = cuda:0 cuda:1\ncpu_slots = 2\nthreads = 3\n"
	              "[tokens]\nlims = pipeline 0A90008E1E837D8E6F68BFE0A07E939C8B6400A82A753274E7608ADB973B81EF\n");
	sq_srv_conf_init(&c);
	SQ_CHECK(sq_srv_conf_load(&c, p) == 0);
	SQ_CHECK(strcmp(c.listen, "127.0.0.1:0") == 0);
	SQ_CHECK(c.n_allow_inputs == 3 && strcmp(c.allow_inputs[2], "/c") == 0);
	SQ_CHECK(c.n_gpus == 2 && strcmp(c.gpus[1], "cuda:1") == 0);
	SQ_CHECK(c.cpu_slots == 2 && c.threads == 3);
	SQ_CHECK(c.n_tokens == 1 && c.tokens[0].role == SQ_SRV_ROLE_PIPELINE && strcmp(c.tokens[0].name, "lims") == 0);
	SQ_CHECK(c.tokens[0].sha256[0] == '0' && c.tokens[0].sha256[1] == 'a'); /* stored lower case */
	SQ_CHECK(sq_srv_conf_check(&c) == 0);
	/* a non-loopback address without TLS is refused */
	free(c.listen);
	c.listen = strdup("0.0.0.0:8443");
	SQ_CHECK(sq_srv_conf_check(&c) < 0);
	free(c.tls_cert), free(c.tls_key);
	c.tls_cert = strdup("/x.crt"), c.tls_key = strdup("/x.key");
	SQ_CHECK(sq_srv_conf_check(&c) == 0);
	sq_srv_conf_free(&c);
	/* typos are errors, not silently ignored */
	static const char *bad[] = { "[server]\nlisten_addr = 1.2.3.4:1\n", "[srv]\nlisten = x\n", "listen = 127.0.0.1:1\n",
		"[pipeline]\ncpu_slots = many\n", "[tokens]\nx = superuser 0a90008e1e837d8e6f68bfe0a07e939c8b6400a82a753274e7608adb973b81ef\n",
		"[tokens]\nx = admin 0a90\n", "[server]\nnothing here\n", 0 };
	for (int i = 0; bad[i]; ++i) {
		snprintf(p, sizeof p, "%s/bad%d.conf", d, i);
		write_file(p, bad[i]);
		sq_srv_conf_init(&c);
		SQ_CHECKF(sq_srv_conf_load(&c, p) == SQ_EINPUT, "bad config %d accepted", i);
		sq_srv_conf_free(&c);
	}
	sq_srv_conf_init(&c);
	SQ_CHECK(sq_srv_conf_load(&c, "/nonexistent/seqa.conf") == SQ_EIO);
	sq_srv_conf_free(&c);
}

static void test_tokens(void)
{
	sq_srv_token_t t[3];
	char tok[3][44];
	const int roles[3] = { SQ_SRV_ROLE_PIPELINE, SQ_SRV_ROLE_TECH, SQ_SRV_ROLE_ADMIN };
	for (int i = 0; i < 3; ++i) {
		sq_srv_token_new(tok[i]);
		SQ_CHECK(strlen(tok[i]) == 43);
		snprintf(t[i].name, sizeof t[i].name, "c%d", i);
		t[i].role = roles[i];
		sq_srv_token_hash(tok[i], t[i].sha256);
	}
	SQ_CHECK(strcmp(tok[0], tok[1]) != 0);
	for (int i = 0; i < 3; ++i) SQ_CHECK(sq_srv_token_find(t, 3, tok[i]) == i);
	char wrong[44];
	memcpy(wrong, tok[1], 44);
	wrong[5] ^= 1;
	SQ_CHECK(sq_srv_token_find(t, 3, wrong) == -1);
	SQ_CHECK(sq_srv_token_find(t, 3, "") == -1);
	SQ_CHECK(sq_srv_token_find(t, 3, t[0].sha256) == -1); /* the stored hash is not a token */
	/* known vector: sha256("abc") */
	char hex[65];
	sq_srv_token_hash("abc", hex);
	SQ_CHECK(strcmp(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0);
	SQ_CHECK(sq_srv_role_parse("technician") == SQ_SRV_ROLE_TECH && sq_srv_role_parse("root") == 0);
}

static const char *sheet_v2 =
	"[Header]\r\nFileFormatVersion,2\r\nRunName,RUN42\r\n\r\n[Reads]\r\nRead1Cycles,151\r\nRead2Cycles,151\r\n\r\n"
	"[BCLConvert_Settings]\r\nAdapterRead1,CTGTCTCTTATACACATCT\r\n\r\n"
	"[BCLConvert_Data]\r\nLane,Sample_ID,Index,Index2\r\n1,S2,AAAA,CCCC\r\n2,S2,AAAA,CCCC\r\n1,S1,GGGG,TTTT,,\r\n\r\n"
	"[Seqa_Data]\r\nSample_ID,Pseudonym,Indication,Sex\r\nS1,P-001,RD-BONE,F\r\nS2,P-002,RD-EYE,male\r\n";

static void test_sheet(void)
{
	json_t *b = sq_srv_sheet_parse(sheet_v2, "sheet");
	SQ_REQUIRE(b != NULL);
	json_t *s = json_object_get(b, "samples");
	SQ_CHECKF(json_array_size(s) == 2, "samples: %zu", json_array_size(s)); /* two lanes of S2 are one sample */
	SQ_CHECK(strcmp(sq_srv_jstr(json_array_get(s, 0), "id"), "S2") == 0);
	SQ_CHECK(strcmp(sq_srv_jstr(json_array_get(s, 0), "pseudonym"), "P-002") == 0);
	SQ_CHECK(strcmp(sq_srv_jstr(json_array_get(s, 1), "indication"), "RD-BONE") == 0);
	SQ_CHECK(strcmp(sq_srv_jstr(json_object_get(b, "run"), "RunName"), "RUN42") == 0);
	json_decref(b);
	/* v1 sheet */
	b = sq_srv_sheet_parse("[Header]\nIEMFileVersion,4\n[Data]\nSample_ID,Sample_Name,index\nX1,x,ACGT\n", "v1");
	SQ_REQUIRE(b != NULL);
	SQ_CHECK(json_array_size(json_object_get(b, "samples")) == 1);
	json_decref(b);
	sq_log_set_level(0);
	SQ_CHECK(sq_srv_sheet_parse("[Data]\nName,Index\nX,A\n", "no-id") == NULL);
}

/* A batch with two samples whose FASTQ exist in d. */
static json_t *two_samples(const char *d, int reversed)
{
	char p[4][2048];
	const char *n[4] = { "a_R1.fq", "a_R2.fq", "b_R1.fq", "b_R2.fq" };
	char cwd[1024];
	SQ_REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
	for (int i = 0; i < 4; ++i) {
		snprintf(p[i], sizeof p[i], "%s/%s/%s", cwd, d, n[i]);
		if (access(p[i], F_OK) != 0) write_file(p[i], i < 2 ? "@r\nACGT\n+\nIIII\n" : "@r\nACGA\n+\nIIII\n");
	}
	json_t *a = json_pack("{s:s, s:s, s:s, s:s}", "id", "A", "r1", p[0], "r2", p[1], "sex", "F");
	json_t *b = json_pack("{s:s, s:s, s:s}", "id", "B", "r1", p[2], "r2", p[3]);
	return reversed ? json_pack("{s:[o,o]}", "samples", b, a) : json_pack("{s:[o,o]}", "samples", a, b);
}

static void test_batch_key(void)
{
	const char *d = sq_test_tmpdir();
	char ref[2048];
	json_t *pr = NULL;
	snprintf(ref, sizeof ref, "%s/ref.fa", d);
	write_file(ref, ">q\nACGT\n");
	json_t *x = two_samples(d, 0), *y = two_samples(d, 1);
	json_t *nx = sq_srv_batch_normalise(x, NULL, ref, NULL, 0, &pr);
	json_t *ny = sq_srv_batch_normalise(y, NULL, ref, NULL, 0, &pr);
	SQ_REQUIRE(nx && ny);
	SQ_CHECK(strcmp(sq_srv_jstr(nx, "key"), sq_srv_jstr(ny, "key")) == 0); /* order does not matter */
	SQ_CHECK(strcmp(sq_srv_jstr(json_array_get(json_object_get(nx, "samples"), 0), "sex"), "female") == 0);
	SQ_CHECK(strcmp(sq_srv_jstr(json_array_get(json_object_get(nx, "samples"), 1), "sex"), "unknown") == 0);
	/* a changed file changes the key */
	char p[2048], cwd[1024];
	SQ_REQUIRE(getcwd(cwd, sizeof cwd) != NULL);
	snprintf(p, sizeof p, "%s/%s/b_R2.fq", cwd, d);
	write_file(p, "@r\nACGA\n+\nIIII\n@s\nA\n+\nI\n");
	json_t *nz = sq_srv_batch_normalise(y, NULL, ref, NULL, 0, &pr);
	SQ_REQUIRE(nz);
	SQ_CHECK(strcmp(sq_srv_jstr(nx, "key"), sq_srv_jstr(nz, "key")) != 0);
	/* problems: missing file, bad id, duplicate, relative path without base, outside allow list */
	json_t *bad = json_pack("{s:[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s}]}", "samples",
		"id", "ok1", "r1", "/nonexistent/x.fq", "r2", p,
		"id", "bad id!", "r1", p, "r2", p,
		"id", "rel", "r1", "a_R1.fq", "r2", "a_R2.fq",
		"id", "same", "r1", p, "r2", p);
	SQ_CHECK(sq_srv_batch_normalise(bad, NULL, ref, NULL, 0, &pr) == NULL);
	SQ_REQUIRE(pr != NULL);
	SQ_CHECKF(json_array_size(pr) == 5, "problems: %zu", json_array_size(pr)); /* rel: r1 and r2 */
	char *txt = json_dumps(pr, 0);
	SQ_CHECK(txt && strstr(txt, "relative path") && strstr(txt, "same file") && strstr(txt, "does not exist") && strstr(txt, "bad id!"));
	free(txt);
	json_decref(pr);
	/* relative paths resolve against a base folder (run folders) */
	json_t *rel = json_pack("{s:[{s:s,s:s,s:s}]}", "samples", "id", "rel", "r1", "a_R1.fq", "r2", "a_R2.fq");
	json_t *nr = sq_srv_batch_normalise(rel, d, ref, NULL, 0, &pr);
	SQ_CHECK(nr != NULL);
	char *allow[] = { "/nonexistent-dir", NULL };
	SQ_CHECK(sq_srv_batch_normalise(rel, d, ref, allow, 1, &pr) == NULL);
	json_decref(pr);
	SQ_CHECK(sq_srv_batch_normalise(x, NULL, NULL, NULL, 0, &pr) == NULL); /* no reference */
	json_decref(pr);
	json_decref(x), json_decref(y), json_decref(nx), json_decref(ny), json_decref(nz), json_decref(bad), json_decref(rel), json_decref(nr);
}

static void test_db(void)
{
	const char *d = sq_test_tmpdir();
	char ref[2048], dbp[2048];
	json_t *pr = NULL;
	int created = -1;
	snprintf(ref, sizeof ref, "%s/ref.fa", d);
	snprintf(dbp, sizeof dbp, "%s/jobs.db", d);
	write_file(ref, ">q\nACGT\n");
	json_t *x = two_samples(d, 0), *nx = sq_srv_batch_normalise(x, NULL, ref, NULL, 0, &pr);
	SQ_REQUIRE(nx != NULL);
	sq_srv_db_t *db = sq_srv_db_open(dbp);
	SQ_REQUIRE(db != NULL);
	char *id = sq_srv_db_submit(db, nx, "lims", d, NULL, &created);
	SQ_REQUIRE(id != NULL);
	SQ_CHECK(created == 1);
	char *id2 = sq_srv_db_submit(db, nx, "other", d, NULL, &created);
	SQ_CHECK(id2 && strcmp(id, id2) == 0 && created == 0);
	json_t *jobs = sq_srv_db_jobs(db, NULL, NULL, NULL, 0);
	SQ_CHECKF(json_array_size(jobs) == 2, "jobs after resubmission: %zu", json_array_size(jobs));
	json_decref(jobs);
	/* the pipeline filter */
	jobs = sq_srv_db_jobs(db, NULL, NULL, "other", 0);
	SQ_CHECK(json_array_size(jobs) == 0);
	json_decref(jobs);
	sq_srv_jobrow_t j;
	SQ_REQUIRE(sq_srv_db_claim(db, "cpu:0", &j) == 0);
	SQ_CHECK(j.id == 1 && strcmp(j.sample, "A") == 0 && j.attempts == 1);
	SQ_CHECK(strstr(j.outdir, id) != NULL);
	SQ_CHECK(sq_srv_db_cancel(db, 2) == 0);
	char *st = sq_srv_db_state(db, 2);
	SQ_CHECK(st && strcmp(st, "cancelled") == 0);
	free(st);
	SQ_CHECK(sq_srv_db_claim(db, "cpu:0", &j) == SQ_EOF); /* nothing queued */
	/* daemon crash: running job comes back queued, with its attempt count */
	SQ_CHECK(sq_srv_db_recover(db) == 1);
	SQ_REQUIRE(sq_srv_db_claim(db, "cpu:1", &j) == 0);
	SQ_CHECK(j.id == 1 && j.attempts == 2);
	SQ_CHECK(sq_srv_db_cancel(db, 1) == 0);
	st = sq_srv_db_state(db, 1);
	SQ_CHECK(st && strcmp(st, "cancelling") == 0);
	free(st);
	SQ_CHECK(sq_srv_db_finish(db, 1, "cancelled", 143, NULL, NULL) == 0);
	SQ_CHECK(sq_srv_db_cancel(db, 1) == SQ_EINVAL);
	SQ_CHECK(sq_srv_db_cancel(db, 99) == SQ_EOF);
	SQ_CHECK(sq_srv_db_retry(db, 1) == 0);
	SQ_CHECK(sq_srv_db_retry(db, 1) == SQ_EINVAL); /* already queued */
	json_t *counts = sq_srv_db_counts(db);
	SQ_CHECK(json_integer_value(json_object_get(counts, "queued")) == 1);
	SQ_CHECK(json_integer_value(json_object_get(counts, "cancelled")) == 1);
	json_decref(counts);
	/* state survives closing and reopening (a restart) */
	sq_srv_db_close(db);
	db = sq_srv_db_open(dbp);
	SQ_REQUIRE(db != NULL);
	json_t *b = sq_srv_db_batch(db, id);
	SQ_CHECK(b && json_integer_value(json_object_get(b, "n_jobs")) == 2);
	json_decref(b);
	sq_srv_jobrow_free(&j);
	sq_srv_db_close(db);
	free(id), free(id2);
	json_decref(x), json_decref(nx);
}

static void test_run_folder(void)
{
	const char *d = sq_test_tmpdir();
	char run[2048], p[4096];
	json_t *b = NULL;
	const char *why = NULL;
	snprintf(run, sizeof run, "%s/241129_A01234_0042_BHXXXXDSX7", d);
	snprintf(p, sizeof p, "mkdir -p %s/Analysis/1/Data/fastq", run);
	SQ_REQUIRE(sq_test_sh("%s", p) == 0);
	snprintf(p, sizeof p, "%s/RunInfo.xml", run);
	write_file(p, "<?xml version=\"1.0\"?>\n<RunInfo Version=\"6\"><Run Id=\"241129_A01234_0042_BHXXXXDSX7\" Number=\"42\">"
	              "<Flowcell>HXXXXDSX7</Flowcell><Instrument>A01234</Instrument></Run></RunInfo>\n");
	snprintf(p, sizeof p, "%s/SampleSheet.csv", run);
	write_file(p, sheet_v2);
	SQ_CHECK(sq_srv_run_folder(run, &b, &why) == 0); /* no CopyComplete.txt */
	const char *fq[] = { "S1_S1_R1_001.fastq.gz", "S1_S1_R2_001.fastq.gz", "S2_S2_R1_001.fastq.gz", "S2_S2_R2_001.fastq.gz",
	                     "S10_S3_R1_001.fastq.gz", "Undetermined_S0_R1_001.fastq.gz", 0 };
	for (int i = 0; fq[i]; ++i) {
		snprintf(p, sizeof p, "%s/Analysis/1/Data/fastq/%s", run, fq[i]);
		write_file(p, "x");
	}
	SQ_CHECK(sq_srv_run_folder(run, &b, &why) == 0);
	snprintf(p, sizeof p, "%s/CopyComplete.txt", run);
	write_file(p, "");
	SQ_REQUIRE(sq_srv_run_folder(run, &b, &why) == 1);
	json_t *s = json_object_get(b, "samples");
	SQ_CHECK(json_array_size(s) == 2);
	for (size_t i = 0; i < json_array_size(s); ++i) {
		json_t *o = json_array_get(s, i);
		const char *id = sq_srv_jstr(o, "id"), *r1 = sq_srv_jstr(o, "r1"), *r2 = sq_srv_jstr(o, "r2");
		SQ_REQUIRE(id && r1 && r2);
		char want[64];
		snprintf(want, sizeof want, "/%s_%s_R1_001.fastq.gz", id, id);
		SQ_CHECKF(strstr(r1, want) != NULL, "%s: r1 %s", id, r1); /* S1 must not take S10's file */
		snprintf(want, sizeof want, "/%s_%s_R2_001.fastq.gz", id, id);
		SQ_CHECKF(strstr(r2, want) != NULL, "%s: r2 %s", id, r2);
	}
	SQ_CHECK(strcmp(sq_srv_jstr(json_object_get(b, "run"), "run_id"), "241129_A01234_0042_BHXXXXDSX7") == 0);
	SQ_CHECK(strcmp(sq_srv_jstr(json_object_get(b, "run"), "flowcell"), "HXXXXDSX7") == 0);
	json_decref(b);
	/* lanes not merged: refused with a reason */
	snprintf(p, sizeof p, "%s/Analysis/1/Data/fastq/S1_S1_L002_R1_001.fastq.gz", run);
	write_file(p, "x");
	SQ_CHECK(sq_srv_run_folder(run, &b, &why) == SQ_EINPUT && why && strstr(why, "lanes"));
}

static void test_stages(void)
{
	const char *d = sq_test_tmpdir();
	char p[2048];
	sq_srv_conf_t c;
	const char *stage;
	double prog;
	sq_srv_conf_init(&c);
	snprintf(p, sizeof p, "mkdir -p %s/.seqa", d);
	SQ_REQUIRE(sq_test_sh("%s", p) == 0);
	json_t *t = sq_srv_job_stages(&c, d, &stage, &prog);
	SQ_CHECK(prog == 0 && strcmp(stage, "ingest") == 0 && json_object_size(t) == 0);
	json_decref(t);
	snprintf(p, sizeof p, "%s/.seqa/stage-ingest.json", d);
	write_file(p, "{\"stage\":\"ingest\",\"wall_s\":1.5}");
	snprintf(p, sizeof p, "%s/.seqa/stage-align.json", d);
	write_file(p, "{\"stage\":\"align\",\"wall_s\":12.25}");
	t = sq_srv_job_stages(&c, d, &stage, &prog);
	SQ_CHECKF(prog == 50 && strcmp(stage, "call") == 0, "progress %g stage %s", prog, stage);
	SQ_CHECK(json_real_value(json_object_get(t, "align")) == 12.25);
	json_decref(t);
	snprintf(p, sizeof p, "%s/qc.json", d);
	write_file(p, "{\"gate\":{\"status\":\"WARN\"}}");
	char *q = sq_srv_job_find(d, "qc.json"), *v = q ? sq_srv_qc_verdict(q) : NULL;
	SQ_CHECK(v && strcmp(v, "warn") == 0);
	free(q), free(v);
	sq_srv_conf_free(&c);
}

static void test_www(void)
{
	size_t len = 0;
	const char *mime = NULL;
	const unsigned char *f = sq_srv_www("/", &len, &mime);
	SQ_REQUIRE(f != NULL);
	SQ_CHECK(strstr((const char *)f, "id=\"jobs\"") != NULL && strstr(mime, "text/html"));
	const char *pages[] = { "/index.html", "/job.html", "/devices.html", "/outbox.html", "/app.js", "/style.css", 0 };
	for (int i = 0; pages[i]; ++i) SQ_CHECKF(sq_srv_www(pages[i], &len, &mime) && len > 100, "%s", pages[i]);
	SQ_CHECK(sq_srv_www("/../seqa.db", &len, &mime) == NULL);
	SQ_CHECK(sq_srv_www("/nope.html", &len, &mime) == NULL);
	SQ_CHECK(sq_srv_www("index.html", &len, &mime) == NULL);
}

static void test_split_subst(void)
{
	int n = 0;
	char **v = sq_srv_split("  a, b\tc,,d ", &n);
	SQ_REQUIRE(v);
	SQ_CHECK(n == 4 && strcmp(v[0], "a") == 0 && strcmp(v[3], "d") == 0 && v[4] == NULL);
	sq_srv_strv_free(v);
	v = sq_srv_split("", &n);
	SQ_CHECK(v && n == 0 && v[0] == NULL);
	sq_srv_strv_free(v);
}

SQ_TESTS = {
	{ "config", test_config },
	{ "tokens", test_tokens },
	{ "sheet", test_sheet },
	{ "batch_key", test_batch_key },
	{ "db", test_db },
	{ "run_folder", test_run_folder },
	{ "stages", test_stages },
	{ "www", test_www },
	{ "split", test_split_subst },
	{ 0, 0 }
};
