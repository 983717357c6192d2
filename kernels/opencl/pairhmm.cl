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
