/* seqa — variant caller internals shared by host/call and tests/unit/test_call.c. */
#ifndef SEQA_CALL_INTERNAL_H
#define SEQA_CALL_INTERNAL_H

#include <stdint.h>
#include <stddef.h>
#include "seqa/call.h"

/* ---- reference --------------------------------------------------------------------- */

typedef struct {
	char   *name;
	int64_t len;
	char   *seq;       /* upper case, len bytes (+NUL) */
	char    md5[33];   /* MD5 of the upper-case sequence (SAM M5 / VCF ##contig md5) */
} sq_call_contig_t;

typedef struct {
	int n;
	sq_call_contig_t *c;
} sq_call_ref_t;

/** Load every contig of a FASTA (plain or gzip).  NULL on error (logged; *err set). */
sq_call_ref_t *sq_call_ref_load(const char *path, int *err);
void sq_call_ref_free(sq_call_ref_t *r);
/** Index of a contig by name, or -1. */
int sq_call_ref_find(const sq_call_ref_t *r, const char *name);

/* ---- events (atomic variants) --------------------------------------------------------- */

enum { SQ_EV_SNP = 0, SQ_EV_INS = 1, SQ_EV_DEL = 2 };

/** One atomic event on the reference, VCF-style: REF = ref[pos, pos+ref_len), ALT = alt.
 *  SNP: ref_len 1, alt 1 base.  INS: ref_len 1 (anchor), alt = anchor + inserted bases.
 *  DEL: ref_len 1 + deleted, alt = anchor.  pos is 0-based. */
typedef struct {
	int32_t pos;
	int16_t type;
	int16_t ref_len;
	int16_t alt_len;
	char    alt[64];      /* NUL-terminated; indels longer than 62 bases are dropped */
} sq_call_event_t;

int sq_call_event_cmp(const void *a, const void *b);
/** Left-align an indel against seq[0,len) (leftmost equivalent position, VCF anchor base
 *  rules).  SNPs unchanged.  0 or SQ_EINVAL (event does not fit the reference). */
int sq_call_event_left_align(sq_call_event_t *e, const char *seq, int64_t len);
/** End (exclusive) of the reference span an event replaces, not counting the anchor of
 *  an indel: SNP pos+1, INS pos+1, DEL pos+ref_len. */
static inline int32_t sq_call_event_end(const sq_call_event_t *e) { return e->pos + e->ref_len; }

/* ---- local assembly -------------------------------------------------------------------- */

/** De Bruijn assembly of reads over the reference window ref[0,ref_len): returns up to
 *  max_haps haplotype sequences (malloc'ed, NUL-terminated; caller frees each and *haps),
 *  the reference path excluded.  Tries k in ks[] in order; a k whose reference path repeats a
 *  k-mer is skipped.  Edges seen fewer than min_edge times are pruned.  Returns the number of
 *  haplotypes (>= 0) or < -1 on error. */
int sq_call_assemble(const char *ref, int ref_len, const char *const *reads, const int *read_len,
                     const uint8_t *const *quals, int n_reads, const int *ks, int n_ks,
                     int min_edge, int max_haps, char ***haps);

/** Events of hap relative to ref (both windows starting at ref_pos on a contig seq): global
 *  alignment with affine gaps, events left-aligned against contig.  Appends to *ev (grown
 *  with realloc).  Returns the number appended or < -1. */
int sq_call_hap_events(const char *ref, int ref_len, const char *hap, int hap_len,
                       int32_t ref_pos, const char *contig, int64_t contig_len,
                       sq_call_event_t **ev, int *n_ev, int *m_ev);

/* ---- genotyping ---------------------------------------------------------------------- */

#define SQ_CALL_MAX_GT 496   /* genotypes of 31 alleles: the most genotyping handles */

/** Number of diploid genotypes over n alleles (n(n+1)/2), VCF order (a<=b, index b(b+1)/2+a). */
static inline int sq_call_n_gt(int n_alleles) { return n_alleles * (n_alleles + 1) / 2; }
static inline int sq_call_gt_index(int a, int b) { return a <= b ? b * (b + 1) / 2 + a : a * (a + 1) / 2 + b; }

/** Diploid genotype log10 likelihoods from per-read allele log10 likelihoods.
 *  lk[r * n_alleles + a]; gl[] gets n_gt values.  */
void sq_call_genotype_gl(const double *lk, int n_reads, int n_alleles, double *gl);

/** Genotype posterior summary with priors.  prior_het[a] for a >= 1 (allele heterozygosity).
 *  Outputs: best genotype (a1 <= a2), QUAL (phred of P(0/0 | data)), GQ, PL (n_gt ints,
 *  normalised to 0 at the best likelihood). */
void sq_call_genotype_call(const double *gl, int n_alleles, const double *prior_het,
                           int *a1, int *a2, double *qual, int *gq, int *pl);

#endif
