/* seqa — paired FASTQ batches for alignment (private to host/align). */
#ifndef SEQA_ALIGN_FQPAIR_H
#define SEQA_ALIGN_FQPAIR_H
#include <stdint.h>
#include <bwa/bwa.h>

typedef struct sq_fqp_s sq_fqp_t;
/** Open r1 (and r2, or NULL).  NULL with *err = SQ_EIO/SQ_ENOMEM (logged). */
sq_fqp_t *sq_fqp_open(const char *r1, const char *r2, int *err);
/** Read records (pairs interleaved r1,r2) until >= max_bases.  0, -1 at end, < -1 error
 *  (logged).  *seqs is malloc'ed; free with sq_fqp_free_seqs. */
int sq_fqp_read(sq_fqp_t *p, int64_t max_bases, bseq1_t **seqs, int *n);
void sq_fqp_free_seqs(bseq1_t *s, int n);
void sq_fqp_close(sq_fqp_t *p);
#endif
