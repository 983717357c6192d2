/* seqa — pair-HMM tests: the reference against GATK's 104 vectors. */
#include <math.h>
#include "harness.h"
#include "pairhmm.h"

#define GATK_TOL 1e-5   /* log10; the expected values carry 7 significant digits */

static void test_ref_gatk_vectors(void)
{
	const char *path = sq_test_shared("pairhmm/gatk-pairhmm-testdata.txt");
	if (!path) SQ_SKIP("../shared/data/pairhmm/gatk-pairhmm-testdata.txt absent");
	int err = 0;
	sq_phmm_set_t *s = sq_phmm_set_load_gatk(path, &err);
	SQ_REQUIRE(s && s->expected);
	SQ_CHECK(s->b.n_pairs == 104);
	SQ_REQUIRE(sq_phmm_ref_batch(&s->b) == 0);
	double worst = 0;
	for (int64_t k = 0; k < s->b.n_pairs; ++k) {
		double d = fabs(s->b.out[k] - s->expected[k]);
		if (d > worst) worst = d;
		SQ_CHECKF(d <= GATK_TOL, "line %lld: got %.7e expected %.7e", (long long)k + 1, s->b.out[k], s->expected[k]);
	}
	printf("# ref: worst |diff| on GATK vectors %.3g\n", worst);
	sq_phmm_set_free(s);
}

SQ_TESTS = {
	{ "ref_gatk_vectors", test_ref_gatk_vectors },
	{ 0, 0 }
};
