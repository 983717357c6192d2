/* seqa serve — HTTP(S) server (libmicrohttpd), authentication, REST API, metrics, dashboard.
 *
 * Every /api and /metrics request needs "Authorization: Bearer TOKEN"; the token's SHA-256 is
 * looked up among the configured clients, and the client's role decides what it may do:
 *
 *   pipeline     submit batches; read its own batches and jobs (and their QC)
 *   technician   read everything; cancel and retry jobs
 *   admin        everything, including the device self-test
 *
 * The dashboard's static files are public (they hold no data); the pages call the API with a
 * token the user gives them.  /api/v1/health is public so that load balancers can probe it.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include "seqa/devices.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "seqa/version.h"
#include "server_internal.h"

struct sq_srv_http_s {
	struct MHD_Daemon *d;
	char *cert, *key;
};

typedef struct {
	char *body;
	size_t len, cap;
	int too_big;
} req_t;

typedef struct {
	int status;
	char *body;             /* malloc'd */
	size_t len;
	const char *type;
	const char *extra_hdr[4][2];
} resp_t;

static double now_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- responses -------------------------------------------------------------------------- */

static void r_json(resp_t *r, int status, json_t *j)
{
	r->status = status;
	r->body = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	r->len = r->body ? strlen(r->body) : 0;
	r->type = "application/json";
	json_decref(j);
}

static void r_error(resp_t *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void r_error(resp_t *r, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	r_json(r, status, json_pack("{s:s, s:i}", "error", msg, "status", status));
}

static void r_text(resp_t *r, int status, const char *type, char *body, size_t len)
{
	r->status = status, r->type = type, r->body = body, r->len = len;
}

/* ---- submission ------------------------------------------------------------------------- */

int sq_srv_api_submit(sq_srv_ctx_t *ctx, const json_t *doc, const char *base_dir, const char *client,
                      const char *run_folder, json_t **resp)
{
	const sq_srv_conf_t *c = ctx->conf;
	json_t *problems = NULL;
	json_t *nb = sq_srv_batch_normalise(doc, base_dir, c->reference, c->allow_inputs, c->n_allow_inputs, &problems);
	int created = 0;
	if (!nb) {
		*resp = json_pack("{s:s, s:i, s:o}", "error", "the batch has problems", "status", 422,
		                  "problems", problems ? problems : json_array());
		return 422;
	}
	int need_ind = 0;
	for (int i = 0; i < c->n_run_args; ++i) if (strstr(c->run_args[i], "{indication}")) need_ind = 1;
	if (need_ind) {
		size_t i;
		json_t *smp, *pr = json_array();
		json_array_foreach(json_object_get(nb, "samples"), i, smp)
			if (!sq_srv_jstr(smp, "indication") || !*sq_srv_jstr(smp, "indication"))
				json_array_append_new(pr, json_pack("{s:s, s:s, s:s}", "sample", sq_srv_jstr(smp, "id"), "field", "indication",
				                                    "message", "a clinical indication code is required (it selects the QC gate)"));
		if (json_array_size(pr) > 0) {
			json_decref(nb);
			*resp = json_pack("{s:s, s:i, s:o}", "error", "the batch has problems", "status", 422, "problems", pr);
			return 422;
		}
		json_decref(pr);
	}
	char *id = sq_srv_db_submit(ctx->db, nb, client, c->data_dir, run_folder, &created);
	if (!id) {
		json_decref(nb);
		*resp = json_pack("{s:s, s:i}", "error", "cannot record the batch (see the service log)", "status", 500);
		return 500;
	}
	if (created) sq_log_info("batch %s submitted by %s: %zu sample(s)%s%s", id, client,
	                         json_array_size(json_object_get(nb, "samples")), run_folder ? " from run folder " : "",
	                         run_folder ? run_folder : "");
	else sq_log_info("batch %s resubmitted by %s: already known, nothing new created", id, client);
	json_decref(nb);
	*resp = sq_srv_db_batch(ctx->db, id);
	if (!*resp) {
		sq_log_error("batch %s was recorded but cannot be read back", id);
		*resp = json_pack("{s:s}", "id", id);
	}
	json_object_set_new(*resp, "new", json_boolean(created));
	free(id);
	if (created && ctx->sched) sq_srv_sched_kick(ctx->sched);
	return created ? 201 : 200;
}

static void api_submit(sq_srv_ctx_t *ctx, struct MHD_Connection *con, const req_t *q, const char *client, resp_t *r)
{
	json_t *doc = NULL, *out = NULL;
	const char *p = q->body;
	if (!p || q->len == 0) { r_error(r, 400, "empty body: send a JSON batch or a sample sheet"); return; }
	while (p < q->body + q->len && isspace((unsigned char)*p)) ++p;
	if (*p == '{') {
		json_error_t e;
		doc = json_loadb(q->body, q->len, JSON_REJECT_DUPLICATES, &e);
		if (!doc) { r_error(r, 400, "JSON batch: line %d column %d: %s", e.line, e.column, e.text); return; }
	} else {
		doc = sq_srv_sheet_parse(q->body, "sample sheet");
		if (!doc) { r_error(r, 400, "the sample sheet does not parse (see the service log)"); return; }
	}
	const char *ref = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "reference");
	if (ref && json_is_object(doc)) json_object_set_new(doc, "reference", json_string(ref));
	int st = sq_srv_api_submit(ctx, doc, NULL, client, NULL, &out);
	json_decref(doc);
	r_json(r, st, out);
}

