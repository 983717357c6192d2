/* seqa — the appliance service (`seqa serve`): job database, scheduler, REST API, dashboard,
 * run-folder watcher.
 *
 * One daemon holds the state of every job in SQLite (WAL).  Jobs are per sample; each runs as a
 * child process `seqa run ...` in its own process group (crash isolation, cancellation by
 * signal, and resumable stages: a job interrupted by a daemon crash is re-queued at start-up
 * and its rerun skips every stage whose record (seqa/pipeline.h) is intact).  The scheduler
 * places at most one job on each configured GPU/accelerator slot and runs CPU jobs beside them.
 *
 * Thread rules: a sq_srv_t is driven by sq_srv_run() on one thread; sq_srv_stop() may be called
 * from any thread or a signal handler.  sq_srv_db_* functions serialise on the db's own mutex.
 */
#ifndef SEQA_SERVER_H
#define SEQA_SERVER_H

#include <stddef.h>
#include <jansson.h>

/* ---- roles and tokens ------------------------------------------------------------------- */

/** Client roles (bit flags so an endpoint can allow several). */
enum { SQ_SRV_ROLE_PIPELINE = 1, SQ_SRV_ROLE_TECH = 2, SQ_SRV_ROLE_ADMIN = 4,
       SQ_SRV_ROLE_ANY = 7 };

/** "pipeline" | "technician" | "admin" -> role flag; 0 if unknown. */
int sq_srv_role_parse(const char *s);
const char *sq_srv_role_name(int role);

typedef struct {
	char name[64];          /* client name, shown in logs and batches */
	int  role;              /* one SQ_SRV_ROLE_* */
	char sha256[65];        /* SHA-256 of the bearer token, lowercase hex (tokens are never stored) */
} sq_srv_token_t;

/** SHA-256 hex of a bearer token. */
void sq_srv_token_hash(const char *token, char hex[65]);
/** New random token (32 bytes from libsodium, base64url, 43 chars + NUL in out[44]). */
void sq_srv_token_new(char out[44]);
/** Find the client whose token hashes to the presented one (constant time per entry).
 *  Returns the index or -1. */
int sq_srv_token_find(const sq_srv_token_t *t, int n, const char *presented);

/* ---- configuration ---------------------------------------------------------------------- */

typedef struct {
	/* [server] */
	char  *listen;          /* "127.0.0.1:8443"; port 0 = any free port */
	char  *tls_cert, *tls_key; /* PEM files; required unless listen is loopback */
	char  *port_file;       /* if set, the bound port is written there (tests) */
	size_t max_body;        /* request body limit, bytes */
	int    http_threads;
	/* [paths] */
	char  *data_dir;        /* jobs' output folders, logs, batches */
	char  *db_path;         /* default DATA_DIR/seqa.db */
	char  *log_file;        /* JSON-lines log (reopened on SIGHUP); NULL: stderr */
	char **allow_inputs;    /* FASTQ paths must lie under one of these (empty: any) */
	int    n_allow_inputs;
	/* [pipeline] */
	char  *seqa_bin;        /* program run per job (default: this executable) */
	char  *reference;       /* default reference FASTA */
	char **run_args;        /* argv template after seqa_bin, with {placeholders} */
	int    n_run_args;
	char **override_args;   /* appended to the run when a technician overrode a failed gate */
	int    n_override_args;
	char **stages;          /* stage names in order (progress) */
	int    n_stages;
	int    threads;         /* -t per job */
	int    cpu_slots;       /* concurrent CPU jobs */
	char **gpus;            /* accelerator slots: "cuda:0", "opencl:1", "fpga:0" */
	int    n_gpus;
	double cancel_grace_s;  /* SIGTERM -> SIGKILL delay */
	/* [delivery] */
	char **enqueue_args;    /* after a job's run succeeds: e.g. "outbox enqueue ... {outdir}";
	                           empty: the service queues nothing (the pipeline may) */
	int    n_enqueue_args;
	char **push_args;       /* e.g. "push --outbox ..."; empty: no pusher */
	int    n_push_args;
	double push_interval_s;
	char **outbox_args;     /* listing for /deliveries, default "outbox list -o {data_dir}/outbox.db --json"
	                           (enqueue/push/outbox args run the daemon's own binary) */
	int    n_outbox_args;
	/* [watch] */
	char **watch_dirs;
	int    n_watch_dirs;
	double rescan_s;
	/* [devices] */
	int    selftest_on_start;
	/* [tokens] */
	sq_srv_token_t *tokens;
	int    n_tokens;
} sq_srv_conf_t;

/** Defaults (loopback, any port, 1 CPU slot, run args per `seqa run`). */
void sq_srv_conf_init(sq_srv_conf_t *c);
/** Parse an INI-style file (see etc/seqa.conf.example) over the current values.
 *  0, SQ_EIO (unreadable) or SQ_EINPUT (syntax/unknown key, "file:line: ..." logged). */
int sq_srv_conf_load(sq_srv_conf_t *c, const char *path);
/** Consistency checks (TLS off loopback, data_dir set, ...).  0 or SQ_EINVAL (logged). */
int sq_srv_conf_check(const sq_srv_conf_t *c);
void sq_srv_conf_free(sq_srv_conf_t *c);
/** Split a whitespace-separated list ("a b, c") into a NULL-terminated array (caller frees with
 *  sq_srv_strv_free).  *n gets the count. */
