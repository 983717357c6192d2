/* seqa — pair-HMM CUDA kernels: launch interface between kernels/cuda/pairhmm.cu and the CUDA
 * driver runtime (drivers/cuda/cuda_phmm.cu).  CUDA-only: never included by host C. */
#ifndef SEQA_KERNELS_CUDA_PAIRHMM_CUH
#define SEQA_KERNELS_CUDA_PAIRHMM_CUH

#include <stdint.h>
#include <cuda_runtime.h>

#define SQ_CUDA_PHMM_WARPS 4          /* pairs (warps) per block */
#define SQ_CUDA_PHMM_MAX_READ 512     /* 32 lanes x 16 rows; longer reads go to the CPU */

/* Device pointers to the batch, in kernels/pairhmm.h layout. */
typedef struct {
	const char    *read_seq;
	const uint8_t *base_q, *ins_q, *del_q, *gcp;
	const int32_t *read_off;
	const char    *hap_seq;
	const int32_t *hap_off;
	const int32_t *pair_read, *pair_hap;   /* the pairs of this launch */
	int32_t        n;
	const float   *err_f;                  /* 256: 10^(-q/10), float */
	const double  *err_d;                  /* 256: same, double */
} sq_cuda_phmm_args_t;

/* Rows per lane: the launch computes pairs whose reads have at most 32 * rows bases; rows must
 * be one of sq_cuda_phmm_rows_supported().  Float pass writes the scaled sum to out_f; the
 * double pass writes log10 likelihoods to out_d. */
int sq_cuda_phmm_rows_class(int read_len);   /* smallest supported rows >= ceil(len / 32), or -1 */
cudaError_t sq_cuda_phmm_launch_f(const sq_cuda_phmm_args_t *a, int rows, float *out_f, cudaStream_t st);
cudaError_t sq_cuda_phmm_launch_d(const sq_cuda_phmm_args_t *a, int rows, double *out_d, cudaStream_t st);

#endif
