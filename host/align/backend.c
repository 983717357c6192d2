/* seqa — seeding backends behind one small interface: reference, batched CPU (threads),
 * OpenCL (drivers/opencl/smem_ocl.c) and CUDA (build/libseqa_cuda.so, loaded with dlopen so
 * this binary runs where CUDA is absent). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "align_internal.h"
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"

void sq_aln_fmi_view(const bwt_t *bwt, sq_fmi_t *f)
{
	memset(f, 0, sizeof *f);
	f->bwt = bwt->bwt;
	f->bwt_size = bwt->bwt_size;
	f->primary = bwt->primary;
	f->seq_len = bwt->seq_len;
	for (int i = 0; i < 5; ++i) f->L2[i] = bwt->L2[i];
	f->sa = bwt->sa;
	f->n_sa = bwt->n_sa;
	f->sa_intv = bwt->sa_intv;
}

typedef enum { BE_REF, BE_CPU, BE_OCL, BE_CUDA } be_kind_t;

typedef struct {   /* the C ABI of libseqa_cuda.so (drivers/cuda/smem_cuda.cu) */
	void *dl;
	void *(*open)(const sq_fmi_t *, const sq_smem_opt_t *, char *, size_t);
	int   (*smem)(void *, const sq_smem_job_t *);
	int   (*sa)(void *, int64_t, const uint64_t *, uint64_t *);
	void  (*close)(void *);
} cuda_api_t;

struct sq_seed_backend_s {
	be_kind_t kind;
	const sq_fmi_t *f;
	sq_fmi_t fl;                /* cpu: the view plus its one-hot occurrence layout */
	uint64_t *occ64;
	uint32_t *sa_dense;
	sq_smem_opt_t o;
	int n_threads;
	char name[200];
	void *h;                    /* device handle */
	cuda_api_t cu;
};

static void *cuda_load(cuda_api_t *cu)
{
	const char *env = getenv("SEQA_CUDA_LIB");
	const char *cand[] = { env, "build/libseqa_cuda.so", "/usr/local/lib/seqa/libseqa_cuda.so", "libseqa_cuda.so" };
	for (size_t i = 0; i < sizeof cand / sizeof *cand; ++i) {
		if (!cand[i]) continue;
		cu->dl = dlopen(cand[i], RTLD_NOW | RTLD_LOCAL);
		if (cu->dl) break;
	}
	if (!cu->dl) return NULL;
	*(void **)&cu->open = dlsym(cu->dl, "sq_smem_cuda_open");
	*(void **)&cu->smem = dlsym(cu->dl, "sq_smem_cuda_smem");
	*(void **)&cu->sa = dlsym(cu->dl, "sq_smem_cuda_sa");
	*(void **)&cu->close = dlsym(cu->dl, "sq_smem_cuda_close");
	if (!cu->open || !cu->smem || !cu->sa || !cu->close) { dlclose(cu->dl); cu->dl = NULL; return NULL; }
	return cu->dl;
}

typedef struct { sq_seed_backend_t *be; uint64_t chunk; int intv; } dense_for_t;

static void dense_for(void *data, int64_t i, int tid)
{
	dense_for_t *d = data;
	(void)tid;
	sq_fmi_sa_dense_fill(&d->be->fl, d->be->sa_dense, d->intv, (uint64_t)i * d->chunk, (uint64_t)(i + 1) * d->chunk);
}

/* Suffix-array samples every 8 rows instead of bwa's 32: about 4x fewer LF steps per seed,
 * for 4 bytes per 8 rows (built once per run in ~seq_len LF steps over all threads). */
static void dense_build(sq_seed_backend_t *be)
{
	const int intv = 8;
	if (getenv("SEQA_CPU_SA_BWA") || !(be->sa_dense = sq_fmi_sa_dense_alloc(&be->fl, intv))) return;
	dense_for_t d = { be, 4096, intv };
	double t0 = sq_realtime();
	if (sq_for(be->n_threads, dense_for, &d, (int64_t)((be->fl.n_sa + d.chunk - 1) / d.chunk)) < 0) {
		free(be->sa_dense); be->sa_dense = NULL;
		return;
	}
	be->fl.sa_dense = be->sa_dense;
	be->fl.sa_dense_intv = intv;
	sq_log_debug("dense suffix-array sample (every %d rows) built in %.2f s", intv, sq_realtime() - t0);
}

static int try_open(sq_seed_backend_t *be, be_kind_t k, int quiet)
{
	be->kind = k;
	switch (k) {
	case BE_REF: snprintf(be->name, sizeof be->name, "ref"); return 0;
	case BE_CPU:
		snprintf(be->name, sizeof be->name, "cpu");
		if (sq_smem_cpu_ok() && !be->f->occ64 && !getenv("SEQA_CPU_OCC_BWA")) {
			if (!(be->occ64 = sq_fmi_occ64_build(be->f))) return SQ_ENOMEM;
			be->fl = *be->f;
			be->fl.occ64 = be->occ64;
			be->f = &be->fl;
		}
		return 0;
	case BE_OCL:
		be->h = sq_smem_ocl_open(be->f, &be->o, be->name, sizeof be->name);
		return be->h ? 0 : SQ_EDEVICE;
	case BE_CUDA:
		if (!cuda_load(&be->cu)) {
			if (!quiet) sq_log_error("CUDA backend not available (libseqa_cuda.so not found or no CUDA runtime)");
			return SQ_EUNSUPP;
		}
		be->h = be->cu.open(be->f, &be->o, be->name, sizeof be->name);
		if (!be->h) {
			if (!quiet) sq_log_error("CUDA backend: no usable CUDA device");
			dlclose(be->cu.dl); be->cu.dl = NULL;
			return SQ_EDEVICE;
		}
		return 0;
	}
	return SQ_EINVAL;
}

