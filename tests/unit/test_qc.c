/* seqa — unit tests of host/qc: sex rule, contamination model on synthetic sites, gates and
 * overrides, the 14 launch profiles, fingerprint comparison, FASTQ metrics, the HTML report. */
#include <math.h>
#include <stdint.h>
#include <zlib.h>
#include "harness.h"
#include "seqa/ingest.h"
#include "seqa/json.h"
#include "seqa/qc.h"
#include "seqa/util.h"

/* ---- helpers ------------------------------------------------------------------------- */

static uint64_t rng_s = 88172645463325252ULL;
static uint64_t rng(void) { rng_s ^= rng_s << 13; rng_s ^= rng_s >> 7; rng_s ^= rng_s << 17; return rng_s; }
static double unif(void) { return (rng() >> 11) * (1.0 / 9007199254740992.0); }

static json_t *metric(json_t *v, const char *unit)
{
	return json_pack("{s:o,s:s,s:b}", "value", v, "unit", unit, "ga4gh", 0);
}

/* A result with an alignment and a vcf stage holding a few metrics. */
static json_t *make_result(double depth, const char *sexconc, double titv, int sorted)
{
	json_t *al = json_pack("{s:{s:o,s:o,s:o}}", "metrics",
		"mean_autosome_coverage", metric(json_real(depth), "x"),
		"sex_concordance", metric(json_string(sexconc), ""),
		"pct_reads_mapped", metric(json_real(99.5), "%"));
	json_t *vc = json_pack("{s:{s:o,s:o}}", "metrics", "ratio_ti_tv", metric(json_real(titv), "ratio"),
		"sorted", metric(json_boolean(sorted), ""));
	return json_pack("{s:s,s:{s:o,s:o}}", "sample", "S1", "stages", "alignment", al, "vcf", vc);
}

static const char *write_profile(const char *dir, const char *name, const char *text)
{
	static char path[4][1024];
	static int k;
	char *p = path[k++ & 3];
	snprintf(p, 1024, "%s/%s", dir, name);
	FILE *fp = fopen(p, "w");
	SQ_REQUIRE(fp != NULL);
	fputs(text, fp);
	fclose(fp);
	return p;
}

static const char *PROFILE =
	"{ \"profile_id\": \"SQ-QC-TEST\", \"version\": \"2.1.0\", \"indication\": \"RD-BONE\",\n"
	"  \"required_stages\": [\"alignment\", \"vcf\"],\n"
	"  \"rules\": [\n"
	"   {\"metric\": \"mean_autosome_coverage\", \"stage\": \"alignment\", \"min\": {\"fail\": 25, \"warn\": 30}},\n"
	"   {\"metric\": \"pct_reads_mapped\", \"stage\": \"alignment\", \"min\": {\"fail\": 95}},\n"
	"   {\"metric\": \"cross_contamination_rate\", \"stage\": \"alignment\", \"max\": {\"fail\": 0.03}},\n"
	"   {\"metric\": \"sex_concordance\", \"stage\": \"alignment\", \"in\": {\"fail\": [\"concordant\", \"not_declared\"], \"warn\": [\"concordant\"]}},\n"
	"   {\"metric\": \"ratio_ti_tv\", \"stage\": \"vcf\", \"range\": {\"fail\": [1.8, 2.3], \"warn\": [1.95, 2.15]}},\n"
	"   {\"metric\": \"sorted\", \"stage\": \"vcf\", \"equals\": {\"fail\": true}},\n"
	"   {\"metric\": \"pct_q30_bases\", \"stage\": \"fastq\", \"min\": {\"fail\": 75}}\n"
	"  ] }\n";

