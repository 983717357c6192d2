/* seqa — threads.
 *
 * sq_for: run func(data, i, tid) for i in [0,n) on n_threads threads (work stealing by an
 * atomic counter; tid in [0,n_threads)).  The result must not depend on which thread ran i.
 *
 * sq_pool: a fixed pool with a FIFO queue for long-lived services (daemon, uploader).
 */
#ifndef SEQA_THPOOL_H
#define SEQA_THPOOL_H

#include <stdint.h>

typedef void (*sq_for_f)(void *data, int64_t i, int tid);
/** Blocks until all n items are done.  n_threads <= 1 runs inline.  0, or SQ_ENOMEM. */
int sq_for(int n_threads, sq_for_f func, void *data, int64_t n);

typedef struct sq_pool_s sq_pool_t;
typedef void (*sq_task_f)(void *arg);
/** NULL on error. */
sq_pool_t *sq_pool_create(int n_threads);
/** Queue a task; 0 or SQ_ENOMEM. */
int  sq_pool_submit(sq_pool_t *p, sq_task_f fn, void *arg);
/** Wait until the queue is empty and all workers idle. */
void sq_pool_wait(sq_pool_t *p);
/** Finish queued tasks, join threads, free. */
void sq_pool_destroy(sq_pool_t *p);

/** Number of online CPUs (>=1). */
int sq_ncpu(void);

#endif
