// seqa — CUDA seeding driver, built into build/libseqa_cuda.so and loaded by host/align/backend.c
// with dlopen (the seqa binary has no CUDA dependency).  C ABI:
//   void *sq_smem_cuda_open(const sq_fmi_t *, const sq_smem_opt_t *, char *name, size_t len)
//   int   sq_smem_cuda_smem(void *, const sq_smem_job_t *)       0 or -7 (SQ_EDEVICE)
//   int   sq_smem_cuda_sa(void *, int64_t n, const uint64_t *rows, uint64_t *out)
//   void  sq_smem_cuda_close(void *)
// The FM index is uploaded once at open; batch buffers grow and are reused.  Errors are printed
// by name with file and line and returned as SQ_EDEVICE so that seqa re-runs the batch on CPU.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <cuda_runtime.h>
#include "smem.h"

typedef unsigned long long u64;
typedef unsigned int u32;
typedef unsigned char u8;
typedef struct { u64 x0, x1, x2; u32 qb, qe; } sq_intv;

extern "C" int sq_cuda_smem_launch(const u32 *, const u64 *, const u64 idx[7], int, int, int, int, int,
                                   const u8 *, const u32 *, const u32 *, sq_intv *, int *, sq_intv *, cudaStream_t);
extern "C" int sq_cuda_sa_launch(const u32 *, const u64 *, const u64 idx[7], int, u64, const u64 *, u64 *, cudaStream_t);

#define CK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
	fprintf(stderr, "[E::cuda] %s: %s (%s) at %s:%d\n", #x, cudaGetErrorName(e_), cudaGetErrorString(e_), __FILE__, __LINE__); \
	goto fail; } } while (0)

struct dbuf { void *p; size_t n; };

static int grow(dbuf *b, size_t n)
{
	if (b->n >= n) return 0;
	if (b->p) cudaFree(b->p);
	b->p = NULL; b->n = 0;
	if (cudaMalloc(&b->p, n) != cudaSuccess) return -1;
	b->n = n;
	return 0;
}

struct cu_smem {
	int dev;
	cudaStream_t st;
	u32 *bwt; u64 *sa;
	u64 idx[7];
	int sa_intv;
	sq_smem_opt_t so;
	dbuf seq, off, moff, out, cnt, scr, rows, res;
};

extern "C" void sq_smem_cuda_close(void *h)
{
	cu_smem *d = (cu_smem *)h;
	if (!d) return;
	dbuf *b[] = { &d->seq, &d->off, &d->moff, &d->out, &d->cnt, &d->scr, &d->rows, &d->res };
	for (auto x : b) if (x->p) cudaFree(x->p);
	if (d->bwt) cudaFree(d->bwt);
	if (d->sa) cudaFree(d->sa);
	if (d->st) cudaStreamDestroy(d->st);
	free(d);
}

extern "C" void *sq_smem_cuda_open(const sq_fmi_t *f, const sq_smem_opt_t *so, char *name, size_t name_len)
{
	int n = 0;
	cudaDeviceProp prop;
	cu_smem *d = (cu_smem *)calloc(1, sizeof *d);
	if (!d) return NULL;
	if (cudaGetDeviceCount(&n) != cudaSuccess || n == 0) { free(d); return NULL; }   /* the caller reports it */
	{
		const char *e = getenv("SEQA_CUDA_DEVICE");
		d->dev = e ? atoi(e) : 0;
	}
	CK(cudaSetDevice(d->dev));
	CK(cudaGetDeviceProperties(&prop, d->dev));
	snprintf(name, name_len, "cuda:%d:%s", d->dev, prop.name);
	CK(cudaStreamCreate(&d->st));
	CK(cudaMalloc((void **)&d->bwt, (size_t)f->bwt_size * 4));
	CK(cudaMemcpy(d->bwt, f->bwt, (size_t)f->bwt_size * 4, cudaMemcpyHostToDevice));
	CK(cudaMalloc((void **)&d->sa, (size_t)f->n_sa * 8));
	CK(cudaMemcpy(d->sa, f->sa, (size_t)f->n_sa * 8, cudaMemcpyHostToDevice));
	d->idx[0] = f->primary; d->idx[1] = f->seq_len;
	for (int i = 0; i < 5; ++i) d->idx[2 + i] = f->L2[i];
	d->sa_intv = f->sa_intv;
	d->so = *so;
	return d;
fail:
	sq_smem_cuda_close(d);
	return NULL;
}

extern "C" int sq_smem_cuda_smem(void *h, const sq_smem_job_t *job)
{
	cu_smem *d = (cu_smem *)h;
	int n = job->n_reads;
	if (n == 0) return 0;
	size_t l_seq = job->off[n] + 1, n_slot = job->moff[n], n_scr = 3 * ((size_t)job->off[n] + n);
	int split_len = (int)(d->so.min_seed_len * d->so.split_factor + .499);
	if (grow(&d->seq, l_seq) || grow(&d->off, (n + 1) * 4) || grow(&d->moff, (n + 1) * 4) ||
	    grow(&d->out, n_slot * sizeof(sq_intv) + 32) || grow(&d->cnt, n * 4) || grow(&d->scr, n_scr * sizeof(sq_intv))) {
		fprintf(stderr, "[E::cuda] out of device memory for a batch of %d reads\n", n);
		return -7;
	}
	CK(cudaMemcpyAsync(d->seq.p, job->seq, l_seq - 1, cudaMemcpyHostToDevice, d->st));
	CK(cudaMemcpyAsync(d->off.p, job->off, (n + 1) * 4, cudaMemcpyHostToDevice, d->st));
	CK(cudaMemcpyAsync(d->moff.p, job->moff, (n + 1) * 4, cudaMemcpyHostToDevice, d->st));
	{
		int e = sq_cuda_smem_launch(d->bwt, d->sa, d->idx, d->so.min_seed_len, split_len, d->so.split_width,
		                            d->so.max_mem_intv, n, (const u8 *)d->seq.p, (const u32 *)d->off.p,
		                            (const u32 *)d->moff.p, (sq_intv *)d->out.p, (int *)d->cnt.p,
		                            (sq_intv *)d->scr.p, d->st);
		CK((cudaError_t)e);
	}
	CK(cudaMemcpyAsync(job->n_mem, d->cnt.p, n * 4, cudaMemcpyDeviceToHost, d->st));
	CK(cudaMemcpyAsync(job->mem, d->out.p, n_slot * sizeof(sq_intv), cudaMemcpyDeviceToHost, d->st));
	CK(cudaStreamSynchronize(d->st));
	return 0;
fail:
	return -7;
}

extern "C" int sq_smem_cuda_sa(void *h, int64_t n, const uint64_t *rows, uint64_t *out)
{
	cu_smem *d = (cu_smem *)h;
	if (n == 0) return 0;
	if (grow(&d->rows, (size_t)n * 8) || grow(&d->res, (size_t)n * 8)) {
		fprintf(stderr, "[E::cuda] out of device memory for %lld SA rows\n", (long long)n);
		return -7;
	}
	CK(cudaMemcpyAsync(d->rows.p, rows, (size_t)n * 8, cudaMemcpyHostToDevice, d->st));
	{
		int e = sq_cuda_sa_launch(d->bwt, d->sa, d->idx, d->sa_intv, (u64)n, (const u64 *)d->rows.p, (u64 *)d->res.p, d->st);
		CK((cudaError_t)e);
	}
	CK(cudaMemcpyAsync(out, d->res.p, (size_t)n * 8, cudaMemcpyDeviceToHost, d->st));
	CK(cudaStreamSynchronize(d->st));
	return 0;
fail:
	return -7;
}
