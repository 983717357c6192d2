/* seqa — simulator: options, reference and regions, the run, read-name parsing.  See seqa/sim.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "seqa/durable.h"
#include "seqa/hash.h"
#include "seqa/log.h"
#include "seqa/ref.h"
#include "seqa/util.h"
#include "sim_internal.h"

void sq_sim_opt_init(sq_sim_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->sample = "SIM";
	o->coverage = 30;
	o->read_len = 150;
	o->seed = 11;
	o->snp_rate = 1e-3;
	o->indel_rate = 1.5e-4;
	o->het_fraction = 0.67;
	o->insert_mean = 400;
	o->insert_sd = 40;
	o->error_rate = 1e-3;
	o->q2_tail_frac = 0.003;
	o->max_indel = 20;
	o->n_threads = 1;
}

int sq_sim_opt_check(const sq_sim_opt_t *o)
{
#define SQ_BAD(cond, ...) do { if (cond) { sq_log_error(__VA_ARGS__); return SQ_EINVAL; } } while (0)
	SQ_BAD(!o->ref || !*o->ref, "a reference FASTA is required (-r)");
	SQ_BAD(!o->prefix || !*o->prefix, "an output prefix is required (-o)");
	SQ_BAD(!o->sample || !*o->sample || strpbrk(o->sample, " \t\n"), "bad sample name '%s'", o->sample ? o->sample : "");
	SQ_BAD(!(o->coverage >= 0 && o->coverage <= 10000), "--coverage must be in [0,10000]");
	SQ_BAD(o->read_len < 20 || o->read_len > 1000, "--read-length must be in [20,1000]");
	SQ_BAD(!(o->snp_rate >= 0 && o->snp_rate <= 0.05), "--snp-rate must be in [0,0.05]");
	SQ_BAD(!(o->indel_rate >= 0 && o->indel_rate <= 0.01), "--indel-rate must be in [0,0.01]");
	SQ_BAD(!(o->het_fraction >= 0 && o->het_fraction <= 1), "--het-fraction must be in [0,1]");
	SQ_BAD(!(o->insert_mean >= 1 && o->insert_mean <= 100000), "--insert-size must be in [1,100000]");
	SQ_BAD(!(o->insert_sd >= 0 && o->insert_sd <= o->insert_mean), "--insert-sd must be in [0,insert size]");
	SQ_BAD(!(o->error_rate >= 0 && o->error_rate <= 0.2), "--error-rate must be in [0,0.2]");
	SQ_BAD(!(o->q2_tail_frac >= 0 && o->q2_tail_frac <= 1), "--q2-tails must be in [0,1]");
	SQ_BAD(o->max_indel < 1 || o->max_indel > 50, "--max-indel must be in [1,50]");
	SQ_BAD(!(o->dup_rate >= 0 && o->dup_rate < 1), "--dup-rate must be in [0,1)");
	SQ_BAD(o->n_threads < 1 || o->n_threads > 1024, "bad thread count");
#undef SQ_BAD
	return 0;
}

/* ---- regions -------------------------------------------------------------------------- */

/* name[:beg-end] as parsed, and the raw token (a contig may itself be called "HLA-A*01:01") */
typedef struct { char *name, *raw; int64_t beg, end; } sq_rspec_t; /* end < 0: to the contig end */

static int sq_parse_regions(const char *str, sq_rspec_t **out, int *n_out)
{
	char *dup = sq_strdup(str), *save = 0, *tok;
	sq_rspec_t *r = 0;
	int n = 0;
	if (!dup) return SQ_ENOMEM;
	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(0, ",", &save)) {
		sq_rspec_t *t = sq_realloc(r, (size_t)(n + 1) * sizeof *r);
		char *colon = strrchr(tok, ':'), *end;
		if (!t) goto fail;
		r = t;
		r[n].beg = 0, r[n].end = -1, r[n].name = 0;
		if (!(r[n].raw = sq_strdup(tok))) goto fail;
		if (colon && isdigit((unsigned char)colon[1])) {
			long long b = strtoll(colon + 1, &end, 10), e = -1;
			if (*end == '-') e = strtoll(end + 1, &end, 10);
			if (*end || b < 1 || (e != -1 && e < b)) {
				sq_log_error("bad region '%s' (expected chr, chr:beg-end, 1-based inclusive)", tok);
				free(r[n].raw);
				goto fail;
			}
			*colon = 0;
			r[n].beg = b - 1, r[n].end = e;
		}
		if (!(r[n].name = sq_strdup(tok))) { free(r[n].raw); goto fail; }
		++n;
	}
	free(dup);
	if (n == 0) { sq_log_error("empty --regions"); free(r); return SQ_EINVAL; }
	*out = r, *n_out = n;
	return 0;