static const json_t *check_of(const json_t *gate, const char *metric)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(gate, "checks"), i, c)
		if (!strcmp(sq_json_str(c, "metric", ""), metric)) return c;
	return NULL;
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_sex_rule(void)
{
	SQ_CHECK(sq_qc_infer_sex(30, 30, 0) == SQ_SEX_FEMALE);
	SQ_CHECK(sq_qc_infer_sex(30, 29, 0.5) == SQ_SEX_FEMALE);      /* a few mismapped Y reads */
	SQ_CHECK(sq_qc_infer_sex(30, 15, 15) == SQ_SEX_MALE);
	SQ_CHECK(sq_qc_infer_sex(30, 16, 4) == SQ_SEX_MALE);           /* poorly mappable Y */
	SQ_CHECK(sq_qc_infer_sex(30, 30, 2) == SQ_SEX_UNKNOWN);       /* between the bounds */
	SQ_CHECK(sq_qc_infer_sex(30, 15, 0) == SQ_SEX_UNKNOWN);       /* X0 */
	SQ_CHECK(sq_qc_infer_sex(30, 30, 15) == SQ_SEX_UNKNOWN);      /* XXY */
	SQ_CHECK(sq_qc_infer_sex(0, 0, 0) == SQ_SEX_UNKNOWN);
}

/* Sites drawn from the model's own generative story with a known contamination. */
static void test_contamination_synthetic(void)
{
	const double alphas[] = { 0, 0.02, 0.05, 0.10, 0.20 };
	const double err = 0.002;
	sq_qc_site_t *s = malloc(4000 * sizeof *s);
	SQ_REQUIRE(s != NULL);
	for (int t = 0; t < 5; ++t) {
		int64_t n = 0;
		rng_s = 12345 + t;
		while (n < 3000) {
			int d = 18 + (int)(unif() * 25);
			double g = unif() < 0.6 ? 0.5 : 1.0;
			double f = (1 - alphas[t]) * g;                 /* contaminant carries the reference */
			double p = f * (1 - err) + (1 - f) * err / 3;
			int a = 0;
			for (int i = 0; i < d; ++i) a += unif() < p;
			if ((double)a / d < 0.25) continue;             /* the selection the BAM pass applies */
			s[n++] = (sq_qc_site_t){ (uint16_t)d, (uint16_t)a };
		}
		double est = -1, llr = 0;
		SQ_CHECK(sq_qc_contamination(s, n, err, 0.25, &est, &llr) == 0);
		SQ_CHECKF(fabs(est - alphas[t]) <= 0.01, "alpha %.3f estimated %.4f", alphas[t], est);
		if (alphas[t] > 0) SQ_CHECKF(llr > 10, "alpha %.3f: log-likelihood ratio %.2f", alphas[t], llr);
	}
	double est;
	SQ_CHECK(sq_qc_contamination(s, 5, err, 0.25, &est, NULL) == SQ_EINPUT);   /* too few sites */
	free(s);
}

/* Population panel (FREEMIX-style): genotypes of the sample and of the contaminant drawn from
 * Hardy-Weinberg at each site's frequency, reads from their mixture. */
static void test_contamination_panel(void)
{
	const double alphas[] = { 0, 0.02, 0.05, 0.10 };
	const double err = 0.002;
	const int n = 5000;
	sq_qc_afsite_t *s = malloc(n * sizeof *s);
	SQ_REQUIRE(s != NULL);
	for (int t = 0; t < 4; ++t) {
		rng_s = 777 + t;
		for (int i = 0; i < n; ++i) {
			double p = 0.02 + 0.9 * unif();
			int g = (unif() < p) + (unif() < p), h = (unif() < p) + (unif() < p);
			double f = (1 - alphas[t]) * g / 2.0 + alphas[t] * h / 2.0;
			double q = f * (1 - err) + (1 - f) * err / 3;
			int d = 15 + (int)(unif() * 25), a = 0;
			for (int k = 0; k < d; ++k) a += unif() < q;
			s[i] = (sq_qc_afsite_t){ d - a, a, (float)p };
		}
		double est = -1, llr = 0;
		SQ_CHECK(sq_qc_contamination_af(s, n, err, &est, &llr) == 0);
		SQ_CHECKF(fabs(est - alphas[t]) <= 0.01, "alpha %.3f estimated %.4f", alphas[t], est);
	}
	double est;
	SQ_CHECK(sq_qc_contamination_af(s, 50, err, &est, NULL) == SQ_EINPUT);
	free(s);
}

