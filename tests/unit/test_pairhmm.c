/* seqa — pair-HMM tests: the reference and every backend against GATK's 104 vectors, sweeps of
 * read/haplotype lengths around SIMD and warp widths, N bases, quality extremes, seeded random
 * cases against kernels/ref, full-matrix vs explicit-pairs modes, thread-count determinism, CPU
 * fallback and backend selection.
 *
 * Tolerances (documented here, asserted below):
 *   GATK_TOL  1e-5 absolute in log10 on the GATK vectors, for every backend (the expected values
 *             carry 7 significant digits; the double reference itself is within 6.1e-6).
 *   ref_tol(v) = 1e-5 + 2e-7 * |v|  for float backends against the double reference on the
 *             sweeps and random cases (float rounding grows with the number of cells along the
 *             path, i.e. with |log10 likelihood|; pairs that underflow float are recomputed in
 *             double and then agree to 1e-9).
 *   Same backend, any thread count, either batch mode: bit-identical.
 */
#include <math.h>
#include <stdint.h>
#include "harness.h"
#include "driver.h"
#include "pairhmm.h"
#include "seqa/util.h"

#define GATK_TOL 1e-5
static double ref_tol(double v) { return 1e-5 + 2e-7 * fabs(v); }

static sq_phmm_set_t *gatk_set(void)
{
	const char *path = sq_test_shared("pairhmm/gatk-pairhmm-testdata.txt");
	if (!path) SQ_SKIP("../shared/data/pairhmm/gatk-pairhmm-testdata.txt absent");
	int err = 0;
	sq_phmm_set_t *s = sq_phmm_set_load_gatk(path, &err);
	SQ_REQUIRE(s && s->expected && s->b.n_pairs == 104);
	return s;
}

/* Open a backend or skip saying why. */
static sq_dev_t *open_or_skip(sq_dev_kind_t kind)
{
	if (kind == SQ_DEV_CUDA && !getenv("SEQA_CUDA_LIB")) {
		if (access("build/libseqa_cuda.so", R_OK) != 0)
			SQ_SKIP("CUDA: build/libseqa_cuda.so not built here (no nvcc); CUDA tests skipped");
		setenv("SEQA_CUDA_LIB", "build/libseqa_cuda.so", 1);
	}
	sq_dev_t *dev = sq_dev_open(kind);
	if (!dev) {
		if (kind == SQ_DEV_CUDA) SQ_SKIP("no CUDA device on this machine (driver/GPU absent); CUDA tests skipped");
		SQ_SKIP("backend %s unavailable here", sq_dev_kind_name(kind));
	}
	return dev;
}

static void cpu_isa_or_skip(const char *isa)
{
	if (isa) setenv("SEQA_CPU_ISA", isa, 1);
	if (isa && strcmp(sq_phmm_cpu_isa(), isa) != 0) SQ_SKIP("this CPU has no %s", isa);
}

/* ---- GATK vectors, every backend ---------------------------------------------------------- */

static void gatk_on(sq_dev_kind_t kind, const char *isa)
{
	sq_phmm_set_t *s = gatk_set();
	if (isa) cpu_isa_or_skip(isa);
	sq_dev_t *dev = kind == SQ_DEV_AUTO ? NULL : open_or_skip(kind);
	if (kind == SQ_DEV_REF) SQ_REQUIRE(sq_phmm_ref_batch(&s->b) == 0);
	else SQ_REQUIRE(sq_phmm_run(dev, &s->b, 2) == 0);
	double worst = 0;
	for (int64_t k = 0; k < s->b.n_pairs; ++k) {
		double d = fabs(s->b.out[k] - s->expected[k]);
		if (!(d <= worst)) worst = d;
		SQ_CHECKF(d <= GATK_TOL, "line %lld: got %.7e expected %.7e", (long long)k + 1, s->b.out[k], s->expected[k]);
	}
	printf("# %s: worst |diff| on the GATK vectors %.3g\n", dev ? sq_dev_name(dev) : "ref", worst);
	if (dev) SQ_CHECK(dev->n_fallbacks == 0);
	sq_dev_close(dev);
	sq_phmm_set_free(s);
}
static void test_ref_gatk_vectors(void) { gatk_on(SQ_DEV_REF, NULL); }
static void test_cpu_avx512_gatk_vectors(void) { gatk_on(SQ_DEV_CPU, "avx512"); }
static void test_cpu_avx2_gatk_vectors(void) { gatk_on(SQ_DEV_CPU, "avx2"); }
static void test_cpu_scalar_gatk_vectors(void) { gatk_on(SQ_DEV_CPU, "scalar"); }
static void test_opencl_gatk_vectors(void) { gatk_on(SQ_DEV_OPENCL, NULL); }
/* the one-pair-per-work-item kernel GPUs get, forced on a CPU device */
static void test_opencl_scalar_kernel_gatk_vectors(void) { setenv("SEQA_OPENCL_VEC", "1", 1); gatk_on(SQ_DEV_OPENCL, NULL); }
static void test_cuda_gatk_vectors(void) { gatk_on(SQ_DEV_CUDA, NULL); }

