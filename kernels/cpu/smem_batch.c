/* seqa — batched CPU seeding kernel: same SMEMs and suffix-array values as kernels/ref/smem.c.
 *
 * Where the time goes: every extension step is two occurrence lookups, each a dependent load
 * from a 64-byte block of a table far larger than the caches; the suffix-array walk is up to
 * sa_intv-1 such dependent loads per seed.  This version
 *   - allocates nothing per read (fixed scratch sized from the read length, on the stack),
 *   - counts occurrences with a packed byte table (four bases per lookup, no popcount
 *     instruction needed),
 *   - prefetches the blocks of all candidate intervals of the next backward step before
 *     extending any of them (memory-level parallelism inside a read),
 *   - walks SA_LANES suffix-array lookups of a batch in lock-step, prefetching each lane's next
 *     block, so that the cache misses of independent reads overlap (bwa-mem2's interleaving).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "smem.h"

#if defined(__x86_64__) || defined(__i386__)
#pragma GCC target("popcnt")
#endif

typedef struct { uint64_t x[3]; uint32_t qb, qe; } intv_t;

/* Occurrence counting without popcount: one 256-entry table gives the counts of the four
 * bases in a byte packed as four 8-bit fields (bwa's __occ_aux4 idea), so one word costs four
 * lookups for all four bases.  A block holds 128 bases, so no field overflows. */
static uint32_t cnt_table[256];

static void init_table(void)
{
	for (int i = 0; i < 256; ++i) {
		uint32_t x = 0;
		for (int j = 0; j < 4; ++j) x += 1u << ((i >> (j * 2) & 3) << 3);
		cnt_table[i] = x;
	}
}

static inline uint32_t occ_word(uint32_t w)
{
	return cnt_table[w & 0xff] + cnt_table[w >> 8 & 0xff] + cnt_table[w >> 16 & 0xff] + cnt_table[w >> 24];
}

static inline void occ4_raw(const sq_fmi_t *f, uint64_t k, uint64_t cnt[4])
{
	if (f->occ64) {   /* one-hot layout: count + popcount, one cache line */
		const uint64_t *b = f->occ64 + (k >> 6 << 3);
		uint64_t m = ~0ULL >> (63 - (k & 63));
		cnt[0] = b[0] + (uint64_t)__builtin_popcountll(b[4] & m);
		cnt[1] = b[1] + (uint64_t)__builtin_popcountll(b[5] & m);
		cnt[2] = b[2] + (uint64_t)__builtin_popcountll(b[6] & m);
		cnt[3] = b[3] + (uint64_t)__builtin_popcountll(b[7] & m);
		return;
	}
	const uint32_t *blk = f->bwt + (k >> 7 << 4);
	const uint64_t *c0 = (const uint64_t *)blk;
	const uint32_t *w = blk + 8;
	int nfull = (int)((k & 127) >> 4);
	uint32_t x = 0;
	for (int j = 0; j < nfull; ++j) x += occ_word(w[j]);
	/* keep the first (k&15)+1 bases of the last word; the cleared ones read as 'A' */
	x += occ_word(w[nfull] & ~((1u << ((~k & 15) << 1)) - 1)) - (uint32_t)(~k & 15);
	cnt[0] = c0[0] + (x & 0xff); cnt[1] = c0[1] + (x >> 8 & 0xff);
	cnt[2] = c0[2] + (x >> 16 & 0xff); cnt[3] = c0[3] + (x >> 24);
}

/* The tables every seed step reads at random (occurrences, suffix-array samples) are tens of
 * megabytes to gigabytes: on 4-KiB pages nearly every lookup also misses the TLB (a page walk,
 * two-dimensional under a hypervisor), which software prefetch hides badly.  Asking for
 * transparent huge pages (2 MiB) removes most of those walks.  Freed with free(). */
