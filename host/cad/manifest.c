/* seqa — the provenance manifest of a delivery (RO-Crate Process Run Crate shaped JSON, JCS
 * canonicalised, Ed25519 signed) and the preparation of a delivery spool folder.
 *
 * The manifest has three parts:
 *   "@context"/"@graph"  the RO-Crate view (Dataset, CreateAction, SoftwareApplication, Files)
 *   "seqa:delivery"      the same facts flat, for machines: delivery id, platform, sample,
 *                        indication, QC profile + metrics + gate decision, run/flowcell, inputs,
 *                        reference contigs, software, backend, parameters, timings, files
 *   "seqa:signature"     JSF-style Ed25519 signature over JCS of everything else
 * The delivery id is SHA-256(JCS({"platform","sample","files":[{"name","sha256"}]})) over the
 * plaintext hashes, so re-preparing the same results (re-encrypted: other bytes) gives the
 * same id, and the inbox de-duplicates on it.
 */
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <htslib/vcf.h>
#include "seqa/cad.h"
#include "seqa/cli.h"
#include "seqa/durable.h"
#include "seqa/hash.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/qc.h"
#include "seqa/util.h"
#include "seqa/version.h"

#define MAX_FILES 32

typedef struct { char *s; size_t n, m; } sq_cad_membuf_t;

void sq_cad_delivery_opt_init(sq_cad_delivery_opt_t *o)
{
	memset(o, 0, sizeof *o);
}

void sq_cad_delivery_free(sq_cad_delivery_t *d)
{
	if (!d) return;
	free(d->sample_id), free(d->spool_dir);
	json_decref(d->manifest), json_decref(d->qc_decision);
	memset(d, 0, sizeof *d);
}

int sq_cad_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-') return 0;
	for (size_t i = 0; i < n; ++i) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return strstr(s, "..") == NULL;
}

int sq_cad_hex64_ok(const char *s)
{
	if (!s || strlen(s) != 64) return 0;
	for (int i = 0; i < 64; ++i)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
	return 1;
}

void sq_cad_utc_now(char buf[32])
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- delivery id ---------------------------------------------------------------------------- */

static int delivery_id(const char *platform, const char *sample, json_t *files, char id[65])
{
	json_t *f = json_array(), *e, *o;
	size_t i;
	char *c;
	size_t len;
	json_array_foreach(files, i, e)
		json_array_append_new(f, json_pack("{s:O, s:O}", "name", json_object_get(e, "name"), "sha256", json_object_get(e, "sha256")));
	o = json_pack("{s:s, s:s, s:o}", "platform", platform, "sample", sample, "files", f);
	if (!o || !(c = sq_cad_jcs(o, &len))) { json_decref(o); return SQ_ENOMEM; }
	sq_sha256_buf(c, len, id);
	free(c);
	json_decref(o);
	return id[0] ? 0 : SQ_ENOMEM;   /* "" when the digest could not be computed */
}

int sq_cad_manifest_check_id(const json_t *m, char id[65])
{
	json_t *d = json_object_get(m, "seqa:delivery");
	const char *claimed = sq_json_str(d, "delivery_id", NULL), *pl = sq_json_str(d, "platform_id", NULL),
	           *sa = sq_json_str(d, "sample_id", NULL);
	json_t *files = json_object_get(d, "files");
	if (!claimed || !pl || !sa || !json_is_array(files)) { sq_log_warn("manifest lacks delivery_id/platform_id/sample_id/files"); return SQ_EINPUT; }
	if (delivery_id(pl, sa, files, id) < 0) return SQ_ENOMEM;
	if (strcmp(id, claimed) != 0) { sq_log_warn("manifest delivery id %.16s... does not match its content (%.16s...)", claimed, id); return SQ_EINPUT; }
	return 0;
}

/* ---- inputs to the manifest -------------------------------------------------------------- */

