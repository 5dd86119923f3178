/* jsonl_vec.c - the "vector" value of a JSON line (jsonl.c has the
 * design): JSON numbers checked against RFC 8259 and read as the float32
 * strtof would give, on the fast path; float and binary vectors from the
 * scanner's text (fast path) or from jansson's value (reference path).
 */
#include "fmt/jsonl_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- numbers ---- */

/* The end of an RFC 8259 number at p, or NULL; *is_int when it has no
 * fraction and no exponent (jansson's integer). */
const char *fmt_jnum(const char *p, const char *e, bool *is_int)
{
	const char *q = p;

	if (q < e && *q == '-')
		q++;
	if (q == e)
		return NULL;
	if (*q == '0')
		q++;
	else if (*q >= '1' && *q <= '9')
		while (q < e && fmt_jdigit(*q))
			q++;
	else
		return NULL;
	*is_int = true;
	if (q < e && *q == '.') {
		if (++q == e || !fmt_jdigit(*q))
			return NULL;
		while (q < e && fmt_jdigit(*q))
			q++;
		*is_int = false;
	}
	if (q < e && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < e && (*q == '+' || *q == '-'))
			q++;
		if (q == e || !fmt_jdigit(*q))
			return NULL;
		while (q < e && fmt_jdigit(*q))
			q++;
		*is_int = false;
	}
	return q;
}

static const double pow10_tab[23] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

/* m * 10^exp10 (m != 0; trunc: digits after m's were dropped, some not
 * 0) as the float32 strtof would give: 0, or 1 when that is not certain.
 *
 * d = m * 10^exp10 with |exp10| <= 44 takes at most three rounded double
 * operations (10^0..10^22 are exact doubles), so d is within 2 double
 * ulps of the true value.  Rounding d to float gives the correctly
 * rounded float32 unless d lies within that error of a float midpoint
 * (the low 29 bits of its mantissa near 2^28; the bound taken is 64
 * ulps); then, and for subnormals and overflow, the caller falls back to
 * strtof.  When m and the scale were exact (m <= 2^53, no digit dropped,
 * |exp10| <= 22) d is the correctly rounded double and only an exact
 * midpoint needs the fallback, as in num.c. */
static int to_float(uint64_t m, int exp10, bool trunc, bool neg, float *out)
{
	uint64_t bits, low, dist;
	bool exact;
	double d;

	if (exp10 < -44 || exp10 > 44)
		return 1;
	exact = m <= (1ull << 53) && !trunc;
	d = (double)m;
	if (exp10 < -22) {
		d = d / 1e22 / pow10_tab[-exp10 - 22];
		exact = false;
	} else if (exp10 < 0) {
		d /= pow10_tab[-exp10];
	} else if (exp10 > 22) {
		d = d * 1e22 * pow10_tab[exp10 - 22];
		exact = false;
	} else {
		d *= pow10_tab[exp10];
	}
	if (!(d >= FLT_MIN && d <= FLT_MAX))
		return 1;
	memcpy(&bits, &d, sizeof(bits));
	low = bits & 0x1fffffffu;
	dist = low > 0x10000000u ? low - 0x10000000u : 0x10000000u - low;
	if (dist <= (exact ? 0u : 64u))
		return 1;
	*out = neg ? -(float)d : (float)d;
	return 0;
}

/* An exponent at q ('e' or 'E' already seen at q[-1]); NULL if malformed. */
static const char *exponent(const char *q, const char *e, int *exp10)
{
	bool eneg = false;
	int x = 0;

	if (q < e && (*q == '+' || *q == '-'))
		eneg = *q++ == '-';
	if (q == e || !fmt_jdigit(*q))
		return NULL;
	for (; q < e && fmt_jdigit(*q); q++)
		if (x < 100000)
			x = x * 10 + (*q - '0');
	*exp10 += eneg ? -x : x;
	return q;
}

/* jfloat for numbers of more than 19 digits: the first 19 significant
 * ones go into m, the rest only into the exponent (and trunc). */
static int jfloat_long(const char *p, const char *e, float *out,
		       const char **endp)
{
	const char *q = p;
	uint64_t m = 0;
	int nd = 0, exp10 = 0;
	bool neg = *q == '-', trunc = false;

	q += neg;
	for (; q < e && fmt_jdigit(*q); q++) {
		if (nd < 19) {
			m = m * 10 + (uint64_t)(*q - '0');
			nd += m != 0;
		} else {
			exp10++;
			trunc |= *q != '0';
		}
	}
	if (q < e && *q == '.') {
		for (q++; q < e && fmt_jdigit(*q); q++) {
			if (nd < 19) {
				/* leading zeros leave m 0 and only move the
				 * exponent: they are not significant */
				m = m * 10 + (uint64_t)(*q - '0');
				exp10--;
				nd += m != 0;
			} else {
				trunc |= *q != '0';
			}
		}
	}
	if (q < e && (*q == 'e' || *q == 'E'))
		q = exponent(q + 1, e, &exp10);
	*endp = q;              /* as jfloat found it */
	if (m == 0) {
		*out = neg ? -0.0f : 0.0f;
		return 0;
	}
	return to_float(m, exp10, trunc, neg, out);
}

