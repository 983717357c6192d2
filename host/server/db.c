/* seqa serve — the job database (SQLite, WAL); see seqa/server.h and server_internal.h.
 *
 * One connection guarded by one mutex: the daemon's writes are small and few (a job changes
 * state a handful of times), so serialising them costs nothing and keeps transactions simple.
 * synchronous=FULL: a state change reported to a client survives a power cut.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>
#include "seqa/log.h"
#include "seqa/util.h"
#include "server_internal.h"

struct sq_srv_db_s {
	sqlite3 *h;
	pthread_mutex_t lock;
};

static const char *sq_srv_schema =
	"CREATE TABLE IF NOT EXISTS batches("
	"  id TEXT PRIMARY KEY, key TEXT UNIQUE NOT NULL, client TEXT NOT NULL, source TEXT,"
	"  reference TEXT, created REAL NOT NULL, doc TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS jobs("
	"  id INTEGER PRIMARY KEY, batch_id TEXT NOT NULL REFERENCES batches(id), sample TEXT NOT NULL,"
	"  spec TEXT NOT NULL, outdir TEXT NOT NULL, state TEXT NOT NULL, stage TEXT,"
	"  progress REAL NOT NULL DEFAULT 0, device TEXT, pid INTEGER, attempts INTEGER NOT NULL DEFAULT 0,"
	"  exit_code INTEGER, error TEXT, qc TEXT, created REAL NOT NULL, started REAL, finished REAL,"
	"  updated REAL, UNIQUE(batch_id, sample));"
	"CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);"
	"CREATE TABLE IF NOT EXISTS stage_times(job_id INTEGER NOT NULL, stage TEXT NOT NULL,"
	"  wall_s REAL NOT NULL, PRIMARY KEY(job_id, stage));"
	"CREATE TABLE IF NOT EXISTS runs(path TEXT PRIMARY KEY, run_id TEXT, batch_id TEXT,"
	"  status TEXT NOT NULL, seen REAL NOT NULL);";

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int db_exec(sq_srv_db_t *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db->h, sql, 0, 0, &msg) != SQLITE_OK) {
		sq_log_error("sqlite: %s (%.60s)", msg ? msg : "?", sql);
		sqlite3_free(msg);
		return SQ_EIO;
	}
	return 0;
}

static sqlite3_stmt *prep(sq_srv_db_t *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK) {
		sq_log_error("sqlite prepare: %s (%.80s)", sqlite3_errmsg(db->h), sql);
		return NULL;
	}
	return st;
}

sq_srv_db_t *sq_srv_db_open(const char *path)
{
	sq_srv_db_t *db = sq_calloc(1, sizeof *db);
	if (!db) return NULL;
	pthread_mutex_init(&db->lock, NULL);
	if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
		sq_log_error("cannot open job database '%s': %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db->h, 10000);
	if (db_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;") < 0) goto fail;
	if (db_exec(db, sq_srv_schema) < 0) goto fail;
	return db;
fail:
	sq_srv_db_close(db);
	return NULL;
}

void sq_srv_db_close(sq_srv_db_t *db)
{
	if (!db) return;
	if (db->h) sqlite3_close(db->h);
	pthread_mutex_destroy(&db->lock);
	free(db);
}

/* ---- rows to JSON ----------------------------------------------------------------------- */

static json_t *col_json(sqlite3_stmt *st, int i)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER: return json_integer(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT: return json_real(sqlite3_column_double(st, i));
	case SQLITE_TEXT: return json_string((const char *)sqlite3_column_text(st, i));
	default: return json_null();
	}
}

#define JOB_COLS "j.id, j.batch_id, j.sample, j.state, j.stage, j.progress, j.device, j.attempts," \
	" j.exit_code, j.error, j.qc, j.created, j.started, j.finished, j.updated, j.outdir, j.spec, b.client"