static void *table_alloc(size_t n)
{
	const size_t huge = (size_t)2 << 20;
	void *p = NULL;
	if (n < huge) return posix_memalign(&p, 64, n) == 0 ? p : NULL;
	n = (n + huge - 1) & ~(huge - 1);
	if (posix_memalign(&p, huge, n) != 0) return NULL;
#ifdef MADV_HUGEPAGE
	(void)madvise(p, n, MADV_HUGEPAGE);   /* advice only: without THP the table works as before */
#endif
	return p;
}

uint64_t *sq_fmi_occ64_build(const sq_fmi_t *f)
{
	uint64_t n = f->seq_len, nb = (n >> 6) + 1, c[4] = { 0, 0, 0, 0 };
	uint64_t *o = table_alloc((size_t)nb * 64);
	if (!o) return NULL;
	memset(o, 0, (size_t)nb * 64);
	for (uint64_t r = 0; r < n; ++r) {
		uint64_t *b = o + (r >> 6 << 3);
		if ((r & 63) == 0) { b[0] = c[0]; b[1] = c[1]; b[2] = c[2]; b[3] = c[3]; }
		uint32_t w = f->bwt[(r >> 7 << 4) + 8 + ((r & 127) >> 4)];
		int base = (int)(w >> ((~r & 15) << 1) & 3);
		b[4 + base] |= 1ULL << (r & 63);
		++c[base];
	}
	if ((n & 63) == 0) { uint64_t *b = o + (n >> 6 << 3); b[0] = c[0]; b[1] = c[1]; b[2] = c[2]; b[3] = c[3]; }
	return o;
}

int sq_smem_cpu_ok(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_cpu_init();
	return __builtin_cpu_supports("popcnt");
#else
	return 1;
#endif
}

static inline void occ4(const sq_fmi_t *f, uint64_t k, uint64_t cnt[4])
{
	if (k == (uint64_t)-1) { cnt[0] = cnt[1] = cnt[2] = cnt[3] = 0; return; }
	occ4_raw(f, k - (k >= f->primary), cnt);
}

static inline void prefetch_row(const sq_fmi_t *f, uint64_t k)
{
	k -= (k >= f->primary);
	if (f->occ64) __builtin_prefetch(f->occ64 + (k >> 6 << 3));
	else __builtin_prefetch(f->bwt + (k >> 7 << 4));
}

static inline void extend(const sq_fmi_t *f, const intv_t *ik, intv_t ok[4], int is_back)
{
	uint64_t tk[4], tl[4];
	int fw = !is_back;
	occ4(f, ik->x[fw] - 1, tk);
	occ4(f, ik->x[fw] - 1 + ik->x[2], tl);
	for (int c = 0; c < 4; ++c) {
		ok[c].x[fw] = f->L2[c] + 1 + tk[c];
		ok[c].x[2] = tl[c] - tk[c];
	}
	ok[3].x[is_back] = ik->x[is_back] + (ik->x[fw] <= f->primary && ik->x[fw] + ik->x[2] - 1 >= f->primary);
	ok[2].x[is_back] = ok[3].x[is_back] + ok[3].x[2];
	ok[1].x[is_back] = ok[2].x[is_back] + ok[2].x[2];
	ok[0].x[is_back] = ok[1].x[is_back] + ok[1].x[2];
}

/* Occurrences in bwt[0..k] of base c and of the bases above c (one-hot layout). */
static inline void occ_cg(const sq_fmi_t *f, uint64_t k, int c, uint64_t *nc, uint64_t *ng)
{
	if (k == (uint64_t)-1) { *nc = *ng = 0; return; }
	k -= (k >= f->primary);
	const uint64_t *b = f->occ64 + (k >> 6 << 3);
	uint64_t m = ~0ULL >> (63 - (k & 63)), gc, gm;
	*nc = b[c] + (uint64_t)__builtin_popcountll(b[4 + c] & m);
	switch (c) {
	case 0: gc = b[1] + b[2] + b[3]; gm = b[5] | b[6] | b[7]; break;
	case 1: gc = b[2] + b[3]; gm = b[6] | b[7]; break;
	case 2: gc = b[3]; gm = b[7]; break;
	default: gc = 0; gm = 0; break;
	}
	*ng = gc + (uint64_t)__builtin_popcountll(gm & m);
}

