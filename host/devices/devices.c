/* seqa — accelerator discovery: libpci + OpenCL + CUDA (dlopen) + pair-HMM self-test;
 * see seqa/devices.h.
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <pci/pci.h>
#include <CL/cl.h>
#include <CL/cl_ext.h>
#include "driver.h"
#include "seqa/devices.h"
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"

static pthread_mutex_t sq_dev_lock = PTHREAD_MUTEX_INITIALIZER;

void sq_devices_opt_init(sq_devices_opt_t *o)
{
	memset(o, 0, sizeof *o);
	o->runtimes = 1;
	o->n_threads = 1;
}

/* ---- PCI -------------------------------------------------------------------------------- */

static jmp_buf pci_jmp;
static char pci_errmsg[512];

static void pci_err(char *msg, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void pci_err(char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	vsnprintf(pci_errmsg, sizeof pci_errmsg, msg, ap);
	va_end(ap);
	longjmp(pci_jmp, 1);
}

static void pci_warn(char *msg, ...) __attribute__((format(printf, 1, 2)));
static void pci_warn(char *msg, ...)
{
	char b[512];
	va_list ap;
	va_start(ap, msg);
	vsnprintf(b, sizeof b, msg, ap);
	va_end(ap);
	sq_log_debug("libpci: %s", b);
}

static void pci_debug(char *msg, ...) { (void)msg; }

/* Intel FPGA programmable acceleration cards (PAC/N3000/D5005/...), by device id. */
static int intel_fpga_id(unsigned dev)
{
	static const unsigned ids[] = { 0x09c4, 0x09c5, 0x0b2b, 0x0b2c, 0x0b30, 0x0b31, 0xbcbd, 0xbcbe, 0xbcbf, 0xbcc0, 0xbcc1, 0xbcce, 0xbccf };
	for (size_t i = 0; i < sizeof ids / sizeof *ids; ++i) if (ids[i] == dev) return 1;
	return 0;
}

/* "gpu", "fpga", "accelerator", "display" or NULL (not an accelerator). */
static const char *pci_kind(unsigned vendor, unsigned device, unsigned cls)
{
	unsigned base = cls >> 8;
	if (vendor == 0x10ee || vendor == 0x1172 || (vendor == 0x8086 && intel_fpga_id(device))) {
		if (base == 0x06) return NULL; /* bridges on FPGA cards (e.g. SmartSSD) */
		return "fpga";
	}
	if (base == 0x03) return (vendor == 0x10de || vendor == 0x1002 || vendor == 0x8086) ? "gpu" : "display";
	if (base == 0x12 || cls == 0x0b40) return "accelerator";
	return NULL;
}

static const char *gts(unsigned code)
{
	static const char *s[] = { NULL, "2.5 GT/s", "5 GT/s", "8 GT/s", "16 GT/s", "32 GT/s", "64 GT/s" };
	return code < sizeof s / sizeof *s ? s[code] : NULL;
}

json_t *sq_devices_pci(const char *dump, int all)
{
	struct pci_access *a;
	json_t *arr = NULL;
	char buf[512];
	pthread_mutex_lock(&sq_dev_lock);
	a = pci_alloc();
	if (!a) goto out;
	a->error = pci_err, a->warning = pci_warn, a->debug = pci_debug;
	if (setjmp(pci_jmp)) {
		sq_log_error("PCI scan%s%s failed: %s", dump ? " of " : "", dump ? dump : "", pci_errmsg);
		json_decref(arr);
		arr = NULL;
		goto out; /* libpci state after an error is not trusted: a is leaked on purpose */
	}
	if (dump) {
		if (!sq_file_readable(dump)) { sq_log_error("cannot read PCI dump '%s'", dump); pci_cleanup(a); goto out; }
		a->method = PCI_ACCESS_DUMP;
		pci_set_param(a, "dump.name", (char *)dump);
	}
	pci_init(a);
	pci_scan_bus(a);
	arr = json_array();
	for (struct pci_dev *d = a->devices; d; d = d->next) {
		pci_fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS | PCI_FILL_NUMA_NODE | PCI_FILL_DRIVER | PCI_FILL_CAPS | PCI_FILL_EXT_CAPS);
		const char *kind = pci_kind(d->vendor_id, d->device_id, d->device_class);
		if (!kind && !all) continue;
		json_t *o = json_object();
		snprintf(buf, sizeof buf, "%04x:%02x:%02x.%d", d->domain, d->bus, d->dev, d->func);
		json_object_set_new(o, "address", json_string(buf));
		snprintf(buf, sizeof buf, "%04x:%04x", d->vendor_id, d->device_id);
		json_object_set_new(o, "id", json_string(buf));
		json_object_set_new(o, "kind", kind ? json_string(kind) : json_null());
		json_object_set_new(o, "vendor", json_string(pci_lookup_name(a, buf, sizeof buf, PCI_LOOKUP_VENDOR, d->vendor_id)));
		json_object_set_new(o, "device", json_string(pci_lookup_name(a, buf, sizeof buf, PCI_LOOKUP_DEVICE, d->vendor_id, d->device_id)));
		snprintf(buf, sizeof buf, "%04x", d->device_class);
		json_object_set_new(o, "class_id", json_string(buf));
		json_object_set_new(o, "class", json_string(pci_lookup_name(a, buf, sizeof buf, PCI_LOOKUP_CLASS, d->device_class)));
		struct pci_cap *cap = pci_find_cap(d, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
		json_t *link = json_null();
		if (cap) {
			unsigned sta = pci_read_word(d, cap->addr + PCI_EXP_LNKSTA);
			unsigned lcap = (unsigned)pci_read_long(d, cap->addr + PCI_EXP_LNKCAP);
			const char *s = gts(sta & PCI_EXP_LNKSTA_SPEED), *m = gts(lcap & PCI_EXP_LNKCAP_SPEED);
			link = json_pack("{s:s?, s:i, s:s?, s:i}", "speed", s, "width", (int)((sta & PCI_EXP_LNKSTA_WIDTH) >> 4),
			                 "max_speed", m, "max_width", (int)((lcap & PCI_EXP_LNKCAP_WIDTH) >> 4));
		}
		json_object_set_new(o, "link", link);
		json_object_set_new(o, "numa_node", !dump && d->numa_node >= 0 ? json_integer(d->numa_node) : json_null());
		char *drv = dump ? NULL : pci_get_string_property(d, PCI_FILL_DRIVER);
		json_object_set_new(o, "driver", drv ? json_string(drv) : json_null());
		json_object_set_new(o, "runtime", json_array());
		json_array_append_new(arr, o);
	}
	pci_cleanup(a);
	/* libpci lists the bus in reverse: present it by address */
	{
		size_t n = json_array_size(arr);
		for (size_t i = 1; i < n; ++i)
			for (size_t j = i; j > 0; --j) {
				json_t *x = json_array_get(arr, j - 1), *y = json_array_get(arr, j);
				if (strcmp(json_string_value(json_object_get(x, "address")), json_string_value(json_object_get(y, "address"))) <= 0) break;
				json_incref(x);
				json_array_set(arr, j - 1, y);
				json_array_set_new(arr, j, x);
			}
	}
out:
	pthread_mutex_unlock(&sq_dev_lock);
	return arr;
}

/* ---- OpenCL ----------------------------------------------------------------------------- */

#ifndef CL_DEVICE_PCI_BUS_ID_NV
#define CL_DEVICE_PCI_BUS_ID_NV 0x4008
#define CL_DEVICE_PCI_SLOT_ID_NV 0x4009
#define CL_DEVICE_PCI_DOMAIN_ID_NV 0x400A
#endif

static void cl_str(cl_device_id d, cl_device_info what, char *buf, size_t cap)
{
	buf[0] = 0;
	if (clGetDeviceInfo(d, what, cap, buf, NULL) != CL_SUCCESS) buf[0] = 0;
	buf[cap - 1] = 0;
}

static void opencl_devices(json_t *arr)
{
	cl_platform_id plats[16];
	cl_uint np = 0;
	if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0) {
		json_array_append_new(arr, json_pack("{s:s, s:b, s:s}", "runtime", "opencl", "available", 0, "reason", "no OpenCL platform (ICD) found"));
		return;
	}
	for (cl_uint p = 0; p < np && p < 16; ++p) {
		char pname[256] = "", name[256], vendor[256], ver[256], ext[8192];
		cl_device_id devs[32];
		cl_uint nd = 0;
		clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL);
		pname[sizeof pname - 1] = 0;
		if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 32, devs, &nd) != CL_SUCCESS) continue;
		for (cl_uint i = 0; i < nd && i < 32; ++i) {
			cl_device_type t = 0;
			cl_uint cu = 0;
			cl_ulong mem = 0;
			char addr[32] = "";
			clGetDeviceInfo(devs[i], CL_DEVICE_TYPE, sizeof t, &t, NULL);
			clGetDeviceInfo(devs[i], CL_DEVICE_MAX_COMPUTE_UNITS, sizeof cu, &cu, NULL);
			clGetDeviceInfo(devs[i], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof mem, &mem, NULL);
			cl_str(devs[i], CL_DEVICE_NAME, name, sizeof name);
			cl_str(devs[i], CL_DEVICE_VENDOR, vendor, sizeof vendor);
			cl_str(devs[i], CL_DEVICE_VERSION, ver, sizeof ver);
			cl_str(devs[i], CL_DEVICE_EXTENSIONS, ext, sizeof ext);
			if (strstr(ext, "cl_khr_pci_bus_info")) {
				cl_device_pci_bus_info_khr bi;
				if (clGetDeviceInfo(devs[i], CL_DEVICE_PCI_BUS_INFO_KHR, sizeof bi, &bi, NULL) == CL_SUCCESS)
					snprintf(addr, sizeof addr, "%04x:%02x:%02x.%u", bi.pci_domain, bi.pci_bus, bi.pci_device, bi.pci_function);
			} else if (strstr(ext, "cl_nv_device_attribute_query")) {
				cl_uint bus = 0, slot = 0, dom = 0;
				if (clGetDeviceInfo(devs[i], CL_DEVICE_PCI_BUS_ID_NV, sizeof bus, &bus, NULL) == CL_SUCCESS &&
				    clGetDeviceInfo(devs[i], CL_DEVICE_PCI_SLOT_ID_NV, sizeof slot, &slot, NULL) == CL_SUCCESS) {
					clGetDeviceInfo(devs[i], CL_DEVICE_PCI_DOMAIN_ID_NV, sizeof dom, &dom, NULL);
					snprintf(addr, sizeof addr, "%04x:%02x:%02x.%u", dom, bus, slot >> 3, slot & 7);
				}
			}
			const char *type = (t & CL_DEVICE_TYPE_GPU) ? "gpu" : (t & CL_DEVICE_TYPE_ACCELERATOR) ? "accelerator" :
			                   (t & CL_DEVICE_TYPE_CPU) ? "cpu" : "other";
			json_array_append_new(arr, json_pack("{s:s, s:b, s:s, s:i, s:s, s:s, s:s, s:s, s:i, s:I, s:s?}",
				"runtime", "opencl", "available", 1, "platform", pname, "index", (int)i, "name", name, "vendor", vendor,
				"type", type, "version", ver, "compute_units", (int)cu, "global_mem_bytes", (json_int_t)mem,
				"pci", addr[0] ? addr : NULL));
		}
	}
}

