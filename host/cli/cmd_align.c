/* seqa align — paired FASTQ to a sorted, duplicate-marked, indexed BAM (see seqa/align.h). */
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "seqa/align.h"
#include "seqa/cli.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "ksw.h"

static void usage(FILE *fp)
{
	fprintf(fp,
	"Usage: seqa align -r REF.fa -1 R1.fq.gz [-2 R2.fq.gz] -o OUT.bam [options]\n\n"
	"Align reads with bwa mem semantics; write a coordinate-sorted BAM with duplicates marked,\n"
	"its .bai, and duplicate metrics (JSON).  The bwa index must exist (seqa index REF.fa).\n\n"
	"Options:\n"
	"  -r, --ref FILE         reference FASTA (index at FILE.bwt/.sa/.pac/.ann/.amb)\n"
	"  -1, --r1 FILE          mate-1 FASTQ (plain or gzip)\n"
	"  -2, --r2 FILE          mate-2 FASTQ (omit for single-end)\n"
	"  -o, --out FILE         output BAM (FILE.bai written too)\n"
	"  -t, --threads N        worker threads [1]\n"
	"      --backend B        seeding backend: auto|cpu|opencl|cuda|ref [auto]\n"
	"      --rg STR           read group line, e.g. '@RG\\tID:x\\tSM:y\\tPL:ILLUMINA'\n"
	"      --batch-size N     bases per batch, both mates (bwa mem -K) [10000000]\n"
	"      --sort-mem N       bytes of records held before spilling to temporary files,\n"
	"                         K/M/G suffixes [48M]\n"
	"      --tmp PREFIX       temporary file prefix [OUT.tmp.PID]\n"
	"      --dup-metrics FILE duplicate metrics JSON [OUT.markdup.json]\n"
	"      --optical-dist N   optical duplicate pixel distance [100]\n"
	"      --no-markdup       do not mark duplicates\n"
	"  -l, --level N          BAM compression level 0..9 [htslib default]\n"
	"      --json             print run statistics as JSON on stdout\n"
	"  -h, --help             this help\n\n"
	"Exit status: 0 ok, 2 usage, 3 invalid input (bad FASTQ, mates out of step, index mismatch),\n"
	"4 missing/unreadable file or index, 5 cannot write output, 6 device failure, 9 backend not built.\n");
}

static int parse_size(const char *s, int64_t *v)
{
	char *e;
	double x = strtod(s, &e);
	if (e == s || x < 0) return -1;
	if (*e == 'k' || *e == 'K') x *= 1024, ++e;
	else if (*e == 'm' || *e == 'M') x *= 1048576, ++e;
	else if (*e == 'g' || *e == 'G') x *= 1073741824.0, ++e;
	if (*e) return -1;
	*v = (int64_t)x;
	return 0;
}

int sq_cmd_align(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "ref", required_argument, 0, 'r' }, { "r1", required_argument, 0, '1' },
		{ "r2", required_argument, 0, '2' }, { "out", required_argument, 0, 'o' },
		{ "threads", required_argument, 0, 't' }, { "backend", required_argument, 0, 1 },
		{ "rg", required_argument, 0, 2 }, { "batch-size", required_argument, 0, 3 },
		{ "sort-mem", required_argument, 0, 4 }, { "tmp", required_argument, 0, 5 },
		{ "dup-metrics", required_argument, 0, 6 }, { "optical-dist", required_argument, 0, 7 },
		{ "no-markdup", no_argument, 0, 8 }, { "level", required_argument, 0, 'l' },
		{ "json", no_argument, 0, 9 }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	sq_aln_opt_t o;
	sq_aln_stats_t st;
	int c, json = 0;
	sq_aln_opt_init(&o);
	optind = 1; opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:1:2:o:t:l:h", lo, NULL)) != -1) {
		switch (c) {
		case 'r': o.ref = optarg; break;
		case '1': o.r1 = optarg; break;
		case '2': o.r2 = optarg; break;
		case 'o': o.out = optarg; break;
		case 't': if (sq_cli_parse_threads(optarg, &o.n_threads) < 0) return sq_cli_usage_error("align", "invalid thread count '%s'", optarg); break;
		case 1:
			if (strcmp(optarg, "auto") && strcmp(optarg, "cpu") && strcmp(optarg, "opencl") && strcmp(optarg, "cuda") && strcmp(optarg, "ref"))
				return sq_cli_usage_error("align", "unknown backend '%s' (auto|cpu|opencl|cuda|ref)", optarg);
			o.backend = optarg; break;
		case 2: o.rg = optarg; break;
		case 3: if (parse_size(optarg, &o.batch_bases) < 0) return sq_cli_usage_error("align", "invalid batch size '%s'", optarg); break;
		case 4: if (parse_size(optarg, &o.sort_mem) < 0) return sq_cli_usage_error("align", "invalid memory size '%s'", optarg); break;
		case 5: o.tmp_prefix = optarg; break;
		case 6: o.dup_json = optarg; break;
		case 7: o.optical_dist = atoi(optarg); break;
		case 8: o.mark_dups = 0; break;
		case 'l': o.level = atoi(optarg); break;
		case 9: json = 1; break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		case ':': return sq_cli_usage_error("align", "option '%s' needs an argument", argv[optind - 1]);
		default: return sq_cli_usage_error("align", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) return sq_cli_usage_error("align", "unexpected argument '%s'", argv[optind]);
	if (!o.ref || !o.r1 || !o.out) return sq_cli_usage_error("align", "-r, -1 and -o are required");
	if (sq_aln_opt_check(&o) < 0) return SQ_EXIT_USAGE;
	mallopt(M_ARENA_MAX, 4);   /* fewer glibc arenas: lower peak RSS with many threads */
	int r = sq_aln_run(&o, &st);
	if (r < 0) { sq_cli_summary(); return sq_err2exit(r); }
	sq_log_info("%lld reads, %lld records; mapped %.2f%%, properly paired %.2f%%; duplicates: %lld pairs, %lld unpaired (%lld optical pairs); backend %s; extension %s; %d sort spills",
	            (long long)st.n_reads, (long long)st.n_records,
	            st.n_reads ? 100.0 * st.n_mapped / st.n_reads : 0.0, st.n_reads ? 100.0 * st.n_proper / st.n_reads : 0.0,
	            (long long)st.dup.pair_dups, (long long)st.dup.unpaired_dups, (long long)st.dup.pair_optical_dups,
	            st.backend, sq_ksw_isa(), st.n_spills);
	if (json) {
		printf("{\"reads\": %lld, \"pairs\": %lld, \"records\": %lld, \"mapped\": %lld, \"properly_paired\": %lld, "
		       "\"duplicate_pairs\": %lld, \"duplicate_unpaired\": %lld, \"optical_duplicate_pairs\": %lld, "
		       "\"backend\": \"%s\", \"extension_isa\": \"%s\", \"sort_spills\": %d, \"seed_s\": %.3f, \"extend_s\": %.3f}\n",
		       (long long)st.n_reads, (long long)st.n_pairs, (long long)st.n_records, (long long)st.n_mapped,
		       (long long)st.n_proper, (long long)st.dup.pair_dups, (long long)st.dup.unpaired_dups,
		       (long long)st.dup.pair_optical_dups, st.backend, sq_ksw_isa(), st.n_spills, st.t_seed, st.t_extend);
	}
	sq_cli_summary();
	return SQ_EXIT_OK;
}
