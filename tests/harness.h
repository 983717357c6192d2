/* seqa — test harness (acutest-style).
 *
 * One binary per module; each test runs in its own forked process, so a crash fails one test
 * only.  Usage:
 *
 *   #include "harness.h"
 *   static void test_x(void) { SQ_CHECK(1 + 1 == 2); SQ_CHECKF(v < 3, "v=%d", v); }
 *   SQ_TESTS = { { "x", test_x }, { 0, 0 } };
 *
 * A test may call SQ_SKIP("reason") (e.g. no GPU, ../shared absent).  Output is one line per
 * test ("ok", "not ok", "skip") and, last, "N passed, N failed, N skipped".
 * `test_bin NAME` runs only the tests whose name contains NAME.
 * Exit status: 0 when nothing failed.
 */
#ifndef SEQA_TEST_HARNESS_H
#define SEQA_TEST_HARNESS_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct { const char *name; void (*fn)(void); } sq_test_t;
extern const sq_test_t sq_tests[];
#define SQ_TESTS const sq_test_t sq_tests[]

static int sq_t_failed;
static const char *sq_t_name = "";

#define SQ_CHECK(c) SQ_CHECKF(c, "%s", #c)
#define SQ_CHECKF(c, ...) do { if (!(c)) { sq_t_failed++; \
	fprintf(stderr, "  FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define SQ_REQUIRE(c) do { int sq_req_ok_ = !!(c); SQ_CHECKF(sq_req_ok_, "%s", #c); if (!sq_req_ok_) exit(1); } while (0) /* c evaluated once */
#define SQ_SKIP(...) do { printf("skip - %s: ", sq_t_name); printf(__VA_ARGS__); printf("\n"); fflush(stdout); _exit(77); } while (0)

/* Path to ../shared/data/REL (or $SEQA_SHARED/data/REL); NULL if absent (caller skips). */
static inline const char *sq_test_shared(const char *rel)
{
	static char buf[8][4096];
	static int k;
	const char *root = getenv("SEQA_SHARED") ? getenv("SEQA_SHARED") : "../shared";
	char *b = buf[k++ & 7];
	snprintf(b, 4096, "%s/data/%s", root, rel);
	return access(b, R_OK) == 0 ? b : NULL;
}

/* A fresh scratch directory tests/out/<test name>/ (emptied first). */
static inline const char *sq_test_tmpdir(void)
{
	static char d[512];
	char cmd[1200];
	snprintf(d, sizeof d, "tests/out/%s", sq_t_name);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", d, d);
	if (system(cmd) != 0) { fprintf(stderr, "cannot make %s\n", d); exit(1); }
	return d;
}

/* Run a shell command; returns its exit status (or -1).  Output goes where the shell sends it. */
static inline int sq_test_sh(const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	int r = system(cmd);
	if (r == -1 || !WIFEXITED(r)) return -1;
	return WEXITSTATUS(r);
}

/* Run a shell command and capture its stdout (first cap-1 bytes) into out. Returns exit status. */
static inline int sq_test_capture(char *out, size_t cap, const char *fmt, ...)
{
	char cmd[16384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	FILE *fp = popen(cmd, "r");
	size_t n = 0;
	if (!fp) return -1;
	while (n + 1 < cap) {
		size_t r = fread(out + n, 1, cap - 1 - n, fp);
		if (r == 0) break;
		n += r;
	}
	out[n] = 0;
	{ char sink[4096]; while (fread(sink, 1, sizeof sink, fp) > 0) {} }
	int r = pclose(fp);
	return (r == -1 || !WIFEXITED(r)) ? -1 : WEXITSTATUS(r);
}

/* 1 if the command exists on PATH. */
static inline int sq_test_have(const char *prog)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

int main(int argc, char *argv[])
{
	int pass = 0, fail = 0, skip = 0;
	setvbuf(stdout, 0, _IOLBF, 0);
	for (const sq_test_t *t = sq_tests; t->name; ++t) {
		if (argc > 1 && !strstr(t->name, argv[1])) continue;
		fflush(stdout), fflush(stderr);
		pid_t pid = fork();
		if (pid == 0) {
			sq_t_name = t->name;
			alarm(900);
			t->fn();
			fflush(stdout), fflush(stderr);
			_exit(sq_t_failed ? 1 : 0);
		}
		int st = 0;
		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0) { printf("ok - %s\n", t->name); ++pass; }
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 77) ++skip;
		else {
			if (WIFSIGNALED(st)) printf("not ok - %s (signal %d)\n", t->name, WTERMSIG(st));
			else printf("not ok - %s\n", t->name);
			++fail;
		}
	}
	printf("%d passed, %d failed, %d skipped\n", pass, fail, skip);
	return fail ? 1 : 0;
}

#endif
