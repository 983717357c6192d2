/* seqa simulate — a diploid sample with known variants and paired Illumina-like reads. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "seqa/cli.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/sim.h"
#include "seqa/util.h"

static void usage(FILE *fp)
{
	sq_sim_opt_t d;
	sq_sim_opt_init(&d);
	fprintf(fp,
"Usage: seqa simulate -r ref.fa[.gz] -o PREFIX [options]\n"
"\n"
"Simulates a diploid sample with known SNPs and indels and paired reads from its two\n"
"haplotypes.  Writes PREFIX_R1.fq.gz, PREFIX_R2.fq.gz, PREFIX.truth.vcf.gz (+ .tbi) and\n"
"PREFIX.truth.bed (the A/C/G/T stretches simulated: where the truth holds).\n"
"Read names give the true origin: CONTIG_POS1_POS2_STRAND_HAP_INDEX (see README).\n"
"\n"
"Options:\n"
"  -r, --ref FILE          reference FASTA (plain, gzip or bgzip)\n"
"  -o, --out PREFIX        output prefix\n"
"  -c, --coverage X        mean depth over the non-N bases simulated (%g)\n"
"  -l, --read-length N     read length (%d)\n"
"  -s, --seed N            random seed (%llu); same seed, same files, whatever -t\n"
"      --snp-rate R        SNPs per base (%g)\n"
"      --indel-rate R      indels per base (%g); lengths 1-%d bp, mostly 1-3 bp\n"
"      --max-indel N       longest indel (%d)\n"
"      --het-fraction F    fraction of heterozygous variants (%g)\n"
"      --insert-size N     mean fragment length (%g)\n"
"      --insert-sd N       fragment length standard deviation (%g)\n"
"  -e, --error-rate R      mean substitution error rate of the quality model (%g; 0: error-free)\n"
"      --q2-tails F        fraction of reads ending in a Q2 tail (%g)\n"
"      --dup-rate F        fraction of pairs that are PCR duplicates of the previous pair (%g)\n"
"      --sample NAME       VCF sample name (%s)\n"
"      --regions LIST      simulate only here: chr or chr:beg-end (1-based), comma-separated\n"
"  -t, --threads N         threads (%d)\n"
"      --json              print the summary as JSON on stdout\n"
"  -h, --help              this help\n"
"\n"
"Exit status: 0 ok, 2 usage, 3 invalid reference/regions, 4 missing reference, 5 cannot write.\n",
	        d.coverage, d.read_len, (unsigned long long)d.seed, d.snp_rate, d.indel_rate, d.max_indel,
	        d.max_indel, d.het_fraction, d.insert_mean, d.insert_sd, d.error_rate, d.q2_tail_frac, d.dup_rate, d.sample,
	        d.n_threads);
}

static int sq_num(const char *s, double *v)
{
	char *end;
	*v = strtod(s, &end);
	return *s && !*end ? 0 : -2;
}

int sq_cmd_simulate(int argc, char *argv[])
{
	enum { O_SNP = 1000, O_INDEL, O_HET, O_ISIZE, O_ISD, O_SAMPLE, O_REGIONS, O_JSON, O_MAXINDEL, O_Q2, O_DUP };
	static const struct option lopts[] = {
		{ "ref", required_argument, 0, 'r' }, { "out", required_argument, 0, 'o' },
		{ "coverage", required_argument, 0, 'c' }, { "read-length", required_argument, 0, 'l' },
		{ "seed", required_argument, 0, 's' }, { "snp-rate", required_argument, 0, O_SNP },
		{ "indel-rate", required_argument, 0, O_INDEL }, { "het-fraction", required_argument, 0, O_HET },
		{ "insert-size", required_argument, 0, O_ISIZE }, { "insert-sd", required_argument, 0, O_ISD },
		{ "error-rate", required_argument, 0, 'e' }, { "sample", required_argument, 0, O_SAMPLE },
		{ "regions", required_argument, 0, O_REGIONS }, { "threads", required_argument, 0, 't' },
		{ "max-indel", required_argument, 0, O_MAXINDEL }, { "q2-tails", required_argument, 0, O_Q2 },
		{ "dup-rate", required_argument, 0, O_DUP },
		{ "json", no_argument, 0, O_JSON }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	sq_sim_opt_t o;
	sq_sim_stats_t st;
	int c, json = 0, ret;
	double v;
	sq_sim_opt_init(&o);
	optind = 1; opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:o:c:l:s:e:t:h", lopts, 0)) >= 0) {
		const char *opt = argv[optind - 1];
		switch (c) {
		case 'r': o.ref = optarg; break;
		case 'o': o.prefix = optarg; break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		case 't':
			if (sq_cli_parse_threads(optarg, &o.n_threads) < 0) return sq_cli_usage_error("simulate", "bad thread count '%s'", optarg);
			break;
		case O_SAMPLE: o.sample = optarg; break;
		case O_REGIONS: o.regions = optarg; break;
		case O_JSON: json = 1; break;
		case ':': return sq_cli_usage_error("simulate", "option '%s' needs an argument", opt);
		case '?': return sq_cli_usage_error("simulate", "unknown option '%s'", opt);
		default:
			if (sq_num(optarg, &v) < 0) return sq_cli_usage_error("simulate", "option '%s': '%s' is not a number", opt, optarg);
			switch (c) {
			case 'c': o.coverage = v; break;
			case 'l': o.read_len = (int)v; if (o.read_len != v) o.read_len = -1; break;
			case 's': {
				char *end;
				errno = 0;
				o.seed = strtoull(optarg, &end, 10);
				if (*end || errno || optarg[0] == '-') return sq_cli_usage_error("simulate", "bad seed '%s' (0..2^64-1)", optarg);
				break;
			}
			case 'e': o.error_rate = v; break;
			case O_SNP: o.snp_rate = v; break;
			case O_INDEL: o.indel_rate = v; break;
			case O_HET: o.het_fraction = v; break;
			case O_ISIZE: o.insert_mean = v; break;
			case O_ISD: o.insert_sd = v; break;
			case O_MAXINDEL: o.max_indel = (int)v; if (o.max_indel != v) o.max_indel = -1; break;
			case O_Q2: o.q2_tail_frac = v; break;
			case O_DUP: o.dup_rate = v; break;
			}
		}
	}
	if (optind < argc) return sq_cli_usage_error("simulate", "unexpected argument '%s'", argv[optind]);
	if (!o.ref) return sq_cli_usage_error("simulate", "missing reference (-r ref.fa)");
	if (!o.prefix) return sq_cli_usage_error("simulate", "missing output prefix (-o PREFIX)");
	if (sq_sim_opt_check(&o) < 0) return SQ_EXIT_USAGE;
	o.progress = isatty(2);
	ret = sq_sim_run(&o, &st);
	if (ret < 0) {
		sq_log_error("simulation failed; no outputs written");
		return sq_err2exit(ret);
	}
	if (json) {
		json_t *j = json_object();
		json_object_set_new(j, "prefix", json_string(o.prefix));
		json_object_set_new(j, "seed", json_integer((json_int_t)o.seed));
		json_object_set_new(j, "simulated_bp", json_integer(st.sim_len));
		json_object_set_new(j, "read_pairs", json_integer(st.n_pairs));
		json_object_set_new(j, "snps", json_integer(st.n_snp));
		json_object_set_new(j, "insertions", json_integer(st.n_ins));
		json_object_set_new(j, "deletions", json_integer(st.n_del));
		json_object_set_new(j, "het", json_integer(st.n_het));
		json_object_set_new(j, "hom", json_integer(st.n_hom));
		json_object_set_new(j, "duplicate_pairs", json_integer(st.n_dup));
		json_object_set_new(j, "base_error_rate", json_real(st.n_bases ? (double)st.n_bases_err / st.n_bases : 0));
		if (sq_json_print(j, stdout) < 0) { json_decref(j); return SQ_EXIT_OUTPUT; }
		json_decref(j);
	}
	sq_cli_summary();
	return SQ_EXIT_OK;
}