/* Scan the RFC 8259 number at p: *endp after it (NULL: not a number),
 * *is_int as jnum.  Returns 0 with *out the float32 strtof would give, or
 * 1: use fmt_parse_float on [p, *endp).  Unlike fmt_scan_float this also
 * takes long mantissas (Python prints a float32 widened to double with up
 * to 17 digits; past 19, jfloat_long), and it checks JSON's grammar on
 * the way. */
static int jfloat(const char *p, const char *e, float *out, const char **endp,
		  bool *is_int)
{
	const char *q = p, *d0;
	uint64_t m = 0;
	int nd, exp10 = 0;
	bool neg = false;

	*endp = NULL;
	if (q < e && *q == '-') {
		neg = true;
		q++;
	}
	if (q == e)
		return 1;
	d0 = q;
	if (*q == '0')
		q++;
	else if (*q >= '1' && *q <= '9')
		for (; q < e && fmt_jdigit(*q); q++)
			m = m * 10 + (uint64_t)(*q - '0');
	else
		return 1;
	nd = (int)(q - d0);
	*is_int = true;
	if (q < e && *q == '.') {
		const char *f0 = ++q;

		for (; q < e && fmt_jdigit(*q); q++)
			m = m * 10 + (uint64_t)(*q - '0');
		if (q == f0)
			return 1;
		exp10 = -(int)(q - f0);
		nd -= exp10;
		*is_int = false;
	}
	if (q < e && (*q == 'e' || *q == 'E')) {
		q = exponent(q + 1, e, &exp10);
		if (!q)
			return 1;
		*is_int = false;
	}
	*endp = q;
	if (nd > 19)                    /* m wrapped: take the digits again */
		return jfloat_long(p, q, out, endp);
	if (m == 0) {
		*out = neg ? -0.0f : 0.0f;
		return 0;
	}
	return to_float(m, exp10, false, neg, out);
}

/* ---- vectors ---- */

static void bits_clear(struct jctx *c)
{
	uint32_t dim = c->b->dim;

	memset(c->bits, 0, dim ? dim / 8 : sizeof(c->bits));
	c->str = false;
	c->count = 0;
}

