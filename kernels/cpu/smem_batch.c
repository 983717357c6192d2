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

uint64_t *sq_fmi_occ64_build(const sq_fmi_t *f)
{
	uint64_t n = f->seq_len, nb = (n >> 6) + 1, c[4] = { 0, 0, 0, 0 };
	uint64_t *o = NULL;
	if (posix_memalign((void **)&o, 64, (size_t)nb * 64) != 0) return NULL;
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

static inline void set_intv(const sq_fmi_t *f, int c, intv_t *ik)
{
	ik->x[0] = f->L2[c] + 1;
	ik->x[2] = f->L2[c + 1] - f->L2[c];
	ik->x[1] = f->L2[3 - c] + 1;
	ik->qb = ik->qe = 0;
}

/* bwt_smem1 with caller scratch: prev/curr hold <= len+1 intervals, mem <= len+1. */
static int smem1(const sq_fmi_t *f, int len, const uint8_t *q, int x, int min_intv,
                 intv_t *mem, int *n_mem, intv_t *prev, intv_t *curr)
{
	intv_t ik, ok[4];
	int i, ret, np = 0, nc = 0, nm = 0;
	*n_mem = 0;
	if (q[x] > 3) return x + 1;
	if (min_intv < 1) min_intv = 1;
	set_intv(f, q[x], &ik);
	ik.qe = (uint32_t)x + 1;
	for (i = x + 1; i < len; ++i) {
		if (q[i] > 3) { curr[nc++] = ik; break; }
		int c = 3 - q[i];
		extend(f, &ik, ok, 0);
		if (ok[c].x[2] != ik.x[2]) {
			curr[nc++] = ik;
			if (ok[c].x[2] < (uint64_t)min_intv) break;
		}
		ik = ok[c];
		ik.qe = (uint32_t)i + 1;
	}
	if (i == len) curr[nc++] = ik;
	for (int a = 0, b = nc - 1; a < b; ++a, --b) { intv_t t = curr[a]; curr[a] = curr[b]; curr[b] = t; }
	ret = (int)curr[0].qe;
	{ intv_t *t = curr; curr = prev; prev = t; np = nc; }
	for (i = x - 1; i >= -1; --i) {
		int c = i < 0 ? -1 : q[i] < 4 ? q[i] : -1;
		if (c >= 0)
			for (int j = 0; j < np; ++j) {   /* issue all of this step's loads first */
				prefetch_row(f, prev[j].x[1] - 1);
				prefetch_row(f, prev[j].x[1] - 1 + prev[j].x[2]);
			}
		nc = 0;
		for (int j = 0; j < np; ++j) {
			intv_t *p = &prev[j];
			if (c >= 0) extend(f, p, ok, 1);
			if (c < 0 || ok[c].x[2] < (uint64_t)min_intv) {
				if (nc == 0 && (nm == 0 || (uint32_t)(i + 1) < mem[nm - 1].qb)) {
					mem[nm] = *p;
					mem[nm++].qb = (uint32_t)(i + 1);
				}
			} else if (nc == 0 || ok[c].x[2] != curr[nc - 1].x[2]) {
				ok[c].qe = p->qe;
				curr[nc++] = ok[c];
			}
		}
		if (nc == 0) break;
		{ intv_t *t = curr; curr = prev; prev = t; np = nc; }
	}
	for (int a = 0, b = nm - 1; a < b; ++a, --b) { intv_t t = mem[a]; mem[a] = mem[b]; mem[b] = t; }
	*n_mem = nm;
	return ret;
}

static int seed_strategy1(const sq_fmi_t *f, int len, const uint8_t *q, int x, int min_len,
                          int max_intv, intv_t *m)
{
	intv_t ik, ok[4];
	memset(m, 0, sizeof *m);
	if (q[x] > 3) return x + 1;
	set_intv(f, q[x], &ik);
	for (int i = x + 1; i < len; ++i) {
		if (q[i] > 3) return i + 1;
		int c = 3 - q[i];
		extend(f, &ik, ok, 0);
		if (ok[c].x[2] < (uint64_t)max_intv && i - x >= min_len) {
			*m = ok[c];
			m->qb = (uint32_t)x;
			m->qe = (uint32_t)i + 1;
			return i + 1;
		}
		ik = ok[c];
	}
	return len;
}

static inline void emit(sq_smem_t *out, int cap, int *n, const intv_t *p)
{
	if (*n < cap) {
		sq_smem_t *o = &out[*n];
		o->x0 = p->x[0]; o->x1 = p->x[1]; o->x2 = p->x[2]; o->qb = p->qb; o->qe = p->qe;
	}
	++*n;
}

static int smem_read(const sq_fmi_t *f, const sq_smem_opt_t *o, int len, const uint8_t *seq,
                     sq_smem_t *out, int cap)
{
	if (len <= 0) return 0;
	if (len > 2048) return sq_smem_ref(f, o, len, seq, out, cap);   /* keep scratch on the stack small */
	intv_t s0[len + 1], s1[len + 1], one[len + 1];
	int n = 0, x, nm, split_len = (int)(o->min_seed_len * o->split_factor + .499);
	for (x = 0; x < len;) {
		if (seq[x] > 3) { ++x; continue; }
		x = smem1(f, len, seq, x, 1, one, &nm, s0, s1);
		for (int i = 0; i < nm; ++i)
			if ((int)(one[i].qe - one[i].qb) >= o->min_seed_len) emit(out, cap, &n, &one[i]);
	}
	int n1 = n < cap ? n : cap;
	for (int k = 0; k < n1; ++k) {
		sq_smem_t p = out[k];
		if ((int)(p.qe - p.qb) < split_len || p.x2 > (uint64_t)o->split_width) continue;
		smem1(f, len, seq, (int)(p.qb + p.qe) >> 1, (int)p.x2 + 1, one, &nm, s0, s1);
		for (int i = 0; i < nm; ++i)
			if ((int)(one[i].qe - one[i].qb) >= o->min_seed_len) emit(out, cap, &n, &one[i]);
	}
	if (o->max_mem_intv > 0) {
		for (x = 0; x < len;) {
			if (seq[x] > 3) { ++x; continue; }
			intv_t m;
			x = seed_strategy1(f, len, seq, x, o->min_seed_len, o->max_mem_intv, &m);
			if (m.x[2] > 0) emit(out, cap, &n, &m);
		}
	}
	if (n <= cap) {   /* insertion sort by (qb,qe): few elements, mostly ordered already */
		for (int i = 1; i < n; ++i) {
			sq_smem_t t = out[i];
			int j = i - 1;
			while (j >= 0 && (out[j].qb > t.qb || (out[j].qb == t.qb && out[j].qe > t.qe))) {
				out[j + 1] = out[j];
				--j;
			}
			out[j + 1] = t;
		}
	}
	return n;
}

static pthread_once_t table_once = PTHREAD_ONCE_INIT;

int sq_smem_cpu_batch(const sq_fmi_t *f, const sq_smem_opt_t *o, const sq_smem_job_t *job,
                      int64_t i0, int64_t i1)
{
	pthread_once(&table_once, init_table);
	for (int64_t i = i0; i < i1; ++i) {
		int len = (int)(job->off[i + 1] - job->off[i]);
		int cap = (int)(job->moff[i + 1] - job->moff[i]);
		job->n_mem[i] = smem_read(f, o, len, job->seq + job->off[i], job->mem + job->moff[i], cap);
	}
	return 0;
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

static inline uint64_t lf(const sq_fmi_t *f, uint64_t k)
{
	if (k == f->primary) return 0;
	int c = bwt_base(f, k < f->primary ? k : k - 1);
	return f->L2[c] + occ1(f, k, c);
}

uint32_t *sq_fmi_sa_dense_alloc(const sq_fmi_t *f, int intv)
{
	if (f->seq_len + 1 >= 0xffffffffULL || intv < 1 || f->sa_intv % intv != 0) return NULL;
	uint32_t *d = malloc((size_t)(f->seq_len / (uint64_t)intv + 1) * sizeof *d);
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
