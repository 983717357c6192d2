/* seqa serve — the scheduler: job slots on devices, child processes, the outbox pusher.
 *
 * Slots: one per configured accelerator ("cuda:0", "opencl:1", "fpga:0": one job at a time on
 * each) plus cpu_slots CPU slots running beside them.  A queued job takes a free accelerator
 * slot first, else a free CPU slot.
 *
 * Each job runs as `seqa run ...` (the [pipeline] run_args template) in its own process group,
 * with PR_SET_PDEATHSIG so it dies with the daemon: after a crash nothing keeps writing into
 * the job folder, the job is re-queued at start-up and the rerun resumes at the first stage
 * without a valid record.  Cancellation is SIGTERM to the group, then SIGKILL after a grace
 * period.  Progress comes from the stage records the pipeline writes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "seqa/cli.h"
#include "seqa/durable.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "server_internal.h"

extern char **environ;

struct sq_srv_sched_s {
	const sq_srv_conf_t *c;
	sq_srv_db_t *db;
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cv;
	int stop, kicked, running;
	sq_srv_slot_t *slots;
	int n_slots;
	pid_t push_pid;
	double next_push;
	long long push_failures, push_runs;
	pthread_mutex_t ob_lock;
	json_t *ob_cache;
	double ob_time;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *self_exe(const sq_srv_conf_t *c)
{
	static char exe[PATH_MAX];
	if (c->seqa_bin) return c->seqa_bin;
	if (!exe[0]) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n <= 0) snprintf(exe, sizeof exe, "seqa");
		else exe[n] = 0;
	}
	return exe;
}

/* The daemon's own binary: outbox listing, pushing and queueing use it, whatever runs the jobs. */
static const char *own_exe(void)
{
	static char exe[PATH_MAX];
	if (!exe[0]) {
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		if (n <= 0) snprintf(exe, sizeof exe, "seqa");
		else exe[n] = 0;
	}
	return exe;
}

/* ---- child processes -------------------------------------------------------------------- */

/* fork + exec argv with stdout/stderr to log_fd (or a pipe), in a new process group, dying
 * with the parent.  Only async-signal-safe calls between fork and exec. */
static pid_t spawn(const char *prog, char *const argv[], char *const envp[], int out_fd, int err_fd)
{
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) { sq_log_error("fork: %s", strerror(errno)); return -1; }
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent) _exit(127);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) dup2(nul, 0);
		dup2(out_fd >= 0 ? out_fd : nul, 1);
		dup2(err_fd >= 0 ? err_fd : nul, 2);
		for (int fd = 3; fd < 1024; ++fd) close(fd);
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execve(prog, argv, envp);
		_exit(127);
	}
	setpgid(pid, pid); /* also from the parent, so a kill(-pid) right after works */
	return pid;
}

