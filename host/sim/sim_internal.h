/* seqa — simulator internals shared by host/sim/ files: PRNG, reference regions, variants,
 * haplotypes. */
#ifndef SEQA_SIM_INTERNAL_H
#define SEQA_SIM_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <htslib/kstring.h>
#include "seqa/sim.h"

/* ---- PRNG: xoshiro256** seeded through splitmix64 (Blackman & Vigna) ------------------- */

typedef struct { uint64_t s[4]; } sq_rng_t;

static inline uint64_t sq_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A stream for (seed, domain, index): independent streams for variants, reads chunk c, ... */
static inline void sq_rng_init(sq_rng_t *r, uint64_t seed, uint64_t domain, uint64_t index)
{
	uint64_t x = seed;
	x = sq_splitmix64(&x) ^ (domain * 0xd1b54a32d192ed03ULL);
	x = sq_splitmix64(&x) ^ (index * 0x8cb92ba72f3d8dd7ULL);
	for (int i = 0; i < 4; ++i) r->s[i] = sq_splitmix64(&x);
}

static inline uint64_t sq_rng_next(sq_rng_t *r)
{
	uint64_t *s = r->s;
	uint64_t t = s[1] << 17, res = s[1] * 5;
	res = ((res << 7) | (res >> 57)) * 9;
	s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return res;
}

/** Uniform in [0,1). */
static inline double sq_rng_unif(sq_rng_t *r) { return (double)(sq_rng_next(r) >> 11) * 0x1.0p-53; }
/** Uniform integer in [0,n). */
static inline uint64_t sq_rng_below(sq_rng_t *r, uint64_t n) { return (uint64_t)(sq_rng_unif(r) * (double)n); }
/** Standard normal (Marsaglia polar; no caching so streams stay simple). */
static inline double sq_rng_norm(sq_rng_t *r)
{
	double u, v, s;
	do {
		u = 2.0 * sq_rng_unif(r) - 1.0;
		v = 2.0 * sq_rng_unif(r) - 1.0;
		s = u * u + v * v;
	} while (s >= 1.0 || s == 0.0);
	return u * sqrt(-2.0 * log(s) / s);
}

/* ---- reference and regions ----------------------------------------------------------- */

typedef struct {
	char *name;
	int64_t len;
	char md5[33];
	char *seq;        /* upper case; NULL when no region uses this contig */
} sq_sim_ctg_t;

typedef struct {
	int ctg;          /* index into contigs */
	int64_t beg, end; /* 0-based half-open reference interval */
	int64_t non_n;    /* A/C/G/T bases in it */
} sq_sim_region_t;

/* ---- variants and haplotypes ---------------------------------------------------------- */

enum { SQ_VT_SNP = 0, SQ_VT_INS = 1, SQ_VT_DEL = 2 };

typedef struct {
	int64_t pos;      /* 0-based position of REF's first base */
	int32_t rlen;     /* REF length (REF is the reference there) */
	int32_t alen;     /* ALT length */
	int64_t aoff;     /* ALT in sq_sim_t.alts at this offset */
	int32_t reg;      /* region index */
	uint8_t gt;       /* bit 0: ALT on haplotype 1, bit 1: on haplotype 2 */
	uint8_t type;     /* SQ_VT_* */
} sq_sim_var_t;

/* One segment of a haplotype: hap [hbeg, hbeg+len) comes from ref [rbeg, rbeg+len) (ins=0),
 * or is inserted sequence placed before reference base rbeg (ins=1). */
typedef struct {
	int64_t hbeg, rbeg, len;
	int ins;
} sq_sim_seg_t;

typedef struct {
	char *seq;
	int64_t len;
	sq_sim_seg_t *seg;
	int64_t n_seg, m_seg;
} sq_sim_hap_t;

typedef struct {
	const sq_sim_opt_t *o;
	sq_sim_ctg_t *ctg;
	int n_ctg;
	char *ref_abs;    /* absolute reference path for the VCF header */
	sq_sim_region_t *reg;
	int n_reg;
	sq_sim_var_t *var; /* sorted: region order (= contig order, position) */
	int64_t n_var, m_var;
	kstring_t alts;
	sq_sim_hap_t *hap; /* 2 per region: hap[2*r + h] */
	double *reg_cum;   /* cumulative non-N weights for picking a region */
	int64_t n_pairs;
	/* quality model: per cycle, a 4096-entry quantile table of Q, and error thresholds */
	uint8_t *qtab;     /* read_len * 4096 */
	uint64_t perr52[64]; /* P(error | Q) scaled to 2^52 */
} sq_sim_t;

/** Draw the variants of every region (per-region PRNG streams).  0 or < -1. */
int sq_sim_variants(sq_sim_t *s);
/** Build both haplotypes of every region.  0 or SQ_ENOMEM. */
int sq_sim_haplotypes(sq_sim_t *s);
/** Write the truth VCF (bgzip) to path and its tabix index to tbi.  0 or SQ_EOUTPUT. */
int sq_sim_write_vcf(const sq_sim_t *s, const char *path, const char *tbi);
/** Reference position (0-based) of haplotype position x (see sim.h for insertions). */
int64_t sq_sim_hap2ref(const sq_sim_hap_t *h, int64_t x);
/** Set up the quality model (solves the profile shift for o->error_rate).  0 or SQ_ENOMEM. */
int sq_sim_qmodel(sq_sim_t *s);
/** bgzf_close() that also releases the file when the final flush fails (htslib returns early
 *  then, file still open).  0 or -1. */
struct BGZF;
int sq_bgzf_close(struct BGZF *fp);
/** Simulate and write the reads.  0 or < -1. */
int sq_sim_reads(sq_sim_t *s, const char *r1, const char *r2, sq_sim_stats_t *st);

#endif
