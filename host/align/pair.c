/* seqa — pairing and BAM records straight from bwa's alignment regions (no SAM text).
 *
 * Semantics are bwa mem 0.7.17's (mem_sam_pe, mem_reg2sam, mem_aln2sam), restated here on
 * top of the pieces libbwa exports: mate rescue (mem_matesw), primary marking
 * (mem_mark_primary_se), pair scoring (mem_pair), single-end MAPQ (mem_approx_mapq_se),
 * alternative hits (mem_gen_alt, the XA value) and the final alignment of a region
 * (mem_reg2aln: CIGAR, MD, NM, position).  What bwa prints as text we set as BAM fields, with
 * the integer tag types htslib's SAM parser would choose, so the records are byte-identical to
 * parsing bwa's SAM output (tests/cli/align.sh compares both paths).
 *
 *   pair:   rescue mates near the other end's good hits; mark primaries per end; if both ends
 *           have hits and mem_pair finds a pair in a proper orientation, and neither end has a
 *           second distinct hit at or above -T, use the pair (MAPQ from the pair score vs the
 *           best unpaired score, the 2nd best pair and the number of near-best pairs, scaled
 *           by the repetitive fraction; each end's MAPQ from its single-end MAPQ raised
 *           towards the pair's by at most 40 and capped by its tandem-repeat score); else
 *           write each end's hits as single-end with the proper-pair flag from the top hits.
 *   record: bwa's flag rules (mate unmapped: the unmapped end takes the mate's position),
 *           hard clips on supplementary records, TLEN from the 5' ends, SEQ/QUAL left out on
 *           secondary records, tags NM MD MC AS XS RG SA pa XA in bwa's order.
 * Read comments are never carried (the FASTQ reader drops them), so bwa's -C/-V have no
 * counterpart; MEM_F_REF_HDR (XR) is not supported.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pair.h"
#include "seqa/log.h"
#include "seqa/util.h"

/* libbwa 0.7.17 exports these without declaring them in bwamem.h */
int    mem_matesw(const mem_opt_t *opt, const bntseq_t *bns, const uint8_t *pac, const mem_pestat_t pes[4],
                  const mem_alnreg_t *a, int l_ms, const uint8_t *ms, mem_alnreg_v *ma);
int    mem_pair(const mem_opt_t *opt, const bntseq_t *bns, const uint8_t *pac, const mem_pestat_t pes[4], bseq1_t s[2],
                mem_alnreg_v a[2], int id, int *sub, int *n_sub, int z[2], int n_pri[2]);
int    mem_mark_primary_se(const mem_opt_t *opt, int n, mem_alnreg_t *a, int64_t id);
int    mem_approx_mapq_se(const mem_opt_t *opt, const mem_alnreg_t *a);
void   mem_reorder_primary5(int T, mem_alnreg_v *a);
char **mem_gen_alt(const mem_opt_t *opt, const bntseq_t *bns, const uint8_t *pac, const mem_alnreg_v *a, int l_query,
                   const char *query);

/* Phred-scaled score difference, bwa's raw_mapq. */
static int score_mapq(int diff, int a) { return (int)(6.02 * diff / a + .499); }

/* Orientation of the pair (bits: mate 2 on the other strand; mate 2 upstream) and the
 * distance of the 5' ends, mate 2 projected onto mate 1's strand (bwa's mem_infer_dir). */
static int pair_orient(int64_t l_pac, int64_t rb1, int64_t rb2, int64_t *dist)
{
	int rev1 = rb1 >= l_pac, rev2 = rb2 >= l_pac;
	int64_t p2 = rev1 == rev2 ? rb2 : (l_pac << 1) - 1 - rb2;
	*dist = p2 > rb1 ? p2 - rb1 : rb1 - p2;
	return (rev1 == rev2 ? 0 : 1) ^ (p2 > rb1 ? 0 : 3);
}

/* ---- BAM fields ------------------------------------------------------------------------- */

