/* seqa — alignment QC in one pass over a coordinate-sorted BAM/CRAM (see seqa/qc.h).
 *
 * Counts (flagstat, mapped/paired/duplicates) follow samtools flagstat exactly: every record is
 * counted, QC-passed and QC-failed separately; "primary" excludes secondary and supplementary.
 *
 * Depth follows the GA4GH WGS-QC definition of mean_autosome_coverage: primary, mapped, not
 * duplicate, not QC-failed alignments with MAPQ >= opt->min_mapq, bases with BQ >= opt->min_baseq,
 * deletions not counted, bases of a read overlapping its mate counted once (the mate that comes
 * second in coordinate order skips the first mate's span; `samtools depth -s` does the same),
 * every position of the autosomes (or of the target BED) counted, zeros included, positions
 * where the reference is N excluded when a reference is given (GA4GH "non gap regions").
 *
 * Positions are finalised in a ring buffer as soon as the sorted input moves past them, so memory
 * does not grow with the genome.  At each finalised autosomal position with a reference base, the
 * base counts (same filters) feed the contamination model (sites where the sample looks het or
 * hom-alt), the allele-balance histogram, the background error rate and the fingerprint panel.
 *
 * Insert size: primary, paired, both mates mapped to the same contig, TLEN > 0 (one per pair),
 * duplicates included (GA4GH mean_insert_size, as samtools stats).
 * Mismatch rate: (NM - inserted - deleted bases) / aligned (M/=/X) bases of primary mapped reads.
 */
#include <stdlib.h>
#include <string.h>
#include <htslib/sam.h>
#include <htslib/faidx.h>
#include <htslib/khash.h>
#include "seqa/qc.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "qc_internal.h"

typedef struct { int64_t end, mpos; } qc_mate_t;    /* first mate's aligned end; where its mate is */
KHASH_MAP_INIT_STR(qcmate, qc_mate_t)

#define QC_WIN   (1 << 20)        /* ring buffer: positions in flight */
#define QC_MAXD  1000             /* depth histogram cap */
#define QC_MAXIS 100000           /* insert size histogram cap */
#define QC_ABBINS 50              /* allele-balance histogram bins */

typedef struct { int64_t beg, end; } qc_iv_t;             /* 0-based half-open */
typedef struct { int64_t pos; char ref, alt; int ref_n, alt_n; float af; } qc_fpsite_t;
typedef struct { qc_fpsite_t **s; int *n; int it; } qc_sites_t;    /* per contig, sorted */

typedef struct {
	const sq_qc_opt_t *opt;
	sam_hdr_t *h;
	faidx_t *fai;
	/* per contig */
	int n_ctg;
	int *cls;
	qc_iv_t **tgt; int *n_tgt;                 /* target BED per contig (NULL: no BED) */
	qc_sites_t fp;                             /* fingerprint panel */
	qc_sites_t cs;                             /* contamination panel (with allele frequencies) */
	/* current contig */
	int tid; int64_t len;
	char *ref; hts_pos_t ref_len;
	int64_t done;                              /* positions < done are finalised */
	int it_tgt;
	uint32_t *dp;
	uint16_t (*cnt)[4];
	khash_t(qcmate) *mates;
	int warned_span;
	int64_t n_since_sweep;
	/* flagstat [0] QC-passed, [1] QC-failed */
	int64_t total[2], primary[2], secondary[2], supp[2], dup[2], pdup[2], mapped[2], pmapped[2];
	int64_t paired[2], read1[2], read2[2], proper[2], both[2], single[2], diffchr[2], diffchr5[2];
	/* alignment */
	int64_t aligned_bases, mismatches, nm_missing;
	int64_t *is_hist, is_over;
	/* depth */
	int64_t dhist[QC_MAXD + 1], dsum, dn;
	int64_t cls_sum[5], cls_n[5];
	/* sites */
	sq_qc_site_t *sites; int64_t n_sites, m_sites;
	int64_t ab_hist[QC_ABBINS];
	int64_t bg_nonref, bg_total;
	int oom;                                   /* a site could not be stored */
} qc_bam_t;

static const int8_t qc_nt4[16] = { -1, 0, 1, -1, 2, -1, -1, -1, 3, -1, -1, -1, -1, -1, -1, -1 };

static int base4(char c)
{
	switch (c) {
	case 'A': case 'a': return 0;
	case 'C': case 'c': return 1;
	case 'G': case 'g': return 2;
	case 'T': case 't': return 3;
	default: return -1;
	}
}

/* ---- inputs: BED and fingerprint panel ------------------------------------------------ */

static int iv_cmp(const void *a, const void *b)
{
	const qc_iv_t *x = a, *y = b;
	return x->beg < y->beg ? -1 : x->beg > y->beg;
}

