/* seqa run — ingest -> align -> call -> QC for one sample or a whole batch, resumable. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "seqa/cli.h"
#include "seqa/ingest.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/pipeline.h"
#include "seqa/qc.h"
#include "seqa/util.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: seqa run -r REF.fa (-1 R1.fq.gz -2 R2.fq.gz --sample ID --indication CODE | --sample-sheet SHEET)\n"
"                -o OUTDIR [options]\n\n"
"Runs ingest (FASTQ validation) -> align (sorted, duplicate-marked BAM) -> call (VCF + gVCF)\n"
"-> QC (qc.json, qc.html, gate of the clinical indication) -> provenance.json, for one sample\n"
"(outputs in OUTDIR) or for every sample of a batch (outputs in OUTDIR/<pseudonym>/).\n"
"A rerun skips every stage whose outputs are complete and made from the same inputs and\n"
"parameters (OUTDIR/.seqa/stage-*.json); the thread count and backend do not change outputs.\n\n"
"Input:\n"
"  -r, --ref FILE          reference FASTA indexed with `seqa index` (or `bwa index`)\n"
"  -1, --r1 FILE           read 1 FASTQ (plain or gzip)\n"
"  -2, --r2 FILE           read 2 FASTQ\n"
"      --sample ID         sample id (letters, digits, '-', '_')\n"
"      --pseudonym P       pseudonymised id used in outputs (default: the sample id)\n"
"      --indication CODE   clinical indication (e.g. RD-BONE; `seqa ingest --list-indications`)\n"
"      --sex S             declared sex: female|male|unknown (default unknown)\n"
"  -s, --sample-sheet F    sample sheet v2 with [Seqa_Data], or JSON batch (see seqa ingest)\n"
"Output and behaviour:\n"
"  -o, --outdir DIR        run folder\n"
"  -t, --threads N         worker threads [1]\n"
"      --backend B         auto|cpu|opencl|cuda|fpga [auto]\n"
"      --regions BED       call only these regions\n"
"      --no-gvcf           do not write the gVCF\n"
"      --qc-profile FILE   QC profile JSON instead of the indication's\n"
"      --profiles DIR      folder of indication QC profiles\n"
"      --override-by WHO   record a technician override of a failed gate (with --override-reason)\n"
"      --override-reason WHY\n"
"      --force             redo every stage\n"
"Delivery (a sample whose gate passed, or was overridden, is queued; `seqa push` sends it):\n"
"      --outbox DB         outbox database\n"
"      --spool DIR         encrypted deliveries (default: beside the outbox)\n"
"      --platform ID       this platform's id (its TLS client certificate CN)\n"
"      --sign-key SK       the platform's Ed25519 secret key (0600)\n"
"      --cad-key PK        the CAD's Crypt4GH public key\n"
"      --json              print the per-sample results as JSON on stdout\n"
"  -h, --help              this help\n\n"
"Exit status: 0 all samples complete and passed (or warned) QC; 7 a QC gate failed (outputs\n"
"kept, not deliverable); 3 invalid input; 4 missing file; 5 cannot write; see `seqa --help`.\n");
}

int sq_cmd_run(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "ref", required_argument, 0, 'r' }, { "r1", required_argument, 0, '1' },
		{ "r2", required_argument, 0, '2' }, { "sample", required_argument, 0, 1 },
		{ "pseudonym", required_argument, 0, 2 }, { "indication", required_argument, 0, 3 },
		{ "sex", required_argument, 0, 4 }, { "sample-sheet", required_argument, 0, 's' },
		{ "outdir", required_argument, 0, 'o' }, { "threads", required_argument, 0, 't' },
		{ "backend", required_argument, 0, 5 }, { "regions", required_argument, 0, 6 },
		{ "no-gvcf", no_argument, 0, 7 }, { "qc-profile", required_argument, 0, 8 },
		{ "profiles", required_argument, 0, 9 }, { "override-by", required_argument, 0, 10 },
		{ "override-reason", required_argument, 0, 11 }, { "force", no_argument, 0, 12 },
		{ "json", no_argument, 0, 13 }, { "outbox", required_argument, 0, 14 },
		{ "spool", required_argument, 0, 15 }, { "platform", required_argument, 0, 16 },
		{ "sign-key", required_argument, 0, 17 }, { "cad-key", required_argument, 0, 18 }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	sq_run_opt_t o;
	const char *r1 = 0, *r2 = 0, *sample = 0, *pseudo = 0, *ind = 0, *sex = "unknown", *sheet = 0;
	int c, json_out = 0, ret = SQ_EXIT_OK, n_fail_gate = 0, err = 0;
	sq_fq_batch_t *b = 0;
	json_t *results = NULL;   /* made after the option checks (their early returns would leak it) */
	sq_run_opt_init(&o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:1:2:s:o:t:h", lo, 0)) >= 0) {
		switch (c) {
		case 'r': o.ref = optarg; break;
		case '1': r1 = optarg; break;
		case '2': r2 = optarg; break;
		case 1: sample = optarg; break;
		case 2: pseudo = optarg; break;
		case 3: ind = optarg; break;
		case 4: sex = optarg; break;
		case 's': sheet = optarg; break;
		case 'o': o.outdir = optarg; break;
		case 't':
			if (sq_cli_parse_threads(optarg, &o.n_threads) < 0) return sq_cli_usage_error("run", "bad thread count '%s'", optarg);
			break;
		case 5: o.backend = optarg; break;
		case 6: o.regions = optarg; break;
		case 7: o.gvcf = 0; break;
		case 8: o.qc_profile = optarg; break;
		case 9: o.profiles_dir = optarg; break;
		case 10: o.override_by = optarg; break;
		case 11: o.override_why = optarg; break;
		case 12: o.force = 1; break;
		case 13: json_out = 1; break;
		case 14: o.outbox = optarg; break;
		case 15: o.spool = optarg; break;
		case 16: o.platform = optarg; break;
		case 17: o.sign_key = optarg; break;
		case 18: o.cad_key = optarg; break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		case ':': return sq_cli_usage_error("run", "option '%s' needs a value", argv[optind - 1]);
		default: return sq_cli_usage_error("run", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) return sq_cli_usage_error("run", "unexpected argument '%s'", argv[optind]);
	if (!o.ref || !o.outdir) return sq_cli_usage_error("run", "-r REF and -o OUTDIR are required");
	if (!sheet == !(r1 || r2)) return sq_cli_usage_error("run", "give either -1/-2 with --sample, or --sample-sheet");
	if (!sheet && (!r1 || !r2 || !sample || !ind))
		return sq_cli_usage_error("run", "a single sample needs -1, -2, --sample and --indication");
	if (!!o.override_by != !!o.override_why) return sq_cli_usage_error("run", "an override needs --override-by and --override-reason");
	if (sq_run_opt_check(&o) < 0) return SQ_EXIT_USAGE;
	if (!sq_file_readable(o.ref)) {
		sq_log_error("cannot read reference '%s'", o.ref);
		return SQ_EXIT_IO;
	}

	if (!(results = json_array())) return sq_err2exit(SQ_ENOMEM);
	if (sheet) {
		b = sq_fq_batch_load(sheet, &err);
	} else {
		json_t *doc = json_pack("{s:i, s:[{s:s, s:s, s:s, s:s, s:s, s:s}]}", "seqa_batch", 1, "samples", "id", sample,
		                        "pseudonym", pseudo ? pseudo : sample, "indication", ind, "sex", sex, "r1", r1, "r2", r2);
		b = doc ? sq_fq_batch_from_json(doc, "(command line)", ".") : 0;
		json_decref(doc);
		if (!b) err = SQ_ENOMEM;
	}
	if (!b) { ret = sq_err2exit(err); goto out; }
	if ((err = sq_fq_batch_status(b)) < 0) { /* problems of the batch itself (before reading FASTQ) */
		sq_fq_batch_print_errors(b, stderr);
		ret = sq_err2exit(err);
		goto out;
	}
	/* SECURITY.md §5: the lab Sample_ID never reaches a log or a delivered file.  Logs name the
	 * pseudonym; the recorded command line (summary, run.json, @PG, VCF header, qc.json) shows
	 * "{sample}" where a lab id stood (as in the service's run_args). */
	for (int i = 0; i < b->n_samples; ++i)
		if (b->samples[i].pseudonym[0] && strcmp(b->samples[i].id, b->samples[i].pseudonym) && sq_cli_cmdline_redact(b->samples[i].id, "{sample}") < 0) {
			ret = sq_err2exit(SQ_ENOMEM);
			goto out;
		}
	for (int i = 0; i < b->n_samples; ++i) {
		sq_fq_sample_t *s = &b->samples[i];
		const char *pn = s->pseudonym[0] ? s->pseudonym : s->id;   /* what outputs and logs name */
		sq_run_result_t rr;
		char dir[4096];
		if (sheet) snprintf(dir, sizeof dir, "%s/%s", o.outdir, pn);   /* never the lab id (logged) */
		else snprintf(dir, sizeof dir, "%s", o.outdir);
		int r = sq_run_sample(&o, s, b->run, dir, &rr);
		json_array_append_new(results, json_pack("{s:s, s:s, s:s, s:s, s:s?}", "sample", pn, "dir", dir,
		                                         "status", r == 0 ? "complete" : sq_strerr(r), "gate", sq_qc_status_name(rr.gate),
		                                         "delivery_id", rr.delivery_id[0] ? rr.delivery_id : NULL));
		if (r < 0) {
			sq_log_error("sample '%s' failed: %s (outputs of completed stages kept in %s; rerun to resume)", pn, sq_strerr(r), dir);
			if (ret == SQ_EXIT_OK || ret == SQ_EXIT_QC) ret = sq_err2exit(r);
			continue;
		}
		if (rr.gate == SQ_QC_FAIL && !rr.deliverable) {
			++n_fail_gate;
			sq_log_warn("sample '%s': QC gate FAIL (see %s/qc.html); not deliverable without an override", pn, dir);
		} else if (rr.gate == SQ_QC_FAIL) {
			sq_log_warn("sample '%s': QC gate FAIL overridden by a technician (recorded in qc.json)", pn);
		}
		sq_log_info("sample '%s': complete, QC %s; outputs in %s", pn, sq_qc_status_name(rr.gate), dir);
	}
	if (ret == SQ_EXIT_OK && n_fail_gate) ret = SQ_EXIT_QC;
	if (json_out && sq_json_print(results, stdout) < 0) ret = SQ_EXIT_OUTPUT;
	sq_cli_summary();
out:
	sq_fq_batch_destroy(b);
	json_decref(results);
	return ret;
}
