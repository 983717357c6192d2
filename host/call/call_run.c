/* seqa — the caller's driver: options, units over the genome, threads, VCF/gVCF writing.
 *
 * Units are fixed-size chunks of the reference (or of the --regions intervals); each is
 * processed independently (sq_call_unit_run) by sq_for and the results are written in unit
 * order, so the output does not depend on the thread count.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <htslib/hts.h>
#include <htslib/sam.h>
#include <htslib/tbx.h>
#include <htslib/vcf.h>

#include "call_unit.h"
#include "driver.h"
#include "pairhmm.h"
#include "seqa/cli.h"
#include "seqa/durable.h"
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"
#include "seqa/version.h"

void sq_call_opt_init(sq_call_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->backend = "auto";
	o->n_threads = 1;
	o->min_mapq = 20;
	o->min_baseq = 10;
	o->chunk = 200000;
	o->max_haps = 16;
	o->snp_het = 1e-3;
	o->indel_het = 1.25e-4;
	o->min_qual_emit = 10.0;
	o->min_qual_pass = 20.0;
	o->min_qd = 2.0;
	o->assemble = 1;
}

int sq_call_opt_check(const sq_call_opt_t *o)
{
	if (!o->ref_path) { sq_log_error("a reference FASTA is required (-r)"); return SQ_EINVAL; }
	if (!o->bam_path) { sq_log_error("an input BAM is required (-i)"); return SQ_EINVAL; }
	if (!o->out_path) { sq_log_error("an output VCF is required (-o)"); return SQ_EINVAL; }
	if (o->n_threads < 1) { sq_log_error("threads must be >= 1"); return SQ_EINVAL; }
	if (o->chunk < 10000) { sq_log_error("chunk must be >= 10000 bp"); return SQ_EINVAL; }
	if (o->max_haps < 2 || o->max_haps > 128) { sq_log_error("max haplotypes must be in [2,128]"); return SQ_EINVAL; }
	if (o->min_mapq < 0 || o->min_baseq < 0) { sq_log_error("quality thresholds must be >= 0"); return SQ_EINVAL; }
	if (!(o->snp_het > 0 && o->snp_het < 0.1) || !(o->indel_het > 0 && o->indel_het < 0.1)) {
		sq_log_error("heterozygosity priors must be in (0, 0.1)");
		return SQ_EINVAL;
	}
	static const char *bk[] = { "auto", "ref", "cpu", "opencl", "cuda", "fpga", NULL };
	int ok = 0;
	for (int i = 0; bk[i]; ++i) if (strcmp(o->backend, bk[i]) == 0) ok = 1;
	if (!ok) { sq_log_error("unknown backend '%s' (auto|ref|cpu|opencl|cuda|fpga)", o->backend); return SQ_EINVAL; }
	return 0;
}

/* ---- pair-HMM backend ------------------------------------------------------------------ */

/* Each worker thread has its own device (a sq_dev_t is single-threaded); batches run with one
 * thread because the caller already runs one unit per thread. */
static int phmm_dev(void *ctx, const void *b)
{
	return sq_phmm_run((sq_dev_t *)ctx, (const sq_phmm_batch_t *)b, 1);
}

/* ---- units ------------------------------------------------------------------------------ */

typedef struct { int contig; int32_t beg, end; } ival_t;

static int ival_cmp(const void *a, const void *b)
{
	const ival_t *x = a, *y = b;
	if (x->contig != y->contig) return x->contig < y->contig ? -1 : 1;
	if (x->beg != y->beg) return x->beg < y->beg ? -1 : 1;
	return (x->end > y->end) - (x->end < y->end);
}

