/* seqa — alignment: paired FASTQ -> coordinate-sorted, duplicate-marked, indexed BAM.
 *
 * bwa mem semantics (0.7.17, the linked libbwa): seeding is ours (kernels/smem.h: SMEMs +
 * suffix array on the ref/cpu/opencl/cuda backends), chaining is ours (same B-tree chaining as
 * mem_chain), extension is libbwa's, pairing/mate rescue/MAPQ follow mem_sam_pe on libbwa's
 * exported pieces and build BAM records directly (no SAM text), so the records equal bwa mem's
 * for the same batch (see `batch_bases`).
 *
 * Pipeline: read+decompress (one batch ahead) -> seed (backend) + extend by chunks of reads ->
 * pair, records + duplicate signatures (n_threads) -> sort buffer (spilled to temporary BAMs
 * past `sort_mem`) -> k-way merge, duplicate flags, multi-threaded BGZF, .bai built while
 * writing.  The output does not depend on n_threads or the backend.
 *
 * Outputs (written as temporaries and renamed into place, index first, BAM last):
 *   OUT.bam, OUT.bam.bai, and the duplicate metrics JSON (default OUT.bam.markdup.json).
 *
 * Thread rules: sq_aln_run is re-entrant; it uses n_threads worker threads plus a reader
 * thread.  It sets glibc's M_MMAP_THRESHOLD (256 KiB) for the process and trims the heap after
 * every batch (peak RSS).
 */
#ifndef SEQA_ALIGN_H
#define SEQA_ALIGN_H

#include <stdint.h>

typedef struct {
	const char *ref;          /* reference FASTA; the bwa index is at ref.{bwt,sa,pac,ann,amb} */
	const char *r1, *r2;      /* paired FASTQ (plain or gzip); r2 NULL: single-end */
	const char *out;          /* output BAM */
	const char *rg;           /* "@RG\tID:..\tSM:.." (literal \t accepted), or NULL */
	const char *backend;      /* seeding backend: auto|cpu|opencl|cuda|ref (default auto) */
	const char *dup_json;     /* duplicate metrics JSON (NULL: OUT.markdup.json) */
	const char *tmp_prefix;   /* temporary sort files (NULL: OUT.tmp.PID) */
	int n_threads;            /* >= 1 */
	int64_t batch_bases;      /* bases per batch (both mates): bwa mem -K; default 10,000,000 */
	int64_t sort_mem;         /* bytes of records held before spilling (default 48 MiB) */
	int level;                /* BAM compression level (-1: htslib default) */
	int optical_dist;         /* optical duplicate pixel distance (default 100, as Picard) */
	int mark_dups;            /* 1 (default): mark duplicates */
} sq_aln_opt_t;

void sq_aln_opt_init(sq_aln_opt_t *o);
/** 0, or SQ_EINVAL with the problem logged. */
int sq_aln_opt_check(const sq_aln_opt_t *o);

/** Duplicate metrics (Picard MarkDuplicates' fields). */
typedef struct {
	int64_t unpaired_examined, pairs_examined, secondary_supp, unmapped;
	int64_t unpaired_dups, pair_dups, pair_optical_dups;
	double percent_dup;
	int64_t est_library_size;     /* 0 when not estimable */
} sq_aln_dup_t;

/** What the run did. */
typedef struct {
	int64_t n_pairs, n_reads, n_records, n_mapped, n_proper;
	sq_aln_dup_t dup;
	int n_spills;
	char backend[200];            /* backend/device name used for seeding */
	double t_seed, t_extend;      /* seconds in seeding / chaining+extension+pairing */
} sq_aln_stats_t;

/** Align.  0, or SQ_EIO (missing input / index), SQ_EINPUT (bad FASTQ, mismatched mates or
 *  index), SQ_EOUTPUT (cannot write), SQ_EDEVICE/SQ_EUNSUPP (backend), SQ_ENOMEM. */
int sq_aln_run(const sq_aln_opt_t *o, sq_aln_stats_t *st);

#endif
