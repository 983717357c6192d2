/* seqa — the per-sample run: ingest -> align -> call -> QC -> provenance (-> outbox).
 *
 * Each stage is skipped when its record (seqa/pipeline.h) says its outputs are complete and
 * were made from the same inputs and parameters; the thread count and the backend are not
 * parameters (the outputs do not depend on them).  The run log OUTDIR/run.json lists every
 * stage with its status and timings; OUTDIR/provenance.json feeds the delivery manifest.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "seqa/align.h"
#include "seqa/cad.h"
#include "seqa/call.h"
#include "seqa/cli.h"
#include "seqa/hash.h"
#include "seqa/ingest.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/pipeline.h"
#include "seqa/qc.h"
#include "seqa/ref.h"
#include "seqa/util.h"
#include "seqa/version.h"

void sq_run_opt_init(sq_run_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->n_threads = 1;
	o->backend = "auto";
	o->gvcf = 1;
}

int sq_run_opt_check(const sq_run_opt_t *o)
{
	if (!o->ref) { sq_log_error("no reference given (-r)"); return SQ_EINVAL; }
	if (!o->outdir) { sq_log_error("no output folder given (-o)"); return SQ_EINVAL; }
	if (o->n_threads < 1) { sq_log_error("threads must be >= 1"); return SQ_EINVAL; }
	if (o->outbox && !(o->platform && o->sign_key && o->cad_key)) {
		sq_log_error("delivery needs --outbox, --platform, --sign-key and --cad-key together");
		return SQ_EINVAL;
	}
	return 0;
}

static void utc_now(char buf[32])
{
	time_t t = time(0);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* What logs and delivered files call a sample: its pseudonym, never the lab Sample_ID
 * (SECURITY.md §5); the lab id only names the local files of the run folder. */
#define PN(s) ((s)->pseudonym && (s)->pseudonym[0] ? (s)->pseudonym : (s)->id)
/* A path or text for qc.json / run.json with the lab id replaced by "{sample}" (malloc'd). */
static char *no_labid(const sq_fq_sample_t *s, const char *text)
{
	return sq_cli_redact(text, strcmp(s->id, PN(s)) ? s->id : NULL, "{sample}");
}

/* Replace the string member key of obj (if any) by its no_labid() copy.  0 or SQ_ENOMEM. */
static int no_labid_member(const sq_fq_sample_t *s, json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));
	char *r;
	if (!v) return 0;
	if (!(r = no_labid(s, v))) return SQ_ENOMEM;
	int ret = json_object_set_new(obj, key, json_string(r)) == 0 ? 0 : SQ_ENOMEM;
	free(r);
	return ret;
}

/* Paths of one sample's run folder. */
typedef struct {
	char dir[2048];
	char ingest[2300], bam[2300], bai[2300], dup[2300], vcf[2300], tbi[2300], gvcf[2300], gtbi[2300];
	char qc[2300], qc_html[2300], prov[2300], runlog[2300];
} run_paths_t;

static void paths_init(run_paths_t *p, const char *dir, const char *id)
{
	snprintf(p->dir, sizeof p->dir, "%s", dir);
	snprintf(p->ingest, sizeof p->ingest, "%s/ingest.json", dir);
	snprintf(p->bam, sizeof p->bam, "%s/%s.bam", dir, id);
	snprintf(p->bai, sizeof p->bai, "%s/%s.bam.bai", dir, id);
	snprintf(p->dup, sizeof p->dup, "%s/%s.markdup.json", dir, id);
	snprintf(p->vcf, sizeof p->vcf, "%s/%s.vcf.gz", dir, id);
	snprintf(p->tbi, sizeof p->tbi, "%s/%s.vcf.gz.tbi", dir, id);
	snprintf(p->gvcf, sizeof p->gvcf, "%s/%s.g.vcf.gz", dir, id);
	snprintf(p->gtbi, sizeof p->gtbi, "%s/%s.g.vcf.gz.tbi", dir, id);
	snprintf(p->qc, sizeof p->qc, "%s/qc.json", dir);
	snprintf(p->qc_html, sizeof p->qc_html, "%s/qc.html", dir);
	snprintf(p->prov, sizeof p->prov, "%s/provenance.json", dir);
	snprintf(p->runlog, sizeof p->runlog, "%s/run.json", dir);
}

