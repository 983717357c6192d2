/* seqa outbox — list/show/retry deliveries; enqueue a run folder; make delivery keys. */
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

#define MAX_RCPT 8
#define MAX_FILES 32

static void usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: seqa outbox list  [-o DB] [--json]\n"
	        "       seqa outbox show  [-o DB] ID            (JSON: state, files, receipt; ID may be a prefix)\n"
	        "       seqa outbox retry [-o DB] [ID]          (rejected -> queued, and due now; all when no ID)\n"
	        "       seqa outbox enqueue [-o DB] --platform ID --sign-key SK --cad-key PK [options] RUN_DIR\n"
	        "       seqa outbox keygen --sign SK PK | --c4gh SK PK\n"
	        "       seqa outbox encrypt --cad-key PK [--escrow-key PK] IN OUT   (Crypt4GH-encrypt one file)\n"
	        "       seqa outbox decrypt --sk SK IN OUT                          (Crypt4GH-decrypt one file)\n\n"
	        "enqueue encrypts the run folder's results (VCF, gVCF, index, qc.json) with Crypt4GH for the\n"
	        "CAD (and escrow keys), writes the signed provenance manifest, and records the QC decision and\n"
	        "the queue entry in one transaction.  A sample whose QC gate failed without an override is\n"
	        "refused (exit 7).\n\n"
	        "Options:\n"
	        "  -o, --outbox DB       outbox database (default $SEQA_OUTBOX or seqa-outbox.db)\n"
	        "      --spool DIR       where encrypted deliveries wait (default: DB's folder/spool)\n"
	        "      --platform ID     this platform's id (its TLS client certificate CN)\n"
	        "      --sign-key SK     the platform's Ed25519 secret key (0600)\n"
	        "      --cad-key PK      the CAD's Crypt4GH public key\n"
	        "      --escrow-key PK   an extra Crypt4GH recipient (repeatable)\n"
	        "      --sample ID       pseudonymised sample id (default: provenance.json / qc.json)\n"
	        "      --operator NAME   operator (default: provenance.json, else $USER)\n"
	        "      --file NAME       deliver this file of RUN_DIR (repeatable; default: the results found)\n"
	        "      --allow-qc-fail   queue even a failed gate without override (testing only)\n"
	        "      --sign | --c4gh   keygen: an Ed25519 signing pair or a Crypt4GH X25519 pair\n"
	        "      --json            list: JSON instead of a table\n"
	        "      --sk SK           decrypt: the Crypt4GH secret key\n"
	        "  -h, --help            this help\n");
}

static int load_rcpt(const char *path, uint8_t pk[32])
{
	int r = sq_cad_c4gh_load_pk(path, pk);
	return r == SQ_EIO ? SQ_EXIT_IO : r < 0 ? SQ_EXIT_INPUT : 0;
}

