/* seqa — the CUDA driver, host side: loads build/libseqa_cuda.so at run time (dlopen), so this
 * binary needs no CUDA libraries.  Search order: $SEQA_CUDA_LIB, <dir of the executable>/build/,
 * <dir of the executable>/../lib/seqa/.  Pairs the GPU kernel does not take (reads longer than
 * 512 bases, empty reads or haplotypes) are computed by the CPU kernels in the same call. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver.h"
#include "cuda/cuda_abi.h"
#include "seqa/log.h"
#include "seqa/util.h"

typedef struct {
	void *so;
	int  (*abi)(void);
	int  (*open)(char *, int);
	int  (*batch)(const sq_phmm_batch_t *, uint8_t *);
	void (*close)(void);
} cuda_lib_t;

static void *try_dlopen(const char *path, char *why, size_t cap)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) snprintf(why, cap, "%s", dlerror());
	return h;
}

/* dlopen libseqa_cuda.so from the search path; NULL with why[] set. */
static void *cuda_lib_open(char *why, size_t cap)
{
	char exe[PATH_MAX], cand[3][PATH_MAX + 64];
	int nc = 0;
	void *so = NULL;
	snprintf(why, cap, "libseqa_cuda.so not found");
	const char *env = getenv("SEQA_CUDA_LIB");
	if (env && *env) snprintf(cand[nc++], sizeof cand[0], "%s", env);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) *slash = 0;
		snprintf(cand[nc++], sizeof cand[0], "%s/build/libseqa_cuda.so", exe);
		snprintf(cand[nc++], sizeof cand[0], "%s/../lib/seqa/libseqa_cuda.so", exe);
	}
	for (int i = 0; i < nc && !so; ++i)
		if (access(cand[i], R_OK) == 0) so = try_dlopen(cand[i], why, cap);
	return so;
}

static int cuda_open(sq_dev_t *dev)
{
	char why[512], name[160];
	cuda_lib_t *L = calloc(1, sizeof *L);
	if (!L) return SQ_ENOMEM;
	if (!(L->so = cuda_lib_open(why, sizeof why))) goto unsupp;
	*(void **)&L->abi = dlsym(L->so, "sq_cuda_abi_version");
	*(void **)&L->open = dlsym(L->so, "sq_cuda_phmm_open");
	*(void **)&L->batch = dlsym(L->so, "sq_cuda_phmm_batch");
	*(void **)&L->close = dlsym(L->so, "sq_cuda_phmm_close");
	if (!L->abi || !L->open || !L->batch || !L->close || L->abi() != SQ_CUDA_ABI_VERSION) {
		snprintf(why, sizeof why, "libseqa_cuda.so has another ABI (want %d)", SQ_CUDA_ABI_VERSION);
		goto unsupp;
	}
	int rc = L->open(name, (int)sizeof name);
	if (rc < 0) {
		snprintf(why, sizeof why, "%s", name);
		if (rc != SQ_EUNSUPP) {
			sq_log_error("CUDA device open failed: %s", why);
			dlclose(L->so), free(L);
			return SQ_EDEVICE;
		}
		goto unsupp;
	}
	snprintf(dev->name, sizeof dev->name, "%s", name);
	for (char *c = dev->name; *c; ++c) if (*c == ' ') *c = '_';   /* one token in bench lines */
	dev->priv = L;
	return 0;
unsupp:
	if (dev->probing) sq_log_debug("CUDA backend unavailable: %s", why);
	else sq_log_error("CUDA backend unavailable: %s", why);
	if (L->so) dlclose(L->so);
	free(L);
	return SQ_EUNSUPP;
}

