/* text.c - vector records as text lines (SPEC §4).
 *
 * One line is one record, in one of the forms listed at fmt_text_parse.
 * The parser never reads outside buf[0, len): numbers are scanned by
 * fmt_parse_float within the token's bounds, so no NUL terminator is
 * needed, and lines are found with memchr.  When the batch's dim is known,
 * values are parsed straight into the batch's next slot; the slot only
 * becomes a record (b->n++) once the whole line checked out.  When dim is
 * 0 the first record goes through a scratch array and sets dim.
 *
 * A line "A<TAB>B" carries an id when it has exactly one tab and A is an
 * integer; for float vectors B must also hold more than one token ("1<TAB>2"
 * is the 2-dim vector [1, 2], since no vector has dim 1).
 *
 * All or nothing: on any error b->n and b->dim are put back as they were.
 */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct ctx {
	struct fmt_batch *b;
	size_t line;
	struct mfs_err *err;
	float *fscratch;                /* MFS_DIM_MAX floats, on demand */
	size_t count;                   /* values (bits) of the pending vector */
	bool str;                       /* binary: pending was one string */
	size_t slen;                    /* its digits */
	uint8_t bscratch[MFS_DIM_MAX / 8];
};

static const char *skipws(const char *p, const char *e)
{
	while (p < e && fmt_isspace((unsigned char)*p))
		p++;
	return p;
}

static int fail_tok(struct ctx *c, const char *what, const char *p,
		    const char *e)
{
	char ex[48];

	if (p >= e)
		return mfs_errf(c->err, -EINVAL, "line %zu: %s, got end of line",
				c->line, what);
	return mfs_errf(c->err, -EINVAL, "line %zu: %s, got '%s'", c->line,
			what, mfs_excerpt(ex, sizeof(ex), p, (size_t)(e - p)));
}

/* The end of the token at p: the next blank, ',' or close (when not 0). */
static const char *tok_end(const char *p, const char *e, char close)
{
	while (p < e && !fmt_isspace((unsigned char)*p) && *p != ',' &&
	       !(close && *p == close))
		p++;
	return p;
}

/* After item n of a list (what: "value", "bit"), move *pp past the blanks
 * and the ',' that follow it.  1 when the list ends (past its close char,
 * or at e when it has none), 0 when another item follows, or -EINVAL when
 * e comes before close. */
static int list_sep(struct ctx *c, const char **pp, const char *e, char close,
		    const char *what, size_t n)
{
	const char *p = skipws(*pp, e);

	if (p == e) {
		*pp = p;
		if (close)
			return mfs_errf(c->err, -EINVAL,
					"line %zu: expected '%c' after %s %zu, got end of line",
					c->line, close, what, n);
		return 1;
	}
	if (close && *p == close) {
		*pp = p + 1;
		return 1;
	}
	if (*p == ',')
		p = skipws(p + 1, e);
	*pp = p;
	return 0;
}

/* Where the float values of the pending vector go, and how many fit. */
static int float_dst(struct ctx *c, float **dst, size_t *cap)
{
	struct fmt_batch *b = c->b;

	if (b->dim) {
		if (fmt_batch_grow(b, b->n + 1))
			return mfs_errf(c->err, -ENOMEM, "out of memory");
		*dst = (float *)(void *)(b->vecs + b->n * fmt_vbytes(b->vtype, b->dim));
		*cap = b->dim;
		return 0;
	}
	if (!c->fscratch) {
		c->fscratch = malloc(MFS_DIM_MAX * sizeof(float));
		if (!c->fscratch)
			return mfs_errf(c->err, -ENOMEM, "out of memory");
	}
	*dst = c->fscratch;
	*cap = MFS_DIM_MAX;
	return 0;
}

/* Parses item n of a list at *pp (up to e, or to close when not 0) and
 * moves *pp past it; 0 or -EINVAL. */
typedef int (*item_fn)(struct ctx *c, const char **pp, const char *e,
		       char close, size_t n, void *arg);

