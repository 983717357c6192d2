/* seqa — batch loading: Illumina sample sheet v2 with a [Seqa_Data] section, or a JSON batch.
 *
 * Every problem in the batch file is recorded (with its line in the sheet) and loading goes on,
 * so that one run of `seqa ingest` lists them all.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "seqa/ingest.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "ingest_internal.h"

/* ---- small helpers ---------------------------------------------------------------------- */

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s)) ++s;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
	return s;
}

static int valid_sample_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > 100) return 0;
	for (const char *p = id; *p; ++p)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_') return 0;
	return 1;
}

static char *resolve(const char *dir, const char *given)
{
	size_t n;
	char *p;
	if (!given || !*given) return 0;
	if (given[0] == '/' || !dir || !*dir || strcmp(dir, ".") == 0) return sq_strdup(given);
	n = strlen(dir) + strlen(given) + 2;
	if (!(p = sq_malloc(n))) return 0;
	snprintf(p, n, "%s/%s", dir, given);
	return p;
}

static char *dir_of(const char *path)
{
	const char *sl = strrchr(path, '/');
	char *d;
	if (!sl) return sq_strdup(".");
	if (sl == path) return sq_strdup("/");
	if (!(d = sq_malloc((size_t)(sl - path) + 1))) return 0;
	memcpy(d, path, (size_t)(sl - path));
	d[sl - path] = 0;
	return d;
}

static sq_fq_batch_t *batch_new(const char *path, const char *dir, const char *format)
{
	sq_fq_batch_t *b = sq_calloc(1, sizeof *b);
	if (!b) return 0;
	b->path = sq_strdup(path);
	b->dir = dir ? sq_strdup(dir) : dir_of(path);
	b->format = sq_strdup(format);
	b->run = json_object();
	if (!b->path || !b->dir || !b->format || !b->run) { sq_fq_batch_destroy(b); return 0; }
	return b;
}

static sq_fq_sample_t *sample_add(sq_fq_batch_t *b)
{
	sq_fq_sample_t *ns = sq_realloc(b->samples, (size_t)(b->n_samples + 1) * sizeof *ns);
	if (!ns) return 0;
	b->samples = ns;
	memset(&ns[b->n_samples], 0, sizeof *ns);
	return &ns[b->n_samples++];
}

static int find_sample(const sq_fq_batch_t *b, const char *id)
{
	for (int i = 0; i < b->n_samples; ++i)
		if (b->samples[i].id && strcmp(b->samples[i].id, id) == 0) return i;
	return -1;
}