int sq_srv_capture(const char *prog, char *const argv[], double timeout_s, char **out, size_t cap)
{
	int fd[2];
	size_t n = 0;
	char *buf = malloc(cap + 1);
	int status = 0, ret;
	*out = NULL;
	if (!buf) return SQ_ENOMEM;
	if (pipe2(fd, O_CLOEXEC) != 0) { free(buf); return SQ_EIO; }
	pid_t pid = spawn(prog, argv, environ, fd[1], -1);
	close(fd[1]);
	if (pid < 0) { close(fd[0]); free(buf); return SQ_EIO; }
	double t_end = now_s() + timeout_s;
	for (;;) {
		struct pollfd p = { fd[0], POLLIN, 0 };
		int left = (int)((t_end - now_s()) * 1000);
		if (left <= 0) { kill(-pid, SIGKILL); break; }
		if (poll(&p, 1, left) <= 0) continue;
		char tmp[8192];
		ssize_t r = read(fd[0], tmp, sizeof tmp);
		if (r <= 0) break;
		if (n < cap) { size_t k = (size_t)r < cap - n ? (size_t)r : cap - n; memcpy(buf + n, tmp, k); n += k; }
	}
	close(fd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
	buf[n] = 0;
	*out = buf;
	ret = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return ret;
}

/* ---- argv templates --------------------------------------------------------------------- */

/* Replace {name} placeholders in t.  Unknown names are kept as written. */
static char *subst(const char *t, const json_t *vars)
{
	size_t cap = strlen(t) + 256, n = 0;
	char *o = malloc(cap);
	if (!o) return NULL;
	while (*t) {
		const char *v = NULL, *close = NULL;
		if (*t == '{' && (close = strchr(t, '}')) && close - t < 40) {
			char key[48];
			memcpy(key, t + 1, (size_t)(close - t - 1));
			key[close - t - 1] = 0;
			v = sq_srv_jstr(vars, key);
		}
		size_t add = v ? strlen(v) : 1;
		if (n + add + 1 > cap) {
			cap = (n + add + 1) * 2;
			char *no = realloc(o, cap);
			if (!no) { free(o); return NULL; }
			o = no;
		}
		if (v) { memcpy(o + n, v, add); n += add; t = close + 1; }
		else o[n++] = *t++;
	}
	o[n] = 0;
	return o;
}

/* ---- job start / finish ----------------------------------------------------------------- */

/* Template variables of a job on a slot (new reference). */
static json_t *job_vars(const sq_srv_conf_t *c, const json_t *spec, const char *sample, const char *outdir,
                        const char *batch, const sq_srv_slot_t *sl)
{
	char thr[16], batchp[PATH_MAX];
	json_t *vars = json_deep_copy(spec);
	snprintf(thr, sizeof thr, "%d", c->threads);
	snprintf(batchp, sizeof batchp, "%s.batch.json", outdir);
	json_object_set_new(vars, "sample", json_string(sample));
	json_object_set_new(vars, "outdir", json_string(outdir));
	json_object_set_new(vars, "threads", json_string(thr));
	json_object_set_new(vars, "backend", json_string(sl->backend));
	json_object_set_new(vars, "device", json_string(sl->name));
	json_object_set_new(vars, "batch_file", json_string(batchp));
	json_object_set_new(vars, "batch", json_string(batch));
	json_object_set_new(vars, "data_dir", json_string(c->data_dir));
	return vars;
}

/* After a successful run: queue the delivery (enqueue_args) in the same slot.  0 or < -1. */
static int start_enqueue(sq_srv_sched_t *s, sq_srv_slot_t *sl)
{
	const sq_srv_conf_t *c = s->c;
	json_t *job = sq_srv_db_job(s->db, sl->job), *vars;
	char logp[PATH_MAX], **argv;
	int fd;
	pid_t pid;
	if (!job) return SQ_EIO;
	vars = job_vars(c, json_object_get(job, "spec"), sq_srv_jstr(job, "sample"), sq_srv_jstr(job, "outdir"),
	                sq_srv_jstr(job, "batch"), sl);
	argv = calloc((size_t)c->n_enqueue_args + 2, sizeof *argv);
	if (!argv) { json_decref(vars); json_decref(job); return SQ_ENOMEM; }
	argv[0] = strdup(own_exe());
	for (int i = 0; i < c->n_enqueue_args; ++i) argv[i + 1] = subst(c->enqueue_args[i], vars);
	snprintf(logp, sizeof logp, "%s/logs/job-%lld.log", c->data_dir, sl->job);
	fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd >= 0) {
		char hdr[256];
		int k = snprintf(hdr, sizeof hdr, "# seqa serve: job %lld: queueing the delivery\n", sl->job);
		if (write(fd, hdr, (size_t)k) < 0) { /* best effort */ }
	}
	pid = spawn(argv[0], argv, environ, fd, fd);
	if (fd >= 0) close(fd);
	sq_srv_strv_free(argv);
	json_decref(vars);
	json_decref(job);
	if (pid < 0) return SQ_EIO;
	sl->pid = pid;
	sl->phase = 1;
	sq_srv_db_progress(s->db, sl->job, "enqueue", 100);
	sq_srv_db_set_pid(s->db, sl->job, pid);
	return 0;
}