/* An integer tag with the type htslib's SAM parser picks for "XX:i:v". */
static int tag_int(bam1_t *b, const char *tag, int64_t v)
{
	uint8_t buf[4];
	char type;
	int len;
	if (v < 0) {
		if (v >= INT8_MIN) { type = 'c'; len = 1; int8_t x = (int8_t)v; memcpy(buf, &x, 1); }
		else if (v >= INT16_MIN) { type = 's'; len = 2; int16_t x = (int16_t)v; memcpy(buf, &x, 2); }
		else { type = 'i'; len = 4; int32_t x = (int32_t)v; memcpy(buf, &x, 4); }
	} else {
		if (v <= UINT8_MAX) { type = 'C'; len = 1; uint8_t x = (uint8_t)v; memcpy(buf, &x, 1); }
		else if (v <= UINT16_MAX) { type = 'S'; len = 2; uint16_t x = (uint16_t)v; memcpy(buf, &x, 2); }
		else { type = 'I'; len = 4; uint32_t x = (uint32_t)v; memcpy(buf, &x, 4); }
	}
	return bam_aux_append(b, tag, type, len, buf);
}

static int tag_str(bam1_t *b, const char *tag, const char *s, size_t l)
{
	return bam_aux_append(b, tag, 'Z', (int)l + 1, (const uint8_t *)s);   /* s[l] is the NUL */
}

/* bwa's CIGAR op codes MIDSH (0..4) as BAM ops */
static const uint8_t bwa2bam_op[5] = { BAM_CMATCH, BAM_CINS, BAM_CDEL, BAM_CSOFT_CLIP, BAM_CHARD_CLIP };

/* bwa's op of CIGAR element c as written for record `which` of a read: clips are hard on all
 * but the first record unless -Y or the hit is on an ALT contig. */
static int clip_op(const mem_opt_t *opt, const mem_aln_t *p, uint32_t c, int which)
{
	int op = (int)(c & 0xf);
	if (!(opt->flag & MEM_F_SOFTCLIP) && !p->is_alt && (op == 3 || op == 4)) op = which ? 4 : 3;
	return op;
}

static int cigar_text(const mem_opt_t *opt, const mem_aln_t *p, int which, int apply_clip, kstring_t *ks)
{
	if (!p->n_cigar) return kputc('*', ks) < 0 ? SQ_ENOMEM : 0;
	for (int i = 0; i < p->n_cigar; ++i) {
		int op = apply_clip ? clip_op(opt, p, p->cigar[i], which) : (int)(p->cigar[i] & 0xf);
		if (kputw((int)(p->cigar[i] >> 4), ks) < 0 || kputc("MIDSH"[op], ks) < 0) return SQ_ENOMEM;
	}
	return 0;
}

/* Reference length of a bwa CIGAR (M and D). */
static int64_t ref_len(int n, const uint32_t *c)
{
	int64_t l = 0;
	for (int i = 0; i < n; ++i) if ((c[i] & 0xf) == 0 || (c[i] & 0xf) == 2) l += c[i] >> 4;
	return l;
}

typedef struct {
	const mem_opt_t *opt;
	const bntseq_t *bns;
	const uint8_t *pac;
	uint64_t pid;
	bam1_t ***recs; int *n, *m;
	kstring_t ks;          /* tag text */
	char *sq; int m_sq;    /* SEQ/QUAL buffer */
	uint32_t *cig; int m_cig;
} rb_t;

/* Record `which` of list[0..n) (one read's hits), mate hit m_ (NULL: single-end): bwa's
 * mem_aln2sam as BAM fields.  mate: 0/1, sub: record index within the read. */
