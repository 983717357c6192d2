/* seqa — QC gates: profiles per clinical indication, evaluation, overrides (see seqa/qc.h).
 *
 * A profile (qc/profiles/<CODE>.json, schema "seqa-qc-profile/1"):
 *   { "profile_id": "SQ-QC-RD-BONE", "version": "1.0.0", "indication": "RD-BONE",
 *     "required_stages": ["alignment", "vcf"],
 *     "rules": [ { "metric": "mean_autosome_coverage", "stage": "alignment",
 *                  "min": {"fail": 28, "warn": 30}, "rationale": "..." }, ... ] }
 * Rule kinds: "min" (value below fail -> FAIL, below warn -> WARN), "max" (above), "range"
 * ([lo, hi] pairs), "in" (value must be one of the listed strings), "equals" (bool/string).
 * "fail" and "warn" are each optional.  A rule whose stage was not run is NA (not counted); a
 * metric the stage could not measure is WARN ("not measured"), or FAIL with "missing": "fail".
 * The gate is complete when every required stage was evaluated; only a complete gate can be
 * delivered, and a FAIL only with an override.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include <unistd.h>
#include "seqa/qc.h"
#include "seqa/hash.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "qc_internal.h"

struct sq_qc_profile_s {
	json_t *j;
	char *path;
	char sha256[65];
};

static const char *rule_kinds[] = { "min", "max", "range", "in", "equals", 0 };

static int rule_check(const char *path, size_t i, json_t *r)
{
	const char *metric = sq_json_str(r, "metric", 0), *stage = sq_json_str(r, "stage", 0);
	int kinds = 0;
	if (!metric || !stage) { sq_log_error("%s: rule %zu: needs \"metric\" and \"stage\"", path, i); return SQ_EINPUT; }
	if (strcmp(stage, "fastq") && strcmp(stage, "alignment") && strcmp(stage, "vcf")) {
		sq_log_error("%s: rule %zu (%s): stage must be fastq, alignment or vcf", path, i, metric);
		return SQ_EINPUT;
	}
	for (int k = 0; rule_kinds[k]; ++k) {
		json_t *t = json_object_get(r, rule_kinds[k]);
		if (!t) continue;
		++kinds;
		if (!json_is_object(t) || (!json_object_get(t, "fail") && !json_object_get(t, "warn"))) {
			sq_log_error("%s: rule %zu (%s): \"%s\" needs \"fail\" and/or \"warn\"", path, i, metric, rule_kinds[k]);
			return SQ_EINPUT;
		}
		const char *lv[2] = { "fail", "warn" };
		for (int l = 0; l < 2; ++l) {
			json_t *v = json_object_get(t, lv[l]);
			if (!v) continue;
			int ok = k < 2 ? json_is_number(v)
			       : k == 2 ? (json_is_array(v) && json_array_size(v) == 2 && json_is_number(json_array_get(v, 0)) && json_is_number(json_array_get(v, 1)))
			       : k == 3 ? json_is_array(v) : (json_is_boolean(v) || json_is_string(v) || json_is_number(v));
			if (!ok) { sq_log_error("%s: rule %zu (%s): bad \"%s\".\"%s\" threshold", path, i, metric, rule_kinds[k], lv[l]); return SQ_EINPUT; }
		}
		json_t *f = json_object_get(t, "fail"), *w = json_object_get(t, "warn");
		if (k < 2 && f && w && (k == 0 ? json_number_value(w) < json_number_value(f) : json_number_value(w) > json_number_value(f))) {
			sq_log_error("%s: rule %zu (%s): \"%s\" warn threshold %g is beyond the fail threshold %g (it could never warn)",
			             path, i, metric, rule_kinds[k], json_number_value(w), json_number_value(f));
			return SQ_EINPUT;
		}
	}
	if (kinds != 1) { sq_log_error("%s: rule %zu (%s): exactly one of min/max/range/in/equals", path, i, metric); return SQ_EINPUT; }
	return 0;
}

sq_qc_profile_t *sq_qc_profile_load(const char *path)
{
	sq_qc_profile_t *p = sq_calloc(1, sizeof *p);
	if (!p) return 0;
	if (!sq_file_readable(path)) { sq_log_error("cannot read QC profile '%s'", path); goto fail; }
	p->j = sq_json_load(path);
	if (!p->j) goto fail;
	p->path = sq_strdup(path);
	if (!p->path || sq_sha256_file(path, p->sha256) < 0) goto fail;
	if (!json_is_object(p->j) || !sq_json_str(p->j, "profile_id", 0) || !sq_json_str(p->j, "version", 0)
	    || !sq_json_str(p->j, "indication", 0)) {
		sq_log_error("%s: a QC profile needs \"profile_id\", \"version\" and \"indication\"", path);
		goto fail;
	}
	json_t *rules = json_object_get(p->j, "rules");
	if (!json_is_array(rules) || json_array_size(rules) == 0) { sq_log_error("%s: \"rules\" must be a non-empty array", path); goto fail; }
	size_t i;
	json_t *r;
	json_array_foreach(rules, i, r)
		if (!json_is_object(r) || rule_check(path, i, r) < 0) goto fail;
	return p;
fail:
	sq_qc_profile_destroy(p);
	return 0;
}

sq_qc_profile_t *sq_qc_profile_for_indication(const char *dir, const char *code)
{
	/* beside the binary: the build tree (seqa next to qc/) and an installed PREFIX/bin/seqa */
	char exe[2048] = "", near[2][2200] = { "", "" };
	ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (len > 0) {
		exe[len] = 0;
		char *sl = strrchr(exe, '/');
		if (sl) {
			*sl = 0;
			snprintf(near[0], sizeof near[0], "%s/qc/profiles", exe);
			snprintf(near[1], sizeof near[1], "%s/../share/seqa/qc/profiles", exe);
		}
	}
	const char *dirs[7] = { dir, getenv("SEQA_QC_PROFILES"), "qc/profiles", near[0], near[1],
	                        "/usr/local/share/seqa/qc/profiles", "/usr/share/seqa/qc/profiles" };
	char up[64], path[4096];
	size_t n = 0;
	if (!code) { sq_log_error("no clinical indication given"); return 0; }
	for (const char *c = code; *c && n + 1 < sizeof up; ++c) {
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_') { sq_log_error("invalid indication code '%s'", code); return 0; }
		up[n++] = (char)toupper((unsigned char)*c);
	}
	up[n] = 0;
	for (int k = 0; k < 7; ++k) {
		if (!dirs[k] || !*dirs[k]) continue;
		snprintf(path, sizeof path, "%s/%s.json", dirs[k], up);
		if (sq_file_readable(path)) {
			sq_qc_profile_t *p = sq_qc_profile_load(path);
			if (p && strcasecmp(sq_json_str(p->j, "indication", ""), up) != 0) {
				sq_log_error("%s: profile is for indication '%s', not '%s'", path, sq_json_str(p->j, "indication", ""), up);
				sq_qc_profile_destroy(p);
				return 0;
			}
			return p;
		}
		if (k == 0 && dir) break;   /* an explicit folder is the only place looked at */
	}
	sq_log_error("no QC profile for indication '%s' (looked for %s.json in %s)", code, up, dir ? dir : "$SEQA_QC_PROFILES, qc/profiles, /usr/local/share/seqa/qc/profiles");
	return 0;
}

