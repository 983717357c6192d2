/* seqa — reference genome: FASTA reading/validation, bwa-compatible index, .fai, contig table.
 *
 * `seqa index ref.fa` produces, for PREFIX (default: the FASTA path itself, as `bwa index`):
 *   PREFIX.{amb,ann,bwt,pac,sa}   bwa 0.7.17 index, byte-identical to `bwa index` (libbwa)
 *   PREFIX.fai (+ PREFIX.gzi)     samtools faidx index (htslib fai_build3; .gzi for bgzip FASTA)
 *   PREFIX.contigs.json           contig table: name, length, MD5 (samtools dict M5), FASTA path,
 *                                 SHA-256, assembly guess.  Written last: its presence marks a
 *                                 complete index.
 *
 * Thread rules: all functions are re-entrant; objects are not shared between threads unless
 * read-only.  Ownership: whoever gets a pointer from *_open/_load/_read frees it with the
 * matching _close/_destroy.
 */
#ifndef SEQA_REF_H
#define SEQA_REF_H

#include <stdint.h>

/* ---- FASTA reading ------------------------------------------------------------------ */

/** One FASTA record.  seq holds the bases as in the file (case kept), NUL-terminated. */
typedef struct {
	char *name;      /* first word after '>' */
	char *comment;   /* rest of the header line ("" if none) */
	char *seq;
	int64_t len;
} sq_fa_rec_t;

typedef struct sq_fa_s sq_fa_t;

/** Open a FASTA (plain, gzip or bgzip).  NULL on error (logged; missing file -> "cannot open"). */
sq_fa_t *sq_fa_open(const char *path);
/** Read the next record into rec (buffers owned by the reader, valid until the next call).
 *  Validates as it reads: '>' header first, non-empty unique names, sequence characters in the
 *  IUPAC set (ACGTUNRYKMSWBDHV, either case, plus '-' and '*').
 *  Returns 0, -1 at end (SQ_EINPUT if the file held no record at all), or SQ_EINPUT/SQ_EIO
 *  with "file:line: problem" logged. */
int sq_fa_next(sq_fa_t *fa, sq_fa_rec_t *rec);
/** Compression of the file as htslib's bgzf_compression: 0 plain, 1 plain gzip, 2 BGZF. */
int sq_fa_compression(const sq_fa_t *fa);
void sq_fa_close(sq_fa_t *fa);

/* ---- contig table ------------------------------------------------------------------- */

typedef struct {
	char *name;
	int64_t len;
	char md5[33];    /* lowercase hex MD5 of the upper-cased sequence (SAM @SQ M5) */
} sq_contig_t;

typedef struct {
	char *fasta;         /* absolute path of the FASTA */
	char sha256[65];     /* SHA-256 of the FASTA file bytes ("" if not computed) */
	char assembly[16];   /* "GRCh38", "GRCh37" or "unknown" */
	char assembly_evidence[24]; /* "contig lengths", "contig names", "file name" or "none" */
	int n;
	int64_t total_len;
	sq_contig_t *ctg;
} sq_ref_t;

/** Read a whole FASTA (validating it), computing names, lengths and MD5s; with_sha256 also
 *  hashes the file.  NULL on error (logged).  Error class in *err if err != NULL. */
sq_ref_t *sq_ref_scan(const char *fasta, int with_sha256, int *err);
/** Load PREFIX.contigs.json.  NULL when missing (a warning: "run 'seqa index'"; callers that
 *  need the table report the error) or invalid (an error). */
sq_ref_t *sq_ref_load(const char *prefix);
/** Write the table durably to path (PREFIX.contigs.json).  0 or SQ_EOUTPUT. */
int sq_ref_save(const sq_ref_t *r, const char *path);
/** Index of contig name, or -1. */
int sq_ref_find(const sq_ref_t *r, const char *name);
void sq_ref_destroy(sq_ref_t *r);
/** Guess the assembly from contig names/lengths (and the file name); fills r->assembly*. */
void sq_ref_guess_assembly(sq_ref_t *r);

/* ---- index -------------------------------------------------------------------------- */

typedef struct {
	const char *prefix;  /* NULL: the FASTA path (bwa's default) */
	int algo;            /* 0 auto (bwa's: "is" below 50 Mbp... see sq_ref_index), 2 bwtsw, 3 is */
	int force;           /* rebuild even when a consistent index exists */
	int block_size;      /* bwtsw block size; bwa index default 10000000 */
	int progress;        /* let libbwa print its progress on stderr (the CLI sets it on a TTY) */
} sq_ref_index_opt_t;

void sq_ref_index_opt_init(sq_ref_index_opt_t *o);

/** What sq_ref_index did, for reporting. */
typedef struct {
	int bwa_built;       /* 1 built now, 0 existing set accepted */
	int fai_built, contigs_written;
	int algo;            /* algorithm used when built (2 bwtsw, 3 is) */
	double wall_s;
} sq_ref_index_res_t;

/** Build (or accept) the index of fasta.  Validates the FASTA first; the bwa build runs in a
 *  forked child so a libbwa exit() becomes an error here; all files are built under a temporary
 *  prefix and renamed into place (.ann, then .contigs.json last), so a failure leaves no set that
 *  looks complete.  0, SQ_EIO (missing/unreadable), SQ_EINPUT (bad FASTA), SQ_EOUTPUT, SQ_EINVAL. */
int sq_ref_index(const char *fasta, const sq_ref_index_opt_t *opt, sq_ref_index_res_t *res);

/** Check that PREFIX.{amb,ann,bwt,pac,sa} exist and agree with each other (.ann/.amb/.pac sizes)
 *  and, when PREFIX.contigs.json exists, with its contigs.  0, or SQ_EIO/SQ_EINPUT with a
 *  message naming the missing/mismatched file and the fix ("run 'seqa index REF'"). */
int sq_ref_check_index(const char *prefix);

/** Read the contig names and lengths recorded in PREFIX.ann.  NULL on error (logged). */
sq_ref_t *sq_ref_read_ann(const char *prefix);

#endif
