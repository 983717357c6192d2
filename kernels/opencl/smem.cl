/* seqa — seeding kernel for OpenCL devices (and, through kernels/cuda/smem.cu, CUDA): the same
 * SMEM search and suffix-array lookup as kernels/ref/smem.c, one work-item per read (smem_batch)
 * and one per suffix-array row (sa_batch).  Candidate lists live in a global scratch area of
 * 3*(len+1) intervals per read; results go to fixed slots per read (moff), the count always
 * written so that the host can detect and redo an overflow.
 *
 * Written once for both runtimes: SQ_CUDA selects the CUDA spellings below. */
#ifdef SQ_CUDA
typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;
#define GLOBAL
#define KERNEL extern "C" __global__
#define DEVFN __device__ static inline
#define GID() ((u64)blockIdx.x * blockDim.x + threadIdx.x)
#define POPC(x) __popc(x)
#else
typedef ulong u64;
typedef uint u32;
typedef uchar u8;
#define GLOBAL __global
#define KERNEL __kernel
#define DEVFN inline
#define GID() ((u64)get_global_id(0))
#define POPC(x) popcount(x)
#endif

typedef struct { u64 x0, x1, x2; u32 qb, qe; } sq_intv;   /* = sq_smem_t */

typedef struct {
	GLOBAL const u32 *bwt;
	GLOBAL const u64 *sa;
	u64 primary, seq_len;
	u64 L2[5];
	int sa_intv;
} fmi_t;

DEVFN int wcount(u32 w, u32 pat, u32 mask)
{
	u32 y = w ^ pat;
	u32 z = (y | y >> 1) & 0x55555555u & mask;
	return (int)POPC(mask & 0x55555555u) - (int)POPC(z);
}

DEVFN u32 pat_of(int c) { return 0x55555555u * (u32)c; }

DEVFN void occ4_raw(const fmi_t *f, u64 k, u64 cnt[4])
{
	GLOBAL const u32 *blk = f->bwt + (k >> 7 << 4);
	GLOBAL const u32 *w = blk + 8;
	int nfull = (int)((k & 127) >> 4), rest = (int)(k & 15) + 1;
	u32 lastmask = rest >= 16 ? 0xffffffffu : ~((1u << ((16 - rest) * 2)) - 1);
	for (int c = 0; c < 4; ++c) cnt[c] = (u64)blk[2 * c] | (u64)blk[2 * c + 1] << 32;
	for (int j = 0; j < nfull; ++j) {
		u32 x = w[j];
		for (int c = 0; c < 4; ++c) cnt[c] += (u64)wcount(x, pat_of(c), 0xffffffffu);
	}
	u32 x = w[nfull];
	for (int c = 0; c < 4; ++c) cnt[c] += (u64)wcount(x, pat_of(c), lastmask);
}

DEVFN void occ4(const fmi_t *f, u64 k, u64 cnt[4])
{
	if (k == (u64)-1) { cnt[0] = cnt[1] = cnt[2] = cnt[3] = 0; return; }
	occ4_raw(f, k - (k >= f->primary ? 1 : 0), cnt);
}

/* x[] as three named fields: fw selects x0 (forward) or x1 (reverse). */
DEVFN u64 xget(const sq_intv *p, int i) { return i == 0 ? p->x0 : p->x1; }
DEVFN void xset(sq_intv *p, int i, u64 v) { if (i == 0) p->x0 = v; else p->x1 = v; }

DEVFN void extend(const fmi_t *f, const sq_intv *ik, sq_intv ok[4], int is_back)
{
	u64 tk[4], tl[4];
	int fw = !is_back;
	u64 xf = xget(ik, fw);
	occ4(f, xf - 1, tk);
	occ4(f, xf - 1 + ik->x2, tl);
	for (int c = 0; c < 4; ++c) {
		xset(&ok[c], fw, f->L2[c] + 1 + tk[c]);
		ok[c].x2 = tl[c] - tk[c];
	}
	u64 b = xget(ik, is_back) + ((xf <= f->primary && xf + ik->x2 - 1 >= f->primary) ? 1 : 0);
	xset(&ok[3], is_back, b);
	xset(&ok[2], is_back, xget(&ok[3], is_back) + ok[3].x2);
	xset(&ok[1], is_back, xget(&ok[2], is_back) + ok[2].x2);
	xset(&ok[0], is_back, xget(&ok[1], is_back) + ok[1].x2);
}

