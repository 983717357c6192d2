/* Fuzz target: batch loading — Illumina sample sheet v2 (or a JSON batch when the input starts
 * with '{'), as `seqa ingest` reads it (sq_fq_batch_load), then the report and error printing. */
#include <sys/stat.h>
#include "fuzz_common.h"
#include "seqa/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char p[512];
	int err = 0;
	snprintf(p, sizeof p, "%s/SampleSheet.csv", fz_scratch());
	fz_write(p, data, size);
	sq_fq_batch_t *b = sq_fq_batch_load(p, &err);
	if (b) {
		json_t *rep = sq_fq_batch_report(b);
		FILE *null = fopen("/dev/null", "w");
		if (null) { sq_fq_batch_print_errors(b, null); sq_fq_batch_print_summary(b, null); fclose(null); }
		(void)sq_fq_batch_status(b);
		json_decref(rep);
		sq_fq_batch_destroy(b);
	}
	return 0;
}
