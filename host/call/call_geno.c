/* seqa — atomic events (left alignment, order) and diploid genotyping.
 *
 * Genotype likelihoods (GATK HaplotypeCaller's diploid model): for alleles a, b and read r
 * with allele log10 likelihoods L[r][a],
 *     log10 P(D | a/b) = sum_r log10( 10^L[r][a] / 2 + 10^L[r][b] / 2 ).
 * Priors (per alternate allele heterozygosity h_a; SNP 1e-3, indel 1.25e-4):
 *     P(0/a) = h_a,  P(a/a) = h_a / 2,  P(a/b) = h_a h_b,  P(0/0) = 1 - sum of the others.
 * GT is the maximum a-posteriori genotype, QUAL = -10 log10 P(0/0 | D), GQ = -10 log10
 * (1 - P(GT | D)) capped at 99, PL the likelihoods in phred normalised to 0.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "call_internal.h"
#include "seqa/util.h"

int sq_call_event_cmp(const void *pa, const void *pb)
{
	const sq_call_event_t *a = pa, *b = pb;
	if (a->pos != b->pos) return a->pos < b->pos ? -1 : 1;
	if (a->type != b->type) return a->type < b->type ? -1 : 1;
	if (a->ref_len != b->ref_len) return a->ref_len < b->ref_len ? -1 : 1;
	if (a->alt_len != b->alt_len) return a->alt_len < b->alt_len ? -1 : 1;
	return strcmp(a->alt, b->alt);
}

int sq_call_event_left_align(sq_call_event_t *e, const char *seq, int64_t len)
{
	if (e->pos < 0 || e->pos + e->ref_len > len) return SQ_EINVAL;
	if (e->type == SQ_EV_DEL) {
		int d = e->ref_len - 1;
		if (d <= 0) return SQ_EINVAL;
		while (e->pos >= 1 && seq[e->pos] == seq[e->pos + d] && seq[e->pos] != 'N') e->pos--;
		e->alt[0] = seq[e->pos], e->alt[1] = 0, e->alt_len = 1;
	} else if (e->type == SQ_EV_INS) {
		int n = e->alt_len - 1;
		if (n <= 0) return SQ_EINVAL;
		char *ins = e->alt + 1;
		while (e->pos >= 1 && ins[n - 1] == seq[e->pos] && seq[e->pos] != 'N') {
			memmove(ins + 1, ins, (size_t)n - 1);
			ins[0] = seq[e->pos];
			e->pos--;
		}
		e->alt[0] = seq[e->pos];
	}
	return 0;
}

static inline double lse2(double a, double b)
{
	double m = a > b ? a : b;
	if (m == -INFINITY) return m;
	return m + log10(pow(10.0, a - m) + pow(10.0, b - m));
}

void sq_call_genotype_gl(const double *lk, int n_reads, int n_alleles, double *gl)
{
	int n_gt = sq_call_n_gt(n_alleles);
	static const double LOG10_HALF = -0.30102999566398120;
	for (int g = 0; g < n_gt; ++g) gl[g] = 0.0;
	for (int r = 0; r < n_reads; ++r) {
		const double *l = lk + (size_t)r * n_alleles;
		for (int b = 0; b < n_alleles; ++b)
			for (int a = 0; a <= b; ++a)
				gl[sq_call_gt_index(a, b)] += (a == b ? l[a] : lse2(l[a], l[b]) + LOG10_HALF);
	}
}

void sq_call_genotype_call(const double *gl, int n_alleles, const double *prior_het,
                           int *a1, int *a2, double *qual, int *gq, int *pl)
{
	int n_gt = sq_call_n_gt(n_alleles), best = 0;
	double post[SQ_CALL_MAX_GT], sum_h = 0.0, max_gl = -INFINITY;
	if (n_gt > SQ_CALL_MAX_GT) n_gt = SQ_CALL_MAX_GT, n_alleles = 31;
	for (int g = 0; g < n_gt; ++g) post[g] = -INFINITY;
	for (int a = 1; a < n_alleles; ++a) sum_h += 1.5 * prior_het[a];
	if (sum_h > 0.5) sum_h = 0.5;
	for (int b = 0; b < n_alleles; ++b)
		for (int a = 0; a <= b; ++a) {
			double p;
			if (b == 0) p = 1.0 - sum_h;
			else if (a == 0) p = prior_het[b];
			else if (a == b) p = prior_het[a] / 2;
			else p = prior_het[a] * prior_het[b];
			int g = sq_call_gt_index(a, b);
			post[g] = gl[g] + log10(p);
			if (gl[g] > max_gl) max_gl = gl[g];
		}
	double tot = -INFINITY;
	for (int g = 0; g < n_gt; ++g) {
		tot = lse2(tot, post[g]);
		if (post[g] > post[best]) best = g;
	}
	for (int b = 0; b < n_alleles; ++b)
		for (int a = 0; a <= b; ++a)
			if (sq_call_gt_index(a, b) == best) *a1 = a, *a2 = b;
	double p00 = post[0] - tot;             /* log10 P(0/0 | D) */
	*qual = p00 < -1e-12 ? -10.0 * p00 : 0.0;
	/* GQ: phred of 1 - P(best | D), computed from the other genotypes to keep precision */
	double rest = -INFINITY;
	for (int g = 0; g < n_gt; ++g) if (g != best) rest = lse2(rest, post[g]);
	double q = -10.0 * (rest - tot);
	*gq = q > 99.0 ? 99 : (int)(q + 1e-9);
	if (*gq < 0) *gq = 0;
	for (int g = 0; g < n_gt; ++g) {
		double v = -10.0 * (gl[g] - max_gl);
		pl[g] = v > 1e9 ? 1000000000 : (int)lround(v);
	}
}