/* ok[c] of extend() alone: every caller needs only the interval of the next query base, which
 * takes the counts of c and of the bases above c (its offset on the other strand) at the two
 * rows: two popcounts per row instead of four, and no array of four intervals.  qb/qe are not
 * set (callers set what they use). */
static inline void extend1(const sq_fmi_t *f, const intv_t *ik, int c, intv_t *o, int is_back)
{
	if (!f->occ64) { intv_t ok[4]; extend(f, ik, ok, is_back); *o = ok[c]; return; }
	int fw = !is_back;
	uint64_t k = ik->x[fw] - 1, t1c, t1g, t2c, t2g;
	occ_cg(f, k, c, &t1c, &t1g);
	occ_cg(f, k + ik->x[2], c, &t2c, &t2g);
	o->x[fw] = f->L2[c] + 1 + t1c;
	o->x[2] = t2c - t1c;
	o->x[is_back] = ik->x[is_back] + (ik->x[fw] <= f->primary && ik->x[fw] + ik->x[2] - 1 >= f->primary) + (t2g - t1g);
}

static inline void set_intv(const sq_fmi_t *f, int c, intv_t *ik)
{
	ik->x[0] = f->L2[c] + 1;
	ik->x[2] = f->L2[c + 1] - f->L2[c];
	ik->x[1] = f->L2[3 - c] + 1;
	ik->qb = ik->qe = 0;
}

/* ---- SMEMs: reads walked in lock-step ----------------------------------------------------
 *
 * Every extension step of bwa's search depends on the interval of the step before, so within
 * a read the occurrence lookups form a chain of cache misses (about 300 forward steps per
 * 150-bp read over the three rounds).  Here each lane runs one read's search as a resumable
 * machine (bwt_smem1's forward then backward phase, or bwt_seed_strategy1's forward walk),
 * one step at a time, round-robin: right after a lane steps it prefetches the blocks its next
 * step reads, which are then used a whole round (the other lanes' steps) later, so the misses
 * of SMEM_LANES independent reads overlap.  Per read, the steps and their
 * order are exactly bwa's: the SMEMs are the same, in the same order. */

#define SMEM_LANES 8
#define SMEM_MAX_LEN 2048   /* longer reads go through kernels/ref (scratch per lane is 3x len) */

enum { ST_IDLE, ST_FWD, ST_BWD, ST_SS1 };     /* machine states */
enum { P_NONE, P_SMEM, P_SS1 };               /* result waiting for the round driver */

typedef struct {
	const uint8_t *q;
	sq_smem_t *out;
	int len, cap, n;                   /* read, its output slots, SMEMs found so far */
	int round, x, k, n1;               /* driver: round 1-3, next start (1, 3), next SMEM (2) */
	int st, pend, i, start, min_intv, ret, np, nc, nm;
	intv_t ik, res;                    /* current interval; seed_strategy1's result */
	intv_t *prev, *curr, *mem;         /* bwt_smem1's scratch, len+1 each */
} lane_t;

static inline void emit(lane_t *L, const intv_t *p)
{
	if (L->n < L->cap) {
		sq_smem_t *o = &L->out[L->n];
		o->x0 = p->x[0]; o->x1 = p->x[1]; o->x2 = p->x[2]; o->qb = p->qb; o->qe = p->qe;
	}
	++L->n;
}

/* bwt_smem1 from x: 1 if the machine runs, 0 if it finished at once (result pending). */
static int smem_start(lane_t *L, const sq_fmi_t *f, int x, int min_intv)
{
	L->nm = 0;
	if (L->q[x] > 3) { L->ret = x + 1; L->pend = P_SMEM; return 0; }
	L->min_intv = min_intv < 1 ? 1 : min_intv;
	L->start = x;
	set_intv(f, L->q[x], &L->ik);
	L->ik.qe = (uint32_t)x + 1;
	L->i = x + 1;
	L->nc = 0;
	L->st = ST_FWD;
	return 1;
}

