/* seqa serve — the daemon's life cycle: start, serve, stop; see seqa/server.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "seqa/devices.h"
#include "seqa/durable.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "server_internal.h"

struct sq_srv_s {
	const sq_srv_conf_t *c;
	sq_srv_ctx_t ctx;
	sq_srv_db_t *db;
	sq_srv_sched_t *sched;
	sq_srv_http_t *http;
	sq_srv_watch_t *watch;
	int port;
	volatile sig_atomic_t stop, reopen;
};

static int open_log(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0) { sq_log_error("cannot open log file '%s': %s", path, strerror(errno)); return SQ_EOUTPUT; }
	fflush(stderr);
	if (dup2(fd, 2) < 0) { close(fd); return SQ_EOUTPUT; }
	close(fd);
	return 0;
}

static int watch_submit(void *arg, const json_t *batch, const char *client, const char *run_folder,
                        char **batch_id, json_t **problems)
{
	sq_srv_ctx_t *ctx = arg;
	json_t *resp = NULL;
	int st = sq_srv_api_submit(ctx, batch, run_folder, client, run_folder, &resp);
	*batch_id = NULL;
	*problems = NULL;
	if (st == 200 || st == 201) *batch_id = strdup(sq_srv_jstr(resp, "id") ? sq_srv_jstr(resp, "id") : "");
	else *problems = json_incref(json_object_get(resp, "problems"));
	json_decref(resp);
	return st;
}

sq_srv_t *sq_srv_start(const sq_srv_conf_t *c)
{
	sq_srv_t *s = sq_calloc(1, sizeof *s);
	char path[PATH_MAX];
	if (!s) return NULL;
	s->c = c;
	if (c->log_file && open_log(c->log_file) < 0) goto fail;
	if (sq_mkdir_p(c->data_dir, 0750) < 0) goto fail;
	snprintf(path, sizeof path, "%s/logs", c->data_dir);
	if (sq_mkdir_p(path, 0750) < 0) goto fail;
	if (c->db_path) snprintf(path, sizeof path, "%s", c->db_path);
	else snprintf(path, sizeof path, "%s/seqa.db", c->data_dir);
	if (!(s->db = sq_srv_db_open(path))) goto fail;
	s->ctx.conf = c;
	s->ctx.db = s->db;
	s->ctx.t_start = (double)time(NULL);
	pthread_mutex_init(&s->ctx.dev_lock, NULL);
	{
		/* the device view is taken once at start (the self-test only when configured) */
		sq_devices_opt_t o;
		sq_devices_opt_init(&o);
		o.selftest = c->selftest_on_start;
		s->ctx.devices = sq_devices_scan(&o);
	}
	if (!(s->sched = sq_srv_sched_start(c, s->db))) goto fail;
	s->ctx.sched = s->sched;
	if (!(s->http = sq_srv_http_start(&s->ctx, &s->port))) goto fail;
	if (c->port_file) {
		char b[32];
		int n = snprintf(b, sizeof b, "%d\n", s->port);
		if (sq_durable_write(c->port_file, b, (size_t)n) < 0) goto fail;
	}
	if (c->n_watch_dirs > 0 && !(s->watch = sq_srv_watch_start(c, s->db, watch_submit, &s->ctx))) goto fail;
	sq_log_info("seqa serve ready: port %d, data %s, %d accelerator slot(s), %d CPU slot(s), %d watched folder(s), %d client(s)",
	            s->port, c->data_dir, c->n_gpus, c->cpu_slots, c->n_watch_dirs, c->n_tokens);
	return s;
fail:
	sq_srv_destroy(s);
	return NULL;
}

int sq_srv_port(const sq_srv_t *s) { return s->port; }

void sq_srv_stop(sq_srv_t *s) { s->stop = 1; }
void sq_srv_reopen_log(sq_srv_t *s) { s->reopen = 1; }

int sq_srv_run(sq_srv_t *s)
{
	while (!s->stop) {
		struct timespec ts = { 0, 200 * 1000000L };
		nanosleep(&ts, NULL);
		if (s->reopen) {
			s->reopen = 0;
			if (s->c->log_file && open_log(s->c->log_file) == 0) sq_log_info("log file reopened");
		}
	}
	sq_log_info("stopping: running jobs are re-queued and resume at the next start");
	return 0;
}

void sq_srv_destroy(sq_srv_t *s)
{
	if (!s) return;
	sq_srv_watch_stop(s->watch);
	sq_srv_http_stop(s->http);
	sq_srv_sched_stop(s->sched);
	sq_srv_db_close(s->db);
	json_decref(s->ctx.devices);
	pthread_mutex_destroy(&s->ctx.dev_lock);
	free(s);
}