static int name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Result files in run_dir (auto mode), sorted. */
static int auto_files(const char *dir, char **names, int cap)
{
	static const char *pat[] = { "*.vcf.gz", "*.vcf.gz.tbi", "*.vcf.gz.csi", "*.g.vcf.gz", "qc.json", "qc.html", NULL };
	DIR *dp = opendir(dir);
	struct dirent *de;
	int n = 0;
	if (!dp) { sq_log_error("cannot open run folder '%s': %s", dir, strerror(errno)); return SQ_EIO; }
	while ((de = readdir(dp)) && n < cap) {
		char p[4096];
		struct stat st;
		int hit = 0;
		for (int k = 0; pat[k]; ++k) hit |= fnmatch(pat[k], de->d_name, 0) == 0;
		snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
		if (!hit || strstr(de->d_name, ".tmp.") || stat(p, &st) != 0 || !S_ISREG(st.st_mode)) continue;
		if (!(names[n++] = sq_strdup(de->d_name))) break;
	}
	closedir(dp);
	qsort(names, n, sizeof *names, name_cmp);
	return n;
}

/* QC gate decision from qc.json: {"decision": "pass"|"fail"|"unknown", "override": .., "profile": ..}. */
static json_t *qc_decision(const json_t *qc)
{
	json_t *g = json_object_get(qc, "gate"), *ov;
	const char *dec = NULL;
	if (json_is_object(g) && json_is_string(json_object_get(g, "status"))) {
		/* the QC module's gate (seqa/qc.h): status PASS|WARN|FAIL, override, deliverable */
		char low[16];
		snprintf(low, sizeof low, "%s", sq_json_str(g, "status", "FAIL"));
		for (char *c = low; *c; ++c) *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
		ov = json_object_get(g, "override");
		json_t *r = json_pack("{s:s, s:O, s:b}", "decision", low, "override", ov ? ov : json_null(),
		                      "deliverable", sq_qc_gate_deliverable(g));
		if (json_is_string(json_object_get(g, "profile_id")))
			json_object_set_new(r, "profile", json_pack("{s:O, s:O}", "id", json_object_get(g, "profile_id"),
			                                            "version", json_object_get(g, "profile_version") ? json_object_get(g, "profile_version") : json_null()));
		return r;
	}
	if (!json_is_object(g)) g = (json_t *)qc;
	if (json_is_string(json_object_get(g, "decision"))) dec = sq_json_str(g, "decision", NULL);
	else if (json_is_string(json_object_get(g, "status"))) dec = sq_json_str(g, "status", NULL);
	else if (json_is_boolean(json_object_get(g, "pass"))) dec = json_is_true(json_object_get(g, "pass")) ? "pass" : "fail";
	else if (json_is_boolean(json_object_get(g, "passed"))) dec = json_is_true(json_object_get(g, "passed")) ? "pass" : "fail";
	ov = json_object_get(g, "override");
	if (!ov) ov = json_object_get(qc, "override");
	json_t *r = json_pack("{s:s, s:O}", "decision", dec ? dec : "unknown", "override", ov && !json_is_null(ov) ? ov : json_null());
	json_object_set_new(r, "deliverable", json_boolean(!dec || strcmp(dec, "fail") != 0 || (ov && json_is_object(ov))));
	json_t *prof = json_object_get(g, "profile");
	if (!prof) prof = json_object_get(qc, "profile");
	if (prof) json_object_set(r, "profile", prof);
	return r;
}

