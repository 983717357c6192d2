/* seqa — reference seeding kernel: super-maximal exact matches (SMEMs) on a bidirectional
 * FM index (Li 2012, "Exploring single-sample SNP and INDEL calling with whole-genome de novo
 * assembly", the bwt_smem1 algorithm), with bwa mem's re-seeding and third seeding round, and
 * suffix-array lookup by LF-walks to the nearest sampled row.
 *
 * Written for clarity: one read at a time, growable arrays, no prefetching.  It is the
 * specification the batched CPU, OpenCL and CUDA kernels are tested against.
 *
 * Index layout (bwa 0.7, OCC_INTERVAL = 128): bwt[] is a sequence of 64-byte blocks, each
 * four uint64 counts Occ(c, start of block) followed by 128 bases, 2 bits each, 16 per uint32,
 * most significant first.  The '$' row ("primary") is not stored, so rows after it shift by one.
 */
#include <stdlib.h>
#include <string.h>
#include "smem.h"

void sq_smem_opt_init(sq_smem_opt_t *o)
{
	o->min_seed_len = 19;
	o->split_factor = 1.5f;
	o->split_width = 10;
	o->max_mem_intv = 20;
	o->max_occ = 500;
}

/* ---- occurrence counting ------------------------------------------------------------- */

/* Number of bases equal to c among the first n (1..16) bases of the 16-base word w. */
static int word_count(uint32_t w, int c, int n)
{
	uint32_t y = w ^ (0x55555555u * (uint32_t)c);     /* 00 where the base equals c */
	uint32_t z = (y | y >> 1) & 0x55555555u;          /* 1 per differing base */
	uint32_t mask = n >= 16 ? 0xffffffffu : ~((1u << ((16 - n) * 2)) - 1);
	return n - __builtin_popcount(z & mask);
}

/* Occ(c, k) for all four bases, k a stored-BWT row (after the '$' shift), k != -1. */
static void occ4_raw(const sq_fmi_t *f, uint64_t k, uint64_t cnt[4])
{
	const uint32_t *blk = f->bwt + (k >> 7 << 4);
	const uint32_t *w = blk + 8;
	int nfull = (int)((k & 127) >> 4), rest = (int)(k & 15) + 1;
	for (int c = 0; c < 4; ++c) {
		uint64_t n = ((const uint64_t *)blk)[c];
		for (int j = 0; j < nfull; ++j) n += word_count(w[j], c, 16);
		n += word_count(w[nfull], c, rest);
		cnt[c] = n;
	}
}

static void occ4(const sq_fmi_t *f, uint64_t k, uint64_t cnt[4])
{
	if (k == (uint64_t)-1) { cnt[0] = cnt[1] = cnt[2] = cnt[3] = 0; return; }
	occ4_raw(f, k - (k >= f->primary), cnt);
}

uint64_t sq_fmi_occ(const sq_fmi_t *f, uint64_t k, int c)
{
	uint64_t cnt[4];
	if (k == f->seq_len) return f->L2[c + 1] - f->L2[c];
	if (k == (uint64_t)-1) return 0;
	occ4_raw(f, k - (k >= f->primary), cnt);
	return cnt[c];
}

/* The BWT base stored at stored-row r. */
static int bwt_base(const sq_fmi_t *f, uint64_t r)
{
	uint32_t w = f->bwt[(r >> 7 << 4) + 8 + ((r & 127) >> 4)];
	return (int)(w >> ((~r & 15) << 1) & 3);
}

uint64_t sq_fmi_sa(const sq_fmi_t *f, uint64_t k)
{
	uint64_t sa = 0, mask = (uint64_t)f->sa_intv - 1;
	while (k & mask) {             /* LF-walk until a sampled row */
		++sa;
		if (k == f->primary) k = 0;
		else {
			int c = bwt_base(f, k < f->primary ? k : k - 1);
			k = f->L2[c] + sq_fmi_occ(f, k, c);
		}
	}
	return sa + f->sa[k / (uint64_t)f->sa_intv];   /* sa[0] = -1 makes the '$' row wrap */
}

/* ---- bidirectional extension --------------------------------------------------------- */

typedef struct { uint64_t x[3]; uint32_t qb, qe; } intv_t;   /* x[0] fwd, x[1] rev, x[2] size */

static void set_intv(const sq_fmi_t *f, int c, intv_t *ik)
{
	ik->x[0] = f->L2[c] + 1;
	ik->x[2] = f->L2[c + 1] - f->L2[c];
	ik->x[1] = f->L2[3 - c] + 1;
	ik->qb = ik->qe = 0;
}