const char *sq_qc_profile_id(const sq_qc_profile_t *p) { return sq_json_str(p->j, "profile_id", ""); }
const char *sq_qc_profile_version(const sq_qc_profile_t *p) { return sq_json_str(p->j, "version", ""); }
const json_t *sq_qc_profile_json(const sq_qc_profile_t *p) { return p->j; }

void sq_qc_profile_destroy(sq_qc_profile_t *p)
{
	if (!p) return;
	json_decref(p->j);
	free(p->path);
	free(p);
}

/* ---- evaluation ---------------------------------------------------------------------- */

static char *fmt_value(const json_t *v)
{
	if (json_is_integer(v)) return json_dumps(v, JSON_ENCODE_ANY);
	if (json_is_real(v)) {
		char b[64];
		snprintf(b, sizeof b, "%.4g", json_real_value(v));
		return strdup(b);
	}
	if (json_is_string(v)) return strdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY);
}

static int value_eq(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b)) return json_number_value(a) == json_number_value(b);
	return json_equal((json_t *)a, (json_t *)b);
}

static int in_list(const json_t *v, const json_t *list)
{
	size_t i;
	json_t *e;
	json_array_foreach(list, i, e) if (value_eq(v, e)) return 1;
	return 0;
}

/* Status of value against one level's threshold (1 = violates). */
static int violates(const char *kind, const json_t *v, const json_t *th)
{
	if (!th) return 0;
	if (!strcmp(kind, "min") || !strcmp(kind, "max") || !strcmp(kind, "range")) {
		if (!json_is_number(v)) return 1;
		double x = json_number_value(v);
		if (!strcmp(kind, "min")) return x < json_number_value(th);
		if (!strcmp(kind, "max")) return x > json_number_value(th);
		return x < json_number_value(json_array_get(th, 0)) || x > json_number_value(json_array_get(th, 1));
	}
	if (!strcmp(kind, "in")) return !in_list(v, th);
	return !value_eq(v, th);
}

