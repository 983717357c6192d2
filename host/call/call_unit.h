/* seqa — one genomic chunk ("unit") of the caller: its inputs and results. Private. */
#ifndef SEQA_CALL_UNIT_H
#define SEQA_CALL_UNIT_H

#include <stdint.h>
#include <htslib/sam.h>
#include "call_internal.h"

enum { SQ_FLT_LOWQUAL = 1, SQ_FLT_LOWQD = 2 };

/** One VCF record (a site: REF plus one or more ALT alleles). */
typedef struct {
	int32_t pos;            /* 0-based */
	int32_t ref_len;
	int     n_al;           /* alleles incl. REF */
	char   *alleles;        /* "REF,ALT1,ALT2" (malloc) */
	float   qual;
	int     a1, a2, gq, dp, mq;  /* GT a1/a2; MQ: RMS mapping quality */
	int    *ad;             /* n_al */
	int    *pl;             /* n_gt(n_al) */
	int    *pl_g;           /* n_gt(n_al + 1): with <NON_REF> for the gVCF */
	int     filter;         /* SQ_FLT_* bits; 0 = PASS */
	int     has_snp, has_indel;
} sq_call_rec_t;

/** One gVCF reference block [start, end) with the same GQ band. */
typedef struct {
	int32_t start, end;
	int     gq, min_dp, dp, pl1, pl2;   /* GQ and PLs: minima over the block; dp: median-ish mean */
} sq_call_block_t;

typedef struct {
	int      contig;        /* index in the reference */
	int32_t  start, end;    /* owned interval [start, end) */
	/* results */
	sq_call_rec_t   *rec;   int n_rec, m_rec;
	sq_call_block_t *blk;   int n_blk, m_blk;
	int64_t n_reads, n_regions, n_haps, n_phmm, n_rerun;
	int     err;            /* < -1 if the unit failed */
} sq_call_unit_t;

/** Thread-local BAM handle. */
typedef struct {
	samFile   *fp;
	sam_hdr_t *hdr;
	hts_idx_t *idx;
	bam1_t    *b;
	/* without an index: every passing read in memory (shared, read-only), by contig */
	bam1_t  **mem;
	int64_t  *mem_off;      /* BAM tid -> first read; n_targets + 1 entries */
	int32_t   mem_span;     /* longest reference span of a read */
} sq_call_bam_t;

typedef struct {
	const sq_call_opt_t *o;
	const sq_call_ref_t *ref;
	int                 *ref2bam;   /* ref contig -> BAM tid (-1 absent) */
	int                  gvcf;
	int (*phmm)(void *ctx, const void *batch);   /* pair-HMM batch runner (sq_phmm_batch_t) */
	void                *phmm_ctx;
} sq_call_ctx_t;

/** Process one unit (reads, activity, regions, haplotypes, genotypes, reference blocks). */
int sq_call_unit_run(const sq_call_ctx_t *cx, sq_call_bam_t *bam, sq_call_unit_t *u);
void sq_call_unit_free(sq_call_unit_t *u);
/** 1 if the read is used (mapped, primary, not QC-fail/duplicate/supplementary, MAPQ). */
int sq_call_read_pass(const bam1_t *b, int min_mapq);

#endif
