/* seqa — pair-HMM FPGA design (HLS C): interface shared by the design, its C simulation and
 * the build manifest.  See pairhmm_hls.c. */
#ifndef SEQA_FIRMWARE_PAIRHMM_HLS_H
#define SEQA_FIRMWARE_PAIRHMM_HLS_H

#include <stdint.h>

#define PHMM_NPE      32      /* processing elements = read rows per systolic pass */
#define PHMM_MAX_HAP  2048    /* on-chip boundary row; longer haplotypes are flagged (NaN) */
#define PHMM_PSUM     8       /* partial sums: breaks the float-add recurrence so II = 1 */

/* Kernel entry, argument for argument the OpenCL kernel phmm_forward of kernels/opencl/pairhmm.cl,
 * so drivers/opencl/ocl_phmm.c drives the FPGA binary unchanged (as a single task).  bnd and
 * hstride are unused here (the boundary row lives on chip). res[k] = scaled float likelihood sum
 * of pair k (initial constant 2^120), NaN where the design cannot take the pair. */
void phmm_forward(const uint8_t *rseq, const uint8_t *bq, const uint8_t *iq, const uint8_t *dq,
                  const uint8_t *gq, const int32_t *roff, const uint8_t *hseq, const int32_t *hoff,
                  const int32_t *pr, const int32_t *ph, int32_t n, const float *err, float *bnd,
                  int32_t hstride, float *res);

#endif
