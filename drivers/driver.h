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
 * Seeding (kernels/smem.h, for the aligner): the same drivers carry the SMEM and suffix-array
 * entries (sq_seed_ops_t), bound to one FM index by seed->open (a seeding handle is independent
 * of an opened pair-HMM device: the aligner and the caller open what they need).  seed == NULL
 * means "this device class cannot seed" (fpga).  sq_seeder_open(SQ_DEV_AUTO) takes cuda, else cpu.
 */
#ifndef SEQA_DRIVERS_DRIVER_H
#define SEQA_DRIVERS_DRIVER_H

#include <stddef.h>
#include <stdint.h>
#include "pairhmm.h"
#include "smem.h"

typedef enum {
	SQ_DEV_AUTO = 0, SQ_DEV_REF, SQ_DEV_CPU, SQ_DEV_OPENCL, SQ_DEV_CUDA, SQ_DEV_FPGA
} sq_dev_kind_t;

typedef struct sq_dev_s sq_dev_t;

/** A device class's seeding entries, bound to one FM index by open. */
typedef struct {
	/** Bind the FM index f (which must outlive the handle) with options o; host-side work uses
	 *  n_threads.  The handle, with the device's name in name[]; NULL if the device is absent
	 *  (logged unless quiet) or on error (logged). */
	void *(*open)(const sq_fmi_t *f, const sq_smem_opt_t *o, int n_threads, int quiet,
	              char *name, size_t name_len);
	/** SMEMs of job->n_reads reads (kernels/smem.h); 0 or < -1 (logged). */
	int   (*smem)(void *h, const sq_smem_job_t *job);
	/** Suffix-array positions of n BWT rows; 0 or < -1 (logged). */
	int   (*sa)(void *h, int64_t n, const uint64_t *rows, uint64_t *out);
	/** Optional: size host-side tables to the input (on-disk FASTQ bytes). */
	void  (*tune)(void *h, int64_t input_bytes);
	void  (*close)(void *h);
} sq_seed_ops_t;

typedef struct sq_driver_s {
	const char   *name;     /* "ref", "cpu", "opencl", "cuda", "fpga" */
	sq_dev_kind_t kind;
	/** Open: fill dev->name/dev->priv.  0, or SQ_EUNSUPP (not here) / SQ_EDEVICE (logged). */
	int  (*open)(sq_dev_t *dev);
	/** Pair-HMM batch (kernels/pairhmm.h); 0 or < -1 with a message logged. */
	int  (*phmm_batch)(sq_dev_t *dev, const sq_phmm_batch_t *b, int n_threads);
	void (*close)(sq_dev_t *dev);
	/** Seeding, or NULL where the device class has no seeding kernel. */
	const sq_seed_ops_t *seed;
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

/** The driver of a concrete kind (NULL for SQ_DEV_AUTO or an unknown value). */
const sq_driver_t *sq_driver_of(sq_dev_kind_t kind);

/** Open a device of that kind (auto: see above).  NULL on failure (logged). */
sq_dev_t *sq_dev_open(sq_dev_kind_t kind);
void sq_dev_close(sq_dev_t *dev);
/** The opened device's name ("cpu-avx512", "cuda:0:NVIDIA H200", ...). */
const char *sq_dev_name(const sq_dev_t *dev);

/** Run a pair-HMM batch on dev (NULL: the CPU backend), falling back to the CPU backend if the
 *  device fails (warning logged).  n_threads <= 0 means all CPUs.  0, or < -1 on error. */
int sq_phmm_run(sq_dev_t *dev, const sq_phmm_batch_t *b, int n_threads);

/* ---- seeding (drivers/seed.c) -------------------------------------------------------------- */
typedef struct sq_seeder_s sq_seeder_t;

/** Bind the FM index f to a device of that kind for seeding (auto: cuda, else cpu -- a CPU
 *  OpenCL device such as PoCL is slower than the native kernel, so auto never takes OpenCL).
 *  NULL on failure (logged; a kind that cannot seed is SQ_EUNSUPP's message). */
sq_seeder_t *sq_seeder_open(sq_dev_kind_t kind, const sq_fmi_t *f, const sq_smem_opt_t *o, int n_threads);
/** "cpu", "ref", "opencl:<platform>:<device>", "cuda:0:<name>"... */
const char *sq_seeder_name(const sq_seeder_t *s);
sq_dev_kind_t sq_seeder_kind(const sq_seeder_t *s);
void sq_seeder_tune(sq_seeder_t *s, int64_t input_bytes);
int  sq_seeder_smem(sq_seeder_t *s, const sq_smem_job_t *job);
int  sq_seeder_sa(sq_seeder_t *s, int64_t n, const uint64_t *rows, uint64_t *out);
void sq_seeder_close(sq_seeder_t *s);

/* ---- per-backend drivers (drivers/<kind>/) ------------------------------------------------ */
extern const sq_driver_t sq_drv_ref, sq_drv_cpu, sq_drv_opencl, sq_drv_cuda, sq_drv_fpga;
extern const sq_seed_ops_t sq_seed_ops_ref, sq_seed_ops_cpu, sq_seed_ops_opencl, sq_seed_ops_cuda;

/* ---- CPU pair-HMM kernels (kernels/cpu/) -------------------------------------------------- */
/** The ISA the CPU kernel dispatcher chose: "avx512", "avx2", "scalar".  $SEQA_CPU_ISA
 *  (scalar|avx2|avx512) caps it, for tests and benchmarks. */
const char *sq_phmm_cpu_isa(void);
/** Run b on the CPU SIMD kernels with n_threads (>= 1).  0 or < -1 (logged). */
int sq_phmm_cpu_batch(const sq_phmm_batch_t *b, int n_threads);

#endif
