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
 *
 * The vector value and JSON numbers: jsonl_vec.c.
 */
#include "fmt/jsonl_int.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const skip_keys[] = { "id", "vector", "partition", NULL };

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
			return fmt_joom(c);
		if (fmt_batch_grow(b, b->n + 1))
			return fmt_joom(c);
		memcpy(b->vecs + b->n * (b->dim / 8), c->bits, b->dim / 8);
	} else if (!b->dim) {
		if (fmt_batch_set_dim(b, (uint32_t)n) || fmt_batch_grow(b, 1))
			return fmt_joom(c);
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
				return fmt_joom(c);
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
	rc = fmt_jvec_ref(c, v);
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
		const char *q = fmt_jplain(p + 1, e);

		if (q) {
			*endp = q + 1;
			return json_stringn_nocheck(p + 1, (size_t)(q - p - 1));
		}
	} else if (p < e && (*p == '-' || fmt_jdigit(*p))) {
		bool is_int;
		const char *q = fmt_jnum(p, e, &is_int);
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
	const char *p = fmt_jws(s, e);
	bool got_id = false, got_vec = false;
	int64_t id = 0;
	int rc;

	json_object_clear(c->obj);
	if (p == e || *p != '{')
		return 1;
	p = fmt_jws(p + 1, e);
	if (p < e && *p == '}') {
		p++;
		goto end;
	}
	for (;;) {
		const char *k, *ke;

		if (p == e || *p != '"')
			return 1;
		k = p + 1;
		ke = fmt_jplain(k, e);
		if (!ke)
			return 1;
		p = fmt_jws(ke + 1, e);
		if (p == e || *p != ':')
			return 1;
		p = fmt_jws(p + 1, e);
		if (key_is(k, ke, "id", 2)) {
			const char *q;
			bool is_int;

			if (got_id || p == e)
				return 1;
			if (*p == '"') {
				return 1;       /* the reference refuses it */
			} else {
				q = fmt_jnum(p, e, &is_int);
				if (!q || !is_int || fmt_parse_i64(p, q, &id))
					return 1;
				p = q;
			}
			got_id = true;
		} else if (key_is(k, ke, "vector", 6)) {
			if (got_vec)
				return 1;
			rc = fmt_jvec_fast(c, p, e, &p);
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
				return fmt_joom(c);
			}
			if (json_object_get(c->obj, c->key.data)) {
				json_decref(v);
				return 1;               /* a duplicate key */
			}
			if (json_object_set_new_nocheck(c->obj, c->key.data, v))
				return fmt_joom(c);
		}
		rc = fmt_jnext_elem(&p, e, '}');
		if (rc < 0)
			return 1;
		if (rc) {
			p++;
			break;
		}
	}
end:
	if (fmt_jws(p, e) != e || !got_vec)
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
			return fmt_joom(c);
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
		rc = fmt_joom(c);
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
