/* seqa verify — check a delivery offline: manifest signature, delivery id, file hashes
 * (encrypted, and plaintext when the Crypt4GH secret key is given), and the receipt. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "seqa/cad.h"
#include "seqa/cli.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"

#define MAX_K 8

static void usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: seqa verify --platform-key PK [options] DIR\n\n"
	        "DIR is a delivery folder: the outbox spool (manifest.json + *.c4gh), the inbox store\n"
	        "(manifest.json.c4gh, *.c4gh, receipt.json) or decrypted copies named as in the manifest.\n"
	        "Exit 0 if everything verifies, 3 otherwise (each problem is logged).\n\n"
	        "Options:\n"
	        "  -p, --platform-key PK   platform Ed25519 public key(s) trusted for manifests (repeatable)\n"
	        "  -k, --sk SK             Crypt4GH secret key: decrypt and check the plaintext SHA-256s\n"
	        "  -r, --receipt-key PK    CAD Ed25519 public key: also check DIR/receipt.json (repeatable)\n"
	        "      --json              print {\"ok\":..} as JSON\n"
	        "  -h, --help              this help\n");
}

int sq_cmd_verify(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "platform-key", required_argument, 0, 'p' }, { "sk", required_argument, 0, 'k' },
		{ "receipt-key", required_argument, 0, 'r' }, { "json", no_argument, 0, 1 }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	const char *pk[MAX_K], *rk[MAX_K], *skf = NULL, *dir;
	uint8_t pks[MAX_K][32], rks[MAX_K][32], sk[32];
	int c, n_pk = 0, n_rk = 0, json = 0, r, ret = SQ_EXIT_OK;
	while ((c = getopt_long(argc, argv, "p:k:r:h", lo, NULL)) >= 0) {
		switch (c) {
		case 'p': if (n_pk < MAX_K) pk[n_pk++] = optarg; break;
		case 'k': skf = optarg; break;
		case 'r': if (n_rk < MAX_K) rk[n_rk++] = optarg; break;
		case 1: json = 1; break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		default: return sq_cli_usage_error("verify", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc) return sq_cli_usage_error("verify", "one delivery folder expected");
	if (!n_pk) return sq_cli_usage_error("verify", "--platform-key is required");
	dir = argv[optind];
	if (sodium_init() < 0) return SQ_EXIT_FAIL;
	for (int i = 0; i < n_pk; ++i) if ((r = sq_cad_sign_load_pk(pk[i], pks[i])) < 0) return r == SQ_EIO ? SQ_EXIT_IO : SQ_EXIT_INPUT;
	for (int i = 0; i < n_rk; ++i) if ((r = sq_cad_sign_load_pk(rk[i], rks[i])) < 0) return r == SQ_EIO ? SQ_EXIT_IO : SQ_EXIT_INPUT;
	if (skf && (r = sq_cad_c4gh_load_sk(skf, sk)) < 0) return r == SQ_EIO ? SQ_EXIT_IO : SQ_EXIT_INPUT;
	r = sq_cad_verify_delivery(dir, (const uint8_t (*)[32])pks, n_pk, skf ? sk : NULL);
	if (r == SQ_EIO) ret = SQ_EXIT_IO;
	else if (r < 0) ret = SQ_EXIT_INPUT;
	if (r == 0 && n_rk) {
		char p[4096];
		json_t *rc, *files = json_array(), *e;
		size_t i;
		snprintf(p, sizeof p, "%s/receipt.json", dir);
		if (!(rc = sq_file_readable(p) ? sq_json_load(p) : NULL)) { sq_log_error("%s: no readable receipt.json", dir); ret = SQ_EXIT_IO; }
		else {
			json_array_foreach(json_object_get(rc, "files"), i, e) json_array_append(files, e);
			if (sq_cad_receipt_check(rc, sq_json_str(rc, "delivery_id", ""), files, (const uint8_t (*)[32])rks, n_rk) < 0) {
				sq_log_error("%s: receipt INVALID", dir);
				ret = SQ_EXIT_INPUT;
			} else sq_log_info("receipt signature valid (CAD key %s)", sq_json_str(json_object_get(rc, "receipt:signature"), "keyId", "?"));
		}
		json_decref(rc), json_decref(files);
	}
	sodium_memzero(sk, sizeof sk);
	if (json) {
		json_t *j = json_pack("{s:b, s:s}", "ok", ret == SQ_EXIT_OK, "dir", dir);
		sq_json_print(j, stdout);
		json_decref(j);
	} else printf("%s: %s\n", dir, ret == SQ_EXIT_OK ? "OK" : "FAILED");
	return ret;
}