static void test_gate_levels(void)
{
	const char *d = sq_test_tmpdir();
	sq_qc_profile_t *p = sq_qc_profile_load(write_profile(d, "p.json", PROFILE));
	SQ_REQUIRE(p != NULL);
	SQ_CHECK(!strcmp(sq_qc_profile_id(p), "SQ-QC-TEST") && !strcmp(sq_qc_profile_version(p), "2.1.0"));

	/* PASS */
	json_t *r = make_result(33.0, "concordant", 2.05, 1), *g = sq_qc_gate_eval(p, r);
	SQ_REQUIRE(g != NULL);
	SQ_CHECKF(sq_qc_gate_status(g) == SQ_QC_WARN, "status %s", sq_json_str(g, "status", ""));  /* contamination not measured */
	SQ_CHECK(!strcmp(sq_json_str(check_of(g, "cross_contamination_rate"), "status", ""), "WARN"));
	SQ_CHECK(!strcmp(sq_json_str(check_of(g, "pct_q30_bases"), "status", ""), "NA"));          /* fastq stage not run */
	SQ_CHECK(json_is_true(json_object_get(g, "complete")) && sq_qc_gate_deliverable(g));
	SQ_CHECK(!strcmp(sq_json_str(g, "profile_id", ""), "SQ-QC-TEST") && strlen(sq_json_str(g, "profile_sha256", "")) == 64);
	json_decref(g); json_decref(r);

	/* WARN on depth: the reason names metric, value, unit, threshold and level */
	r = make_result(27.5, "concordant", 2.05, 1);
	json_object_set_new(json_object_get(json_object_get(json_object_get(r, "stages"), "alignment"), "metrics"),
	                    "cross_contamination_rate", metric(json_real(0.001), "fraction"));
	g = sq_qc_gate_eval(p, r);
	SQ_CHECK(sq_qc_gate_status(g) == SQ_QC_WARN);
	SQ_CHECKF(!strcmp(sq_json_str(check_of(g, "mean_autosome_coverage"), "reason", ""), "mean_autosome_coverage = 27.5 x < 30 (warn)"),
	          "reason '%s'", sq_json_str(check_of(g, "mean_autosome_coverage"), "reason", ""));
	SQ_CHECK(sq_qc_gate_deliverable(g));
	json_decref(g); json_decref(r);

	/* FAIL: depth, sex, Ti/Tv and sortedness; FAIL reasons listed first; not deliverable */
	r = make_result(12.0, "discordant", 1.2, 0);
	g = sq_qc_gate_eval(p, r);
	SQ_CHECK(sq_qc_gate_status(g) == SQ_QC_FAIL);
	SQ_CHECK(!sq_qc_gate_deliverable(g));
	SQ_CHECK(!json_is_true(json_object_get(g, "deliverable")));
	json_t *rs = json_object_get(g, "reasons");
	SQ_CHECKF(json_array_size(rs) == 5, "%zu reasons", json_array_size(rs));
	SQ_CHECK(!strcmp(json_string_value(json_array_get(rs, 0)), "mean_autosome_coverage = 12 x < 25 (fail)"));
	SQ_CHECK(!strcmp(json_string_value(json_array_get(rs, 1)), "sex_concordance = discordant not in [\"concordant\", \"not_declared\"] (fail)"));
	SQ_CHECK(strstr(json_string_value(json_array_get(rs, 2)), "ratio_ti_tv = 1.2 ratio outside [1.8, 2.3] (fail)") != NULL);
	SQ_CHECK(strstr(json_string_value(json_array_get(rs, 3)), "sorted = false") != NULL);
	SQ_CHECK(strstr(json_string_value(json_array_get(rs, 4)), "(warn)") != NULL);
	SQ_CHECK(json_number_value(json_object_get(check_of(g, "mean_autosome_coverage"), "fail")) == 25);

	/* override: needs who and why; keeps FAIL, makes it deliverable, records when */
	SQ_CHECK(sq_qc_gate_override(g, "", "because", NULL) == SQ_EINVAL);
	SQ_CHECK(sq_qc_gate_override(g, "tech.a", NULL, NULL) == SQ_EINVAL);
	SQ_CHECK(!sq_qc_gate_deliverable(g));
	SQ_CHECK(sq_qc_gate_override(g, "tech.a", "sample exhausted; clinician informed", NULL) == 0);
	SQ_CHECK(sq_qc_gate_status(g) == SQ_QC_FAIL && sq_qc_gate_deliverable(g));
	json_t *ov = json_object_get(g, "override");
	SQ_CHECK(!strcmp(sq_json_str(ov, "by", ""), "tech.a") && strlen(sq_json_str(ov, "at", "")) == 20
	         && !strcmp(sq_json_str(ov, "status_overridden", ""), "FAIL"));

	/* the file interface the delivery side uses */
	char path[1024];
	snprintf(path, sizeof path, "%s/qc.json", d);
	json_object_set(r, "gate", g);
	SQ_REQUIRE(sq_json_save(r, path) == 0);
	int st = -1, del = -1;
	char *why = NULL;
	SQ_CHECK(sq_qc_gate_check_file(path, &st, &del, &why) == 0);
	SQ_CHECK(st == SQ_QC_FAIL && del == 1 && why && strstr(why, "mean_autosome_coverage = 12 x < 25 (fail); sex_concordance"));
	free(why);
	json_object_set_new(g, "override", json_null());
	SQ_REQUIRE(sq_json_save(r, path) == 0);
	SQ_CHECK(sq_qc_gate_check_file(path, &st, &del, NULL) == 0 && st == SQ_QC_FAIL && del == 0);
	SQ_CHECK(sq_qc_gate_check_file("tests/out/no/such/qc.json", &st, &del, NULL) == SQ_EIO && del == 0);
	json_decref(g); json_decref(r);

	/* incomplete (no VCF stage): PASSing checks but not deliverable */
	r = make_result(35, "concordant", 2.05, 1);
	json_object_del(json_object_get(r, "stages"), "vcf");
	g = sq_qc_gate_eval(p, r);
	SQ_CHECK(!json_is_true(json_object_get(g, "complete")) && !sq_qc_gate_deliverable(g));
	json_decref(g); json_decref(r);
	sq_qc_profile_destroy(p);
}

