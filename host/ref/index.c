/* seqa — reference index: bwa FM index (libbwa, in a forked child), .fai/.gzi (htslib) and the
 * contig table; consistency checks of existing index sets.  See seqa/ref.h. */
#include <errno.h>
#include <signal.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <htslib/faidx.h>
#include <bwa/bwa.h>
#include "seqa/ref.h"
#include "seqa/durable.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "ref_internal.h"

#define SQ_LOGL(lvl, ...) do { if (sq_log_level_cur >= (lvl)) sq_log_msg((lvl), __func__, __VA_ARGS__); } while (0)

static const char *const sq_bwa_ext[] = { "bwt", "pac", "sa", "amb", "ann", 0 }; /* .ann last */

void sq_ref_index_opt_init(sq_ref_index_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->algo = BWTALGO_AUTO;     /* libbwa picks as `bwa index` does */
	o->block_size = 10000000;   /* `bwa index -b` default */
}

static int64_t sq_file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (int64_t)st.st_size : -1;
}

/* Size of bwa's forward-only .pac for l_pac bases: ceil(l/4) bytes, a padding byte when l%4==0,
 * and one trailing byte holding l%4. */
static int64_t sq_pac_size(int64_t l_pac) { return (l_pac + 3) / 4 + (l_pac % 4 == 0 ? 1 : 0) + 1; }

/* Sizes of bwa's .bwt and .sa for l_pac bases (both strands: n = 2 l_pac symbols).
 * .bwt: primary + L2[1..4] (5 x 8 bytes), then 32-bit words: 2-bit symbols (n+15)/16 plus, per
 * 128-symbol interval (+1), four 64-bit occurrence counts.
 * .sa: primary, L2[1..4], sa_intv, seq_len (7 x 8 bytes), then every 32nd suffix but the first. */
static int64_t sq_bwt_size(int64_t l_pac)
{
	int64_t n = 2 * l_pac;
	return 40 + 4 * (((n + 15) >> 4) + ((n + 127) / 128 + 1) * 8);
}
static int64_t sq_sa_size(int64_t l_pac) { return 56 + 8 * ((2 * l_pac + 32) / 32 - 1); }

/* Compare two contig lists (names and lengths).  Returns 0 if equal, else logs why (what) */
static int sq_ref_same(const sq_ref_t *a, const sq_ref_t *b, const char *what, int quiet)
{
	if (a->n != b->n) {
		if (!quiet) sq_log_warn("%s has %d contigs, the FASTA %d", what, b->n, a->n);
		return -2;
	}
	for (int i = 0; i < a->n; ++i)
		if (strcmp(a->ctg[i].name, b->ctg[i].name) != 0 || a->ctg[i].len != b->ctg[i].len) {
			if (!quiet) sq_log_warn("%s: contig %d is %s (%lld bp), the FASTA has %s (%lld bp)", what, i + 1,
			                        b->ctg[i].name, (long long)b->ctg[i].len, a->ctg[i].name, (long long)a->ctg[i].len);
			return -2;
		}
	return 0;
}

/* ---- checking an existing bwa set ----------------------------------------------------- */

/* 0 if PREFIX.{bwt,pac,sa,amb,ann} exist and agree; SQ_EIO if a file is missing, SQ_EINPUT if
 * inconsistent.  *ann_out (if given) receives the .ann contigs.  Messages at level `lvl`. */
