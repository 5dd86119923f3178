/* jsonl.c - entities with scalar fields as JSON lines (SPEC §8), mixed
 * with the text forms of text.c.
 *
 * Lines are split here; a run of lines that are not JSON objects goes
 * whole to fmt_text_parse, and each of its records gets the schema's
 * default row.  A JSON line goes through one of two paths that accept
 * exactly the same lines and produce exactly the same records:
 *
 *   - the reference: jansson parses the whole line (JSON_REJECT_DUPLICATES)
 *     and the record is read off the json_t object;
 *   - the fast path, for the import rate (10^5 entities/s of 100-float
 *     vectors with a handful of fields): a scanner walks the top-level
 *     object itself, parses "vector" straight into the batch with fmt's
 *     float parser and "id" with fmt_parse_i64, and gives every other
 *     value's text to jansson (JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK,
 *     which reports how many bytes the value took).  The scanner is strict
 *     where it reads (RFC 8259 numbers, whitespace, plain keys) and gives
 *     up on anything unusual (escapes or non-ASCII in keys, a bad count,
 *     any syntax error): the line then goes through the reference, which
 *     also writes every message.  Only fld_row_encode's errors come from
 *     the fast path itself, with the same object content in the same key
 *     order, hence the same message.
 *
 * One difference in representation remains, on purpose: a vector value
 * written -0 is -0.0 on the fast path (as in text.c, and as
 * fmt_entity_jsonl prints -0.0 back), while the reference sees jansson's
 * integer 0 and stores +0.0.  The two compare equal as floats.
 *
 * All or nothing: on any error b->n, b->dim and b->rows_len go back to
 * what they were when the call started.
 */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char *const skip_keys[] = { "id", "vector", "partition", NULL };

struct jctx {
	struct fmt_batch *b;
	const struct fld_schema *s;
	size_t line;
	struct mfs_err *err;
	bool ref;                       /* reference path only */
	float *fscratch;                /* MFS_DIM_MAX floats, on demand */
	json_t *obj;                    /* the fast path's fields, reused */
	struct mfs_buf key;             /* a key, NUL-terminated */
	struct mfs_buf defrow;          /* the default row of text records */
	bool have_def;
	/* the pending vector */
	size_t count;                   /* values or bits */
	bool str;                       /* binary: given as one string */
	size_t slen;                    /* its digits */
	uint8_t bits[MFS_DIM_MAX / 8];
};

static int oom(struct jctx *c)
{
	return mfs_errf(c->err, -ENOMEM, "out of memory");
}