/* ---- CUDA (driver API through dlopen: no CUDA needed to build or run) ------------------- */

typedef int (*cu_init_f)(unsigned);
typedef int (*cu_count_f)(int *);
typedef int (*cu_get_f)(int *, int);
typedef int (*cu_name_f)(char *, int, int);
typedef int (*cu_bus_f)(char *, int, int);
typedef int (*cu_mem_f)(size_t *, int);

static void cuda_devices(json_t *arr)
{
	void *h = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		json_array_append_new(arr, json_pack("{s:s, s:b, s:s}", "runtime", "cuda", "available", 0, "reason", "libcuda.so.1 not found (no NVIDIA driver)"));
		return;
	}
	cu_init_f init = (cu_init_f)dlsym(h, "cuInit");
	cu_count_f count = (cu_count_f)dlsym(h, "cuDeviceGetCount");
	cu_get_f get = (cu_get_f)dlsym(h, "cuDeviceGet");
	cu_name_f name = (cu_name_f)dlsym(h, "cuDeviceGetName");
	cu_bus_f bus = (cu_bus_f)dlsym(h, "cuDeviceGetPCIBusId");
	cu_mem_f mem = (cu_mem_f)dlsym(h, "cuDeviceTotalMem_v2");
	int n = 0, rc;
	if (!init || !count || !get || !name || !bus || (rc = init(0)) != 0 || count(&n) != 0) {
		json_array_append_new(arr, json_pack("{s:s, s:b, s:s}", "runtime", "cuda", "available", 0, "reason", "cuInit failed (driver/GPU mismatch or no GPU)"));
		dlclose(h);
		return;
	}
	if (n == 0) json_array_append_new(arr, json_pack("{s:s, s:b, s:s}", "runtime", "cuda", "available", 0, "reason", "no CUDA device"));
	for (int i = 0; i < n; ++i) {
		int d;
		char nm[256] = "", addr[64] = "";
		size_t bytes = 0;
		if (get(&d, i) != 0) continue;
		name(nm, sizeof nm, d);
		bus(addr, sizeof addr, d);
		if (mem) mem(&bytes, d);
		for (char *p = addr; *p; ++p) if (*p >= 'A' && *p <= 'F') *p = (char)(*p - 'A' + 'a');
		/* CUDA gives 8-digit domains: 00000000:3b:00.0 */
		const char *a = strlen(addr) > 12 ? addr + strlen(addr) - 12 : addr;
		json_array_append_new(arr, json_pack("{s:s, s:b, s:i, s:s, s:s, s:s, s:I}", "runtime", "cuda", "available", 1, "index", i,
		                                     "name", nm, "type", "gpu", "pci", a, "global_mem_bytes", (json_int_t)bytes));
	}
	dlclose(h);
}

