/* seqa — pair-HMM kernel family: the one interface every backend implements.
 *
 * GATK HaplotypeCaller semantics (PairHMM forward algorithm, log10 result): for each read r and
 * haplotype h, log10 P(r | h) with per-base base/insertion/deletion qualities and the
 * gap-continuation penalty, emission from base quality with N matching anything, and the
 * initial-condition scaling of the deletion row by 1/len(hap).
 *
 * Data layout (structure of arrays, as devices want it):
 *   reads:  n_reads records concatenated; read i spans [read_off[i], read_off[i+1]) in read_seq
 *           and in the four quality arrays (qualities are phred values, NOT +33).
 *   haps:   n_haps records concatenated; hap j spans [hap_off[j], hap_off[j+1]) in hap_seq.
 *   pairs:  either the full matrix (pair_read == NULL: all n_reads x n_haps, out row-major,
 *           out[i * n_haps + j]) or an explicit list of n_pairs (pair_read[k], pair_hap[k]) with
 *           out[k].
 * Bases are ASCII (ACGTN, any case).  Pointers are host memory; backends copy as they need.
 *
 * Numerics: the reference computes in double.  Accelerated backends compute in float and
 * re-run in double any pair whose float result underflows (GATK's threshold: float result
 * < SQ_PHMM_MIN_ACCEPTED_FLOAT before the log); the tolerance across backends is documented in
 * tests (1e-5 absolute in log10 on the GATK vectors).
 */
#ifndef SEQA_KERNELS_PAIRHMM_H
#define SEQA_KERNELS_PAIRHMM_H

#include <stdint.h>

#define SQ_PHMM_MIN_ACCEPTED_FLOAT 1e-28f  /* GATK: below this the float pass is redone in double */

typedef struct sq_phmm_batch_s {
	int32_t n_reads, n_haps;
	const char    *read_seq;    /* host: concatenated read bases */
	const uint8_t *base_q;      /* host: per-base base quality (phred) */
	const uint8_t *ins_q;       /* host: per-base insertion gap-open quality */
	const uint8_t *del_q;       /* host: per-base deletion gap-open quality */
	const uint8_t *gcp;         /* host: per-base gap-continuation penalty */
	const int32_t *read_off;    /* host: n_reads + 1 offsets */
	const char    *hap_seq;     /* host: concatenated haplotype bases */
	const int32_t *hap_off;     /* host: n_haps + 1 offsets */
	int64_t        n_pairs;     /* explicit pairs; ignored when pair_read == NULL */
	const int32_t *pair_read;   /* host: NULL for the full matrix */
	const int32_t *pair_hap;
	double        *out;         /* host: log10 likelihoods (n_reads*n_haps or n_pairs) */
} sq_phmm_batch_t;

/** Number of results the batch produces. */
static inline int64_t sq_phmm_batch_n_out(const sq_phmm_batch_t *b)
{
	return b->pair_read ? b->n_pairs : (int64_t)b->n_reads * b->n_haps;
}

/** Reference (kernels/ref/pairhmm.c): double precision, scalar, the definition of the answer.
 *  Returns 0, or SQ_EINVAL on malformed input (logged). */
int sq_phmm_ref_batch(const sq_phmm_batch_t *b);

/** Reference for one pair (lengths in bases; quals phred).  Returns log10 likelihood. */
double sq_phmm_ref_one(const char *hap, int hap_len, const char *read, int read_len,
                       const uint8_t *base_q, const uint8_t *ins_q, const uint8_t *del_q,
                       const uint8_t *gcp);

#endif
