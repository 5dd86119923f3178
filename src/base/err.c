/* err.c - error messages and errno names. */
#include "base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void mfs_err_clear(struct mfs_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

static void oneline(char *s)
{
	for (; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

int mfs_errf(struct mfs_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	oneline(err->msg);
	err->code = code;
	return code;
}

int mfs_err_prefix(struct mfs_err *err, int code, const char *fmt, ...)
{
	char old[MFS_ERR_MSG_MAX];
	va_list ap;
	int n;

	if (!err)
		return code;
	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n + 2 < sizeof(err->msg)) {
		err->msg[n] = ':';
		err->msg[n + 1] = ' ';
		size_t room = sizeof(err->msg) - (size_t)n - 3;
		size_t len = strnlen(old, room);
		memcpy(err->msg + n + 2, old, len);
		err->msg[n + 2 + len] = '\0';
	}
	oneline(err->msg);
	if (!err->code)
		err->code = code;
	return err->code;
}

const char *mfs_errno_name(int code)
{
	if (code < 0)
		code = -code;
	switch (code) {
	case 0: return "OK";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EIO: return "EIO";
	case E2BIG: return "E2BIG";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EXDEV: return "EXDEV";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case EFBIG: return "EFBIG";
	case ENOSPC: return "ENOSPC";
	case EROFS: return "EROFS";
	case ERANGE: return "ERANGE";
	case ENAMETOOLONG: return "ENAMETOOLONG";
	case ENOSYS: return "ENOSYS";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ENODATA: return "ENODATA";
	case EOVERFLOW: return "EOVERFLOW";
	case ENOTSUP: return "ENOTSUP";
	case EDQUOT: return "EDQUOT";
	case ECANCELED: return "ECANCELED";
	case EINTR: return "EINTR";
	case ETIMEDOUT: return "ETIMEDOUT";
	default: return "E?";
	}
}
