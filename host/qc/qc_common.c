/* seqa — QC options and small shared helpers. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <pthread.h>
#include "seqa/qc.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "qc_internal.h"

void sq_qc_opt_init(sq_qc_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->n_threads = 1;
	o->min_mapq = 20;
	o->min_baseq = 20;
	o->max_fq_dup_reads = 1000000;
	o->contam_min_depth = 10;
	o->contam_min_af = 0.25;
}

int sq_qc_opt_check(const sq_qc_opt_t *o)
{
	if (o->n_threads < 1) { sq_log_error("threads must be >= 1"); return SQ_EINVAL; }
	if (o->min_mapq < 0 || o->min_mapq > 255) { sq_log_error("min MAPQ must be 0..255"); return SQ_EINVAL; }
	if (o->min_baseq < 0 || o->min_baseq > 93) { sq_log_error("min base quality must be 0..93"); return SQ_EINVAL; }
	if (o->contam_min_depth < 1) { sq_log_error("contamination min depth must be >= 1"); return SQ_EINVAL; }
	if (!(o->contam_min_af > 0.05 && o->contam_min_af < 0.5)) { sq_log_error("contamination min alt fraction must be in (0.05, 0.5)"); return SQ_EINVAL; }
	if (o->declared_sex < 0 || o->declared_sex > 2) { sq_log_error("declared sex invalid"); return SQ_EINVAL; }
	return 0;
}

static void metric_set(json_t *m, const char *name, json_t *v, const char *unit, int ga4gh)
{
	json_object_set_new(m, name, json_pack("{s:o,s:s,s:b}", "value", v, "unit", unit ? unit : "", "ga4gh", ga4gh));
}

void sq_qc_metric_int(json_t *m, const char *name, int64_t v, const char *unit, int ga4gh)
{ metric_set(m, name, json_integer(v), unit, ga4gh); }
void sq_qc_metric_num(json_t *m, const char *name, double v, const char *unit, int ga4gh)
{ metric_set(m, name, json_real(isfinite(v) ? v : 0), unit, ga4gh); }
void sq_qc_metric_str(json_t *m, const char *name, const char *v, const char *unit, int ga4gh)
{ metric_set(m, name, json_string(v), unit, ga4gh); }
void sq_qc_metric_bool(json_t *m, const char *name, int v, const char *unit, int ga4gh)
{ metric_set(m, name, json_boolean(v), unit, ga4gh); }

int sq_qc_contig_class(const char *name)
{
	const char *s = name;
	if (strncasecmp(s, "chr", 3) == 0) s += 3;
	if (*s == 0) return 0;
	if (strcasecmp(s, "X") == 0) return 2;
	if (strcasecmp(s, "Y") == 0) return 3;
	if (strcasecmp(s, "M") == 0 || strcasecmp(s, "MT") == 0) return 4;
	for (const char *p = s; *p; ++p) if (!isdigit((unsigned char)*p)) return 0;
	return 1;
}

void sq_qc_now_iso(char buf[32])
{
	time_t t = time(0);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *sq_qc_status_name(int st)
{
	switch (st) {
	case SQ_QC_PASS: return "PASS";
	case SQ_QC_WARN: return "WARN";
	case SQ_QC_FAIL: return "FAIL";
	default: return "NA";
	}
}

/* ---- allocation failures inside jansson ------------------------------------------------
 * jansson's json_object_set_new / json_array_append_new report a failed allocation only by a
 * return value that building code rarely checks, which would leave an entry silently missing
 * from qc.json.  The allocator jansson uses is wrapped once (chaining whatever was installed) so
 * that a failure raises a per-thread flag; each QC entry point clears it first and turns it into
 * SQ_ENOMEM at the end. */
static json_malloc_t qc_prev_malloc;
static json_free_t qc_prev_free;
static __thread unsigned qc_oom;   /* failed allocations on this thread */
static pthread_once_t qc_alloc_once = PTHREAD_ONCE_INIT;

static void *qc_json_malloc(size_t n)
{
	void *p = qc_prev_malloc ? qc_prev_malloc(n) : malloc(n);
	if (!p) ++qc_oom;
	return p;
}

static void qc_json_free(void *p)
{
	if (qc_prev_free) qc_prev_free(p); else free(p);
}

static void qc_alloc_install(void)
{
	json_get_alloc_funcs(&qc_prev_malloc, &qc_prev_free);
	json_set_alloc_funcs(qc_json_malloc, qc_json_free);
}

unsigned sq_qc_json_mark(void)
{
	pthread_once(&qc_alloc_once, qc_alloc_install);
	return qc_oom;
}

int sq_qc_json_check(unsigned mark, const char *what)
{
	if (qc_oom == mark) return 0;
	sq_log_error("out of memory while building the QC %s", what);
	return SQ_ENOMEM;
}
