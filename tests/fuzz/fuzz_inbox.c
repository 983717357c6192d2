/* Fuzz target: seqa-inbox request handling without a TLS connection.  host/inbox/server.c is
 * compiled into this harness (its parsing helpers are static).  The input is
 *   line 1: an Upload-Metadata header value (tus "key b64,key b64"), checked the way a
 *           creation request checks it (meta_get + the delivery/file-name/SHA-256 rules);
 *   line 2: an upload id as it appears in a PATCH/HEAD URL (uid_ok + lookup);
 *   rest:   the manifest JSON of a delivery.  When it parses as an object it is signed with the
 *           platform's key (so mutations get past the signature to the content checks), then
 *           Crypt4GH-encrypted for the inbox, staged as manifest.json.c4gh, and committed with
 *           sq_inbox_commit (the POST /v1/deliveries/<id>/commit handler body).
 * The inbox is a real state folder (SQLite, staging, store) under the scratch folder. */
#include "../../host/inbox/server.c"
#include "fuzz_common.h"
#include "fuzz_keys.h"

static sq_inbox_t g_ib;
static sq_inbox_opt_t g_o;
static uint8_t g_plat_sk[64];
static char g_keys[512];

static void setup(void)
{
	char p[600], q[600];
	const char *d = fz_scratch();
	fk_init();
	snprintf(g_keys, sizeof g_keys, "%s/platforms", d);
	mkdir(g_keys, 0700);
	snprintf(p, sizeof p, "%s/plat1.sign", d);
	snprintf(q, sizeof q, "%s/plat1.pub", g_keys);
	if (sq_cad_sign_keygen(p, q) < 0 || sq_cad_sign_load_sk(p, g_plat_sk) < 0) abort();
	memset(&g_o, 0, sizeof g_o);
	static char dir[512];
	snprintf(dir, sizeof dir, "%s/inbox", d);
	g_o.dir = dir;
	g_o.platform_keys = g_keys;
	g_o.max_file_size = 1 << 20;
	g_o.max_files = 16;
	g_o.rate = 1000;
	g_o.verify_plaintext = 1;
	g_o.threads = 1;
	if (sq_inbox_open(&g_ib, &g_o, 1) < 0) abort();
	sq_inbox_sql(&g_ib, "PRAGMA synchronous=OFF");   /* speed: durability is not what is fuzzed here */
	memcpy(g_ib.c4gh_sk, fk_c4gh_sk, 32);
	randombytes_buf(g_ib.receipt_sk, 0);
	{
		uint8_t pk[32];
		crypto_sign_keypair(pk, g_ib.receipt_sk);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	char *text, *l2, *rest;
	char v[256];
	if (!ready) { setup(); ready = 1; }
	text = fz_str(data, size);
	l2 = strchr(text, '\n');
	if (l2) *l2++ = 0; else l2 = text + strlen(text);
	rest = strchr(l2, '\n');
	if (rest) *rest++ = 0; else rest = l2 + strlen(l2);
	/* 1. tus metadata */
	if (meta_get(text, "delivery", v, sizeof v) == 0) (void)sq_cad_hex64_ok(v);
	if (meta_get(text, "filename", v, sizeof v) == 0) (void)sq_cad_name_ok(v);
	if (meta_get(text, "sha256", v, 128) == 0) (void)sq_cad_hex64_ok(v);
	/* 2. upload id from a URL */
	if (uid_ok(l2)) {
		int64_t len;
		char plat[128], state[16];
		(void)lookup(&g_ib, l2, &len, plat, state);
	}
	/* 3. commit of a delivery whose manifest is the rest */
	{
		size_t rn = size - (size_t)(rest - text);
		json_error_t e;
		json_t *m = json_loadb(rest, rn, 0, &e);
		char did[65], plain[600], enc[600], uid[33], sha[65], body[128], sql[512];
		char *ms = NULL;
		int status = 0;
		uint8_t rc[1][32];
		memcpy(did, "0000000000000000000000000000000000000000000000000000000000000000", 65);
		if (m && json_is_object(m)) {
			json_object_del(m, "seqa:signature");
			if (sq_cad_manifest_check_id(m, did) < 0 || !sq_cad_hex64_ok(did))
				memcpy(did, "1111111111111111111111111111111111111111111111111111111111111111", 65);
			(void)sq_cad_sign_json(m, "seqa:signature", g_plat_sk);
			ms = json_dumps(m, JSON_COMPACT);
		}
		json_decref(m);
		snprintf(plain, sizeof plain, "%s/manifest.plain", fz_scratch());
		fz_write(plain, ms ? (const uint8_t *)ms : (const uint8_t *)rest, ms ? strlen(ms) : rn);
		free(ms);
		sq_inbox_uid(did, "manifest.json.c4gh", uid);
		snprintf(enc, sizeof enc, "%s/%s.part", g_ib.staging, uid);
		memcpy(rc[0], fk_c4gh_pk, 32);
		uint64_t esz = 0;
		if (sq_cad_c4gh_encrypt_file(plain, enc, (const uint8_t (*)[32])rc, 1, NULL, sha, &esz) == 0) {
			sq_inbox_sql(&g_ib, "DELETE FROM uploads WHERE state='open'");
			snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO uploads(uid, delivery, name, length, sha256, platform, created)"
			         " VALUES('%s','%s','manifest.json.c4gh',%llu,'%s','plat1','now')", uid, did, (unsigned long long)esz, sha);
			sq_inbox_sql(&g_ib, sql);
			snprintf(body, sizeof body, "{\"delivery_id\":\"%s\"}", did);
			char *out = sq_inbox_commit(&g_ib, "plat1", did, body, strlen(body), &status);
			free(out);
			unlink(enc);
		}
	}
	free(text);
	return 0;
}
