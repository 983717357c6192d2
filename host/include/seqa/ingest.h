/* seqa — ingest: batches (sample sheet v2 / JSON), clinical indications, paired FASTQ validation.
 *
 * A batch lists samples: an id, a pseudonym, a clinical indication code, a declared sex and two
 * FASTQ(.gz) paths (R1, R2).  Loading parses the batch file and records every problem it finds in
 * the batch itself; validating streams every FASTQ once (SHA-256 of the raw bytes, gzip
 * integrity, FASTQ syntax, bases, qualities, mate pairing) and records every problem found there.
 * Nothing stops at the first problem: callers get all of them, each with a stable code, the file,
 * the record number (1-based) and line, a message and a fix hint.
 *
 *   int err;
 *   sq_fq_batch_t *b = sq_fq_batch_load("SampleSheet.csv", &err);   // NULL: unreadable / OOM
 *   sq_fq_opt_t opt; sq_fq_opt_init(&opt); opt.n_threads = 8;
 *   sq_fq_batch_validate(b, &opt);
 *   json_t *rep = sq_fq_batch_report(b);                             // new reference
 *   int rc = sq_fq_batch_status(b);       // 0, SQ_EINPUT (invalid data) or SQ_EIO (missing file)
 *   json_decref(rep); sq_fq_batch_destroy(b);
 *
 * Ownership: the batch owns every string and array reachable from it (samples, files, errors);
 * they stay valid until sq_fq_batch_destroy().  Report JSON is a new reference owned by the caller.
 * Threads: a batch may be used by one thread at a time; sq_fq_batch_validate() itself uses up to
 * opt->n_threads threads (with 2 or more, each sample's R1 and R2 are parsed on two threads and
 * n_threads/2 samples run at once) and its results do not depend on the thread count.  The
 * indication table and the code names/hints are immutable and safe from any thread.
 */
#ifndef SEQA_INGEST_H
#define SEQA_INGEST_H

#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

/* ---- clinical indications (PFMG 2025) --------------------------------------------------- */

/** Clinical indication of the Plan France Médecine Génomique 2025.  Codes are stable: they are
 *  written into batches, reports and manifests and select QC gate profiles later. */
typedef struct {
	int id;                 /* stable small integer, 1.. */
	const char *code;       /* stable code, e.g. "RD-BONE" (matched case-insensitively) */
	const char *name;       /* English name */
	const char *name_fr;    /* French name as used by the plan */
	const char *group;      /* "rare-disease" or "cancer" */
	int launch;             /* 1: one of the 14 launch indications; 0: added later */
} sq_indication_t;

/** The table, terminated by an entry with code == NULL.  *n (if not NULL) gets its length. */
const sq_indication_t *sq_indication_table(int *n);
/** Entry for a code (case-insensitive, surrounding blanks ignored); NULL if unknown. */
const sq_indication_t *sq_indication_find(const char *code);
/** Entry for a stable id; NULL if unknown. */
const sq_indication_t *sq_indication_by_id(int id);

/* ---- declared sex ----------------------------------------------------------------------- */

enum { SQ_SEX_INVALID = -1, SQ_SEX_UNKNOWN = 0, SQ_SEX_FEMALE = 1, SQ_SEX_MALE = 2 };
/** "female"/"F", "male"/"M", "unknown"/"U" (case-insensitive; "" is invalid) -> SQ_SEX_*; else SQ_SEX_INVALID. */
int sq_sex_parse(const char *s);
/** "female", "male", "unknown" (or "invalid"). */
const char *sq_sex_name(int sex);

/* ---- problems --------------------------------------------------------------------------- */

