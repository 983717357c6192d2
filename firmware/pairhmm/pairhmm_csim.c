/* seqa — C simulation of the pair-HMM FPGA design (firmware/pairhmm/pairhmm_hls.c) against
 * kernels/ref: the design's float sums, with the host's double re-run below 1e-28 applied as
 * drivers/opencl/ocl_phmm.c does, must reproduce the 104 GATK vectors within 1e-5 and the
 * reference within 1e-5 + 2e-7 |v| (log10) over lengths around the PE count and random cases. */
#include <math.h>
#include "harness.h"
#include "pairhmm.h"
#include "pairhmm_hls.c"

static float g_err[256];

/* Run the design on a batch as the FPGA driver would: pairs in, sums out, host finishing. */
static void run_design(sq_phmm_batch_t *b, int64_t *n_double)
{
	int64_t n = sq_phmm_batch_n_out(b);
	int32_t *pr = calloc((size_t)n + 1, sizeof(int32_t)), *ph = calloc((size_t)n + 1, sizeof(int32_t));
	float *res = calloc((size_t)n + 1, sizeof(float));
	SQ_REQUIRE(pr && ph && res);
	for (int q = 0; q < 256; ++q) g_err[q] = (float)pow(10.0, -0.1 * q);
	for (int64_t k = 0; k < n; ++k) {
		pr[k] = b->pair_read ? b->pair_read[k] : (int32_t)(k / b->n_haps);
		ph[k] = b->pair_read ? b->pair_hap[k] : (int32_t)(k % b->n_haps);
	}
	phmm_forward((const uint8_t *)b->read_seq, b->base_q, b->ins_q, b->del_q, b->gcp, b->read_off,
	             (const uint8_t *)b->hap_seq, b->hap_off, pr, ph, (int32_t)n, g_err, NULL, 0, res);
	for (int64_t k = 0; k < n; ++k) {
		int32_t ro = b->read_off[pr[k]], rl = b->read_off[pr[k] + 1] - ro;
		int32_t ho = b->hap_off[ph[k]], hl = b->hap_off[ph[k] + 1] - ho;
		if (!(res[k] >= SQ_PHMM_MIN_ACCEPTED_FLOAT) || !isfinite(res[k])) {
			b->out[k] = sq_phmm_ref_one(b->hap_seq + ho, hl, b->read_seq + ro, rl, b->base_q + ro,
			                            b->ins_q + ro, b->del_q + ro, b->gcp + ro);
			if (n_double) ++*n_double;
		} else {
			b->out[k] = log10((double)res[k]) - 120.0 * 0.30102999566398119521;
		}
	}
	free(pr), free(ph), free(res);
}

static void test_csim_gatk_vectors(void)
{
	const char *path = sq_test_shared("pairhmm/gatk-pairhmm-testdata.txt");
	if (!path) SQ_SKIP("../shared/data/pairhmm/gatk-pairhmm-testdata.txt absent");
	int err = 0;
	sq_phmm_set_t *s = sq_phmm_set_load_gatk(path, &err);
	SQ_REQUIRE(s && s->expected && s->b.n_pairs == 104);
	run_design(&s->b, NULL);
	double worst = 0;
	for (int64_t k = 0; k < 104; ++k) {
		double d = fabs(s->b.out[k] - s->expected[k]);
		if (d > worst) worst = d;
		SQ_CHECKF(d <= 1e-5, "line %lld: %.7e vs %.7e", (long long)k + 1, s->b.out[k], s->expected[k]);
	}
	printf("# fpga csim (%d PEs): worst |diff| on the GATK vectors %.3g\n", PHMM_NPE, worst);
	sq_phmm_set_free(s);
}

static uint64_t rs = 0xf96a;
static uint64_t rnd(void) { rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17; return rs; }

