/* seqa — clinical QC: metrics per stage, identity checks, gates per clinical indication.
 *
 * One pass per stage:
 *   FASTQ  sq_qc_fastq()   reads, bases, Q30 %, per-cycle mean quality, GC %, N %, adapter
 *                          content (TruSeq / Nextera prefixes), length histogram, duplication.
 *   BAM    sq_qc_bam()     flagstat counts, mapped/paired/duplicate %, depth histogram and
 *                          %>=10/15/20/30x over autosomes (or a BED), MAD, insert sizes, mismatch
 *                          rate (NM), X/Y/autosome depth (sex), allele counts at variant-like
 *                          sites (contamination, allele balance) and at fingerprint panel sites.
 *   VCF    sq_qc_vcf()     SNV/indel/MNP counts, Ti/Tv, het/hom, multi-allelic, REF against the
 *                          reference, sortedness, header contigs against the reference.
 *
 * Every stage returns a JSON object (new reference, caller owns) with a flat "metrics" member:
 *   { "<name>": { "value": <number|string|bool>, "unit": "...", "ga4gh": true|false }, ... }
 * plus stage details (histograms, per-cycle arrays) used by the reports.  Metric names follow the
 * GA4GH WGS-QC metric ids where one exists (mean_autosome_coverage, pct_autosomes_15x,
 * mad_autosome_coverage, pct_reads_mapped, pct_reads_properly_paired, mean_insert_size,
 * insert_size_std_deviation, yield_bp_q30, cross_contamination_rate, count_snvs, ...).
 *
 * Gates: a profile (qc/profiles/<INDICATION>.json: profile_id, version, rules) is applied to the
 * metrics of a result; the gate object says PASS / WARN / FAIL with, for each rule, metric,
 * value, threshold and reason.  A FAIL blocks delivery unless an override (who, when, why) is
 * recorded in the gate; sq_qc_gate_deliverable() is the one question the delivery side asks.
 *
 * Return convention: 0 ok, < -1 error (logged); constructors return NULL.  All functions are
 * re-entrant; objects are not shared between threads.
 */
#ifndef SEQA_QC_H
#define SEQA_QC_H

#include <stdint.h>
#include <jansson.h>

#define SQ_QC_SCHEMA "seqa-qc/1"

/* ---- options ------------------------------------------------------------------------- */

typedef struct {
	int n_threads;          /* htslib decompression threads (BAM/VCF) */
	int min_mapq;           /* depth: minimum mapping quality (GA4GH: 20) */
	int min_baseq;          /* depth: minimum base quality (GA4GH: 20) */
	int count_overlaps;     /* 0: overlapping mate bases counted once (GA4GH); 1: twice */
	const char *reference;  /* FASTA (+.fai) for REF checks, contamination, MD5s; may be NULL */
	const char *target_bed; /* restrict depth metrics to these regions (exome/panel); NULL: autosomes */
	const char *fp_sites;   /* fingerprint panel: VCF or TSV "contig pos ref alt" (1-based); NULL: none */
	const char *contam_sites; /* population panel with allele frequencies (VCF INFO/AF or TSV
	                             "contig pos ref alt af"): FREEMIX-style contamination; NULL: the
	                             sample's own sites */
	int declared_sex;       /* SQ_SEX_* of seqa/ingest.h: 0 unknown, 1 female, 2 male */
	int max_fq_dup_reads;   /* FASTQ duplication estimate: first N reads (pairs) hashed */
	int contam_min_depth;   /* contamination: minimum depth at a site */
	double contam_min_af;   /* contamination: site selection, alt fraction >= this */
} sq_qc_opt_t;

void sq_qc_opt_init(sq_qc_opt_t *o);
/** 0 or SQ_EINVAL (logged). */
int sq_qc_opt_check(const sq_qc_opt_t *o);

/* ---- stages -------------------------------------------------------------------------- */