static int aln_record(rb_t *c, const bseq1_t *s, int n, const mem_aln_t *list, int which, const mem_aln_t *m_,
                      int mate, int sub)
{
	const mem_opt_t *opt = c->opt;
	mem_aln_t pv = list[which], mv, *p = &pv, *m = NULL;
	if (m_) mv = *m_, m = &mv;
	p->flag |= m ? 0x1 : 0;
	p->flag |= p->rid < 0 ? 0x4 : 0;
	p->flag |= m && m->rid < 0 ? 0x8 : 0;
	if (p->rid < 0 && m && m->rid >= 0) p->rid = m->rid, p->pos = m->pos, p->is_rev = m->is_rev, p->n_cigar = 0;
	if (m && m->rid < 0 && p->rid >= 0) m->rid = p->rid, m->pos = p->pos, m->is_rev = p->is_rev, m->n_cigar = 0;
	p->flag |= p->is_rev ? 0x10 : 0;
	p->flag |= m && m->is_rev ? 0x20 : 0;
	uint16_t flag = (uint16_t)((p->flag & 0xffff) | (p->flag & 0x10000 ? 0x100 : 0));

	int32_t tid = -1, mtid = -1;
	int64_t pos = -1, mpos = -1, tlen = 0;
	int mapq = 0, n_cig = 0;
	if (p->n_cigar > c->m_cig) {
		uint32_t *t = realloc(c->cig, (size_t)p->n_cigar * sizeof *t);
		if (!t) return SQ_ENOMEM;
		c->cig = t; c->m_cig = p->n_cigar;
	}
	uint32_t *cig = c->cig;
	if (p->rid >= 0) {
		tid = p->rid; pos = p->pos; mapq = p->mapq;
		for (int i = 0; i < p->n_cigar; ++i)
			cig[n_cig++] = (p->cigar[i] >> 4) << BAM_CIGAR_SHIFT | bwa2bam_op[clip_op(opt, p, p->cigar[i], which)];
	}
	if (m && m->rid >= 0) {
		mtid = m->rid; mpos = m->pos;
		if (p->rid == m->rid && m->n_cigar && p->n_cigar) {
			int64_t p0 = p->pos + (p->is_rev ? ref_len(p->n_cigar, p->cigar) - 1 : 0);
			int64_t p1 = m->pos + (m->is_rev ? ref_len(m->n_cigar, m->cigar) - 1 : 0);
			tlen = -(p0 - p1 + (p0 > p1 ? 1 : p0 < p1 ? -1 : 0));
		}
	}
	/* SEQ/QUAL: none on secondary records; clipped to the aligned part on hard-clipped ones */
	int l = 0;
	if (!(p->flag & 0x100)) {
		int qb = 0, qe = s->l_seq;
		if (p->n_cigar && which && !(opt->flag & MEM_F_SOFTCLIP) && !p->is_alt) {
			int op0 = (int)(p->cigar[0] & 0xf), op1 = (int)(p->cigar[p->n_cigar - 1] & 0xf);
			int l0 = (int)(p->cigar[0] >> 4), l1 = (int)(p->cigar[p->n_cigar - 1] >> 4);
			if (!p->is_rev) {
				if (op0 == 4 || op0 == 3) qb += l0;
				if (op1 == 4 || op1 == 3) qe -= l1;
			} else {
				if (op0 == 4 || op0 == 3) qe -= l0;
				if (op1 == 4 || op1 == 3) qb += l1;
			}
		}
		l = qe - qb;
		if (2 * l + 2 > c->m_sq) {
			char *t = realloc(c->sq, (size_t)(2 * l + 2));
			if (!t) return SQ_ENOMEM;
			c->sq = t; c->m_sq = 2 * l + 2;
		}
		char *sq = c->sq, *qu = c->sq + l + 1;
		for (int i = 0; i < l; ++i) {
			int j = p->is_rev ? qe - 1 - i : qb + i;
			int base = (uint8_t)s->seq[j];
			if (base > 4) base = 4;
			sq[i] = (p->is_rev ? "TGCAN" : "ACGTN")[base];
			if (s->qual) qu[i] = (char)(s->qual[j] - 33);
		}
	}
	bam1_t *b = sq_rec_slot(c->recs, c->n, c->m);
	if (!b) return SQ_ENOMEM;
	if (bam_set1(b, strlen(s->name), s->name, flag, tid, pos, (uint8_t)mapq, (size_t)n_cig, cig, mtid, mpos, tlen,
	             (size_t)l, c->sq, s->qual && l ? c->sq + l + 1 : NULL, 0) < 0) {
		sq_log_error("cannot build the record of read '%s' (internal error)", s->name);
		return SQ_EINPUT;
	}
	/* tags, in bwa's order */
	if (p->n_cigar) {
		const char *md = (const char *)(p->cigar + p->n_cigar);
		if (tag_int(b, "NM", p->NM) < 0 || tag_str(b, "MD", md, strlen(md)) < 0) return SQ_ENOMEM;
	}
	if (m && m->n_cigar) {
		c->ks.l = 0;
		if (cigar_text(opt, m, which, 1, &c->ks) < 0 || tag_str(b, "MC", c->ks.s, c->ks.l) < 0) return SQ_ENOMEM;
	}
	if (p->score >= 0 && tag_int(b, "AS", p->score) < 0) return SQ_ENOMEM;
	if (p->sub >= 0 && tag_int(b, "XS", p->sub) < 0) return SQ_ENOMEM;
	if (bwa_rg_id[0] && tag_str(b, "RG", bwa_rg_id, strlen(bwa_rg_id)) < 0) return SQ_ENOMEM;
	if (!(p->flag & 0x100)) {
		int i;
		for (i = 0; i < n; ++i) if (i != which && !(list[i].flag & 0x100)) break;
		if (i < n) {                                   /* other primary hits: chimeric parts */
			c->ks.l = 0;
			for (i = 0; i < n; ++i) {
				const mem_aln_t *r = &list[i];
				if (i == which || (r->flag & 0x100)) continue;
				if (ksprintf(&c->ks, "%s,%lld,%c,", c->bns->anns[r->rid].name, (long long)r->pos + 1, "+-"[r->is_rev]) < 0 ||
				    cigar_text(opt, r, 0, 0, &c->ks) < 0 || ksprintf(&c->ks, ",%d,%d;", (int)r->mapq, (int)r->NM) < 0)
					return SQ_ENOMEM;
			}
			if (tag_str(b, "SA", c->ks.s, c->ks.l) < 0) return SQ_ENOMEM;
		}
		if (p->alt_sc > 0) {                           /* bwa prints %.3f; the parser reads it back as a float */
			char txt[64];
			snprintf(txt, sizeof txt, "%.3f", (double)p->score / p->alt_sc);
			float f = (float)strtod(txt, NULL);
			if (bam_aux_append(b, "pa", 'f', 4, (uint8_t *)&f) < 0) return SQ_ENOMEM;
		}
	}
	if (p->XA && tag_str(b, "XA", p->XA, strlen(p->XA)) < 0) return SQ_ENOMEM;
	return sq_rec_order_tags(b, c->pid, mate, sub);
}

