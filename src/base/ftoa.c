/* ftoa.c - shortest round-trip decimal of a float (see ftoa.h).
 *
 * A finite nonzero float is v = m * 2^e (m < 2^24).  strtof maps to v
 * every decimal strictly inside its rounding interval (the midpoints to
 * its neighbours), and the midpoints themselves when m is even (ties go to
 * even).  With X the decimal exponent of v, scaling by 10^(8-X) puts v
 * in [10^8, 10^9) and an n-digit decimal becomes a multiple of 10^(9-n):
 * the answer is the smallest n for which such a multiple lies in the
 * scaled interval, the one nearest v if two do.
 *
 * The fast path computes the scaled value and both scaled midpoints in
 * double: each is an exact product ((2m±1) * 2^(e-1) has 26 bits) times an
 * exact power of ten (|8-X| <= 22), so one rounding, an error below 2^-53
 * relative, under 1.2e-7 absolute at these magnitudes; the candidates
 * q * 10^(9-n) are exact.  Every comparison that lands within EPS of its
 * boundary, and every value outside the exact powers of ten (X outside
 * [-14, 30], subnormals), goes to the slow path: for n = 1..9 printf's
 * correctly rounded n-digit decimal and its two neighbours in the last
 * digit, each read back with strtof.  Between two candidates as near,
 * both take the even last digit (printf rounds ties to even).
 */
#include "base/ftoa.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EPS 1e-6

