/* seqa — the OpenCL pair-HMM driver (kernels/opencl/pairhmm.cl, embedded at build time), also
 * used by the FPGA driver with a vendor binary instead of the source. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "opencl/ocl_common.h"
#include "opencl/ocl_phmm.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "cl_pairhmm.h"

#define PHMM_LOG10_F_INITIAL (120.0 * 0.30102999566398119521)   /* log10(2^120) */
#define OCL_WG 32                                                /* work-group size */
#define OCL_SCRATCH_BUDGET ((size_t)256 << 20)                   /* boundary rows per launch */

typedef struct {
	sq_ocl_t   o;
	cl_program prog;
	cl_kernel  k;
	cl_mem     err;        /* 256 floats: 10^(-q/10) */
	int        single_task; /* FPGA binaries: one work-item loops over the launch's pairs */
	int        lanes;       /* 16: CPU device, kernel phmm_forward_v16 (16 pairs per work-item) */
} ocl_phmm_t;

static void ocl_phmm_free(ocl_phmm_t *P)
{
	if (!P) return;
	if (P->err) clReleaseMemObject(P->err);
	if (P->k) clReleaseKernel(P->k);
	if (P->prog) clReleaseProgram(P->prog);
	sq_ocl_close(&P->o);
	free(P);
}

int sq_ocl_phmm_open(sq_dev_t *dev, const char *binary, const char *label)
{
	ocl_phmm_t *P = calloc(1, sizeof *P);
	cl_int err;
	int rc;
	if (!P) return SQ_ENOMEM;
	cl_device_type want = binary ? CL_DEVICE_TYPE_ACCELERATOR
	                    : dev->probing ? (CL_DEVICE_TYPE_GPU | CL_DEVICE_TYPE_ACCELERATOR) : CL_DEVICE_TYPE_ALL;
	if ((rc = sq_ocl_open(&P->o, want, dev->probing)) < 0) goto fail;
	/* denormals flushed: the float pass re-runs underflows in double anyway, and on CPU devices
	 * (PoCL) denormal arithmetic made this kernel ~10x slower */
	P->prog = binary ? sq_ocl_build_binary(&P->o, binary, NULL)
	                 : sq_ocl_build_source(&P->o, sq_cl_src_pairhmm, "-cl-std=CL1.2 -cl-denorms-are-zero", "pairhmm.cl");
	if (!P->prog) { rc = SQ_EDEVICE; goto fail; }
	P->single_task = binary != NULL;
	/* CPU devices get the float16 variant unless SEQA_OPENCL_VEC=1 asks for the scalar kernel */
	const char *vec = getenv("SEQA_OPENCL_VEC");
	P->lanes = !binary && (P->o.type & CL_DEVICE_TYPE_CPU) && !(vec && strcmp(vec, "1") == 0) ? 16 : 1;
	P->k = clCreateKernel(P->prog, P->lanes == 16 ? "phmm_forward_v16" : "phmm_forward", &err);
	if ((rc = SQ_OCL_CHECK(err, "clCreateKernel(phmm_forward)")) < 0) goto fail;
	float tab[256];
	for (int q = 0; q < 256; ++q) tab[q] = (float)pow(10.0, -0.1 * q);
	P->err = clCreateBuffer(P->o.ctx, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, sizeof tab, tab, &err);
	if ((rc = SQ_OCL_CHECK(err, "clCreateBuffer(err)")) < 0) goto fail;
	snprintf(dev->name, sizeof dev->name, "%.8s:%.60s:%.70s%s", label, P->o.platform_name, P->o.device_name,
	         P->lanes == 16 ? ":x16" : "");
	for (char *c = dev->name; *c; ++c) if (*c == ' ') *c = '_';   /* one token in bench lines */
	dev->priv = P;
	return 0;
fail:
	ocl_phmm_free(P);
	return rc < 0 ? rc : SQ_EDEVICE;
}

void sq_ocl_phmm_close(sq_dev_t *dev)
{
	ocl_phmm_free(dev->priv);
	dev->priv = NULL;
}

static cl_mem buf_in(ocl_phmm_t *P, const void *src, size_t n, cl_int *err)
{
	cl_mem m = clCreateBuffer(P->o.ctx, CL_MEM_READ_ONLY, n ? n : 4, NULL, err);
	if (*err == CL_SUCCESS && n)
		*err = clEnqueueWriteBuffer(P->o.queue, m, CL_FALSE, 0, n, src, 0, NULL, NULL);
	return m;
}