DEVFN void set_intv(const fmi_t *f, int c, sq_intv *ik)
{
	ik->x0 = f->L2[c] + 1;
	ik->x2 = f->L2[c + 1] - f->L2[c];
	ik->x1 = f->L2[3 - c] + 1;
	ik->qb = ik->qe = 0;
}

DEVFN void rev_range(GLOBAL sq_intv *a, int n)
{
	for (int i = 0, j = n - 1; i < j; ++i, --j) { sq_intv t = a[i]; a[i] = a[j]; a[j] = t; }
}

/* bwt_smem1: MEMs through x with interval >= min_intv into mem (n returned in *n_mem). */
DEVFN int smem1(const fmi_t *f, int len, GLOBAL const u8 *q, int x, int min_intv,
                GLOBAL sq_intv *mem, int *n_mem, GLOBAL sq_intv *prev, GLOBAL sq_intv *curr)
{
	sq_intv ik, ok[4];
	int i, ret, np, nc = 0, nm = 0;
	*n_mem = 0;
	if (q[x] > 3) return x + 1;
	if (min_intv < 1) min_intv = 1;
	set_intv(f, q[x], &ik);
	ik.qe = (u32)x + 1;
	for (i = x + 1; i < len; ++i) {
		if (q[i] > 3) { curr[nc++] = ik; break; }
		int c = 3 - q[i];
		extend(f, &ik, ok, 0);
		if (ok[c].x2 != ik.x2) {
			curr[nc++] = ik;
			if (ok[c].x2 < (u64)min_intv) break;
		}
		ik = ok[c];
		ik.qe = (u32)i + 1;
	}
	if (i == len) curr[nc++] = ik;
	rev_range(curr, nc);
	ret = (int)curr[0].qe;
	{ GLOBAL sq_intv *t = curr; curr = prev; prev = t; np = nc; }
	for (i = x - 1; i >= -1; --i) {
		int c = i < 0 ? -1 : q[i] < 4 ? q[i] : -1;
		nc = 0;
		for (int j = 0; j < np; ++j) {
			sq_intv p = prev[j];
			if (c >= 0) extend(f, &p, ok, 1);
			if (c < 0 || ok[c].x2 < (u64)min_intv) {
				if (nc == 0 && (nm == 0 || (u32)(i + 1) < mem[nm - 1].qb)) {
					p.qb = (u32)(i + 1);
					mem[nm++] = p;
				}
			} else if (nc == 0 || ok[c].x2 != curr[nc - 1].x2) {
				ok[c].qe = p.qe;
				curr[nc++] = ok[c];
			}
		}
		if (nc == 0) break;
		{ GLOBAL sq_intv *t = curr; curr = prev; prev = t; np = nc; }
	}
	rev_range(mem, nm);
	*n_mem = nm;
	return ret;
}

DEVFN int seed_strategy1(const fmi_t *f, int len, GLOBAL const u8 *q, int x, int min_len, int max_intv, sq_intv *m)
{
	sq_intv ik, ok[4];
	m->x0 = m->x1 = m->x2 = 0; m->qb = m->qe = 0;
	if (q[x] > 3) return x + 1;
	set_intv(f, q[x], &ik);
	for (int i = x + 1; i < len; ++i) {
		if (q[i] > 3) return i + 1;
		int c = 3 - q[i];
		extend(f, &ik, ok, 0);
		if (ok[c].x2 < (u64)max_intv && i - x >= min_len) {
			*m = ok[c];
			m->qb = (u32)x;
			m->qe = (u32)i + 1;
			return i + 1;
		}
		ik = ok[c];
	}
	return len;
}

DEVFN void emit(GLOBAL sq_intv *out, int cap, int *n, sq_intv p)
{
	if (*n < cap) out[*n] = p;
	++*n;
}

