/* seqa — private helpers shared by the files of host/cad (not a public interface). */
#ifndef SEQA_CAD_INTERNAL_H
#define SEQA_CAD_INTERNAL_H

#include "seqa/cad.h"

/** Run SQL on the outbox database; 0 or SQ_EOUTPUT (logged). */
int sq_cad_sql(sq_cad_outbox_t *ob, const char *sql);

#endif