/* ---- generated cases ------------------------------------------------------------------------ */

static uint64_t rs = 0x5eed;
static uint64_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }

/* Sweep set: reads of lengths around 16/32/warp widths against haplotypes likewise; each read
 * is a mutated copy of part of a haplotype (so most pairs stay in float range) or random (so
 * some underflow and take the double path); N bases and qualities 2/40/93 sprinkled in. */
static sq_phmm_set_t *sweep_set(const int *rl, int n_rl, const int *hl, int n_hl, int explicit_pairs)
{
	static const char ACGT[] = "ACGT";
	int tot_r = 0, tot_h = 0;
	for (int i = 0; i < n_rl; ++i) tot_r += rl[i];
	for (int i = 0; i < n_hl; ++i) tot_h += hl[i];
	char *rseq = malloc((size_t)tot_r), *hseq = malloc((size_t)tot_h);
	uint8_t *q = malloc((size_t)tot_r * 4);
	int32_t *ro = malloc(sizeof(int32_t) * (size_t)(n_rl + 1)), *ho = malloc(sizeof(int32_t) * (size_t)(n_hl + 1));
	ho[0] = 0;
	for (int h = 0; h < n_hl; ++h) {
		for (int j = 0; j < hl[h]; ++j) hseq[ho[h] + j] = rnd() % 50 == 0 ? 'N' : ACGT[rnd() % 4];
		ho[h + 1] = ho[h] + hl[h];
	}
	ro[0] = 0;
	for (int r = 0; r < n_rl; ++r) {
		const char *src = hseq + ho[rnd() % n_hl];
		int srclen = 0;
		for (int h = 0; h < n_hl; ++h) if (src == hseq + ho[h]) srclen = hl[h];
		int copy = rnd() % 3 != 0;
		int start = srclen > rl[r] ? (int)(rnd() % (uint64_t)(srclen - rl[r] + 1)) : 0;
		for (int i = 0; i < rl[r]; ++i) {
			int o = ro[r] + i;
			char c = copy && start + i < srclen ? src[start + i] : ACGT[rnd() % 4];
			if (rnd() % 40 == 0) c = ACGT[rnd() % 4];
			if (rnd() % 60 == 0) c = 'N';
			if (rnd() % 11 == 0) c = (char)(c | 0x20);   /* lower case is accepted too */
			rseq[o] = c;
			static const uint8_t ext[] = { 2, 40, 93 };
			q[o] = rnd() % 5 == 0 ? ext[rnd() % 3] : (uint8_t)(2 + rnd() % 92);
			q[tot_r + o] = rnd() % 4 == 0 ? ext[rnd() % 3] : (uint8_t)(10 + rnd() % 50);
			/* deletion extremes 40/93 only: with ins = del = 2 the match->match probability
			 * 1 - e(ins) - e(del) would be negative (no HMM; GATK never feeds that) */
			q[2 * tot_r + o] = rnd() % 4 == 0 ? ext[1 + rnd() % 2] : (uint8_t)(10 + rnd() % 50);
			q[3 * tot_r + o] = rnd() % 4 == 0 ? ext[rnd() % 3] : (uint8_t)(5 + rnd() % 20);
		}
		ro[r + 1] = ro[r] + rl[r];
	}
	sq_phmm_batch_t b = { .n_reads = n_rl, .n_haps = n_hl, .read_seq = rseq, .base_q = q,
	                      .ins_q = q + tot_r, .del_q = q + 2 * tot_r, .gcp = q + 3 * tot_r,
	                      .read_off = ro, .hap_seq = hseq, .hap_off = ho };
	int32_t *pr = NULL, *ph = NULL;
	if (explicit_pairs) {   /* every pair, in a shuffled order, plus some repeats */
		int64_t n = (int64_t)n_rl * n_hl + 17;
		pr = malloc(sizeof(int32_t) * (size_t)n), ph = malloc(sizeof(int32_t) * (size_t)n);
		for (int64_t k = 0; k < n; ++k) pr[k] = (int32_t)((k % ((int64_t)n_rl * n_hl)) / n_hl), ph[k] = (int32_t)(k % n_hl);
		for (int64_t k = n - 1; k > 0; --k) {
			int64_t j = (int64_t)(rnd() % (uint64_t)(k + 1));
			int32_t t = pr[k]; pr[k] = pr[j], pr[j] = t;
			t = ph[k]; ph[k] = ph[j], ph[j] = t;
		}
		b.n_pairs = n, b.pair_read = pr, b.pair_hap = ph;
	}
	sq_phmm_set_t *s = sq_phmm_set_from(&b);
	free(rseq), free(hseq), free(q), free(ro), free(ho), free(pr), free(ph);
	SQ_REQUIRE(s);
	return s;
}

