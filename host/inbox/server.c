/* seqa-inbox — HTTPS front end (libmicrohttpd + GnuTLS): mutual TLS, limits, the tus-style
 * upload endpoints, commit, listing.  Every rejection is one log line with the reason, the
 * client certificate's CN and address. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <microhttpd.h>
#include "seqa/cad.h"
#include "seqa/durable.h"
#include "seqa/hash.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "inbox.h"

/* TLS 1.2/1.3, ECDHE key exchange, AEAD ciphers only (forward secret). */
#define PRIORITIES "NONE:+VERS-TLS1.3:+VERS-TLS1.2:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:+AEAD:" \
                   "+ECDHE-ECDSA:+ECDHE-RSA:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+SIGN-ALL:+COMP-NULL:+CTYPE-X509"

#define MAX_BODY (64 * 1024)

typedef struct {
	int kind;                 /* 1 PATCH, 2 commit body */
	int status;               /* != 0: reject after draining the body */
	char err[512];
	char uid[33];
	int fd;
	int64_t off, end;
	char *body;
	size_t n;
	char cn[128];
	sq_inbox_stream_t *stream;   /* hashes computed as bytes arrive (NULL: none) */
} req_t;

static volatile sig_atomic_t g_stop;
static void on_signal(int s) { (void)s; g_stop = 1; }

/* ---- rate limit: a token bucket per client CN ---------------------------------------------------- */

typedef struct { char cn[128]; double tokens, t; } bucket_t;
static bucket_t g_buckets[256];
static pthread_mutex_t g_blk = PTHREAD_MUTEX_INITIALIZER;

static int rate_ok(const sq_inbox_t *ib, const char *cn)
{
	struct timespec ts;
	double now;
	int i, ok = 0;
	if (ib->o.rate <= 0) return 1;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec + ts.tv_nsec * 1e-9;
	pthread_mutex_lock(&g_blk);
	for (i = 0; i < 256 && g_buckets[i].cn[0] && strcmp(g_buckets[i].cn, cn) != 0; ++i) {}
	if (i == 256) i = 255;
	if (strcmp(g_buckets[i].cn, cn) != 0) {
		snprintf(g_buckets[i].cn, sizeof g_buckets[i].cn, "%s", cn);
		g_buckets[i].tokens = 2 * ib->o.rate, g_buckets[i].t = now;
	}
	bucket_t *b = &g_buckets[i];
	b->tokens += (now - b->t) * ib->o.rate;
	if (b->tokens > 2 * ib->o.rate) b->tokens = 2 * ib->o.rate;
	b->t = now;
	if (b->tokens >= 1) b->tokens -= 1, ok = 1;
	pthread_mutex_unlock(&g_blk);
	return ok;
}

/* ---- responses --------------------------------------------------------------------------------------- */

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *body, const char *k1, const char *v1,
                             const char *k2, const char *v2)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(body ? strlen(body) : 0, (void *)(body ? body : ""), MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;
	if (!r) return MHD_NO;
	MHD_add_response_header(r, "Tus-Resumable", "1.0.0");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (body && body[0] == '{') MHD_add_response_header(r, "Content-Type", "application/json");
	if (body && body[0] == '[') MHD_add_response_header(r, "Content-Type", "application/json");
	if (k1) MHD_add_response_header(r, k1, v1);
	if (k2) MHD_add_response_header(r, k2, v2);
	ret = MHD_queue_response(c, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static const char *peer_ip(struct MHD_Connection *c, char *buf, size_t cap)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(buf, cap, "?");
	if (ci && ci->client_addr && ci->client_addr->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ci->client_addr)->sin_addr, buf, (socklen_t)cap);
	return buf;
}