static int cuda_batch(sq_dev_t *dev, const sq_phmm_batch_t *b, int n_threads)
{
	cuda_lib_t *L = dev->priv;
	int64_t n = sq_phmm_batch_n_out(b), rest = 0;
	for (int64_t k = 0; b->pair_read && k < n; ++k)
		if (b->pair_read[k] < 0 || b->pair_read[k] >= b->n_reads || b->pair_hap[k] < 0 || b->pair_hap[k] >= b->n_haps) {
			sq_log_error("pair %lld out of range", (long long)k);
			return SQ_EINVAL;
		}
	uint8_t *done = calloc((size_t)(n ? n : 1), 1);
	if (!done) return SQ_ENOMEM;
	int rc = L->batch(b, done);
	if (rc < 0) { free(done); return SQ_EDEVICE; }
	for (int64_t k = 0; k < n; ++k) rest += !done[k];
	if (rest) {   /* the pairs the GPU kernel does not take: CPU kernels, same batch layout */
		int32_t *pr = malloc(sizeof *pr * (size_t)rest), *ph = malloc(sizeof *ph * (size_t)rest);
		double *out = malloc(sizeof *out * (size_t)rest);
		if (!pr || !ph || !out) { free(pr), free(ph), free(out), free(done); return SQ_ENOMEM; }
		int64_t m = 0;
		for (int64_t k = 0; k < n; ++k)
			if (!done[k]) {
				pr[m] = b->pair_read ? b->pair_read[k] : (int32_t)(k / b->n_haps);
				ph[m] = b->pair_read ? b->pair_hap[k] : (int32_t)(k % b->n_haps);
				++m;
			}
		sq_phmm_batch_t sub = *b;
		sub.pair_read = pr, sub.pair_hap = ph, sub.n_pairs = rest, sub.out = out;
		rc = sq_phmm_cpu_batch(&sub, n_threads);
		m = 0;
		for (int64_t k = 0; k < n && rc == 0; ++k) if (!done[k]) b->out[k] = out[m++];
		free(pr), free(ph), free(out);
	}
	free(done);
	return rc;
}

static void cuda_close(sq_dev_t *dev)
{
	cuda_lib_t *L = dev->priv;
	if (!L) return;
	L->close();
	dlclose(L->so);
	free(L);
	dev->priv = NULL;
}

const sq_driver_t sq_drv_cuda = { "cuda", SQ_DEV_CUDA, cuda_open, cuda_batch, cuda_close, &sq_seed_ops_cuda };

/* ---- seeding: drivers/cuda/smem_cuda.cu through the same library ---------------------------- */

typedef struct {
	void *so, *h;
	void *(*open)(const sq_fmi_t *, const sq_smem_opt_t *, char *, size_t);
	int   (*smem)(void *, const sq_smem_job_t *);
	int   (*sa)(void *, int64_t, const uint64_t *, uint64_t *);
	void  (*close)(void *);
} cuda_seed_t;

static void cuda_seed_close(void *p)
{
	cuda_seed_t *c = p;
	if (!c) return;
	if (c->h) c->close(c->h);
	if (c->so) dlclose(c->so);
	free(c);
}

static void *cuda_seed_open(const sq_fmi_t *f, const sq_smem_opt_t *o, int n_threads, int quiet, char *name, size_t len)
{
	char why[512];
	(void)n_threads;
	cuda_seed_t *c = calloc(1, sizeof *c);
	if (!c) { sq_log_error("out of memory"); return NULL; }
	if (!(c->so = cuda_lib_open(why, sizeof why))) goto unsupp;
	*(void **)&c->open = dlsym(c->so, "sq_smem_cuda_open");
	*(void **)&c->smem = dlsym(c->so, "sq_smem_cuda_smem");
	*(void **)&c->sa = dlsym(c->so, "sq_smem_cuda_sa");
	*(void **)&c->close = dlsym(c->so, "sq_smem_cuda_close");
	if (!c->open || !c->smem || !c->sa || !c->close) { snprintf(why, sizeof why, "libseqa_cuda.so lacks the seeding entries"); goto unsupp; }
	if (!(c->h = c->open(f, o, name, len))) { snprintf(why, sizeof why, "no usable CUDA device"); goto unsupp; }
	return c;
unsupp:
	if (quiet) sq_log_debug("CUDA seeding unavailable: %s", why);
	else sq_log_error("CUDA seeding unavailable: %s", why);
	cuda_seed_close(c);
	return NULL;
}

static int cuda_seed_smem(void *p, const sq_smem_job_t *job) { cuda_seed_t *c = p; return c->smem(c->h, job); }

static int cuda_seed_sa(void *p, int64_t n, const uint64_t *rows, uint64_t *out)
{
	cuda_seed_t *c = p;
	return c->sa(c->h, n, rows, out);
}

const sq_seed_ops_t sq_seed_ops_cuda = { cuda_seed_open, cuda_seed_smem, cuda_seed_sa, NULL, cuda_seed_close };