/* BED -> sorted, merged intervals.  Returns count, or < -1. */
static int load_bed(const char *path, const sq_call_ref_t *ref, ival_t **out)
{
	FILE *fp = fopen(path, "r");
	ival_t *v = NULL;
	int n = 0, m = 0, line = 0;
	char buf[4096];
	if (!fp) { sq_log_error("cannot read regions '%s'", path); return SQ_EIO; }
	while (fgets(buf, sizeof buf, fp)) {
		line++;
		if (buf[0] == '#' || buf[0] == '\n' || strncmp(buf, "track", 5) == 0 || strncmp(buf, "browser", 7) == 0) continue;
		char name[1024];
		long long b, e;
		if (sscanf(buf, "%1023s %lld %lld", name, &b, &e) != 3 || b < 0 || e < b) {
			sq_log_error("%s:%d: not a BED line", path, line);
			goto fail_input;
		}
		int c = sq_call_ref_find(ref, name);
		if (c < 0) { sq_log_error("%s:%d: contig '%s' is not in the reference", path, line, name); goto fail_input; }
		if (e > ref->c[c].len) e = ref->c[c].len;
		if (e <= b) continue;
		if (n == m) {
			m = m ? 2 * m : 64;
			ival_t *t = sq_realloc(v, (size_t)m * sizeof *t);
			if (!t) { fclose(fp); free(v); return SQ_ENOMEM; }
			v = t;
		}
		v[n].contig = c, v[n].beg = (int32_t)b, v[n].end = (int32_t)e, n++;
	}
	fclose(fp);
	qsort(v, (size_t)n, sizeof *v, ival_cmp);
	int k = 0;
	for (int i = 0; i < n; ++i) {
		if (k > 0 && v[k - 1].contig == v[i].contig && v[i].beg <= v[k - 1].end) {
			if (v[i].end > v[k - 1].end) v[k - 1].end = v[i].end;
		} else v[k++] = v[i];
	}
	*out = v;
	return k;
fail_input:
	fclose(fp);
	free(v);
	return SQ_EINPUT;
}

typedef struct {
	sq_call_ctx_t  cx;
	sq_call_unit_t *u;
	sq_call_bam_t  *bam;   /* one per thread */
	sq_call_bam_t  *shared; /* unindexed BAM: reads in memory, shared by all threads */
	sq_dev_t      **dev;    /* one pair-HMM device per thread */
	sq_dev_kind_t   kind;
	int             n_threads;
} run_t;

static int bam_open(const char *path, sq_call_bam_t *h)
{
	memset(h, 0, sizeof *h);
	if (!(h->fp = sam_open(path, "r"))) { sq_log_error("cannot open BAM '%s'", path); return SQ_EIO; }
	if (!(h->hdr = sam_hdr_read(h->fp))) { sq_log_error("'%s': cannot read the BAM header", path); return SQ_EINPUT; }
	h->idx = sam_index_load3(h->fp, path, NULL, HTS_IDX_SILENT_FAIL);   /* NULL: no index (handled by the caller) */
	if (!(h->b = bam_init1())) return SQ_ENOMEM;
	return 0;
}

/* No index: read every passing read into memory (checks coordinate order). */
static int bam_load_all(const char *path, const sq_call_opt_t *o, sq_call_bam_t *h)
{
	int64_t n = 0, m = 0;
	int nt = sam_hdr_nref(h->hdr), r, last_tid = -1;
	hts_pos_t last_pos = -1;
	if (!(h->mem_off = sq_calloc((size_t)nt + 2, sizeof *h->mem_off))) return SQ_ENOMEM;
	while ((r = sam_read1(h->fp, h->hdr, h->b)) >= 0) {
		bam1_t *b = h->b;
		if (b->core.tid < 0) break;   /* unmapped reads at the end */
		if (b->core.tid < last_tid || (b->core.tid == last_tid && b->core.pos < last_pos)) {
			sq_log_error("'%s' is not sorted by coordinate (samtools sort)", path);
			r = SQ_EINPUT;
			goto bad;
		}
		for (int t = last_tid + 1; t <= b->core.tid; ++t) h->mem_off[t] = n;
		last_tid = b->core.tid, last_pos = b->core.pos;
		if (!sq_call_read_pass(b, o->min_mapq)) continue;
		if (n == m) {
			m = m ? 2 * m : 4096;
			bam1_t **t = sq_realloc(h->mem, (size_t)m * sizeof *t);
			if (!t) { r = SQ_ENOMEM; goto bad; }
			h->mem = t;
		}
		if (!(h->mem[n] = bam_dup1(b))) { r = SQ_ENOMEM; goto bad; }
		int32_t span = (int32_t)(bam_endpos(b) - b->core.pos);
		if (span > h->mem_span) h->mem_span = span;
		n++;
	}
	if (r < -1) { sq_log_error("'%s': truncated or corrupt BAM", path); r = SQ_EINPUT; goto bad; }
	for (int t = last_tid + 1; t <= nt; ++t) h->mem_off[t] = n;
	if (!h->mem && !(h->mem = sq_malloc(sizeof *h->mem))) return SQ_ENOMEM;
	sq_log_warn("'%s' has no index: %lld reads held in memory (index it with samtools index for large files)",
	            path, (long long)n);
	return 0;
bad:   /* the records read so far are freed by bam_close(): it frees mem_off[nref] of them */
	for (int t = last_tid + 1; t <= nt; ++t) h->mem_off[t] = n;
	return r;
}