static enum MHD_Result reject(struct MHD_Connection *c, int status, const char *cn, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static enum MHD_Result reject(struct MHD_Connection *c, int status, const char *cn, const char *fmt, ...)
{
	char msg[768], ip[64];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	sq_log_warn("inbox: REJECTED HTTP %d from %s (client %s): %s", status, peer_ip(c, ip, sizeof ip), cn && cn[0] ? cn : "-", msg);
	json_t *j = json_pack("{s:s}", "error", msg);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	enum MHD_Result r = reply(c, status, s, status == 429 ? "Retry-After" : NULL, "1", NULL, NULL);
	free(s);
	return r;
}

/* ---- client certificate ------------------------------------------------------------------------------ */

/* 0 and the CN if the client presented a certificate that chains to our CA and is valid now;
 * otherwise a reason. */
static int client_cn(struct MHD_Connection *c, char *cn, size_t cap, const char **why)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t s;
	unsigned status = 0, n = 0;
	const gnutls_datum_t *chain;
	gnutls_x509_crt_t crt;
	size_t len = cap;
	cn[0] = 0;
	if (!ci || !(s = (gnutls_session_t)ci->tls_session)) { *why = "not a TLS connection"; return -1; }
	if (!(chain = gnutls_certificate_get_peers(s, &n)) || n == 0) { *why = "no client certificate presented"; return -1; }
	if (gnutls_certificate_verify_peers2(s, &status) < 0) { *why = "client certificate could not be verified"; return -1; }
	if (status) {
		*why = (status & GNUTLS_CERT_EXPIRED) ? "client certificate expired" :
		       (status & GNUTLS_CERT_NOT_ACTIVATED) ? "client certificate not yet valid" :
		       (status & (GNUTLS_CERT_SIGNER_NOT_FOUND | GNUTLS_CERT_SIGNER_NOT_CA)) ? "client certificate not issued by the CAD's CA" :
		       (status & GNUTLS_CERT_REVOKED) ? "client certificate revoked" : "client certificate invalid";
		return -1;
	}
	if (gnutls_x509_crt_init(&crt) < 0) { *why = "out of memory"; return -1; }
	if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0 ||
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len) < 0) {
		gnutls_x509_crt_deinit(crt);
		*why = "client certificate has no CN";
		return -1;
	}
	gnutls_x509_crt_deinit(crt);
	if (!sq_cad_name_ok(cn)) { *why = "client certificate CN is not a valid platform id"; cn[0] = 0; return -1; }
	return 0;
}

/* ---- uploads ------------------------------------------------------------------------------------------ */

static int64_t staged_size(sq_inbox_t *ib, const char *uid)
{
	char p[8192];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s.part", ib->staging, uid);
	return stat(p, &st) == 0 ? (int64_t)st.st_size : 0;
}

/* Decode "key b64,key b64" metadata value for key into out. */
static int meta_get(const char *meta, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *p = meta;
	while (p && *p) {
		while (*p == ' ' || *p == ',') ++p;
		if (strncmp(p, key, kl) == 0 && p[kl] == ' ') {
			char b64[1024];
			const char *v = p + kl + 1, *e = strchr(v, ',');
			size_t n = e ? (size_t)(e - v) : strlen(v);
			if (n >= sizeof b64) return -1;
			memcpy(b64, v, n), b64[n] = 0;
			long r = sq_cad_b64_decode(b64, out, cap - 1);
			if (r < 0) return -1;
			out[r] = 0;
			return (int)strlen(out) == r ? 0 : -1;
		}
		p = strchr(p, ',');
	}
	return -1;
}

static int lookup(sq_inbox_t *ib, const char *uid, int64_t *len, char *platform, char *state)
{
	sqlite3_stmt *st;
	int found = 0;
	if (sqlite3_prepare_v2(ib->db, "SELECT length, platform, state FROM uploads WHERE uid=?", -1, &st, NULL) != SQLITE_OK) return 0;
	sqlite3_bind_text(st, 1, uid, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		found = 1;
		*len = sqlite3_column_int64(st, 0);
		snprintf(platform, 128, "%s", (const char *)sqlite3_column_text(st, 1));
		snprintf(state, 16, "%s", (const char *)sqlite3_column_text(st, 2));
	}
	sqlite3_finalize(st);
	return found;
}

