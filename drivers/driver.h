/* seqa — device drivers: one interface per device class, backend selection, CPU fallback.
 *
 * A device (sq_dev_t) is an opened backend: the reference ("ref"), the CPU SIMD kernels ("cpu",
 * ISA chosen once from CPUID), OpenCL ("opencl", any 1.2 device; PoCL in tests), CUDA ("cuda",
 * build/libseqa_cuda.so loaded at run time with dlopen, so this binary runs without CUDA) or an
 * FPGA ("fpga": the OpenCL driver with a vendor binary, $SEQA_FPGA_XCLBIN / $SEQA_FPGA_AOCX).
 *
 * Selection: sq_dev_open(SQ_DEV_AUTO) tries cuda, then an OpenCL GPU/accelerator, then fpga,
 * and ends at cpu (a CPU OpenCL device such as PoCL is slower than the native SIMD kernels, so
 * auto never picks it).  A named backend that cannot be opened is an error (SQ_EUNSUPP or
 * SQ_EDEVICE, logged), never a silent substitution.
 *
 * Fallback: sq_phmm_run() re-runs on the CPU backend any batch the device fails (logged as a
 * warning), so a device failure mid-run costs time, never results.
 *
 * Thread rules: one sq_dev_t may be used by one thread at a time (batches are internally
 * parallel with n_threads); open several devices for concurrent callers.
 *
 * Extending: the alignment kernels add their entry points to sq_driver_t (seeding), with a
 * `NULL` meaning "not supported on this device" (the caller then uses the CPU driver).
 */
#ifndef SEQA_DRIVERS_DRIVER_H
#define SEQA_DRIVERS_DRIVER_H

#include <stdint.h>
#include "pairhmm.h"

typedef enum {
	SQ_DEV_AUTO = 0, SQ_DEV_REF, SQ_DEV_CPU, SQ_DEV_OPENCL, SQ_DEV_CUDA, SQ_DEV_FPGA
} sq_dev_kind_t;

typedef struct sq_dev_s sq_dev_t;

typedef struct sq_driver_s {
	const char   *name;     /* "ref", "cpu", "opencl", "cuda", "fpga" */
	sq_dev_kind_t kind;
	/** Open: fill dev->name/dev->priv.  0, or SQ_EUNSUPP (not here) / SQ_EDEVICE (logged). */
	int  (*open)(sq_dev_t *dev);
	/** Pair-HMM batch (kernels/pairhmm.h); 0 or < -1 with a message logged. */
	int  (*phmm_batch)(sq_dev_t *dev, const sq_phmm_batch_t *b, int n_threads);
	void (*close)(sq_dev_t *dev);
	/* seeding (alignment worker) entries go here */
} sq_driver_t;

struct sq_dev_s {
	const sq_driver_t *drv;
	char  name[160];        /* e.g. "cpu-avx512", "opencl:Portable Computing Language:pthread-..." */
	void *priv;             /* driver state */
	int   n_fallbacks;      /* batches re-run on CPU after a device failure */
	int   probing;          /* set during auto-selection: absence is not an error, and OpenCL
	                           takes only GPUs/accelerators */
};

/** Parse "auto|ref|cpu|opencl|cuda|fpga".  0, or SQ_EINVAL. */
int sq_dev_parse_kind(const char *s, sq_dev_kind_t *kind);
const char *sq_dev_kind_name(sq_dev_kind_t kind);

/** Open a device of that kind (auto: see above).  NULL on failure (logged). */
sq_dev_t *sq_dev_open(sq_dev_kind_t kind);
void sq_dev_close(sq_dev_t *dev);
/** The opened device's name ("cpu-avx512", "cuda:0:NVIDIA H200", ...). */
const char *sq_dev_name(const sq_dev_t *dev);

/** Run a pair-HMM batch on dev (NULL: the CPU backend), falling back to the CPU backend if the
 *  device fails (warning logged).  n_threads <= 0 means all CPUs.  0, or < -1 on error. */
int sq_phmm_run(sq_dev_t *dev, const sq_phmm_batch_t *b, int n_threads);

/* ---- per-backend drivers (drivers/<kind>/) ------------------------------------------------ */
extern const sq_driver_t sq_drv_ref, sq_drv_cpu, sq_drv_opencl, sq_drv_cuda, sq_drv_fpga;

/* ---- CPU pair-HMM kernels (kernels/cpu/) -------------------------------------------------- */
/** The ISA the CPU kernel dispatcher chose: "avx512", "avx2", "scalar".  $SEQA_CPU_ISA
 *  (scalar|avx2|avx512) caps it, for tests and benchmarks. */
const char *sq_phmm_cpu_isa(void);
/** Run b on the CPU SIMD kernels with n_threads (>= 1).  0 or < -1 (logged). */
int sq_phmm_cpu_batch(const sq_phmm_batch_t *b, int n_threads);

#endif