fail:
	for (int i = 0; i < n; ++i) free(r[i].name), free(r[i].raw);
	free(r), free(dup);
	return SQ_EINVAL;
}

static int sq_reg_cmp(const void *a, const void *b)
{
	const sq_sim_region_t *x = a, *y = b;
	if (x->ctg != y->ctg) return x->ctg < y->ctg ? -1 : 1;
	return x->beg < y->beg ? -1 : x->beg > y->beg;
}

/* Read the reference: every contig's name, length and MD5; sequences only where needed. */
static int sq_sim_load(sq_sim_t *s, sq_rspec_t *rs, int n_rs)
{
	sq_fa_t *fa = sq_fa_open(s->o->ref);
	sq_fa_rec_t rec;
	int ret, m = 0;
	char abs[PATH_MAX];
	if (!fa) return SQ_EIO;
	s->ref_abs = sq_strdup(realpath(s->o->ref, abs) ? abs : s->o->ref);
	while ((ret = sq_fa_next(fa, &rec)) == 0) {
		int need = n_rs == 0;
		for (int i = 0; i < n_rs && !need; ++i) need = strcmp(rs[i].name, rec.name) == 0 || strcmp(rs[i].raw, rec.name) == 0;
		if (s->n_ctg == m) {
			m = m ? 2 * m : 32;
			sq_sim_ctg_t *c = sq_realloc(s->ctg, (size_t)m * sizeof *c);
			if (!c) { ret = SQ_ENOMEM; goto fail; }
			s->ctg = c;
		}
		sq_sim_ctg_t *c = &s->ctg[s->n_ctg++];
		memset(c, 0, sizeof *c);
		for (int64_t i = 0; i < rec.len; ++i) rec.seq[i] = (char)toupper((unsigned char)rec.seq[i]);
		sq_md5_buf(rec.seq, (size_t)rec.len, c->md5);
		c->len = rec.len;
		if (!(c->name = sq_strdup(rec.name))) { ret = SQ_ENOMEM; goto fail; }
		if (need && !(c->seq = sq_strdup(rec.seq))) { ret = SQ_ENOMEM; goto fail; }
	}
	ret = ret == -1 ? 0 : ret;
fail:
	sq_fa_close(fa);
	return ret;
}

static int sq_sim_regions(sq_sim_t *s, sq_rspec_t *rs, int n_rs)
{
	int n = n_rs ? n_rs : s->n_ctg;
	double cum = 0;
	s->reg = sq_calloc((size_t)n, sizeof *s->reg);
	s->reg_cum = sq_calloc((size_t)n, sizeof *s->reg_cum);
	if (!s->reg || !s->reg_cum) return SQ_ENOMEM;
	for (int i = 0; i < n; ++i) {
		sq_sim_region_t *g = &s->reg[i];
		if (n_rs) {
			int k = 0;
			while (k < s->n_ctg && strcmp(s->ctg[k].name, rs[i].raw) != 0) ++k;
			if (k < s->n_ctg) { /* the whole token is a contig name */
				g->ctg = k, g->beg = 0, g->end = s->ctg[k].len;
				continue;
			}
			k = 0;
			while (k < s->n_ctg && strcmp(s->ctg[k].name, rs[i].name) != 0) ++k;
			if (k == s->n_ctg) { sq_log_error("region contig '%s' is not in '%s'", rs[i].name, s->o->ref); return SQ_EINPUT; }
			g->ctg = k, g->beg = rs[i].beg, g->end = rs[i].end < 0 || rs[i].end > s->ctg[k].len ? s->ctg[k].len : rs[i].end;
			if (g->beg >= s->ctg[k].len) {
				sq_log_error("region %s:%lld starts beyond the contig end (%lld)", rs[i].name, (long long)g->beg + 1, (long long)s->ctg[k].len);
				return SQ_EINPUT;
			}
		} else g->ctg = i, g->beg = 0, g->end = s->ctg[i].len;
	}
	qsort(s->reg, (size_t)n, sizeof *s->reg, sq_reg_cmp);
	s->n_reg = n;
	for (int i = 0; i < n; ++i) {
		sq_sim_region_t *g = &s->reg[i];
		const char *seq = s->ctg[g->ctg].seq;
		if (i && g->ctg == s->reg[i - 1].ctg && g->beg < s->reg[i - 1].end) {
			sq_log_error("regions overlap on '%s' at %lld", s->ctg[g->ctg].name, (long long)g->beg + 1);
			return SQ_EINPUT;
		}
		for (int64_t k = g->beg; k < g->end; ++k)
			g->non_n += seq[k] == 'A' || seq[k] == 'C' || seq[k] == 'G' || seq[k] == 'T';
		/* regions shorter than a read cannot hold fragments */
		cum += g->end - g->beg >= s->o->read_len ? (double)g->non_n : 0;
		s->reg_cum[i] = cum;
	}
	if (cum <= 0) {
		sq_log_error("the reference/regions have no A/C/G/T stretch of at least one read length (%d)", s->o->read_len);
		return SQ_EINPUT;
	}
	return 0;
}