/* Append one stage's entry to the run log array. */
static void log_stage(json_t *stages, const sq_stage_t *st, const char *status)
{
	json_t *rec = sq_stage_record(st->outdir, st->name);
	json_t *e = json_pack("{s:s, s:s}", "stage", st->name, "status", status);
	if (rec) {
		json_object_set(e, "wall_s", json_object_get(rec, "wall_s"));
		json_object_set(e, "cpu_s", json_object_get(rec, "cpu_s"));
		json_decref(rec);
	}
	json_array_append_new(stages, e);
}

/* ---- stages ------------------------------------------------------------------------------ */

static int stage_ingest(const sq_run_opt_t *o, sq_fq_sample_t *s, const run_paths_t *p, json_t *log, int *redo)
{
	sq_stage_t st = { .outdir = p->dir, .name = "ingest" };
	int ret;
	snprintf(st.params, sizeof st.params, "seqa=%s;id=%s;pseudonym=%s;indication=%s;sex=%s", sq_version(),
	         s->id, s->pseudonym, s->indication, sq_sex_name(s->sex));
	sq_stage_add_in(&st, s->files[0].path);
	sq_stage_add_in(&st, s->files[1].path);
	sq_stage_add_out(&st, p->ingest);
	if (!*redo && sq_stage_is_done(&st)) { log_stage(log, &st, "skipped"); return 0; }
	*redo = 1;
	sq_stage_begin(&st);
	/* validate this one sample as a batch of its own: one code path for every caller */
	json_t *doc = json_pack("{s:i, s:[{s:s, s:s, s:s, s:s, s:s, s:s}]}", "seqa_batch", 1, "samples",
	                        "id", s->id, "pseudonym", s->pseudonym, "indication", s->indication,
	                        "sex", sq_sex_name(s->sex), "r1", s->files[0].path, "r2", s->files[1].path);
	sq_fq_batch_t *b = doc ? sq_fq_batch_from_json(doc, "(seqa run)", ".") : 0;
	sq_fq_opt_t fo;
	json_decref(doc);
	if (!b) return SQ_ENOMEM;
	sq_fq_opt_init(&fo);
	fo.n_threads = o->n_threads;
	if ((ret = sq_fq_batch_validate(b, &fo)) < 0) goto out;
	if ((ret = sq_fq_batch_status(b)) < 0) {
		sq_fq_batch_print_errors(b, stderr);
		sq_log_error("sample '%s': input FASTQ failed validation; nothing was aligned", PN(s));
		goto out;
	}
	json_t *rep = sq_fq_batch_report(b);
	ret = rep ? sq_json_save(rep, p->ingest) : SQ_ENOMEM;
	if (ret == 0) {
		/* keep the provenance fields of the validated files */
		for (int k = 0; k < 2; ++k) {
			memcpy(s->files[k].sha256, b->samples[0].files[k].sha256, 65);
			s->files[k].reads = b->samples[0].files[k].reads;
			s->files[k].bases = b->samples[0].files[k].bases;
		}
		ret = sq_stage_done(&st, 0);
	}
	json_decref(rep);
out:
	sq_fq_batch_destroy(b);
	log_stage(log, &st, ret == 0 ? "done" : "failed");
	return ret;
}

