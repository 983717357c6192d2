/* seqa — CUDA runtime side of the CUDA driver, built into build/libseqa_cuda.so and loaded by
 * drivers/cuda/cuda_driver.c with dlopen (host C never includes CUDA headers).  The C ABI
 * below is the whole interface (drivers/cuda/cuda_abi.h).  Errors are printed by name with
 * file:line on stderr (this library cannot reach seqa's logger) and returned as -7
 * (SQ_EDEVICE); the host driver then re-runs the batch on the CPU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

#include <cuda_runtime.h>

extern "C" {
#include "pairhmm.h"
#include "cuda/cuda_abi.h"
}
#include "../../kernels/cuda/pairhmm.cuh"

#define CK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
	fprintf(stderr, "[E::cuda] %s failed: %s (%d: %s) at %s:%d\n", #call, cudaGetErrorName(e_), (int)e_, \
	        cudaGetErrorString(e_), __FILE__, __LINE__); rc = -7; goto done; } } while (0)

static cudaStream_t g_stream;
static float  *g_err_f;
static double *g_err_d;

/* Device buffers kept between batches and grown on demand: cudaMalloc/cudaFree per batch would
 * cost about as much as the kernel on a region-sized batch. */
enum { B_RS, B_BQ, B_IQ, B_DQ, B_GQ, B_RO, B_HS, B_HO, B_PR, B_PH, B_F, B_D, B_N };
static void  *g_buf[B_N];
static size_t g_cap[B_N];

static cudaError_t ensure(int i, size_t n)
{
	if (n <= g_cap[i]) return cudaSuccess;
	size_t c = g_cap[i] ? g_cap[i] : 4096;
	while (c < n) c *= 2;
	if (g_buf[i]) cudaFree(g_buf[i]);
	g_buf[i] = NULL, g_cap[i] = 0;
	cudaError_t e = cudaMalloc(&g_buf[i], c);
	if (e == cudaSuccess) g_cap[i] = c;
	return e;
}

/* Copy n bytes of h into buffer i (grown as needed); *d receives its device address. */
template <typename P> static cudaError_t up(int i, P **d, const void *h, size_t n)
{
	cudaError_t e = ensure(i, n ? n : 4);
	if (e != cudaSuccess) return e;
	*d = (P *)g_buf[i];
	return n ? cudaMemcpyAsync(g_buf[i], h, n, cudaMemcpyHostToDevice, g_stream) : cudaSuccess;
}

extern "C" int sq_cuda_abi_version(void) { return SQ_CUDA_ABI_VERSION; }

extern "C" int sq_cuda_phmm_open(char *name, int cap)
{
	int n = 0, rc = 0;
	cudaDeviceProp prop;
	float tf[256];
	double td[256];
	cudaError_t e = cudaGetDeviceCount(&n);
	if (e != cudaSuccess || n == 0) {
		snprintf(name, (size_t)cap, "no CUDA device (%s)", e != cudaSuccess ? cudaGetErrorName(e) : "0 devices");
		return -8;   /* SQ_EUNSUPP */
	}
	CK(cudaSetDevice(0));
	CK(cudaGetDeviceProperties(&prop, 0));
	snprintf(name, (size_t)cap, "cuda:0:%s:sm_%d%d", prop.name, prop.major, prop.minor);
	CK(cudaStreamCreate(&g_stream));
	for (int q = 0; q < 256; ++q) td[q] = pow(10.0, -0.1 * q), tf[q] = (float)td[q];
	CK(cudaMalloc(&g_err_f, sizeof tf));
	CK(cudaMalloc(&g_err_d, sizeof td));
	CK(cudaMemcpy(g_err_f, tf, sizeof tf, cudaMemcpyHostToDevice));
	CK(cudaMemcpy(g_err_d, td, sizeof td, cudaMemcpyHostToDevice));
done:
	return rc;
}