/* bwt_seed_strategy1 from x. */
static int ss1_start(lane_t *L, const sq_fmi_t *f, int x)
{
	memset(&L->res, 0, sizeof L->res);
	if (L->q[x] > 3) { L->ret = x + 1; L->pend = P_SS1; return 0; }
	L->start = x;
	set_intv(f, L->q[x], &L->ik);
	L->i = x + 1;
	L->st = ST_SS1;
	return 1;
}

/* The rows the lane's next step reads. */
static inline void lane_prefetch(const sq_fmi_t *f, const lane_t *L)
{
	if (L->st == ST_BWD) {
		if (L->i < 0 || L->q[L->i] > 3) return;
		for (int j = 0; j < L->np; ++j) {
			prefetch_row(f, L->prev[j].x[0] - 1);
			prefetch_row(f, L->prev[j].x[0] - 1 + L->prev[j].x[2]);
		}
	} else if (L->i < L->len && L->q[L->i] <= 3) {   /* ST_FWD, ST_SS1 */
		prefetch_row(f, L->ik.x[1] - 1);
		prefetch_row(f, L->ik.x[1] - 1 + L->ik.x[2]);
	}
}

static inline void reverse(intv_t *a, int n)
{
	for (int i = 0, j = n - 1; i < j; ++i, --j) { intv_t t = a[i]; a[i] = a[j]; a[j] = t; }
}

/* One step of the lane's machine; 1 when the machine finished (its result pending). */
static int lane_step(lane_t *L, const sq_fmi_t *f, const sq_smem_opt_t *o)
{
	intv_t nx;
	int i = L->i;
	if (L->st == ST_FWD) {   /* bwt_smem1's forward extension from start */
		if (i < L->len && L->q[i] <= 3) {
			int c = 3 - L->q[i];
			extend1(f, &L->ik, c, &nx, 0);
			if (nx.x[2] == L->ik.x[2] || (L->curr[L->nc++] = L->ik, nx.x[2] >= (uint64_t)L->min_intv)) {
				L->ik = nx;
				L->ik.qe = (uint32_t)i + 1;
				L->i = i + 1;
				return 0;
			}
		} else L->curr[L->nc++] = L->ik;   /* end of read, or an N */
		reverse(L->curr, L->nc);
		L->ret = (int)L->curr[0].qe;
		intv_t *t = L->curr; L->curr = L->prev; L->prev = t;
		L->np = L->nc;
		L->i = L->start - 1;
		L->st = ST_BWD;
		return 0;
	}
	if (L->st == ST_BWD) {   /* its backward extension: one query position for all intervals */
		int c = i < 0 ? -1 : L->q[i] < 4 ? L->q[i] : -1, nc = 0;
		for (int j = 0; j < L->np; ++j) {
			intv_t *p = &L->prev[j];
			if (c >= 0) extend1(f, p, c, &nx, 1);
			if (c < 0 || nx.x[2] < (uint64_t)L->min_intv) {
				if (nc == 0 && (L->nm == 0 || (uint32_t)(i + 1) < L->mem[L->nm - 1].qb)) {
					L->mem[L->nm] = *p;
					L->mem[L->nm++].qb = (uint32_t)(i + 1);
				}
			} else if (nc == 0 || nx.x[2] != L->curr[nc - 1].x[2]) {
				nx.qe = p->qe;
				L->curr[nc++] = nx;
			}
		}
		if (nc == 0) {
			reverse(L->mem, L->nm);
			L->st = ST_IDLE; L->pend = P_SMEM;
			return 1;
		}
		intv_t *t = L->curr; L->curr = L->prev; L->prev = t;
		L->np = nc;
		L->i = i - 1;
		return 0;
	}
	/* ST_SS1: shortest extension of length > min_seed_len with occurrence < max_mem_intv */
	if (i >= L->len) L->ret = L->len;
	else if (L->q[i] > 3) L->ret = i + 1;
	else {
		int c = 3 - L->q[i];
		extend1(f, &L->ik, c, &nx, 0);
		if (!(nx.x[2] < (uint64_t)o->max_mem_intv && i - L->start >= o->min_seed_len)) {
			L->ik = nx;
			L->i = i + 1;
			return 0;
		}
		L->res = nx;
		L->res.qb = (uint32_t)L->start;
		L->res.qe = (uint32_t)i + 1;
		L->ret = i + 1;
	}
	L->st = ST_IDLE; L->pend = P_SS1;
	return 1;
}

