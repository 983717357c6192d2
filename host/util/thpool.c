/* seqa — sq_for (kt_for-style parallel loop) and a small FIFO thread pool; see seqa/thpool.h. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include "seqa/thpool.h"
#include "seqa/util.h"
#include "seqa/log.h"

int sq_ncpu(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

/* ---- sq_for ----------------------------------------------------------------------- */

typedef struct {
	sq_for_f func;
	void *data;
	int64_t n;
	_Atomic int64_t next;
} for_shared_t;

typedef struct { for_shared_t *s; int tid; } for_arg_t;

static void *for_worker(void *p)
{
	for_arg_t *a = p;
	for (;;) {
		int64_t i = atomic_fetch_add(&a->s->next, 1);
		if (i >= a->s->n) break;
		a->s->func(a->s->data, i, a->tid);
	}
	return 0;
}

int sq_for(int n_threads, sq_for_f func, void *data, int64_t n)
{
	if (n_threads <= 1 || n <= 1) {
		for (int64_t i = 0; i < n; ++i) func(data, i, 0);
		return 0;
	}
	for_shared_t s = { func, data, n, 0 };
	pthread_t *th = sq_calloc((size_t)n_threads, sizeof *th);
	for_arg_t *args = sq_calloc((size_t)n_threads, sizeof *args);
	int started = 0;
	if (!th || !args) { free(th); free(args); return SQ_ENOMEM; }
	for (int t = 1; t < n_threads; ++t) {
		args[t].s = &s, args[t].tid = t;
		if (pthread_create(&th[t], 0, for_worker, &args[t]) != 0) break;
		++started;
	}
	args[0].s = &s, args[0].tid = 0;
	for_worker(&args[0]); /* the caller works too */
	for (int t = 1; t <= started; ++t) pthread_join(th[t], 0);
	free(th), free(args);
	return 0;
}

/* ---- sq_pool ---------------------------------------------------------------------- */

typedef struct task_s { sq_task_f fn; void *arg; struct task_s *next; } task_t;

struct sq_pool_s {
	pthread_mutex_t mu;
	pthread_cond_t cv_task, cv_idle;
	task_t *head, *tail;
	int n_threads, n_busy, stop;
	pthread_t *th;
};

static void *pool_worker(void *p)
{
	sq_pool_t *pl = p;
	pthread_mutex_lock(&pl->mu);
	for (;;) {
		while (!pl->head && !pl->stop) pthread_cond_wait(&pl->cv_task, &pl->mu);
		if (!pl->head && pl->stop) break;
		task_t *t = pl->head;
		pl->head = t->next;
		if (!pl->head) pl->tail = 0;
		++pl->n_busy;
		pthread_mutex_unlock(&pl->mu);
		t->fn(t->arg);
		free(t);
		pthread_mutex_lock(&pl->mu);
		--pl->n_busy;
		if (!pl->head && pl->n_busy == 0) pthread_cond_broadcast(&pl->cv_idle);
	}
	pthread_mutex_unlock(&pl->mu);
	return 0;
}

sq_pool_t *sq_pool_create(int n_threads)
{
	sq_pool_t *p = sq_calloc(1, sizeof *p);
	if (!p) return 0;
	if (n_threads < 1) n_threads = 1;
	pthread_mutex_init(&p->mu, 0);
	pthread_cond_init(&p->cv_task, 0);
	pthread_cond_init(&p->cv_idle, 0);
	p->th = sq_calloc((size_t)n_threads, sizeof *p->th);
	if (!p->th) { free(p); return 0; }
	for (int i = 0; i < n_threads; ++i) {
		if (pthread_create(&p->th[i], 0, pool_worker, p) != 0) {
			sq_log_error("cannot start thread %d", i);
			break;
		}
		++p->n_threads;
	}
	if (p->n_threads == 0) { free(p->th); free(p); return 0; }
	return p;
}

int sq_pool_submit(sq_pool_t *p, sq_task_f fn, void *arg)
{
	task_t *t = sq_malloc(sizeof *t);
	if (!t) return SQ_ENOMEM;
	t->fn = fn, t->arg = arg, t->next = 0;
	pthread_mutex_lock(&p->mu);
	if (p->tail) p->tail->next = t; else p->head = t;
	p->tail = t;
	pthread_cond_signal(&p->cv_task);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

void sq_pool_wait(sq_pool_t *p)
{
	pthread_mutex_lock(&p->mu);
	while (p->head || p->n_busy) pthread_cond_wait(&p->cv_idle, &p->mu);
	pthread_mutex_unlock(&p->mu);
}

void sq_pool_destroy(sq_pool_t *p)
{
	if (!p) return;
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->cv_task);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n_threads; ++i) pthread_join(p->th[i], 0);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv_task);
	pthread_cond_destroy(&p->cv_idle);
	free(p->th);
	free(p);
}
