/* seqa — the uploader: drains the outbox to the CAD inbox over HTTPS with mutual TLS.
 *
 * Per delivery (docs/PROTOCOL.md):
 *   for each encrypted file (data files, then manifest.json.c4gh):
 *     POST /v1/uploads            (Upload-Length, Upload-Metadata, Idempotency-Key) -> Location
 *     HEAD <upload>               -> Upload-Offset (after a break)
 *     PATCH <upload>              (Upload-Offset, body from that offset) -> new Upload-Offset
 *   POST /v1/deliveries/<id>/commit  -> receipt signed by the CAD (Ed25519), checked and stored
 * Every step is idempotent on the inbox side (uploads are keyed by delivery id + file name,
 * commits by delivery id), so a retry after any crash or lost response creates nothing new.
 *
 * TLS (libcurl built on OpenSSL): TLS 1.2 or 1.3 only, ECDHE + AEAD suites only, the CAD's CA
 * as the only trust anchor, host name verified, a client certificate per platform.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <sodium.h>
#include <sqlite3.h>
#include "seqa/cad.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "cad_internal.h"

#define TLS12_SUITES "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:" \
                     "ECDHE-RSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
#define TLS13_SUITES "TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256"

enum { PU_OK = 0, PU_DEFER = 1, PU_REJECT = 2 };

void sq_cad_push_opt_init(sq_cad_push_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->backoff_base = 2, o->backoff_max = 600, o->timeout = 30;
}

/* ---- fault injection ------------------------------------------------------------------------ */

void sq_cad_fault(const char *point, uint64_t n)
{
	static uint64_t hits;
	const char *e = getenv("SEQA_FAULT_KILL_AT"), *c;
	if (!e || !(c = strchr(e, ':')) || strncmp(e, point, (size_t)(c - e)) != 0 || strlen(point) != (size_t)(c - e)) return;
	uint64_t at = strtoull(c + 1, NULL, 10);
	if (strcmp(point, "patch-bytes") == 0) { if (n < at) return; }
	else if (++hits < at) return;
	fprintf(stderr, "[W::sq_cad_fault] SEQA_FAULT_KILL_AT=%s: killing myself (pid %d)\n", e, (int)getpid());
	fflush(stderr);
	kill(getpid(), SIGKILL);
}

/* ---- HTTP ------------------------------------------------------------------------------------ */

typedef struct {
	long status;
	char location[640];
	long long offset;
	char *body;
	size_t n;
} resp_t;

typedef struct {
	int fd;
	off_t off;
	uint64_t left;
} src_t;

static uint64_t g_sent;   /* bytes sent by PATCH in this process (fault point patch-bytes) */

static size_t on_header(char *b, size_t sz, size_t nm, void *ud)
{
	resp_t *r = ud;
	size_t n = sz * nm;
	char line[600];
	if (n >= sizeof line) return n;
	memcpy(line, b, n), line[n] = 0;
	line[strcspn(line, "\r\n")] = 0;
	if (strncasecmp(line, "Location:", 9) == 0) {
		const char *v = line + 9;
		while (*v == ' ') ++v;
		snprintf(r->location, sizeof r->location, "%s", v);
	} else if (strncasecmp(line, "Upload-Offset:", 14) == 0) {
		r->offset = strtoll(line + 14, NULL, 10);
	}
	return n;
}

static size_t on_body(char *b, size_t sz, size_t nm, void *ud)
{
	resp_t *r = ud;
	size_t n = sz * nm;
	if (r->n + n > (1 << 20)) return 0;        /* responses are small */
	char *t = realloc(r->body, r->n + n + 1);
	if (!t) return 0;
	r->body = t;
	memcpy(r->body + r->n, b, n);
	r->n += n;
	r->body[r->n] = 0;
	return n;
}

static size_t on_read(char *buf, size_t sz, size_t nm, void *ud)
{
	src_t *s = ud;
	size_t want = sz * nm;
	if (want > s->left) want = (size_t)s->left;
	if (want == 0) return 0;
	ssize_t r = pread(s->fd, buf, want, s->off);
	if (r <= 0) return CURL_READFUNC_ABORT;
	s->off += r, s->left -= (uint64_t)r;
	g_sent += (uint64_t)r;
	sq_cad_fault("patch-bytes", g_sent);
	return (size_t)r;
}