static void free_alt(char **xa, size_t n)
{
	if (!xa) return;
	for (size_t k = 0; k < n; ++k) free(xa[k]);
	free(xa);
}

/* All records of one read from its regions (bwa's mem_reg2sam): the primary, supplementary
 * (chimeric) parts, and secondary hits only with -a. */
static int read_records(rb_t *c, const bseq1_t *s, mem_alnreg_v *a, int extra_flag, const mem_aln_t *m, int mate)
{
	const mem_opt_t *opt = c->opt;
	char **xa = opt->flag & MEM_F_ALL ? NULL : mem_gen_alt(opt, c->bns, c->pac, a, s->l_seq, s->seq);
	mem_aln_t *hit = calloc(a->n + 1, sizeof *hit);
	int nh = 0, r = 0;
	if (!hit) { free_alt(xa, a->n); return SQ_ENOMEM; }
	for (size_t k = 0; k < a->n; ++k) {
		const mem_alnreg_t *g = &a->a[k];
		if (g->score < opt->T) continue;
		if (g->secondary >= 0 && (g->is_alt || !(opt->flag & MEM_F_ALL))) continue;
		if (g->secondary >= 0 && g->secondary < INT_MAX && g->score < a->a[g->secondary].score * opt->drop_ratio) continue;
		mem_aln_t *q = &hit[nh];
		*q = mem_reg2aln(opt, c->bns, c->pac, s->l_seq, s->seq, g);
		q->XA = xa ? xa[k] : NULL;
		q->flag |= extra_flag;
		if (g->secondary >= 0) q->sub = -1;
		if (nh && g->secondary < 0) q->flag |= opt->flag & MEM_F_NO_MULTI ? 0x10000 : 0x800;
		if (!(opt->flag & MEM_F_KEEP_SUPP_MAPQ) && nh && !g->is_alt && q->mapq > hit[0].mapq) q->mapq = hit[0].mapq;
		++nh;
	}
	if (nh == 0) {                                     /* nothing good enough: unmapped */
		mem_aln_t t = mem_reg2aln(opt, c->bns, c->pac, s->l_seq, s->seq, NULL);
		t.flag |= extra_flag;
		r = aln_record(c, s, 1, &t, 0, m, mate, 0);
	} else {
		for (int k = 0; k < nh && r == 0; ++k) r = aln_record(c, s, nh, hit, k, m, mate, k);
	}
	for (int k = 0; k < nh; ++k) free(hit[k].cigar);
	free(hit);
	free_alt(xa, a->n);
	return r;
}

/* Both ends written as single-end hits (bwa's no_pairing): the best hit of each end (or its
 * best ALT hit) gives the mate fields; proper-pair flag when those are in a proper
 * orientation and distance. */
