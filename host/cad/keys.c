/* seqa — key files for delivery: Crypt4GH X25519 keys (the GA4GH key format, so the PyPI
 * `crypt4gh` tool reads them) and Ed25519 signing keys; base64 helpers.
 *
 * Secret keys are written 0600 and refused when group/other can read them.  Key bytes are
 * wiped after use by the callers (sodium_memzero) and never logged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "seqa/cad.h"
#include "seqa/durable.h"
#include "seqa/hash.h"
#include "seqa/log.h"
#include "seqa/util.h"

char *sq_cad_b64_encode(const void *buf, size_t len)
{
	size_t n = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	char *s = sq_malloc(n);
	if (!s) return NULL;
	sodium_bin2base64(s, n, buf, len, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

long sq_cad_b64_decode(const char *s, void *out, size_t cap)
{
	size_t n = 0;
	if (sodium_base642bin(out, cap, s, strlen(s), " \t\r\n", &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return SQ_EINPUT;
	return (long)n;
}

void sq_cad_key_id(const uint8_t pk[32], char id[17])
{
	char hex[65];
	sq_sha256_buf(pk, 32, hex);
	memcpy(id, hex, 16);
	id[16] = 0;
}

/* Write text to path with the given mode, durably (temp, fsync, rename). */
static int write_keyfile(const char *path, const char *text, int mode)
{
	char tmp[4096];
	int fd = -1;
	size_t len = strlen(text);
	if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp) goto fail;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) goto fail;
	if (fchmod(fd, mode) != 0) goto fail;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) goto fail;
	close(fd), fd = -1;
	if (rename(tmp, path) != 0) goto fail;
	return sq_fsync_dir(path);
fail:
	sq_log_error("cannot write key file '%s': %s", path, strerror(errno));
	if (fd >= 0) close(fd);
	unlink(tmp);
	return SQ_EOUTPUT;
}

/* PEM-like armour: header line, base64 body, footer line. */
static int write_armoured(const char *path, const char *label, const void *buf, size_t len, int mode)
{
	char *b64 = sq_cad_b64_encode(buf, len), *text = NULL;
	int ret = SQ_ENOMEM;
	if (!b64) return SQ_ENOMEM;
	size_t n = strlen(b64) + 2 * strlen(label) + 64;
	if (!(text = sq_malloc(n))) goto out;
	snprintf(text, n, "-----BEGIN %s-----\n%s\n-----END %s-----\n", label, b64, label);
	ret = write_keyfile(path, text, mode);
out:
	if (text) sodium_memzero(text, strlen(text));
	sodium_memzero(b64, strlen(b64));
	free(text), free(b64);
	return ret;
}

/* Read an armoured key: returns the decoded length, or < -1. */
static long read_armoured(const char *path, const char *label, int secret, uint8_t *out, size_t cap)
{
	struct stat st;
	char begin[128], end[128];
	size_t len = 0;
	long n = SQ_EINPUT;
	char *text = NULL, *b, *e;
	if (stat(path, &st) != 0) {
		sq_log_error("cannot read key file '%s': %s", path, strerror(errno));
		return SQ_EIO;
	}
	if (secret && (st.st_mode & 077)) {
		sq_log_error("secret key file '%s' is readable by group or others (mode %04o): chmod 600 it",
		             path, (unsigned)(st.st_mode & 07777));
		return SQ_EINPUT;
	}
	if (!(text = sq_read_file(path, &len))) return SQ_EIO;
	snprintf(begin, sizeof begin, "-----BEGIN %s-----", label);
	snprintf(end, sizeof end, "-----END %s-----", label);
	if (!(b = strstr(text, begin)) || !(e = strstr(b, end))) {
		sq_log_error("'%s' is not a %s file", path, label);
		goto out;
	}
	b += strlen(begin);
	*e = 0;
	n = sq_cad_b64_decode(b, out, cap);
	if (n < 0) sq_log_error("'%s': bad base64 in %s", path, label);
out:
	sodium_memzero(text, len);
	free(text);
	return n;
}

/* ---- Crypt4GH keys ------------------------------------------------------------------------ */