/* ---- metrics ---------------------------------------------------------------------------- */

static void api_metrics(sq_srv_ctx_t *ctx, resp_t *r)
{
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
#define OUT(...) do { if (b && n < cap) n += (size_t)snprintf(b + n, cap - n, __VA_ARGS__); } while (0)
	if (!b) { r_error(r, 500, "out of memory"); return; }
	json_t *counts = sq_srv_db_counts(ctx->db), *stages = sq_srv_db_stage_stats(ctx->db);
	json_t *slots = ctx->sched ? sq_srv_sched_slots(ctx->sched) : json_array();
	json_t *ob = ctx->sched ? sq_srv_outbox(ctx->sched) : NULL;
	const char *k;
	json_t *v;
	size_t i;
	OUT("# HELP seqa_build_info seqa version and commit.\n# TYPE seqa_build_info gauge\n");
	OUT("seqa_build_info{version=\"%s\",commit=\"%s\"} 1\n", sq_version(), sq_commit());
	OUT("# HELP seqa_uptime_seconds Seconds since the service started.\n# TYPE seqa_uptime_seconds gauge\n");
	OUT("seqa_uptime_seconds %.3f\n", now_wall() - ctx->t_start);
	OUT("# HELP seqa_jobs Jobs by state.\n# TYPE seqa_jobs gauge\n");
	json_object_foreach(counts, k, v) OUT("seqa_jobs{state=\"%s\"} %lld\n", k, (long long)json_integer_value(v));
	OUT("# HELP seqa_stage_duration_seconds Wall time of completed pipeline stages.\n# TYPE seqa_stage_duration_seconds summary\n");
	json_array_foreach(stages, i, v) {
		OUT("seqa_stage_duration_seconds_sum{stage=\"%s\"} %.3f\n", sq_srv_jstr(v, "stage"), json_real_value(json_object_get(v, "sum")));
		OUT("seqa_stage_duration_seconds_count{stage=\"%s\"} %lld\n", sq_srv_jstr(v, "stage"), (long long)json_integer_value(json_object_get(v, "count")));
	}
	OUT("# HELP seqa_device_busy 1 while a job runs on the device slot.\n# TYPE seqa_device_busy gauge\n");
	json_array_foreach(slots, i, v) OUT("seqa_device_busy{device=\"%s\"} %d\n", sq_srv_jstr(v, "name"), json_integer_value(json_object_get(v, "job")) ? 1 : 0);
	OUT("# HELP seqa_device_busy_seconds_total Seconds the device slot has been running jobs (utilisation = rate).\n# TYPE seqa_device_busy_seconds_total counter\n");
	json_array_foreach(slots, i, v) OUT("seqa_device_busy_seconds_total{device=\"%s\"} %.3f\n", sq_srv_jstr(v, "name"), json_real_value(json_object_get(v, "busy_s")));
	OUT("# HELP seqa_device_jobs_total Jobs started on the device slot.\n# TYPE seqa_device_jobs_total counter\n");
	json_array_foreach(slots, i, v) OUT("seqa_device_jobs_total{device=\"%s\"} %lld\n", sq_srv_jstr(v, "name"), (long long)json_integer_value(json_object_get(v, "jobs")));
	{
		long long depth = 0, rejected = 0, delivered = 0;
		json_array_foreach(json_object_get(ob, "deliveries"), i, v) {
			const char *st = sq_srv_jstr(v, "state");
			if (!st) continue;
			if (strcmp(st, "delivered") == 0) ++delivered;
			else if (strcmp(st, "rejected") == 0) ++rejected;
			else ++depth;
		}
		OUT("# HELP seqa_outbox_available 1 if the outbox could be read.\n# TYPE seqa_outbox_available gauge\n");
		OUT("seqa_outbox_available %d\n", json_is_true(json_object_get(ob, "available")) ? 1 : 0);
		OUT("# HELP seqa_outbox_depth Deliveries waiting (queued or uploading).\n# TYPE seqa_outbox_depth gauge\n");
		OUT("seqa_outbox_depth %lld\n", depth);
		OUT("# HELP seqa_outbox_delivered Deliveries delivered.\n# TYPE seqa_outbox_delivered gauge\n");
		OUT("seqa_outbox_delivered %lld\n", delivered);
		OUT("# HELP seqa_delivery_rejected Deliveries rejected by the CAD.\n# TYPE seqa_delivery_rejected gauge\n");
		OUT("seqa_delivery_rejected %lld\n", rejected);
		OUT("# HELP seqa_delivery_failures_total Outbox push runs that failed.\n# TYPE seqa_delivery_failures_total counter\n");
		OUT("seqa_delivery_failures_total %lld\n", ctx->sched ? sq_srv_push_failures(ctx->sched) : 0);
	}
	OUT("# HELP seqa_http_requests_total HTTP requests by status class.\n# TYPE seqa_http_requests_total counter\n");
	for (int c = 1; c <= 5; ++c) OUT("seqa_http_requests_total{code=\"%dxx\"} %lld\n", c, ctx->n_req[c]);
	OUT("# HELP seqa_http_auth_failures_total Requests refused for a missing or unknown token.\n# TYPE seqa_http_auth_failures_total counter\n");
	OUT("seqa_http_auth_failures_total %lld\n", ctx->n_auth_fail);
#undef OUT
	json_decref(counts), json_decref(stages), json_decref(slots), json_decref(ob);
	r_text(r, 200, "text/plain; version=0.0.4; charset=utf-8", b, n < cap ? n : cap - 1);
}