static void bam_close(sq_call_bam_t *h)
{
	if (h->mem) {
		for (int64_t i = 0; i < h->mem_off[sam_hdr_nref(h->hdr)]; ++i) bam_destroy1(h->mem[i]);
		free(h->mem);
	}
	free(h->mem_off);
	if (h->b) bam_destroy1(h->b);
	if (h->idx) hts_idx_destroy(h->idx);
	if (h->hdr) sam_hdr_destroy(h->hdr);
	if (h->fp) sam_close(h->fp);
	memset(h, 0, sizeof *h);
}

static void unit_worker(void *data, int64_t i, int tid)
{
	run_t *r = data;
	sq_call_unit_t *u = &r->u[i];
	sq_call_bam_t *h = &r->bam[tid];
	if (r->shared) h = r->shared;
	else if (!h->fp) {
		int e = bam_open(r->cx.o->bam_path, h);
		if (e < 0) { bam_close(h); u->err = e; return; }
	}
	if (!r->dev[tid]) {
		r->dev[tid] = sq_dev_open(r->kind);
		if (!r->dev[tid]) { u->err = SQ_EDEVICE; return; }
	}
	sq_call_ctx_t cx = r->cx;
	cx.phmm_ctx = r->dev[tid];
	int e = sq_call_unit_run(&cx, h, u);
	if (e < 0) u->err = e;
}

/* ---- VCF --------------------------------------------------------------------------------- */

/* htslib 1.16 does not check every allocation it makes while building and formatting a record
 * (bcf_update_* encode through unchecked bcf_enc_*; vcf_format's kputs/kputc): a failed one gives
 * a damaged record (END=-18176, a FORMAT key printed as PASS) and a success code.  malloc and
 * realloc set errno to ENOMEM when they fail (POSIX), so errno is cleared before and checked after
 * each such htslib call: a record is written only if no allocation failed on the way.  Found by the
 * allocation-failure countdown (tests/cli/fault_alloc.sh). */
static int htslib_oom(void) { return errno == ENOMEM; }

