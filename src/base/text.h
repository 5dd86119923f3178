/* text.h - small text helpers shared by the parsers (fmt/, field/) and
 * their messages.  Pure functions, thread-safe.
 */
#ifndef MFS_BASE_TEXT_H
#define MFS_BASE_TEXT_H

#include <stddef.h>

/* Write a printable, quote-free excerpt of [s, s+n) into dst (NUL-
 * terminated, at most dstsz-1 bytes): bytes outside printable ASCII become
 * \xNN, long input ends in "...".  Returns dst, for messages. */
char *mfs_excerpt(char *dst, size_t dstsz, const char *s, size_t n);

/* The value of hex digit ch (0-9, a-f, A-F), or -1. */
static inline int mfs_hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

#endif
