/* seqa — pair-HMM forward algorithm (GATK semantics; see kernels/ref/pairhmm.c), OpenCL 1.2.
 *
 * One work-item per (read, haplotype) pair, float, GATK's float initial constant 2^120.  The
 * read axis is cut into strips of 4 rows held in private registers while the strip sweeps the
 * haplotype; the row above the strip lives in a per-work-item boundary buffer in global memory,
 * interleaved by work-item within a work-group ([group][column][state][local id]) so neighbouring
 * work-items touch neighbouring addresses (coalesced on GPUs) while one work-item's accesses stay
 * within a few hundred bytes of each other (caches of CPU devices such as PoCL).
 * Pairs arrive sorted by haplotype, so a work-group mostly reads one haplotype.
 * Output: the scaled float sum per pair; the host takes log10, removes the constant and re-runs
 * in double any pair below 1e-28 (GATK's rule).
 */

static uchar phmm_code(uchar c)
{
	c &= (uchar)0xDF;   /* upper case */
	return c == 'A' ? 0 : c == 'C' ? 1 : c == 'G' ? 2 : c == 'T' ? 3 : 4;
}

typedef struct { float mm, gm, mx, xx, my, yy, pm, px; uchar rc; } phmm_row;

static phmm_row phmm_load_row(__global const uchar *rseq, __global const uchar *bq,
                              __global const uchar *iq, __global const uchar *dq,
                              __global const uchar *gq, __constant float *err, int o, int i, int R)
{
	phmm_row p;
	if (i >= R) {   /* padding row below the read: zeros, never summed */
		p.mm = p.gm = p.mx = p.xx = p.my = p.yy = p.pm = p.px = 0.0f;
		p.rc = 4;
		return p;
	}
	float ei = err[iq[o + i]], ed = err[dq[o + i]], eg = err[gq[o + i]], eb = err[bq[o + i]];
	p.mm = 1.0f - (ei + ed);
	p.gm = 1.0f - eg;
	p.mx = ei, p.xx = eg, p.my = ed, p.yy = eg;
	p.pm = 1.0f - eb;
	p.px = eb / 3.0f;
	p.rc = phmm_code(rseq[o + i]);
	return p;
}

#define PRIOR(p, hc) (((p).rc == (hc) || (p).rc == 4 || (hc) == 4) ? (p).pm : (p).px)

