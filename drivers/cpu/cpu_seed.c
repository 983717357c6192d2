/* seqa — CPU seeding: the batched kernels of kernels/cpu/ over sq_for threads, on bwa's index
 * plus a one-hot occurrence layout (POPCNT CPUs) and, for inputs that are not tiny next to the
 * genome, a denser suffix-array sample.  The reference driver's seeding (kernels/ref) is here
 * too: it is the same shape, single-threaded. */
#include <stdio.h>
#include <stdlib.h>

#include "driver.h"
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"

typedef struct {
	int ref;                    /* kernels/ref instead of kernels/cpu */
	sq_fmi_t f;                 /* the caller's view plus our layouts */
	uint64_t *occ64;
	uint32_t *sa_dense;
	sq_smem_opt_t o;
	int n_threads;
} cpu_seed_t;

static void *seed_open(int ref, const sq_fmi_t *f, const sq_smem_opt_t *o, int n_threads, char *name, size_t len)
{
	cpu_seed_t *c = sq_calloc(1, sizeof *c);
	if (!c) return NULL;
	c->ref = ref; c->f = *f; c->o = *o; c->n_threads = n_threads;
	snprintf(name, len, "%s", ref ? "ref" : "cpu");
	if (!ref && sq_smem_cpu_ok() && !f->occ64 && !getenv("SEQA_CPU_OCC_BWA")) {
		if (!(c->occ64 = sq_fmi_occ64_build(f))) { free(c); sq_log_error("out of memory for the occurrence table"); return NULL; }
		c->f.occ64 = c->occ64;
	}
	return c;
}

static void *cpu_seed_open(const sq_fmi_t *f, const sq_smem_opt_t *o, int n_threads, int quiet, char *name, size_t len)
{
	(void)quiet;
	return seed_open(0, f, o, n_threads, name, len);
}

static void *ref_seed_open(const sq_fmi_t *f, const sq_smem_opt_t *o, int n_threads, int quiet, char *name, size_t len)
{
	(void)quiet;
	return seed_open(1, f, o, n_threads, name, len);
}

typedef struct { cpu_seed_t *c; uint64_t chunk; int intv; } dense_for_t;

static void dense_for(void *data, int64_t i, int tid)
{
	dense_for_t *d = data;
	(void)tid;
	sq_fmi_sa_dense_fill(&d->c->f, d->c->sa_dense, d->intv, (uint64_t)i * d->chunk, (uint64_t)(i + 1) * d->chunk);
}

/* Suffix-array samples every 8 rows instead of bwa's 32: about 4x fewer LF steps per seed,
 * for 4 bytes per 8 rows (built once per run in ~seq_len LF steps over all threads).  The
 * sample costs ~seq_len LF steps and saves ~12 per seed: worth it when the reads (on-disk
 * FASTQ bytes, compressed or not) are not tiny next to the genome. */
static void cpu_seed_tune(void *h, int64_t input_bytes)
{
	cpu_seed_t *c = h;
	const int intv = 8;
	if (c->ref || !c->occ64 || c->sa_dense || input_bytes <= (int64_t)(c->f.seq_len / 2) || getenv("SEQA_CPU_SA_BWA"))
		return;
	if (!(c->sa_dense = sq_fmi_sa_dense_alloc(&c->f, intv))) return;
	dense_for_t d = { c, 4096, intv };
	double t0 = sq_realtime();
	if (sq_for(c->n_threads, dense_for, &d, (int64_t)((c->f.n_sa + d.chunk - 1) / d.chunk)) < 0) {
		free(c->sa_dense); c->sa_dense = NULL;
		return;
	}
	c->f.sa_dense = c->sa_dense;
	c->f.sa_dense_intv = intv;
	sq_log_debug("dense suffix-array sample (every %d rows) built in %.2f s", intv, sq_realtime() - t0);
}

typedef struct { const cpu_seed_t *c; const sq_smem_job_t *job; int64_t chunk; } smem_for_t;

static void smem_for(void *data, int64_t i, int tid)
{
	smem_for_t *d = data;
	(void)tid;
	int64_t i0 = i * d->chunk, i1 = i0 + d->chunk;
	if (i1 > d->job->n_reads) i1 = d->job->n_reads;
	sq_smem_cpu_batch(&d->c->f, &d->c->o, d->job, i0, i1);
}

static int cpu_seed_smem(void *h, const sq_smem_job_t *job)
{
	cpu_seed_t *c = h;
	if (c->ref) return sq_smem_ref_batch(&c->f, &c->o, job);
	smem_for_t d = { c, job, 64 };
	return sq_for(c->n_threads, smem_for, &d, (job->n_reads + d.chunk - 1) / d.chunk);
}

typedef struct { const sq_fmi_t *f; const uint64_t *rows; uint64_t *out; int64_t n, chunk; } sa_for_t;

static void sa_for(void *data, int64_t i, int tid)
{
	sa_for_t *d = data;
	(void)tid;
	int64_t i0 = i * d->chunk, n = d->n - i0 < d->chunk ? d->n - i0 : d->chunk;
	sq_sa_cpu_batch(d->f, n, d->rows + i0, d->out + i0);
}

static int cpu_seed_sa(void *h, int64_t n, const uint64_t *rows, uint64_t *out)
{
	cpu_seed_t *c = h;
	if (c->ref) { sq_sa_ref_batch(&c->f, n, rows, out); return 0; }
	sa_for_t d = { &c->f, rows, out, n, 4096 };
	return sq_for(c->n_threads, sa_for, &d, (n + d.chunk - 1) / d.chunk);
}

static void cpu_seed_close(void *h)
{
	cpu_seed_t *c = h;
	if (!c) return;
	free(c->occ64);
	free(c->sa_dense);
	free(c);
}

const sq_seed_ops_t sq_seed_ops_cpu = { cpu_seed_open, cpu_seed_smem, cpu_seed_sa, cpu_seed_tune, cpu_seed_close };
const sq_seed_ops_t sq_seed_ops_ref = { ref_seed_open, cpu_seed_smem, cpu_seed_sa, NULL, cpu_seed_close };
