/* seqa — `seqa align`: the pipeline.
 *
 *   reader thread     FASTQ -> batch k+1 (bseq1_t, pairs interleaved); it reads the next
 *                     batch only once batch k has been taken, so two batches of reads exist
 *   main thread       batch k: seeding on the backend and extension by chunks of reads
 *                     (n_threads), the batch's insert-size estimate, then per pair on
 *                     n_threads: pairing, BAM records + duplicate signature, and the records
 *                     go straight into the sort buffer (under a mutex; past sort_mem the
 *                     buffer is spilled as a sorted run, the workers waiting)
 * Finally the runs are merged, duplicates flagged and the BAM written with multi-threaded BGZF
 * and its .bai built on the fly.  The index is freed before that.
 *
 * Memory (see README, seqa align): index (bwt + sa + pac + the CPU backend's occurrence and
 * dense suffix-array tables) + 2 batches of reads (--batch-size) + one chunk of seeds +
 * sort buffer (--sort-mem) + 56 bytes per pair of duplicate signatures (the only term that
 * grows with the input; duplicate marking at the end needs ~200 bytes per pair).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <malloc.h>
#include <sys/stat.h>
#include "core.h"
#include "fqpair.h"
#include "pair.h"
#include "records.h"
#include "seqa/align.h"
#include "seqa/cli.h"
#include "seqa/durable.h"
#include "seqa/log.h"
#include "seqa/ref.h"
#include "seqa/thpool.h"
#include "seqa/util.h"
#include "seqa/version.h"

void sq_aln_opt_init(sq_aln_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->backend = "auto";
	o->n_threads = 1;
	o->batch_bases = 10000000;
	o->sort_mem = 48LL << 20;
	o->level = -1;
	o->optical_dist = 100;
	o->mark_dups = 1;
}

int sq_aln_opt_check(const sq_aln_opt_t *o)
{
	if (!o->ref || !o->r1 || !o->out) { sq_log_error("reference, reads and output are required"); return SQ_EINVAL; }
	if (o->n_threads < 1) { sq_log_error("threads must be >= 1"); return SQ_EINVAL; }
	if (o->batch_bases < 1000) { sq_log_error("batch size must be >= 1000 bases"); return SQ_EINVAL; }
	if (o->level < -1 || o->level > 9) { sq_log_error("compression level must be 0..9"); return SQ_EINVAL; }
	if (o->rg && strncmp(o->rg, "@RG", 3) != 0) { sq_log_error("read group must start with @RG"); return SQ_EINVAL; }
	if (o->rg && !strstr(o->rg, "ID:")) { sq_log_error("read group has no ID: field"); return SQ_EINVAL; }
	return 0;
}

/* ---- index validation (libbwa exits on bad files, so check first) ------------------------- */

static int check_index(const char *ref, const bntseq_t *bns)
{
	char p[4096];
	snprintf(p, sizeof p, "%s.fai", ref);
	FILE *fp = fopen(p, "r");
	if (!fp) return 0;                                  /* nothing more to compare with */
	char line[8192];
	int i = 0, r = 0;
	while (fgets(line, sizeof line, fp)) {
		char *t = strchr(line, '\t');
		if (!t) continue;
		*t = 0;
		long long len = atoll(t + 1);
		if (i >= bns->n_seqs || strcmp(line, bns->anns[i].name) != 0 || len != bns->anns[i].len) {
			sq_log_error("index of '%s' does not match the reference: contig %d is '%s' (%lld bp) in %s.fai but '%s' (%lld bp) in the index; rebuild it with 'seqa index %s'",
			             ref, i + 1, line, len, ref, i < bns->n_seqs ? bns->anns[i].name : "(none)",
			             i < bns->n_seqs ? (long long)bns->anns[i].len : 0LL, ref);
			r = SQ_EINPUT;
			break;
		}
		++i;
	}
	fclose(fp);
	if (r == 0 && i != bns->n_seqs) {
		sq_log_error("index of '%s' has %d contigs but %s.fai lists %d; rebuild it with 'seqa index %s'", ref, bns->n_seqs, ref, i, ref);
		r = SQ_EINPUT;
	}
	return r;
}

