/* seqa — simulator: truth variants (SNPs, indels; left-aligned and normalised as `bcftools
 * norm`), the two haplotypes they make, and the truth VCF. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <htslib/bgzf.h>
#include <htslib/vcf.h>
#include <htslib/tbx.h>
#include "seqa/log.h"
#include "seqa/util.h"
#include "seqa/version.h"
#include "sim_internal.h"

/* At least this many reference bases separate two variants (so that no caller can merge or
 * re-represent neighbours differently from the truth). */
#define SQ_SIM_MIN_GAP 5

static inline int sq_acgt(char c) { return c == 'A' || c == 'C' || c == 'G' || c == 'T'; }

/* Left-align and trim one allele pair against the reference (Tan et al. 2015, as vt/bcftools
 * norm): REF is seq[*pos, *pos + ref->l).  Trims common suffixes, extending to the left when an
 * allele empties, then trims common prefixes down to one anchor base. */
static int sq_sim_normalise(const char *seq, int64_t beg, int64_t *pos, kstring_t *ref, kstring_t *alt)
{
	for (;;) {
		int changed = 0;
		if (ref->l && alt->l && ref->s[ref->l - 1] == alt->s[alt->l - 1]) {
			ref->s[--ref->l] = 0, alt->s[--alt->l] = 0;
			changed = 1;
		}
		if (ref->l == 0 || alt->l == 0) {
			/* no anchor left inside the region, or an N: give up on this variant */
			if (*pos <= beg || !sq_acgt(seq[*pos - 1])) return -2;
			--*pos;
			char b[2] = { seq[*pos], 0 };
			if (ks_resize(ref, ref->l + 2) < 0 || ks_resize(alt, alt->l + 2) < 0) return SQ_ENOMEM;
			memmove(ref->s + 1, ref->s, ref->l + 1), ref->s[0] = b[0], ref->l++;
			memmove(alt->s + 1, alt->s, alt->l + 1), alt->s[0] = b[0], alt->l++;
			changed = 1;
		}
		if (!changed) break;
	}
	while (ref->l > 1 && alt->l > 1 && ref->s[0] == alt->s[0]) {
		memmove(ref->s, ref->s + 1, ref->l--);
		memmove(alt->s, alt->s + 1, alt->l--);
		++*pos;
	}
	return 0;
}

static int sq_sim_push_var(sq_sim_t *s, const sq_sim_var_t *v, const char *alt)
{
	if (s->n_var == s->m_var) {
		int64_t m = s->m_var ? s->m_var * 2 : 1024;
		sq_sim_var_t *p = sq_realloc(s->var, (size_t)m * sizeof *p);
		if (!p) return SQ_ENOMEM;
		s->var = p, s->m_var = m;
	}
	s->var[s->n_var] = *v;
	s->var[s->n_var].aoff = (int64_t)s->alts.l;
	if (kputsn(alt, v->alen, &s->alts) < 0) return SQ_ENOMEM;
	s->n_var++;
	return 0;
}