json_t *sq_devices_runtimes(void)
{
	json_t *arr = json_array();
	pthread_mutex_lock(&sq_dev_lock);
	opencl_devices(arr);
	cuda_devices(arr);
	pthread_mutex_unlock(&sq_dev_lock);
	return arr;
}

/* ---- self-test -------------------------------------------------------------------------- */

/* A fixed batch: 12 reads x 4 haplotypes from a small LCG, reads drawn from the haplotypes with
 * substitutions, one insertion and one deletion, realistic quality ranges. */
typedef struct {
	char hap[4 * 160], read[12 * 120];
	uint8_t bq[12 * 120], iq[12 * 120], dq[12 * 120], gcp[12 * 120];
	int32_t hoff[5], roff[13];
	double out[48], ref[48];
} selftest_t;

static uint32_t lcg(uint32_t *s) { *s = *s * 1664525u + 1013904223u; return *s >> 8; }

static void selftest_batch(selftest_t *t, sq_phmm_batch_t *b)
{
	uint32_t s = 20261129u;
	static const char A[] = "ACGT";
	int h0 = 0, r0 = 0;
	memset(t, 0, sizeof *t);
	for (int j = 0; j < 4; ++j) {
		int L = 100 + (int)(lcg(&s) % 50);
		t->hoff[j] = h0;
		for (int k = 0; k < L; ++k) t->hap[h0 + k] = A[lcg(&s) & 3];
		if (j > 0) memcpy(t->hap + h0, t->hap, 50); /* haplotypes share a prefix, as in a region */
		h0 += L;
	}
	t->hoff[4] = h0;
	for (int i = 0; i < 12; ++i) {
		int hj = i % 4, hl = t->hoff[hj + 1] - t->hoff[hj];
		int L = 40 + (int)(lcg(&s) % 60), st = (int)(lcg(&s) % (unsigned)(hl - L));
		t->roff[i] = r0;
		for (int k = 0; k < L; ++k) {
			char c = t->hap[t->hoff[hj] + st + k];
			if (lcg(&s) % 50 == 0) c = A[lcg(&s) & 3];
			if (i == 5 && k == 20) c = 'N';
			t->read[r0 + k] = c;
			t->bq[r0 + k] = (uint8_t)(10 + lcg(&s) % 31);
			t->iq[r0 + k] = 45, t->dq[r0 + k] = 45, t->gcp[r0 + k] = 10;
		}
		r0 += L;
	}
	t->roff[12] = r0;
	memset(b, 0, sizeof *b);
	b->n_reads = 12, b->n_haps = 4;
	b->read_seq = t->read, b->base_q = t->bq, b->ins_q = t->iq, b->del_q = t->dq, b->gcp = t->gcp;
	b->read_off = t->roff, b->hap_seq = t->hap, b->hap_off = t->hoff;
}

