/* seqa — small helpers over jansson.
 *
 * Ownership follows jansson: sq_json_* getters return borrowed references.
 */
#ifndef SEQA_JSON_H
#define SEQA_JSON_H

#include <jansson.h>

/** Load a JSON file; NULL on error, with "file:line:col: message" logged. */
json_t *sq_json_load(const char *path);
/** Write JSON durably (temp+fsync+rename), indented, keys in insertion order.  0 or SQ_EOUTPUT. */
int sq_json_save(const json_t *j, const char *path);
/** Print JSON to a stream (indent 2) followed by a newline. 0 or SQ_EOUTPUT. */
int sq_json_print(const json_t *j, FILE *fp);
/** Borrowed string member, or dflt if absent or not a string. */
const char *sq_json_str(const json_t *obj, const char *key, const char *dflt);
/** Integer member, or dflt. */
long long sq_json_int(const json_t *obj, const char *key, long long dflt);
/** Number (real or integer) member, or dflt. */
double sq_json_num(const json_t *obj, const char *key, double dflt);

#endif
