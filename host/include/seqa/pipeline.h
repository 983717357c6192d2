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

#endif