static char *fmt_threshold(const char *kind, const json_t *th)
{
	char *t = fmt_value(th), *s = 0;
	if (!t) return 0;
	if (!strcmp(kind, "min")) { if (asprintf(&s, "< %s", t) < 0) s = 0; }
	else if (!strcmp(kind, "max")) { if (asprintf(&s, "> %s", t) < 0) s = 0; }
	else if (!strcmp(kind, "range")) {
		char *lo = fmt_value(json_array_get(th, 0)), *hi = fmt_value(json_array_get(th, 1));
		if (!lo || !hi || asprintf(&s, "outside [%s, %s]", lo, hi) < 0) s = 0;   /* out of memory */
		free(lo); free(hi);
	} else if (!strcmp(kind, "in")) { if (asprintf(&s, "not in %s", t) < 0) s = 0; }
	else if (asprintf(&s, "!= %s", t) < 0) s = 0;
	free(t);
	return s;
}

json_t *sq_qc_gate_eval(const sq_qc_profile_t *p, const json_t *result)
{
	json_t *g = json_object(), *checks = json_array(), *reasons = json_array(), *evald = json_array();
	json_t *stages = json_object_get(result, "stages");
	json_t *rules = json_object_get(p->j, "rules"), *r;
	size_t i;
	int worst = SQ_QC_PASS, complete = 1, soom = 0;   /* soom: a reason text could not be made */
	sq_qc_oom_reset();
	if (!g || !checks || !reasons || !evald) {
		sq_log_error("out of memory evaluating the gate");
		json_decref(g); json_decref(checks); json_decref(reasons); json_decref(evald);
		return 0;
	}

	const char *stn[3] = { "fastq", "alignment", "vcf" };
	for (int k = 0; k < 3; ++k) if (json_object_get(stages, stn[k])) json_array_append_new(evald, json_string(stn[k]));
	json_t *req = json_object_get(p->j, "required_stages");
	json_t *e;
	json_array_foreach(req, i, e)
		if (json_is_string(e) && !json_object_get(stages, json_string_value(e))) complete = 0;

	json_array_foreach(rules, i, r) {
		const char *metric = sq_json_str(r, "metric", ""), *stage = sq_json_str(r, "stage", "");
		const char *kind = 0;
		json_t *thr = 0;
		for (int k = 0; rule_kinds[k]; ++k) if ((thr = json_object_get(r, rule_kinds[k]))) { kind = rule_kinds[k]; break; }
		json_t *st = json_object_get(stages, stage);
		json_t *mv = json_object_get(json_object_get(json_object_get(st, "metrics"), metric), "value");
		int s = SQ_QC_PASS;
		char *reason = 0, *vs = 0, *ts = 0;
		if (!st) { s = SQ_QC_NA; if (asprintf(&reason, "%s: stage %s not run", metric, stage) < 0) reason = 0, soom = 1; }
		else if (!mv) {
			s = strcmp(sq_json_str(r, "missing", "warn"), "fail") == 0 ? SQ_QC_FAIL : SQ_QC_WARN;
			if (asprintf(&reason, "%s not measured (%s)", metric, s == SQ_QC_FAIL ? "fail" : "warn") < 0) reason = 0, soom = 1;
		} else {
			const char *lvl = 0;
			json_t *t = 0;
			if (violates(kind, mv, (t = json_object_get(thr, "fail")))) s = SQ_QC_FAIL, lvl = "fail";
			else if (violates(kind, mv, (t = json_object_get(thr, "warn")))) s = SQ_QC_WARN, lvl = "warn";
			if (lvl) {
				const char *unit = sq_json_str(json_object_get(json_object_get(st, "metrics"), metric), "unit", "");
				vs = fmt_value(mv);
				ts = fmt_threshold(kind, t);
				if (!vs || !ts) soom = 1;   /* a value or threshold text lost to a failed allocation */
				if (asprintf(&reason, "%s = %s%s%s %s (%s)", metric, vs ? vs : "?", *unit ? " " : "", unit, ts ? ts : "?", lvl) < 0) reason = 0, soom = 1;
			}
		}
		json_t *c = json_pack("{s:s,s:s,s:O?,s:s,s:O?,s:O?,s:s,s:s?}", "metric", metric, "stage", stage,
			"value", mv, "rule", kind ? kind : "", "fail", json_object_get(thr, "fail"), "warn", json_object_get(thr, "warn"),
			"status", sq_qc_status_name(s), "reason", reason);
		if (json_object_get(r, "rationale")) json_object_set(c, "rationale", json_object_get(r, "rationale"));
		json_array_append_new(checks, c);
		if (reason && (s == SQ_QC_FAIL || s == SQ_QC_WARN)) json_array_append_new(reasons, json_string(reason));
		if (s != SQ_QC_NA && s > worst) worst = s;
		free(reason); free(vs); free(ts);
	}
	/* FAIL reasons first */
	json_t *sorted = json_array();
	for (int pass = 0; pass < 2; ++pass) {
		json_array_foreach(reasons, i, e) {
			int is_fail = strstr(json_string_value(e), "(fail)") != 0;
			if (is_fail == !pass) json_array_append(sorted, e);
		}
	}
	json_decref(reasons);

	json_object_set_new(g, "status", json_string(sq_qc_status_name(worst)));
	json_object_set_new(g, "profile_id", json_string(sq_qc_profile_id(p)));
	json_object_set_new(g, "profile_version", json_string(sq_qc_profile_version(p)));
	json_object_set_new(g, "profile_sha256", json_string(p->sha256));
	json_object_set_new(g, "indication", json_string(sq_json_str(p->j, "indication", "")));
	json_object_set_new(g, "reasons", sorted);
	json_object_set_new(g, "checks", checks);
	json_object_set_new(g, "stages_evaluated", evald);
	json_object_set_new(g, "complete", json_boolean(complete));
	json_object_set_new(g, "override", json_null());
	json_object_set_new(g, "deliverable", json_boolean(sq_qc_gate_deliverable(g)));
	if (soom) sq_log_error("out of memory evaluating the gate");
	if (sq_qc_oom_check("gate") < 0 || soom) { json_decref(g); return 0; }
	return g;
}

