/* seqa — the delivery outbox: a durable queue in SQLite (WAL, synchronous=FULL).
 *
 * Tables (in the same database as the pipeline's job/QC tables, so the QC decision and the
 * queue entry are written in one transaction):
 *   cad_deliveries  one row per delivery id: state queued -> uploading -> delivered | rejected,
 *                   attempts, next_attempt (unix s), last_error, reason, receipt (JSON)
 *   cad_files       the encrypted files of a delivery: path, size, SHA-256, upload URL, done
 *   qc_decisions    sample, delivery, decision, override, time
 * A crash at any point leaves a consistent row: the uploader resumes from its state (an
 * "uploading" row is resumed with HEAD; the inbox de-duplicates commits).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/file.h>
#include <sqlite3.h>
#include "seqa/cad.h"
#include "seqa/hash.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "cad_internal.h"

struct sq_cad_outbox_s {
	sqlite3 *db;
	char *path;
	int in_tx;
	int lock_fd;   /* flock on <db>.push.lock while draining (-1: not held) */
};

static const char *SCHEMA =
	"CREATE TABLE IF NOT EXISTS cad_deliveries("
	" id TEXT PRIMARY KEY, sample TEXT NOT NULL, spool TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK(state IN ('queued','uploading','delivered','rejected')),"
	" attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL DEFAULT 0,"
	" last_error TEXT, reason TEXT, receipt TEXT, created TEXT NOT NULL, updated TEXT NOT NULL, delivered TEXT);"
	"CREATE TABLE IF NOT EXISTS cad_files("
	" delivery TEXT NOT NULL REFERENCES cad_deliveries(id), seq INTEGER NOT NULL, name TEXT NOT NULL,"
	" path TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, upload_url TEXT,"
	" done INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(delivery, name));"
	"CREATE TABLE IF NOT EXISTS qc_decisions("
	" sample TEXT NOT NULL, delivery TEXT, decision TEXT NOT NULL, override TEXT, recorded TEXT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS cad_deliveries_due ON cad_deliveries(state, next_attempt);";

int sq_cad_sql(sq_cad_outbox_t *ob, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(ob->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		sq_log_error("outbox %s: %s (%s)", ob->path, err ? err : "?", sql);
		sqlite3_free(err);
		return SQ_EOUTPUT;
	}
	return 0;
}