int sq_ocl_phmm_batch(sq_dev_t *dev, const sq_phmm_batch_t *b, int n_threads)
{
	(void)n_threads;   /* the device decides its own parallelism */
	ocl_phmm_t *P = dev->priv;
	int64_t n = sq_phmm_batch_n_out(b);
	int32_t *pr = NULL, *ph = NULL;
	int64_t *idx = NULL;
	float *res = NULL;
	cl_mem m[9] = { 0 }, m_pr = NULL, m_ph = NULL, m_bnd = NULL, m_res = NULL;
	cl_int err = CL_SUCCESS;
	int rc = SQ_EDEVICE;
	if (n == 0) return 0;
	int32_t nr = b->n_reads, nh = b->n_haps, hmax = 0;
	int64_t nb_r = b->read_off[nr], nb_h = b->hap_off[nh];
	for (int32_t h = 0; h < nh; ++h) if (b->hap_off[h + 1] - b->hap_off[h] > hmax) hmax = b->hap_off[h + 1] - b->hap_off[h];
	/* pairs sorted by haplotype (counting sort, stable) so a work-group shares one haplotype;
	 * with 16 lanes per work-item each haplotype's run is padded to a multiple of 16 (pr = -1) */
	int64_t *cnt64 = NULL, np = 0;
	const int U = P->lanes;
	if (!(cnt64 = calloc((size_t)nh + 1, sizeof *cnt64))) { rc = SQ_ENOMEM; sq_log_error("out of memory"); goto done; }
	for (int64_t k = 0; k < n; ++k) {
		int32_t h = b->pair_read ? b->pair_hap[k] : (int32_t)(k % nh);
		int32_t r = b->pair_read ? b->pair_read[k] : (int32_t)(k / nh);
		if (h < 0 || h >= nh || r < 0 || r >= nr) { sq_log_error("pair %lld out of range", (long long)k); rc = SQ_EINVAL; free(cnt64); goto done; }
		cnt64[h + 1]++;
	}
	for (int32_t h = 0; h < nh; ++h) cnt64[h + 1] = cnt64[h] + (cnt64[h + 1] + U - 1) / U * U;
	np = cnt64[nh];
	if (!(pr = malloc(sizeof *pr * (size_t)np)) || !(ph = malloc(sizeof *ph * (size_t)np)) ||
	    !(idx = malloc(sizeof *idx * (size_t)np)) || !(res = malloc(sizeof *res * (size_t)np))) {
		free(cnt64);
		rc = SQ_ENOMEM;
		sq_log_error("out of memory");
		goto done;
	}
	for (int32_t h = 0; h < nh; ++h)
		for (int64_t s = cnt64[h]; s < cnt64[h + 1]; ++s) idx[s] = -1, pr[s] = -1, ph[s] = h;
	for (int64_t k = 0; k < n; ++k) {
		int32_t h = b->pair_read ? b->pair_hap[k] : (int32_t)(k % nh);
		int64_t at = cnt64[h]++;
		idx[at] = k;
		pr[at] = b->pair_read ? b->pair_read[k] : (int32_t)(k / nh);
		ph[at] = h;
	}
	free(cnt64);
	n = np;   /* from here on: launch slots, padding included */
	m[0] = buf_in(P, b->read_seq, (size_t)nb_r, &err); if (SQ_OCL_CHECK(err, "upload reads") < 0) goto done;
	m[1] = buf_in(P, b->base_q, (size_t)nb_r, &err); if (SQ_OCL_CHECK(err, "upload base quals") < 0) goto done;
	m[2] = buf_in(P, b->ins_q, (size_t)nb_r, &err); if (SQ_OCL_CHECK(err, "upload ins quals") < 0) goto done;
	m[3] = buf_in(P, b->del_q, (size_t)nb_r, &err); if (SQ_OCL_CHECK(err, "upload del quals") < 0) goto done;
	m[4] = buf_in(P, b->gcp, (size_t)nb_r, &err); if (SQ_OCL_CHECK(err, "upload gcp") < 0) goto done;
	m[5] = buf_in(P, b->read_off, sizeof(int32_t) * ((size_t)nr + 1), &err); if (SQ_OCL_CHECK(err, "upload read offsets") < 0) goto done;
	m[6] = buf_in(P, b->hap_seq, (size_t)nb_h, &err); if (SQ_OCL_CHECK(err, "upload haplotypes") < 0) goto done;
	m[7] = buf_in(P, b->hap_off, sizeof(int32_t) * ((size_t)nh + 1), &err); if (SQ_OCL_CHECK(err, "upload hap offsets") < 0) goto done;
	/* launches of `chunk` pairs: boundary rows (hmax + 1) x 3 floats per pair within budget */
	size_t per = (size_t)(hmax + 1) * 3 * sizeof(float);
	size_t budget = P->o.max_alloc && P->o.max_alloc < OCL_SCRATCH_BUDGET ? P->o.max_alloc : OCL_SCRATCH_BUDGET;
	int64_t chunk = (int64_t)(budget / per) / 64 * 64;
	if (chunk < 64) chunk = 64;
	if (chunk > (n + 63) / 64 * 64) chunk = (n + 63) / 64 * 64;
	m_pr = clCreateBuffer(P->o.ctx, CL_MEM_READ_ONLY, sizeof(int32_t) * (size_t)chunk, NULL, &err);
	if (SQ_OCL_CHECK(err, "clCreateBuffer(pairs)") < 0) goto done;
	m_ph = clCreateBuffer(P->o.ctx, CL_MEM_READ_ONLY, sizeof(int32_t) * (size_t)chunk, NULL, &err);
	if (SQ_OCL_CHECK(err, "clCreateBuffer(pairs)") < 0) goto done;
	m_bnd = clCreateBuffer(P->o.ctx, CL_MEM_READ_WRITE, per * (size_t)chunk, NULL, &err);
	if (SQ_OCL_CHECK(err, "clCreateBuffer(boundary)") < 0) goto done;
	m_res = clCreateBuffer(P->o.ctx, CL_MEM_WRITE_ONLY, sizeof(float) * (size_t)chunk, NULL, &err);
	if (SQ_OCL_CHECK(err, "clCreateBuffer(results)") < 0) goto done;
	for (int64_t k0 = 0; k0 < n; k0 += chunk) {
		cl_int cn = (cl_int)(n - k0 < chunk ? n - k0 : chunk);
		size_t global = ((size_t)cn + OCL_WG - 1) / OCL_WG * OCL_WG, local = OCL_WG;
		if (P->single_task) global = local = 1;
		if (U == 16) global = (size_t)cn / 16;   /* cn is a multiple of 64 or the padded end */
		cl_int hstride = hmax + 1;
		err = clEnqueueWriteBuffer(P->o.queue, m_pr, CL_FALSE, 0, sizeof(int32_t) * (size_t)cn, pr + k0, 0, NULL, NULL);
		if (SQ_OCL_CHECK(err, "upload pair reads") < 0) goto done;
		err = clEnqueueWriteBuffer(P->o.queue, m_ph, CL_FALSE, 0, sizeof(int32_t) * (size_t)cn, ph + k0, 0, NULL, NULL);
		if (SQ_OCL_CHECK(err, "upload pair haplotypes") < 0) goto done;
		cl_uint a = 0;
		for (int i = 0; i < 8; ++i) err |= clSetKernelArg(P->k, a++, sizeof(cl_mem), &m[i]);
		err |= clSetKernelArg(P->k, a++, sizeof(cl_mem), &m_pr);
		err |= clSetKernelArg(P->k, a++, sizeof(cl_mem), &m_ph);
		err |= clSetKernelArg(P->k, a++, sizeof(cl_int), &cn);
		err |= clSetKernelArg(P->k, a++, sizeof(cl_mem), &P->err);
		err |= clSetKernelArg(P->k, a++, sizeof(cl_mem), &m_bnd);
		err |= clSetKernelArg(P->k, a++, sizeof(cl_int), &hstride);
		err |= clSetKernelArg(P->k, a++, sizeof(cl_mem), &m_res);
		if (SQ_OCL_CHECK(err, "clSetKernelArg(phmm_forward)") < 0) goto done;
		err = clEnqueueNDRangeKernel(P->o.queue, P->k, 1, NULL, &global, U == 16 ? NULL : &local, 0, NULL, NULL);
		if (SQ_OCL_CHECK(err, "clEnqueueNDRangeKernel(phmm_forward)") < 0) goto done;
		err = clEnqueueReadBuffer(P->o.queue, m_res, CL_TRUE, 0, sizeof(float) * (size_t)cn, res + k0, 0, NULL, NULL);
		if (SQ_OCL_CHECK(err, "download results") < 0) goto done;
	}
	for (int64_t s = 0; s < n; ++s) {
		int64_t k = idx[s];
		if (k < 0) continue;   /* padding slot */
		float v = res[s];
		int32_t r = pr[s], h = ph[s];
		int32_t ro = b->read_off[r], rl = b->read_off[r + 1] - ro, ho = b->hap_off[h], hl = b->hap_off[h + 1] - ho;
		if (rl <= 0 || hl <= 0 || !(v >= SQ_PHMM_MIN_ACCEPTED_FLOAT) || !isfinite(v))   /* GATK: redo in double */
			b->out[k] = sq_phmm_ref_one(b->hap_seq + ho, hl, b->read_seq + ro, rl, b->base_q + ro,
			                            b->ins_q + ro, b->del_q + ro, b->gcp + ro);
		else
			b->out[k] = log10((double)v) - PHMM_LOG10_F_INITIAL;
	}
	rc = 0;
done:
	for (int i = 0; i < 9; ++i) if (m[i]) clReleaseMemObject(m[i]);
	if (m_pr) clReleaseMemObject(m_pr);
	if (m_ph) clReleaseMemObject(m_ph);
	if (m_bnd) clReleaseMemObject(m_bnd);
	if (m_res) clReleaseMemObject(m_res);
	free(pr), free(ph), free(idx), free(res);
	return rc;
}

static int ocl_open(sq_dev_t *dev) { return sq_ocl_phmm_open(dev, NULL, "opencl"); }

const sq_driver_t sq_drv_opencl = { "opencl", SQ_DEV_OPENCL, ocl_open, sq_ocl_phmm_batch, sq_ocl_phmm_close, &sq_seed_ops_opencl };