static json_t *job_row(sq_srv_db_t *db, sqlite3_stmt *st)
{
	static const char *names[] = { "id", "batch", "sample", "state", "stage", "progress", "device",
		"attempts", "exit_code", "error", "qc", "created", "started", "finished", "updated", "outdir" };
	json_t *o = json_object();
	long long id = sqlite3_column_int64(st, 0);
	for (int i = 0; i < 16; ++i) json_object_set_new(o, names[i], col_json(st, i));
	json_t *spec = json_loads((const char *)sqlite3_column_text(st, 16), 0, NULL);
	json_object_set_new(o, "spec", spec ? spec : json_object());
	json_object_set_new(o, "client", col_json(st, 17));
	/* stage timings */
	sqlite3_stmt *t = prep(db, "SELECT stage, wall_s FROM stage_times WHERE job_id=? ORDER BY rowid");
	json_t *times = json_object();
	if (t) {
		sqlite3_bind_int64(t, 1, id);
		while (sqlite3_step(t) == SQLITE_ROW)
			json_object_set_new(times, (const char *)sqlite3_column_text(t, 0), json_real(sqlite3_column_double(t, 1)));
		sqlite3_finalize(t);
	}
	json_object_set_new(o, "stage_times", times);
	/* elapsed */
	if (sqlite3_column_type(st, 12) == SQLITE_FLOAT) {
		double end = sqlite3_column_type(st, 13) == SQLITE_FLOAT ? sqlite3_column_double(st, 13) : now_s();
		json_object_set_new(o, "elapsed_s", json_real(end - sqlite3_column_double(st, 12)));
	}
	return o;
}

json_t *sq_srv_db_job(sq_srv_db_t *db, long long id)
{
	json_t *o = NULL;
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT " JOB_COLS " FROM jobs j JOIN batches b ON b.id=j.batch_id WHERE j.id=?");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW) o = job_row(db, st);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	return o;
}

json_t *sq_srv_db_jobs(sq_srv_db_t *db, const char *state, const char *batch, const char *client, int limit)
{
	json_t *a = json_array();
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT " JOB_COLS " FROM jobs j JOIN batches b ON b.id=j.batch_id"
	                            " WHERE (?1 IS NULL OR j.state=?1) AND (?2 IS NULL OR j.batch_id=?2)"
	                            " AND (?3 IS NULL OR b.client=?3) ORDER BY j.id DESC LIMIT ?4");
	if (st) {
		if (state) sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
		if (batch) sqlite3_bind_text(st, 2, batch, -1, SQLITE_TRANSIENT);
		if (client) sqlite3_bind_text(st, 3, client, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 4, limit > 0 ? limit : 1000);
		while (sqlite3_step(st) == SQLITE_ROW) json_array_append_new(a, job_row(db, st));
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	return a;
}

static json_t *batch_row(sqlite3_stmt *st)
{
	json_t *o = json_object();
	static const char *names[] = { "id", "key", "client", "source", "reference", "created" };
	for (int i = 0; i < 6; ++i) json_object_set_new(o, names[i], col_json(st, i));
	json_object_set_new(o, "n_jobs", col_json(st, 6));
	json_object_set_new(o, "n_finished", col_json(st, 7));
	return o;
}

#define BATCH_SQL "SELECT b.id, b.key, b.client, b.source, b.reference, b.created," \
	" (SELECT count(*) FROM jobs WHERE batch_id=b.id)," \
	" (SELECT count(*) FROM jobs WHERE batch_id=b.id AND state IN ('done','held','failed','cancelled'))" \
	" FROM batches b"

json_t *sq_srv_db_batch(sq_srv_db_t *db, const char *id)
{
	json_t *o = NULL;
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, BATCH_SQL " WHERE b.id=?");
	if (st) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		if (sqlite3_step(st) == SQLITE_ROW) o = batch_row(st);
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	if (o) json_object_set_new(o, "jobs", sq_srv_db_jobs(db, NULL, id, NULL, 100000));
	return o;
}

