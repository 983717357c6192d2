/* seqa — simulator: paired reads from the two haplotypes with an Illumina-like error and
 * quality model, written as two BGZF FASTQ files in a fixed order whatever the thread count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <htslib/bgzf.h>
#include <htslib/hfile.h>
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"
#include "sim_internal.h"

#define SQ_QMIN 2
#define SQ_QMAX 41
#define SQ_QTAB_BITS 12
#define SQ_QTAB (1 << SQ_QTAB_BITS)
#define SQ_CHUNK 4096              /* read pairs per PRNG stream / work item */
#define SQ_P52 4503599627370496.0  /* 2^52 */

/* ---- quality model ---------------------------------------------------------------------
 * Per cycle i of L, Q is a mixture: 97% a discretised normal around 38 - 6 (i/(L-1))^2 + d
 * (sd 2) and 3% a low-quality component 15 below it (sd 5), clamped to [2,41].  A base is
 * wrong with probability 10^(-Q/10), so qualities are calibrated and errors rise along the
 * read.  d is solved so that the mean error rate equals --error-rate. */

static double sq_phi(double x) { return 0.5 * erfc(-x / M_SQRT2); }

static double sq_pdisc(int q, double m, double sd)
{
	if (q <= SQ_QMIN) return sq_phi((SQ_QMIN + 0.5 - m) / sd);
	if (q >= SQ_QMAX) return 1.0 - sq_phi((SQ_QMAX - 0.5 - m) / sd);
	return sq_phi((q + 0.5 - m) / sd) - sq_phi((q - 0.5 - m) / sd);
}

static void sq_qprofile(int L, int i, double d, double pq[SQ_QMAX + 1])
{
	double x = L > 1 ? (double)i / (L - 1) : 0, m = 38.0 - 6.0 * x * x + d;
	for (int q = 0; q <= SQ_QMAX; ++q)
		pq[q] = q < SQ_QMIN ? 0 : 0.97 * sq_pdisc(q, m, 2.0) + 0.03 * sq_pdisc(q, m - 15.0, 5.0);
}

static double sq_qmean_err(int L, double d)
{
	double pq[SQ_QMAX + 1], e = 0;
	for (int i = 0; i < L; ++i) {
		sq_qprofile(L, i, d, pq);
		for (int q = SQ_QMIN; q <= SQ_QMAX; ++q) e += pq[q] * pow(10.0, -q / 10.0);
	}
	return e / L;
}

int sq_sim_qmodel(sq_sim_t *s)
{
	const int L = s->o->read_len;
	double lo = -45, hi = 45, d = 0, pq[SQ_QMAX + 1];
	s->qtab = sq_malloc((size_t)L * SQ_QTAB);
	if (!s->qtab) return SQ_ENOMEM;
	for (int q = 0; q < 64; ++q) s->perr52[q] = 0;
	if (s->o->error_rate <= 0) { /* error-free: Q40 everywhere */
		memset(s->qtab, 40, (size_t)L * SQ_QTAB);
		return 0;
	}
	for (int q = SQ_QMIN; q <= SQ_QMAX; ++q) s->perr52[q] = (uint64_t)(pow(10.0, -q / 10.0) * SQ_P52);
	/* the Q2 tails' share of the error rate (tail length uniform in 1..L/4, P(error) = 10^-0.2) */
	double tmax = L / 4 > 1 ? L / 4 : 1, tail = s->o->q2_tail_frac * (1 + (tmax - 1) / 2) * pow(10.0, -0.2) / L;
	double target = s->o->error_rate - tail;
	if (target > sq_qmean_err(L, lo)) {
		sq_log_warn("--error-rate %g is above what the quality model reaches; using %g", s->o->error_rate, sq_qmean_err(L, lo) + tail);
		d = lo;
	} else if (target < sq_qmean_err(L, hi)) {
		sq_log_warn("--error-rate %g is below what Q%d%s allows; using %g", s->o->error_rate, SQ_QMAX,
		            tail > 0 ? " with --q2-tails" : "", sq_qmean_err(L, hi) + tail);
		d = hi;
	} else {
		for (int it = 0; it < 60; ++it) { /* mean error falls as d rises */
			d = 0.5 * (lo + hi);
			if (sq_qmean_err(L, d) > target) lo = d; else hi = d;
		}
	}
	sq_log_debug("quality profile shift %.3f for error rate %g (Q2 tails %g)", d, s->o->error_rate, tail);
	for (int i = 0; i < L; ++i) { /* quantile table: entry k holds the Q at probability (k+0.5)/4096 */
		double c = 0;
		int q = SQ_QMIN;
		sq_qprofile(L, i, d, pq);
		c = pq[q];
		for (int k = 0; k < SQ_QTAB; ++k) {
			double u = (k + 0.5) / SQ_QTAB;
			while (u > c && q < SQ_QMAX) c += pq[++q];
			s->qtab[(size_t)i * SQ_QTAB + k] = (uint8_t)q;
		}
	}
	return 0;
}