/* Contigs (name, length, md5) from a VCF header. */
static json_t *vcf_contigs(const char *path)
{
	htsFile *fp = hts_open(path, "r");
	bcf_hdr_t *h = fp ? bcf_hdr_read(fp) : NULL;
	json_t *arr = json_array();
	if (h) {
		for (int i = 0; i < h->nhrec; ++i) {
			bcf_hrec_t *r = h->hrec[i];
			const char *id = NULL, *len = NULL, *md5 = NULL;
			if (r->type != BCF_HL_CTG) continue;
			for (int k = 0; k < r->nkeys; ++k) {
				if (!strcmp(r->keys[k], "ID")) id = r->vals[k];
				else if (!strcmp(r->keys[k], "length")) len = r->vals[k];
				else if (!strcmp(r->keys[k], "md5")) md5 = r->vals[k];
			}
			if (!id) continue;
			json_t *c = json_pack("{s:s}", "name", id);
			if (len) json_object_set_new(c, "length", json_integer(atoll(len)));
			if (md5) json_object_set_new(c, "md5", json_string(md5));
			json_array_append_new(arr, c);
		}
		bcf_hdr_destroy(h);
	}
	if (fp) hts_close(fp);
	return arr;
}

/* Text between <tag> and </tag> in xml, or an attribute value attr="..." of <tag ...>. */
static json_t *xml_text(const char *xml, const char *tag)
{
	char open[64], close_[64];
	const char *b, *e;
	snprintf(open, sizeof open, "<%s>", tag), snprintf(close_, sizeof close_, "</%s>", tag);
	if (!(b = strstr(xml, open)) || !(e = strstr(b, close_))) return NULL;
	b += strlen(open);
	return json_stringn(b, (size_t)(e - b));
}

static json_t *runinfo(const char *dir, const json_t *prov)
{
	char p[4096];
	const char *rf = sq_json_str(prov, "run_folder", NULL);
	char *x = NULL;
	json_t *r = json_object();
	snprintf(p, sizeof p, "%s/RunInfo.xml", rf ? rf : dir);
	if (sq_file_readable(p) && (x = sq_read_file(p, NULL))) {
		const char *run = strstr(x, "<Run ");
		json_t *v;
		if (run && (run = strstr(run, "Id=\""))) {
			const char *e = strchr(run + 4, '"');
			if (e) json_object_set_new(r, "run_id", json_stringn(run + 4, (size_t)(e - run - 4)));
		}
		if ((v = xml_text(x, "Flowcell"))) json_object_set_new(r, "flowcell", v);
		if ((v = xml_text(x, "Instrument"))) json_object_set_new(r, "instrument", v);
		json_object_set_new(r, "source", json_string("RunInfo.xml"));
		free(x);
	}
	static const char *keys[] = { "run_id", "flowcell", "instrument", NULL };
	const json_t *run = json_object_get(prov, "run");
	for (int k = 0; keys[k]; ++k) {
		if (json_object_get(r, keys[k])) continue;
		if (json_is_string(json_object_get(prov, keys[k]))) json_object_set(r, keys[k], json_object_get(prov, keys[k]));
		else if (json_is_string(json_object_get(run, keys[k]))) json_object_set(r, keys[k], json_object_get(run, keys[k]));
	}
	if (!json_object_get(r, "run_id") && json_is_string(json_object_get(run, "id"))) json_object_set(r, "run_id", json_object_get(run, "id"));
	return r;
}

/* Per-stage records written by the pipeline (OUTDIR/.seqa/stage-*.json). */
/* A string for the manifest with the local (lab) sample id replaced by "{sample}": the lab id never
 * leaves the platform (SECURITY.md §5).  New reference; lab NULL: unchanged. */
static json_t *no_labid(json_t *v, const char *lab)
{
	char *r;
	json_t *out;
	if (!lab || !json_is_string(v)) return json_incref(v);
	if (!(r = sq_cli_redact(json_string_value(v), lab, "{sample}"))) return NULL;
	out = json_string(r);
	free(r);
	return out;
}