static enum MHD_Result do_create(sq_inbox_t *ib, struct MHD_Connection *c, const char *cn)
{
	const char *ls = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upload-Length");
	const char *meta = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upload-Metadata");
	char did[128], name[256], sha[128], uid[33], loc[64], offs[32], now[32], plat[128], state[16];
	char *end;
	int64_t len, have;
	sqlite3_stmt *st;
	int n_up = 0;
	if (!ls || !meta) return reject(c, 400, cn, "Upload-Length and Upload-Metadata are required");
	len = strtoll(ls, &end, 10);
	if (*ls == 0 || *end || len < 0) return reject(c, 400, cn, "bad Upload-Length");
	if (meta_get(meta, "delivery", did, sizeof did) < 0 || !sq_cad_hex64_ok(did)) return reject(c, 400, cn, "metadata 'delivery' must be 64 hex digits");
	if (meta_get(meta, "filename", name, sizeof name) < 0) return reject(c, 400, cn, "metadata 'filename' missing");
	if (!sq_cad_name_ok(name) || strlen(name) < 6 || strcmp(name + strlen(name) - 5, ".c4gh") != 0)
		return reject(c, 400, cn, "unsafe or invalid file name (only [A-Za-z0-9._-], no '..', ending in .c4gh)");
	if (meta_get(meta, "sha256", sha, sizeof sha) < 0 || !sq_cad_hex64_ok(sha)) return reject(c, 400, cn, "metadata 'sha256' must be 64 hex digits");
	if (len > ib->o.max_file_size) return reject(c, 413, cn, "upload of %lld bytes exceeds the limit of %lld", (long long)len, (long long)ib->o.max_file_size);
	sq_inbox_uid(did, name, uid);
	pthread_mutex_lock(&ib->lock);
	if (lookup(ib, uid, &have, plat, state)) {
		char p[8192], old_sha[65] = "";
		int committed = strcmp(state, "committed") == 0, fd;
		if (strcmp(plat, cn) != 0) { pthread_mutex_unlock(&ib->lock); return reject(c, 403, cn, "upload belongs to another platform"); }
		if (sqlite3_prepare_v2(ib->db, "SELECT sha256 FROM uploads WHERE uid=?", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, uid, -1, SQLITE_TRANSIENT);
			if (sqlite3_step(st) == SQLITE_ROW) snprintf(old_sha, sizeof old_sha, "%s", (const char *)sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
		snprintf(p, sizeof p, "%s/%s.part", ib->staging, uid);
		if (!committed && (have != len || strcmp(old_sha, sha) != 0)) {
			/* the same content re-encrypted by the platform (it lost its outbox): start over */
			sq_log_warn("inbox: upload %s of %.16s... re-created with other bytes: previous partial data discarded", name, did);
			if (sqlite3_prepare_v2(ib->db, "UPDATE uploads SET length=?, sha256=? WHERE uid=?", -1, &st, NULL) == SQLITE_OK) {
				sqlite3_bind_int64(st, 1, len);
				sqlite3_bind_text(st, 2, sha, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(st, 3, uid, -1, SQLITE_TRANSIENT);
				sqlite3_step(st);
				sqlite3_finalize(st);
			}
			truncate(p, 0);
		}
		if (!committed && (fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0) close(fd);   /* dropped after a bad commit */
		pthread_mutex_unlock(&ib->lock);
		snprintf(loc, sizeof loc, "/v1/uploads/%s", uid);
		snprintf(offs, sizeof offs, "%lld", (long long)(committed ? have : staged_size(ib, uid)));
		return reply(c, 200, NULL, "Location", loc, "Upload-Offset", offs);
	}
	if (sqlite3_prepare_v2(ib->db, "SELECT count(*) FROM uploads WHERE delivery=?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, did, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) n_up = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (n_up >= ib->o.max_files) { pthread_mutex_unlock(&ib->lock); return reject(c, 413, cn, "more than %d files in one delivery", ib->o.max_files); }
	{   /* a fresh, empty staging file, then the row */
		char p[8192];
		int fd;
		snprintf(p, sizeof p, "%s/%s.part", ib->staging, uid);
		if ((fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 || fsync(fd) != 0) {
			if (fd >= 0) close(fd);
			pthread_mutex_unlock(&ib->lock);
			return reject(c, 500, cn, "cannot create staging file");
		}
		close(fd);
		sq_fsync_dir(p);
	}
	sq_cad_utc_now(now);
	if (sqlite3_prepare_v2(ib->db, "INSERT INTO uploads(uid, delivery, name, length, sha256, platform, created) VALUES(?,?,?,?,?,?,?)",
	                       -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, uid, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, did, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 4, len);
		sqlite3_bind_text(st, 5, sha, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 6, cn, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 7, now, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&ib->lock);
	sq_log_info("inbox: upload %s created for %.16s... by %s (%lld bytes)", name, did, cn, (long long)len);
	snprintf(loc, sizeof loc, "/v1/uploads/%s", uid);
	return reply(c, 201, NULL, "Location", loc, "Upload-Offset", "0");
}

static int busy_take(sq_inbox_t *ib, const char *uid)
{
	int i, free_i = -1;
	pthread_mutex_lock(&ib->lock);
	for (i = 0; i < 64; ++i) {
		if (strcmp(ib->busy[i], uid) == 0) { pthread_mutex_unlock(&ib->lock); return 0; }
		if (!ib->busy[i][0] && free_i < 0) free_i = i;
	}
	if (free_i >= 0) snprintf(ib->busy[free_i], 33, "%s", uid);
	pthread_mutex_unlock(&ib->lock);
	return free_i >= 0;
}

int sq_inbox_busy(sq_inbox_t *ib, const char *uid)
{
	for (int i = 0; i < 64; ++i) if (strcmp(ib->busy[i], uid) == 0) return 1;
	return 0;
}

static void busy_give(sq_inbox_t *ib, const char *uid)
{
	pthread_mutex_lock(&ib->lock);
	for (int i = 0; i < 64; ++i) if (strcmp(ib->busy[i], uid) == 0) ib->busy[i][0] = 0;
	pthread_mutex_unlock(&ib->lock);
}

/* ---- streaming verification ------------------------------------------------------------------------- */

#define BLK (1 << 20)
#define QMAX (16u << 20)
#define SPARE_MAX 20

typedef struct { sq_inbox_stream_t *s; int k; } worker_arg_t;

static void *stream_worker(void *arg)
{
	worker_arg_t a = *(worker_arg_t *)arg;
	sq_inbox_stream_t *s = a.s;
	free(arg);
	for (;;) {
		sq_inbox_blk_t *b;
		pthread_mutex_lock(&s->mu);
		while (!s->pos[a.k] && !s->eof) pthread_cond_wait(&s->cv, &s->mu);
		if (!(b = s->pos[a.k])) { pthread_mutex_unlock(&s->mu); break; }
		s->pos[a.k] = b->next;
		pthread_mutex_unlock(&s->mu);
		if (a.k == 0) sq_hash_update(s->h, b->d, b->n);
		else if (!s->bad && sq_c4gh_reader_feed(s->r, b->d, b->n) < 0) s->bad = 1;
		pthread_mutex_lock(&s->mu);
		if (--b->refs == 0) {   /* both workers are past it: it is the head */
			s->head = b->next;
			if (!s->head) s->tail = NULL;
			s->queued -= b->n;
			if (s->n_spare < SPARE_MAX) b->next = s->spare, s->spare = b, s->n_spare++;
			else free(b);
			pthread_cond_broadcast(&s->cv);
		}
		pthread_mutex_unlock(&s->mu);
	}
	return NULL;
}

static void stream_push(sq_inbox_stream_t *s, sq_inbox_blk_t *b)
{
	pthread_mutex_lock(&s->mu);
	while (s->queued > QMAX) pthread_cond_wait(&s->cv, &s->mu);   /* back-pressure */
	b->next = NULL, b->refs = 2;
	if (s->tail) s->tail->next = b; else s->head = b;
	s->tail = b;
	for (int k = 0; k < 2; ++k) if (!s->pos[k]) s->pos[k] = b;
	s->queued += b->n;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Bytes that arrived (connection thread). */
static void stream_feed(sq_inbox_stream_t *s, const char *data, size_t n)
{
	if (s->lost) return;
	while (n > 0) {
		if (!s->cur) {
			pthread_mutex_lock(&s->mu);
			if ((s->cur = s->spare)) s->spare = s->cur->next, s->n_spare--;
			pthread_mutex_unlock(&s->mu);
			if (!s->cur && !(s->cur = malloc(sizeof *s->cur + BLK))) {
				sq_log_warn("inbox: out of memory while streaming upload %.12s...: its commit will read the file", s->uid);
				s->lost = 1;
				return;
			}
			s->cur->n = 0, s->cur->next = NULL;
		}
		size_t k = BLK - s->cur->n < n ? BLK - s->cur->n : n;
		memcpy(s->cur->d + s->cur->n, data, k);
		s->cur->n += k, data += k, n -= k;
		if (s->cur->n == BLK) stream_push(s, s->cur), s->cur = NULL;
	}
}

/* Flush, stop and join the workers. */
static void stream_stop(sq_inbox_stream_t *s)
{
	if (!s->running) return;
	if (s->cur && s->cur->n && !s->lost) stream_push(s, s->cur), s->cur = NULL;
	pthread_mutex_lock(&s->mu);
	s->eof = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	for (int k = 0; k < s->running; ++k) pthread_join(s->th[k], NULL);
	s->running = 0;
}

static void stream_clear(sq_inbox_stream_t *s)
{
	stream_stop(s);
	if (s->h) { char hx[65]; sq_hash_final(s->h, hx); }
	sq_c4gh_reader_free(s->r);
	free(s->cur);
	while (s->head) { sq_inbox_blk_t *b = s->head; s->head = b->next; free(b); }
	while (s->spare) { sq_inbox_blk_t *b = s->spare; s->spare = b->next; free(b); }
	if (s->uid[0]) pthread_mutex_destroy(&s->mu), pthread_cond_destroy(&s->cv);
	memset(s, 0, sizeof *s);
}

/* A PATCH has ended: give back the recycled blocks (an upload cut here may not resume soon). */
static void stream_trim(sq_inbox_stream_t *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->spare) { sq_inbox_blk_t *b = s->spare; s->spare = b->next; free(b); }
	s->n_spare = 0;
	pthread_mutex_unlock(&s->mu);
}

/* Attach the stream state for a PATCH starting at off (ib->lock held). */
static sq_inbox_stream_t *stream_attach(sq_inbox_t *ib, const char *uid, int64_t off)
{
	sq_inbox_stream_t *s = NULL, *fr = NULL;
	for (int i = 0; i < SQ_INBOX_STREAMS; ++i) {
		if (strcmp(ib->streams[i].uid, uid) == 0) s = &ib->streams[i];
		else if (!ib->streams[i].uid[0] && !fr) fr = &ib->streams[i];
	}
	if (s && s->off == off && !s->lost) return s;
	if (s) stream_clear(s), fr = s;
	if (off != 0 || !fr) return NULL;   /* resumed after a restart: the commit reads the file */
	snprintf(fr->uid, sizeof fr->uid, "%s", uid);
	pthread_mutex_init(&fr->mu, NULL);
	pthread_cond_init(&fr->cv, NULL);
	fr->h = sq_hash_init("sha256");
	fr->r = sq_c4gh_reader_new(ib->c4gh_sk);
	if (!fr->h || !fr->r) { stream_clear(fr); return NULL; }
	for (int k = 0; k < 2; ++k) {
		worker_arg_t *a = malloc(sizeof *a);
		if (a) a->s = fr, a->k = k;
		if (!a || pthread_create(&fr->th[k], NULL, stream_worker, a) != 0) { free(a); stream_clear(fr); return NULL; }
		fr->running = k + 1;
	}
	return fr;
}

int sq_inbox_stream_take(sq_inbox_t *ib, const char *uid, int64_t len, char sha_enc[65], char sha_plain[65], int *c4gh_ok)
{
	for (int i = 0; i < SQ_INBOX_STREAMS; ++i) {
		sq_inbox_stream_t *s = &ib->streams[i];
		if (strcmp(s->uid, uid) != 0) continue;
		if (s->off != len || s->lost) { stream_clear(s); return 0; }
		stream_stop(s);
		sq_hash_final(s->h, sha_enc), s->h = NULL;
		*c4gh_ok = !s->bad && sq_c4gh_reader_finish(s->r, sha_plain, NULL) == 0;
		stream_clear(s);
		return 1;
	}
	return 0;
}

static int uid_ok(const char *s) { return strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32; }

/* ---- the access handler -------------------------------------------------------------------------------- */

static uint64_t g_written;

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method, const char *version,
                               const char *data, size_t *data_size, void **con_cls)
{
	sq_inbox_t *ib = cls;
	req_t *rq = *con_cls;
	(void)version;
	if (!rq) {   /* headers complete: authenticate, route, set up */
		const char *why = NULL;
		char cn[128];
		const union MHD_ConnectionInfo *si = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		if (si && si->socket_context) *(int *)si->socket_context = 1;
		if (!(rq = sq_calloc(1, sizeof *rq))) return MHD_NO;
		rq->fd = -1;
		*con_cls = rq;
		if (client_cn(c, cn, sizeof cn, &why) < 0) { rq->status = 403; snprintf(rq->err, sizeof rq->err, "%s", why); return MHD_YES; }
		snprintf(rq->cn, sizeof rq->cn, "%s", cn);
		if (!rate_ok(ib, cn)) { rq->status = 429; snprintf(rq->err, sizeof rq->err, "rate limit (%.0f requests/s) exceeded", ib->o.rate); return MHD_YES; }
		if (strcmp(method, "PATCH") == 0 && strncmp(url, "/v1/uploads/", 12) == 0) {
			const char *os = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Upload-Offset");
			const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
			const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
			char plat[128], state[16], p[8192];
			int64_t len;
			rq->kind = 1;
			snprintf(rq->uid, sizeof rq->uid, "%.32s", url + 12);
			if (!uid_ok(url + 12) || !lookup(ib, rq->uid, &len, plat, state)) { rq->status = 404; snprintf(rq->err, sizeof rq->err, "unknown upload"); return MHD_YES; }
			if (strcmp(plat, cn) != 0) { rq->status = 403; snprintf(rq->err, sizeof rq->err, "upload belongs to another platform"); return MHD_YES; }
			if (!ct || strcmp(ct, "application/offset+octet-stream") != 0) { rq->status = 415; snprintf(rq->err, sizeof rq->err, "Content-Type must be application/offset+octet-stream"); return MHD_YES; }
			if (strcmp(state, "committed") == 0) { rq->status = 409; snprintf(rq->err, sizeof rq->err, "delivery already committed"); return MHD_YES; }
			if (!busy_take(ib, rq->uid)) { rq->status = 409; snprintf(rq->err, sizeof rq->err, "another PATCH of this upload is in progress"); return MHD_YES; }
			rq->off = staged_size(ib, rq->uid);
			if (!os || strtoll(os, NULL, 10) != rq->off) {
				busy_give(ib, rq->uid);
				rq->status = 409;
				snprintf(rq->err, sizeof rq->err, "Upload-Offset %s but the inbox has %lld bytes", os ? os : "(none)", (long long)rq->off);
				return MHD_YES;
			}
			if (cl && rq->off + strtoll(cl, NULL, 10) > len) {
				busy_give(ib, rq->uid);
				rq->status = 413;
				snprintf(rq->err, sizeof rq->err, "PATCH would exceed the declared Upload-Length %lld", (long long)len);
				return MHD_YES;
			}
			rq->end = len;
			pthread_mutex_lock(&ib->lock);
			rq->stream = stream_attach(ib, rq->uid, rq->off);
			pthread_mutex_unlock(&ib->lock);
			snprintf(p, sizeof p, "%s/%s.part", ib->staging, rq->uid);
			if ((rq->fd = open(p, O_WRONLY | O_CLOEXEC)) < 0) {
				busy_give(ib, rq->uid);
				rq->status = 404;
				snprintf(rq->err, sizeof rq->err, "staging file lost: create the upload again");
			}
			return MHD_YES;
		}
		if (strcmp(method, "POST") == 0 && strncmp(url, "/v1/deliveries/", 15) == 0) rq->kind = 2;
		return MHD_YES;
	}
	if (*data_size) {   /* body bytes */
		size_t n = *data_size;
		*data_size = 0;
		if (rq->status) return MHD_YES;                       /* drain a rejected body */
		if (rq->kind == 1) {
			if (rq->off + (int64_t)n > rq->end) {
				rq->status = 413;
				snprintf(rq->err, sizeof rq->err, "data beyond the declared Upload-Length %lld", (long long)rq->end);
				return MHD_YES;
			}
			if (pwrite(rq->fd, data, n, rq->off) != (ssize_t)n) { rq->status = 507; snprintf(rq->err, sizeof rq->err, "write failed: %s", strerror(errno)); return MHD_YES; }
			rq->off += (int64_t)n;
			if (rq->stream) {
				stream_feed(rq->stream, data, n);
				rq->stream->off = rq->off;
			}
			g_written += n;
			sq_cad_fault("patch-bytes", g_written);
		} else {
			if (rq->n + n > MAX_BODY) { rq->status = 413; snprintf(rq->err, sizeof rq->err, "request body over %d bytes", MAX_BODY); return MHD_YES; }
			char *t = realloc(rq->body, rq->n + n + 1);
			if (!t) return MHD_NO;
			rq->body = t;
			memcpy(rq->body + rq->n, data, n);
			rq->n += n;
			rq->body[rq->n] = 0;
		}
		return MHD_YES;
	}
	/* request complete: respond */
	if (rq->status) return reject(c, rq->status, rq->cn, "%s %s: %s", method, url, rq->err);
	if (rq->kind == 1) {
		char offs[32];
		if (fdatasync(rq->fd) != 0) return reject(c, 507, rq->cn, "fsync failed");
		snprintf(offs, sizeof offs, "%lld", (long long)rq->off);
		return reply(c, 204, NULL, "Upload-Offset", offs, NULL, NULL);
	}
	if (strcmp(method, "HEAD") == 0 && strncmp(url, "/v1/uploads/", 12) == 0) {
		char plat[128], state[16], offs[32], lens[32];
		int64_t len;
		if (!uid_ok(url + 12) || !lookup(ib, url + 12, &len, plat, state)) return reject(c, 404, rq->cn, "HEAD: unknown upload");
		if (strcmp(plat, rq->cn) != 0) return reject(c, 403, rq->cn, "upload belongs to another platform");
		snprintf(offs, sizeof offs, "%lld", (long long)(strcmp(state, "committed") == 0 ? len : staged_size(ib, url + 12)));
		snprintf(lens, sizeof lens, "%lld", (long long)len);
		return reply(c, 200, NULL, "Upload-Offset", offs, "Upload-Length", lens);
	}
	if (strcmp(method, "POST") == 0 && strcmp(url, "/v1/uploads") == 0) return do_create(ib, c, rq->cn);
	if (strcmp(method, "OPTIONS") == 0) return reply(c, 204, NULL, "Tus-Version", "1.0.0", "Tus-Max-Size", "");
	if (rq->kind == 2) {
		char id[65];
		const char *tail = url + 15;
		if (strlen(tail) != 64 + 7 || strcmp(tail + 64, "/commit") != 0) return reject(c, 404, rq->cn, "no such endpoint");
		memcpy(id, tail, 64), id[64] = 0;
		if (!sq_cad_hex64_ok(id)) return reject(c, 400, rq->cn, "bad delivery id");
		int status = 500;
		pthread_mutex_lock(&ib->lock);
		char *out = sq_inbox_commit(ib, rq->cn, id, rq->body ? rq->body : "", rq->n, &status);
		pthread_mutex_unlock(&ib->lock);
		enum MHD_Result r = reply(c, status, out ? out : "{\"error\":\"internal\"}", NULL, NULL, NULL, NULL);
		free(out);
		return r;
	}
	if (strcmp(method, "GET") == 0 && strcmp(url, "/v1/deliveries") == 0) {
		pthread_mutex_lock(&ib->lock);
		json_t *l = sq_inbox_list(ib, rq->cn);
		pthread_mutex_unlock(&ib->lock);
		char *s = json_dumps(l, JSON_COMPACT);
		json_decref(l);
		enum MHD_Result r = reply(c, 200, s, NULL, NULL, NULL, NULL);
		free(s);
		return r;
	}
	return reject(c, 404, rq->cn, "%s %s: no such endpoint", method, url);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	sq_inbox_t *ib = cls;
	req_t *rq = *con_cls;
	(void)c;
	if (!rq) return;
	if (rq->fd >= 0) {
		if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
			sq_log_warn("inbox: PATCH of upload %.12s... cut at %lld bytes (kept; the client resumes with HEAD)", rq->uid, (long long)rq->off);
		fdatasync(rq->fd);
		close(rq->fd);
		/* still ours: a commit leaves an upload alone while a PATCH of it holds the busy mark */
		if (rq->stream) stream_trim(rq->stream);
		busy_give(ib, rq->uid);
	}
	free(rq->body);
	free(rq);
	*con_cls = NULL;
}

/* A connection closed without any request: the TLS handshake was refused or aborted.  The
 * socket context is a flag the handler sets when a request arrives. */
static void on_conn(void *cls, struct MHD_Connection *c, void **socket_ctx, enum MHD_ConnectionNotificationCode code)
{
	(void)cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) { *socket_ctx = sq_calloc(1, sizeof(int)); return; }
	int *seen = *socket_ctx;
	if (seen && !*seen) {
		char ip[64];
		sq_log_warn("inbox: REJECTED connection from %s closed without a request: TLS handshake failed or aborted "
		            "(TLS 1.2/1.3, ECDHE+AEAD suites and a certificate from the CAD's CA required)", peer_ip(c, ip, sizeof ip));
	}
	free(seen);
	*socket_ctx = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	sq_log_warn("inbox: tls/http: %s", msg);
}

int sq_inbox_serve(sq_inbox_t *ib)
{
	char *cert = NULL, *key = NULL, *ca = NULL, host[256] = "127.0.0.1";
	int port = 8443, ret = SQ_EINVAL;
	struct sockaddr_in sa;
	struct MHD_Daemon *d = NULL;
	const char *colon = strrchr(ib->o.listen, ':');
	if (colon) {
		snprintf(host, sizeof host, "%.*s", (int)(colon - ib->o.listen), ib->o.listen);
		port = atoi(colon + 1);
	} else port = atoi(ib->o.listen);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { sq_log_error("inbox: --listen wants IPv4:PORT, got '%s'", ib->o.listen); return SQ_EINVAL; }
	if (!(cert = sq_read_file(ib->o.cert, NULL)) || !(key = sq_read_file(ib->o.key, NULL)) || !(ca = sq_read_file(ib->o.ca, NULL))) { ret = SQ_EIO; goto out; }
	signal(SIGINT, on_signal), signal(SIGTERM, on_signal), signal(SIGPIPE, SIG_IGN);
	d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ERROR_LOG,
	                     0, NULL, NULL, handler, ib,
	                     MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	                     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	                     MHD_OPTION_HTTPS_MEM_CERT, cert, MHD_OPTION_HTTPS_MEM_KEY, key, MHD_OPTION_HTTPS_MEM_TRUST, ca,
	                     MHD_OPTION_HTTPS_PRIORITIES, PRIORITIES,
	                     MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(1 << 20),
	                     MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	                     MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	                     MHD_OPTION_NOTIFY_COMPLETED, completed, ib,
	                     MHD_OPTION_NOTIFY_CONNECTION, on_conn, ib,
	                     MHD_OPTION_END);
	if (!d) { sq_log_error("inbox: cannot start HTTPS server on %s (port in use? bad certificate/key?)", ib->o.listen); ret = SQ_EREMOTE; goto out; }
	{
		const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		int bound = di ? di->port : port;
		sq_log_info("inbox: listening on https://%s:%d (state %s)", host, bound, ib->o.dir);
		if (ib->o.port_file) {
			char buf[32];
			snprintf(buf, sizeof buf, "%d\n", bound);
			if (sq_durable_write(ib->o.port_file, buf, strlen(buf)) < 0) { ret = SQ_EOUTPUT; goto out; }
		}
	}
	while (!g_stop) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	sq_log_info("inbox: stopping");
	ret = 0;
out:
	if (d) MHD_stop_daemon(d);
	/* connections are gone: stop the workers of uploads cut by the shutdown and free them */
	for (int i = 0; i < SQ_INBOX_STREAMS; ++i)
		if (ib->streams[i].uid[0]) stream_clear(&ib->streams[i]);
	if (key) { memset(key, 0, strlen(key)); }
	free(cert), free(key), free(ca);
	return ret;
}
