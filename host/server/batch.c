/* seqa serve — batches: normalisation and content key, sample sheets, Illumina run folders.
 *
 * A submitted batch is reduced to one canonical form (samples sorted by id, absolute FASTQ
 * paths) whose SHA-256 (over the canonical JSON plus each FASTQ's size) is the batch's identity:
 * resubmitting the same batch finds the same key and creates nothing new.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include "seqa/hash.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "server_internal.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static int valid_id(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 100) return 0;
	for (; *s; ++s)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_') return 0;
	return 1;
}

static void problem(json_t *probs, const char *sample, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void problem(json_t *probs, const char *sample, const char *field, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	json_array_append_new(probs, json_pack("{s:s?, s:s, s:s}", "sample", sample, "field", field, "message", msg));
}

/* First string member among keys. */
static const char *jget(const json_t *o, const char *k1, const char *k2, const char *k3)
{
	const char *v = sq_srv_jstr(o, k1);
	if (!v && k2) v = sq_srv_jstr(o, k2);
	if (!v && k3) v = sq_srv_jstr(o, k3);
	return v;
}

static const char *sex_norm(const char *s)
{
	if (!s || !*s || strcasecmp(s, "unknown") == 0 || strcasecmp(s, "u") == 0) return "unknown";
	if (strcasecmp(s, "female") == 0 || strcasecmp(s, "f") == 0) return "female";
	if (strcasecmp(s, "male") == 0 || strcasecmp(s, "m") == 0) return "male";
	return NULL;
}

/* Resolve a FASTQ path: relative to base, realpath, readable regular file, under allow.  Fills
 * out (PATH_MAX) and *size.  Returns NULL or a static message. */
static const char *check_file(const char *given, const char *base, char *const *allow, int n_allow,
                              char *out, long long *size)
{
	char tmp[PATH_MAX * 2];
	struct stat st;
	if (!given || !*given) return "missing";
	if (given[0] != '/' && !base) return "relative path: give the absolute path of the file on the server";
	if (given[0] == '/') snprintf(tmp, sizeof tmp, "%s", given);
	else snprintf(tmp, sizeof tmp, "%s/%s", base, given);
	if (!realpath(tmp, out)) return errno == ENOENT ? "file does not exist" : "cannot resolve path";
	if (stat(out, &st) != 0 || !S_ISREG(st.st_mode)) return "not a regular file";
	if (access(out, R_OK) != 0) return "not readable by the service";
	*size = (long long)st.st_size;
	if (n_allow > 0) {
		int ok = 0;
		for (int i = 0; i < n_allow && !ok; ++i) {
			char a[PATH_MAX];
			size_t n;
			if (!realpath(allow[i], a)) continue;
			n = strlen(a);
			ok = strncmp(out, a, n) == 0 && (out[n] == '/' || (n == 1 && a[0] == '/'));
		}
		if (!ok) return "outside the directories the service accepts inputs from ([paths] allow_inputs)";
	}
	return NULL;
}

static int cmp_sample(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	return strcmp(sq_srv_jstr(x, "id"), sq_srv_jstr(y, "id"));
}

/* ---- normalisation ---------------------------------------------------------------------- */

