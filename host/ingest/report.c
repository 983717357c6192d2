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
	if (!c) return json_null();
	for (char *p = c; *p; ++p) if ((unsigned char)*p > 126 || (unsigned char)*p < 32) *p = '?';
	j = json_string(c);
	free(c);
	return j ? j : json_null();
}

static json_t *err_json(const sq_fq_err_t *e)
{
	json_t *o = json_object();
	if (!o) return 0;
	json_object_set_new(o, "code", json_string(sq_fq_code_name(e->code)));
	json_object_set_new(o, "severity", json_string(sq_fq_code_is_warning(e->code) ? "warning" : "error"));
	if (e->file) json_object_set_new(o, "file", jstr(e->file));
	if (e->record > 0) json_object_set_new(o, "record", json_integer(e->record));
	if (e->line > 0) json_object_set_new(o, "line", json_integer(e->line));
	json_object_set_new(o, "message", jstr(e->message));
	json_object_set_new(o, "hint", json_string(sq_fq_code_hint(e->code)));
	return o;
}

static json_t *errs_json(const sq_fq_err_t *e, int n)
{
	json_t *a = json_array();
	for (int i = 0; a && i < n; ++i) json_array_append_new(a, err_json(&e[i]));
	return a;
}

static json_t *file_json(const sq_fq_file_t *f, const char *role)
{
	json_t *o = json_object(), *cnt = json_object();
	if (!o || !cnt) { json_decref(o); json_decref(cnt); return 0; }
	json_object_set_new(o, "role", json_string(role));
	json_object_set_new(o, "path", jstr(f->given));
	json_object_set_new(o, "resolved", jstr(f->path));
	json_object_set_new(o, "checked", json_boolean(f->checked));
	if (f->checked) {
		json_object_set_new(o, "compression", json_string(f->gzip ? "gzip" : "none"));
		json_object_set_new(o, "bytes", json_integer((json_int_t)f->bytes));
		json_object_set_new(o, "sha256", json_string(f->sha256));
		json_object_set_new(o, "reads", json_integer(f->reads));
		json_object_set_new(o, "bases", json_integer(f->bases));
		json_object_set_new(o, "min_length", json_integer(f->reads ? f->min_len : 0));
		json_object_set_new(o, "max_length", json_integer(f->max_len));
		json_object_set_new(o, "mean_length", json_real(f->reads ? (double)f->bases / f->reads : 0.0));
		if (f->max_qual) {
			char q[2] = { (char)f->min_qual, 0 }, Q[2] = { (char)f->max_qual, 0 };
			json_object_set_new(o, "min_quality_char", jstr(q));
			json_object_set_new(o, "max_quality_char", jstr(Q));
		}
	}
	for (int c = 0; c < SQ_FQ_N_CODES; ++c)
		if (f->n_errors[c]) json_object_set_new(cnt, sq_fq_code_name(c), json_integer(f->n_errors[c]));
	json_object_set_new(o, "problem_counts", cnt);
	return o;
}

json_t *sq_fq_batch_report(const sq_fq_batch_t *b)
{
	json_t *r = json_object(), *samples = json_array();
	int64_t n_err = sq_fq_batch_n_errors(b);
	if (!r || !samples) { json_decref(r); json_decref(samples); return 0; }
	json_object_set_new(r, "seqa_ingest_report", json_integer(1));
	json_object_set_new(r, "seqa_version", json_string(sq_version()));
	json_object_set_new(r, "batch", jstr(b->path));
	json_object_set_new(r, "format", json_string(b->format ? b->format : "unknown"));
	json_object_set_new(r, "validated", json_boolean(b->validated));
	json_object_set_new(r, "status", json_string(n_err ? "fail" : "pass"));
	json_object_set_new(r, "n_samples", json_integer(b->n_samples));
	json_object_set_new(r, "n_errors", json_integer(n_err));
	json_object_set_new(r, "run", b->run ? json_incref(b->run) : json_object());
	json_object_set_new(r, "errors", errs_json(b->err, b->n_err));
	for (int i = 0; i < b->n_samples; ++i) {
		const sq_fq_sample_t *s = &b->samples[i];
		json_t *o = json_object(), *ind = json_object(), *files = json_array();
		if (!o || !ind || !files) { json_decref(o); json_decref(ind); json_decref(files); goto fail; }
		json_object_set_new(o, "id", jstr(s->id));
		json_object_set_new(o, "pseudonym", jstr(s->pseudonym));
		json_object_set_new(ind, "code", jstr(s->ind ? s->ind->code : s->indication));
		json_object_set_new(ind, "name", s->ind ? json_string(s->ind->name) : json_null());
		json_object_set_new(ind, "group", s->ind ? json_string(s->ind->group) : json_null());
		json_object_set_new(o, "indication", ind);
		json_object_set_new(o, "sex", json_string(sq_sex_name(s->sex)));
		json_object_set_new(o, "status", json_string(sample_n_errors(s) ? "fail" : "pass"));
		json_object_set_new(o, "n_errors", json_integer(sample_n_errors(s)));
		json_array_append_new(files, file_json(&s->files[0], "R1"));
		json_array_append_new(files, file_json(&s->files[1], "R2"));
		json_object_set_new(o, "files", files);
		json_object_set_new(o, "errors", errs_json(s->err, s->n_err));
		json_array_append_new(samples, o);
	}
	json_object_set_new(r, "samples", samples);
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