/* ---- reads ---------------------------------------------------------------------------- */

typedef struct {
	kstring_t r1, r2;
	int64_t n_err, n_bases, n_dup;
	int err;
} sq_chunk_t;

typedef struct {
	sq_sim_t *s;
	sq_chunk_t *ch;
	int64_t c0;        /* first chunk of this batch */
} sq_batch_t;

static const char sq_comp[256] = {
	['A'] = 'T', ['C'] = 'G', ['G'] = 'C', ['T'] = 'A', ['N'] = 'N'
};

/* Add errors and qualities to read bases b[0..L) (cycle order), append the FASTQ record. */
static void sq_emit(const sq_sim_t *s, sq_rng_t *rng, const char *name, char *b, char *q, kstring_t *out, sq_chunk_t *ch)
{
	const int L = s->o->read_len;
	int tail = L;
	if (s->o->error_rate > 0 && s->o->q2_tail_frac > 0 && sq_rng_unif(rng) < s->o->q2_tail_frac)
		tail = L - 1 - (int)sq_rng_below(rng, (uint64_t)(L / 4 > 1 ? L / 4 : 1));
	for (int i = 0; i < L; ++i) {
		uint64_t r = sq_rng_next(rng);
		int qq = i < tail ? s->qtab[(size_t)i * SQ_QTAB + (r >> (64 - SQ_QTAB_BITS))] : SQ_QMIN;
		q[i] = (char)(33 + qq);
		if ((r & ((1ULL << 52) - 1)) < s->perr52[qq]) { /* substitution by one of the other 3 bases */
			static const char *const acgt = "ACGT";
			int k = (int)(strchr(acgt, b[i]) - acgt);
			b[i] = acgt[(k + 1 + (int)sq_rng_below(rng, 3)) & 3];
			ch->n_err++;
		}
	}
	ch->n_bases += L;
	kputc('@', out), kputs(name, out), kputc('\n', out);
	kputsn(b, L, out), kputsn("\n+\n", 3, out);
	kputsn(q, L, out), kputc('\n', out);
}

static void sq_sim_chunk(void *data, int64_t k, int tid)
{
	sq_batch_t *bt = data;
	sq_sim_t *s = bt->s;
	sq_chunk_t *ch = &bt->ch[k];
	const int64_t c = bt->c0 + k, L = s->o->read_len;
	const int64_t p0 = c * SQ_CHUNK, p1 = p0 + SQ_CHUNK < s->n_pairs ? p0 + SQ_CHUNK : s->n_pairs;
	const double tot = s->reg_cum[s->n_reg - 1];
	char *fb = malloc(L + 1), *rb = malloc(L + 1), *q = malloc(L + 1), name[1024];
	sq_rng_t rng;
	(void)tid;
	ch->r1.l = ch->r2.l = 0;
	ch->n_err = ch->n_bases = ch->n_dup = 0;
	if (!fb || !rb || !q) { ch->err = SQ_ENOMEM; goto end; }
	sq_rng_init(&rng, s->o->seed, 2, (uint64_t)c);
	const sq_sim_hap_t *h = 0;
	int r = 0, hh = 0, strand = 0;
	int64_t F = 0, st = 0;
	for (int64_t p = p0; p < p1; ++p) {
		int tries;
		/* a PCR duplicate: the previous pair's fragment again, with its own errors (the draw is
		 * only made when --dup-rate > 0, so other outputs do not change with the option) */
		if (p > p0 && s->o->dup_rate > 0 && sq_rng_unif(&rng) < s->o->dup_rate) {
			ch->n_dup++;
			goto emit;
		}
		for (tries = 0; tries < 1000000; ++tries) {
			double u = sq_rng_unif(&rng) * tot;
			int lo = 0, hi = s->n_reg - 1;
			while (lo < hi) { int mid = (lo + hi) / 2; if (s->reg_cum[mid] > u) hi = mid; else lo = mid + 1; }
			r = lo;
			hh = (int)(sq_rng_next(&rng) >> 63);
			h = &s->hap[2 * r + hh];
			F = llround(s->o->insert_mean + s->o->insert_sd * sq_rng_norm(&rng));
			if (F < L) F = L;
			if (F > h->len) F = h->len;
			if (h->len < L) continue;
			st = (int64_t)sq_rng_below(&rng, (uint64_t)(h->len - F + 1));
			int64_t i = 0;
			for (; i < F; ++i) {
				char b = h->seq[st + i];
				if (b != 'A' && b != 'C' && b != 'G' && b != 'T') break;
			}
			if (i == F) break;
		}
		if (tries == 1000000) {
			sq_log_error("cannot place read pairs free of N in the regions (too fragmented?)");
			ch->err = SQ_EINPUT;
			goto end;
		}
		strand = (int)(sq_rng_next(&rng) >> 63); /* 0: mate 1 forward */
emit:;
		int64_t pf = sq_sim_hap2ref(h, st) + 1, pr = sq_sim_hap2ref(h, st + F - L) + 1;
		memcpy(fb, h->seq + st, (size_t)L);
		for (int64_t i = 0; i < L; ++i) rb[i] = sq_comp[(unsigned char)h->seq[st + F - 1 - i]];
		snprintf(name, sizeof name, "%s_%lld_%lld_%c_%d_%lld", s->ctg[s->reg[r].ctg].name,
		         (long long)(strand ? pr : pf), (long long)(strand ? pf : pr), strand ? 'r' : 'f', hh + 1, (long long)p);
		sq_emit(s, &rng, name, strand ? rb : fb, q, &ch->r1, ch);
		sq_emit(s, &rng, name, strand ? fb : rb, q, &ch->r2, ch);
	}
end:
	free(fb), free(rb), free(q);
}

