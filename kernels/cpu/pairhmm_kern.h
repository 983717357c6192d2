/* seqa — pair-HMM CPU kernel body, instantiated once per ISA (see pairhmm_cpu.h).
 * Before including, define: KW (lanes), vf (vector type), VLD(p), VST(p, v), VSET1(x),
 * VADD(a, b), VMUL(a, b), VFMA(a, b, c) (= a * b + c), KNAME (function name). */

void KNAME(const phmm_prep_t *p, const uint8_t *hap, int H, float init, float *res)
{
	float *bnd = p->bnd;
	const int S = PHMM_STRIP;
	vf zero = VSET1(0.0f), acc = zero;
	/* row 0: M = X = 0, Y = init / H (the read may start at any haplotype position) */
	vf y0 = VSET1(init / (float)H);
	for (int j = 0; j <= H; ++j) {
		VST(bnd + (3 * j + 0) * KW, zero);
		VST(bnd + (3 * j + 1) * KW, zero);
		VST(bnd + (3 * j + 2) * KW, y0);
	}
	for (int i0 = 0; i0 < p->R; i0 += S) {
		const float *P0 = p->par + (size_t)(i0 + 0) * PHMM_NPAR * KW;
		const float *P1 = P0 + PHMM_NPAR * KW, *P2 = P1 + PHMM_NPAR * KW, *P3 = P2 + PHMM_NPAR * KW;
		vf mm0 = VLD(P0 + PP_MM * KW), gm0 = VLD(P0 + PP_GM * KW), mx0 = VLD(P0 + PP_MX * KW);
		vf xx0 = VLD(P0 + PP_XX * KW), my0 = VLD(P0 + PP_MY * KW), yy0 = VLD(P0 + PP_YY * KW);
		vf mm1 = VLD(P1 + PP_MM * KW), gm1 = VLD(P1 + PP_GM * KW), mx1 = VLD(P1 + PP_MX * KW);
		vf xx1 = VLD(P1 + PP_XX * KW), my1 = VLD(P1 + PP_MY * KW), yy1 = VLD(P1 + PP_YY * KW);
		vf M0 = zero, X0 = zero, Y0 = zero, M1 = zero, X1 = zero, Y1 = zero;
		vf M2 = zero, X2 = zero, Y2 = zero, M3 = zero, X3 = zero, Y3 = zero;
		vf uM = VLD(bnd), uX = VLD(bnd + KW), uY = VLD(bnd + 2 * KW);   /* row above, column j-1 */
		int ends = p->strip_end[i0 / S];
		const float *E = p->endw + (size_t)i0 * KW;
		for (int j = 1; j <= H; ++j) {
			float *b = bnd + (size_t)3 * j * KW;
			const int c = hap[j - 1] * KW;
			vf nM = VLD(b), nX = VLD(b + KW), nY = VLD(b + 2 * KW);      /* row above, column j */
			vf m0 = VMUL(VLD(P0 + PP_PRIOR * KW + c), VFMA(uM, mm0, VMUL(VADD(uX, uY), gm0)));
			vf x0 = VFMA(nM, mx0, VMUL(nX, xx0));
			vf y0n = VFMA(M0, my0, VMUL(Y0, yy0));
			vf m1 = VMUL(VLD(P1 + PP_PRIOR * KW + c), VFMA(M0, mm1, VMUL(VADD(X0, Y0), gm1)));
			vf x1 = VFMA(m0, mx1, VMUL(x0, xx1));
			vf y1n = VFMA(M1, my1, VMUL(Y1, yy1));
			vf m2 = VMUL(VLD(P2 + PP_PRIOR * KW + c),
			             VFMA(M1, VLD(P2 + PP_MM * KW), VMUL(VADD(X1, Y1), VLD(P2 + PP_GM * KW))));
			vf x2 = VFMA(m1, VLD(P2 + PP_MX * KW), VMUL(x1, VLD(P2 + PP_XX * KW)));
			vf y2n = VFMA(M2, VLD(P2 + PP_MY * KW), VMUL(Y2, VLD(P2 + PP_YY * KW)));
			vf m3 = VMUL(VLD(P3 + PP_PRIOR * KW + c),
			             VFMA(M2, VLD(P3 + PP_MM * KW), VMUL(VADD(X2, Y2), VLD(P3 + PP_GM * KW))));
			vf x3 = VFMA(m2, VLD(P3 + PP_MX * KW), VMUL(x2, VLD(P3 + PP_XX * KW)));
			vf y3n = VFMA(M3, VLD(P3 + PP_MY * KW), VMUL(Y3, VLD(P3 + PP_YY * KW)));
			M0 = m0, X0 = x0, Y0 = y0n, M1 = m1, X1 = x1, Y1 = y1n;
			M2 = m2, X2 = x2, Y2 = y2n, M3 = m3, X3 = x3, Y3 = y3n;
			uM = nM, uX = nX, uY = nY;
			VST(b, M3), VST(b + KW, X3), VST(b + 2 * KW, Y3);
			if (ends) {
				acc = VFMA(VADD(M0, X0), VLD(E + 0 * KW), acc);
				acc = VFMA(VADD(M1, X1), VLD(E + 1 * KW), acc);
				acc = VFMA(VADD(M2, X2), VLD(E + 2 * KW), acc);
				acc = VFMA(VADD(M3, X3), VLD(E + 3 * KW), acc);
			}
		}
		/* column 0 below row 0 is all zero */
		VST(bnd, zero), VST(bnd + KW, zero), VST(bnd + 2 * KW, zero);
	}
	VST(res, acc);
}
