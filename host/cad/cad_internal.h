/* seqa — private helpers shared by the files of host/cad (not a public interface). */
#ifndef SEQA_CAD_INTERNAL_H
#define SEQA_CAD_INTERNAL_H

#include "seqa/cad.h"

/** Run SQL on the outbox database; 0 or SQ_EOUTPUT (logged). */
int sq_cad_sql(sq_cad_outbox_t *ob, const char *sql);

/** Only one process drains an outbox at a time: flock on <db>.push.lock (released by the
 *  kernel if the holder dies).  1 held, 0 held by another process, < -1 error. */
int sq_cad_outbox_drain_lock(sq_cad_outbox_t *ob);
void sq_cad_outbox_drain_unlock(sq_cad_outbox_t *ob);

#endif