static int sq_bwa_set_check(const char *prefix, sq_ref_t **ann_out, int lvl)
{
	char path[PATH_MAX];
	sq_ref_t *ann = 0;
	FILE *fp;
	long long l_pac = -1;
	int n_seqs = -1, ret = SQ_EINPUT;
	for (int i = 0; sq_bwa_ext[i]; ++i) {
		snprintf(path, sizeof path, "%s.%s", prefix, sq_bwa_ext[i]);
		if (sq_file_size(path) <= 0) {
			SQ_LOGL(lvl, "bwa index file '%s' is %s; run 'seqa index' on the reference",
			           path, sq_file_size(path) == 0 ? "empty" : "missing");
			return SQ_EIO;
		}
	}
	ann = sq_ref_read_ann_q(prefix, 1);
	if (!ann) {
		SQ_LOGL(lvl, "'%s.ann' is unreadable or truncated; rebuild with 'seqa index --force'", prefix);
		goto fail;
	}
	snprintf(path, sizeof path, "%s.amb", prefix);
	if ((fp = fopen(path, "r")) != NULL) {
		if (fscanf(fp, "%lld %d", &l_pac, &n_seqs) != 2) l_pac = -1;
		fclose(fp);
	}
	if (l_pac != ann->total_len || n_seqs != ann->n) {
		SQ_LOGL(lvl, "'%s.amb' does not match '%s.ann' (%lld bp/%d contigs vs %lld bp/%d); "
		           "rebuild with 'seqa index --force'", prefix, prefix, l_pac, n_seqs, (long long)ann->total_len, ann->n);
		goto fail;
	}
	for (int k = 0; k < 3; ++k) { /* sizes follow from the length: catches truncated copies */
		static const char *const ext[3] = { "pac", "bwt", "sa" };
		int64_t want = k == 0 ? sq_pac_size(ann->total_len) : k == 1 ? sq_bwt_size(ann->total_len) : sq_sa_size(ann->total_len);
		snprintf(path, sizeof path, "%s.%s", prefix, ext[k]);
		if (sq_file_size(path) != want) {
			SQ_LOGL(lvl, "'%s' has %lld bytes, %lld expected for %lld bp (truncated copy?); rebuild with "
			        "'seqa index --force'", path, (long long)sq_file_size(path), (long long)want, (long long)ann->total_len);
			goto fail;
		}
	}
	if (ann_out) *ann_out = ann, ann = 0;
	ret = 0;
fail:
	sq_ref_destroy(ann);
	return ret;
}

int sq_ref_check_index(const char *prefix)
{
	char path[PATH_MAX];
	sq_ref_t *ann = 0, *tab = 0;
	int ret = sq_bwa_set_check(prefix, &ann, SQ_LOG_ERROR);
	if (ret < 0) return ret;
	snprintf(path, sizeof path, "%s.contigs.json", prefix);
	if (sq_file_readable(path)) {
		if (!(tab = sq_ref_load(prefix))) ret = SQ_EINPUT;
		else if (sq_ref_same(tab, ann, path, 1) != 0) {
			sq_log_error("'%s.ann' and '%s' disagree (index built from another FASTA?); run 'seqa index --force %s'",
			             prefix, path, tab->fasta);
			ret = SQ_EINPUT;
		}
	}
	sq_ref_destroy(ann);
	sq_ref_destroy(tab);
	return ret;
}

/* ---- building ------------------------------------------------------------------------- */

static void sq_unlink_set(const char *prefix)
{
	char path[PATH_MAX + 16];
	for (int i = 0; sq_bwa_ext[i]; ++i)
		if (snprintf(path, sizeof path, "%s.%s", prefix, sq_bwa_ext[i]) < (int)sizeof path) unlink(path);
}

/* Run bwa_idx_build(fasta, tmp_prefix) in a child: libbwa exit()s on errors. */
static int sq_bwa_build_child(const char *fasta, const char *tmp, int algo, int block_size, int progress)
{
	fflush(stdout), fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		sq_log_error("cannot fork: %s", strerror(errno));
		return SQ_ENOMEM;
	}
	if (pid == 0) {
		bwa_verbose = progress || sq_log_level_cur >= SQ_LOG_DEBUG ? 3 : 1;
		int r = bwa_idx_build(fasta, tmp, algo, block_size);
		fflush(stderr);
		_exit(r == 0 ? 0 : 1);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) { sq_log_error("waitpid: %s", strerror(errno)); return SQ_EOUTPUT; }
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 0;
	if (WIFSIGNALED(st))
		sq_log_error("bwa index build of '%s' killed by signal %d (out of memory?)", fasta, WTERMSIG(st));
	else
		sq_log_error("bwa index build of '%s' failed (libbwa exit status %d): see the message above "
		             "(unwritable directory? write elsewhere with -p PREFIX; disk full?)", fasta, WEXITSTATUS(st));
	return SQ_EOUTPUT;
}

