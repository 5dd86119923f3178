/* err.h - error values and messages shared by every layer.
 *
 * Every fallible internal function returns int: 0 on success, or a negative
 * errno from the SPEC §7 table (-EIO for "cannot happen").  Details for a
 * person go into an optional struct mfs_err, filled by mfs_errf():
 *
 *     return mfs_errf(err, -EINVAL, "line %zu: expected %u numbers, got %u",
 *                     line, dim, got);
 *
 * Messages: one line, subject first, then expected and found; worded as
 * Milvus words it where Milvus has the case.  The FUSE layer prefixes time,
 * pid, operation, path and errno name when it appends to /.errors.
 */
#ifndef MFS_BASE_ERR_H
#define MFS_BASE_ERR_H

#include <stddef.h>

#define MFS_ERR_MSG_MAX 512

struct mfs_err {
	int code;                       /* negative errno, 0 when none */
	char msg[MFS_ERR_MSG_MAX];      /* NUL-terminated, one line */
};

/* Clear *err (NULL allowed). */
void mfs_err_clear(struct mfs_err *err);

/* Record code and a printf-style message in *err (NULL allowed: the message
 * is dropped) and return code, so that it reads as one statement.  A message
 * already present is replaced; newlines in the result become spaces. */
int mfs_errf(struct mfs_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix the message already in *err with "prefix: " (NULL allowed); returns
 * err->code, or code when err is NULL. */
int mfs_err_prefix(struct mfs_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Symbolic name of an errno value, "EINVAL" for 22 or -22; "E?" if unknown.
 * Returns a static string. */
const char *mfs_errno_name(int code);

#endif