/* Fill a sample from its values and check them; file/line locate it for messages. */
static int sample_fill(sq_fq_batch_t *b, sq_fq_sample_t *s, const char *id, const char *pseudo,
                       const char *ind, const char *sex, const char *r1, const char *r2,
                       const char *file, int line)
{
	s->line = line;
	s->id = sq_strdup(id);
	s->pseudonym = sq_strdup(pseudo ? pseudo : "");
	s->indication = sq_strdup(ind ? ind : "");
	s->files[0].given = sq_strdup(r1 ? r1 : "");
	s->files[1].given = sq_strdup(r2 ? r2 : "");
	if (!s->id || !s->pseudonym || !s->indication || !s->files[0].given || !s->files[1].given) return SQ_ENOMEM;
	s->files[0].path = resolve(b->dir, r1);
	s->files[1].path = resolve(b->dir, r2);
	if (!valid_sample_id(id))
		sq_fq_sample_err(s, SQ_FQ_SAMPLE_ID, file, 0, line, "Sample_ID '%s' is empty, longer than 100 characters or has characters other than letters, digits, '-' and '_'", id);
	/* NULL: column/member missing, already reported */
	if (pseudo && !*pseudo)
		sq_fq_sample_err(s, SQ_FQ_SHEET_VALUE, file, 0, line, "sample '%s': Pseudonym is empty", id);
	else if (pseudo && !valid_sample_id(pseudo))   /* it names folders and delivered files */
		sq_fq_sample_err(s, SQ_FQ_SHEET_VALUE, file, 0, line, "sample '%s': Pseudonym '%s' is longer than 100 characters or has characters other than letters, digits, '-' and '_'", id, pseudo);
	if (!ind) ;
	else if (!*ind)
		sq_fq_sample_err(s, SQ_FQ_SHEET_VALUE, file, 0, line, "sample '%s': Indication is empty", id);
	else if (!(s->ind = sq_indication_find(ind)))
		sq_fq_sample_err(s, SQ_FQ_INDICATION, file, 0, line, "sample '%s': unknown clinical indication code '%s'", id, ind);
	s->sex = sq_sex_parse(sex ? sex : "");
	if (!sex) ;
	else if (!*sex)
		sq_fq_sample_err(s, SQ_FQ_SHEET_VALUE, file, 0, line, "sample '%s': Sex is empty (write female, male or unknown)", id);
	else if (s->sex == SQ_SEX_INVALID)
		sq_fq_sample_err(s, SQ_FQ_SEX, file, 0, line, "sample '%s': declared sex '%s' is not female, male or unknown", id, sex);
	if (r1 && !*r1) sq_fq_sample_err(s, SQ_FQ_SHEET_VALUE, file, 0, line, "sample '%s': R1 path is empty", id);
	if (r2 && !*r2) sq_fq_sample_err(s, SQ_FQ_SHEET_VALUE, file, 0, line, "sample '%s': R2 path is empty", id);
	return 0;
}

/* Batch-wide checks once all samples are known. */
static void batch_finish(sq_fq_batch_t *b)
{
	for (int i = 0; i < b->n_samples; ++i) {
		sq_fq_sample_t *s = &b->samples[i];
		if (!s->pseudonym || !*s->pseudonym) continue;
		for (int j = 0; j < i; ++j)
			if (b->samples[j].pseudonym && strcmp(b->samples[j].pseudonym, s->pseudonym) == 0) {
				sq_fq_sample_err(s, SQ_FQ_PSEUDONYM_DUP, b->path, 0, s->line,
				                 "sample '%s' has the pseudonym '%s' of sample '%s'%s", s->id, s->pseudonym,
				                 b->samples[j].id, "");
				break;
			}
	}
}

/* ---- sample sheet v2 -------------------------------------------------------------------- */

typedef struct {
	int line;
	int n;
	char **f;      /* fields, pointing into the sheet buffer */
} row_t;

typedef struct {
	char name[64];
	int line;
	int n_rows;
	row_t *rows;
} section_t;

/* Split a line in place on commas; drop trailing empty fields (spreadsheet exports). */
static int split_csv(char *s, char ***out)
{
	int n = 0, m = 8;
	char **f = sq_malloc((size_t)m * sizeof *f);
	if (!f) return SQ_ENOMEM;
	for (;;) {
		char *c = strchr(s, ',');
		if (c) *c = 0;
		if (n == m) {
			char **nf = sq_realloc(f, (size_t)(m *= 2) * sizeof *nf);
			if (!nf) { free(f); return SQ_ENOMEM; }
			f = nf;
		}
		char *t = trim(s);
		size_t tl = strlen(t);
		if (tl >= 2 && t[0] == '"' && t[tl - 1] == '"') t[tl - 1] = 0, ++t;
		f[n++] = t;
		if (!c) break;
		s = c + 1;
	}
	while (n > 0 && f[n - 1][0] == 0) --n;
	*out = f;
	return n;
}

static section_t *find_section(section_t *sec, int n, const char *name)
{
	for (int i = 0; i < n; ++i)
		if (strcasecmp(sec[i].name, name) == 0) return &sec[i];
	return 0;
}

static int col_index(const row_t *hdr, const char *name)
{
	for (int i = 0; i < hdr->n; ++i)
		if (strcasecmp(hdr->f[i], name) == 0) return i;
	return -1;
}

static const char *field(const row_t *r, int col) { return col >= 0 && col < r->n ? r->f[col] : ""; }

