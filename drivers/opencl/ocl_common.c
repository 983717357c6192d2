/* seqa — shared OpenCL helpers; see ocl_common.h. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "opencl/ocl_common.h"
#include "seqa/log.h"
#include "seqa/util.h"

const char *sq_ocl_strerror(cl_int err)
{
	switch (err) {
#define E(x) case x: return #x;
	E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE) E(CL_COMPILER_NOT_AVAILABLE)
	E(CL_MEM_OBJECT_ALLOCATION_FAILURE) E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY)
	E(CL_PROFILING_INFO_NOT_AVAILABLE) E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH)
	E(CL_IMAGE_FORMAT_NOT_SUPPORTED) E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE)
	E(CL_MISALIGNED_SUB_BUFFER_OFFSET) E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST)
	E(CL_COMPILE_PROGRAM_FAILURE) E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE)
	E(CL_DEVICE_PARTITION_FAILED) E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE)
	E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE) E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE)
	E(CL_INVALID_CONTEXT) E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE)
	E(CL_INVALID_HOST_PTR) E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR)
	E(CL_INVALID_IMAGE_SIZE) E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS)
	E(CL_INVALID_PROGRAM) E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME)
	E(CL_INVALID_KERNEL_DEFINITION) E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX)
	E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS)
	E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE)
	E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST) E(CL_INVALID_EVENT)
	E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
	E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
	E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
	E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
	case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
	default: return "CL_UNKNOWN_ERROR";
	}
}

int sq_ocl_check_(cl_int err, const char *what, const char *file, int line)
{
	if (err == CL_SUCCESS) return 0;
	sq_log_error("%s failed: %s (%d) at %s:%d", what, sq_ocl_strerror(err), (int)err, file, line);
	return SQ_EDEVICE;
}

static int name_matches(const char *sel, const char *a, const char *b)
{
	return sel && *sel && (strstr(a, sel) || strstr(b, sel));
}

/* Auto-probing runs vendor code (the ICD loader, PoCL's LLVM, GPU drivers: C++ that aborts
 * with std::bad_alloc or crashes when an allocation fails) just to learn that there is no device.
 * So the first probe of a process runs in a forked child: the parent only loads the OpenCL stack
 * when the child saw a device of a wanted type, and a child that crashed means "no OpenCL here"
 * (logged) instead of taking seqa down.  Not under ThreadSanitizer (no threads after a fork of a
 * threaded process) and not with SEQA_OPENCL_PROBE=inproc.  1: such a device exists; 0: none. */
#if defined(__SANITIZE_THREAD__)
#define SQ_OCL_NO_FORK 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SQ_OCL_NO_FORK 1
#endif
#endif
static int probe_isolated(cl_device_type want)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static int done;
	static cl_device_type seen;   /* types of the devices the child found */
	const char *how = getenv("SEQA_OPENCL_PROBE");
	int r;
#ifdef SQ_OCL_NO_FORK
	return 1;
#endif
	if (how && !strcmp(how, "inproc")) return 1;
	pthread_mutex_lock(&mu);
	if (!done) {
		int fd[2], st = 0;
		pid_t pid;
		if (pipe(fd) < 0) { pthread_mutex_unlock(&mu); return 1; }   /* cannot isolate: probe in process */
		fflush(stderr);
		if ((pid = fork()) == 0) {   /* child: raw OpenCL calls only, no logging, no atexit handlers */
			cl_platform_id plats[16];
			cl_uint np = 0;
			cl_device_type t_all = 0;
			close(fd[0]);
			if (clGetPlatformIDs(16, plats, &np) == CL_SUCCESS)
				for (cl_uint p = 0; p < np && p < 16; ++p) {
					cl_device_id devs[32];
					cl_uint nd = 0;
					if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 32, devs, &nd) != CL_SUCCESS) continue;
					for (cl_uint d = 0; d < nd && d < 32; ++d) {
						cl_device_type t = 0;
						if (clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof t, &t, NULL) == CL_SUCCESS) t_all |= t;
					}
				}
			_exit(write(fd[1], &t_all, sizeof t_all) == (ssize_t)sizeof t_all ? 0 : 1);
		}
		close(fd[1]);
		if (pid < 0) { close(fd[0]); pthread_mutex_unlock(&mu); return 1; }
		/* a driver that hangs in the child (some are not fork-safe) must not hang seqa: 60 s */
		struct pollfd pf = { .fd = fd[0], .events = POLLIN };
		int pr;
		while ((pr = poll(&pf, 1, 60000)) < 0 && errno == EINTR) {}
		if (pr == 0) kill(pid, SIGKILL);
		ssize_t n = pr > 0 ? read(fd[0], &seen, sizeof seen) : -1;
		close(fd[0]);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
		if (n != (ssize_t)sizeof seen || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			seen = 0;
			if (pr == 0) sq_log_warn("the OpenCL probe did not answer in 60 s (a driver hung): OpenCL not used");
			else if (WIFSIGNALED(st))
				sq_log_warn("the OpenCL probe crashed (signal %d, in the ICD loader or a vendor driver): OpenCL not used",
				            WTERMSIG(st));
			else sq_log_debug("the OpenCL probe failed (exit %d): OpenCL not used", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		}
		done = 1;
	}
	r = (seen & want) != 0;
	pthread_mutex_unlock(&mu);
	return r;
}

