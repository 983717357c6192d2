/* seqa serve — configuration file (INI style) and bearer tokens; see seqa/server.h.
 *
 *   [section]
 *   key = value          # comments start with '#' or ';' at the start of a line
 *
 * Lists are whitespace- or comma-separated.  Unknown sections and keys are errors, so a typo
 * never silently leaves a default (for example an open listen address) in place.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include "seqa/server.h"
#include "seqa/hash.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "seqa/thpool.h"

/* ---- roles and tokens ------------------------------------------------------------------- */

int sq_srv_role_parse(const char *s)
{
	if (!s) return 0;
	if (strcasecmp(s, "pipeline") == 0) return SQ_SRV_ROLE_PIPELINE;
	if (strcasecmp(s, "technician") == 0 || strcasecmp(s, "tech") == 0) return SQ_SRV_ROLE_TECH;
	if (strcasecmp(s, "admin") == 0) return SQ_SRV_ROLE_ADMIN;
	return 0;
}

const char *sq_srv_role_name(int role)
{
	switch (role) {
	case SQ_SRV_ROLE_PIPELINE: return "pipeline";
	case SQ_SRV_ROLE_TECH: return "technician";
	case SQ_SRV_ROLE_ADMIN: return "admin";
	default: return "none";
	}
}

void sq_srv_token_hash(const char *token, char hex[65])
{
	sq_sha256_buf(token, strlen(token), hex);
}

void sq_srv_token_new(char out[44])
{
	unsigned char raw[32];
	if (sodium_init() < 0) { /* cannot happen on Linux with getrandom; fall through to randombytes */ }
	randombytes_buf(raw, sizeof raw);
	sodium_bin2base64(out, 44, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

int sq_srv_token_find(const sq_srv_token_t *t, int n, const char *presented)
{
	char hex[65];
	int found = -1;
	if (!presented || !*presented) return -1;
	sq_srv_token_hash(presented, hex);
	/* every entry is compared (no early exit) in constant time */
	for (int i = 0; i < n; ++i)
		if (CRYPTO_memcmp(hex, t[i].sha256, 64) == 0 && found < 0) found = i;
	return found;
}

/* ---- lists ------------------------------------------------------------------------------ */

char **sq_srv_split(const char *s, int *n)
{
	int cap = 4, k = 0;
	char **v = calloc(cap + 1, sizeof *v);
	if (!v) return NULL;
	while (s && *s) {
		while (*s && (isspace((unsigned char)*s) || *s == ',')) ++s;
		if (!*s) break;
		const char *e = s;
		while (*e && !isspace((unsigned char)*e) && *e != ',') ++e;
		if (k == cap) {
			char **nv = realloc(v, (cap * 2 + 1) * sizeof *v);
			if (!nv) { sq_srv_strv_free(v); return NULL; }
			v = nv, cap *= 2;
		}
		v[k] = strndup(s, (size_t)(e - s));
		if (!v[k]) { sq_srv_strv_free(v); return NULL; }
		v[++k] = NULL;
		s = e;
	}
	if (n) *n = k;
	return v;
}

void sq_srv_strv_free(char **v)
{
	if (!v) return;
	for (char **p = v; *p; ++p) free(*p);
	free(v);
}

/* ---- configuration ---------------------------------------------------------------------- */

static void set_str(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? strdup(v) : NULL;
}

static void set_list(char ***dst, int *n, const char *v)
{
	sq_srv_strv_free(*dst);
	*dst = sq_srv_split(v, n);
}

void sq_srv_conf_init(sq_srv_conf_t *c)
{
	memset(c, 0, sizeof *c);
	set_str(&c->listen, "127.0.0.1:8443");
	c->max_body = 4u << 20;
	c->http_threads = 4;
	set_list(&c->run_args, &c->n_run_args,
	         "run -r {reference} -1 {r1} -2 {r2} --sample {sample} --pseudonym {pseudonym} --indication {indication}"
	         " --sex {sex} -o {outdir} -t {threads} --backend {backend}");
	set_list(&c->stages, &c->n_stages, "ingest align call qc");
	set_list(&c->override_args, &c->n_override_args, "--override-by {override_by} --override-reason {override_reason}");
	set_list(&c->outbox_args, &c->n_outbox_args, "outbox list -o {data_dir}/outbox.db --json");
	set_list(&c->push_args, &c->n_push_args, "");
	set_list(&c->enqueue_args, &c->n_enqueue_args, "");
	set_list(&c->gpus, &c->n_gpus, "");
	set_list(&c->watch_dirs, &c->n_watch_dirs, "");
	set_list(&c->allow_inputs, &c->n_allow_inputs, "");
	c->threads = sq_ncpu();
	c->cpu_slots = 1;
	c->cancel_grace_s = 10;
	c->push_interval_s = 30;
	c->rescan_s = 30;
}

void sq_srv_conf_free(sq_srv_conf_t *c)
{
	free(c->listen); free(c->tls_cert); free(c->tls_key); free(c->port_file);
	free(c->data_dir); free(c->db_path); free(c->log_file); free(c->seqa_bin); free(c->reference);
	sq_srv_strv_free(c->allow_inputs); sq_srv_strv_free(c->run_args); sq_srv_strv_free(c->stages); sq_srv_strv_free(c->override_args);
	sq_srv_strv_free(c->gpus); sq_srv_strv_free(c->push_args); sq_srv_strv_free(c->enqueue_args); sq_srv_strv_free(c->outbox_args);
	sq_srv_strv_free(c->watch_dirs);
	free(c->tokens);
	memset(c, 0, sizeof *c);
}

static int parse_num(const char *v, double lo, double hi, double *out)
{
	char *end;
	double x = strtod(v, &end);
	if (*v == 0 || *end != 0 || x < lo || x > hi) return -2;
	*out = x;
	return 0;
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s)) ++s;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
	return s;
}

