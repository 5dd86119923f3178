/* log.c - leveled logging to stderr or syslog (log.h). */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

static enum mfs_log_level cur_level = MFS_LOG_INFO;
static bool to_syslog;

void mfs_log_set_level(enum mfs_log_level level)
{
	cur_level = level;
}

void mfs_log_to_syslog(bool on)
{
	if (on == to_syslog)
		return;
	if (on)
		openlog("milvusfs", LOG_PID, LOG_DAEMON);
	else
		closelog();
	to_syslog = on;
}

bool mfs_log_is_syslog(void)
{
	return to_syslog;
}

/* Copy s into out (cap bytes, NUL-terminated, truncated) with control
 * bytes escaped: one line stays one event. */
static void escape(char *out, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t at = 0;

	for (; *s && at + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != 0x7f) {
			out[at++] = (char)c;
			continue;
		}
		out[at++] = '\\';
		if (c == '\n' || c == '\t' || c == '\r') {
			out[at++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		} else {
			out[at++] = 'x';
			out[at++] = hex[c >> 4];
			out[at++] = hex[c & 15];
		}
	}
	out[at] = '\0';
}

void mfs_log(enum mfs_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char line[2048], esc[2048];
	va_list ap;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	escape(esc, sizeof(esc), line);
	if (to_syslog)
		syslog(prio[level], "%s: %s", names[level], esc);
	else
		fprintf(stderr, "milvusfs: %s: %s\n", names[level], esc);
}