static void stage_records(const char *dir, json_t *timings, json_t *params, const char *lab)
{
	static const char *st[] = { "ingest", "align", "call", "qc", NULL };
	for (int i = 0; st[i]; ++i) {
		char p[4096];
		json_t *r;
		snprintf(p, sizeof p, "%s/.seqa/stage-%s.json", dir, st[i]);
		if (!sq_file_readable(p) || !(r = json_load_file(p, 0, NULL))) continue;
		json_object_set_new(timings, st[i], json_pack("{s:f, s:f}", "wall_s", sq_json_num(r, "wall_s", 0), "cpu_s", sq_json_num(r, "cpu_s", 0)));
		if (json_is_string(json_object_get(r, "params"))) json_object_set_new(params, st[i], no_labid(json_object_get(r, "params"), lab));
		json_decref(r);
	}
}

/* ---- the manifest ---------------------------------------------------------------------------- */

static json_t *build_manifest(const sq_cad_delivery_opt_t *o, const char *id, const char *sample, json_t *prov,
                              json_t *qc, json_t *dec, json_t *files, const char *vcf_path)
{
	char now[32];
	const char *op = o->operator_name ? o->operator_name : sq_json_str(prov, "operator", getenv("USER") ? getenv("USER") : "unknown");
	json_t *ri = runinfo(o->run_dir, prov), *timings = json_object(), *params = json_object(), *d, *g, *ref;
	json_t *tm = json_object_get(prov, "timings"), *pm = json_object_get(prov, "parameters");
	const char *lab = sq_json_str(prov, "sample_id", NULL);   /* the lab id: never in the manifest */
	json_t *inputs = json_object_get(prov, "inputs") ? json_deep_copy(json_object_get(prov, "inputs")) : json_array(), *e1;
	size_t i1;
	if (lab && !strcmp(lab, sample)) lab = NULL;
	json_array_foreach(inputs, i1, e1) {   /* path, name, resolved path... of each input file */
		const char *k1;
		json_t *v1;
		json_object_foreach(e1, k1, v1)
			if (json_is_string(v1)) json_object_set_new(e1, k1, no_labid(v1, lab));
	}
	sq_cad_utc_now(now);
	stage_records(o->run_dir, timings, params, lab);
	if (json_is_object(tm)) json_object_update(timings, tm);
	if (json_is_array(json_object_get(prov, "stages"))) json_object_set(timings, "stages", json_object_get(prov, "stages"));
	if (json_is_object(pm)) json_object_update(params, pm);
	ref = json_object_get(prov, "reference") ? json_deep_copy(json_object_get(prov, "reference")) : json_object();
	if (!json_object_get(ref, "contigs") && vcf_path) json_object_set_new(ref, "contigs", vcf_contigs(vcf_path));
	json_t *prof = json_object_get(dec, "profile") ? json_object_get(dec, "profile") : json_object_get(prov, "qc_profile");
	/* every value below is a new reference ("o"): borrowed ones via B() */
#define B(v) ((v) ? json_incref(v) : json_null())
	json_t *metrics = json_object_get(qc, "metrics") ? json_object_get(qc, "metrics") : json_object_get(json_object_get(qc, "gate"), "checks");
	d = json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:{s:s, s:s, s:s}, s:o, s:o, s:O, s:O, s:o, s:o, s:s, s:s, s:o}",
	              "delivery_id", id, "platform_id", o->platform_id, "sample_id", sample,
	              "indication", B(json_object_get(prov, "indication")),
	              "qc_profile", B(prof),
	              "instrument", B(json_object_get(ri, "instrument")),
	              "run_id", B(json_object_get(ri, "run_id")),
	              "flowcell", B(json_object_get(ri, "flowcell")),
	              "reference", ref,
	              "inputs", inputs,
	              "software", "name", "seqa", "version", sq_version(), "commit", sq_commit(),
	              "backend", B(json_object_get(prov, "backend")),
	              "device", B(json_object_get(prov, "device")),
	              "parameters", params, "timings", timings,
	              "qc", json_pack("{s:o, s:o, s:o}", "metrics", B(metrics), "decision", B(json_object_get(dec, "decision")),
	                              "override", B(json_object_get(dec, "override"))),
	              "files", B(files), "operator", op, "created", now,
	              "timestamps", json_object_get(prov, "timestamps") ? json_incref(json_object_get(prov, "timestamps"))
	                            : json_pack("{s:o, s:o, s:s}", "started", B(json_object_get(prov, "started")),
	                                        "finished", B(json_object_get(prov, "finished")), "manifest", now));