static const int SW_R[] = { 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 151, 160, 161, 255, 256, 257, 300 };
static const int SW_H[] = { 1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 128, 350, 511, 512, 513, 1000 };
#define NEL(a) ((int)(sizeof(a) / sizeof *(a)))

static void sweep_on(sq_dev_kind_t kind, const char *isa)
{
	if (isa) cpu_isa_or_skip(isa);
	sq_dev_t *dev = open_or_skip(kind);
	sq_phmm_set_t *s = sweep_set(SW_R, NEL(SW_R), SW_H, NEL(SW_H), 0);
	int64_t n = sq_phmm_batch_n_out(&s->b);
	double *ref = malloc(sizeof(double) * (size_t)n);
	SQ_REQUIRE(sq_phmm_run(dev, &s->b, 2) == 0);
	memcpy(ref, s->b.out, sizeof(double) * (size_t)n);
	SQ_REQUIRE(sq_phmm_ref_batch(&s->b) == 0);
	double worst = 0, worst_rel = 0;
	int64_t n_low = 0;
	for (int64_t k = 0; k < n; ++k) {
		double got = ref[k], want = s->b.out[k], d = fabs(got - want);
		if (want < -64) ++n_low;   /* below float range after scaling: the double path */
		if (d > worst) worst = d;
		if (d / (1 + fabs(want)) > worst_rel) worst_rel = d / (1 + fabs(want));
		SQ_CHECKF(d <= ref_tol(want) || (isinf(got) && isinf(want) && got == want),
		          "read len %d x hap len %d: got %.9e, ref %.9e", SW_R[k / NEL(SW_H)], SW_H[k % NEL(SW_H)], got, want);
	}
	printf("# %s: %lld pairs (%lld through the double path), worst |diff| %.3g, worst rel %.3g\n",
	       sq_dev_name(dev), (long long)n, (long long)n_low, worst, worst_rel);
	SQ_CHECK(n_low > 0);
	free(ref);
	sq_phmm_set_free(s);
	sq_dev_close(dev);
}
static void test_cpu_avx512_sweep(void) { sweep_on(SQ_DEV_CPU, "avx512"); }
static void test_cpu_avx2_sweep(void) { sweep_on(SQ_DEV_CPU, "avx2"); }
static void test_cpu_scalar_sweep(void) { sweep_on(SQ_DEV_CPU, "scalar"); }
static void test_opencl_sweep(void) { sweep_on(SQ_DEV_OPENCL, NULL); }
static void test_opencl_scalar_kernel_sweep(void) { setenv("SEQA_OPENCL_VEC", "1", 1); sweep_on(SQ_DEV_OPENCL, NULL); }
static void test_cuda_sweep(void) { sweep_on(SQ_DEV_CUDA, NULL); }

