/* seqa — contamination estimate without a population panel (see seqa/qc.h).
 *
 * VerifyBamID's FREEMIX models the reads at known common-variant sites as a mixture of the
 * sample and a contaminant whose genotypes are drawn from population allele frequencies.  With
 * no panel, seqa uses the sample's own variant sites instead:
 *
 *   - sites: autosomal positions (depth >= D, reference known) where the major non-reference base
 *     has fraction >= t (default 0.25), i.e. where the sample looks heterozygous or hom-alt;
 *   - sample genotype g in {het (alt fraction 1/2), hom-alt (1)}, mixed with weights estimated
 *     by EM; the contaminant is assumed to carry the reference allele there (true for private and
 *     rare variants, which make most of a genome's variant sites; for common variants the
 *     contaminant often shares the allele, so the estimate is then a lower bound, by a factor of
 *     about the contaminant's chance of not carrying the allele);
 *   - expected alt fraction f = (1 - a) g, read with error e (measured at non-variant sites):
 *     p = f (1 - e) + (1 - f) e / 3;
 *   - the likelihood of each site is conditioned on its selection (alt fraction >= t), i.e.
 *     Binom(k; n, p) / P(K >= ceil(t n) | n, p), so the cut does not bias a;
 *   - a maximises the sum of log-likelihoods over [0, 0.5] (grid of 0.0025, then golden
 *     section).  Foreign alleles thus show up as reference reads at hom-alt sites (fraction a)
 *     and as a shift of het sites towards the reference (a / 2).
 *
 * Sites are grouped by (depth, alt) with depth capped at 250 (counts scaled), so the cost does
 * not grow with the genome.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "seqa/qc.h"
#include "seqa/log.h"
#include "seqa/util.h"

#define CT_MAXD 250

typedef struct {
	int64_t *tab;           /* tab[d * (CT_MAXD+1) + k] = number of sites */
	int dmax;
	double err, min_af;
	double w_hom;           /* weight of the hom-alt component */
	double lfact[CT_MAXD + 1];
} ct_t;

static double lbinom(const ct_t *c, int n, int k, double p)
{
	if (p <= 0) return k == 0 ? 0 : -INFINITY;
	if (p >= 1) return k == n ? 0 : -INFINITY;
	return c->lfact[n] - c->lfact[k] - c->lfact[n - k] + k * log(p) + (n - k) * log1p(-p);
}

static double tail(const ct_t *c, int n, int t, double p)
{
	double s = 0;
	for (int k = t; k <= n; ++k) s += exp(lbinom(c, n, k, p));
	return s;
}

static double perr(const ct_t *c, double f) { return f * (1 - c->err) + (1 - f) * c->err / 3; }

/* Log-likelihood at contamination a; with post != NULL, also the posterior weight of hom-alt. */
static double loglik(const ct_t *c, double a, double *post_hom)
{
	double ll = 0, ph_sum = 0, n_sum = 0;
	double p_het = perr(c, 0.5 * (1 - a)), p_hom = perr(c, 1 - a);
	for (int d = 1; d <= c->dmax; ++d) {
		int t = (int)ceil(c->min_af * d - 1e-9);
		double sel = 0;
		int any = 0;
		for (int k = t; k <= d; ++k) if (c->tab[d * (CT_MAXD + 1) + k]) { any = 1; break; }
		if (!any) continue;
		sel = (1 - c->w_hom) * tail(c, d, t, p_het) + c->w_hom * tail(c, d, t, p_hom);
		if (sel <= 0) return -INFINITY;
		for (int k = t; k <= d; ++k) {
			int64_t n = c->tab[d * (CT_MAXD + 1) + k];
			if (!n) continue;
			double l1 = (1 - c->w_hom) * exp(lbinom(c, d, k, p_het));
			double l2 = c->w_hom * exp(lbinom(c, d, k, p_hom));
			double l = l1 + l2;
			if (l <= 0) l = 1e-300;
			ll += n * (log(l) - log(sel));
			ph_sum += n * l2 / l;
			n_sum += n;
		}
	}
	if (post_hom) *post_hom = n_sum > 0 ? ph_sum / n_sum : 0.5;
	return ll;
}

static double maximise(const ct_t *c)
{
	double best = 0, bll = -INFINITY;
	for (double a = 0; a <= 0.5 + 1e-9; a += 0.0025) {
		double ll = loglik(c, a, 0);
		if (ll > bll) bll = ll, best = a;
	}
	double lo = best - 0.0025 < 0 ? 0 : best - 0.0025, hi = best + 0.0025 > 0.5 ? 0.5 : best + 0.0025;
	const double g = 0.6180339887498949;
	double x1 = hi - g * (hi - lo), x2 = lo + g * (hi - lo);
	double f1 = loglik(c, x1, 0), f2 = loglik(c, x2, 0);
	for (int it = 0; it < 40; ++it) {
		if (f1 > f2) { hi = x2; x2 = x1; f2 = f1; x1 = hi - g * (hi - lo); f1 = loglik(c, x1, 0); }
		else { lo = x1; x1 = x2; f1 = f2; x2 = lo + g * (hi - lo); f2 = loglik(c, x2, 0); }
	}
	double a = 0.5 * (lo + hi);
	return loglik(c, a, 0) >= bll ? a : best;
}