static bcf_hdr_t *make_header(const sq_call_opt_t *o, const sq_call_ref_t *ref, const char *sample,
                              const char *backend, int gvcf)
{
	bcf_hdr_t *h = bcf_hdr_init("w");
	kstring_t s = { 0, 0, NULL };
	int bad = 0;   /* out of memory: a header missing a line would make htslib write damaged records */
#define ADD(line) do { if (!bad && bcf_hdr_append(h, (line)) < 0) bad = 1; } while (0)
#define ADDF(...) do { s.l = 0; if (!bad && (ksprintf(&s, __VA_ARGS__) < 0 || !s.s || bcf_hdr_append(h, s.s) < 0)) bad = 1; } while (0)
	char date[16], absref[PATH_MAX];
	time_t t = time(NULL);
	struct tm tmv;
	if (!h) return NULL;
	errno = 0;   /* see htslib_oom() */
	strftime(date, sizeof date, "%Y%m%d", gmtime_r(&t, &tmv));
	if (!realpath(o->ref_path, absref)) snprintf(absref, sizeof absref, "%s", o->ref_path);
	ADDF("##fileDate=%s", date);
	ADDF("##source=seqa %s", sq_version());
	ADDF("##seqaVersion=%s (%s)", sq_version(), sq_commit());
	ADDF("##seqaCommand=%s", sq_cli_cmdline());
	ADDF("##seqaBackend=%s", backend);
	ADDF("##reference=file://%s", absref);
	for (int i = 0; i < ref->n; ++i) {
		ADDF("##contig=<ID=%s,length=%lld,md5=%s>", ref->c[i].name, (long long)ref->c[i].len, ref->c[i].md5);
	}
	ADD("##FILTER=<ID=LowQual,Description=\"QUAL below the --min-qual-pass threshold\">");
	ADD("##FILTER=<ID=LowQD,Description=\"QUAL divided by informative depth below --min-qd (GATK QD)\">");
	ADD("##INFO=<ID=DP,Number=1,Type=Integer,Description=\"Reads used at the site (after filters)\">");
	ADD("##INFO=<ID=AC,Number=A,Type=Integer,Description=\"Allele count in genotypes, for each ALT allele\">");
	ADD("##INFO=<ID=AN,Number=1,Type=Integer,Description=\"Total number of alleles in called genotypes\">");
	ADD("##INFO=<ID=AF,Number=A,Type=Float,Description=\"Allele frequency, for each ALT allele\">");
	ADD("##INFO=<ID=MQ,Number=1,Type=Integer,Description=\"RMS mapping quality of the reads at the site\">");
	ADD("##INFO=<ID=QD,Number=1,Type=Float,Description=\"Variant confidence (QUAL) divided by informative depth\">");
	if (gvcf) {
		ADD("##ALT=<ID=NON_REF,Description=\"Represents any possible alternative allele not already represented at this location\">");
		ADD("##INFO=<ID=END,Number=1,Type=Integer,Description=\"End position of the reference block (1-based, inclusive)\">");
		ADD("##FORMAT=<ID=MIN_DP,Number=1,Type=Integer,Description=\"Minimum depth in the reference block\">");
		ADD("##GVCFBlock=GQ bands [0,1) [1,5) [5,10) [10,15) [15,20) [20,30) [30,40) [40,50) [50,60) [60,99) [99,inf)");
	}
	ADD("##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype\">");
	ADD("##FORMAT=<ID=AD,Number=R,Type=Integer,Description=\"Informative reads per allele (likelihood margin >= 0.2 log10)\">");
	ADD("##FORMAT=<ID=DP,Number=1,Type=Integer,Description=\"Read depth at the site (reads used)\">");
	ADD("##FORMAT=<ID=GQ,Number=1,Type=Integer,Description=\"Genotype quality: phred of 1 - P(GT | data), capped at 99\">");
	ADD("##FORMAT=<ID=PL,Number=G,Type=Integer,Description=\"Phred-scaled genotype likelihoods, normalised to 0\">");
	free(s.s);
#undef ADD
#undef ADDF
	if (bad || bcf_hdr_add_sample(h, sample) < 0 || bcf_hdr_sync(h) < 0 || htslib_oom()) goto fail;
	{ /* every id the records use is defined (an append lost to a failed allocation shows here) */
		static const char *const info[] = { "DP", "AC", "AN", "AF", "MQ", "QD", "END" }, *const fmt[] = { "GT", "AD", "DP", "GQ", "PL", "MIN_DP" };
		static const char *const flt[] = { "PASS", "LowQual", "LowQD" };
		for (int i = 0; i < 7 - !gvcf; ++i)
			if (!bcf_hdr_idinfo_exists(h, BCF_HL_INFO, bcf_hdr_id2int(h, BCF_DT_ID, info[i]))) goto fail;
		for (int i = 0; i < 6 - !gvcf; ++i)
			if (!bcf_hdr_idinfo_exists(h, BCF_HL_FMT, bcf_hdr_id2int(h, BCF_DT_ID, fmt[i]))) goto fail;
		for (int i = 0; i < 3; ++i)
			if (!bcf_hdr_idinfo_exists(h, BCF_HL_FLT, bcf_hdr_id2int(h, BCF_DT_ID, flt[i]))) goto fail;
		if (bcf_hdr_nsamples(h) != 1) goto fail;
	}
	return h;
fail:
	sq_log_error("cannot build the VCF header (out of memory)");
	bcf_hdr_destroy(h);
	return NULL;
}