static int unpaired_records(rb_t *c, const mem_pestat_t pes[4], bseq1_t s[2], mem_alnreg_v a[2], const int n_pri[2])
{
	const mem_opt_t *opt = c->opt;
	mem_aln_t h[2];
	int extra_flag = 1, r;
	for (int i = 0; i < 2; ++i) {
		const mem_alnreg_t *g = NULL;
		if (a[i].n) {
			if (a[i].a[0].score >= opt->T) g = &a[i].a[0];
			else if ((size_t)n_pri[i] < a[i].n && a[i].a[n_pri[i]].score >= opt->T) g = &a[i].a[n_pri[i]];
		}
		h[i] = mem_reg2aln(opt, c->bns, c->pac, s[i].l_seq, s[i].seq, g);
	}
	if (!(opt->flag & MEM_F_NOPAIRING) && h[0].rid == h[1].rid && h[0].rid >= 0) {
		int64_t dist;
		int d = pair_orient(c->bns->l_pac, a[0].a[0].rb, a[1].a[0].rb, &dist);
		if (!pes[d].failed && dist >= pes[d].low && dist <= pes[d].high) extra_flag |= 2;
	}
	r = read_records(c, &s[0], &a[0], 0x41 | extra_flag, &h[1], 0);
	if (r == 0) r = read_records(c, &s[1], &a[1], 0x81 | extra_flag, &h[0], 1);
	free(h[0].cigar); free(h[1].cigar);
	return r;
}