static void sq_sim_free(sq_sim_t *s)
{
	for (int i = 0; i < s->n_ctg; ++i) free(s->ctg[i].name), free(s->ctg[i].seq);
	for (int i = 0; s->hap && i < 2 * s->n_reg; ++i) free(s->hap[i].seq), free(s->hap[i].seg);
	free(s->ctg), free(s->reg), free(s->reg_cum), free(s->var), free(s->alts.s), free(s->hap);
	free(s->qtab), free(s->ref_abs);
}

/* The truth's confident regions: the A/C/G/T stretches of the simulated regions (BED,
 * 0-based half-open, reference order).  Outside them there is no truth (N runs, other contigs). */
static int sq_sim_write_bed(const sq_sim_t *s, const char *path)
{
	FILE *fp = fopen(path, "w");
	if (!fp) { sq_log_error("cannot write '%s': %s", path, strerror(errno)); return SQ_EOUTPUT; }
	for (int r = 0; r < s->n_reg; ++r) {
		const sq_sim_region_t *g = &s->reg[r];
		const char *seq = s->ctg[g->ctg].seq;
		for (int64_t k = g->beg; k < g->end;) {
			while (k < g->end && !strchr("ACGT", seq[k])) ++k;
			int64_t b = k;
			while (k < g->end && seq[k] && strchr("ACGT", seq[k])) ++k;
			if (k > b) fprintf(fp, "%s\t%lld\t%lld\n", s->ctg[g->ctg].name, (long long)b, (long long)k);
		}
	}
	if (fflush(fp) != 0 || ferror(fp)) {
		sq_log_error("cannot write '%s' (disk full?)", path);
		fclose(fp);
		return SQ_EOUTPUT;
	}
	return fclose(fp) == 0 ? 0 : SQ_EOUTPUT;
}

/* ---- the run -------------------------------------------------------------------------- */