int sq_sim_variants(sq_sim_t *s)
{
	const sq_sim_opt_t *o = s->o;
	double rate = o->snp_rate + o->indel_rate, lcum[64], tot = 0;
	kstring_t ref = { 0, 0, 0 }, alt = { 0, 0, 0 };
	int ret = 0;
	if (rate <= 0) return 0;
	/* indel lengths 1..max_indel with P(L) ~ L^-1.8: ~56% 1 bp, ~80% 1-3 bp (human-like) */
	for (int L = 1; L <= o->max_indel; ++L) tot += pow(L, -1.8), lcum[L] = tot;
	for (int L = 1; L <= o->max_indel; ++L) lcum[L] /= tot;
	const double log1m = log1p(-(rate < 0.5 ? rate : 0.5));
	for (int r = 0; r < s->n_reg; ++r) {
		const sq_sim_region_t *g = &s->reg[r];
		const char *seq = s->ctg[g->ctg].seq;
		sq_rng_t rng;
		int64_t p = g->beg - 1, last_end = g->beg - 1 - SQ_SIM_MIN_GAP;
		sq_rng_init(&rng, o->seed, 1, (uint64_t)r);
		for (;;) {
			p += 1 + (int64_t)floor(log1p(-sq_rng_unif(&rng)) / log1m);
			if (p >= g->end) break;
			sq_sim_var_t v = { 0 };
			int64_t pos = p;
			ref.l = alt.l = 0;
			if (sq_rng_unif(&rng) * rate < o->snp_rate) { /* SNP: transitions twice as likely (Ti/Tv ~2) */
				static const char *const bases = "ACGT";
				char b = seq[p], a;
				if (!sq_acgt(b)) continue;
				double u = sq_rng_unif(&rng);
				int bi = (int)(strchr(bases, b) - bases);
				if (u < 2.0 / 3) a = bases[bi ^ 2];               /* A<->G, C<->T */
				else a = bases[(bi ^ 1) ^ (u < 5.0 / 6 ? 0 : 2)]; /* transversions */
				kputc(b, &ref), kputc(a, &alt);
				v.type = SQ_VT_SNP;
			} else {
				double u = sq_rng_unif(&rng);
				int L = 1, ins = sq_rng_unif(&rng) < 0.5;
				while (L < o->max_indel && u > lcum[L]) ++L;
				pos = p - 1; /* anchor base */
				if (pos - L < g->beg || p + L >= g->end) continue;
				int ok = 1; /* anchor, deleted bases and a tandem duplicate's source all A/C/G/T */
				for (int64_t k = pos - L; k <= p + L && ok; ++k) ok = sq_acgt(seq[k]);
				if (!ok) continue;
				kputc(seq[pos], &ref), kputc(seq[pos], &alt);
				if (ins) {
					if (sq_rng_unif(&rng) < 0.5) /* tandem duplication */
						kputsn(seq + p - L, L, &alt);
					else
						for (int k = 0; k < L; ++k) kputc("ACGT"[sq_rng_next(&rng) >> 62], &alt);
					v.type = SQ_VT_INS;
				} else {
					kputsn(seq + p, L, &ref);
					v.type = SQ_VT_DEL;
				}
				if ((ret = sq_sim_normalise(seq, g->beg, &pos, &ref, &alt)) == SQ_ENOMEM) goto fail;
				if (ret < 0) { ret = 0; continue; }
			}
			/* flanks inside the region and free of N; no overlap with the previous variant */
			if (pos - 1 < g->beg || pos + (int64_t)ref.l >= g->end || pos <= last_end + SQ_SIM_MIN_GAP) continue;
			int ok = 1;
			for (int64_t k = pos - 1; k <= pos + (int64_t)ref.l && ok; ++k) ok = sq_acgt(seq[k]);
			if (!ok) continue;
			v.reg = r, v.pos = pos, v.rlen = (int32_t)ref.l, v.alen = (int32_t)alt.l;
			v.gt = sq_rng_unif(&rng) < o->het_fraction ? (sq_rng_unif(&rng) < 0.5 ? 1 : 2) : 3;
			if ((ret = sq_sim_push_var(s, &v, alt.s)) < 0) goto fail;
			last_end = pos + v.rlen - 1;
		}
	}
fail:
	free(ref.s), free(alt.s);
	return ret;
}

/* ---- haplotypes ----------------------------------------------------------------------- */

static int sq_hap_seg(sq_sim_hap_t *h, int64_t rbeg, int64_t len, int ins)
{
	if (len <= 0) return 0;
	if (h->n_seg == h->m_seg) {
		int64_t m = h->m_seg ? h->m_seg * 2 : 64;
		sq_sim_seg_t *p = sq_realloc(h->seg, (size_t)m * sizeof *p);
		if (!p) return SQ_ENOMEM;
		h->seg = p, h->m_seg = m;
	}
	sq_sim_seg_t *g = &h->seg[h->n_seg++];
	g->hbeg = h->len, g->rbeg = rbeg, g->len = len, g->ins = ins;
	return 0;
}

