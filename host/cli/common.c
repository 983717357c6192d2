/* seqa — shared CLI helpers; see seqa/cli.h. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "seqa/cli.h"
#include "seqa/util.h"
#include "seqa/version.h"

static char *sq_cmdline_buf;
static double sq_t0_real, sq_t0_cpu;

/* Arguments with blanks or shell metacharacters are single-quoted, so the recorded command
 * line (@PG, VCF header, manifest) can be pasted back into a shell. */
static int needs_quotes(const char *a)
{
	if (!*a) return 1;
	for (; *a; ++a)
		if (!(isalnum((unsigned char)*a) || strchr("@%_-+=:,./", *a))) return 1;
	return 0;
}

int sq_cli_set_cmdline(int argc, char *argv[])
{
	size_t n = 1;
	for (int i = 0; i < argc; ++i) n += 4 * strlen(argv[i]) + 3;
	free(sq_cmdline_buf);
	sq_cmdline_buf = calloc(n, 1);
	sq_t0_real = sq_realtime();
	sq_t0_cpu = sq_cputime();
	if (!sq_cmdline_buf) return SQ_ENOMEM;
	char *p = sq_cmdline_buf;
	for (int i = 0; i < argc; ++i) {
		if (i) *p++ = ' ';
		if (!needs_quotes(argv[i])) { p = stpcpy(p, argv[i]); continue; }
		*p++ = '\'';
		for (const char *a = argv[i]; *a; ++a) {
			if (*a == '\'') p = stpcpy(p, "'\\''");
			else *p++ = *a;
		}
		*p++ = '\'';
	}
	*p = 0;
	return 0;
}

const char *sq_cli_cmdline(void) { return sq_cmdline_buf ? sq_cmdline_buf : "seqa"; }

char *sq_cli_redact(const char *s, const char *word, const char *repl)
{
	size_t wl = word ? strlen(word) : 0, rl = strlen(repl), n = 0;
	char *out, *o;
	const char *p;
	if (!s) return NULL;
	if (!wl) return strdup(s);
#define SQ_HIT(q) (!strncmp((q), word, wl) && ((q) == s || !isalnum((unsigned char)(q)[-1])) && !isalnum((unsigned char)(q)[wl]))
	for (p = s; *p; ++p)
		if (SQ_HIT(p)) ++n, p += wl - 1;
	if (!(out = malloc(strlen(s) + n * rl + 1))) return NULL;
	for (p = s, o = out; *p;) {
		if (SQ_HIT(p)) { o = stpcpy(o, repl); p += wl; }
		else *o++ = *p++;
	}
	*o = 0;
#undef SQ_HIT
	return out;
}

int sq_cli_cmdline_redact(const char *word, const char *repl)
{
	char *r;
	if (!sq_cmdline_buf) return 0;
	if (!(r = sq_cli_redact(sq_cmdline_buf, word, repl))) return SQ_ENOMEM;
	free(sq_cmdline_buf);
	sq_cmdline_buf = r;
	return 0;
}

int sq_cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "seqa %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'seqa %s --help')\n", cmd);
	return SQ_EXIT_USAGE;
}

int sq_cli_parse_threads(const char *arg, int *n_threads)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (*arg == 0 || *end != 0 || v < 1 || v > 1024) return -2;
	*n_threads = (int)v;
	return 0;
}

void sq_cli_summary(void)
{
	fprintf(stderr, "[M::seqa] Version: %s (%s)\n", sq_version(), sq_commit());
	fprintf(stderr, "[M::seqa] CMD: %s\n", sq_cli_cmdline());
	fprintf(stderr, "[M::seqa] Real time: %.3f sec; CPU: %.3f sec; Peak RSS: %.3f GB\n",
	        sq_realtime() - sq_t0_real, sq_cputime() - sq_t0_cpu, sq_peakrss() / 1073741824.0);
}
