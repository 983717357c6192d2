/* seqa — QC options and small shared helpers. */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>
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