static int stage_align(const sq_run_opt_t *o, const sq_fq_sample_t *s, const run_paths_t *p, json_t *log,
                       int *redo, char *backend_used, size_t bu_len)
{
	sq_stage_t st = { .outdir = p->dir, .name = "align" };
	sq_aln_opt_t ao;
	sq_aln_stats_t as;
	char rg[1024];
	int ret;
	snprintf(rg, sizeof rg, "@RG\\tID:%s\\tSM:%s\\tPL:ILLUMINA", s->id, s->pseudonym[0] ? s->pseudonym : s->id);
	sq_aln_opt_init(&ao);
	snprintf(st.params, sizeof st.params, "seqa=%s;rg=%s;batch=%lld;markdup=%d;optical=%d", sq_version(), rg,
	         (long long)ao.batch_bases, ao.mark_dups, ao.optical_dist);
	sq_stage_add_in(&st, o->ref);
	sq_stage_add_in(&st, s->files[0].path);
	sq_stage_add_in(&st, s->files[1].path);
	sq_stage_add_out(&st, p->bam);
	sq_stage_add_out(&st, p->bai);
	sq_stage_add_out(&st, p->dup);
	if (!*redo && sq_stage_is_done(&st)) { log_stage(log, &st, "skipped"); return 0; }
	*redo = 1;
	sq_stage_begin(&st);
	ao.ref = o->ref;
	ao.r1 = s->files[0].path, ao.r2 = s->files[1].path;
	ao.out = p->bam;
	ao.dup_json = p->dup;
	ao.rg = rg;
	ao.backend = o->backend;
	ao.n_threads = o->n_threads;
	memset(&as, 0, sizeof as);
	if ((ret = sq_aln_opt_check(&ao)) == 0 && (ret = sq_aln_run(&ao, &as)) == 0) {
		snprintf(backend_used, bu_len, "%s", as.backend);
		json_t *res = json_pack("{s:I, s:I, s:I, s:s}", "pairs", (json_int_t)as.n_pairs, "mapped",
		                        (json_int_t)as.n_mapped, "properly_paired", (json_int_t)as.n_proper, "backend", as.backend);
		ret = sq_stage_done(&st, res);
		json_decref(res);
	}
	log_stage(log, &st, ret == 0 ? "done" : "failed");
	return ret;
}

static int stage_call(const sq_run_opt_t *o, const sq_fq_sample_t *s, const run_paths_t *p, json_t *log,
                      int *redo, char *backend_used, size_t bu_len)
{
	sq_stage_t st = { .outdir = p->dir, .name = "call" };
	sq_call_opt_t co;
	sq_call_stats_t cs;
	int ret;
	sq_call_opt_init(&co);
	snprintf(st.params, sizeof st.params, "seqa=%s;sample=%s;gvcf=%d;regions=%s;mapq=%d;baseq=%d;chunk=%d", sq_version(),
	         s->pseudonym[0] ? s->pseudonym : s->id, o->gvcf, o->regions ? o->regions : "", co.min_mapq, co.min_baseq, co.chunk);
	sq_stage_add_in(&st, o->ref);
	sq_stage_add_in(&st, p->bam);
	if (o->regions) sq_stage_add_in(&st, o->regions);
	sq_stage_add_out(&st, p->vcf);
	sq_stage_add_out(&st, p->tbi);
	if (o->gvcf) sq_stage_add_out(&st, p->gvcf), sq_stage_add_out(&st, p->gtbi);
	if (!*redo && sq_stage_is_done(&st)) { log_stage(log, &st, "skipped"); return 0; }
	*redo = 1;
	sq_stage_begin(&st);
	co.ref_path = o->ref;
	co.bam_path = p->bam;
	co.out_path = p->vcf;
	co.gvcf_path = o->gvcf ? p->gvcf : 0;
	co.regions_path = o->regions;
	co.sample = s->pseudonym[0] ? s->pseudonym : s->id;
	co.backend = o->backend;
	co.n_threads = o->n_threads;
	memset(&cs, 0, sizeof cs);
	if ((ret = sq_call_opt_check(&co)) == 0 && (ret = sq_call_run(&co, &cs)) == 0) {
		snprintf(backend_used, bu_len, "%s", cs.backend);
		json_t *res = json_pack("{s:I, s:I, s:I, s:I, s:s}", "records", (json_int_t)cs.n_records, "snp",
		                        (json_int_t)cs.n_snp, "indel", (json_int_t)cs.n_indel, "pass", (json_int_t)cs.n_pass,
		                        "backend", cs.backend);
		ret = sq_stage_done(&st, res);
		json_decref(res);
	}
	log_stage(log, &st, ret == 0 ? "done" : "failed");
	return ret;
}

