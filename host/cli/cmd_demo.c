/* seqa demo — the full run on the embedded default (phage lambda + simulated reads). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "seqa/cli.h"
#include "seqa/log.h"
#include "seqa/util.h"

int sq_cmd_demo(int argc, char *argv[])
{
	const char *out = "demo-out";
	char exe[PATH_MAX], script[PATH_MAX + 64], root[PATH_MAX];
	for (int i = 1; i < argc; ++i) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			printf("Usage: seqa demo [-o DIR]\n\n"
			       "Runs the whole pipeline on the embedded default: the phage lambda genome from Debian's\n"
			       "bowtie2-examples, 30x 2x150 reads simulated with known SNPs and indels, `seqa run`, and the\n"
			       "accuracy of the calls against the truth.  Outputs in DIR (default demo-out/).\n"
			       "Same as `make demo` in the source tree.\n");
			return SQ_EXIT_OK;
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out = argv[++i];
		} else {
			return sq_cli_usage_error("demo", "unknown option '%s'", argv[i]);
		}
	}
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0) { sq_log_error("cannot locate the seqa binary"); return SQ_EXIT_FAIL; }
	exe[n] = 0;
	snprintf(root, sizeof root, "%s", exe);
	*strrchr(root, '/') = 0;
	/* the source tree (seqa beside scripts/), else the installed copy */
	snprintf(script, sizeof script, "%s/scripts/demo.sh", root);
	if (access(script, R_OK) != 0) {
		snprintf(script, sizeof script, "%s/../share/seqa/scripts/demo.sh", root);
		if (access(script, R_OK) != 0) { sq_log_error("demo script not found beside %s", exe); return SQ_EXIT_IO; }
	}
	setenv("SEQA", exe, 1);
	setenv("DEMO_OUT", out, 1);
	execl("/bin/sh", "sh", script, (char *)0);
	sq_log_error("cannot run /bin/sh");
	return SQ_EXIT_FAIL;
}