static int start_job(sq_srv_sched_t *s, sq_srv_slot_t *sl)
{
	const sq_srv_conf_t *c = s->c;
	sq_srv_jobrow_t j;
	char logp[PATH_MAX], batchp[PATH_MAX], **argv = NULL, **envp = NULL;
	int r = sq_srv_db_claim(s->db, sl->name, &j), logfd = -1, n_env = 0;
	json_t *vars = NULL;
	if (r != 0) return r;
	snprintf(logp, sizeof logp, "%s/logs", c->data_dir);
	sq_mkdir_p(logp, 0750);
	snprintf(logp, sizeof logp, "%s/logs/job-%lld.log", c->data_dir, j.id);
	if (sq_mkdir_p(j.outdir, 0750) < 0) goto fail;
	/* the sample as a one-sample JSON batch, for run_args templates that want {batch_file} */
	snprintf(batchp, sizeof batchp, "%s.batch.json", j.outdir);
	{
		json_t *one = json_deep_copy(j.spec);
		json_object_del(one, "reference");
		json_t *b = json_pack("{s:i, s:[o]}", "seqa_batch", 1, "samples", one);
		if (!b || sq_json_save(b, batchp) < 0) { json_decref(b); goto fail; }
		json_decref(b);
	}
	vars = job_vars(c, j.spec, j.sample, j.outdir, j.batch_id, sl);
	int ov = sq_srv_jstr(j.spec, "override_by") != NULL, k = 1;
	argv = calloc((size_t)c->n_run_args + (ov ? (size_t)c->n_override_args : 0) + 2, sizeof *argv);
	if (!argv) goto fail;
	argv[0] = strdup(self_exe(c));
	for (int i = 0; i < c->n_run_args; ++i) argv[k++] = subst(c->run_args[i], vars);
	for (int i = 0; ov && i < c->n_override_args; ++i) argv[k++] = subst(c->override_args[i], vars);
	/* environment: ours plus the device selection */
	for (char **e = environ; *e; ++e) ++n_env;
	envp = calloc((size_t)n_env + 4, sizeof *envp);
	if (!envp) goto fail;
	for (int i = 0; i < n_env; ++i) envp[i] = strdup(environ[i]);
	{
		char b1[96], b2[96];
		snprintf(b1, sizeof b1, "SEQA_DEVICE=%s", sl->name);
		envp[n_env++] = strdup(b1);
		if (strcmp(sl->backend, "cuda") == 0 && sl->index[0]) {
			snprintf(b2, sizeof b2, "CUDA_VISIBLE_DEVICES=%s", sl->index);
			envp[n_env++] = strdup(b2);
		}
	}
	logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (logfd < 0) { sq_log_error("cannot open job log '%s': %s", logp, strerror(errno)); goto fail; }
	{
		char hdr[8192];
		int k = snprintf(hdr, sizeof hdr, "# seqa serve: job %lld attempt %d on %s:", j.id, j.attempts, sl->name);
		const char *pn = sq_srv_jstr(j.spec, "pseudonym");
		for (int i = 0; argv[i] && k < (int)sizeof hdr - 2; ++i) {
			/* the lab Sample_ID stays out of logs (docs/SECURITY.md §5): "{sample}" in its place */
			char *a = pn && *pn && strcmp(pn, j.sample) ? sq_cli_redact(argv[i], j.sample, "{sample}") : NULL;
			k += snprintf(hdr + k, sizeof hdr - (size_t)k, " %s", a ? a : argv[i]);
			free(a);
		}
		if (k > (int)sizeof hdr - 2) k = (int)sizeof hdr - 2;
		hdr[k++] = '\n';
		if (write(logfd, hdr, (size_t)k) < 0) { /* the log is best effort */ }
	}
	pid_t pid = spawn(argv[0], argv, envp, logfd, logfd);
	if (pid < 0) goto fail;
	sl->job = j.id;
	sl->pid = pid;
	sl->started = now_s();
	sl->term_sent = 0;
	sl->cancelled = 0;
	sl->phase = 0;
	sl->n_jobs++;
	sq_srv_db_set_pid(s->db, j.id, pid);
	sq_log_info("job %lld (%s/%s) started on %s, pid %d, attempt %d", j.id, j.batch_id,
	            sq_srv_jstr(j.spec, "pseudonym") && *sq_srv_jstr(j.spec, "pseudonym") ? sq_srv_jstr(j.spec, "pseudonym") : j.sample,
	            sl->name, pid, j.attempts);
	r = 0;
	goto out;
fail:
	sq_srv_db_finish(s->db, j.id, "failed", -1, "could not start the job (see the daemon log)", NULL);
	r = SQ_EIO;
out:
	if (logfd >= 0) close(logfd);
	sq_srv_strv_free(argv);
	sq_srv_strv_free(envp);
	json_decref(vars);
	sq_srv_jobrow_free(&j);
	return r;
}

