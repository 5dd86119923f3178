/* errors.c - /.errors: a ring of the most recent failure lines.
 *
 * Every failing FUSE operation calls fs_fail() exactly once; the line,
 * "2026-11-20T10:00:00Z pid=4242 rmdir /book/novel EBUSY: message", goes
 * into the ring (FS_ERRORS_MAX lines, oldest dropped first) and to the
 * daemon's log.  The ring's lock is a leaf: nothing is called under it.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"

void fs_errors_init(struct fs_errors *r)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->lock, NULL);
}

void fs_errors_fini(struct fs_errors *r)
{
	for (size_t i = 0; i < FS_ERRORS_MAX; i++)
		free(r->line[i]);
	pthread_mutex_destroy(&r->lock);
}

void fs_errors_add(struct fs_errors *r, const char *line)
{
	char *copy = strdup(line);
	char *old = NULL;

	if (!copy)
		return;
	pthread_mutex_lock(&r->lock);
	if (r->n == FS_ERRORS_MAX) {
		old = r->line[r->head];
		r->line[r->head] = copy;
		r->head = (r->head + 1) % FS_ERRORS_MAX;
	} else {
		r->line[(r->head + r->n) % FS_ERRORS_MAX] = copy;
		r->n++;
	}
	pthread_mutex_unlock(&r->lock);
	free(old);
}

int fs_errors_dump(struct fs_errors *r, struct mfs_buf *out)
{
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n && rc == 0; i++) {
		const char *l = r->line[(r->head + i) % FS_ERRORS_MAX];
		rc = mfs_buf_printf(out, "%s\n", l);
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* A default message for errors that come without one. */
static const char *default_msg(int code)
{
	switch (-code) {
	case ENOENT: return "no such file or directory";
	case EACCES: return "permission denied by the file's mode";
	case EPERM: return "operation not permitted";
	case ENOMEM: return "out of memory";
	default: return strerror(-code);
	}
}

int fs_fail(struct fs *fs, const char *op, const char *path, int code,
	    const struct mfs_err *err)
{
	struct fuse_context *ctx = fuse_get_context();
	char stamp[32];
	char line[MFS_ERR_MSG_MAX + PATH_MAX + 128];
	struct tm tm;
	time_t now = time(NULL);
	const char *msg;

	if (code >= 0)
		code = -EIO;
	msg = err && err->msg[0] ? err->msg : default_msg(code);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(line, sizeof(line), "%s pid=%d %s %s %s: %s", stamp,
		 ctx ? (int)ctx->pid : 0, op, path ? path : "-",
		 mfs_errno_name(code), msg);
	fs_errors_add(&fs->errors, line);
	mfs_log(MFS_LOG_INFO, "%s", line);
	return code;
}
