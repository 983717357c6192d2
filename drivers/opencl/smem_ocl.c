/* placeholder replaced below */
#include <stddef.h>
#include "../../host/align/align_internal.h"
#include "seqa/log.h"
void *sq_smem_ocl_open(const sq_fmi_t *f, const sq_smem_opt_t *o, char *name, size_t name_len)
{ (void)f; (void)o; (void)name; (void)name_len; sq_log_error("OpenCL seeding not built"); return NULL; }
int sq_smem_ocl_smem(void *h, const sq_smem_job_t *job) { (void)h; (void)job; return -7; }
int sq_smem_ocl_sa(void *h, int64_t n, const uint64_t *rows, uint64_t *out) { (void)h; (void)n; (void)rows; (void)out; return -7; }
void sq_smem_ocl_close(void *h) { (void)h; }