/* QC over the three stages and the gate of the sample's indication. *gate_status: SQ_QC_*. */
static int stage_qc(const sq_run_opt_t *o, const sq_fq_sample_t *s, const run_paths_t *p, json_t *log,
                    int *redo, int *gate_status, int *deliverable)
{
	sq_stage_t st = { .outdir = p->dir, .name = "qc" };
	sq_qc_profile_t *prof = 0;
	sq_qc_opt_t qo;
	json_t *res = 0, *x = 0, *gate = 0;
	char now[32], psha[65] = "";
	int ret = 0;
	*gate_status = SQ_QC_NA;
	*deliverable = 0;
	if (o->qc_profile) prof = sq_qc_profile_load(o->qc_profile);
	else if (s->ind) {
		/* profiles shipped beside the binary (build tree) when no folder is given */
		char exe[2048], dir[2100];
		const char *pd = o->profiles_dir;
		ssize_t n = pd ? -1 : readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n > 0) {
			exe[n] = 0;
			*strrchr(exe, '/') = 0;
			snprintf(dir, sizeof dir, "%s/qc/profiles", exe);
			if (access(dir, R_OK) == 0 && !getenv("SEQA_QC_PROFILES")) pd = dir;
		}
		prof = sq_qc_profile_for_indication(pd, s->ind->code);
	}
	if ((o->qc_profile || s->ind) && !prof) return SQ_EINPUT;
	if (prof) {
		char *txt = json_dumps(sq_qc_profile_json(prof), JSON_SORT_KEYS | JSON_COMPACT);
		if (txt) sq_sha256_buf(txt, strlen(txt), psha), free(txt);
		if (!psha[0]) { sq_qc_profile_destroy(prof); return SQ_ENOMEM; }   /* no digest: out of memory */
	}
	sq_qc_opt_init(&qo);
	qo.n_threads = o->n_threads;
	qo.reference = o->ref;
	qo.declared_sex = s->sex;
	snprintf(st.params, sizeof st.params, "seqa=%s;sample=%s;indication=%s;sex=%s;profile=%s;override=%s/%s", sq_version(),
	         s->id, s->indication, sq_sex_name(s->sex), psha, o->override_by ? o->override_by : "",
	         o->override_why ? o->override_why : "");
	sq_stage_add_in(&st, s->files[0].path);
	sq_stage_add_in(&st, s->files[1].path);
	sq_stage_add_in(&st, p->bam);
	sq_stage_add_in(&st, p->vcf);
	sq_stage_add_out(&st, p->qc);
	sq_stage_add_out(&st, p->qc_html);
	if (!*redo && sq_stage_is_done(&st)) {
		json_t *q = sq_json_load(p->qc);
		*gate_status = q && json_is_object(json_object_get(q, "gate")) ? sq_qc_gate_status(json_object_get(q, "gate")) : SQ_QC_NA;
		*deliverable = q && sq_qc_gate_deliverable(json_object_get(q, "gate"));
		json_decref(q);
		log_stage(log, &st, "skipped");
		sq_qc_profile_destroy(prof);
		return 0;
	}
	*redo = 1;
	sq_stage_begin(&st);
	utc_now(now);
	res = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}, s:{}}",
	                "schema", SQ_QC_SCHEMA, "sample", PN(s), "pseudonym", s->pseudonym,
	                "indication", s->ind ? s->ind->code : 0, "declared_sex", sq_sex_name(s->sex),
	                "seqa_version", sq_version(), "seqa_commit", sq_commit(), "created", now,
	                "command", sq_cli_cmdline(), "inputs", "r1", s->files[0].path, "r2", s->files[1].path,
	                "bam", p->bam, "vcf", p->vcf, "reference", o->ref, "stages");
	if (!res) { ret = SQ_ENOMEM; goto out; }
	json_t *stages = json_object_get(res, "stages");
	if ((ret = sq_qc_fastq(s->files[0].path, s->files[1].path, &qo, &x)) < 0) goto out;
	json_object_set_new(stages, "fastq", x);
	if ((ret = sq_qc_bam(p->bam, &qo, &x)) < 0) goto out;
	json_object_set_new(stages, "alignment", x);
	if ((ret = sq_qc_vcf(p->vcf, &qo, &x)) < 0) goto out;
	json_object_set_new(stages, "vcf", x);
	if (prof) {
		if (!(gate = sq_qc_gate_eval(prof, res))) { ret = SQ_ENOMEM; goto out; }
		if (o->override_by && (ret = sq_qc_gate_override(gate, o->override_by, o->override_why, 0)) < 0) goto out;
		*gate_status = sq_qc_gate_status(gate);
		*deliverable = sq_qc_gate_deliverable(gate);
		json_object_set_new(res, "gate", gate);
		gate = 0;
	} else {
		sq_log_warn("sample '%s': no QC profile (no indication): metrics computed, no gate; not deliverable", PN(s));
		json_object_set_new(res, "gate", json_null());
	}
	{ /* qc.json and qc.html are delivered: paths named after the lab id show "{sample}" */
		json_t *in = json_object_get(res, "inputs"), *fq = json_object_get(json_object_get(stages, "fastq"), "files");
		static const char *const keys[] = { "r1", "r2", "bam", "vcf", "reference" };
		for (size_t k = 0; k < sizeof keys / sizeof *keys; ++k)
			if ((ret = no_labid_member(s, in, keys[k])) < 0) goto out;
		for (size_t k = 0; k < json_array_size(fq); ++k)
			if ((ret = no_labid_member(s, json_array_get(fq, k), "path")) < 0) goto out;
		if ((ret = no_labid_member(s, json_object_get(stages, "alignment"), "path")) < 0
		    || (ret = no_labid_member(s, json_object_get(stages, "vcf"), "path")) < 0) goto out;
	}
	if ((ret = sq_qc_write_reports(res, p->dir)) < 0) goto out;
	ret = sq_stage_done(&st, json_object_get(res, "gate"));