json_t *sq_srv_db_batches(sq_srv_db_t *db, const char *client, int limit)
{
	json_t *a = json_array();
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, BATCH_SQL " WHERE (?1 IS NULL OR b.client=?1) ORDER BY b.created DESC LIMIT ?2");
	if (st) {
		if (client) sqlite3_bind_text(st, 1, client, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(st, 2, limit > 0 ? limit : 1000);
		while (sqlite3_step(st) == SQLITE_ROW) json_array_append_new(a, batch_row(st));
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	return a;
}

json_t *sq_srv_db_runs(sq_srv_db_t *db)
{
	json_t *a = json_array();
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT path, run_id, batch_id, status, seen FROM runs ORDER BY seen DESC");
	if (st) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			json_t *o = json_object();
			static const char *names[] = { "path", "run_id", "batch", "status", "seen" };
			for (int i = 0; i < 5; ++i) json_object_set_new(o, names[i], col_json(st, i));
			json_array_append_new(a, o);
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	return a;
}

json_t *sq_srv_db_counts(sq_srv_db_t *db)
{
	static const char *states[] = { "queued", "running", "cancelling", "done", "held", "failed", "cancelled", 0 };
	json_t *o = json_object();
	for (int i = 0; states[i]; ++i) json_object_set_new(o, states[i], json_integer(0));
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT state, count(*) FROM jobs GROUP BY state");
	if (st) {
		while (sqlite3_step(st) == SQLITE_ROW)
			json_object_set_new(o, (const char *)sqlite3_column_text(st, 0), json_integer(sqlite3_column_int64(st, 1)));
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	return o;
}

json_t *sq_srv_db_stage_stats(sq_srv_db_t *db)
{
	json_t *a = json_array();
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT stage, count(*), sum(wall_s) FROM stage_times GROUP BY stage ORDER BY stage");
	if (st) {
		while (sqlite3_step(st) == SQLITE_ROW)
			json_array_append_new(a, json_pack("{s:s, s:I, s:f}", "stage", (const char *)sqlite3_column_text(st, 0),
			                                   "count", (json_int_t)sqlite3_column_int64(st, 1),
			                                   "sum", sqlite3_column_double(st, 2)));
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	return a;
}

/* ---- submission ------------------------------------------------------------------------- */

char *sq_srv_db_submit(sq_srv_db_t *db, const json_t *batch, const char *client, const char *data_dir,
                       const char *run_folder, int *created)
{
	const char *key = sq_srv_jstr(batch, "key");
	char id[20], *ret = NULL, *doc = NULL;
	sqlite3_stmt *st = NULL;
	int in_tx = 0;
	*created = 0;
	if (!key || strlen(key) < 16) { sq_log_error("batch without a content key"); return NULL; }
	snprintf(id, sizeof id, "b%.16s", key);
	pthread_mutex_lock(&db->lock);
	if (db_exec(db, "BEGIN IMMEDIATE") < 0) goto fail;
	in_tx = 1;
	/* same content already submitted: return it (idempotent) */
	if (!(st = prep(db, "SELECT id FROM batches WHERE key=?"))) goto fail;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		ret = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st), st = NULL;
		if (run_folder) {
			sqlite3_stmt *r = prep(db, "INSERT OR IGNORE INTO runs(path, run_id, batch_id, status, seen) VALUES(?,?,?,'submitted',?)");
			if (r) {
				sqlite3_bind_text(r, 1, run_folder, -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(r, 2, sq_srv_jstr(json_object_get(batch, "run"), "run_id"), -1, SQLITE_TRANSIENT);
				sqlite3_bind_text(r, 3, ret, -1, SQLITE_TRANSIENT);
				sqlite3_bind_double(r, 4, now_s());
				sqlite3_step(r);
				sqlite3_finalize(r);
			}
		}
		db_exec(db, "COMMIT");
		pthread_mutex_unlock(&db->lock);
		return ret;
	}
	sqlite3_finalize(st), st = NULL;
	doc = json_dumps(batch, JSON_COMPACT | JSON_SORT_KEYS);
	if (!doc) goto fail;
	if (!(st = prep(db, "INSERT INTO batches(id, key, client, source, reference, created, doc) VALUES(?,?,?,?,?,?,?)"))) goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, client, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, run_folder ? run_folder : "api", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, sq_srv_jstr(batch, "reference"), -1, SQLITE_TRANSIENT);
	sqlite3_bind_double(st, 6, now_s());
	sqlite3_bind_text(st, 7, doc, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE) { sq_log_error("sqlite: %s", sqlite3_errmsg(db->h)); goto fail; }
	sqlite3_finalize(st), st = NULL;
	if (!(st = prep(db, "INSERT INTO jobs(batch_id, sample, spec, outdir, state, created, updated) VALUES(?,?,?,?, 'queued', ?, ?)"))) goto fail;
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(batch, "samples"), i, s) {
		char outdir[4096];
		json_t *spec = json_deep_copy(s);
		json_object_set(spec, "reference", json_object_get(batch, "reference"));
		char *spec_s = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(spec);
		snprintf(outdir, sizeof outdir, "%s/batches/%s/%s", data_dir, id, sq_srv_jstr(s, "id"));
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, sq_srv_jstr(s, "id"), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, spec_s ? spec_s : "{}", -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, outdir, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 5, now_s());
		sqlite3_bind_double(st, 6, now_s());
		int rc = sqlite3_step(st);
		free(spec_s);
		if (rc != SQLITE_DONE) { sq_log_error("sqlite: %s", sqlite3_errmsg(db->h)); goto fail; }
	}
	sqlite3_finalize(st), st = NULL;
	if (run_folder) {
		if (!(st = prep(db, "INSERT OR REPLACE INTO runs(path, run_id, batch_id, status, seen) VALUES(?,?,?,'submitted',?)"))) goto fail;
		sqlite3_bind_text(st, 1, run_folder, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, sq_srv_jstr(json_object_get(batch, "run"), "run_id"), -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 3, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_double(st, 4, now_s());
		if (sqlite3_step(st) != SQLITE_DONE) goto fail;
		sqlite3_finalize(st), st = NULL;
	}
	if (db_exec(db, "COMMIT") < 0) goto fail;
	in_tx = 0;
	pthread_mutex_unlock(&db->lock);
	free(doc);
	*created = 1;
	return strdup(id);
fail:
	if (st) sqlite3_finalize(st);
	if (in_tx) db_exec(db, "ROLLBACK");
	pthread_mutex_unlock(&db->lock);
	free(doc);
	free(ret);
	return NULL;
}

