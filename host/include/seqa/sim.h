/* seqa — read simulator: a diploid sample with known SNPs and indels, paired Illumina-like reads.
 *
 * Outputs for PREFIX:
 *   PREFIX_R1.fq.gz, PREFIX_R2.fq.gz   paired reads (BGZF, readable as gzip), FR orientation
 *   PREFIX.truth.vcf.gz (+ .tbi)       truth variants: sorted, left-aligned, normalised, phased GT
 *   PREFIX.truth.bed                   the A/C/G/T stretches simulated (where the truth holds)
 * Written durably (temporaries renamed into place; the truth VCF last, so its presence marks a
 * complete set).  Deterministic for a seed and independent of the thread count.
 *
 * Read names (both mates carry the same name; no /1 /2):
 *   <contig>_<pos1>_<pos2>_<strand>_<hap>_<index>
 *     contig  reference contig (may itself contain '_': parse from the right)
 *     pos1    1-based leftmost reference position covered by mate 1's bases
 *     pos2    1-based leftmost reference position covered by mate 2's bases
 *     strand  'f' if mate 1 is on the forward strand (mate 2 reverse), 'r' otherwise
 *     hap     haplotype the fragment was drawn from: 1 or 2 (GT allele order)
 *     index   0-based pair number, decimal
 * Positions are on the reference (indels in the haplotype are mapped back): a mate starting
 * inside an insertion maps to the first reference base after it.
 */
#ifndef SEQA_SIM_H
#define SEQA_SIM_H

#include <stdint.h>

typedef struct {
	const char *ref;         /* reference FASTA (plain, gzip or bgzip) */
	const char *prefix;      /* output prefix */
	const char *sample;      /* VCF sample name (default "SIM") */
	const char *regions;     /* NULL, or "chr[:beg-end][,chr...]" (1-based inclusive) */
	double coverage;         /* mean depth over non-N bases of the regions (default 30) */
	int read_len;            /* default 150 */
	uint64_t seed;           /* default 11 */
	double snp_rate;         /* per base (default 1e-3) */
	double indel_rate;       /* per base (default 1.5e-4) */
	double het_fraction;     /* fraction of variants that are heterozygous (default 0.67) */
	double insert_mean;      /* fragment length mean (default 400) */
	double insert_sd;        /* fragment length sd (default 40) */
	double error_rate;       /* mean substitution error rate of the Q profile (default 0.001) */
	double q2_tail_frac;     /* fraction of reads ending in a Q2 tail (default 0.003) */
	int max_indel;           /* longest indel (default 20) */
	double dup_rate;         /* fraction of pairs that repeat the previous pair's fragment (PCR
	                          * duplicates: same positions and name fields but the index; default 0) */
	int n_threads;           /* default 1 */
	int progress;            /* progress on stderr (the CLI sets it on a TTY) */
} sq_sim_opt_t;

void sq_sim_opt_init(sq_sim_opt_t *o);
/** 0, or SQ_EINVAL with the bad option logged. */
int sq_sim_opt_check(const sq_sim_opt_t *o);

/** What was simulated. */
typedef struct {
	int64_t n_pairs, n_snp, n_ins, n_del, n_het, n_hom;
	int64_t sim_len;         /* non-N bases of the simulated regions */
	int64_t n_bases, n_bases_err; /* read bases written, and how many carry an error */
	int64_t n_dup;           /* duplicate pairs among n_pairs */
} sq_sim_stats_t;

/** Simulate.  0, SQ_EIO (reference missing), SQ_EINPUT (bad FASTA/regions), SQ_EOUTPUT. */
int sq_sim_run(const sq_sim_opt_t *o, sq_sim_stats_t *st);

/** The true origin of a simulated read pair, parsed from its name. */
typedef struct {
	char contig[256];
	int64_t pos1, pos2;      /* 1-based leftmost reference positions of mate 1 and mate 2 */
	int strand1;             /* 0: mate 1 forward, 1: mate 1 reverse */
	int hap;                 /* 1 or 2 */
	int64_t index;
} sq_sim_origin_t;

/** Parse a read name written by seqa simulate (a trailing "/1" or "/2" and anything after the
 *  first whitespace are ignored).  0, or SQ_EINPUT if it is not in that format (not logged). */
int sq_sim_parse_name(const char *qname, sq_sim_origin_t *o);

#endif
