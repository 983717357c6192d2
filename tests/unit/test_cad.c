/* Unit tests for host/cad: JCS (RFC 8785 vectors), Ed25519 JSON signatures, key files,
 * Crypt4GH round trips / corruption / streaming reader in odd chunks / PyPI crypt4gh interop, manifest preparation, outbox
 * atomicity (QC decision + queue entry in one transaction, checked by a kill -9 in between). */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sodium.h>
#include <sqlite3.h>
#include "harness.h"
#include "seqa/cad.h"
#include "seqa/hash.h"
#include "seqa/json.h"
#include "seqa/util.h"

static char *jcs_of(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &e);
	if (!j) { fprintf(stderr, "bad JSON in test: %s\n", e.text); return NULL; }
	char *c = sq_cad_jcs(j, NULL);
	json_decref(j);
	return c;
}

static void test_jcs_rfc8785(void)
{
	/* RFC 8785 section 3.2.2 */
	char *c = jcs_of("{\"numbers\": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],"
	                 " \"string\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\", \"literals\": [null, true, false]}");
	SQ_REQUIRE(c);
	SQ_CHECKF(strcmp(c, "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],"
	                    "\"string\":\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}") == 0, "got %s", c);
	free(c);
	/* RFC 8785 section 3.2.3: sorting by UTF-16 code units */
	c = jcs_of("{\"\\u20ac\": \"Euro Sign\", \"\\r\": \"Carriage Return\", \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\","
	           " \"1\": \"One\", \"\\ud83d\\ude00\": \"Emoji: Grinning Face\", \"\\u0080\": \"Control\", \"\\u00f6\": \"Latin Small Letter O With Diaeresis\"}");
	SQ_REQUIRE(c);
	json_t *j = json_loads(c, 0, NULL);
	const char *want[] = { "\r", "1", "\xc2\x80", "\xc3\xb6", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xef\xac\xb3" };
	const char *p = c + 1;
	for (int i = 0; i < 7; ++i) {   /* keys appear in this order */
		char key[16];
		snprintf(key, sizeof key, "%s", want[i]);
		const char *hit = strstr(p, key[0] == '\r' ? "\\r" : key);
		SQ_CHECKF(hit != NULL, "key %d out of order in %s", i, c);
		if (hit) p = hit;
	}
	json_decref(j);
	free(c);
}

static void test_jcs_numbers(void)
{
	/* RFC 8785 appendix B: IEEE 754 bit patterns and their ECMAScript serialisation */
	static const struct { uint64_t bits; const char *s; } v[] = {
		{ 0x0000000000000000ULL, "0" }, { 0x8000000000000000ULL, "0" }, { 0x0000000000000001ULL, "5e-324" },
		{ 0x8000000000000001ULL, "-5e-324" }, { 0x7fefffffffffffffULL, "1.7976931348623157e+308" },
		{ 0xffefffffffffffffULL, "-1.7976931348623157e+308" }, { 0x4340000000000000ULL, "9007199254740992" },
		{ 0xc340000000000000ULL, "-9007199254740992" }, { 0x4430000000000000ULL, "295147905179352830000" },
		{ 0x44b52d02c7e14af5ULL, "9.999999999999997e+22" }, { 0x44b52d02c7e14af6ULL, "1e+23" },
		{ 0x44b52d02c7e14af7ULL, "1.0000000000000001e+23" }, { 0x444b1ae4d6e2ef4eULL, "999999999999999700000" },
		{ 0x444b1ae4d6e2ef4fULL, "999999999999999900000" }, { 0x444b1ae4d6e2ef50ULL, "1e+21" },
		{ 0x3eb0c6f7a0b5ed8cULL, "9.999999999999997e-7" }, { 0x3eb0c6f7a0b5ed8dULL, "0.000001" },
		{ 0x41b3de4355555553ULL, "333333333.3333332" }, { 0x41b3de4355555554ULL, "333333333.33333325" },
		{ 0x41b3de4355555555ULL, "333333333.3333333" }, { 0x41b3de4355555556ULL, "333333333.3333334" },
		{ 0x41b3de4355555557ULL, "333333333.33333343" }, { 0xbecbf647612f3696ULL, "-0.0000033333333333333333" },
		{ 0x43143ff3c1cb0959ULL, "1424953923781206.2" },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; ++i) {
		double d;
		memcpy(&d, &v[i].bits, 8);
		json_t *j = json_real(d);
		char *c = sq_cad_jcs(j, NULL);
		SQ_CHECKF(c && strcmp(c, v[i].s) == 0, "%016llx: got %s want %s", (unsigned long long)v[i].bits, c ? c : "NULL", v[i].s);
		free(c);
		json_decref(j);
	}
	json_t *nan = json_real(0);
	SQ_CHECK(nan);   /* jansson refuses NaN itself; the encoder's check is for completeness */
	json_decref(nan);
}

static void test_sign_verify(void)
{
	const char *d = sq_test_tmpdir();
	char sk_path[600], pk_path[600];
	uint8_t sk[64], pk[32], pk2[32], sk2[64];
	snprintf(sk_path, sizeof sk_path, "%s/k.sign", d), snprintf(pk_path, sizeof pk_path, "%s/k.pub", d);
	SQ_REQUIRE(sq_cad_sign_keygen(sk_path, pk_path) == 0);
	struct stat st;
	SQ_CHECK(stat(sk_path, &st) == 0 && (st.st_mode & 0777) == 0600);
	SQ_REQUIRE(sq_cad_sign_load_sk(sk_path, sk) == 0 && sq_cad_sign_load_pk(pk_path, pk) == 0);
	SQ_CHECK(memcmp(sk + 32, pk, 32) == 0);
	json_t *m = json_pack("{s:s, s:f, s:[i,i], s:{s:s}}", "sample", "S1", "q", 0.5, "a", 1, 2, "nested", "x", "y");
	SQ_REQUIRE(sq_cad_sign_json(m, "sig", sk) == 0);
	SQ_CHECK(sq_cad_verify_json(m, "sig", (const uint8_t (*)[32])pk, 1, NULL) == 0);
	/* a round trip through text (other key order, whitespace) still verifies: JCS */
	char *txt = json_dumps(m, JSON_INDENT(3) | JSON_SORT_KEYS);
	json_t *m2 = json_loads(txt, 0, NULL);
	SQ_CHECK(sq_cad_verify_json(m2, "sig", (const uint8_t (*)[32])pk, 1, NULL) == 0);
	/* tampering */
	json_object_set_new(json_object_get(m2, "nested"), "x", json_string("z"));
	SQ_CHECK(sq_cad_verify_json(m2, "sig", (const uint8_t (*)[32])pk, 1, NULL) == SQ_EINPUT);
	/* another key */
	crypto_sign_keypair(pk2, sk2);
	SQ_CHECK(sq_cad_verify_json(m, "sig", (const uint8_t (*)[32])pk2, 1, NULL) == SQ_EINPUT);
	/* a secret key readable by others is refused */
	chmod(sk_path, 0644);
	SQ_CHECK(sq_cad_sign_load_sk(sk_path, sk) == SQ_EINPUT);
	free(txt);
	json_decref(m), json_decref(m2);
}

static int write_random(const char *path, size_t n, unsigned seed)
{
	FILE *fp = fopen(path, "wb");
	if (!fp) return -1;
	srand(seed);
	for (size_t i = 0; i < n; ++i) fputc(rand() & 0xff, fp);
	return fclose(fp);
}

static void test_c4gh_roundtrip(void)
{
	const char *d = sq_test_tmpdir();
	char skp[600], pkp[600], in[600], enc[600], out[600], hp[65], he[65], hd[65], hx[65];
	uint8_t pk[2][32], sk[2][32];
	static const size_t sizes[] = { 0, 1, 65535, 65536, 65537, 3 * 65536 + 5, 1 << 20, 8 << 20, (9 << 20) + 3 };   /* 4 MiB batches */
	for (int k = 0; k < 2; ++k) {
		snprintf(skp, sizeof skp, "%s/r%d.sec", d, k), snprintf(pkp, sizeof pkp, "%s/r%d.pub", d, k);
		SQ_REQUIRE(sq_cad_c4gh_keygen(skp, pkp) == 0);
		SQ_REQUIRE(sq_cad_c4gh_load_sk(skp, sk[k]) == 0 && sq_cad_c4gh_load_pk(pkp, pk[k]) == 0);
	}
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; ++i) {
		uint64_t es;
		snprintf(in, sizeof in, "%s/in%zu", d, i), snprintf(enc, sizeof enc, "%s/in%zu.c4gh", d, i), snprintf(out, sizeof out, "%s/out%zu", d, i);
		SQ_REQUIRE(write_random(in, sizes[i], (unsigned)i + 1) == 0);
		SQ_REQUIRE(sq_cad_c4gh_encrypt_file(in, enc, (const uint8_t (*)[32])pk, 2, hp, he, &es) == 0);
		size_t nseg = (sizes[i] + 65535) / 65536;
		SQ_CHECKF(es == 16 + 2 * 108 + sizes[i] + 28 * nseg, "size %zu: encrypted %llu", sizes[i], (unsigned long long)es);
		SQ_CHECK(sq_sha256_file(in, hx) == 0 && strcmp(hx, hp) == 0);
		SQ_CHECK(sq_sha256_file(enc, hx) == 0 && strcmp(hx, he) == 0);
		for (int k = 0; k < 2; ++k) {   /* each recipient decrypts */
			SQ_CHECK(sq_cad_c4gh_decrypt_file(enc, out, sk[k], hd) == 0);
			SQ_CHECKF(strcmp(hd, hp) == 0, "size %zu recipient %d", sizes[i], k);
			SQ_CHECK(sq_test_sh("cmp -s '%s' '%s'", in, out) == 0);
		}
	}
	/* not for us */
	uint8_t other_pk[32], other_sk[32];
	crypto_box_keypair(other_pk, other_sk);
	SQ_CHECK(sq_cad_c4gh_decrypt_file(enc, NULL, other_sk, NULL) == SQ_EINPUT);
	/* a flipped bit in the body, in the header, truncation mid-segment: all rejected */
	SQ_REQUIRE(sq_test_sh("cp '%s' %s/flip.c4gh && printf '\\001' | dd of=%s/flip.c4gh bs=1 seek=5000 conv=notrunc status=none", enc, d, d) == 0);
	snprintf(out, sizeof out, "%s/flip.c4gh", d);
	SQ_CHECK(sq_cad_c4gh_decrypt_file(out, NULL, sk[0], NULL) == SQ_EINPUT);
	SQ_REQUIRE(sq_test_sh("cp '%s' %s/hdr.c4gh && printf 'X' | dd of=%s/hdr.c4gh bs=1 seek=100 conv=notrunc status=none", enc, d, d) == 0);
	snprintf(out, sizeof out, "%s/hdr.c4gh", d);   /* byte 100 is in recipient 0's packet */
	SQ_CHECK(sq_cad_c4gh_decrypt_file(out, NULL, sk[0], NULL) == SQ_EINPUT);
	SQ_CHECK(sq_cad_c4gh_decrypt_file(out, NULL, sk[1], NULL) == 0);   /* the other recipient's packet is intact */
	SQ_REQUIRE(sq_test_sh("head -c 100000 '%s' > %s/trunc.c4gh", enc, d) == 0);
	snprintf(out, sizeof out, "%s/trunc.c4gh", d);
	SQ_CHECK(sq_cad_c4gh_decrypt_file(out, NULL, sk[0], NULL) == SQ_EINPUT);
	SQ_REQUIRE(sq_test_sh("printf 'crypt4gx' > %s/magic.c4gh && tail -c +9 '%s' >> %s/magic.c4gh", d, enc, d) == 0);
	snprintf(out, sizeof out, "%s/magic.c4gh", d);
	SQ_CHECK(sq_cad_c4gh_decrypt_file(out, NULL, sk[0], NULL) == SQ_EINPUT);
}