/* Edge pairs: identical read and haplotype, all-N read, 1 base each, quals all 2 or all 93. */
static void test_ref_edge_cases(void)
{
	uint8_t q2[8] = { 2, 2, 2, 2, 2, 2, 2, 2 }, q93[8] = { 93, 93, 93, 93, 93, 93, 93, 93 }, q45[8], q10[8];
	memset(q45, 45, 8), memset(q10, 10, 8);
	/* one base vs one base, match: P = prior * (Y0 * gm) = (1-e)*(1/1)*(1-10^-1) */
	double v = sq_phmm_ref_one("A", 1, "A", 1, q93, q45, q45, q10);
	SQ_CHECKF(fabs(v - log10((1 - pow(10, -9.3)) * (1 - pow(10, -1.0)))) < 1e-12, "1x1 match %.12g", v);
	/* N matches anything: same as a match */
	double vn = sq_phmm_ref_one("C", 1, "N", 1, q93, q45, q45, q10);
	SQ_CHECK(vn == v);
	/* mismatch with quality 2 */
	double vm = sq_phmm_ref_one("C", 1, "A", 1, q2, q45, q45, q10);
	SQ_CHECKF(fabs(vm - log10(pow(10, -0.2) / 3 * (1 - pow(10, -1.0)))) < 1e-12, "1x1 mismatch %.12g", vm);
	/* identical 8-mers beat a one-off 8-mer */
	double a = sq_phmm_ref_one("ACGTACGT", 8, "ACGTACGT", 8, q93, q45, q45, q10);
	double c = sq_phmm_ref_one("ACGTACGT", 8, "ACGAACGT", 8, q93, q45, q45, q10);
	SQ_CHECK(a > c);
	/* empty read / haplotype */
	SQ_CHECK(isinf(sq_phmm_ref_one("", 0, "A", 1, q93, q45, q45, q10)));
}

/* ---- modes, threads, determinism ---------------------------------------------------------- */

static void modes_threads_on(sq_dev_kind_t kind, const char *isa)
{
	if (isa) cpu_isa_or_skip(isa);
	sq_dev_t *dev = open_or_skip(kind);
	static const int R[] = { 1, 17, 33, 64, 65, 101, 151, 151, 151, 150, 149, 40, 250, 2, 16, 31, 32, 151, 151, 151, 99 };
	static const int H[] = { 1, 33, 160, 350, 351, 700 };
	sq_phmm_set_t *full = sweep_set(R, NEL(R), H, NEL(H), 0);
	rs = 0x5eed;
	sq_phmm_set_t *full2 = sweep_set(R, NEL(R), H, NEL(H), 0);
	rs = 0x5eed;
	sq_phmm_set_t *pairs = sweep_set(R, NEL(R), H, NEL(H), 1);
	int64_t n = sq_phmm_batch_n_out(&full->b);
	SQ_REQUIRE(sq_phmm_run(dev, &full->b, 1) == 0);
	static const int threads[] = { 2, 3, 7 };
	for (int t = 0; t < 3; ++t) {
		memset(full2->b.out, 0, sizeof(double) * (size_t)n);
		SQ_REQUIRE(sq_phmm_run(dev, &full2->b, threads[t]) == 0);
		SQ_CHECKF(memcmp(full->b.out, full2->b.out, sizeof(double) * (size_t)n) == 0,
		          "%s: %d threads differ from 1 thread", sq_dev_name(dev), threads[t]);
	}
	SQ_REQUIRE(sq_phmm_run(dev, &pairs->b, 3) == 0);
	int64_t bad = 0;
	for (int64_t k = 0; k < pairs->b.n_pairs; ++k) {
		double want = full->b.out[(int64_t)pairs->b.pair_read[k] * NEL(H) + pairs->b.pair_hap[k]];
		if (memcmp(&want, &pairs->b.out[k], sizeof want) != 0) ++bad;
	}
	SQ_CHECKF(bad == 0, "%s: %lld explicit pairs differ from the full matrix", sq_dev_name(dev), (long long)bad);
	sq_phmm_set_free(full), sq_phmm_set_free(full2), sq_phmm_set_free(pairs);
	sq_dev_close(dev);
}
static void test_ref_modes_threads(void) { modes_threads_on(SQ_DEV_REF, NULL); }
static void test_cpu_avx512_modes_threads(void) { modes_threads_on(SQ_DEV_CPU, "avx512"); }
static void test_cpu_avx2_modes_threads(void) { modes_threads_on(SQ_DEV_CPU, "avx2"); }
static void test_cpu_scalar_modes_threads(void) { modes_threads_on(SQ_DEV_CPU, "scalar"); }
static void test_opencl_modes_threads(void) { modes_threads_on(SQ_DEV_OPENCL, NULL); }
static void test_opencl_scalar_kernel_modes(void) { setenv("SEQA_OPENCL_VEC", "1", 1); modes_threads_on(SQ_DEV_OPENCL, NULL); }
static void test_cuda_modes_threads(void) { modes_threads_on(SQ_DEV_CUDA, NULL); }

