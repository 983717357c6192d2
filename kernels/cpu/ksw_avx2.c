/* seqa — seed extension, AVX2: libbwa's ksw_extend2 with 16 query columns per vector.
 *
 * Same cells, same order of decisions as bwa's scalar loop (kernels/ksw.h).  Storage follows
 * bwa's eh[] exactly, as two int16 arrays: at the start of row i, hh[j] = H(i-1,j-1) and
 * ee[j] = E(i,j); after it, hh[j] = H(i,j-1) (hh[beg] the first-column value) and ee[j] =
 * E(i+1,j), for j in [beg,end], with hh[end] = H(i,end-1) and ee[end] = 0; cells outside keep
 * what they held, since a later row whose band grows reads them as bwa does.  Per vector of
 * columns j0..j0+15:
 *   M  = H(i-1,j-1) ? H(i-1,j-1) + S(i,j) : 0
 *   F  = max(F(j0) - l*e_ins, max_{k<j} (max(M(k) - oe_ins, 0) - (j-1-k)*e_ins))   (scan)
 *   H  = max(M, E, F);  E' = max(E - e_del, M - oe_del, 0)
 * The row maximum is tracked per lane with the last column reaching it (bwa keeps the last
 * column on ties).  Scores stay below 2^15 (sq_ksw_avx2_fits). */
#include <immintrin.h>
#include <stdlib.h>
#include <string.h>
#include "ksw.h"

#define V 16
#define KSW_MAX_Q 4096

int sq_ksw_avx2_fits(int qlen, int m, const int8_t *mat, int o_del, int e_del, int o_ins, int e_ins, int h0)
{
	int mx = 0;
	if (qlen < 1 || qlen > KSW_MAX_Q || m < 1 || m > 16 || h0 <= 0) return 0;
	if (o_del < 0 || o_ins < 0 || e_del < 1 || e_ins < 1 || o_del + e_del > 1000 || o_ins + e_ins > 1000) return 0;
	for (int i = 0; i < m * m; ++i) mx = mx > mat[i] ? mx : mat[i];
	return (int64_t)h0 + (int64_t)qlen * mx <= 30000;
}

/* lanes shifted up by k columns (toward higher j), zeros shifted in */
#define SHL8(a) _mm256_permute2x128_si256((a), (a), 0x08)
#define SHL(a, k) _mm256_alignr_epi8((a), SHL8(a), 16 - 2 * (k))

