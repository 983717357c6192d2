/* Fuzz target: the streaming Crypt4GH reader (sq_c4gh_reader_*: what the inbox runs on every
 * upload as it streams in) fed in pieces whose sizes come from the first input byte, with a
 * plaintext sink; and the file decryptor (sq_cad_c4gh_decrypt_file) on the same bytes.  The
 * secret key is fixed (fuzz_keys.h); the seed corpus is encrypted for it, so valid headers and
 * segments get through the MAC checks and mutations reach the segment logic. */
#include <sys/stat.h>
#include "fuzz_common.h"
#include "fuzz_keys.h"
#include "seqa/cad.h"
#include "seqa/util.h"

static int sink(void *ud, const void *buf, size_t len)
{
	(void)buf;
	*(size_t *)ud += len;
	return 0;
}

/* FUZZ_MKSEED=<folder>: write seed files (a step byte + a file encrypted for the fixed key) and exit. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *out = getenv("FUZZ_MKSEED");
	(void)argc, (void)argv;
	if (!out) return 0;
	fk_init();
	static const size_t sizes[] = { 0, 1, 100, 65536, 65537, 140000 };
	uint8_t rc[1][32];
	memcpy(rc[0], fk_c4gh_pk, 32);
	for (size_t k = 0; k < sizeof sizes / sizeof *sizes; ++k) {
		char in[512], enc[512], seed[600];
		uint8_t *buf = malloc(sizes[k] + 1);
		for (size_t i = 0; i < sizes[k]; ++i) buf[i] = (uint8_t)("ACGT\n"[i % 5]);
		snprintf(in, sizeof in, "%s/plain", fz_scratch());
		snprintf(enc, sizeof enc, "%s/enc", fz_scratch());
		fz_write(in, buf, sizes[k]);
		if (sq_cad_c4gh_encrypt_file(in, enc, (const uint8_t (*)[32])rc, 1, NULL, NULL, NULL) < 0) abort();
		size_t n = 0;
		char *e = sq_read_file(enc, &n);
		uint8_t *s = malloc(n + 1);
		s[0] = (uint8_t)(k * 40);
		memcpy(s + 1, e, n);
		snprintf(seed, sizeof seed, "%s/seed-%zu", out, sizes[k]);
		fz_write(seed, s, n + 1);
		free(s), free(e), free(buf);
	}
	exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char sha[65], p[512];
	uint64_t plain = 0;
	size_t got = 0, step;
	fk_init();
	if (size == 0) return 0;
	step = 1 + (size_t)data[0] * 37;
	sq_c4gh_reader_t *r = sq_c4gh_reader_new(fk_c4gh_sk);
	if (!r) abort();
	sq_c4gh_reader_set_sink(r, sink, &got);
	int rc = 0;
	for (size_t off = 1; off < size && rc == 0; off += step)
		rc = sq_c4gh_reader_feed(r, data + off, size - off < step ? size - off : step);
	if (rc == 0 && sq_c4gh_reader_finish(r, sha, &plain) == 0 && plain != got) abort();   /* sink saw every byte */
	sq_c4gh_reader_free(r);
	snprintf(p, sizeof p, "%s/in.c4gh", fz_scratch());
	fz_write(p, data + 1, size - 1);
	(void)sq_cad_c4gh_decrypt_file(p, NULL, fk_c4gh_sk, sha);
	return 0;
}
