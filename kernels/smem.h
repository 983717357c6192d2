/* seqa — seeding kernel interface: SMEMs over a bwa FM index, then suffix-array lookup.
 *
 * The FM index is bwa's own (.bwt/.sa, loaded by libbwa's bwa_idx_load); sq_fmi_t is a
 * read-only view of it that every backend (kernels/ref, kernels/cpu, OpenCL, CUDA) consumes.
 *
 * Semantics are those of bwa mem 0.7.17 (mem_collect_intv): three rounds per read
 *   1. SMEMs from every start (bwt_smem1, min interval 1), kept when >= min_seed_len long;
 *   2. re-seeding inside each SMEM of length >= min_seed_len*split_factor with occurrence
 *      <= split_width, from its middle, with min interval = occ+1;
 *   3. the LAST-like pass (bwt_seed_strategy1): shortest prefix-extension from x of length
 *      > min_seed_len whose occurrence drops below max_mem_intv.
 * The result is sorted by (qb, qe).  Identical (qb,qe) imply identical intervals, so the order is
 * total.  Then, for each SMEM, occurrences x0 + k*step (step = occ > max_occ ? occ/max_occ : 1,
 * at most max_occ of them) are looked up in the sampled suffix array: those are the seeds that
 * chaining consumes, in this order.
 *
 * Thread rules: all functions are re-entrant; the index view is shared read-only.
 */
#ifndef SEQA_KERNELS_SMEM_H
#define SEQA_KERNELS_SMEM_H

#include <stdint.h>
#include <stddef.h>

/** Read-only view of a bwa FM index (bwt_t fields, without libbwa types). */
typedef struct {
	const uint32_t *bwt;       /* bwa's interleaved occ/BWT array: 128-base blocks of 4x u64 counts + 8 u32 */
	uint64_t bwt_size;         /* length of bwt[] in uint32 */
	uint64_t primary;          /* S^{-1}(0): position of '$' */
	uint64_t seq_len;          /* reference length (forward + reverse) */
	uint64_t L2[5];            /* C(), cumulative counts */
	const uint64_t *sa;        /* sampled suffix array, sa[0] = (uint64)-1 as bwa sets it */
	uint64_t n_sa;
	int sa_intv;               /* sampling interval (power of two) */
	const uint64_t *occ64;     /* optional CPU layout (sq_fmi_occ64_build), NULL if absent */
	const uint32_t *sa_dense;  /* optional denser suffix-array sample (sq_fmi_sa_dense_*), */
	int sa_dense_intv;         /*   every sa_dense_intv-th row; (uint32)-1 stands for (uint64)-1 */
} sq_fmi_t;

/** Seeding options (bwa mem defaults from sq_smem_opt_init). */
typedef struct {
	int min_seed_len;          /* -k, 19 */
	float split_factor;        /* -r, 1.5 */
	int split_width;           /* 10 */
	int max_mem_intv;          /* 20 (3rd round; 0 disables) */
	int max_occ;               /* -c, 500 */
} sq_smem_opt_t;

/** One SMEM: suffix-array intervals (forward, reverse-complement, size) and query [qb,qe). */
typedef struct {
	uint64_t x0, x1, x2;
	uint32_t qb, qe;
} sq_smem_t;

void sq_smem_opt_init(sq_smem_opt_t *o);

/** Upper bound on the SMEMs of one read of length len (capacity per read in batches). */
static inline int sq_smem_cap(int len) { return 4 * len + 16; }

/* ---- reference (kernels/ref/smem.c): the readable oracle ---------------------------- */

/** Occurrences of c in bwt[0..k] (bwa's bwt_occ, k may be (uint64)-1 or seq_len). */
uint64_t sq_fmi_occ(const sq_fmi_t *f, uint64_t k, int c);
/** Suffix-array value at row k (bwa's bwt_sa). */
uint64_t sq_fmi_sa(const sq_fmi_t *f, uint64_t k);
/** SMEMs of one read (seq: 0..3 = ACGT, >3 = N), sorted by (qb,qe).  Writes at most cap;
 *  returns the number found (> cap means out was too small: call again with more room). */
int sq_smem_ref(const sq_fmi_t *f, const sq_smem_opt_t *o, int len, const uint8_t *seq,
                sq_smem_t *out, int cap);
/** Number of suffix-array lookups the SMEMs of a read need (sum over SMEMs of min(occ, max_occ)
 *  with bwa's sampling step). */
int64_t sq_smem_n_sa(const sq_smem_opt_t *o, int n, const sq_smem_t *m);
/** The rows to look up, in chaining order (k of SMEM i, i = 0..n-1); returns how many written. */
int64_t sq_smem_sa_rows(const sq_smem_opt_t *o, int n, const sq_smem_t *m, uint64_t *rows);

/* ---- batched kernels: the unit a backend executes ----------------------------------- */

/** A batch of reads: seq = concatenated 2-bit reads, read i is seq[off[i] .. off[i+1]).
 *  Output: SMEMs of read i at mem[moff[i] ..] with moff[i+1]-moff[i] = sq_smem_cap(len_i)
 *  slots; n_mem[i] = number found (> capacity: overflow, the caller reruns that read with
 *  sq_smem_ref). */
typedef struct {
	int n_reads;
	const uint8_t *seq;        /* host */
	const uint32_t *off;       /* host, n_reads+1 */
	const uint32_t *moff;      /* host, n_reads+1 */
	sq_smem_t *mem;            /* host, moff[n_reads] */
	int32_t *n_mem;            /* host, n_reads */
} sq_smem_job_t;

/** Reference batch: loops sq_smem_ref.  0 on success. */
int sq_smem_ref_batch(const sq_fmi_t *f, const sq_smem_opt_t *o, const sq_smem_job_t *job);
/** Reference SA batch: out[i] = sq_fmi_sa(rows[i]). */
void sq_sa_ref_batch(const sq_fmi_t *f, int64_t n, const uint64_t *rows, uint64_t *out);

/* kernels/cpu/smem_batch.c: same results; interleaves reads and prefetches occurrence blocks.
 * sq_fmi_occ64_build makes the CPU layout (per 64 rows: four u64 counts + four one-hot u64
 * bit-vectors, one cache line; occurrences = count + popcount) from the bwa layout: caller frees
 * with free(); NULL on ENOMEM.  sq_smem_cpu_ok() is 0 when this CPU lacks POPCNT. */
uint64_t *sq_fmi_occ64_build(const sq_fmi_t *f);
/* Denser suffix-array sample for the CPU (fewer LF steps per lookup): allocate with _alloc
 * (NULL when the reference is too large for 32-bit values, or ENOMEM), then fill it with
 * _fill over the ranges [j0,j1) of bwa's sampled rows (independent: run them on threads).
 * Every row is visited once, walking LF from each sampled row to the next. */
uint32_t *sq_fmi_sa_dense_alloc(const sq_fmi_t *f, int intv);
void sq_fmi_sa_dense_fill(const sq_fmi_t *f, uint32_t *dense, int intv, uint64_t j0, uint64_t j1);
int  sq_smem_cpu_ok(void);
int  sq_smem_cpu_batch(const sq_fmi_t *f, const sq_smem_opt_t *o, const sq_smem_job_t *job,
                       int64_t i0, int64_t i1);
void sq_sa_cpu_batch(const sq_fmi_t *f, int64_t n, const uint64_t *rows, uint64_t *out);

#endif
