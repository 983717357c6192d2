/* seqa-inbox — the state folder: uploads index, atomic commits, receipts, recovery. */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <sodium.h>
#include "seqa/cad.h"
#include "seqa/durable.h"
#include "seqa/hash.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "seqa/version.h"
#include "inbox.h"

static const char *SCHEMA =
	"CREATE TABLE IF NOT EXISTS uploads(uid TEXT PRIMARY KEY, delivery TEXT NOT NULL, name TEXT NOT NULL,"
	" length INTEGER NOT NULL, sha256 TEXT NOT NULL, platform TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'open',"
	" created TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS deliveries(id TEXT PRIMARY KEY, platform TEXT NOT NULL, sample TEXT, n_files INTEGER,"
	" bytes INTEGER, committed TEXT NOT NULL, receipt TEXT NOT NULL);";

int sq_inbox_sql(sq_inbox_t *ib, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(ib->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		sq_log_error("inbox db: %s", err ? err : "?");
		sqlite3_free(err);
		return SQ_EOUTPUT;
	}
	return 0;
}

void sq_inbox_uid(const char *delivery, const char *name, char uid[33])
{
	char buf[512], hex[65];
	int n = snprintf(buf, sizeof buf, "upload:%s/%s", delivery, name);
	sq_sha256_buf(buf, (size_t)n, hex);
	memcpy(uid, hex, 32);
	uid[32] = 0;
}

static int is_dots(const char *s) { return s[0] == '.' && (!s[1] || (s[1] == '.' && !s[2])); }