int sq_ocl_open(sq_ocl_t *o, cl_device_type want, int quiet)
{
	cl_platform_id plats[16];
	cl_uint np = 0;
	cl_int err;
	const char *sel = getenv("SEQA_OPENCL_DEVICE");
	int sel_p = -1, sel_d = -1;
	memset(o, 0, sizeof *o);
	if (sel && sscanf(sel, "%d:%d", &sel_p, &sel_d) != 2) sel_p = sel_d = -1;
	if (quiet && !probe_isolated(want)) {   /* auto-probing: nothing suitable (or a crashing stack) */
		sq_log_debug("no OpenCL device of a wanted type (isolated probe)");
		return SQ_EUNSUPP;
	}
	err = clGetPlatformIDs(16, plats, &np);
	if (err != CL_SUCCESS || np == 0) {
		if (quiet) sq_log_debug("no OpenCL platform (%s)", sq_ocl_strerror(err));
		else sq_log_error("no OpenCL platform (%s)", sq_ocl_strerror(err));
		return SQ_EUNSUPP;
	}
	for (cl_uint p = 0; p < np && !o->device; ++p) {
		cl_device_id devs[32];
		cl_uint nd = 0;
		if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 32, devs, &nd) != CL_SUCCESS) continue;
		char pname[128] = "";
		clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL);
		for (cl_uint d = 0; d < nd; ++d) {
			char dname[128] = "";
			cl_device_type t = 0;
			clGetDeviceInfo(devs[d], CL_DEVICE_NAME, sizeof dname, dname, NULL);
			clGetDeviceInfo(devs[d], CL_DEVICE_TYPE, sizeof t, &t, NULL);
			int ok;
			if (sel_p >= 0) ok = (int)p == sel_p && (int)d == sel_d;
			else if (sel && *sel) ok = name_matches(sel, dname, pname);
			else ok = (t & want) != 0;
			if (sel && *sel && !(t & want)) ok = 0;
			if (!ok) continue;
			o->platform = plats[p], o->device = devs[d], o->type = t;
			snprintf(o->platform_name, sizeof o->platform_name, "%s", pname);
			snprintf(o->device_name, sizeof o->device_name, "%s", dname);
			break;
		}
	}
	if (!o->device) {
		if (quiet) sq_log_debug("no matching OpenCL device%s%s", sel ? " for SEQA_OPENCL_DEVICE=" : "", sel ? sel : "");
		else sq_log_error("no matching OpenCL device%s%s", sel ? " for SEQA_OPENCL_DEVICE=" : "", sel ? sel : "");
		return SQ_EUNSUPP;
	}
	clGetDeviceInfo(o->device, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof o->compute_units, &o->compute_units, NULL);
	clGetDeviceInfo(o->device, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof o->global_mem, &o->global_mem, NULL);
	clGetDeviceInfo(o->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof o->max_alloc, &o->max_alloc, NULL);
	clGetDeviceInfo(o->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof o->max_wg, &o->max_wg, NULL);
	clGetDeviceInfo(o->device, CL_DEVICE_VERSION, sizeof o->version, o->version, NULL);
	o->ctx = clCreateContext(NULL, 1, &o->device, NULL, NULL, &err);
	if (SQ_OCL_CHECK(err, "clCreateContext") < 0) goto fail;
	o->queue = clCreateCommandQueue(o->ctx, o->device, 0, &err);
	if (SQ_OCL_CHECK(err, "clCreateCommandQueue") < 0) goto fail;
	return 0;
fail:
	sq_ocl_close(o);
	return SQ_EDEVICE;
}

void sq_ocl_close(sq_ocl_t *o)
{
	if (!o) return;
	if (o->queue) clReleaseCommandQueue(o->queue);
	if (o->ctx) clReleaseContext(o->ctx);
	o->queue = NULL, o->ctx = NULL, o->device = NULL;
}

static cl_program finish_build(sq_ocl_t *o, cl_program prog, const char *opts, const char *label)
{
	cl_int err = clBuildProgram(prog, 1, &o->device, opts ? opts : "", NULL, NULL);
	if (err == CL_SUCCESS) return prog;
	size_t n = 0;
	clGetProgramBuildInfo(prog, o->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &n);
	char *log = malloc(n + 1);
	if (log) {
		log[0] = 0;
		clGetProgramBuildInfo(prog, o->device, CL_PROGRAM_BUILD_LOG, n, log, NULL);
		log[n] = 0;
	}
	sq_log_error("building %s for %s failed: %s (%d); build log:\n%s", label, o->device_name,
	             sq_ocl_strerror(err), (int)err, log ? log : "(no memory for the log)");
	free(log);
	clReleaseProgram(prog);
	return NULL;
}

cl_program sq_ocl_build_source(sq_ocl_t *o, const char *src, const char *opts, const char *label)
{
	cl_int err;
	cl_program prog = clCreateProgramWithSource(o->ctx, 1, &src, NULL, &err);
	if (SQ_OCL_CHECK(err, "clCreateProgramWithSource") < 0) return NULL;
	return finish_build(o, prog, opts, label);
}

cl_program sq_ocl_build_binary(sq_ocl_t *o, const char *path, const char *opts)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *bin = NULL;
	long n;
	cl_int err, st;
	if (!fp) {
		sq_log_error("cannot open device binary '%s': %s", path, strerror(errno));
		return NULL;
	}
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) <= 0 || fseek(fp, 0, SEEK_SET) != 0 ||
	    !(bin = malloc((size_t)n)) || fread(bin, 1, (size_t)n, fp) != (size_t)n) {
		sq_log_error("cannot read device binary '%s'", path);
		fclose(fp), free(bin);
		return NULL;
	}
	fclose(fp);
	size_t len = (size_t)n;
	const unsigned char *bp = bin;
	cl_program prog = clCreateProgramWithBinary(o->ctx, 1, &o->device, &len, &bp, &st, &err);
	free(bin);
	if (SQ_OCL_CHECK(err, "clCreateProgramWithBinary") < 0) return NULL;
	return finish_build(o, prog, opts, path);
}
