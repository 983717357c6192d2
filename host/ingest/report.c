/* seqa — ingest problem kinds, their hints, and the reports (JSON and human). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "seqa/ingest.h"
#include "seqa/util.h"
#include "seqa/version.h"
#include "ingest_internal.h"

/* ---- problem kinds ---------------------------------------------------------------------- */

typedef struct { const char *name, *hint; int warning; } code_info_t;

static const code_info_t sq_fq_codes[SQ_FQ_N_CODES] = {
	[SQ_FQ_SHEET_SYNTAX]     = { "SHEET_SYNTAX", "each line must be a [Section] header or comma-separated values inside a section", 0 },
	[SQ_FQ_SHEET_SECTION]    = { "SHEET_SECTION", "add the section: a seqa sample sheet needs [Header], [Reads], [BCLConvert_Data] and [Seqa_Data]", 0 },
	[SQ_FQ_SHEET_VERSION]    = { "SHEET_VERSION", "write 'FileFormatVersion,2' in [Header] (Illumina sample sheet v2)", 0 },
	[SQ_FQ_SHEET_COLUMN]     = { "SHEET_COLUMN", "add the column to the section's first (header) row; see README 'seqa ingest'", 0 },
	[SQ_FQ_SHEET_VALUE]      = { "SHEET_VALUE", "fill in the value", 0 },
	[SQ_FQ_JSON_SYNTAX]      = { "JSON_SYNTAX", "fix the JSON syntax at the line and column given", 0 },
	[SQ_FQ_JSON_SCHEMA]      = { "JSON_SCHEMA", "see the JSON batch schema in README 'seqa ingest'", 0 },
	[SQ_FQ_SAMPLE_ID]        = { "SAMPLE_ID", "use only letters, digits, '-' and '_' in Sample_ID (Illumina rule), at most 100 characters", 0 },
	[SQ_FQ_SAMPLE_DUP]       = { "SAMPLE_DUP", "give each sample exactly one row, with a unique Sample_ID", 0 },
	[SQ_FQ_SAMPLE_UNMATCHED] = { "SAMPLE_UNMATCHED", "list every Sample_ID both in [BCLConvert_Data] and in [Seqa_Data]", 0 },
	[SQ_FQ_PSEUDONYM_DUP]    = { "PSEUDONYM_DUP", "each sample needs its own pseudonym; check for a sample swap or a copy-paste error", 0 },
	[SQ_FQ_INDICATION]       = { "INDICATION", "use one of the codes listed by 'seqa ingest --indications'", 0 },
	[SQ_FQ_SEX]              = { "SEX", "declared sex must be female, male or unknown", 0 },
	[SQ_FQ_FILE_MISSING]     = { "FILE_MISSING", "check the path; relative paths are taken from the batch file's folder", 0 },
	[SQ_FQ_FILE_UNREADABLE]  = { "FILE_UNREADABLE", "check the permissions and that the path is a regular file", 0 },
	[SQ_FQ_SAME_FILE]        = { "SAME_FILE", "R1 and R2 must be the two different mate files of the pair (..._R1_... and ..._R2_...)", 0 },
	[SQ_FQ_FILE_REUSED]      = { "FILE_REUSED", "each FASTQ file belongs to one sample only; check the paths for a copy-paste error", 0 },
	[SQ_FQ_EMPTY]            = { "EMPTY", "the file holds no reads: re-run the FASTQ conversion for this sample, or check the copy", 0 },
	[SQ_FQ_GZIP_TRUNCATED]   = { "GZIP_TRUNCATED", "the file was cut short (interrupted copy, full disk): copy it again from the source and compare checksums", 0 },
	[SQ_FQ_GZIP_CORRUPT]     = { "GZIP_CORRUPT", "the compressed data is damaged: copy the file again from the source and compare checksums", 0 },
	[SQ_FQ_HEADER]           = { "HEADER", "a FASTQ record is 4 lines: @name, sequence, +, qualities; look for an extra or missing line just before", 0 },
	[SQ_FQ_SEPARATOR]        = { "SEPARATOR", "the third line of each record must start with '+'; look for a wrapped (multi-line) sequence or a missing line", 0 },
	[SQ_FQ_TRUNCATED]        = { "TRUNCATED", "the file ends inside a record: it was cut short; copy it again from the source", 0 },
	[SQ_FQ_LENGTH]           = { "LENGTH", "sequence and quality lines must have the same length: the file is damaged or was edited", 0 },
	[SQ_FQ_BASE]             = { "BASE", "sequences may contain only A, C, G, T and N (either case): the file is damaged or not FASTQ", 0 },
	[SQ_FQ_IUPAC]            = { "IUPAC", "replace IUPAC ambiguity codes by N (e.g. seqtk seq -n N) or re-export the reads from the sequencer", 0 },
	[SQ_FQ_QUAL_RANGE]       = { "QUAL_RANGE", "qualities are phred+33 characters '!'..'~': the file is damaged or not FASTQ", 0 },
	[SQ_FQ_PHRED64]          = { "PHRED64", "convert phred+64 qualities to phred+33 (e.g. seqtk seq -Q64 -V) before ingest", 0 },
	[SQ_FQ_MATE_NAME]        = { "MATE_NAME", "R1 and R2 must hold the same reads in the same order: check both files are of this sample and were not sorted or filtered separately", 0 },
	[SQ_FQ_MATE_COUNT]       = { "MATE_COUNT", "R1 and R2 must hold the same number of reads: one file is incomplete or belongs to another sample", 0 },
	[SQ_FQ_MATE_ORDER]       = { "MATE_ORDER", "the R1 and R2 files (or columns) look swapped: R1 must hold the first reads of the pairs", 0 },
	[SQ_FQ_CRLF]             = { "CRLF", "Windows (CRLF) line endings are accepted; dos2unix would make the file smaller", 1 },
};