out:
	json_decref(gate);
	json_decref(res);
	sq_qc_profile_destroy(prof);
	log_stage(log, &st, ret == 0 ? "done" : "failed");
	return ret;
}

/* provenance.json: what the manifest needs beyond the files themselves. */
static int write_provenance(const sq_run_opt_t *o, const sq_fq_sample_t *s, const run_paths_t *p,
                            const json_t *run_meta, const json_t *log, const char *backend, const char *t0)
{
	char now[32], rsha[65] = "";
	json_t *ref = json_object(), *contigs = json_array();
	sq_ref_t *r = 0;
	int ret;
	utc_now(now);
	/* the contig table written by `seqa index` (names, lengths, MD5s) */
	if ((r = sq_ref_load(o->ref)) != 0) {
		for (int i = 0; i < r->n; ++i)
			json_array_append_new(contigs, json_pack("{s:s, s:I, s:s}", "name", r->ctg[i].name,
			                                         "length", (json_int_t)r->ctg[i].len, "md5", r->ctg[i].md5));
		json_object_set_new(ref, "assembly", json_string(r->assembly));
		if (r->sha256[0]) snprintf(rsha, sizeof rsha, "%s", r->sha256);
		sq_ref_destroy(r);
	}
	if (!rsha[0] && sq_sha256_file(o->ref, rsha) < 0) rsha[0] = 0;
	json_object_set_new(ref, "path", json_string(o->ref));
	json_object_set_new(ref, "sha256", json_string(rsha));
	json_object_set_new(ref, "contigs", contigs);
	json_t *ingest = sq_json_load(p->ingest);
	json_t *files = json_deep_copy(json_object_get(json_array_get(json_object_get(ingest, "samples"), 0), "files"));
	json_decref(ingest);
	const char *user = getenv("SEQA_OPERATOR") ? getenv("SEQA_OPERATOR") : getenv("USER");
	json_t *prov = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:O?, s:o, s:o, s:{s:s, s:s, s:s}, s:s, s:s, s:{s:i, s:i}, s:O, s:s, s:s, s:s?}",
		"schema", "seqa-provenance/1", "sample_id", s->id, "pseudonym", s->pseudonym,
		"indication", s->ind ? s->ind->code : 0, "indication_name", s->ind ? s->ind->name : 0,
		"declared_sex", sq_sex_name(s->sex), "run", run_meta,
		"inputs", files ? files : json_array(), "reference", ref,
		"software", "name", "seqa", "version", sq_version(), "commit", sq_commit(),
		"backend", backend, "command", sq_cli_cmdline(),
		"parameters", "threads", o->n_threads, "gvcf", o->gvcf,
		"stages", log, "started", t0, "finished", now, "operator", user);
	if (!prov) return SQ_ENOMEM;
	ret = sq_json_save(prov, p->prov);
	json_decref(prov);
	return ret;
}

