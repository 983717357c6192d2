/* seqa — logging with levels.
 *
 * One logger for the whole program.  Messages go to stderr as
 *   [E::func] message          (human format, default)
 *   {"ts":..,"level":"error","func":"..","msg":".."}   (JSON lines, sq_log_set_json(1))
 * Calls below the current level cost one integer comparison.  Thread-safe: each message is
 * written with a single fwrite.  Never log key material or identifying sample data beyond the
 * pseudonymised id.
 */
#ifndef SEQA_LOG_H
#define SEQA_LOG_H

#include <stdarg.h>

enum sq_log_level { SQ_LOG_ERROR = 1, SQ_LOG_WARN = 2, SQ_LOG_INFO = 3, SQ_LOG_DEBUG = 4 };

/** Current level (messages above it are dropped).  Default SQ_LOG_INFO. */
extern int sq_log_level_cur;

void sq_log_set_level(int level);
/** Parse "error|warn|info|debug" or a digit; returns the level or -2 if unknown. */
int  sq_log_parse_level(const char *s);
/** 1: JSON lines on stderr; 0: human "[E::func]" format. */
void sq_log_set_json(int on);
void sq_log_msg(int level, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void sq_log_vmsg(int level, const char *func, const char *fmt, va_list ap);
/** How many error-level messages were logged so far (main() uses it so that no failure exits
 *  without a message). */
int  sq_log_errors(void);

#define sq_log_error(...) do { if (sq_log_level_cur >= SQ_LOG_ERROR) sq_log_msg(SQ_LOG_ERROR, __func__, __VA_ARGS__); } while (0)
#define sq_log_warn(...)  do { if (sq_log_level_cur >= SQ_LOG_WARN)  sq_log_msg(SQ_LOG_WARN,  __func__, __VA_ARGS__); } while (0)
#define sq_log_info(...)  do { if (sq_log_level_cur >= SQ_LOG_INFO)  sq_log_msg(SQ_LOG_INFO,  __func__, __VA_ARGS__); } while (0)
#define sq_log_debug(...) do { if (sq_log_level_cur >= SQ_LOG_DEBUG) sq_log_msg(SQ_LOG_DEBUG, __func__, __VA_ARGS__); } while (0)

#endif