__kernel void phmm_forward(__global const uchar *rseq, __global const uchar *bq,
                           __global const uchar *iq, __global const uchar *dq,
                           __global const uchar *gq, __global const int *roff,
                           __global const uchar *hseq, __global const int *hoff,
                           __global const int *pr, __global const int *ph, int n,
                           __constant float *err, __global float *bnd, int hstride,
                           __global float *res)
{
	int g = get_global_id(0);
	int gs = get_local_size(0);   /* boundary interleaved within the work-group */
	if (g >= n) return;
	bnd += (size_t)get_group_id(0) * hstride * 3 * gs;
	g = get_local_id(0);
	int r = pr[get_global_id(0)], h = ph[get_global_id(0)];
	int o = roff[r], R = roff[r + 1] - o;
	int ho = hoff[h], H = hoff[h + 1] - ho;
	if (R <= 0 || H <= 0) { res[get_global_id(0)] = 0.0f; return; }
	const float init = 0x1p120f;
	float y0 = init / (float)H;
	for (int j = 0; j <= H; ++j) {
		bnd[(size_t)(3 * j + 0) * gs + g] = 0.0f;
		bnd[(size_t)(3 * j + 1) * gs + g] = 0.0f;
		bnd[(size_t)(3 * j + 2) * gs + g] = y0;
	}
	float acc = 0.0f;
	for (int i0 = 0; i0 < R; i0 += 4) {
		phmm_row p0 = phmm_load_row(rseq, bq, iq, dq, gq, err, o, i0 + 0, R);
		phmm_row p1 = phmm_load_row(rseq, bq, iq, dq, gq, err, o, i0 + 1, R);
		phmm_row p2 = phmm_load_row(rseq, bq, iq, dq, gq, err, o, i0 + 2, R);
		phmm_row p3 = phmm_load_row(rseq, bq, iq, dq, gq, err, o, i0 + 3, R);
		int last = R - 1 - i0;   /* 0..3 when the read ends in this strip */
		float e0 = last == 0, e1 = last == 1, e2 = last == 2, e3 = last == 3;
		float M0 = 0, X0 = 0, Y0 = 0, M1 = 0, X1 = 0, Y1 = 0, M2 = 0, X2 = 0, Y2 = 0, M3 = 0, X3 = 0, Y3 = 0;
		float uM = bnd[g], uX = bnd[(size_t)gs + g], uY = bnd[(size_t)2 * gs + g];
		for (int j = 1; j <= H; ++j) {
			size_t b = (size_t)3 * j * gs + g;
			uchar hc = phmm_code(hseq[ho + j - 1]);
			float nM = bnd[b], nX = bnd[b + gs], nY = bnd[b + 2 * (size_t)gs];
			float m0 = PRIOR(p0, hc) * (uM * p0.mm + (uX + uY) * p0.gm);
			float x0 = (nM * p0.mx + nX * p0.xx);
			float y0n = (M0 * p0.my + Y0 * p0.yy);
			float m1 = PRIOR(p1, hc) * (M0 * p1.mm + (X0 + Y0) * p1.gm);
			float x1 = (m0 * p1.mx + x0 * p1.xx);
			float y1n = (M1 * p1.my + Y1 * p1.yy);
			float m2 = PRIOR(p2, hc) * (M1 * p2.mm + (X1 + Y1) * p2.gm);
			float x2 = (m1 * p2.mx + x1 * p2.xx);
			float y2n = (M2 * p2.my + Y2 * p2.yy);
			float m3 = PRIOR(p3, hc) * (M2 * p3.mm + (X2 + Y2) * p3.gm);
			float x3 = (m2 * p3.mx + x2 * p3.xx);
			float y3n = (M3 * p3.my + Y3 * p3.yy);
			M0 = m0, X0 = x0, Y0 = y0n, M1 = m1, X1 = x1, Y1 = y1n;
			M2 = m2, X2 = x2, Y2 = y2n, M3 = m3, X3 = x3, Y3 = y3n;
			uM = nM, uX = nX, uY = nY;
			bnd[b] = M3, bnd[b + gs] = X3, bnd[b + 2 * (size_t)gs] = Y3;
			if (last < 4)
				acc += (M0 + X0) * e0 + (M1 + X1) * e1 + (M2 + X2) * e2 + (M3 + X3) * e3;
		}
		bnd[g] = 0.0f, bnd[(size_t)gs + g] = 0.0f, bnd[(size_t)2 * gs + g] = 0.0f;
	}
	res[get_global_id(0)] = acc;
}

/* ---- CPU devices: 16 pairs per work-item in float16 ------------------------------------------
 * OpenCL CPU runtimes (PoCL) do not vectorise the kernel above across work-items (its loops
 * have per-work-item trip counts), so on CPU devices the driver uses this variant: like the
 * native CPU kernels, one work-item runs 16 reads against one haplotype with one float16 lane
 * per read (AVX-512 on PoCL).  The host pads each haplotype's pairs to a multiple of 16
 * (pr = -1) so the 16 lanes of a work-item always share the haplotype. */