/* ---- devices ---------------------------------------------------------------------------- */

static json_t *devices_view(sq_srv_ctx_t *ctx, int selftest)
{
	json_t *d;
	pthread_mutex_lock(&ctx->dev_lock);
	if (selftest || !ctx->devices) {
		sq_devices_opt_t o;
		sq_devices_opt_init(&o);
		o.selftest = selftest;
		json_t *nd = sq_devices_scan(&o);
		if (nd) { json_decref(ctx->devices); ctx->devices = nd; }
	}
	d = ctx->devices ? json_deep_copy(ctx->devices) : json_object();
	pthread_mutex_unlock(&ctx->dev_lock);
	json_object_set_new(d, "slots", ctx->sched ? sq_srv_sched_slots(ctx->sched) : json_array());
	return d;
}

/* ---- routing ---------------------------------------------------------------------------- */

static int parse_id(const char *s, long long *id)
{
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*s == 0 || (*end && *end != '/') || v <= 0) return -2;
	*id = v;
	return 0;
}

/* Serve a file from a job folder (QC report). */
static void job_file(sq_srv_ctx_t *ctx, long long id, const char *client_filter, const char *name, const char *type, resp_t *r)
{
	char *client = NULL, *outdir = sq_srv_db_job_outdir(ctx->db, id, &client), *path = NULL, *buf;
	size_t len = 0;
	if (!outdir || (client_filter && strcmp(client, client_filter) != 0)) { r_error(r, 404, "no job %lld", id); goto out; }
	if (!(path = sq_srv_job_find(outdir, name))) { r_error(r, 404, "job %lld has no %s yet", id, name); goto out; }
	if (!(buf = sq_read_file(path, &len))) { r_error(r, 500, "cannot read %s", name); goto out; }
	r_text(r, 200, type, buf, len);
out:
	free(outdir), free(client), free(path);
}

