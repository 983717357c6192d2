/* seqa — GA4GH Crypt4GH v1 writer and streaming reader (libsodium).
 *
 * File = header + body.  Header: "crypt4gh", version 1 (u32 LE), packet count (u32 LE), then
 * packets: length (u32 LE, including itself), header encryption method 0 (X25519 +
 * ChaCha20-Poly1305 IETF), the writer's X25519 public key, a 12-byte nonce, and the encrypted
 * packet (+16-byte MAC).  The packet key is crypto_kx's session key: BLAKE2b-512(DH || reader
 * pk || writer pk)[0..32] (writer = kx "server", reader = kx "client").  The packet plaintext
 * used here is a data-encryption-parameters packet: type 0 (u32), method 0 (u32), 32-byte data
 * key.  Body: 64 KiB plaintext segments, each stored as nonce(12) || ciphertext || MAC(16).
 *
 * The body segments (the bulk of the work) are sealed and opened with OpenSSL's
 * ChaCha20-Poly1305 (RFC 8439, the same AEAD as libsodium's crypto_aead_chacha20poly1305_ietf,
 * byte for byte) because it has AVX-512 code paths and runs about 3x faster here; libsodium is
 * the fallback if OpenSSL cannot provide the cipher, and does everything else.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <sodium.h>
#include "seqa/cad.h"
#include "seqa/durable.h"
#include "seqa/hash.h"
#include "seqa/log.h"
#include "seqa/thpool.h"
#include "seqa/util.h"

#define SEG   SQ_C4GH_SEGMENT
#define CSEG  (SEG + 28)
#define NPACK_MAX 64
#define NKEY_MAX  8

static void put32(uint8_t *p, uint32_t v) { p[0] = v, p[1] = v >> 8, p[2] = v >> 16, p[3] = v >> 24; }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }

/* ---- segment AEAD ---------------------------------------------------------------------------- */

/* A per-thread OpenSSL context with the cipher fetched once; NULL: use libsodium. */
static EVP_CIPHER_CTX *aead_new(void)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	if (c && EVP_CipherInit_ex(c, EVP_chacha20_poly1305(), NULL, NULL, NULL, 1) != 1) EVP_CIPHER_CTX_free(c), c = NULL;
	return c;
}

/* out = ciphertext(m bytes) || tag(16). */
static void aead_seal(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *in, size_t m, const uint8_t nonce[12], const uint8_t key[32])
{
	int l1 = 0, l2 = 0;
	if (c && m <= (size_t)INT32_MAX && EVP_CipherInit_ex(c, NULL, NULL, key, nonce, 1) == 1 &&
	    EVP_CipherUpdate(c, out, &l1, in, (int)m) == 1 && EVP_CipherFinal_ex(c, out + l1, &l2) == 1 &&
	    (size_t)(l1 + l2) == m && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, out + m) == 1) return;
	unsigned long long clen;
	crypto_aead_chacha20poly1305_ietf_encrypt(out, &clen, in, m, NULL, 0, NULL, nonce, key);
}

/* c = ciphertext || tag (len >= 16); 0 if authentic (plaintext in out), -1 if not.  Only the tag
 * check decides "not authentic": an OpenSSL failure before it (out of memory) falls back to
 * libsodium rather than calling a good segment corrupted. */
static int aead_open(EVP_CIPHER_CTX *c, uint8_t *out, const uint8_t *ct, size_t len, const uint8_t nonce[12], const uint8_t key[32])
{
	size_t m = len - 16;
	int l1 = 0, l2 = 0;
	if (c && m <= (size_t)INT32_MAX && EVP_CipherInit_ex(c, NULL, NULL, key, nonce, 0) == 1 &&
	    EVP_CipherUpdate(c, out, &l1, ct, (int)m) == 1 && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(ct + m)) == 1)
		return EVP_CipherFinal_ex(c, out + l1, &l2) == 1 && (size_t)(l1 + l2) == m ? 0 : -1;
	unsigned long long plen;
	return crypto_aead_chacha20poly1305_ietf_decrypt(out, &plen, NULL, ct, len, NULL, 0, nonce, key) == 0 && plen == m ? 0 : -1;
}

/* ---- writer -------------------------------------------------------------------------------- */