__kernel void phmm_forward_v16(__global const uchar *rseq, __global const uchar *bq,
                               __global const uchar *iq, __global const uchar *dq,
                               __global const uchar *gq, __global const int *roff,
                               __global const uchar *hseq, __global const int *hoff,
                               __global const int *pr, __global const int *ph, int n,
                               __constant float *err, __global float16 *bnd, int hstride,
                               __global float *res)
{
	const int w = get_global_id(0), k0 = 16 * w;
	if (k0 >= n) return;
	const int h = ph[k0], ho = hoff[h], H = hoff[h + 1] - ho;
	int o[16], R[16], RR = 0;
	for (int l = 0; l < 16; ++l) {
		int r = pr[k0 + l];
		o[l] = r >= 0 ? roff[r] : 0;
		R[l] = r >= 0 ? roff[r + 1] - o[l] : 0;
		RR = max(RR, R[l]);
	}
	if (H <= 0 || RR <= 0) {
		for (int l = 0; l < 16; ++l) res[k0 + l] = 0.0f;
		return;
	}
	bnd += (size_t)w * hstride * 3;
	const float16 zero = (float16)(0.0f);
	const float16 y0 = (float16)(0x1p120f / (float)H);
	for (int j = 0; j <= H; ++j) bnd[3 * j] = zero, bnd[3 * j + 1] = zero, bnd[3 * j + 2] = y0;
	float16 acc = zero;
	for (int i0 = 0; i0 < RR; i0 += 4) {
		float16 mm[4], gm[4], mx[4], xx[4], my[4], yy[4], pm[4], px[4], ew[4];
		int16 rc[4], isn[4];
		int ends = 0;   /* some lane's read ends in this strip */
		for (int k = 0; k < 4; ++k) {
			float t[9][16];
			int c[16];
			for (int l = 0; l < 16; ++l) {
				int i = i0 + k;
				if (i < R[l]) {
					float ei = err[iq[o[l] + i]], ed = err[dq[o[l] + i]], eg = err[gq[o[l] + i]], eb = err[bq[o[l] + i]];
					t[0][l] = 1.0f - (ei + ed), t[1][l] = 1.0f - eg, t[2][l] = ei, t[3][l] = eg;
					t[4][l] = ed, t[5][l] = eg, t[6][l] = 1.0f - eb, t[7][l] = eb / 3.0f;
					c[l] = phmm_code(rseq[o[l] + i]);
				} else {
					for (int q = 0; q < 8; ++q) t[q][l] = 0.0f;
					c[l] = 4;
				}
				t[8][l] = (i == R[l] - 1) ? 1.0f : 0.0f;
				ends |= i == R[l] - 1;
			}
			mm[k] = vload16(0, t[0]), gm[k] = vload16(0, t[1]), mx[k] = vload16(0, t[2]);
			xx[k] = vload16(0, t[3]), my[k] = vload16(0, t[4]), yy[k] = vload16(0, t[5]);
			pm[k] = vload16(0, t[6]), px[k] = vload16(0, t[7]), ew[k] = vload16(0, t[8]);
			rc[k] = vload16(0, c);
			isn[k] = rc[k] == (int16)(4);
		}
		float16 M0 = zero, X0 = zero, Y0 = zero, M1 = zero, X1 = zero, Y1 = zero;
		float16 M2 = zero, X2 = zero, Y2 = zero, M3 = zero, X3 = zero, Y3 = zero;
		float16 uM = bnd[0], uX = bnd[1], uY = bnd[2];
		for (int j = 1; j <= H; ++j) {
			__global float16 *b = bnd + 3 * j;
			const int hc = phmm_code(hseq[ho + j - 1]);
			const int16 hv = (int16)(hc);
			float16 nM = b[0], nX = b[1], nY = b[2];
			float16 q0 = hc == 4 ? pm[0] : select(px[0], pm[0], (rc[0] == hv) | isn[0]);
			float16 q1 = hc == 4 ? pm[1] : select(px[1], pm[1], (rc[1] == hv) | isn[1]);
			float16 q2 = hc == 4 ? pm[2] : select(px[2], pm[2], (rc[2] == hv) | isn[2]);
			float16 q3 = hc == 4 ? pm[3] : select(px[3], pm[3], (rc[3] == hv) | isn[3]);
			float16 m0 = q0 * (uM * mm[0] + (uX + uY) * gm[0]);
			float16 x0 = nM * mx[0] + nX * xx[0];
			float16 y0n = M0 * my[0] + Y0 * yy[0];
			float16 m1 = q1 * (M0 * mm[1] + (X0 + Y0) * gm[1]);
			float16 x1 = m0 * mx[1] + x0 * xx[1];
			float16 y1n = M1 * my[1] + Y1 * yy[1];
			float16 m2 = q2 * (M1 * mm[2] + (X1 + Y1) * gm[2]);
			float16 x2 = m1 * mx[2] + x1 * xx[2];
			float16 y2n = M2 * my[2] + Y2 * yy[2];
			float16 m3 = q3 * (M2 * mm[3] + (X2 + Y2) * gm[3]);
			float16 x3 = m2 * mx[3] + x2 * xx[3];
			float16 y3n = M3 * my[3] + Y3 * yy[3];
			M0 = m0, X0 = x0, Y0 = y0n, M1 = m1, X1 = x1, Y1 = y1n;
			M2 = m2, X2 = x2, Y2 = y2n, M3 = m3, X3 = x3, Y3 = y3n;
			uM = nM, uX = nX, uY = nY;
			b[0] = M3, b[1] = X3, b[2] = Y3;
			if (ends)
				acc += (M0 + X0) * ew[0] + (M1 + X1) * ew[1] + (M2 + X2) * ew[2] + (M3 + X3) * ew[3];
		}
		bnd[0] = zero, bnd[1] = zero, bnd[2] = zero;
	}
	float out[16];
	vstore16(acc, 0, out);
	for (int l = 0; l < 16; ++l) res[k0 + l] = out[l];
}