static void test_csim_sweep_vs_ref(void)
{
	static const int RL[] = { 1, 2, 31, 32, 33, 63, 64, 65, 96, 97, 151, 250 };
	static const int HL[] = { 1, 2, 31, 32, 33, 64, 350, 1000, 2048, 2049 };
	enum { NR = sizeof RL / sizeof *RL, NH = sizeof HL / sizeof *HL };
	int tr = 0, th = 0;
	for (int i = 0; i < NR; ++i) tr += RL[i];
	for (int i = 0; i < NH; ++i) th += HL[i];
	char *rseq = malloc((size_t)tr), *hseq = malloc((size_t)th);
	uint8_t *q = malloc((size_t)tr * 4);
	int32_t ro[NR + 1], ho[NH + 1];
	static const char *B = "ACGTN";
	ho[0] = 0;
	for (int h = 0; h < NH; ++h) {
		for (int j = 0; j < HL[h]; ++j) hseq[ho[h] + j] = B[rnd() % 4 + (rnd() % 40 == 0)];
		ho[h + 1] = ho[h] + HL[h];
	}
	ro[0] = 0;
	for (int r = 0; r < NR; ++r) {
		int src = (int)(rnd() % NH);
		for (int i = 0; i < RL[r]; ++i) {
			int o = ro[r] + i;
			rseq[o] = (i < HL[src] && rnd() % 20) ? hseq[ho[src] + i] : B[rnd() % 5];
			static const uint8_t ext[] = { 2, 40, 93 };
			q[o] = rnd() % 5 == 0 ? ext[rnd() % 3] : (uint8_t)(10 + rnd() % 31);
			q[tr + o] = rnd() % 4 == 0 ? ext[rnd() % 3] : 45;
			q[2 * tr + o] = rnd() % 4 == 0 ? ext[1 + rnd() % 2] : 45;
			q[3 * tr + o] = 10;
		}
		ro[r + 1] = ro[r] + RL[r];
	}
	double *out = malloc(sizeof(double) * NR * NH), *ref = malloc(sizeof(double) * NR * NH);
	sq_phmm_batch_t b = { .n_reads = NR, .n_haps = NH, .read_seq = rseq, .base_q = q, .ins_q = q + tr,
	                      .del_q = q + 2 * tr, .gcp = q + 3 * tr, .read_off = ro, .hap_seq = hseq,
	                      .hap_off = ho, .out = out };
	int64_t n_double = 0;
	run_design(&b, &n_double);
	b.out = ref;
	SQ_REQUIRE(sq_phmm_ref_batch(&b) == 0);
	double worst = 0;
	for (int k = 0; k < NR * NH; ++k) {
		double d = fabs(out[k] - ref[k]);
		if (d > worst) worst = d;
		SQ_CHECKF(d <= 1e-5 + 2e-7 * fabs(ref[k]), "read %d x hap %d: %.9e vs ref %.9e", RL[k / NH], HL[k % NH], out[k], ref[k]);
	}
	printf("# fpga csim: %d pairs (%lld finished in double on the host), worst |diff| vs ref %.3g\n",
	       NR * NH, (long long)n_double, worst);
	SQ_CHECK(n_double > 0);
	free(rseq), free(hseq), free(q), free(out), free(ref);
}

/* The throughput model of the design: cycles per pair at II = 1. */
static void test_csim_cycle_model(void)
{
	/* realistic pair: 151 x 350 -> ceil(151/32) = 5 passes of 350 + 31 cycles */
	long cyc = 5L * (350 + PHMM_NPE - 1);
	double eff = 151.0 * 350 / ((double)cyc * PHMM_NPE);
	printf("# fpga model: %ld cycles per 151x350 pair, PE utilisation %.1f%%, %.1f GCUPS per array at 300 MHz\n",
	       cyc, 100 * eff, eff * PHMM_NPE * 0.3);
	SQ_CHECK(eff > 0.8);
}

SQ_TESTS = {
	{ "csim_gatk_vectors", test_csim_gatk_vectors },
	{ "csim_sweep_vs_ref", test_csim_sweep_vs_ref },
	{ "csim_cycle_model", test_csim_cycle_model },
	{ 0, 0 }
};
