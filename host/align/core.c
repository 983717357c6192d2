/* seqa — alignment core: our seeds -> our chains -> libbwa extension -> regions per read.
 *
 * bwa mem's mem_align1_core seeds internally (mem_chain calls mem_collect_intv), so the chain
 * builder is ours: the same B-tree keyed by reference position (klib's kbtree, the header bwa
 * ships), the same test_and_merge rule, fed with the seeds of kernels/smem.h in the order
 * bwa's loop produces them.  From the chains on, libbwa's own functions run unchanged:
 * mem_chain_flt, mem_flt_chained_seeds, mem_chain2aln, mem_sort_dedup_patch (the banded SW
 * that mem_chain2aln calls, ksw_extend2, is kernels/ksw.h's exact AVX2 restatement, reached
 * through the linker's --wrap; see the Makefile's BWA_WRAP); the insert-size
 * estimate is mem_pestat's, restated.  Pairing and records are the emit callback's (pair.c).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "core.h"
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"

/* ---- bwa 0.7.17's chain structures (bwamem.c; not in its public header) ------------------ */
typedef struct {
	int64_t rbeg;
	int32_t qbeg, len;
	int score;
} mem_seed_t;

typedef struct {
	int n, m, first, rid;
	uint32_t w:29, kept:2, is_alt:1;
	float frac_rep;
	int64_t pos;
	mem_seed_t *seeds;
} mem_chain_t;

int  mem_chain_flt(const mem_opt_t *opt, int n_chn, mem_chain_t *a);
void mem_flt_chained_seeds(const mem_opt_t *opt, const bntseq_t *bns, const uint8_t *pac, int l_query,
                           const uint8_t *query, int n_chn, mem_chain_t *a);
void mem_chain2aln(const mem_opt_t *opt, const bntseq_t *bns, const uint8_t *pac, int l_query,
                   const uint8_t *query, const mem_chain_t *c, mem_alnreg_v *av);
int  mem_sort_dedup_patch(const mem_opt_t *opt, const bntseq_t *bns, const uint8_t *pac, uint8_t *query,
                          int n, mem_alnreg_t *a);
int  mem_mark_primary_se(const mem_opt_t *opt, int n, mem_alnreg_t *a, int64_t id);
int  mem_sam_pe(const mem_opt_t *opt, const bntseq_t *bns, const uint8_t *pac, const mem_pestat_t pes[4],
                uint64_t id, bseq1_t s[2], mem_alnreg_v a[2]);
void mem_reg2sam(const mem_opt_t *opt, const bntseq_t *bns, const uint8_t *pac, bseq1_t *s,
                 mem_alnreg_v *a, int extra_flag, const mem_aln_t *m);

#include <bwa/kbtree.h>
#define sq_chain_cmp(a, b) (((b).pos < (a).pos) - ((a).pos < (b).pos))
KBTREE_INIT(sqchn, mem_chain_t, sq_chain_cmp)

/* bwa's test_and_merge: 1 if seed p joined chain c (or is contained in it). */
static int chain_merge(const mem_opt_t *opt, int64_t l_pac, mem_chain_t *c, const mem_seed_t *p, int rid)
{
	const mem_seed_t *last = &c->seeds[c->n - 1];
	int64_t qend = last->qbeg + last->len, rend = last->rbeg + last->len;
	if (rid != c->rid) return 0;
	if (p->qbeg >= c->seeds[0].qbeg && p->qbeg + p->len <= qend && p->rbeg >= c->seeds[0].rbeg && p->rbeg + p->len <= rend)
		return 1;                                        /* contained */
	if ((last->rbeg < l_pac || c->seeds[0].rbeg < l_pac) && p->rbeg >= l_pac) return 0;   /* other strand */
	int64_t x = p->qbeg - last->qbeg, y = p->rbeg - last->rbeg;
	if (y >= 0 && x - y <= opt->w && y - x <= opt->w && x - last->len < opt->max_chain_gap && y - last->len < opt->max_chain_gap) {
		if (c->n == c->m) {
			mem_seed_t *s = realloc(c->seeds, (size_t)c->m * 2 * sizeof *s);
			if (!s) return 0;
			c->m <<= 1;
			c->seeds = s;
		}
		c->seeds[c->n++] = *p;
		return 1;
	}
	return 0;
}