/* Refresh a running job's stage/progress/timings from its stage records. */
static void poll_progress(sq_srv_sched_t *s, long long id, int final_ok)
{
	char *outdir = sq_srv_db_job_outdir(s->db, id, NULL);
	const char *stage;
	double progress;
	if (!outdir) return;
	json_t *times = sq_srv_job_stages(s->c, outdir, &stage, &progress);
	const char *k;
	json_t *v;
	json_object_foreach(times, k, v) sq_srv_db_stage_time(s->db, id, k, json_real_value(v));
	if (final_ok) stage = "finished", progress = 100;
	sq_srv_db_progress(s->db, id, stage, progress);
	json_decref(times);
	free(outdir);
}

/* Last non-empty line of a job log (for the error message). */
static void log_tail(const char *path, char *out, size_t cap)
{
	FILE *fp = fopen(path, "r");
	char line[1024];
	out[0] = 0;
	if (!fp) return;
	if (fseek(fp, -8192, SEEK_END) != 0) rewind(fp);
	while (fgets(line, sizeof line, fp)) {
		size_t n = strlen(line);
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
		if (n && line[0] != '#' && strncmp(line, "[M::", 4) != 0) snprintf(out, cap, "%s", line);
	}
	fclose(fp);
}

static void finish_job(sq_srv_sched_t *s, sq_srv_slot_t *sl, int status)
{
	long long id = sl->job;
	char err[600] = "", tail[400], logp[PATH_MAX], *qc = NULL, *outdir;
	const char *state;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	snprintf(logp, sizeof logp, "%s/logs/job-%lld.log", s->c->data_dir, id);
	if ((outdir = sq_srv_db_job_outdir(s->db, id, NULL))) {
		char *q = sq_srv_job_find(outdir, "qc.json");
		if (q) qc = sq_srv_qc_verdict(q);
		free(q);
		free(outdir);
	}
	if (sl->cancelled) state = "cancelled";
	else if (code == 0) state = "done";
	else if (code == SQ_EXIT_QC) state = "held";
	else {
		state = "failed";
		log_tail(logp, tail, sizeof tail);
		if (WIFSIGNALED(status)) snprintf(err, sizeof err, "%skilled by signal %d: %s", sl->phase ? "delivery enqueue " : "", WTERMSIG(status), tail);
		else snprintf(err, sizeof err, "%sexit %d: %s", sl->phase ? "delivery enqueue " : "", code, tail);
	}
	poll_progress(s, id, code == 0 && !sl->cancelled);
	sq_srv_db_finish(s->db, id, state, code, err[0] ? err : NULL, qc);
	sq_log_info("job %lld %s on %s (exit %d, %.1f s)%s%s", id, state, sl->name, code, now_s() - sl->started,
	            err[0] ? ": " : "", err);
	sl->busy_s += now_s() - sl->started;
	sl->job = 0, sl->pid = 0, sl->term_sent = 0, sl->cancelled = 0, sl->phase = 0;
	s->next_push = 0; /* drain the outbox soon */
	free(qc);
}

/* ---- pusher ----------------------------------------------------------------------------- */