/* ---- header ------------------------------------------------------------------------------ */

static char *unescape_rg(const char *s)
{
	char *o = sq_malloc(strlen(s) + 1), *q = o;
	if (!o) return NULL;
	for (; *s; ++s) {
		if (s[0] == '\\' && s[1] == 't') { *q++ = '\t'; ++s; }
		else if (s[0] == '\\' && s[1] == '\\') { *q++ = '\\'; ++s; }
		else *q++ = *s;
	}
	*q = 0;
	return o;
}

static sam_hdr_t *make_header(const bntseq_t *bns, const char *rg, const char *backend, const char *dev)
{
	kstring_t ks = KS_INITIALIZE;
	ksprintf(&ks, "@HD\tVN:1.6\tSO:coordinate\n");
	for (int i = 0; i < bns->n_seqs; ++i) ksprintf(&ks, "@SQ\tSN:%s\tLN:%lld\n", bns->anns[i].name, (long long)bns->anns[i].len);
	if (rg) ksprintf(&ks, "%s\n", rg);
	ksprintf(&ks, "@PG\tID:seqa\tPN:seqa\tVN:%s\tDS:backend=%s;device=%s;bwa-mem-0.7.17-compatible\tCL:%s\n",
	         sq_version(), backend, dev, sq_cli_cmdline());
	sam_hdr_t *h = ks.s ? sam_hdr_parse(ks.l, ks.s) : NULL;
	free(ks.s);
	if (h && sam_hdr_nref(h) > 0) (void)sam_hdr_name2tid(h, sam_hdr_tid2name(h, 0));   /* build the name hash now, before threads */
	return h;
}

/* ---- pipeline ----------------------------------------------------------------------------- */

typedef struct batch_s {
	int64_t idx, id0;                 /* batch index, first pair index */
	bseq1_t *reads; int n;
	sq_dupsig_t *sig; int n_sig;      /* one per unit (pair or single read) */
} batch_t;

typedef struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	batch_t *item;
	int closed;
} slot_t;

typedef struct {                      /* per worker thread: the records of one unit */
	bam1_t **recs; int n, m;
} scratch_t;

typedef struct {
	const sq_aln_opt_t *o;
	sq_aln_ctx_t cx;
	sq_fqp_t *fq;
	sam_hdr_t *h;
	sq_sorter_t *sort;
	pthread_mutex_t sort_mu;          /* workers add their records to the sorter under it */
	slot_t in;
	scratch_t *scr;                   /* n_threads */
	int samtext;                      /* records from bwa's SAM text (the reference path) */
	volatile int abort;
	int err_read;
	int64_t n_pairs_read;
	sq_dupset_t *dups;                /* duplicate keys, spilled past sort_mem / 2 */
	int64_t n_records, n_mapped, n_proper, n_secsupp;
} pipe_t;

