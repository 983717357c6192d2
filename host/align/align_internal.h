/* seqa — alignment internals shared by the host/align sources and its tests (not public). */
#ifndef SEQA_ALIGN_INTERNAL_H
#define SEQA_ALIGN_INTERNAL_H

#include <stdint.h>
#include <bwa/bwt.h>
#include "smem.h"
#include "driver.h"

/** Fill a kernel view of libbwa's loaded FM index (no copy; bwt must outlive f). */
void sq_aln_fmi_view(const bwt_t *bwt, sq_fmi_t *f);

/* ---- seeding: on a device through the drivers (drivers/driver.h) ------------------------- */

/** Open the seeding device by name: "ref", "cpu", "opencl", "cuda", or "auto" (cuda, else
 *  cpu).  The index view is uploaded to the device here.  NULL when unavailable (logged). */
sq_seeder_t *sq_aln_seeder_open(const char *name, const sq_fmi_t *f, const sq_smem_opt_t *o, int n_threads);

/* Transitional names used by core.c/align.c (same objects). */
typedef sq_seeder_t sq_seed_backend_t;
static inline sq_seed_backend_t *sq_seed_backend_open(const char *name, const sq_fmi_t *f, const sq_smem_opt_t *o, int n_threads)
{ return sq_aln_seeder_open(name, f, o, n_threads); }
static inline void sq_seed_backend_tune(sq_seed_backend_t *be, int64_t input_bytes) { sq_seeder_tune(be, input_bytes); }
static inline const char *sq_seed_backend_name(const sq_seed_backend_t *be) { return sq_seeder_name(be); }
static inline const char *sq_seed_backend_kind(const sq_seed_backend_t *be) { return sq_dev_kind_name(sq_seeder_kind(be)); }
static inline int sq_seed_backend_smem(sq_seed_backend_t *be, const sq_smem_job_t *job) { return sq_seeder_smem(be, job); }
static inline int sq_seed_backend_sa(sq_seed_backend_t *be, int64_t n, const uint64_t *rows, uint64_t *out) { return sq_seeder_sa(be, n, rows, out); }
static inline void sq_seed_backend_close(sq_seed_backend_t *be) { sq_seeder_close(be); }

#endif