/* Chains of one read from its SMEMs and their suffix-array values (mem_chain's loop). */
static int build_chains(const sq_aln_ctx_t *cx, int len, const sq_smem_t *m, int nm, const uint64_t *sa,
                        mem_chain_t **out, int *n_out)
{
	const mem_opt_t *opt = cx->mopt;
	const bntseq_t *bns = cx->idx->bns;
	int64_t l_pac = bns->l_pac;
	int b = 0, e = 0, l_rep = 0;
	*out = NULL; *n_out = 0;
	if (len < opt->min_seed_len) return 0;
	for (int i = 0; i < nm; ++i) {                       /* fraction of repetitive sequence */
		int sb = (int)m[i].qb, se = (int)m[i].qe;
		if (m[i].x2 <= (uint64_t)opt->max_occ) continue;
		if (sb > e) l_rep += e - b, b = sb, e = se;
		else e = e > se ? e : se;
	}
	l_rep += e - b;
	kbtree_t(sqchn) *tree = kb_init(sqchn, KB_DEFAULT_SIZE);
	if (!tree) return SQ_ENOMEM;
	int64_t t = 0;
	for (int i = 0; i < nm; ++i) {
		uint64_t step = m[i].x2 > (uint64_t)opt->max_occ ? m[i].x2 / (uint64_t)opt->max_occ : 1;
		int count = 0, slen = (int)(m[i].qe - m[i].qb);
		for (uint64_t k = 0; k < m[i].x2 && count < opt->max_occ; k += step, ++count) {
			mem_chain_t tmp, *lower, *upper;
			mem_seed_t s;
			s.rbeg = tmp.pos = (int64_t)sa[t++];
			s.qbeg = (int32_t)m[i].qb;
			s.score = s.len = slen;
			int rid = bns_intv2rid(bns, s.rbeg, s.rbeg + s.len);
			if (rid < 0) continue;                      /* bridges two contigs or the strands */
			int add = 1;
			if (kb_size(tree)) {
				kb_intervalp(sqchn, tree, &tmp, &lower, &upper);
				if (lower && chain_merge(opt, l_pac, lower, &s, rid)) add = 0;
			}
			if (add) {
				tmp.n = 1; tmp.m = 4;
				tmp.seeds = calloc((size_t)tmp.m, sizeof(mem_seed_t));
				if (!tmp.seeds) { kb_destroy(sqchn, tree); return SQ_ENOMEM; }
				tmp.seeds[0] = s;
				tmp.rid = rid;
				tmp.is_alt = !!bns->anns[rid].is_alt;
				tmp.first = 0; tmp.w = 0; tmp.kept = 0; tmp.frac_rep = 0;
				kb_putp(sqchn, tree, &tmp);
			}
		}
	}
	int n = kb_size(tree);
	mem_chain_t *a = malloc((size_t)(n > 0 ? n : 1) * sizeof *a);
	if (!a) { kb_destroy(sqchn, tree); return SQ_ENOMEM; }
	int k = 0;
#define sq_traverse(p_) (a[k++] = *(p_))
	__kb_traverse(mem_chain_t, tree, sq_traverse);
#undef sq_traverse
	for (int i = 0; i < k; ++i) a[i].frac_rep = (float)l_rep / (float)len;
	kb_destroy(sqchn, tree);
	*out = a; *n_out = k;
	return 0;
}

