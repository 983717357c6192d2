/* seqa — QC internals shared by the host/qc sources (not a public interface). */
#ifndef SEQA_QC_INTERNAL_H
#define SEQA_QC_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <jansson.h>

/** Round to d decimals (for stable JSON). */
static inline double sq_qc_round(double v, int d)
{
	double f = pow(10.0, d);
	return isfinite(v) ? round(v * f) / f : 0;
}

/** 100 * a / b rounded to 4 decimals; 0 when b == 0. */
static inline double sq_qc_pct(int64_t a, int64_t b)
{
	return b > 0 ? sq_qc_round(100.0 * (double)a / (double)b, 4) : 0;
}

/* metrics[name] = {"value": v, "unit": unit, "ga4gh": bool} */
void sq_qc_metric_int(json_t *m, const char *name, int64_t v, const char *unit, int ga4gh);
void sq_qc_metric_num(json_t *m, const char *name, double v, const char *unit, int ga4gh);
void sq_qc_metric_str(json_t *m, const char *name, const char *v, const char *unit, int ga4gh);
void sq_qc_metric_bool(json_t *m, const char *name, int v, const char *unit, int ga4gh);

/** Contig class from its name: 0 other (MT, alt, decoy...), 1 autosome ((chr)?[0-9]+),
 *  2 X, 3 Y, 4 mitochondrion (chrM, MT). */
int sq_qc_contig_class(const char *name);

/* Allocation failures inside jansson: see sq_qc_json_mark() in seqa/qc.h. */
#define sq_qc_oom_reset() unsigned qc_json_mark_ = sq_qc_json_mark()
#define sq_qc_oom_check(what) sq_qc_json_check(qc_json_mark_, what)

/** ISO 8601 UTC time now into buf[32]. */
void sq_qc_now_iso(char buf[32]);

#endif
