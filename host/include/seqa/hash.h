/* seqa — SHA-256 and MD5 of files and buffers (OpenSSL libcrypto EVP). */
#ifndef SEQA_HASH_H
#define SEQA_HASH_H

#include <stddef.h>

/** SHA-256 of a file as 64 lowercase hex chars + NUL in hex[65].  0, or SQ_EIO / SQ_ENOMEM (logged). */
int sq_sha256_file(const char *path, char hex[65]);
/** SHA-256 of a buffer.  hex is "" when it could not be computed (out of memory): check hex[0]. */
void sq_sha256_buf(const void *buf, size_t len, char hex[65]);
/** MD5 of a buffer (contig M5 as in SAM @SQ). */
void sq_md5_buf(const void *buf, size_t len, char hex[33]);

/** Initialise OpenSSL's digests once, early and single-threaded (main() does it): OpenSSL 3
 *  initialises lazily, and an allocation that fails inside that lazy path can leave it with a
 *  NULL lock that a later digest crashes on.  0, or SQ_ENOMEM (logged). */
int sq_hash_global_init(void);

/** Incremental hashing for streams. alg: "sha256" or "md5".  NULL on error. */
typedef struct sq_hash_s sq_hash_t;
sq_hash_t *sq_hash_init(const char *alg);
void sq_hash_update(sq_hash_t *h, const void *buf, size_t len);
/** Writes lowercase hex (65 bytes for sha256, 33 for md5) and frees h; "" if any step failed. */
void sq_hash_final(sq_hash_t *h, char *hex);

#endif
