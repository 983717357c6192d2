/* seqa serve — run the appliance service; see seqa/server.h and README "seqa serve". */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "seqa/cli.h"
#include "seqa/log.h"
#include "seqa/server.h"
#include "seqa/util.h"

static sq_srv_t *volatile sq_serve_srv;

static void on_signal(int sig)
{
	sq_srv_t *s = sq_serve_srv;
	if (!s) return;
	if (sig == SIGHUP) sq_srv_reopen_log(s);
	else sq_srv_stop(s);
}

static void usage(FILE *fp)
{
	fprintf(fp,
"Usage: seqa serve [options]\n\n"
"Run the service: job database, scheduler over devices, REST API, dashboard, run-folder watcher.\n\n"
"Options:\n"
"  -c, --config FILE       configuration (default /etc/seqa/seqa.conf; see etc/seqa.conf.example)\n"
"      --listen ADDR:PORT  override [server] listen (port 0: any free port)\n"
"      --data-dir DIR      override [paths] data_dir\n"
"      --port-file FILE    write the bound port there (for tests and scripts)\n"
"      --check             check the configuration and exit (0 valid, 3 invalid)\n"
"      --new-token NAME ROLE\n"
"                          print a new random token and its [tokens] line (role: pipeline,\n"
"                          technician or admin); only the SHA-256 goes into the configuration\n"
"      --hash-token        read a token on stdin, print its SHA-256\n"
"      --log-human         human log lines instead of JSON lines\n"
"  -h, --help              this help\n\n"
"Signals: SIGTERM/SIGINT stop (running jobs are re-queued and resume), SIGHUP reopens the log file.\n"
"Exit status: 0 stopped cleanly, 2 usage, 3 invalid configuration, 4 unreadable configuration,\n"
"5 cannot listen or write the data directory.\n");
}

int sq_cmd_serve(int argc, char *argv[])
{
	static const struct option lo[] = {
		{ "config", required_argument, 0, 'c' }, { "listen", required_argument, 0, 'l' },
		{ "data-dir", required_argument, 0, 'd' }, { "port-file", required_argument, 0, 'p' },
		{ "check", no_argument, 0, 'C' }, { "new-token", required_argument, 0, 'N' },
		{ "hash-token", no_argument, 0, 'H' }, { "log-human", no_argument, 0, 'L' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 }
	};
	const char *config = "/etc/seqa/seqa.conf", *listen = NULL, *data_dir = NULL, *port_file = NULL, *new_name = NULL;
	int check = 0, hash = 0, human = 0, c, ret = SQ_EXIT_OK, config_given = 0;
	sq_srv_conf_t conf;
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", lo, NULL)) >= 0) {
		switch (c) {
		case 'c': config = optarg; config_given = 1; break;
		case 'l': listen = optarg; break;
		case 'd': data_dir = optarg; break;
		case 'p': port_file = optarg; break;
		case 'C': check = 1; break;
		case 'N': new_name = optarg; break;
		case 'H': hash = 1; break;
		case 'L': human = 1; break;
		case 'h': usage(stdout); return SQ_EXIT_OK;
		default: return sq_cli_usage_error("serve", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (new_name) {
		char tok[44], hex[65];
		if (optind >= argc || !sq_srv_role_parse(argv[optind]))
			return sq_cli_usage_error("serve", "--new-token NAME ROLE: ROLE is pipeline, technician or admin");
		sq_srv_token_new(tok);
		sq_srv_token_hash(tok, hex);
		printf("token: %s\n[tokens]\n%s = %s %s\n", tok, new_name, sq_srv_role_name(sq_srv_role_parse(argv[optind])), hex);
		return SQ_EXIT_OK;
	}
	if (hash) {
		char line[1024], hex[65];
		if (!fgets(line, sizeof line, stdin)) return SQ_EXIT_INPUT;
		line[strcspn(line, "\r\n")] = 0;
		sq_srv_token_hash(line, hex);
		printf("%s\n", hex);
		return SQ_EXIT_OK;
	}
	if (optind < argc) return sq_cli_usage_error("serve", "unexpected argument '%s'", argv[optind]);
	sq_srv_conf_init(&conf);
	if (access(config, F_OK) == 0 || config_given) {
		int r = sq_srv_conf_load(&conf, config);
		if (r < 0) { sq_srv_conf_free(&conf); return r == SQ_EIO ? SQ_EXIT_IO : SQ_EXIT_INPUT; }
	}
	if (listen) { free(conf.listen); conf.listen = strdup(listen); }
	if (data_dir) { free(conf.data_dir); conf.data_dir = strdup(data_dir); }
	if (port_file) { free(conf.port_file); conf.port_file = strdup(port_file); }
	if (sq_srv_conf_check(&conf) < 0) { sq_srv_conf_free(&conf); return SQ_EXIT_INPUT; }
	if (check) {
		printf("configuration %s: valid (%d client token(s), %d accelerator slot(s), %d CPU slot(s))\n",
		       config, conf.n_tokens, conf.n_gpus, conf.cpu_slots);
		sq_srv_conf_free(&conf);
		return SQ_EXIT_OK;
	}
	if (!human) sq_log_set_json(1);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sq_srv_t *s = sq_srv_start(&conf);
	if (!s) { sq_srv_conf_free(&conf); return SQ_EXIT_OUTPUT; }
	sq_serve_srv = s;
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (sq_srv_run(s) < 0) ret = SQ_EXIT_FAIL;
	sq_serve_srv = NULL;
	sq_srv_destroy(s);
	sq_srv_conf_free(&conf);
	return ret;
}
