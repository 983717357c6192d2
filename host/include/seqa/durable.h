/* seqa — durable, atomic output files.
 *
 * Every output is written to "<path>.tmp.<pid>", flushed, fsync()ed, renamed over <path>,
 * and the directory is fsync()ed (the redis rdb.c pattern).  Readers never see a partial
 * file under the final name; a crash leaves at most a *.tmp.* file that the next run removes.
 *
 *   sq_durable_t *d = sq_durable_open("out.json");
 *   fprintf(sq_durable_fp(d), ...);
 *   if (sq_durable_commit(d) < 0) ...   // or sq_durable_abort(d) on error
 */
#ifndef SEQA_DURABLE_H
#define SEQA_DURABLE_H

#include <stdio.h>

typedef struct sq_durable_s sq_durable_t;

/** Open a temporary file next to path.  NULL on error (logged). */
sq_durable_t *sq_durable_open(const char *path);
/** The stdio stream to write to. */
FILE *sq_durable_fp(sq_durable_t *d);
/** Temporary path currently written (for libraries that want a file name, e.g. htslib). */
const char *sq_durable_tmp_path(const sq_durable_t *d);
/** Flush, fsync, rename into place, fsync the directory; frees d.  0 or SQ_EOUTPUT (logged,
 *  temporary removed: disk full and I/O errors are reported here). */
int sq_durable_commit(sq_durable_t *d);
/** Remove the temporary and free d. */
void sq_durable_abort(sq_durable_t *d);

/** Rename tmp onto path durably (fsync file and directory).  0 or SQ_EOUTPUT (logged). */
int sq_durable_rename(const char *tmp, const char *path);
/** fsync the directory containing path.  0 or SQ_EOUTPUT. */
int sq_fsync_dir(const char *path);
/** Remove PREFIX.tmp.PID* files whose writer process no longer exists (a crashed run's
 *  temporaries, as sq_durable_open and multi-file builders name them).  Logged at info level. */
void sq_durable_clean_stale(const char *prefix);
/** Write a buffer to path durably.  0 or SQ_EOUTPUT. */
int sq_durable_write(const char *path, const void *buf, size_t len);

#endif
