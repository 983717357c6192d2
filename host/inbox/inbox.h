/* seqa-inbox — the reference CAD receiver (private to host/inbox/).
 *
 * State folder layout (nothing in it is named by a client):
 *   inbox.db                 SQLite (WAL): uploads, deliveries
 *   staging/<uid>.part       an upload in progress; uid = first 32 hex of
 *                            SHA-256("upload:" delivery_id "/" file name)
 *   staging/commit-<id>.tmp/ a commit being assembled (moved back on restart if it was cut)
 *   store/<delivery id>/     committed deliveries: *.c4gh, manifest.json, receipt.json
 * The rename of the commit folder into store/ is the commit point; the database row is a
 * cache rebuilt from store/ on start-up.
 */
#ifndef SEQA_INBOX_H
#define SEQA_INBOX_H

#include <pthread.h>
#include <stdint.h>
#include <sqlite3.h>

typedef struct {
	const char *dir, *listen, *port_file, *cert, *key, *ca, *platform_keys, *c4gh_sk_file, *receipt_sk_file, *log_file;
	int64_t max_file_size;     /* bytes per uploaded file */
	int max_files;             /* files per delivery */
	double rate;               /* requests per second per client certificate (burst 2x) */
	int verify_plaintext;      /* decrypt every file at commit and check plaintext SHA-256 */
	double staging_ttl_days;   /* uncommitted uploads older than this are removed at start-up */
	int threads;
} sq_inbox_opt_t;

/* Hashes and Crypt4GH verification computed while an upload streams in (so a commit need not
 * read the file again).  Valid only while off equals the bytes staged.  The connection thread
 * copies the arriving bytes into 1 MiB blocks on one queue (bounded); two workers follow it:
 * worker 0 hashes the encrypted bytes, worker 1 decrypts and hashes the plaintext.  A block
 * is recycled once both have passed it (blocks are finished in order, so it is the head). */
struct sq_hash_s;
struct sq_c4gh_reader_s;
typedef struct sq_inbox_blk_s { struct sq_inbox_blk_s *next; size_t n; int refs; unsigned char d[]; } sq_inbox_blk_t;
typedef struct {
	char uid[33];
	int64_t off;
	struct sq_hash_s *h;          /* SHA-256 of the encrypted bytes: worker 0 */
	struct sq_c4gh_reader_s *r;   /* decrypt + plaintext SHA-256: worker 1 */
	volatile int bad;             /* the Crypt4GH check failed */
	int lost;                     /* out of memory: results unusable, the commit reads the file */
	pthread_t th[2];
	int running, eof;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	sq_inbox_blk_t *head, *tail, *cur;   /* cur: block being filled */
	sq_inbox_blk_t *pos[2];              /* next block for each worker (NULL: none yet) */
	sq_inbox_blk_t *spare;               /* recycled blocks */
	int n_spare;
	size_t queued;
} sq_inbox_stream_t;

#define SQ_INBOX_STREAMS 64

typedef struct sq_inbox_s {
	sq_inbox_opt_t o;
	sqlite3 *db;
	pthread_mutex_t lock;      /* database, commits, busy table */
	uint8_t c4gh_sk[32], receipt_sk[64];
	char staging[4096], store[4096];
	char busy[64][33];         /* uploads with a PATCH in progress */
	sq_inbox_stream_t streams[SQ_INBOX_STREAMS];
} sq_inbox_t;

/** Open the state folder (create; with recover, also roll back an interrupted commit and
 *  rebuild the index: only the serving process may do that). */
int sq_inbox_open(sq_inbox_t *ib, const sq_inbox_opt_t *o, int recover);
void sq_inbox_close(sq_inbox_t *ib);
/** Serve until SIGINT/SIGTERM. */
int sq_inbox_serve(sq_inbox_t *ib);
/** JSON listing of committed deliveries (new reference). */
struct json_t;
struct json_t *sq_inbox_list(sq_inbox_t *ib, const char *platform);

/* server.c: streaming results for a complete upload of length len (caller holds ib->lock).
 * 1 and the encrypted/plaintext SHA-256 (c4gh_ok = 0 if the Crypt4GH check failed), or 0 if
 * not available (the caller reads the file). */
int sq_inbox_stream_take(sq_inbox_t *ib, const char *uid, int64_t len, char sha_enc[65], char sha_plain[65], int *c4gh_ok);

/* server.c: 1 if a PATCH of upload uid is in progress (caller holds ib->lock). */
int sq_inbox_busy(sq_inbox_t *ib, const char *uid);

/* store.c */
int sq_inbox_sql(sq_inbox_t *ib, const char *sql);
void sq_inbox_uid(const char *delivery, const char *name, char uid[33]);
/** Commit a delivery.  *status receives the HTTP status; returns a JSON body (receipt or
 *  {"error":..}) as a malloc'd string. */
char *sq_inbox_commit(sq_inbox_t *ib, const char *platform, const char *id, const char *body, size_t len, int *status);

#endif