/* The realistic region workload (a slice of it): CPU against the reference. */
static void test_cpu_realistic_vs_ref(void)
{
	sq_phmm_set_t *s = sq_phmm_set_realistic(96, 151, 8, 350, 1);
	SQ_REQUIRE(s);
	int64_t n = sq_phmm_batch_n_out(&s->b);
	SQ_CHECK(sq_phmm_batch_cells(&s->b) == (int64_t)96 * 151 * 8 * 350);
	SQ_REQUIRE(sq_phmm_cpu_batch(&s->b, 2) == 0);
	double *got = malloc(sizeof(double) * (size_t)n);
	memcpy(got, s->b.out, sizeof(double) * (size_t)n);
	SQ_REQUIRE(sq_phmm_ref_batch(&s->b) == 0);
	double worst = 0;
	for (int64_t k = 0; k < n; ++k) {
		double d = fabs(got[k] - s->b.out[k]);
		if (d > worst) worst = d;
		SQ_CHECKF(d <= ref_tol(s->b.out[k]), "pair %lld: %.9e vs ref %.9e", (long long)k, got[k], s->b.out[k]);
	}
	/* the generator is deterministic: same seed, same workload; another seed, another one */
	sq_phmm_set_t *s2 = sq_phmm_set_realistic(96, 151, 8, 350, 1), *s3 = sq_phmm_set_realistic(96, 151, 8, 350, 2);
	SQ_CHECK(memcmp(s->b.read_seq, s2->b.read_seq, 96 * 151) == 0);
	SQ_CHECK(memcmp(s->b.read_seq, s3->b.read_seq, 96 * 151) != 0);
	printf("# %s: realistic slice worst |diff| vs ref %.3g\n", sq_phmm_cpu_isa(), worst);
	free(got);
	sq_phmm_set_free(s), sq_phmm_set_free(s2), sq_phmm_set_free(s3);
}

/* FTZ/DAZ are switched on for the float pass only: the caller's MXCSR comes back unchanged. */
static void test_cpu_mxcsr_restored(void)
{
#if defined(__x86_64__)
	sq_phmm_set_t *s = sq_phmm_set_realistic(20, 151, 2, 350, 3);
	SQ_REQUIRE(s);
	unsigned before = __builtin_ia32_stmxcsr();
	SQ_REQUIRE(sq_phmm_cpu_batch(&s->b, 1) == 0);
	/* control bits (rounding, masks, FTZ, DAZ); the sticky exception flags (low 6 bits) may rise */
	SQ_CHECKF((__builtin_ia32_stmxcsr() & ~0x3fu) == (before & ~0x3fu), "MXCSR %#x -> %#x", before, __builtin_ia32_stmxcsr());
	SQ_CHECK((before & 0x8040) == 0);   /* the test process itself runs without FTZ/DAZ */
	sq_phmm_set_free(s);
#else
	SQ_SKIP("not x86-64");
#endif
}

/* ---- driver behaviour --------------------------------------------------------------------- */

static int failing_batch(sq_dev_t *dev, const sq_phmm_batch_t *b, int n_threads)
{
	(void)dev, (void)n_threads;
	b->out[0] = 12345;   /* garbage the fallback must overwrite */
	return SQ_EDEVICE;
}

static void test_driver_fallback_to_cpu(void)
{
	sq_phmm_set_t *s = gatk_set();
	sq_driver_t bad = { "broken", SQ_DEV_OPENCL, NULL, failing_batch, NULL, NULL };
	sq_dev_t dev = { .drv = &bad, .name = "broken-device" };
	SQ_REQUIRE(sq_phmm_run(&dev, &s->b, 2) == 0);
	SQ_CHECK(dev.n_fallbacks == 1);
	for (int64_t k = 0; k < s->b.n_pairs; ++k)
		SQ_CHECKF(fabs(s->b.out[k] - s->expected[k]) <= GATK_TOL, "line %lld", (long long)k + 1);
	sq_phmm_set_free(s);
}

