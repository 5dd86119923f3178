/* log.h - the daemon's log: stderr in the foreground, syslog otherwise.
 *
 * SPEC §13: without -f the daemon logs to syslog (facility LOG_DAEMON,
 * ident "milvusfs", with its pid), as sshfs does; with -f (and in tests
 * and tools) to stderr, one "milvusfs: LEVEL: message" line per event.
 * Control bytes in a message are escaped (\n, \t, \xNN), so one line is
 * always one event.
 *
 * The level and the destination are process-wide: main() sets them once
 * (mfs_log_set_level, mfs_log_to_syslog) before any thread starts, and
 * they are only read afterwards, so they need no lock.  mfs_log itself is
 * thread-safe (one fprintf or syslog call per line).
 */
#ifndef MFS_BASE_LOG_H
#define MFS_BASE_LOG_H

#include <stdbool.h>

enum mfs_log_level { MFS_LOG_ERROR = 0, MFS_LOG_WARN, MFS_LOG_INFO, MFS_LOG_DEBUG };

/* Log nothing above level (default MFS_LOG_INFO). */
void mfs_log_set_level(enum mfs_log_level level);
/* on: send every line from now on to syslog (openlog("milvusfs",
 * LOG_PID, LOG_DAEMON)); off: back to stderr (closelog).  Call from a
 * single thread, before others start or after they stopped.  A missing
 * syslog daemon loses the lines silently, as syslog(3) does. */
void mfs_log_to_syslog(bool on);
/* Does the log go to syslog? */
bool mfs_log_is_syslog(void);
/* Log one line at level if it is enabled: "milvusfs: LEVEL: message\n"
 * on stderr, or the message at the matching syslog priority (LOG_ERR,
 * LOG_WARNING, LOG_INFO, LOG_DEBUG). */
void mfs_log(enum mfs_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