/* bwa's mem_sam_pe, records instead of text. */
static int pair_records(rb_t *c, const mem_pestat_t pes[4], uint64_t id, bseq1_t s[2], mem_alnreg_v a[2])
{
	const mem_opt_t *opt = c->opt;
	int n_pri[2], z[2], subo, n_sub, o, r = 0;

	if (!(opt->flag & MEM_F_NO_RESCUE)) {
		/* mate rescue: around each good hit of one end (within pen_unpaired of its best), look
		 * for the other end by Smith-Waterman; the candidates are taken before any rescue */
		mem_alnreg_v good[2] = { { 0, 0, NULL }, { 0, 0, NULL } };
		for (int i = 0; i < 2; ++i) {
			if (!a[i].n) continue;
			if (!(good[i].a = malloc(a[i].n * sizeof *good[i].a))) { free(good[0].a); return SQ_ENOMEM; }
			for (size_t j = 0; j < a[i].n; ++j)
				if (a[i].a[j].score >= a[i].a[0].score - opt->pen_unpaired) good[i].a[good[i].n++] = a[i].a[j];
		}
		for (int i = 0; i < 2; ++i)
			for (size_t j = 0; j < good[i].n && (int)j < opt->max_matesw; ++j)
				mem_matesw(opt, c->bns, c->pac, pes, &good[i].a[j], s[!i].l_seq, (const uint8_t *)s[!i].seq, &a[!i]);
		free(good[0].a); free(good[1].a);
	}
	n_pri[0] = mem_mark_primary_se(opt, (int)a[0].n, a[0].a, (int64_t)(id << 1 | 0));
	n_pri[1] = mem_mark_primary_se(opt, (int)a[1].n, a[1].a, (int64_t)(id << 1 | 1));
	if (opt->flag & MEM_F_PRIMARY5) { mem_reorder_primary5(opt->T, &a[0]); mem_reorder_primary5(opt->T, &a[1]); }
	if (opt->flag & MEM_F_NOPAIRING) return unpaired_records(c, pes, s, a, n_pri);
	if (!n_pri[0] || !n_pri[1] || (o = mem_pair(opt, c->bns, c->pac, pes, s, a, (int)id, &subo, &n_sub, z, n_pri)) <= 0)
		return unpaired_records(c, pes, s, a, n_pri);
	for (int i = 0; i < 2; ++i) {                      /* a second distinct hit on either end: unpaired */
		int j;
		for (j = 1; j < n_pri[i]; ++j) if (a[i].a[j].secondary < 0 && a[i].a[j].score >= opt->T) break;
		if (j < n_pri[i]) return unpaired_records(c, pes, s, a, n_pri);
	}

	int extra_flag = 1, q_se[2];
	int score_un = a[0].a[0].score + a[1].a[0].score - opt->pen_unpaired;
	if (subo < score_un) subo = score_un;
	int q_pe = score_mapq(o - subo, opt->a);
	if (n_sub > 0) q_pe -= (int)(4.343 * log(n_sub + 1) + .499);
	q_pe = q_pe < 0 ? 0 : q_pe > 60 ? 60 : q_pe;
	q_pe = (int)(q_pe * (1. - .5 * (a[0].a[0].frac_rep + a[1].a[0].frac_rep)) + .499);
	if (o > score_un) {                                /* the pair wins over the best unpaired hits */
		for (int i = 0; i < 2; ++i) {
			mem_alnreg_t *h = &a[i].a[z[i]];
			if (h->secondary >= 0) h->sub = a[i].a[h->secondary].score, h->secondary = -2;
			int q = mem_approx_mapq_se(opt, h);
			if (q <= q_pe) q = q_pe < q + 40 ? q_pe : q + 40;
			int cap = score_mapq(h->score - h->csub, opt->a);   /* tandem repeats */
			q_se[i] = q < cap ? q : cap;
		}
		extra_flag |= 2;
	} else {
		z[0] = z[1] = 0;
		q_se[0] = mem_approx_mapq_se(opt, &a[0].a[0]);
		q_se[1] = mem_approx_mapq_se(opt, &a[1].a[0]);
	}
	for (int i = 0; i < 2; ++i) {                      /* the chosen hit becomes the primary of its group */
		int k = a[i].a[z[i]].secondary_all;
		if (k >= 0 && k < n_pri[i]) {
			for (size_t j = 0; j < a[i].n; ++j)
				if (a[i].a[j].secondary_all == k || (int)j == k) a[i].a[j].secondary_all = z[i];
			a[i].a[z[i]].secondary_all = -1;
		}
	}
	char **xa[2] = { NULL, NULL };
	if (!(opt->flag & MEM_F_ALL))
		for (int i = 0; i < 2; ++i) xa[i] = mem_gen_alt(opt, c->bns, c->pac, &a[i], s[i].l_seq, s[i].seq);
	mem_aln_t hits[2][2];
	int nh[2] = { 0, 0 };
	memset(hits, 0, sizeof hits);
	for (int i = 0; i < 2; ++i) {
		mem_aln_t *h = &hits[i][nh[i]++];
		*h = mem_reg2aln(opt, c->bns, c->pac, s[i].l_seq, s[i].seq, &a[i].a[z[i]]);
		h->mapq = (uint32_t)q_se[i];
		h->flag |= 0x40 << i | extra_flag;
		h->XA = xa[i] ? xa[i][z[i]] : NULL;
		if ((size_t)n_pri[i] < a[i].n) {               /* the best ALT hit, as a supplementary record */
			const mem_alnreg_t *g = &a[i].a[n_pri[i]];
			if (g->score < opt->T || g->secondary >= 0 || !g->is_alt) continue;
			mem_aln_t *t = &hits[i][nh[i]++];
			*t = mem_reg2aln(opt, c->bns, c->pac, s[i].l_seq, s[i].seq, g);
			t->flag |= 0x800 | 0x40 << i | extra_flag;
			t->XA = xa[i] ? xa[i][n_pri[i]] : NULL;
		}
	}
	for (int i = 0; i < 2 && r == 0; ++i)
		for (int k = 0; k < nh[i] && r == 0; ++k) r = aln_record(c, &s[i], nh[i], hits[i], k, &hits[!i][0], i, k);
	for (int i = 0; i < 2; ++i) {
		for (int k = 0; k < nh[i]; ++k) free(hits[i][k].cigar);
		free_alt(xa[i], a[i].n);
	}
	return r;
}

int sq_rec_build(const mem_opt_t *opt, const bntseq_t *bns, const uint8_t *pac, const mem_pestat_t *pes, uint64_t id,
                 bseq1_t *s, mem_alnreg_v *a, bam1_t ***recs, int *n, int *m, sq_dupsig_t *sig)
{
	rb_t c = { opt, bns, pac, id, recs, n, m, KS_INITIALIZE, NULL, 0, NULL, 0 };
	int first = *n, r;
	if (pes) {
		if (strcmp(s[0].name, s[1].name) != 0) {
			sq_log_error("paired reads have different names: '%s', '%s'", s[0].name, s[1].name);
			return SQ_EINPUT;
		}
		r = pair_records(&c, pes, id, s, a);
	} else {
		mem_mark_primary_se(opt, (int)a->n, a->a, (int64_t)id);
		if (opt->flag & MEM_F_PRIMARY5) mem_reorder_primary5(opt->T, a);
		r = read_records(&c, s, a, 0, NULL, 0);
	}
	if (r == 0) r = sq_rec_unit_done(*recs, first, *n, id, s[0].name, pes != NULL, sig);
	if (r < 0) *n = first;
	free(c.ks.s); free(c.sq); free(c.cig);
	return r;
}