static void push_tick(sq_srv_sched_t *s)
{
	const sq_srv_conf_t *c = s->c;
	int status;
	if (s->push_pid > 0) {
		pid_t r = waitpid(s->push_pid, &status, WNOHANG);
		if (r == s->push_pid) {
			s->push_runs++;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				s->push_failures++;
				sq_log_warn("outbox push exited %d (deliveries stay queued and are retried)",
				            WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			}
			s->push_pid = 0;
			s->next_push = now_s() + c->push_interval_s;
		}
		return;
	}
	if (c->n_push_args == 0 || now_s() < s->next_push) return;
	char **argv = calloc((size_t)c->n_push_args + 2, sizeof *argv), logp[PATH_MAX];
	if (!argv) return;
	json_t *dv = json_pack("{s:s}", "data_dir", c->data_dir);
	argv[0] = strdup(own_exe());
	for (int i = 0; i < c->n_push_args; ++i) argv[i + 1] = subst(c->push_args[i], dv);
	json_decref(dv);
	snprintf(logp, sizeof logp, "%s/logs/push.log", c->data_dir);
	int fd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	s->push_pid = spawn(argv[0], argv, environ, fd, fd);
	if (fd >= 0) close(fd);
	if (s->push_pid < 0) s->push_pid = 0, s->next_push = now_s() + c->push_interval_s;
	sq_srv_strv_free(argv);
}

long long sq_srv_push_failures(sq_srv_sched_t *s) { return s->push_failures; }

json_t *sq_srv_outbox(sq_srv_sched_t *s)
{
	const sq_srv_conf_t *c = s->c;
	json_t *r = NULL;
	pthread_mutex_lock(&s->ob_lock);
	if (s->ob_cache && now_s() - s->ob_time < 2.0) {
		r = json_incref(s->ob_cache);
		pthread_mutex_unlock(&s->ob_lock);
		return r;
	}
	char **argv = calloc((size_t)c->n_outbox_args + 2, sizeof *argv), *out = NULL;
	if (!argv) { pthread_mutex_unlock(&s->ob_lock); return NULL; }
	json_t *dv = json_pack("{s:s}", "data_dir", c->data_dir);
	argv[0] = strdup(own_exe());
	for (int i = 0; i < c->n_outbox_args; ++i) argv[i + 1] = subst(c->outbox_args[i], dv);
	json_decref(dv);
	int rc = sq_srv_capture(argv[0], argv, 10.0, &out, 16u << 20);
	json_t *list = (rc == 0 && out) ? json_loads(out, 0, NULL) : NULL;
	if (list && json_is_object(list) && json_object_get(list, "deliveries")) {
		json_t *d = json_incref(json_object_get(list, "deliveries"));
		json_decref(list);
		list = d;
	}
	if (json_is_array(list)) r = json_pack("{s:b, s:o}", "available", 1, "deliveries", list);
	else if (rc == SQ_EXIT_IO) {
		/* no outbox database yet: nothing was ever queued */
		json_decref(list);
		r = json_pack("{s:b, s:s, s:[]}", "available", 1, "note", "no delivery queued yet", "deliveries");
	} else {
		json_decref(list);
		r = json_pack("{s:b, s:s, s:[]}", "available", 0, "reason",
		              rc == SQ_EXIT_UNSUPP ? "delivery (seqa outbox) is not built into this binary" :
		              rc < 0 ? "cannot run seqa outbox" : "seqa outbox list failed (see the daemon log)", "deliveries");
	}
	sq_srv_strv_free(argv);
	free(out);
	json_decref(s->ob_cache);
	s->ob_cache = json_incref(r);
	s->ob_time = now_s();
	pthread_mutex_unlock(&s->ob_lock);
	return r;
}

/* 1 if the job carries a technician's override and its gate is deliverable. */
static int overridden(sq_srv_sched_t *s, long long id)
{
	json_t *j = sq_srv_db_job(s->db, id);
	int r = j && sq_srv_jstr(json_object_get(j, "spec"), "override_by") && sq_srv_qc_deliverable(sq_srv_jstr(j, "outdir"));
	json_decref(j);
	return r;
}

/* ---- the loop --------------------------------------------------------------------------- */