char **sq_srv_split(const char *s, int *n);
void sq_srv_strv_free(char **v);

/* ---- the job database ------------------------------------------------------------------- */

typedef struct sq_srv_db_s sq_srv_db_t;

/** Open/create the database (WAL, synchronous=FULL).  NULL on error (logged). */
sq_srv_db_t *sq_srv_db_open(const char *path);
void sq_srv_db_close(sq_srv_db_t *db);

/** Submit a normalised batch (see sq_srv_batch_normalise): creates the batch and one queued job
 *  per sample in one transaction, unless a batch with the same content key exists.
 *  *created = 1 if new.  Returns the batch id (new string) or NULL on error (logged). */
char *sq_srv_db_submit(sq_srv_db_t *db, const json_t *batch, const char *client,
                       const char *data_dir, const char *run_folder, int *created);
/** JSON views (new references; NULL on error): */
json_t *sq_srv_db_job(sq_srv_db_t *db, long long id);
json_t *sq_srv_db_jobs(sq_srv_db_t *db, const char *state, const char *batch, const char *client,
                       int limit);
json_t *sq_srv_db_batch(sq_srv_db_t *db, const char *id);
json_t *sq_srv_db_batches(sq_srv_db_t *db, const char *client, int limit);
json_t *sq_srv_db_runs(sq_srv_db_t *db);
/** Count of jobs per state, e.g. {"queued":1,"running":0,...}. */
json_t *sq_srv_db_counts(sq_srv_db_t *db);
/** Request cancellation: queued -> cancelled, running -> cancelling.  0, SQ_EOF (no such job)
 *  or SQ_EINVAL (already finished). */
int sq_srv_db_cancel(sq_srv_db_t *db, long long id);
/** Re-queue a failed/cancelled/held job.  0, SQ_EOF or SQ_EINVAL. */
int sq_srv_db_retry(sq_srv_db_t *db, long long id);
/** A technician overrides the failed QC gate of a held job: who and why are recorded in the
 *  job (and passed to the rerun, which records them in the gate and provenance); the job is
 *  re-queued.  0, SQ_EOF (no such job) or SQ_EINVAL (not held). */
int sq_srv_db_override(sq_srv_db_t *db, long long id, const char *who, const char *reason);
/** 1 if a run folder was already submitted. */
int sq_srv_db_run_seen(sq_srv_db_t *db, const char *path);
/** Record a run folder the watcher looked at and did not submit (reason kept). */
int sq_srv_db_run_reject(sq_srv_db_t *db, const char *path, const char *reason);
/** At start-up: running jobs -> queued (their child died with the old daemon), cancelling ->
 *  cancelled.  Returns the number re-queued, or < -1. */
int sq_srv_db_recover(sq_srv_db_t *db);

/* ---- batches ---------------------------------------------------------------------------- */

/** Normalise a submitted batch document (JSON batch, or a sample sheet parsed to the same shape)
 *  to {"reference":..., "run":{...}, "samples":[{"id","pseudonym","indication","sex","r1","r2"}]}
 *  sorted by id, with absolute FASTQ paths checked readable (and under allow_inputs when given)
 *  and a content key "key" (SHA-256).  On problems returns NULL and sets *problems to a JSON
 *  array of {"sample","field","message"} (new reference). */
json_t *sq_srv_batch_normalise(const json_t *doc, const char *base_dir, const char *dflt_ref,
                               char *const *allow, int n_allow, json_t **problems);
/** Parse an Illumina sample sheet (v1 [Data] or v2 [BCLConvert_Data], plus [Seqa_Data] for
 *  pseudonym/indication/sex and optional FASTQ columns) into a batch document
 *  {"run":{...},"samples":[...]} (new reference).  NULL on syntax error (logged). */
json_t *sq_srv_sheet_parse(const char *text, const char *name);

/* ---- run folders ------------------------------------------------------------------------ */

/** Examine an Illumina run folder.  Returns 1 and a batch document (new reference, samples with
 *  their FASTQ found in the folder) when RunInfo.xml, SampleSheet.csv and CopyComplete.txt are
 *  present and every sample has exactly one R1/R2 pair; 0 when the copy is not complete yet;
 *  SQ_EINPUT with *reason set (static string) when complete but unusable. */
int sq_srv_run_folder(const char *path, json_t **batch, const char **reason);

/* ---- the daemon ------------------------------------------------------------------------- */

typedef struct sq_srv_s sq_srv_t;

/** Open the database, recover jobs, bind the HTTP(S) server, start scheduler and watcher.
 *  The configuration is borrowed and must outlive the server.  NULL on error (logged). */
sq_srv_t *sq_srv_start(const sq_srv_conf_t *c);
/** The TCP port actually bound. */
int sq_srv_port(const sq_srv_t *s);
/** Serve until sq_srv_stop(); then stop workers (running jobs are re-queued, not lost). */
int sq_srv_run(sq_srv_t *s);
/** Ask the server to stop (async-signal-safe). */
void sq_srv_stop(sq_srv_t *s);
/** Ask for the log file to be reopened (async-signal-safe; SIGHUP). */
void sq_srv_reopen_log(sq_srv_t *s);
void sq_srv_destroy(sq_srv_t *s);

#endif