typedef struct { uint8_t *p; size_t n, cap; } membuf_t;
static int mem_sink(void *ud, const void *buf, size_t len)
{
	membuf_t *m = ud;
	if (m->n + len > m->cap) return -1;
	memcpy(m->p + m->n, buf, len);
	m->n += len;
	return 0;
}

/* The streaming reader (what seqa-inbox runs while an upload arrives) fed in chunks of every
 * awkward size: whole segments decrypted in place and segments split across feeds give the
 * same plaintext; a flipped byte in a later segment is caught either way. */
static void test_c4gh_reader_chunks(void)
{
	const char *d = sq_test_tmpdir();
	char skp[600], pkp[600], in[600], enc[600], hp[65], hr[65];
	uint8_t pk[32], sk[32];
	static const size_t chunks[] = { 1, 27, 65564, 65565, 131128, 200000, 7, 65563, 1 << 20 };
	const size_t size = (1 << 20) * 3 + 12345;
	size_t elen = 0;
	uint8_t *e, *plain;
	snprintf(skp, sizeof skp, "%s/k.sec", d), snprintf(pkp, sizeof pkp, "%s/k.pub", d);
	snprintf(in, sizeof in, "%s/in.bin", d), snprintf(enc, sizeof enc, "%s/in.c4gh", d);
	SQ_REQUIRE(sq_cad_c4gh_keygen(skp, pkp) == 0 && sq_cad_c4gh_load_pk(pkp, pk) == 0 && sq_cad_c4gh_load_sk(skp, sk) == 0);
	SQ_REQUIRE(write_random(in, size, 11) == 0);
	SQ_REQUIRE(sq_cad_c4gh_encrypt_file(in, enc, (const uint8_t (*)[32])pk, 1, hp, NULL, NULL) == 0);
	SQ_REQUIRE((e = (uint8_t *)sq_read_file(enc, &elen)) != NULL);
	SQ_REQUIRE((plain = malloc(size)) != NULL);
	for (size_t start = 0; start < sizeof chunks / sizeof chunks[0]; ++start) {
		for (int flip = 0; flip < 2; ++flip) {
			membuf_t m = { plain, 0, size };
			sq_c4gh_reader_t *r = sq_c4gh_reader_new(sk);
			size_t off = 0, k = start;
			int rc = 0;
			SQ_REQUIRE(r != NULL);
			sq_c4gh_reader_set_sink(r, mem_sink, &m);
			if (flip) e[124 + 5 * 65564 + 1000] ^= 0x10;   /* header is 124 bytes: inside segment 5 */
			while (off < elen && rc == 0) {
				size_t c = chunks[k++ % (sizeof chunks / sizeof chunks[0])];
				if (c > elen - off) c = elen - off;
				rc = sq_c4gh_reader_feed(r, e + off, c);
				off += c;
			}
			if (rc == 0) rc = sq_c4gh_reader_finish(r, hr, NULL);
			if (flip) {
				SQ_CHECKF(rc == SQ_EINPUT, "start %zu: a flipped byte must fail (rc %d)", start, rc);
				e[124 + 5 * 65564 + 1000] ^= 0x10;
			} else {
				SQ_CHECKF(rc == 0 && m.n == size && strcmp(hr, hp) == 0, "start %zu: rc %d, %zu bytes", start, rc, m.n);
			}
			sq_c4gh_reader_free(r);
		}
	}
	{   /* the plaintext itself, not just its hash */
		FILE *fp = fopen(in, "rb");
		uint8_t *orig = malloc(size);
		SQ_REQUIRE(fp && orig && fread(orig, 1, size, fp) == size);
		fclose(fp);
		SQ_CHECK(memcmp(orig, plain, size) == 0);
		free(orig);
	}
	free(e), free(plain);
}