/* mem_align1_core from the chains on. */
static int align_read(const sq_aln_ctx_t *cx, int len, uint8_t *seq, const sq_smem_t *m, int nm,
                      const uint64_t *sa, mem_alnreg_v *regs)
{
	const mem_opt_t *opt = cx->mopt;
	const bntseq_t *bns = cx->idx->bns;
	const uint8_t *pac = cx->idx->pac;
	mem_chain_t *chn;
	int n_chn, r;
	memset(regs, 0, sizeof *regs);
	if ((r = build_chains(cx, len, m, nm, sa, &chn, &n_chn)) < 0) return r;
	n_chn = mem_chain_flt(opt, n_chn, chn);
	mem_flt_chained_seeds(opt, bns, pac, len, seq, n_chn, chn);
	for (int i = 0; i < n_chn; ++i) {
		mem_chain2aln(opt, bns, pac, len, seq, &chn[i], regs);
		free(chn[i].seeds);
	}
	free(chn);
	regs->n = (size_t)mem_sort_dedup_patch(opt, bns, pac, seq, (int)regs->n, regs->a);
	for (size_t i = 0; i < regs->n; ++i) {
		mem_alnreg_t *p = &regs->a[i];
		if (p->rid >= 0 && bns->anns[p->rid].is_alt) p->is_alt = 1;
	}
	return 0;
}

/* ---- seeding a batch -------------------------------------------------------------------
 * Backends fill fixed slots per read (capacity is a status: an overflowing read is redone with
 * the reference).  Reads go to the backend in chunks so the slot area stays small, and the
 * SMEMs are compacted into one exact array; then all suffix-array rows of the batch go to the
 * backend in one call. */

#define SEED_CHUNK 4096
#define EXT_CHUNK 16384        /* reads seeded and extended together (even: pairs stay whole) */

static inline int slot_cap(int len) { return len / 2 + 16; }

typedef struct {
	int n;
	uint8_t *seq;          /* 2-bit reads, concatenated */
	uint32_t *off;         /* n+1 */
	sq_smem_t *mem;        /* exact, compacted */
	int64_t *mstart;       /* n+1 */
	int64_t *sa_off;       /* n+1 */
	uint64_t *rows, *sa;
} seeds_t;

static void seeds_free(seeds_t *s)
{
	free(s->seq); free(s->off); free(s->mem); free(s->mstart); free(s->sa_off); free(s->rows); free(s->sa);
	memset(s, 0, sizeof *s);
}

static int run_seeding(sq_aln_ctx_t *cx, sq_seeder_t *be, seeds_t *s)
{
	int n = s->n, r = 0;
	int nc = n < SEED_CHUNK ? n : SEED_CHUNK;
	uint32_t *coff = sq_malloc((size_t)(nc + 1) * sizeof *coff), *moff = sq_malloc((size_t)(nc + 1) * sizeof *moff);
	int32_t *n_mem = sq_malloc((size_t)(nc + 1) * sizeof *n_mem);
	sq_smem_t *slots = NULL;
	int64_t m_all = 0, n_all = 0;
	free(s->mem); s->mem = NULL;
	if (!coff || !moff || !n_mem) { r = SQ_ENOMEM; goto done; }
	for (int c0 = 0; c0 < n; c0 += SEED_CHUNK) {
		int c1 = c0 + SEED_CHUNK < n ? c0 + SEED_CHUNK : n, k = c1 - c0;
		coff[0] = moff[0] = 0;
		for (int i = 0; i < k; ++i) {
			int len = (int)(s->off[c0 + i + 1] - s->off[c0 + i]);
			coff[i + 1] = coff[i] + (uint32_t)len;
			moff[i + 1] = moff[i] + (uint32_t)slot_cap(len);
		}
		sq_smem_t *t = sq_realloc(slots, (size_t)moff[k] * sizeof *t + sizeof *t);
		if (!t) { r = SQ_ENOMEM; goto done; }
		slots = t;
		sq_smem_job_t job = { k, s->seq + s->off[c0], coff, moff, slots, n_mem };
		if ((r = sq_seeder_smem(be, &job)) < 0) goto done;
		int64_t need = n_all;
		for (int i = 0; i < k; ++i) need += n_mem[i];
		if (need > m_all) {
			int64_t m = need + need / 2 + 1024;
			sq_smem_t *a = sq_realloc(s->mem, (size_t)m * sizeof *a);
			if (!a) { r = SQ_ENOMEM; goto done; }
			s->mem = a; m_all = m;
		}
		for (int i = 0; i < k; ++i) {
			int len = (int)(coff[i + 1] - coff[i]), cap = (int)(moff[i + 1] - moff[i]);
			s->mstart[c0 + i] = n_all;
			if (n_mem[i] > cap)                          /* overflow: the reference, into place */
				n_mem[i] = sq_smem_ref(&cx->fmi, &cx->so, len, s->seq + s->off[c0 + i], s->mem + n_all, n_mem[i]);
			else memcpy(s->mem + n_all, slots + moff[i], (size_t)n_mem[i] * sizeof *slots);
			n_all += n_mem[i];
		}
	}
	s->mstart[n] = n_all;
	int64_t nrows = 0;
	for (int i = 0; i < n; ++i) {
		s->sa_off[i] = nrows;
		nrows += sq_smem_n_sa(&cx->so, (int)(s->mstart[i + 1] - s->mstart[i]), s->mem + s->mstart[i]);
	}
	s->sa_off[n] = nrows;
	sq_log_debug("%d reads: %lld SMEMs, %lld suffix-array lookups", n, (long long)n_all, (long long)nrows);
	free(s->rows); free(s->sa);
	s->rows = sq_malloc((size_t)(nrows + 1) * sizeof *s->rows);
	s->sa = sq_malloc((size_t)(nrows + 1) * sizeof *s->sa);
	if (!s->rows || !s->sa) { r = SQ_ENOMEM; goto done; }
	for (int i = 0; i < n; ++i)
		sq_smem_sa_rows(&cx->so, (int)(s->mstart[i + 1] - s->mstart[i]), s->mem + s->mstart[i], s->rows + s->sa_off[i]);
	r = sq_seeder_sa(be, nrows, s->rows, s->sa);
done:
	free(coff); free(moff); free(n_mem); free(slots);
	return r;
}