static const char *jws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static bool digit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* The end of an RFC 8259 number at p, or NULL; *is_int when it has no
 * fraction and no exponent (jansson's integer). */
static const char *jnum(const char *p, const char *e, bool *is_int)
{
	const char *q = p;

	if (q < e && *q == '-')
		q++;
	if (q == e)
		return NULL;
	if (*q == '0')
		q++;
	else if (*q >= '1' && *q <= '9')
		while (q < e && digit(*q))
			q++;
	else
		return NULL;
	*is_int = true;
	if (q < e && *q == '.') {
		if (++q == e || !digit(*q))
			return NULL;
		while (q < e && digit(*q))
			q++;
		*is_int = false;
	}
	if (q < e && (*q == 'e' || *q == 'E')) {
		q++;
		if (q < e && (*q == '+' || *q == '-'))
			q++;
		if (q == e || !digit(*q))
			return NULL;
		while (q < e && digit(*q))
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
	if (q == e || !digit(*q))
		return NULL;
	for (; q < e && digit(*q); q++)
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
	for (; q < e && digit(*q); q++) {
		if (nd < 19) {
			m = m * 10 + (uint64_t)(*q - '0');
			nd += m != 0;
		} else {
			exp10++;
			trunc |= *q != '0';
		}
	}
	if (q < e && *q == '.') {
		for (q++; q < e && digit(*q); q++) {
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
		for (; q < e && digit(*q); q++)
			m = m * 10 + (uint64_t)(*q - '0');
	else
		return 1;
	nd = (int)(q - d0);
	*is_int = true;
	if (q < e && *q == '.') {
		const char *f0 = ++q;

		for (; q < e && digit(*q); q++)
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

/* A string without escapes, controls or non-ASCII at p (after its opening
 * quote): its closing quote, or NULL. */
static const char *plain_string(const char *p, const char *e)
{
	for (; p < e; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '"')
			return p;
		if (ch == '\\' || ch < 0x20 || ch >= 0x80)
			return NULL;
	}
	return NULL;
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
			return oom(c);
		*dst = (float *)(void *)(b->vecs + b->n * fmt_vbytes(b->vtype, b->dim));
		*cap = b->dim;
		return 0;
	}
	if (!c->fscratch) {
		c->fscratch = malloc(MFS_DIM_MAX * sizeof(float));
		if (!c->fscratch)
			return oom(c);
	}
	*dst = c->fscratch;
	*cap = MFS_DIM_MAX;
	return 0;
}

/* After an element of an array or object at *pp: past the ',' that
 * follows it (0), at the close char that ends it (1), or -1 when neither
 * follows. */
static int next_elem(const char **pp, const char *e, char close)
{
	const char *p = jws(*pp, e);

	if (p < e && *p == ',') {
		*pp = jws(p + 1, e);
		return 0;
	}
	*pp = p;
	return p < e && *p == close ? 1 : -1;
}

/* Fast path: the vector value at p.  0 (*endp after it), 1 (give up),
 * -ENOMEM. */
static int fast_vector(struct jctx *c, const char *p, const char *e,
		       const char **endp)
{
	size_t n = 0;

	if (c->b->vtype == VEC_BINARY) {
		size_t cap = c->b->dim ? c->b->dim : MFS_DIM_MAX;

		if (p < e && *p == '"') {
			const char *q = plain_string(p + 1, e);

			if (!q || bit_string(c, p + 1, (size_t)(q - p - 1), true))
				return 1;
			*endp = q + 1;
			return 0;
		}
		if (p == e || *p != '[')
			return 1;
		bits_clear(c);
		p = jws(p + 1, e);
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
			next = next_elem(&p, e, ']');
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
		p = jws(p + 1, e);
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
			rc = next_elem(&p, e, ']');
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
static int ref_vector(struct jctx *c, json_t *v)
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

/* ---- records ---- */

/* Encode obj's fields (obj NULL: defaults) at the end of b->rows. */
static int put_row(struct jctx *c, json_t *obj)
{
	struct fmt_batch *b = c->b;
	struct mfs_buf rb = {
		.data = (char *)b->rows, .len = b->rows_len,
		.cap = b->rows_cap, .max = SIZE_MAX,
	};
	int rc = obj ? fld_row_encode(&rb, c->s, obj, skip_keys, c->line, c->err) :
		fld_row_default(&rb, c->s, c->line, c->err);

	b->rows = (uint8_t *)rb.data;
	b->rows_cap = rb.cap;
	b->rows_len = rb.len;
	return rc;
}

/* Check the pending vector's size, encode the row and append the record.
 * quiet (fast path): a size problem gives 1 (the reference reports). */
static int commit(struct jctx *c, bool has_id, int64_t id, json_t *obj,
		  bool quiet)
{
	struct fmt_batch *b = c->b;
	size_t n = c->count;
	int rc;

	rc = fmt_batch_count_check(b, n, b->vtype == VEC_BINARY && c->str,
				   c->slen, c->line, quiet ? NULL : c->err);
	if (rc)
		return quiet ? 1 : rc;
	if (b->vtype == VEC_BINARY) {
		if (!b->dim && fmt_batch_set_dim(b, (uint32_t)n))
			return oom(c);
		if (fmt_batch_grow(b, b->n + 1))
			return oom(c);
		memcpy(b->vecs + b->n * (b->dim / 8), c->bits, b->dim / 8);
	} else if (!b->dim) {
		if (fmt_batch_set_dim(b, (uint32_t)n) || fmt_batch_grow(b, 1))
			return oom(c);
		memcpy(b->vecs + b->n * n * 4, c->fscratch, n * 4);
	}
	rc = put_row(c, obj);
	if (rc)
		return rc;
	if (obj) {
		/* "partition": where the record goes (the engine checks) */
		json_t *pn = json_object_get(obj, "partition");

		if (pn && !json_is_string(pn)) {
			if (quiet)
				return 1;
			return mfs_errf(c->err, -EINVAL,
					"line %zu: \"partition\" must be a partition name (a string)",
					c->line);
		}
		if (pn) {
			const char *s = json_string_value(pn);
			size_t l = json_string_length(pn);

			if (l == 0 || l > MFS_NAME_MAX || memchr(s, '\0', l)) {
				if (quiet)
					return 1;
				return mfs_errf(c->err, -EINVAL,
						"line %zu: \"partition\" must be a partition name",
						c->line);
			}
			if (fmt_batch_set_pname(b, b->n, s, l))
				return oom(c);
		} else if (b->pname_at) {
			b->pname_at[b->n] = 0;
		}
	} else if (b->pname_at) {
		b->pname_at[b->n] = 0;
	}
	b->has_id[b->n] = has_id;
	b->ids[b->n] = has_id ? id : 0;
	b->line[b->n] = c->line;
	b->row_end[b->n] = b->rows_len;
	b->n++;
	return 0;
}

/* The reference: jansson parses the whole line [s, e). */
static int ref_line(struct jctx *c, const char *s, const char *e)
{
	json_error_t jerr;
	json_t *obj = json_loadb(s, (size_t)(e - s), JSON_REJECT_DUPLICATES, &jerr);
	json_t *v;
	bool has_id = false;
	int64_t id = 0;
	int rc;

	if (!obj) {
		char ex[200];

		return mfs_errf(c->err, -EINVAL,
				"line %zu: invalid JSON: %s at column %d", c->line,
				mfs_excerpt(ex, sizeof(ex), jerr.text, strlen(jerr.text)),
				jerr.column);
	}
	if (!json_is_object(obj)) {
		rc = mfs_errf(c->err, -EINVAL, "line %zu: expected a JSON object",
			      c->line);
		goto out;
	}
	v = json_object_get(obj, "vector");
	if (!v) {
		rc = mfs_errf(c->err, -EINVAL,
			      "line %zu: expected a \"vector\" in the JSON record",
			      c->line);
		goto out;
	}
	rc = ref_vector(c, v);
	if (rc)
		goto out;
	v = json_object_get(obj, "id");
	if (v) {
		if (json_is_integer(v)) {
			id = (int64_t)json_integer_value(v);
		} else {
			/* SPEC §8: a value of the wrong type is EINVAL, the
			 * primary key's as a field's */
			rc = mfs_errf(c->err, -EINVAL,
				      "line %zu: field id: expected INT64, got %s",
				      c->line, json_is_string(v) ? "string" :
				      json_is_real(v) ? "float" :
				      json_is_boolean(v) ? "bool" :
				      json_is_null(v) ? "null" : "a JSON container");
			goto out;
		}
		has_id = true;
	}
	rc = commit(c, has_id, id, obj, false);
out:
	json_decref(obj);
	return rc;
}

/* A field's value at p: plain strings, integers and literals made here,
 * anything else by jansson; *endp after it.  NULL: not a JSON value (or
 * out of memory: the reference path then says which). */
static json_t *fast_value(const char *p, const char *e, const char **endp)
{
	json_error_t jerr;
	json_t *v;

	if (p < e && *p == '"') {
		const char *q = plain_string(p + 1, e);

		if (q) {
			*endp = q + 1;
			return json_stringn_nocheck(p + 1, (size_t)(q - p - 1));
		}
	} else if (p < e && (*p == '-' || digit(*p))) {
		bool is_int;
		const char *q = jnum(p, e, &is_int);
		int64_t x;

		if (q && is_int && fmt_parse_i64(p, q, &x) == 0) {
			*endp = q;
			return json_integer((json_int_t)x);
		}
	} else if ((size_t)(e - p) >= 4 && memcmp(p, "true", 4) == 0) {
		*endp = p + 4;
		return json_true();
	} else if ((size_t)(e - p) >= 5 && memcmp(p, "false", 5) == 0) {
		*endp = p + 5;
		return json_false();
	} else if ((size_t)(e - p) >= 4 && memcmp(p, "null", 4) == 0) {
		*endp = p + 4;
		return json_null();
	}
	v = json_loadb(p, (size_t)(e - p), JSON_DECODE_ANY | JSON_DISABLE_EOF_CHECK |
		       JSON_REJECT_DUPLICATES, &jerr);
	if (v)
		*endp = p + jerr.position;
	return v;
}

static bool key_is(const char *k, const char *ke, const char *want, size_t n)
{
	return (size_t)(ke - k) == n && memcmp(k, want, n) == 0;
}

/* The fast path for the line [s, e): 0 (record appended), 1 (give up:
 * use the reference), or an error of fld_row_encode / -ENOMEM. */
static int fast_line(struct jctx *c, const char *s, const char *e)
{
	const char *p = jws(s, e);
	bool got_id = false, got_vec = false;
	int64_t id = 0;
	int rc;

	json_object_clear(c->obj);
	if (p == e || *p != '{')
		return 1;
	p = jws(p + 1, e);
	if (p < e && *p == '}') {
		p++;
		goto end;
	}
	for (;;) {
		const char *k, *ke;

		if (p == e || *p != '"')
			return 1;
		k = p + 1;
		ke = plain_string(k, e);
		if (!ke)
			return 1;
		p = jws(ke + 1, e);
		if (p == e || *p != ':')
			return 1;
		p = jws(p + 1, e);
		if (key_is(k, ke, "id", 2)) {
			const char *q;
			bool is_int;

			if (got_id || p == e)
				return 1;
			if (*p == '"') {
				return 1;       /* the reference refuses it */
			} else {
				q = jnum(p, e, &is_int);
				if (!q || !is_int || fmt_parse_i64(p, q, &id))
					return 1;
				p = q;
			}
			got_id = true;
		} else if (key_is(k, ke, "vector", 6)) {
			if (got_vec)
				return 1;
			rc = fast_vector(c, p, e, &p);
			if (rc)
				return rc;
			got_vec = true;
		} else {
			json_t *v = fast_value(p, e, &p);

			if (!v)
				return 1;
			mfs_buf_reset(&c->key);
			if (mfs_buf_append(&c->key, k, (size_t)(ke - k))) {
				json_decref(v);
				return oom(c);
			}
			if (json_object_get(c->obj, c->key.data)) {
				json_decref(v);
				return 1;               /* a duplicate key */
			}
			if (json_object_set_new_nocheck(c->obj, c->key.data, v))
				return oom(c);
		}
		rc = next_elem(&p, e, '}');
		if (rc < 0)
			return 1;
		if (rc) {
			p++;
			break;
		}
	}
end:
	if (jws(p, e) != e || !got_vec)
		return 1;
	return commit(c, got_id, id, c->obj, true);
}

static int json_line(struct jctx *c, const char *s, const char *e)
{
	int rc;

	if (!c->ref) {
		rc = fast_line(c, s, e);
		json_object_clear(c->obj);
		if (rc <= 0)
			return rc;
	}
	return ref_line(c, s, e);
}

/* Append default rows to the records the text parser added from n0. */
static int default_rows(struct jctx *c, size_t n0)
{
	struct fmt_batch *b = c->b;
	int rc;

	if (n0 == b->n)
		return 0;
	for (size_t i = n0; b->pname_at && i < b->n; i++)
		b->pname_at[i] = 0;     /* text lines name no partition */
	if (!c->have_def) {
		/* the same row for every text record; a schema that cannot
		 * give one fails at the first of them */
		struct mfs_buf *d = &c->defrow;
		struct mfs_buf rb = { .data = d->data, .len = 0, .cap = d->cap,
				      .max = SIZE_MAX };

		rc = fld_row_default(&rb, c->s, b->line[n0], c->err);
		d->data = rb.data;
		d->cap = rb.cap;
		d->len = rb.len;
		if (rc)
			return rc;
		c->have_def = true;
	}
	for (size_t i = n0; i < b->n; i++) {
		struct mfs_buf rb = {
			.data = (char *)b->rows, .len = b->rows_len,
			.cap = b->rows_cap, .max = SIZE_MAX,
		};

		rc = mfs_buf_append(&rb, c->defrow.data, c->defrow.len);
		b->rows = (uint8_t *)rb.data;
		b->rows_cap = rb.cap;
		b->rows_len = rb.len;
		if (rc)
			return oom(c);
		b->row_end[i] = b->rows_len;
	}
	return 0;
}

/* Lines [from, to) of buf, none a JSON object, through the text parser. */
static int text_run(struct jctx *c, const char *buf, size_t from, size_t to,
		    size_t line)
{
	size_t n0 = c->b->n, used;
	int rc;

	if (from == to)
		return 0;
	rc = fmt_text_parse(buf + from, to - from, line, true, c->b, &used,
			    c->err);
	return rc ? rc : default_rows(c, n0);
}

/* Give the batch a row_end covering its records (empty rows). */
static int row_end_init(struct fmt_batch *b)
{
	size_t cap = b->cap ? b->cap : 1;

	if (b->row_end)
		return 0;
	b->row_end = malloc(cap * sizeof(*b->row_end));
	if (!b->row_end)
		return -ENOMEM;
	if (b->cap < cap && fmt_batch_grow(b, cap)) {
		free(b->row_end);
		b->row_end = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < b->n; i++)
		b->row_end[i] = b->rows_len;
	return 0;
}

static bool json_start(const char *s, const char *e)
{
	while (s < e && fmt_isspace((unsigned char)*s))
		s++;
	return s < e && *s == '{';
}

static int parse(const char *buf, size_t len, size_t line0, bool final,
		 const struct fld_schema *s, struct fmt_batch *b,
		 size_t *consumed, struct mfs_err *err, bool ref)
{
	size_t n0 = b->n, rows0 = b->rows_len, pos = 0, run = 0, run_line = line0;
	uint32_t dim0 = b->dim;
	struct jctx *c;
	int rc = fmt_batch_check(b, err);

	if (rc)
		return rc;
	if (row_end_init(b))
		return mfs_errf(err, -ENOMEM, "out of memory");
	c = calloc(1, sizeof(*c));
	if (!c)
		return mfs_errf(err, -ENOMEM, "out of memory");
	c->b = b;
	c->s = s;
	c->err = err;
	c->ref = ref;
	c->line = line0;
	mfs_buf_init(&c->key, FMT_LINE_MAX);
	mfs_buf_init(&c->defrow, SIZE_MAX);
	c->obj = json_object();
	if (!c->obj) {
		rc = oom(c);
		goto fail;
	}
	while (pos < len) {
		const char *ls = buf + pos;
		const char *nl = memchr(ls, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - ls) : len - pos;

		if (ll > FMT_LINE_MAX) {
			rc = text_run(c, buf, run, pos, run_line);
			if (!rc)
				rc = mfs_errf(err, -EINVAL,
					      "line %zu: line longer than %u bytes",
					      c->line, FMT_LINE_MAX);
			goto fail;
		}
		if (!nl && !final)
			break;
		if (json_start(ls, ls + ll)) {
			rc = text_run(c, buf, run, pos, run_line);
			if (!rc)
				rc = json_line(c, ls, ls + ll);
			if (rc)
				goto fail;
			run = pos + ll + (nl ? 1 : 0);
			run_line = c->line + 1;
		}
		pos += ll + (nl ? 1 : 0);
		c->line++;
	}
	rc = text_run(c, buf, run, pos, run_line);
	if (rc)
		goto fail;
	*consumed = pos;
	goto out;
fail:
	b->n = n0;
	b->dim = dim0;
	b->rows_len = rows0;
out:
	json_decref(c->obj);
	mfs_buf_fini(&c->key);
	mfs_buf_fini(&c->defrow);
	free(c->fscratch);
	free(c);
	return rc;
}

int fmt_jsonl_parse(const char *buf, size_t len, size_t line0, bool final,
		    const struct fld_schema *s, struct fmt_batch *b,
		    size_t *consumed, struct mfs_err *err)
{
	return parse(buf, len, line0, final, s, b, consumed, err, false);
}

int fmt_jsonl_parse_ref(const char *buf, size_t len, size_t line0, bool final,
			const struct fld_schema *s, struct fmt_batch *b,
			size_t *consumed, struct mfs_err *err)
{
	return parse(buf, len, line0, final, s, b, consumed, err, true);
}