json_t *sq_devices_selftest(int n_threads)
{
	static const sq_dev_kind_t kinds[] = { SQ_DEV_CPU, SQ_DEV_OPENCL, SQ_DEV_CUDA, SQ_DEV_FPGA };
	json_t *arr = json_array();
	selftest_t *t = calloc(1, sizeof *t);
	sq_phmm_batch_t b;
	if (!t) return arr;
	selftest_batch(t, &b);
	b.out = t->ref;
	if (sq_phmm_ref_batch(&b) != 0) { free(t); return arr; }
	int saved = sq_log_level_cur;
	for (size_t k = 0; k < sizeof kinds / sizeof *kinds; ++k) {
		const char *kn = sq_dev_kind_name(kinds[k]);
		sq_log_level_cur = SQ_LOG_ERROR - 1; /* absent backends are not errors here */
		sq_dev_t *dev = sq_dev_open(kinds[k]);
		sq_log_level_cur = saved;
		if (!dev) { json_array_append_new(arr, json_pack("{s:s, s:n, s:s}", "backend", kn, "device", "status", "absent")); continue; }
		double t0 = sq_realtime(), maxerr = 0;
		for (int i = 0; i < 48; ++i) t->out[i] = 0;
		b.out = t->out;
		int rc = dev->drv->phmm_batch(dev, &b, n_threads > 0 ? n_threads : 1);
		for (int i = 0; rc == 0 && i < 48; ++i) {
			double e = t->out[i] - t->ref[i];
			if (e < 0) e = -e;
			if (!(e <= 1e30)) e = 1e30; /* NaN */
			if (e > maxerr) maxerr = e;
		}
		const char *status = rc == 0 && maxerr <= 1e-4 ? "pass" : "fail";
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:f, s:i, s:f, s:f}", "backend", kn, "device", sq_dev_name(dev),
		                                     "status", status, "max_abs_err", maxerr, "pairs", 48, "tolerance", 1e-4,
		                                     "seconds", sq_realtime() - t0));
		if (strcmp(status, "pass") != 0) sq_log_warn("self-test of %s failed (rc %d, max |err| %.3g)", sq_dev_name(dev), rc, maxerr);
		sq_dev_close(dev);
	}
	free(t);
	return arr;
}