/* Extend interval ik by one base on either side (is_back: prepend; else append, which is a
 * backward step on the reverse-complement interval).  ok[c] for the four bases. */
static void extend(const sq_fmi_t *f, const intv_t *ik, intv_t ok[4], int is_back)
{
	uint64_t tk[4], tl[4];
	int fw = !is_back;
	occ4(f, ik->x[fw] - 1, tk);
	occ4(f, ik->x[fw] - 1 + ik->x[2], tl);
	for (int c = 0; c < 4; ++c) {
		ok[c].x[fw] = f->L2[c] + 1 + tk[c];
		ok[c].x[2] = tl[c] - tk[c];
	}
	/* the other strand's intervals are consecutive, in complement order, after the '$' */
	ok[3].x[is_back] = ik->x[is_back] + (ik->x[fw] <= f->primary && ik->x[fw] + ik->x[2] - 1 >= f->primary);
	ok[2].x[is_back] = ok[3].x[is_back] + ok[3].x[2];
	ok[1].x[is_back] = ok[2].x[is_back] + ok[2].x[2];
	ok[0].x[is_back] = ok[1].x[is_back] + ok[1].x[2];
}

typedef struct { int n, m; intv_t *a; } vec_t;

static void push(vec_t *v, const intv_t *x)
{
	if (v->n == v->m) {
		v->m = v->m ? v->m * 2 : 16;
		intv_t *a = realloc(v->a, (size_t)v->m * sizeof *a);
		if (!a) abort();            /* reference code: tests only; out of memory is fatal here */
		v->a = a;
	}
	v->a[v->n++] = *x;
}

static void reverse(vec_t *v)
{
	for (int i = 0, j = v->n - 1; i < j; ++i, --j) { intv_t t = v->a[i]; v->a[i] = v->a[j]; v->a[j] = t; }
}

/* All SMEMs overlapping position x with interval size >= min_intv (bwt_smem1).  Appends them
 * to mem (sorted by start); returns the end of the longest forward match from x. */
static int smem1(const sq_fmi_t *f, int len, const uint8_t *q, int x, int min_intv, vec_t *mem,
                 vec_t *prev, vec_t *curr)
{
	intv_t ik, ok[4];
	int i, ret;
	mem->n = 0;
	if (q[x] > 3) return x + 1;
	if (min_intv < 1) min_intv = 1;
	set_intv(f, q[x], &ik);
	ik.qe = (uint32_t)x + 1;
	/* forward: collect the intervals where the size changes, shortest match first */
	curr->n = 0;
	for (i = x + 1; i < len; ++i) {
		if (q[i] > 3) { push(curr, &ik); break; }
		int c = 3 - q[i];
		extend(f, &ik, ok, 0);
		if (ok[c].x[2] != ik.x[2]) {
			push(curr, &ik);
			if (ok[c].x[2] < (uint64_t)min_intv) break;
		}
		ik = ok[c];
		ik.qe = (uint32_t)i + 1;
	}
	if (i == len) push(curr, &ik);
	reverse(curr);                       /* longest match first */
	ret = (int)curr->a[0].qe;
	{ vec_t *t = curr; curr = prev; prev = t; }
	/* backward: extend all candidates one base at a time; a candidate that cannot be
	 * extended is a MEM, kept when no longer candidate survived this round */
	for (i = x - 1; i >= -1; --i) {
		int c = i < 0 ? -1 : q[i] < 4 ? q[i] : -1;
		curr->n = 0;
		for (int j = 0; j < prev->n; ++j) {
			intv_t *p = &prev->a[j];
			if (c >= 0) extend(f, p, ok, 1);
			if (c < 0 || ok[c].x[2] < (uint64_t)min_intv) {
				if (curr->n == 0 && (mem->n == 0 || (uint32_t)(i + 1) < mem->a[mem->n - 1].qb)) {
					ik = *p;
					ik.qb = (uint32_t)(i + 1);
					push(mem, &ik);
				}
			} else if (curr->n == 0 || ok[c].x[2] != curr->a[curr->n - 1].x[2]) {
				ok[c].qe = p->qe;
				push(curr, &ok[c]);
			}
		}
		if (curr->n == 0) break;
		{ vec_t *t = curr; curr = prev; prev = t; }
	}
	reverse(mem);
	return ret;
}

/* Third round (bwt_seed_strategy1): from x, the shortest forward extension longer than
 * min_len whose interval is smaller than max_intv.  m->x[2] = 0 when none. */
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