int sq_qc_contamination(const sq_qc_site_t *s, int64_t n, double err, double min_af,
                        double *alpha, double *ll_ratio)
{
	ct_t c;
	int64_t used = 0;
	memset(&c, 0, sizeof c);
	*alpha = 0;
	if (ll_ratio) *ll_ratio = 0;
	c.tab = calloc((size_t)(CT_MAXD + 1) * (CT_MAXD + 1), sizeof *c.tab);
	if (!c.tab) return SQ_ENOMEM;
	c.err = err > 0.0001 ? err : 0.0001;
	c.min_af = min_af;
	for (int i = 0; i <= CT_MAXD; ++i) c.lfact[i] = lgamma(i + 1.0);
	for (int64_t i = 0; i < n; ++i) {
		int d = s[i].depth, k = s[i].alt;
		if (d == 0 || k > d) continue;
		if (d > CT_MAXD) { k = (int)lround((double)k * CT_MAXD / d); d = CT_MAXD; }
		if (k < (int)ceil(min_af * d - 1e-9)) continue;
		c.tab[d * (CT_MAXD + 1) + k]++;
		if (d > c.dmax) c.dmax = d;
		++used;
	}
	if (used < 20) { free(c.tab); return SQ_EINPUT; }
	/* EM on the het/hom-alt weight, alternating with the maximisation over a */
	c.w_hom = 0.4;
	double a = 0;
	for (int it = 0; it < 6; ++it) {
		double ph;
		a = maximise(&c);
		loglik(&c, a, &ph);
		if (ph < 0.02) ph = 0.02;
		if (ph > 0.98) ph = 0.98;
		if (fabs(ph - c.w_hom) < 1e-4) { c.w_hom = ph; break; }
		c.w_hom = ph;
	}
	a = maximise(&c);
	*alpha = a;
	if (ll_ratio) *ll_ratio = loglik(&c, a, 0) - loglik(&c, 0, 0);
	free(c.tab);
	return 0;
}

int sq_qc_infer_sex(double a, double x, double y)
{
	if (a <= 0) return 0;
	double rx = x / a, ry = y / a;
	if (ry >= 0.1 && rx < 0.75) return 2;
	if (ry < 0.05 && rx >= 0.75) return 1;
	return 0;
}

/* ---- with a population panel ------------------------------------------------------------
 *
 * VerifyBamID's FREEMIX model without ancestry principal components: at a panel site with
 * population alternate-allele frequency p, the sample's genotype g and the contaminant's h (alt
 * allele counts 0..2) are independent Hardy-Weinberg draws; the reads are binomial with alt
 * probability from f = (1 - a) g/2 + a h/2 and error e.  Contamination shows up both as alt
 * reads at the sample's hom-ref sites and as ref reads at its hom-alt sites, weighted by how
 * likely the contaminant is to carry each allele.  The binomial coefficient is common to all
 * terms of a site and dropped.
 */
static double af_loglik(const sq_qc_afsite_t *s, int64_t n, double err, double a)
{
	double ll = 0;
	double lq[3][3], lr[3][3];
	for (int g = 0; g < 3; ++g)
		for (int h = 0; h < 3; ++h) {
			double f = (1 - a) * g / 2.0 + a * h / 2.0;
			double q = f * (1 - err) + (1 - f) * err / 3;
			lq[g][h] = log(q);
			lr[g][h] = log1p(-q);
		}
	for (int64_t i = 0; i < n; ++i) {
		double p = s[i].af, hw[3] = { (1 - p) * (1 - p), 2 * p * (1 - p), p * p };
		double t[9], mx = -INFINITY, sum = 0;
		for (int g = 0; g < 3; ++g)
			for (int h = 0; h < 3; ++h) {
				double v = log(hw[g] * hw[h]) + s[i].alt * lq[g][h] + s[i].ref * lr[g][h];
				t[g * 3 + h] = v;
				if (v > mx) mx = v;
			}
		for (int k = 0; k < 9; ++k) sum += exp(t[k] - mx);
		ll += mx + log(sum);
	}
	return ll;
}

int sq_qc_contamination_af(const sq_qc_afsite_t *s, int64_t n, double err, double *alpha, double *ll_ratio)
{
	*alpha = 0;
	if (ll_ratio) *ll_ratio = 0;
	if (err < 0.0001) err = 0.0001;
	if (n < 100) return SQ_EINPUT;
	double best = 0, bll = -INFINITY;
	for (double a = 0; a <= 0.5 + 1e-9; a += 0.005) {
		double ll = af_loglik(s, n, err, a);
		if (ll > bll) bll = ll, best = a;
	}
	double lo = best - 0.005 < 0 ? 0 : best - 0.005, hi = best + 0.005 > 0.5 ? 0.5 : best + 0.005;
	const double gr = 0.6180339887498949;
	double x1 = hi - gr * (hi - lo), x2 = lo + gr * (hi - lo);
	double f1 = af_loglik(s, n, err, x1), f2 = af_loglik(s, n, err, x2);
	for (int it = 0; it < 30; ++it) {
		if (f1 > f2) { hi = x2; x2 = x1; f2 = f1; x1 = hi - gr * (hi - lo); f1 = af_loglik(s, n, err, x1); }
		else { lo = x1; x1 = x2; f1 = f2; x2 = lo + gr * (hi - lo); f2 = af_loglik(s, n, err, x2); }
	}
	double a = 0.5 * (lo + hi);
	if (af_loglik(s, n, err, a) < bll) a = best;
	*alpha = a;
	if (ll_ratio) *ll_ratio = af_loglik(s, n, err, a) - af_loglik(s, n, err, 0);
	return 0;
}
