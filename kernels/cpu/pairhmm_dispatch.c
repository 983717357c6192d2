/* seqa — pair-HMM on the CPU: ISA dispatch (once, from CPUID), batching of pairs into W-lane
 * tasks, SoA parameter preparation, threads, FTZ/DAZ, and the double re-run of underflowing
 * pairs.  The arithmetic kernels are in pairhmm_{avx512,avx2,scalar}.c (pairhmm_kern.h).
 *
 * Numerics: float pass with GATK's float initial constant 2^120; a lane whose scaled float sum is
 * below SQ_PHMM_MIN_ACCEPTED_FLOAT (or not finite) is recomputed in double by the reference
 * (initial constant 2^1020), exactly as GATK does.  FTZ/DAZ are switched on for the float pass
 * (denormals would only slow it down: such sums are re-run in double anyway) and the caller's
 * MXCSR is restored afterwards.
 *
 * Determinism: the task list depends only on the batch (pairs sorted by haplotype, then read
 * length, then index), each lane's arithmetic is independent of the other lanes, and every
 * result is written to its own slot, so the output is bit-identical for any thread count.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define HAVE_X86 1
#endif

#include "driver.h"
#include "pairhmm.h"
#include "cpu/pairhmm_cpu.h"
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"

#define PHMM_F_INITIAL 0x1p120f          /* GATK's float initial constant */

/* ---- ISA dispatch ------------------------------------------------------------------------- */

static phmm_kern_f g_kern;
static int g_w;
static const char *g_isa;

static void pick_isa(void)
{
	const char *cap = getenv("SEQA_CPU_ISA");
	int allow512 = !cap || strcmp(cap, "avx512") == 0;
	int allow2 = allow512 || (cap && strcmp(cap, "avx2") == 0);
	g_kern = sq_phmm_kern_scalar, g_w = 1, g_isa = "scalar";
#ifdef HAVE_X86
	__builtin_cpu_init();
	if (allow512 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
		g_kern = sq_phmm_kern_avx512, g_w = 16, g_isa = "avx512";
	} else if (allow2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
		g_kern = sq_phmm_kern_avx2, g_w = 8, g_isa = "avx2";
	}
#else
	(void)allow2;
#endif
}

static void dispatch_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, pick_isa);
}

const char *sq_phmm_cpu_isa(void)
{
	dispatch_init();
	return g_isa;
}

/* ---- tables ---------------------------------------------------------------------------- */

static double g_err_d[256];      /* 10^(-q/10) */
static void tables_init_once(void)
{
	for (int q = 0; q < 256; ++q) g_err_d[q] = pow(10.0, -0.1 * q);
}
static void tables_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, tables_init_once);
}

static inline uint8_t base_code(char c)
{
	switch (c & ~0x20) {
	case 'A': return 0;
	case 'C': return 1;
	case 'G': return 2;
	case 'T': return 3;
	default: return 4;
	}
}

/* ---- tasks ----------------------------------------------------------------------------- */

typedef struct {
	const sq_phmm_batch_t *b;
	int64_t *order;        /* pair indices sorted (hap, read length desc, index) */
	int64_t *task_start;   /* n_tasks + 1: a task = up to W consecutive pairs with one hap */
	int64_t *item_start;   /* n_items + 1: a work item = consecutive tasks (one thread) */
	int64_t  n_tasks, n_items;
	int      W;
	int      max_rl, max_hl;
	struct scratch_s *scr; /* one per thread */
} job_t;

typedef struct scratch_s {
	phmm_prep_t p;
	uint8_t *hapc;
	int32_t  cached[PHMM_MAXW];   /* reads whose parameters are in p (-1: none) */
	int      cached_n;
} scratch_t;