static CURL *client(const sq_cad_push_opt_t *o)
{
	CURL *c = curl_easy_init();
	if (!c) return NULL;
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)(CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_DEFAULT));
	curl_easy_setopt(c, CURLOPT_SSL_CIPHER_LIST, TLS12_SUITES);
	curl_easy_setopt(c, CURLOPT_TLS13_CIPHERS, TLS13_SUITES);
	curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file);
	curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLCERT, o->cert_file);
	curl_easy_setopt(c, CURLOPT_SSLKEY, o->key_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, (long)o->timeout);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_UPLOAD_BUFFERSIZE, 2L * 1024 * 1024);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "seqa-uploader/1");
	return c;
}

/* One request.  method: POST/HEAD/PATCH.  body (POST) or src (PATCH).  Returns 0 if a response
 * arrived (r->status set), SQ_EREMOTE on a transport failure (logged). */
static int request(CURL *c, const char *method, const char *url, struct curl_slist *hdr, const char *body, src_t *src, resp_t *r)
{
	CURLcode e;
	free(r->body);
	memset(r, 0, sizeof *r);
	r->offset = -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 0L);
	curl_easy_setopt(c, CURLOPT_POST, 0L);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
	} else {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(c, CURLOPT_READDATA, src);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)src->left);
	}
	if ((e = curl_easy_perform(c)) != CURLE_OK) {
		sq_log_warn("%s %s: %s", method, url, curl_easy_strerror(e));
		return SQ_EREMOTE;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	return 0;
}

/* The inbox's reason for a 4xx, from its JSON error body. */
static const char *reason(const resp_t *r)
{
	static char buf[512];
	json_t *j = r->body ? json_loads(r->body, 0, NULL) : NULL;
	snprintf(buf, sizeof buf, "HTTP %ld: %s", r->status, j ? sq_json_str(j, "error", "?") : (r->body ? r->body : ""));
	json_decref(j);
	buf[strcspn(buf, "\r\n")] = 0;
	return buf;
}

/* Permanent refusals: the request itself is wrong, retrying cannot help. */
static int permanent(long st) { return st == 400 || st == 401 || st == 403 || st == 410 || st == 413 || st == 422; }

/* ---- outbox state ------------------------------------------------------------------------------- */

static int set_state(sq_cad_outbox_t *ob, const char *id, const char *state, const char *err, const char *why, double next, int inc)
{
	sqlite3_stmt *st;
	char now[32];
	int r;
	sq_cad_utc_now(now);
	if (sqlite3_prepare_v2(sq_cad_outbox_db(ob), "UPDATE cad_deliveries SET state=?, last_error=?, reason=?, next_attempt=?,"
	                       " attempts=attempts+?, updated=? WHERE id=?", -1, &st, NULL) != SQLITE_OK) return SQ_EOUTPUT;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
	if (err) sqlite3_bind_text(st, 2, err, -1, SQLITE_TRANSIENT);
	if (why) sqlite3_bind_text(st, 3, why, -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 4, next);
	sqlite3_bind_int(st, 5, inc);
	sqlite3_bind_text(st, 6, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) { sq_log_error("outbox: %s", sqlite3_errmsg(sq_cad_outbox_db(ob))); return SQ_EOUTPUT; }
	return 0;
}

static int set_file(sq_cad_outbox_t *ob, const char *id, const char *name, const char *url, int done)
{
	sqlite3_stmt *st;
	int r;
	if (sqlite3_prepare_v2(sq_cad_outbox_db(ob), "UPDATE cad_files SET upload_url=?, done=? WHERE delivery=? AND name=?", -1, &st, NULL) != SQLITE_OK)
		return SQ_EOUTPUT;
	if (url) sqlite3_bind_text(st, 1, url, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, done);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, name, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : SQ_EOUTPUT;
}

static int store_receipt(sq_cad_outbox_t *ob, const char *id, const char *receipt)
{
	sqlite3_stmt *st;
	char now[32];
	int r;
	sq_cad_utc_now(now);
	if (sq_cad_outbox_begin(ob) < 0) return SQ_EOUTPUT;
	if (sqlite3_prepare_v2(sq_cad_outbox_db(ob), "UPDATE cad_deliveries SET state='delivered', receipt=?, last_error=NULL,"
	                       " reason=NULL, delivered=?, updated=? WHERE id=?", -1, &st, NULL) != SQLITE_OK) goto fail;
	sqlite3_bind_text(st, 1, receipt, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) goto fail;
	return sq_cad_outbox_commit(ob);
fail:
	sq_log_error("outbox: cannot store receipt: %s", sqlite3_errmsg(sq_cad_outbox_db(ob)));
	sq_cad_outbox_rollback(ob);
	return SQ_EOUTPUT;
}

