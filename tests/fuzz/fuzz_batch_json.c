/* Fuzz target: JSON batches (sq_fq_batch_from_json, as `seqa ingest` / `seqa run` read them)
 * and the service's batch normalisation of the same document (sq_srv_batch_normalise, what the
 * REST API does with a JSON body). */
#include <sys/stat.h>
#include "fuzz_common.h"
#include "seqa/ingest.h"
#include "seqa/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t e;
	const char *dir = fz_scratch();
	json_t *doc = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, &e);
	if (!doc) return 0;
	sq_fq_batch_t *b = sq_fq_batch_from_json(doc, "batch.json", dir);
	if (b) {
		json_t *rep = sq_fq_batch_report(b);
		(void)sq_fq_batch_status(b);
		json_decref(rep);
		sq_fq_batch_destroy(b);
	}
	json_t *problems = NULL;
	json_t *nb = sq_srv_batch_normalise(doc, dir, "ref.fa", NULL, 0, &problems);
	json_decref(nb);
	json_decref(problems);
	json_decref(doc);
	return 0;
}