/** FASTQ stage over one file or a pair (r2 may be NULL); gzip or plain.  *out: new object
 *  {"metrics": {...}, "per_cycle_quality": {"r1": [...], "r2": [...]}, "length_histogram": ...}.
 *  0, SQ_EIO (missing/unreadable), SQ_EINPUT (malformed record). */
int sq_qc_fastq(const char *r1, const char *r2, const sq_qc_opt_t *opt, json_t **out);

/** Alignment stage over a coordinate-sorted (duplicate-marked) BAM/CRAM.  *out holds
 *  "metrics", "flagstat", "depth_histogram", "insert_size_histogram", "sex", "contamination",
 *  "allele_balance_histogram" and, when opt->fp_sites is set, "fingerprint".
 *  0, SQ_EIO, SQ_EINPUT (unsorted, bad header), SQ_ENOMEM. */
int sq_qc_bam(const char *bam, const sq_qc_opt_t *opt, json_t **out);

/** VCF stage (VCF, VCF.gz, BCF; first sample's genotypes).  0, SQ_EIO, SQ_EINPUT. */
int sq_qc_vcf(const char *vcf, const sq_qc_opt_t *opt, json_t **out);

/* ---- identity ------------------------------------------------------------------------ */

/** Sex inference from mean depths of autosomes, X and Y (same filters).
 *  Returns SQ_SEX_FEMALE, SQ_SEX_MALE or SQ_SEX_UNKNOWN (ambiguous: e.g. X0, XXY, no depth).
 *  Rule: Y/A >= 0.1 and X/A < 0.75 -> male; Y/A < 0.05 and X/A >= 0.75 -> female.  The Y
 *  bound is low on purpose: with MAPQ >= 20 only part of a real chrY is uniquely mappable, so a
 *  male's Y/A is ~0.2-0.5 on GRCh38, a female's < 0.02 (mismapped reads). */
int sq_qc_infer_sex(double auto_depth, double x_depth, double y_depth);

/** One candidate site for the contamination model: depth and count of the major non-ref base. */
typedef struct { uint16_t depth, alt; } sq_qc_site_t;

/** Contamination (fraction 0..0.5) by maximum likelihood over sites where the sample looks
 *  het or hom-alt (alt fraction >= min_af), conditioning on that selection; err: per-base error
 *  rate.  Model in host/qc/qc_contam.c.  Returns 0 and *alpha, or SQ_EINPUT (too few sites). */
int sq_qc_contamination(const sq_qc_site_t *s, int64_t n, double err, double min_af,
                        double *alpha, double *ll_ratio);

/** One population-panel site: reads with the reference and the alternate base, and the
 *  population alternate-allele frequency. */
typedef struct { int ref, alt; float af; } sq_qc_afsite_t;

/** Contamination with a population panel (VerifyBamID's FREEMIX model without ancestry PCs):
 *  sample and contaminant genotypes drawn from Hardy-Weinberg at each site's frequency, reads
 *  binomial at f = (1 - a) g/2 + a h/2 with error err; a maximised over [0, 0.5].
 *  0 and *alpha, or SQ_EINPUT (fewer than 100 covered sites). */
int sq_qc_contamination_af(const sq_qc_afsite_t *s, int64_t n, double err, double *alpha, double *ll_ratio);

/** Compare two fingerprints (the "fingerprint" object of a qc.json, or a fingerprint.json).
 *  *out: {"n_sites_compared", "n_discordant", "concordance", "lod", "verdict": "MATCH"|
 *  "MISMATCH"|"INCONCLUSIVE"}.  0 or SQ_EINPUT. */
int sq_qc_fingerprint_compare(const json_t *a, const json_t *b, json_t **out);

/** Failed allocations inside jansson are otherwise silent (an entry missing from qc.json):
 *  take a mark before building JSON and check it after; sq_qc_json_check() returns SQ_ENOMEM
 *  (logged, naming what) if any allocation failed on this thread since the mark.  The QC stage
 *  functions do this themselves; callers that assemble a result around them do it too. */