int sq_sim_haplotypes(sq_sim_t *s)
{
	int64_t vi = 0;
	s->hap = sq_calloc((size_t)s->n_reg * 2, sizeof *s->hap);
	if (!s->hap) return SQ_ENOMEM;
	for (int r = 0; r < s->n_reg; ++r) {
		const sq_sim_region_t *g = &s->reg[r];
		const char *seq = s->ctg[g->ctg].seq;
		int64_t v0 = vi, v1 = vi;
		while (v1 < s->n_var && s->var[v1].reg == r) ++v1;
		for (int hh = 0; hh < 2; ++hh) {
			sq_sim_hap_t *h = &s->hap[2 * r + hh];
			int64_t cap = g->end - g->beg + 64, cur = g->beg;
			for (int64_t k = v0; k < v1; ++k)
				if (s->var[k].type == SQ_VT_INS) cap += s->var[k].alen;
			if (!(h->seq = sq_malloc((size_t)cap))) return SQ_ENOMEM;
			for (int64_t k = v0; k < v1; ++k) {
				const sq_sim_var_t *v = &s->var[k];
				const char *a = s->alts.s + v->aoff;
				if (!(v->gt >> hh & 1)) continue;
				/* reference up to and including the variant's first base (SNP base / anchor) */
				if (sq_hap_seg(h, cur, v->pos + 1 - cur, 0) < 0) return SQ_ENOMEM;
				memcpy(h->seq + h->len, seq + cur, (size_t)(v->pos + 1 - cur));
				h->len += v->pos + 1 - cur;
				h->seq[h->len - 1] = a[0];
				cur = v->pos + 1;
				if (v->type == SQ_VT_DEL) cur = v->pos + v->rlen;
				else if (v->type == SQ_VT_INS) {
					if (sq_hap_seg(h, v->pos + 1, v->alen - 1, 1) < 0) return SQ_ENOMEM;
					memcpy(h->seq + h->len, a + 1, (size_t)(v->alen - 1));
					h->len += v->alen - 1;
				}
			}
			if (sq_hap_seg(h, cur, g->end - cur, 0) < 0) return SQ_ENOMEM;
			memcpy(h->seq + h->len, seq + cur, (size_t)(g->end - cur));
			h->len += g->end - cur;
			h->seq[h->len] = 0;
		}
		vi = v1;
	}
	return 0;
}

int64_t sq_sim_hap2ref(const sq_sim_hap_t *h, int64_t x)
{
	int64_t lo = 0, hi = h->n_seg - 1;
	while (lo < hi) { /* last segment with hbeg <= x */
		int64_t mid = (lo + hi + 1) / 2;
		if (h->seg[mid].hbeg <= x) lo = mid; else hi = mid - 1;
	}
	const sq_sim_seg_t *g = &h->seg[lo];
	return g->ins ? g->rbeg : g->rbeg + (x - g->hbeg);
}

/* ---- truth VCF ------------------------------------------------------------------------ */