static int cmp_intv(const void *a, const void *b)
{
	const intv_t *p = a, *q = b;
	if (p->qb != q->qb) return p->qb < q->qb ? -1 : 1;
	if (p->qe != q->qe) return p->qe < q->qe ? -1 : 1;
	return 0;
}

int sq_smem_ref(const sq_fmi_t *f, const sq_smem_opt_t *o, int len, const uint8_t *seq,
                sq_smem_t *out, int cap)
{
	vec_t all = {0}, one = {0}, t0 = {0}, t1 = {0};
	int x, split_len = (int)(o->min_seed_len * o->split_factor + .499);
	/* round 1: SMEMs from every position */
	for (x = 0; x < len;) {
		if (seq[x] > 3) { ++x; continue; }
		x = smem1(f, len, seq, x, 1, &one, &t0, &t1);
		for (int i = 0; i < one.n; ++i)
			if ((int)(one.a[i].qe - one.a[i].qb) >= o->min_seed_len) push(&all, &one.a[i]);
	}
	/* round 2: re-seed inside long, rare SMEMs, requiring more occurrences */
	int n1 = all.n;
	for (int k = 0; k < n1; ++k) {
		intv_t p = all.a[k];
		if ((int)(p.qe - p.qb) < split_len || p.x[2] > (uint64_t)o->split_width) continue;
		smem1(f, len, seq, (int)(p.qb + p.qe) >> 1, (int)p.x[2] + 1, &one, &t0, &t1);
		for (int i = 0; i < one.n; ++i)
			if ((int)(one.a[i].qe - one.a[i].qb) >= o->min_seed_len) push(&all, &one.a[i]);
	}
	/* round 3: LAST-like seeds of bounded occurrence */
	if (o->max_mem_intv > 0) {
		for (x = 0; x < len;) {
			if (seq[x] > 3) { ++x; continue; }
			intv_t m;
			x = seed_strategy1(f, len, seq, x, o->min_seed_len, o->max_mem_intv, &m);
			if (m.x[2] > 0) push(&all, &m);
		}
	}
	if (all.n > 1) qsort(all.a, (size_t)all.n, sizeof *all.a, cmp_intv);   /* all.a is NULL when empty */
	for (int i = 0; i < all.n && i < cap; ++i) {
		out[i].x0 = all.a[i].x[0]; out[i].x1 = all.a[i].x[1]; out[i].x2 = all.a[i].x[2];
		out[i].qb = all.a[i].qb; out[i].qe = all.a[i].qe;
	}
	int n = all.n;
	free(all.a); free(one.a); free(t0.a); free(t1.a);
	return n;
}

/* ---- suffix-array rows in chaining order --------------------------------------------- */

int64_t sq_smem_n_sa(const sq_smem_opt_t *o, int n, const sq_smem_t *m)
{
	int64_t t = 0;
	for (int i = 0; i < n; ++i) {
		uint64_t step = m[i].x2 > (uint64_t)o->max_occ ? m[i].x2 / (uint64_t)o->max_occ : 1;
		int count = 0;
		for (uint64_t k = 0; k < m[i].x2 && count < o->max_occ; k += step) ++count, ++t;
	}
	return t;
}

int64_t sq_smem_sa_rows(const sq_smem_opt_t *o, int n, const sq_smem_t *m, uint64_t *rows)
{
	int64_t t = 0;
	for (int i = 0; i < n; ++i) {
		uint64_t step = m[i].x2 > (uint64_t)o->max_occ ? m[i].x2 / (uint64_t)o->max_occ : 1;
		int count = 0;
		for (uint64_t k = 0; k < m[i].x2 && count < o->max_occ; k += step, ++count)
			rows[t++] = m[i].x0 + k;
	}
	return t;
}

int sq_smem_ref_batch(const sq_fmi_t *f, const sq_smem_opt_t *o, const sq_smem_job_t *job)
{
	for (int i = 0; i < job->n_reads; ++i) {
		int len = (int)(job->off[i + 1] - job->off[i]);
		int cap = (int)(job->moff[i + 1] - job->moff[i]);
		job->n_mem[i] = sq_smem_ref(f, o, len, job->seq + job->off[i], job->mem + job->moff[i], cap);
	}
	return 0;
}

void sq_sa_ref_batch(const sq_fmi_t *f, int64_t n, const uint64_t *rows, uint64_t *out)
{
	for (int64_t i = 0; i < n; ++i) out[i] = sq_fmi_sa(f, rows[i]);
}