static void test_profile_validation(void)
{
	const char *d = sq_test_tmpdir();
	const char *bad[] = {
		"{\"version\": \"1\", \"indication\": \"RD-BONE\", \"rules\": [{\"metric\": \"x\", \"stage\": \"vcf\", \"min\": {\"fail\": 1}}]}",
		"{\"profile_id\": \"P\", \"version\": \"1\", \"indication\": \"RD-BONE\", \"rules\": []}",
		"{\"profile_id\": \"P\", \"version\": \"1\", \"indication\": \"RD-BONE\", \"rules\": [{\"metric\": \"x\", \"stage\": \"bam\", \"min\": {\"fail\": 1}}]}",
		"{\"profile_id\": \"P\", \"version\": \"1\", \"indication\": \"RD-BONE\", \"rules\": [{\"metric\": \"x\", \"stage\": \"vcf\", \"min\": {\"fail\": 1}, \"max\": {\"fail\": 2}}]}",
		"{\"profile_id\": \"P\", \"version\": \"1\", \"indication\": \"RD-BONE\", \"rules\": [{\"metric\": \"x\", \"stage\": \"vcf\", \"min\": {\"fail\": \"high\"}}]}",
		"{\"profile_id\": \"P\", \"version\": \"1\", \"indication\": \"RD-BONE\", \"rules\": [{\"metric\": \"x\", \"stage\": \"vcf\", \"range\": {\"fail\": [1]}}]}",
		"{\"profile_id\": \"P\", \"version\": \"1\", \"indication\": \"RD-BONE\", \"rules\": [{\"metric\": \"x\", \"stage\": \"vcf\", \"min\": {}}]}",
		"{\"profile_id\": \"P\", \"version\": \"1\", \"indication\": \"RD-BONE\", \"rules\": [{\"metric\": \"x\", \"stage\": \"vcf\", \"min\": {\"fail\": 30, \"warn\": 25}}]}",
		"{\"profile_id\": \"P\", \"version\": \"1\", \"indication\": \"RD-BONE\", \"rules\": [{\"metric\": \"x\", \"stage\": \"vcf\", \"max\": {\"fail\": 0.02, \"warn\": 0.03}}]}",
		"{ not json",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; ++i) {
		sq_qc_profile_t *p = sq_qc_profile_load(write_profile(d, "bad.json", bad[i]));
		SQ_CHECKF(p == NULL, "bad profile %zu accepted", i);
		sq_qc_profile_destroy(p);
	}
	SQ_CHECK(sq_qc_profile_load("tests/out/none.json") == NULL);
	/* a profile file named for one indication but written for another is refused */
	write_profile(d, "RD-MITO.json", PROFILE);
	SQ_CHECK(sq_qc_profile_for_indication(d, "RD-MITO") == NULL);
	SQ_CHECK(sq_qc_profile_for_indication(d, "../etc/passwd") == NULL);
}

