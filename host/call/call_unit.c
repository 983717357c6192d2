/* seqa — the caller's per-chunk work: reads -> pileup evidence -> active regions ->
 * haplotypes -> pair-HMM -> genotypes -> records and reference blocks.
 *
 * A unit owns [start, end) of one contig.  It looks at reads over the window
 * [start - MARGIN, end + MARGIN) so that an active region that starts inside the unit is seen
 * whole, and keeps only the regions whose first position it owns: every unit computes the
 * same regions whatever the thread count, so the VCF does not depend on -t.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "call_unit.h"
#include "pairhmm.h"
#include "seqa/log.h"
#include "seqa/util.h"

#define MARGIN      1500     /* window margin around a unit (bp) */
#define REGION_GAP  25       /* candidates closer than this share an active region */
#define REGION_MAX  200      /* an active region spans at most this much (bp) */
#define READ_PAD    60       /* reads are clipped to the region +- READ_PAD */
#define HAP_PAD     80       /* haplotypes span the region +- HAP_PAD */
#define MAX_CAND    24       /* candidate alleles per region */
#define MAPPING_CAP 4.5      /* per-read likelihood floor below its best (log10; GATK's 45) */
#define MIN_USABLE_BQ 18     /* pair-HMM: bases below this count as Q6 (GATK) */
#define LK_GRID     0.01     /* read likelihoods are quantised to this (log10) */
#define LK_GUARD    5e-5     /* ... after a double re-run when this close to a rounding boundary */
#define GCP_Q       10

/* ---- small vectors ------------------------------------------------------------------ */

#define VEC_PUSH(arr, n, m, T, fail_label) do { if ((n) == (m)) { int _m = (m) ? (m) * 2 : 64; \
	T *_p = sq_realloc((arr), (size_t)_m * sizeof(T)); if (!_p) goto fail_label; (arr) = _p; (m) = _m; } } while (0)

typedef struct {
	sq_call_event_t ev;
	int32_t read;          /* read index */
	uint8_t q;             /* base quality (SNP) or mean of flanks (indel) */
} obs_t;

typedef struct {
	sq_call_event_t ev;
	int count;             /* reads carrying it */
	int qsum;
	int from_asm;
} cand_t;

typedef struct {
	bam1_t *b;
	int32_t beg, end;      /* aligned reference span [beg, end) */
	int32_t obs0, obs1;    /* its observations in the sorted-by-read obs array */
} read_t;

/* ---- reference model (per-position genotype likelihoods for gVCF blocks) ------------- */

static double lq_match[94], lq_mis[94], lq_het[94];
static void init_tables(void)
{
	static int done;
	if (done) return;
	for (int q = 0; q < 94; ++q) {
		double e = pow(10.0, -q / 10.0);
		if (e > 0.75) e = 0.75;
		lq_match[q] = log10(1.0 - e);
		lq_mis[q] = log10(e / 3.0);
		lq_het[q] = log10(0.5 * (1.0 - e) + 0.5 * e / 3.0);
	}
	done = 1;
}

/* ---- reads -------------------------------------------------------------------------- */

int sq_call_read_pass(const bam1_t *b, int min_mapq)
{
	if (b->core.flag & (BAM_FUNMAP | BAM_FSECONDARY | BAM_FQCFAIL | BAM_FDUP | BAM_FSUPPLEMENTARY))
		return 0;
	if (b->core.qual < min_mapq || b->core.n_cigar == 0) return 0;
	return 1;
}

static inline char read_base(const bam1_t *b, int i) { return seq_nt16_str[bam_seqi(bam_get_seq(b), i)]; }

/* ---- haplotypes --------------------------------------------------------------------- */

/* Apply the candidates selected by mask to ref[hs, he); returns length written to out, or -1
 * when two selected events overlap. */
static int build_hap(const char *seq, int32_t hs, int32_t he, const cand_t *c, int nc,
                     uint64_t mask, char *out, int cap)
{
	int n = 0;
	int32_t p = hs;
	for (int i = 0; i < nc; ++i) {
		if (!(mask >> i & 1)) continue;
		const sq_call_event_t *e = &c[i].ev;
		if (e->pos < p || e->pos + e->ref_len > he) return -1;
		int k = e->pos - p;
		if (n + k + e->alt_len >= cap) return -1;
		memcpy(out + n, seq + p, (size_t)k), n += k;
		memcpy(out + n, e->alt, (size_t)e->alt_len), n += e->alt_len;
		p = e->pos + e->ref_len;
	}
	if (n + (he - p) >= cap) return -1;
	memcpy(out + n, seq + p, (size_t)(he - p)), n += he - p;
	out[n] = 0;
	return n;
}

static int events_overlap(const sq_call_event_t *a, const sq_call_event_t *b)
{
	return a->pos < b->pos + b->ref_len && b->pos < a->pos + a->ref_len;
}

/* ---- records ------------------------------------------------------------------------ */

static void rec_free(sq_call_rec_t *r) { free(r->alleles), free(r->ad), free(r->pl), free(r->pl_g); }

void sq_call_unit_free(sq_call_unit_t *u)
{
	for (int i = 0; i < u->n_rec; ++i) rec_free(&u->rec[i]);
	free(u->rec), free(u->blk);
	u->rec = NULL, u->blk = NULL, u->n_rec = u->m_rec = u->n_blk = u->m_blk = 0;
}

static int obs_cmp_ev(const void *a, const void *b)
{
	const obs_t *x = a, *y = b;
	int c = sq_call_event_cmp(&x->ev, &y->ev);
	return c ? c : (x->read < y->read ? -1 : x->read > y->read);
}
static int obs_cmp_read(const void *a, const void *b)
{
	const obs_t *x = a, *y = b;
	if (x->read != y->read) return x->read < y->read ? -1 : 1;
	return sq_call_event_cmp(&x->ev, &y->ev);
}
static int rec_cmp(const void *a, const void *b)
{
	const sq_call_rec_t *x = a, *y = b;
	if (x->pos != y->pos) return x->pos < y->pos ? -1 : 1;
	return strcmp(x->alleles, y->alleles);
}

