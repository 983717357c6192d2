/* seqa — ingest internals shared by batch.c, fastq_check.c and report.c. */
#ifndef SEQA_INGEST_INTERNAL_H
#define SEQA_INGEST_INTERNAL_H

#include <stdarg.h>
#include "seqa/ingest.h"

/** Append a problem to a list; 0 or SQ_ENOMEM. */
int sq_fq_err_vadd(sq_fq_err_t **arr, int *n, int *m, int code, const char *file, int64_t record,
                   int64_t line, const char *fmt, va_list ap);
int sq_fq_batch_err(sq_fq_batch_t *b, int code, const char *file, int64_t line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int sq_fq_sample_err(sq_fq_sample_t *s, int code, const char *file, int64_t record, int64_t line,
                     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/** Count a problem that is not stored (over the per-file cap). */
void sq_fq_sample_count(sq_fq_sample_t *s, int code);
void sq_fq_err_free(sq_fq_err_t *e, int n);

#endif