static inline int32_t pair_read(const sq_phmm_batch_t *b, int64_t k)
{
	return b->pair_read ? b->pair_read[k] : (int32_t)(k / b->n_haps);
}
static inline int32_t pair_hap(const sq_phmm_batch_t *b, int64_t k)
{
	return b->pair_read ? b->pair_hap[k] : (int32_t)(k % b->n_haps);
}
static inline int read_len(const sq_phmm_batch_t *b, int32_t r) { return b->read_off[r + 1] - b->read_off[r]; }

static const sq_phmm_batch_t *g_sort_b;   /* qsort has no context argument; guarded below */
static pthread_mutex_t g_sort_lock = PTHREAD_MUTEX_INITIALIZER;

static int cmp_pairs(const void *pa, const void *pb)
{
	const sq_phmm_batch_t *b = g_sort_b;
	int64_t x = *(const int64_t *)pa, y = *(const int64_t *)pb;
	int32_t hx = pair_hap(b, x), hy = pair_hap(b, y);
	if (hx != hy) return hx < hy ? -1 : 1;
	int lx = read_len(b, pair_read(b, x)), ly = read_len(b, pair_read(b, y));
	if (lx != ly) return lx > ly ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Fill the SoA parameters for the reads of a task's lanes. */
static void prep_reads(const sq_phmm_batch_t *b, scratch_t *s, const int32_t *reads, int n, int W)
{
	phmm_prep_t *p = &s->p;
	int R = 0;
	for (int l = 0; l < n; ++l) if (read_len(b, reads[l]) > R) R = read_len(b, reads[l]);
	R = (R + PHMM_STRIP - 1) / PHMM_STRIP * PHMM_STRIP;
	p->R = R;
	memset(p->par, 0, sizeof(float) * (size_t)R * PHMM_NPAR * W);
	memset(p->endw, 0, sizeof(float) * (size_t)R * W);
	memset(p->strip_end, 0, (size_t)R / PHMM_STRIP);
	for (int l = 0; l < W; ++l) {
		int32_t r = reads[l < n ? l : 0];    /* padding lanes repeat lane 0 */
		int32_t o = b->read_off[r], L = read_len(b, r);
		for (int i = 0; i < L; ++i) {
			float *P = p->par + (size_t)i * PHMM_NPAR * W;
			double ei = g_err_d[b->ins_q[o + i]], ed = g_err_d[b->del_q[o + i]];
			double eg = g_err_d[b->gcp[o + i]], eb = g_err_d[b->base_q[o + i]];
			P[PP_MM * W + l] = (float)(1.0 - (ei + ed));
			P[PP_GM * W + l] = (float)(1.0 - eg);
			P[PP_MX * W + l] = (float)ei;
			P[PP_XX * W + l] = (float)eg;
			P[PP_MY * W + l] = (float)ed;
			P[PP_YY * W + l] = (float)eg;
			int rc = base_code(b->read_seq[o + i]);
			float pm = (float)(1.0 - eb), px = (float)(eb / 3.0);
			for (int c = 0; c < 5; ++c)
				P[(PP_PRIOR + c) * W + l] = (rc == c || rc == 4 || c == 4) ? pm : px;
		}
		if (l < n && L > 0) {
			p->endw[(size_t)(L - 1) * W + l] = 1.0f;
			p->strip_end[(L - 1) / PHMM_STRIP] = 1;
		}
	}
	memcpy(s->cached, reads, sizeof(int32_t) * (size_t)n);
	s->cached_n = n;
}

static void run_task(job_t *J, scratch_t *s, int64_t t)
{
	const sq_phmm_batch_t *b = J->b;
	int W = J->W;
	int64_t t0 = J->task_start[t], t1 = J->task_start[t + 1];
	int n = (int)(t1 - t0);
	int32_t reads[PHMM_MAXW];
	int64_t ks[PHMM_MAXW];
	for (int l = 0; l < n; ++l) ks[l] = J->order[t0 + l], reads[l] = pair_read(b, ks[l]);
	int32_t h = pair_hap(b, ks[0]);
	int32_t ho = b->hap_off[h], H = b->hap_off[h + 1] - ho;
	if (H <= 0 || read_len(b, reads[n - 1]) <= 0) {   /* degenerate pairs: the reference's answer */
		for (int l = 0; l < n; ++l) {
			int32_t ro = b->read_off[reads[l]];
			b->out[ks[l]] = sq_phmm_ref_one(b->hap_seq + ho, H, b->read_seq + ro, read_len(b, reads[l]),
			                                b->base_q + ro, b->ins_q + ro, b->del_q + ro, b->gcp + ro);
		}
		return;
	}
	if (s->cached_n != n || memcmp(s->cached, reads, sizeof(int32_t) * (size_t)n) != 0)
		prep_reads(b, s, reads, n, W);
	for (int j = 0; j < H; ++j) s->hapc[j] = base_code(b->hap_seq[ho + j]);
	float res[PHMM_MAXW] __attribute__((aligned(64)));
	g_kern(&s->p, s->hapc, H, PHMM_F_INITIAL, res);
	for (int l = 0; l < n; ++l) {
		float v = res[l];
		if (!(v >= SQ_PHMM_MIN_ACCEPTED_FLOAT) || !isfinite(v)) {   /* underflow: redo in double */
			int32_t ro = b->read_off[reads[l]];
			b->out[ks[l]] = sq_phmm_ref_one(b->hap_seq + ho, H, b->read_seq + ro, read_len(b, reads[l]),
			                                b->base_q + ro, b->ins_q + ro, b->del_q + ro, b->gcp + ro);
		} else {
			b->out[ks[l]] = log10((double)v) - 120.0 * 0.30102999566398119521;   /* log10(2^120) */
		}
	}
}

static void run_item(void *data, int64_t i, int tid)
{
	job_t *J = data;
	scratch_t *s = &J->scr[tid];
#ifdef HAVE_X86
	unsigned csr = _mm_getcsr();
	_mm_setcsr(csr | 0x8040);                 /* FTZ | DAZ for the float pass */
#endif
	for (int64_t t = J->item_start[i]; t < J->item_start[i + 1]; ++t) run_task(J, s, t);
#ifdef HAVE_X86
	_mm_setcsr(csr);
#endif
}

static void *aligned_calloc(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 64, n ? n : 64) != 0) return NULL;
	memset(p, 0, n ? n : 64);
	return p;
}

