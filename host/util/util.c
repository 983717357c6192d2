/* seqa — error mapping, allocation, time, file helpers; see seqa/util.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "seqa/util.h"
#include "seqa/log.h"

int sq_err2exit(int err)
{
	switch (err) {
	case SQ_OK: return SQ_EXIT_OK;
	case SQ_EINVAL: return SQ_EXIT_USAGE;
	case SQ_EINPUT: return SQ_EXIT_INPUT;
	case SQ_EIO: return SQ_EXIT_IO;
	case SQ_EOUTPUT: return SQ_EXIT_OUTPUT;
	case SQ_EDEVICE: return SQ_EXIT_DEVICE;
	case SQ_EUNSUPP: return SQ_EXIT_UNSUPP;
	case SQ_EQC: return SQ_EXIT_QC;
	case SQ_EREMOTE: return SQ_EXIT_REMOTE;
	default: return SQ_EXIT_FAIL;
	}
}

const char *sq_strerr(int err)
{
	switch (err) {
	case SQ_OK: return "ok";
	case SQ_EOF: return "end of stream";
	case SQ_EINVAL: return "invalid argument";
	case SQ_EINPUT: return "invalid input data";
	case SQ_EIO: return "input/output error";
	case SQ_EOUTPUT: return "cannot write output";
	case SQ_ENOMEM: return "out of memory";
	case SQ_EDEVICE: return "device failure";
	case SQ_EUNSUPP: return "not supported by this build";
	case SQ_EQC: return "QC gate failed";
	case SQ_EREMOTE: return "remote peer failure";
	default: return "unknown error";
	}
}

void *sq_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) sq_log_error("out of memory allocating %zu bytes", n);
	return p;
}

void *sq_calloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p) sq_log_error("out of memory allocating %zu x %zu bytes", n, sz);
	return p;
}

void *sq_realloc(void *q, size_t n)
{
	void *p = realloc(q, n ? n : 1);
	if (!p) sq_log_error("out of memory reallocating %zu bytes", n);
	return p;
}

char *sq_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = sq_malloc(n);
	if (p) memcpy(p, s, n);
	return p;
}

double sq_realtime(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

double sq_cputime(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_utime.tv_sec + r.ru_stime.tv_sec + 1e-6 * (r.ru_utime.tv_usec + r.ru_stime.tv_usec);
}

long sq_peakrss(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return r.ru_maxrss * 1024L; /* Linux reports KiB */
}

int sq_file_readable(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

char *sq_read_file(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = 0;
	size_t cap = 0, n = 0;
	if (!fp) {
		sq_log_error("cannot open '%s': %s", path, strerror(errno));
		return 0;
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			size_t nc = cap ? cap * 2 : 65536;
			char *nb = sq_realloc(buf, nc);
			if (!nb) goto fail;
			buf = nb, cap = nc;
		}
		size_t r = fread(buf + n, 1, cap - n - 1, fp);
		n += r;
		if (r == 0) break;
	}
	if (ferror(fp)) {
		sq_log_error("error reading '%s': %s", path, strerror(errno));
		goto fail;
	}
	fclose(fp);
	buf[n] = 0;
	if (len) *len = n;
	return buf;
fail:
	free(buf);
	fclose(fp);
	return 0;
}

int sq_mkdir_p(const char *path, int mode)
{
	char tmp[4096];
	size_t n = strlen(path);
	if (n == 0 || n >= sizeof tmp) return SQ_EOUTPUT;
	memcpy(tmp, path, n + 1);
	for (size_t i = 1; i <= n; ++i) {
		if (tmp[i] == '/' || tmp[i] == 0) {
			char c = tmp[i];
			tmp[i] = 0;
			if (mkdir(tmp, (mode_t)mode) != 0 && errno != EEXIST) {
				sq_log_error("cannot create directory '%s': %s", tmp, strerror(errno));
				return SQ_EOUTPUT;
			}
			tmp[i] = c;
		}
	}
	return 0;
}
