/* seqa — the per-sample pipeline: ingest -> align -> call -> QC (-> delivery), resumable.
 *
 * A run works in one output folder per sample.  Every stage is a pure function of its inputs
 * and parameters; when it completes it writes a stage record
 *     OUTDIR/.seqa/stage-NAME.json
 * (durably, after all of its outputs are in place) holding the parameter string, the inputs'
 * fingerprints (path, size, mtime) and the outputs' (path, size, SHA-256), timings and the
 * seqa version.  A rerun skips a stage whose record matches its current parameters and inputs
 * and whose outputs are still present and intact; everything from the first stale stage on is
 * redone.  A crash mid-stage therefore leaves no record and that stage is redone.
 *
 * Thread rules: one sq_stage_t per stage at a time; different run folders are independent.
 */
#ifndef SEQA_PIPELINE_H
#define SEQA_PIPELINE_H

#include <jansson.h>
#include "seqa/ingest.h"

#define SQ_STAGE_MAX_FILES 16

typedef struct sq_stage_s {
	const char *outdir;                 /* run folder */
	const char *name;                   /* "ingest", "align", "call", "qc", "deliver" */
	char params[2048];                  /* everything that changes the output, as text */
	int n_in, n_out;
	const char *in[SQ_STAGE_MAX_FILES];  /* input files (fingerprinted by size + mtime) */
	const char *out[SQ_STAGE_MAX_FILES]; /* output files (checked by size + SHA-256) */
	double t_real, t_cpu;               /* set by sq_stage_begin */
} sq_stage_t;

/** Add an input/output file to a stage description (pointer kept, not copied). 0 or SQ_EINVAL. */
int sq_stage_add_in(sq_stage_t *st, const char *path);
int sq_stage_add_out(sq_stage_t *st, const char *path);

/** 1 if the stage's record matches (params, inputs, outputs intact): skip it.  0 otherwise
 *  (reason logged at info level).  Never an error: an unreadable record means "redo". */
int sq_stage_is_done(const sq_stage_t *st);
/** Remove the stage's record (and so every later stage must also be invalidated by caller). */
void sq_stage_invalidate(const sq_stage_t *st);
/** Mark the start of the stage's work (timers). */
void sq_stage_begin(sq_stage_t *st);
/** Write the stage record durably after the outputs are complete.  extra (borrowed, may be
 *  NULL) is stored under "result".  0 or < -1 (logged). */
int sq_stage_done(sq_stage_t *st, json_t *extra);
/** Load a stage's record (new reference) or NULL. */
json_t *sq_stage_record(const char *outdir, const char *name);

/* ---- the per-sample run ------------------------------------------------------------------ */

typedef struct {
	const char *ref;            /* indexed reference FASTA (`seqa index`) */
	const char *outdir;         /* run folder (single sample) or parent of one folder per sample */
	const char *backend;        /* auto|cpu|opencl|cuda|fpga (outputs do not depend on it) */
	const char *regions;        /* optional BED restricting calling */
	const char *qc_profile;     /* explicit QC profile JSON (NULL: the indication's) */
	const char *profiles_dir;   /* where indication profiles live (NULL: default search) */
	const char *override_by, *override_why; /* technician override of a failed gate */
	/* delivery (all four given: a QC-deliverable sample is queued in the outbox) */
	const char *outbox;         /* outbox SQLite database */
	const char *spool;          /* encrypted deliveries (NULL: beside the outbox) */
	const char *platform;       /* this platform's id (its TLS client certificate CN) */
	const char *sign_key;       /* platform Ed25519 secret key (0600) */
	const char *cad_key;        /* the CAD's Crypt4GH public key */
	int n_threads;
	int gvcf;                   /* 1: also write the gVCF */
	int force;                  /* 1: redo every stage */
} sq_run_opt_t;

typedef struct {
	char dir[2048];             /* the sample's run folder */
	int gate;                   /* SQ_QC_PASS/WARN/FAIL, or SQ_QC_NA without a profile */
	int deliverable;            /* 1: gate PASS/WARN, or FAIL with a technician's override */
	char delivery_id[65];       /* set when the sample was queued for delivery */
} sq_run_result_t;

void sq_run_opt_init(sq_run_opt_t *o);
/** 0 or SQ_EINVAL (logged). */
int sq_run_opt_check(const sq_run_opt_t *o);
/** Run (or resume) one sample in folder dir: ingest, align, call, QC (+ gate), provenance.json,
 *  run.json, and with o->outbox set, the outbox entry of a deliverable sample (manifest signed,
 *  files Crypt4GH-encrypted, QC decision and queue entry in one transaction).  s is a sample of a loaded batch (seqa/ingest.h); its file statistics are filled.
 *  run_meta (borrowed, may be NULL) is the batch's run metadata.  0 or < -1 (logged); a failed
 *  gate is not an error (see out->gate). */
int sq_run_sample(const sq_run_opt_t *o, sq_fq_sample_t *s, const json_t *run_meta, const char *dir,
                  sq_run_result_t *out);

#endif