int sq_phmm_cpu_batch(const sq_phmm_batch_t *b, int n_threads)
{
	dispatch_init();
	tables_init();
	if (!b || !b->out || b->n_reads < 0 || b->n_haps < 0) { sq_log_error("malformed batch"); return SQ_EINVAL; }
	int64_t n = sq_phmm_batch_n_out(b);
	if (n == 0) return 0;
	if (n_threads < 1) n_threads = 1;
	job_t J = { .b = b, .W = g_w };
	int rc = SQ_ENOMEM;
	for (int32_t r = 0; r < b->n_reads; ++r) if (read_len(b, r) > J.max_rl) J.max_rl = read_len(b, r);
	for (int32_t h = 0; h < b->n_haps; ++h)
		if (b->hap_off[h + 1] - b->hap_off[h] > J.max_hl) J.max_hl = b->hap_off[h + 1] - b->hap_off[h];
	if (!(J.order = malloc(sizeof(int64_t) * (size_t)n))) goto fail;
	for (int64_t k = 0; k < n; ++k) {
		if (b->pair_read && (b->pair_read[k] < 0 || b->pair_read[k] >= b->n_reads ||
		                     b->pair_hap[k] < 0 || b->pair_hap[k] >= b->n_haps)) {
			sq_log_error("pair %lld: read/haplotype index out of range", (long long)k);
			rc = SQ_EINVAL;
			goto fail;
		}
		J.order[k] = k;
	}
	if (b->pair_read) {
		pthread_mutex_lock(&g_sort_lock);
		g_sort_b = b;
		qsort(J.order, (size_t)n, sizeof(int64_t), cmp_pairs);
		pthread_mutex_unlock(&g_sort_lock);
	} else {
		/* full matrix: read chunks of W (reads sorted by length, descending) x every haplotype,
		 * chunk-major, so one work item reuses its reads' parameters for all haplotypes */
		int64_t *ro = malloc(sizeof(int64_t) * (size_t)(b->n_reads ? b->n_reads : 1));
		if (!ro) goto fail;
		for (int32_t r = 0; r < b->n_reads; ++r) ro[r] = r;
		sq_phmm_batch_t tmp = *b;   /* sort reads by length via the pair comparator, 1 hap */
		tmp.n_haps = 1;
		pthread_mutex_lock(&g_sort_lock);
		g_sort_b = &tmp;
		qsort(ro, (size_t)b->n_reads, sizeof(int64_t), cmp_pairs);
		pthread_mutex_unlock(&g_sort_lock);
		int64_t k = 0;
		for (int64_t c = 0; c < b->n_reads; c += J.W)
			for (int32_t h = 0; h < b->n_haps; ++h)
				for (int64_t r = c; r < c + J.W && r < b->n_reads; ++r) J.order[k++] = ro[r] * b->n_haps + h;
		free(ro);
	}
	/* tasks: runs of up to W pairs with one haplotype (and, in full-matrix mode, one read chunk) */
	if (!(J.task_start = malloc(sizeof(int64_t) * (size_t)(n + 1)))) goto fail;
	if (!(J.item_start = malloc(sizeof(int64_t) * (size_t)(n + 1)))) goto fail;
	J.n_tasks = 0;
	for (int64_t k = 0; k < n;) {
		int32_t h = pair_hap(b, J.order[k]);
		int64_t e = k + 1;
		while (e < n && e - k < J.W && pair_hap(b, J.order[e]) == h) ++e;
		J.task_start[J.n_tasks++] = k;
		k = e;
	}
	J.task_start[J.n_tasks] = n;
	{   /* items: full matrix = one read chunk across all haplotypes; pairs = one task */
		int64_t per = b->pair_read ? 1 : (b->n_haps > 0 ? b->n_haps : 1);
		J.n_items = 0;
		for (int64_t t = 0; t < J.n_tasks; t += per) J.item_start[J.n_items++] = t;
		J.item_start[J.n_items] = J.n_tasks;
	}
	if (!(J.scr = calloc((size_t)n_threads, sizeof *J.scr))) goto fail;
	{
		int R = (J.max_rl + PHMM_STRIP - 1) / PHMM_STRIP * PHMM_STRIP + PHMM_STRIP;
		for (int t = 0; t < n_threads; ++t) {
			scratch_t *s = &J.scr[t];
			s->p.W = J.W;
			s->p.par = aligned_calloc(sizeof(float) * (size_t)R * PHMM_NPAR * J.W);
			s->p.endw = aligned_calloc(sizeof(float) * (size_t)R * J.W);
			s->p.strip_end = calloc((size_t)R / PHMM_STRIP + 1, 1);
			s->p.bnd = aligned_calloc(sizeof(float) * (size_t)(J.max_hl + 1) * 3 * J.W);
			s->hapc = malloc((size_t)J.max_hl + 1);
			s->cached_n = -1;
			if (!s->p.par || !s->p.endw || !s->p.strip_end || !s->p.bnd || !s->hapc) goto fail;
		}
	}
	rc = sq_for(n_threads, run_item, &J, J.n_items);
fail:
	if (rc == SQ_ENOMEM) sq_log_error("out of memory for a pair-HMM batch of %lld pairs", (long long)n);
	if (J.scr)
		for (int t = 0; t < n_threads; ++t) {
			scratch_t *s = &J.scr[t];
			free(s->p.par), free(s->p.endw), free(s->p.strip_end), free(s->p.bnd), free(s->hapc);
		}
	free(J.scr), free(J.order), free(J.task_start), free(J.item_start);
	return rc;
}