/* ---- small updates ---------------------------------------------------------------------- */

/* Run one statement with up to 4 text/int/real bindings given as a format ("t", "i", "r", "n"
 * for NULL).  Returns sqlite3_changes or < -1. */
static int db_run(sq_srv_db_t *db, const char *sql, const char *fmt, ...)
{
	va_list ap;
	int ret;
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, sql);
	if (!st) { pthread_mutex_unlock(&db->lock); return SQ_EIO; }
	va_start(ap, fmt);
	for (int i = 0; fmt[i]; ++i) {
		if (fmt[i] == 't') { const char *s = va_arg(ap, const char *); if (s) sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT); }
		else if (fmt[i] == 'i') sqlite3_bind_int64(st, i + 1, va_arg(ap, long long));
		else if (fmt[i] == 'r') sqlite3_bind_double(st, i + 1, va_arg(ap, double));
	}
	va_end(ap);
	ret = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(db->h) : SQ_EIO;
	if (ret < 0) sq_log_error("sqlite: %s", sqlite3_errmsg(db->h));
	sqlite3_finalize(st);
	pthread_mutex_unlock(&db->lock);
	return ret;
}

int sq_srv_db_cancel(sq_srv_db_t *db, long long id)
{
	int r = db_run(db, "UPDATE jobs SET state='cancelled', finished=?2, updated=?2 WHERE id=?1 AND state='queued'", "ir", id, now_s());
	if (r > 0) return 0;
	r = db_run(db, "UPDATE jobs SET state='cancelling', updated=?2 WHERE id=?1 AND state='running'", "ir", id, now_s());
	if (r > 0) return 0;
	char *s = sq_srv_db_state(db, id);
	r = !s ? SQ_EOF : strcmp(s, "cancelling") == 0 ? 0 : SQ_EINVAL;
	free(s);
	return r;
}

