/* seqa — QC reports: qc.json, MultiQC custom content, self-contained qc.html with inline SVG.
 *
 * qc.html has no external resource (no CDN, no font, no image file): styles, four SVG plots
 * (per-cycle quality, depth histogram, insert size, allele balance) and a few lines of script
 * that mark the document (body data-plots="N") once the plots are in the DOM, so a headless
 * browser test can tell that the page rendered.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <htslib/kstring.h>
#include "seqa/qc.h"
#include "seqa/json.h"
#include "seqa/durable.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "qc_internal.h"

static void esc(kstring_t *s, const char *t)
{
	for (; t && *t; ++t) {
		switch (*t) {
		case '<': kputs("&lt;", s); break;
		case '>': kputs("&gt;", s); break;
		case '&': kputs("&amp;", s); break;
		case '"': kputs("&quot;", s); break;
		default: kputc(*t, s);
		}
	}
}

/* ---- SVG ----------------------------------------------------------------------------- */

#define PW 560
#define PH 260
#define ML 70
#define MR 16
#define MT 28
#define MB 44

typedef struct { const double *x, *y; int n; const char *name, *color; } series_t;

static void axes(kstring_t *s, const char *id, const char *title, const char *xl, const char *yl,
                 double x0, double x1, double y0, double y1)
{
	ksprintf(s, "<svg id=\"%s\" class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"", id, PW, PH, PW, PH);
	esc(s, title);
	ksprintf(s, "\">\n<title>");
	esc(s, title);
	ksprintf(s, "</title>\n<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n", PW, PH);
	ksprintf(s, "<text x=\"%d\" y=\"18\" font-size=\"14\" font-weight=\"bold\">", ML);
	esc(s, title);
	kputs("</text>\n", s);
	ksprintf(s, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", ML, PH - MB, PW - MR, PH - MB);
	ksprintf(s, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", ML, MT, ML, PH - MB);
	for (int k = 0; k <= 4; ++k) {
		double fx = x0 + (x1 - x0) * k / 4, fy = y0 + (y1 - y0) * k / 4;
		double px = ML + (PW - ML - MR) * k / 4.0, py = PH - MB - (PH - MT - MB) * k / 4.0;
		ksprintf(s, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\" text-anchor=\"middle\">%.4g</text>\n", px, PH - MB + 14, fx);
		ksprintf(s, "<text x=\"%d\" y=\"%.1f\" font-size=\"10\" text-anchor=\"end\">%.3g</text>\n", ML - 4, py + 3, fy);
		ksprintf(s, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#eee\"/>\n", ML, py, PW - MR, py);
	}
	ksprintf(s, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">", (PW + ML) / 2, PH - 8);
	esc(s, xl);
	ksprintf(s, "</text>\n<text x=\"12\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 12 %d)\">", PH / 2, PH / 2);
	esc(s, yl);
	kputs("</text>\n", s);
}

static void line_plot(kstring_t *s, const char *id, const char *title, const char *xl, const char *yl,
                      const series_t *ser, int ns, double ymin_fixed)
{
	double x0 = 1e300, x1 = -1e300, y0 = ymin_fixed, y1 = -1e300;
	int any = 0;
	for (int k = 0; k < ns; ++k)
		for (int i = 0; i < ser[k].n; ++i) {
			any = 1;
			if (ser[k].x[i] < x0) x0 = ser[k].x[i];
			if (ser[k].x[i] > x1) x1 = ser[k].x[i];
			if (ser[k].y[i] > y1) y1 = ser[k].y[i];
			if (ymin_fixed > 0 && ser[k].y[i] < y0) y0 = ser[k].y[i];
		}
	if (!any) { x0 = 0; x1 = 1; y1 = 1; }
	if (x1 <= x0) x1 = x0 + 1;
	if (y1 <= y0) y1 = y0 + 1;
	axes(s, id, title, xl, yl, x0, x1, y0, y1);
	for (int k = 0; k < ns; ++k) {
		if (ser[k].n == 0) continue;
		ksprintf(s, "<polyline class=\"series\" data-name=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", ser[k].name, ser[k].color);
		for (int i = 0; i < ser[k].n; ++i)
			ksprintf(s, "%.1f,%.1f ", ML + (PW - ML - MR) * (ser[k].x[i] - x0) / (x1 - x0),
			         PH - MB - (PH - MT - MB) * (ser[k].y[i] - y0) / (y1 - y0));
		kputs("\"/>\n", s);
		ksprintf(s, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"%s\">%s</text>\n", PW - MR - 60, MT + 4 + 14 * k, ser[k].color, ser[k].name);
	}
	if (!any) ksprintf(s, "<text class=\"nodata\" x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#999\">no data</text>\n", PW / 2 - 20, PH / 2);
	kputs("</svg>\n", s);
}

static void bar_plot(kstring_t *s, const char *id, const char *title, const char *xl, const char *yl,
                     const double *x, const double *y, int n, double bw, const double *mark, int nmark)
{
	double x0 = n ? x[0] : 0, x1 = n ? x[n - 1] + bw : 1, y1 = 0;
	for (int i = 0; i < n; ++i) if (y[i] > y1) y1 = y[i];
	if (y1 <= 0) y1 = 1;
	if (x1 <= x0) x1 = x0 + 1;
	axes(s, id, title, xl, yl, x0, x1, 0, y1);
	double sx = (PW - ML - MR) / (x1 - x0), sy = (PH - MT - MB) / y1;
	for (int i = 0; i < n; ++i) {
		double w = bw * sx > 1.5 ? bw * sx - 0.5 : bw * sx;
		ksprintf(s, "<rect class=\"bar\" x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#4a7ab5\"/>\n",
		         ML + (x[i] - x0) * sx, PH - MB - y[i] * sy, w > 0.2 ? w : 0.2, y[i] * sy);
	}
	for (int k = 0; k < nmark; ++k)
		if (mark[k] >= x0 && mark[k] <= x1)
			ksprintf(s, "<line class=\"marker\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#c0392b\" stroke-dasharray=\"4 3\"/>\n",
			         ML + (mark[k] - x0) * sx, MT, ML + (mark[k] - x0) * sx, PH - MB);
	if (!n) ksprintf(s, "<text class=\"nodata\" x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#999\">no data</text>\n", PW / 2 - 20, PH / 2);
	kputs("</svg>\n", s);
}

/* ---- HTML ---------------------------------------------------------------------------- */

static void metrics_table(kstring_t *s, const char *title, const json_t *stage)
{
	json_t *m = json_object_get(stage, "metrics");
	const char *k;
	json_t *v;
	if (!m) return;
	kputs("<h3>", s); esc(s, title); kputs("</h3>\n<table class=\"metrics\"><tr><th>metric</th><th>value</th><th>unit</th><th>GA4GH</th></tr>\n", s);
	json_object_foreach(m, k, v) {
		json_t *val = json_object_get(v, "value");
		char *txt = json_is_string(val) ? strdup(json_string_value(val)) : json_dumps(val, JSON_ENCODE_ANY | JSON_REAL_PRECISION(8));
		kputs("<tr><td>", s); esc(s, k); kputs("</td><td class=\"num\">", s); esc(s, txt ? txt : "");
		kputs("</td><td>", s); esc(s, sq_json_str(v, "unit", "")); kputs("</td><td>", s);
		kputs(json_is_true(json_object_get(v, "ga4gh")) ? "yes" : "", s);
		kputs("</td></tr>\n", s);
		free(txt);
	}
	kputs("</table>\n", s);
}

static int arr_to_xy(const json_t *a, double **x, double **y)
{
	int n = (int)json_array_size(a);
	*x = calloc(n + 1, sizeof **x);
	*y = calloc(n + 1, sizeof **y);
	if (!*x || !*y) return 0;
	for (int i = 0; i < n; ++i) {
		json_t *e = json_array_get(a, i);
		if (json_is_array(e)) { (*x)[i] = json_number_value(json_array_get(e, 0)); (*y)[i] = json_number_value(json_array_get(e, 1)); }
		else { (*x)[i] = i + 1; (*y)[i] = json_number_value(e); }
	}
	return n;
}

char *sq_qc_html(const json_t *res)
{
	kstring_t s = { 0, 0, 0 };
	json_t *stages = json_object_get(res, "stages"), *g = json_object_get(res, "gate");
	json_t *fq = json_object_get(stages, "fastq"), *al = json_object_get(stages, "alignment"), *vc = json_object_get(stages, "vcf");
	const char *sample = sq_json_str(res, "sample", "sample");
	const char *status = g ? sq_json_str(g, "status", "NA") : "NA";
	const char *color = !strcmp(status, "PASS") ? "#1e8449" : !strcmp(status, "WARN") ? "#b9770e" : !strcmp(status, "FAIL") ? "#c0392b" : "#777";

	/* reserved up front (reports are a few hundred kB), so a failed allocation cannot leave a hole
	 * in the middle of the page; the end is checked below */
	if (ks_resize(&s, 4 << 20) < 0) return 0;
	kputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>seqa QC — ", &s);
	esc(&s, sample);
	kputs("</title>\n<style>\nbody{font-family:sans-serif;margin:24px;color:#222;max-width:1200px}\n"
	      ".banner{padding:14px 18px;color:#fff;font-size:22px;font-weight:bold;border-radius:6px}\n"
	      "table{border-collapse:collapse;margin:8px 0 18px 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}\n"
	      "th{background:#f0f0f0;text-align:left}.num{text-align:right;font-family:monospace}\n"
	      ".FAIL{color:#c0392b;font-weight:bold}.WARN{color:#b9770e;font-weight:bold}.PASS{color:#1e8449}.NA{color:#999}\n"
	      ".plots{display:flex;flex-wrap:wrap;gap:12px}.plot{border:1px solid #ddd}\n</style></head>\n<body>\n", &s);
	int overridden = g && json_is_object(json_object_get(g, "override"));
	ksprintf(&s, "<div class=\"banner\" id=\"gate-status\" style=\"background:%s\">QC %s%s — ", color, status,
	         overridden ? " (override recorded)" : "");
	esc(&s, sample);
	kputs("</div>\n<p>", &s);
	kputs("Indication: <b>", &s); esc(&s, sq_json_str(res, "indication", "-"));
	kputs("</b> · profile <b>", &s); esc(&s, g ? sq_json_str(g, "profile_id", "-") : "-");
	kputs("</b> version <b>", &s); esc(&s, g ? sq_json_str(g, "profile_version", "-") : "-");
	kputs("</b> · declared sex ", &s); esc(&s, sq_json_str(res, "declared_sex", "unknown"));
	kputs(" · seqa ", &s); esc(&s, sq_json_str(res, "seqa_version", "")); kputs(" · ", &s); esc(&s, sq_json_str(res, "created", ""));
	kputs("</p>\n", &s);
	if (g) {
		json_t *ov = json_object_get(g, "override");
		ksprintf(&s, "<p id=\"deliverable\">Eligible for delivery: <b>%s</b>%s</p>\n", json_is_true(json_object_get(g, "deliverable")) ? "yes" : "no",
		         json_is_true(json_object_get(g, "complete")) ? "" : " (not every required stage was evaluated)");
		if (json_is_object(ov)) {
			kputs("<p id=\"override\" class=\"WARN\">Override by ", &s); esc(&s, sq_json_str(ov, "by", ""));
			kputs(" at ", &s); esc(&s, sq_json_str(ov, "at", "")); kputs(": ", &s); esc(&s, sq_json_str(ov, "reason", "")); kputs("</p>\n", &s);
		}
		json_t *rs = json_object_get(g, "reasons"), *e;
		size_t i;
		if (json_array_size(rs)) {
			kputs("<ul id=\"reasons\">\n", &s);
			json_array_foreach(rs, i, e) {
				const char *t = json_string_value(e);
				ksprintf(&s, "<li class=\"%s\">", strstr(t, "(fail)") ? "FAIL" : "WARN");
				esc(&s, t);
				kputs("</li>\n", &s);
			}
			kputs("</ul>\n", &s);
		}
		kputs("<h3>Gate checks</h3>\n<table id=\"checks\"><tr><th>status</th><th>stage</th><th>metric</th><th>value</th><th>warn</th><th>fail</th></tr>\n", &s);
		json_array_foreach(json_object_get(g, "checks"), i, e) {
			const char *st = sq_json_str(e, "status", "NA");
			char *v = json_dumps(json_object_get(e, "value") ? json_object_get(e, "value") : json_null(), JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
			char *w = json_dumps(json_object_get(e, "warn") ? json_object_get(e, "warn") : json_null(), JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
			char *f = json_dumps(json_object_get(e, "fail") ? json_object_get(e, "fail") : json_null(), JSON_ENCODE_ANY | JSON_REAL_PRECISION(6));
			ksprintf(&s, "<tr><td class=\"%s\">%s</td><td>", st, st); esc(&s, sq_json_str(e, "stage", ""));
			kputs("</td><td>", &s); esc(&s, sq_json_str(e, "metric", "")); kputs(" (", &s); esc(&s, sq_json_str(e, "rule", ""));
			kputs(")</td><td class=\"num\">", &s); esc(&s, v); kputs("</td><td class=\"num\">", &s); esc(&s, w);
			kputs("</td><td class=\"num\">", &s); esc(&s, f); kputs("</td></tr>\n", &s);
			free(v); free(w); free(f);
		}
		kputs("</table>\n", &s);
	}

	/* plots */
	kputs("<h2>Plots</h2>\n<div class=\"plots\">\n", &s);
	{
		double *x[2] = { 0, 0 }, *y[2] = { 0, 0 };
		json_t *pcq = json_object_get(fq, "per_cycle_quality");
		int n1 = arr_to_xy(json_object_get(pcq, "r1"), &x[0], &y[0]);
		int n2 = arr_to_xy(json_object_get(pcq, "r2"), &x[1], &y[1]);
		series_t ser[2] = { { x[0], y[0], n1, "R1", "#2e86c1" }, { x[1], y[1], n2, "R2", "#c0392b" } };
		line_plot(&s, "plot-per-cycle-quality", "Mean base quality per cycle", "cycle", "mean phred quality", ser, 2, 0);
		for (int k = 0; k < 2; ++k) { free(x[k]); free(y[k]); }
	}
	{
		double *x = 0, *y = 0;
		int n = arr_to_xy(json_object_get(al, "depth_histogram"), &x, &y);
		for (int i = 0; i < n; ++i) x[i] = i;
		double mean = json_number_value(json_object_get(json_object_get(json_object_get(al, "metrics"), "mean_autosome_coverage"), "value"));
		bar_plot(&s, "plot-depth-histogram", "Depth distribution (autosomes or target)", "depth (x)", "positions", x, y, n, 1, &mean, 1);
		free(x); free(y);
	}
	{
		double *x = 0, *y = 0;
		int n = arr_to_xy(json_object_get(al, "insert_size_histogram"), &x, &y);
		series_t ser = { x, y, n, "pairs", "#7d3c98" };
		line_plot(&s, "plot-insert-size", "Insert size distribution", "insert size (bp)", "pairs", &ser, 1, 0);
		free(x); free(y);
	}
	{
		double *x = 0, *y = 0;
		int n = arr_to_xy(json_object_get(al, "allele_balance_histogram"), &x, &y);
		for (int i = 0; i < n; ++i) x[i] = (double)i / (n ? n : 1);
		double marks[2] = { 0.5, 1.0 };
		bar_plot(&s, "plot-allele-balance", "Allele balance at variant-like sites (autosomes)", "alt allele fraction", "sites", x, y, n, 1.0 / (n ? n : 1), marks, 2);
		free(x); free(y);
	}
	kputs("</div>\n", &s);

	/* identity */
	if (al) {
		json_t *sx = json_object_get(al, "sex"), *ct = json_object_get(al, "contamination");
		kputs("<h2>Identity</h2>\n<table id=\"identity\">\n", &s);
		ksprintf(&s, "<tr><th>inferred sex</th><td>%s</td><th>declared</th><td>%s</td><th>concordance</th><td>%s</td></tr>\n",
		         sq_json_str(sx, "inferred", "-"), sq_json_str(sx, "declared", "-"), sq_json_str(sx, "concordance", "-"));
		ksprintf(&s, "<tr><th>X/autosome depth</th><td>%.3f</td><th>Y/autosome depth</th><td>%.3f</td><th>autosome depth</th><td>%.2f</td></tr>\n",
		         sq_json_num(sx, "x_autosome_ratio", 0), sq_json_num(sx, "y_autosome_ratio", 0), sq_json_num(sx, "autosome_mean_depth", 0));
		ksprintf(&s, "<tr><th>contamination</th><td>%s</td><th>sites</th><td>%lld</td><th>status</th><td>",
		         json_object_get(ct, "estimate") ? "" : "-", (long long)sq_json_int(ct, "sites", 0));
		esc(&s, sq_json_str(ct, "status", "-"));
		kputs("</td></tr>\n</table>\n", &s);
		if (json_object_get(ct, "estimate")) ksprintf(&s, "<p>Estimated contamination: <b>%.2f %%</b></p>\n", 100 * sq_json_num(ct, "estimate", 0));
	}
	kputs("<h2>Metrics</h2>\n", &s);
	metrics_table(&s, "FASTQ", fq);
	metrics_table(&s, "Alignment", al);
	metrics_table(&s, "VCF", vc);
	kputs("<script>\n(function(){var p=document.querySelectorAll('svg.plot');var n=0;\n"
	      "for(var i=0;i<p.length;i++){if(p[i].querySelector('polyline,rect.bar,text.nodata'))n++;}\n"
	      "document.body.setAttribute('data-plots',String(n));})();\n</script>\n</body></html>\n", &s);
	if (!s.s || s.l < 8 || strcmp(s.s + s.l - 8, "</html>\n") != 0) { free(s.s); return 0; }
	return s.s;
}

/* ---- MultiQC ------------------------------------------------------------------------- */

json_t *sq_qc_multiqc(const json_t *res)
{
	json_t *row = json_object(), *stages = json_object_get(res, "stages"), *st, *g = json_object_get(res, "gate");
	const char *sn;
	json_object_foreach(stages, sn, st) {
		const char *k;
		json_t *v;
		json_object_foreach(json_object_get(st, "metrics"), k, v) {
			json_t *val = json_object_get(v, "value");
			if (json_is_number(val) || json_is_string(val)) json_object_set(row, k, val);
		}
	}
	if (g) json_object_set_new(row, "qc_gate", json_string(sq_json_str(g, "status", "NA")));
	json_t *data = json_object();
	json_object_set_new(data, sq_json_str(res, "sample", "sample"), row);
	return json_pack("{s:s,s:s,s:s,s:s,s:{s:s,s:s},s:o}", "id", "seqa_qc", "section_name", "seqa clinical QC",
		"description", "Metrics and gate decision from seqa qc (GA4GH WGS-QC names where they exist).",
		"plot_type", "table", "pconfig", "id", "seqa_qc_table", "title", "seqa QC", "data", data);
}

/* Headline metrics for MultiQC's General Statistics table. */
static json_t *multiqc_general(const json_t *res)
{
	static const char *keys[] = { "pct_q30_bases", "pct_reads_mapped", "pct_reads_duplicated", "mean_autosome_coverage",
		"pct_autosomes_15x", "cross_contamination_rate", "inferred_sex", "ratio_ti_tv", 0 };
	json_t *row = json_object(), *stages = json_object_get(res, "stages"), *st, *g = json_object_get(res, "gate");
	const char *sn;
	for (int i = 0; keys[i]; ++i)
		json_object_foreach(stages, sn, st) {
			json_t *v = json_object_get(json_object_get(json_object_get(st, "metrics"), keys[i]), "value");
			if (v && (json_is_number(v) || json_is_string(v))) {
				char k[64];
				snprintf(k, sizeof k, "seqa_%s", keys[i]);
				json_object_set(row, k, v);
			}
		}
	if (g) json_object_set_new(row, "seqa_qc_gate", json_string(sq_json_str(g, "status", "NA")));
	json_t *data = json_object();
	json_object_set_new(data, sq_json_str(res, "sample", "sample"), row);
	return json_pack("{s:s,s:s,s:o}", "id", "seqa_general", "plot_type", "generalstats", "data", data);
}

/* JSON text with a final newline (NULL on failure). */
static char *dump_nl(const json_t *j)
{
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : 0, *t = 0;
	if (s && asprintf(&t, "%s\n", s) < 0) t = 0;
	free(s);
	return t;
}

int sq_qc_write_reports(const json_t *res, const char *outdir)
{
	char path[4][4096], safe[256];
	char *txt[4] = { 0, 0, 0, 0 };    /* SAMPLE.seqa_mqc.json, SAMPLE.seqa_general_mqc.json, qc.html, qc.json */
	int ret = 0, done = 0;
	size_t k = 0;
	if ((ret = sq_mkdir_p(outdir, 0755)) < 0) return ret;
	/* MultiQC finds custom content by the _mqc.json suffix */
	for (const char *c = sq_json_str(res, "sample", "sample"); *c && k + 1 < sizeof safe; ++c)
		safe[k++] = (*c == '/' || *c == ' ') ? '_' : *c;
	safe[k] = 0;
	snprintf(path[0], sizeof path[0], "%s/%s.seqa_mqc.json", outdir, safe);
	snprintf(path[1], sizeof path[1], "%s/%s.seqa_general_mqc.json", outdir, safe);
	snprintf(path[2], sizeof path[2], "%s/qc.html", outdir);
	snprintf(path[3], sizeof path[3], "%s/qc.json", outdir);
	/* everything is rendered first (a failed allocation anywhere, jansson's included, writes
	 * nothing), then written, qc.json last: its presence marks a complete report */
	unsigned mark = sq_qc_json_mark();
	json_t *mq = sq_qc_multiqc(res), *mg = multiqc_general(res);
	txt[0] = dump_nl(mq);
	txt[1] = dump_nl(mg);
	json_decref(mq);
	json_decref(mg);
	txt[2] = sq_qc_html(res);
	txt[3] = dump_nl(res);
	if (!txt[0] || !txt[1] || !txt[2] || !txt[3] || sq_qc_json_check(mark, "reports") < 0) {
		if (!txt[0] || !txt[1] || !txt[2] || !txt[3]) sq_log_error("out of memory rendering the QC reports");
		ret = SQ_ENOMEM;
		goto out;
	}
	for (; done < 4; ++done)
		if ((ret = sq_durable_write(path[done], txt[done], strlen(txt[done]))) < 0) break;
	if (ret < 0) for (int i = 0; i < done; ++i) unlink(path[i]);
out:
	for (int i = 0; i < 4; ++i) free(txt[i]);
	return ret;
}
