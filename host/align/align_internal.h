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

#endif
