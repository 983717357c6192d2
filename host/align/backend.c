/* seqa — the aligner's view of libbwa's FM index, and its seeding device chosen by name.  The
 * seeding kernels run behind the drivers (drivers/driver.h: sq_seeder_*), like the pair-HMM. */
#include <string.h>
#include "align_internal.h"
#include "seqa/log.h"
#include "seqa/util.h"

void sq_aln_fmi_view(const bwt_t *bwt, sq_fmi_t *f)
{
	memset(f, 0, sizeof *f);
	f->bwt = bwt->bwt;
	f->bwt_size = bwt->bwt_size;
	f->primary = bwt->primary;
	f->seq_len = bwt->seq_len;
	for (int i = 0; i < 5; ++i) f->L2[i] = bwt->L2[i];
	f->sa = bwt->sa;
	f->n_sa = bwt->n_sa;
	f->sa_intv = bwt->sa_intv;
}

sq_seeder_t *sq_aln_seeder_open(const char *name, const sq_fmi_t *f, const sq_smem_opt_t *o, int n_threads)
{
	sq_dev_kind_t kind;
	if (sq_dev_parse_kind(name, &kind) < 0) {
		sq_log_error("unknown seeding backend '%s' (auto|cpu|opencl|cuda|ref)", name);
		return NULL;
	}
	return sq_seeder_open(kind, f, o, n_threads);
}