json_t *sq_srv_batch_normalise(const json_t *doc, const char *base_dir, const char *dflt_ref,
                               char *const *allow, int n_allow, json_t **problems)
{
	json_t *probs = json_array(), *out = NULL, *samples = json_array(), *keyed = json_object();
	json_t *arr = json_object_get(doc, "samples");
	const char *ref = sq_srv_jstr(doc, "reference");
	char refpath[PATH_MAX] = "";
	size_t i, n;
	json_t **sorted = NULL, *o;
	*problems = NULL;
	if (!json_is_object(doc)) { problem(probs, NULL, "batch", "the batch must be a JSON object"); goto done; }
	if (!ref) ref = dflt_ref;
	if (!ref) problem(probs, NULL, "reference", "no reference: give \"reference\" or configure [pipeline] reference");
	else if (!realpath(ref, refpath) || !sq_file_readable(refpath))
		problem(probs, NULL, "reference", "reference '%s' is not a readable file", ref);
	if (!json_is_array(arr) || json_array_size(arr) == 0) {
		problem(probs, NULL, "samples", "\"samples\" must be a non-empty array");
		goto done;
	}
	json_array_foreach(arr, i, o) {
		const char *id = jget(o, "id", "sample_id", "Sample_ID");
		const char *r1 = jget(o, "r1", "R1", "fastq1"), *r2 = jget(o, "r2", "R2", "fastq2");
		const char *sex = sex_norm(sq_srv_jstr(o, "sex"));
		const char *msg;
		char p1[PATH_MAX], p2[PATH_MAX];
		long long s1 = 0, s2 = 0;
		int bad = 0;
		if (!json_is_object(o)) { problem(probs, NULL, "samples", "samples[%zu] is not an object", i); continue; }
		if (!valid_id(id)) { problem(probs, id, "id", "samples[%zu]: id must be 1-100 characters of [A-Za-z0-9_-]", i); continue; }
		if (!sex) { problem(probs, id, "sex", "sex must be female, male or unknown"); bad = 1; }
		if ((msg = check_file(r1, base_dir, allow, n_allow, p1, &s1))) { problem(probs, id, "r1", "R1 '%s': %s", r1 ? r1 : "", msg); bad = 1; }
		if ((msg = check_file(r2, base_dir, allow, n_allow, p2, &s2))) { problem(probs, id, "r2", "R2 '%s': %s", r2 ? r2 : "", msg); bad = 1; }
		if (!bad && strcmp(p1, p2) == 0) { problem(probs, id, "r2", "R1 and R2 are the same file"); bad = 1; }
		for (size_t k = 0; k < json_array_size(samples); ++k)
			if (strcmp(sq_srv_jstr(json_array_get(samples, k), "id"), id) == 0) { problem(probs, id, "id", "duplicate sample id"); bad = 1; }
		if (bad) continue;
		const char *pseudo = jget(o, "pseudonym", "Pseudonym", NULL);
		const char *ind = jget(o, "indication", "Indication", NULL);
		json_array_append_new(samples, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id,
			"pseudonym", pseudo ? pseudo : id, "indication", ind ? ind : "", "sex", sex, "r1", p1, "r2", p2));
		json_object_set_new(keyed, id, json_pack("{s:I, s:I}", "r1_size", (json_int_t)s1, "r2_size", (json_int_t)s2));
	}
done:
	if (json_array_size(probs) > 0) { *problems = probs; probs = NULL; goto out; }
	/* canonical order */
	n = json_array_size(samples);
	sorted = calloc(n, sizeof *sorted);
	if (!sorted) goto out;
	for (i = 0; i < n; ++i) sorted[i] = json_array_get(samples, i);
	qsort(sorted, n, sizeof *sorted, cmp_sample);
	out = json_object();
	json_t *ss = json_array();
	for (i = 0; i < n; ++i) json_array_append(ss, sorted[i]);
	json_object_set_new(out, "reference", json_string(refpath));
	json_t *run = json_object_get(doc, "run");
	json_object_set_new(out, "run", json_is_object(run) ? json_deep_copy(run) : json_object());
	json_object_set_new(out, "samples", ss);
	{
		/* key: canonical JSON of reference + samples + file sizes */
		json_t *k = json_pack("{s:O, s:O, s:O}", "reference", json_object_get(out, "reference"), "samples", ss, "sizes", keyed);
		char *txt = json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS), hex[65];
		json_decref(k);
		if (!txt) { json_decref(out); out = NULL; goto out; }
		sq_sha256_buf(txt, strlen(txt), hex);
		free(txt);
		json_object_set_new(out, "key", json_string(hex));
	}
out:
	free(sorted);
	json_decref(probs);
	json_decref(samples);
	json_decref(keyed);
	return out;
}

/* ---- sample sheets ---------------------------------------------------------------------- */

/* Split a CSV line in place (no quoting in Illumina sheets). */
static int csv_split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line;
	while (n < max) {
		f[n++] = p;
		char *c = strchr(p, ',');
		if (!c) break;
		*c = 0;
		p = c + 1;
	}
	for (int i = 0; i < n; ++i) {
		char *s = f[i];
		while (isspace((unsigned char)*s)) ++s;
		char *e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
		f[i] = s;
	}
	/* trailing empty fields (Excel pads rows with commas) */
	while (n > 0 && f[n - 1][0] == 0) --n;
	return n;
}

static int col(char **hdr, int nh, const char *name)
{
	for (int i = 0; i < nh; ++i) if (strcasecmp(hdr[i], name) == 0) return i;
	return -1;
}