/* ---- receipts ----------------------------------------------------------------------------------- */

int sq_cad_receipt_check(const json_t *rc, const char *id, const json_t *files, const uint8_t (*pks)[32], int n)
{
	json_t *rf = json_object_get(rc, "files"), *e, *g;
	size_t i, k;
	if (sq_cad_verify_json(rc, "receipt:signature", pks, n, NULL) < 0) { sq_log_warn("receipt: signature invalid"); return SQ_EINPUT; }
	if (strcmp(sq_json_str(rc, "delivery_id", ""), id) != 0) { sq_log_warn("receipt: names another delivery"); return SQ_EINPUT; }
	if (strcmp(sq_json_str(rc, "status", ""), "committed") != 0) { sq_log_warn("receipt: status is not 'committed'"); return SQ_EINPUT; }
	json_array_foreach(files, i, e) {
		int found = 0;
		json_array_foreach(rf, k, g)
			if (strcmp(sq_json_str(g, "name", ""), sq_json_str(e, "name", "?")) == 0 &&
			    strcmp(sq_json_str(g, "sha256", ""), sq_json_str(e, "sha256", "?")) == 0) found = 1;
		if (!found) {
			/* the name is there with other bytes: an earlier encryption of the same content (the
			 * delivery id binds the plaintext hashes), e.g. after this platform lost its spool */
			json_array_foreach(rf, k, g) if (strcmp(sq_json_str(g, "name", ""), sq_json_str(e, "name", "?")) == 0) found = 1;
			if (found) sq_log_warn("receipt: the CAD holds an earlier encryption of %s (same content, same delivery id)", sq_json_str(e, "name", "?"));
		}
		if (!found) { sq_log_warn("receipt: file %s missing", sq_json_str(e, "name", "?")); return SQ_EINPUT; }
	}
	return 0;
}

/* ---- one delivery --------------------------------------------------------------------------------- */

typedef struct {
	char name[160], path[4096], sha[65], url[700];
	long long size;
	int done;
} ofile_t;

static int load_files(sq_cad_outbox_t *ob, const char *id, ofile_t **out)
{
	sqlite3_stmt *st;
	int n = 0, cap = 0, r;
	ofile_t *f = NULL;
	if (sqlite3_prepare_v2(sq_cad_outbox_db(ob), "SELECT name, path, size, sha256, upload_url, done FROM cad_files WHERE delivery=? ORDER BY seq",
	                       -1, &st, NULL) != SQLITE_OK) return SQ_EOUTPUT;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			ofile_t *t = realloc(f, (cap = cap ? cap * 2 : 8) * sizeof *f);
			if (!t) break;
			f = t;
		}
		memset(&f[n], 0, sizeof f[n]);
		snprintf(f[n].name, sizeof f[n].name, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(f[n].path, sizeof f[n].path, "%s", (const char *)sqlite3_column_text(st, 1));
		f[n].size = sqlite3_column_int64(st, 2);
		snprintf(f[n].sha, sizeof f[n].sha, "%s", (const char *)sqlite3_column_text(st, 3));
		if (sqlite3_column_text(st, 4)) snprintf(f[n].url, sizeof f[n].url, "%s", (const char *)sqlite3_column_text(st, 4));
		f[n].done = sqlite3_column_int(st, 5);
		++n;
	}
	sqlite3_finalize(st);
	*out = f;
	return n;
}

typedef struct {
	sq_cad_outbox_t *ob;
	const sq_cad_push_opt_t *o;
	CURL *c;
	resp_t r;
	char why[600];
} ctx_t;

static void b64meta(char *dst, size_t cap, const char *key, const char *val, int comma)
{
	char *b = sq_cad_b64_encode(val, strlen(val));
	size_t n = strlen(dst);
	snprintf(dst + n, cap - n, "%s%s %s", comma ? "," : "", key, b ? b : "");
	free(b);
}