static void route(sq_srv_ctx_t *ctx, struct MHD_Connection *con, const char *method, const char *url,
                  const req_t *q, resp_t *r)
{
	const sq_srv_conf_t *c = ctx->conf;
	int is_get = strcmp(method, "GET") == 0, is_post = strcmp(method, "POST") == 0;
	const char *path = url;
	/* public: dashboard files and health */
	if (strncmp(url, "/api/", 5) != 0 && strcmp(url, "/metrics") != 0) {
		size_t len;
		const char *mime;
		const unsigned char *f = is_get ? sq_srv_www(url, &len, &mime) : NULL;
		if (!f) { r_error(r, is_get ? 404 : 405, "no such page"); return; }
		char *b = malloc(len + 1);
		if (!b) { r_error(r, 500, "out of memory"); return; }
		memcpy(b, f, len);
		r_text(r, 200, mime, b, len);
		return;
	}
	if (strcmp(url, "/api/v1/health") == 0) {
		if (!is_get) { r_error(r, 405, "GET only"); return; }
		r_json(r, 200, json_pack("{s:s, s:s, s:s, s:f}", "status", "ok", "version", sq_version(), "commit", sq_commit(),
		                          "uptime_s", now_wall() - ctx->t_start));
		return;
	}
	/* authentication */
	const char *auth = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	int k = -1;
	if (auth && strncasecmp(auth, "Bearer ", 7) == 0) k = sq_srv_token_find(c->tokens, c->n_tokens, auth + 7);
	if (k < 0) {
		__atomic_add_fetch(&ctx->n_auth_fail, 1, __ATOMIC_RELAXED);
		r_error(r, 401, auth ? "unknown token" : "authentication required: Authorization: Bearer TOKEN");
		r->extra_hdr[0][0] = MHD_HTTP_HEADER_WWW_AUTHENTICATE;
		r->extra_hdr[0][1] = "Bearer realm=\"seqa\"";
		return;
	}
	const sq_srv_token_t *tok = &c->tokens[k];
	int role = tok->role;
	/* a pipeline sees only what it submitted */
	const char *own = role == SQ_SRV_ROLE_PIPELINE ? tok->name : NULL;
#define NEED(ROLES) do { if (!(role & (ROLES))) { r_error(r, 403, "role '%s' may not %s %s", sq_srv_role_name(role), method, url); \
	sq_log_warn("client %s (%s) refused: %s %s", tok->name, sq_srv_role_name(role), method, url); return; } } while (0)

	if (strcmp(path, "/metrics") == 0) {
		if (!is_get) { r_error(r, 405, "GET only"); return; }
		api_metrics(ctx, r);
		return;
	}
	path += strlen("/api/v1");
	if (strncmp(url, "/api/v1/", 8) != 0) { r_error(r, 404, "unknown API path (this is /api/v1)"); return; }
	if (strcmp(path, "/whoami") == 0) {
		r_json(r, 200, json_pack("{s:s, s:s}", "client", tok->name, "role", sq_srv_role_name(role)));
	} else if (strcmp(path, "/batches") == 0) {
		if (is_post) {
			NEED(SQ_SRV_ROLE_PIPELINE | SQ_SRV_ROLE_TECH | SQ_SRV_ROLE_ADMIN);
			if (q->too_big) { r_error(r, 413, "batch larger than %zu bytes", c->max_body); return; }
			api_submit(ctx, con, q, tok->name, r);
		} else if (is_get) {
			r_json(r, 200, json_pack("{s:o}", "batches", sq_srv_db_batches(ctx->db, own, 1000)));
		} else r_error(r, 405, "GET or POST");
	} else if (strncmp(path, "/batches/", 9) == 0) {
		if (!is_get) { r_error(r, 405, "GET only"); return; }
		json_t *b = sq_srv_db_batch(ctx->db, path + 9);
		if (!b || (own && strcmp(sq_srv_jstr(b, "client"), own) != 0)) { json_decref(b); r_error(r, 404, "no batch %s", path + 9); return; }
		r_json(r, 200, b);
	} else if (strcmp(path, "/jobs") == 0) {
		if (!is_get) { r_error(r, 405, "GET only"); return; }
		const char *st = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "state");
		const char *ba = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "batch");
		const char *li = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "limit");
		json_t *jobs = sq_srv_db_jobs(ctx->db, st, ba, own, li ? atoi(li) : 1000);
		r_json(r, 200, json_pack("{s:o, s:o}", "jobs", jobs, "counts", sq_srv_db_counts(ctx->db)));
	} else if (strncmp(path, "/jobs/", 6) == 0) {
		long long id;
		const char *rest;
		if (parse_id(path + 6, &id) < 0) { r_error(r, 404, "bad job id"); return; }
		rest = strchr(path + 6, '/');
		if (!rest) {
			if (!is_get) { r_error(r, 405, "GET only"); return; }
			json_t *j = sq_srv_db_job(ctx->db, id);
			if (!j || (own && strcmp(sq_srv_jstr(j, "client"), own) != 0)) { json_decref(j); r_error(r, 404, "no job %lld", id); return; }
			r_json(r, 200, j);
		} else if (strcmp(rest, "/cancel") == 0 || strcmp(rest, "/retry") == 0) {
			if (!is_post) { r_error(r, 405, "POST only"); return; }
			NEED(SQ_SRV_ROLE_TECH | SQ_SRV_ROLE_ADMIN);
			int cancel = rest[1] == 'c';
			int rc = cancel ? sq_srv_db_cancel(ctx->db, id) : sq_srv_db_retry(ctx->db, id);
			if (rc == SQ_EOF) { r_error(r, 404, "no job %lld", id); return; }
			if (rc < 0) { r_error(r, 409, "job %lld cannot be %s in its current state", id, cancel ? "cancelled" : "retried"); return; }
			sq_log_info("job %lld: %s requested by %s", id, cancel ? "cancel" : "retry", tok->name);
			if (ctx->sched) sq_srv_sched_kick(ctx->sched);
			r_json(r, 202, sq_srv_db_job(ctx->db, id));
		} else if (strcmp(rest, "/override") == 0) {
			if (!is_post) { r_error(r, 405, "POST only"); return; }
			NEED(SQ_SRV_ROLE_TECH | SQ_SRV_ROLE_ADMIN);
			json_t *b = q->body ? json_loadb(q->body, q->len, 0, NULL) : NULL;
			const char *why = sq_srv_jstr(b, "reason");
			if (!why || strlen(why) < 3) { json_decref(b); r_error(r, 400, "give {\"reason\": \"...\"}: why the failed gate is overridden"); return; }
			int rc = sq_srv_db_override(ctx->db, id, tok->name, why);
			json_decref(b);
			if (rc == SQ_EOF) { r_error(r, 404, "no job %lld", id); return; }
			if (rc < 0) { r_error(r, 409, "job %lld is not held by a failed QC gate", id); return; }
			sq_log_warn("job %lld: failed QC gate overridden by %s; re-queued", id, tok->name);
			if (ctx->sched) sq_srv_sched_kick(ctx->sched);
			r_json(r, 202, sq_srv_db_job(ctx->db, id));
		} else if (strcmp(rest, "/qc") == 0) {
			if (!is_get) { r_error(r, 405, "GET only"); return; }
			job_file(ctx, id, own, "qc.json", "application/json", r);
		} else if (strcmp(rest, "/qc.html") == 0) {
			if (!is_get) { r_error(r, 405, "GET only"); return; }
			job_file(ctx, id, own, "qc.html", "text/html; charset=utf-8", r);
		} else if (strcmp(rest, "/log") == 0) {
			if (!is_get) { r_error(r, 405, "GET only"); return; }
			NEED(SQ_SRV_ROLE_TECH | SQ_SRV_ROLE_ADMIN);
			char p[PATH_MAX], *buf;
			size_t len;
			snprintf(p, sizeof p, "%s/logs/job-%lld.log", c->data_dir, id);
			if (!(buf = sq_read_file(p, &len))) { r_error(r, 404, "no log for job %lld", id); return; }
			if (len > 65536) { memmove(buf, buf + len - 65536, 65536); len = 65536; }
			r_text(r, 200, "text/plain; charset=utf-8", buf, len);
		} else r_error(r, 404, "unknown job resource");
	} else if (strcmp(path, "/deliveries") == 0) {
		if (!is_get) { r_error(r, 405, "GET only"); return; }
		NEED(SQ_SRV_ROLE_TECH | SQ_SRV_ROLE_ADMIN);
		json_t *ob = ctx->sched ? sq_srv_outbox(ctx->sched) : NULL;
		r_json(r, 200, ob ? ob : json_pack("{s:b, s:[]}", "available", 0, "deliveries"));
	} else if (strcmp(path, "/devices") == 0) {
		if (!is_get) { r_error(r, 405, "GET only"); return; }
		r_json(r, 200, devices_view(ctx, 0));
	} else if (strcmp(path, "/devices/selftest") == 0) {
		if (!is_post) { r_error(r, 405, "POST only"); return; }
		NEED(SQ_SRV_ROLE_ADMIN);
		r_json(r, 200, devices_view(ctx, 1));
	} else if (strcmp(path, "/runs") == 0) {
		if (!is_get) { r_error(r, 405, "GET only"); return; }
		NEED(SQ_SRV_ROLE_TECH | SQ_SRV_ROLE_ADMIN);
		r_json(r, 200, json_pack("{s:o}", "runs", sq_srv_db_runs(ctx->db)));
	} else {
		r_error(r, 404, "unknown API path");
	}
