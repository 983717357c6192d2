/* seqa — RFC 8785 JSON Canonicalization Scheme (JCS) over jansson values, and JSF-style
 * embedded Ed25519 signatures over it.
 *
 * JCS: no whitespace; object members sorted by their names as arrays of UTF-16 code units;
 * strings with only the mandatory escapes (\" \\ \b \f \n \r \t, other controls as \u00xx);
 * numbers as ECMAScript's Number.prototype.toString (shortest round-trip digits; fixed
 * notation for 1e-7 <= |x| < 1e21, else d.ddde+N).  Integers are IEEE doubles in JCS, so a
 * jansson integer beyond 2^53 is formatted through its double value (as a JS engine would).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "seqa/cad.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"

typedef struct { char *s; size_t n, m; int err; } sbuf_t;

static void sb_put(sbuf_t *b, const char *s, size_t n)
{
	if (b->err) return;
	if (b->n + n + 1 > b->m) {
		size_t m = b->m ? b->m : 256;
		while (b->n + n + 1 > m) m *= 2;
		char *t = realloc(b->s, m);
		if (!t) { b->err = SQ_ENOMEM; return; }
		b->s = t, b->m = m;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = 0;
}
static void sb_puts(sbuf_t *b, const char *s) { sb_put(b, s, strlen(s)); }

/* ECMAScript Number::toString for a finite double. */
static void jcs_number(sbuf_t *b, double v)
{
	char tmp[64], digits[32], out[64];
	int p, exp10, k = 0, n;
	if (v == 0) { sb_puts(b, "0"); return; }        /* also -0 */
	for (p = 1; p <= 17; ++p) {                        /* shortest digits that round-trip */
		snprintf(tmp, sizeof tmp, "%.*e", p - 1, v);
		if (strtod(tmp, NULL) == v) break;
	}
	{   /* tmp is [-]d[.ddd]e[+-]XX */
		const char *s = tmp;
		size_t o = 0;
		if (*s == '-') sb_puts(b, "-"), ++s;
		for (; *s && *s != 'e'; ++s) if (*s != '.') digits[k++] = *s;
		digits[k] = 0;
		exp10 = atoi(s + 1);
		while (k > 1 && digits[k - 1] == '0') digits[--k] = 0;
		n = exp10 + 1;                             /* decimal point position */
		if (k <= n && n <= 21) {
			memcpy(out, digits, k), o = k;
			for (int i = 0; i < n - k; ++i) out[o++] = '0';
		} else if (0 < n && n <= 21) {
			memcpy(out, digits, n), o = n;
			out[o++] = '.';
			memcpy(out + o, digits + n, k - n), o += k - n;
		} else if (-6 < n && n <= 0) {
			out[o++] = '0', out[o++] = '.';
			for (int i = 0; i < -n; ++i) out[o++] = '0';
			memcpy(out + o, digits, k), o += k;
		} else {
			out[o++] = digits[0];
			if (k > 1) out[o++] = '.', memcpy(out + o, digits + 1, k - 1), o += k - 1;
			o += snprintf(out + o, sizeof out - o, "e%c%d", n - 1 < 0 ? '-' : '+', abs(n - 1));
		}
		sb_put(b, out, o);
	}
}

static void jcs_string(sbuf_t *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, start = 0;
	sb_puts(b, "\"");
	for (i = 0; i < n; ++i) {
		unsigned char c = (unsigned char)s[i];
		const char *esc = NULL;
		char u[7];
		if (c == '"') esc = "\\\"";
		else if (c == '\\') esc = "\\\\";
		else if (c == '\b') esc = "\\b";
		else if (c == '\f') esc = "\\f";
		else if (c == '\n') esc = "\\n";
		else if (c == '\r') esc = "\\r";
		else if (c == '\t') esc = "\\t";
		else if (c < 0x20) {
			u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = 0;
			esc = u;
		}
		if (!esc) continue;
		sb_put(b, s + start, i - start);
		sb_puts(b, esc);
		start = i + 1;
	}
	sb_put(b, s + start, n - start);
	sb_puts(b, "\"");
}

/* UTF-8 -> UTF-16 code units (jansson keys are valid UTF-8). */
static int utf16(const char *s, uint16_t *u, int cap)
{
	int k = 0;
	const unsigned char *p = (const unsigned char *)s;
	while (*p && k + 2 <= cap) {
		uint32_t c;
		if (*p < 0x80) c = *p++;
		else if ((*p & 0xe0) == 0xc0) c = (p[0] & 0x1f) << 6 | (p[1] & 0x3f), p += 2;
		else if ((*p & 0xf0) == 0xe0) c = (p[0] & 0x0f) << 12 | (p[1] & 0x3f) << 6 | (p[2] & 0x3f), p += 3;
		else c = (p[0] & 0x07) << 18 | (p[1] & 0x3f) << 12 | (p[2] & 0x3f) << 6 | (p[3] & 0x3f), p += 4;
		if (c >= 0x10000) c -= 0x10000, u[k++] = 0xd800 + (c >> 10), u[k++] = 0xdc00 + (c & 0x3ff);
		else u[k++] = (uint16_t)c;
	}
	return k;
}