/* Key/value section (e.g. [Header]) -> run metadata; returns the value of key or NULL. */
static const char *kv_get(const section_t *s, const char *key, int *line)
{
	for (int i = 0; s && i < s->n_rows; ++i)
		if (s->rows[i].n >= 1 && strcasecmp(s->rows[i].f[0], key) == 0) {
			if (line) *line = s->rows[i].line;
			return s->rows[i].n >= 2 ? s->rows[i].f[1] : "";
		}
	return 0;
}

static int positive_int(const char *s)
{
	char *e;
	long v;
	if (!s || !*s) return 0;
	v = strtol(s, &e, 10);
	return *e == 0 && v > 0 && v < 100000;
}

static sq_fq_batch_t *load_sheet(const char *path, char *text)
{
	static const char *seqa_cols[] = { "Sample_ID", "Pseudonym", "Indication", "Sex", "R1", "R2" };
	sq_fq_batch_t *b = batch_new(path, 0, "samplesheet-v2");
	section_t *sec = 0, *cur = 0, *hdr, *reads, *bcl, *sd;
	int n_sec = 0, line = 0, ok = 1;
	char *p = text, *next;
	if (!b) return 0;
	if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) p += 3;
	for (; p && *p; p = next) {
		char *raw;
		++line;
		next = strchr(p, '\n');
		if (next) *next++ = 0;
		raw = trim(p);
		if (*raw == 0 || *raw == '#') continue;
		if (*raw == '[') {
			char *e = strchr(raw, ']');
			section_t *ns;
			int only_commas = 1;
			for (char *q = e ? e + 1 : raw; *q; ++q) if (*q != ',' && !isspace((unsigned char)*q)) only_commas = 0;
			if (!e || !only_commas || e - raw - 1 <= 0 || e - raw - 1 >= 63) {
				sq_fq_batch_err(b, SQ_FQ_SHEET_SYNTAX, path, line, "malformed section header '%.80s' (expected [Name])", raw);
				cur = 0;
				continue;
			}
			*e = 0;
			if (find_section(sec, n_sec, raw + 1)) {
				sq_fq_batch_err(b, SQ_FQ_SHEET_SYNTAX, path, line, "section [%s] appears twice", raw + 1);
				cur = 0;
				continue;
			}
			if (!(ns = sq_realloc(sec, (size_t)(n_sec + 1) * sizeof *ns))) { ok = 0; break; }
			sec = ns;
			cur = &sec[n_sec++];
			memset(cur, 0, sizeof *cur);
			snprintf(cur->name, sizeof cur->name, "%s", raw + 1);
			cur->line = line;
			continue;
		}
		if (!cur) {
			sq_fq_batch_err(b, SQ_FQ_SHEET_SYNTAX, path, line, "line '%.40s' is outside any [Section]", raw);
			continue;
		}
		row_t r = { line, 0, 0 };
		r.n = split_csv(raw, &r.f);
		if (r.n < 0) { ok = 0; break; }
		if (r.n == 0) { free(r.f); continue; }
		row_t *nr = sq_realloc(cur->rows, (size_t)(cur->n_rows + 1) * sizeof *nr);
		if (!nr) { free(r.f); ok = 0; break; }
		cur->rows = nr;
		cur->rows[cur->n_rows++] = r;
	}
	if (!ok) goto fail;

	hdr = find_section(sec, n_sec, "Header");
	reads = find_section(sec, n_sec, "Reads");
	bcl = find_section(sec, n_sec, "BCLConvert_Data");
	sd = find_section(sec, n_sec, "Seqa_Data");
	{
		const char *need[] = { "Header", "Reads", "BCLConvert_Data", "Seqa_Data" };
		section_t *have[] = { hdr, reads, bcl, sd };
		for (int i = 0; i < 4; ++i)
			if (!have[i]) sq_fq_batch_err(b, SQ_FQ_SHEET_SECTION, path, 0, "required section [%s] is missing", need[i]);
	}
	/* run metadata: [Header] and [Reads] key/values */
	for (int k = 0; k < 2; ++k) {
		section_t *s = k == 0 ? hdr : reads;
		for (int i = 0; s && i < s->n_rows; ++i)
			if (json_object_set_new(b->run, s->rows[i].f[0], json_string(s->rows[i].n >= 2 ? s->rows[i].f[1] : "")) != 0)
				sq_fq_batch_err(b, SQ_FQ_SHEET_SYNTAX, path, s->rows[i].line, "[%s] key or value is not valid UTF-8 text", s->name);
	}
	if (hdr) {
		int l = hdr->line;
		const char *v = kv_get(hdr, "FileFormatVersion", &l);
		if (!v) sq_fq_batch_err(b, SQ_FQ_SHEET_VERSION, path, l, "[Header] has no FileFormatVersion");
		else if (strcmp(v, "2") != 0)
			sq_fq_batch_err(b, SQ_FQ_SHEET_VERSION, path, l, "FileFormatVersion is '%s', this reader takes sample sheet v2 only", v);
	}
	if (reads) {
		const char *keys[] = { "Read1Cycles", "Read2Cycles" };
		for (int k = 0; k < 2; ++k) {
			int l = reads->line;
			const char *v = kv_get(reads, keys[k], &l);
			if (!positive_int(v))
				sq_fq_batch_err(b, SQ_FQ_SHEET_VALUE, path, l, "[Reads] %s is %s%s%s (paired reads need a positive cycle count)",
				                keys[k], v ? "'" : "missing", v ? v : "", v ? "'" : "");
		}
	}
	int bcl_id = -1;
	if (bcl) {
		if (bcl->n_rows == 0 || (bcl_id = col_index(&bcl->rows[0], "Sample_ID")) < 0)
			sq_fq_batch_err(b, SQ_FQ_SHEET_COLUMN, path, bcl->n_rows ? bcl->rows[0].line : bcl->line,
			                "[BCLConvert_Data] has no Sample_ID column");
	}
	if (sd) {
		int col[6];
		const row_t *h = sd->n_rows ? &sd->rows[0] : 0;
		for (int c = 0; c < 6; ++c) {
			col[c] = h ? col_index(h, seqa_cols[c]) : -1;
			if (col[c] < 0) {
				sq_fq_batch_err(b, SQ_FQ_SHEET_COLUMN, path, h ? h->line : sd->line,
				                "[Seqa_Data] has no %s column (columns: Sample_ID,Pseudonym,Indication,Sex,R1,R2)", seqa_cols[c]);
			}
		}
		if (col[0] >= 0 && h) {
			for (int i = 1; i < sd->n_rows; ++i) {
				const row_t *r = &sd->rows[i];
				const char *id = field(r, col[0]);
				int j;
				if (r->n > h->n)
					sq_fq_batch_err(b, SQ_FQ_SHEET_SYNTAX, path, r->line, "[Seqa_Data] row has %d fields but the header has %d", r->n, h->n);
				if (!*id) {
					sq_fq_batch_err(b, SQ_FQ_SHEET_VALUE, path, r->line, "[Seqa_Data] row has an empty Sample_ID");
					continue;
				}
				if ((j = find_sample(b, id)) >= 0) {
					sq_fq_batch_err(b, SQ_FQ_SAMPLE_DUP, path, r->line, "duplicate sample id '%s' (first at line %d)", id, b->samples[j].line);
					continue;
				}
				sq_fq_sample_t *s = sample_add(b);
				if (!s) goto fail;
				if (sample_fill(b, s, id, col[1] >= 0 ? field(r, col[1]) : 0, col[2] >= 0 ? field(r, col[2]) : 0,
				                col[3] >= 0 ? field(r, col[3]) : 0, col[4] >= 0 ? field(r, col[4]) : 0,
				                col[5] >= 0 ? field(r, col[5]) : 0, path, r->line) < 0) goto fail;
			}
		}
		/* cross-check against [BCLConvert_Data] (a sample may have one row per lane there) */
		if (bcl && bcl_id >= 0 && col[0] >= 0) {
			for (int i = 1; i < bcl->n_rows; ++i) {
				const char *id = field(&bcl->rows[i], bcl_id);
				if (*id && find_sample(b, id) < 0) {
					int seen = 0;
					for (int k = 1; k < i; ++k) seen |= strcmp(field(&bcl->rows[k], bcl_id), id) == 0;
					if (!seen)
						sq_fq_batch_err(b, SQ_FQ_SAMPLE_UNMATCHED, path, bcl->rows[i].line,
						                "sample '%s' of [BCLConvert_Data] has no row in [Seqa_Data]", id);
				}
			}
			for (int i = 0; i < b->n_samples; ++i) {
				int seen = 0;
				for (int k = 1; k < bcl->n_rows && !seen; ++k) seen = strcmp(field(&bcl->rows[k], bcl_id), b->samples[i].id) == 0;
				if (!seen)
					sq_fq_sample_err(&b->samples[i], SQ_FQ_SAMPLE_UNMATCHED, path, 0, b->samples[i].line,
					                 "sample '%s' of [Seqa_Data] is not in [BCLConvert_Data]", b->samples[i].id);
			}
		}
		if (sd->n_rows <= 1 && h)
			sq_fq_batch_err(b, SQ_FQ_SHEET_VALUE, path, sd->line, "[Seqa_Data] lists no sample");
	}
	batch_finish(b);
	for (int i = 0; i < n_sec; ++i) {
		for (int j = 0; j < sec[i].n_rows; ++j) free(sec[i].rows[j].f);
		free(sec[i].rows);
	}
	free(sec);
	return b;
