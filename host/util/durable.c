/* seqa — durable, atomic output files; see seqa/durable.h. */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "seqa/durable.h"
#include "seqa/util.h"
#include "seqa/log.h"

struct sq_durable_s {
	FILE *fp;
	char *path, *tmp;
};

sq_durable_t *sq_durable_open(const char *path)
{
	sq_durable_t *d = sq_calloc(1, sizeof *d);
	size_t n = strlen(path) + 32;
	if (!d) return 0;
	d->path = sq_strdup(path);
	d->tmp = sq_malloc(n);
	if (!d->path || !d->tmp) goto fail;
	snprintf(d->tmp, n, "%s.tmp.%ld", path, (long)getpid());
	d->fp = fopen(d->tmp, "wb");
	if (!d->fp) {
		sq_log_error("cannot write '%s': %s", path, strerror(errno));
		goto fail;
	}
	return d;
fail:
	if (d) free(d->path), free(d->tmp), free(d);
	return 0;
}

FILE *sq_durable_fp(sq_durable_t *d) { return d->fp; }
const char *sq_durable_tmp_path(const sq_durable_t *d) { return d->tmp; }

int sq_fsync_dir(const char *path)
{
	char *cp = sq_strdup(path);
	int fd, ret = 0;
	if (!cp) return SQ_EOUTPUT;
	fd = open(dirname(cp), O_RDONLY | O_DIRECTORY);
	if (fd < 0 || fsync(fd) != 0) {
		sq_log_error("cannot sync directory of '%s': %s", path, strerror(errno));
		ret = SQ_EOUTPUT;
	}
	if (fd >= 0) close(fd);
	free(cp);
	return ret;
}

/* The directory of path, opened before a rename: everything that can fail for want of memory
 * happens before the file takes its final name (fault-injection finding: the directory sync's
 * allocation failed after the rename, so an error exit left a complete-looking output). */
static int open_dir_of(const char *path)
{
	char *cp = sq_strdup(path);
	int fd, e;
	if (!cp) return -1;
	fd = open(dirname(cp), O_RDONLY | O_DIRECTORY);
	e = errno;
	free(cp);
	errno = e;
	return fd;
}

/* rename tmp to path and sync the directory (dfd, closed here); on any failure nothing is left
 * under path: a rename whose directory sync failed is not durable, so it is undone */
static int rename_sync(const char *tmp, const char *path, int dfd)
{
	if (dfd < 0) {
		sq_log_error("cannot open the directory of '%s': %s", path, strerror(errno));
		unlink(tmp);
		return SQ_EOUTPUT;
	}
	if (rename(tmp, path) != 0) {
		sq_log_error("cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
		unlink(tmp);
		close(dfd);
		return SQ_EOUTPUT;
	}
	if (fsync(dfd) != 0) {
		sq_log_error("cannot sync directory of '%s': %s", path, strerror(errno));
		unlink(path);
		close(dfd);
		return SQ_EOUTPUT;
	}
	close(dfd);
	return 0;
}

int sq_durable_rename(const char *tmp, const char *path)
{
	int fd = open(tmp, O_RDONLY);
	if (fd < 0 || fsync(fd) != 0) {
		sq_log_error("cannot sync '%s': %s", path, strerror(errno));
		if (fd >= 0) close(fd);
		unlink(tmp);
		return SQ_EOUTPUT;
	}
	close(fd);
	return rename_sync(tmp, path, open_dir_of(path));
}

int sq_durable_commit(sq_durable_t *d)
{
	int ret = 0;
	if (fflush(d->fp) != 0 || fsync(fileno(d->fp)) != 0) {
		sq_log_error("cannot write '%s': %s", d->path, strerror(errno));
		ret = SQ_EOUTPUT;
	}
	if (fclose(d->fp) != 0 && ret == 0) {
		sq_log_error("cannot write '%s': %s", d->path, strerror(errno));
		ret = SQ_EOUTPUT;
	}
	d->fp = 0;
	if (ret == 0) ret = rename_sync(d->tmp, d->path, open_dir_of(d->path));
	if (ret != 0) unlink(d->tmp);
	free(d->path), free(d->tmp), free(d);
	return ret;
}

void sq_durable_abort(sq_durable_t *d)
{
	if (!d) return;
	if (d->fp) fclose(d->fp);
	unlink(d->tmp);
	free(d->path), free(d->tmp), free(d);
}

int sq_durable_write(const char *path, const void *buf, size_t len)
{
	sq_durable_t *d = sq_durable_open(path);
	if (!d) return SQ_EOUTPUT;
	if (len && fwrite(buf, 1, len, d->fp) != len) {
		sq_log_error("cannot write '%s': %s", path, strerror(errno));
		sq_durable_abort(d);
		return SQ_EOUTPUT;
	}
	return sq_durable_commit(d);
}

void sq_durable_clean_stale(const char *prefix)
{
	char pat[PATH_MAX * 2 + 16], *p = pat;
	glob_t g;
	for (const char *s = prefix; *s && p < pat + sizeof pat - 16; ++s) {
		if (strchr("*?[]\\", *s)) *p++ = '\\';
		*p++ = *s;
	}
	strcpy(p, ".tmp.*");
	if (glob(pat, GLOB_NOSORT, 0, &g) != 0) return;
	for (size_t i = 0; i < g.gl_pathc; ++i) {
		char *end;
		long pid = strtol(g.gl_pathv[i] + strlen(prefix) + 5, &end, 10);
		if (end == g.gl_pathv[i] + strlen(prefix) + 5 || pid <= 0 || pid == (long)getpid()) continue;
		if (kill((pid_t)pid, 0) < 0 && errno == ESRCH && unlink(g.gl_pathv[i]) == 0)
			sq_log_info("removed '%s' left by an interrupted run", g.gl_pathv[i]);
	}
	globfree(&g);
}