int sq_sim_run(const sq_sim_opt_t *o, sq_sim_stats_t *st)
{
	sq_sim_t s;
	sq_sim_stats_t dst;
	sq_rspec_t *rs = 0;
	int n_rs = 0, ret;
	enum { R1, R2, BED, TBI, VCF, N_OUT };
	char *fin[N_OUT] = { 0 }, *tmp[N_OUT] = { 0 };
	static const char *const suf[N_OUT] = { "_R1.fq.gz", "_R2.fq.gz", ".truth.bed", ".truth.vcf.gz.tbi", ".truth.vcf.gz" };
	memset(&s, 0, sizeof s);
	s.o = o;
	if (!st) st = &dst;
	memset(st, 0, sizeof *st);
	if ((ret = sq_sim_opt_check(o)) < 0) return ret;
	if (o->regions && (ret = sq_parse_regions(o->regions, &rs, &n_rs)) < 0) goto fail;
	if ((ret = sq_sim_load(&s, rs, n_rs)) < 0) goto fail;
	if ((ret = sq_sim_regions(&s, rs, n_rs)) < 0) goto fail;
	for (int i = 0; i < s.n_reg; ++i) st->sim_len += s.reg[i].non_n;
	s.n_pairs = llround(o->coverage * (double)st->sim_len / (2.0 * o->read_len));
	if ((ret = sq_sim_variants(&s)) < 0 || (ret = sq_sim_haplotypes(&s)) < 0 || (ret = sq_sim_qmodel(&s)) < 0) goto fail;
	for (int64_t i = 0; i < s.n_var; ++i) {
		const sq_sim_var_t *v = &s.var[i];
		st->n_snp += v->type == SQ_VT_SNP, st->n_ins += v->type == SQ_VT_INS, st->n_del += v->type == SQ_VT_DEL;
		st->n_het += v->gt != 3, st->n_hom += v->gt == 3;
	}
	sq_log_info("%lld variants (%lld SNPs, %lld insertions, %lld deletions; %lld het, %lld hom) over %lld bp; "
	            "%lld read pairs of %d bp", (long long)s.n_var, (long long)st->n_snp, (long long)st->n_ins,
	            (long long)st->n_del, (long long)st->n_het, (long long)st->n_hom, (long long)st->sim_len,
	            (long long)s.n_pairs, o->read_len);
	/* outputs: temporaries, then renamed R1, R2, .bed, .tbi and the VCF last (the completion mark);
	 * old outputs go first so a failed run leaves nothing that looks complete */
	ret = SQ_ENOMEM;
	for (int k = 0; k < N_OUT; ++k) {
		size_t n = strlen(o->prefix) + 64;
		if (!(fin[k] = sq_malloc(n)) || !(tmp[k] = sq_malloc(n))) goto fail;
		snprintf(fin[k], n, "%s%s", o->prefix, suf[k]);
		snprintf(tmp[k], n, "%s.tmp.%ld%s", o->prefix, (long)getpid(), suf[k]);
	}
	sq_durable_clean_stale(o->prefix);
	for (int k = N_OUT - 1; k >= 0; --k) unlink(fin[k]);
	if ((ret = sq_sim_write_vcf(&s, tmp[VCF], tmp[TBI])) < 0) goto fail;
	if ((ret = sq_sim_write_bed(&s, tmp[BED])) < 0) goto fail;
	if ((ret = sq_sim_reads(&s, tmp[R1], tmp[R2], st)) < 0) goto fail;
	for (int k = 0; k < N_OUT; ++k)
		if ((ret = sq_durable_rename(tmp[k], fin[k])) < 0) goto fail;
	ret = 0;
fail:
	for (int k = 0; k < N_OUT; ++k) {
		if (ret < 0 && tmp[k]) unlink(tmp[k]);
		free(fin[k]), free(tmp[k]);
	}
	for (int i = 0; i < n_rs; ++i) free(rs[i].name), free(rs[i].raw);
	free(rs);
	sq_sim_free(&s);
	return ret;
}

/* ---- read names ----------------------------------------------------------------------- */

static int sq_parse_i64(const char *s, size_t n, int64_t *v)
{
	int64_t x = 0;
	if (n == 0 || n > 18) return -2;
	for (size_t i = 0; i < n; ++i) {
		if (!isdigit((unsigned char)s[i])) return -2;
		x = x * 10 + (s[i] - '0');
	}
	*v = x;
	return 0;
}

int sq_sim_parse_name(const char *qname, sq_sim_origin_t *o)
{
	size_t n = 0;
	const char *u[5];
	int k = 0;
	int64_t hap;
	if (!qname) return SQ_EINPUT;
	while (qname[n] && !isspace((unsigned char)qname[n])) ++n;
	if (n >= 2 && qname[n - 2] == '/' && (qname[n - 1] == '1' || qname[n - 1] == '2')) n -= 2;
	for (size_t i = n; i-- > 0 && k < 5;) /* the last five '_' separate the fields */
		if (qname[i] == '_') u[k++] = qname + i;
	if (k < 5 || u[4] == qname || (size_t)(u[4] - qname) >= sizeof o->contig) return SQ_EINPUT;
	/* u[4] < u[3] < ... < u[0]: contig _ pos1 _ pos2 _ strand _ hap _ index */
	memcpy(o->contig, qname, (size_t)(u[4] - qname));
	o->contig[u[4] - qname] = 0;
	if (sq_parse_i64(u[4] + 1, (size_t)(u[3] - u[4] - 1), &o->pos1) < 0 || o->pos1 < 1) return SQ_EINPUT;
	if (sq_parse_i64(u[3] + 1, (size_t)(u[2] - u[3] - 1), &o->pos2) < 0 || o->pos2 < 1) return SQ_EINPUT;
	if (u[1] - u[2] != 2 || (u[2][1] != 'f' && u[2][1] != 'r')) return SQ_EINPUT;
	o->strand1 = u[2][1] == 'r';
	if (sq_parse_i64(u[1] + 1, (size_t)(u[0] - u[1] - 1), &hap) < 0 || hap < 1 || hap > 2) return SQ_EINPUT;
	o->hap = (int)hap;
	if (sq_parse_i64(u[0] + 1, (size_t)(qname + n - u[0] - 1), &o->index) < 0) return SQ_EINPUT;
	return 0;
}
