/* seqa pairhmm — pair-HMM log10 likelihoods for pairs in the GATK test format, on any backend,
 * with an optional timing line (--bench) and a built-in fixed-seed realistic workload. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "pairhmm.h"
#include "seqa/cli.h"
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: seqa pairhmm [options] FILE\n"
"       seqa pairhmm [options] --workload realistic\n"
"\n"
"Pair-HMM (GATK HaplotypeCaller semantics) log10 likelihood of each read given its haplotype.\n"
"FILE has one pair per line, whitespace-separated: hap read basequals insquals delquals gcp\n"
"[expected] (qualities phred+33; '#' lines skipped); '-' reads stdin.  One %%.6e value is\n"
"printed per pair, in input order.\n"
"\n"
"Options:\n"
"  -b, --backend NAME     auto|ref|cpu|opencl|cuda|fpga [auto]\n"
"  -t, --threads N        threads for CPU work [all CPUs]\n"
"      --bench            print 'backend=... cells=... seconds=... gcups=... threads=... pairs=...\n"
"                         cpu_seconds=...' on stderr after each run (seconds: wall time of the\n"
"                         batch including host-device transfers; cells: sum of read x hap lengths)\n"
"      --repeat N         run the batch N times (with --bench: one line per run) [1]\n"
"      --workload NAME    instead of FILE, generate 'realistic': 2,000 reads of 151 bp x 8\n"
"                         haplotypes of 350 bp, ~1%% substitutions, occasional 1-5 bp indels,\n"
"                         base quals 20-40, indel quals 45, gcp 10 (full matrix, fixed seed)\n"
"      --seed N           workload seed [1]\n"
"      --reads N, --read-len N, --haps N, --hap-len N   workload shape [2000, 151, 8, 350]\n"
"      --write-workload F write the workload in the GATK test format to F and exit\n"
"  -n, --no-output        do not print the likelihoods (benchmarks)\n"
"      --check            compare with the expected column: exit 1 if any |diff| > 1e-5\n"
"      --json             print {\"backend\":..,\"log10\":[..]} instead of one value a line\n"
"  -h, --help             this help\n"
"\n"
"Exit status: 0 ok, 2 usage, 3 invalid input, 4 unreadable file, 5 output error,\n"
"6 backend unavailable or failed.\n");
}

static int write_workload(const sq_phmm_set_t *s, const char *path)
{
	FILE *fp = fopen(path, "w");
	const sq_phmm_batch_t *b = &s->b;
	if (!fp) { sq_log_error("cannot write '%s'", path); return SQ_EXIT_OUTPUT; }
	fprintf(fp, "# hap-bases read-bases read-qual read-ins-qual read-del-qual gcp\n");
	int64_t n = sq_phmm_batch_n_out(b);
	for (int64_t k = 0; k < n; ++k) {
		int32_t r = b->pair_read ? b->pair_read[k] : (int32_t)(k / b->n_haps);
		int32_t h = b->pair_read ? b->pair_hap[k] : (int32_t)(k % b->n_haps);
		int32_t ro = b->read_off[r], rl = b->read_off[r + 1] - ro;
		int32_t ho = b->hap_off[h], hl = b->hap_off[h + 1] - ho;
		fprintf(fp, "%.*s %.*s ", hl, b->hap_seq + ho, rl, b->read_seq + ro);
		const uint8_t *q[4] = { b->base_q + ro, b->ins_q + ro, b->del_q + ro, b->gcp + ro };
		for (int c = 0; c < 4; ++c) {
			for (int i = 0; i < rl; ++i) fputc(q[c][i] + 33, fp);
			fputc(c < 3 ? ' ' : '\n', fp);
		}
	}
	if (fflush(fp) != 0 || ferror(fp)) { fclose(fp); return SQ_EXIT_OUTPUT; }
	fclose(fp);
	return SQ_EXIT_OK;
}

int sq_cmd_pairhmm(int argc, char *argv[])
{
	enum { O_BENCH = 1000, O_REPEAT, O_WORKLOAD, O_SEED, O_READS, O_RLEN, O_HAPS, O_HLEN, O_WRITE,
	       O_CHECK, O_JSON };
	static const struct option lopts[] = {
		{ "backend", required_argument, 0, 'b' }, { "threads", required_argument, 0, 't' },
		{ "bench", no_argument, 0, O_BENCH }, { "repeat", required_argument, 0, O_REPEAT },
		{ "workload", required_argument, 0, O_WORKLOAD }, { "seed", required_argument, 0, O_SEED },
		{ "reads", required_argument, 0, O_READS }, { "read-len", required_argument, 0, O_RLEN },
		{ "haps", required_argument, 0, O_HAPS }, { "hap-len", required_argument, 0, O_HLEN },
		{ "write-workload", required_argument, 0, O_WRITE }, { "no-output", no_argument, 0, 'n' },
		{ "check", no_argument, 0, O_CHECK }, { "json", no_argument, 0, O_JSON },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	sq_dev_kind_t kind = SQ_DEV_AUTO;
	int nt = sq_ncpu(), bench = 0, repeat = 1, no_out = 0, check = 0, json = 0, c;
	int w_reads = 2000, w_rlen = 151, w_haps = 8, w_hlen = 350;
	unsigned long long seed = 1;
	const char *workload = NULL, *write_path = NULL;
	sq_phmm_set_t *s = NULL;
	sq_dev_t *dev = NULL;
	int ret = SQ_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":b:t:nh", lopts, 0)) >= 0) {
		char *end = NULL;
		long v = 0;
		if (c >= O_REPEAT && c <= O_HLEN && c != O_WORKLOAD) {
			v = strtol(optarg, &end, 10);
			if (*optarg == 0 || *end || v < (c == O_SEED ? 0 : 1) || v > 100000000)
				return sq_cli_usage_error("pairhmm", "bad value '%s' for --%s", optarg, lopts[c - O_BENCH + 2].name);
		}
		switch (c) {
		case 'b':
			if (sq_dev_parse_kind(optarg, &kind) < 0)
				return sq_cli_usage_error("pairhmm", "unknown backend '%s' (auto|ref|cpu|opencl|cuda|fpga)", optarg);
			break;
		case 't':
			if (sq_cli_parse_threads(optarg, &nt) < 0) return sq_cli_usage_error("pairhmm", "bad thread count '%s'", optarg);
			break;
		case O_BENCH: bench = 1; break;
		case O_REPEAT: repeat = (int)v; break;
		case O_WORKLOAD:
			if (strcmp(optarg, "realistic") != 0) return sq_cli_usage_error("pairhmm", "unknown workload '%s' (realistic)", optarg);
			workload = optarg;
			break;
		case O_SEED: seed = (unsigned long long)v; break;
		case O_READS: w_reads = (int)v; break;
		case O_RLEN: w_rlen = (int)v; break;
		case O_HAPS: w_haps = (int)v; break;
		case O_HLEN: w_hlen = (int)v; break;
		case O_WRITE: write_path = optarg; break;
		case 'n': no_out = 1; break;
		case O_CHECK: check = 1; break;
		case O_JSON: json = 1; break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		case ':': return sq_cli_usage_error("pairhmm", "option '%s' needs an argument", argv[optind - 1]);
		default: return sq_cli_usage_error("pairhmm", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (workload ? optind != argc : optind + 1 != argc)
		return sq_cli_usage_error("pairhmm", workload ? "no FILE with --workload" : optind >= argc ? "missing FILE" : "one FILE expected");
	if (workload) {
		if (w_hlen < w_rlen + 10) return sq_cli_usage_error("pairhmm", "--hap-len must be at least --read-len + 10");
		if (!(s = sq_phmm_set_realistic(w_reads, w_rlen, w_haps, w_hlen, seed))) {
			sq_log_error("cannot generate the workload (out of memory)");
			return SQ_EXIT_FAIL;
		}
	} else {
		int err = 0;
		const char *path = strcmp(argv[optind], "-") == 0 ? "/dev/stdin" : argv[optind];
		if (!(s = sq_phmm_set_load_gatk(path, &err)))
			return err == SQ_EIO ? SQ_EXIT_IO : err == SQ_EINPUT ? SQ_EXIT_INPUT : SQ_EXIT_FAIL;
	}
	if (write_path) {
		ret = write_workload(s, write_path);
		goto done;
	}
	if (!(dev = sq_dev_open(kind))) { ret = SQ_EXIT_DEVICE; goto done; }
	int64_t cells = sq_phmm_batch_cells(&s->b), n_out = sq_phmm_batch_n_out(&s->b);
	for (int r = 0; r < repeat; ++r) {
		double t0 = sq_realtime(), c0 = sq_cputime();
		int rc = sq_phmm_run(dev, &s->b, nt);
		double dt = sq_realtime() - t0, dc = sq_cputime() - c0;
		if (rc < 0) { ret = rc == SQ_EINVAL ? SQ_EXIT_INPUT : SQ_EXIT_DEVICE; goto done; }
		if (bench)
			fprintf(stderr, "backend=%s cells=%lld seconds=%.6f gcups=%.4f threads=%d pairs=%lld cpu_seconds=%.6f\n",
			        sq_dev_name(dev), (long long)cells, dt, dt > 0 ? cells / dt * 1e-9 : 0.0, nt, (long long)n_out, dc);
	}
	if (!no_out) {
		if (json) {
			printf("{\"backend\":\"%s\",\"log10\":[", sq_dev_name(dev));
			for (int64_t k = 0; k < n_out; ++k) printf(k ? ",%.6e" : "%.6e", s->b.out[k]);
			printf("]}\n");
		} else {
			for (int64_t k = 0; k < n_out; ++k) printf("%.6e\n", s->b.out[k]);
		}
		if (fflush(stdout) != 0 || ferror(stdout)) { sq_log_error("cannot write the output"); ret = SQ_EXIT_OUTPUT; goto done; }
	}
	if (check && s->expected) {
		int64_t bad = 0;
		for (int64_t k = 0; k < n_out; ++k)
			if (!isnan(s->expected[k]) && !(fabs(s->b.out[k] - s->expected[k]) <= 1e-5)) ++bad;
		if (bad) {
			sq_log_error("%lld of %lld values differ from the expected column by more than 1e-5", (long long)bad, (long long)n_out);
			ret = SQ_EXIT_FAIL;
		}
	}
	if (dev->n_fallbacks) sq_log_warn("%d batch(es) were re-run on the CPU after %s failed", dev->n_fallbacks, sq_dev_name(dev));
done:
	sq_dev_close(dev);
	sq_phmm_set_free(s);
	return ret;
}