sq_cad_outbox_t *sq_cad_outbox_open(const char *path)
{
	sq_cad_outbox_t *ob = sq_calloc(1, sizeof *ob);
	if (!ob) return NULL;
	ob->path = sq_strdup(path);
	ob->lock_fd = -1;
	if (sqlite3_open_v2(path, &ob->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		sq_log_error("cannot open outbox '%s': %s", path, ob->db ? sqlite3_errmsg(ob->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(ob->db, 30000);
	if (sq_cad_sql(ob, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;") < 0) goto fail;
	if (sq_cad_sql(ob, SCHEMA) < 0) goto fail;
	return ob;
fail:
	sq_cad_outbox_close(ob);
	return NULL;
}

int sq_cad_outbox_drain_lock(sq_cad_outbox_t *ob)
{
	char p[4200];
	if (ob->lock_fd >= 0) return 1;
	snprintf(p, sizeof p, "%s.push.lock", ob->path);
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) { sq_log_error("cannot open '%s'", p); return SQ_EOUTPUT; }
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) { close(fd); return 0; }
	ob->lock_fd = fd;
	return 1;
}

void sq_cad_outbox_drain_unlock(sq_cad_outbox_t *ob)
{
	if (ob->lock_fd >= 0) close(ob->lock_fd), ob->lock_fd = -1;
}

void sq_cad_outbox_close(sq_cad_outbox_t *ob)
{
	if (!ob) return;
	sq_cad_outbox_drain_unlock(ob);
	sqlite3_close(ob->db);
	free(ob->path);
	free(ob);
}

sqlite3 *sq_cad_outbox_db(sq_cad_outbox_t *ob) { return ob->db; }

int sq_cad_outbox_begin(sq_cad_outbox_t *ob)
{
	int r = sq_cad_sql(ob, "BEGIN IMMEDIATE");
	if (r == 0) ob->in_tx = 1;
	return r;
}
int sq_cad_outbox_commit(sq_cad_outbox_t *ob)
{
	int r = sq_cad_sql(ob, "COMMIT");
	ob->in_tx = 0;
	return r;
}
int sq_cad_outbox_rollback(sq_cad_outbox_t *ob)
{
	ob->in_tx = 0;
	return sq_cad_sql(ob, "ROLLBACK");
}

/* Prepare + bind text args (NULL -> SQL NULL) from a NULL-sentinel-free list of n strings. */
static sqlite3_stmt *stmt(sq_cad_outbox_t *ob, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(ob->db, sql, -1, &st, NULL) != SQLITE_OK) {
		sq_log_error("outbox: %s (%s)", sqlite3_errmsg(ob->db), sql);
		return NULL;
	}
	return st;
}

static int step_done(sq_cad_outbox_t *ob, sqlite3_stmt *st)
{
	int r = sqlite3_step(st);
	sqlite3_finalize(st);
	if (r != SQLITE_DONE && r != SQLITE_ROW) {
		sq_log_error("outbox: %s", sqlite3_errmsg(ob->db));
		return SQ_EOUTPUT;
	}
	return 0;
}

int sq_cad_outbox_enqueue(sq_cad_outbox_t *ob, const sq_cad_delivery_t *d)
{
	char now[32], hex[65], p[8192];
	int own = !ob->in_tx, ret = SQ_EOUTPUT, seq = 0;
	sqlite3_stmt *st;
	json_t *files = json_object_get(json_object_get(d->manifest, "seqa:delivery"), "files"), *e;
	size_t i;
	sq_cad_utc_now(now);
	if (own && sq_cad_outbox_begin(ob) < 0) return SQ_EOUTPUT;
	/* the QC decision, recorded with the queue entry */
	if (!(st = stmt(ob, "INSERT INTO qc_decisions(sample, delivery, decision, override, recorded) VALUES(?,?,?,?,?)"))) goto fail;
	{
		json_t *ov = json_object_get(d->qc_decision, "override");
		char *ovs = ov && !json_is_null(ov) ? json_dumps(ov, JSON_COMPACT) : NULL;
		sqlite3_bind_text(st, 1, d->sample_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, d->delivery_id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, sq_json_str(d->qc_decision, "decision", "unknown"), -1, SQLITE_TRANSIENT);
		if (ovs) sqlite3_bind_text(st, 4, ovs, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT);
		free(ovs);
	}
	if (step_done(ob, st) < 0) goto fail;
	if (!(st = stmt(ob, "INSERT OR IGNORE INTO cad_deliveries(id, sample, spool, state, created, updated) VALUES(?,?,?,'queued',?,?)"))) goto fail;
	sqlite3_bind_text(st, 1, d->delivery_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, d->sample_id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, d->spool_dir, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT);
	if (step_done(ob, st) < 0) goto fail;
	if (sqlite3_changes(ob->db) == 0) {
		sq_log_info("delivery %.16s... (sample %s) is already in the outbox", d->delivery_id, d->sample_id);
	} else {
		/* data files first, the manifest last */
		for (i = 0; i <= json_array_size(files); ++i) {
			const char *name;
			long long size;
			e = json_array_get(files, i);
			if (e) {
				json_t *enc = json_object_get(e, "encrypted");
				name = sq_json_str(enc, "name", "");
				size = sq_json_int(enc, "size", -1);
				snprintf(hex, sizeof hex, "%s", sq_json_str(enc, "sha256", ""));
				snprintf(p, sizeof p, "%s/%s", d->spool_dir, name);
			} else {
				name = "manifest.json.c4gh";
				snprintf(p, sizeof p, "%s/%s", d->spool_dir, name);
				if (sq_sha256_file(p, hex) < 0) goto fail;
				FILE *fp = fopen(p, "rb");
				if (!fp) goto fail;
				fseeko(fp, 0, SEEK_END), size = ftello(fp), fclose(fp);
			}
			if (!(st = stmt(ob, "INSERT INTO cad_files(delivery, seq, name, path, size, sha256) VALUES(?,?,?,?,?,?)"))) goto fail;
			sqlite3_bind_text(st, 1, d->delivery_id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(st, 2, seq++);
			sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(st, 4, p, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 5, size);
			sqlite3_bind_text(st, 6, hex, -1, SQLITE_TRANSIENT);
			if (step_done(ob, st) < 0) goto fail;
		}
		sq_log_info("queued delivery %.16s... (sample %s, %d files)", d->delivery_id, d->sample_id, seq);
	}
	sq_cad_fault("enqueue", 1);
	if (own && sq_cad_outbox_commit(ob) < 0) goto fail;
	return 0;
fail:
	if (own) sq_cad_outbox_rollback(ob);
	return ret;
}

int sq_cad_outbox_submit_run(sq_cad_outbox_t *ob, const sq_cad_delivery_opt_t *o, const char *spool, char delivery_id[65])
{
	sq_cad_delivery_t d;
	int ret = sq_cad_delivery_prepare(o, spool, &d);
	if (ret < 0) return ret;
	ret = sq_cad_outbox_enqueue(ob, &d);
	if (ret == 0 && delivery_id) memcpy(delivery_id, d.delivery_id, 65);
	sq_cad_delivery_free(&d);
	return ret;
}

static json_t *col_json(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	if (!s) return json_null();
	if (sqlite3_column_type(st, i) == SQLITE_INTEGER) return json_integer(sqlite3_column_int64(st, i));
	if (sqlite3_column_type(st, i) == SQLITE_FLOAT) return json_real(sqlite3_column_double(st, i));
	return json_string(s);
}

static json_t *rows(sq_cad_outbox_t *ob, sqlite3_stmt *st)
{
	json_t *arr = json_array();
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *o = json_object();
		for (int i = 0; i < sqlite3_column_count(st); ++i)
			json_object_set_new(o, sqlite3_column_name(st, i), col_json(st, i));
		json_array_append_new(arr, o);
	}
	if (r != SQLITE_DONE) { sq_log_error("outbox: %s", sqlite3_errmsg(ob->db)); json_decref(arr), arr = NULL; }
	sqlite3_finalize(st);
	return arr;
}

json_t *sq_cad_outbox_list(sq_cad_outbox_t *ob)
{
	sqlite3_stmt *st = stmt(ob, "SELECT id, sample, state, attempts, next_attempt, last_error, reason, created, updated, delivered"
	                            " FROM cad_deliveries ORDER BY created, id");
	return st ? rows(ob, st) : NULL;
}

json_t *sq_cad_outbox_show(sq_cad_outbox_t *ob, const char *id)
{
	sqlite3_stmt *st = stmt(ob, "SELECT id, sample, spool, state, attempts, next_attempt, last_error, reason, created, updated,"
	                            " delivered, receipt FROM cad_deliveries WHERE id LIKE ? || '%' ORDER BY id");
	json_t *arr, *d, *r;
	if (!st) return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	if (!(arr = rows(ob, st)) || json_array_size(arr) != 1) {
		if (arr && json_array_size(arr) > 1) sq_log_error("outbox: id prefix '%s' is ambiguous", id);
		json_decref(arr);
		return NULL;
	}
	d = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	if (json_is_string(json_object_get(d, "receipt")) && (r = json_loads(sq_json_str(d, "receipt", ""), 0, NULL)))
		json_object_set_new(d, "receipt", r);
	if ((st = stmt(ob, "SELECT name, size, sha256, upload_url, done FROM cad_files WHERE delivery = ? ORDER BY seq"))) {
		sqlite3_bind_text(st, 1, sq_json_str(d, "id", ""), -1, SQLITE_TRANSIENT);
		json_object_set_new(d, "files", rows(ob, st));
	}
	return d;
}

int sq_cad_outbox_retry(sq_cad_outbox_t *ob, const char *id)
{
	sqlite3_stmt *st = id ? stmt(ob, "UPDATE cad_deliveries SET state = CASE state WHEN 'rejected' THEN 'queued' ELSE state END,"
	                                 " next_attempt = 0, attempts = 0, reason = NULL, updated = ? WHERE id LIKE ? || '%' AND state != 'delivered'")
	                      : stmt(ob, "UPDATE cad_deliveries SET state = CASE state WHEN 'rejected' THEN 'queued' ELSE state END,"
	                                 " next_attempt = 0, attempts = 0, reason = NULL, updated = ? WHERE state != 'delivered'");
	char now[32];
	if (!st) return SQ_EOUTPUT;
	sq_cad_utc_now(now);
	sqlite3_bind_text(st, 1, now, -1, SQLITE_TRANSIENT);
	if (id) sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	if (step_done(ob, st) < 0) return SQ_EOUTPUT;
	return sqlite3_changes(ob->db);
}