static int fp_cmp(const void *a, const void *b)
{
	const qc_fpsite_t *x = a, *y = b;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int load_bed(qc_bam_t *q, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[4096], name[1024];
	int64_t ln = 0, *m = 0;
	if (!fp) { sq_log_error("cannot open target BED '%s'", path); return SQ_EIO; }
	q->tgt = sq_calloc(q->n_ctg, sizeof *q->tgt);
	q->n_tgt = sq_calloc(q->n_ctg, sizeof *q->n_tgt);
	m = sq_calloc(q->n_ctg, sizeof *m);
	if (!q->tgt || !q->n_tgt || !m) { fclose(fp); free(m); return SQ_ENOMEM; }
	while (fgets(line, sizeof line, fp)) {
		long long b, e;
		++ln;
		if (line[0] == '#' || strncmp(line, "track", 5) == 0 || strncmp(line, "browser", 7) == 0 || line[0] == '\n') continue;
		if (sscanf(line, "%1023s %lld %lld", name, &b, &e) != 3 || b < 0 || e < b) {
			sq_log_error("%s:%lld: not a BED line", path, (long long)ln);
			fclose(fp); free(m); return SQ_EINPUT;
		}
		int tid = sam_hdr_name2tid(q->h, name);
		if (tid < 0) continue;
		if (q->n_tgt[tid] == m[tid]) {
			m[tid] = m[tid] ? 2 * m[tid] : 16;
			qc_iv_t *p = sq_realloc(q->tgt[tid], m[tid] * sizeof *p);
			if (!p) { fclose(fp); free(m); return SQ_ENOMEM; }
			q->tgt[tid] = p;
		}
		q->tgt[tid][q->n_tgt[tid]++] = (qc_iv_t){ b, e };
	}
	fclose(fp);
	free(m);
	for (int t = 0; t < q->n_ctg; ++t)
		if (q->n_tgt[t]) qsort(q->tgt[t], q->n_tgt[t], sizeof(qc_iv_t), iv_cmp);
	return 0;
}

/* Allele frequency from a VCF INFO column ("AF=0.12;..."), or -1. */
static float info_af(const char *info)
{
	const char *p = info;
	while (p && *p) {
		if (strncmp(p, "AF=", 3) == 0) return strtof(p + 3, 0);
		p = strchr(p, ';');
		if (p) ++p;
	}
	return -1;
}

/* SNV sites: VCF (CHROM POS ID REF ALT QUAL FILTER INFO; AF from INFO) or TSV "contig pos ref alt
 * [af]" (1-based).  Lines starting '#', multi-allelic and non-SNV sites skipped; with need_af,
 * sites without an AF in (0, 1) too. */
static int load_sites(qc_bam_t *q, const char *path, qc_sites_t *L, int need_af)
{
	htsFile *fp = hts_open(path, "r");
	kstring_t s = { 0, 0, 0 };
	int64_t *m = 0, ln = 0;
	int ret = 0;
	if (!fp) { sq_log_error("cannot open site list '%s'", path); return SQ_EIO; }
	L->s = sq_calloc(q->n_ctg, sizeof *L->s);
	L->n = sq_calloc(q->n_ctg, sizeof *L->n);
	m = sq_calloc(q->n_ctg, sizeof *m);
	if (!L->s || !L->n || !m) { ret = SQ_ENOMEM; goto fail; }
	while (hts_getline(fp, '\n', &s) >= 0) {
		char *tok[9];
		int nt = 0;
		++ln;
		if (s.l == 0 || s.s[0] == '#') continue;
		for (char *p = s.s, *save = 0; nt < 9 && (p = strtok_r(nt ? 0 : p, " \t\r", &save)); ) tok[nt++] = p;
		long long pos = nt >= 2 ? strtoll(tok[1], 0, 10) : 0;
		if (nt < 4 || pos < 1) { sq_log_error("%s:%lld: expected 'contig pos ref alt [af]' or VCF", path, (long long)ln); ret = SQ_EINPUT; goto fail; }
		const char *ref = tok[2], *alt = tok[3];
		float af = nt >= 5 ? strtof(tok[4], 0) : -1;
		if (nt >= 5 && base4(tok[2][0]) < 0) { ref = tok[3]; alt = tok[4]; af = nt >= 8 ? info_af(tok[7]) : -1; }   /* VCF */
		if (strlen(ref) != 1 || strlen(alt) != 1 || base4(ref[0]) < 0 || base4(alt[0]) < 0) continue; /* SNVs only */
		if (need_af && !(af > 0 && af < 1)) continue;
		int tid = sam_hdr_name2tid(q->h, tok[0]);
		if (tid < 0) continue;
		if (L->n[tid] == m[tid]) {
			m[tid] = m[tid] ? 2 * m[tid] : 64;
			qc_fpsite_t *p = sq_realloc(L->s[tid], m[tid] * sizeof *p);
			if (!p) { ret = SQ_ENOMEM; goto fail; }
			L->s[tid] = p;
		}
		L->s[tid][L->n[tid]++] = (qc_fpsite_t){ pos - 1, (char)(ref[0] & 0xdf), (char)(alt[0] & 0xdf), 0, 0, af };
	}
	for (int t = 0; t < q->n_ctg; ++t)
		if (L->n[t]) qsort(L->s[t], L->n[t], sizeof(qc_fpsite_t), fp_cmp);
fail:
	free(m);
	free(s.s);
	hts_close(fp);
	return ret;
}

static void sites_free(qc_sites_t *L, int n_ctg)
{
	if (L->s) for (int t = 0; t < n_ctg; ++t) free(L->s[t]);
	free(L->s);
	free(L->n);
}

/* Record the base counts at pos for the list's sites there. */
static void sites_update(qc_sites_t *L, int tid, int64_t pos, const uint16_t *cnt)
{
	if (!L->s || !L->n[tid]) return;
	while (L->it < L->n[tid] && L->s[tid][L->it].pos < pos) L->it++;
	while (L->it < L->n[tid] && L->s[tid][L->it].pos == pos) {
		qc_fpsite_t *s = &L->s[tid][L->it++];
		s->ref_n = cnt[base4(s->ref)];
		s->alt_n = cnt[base4(s->alt)];
	}
}

/* ---- per-position finalisation ---------------------------------------------------------- */

static void finalise(qc_bam_t *q, int64_t pos)
{
	int c = q->cls[q->tid];
	size_t w = (size_t)(pos & (QC_WIN - 1));
	uint32_t d = q->dp[w];
	int rb = -1;
	if (q->ref) {
		if (pos >= q->ref_len) goto clear;
		rb = base4(q->ref[pos]);
		if (rb < 0 && (q->ref[pos] == 'N' || q->ref[pos] == 'n')) goto clear;   /* gap */
	}
	/* territory for the depth distribution */
	int in = 0;
	if (q->tgt) {
		while (q->it_tgt < q->n_tgt[q->tid] && q->tgt[q->tid][q->it_tgt].end <= pos) q->it_tgt++;
		in = q->it_tgt < q->n_tgt[q->tid] && q->tgt[q->tid][q->it_tgt].beg <= pos;
	} else in = c == 1;
	if (in) {
		q->dhist[d > QC_MAXD ? QC_MAXD : d]++;
		q->dsum += d;
		q->dn++;
	}
	q->cls_sum[c] += d;
	q->cls_n[c]++;
	if (rb >= 0 && d > 0) {
		uint16_t *n = q->cnt[w];
		int alt = -1, an = 0;
		for (int b = 0; b < 4; ++b) if (b != rb && n[b] > an) an = n[b], alt = b;
		double af = (double)an / d;
		if (c == 1 && (int)d >= q->opt->contam_min_depth) {
			if (af >= q->opt->contam_min_af) {
				if (q->n_sites == q->m_sites) {
					int64_t nm = q->m_sites ? 2 * q->m_sites : 4096;
					sq_qc_site_t *p = realloc(q->sites, nm * sizeof *p);
					if (p) q->sites = p, q->m_sites = nm;
					else q->oom = 1;
				}
				if (q->n_sites < q->m_sites)
					q->sites[q->n_sites++] = (sq_qc_site_t){ (uint16_t)(d > 65535 ? 65535 : d), (uint16_t)(an > 65535 ? 65535 : an) };
			} else if (af < 0.1) {
				q->bg_nonref += d - n[rb];
				q->bg_total += d;
			}
			if (af >= 0.1) {
				int bin = (int)(af * QC_ABBINS);
				q->ab_hist[bin >= QC_ABBINS ? QC_ABBINS - 1 : bin]++;
			}
		}
		(void)alt;
	}
	sites_update(&q->fp, q->tid, pos, q->cnt[w]);
	sites_update(&q->cs, q->tid, pos, q->cnt[w]);
clear:
	q->dp[w] = 0;
	memset(q->cnt[w], 0, sizeof q->cnt[w]);
}

static void flush_to(qc_bam_t *q, int64_t upto)
{
	if (upto > q->len) upto = q->len;
	for (; q->done < upto; ++q->done) finalise(q, q->done);
}

static void mates_clear(qc_bam_t *q)
{
	for (khint_t k = kh_begin(q->mates); k != kh_end(q->mates); ++k)
		if (kh_exist(q->mates, k)) free((char *)kh_key(q->mates, k));
	kh_clear(qcmate, q->mates);
}

/* Forget first mates whose mate should have come by now (it was filtered out: duplicate, low
 * MAPQ, secondary...), so the table stays small on a whole chromosome. */
static void mates_sweep(qc_bam_t *q, int64_t pos)
{
	for (khint_t k = kh_begin(q->mates); k != kh_end(q->mates); ++k)
		if (kh_exist(q->mates, k) && kh_val(q->mates, k).mpos < pos) {
			free((char *)kh_key(q->mates, k));
			kh_del(qcmate, q->mates, k);
		}
	q->n_since_sweep = 0;
}

static int contig_begin(qc_bam_t *q, int tid)
{
	q->tid = tid;
	q->len = sam_hdr_tid2len(q->h, tid);
	q->done = 0;
	q->it_tgt = q->fp.it = q->cs.it = 0;
	free(q->ref);
	q->ref = 0;
	q->ref_len = 0;
	if (q->fai && q->cls[tid] != 0) {
		const char *name = sam_hdr_tid2name(q->h, tid);
		if (faidx_has_seq(q->fai, name)) {
			q->ref = faidx_fetch_seq64(q->fai, name, 0, HTS_POS_MAX, &q->ref_len);
			if (!q->ref) { sq_log_error("cannot read contig '%s' from the reference", name); return SQ_EIO; }
		}
	}
	return 0;
}

static int contig_end(qc_bam_t *q)
{
	if (q->tid < 0) return 0;
	flush_to(q, q->len);
	mates_clear(q);
	q->tid = -1;
	return 0;
}

/* Move to contig tid, finalising every contig in between (all zeros). */
static int goto_contig(qc_bam_t *q, int tid)
{
	int from = q->tid < 0 ? 0 : q->tid + 1;
	contig_end(q);
	for (int t = from; t < tid; ++t) {
		int r = contig_begin(q, t);
		if (r < 0) return r;
		contig_end(q);
	}
	return tid < q->n_ctg ? contig_begin(q, tid) : 0;
}

/* ---- per read ---------------------------------------------------------------------------- */

static void flagstat_add(qc_bam_t *q, const bam1_t *b)
{
	const bam1_core_t *c = &b->core;
	int w = (c->flag & BAM_FQCFAIL) ? 1 : 0;
	q->total[w]++;
	if (c->flag & BAM_FSECONDARY) q->secondary[w]++;
	else if (c->flag & BAM_FSUPPLEMENTARY) q->supp[w]++;
	else {
		q->primary[w]++;
		if (c->flag & BAM_FPAIRED) {
			q->paired[w]++;
			if ((c->flag & BAM_FPROPER_PAIR) && !(c->flag & BAM_FUNMAP)) q->proper[w]++;
			if (c->flag & BAM_FREAD1) q->read1[w]++;
			if (c->flag & BAM_FREAD2) q->read2[w]++;
			if ((c->flag & BAM_FMUNMAP) && !(c->flag & BAM_FUNMAP)) q->single[w]++;
			if (!(c->flag & BAM_FUNMAP) && !(c->flag & BAM_FMUNMAP)) {
				q->both[w]++;
				if (c->mtid != c->tid) {
					q->diffchr[w]++;
					if (c->qual >= 5) q->diffchr5[w]++;
				}
			}
		}
		if (!(c->flag & BAM_FUNMAP)) q->pmapped[w]++;
		if (c->flag & BAM_FDUP) q->pdup[w]++;
	}
	if (!(c->flag & BAM_FUNMAP)) q->mapped[w]++;
	if (c->flag & BAM_FDUP) q->dup[w]++;
}

static int read_add(qc_bam_t *q, bam1_t *b)
{
	const bam1_core_t *c = &b->core;
	const uint32_t *cig = bam_get_cigar(b);
	flagstat_add(q, b);
	if (c->flag & (BAM_FUNMAP | BAM_FSECONDARY | BAM_FSUPPLEMENTARY | BAM_FQCFAIL)) return 0;
	if (c->tid < 0) return 0;

	/* mismatch rate and insert size (duplicates included) */
	int64_t alen = 0, indel = 0;
	for (uint32_t k = 0; k < c->n_cigar; ++k) {
		int op = bam_cigar_op(cig[k]), l = bam_cigar_oplen(cig[k]);
		if (op == BAM_CMATCH || op == BAM_CEQUAL || op == BAM_CDIFF) alen += l;
		else if (op == BAM_CINS || op == BAM_CDEL) indel += l;
	}
	uint8_t *nm = bam_aux_get(b, "NM");
	if (nm) { q->aligned_bases += alen; q->mismatches += bam_aux2i(nm) - indel; }
	else q->nm_missing++;
	if ((c->flag & BAM_FPAIRED) && !(c->flag & BAM_FMUNMAP) && c->mtid == c->tid && c->isize > 0) {
		if (c->isize < QC_MAXIS) q->is_hist[c->isize]++;
		else q->is_over++;
	}

	/* depth */
	if (c->tid != q->tid) {
		if (c->tid < q->tid) { sq_log_error("BAM is not coordinate-sorted (contig order)"); return SQ_EINPUT; }
		int r = goto_contig(q, c->tid);
		if (r < 0) return r;
	}
	if (c->pos < q->done) { sq_log_error("BAM is not coordinate-sorted at %s:%lld", sam_hdr_tid2name(q->h, c->tid), (long long)c->pos + 1); return SQ_EINPUT; }
	flush_to(q, c->pos);
	if (++q->n_since_sweep >= (1 << 20) && kh_size(q->mates) > 65536) mates_sweep(q, c->pos);
	if ((c->flag & BAM_FDUP) || c->qual < q->opt->min_mapq) return 0;

	int64_t skip_below = -1;
	if (!q->opt->count_overlaps && (c->flag & BAM_FPAIRED) && !(c->flag & BAM_FMUNMAP) && c->mtid == c->tid) {
		const char *qn = bam_get_qname(b);
		khint_t k = c->mpos <= c->pos ? kh_get(qcmate, q->mates, qn) : kh_end(q->mates);
		if (k != kh_end(q->mates)) {
			skip_below = kh_val(q->mates, k).end;
			free((char *)kh_key(q->mates, k));
			kh_del(qcmate, q->mates, k);
		} else if (c->mpos >= c->pos) {
			int absent;
			char *key = strdup(qn);
			if (!key) { sq_log_error("out of memory (mate table)"); return SQ_ENOMEM; }
			k = kh_put(qcmate, q->mates, key, &absent);
			if (absent < 0) { free(key); sq_log_error("out of memory (mate table)"); return SQ_ENOMEM; }
			if (!absent) free(key);
			kh_val(q->mates, k) = (qc_mate_t){ bam_endpos(b), c->mpos };
		}
	}

	const uint8_t *seq = bam_get_seq(b), *qual = bam_get_qual(b);
	int64_t rp = c->pos, qp = 0;
	for (uint32_t k = 0; k < c->n_cigar; ++k) {
		int op = bam_cigar_op(cig[k]), l = bam_cigar_oplen(cig[k]);
		if (op == BAM_CMATCH || op == BAM_CEQUAL || op == BAM_CDIFF) {
			for (int i = 0; i < l; ++i, ++rp, ++qp) {
				if (rp < skip_below || rp >= q->len) continue;
				if (qual[qp] < q->opt->min_baseq) continue;
				if (rp >= q->done + QC_WIN) {
					if (!q->warned_span++) sq_log_warn("alignment spans more than %d bp: depth beyond it ignored", QC_WIN);
					continue;
				}
				size_t w = (size_t)(rp & (QC_WIN - 1));
				q->dp[w]++;
				int b4 = qc_nt4[bam_seqi(seq, qp)];
				if (b4 >= 0 && q->cnt[w][b4] < 65535) q->cnt[w][b4]++;
			}
		} else if (op == BAM_CINS || op == BAM_CSOFT_CLIP) qp += l;
		else if (op == BAM_CDEL || op == BAM_CREF_SKIP) rp += l;
	}
	return 0;
}

/* ---- summaries --------------------------------------------------------------------------- */

static int64_t hist_quantile(const int64_t *h, int n, int64_t total, double f)
{
	int64_t cum = 0, want = (int64_t)(f * (double)total);
	for (int i = 0; i < n; ++i) { cum += h[i]; if (cum > want) return i; }
	return n - 1;
}

static json_t *flagstat_json(const qc_bam_t *q)
{
	json_t *o = json_object();
	const char *names[] = { "total", "primary", "secondary", "supplementary", "duplicates", "primary_duplicates",
		"mapped", "primary_mapped", "paired_in_sequencing", "read1", "read2", "properly_paired",
		"with_itself_and_mate_mapped", "singletons", "with_mate_mapped_to_a_different_chr",
		"with_mate_mapped_to_a_different_chr_mapq5", 0 };
	const int64_t *v[] = { q->total, q->primary, q->secondary, q->supp, q->dup, q->pdup, q->mapped, q->pmapped,
		q->paired, q->read1, q->read2, q->proper, q->both, q->single, q->diffchr, q->diffchr5 };
	for (int i = 0; names[i]; ++i)
		json_object_set_new(o, names[i], json_pack("{s:I,s:I}", "qc_passed", (json_int_t)v[i][0], "qc_failed", (json_int_t)v[i][1]));
	return o;
}

static void summarise(qc_bam_t *q, json_t *o)
{
	json_t *m = json_object();
	json_object_set_new(o, "metrics", m);
	json_object_set_new(o, "flagstat", flagstat_json(q));
	/* reads: QC-passed primary alignments (as GA4GH "high quality reads, primary alignments") */
	int64_t prim = q->primary[0];
	sq_qc_metric_int(m, "total_reads_primary", prim, "reads", 0);
	sq_qc_metric_int(m, "reads_mapped", q->pmapped[0], "reads", 0);
	sq_qc_metric_num(m, "pct_reads_mapped", sq_qc_pct(q->pmapped[0], prim), "%", 1);
	sq_qc_metric_int(m, "reads_properly_paired", q->proper[0], "reads", 0);
	sq_qc_metric_num(m, "pct_reads_properly_paired", sq_qc_pct(q->proper[0], prim), "%", 1);
	sq_qc_metric_int(m, "reads_duplicated", q->pdup[0], "reads", 0);
	sq_qc_metric_num(m, "pct_reads_duplicated", sq_qc_pct(q->pdup[0], q->pmapped[0]), "%", 0);
	sq_qc_metric_num(m, "pct_singletons", sq_qc_pct(q->single[0], prim), "%", 0);
	sq_qc_metric_num(m, "mismatch_rate", q->aligned_bases ? sq_qc_round((double)q->mismatches / q->aligned_bases, 6) : 0, "fraction", 0);

	/* depth */
	double mean = q->dn ? (double)q->dsum / q->dn : 0;
	int64_t med = q->dn ? hist_quantile(q->dhist, QC_MAXD + 1, q->dn, 0.5) : 0;
	int64_t dev[QC_MAXD + 1];
	memset(dev, 0, sizeof dev);
	for (int d = 0; d <= QC_MAXD; ++d) dev[d > med ? d - med : med - d] += q->dhist[d];
	int64_t mad = q->dn ? hist_quantile(dev, QC_MAXD + 1, q->dn, 0.5) : 0;
	const char *terr = q->opt->target_bed ? "target" : "autosome";
	sq_qc_metric_str(m, "depth_territory", terr, "", 0);
	sq_qc_metric_int(m, "territory_bp", q->dn, "bp", 0);
	sq_qc_metric_num(m, "mean_autosome_coverage", sq_qc_round(mean, 4), "x", 1);
	sq_qc_metric_int(m, "median_autosome_coverage", med, "x", 0);
	sq_qc_metric_int(m, "mad_autosome_coverage", mad, "x", 1);
	static const int th[] = { 1, 10, 15, 20, 30, 0 };
	for (int i = 0; th[i]; ++i) {
		int64_t ge = 0;
		for (int d = th[i]; d <= QC_MAXD; ++d) ge += q->dhist[d];
		char name[32];
		snprintf(name, sizeof name, "pct_autosomes_%dx", th[i]);
		sq_qc_metric_num(m, name, sq_qc_pct(ge, q->dn), "%", th[i] == 15);
	}
	json_t *dh = json_array();
	int last = QC_MAXD;
	while (last > 0 && q->dhist[last] == 0) --last;
	for (int d = 0; d <= last; ++d) json_array_append_new(dh, json_integer(q->dhist[d]));
	json_object_set_new(o, "depth_histogram", dh);

	/* insert size */
	int64_t isn = q->is_over, issum = 0;
	double issq = 0;
	for (int i = 0; i < QC_MAXIS; ++i) { isn += q->is_hist[i]; issum += (int64_t)i * q->is_hist[i]; issq += (double)i * i * q->is_hist[i]; }
	int64_t isn_in = isn - q->is_over;
	double ismean = isn_in ? (double)issum / isn_in : 0;
	double issd = isn_in > 1 ? sqrt((issq - isn_in * ismean * ismean) / (isn_in - 1)) : 0;
	int64_t ismed = isn ? hist_quantile(q->is_hist, QC_MAXIS, isn, 0.5) : 0;
	sq_qc_metric_int(m, "insert_size_pairs", isn, "pairs", 0);
	sq_qc_metric_int(m, "median_insert_size", ismed, "bp", 0);
	sq_qc_metric_num(m, "mean_insert_size", sq_qc_round(ismean, 2), "bp", 1);
	sq_qc_metric_num(m, "insert_size_std_deviation", sq_qc_round(issd, 2), "bp", 1);
	json_t *ih = json_array();
	int64_t hi = isn ? hist_quantile(q->is_hist, QC_MAXIS, isn, 0.995) : 0;
	for (int64_t i = 0; i <= hi; ++i) if (q->is_hist[i]) json_array_append_new(ih, json_pack("[I,I]", (json_int_t)i, (json_int_t)q->is_hist[i]));
	json_object_set_new(o, "insert_size_histogram", ih);

	/* sex */
	double a = q->cls_n[1] ? (double)q->cls_sum[1] / q->cls_n[1] : 0;
	double x = q->cls_n[2] ? (double)q->cls_sum[2] / q->cls_n[2] : 0;
	double y = q->cls_n[3] ? (double)q->cls_sum[3] / q->cls_n[3] : 0;
	int inferred = sq_qc_infer_sex(a, x, y);
	int declared = q->opt->declared_sex;
	const char *sexname[] = { "undetermined", "female", "male" };
	const char *conc = declared == 0 ? "not_declared" : inferred == 0 ? "undetermined"
	                 : inferred == declared ? "concordant" : "discordant";
	json_object_set_new(o, "sex", json_pack("{s:f,s:f,s:f,s:f,s:f,s:b,s:b,s:s,s:s,s:s}",
		"autosome_mean_depth", sq_qc_round(a, 4), "x_mean_depth", sq_qc_round(x, 4), "y_mean_depth", sq_qc_round(y, 4),
		"x_autosome_ratio", a > 0 ? sq_qc_round(x / a, 4) : 0.0, "y_autosome_ratio", a > 0 ? sq_qc_round(y / a, 4) : 0.0,
		"has_x", q->cls_n[2] > 0, "has_y", q->cls_n[3] > 0,
		"inferred", sexname[inferred], "declared", declared ? sexname[declared] : "unknown", "concordance", conc));
	sq_qc_metric_str(m, "inferred_sex", sexname[inferred], "", 0);
	sq_qc_metric_str(m, "sex_concordance", conc, "", 0);
	sq_qc_metric_num(m, "x_autosome_depth_ratio", a > 0 ? sq_qc_round(x / a, 4) : 0, "ratio", 0);
	sq_qc_metric_num(m, "y_autosome_depth_ratio", a > 0 ? sq_qc_round(y / a, 4) : 0, "ratio", 0);
	if (q->cls_n[4]) sq_qc_metric_num(m, "mean_mt_coverage", sq_qc_round((double)q->cls_sum[4] / q->cls_n[4], 2), "x", 0);

	/* contamination */
	double err = q->bg_total ? (double)q->bg_nonref / q->bg_total : 0.001;
	if (err < 0.0005) err = 0.0005;
	json_t *ct = json_pack("{s:s,s:I,s:f}", "model", "allele-balance ML, own het/hom-alt sites (qc_contam.c)",
		"sites", (json_int_t)q->n_sites, "error_rate", sq_qc_round(err, 6));
	if (q->cs.s) {
		/* population panel: FREEMIX-style model at the panel's sites (autosomes) */
		int64_t n = 0, k = 0;
		for (int t = 0; t < q->n_ctg; ++t) if (q->cls[t] == 1) n += q->cs.n[t];
		sq_qc_afsite_t *v = sq_calloc(n ? n : 1, sizeof *v);
		for (int t = 0; v && t < q->n_ctg; ++t)
			for (int i = 0; q->cls[t] == 1 && i < q->cs.n[t]; ++i) {
				const qc_fpsite_t *s = &q->cs.s[t][i];
				if (s->ref_n + s->alt_n == 0) continue;
				v[k++] = (sq_qc_afsite_t){ s->ref_n, s->alt_n, s->af };
			}
		double alpha = 0, llr = 0;
		json_object_set_new(ct, "model", json_string("FREEMIX-style ML at population panel sites (qc_contam.c)"));
		json_object_set_new(ct, "panel", json_string(q->opt->contam_sites));
		json_object_set_new(ct, "panel_sites_covered", json_integer(k));
		if (v && sq_qc_contamination_af(v, k, err, &alpha, &llr) == 0) {
			json_object_set_new(ct, "status", json_string("ok"));
			json_object_set_new(ct, "estimate", json_real(sq_qc_round(alpha, 4)));
			json_object_set_new(ct, "log_likelihood_ratio_vs_0", json_real(sq_qc_round(llr, 3)));
			sq_qc_metric_num(m, "cross_contamination_rate", sq_qc_round(alpha, 4), "fraction", 1);
			sq_qc_metric_num(m, "pct_contamination", sq_qc_round(100 * alpha, 2), "%", 0);
		} else json_object_set_new(ct, "status", json_string("not measured: too few covered panel sites"));
		free(v);
		if (q->fai && sq_qc_contamination(q->sites, q->n_sites, err, q->opt->contam_min_af, &alpha, &llr) == 0)
			json_object_set_new(ct, "own_sites_estimate", json_real(sq_qc_round(alpha, 4)));
	} else if (!q->fai) {
		json_object_set_new(ct, "status", json_string("not measured: no reference given"));
	} else {
		double alpha = 0, llr = 0;
		if (sq_qc_contamination(q->sites, q->n_sites, err, q->opt->contam_min_af, &alpha, &llr) == 0) {
			json_object_set_new(ct, "status", json_string("ok"));
			json_object_set_new(ct, "estimate", json_real(sq_qc_round(alpha, 4)));
			json_object_set_new(ct, "log_likelihood_ratio_vs_0", json_real(sq_qc_round(llr, 3)));
			sq_qc_metric_num(m, "cross_contamination_rate", sq_qc_round(alpha, 4), "fraction", 1);
			sq_qc_metric_num(m, "pct_contamination", sq_qc_round(100 * alpha, 2), "%", 0);
		} else json_object_set_new(ct, "status", json_string("not measured: too few variant sites"));
	}
	json_object_set_new(o, "contamination", ct);
	json_t *ab = json_array();
	for (int i = 0; i < QC_ABBINS; ++i) json_array_append_new(ab, json_integer(q->ab_hist[i]));
	json_object_set_new(o, "allele_balance_histogram", ab);

	/* fingerprint */
	if (q->fp.s) {
		json_t *sites = json_array();
		for (int t = 0; t < q->n_ctg; ++t)
			for (int i = 0; i < q->fp.n[t]; ++i) {
				const qc_fpsite_t *s = &q->fp.s[t][i];
				int d = s->ref_n + s->alt_n;
				double af = d ? (double)s->alt_n / d : 0;
				const char *gt = d < 8 ? "./." : af < 0.15 ? "0/0" : af > 0.85 ? "1/1" : (af >= 0.25 && af <= 0.75) ? "0/1" : "./.";
				json_array_append_new(sites, json_pack("{s:s,s:I,s:s#,s:s#,s:i,s:i,s:s}", "contig", sam_hdr_tid2name(q->h, t),
					"pos", (json_int_t)s->pos + 1, "ref", &s->ref, 1, "alt", &s->alt, 1, "ref_count", s->ref_n, "alt_count", s->alt_n, "gt", gt));
			}
		json_object_set_new(o, "fingerprint", json_pack("{s:s,s:s,s:o}", "schema", "seqa-fingerprint/1",
			"panel", q->opt->fp_sites, "sites", sites));
	}
}

int sq_qc_bam(const char *path, const sq_qc_opt_t *opt, json_t **out)
{
	qc_bam_t q;
	samFile *in = 0;
	bam1_t *b = 0;
	int ret = 0, r;
	json_t *o = 0;

	memset(&q, 0, sizeof q);
	q.opt = opt;
	q.tid = -1;
	*out = 0;
	if (!sq_file_readable(path)) { sq_log_error("cannot read BAM '%s'", path); return SQ_EIO; }
	in = sam_open(path, "r");
	if (!in) { sq_log_error("cannot open BAM '%s'", path); return SQ_EIO; }
	if (opt->n_threads > 1) hts_set_threads(in, opt->n_threads);
	if (opt->reference) {
		if (hts_set_fai_filename(in, opt->reference) < 0) { sq_log_error("cannot use reference '%s'", opt->reference); ret = SQ_EIO; goto fail; }
		q.fai = fai_load(opt->reference);
		if (!q.fai) { sq_log_error("cannot load/index reference '%s'", opt->reference); ret = SQ_EIO; goto fail; }
	}
	q.h = sam_hdr_read(in);
	if (!q.h) { sq_log_error("%s: cannot read the header", path); ret = SQ_EINPUT; goto fail; }
	q.n_ctg = sam_hdr_nref(q.h);
	q.cls = sq_calloc(q.n_ctg + 1, sizeof *q.cls);
	q.dp = sq_calloc(QC_WIN, sizeof *q.dp);
	q.cnt = sq_calloc(QC_WIN, sizeof *q.cnt);
	q.is_hist = sq_calloc(QC_MAXIS, sizeof *q.is_hist);
	q.mates = kh_init(qcmate);
	b = bam_init1();
	if (!q.cls || !q.dp || !q.cnt || !q.is_hist || !q.mates || !b) { sq_log_error("out of memory"); ret = SQ_ENOMEM; goto fail; }
	for (int t = 0; t < q.n_ctg; ++t) q.cls[t] = sq_qc_contig_class(sam_hdr_tid2name(q.h, t));
	if (opt->target_bed && (ret = load_bed(&q, opt->target_bed)) < 0) goto fail;
	if (opt->fp_sites && (ret = load_sites(&q, opt->fp_sites, &q.fp, 0)) < 0) goto fail;
	if (opt->contam_sites && (ret = load_sites(&q, opt->contam_sites, &q.cs, 1)) < 0) goto fail;

	while ((r = sam_read1(in, q.h, b)) >= 0)
		if ((ret = read_add(&q, b)) < 0) goto fail;
	if (r < -1) { sq_log_error("%s: truncated or corrupt BAM", path); ret = SQ_EINPUT; goto fail; }
	if ((ret = goto_contig(&q, q.n_ctg)) < 0) goto fail;
	if (q.oom) { sq_log_error("out of memory storing variant sites"); ret = SQ_ENOMEM; goto fail; }

	sq_qc_oom_reset();
	o = json_object();
	json_object_set_new(o, "path", json_string(path));
	summarise(&q, o);
	json_object_set_new(o, "filters", json_pack("{s:i,s:i,s:b}", "min_mapq", opt->min_mapq, "min_baseq", opt->min_baseq,
		"overlaps_counted_once", !opt->count_overlaps));
	if (!o || (ret = sq_qc_oom_check("alignment result")) < 0) { json_decref(o); ret = SQ_ENOMEM; goto fail; }
	*out = o;
fail:
	if (q.mates) { mates_clear(&q); kh_destroy(qcmate, q.mates); }
	if (q.tgt) for (int t = 0; t < q.n_ctg; ++t) free(q.tgt[t]);
	free(q.tgt); free(q.n_tgt);
	sites_free(&q.fp, q.n_ctg);
	sites_free(&q.cs, q.n_ctg);
	free(q.cls); free(q.dp); free(q.cnt); free(q.is_hist); free(q.sites); free(q.ref);
	if (b) bam_destroy1(b);
	if (q.h) sam_hdr_destroy(q.h);
	if (q.fai) fai_destroy(q.fai);
	if (in) sam_close(in);
	return ret;
}