static int seed_batch(sq_aln_ctx_t *cx, bseq1_t *reads, int n, seeds_t *s)
{
	memset(s, 0, sizeof *s);
	s->n = n;
	s->off = sq_malloc((size_t)(n + 1) * sizeof *s->off);
	s->mstart = sq_malloc((size_t)(n + 1) * sizeof *s->mstart);
	s->sa_off = sq_malloc((size_t)(n + 1) * sizeof *s->sa_off);
	if (!s->off || !s->mstart || !s->sa_off) return SQ_ENOMEM;
	s->off[0] = 0;
	for (int i = 0; i < n; ++i) s->off[i + 1] = s->off[i] + (uint32_t)reads[i].l_seq;
	s->seq = sq_malloc((size_t)s->off[n] + 1);
	if (!s->seq) return SQ_ENOMEM;
	for (int i = 0; i < n; ++i) {                      /* 2-bit, in place as bwa does */
		bseq1_t *r = &reads[i];
		for (int j = 0; j < r->l_seq; ++j) r->seq[j] = (char)nst_nt4_table[(uint8_t)r->seq[j]];
		memcpy(s->seq + s->off[i], r->seq, (size_t)r->l_seq);
	}
	int r = run_seeding(cx, cx->be, s);
	if (r < 0 && r != SQ_ENOMEM && cx->be_cpu && cx->be_cpu != cx->be) {
		sq_log_warn("seeding backend %s failed on a batch; re-running it on the CPU", sq_seeder_name(cx->be));
		++cx->n_fallbacks;
		r = run_seeding(cx, cx->be_cpu, s);
	}
	return r;
}

/* ---- insert-size distribution ---------------------------------------------------------
 * bwa mem's estimate (mem_pestat), restated so that it logs through sq_log instead of
 * printing unconditionally: per orientation, the insert sizes of pairs whose best hits are
 * unique (second-best overlapping hit < 0.8x), quartile-based outlier bounds, mean/sd, and the
 * proper-pair window max(3 IQR, 4 sd) around them. */