/* Parse items separated by ',' and/or blanks from p up to e, or up to the
 * closing char close (when not 0), which must be present; *endp gets the
 * position after the list, c->count the number of items (what, in
 * messages).  Inlined into each list, so item is a direct call. */
static inline __attribute__((always_inline))
int list_walk(struct ctx *c, const char *p, const char *e, char close,
	      const char *what, item_fn item, void *arg, const char **endp)
{
	size_t n = 0;
	int rc;

	p = skipws(p, e);
	if (close && p < e && *p == close) {
		p++;
	} else {
		for (;;) {
			rc = item(c, &p, e, close, n, arg);
			if (rc < 0)
				return rc;
			n++;
			rc = list_sep(c, &p, e, close, what, n);
			if (rc < 0)
				return rc;
			if (rc)
				break;
		}
	}
	c->count = n;
	*endp = p;
	return 0;
}

struct float_out {
	float *dst;
	size_t cap;
};

/* A number, into ((struct float_out *)arg)->dst[n] while it fits. */
static int float_item(struct ctx *c, const char **pp, const char *e,
		      char close, size_t n, void *arg)
{
	struct float_out *o = arg;
	const char *p = *pp, *t = p, *q;
	float v;
	int rc;

	/* fast path: a plain decimal followed by a separator */
	if (fmt_scan_float(p, e, &v, &q) == 0 &&
	    (q == e || *q == ' ' || *q == ',' || *q == '\t' ||
	     (close && *q == close) || fmt_isspace((unsigned char)*q))) {
		p = q;
	} else {
		p = tok_end(p, e, close);
		if (t == p)
			return fail_tok(c, n ? "expected a number after ','" :
					"expected a number", t, e);
		rc = fmt_parse_float(t, p, &v);
		if (rc) {
			char ex[48];

			mfs_excerpt(ex, sizeof(ex), t, (size_t)(p - t));
			if (rc == -2)
				return mfs_errf(c->err, -EINVAL,
						"line %zu: value %zu is NaN or infinite",
						c->line, n + 1);
			if (rc == -3)
				return mfs_errf(c->err, -EINVAL,
						"line %zu: value %zu out of float32 range: '%s'",
						c->line, n + 1, ex);
			return mfs_errf(c->err, -EINVAL,
					"line %zu: not a number: '%s'", c->line, ex);
		}
	}
	if (n < o->cap)
		o->dst[n] = v;
	*pp = p;
	return 0;
}

/* Numbers (list_walk); the values land in c's pending vector. */
static int float_list(struct ctx *c, const char *p, const char *e, char close,
		      const char **endp)
{
	struct float_out o = { NULL, 0 };
	int rc = float_dst(c, &o.dst, &o.cap);

	if (rc)
		return rc;
	return list_walk(c, p, e, close, "value", float_item, &o, endp);
}

static void bits_clear(struct ctx *c)
{
	uint32_t dim = c->b->dim;

	memset(c->bscratch, 0, dim ? dim / 8 : sizeof(c->bscratch));
	c->str = false;
}

static void bit_set(struct ctx *c, size_t i)
{
	size_t cap = c->b->dim ? c->b->dim : MFS_DIM_MAX;

	if (i < cap)
		c->bscratch[i / 8] |= (uint8_t)(0x80u >> (i % 8));
}

/* A bit 0 or 1, set as bit n of c's pending vector. */
static int bit_item(struct ctx *c, const char **pp, const char *e, char close,
		    size_t n, void *arg)
{
	const char *t = *pp, *p = tok_end(t, e, close);

	(void)arg;
	if (p - t != 1 || (*t != '0' && *t != '1'))
		return fail_tok(c, p - t > 1 && !close ?
				"expected a bit 0 or 1 (a line of "
				"several words is a list of bits; a "
				"bit or hex string is one word, after "
				"an id and a TAB)" :
				"expected a bit 0 or 1", t,
				p > t ? p : e);
	if (*t == '1')
		bit_set(c, n);
	*pp = p;
	return 0;
}