#undef B
	json_decref(params), json_decref(timings);
	if (!d) { json_decref(ri); return NULL; }
	/* the RO-Crate view */
	g = json_array();
	json_t *parts = json_array(), *results = json_array(), *objects = json_array(), *e;
	size_t i;
	json_array_foreach(files, i, e) {
		json_array_append_new(parts, json_pack("{s:O}", "@id", json_object_get(e, "name")));
		json_array_append_new(results, json_pack("{s:O}", "@id", json_object_get(e, "name")));
	}
	json_array_append_new(g, json_pack("{s:s, s:s, s:[{s:s},{s:s}], s:{s:s}}", "@id", "ro-crate-metadata.json", "@type", "CreativeWork",
	                                   "conformsTo", "@id", "https://w3id.org/ro/crate/1.1", "@id", "https://w3id.org/ro/wfrun/process/0.5",
	                                   "about", "@id", "./"));
	json_array_append_new(g, json_pack("{s:s, s:s, s:s, s:s, s:o, s:{s:s}}", "@id", "./", "@type", "Dataset",
	                                   "name", "seqa delivery", "identifier", id, "hasPart", parts, "mentions", "@id", "#run"));
	json_array_append_new(g, json_pack("{s:s, s:s, s:s, s:s, s:s}", "@id", "#seqa", "@type", "SoftwareApplication",
	                                   "name", "seqa", "version", sq_version(), "seqa:commit", sq_commit()));
	json_array_append_new(g, json_pack("{s:s, s:s, s:s}", "@id", "#operator", "@type", "Person", "name", op));
	json_t *ins = json_object_get(d, "inputs");   /* without the lab id */
	json_array_foreach(ins, i, e) {
		const char *n = sq_json_str(e, "name", sq_json_str(e, "path", NULL));
		if (!n) continue;
		json_array_append_new(objects, json_pack("{s:s}", "@id", n));
		json_array_append_new(g, json_pack("{s:s, s:s, s:O}", "@id", n, "@type", "File",
		                                   "sha256", json_object_get(e, "sha256") ? json_object_get(e, "sha256") : json_null()));
	}
	json_array_foreach(files, i, e)
		json_array_append_new(g, json_pack("{s:O, s:s, s:O, s:O}", "@id", json_object_get(e, "name"), "@type", "File",
		                                   "contentSize", json_object_get(e, "size"), "sha256", json_object_get(e, "sha256")));
	json_array_append_new(g, json_pack("{s:s, s:s, s:s, s:{s:s}, s:{s:s}, s:o, s:o, s:s}", "@id", "#run", "@type", "CreateAction",
	                                   "name", "seqa run", "instrument", "@id", "#seqa", "agent", "@id", "#operator",
	                                   "object", objects, "result", results, "endTime", now));
	json_t *m = json_pack("{s:s, s:o, s:o}", "@context", "https://w3id.org/ro/crate/1.1/context", "@graph", g, "seqa:delivery", d);
	json_decref(ri);
	return m;
}

/* Recursively remove a spool folder we created (flat: files only). */
static void rm_flat_dir(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	if (dp) {
		while ((de = readdir(dp))) {
			char p[4096];
			if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2]))) continue;
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(dp);
	}
	rmdir(dir);
}