/* Does the read carry event e?  Binary search in its observations (sorted by event). */
static int read_has(const obs_t *obs, const read_t *rd, const sq_call_event_t *e)
{
	int lo = rd->obs0, hi = rd->obs1;
	while (lo < hi) {
		int mid = (lo + hi) / 2, c = sq_call_event_cmp(&obs[mid].ev, e);
		if (c == 0) return 1;
		if (c < 0) lo = mid + 1; else hi = mid;
	}
	return 0;
}

/* Clip read bases to reference coordinates [cs, ce) (soft clips projected onto the
 * reference, insertions attached to the preceding base).  Returns the number of bases. */
static int clip_read(const bam1_t *b, int32_t cs, int32_t ce, int cap_q, char *seq, uint8_t *q)
{
	const uint32_t *cig = bam_get_cigar(b);
	const uint8_t *qual = bam_get_qual(b);
	int n = 0, qp = 0, nc = b->core.n_cigar;
	int32_t rp = (int32_t)b->core.pos;
	for (int i = 0; i < nc; ++i) {
		int op = bam_cigar_op(cig[i]), len = bam_cigar_oplen(cig[i]);
		if (op == BAM_CSOFT_CLIP) {
			int32_t r0 = i == 0 ? rp - len : rp;
			for (int k = 0; k < len; ++k) {
				int32_t r = r0 + k;
				if (r >= cs && r < ce) {
					seq[n] = read_base(b, qp + k);
					q[n++] = (uint8_t)(qual[qp + k] < cap_q ? qual[qp + k] : cap_q);
				}
			}
			qp += len;
		} else if (op == BAM_CMATCH || op == BAM_CEQUAL || op == BAM_CDIFF) {
			for (int k = 0; k < len; ++k) {
				int32_t r = rp + k;
				if (r >= cs && r < ce) {
					seq[n] = read_base(b, qp + k);
					q[n++] = (uint8_t)(qual[qp + k] < cap_q ? qual[qp + k] : cap_q);
				}
			}
			qp += len, rp += len;
		} else if (op == BAM_CINS) {
			if (rp - 1 >= cs && rp - 1 < ce)
				for (int k = 0; k < len; ++k) {
					seq[n] = read_base(b, qp + k);
					q[n++] = (uint8_t)(qual[qp + k] < cap_q ? qual[qp + k] : cap_q);
				}
			qp += len;
		} else if (op == BAM_CDEL || op == BAM_CREF_SKIP) {
			rp += len;
		}
	}
	for (int i = 0; i < n; ++i) if (q[i] < MIN_USABLE_BQ) q[i] = 6;   /* GATK: base_quality_score_threshold 18 -> Q6 */
	return n;
}

/* PCR indel error model (GATK's CONSERVATIVE default): the insertion/deletion gap-open
 * quality of a read base falls with the length, in repeat units, of the tandem repeat
 * (unit 1..4 bp) it lies in: Q = max(10, round(40 - exp(L / (3 pi)) + 1)).  Polymerase
 * stutter in a long homopolymer is then explained by an indel error in the read rather than
 * by an indel on a haplotype. */
static void pcr_indel_quals(const char *s, int n, uint8_t *iq, uint8_t *dq)
{
	static uint8_t tab[256];
	if (!tab[1]) for (int L = 0; L < 256; ++L) {
		double q = 40.0 - exp(L / (3.0 * M_PI)) + 1.0;
		tab[L] = (uint8_t)(q < 10 ? 10 : lround(q));
	}
	for (int i = 0; i < n; ++i) iq[i] = dq[i] = tab[1];
	for (int u = 1; u <= 4; ++u)
		for (int i = 0; i + u <= n;) {   /* maximal runs of period u starting at i */
			int j = i + u;
			while (j < n && s[j] == s[j - u]) j++;
			int L = (j - i) / u;
			if (L >= 2) {
				uint8_t q = tab[L > 255 ? 255 : L];
				for (int t = i; t < j; ++t) if (q < iq[t]) iq[t] = dq[t] = q;
			}
			i = (j - i >= 2 * u) ? j - u + 1 : i + 1;
		}
}

/* ---- one active region ---------------------------------------------------------------- */

typedef struct {
	const sq_call_ctx_t *cx;
	const sq_call_contig_t *ct;
	read_t *rd; int n_rd;
	obs_t  *obs;
	sq_call_unit_t *u;
} unit_state_t;

static int add_record(sq_call_unit_t *u, const sq_call_rec_t *r)
{
	VEC_PUSH(u->rec, u->n_rec, u->m_rec, sq_call_rec_t, fail);
	u->rec[u->n_rec++] = *r;
	return 0;
fail:
	return SQ_ENOMEM;
}

/* Genotype the site made of the candidates c[i0..i1) (same pos).  hap_al[h]: allele of hap
 * h at the site (-1: overlapping other event).  lk: n_rd x n_hap read likelihoods. */
