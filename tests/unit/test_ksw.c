/* Seed extension: the AVX2 kernel (kernels/cpu/ksw_avx2.c) against libbwa's own ksw_extend2
 * (__real_ksw_extend2), all five outputs, on extensions drawn like bwa mem's (query = mutated
 * reference with substitutions, indels and Ns; left/right end bonuses; the bands and h0 of
 * mem_chain2aln) and on adversarial ones (unrelated sequence, long indels that move the band,
 * tiny bands, z-drop off, query longer than the target, one-base queries). */
#include "harness.h"
#include "ksw.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static void bwa_mat(int a, int b, int8_t mat[25])
{
	for (int i = 0, k = 0; i < 4; ++i) {
		for (int j = 0; j < 4; ++j) mat[k++] = (int8_t)(i == j ? a : -b);
		mat[k++] = -1;
	}
	for (int j = 0; j < 5; ++j) mat[20 + j] = -1;
}

static int need_avx2(void)
{
	if (strcmp(sq_ksw_isa(), "avx2") != 0) { SQ_SKIP("this CPU has no AVX2 (or SEQA_CPU_ISA=scalar): only libbwa's scalar extension runs"); return 0; }
	return 1;
}

/* One case through both; 1 if they agree. */
static int same(int qlen, const uint8_t *q, int tlen, const uint8_t *t, const int8_t *mat, int od, int ed,
                int oi, int ei, int w, int bonus, int zdrop, int h0, int verbose)
{
	int a[5], b[5];
	int sa = sq_ksw_extend_avx2(qlen, q, tlen, t, 5, mat, od, ed, oi, ei, w, bonus, zdrop, h0, &a[0], &a[1], &a[2], &a[3], &a[4]);
	int sb = __real_ksw_extend2(qlen, q, tlen, t, 5, mat, od, ed, oi, ei, w, bonus, zdrop, h0, &b[0], &b[1], &b[2], &b[3], &b[4]);
	int ok = sa == sb && memcmp(a, b, sizeof a) == 0;
	if (!ok && verbose)
		SQ_CHECKF(0, "qlen %d tlen %d w %d h0 %d zdrop %d: avx2 %d (%d %d %d %d %d) bwa %d (%d %d %d %d %d)",
		          qlen, tlen, w, h0, zdrop, sa, a[0], a[1], a[2], a[3], a[4], sb, b[0], b[1], b[2], b[3], b[4]);
	return ok;
}

/* query derived from target: substitutions, short and long indels, N runs */
static int mutate(const uint8_t *t, int tlen, uint8_t *q, int qmax, int rate_sub, int rate_indel)
{
	int n = 0;
	for (int i = 0; i < tlen && n < qmax; ++i) {
		uint64_t r = rnd() % 1000;
		if (r < (uint64_t)rate_indel) {              /* indel of 1-30 */
			int l = 1 + (int)(rnd() % ((rnd() & 3) ? 4 : 30));
			if (rnd() & 1) i += l;                   /* deletion from the query */
			else for (int k = 0; k < l && n < qmax; ++k) q[n++] = (uint8_t)(rnd() & 3);
			continue;
		}
		q[n++] = r < (uint64_t)(rate_indel + rate_sub) ? (uint8_t)((t[i] + 1 + rnd() % 3) & 3) : t[i];
		if (rnd() % 500 == 0 && n < qmax) q[n - 1] = 4;
	}
	return n;
}

static void test_bwa_like(void)
{
	if (!need_avx2()) return;
	int8_t mat[25];
	bwa_mat(1, 4, mat);
	uint8_t t[800], q[800];
	int bad = 0, n = 0, nonzero = 0;
	for (int it = 0; it < 60000; ++it) {
		int tlen = 1 + (int)(rnd() % 400);
		for (int i = 0; i < tlen; ++i) t[i] = (uint8_t)(rnd() % 100 == 0 ? 4 : rnd() & 3);
		int qmax = 1 + (int)(rnd() % 300);
		int qlen = mutate(t, tlen, q, qmax, (int)(rnd() % 60), (int)(rnd() % 15));
		if (qlen == 0) continue;
		int w = 100 << (rnd() & 1), h0 = 19 + (int)(rnd() % 150), bonus = (rnd() & 1) ? 5 : 0;
		++n;
		if (!same(qlen, q, tlen, t, mat, 6, 1, 6, 1, w, bonus, 100, h0, bad < 5)) ++bad;
		int sc, qle, tle, gtle, gs, mo;
		sc = __real_ksw_extend2(qlen, q, tlen, t, 5, mat, 6, 1, 6, 1, w, bonus, 100, h0, &qle, &tle, &gtle, &gs, &mo);
		if (sc > h0 && qle > 0) ++nonzero;
	}
	SQ_CHECKF(bad == 0, "%d of %d bwa-like extensions differ from libbwa", bad, n);
	SQ_CHECKF(nonzero > n / 2, "only %d of %d extensions extended: the test would prove little", nonzero, n);
}