static void *sched_main(void *arg)
{
	sq_srv_sched_t *s = arg;
	double last_progress = 0;
	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		double t = now_s();
		/* reap */
		for (int i = 0; i < s->n_slots; ++i) {
			sq_srv_slot_t *sl = &s->slots[i];
			int status;
			if (!sl->job) continue;
			pid_t r = waitpid(sl->pid, &status, WNOHANG);
			if (r == sl->pid && sl->phase == 0 && !sl->cancelled && WIFEXITED(status) && WEXITSTATUS(status) == SQ_EXIT_QC &&
			    overridden(s, sl->job)) {
				/* a failed gate with a technician's override: deliverable (the run still exits 7) */
				sq_log_info("job %lld: QC gate failed but overridden: deliverable", sl->job);
				status = 0;
			}
			if (r == sl->pid && sl->phase == 0 && !sl->cancelled && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
			    s->c->n_enqueue_args > 0) {
				poll_progress(s, sl->job, 1);
				if (start_enqueue(s, sl) < 0) finish_job(s, sl, 1 << 8);
			} else if (r == sl->pid) finish_job(s, sl, status);
			else if (r < 0 && errno == ECHILD) finish_job(s, sl, 1 << 8);
		}
		/* cancellations */
		for (int i = 0; i < s->n_slots; ++i) {
			sq_srv_slot_t *sl = &s->slots[i];
			if (!sl->job) continue;
			if (!sl->term_sent) {
				char *st = sq_srv_db_state(s->db, sl->job);
				if (st && strcmp(st, "cancelling") == 0) {
					sq_log_info("job %lld: cancelling (SIGTERM to process group %d)", sl->job, sl->pid);
					kill(-sl->pid, SIGTERM);
					sl->term_sent = t;
					sl->cancelled = 1;
				}
				free(st);
			} else if (t - sl->term_sent > s->c->cancel_grace_s) {
				kill(-sl->pid, SIGKILL);
			}
		}
		/* progress */
		if (t - last_progress >= 0.5) {
			for (int i = 0; i < s->n_slots; ++i)
				if (s->slots[i].job && !s->slots[i].cancelled && s->slots[i].phase == 0) poll_progress(s, s->slots[i].job, 0);
			last_progress = t;
		}
		/* start: accelerators first, then CPU slots */
		for (int pass = 0; pass < 2; ++pass)
			for (int i = 0; i < s->n_slots; ++i) {
				sq_srv_slot_t *sl = &s->slots[i];
				if (sl->job || sl->gpu != (pass == 0)) continue;
				if (start_job(s, sl) == SQ_EOF) { pass = 2; break; }
			}
		push_tick(s);
		s->kicked = 0;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 250 * 1000000L;
		if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
		if (!s->kicked && !s->stop) pthread_cond_timedwait(&s->cv, &s->lock, &until);
	}
	/* shut down: stop children, put their jobs back in the queue */
	for (int i = 0; i < s->n_slots; ++i) if (s->slots[i].job) kill(-s->slots[i].pid, SIGTERM);
	if (s->push_pid > 0) kill(-s->push_pid, SIGTERM);
	double t_end = now_s() + 10;
	for (int i = 0; i < s->n_slots; ++i) {
		sq_srv_slot_t *sl = &s->slots[i];
		int status;
		if (!sl->job) continue;
		while (waitpid(sl->pid, &status, WNOHANG) == 0) {
			if (now_s() > t_end) { kill(-sl->pid, SIGKILL); waitpid(sl->pid, &status, 0); break; }
			usleep(50000);
		}
		sq_srv_db_requeue(s->db, sl->job);
		sq_log_info("job %lld stopped with the service; re-queued", sl->job);
		sl->job = 0;
	}
	if (s->push_pid > 0) waitpid(s->push_pid, NULL, 0);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void kill_orphan(void *arg, long long id, int pid)
{
	char p[64], cmd[4096] = "";
	(void)arg;
	if (pid <= 0) return;
	snprintf(p, sizeof p, "/proc/%d/cmdline", pid);
	FILE *fp = fopen(p, "r");
	if (!fp) {
		/* leader gone: a process group with its id can only be what is left of ours (a group id
		 * is not reused while the group exists) */
		if (kill(-pid, SIGKILL) == 0) sq_log_warn("job %lld: killed what was left of process group %d", id, pid);
		return;
	}
	size_t n = fread(cmd, 1, sizeof cmd - 1, fp);
	fclose(fp);
	for (size_t i = 0; i < n; ++i) if (cmd[i] == 0) cmd[i] = ' '; /* argv is NUL-separated */
	cmd[n] = 0;
	/* only our own kind of child, leading its own process group */
	if (strstr(cmd, "seqa") && getpgid(pid) == pid) {
		sq_log_warn("job %lld: killing process group %d left from the previous daemon", id, pid);
		kill(-pid, SIGKILL);
	}
}