static void bit_set(struct jctx *c, size_t i)
{
	size_t cap = c->b->dim ? c->b->dim : MFS_DIM_MAX;

	if (i < cap)
		c->bits[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

/* A binary vector given as a string t[0, len): dim 0/1 digits, else hex
 * (as text.c's bit_string).  0, or -EINVAL (message when !quiet). */
static int bit_string(struct jctx *c, const char *t, size_t len, bool quiet)
{
	const char *why = NULL;
	char ex[48];

	c->str = false;
	if (fmt_bit_string(c->bits, c->b->dim, t, len, &c->count, &why)) {
		if (quiet)
			return -EINVAL;
		return mfs_errf(c->err, -EINVAL, "line %zu: %s, got '%s'",
				c->line, why, mfs_excerpt(ex, sizeof(ex), t, len));
	}
	c->str = true;
	c->slen = len - (len >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') ? 2 : 0);
	return 0;
}

/* Where float values go: the batch's next slot (dim known) or scratch. */
static int float_dst(struct jctx *c, float **dst, size_t *cap)
{
	struct fmt_batch *b = c->b;

	if (b->dim) {
		if (fmt_batch_grow(b, b->n + 1))
			return fmt_joom(c);
		*dst = (float *)(void *)(b->vecs + b->n * fmt_vbytes(b->vtype, b->dim));
		*cap = b->dim;
		return 0;
	}
	if (!c->fscratch) {
		c->fscratch = malloc(MFS_DIM_MAX * sizeof(float));
		if (!c->fscratch)
			return fmt_joom(c);
	}
	*dst = c->fscratch;
	*cap = MFS_DIM_MAX;
	return 0;
}

/* After an element of an array or object at *pp: past the ',' that
 * follows it (0), at the close char that ends it (1), or -1 when neither
 * follows. */
int fmt_jnext_elem(const char **pp, const char *e, char close)
{
	const char *p = fmt_jws(*pp, e);

	if (p < e && *p == ',') {
		*pp = fmt_jws(p + 1, e);
		return 0;
	}
	*pp = p;
	return p < e && *p == close ? 1 : -1;
}

/* Fast path: the vector value at p.  0 (*endp after it), 1 (give up),
 * -ENOMEM. */
int fmt_jvec_fast(struct jctx *c, const char *p, const char *e,
		  const char **endp)
{
	size_t n = 0;

	if (c->b->vtype == VEC_BINARY) {
		size_t cap = c->b->dim ? c->b->dim : MFS_DIM_MAX;

		if (p < e && *p == '"') {
			const char *q = fmt_jplain(p + 1, e);

			if (!q || bit_string(c, p + 1, (size_t)(q - p - 1), true))
				return 1;
			*endp = q + 1;
			return 0;
		}
		if (p == e || *p != '[')
			return 1;
		bits_clear(c);
		p = fmt_jws(p + 1, e);
		if (p < e && *p == ']') {
			*endp = p + 1;
			return 0;
		}
		for (;;) {
			int next;

			if (p == e || (*p != '0' && *p != '1') || n >= cap)
				return 1;
			if (*p++ == '1')
				bit_set(c, n);
			c->count = ++n;
			next = fmt_jnext_elem(&p, e, ']');
			if (next < 0)
				return 1;
			if (next)
				break;
		}
		*endp = p + 1;
		return 0;
	} else {
		float *dst;
		size_t cap;
		int rc;

		if (p == e || *p != '[')
			return 1;
		rc = float_dst(c, &dst, &cap);
		if (rc)
			return rc;
		c->count = 0;
		p = fmt_jws(p + 1, e);
		if (p < e && *p == ']') {
			*endp = p + 1;
			return 0;
		}
		for (;;) {
			const char *q;
			bool is_int;
			float v;

			if (jfloat(p, e, &v, &q, &is_int) &&
			    (!q || fmt_parse_float(p, q, &v)))
				return 1;
			if (n >= cap)
				return 1;
			if (is_int && q - p > 18) {
				int64_t x;

				if (fmt_parse_i64(p, q, &x))
					return 1;       /* jansson: too big */
			}
			dst[n++] = v;
			p = q;
			rc = fmt_jnext_elem(&p, e, ']');
			if (rc < 0)
				return 1;
			if (rc)
				break;
		}
		c->count = n;
		*endp = p + 1;
		return 0;
	}
}

/* Reference path: the vector from jansson's value. */
int fmt_jvec_ref(struct jctx *c, json_t *v)
{
	size_t n;

	if (c->b->vtype == VEC_BINARY) {
		size_t cap = c->b->dim ? c->b->dim : MFS_DIM_MAX;

		if (json_is_string(v))
			return bit_string(c, json_string_value(v),
					  json_string_length(v), false);
		if (!json_is_array(v))
			return mfs_errf(c->err, -EINVAL,
					"line %zu: expected \"vector\" as [0, 1, ...] or a hex string",
					c->line);
		bits_clear(c);
		n = json_array_size(v);
		for (size_t i = 0; i < n; i++) {
			json_t *x = json_array_get(v, i);
			json_int_t bit = json_is_integer(x) ? json_integer_value(x) : -1;

			if (bit != 0 && bit != 1)
				return mfs_errf(c->err, -EINVAL,
						"line %zu: bit %zu: expected 0 or 1",
						c->line, i + 1);
			if (bit && i < cap)
				bit_set(c, i);
		}
		c->count = n;
		return 0;
	} else {
		float *dst;
		size_t cap;
		int rc;

		if (!json_is_array(v))
			return mfs_errf(c->err, -EINVAL,
					"line %zu: expected \"vector\" as [numbers]",
					c->line);
		rc = float_dst(c, &dst, &cap);
		if (rc)
			return rc;
		n = json_array_size(v);
		for (size_t i = 0; i < n; i++) {
			json_t *x = json_array_get(v, i);
			float f;

			if (json_is_integer(x)) {
				f = (float)json_integer_value(x);
			} else if (json_is_real(x)) {
				f = (float)json_real_value(x);
				if (!isfinite(f))
					return mfs_errf(c->err, -EINVAL,
							"line %zu: value %zu out of float32 range: '%.17g'",
							c->line, i + 1, json_real_value(x));
			} else {
				return mfs_errf(c->err, -EINVAL,
						"line %zu: value %zu is not a number",
						c->line, i + 1);
			}
			if (i < cap)
				dst[i] = f;
		}
		c->count = n;
		return 0;
	}
}