int sq_cad_delivery_prepare(const sq_cad_delivery_opt_t *o, const char *spool, sq_cad_delivery_t *d)
{
	char *names[MAX_FILES] = { 0 }, tmpdir[4096], fin[4096], p[8192], q[8192], id[65];
	const char *sample = o->sample_id, *vcf = NULL, *local_id = NULL;
	json_t *prov = NULL, *qc = NULL, *files = json_array(), *m = NULL;
	int n = 0, ret = SQ_EINVAL;
	static unsigned seq;
	memset(d, 0, sizeof *d);
	if (!o->run_dir || !o->platform_id || !o->sign_sk || o->n_rcpt < 1) { sq_log_error("delivery: run_dir, platform id, signing key and a recipient are required"); goto out; }
	if (!sq_cad_name_ok(o->platform_id)) { sq_log_error("delivery: bad platform id '%s'", o->platform_id); goto out; }
	if (sq_mkdir_p(spool, 0700) < 0) { ret = SQ_EOUTPUT; goto out; }
	if (o->files) {
		for (; o->files[n] && n < MAX_FILES; ++n) names[n] = sq_strdup(o->files[n]);
	} else if ((n = auto_files(o->run_dir, names, MAX_FILES)) < 0) { ret = n, n = 0; goto out; }
	if (n == 0) { sq_log_error("delivery: no result files in '%s'", o->run_dir); ret = SQ_EINPUT; goto out; }
	snprintf(p, sizeof p, "%s/provenance.json", o->run_dir);
	if (sq_file_readable(p) && !(prov = sq_json_load(p))) { ret = SQ_EINPUT; goto out; }
	snprintf(p, sizeof p, "%s/qc.json", o->run_dir);
	if (sq_file_readable(p) && !(qc = sq_json_load(p))) { ret = SQ_EINPUT; goto out; }
	if (!sample) sample = sq_json_str(prov, "pseudonym", sq_json_str(prov, "sample_id", sq_json_str(qc, "sample_id", sq_json_str(qc, "sample", NULL))));
	local_id = sq_json_str(prov, "sample_id", NULL);   /* files named after it are delivered under the pseudonym */
	if (!sample || !sample[0]) { sq_log_error("delivery: no sample id (give one, or provenance.json/qc.json sample_id)"); ret = SQ_EINPUT; goto out; }
	d->qc_decision = qc_decision(qc);
	{
		if (!json_is_true(json_object_get(d->qc_decision, "deliverable")) && !o->allow_qc_fail) {
			sq_log_error("delivery: sample %s is not deliverable (QC gate %s, no override): not queued", sample,
			             sq_json_str(d->qc_decision, "decision", "?"));
			ret = SQ_EQC;
			goto out;
		}
	}
	/* encrypt into a private temporary spool folder */
	snprintf(tmpdir, sizeof tmpdir, "%s/.tmp-%d-%u", spool, (int)getpid(), seq++);
	rm_flat_dir(tmpdir);
	if (sq_mkdir_p(tmpdir, 0700) < 0) { ret = SQ_EOUTPUT; goto out; }
	for (int i = 0; i < n; ++i) {
		char hp[65], he[65], dname[160];
		uint64_t es;
		struct stat st;
		if (!sq_cad_name_ok(names[i]) || strlen(names[i]) > 120) { sq_log_error("delivery: refusing file name '%s'", names[i]); ret = SQ_EINPUT; goto out; }
		snprintf(p, sizeof p, "%s/%s", o->run_dir, names[i]);
		if (stat(p, &st) != 0) { sq_log_error("delivery: cannot read '%s': %s", p, strerror(errno)); ret = SQ_EIO; goto out; }
		{   /* the delivered name: the local sample id prefix replaced by the pseudonym */
			size_t ll = local_id ? strlen(local_id) : 0;
			if (ll && strcmp(local_id, sample) != 0 && strncmp(names[i], local_id, ll) == 0 && names[i][ll] == '.')
				snprintf(dname, sizeof dname, "%s%s", sample, names[i] + ll);
			else snprintf(dname, sizeof dname, "%s", names[i]);
			if (!sq_cad_name_ok(dname)) { sq_log_error("delivery: refusing delivered name '%s'", dname); ret = SQ_EINPUT; goto out; }
		}
		snprintf(q, sizeof q, "%s/%s.c4gh", tmpdir, dname);
		if ((ret = sq_cad_c4gh_encrypt_file(p, q, o->rcpt, o->n_rcpt, hp, he, &es)) < 0) goto out;
		if (!vcf && fnmatch("*.vcf.gz", names[i], 0) == 0) vcf = names[i];
		json_array_append_new(files, json_pack("{s:s, s:I, s:s, s:{s:s+, s:I, s:s}}", "name", dname, "size", (json_int_t)st.st_size,
		                                       "sha256", hp, "encrypted", "name", dname, ".c4gh", "size", (json_int_t)es, "sha256", he));
	}
	if ((ret = delivery_id(o->platform_id, sample, files, id)) < 0) goto out;
	snprintf(fin, sizeof fin, "%s/%s", spool, id);
	snprintf(p, sizeof p, "%s/manifest.json", fin);
	if (sq_file_readable(p) && (m = json_load_file(p, 0, NULL)) && sq_cad_verify_json(m, "seqa:signature", (const uint8_t (*)[32])(o->sign_sk + 32), 1, NULL) == 0) {
		/* already prepared (perhaps already queued with those encrypted bytes): keep it */
		sq_log_info("delivery %.16s... already prepared in %s", id, fin);
		rm_flat_dir(tmpdir);
	} else {
		json_decref(m), m = NULL;
		if (vcf) snprintf(q, sizeof q, "%s/%s", o->run_dir, vcf);
		if (!(m = build_manifest(o, id, sample, prov, qc, d->qc_decision, files, vcf ? q : NULL))) { ret = SQ_ENOMEM; goto out; }
		if ((ret = sq_cad_sign_json(m, "seqa:signature", o->sign_sk)) < 0) goto out;
		snprintf(p, sizeof p, "%s/manifest.json", tmpdir);
		if ((ret = sq_json_save(m, p)) < 0) goto out;
		snprintf(q, sizeof q, "%s/manifest.json.c4gh", tmpdir);
		if ((ret = sq_cad_c4gh_encrypt_file(p, q, o->rcpt, o->n_rcpt, NULL, NULL, NULL)) < 0) goto out;
		rm_flat_dir(fin);                          /* a half-made earlier attempt */
		if (rename(tmpdir, fin) != 0) { sq_log_error("cannot rename '%s' -> '%s': %s", tmpdir, fin, strerror(errno)); ret = SQ_EOUTPUT; goto out; }
		if ((ret = sq_fsync_dir(fin)) < 0) goto out;
	}
	memcpy(d->delivery_id, id, 65);
	d->sample_id = sq_strdup(sample);
	d->spool_dir = sq_strdup(fin);
	d->manifest = m, m = NULL;
	ret = 0;
out:
	if (ret < 0 && tmpdir[0] && strstr(tmpdir, "/.tmp-")) rm_flat_dir(tmpdir);
	if (ret < 0) sq_cad_delivery_free(d);
	for (int i = 0; i < n; ++i) free(names[i]);
	json_decref(prov), json_decref(qc), json_decref(files), json_decref(m);
	return ret;
}