/* Queue a deliverable sample in the outbox (idempotent: the delivery id derives from content). */
static int stage_deliver(const sq_run_opt_t *o, const run_paths_t *p, json_t *log, int gate_ok, char id[65])
{
	sq_stage_t st = { .outdir = p->dir, .name = "deliver" };
	sq_cad_delivery_opt_t d;
	sq_cad_outbox_t *ob = 0;
	uint8_t sk[64], rcpt[1][32];
	char spool[4096];
	int ret;
	id[0] = 0;
	if (!gate_ok) {
		sq_log_warn("QC gate not passed (and no override): results NOT queued for delivery");
		json_array_append_new(log, json_pack("{s:s, s:s}", "stage", "deliver", "status", "held (QC)"));
		return 0;
	}
	snprintf(st.params, sizeof st.params, "seqa=%s;outbox=%s;platform=%s;cad=%s", sq_version(), o->outbox, o->platform, o->cad_key);
	sq_stage_add_in(&st, p->vcf);
	sq_stage_add_in(&st, p->qc);
	sq_stage_add_in(&st, p->prov);
	if (sq_stage_is_done(&st)) {
		json_t *rec = sq_stage_record(p->dir, "deliver");
		snprintf(id, 65, "%s", sq_json_str(json_object_get(rec, "result"), "delivery_id", ""));
		json_decref(rec);
		log_stage(log, &st, "skipped");
		return 0;
	}
	sq_stage_begin(&st);
	if ((ret = sq_cad_sign_load_sk(o->sign_key, sk)) < 0 || (ret = sq_cad_c4gh_load_pk(o->cad_key, rcpt[0])) < 0) goto out;
	if (o->spool) snprintf(spool, sizeof spool, "%s", o->spool);
	else {
		const char *sl = strrchr(o->outbox, '/');
		snprintf(spool, sizeof spool, "%.*s%sspool", sl ? (int)(sl - o->outbox) : 0, o->outbox, sl ? "/" : "");
	}
	{ /* the outbox's folder may not exist yet */
		char obdir[4096];
		const char *sl = strrchr(o->outbox, '/');
		snprintf(obdir, sizeof obdir, "%.*s", sl ? (int)(sl - o->outbox) : 1, sl ? o->outbox : ".");
		if ((ret = sq_mkdir_p(obdir, 0700)) < 0) goto out;
	}
	if (!(ob = sq_cad_outbox_open(o->outbox))) { ret = SQ_EOUTPUT; goto out; }
	sq_cad_delivery_opt_init(&d);
	d.run_dir = p->dir;
	d.platform_id = o->platform;
	d.sign_sk = sk;
	d.rcpt = (const uint8_t (*)[32])rcpt;
	d.n_rcpt = 1;
	if ((ret = sq_cad_outbox_submit_run(ob, &d, spool, id)) == 0) {
		json_t *res = json_pack("{s:s}", "delivery_id", id);
		sq_log_info("results queued for delivery %.16s... (seqa push delivers them)", id);
		ret = sq_stage_done(&st, res);
		json_decref(res);
	}
out:
	sodium_memzero(sk, sizeof sk);
	sq_cad_outbox_close(ob);
	log_stage(log, &st, ret == 0 ? "done" : "failed");
	return ret;
}