fail:
	for (int i = 0; i < n_sec; ++i) {
		for (int j = 0; j < sec[i].n_rows; ++j) free(sec[i].rows[j].f);
		free(sec[i].rows);
	}
	free(sec);
	sq_fq_batch_destroy(b);
	return 0;
}

/* ---- JSON batch ------------------------------------------------------------------------- */

sq_fq_batch_t *sq_fq_batch_from_json(const json_t *doc, const char *path, const char *dir)
{
	static const char *keys[] = { "id", "pseudonym", "indication", "sex", "r1", "r2" };
	sq_fq_batch_t *b = batch_new(path, dir, "json");
	json_t *samples, *run, *ver;
	const char *k;
	json_t *v;
	if (!b) return 0;
	if (!json_is_object(doc)) {
		sq_fq_batch_err(b, SQ_FQ_JSON_SCHEMA, path, 0, "the batch must be a JSON object with a \"samples\" array");
		return b;
	}
	json_object_foreach((json_t *)doc, k, v)
		if (strcmp(k, "seqa_batch") && strcmp(k, "run") && strcmp(k, "samples"))
			sq_fq_batch_err(b, SQ_FQ_JSON_SCHEMA, path, 0, "unknown top-level member \"%s\" (allowed: seqa_batch, run, samples)", k);
	ver = json_object_get(doc, "seqa_batch");
	if (ver && !(json_is_integer(ver) && json_integer_value(ver) == 1))
		sq_fq_batch_err(b, SQ_FQ_JSON_SCHEMA, path, 0, "\"seqa_batch\" must be 1 (the schema version)");
	run = json_object_get(doc, "run");
	if (run && !json_is_object(run)) sq_fq_batch_err(b, SQ_FQ_JSON_SCHEMA, path, 0, "\"run\" must be an object");
	else if (run) json_object_update(b->run, run);
	samples = json_object_get(doc, "samples");
	if (!json_is_array(samples) || json_array_size(samples) == 0) {
		sq_fq_batch_err(b, SQ_FQ_JSON_SCHEMA, path, 0, "\"samples\" must be a non-empty array");
		return b;
	}
	for (size_t i = 0; i < json_array_size(samples); ++i) {
		json_t *o = json_array_get(samples, i);
		const char *val[6];
		int j;
		if (!json_is_object(o)) {
			sq_fq_batch_err(b, SQ_FQ_JSON_SCHEMA, path, 0, "samples[%zu] is not an object", i);
			continue;
		}
		json_object_foreach(o, k, v) {
			int known = strcmp(k, "comment") == 0;
			for (int c = 0; c < 6; ++c) known |= strcmp(k, keys[c]) == 0;
			if (!known) sq_fq_batch_err(b, SQ_FQ_JSON_SCHEMA, path, 0, "samples[%zu]: unknown member \"%s\" (allowed: id, pseudonym, indication, sex, r1, r2, comment)", i, k);
		}
		for (int c = 0; c < 6; ++c) {
			json_t *x = json_object_get(o, keys[c]);
			val[c] = json_is_string(x) ? json_string_value(x) : 0;
			if (!x) sq_fq_batch_err(b, SQ_FQ_JSON_SCHEMA, path, 0, "samples[%zu]: required member \"%s\" is missing", i, keys[c]);
			else if (!val[c]) sq_fq_batch_err(b, SQ_FQ_JSON_SCHEMA, path, 0, "samples[%zu].%s must be a string", i, keys[c]);
		}
		if (!val[0]) continue;
		if ((j = find_sample(b, val[0])) >= 0) {
			sq_fq_batch_err(b, SQ_FQ_SAMPLE_DUP, path, 0, "duplicate sample id '%s' (samples[%zu] and samples[%d])", val[0], i, j);
			continue;
		}
		sq_fq_sample_t *s = sample_add(b);
		if (!s || sample_fill(b, s, val[0], val[1], val[2], val[3], val[4], val[5], path, 0) < 0) {
			sq_fq_batch_destroy(b);
			return 0;
		}
	}
	batch_finish(b);
	return b;
}

