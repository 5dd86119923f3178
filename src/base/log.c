/* log.c - leveled logging to stderr. */
#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>

static enum mfs_log_level cur_level = MFS_LOG_INFO;

void mfs_log_set_level(enum mfs_log_level level)
{
	cur_level = level;
}

void mfs_log(enum mfs_log_level level, const char *fmt, ...)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };
	char line[2048];
	va_list ap;

	if (level > cur_level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "milvusfs: %s: %s\n", names[level], line);
}