/* ---- offline verification ------------------------------------------------------------------ */

static int mem_sink(void *ud, const void *buf, size_t len)
{
	sq_cad_membuf_t *b = ud;
	if (b->n + len + 1 > b->m) {
		size_t m = b->m ? b->m * 2 : 4096;
		while (m < b->n + len + 1) m *= 2;
		if (m > (64u << 20)) return -1;           /* manifests are small */
		char *t = realloc(b->s, m);
		if (!t) return -1;
		b->s = t, b->m = m;
	}
	memcpy(b->s + b->n, buf, len);
	b->n += len;
	b->s[b->n] = 0;
	return 0;
}

json_t *sq_cad_c4gh_load_json(const char *path, const uint8_t sk[32])
{
	sq_cad_membuf_t b = { 0 };
	sq_c4gh_reader_t *r = sq_c4gh_reader_new(sk);
	char hx[65], *data = NULL;
	size_t len = 0;
	json_t *j = NULL;
	json_error_t e;
	if (!r || !(data = sq_read_file(path, &len))) goto out;
	sq_c4gh_reader_set_sink(r, mem_sink, &b);
	if (sq_c4gh_reader_feed(r, data, len) < 0 || sq_c4gh_reader_finish(r, hx, NULL) < 0) goto out;
	if (!b.s || !(j = json_loadb(b.s, b.n, JSON_REJECT_DUPLICATES, &e))) sq_log_warn("%s: not JSON: %s", path, b.s ? e.text : "empty");
out:
	sq_c4gh_reader_free(r);
	free(data), free(b.s);
	return j;
}

