/* errors.c - /.errors: a ring of the most recent failure lines.
 *
 * Every failing FUSE operation calls fs_fail() exactly once; the line,
 * "2026-11-20T10:00:00Z pid=4242 rmdir /book/novel EBUSY: message", goes
 * into the ring (FS_ERRORS_MAX lines, oldest dropped first) and to the
 * daemon's log.  The ring's lock is a leaf: nothing is called under it.
 *
 * Paths and messages carry what users wrote (names, query text), so both
 * are escaped (SPEC §7): a control byte as \n, \t, \r or \xNN, a byte
 * that is not part of valid UTF-8 as \xNN, and in the path a backslash as
 * \\ (so the path reads back unambiguously; messages quote user text
 * escaped already, mfs_excerpt, and keep their backslashes).  A line of
 * /.errors (and of the log) is always one failure.
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
	for (size_t i = 0; i < r->n; i++)
		free(r->line[(r->head + i) % r->cap]);
	free(r->line);
	pthread_mutex_destroy(&r->lock);
}

/* Drop the oldest lines past max (caller holds the lock). */
static void trim(struct fs_errors *r, size_t max)
{
	while (r->n > max) {
		char *old = r->line[r->head];

		r->dropped += strlen(old) + 1;
		free(old);
		r->head = (r->head + 1) % r->cap;
		r->n--;
	}
}

/* Room for one more line without dropping one, up to max lines (caller
 * holds the lock); false when the ring cannot grow. */
static bool grow(struct fs_errors *r, size_t max)
{
	size_t nc;
	char **nl;

	if (r->n < r->cap)
		return true;
	if (r->cap >= max)
		return false;
	nc = r->cap ? r->cap * 2 : 64;
	if (nc > max)
		nc = max;
	nl = malloc(nc * sizeof(*nl));
	if (!nl)
		return false;
	for (size_t i = 0; i < r->n; i++)       /* unwrap, oldest first */
		nl[i] = r->line[(r->head + i) % r->cap];
	free(r->line);
	r->line = nl;
	r->cap = nc;
	r->head = 0;
	return true;
}

void fs_errors_add(struct fs_errors *r, const char *line)
{
	char *copy = strdup(line);
	size_t max;

	if (!copy)
		return;
	pthread_mutex_lock(&r->lock);
	max = r->readers ? FS_ERRORS_HOLD : FS_ERRORS_MAX;
	trim(r, max - 1);
	if (!grow(r, max)) {
		if (r->n == 0) {        /* no ring at all: out of memory */
			pthread_mutex_unlock(&r->lock);
			free(copy);
			return;
		}
		trim(r, r->n - 1);
	}
	r->line[(r->head + r->n) % r->cap] = copy;
	r->n++;
	r->total += strlen(copy) + 1;
	clock_gettime(CLOCK_REALTIME, &r->mtime);
	pthread_mutex_unlock(&r->lock);
}

void fs_errors_reader(struct fs_errors *r, int delta)
{
	pthread_mutex_lock(&r->lock);
	r->readers += (unsigned)delta;
	if (r->readers == 0)
		trim(r, FS_ERRORS_MAX);
	pthread_mutex_unlock(&r->lock);
}

int fs_errors_dump(struct fs_errors *r, struct mfs_buf *out)
{
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n && rc == 0; i++) {
		const char *l = r->line[(r->head + i) % r->cap];
		rc = mfs_buf_printf(out, "%s\n", l);
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}

int fs_errors_dump_from(struct fs_errors *r, uint64_t from,
			struct mfs_buf *out, uint64_t *start)
{
	uint64_t pos;
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	pos = r->dropped;
	for (size_t i = 0; i < r->n && rc == 0; i++) {
		const char *l = r->line[(r->head + i) % r->cap];
		size_t len = strlen(l) + 1;

		if (pos + len <= from) {
			pos += len;
			continue;
		}
		if (pos < from) {
			/* from is inside this line: its rest */
			size_t skip = (size_t)(from - pos);

			rc = mfs_buf_printf(out, "%s\n", l + skip);
			*start = from;
		} else {
			if (out->len == 0)
				*start = pos;
			rc = mfs_buf_printf(out, "%s\n", l);
		}
		pos += len;
	}
	if (out->len == 0)
		*start = from > r->total ? r->total : from < r->dropped ?
			 r->dropped : from;
	pthread_mutex_unlock(&r->lock);
	return rc;
}

void fs_errors_span(struct fs_errors *r, uint64_t *dropped, uint64_t *total,
		    struct timespec *mtime)
{
	pthread_mutex_lock(&r->lock);
	*dropped = r->dropped;
	*total = r->total;
	if (mtime)
		*mtime = r->mtime;
	pthread_mutex_unlock(&r->lock);
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

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned cp;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	cp = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong, surrogates, past U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* Append s escaped to out (size cap, at most 4 bytes per byte of s);
 * bs: a backslash too. */
static void escape(char *out, size_t cap, size_t *at, const char *s, bool bs)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = *at;

	while (i < n && o + 5 < cap) {
		unsigned char c = p[i];
		size_t ul;

		if (c == '\\' && bs) {
			out[o++] = '\\';
			out[o++] = '\\';
		} else if (c == '\n' || c == '\t' || c == '\r') {
			out[o++] = '\\';
			out[o++] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		} else if (c < 0x80) {
			out[o++] = (char)c;
		} else if ((ul = utf8_len(p + i, n - i)) != 0) {
			memcpy(out + o, p + i, ul);
			o += ul;
			i += ul;
			continue;
		} else {
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		}
		i++;
	}
	out[o] = '\0';
	*at = o;
}

int fs_fail(struct fs *fs, const char *op, const char *path, int code,
	    const struct mfs_err *err)
{
	struct fuse_context *ctx = fuse_get_context();
	char line[4 * (MFS_ERR_MSG_MAX + PATH_MAX) + 128];
	struct tm tm;
	time_t now = time(NULL);
	const char *msg;
	size_t at;

	if (code >= 0)
		code = -EIO;
	msg = err && err->msg[0] ? err->msg : default_msg(code);
	gmtime_r(&now, &tm);
	at = strftime(line, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
	at += (size_t)snprintf(line + at, sizeof(line) - at, " pid=%d %s ",
			       ctx ? (int)ctx->pid : 0, op);
	escape(line, sizeof(line), &at, path ? path : "-", true);
	at += (size_t)snprintf(line + at, sizeof(line) - at, " %s: ",
			       mfs_errno_name(code));
	escape(line, sizeof(line), &at, msg, false);
	fs_errors_add(&fs->errors, line);
	mfs_log(MFS_LOG_INFO, "%s", line);
	return code;
}

void fs_report(void *arg, const char *op, const char *path, int code,
	       const struct mfs_err *err)
{
	fs_fail(arg, op, path, code, err);
}
