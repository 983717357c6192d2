/* seqa — delivery to the CAD: keys, RFC 8785 canonical JSON + Ed25519 signatures, Crypt4GH v1,
 * the provenance manifest, the outbox (SQLite WAL) and the uploader (HTTPS, mutual TLS, tus 1.0
 * style resumable uploads).  The wire protocol is documented in docs/PROTOCOL.md.
 *
 * Return convention: 0 ok, < -1 error (SQ_E*, logged); constructors return NULL.
 * Key material is never logged.  Secret key files must not be readable by group or others.
 * Thread rules: an sq_cad_outbox_t is used by one thread at a time (SQLite handles the
 * cross-process locking); the other functions are reentrant.
 */
#ifndef SEQA_CAD_H
#define SEQA_CAD_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

/* ---- keys ----------------------------------------------------------------------------- */

/** Write a fresh X25519 key pair in the Crypt4GH key format (unencrypted private key, 0600;
 *  public key 0644), readable by the PyPI `crypt4gh` tool.  0 or SQ_EOUTPUT. */
int sq_cad_c4gh_keygen(const char *sk_path, const char *pk_path);
/** Read a Crypt4GH public key ("-----BEGIN CRYPT4GH PUBLIC KEY-----").  0 or SQ_EIO/SQ_EINPUT. */
int sq_cad_c4gh_load_pk(const char *path, uint8_t pk[32]);
/** Read an unencrypted Crypt4GH private key (kdf "none"); refuses a file readable by group or
 *  others (SQ_EINPUT).  0 or SQ_EIO/SQ_EINPUT. */
int sq_cad_c4gh_load_sk(const char *path, uint8_t sk[32]);

/** Write a fresh Ed25519 signing key pair ("-----BEGIN SEQA ED25519 SECRET KEY-----", 0600,
 *  and "... PUBLIC KEY-----").  0 or SQ_EOUTPUT. */
int sq_cad_sign_keygen(const char *sk_path, const char *pk_path);
/** Load an Ed25519 secret key (64 bytes, libsodium layout); same permission rule. */
int sq_cad_sign_load_sk(const char *path, uint8_t sk[64]);
/** Load an Ed25519 public key. */
int sq_cad_sign_load_pk(const char *path, uint8_t pk[32]);
/** Key id of a public key: first 16 hex digits of SHA-256(pk) (+ NUL). */
void sq_cad_key_id(const uint8_t pk[32], char id[17]);

/** Base64 (RFC 4648, padded).  Returns a malloc'd string, NULL on ENOMEM. */
char *sq_cad_b64_encode(const void *buf, size_t len);
/** Decode into out (capacity cap); returns the decoded length or SQ_EINPUT. */
long sq_cad_b64_decode(const char *s, void *out, size_t cap);

/* ---- canonical JSON and signatures ---------------------------------------------------- */

/** RFC 8785 (JCS) canonical form of j: members sorted by UTF-16 code units, no whitespace,
 *  ECMAScript number formatting, minimal string escaping.  malloc'd, NUL-terminated; *len set
 *  when len is not NULL.  NULL on error (non-finite number, invalid UTF-8: logged). */
char *sq_cad_jcs(const json_t *j, size_t *len);

/** Sign object obj in place: adds member `member` = {"algorithm":"Ed25519","keyId":..,"value":
 *  base64 signature}; the signed bytes are JCS(obj with member present but without "value")
 *  (JSF style, so the key id is covered).  0 or < -1. */
int sq_cad_sign_json(json_t *obj, const char *member, const uint8_t sk[64]);
/** Verify the signature made by sq_cad_sign_json with any of the n public keys.  0 if valid;
 *  SQ_EINPUT (logged at *warn* level with the reason) if missing, malformed or invalid.
 *  *which (if not NULL) receives the index of the key that verified. */
int sq_cad_verify_json(const json_t *obj, const char *member, const uint8_t (*pks)[32], int n, int *which);

/* ---- Crypt4GH v1 ------------------------------------------------------------------------ */

#define SQ_C4GH_SEGMENT 65536
/** Encrypt file in -> out (written durably) for n recipient public keys (X25519 +
 *  ChaCha20-Poly1305 IETF, 64 KiB segments, one header packet per recipient, a fresh ephemeral
 *  writer key).  sha_plain/sha_enc (may be NULL) receive the SHA-256 of both.  *enc_size too. */
int sq_cad_c4gh_encrypt_file(const char *in, const char *out, const uint8_t (*rcpt)[32], int n_rcpt,
                             char sha_plain[65], char sha_enc[65], uint64_t *enc_size);
/** Decrypt in with secret key sk into out (written durably; NULL: verify every segment and
 *  hash only).  sha_plain (may be NULL) receives the plaintext SHA-256.  Rejects a bad magic,
 *  version, packet, MAC, truncation or trailing data with SQ_EINPUT (logged). */