/* .fai (and .gzi) consistent with the contig list? */
static int sq_fai_ok(const char *fai, const sq_ref_t *ref)
{
	FILE *fp = fopen(fai, "r");
	char *line = 0;
	size_t cap = 0;
	int i = 0, ok = 1;
	if (!fp) return 0;
	while (getline(&line, &cap, fp) > 0) {
		char *tab = strchr(line, '\t');
		if (!tab || i >= ref->n) { ok = 0; break; }
		*tab = 0;
		if (strcmp(line, ref->ctg[i].name) != 0 || strtoll(tab + 1, 0, 10) != ref->ctg[i].len) { ok = 0; break; }
		++i;
	}
	free(line);
	fclose(fp);
	return ok && i == ref->n;
}

static int sq_build_fai(const char *fasta, const char *prefix, int comp, const sq_ref_t *ref, int force, int *built)
{
	char fai[PATH_MAX], gzi[PATH_MAX], tfai[PATH_MAX + 32], tgzi[PATH_MAX + 32];
	int ret;
	*built = 0;
	snprintf(fai, sizeof fai, "%s.fai", prefix);
	snprintf(gzi, sizeof gzi, "%s.gzi", prefix);
	if (comp == 1) {
		sq_log_warn("'%s' is gzip- but not bgzip-compressed: no .fai written (samtools faidx needs "
		            "'bgzip'; recompress with 'zcat %s | bgzip > ref.fa.gz')", fasta, fasta);
		return 0;
	}
	if (!force && sq_fai_ok(fai, ref) && (comp != 2 || sq_file_size(gzi) > 0)) return 0;
	snprintf(tfai, sizeof tfai, "%s.tmp.%ld", fai, (long)getpid());
	snprintf(tgzi, sizeof tgzi, "%s.tmp.%ld", gzi, (long)getpid());
	if (fai_build3(fasta, tfai, comp == 2 ? tgzi : NULL) != 0) {
		sq_log_error("cannot build the faidx index of '%s' (htslib: lines of unequal length within a "
		             "sequence, or cannot write '%s')", fasta, fai);
		unlink(tfai), unlink(tgzi);
		return SQ_EINPUT;
	}
	if (comp == 2 && (ret = sq_durable_rename(tgzi, gzi)) < 0) { unlink(tfai); return ret; }
	if ((ret = sq_durable_rename(tfai, fai)) < 0) return ret;
	*built = 1;
	return 0;
}

