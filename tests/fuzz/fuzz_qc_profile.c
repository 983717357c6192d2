/* Fuzz target: QC gate profile files (sq_qc_profile_load) and a gate evaluation with the loaded
 * profile against a real QC result (tests/fuzz/data/qc_result.json), so the thresholds read from the file are exercised. */
#include <sys/stat.h>
#include "fuzz_common.h"
#include "seqa/qc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char p[512];
	snprintf(p, sizeof p, "%s/profile.json", fz_scratch());
	fz_write(p, data, size);
	sq_qc_profile_t *pr = sq_qc_profile_load(p);
	if (!pr) return 0;
	(void)sq_qc_profile_id(pr);
	(void)sq_qc_profile_version(pr);
	static json_t *res;   /* a real QC result (metrics of a small run), loaded once */
	if (!res) {
		json_error_t e;
		res = json_load_file("tests/fuzz/data/qc_result.json", 0, &e);
		if (!res) { fprintf(stderr, "run from the repository root: tests/fuzz/data/qc_result.json: %s\n", e.text); abort(); }
	}
	json_t *g = res ? sq_qc_gate_eval(pr, res) : NULL;
	if (g) { (void)sq_qc_gate_status(g); (void)sq_qc_gate_deliverable(g); }
	json_decref(g);
	sq_qc_profile_destroy(pr);
	return 0;
}
