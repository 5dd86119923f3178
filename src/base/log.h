/* log.h - the daemon's log (stderr).
 *
 * The level is process-wide: it is set once by main() before any thread
 * starts and only read afterwards, so it needs no lock.
 */
#ifndef MFS_BASE_LOG_H
#define MFS_BASE_LOG_H

enum mfs_log_level { MFS_LOG_ERROR = 0, MFS_LOG_WARN, MFS_LOG_INFO, MFS_LOG_DEBUG };

void mfs_log_set_level(enum mfs_log_level level);
/* Write "milvusfs: LEVEL: message\n" to stderr if level is enabled. */
void mfs_log(enum mfs_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