/* Every indication the ingest table accepts (the 14 launch ones and those added later) has a
 * valid profile whose rules name metrics the stages really produce: a sample of an accepted
 * indication must never end up with no gate. */
static void test_launch_profiles(void)
{
	int n = 0, launch = 0, checked = 0;
	const sq_indication_t *t = sq_indication_table(&n);
	char ids[32][64];
	/* metric names produced by the three stages (from real runs below) */
	json_t *names = json_object();
	const char *fa = sq_test_shared("tiny_chr22/q.fa"), *bam = sq_test_shared("tiny_chr22/NA12878.chr22.tiny.bam");
	if (!fa || !bam) SQ_SKIP("../shared/data/tiny_chr22 absent");
	sq_qc_opt_t o;
	sq_qc_opt_init(&o);
	o.reference = fa;
	json_t *st = NULL;
	SQ_REQUIRE(sq_qc_bam(bam, &o, &st) == 0);
	json_object_update(names, json_object_get(st, "metrics"));
	json_decref(st);
	const char *d = sq_test_tmpdir();
	char fq[1024], vcf[1024];
	snprintf(fq, sizeof fq, "%s/r.fq", d);
	FILE *fp = fopen(fq, "w");
	fputs("@a\nACGTN\n+\nIII#I\n", fp);
	fclose(fp);
	SQ_REQUIRE(sq_qc_fastq(fq, NULL, &o, &st) == 0);
	json_object_update(names, json_object_get(st, "metrics"));
	json_decref(st);
	snprintf(vcf, sizeof vcf, "%s/v.vcf", d);
	fp = fopen(vcf, "w");
	fputs("##fileformat=VCFv4.2\n##contig=<ID=q,length=12356>\n##FORMAT=<ID=GT,Number=1,Type=String,Description=\"GT\">\n"
	      "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\nq\t100\t.\tA\tG\t50\tPASS\t.\tGT\t0/1\n", fp);
	fclose(fp);
	SQ_REQUIRE(sq_qc_vcf(vcf, &o, &st) == 0);
	json_object_update(names, json_object_get(st, "metrics"));
	json_decref(st);
	/* measured only when their input exists: autosomal variant sites, a chrM contig */
	json_object_set_new(names, "cross_contamination_rate", json_true());
	json_object_set_new(names, "mean_mt_coverage", json_true());

	for (int i = 0; i < n; ++i) {
		sq_qc_profile_t *p = sq_qc_profile_for_indication("qc/profiles", t[i].code);
		SQ_CHECKF(p != NULL, "no profile for %s", t[i].code);
		if (!p) continue;
		const json_t *j = sq_qc_profile_json(p);
		SQ_CHECK(!strcmp(sq_json_str(j, "indication", ""), t[i].code));
		SQ_CHECK(*sq_qc_profile_version(p) && strchr(sq_qc_profile_version(p), '.'));
		snprintf(ids[checked], 64, "%s", sq_qc_profile_id(p));
		for (int k = 0; k < checked; ++k) SQ_CHECKF(strcmp(ids[k], ids[checked]), "duplicate profile id %s", ids[k]);
		size_t r;
		json_t *rule;
		json_array_foreach(json_object_get(j, "rules"), r, rule) {
			const char *m = sq_json_str(rule, "metric", "");
			SQ_CHECKF(json_object_get(names, m) != NULL, "%s: rule on '%s', which no stage produces", t[i].code, m);
			SQ_CHECKF(*sq_json_str(rule, "rationale", ""), "%s: rule on '%s' has no rationale", t[i].code, m);
		}
		SQ_CHECK(json_array_size(json_object_get(j, "sources")) > 0);
		sq_qc_profile_destroy(p);
		++checked;
		launch += t[i].launch;
	}
	SQ_CHECKF(launch == 14, "%d launch indications with profiles", launch);
	SQ_CHECKF(checked == n && n <= 32, "%d of %d accepted indications with profiles", checked, n);
	/* lookup is case-insensitive like the indication table */
	sq_qc_profile_t *p = sq_qc_profile_for_indication("qc/profiles", "rd-dsd");
	SQ_CHECK(p && !strcmp(sq_qc_profile_id(p), "SQ-QC-RD-DSD"));
	sq_qc_profile_destroy(p);
	json_decref(names);
}