/* Record a committed delivery folder in the index (idempotent). */
static int index_delivery(sq_inbox_t *ib, const char *id)
{
	char p[8192];
	json_t *rc;
	sqlite3_stmt *st;
	int r;
	snprintf(p, sizeof p, "%s/%s/receipt.json", ib->store, id);
	if (!(rc = json_load_file(p, 0, NULL))) { sq_log_error("inbox: %s has no readable receipt", p); return SQ_EINPUT; }
	char *s = json_dumps(rc, JSON_COMPACT);
	json_int_t bytes = 0;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(rc, "files"), i, e) bytes += sq_json_int(e, "size", 0);
	if (sqlite3_prepare_v2(ib->db, "INSERT OR IGNORE INTO deliveries(id, platform, sample, n_files, bytes, committed, receipt)"
	                       " VALUES(?,?,?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK) { free(s); json_decref(rc); return SQ_EOUTPUT; }
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, sq_json_str(rc, "platform_id", ""), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, sq_json_str(rc, "sample_id", ""), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)json_array_size(json_object_get(rc, "files")));
	sqlite3_bind_int64(st, 5, bytes);
	sqlite3_bind_text(st, 6, sq_json_str(rc, "committed", ""), -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, s, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	sqlite3_finalize(st);
	free(s);
	json_decref(rc);
	if (r != SQLITE_DONE) { sq_log_error("inbox db: %s", sqlite3_errmsg(ib->db)); return SQ_EOUTPUT; }
	/* its uploads are done with */
	if (sqlite3_prepare_v2(ib->db, "UPDATE uploads SET state='committed' WHERE delivery=?", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return 0;
}

/* A commit folder left by a crash: move its files back to staging (so the uploads stay
 * complete), then remove it. */
static void undo_commit_dir(sq_inbox_t *ib, const char *dname)
{
	char dir[8192], id[65];
	DIR *dp;
	struct dirent *de;
	if (sscanf(dname, "commit-%64[0-9a-f].tmp", id) != 1) return;
	snprintf(dir, sizeof dir, "%s/%s", ib->staging, dname);
	if ((dp = opendir(dir))) {
		while ((de = readdir(dp))) {
			char from[8500], to[8500], uid[33];
			size_t n = strlen(de->d_name);
			if (is_dots(de->d_name)) continue;
			snprintf(from, sizeof from, "%s/%s", dir, de->d_name);
			if (n > 5 && strcmp(de->d_name + n - 5, ".c4gh") == 0 && sq_cad_name_ok(de->d_name)) {
				sq_inbox_uid(id, de->d_name, uid);
				snprintf(to, sizeof to, "%s/%s.part", ib->staging, uid);
				if (rename(from, to) == 0) continue;
			}
			unlink(from);
		}
		closedir(dp);
	}
	rmdir(dir);
	sq_fsync_dir(ib->staging);
	sq_log_warn("inbox: rolled back the interrupted commit of %.16s... (its uploads are kept)", id);
}

int sq_inbox_open(sq_inbox_t *ib, const sq_inbox_opt_t *o, int recover)
{
	char p[8192];
	DIR *dp;
	struct dirent *de;
	memset(ib, 0, sizeof *ib);
	ib->o = *o;
	pthread_mutex_init(&ib->lock, NULL);
	if (snprintf(ib->staging, sizeof ib->staging, "%s/staging", o->dir) >= (int)sizeof ib->staging) return SQ_EINVAL;
	snprintf(ib->store, sizeof ib->store, "%s/store", o->dir);
	if (sq_mkdir_p(ib->staging, 0700) < 0 || sq_mkdir_p(ib->store, 0700) < 0) return SQ_EOUTPUT;
	snprintf(p, sizeof p, "%s/inbox.db", o->dir);
	if (sqlite3_open_v2(p, &ib->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		sq_log_error("inbox: cannot open %s", p);
		return SQ_EOUTPUT;
	}
	sqlite3_busy_timeout(ib->db, 30000);
	if (sq_inbox_sql(ib, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;") < 0 || sq_inbox_sql(ib, SCHEMA) < 0) return SQ_EOUTPUT;
	if (!recover) return 0;
	/* recovery: interrupted commits back to staging; committed folders into the index */
	if ((dp = opendir(ib->staging))) {
		while ((de = readdir(dp)))
			if (strncmp(de->d_name, "commit-", 7) == 0) undo_commit_dir(ib, de->d_name);
		closedir(dp);
	}
	/* abandoned uploads: open for longer than the TTL, or staging files without a row */
	{
		char cutoff[32];
		time_t t = time(NULL) - (time_t)(ib->o.staging_ttl_days * 86400);
		struct tm tm;
		sqlite3_stmt *st;
		int n_old = 0;
		gmtime_r(&t, &tm);
		strftime(cutoff, sizeof cutoff, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (sqlite3_prepare_v2(ib->db, "SELECT uid FROM uploads WHERE state='open' AND created <= ?", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_TRANSIENT);
			while (sqlite3_step(st) == SQLITE_ROW) {
				snprintf(p, sizeof p, "%s/%s.part", ib->staging, (const char *)sqlite3_column_text(st, 0));
				unlink(p);
				++n_old;
			}
			sqlite3_finalize(st);
		}
		if (n_old && sqlite3_prepare_v2(ib->db, "DELETE FROM uploads WHERE state='open' AND created <= ?", -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_text(st, 1, cutoff, -1, SQLITE_TRANSIENT);
			sqlite3_step(st);
			sqlite3_finalize(st);
			sq_log_warn("inbox: removed %d upload(s) left uncommitted for more than %.3g day(s)", n_old, ib->o.staging_ttl_days);
		}
		if ((dp = opendir(ib->staging))) {
			while ((de = readdir(dp))) {
				char uid[33];
				int known = 0;
				size_t n = strlen(de->d_name);
				if (n != 37 || strcmp(de->d_name + 32, ".part") != 0) continue;
				memcpy(uid, de->d_name, 32), uid[32] = 0;
				if (sqlite3_prepare_v2(ib->db, "SELECT 1 FROM uploads WHERE uid=?", -1, &st, NULL) == SQLITE_OK) {
					sqlite3_bind_text(st, 1, uid, -1, SQLITE_TRANSIENT);
					known = sqlite3_step(st) == SQLITE_ROW;
					sqlite3_finalize(st);
				}
				if (!known) { snprintf(p, sizeof p, "%s/%s", ib->staging, de->d_name); unlink(p); }
			}
			closedir(dp);
		}
	}
	if ((dp = opendir(ib->store))) {
		while ((de = readdir(dp))) {
			sqlite3_stmt *st;
			int known = 0;
			if (!sq_cad_hex64_ok(de->d_name)) continue;
			if (sqlite3_prepare_v2(ib->db, "SELECT 1 FROM deliveries WHERE id=?", -1, &st, NULL) == SQLITE_OK) {
				sqlite3_bind_text(st, 1, de->d_name, -1, SQLITE_TRANSIENT);
				known = sqlite3_step(st) == SQLITE_ROW;
				sqlite3_finalize(st);
			}
			if (!known) {
				sq_log_warn("inbox: indexing delivery %.16s... committed before a crash", de->d_name);
				index_delivery(ib, de->d_name);
			}
		}
		closedir(dp);
	}
	return 0;
}

void sq_inbox_close(sq_inbox_t *ib)
{
	if (ib->db) sqlite3_close(ib->db);
	sodium_memzero(ib->c4gh_sk, sizeof ib->c4gh_sk);
	sodium_memzero(ib->receipt_sk, sizeof ib->receipt_sk);
	pthread_mutex_destroy(&ib->lock);
}

json_t *sq_inbox_list(sq_inbox_t *ib, const char *platform)
{
	sqlite3_stmt *st;
	json_t *arr = json_array();
	const char *sql = platform ? "SELECT id, platform, sample, n_files, bytes, committed FROM deliveries WHERE platform=? ORDER BY committed, id"
	                           : "SELECT id, platform, sample, n_files, bytes, committed FROM deliveries ORDER BY committed, id";
	if (sqlite3_prepare_v2(ib->db, sql, -1, &st, NULL) != SQLITE_OK) return arr;
	if (platform) sqlite3_bind_text(st, 1, platform, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:I, s:I, s:s}", "delivery_id", sqlite3_column_text(st, 0),
		                                     "platform_id", sqlite3_column_text(st, 1), "sample_id", sqlite3_column_text(st, 2),
		                                     "files", (json_int_t)sqlite3_column_int64(st, 3), "bytes", (json_int_t)sqlite3_column_int64(st, 4),
		                                     "committed", sqlite3_column_text(st, 5)));
	sqlite3_finalize(st);
	return arr;
}

/* ---- commit ------------------------------------------------------------------------------------ */

typedef struct { char uid[33], name[160], sha[65], plain[65]; int64_t length; int have_stream, c4gh_ok; } up_t;

static char *err_body(int *status, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static char *err_body(int *status, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	*status = code;
	json_t *j = json_pack("{s:s}", "error", msg);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

static char *read_receipt(sq_inbox_t *ib, const char *id)
{
	char p[8192];
	snprintf(p, sizeof p, "%s/%s/receipt.json", ib->store, id);
	return sq_file_readable(p) ? sq_read_file(p, NULL) : NULL;
}

/* Remove an upload whose bytes cannot be right, so the client sends it again from 0. */
static void drop_upload(sq_inbox_t *ib, const up_t *u)
{
	char p[8192];
	snprintf(p, sizeof p, "%s/%s.part", ib->staging, u->uid);
	unlink(p);
}

static void rm_dir_flat(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	if (dp) {
		while ((de = readdir(dp))) {
			char p[8500];
			if (is_dots(de->d_name)) continue;
			snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
			unlink(p);
		}
		closedir(dp);
	}
	rmdir(dir);
}

char *sq_inbox_commit(sq_inbox_t *ib, const char *platform, const char *id, const char *body, size_t len, int *status)
{
	json_t *req = NULL, *m = NULL, *rc = NULL, *files, *e, *rfiles = NULL;
	json_error_t je;
	up_t *ups = NULL;
	int n = 0, cap = 0, mi = -1;
	char *out = NULL, p[8500], q[8500], tmp[8192], fin[8192], hex[65], cid[65], now[32];
	sqlite3_stmt *st;
	size_t i;
	uint8_t ppk[32];

	if ((out = read_receipt(ib, id))) {   /* de-duplication by delivery id */
		sq_log_info("inbox: delivery %.16s... already committed: returning its receipt (nothing new stored)", id);
		*status = 200;
		return out;
	}
	if (!(req = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je)) || !json_is_object(req)) {
		out = err_body(status, 400, "commit body is not a JSON object");
		goto done;
	}
	if (strcmp(sq_json_str(req, "delivery_id", ""), id) != 0) { out = err_body(status, 400, "commit body names another delivery"); goto done; }
	/* the uploads of this delivery */
	if (sqlite3_prepare_v2(ib->db, "SELECT uid, name, length, sha256, platform FROM uploads WHERE delivery=? ORDER BY name", -1, &st, NULL) != SQLITE_OK) {
		out = err_body(status, 500, "database error");
		goto done;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) { up_t *t = realloc(ups, (cap = cap ? 2 * cap : 8) * sizeof *ups); if (!t) break; ups = t; }
		snprintf(ups[n].uid, 33, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(ups[n].name, 160, "%s", (const char *)sqlite3_column_text(st, 1));
		ups[n].length = sqlite3_column_int64(st, 2);
		snprintf(ups[n].sha, 65, "%s", (const char *)sqlite3_column_text(st, 3));
		if (strcmp((const char *)sqlite3_column_text(st, 4), platform) != 0) { sqlite3_finalize(st); out = err_body(status, 403, "delivery belongs to another platform"); goto done; }
		if (strcmp(ups[n].name, "manifest.json.c4gh") == 0) mi = n;
		++n;
	}
	sqlite3_finalize(st);
	if (mi < 0) { out = err_body(status, 409, "no manifest.json.c4gh uploaded for this delivery"); goto done; }
	/* 1. complete uploads, none still being written (a PATCH holds its busy mark: its bytes and
	 *    streaming state are still changing) ... */
	for (int k = 0; k < n; ++k) {
		struct stat sb;
		snprintf(p, sizeof p, "%s/%s.part", ib->staging, ups[k].uid);
		if (sq_inbox_busy(ib, ups[k].uid)) {
			out = err_body(status, 409, "upload %s has a PATCH in progress: commit when it has ended", ups[k].name);
			goto done;
		}
		if (stat(p, &sb) != 0 || sb.st_size != ups[k].length) {
			out = err_body(status, 409, "upload %s is incomplete (%lld of %lld bytes)", ups[k].name,
			               (long long)(stat(p, &sb) == 0 ? sb.st_size : 0), (long long)ups[k].length);
			goto done;
		}
	}
	/* ... whose SHA-256 is the declared one (hashed while streaming in, or now) */
	for (int k = 0; k < n; ++k) {
		snprintf(p, sizeof p, "%s/%s.part", ib->staging, ups[k].uid);
		ups[k].have_stream = sq_inbox_stream_take(ib, ups[k].uid, ups[k].length, hex, ups[k].plain, &ups[k].c4gh_ok);
		if ((!ups[k].have_stream && sq_sha256_file(p, hex) < 0) || strcmp(hex, ups[k].sha) != 0) {
			drop_upload(ib, &ups[k]);
			out = err_body(status, 422, "upload %s: SHA-256 mismatch (corrupted or tampered in transit); discarded", ups[k].name);
			goto done;
		}
	}
	/* 2. the manifest: Crypt4GH for the CAD key, signed by this platform's key, id = content */
	snprintf(p, sizeof p, "%s/%s.part", ib->staging, ups[mi].uid);
	if (!(m = sq_cad_c4gh_load_json(p, ib->c4gh_sk))) { drop_upload(ib, &ups[mi]); out = err_body(status, 422, "manifest is not a Crypt4GH-encrypted JSON file for the CAD key"); goto done; }
	snprintf(q, sizeof q, "%s/%s.pub", ib->o.platform_keys, platform);
	if (sq_cad_sign_load_pk(q, ppk) < 0) { out = err_body(status, 403, "no public key known for platform %s", platform); goto done; }
	if (sq_cad_verify_json(m, "seqa:signature", (const uint8_t (*)[32])ppk, 1, NULL) < 0) {
		drop_upload(ib, &ups[mi]);
		out = err_body(status, 422, "manifest signature invalid for platform %s (tampered manifest?)", platform);
		goto done;
	}
	if (strcmp(sq_json_str(json_object_get(m, "seqa:delivery"), "platform_id", ""), platform) != 0) {
		out = err_body(status, 403, "manifest platform_id differs from the client certificate (%s)", platform);
		goto done;
	}
	if (sq_cad_manifest_check_id(m, cid) < 0 || strcmp(cid, id) != 0) { out = err_body(status, 422, "manifest delivery id does not match its content or the URL"); goto done; }
	/* 3. every file of the manifest is uploaded, intact, and decrypts to the manifest's plaintext hash */
	files = json_object_get(json_object_get(m, "seqa:delivery"), "files");
	if (!json_is_array(files) || json_array_size(files) + 1 != (size_t)n) {
		out = err_body(status, 422, "uploads (%d) do not match the manifest's files (%zu) + manifest", n, json_array_size(files));
		goto done;
	}
	rfiles = json_array();
	json_array_foreach(files, i, e) {
		json_t *enc = json_object_get(e, "encrypted");
		const char *en = sq_json_str(enc, "name", "");
		int k;
		for (k = 0; k < n && strcmp(ups[k].name, en) != 0; ++k) {}
		if (k == n || k == mi) { out = err_body(status, 422, "manifest file %.160s was not uploaded", en); goto done; }
		if (strcmp(ups[k].sha, sq_json_str(enc, "sha256", "")) != 0 || ups[k].length != sq_json_int(enc, "size", -1)) {
			out = err_body(status, 422, "upload %s differs from the manifest (size/SHA-256)", en);
			goto done;
		}
		if (ups[k].have_stream) {
			if (!ups[k].c4gh_ok) { drop_upload(ib, &ups[k]); out = err_body(status, 422, "upload %s is not a valid Crypt4GH file for the CAD key", en); goto done; }
			if (strcmp(ups[k].plain, sq_json_str(e, "sha256", "")) != 0) { out = err_body(status, 422, "upload %s decrypts to other content than the manifest says", en); goto done; }
		} else if (ib->o.verify_plaintext) {
			snprintf(p, sizeof p, "%s/%s.part", ib->staging, ups[k].uid);
			if (sq_cad_c4gh_decrypt_file(p, NULL, ib->c4gh_sk, hex) < 0) { drop_upload(ib, &ups[k]); out = err_body(status, 422, "upload %s is not a valid Crypt4GH file for the CAD key", en); goto done; }
			if (strcmp(hex, sq_json_str(e, "sha256", "")) != 0) { out = err_body(status, 422, "upload %s decrypts to other content than the manifest says", en); goto done; }
		}
	}
	for (int k = 0; k < n; ++k)
		json_array_append_new(rfiles, json_pack("{s:s, s:I, s:s}", "name", ups[k].name, "size", (json_int_t)ups[k].length, "sha256", ups[k].sha));
	sq_cad_fault("inbox-verified", 0);
	/* 4. assemble the delivery folder, then one rename commits it */
	sq_cad_utc_now(now);
	rc = json_pack("{s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:s}", "delivery_id", id, "status", "committed", "platform_id", platform,
	               "sample_id", sq_json_str(json_object_get(m, "seqa:delivery"), "sample_id", ""), "files", rfiles,
	               "committed", now, "inbox", "seqa-inbox", "inbox_version", sq_version());
	if (!rc || sq_cad_sign_json(rc, "receipt:signature", ib->receipt_sk) < 0) { out = err_body(status, 500, "cannot sign the receipt"); goto done; }
	snprintf(tmp, sizeof tmp, "%s/commit-%s.tmp", ib->staging, id);
	snprintf(fin, sizeof fin, "%s/%s", ib->store, id);
	rm_dir_flat(tmp);
	if (mkdir(tmp, 0700) != 0) { out = err_body(status, 500, "cannot create the commit folder"); goto done; }
	snprintf(p, sizeof p, "%s/manifest.json", tmp);
	if (sq_json_save(m, p) < 0) goto io_fail;
	snprintf(p, sizeof p, "%s/receipt.json", tmp);
	if (sq_json_save(rc, p) < 0) goto io_fail;
	for (int k = 0; k < n; ++k) {
		char from[8500], to[8500];
		snprintf(from, sizeof from, "%s/%s.part", ib->staging, ups[k].uid);
		snprintf(to, sizeof to, "%s/%s", tmp, ups[k].name);   /* name checked at upload creation */
		if (rename(from, to) != 0) goto io_fail;
	}
	if (sq_fsync_dir(p) < 0 || sq_fsync_dir(tmp) < 0) goto io_fail;
	sq_cad_fault("inbox-staged", 0);
	if (rename(tmp, fin) != 0) goto io_fail;
	if (sq_fsync_dir(fin) < 0) goto io_fail;
	sq_cad_fault("inbox-renamed", 0);
	index_delivery(ib, id);
	sq_log_info("inbox: COMMITTED delivery %.16s... from %s (sample %s, %d files)", id, platform,
	            sq_json_str(rc, "sample_id", ""), n);
	*status = 201;
	out = json_dumps(rc, JSON_COMPACT);
	goto done;
io_fail:
	sq_log_error("inbox: commit of %.16s... failed on the filesystem: %s", id, strerror(errno));
	undo_commit_dir(ib, tmp + strlen(ib->staging) + 1);
	out = err_body(status, 500, "storage failure");
done:
	if (*status >= 400) sq_log_warn("inbox: REJECTED commit of %.16s... from %s: HTTP %d %s", id, platform, *status, out ? out : "");
	json_decref(req), json_decref(m), json_decref(rc), json_decref(rfiles);
	free(ups);
	return out;
}