static void test_c4gh_interop_pypi(void)
{
	const char *d = sq_test_tmpdir();
	char in[600], enc[600], skp[600], pkp[600], out[600], h1[65], h2[65];
	uint8_t pk[32], sk[32];
	if (sq_test_sh("python3 -c 'import crypt4gh' 2>/dev/null") != 0)
		SQ_SKIP("PyPI package crypt4gh not installed (make deps / pip install crypt4gh)");
	snprintf(skp, sizeof skp, "%s/k.sec", d), snprintf(pkp, sizeof pkp, "%s/k.pub", d);
	snprintf(in, sizeof in, "%s/in.bin", d), snprintf(enc, sizeof enc, "%s/in.c4gh", d);
	SQ_REQUIRE(sq_cad_c4gh_keygen(skp, pkp) == 0 && sq_cad_c4gh_load_pk(pkp, pk) == 0 && sq_cad_c4gh_load_sk(skp, sk) == 0);
	SQ_REQUIRE(write_random(in, (9 << 20) + 7, 7) == 0);   /* several 4 MiB encryption batches */
	/* seqa encrypts (with seqa's key files), crypt4gh decrypts */
	SQ_REQUIRE(sq_cad_c4gh_encrypt_file(in, enc, (const uint8_t (*)[32])pk, 1, NULL, NULL, NULL) == 0);
	SQ_CHECK(sq_test_sh("crypt4gh decrypt --sk %s < %s > %s/py.out 2>%s/py.err", skp, enc, d, d) == 0);
	SQ_CHECK(sq_test_sh("cmp -s %s %s/py.out", in, d) == 0);
	/* crypt4gh encrypts (its own sender key), seqa decrypts */
	SQ_REQUIRE(sq_test_sh("cd %s && crypt4gh-keygen --sk snd.sec --pk snd.pub --nocrypt -f >/dev/null 2>&1", d) == 0);
	SQ_CHECK(sq_test_sh("crypt4gh encrypt --sk %s/snd.sec --recipient_pk %s < %s > %s/py.c4gh 2>>%s/py.err", d, pkp, in, d, d) == 0);
	snprintf(out, sizeof out, "%s/py.c4gh", d);
	SQ_CHECK(sq_cad_c4gh_decrypt_file(out, NULL, sk, h1) == 0);
	SQ_CHECK(sq_sha256_file(in, h2) == 0 && strcmp(h1, h2) == 0);
	/* and seqa reads keys made by crypt4gh-keygen */
	snprintf(out, sizeof out, "%s/snd.sec", d);
	SQ_CHECK(sq_cad_c4gh_load_sk(out, sk) == 0);
}

