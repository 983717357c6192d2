/* seqa serve — run-folder watcher (inotify).
 *
 * Each configured directory is watched for new run folders, and each run folder for new files.
 * A folder is examined when CopyComplete.txt appears in it (the instrument writes it last), and
 * on every rescan (start-up, every [watch] rescan seconds, and after an inotify queue
 * overflow), so nothing is missed.  A complete run (RunInfo.xml, SampleSheet.csv,
 * CopyComplete.txt, FASTQ for every sample) is submitted once: the run folder is recorded in
 * the job database in the same transaction as its batch, and the batch's content key makes a
 * second submission a no-op anyway.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include "seqa/log.h"
#include "seqa/util.h"
#include "server_internal.h"

typedef struct { int wd; char *path; int root; } wentry_t;

struct sq_srv_watch_s {
	const sq_srv_conf_t *c;
	sq_srv_db_t *db;
	sq_srv_submit_f submit;
	void *arg;
	int fd, stop_pipe[2];
	pthread_t th;
	int started;
	wentry_t *w;
	int n_w, m_w;
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const char *wpath(sq_srv_watch_t *w, int wd, int *root)
{
	for (int i = 0; i < w->n_w; ++i)
		if (w->w[i].wd == wd) { if (root) *root = w->w[i].root; return w->w[i].path; }
	return NULL;
}

static void add_watch(sq_srv_watch_t *w, const char *path, int root)
{
	uint32_t mask = IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF;
	int wd = inotify_add_watch(w->fd, path, mask);
	if (wd < 0) { sq_log_warn("cannot watch '%s': %s", path, strerror(errno)); return; }
	for (int i = 0; i < w->n_w; ++i) if (w->w[i].wd == wd) return; /* already watched */
	if (w->n_w == w->m_w) {
		int m = w->m_w ? w->m_w * 2 : 16;
		wentry_t *nw = realloc(w->w, (size_t)m * sizeof *nw);
		if (!nw) return;
		w->w = nw, w->m_w = m;
	}
	w->w[w->n_w].wd = wd;
	w->w[w->n_w].path = strdup(path);
	w->w[w->n_w++].root = root;
}

/* Examine one run folder; submit it if complete and not seen. */
static void check_run(sq_srv_watch_t *w, const char *folder)
{
	char real[PATH_MAX];
	json_t *batch = NULL;
	const char *reason = NULL;
	if (!realpath(folder, real)) return;
	if (sq_srv_db_run_seen(w->db, real)) return;
	int r = sq_srv_run_folder(real, &batch, &reason);
	if (r == 0) {
		if (reason) sq_log_debug("run folder %s: %s; waiting", real, reason);
		return;
	}
	if (r < 0) {
		sq_log_warn("run folder %s not submitted: %s", real, reason);
		sq_srv_db_run_reject(w->db, real, reason);
		return;
	}
	char *bid = NULL;
	json_t *probs = NULL;
	int st = w->submit(w->arg, batch, "watcher", real, &bid, &probs);
	if (st == 200 || st == 201) {
		sq_log_info("run folder %s submitted as batch %s", real, bid);
	} else {
		char *txt = probs ? json_dumps(probs, JSON_COMPACT) : NULL;
		sq_log_warn("run folder %s not submitted (HTTP-equivalent %d): %s", real, st, txt ? txt : "");
		if (st == 422) sq_srv_db_run_reject(w->db, real, "the batch has problems (see the service log)");
		free(txt);
	}
	free(bid);
	json_decref(probs);
	json_decref(batch);
}

int sq_srv_watch_scan(sq_srv_watch_t *w)
{
	int n = 0;
	for (int i = 0; i < w->c->n_watch_dirs; ++i) {
		const char *root = w->c->watch_dirs[i];
		DIR *d = opendir(root);
		struct dirent *e;
		if (!d) { sq_log_warn("cannot read watched folder '%s': %s", root, strerror(errno)); continue; }
		add_watch(w, root, 1);
		while ((e = readdir(d))) {
			char p[PATH_MAX];
			struct stat st;
			if (e->d_name[0] == '.') continue;
			snprintf(p, sizeof p, "%s/%s", root, e->d_name);
			if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
			add_watch(w, p, 0);
			check_run(w, p);
			++n;
		}
		closedir(d);
	}
	return n;
}

static void *watch_main(void *arg)
{
	sq_srv_watch_t *w = arg;
	char buf[64 * 1024] __attribute__((aligned(__alignof__(struct inotify_event))));
	double next_scan = mono() + w->c->rescan_s;
	sq_srv_watch_scan(w);
	for (;;) {
		struct pollfd p[2] = { { w->fd, POLLIN, 0 }, { w->stop_pipe[0], POLLIN, 0 } };
		int ms = (int)((next_scan - mono()) * 1000);
		if (ms < 0) ms = 0;
		int r = poll(p, 2, ms);
		if (r < 0 && errno != EINTR) break;
		if (p[1].revents) break;
		if (r > 0 && (p[0].revents & POLLIN)) {
			ssize_t n = read(w->fd, buf, sizeof buf);
			for (char *q = buf; n > 0 && q < buf + n; ) {
				struct inotify_event *ev = (struct inotify_event *)q;
				int root = 0;
				const char *dir = wpath(w, ev->wd, &root);
				q += sizeof *ev + ev->len;
				if (ev->mask & IN_Q_OVERFLOW) { next_scan = 0; continue; }
				if (!dir || ev->len == 0) continue;
				char p2[PATH_MAX];
				snprintf(p2, sizeof p2, "%s/%s", dir, ev->name);
				if (root && (ev->mask & IN_ISDIR)) {
					/* a new run folder: watch it (and look at once, it may have been moved in whole) */
					add_watch(w, p2, 0);
					check_run(w, p2);
				} else if (!root && strcmp(ev->name, "CopyComplete.txt") == 0) {
					check_run(w, dir);
				}
			}
		}
		if (mono() >= next_scan) {
			sq_srv_watch_scan(w);
			next_scan = mono() + w->c->rescan_s;
		}
	}
	return NULL;
}

sq_srv_watch_t *sq_srv_watch_start(const sq_srv_conf_t *c, sq_srv_db_t *db, sq_srv_submit_f submit, void *arg)
{
	sq_srv_watch_t *w = sq_calloc(1, sizeof *w);
	if (!w) return NULL;
	w->c = c, w->db = db, w->submit = submit, w->arg = arg;
	w->stop_pipe[0] = w->stop_pipe[1] = -1;
	if ((w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) { sq_log_error("inotify: %s", strerror(errno)); goto fail; }
	if (pipe2(w->stop_pipe, O_CLOEXEC) != 0) goto fail;
	if (pthread_create(&w->th, NULL, watch_main, w) != 0) goto fail;
	w->started = 1;
	for (int i = 0; i < c->n_watch_dirs; ++i) sq_log_info("watching %s for run folders", c->watch_dirs[i]);
	return w;
fail:
	sq_srv_watch_stop(w);
	return NULL;
}

void sq_srv_watch_stop(sq_srv_watch_t *w)
{
	if (!w) return;
	if (w->started) {
		if (write(w->stop_pipe[1], "x", 1) < 0) { /* the thread also stops on close */ }
		pthread_join(w->th, NULL);
	}
	if (w->fd >= 0) close(w->fd);
	if (w->stop_pipe[0] >= 0) close(w->stop_pipe[0]), close(w->stop_pipe[1]);
	for (int i = 0; i < w->n_w; ++i) free(w->w[i].path);
	free(w->w);
	free(w);
}