static const double pow10_tab[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* 10^-j, for j < 4; their rounding is far below EPS */
static const double inv10[4] = { 1, 0.1, 0.01, 0.001 };

/* 2^e for a normal double's exponent, without ldexp's call. */
static double pow2(int e)
{
	uint64_t b = (uint64_t)(e + 1023) << 52;
	double d;

	memcpy(&d, &b, sizeof(d));
	return d;
}

/* Lay out digits dig[0..nd) (dig[0] != '0', no trailing zeros) with
 * decimal exponent x (value dig[0].dig[1..] * 10^x). */
static int layout(int neg, const char *dig, int nd, int x, char *out)
{
	char *o = out;

	if (neg)
		*o++ = '-';
	if (x < -4 || x >= 9) {
		int ax = x < 0 ? -x : x;

		*o++ = dig[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, dig + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		if (ax >= 100)
			*o++ = (char)('0' + ax / 100);
		*o++ = (char)('0' + ax / 10 % 10);
		*o++ = (char)('0' + ax % 10);
	} else if (x >= 0) {
		for (int i = 0; i <= x; i++)
			*o++ = i < nd ? dig[i] : '0';
		if (nd > x + 1) {
			*o++ = '.';
			memcpy(o, dig + x + 1, (size_t)(nd - x - 1));
			o += nd - x - 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (int i = 0; i < -x - 1; i++)
			*o++ = '0';
		memcpy(o, dig, (size_t)nd);
		o += nd;
	}
	*o = '\0';
	return (int)(o - out);
}

/* The digits of d (> 0) into dig, *len of them; returns the count
 * without trailing zeros.  Two digits a step: most values have 9. */
static int digits_of(uint64_t d, char *dig, int *len)
{
	static const char pairs[201] =
		"00010203040506070809101112131415161718192021222324"
		"25262728293031323334353637383940414243444546474849"
		"50515253545556575859606162636465666768697071727374"
		"75767778798081828384858687888990919293949596979899";
	char tmp[24], *p = tmp + sizeof(tmp);
	int n, nd;

	while (d >= 100) {
		unsigned r = (unsigned)(d % 100);

		d /= 100;
		p -= 2;
		memcpy(p, pairs + 2 * r, 2);
	}
	if (d >= 10) {
		p -= 2;
		memcpy(p, pairs + 2 * d, 2);
	} else {
		*--p = (char)('0' + d);
	}
	n = (int)(tmp + sizeof(tmp) - p);
	memcpy(dig, p, (size_t)n);
	*len = n;
	for (nd = n; nd > 1 && dig[nd - 1] == '0'; nd--)
		;
	return nd;
}

/* Does d * 10^p read back as v? */
static int reads_back(uint64_t d, int p, float v)
{
	char buf[48];

	snprintf(buf, sizeof(buf), "%llue%d", (unsigned long long)d, p);
	return strtof(buf, NULL) == v;
}

/* The exact search; a finite nonzero a = |v|. */
static int slow(float a, int neg, char *out)
{
	char buf[48], dig[24];
	for (int n = 1; n <= 9; n++) {
		uint64_t d, best = 0;
		int x, p, len, nd;
		char *e;

		snprintf(buf, sizeof(buf), "%.*e", n - 1, (double)a);
		/* "D.DDDDe+XX": the n digits and the exponent */
		d = 0;
		for (e = buf; *e != 'e'; e++)
			if (*e != '.')
				d = d * 10 + (uint64_t)(*e - '0');
		x = atoi(e + 1);
		p = x - (n - 1);
		/* printf's d is the nearest (ties to even); when it is out
		 * of the interval, a neighbour may be in (the interval is
		 * narrower below a power of two) */
		if (reads_back(d, p, a))
			best = d;
		else if (d > 1 && reads_back(d - 1, p, a))
			best = d - 1;
		else if (reads_back(d + 1, p, a))
			best = d + 1;
		if (!best)
			continue;
		nd = digits_of(best, dig, &len);
		return layout(neg, dig, nd, p + len - 1, out);
	}
	/* not reached: 9 digits always read back */
	return snprintf(out, MFS_FTOA_MAX, "%.9g", neg ? -(double)a : (double)a);
}

int mfs_ftoa(float v, char *out)
{
	double a, x, lo, hi, half, scale, w, s0, s1, c, best;
	char dig[24];
	uint32_t u, mant;
	int neg, ex, e2, k, j, len, nd, up;
	uint64_t m;

	memcpy(&u, &v, sizeof(u));
	neg = (int)(u >> 31);
	if (v == 0) {
		char *o = out;

		if (neg)
			*o++ = '-';
		*o++ = '0';
		*o = '\0';
		return (int)(o - out);
	}
	if (!isfinite(v))
		return snprintf(out, MFS_FTOA_MAX, "%g", (double)v);
	ex = (int)((u >> 23) & 0xff);
	mant = u & 0x7fffff;
	a = fabs((double)v);
	if (ex == 0)                            /* subnormal */
		return slow((float)a, neg, out);
	m = mant | 0x800000u;
	e2 = ex - 150;                          /* a = m * 2^e2 */
	/* a in [2^(ex-127), 2^(ex-126)): floor((ex-127) log10 2), by the
	 * usual fixed-point product, is X or X - 1 */
	k = ((ex - 127) * 78913) >> 18;
	if (k < -14 || k > 29)
		return slow((float)a, neg, out);
	up = k <= 8;
	scale = up ? pow10_tab[8 - k] : pow10_tab[k - 8];
	x = up ? a * scale : a / scale;
	if (fabs(x - 1e9) < EPS * 10)
		return slow((float)a, neg, out);
	if (x > 1e9) {                          /* X = k + 1 */
		k++;
		up = k <= 8;
		scale = up ? pow10_tab[8 - k] : pow10_tab[k - 8];
		x = up ? a * scale : a / scale;
	}
	half = pow2(e2 - 1);
	hi = (double)(2 * m + 1) * half;
	if (mant == 0 && ex > 1)                /* the gap below is half */
		lo = (double)(4 * m - 1) * half * 0.5;
	else
		lo = (double)(2 * m - 1) * half;
	hi = up ? hi * scale : hi / scale;
	lo = up ? lo * scale : lo / scale;
	/* The interval is 6 to 120 wide (2^-24 to 2^-23 of [1e8, 1e9)), so
	 * it holds a multiple of s0 = 10^j (j = 0, 1 or 2, s0 <= width) and
	 * at most one of s1 = 10 s0.  That one, when there is one, is the
	 * shortest (a multiple of any higher power is also one of s1);
	 * otherwise the multiple of s0 nearest to x. */
	w = hi - lo;
	j = w < 10 ? 0 : w < 100 ? 1 : 2;
	s0 = pow10_tab[j];
	s1 = pow10_tab[j + 1];
	c = ceil(lo * inv10[j + 1]) * s1;
	if (fabs(c - lo) < EPS || fabs(c - hi) < EPS || fabs(c - s1 - lo) < EPS)
		return slow((float)a, neg, out);   /* at or near a midpoint */
	if (c > hi) {
		double q = floor(x * inv10[j]), f = x - q * s0;

		if (fabs(f - s0 / 2) < EPS)
			return slow((float)a, neg, out);   /* a tie */
		c = (f > s0 / 2 ? q + 1 : q) * s0;
		if (fabs(c - lo) < EPS || fabs(c - hi) < EPS)
			return slow((float)a, neg, out);
		if (c < lo)
			c += s0;
		else if (c > hi)
			c -= s0;
		if (c < lo || c > hi || fabs(c - lo) < EPS || fabs(c - hi) < EPS)
			return slow((float)a, neg, out);
	}
	best = c;
	nd = digits_of((uint32_t)best, dig, &len);
	return layout(neg, dig, nd, k + len - 9, out);
}

int mfs_dtoa(double v, char *out)
{
	int n = 0;

	/* a subnormal has fewer digits of precision: search them all */
	for (int p = fabs(v) < DBL_MIN ? 1 : 15; p <= 17; p++) {
		n = snprintf(out, MFS_FTOA_MAX, "%.*g", p, v);
		if (p == 17 || strtod(out, NULL) == v || !isfinite(v))
			break;
	}
	return n;
}