static void slot_wait_empty(pipe_t *p, slot_t *s)
{
	pthread_mutex_lock(&s->mu);
	while (s->item && !p->abort) pthread_cond_wait(&s->cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
}

/* 1 if the slot took b; 0 after an abort (the caller still owns b). */
static int slot_put(pipe_t *p, slot_t *s, batch_t *b)
{
	int took = 0;
	pthread_mutex_lock(&s->mu);
	while (s->item && !p->abort) pthread_cond_wait(&s->cv, &s->mu);
	if (!p->abort) s->item = b, took = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return took;
}

static batch_t *slot_get(pipe_t *p, slot_t *s)
{
	batch_t *b;
	pthread_mutex_lock(&s->mu);
	while (!s->item && !s->closed && !p->abort) pthread_cond_wait(&s->cv, &s->mu);
	b = p->abort ? NULL : s->item;
	s->item = NULL;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	return b;
}

static void slot_close(slot_t *s)
{
	pthread_mutex_lock(&s->mu);
	s->closed = 1;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

static void pipe_abort(pipe_t *p)
{
	p->abort = 1;
	pthread_mutex_lock(&p->in.mu);
	pthread_cond_broadcast(&p->in.cv);
	pthread_mutex_unlock(&p->in.mu);
}

static void batch_free(batch_t *b)
{
	if (!b) return;
	sq_fqp_free_seqs(b->reads, b->n);
	free(b->sig);
	free(b);
}

/* Reads one batch ahead: the next batch is read only once the previous one has been taken,
 * so at most two batches of reads exist (the one aligned, the one read). */
static void *reader(void *data)
{
	pipe_t *p = data;
	int64_t idx = 0;
	while (!p->abort) {
		slot_wait_empty(p, &p->in);
		if (p->abort) break;
		batch_t *b = sq_calloc(1, sizeof *b);
		if (!b) { p->err_read = SQ_ENOMEM; break; }
		int r = sq_fqp_read(p->fq, p->o->batch_bases, &b->reads, &b->n);
		if (r == -1) { free(b); break; }
		if (r < 0) { free(b); p->err_read = r; break; }
		b->idx = idx++;
		b->id0 = p->n_pairs_read;
		p->n_pairs_read += p->cx.paired ? b->n / 2 : b->n;
		if (!slot_put(p, &p->in, b)) { batch_free(b); break; }
	}
	if (p->err_read) pipe_abort(p);
	slot_close(&p->in);
	return NULL;
}

typedef struct { pipe_t *p; batch_t *b; } emit_ud_t;

/* One unit (pair or single read): its records go straight into the sorter, its duplicate
 * signature into the batch, and the read's own memory is released at once. */
static int emit_unit(void *data, int tid, int64_t unit, const mem_pestat_t pes[4], bseq1_t *s, mem_alnreg_v *regs)
{
	emit_ud_t *u = data;
	pipe_t *p = u->p;
	batch_t *b = u->b;
	scratch_t *sc = &p->scr[tid];
	int paired = p->cx.paired, r;
	uint64_t pid = (uint64_t)(b->id0 + unit);
	sc->n = 0;
	if (p->samtext) {
		sq_aln_sam_text(&p->cx, pes, pid, s, regs);
		char *sam[2] = { s[0].sam, paired ? s[1].sam : NULL };
		r = sq_rec_from_sam(p->h, pid, s[0].name, sam, &sc->recs, &sc->n, &sc->m, &b->sig[unit]);
	} else {
		r = sq_rec_build(p->cx.mopt, p->cx.idx->bns, p->cx.idx->pac, paired ? pes : NULL, pid, s, regs,
		                 &sc->recs, &sc->n, &sc->m, &b->sig[unit]);
	}
	for (int k = 0; k < 1 + paired; ++k) {
		free(s[k].sam); free(s[k].name); free(s[k].seq); free(s[k].qual); free(s[k].comment);
		s[k].sam = s[k].name = s[k].seq = s[k].qual = s[k].comment = NULL;
	}
	if (r < 0) return r;
	pthread_mutex_lock(&p->sort_mu);
	for (int i = 0; i < sc->n && r == 0; ++i) {
		const bam1_t *x = sc->recs[i];
		uint16_t f = x->core.flag;
		++p->n_records;
		if (f & (BAM_FSECONDARY | BAM_FSUPPLEMENTARY)) ++p->n_secsupp;
		else {
			if (!(f & BAM_FUNMAP)) ++p->n_mapped;
			if ((f & BAM_FPROPER_PAIR) && !(f & BAM_FUNMAP)) ++p->n_proper;
		}
		r = sq_sorter_add(p->sort, x);
	}
	pthread_mutex_unlock(&p->sort_mu);
	return r;
}

static void log_memory(int64_t idx, int n_units)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f) { if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0; fclose(f); }
	sq_log_debug("batch %lld: %d units, RSS %ld MiB", (long long)idx, n_units, rss * (sysconf(_SC_PAGESIZE) / 1024) / 1024);
}

