/* seqa-inbox — the reference CAD receiver.  See docs/PROTOCOL.md.
 *
 *   seqa-inbox serve --dir D --cert C --key K --ca CA --platform-keys DIR --c4gh-sk SK --receipt-sk RK
 *   seqa-inbox list --dir D
 *   seqa-inbox keygen --sign SK PK | --c4gh SK PK
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <jansson.h>
#include <sodium.h>
#include "seqa/cad.h"
#include "seqa/json.h"
#include "seqa/log.h"
#include "seqa/util.h"
#include "seqa/version.h"
#include "inbox.h"

static void usage(FILE *fp)
{
	fprintf(fp,
	        "Usage: seqa-inbox serve [options]     run the HTTPS receiver\n"
	        "       seqa-inbox list --dir DIR      committed deliveries as JSON\n"
	        "       seqa-inbox keygen --sign SK PK | --c4gh SK PK\n\n"
	        "serve options:\n"
	        "  --dir DIR             state folder (inbox.db, staging/, store/) [required]\n"
	        "  --listen IP:PORT      address (default 127.0.0.1:8443; port 0 = any free port)\n"
	        "  --port-file FILE      write the bound port there once listening\n"
	        "  --cert FILE --key FILE  server certificate and key (PEM)\n"
	        "  --ca FILE             CA that issues platform client certificates (the only one trusted)\n"
	        "  --platform-keys DIR   Ed25519 public keys of known platforms: DIR/<platform-id>.pub\n"
	        "  --c4gh-sk FILE        the CAD's Crypt4GH secret key (0600)\n"
	        "  --receipt-sk FILE     the CAD's Ed25519 receipt signing key (0600)\n"
	        "  --max-file-size N     bytes per uploaded file (default 68719476736; suffix K/M/G)\n"
	        "  --max-files N         files per delivery (default 32)\n"
	        "  --rate R              requests per second per client certificate (default 100; 0 = off)\n"
	        "  --no-verify-plaintext do not decrypt files at commit (SHA-256 + manifest checks only)\n"
	        "  --staging-ttl DAYS    at start-up, remove uploads left uncommitted longer (default 14)\n"
	        "  --log-level L         error|warn|info|debug\n"
	        "  -h, --help            this help\n");
}

/* The TLS files, checked before anything starts, so that a bad one is named with its problem
 * (libmicrohttpd only says that the daemon did not start).  SQ_EIO unreadable, SQ_EINPUT bad. */
