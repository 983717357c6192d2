/* seqa call — germline variant calling: BAM -> VCF (+ gVCF).  Thin CLI over seqa/call.h. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "seqa/call.h"
#include "seqa/cli.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: seqa call -r ref.fa -i in.bam -o out.vcf.gz [options]\n"
"\n"
"Haplotype-based germline variant calling (diploid, one sample): active regions from pileup\n"
"evidence, candidate haplotypes (de Bruijn assembly + observed allele combinations), pair-HMM\n"
"read likelihoods, diploid genotyping.  Output: VCF 4.2 (bgzip + .tbi when the name ends in .gz).\n"
"\n"
"Options:\n"
"  -r, --ref FILE          reference FASTA (plain or gzip) the BAM was aligned to\n"
"  -i, --in FILE           coordinate-sorted, indexed BAM\n"
"  -o, --out FILE          output VCF (.vcf.gz: bgzipped + tabix index)\n"
"  -g, --gvcf FILE         also write a gVCF with <NON_REF> reference blocks banded by GQ\n"
"  -R, --regions BED       call only these regions\n"
"  -t, --threads N         worker threads [1]\n"
"      --backend B         pair-HMM backend: auto|ref|cpu|opencl|cuda|fpga [auto]\n"
"      --sample NAME       sample name [@RG SM, else the BAM file name]\n"
"      --min-mapq N        skip reads with MAPQ below N [20]\n"
"      --min-baseq N       bases below N are not evidence [10]\n"
"      --min-qual-emit Q   do not write variants with QUAL below Q [10]\n"
"      --min-qual-pass Q   FILTER LowQual below Q [20]\n"
"      --min-qd X          FILTER LowQD when QUAL / informative depth is below X [2.0]\n"
"      --snp-het P         SNP heterozygosity prior [0.001]\n"
"      --indel-het P       indel heterozygosity prior [0.000125]\n"
"      --max-haps N        haplotypes per active region [16]\n"
"      --chunk N           genomic chunk per work unit, bp [200000]\n"
"      --no-assembly       candidate haplotypes from observed alleles only\n"
"      --json              print run statistics as JSON on stdout\n"
"  -h, --help              this help\n"
"\n"
"Filters: LowQual (QUAL < --min-qual-pass), LowQD (QUAL/depth < --min-qd); others PASS.\n"
"Exit status: 0 ok, 2 usage, 3 invalid input, 4 missing/unreadable file, 5 cannot write output,\n"
"6 backend unavailable.\n");
}

static int parse_num(const char *s, double *v)
{
	char *e;
	*v = strtod(s, &e);
	return *s && !*e ? 0 : -1;
}

int sq_cmd_call(int argc, char *argv[])
{
	enum { O_BACKEND = 256, O_SAMPLE, O_MAPQ, O_BASEQ, O_QEMIT, O_QPASS, O_QD, O_SNPHET, O_INDELHET,
	       O_MAXHAPS, O_CHUNK, O_NOASM, O_JSON };
	static const struct option lo[] = {
		{ "ref", required_argument, 0, 'r' }, { "in", required_argument, 0, 'i' },
		{ "out", required_argument, 0, 'o' }, { "gvcf", required_argument, 0, 'g' },
		{ "regions", required_argument, 0, 'R' }, { "threads", required_argument, 0, 't' },
		{ "backend", required_argument, 0, O_BACKEND }, { "sample", required_argument, 0, O_SAMPLE },
		{ "min-mapq", required_argument, 0, O_MAPQ }, { "min-baseq", required_argument, 0, O_BASEQ },
		{ "min-qual-emit", required_argument, 0, O_QEMIT }, { "min-qual-pass", required_argument, 0, O_QPASS },
		{ "min-qd", required_argument, 0, O_QD }, { "snp-het", required_argument, 0, O_SNPHET },
		{ "indel-het", required_argument, 0, O_INDELHET }, { "max-haps", required_argument, 0, O_MAXHAPS },
		{ "chunk", required_argument, 0, O_CHUNK }, { "no-assembly", no_argument, 0, O_NOASM },
		{ "json", no_argument, 0, O_JSON }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	sq_call_opt_t o;
	sq_call_stats_t st;
	int c, json = 0;
	double v;
	sq_call_opt_init(&o);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:i:o:g:R:t:h", lo, NULL)) != -1) {
		switch (c) {
		case 'r': o.ref_path = optarg; break;
		case 'i': o.bam_path = optarg; break;
		case 'o': o.out_path = optarg; break;
		case 'g': o.gvcf_path = optarg; break;
		case 'R': o.regions_path = optarg; break;
		case 't':
			if (sq_cli_parse_threads(optarg, &o.n_threads) < 0)
				return sq_cli_usage_error("call", "invalid thread count '%s'", optarg);
			break;
		case O_BACKEND: o.backend = optarg; break;
		case O_SAMPLE: o.sample = optarg; break;
		case O_NOASM: o.assemble = 0; break;
		case O_JSON: json = 1; break;
		case O_MAPQ: case O_BASEQ: case O_QEMIT: case O_QPASS: case O_QD: case O_SNPHET:
		case O_INDELHET: case O_MAXHAPS: case O_CHUNK:
			if (parse_num(optarg, &v) < 0)
				return sq_cli_usage_error("call", "option --%s needs a number, not '%s'", lo[c - O_BACKEND + 6].name, optarg);
			if (c == O_MAPQ) o.min_mapq = (int)v;
			else if (c == O_BASEQ) o.min_baseq = (int)v;
			else if (c == O_QEMIT) o.min_qual_emit = v;
			else if (c == O_QPASS) o.min_qual_pass = v;
			else if (c == O_QD) o.min_qd = v;
			else if (c == O_SNPHET) o.snp_het = v;
			else if (c == O_INDELHET) o.indel_het = v;
			else if (c == O_MAXHAPS) o.max_haps = (int)v;
			else o.chunk = (int)v;
			break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		case ':': return sq_cli_usage_error("call", "option '%s' needs an argument", argv[optind - 1]);
		default: return sq_cli_usage_error("call", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) return sq_cli_usage_error("call", "unexpected argument '%s'", argv[optind]);
	if (!o.ref_path || !o.bam_path || !o.out_path)
		return sq_cli_usage_error("call", "-r REF, -i BAM and -o OUT are required");
	if (sq_call_opt_check(&o) < 0) return SQ_EXIT_USAGE;
	int ret = sq_call_run(&o, &st);
	if (ret < 0) return sq_err2exit(ret);
	sq_log_info("%lld records (%lld SNP, %lld indel, %lld multi-allelic, %lld PASS); %lld regions, %lld read x haplotype pairs; backend %s",
	            (long long)st.n_records, (long long)st.n_snp, (long long)st.n_indel, (long long)st.n_multiallelic,
	            (long long)st.n_pass, (long long)st.n_regions, (long long)st.n_phmm, st.backend);
	if (json) {
		json_t *j = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}",
		                      "records", (json_int_t)st.n_records, "snp", (json_int_t)st.n_snp,
		                      "indel", (json_int_t)st.n_indel, "multiallelic", (json_int_t)st.n_multiallelic,
		                      "pass", (json_int_t)st.n_pass, "gvcf_blocks", (json_int_t)st.n_blocks,
		                      "reads", (json_int_t)st.n_reads, "regions", (json_int_t)st.n_regions,
		                      "haplotypes", (json_int_t)st.n_haps, "phmm_pairs", (json_int_t)st.n_phmm,
		                      "backend", st.backend);
		if (!j || sq_json_print(j, stdout) < 0) { json_decref(j); return SQ_EXIT_OUTPUT; }
		json_decref(j);
	}
	sq_cli_summary();
	return SQ_EXIT_OK;
}