/* A list of 0/1 values, like float_list. */
static int bit_list(struct ctx *c, const char *p, const char *e, char close,
		    const char **endp)
{
	bits_clear(c);
	return list_walk(c, p, e, close, "bit", bit_item, NULL, endp);
}

int fmt_bit_string(uint8_t *bits, uint32_t dim, const char *t, size_t len,
		   size_t *count, const char **why)
{
	bool prefixed = len >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X');
	bool digits01 = !prefixed;
	size_t i, cap = dim ? dim / 8 : MFS_DIM_MAX / 8;

	memset(bits, 0, cap);
	for (i = 0; digits01 && i < len; i++)
		if (t[i] != '0' && t[i] != '1')
			digits01 = false;
	if (digits01 && (dim ? len == dim : len % 8 == 0)) {
		for (i = 0; i < len && i < cap * 8; i++)
			if (t[i] == '1')
				bits[i / 8] |= (uint8_t)(0x80u >> (i % 8));
		*count = len;
		return 0;
	}
	if (prefixed) {
		t += 2;
		len -= 2;
	}
	for (i = 0; i < len; i++)
		if (mfs_hexval((unsigned char)t[i]) < 0 || len % 2) {
			*why = dim ? "expected bits (0/1) or hex digits" :
				"expected bits (0/1, a multiple of 8) or hex digits (an even number)";
			return -EINVAL;
		}
	for (i = 0; i + 1 < len; i += 2)
		if (i / 2 < cap)
			bits[i / 2] = (uint8_t)(mfs_hexval((unsigned char)t[i]) << 4 |
						mfs_hexval((unsigned char)t[i + 1]));
	*count = len * 4;
	return 0;
}

/* One token of 0/1 digits (dim of them) or hex digits (dim/4 of them,
 * optionally 0x-prefixed). */