json_t *sq_srv_sheet_parse(const char *text, const char *name)
{
	char *buf = strdup(text), *save = NULL, *line;
	char sec[64] = "";
	char *hdr[64], *f[64];
	int nh = 0, ln = 0, have_data = 0;
	char hdr_store[4096];
	json_t *run = json_object(), *samples = json_array(), *extra = json_object();
	if (!buf) goto fail;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		++ln;
		size_t L = strlen(line);
		if (L && line[L - 1] == '\r') line[--L] = 0;
		if (ln == 1 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB) line += 3; /* BOM */
		char *s = line;
		while (isspace((unsigned char)*s)) ++s;
		if (*s == '[') {
			char *e = strchr(s, ']');
			if (!e) { sq_log_error("%s:%d: malformed section header", name, ln); goto fail; }
			*e = 0;
			snprintf(sec, sizeof sec, "%s", s + 1);
			nh = 0;
			continue;
		}
		int n = csv_split(s, f, 64);
		if (n == 0) continue;
		int is_data = strcasecmp(sec, "Data") == 0 || strcasecmp(sec, "BCLConvert_Data") == 0;
		int is_seqa = strcasecmp(sec, "Seqa_Data") == 0;
		if (is_data || is_seqa) {
			if (nh == 0) {
				/* header row: copy it, as f points into the line */
				size_t off = 0;
				for (int i = 0; i < n && i < 64; ++i) {
					size_t l = strlen(f[i]) + 1;
					if (off + l > sizeof hdr_store) break;
					memcpy(hdr_store + off, f[i], l);
					hdr[nh++] = hdr_store + off;
					off += l;
				}
				if (col(hdr, nh, "Sample_ID") < 0) { sq_log_error("%s:%d: [%s] has no Sample_ID column", name, ln, sec); goto fail; }
				continue;
			}
			const char *id = f[col(hdr, nh, "Sample_ID")];
			if (col(hdr, nh, "Sample_ID") >= n || !*id) continue;
			if (is_data) {
				have_data = 1;
				int dup = 0;
				for (size_t k = 0; k < json_array_size(samples); ++k)
					if (strcmp(sq_srv_jstr(json_array_get(samples, k), "id"), id) == 0) dup = 1; /* one row per lane */
				if (!dup) json_array_append_new(samples, json_pack("{s:s}", "id", id));
			} else {
				json_t *o = json_object();
				static const char *cols[][2] = { { "Pseudonym", "pseudonym" }, { "Indication", "indication" },
				                                 { "Sex", "sex" }, { "R1", "r1" }, { "R2", "r2" } };
				for (int c = 0; c < 5; ++c) {
					int k = col(hdr, nh, cols[c][0]);
					if (k >= 0 && k < n && *f[k]) json_object_set_new(o, cols[c][1], json_string(f[k]));
				}
				json_object_set_new(extra, id, o);
			}
		} else if (strcasecmp(sec, "Header") == 0 || strcasecmp(sec, "Reads") == 0) {
			if (n >= 2) json_object_set_new(run, f[0], json_string(f[1]));
		}
	}
	if (!have_data) {
		/* a seqa sheet may list samples only in [Seqa_Data] */
		const char *k;
		json_t *v;
		json_object_foreach(extra, k, v) json_array_append_new(samples, json_pack("{s:s}", "id", k));
	}
	size_t i;
	json_t *s;
	json_array_foreach(samples, i, s) {
		json_t *e = json_object_get(extra, sq_srv_jstr(s, "id"));
		if (e) json_object_update(s, e);
	}
	free(buf);
	json_decref(extra);
	return json_pack("{s:o, s:o}", "run", run, "samples", samples);
fail:
	free(buf);
	json_decref(run);
	json_decref(samples);
	json_decref(extra);
	return NULL;
}

/* ---- run folders ------------------------------------------------------------------------ */

/* Find FASTQ files for id under dir (depth-limited): names "<id>_S<n>[_L<lane>]_R1_001.fastq.gz"
 * (bcl2fastq/BCL Convert) or "<id>_R1.fastq.gz" / "<id>.R1.fastq.gz".  Collects matches. */