/* bwa mem's mem_collect_intv around the machines: takes the pending result, starts the next
 * machine (1), or finishes the read (0: SMEMs sorted by (qb,qe), count in L->n). */
static int lane_next(lane_t *L, const sq_fmi_t *f, const sq_smem_opt_t *o)
{
	int split_len = (int)(o->min_seed_len * o->split_factor + .499);
	for (;;) {
		if (L->pend == P_SMEM) {
			for (int i = 0; i < L->nm; ++i)
				if ((int)(L->mem[i].qe - L->mem[i].qb) >= o->min_seed_len) emit(L, &L->mem[i]);
			if (L->round == 1) L->x = L->ret;
		} else if (L->pend == P_SS1) {
			if (L->res.x[2] > 0) emit(L, &L->res);
			L->x = L->ret;
		}
		L->pend = P_NONE;
		if (L->round == 1) {   /* SMEMs from every start */
			while (L->x < L->len && L->q[L->x] > 3) ++L->x;
			if (L->x < L->len) { if (smem_start(L, f, L->x, 1)) return 1; continue; }
			L->round = 2; L->k = 0; L->n1 = L->n < L->cap ? L->n : L->cap;
		}
		if (L->round == 2) {   /* re-seeding inside long SMEMs of few occurrences */
			const sq_smem_t *p = NULL;
			while (L->k < L->n1 && !p) {
				p = &L->out[L->k++];
				if ((int)(p->qe - p->qb) < split_len || p->x2 > (uint64_t)o->split_width) p = NULL;
			}
			if (p) { if (smem_start(L, f, (int)(p->qb + p->qe) >> 1, (int)p->x2 + 1)) return 1; continue; }
			L->round = 3; L->x = 0;
		}
		if (L->round == 3 && o->max_mem_intv > 0) {   /* the LAST-like pass */
			while (L->x < L->len && L->q[L->x] > 3) ++L->x;
			if (L->x < L->len) { if (ss1_start(L, f, L->x)) return 1; continue; }
		}
		break;
	}
	if (L->n <= L->cap) {   /* insertion sort by (qb,qe): few elements, mostly ordered already */
		sq_smem_t *a = L->out;
		for (int i = 1; i < L->n; ++i) {
			sq_smem_t t = a[i];
			int j = i - 1;
			while (j >= 0 && (a[j].qb > t.qb || (a[j].qb == t.qb && a[j].qe > t.qe))) { a[j + 1] = a[j]; --j; }
			a[j + 1] = t;
		}
	}
	return 0;
}