const char *sq_fq_code_name(int code) { return code >= 0 && code < SQ_FQ_N_CODES ? sq_fq_codes[code].name : "UNKNOWN"; }
const char *sq_fq_code_hint(int code) { return code >= 0 && code < SQ_FQ_N_CODES ? sq_fq_codes[code].hint : ""; }
int sq_fq_code_is_warning(int code) { return code >= 0 && code < SQ_FQ_N_CODES && sq_fq_codes[code].warning; }

/* ---- problem lists ---------------------------------------------------------------------- */

int sq_fq_err_vadd(sq_fq_err_t **arr, int *n, int *m, int code, const char *file, int64_t record,
                   int64_t line, const char *fmt, va_list ap)
{
	char msg[1024];
	sq_fq_err_t *e;
	vsnprintf(msg, sizeof msg, fmt, ap);
	/* messages quote input bytes: keep them printable ASCII (terminal- and JSON-safe) */
	for (char *p = msg; *p; ++p)
		if ((unsigned char)*p < 32 || (unsigned char)*p > 126) *p = '?';
	if (*n == *m) {
		int nm = *m ? *m * 2 : 8;
		sq_fq_err_t *na = sq_realloc(*arr, (size_t)nm * sizeof *na);
		if (!na) return SQ_ENOMEM;
		*arr = na, *m = nm;
	}
	e = &(*arr)[*n];
	memset(e, 0, sizeof *e);
	e->code = code, e->record = record, e->line = line;
	e->message = sq_strdup(msg);
	e->file = file ? sq_strdup(file) : 0;
	if (!e->message || (file && !e->file)) { free(e->message); free(e->file); return SQ_ENOMEM; }
	++*n;
	return 0;
}

int sq_fq_batch_err(sq_fq_batch_t *b, int code, const char *file, int64_t line, const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = sq_fq_err_vadd(&b->err, &b->n_err, &b->m_err, code, file, 0, line, fmt, ap);
	va_end(ap);
	return r;
}

int sq_fq_sample_err(sq_fq_sample_t *s, int code, const char *file, int64_t record, int64_t line,
                     const char *fmt, ...)
{
	va_list ap;
	int r;
	va_start(ap, fmt);
	r = sq_fq_err_vadd(&s->err, &s->n_err, &s->m_err, code, file, record, line, fmt, ap);
	va_end(ap);
	sq_fq_sample_count(s, code);
	return r;
}

