/* Fuzz target: paired FASTQ validation (sq_fq_batch_validate).  The input is split at the first
 * "\n=====\n" into R1 and R2 (no separator: R2 is a copy of R1); inputs starting with the gzip
 * magic stay compressed (gzip integrity checks are fuzzed too).  2 threads on every other input
 * so the threaded path runs as well. */
#include <sys/stat.h>
#include "fuzz_common.h"
#include "seqa/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int iter;
	char p1[512], p2[512], pb[512], js[2048];
	const char *dir = fz_scratch();
	const uint8_t *sep = NULL;
	for (size_t i = 0; i + 7 <= size; ++i)
		if (memcmp(data + i, "\n=====\n", 7) == 0) { sep = data + i; break; }
	snprintf(p1, sizeof p1, "%s/r1.fq", dir);
	snprintf(p2, sizeof p2, "%s/r2.fq", dir);
	snprintf(pb, sizeof pb, "%s/batch.json", dir);
	if (sep) {
		fz_write(p1, data, (size_t)(sep - data) + 1);
		fz_write(p2, sep + 7, size - (size_t)(sep - data) - 7);
	} else {
		fz_write(p1, data, size);
		fz_write(p2, data, size);
	}
	snprintf(js, sizeof js, "{\"samples\":[{\"id\":\"S1\",\"pseudonym\":\"P1\",\"indication\":\"RD-BONE\","
	         "\"sex\":\"female\",\"r1\":\"r1.fq\",\"r2\":\"r2.fq\"}]}");
	fz_write(pb, (const uint8_t *)js, strlen(js));
	int err = 0;
	sq_fq_batch_t *b = sq_fq_batch_load(pb, &err);
	if (!b) abort();   /* our own JSON: must load */
	sq_fq_opt_t o;
	sq_fq_opt_init(&o);
	o.n_threads = (iter++ & 1) ? 2 : 1;
	o.max_errors = 3;
	o.buf_size = 4096 + (size & 1023);   /* small, varying buffers: records cross refills */
	(void)sq_fq_batch_validate(b, &o);
	json_t *rep = sq_fq_batch_report(b);
	json_decref(rep);
	(void)sq_fq_batch_status(b);
	sq_fq_batch_destroy(b);
	return 0;
}