static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static int run_lanes(const sq_fmi_t *f, const sq_smem_opt_t *o, const sq_smem_job_t *job,
                     int64_t i0, int64_t i1, intv_t *scratch, int n_lanes, int maxl)
{
	lane_t lane[SMEM_LANES];
	int64_t id[SMEM_LANES], next = i0;
	int live = 0;
	for (int l = 0; l < n_lanes; ++l) {
		id[l] = -1;
		lane[l].prev = scratch + (size_t)l * 3 * (maxl + 1);
		lane[l].curr = lane[l].prev + maxl + 1;
		lane[l].mem = lane[l].curr + maxl + 1;
	}
	for (;;) {
		for (int l = 0; l < n_lanes; ++l) {   /* idle lanes take the next read */
			lane_t *L = &lane[l];
			while (id[l] < 0 && next < i1) {
				int64_t r = next++;
				int len = (int)(job->off[r + 1] - job->off[r]), cap = (int)(job->moff[r + 1] - job->moff[r]);
				if (len > SMEM_MAX_LEN) {
					job->n_mem[r] = sq_smem_ref(f, o, len, job->seq + job->off[r], job->mem + job->moff[r], cap);
					continue;
				}
				L->q = job->seq + job->off[r]; L->len = len;
				L->out = job->mem + job->moff[r]; L->cap = cap;
				L->n = 0; L->round = 1; L->x = 0; L->st = ST_IDLE; L->pend = P_NONE;
				if (lane_next(L, f, o)) { id[l] = r; ++live; lane_prefetch(f, L); }
				else job->n_mem[r] = L->n;
			}
		}
		if (live == 0) break;
		for (int l = 0; l < n_lanes; ++l) {   /* step, then prefetch what the next step reads: a whole round ahead */
			lane_t *L = &lane[l];
			if (id[l] < 0) continue;
			if (lane_step(L, f, o) && !lane_next(L, f, o)) {
				job->n_mem[id[l]] = L->n;
				id[l] = -1; --live;
			} else lane_prefetch(f, L);
		}
	}
	return 0;
}

int sq_smem_cpu_batch(const sq_fmi_t *f, const sq_smem_opt_t *o, const sq_smem_job_t *job,
                      int64_t i0, int64_t i1)
{
	pthread_once(&table_once, init_table);
	int maxl = 0;
	for (int64_t i = i0; i < i1; ++i) {
		int len = (int)(job->off[i + 1] - job->off[i]);
		if (len <= SMEM_MAX_LEN && len > maxl) maxl = len;
	}
	intv_t *scratch = malloc((size_t)SMEM_LANES * 3 * (maxl + 1) * sizeof *scratch);
	if (scratch) {
		run_lanes(f, o, job, i0, i1, scratch, SMEM_LANES, maxl);
		free(scratch);
		return 0;
	}
	intv_t one[3 * (maxl + 1)];   /* out of memory: one lane on the stack (<= 200 KB) */
	return run_lanes(f, o, job, i0, i1, one, 1, maxl);
}

/* ---- suffix array: lanes walked in lock-step ------------------------------------------- */

#define SA_LANES 16

static inline int bwt_base(const sq_fmi_t *f, uint64_t r)
{
	if (f->occ64) {
		const uint64_t *b = f->occ64 + (r >> 6 << 3);
		uint64_t bit = 1ULL << (r & 63);
		return (b[5] & bit) ? 1 : (b[6] & bit) ? 2 : (b[7] & bit) ? 3 : 0;
	}
	uint32_t w = f->bwt[(r >> 7 << 4) + 8 + ((r & 127) >> 4)];
	return (int)(w >> ((~r & 15) << 1) & 3);
}

/* Occ(c, k) for one base (k in full-BWT rows). */
static inline uint64_t occ1(const sq_fmi_t *f, uint64_t k, int c)
{
	if (k == f->seq_len) return f->L2[c + 1] - f->L2[c];
	uint64_t cnt[4];
	occ4_raw(f, k - (k >= f->primary), cnt);
	return cnt[c];
}

static inline __attribute__((always_inline)) uint64_t lf(const sq_fmi_t *f, uint64_t k)
{
	if (k == f->primary) return 0;
	if (f->occ64) {   /* branch-free: the base is random, a chain of ifs mispredicts 3 times in 4 */
		uint64_t kk = k - (k > f->primary), r = kk & 63;   /* row k == seq_len is the last bit */
		const uint64_t *b = f->occ64 + (kk >> 6 << 3);
		int c = (int)((b[5] >> r & 1) | (b[6] >> r & 1) << 1 | (b[7] >> r & 1) * 3);
		return f->L2[c] + b[c] + (uint64_t)__builtin_popcountll(b[4 + c] & (~0ULL >> (63 - r)));
	}
	int c = bwt_base(f, k < f->primary ? k : k - 1);
	return f->L2[c] + occ1(f, k, c);
}