void sq_fq_sample_count(sq_fq_sample_t *s, int code)
{
	if (sq_fq_code_is_warning(code)) ++s->n_warnings;
	else ++s->n_errors;
}

void sq_fq_err_free(sq_fq_err_t *e, int n)
{
	for (int i = 0; i < n; ++i) free(e[i].file), free(e[i].message);
	free(e);
}

/* ---- status ----------------------------------------------------------------------------- */

static int64_t sample_n_errors(const sq_fq_sample_t *s) { return s->n_errors; }

int64_t sq_fq_batch_n_errors(const sq_fq_batch_t *b)
{
	int64_t n = 0;
	for (int i = 0; i < b->n_err; ++i) n += !sq_fq_code_is_warning(b->err[i].code);
	for (int i = 0; i < b->n_samples; ++i) n += sample_n_errors(&b->samples[i]);
	return n;
}

static int is_io_code(int c) { return c == SQ_FQ_FILE_MISSING || c == SQ_FQ_FILE_UNREADABLE; }

int sq_fq_batch_status(const sq_fq_batch_t *b)
{
	int io = 0;
	for (int i = 0; i < b->n_err; ++i) io |= is_io_code(b->err[i].code);
	for (int i = 0; i < b->n_samples; ++i)
		for (int j = 0; j < b->samples[i].n_err; ++j) io |= is_io_code(b->samples[i].err[j].code);
	if (io) return SQ_EIO;
	return sq_fq_batch_n_errors(b) > 0 ? SQ_EINPUT : 0;
}

/* ---- JSON report ------------------------------------------------------------------------ */

/* A JSON string of input-derived text; bytes that are not valid UTF-8 become '?'. */
static json_t *jstr(const char *s)
{
	json_t *j = json_string(s ? s : "");
	if (j) return j;
	char *c = sq_strdup(s);
	if (!c) return NULL;   /* out of memory: the caller's set fails (never a null in its place) */
	for (char *p = c; *p; ++p) if ((unsigned char)*p > 126 || (unsigned char)*p < 32) *p = '?';
	j = json_string(c);
	free(c);
	return j;
}

/* jansson's set/append return -1 when they cannot allocate (or get a NULL value, also from a failed
 * allocation): every result is checked so that a report is complete or not written at all
 * (allocation-failure countdown finding: members silently missing with exit 0). */
#define SETN(o, k, v) (json_object_set_new((o), (k), (v)) != 0)
#define APPN(a, v) (json_array_append_new((a), (v)) != 0)

static json_t *err_json(const sq_fq_err_t *e)
{
	json_t *o = json_object();
	int bad = 0;
	if (!o) return 0;
	bad |= SETN(o, "code", json_string(sq_fq_code_name(e->code)));
	bad |= SETN(o, "severity", json_string(sq_fq_code_is_warning(e->code) ? "warning" : "error"));
	if (e->file) bad |= SETN(o, "file", jstr(e->file));
	if (e->record > 0) bad |= SETN(o, "record", json_integer(e->record));
	if (e->line > 0) bad |= SETN(o, "line", json_integer(e->line));
	bad |= SETN(o, "message", jstr(e->message));
	bad |= SETN(o, "hint", json_string(sq_fq_code_hint(e->code)));
	return bad ? (json_decref(o), NULL) : o;
}

static json_t *errs_json(const sq_fq_err_t *e, int n)
{
	json_t *a = json_array();
	int bad = 0;
	for (int i = 0; a && i < n; ++i) bad |= APPN(a, err_json(&e[i]));
	return bad ? (json_decref(a), NULL) : a;
}