/* A run folder with a real VCF (bcftools over the shared tiny chr22 BAM). */
static const char *make_run(const char *d, const char *decision)
{
	static char run[600];
	const char *ref = sq_test_shared("tiny_chr22/q.fa"), *bam = sq_test_shared("tiny_chr22/NA12878.chr22.tiny.bam");
	if (!ref || !bam) SQ_SKIP("../shared/data/tiny_chr22 absent");
	if (!sq_test_have("bcftools")) SQ_SKIP("bcftools not installed");
	snprintf(run, sizeof run, "%s/run", d);
	SQ_REQUIRE(sq_test_sh("mkdir -p %s && bcftools mpileup -Ou -f %s %s 2>/dev/null | bcftools call -mv -Oz -o %s/S9.vcf.gz 2>/dev/null"
	                      " && bcftools index -t %s/S9.vcf.gz", run, ref, bam, run, run) == 0);
	SQ_REQUIRE(sq_test_sh("printf '{\"sample_id\":\"S9\",\"gate\":{\"decision\":\"%s\"},\"metrics\":{\"x\":1}}' > %s/qc.json", decision, run) == 0);
	return run;
}

static void test_manifest_prepare(void)
{
	const char *d = sq_test_tmpdir(), *run = make_run(d, "pass");
	char spool[600], p[1200], hx[65];
	uint8_t ssk[64], spk[32], cpk[32], csk[32];
	sq_cad_delivery_opt_t o;
	sq_cad_delivery_t dl, dl2;
	crypto_sign_keypair(spk, ssk);
	crypto_box_keypair(cpk, csk);
	sq_cad_delivery_opt_init(&o);
	o.run_dir = run, o.platform_id = "plat1", o.sign_sk = ssk, o.rcpt = (const uint8_t (*)[32])cpk, o.n_rcpt = 1;
	snprintf(spool, sizeof spool, "%s/spool", d);
	SQ_REQUIRE(sq_cad_delivery_prepare(&o, spool, &dl) == 0);
	SQ_CHECK(strcmp(dl.sample_id, "S9") == 0);
	SQ_CHECK(sq_cad_verify_json(dl.manifest, "seqa:signature", (const uint8_t (*)[32])spk, 1, NULL) == 0);
	char id[65];
	SQ_CHECK(sq_cad_manifest_check_id(dl.manifest, id) == 0 && strcmp(id, dl.delivery_id) == 0);
	json_t *files = json_object_get(json_object_get(dl.manifest, "seqa:delivery"), "files"), *e;
	size_t i;
	SQ_CHECKF(json_array_size(files) == 3, "files: %zu (vcf, tbi, qc.json)", json_array_size(files));
	json_array_foreach(files, i, e) {   /* plaintext hashes = sha256 of the run folder's files */
		snprintf(p, sizeof p, "%s/%s", run, sq_json_str(e, "name", ""));
		SQ_CHECK(sq_sha256_file(p, hx) == 0 && strcmp(hx, sq_json_str(e, "sha256", "")) == 0);
		snprintf(p, sizeof p, "%s/%s", dl.spool_dir, sq_json_str(json_object_get(e, "encrypted"), "name", ""));
		SQ_CHECK(sq_cad_c4gh_decrypt_file(p, NULL, csk, hx) == 0 && strcmp(hx, sq_json_str(e, "sha256", "")) == 0);
	}
	/* contigs from the VCF header, RO-Crate context */
	SQ_CHECK(json_array_size(json_object_get(json_object_get(json_object_get(dl.manifest, "seqa:delivery"), "reference"), "contigs")) >= 1);
	SQ_CHECK(json_is_array(json_object_get(dl.manifest, "@graph")));
	/* offline verification of the spool folder, with and without the CAD key */
	SQ_CHECK(sq_cad_verify_delivery(dl.spool_dir, (const uint8_t (*)[32])spk, 1, NULL) == 0);
	SQ_CHECK(sq_cad_verify_delivery(dl.spool_dir, (const uint8_t (*)[32])spk, 1, csk) == 0);
	/* same results -> same delivery id (idempotent) */
	SQ_REQUIRE(sq_cad_delivery_prepare(&o, spool, &dl2) == 0);
	SQ_CHECK(strcmp(dl.delivery_id, dl2.delivery_id) == 0);
	sq_cad_delivery_free(&dl2);
	/* a tampered spool file is detected */
	snprintf(p, sizeof p, "%s/qc.json.c4gh", dl.spool_dir);
	SQ_REQUIRE(sq_test_sh("printf 'Z' | dd of=%s bs=1 seek=300 conv=notrunc status=none", p) == 0);
	SQ_CHECK(sq_cad_verify_delivery(dl.spool_dir, (const uint8_t (*)[32])spk, 1, NULL) == SQ_EINPUT);
	sq_cad_delivery_free(&dl);
	/* a failed gate without override is not queued */
	SQ_REQUIRE(sq_test_sh("printf '{\"sample_id\":\"S9\",\"gate\":{\"decision\":\"fail\"}}' > %s/qc.json", run) == 0);
	SQ_CHECK(sq_cad_delivery_prepare(&o, spool, &dl) == SQ_EQC);
	SQ_REQUIRE(sq_test_sh("printf '{\"sample_id\":\"S9\",\"gate\":{\"decision\":\"fail\",\"override\":{\"by\":\"tech2\",\"reason\":\"ok\"}}}' > %s/qc.json", run) == 0);
	SQ_CHECK(sq_cad_delivery_prepare(&o, spool, &dl) == 0);
	sq_cad_delivery_free(&dl);
}