static void scratch_free(pipe_t *p, int n)
{
	if (!p->scr) return;
	for (int t = 0; t < n; ++t) {
		for (int i = 0; i < p->scr[t].m; ++i) if (p->scr[t].recs[i]) bam_destroy1(p->scr[t].recs[i]);
		free(p->scr[t].recs);
	}
	free(p->scr);
	p->scr = NULL;
}

static int dup_lookup(void *data, uint64_t pid, int mate)
{
	const uint8_t *bm = data;
	return bm[pid >> 2] >> ((pid & 3) * 2 + mate) & 1;
}

static int probe_writable(const char *path)
{
	char tmp[4096];
	snprintf(tmp, sizeof tmp, "%s.probe.%d", path, (int)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) { sq_log_error("cannot write output '%s': %s", path, strerror(errno)); return SQ_EOUTPUT; }
	close(fd);
	unlink(tmp);
	return 0;
}

static char *rg_field(const char *rg, const char *tag)
{
	const char *p = rg;
	size_t tl = strlen(tag);
	while ((p = strchr(p, '\t'))) {
		++p;
		if (strncmp(p, tag, tl) == 0) {
			size_t l = strcspn(p + tl, "\t\n");
			char *o = sq_malloc(l + 1);
			if (o) { memcpy(o, p + tl, l); o[l] = 0; }
			return o;
		}
	}
	return NULL;
}

