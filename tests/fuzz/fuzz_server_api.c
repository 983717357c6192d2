/* Fuzz target: what POST /v1/batches does with a body (host/server/http.c api_submit): a JSON
 * batch (json_loadb) or a sample sheet (sq_srv_sheet_parse), then sq_srv_batch_normalise; plus
 * the service's config-file parser on the same bytes (sq_srv_conf_load). */
#include <ctype.h>
#include <sys/stat.h>
#include "fuzz_common.h"
#include "seqa/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fz_scratch();
	char *text = fz_str(data, size);
	const char *p = text;
	json_t *doc;
	while (*p && isspace((unsigned char)*p)) ++p;
	if (*p == '{') {
		json_error_t e;
		doc = json_loadb(text, size, JSON_REJECT_DUPLICATES, &e);
	} else {
		doc = sq_srv_sheet_parse(text, "sample sheet");
	}
	if (doc) {
		json_t *problems = NULL;
		char *allow[] = { (char *)dir };
		json_t *nb = sq_srv_batch_normalise(doc, NULL, "/ref/GRCh38.fa", allow, 1, &problems);
		json_decref(nb);
		json_decref(problems);
		json_decref(doc);
	}
	{   /* the same bytes as a service configuration file */
		char cp[512];
		sq_srv_conf_t c;
		snprintf(cp, sizeof cp, "%s/seqa.conf", dir);
		fz_write(cp, data, size);
		sq_srv_conf_init(&c);
		if (sq_srv_conf_load(&c, cp) == 0) (void)sq_srv_conf_check(&c);
		sq_srv_conf_free(&c);
	}
	free(text);
	return 0;
}
