/* seqa — device selection, the reference driver and the CPU fallback; see driver.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"

static const char *kind_names[] = { "auto", "ref", "cpu", "opencl", "cuda", "fpga" };

int sq_dev_parse_kind(const char *s, sq_dev_kind_t *kind)
{
	for (int k = 0; k < (int)(sizeof kind_names / sizeof *kind_names); ++k)
		if (s && strcmp(s, kind_names[k]) == 0) { *kind = (sq_dev_kind_t)k; return 0; }
	return SQ_EINVAL;
}

const char *sq_dev_kind_name(sq_dev_kind_t kind)
{
	return (unsigned)kind < sizeof kind_names / sizeof *kind_names ? kind_names[kind] : "?";
}

const sq_driver_t *sq_driver_of(sq_dev_kind_t kind)
{
	switch (kind) {
	case SQ_DEV_REF: return &sq_drv_ref;
	case SQ_DEV_CPU: return &sq_drv_cpu;
	case SQ_DEV_OPENCL: return &sq_drv_opencl;
	case SQ_DEV_CUDA: return &sq_drv_cuda;
	case SQ_DEV_FPGA: return &sq_drv_fpga;
	default: return NULL;
	}
}

/* quiet: auto-probing (absence is not an error). */
static sq_dev_t *dev_try(sq_dev_kind_t kind, int quiet)
{
	sq_dev_t *dev = calloc(1, sizeof *dev);
	if (!dev) { sq_log_error("out of memory"); return NULL; }
	dev->drv = sq_driver_of(kind);
	dev->probing = quiet;
	int rc = dev->drv->open(dev);
	if (rc < 0) {
		if (!quiet) sq_log_error("backend '%s' is not available here", dev->drv->name);
		free(dev);
		return NULL;
	}
	dev->probing = 0;
	return dev;
}

sq_dev_t *sq_dev_open(sq_dev_kind_t kind)
{
	if (kind != SQ_DEV_AUTO) {
		if (!sq_driver_of(kind)) { sq_log_error("unknown backend %d", (int)kind); return NULL; }
		return dev_try(kind, 0);
	}
	static const sq_dev_kind_t order[] = { SQ_DEV_CUDA, SQ_DEV_OPENCL, SQ_DEV_FPGA };
	for (size_t i = 0; i < sizeof order / sizeof *order; ++i) {
		sq_dev_t *dev = dev_try(order[i], 1);
		if (dev) { sq_log_info("auto backend: %s", dev->name); return dev; }
	}
	return dev_try(SQ_DEV_CPU, 0);
}

void sq_dev_close(sq_dev_t *dev)
{
	if (!dev) return;
	if (dev->drv && dev->drv->close) dev->drv->close(dev);
	free(dev);
}

const char *sq_dev_name(const sq_dev_t *dev) { return dev ? dev->name : "cpu"; }

int sq_phmm_run(sq_dev_t *dev, const sq_phmm_batch_t *b, int n_threads)
{
	if (n_threads <= 0) n_threads = sq_ncpu();
	if (!b || !b->out) { sq_log_error("no batch"); return SQ_EINVAL; }
	if (!dev) return sq_phmm_cpu_batch(b, n_threads);
	int rc = dev->drv->phmm_batch ? dev->drv->phmm_batch(dev, b, n_threads) : SQ_EUNSUPP;
	if (rc == 0 || rc == SQ_EINVAL || dev->drv->kind == SQ_DEV_CPU || dev->drv->kind == SQ_DEV_REF)
		return rc;
	dev->n_fallbacks++;
	sq_log_warn("%s failed on a pair-HMM batch (%d); re-running it on the CPU", dev->name, rc);
	return sq_phmm_cpu_batch(b, n_threads);
}

/* ---- reference driver ---------------------------------------------------------------------- */

typedef struct { const sq_phmm_batch_t *b; } ref_job_t;

static void ref_one(void *data, int64_t k, int tid)
{
	(void)tid;
	const sq_phmm_batch_t *b = ((ref_job_t *)data)->b;
	int32_t r = b->pair_read ? b->pair_read[k] : (int32_t)(k / b->n_haps);
	int32_t h = b->pair_read ? b->pair_hap[k] : (int32_t)(k % b->n_haps);
	int32_t ro = b->read_off[r], ho = b->hap_off[h];
	b->out[k] = sq_phmm_ref_one(b->hap_seq + ho, b->hap_off[h + 1] - ho, b->read_seq + ro,
	                            b->read_off[r + 1] - ro, b->base_q + ro, b->ins_q + ro,
	                            b->del_q + ro, b->gcp + ro);
}

static int ref_open(sq_dev_t *dev) { snprintf(dev->name, sizeof dev->name, "ref"); dev->priv = NULL; return 0; }

static int ref_batch(sq_dev_t *dev, const sq_phmm_batch_t *b, int n_threads)
{
	(void)dev;
	int64_t n = sq_phmm_batch_n_out(b);
	if (n_threads <= 1) return sq_phmm_ref_batch(b);
	for (int64_t k = 0; k < (b->pair_read ? n : 0); ++k)
		if (b->pair_read[k] < 0 || b->pair_read[k] >= b->n_reads || b->pair_hap[k] < 0 || b->pair_hap[k] >= b->n_haps) {
			sq_log_error("pair %lld out of range", (long long)k);
			return SQ_EINVAL;
		}
	ref_job_t job = { b };
	return sq_for(n_threads, ref_one, &job, n);
}

const sq_driver_t sq_drv_ref = { "ref", SQ_DEV_REF, ref_open, ref_batch, NULL, &sq_seed_ops_ref };
