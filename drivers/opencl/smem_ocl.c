/* seqa — OpenCL seeding driver: kernels/opencl/smem.cl (embedded at build time) on any OpenCL
 * 1.2 device (PoCL's CPU device in tests).  The FM index (occurrence/BWT array and sampled
 * suffix array) is uploaded once at open; each call uploads reads and offsets, runs one
 * work-item per read (or per row), and reads the slots back.  Device errors are reported by
 * name (ocl_common) and returned as SQ_EDEVICE, so the caller can re-run the batch on the CPU.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ocl_common.h"
#include "cl_smem.h"
#include "driver.h"
#include "seqa/log.h"
#include "seqa/util.h"

typedef struct {
	sq_ocl_t o;
	cl_program prog;
	cl_kernel k_smem, k_sa;
	cl_mem bwt, sa;
	sq_fmi_t f;
	sq_smem_opt_t so;
} ocl_smem_t;

static void ocl_seed_close(void *h)
{
	ocl_smem_t *d = h;
	if (!d) return;
	if (d->bwt) clReleaseMemObject(d->bwt);
	if (d->sa) clReleaseMemObject(d->sa);
	if (d->k_smem) clReleaseKernel(d->k_smem);
	if (d->k_sa) clReleaseKernel(d->k_sa);
	if (d->prog) clReleaseProgram(d->prog);
	sq_ocl_close(&d->o);
	free(d);
}

static void *ocl_seed_open(const sq_fmi_t *f, const sq_smem_opt_t *so, int n_threads, int quiet,
                           char *name, size_t name_len)
{
	ocl_smem_t *d = sq_calloc(1, sizeof *d);
	cl_int e;
	if (!d) return NULL;
	d->f = *f; d->so = *so;
	(void)n_threads;
	if (sq_ocl_open(&d->o, CL_DEVICE_TYPE_ALL, quiet) < 0) { free(d); return NULL; }
	snprintf(name, name_len, "opencl:%s:%s", d->o.platform_name, d->o.device_name);
	if (!(d->prog = sq_ocl_build_source(&d->o, sq_cl_src_smem, NULL, "smem.cl"))) goto fail;
	d->k_smem = clCreateKernel(d->prog, "smem_batch", &e);
	if (SQ_OCL_CHECK(e, "clCreateKernel(smem_batch)") < 0) goto fail;
	d->k_sa = clCreateKernel(d->prog, "sa_batch", &e);
	if (SQ_OCL_CHECK(e, "clCreateKernel(sa_batch)") < 0) goto fail;
	d->bwt = clCreateBuffer(d->o.ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, (size_t)f->bwt_size * 4, (void *)f->bwt, &e);
	if (SQ_OCL_CHECK(e, "upload of the BWT") < 0) goto fail;
	d->sa = clCreateBuffer(d->o.ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, (size_t)f->n_sa * 8, (void *)f->sa, &e);
	if (SQ_OCL_CHECK(e, "upload of the suffix array") < 0) goto fail;
	return d;
fail:
	ocl_seed_close(d);
	return NULL;
}

static int set_index_args(ocl_smem_t *d, cl_kernel k)
{
	cl_int e = 0;
	cl_ulong v[7] = { d->f.primary, d->f.seq_len, d->f.L2[0], d->f.L2[1], d->f.L2[2], d->f.L2[3], d->f.L2[4] };
	e |= clSetKernelArg(k, 0, sizeof(cl_mem), &d->bwt);
	e |= clSetKernelArg(k, 1, sizeof(cl_mem), &d->sa);
	for (int i = 0; i < 7; ++i) e |= clSetKernelArg(k, (cl_uint)(2 + i), sizeof(cl_ulong), &v[i]);
	return SQ_OCL_CHECK(e, "clSetKernelArg(index)");
}

static int ocl_seed_smem(void *h, const sq_smem_job_t *job)
{
	ocl_smem_t *d = h;
	cl_int e = 0;
	int r = SQ_EDEVICE, n = job->n_reads;
	cl_mem b_seq = 0, b_off = 0, b_moff = 0, b_out = 0, b_n = 0, b_scr = 0;
	if (n == 0) return 0;
	size_t l_seq = job->off[n] ? job->off[n] : 1;
	size_t n_scr = 3 * ((size_t)job->off[n] + (size_t)n);
	b_seq = clCreateBuffer(d->o.ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, l_seq, (void *)job->seq, &e);
	if (SQ_OCL_CHECK(e, "reads buffer") < 0) goto done;
	b_off = clCreateBuffer(d->o.ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, (size_t)(n + 1) * 4, (void *)job->off, &e);
	if (SQ_OCL_CHECK(e, "offsets buffer") < 0) goto done;
	b_moff = clCreateBuffer(d->o.ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, (size_t)(n + 1) * 4, (void *)job->moff, &e);
	if (SQ_OCL_CHECK(e, "slot offsets buffer") < 0) goto done;
	b_out = clCreateBuffer(d->o.ctx, CL_MEM_WRITE_ONLY, (size_t)job->moff[n] * sizeof(sq_smem_t) + 32, NULL, &e);
	if (SQ_OCL_CHECK(e, "SMEM buffer") < 0) goto done;
	b_n = clCreateBuffer(d->o.ctx, CL_MEM_WRITE_ONLY, (size_t)n * 4, NULL, &e);
	if (SQ_OCL_CHECK(e, "count buffer") < 0) goto done;
	b_scr = clCreateBuffer(d->o.ctx, CL_MEM_READ_WRITE, n_scr * sizeof(sq_smem_t), NULL, &e);
	if (SQ_OCL_CHECK(e, "scratch buffer") < 0) goto done;
	if (set_index_args(d, d->k_smem) < 0) goto done;
	cl_int split_len = (cl_int)(d->so.min_seed_len * d->so.split_factor + .499);
	cl_int a[5] = { d->so.min_seed_len, split_len, d->so.split_width, d->so.max_mem_intv, n };
	for (int i = 0; i < 5; ++i) e |= clSetKernelArg(d->k_smem, (cl_uint)(9 + i), sizeof(cl_int), &a[i]);
	e |= clSetKernelArg(d->k_smem, 14, sizeof(cl_mem), &b_seq);
	e |= clSetKernelArg(d->k_smem, 15, sizeof(cl_mem), &b_off);
	e |= clSetKernelArg(d->k_smem, 16, sizeof(cl_mem), &b_moff);
	e |= clSetKernelArg(d->k_smem, 17, sizeof(cl_mem), &b_out);
	e |= clSetKernelArg(d->k_smem, 18, sizeof(cl_mem), &b_n);
	e |= clSetKernelArg(d->k_smem, 19, sizeof(cl_mem), &b_scr);
	if (SQ_OCL_CHECK(e, "clSetKernelArg(smem_batch)") < 0) goto done;
	size_t wg = 64, gl = ((size_t)n + wg - 1) / wg * wg;
	if (wg > d->o.max_wg) wg = d->o.max_wg, gl = ((size_t)n + wg - 1) / wg * wg;
	e = clEnqueueNDRangeKernel(d->o.queue, d->k_smem, 1, NULL, &gl, &wg, 0, NULL, NULL);
	if (SQ_OCL_CHECK(e, "smem_batch launch") < 0) goto done;
	e = clEnqueueReadBuffer(d->o.queue, b_n, CL_TRUE, 0, (size_t)n * 4, job->n_mem, 0, NULL, NULL);
	if (SQ_OCL_CHECK(e, "read of SMEM counts") < 0) goto done;
	e = clEnqueueReadBuffer(d->o.queue, b_out, CL_TRUE, 0, (size_t)job->moff[n] * sizeof(sq_smem_t), job->mem, 0, NULL, NULL);
	if (SQ_OCL_CHECK(e, "read of SMEMs") < 0) goto done;
	r = 0;
done:
	if (b_seq) clReleaseMemObject(b_seq);
	if (b_off) clReleaseMemObject(b_off);
	if (b_moff) clReleaseMemObject(b_moff);
	if (b_out) clReleaseMemObject(b_out);
	if (b_n) clReleaseMemObject(b_n);
	if (b_scr) clReleaseMemObject(b_scr);
	return r;
}

static int ocl_seed_sa(void *h, int64_t n, const uint64_t *rows, uint64_t *out)
{
	ocl_smem_t *d = h;
	cl_int e = 0;
	int r = SQ_EDEVICE;
	cl_mem b_rows = 0, b_out = 0;
	if (n == 0) return 0;
	b_rows = clCreateBuffer(d->o.ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, (size_t)n * 8, (void *)rows, &e);
	if (SQ_OCL_CHECK(e, "rows buffer") < 0) goto done;
	b_out = clCreateBuffer(d->o.ctx, CL_MEM_WRITE_ONLY, (size_t)n * 8, NULL, &e);
	if (SQ_OCL_CHECK(e, "SA buffer") < 0) goto done;
	if (set_index_args(d, d->k_sa) < 0) goto done;
	cl_int si = d->f.sa_intv;
	cl_ulong nn = (cl_ulong)n;
	e |= clSetKernelArg(d->k_sa, 9, sizeof(cl_int), &si);
	e |= clSetKernelArg(d->k_sa, 10, sizeof(cl_ulong), &nn);
	e |= clSetKernelArg(d->k_sa, 11, sizeof(cl_mem), &b_rows);
	e |= clSetKernelArg(d->k_sa, 12, sizeof(cl_mem), &b_out);
	if (SQ_OCL_CHECK(e, "clSetKernelArg(sa_batch)") < 0) goto done;
	size_t wg = 64 > d->o.max_wg ? d->o.max_wg : 64, gl = ((size_t)n + wg - 1) / wg * wg;
	e = clEnqueueNDRangeKernel(d->o.queue, d->k_sa, 1, NULL, &gl, &wg, 0, NULL, NULL);
	if (SQ_OCL_CHECK(e, "sa_batch launch") < 0) goto done;
	e = clEnqueueReadBuffer(d->o.queue, b_out, CL_TRUE, 0, (size_t)n * 8, out, 0, NULL, NULL);
	if (SQ_OCL_CHECK(e, "read of SA values") < 0) goto done;
	r = 0;
done:
	if (b_rows) clReleaseMemObject(b_rows);
	if (b_out) clReleaseMemObject(b_out);
	return r;
}

const sq_seed_ops_t sq_seed_ops_opencl = { ocl_seed_open, ocl_seed_smem, ocl_seed_sa, NULL, ocl_seed_close };