static void test_driver_selection(void)
{
	sq_dev_kind_t k;
	SQ_CHECK(sq_dev_parse_kind("auto", &k) == 0 && k == SQ_DEV_AUTO);
	SQ_CHECK(sq_dev_parse_kind("opencl", &k) == 0 && k == SQ_DEV_OPENCL);
	SQ_CHECK(sq_dev_parse_kind("fpga", &k) == 0 && k == SQ_DEV_FPGA);
	SQ_CHECK(sq_dev_parse_kind("gpu", &k) < 0);
	sq_dev_t *a = sq_dev_open(SQ_DEV_AUTO);
	SQ_REQUIRE(a);
	printf("# auto picked %s\n", sq_dev_name(a));
	SQ_CHECK(strncmp(sq_dev_name(a), "opencl:Portable", 15) != 0);   /* never PoCL's CPU device */
	sq_dev_close(a);
	unsetenv("SEQA_FPGA_XCLBIN"), unsetenv("SEQA_FPGA_AOCX");
	SQ_CHECK(sq_dev_open(SQ_DEV_FPGA) == NULL);   /* no binary: unavailable, not substituted */
	setenv("SEQA_CUDA_LIB", "/nonexistent/libseqa_cuda.so", 1);
	SQ_CHECK(sq_dev_open(SQ_DEV_CUDA) == NULL);
}

static void test_batch_errors(void)
{
	sq_phmm_set_t *s = gatk_set();
	int32_t bad_r[1] = { 104 }, ok_h[1] = { 0 };
	sq_phmm_batch_t b = s->b;
	b.pair_read = bad_r, b.pair_hap = ok_h, b.n_pairs = 1;
	SQ_CHECK(sq_phmm_ref_batch(&b) == SQ_EINVAL);
	SQ_CHECK(sq_phmm_cpu_batch(&b, 2) == SQ_EINVAL);
	sq_dev_t *dev = sq_dev_open(SQ_DEV_OPENCL);
	if (dev) SQ_CHECK(sq_phmm_run(dev, &b, 1) == SQ_EINVAL && dev->n_fallbacks == 0);
	sq_dev_close(dev);
	int err = 0;
	SQ_CHECK(sq_phmm_set_load_gatk("/nonexistent/x.txt", &err) == NULL && err == SQ_EIO);
	sq_phmm_set_free(s);
}

SQ_TESTS = {
	{ "ref_gatk_vectors", test_ref_gatk_vectors },
	{ "ref_edge_cases", test_ref_edge_cases },
	{ "ref_modes_threads", test_ref_modes_threads },
	{ "cpu_avx512_gatk_vectors", test_cpu_avx512_gatk_vectors },
	{ "cpu_avx2_gatk_vectors", test_cpu_avx2_gatk_vectors },
	{ "cpu_scalar_gatk_vectors", test_cpu_scalar_gatk_vectors },
	{ "cpu_avx512_sweep", test_cpu_avx512_sweep },
	{ "cpu_avx2_sweep", test_cpu_avx2_sweep },
	{ "cpu_scalar_sweep", test_cpu_scalar_sweep },
	{ "cpu_avx512_modes_threads", test_cpu_avx512_modes_threads },
	{ "cpu_avx2_modes_threads", test_cpu_avx2_modes_threads },
	{ "cpu_scalar_modes_threads", test_cpu_scalar_modes_threads },
	{ "cpu_realistic_vs_ref", test_cpu_realistic_vs_ref },
	{ "cpu_mxcsr_restored", test_cpu_mxcsr_restored },
	{ "opencl_gatk_vectors", test_opencl_gatk_vectors },
	{ "opencl_sweep", test_opencl_sweep },
	{ "opencl_modes_threads", test_opencl_modes_threads },
	{ "opencl_scalar_kernel_gatk_vectors", test_opencl_scalar_kernel_gatk_vectors },
	{ "opencl_scalar_kernel_sweep", test_opencl_scalar_kernel_sweep },
	{ "opencl_scalar_kernel_modes", test_opencl_scalar_kernel_modes },
	{ "cuda_gatk_vectors", test_cuda_gatk_vectors },
	{ "cuda_sweep", test_cuda_sweep },
	{ "cuda_modes_threads", test_cuda_modes_threads },
	{ "driver_fallback_to_cpu", test_driver_fallback_to_cpu },
	{ "driver_selection", test_driver_selection },
	{ "batch_errors", test_batch_errors },
	{ 0, 0 }
};