#undef NEED
}

/* ---- libmicrohttpd glue ----------------------------------------------------------------- */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	sq_srv_ctx_t *ctx = cls;
	req_t *q = *con_cls;
	resp_t r;
	(void)version;
	if (!q) {
		if (!(q = calloc(1, sizeof *q))) return MHD_NO;
		*con_cls = q;
		return MHD_YES;
	}
	if (*upload_size) {
		if (q->len + *upload_size > ctx->conf->max_body) q->too_big = 1;
		else {
			if (q->len + *upload_size + 1 > q->cap) {
				size_t nc = (q->len + *upload_size + 1) * 2;
				char *nb = realloc(q->body, nc);
				if (!nb) return MHD_NO;
				q->body = nb, q->cap = nc;
			}
			memcpy(q->body + q->len, upload, *upload_size);
			q->len += *upload_size;
			q->body[q->len] = 0;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&r, 0, sizeof r);
	if (q->too_big && strcmp(url, "/api/v1/batches") != 0) r_error(&r, 413, "request body too large");
	else route(ctx, con, method, url, q, &r);
	if (!r.body) r_error(&r, 500, "internal error");
	struct MHD_Response *m = MHD_create_response_from_buffer(r.len, r.body, MHD_RESPMEM_MUST_FREE);
	if (!m) { free(r.body); return MHD_NO; }
	MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE, r.type);
	MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(m, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(m, "X-Frame-Options", "DENY");
	MHD_add_response_header(m, "Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'");
	MHD_add_response_header(m, "Referrer-Policy", "no-referrer");
	for (int i = 0; i < 4 && r.extra_hdr[i][0]; ++i) MHD_add_response_header(m, r.extra_hdr[i][0], r.extra_hdr[i][1]);
	enum MHD_Result ret = MHD_queue_response(con, (unsigned)r.status, m);
	MHD_destroy_response(m);
	int cls_i = r.status / 100;
	if (cls_i >= 1 && cls_i <= 5) __atomic_add_fetch(&ctx->n_req[cls_i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&ctx->n_req[0], 1, __ATOMIC_RELAXED);
	if (r.status >= 400 || strcmp(method, "GET") != 0)
		sq_log_info("http %s %s -> %d", method, url, r.status);
	else
		sq_log_debug("http %s %s -> %d", method, url, r.status);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *con, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	req_t *q = *con_cls;
	(void)cls, (void)con, (void)toe;
	if (q) { free(q->body); free(q); }
	*con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	if (sq_log_level_cur >= SQ_LOG_WARN) sq_log_vmsg(SQ_LOG_WARN, "libmicrohttpd", fmt, ap);
}

sq_srv_http_t *sq_srv_http_start(sq_srv_ctx_t *ctx, int *port)
{
	const sq_srv_conf_t *c = ctx->conf;
	sq_srv_http_t *h = sq_calloc(1, sizeof *h);
	struct sockaddr_in sa;
	char host[64];
	const char *colon = strrchr(c->listen, ':');
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	if (!h) return NULL;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	snprintf(host, sizeof host, "%.*s", (int)(colon - c->listen), c->listen);
	if (strcmp(host, "localhost") == 0) snprintf(host, sizeof host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { sq_log_error("listen address '%s' is not IPv4", host); goto fail; }
	sa.sin_port = htons((uint16_t)atoi(colon + 1));
	if (c->tls_cert) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) { sq_log_error("libmicrohttpd was built without TLS"); goto fail; }
		if (!(h->cert = sq_read_file(c->tls_cert, NULL)) || !(h->key = sq_read_file(c->tls_key, NULL))) goto fail;
		flags |= MHD_USE_TLS;
	}
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, ctx,
	                        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	                        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)c->http_threads,
	                        MHD_OPTION_CONNECTION_TIMEOUT, 60u,
	                        MHD_OPTION_CONNECTION_LIMIT, 256u,
	                        MHD_OPTION_PER_IP_CONNECTION_LIMIT, 64u,
	                        MHD_OPTION_NOTIFY_COMPLETED, on_completed, ctx,
	                        c->tls_cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->cert,
	                        MHD_OPTION_HTTPS_MEM_KEY, h->key,
	                        MHD_OPTION_HTTPS_PRIORITIES,   /* TLS 1.2/1.3, ECDHE only (forward secrecy), AEAD only: ANSSI-PA-035 */
	                        "NONE:+VERS-TLS1.3:+VERS-TLS1.2:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:+AEAD:+ECDHE-ECDSA:+ECDHE-RSA:"
	                        "+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+SIGN-ALL:+COMP-NULL:+CTYPE-X509",
	                        MHD_OPTION_END);
	if (!h->d) { sq_log_error("cannot listen on %s: %s", c->listen, strerror(errno)); goto fail; }
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	*port = di ? di->port : atoi(colon + 1);
	sq_log_info("listening on %s:%d (%s)", host, *port, c->tls_cert ? "https" : "http");
	return h;
fail:
	free(h->cert), free(h->key), free(h);
	return NULL;
}

void sq_srv_http_stop(sq_srv_http_t *h)
{
	if (!h) return;
	if (h->d) MHD_stop_daemon(h->d);
	if (h->key) { explicit_bzero(h->key, strlen(h->key)); free(h->key); }
	free(h->cert);
	free(h);
}