static int pe_sub(const mem_opt_t *opt, const mem_alnreg_v *r)
{
	size_t j;
	for (j = 1; j < r->n; ++j) {
		int b_max = r->a[j].qb > r->a[0].qb ? r->a[j].qb : r->a[0].qb;
		int e_min = r->a[j].qe < r->a[0].qe ? r->a[j].qe : r->a[0].qe;
		if (e_min > b_max) {
			int lj = r->a[j].qe - r->a[j].qb, l0 = r->a[0].qe - r->a[0].qb;
			if (e_min - b_max >= (lj < l0 ? lj : l0) * opt->mask_level) break;
		}
	}
	return j < r->n ? r->a[j].score : opt->min_seed_len * opt->a;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static int pestat(const mem_opt_t *opt, int64_t l_pac, int n, const mem_alnreg_v *regs, mem_pestat_t pes[4])
{
	uint64_t *is[4];
	size_t ni[4] = { 0, 0, 0, 0 }, mx = 0;
	memset(pes, 0, 4 * sizeof *pes);
	for (int d = 0; d < 4; ++d) is[d] = NULL;
	for (int d = 0; d < 4; ++d) if (!(is[d] = malloc((size_t)(n / 2 + 1) * sizeof(uint64_t)))) goto oom;
	for (int i = 0; i < n / 2; ++i) {
		const mem_alnreg_v *r0 = &regs[2 * i], *r1 = &regs[2 * i + 1];
		if (r0->n == 0 || r1->n == 0) continue;
		if (pe_sub(opt, r0) > 0.8 * r0->a[0].score || pe_sub(opt, r1) > 0.8 * r1->a[0].score) continue;
		if (r0->a[0].rid != r1->a[0].rid) continue;
		int64_t b1 = r0->a[0].rb, b2 = r1->a[0].rb;
		int s1 = b1 >= l_pac, s2 = b2 >= l_pac;
		int64_t p2 = s1 == s2 ? b2 : (l_pac << 1) - 1 - b2;
		int64_t dist = p2 > b1 ? p2 - b1 : b1 - p2;
		int dir = (s1 == s2 ? 0 : 1) ^ (p2 > b1 ? 0 : 3);
		if (dist && dist <= opt->max_ins) is[dir][ni[dir]++] = (uint64_t)dist;
	}
	for (int d = 0; d < 4; ++d) {
		mem_pestat_t *r = &pes[d];
		uint64_t *q = is[d];
		size_t m = ni[d];
		if (m > mx) mx = m;
		if (m < 10) { r->failed = 1; continue; }
		qsort(q, m, sizeof *q, u64_cmp);
		int p25 = (int)q[(int)(.25 * m + .499)], p50 = (int)q[(int)(.50 * m + .499)], p75 = (int)q[(int)(.75 * m + .499)];
		r->low = (int)(p25 - 2.0 * (p75 - p25) + .499);
		if (r->low < 1) r->low = 1;
		r->high = (int)(p75 + 2.0 * (p75 - p25) + .499);
		int x = 0;
		r->avg = 0;
		for (size_t i = 0; i < m; ++i) if (q[i] >= (uint64_t)r->low && q[i] <= (uint64_t)r->high) r->avg += (double)q[i], ++x;
		r->avg /= x;
		r->std = 0;
		for (size_t i = 0; i < m; ++i)
			if (q[i] >= (uint64_t)r->low && q[i] <= (uint64_t)r->high) r->std += ((double)q[i] - r->avg) * ((double)q[i] - r->avg);
		r->std = sqrt(r->std / x);
		r->low = (int)(p25 - 3.0 * (p75 - p25) + .499);
		r->high = (int)(p75 + 3.0 * (p75 - p25) + .499);
		if (r->low > r->avg - 4.0 * r->std) r->low = (int)(r->avg - 4.0 * r->std + .499);
		if (r->high < r->avg + 4.0 * r->std) r->high = (int)(r->avg + 4.0 * r->std + .499);
		if (r->low < 1) r->low = 1;
		sq_log_debug("orientation %c%c: %zu pairs, quartiles (%d, %d, %d), mean %.2f, sd %.2f, proper (%d, %d)",
		             "FR"[d >> 1 & 1], "FR"[d & 1], m, p25, p50, p75, r->avg, r->std, r->low, r->high);
	}
	for (int d = 0; d < 4; ++d) {
		if (pes[d].failed == 0 && (double)ni[d] < (double)mx * 0.05) pes[d].failed = 1;
		free(is[d]);
	}
	return 0;
oom:
	for (int d = 0; d < 4; ++d) free(is[d]);
	return SQ_ENOMEM;
}

/* ---- the batch -------------------------------------------------------------------------- */

typedef struct {
	sq_aln_ctx_t *cx;
	bseq1_t *reads;
	seeds_t *s;
	mem_alnreg_v *regs;
	mem_pestat_t pes[4];
	int64_t id0;
	int base;                  /* first read of the chunk being extended */
	int err;
} work_t;

static void w_align(void *data, int64_t i, int tid)
{
	work_t *w = data;
	(void)tid;
	const seeds_t *s = w->s;
	bseq1_t *rd = &w->reads[w->base + i];
	if (align_read(w->cx, rd->l_seq, (uint8_t *)rd->seq, s->mem + s->mstart[i], (int)(s->mstart[i + 1] - s->mstart[i]),
	               s->sa + s->sa_off[i], &w->regs[w->base + i]) < 0) w->err = SQ_ENOMEM;
}

typedef struct {
	work_t *w;
	sq_aln_emit_f emit;
	void *ud;
} emit_t;

static void w_emit(void *data, int64_t i, int tid)
{
	emit_t *e = data;
	work_t *w = e->w;
	int paired = w->cx->paired;
	int64_t k = paired ? 2 * i : i;
	if (!__atomic_load_n(&w->err, __ATOMIC_RELAXED)) {
		int r = e->emit(e->ud, tid, i, w->pes, &w->reads[k], &w->regs[k]);
		if (r < 0) __atomic_store_n(&w->err, r, __ATOMIC_RELAXED);
	}
	free(w->regs[k].a); w->regs[k].a = NULL;
	if (paired) { free(w->regs[k + 1].a); w->regs[k + 1].a = NULL; }
}

void sq_aln_sam_text(const sq_aln_ctx_t *cx, const mem_pestat_t pes[4], uint64_t id, bseq1_t *s, mem_alnreg_v *regs)
{
	if (cx->paired) {
		mem_sam_pe(cx->mopt, cx->idx->bns, cx->idx->pac, pes, id, s, regs);
		return;
	}
	mem_mark_primary_se(cx->mopt, (int)regs->n, regs->a, (int64_t)id);
	mem_reg2sam(cx->mopt, cx->idx->bns, cx->idx->pac, s, regs, 0, 0);
}

typedef struct {                /* seeding of one chunk on its own thread (device seeders) */
	sq_aln_ctx_t *cx;
	bseq1_t *reads;
	int k, r;
	seeds_t s;
	double t;
} seed_job_t;

static void *seed_thread(void *data)
{
	seed_job_t *j = data;
	double t0 = sq_realtime();
	j->r = seed_batch(j->cx, j->reads, j->k, &j->s);
	j->t = sq_realtime() - t0;
	return NULL;
}

int sq_aln_core_batch(sq_aln_ctx_t *cx, bseq1_t *reads, int n, int64_t id0, sq_aln_emit_f emit, void *ud)
{
	seed_job_t cur, nxt;
	work_t w = { cx, reads, &cur.s, NULL, {{0}}, id0, 0, 0 };
	emit_t e = { &w, emit, ud };
	double t_seed = 0, t0 = sq_realtime(), t1;
	int r = 0, nxt_on = 0;
	pthread_t th;
	/* a device seeds the next chunk while the CPU threads extend this one; CPU seeding uses the
	 * same threads as extension, so there it runs in turn */
	int overlap = sq_seeder_kind(cx->be) != SQ_DEV_CPU && sq_seeder_kind(cx->be) != SQ_DEV_REF;
	memset(&cur, 0, sizeof cur);
	memset(&nxt, 0, sizeof nxt);
	w.regs = sq_calloc((size_t)n + 1, sizeof *w.regs);
	if (!w.regs) { r = SQ_ENOMEM; goto done; }
	/* Seeding and extension go by chunks of EXT_CHUNK reads, so that the seeds (SMEMs and
	 * suffix-array values, several times the reads' size) exist for at most two chunks at a
	 * time; only the alignment regions of the whole batch are kept, for its insert-size
	 * estimate. */
	for (int c0 = 0; c0 < n; c0 += EXT_CHUNK) {
		int k = n - c0 < EXT_CHUNK ? n - c0 : EXT_CHUNK;
		if (nxt_on) {                             /* seeded while the previous chunk extended */
			pthread_join(th, NULL); nxt_on = 0;
			cur = nxt; memset(&nxt, 0, sizeof nxt);
			t_seed += cur.t;
			r = cur.r;
		} else {
			t1 = sq_realtime();
			r = seed_batch(cx, reads + c0, k, &cur.s);
			t_seed += sq_realtime() - t1;
		}
		if (r < 0) goto done;
		if (overlap && c0 + k < n) {
			nxt.cx = cx; nxt.reads = reads + c0 + k;
			nxt.k = n - (c0 + k) < EXT_CHUNK ? n - (c0 + k) : EXT_CHUNK;
			if (pthread_create(&th, NULL, seed_thread, &nxt) == 0) nxt_on = 1;
			else { seeds_free(&nxt.s); overlap = 0; }   /* no thread: seed in turn */
		}
		w.s = &cur.s;
		w.base = c0;
		if ((r = sq_for(cx->n_threads, w_align, &w, k)) < 0 || (r = w.err) < 0) goto done;
		seeds_free(&cur.s);
	}
	if (cx->paired && (r = pestat(cx->mopt, cx->idx->bns->l_pac, n, w.regs, w.pes)) < 0) goto done;
	if ((r = sq_for(cx->n_threads, w_emit, &e, cx->paired ? n / 2 : n)) == 0) r = w.err;
done:
	if (nxt_on) pthread_join(th, NULL);
	if (w.regs) { for (int i = 0; i < n; ++i) free(w.regs[i].a); free(w.regs); }
	seeds_free(&cur.s);
	seeds_free(&nxt.s);
	cx->t_seed += t_seed;
	cx->t_extend += sq_realtime() - t0 - t_seed;
	return r;
}

/* ---- index ------------------------------------------------------------------------------ */

int sq_aln_ctx_open(sq_aln_ctx_t *cx, const char *ref, const char *backend, int n_threads, int paired,
                    int64_t input_bytes)
{
	memset(cx, 0, sizeof *cx);
	cx->n_threads = n_threads;
	cx->paired = paired;
	bwa_verbose = 1;
	cx->mopt = mem_opt_init();
	if (!cx->mopt) return SQ_ENOMEM;
	if (paired) cx->mopt->flag |= MEM_F_PE;
	cx->mopt->n_threads = n_threads;
	cx->idx = bwa_idx_load(ref, BWA_IDX_ALL);
	if (!cx->idx) { sq_log_error("cannot load the bwa index of '%s'", ref); return SQ_EIO; }
	sq_aln_fmi_view(cx->idx->bwt, &cx->fmi);
	sq_smem_opt_init(&cx->so);
	cx->so.min_seed_len = cx->mopt->min_seed_len;
	cx->so.split_factor = cx->mopt->split_factor;
	cx->so.split_width = cx->mopt->split_width;
	cx->so.max_mem_intv = (int)cx->mopt->max_mem_intv;
	cx->so.max_occ = cx->mopt->max_occ;
	cx->be = sq_aln_seeder_open(backend, &cx->fmi, &cx->so, n_threads);
	if (!cx->be) return strcmp(backend, "cuda") == 0 ? SQ_EUNSUPP : SQ_EDEVICE;
	cx->be_cpu = sq_seeder_kind(cx->be) == SQ_DEV_CPU ? cx->be
	           : sq_seeder_open(SQ_DEV_CPU, &cx->fmi, &cx->so, n_threads);
	if (!cx->be_cpu) return SQ_ENOMEM;
	sq_seeder_tune(cx->be, input_bytes);
	return 0;
}

void sq_aln_ctx_close(sq_aln_ctx_t *cx)
{
	if (cx->be_cpu && cx->be_cpu != cx->be) sq_seeder_close(cx->be_cpu);
	sq_seeder_close(cx->be);
	if (cx->idx) bwa_idx_destroy(cx->idx);
	free(cx->mopt);
	memset(cx, 0, sizeof *cx);
}
