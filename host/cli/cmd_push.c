/* seqa push — drain the delivery outbox to the CAD inbox (once, or as a loop for the daemon). */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "seqa/cad.h"
#include "seqa/cli.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"

#define MAX_RK 8

static void usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: seqa push [options]\n\n"
	        "Deliver every due entry of the outbox to the CAD inbox (HTTPS, mutual TLS, resumable\n"
	        "uploads), verify and store the signed receipts.  Exit 0 when nothing is left failing,\n"
	        "8 when a delivery was deferred (inbox unreachable: retried later with backoff) or rejected.\n\n"
	        "Options:\n"
	        "  -o, --outbox DB        outbox database (default $SEQA_OUTBOX or seqa-outbox.db)\n"
	        "  -c, --config FILE      JSON with url, ca, cert, key, receipt_keys[] (options override it)\n"
	        "  -u, --url URL          inbox base URL (https://host:port)\n"
	        "      --ca FILE          the CAD's CA certificate (the only trust anchor)\n"
	        "      --cert FILE        this platform's client certificate (PEM)\n"
	        "      --key FILE         its private key (PEM, 0600)\n"
	        "      --receipt-key PK   the CAD's Ed25519 receipt public key (repeatable)\n"
	        "      --loop             keep draining (daemon mode) until SIGTERM/SIGINT\n"
	        "      --poll S           in --loop, look for new work at least every S seconds (default 5)\n"
	        "      --backoff S        first retry delay in seconds (default 2; doubles, with jitter)\n"
	        "      --backoff-max S    longest retry delay (default 600)\n"
	        "      --max-attempts N   transient failures before a delivery is rejected (default 0 = never)\n"
	        "      --chunk BYTES      bytes per PATCH request (default: the rest of the file)\n"
	        "      --timeout S        connect / stall timeout (default 30)\n"
	        "      --json             print the counts as JSON\n"
	        "  -h, --help             this help\n");
}

static volatile int g_stop;
static void on_sig(int s) { (void)s; g_stop = 1; }

int sq_cmd_push(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "outbox", required_argument, 0, 'o' }, { "config", required_argument, 0, 'c' }, { "url", required_argument, 0, 'u' },
		{ "ca", required_argument, 0, 1 }, { "cert", required_argument, 0, 2 }, { "key", required_argument, 0, 3 },
		{ "receipt-key", required_argument, 0, 4 }, { "loop", no_argument, 0, 5 }, { "poll", required_argument, 0, 6 },
		{ "backoff", required_argument, 0, 7 }, { "backoff-max", required_argument, 0, 8 }, { "max-attempts", required_argument, 0, 9 },
		{ "chunk", required_argument, 0, 10 }, { "timeout", required_argument, 0, 11 }, { "json", no_argument, 0, 12 },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	sq_cad_push_opt_t o;
	const char *db = getenv("SEQA_OUTBOX") ? getenv("SEQA_OUTBOX") : "seqa-outbox.db", *config = NULL, *rk[MAX_RK];
	uint8_t pks[MAX_RK][32];
	int c, n_rk = 0, loop = 0, json = 0, ret = SQ_EXIT_OK;
	double poll = 5;
	json_t *cfg = NULL;
	sq_cad_outbox_t *ob = NULL;
	sq_cad_push_opt_init(&o);
	while ((c = getopt_long(argc, argv, "o:c:u:h", lo, NULL)) >= 0) {
		switch (c) {
		case 'o': db = optarg; break;
		case 'c': config = optarg; break;
		case 'u': o.url = optarg; break;
		case 1: o.ca_file = optarg; break;
		case 2: o.cert_file = optarg; break;
		case 3: o.key_file = optarg; break;
		case 4: if (n_rk < MAX_RK) rk[n_rk++] = optarg; break;
		case 5: loop = 1; break;
		case 6: poll = atof(optarg); break;
		case 7: o.backoff_base = atof(optarg); break;
		case 8: o.backoff_max = atof(optarg); break;
		case 9: o.max_attempts = atoi(optarg); break;
		case 10: o.chunk = atol(optarg); break;
		case 11: o.timeout = atof(optarg); break;
		case 12: json = 1; break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		default: return sq_cli_usage_error("push", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc) return sq_cli_usage_error("push", "unexpected argument '%s'", argv[optind]);
	if (sodium_init() < 0) return SQ_EXIT_FAIL;
	if (config) {
		if (!sq_file_readable(config)) { sq_log_error("cannot read config '%s'", config); return SQ_EXIT_IO; }
		if (!(cfg = sq_json_load(config))) return SQ_EXIT_INPUT;
		if (!o.url) o.url = sq_json_str(cfg, "url", NULL);
		if (!o.ca_file) o.ca_file = sq_json_str(cfg, "ca", NULL);
		if (!o.cert_file) o.cert_file = sq_json_str(cfg, "cert", NULL);
		if (!o.key_file) o.key_file = sq_json_str(cfg, "key", NULL);
		json_t *a = json_object_get(cfg, "receipt_keys"), *e;
		size_t i;
		if (!n_rk) json_array_foreach(a, i, e) if (json_is_string(e) && n_rk < MAX_RK) rk[n_rk++] = json_string_value(e);
	}
	if (!o.url || !o.ca_file || !o.cert_file || !o.key_file || !n_rk) {
		ret = sq_cli_usage_error("push", "--url, --ca, --cert, --key and --receipt-key are required (or --config)");
		goto out;
	}
	{
		const char *files[3] = { o.ca_file, o.cert_file, o.key_file };
		for (int i = 0; i < 3; ++i) if (!sq_file_readable(files[i])) { sq_log_error("cannot read '%s'", files[i]); ret = SQ_EXIT_IO; goto out; }
	}
	for (int i = 0; i < n_rk; ++i) {
		int r = sq_cad_sign_load_pk(rk[i], pks[i]);
		if (r < 0) { ret = r == SQ_EIO ? SQ_EXIT_IO : SQ_EXIT_INPUT; goto out; }
	}
	o.receipt_pks = (const uint8_t (*)[32])pks, o.n_receipt_pk = n_rk;
	if (!(ob = sq_cad_outbox_open(db))) { ret = SQ_EXIT_OUTPUT; goto out; }
	if (loop) {
		signal(SIGTERM, on_sig), signal(SIGINT, on_sig);
		int r = sq_cad_push_loop(ob, &o, poll, &g_stop);
		ret = r < 0 ? sq_err2exit(r) : SQ_EXIT_OK;
	} else {
		sq_cad_push_stat_t st;
		int r = sq_cad_push_once(ob, &o, &st);
		if (json) {
			json_t *j = json_pack("{s:i, s:i, s:i, s:i}", "delivered", st.delivered, "rejected", st.rejected,
			                      "deferred", st.deferred, "pending", st.pending);
			sq_json_print(j, stdout);
			json_decref(j);
		} else {
			fprintf(stderr, "[M::push] delivered %d, rejected %d, deferred %d, still pending %d\n", st.delivered, st.rejected, st.deferred, st.pending);
		}
		ret = r == SQ_EREMOTE || st.rejected ? SQ_EXIT_REMOTE : r < 0 ? sq_err2exit(r) : SQ_EXIT_OK;
	}
	sq_cli_summary();
out:
	sq_cad_outbox_close(ob);
	json_decref(cfg);
	sodium_memzero(pks, sizeof pks);
	return ret;
}