int sq_sim_write_vcf(const sq_sim_t *s, const char *path, const char *tbi)
{
	const sq_sim_opt_t *o = s->o;
	BGZF *fp = bgzf_open(path, "w");
	bcf_hdr_t *h = bcf_hdr_init("w");
	bcf1_t *rec = bcf_init();
	kstring_t al = { 0, 0, 0 }, line = { 0, 0, 0 };
	int ret = SQ_EOUTPUT, pass;
	int64_t vi = 0;
	if (!fp || !h || !rec) { sq_log_error("cannot write '%s'", path); goto fail; }
	ksprintf(&al, "##source=seqa simulate %s (%s)", sq_version(), sq_commit());
	bcf_hdr_append(h, al.s);
	al.l = 0;
	/* every parameter that shapes the outputs, and none that does not (threads, paths), so the
	 * same simulation gives the same bytes */
	ksprintf(&al, "##seqaSimulation=<seed=%llu,snp_rate=%g,indel_rate=%g,het_fraction=%g,max_indel=%d,"
	          "min_gap=%d,coverage=%g,read_length=%d,insert_mean=%g,insert_sd=%g,error_rate=%g,q2_tails=%g,"
	          "dup_rate=%g,regions=\"%s\">",
	          (unsigned long long)o->seed, o->snp_rate, o->indel_rate, o->het_fraction, o->max_indel,
	          SQ_SIM_MIN_GAP, o->coverage, o->read_len, o->insert_mean, o->insert_sd, o->error_rate,
	          o->q2_tail_frac, o->dup_rate, o->regions ? o->regions : "");
	bcf_hdr_append(h, al.s);
	al.l = 0;
	ksprintf(&al, "##reference=file://%s", s->ref_abs);
	bcf_hdr_append(h, al.s);
	for (int i = 0; i < s->n_ctg; ++i) {
		al.l = 0;
		ksprintf(&al, "##contig=<ID=%s,length=%lld,md5=%s>", s->ctg[i].name, (long long)s->ctg[i].len, s->ctg[i].md5);
		bcf_hdr_append(h, al.s);
	}
	bcf_hdr_append(h, "##INFO=<ID=VT,Number=1,Type=String,Description=\"Simulated variant type: SNP, INS or DEL\">");
	bcf_hdr_append(h, "##FORMAT=<ID=GT,Number=1,Type=String,Description=\"Genotype (phased: haplotype 1|haplotype 2)\">");
	/* formatted by htslib, written through our BGZF handle (see sq_bgzf_close) */
	if (bcf_hdr_add_sample(h, o->sample) < 0 || bcf_hdr_sync(h) < 0 || bcf_hdr_format(h, 0, &line) < 0 ||
	    bgzf_write(fp, line.s, line.l) != (ssize_t)line.l) {
		sq_log_error("cannot write the VCF header to '%s'", path);
		goto fail;
	}
	pass = bcf_hdr_id2int(h, BCF_DT_ID, "PASS");
	for (int r = 0; r < s->n_reg; ++r) {
		const sq_sim_region_t *g = &s->reg[r];
		const char *seq = s->ctg[g->ctg].seq;
		int rid = bcf_hdr_name2id(h, s->ctg[g->ctg].name);
		for (; vi < s->n_var && s->var[vi].reg == r; ++vi) {
			const sq_sim_var_t *v = &s->var[vi];
			static const char *const vt[] = { "SNP", "INS", "DEL" };
			int32_t gt[2] = { bcf_gt_unphased(v->gt & 1), bcf_gt_phased(v->gt >> 1 & 1) };
			bcf_clear(rec);
			rec->rid = rid;
			rec->pos = v->pos;
			al.l = 0;
			kputsn(seq + v->pos, v->rlen, &al), kputc(',', &al), kputsn(s->alts.s + v->aoff, v->alen, &al);
			bcf_update_alleles_str(h, rec, al.s);
			bcf_update_filter(h, rec, &pass, 1);
			bcf_update_info_string(h, rec, "VT", vt[v->type]);
			bcf_update_genotypes(h, rec, gt, 2);
			line.l = 0;
			if (vcf_format(h, rec, &line) < 0 || bgzf_write(fp, line.s, line.l) != (ssize_t)line.l) {
				sq_log_error("cannot write '%s' (disk full?)", path);
				goto fail;
			}
		}
	}
	ret = sq_bgzf_close(fp);
	fp = 0;
	if (ret < 0) { ret = SQ_EOUTPUT; sq_log_error("cannot write '%s' (disk full?)", path); goto fail; }
	ret = SQ_EOUTPUT;
	if (tbx_index_build2(path, tbi, 0, &tbx_conf_vcf) != 0) {
		sq_log_error("cannot write the tabix index '%s'", tbi);
		goto fail;
	}
	ret = 0;
fail:
	if (fp) sq_bgzf_close(fp);
	if (h) bcf_hdr_destroy(h);
	if (rec) bcf_destroy(rec);
	free(al.s), free(line.s);
	return ret;
}