static int check_tls_files(const char *cert, const char *key, const char *ca)
{
	const char *what[3] = { "server certificate (--cert)", "server key (--key)", "client CA (--ca)" }, *path[3] = { cert, key, ca };
	gnutls_datum_t data[3] = { { 0 } };
	gnutls_x509_crt_t crt[16];
	gnutls_x509_privkey_t pk = NULL;
	gnutls_certificate_credentials_t cred = NULL;
	unsigned n = 0;
	int r, ret = SQ_EINPUT;
	for (int i = 0; i < 3; ++i)
		if (access(path[i], R_OK) != 0 || gnutls_load_file(path[i], &data[i]) < 0) {
			sq_log_error("%s '%s' cannot be read: %s", what[i], path[i], strerror(errno ? errno : EIO));
			ret = SQ_EIO;
			goto out;
		}
	for (int i = 0; i < 3; i += 2) {   /* the certificate and the CA: PEM X.509, valid now */
		n = 16;
		if ((r = gnutls_x509_crt_list_import(crt, &n, &data[i], GNUTLS_X509_FMT_PEM, 0)) < 0 || n == 0) {
			sq_log_error("%s '%s' is not a PEM X.509 certificate: %s", what[i], path[i], r < 0 ? gnutls_strerror(r) : "no certificate in it");
			n = 0;
			goto out;
		}
		time_t now = time(NULL), nb = gnutls_x509_crt_get_activation_time(crt[0]), na = gnutls_x509_crt_get_expiration_time(crt[0]);
		for (unsigned k = 0; k < n; ++k) gnutls_x509_crt_deinit(crt[k]);
		n = 0;
		if (na != (time_t)-1 && na < now) {
			char b[32];
			strftime(b, sizeof b, "%Y-%m-%d %H:%M:%SZ", gmtime(&na));
			sq_log_error("%s '%s' expired on %s", what[i], path[i], b);
			goto out;
		}
		if (nb != (time_t)-1 && nb > now) {
			char b[32];
			strftime(b, sizeof b, "%Y-%m-%d %H:%M:%SZ", gmtime(&nb));
			sq_log_error("%s '%s' is not valid before %s", what[i], path[i], b);
			goto out;
		}
	}
	if ((r = gnutls_x509_privkey_init(&pk)) < 0 || (r = gnutls_x509_privkey_import2(pk, &data[1], GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		sq_log_error("%s '%s' is not an unencrypted PEM private key: %s", what[1], path[1], gnutls_strerror(r));
		goto out;
	}
	if ((r = gnutls_certificate_allocate_credentials(&cred)) < 0
	    || (r = gnutls_certificate_set_x509_key_mem2(cred, &data[0], &data[1], GNUTLS_X509_FMT_PEM, NULL, 0)) < 0) {
		sq_log_error("server certificate '%s' and key '%s' do not go together: %s", cert, key, gnutls_strerror(r));
		goto out;
	}
	ret = 0;
out:
	for (unsigned k = 0; k < n; ++k) gnutls_x509_crt_deinit(crt[k]);
	if (pk) gnutls_x509_privkey_deinit(pk);
	if (cred) gnutls_certificate_free_credentials(cred);
	if (data[1].data) gnutls_memset(data[1].data, 0, data[1].size);
	for (int i = 0; i < 3; ++i) gnutls_free(data[i].data);
	return ret;
}

static int64_t parse_size(const char *s)
{
	char *e;
	double v = strtod(s, &e);
	if (e == s || v < 0) return -1;
	if (*e == 'K' || *e == 'k') v *= 1024;
	else if (*e == 'M' || *e == 'm') v *= 1024.0 * 1024;
	else if (*e == 'G' || *e == 'g') v *= 1024.0 * 1024 * 1024;
	else if (*e) return -1;
	return (int64_t)v;
}

int main(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "dir", required_argument, 0, 'd' }, { "listen", required_argument, 0, 'l' }, { "port-file", required_argument, 0, 'P' },
		{ "cert", required_argument, 0, 'c' }, { "key", required_argument, 0, 'k' }, { "ca", required_argument, 0, 'a' },
		{ "platform-keys", required_argument, 0, 'p' }, { "c4gh-sk", required_argument, 0, 's' }, { "receipt-sk", required_argument, 0, 'r' },
		{ "max-file-size", required_argument, 0, 'M' }, { "max-files", required_argument, 0, 'F' }, { "rate", required_argument, 0, 'R' },
		{ "no-verify-plaintext", no_argument, 0, 'N' }, { "log-level", required_argument, 0, 'v' },
		{ "staging-ttl", required_argument, 0, 'T' },
		{ "sign", no_argument, 0, 'S' }, { "c4gh", no_argument, 0, 'C' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	sq_inbox_opt_t o = { .listen = "127.0.0.1:8443", .max_file_size = 64LL << 30, .max_files = 32, .rate = 100, .verify_plaintext = 1,
	                     .staging_ttl_days = 14 };
	sq_inbox_t ib;
	const char *cmd;
	int c, kg = 0, ret;
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) { usage(argc < 2 ? stderr : stdout); return argc < 2 ? SQ_EXIT_USAGE : 0; }
	if (!strcmp(argv[1], "--version")) { printf("seqa-inbox %s\n", sq_version()); return 0; }
	cmd = argv[1];
	if (strcmp(cmd, "serve") && strcmp(cmd, "list") && strcmp(cmd, "keygen")) {
		fprintf(stderr, "seqa-inbox: unknown command '%s' (see seqa-inbox --help)\n", cmd);
		return SQ_EXIT_USAGE;
	}
	if (getenv("SEQA_LOG_LEVEL") && sq_log_parse_level(getenv("SEQA_LOG_LEVEL")) >= 0) sq_log_set_level(sq_log_parse_level(getenv("SEQA_LOG_LEVEL")));
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) >= 0) {
		switch (c) {
		case 'd': o.dir = optarg; break;
		case 'l': o.listen = optarg; break;
		case 'P': o.port_file = optarg; break;
		case 'c': o.cert = optarg; break;
		case 'k': o.key = optarg; break;
		case 'a': o.ca = optarg; break;
		case 'p': o.platform_keys = optarg; break;
		case 's': o.c4gh_sk_file = optarg; break;
		case 'r': o.receipt_sk_file = optarg; break;
		case 'M': if ((o.max_file_size = parse_size(optarg)) < 0) { fprintf(stderr, "seqa-inbox: bad --max-file-size\n"); return SQ_EXIT_USAGE; } break;
		case 'F': o.max_files = atoi(optarg); break;
		case 'R': o.rate = atof(optarg); break;
		case 'N': o.verify_plaintext = 0; break;
		case 'T': o.staging_ttl_days = atof(optarg); break;
		case 'v': if (sq_log_parse_level(optarg) < 0) { fprintf(stderr, "seqa-inbox: bad --log-level\n"); return SQ_EXIT_USAGE; }
		          sq_log_set_level(sq_log_parse_level(optarg)); break;
		case 'S': kg = 1; break;
		case 'C': kg = 2; break;
		case 'h': usage(stdout); return 0;
		default: fprintf(stderr, "seqa-inbox %s: unknown option (see seqa-inbox --help)\n", cmd); return SQ_EXIT_USAGE;
		}
	}
	if (sodium_init() < 0) return SQ_EXIT_FAIL;
	if (!strcmp(cmd, "keygen")) {
		if (!kg || optind + 2 != argc) { fprintf(stderr, "seqa-inbox keygen: --sign|--c4gh SK PK\n"); return SQ_EXIT_USAGE; }
		ret = kg == 1 ? sq_cad_sign_keygen(argv[optind], argv[optind + 1]) : sq_cad_c4gh_keygen(argv[optind], argv[optind + 1]);
		return ret < 0 ? sq_err2exit(ret) : 0;
	}
	if (!o.dir) { fprintf(stderr, "seqa-inbox %s: --dir is required\n", cmd); return SQ_EXIT_USAGE; }
	if (!strcmp(cmd, "list")) {
		if ((ret = sq_inbox_open(&ib, &o, 0)) < 0) return sq_err2exit(ret);
		json_t *l = sq_inbox_list(&ib, NULL);
		ret = sq_json_print(l, stdout);
		json_decref(l);
		sq_inbox_close(&ib);
		return ret < 0 ? SQ_EXIT_OUTPUT : 0;
	}
	if (!o.cert || !o.key || !o.ca || !o.platform_keys || !o.c4gh_sk_file || !o.receipt_sk_file) {
		fprintf(stderr, "seqa-inbox serve: --cert, --key, --ca, --platform-keys, --c4gh-sk and --receipt-sk are required\n");
		return SQ_EXIT_USAGE;
	}
	if ((ret = check_tls_files(o.cert, o.key, o.ca)) < 0) return sq_err2exit(ret);
	if ((ret = sq_inbox_open(&ib, &o, 1)) < 0) return sq_err2exit(ret);
	if ((ret = sq_cad_c4gh_load_sk(o.c4gh_sk_file, ib.c4gh_sk)) < 0 || (ret = sq_cad_sign_load_sk(o.receipt_sk_file, ib.receipt_sk)) < 0) {
		sq_inbox_close(&ib);
		return sq_err2exit(ret);
	}
	ret = sq_inbox_serve(&ib);
	sq_inbox_close(&ib);
	return ret < 0 ? sq_err2exit(ret) : 0;
}