/* One key in one section.  Returns 0, 1 (unknown key) or 2 (bad value). */
static int conf_set(sq_srv_conf_t *c, const char *sec, const char *k, const char *v)
{
	double x;
#define IS(S, K) (strcmp(sec, S) == 0 && strcmp(k, K) == 0)
	if (IS("server", "listen")) set_str(&c->listen, v);
	else if (IS("server", "tls_cert")) set_str(&c->tls_cert, *v ? v : NULL);
	else if (IS("server", "tls_key")) set_str(&c->tls_key, *v ? v : NULL);
	else if (IS("server", "port_file")) set_str(&c->port_file, *v ? v : NULL);
	else if (IS("server", "max_body")) { if (parse_num(v, 1024, 1 << 30, &x)) return 2; c->max_body = (size_t)x; }
	else if (IS("server", "http_threads")) { if (parse_num(v, 1, 64, &x)) return 2; c->http_threads = (int)x; }
	else if (IS("paths", "data_dir")) set_str(&c->data_dir, v);
	else if (IS("paths", "db")) set_str(&c->db_path, *v ? v : NULL);
	else if (IS("paths", "log_file")) set_str(&c->log_file, *v ? v : NULL);
	else if (IS("paths", "allow_inputs")) set_list(&c->allow_inputs, &c->n_allow_inputs, v);
	else if (IS("pipeline", "seqa")) set_str(&c->seqa_bin, *v ? v : NULL);
	else if (IS("pipeline", "reference")) set_str(&c->reference, *v ? v : NULL);
	else if (IS("pipeline", "run_args")) set_list(&c->run_args, &c->n_run_args, v);
	else if (IS("pipeline", "stages")) set_list(&c->stages, &c->n_stages, v);
	else if (IS("pipeline", "override_args")) set_list(&c->override_args, &c->n_override_args, v);
	else if (IS("pipeline", "threads")) { if (parse_num(v, 1, 1024, &x)) return 2; c->threads = (int)x; }
	else if (IS("pipeline", "cpu_slots")) { if (parse_num(v, 0, 256, &x)) return 2; c->cpu_slots = (int)x; }
	else if (IS("pipeline", "gpus")) set_list(&c->gpus, &c->n_gpus, v);
	else if (IS("pipeline", "cancel_grace")) { if (parse_num(v, 0, 3600, &x)) return 2; c->cancel_grace_s = x; }
	else if (IS("delivery", "enqueue_args")) set_list(&c->enqueue_args, &c->n_enqueue_args, v);
	else if (IS("delivery", "push_args")) set_list(&c->push_args, &c->n_push_args, v);
	else if (IS("delivery", "push_interval")) { if (parse_num(v, 0.1, 86400, &x)) return 2; c->push_interval_s = x; }
	else if (IS("delivery", "outbox_args")) set_list(&c->outbox_args, &c->n_outbox_args, v);
	else if (IS("watch", "dirs")) set_list(&c->watch_dirs, &c->n_watch_dirs, v);
	else if (IS("watch", "rescan")) { if (parse_num(v, 0.1, 86400, &x)) return 2; c->rescan_s = x; }
	else if (IS("devices", "selftest_on_start")) {
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcmp(v, "yes") == 0) c->selftest_on_start = 1;
		else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 || strcmp(v, "no") == 0) c->selftest_on_start = 0;
		else return 2;
	} else if (strcmp(sec, "tokens") == 0) {
		/* NAME = ROLE SHA256HEX */
		int n = 0;
		char **w = sq_srv_split(v, &n);
		int role = n == 2 ? sq_srv_role_parse(w[0]) : 0;
		int ok = role && strlen(w[1]) == 64 && strlen(k) < 64;
		for (int i = 0; ok && i < 64; ++i)
			if (!isxdigit((unsigned char)w[1][i])) ok = 0;
		if (ok) {
			sq_srv_token_t *t = realloc(c->tokens, (c->n_tokens + 1) * sizeof *t);
			if (!t) ok = 0;
			else {
				c->tokens = t;
				t += c->n_tokens++;
				snprintf(t->name, sizeof t->name, "%s", k);
				t->role = role;
				for (int i = 0; i < 64; ++i) t->sha256[i] = (char)tolower((unsigned char)w[1][i]);
				t->sha256[64] = 0;
			}
		}
		sq_srv_strv_free(w);
		return ok ? 0 : 2;
	} else return 1;
