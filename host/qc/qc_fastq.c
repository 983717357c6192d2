/* seqa — FASTQ QC in one pass per file (see seqa/qc.h).
 *
 * Definitions (chosen to agree with fastp's JSON "before_filtering" summary):
 *   reads, bases          every record of R1 and R2
 *   Q30 %                 bases with phred (ASCII - 33) >= 30, over all bases
 *   GC %                  (G + C) / all bases;  N %: N / all bases
 *   adapter content       reads containing the first 12 bases of the Illumina TruSeq adapter
 *                         (AGATCGGAAGAG) or of the Nextera transposase adapter (CTGTCTCTTATA);
 *                         per cycle: cumulative % of reads whose adapter starts at or before it
 *                         (FastQC's presentation)
 *   duplication           1 - distinct / total over the first opt->max_fq_dup_reads reads (pairs:
 *                         R1 and R2 sequences hashed together), an estimate as fastp's
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <htslib/kseq.h>
#include <htslib/khash.h>
#include "seqa/qc.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "qc_internal.h"

KSEQ_INIT(gzFile, gzread)
KHASH_SET_INIT_INT64(qcdup)

static const char *sq_qc_adapters[2][2] = {
	{ "truseq", "AGATCGGAAGAG" },
	{ "nextera", "CTGTCTCTTATA" },
};

typedef struct {
	int64_t reads, bases, q20, q30, gc, n, qsum;
	int64_t adapter_reads[2];
	int64_t max_cycle;
	int64_t *cyc_qsum, *cyc_n;       /* per cycle */
	int64_t *adapter_pos[2];         /* reads whose adapter first starts at cycle i */
	int64_t *len_hist;               /* index: read length */
	int64_t min_len, max_len;
} sq_fqstat_t;

static int fqstat_grow(sq_fqstat_t *s, int64_t len)
{
	if (len + 1 <= s->max_cycle) return 0;
	int64_t n = len + 1 > 2 * s->max_cycle ? len + 1 : 2 * s->max_cycle;
	int64_t **arr[5] = { &s->cyc_qsum, &s->cyc_n, &s->adapter_pos[0], &s->adapter_pos[1], &s->len_hist };
	for (int k = 0; k < 5; ++k) {
		int64_t *p = sq_realloc(*arr[k], n * sizeof(int64_t));
		if (!p) return SQ_ENOMEM;
		memset(p + s->max_cycle, 0, (n - s->max_cycle) * sizeof(int64_t));
		*arr[k] = p;
	}
	s->max_cycle = n;
	return 0;
}

static void fqstat_free(sq_fqstat_t *s)
{
	free(s->cyc_qsum); free(s->cyc_n); free(s->adapter_pos[0]); free(s->adapter_pos[1]);
	free(s->len_hist);
}

static int fqstat_add(sq_fqstat_t *s, const kseq_t *ks)
{
	int64_t l = (int64_t)ks->seq.l;
	const char *seq = ks->seq.s, *q = ks->qual.s;
	if (ks->qual.l != ks->seq.l) return SQ_EINPUT;
	if (fqstat_grow(s, l) < 0) return SQ_ENOMEM;
	s->reads++;
	s->bases += l;
	s->len_hist[l]++;
	if (s->reads == 1 || l < s->min_len) s->min_len = l;
	if (l > s->max_len) s->max_len = l;
	for (int64_t i = 0; i < l; ++i) {
		int b = seq[i] & 0xdf, qq = q[i] - 33;
		if (b == 'G' || b == 'C') s->gc++;
		else if (b == 'N') s->n++;
		if (qq >= 20) s->q20++;
		if (qq >= 30) s->q30++;
		s->qsum += qq;
		s->cyc_qsum[i] += qq;
		s->cyc_n[i]++;
	}
	for (int a = 0; a < 2; ++a) {
		const char *hit = l >= 12 ? memmem(seq, l, sq_qc_adapters[a][1], 12) : 0;
		if (hit) { s->adapter_reads[a]++; s->adapter_pos[a][hit - seq]++; }
	}
	return 0;
}