int sq_srv_db_retry(sq_srv_db_t *db, long long id)
{
	int r = db_run(db, "UPDATE jobs SET state='queued', error=NULL, exit_code=NULL, finished=NULL, updated=?2"
	                   " WHERE id=?1 AND state IN ('failed','cancelled','held')", "ir", id, now_s());
	if (r > 0) return 0;
	char *s = sq_srv_db_state(db, id);
	r = s ? SQ_EINVAL : SQ_EOF;
	free(s);
	return r;
}

int sq_srv_db_override(sq_srv_db_t *db, long long id, const char *who, const char *reason)
{
	int r = db_run(db, "UPDATE jobs SET spec=json_set(spec, '$.override_by', ?2, '$.override_reason', ?3), state='queued',"
	                   " error=NULL, exit_code=NULL, finished=NULL, updated=?4 WHERE id=?1 AND state='held'",
	               "ittr", id, who, reason, now_s());
	if (r > 0) return 0;
	char *s = sq_srv_db_state(db, id);
	r = s ? SQ_EINVAL : SQ_EOF;
	free(s);
	return r;
}

char *sq_srv_db_state(sq_srv_db_t *db, long long id)
{
	char *r = NULL;
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT state FROM jobs WHERE id=?");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW) r = strdup((const char *)sqlite3_column_text(st, 0));
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	return r;
}

char *sq_srv_db_job_outdir(sq_srv_db_t *db, long long id, char **client)
{
	char *r = NULL;
	if (client) *client = NULL;
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT j.outdir, b.client FROM jobs j JOIN batches b ON b.id=j.batch_id WHERE j.id=?");
	if (st) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW) {
			r = strdup((const char *)sqlite3_column_text(st, 0));
			if (client) *client = strdup((const char *)sqlite3_column_text(st, 1));
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	return r;
}

int sq_srv_db_run_seen(sq_srv_db_t *db, const char *path)
{
	int seen = 0;
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT 1 FROM runs WHERE path=?");
	if (st) {
		sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
		seen = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	return seen;
}

int sq_srv_db_run_record(sq_srv_db_t *db, const char *path, const char *run_id, const char *batch_id, const char *status)
{
	int r = db_run(db, "INSERT OR IGNORE INTO runs(path, run_id, batch_id, status, seen) VALUES(?,?,?,?,?)",
	               "ttttr", path, run_id, batch_id, status, now_s());
	(void)r;
	return r < 0 ? r : 0;
}

int sq_srv_db_run_reject(sq_srv_db_t *db, const char *path, const char *reason)
{
	return sq_srv_db_run_record(db, path, NULL, NULL, reason);
}

void sq_srv_jobrow_free(sq_srv_jobrow_t *j)
{
	free(j->batch_id); free(j->sample); free(j->outdir); free(j->state);
	json_decref(j->spec);
	memset(j, 0, sizeof *j);
}

int sq_srv_db_claim(sq_srv_db_t *db, const char *device, sq_srv_jobrow_t *out)
{
	int ret = SQ_EOF;
	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&db->lock);
	if (db_exec(db, "BEGIN IMMEDIATE") < 0) { pthread_mutex_unlock(&db->lock); return SQ_EIO; }
	sqlite3_stmt *st = prep(db, "SELECT id, batch_id, sample, outdir, spec, attempts FROM jobs WHERE state='queued' ORDER BY id LIMIT 1");
	if (!st) ret = SQ_EIO;
	else if (sqlite3_step(st) == SQLITE_ROW) {
		out->id = sqlite3_column_int64(st, 0);
		out->batch_id = strdup((const char *)sqlite3_column_text(st, 1));
		out->sample = strdup((const char *)sqlite3_column_text(st, 2));
		out->outdir = strdup((const char *)sqlite3_column_text(st, 3));
		out->spec = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
		out->attempts = sqlite3_column_int(st, 5) + 1;
		out->state = strdup("running");
		ret = 0;
	}
	if (st) sqlite3_finalize(st);
	if (ret == 0) {
		double t = now_s();
		st = prep(db, "UPDATE jobs SET state='running', device=?2, attempts=attempts+1, started=coalesce(started, ?3),"
		              " updated=?3, pid=NULL WHERE id=?1");
		if (st) {
			sqlite3_bind_int64(st, 1, out->id);
			sqlite3_bind_text(st, 2, device, -1, SQLITE_TRANSIENT);
			sqlite3_bind_double(st, 3, t);
			if (sqlite3_step(st) != SQLITE_DONE) ret = SQ_EIO;
			sqlite3_finalize(st);
		} else ret = SQ_EIO;
	}
	db_exec(db, ret == 0 ? "COMMIT" : "ROLLBACK");
	pthread_mutex_unlock(&db->lock);
	if (ret != 0) sq_srv_jobrow_free(out);
	return ret;
}

