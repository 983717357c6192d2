/* seqa — subcommand entry points and shared CLI helpers.
 *
 * Each subcommand lives in host/cli/cmd_NAME.c (or its component) as
 *   int sq_cmd_NAME(int argc, char *argv[]);
 * returning a process exit code (SQ_EXIT_*).  argv[0] is the subcommand name.
 * Every subcommand handles -h/--help (print usage to stdout, return 0) and reports unknown
 * options with one line and SQ_EXIT_USAGE.
 */
#ifndef SEQA_CLI_H
#define SEQA_CLI_H

#include <stdio.h>

int sq_cmd_index(int argc, char *argv[]);
int sq_cmd_simulate(int argc, char *argv[]);
int sq_cmd_ingest(int argc, char *argv[]);
int sq_cmd_align(int argc, char *argv[]);
int sq_cmd_call(int argc, char *argv[]);
int sq_cmd_run(int argc, char *argv[]);
int sq_cmd_qc(int argc, char *argv[]);
int sq_cmd_pairhmm(int argc, char *argv[]);
int sq_cmd_push(int argc, char *argv[]);
int sq_cmd_outbox(int argc, char *argv[]);
int sq_cmd_verify(int argc, char *argv[]);
int sq_cmd_serve(int argc, char *argv[]);
int sq_cmd_devices(int argc, char *argv[]);
int sq_cmd_demo(int argc, char *argv[]);

/** Print "seqa CMD: unknown option ..." style one-liners; returns SQ_EXIT_USAGE. */
int sq_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** The full command line of this process, space-joined (for @PG, VCF header, manifest). */
const char *sq_cli_cmdline(void);
/** Set by main().  0, or SQ_ENOMEM (then sq_cli_cmdline() is only "seqa": main() stops). */
int sq_cli_set_cmdline(int argc, char *argv[]);
/** Copy of s (malloc'd; NULL if s is NULL or out of memory) with every occurrence of word that
 *  is not part of a longer run of letters/digits replaced by repl (SECURITY.md §5: lab sample ids
 *  never reach logs or delivered files). */
char *sq_cli_redact(const char *s, const char *word, const char *repl);
/** sq_cli_redact() applied to the recorded command line.  0, or SQ_ENOMEM. */
int sq_cli_cmdline_redact(const char *word, const char *repl);
/** Parse a common option: --log-level/-v/--log-json.  Returns 1 if consumed. (helpers) */
int sq_cli_parse_threads(const char *arg, int *n_threads);
/** Final one-line summary on stderr: version, command, wall, CPU, peak RSS (minimap2-style). */
void sq_cli_summary(void);

#endif