static uint64_t fnv1a(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; ++i) { h ^= (unsigned char)s[i]; h *= 1099511628211ULL; }
	return h;
}

static json_t *cycle_array(const sq_fqstat_t *s)
{
	json_t *a = json_array();
	for (int64_t i = 0; i < s->max_cycle && s->cyc_n[i] > 0; ++i)
		json_array_append_new(a, json_real(sq_qc_round((double)s->cyc_qsum[i] / s->cyc_n[i], 3)));
	return a;
}

int sq_qc_fastq(const char *r1, const char *r2, const sq_qc_opt_t *opt, json_t **out)
{
	gzFile fp[2] = { 0, 0 };
	kseq_t *ks[2] = { 0, 0 };
	sq_fqstat_t st[2];
	khash_t(qcdup) *dup = kh_init(qcdup);
	int64_t dup_total = 0;
	int ret = 0, nf = r2 ? 2 : 1;
	const char *path[2] = { r1, r2 };
	json_t *o = 0;

	memset(st, 0, sizeof st);
	*out = 0;
	if (!dup) { sq_log_error("out of memory"); return SQ_ENOMEM; }
	for (int f = 0; f < nf; ++f) {
		if (!sq_file_readable(path[f])) { sq_log_error("cannot read FASTQ '%s'", path[f]); ret = SQ_EIO; goto fail; }
		fp[f] = gzopen(path[f], "r");
		if (!fp[f]) { sq_log_error("cannot open FASTQ '%s'", path[f]); ret = SQ_EIO; goto fail; }
		gzbuffer(fp[f], 1 << 17);
		ks[f] = kseq_init(fp[f]);
		if (!ks[f]) { sq_log_error("out of memory"); ret = SQ_ENOMEM; goto fail; }
	}
	for (;;) {
		int r[2] = { -1, -1 };
		for (int f = 0; f < nf; ++f) {
			r[f] = kseq_read(ks[f]);
			if (r[f] < -1) { sq_log_error("%s: malformed FASTQ record near read %lld", path[f], (long long)st[f].reads + 1); ret = SQ_EINPUT; goto fail; }
			if (r[f] >= 0 && (ret = fqstat_add(&st[f], ks[f])) < 0) {
				if (ret == SQ_ENOMEM) sq_log_error("out of memory");
				if (ret == SQ_EINPUT) sq_log_error("%s: read %lld: sequence and quality lengths differ", path[f], (long long)st[f].reads + 1);
				goto fail;
			}
		}
		if (nf == 2 && (r[0] < 0) != (r[1] < 0)) { sq_log_error("%s and %s have different numbers of reads", r1, r2); ret = SQ_EINPUT; goto fail; }
		if (r[0] < 0) break;
		if (dup_total < opt->max_fq_dup_reads) {
			uint64_t h = fnv1a(1469598103934665603ULL, ks[0]->seq.s, ks[0]->seq.l);
			if (nf == 2) h = fnv1a(h ^ 0x9e3779b97f4a7c15ULL, ks[1]->seq.s, ks[1]->seq.l);
			int absent;
			kh_put(qcdup, dup, h, &absent);
			if (absent < 0) { sq_log_error("out of memory (duplicate table)"); ret = SQ_ENOMEM; goto fail; }
			dup_total++;
		}
	}

	sq_fqstat_t t = { 0 };
	for (int f = 0; f < nf; ++f) {
		t.reads += st[f].reads; t.bases += st[f].bases; t.q20 += st[f].q20; t.q30 += st[f].q30;
		t.gc += st[f].gc; t.n += st[f].n; t.qsum += st[f].qsum;
		t.adapter_reads[0] += st[f].adapter_reads[0]; t.adapter_reads[1] += st[f].adapter_reads[1];
	}
	double dup_rate = dup_total ? 1.0 - (double)kh_size(dup) / dup_total : 0;

	sq_qc_oom_reset();
	o = json_object();
	json_t *m = json_object();
	json_object_set_new(o, "metrics", m);
	sq_qc_metric_int(m, "total_reads", t.reads, "reads", 0);
	sq_qc_metric_int(m, "total_bases", t.bases, "bp", 0);
	sq_qc_metric_int(m, "yield_bp_q30", t.q30, "bp", 1);
	sq_qc_metric_num(m, "pct_q30_bases", sq_qc_pct(t.q30, t.bases), "%", 0);
	sq_qc_metric_num(m, "pct_q20_bases", sq_qc_pct(t.q20, t.bases), "%", 0);
	sq_qc_metric_num(m, "mean_base_quality", t.bases ? sq_qc_round((double)t.qsum / t.bases, 2) : 0, "phred", 0);
	sq_qc_metric_num(m, "pct_gc", sq_qc_pct(t.gc, t.bases), "%", 0);
	sq_qc_metric_num(m, "pct_n_bases", sq_qc_pct(t.n, t.bases), "%", 0);
	sq_qc_metric_num(m, "pct_reads_adapter_truseq", sq_qc_pct(t.adapter_reads[0], t.reads), "%", 0);
	sq_qc_metric_num(m, "pct_reads_adapter_nextera", sq_qc_pct(t.adapter_reads[1], t.reads), "%", 0);
	sq_qc_metric_num(m, "pct_duplication_estimate", sq_qc_round(100.0 * dup_rate, 3), "%", 0);
	sq_qc_metric_num(m, "mean_read_length", t.reads ? sq_qc_round((double)t.bases / t.reads, 2) : 0, "bp", 0);

	json_t *files = json_array(), *pcq = json_object(), *lh = json_object(), *ad = json_object();
	for (int f = 0; f < nf; ++f) {
		const char *rn = f ? "r2" : "r1";
		json_array_append_new(files, json_pack("{s:s,s:s,s:I,s:I,s:I,s:I,s:I}", "read", rn, "path", path[f],
			"reads", (json_int_t)st[f].reads, "bases", (json_int_t)st[f].bases, "q30_bases", (json_int_t)st[f].q30,
			"min_length", (json_int_t)st[f].min_len, "max_length", (json_int_t)st[f].max_len));
		json_object_set_new(pcq, rn, cycle_array(&st[f]));
		json_t *h = json_array();
		for (int64_t l = st[f].min_len; l <= st[f].max_len && st[f].reads; ++l)
			if (st[f].len_hist[l]) json_array_append_new(h, json_pack("[I,I]", (json_int_t)l, (json_int_t)st[f].len_hist[l]));
		json_object_set_new(lh, rn, h);
		for (int a = 0; a < 2; ++a) {
			json_t *c = json_array();
			int64_t cum = 0;
			for (int64_t i = 0; i < st[f].max_len; ++i) {
				cum += st[f].adapter_pos[a][i];
				json_array_append_new(c, json_real(sq_qc_round(sq_qc_pct(cum, st[f].reads), 4)));
			}
			char key[32];
			snprintf(key, sizeof key, "%s_%s", rn, sq_qc_adapters[a][0]);
			json_object_set_new(ad, key, c);
		}
	}
	json_object_set_new(o, "files", files);
	json_object_set_new(o, "per_cycle_quality", pcq);
	json_object_set_new(o, "length_histogram", lh);
	json_object_set_new(o, "adapter_content_cumulative_pct", ad);
	json_object_set_new(o, "duplication_reads_hashed", json_integer(dup_total));
	if (!o || (ret = sq_qc_oom_check("FASTQ result")) < 0) { ret = SQ_ENOMEM; goto fail; }
	*out = o;
	o = 0;
fail:
	for (int f = 0; f < 2; ++f) {
		if (ks[f]) kseq_destroy(ks[f]);
		if (fp[f]) gzclose(fp[f]);
		fqstat_free(&st[f]);
	}
	kh_destroy(qcdup, dup);
	json_decref(o);
	return ret;
}
