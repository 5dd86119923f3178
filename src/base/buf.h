/* buf.h - a growable byte buffer with a hard cap.
 *
 * Every buffer that input can grow has a cap: appending past it fails with
 * -EFBIG and leaves the buffer as it was.  Allocation failure gives -ENOMEM.
 * data is always NUL-terminated (not counted in len) so text can be parsed
 * in place.
 */
#ifndef MFS_BASE_BUF_H
#define MFS_BASE_BUF_H

#include <stddef.h>

struct mfs_buf {
	char *data;     /* owned; NULL until the first append */
	size_t len;     /* bytes in use */
	size_t cap;     /* bytes allocated */
	size_t max;     /* hard cap on len */
};

/* Initialize caller storage; max is the cap on len (SIZE_MAX for none). */
void mfs_buf_init(struct mfs_buf *b, size_t max);
/* Free the storage; b may be reused after mfs_buf_init. NULL allowed. */
void mfs_buf_fini(struct mfs_buf *b);
/* Make room for len + extra bytes. 0, -ENOMEM, -EFBIG. */
int mfs_buf_reserve(struct mfs_buf *b, size_t extra);
/* Append n bytes. 0, -ENOMEM, -EFBIG (buffer unchanged on failure). */
int mfs_buf_append(struct mfs_buf *b, const void *p, size_t n);
/* Append formatted text. 0, -ENOMEM, -EFBIG. */
int mfs_buf_printf(struct mfs_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (n <= len), moving the rest to the front. */
void mfs_buf_consume(struct mfs_buf *b, size_t n);
/* Set len to 0, keeping the storage. */
void mfs_buf_reset(struct mfs_buf *b);
/* Cut b back to its first len bytes (len <= b->len), keeping the storage:
 * undoes a partial append on error. */
void mfs_buf_truncate(struct mfs_buf *b, size_t len);
/* Hand the storage to the caller (owned, NUL-terminated) and reset b. */
char *mfs_buf_take(struct mfs_buf *b, size_t *len);

#endif
