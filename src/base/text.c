/* text.c - small text helpers (text.h). */
#include "base/text.h"

#include <stdio.h>
#include <string.h>

char *mfs_excerpt(char *dst, size_t dstsz, const char *s, size_t n)
{
	size_t o = 0, i;

	if (!dstsz)
		return dst;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t need = (c >= 0x20 && c < 0x7f) ? 1 : 4;

		if (o + need + 4 > dstsz) {     /* room for "..." and NUL */
			memcpy(dst + o, "...", 3);
			o += 3;
			break;
		}
		if (need == 1)
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, 5, "\\x%02x", c);
	}
	dst[o] = '\0';
	return dst;
}
