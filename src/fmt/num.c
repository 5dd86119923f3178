/* num.c - numbers in and out, and safe excerpts of input for messages.
 *
 * fmt_parse_float is on the insert path (10^7 values for a 100k x 100
 * import), so it avoids strtof for the common case: a decimal of at most
 * 19 significant digits and a power of ten within 10^±22 is computed in
 * double exactly as Clinger's fast path does (m and 10^k are exact doubles,
 * one IEEE operation rounds correctly).  Rounding that double to float is a
 * second rounding, which is only wrong when the double lands exactly on a
 * float midpoint; that case, subnormals, overflow and every other syntax
 * (hex, inf, nan, long mantissas) go to strtof on a NUL-terminated copy of
 * the token, so the result always equals strtof's.
 */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double pow10_tab[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

static int slow_float(const char *s, const char *e, float *out)
{
	char small[64], *heap = NULL, *copy = small, *end;
	size_t n = (size_t)(e - s);
	float v;
	int rc = 0;

	if (n >= sizeof(small)) {
		copy = heap = malloc(n + 1);
		if (!heap)
			return -1;
	}
	memcpy(copy, s, n);
	copy[n] = '\0';
	errno = 0;
	v = strtof(copy, &end);
	if (end != copy + n || n == 0 || fmt_isspace((unsigned char)copy[0]))
		rc = -1;
	else if (isnan(v))
		rc = -2;
	else if (isinf(v))
		rc = errno == ERANGE ? -3 : -2;
	free(heap);
	if (rc == 0)
		*out = v;
	return rc;
}

int fmt_scan_float(const char *s, const char *e, float *out, const char **endp)
{
	const char *p = s, *d0;
	uint64_t m = 0, bits;
	int nd, exp10;
	bool neg;
	double d;

	if (p == e)
		return -1;
	neg = *p == '-';
	p += (*p == '-') | (*p == '+');         /* branch-free: signs are random */
	for (d0 = p; p < e && (unsigned)(*p - '0') < 10; p++)
		m = m * 10 + (uint64_t)(*p - '0');
	nd = (int)(p - d0);
	exp10 = 0;
	if (p < e && *p == '.') {
		const char *f0 = ++p;

		for (; p < e && (unsigned)(*p - '0') < 10; p++)
			m = m * 10 + (uint64_t)(*p - '0');
		exp10 = -(int)(p - f0);
		nd -= exp10;
	}
	if (nd == 0 || nd > 19)                 /* no digits; m may have wrapped */
		return -1;
	if (p < e && (*p == 'e' || *p == 'E')) {
		bool eneg = false;
		int x = 0;

		p++;
		if (p < e && (*p == '-' || *p == '+'))
			eneg = *p++ == '-';
		if (p == e || (unsigned)(*p - '0') >= 10)
			return -1;
		for (; p < e && (unsigned)(*p - '0') < 10; p++)
			if (x < 100000)
				x = x * 10 + (*p - '0');
		exp10 += eneg ? -x : x;
	}
	if (m == 0) {
		*out = neg ? -0.0f : 0.0f;
		*endp = p;
		return 0;
	}
	if (m > (1ull << 53) || exp10 < -22 || exp10 > 22)
		return -1;
	d = (double)m;
	d = exp10 < 0 ? d / pow10_tab[-exp10] : d * pow10_tab[exp10];
	if (d > FLT_MAX || d < FLT_MIN)
		return -1;
	memcpy(&bits, &d, sizeof(bits));
	if ((bits & 0x1fffffffu) == 0x10000000u)       /* a float midpoint */
		return -1;
	*out = neg ? -(float)d : (float)d;
	*endp = p;
	return 0;
}

int fmt_parse_float(const char *s, const char *e, float *out)
{
	const char *end;

	if (fmt_scan_float(s, e, out, &end) == 0 && end == e)
		return 0;
	return slow_float(s, e, out);   /* inf, nan, hex, long, rare, junk */
}

int fmt_parse_i64(const char *s, const char *e, int64_t *out)
{
	const char *p = s;
	bool neg = false;
	uint64_t v = 0, lim;

	if (p < e && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (p == e)
		return -1;
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		if (v > (lim - (uint64_t)(*p - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

bool fmt_text_clean(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;

	while (p < e) {
		unsigned c = *p;
		size_t k;
		uint32_t cp;

		if (c < 0x80) {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
				return false;
			if (c == 0x7f)
				return false;
			p++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		if ((size_t)(e - p) <= k)
			return false;
		for (size_t i = 1; i <= k; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += k + 1;
	}
	return true;
}

int fmt_i64(int64_t v, char *out)
{
	char tmp[20];
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	int n = 0, len = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		out[len++] = '-';
	while (n)
		out[len++] = tmp[--n];
	out[len] = '\0';
	return len;
}

int fmt_put_float(struct mfs_buf *out, float v)
{
	char tmp[MFS_FTOA_MAX];
	int n = mfs_ftoa(v, tmp);

	return mfs_buf_append(out, tmp, (size_t)n);
}

int fmt_put_floats(struct mfs_buf *out, const void *vec, uint32_t dim)
{
	const unsigned char *p = vec;
	size_t len0 = out->len;
	int rc;

	/* at most 15 bytes a value ("-1.17549435e-38") and a comma, and
	 * mfs_ftoa writes its NUL within them */
	rc = mfs_buf_reserve(out, (size_t)dim * 16);
	if (rc)
		goto one_by_one;        /* near the cap: the exact size may fit */
	for (uint32_t i = 0; i < dim; i++) {
		float f;

		memcpy(&f, p + 4 * (size_t)i, 4);
		if (i)
			out->data[out->len++] = ',';
		out->len += (size_t)mfs_ftoa(f, out->data + out->len);
	}
	return 0;
one_by_one:
	for (uint32_t i = 0; i < dim; i++) {
		float f;

		memcpy(&f, p + 4 * (size_t)i, 4);
		rc = i ? mfs_buf_append(out, ",", 1) : 0;
		if (!rc)
			rc = fmt_put_float(out, f);
		if (rc) {
			mfs_buf_truncate(out, len0);
			return rc;
		}
	}
	return 0;
}