static int sq_bgzf_put(BGZF *fp, const kstring_t *k, const char *path)
{
	if (k->l && bgzf_write(fp, k->s, k->l) != (ssize_t)k->l) {
		sq_log_error("cannot write '%s' (disk full?)", path);
		return SQ_EOUTPUT;
	}
	return 0;
}

/* bgzf_close() returns early, file still open, when its final flush fails (disk full): then
 * release the descriptor anyway (the BGZF struct is leaked on this error path only), so the
 * space of the unlinked temporary is freed and the file system can be unmounted. */
int sq_bgzf_close(BGZF *fp)
{
	if (bgzf_close(fp) == 0) return 0;
	if (fp->fp) hclose_abruptly(fp->fp);
	return -1;
}

int sq_sim_reads(sq_sim_t *s, const char *r1, const char *r2, sq_sim_stats_t *stt)
{
	const int nt = s->o->n_threads > 0 ? s->o->n_threads : 1;
	const int64_t n_chunks = (s->n_pairs + SQ_CHUNK - 1) / SQ_CHUNK, B = 4 * nt;
	BGZF *f1 = bgzf_open(r1, "w3"), *f2 = bgzf_open(r2, "w3");
	sq_chunk_t *ch = sq_calloc((size_t)B, sizeof *ch);
	int ret = SQ_EOUTPUT;
	if (!f1 || !f2) { sq_log_error("cannot write '%s'", f1 ? r2 : r1); goto fail; }
	if (!ch) { ret = SQ_ENOMEM; goto fail; }
	if (nt > 1) bgzf_mt(f1, nt, 64), bgzf_mt(f2, nt, 64);
	for (int64_t c0 = 0; c0 < n_chunks; c0 += B) {
		sq_batch_t bt = { s, ch, c0 };
		int64_t nb = n_chunks - c0 < B ? n_chunks - c0 : B;
		if ((ret = sq_for(nt, sq_sim_chunk, &bt, nb)) < 0) goto fail;
		for (int64_t k = 0; k < nb; ++k) {
			if ((ret = ch[k].err) < 0) goto fail;
			if ((ret = sq_bgzf_put(f1, &ch[k].r1, r1)) < 0 || (ret = sq_bgzf_put(f2, &ch[k].r2, r2)) < 0) goto fail;
			stt->n_bases_err += ch[k].n_err;
			stt->n_bases += ch[k].n_bases;
			stt->n_dup += ch[k].n_dup;
		}
		if (s->o->progress) {
			int64_t done = (c0 + nb) * SQ_CHUNK < s->n_pairs ? (c0 + nb) * SQ_CHUNK : s->n_pairs;
			fprintf(stderr, "\r[seqa simulate] %lld / %lld read pairs (%.0f%%)", (long long)done,
			        (long long)s->n_pairs, 100.0 * done / (s->n_pairs ? s->n_pairs : 1));
		}
	}
	if (s->o->progress) fputc('\n', stderr);
	ret = 0;
fail:
	if (f1 && sq_bgzf_close(f1) < 0 && ret == 0) { sq_log_error("cannot write '%s' (disk full?)", r1); ret = SQ_EOUTPUT; }
	if (f2 && sq_bgzf_close(f2) < 0 && ret == 0) { sq_log_error("cannot write '%s' (disk full?)", r2); ret = SQ_EOUTPUT; }
	for (int64_t k = 0; ch && k < B; ++k) free(ch[k].r1.s), free(ch[k].r2.s);
	free(ch);
	stt->n_pairs = s->n_pairs;
	return ret;
}