static void find_fastq(const char *dir, const char *id, int depth, json_t *r1, json_t *r2)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t idl = strlen(id);
	if (!d) return;
	while ((e = readdir(d))) {
		char p[PATH_MAX];
		struct stat st;
		if (e->d_name[0] == '.') continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (lstat(p, &st) != 0) continue;
		if (S_ISDIR(st.st_mode)) {
			if (depth > 0) find_fastq(p, id, depth - 1, r1, r2);
			continue;
		}
		if (!S_ISREG(st.st_mode)) continue;
		const char *nm = e->d_name;
		size_t L = strlen(nm);
		if (strncmp(nm, id, idl) != 0 || (nm[idl] != '_' && nm[idl] != '.')) continue;
		if (!(L > 9 && strcmp(nm + L - 9, ".fastq.gz") == 0) && !(L > 6 && strcmp(nm + L - 6, ".fq.gz") == 0) &&
		    !(L > 6 && strcmp(nm + L - 6, ".fastq") == 0)) continue;
		const char *rest = nm + idl + 1;
		/* the part between id and the read tag must be S<n>, L<lane>, or nothing */
		const char *tag = NULL;
		for (const char *q = rest; *q; ++q)
			if ((q[0] == 'R') && (q[1] == '1' || q[1] == '2') && (q[2] == '_' || q[2] == '.') && (q == rest || q[-1] == '_' || q[-1] == '.')) { tag = q; break; }
		if (!tag) continue;
		int ok = 1;
		for (const char *q = rest; q < tag; ) {
			if (*q == 'S' || *q == 'L') { ++q; while (q < tag && isdigit((unsigned char)*q)) ++q; }
			else { ok = 0; break; }
			if (q < tag && (*q == '_' || *q == '.')) ++q;
		}
		if (!ok) continue;
		json_array_append_new(tag[1] == '1' ? r1 : r2, json_string(p));
	}
	closedir(d);
}

/* Extract <Run Id="..."> and <Flowcell> from RunInfo.xml (no XML library needed for these). */
static void runinfo(const char *path, json_t *run)
{
	char *x = sq_read_file(path, NULL), *p, *q;
	if (!x) return;
	if ((p = strstr(x, "<Run ")) && (p = strstr(p, "Id=\"")) && (q = strchr(p + 4, '"')))
		json_object_set_new(run, "run_id", json_stringn(p + 4, (size_t)(q - p - 4)));
	if ((p = strstr(x, "<Flowcell>")) && (q = strstr(p, "</Flowcell>")))
		json_object_set_new(run, "flowcell", json_stringn(p + 10, (size_t)(q - p - 10)));
	if ((p = strstr(x, "<Instrument>")) && (q = strstr(p, "</Instrument>")))
		json_object_set_new(run, "instrument", json_stringn(p + 12, (size_t)(q - p - 12)));
	free(x);
}

int sq_srv_run_folder(const char *path, json_t **batch, const char **reason)
{
	char p[PATH_MAX];
	json_t *doc = NULL;
	char *sheet = NULL;
	*batch = NULL;
	*reason = NULL;
	snprintf(p, sizeof p, "%s/CopyComplete.txt", path);
	if (access(p, F_OK) != 0) return 0;
	snprintf(p, sizeof p, "%s/RunInfo.xml", path);
	if (!sq_file_readable(p)) { *reason = "complete but RunInfo.xml is missing"; return SQ_EINPUT; }
	snprintf(p, sizeof p, "%s/SampleSheet.csv", path);
	if (!sq_file_readable(p)) { *reason = "complete but SampleSheet.csv is missing"; return SQ_EINPUT; }
	if (!(sheet = sq_read_file(p, NULL)) || !(doc = sq_srv_sheet_parse(sheet, p))) {
		free(sheet);
		*reason = "SampleSheet.csv does not parse";
		return SQ_EINPUT;
	}
	free(sheet);
	json_t *run = json_object_get(doc, "run");
	snprintf(p, sizeof p, "%s/RunInfo.xml", path);
	runinfo(p, run);
	json_object_set_new(run, "run_folder", json_string(path));
	size_t i;
	json_t *s;
	json_t *samples = json_object_get(doc, "samples");
	if (json_array_size(samples) == 0) { *reason = "the sample sheet lists no samples"; json_decref(doc); return SQ_EINPUT; }
	json_array_foreach(samples, i, s) {
		if (sq_srv_jstr(s, "r1") && sq_srv_jstr(s, "r2")) continue; /* given in [Seqa_Data] */
		json_t *r1 = json_array(), *r2 = json_array();
		find_fastq(path, sq_srv_jstr(s, "id"), 5, r1, r2);
		size_t n1 = json_array_size(r1), n2 = json_array_size(r2);
		if (n1 == 1 && n2 == 1) {
			json_object_set(s, "r1", json_array_get(r1, 0));
			json_object_set(s, "r2", json_array_get(r2, 0));
		}
		json_decref(r1), json_decref(r2);
		if (n1 == 0 || n2 == 0) { *reason = "complete but FASTQ files are missing for a sample"; json_decref(doc); return 0; }
		if (n1 != 1 || n2 != 1) { *reason = "a sample has several FASTQ pairs (lanes not merged): run BCL Convert with --no-lane-splitting"; json_decref(doc); return SQ_EINPUT; }
	}
	*batch = doc;
	return 1;
}