int sq_cad_c4gh_keygen(const char *sk_path, const char *pk_path)
{
	uint8_t pk[32], sk[32], blob[64];
	size_t n = 0;
	int ret;
	if (sodium_init() < 0) return SQ_EUNSUPP;
	crypto_box_keypair(pk, sk);
	/* c4gh-v1 private key: magic, kdfname "none", ciphername "none", key (2-byte BE lengths) */
	memcpy(blob, "c4gh-v1", 7), n = 7;
	blob[n++] = 0, blob[n++] = 4, memcpy(blob + n, "none", 4), n += 4;
	blob[n++] = 0, blob[n++] = 4, memcpy(blob + n, "none", 4), n += 4;
	blob[n++] = 0, blob[n++] = 32, memcpy(blob + n, sk, 32), n += 32;
	ret = write_armoured(sk_path, "CRYPT4GH PRIVATE KEY", blob, n, 0600);
	if (ret == 0) ret = write_armoured(pk_path, "CRYPT4GH PUBLIC KEY", pk, 32, 0644);
	sodium_memzero(sk, sizeof sk), sodium_memzero(blob, sizeof blob);
	return ret;
}

int sq_cad_c4gh_load_pk(const char *path, uint8_t pk[32])
{
	long n = read_armoured(path, "CRYPT4GH PUBLIC KEY", 0, pk, 32);
	if (n < 0) return (int)n;
	if (n != 32) { sq_log_error("'%s': public key is %ld bytes, expected 32", path, n); return SQ_EINPUT; }
	return 0;
}

static int c4gh_str(const uint8_t *b, long n, long *off, const uint8_t **s, int *len)
{
	if (*off + 2 > n) return -1;
	*len = b[*off] << 8 | b[*off + 1];
	if (*off + 2 + *len > n) return -1;
	*s = b + *off + 2;
	*off += 2 + *len;
	return 0;
}

int sq_cad_c4gh_load_sk(const char *path, uint8_t sk[32])
{
	uint8_t blob[512];
	const uint8_t *s;
	int len, ret = SQ_EINPUT;
	long off = 7, n = read_armoured(path, "CRYPT4GH PRIVATE KEY", 1, blob, sizeof blob);
	if (n < 0) return (int)n;
	if (n < 7 || memcmp(blob, "c4gh-v1", 7) != 0) { sq_log_error("'%s': not a c4gh-v1 private key", path); goto out; }
	if (c4gh_str(blob, n, &off, &s, &len) < 0 || len != 4 || memcmp(s, "none", 4) != 0) {
		sq_log_error("'%s': passphrase-protected Crypt4GH keys are not supported (use --nocrypt keys in a 0600 file)", path);
		goto out;
	}
	if (c4gh_str(blob, n, &off, &s, &len) < 0 || len != 4 || memcmp(s, "none", 4) != 0) {
		sq_log_error("'%s': encrypted private key not supported", path);
		goto out;
	}
	if (c4gh_str(blob, n, &off, &s, &len) < 0 || len != 32) { sq_log_error("'%s': bad key length", path); goto out; }
	memcpy(sk, s, 32);
	ret = 0;
out:
	sodium_memzero(blob, sizeof blob);
	return ret;
}

/* ---- Ed25519 signing keys ----------------------------------------------------------------- */

int sq_cad_sign_keygen(const char *sk_path, const char *pk_path)
{
	uint8_t pk[32], sk[64];
	int ret;
	if (sodium_init() < 0) return SQ_EUNSUPP;
	crypto_sign_keypair(pk, sk);
	ret = write_armoured(sk_path, "SEQA ED25519 SECRET KEY", sk, 64, 0600);
	if (ret == 0) ret = write_armoured(pk_path, "SEQA ED25519 PUBLIC KEY", pk, 32, 0644);
	sodium_memzero(sk, sizeof sk);
	return ret;
}

int sq_cad_sign_load_sk(const char *path, uint8_t sk[64])
{
	long n = read_armoured(path, "SEQA ED25519 SECRET KEY", 1, sk, 64);
	if (n < 0) return (int)n;
	if (n != 64) { sq_log_error("'%s': secret key is %ld bytes, expected 64", path, n); return SQ_EINPUT; }
	return 0;
}

int sq_cad_sign_load_pk(const char *path, uint8_t pk[32])
{
	long n = read_armoured(path, "SEQA ED25519 PUBLIC KEY", 0, pk, 32);
	if (n < 0) return (int)n;
	if (n != 32) { sq_log_error("'%s': public key is %ld bytes, expected 32", path, n); return SQ_EINPUT; }
	return 0;
}