static int write_rec(htsFile *fp, bcf_hdr_t *h, bcf1_t *v, int rid, const sq_call_rec_t *r, int gvcf)
{
	int n_al = r->n_al + (gvcf ? 1 : 0);
	kstring_t s = { 0, 0, NULL };
	int bad = 0;   /* an update that fails (out of memory) must not write a damaged record */
	errno = 0;     /* htslib 1.16 ignores failed allocations inside bcf_update_* and vcf_format: see htslib_oom() */
	bcf_clear(v);
	v->rid = rid;
	v->pos = r->pos;
	bad |= kputs(r->alleles, &s) < 0;
	if (gvcf) bad |= kputs(",<NON_REF>", &s) < 0;
	bad |= !s.s || bcf_update_alleles_str(h, v, s.s) < 0;
	free(s.s);
	v->qual = r->qual;
	int fid[2], nf = 0;
	if (r->filter & SQ_FLT_LOWQUAL) fid[nf++] = bcf_hdr_id2int(h, BCF_DT_ID, "LowQual");
	if (r->filter & SQ_FLT_LOWQD) fid[nf++] = bcf_hdr_id2int(h, BCF_DT_ID, "LowQD");
	if (nf == 0) fid[nf++] = bcf_hdr_id2int(h, BCF_DT_ID, "PASS");
	bad |= bcf_update_filter(h, v, fid, nf) < 0;
	int32_t ac[4] = { 0 }, an = 2, dp = r->dp, mq = r->mq;
	float af[4];
	for (int j = 1; j < n_al; ++j) ac[j - 1] = (r->a1 == j) + (r->a2 == j), af[j - 1] = ac[j - 1] / 2.0f;
	int alt_dp = 0;
	for (int j = 0; j < r->n_al; ++j) alt_dp += r->ad[j];
	float qd = (float)(r->qual / (alt_dp > 0 ? alt_dp : (r->dp > 0 ? r->dp : 1)));
	bad |= bcf_update_info_int32(h, v, "DP", &dp, 1) < 0;
	bad |= bcf_update_info_int32(h, v, "AC", ac, n_al - 1) < 0;
	bad |= bcf_update_info_int32(h, v, "AN", &an, 1) < 0;
	bad |= bcf_update_info_float(h, v, "AF", af, n_al - 1) < 0;
	bad |= bcf_update_info_int32(h, v, "MQ", &mq, 1) < 0;
	bad |= bcf_update_info_float(h, v, "QD", &qd, 1) < 0;
	int32_t gt[2] = { bcf_gt_unphased(r->a1), bcf_gt_unphased(r->a2) };
	bad |= bcf_update_genotypes(h, v, gt, 2) < 0;
	int32_t ad[5];
	for (int j = 0; j < r->n_al; ++j) ad[j] = r->ad[j];
	if (gvcf) ad[r->n_al] = 0;
	bad |= bcf_update_format_int32(h, v, "AD", ad, n_al) < 0;
	bad |= bcf_update_format_int32(h, v, "DP", &dp, 1) < 0;
	int32_t gq = r->gq;
	bad |= bcf_update_format_int32(h, v, "GQ", &gq, 1) < 0;
	bad |= bcf_update_format_int32(h, v, "PL", gvcf ? r->pl_g : r->pl, sq_call_n_gt(n_al)) < 0;
	if (bad || htslib_oom()) { sq_log_error("cannot build a VCF record (out of memory)"); return SQ_ENOMEM; }
	if (bcf_write(fp, h, v) < 0) return SQ_EOUTPUT;
	if (htslib_oom()) { sq_log_error("cannot format a VCF record (out of memory)"); return SQ_ENOMEM; }
	return 0;
}

static int write_block(htsFile *fp, bcf_hdr_t *h, bcf1_t *v, int rid, const char *seq,
                       int32_t s, int32_t e, const sq_call_block_t *b)
{
	char al[16];
	int bad = 0;   /* an update that fails (out of memory) must not write a damaged record */
	errno = 0;     /* see htslib_oom() */
	bcf_clear(v);
	v->rid = rid;
	v->pos = s;
	snprintf(al, sizeof al, "%c,<NON_REF>", seq[s]);
	bad |= bcf_update_alleles_str(h, v, al) < 0;
	bcf_float_set_missing(v->qual);
	int32_t end = e, gt[2] = { bcf_gt_unphased(0), bcf_gt_unphased(0) };
	int32_t dp = b->dp, gq = b->gq, mdp = b->min_dp, pl[3] = { 0, b->pl1, b->pl2 };
	bad |= bcf_update_info_int32(h, v, "END", &end, 1) < 0;
	bad |= bcf_update_genotypes(h, v, gt, 2) < 0;
	bad |= bcf_update_format_int32(h, v, "DP", &dp, 1) < 0;
	bad |= bcf_update_format_int32(h, v, "GQ", &gq, 1) < 0;
	bad |= bcf_update_format_int32(h, v, "MIN_DP", &mdp, 1) < 0;
	bad |= bcf_update_format_int32(h, v, "PL", pl, 3) < 0;
	if (bad || htslib_oom()) { sq_log_error("cannot build a VCF record (out of memory)"); return SQ_ENOMEM; }
	if (bcf_write(fp, h, v) < 0) return SQ_EOUTPUT;
	if (htslib_oom()) { sq_log_error("cannot format a VCF record (out of memory)"); return SQ_ENOMEM; }
	return 0;
}