static json_t *fp_of(const char *gts)
{
	json_t *s = json_array();
	for (int i = 0; gts[i]; ++i) {
		const char *g = gts[i] == '0' ? "0/0" : gts[i] == '1' ? "0/1" : gts[i] == '2' ? "1/1" : "./.";
		json_array_append_new(s, json_pack("{s:s,s:i,s:s,s:s}", "contig", "chr1", "pos", 1000 + i, "alt", "G", "gt", g));
	}
	return json_pack("{s:o}", "sites", s);
}

static void test_fingerprint_compare(void)
{
	char a[81], b[81], c[81];
	rng_s = 7;
	for (int i = 0; i < 80; ++i) {
		a[i] = "012"[rng() % 3];
		c[i] = "012"[rng() % 3];
		b[i] = a[i];
	}
	a[80] = b[80] = c[80] = 0;
	b[3] = '.'; b[10] = b[10] == '1' ? '2' : '1';           /* one no-call, one genotype error */
	json_t *ja = fp_of(a), *jb = fp_of(b), *jc = fp_of(c), *out = NULL;
	SQ_CHECK(sq_qc_fingerprint_compare(ja, jb, &out) == 0);
	SQ_CHECK(!strcmp(sq_json_str(out, "verdict", ""), "MATCH") && sq_json_int(out, "n_sites_compared", 0) == 79
	         && sq_json_int(out, "n_discordant", 0) == 1);
	json_decref(out);
	SQ_CHECK(sq_qc_fingerprint_compare(ja, jc, &out) == 0);
	SQ_CHECKF(!strcmp(sq_json_str(out, "verdict", ""), "MISMATCH"), "verdict %s concordance %.3f",
	          sq_json_str(out, "verdict", ""), sq_json_num(out, "concordance", 0));
	json_decref(out);
	json_t *few = fp_of("0120");
	SQ_CHECK(sq_qc_fingerprint_compare(few, few, &out) == 0 && !strcmp(sq_json_str(out, "verdict", ""), "INCONCLUSIVE"));
	json_decref(out);
	/* a qc.json with the fingerprint in stages.alignment is accepted as well */
	json_t *res = json_pack("{s:{s:{s:O}}}", "stages", "alignment", "fingerprint", ja);
	SQ_CHECK(sq_qc_fingerprint_compare(res, jb, &out) == 0 && !strcmp(sq_json_str(out, "verdict", ""), "MATCH"));
	json_decref(out);
	json_t *none = json_object();
	SQ_CHECK(sq_qc_fingerprint_compare(none, jb, &out) == SQ_EINPUT && out == NULL);
	json_decref(none); json_decref(res); json_decref(few); json_decref(ja); json_decref(jb); json_decref(jc);
}

