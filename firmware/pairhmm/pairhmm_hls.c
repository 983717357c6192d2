/* seqa — pair-HMM FPGA design in HLS-style C (Vitis HLS / oneAPI-portable C subset).
 *
 * A systolic array along the read: PHMM_NPE processing elements, PE p owns read row i0 + p of
 * the current pass and keeps that row's transition parameters and M, X, Y states in registers.
 * At cycle t PE p computes column j = t - p + 1: its "up" operands are what PE p-1 produced one
 * cycle earlier, its "diagonal" operands are what PE p-1 produced two cycles earlier, its "left"
 * operands are its own previous outputs.  One pass over the haplotype takes H + NPE - 1 cycles
 * at initiation interval 1 (NPE cells per cycle); reads longer than NPE rows take several passes,
 * the last row of a pass feeding the next through an on-chip boundary row (BRAM, PHMM_MAX_HAP).
 * The final-row sum uses PHMM_PSUM rotating partial sums so no float add recurrence limits II.
 *
 * Number format: IEEE float, GATK's float initial constant 2^120, and the host re-runs in double
 * any pair whose sum falls below 1e-28 (GATK's rule), exactly like the CPU/GPU backends.  Fixed
 * point was rejected: likelihoods span hundreds of decades (the GATK vectors alone reach 1e-100)
 * so a fixed-point datapath would need per-row rescaling or log-domain arithmetic, i.e. more
 * logic and a different answer than GATK's; float DSP cores fit II = 1 on current parts.
 *
 * The same source is the C simulation (firmware/pairhmm/pairhmm_csim.c) compiled by gcc: the
 * pragmas are ignored there, and the p loop runs from the last PE to the first so sequential C
 * has the same meaning as all PEs updating at once.
 */
#include <math.h>
#include "pairhmm_hls.h"

#ifndef __SYNTHESIS__
#pragma GCC diagnostic ignored "-Wunknown-pragmas"   /* HLS pragmas mean nothing to gcc */
#endif

static uint8_t phmm_code(uint8_t c)
{
	c &= 0xDF;
	return c == 'A' ? 0 : c == 'C' ? 1 : c == 'G' ? 2 : c == 'T' ? 3 : 4;
}

static float phmm_pair(const uint8_t *rseq, const uint8_t *bq, const uint8_t *iq, const uint8_t *dq,
                       const uint8_t *gq, int ro, int R, const uint8_t *hseq, int ho, int H,
                       const float *err)
{
	/* boundary row (the row above the current pass), on chip */
	float bM[PHMM_MAX_HAP + 1], bX[PHMM_MAX_HAP + 1], bY[PHMM_MAX_HAP + 1];
	uint8_t hc[PHMM_MAX_HAP];
	/* per-PE registers */
	float mm[PHMM_NPE], gm[PHMM_NPE], mx[PHMM_NPE], xx[PHMM_NPE], my[PHMM_NPE], yy[PHMM_NPE];
	float pm[PHMM_NPE], px[PHMM_NPE];
	uint8_t rc[PHMM_NPE];
	float M[PHMM_NPE], X[PHMM_NPE], Y[PHMM_NPE];        /* own row, last computed column */
	float dM[PHMM_NPE], dX[PHMM_NPE], dY[PHMM_NPE];     /* diagonal operands */
	float psum[PHMM_PSUM];
#pragma HLS ARRAY_PARTITION variable=mm complete
#pragma HLS ARRAY_PARTITION variable=gm complete
#pragma HLS ARRAY_PARTITION variable=mx complete
#pragma HLS ARRAY_PARTITION variable=xx complete
#pragma HLS ARRAY_PARTITION variable=my complete
#pragma HLS ARRAY_PARTITION variable=yy complete
#pragma HLS ARRAY_PARTITION variable=pm complete
#pragma HLS ARRAY_PARTITION variable=px complete
#pragma HLS ARRAY_PARTITION variable=rc complete
#pragma HLS ARRAY_PARTITION variable=M complete
#pragma HLS ARRAY_PARTITION variable=X complete
#pragma HLS ARRAY_PARTITION variable=Y complete
#pragma HLS ARRAY_PARTITION variable=dM complete
#pragma HLS ARRAY_PARTITION variable=dX complete
#pragma HLS ARRAY_PARTITION variable=dY complete
#pragma HLS ARRAY_PARTITION variable=psum complete
	const float init = 0x1p120f / (float)H;
	for (int j = 0; j <= H; ++j) {
#pragma HLS PIPELINE II=1
		bM[j] = 0.0f, bX[j] = 0.0f, bY[j] = init;
		if (j < H) hc[j] = phmm_code(hseq[ho + j]);
	}
	for (int s = 0; s < PHMM_PSUM; ++s) psum[s] = 0.0f;
	for (int i0 = 0; i0 < R; i0 += PHMM_NPE) {
		for (int p = 0; p < PHMM_NPE; ++p) {   /* load the pass's rows into the PEs */
#pragma HLS PIPELINE II=1
			int i = i0 + p;
			if (i < R) {
				float ei = err[iq[ro + i]], ed = err[dq[ro + i]], eg = err[gq[ro + i]], eb = err[bq[ro + i]];
				mm[p] = 1.0f - (ei + ed), gm[p] = 1.0f - eg;
				mx[p] = ei, xx[p] = eg, my[p] = ed, yy[p] = eg;
				pm[p] = 1.0f - eb, px[p] = eb / 3.0f;
				rc[p] = phmm_code(rseq[ro + i]);
			} else {
				mm[p] = gm[p] = mx[p] = xx[p] = my[p] = yy[p] = pm[p] = px[p] = 0.0f;
				rc[p] = 4;
			}
			M[p] = X[p] = Y[p] = 0.0f;                  /* column 0 */
			dM[p] = dX[p] = 0.0f, dY[p] = 0.0f;
		}
		dM[0] = bM[0], dX[0] = bX[0], dY[0] = bY[0];    /* row above, column 0 */
		const int last = R - 1 - i0;                     /* PE holding the read's last row */
		float oM[PHMM_NPE], oX[PHMM_NPE], oY[PHMM_NPE];  /* outputs to the next PE ("up") */
#pragma HLS ARRAY_PARTITION variable=oM complete
#pragma HLS ARRAY_PARTITION variable=oX complete
#pragma HLS ARRAY_PARTITION variable=oY complete
		for (int p = 0; p < PHMM_NPE; ++p) oM[p] = oX[p] = oY[p] = 0.0f;
		for (int t = 0; t < H + PHMM_NPE - 1; ++t) {
#pragma HLS PIPELINE II=1
#pragma HLS DEPENDENCE variable=bM inter false
#pragma HLS DEPENDENCE variable=bX inter false
#pragma HLS DEPENDENCE variable=bY inter false
			for (int p = PHMM_NPE - 1; p >= 0; --p) {
#pragma HLS UNROLL
				int j = t - p + 1;
				if (j < 1 || j > H) continue;
				float uM, uX, uY;
				if (p == 0) uM = bM[j], uX = bX[j], uY = bY[j];
				else uM = oM[p - 1], uX = oX[p - 1], uY = oY[p - 1];
				uint8_t h = hc[j - 1];
				float prior = (rc[p] == h || rc[p] == 4 || h == 4) ? pm[p] : px[p];
				float nM = prior * (dM[p] * mm[p] + (dX[p] + dY[p]) * gm[p]);
				float nX = uM * mx[p] + uX * xx[p];
				float nY = M[p] * my[p] + Y[p] * yy[p];
				/* next diagonal for this PE = this column's "up" (row above, column j) */
				dM[p] = uM, dX[p] = uX, dY[p] = uY;
				M[p] = nM, X[p] = nX, Y[p] = nY;
				oM[p] = nM, oX[p] = nX, oY[p] = nY;
				if (p == PHMM_NPE - 1) bM[j] = nM, bX[j] = nX, bY[j] = nY;
				if (p == last) psum[t % PHMM_PSUM] += nM + nX;
			}
		}
		bM[0] = 0.0f, bX[0] = 0.0f, bY[0] = 0.0f;        /* column 0 below row 0 */
	}
	float sum = 0.0f;
	for (int s = 0; s < PHMM_PSUM; ++s) sum += psum[s];
	return sum;
}

