/* seqa — alignment internals shared by the host/align sources and its tests (not public). */
#ifndef SEQA_ALIGN_INTERNAL_H
#define SEQA_ALIGN_INTERNAL_H

#include <stdint.h>
#include <bwa/bwt.h>
#include "smem.h"

/** Fill a kernel view of libbwa's loaded FM index (no copy; bwt must outlive f). */
void sq_aln_fmi_view(const bwt_t *bwt, sq_fmi_t *f);

/* ---- seeding backends: ref, cpu, opencl, cuda ----------------------------------------- */
typedef struct sq_seed_backend_s sq_seed_backend_t;

/** Open a seeding backend by name: "ref", "cpu", "opencl", "cuda", or "auto" (cuda, then an
 *  OpenCL GPU, then cpu).  The index view is uploaded to the device here.  NULL when the
 *  backend is not available (logged). */
sq_seed_backend_t *sq_seed_backend_open(const char *name, const sq_fmi_t *f, const sq_smem_opt_t *o,
                                        int n_threads);
/** Let the backend prepare for about input_bytes of FASTQ (the cpu backend builds its dense
 *  suffix-array sample when that pays off).  Results never change. */
void sq_seed_backend_tune(sq_seed_backend_t *be, int64_t input_bytes);
/** "cpu", "opencl:<platform>:<device>", "cuda:0:<name>". */
const char *sq_seed_backend_name(const sq_seed_backend_t *be);
/** Short kind: "ref", "cpu", "opencl", "cuda". */
const char *sq_seed_backend_kind(const sq_seed_backend_t *be);
/** SMEMs for a batch of reads (see sq_smem_job_t).  0, or < -1 on device failure (logged). */
int sq_seed_backend_smem(sq_seed_backend_t *be, const sq_smem_job_t *job);
/** Suffix-array values of n rows.  0, or < -1 on device failure (logged). */
int sq_seed_backend_sa(sq_seed_backend_t *be, int64_t n, const uint64_t *rows, uint64_t *out);
void sq_seed_backend_close(sq_seed_backend_t *be);

/* Device backends (drivers/opencl/smem_ocl.c; CUDA through dlopen in host/align/backend.c).
 * Each returns an opaque handle or NULL (logged). */
void *sq_smem_ocl_open(const sq_fmi_t *f, const sq_smem_opt_t *o, char *name, size_t name_len);
int   sq_smem_ocl_smem(void *h, const sq_smem_job_t *job);
int   sq_smem_ocl_sa(void *h, int64_t n, const uint64_t *rows, uint64_t *out);
void  sq_smem_ocl_close(void *h);

#endif
