/* seqa — private helpers shared by host/ref/ files. */
#ifndef SEQA_REF_INTERNAL_H
#define SEQA_REF_INTERNAL_H

#include "seqa/ref.h"

/** As sq_ref_read_ann / sq_ref_load, logging nothing when quiet (the caller decides). */
sq_ref_t *sq_ref_read_ann_q(const char *prefix, int quiet);
sq_ref_t *sq_ref_load_q(const char *prefix, int quiet);

#endif