int sq_aln_run(const sq_aln_opt_t *o, sq_aln_stats_t *st)
{
	pipe_t p;
	int r;
	char *rg = NULL, *tmp_bam = NULL, *tmp_bai = NULL, *bai = NULL, *json = NULL, *tmp_prefix = NULL;
	uint8_t *dupbm = NULL;
	htsFile *fp = NULL;
	pthread_t th_r;
	int th_r_on = 0, dup_written = 0;
	memset(&p, 0, sizeof p);
	memset(st, 0, sizeof *st);
	pthread_mutex_init(&p.in.mu, NULL); pthread_cond_init(&p.in.cv, NULL);
	pthread_mutex_init(&p.sort_mu, NULL);
	p.o = o;
	if ((r = sq_aln_opt_check(o)) < 0) goto done;
	/* Buffers of 256 KiB and more come from mmap and go back to the system when freed (glibc
	 * would otherwise raise this threshold to the largest block freed so far and keep the
	 * per-batch arrays in its heaps: ~60 MB more peak RSS at 30x). */
	mallopt(M_MMAP_THRESHOLD, 256 << 10);
	if (o->rg && !(rg = unescape_rg(o->rg))) { r = SQ_ENOMEM; goto done; }
	/* inputs first (cheap), then the output location, then the index */
	if (!(p.fq = sq_fqp_open(o->r1, o->r2, &r))) goto done;
	if ((r = probe_writable(o->out)) < 0) goto done;
	if (!sq_file_readable(o->ref)) { sq_log_error("cannot open reference '%s'", o->ref); r = SQ_EIO; goto done; }
	if ((r = sq_ref_check_index(o->ref)) < 0) goto done;
	{
		struct stat s1, s2;
		int64_t in_bytes = (stat(o->r1, &s1) == 0 ? (int64_t)s1.st_size : 0) + (o->r2 && stat(o->r2, &s2) == 0 ? (int64_t)s2.st_size : 0);
		if ((r = sq_aln_ctx_open(&p.cx, o->ref, o->backend, o->n_threads, o->r2 != NULL, in_bytes)) < 0) goto done;
	}
	if ((r = check_index(o->ref, p.cx.idx->bns)) < 0) goto done;
	snprintf(st->backend, sizeof st->backend, "%s", sq_seeder_name(p.cx.be));
	if (rg) { /* bwa_set_rg wants the escaped form ("\\t") and returns the unescaped line */
		char *esc = sq_malloc(2 * strlen(rg) + 1), *q = esc, *u = NULL;
		if (esc) {
			for (const char *c = rg; *c; ++c) {
				if (*c == '\t') *q++ = '\\', *q++ = 't';
				else *q++ = *c;
			}
			*q = 0;
			u = bwa_set_rg(esc);
		}
		free(esc);
		if (!u) { sq_log_error("invalid read group '%s'", o->rg); r = SQ_EINVAL; goto done; }
		free(u);
	}
	if (!rg) bwa_rg_id[0] = 0;
	p.h = make_header(p.cx.idx->bns, rg, sq_dev_kind_name(sq_seeder_kind(p.cx.be)), sq_seeder_name(p.cx.be));
	if (!p.h) { sq_log_error("cannot build the BAM header"); r = SQ_EINVAL; goto done; }
	size_t lo = strlen(o->out) + 64;
	tmp_bam = sq_malloc(lo); tmp_bai = sq_malloc(lo); bai = sq_malloc(lo); json = sq_malloc(lo); tmp_prefix = sq_malloc(lo + 4096);
	if (!tmp_bam || !tmp_bai || !bai || !json || !tmp_prefix) { r = SQ_ENOMEM; goto done; }
	snprintf(tmp_bam, lo, "%s.tmp.%d", o->out, (int)getpid());
	snprintf(tmp_bai, lo, "%s.bai.tmp.%d", o->out, (int)getpid());
	snprintf(bai, lo, "%s.bai", o->out);
	snprintf(json, lo, "%s.markdup.json", o->out);
	if (o->tmp_prefix) snprintf(tmp_prefix, lo + 4096, "%s.%d", o->tmp_prefix, (int)getpid());
	else snprintf(tmp_prefix, lo + 4096, "%s.tmp.%d", o->out, (int)getpid());
	if (!(p.sort = sq_sorter_init(p.h, tmp_prefix, o->sort_mem))) { sq_log_error("out of memory"); r = SQ_ENOMEM; goto done; }
	if (!(p.dups = sq_dupset_init(tmp_prefix, o->sort_mem / 2, o->optical_dist))) { sq_log_error("out of memory"); r = SQ_ENOMEM; goto done; }

	/* run the pipeline: reader thread -> (seed, extend, pair, records -> sorter) on n_threads */
	if (!(p.scr = sq_calloc((size_t)o->n_threads, sizeof *p.scr))) { r = SQ_ENOMEM; goto done; }
	p.samtext = getenv("SEQA_ALIGN_SAMTEXT") && strcmp(getenv("SEQA_ALIGN_SAMTEXT"), "1") == 0;
	sq_sorter_set_threads(p.sort, o->n_threads);
	if (pthread_create(&th_r, NULL, reader, &p) != 0) { r = SQ_ENOMEM; goto done; }
	th_r_on = 1;
	batch_t *b;
	r = 0;
	while ((b = slot_get(&p, &p.in)) != NULL) {
		int nu = p.cx.paired ? b->n / 2 : b->n;
		emit_ud_t u = { &p, b };
		b->n_sig = nu;
		if (!(b->sig = sq_calloc((size_t)nu + 1, sizeof *b->sig))) r = SQ_ENOMEM;
		if (r < 0 || (r = sq_aln_core_batch(&p.cx, b->reads, b->n, b->id0, emit_unit, &u)) < 0 || (o->mark_dups && (r = sq_dupset_add(p.dups, b->sig, b->n_sig)) < 0)) {
			batch_free(b);
			pipe_abort(&p);
			break;
		}
		int64_t bi = b->idx; int bn = b->n_sig;
		batch_free(b);
		malloc_trim(0);                           /* give the batch's freed heap back (RSS) */
		log_memory(bi, bn);
	}
	pthread_join(th_r, NULL); th_r_on = 0;
	if (r == 0 && p.err_read) r = p.err_read;
	if (r < 0) goto done;
	if (p.n_pairs_read == 0) { sq_log_error("no reads in '%s'", o->r1); r = SQ_EINPUT; goto done; }
	/* the index, backends, reader and per-thread records are not needed any more: free them
	 * (and give the freed heap back) before duplicate marking and the merge */
	st->t_seed = p.cx.t_seed;
	st->t_extend = p.cx.t_extend;
	sq_aln_ctx_close(&p.cx);
	sq_fqp_close(p.fq); p.fq = NULL;
	scratch_free(&p, o->n_threads);
	malloc_trim(0);

	/* duplicates, then the merged, flagged, indexed BAM */
	sq_aln_dup_t dm;
	memset(&dm, 0, sizeof dm);
	if (o->mark_dups) {
		if (sq_dupset_n_spills(p.dups) > 0) sq_log_debug("duplicate keys: %lld sorted runs on disk", (long long)sq_dupset_n_spills(p.dups));
		dupbm = sq_dupset_finish(p.dups, (uint64_t)p.n_pairs_read, &dm);
		if (!dupbm) { r = SQ_ENOMEM; goto done; }
		dm.secondary_supp = p.n_secsupp;
	}
	char mode[4] = { 'w', 'b', 0, 0 };
	if (o->level >= 0) mode[2] = (char)('0' + o->level);
	fp = hts_open(tmp_bam, mode);
	if (!fp) { sq_log_error("cannot create '%s': %s", tmp_bam, strerror(errno)); r = SQ_EOUTPUT; goto done; }
	if (o->n_threads > 1) hts_set_threads(fp, o->n_threads);
	if (sam_hdr_write(fp, p.h) < 0 || sam_idx_init(fp, p.h, 0, tmp_bai) < 0) {
		sq_log_error("cannot write '%s'", tmp_bam); r = SQ_EOUTPUT; goto done;
	}
	int64_t nw = 0;
	if ((r = sq_sorter_finish(p.sort, fp, o->mark_dups ? dup_lookup : NULL, dupbm, &nw)) < 0) goto done;
	if (sam_idx_save(fp) < 0) { sq_log_error("cannot write the index '%s' (disk full?)", tmp_bai); r = SQ_EOUTPUT; goto done; }
	int cr = hts_close(fp);
	fp = NULL;
	if (cr != 0) { sq_log_error("cannot write '%s' (disk full?)", tmp_bam); r = SQ_EOUTPUT; goto done; }
	if (o->mark_dups) {
		char *lb = rg ? rg_field(rg, "LB:") : NULL;
		if (!lb && rg) lb = rg_field(rg, "ID:");
		r = sq_dup_write_json(o->dup_json ? o->dup_json : json, &dm, lb ? lb : "");
		free(lb);
		dup_written = 1;   /* possibly under its final name even when r < 0 (directory fsync) */
		if (r < 0) goto done;
	}
	/* index first, BAM last: a BAM under its final name is complete */
	if ((r = sq_durable_rename(tmp_bai, bai)) < 0 || (r = sq_durable_rename(tmp_bam, o->out)) < 0) {
		sq_log_error("cannot move the output into place as '%s'", o->out);
		unlink(bai);
		unlink(o->out);   /* renamed before its directory sync failed: not a complete result */
		goto done;
	}
	st->n_pairs = o->r2 ? p.n_pairs_read : 0;
	st->n_reads = o->r2 ? 2 * p.n_pairs_read : p.n_pairs_read;
	st->n_records = nw;
	st->n_mapped = p.n_mapped;
	st->n_proper = p.n_proper;
	st->dup = dm;
	st->n_spills = sq_sorter_n_spills(p.sort);
	r = 0;
done:
	if (th_r_on) { pipe_abort(&p); slot_close(&p.in); pthread_join(th_r, NULL); }
	if (p.in.item) batch_free(p.in.item);
	scratch_free(&p, o->n_threads);
	if (fp) hts_close(fp);
	if (r < 0 && tmp_bam) { unlink(tmp_bam); unlink(tmp_bai); }
	if (r < 0 && dup_written) unlink(o->dup_json ? o->dup_json : json);   /* no metrics without their BAM */
	sq_sorter_destroy(p.sort);
	sq_dupset_destroy(p.dups);
	if (p.h) sam_hdr_destroy(p.h);
	sq_fqp_close(p.fq);
	if (p.cx.mopt) sq_aln_ctx_close(&p.cx);
	free(dupbm); free(rg);
	free(tmp_bam); free(tmp_bai); free(bai); free(json); free(tmp_prefix);
	return r;
}