static int genotype_site(unit_state_t *st, const cand_t *c, int i0, int i1, int n_hap,
                         const int *hap_al, const double *lk, const int *rsel, int n_rsel,
                         const int32_t *rbeg, const int32_t *rend)
{
	const sq_call_opt_t *o = st->cx->o;
	const char *seq = st->ct->seq;
	int n_al = 1 + (i1 - i0), ret = SQ_ENOMEM;
	int32_t pos = c[i0].ev.pos, ref_len = 1;
	for (int i = i0; i < i1; ++i) if (c[i].ev.ref_len > ref_len) ref_len = c[i].ev.ref_len;
	double *alk = NULL, *gl = NULL, *sub = NULL;
	int *site_reads = NULL, *pl = NULL, n_sr = 0;
	sq_call_rec_t rec;
	memset(&rec, 0, sizeof rec);
	alk = sq_malloc((size_t)(n_rsel + 1) * (n_al + 1) * sizeof(double));
	site_reads = sq_malloc((size_t)(n_rsel + 1) * sizeof(int));
	gl = sq_malloc((size_t)sq_call_n_gt(n_al + 1) * sizeof(double));
	pl = sq_malloc((size_t)sq_call_n_gt(n_al + 1) * sizeof(int));
	sub = sq_malloc((size_t)(n_rsel + 1) * (n_al + 1) * sizeof(double));
	if (!alk || !site_reads || !gl || !pl || !sub) goto done;
	/* marginalise: allele likelihood = best haplotype carrying it */
	int64_t mq2 = 0;
	for (int k = 0; k < n_rsel; ++k) {
		if (rbeg[k] > pos || rend[k] < pos + ref_len) continue;   /* read must span the site */
		double *a = alk + (size_t)n_sr * n_al;
		for (int j = 0; j < n_al; ++j) a[j] = -INFINITY;
		for (int h = 0; h < n_hap; ++h) {
			int al = hap_al[h];
			if (al < 0) continue;
			double v = lk[(size_t)k * n_hap + h];
			if (v > a[al]) a[al] = v;
		}
		int ok = 1;
		for (int j = 0; j < n_al; ++j) if (a[j] == -INFINITY) ok = 0;
		if (!ok) continue;
		site_reads[n_sr++] = k;
		int mq = st->rd[rsel[k]].b->core.qual;
		mq2 += (int64_t)mq * mq;
	}
	if (n_sr == 0) { ret = 0; goto done; }
	double prior[MAX_CAND + 2];
	prior[0] = 0;
	for (int j = 1; j < n_al; ++j) {
		const sq_call_event_t *e = &c[i0 + j - 1].ev;
		prior[j] = e->type == SQ_EV_SNP ? o->snp_het : o->indel_het;
	}
	sq_call_genotype_gl(alk, n_sr, n_al, gl);
	int a1, a2, gq;
	double qual;
	sq_call_genotype_call(gl, n_al, prior, &a1, &a2, &qual, &gq, pl);
	if ((a1 == 0 && a2 == 0) || qual < o->min_qual_emit) { ret = 0; goto done; }
	/* keep REF and the called alleles only; re-genotype on that subset */
	int keep[3], nk = 0;
	keep[nk++] = 0;
	if (a1 != 0) keep[nk++] = a1;
	if (a2 != a1 && a2 != 0) keep[nk++] = a2;
	for (int r = 0; r < n_sr; ++r)
		for (int j = 0; j < nk; ++j) sub[(size_t)r * (nk + 1) + j] = alk[(size_t)r * n_al + keep[j]];
	/* <NON_REF> column: the worst allele per read (an unseen allele explains nothing) */
	for (int r = 0; r < n_sr; ++r) {
		double mn = INFINITY;
		for (int j = 0; j < n_al; ++j) if (alk[(size_t)r * n_al + j] < mn) mn = alk[(size_t)r * n_al + j];
		sub[(size_t)r * (nk + 1) + nk] = mn;
	}
	double pr2[4];
	pr2[0] = 0;
	for (int j = 1; j < nk; ++j) pr2[j] = prior[keep[j]];
	pr2[nk] = o->snp_het;
	/* genotype on kept alleles (the first nk columns of each row of stride nk+1) */
	double *sub2 = sq_malloc((size_t)(n_sr + 1) * nk * sizeof(double));
	if (!sub2) goto done;
	for (int r = 0; r < n_sr; ++r)
		for (int j = 0; j < nk; ++j) sub2[(size_t)r * nk + j] = sub[(size_t)r * (nk + 1) + j];
	sq_call_genotype_gl(sub2, n_sr, nk, gl);
	free(sub2);
	rec.pl = sq_malloc((size_t)sq_call_n_gt(nk) * sizeof(int));
	rec.pl_g = sq_malloc((size_t)sq_call_n_gt(nk + 1) * sizeof(int));
	rec.ad = sq_calloc((size_t)nk, sizeof(int));
	if (!rec.pl || !rec.pl_g || !rec.ad) goto done;
	sq_call_genotype_call(gl, nk, pr2, &rec.a1, &rec.a2, &qual, &rec.gq, rec.pl);
	if ((rec.a1 == 0 && rec.a2 == 0) || qual < o->min_qual_emit) { ret = 0; goto done; }
	{
		double glg[10];
		int t1, t2, tgq;
		double tq;
		sq_call_genotype_gl(sub, n_sr, nk + 1, glg);
		sq_call_genotype_call(glg, nk + 1, pr2, &t1, &t2, &tq, &tgq, rec.pl_g);
	}
	/* AD: reads whose best allele beats the others by >= 0.2 log10 (GATK's informative reads) */
	for (int r = 0; r < n_sr; ++r) {
		const double *a = sub + (size_t)r * (nk + 1);
		int best = 0;
		for (int j = 1; j < nk; ++j) if (a[j] > a[best]) best = j;
		double second = -INFINITY;
		for (int j = 0; j < nk; ++j) if (j != best && a[j] > second) second = a[j];
		if (a[best] - second >= 0.2) rec.ad[best]++;
	}
	/* alleles: REF = ref[pos, pos+ref_len); each ALT padded with the reference suffix; then
	 * the common suffix of all kept alleles trimmed (normalised representation) */
	{
		int32_t rl = 1;
		for (int j = 1; j < nk; ++j) if (c[i0 + keep[j] - 1].ev.ref_len > rl) rl = c[i0 + keep[j] - 1].ev.ref_len;
		char *al[3];
		int all[3];
		size_t tot = 0;
		for (int j = 0; j < nk; ++j) {
			const char *s; int sl; int32_t erl;
			if (j == 0) s = seq + pos, sl = rl, erl = rl;
			else s = c[i0 + keep[j] - 1].ev.alt, sl = c[i0 + keep[j] - 1].ev.alt_len, erl = c[i0 + keep[j] - 1].ev.ref_len;
			int pad = j == 0 ? 0 : rl - erl;
			al[j] = sq_malloc((size_t)sl + pad + 1);
			if (!al[j]) { for (int t = 0; t < j; ++t) free(al[t]); goto done; }
			memcpy(al[j], s, (size_t)sl);
			memcpy(al[j] + sl, seq + pos + erl, (size_t)pad);
			all[j] = sl + pad;
			al[j][all[j]] = 0;
		}
		for (;;) {   /* trim common suffix while every allele keeps >= 1 base */
			int ok = 1;
			for (int j = 0; j < nk; ++j) if (all[j] < 2 || al[j][all[j] - 1] != al[0][all[0] - 1]) ok = 0;
			if (!ok) break;
			for (int j = 0; j < nk; ++j) al[j][--all[j]] = 0;
		}
		for (int j = 0; j < nk; ++j) tot += (size_t)all[j] + 1;
		rec.alleles = sq_malloc(tot + 1);
		if (!rec.alleles) { for (int t = 0; t < nk; ++t) free(al[t]); goto done; }
		rec.alleles[0] = 0;
		for (int j = 0; j < nk; ++j) {
			if (j) strcat(rec.alleles, ",");
			strcat(rec.alleles, al[j]);
			if (j && all[j] == all[0]) rec.has_snp = 1;
			if (j && all[j] != all[0]) rec.has_indel = 1;
			free(al[j]);
		}
		rec.ref_len = all[0];
	}
	rec.pos = pos;
	rec.n_al = nk;
	rec.qual = (float)qual;
	rec.dp = n_sr;
	rec.mq = (int)lround(sqrt((double)mq2 / n_sr));
	int alt_dp = 0;
	for (int j = 1; j < nk; ++j) alt_dp += rec.ad[j];
	double qd = qual / (double)(rec.ad[0] + alt_dp > 0 ? rec.ad[0] + alt_dp : n_sr);
	if (qual < o->min_qual_pass) rec.filter |= SQ_FLT_LOWQUAL;
	if (qd < o->min_qd) rec.filter |= SQ_FLT_LOWQD;
	if (add_record(st->u, &rec) < 0) goto done;
	memset(&rec, 0, sizeof rec);
	ret = 0;
done:
	rec_free(&rec);
	free(alk), free(site_reads), free(gl), free(pl), free(sub);
	return ret;
}

