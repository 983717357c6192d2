/* seqa — pair-HMM forward algorithm on NVIDIA GPUs (GATK semantics, see kernels/ref/pairhmm.c).
 *
 * Warp-cooperative anti-diagonal wavefront: one warp per (read, haplotype) pair.  Lane t owns
 * ROWS consecutive read rows [t*ROWS, t*ROWS + ROWS) and holds their M, X, Y states and
 * transition parameters in registers.  At step s lane t computes column j = s - t + 1 of its
 * rows; the row above its strip (column j) is the bottom row lane t-1 computed at step s-1,
 * passed with one __shfl_up_sync per state, and the diagonal (column j-1) is what arrived one
 * step earlier.  So all DP state stays on chip (registers and shuffles; no shared or global
 * memory traffic in the inner loop), H + 31 steps per pair.  Many pairs per launch (4 warps per
 * block, thousands of blocks).  Float with GATK's initial constant 2^120; pairs whose float sum
 * underflows (< 1e-28) are re-run by the double instantiation (2^1020) on the device.
 */
#include "pairhmm.cuh"

template <typename T> struct phmm_consts;
template <> struct phmm_consts<float> {
	__device__ static float initial() { return 0x1p120f; }
};
template <> struct phmm_consts<double> {
	__device__ static double initial() { return 0x1p1020; }
};

__device__ __forceinline__ int phmm_code(char c)
{
	c &= 0xDF;
	return c == 'A' ? 0 : c == 'C' ? 1 : c == 'G' ? 2 : c == 'T' ? 3 : 4;
}

template <typename T, int ROWS>
__global__ void __launch_bounds__(32 * SQ_CUDA_PHMM_WARPS)
phmm_warp_kernel(sq_cuda_phmm_args_t a, T *out_sum, double *out_log10)
{
	const int lane = threadIdx.x & 31;
	const int k = blockIdx.x * SQ_CUDA_PHMM_WARPS + (threadIdx.x >> 5);
	if (k >= a.n) return;                     /* whole warp exits together */
	const int r = a.pair_read[k], h = a.pair_hap[k];
	const int ro = a.read_off[r], R = a.read_off[r + 1] - ro;
	const int ho = a.hap_off[h], H = a.hap_off[h + 1] - ho;

	T mm[ROWS], gm[ROWS], mx[ROWS], xx[ROWS], my[ROWS], yy[ROWS], pm[ROWS], px[ROWS];
	int rc[ROWS];
	T M[ROWS], X[ROWS], Y[ROWS];
#pragma unroll
	for (int q = 0; q < ROWS; ++q) {
		int i = lane * ROWS + q;
		M[q] = X[q] = Y[q] = T(0);
		if (i < R) {
			T ei, ed, eg, eb;
			if (sizeof(T) == sizeof(float)) {
				ei = (T)a.err_f[a.ins_q[ro + i]], ed = (T)a.err_f[a.del_q[ro + i]];
				eg = (T)a.err_f[a.gcp[ro + i]], eb = (T)a.err_f[a.base_q[ro + i]];
			} else {
				ei = (T)a.err_d[a.ins_q[ro + i]], ed = (T)a.err_d[a.del_q[ro + i]];
				eg = (T)a.err_d[a.gcp[ro + i]], eb = (T)a.err_d[a.base_q[ro + i]];
			}
			mm[q] = T(1) - (ei + ed), gm[q] = T(1) - eg;
			mx[q] = ei, xx[q] = eg, my[q] = ed, yy[q] = eg;
			pm[q] = T(1) - eb, px[q] = eb / T(3);
			rc[q] = phmm_code(a.read_seq[ro + i]);
		} else {                               /* padding rows: all zero, never summed */
			mm[q] = gm[q] = mx[q] = xx[q] = my[q] = yy[q] = pm[q] = px[q] = T(0);
			rc[q] = 4;
		}
	}
	const T init = phmm_consts<T>::initial() / (T)H;
	const int end_lane = (R - 1) / ROWS, end_row = (R - 1) % ROWS;
	/* row above lane 0 is row 0: M = X = 0, Y = init / H at every column (column 0 included) */
	T dM = 0, dX = 0, dY = lane == 0 ? init : T(0);   /* diagonal: row above, column j - 1 */
	T bM = 0, bX = 0, bY = 0;                           /* my bottom row, last computed column */
	T acc = 0;
	const unsigned full = 0xffffffffu;
	for (int s = 0; s < H + 31; ++s) {
		const int j = s - lane + 1;                     /* my column this step (1-based) */
		T uM = __shfl_up_sync(full, bM, 1), uX = __shfl_up_sync(full, bX, 1), uY = __shfl_up_sync(full, bY, 1);
		if (lane == 0) uM = 0, uX = 0, uY = init;
		if (j >= 1 && j <= H) {
			const int hc = phmm_code(a.hap_seq[ho + j - 1]);
			T pdM = dM, pdX = dX, pdY = dY;             /* diagonal for row q */
			T puM = uM, puX = uX;                       /* above for row q (this column) */
#pragma unroll
			for (int q = 0; q < ROWS; ++q) {
				T prior = (rc[q] == hc || rc[q] == 4 || hc == 4) ? pm[q] : px[q];
				T nM = prior * (pdM * mm[q] + (pdX + pdY) * gm[q]);
				T nX = puM * mx[q] + puX * xx[q];
				T nY = M[q] * my[q] + Y[q] * yy[q];
				pdM = M[q], pdX = X[q], pdY = Y[q];
				M[q] = nM, X[q] = nX, Y[q] = nY;
				puM = nM, puX = nX;
				if (q == end_row && lane == end_lane) acc += nM + nX;
			}
			bM = M[ROWS - 1], bX = X[ROWS - 1], bY = Y[ROWS - 1];
			dM = uM, dX = uX, dY = uY;
		}
	}
	if (lane == end_lane) {
		if (out_sum) out_sum[k] = acc;
		if (out_log10) out_log10[k] = log10((double)acc) - log10((double)phmm_consts<T>::initial());
	}
}

static const int k_rows[] = { 1, 2, 3, 4, 5, 6, 8, 10, 12, 16 };

int sq_cuda_phmm_rows_class(int read_len)
{
	int need = (read_len + 31) / 32;
	for (int c : k_rows) if (c >= need) return c;
	return -1;
}

template <typename T>
static cudaError_t launch(const sq_cuda_phmm_args_t *a, int rows, T *out_sum, double *out_log10, cudaStream_t st)
{
	if (a->n <= 0) return cudaSuccess;
	dim3 grid((a->n + SQ_CUDA_PHMM_WARPS - 1) / SQ_CUDA_PHMM_WARPS), block(32 * SQ_CUDA_PHMM_WARPS);
	switch (rows) {
#define L(R_) case R_: phmm_warp_kernel<T, R_><<<grid, block, 0, st>>>(*a, out_sum, out_log10); break;
	L(1) L(2) L(3) L(4) L(5) L(6) L(8) L(10) L(12) L(16)
#undef L
	default: return cudaErrorInvalidValue;
	}
	return cudaGetLastError();
}

cudaError_t sq_cuda_phmm_launch_f(const sq_cuda_phmm_args_t *a, int rows, float *out_f, cudaStream_t st)
{
	return launch<float>(a, rows, out_f, nullptr, st);
}

cudaError_t sq_cuda_phmm_launch_d(const sq_cuda_phmm_args_t *a, int rows, double *out_d, cudaStream_t st)
{
	return launch<double>(a, rows, (double *)nullptr, out_d, st);
}
