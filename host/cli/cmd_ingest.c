/* seqa ingest — validate a batch (sample sheet v2 / JSON) and its paired FASTQ files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "seqa/cli.h"
#include "seqa/ingest.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: seqa ingest [options] BATCH\n"
"\n"
"Validates a batch and every sample's paired FASTQ(.gz): an Illumina sample sheet v2 with a\n"
"[Seqa_Data] section (Sample_ID,Pseudonym,Indication,Sex,R1,R2), or a JSON batch (a file starting\n"
"with '{').  Reports every problem with its file, record, line and a fix hint; computes the\n"
"SHA-256, reads and bases of each file.  Schemas: README.md, section 'seqa ingest'.\n"
"\n"
"Options:\n"
"  -o, --output FILE     write the JSON report to FILE, durably, only if the batch is valid\n"
"                        (an earlier FILE is removed when the batch is invalid)\n"
"      --json            print the JSON report on stdout instead of the summary table\n"
"  -t, --threads N       threads: R1 and R2 of a sample in parallel, N/2 samples at once\n"
"                        (default 1; results do not depend on N)\n"
"  -m, --max-errors N    problems shown per file and kind; the others are counted (default 10)\n"
"      --indications     list the clinical indication codes (PFMG 2025) and exit\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0 valid, 2 usage, 3 invalid data (sample sheet, FASTQ), 4 missing or unreadable\n"
"file (takes precedence over 3), 5 cannot write the report.\n");
}

/* 1 if path is the batch file or one of its FASTQ files (same inode). */
static int same_as_input(const sq_fq_batch_t *b, const char *path)
{
	struct stat o, i;
	if (stat(path, &o) != 0) return 0;
	if (stat(b->path, &i) == 0 && i.st_dev == o.st_dev && i.st_ino == o.st_ino) return 1;
	for (int s = 0; s < b->n_samples; ++s)
		for (int k = 0; k < 2; ++k)
			if (b->samples[s].files[k].path && stat(b->samples[s].files[k].path, &i) == 0 &&
			    i.st_dev == o.st_dev && i.st_ino == o.st_ino) return 1;
	return 0;
}

static int list_indications(int json)
{
	int n;
	const sq_indication_t *t = sq_indication_table(&n);
	if (json) {
		json_t *a = json_array();
		for (int i = 0; i < n; ++i)
			json_array_append_new(a, json_pack("{s:i,s:s,s:s,s:s,s:s,s:b}", "id", t[i].id, "code", t[i].code,
			                                   "name", t[i].name, "name_fr", t[i].name_fr, "group", t[i].group, "launch", t[i].launch));
		int r = sq_json_print(a, stdout);
		json_decref(a);
		return r < 0 ? SQ_EXIT_OUTPUT : SQ_EXIT_OK;
	}
	printf("%-3s %-9s %-13s %-6s %s\n", "id", "code", "group", "launch", "name");
	for (int i = 0; i < n; ++i)
		printf("%-3d %-9s %-13s %-6s %s\n", t[i].id, t[i].code, t[i].group, t[i].launch ? "yes" : "no", t[i].name);
	return SQ_EXIT_OK;
}

int sq_cmd_ingest(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "output", required_argument, 0, 'o' }, { "json", no_argument, 0, 'J' },
		{ "threads", required_argument, 0, 't' }, { "max-errors", required_argument, 0, 'm' },
		{ "indications", no_argument, 0, 'I' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	sq_fq_opt_t opt;
	sq_fq_batch_t *b = 0;
	json_t *rep = 0;
	const char *out = 0;
	int c, json = 0, ind = 0, err = 0, ret = SQ_EXIT_FAIL;
	sq_fq_opt_init(&opt);
	optind = 1; opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:t:m:h", lopts, 0)) >= 0) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'J': json = 1; break;
		case 'I': ind = 1; break;
		case 't':
			if (sq_cli_parse_threads(optarg, &opt.n_threads) < 0) return sq_cli_usage_error("ingest", "bad thread count '%s'", optarg);
			break;
		case 'm': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*optarg == 0 || *end || v < 1 || v > 1000000) return sq_cli_usage_error("ingest", "bad --max-errors '%s'", optarg);
			opt.max_errors = (int)v;
			break;
		}
		case 'h': usage(stdout); return SQ_EXIT_OK;
		case ':': return sq_cli_usage_error("ingest", "option '%s' needs an argument", argv[optind - 1]);
		default: return sq_cli_usage_error("ingest", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (ind) return list_indications(json);
	if (optind + 1 != argc)
		return sq_cli_usage_error("ingest", optind >= argc ? "missing BATCH (sample sheet or JSON batch)" : "one BATCH expected");
	if (!(b = sq_fq_batch_load(argv[optind], &err))) return sq_err2exit(err ? err : SQ_ENOMEM);
	if (out && same_as_input(b, out)) {
		ret = sq_cli_usage_error("ingest", "report '%s' would overwrite an input of the batch", out);
		goto done;
	}
	if ((err = sq_fq_batch_validate(b, &opt)) < 0) { ret = sq_err2exit(err); goto done; }
	if (!(rep = sq_fq_batch_report(b))) { sq_log_error("cannot build the ingest report (out of memory)"); ret = SQ_EXIT_FAIL; goto done; }
	sq_fq_batch_print_errors(b, stderr);
	if (json) {
		if (sq_json_print(rep, stdout) < 0) { ret = SQ_EXIT_OUTPUT; goto done; }
	} else {
		sq_fq_batch_print_summary(b, stdout);
	}
	err = sq_fq_batch_status(b);
	if (err < 0) {
		if (out) {
			/* a report left from an earlier run must not vouch for this batch */
			struct stat st;
			if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && unlink(out) == 0)
				sq_log_warn("removed the earlier report '%s'", out);
			sq_log_error("batch '%s' is invalid (%lld error(s)): report '%s' not written", b->path,
			             (long long)sq_fq_batch_n_errors(b), out);
		}
		ret = sq_err2exit(err);
		goto done;
	}
	if (out && sq_json_save(rep, out) < 0) { ret = SQ_EXIT_OUTPUT; goto done; }
	ret = SQ_EXIT_OK;
done:
	json_decref(rep);
	sq_fq_batch_destroy(b);
	sq_cli_summary();
	return ret;
}