/* The pipeline's run folder: provenance.json with a pseudonym, qc.json with the QC module's gate
 * (seqa/qc.h: status, complete, override, deliverable). */
static void test_manifest_pipeline_format(void)
{
	const char *d = sq_test_tmpdir(), *run = make_run(d, "pass");
	char spool[600], p[1200], hx[65];
	uint8_t ssk[64], spk[32], cpk[32], csk[32];
	sq_cad_delivery_opt_t o;
	sq_cad_delivery_t dl;
	crypto_sign_keypair(spk, ssk);
	crypto_box_keypair(cpk, csk);
	sq_cad_delivery_opt_init(&o);
	o.run_dir = run, o.platform_id = "plat1", o.sign_sk = ssk, o.rcpt = (const uint8_t (*)[32])cpk, o.n_rcpt = 1;
	snprintf(spool, sizeof spool, "%s/spool", d);
	SQ_REQUIRE(sq_test_sh("printf '{\"sample_id\":\"S9\",\"pseudonym\":\"PX-0042\",\"indication\":\"R134\","
	                      "\"run\":{\"run_id\":\"240101_A1_0001\",\"flowcell\":\"HXYZ\",\"instrument\":\"A1\"},"
	                      "\"stages\":[{\"stage\":\"align\",\"wall_s\":1.5}],\"started\":\"2026-01-01T00:00:00Z\"}' > %s/provenance.json", run) == 0);
	/* FAIL, complete, no override: not deliverable */
	SQ_REQUIRE(sq_test_sh("printf '{\"gate\":{\"status\":\"FAIL\",\"complete\":true,\"override\":null,\"profile_id\":\"R134\","
	                      "\"profile_version\":\"2\",\"checks\":[{\"metric\":\"depth\",\"value\":12.5}]}}' > %s/qc.json", run) == 0);
	SQ_CHECK(sq_cad_delivery_prepare(&o, spool, &dl) == SQ_EQC);
	/* FAIL with a recorded override: deliverable, and the override is in the manifest */
	SQ_REQUIRE(sq_test_sh("printf '{\"gate\":{\"status\":\"FAIL\",\"complete\":true,\"override\":{\"by\":\"tech2\",\"at\":\"2026-01-02T00:00:00Z\","
	                      "\"reason\":\"clinically urgent\"},\"profile_id\":\"R134\",\"profile_version\":\"2\","
	                      "\"checks\":[{\"metric\":\"depth\",\"value\":12.5}]}}' > %s/qc.json", run) == 0);
	SQ_REQUIRE(sq_cad_delivery_prepare(&o, spool, &dl) == 0);
	json_t *dv = json_object_get(dl.manifest, "seqa:delivery");
	SQ_CHECK(strcmp(sq_json_str(dv, "sample_id", ""), "PX-0042") == 0);
	SQ_CHECK(strcmp(sq_json_str(dv, "run_id", ""), "240101_A1_0001") == 0 && strcmp(sq_json_str(dv, "flowcell", ""), "HXYZ") == 0);
	SQ_CHECK(strcmp(sq_json_str(json_object_get(dv, "qc"), "decision", ""), "fail") == 0);
	SQ_CHECK(strcmp(sq_json_str(json_object_get(json_object_get(dv, "qc"), "override"), "by", ""), "tech2") == 0);
	SQ_CHECK(strcmp(sq_json_str(json_object_get(dv, "qc_profile"), "id", ""), "R134") == 0);
	SQ_CHECK(json_is_array(json_object_get(json_object_get(dv, "timings"), "stages")));
	/* files named after the local id are delivered under the pseudonym; the local id is nowhere */
	json_t *files = json_object_get(dv, "files"), *e;
	size_t i;
	int renamed = 0;
	json_array_foreach(files, i, e) {
		const char *n = sq_json_str(e, "name", "");
		SQ_CHECKF(strncmp(n, "S9.", 3) != 0, "local id in delivered name %s", n);
		if (strncmp(n, "PX-0042.vcf.gz", 14) == 0) {
			renamed++;
			snprintf(p, sizeof p, "%s/S9%s", run, n + 7);
			SQ_CHECK(sq_sha256_file(p, hx) == 0 && strcmp(hx, sq_json_str(e, "sha256", "")) == 0);
		}
	}
	SQ_CHECK(renamed == 2);   /* .vcf.gz and .vcf.gz.tbi */
	snprintf(p, sizeof p, "%s/PX-0042.vcf.gz.c4gh", dl.spool_dir);
	SQ_CHECK(sq_file_readable(p));
	sq_cad_delivery_free(&dl);
}