/* Remove NAME.tmp.PID* files of dir left by a run that was killed (PID no longer alive): the
 * temporaries of durable outputs, BAM/VCF writers and sort spills. */
static void remove_stale_tmp(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	if (!dp) return;
	while ((de = readdir(dp))) {
		const char *t = strstr(de->d_name, ".tmp.");
		char *end, path[8192];
		long pid;
		if (!t) continue;
		pid = strtol(t + 5, &end, 10);
		if (end == t + 5 || pid <= 0 || pid == (long)getpid()) continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path && unlink(path) == 0)
			sq_log_info("removed '%s' left by an interrupted run", path);
	}
	closedir(dp);
}

int sq_run_sample(const sq_run_opt_t *o, sq_fq_sample_t *s, const json_t *run_meta, const char *dir,
                  sq_run_result_t *out)
{
	run_paths_t p;
	json_t *log = json_array();
	char t0[32], backend[256] = "", be2[256] = "";
	int ret, redo = o->force, gate = SQ_QC_NA;
	double t_start = sq_realtime();
	memset(out, 0, sizeof *out);
	out->gate = SQ_QC_NA;
	utc_now(t0);
	paths_init(&p, dir, s->id);
	if ((ret = sq_mkdir_p(dir, 0755)) < 0) goto out;
	sq_log_info("sample '%s': run folder %s", PN(s), dir);
	{
		char sd[8192];
		remove_stale_tmp(dir);
		snprintf(sd, sizeof sd, "%s/.seqa", dir);
		remove_stale_tmp(sd);
	}
	if ((ret = stage_ingest(o, s, &p, log, &redo)) < 0) goto out;
	if ((ret = stage_align(o, s, &p, log, &redo, backend, sizeof backend)) < 0) goto out;
	if ((ret = stage_call(o, s, &p, log, &redo, be2, sizeof be2)) < 0) goto out;
	if ((ret = stage_qc(o, s, &p, log, &redo, &gate, &out->deliverable)) < 0) goto out;
	{
		char both[600];
		snprintf(both, sizeof both, "align:%s call:%s", backend[0] ? backend : "(previous run)", be2[0] ? be2 : "(previous run)");
		if ((ret = write_provenance(o, s, &p, run_meta, log, both, t0)) < 0) goto out;
	}
	if (o->outbox && (ret = stage_deliver(o, &p, log, out->deliverable, out->delivery_id)) < 0) goto out;
	out->gate = gate;
out:
	{
		json_t *rl = json_pack("{s:s, s:s, s:s, s:O, s:f, s:s, s:s}", "sample", PN(s), "seqa_version", sq_version(),
		                       "command", sq_cli_cmdline(), "stages", log, "wall_s", sq_realtime() - t_start,
		                       "status", ret == 0 ? "complete" : "failed", "gate", sq_qc_status_name(gate));
		/* run.json says "complete": a run whose log cannot be written did not complete */
		if ((!rl || sq_mkdir_p(dir, 0755) < 0 || sq_json_save(rl, p.runlog) < 0) && ret == 0) ret = SQ_EOUTPUT;
		json_decref(rl);
	}
	snprintf(out->dir, sizeof out->dir, "%s", dir);
	json_decref(log);
	return ret;
}
