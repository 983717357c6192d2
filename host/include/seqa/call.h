/* seqa — germline variant calling (GATK HaplotypeCaller class), diploid, one sample.
 *
 *   sq_call_opt_t o;
 *   sq_call_opt_init(&o);
 *   o.ref_path = "ref.fa"; o.bam_path = "in.bam"; o.out_path = "out.vcf.gz";
 *   if (sq_call_opt_check(&o) < 0) ...
 *   sq_call_stats_t st;
 *   int ret = sq_call_run(&o, &st);          // 0 or SQ_E* (logged)
 *
 * Pipeline per genomic chunk (chunks are fixed by --chunk, never by the thread count, so the
 * output is identical for any -t):
 *   1. reads from the indexed BAM (unmapped, secondary, supplementary, QC-fail, duplicate and
 *      MAPQ < min_mapq reads are skipped);
 *   2. pileup evidence: per-position depth, base-quality-weighted mismatches, indels and soft
 *      clips; candidate alleles (left-aligned) with enough support make positions active and
 *      active positions are grouped into active regions;
 *   3. candidate haplotypes per region: local de Bruijn assembly (k = 10, 25, 31: the
 *      smallest k without a cycle in the reference path), pruned, paths aligned back to the
 *      reference to give events; plus combinations of observed alleles carried by reads;
 *   4. read x haplotype log10 likelihoods through the pair-HMM batch API (kernels/pairhmm.h);
 *   5. per-site marginalisation (allele likelihood = best haplotype carrying the allele),
 *      diploid genotype likelihoods with priors (SNP het 1e-3, indel 1.25e-4), QUAL, GT, GQ,
 *      PL, AD, DP; multi-allelic sites; filters;
 *   6. VCF 4.2 (bgzip + tabix) and optionally a gVCF with <NON_REF> blocks banded by GQ.
 *
 * Thread rules: sq_call_run uses o->n_threads worker threads internally; the option struct is
 * read-only during the run.  Outputs are written durably (temp, fsync, rename).
 */
#ifndef SEQA_CALL_H
#define SEQA_CALL_H

#include <stdint.h>

typedef struct sq_call_opt_s {
	const char *ref_path;      /* FASTA (plain or gzip/bgzip) */
	const char *bam_path;      /* coordinate-sorted BAM (indexed; else read into memory) */
	const char *out_path;      /* VCF; ".gz" -> bgzip + .tbi */
	const char *gvcf_path;     /* optional gVCF (NULL: none) */
	const char *regions_path;  /* optional BED of regions to call (NULL: whole reference) */
	const char *sample;        /* sample name override (NULL: @RG SM, else file name) */
	const char *backend;       /* auto|cpu|opencl|cuda|fpga */
	int    n_threads;          /* worker threads (>= 1) */
	int    min_mapq;           /* reads below are skipped (20) */
	int    min_baseq;          /* bases below do not count as evidence (10) */
	int    chunk;              /* genomic chunk size in bp (200000) */
	int    max_haps;           /* haplotypes per active region (16) */
	double snp_het;            /* SNP heterozygosity prior (1e-3) */
	double indel_het;          /* indel heterozygosity prior (1.25e-4) */
	double min_qual_emit;      /* variant records below this QUAL are not written (10) */
	double min_qual_pass;      /* LowQual filter below this QUAL (20) */
	double min_qd;             /* LowQD filter: QUAL/alt-depth below this (2.0) */
	int    assemble;           /* 1: de Bruijn assembly of active regions (default 1) */
} sq_call_opt_t;

/** Counters of one run (filled by sq_call_run). */
typedef struct sq_call_stats_s {
	int64_t n_reads;        /* reads used (after filters), summed over chunks */
	int64_t n_regions;      /* active regions genotyped */
	int64_t n_haps;         /* haplotypes scored */
	int64_t n_phmm;         /* read x haplotype pairs computed */
	int64_t n_records;      /* VCF records written */
	int64_t n_snp, n_indel, n_multiallelic; /* records with >=1 SNP / indel ALT; >1 ALT */
	int64_t n_pass;         /* records with FILTER PASS */
	int64_t n_blocks;       /* gVCF reference blocks */
	char backend[64];       /* backend used */
} sq_call_stats_t;

/** Defaults (see field comments). */
void sq_call_opt_init(sq_call_opt_t *o);
/** 0, or SQ_EINVAL with the problem logged. */
int sq_call_opt_check(const sq_call_opt_t *o);
/** Run the caller.  0; SQ_EIO (missing input), SQ_EINPUT (bad input), SQ_EOUTPUT,
 *  SQ_EDEVICE / SQ_EUNSUPP (backend), SQ_ENOMEM.  Logged.  st may be NULL. */
int sq_call_run(const sq_call_opt_t *o, sq_call_stats_t *st);

#endif