/* The body is encrypted in batches of BATCH segments; within a batch, segments are encrypted in
 * parallel (sq_for), while one item hashes the batch's plaintext, another hashes and writes
 * the previous batch's ciphertext and a third reads the next batch's plaintext (double
 * buffering on both sides, so no step of the loop runs alone).  Output is identical for any thread
 * count except for the random nonces, which are drawn before the parallel part. */
enum { BATCH = 64 };

typedef struct {
	const uint8_t *in;
	size_t got;                 /* plaintext bytes in this batch */
	uint8_t *out;               /* this batch's ciphertext */
	size_t olen;
	const uint8_t *prev;        /* previous batch's ciphertext, to hash + write */
	size_t prev_len;
	int fd;                     /* read-ahead of the next batch (nbuf NULL: none) */
	uint8_t *nbuf;
	size_t ngot;
	int rerr;
	const uint8_t *key;
	EVP_CIPHER_CTX **ctx;       /* one per thread (NULL entries: libsodium) */
	sq_hash_t *hp, *he;
	FILE *fo;
	int werr;
} enc_batch_t;

static size_t read_full(int fd, uint8_t *buf, size_t cap, int *err)
{
	size_t got = 0;
	while (got < cap) {
		ssize_t r = read(fd, buf + got, cap - got);
		if (r < 0 && errno == EINTR) continue;
		if (r < 0) { *err = errno; break; }
		if (r == 0) break;
		got += (size_t)r;
	}
	return got;
}

static void enc_item(void *data, int64_t i, int tid)
{
	enc_batch_t *b = data;
	if (i == 0) { sq_hash_update(b->hp, b->in, b->got); return; }
	if (i == 1) {
		if (b->prev_len) {
			sq_hash_update(b->he, b->prev, b->prev_len);
			if (fwrite(b->prev, 1, b->prev_len, b->fo) != b->prev_len) b->werr = 1;
		}
		return;
	}
	if (i == 2) {
		if (b->nbuf) b->ngot = read_full(b->fd, b->nbuf, (size_t)SEG * BATCH, &b->rerr);
		return;
	}
	size_t k = (size_t)(i - 3), off = k * SEG, m = b->got - off < SEG ? b->got - off : SEG;
	uint8_t *c = b->out + k * CSEG;     /* nonce already there */
	aead_seal(b->ctx[tid], c + 12, b->in + off, m, c, b->key);
}

