/* seqa index — bwa-compatible FM index, .fai and contig table of a reference FASTA. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bwa/bwa.h>
#include "seqa/cli.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/ref.h"
#include "seqa/util.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: seqa index [options] ref.fa[.gz]\n"
"\n"
"Builds PREFIX.{bwt,pac,sa,amb,ann} (bwa 0.7.17 index, identical to `bwa index`), PREFIX.fai\n"
"(+ PREFIX.gzi for bgzip FASTA) and PREFIX.contigs.json (names, lengths, MD5s, assembly).\n"
"An existing complete bwa index that matches the FASTA is kept as it is.\n"
"\n"
"Options:\n"
"  -p, --prefix PREFIX   output prefix (default: the FASTA path, as bwa)\n"
"  -a, --algo is|bwtsw   BWT construction algorithm (default: bwa's choice for the size)\n"
"  -b, --block-size N    bwtsw block size (default 10000000, as bwa)\n"
"  -f, --force           rebuild everything even when a consistent index exists\n"
"  -t, --threads N       accepted for uniformity (the bwa build is single-threaded)\n"
"      --json            print what was done as JSON on stdout\n"
"  -h, --help            this help\n"
"\n"
"Exit status: 0 ok, 2 usage, 3 invalid FASTA, 4 missing/unreadable FASTA, 5 cannot write.\n");
}

int sq_cmd_index(int argc, char *argv[])
{
	static const struct option lopts[] = {
		{ "prefix", required_argument, 0, 'p' }, { "algo", required_argument, 0, 'a' },
		{ "block-size", required_argument, 0, 'b' }, { "force", no_argument, 0, 'f' },
		{ "threads", required_argument, 0, 't' }, { "json", no_argument, 0, 'J' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	sq_ref_index_opt_t opt;
	sq_ref_index_res_t res;
	int c, json = 0, nt = 1, ret;
	sq_ref_index_opt_init(&opt);
	optind = 1; opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:a:b:ft:h", lopts, 0)) >= 0) {
		switch (c) {
		case 'p': opt.prefix = optarg; break;
		case 'a':
			if (strcmp(optarg, "is") == 0) opt.algo = BWTALGO_IS;
			else if (strcmp(optarg, "bwtsw") == 0) opt.algo = BWTALGO_BWTSW;
			else return sq_cli_usage_error("index", "unknown algorithm '%s' (is|bwtsw)", optarg);
			break;
		case 'b': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || v < 1000 || v > 2000000000) return sq_cli_usage_error("index", "bad block size '%s'", optarg);
			opt.block_size = (int)v;
			break;
		}
		case 'f': opt.force = 1; break;
		case 't':
			if (sq_cli_parse_threads(optarg, &nt) < 0) return sq_cli_usage_error("index", "bad thread count '%s'", optarg);
			break;
		case 'J': json = 1; break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		case ':': return sq_cli_usage_error("index", "option '%s' needs an argument", argv[optind - 1]);
		default: return sq_cli_usage_error("index", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return sq_cli_usage_error("index", optind >= argc ? "missing reference FASTA" : "one reference FASTA expected");
	const char *fa = argv[optind];
	opt.progress = isatty(2);
	ret = sq_ref_index(fa, &opt, &res);
	if (ret < 0) {
		sq_log_error("indexing '%s' failed; no index written", fa);
		return sq_err2exit(ret);
	}
	if (json) {
		json_t *j = json_object();
		json_object_set_new(j, "fasta", json_string(fa));
		json_object_set_new(j, "prefix", json_string(opt.prefix ? opt.prefix : fa));
		json_object_set_new(j, "bwa_index", json_string(res.bwa_built ? "built" : "kept"));
		json_object_set_new(j, "fai", json_string(res.fai_built ? "built" : "kept"));
		sq_ref_t *r = sq_ref_load(opt.prefix ? opt.prefix : fa);
		if (r) {
			json_object_set_new(j, "contigs", json_integer(r->n));
			json_object_set_new(j, "total_length", json_integer(r->total_len));
			json_object_set_new(j, "assembly", json_string(r->assembly));
			json_object_set_new(j, "fasta_sha256", json_string(r->sha256));
			sq_ref_destroy(r);
		}
		json_object_set_new(j, "wall_s", json_real(res.wall_s));
		if (sq_json_print(j, stdout) < 0) { json_decref(j); return SQ_EXIT_OUTPUT; }
		json_decref(j);
	}
	sq_cli_summary();
	return SQ_EXIT_OK;
}
