/* seqa — SHA-256 / MD5 via OpenSSL EVP; see seqa/hash.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <openssl/evp.h>
#include "seqa/hash.h"
#include "seqa/util.h"
#include "seqa/log.h"

struct sq_hash_s { EVP_MD_CTX *ctx; int bad; };   /* bad: an EVP call failed (out of memory) */

static void to_hex(const unsigned char *d, unsigned n, char *hex)
{
	static const char x[] = "0123456789abcdef";
	for (unsigned i = 0; i < n; ++i) hex[2 * i] = x[d[i] >> 4], hex[2 * i + 1] = x[d[i] & 15];
	hex[2 * n] = 0;
}

/* Digests come from a library context of our own, not OpenSSL's default one: OpenSSL 3.0 sets the
 * default context up lazily and, when an allocation fails in there, carries on with NULL locks
 * that the next digest crashes on (SIGSEGV in CRYPTO_THREAD_read_lock; fault-injection finding).
 * OSSL_LIB_CTX_new() reports that failure instead.  Made once (main() calls this early). */
static OSSL_LIB_CTX *g_libctx;
static EVP_MD *g_sha256, *g_md5;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_init_ret = SQ_ENOMEM;

static void global_init_once(void)
{
	/* the default context too (crypt4gh's ciphers, libcurl use it): set up now, and its failure
	 * seen (NULL) instead of a context with NULL locks used later */
	if (!OSSL_LIB_CTX_get0_global_default()) return;
	if ((g_libctx = OSSL_LIB_CTX_new()) && (g_sha256 = EVP_MD_fetch(g_libctx, "SHA256", NULL))
	    && (g_md5 = EVP_MD_fetch(g_libctx, "MD5", NULL))) {
		g_init_ret = 0;
		return;
	}
	EVP_MD_free(g_sha256), EVP_MD_free(g_md5), OSSL_LIB_CTX_free(g_libctx);
	g_sha256 = g_md5 = NULL, g_libctx = NULL;
}

int sq_hash_global_init(void)
{
	pthread_once(&g_once, global_init_once);
	if (g_init_ret < 0) sq_log_error("cannot initialise OpenSSL's digests (out of memory)");
	return g_init_ret;
}

sq_hash_t *sq_hash_init(const char *alg)
{
	const EVP_MD *md;
	sq_hash_t *h;
	if (sq_hash_global_init() < 0) return 0;
	md = strcmp(alg, "md5") == 0 ? g_md5 : strcmp(alg, "sha256") == 0 ? g_sha256 : 0;
	if (!md) { sq_log_error("unknown hash '%s'", alg); return 0; }
	if (!(h = sq_calloc(1, sizeof *h))) return 0;
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, md, 0) != 1) {
		sq_log_error("cannot initialise %s", alg);
		EVP_MD_CTX_free(h->ctx);
		free(h);
		return 0;
	}
	return h;
}

void sq_hash_update(sq_hash_t *h, const void *buf, size_t len) { h->bad |= EVP_DigestUpdate(h->ctx, buf, len) != 1; }

void sq_hash_final(sq_hash_t *h, char *hex)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned n = 0;
	if (h->bad || EVP_DigestFinal_ex(h->ctx, d, &n) != 1) n = 0;   /* "": no digest (never a wrong one) */
	to_hex(d, n, hex);
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void sq_sha256_buf(const void *buf, size_t len, char hex[65])
{
	sq_hash_t *h = sq_hash_init("sha256");
	if (!h) { hex[0] = 0; return; }
	sq_hash_update(h, buf, len);
	sq_hash_final(h, hex);
}

void sq_md5_buf(const void *buf, size_t len, char hex[33])
{
	sq_hash_t *h = sq_hash_init("md5");
	if (!h) { hex[0] = 0; return; }
	sq_hash_update(h, buf, len);
	sq_hash_final(h, hex);
}

int sq_sha256_file(const char *path, char hex[65])
{
	unsigned char buf[1 << 16];
	size_t r;
	FILE *fp = fopen(path, "rb");
	sq_hash_t *h;
	if (!fp) { sq_log_error("cannot open '%s': %s", path, strerror(errno)); return SQ_EIO; }
	if (!(h = sq_hash_init("sha256"))) { fclose(fp); return SQ_ENOMEM; }
	while ((r = fread(buf, 1, sizeof buf, fp)) > 0) sq_hash_update(h, buf, r);
	if (ferror(fp)) {
		sq_log_error("error reading '%s': %s", path, strerror(errno));
		sq_hash_final(h, hex);
		fclose(fp);
		return SQ_EIO;
	}
	fclose(fp);
	sq_hash_final(h, hex);
	if (!hex[0]) { sq_log_error("cannot hash '%s' (out of memory)", path); return SQ_ENOMEM; }
	return 0;
}