void phmm_forward(const uint8_t *rseq, const uint8_t *bq, const uint8_t *iq, const uint8_t *dq,
                  const uint8_t *gq, const int32_t *roff, const uint8_t *hseq, const int32_t *hoff,
                  const int32_t *pr, const int32_t *ph, int32_t n, const float *err, float *bnd,
                  int32_t hstride, float *res)
{
#pragma HLS INTERFACE m_axi port=rseq offset=slave bundle=gmem0
#pragma HLS INTERFACE m_axi port=bq offset=slave bundle=gmem0
#pragma HLS INTERFACE m_axi port=iq offset=slave bundle=gmem0
#pragma HLS INTERFACE m_axi port=dq offset=slave bundle=gmem0
#pragma HLS INTERFACE m_axi port=gq offset=slave bundle=gmem0
#pragma HLS INTERFACE m_axi port=roff offset=slave bundle=gmem1
#pragma HLS INTERFACE m_axi port=hseq offset=slave bundle=gmem1
#pragma HLS INTERFACE m_axi port=hoff offset=slave bundle=gmem1
#pragma HLS INTERFACE m_axi port=pr offset=slave bundle=gmem1
#pragma HLS INTERFACE m_axi port=ph offset=slave bundle=gmem1
#pragma HLS INTERFACE m_axi port=err offset=slave bundle=gmem1
#pragma HLS INTERFACE m_axi port=bnd offset=slave bundle=gmem2
#pragma HLS INTERFACE m_axi port=res offset=slave bundle=gmem2
#pragma HLS INTERFACE s_axilite port=n
#pragma HLS INTERFACE s_axilite port=hstride
#pragma HLS INTERFACE s_axilite port=return
	(void)bnd, (void)hstride;
	float errl[256];
	for (int q = 0; q < 256; ++q) errl[q] = err[q];
	for (int k = 0; k < n; ++k) {
		int r = pr[k], h = ph[k];
		int ro = roff[r], R = roff[r + 1] - ro, ho = hoff[h], H = hoff[h + 1] - ho;
		if (R <= 0 || H <= 0 || H > PHMM_MAX_HAP) { res[k] = NAN; continue; }   /* host computes it */
		res[k] = phmm_pair(rseq, bq, iq, dq, gq, ro, R, hseq, ho, H, errl);
	}
}