int sq_cad_c4gh_decrypt_file(const char *in, const char *out, const uint8_t sk[32], char sha_plain[65]);
/** Streaming verifier/decryptor for data arriving in pieces (the inbox). */
typedef struct sq_c4gh_reader_s sq_c4gh_reader_t;
sq_c4gh_reader_t *sq_c4gh_reader_new(const uint8_t sk[32]);
/** Feed bytes; 0, or SQ_EINPUT at the first structural/MAC error (logged at warn level). */
int sq_c4gh_reader_feed(sq_c4gh_reader_t *r, const void *buf, size_t len);
/** End of input: checks completeness and writes the plaintext SHA-256.  0 or SQ_EINPUT. */
int sq_c4gh_reader_finish(sq_c4gh_reader_t *r, char sha_plain[65], uint64_t *plain_size);
void sq_c4gh_reader_free(sq_c4gh_reader_t *r);
/** Optional sink for plaintext (e.g. fwrite to a file); a non-zero return aborts. */
void sq_c4gh_reader_set_sink(sq_c4gh_reader_t *r, int (*sink)(void *ud, const void *buf, size_t len), void *ud);

/* ---- delivery manifest ----------------------------------------------------------------- */

/** What goes into one delivery.  All strings borrowed. */
typedef struct {
	const char *run_dir;        /**< folder with the results (VCF, gVCF, qc.json, provenance.json) */
	const char *platform_id;    /**< this platform (matches its TLS client certificate CN) */
	const char *operator_name;  /**< operator (or NULL: from provenance.json, else $USER) */
	const char *sample_id;      /**< pseudonymised sample id (or NULL: provenance.json / qc.json) */
	const char **files;         /**< explicit file names inside run_dir, NULL-terminated; NULL: auto */
	const uint8_t *sign_sk;     /**< Ed25519 secret key, 64 bytes */
	const uint8_t (*rcpt)[32];  /**< Crypt4GH recipients: CAD first, then escrow keys */
	int n_rcpt;
	int allow_qc_fail;          /**< 1: enqueue even if the gate failed without override (tests) */
} sq_cad_delivery_opt_t;

void sq_cad_delivery_opt_init(sq_cad_delivery_opt_t *o);

/** A prepared delivery: encrypted files + signed manifest in a spool folder. */
typedef struct {
	char delivery_id[65];       /**< SHA-256 of JCS({platform,sample,files:[{name,sha256}]}) */
	char *sample_id;
	char *spool_dir;            /**< <spool>/<delivery_id>/ : *.c4gh files, manifest.json */
	json_t *manifest;           /**< signed manifest (owned) */
	json_t *qc_decision;        /**< {"decision":..,"override":..} (owned) */
} sq_cad_delivery_t;

/** Encrypt the run folder's results into spool/<delivery_id>/ and write the signed manifest
 *  (manifest.json, plus manifest.json.c4gh which is what is uploaded).  Idempotent: the same
 *  results give the same delivery id.  SQ_EQC if qc.json says the gate failed without an
 *  override (unless allow_qc_fail).  NULL-safe free below.  0 or < -1. */
int sq_cad_delivery_prepare(const sq_cad_delivery_opt_t *o, const char *spool, sq_cad_delivery_t *d);
void sq_cad_delivery_free(sq_cad_delivery_t *d);

/** The delivery id a manifest claims and the one its content implies; 0 if they agree. */
int sq_cad_manifest_check_id(const json_t *manifest, char id[65]);
/** Offline verification of a delivery folder (manifest.json + *.c4gh, or decrypted copies):
 *  signature with one of the platform keys, encrypted SHA-256s, and (sk given) decrypt and
 *  compare plaintext SHA-256s.  0 or SQ_EINPUT (each problem logged). */
int sq_cad_verify_delivery(const char *dir, const uint8_t (*platform_pks)[32], int n_pk, const uint8_t *c4gh_sk);

/** Load a small Crypt4GH-encrypted JSON file (a manifest) with secret key sk.  NULL on error. */
json_t *sq_cad_c4gh_load_json(const char *path, const uint8_t sk[32]);
/** 1 if s is a safe file name for delivery: [A-Za-z0-9._-]{1,128}, not starting with '.' or
 *  '-', no "..".  Names from clients are checked with this before touching the filesystem. */
int sq_cad_name_ok(const char *s);
/** 1 if s is 64 lowercase hex digits (a delivery id or SHA-256). */
int sq_cad_hex64_ok(const char *s);
/** Current UTC time as "YYYY-MM-DDTHH:MM:SSZ". */
void sq_cad_utc_now(char buf[32]);

