/* seqa serve — reading a job's folder: stage records (progress, timings) and QC results.
 *
 * The pipeline writes OUTDIR/.seqa/stage-NAME.json when a stage completes (seqa/pipeline.h);
 * the daemon only reads them, so what the dashboard shows is what a rerun would skip.
 */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "seqa/json.h"
#include "seqa/pipeline.h"
#include "seqa/util.h"
#include "server_internal.h"

json_t *sq_srv_job_stages(const sq_srv_conf_t *c, const char *outdir, const char **stage, double *progress)
{
	json_t *times = json_object();
	int n_done = 0, contiguous = 1;
	*stage = c->n_stages > 0 ? c->stages[0] : "run";
	for (int i = 0; i < c->n_stages; ++i) {
		json_t *rec = sq_stage_record(outdir, c->stages[i]);
		if (rec) {
			json_object_set_new(times, c->stages[i], json_real(sq_json_num(rec, "wall_s", 0)));
			if (contiguous) ++n_done;
			json_decref(rec);
		} else if (contiguous) {
			contiguous = 0;
			*stage = c->stages[i];
		}
	}
	if (contiguous) *stage = "finished";
	*progress = c->n_stages > 0 ? 100.0 * n_done / c->n_stages : 0;
	return times;
}

static char *find_rec(const char *dir, const char *name, int depth)
{
	char p[PATH_MAX];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, name);
	if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) return strdup(p);
	if (depth <= 0) return NULL;
	DIR *d = opendir(dir);
	struct dirent *e;
	char *r = NULL;
	if (!d) return NULL;
	while (!r && (e = readdir(d))) {
		if (e->d_name[0] == '.') continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode)) r = find_rec(p, name, depth - 1);
	}
	closedir(d);
	return r;
}

char *sq_srv_job_find(const char *outdir, const char *name)
{
	return outdir ? find_rec(outdir, name, 2) : NULL;
}

char *sq_srv_qc_verdict(const char *path)
{
	json_error_t e;
	json_t *j = json_load_file(path, 0, &e), *g;
	const char *s = NULL;
	char *r = NULL;
	if (!j) return NULL;
	g = json_object_get(j, "gate");
	if (json_is_object(g)) s = sq_srv_jstr(g, "status");
	if (!s) s = sq_srv_jstr(j, "verdict");
	if (!s) s = sq_srv_jstr(j, "status");
	if (s && (r = strdup(s)))
		for (char *p = r; *p; ++p) *p = (char)tolower((unsigned char)*p);
	json_decref(j);
	return r;
}

int sq_srv_qc_deliverable(const char *outdir)
{
	char *q = sq_srv_job_find(outdir, "qc.json");
	json_error_t e;
	json_t *j = q ? json_load_file(q, 0, &e) : NULL;
	int r = json_is_true(json_object_get(json_object_get(j, "gate"), "deliverable"));
	json_decref(j);
	free(q);
	return r;
}