/* Upload one file completely.  PU_OK, PU_DEFER or PU_REJECT (why set). */
static int upload_file(ctx_t *x, const char *id, ofile_t *f)
{
	char url[1200], h1[700], h2[80], h3[120], meta[600] = "";
	struct curl_slist *hdr = NULL;
	int ret = PU_DEFER, fd = -1, retried = 0;
	long long off = -1;
	if (!f->url[0]) {
		snprintf(url, sizeof url, "%s/v1/uploads", x->o->url);
		b64meta(meta, sizeof meta, "delivery", id, 0);
		b64meta(meta, sizeof meta, "filename", f->name, 1);
		b64meta(meta, sizeof meta, "sha256", f->sha, 1);
		snprintf(h1, sizeof h1, "Upload-Metadata: %s", meta);
		snprintf(h2, sizeof h2, "Upload-Length: %lld", f->size);
		snprintf(h3, sizeof h3, "Idempotency-Key: %s/%s", id, f->name);
		hdr = curl_slist_append(hdr, "Tus-Resumable: 1.0.0");
		hdr = curl_slist_append(hdr, h1), hdr = curl_slist_append(hdr, h2), hdr = curl_slist_append(hdr, h3);
		if (request(x->c, "POST", url, hdr, NULL, NULL, &x->r) < 0) { snprintf(x->why, sizeof x->why, "inbox unreachable"); goto out; }
		if (x->r.status != 201 && x->r.status != 200) {
			snprintf(x->why, sizeof x->why, "create %s: %s", f->name, reason(&x->r));
			ret = permanent(x->r.status) ? PU_REJECT : PU_DEFER;
			goto out;
		}
		/* only a same-origin upload path is followed */
		if (strncmp(x->r.location, "/v1/uploads/", 12) != 0 || strspn(x->r.location + 12, "0123456789abcdef") != strlen(x->r.location + 12)) {
			snprintf(x->why, sizeof x->why, "create %s: bad Location '%.100s'", f->name, x->r.location);
			goto out;
		}
		snprintf(f->url, sizeof f->url, "%s", x->r.location);
		off = x->r.offset;
		sq_cad_fault("created", 0);
		if (set_file(x->ob, id, f->name, f->url, 0) < 0) goto out;
		curl_slist_free_all(hdr), hdr = NULL;
	}
	snprintf(url, sizeof url, "%s%s", x->o->url, f->url);
	hdr = curl_slist_append(hdr, "Tus-Resumable: 1.0.0");
	if ((fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0) {
		sq_log_error("outbox file '%s' is gone: %s", f->path, strerror(errno));
		snprintf(x->why, sizeof x->why, "local file missing: %s", f->name);
		ret = PU_REJECT;
		goto out;
	}
	for (;;) {
		if (off < 0) {   /* learn the offset */
			if (request(x->c, "HEAD", url, hdr, NULL, NULL, &x->r) < 0) { snprintf(x->why, sizeof x->why, "inbox unreachable"); goto out; }
			if (x->r.status == 404 || x->r.status == 410) {   /* forgotten upload: create again */
				f->url[0] = 0;
				set_file(x->ob, id, f->name, NULL, 0);
				snprintf(x->why, sizeof x->why, "upload of %s unknown to the inbox: recreating", f->name);
				goto out;
			}
			if (x->r.status != 200 && x->r.status != 204) {
				snprintf(x->why, sizeof x->why, "HEAD %s: %s", f->name, reason(&x->r));
				ret = permanent(x->r.status) ? PU_REJECT : PU_DEFER;
				goto out;
			}
			off = x->r.offset;
		}
		if (off < 0 || off > f->size) { snprintf(x->why, sizeof x->why, "inbox reports offset %lld of %lld", off, f->size); goto out; }
		if (off == f->size) break;
		{
			char ho[80];
			struct curl_slist *ph = NULL;
			long long len = f->size - off;
			if (x->o->chunk > 0 && len > x->o->chunk) len = x->o->chunk;
			src_t s = { fd, (off_t)off, (uint64_t)len };
			snprintf(ho, sizeof ho, "Upload-Offset: %lld", off);
			ph = curl_slist_append(ph, "Tus-Resumable: 1.0.0");
			ph = curl_slist_append(ph, "Content-Type: application/offset+octet-stream");
			ph = curl_slist_append(ph, ho);
			ph = curl_slist_append(ph, "Expect:");
			int e = request(x->c, "PATCH", url, ph, NULL, &s, &x->r);
			curl_slist_free_all(ph);
			if (e < 0) { snprintf(x->why, sizeof x->why, "upload of %s interrupted", f->name); goto out; }
			if (x->r.status == 409 && !retried++) { off = -1; continue; }   /* offset moved: ask again */
			if (x->r.status == 404 || x->r.status == 410) {   /* the inbox dropped it: create again */
				f->url[0] = 0;
				set_file(x->ob, id, f->name, NULL, 0);
				snprintf(x->why, sizeof x->why, "PATCH %s: %s (recreating)", f->name, reason(&x->r));
				goto out;
			}
			if (x->r.status != 204 && x->r.status != 200) {
				snprintf(x->why, sizeof x->why, "PATCH %s: %s", f->name, reason(&x->r));
				ret = permanent(x->r.status) ? PU_REJECT : PU_DEFER;
				goto out;
			}
			off = x->r.offset;
			sq_cad_fault("patched", 0);
		}
	}
	f->done = 1;
	if (set_file(x->ob, id, f->name, f->url, 1) < 0) goto out;
	ret = PU_OK;
out:
	if (fd >= 0) close(fd);
	curl_slist_free_all(hdr);
	return ret;
}

static int deliver_one(ctx_t *x, const char *id)
{
	ofile_t *f = NULL;
	int n = load_files(x->ob, id, &f), ret = PU_DEFER;
	json_t *files = json_array(), *body = NULL, *rc = NULL;
	char url[1200], *bs = NULL;
	struct curl_slist *hdr = NULL;
	x->why[0] = 0;
	if (n <= 0) { snprintf(x->why, sizeof x->why, "no files recorded"); ret = PU_REJECT; goto out; }
	for (int i = 0; i < n; ++i) {
		if (!f[i].done && (ret = upload_file(x, id, &f[i])) != PU_OK) goto out;
		json_array_append_new(files, json_pack("{s:s, s:I, s:s}", "name", f[i].name, "size", (json_int_t)f[i].size, "sha256", f[i].sha));
	}
	ret = PU_DEFER;
	body = json_pack("{s:s, s:s, s:O}", "delivery_id", id, "manifest", "manifest.json.c4gh", "files", files);
	bs = json_dumps(body, JSON_COMPACT);
	snprintf(url, sizeof url, "%s/v1/deliveries/%s/commit", x->o->url, id);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, "Tus-Resumable: 1.0.0");
	sq_cad_fault("commit", 0);
	if (request(x->c, "POST", url, hdr, bs, NULL, &x->r) < 0) { snprintf(x->why, sizeof x->why, "commit: inbox unreachable"); goto out; }
	if (x->r.status == 409) {   /* an upload is incomplete on the inbox side (it lost data): resume */
		snprintf(x->why, sizeof x->why, "commit: %s", reason(&x->r));
		for (int i = 0; i < n; ++i) set_file(x->ob, id, f[i].name, f[i].url, 0);
		goto out;
	}
	if (x->r.status != 200 && x->r.status != 201) {
		snprintf(x->why, sizeof x->why, "commit: %s", reason(&x->r));
		ret = permanent(x->r.status) ? PU_REJECT : PU_DEFER;
		goto out;
	}
	sq_cad_fault("committed", 0);   /* the inbox has committed; we have not stored the receipt */
	if (!x->r.body || !(rc = json_loads(x->r.body, 0, NULL))) { snprintf(x->why, sizeof x->why, "commit: receipt is not JSON"); goto out; }
	if (sq_cad_receipt_check(rc, id, files, x->o->receipt_pks, x->o->n_receipt_pk) < 0) {
		snprintf(x->why, sizeof x->why, "receipt failed verification (not signed by a known CAD key?)");
		goto out;
	}
	if (store_receipt(x->ob, id, x->r.body) < 0) { ret = SQ_EOUTPUT; goto out; }
	sq_cad_fault("stored", 0);
	ret = PU_OK;
out:
	curl_slist_free_all(hdr);
	json_decref(files), json_decref(body), json_decref(rc);
	free(bs), free(f);
	return ret;
}