static inline int hmax16(__m256i v)
{
	__m128i x = _mm_max_epi16(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	x = _mm_max_epi16(x, _mm_srli_si128(x, 8));
	x = _mm_max_epi16(x, _mm_srli_si128(x, 4));
	x = _mm_max_epi16(x, _mm_srli_si128(x, 2));
	return (int16_t)_mm_extract_epi16(x, 0);
}

int sq_ksw_extend_avx2(int qlen, const uint8_t *query, int tlen, const uint8_t *target, int m,
                       const int8_t *mat, int o_del, int e_del, int o_ins, int e_ins, int w,
                       int end_bonus, int zdrop, int h0, int *_qle, int *_tle, int *_gtle, int *_gscore,
                       int *_max_off)
{
	const int qs = (qlen + 2 * V + 1 + 15) & ~15;   /* row stride: reads run up to 2V past end */
	int16_t qp[m * qs], hh[qs], ee[qs];
	int i, j, k, oe_del = o_del + e_del, oe_ins = o_ins + e_ins, beg, end, max, max_i, max_j;
	int max_ins, max_del, max_ie, gscore, max_off;
	/* query profile, as bwa's: qp[c][j] = mat[c][query[j]] */
	for (k = 0; k < m; ++k) {
		const int8_t *p = &mat[k * m];
		for (j = 0; j < qlen; ++j) qp[k * qs + j] = p[query[j]];
		for (; j < qs; ++j) qp[k * qs + j] = 0;
	}
	memset(hh, 0, sizeof hh);
	memset(ee, 0, sizeof ee);
	hh[0] = (int16_t)h0; hh[1] = (int16_t)(h0 > oe_ins ? h0 - oe_ins : 0);
	for (j = 2; j <= qlen && hh[j - 1] > e_ins; ++j) hh[j] = (int16_t)(hh[j - 1] - e_ins);
	/* bwa's bound on the band */
	for (i = 0, max = 0, k = m * m; i < k; ++i) max = max > mat[i] ? max : mat[i];
	max_ins = (int)((double)(qlen * max + end_bonus - o_ins) / e_ins + 1.);
	max_ins = max_ins > 1 ? max_ins : 1;
	w = w < max_ins ? w : max_ins;
	max_del = (int)((double)(qlen * max + end_bonus - o_del) / e_del + 1.);
	max_del = max_del > 1 ? max_del : 1;
	w = w < max_del ? w : max_del;

	const __m256i zero = _mm256_setzero_si256(), minus1 = _mm256_set1_epi16(-1);
	const __m256i lane = _mm256_setr_epi16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	const __m256i v_oe_del = _mm256_set1_epi16((int16_t)oe_del), v_e_del = _mm256_set1_epi16((int16_t)e_del);
	const __m256i v_oe_ins = _mm256_set1_epi16((int16_t)oe_ins), ve1 = _mm256_set1_epi16((int16_t)e_ins);
	const __m256i ve2 = _mm256_set1_epi16((int16_t)(2 * e_ins)), ve4 = _mm256_set1_epi16((int16_t)(4 * e_ins));
	const __m256i ve8 = _mm256_set1_epi16((int16_t)(8 * e_ins)), ve16 = _mm256_set1_epi16((int16_t)(16 * e_ins));
	const __m256i lane_e = _mm256_mullo_epi16(lane, ve1);

	max = h0, max_i = max_j = -1; max_ie = -1, gscore = -1;
	max_off = 0;
	beg = 0, end = qlen;
	for (i = 0; i < tlen; ++i) {
		int h1, bd, mrow = 0, mj = -1;
		const int16_t *q = &qp[target[i] * qs];
		if (beg < i - w) beg = i - w;
		if (end > i + w + 1) end = i + w + 1;
		if (end > qlen) end = qlen;
		if (beg == 0) { bd = h0 - (o_del + e_del * (i + 1)); if (bd < 0) bd = 0; }
		else bd = 0;
		if (beg < end) {
			__m256i carry = zero, vmax = zero, vidx = minus1;
			__m256i dnext = _mm256_loadu_si256((const __m256i *)(hh + beg));
			for (int j0 = beg; j0 < end; j0 += V) {
				__m256i diag = dnext;
				__m256i E = _mm256_loadu_si256((const __m256i *)(ee + j0));
				__m256i qv = _mm256_loadu_si256((const __m256i *)(q + j0));
				__m256i M = _mm256_andnot_si256(_mm256_cmpeq_epi16(diag, zero), _mm256_add_epi16(diag, qv));
				__m256i S = _mm256_max_epi16(_mm256_sub_epi16(M, v_oe_ins), zero);
				S = _mm256_max_epi16(S, _mm256_sub_epi16(SHL(S, 1), ve1));
				S = _mm256_max_epi16(S, _mm256_sub_epi16(SHL(S, 2), ve2));
				S = _mm256_max_epi16(S, _mm256_sub_epi16(SHL(S, 4), ve4));
				S = _mm256_max_epi16(S, _mm256_sub_epi16(SHL8(S), ve8));
				__m256i F = _mm256_max_epi16(SHL(S, 1), _mm256_sub_epi16(carry, lane_e));
				__m256i s15 = _mm256_permute4x64_epi64(_mm256_shufflehi_epi16(S, 0xff), 0xff);
				carry = _mm256_max_epi16(_mm256_sub_epi16(carry, ve16), s15);
				__m256i H = _mm256_max_epi16(_mm256_max_epi16(M, E), F);
				__m256i En = _mm256_max_epi16(_mm256_sub_epi16(E, v_e_del), _mm256_max_epi16(_mm256_sub_epi16(M, v_oe_del), zero));
				dnext = _mm256_loadu_si256((const __m256i *)(hh + j0 + V));   /* before the store below overwrites hh[j0+V] */
				if (end - j0 < V) {   /* last, partial vector: lanes past end keep memory as it was */
					__m256i in = _mm256_cmpgt_epi16(_mm256_set1_epi16((int16_t)(end - j0)), lane);
					H = _mm256_blendv_epi8(_mm256_loadu_si256((const __m256i *)(hh + j0 + 1)), H, in);
					En = _mm256_blendv_epi8(_mm256_loadu_si256((const __m256i *)(ee + j0)), En, in);
					_mm256_storeu_si256((__m256i *)(hh + j0 + 1), H);
					_mm256_storeu_si256((__m256i *)(ee + j0), En);
					H = _mm256_blendv_epi8(minus1, H, in);
				} else {
					_mm256_storeu_si256((__m256i *)(hh + j0 + 1), H);
					_mm256_storeu_si256((__m256i *)(ee + j0), En);
				}
				__m256i older = _mm256_cmpgt_epi16(vmax, H);   /* keep the earlier column only if strictly larger */
				vidx = _mm256_blendv_epi8(_mm256_add_epi16(_mm256_set1_epi16((int16_t)j0), lane), vidx, older);
				vmax = _mm256_max_epi16(vmax, H);
			}
			hh[beg] = (int16_t)bd;
			h1 = hh[end];
			mrow = hmax16(vmax);
			if (mrow > 0)   /* the last column reaching it: largest index among lanes at mrow */
				mj = hmax16(_mm256_blendv_epi8(minus1, vidx, _mm256_cmpeq_epi16(vmax, _mm256_set1_epi16((int16_t)mrow))));
		} else {
			hh[end] = (int16_t)bd;
			h1 = bd;
		}
		ee[end] = 0;
		if ((end > beg ? end : beg) == qlen) {
			max_ie = gscore > h1 ? max_ie : i;
			gscore = gscore > h1 ? gscore : h1;
		}
		if (mrow == 0) break;
		if (mrow > max) {
			max = mrow, max_i = i, max_j = mj;
			max_off = max_off > abs(mj - i) ? max_off : abs(mj - i);
		} else if (zdrop > 0) {
			if (i - max_i > mj - max_j) {
				if (max - mrow - ((i - max_i) - (mj - max_j)) * e_del > zdrop) break;
			} else {
				if (max - mrow - ((mj - max_j) - (i - max_i)) * e_ins > zdrop) break;
			}
		}
		for (j = beg; j < end && hh[j] == 0 && ee[j] == 0; ++j);
		beg = j;
		for (j = end; j >= beg && hh[j] == 0 && ee[j] == 0; --j);
		end = j + 2 < qlen ? j + 2 : qlen;
	}
	if (_qle) *_qle = max_j + 1;
	if (_tle) *_tle = max_i + 1;
	if (_gtle) *_gtle = max_ie + 1;
	if (_gscore) *_gscore = gscore;
	if (_max_off) *_max_off = max_off;
	return max;
}