static int process_region(unit_state_t *st, const cand_t *c_in, int nc_in, int32_t rs, int32_t re)
{
	const sq_call_ctx_t *cx = st->cx;
	const sq_call_opt_t *o = cx->o;
	const sq_call_contig_t *ct = st->ct;
	int ret = SQ_ENOMEM, n_hap = 0, max_haps = o->max_haps, nc = nc_in;
	int32_t hs = rs - HAP_PAD, he = re + HAP_PAD, cs = rs - READ_PAD, ce = re + READ_PAD;
	if (hs < 0) hs = 0;
	if (he > ct->len) he = (int32_t)ct->len;
	if (cs < 0) cs = 0;
	if (ce > ct->len) ce = (int32_t)ct->len;
	cand_t c[MAX_CAND];
	memcpy(c, c_in, (size_t)nc * sizeof *c);
	uint64_t *masks = NULL; int *mcount = NULL, n_masks = 0;
	uint64_t asm_mask[64]; int n_asm = 0;
	char *hapbuf = NULL; int32_t *hap_off = NULL; uint64_t *hap_mask = NULL;
	int *rsel = NULL, n_rsel = 0; int32_t *rbeg = NULL, *rend = NULL, *roff = NULL;
	char *rseq = NULL; uint8_t *rq = NULL, *riq = NULL, *rdq = NULL, *rgcp = NULL;
	double *lk = NULL; int *hap_al = NULL;
	char **ahaps = NULL; int n_ahaps = 0;
	sq_call_event_t *aev = NULL; int n_aev = 0, m_aev = 0;
	size_t rcap = 0, rn = 0;

	rsel = sq_malloc((size_t)(st->n_rd + 1) * sizeof *rsel);
	rbeg = sq_malloc((size_t)(st->n_rd + 1) * sizeof *rbeg);
	rend = sq_malloc((size_t)(st->n_rd + 1) * sizeof *rend);
	roff = sq_malloc((size_t)(st->n_rd + 2) * sizeof *roff);
	masks = sq_malloc((size_t)(st->n_rd + 1) * sizeof *masks);
	mcount = sq_malloc((size_t)(st->n_rd + 1) * sizeof *mcount);
	if (!masks || !mcount || !rsel || !rbeg || !rend || !roff) goto fail;

	/* 1. reads overlapping the region (sorted by position: binary search the first), clipped
	 * to [cs, ce) in structure-of-arrays form for the pair-HMM */
	int lo = 0, hi = st->n_rd, cap_q = 60;
	while (lo < hi) { int mid = (lo + hi) / 2; if (st->rd[mid].b->core.pos < cs - 1000) lo = mid + 1; else hi = mid; }
	roff[0] = 0;
	for (int i = lo; i < st->n_rd && st->rd[i].beg < ce; ++i) {
		const read_t *r = &st->rd[i];
		if (r->end <= rs || r->beg >= re) continue;
		size_t need = rn + (size_t)r->b->core.l_qseq + 1;
		if (need > rcap) {
			size_t nc2 = need * 2 + 1024;
			char *s2 = sq_realloc(rseq, nc2);
			if (!s2) goto fail;
			rseq = s2;
			uint8_t *q2 = sq_realloc(rq, nc2);
			if (!q2) goto fail;
			rq = q2, rcap = nc2;
		}
		int mq = r->b->core.qual;
		int n = clip_read(r->b, cs, ce, mq < cap_q ? (mq > 6 ? mq : 6) : cap_q, rseq + rn, rq + rn);
		if (n < 10) continue;
		rsel[n_rsel] = i;
		rbeg[n_rsel] = r->beg > cs ? r->beg : cs;
		rend[n_rsel] = r->end < ce ? r->end : ce;
		rn += (size_t)n;
		roff[++n_rsel] = (int32_t)rn;
	}
	if (n_rsel == 0) { ret = 0; goto fail; }

	/* 2. local de Bruijn assembly: events of assembled haplotypes near the region join the
	 * candidates, and each assembled haplotype is a candidate combination */
	if (o->assemble && n_rsel >= 2) {
		static const int ks[] = { 10, 25, 31 };   /* k-mers are packed in 64 bits: k <= 31 */
		const char **rp = sq_malloc((size_t)n_rsel * sizeof *rp);
		const uint8_t **qp = sq_malloc((size_t)n_rsel * sizeof *qp);
		int *rl = sq_malloc((size_t)n_rsel * sizeof *rl);
		if (!rp || !qp || !rl) { free(rp), free(qp), free(rl); goto fail; }
		for (int k = 0; k < n_rsel; ++k) rp[k] = rseq + roff[k], qp[k] = rq + roff[k], rl[k] = roff[k + 1] - roff[k];
		n_ahaps = sq_call_assemble(ct->seq + hs, he - hs, rp, rl, qp, n_rsel, ks, 3, 2, 8, &ahaps);
		free(rp), free(qp), free(rl);
		if (n_ahaps < 0) { ret = n_ahaps; n_ahaps = 0; goto fail; }
		for (int h = 0; h < n_ahaps; ++h) {
			int a0 = n_aev;
			int e = sq_call_hap_events(ct->seq + hs, he - hs, ahaps[h], (int)strlen(ahaps[h]), hs, ct->seq, ct->len, &aev, &n_aev, &m_aev);
			if (e < 0) { ret = e; goto fail; }
			uint64_t m = 0;
			int ok = 1;
			for (int t = a0; t < n_aev && ok; ++t) {
				sq_call_event_t *ev = &aev[t];
				if (ev->pos < rs || ev->pos > re) continue;   /* records stay inside their region: sorted, never duplicated */
				int j;
				for (j = 0; j < nc; ++j) if (sq_call_event_cmp(&c[j].ev, ev) == 0) break;
				if (j == nc) {
					if (nc == MAX_CAND) continue;
					memset(&c[nc], 0, sizeof c[nc]);
					c[nc].ev = *ev, c[nc].from_asm = 1;
					nc++;
				}
				m |= 1ULL << j;
			}
			if (ok && m && n_asm < 64) asm_mask[n_asm++] = m;
		}
		/* keep candidates in position order (masks refer to indices: remap) */
		int perm[MAX_CAND], inv[MAX_CAND];
		for (int j = 0; j < nc; ++j) perm[j] = j;
		for (int x = 1; x < nc; ++x)   /* insertion sort by event */
			for (int y = x; y > 0 && sq_call_event_cmp(&c[perm[y - 1]].ev, &c[perm[y]].ev) > 0; --y) {
				int t = perm[y]; perm[y] = perm[y - 1]; perm[y - 1] = t;
			}
		cand_t tmp[MAX_CAND];
		for (int j = 0; j < nc; ++j) tmp[j] = c[perm[j]], inv[perm[j]] = j;
		memcpy(c, tmp, (size_t)nc * sizeof *c);
		for (int h = 0; h < n_asm; ++h) {
			uint64_t m = 0;
			for (int j = 0; j < nc; ++j) if (asm_mask[h] >> j & 1) m |= 1ULL << inv[j];
			asm_mask[h] = m;
		}
	}
	if (nc == 0) { ret = 0; goto fail; }

	/* 3. allele combinations observed in reads that span every candidate */
	for (int k = 0; k < n_rsel; ++k) {
		const read_t *r = &st->rd[rsel[k]];
		uint64_t m = 0;
		int spans = 1;
		for (int j = 0; j < nc; ++j) {
			if (r->beg > c[j].ev.pos || r->end < c[j].ev.pos + c[j].ev.ref_len + 1) { spans = 0; break; }
			if (read_has(st->obs, r, &c[j].ev)) m |= 1ULL << j;
		}
		if (!spans) continue;
		int t;
		for (t = 0; t < n_masks && masks[t] != m; ++t) {}
		if (t == n_masks) masks[n_masks] = m, mcount[n_masks++] = 0;
		mcount[t]++;
	}

	/* 4. candidate haplotypes: reference, read-observed combinations (>= 2 reads, most
	 * supported first), assembled haplotypes, then every single allele */
	int cap = (he - hs) + 64 * nc + 16;
	hap_off = sq_malloc((size_t)(max_haps + 2) * sizeof *hap_off);
	hap_mask = sq_malloc((size_t)(max_haps + 1) * sizeof *hap_mask);
	hapbuf = sq_malloc((size_t)cap * (max_haps + 1));
	if (!hap_off || !hap_mask || !hapbuf) goto fail;
	hap_off[0] = 0;
	{
		uint64_t order[1 + 64 + 64 + MAX_CAND];
		int no = 0;
		order[no++] = 0;
		for (;;) {   /* selection by count, ties by mask value: deterministic */
			int best = -1;
			for (int k = 0; k < n_masks; ++k)
				if (mcount[k] >= 2 && masks[k] != 0 &&
				    (best < 0 || mcount[k] > mcount[best] || (mcount[k] == mcount[best] && masks[k] < masks[best])))
					best = k;
			if (best < 0 || no >= 64) break;
			order[no++] = masks[best];
			mcount[best] = 0;
		}
		for (int h = 0; h < n_asm; ++h) order[no++] = asm_mask[h];
		for (int j = 0; j < nc; ++j) order[no++] = 1ULL << j;
		for (int k = 0; k < no && n_hap < max_haps; ++k) {
			int dup = 0;
			for (int h = 0; h < n_hap; ++h) if (hap_mask[h] == order[k]) dup = 1;
			if (dup) continue;
			int len = build_hap(ct->seq, hs, he, c, nc, order[k], hapbuf + hap_off[n_hap], cap);
			if (len < 0) continue;
			/* identical sequence from a different mask (equivalent events): keep the first */
			for (int h = 0; h < n_hap && !dup; ++h)
				if (hap_off[h + 1] - hap_off[h] == len && memcmp(hapbuf + hap_off[h], hapbuf + hap_off[n_hap], (size_t)len) == 0) dup = 1;
			if (dup) continue;
			hap_mask[n_hap] = order[k];
			hap_off[n_hap + 1] = hap_off[n_hap] + len;
			n_hap++;
		}
	}
	if (n_hap < 2) { ret = 0; goto fail; }

	/* 5. read x haplotype likelihoods (one pair-HMM batch per region) */
	riq = sq_malloc(rn + 1), rdq = sq_malloc(rn + 1), rgcp = sq_malloc(rn + 1);
	lk = sq_malloc((size_t)n_rsel * n_hap * sizeof(double));
	hap_al = sq_malloc((size_t)n_hap * sizeof(int));
	if (!riq || !rdq || !rgcp || !lk || !hap_al) goto fail;
	memset(rgcp, GCP_Q, rn);
	for (int k = 0; k < n_rsel; ++k) pcr_indel_quals(rseq + roff[k], roff[k + 1] - roff[k], riq + roff[k], rdq + roff[k]);
	{
		sq_phmm_batch_t bt;
		memset(&bt, 0, sizeof bt);
		bt.n_reads = n_rsel, bt.n_haps = n_hap;
		bt.read_seq = rseq, bt.base_q = rq, bt.ins_q = riq, bt.del_q = rdq, bt.gcp = rgcp;
		bt.read_off = roff, bt.hap_seq = hapbuf, bt.hap_off = hap_off;
		bt.out = lk;
		int e = cx->phmm(cx->phmm_ctx, &bt);
		if (e < 0) { ret = e; goto fail; }
	}
	/* Backend-independent likelihoods: quantise to LK_GRID log10; a value within LK_GUARD of a
	 * rounding boundary is recomputed by the double-precision reference kernel first.  A
	 * backend whose error is below LK_GUARD (the documented tolerance is 1e-5) then yields
	 * exactly round(reference), so the VCF is identical on every backend. */
	for (int k = 0; k < n_rsel; ++k)
		for (int h = 0; h < n_hap; ++h) {
			double *v = &lk[(size_t)k * n_hap + h];
			if (!isfinite(*v)) continue;
			double x = *v / LK_GRID, f = x - floor(x);
			if (fabs(f - 0.5) < LK_GUARD / LK_GRID) {
				int32_t ro = roff[k], ho = hap_off[h];
				*v = sq_phmm_ref_one(hapbuf + ho, hap_off[h + 1] - ho, rseq + ro, roff[k + 1] - ro,
				                     rq + ro, riq + ro, rdq + ro, rgcp + ro);
				x = *v / LK_GRID;
				st->u->n_rerun++;
			}
			*v = floor(x + 0.5) * LK_GRID;
		}
	st->u->n_regions++;
	st->u->n_haps += n_hap;
	st->u->n_phmm += (int64_t)n_rsel * n_hap;
	/* cap each read's likelihoods at its best - MAPPING_CAP (mis-mapping floor) */
	for (int k = 0; k < n_rsel; ++k) {
		double *l = lk + (size_t)k * n_hap, best = -INFINITY;
		for (int h = 0; h < n_hap; ++h) if (l[h] > best) best = l[h];
		for (int h = 0; h < n_hap; ++h) if (l[h] < best - MAPPING_CAP || isnan(l[h])) l[h] = best - MAPPING_CAP;
	}
	/* 6. sites: candidates sharing a position, genotyped on marginal allele likelihoods */
	for (int i0 = 0; i0 < nc;) {
		int i1 = i0 + 1;
		while (i1 < nc && c[i1].ev.pos == c[i0].ev.pos) i1++;
		int32_t p = c[i0].ev.pos, rl = 1;
		for (int i = i0; i < i1; ++i) if (c[i].ev.ref_len > rl) rl = c[i].ev.ref_len;
		sq_call_event_t span = { .pos = p, .ref_len = (int16_t)rl };
		for (int h = 0; h < n_hap; ++h) {
			int al = 0;
			for (int j = 0; j < nc; ++j) {
				if (!(hap_mask[h] >> j & 1)) continue;
				if (j >= i0 && j < i1) { al = 1 + (j - i0); break; }
				if (events_overlap(&c[j].ev, &span)) al = -1;
			}
			hap_al[h] = al;
		}
		/* only alleles present on some haplotype can be genotyped */
		int present[MAX_CAND + 1] = { 0 };
		for (int h = 0; h < n_hap; ++h) if (hap_al[h] >= 0) present[hap_al[h]] = 1;
		if (present[0]) {
			cand_t sc[MAX_CAND];
			int map[MAX_CAND + 1], ns = 0;
			map[0] = 0;
			for (int j = 1; j <= i1 - i0; ++j) {
				if (present[j]) sc[ns] = c[i0 + j - 1], map[j] = ++ns;
				else map[j] = -1;
			}
			int hal2[n_hap];
			for (int h = 0; h < n_hap; ++h) hal2[h] = hap_al[h] < 0 ? -1 : map[hap_al[h]];
			if (ns > 0) {
				int e = genotype_site(st, sc, 0, ns, n_hap, hal2, lk, rsel, n_rsel, rbeg, rend);
				if (e < 0) { ret = e; goto fail; }
			}
		}
		i0 = i1;
	}
	ret = 0;
fail:
	if (ahaps) { for (int h = 0; h < n_ahaps; ++h) free(ahaps[h]); free(ahaps); }
	free(aev);
	free(masks), free(mcount), free(hapbuf), free(hap_off), free(hap_mask);
	free(rsel), free(rbeg), free(rend), free(roff), free(rseq), free(rq), free(riq), free(rdq), free(rgcp);
	free(lk), free(hap_al);
	return ret;
}