static int key_cmp(const void *a, const void *b)
{
	uint16_t ua[512], ub[512];
	int na = utf16(*(const char *const *)a, ua, 512), nb = utf16(*(const char *const *)b, ub, 512);
	for (int i = 0; i < na && i < nb; ++i)
		if (ua[i] != ub[i]) return ua[i] < ub[i] ? -1 : 1;
	return na - nb;
}

static void jcs_value(sbuf_t *b, const json_t *j)
{
	if (b->err) return;
	switch (json_typeof(j)) {
	case JSON_NULL: sb_puts(b, "null"); break;
	case JSON_TRUE: sb_puts(b, "true"); break;
	case JSON_FALSE: sb_puts(b, "false"); break;
	case JSON_STRING: jcs_string(b, json_string_value(j), json_string_length(j)); break;
	case JSON_INTEGER: {
		json_int_t v = json_integer_value(j);
		if (v > -(1LL << 53) && v < (1LL << 53)) {
			char t[32];
			snprintf(t, sizeof t, "%lld", (long long)v);
			sb_puts(b, t);
		} else jcs_number(b, (double)v);
		break;
	}
	case JSON_REAL: {
		double v = json_real_value(j);
		if (!isfinite(v)) { b->err = SQ_EINPUT; sq_log_error("JCS: non-finite number"); return; }
		jcs_number(b, v);
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *e;
		sb_puts(b, "[");
		json_array_foreach(j, i, e) { if (i) sb_puts(b, ","); jcs_value(b, e); }
		sb_puts(b, "]");
		break;
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(j), i = 0;
		const char *k, **keys = n ? sq_malloc(n * sizeof *keys) : NULL;
		json_t *e;
		if (n && !keys) { b->err = SQ_ENOMEM; return; }
		json_object_foreach((json_t *)j, k, e) keys[i++] = k;
		if (n) qsort(keys, n, sizeof *keys, key_cmp);
		sb_puts(b, "{");
		for (i = 0; i < n; ++i) {
			if (i) sb_puts(b, ",");
			jcs_string(b, keys[i], strlen(keys[i]));
			sb_puts(b, ":");
			jcs_value(b, json_object_get(j, keys[i]));
		}
		sb_puts(b, "}");
		free(keys);
		break;
	}
	}
}

char *sq_cad_jcs(const json_t *j, size_t *len)
{
	sbuf_t b = { 0 };
	jcs_value(&b, j);
	if (!b.err && !b.s) sb_puts(&b, "");
	if (b.err) { free(b.s); return NULL; }
	if (len) *len = b.n;
	return b.s;
}

/* ---- JSF-style signatures ------------------------------------------------------------------ */

int sq_cad_sign_json(json_t *obj, const char *member, const uint8_t sk[64])
{
	uint8_t sig[64];
	char kid[17], *c = NULL, *b64 = NULL;
	size_t len;
	json_t *s;
	int ret = SQ_ENOMEM;
	if (!json_is_object(obj)) return SQ_EINVAL;
	sq_cad_key_id(sk + 32, kid);               /* libsodium keeps the public key in sk[32..63] */
	s = json_pack("{s:s, s:s}", "algorithm", "Ed25519", "keyId", kid);
	if (!s || json_object_set_new(obj, member, s) != 0) return SQ_ENOMEM;
	if (!(c = sq_cad_jcs(obj, &len))) goto out;
	crypto_sign_detached(sig, NULL, (const uint8_t *)c, len, sk);
	if (!(b64 = sq_cad_b64_encode(sig, sizeof sig))) goto out;
	ret = json_object_set_new(s, "value", json_string(b64)) == 0 ? 0 : SQ_ENOMEM;
out:
	free(c), free(b64);
	return ret;
}

int sq_cad_verify_json(const json_t *obj, const char *member, const uint8_t (*pks)[32], int n, int *which)
{
	json_t *copy = NULL, *s;
	const char *v;
	uint8_t sig[64];
	char *c = NULL;
	size_t len;
	int ret = SQ_EINPUT;
	if (!json_is_object(obj) || !(s = json_object_get(obj, member)) || !json_is_object(s)) {
		sq_log_warn("signature '%s' missing", member);
		return SQ_EINPUT;
	}
	if (strcmp(sq_json_str(s, "algorithm", ""), "Ed25519") != 0 || !(v = json_string_value(json_object_get(s, "value")))) {
		sq_log_warn("signature '%s' malformed (algorithm must be Ed25519, value present)", member);
		return SQ_EINPUT;
	}
	if (sq_cad_b64_decode(v, sig, sizeof sig) != 64) { sq_log_warn("signature '%s' is not 64 bytes of base64", member); return SQ_EINPUT; }
	if (!(copy = json_deep_copy(obj))) return SQ_ENOMEM;
	json_object_del(json_object_get(copy, member), "value");
	if (!(c = sq_cad_jcs(copy, &len))) goto out;
	for (int i = 0; i < n; ++i) {
		if (crypto_sign_verify_detached(sig, (const uint8_t *)c, len, pks[i]) == 0) {
			if (which) *which = i;
			ret = 0;
			goto out;
		}
	}
	sq_log_warn("signature '%s' (key %s) does not verify with any of the %d known key(s)", member,
	            sq_json_str(s, "keyId", "?"), n);
out:
	json_decref(copy);
	free(c);
	return ret;
}
