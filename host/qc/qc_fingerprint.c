/* seqa — SNP fingerprint comparison (sample swap detection).
 *
 * A fingerprint is the genotype (0/0, 0/1, 1/1 or ./.) at each site of a fixed panel, called in
 * the alignment pass (depth >= 8; alt fraction < 0.15 hom-ref, 0.25..0.75 het, > 0.85 hom-alt).
 * Two fingerprints are compared at the sites genotyped in both:
 *   concordance = identical genotypes / sites compared
 *   LOD         = log10 P(data | same sample) / P(data | unrelated samples), taking a genotype
 *                 error of 1 % and, for unrelated samples, equal genotype frequencies (1/3)
 * Verdict: MATCH when >= 20 sites compared, concordance >= 0.9 and LOD > 3; MISMATCH when >= 20
 * sites compared and concordance < 0.7 (or LOD < -3); INCONCLUSIVE otherwise.
 */
#include <math.h>
#include <string.h>
#include "seqa/qc.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "qc_internal.h"

static const json_t *fp_sites(const json_t *j)
{
	const json_t *s = json_object_get(j, "sites");
	if (json_is_array(s)) return s;
	const json_t *f = json_object_get(j, "fingerprint");
	if (!f) f = json_object_get(json_object_get(json_object_get(j, "stages"), "alignment"), "fingerprint");
	s = json_object_get(f, "sites");
	return json_is_array(s) ? s : 0;
}

int sq_qc_fingerprint_compare(const json_t *a, const json_t *b, json_t **out)
{
	const json_t *sa = fp_sites(a), *sb = fp_sites(b);
	*out = 0;
	if (!sa || !sb) { sq_log_error("no fingerprint (\"sites\") in %s", !sa ? "the first input" : "the second input"); return SQ_EINPUT; }
	json_t *idx = json_object();
	size_t i;
	json_t *e;
	char key[1200];
	json_array_foreach(sb, i, e) {
		snprintf(key, sizeof key, "%s:%lld:%s", sq_json_str(e, "contig", ""), (long long)sq_json_int(e, "pos", 0), sq_json_str(e, "alt", ""));
		json_object_set(idx, key, e);
	}
	int64_t n = 0, disc = 0, panel = json_array_size(sa);
	json_t *ex = json_array();
	json_array_foreach(sa, i, e) {
		const char *ga = sq_json_str(e, "gt", "./.");
		snprintf(key, sizeof key, "%s:%lld:%s", sq_json_str(e, "contig", ""), (long long)sq_json_int(e, "pos", 0), sq_json_str(e, "alt", ""));
		json_t *f = json_object_get(idx, key);
		const char *gb = f ? sq_json_str(f, "gt", "./.") : "./.";
		if (!strcmp(ga, "./.") || !strcmp(gb, "./.")) continue;
		++n;
		if (strcmp(ga, gb)) {
			++disc;
			if (json_array_size(ex) < 10) json_array_append_new(ex, json_sprintf("%s %s vs %s", key, ga, gb));
		}
	}
	json_decref(idx);
	const double err = 0.01;
	double lod = (n - disc) * log10((1 - err) / (1.0 / 3)) + disc * log10(err / (2.0 / 3));
	double conc = n ? (double)(n - disc) / n : 0;
	const char *verdict = "INCONCLUSIVE";
	if (n >= 20 && conc >= 0.9 && lod > 3) verdict = "MATCH";
	else if (n >= 20 && (conc < 0.7 || lod < -3)) verdict = "MISMATCH";
	*out = json_pack("{s:I,s:I,s:I,s:f,s:f,s:s,s:o}", "panel_sites", (json_int_t)panel, "n_sites_compared", (json_int_t)n,
		"n_discordant", (json_int_t)disc, "concordance", sq_qc_round(conc, 4), "lod", sq_qc_round(lod, 2), "verdict", verdict,
		"discordant_examples", ex);
	return *out ? 0 : SQ_ENOMEM;
}
