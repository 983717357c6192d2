/* seqa — seeding on a device: selection (auto = cuda, else cpu) and dispatch to the driver's
 * seeding entries; see driver.h. */
#include <stdio.h>
#include <stdlib.h>

#include "driver.h"
#include "seqa/log.h"
#include "seqa/util.h"

struct sq_seeder_s {
	const sq_driver_t *drv;
	void *h;
	char name[200];
};

static sq_seeder_t *seeder_try(sq_dev_kind_t kind, const sq_fmi_t *f, const sq_smem_opt_t *o,
                               int n_threads, int quiet)
{
	const sq_driver_t *drv = sq_driver_of(kind);
	if (!drv) { sq_log_error("unknown seeding backend %d", (int)kind); return NULL; }
	if (!drv->seed) {
		if (!quiet) sq_log_error("backend '%s' has no seeding kernel (auto|cpu|opencl|cuda|ref)", drv->name);
		return NULL;
	}
	sq_seeder_t *s = sq_calloc(1, sizeof *s);
	if (!s) return NULL;
	s->drv = drv;
	if (!(s->h = drv->seed->open(f, o, n_threads < 1 ? 1 : n_threads, quiet, s->name, sizeof s->name))) {
		free(s);
		return NULL;
	}
	return s;
}

sq_seeder_t *sq_seeder_open(sq_dev_kind_t kind, const sq_fmi_t *f, const sq_smem_opt_t *o, int n_threads)
{
	if (kind != SQ_DEV_AUTO) return seeder_try(kind, f, o, n_threads, 0);
	sq_seeder_t *s = seeder_try(SQ_DEV_CUDA, f, o, n_threads, 1);
	return s ? s : seeder_try(SQ_DEV_CPU, f, o, n_threads, 0);
}

const char *sq_seeder_name(const sq_seeder_t *s) { return s->name; }
sq_dev_kind_t sq_seeder_kind(const sq_seeder_t *s) { return s->drv->kind; }

void sq_seeder_tune(sq_seeder_t *s, int64_t input_bytes)
{
	if (s->drv->seed->tune) s->drv->seed->tune(s->h, input_bytes);
}

int sq_seeder_smem(sq_seeder_t *s, const sq_smem_job_t *job) { return s->drv->seed->smem(s->h, job); }

int sq_seeder_sa(sq_seeder_t *s, int64_t n, const uint64_t *rows, uint64_t *out)
{
	return s->drv->seed->sa(s->h, n, rows, out);
}

void sq_seeder_close(sq_seeder_t *s)
{
	if (!s) return;
	s->drv->seed->close(s->h);
	free(s);
}
