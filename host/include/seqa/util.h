/* seqa — error convention, exit codes, small helpers.
 *
 * Return convention for every library function:
 *   0      success
 *   -1     end of stream (readers only)
 *   < -1   error; a message has already been logged (sq_log_error)
 * Constructors return NULL on error.  Library code never calls exit().
 */
#ifndef SEQA_UTIL_H
#define SEQA_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Library error codes (negative; < -1). */
enum {
	SQ_OK        =  0,
	SQ_EOF       = -1,
	SQ_EINVAL    = -2,   /* bad argument or option */
	SQ_EINPUT    = -3,   /* input data malformed */
	SQ_EIO       = -4,   /* read error, missing file */
	SQ_EOUTPUT   = -5,   /* cannot write output (permissions, disk full) */
	SQ_ENOMEM    = -6,
	SQ_EDEVICE   = -7,   /* accelerator failure */
	SQ_EUNSUPP   = -8,   /* feature not built in / not available here */
	SQ_EQC       = -9,   /* QC gate failed */
	SQ_EREMOTE   = -10   /* remote peer (CAD) down or refusing */
};

/* Process exit codes (documented in README "Exit status"). */
enum {
	SQ_EXIT_OK       = 0,
	SQ_EXIT_FAIL     = 1,  /* internal/unexpected failure */
	SQ_EXIT_USAGE    = 2,  /* unknown option, missing argument */
	SQ_EXIT_INPUT    = 3,  /* input data invalid (bad FASTQ, sample sheet, reference...) */
	SQ_EXIT_IO       = 4,  /* missing/unreadable input file */
	SQ_EXIT_OUTPUT   = 5,  /* cannot write output (permissions, disk full) */
	SQ_EXIT_DEVICE   = 6,  /* requested device unavailable or failed */
	SQ_EXIT_QC       = 7,  /* QC gate failed */
	SQ_EXIT_REMOTE   = 8,  /* delivery failed (CAD down/refused) */
	SQ_EXIT_UNSUPP   = 9   /* feature not built into this binary */
};

/** Map a library error code (< -1) to a process exit code. */
int sq_err2exit(int err);
/** Short name of an error code ("input", "io", ...). */
const char *sq_strerr(int err);

/** Allocation helpers: return NULL (and log) on failure; never abort. */
void *sq_malloc(size_t n);
void *sq_calloc(size_t n, size_t sz);
void *sq_realloc(void *p, size_t n);
char *sq_strdup(const char *s);

/** Monotonic wall clock and process CPU time, in seconds. */
double sq_realtime(void);
double sq_cputime(void);
/** Peak resident set size of this process, in bytes. */
long   sq_peakrss(void);

/** 1 if path exists and is a regular readable file. */
int sq_file_readable(const char *path);
/** Read a whole file into a NUL-terminated buffer (caller frees).  NULL on error (logged). */
char *sq_read_file(const char *path, size_t *len);
/** mkdir -p; 0 on success, SQ_EOUTPUT on failure (logged). */
int sq_mkdir_p(const char *path, int mode);

#endif
