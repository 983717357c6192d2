/* Fuzz target: offline delivery verification (sq_cad_verify_delivery, `seqa verify`): the input is
 * manifest.json in a folder that also holds one small encrypted result (tests/fuzz/data/); the
 * signature is checked against the fixed platform key (fuzz_keys.h), the delivery id recomputed,
 * file names checked, hashes compared and the file decrypted.  The seeds are signed manifests
 * for those keys, so mutations get past the signature check only where JCS canonicalisation
 * would be fooled (which would be a finding). */
#include <sys/stat.h>
#include "fuzz_common.h"
#include "fuzz_keys.h"
#include "seqa/cad.h"

/* FUZZ_MKSEED=<folder> FUZZ_MKSEED_FROM=<manifest.json>: write that manifest re-signed with the
 * fixed platform key as a seed, and exit. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *out = getenv("FUZZ_MKSEED"), *from = getenv("FUZZ_MKSEED_FROM");
	(void)argc, (void)argv;
	if (!out || !from) return 0;
	fk_init();
	json_error_t e;
	json_t *m = json_load_file(from, 0, &e);
	if (!m) abort();
	json_object_del(m, "seqa:signature");
	if (sq_cad_sign_json(m, "seqa:signature", fk_sign_sk) < 0) abort();
	char p[600];
	snprintf(p, sizeof p, "%s/seed-%s", out, strrchr(from, '/') ? strrchr(from, '/') + 1 : from);
	if (json_dump_file(m, p, JSON_INDENT(1)) < 0) abort();
	json_decref(m);
	exit(0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char p[1100], d[600];
	static int ready;
	fk_init();
	snprintf(d, sizeof d, "%s/delivery", fz_scratch());
	if (!ready) {
		static const char plain[] = "##fileformat=VCFv4.2\n";
		char in[1100];
		uint8_t rc[1][32];
		memcpy(rc[0], fk_c4gh_pk, 32);
		ready = 1;
		mkdir(d, 0700);
		snprintf(in, sizeof in, "%s/plain.vcf", fz_scratch());
		fz_write(in, (const uint8_t *)plain, sizeof plain - 1);
		snprintf(p, sizeof p, "%s/S1.vcf.gz.c4gh", d);
		if (sq_cad_c4gh_encrypt_file(in, p, (const uint8_t (*)[32])rc, 1, NULL, NULL, NULL) < 0) abort();
	}
	snprintf(p, sizeof p, "%s/manifest.json", d);
	fz_write(p, data, size);
	(void)sq_cad_verify_delivery(d, (const uint8_t (*)[32])fk_sign_pk, 1, fk_c4gh_sk);
	json_error_t e;
	json_t *m = json_loadb((const char *)data, size, 0, &e);
	if (m) {
		char id[65];
		(void)sq_cad_manifest_check_id(m, id);
		json_decref(m);
	}
	return 0;
}