int sq_cad_verify_delivery(const char *dir, const uint8_t (*pks)[32], int n_pk, const uint8_t *sk)
{
	char p[4096], id[65], hex[65];
	json_t *m = NULL, *files, *e;
	size_t i;
	int bad = 0;
	snprintf(p, sizeof p, "%s/manifest.json", dir);
	if (sq_file_readable(p)) m = sq_json_load(p);
	else {
		snprintf(p, sizeof p, "%s/manifest.json.c4gh", dir);
		if (!sk) { sq_log_error("%s: no manifest.json (an encrypted one needs --sk)", dir); return SQ_EIO; }
		if (!sq_file_readable(p)) { sq_log_error("%s: no manifest", dir); return SQ_EIO; }
		m = sq_cad_c4gh_load_json(p, sk);
	}
	if (!m) return SQ_EINPUT;
	if (sq_cad_verify_json(m, "seqa:signature", pks, n_pk, NULL) < 0) { sq_log_error("%s: manifest signature INVALID", dir); bad++; }
	else sq_log_info("manifest signature valid (key %s)", sq_json_str(json_object_get(m, "seqa:signature"), "keyId", "?"));
	if (sq_cad_manifest_check_id(m, id) < 0) bad++;
	files = json_object_get(json_object_get(m, "seqa:delivery"), "files");
	json_array_foreach(files, i, e) {
		const char *name = sq_json_str(e, "name", ""), *sha = sq_json_str(e, "sha256", "");
		json_t *enc = json_object_get(e, "encrypted");
		const char *ename = sq_json_str(enc, "name", ""), *esha = sq_json_str(enc, "sha256", "");
		if (!sq_cad_name_ok(name) || !sq_cad_name_ok(ename)) { sq_log_error("manifest names an unsafe file '%s'", name); bad++; continue; }
		snprintf(p, sizeof p, "%s/%s", dir, ename);
		if (sq_file_readable(p)) {
			if (sq_sha256_file(p, hex) < 0 || strcmp(hex, esha) != 0) { sq_log_error("%s: encrypted SHA-256 mismatch", ename); bad++; continue; }
			if (sk) {
				if (sq_cad_c4gh_decrypt_file(p, NULL, sk, hex) < 0 || strcmp(hex, sha) != 0) { sq_log_error("%s: plaintext SHA-256 mismatch", name); bad++; continue; }
			}
			sq_log_info("%s: ok%s", ename, sk ? " (decrypted, plaintext SHA-256 matches)" : " (encrypted SHA-256 matches)");
			continue;
		}
		snprintf(p, sizeof p, "%s/%s", dir, name);
		if (sq_file_readable(p)) {
			if (sq_sha256_file(p, hex) < 0 || strcmp(hex, sha) != 0) { sq_log_error("%s: SHA-256 mismatch", name); bad++; }
			else sq_log_info("%s: ok (plaintext SHA-256 matches)", name);
			continue;
		}
		sq_log_error("%s: missing from %s", name, dir);
		bad++;
	}
	json_decref(m);
	return bad ? SQ_EINPUT : 0;
}