static int ends_with(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Temporary names of path and its index while it is written (tmp_name(path, 0/1, ...)). */
static void tmp_name(const char *path, int tbi, char *out, size_t cap)
{
	snprintf(out, cap, "%s.tmp.%d%s%s", path, (int)getpid(), ends_with(path, ".gz") ? ".gz" : "", tbi ? ".tbi" : "");
}

/* Rename a written VCF (and its index) into place, or (commit = 0) remove the temporaries. */
static int finish_vcf(const char *path, int commit)
{
	char t[PATH_MAX + 64], ti[PATH_MAX + 64], fi[PATH_MAX + 8];
	tmp_name(path, 0, t, sizeof t), tmp_name(path, 1, ti, sizeof ti);
	snprintf(fi, sizeof fi, "%s.tbi", path);
	if (!commit) { unlink(t), unlink(ti); return 0; }
	if (ends_with(path, ".gz") && sq_durable_rename(ti, fi) < 0) { unlink(t); return SQ_EOUTPUT; }
	if (sq_durable_rename(t, path) < 0) { unlink(fi); return SQ_EOUTPUT; }   /* no index without its file */
	return 0;
}

/* Write the VCF (gvcf = 0) or gVCF (1) and its tabix index to temporaries (tmp_name());
 * finish_vcf() renames them once both files are complete. */
static int write_vcf(const char *path, const sq_call_opt_t *o, const sq_call_ref_t *ref,
                     const char *sample, const char *backend, run_t *r, int n_units, int gvcf,
                     sq_call_stats_t *st)
{
	int gz = ends_with(path, ".gz"), ret = SQ_EOUTPUT;
	char *tmp = NULL, *tmpi = NULL, *fini = NULL;
	htsFile *fp = NULL;
	bcf_hdr_t *h = NULL;
	bcf1_t *v = NULL;
	size_t pl = strlen(path) + 64;
	if (!(tmp = sq_malloc(pl)) || !(tmpi = sq_malloc(pl)) || !(fini = sq_malloc(pl))) { ret = SQ_ENOMEM; goto fail; }
	tmp_name(path, 0, tmp, pl), tmp_name(path, 1, tmpi, pl);
	snprintf(fini, pl, "%s.tbi", path);
	if (!(fp = hts_open(tmp, gz ? "wz" : "w"))) { sq_log_error("cannot write '%s'", path); goto fail; }
	if (!(h = make_header(o, ref, sample, backend, gvcf)) || !(v = bcf_init())) { ret = SQ_ENOMEM; goto fail; }
	errno = 0;
	if (bcf_hdr_write(fp, h) < 0 || htslib_oom()) { sq_log_error("cannot write '%s'", path); goto fail; }
	int cur_contig = -1;
	int32_t covered = -1;   /* last reference position covered on cur_contig (gVCF tiling) */
	for (int i = 0; i < n_units; ++i) {
		sq_call_unit_t *u = &r->u[i];
		const sq_call_contig_t *ct = &ref->c[u->contig];
		int rid = bcf_hdr_name2id(h, ct->name);
		if (u->contig != cur_contig) cur_contig = u->contig, covered = -1;
		int a = 0, b = 0;
		while (a < u->n_rec || (gvcf && b < u->n_blk)) {
			int take_rec = a < u->n_rec && (!gvcf || b >= u->n_blk || u->rec[a].pos <= u->blk[b].start);
			if (take_rec) {
				const sq_call_rec_t *rc = &u->rec[a++];
				if (write_rec(fp, h, v, rid, rc, gvcf) < 0) { sq_log_error("cannot write '%s'", path); goto fail; }
				int32_t e = rc->pos + rc->ref_len - 1;
				if (e > covered) covered = e;
				if (!gvcf && st) {
					st->n_records++;
					if (rc->has_snp) st->n_snp++;
					if (rc->has_indel) st->n_indel++;
					if (rc->n_al > 2) st->n_multiallelic++;
					if (!rc->filter) st->n_pass++;
				}
			} else {
				const sq_call_block_t *bk = &u->blk[b++];
				int32_t s = bk->start, e = bk->end;
				if (s <= covered) s = covered + 1;   /* a deletion from the previous unit */
				if (s >= e) continue;
				if (write_block(fp, h, v, rid, ct->seq, s, e, bk) < 0) { sq_log_error("cannot write '%s'", path); goto fail; }
				covered = e - 1;
				if (st) st->n_blocks++;
			}
		}
	}
	bcf_destroy(v), v = NULL;
	errno = 0;
	if (hts_close(fp) != 0 || htslib_oom()) { fp = NULL; sq_log_error("cannot write '%s' (disk full or out of memory?)", path); goto fail; }
	fp = NULL;
	if (gz) {
		errno = 0;
		if (tbx_index_build(tmp, 0, &tbx_conf_vcf) != 0 || htslib_oom()) { sq_log_error("cannot index '%s'", path); goto fail; }
	}
	ret = 0;
fail:
	if (v) bcf_destroy(v);
	if (fp) hts_close(fp);
	if (h) bcf_hdr_destroy(h);
	if (ret < 0 && tmp) { unlink(tmp); unlink(tmpi); }
	free(tmp), free(tmpi), free(fini);
	return ret;
}

/* ---- run ----------------------------------------------------------------------------------- */

int sq_call_run(const sq_call_opt_t *o, sq_call_stats_t *st)
{
	int ret = SQ_EINVAL, err = 0, n_units = 0, nthr = o->n_threads;
	sq_call_ref_t *ref = NULL;
	sq_call_bam_t hb;
	ival_t *iv = NULL;
	int n_iv = 0;
	run_t r;
	char *sample = NULL;
	sq_call_stats_t dummy;
	memset(&r, 0, sizeof r);
	memset(&hb, 0, sizeof hb);
	if (!st) st = &dummy;
	memset(st, 0, sizeof *st);
	if ((ret = sq_call_opt_check(o)) < 0) return ret;
	/* backend: open one device now (fails early and names the device for the header); the
	 * worker threads open their own */
	if (sq_dev_parse_kind(o->backend, &r.kind) < 0) { sq_log_error("unknown backend '%s'", o->backend); return SQ_EINVAL; }
	{
		sq_dev_t *d0 = sq_dev_open(r.kind);
		if (!d0) return SQ_EDEVICE;
		snprintf(st->backend, sizeof st->backend, "%s (%s)", sq_dev_kind_name(r.kind), sq_dev_name(d0));
		sq_dev_close(d0);
	}
	if (!sq_file_readable(o->bam_path)) { sq_log_error("cannot read BAM '%s'", o->bam_path); return SQ_EIO; }
	if (!sq_file_readable(o->ref_path)) { sq_log_error("cannot read reference '%s'", o->ref_path); return SQ_EIO; }
	if (o->regions_path && access(o->regions_path, R_OK) != 0) { sq_log_error("cannot read regions '%s'", o->regions_path); return SQ_EIO; }
	if ((ret = bam_open(o->bam_path, &hb)) < 0) goto fail;
	if (!hb.idx) {
		if ((ret = bam_load_all(o->bam_path, o, &hb)) < 0) goto fail;
		r.shared = &hb;
	}
	if (!(ref = sq_call_ref_load(o->ref_path, &err))) { ret = err; goto fail; }
	/* contig correspondence; a BAM contig with another length means another reference */
	if (!(r.cx.ref2bam = sq_malloc((size_t)ref->n * sizeof(int)))) { ret = SQ_ENOMEM; goto fail; }
	for (int i = 0; i < ref->n; ++i) {
		int t = sam_hdr_name2tid(hb.hdr, ref->c[i].name);
		r.cx.ref2bam[i] = t >= 0 ? t : -1;
		if (t >= 0 && (int64_t)sam_hdr_tid2len(hb.hdr, t) != ref->c[i].len) {
			sq_log_error("contig '%s' has length %lld in the BAM but %lld in '%s': different reference",
			             ref->c[i].name, (long long)sam_hdr_tid2len(hb.hdr, t), (long long)ref->c[i].len, o->ref_path);
			ret = SQ_EINPUT;
			goto fail;
		}
	}
	{
		int shared = 0;
		for (int i = 0; i < ref->n; ++i) shared += r.cx.ref2bam[i] >= 0;
		if (!shared && sam_hdr_nref(hb.hdr) > 0) {
			sq_log_error("'%s' and '%s' share no contig name: different reference", o->bam_path, o->ref_path);
			ret = SQ_EINPUT;
			goto fail;
		}
	}
	/* sample name: --sample, else the first @RG SM, else the file name */
	if (o->sample) sample = sq_strdup(o->sample);
	else {
		kstring_t ks = { 0, 0, NULL };
		if (sam_hdr_find_tag_pos(hb.hdr, "RG", 0, "SM", &ks) == 0) sample = sq_strdup(ks.s);
		free(ks.s);
		if (!sample) {
			const char *bn = strrchr(o->bam_path, '/');
			bn = bn ? bn + 1 : o->bam_path;
			sample = sq_strdup(bn);
			if (sample && strchr(sample, '.')) *strchr(sample, '.') = 0;
		}
	}
	if (!sample) { ret = SQ_ENOMEM; goto fail; }
	/* intervals -> units */
	if (o->regions_path) {
		if ((n_iv = load_bed(o->regions_path, ref, &iv)) < 0) { ret = n_iv; goto fail; }
	} else {
		if (!(iv = sq_malloc((size_t)ref->n * sizeof *iv))) { ret = SQ_ENOMEM; goto fail; }
		for (int i = 0; i < ref->n; ++i) {
			if (ref->c[i].len > INT32_MAX - 100000) { sq_log_error("contig '%s' too long", ref->c[i].name); ret = SQ_EINPUT; goto fail; }
			iv[n_iv].contig = i, iv[n_iv].beg = 0, iv[n_iv].end = (int32_t)ref->c[i].len, n_iv++;
		}
	}
	int m_units = 0;
	for (int i = 0; i < n_iv; ++i) m_units += (iv[i].end - iv[i].beg + o->chunk - 1) / o->chunk;
	if (!(r.u = sq_calloc((size_t)m_units + 1, sizeof *r.u))) { ret = SQ_ENOMEM; goto fail; }
	for (int i = 0; i < n_iv; ++i)
		for (int32_t p = iv[i].beg; p < iv[i].end; p += o->chunk) {
			sq_call_unit_t *u = &r.u[n_units++];
			u->contig = iv[i].contig, u->start = p;
			u->end = p + o->chunk < iv[i].end ? p + o->chunk : iv[i].end;
		}
	r.cx.o = o, r.cx.ref = ref, r.cx.gvcf = o->gvcf_path != NULL;
	r.cx.phmm = phmm_dev, r.cx.phmm_ctx = NULL;
	if (nthr > n_units && n_units > 0) nthr = n_units;
	if (!(r.bam = sq_calloc((size_t)nthr + 1, sizeof *r.bam))) { ret = SQ_ENOMEM; goto fail; }
	if (!(r.dev = sq_calloc((size_t)nthr + 1, sizeof *r.dev))) { ret = SQ_ENOMEM; goto fail; }
	r.n_threads = nthr;
	sq_log_info("%d contigs, %d units of <= %d bp, %d threads, sample '%s'", ref->n, n_units, o->chunk, nthr, sample);
	if ((ret = sq_for(nthr, unit_worker, &r, n_units)) < 0) goto fail;
	for (int i = 0; i < n_units; ++i) {
		if (r.u[i].err < 0) { ret = r.u[i].err; goto fail; }
		st->n_reads += r.u[i].n_reads, st->n_regions += r.u[i].n_regions;
		st->n_haps += r.u[i].n_haps, st->n_phmm += r.u[i].n_phmm;
	}
	/* the VCF and gVCF are one result: both are written completely before either is renamed into
	 * place (htslib may even exit() the process when an index allocation fails) */
	if ((ret = write_vcf(o->out_path, o, ref, sample, st->backend, &r, n_units, 0, st)) < 0) goto fail;
	if (o->gvcf_path && (ret = write_vcf(o->gvcf_path, o, ref, sample, st->backend, &r, n_units, 1, st)) < 0) {
		finish_vcf(o->out_path, 0);
		goto fail;
	}
	if (o->gvcf_path && (ret = finish_vcf(o->gvcf_path, 1)) < 0) {
		finish_vcf(o->gvcf_path, 0), finish_vcf(o->out_path, 0);
		goto fail;
	}
	if ((ret = finish_vcf(o->out_path, 1)) < 0) {   /* no gVCF left without its VCF either */
		char gi[PATH_MAX + 8];
		finish_vcf(o->out_path, 0);
		if (o->gvcf_path) {
			snprintf(gi, sizeof gi, "%s.tbi", o->gvcf_path);
			unlink(o->gvcf_path), unlink(gi);
		}
		goto fail;
	}
	ret = 0;
fail:
	if (r.u) for (int i = 0; i < n_units; ++i) sq_call_unit_free(&r.u[i]);
	if (r.bam) for (int i = 0; i < r.n_threads; ++i) bam_close(&r.bam[i]);
	if (r.dev) for (int i = 0; i < r.n_threads; ++i) if (r.dev[i]) sq_dev_close(r.dev[i]);
	free(r.dev);
	free(r.u), free(r.bam), free(r.cx.ref2bam), free(iv), free(sample);
	bam_close(&hb);
	sq_call_ref_free(ref);
	return ret;
}
