/* seqa — pair-HMM reference (the oracle every backend is compared with).
 *
 * Algorithm: GATK's PairHMM forward algorithm (LoglessPairHMM), in double precision, scalar,
 * written for reading rather than speed.  Three states per cell (M match, X insertion = read base
 * not in the haplotype, Y deletion = haplotype base skipped).  For read position i (1-based, row)
 * and haplotype position j (column):
 *
 *   M[i][j] = prior(i,j) * (M[i-1][j-1]*mm(i) + (X[i-1][j-1] + Y[i-1][j-1])*gm(i))
 *   X[i][j] = M[i-1][j]*mx(i) + X[i-1][j]*xx(i)
 *   Y[i][j] = M[i][j-1]*my(i) + Y[i][j-1]*yy(i)
 *
 * with, from the qualities of read base i (phred, e(q) = 10^(-q/10)):
 *   mm = 1 - (e(ins) + e(del))   match -> match
 *   gm = 1 - e(gcp)              insertion/deletion -> match
 *   mx = e(ins), xx = e(gcp)     match -> insertion, insertion -> insertion
 *   my = e(del), yy = e(gcp)     match -> deletion, deletion -> deletion
 *   prior = 1 - e(bq) when read base == hap base or either is N (any base other than ACGT, in
 *   either case, counts as N), else e(bq)/3.
 * Initial condition: row 0 has Y[0][j] = 1/len(hap) (the read may start anywhere in the
 * haplotype), everything else 0.  Result: log10( sum_j M[m][j] + X[m][j] ).
 * GATK scales the initial row by a large constant (2^1020 in double) to keep values normal; the
 * reference does the same and subtracts log10 of it, so its numbers are GATK's numbers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pairhmm.h"
#include "seqa/log.h"
#include "seqa/util.h"

#define PHMM_REF_INITIAL 0x1p1020   /* GATK's double-precision initial constant, 2^1020 */

static double phred_err(int q) { return pow(10.0, -0.1 * q); }

/* A, C, G, T in either case; anything else counts as N (matches everything), as in every backend. */
static int base_code(char c)
{
	switch (c & ~0x20) {
	case 'A': return 0;
	case 'C': return 1;
	case 'G': return 2;
	case 'T': return 3;
	default: return 4;
	}
}

static int base_eq(char a, char b)
{
	int x = base_code(a), y = base_code(b);
	return x == y || x == 4 || y == 4;
}

double sq_phmm_ref_one(const char *hap, int hap_len, const char *read, int read_len,
                       const uint8_t *base_q, const uint8_t *ins_q, const uint8_t *del_q,
                       const uint8_t *gcp)
{
	if (hap_len <= 0 || read_len <= 0) return read_len <= 0 ? 0.0 : -INFINITY;
	int n = hap_len + 1;
	double *buf = calloc((size_t)6 * n, sizeof(double));
	if (!buf) return NAN;
	double *M0 = buf, *X0 = buf + n, *Y0 = buf + 2 * n;   /* previous row */
	double *M1 = buf + 3 * n, *X1 = buf + 4 * n, *Y1 = buf + 5 * n;   /* current row */
	for (int j = 0; j <= hap_len; ++j) Y0[j] = PHMM_REF_INITIAL / hap_len;
	for (int i = 1; i <= read_len; ++i) {
		double e_ins = phred_err(ins_q[i - 1]), e_del = phred_err(del_q[i - 1]);
		double e_gcp = phred_err(gcp[i - 1]), e_bq = phred_err(base_q[i - 1]);
		double mm = 1.0 - (e_ins + e_del), gm = 1.0 - e_gcp;
		double mx = e_ins, xx = e_gcp, my = e_del, yy = e_gcp;
		M1[0] = X1[0] = Y1[0] = 0.0;
		for (int j = 1; j <= hap_len; ++j) {
			double prior = base_eq(read[i - 1], hap[j - 1]) ? 1.0 - e_bq : e_bq / 3.0;
			M1[j] = prior * (M0[j - 1] * mm + (X0[j - 1] + Y0[j - 1]) * gm);
			X1[j] = M0[j] * mx + X0[j] * xx;
			Y1[j] = M1[j - 1] * my + Y1[j - 1] * yy;
		}
		double *t;
		t = M0, M0 = M1, M1 = t;
		t = X0, X0 = X1, X1 = t;
		t = Y0, Y0 = Y1, Y1 = t;
	}
	double sum = 0.0;
	for (int j = 1; j <= hap_len; ++j) sum += M0[j] + X0[j];
	free(buf);
	return log10(sum) - log10(PHMM_REF_INITIAL);
}

int sq_phmm_ref_batch(const sq_phmm_batch_t *b)
{
	if (!b || !b->out || b->n_reads < 0 || b->n_haps < 0 || (b->pair_read && b->n_pairs < 0)) {
		sq_log_error("malformed pair-HMM batch");
		return SQ_EINVAL;
	}
	int64_t n = sq_phmm_batch_n_out(b);
	for (int64_t k = 0; k < n; ++k) {
		int32_t r = b->pair_read ? b->pair_read[k] : (int32_t)(k / (b->n_haps ? b->n_haps : 1));
		int32_t h = b->pair_read ? b->pair_hap[k] : (int32_t)(k % (b->n_haps ? b->n_haps : 1));
		if (r < 0 || r >= b->n_reads || h < 0 || h >= b->n_haps) {
			sq_log_error("pair %lld: read %d / haplotype %d out of range", (long long)k, r, h);
			return SQ_EINVAL;
		}
		int32_t ro = b->read_off[r], ho = b->hap_off[h];
		b->out[k] = sq_phmm_ref_one(b->hap_seq + ho, b->hap_off[h + 1] - ho, b->read_seq + ro,
		                            b->read_off[r + 1] - ro, b->base_q + ro, b->ins_q + ro,
		                            b->del_q + ro, b->gcp + ro);
	}
	return 0;
}
