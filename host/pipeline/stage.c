/* seqa — resumable stage records; see seqa/pipeline.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "seqa/pipeline.h"
#include "seqa/durable.h"
#include "seqa/hash.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "seqa/version.h"

int sq_stage_add_in(sq_stage_t *st, const char *path)
{
	if (st->n_in >= SQ_STAGE_MAX_FILES) return SQ_EINVAL;
	st->in[st->n_in++] = path;
	return 0;
}

int sq_stage_add_out(sq_stage_t *st, const char *path)
{
	if (st->n_out >= SQ_STAGE_MAX_FILES) return SQ_EINVAL;
	st->out[st->n_out++] = path;
	return 0;
}

static void record_path(const char *outdir, const char *name, char *buf, size_t n)
{
	snprintf(buf, n, "%s/.seqa/stage-%s.json", outdir, name);
}

json_t *sq_stage_record(const char *outdir, const char *name)
{
	char p[4096];
	json_error_t e;
	record_path(outdir, name, p, sizeof p);
	return json_load_file(p, 0, &e);
}

void sq_stage_invalidate(const sq_stage_t *st)
{
	char p[4096];
	record_path(st->outdir, st->name, p, sizeof p);
	if (unlink(p) == 0) sq_fsync_dir(p);
}

static json_t *fingerprint_in(const char *path)
{
	struct stat s;
	if (stat(path, &s) != 0) return 0;
	return json_pack("{s:s, s:I, s:I}", "path", path, "size", (json_int_t)s.st_size,
	                 "mtime_ns", (json_int_t)s.st_mtim.tv_sec * 1000000000LL + s.st_mtim.tv_nsec);
}

static json_t *fingerprint_out(const char *path)
{
	struct stat s;
	char hex[65];
	if (stat(path, &s) != 0 || sq_sha256_file(path, hex) != 0) return 0;
	return json_pack("{s:s, s:I, s:s}", "path", path, "size", (json_int_t)s.st_size, "sha256", hex);
}

int sq_stage_is_done(const sq_stage_t *st)
{
	json_t *rec = sq_stage_record(st->outdir, st->name), *arr;
	const char *why = 0;
	size_t i;
	if (!rec) { sq_log_debug("stage %s: no record", st->name); return 0; }
	if (strcmp(sq_json_str(rec, "params", ""), st->params) != 0) { why = "parameters changed"; goto redo; }
	arr = json_object_get(rec, "inputs");
	if (json_array_size(arr) != (size_t)st->n_in) { why = "inputs changed"; goto redo; }
	for (i = 0; i < (size_t)st->n_in; ++i) {
		json_t *now = fingerprint_in(st->in[i]);
		int same = now && json_equal(now, json_array_get(arr, i));
		json_decref(now);
		if (!same) { why = "an input changed"; goto redo; }
	}
	arr = json_object_get(rec, "outputs");
	if (json_array_size(arr) != (size_t)st->n_out) { why = "outputs changed"; goto redo; }
	for (i = 0; i < (size_t)st->n_out; ++i) {
		json_t *o = json_array_get(arr, i);
		struct stat s;
		if (strcmp(sq_json_str(o, "path", ""), st->out[i]) != 0 || stat(st->out[i], &s) != 0 ||
		    s.st_size != sq_json_int(o, "size", -1)) { why = "an output is missing or changed"; goto redo; }
		char hex[65];
		if (sq_sha256_file(st->out[i], hex) != 0 || strcmp(hex, sq_json_str(o, "sha256", "")) != 0) {
			why = "an output is corrupted"; goto redo;
		}
	}
	json_decref(rec);
	sq_log_info("stage %s: complete and valid, skipped", st->name);
	return 1;
redo:
	sq_log_info("stage %s: %s, redoing", st->name, why);
	json_decref(rec);
	return 0;
}

void sq_stage_begin(sq_stage_t *st)
{
	st->t_real = sq_realtime();
	st->t_cpu = sq_cputime();
	sq_log_info("stage %s: started", st->name);
}

int sq_stage_done(sq_stage_t *st, json_t *extra)
{
	char dir[4096], p[4096];
	int ret = SQ_EOUTPUT, i;
	json_t *rec = json_object(), *ins = json_array(), *outs = json_array();
	snprintf(dir, sizeof dir, "%s/.seqa", st->outdir);
	if (!rec || !ins || !outs || sq_mkdir_p(dir, 0755) < 0) goto fail;
	for (i = 0; i < st->n_in; ++i) {
		json_t *f = fingerprint_in(st->in[i]);
		if (!f) { sq_log_error("stage %s: input '%s' vanished", st->name, st->in[i]); goto fail; }
		json_array_append_new(ins, f);
	}
	for (i = 0; i < st->n_out; ++i) {
		json_t *f = fingerprint_out(st->out[i]);
		if (!f) { sq_log_error("stage %s: output '%s' missing", st->name, st->out[i]); goto fail; }
		json_array_append_new(outs, f);
	}
	json_object_set_new(rec, "stage", json_string(st->name));
	json_object_set_new(rec, "seqa_version", json_string(sq_version()));
	json_object_set_new(rec, "params", json_string(st->params));
	json_object_set(rec, "inputs", ins);
	json_object_set(rec, "outputs", outs);
	json_object_set_new(rec, "wall_s", json_real(sq_realtime() - st->t_real));
	json_object_set_new(rec, "cpu_s", json_real(sq_cputime() - st->t_cpu));
	if (extra) json_object_set(rec, "result", extra);
	record_path(st->outdir, st->name, p, sizeof p);
	ret = sq_json_save(rec, p);
	if (ret == 0) sq_log_info("stage %s: done in %.1f s", st->name, sq_realtime() - st->t_real);
fail:
	json_decref(ins), json_decref(outs), json_decref(rec);
	return ret;
}