int sq_srv_db_set_pid(sq_srv_db_t *db, long long id, int pid)
{
	int r = db_run(db, "UPDATE jobs SET pid=?2, updated=?3 WHERE id=?1", "iir", id, (long long)pid, now_s());
	return r < 0 ? r : 0;
}

int sq_srv_db_progress(sq_srv_db_t *db, long long id, const char *stage, double progress)
{
	int r = db_run(db, "UPDATE jobs SET stage=?2, progress=?3, updated=?4 WHERE id=?1 AND (stage IS NOT ?2 OR progress<>?3)",
	               "itrr", id, stage, progress, now_s());
	return r < 0 ? r : 0;
}

int sq_srv_db_stage_time(sq_srv_db_t *db, long long id, const char *stage, double wall_s)
{
	int r = db_run(db, "INSERT OR REPLACE INTO stage_times(job_id, stage, wall_s) VALUES(?,?,?)", "itr", id, stage, wall_s);
	return r < 0 ? r : 0;
}

int sq_srv_db_finish(sq_srv_db_t *db, long long id, const char *state, int exit_code, const char *error, const char *qc)
{
	int r = db_run(db, "UPDATE jobs SET state=?2, exit_code=?3, error=?4, qc=coalesce(?5, qc), finished=?6, updated=?6,"
	                   " pid=NULL WHERE id=?1", "itittr", id, state, (long long)exit_code, error, qc, now_s());
	return r < 0 ? r : 0;
}

int sq_srv_db_requeue(sq_srv_db_t *db, long long id)
{
	int r = db_run(db, "UPDATE jobs SET state='queued', pid=NULL, updated=?2 WHERE id=?1 AND state='running'", "ir", id, now_s());
	if (r >= 0) r = db_run(db, "UPDATE jobs SET state='cancelled', pid=NULL, finished=?2, updated=?2 WHERE id=?1 AND state='cancelling'",
	                       "ir", id, now_s());
	return r < 0 ? r : 0;
}

int sq_srv_db_each_running(sq_srv_db_t *db, void (*fn)(void *, long long, int), void *arg)
{
	long long ids[4096];
	int pids[4096], n = 0;
	pthread_mutex_lock(&db->lock);
	sqlite3_stmt *st = prep(db, "SELECT id, coalesce(pid, 0) FROM jobs WHERE state IN ('running','cancelling')");
	if (st) {
		while (n < 4096 && sqlite3_step(st) == SQLITE_ROW) {
			ids[n] = sqlite3_column_int64(st, 0);
			pids[n++] = sqlite3_column_int(st, 1);
		}
		sqlite3_finalize(st);
	}
	pthread_mutex_unlock(&db->lock);
	for (int i = 0; i < n; ++i) fn(arg, ids[i], pids[i]);
	return n;
}

int sq_srv_db_recover(sq_srv_db_t *db)
{
	int r = db_run(db, "UPDATE jobs SET state='cancelled', pid=NULL, finished=?1, updated=?1 WHERE state='cancelling'", "r", now_s());
	if (r < 0) return r;
	r = db_run(db, "UPDATE jobs SET state='queued', pid=NULL, updated=?1 WHERE state='running'", "r", now_s());
	if (r > 0) sq_log_info("recovered %d interrupted job(s): re-queued, their finished stages will be skipped", r);
	return r;
}