sq_srv_sched_t *sq_srv_sched_start(const sq_srv_conf_t *c, sq_srv_db_t *db)
{
	sq_srv_sched_t *s = sq_calloc(1, sizeof *s);
	if (!s) return NULL;
	s->c = c, s->db = db;
	pthread_mutex_init(&s->lock, NULL);
	pthread_mutex_init(&s->ob_lock, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->slots = sq_calloc((size_t)(c->n_gpus + c->cpu_slots), sizeof *s->slots);
	if (!s->slots) goto fail;
	for (int i = 0; i < c->n_gpus; ++i) {
		sq_srv_slot_t *sl = &s->slots[s->n_slots++];
		const char *colon = strchr(c->gpus[i], ':');
		snprintf(sl->name, sizeof sl->name, "%s", c->gpus[i]);
		snprintf(sl->backend, sizeof sl->backend, "%.*s", colon ? (int)(colon - c->gpus[i]) : (int)strlen(c->gpus[i]), c->gpus[i]);
		snprintf(sl->index, sizeof sl->index, "%s", colon ? colon + 1 : "");
		sl->gpu = 1;
	}
	for (int i = 0; i < c->cpu_slots; ++i) {
		sq_srv_slot_t *sl = &s->slots[s->n_slots++];
		snprintf(sl->name, sizeof sl->name, "cpu:%d", i);
		snprintf(sl->backend, sizeof sl->backend, "cpu");
	}
	/* a crash of the previous daemon: kill what it left, re-queue its jobs */
	sq_srv_db_each_running(db, kill_orphan, NULL);
	if (sq_srv_db_recover(db) < 0) goto fail;
	if (pthread_create(&s->th, NULL, sched_main, s) != 0) { sq_log_error("cannot start the scheduler thread"); goto fail; }
	s->running = 1;
	return s;
fail:
	free(s->slots);
	free(s);
	return NULL;
}

void sq_srv_sched_kick(sq_srv_sched_t *s)
{
	pthread_mutex_lock(&s->lock);
	s->kicked = 1;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->lock);
}

json_t *sq_srv_sched_slots(sq_srv_sched_t *s)
{
	json_t *a = json_array();
	double t = now_s();
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->n_slots; ++i) {
		sq_srv_slot_t *sl = &s->slots[i];
		double busy = sl->busy_s + (sl->job ? t - sl->started : 0);
		json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:I, s:f, s:I}", "name", sl->name, "backend", sl->backend,
		                                   "gpu", sl->gpu, "job", (json_int_t)sl->job, "busy_s", busy, "jobs", (json_int_t)sl->n_jobs));
	}
	pthread_mutex_unlock(&s->lock);
	return a;
}

void sq_srv_sched_stop(sq_srv_sched_t *s)
{
	if (!s) return;
	if (s->running) {
		pthread_mutex_lock(&s->lock);
		s->stop = 1;
		pthread_cond_signal(&s->cv);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->th, NULL);
	}
	json_decref(s->ob_cache);
	pthread_mutex_destroy(&s->lock);
	pthread_mutex_destroy(&s->ob_lock);
	pthread_cond_destroy(&s->cv);
	free(s->slots);
	free(s);
}