/* ---- reference blocks ------------------------------------------------------------------ */

static int band_of(int gq)
{
	static const int bands[] = { 0, 1, 5, 10, 15, 20, 30, 40, 50, 60, 99 };
	int b = 0;
	for (int i = 0; i < (int)(sizeof bands / sizeof *bands); ++i) if (gq >= bands[i]) b = i;
	return b;
}

static int make_blocks(sq_call_unit_t *u, int32_t ws, const int *depth, const double *gl3)
{
	/* positions covered by this unit's records are not reference blocks */
	int32_t covered = -1;
	int ri = 0, cur_band = -1;
	sq_call_block_t blk = { 0 };
	int64_t dp_sum = 0;
	for (int32_t p = u->start; p < u->end; ++p) {
		while (ri < u->n_rec && u->rec[ri].pos <= p) {
			int32_t e = u->rec[ri].pos + u->rec[ri].ref_len - 1;
			if (e > covered) covered = e;
			ri++;
		}
		int in_var = p <= covered;
		int gq = 0, pl1 = 0, pl2 = 0, dp = depth[p - ws];
		if (!in_var) {
			const double *g = gl3 + 3 * (size_t)(p - ws);
			double mx = g[0] > g[1] ? (g[0] > g[2] ? g[0] : g[2]) : (g[1] > g[2] ? g[1] : g[2]);
			if (g[0] >= mx) {
				double a = -10.0 * (g[1] - mx), b = -10.0 * (g[2] - mx);
				pl1 = a > 9999 ? 9999 : (int)lround(a);
				pl2 = b > 9999 ? 9999 : (int)lround(b);
				gq = pl1 < pl2 ? pl1 : pl2;
				if (gq > 99) gq = 99;
			}
		}
		int band = in_var ? -1 : band_of(gq);
		if (cur_band >= 0 && band != cur_band) {
			blk.end = p;
			blk.dp = (int)(dp_sum / (blk.end - blk.start));
			VEC_PUSH(u->blk, u->n_blk, u->m_blk, sq_call_block_t, fail);
			u->blk[u->n_blk++] = blk;
			cur_band = -1;
		}
		if (band < 0) continue;
		if (cur_band < 0) {
			cur_band = band;
			blk.start = p, blk.gq = gq, blk.min_dp = dp, blk.pl1 = pl1, blk.pl2 = pl2;
			dp_sum = 0;
		}
		if (gq < blk.gq) blk.gq = gq;
		if (dp < blk.min_dp) blk.min_dp = dp;
		if (pl1 < blk.pl1) blk.pl1 = pl1;
		if (pl2 < blk.pl2) blk.pl2 = pl2;
		dp_sum += dp;
	}
	if (cur_band >= 0) {
		blk.end = u->end;
		blk.dp = (int)(dp_sum / (blk.end - blk.start));
		VEC_PUSH(u->blk, u->n_blk, u->m_blk, sq_call_block_t, fail);
		u->blk[u->n_blk++] = blk;
	}
	return 0;
fail:
	return SQ_ENOMEM;
}