/* ---- entry points ----------------------------------------------------------------------- */

sq_fq_batch_t *sq_fq_batch_load(const char *path, int *err)
{
	size_t len = 0;
	char *text, *p;
	sq_fq_batch_t *b;
	if (err) *err = 0;
	if (!sq_file_readable(path)) {
		sq_log_error("cannot read batch file '%s': %s", path, errno ? strerror(errno) : "not a readable file");
		if (err) *err = SQ_EIO;
		return 0;
	}
	if (!(text = sq_read_file(path, &len))) { if (err) *err = SQ_EIO; return 0; }
	p = text;
	if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF) p += 3;
	while (isspace((unsigned char)*p)) ++p;
	if (*p == '{') {
		json_error_t je;
		json_t *doc = json_loads(p, JSON_REJECT_DUPLICATES, &je);
		if (!doc) {
			if (!(b = batch_new(path, 0, "json"))) goto oom;
			sq_fq_batch_err(b, SQ_FQ_JSON_SYNTAX, path, je.line > 0 ? je.line : 0, "invalid JSON at column %d: %s", je.column, je.text);
		} else {
			char *dir = dir_of(path);
			b = dir ? sq_fq_batch_from_json(doc, path, dir) : 0;
			free(dir);
			json_decref(doc);
			if (!b) goto oom;
		}
	} else if (!(b = load_sheet(path, text))) goto oom;
	free(text);
	return b;
oom:
	free(text);
	if (err) *err = SQ_ENOMEM;
	return 0;
}

void sq_fq_batch_destroy(sq_fq_batch_t *b)
{
	if (!b) return;
	for (int i = 0; i < b->n_samples; ++i) {
		sq_fq_sample_t *s = &b->samples[i];
		free(s->id), free(s->pseudonym), free(s->indication);
		for (int k = 0; k < 2; ++k) free(s->files[k].path), free(s->files[k].given);
		sq_fq_err_free(s->err, s->n_err);
	}
	free(b->samples);
	sq_fq_err_free(b->err, b->n_err);
	json_decref(b->run);
	free(b->path), free(b->dir), free(b->format);
	free(b);
}