uint32_t *sq_fmi_sa_dense_alloc(const sq_fmi_t *f, int intv)
{
	if (f->seq_len + 1 >= 0xffffffffULL || intv < 1 || f->sa_intv % intv != 0) return NULL;
	uint32_t *d = table_alloc((size_t)(f->seq_len / (uint64_t)intv + 1) * sizeof *d);
	if (!d) return NULL;
	for (uint64_t j = 0; j < f->n_sa; ++j)   /* bwa's samples are also dense samples */
		d[j * (uint64_t)(f->sa_intv / intv)] = (uint32_t)f->sa[j];
	return d;
}

void sq_fmi_sa_dense_fill(const sq_fmi_t *f, uint32_t *dense, int intv, uint64_t j0, uint64_t j1)
{
	uint64_t mask = (uint64_t)f->sa_intv - 1, dm = (uint64_t)intv - 1;
	uint64_t k[SA_LANES], v[SA_LANES], next = j0;
	int live = 0, on[SA_LANES];
	pthread_once(&table_once, init_table);
	if (j1 > f->n_sa) j1 = f->n_sa;
	for (int l = 0; l < SA_LANES; ++l) on[l] = 0;
	for (;;) {
		for (int l = 0; l < SA_LANES; ++l)
			if (!on[l] && next < j1) {
				k[l] = next * (uint64_t)f->sa_intv;
				v[l] = next ? f->sa[next] : f->seq_len;   /* row 0 ('$') is at text position seq_len */
				++next;
				on[l] = 1; ++live;
			}
		if (live == 0) break;
		for (int l = 0; l < SA_LANES; ++l) {
			if (!on[l]) continue;
			k[l] = lf(f, k[l]);        /* value of LF(r) is value(r) - 1 */
			--v[l];
			if ((k[l] & mask) == 0) { on[l] = 0; --live; continue; }   /* next segment's start */
			if ((k[l] & dm) == 0) dense[k[l] / (uint64_t)intv] = (uint32_t)v[l];
			prefetch_row(f, k[l]);
		}
	}
}

static inline uint64_t sa_sample(const sq_fmi_t *f, uint64_t k)
{
	if (f->sa_dense) {
		uint32_t x = f->sa_dense[k / (uint64_t)f->sa_dense_intv];
		return x == 0xffffffffu ? (uint64_t)-1 : x;
	}
	return f->sa[k / (uint64_t)f->sa_intv];
}

void sq_sa_cpu_batch(const sq_fmi_t *f, int64_t n, const uint64_t *rows, uint64_t *out)
{
	pthread_once(&table_once, init_table);
	uint64_t mask = f->sa_dense ? (uint64_t)f->sa_dense_intv - 1 : (uint64_t)f->sa_intv - 1;
	uint64_t k[SA_LANES], d[SA_LANES];
	int64_t idx[SA_LANES], next = 0;
	int live = 0;
	for (int l = 0; l < SA_LANES; ++l) idx[l] = -1;
	for (;;) {
		/* refill idle lanes */
		for (int l = 0; l < SA_LANES; ++l) {
			while (idx[l] < 0 && next < n) {
				uint64_t r = rows[next];
				if ((r & mask) == 0) { out[next] = sa_sample(f, r); ++next; continue; }
				idx[l] = next++; k[l] = r; d[l] = 0; ++live;
				prefetch_row(f, r);
			}
		}
		if (live == 0) break;
		for (int l = 0; l < SA_LANES; ++l) {
			if (idx[l] < 0) continue;
			k[l] = lf(f, k[l]);
			++d[l];
			if ((k[l] & mask) == 0) {
				out[idx[l]] = d[l] + sa_sample(f, k[l]);
				idx[l] = -1; --live;
			} else prefetch_row(f, k[l]);
		}
	}
}
