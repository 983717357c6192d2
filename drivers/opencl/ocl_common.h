/* seqa — shared OpenCL helpers for every OpenCL kernel driver (pair-HMM, seeding, FPGA).
 *
 * Platform/device selection, context + in-order queue, program build from embedded source (or a
 * vendor binary) with the build log always printed on failure, and errors reported by name with
 * file:line.  Selection: $SEQA_OPENCL_DEVICE = "P:D" (platform and device index as `clinfo -l`
 * lists them) or a substring of the device or platform name; otherwise the first device of the
 * wanted type.  Thread rules: an sq_ocl_t is used by one thread at a time.
 */
#ifndef SEQA_DRIVERS_OCL_COMMON_H
#define SEQA_DRIVERS_OCL_COMMON_H

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>

typedef struct sq_ocl_s {
	cl_platform_id   platform;
	cl_device_id     device;
	cl_context       ctx;
	cl_command_queue queue;
	cl_device_type   type;
	cl_uint          compute_units;
	cl_ulong         global_mem, max_alloc;
	size_t           max_wg;
	char platform_name[128], device_name[128], version[64];
} sq_ocl_t;

/** "CL_OUT_OF_RESOURCES" etc. for an OpenCL error code. */
const char *sq_ocl_strerror(cl_int err);

/** If err != CL_SUCCESS, log "what failed: CL_NAME (code) at file:line" and return SQ_EDEVICE;
 *  else 0.  Use through SQ_OCL_CHECK. */
int sq_ocl_check_(cl_int err, const char *what, const char *file, int line);
#define SQ_OCL_CHECK(err, what) sq_ocl_check_((err), (what), __FILE__, __LINE__)

/** Open the selected device of type `want` (CL_DEVICE_TYPE_ALL, CL_DEVICE_TYPE_GPU |
 *  CL_DEVICE_TYPE_ACCELERATOR, ...).  0, SQ_EUNSUPP when no such device exists (logged at debug
 *  level only when quiet), SQ_EDEVICE on a runtime failure (logged). */
int sq_ocl_open(sq_ocl_t *o, cl_device_type want, int quiet);
void sq_ocl_close(sq_ocl_t *o);

/** Build a program from source (opts may be NULL).  On failure logs the build log and returns
 *  NULL.  label names the program in messages ("pairhmm.cl"). */
cl_program sq_ocl_build_source(sq_ocl_t *o, const char *src, const char *opts, const char *label);
/** Same from a vendor binary file (FPGA .xclbin/.aocx).  NULL on failure (logged). */
cl_program sq_ocl_build_binary(sq_ocl_t *o, const char *path, const char *opts);

#endif