/** Problem kinds.  The string code (sq_fq_code_name) is what reports and tests use. */
typedef enum {
	SQ_FQ_SHEET_SYNTAX = 0, /* malformed sample-sheet line (outside a section, bad header) */
	SQ_FQ_SHEET_SECTION,    /* required section missing */
	SQ_FQ_SHEET_VERSION,    /* FileFormatVersion missing or not 2 */
	SQ_FQ_SHEET_COLUMN,     /* required column missing */
	SQ_FQ_SHEET_VALUE,      /* required value empty */
	SQ_FQ_JSON_SYNTAX,      /* JSON batch does not parse */
	SQ_FQ_JSON_SCHEMA,      /* JSON batch has a missing/mistyped member */
	SQ_FQ_SAMPLE_ID,        /* sample id with characters other than [A-Za-z0-9_-] */
	SQ_FQ_SAMPLE_DUP,       /* the same sample id twice */
	SQ_FQ_SAMPLE_UNMATCHED, /* sample in [BCLConvert_Data] but not in [Seqa_Data], or reverse */
	SQ_FQ_PSEUDONYM_DUP,    /* two samples with the same pseudonym */
	SQ_FQ_INDICATION,       /* unknown clinical indication code */
	SQ_FQ_SEX,              /* declared sex not female|male|unknown */
	SQ_FQ_FILE_MISSING,     /* FASTQ path does not exist            (exit 4) */
	SQ_FQ_FILE_UNREADABLE,  /* exists but cannot be read / not file (exit 4) */
	SQ_FQ_SAME_FILE,        /* R1 and R2 are the same file */
	SQ_FQ_FILE_REUSED,      /* one file listed for two samples */
	SQ_FQ_EMPTY,            /* file (or its decompressed content) is empty */
	SQ_FQ_GZIP_TRUNCATED,   /* gzip stream cut short */
	SQ_FQ_GZIP_CORRUPT,     /* gzip data/CRC error, or garbage after the stream */
	SQ_FQ_HEADER,           /* record does not start with '@' (or empty name) */
	SQ_FQ_SEPARATOR,        /* third line does not start with '+' */
	SQ_FQ_TRUNCATED,        /* file ends inside a record */
	SQ_FQ_LENGTH,           /* SEQ and QUAL lengths differ */
	SQ_FQ_BASE,             /* character that is no nucleotide code at all */
	SQ_FQ_IUPAC,            /* IUPAC ambiguity code other than N */
	SQ_FQ_QUAL_RANGE,       /* quality character below '!' or above '~' */
	SQ_FQ_PHRED64,          /* qualities look phred+64 */
	SQ_FQ_MATE_NAME,        /* R1/R2 names differ at the same record */
	SQ_FQ_MATE_COUNT,       /* R1 and R2 have different record counts */
	SQ_FQ_MATE_ORDER,       /* a record of the R1 file says it is read 2 (or R2 says 1) */
	SQ_FQ_CRLF,             /* warning: Windows line endings (accepted) */
	SQ_FQ_N_CODES
} sq_fq_code_t;

/** "QUAL_RANGE" etc. */
const char *sq_fq_code_name(int code);
/** One-line fix hint for a code. */
const char *sq_fq_code_hint(int code);
/** 1 if the code is a warning (does not fail the batch). */
int sq_fq_code_is_warning(int code);

typedef struct {
	int code;               /* sq_fq_code_t */
	char *file;             /* file it is about (sample sheet, JSON batch or FASTQ), may be NULL */
	int64_t record;         /* 1-based FASTQ record, or 0 */
	int64_t line;           /* 1-based line in file, or 0 */
	char *message;          /* what is wrong, with the offending value */
} sq_fq_err_t;

/* ---- batch ------------------------------------------------------------------------------ */

enum { SQ_FQ_R1 = 0, SQ_FQ_R2 = 1 };

/** Per-file provenance and statistics, filled by validation. */
typedef struct {
	char *path;             /* resolved path (relative paths are taken from the batch's folder) */
	char *given;            /* path as written in the batch */
	int checked;            /* 1 once validated (stats below valid) */
	int gzip;               /* 1 if gzip/BGZF compressed */
	char sha256[65];        /* SHA-256 of the raw file bytes, lowercase hex ("" if unread) */
	uint64_t bytes;         /* raw file size in bytes */
	int64_t reads, bases;   /* complete records and their bases */
	int64_t min_len, max_len;
	int min_qual, max_qual; /* quality characters seen (ASCII), 0 if none */
	int64_t n_errors[SQ_FQ_N_CODES]; /* problems found per code (including those not stored) */
} sq_fq_file_t;