/* ---- draining ------------------------------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int sq_cad_push_once(sq_cad_outbox_t *ob, const sq_cad_push_opt_t *o, sq_cad_push_stat_t *stat)
{
	sqlite3_stmt *st;
	ctx_t x = { ob, o, NULL, { 0 }, "" };
	char (*ids)[65] = NULL;
	int *att = NULL, n = 0, cap = 0, ret = 0, r;
	sq_cad_push_stat_t s = { 0, 0, 0, 0 };
	if (!o->url || strncmp(o->url, "https://", 8) != 0) { sq_log_error("push: the inbox URL must be https://"); return SQ_EINVAL; }
	if (!o->ca_file || !o->cert_file || !o->key_file || o->n_receipt_pk < 1) {
		sq_log_error("push: CA, client certificate, client key and the CAD receipt key are required");
		return SQ_EINVAL;
	}
	if ((r = sq_cad_outbox_drain_lock(ob)) <= 0) {
		if (r < 0) return r;
		sq_log_info("push: another seqa push is draining this outbox; nothing done");
		if (sqlite3_prepare_v2(sq_cad_outbox_db(ob), "SELECT count(*) FROM cad_deliveries WHERE state IN ('queued','uploading')", -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW) s.pending = sqlite3_column_int(st, 0);
			sqlite3_finalize(st);
		}
		if (stat) *stat = s;
		return 0;
	}
	if (sqlite3_prepare_v2(sq_cad_outbox_db(ob), "SELECT id, attempts FROM cad_deliveries WHERE state IN ('queued','uploading')"
	                       " AND next_attempt <= ? ORDER BY created, id", -1, &st, NULL) != SQLITE_OK) {
		sq_cad_outbox_drain_unlock(ob);
		return SQ_EOUTPUT;
	}
	sqlite3_bind_double(st, 1, now_s());
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			void *t1 = realloc(ids, cap * sizeof *ids), *t2 = NULL;
			if (t1) ids = t1;
			if (t1 && (t2 = realloc(att, cap * sizeof *att))) att = t2;
			if (!t1 || !t2) { sqlite3_finalize(st); free(ids), free(att); sq_cad_outbox_drain_unlock(ob); return SQ_ENOMEM; }
		}
		snprintf(ids[n], 65, "%s", (const char *)sqlite3_column_text(st, 0));
		att[n++] = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (n && !(x.c = client(o))) { free(ids), free(att); sq_cad_outbox_drain_unlock(ob); return SQ_ENOMEM; }
	for (int i = 0; i < n; ++i) {
		if (set_state(ob, ids[i], "uploading", NULL, NULL, 0, 1) < 0) { ret = SQ_EOUTPUT; break; }
		int k = deliver_one(&x, ids[i]);
		if (k == PU_OK) {
			s.delivered++;
			sq_log_info("delivered %.16s...: receipt verified and stored", ids[i]);
		} else if (k == PU_REJECT || (k == PU_DEFER && o->max_attempts > 0 && att[i] + 1 >= o->max_attempts)) {
			s.rejected++;
			sq_log_error("delivery %.16s... REJECTED: %s", ids[i], x.why);
			set_state(ob, ids[i], "rejected", x.why, x.why, 0, 0);
		} else if (k == PU_DEFER) {
			double d = o->backoff_base * pow(2, att[i] < 30 ? att[i] : 30);
			if (d > o->backoff_max) d = o->backoff_max;
			d = d / 2 + (d / 2) * (randombytes_uniform(1000001) / 1e6);   /* equal jitter */
			s.deferred++;
			sq_log_warn("delivery %.16s... deferred %.1f s: %s", ids[i], d, x.why);
			set_state(ob, ids[i], "uploading", x.why, NULL, now_s() + d, 0);
		} else { ret = k; break; }
	}
	if (x.c) curl_easy_cleanup(x.c);
	free(x.r.body);
	free(ids), free(att);
	sq_cad_outbox_drain_unlock(ob);
	if (sqlite3_prepare_v2(sq_cad_outbox_db(ob), "SELECT count(*) FROM cad_deliveries WHERE state IN ('queued','uploading')", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) s.pending = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (stat) *stat = s;
	if (ret < 0) return ret;
	return s.deferred ? SQ_EREMOTE : 0;
}

int sq_cad_push_loop(sq_cad_outbox_t *ob, const sq_cad_push_opt_t *o, double poll, volatile int *stop)
{
	while (!*stop) {
		sq_cad_push_stat_t s;
		sqlite3_stmt *st;
		double next = now_s() + poll;
		int r = sq_cad_push_once(ob, o, &s);
		if (r < -1 && r != SQ_EREMOTE) return r;
		if (sqlite3_prepare_v2(sq_cad_outbox_db(ob), "SELECT min(next_attempt) FROM cad_deliveries WHERE state IN ('queued','uploading')",
		                       -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL && sqlite3_column_double(st, 0) < next)
				next = sqlite3_column_double(st, 0);
			sqlite3_finalize(st);
		}
		while (!*stop && now_s() < next) {
			double d = next - now_s();
			struct timespec ts = { 0, (long)((d > 0.2 ? 0.2 : d) * 1e9) };
			nanosleep(&ts, NULL);
		}
	}
	return 0;
}
