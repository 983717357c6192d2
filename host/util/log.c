/* seqa — logging with levels; see seqa/log.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <ctype.h>
#include <stdlib.h>
#include "seqa/log.h"

int sq_log_level_cur = SQ_LOG_INFO;
static int sq_log_json;
static int sq_log_n_err;   /* error-level messages so far (atomic adds) */

int sq_log_errors(void) { return __atomic_load_n(&sq_log_n_err, __ATOMIC_RELAXED); }

void sq_log_set_level(int level) { sq_log_level_cur = level; }
void sq_log_set_json(int on) { sq_log_json = on; }

int sq_log_parse_level(const char *s)
{
	static const char *names[] = { "error", "warn", "info", "debug" };
	if (s == 0) return -2;
	if (isdigit((unsigned char)s[0]) && s[1] == 0) {
		int l = s[0] - '0';
		return l >= 0 && l <= 4 ? l : -2;
	}
	for (int i = 0; i < 4; ++i)
		if (strcasecmp(s, names[i]) == 0) return i + 1;
	return -2;
}

/* JSON string escaping into buf (truncates safely). */
static size_t json_escape(char *dst, size_t cap, const char *s)
{
	size_t k = 0;
	for (; *s && k + 7 < cap; ++s) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') { dst[k++] = '\\'; dst[k++] = c; }
		else if (c == '\n') { dst[k++] = '\\'; dst[k++] = 'n'; }
		else if (c == '\t') { dst[k++] = '\\'; dst[k++] = 't'; }
		else if (c < 0x20) k += snprintf(dst + k, cap - k, "\\u%04x", c);
		else dst[k++] = c;
	}
	dst[k] = 0;
	return k;
}

void sq_log_vmsg(int level, const char *func, const char *fmt, va_list ap)
{
	static const char tag[] = "?EWID";
	static const char *lname[] = { "?", "error", "warn", "info", "debug" };
	char msg[4096], line[8800];
	int n;
	if (level < 1 || level > 4) level = 1;
	if (level == SQ_LOG_ERROR) __atomic_add_fetch(&sq_log_n_err, 1, __ATOMIC_RELAXED);
	vsnprintf(msg, sizeof msg, fmt, ap);
	if (sq_log_json) {
		char esc[8200];
		struct timespec ts;
		struct tm tm;
		char tbuf[32];
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(tbuf, sizeof tbuf, "%Y-%m-%dT%H:%M:%S", &tm);
		json_escape(esc, sizeof esc, msg);
		n = snprintf(line, sizeof line, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\",\"func\":\"%s\",\"msg\":\"%s\"}\n",
		             tbuf, ts.tv_nsec / 1000000, lname[level], func, esc);
	} else {
		n = snprintf(line, sizeof line, "[%c::%s] %s\n", tag[level], func, msg);
	}
	if (n < 0) return;
	if ((size_t)n >= sizeof line) n = sizeof line - 1;
	fwrite(line, 1, (size_t)n, stderr);
}

void sq_log_msg(int level, const char *func, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	sq_log_vmsg(level, func, fmt, ap);
	va_end(ap);
}