extern "C" void sq_cuda_phmm_close(void)
{
	if (g_err_f) cudaFree(g_err_f);
	if (g_err_d) cudaFree(g_err_d);
	if (g_stream) cudaStreamDestroy(g_stream);
	for (int i = 0; i < B_N; ++i) {
		if (g_buf[i]) cudaFree(g_buf[i]);
		g_buf[i] = NULL, g_cap[i] = 0;
	}
	g_err_f = NULL, g_err_d = NULL, g_stream = NULL;
}

extern "C" int sq_cuda_phmm_batch(const sq_phmm_batch_t *b, uint8_t *done_mask)
{
	int rc = 0;
	int64_t n = sq_phmm_batch_n_out(b);
	int32_t nr = b->n_reads, nh = b->n_haps;
	size_t nb_r = (size_t)b->read_off[nr], nb_h = (size_t)b->hap_off[nh];
	char *d_rs = NULL, *d_hs = NULL;
	uint8_t *d_bq = NULL, *d_iq = NULL, *d_dq = NULL, *d_gq = NULL;
	int32_t *d_ro = NULL, *d_ho = NULL, *d_pr = NULL, *d_ph = NULL;
	float *d_f = NULL;
	double *d_d = NULL;
	/* pairs grouped by rows class, then haplotype (stable) */
	const int n_cls = 17;
	std::vector<int64_t> cls_start(n_cls + 1, 0);
	std::vector<int32_t> pr, ph;
	std::vector<int64_t> kidx;
	std::vector<float> res;
	std::vector<int> cls_of;
	std::vector<int64_t> redo;
	if (n == 0) return 0;
	cls_of.resize((size_t)n);
	for (int64_t k = 0; k < n; ++k) {
		int32_t r = b->pair_read ? b->pair_read[k] : (int32_t)(k / nh);
		int32_t h = b->pair_read ? b->pair_hap[k] : (int32_t)(k % nh);
		int rl = b->read_off[r + 1] - b->read_off[r], hl = b->hap_off[h + 1] - b->hap_off[h];
		int c = (rl > 0 && hl > 0) ? sq_cuda_phmm_rows_class(rl) : -1;
		cls_of[(size_t)k] = c;
		done_mask[k] = 0;
		if (c > 0) cls_start[(size_t)c + 1]++;
	}
	for (int c = 0; c < n_cls; ++c) cls_start[(size_t)c + 1] += cls_start[(size_t)c];
	int64_t n_sel = cls_start[n_cls];
	if (n_sel == 0) return 0;
	pr.resize((size_t)n_sel), ph.resize((size_t)n_sel), kidx.resize((size_t)n_sel), res.resize((size_t)n_sel);
	{
		std::vector<int64_t> at(cls_start.begin(), cls_start.end() - 1);
		for (int64_t k = 0; k < n; ++k) {
			int c = cls_of[(size_t)k];
			if (c <= 0) continue;
			int64_t s = at[(size_t)c]++;
			kidx[(size_t)s] = k;
			pr[(size_t)s] = b->pair_read ? b->pair_read[k] : (int32_t)(k / nh);
			ph[(size_t)s] = b->pair_read ? b->pair_hap[k] : (int32_t)(k % nh);
		}
	}
	CK(up(B_RS, &d_rs, b->read_seq, nb_r));
	CK(up(B_BQ, &d_bq, b->base_q, nb_r));
	CK(up(B_IQ, &d_iq, b->ins_q, nb_r));
	CK(up(B_DQ, &d_dq, b->del_q, nb_r));
	CK(up(B_GQ, &d_gq, b->gcp, nb_r));
	CK(up(B_RO, &d_ro, b->read_off, sizeof(int32_t) * ((size_t)nr + 1)));
	CK(up(B_HS, &d_hs, b->hap_seq, nb_h));
	CK(up(B_HO, &d_ho, b->hap_off, sizeof(int32_t) * ((size_t)nh + 1)));
	CK(up(B_PR, &d_pr, pr.data(), sizeof(int32_t) * (size_t)n_sel));
	CK(up(B_PH, &d_ph, ph.data(), sizeof(int32_t) * (size_t)n_sel));
	CK(ensure(B_F, sizeof(float) * (size_t)n_sel));
	d_f = (float *)g_buf[B_F];
	for (int c = 1; c < n_cls; ++c) {
		int64_t s0 = cls_start[(size_t)c], s1 = cls_start[(size_t)c + 1];
		for (int64_t s = s0; s < s1; s += (1 << 30)) {
			sq_cuda_phmm_args_t a = { d_rs, d_bq, d_iq, d_dq, d_gq, d_ro, d_hs, d_ho, d_pr + s, d_ph + s,
			                          (int32_t)(s1 - s < (1 << 30) ? s1 - s : (1 << 30)), g_err_f, g_err_d };
			CK(sq_cuda_phmm_launch_f(&a, c, d_f + s, g_stream));
		}
	}
	CK(cudaMemcpyAsync(res.data(), d_f, sizeof(float) * (size_t)n_sel, cudaMemcpyDeviceToHost, g_stream));
	CK(cudaStreamSynchronize(g_stream));
	for (int64_t s = 0; s < n_sel; ++s) {
		float v = res[(size_t)s];
		int64_t k = kidx[(size_t)s];
		if (!(v >= SQ_PHMM_MIN_ACCEPTED_FLOAT) || !isfinite(v)) { redo.push_back(s); continue; }
		b->out[k] = log10((double)v) - 120.0 * 0.30102999566398119521;
		done_mask[k] = 1;
	}
	if (!redo.empty()) {   /* GATK's rule: float underflow -> double, on the device */
		std::vector<int32_t> rpr, rph;
		std::vector<int64_t> rk;
		std::vector<double> rd;
		std::vector<int64_t> rstart(n_cls + 1, 0);
		for (int c = 1; c < n_cls; ++c) {
			rstart[(size_t)c] = (int64_t)rpr.size();
			for (int64_t s : redo)
				if (s >= cls_start[(size_t)c] && s < cls_start[(size_t)c + 1])
					rpr.push_back(pr[(size_t)s]), rph.push_back(ph[(size_t)s]), rk.push_back(kidx[(size_t)s]);
		}
		rstart[n_cls] = (int64_t)rpr.size();
		rd.resize(rpr.size());
		CK(cudaMemcpyAsync(d_pr, rpr.data(), sizeof(int32_t) * rpr.size(), cudaMemcpyHostToDevice, g_stream));
		CK(cudaMemcpyAsync(d_ph, rph.data(), sizeof(int32_t) * rph.size(), cudaMemcpyHostToDevice, g_stream));
		CK(ensure(B_D, sizeof(double) * rpr.size()));
		d_d = (double *)g_buf[B_D];
		for (int c = 1; c < n_cls; ++c) {
			int64_t s0 = rstart[(size_t)c], s1 = c + 1 < n_cls ? rstart[(size_t)c + 1] : rstart[n_cls];
			if (s1 <= s0) continue;
			sq_cuda_phmm_args_t a = { d_rs, d_bq, d_iq, d_dq, d_gq, d_ro, d_hs, d_ho, d_pr + s0, d_ph + s0,
			                          (int32_t)(s1 - s0), g_err_f, g_err_d };
			CK(sq_cuda_phmm_launch_d(&a, c, d_d + s0, g_stream));
		}
		CK(cudaMemcpyAsync(rd.data(), d_d, sizeof(double) * rd.size(), cudaMemcpyDeviceToHost, g_stream));
		CK(cudaStreamSynchronize(g_stream));
		for (size_t i = 0; i < rk.size(); ++i) b->out[rk[i]] = rd[i], done_mask[rk[i]] = 1;
	}
done:
	(void)d_d;
	return rc;
}