static int bit_string(struct ctx *c, const char *t, const char *e)
{
	const char *why = NULL;
	size_t len = (size_t)(e - t);

	c->str = false;
	if (fmt_bit_string(c->bscratch, c->b->dim, t, len, &c->count, &why))
		return fail_tok(c, why, t, e);
	c->str = true;
	c->slen = len - (len >= 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') ? 2 : 0);
	return 0;
}

/* Parse the vector value at p (a bracketed list, or in JSON a quoted
 * string for binary; else a bare list or string up to e). */
static int vec_value(struct ctx *c, const char *p, const char *e, bool json,
		     const char **endp)
{
	bool bin = c->b->vtype == VEC_BINARY;

	if (p < e && *p == '[')
		return bin ? bit_list(c, p + 1, e, ']', endp) :
			float_list(c, p + 1, e, ']', endp);
	if (json) {
		const char *q;

		if (!bin || p >= e || *p != '"')
			return fail_tok(c, bin ? "expected \"vector\" as [0, 1, ...] or a hex string" :
					"expected \"vector\" as [numbers]", p, e);
		q = memchr(p + 1, '"', (size_t)(e - p - 1));
		if (!q)
			return fail_tok(c, "expected a closing '\"'", p, e);
		*endp = q + 1;
		return bit_string(c, p + 1, q);
	}
	if (!bin)
		return float_list(c, p, e, 0, endp);
	for (const char *q = p; q < e; q++)
		if (*q == ',' || fmt_isspace((unsigned char)*q))
			return bit_list(c, p, e, 0, endp);
	*endp = e;
	return bit_string(c, p, e);
}

/* Check the pending vector's size and append it as a record. */
static int commit(struct ctx *c, bool has_id, int64_t id)
{
	struct fmt_batch *b = c->b;
	size_t n = c->count;
	bool str = b->vtype == VEC_BINARY && c->str;   /* set for binary */
	int rc = fmt_batch_count_check(b, n, str, c->slen, c->line, c->err);

	if (rc)
		return rc;
	if (b->vtype == VEC_BINARY) {
		if (!b->dim && fmt_batch_set_dim(b, (uint32_t)n))
			return mfs_errf(c->err, -ENOMEM, "out of memory");
		if (fmt_batch_grow(b, b->n + 1))
			return mfs_errf(c->err, -ENOMEM, "out of memory");
		memcpy(b->vecs + b->n * (b->dim / 8), c->bscratch, b->dim / 8);
	} else if (!b->dim) {
		if (fmt_batch_set_dim(b, (uint32_t)n) || fmt_batch_grow(b, 1))
			return mfs_errf(c->err, -ENOMEM, "out of memory");
		memcpy(b->vecs + b->n * n * 4, c->fscratch, n * 4);
	}
	/* else: the values are in place already (float_dst) */
	b->has_id[b->n] = has_id;
	b->ids[b->n] = has_id ? id : 0;
	b->line[b->n] = c->line;
	b->n++;
	return 0;
}

/* A JSON string at p (after its opening quote): *endp after the closing
 * quote, *ce at the closing quote.  Escapes are skipped over. */
static bool jtext_string(const char *p, const char *e, const char **ce,
			const char **endp)
{
	for (; p < e; p++) {
		if (*p == '\\') {
			p++;
			continue;
		}
		if (*p == '"') {
			*ce = p;
			*endp = p + 1;
			return true;
		}
	}
	return false;
}

/* Skip any JSON value; NULL if malformed. */
static const char *jtext_skip(const char *p, const char *e)
{
	const char *ce, *t = p;
	int depth = 0;

	if (p >= e)
		return NULL;
	if (*p == '"')
		return jtext_string(p + 1, e, &ce, &p) ? p : NULL;
	if (*p != '[' && *p != '{') {
		while (p < e && (('a' <= *p && *p <= 'z') || ('0' <= *p && *p <= '9') ||
				 *p == '-' || *p == '+' || *p == '.' || *p == 'E'))
			p++;
		return p > t ? p : NULL;
	}
	for (; p < e; p++) {
		if (*p == '"') {
			if (!jtext_string(p + 1, e, &ce, &p))
				return NULL;
			p--;            /* at the closing quote */
		} else if (*p == '[' || *p == '{') {
			depth++;
		} else if (*p == ']' || *p == '}') {
			if (--depth == 0)
				return p + 1;
		}
	}
	return NULL;
}

static bool key_is(const char *k, const char *ke, const char *want)
{
	size_t n = strlen(want);

	return (size_t)(ke - k) == n && memcmp(k, want, n) == 0;
}

/* {"id": 42, "vector": [...]} in any key order; other keys (such as
 * "partition", which entities/<id> prints) are ignored. */
static int jtext_line(struct ctx *c, const char *p, const char *e)
{
	bool got_id = false, got_vec = false;
	int64_t id = 0;
	int rc;

	p = skipws(p + 1, e);
	if (p < e && *p == '}') {
		p++;
		goto end;
	}
	for (;;) {
		const char *k, *ke;

		if (p >= e || *p != '"')
			return fail_tok(c, "expected a JSON key", p, e);
		k = p + 1;
		if (!jtext_string(k, e, &ke, &p))
			return fail_tok(c, "expected a closing '\"'", k - 1, e);
		p = skipws(p, e);
		if (p >= e || *p != ':')
			return fail_tok(c, "expected ':' after a JSON key", p, e);
		p = skipws(p + 1, e);
		if (key_is(k, ke, "id")) {
			const char *t = p, *te;

			if (got_id)
				return mfs_errf(c->err, -EINVAL,
						"line %zu: \"id\" given twice", c->line);
			if (p < e && *p == '"') {
				if (!jtext_string(p + 1, e, &te, &p))
					return fail_tok(c, "expected a closing '\"'", t, e);
				t++;
			} else {
				p = tok_end(p, e, '}');
				te = p;
			}
			if (fmt_parse_i64(t, te, &id))
				return fail_tok(c, "\"id\" must be a 64-bit integer",
						t, te > t ? te : e);
			got_id = true;
		} else if (key_is(k, ke, "vector")) {
			if (got_vec)
				return mfs_errf(c->err, -EINVAL,
						"line %zu: \"vector\" given twice", c->line);
			rc = vec_value(c, p, e, true, &p);
			if (rc)
				return rc;
			got_vec = true;
		} else {
			const char *q = jtext_skip(p, e);

			if (!q)
				return fail_tok(c, "expected a JSON value", p, e);
			p = q;
		}
		p = skipws(p, e);
		if (p < e && *p == ',') {
			p = skipws(p + 1, e);
			continue;
		}
		if (p < e && *p == '}') {
			p++;
			break;
		}
		return fail_tok(c, "expected ',' or '}' in JSON object", p, e);
	}
end:
	p = skipws(p, e);
	if (p != e)
		return fail_tok(c, "expected end of line after '}'", p, e);
	if (!got_vec)
		return mfs_errf(c->err, -EINVAL,
				"line %zu: expected a \"vector\" in the JSON record",
				c->line);
	return commit(c, got_id, id);
}

/* Is [s, e) an optional sign and decimal digits? */
static bool integer_token(const char *s, const char *e)
{
	if (s < e && (*s == '-' || *s == '+'))
		s++;
	if (s == e)
		return false;
	for (; s < e; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int parse_line(struct ctx *c, const char *s, const char *e)
{
	const char *tab, *body = s, *endp;
	bool has_id = false;
	int64_t id = 0;
	int rc;

	s = skipws(s, e);
	while (e > s && fmt_isspace((unsigned char)e[-1]))
		e--;
	if (s == e)
		return 0;
	if (*s == '{')
		return jtext_line(c, s, e);
	tab = memchr(s, '\t', (size_t)(e - s));
	if (tab && !memchr(tab + 1, '\t', (size_t)(e - tab - 1))) {
		const char *ie = tab;

		while (ie > s && fmt_isspace((unsigned char)ie[-1]))
			ie--;
		const char *b = skipws(tab + 1, e);
		bool multi = c->b->vtype == VEC_BINARY;

		for (const char *q = b; !multi && q < e; q++)
			multi = *q == ',' || *q == ' ' || *q == '[';
		if (fmt_parse_i64(s, ie, &id) == 0) {
			if (multi && b < e) {
				has_id = true;
				body = b;
			}
		} else if (multi && b < e && integer_token(s, ie)) {
			/* an id, but past int64: say so, not "expected dim
			 * values, got dim + 1" */
			char ex[48];

			return mfs_errf(c->err, -EINVAL,
					"line %zu: id %s out of range: ids are 64-bit integers in [-9223372036854775808, 9223372036854775807]",
					c->line, mfs_excerpt(ex, sizeof(ex), s,
							     (size_t)(ie - s)));
		}
	}
	if (!has_id)
		body = s;
	rc = vec_value(c, body, e, false, &endp);
	if (rc)
		return rc;
	endp = skipws(endp, e);
	if (endp != e)
		return fail_tok(c, "expected end of line after ']'", endp, e);
	return commit(c, has_id, id);
}

int fmt_text_parse(const char *buf, size_t len, size_t line0, bool final,
		   struct fmt_batch *b, size_t *consumed, struct mfs_err *err)
{
	size_t n0 = b->n, pos = 0;
	uint32_t dim0 = b->dim;
	struct ctx *c;
	int rc = fmt_batch_check(b, err);

	if (rc)
		return rc;
	c = malloc(sizeof(*c));
	if (!c)
		return mfs_errf(err, -ENOMEM, "out of memory");
	c->b = b;
	c->err = err;
	c->fscratch = NULL;
	c->line = line0;
	while (pos < len) {
		const char *s = buf + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - s) : len - pos;

		if (ll > FMT_LINE_MAX) {
			rc = mfs_errf(err, -EINVAL, "line %zu: line longer than %u bytes",
				      c->line, FMT_LINE_MAX);
			goto fail;
		}
		if (!nl && !final)
			break;
		rc = parse_line(c, s, s + ll);
		if (rc)
			goto fail;
		pos += ll + (nl ? 1 : 0);
		c->line++;
	}
	free(c->fscratch);
	free(c);
	*consumed = pos;
	return 0;
fail:
	b->n = n0;
	b->dim = dim0;
	free(c->fscratch);
	free(c);
	return rc;
}
