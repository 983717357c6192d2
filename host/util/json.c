/* seqa — helpers over jansson; see seqa/json.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "seqa/json.h"
#include "seqa/durable.h"
#include "seqa/util.h"
#include "seqa/log.h"

json_t *sq_json_load(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	if (!j) sq_log_error("%s:%d:%d: %s", path, e.line, e.column, e.text);
	return j;
}

int sq_json_save(const json_t *j, const char *path)
{
	char *s;
	int ret;
	/* jansson's dump can drop a key whose copy failed and still return text (fault-injection
	 * finding: '  : "0.1.0"' in a report written with exit 0): a failed malloc sets ENOMEM */
	errno = 0;
	s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!s || errno == ENOMEM) { free(s); sq_log_error("cannot serialise JSON for '%s' (out of memory)", path); return SQ_ENOMEM; }
	size_t n = strlen(s);
	s[n] = '\n'; /* json_dumps leaves room for NUL: we swap it for a newline and write n+1 */
	ret = sq_durable_write(path, s, n + 1);
	free(s);
	return ret;
}

int sq_json_print(const json_t *j, FILE *fp)
{
	errno = 0;   /* see sq_json_save */
	if (json_dumpf(j, fp, JSON_INDENT(2) | JSON_PRESERVE_ORDER) != 0 || fputc('\n', fp) == EOF)
		return SQ_EOUTPUT;
	if (errno == ENOMEM) { sq_log_error("JSON output incomplete (out of memory)"); return SQ_ENOMEM; }
	return 0;
}

const char *sq_json_str(const json_t *obj, const char *key, const char *dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_string(v) ? json_string_value(v) : dflt;
}

long long sq_json_int(const json_t *obj, const char *key, long long dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

double sq_json_num(const json_t *obj, const char *key, double dflt)
{
	json_t *v = json_object_get(obj, key);
	return json_is_number(v) ? json_number_value(v) : dflt;
}
