/* seqa — shared helpers for the libFuzzer harnesses (tests/fuzz/fuzz_*.c).
 * Parsers that take a path get the input through a private scratch file; logging is silenced
 * (messages are not what is fuzzed, and stderr output slows libFuzzer down). */
#ifndef SEQA_FUZZ_COMMON_H
#define SEQA_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "seqa/log.h"

/* A scratch folder per process, created once: /tmp/seqa-fuzz-<pid>/ (removed at exit). */
static char fz_dir[256];
static void fz_cleanup(void)
{
	char cmd[300];
	if (!fz_dir[0]) return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_dir);
	if (system(cmd) != 0) { /* best effort */ }
}
static inline const char *fz_scratch(void)
{
	if (!fz_dir[0]) {
		const char *t = getenv("TMPDIR");
		snprintf(fz_dir, sizeof fz_dir, "%s/seqa-fuzz-%d", t && *t ? t : "/tmp", (int)getpid());
		if (mkdir(fz_dir, 0700) != 0) { perror(fz_dir); abort(); }
		atexit(fz_cleanup);
		sq_log_set_level(getenv("FUZZ_LOG") ? SQ_LOG_DEBUG : 0);
	}
	return fz_dir;
}
/* Write data to <scratch>/<name>; returns the path (static buffer per call site is the caller's). */
static inline void fz_write(const char *path, const uint8_t *data, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f) { perror(path); abort(); }
	if (n && fwrite(data, 1, n, f) != n) { perror(path); abort(); }
	if (fclose(f) != 0) { perror(path); abort(); }
}
/* NUL-terminated copy of the input. */
static inline char *fz_str(const uint8_t *data, size_t n)
{
	char *s = malloc(n + 1);
	if (!s) abort();
	memcpy(s, data, n);
	s[n] = 0;
	return s;
}
#endif