static void test_adversarial(void)
{
	if (!need_avx2()) return;
	int8_t mat[25];
	uint8_t t[1200], q[1200];
	int bad = 0, n = 0;
	for (int it = 0; it < 30000; ++it) {
		int a = 1 + (int)(rnd() % 3), b = 1 + (int)(rnd() % 6);
		bwa_mat(a, b, mat);
		int od = (int)(rnd() % 10), ed = 1 + (int)(rnd() % 3), oi = (int)(rnd() % 10), ei = 1 + (int)(rnd() % 3);
		int kind = (int)(rnd() % 5), tlen = 1 + (int)(rnd() % 600), qlen;
		for (int i = 0; i < tlen; ++i) t[i] = (uint8_t)(rnd() & 3);
		if (kind == 0) {                                  /* unrelated */
			qlen = 1 + (int)(rnd() % 300);
			for (int i = 0; i < qlen; ++i) q[i] = (uint8_t)(rnd() % 5);
		} else if (kind == 1) {                           /* one long insertion or deletion */
			qlen = 0;
			int at = (int)(rnd() % (unsigned)tlen), l = 5 + (int)(rnd() % 80), ins = (int)(rnd() & 1);
			for (int i = 0; i < tlen && qlen < 700; ++i) {
				if (i == at) { if (ins) for (int k = 0; k < l && qlen < 700; ++k) q[qlen++] = (uint8_t)(rnd() & 3); else i += l; }
				if (i < tlen) q[qlen++] = t[i];
			}
		} else if (kind == 2) {                           /* query longer than the target */
			qlen = tlen + 1 + (int)(rnd() % 200);
			for (int i = 0; i < qlen; ++i) q[i] = i < tlen ? t[i] : (uint8_t)(rnd() & 3);
		} else if (kind == 3) {                           /* one to three bases */
			qlen = 1 + (int)(rnd() % 3);
			for (int i = 0; i < qlen; ++i) q[i] = (uint8_t)(rnd() % 5);
		} else qlen = mutate(t, tlen, q, 1000, (int)(rnd() % 200), (int)(rnd() % 40));
		if (qlen <= 0) continue;
		int w = 1 + (int)(rnd() % 150), h0 = 1 + (int)(rnd() % 400), zdrop = (rnd() & 3) ? (int)(rnd() % 200) : 0;
		int bonus = (int)(rnd() % 10);
		if (!sq_ksw_avx2_fits(qlen, 5, mat, od, ed, oi, ei, h0)) continue;
		++n;
		if (!same(qlen, q, tlen, t, mat, od, ed, oi, ei, w, bonus, zdrop, h0, bad < 5)) ++bad;
	}
	SQ_CHECKF(bad == 0, "%d of %d adversarial extensions differ from libbwa", bad, n);
	SQ_CHECKF(n > 20000, "only %d cases ran", n);
}

/* The dispatcher falls back to libbwa outside 16-bit range and still answers the same. */
static void test_dispatch_fallback(void)
{
	int8_t mat[25];
	bwa_mat(100, 4, mat);                   /* 300 bases x 100 + h0: past 16 bits */
	uint8_t t[400], q[300];
	for (int i = 0; i < 400; ++i) t[i] = (uint8_t)(rnd() & 3);
	for (int i = 0; i < 300; ++i) q[i] = t[i];
	SQ_CHECK(!sq_ksw_avx2_fits(300, 5, mat, 6, 1, 6, 1, 50));
	int a[5], b[5];
	int sa = sq_ksw_extend(300, q, 400, t, 5, mat, 6, 1, 6, 1, 100, 5, 100, 50, &a[0], &a[1], &a[2], &a[3], &a[4]);
	int sb = __real_ksw_extend2(300, q, 400, t, 5, mat, 6, 1, 6, 1, 100, 5, 100, 50, &b[0], &b[1], &b[2], &b[3], &b[4]);
	SQ_CHECKF(sa == sb && sa == 50 + 300 * 100 && memcmp(a, b, sizeof a) == 0, "fallback score %d vs %d", sa, sb);
}

SQ_TESTS = {
	{ "avx2_vs_libbwa_bwa_like", test_bwa_like },
	{ "avx2_vs_libbwa_adversarial", test_adversarial },
	{ "dispatch_fallback", test_dispatch_fallback },
	{ 0, 0 }
};