#undef IS
	return 0;
}

int sq_srv_conf_load(sq_srv_conf_t *c, const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[8192], sec[64] = "";
	int ln = 0, ret = 0;
	static const char *sections[] = { "server", "paths", "pipeline", "delivery", "watch", "devices", "tokens", 0 };
	if (!fp) { sq_log_error("cannot open configuration '%s'", path); return SQ_EIO; }
	while (fgets(line, sizeof line, fp)) {
		++ln;
		char *s = trim(line);
		if (*s == 0 || *s == '#' || *s == ';') continue;
		if (*s == '[') {
			char *e = strchr(s, ']');
			int ok = 0;
			if (e && e[1] == 0) {
				*e = 0;
				snprintf(sec, sizeof sec, "%s", trim(s + 1));
				for (int i = 0; sections[i]; ++i) if (strcmp(sec, sections[i]) == 0) ok = 1;
			}
			if (!ok) { sq_log_error("%s:%d: unknown section '%s'", path, ln, s); ret = SQ_EINPUT; sec[0] = 0; }
			continue;
		}
		char *eq = strchr(s, '=');
		if (!eq) { sq_log_error("%s:%d: expected 'key = value'", path, ln); ret = SQ_EINPUT; continue; }
		*eq = 0;
		char *k = trim(s), *v = trim(eq + 1);
		if (!sec[0]) { sq_log_error("%s:%d: '%s' outside a section", path, ln, k); ret = SQ_EINPUT; continue; }
		int r = conf_set(c, sec, k, v);
		if (r == 1) { sq_log_error("%s:%d: unknown key '%s' in [%s]", path, ln, k, sec); ret = SQ_EINPUT; }
		else if (r == 2) { sq_log_error("%s:%d: invalid value for '%s' in [%s]", path, ln, k, sec); ret = SQ_EINPUT; }
	}
	fclose(fp);
	return ret;
}

/* 1 if the listen address is a loopback address. */
static int listen_is_loopback(const char *listen)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	size_t n = colon ? (size_t)(colon - listen) : strlen(listen);
	struct in_addr a;
	if (n >= sizeof host) return 0;
	memcpy(host, listen, n), host[n] = 0;
	if (strcmp(host, "localhost") == 0) return 1;
	if (inet_pton(AF_INET, host, &a) != 1) return 0;
	return (ntohl(a.s_addr) >> 24) == 127;
}

int sq_srv_conf_check(const sq_srv_conf_t *c)
{
	int ret = 0;
	const char *colon = c->listen ? strrchr(c->listen, ':') : NULL;
	if (!colon || atoi(colon + 1) < 0 || atoi(colon + 1) > 65535) {
		sq_log_error("[server] listen must be ADDRESS:PORT (IPv4), got '%s'", c->listen ? c->listen : "");
		ret = SQ_EINVAL;
	} else if (!listen_is_loopback(c->listen) && (!c->tls_cert || !c->tls_key)) {
		sq_log_error("[server] listen %s is not loopback: tls_cert and tls_key are required", c->listen);
		ret = SQ_EINVAL;
	}
	if ((c->tls_cert == NULL) != (c->tls_key == NULL)) {
		sq_log_error("[server] tls_cert and tls_key go together");
		ret = SQ_EINVAL;
	}
	if (!c->data_dir || !*c->data_dir) { sq_log_error("[paths] data_dir is required"); ret = SQ_EINVAL; }
	if (c->n_run_args == 0) { sq_log_error("[pipeline] run_args is empty"); ret = SQ_EINVAL; }
	if (c->cpu_slots == 0 && c->n_gpus == 0) { sq_log_error("[pipeline] no cpu_slots and no gpus: nothing could run"); ret = SQ_EINVAL; }
	if (c->n_tokens == 0) sq_log_warn("[tokens] none configured: every API request will be refused");
	return ret;
}