static json_t *file_json(const sq_fq_file_t *f, const char *role)
{
	json_t *o = json_object(), *cnt = json_object();
	int bad = 0;
	if (!o || !cnt) { json_decref(o); json_decref(cnt); return 0; }
	bad |= SETN(o, "role", json_string(role));
	bad |= SETN(o, "path", jstr(f->given));
	bad |= SETN(o, "resolved", jstr(f->path));
	bad |= SETN(o, "checked", json_boolean(f->checked));
	if (f->checked) {
		bad |= SETN(o, "compression", json_string(f->gzip ? "gzip" : "none"));
		bad |= SETN(o, "bytes", json_integer((json_int_t)f->bytes));
		bad |= SETN(o, "sha256", json_string(f->sha256));
		bad |= SETN(o, "reads", json_integer(f->reads));
		bad |= SETN(o, "bases", json_integer(f->bases));
		bad |= SETN(o, "min_length", json_integer(f->reads ? f->min_len : 0));
		bad |= SETN(o, "max_length", json_integer(f->max_len));
		bad |= SETN(o, "mean_length", json_real(f->reads ? (double)f->bases / f->reads : 0.0));
		if (f->max_qual) {
			char q[2] = { (char)f->min_qual, 0 }, Q[2] = { (char)f->max_qual, 0 };
			bad |= SETN(o, "min_quality_char", jstr(q));
			bad |= SETN(o, "max_quality_char", jstr(Q));
		}
	}
	for (int c = 0; c < SQ_FQ_N_CODES; ++c)
		if (f->n_errors[c]) bad |= SETN(cnt, sq_fq_code_name(c), json_integer(f->n_errors[c]));
	bad |= SETN(o, "problem_counts", cnt);
	return bad ? (json_decref(o), NULL) : o;
}

json_t *sq_fq_batch_report(const sq_fq_batch_t *b)
{
	json_t *r = json_object(), *samples = json_array();
	int64_t n_err = sq_fq_batch_n_errors(b);
	int bad = 0;   /* a member that could not be added (out of memory) fails the report: never one missing */
	if (!r || !samples) { json_decref(r); json_decref(samples); return 0; }
	bad |= SETN(r, "seqa_ingest_report", json_integer(1));
	bad |= SETN(r, "seqa_version", json_string(sq_version()));
	bad |= SETN(r, "batch", jstr(b->path));
	bad |= SETN(r, "format", json_string(b->format ? b->format : "unknown"));
	bad |= SETN(r, "validated", json_boolean(b->validated));
	bad |= SETN(r, "status", json_string(n_err ? "fail" : "pass"));
	bad |= SETN(r, "n_samples", json_integer(b->n_samples));
	bad |= SETN(r, "n_errors", json_integer(n_err));
	bad |= SETN(r, "run", b->run ? json_incref(b->run) : json_object());
	bad |= SETN(r, "errors", errs_json(b->err, b->n_err));
	for (int i = 0; i < b->n_samples; ++i) {
		const sq_fq_sample_t *s = &b->samples[i];
		json_t *o = json_object(), *ind = json_object(), *files = json_array();
		if (!o || !ind || !files) { json_decref(o); json_decref(ind); json_decref(files); goto fail; }
		bad |= SETN(o, "id", jstr(s->id));
		bad |= SETN(o, "pseudonym", jstr(s->pseudonym));
		bad |= SETN(ind, "code", jstr(s->ind ? s->ind->code : s->indication));
		bad |= SETN(ind, "name", s->ind ? json_string(s->ind->name) : json_null());
		bad |= SETN(ind, "group", s->ind ? json_string(s->ind->group) : json_null());
		bad |= SETN(o, "indication", ind);
		bad |= SETN(o, "sex", json_string(sq_sex_name(s->sex)));
		bad |= SETN(o, "status", json_string(sample_n_errors(s) ? "fail" : "pass"));
		bad |= SETN(o, "n_errors", json_integer(sample_n_errors(s)));
		bad |= APPN(files, file_json(&s->files[0], "R1"));
		bad |= APPN(files, file_json(&s->files[1], "R2"));
		bad |= SETN(o, "files", files);
		bad |= SETN(o, "errors", errs_json(s->err, s->n_err));
		bad |= APPN(samples, o);
	}
	bad |= SETN(r, "samples", samples);   /* r owns samples from here, even when this fails */
	if (bad) { json_decref(r); return 0; }
	return r;
fail:
	json_decref(samples);
	json_decref(r);
	return 0;
}