int sq_cad_c4gh_encrypt_file(const char *in, const char *out, const uint8_t (*rcpt)[32], int n_rcpt,
                             char sha_plain[65], char sha_enc[65], uint64_t *enc_size)
{
	uint8_t key[32], wpk[32], wsk[32], *ibuf[2] = { NULL, NULL }, *obuf[2] = { NULL, NULL };
	EVP_CIPHER_CTX *ctx[4] = { NULL, NULL, NULL, NULL };
	sq_hash_t *hp = NULL, *he = NULL;
	sq_durable_t *d = NULL;
	FILE *fo;
	uint64_t total = 0;
	int fd = -1, ret = SQ_EOUTPUT, nth = sq_ncpu() < 4 ? sq_ncpu() : 4, cur = 0, icur = 0, rerr = 0;
	size_t prev_len = 0, got;
	if (sodium_init() < 0) return SQ_EUNSUPP;
	if (n_rcpt < 1 || n_rcpt > NPACK_MAX) { sq_log_error("Crypt4GH: need 1..%d recipients", NPACK_MAX); return SQ_EINVAL; }
	if ((fd = open(in, O_RDONLY | O_CLOEXEC)) < 0) {
		sq_log_error("cannot open '%s': %s", in, strerror(errno));
		return SQ_EIO;
	}
	ibuf[0] = sq_malloc((size_t)SEG * BATCH), ibuf[1] = sq_malloc((size_t)SEG * BATCH), obuf[0] = sq_malloc((size_t)CSEG * BATCH), obuf[1] = sq_malloc((size_t)CSEG * BATCH);
	hp = sq_hash_init("sha256"), he = sq_hash_init("sha256");
	if (!ibuf[0] || !ibuf[1] || !obuf[0] || !obuf[1] || !hp || !he) { ret = SQ_ENOMEM; goto fail; }
	for (int t = 0; t < nth; ++t) ctx[t] = aead_new();
	if (!(d = sq_durable_open(out))) goto fail;
	fo = sq_durable_fp(d);
	setvbuf(fo, NULL, _IONBF, 0);
	crypto_aead_chacha20poly1305_ietf_keygen(key);
	crypto_kx_keypair(wpk, wsk);
	{   /* header */
		uint8_t h[16 + NPACK_MAX * 108], *p = h + 16;
		memcpy(h, "crypt4gh", 8), put32(h + 8, 1), put32(h + 12, (uint32_t)n_rcpt);
		for (int i = 0; i < n_rcpt; ++i, p += 108) {
			uint8_t rx[32], tx[32], plain[40];
			unsigned long long clen;
			if (crypto_kx_server_session_keys(rx, tx, wpk, wsk, rcpt[i]) != 0) {
				sq_log_error("Crypt4GH: recipient key %d is not a valid X25519 public key", i);
				ret = SQ_EINVAL;
				goto fail;
			}
			put32(p, 108), put32(p + 4, 0), memcpy(p + 8, wpk, 32);
			randombytes_buf(p + 40, 12);
			put32(plain, 0), put32(plain + 4, 0), memcpy(plain + 8, key, 32);
			crypto_aead_chacha20poly1305_ietf_encrypt(p + 52, &clen, plain, 40, NULL, 0, NULL, p + 40, tx);
			sodium_memzero(plain, sizeof plain), sodium_memzero(rx, 32), sodium_memzero(tx, 32);
		}
		size_t hl = (size_t)(p - h);
		sq_hash_update(he, h, hl);
		if (fwrite(h, 1, hl, fo) != hl) goto fail;
		total += hl;
	}
	got = read_full(fd, ibuf[0], (size_t)SEG * BATCH, &rerr);
	for (;;) {   /* body */
		size_t nseg, olen = 0;
		if (rerr) { sq_log_error("read error on '%s': %s", in, strerror(rerr)); ret = SQ_EIO; goto fail; }
		nseg = (got + SEG - 1) / SEG;
		for (size_t k = 0; k < nseg; ++k) {
			size_t m = got - k * SEG < SEG ? got - k * SEG : SEG;
			randombytes_buf(obuf[cur] + k * CSEG, 12);
			olen += m + 28;
		}
		enc_batch_t b = { ibuf[icur], got, obuf[cur], olen, obuf[cur ^ 1], prev_len,
		                  fd, got < (size_t)SEG * BATCH ? NULL : ibuf[icur ^ 1], 0, 0, key, ctx, hp, he, fo, 0 };
		if (sq_for(nth, enc_item, &b, 3 + (int64_t)nseg) < 0) { ret = SQ_ENOMEM; goto fail; }
		if (b.werr) goto fail;
		/* segments are CSEG apart in obuf; only the last may be short, so the batch is contiguous */
		total += olen;
		prev_len = olen, cur ^= 1;
		if (!b.nbuf) break;   /* that was the last (short or empty) batch */
		got = b.ngot, rerr = b.rerr, icur ^= 1;
	}
	if (prev_len) {
		sq_hash_update(he, obuf[cur ^ 1], prev_len);
		if (fwrite(obuf[cur ^ 1], 1, prev_len, fo) != prev_len) goto fail;
	}
	ret = sq_durable_commit(d), d = NULL;
	if (ret < 0) goto fail;
	{
		char hx[65];
		sq_hash_final(hp, sha_plain ? sha_plain : hx), hp = NULL;
		sq_hash_final(he, sha_enc ? sha_enc : hx), he = NULL;
	}
	if (enc_size) *enc_size = total;
	ret = 0;
fail:
	if (ret == SQ_EOUTPUT) sq_log_error("cannot write '%s'", out);
	if (d) sq_durable_abort(d);
	if (hp) { char hx[65]; sq_hash_final(hp, hx); }
	if (he) { char hx[65]; sq_hash_final(he, hx); }
	sodium_memzero(key, sizeof key), sodium_memzero(wsk, sizeof wsk);
	for (int t = 0; t < 4; ++t) EVP_CIPHER_CTX_free(ctx[t]);   /* cleanses the key schedule */
	free(ibuf[0]), free(ibuf[1]), free(obuf[0]), free(obuf[1]);
	close(fd);
	return ret;
}

/* ---- streaming reader ------------------------------------------------------------------------ */