KERNEL void smem_batch(GLOBAL const u32 *bwt, GLOBAL const u64 *sa, u64 primary, u64 seq_len,
                       u64 L0, u64 L1, u64 L2, u64 L3, u64 L4,
                       int min_seed_len, int split_len, int split_width, int max_mem_intv,
                       int n_reads, GLOBAL const u8 *seq, GLOBAL const u32 *off, GLOBAL const u32 *moff,
                       GLOBAL sq_intv *out_all, GLOBAL int *n_out, GLOBAL sq_intv *scratch)
{
	u64 r = GID();
	if (r >= (u64)n_reads) return;
	fmi_t f;
	f.bwt = bwt; f.sa = sa; f.primary = primary; f.seq_len = seq_len;
	f.L2[0] = L0; f.L2[1] = L1; f.L2[2] = L2; f.L2[3] = L3; f.L2[4] = L4;
	f.sa_intv = 0;
	int len = (int)(off[r + 1] - off[r]);
	GLOBAL const u8 *q = seq + off[r];
	GLOBAL sq_intv *out = out_all + moff[r];
	int cap = (int)(moff[r + 1] - moff[r]);
	GLOBAL sq_intv *s0 = scratch + 3 * ((u64)off[r] + r);
	GLOBAL sq_intv *s1 = s0 + len + 1, *one = s1 + len + 1;
	int n = 0, nm, x;
	if (len <= 0) { n_out[r] = 0; return; }
	for (x = 0; x < len;) {
		if (q[x] > 3) { ++x; continue; }
		x = smem1(&f, len, q, x, 1, one, &nm, s0, s1);
		for (int i = 0; i < nm; ++i)
			if ((int)(one[i].qe - one[i].qb) >= min_seed_len) emit(out, cap, &n, one[i]);
	}
	int n1 = n < cap ? n : cap;
	for (int k = 0; k < n1; ++k) {
		sq_intv p = out[k];
		if ((int)(p.qe - p.qb) < split_len || p.x2 > (u64)split_width) continue;
		smem1(&f, len, q, (int)(p.qb + p.qe) >> 1, (int)p.x2 + 1, one, &nm, s0, s1);
		for (int i = 0; i < nm; ++i)
			if ((int)(one[i].qe - one[i].qb) >= min_seed_len) emit(out, cap, &n, one[i]);
	}
	if (max_mem_intv > 0) {
		for (x = 0; x < len;) {
			if (q[x] > 3) { ++x; continue; }
			sq_intv m;
			x = seed_strategy1(&f, len, q, x, min_seed_len, max_mem_intv, &m);
			if (m.x2 > 0) emit(out, cap, &n, m);
		}
	}
	if (n <= cap) {
		for (int i = 1; i < n; ++i) {
			sq_intv t = out[i];
			int j = i - 1;
			while (j >= 0 && (out[j].qb > t.qb || (out[j].qb == t.qb && out[j].qe > t.qe))) { out[j + 1] = out[j]; --j; }
			out[j + 1] = t;
		}
	}
	n_out[r] = n;
}

DEVFN u64 occ1(const fmi_t *f, u64 k, int c)
{
	if (k == f->seq_len) return f->L2[c + 1] - f->L2[c];
	u64 cnt[4];
	occ4_raw(f, k - (k >= f->primary ? 1 : 0), cnt);
	return cnt[c];
}

KERNEL void sa_batch(GLOBAL const u32 *bwt, GLOBAL const u64 *sa, u64 primary, u64 seq_len,
                     u64 L0, u64 L1, u64 L2, u64 L3, u64 L4, int sa_intv,
                     u64 n, GLOBAL const u64 *rows, GLOBAL u64 *out)
{
	u64 i = GID();
	if (i >= n) return;
	fmi_t f;
	f.bwt = bwt; f.sa = sa; f.primary = primary; f.seq_len = seq_len;
	f.L2[0] = L0; f.L2[1] = L1; f.L2[2] = L2; f.L2[3] = L3; f.L2[4] = L4;
	f.sa_intv = sa_intv;
	u64 k = rows[i], d = 0, mask = (u64)sa_intv - 1;
	while (k & mask) {
		++d;
		if (k == primary) k = 0;
		else {
			u64 r = k < primary ? k : k - 1;
			u32 w = bwt[(r >> 7 << 4) + 8 + ((r & 127) >> 4)];
			int c = (int)(w >> ((~r & 15) << 1) & 3);
			k = f.L2[c] + occ1(&f, k, c);
		}
	}
	out[i] = d + sa[k / (u64)sa_intv];
}