sq_seed_backend_t *sq_seed_backend_open(const char *name, const sq_fmi_t *f, const sq_smem_opt_t *o,
                                        int n_threads)
{
	sq_seed_backend_t *be = sq_calloc(1, sizeof *be);
	if (!be) return NULL;
	be->f = f; be->o = *o; be->n_threads = n_threads < 1 ? 1 : n_threads;
	int r;
	if (strcmp(name, "ref") == 0) r = try_open(be, BE_REF, 0);
	else if (strcmp(name, "cpu") == 0) r = try_open(be, BE_CPU, 0);
	else if (strcmp(name, "opencl") == 0) r = try_open(be, BE_OCL, 0);
	else if (strcmp(name, "cuda") == 0) r = try_open(be, BE_CUDA, 0);
	else if (strcmp(name, "auto") == 0) {
		/* a CPU OpenCL device (PoCL) is slower than the native kernel: auto takes cuda or cpu */
		r = try_open(be, BE_CUDA, 1);
		if (r != 0) r = try_open(be, BE_CPU, 0);
	} else {
		sq_log_error("unknown seeding backend '%s' (auto|cpu|opencl|cuda|ref)", name);
		r = SQ_EINVAL;
	}
	if (r != 0) { free(be); return NULL; }
	return be;
}

const char *sq_seed_backend_name(const sq_seed_backend_t *be) { return be->name; }

void sq_seed_backend_tune(sq_seed_backend_t *be, int64_t input_bytes)
{
	/* the dense sample costs ~seq_len LF steps once and saves ~12 per seed: worth it when
	 * the reads (on-disk FASTQ bytes, compressed or not) are not tiny next to the genome */
	if (be->kind == BE_CPU && be->occ64 && !be->sa_dense && input_bytes > (int64_t)(be->fl.seq_len / 2))
		dense_build(be);
}

const char *sq_seed_backend_kind(const sq_seed_backend_t *be)
{
	static const char *k[] = { "ref", "cpu", "opencl", "cuda" };
	return k[be->kind];
}

typedef struct { const sq_seed_backend_t *be; const sq_smem_job_t *job; int64_t chunk; } smem_for_t;

static void smem_for(void *data, int64_t i, int tid)
{
	smem_for_t *d = data;
	(void)tid;
	int64_t i0 = i * d->chunk, i1 = i0 + d->chunk;
	if (i1 > d->job->n_reads) i1 = d->job->n_reads;
	sq_smem_cpu_batch(d->be->f, &d->be->o, d->job, i0, i1);
}

int sq_seed_backend_smem(sq_seed_backend_t *be, const sq_smem_job_t *job)
{
	switch (be->kind) {
	case BE_REF: return sq_smem_ref_batch(be->f, &be->o, job);
	case BE_CPU: {
		smem_for_t d = { be, job, 64 };
		return sq_for(be->n_threads, smem_for, &d, (job->n_reads + d.chunk - 1) / d.chunk);
	}
	case BE_OCL: return sq_smem_ocl_smem(be->h, job);
	case BE_CUDA: return be->cu.smem(be->h, job);
	}
	return SQ_EINVAL;
}

typedef struct { const sq_fmi_t *f; const uint64_t *rows; uint64_t *out; int64_t n, chunk; } sa_for_t;

static void sa_for(void *data, int64_t i, int tid)
{
	sa_for_t *d = data;
	(void)tid;
	int64_t i0 = i * d->chunk, n = d->n - i0 < d->chunk ? d->n - i0 : d->chunk;
	sq_sa_cpu_batch(d->f, n, d->rows + i0, d->out + i0);
}

int sq_seed_backend_sa(sq_seed_backend_t *be, int64_t n, const uint64_t *rows, uint64_t *out)
{
	switch (be->kind) {
	case BE_REF: sq_sa_ref_batch(be->f, n, rows, out); return 0;
	case BE_CPU: {
		sa_for_t d = { be->f, rows, out, n, 4096 };
		return sq_for(be->n_threads, sa_for, &d, (n + d.chunk - 1) / d.chunk);
	}
	case BE_OCL: return sq_smem_ocl_sa(be->h, n, rows, out);
	case BE_CUDA: return be->cu.sa(be->h, n, rows, out);
	}
	return SQ_EINVAL;
}

void sq_seed_backend_close(sq_seed_backend_t *be)
{
	if (!be) return;
	if (be->kind == BE_OCL && be->h) sq_smem_ocl_close(be->h);
	if (be->kind == BE_CUDA && be->h) { be->cu.close(be->h); dlclose(be->cu.dl); }
	free(be->occ64);
	free(be->sa_dense);
	free(be);
}