unsigned sq_qc_json_mark(void);
int sq_qc_json_check(unsigned mark, const char *what);

/* ---- gates --------------------------------------------------------------------------- */

typedef enum { SQ_QC_PASS = 0, SQ_QC_WARN = 1, SQ_QC_FAIL = 2, SQ_QC_NA = 3 } sq_qc_status_t;

/** "PASS", "WARN", "FAIL", "NA". */
const char *sq_qc_status_name(int st);

typedef struct sq_qc_profile_s sq_qc_profile_t;

/** Load and validate a profile JSON (profile_id, version, indication, rules[]).  NULL (logged). */
sq_qc_profile_t *sq_qc_profile_load(const char *path);
/** Profile for an indication code (case-insensitive) from dir; with dir NULL, the first found
 *  in $SEQA_QC_PROFILES, ./qc/profiles, BINDIR/qc/profiles (build tree), BINDIR/../share/seqa/
 *  qc/profiles (installed), /usr/local/share/seqa/qc/profiles, /usr/share/seqa/qc/profiles.
 *  NULL (logged) if none. */
sq_qc_profile_t *sq_qc_profile_for_indication(const char *dir, const char *code);
const char *sq_qc_profile_id(const sq_qc_profile_t *p);
const char *sq_qc_profile_version(const sq_qc_profile_t *p);
/** The profile JSON (borrowed). */
const json_t *sq_qc_profile_json(const sq_qc_profile_t *p);
void sq_qc_profile_destroy(sq_qc_profile_t *p);

/** Evaluate a profile against a QC result (an object with "stages": {"fastq": {...}, ...}).
 *  Returns a new gate object:
 *   {"status": "PASS|WARN|FAIL", "profile_id", "profile_version", "profile_sha256",
 *    "checks": [{"metric","stage","value","rule","warn","fail","status","reason"}...],
 *    "reasons": ["mean_autosome_coverage = 12.3 x < 28 (fail)", ...],
 *    "stages_evaluated": [...], "complete": bool, "override": null, "deliverable": bool}
 *  NULL on SQ_ENOMEM. */
json_t *sq_qc_gate_eval(const sq_qc_profile_t *p, const json_t *result);

/** Record a technician override in a gate: who, why (both non-empty), when (ISO 8601 UTC;
 *  NULL: now).  Recomputes "deliverable".  0 or SQ_EINVAL (logged). */
int sq_qc_gate_override(json_t *gate, const char *who, const char *why, const char *when);

/** Gate status (SQ_QC_*) of a gate object; SQ_QC_FAIL if malformed. */
int sq_qc_gate_status(const json_t *gate);

/** 1 if the sample may be queued for delivery: every required stage evaluated and status PASS
 *  or WARN, or FAIL with an override recorded.  0 otherwise (also for a malformed gate). */
int sq_qc_gate_deliverable(const json_t *gate);

/** Read qc.json at path and answer for the delivery side: *status (SQ_QC_*), *deliverable,
 *  *reasons (new "; "-joined string, caller frees; may be NULL).  0, SQ_EIO, SQ_EINPUT. */
int sq_qc_gate_check_file(const char *qc_json, int *status, int *deliverable, char **reasons);

/* ---- reports ------------------------------------------------------------------------- */

/** Write OUTDIR/qc.json, OUTDIR/qc.html (self-contained, inline SVG) and
 *  OUTDIR/<sample>.seqa_mqc.json (MultiQC custom content), each durably.  0 or SQ_EOUTPUT. */
int sq_qc_write_reports(const json_t *result, const char *outdir);
/** The HTML report as a string (caller frees). */
char *sq_qc_html(const json_t *result);
/** MultiQC custom-content object (new reference). */
json_t *sq_qc_multiqc(const json_t *result);

#endif