/* ---- the unit ------------------------------------------------------------------------- */

int sq_call_unit_run(const sq_call_ctx_t *cx, sq_call_bam_t *bam, sq_call_unit_t *u)
{
	const sq_call_opt_t *o = cx->o;
	const sq_call_contig_t *ct = &cx->ref->c[u->contig];
	const char *seq = ct->seq;
	int ret = SQ_ENOMEM;
	int32_t ws = u->start - MARGIN, we = u->end + MARGIN;
	if (ws < 0) ws = 0;
	if (we > ct->len) we = (int32_t)ct->len;
	int32_t W = we - ws;
	read_t *rd = NULL; int n_rd = 0, m_rd = 0;
	obs_t *obs = NULL; int n_obs = 0, m_obs = 0;
	cand_t *cand = NULL; int n_cand = 0, m_cand = 0;
	int *depth = NULL, *sclip = NULL;
	double *gl3 = NULL;
	hts_itr_t *itr = NULL;
	init_tables();
	depth = sq_calloc((size_t)W + 1, sizeof *depth);
	sclip = sq_calloc((size_t)W + 1, sizeof *sclip);
	gl3 = sq_calloc((size_t)3 * W + 3, sizeof *gl3);
	if (!depth || !sclip || !gl3) goto fail;

	/* 1. reads and pileup evidence */
	int btid = cx->ref2bam[u->contig];
	if (btid >= 0) {
		int64_t mi = 0, me = 0;
		if (bam->mem) {   /* unindexed BAM held in memory: binary search the window */
			int64_t lo = bam->mem_off[btid], hi = bam->mem_off[btid + 1];
			me = hi;
			while (lo < hi) {
				int64_t mid = (lo + hi) / 2;
				if (bam->mem[mid]->core.pos < ws - bam->mem_span) lo = mid + 1; else hi = mid;
			}
			mi = lo;
		} else {
			itr = sam_itr_queryi(bam->idx, btid, ws, we);
			if (!itr) { sq_log_error("cannot query %s:%d-%d in the BAM", ct->name, ws + 1, we); ret = SQ_EINPUT; goto fail; }
		}
		int r = 0;
		for (;;) {
			bam1_t *b;
			if (bam->mem) {
				if (mi >= me || bam->mem[mi]->core.pos >= we) break;
				b = bam->mem[mi++];
				if (bam_endpos(b) <= ws) continue;
			} else {
				if ((r = sam_itr_next(bam->fp, itr, bam->b)) < 0) break;
				b = bam->b;
			}
			if (!sq_call_read_pass(b, o->min_mapq)) continue;
			VEC_PUSH(rd, n_rd, m_rd, read_t, fail);
			read_t *R = &rd[n_rd];
			if (!(R->b = bam_dup1(b))) goto fail;
			n_rd++;
			R->beg = (int32_t)b->core.pos;
			R->end = (int32_t)bam_endpos(b);
			if (b->core.pos >= u->start && b->core.pos < u->end) u->n_reads++;
			const uint32_t *cig = bam_get_cigar(b);
			const uint8_t *qual = bam_get_qual(b);
			int qp = 0, mq = b->core.qual;
			int32_t rp = (int32_t)b->core.pos;
			for (uint32_t i = 0; i < b->core.n_cigar; ++i) {
				int op = bam_cigar_op(cig[i]), len = bam_cigar_oplen(cig[i]);
				if (op == BAM_CMATCH || op == BAM_CEQUAL || op == BAM_CDIFF) {
					for (int k = 0; k < len; ++k) {
						int32_t p = rp + k;
						if (p < ws || p >= we) continue;
						int q = qual[qp + k];
						if (q > mq) q = mq;
						if (q > 93) q = 93;
						char bch = read_base(b, qp + k), rch = seq[p];
						if (q < o->min_baseq || bch == 'N') continue;
						depth[p - ws]++;
						double *g = gl3 + 3 * (size_t)(p - ws);
						if (bch == rch || rch == 'N') {
							g[0] += lq_match[q], g[1] += lq_het[q], g[2] += lq_mis[q];
						} else {
							g[0] += lq_mis[q], g[1] += lq_het[q], g[2] += lq_match[q];
							VEC_PUSH(obs, n_obs, m_obs, obs_t, fail);
							obs_t *ob = &obs[n_obs++];
							memset(&ob->ev, 0, sizeof ob->ev);
							ob->ev.pos = p, ob->ev.type = SQ_EV_SNP, ob->ev.ref_len = 1, ob->ev.alt_len = 1;
							ob->ev.alt[0] = bch;
							ob->read = n_rd - 1, ob->q = (uint8_t)q;
						}
					}
					qp += len, rp += len;
				} else if (op == BAM_CINS) {
					if (rp - 1 >= ws && rp < we && len <= 62 && qp > 0 && i + 1 < b->core.n_cigar) {
						VEC_PUSH(obs, n_obs, m_obs, obs_t, fail);
						obs_t *ob = &obs[n_obs];
						memset(&ob->ev, 0, sizeof ob->ev);
						ob->ev.pos = rp - 1, ob->ev.type = SQ_EV_INS, ob->ev.ref_len = 1;
						ob->ev.alt_len = (int16_t)(len + 1);
						ob->ev.alt[0] = seq[rp - 1];
						int qs = 0, bad = 0;
						for (int k = 0; k < len; ++k) {
							char bch = read_base(b, qp + k);
							if (bch == 'N') bad = 1;
							ob->ev.alt[1 + k] = bch;
							qs += qual[qp + k];
						}
						ob->ev.alt[len + 1] = 0;
						ob->read = n_rd - 1, ob->q = (uint8_t)(qs / len > 93 ? 93 : qs / len);
						if (!bad && sq_call_event_left_align(&ob->ev, seq, ct->len) == 0 && ob->ev.pos >= ws) n_obs++;
					}
					qp += len;
				} else if (op == BAM_CDEL) {
					if (rp - 1 >= ws && rp + len < we && len <= 200 && qp > 0) {
						VEC_PUSH(obs, n_obs, m_obs, obs_t, fail);
						obs_t *ob = &obs[n_obs];
						memset(&ob->ev, 0, sizeof ob->ev);
						ob->ev.pos = rp - 1, ob->ev.type = SQ_EV_DEL, ob->ev.ref_len = (int16_t)(len + 1);
						ob->ev.alt_len = 1, ob->ev.alt[0] = seq[rp - 1];
						ob->read = n_rd - 1, ob->q = 30;
						if (sq_call_event_left_align(&ob->ev, seq, ct->len) == 0 && ob->ev.pos >= ws) n_obs++;
					}
					for (int k = 0; k < len; ++k) {
						int32_t p = rp + k;
						if (p < ws || p >= we) continue;
						depth[p - ws]++;
						double *g = gl3 + 3 * (size_t)(p - ws);
						g[0] += lq_mis[30], g[1] += lq_het[30], g[2] += lq_match[30];
					}
					rp += len;
				} else if (op == BAM_CSOFT_CLIP) {
					int32_t p = i == 0 ? rp : rp - 1;
					if (len >= 5 && p >= ws && p < we) sclip[p - ws]++;
					qp += len;
				} else if (op == BAM_CREF_SKIP) {
					rp += len;
				}
			}
		}
		if (r < -1) { sq_log_error("%s: BAM read error near %s:%d", o->bam_path, ct->name, ws + 1); ret = SQ_EINPUT; goto fail; }
	}

	/* 2. candidate alleles: identical left-aligned events, enough reads and allele fraction */
	qsort(obs, (size_t)n_obs, sizeof *obs, obs_cmp_ev);
	for (int i = 0; i < n_obs;) {
		int j = i + 1, n = 1, qs = obs[i].q;
		while (j < n_obs && sq_call_event_cmp(&obs[j].ev, &obs[i].ev) == 0) {
			if (obs[j].read != obs[j - 1].read) n++, qs += obs[j].q;
			j++;
		}
		const sq_call_event_t *e = &obs[i].ev;
		int32_t p = e->pos - ws;
		int dp = depth[p];
		if (e->type != SQ_EV_SNP && p + 1 < W && depth[p + 1] > dp) dp = depth[p + 1];
		double frac = dp > 0 ? (double)n / dp : 1.0;
		int ok;
		if (e->type == SQ_EV_SNP) ok = n >= 2 && frac >= 0.10 && qs >= 40 && e->alt[0] != 'N';
		else ok = n >= 2 && frac >= 0.08;
		if (ok) {
			VEC_PUSH(cand, n_cand, m_cand, cand_t, fail);
			cand[n_cand].ev = *e, cand[n_cand].count = n, cand[n_cand].qsum = qs, cand[n_cand].from_asm = 0;
			n_cand++;
		}
		i = j;
	}
	/* reads' own observation lists, sorted by event for read_has() */
	qsort(obs, (size_t)n_obs, sizeof *obs, obs_cmp_read);
	for (int i = 0; i < n_rd; ++i) rd[i].obs0 = rd[i].obs1 = 0;
	for (int i = 0; i < n_obs;) {
		int j = i;
		while (j < n_obs && obs[j].read == obs[i].read) j++;
		rd[obs[i].read].obs0 = i, rd[obs[i].read].obs1 = j;
		i = j;
	}

	/* 3. active regions: runs of nearby candidates; a unit owns the regions starting in it */
	unit_state_t st = { cx, ct, rd, n_rd, obs, u };
	for (int i = 0; i < n_cand;) {
		int32_t rs = cand[i].ev.pos, re = sq_call_event_end(&cand[i].ev);
		int j = i + 1;
		while (j < n_cand && cand[j].ev.pos <= re + REGION_GAP && cand[j].ev.pos - rs < REGION_MAX) {
			int32_t e = sq_call_event_end(&cand[j].ev);
			if (e > re) re = e;
			j++;
		}
		if (rs >= u->start && rs < u->end) {
			/* at most MAX_CAND candidates: keep the best supported, in position order */
			int nc = j - i;
			cand_t *rc = cand + i;
			cand_t sel[MAX_CAND];
			if (nc > MAX_CAND) {
				char used[REGION_MAX * 8 + 1024];
				int nn = nc < (int)sizeof used ? nc : (int)sizeof used;
				memset(used, 0, (size_t)nn);
				for (int k = 0; k < MAX_CAND; ++k) {
					int best = -1;
					for (int t = 0; t < nn; ++t)
						if (!used[t] && (best < 0 || rc[t].count > rc[best].count)) best = t;
					used[best] = 1;
				}
				int k = 0;
				for (int t = 0; t < nn; ++t) if (used[t]) sel[k++] = rc[t];
				rc = sel, nc = MAX_CAND;
			}
			int e = process_region(&st, rc, nc, rs, re);
			if (e < 0) { ret = e; goto fail; }
		}
		i = j;
	}
	qsort(u->rec, (size_t)u->n_rec, sizeof *u->rec, rec_cmp);
	/* 4. reference blocks for the gVCF */
	if (cx->gvcf && make_blocks(u, ws, depth, gl3) < 0) goto fail;
	ret = 0;
fail:
	if (itr) hts_itr_destroy(itr);
	for (int i = 0; i < n_rd; ++i) bam_destroy1(rd[i].b);
	free(rd), free(obs), free(cand), free(depth), free(sclip), free(gl3);
	if (ret < 0) sq_call_unit_free(u);
	return ret;
}