/* ---- human output ----------------------------------------------------------------------- */

static void print_err(FILE *fp, const sq_fq_err_t *e, const char *sample)
{
	fprintf(fp, "%s [%s]", sq_fq_code_is_warning(e->code) ? "warning" : "error", sq_fq_code_name(e->code));
	if (sample) fprintf(fp, " sample %s:", sample);
	if (e->file) fprintf(fp, " %s", e->file);
	if (e->record > 0) fprintf(fp, " record %lld", (long long)e->record);
	if (e->line > 0) fprintf(fp, "%sline %lld", e->record > 0 ? ", " : " ", (long long)e->line);
	fprintf(fp, ": %s. Hint: %s\n", e->message, sq_fq_code_hint(e->code));
}

void sq_fq_batch_print_errors(const sq_fq_batch_t *b, FILE *fp)
{
	for (int i = 0; i < b->n_err; ++i) print_err(fp, &b->err[i], 0);
	for (int i = 0; i < b->n_samples; ++i) {
		const sq_fq_sample_t *s = &b->samples[i];
		int64_t stored[2][SQ_FQ_N_CODES];
		memset(stored, 0, sizeof stored);
		for (int j = 0; j < s->n_err; ++j) {
			const sq_fq_err_t *e = &s->err[j];
			print_err(fp, e, s->id);
			for (int k = 0; k < 2; ++k)
				if (e->file && s->files[k].path && strcmp(e->file, s->files[k].path) == 0) { ++stored[k][e->code]; break; }
		}
		for (int k = 0; k < 2; ++k)
			for (int c = 0; c < SQ_FQ_N_CODES; ++c)
				if (s->files[k].n_errors[c] > stored[k][c])
					fprintf(fp, "%s [%s] sample %s: %s: %lld more not shown (%lld in all)\n",
					        sq_fq_code_is_warning(c) ? "warning" : "error", sq_fq_code_name(c), s->id,
					        s->files[k].path, (long long)(s->files[k].n_errors[c] - stored[k][c]),
					        (long long)s->files[k].n_errors[c]);
	}
}

void sq_fq_batch_print_summary(const sq_fq_batch_t *b, FILE *fp)
{
	int64_t n_err = sq_fq_batch_n_errors(b);
	fprintf(fp, "batch %s (%s): %d sample%s\n", b->path, b->format ? b->format : "unknown",
	        b->n_samples, b->n_samples == 1 ? "" : "s");
	fprintf(fp, "%-20s %-16s %-9s %-8s %12s %12s %14s  %s\n", "sample", "pseudonym", "indication", "sex",
	        "R1 reads", "R2 reads", "bases", "status");
	for (int i = 0; i < b->n_samples; ++i) {
		const sq_fq_sample_t *s = &b->samples[i];
		fprintf(fp, "%-20s %-16s %-9s %-8s %12lld %12lld %14lld  %s\n", s->id ? s->id : "", s->pseudonym ? s->pseudonym : "",
		        s->ind ? s->ind->code : s->indication ? s->indication : "", sq_sex_name(s->sex),
		        (long long)s->files[0].reads, (long long)s->files[1].reads,
		        (long long)(s->files[0].bases + s->files[1].bases), sample_n_errors(s) ? "FAIL" : "pass");
		for (int k = 0; k < 2; ++k) {
			const sq_fq_file_t *f = &s->files[k];
			if (!f->checked) continue;
			fprintf(fp, "  R%d %s: %lld reads, %lld bases, length %lld-%lld, sha256 %s\n", k + 1, f->given,
			        (long long)f->reads, (long long)f->bases, (long long)(f->reads ? f->min_len : 0),
			        (long long)f->max_len, f->sha256);
		}
	}
	if (n_err) fprintf(fp, "FAIL: %lld error%s (see the messages above)\n", (long long)n_err, n_err == 1 ? "" : "s");
	else fprintf(fp, "PASS: %d sample%s valid\n", b->n_samples, b->n_samples == 1 ? "" : "s");
}