/* Count bases, G/C, N and Q30 in a FASTQ text buffer (the test's own oracle). */
static void fq_count(const char *b, size_t n, int64_t *gc, int64_t *nn, int64_t *q30)
{
	int line = 0;
	for (size_t i = 0; i < n; ++i) {
		if (b[i] == '\n') { ++line; continue; }
		if (line % 4 == 1) { *gc += b[i] == 'G' || b[i] == 'C'; *nn += b[i] == 'N'; }
		if (line % 4 == 3) *q30 += b[i] - 33 >= 30;
	}
}

/* FASTQ metrics against counts made here from the same records. */
static void test_fastq_metrics(void)
{
	const char *d = sq_test_tmpdir();
	char p1[1024], p2[1024], seq[200], qual[200];
	static char buf[2][128 << 10];
	size_t o[2] = { 0, 0 };
	int64_t bases = 0, q30 = 0, gc = 0, nn = 0, reads = 0, adapt = 0;
	rng_s = 99;
	for (int r = 0; r < 500; ++r)
		for (int m = 0; m < 2; ++m) {
			int len = 50 + (int)(rng() % 101);
			for (int i = 0; i < len; ++i) {
				seq[i] = rng() % 50 == 0 ? 'N' : "ACGT"[rng() % 4];
				qual[i] = (char)(33 + 2 + (int)(rng() % 40));
			}
			if (r % 10 == 0) memcpy(seq + 10, "AGATCGGAAGAGC", 13);   /* TruSeq read-through */
			seq[len] = qual[len] = 0;
			++reads;
			bases += len;
			adapt += strstr(seq, "AGATCGGAAGAG") != NULL;
			o[m] += (size_t)snprintf(buf[m] + o[m], sizeof buf[m] - o[m], "@r%d/%d\n%s\n+\n%s\n", r, m + 1, seq, qual);
		}
	fq_count(buf[0], o[0], &gc, &nn, &q30);
	fq_count(buf[1], o[1], &gc, &nn, &q30);
	snprintf(p1, sizeof p1, "%s/r1.fq", d);
	snprintf(p2, sizeof p2, "%s/r2.fq.gz", d);
	FILE *f1 = fopen(p1, "w");
	SQ_REQUIRE(f1 != NULL && fwrite(buf[0], 1, o[0], f1) == o[0]);
	fclose(f1);
	gzFile gz = gzopen(p2, "wb");                                      /* R2 gzipped */
	SQ_REQUIRE(gz != NULL && gzwrite(gz, buf[1], (unsigned)o[1]) == (int)o[1]);
	gzclose(gz);

	sq_qc_opt_t opt;
	sq_qc_opt_init(&opt);
	json_t *st = NULL;
	SQ_REQUIRE(sq_qc_fastq(p1, p2, &opt, &st) == 0);
	json_t *m = json_object_get(st, "metrics");
#define MV(k) json_object_get(json_object_get(m, k), "value")
	SQ_CHECK(json_integer_value(MV("total_reads")) == reads);
	SQ_CHECK(json_integer_value(MV("total_bases")) == bases);
	SQ_CHECK(json_integer_value(MV("yield_bp_q30")) == q30);
	SQ_CHECK(fabs(json_real_value(MV("pct_q30_bases")) - 100.0 * q30 / bases) < 1e-3);
	SQ_CHECK(fabs(json_real_value(MV("pct_gc")) - 100.0 * gc / bases) < 1e-3);
	SQ_CHECK(fabs(json_real_value(MV("pct_n_bases")) - 100.0 * nn / bases) < 1e-3);
	SQ_CHECKF(fabs(json_real_value(MV("pct_reads_adapter_truseq")) - 100.0 * adapt / reads) < 1e-3, "adapter %.4f vs %.4f",
	          json_real_value(MV("pct_reads_adapter_truseq")), 100.0 * adapt / reads);
	SQ_CHECK(json_array_size(json_object_get(json_object_get(st, "per_cycle_quality"), "r1")) == 150);
	SQ_CHECK(json_real_value(MV("pct_duplication_estimate")) == 0);
#undef MV
	json_decref(st);
	/* duplicates: the same pairs twice -> 50 % */
	f1 = fopen(p1, "a");
	fwrite(buf[0], 1, o[0], f1);
	fclose(f1);
	gz = gzopen(p2, "ab");
	gzwrite(gz, buf[1], (unsigned)o[1]);
	gzclose(gz);
	SQ_REQUIRE(sq_qc_fastq(p1, p2, &opt, &st) == 0);
	SQ_CHECK(fabs(json_real_value(json_object_get(json_object_get(json_object_get(st, "metrics"), "pct_duplication_estimate"), "value")) - 50) < 1e-9);
	json_decref(st);
	/* R1/R2 with different numbers of records, a missing file */
	f1 = fopen(p1, "a");
	fputs("@extra\nACGT\n+\nIIII\n", f1);
	fclose(f1);
	st = NULL;
	SQ_CHECK(sq_qc_fastq(p1, p2, &opt, &st) == SQ_EINPUT && st == NULL);
	SQ_CHECK(sq_qc_fastq("tests/out/nope.fq", NULL, &opt, &st) == SQ_EIO);
}