typedef struct {
	char *id;               /* Sample_ID */
	char *pseudonym;
	char *indication;       /* code as given */
	const sq_indication_t *ind; /* NULL when unknown */
	int sex;                /* SQ_SEX_* */
	int line;               /* line of its row in the batch file (0 for JSON) */
	sq_fq_file_t files[2];  /* SQ_FQ_R1, SQ_FQ_R2 */
	int64_t n_errors, n_warnings; /* all problems found, stored or only counted */
	int n_err, m_err;
	sq_fq_err_t *err;       /* this sample's stored problems, in order found */
} sq_fq_sample_t;

typedef struct {
	char *path;             /* batch file */
	char *dir;              /* its folder */
	char *format;           /* "samplesheet-v2" or "json" */
	json_t *run;            /* run metadata ([Header] and [Reads] key/values, or JSON "run"); owned */
	int n_samples;
	sq_fq_sample_t *samples;
	int n_err, m_err;
	sq_fq_err_t *err;       /* batch-level problems */
	int validated;
} sq_fq_batch_t;

/** Load a batch: an Illumina sample sheet v2 with [Seqa_Data], or a JSON batch (chosen by a
 *  leading '{').  Problems in the batch are recorded in it (see sq_fq_batch_status).  Returns
 *  NULL only when the file cannot be read (*err = SQ_EIO) or memory runs out (SQ_ENOMEM); both
 *  logged.  err may be NULL. */
sq_fq_batch_t *sq_fq_batch_load(const char *path, int *err);
/** Build a batch from a parsed JSON batch document (borrowed); dir resolves relative paths.
 *  NULL on SQ_ENOMEM. */
sq_fq_batch_t *sq_fq_batch_from_json(const json_t *doc, const char *path, const char *dir);
void sq_fq_batch_destroy(sq_fq_batch_t *b);

typedef struct {
	int n_threads;          /* threads, >= 1 (2 per sample: R1 and R2 in parallel) */
	int max_errors;         /* problems stored per file and code (more are only counted); >= 1 */
	size_t buf_size;        /* read buffer per file, bytes */
} sq_fq_opt_t;

void sq_fq_opt_init(sq_fq_opt_t *o);
/** 0, or SQ_EINVAL with a message logged. */
int sq_fq_opt_check(const sq_fq_opt_t *o);

/** Validate every sample's FASTQ pair (each file read once).  Returns 0 when validation ran
 *  (whatever it found; see sq_fq_batch_status), SQ_ENOMEM, or SQ_EINVAL (bad options, or the
 *  batch was already validated: once per batch). */
int sq_fq_batch_validate(sq_fq_batch_t *b, const sq_fq_opt_t *opt);
/** 0 if no error was recorded; SQ_EIO if any file is missing/unreadable; else SQ_EINPUT. */
int sq_fq_batch_status(const sq_fq_batch_t *b);
/** Number of errors (not warnings) recorded, counted ones included. */
int64_t sq_fq_batch_n_errors(const sq_fq_batch_t *b);

/** The machine-readable report (schema in README "seqa ingest").  New reference; NULL on OOM. */
json_t *sq_fq_batch_report(const sq_fq_batch_t *b);
/** Print each stored problem as one line "error [CODE] ..." to fp (stderr in the CLI) and the
 *  count of those not shown. */
void sq_fq_batch_print_errors(const sq_fq_batch_t *b, FILE *fp);
/** Human summary table (samples, reads, bases, SHA-256, status). */
void sq_fq_batch_print_summary(const sq_fq_batch_t *b, FILE *fp);

#endif
