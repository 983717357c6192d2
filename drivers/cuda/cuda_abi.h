/* seqa — the C ABI of build/libseqa_cuda.so (drivers/cuda/cuda_phmm.cu), resolved with dlsym by
 * drivers/cuda/cuda_driver.c.  Plain C types only; bump SQ_CUDA_ABI_VERSION on any change. */
#ifndef SEQA_DRIVERS_CUDA_ABI_H
#define SEQA_DRIVERS_CUDA_ABI_H
#include <stdint.h>
#include "pairhmm.h"

#define SQ_CUDA_ABI_VERSION 1

/** SQ_CUDA_ABI_VERSION of the library. */
int  sq_cuda_abi_version(void);
/** Select device 0; writes its name (or why none) into name.  0, -8 (no device), -7 (error). */
int  sq_cuda_phmm_open(char *name, int cap);
/** Compute the pairs it supports (read length 1-512, haplotype >= 1) into b->out and set
 *  done_mask[k] = 1 for them; the caller computes the rest.  0, or -7 on a CUDA error. */
int  sq_cuda_phmm_batch(const sq_phmm_batch_t *b, uint8_t *done_mask);
void sq_cuda_phmm_close(void);

#endif