static void test_html_report(void)
{
	json_t *r = make_result(12.0, "discordant", 1.2, 0);
	json_object_set_new(r, "sample", json_string("<script>alert(1)</script>"));
	json_t *al = json_object_get(json_object_get(r, "stages"), "alignment");
	json_object_set_new(al, "depth_histogram", json_pack("[i,i,i,i,i]", 1, 5, 20, 5, 1));
	json_object_set_new(al, "insert_size_histogram", json_pack("[[i,i],[i,i],[i,i]]", 200, 3, 300, 10, 400, 2));
	json_object_set_new(al, "allele_balance_histogram", json_pack("[i,i,i,i]", 0, 4, 1, 6));
	char *h = sq_qc_html(r);
	SQ_REQUIRE(h != NULL);
	SQ_CHECK(strstr(h, "<script>alert(1)") == NULL && strstr(h, "&lt;script&gt;alert(1)") != NULL);
	const char *ids[] = { "plot-per-cycle-quality", "plot-depth-histogram", "plot-insert-size", "plot-allele-balance" };
	for (int i = 0; i < 4; ++i) {
		char pat[96];
		snprintf(pat, sizeof pat, "<svg id=\"%s\"", ids[i]);
		SQ_CHECKF(strstr(h, pat) != NULL, "no %s", ids[i]);
	}
	SQ_CHECK(strstr(h, "src=\"http") == NULL && strstr(h, "href=\"http") == NULL);
	free(h);
	json_t *mq = sq_qc_multiqc(r);
	SQ_CHECK(!strcmp(sq_json_str(mq, "plot_type", ""), "table"));
	SQ_CHECK(json_object_get(json_object_get(json_object_get(mq, "data"), "<script>alert(1)</script>"), "mean_autosome_coverage") != NULL);
	json_decref(mq);
	const char *d = sq_test_tmpdir();
	SQ_CHECK(sq_qc_write_reports(r, d) == 0);
	char p[1024];
	snprintf(p, sizeof p, "%s/qc.html", d);
	SQ_CHECK(sq_file_readable(p));
	snprintf(p, sizeof p, "%s/<script>alert(1)<_script>.seqa_mqc.json", d);
	SQ_CHECK(sq_file_readable(p));
	snprintf(p, sizeof p, "%s/<script>alert(1)<_script>.seqa_general_mqc.json", d);
	SQ_CHECK(sq_file_readable(p));
	json_decref(r);
}

SQ_TESTS = {
	{ "sex_rule", test_sex_rule },
	{ "contamination_synthetic", test_contamination_synthetic },
	{ "contamination_panel", test_contamination_panel },
	{ "gate_levels_override_file", test_gate_levels },
	{ "profile_validation", test_profile_validation },
	{ "launch_profiles", test_launch_profiles },
	{ "fingerprint_compare", test_fingerprint_compare },
	{ "fastq_metrics", test_fastq_metrics },
	{ "html_report", test_html_report },
	{ 0, 0 }
};
