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
 * Bases are ASCII (ACGTN, any case; any other byte counts as N).  Pointers are host memory;
 * backends copy as they need.
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

/* ---- test/bench input sets (drivers/phmm_io.c) --------------------------------------- */

/** A batch together with the storage it points into (owned), as loaded from a GATK-format file
 *  or generated.  expected[k] is NAN where the input carried no expected value. */
typedef struct sq_phmm_set_s {
	sq_phmm_batch_t b;
	double  *expected;          /* n_out values or NULL */
	char    *read_seq, *hap_seq;
	uint8_t *quals;             /* base_q | ins_q | del_q | gcp, each read_off[n_reads] long */
	int32_t *read_off, *hap_off, *pair_read, *pair_hap;
} sq_phmm_set_t;

/** Load the GATK pair-HMM test format: one pair per line, whitespace-separated columns
 *  hap read basequals insquals delquals gcp [expected]; qualities phred+33; lines starting with
 *  '#' and blank lines skipped.  Each line becomes one read and one explicit pair (out[k] is
 *  line k); identical haplotypes are stored once, so pairs of one region share a haplotype.  Returns NULL on error (logged); *err receives SQ_EIO or SQ_EINPUT. */
sq_phmm_set_t *sq_phmm_set_load_gatk(const char *path, int *err);

/** Realistic region workload with a fixed seed: n_haps haplotypes of hap_len random bases, n_reads
 *  reads of read_len sampled from them with ~1% substitutions and occasional 1-5 bp indels, base
 *  quals 20-40, indel quals 45, gcp 10; full matrix.  NULL on allocation failure. */
sq_phmm_set_t *sq_phmm_set_realistic(int n_reads, int read_len, int n_haps, int hap_len,
                                     uint64_t seed);

/** Build a set from arrays already in memory (copied); full matrix if pair_read is NULL. */
sq_phmm_set_t *sq_phmm_set_from(const sq_phmm_batch_t *src);

void sq_phmm_set_free(sq_phmm_set_t *s);

/** Sum over the pairs of read length x haplotype length. */
int64_t sq_phmm_batch_cells(const sq_phmm_batch_t *b);

#endif