struct sq_c4gh_reader_s {
	uint8_t sk[32], pk[32];
	uint8_t keys[NKEY_MAX][32];
	int n_keys, n_packets, packets_seen, state;   /* 0 preamble, 1 packets, 2 body, 3 failed */
	uint8_t *buf;                                 /* CSEG bytes */
	size_t n, need;
	uint64_t plain_size, segs;
	uint8_t *plain;
	sq_hash_t *h;
	EVP_CIPHER_CTX *ctx;                          /* NULL: libsodium */
	int (*sink)(void *, const void *, size_t);
	void *ud;
};

sq_c4gh_reader_t *sq_c4gh_reader_new(const uint8_t sk[32])
{
	sq_c4gh_reader_t *r;
	if (sodium_init() < 0) return NULL;
	if (!(r = sq_calloc(1, sizeof *r))) return NULL;
	memcpy(r->sk, sk, 32);
	crypto_scalarmult_base(r->pk, r->sk);
	r->buf = sq_malloc(CSEG), r->plain = sq_malloc(SEG), r->h = sq_hash_init("sha256"), r->ctx = aead_new();
	if (!r->buf || !r->plain || !r->h) { sq_c4gh_reader_free(r); return NULL; }
	r->need = 16;
	return r;
}

void sq_c4gh_reader_set_sink(sq_c4gh_reader_t *r, int (*sink)(void *, const void *, size_t), void *ud)
{
	r->sink = sink, r->ud = ud;
}

void sq_c4gh_reader_free(sq_c4gh_reader_t *r)
{
	if (!r) return;
	if (r->h) { char hx[65]; sq_hash_final(r->h, hx); }
	sodium_memzero(r->sk, 32), sodium_memzero(r->keys, sizeof r->keys);
	EVP_CIPHER_CTX_free(r->ctx);
	free(r->buf), free(r->plain), free(r);
}

static int rd_fail(sq_c4gh_reader_t *r, const char *why)
{
	sq_log_warn("Crypt4GH: %s", why);
	r->state = 3;
	return SQ_EINPUT;
}

static int rd_packet(sq_c4gh_reader_t *r, const uint8_t *p, size_t len)
{
	uint8_t rx[32], tx[32], plain[256];
	unsigned long long plen;
	if (len < 8) return rd_fail(r, "header packet too short");
	if (get32(p + 4) != 0) return 0;                      /* another header method: not ours */
	if (len < 8 + 32 + 12 + 16 || len - 60 > sizeof plain) return rd_fail(r, "bad X25519 header packet length");
	if (crypto_kx_client_session_keys(rx, tx, r->pk, r->sk, p + 8) != 0) return 0;
	int ok = crypto_aead_chacha20poly1305_ietf_decrypt(plain, &plen, NULL, p + 52, len - 52, NULL, 0, p + 40, rx) == 0;
	sodium_memzero(rx, 32), sodium_memzero(tx, 32);
	if (!ok) return 0;                                    /* for another recipient */
	if (plen < 4) return rd_fail(r, "empty header packet");
	if (get32(plain) == 1) return rd_fail(r, "data edit lists are not accepted");
	if (get32(plain) != 0) return rd_fail(r, "unknown header packet type");
	if (plen != 40 || get32(plain + 4) != 0) return rd_fail(r, "unsupported data encryption method");
	if (r->n_keys < NKEY_MAX) memcpy(r->keys[r->n_keys++], plain + 8, 32);
	sodium_memzero(plain, sizeof plain);
	return 0;
}

static int rd_segment(sq_c4gh_reader_t *r, const uint8_t *c, size_t len)
{
	size_t plen = len - 28;
	int k;
	if (len <= 28) return rd_fail(r, "truncated segment");
	for (k = 0; k < r->n_keys; ++k)
		if (aead_open(r->ctx, r->plain, c + 12, len - 12, c, r->keys[k]) == 0) break;
	if (k == r->n_keys) {
		char m[96];
		snprintf(m, sizeof m, "segment %llu fails authentication (corrupted or truncated)", (unsigned long long)r->segs);
		return rd_fail(r, m);
	}
	r->segs++;
	r->plain_size += plen;
	sq_hash_update(r->h, r->plain, plen);
	if (r->sink && r->sink(r->ud, r->plain, plen) != 0) { r->state = 3; return SQ_EOUTPUT; }
	return 0;
}

