/* seqa qc — QC metrics per stage, identity checks and the gate of a clinical indication. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "seqa/cli.h"
#include "seqa/durable.h"
#include "seqa/ingest.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/qc.h"
#include "seqa/util.h"
#include "seqa/version.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: seqa qc [options] -o OUTDIR          compute QC, apply the indication's gate\n"
"       seqa qc --compare A B               compare two SNP fingerprints (swap check)\n"
"       seqa qc --override OUTDIR --override-by WHO --override-reason WHY\n"
"\n"
"Inputs (any of; one pass over each):\n"
"  -1, --r1 FILE            FASTQ R1 (gzip or plain)\n"
"  -2, --r2 FILE            FASTQ R2\n"
"  -b, --bam FILE           coordinate-sorted, duplicate-marked BAM/CRAM\n"
"  -V, --vcf FILE           VCF / VCF.gz / BCF (first sample)\n"
"  -r, --reference FA       reference FASTA (+.fai): REF and contig/MD5 checks, contamination\n"
"Sample:\n"
"  -s, --sample ID          sample id (pseudonym) [from the BAM/FASTQ file name]\n"
"  -i, --indication CODE    clinical indication (e.g. RD-BONE); selects qc/profiles/CODE.json\n"
"  -p, --profile FILE       use this profile instead\n"
"      --profiles DIR       folder of profiles [$SEQA_QC_PROFILES, ./qc/profiles]\n"
"  -x, --declared-sex S     female|male|unknown\n"
"Metrics:\n"
"      --target BED         depth metrics over these regions instead of the autosomes\n"
"      --fingerprint-sites F  panel of SNVs (VCF or 'contig pos ref alt'): genotypes stored\n"
"      --contamination-sites F  population SNVs with allele frequencies (VCF INFO/AF or\n"
"                           'contig pos ref alt af'): FREEMIX-style contamination [own sites]\n"
"      --min-mapq N         depth: minimum MAPQ [20]\n"
"      --min-baseq N        depth: minimum base quality [20]\n"
"      --count-overlaps     count both mates where they overlap [once]\n"
"Gate:\n"
"      --override DIR|qc.json  record an override in an existing result and rewrite reports\n"
"      --override-by WHO    technician recording an override of a FAIL\n"
"      --override-reason WHY\n"
"Output:\n"
"  -o, --outdir DIR         writes qc.json, qc.html, SAMPLE.seqa_mqc.json (+ fingerprint.json)\n"
"      --json               also print the result (or the comparison) to stdout\n"
"  -t, --threads N          decompression threads [1]\n"
"  -h, --help               this help\n"
"\n"
"Exit status: 0 PASS/WARN (or FAIL with an override; or a fingerprint MATCH), 7 gate FAIL\n"
"(or fingerprint MISMATCH/INCONCLUSIVE), 2 usage, 3 invalid data, 4 unreadable file, 5 output.\n");
}

static char *sample_from_path(const char *p)
{
	const char *b = strrchr(p, '/');
	char *s = strdup(b ? b + 1 : p);
	if (!s) return 0;
	const char *exts[] = { ".fastq.gz", ".fq.gz", ".fastq", ".fq", ".bam", ".cram", ".vcf.gz", ".vcf", ".bcf", 0 };
	for (int i = 0; exts[i]; ++i) {
		size_t n = strlen(s), e = strlen(exts[i]);
		if (n > e && strcmp(s + n - e, exts[i]) == 0) { s[n - e] = 0; break; }
	}
	size_t n = strlen(s);
	if (n > 3 && (strcmp(s + n - 3, "_R1") == 0 || strcmp(s + n - 3, ".R1") == 0 || strcmp(s + n - 3, "_r1") == 0)) s[n - 3] = 0;
	return s;
}

static json_t *load_result_or_fp(const char *p)
{
	char path[4096];
	struct stat st;
	if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(path, sizeof path, "%s/fingerprint.json", p);
		if (!sq_file_readable(path)) snprintf(path, sizeof path, "%s/qc.json", p);
	} else snprintf(path, sizeof path, "%s", p);
	if (!sq_file_readable(path)) { sq_log_error("cannot read '%s'", path); return 0; }
	return sq_json_load(path);
}

static int err_exit(int err) { return sq_err2exit(err); }

static int do_compare(const char *a, const char *b, int json_out)
{
	json_t *ja = load_result_or_fp(a), *jb = ja ? load_result_or_fp(b) : 0, *cmp = 0;
	int ret;
	if (!ja || !jb) { json_decref(ja); json_decref(jb); return SQ_EXIT_IO; }
	ret = sq_qc_fingerprint_compare(ja, jb, &cmp);
	json_decref(ja);
	json_decref(jb);
	if (ret < 0) return err_exit(ret);
	if (json_out) sq_json_print(cmp, stdout);
	else printf("%s\tsites=%lld\tdiscordant=%lld\tconcordance=%.4f\tlod=%.2f\n", sq_json_str(cmp, "verdict", ""),
	            (long long)sq_json_int(cmp, "n_sites_compared", 0), (long long)sq_json_int(cmp, "n_discordant", 0),
	            sq_json_num(cmp, "concordance", 0), sq_json_num(cmp, "lod", 0));
	const char *v = sq_json_str(cmp, "verdict", "");
	if (strcmp(v, "MATCH")) sq_log_warn("fingerprints of %s and %s: %s (possible sample swap)", a, b, v);
	ret = strcmp(v, "MATCH") == 0 ? SQ_EXIT_OK : SQ_EXIT_QC;
	json_decref(cmp);
	return ret;
}

static int do_override(const char *target, const char *who, const char *why, int json_out)
{
	char path[4096], dir[4096];
	struct stat st;
	if (stat(target, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof dir, "%s", target);
		snprintf(path, sizeof path, "%s/qc.json", target);
	} else {
		snprintf(path, sizeof path, "%s", target);
		snprintf(dir, sizeof dir, "%s", target);
		char *sl = strrchr(dir, '/');
		if (sl) *sl = 0; else strcpy(dir, ".");
	}
	if (!sq_file_readable(path)) { sq_log_error("cannot read QC result '%s'", path); return SQ_EXIT_IO; }
	json_t *res = sq_json_load(path);
	if (!res) return SQ_EXIT_INPUT;
	json_t *g = json_object_get(res, "gate");
	if (!json_is_object(g)) { sq_log_error("%s: no gate to override (was a profile applied?)", path); json_decref(res); return SQ_EXIT_INPUT; }
	if (sq_qc_gate_override(g, who, why, 0) < 0) { json_decref(res); return SQ_EXIT_USAGE; }
	int ret = sq_qc_write_reports(res, dir);
	if (ret == 0 && json_out) sq_json_print(res, stdout);
	sq_log_info("override recorded in %s by %s: gate %s, deliverable %s", path, who, sq_json_str(g, "status", ""),
	            sq_qc_gate_deliverable(g) ? "yes" : "no");
	json_decref(res);
	return ret < 0 ? err_exit(ret) : SQ_EXIT_OK;
}

int sq_cmd_qc(int argc, char *argv[])
{
	enum { O_TARGET = 1000, O_FP, O_CS, O_MINMQ, O_MINBQ, O_OVL, O_OVBY, O_OVWHY, O_JSON, O_CMP, O_PROFILES, O_OVERRIDE };
	static const struct option lo[] = {
		{ "r1", required_argument, 0, '1' }, { "r2", required_argument, 0, '2' },
		{ "bam", required_argument, 0, 'b' }, { "vcf", required_argument, 0, 'V' },
		{ "reference", required_argument, 0, 'r' }, { "sample", required_argument, 0, 's' },
		{ "indication", required_argument, 0, 'i' }, { "profile", required_argument, 0, 'p' },
		{ "profiles", required_argument, 0, O_PROFILES }, { "declared-sex", required_argument, 0, 'x' },
		{ "target", required_argument, 0, O_TARGET }, { "fingerprint-sites", required_argument, 0, O_FP },
		{ "contamination-sites", required_argument, 0, O_CS },
		{ "min-mapq", required_argument, 0, O_MINMQ }, { "min-baseq", required_argument, 0, O_MINBQ },
		{ "count-overlaps", no_argument, 0, O_OVL }, { "override", required_argument, 0, O_OVERRIDE },
		{ "override-by", required_argument, 0, O_OVBY }, { "override-reason", required_argument, 0, O_OVWHY },
		{ "outdir", required_argument, 0, 'o' }, { "json", no_argument, 0, O_JSON },
		{ "compare", no_argument, 0, O_CMP }, { "threads", required_argument, 0, 't' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	sq_qc_opt_t opt;
	const char *r1 = 0, *r2 = 0, *bam = 0, *vcf = 0, *sample = 0, *indication = 0, *profile_path = 0, *profiles_dir = 0;
	const char *outdir = 0, *ov_by = 0, *ov_why = 0, *ov_target = 0;
	int json_out = 0, compare = 0, c, ret = SQ_EXIT_OK;
	char *sample_buf = 0;
	json_t *res = 0;
	sq_qc_profile_t *prof = 0;

	sq_qc_opt_init(&opt);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":1:2:b:V:r:s:i:p:x:o:t:h", lo, 0)) != -1) {
		switch (c) {
		case '1': r1 = optarg; break;
		case '2': r2 = optarg; break;
		case 'b': bam = optarg; break;
		case 'V': vcf = optarg; break;
		case 'r': opt.reference = optarg; break;
		case 's': sample = optarg; break;
		case 'i': indication = optarg; break;
		case 'p': profile_path = optarg; break;
		case O_PROFILES: profiles_dir = optarg; break;
		case 'x':
			opt.declared_sex = sq_sex_parse(optarg);
			if (opt.declared_sex == SQ_SEX_INVALID) return sq_cli_usage_error("qc", "--declared-sex must be female, male or unknown, not '%s'", optarg);
			break;
		case O_TARGET: opt.target_bed = optarg; break;
		case O_FP: opt.fp_sites = optarg; break;
		case O_CS: opt.contam_sites = optarg; break;
		case O_MINMQ: opt.min_mapq = atoi(optarg); break;
		case O_MINBQ: opt.min_baseq = atoi(optarg); break;
		case O_OVL: opt.count_overlaps = 1; break;
		case O_OVERRIDE: ov_target = optarg; break;
		case O_OVBY: ov_by = optarg; break;
		case O_OVWHY: ov_why = optarg; break;
		case 'o': outdir = optarg; break;
		case O_JSON: json_out = 1; break;
		case O_CMP: compare = 1; break;
		case 't':
			if (sq_cli_parse_threads(optarg, &opt.n_threads) < 0) return sq_cli_usage_error("qc", "bad --threads '%s'", optarg);
			break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		case ':': return sq_cli_usage_error("qc", "option '%s' needs an argument", argv[optind - 1]);
		default: return sq_cli_usage_error("qc", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (compare) {
		if (argc - optind != 2) return sq_cli_usage_error("qc", "--compare needs two fingerprints (qc.json, fingerprint.json or QC folders)");
		return do_compare(argv[optind], argv[optind + 1], json_out);
	}
	if (optind < argc) return sq_cli_usage_error("qc", "unexpected argument '%s'", argv[optind]);
	if ((ov_by || ov_why) && (!ov_by || !ov_why || !*ov_by || !*ov_why))
		return sq_cli_usage_error("qc", "an override needs both --override-by and --override-reason");
	if (ov_target) {
		if (!ov_by) return sq_cli_usage_error("qc", "--override needs --override-by and --override-reason");
		return do_override(ov_target, ov_by, ov_why, json_out);
	}
	if (!r1 && !bam && !vcf) return sq_cli_usage_error("qc", "give at least one of --r1, --bam, --vcf");
	if (r2 && !r1) return sq_cli_usage_error("qc", "--r2 needs --r1");
	if (!outdir && !json_out) return sq_cli_usage_error("qc", "give --outdir (or --json)");
	if (sq_qc_opt_check(&opt) < 0) return SQ_EXIT_USAGE;
	if (indication && !sq_indication_find(indication)) {
		sq_log_error("unknown clinical indication '%s'", indication);
		return SQ_EXIT_INPUT;
	}
	if (profile_path) prof = sq_qc_profile_load(profile_path);
	else if (indication) prof = sq_qc_profile_for_indication(profiles_dir, indication);
	if ((profile_path || indication) && !prof) return SQ_EXIT_INPUT;
	if (prof && indication && strcasecmp(sq_json_str(sq_qc_profile_json(prof), "indication", ""), indication) != 0) {
		sq_log_error("profile %s is for indication %s, not %s", sq_qc_profile_id(prof),
		             sq_json_str(sq_qc_profile_json(prof), "indication", ""), indication);
		ret = SQ_EXIT_INPUT;
		goto out;
	}
	if (!indication && prof) indication = sq_json_str(sq_qc_profile_json(prof), "indication", 0);
	if (!sample) sample = sample_buf = sample_from_path(bam ? bam : r1 ? r1 : vcf);

	char now[64];
	{
		time_t t = time(0);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	}
	const sq_indication_t *ind = indication ? sq_indication_find(indication) : 0;
	unsigned jmark = sq_qc_json_mark();
	res = json_pack("{s:s,s:s,s:s?,s:s?,s:s,s:s,s:s,s:s,s:s,s:{},s:{}}", "schema", SQ_QC_SCHEMA, "sample", sample,
		"indication", ind ? ind->code : indication, "indication_name", ind ? ind->name : 0,
		"declared_sex", sq_sex_name(opt.declared_sex), "seqa_version", sq_version(), "seqa_commit", sq_commit(),
		"created", now, "command", sq_cli_cmdline(), "inputs", "stages");
	if (!res) { sq_log_error("out of memory"); ret = SQ_EXIT_FAIL; goto out; }
	json_t *inputs = json_object_get(res, "inputs"), *stages = json_object_get(res, "stages");
	if (r1) json_object_set_new(inputs, "r1", json_string(r1));
	if (r2) json_object_set_new(inputs, "r2", json_string(r2));
	if (bam) json_object_set_new(inputs, "bam", json_string(bam));
	if (vcf) json_object_set_new(inputs, "vcf", json_string(vcf));
	if (opt.reference) json_object_set_new(inputs, "reference", json_string(opt.reference));
	if (opt.fp_sites) json_object_set_new(inputs, "fingerprint_sites", json_string(opt.fp_sites));
	if (opt.contam_sites) json_object_set_new(inputs, "contamination_sites", json_string(opt.contam_sites));
	if (opt.target_bed) json_object_set_new(inputs, "target_bed", json_string(opt.target_bed));

	json_t *st = 0;
	int r;
	if (r1) {
		if ((r = sq_qc_fastq(r1, r2, &opt, &st)) < 0) { ret = err_exit(r); goto out; }
		json_object_set_new(stages, "fastq", st);
		sq_log_info("FASTQ: %lld reads, Q30 %.2f %%", (long long)json_integer_value(json_object_get(json_object_get(json_object_get(st, "metrics"), "total_reads"), "value")),
		            json_number_value(json_object_get(json_object_get(json_object_get(st, "metrics"), "pct_q30_bases"), "value")));
	}
	if (bam) {
		if ((r = sq_qc_bam(bam, &opt, &st)) < 0) { ret = err_exit(r); goto out; }
		json_object_set_new(stages, "alignment", st);
		json_t *m = json_object_get(st, "metrics");
		sq_log_info("BAM: mean autosome depth %.2f x, sex %s (%s), contamination %s",
		            sq_json_num(json_object_get(m, "mean_autosome_coverage"), "value", 0),
		            sq_json_str(json_object_get(m, "inferred_sex"), "value", "?"), sq_json_str(json_object_get(m, "sex_concordance"), "value", "?"),
		            json_object_get(m, "pct_contamination") ? "measured" : "not measured");
	}
	if (vcf) {
		if ((r = sq_qc_vcf(vcf, &opt, &st)) < 0) { ret = err_exit(r); goto out; }
		json_object_set_new(stages, "vcf", st);
	}
	json_t *gate = json_null();
	if (prof) {
		gate = sq_qc_gate_eval(prof, res);
		if (!gate) { ret = SQ_EXIT_FAIL; goto out; }   /* logged */
		if (ov_by && sq_qc_gate_override(gate, ov_by, ov_why, 0) < 0) { json_decref(gate); ret = SQ_EXIT_USAGE; goto out; }
	}
	if (json_object_set_new(res, "gate", gate) < 0 || (r1 && !json_object_get(stages, "fastq"))
	    || (bam && !json_object_get(stages, "alignment")) || (vcf && !json_object_get(stages, "vcf"))
	    || json_object_size(inputs) == 0 || sq_qc_json_check(jmark, "result") < 0) {
		sq_log_error("out of memory assembling the QC result");
		ret = SQ_EXIT_FAIL;
		goto out;
	}
	if (outdir) {
		/* fingerprint.json first, the reports (qc.json last) after: nothing that looks complete
		 * is left when something fails */
		json_t *fp = json_object_get(json_object_get(stages, "alignment"), "fingerprint");
		char fpath[4096] = "";
		if (fp) {
			unsigned fm = sq_qc_json_mark();
			json_t *f = json_deep_copy(fp);
			json_object_set_new(f, "sample", json_string(sample));
			char *txt = f ? json_dumps(f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : 0;
			json_decref(f);
			if ((r = sq_mkdir_p(outdir, 0755)) < 0) { free(txt); ret = err_exit(r); goto out; }
			snprintf(fpath, sizeof fpath, "%s/fingerprint.json", outdir);
			r = !txt || sq_qc_json_check(fm, "fingerprint") < 0 ? SQ_ENOMEM : sq_durable_write(fpath, txt, strlen(txt));
			free(txt);
			if (r < 0) { if (r == SQ_ENOMEM) sq_log_error("out of memory writing the fingerprint"); ret = err_exit(r); goto out; }
		}
		if ((r = sq_qc_write_reports(res, outdir)) < 0) {
			if (*fpath) unlink(fpath);
			ret = err_exit(r);
			goto out;
		}
	}
	if (json_out && sq_json_print(res, stdout) < 0) { ret = SQ_EXIT_OUTPUT; goto out; }
	if (prof) {
		json_t *rs = json_object_get(gate, "reasons"), *e;
		size_t i;
		json_array_foreach(rs, i, e) sq_log_warn("%s", json_string_value(e));
		sq_log_info("gate %s (%s %s): %s%s", sq_json_str(gate, "status", ""), sq_qc_profile_id(prof), sq_qc_profile_version(prof),
		            sq_qc_gate_deliverable(gate) ? "eligible for delivery" : "NOT eligible for delivery",
		            json_is_object(json_object_get(gate, "override")) ? " (override recorded)" : "");
		if (sq_qc_gate_status(gate) == SQ_QC_FAIL && !sq_qc_gate_deliverable(gate) && !json_is_object(json_object_get(gate, "override")))
			ret = SQ_EXIT_QC;
	}
	sq_cli_summary();
out:
	json_decref(res);
	sq_qc_profile_destroy(prof);
	free(sample_buf);
	return ret;
}