static int count(const char *db, const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int n = -1;
	if (sqlite3_open(db, &h) != SQLITE_OK) return -1;
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return n;
}

static void test_outbox_atomic(void)
{
	const char *d = sq_test_tmpdir(), *run = make_run(d, "pass");
	char spool[600], db[600];
	uint8_t ssk[64], spk[32], cpk[32], csk[32];
	sq_cad_delivery_opt_t o;
	crypto_sign_keypair(spk, ssk);
	crypto_box_keypair(cpk, csk);
	sq_cad_delivery_opt_init(&o);
	o.run_dir = run, o.platform_id = "plat1", o.sign_sk = ssk, o.rcpt = (const uint8_t (*)[32])cpk, o.n_rcpt = 1;
	snprintf(spool, sizeof spool, "%s/spool", d), snprintf(db, sizeof db, "%s/ob.db", d);
	/* killed inside the transaction: neither the QC decision nor the queue entry exists */
	pid_t pid = fork();
	if (pid == 0) {
		setenv("SEQA_FAULT_KILL_AT", "enqueue:1", 1);
		sq_cad_outbox_t *ob = sq_cad_outbox_open(db);
		sq_cad_outbox_submit_run(ob, &o, spool, NULL);
		_exit(0);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	SQ_CHECKF(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "child was not killed at the fault point");
	SQ_CHECK(count(db, "SELECT count(*) FROM qc_decisions") == 0);
	SQ_CHECK(count(db, "SELECT count(*) FROM cad_deliveries") == 0);
	/* without the fault: both, once, even when submitted twice */
	sq_cad_outbox_t *ob = sq_cad_outbox_open(db);
	char id1[65], id2[65];
	SQ_REQUIRE(ob);
	SQ_CHECK(sq_cad_outbox_submit_run(ob, &o, spool, id1) == 0);
	SQ_CHECK(sq_cad_outbox_submit_run(ob, &o, spool, id2) == 0);
	SQ_CHECK(strcmp(id1, id2) == 0);
	SQ_CHECK(count(db, "SELECT count(*) FROM cad_deliveries WHERE state='queued'") == 1);
	SQ_CHECK(count(db, "SELECT count(*) FROM cad_files") == 3 + 1);
	SQ_CHECK(count(db, "SELECT count(*) FROM qc_decisions WHERE decision='pass'") >= 1);
	SQ_CHECK(count(db, "PRAGMA journal_mode") == 0);   /* text "wal": column_int -> 0 */
	json_t *l = sq_cad_outbox_list(ob);
	SQ_CHECK(json_array_size(l) == 1);
	json_decref(l);
	json_t *s = sq_cad_outbox_show(ob, id1);
	SQ_CHECK(s && json_array_size(json_object_get(s, "files")) == 4);
	json_decref(s);
	/* retry of a rejected delivery */
	sqlite3_exec(sq_cad_outbox_db(ob), "UPDATE cad_deliveries SET state='rejected', reason='x'", 0, 0, 0);
	SQ_CHECK(sq_cad_outbox_retry(ob, NULL) == 1);
	SQ_CHECK(count(db, "SELECT count(*) FROM cad_deliveries WHERE state='queued' AND reason IS NULL") == 1);
	sq_cad_outbox_close(ob);
}

SQ_TESTS = {
	{ "jcs_rfc8785", test_jcs_rfc8785 },
	{ "jcs_numbers", test_jcs_numbers },
	{ "sign_verify", test_sign_verify },
	{ "c4gh_roundtrip", test_c4gh_roundtrip },
	{ "c4gh_reader_chunks", test_c4gh_reader_chunks },
	{ "c4gh_interop_pypi", test_c4gh_interop_pypi },
	{ "manifest_prepare", test_manifest_prepare },
	{ "manifest_pipeline_format", test_manifest_pipeline_format },
	{ "outbox_atomic", test_outbox_atomic },
	{ 0, 0 }
};
