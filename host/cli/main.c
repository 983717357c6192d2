/* seqa — the command-line entry point: samtools-style subcommands.
 *
 * Each subcommand is a function sq_cmd_NAME in its own file.  They are declared weak here so
 * the dispatcher links whatever the build contains, and says so clearly when one is absent.
 */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include "seqa/cli.h"
#include "seqa/hash.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "seqa/version.h"

#pragma weak sq_cmd_index
#pragma weak sq_cmd_simulate
#pragma weak sq_cmd_ingest
#pragma weak sq_cmd_align
#pragma weak sq_cmd_call
#pragma weak sq_cmd_run
#pragma weak sq_cmd_qc
#pragma weak sq_cmd_pairhmm
#pragma weak sq_cmd_push
#pragma weak sq_cmd_outbox
#pragma weak sq_cmd_verify
#pragma weak sq_cmd_serve
#pragma weak sq_cmd_devices
#pragma weak sq_cmd_demo

typedef struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} sq_subcmd_t;

static const sq_subcmd_t sq_subcmds[] = {
	{ "index",    sq_cmd_index,    "build a bwa-compatible FM index, .fai and contig table" },
	{ "simulate", sq_cmd_simulate, "simulate a diploid sample: truth VCF and paired FASTQ" },
	{ "ingest",   sq_cmd_ingest,   "validate a batch (sample sheet / JSON) and its paired FASTQ" },
	{ "align",    sq_cmd_align,    "align paired reads: sorted, duplicate-marked BAM" },
	{ "call",     sq_cmd_call,     "call germline variants: VCF (+ gVCF)" },
	{ "run",      sq_cmd_run,      "ingest -> align -> call -> QC, resumable" },
	{ "qc",       sq_cmd_qc,       "QC metrics and gates" },
	{ "pairhmm",  sq_cmd_pairhmm,  "pair-HMM likelihoods (GATK test format), with --bench" },
	{ "push",     sq_cmd_push,     "deliver queued results to the CAD" },
	{ "outbox",   sq_cmd_outbox,   "list/show/retry deliveries" },
	{ "verify",   sq_cmd_verify,   "verify a delivery offline" },
	{ "serve",    sq_cmd_serve,    "run the service (REST API, dashboard, workers)" },
	{ "devices",  sq_cmd_devices,  "list accelerators and self-test them" },
	{ "demo",     sq_cmd_demo,     "run the demo on the embedded default" },
	{ 0, 0, 0 }
};

static void usage(FILE *fp)
{
	fprintf(fp, "\nProgram: seqa (clinical sequencing: FASTQ -> BAM -> VCF -> QC -> CAD)\n");
	fprintf(fp, "Version: %s (%s)\n\n", sq_version(), sq_commit());
	fprintf(fp, "Usage:   seqa [--log-level LEVEL] [--log-json] <command> [options]\n\n");
	fprintf(fp, "Commands:\n");
	for (const sq_subcmd_t *c = sq_subcmds; c->name; ++c)
		if (c->fn) fprintf(fp, "  %-10s %s\n", c->name, c->help);
	fprintf(fp, "\nOptions:\n");
	fprintf(fp, "  --log-level L   error|warn|info|debug (default info; also SEQA_LOG_LEVEL)\n");
	fprintf(fp, "  --log-json      structured logs (JSON lines) on stderr\n");
	fprintf(fp, "  --version       version, commit and features built in\n");
	fprintf(fp, "  -h, --help      this help\n\n");
	fprintf(fp, "Each command has its own --help.  Exit status: 0 ok, 1 failure, 2 usage, 3 invalid input,\n");
	fprintf(fp, "4 missing/unreadable file, 5 cannot write output, 6 device, 7 QC gate, 8 delivery, 9 not built in.\n\n");
}

int main(int argc, char *argv[])
{
	int i = 1;
	const char *env = getenv("SEQA_LOG_LEVEL");
	if (env && sq_log_parse_level(env) >= 0) sq_log_set_level(sq_log_parse_level(env));
	if (sq_cli_set_cmdline(argc, argv) < 0) {   /* outputs record the command line (@PG, VCF, provenance) */
		fprintf(stderr, "seqa: out of memory\n");
		return SQ_EXIT_FAIL;
	}
	for (; i < argc && argv[i][0] == '-'; ++i) {
		if (strcmp(argv[i], "--version") == 0) {
			printf("seqa %s\ncommit: %s\nfeatures: %s\n", sq_version(), sq_commit(), sq_features());
			return fflush(stdout) == 0 ? SQ_EXIT_OK : SQ_EXIT_OUTPUT;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return fflush(stdout) == 0 ? SQ_EXIT_OK : SQ_EXIT_OUTPUT;
		} else if (strcmp(argv[i], "--log-json") == 0) {
			sq_log_set_json(1);
		} else if (strcmp(argv[i], "--log-level") == 0 && i + 1 < argc) {
			int l = sq_log_parse_level(argv[++i]);
			if (l < 0) { fprintf(stderr, "seqa: unknown log level '%s' (error|warn|info|debug)\n", argv[i]); return SQ_EXIT_USAGE; }
			sq_log_set_level(l);
		} else {
			fprintf(stderr, "seqa: unknown option '%s' (see 'seqa --help')\n", argv[i]);
			return SQ_EXIT_USAGE;
		}
	}
	if (i >= argc) { usage(stderr); return SQ_EXIT_USAGE; }
	if (sq_hash_global_init() < 0) return SQ_EXIT_FAIL;   /* before any thread or output (seqa/hash.h) */
	for (const sq_subcmd_t *c = sq_subcmds; c->name; ++c) {
		if (strcmp(c->name, argv[i]) != 0) continue;
		if (!c->fn) {
			fprintf(stderr, "seqa: command '%s' is not built into this binary (seqa %s)\n", argv[i], sq_version());
			return SQ_EXIT_UNSUPP;
		}
		int ret = c->fn(argc - i, argv + i);
		/* a failure always says something (fault-injection finding: exit 1 or 5 without a word
		 * when an allocation failed on a path that returned an error code only) */
		if ((ret == SQ_EXIT_FAIL || ret == SQ_EXIT_IO || ret == SQ_EXIT_OUTPUT || ret == SQ_EXIT_DEVICE || ret == SQ_EXIT_REMOTE)
		    && sq_log_errors() == 0)
			sq_log_error("seqa %s failed with exit %d (%s); no more specific cause was logged (out of memory?)", argv[i], ret,
			             ret == SQ_EXIT_IO ? "cannot read input" : ret == SQ_EXIT_OUTPUT ? "cannot write output"
			             : ret == SQ_EXIT_DEVICE ? "device error" : ret == SQ_EXIT_REMOTE ? "delivery error" : "internal error");
		if (fflush(stdout) != 0) {
			fprintf(stderr, "seqa %s: cannot write standard output\n", argv[i]);
			return SQ_EXIT_OUTPUT;
		}
		return ret;
	}
	fprintf(stderr, "seqa: unknown command '%s' (see 'seqa --help')\n", argv[i]);
	return SQ_EXIT_USAGE;
}