int sq_cmd_outbox(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "outbox", required_argument, 0, 'o' }, { "spool", required_argument, 0, 1 }, { "platform", required_argument, 0, 2 },
		{ "sign-key", required_argument, 0, 3 }, { "cad-key", required_argument, 0, 4 }, { "escrow-key", required_argument, 0, 5 },
		{ "sample", required_argument, 0, 6 }, { "operator", required_argument, 0, 7 }, { "file", required_argument, 0, 8 },
		{ "allow-qc-fail", no_argument, 0, 9 }, { "sign", no_argument, 0, 10 }, { "c4gh", no_argument, 0, 11 },
		{ "json", no_argument, 0, 12 }, { "sk", required_argument, 0, 13 }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	const char *db = getenv("SEQA_OUTBOX") ? getenv("SEQA_OUTBOX") : "seqa-outbox.db", *spool = NULL, *sign_key = NULL, *cad_key = NULL, *skf = NULL;
	const char *escrow[MAX_RCPT], *files[MAX_FILES + 1];
	int c, n_escrow = 0, n_files = 0, kg = 0, json = 0, ret = SQ_EXIT_OK;
	sq_cad_delivery_opt_t dopt;
	sq_cad_outbox_t *ob = NULL;
	uint8_t sk[64], rcpt[MAX_RCPT + 1][32];
	const char *sub;
	sq_cad_delivery_opt_init(&dopt);
	while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) >= 0) {
		switch (c) {
		case 'o': db = optarg; break;
		case 1: spool = optarg; break;
		case 2: dopt.platform_id = optarg; break;
		case 3: sign_key = optarg; break;
		case 4: cad_key = optarg; break;
		case 5: if (n_escrow < MAX_RCPT) escrow[n_escrow++] = optarg; break;
		case 6: dopt.sample_id = optarg; break;
		case 7: dopt.operator_name = optarg; break;
		case 8: if (n_files < MAX_FILES) files[n_files++] = optarg; break;
		case 9: dopt.allow_qc_fail = 1; break;
		case 10: kg = 1; break;
		case 11: kg = 2; break;
		case 12: json = 1; break;
		case 13: skf = optarg; break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		default: return sq_cli_usage_error("outbox", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc) return sq_cli_usage_error("outbox", "missing sub-command (list, show, retry, enqueue, keygen)");
	sub = argv[optind++];
	if (sodium_init() < 0) return SQ_EXIT_FAIL;
	if (!strcmp(sub, "keygen")) {
		if (!kg || optind + 2 != argc) return sq_cli_usage_error("outbox", "keygen needs --sign or --c4gh and SK PK");
		int r = kg == 1 ? sq_cad_sign_keygen(argv[optind], argv[optind + 1]) : sq_cad_c4gh_keygen(argv[optind], argv[optind + 1]);
		return r < 0 ? sq_err2exit(r) : SQ_EXIT_OK;
	}
	if (!strcmp(sub, "decrypt")) {
		uint8_t csk[32];
		char hp[65];
		int r;
		if (!skf || optind + 2 != argc) return sq_cli_usage_error("outbox", "decrypt needs --sk and IN OUT");
		if (!sq_file_readable(argv[optind])) { sq_log_error("cannot read '%s'", argv[optind]); return SQ_EXIT_IO; }
		if ((r = sq_cad_c4gh_load_sk(skf, csk)) < 0) return r == SQ_EIO ? SQ_EXIT_IO : SQ_EXIT_INPUT;
		r = sq_cad_c4gh_decrypt_file(argv[optind], argv[optind + 1], csk, hp);
		sodium_memzero(csk, sizeof csk);
		if (r < 0) return sq_err2exit(r);
		printf("%s  %s\n", hp, argv[optind + 1]);
		return SQ_EXIT_OK;
	}
	if (!strcmp(sub, "encrypt")) {
		char hp[65], he[65];
		if (!cad_key || optind + 2 != argc) return sq_cli_usage_error("outbox", "encrypt needs --cad-key and IN OUT");
		if (!sq_file_readable(argv[optind])) { sq_log_error("cannot read '%s'", argv[optind]); return SQ_EXIT_IO; }
		if ((ret = load_rcpt(cad_key, rcpt[0])) != 0) return ret;
		for (int i = 0; i < n_escrow; ++i) if ((ret = load_rcpt(escrow[i], rcpt[i + 1])) != 0) return ret;
		int r = sq_cad_c4gh_encrypt_file(argv[optind], argv[optind + 1], (const uint8_t (*)[32])rcpt, 1 + n_escrow, hp, he, NULL);
		if (r < 0) return sq_err2exit(r);
		printf("%s  %s\n%s  %s\n", hp, argv[optind], he, argv[optind + 1]);
		return SQ_EXIT_OK;
	}
	if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "retry") && strcmp(sub, "enqueue"))
		return sq_cli_usage_error("outbox", "unknown sub-command '%s'", sub);
	if (!strcmp(sub, "show") && optind + 1 != argc) return sq_cli_usage_error("outbox", "show needs one ID");
	if (!strcmp(sub, "enqueue")) {
		if (optind + 1 != argc) return sq_cli_usage_error("outbox", "enqueue needs one RUN_DIR");
		if (!dopt.platform_id || !sign_key || !cad_key) return sq_cli_usage_error("outbox", "enqueue needs --platform, --sign-key and --cad-key");
	}
	if (strcmp(sub, "enqueue") && !sq_file_readable(db)) { sq_log_error("no outbox at '%s'", db); return SQ_EXIT_IO; }
	if (!(ob = sq_cad_outbox_open(db))) return SQ_EXIT_OUTPUT;
	if (!strcmp(sub, "list")) {
		json_t *l = sq_cad_outbox_list(ob), *e;
		size_t i;
		if (!l) { ret = SQ_EXIT_FAIL; goto out; }
		if (json) ret = sq_json_print(l, stdout) < 0 ? SQ_EXIT_OUTPUT : 0;
		else {
			printf("%-16s  %-12s  %-10s  %8s  %s\n", "ID", "SAMPLE", "STATE", "ATTEMPTS", "LAST ERROR / REASON");
			json_array_foreach(l, i, e)
				printf("%-16.16s  %-12s  %-10s  %8lld  %s\n", sq_json_str(e, "id", ""), sq_json_str(e, "sample", ""), sq_json_str(e, "state", ""),
				       sq_json_int(e, "attempts", 0), sq_json_str(e, "reason", sq_json_str(e, "last_error", "")));
		}
		json_decref(l);
	} else if (!strcmp(sub, "show")) {
		json_t *d = sq_cad_outbox_show(ob, argv[optind]);
		if (!d) { sq_log_error("no delivery '%s' in the outbox", argv[optind]); ret = SQ_EXIT_INPUT; goto out; }
		ret = sq_json_print(d, stdout) < 0 ? SQ_EXIT_OUTPUT : 0;
		json_decref(d);
	} else if (!strcmp(sub, "retry")) {
		int n = sq_cad_outbox_retry(ob, optind < argc ? argv[optind] : NULL);
		if (n < 0) { ret = SQ_EXIT_OUTPUT; goto out; }
		fprintf(stderr, "[M::outbox] %d deliver%s due now\n", n, n == 1 ? "y" : "ies");
	} else {   /* enqueue */
		char spool_buf[4096], id[65];
		int r;
		dopt.run_dir = argv[optind];
		if ((r = sq_cad_sign_load_sk(sign_key, sk)) < 0) { ret = r == SQ_EIO ? SQ_EXIT_IO : SQ_EXIT_INPUT; goto out; }
		if ((ret = load_rcpt(cad_key, rcpt[0])) != 0) goto out;
		for (int i = 0; i < n_escrow; ++i) if ((ret = load_rcpt(escrow[i], rcpt[i + 1])) != 0) goto out;
		if (!spool) {
			const char *sl = strrchr(db, '/');
			snprintf(spool_buf, sizeof spool_buf, "%.*s%sspool", sl ? (int)(sl - db) : 0, db, sl ? "/" : "");
			spool = spool_buf;
		}
		files[n_files] = NULL;
		dopt.files = n_files ? files : NULL;
		dopt.sign_sk = sk, dopt.rcpt = (const uint8_t (*)[32])rcpt, dopt.n_rcpt = 1 + n_escrow;
		r = sq_cad_outbox_submit_run(ob, &dopt, spool, id);
		if (r < 0) { ret = sq_err2exit(r); goto out; }
		printf("%s\n", id);
		sq_cli_summary();
	}
out:
	sodium_memzero(sk, sizeof sk);
	sq_cad_outbox_close(ob);
	return ret;
}