/* ---- outbox ------------------------------------------------------------------------------ */

typedef struct sq_cad_outbox_s sq_cad_outbox_t;
struct sqlite3;

/** Open (creating the tables) the outbox in SQLite database path (WAL mode, synchronous FULL).
 *  The same database may hold the job and QC tables of the pipeline.  NULL on error. */
sq_cad_outbox_t *sq_cad_outbox_open(const char *path);
void sq_cad_outbox_close(sq_cad_outbox_t *ob);
/** The underlying handle, for the caller's own statements inside sq_cad_outbox_begin/commit. */
struct sqlite3 *sq_cad_outbox_db(sq_cad_outbox_t *ob);
/** BEGIN IMMEDIATE / COMMIT / ROLLBACK.  0 or SQ_EOUTPUT. */
int sq_cad_outbox_begin(sq_cad_outbox_t *ob);
int sq_cad_outbox_commit(sq_cad_outbox_t *ob);
int sq_cad_outbox_rollback(sq_cad_outbox_t *ob);

/** Record the QC decision of d's sample (table qc_decisions) and queue d, in ONE transaction
 *  (its own, or the caller's if one is open).  Queuing an id already present is a no-op.
 *  0 or < -1 (nothing recorded). */
int sq_cad_outbox_enqueue(sq_cad_outbox_t *ob, const sq_cad_delivery_t *d);

/** The pipeline's one call: prepare the delivery of a run folder, then record the QC decision
 *  and queue it in one transaction.  delivery_id (may be NULL) receives the id. */
int sq_cad_outbox_submit_run(sq_cad_outbox_t *ob, const sq_cad_delivery_opt_t *o, const char *spool,
                             char delivery_id[65]);

/** JSON array of deliveries (id, sample, state, attempts, next_attempt, error, times). */
json_t *sq_cad_outbox_list(sq_cad_outbox_t *ob);
/** One delivery with its files and stored receipt; NULL if unknown (prefix of the id allowed). */
json_t *sq_cad_outbox_show(sq_cad_outbox_t *ob, const char *id);
/** Make a delivery (or all rejected/failed ones when id is NULL) due now: rejected -> queued.
 *  Returns the number requeued or < -1. */
int sq_cad_outbox_retry(sq_cad_outbox_t *ob, const char *id);

/* ---- uploader ---------------------------------------------------------------------------- */

typedef struct {
	const char *url;            /**< inbox base URL, https://host:port */
	const char *ca_file;        /**< the CAD's CA certificate (the only trust anchor) */
	const char *cert_file;      /**< this platform's client certificate (PEM) */
	const char *key_file;       /**< its private key (PEM, 0600) */
	const uint8_t (*receipt_pks)[32]; /**< CAD Ed25519 receipt keys */
	int n_receipt_pk;
	double backoff_base;        /**< first retry delay, s (default 2) */
	double backoff_max;         /**< cap, s (default 600) */
	long chunk;                 /**< bytes per PATCH request (default 0 = whole rest of file) */
	double timeout;             /**< connect/low-speed timeout, s (default 30) */
	int max_attempts;           /**< transient failures before "rejected" (0 = never give up) */
} sq_cad_push_opt_t;

void sq_cad_push_opt_init(sq_cad_push_opt_t *o);

/** Counts of one drain. */
typedef struct { int delivered, rejected, deferred, pending; } sq_cad_push_stat_t;

/** Drain the outbox once: every due delivery is uploaded, committed, and its receipt checked
 *  and stored (delivered), or rejected by the inbox (rejected, reason kept), or deferred with
 *  exponential backoff and jitter after a transient failure.  0 if nothing failed transiently,
 *  SQ_EREMOTE if something was deferred, < -1 on local errors. */
int sq_cad_push_once(sq_cad_outbox_t *ob, const sq_cad_push_opt_t *o, sq_cad_push_stat_t *st);
/** Daemon loop: drain, sleep until the next due delivery (at most poll s), until *stop. */
int sq_cad_push_loop(sq_cad_outbox_t *ob, const sq_cad_push_opt_t *o, double poll, volatile int *stop);

/** Fault injection for the exactly-once tests: SEQA_FAULT_KILL_AT=<point>:<n> makes the
 *  process SIGKILL itself the n-th time it reaches point (for "patch-bytes", after n bytes
 *  were sent).  No-op when unset. */
void sq_cad_fault(const char *point, uint64_t n);

/** Receipt check: signature by a CAD key, status "committed", the delivery id, and every file
 *  of files ([{name, sha256}] as uploaded) listed with the same SHA-256.  0 or SQ_EINPUT. */
int sq_cad_receipt_check(const json_t *receipt, const char *delivery_id, const json_t *files,
                         const uint8_t (*pks)[32], int n);

#endif