int sq_qc_gate_status(const json_t *gate)
{
	const char *s = sq_json_str(gate, "status", "");
	if (!strcmp(s, "PASS")) return SQ_QC_PASS;
	if (!strcmp(s, "WARN")) return SQ_QC_WARN;
	return SQ_QC_FAIL;
}

int sq_qc_gate_deliverable(const json_t *gate)
{
	if (!json_is_object(gate) || !json_is_true(json_object_get(gate, "complete"))) return 0;
	int st = sq_qc_gate_status(gate);
	if (st == SQ_QC_PASS || st == SQ_QC_WARN) return 1;
	json_t *ov = json_object_get(gate, "override");
	return json_is_object(ov) && *sq_json_str(ov, "by", "") && *sq_json_str(ov, "reason", "") && *sq_json_str(ov, "at", "");
}

int sq_qc_gate_override(json_t *gate, const char *who, const char *why, const char *when)
{
	char now[32];
	if (!json_is_object(gate)) { sq_log_error("no gate to override"); return SQ_EINVAL; }
	if (!who || !*who || !why || !*why) { sq_log_error("an override needs who (--override-by) and why (--override-reason)"); return SQ_EINVAL; }
	if (!when || !*when) { sq_qc_now_iso(now); when = now; }
	json_t *ov = json_pack("{s:s,s:s,s:s,s:s}", "by", who, "at", when, "reason", why,
		"status_overridden", sq_json_str(gate, "status", ""));
	if (!ov || json_object_set_new(gate, "override", ov) < 0) { sq_log_error("out of memory recording the override"); return SQ_ENOMEM; }
	json_object_set_new(gate, "deliverable", json_boolean(sq_qc_gate_deliverable(gate)));
	return 0;
}

int sq_qc_gate_check_file(const char *path, int *status, int *deliverable, char **reasons)
{
	json_t *j;
	*status = SQ_QC_FAIL;
	*deliverable = 0;
	if (reasons) *reasons = 0;
	if (!sq_file_readable(path)) { sq_log_error("cannot read QC result '%s'", path); return SQ_EIO; }
	if (!(j = sq_json_load(path))) return SQ_EINPUT;
	json_t *g = json_object_get(j, "gate");
	if (!json_is_object(g)) { sq_log_error("%s: no \"gate\" in the QC result", path); json_decref(j); return SQ_EINPUT; }
	*status = sq_qc_gate_status(g);
	*deliverable = sq_qc_gate_deliverable(g);
	if (reasons) {
		size_t i, n = 1;
		json_t *e, *rs = json_object_get(g, "reasons");
		json_array_foreach(rs, i, e) n += strlen(json_string_value(e)) + 2;
		*reasons = calloc(n, 1);
		if (*reasons) json_array_foreach(rs, i, e) {
			if (i) strcat(*reasons, "; ");
			strcat(*reasons, json_string_value(e));
		}
	}
	json_decref(j);
	return 0;
}