int sq_ref_index(const char *fasta, const sq_ref_index_opt_t *opt, sq_ref_index_res_t *res)
{
	sq_ref_index_opt_t dflt;
	sq_ref_index_res_t dres;
	sq_ref_t *ref = 0, *ann = 0, *old = 0;
	char path[PATH_MAX], tmp[PATH_MAX], cpath[PATH_MAX + 16];
	int ret, err = 0, need = 0, comp;
	double t0 = sq_realtime();
	if (!opt) sq_ref_index_opt_init(&dflt), opt = &dflt;
	if (!res) res = &dres;
	memset(res, 0, sizeof *res);
	const char *prefix = opt->prefix ? opt->prefix : fasta;
	if (opt->algo != BWTALGO_AUTO && opt->algo != BWTALGO_BWTSW && opt->algo != BWTALGO_IS) {
		sq_log_error("unknown bwa index algorithm %d", opt->algo);
		return SQ_EINVAL;
	}
	if (strlen(prefix) + 64 > sizeof tmp) { sq_log_error("prefix too long"); return SQ_EINVAL; }

	{
		static const char *const sfx[] = { "", ".fai", ".gzi", ".contigs.json", 0 };
		char sp[PATH_MAX];
		for (int i = 0; sfx[i]; ++i)
			if (snprintf(sp, sizeof sp, "%s%s", prefix, sfx[i]) < (int)sizeof sp) sq_durable_clean_stale(sp);
	}
	/* 1. validate the FASTA (and learn its contigs) before libbwa sees it */
	if (!(ref = sq_ref_scan(fasta, 1, &err))) return err;
	{
		sq_fa_t *fa = sq_fa_open(fasta);
		if (!fa) { ret = SQ_EIO; goto fail; }
		comp = sq_fa_compression(fa);
		sq_fa_close(fa);
	}
	sq_log_info("%s: %d contigs, %lld bp, assembly %s (%s)", fasta, ref->n, (long long)ref->total_len,
	            ref->assembly, ref->assembly_evidence);

	/* 2. an existing bwa set: accept it when complete and consistent with this FASTA */
	snprintf(cpath, sizeof cpath, "%s.contigs.json", prefix);
	if (opt->force) need = 1;
	else if (sq_bwa_set_check(prefix, &ann, SQ_LOG_DEBUG) != 0) {
		snprintf(path, sizeof path, "%s.ann", prefix);
		if (access(path, F_OK) == 0) sq_log_warn("existing bwa index '%s.*' is incomplete or inconsistent: rebuilding", prefix);
		need = 1;
	} else if (sq_ref_same(ref, ann, "existing bwa index (.ann)", 0) != 0) {
		sq_log_warn("existing bwa index '%s.*' was built from another FASTA: rebuilding", prefix);
		need = 1;
	} else if (sq_file_readable(cpath)) {
		old = sq_ref_load_q(prefix, 1);
		if (old && old->sha256[0] && strcmp(old->sha256, ref->sha256) != 0) {
			sq_log_warn("'%s' changed since its index was built (SHA-256 differs): rebuilding", fasta);
			need = 1;
		}
	}
	if (!need) sq_log_info("bwa index '%s.*' exists and matches the FASTA: kept as is", prefix);

	if (need) {
		/* 3. build under PREFIX.tmp.PID, then rename: .ann (the set's marker) last; the old
		 * .contigs.json and .ann go first so no mixed set looks complete at any time */
		snprintf(tmp, sizeof tmp, "%s.tmp.%ld", prefix, (long)getpid());
		sq_log_info("building bwa index of '%s' (%s)...", fasta,
		            opt->algo == BWTALGO_BWTSW ? "bwtsw" : opt->algo == BWTALGO_IS ? "is" : "auto algorithm");
		if ((ret = sq_bwa_build_child(fasta, tmp, opt->algo, opt->block_size, opt->progress)) < 0) {
			sq_unlink_set(tmp);
			goto fail;
		}
		/* libbwa read the FASTA itself: it must have seen the contigs we validated */
		sq_ref_t *chk = sq_ref_read_ann_q(tmp, 1);
		int same = chk && sq_ref_same(ref, chk, "the new bwa index", 0) == 0;
		sq_ref_destroy(chk);
		if (!same) {
			sq_log_error("libbwa read different contigs from '%s' than seqa did; index not written", fasta);
			sq_unlink_set(tmp);
			ret = SQ_EINPUT;
			goto fail;
		}
		unlink(cpath);
		snprintf(path, sizeof path, "%s.ann", prefix);
		unlink(path);
		for (int i = 0; sq_bwa_ext[i]; ++i) {
			char t[PATH_MAX + 16];
			snprintf(t, sizeof t, "%s.%s", tmp, sq_bwa_ext[i]);
			snprintf(path, sizeof path, "%s.%s", prefix, sq_bwa_ext[i]);
			if ((ret = sq_durable_rename(t, path)) < 0) { sq_unlink_set(tmp); goto fail; }
		}
		res->bwa_built = 1;
		res->algo = opt->algo;
	}

	/* 4. .fai (+ .gzi) */
	if ((ret = sq_build_fai(fasta, prefix, comp, ref, opt->force || need, &res->fai_built)) < 0) goto fail;

	/* 5. the contig table, last */
	if ((ret = sq_ref_save(ref, cpath)) < 0) goto fail;
	res->contigs_written = 1;
	res->wall_s = sq_realtime() - t0;
	ret = 0;
fail:
	sq_ref_destroy(ref);
	sq_ref_destroy(ann);
	sq_ref_destroy(old);
	return ret;
}