int sq_c4gh_reader_feed(sq_c4gh_reader_t *r, const void *data, size_t len)
{
	const uint8_t *p = data;
	if (r->state == 3) return SQ_EINPUT;
	while (len > 0) {
		if (r->state == 2 && r->n == 0 && len >= CSEG) {   /* whole segments in place, no copy */
			int e = rd_segment(r, p, CSEG);
			if (e < 0) return e;
			p += CSEG, len -= CSEG;
			continue;
		}
		size_t take = r->need - r->n < len ? r->need - r->n : len;
		memcpy(r->buf + r->n, p, take);
		r->n += take, p += take, len -= take;
		if (r->n < r->need) break;
		if (r->state == 0) {
			if (memcmp(r->buf, "crypt4gh", 8) != 0) return rd_fail(r, "bad magic (not a Crypt4GH file)");
			if (get32(r->buf + 8) != 1) return rd_fail(r, "unsupported version (only 1)");
			r->n_packets = (int)get32(r->buf + 12);
			if (r->n_packets < 1 || r->n_packets > NPACK_MAX) return rd_fail(r, "bad header packet count");
			r->state = 1, r->n = 0, r->need = 4;
		} else if (r->state == 1) {
			if (r->need == 4) {                           /* got a packet length */
				uint32_t pl = get32(r->buf);
				if (pl < 12 || pl > 4096) return rd_fail(r, "bad header packet length");
				r->need = pl;                         /* keep the 4 length bytes */
				continue;
			}
			int e = rd_packet(r, r->buf, r->need);
			if (e < 0) return e;
			r->n = 0, r->need = 4;
			if (++r->packets_seen == r->n_packets) {
				if (r->n_keys == 0) return rd_fail(r, "no header packet decrypts with this key (not encrypted for us)");
				r->state = 2, r->need = CSEG;
			}
		} else {
			int e = rd_segment(r, r->buf, r->n);
			if (e < 0) return e;
			r->n = 0;
		}
	}
	return 0;
}

int sq_c4gh_reader_finish(sq_c4gh_reader_t *r, char sha_plain[65], uint64_t *plain_size)
{
	if (r->state == 3) return SQ_EINPUT;
	if (r->state != 2) return rd_fail(r, "truncated header");
	if (r->n > 0) {
		int e = rd_segment(r, r->buf, r->n);
		if (e < 0) return e;
		r->n = 0;
	}
	sq_hash_final(r->h, sha_plain), r->h = NULL;
	if (plain_size) *plain_size = r->plain_size;
	r->state = 3;
	return 0;
}

static int file_sink(void *ud, const void *buf, size_t len)
{
	return fwrite(buf, 1, len, (FILE *)ud) == len ? 0 : -1;
}

int sq_cad_c4gh_decrypt_file(const char *in, const char *out, const uint8_t sk[32], char sha_plain[65])
{
	sq_c4gh_reader_t *r = NULL;
	sq_durable_t *d = NULL;
	uint8_t *buf = NULL;
	char hx[65];
	int fd, ret = SQ_ENOMEM;
	if ((fd = open(in, O_RDONLY | O_CLOEXEC)) < 0) {
		sq_log_error("cannot open '%s': %s", in, strerror(errno));
		return SQ_EIO;
	}
	if (!(r = sq_c4gh_reader_new(sk)) || !(buf = sq_malloc(1 << 20))) goto out;
	if (out) {
		if (!(d = sq_durable_open(out))) { ret = SQ_EOUTPUT; goto out; }
		sq_c4gh_reader_set_sink(r, file_sink, sq_durable_fp(d));
	}
	for (;;) {
		ssize_t n = read(fd, buf, 1 << 20);
		if (n < 0 && errno == EINTR) continue;
		if (n < 0) { sq_log_error("read error on '%s': %s", in, strerror(errno)); ret = SQ_EIO; goto out; }
		if (n == 0) break;
		if ((ret = sq_c4gh_reader_feed(r, buf, (size_t)n)) < 0) goto bad;
	}
	if ((ret = sq_c4gh_reader_finish(r, sha_plain ? sha_plain : hx, NULL)) < 0) goto bad;
	if (d) { ret = sq_durable_commit(d), d = NULL; if (ret < 0) goto out; }
	ret = 0;
	goto out;
bad:
	sq_log_error("'%s' is not a valid Crypt4GH file for this key", in);
out:
	if (d) sq_durable_abort(d);
	sq_c4gh_reader_free(r);
	free(buf);
	close(fd);
	return ret;
}
