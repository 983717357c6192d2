/* seqa serve — private interfaces between the daemon's parts (db, scheduler, http, watcher). */
#ifndef SEQA_SERVER_INTERNAL_H
#define SEQA_SERVER_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>
#include <jansson.h>
#include "seqa/server.h"

/** Borrowed string member or NULL (absent, not a string, or o NULL). */
static inline const char *sq_srv_jstr(const json_t *o, const char *k)
{
	json_t *v = o ? json_object_get(o, k) : NULL;
	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- db (db.c) -------------------------------------------------------------------------- */

/** A job as the scheduler needs it. */
typedef struct {
	long long id;
	char *batch_id, *sample, *outdir, *state;
	json_t *spec;           /* {"r1","r2","reference","pseudonym","indication","sex"} */
	int pid, attempts;
} sq_srv_jobrow_t;

void sq_srv_jobrow_free(sq_srv_jobrow_t *j);
/** Claim the oldest queued job: state -> running with device and attempt+1.  0 (filled), SQ_EOF
 *  (none queued) or < -1. */
int sq_srv_db_claim(sq_srv_db_t *db, const char *device, sq_srv_jobrow_t *out);
int sq_srv_db_set_pid(sq_srv_db_t *db, long long id, int pid);
int sq_srv_db_progress(sq_srv_db_t *db, long long id, const char *stage, double progress);
int sq_srv_db_stage_time(sq_srv_db_t *db, long long id, const char *stage, double wall_s);
/** Finish a running job: state done|held|failed|cancelled, exit code, error (may be NULL),
 *  qc verdict (may be NULL). */
int sq_srv_db_finish(sq_srv_db_t *db, long long id, const char *state, int exit_code,
                     const char *error, const char *qc);
/** Back to queued (graceful shutdown while running). */
int sq_srv_db_requeue(sq_srv_db_t *db, long long id);
/** The job's state ("running", "cancelling", ...) as a new string, or NULL. */
char *sq_srv_db_state(sq_srv_db_t *db, long long id);
/** Outdir of a job (new string) or NULL; *client gets the batch's client (new string). */
char *sq_srv_db_job_outdir(sq_srv_db_t *db, long long id, char **client);
/** Running jobs with pids: for recovery.  Calls fn for each. */
int sq_srv_db_each_running(sq_srv_db_t *db, void (*fn)(void *, long long, int), void *arg);
/** Stage duration aggregates: [{"stage","count","sum"}]. */
json_t *sq_srv_db_stage_stats(sq_srv_db_t *db);
/** Record that the watcher submitted a run folder (batch_id may be NULL for a rejection). */
int sq_srv_db_run_record(sq_srv_db_t *db, const char *path, const char *run_id,
                         const char *batch_id, const char *status);

/* ---- scheduler (sched.c) ---------------------------------------------------------------- */

typedef struct sq_srv_slot_s {
	char name[64];          /* "cpu:0", "cuda:0" */
	char backend[16];       /* value for {backend}: cpu, cuda, opencl, fpga */
	char index[16];         /* device index within the backend ("" for cpu) */
	int gpu;                /* 1 for an accelerator slot */
	long long job;          /* running job id, 0 if free */
	pid_t pid;
	double started, busy_s; /* current job start; total busy seconds */
	double term_sent;       /* when SIGTERM was sent for cancellation, 0 if not */
	int cancelled;
	int phase;              /* 0: the run; 1: queueing its delivery (enqueue_args) */
	long long n_jobs;
	size_t log_off;         /* log bytes already scanned */
} sq_srv_slot_t;

typedef struct sq_srv_sched_s sq_srv_sched_t;
sq_srv_sched_t *sq_srv_sched_start(const sq_srv_conf_t *c, sq_srv_db_t *db);
/** Wake the scheduler (a job was submitted or cancelled). */
void sq_srv_sched_kick(sq_srv_sched_t *s);
/** Slot states as JSON [{"name","backend","gpu","job","busy_s","jobs"}]. */
json_t *sq_srv_sched_slots(sq_srv_sched_t *s);
/** Stop: running children get SIGTERM, their jobs go back to queued. */
void sq_srv_sched_stop(sq_srv_sched_t *s);
/** Deliveries: the cached output of `seqa outbox list --json` (new reference) or an object
 *  with "available": false and the reason. */
json_t *sq_srv_outbox(sq_srv_sched_t *s);
/** Delivery failures seen by the pusher (non-zero exits). */
long long sq_srv_push_failures(sq_srv_sched_t *s);

/** Run a program with args and capture stdout (up to cap bytes, NUL-terminated, caller frees).
 *  Returns the exit status, or < 0 when it could not run.  timeout_s kills it. */
int sq_srv_capture(const char *prog, char *const argv[], double timeout_s, char **out, size_t cap);

/* ---- job files (jobs.c) ----------------------------------------------------------------- */

/** Look at a job folder's stage records: current stage (first without a record), progress in
 *  percent, and per-stage wall times (object) as a new reference.  *stage is static or a
 *  stage name from c. */
json_t *sq_srv_job_stages(const sq_srv_conf_t *c, const char *outdir, const char **stage,
                          double *progress);
/** Find qc.json (or qc.html when html) in a job folder (depth <= 2); new string or NULL. */
char *sq_srv_job_find(const char *outdir, const char *name);
/** QC verdict from a qc.json: "pass", "fail", "warn" or NULL. */
char *sq_srv_qc_verdict(const char *qc_json_path);
/** 1 if the job folder's qc.json gate says "deliverable": true (passed, warned, or failed with
 *  a technician's override recorded). */
int sq_srv_qc_deliverable(const char *outdir);

/* ---- watcher (watch.c) ------------------------------------------------------------------ */

typedef struct sq_srv_watch_s sq_srv_watch_t;
typedef int (*sq_srv_submit_f)(void *arg, const json_t *batch, const char *client,
                               const char *run_folder, char **batch_id, json_t **problems);
sq_srv_watch_t *sq_srv_watch_start(const sq_srv_conf_t *c, sq_srv_db_t *db,
                                   sq_srv_submit_f submit, void *arg);
void sq_srv_watch_stop(sq_srv_watch_t *w);
/** Scan every watched directory once now (also done on start and every rescan seconds). */
int sq_srv_watch_scan(sq_srv_watch_t *w);

/* ---- http (http.c) ---------------------------------------------------------------------- */

typedef struct sq_srv_http_s sq_srv_http_t;
typedef struct {
	const sq_srv_conf_t *conf;
	sq_srv_db_t *db;
	sq_srv_sched_t *sched;
	double t_start;
	json_t *devices;        /* cached `seqa devices` view */
	pthread_mutex_t dev_lock;
	volatile long long n_req[6]; /* 1xx..5xx counters, [0] total */
	volatile long long n_auth_fail;
} sq_srv_ctx_t;

sq_srv_http_t *sq_srv_http_start(sq_srv_ctx_t *ctx, int *port);
void sq_srv_http_stop(sq_srv_http_t *h);
/** Submit a parsed batch document on behalf of client; returns the HTTP status (201 created,
 *  200 existing, 422 problems) and the response body (new reference). */
int sq_srv_api_submit(sq_srv_ctx_t *ctx, const json_t *doc, const char *base_dir,
                      const char *client, const char *run_folder, json_t **resp);

/* ---- dashboard assets (www.c) ----------------------------------------------------------- */

/** Embedded file by URL path ("/", "/app.js"); NULL if none.  *len and *mime are set. */
const unsigned char *sq_srv_www(const char *path, size_t *len, const char **mime);

#endif