/* ---- all together ----------------------------------------------------------------------- */

json_t *sq_devices_scan(const sq_devices_opt_t *o)
{
	json_t *pci = sq_devices_pci(o->pci_dump, o->all), *rt, *r = NULL;
	size_t i, j;
	json_t *p, *d;
	int gpus = 0, fpgas = 0, accels = 0;
	if (!pci) return NULL;
	rt = o->runtimes ? sq_devices_runtimes() : json_array();
	json_array_foreach(pci, i, p) {
		const char *addr = json_string_value(json_object_get(p, "address"));
		const char *kind = json_string_value(json_object_get(p, "kind"));
		if (kind && strcmp(kind, "gpu") == 0) ++gpus;
		else if (kind && strcmp(kind, "fpga") == 0) ++fpgas;
		else if (kind && strcmp(kind, "accelerator") == 0) ++accels;
		json_array_foreach(rt, j, d) {
			const char *a = json_string_value(json_object_get(d, "pci"));
			if (a && addr && strcmp(a, addr) == 0) {
				json_t *ref = json_pack("{s:O, s:O}", "runtime", json_object_get(d, "runtime"), "name", json_object_get(d, "name"));
				json_array_append_new(json_object_get(p, "runtime"), ref);
				json_object_set_new(d, "joined", json_true());
			}
		}
	}
	int cl_cpu = 0, cl_gpu = 0, cuda = 0;
	json_array_foreach(rt, j, d) {
		if (!json_is_true(json_object_get(d, "available"))) continue;
		const char *rn = json_string_value(json_object_get(d, "runtime")), *ty = json_string_value(json_object_get(d, "type"));
		if (strcmp(rn, "cuda") == 0) ++cuda;
		else if (ty && strcmp(ty, "cpu") == 0) ++cl_cpu;
		else ++cl_gpu;
	}
	r = json_object();
	json_object_set_new(r, "source", json_string(o->pci_dump ? o->pci_dump : "this machine"));
	json_object_set_new(r, "pci", pci);
	json_object_set_new(r, "runtimes", rt);
	if (o->selftest) json_object_set_new(r, "selftest", sq_devices_selftest(o->n_threads));
	json_object_set_new(r, "summary", json_pack("{s:i, s:i, s:i, s:i, s:i, s:i}", "pci_gpus", gpus, "pci_fpgas", fpgas,
	                                              "pci_accelerators", accels, "opencl_cpu_devices", cl_cpu,
	                                              "opencl_accelerator_devices", cl_gpu, "cuda_devices", cuda));
	return r;
}
