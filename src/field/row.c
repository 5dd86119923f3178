/* row.c - one entity's scalar fields as stored bytes (a "row", field.h):
 * encoding from JSON with Milvus's type rules, decoding, JSON text out.
 *
 * Encoding writes the row straight into the caller's buffer: the header
 * (nf, null bitmap) first, values after it, and the bitmap is patched by
 * offset as nulls are found (the buffer may move while values are
 * appended).  Any error puts the buffer back to its old length, so a
 * failed record leaves nothing behind.
 *
 * JSON and ARRAY values are stored as compact JSON text written here (not
 * by jansson's dumper, which prints 0.1 as 0.10000000000000001): reals in
 * their shortest round-tripping form, ARRAY elements normalized to the
 * element type (an ARRAY(FLOAT) holds float32 values).  The $meta object
 * is stored the same way, keys in input order, so that printing a row and
 * encoding the print gives the same bytes.
 */
#include "field/field_int.h"
#include "base/ftoa.h"

#include <assert.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- JSON text out ---- */

int fld_put_float(struct mfs_buf *out, float v)
{
	char buf[MFS_FTOA_MAX];

	if (!isfinite(v))
		return mfs_buf_append(out, "null", 4);
	if (v == 0 && signbit(v))       /* "-0" would read back as integer 0 */
		return mfs_buf_append(out, "-0.0", 4);
	return mfs_buf_append(out, buf, (size_t)mfs_ftoa(v, buf));
}

int fld_put_double(struct mfs_buf *out, double v)
{
	char buf[MFS_FTOA_MAX];

	if (!isfinite(v))
		return mfs_buf_append(out, "null", 4);
	if (v == 0 && signbit(v))
		return mfs_buf_append(out, "-0.0", 4);
	return mfs_buf_append(out, buf, (size_t)mfs_dtoa(v, buf));
}

int fld_put_string(struct mfs_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t len0 = out->len, extra = 2;
	char *o;
	int rc;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			extra++;
		else if (c < 0x20)
			extra += 5;
	}
	if (n > SIZE_MAX - extra)
		return -EFBIG;
	rc = mfs_buf_reserve(out, n + extra);
	if (rc)
		return rc;
	o = out->data + len0;
	*o++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20) {
			const char *sh = c == '\n' ? "n" : c == '\t' ? "t" :
				c == '\r' ? "r" : c == '\b' ? "b" : c == '\f' ? "f" : NULL;

			*o++ = '\\';
			if (sh) {
				*o++ = *sh;
			} else {
				*o++ = 'u';
				*o++ = '0';
				*o++ = '0';
				*o++ = hex[c >> 4];
				*o++ = hex[c & 15];
			}
		} else {
			*o++ = (char)c;
		}
	}
	*o++ = '"';
	out->len = (size_t)(o - out->data);
	out->data[out->len] = '\0';
	return 0;
}

static int dump(struct mfs_buf *out, const json_t *v);

/* A member of a JSON object, "key":value, after a ',' when comma. */
static int dump_member(struct mfs_buf *out, bool comma, const char *key,
		       const json_t *x)
{
	int rc = comma ? mfs_buf_append(out, ",", 1) : 0;

	if (!rc)
		rc = fld_put_string(out, key, strlen(key));
	if (!rc)
		rc = mfs_buf_append(out, ":", 1);
	if (!rc)
		rc = dump(out, x);
	return rc;
}

static int dump(struct mfs_buf *out, const json_t *v)
{
	char buf[48];
	int rc = 0;

	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		bool first = true;

		rc = mfs_buf_append(out, "{", 1);
		json_object_foreach((json_t *)v, k, x) {
			if (rc)
				break;
			rc = dump_member(out, !first, k, x);
			first = false;
		}
		return rc ? rc : mfs_buf_append(out, "}", 1);
	}
	case JSON_ARRAY:
		rc = mfs_buf_append(out, "[", 1);
		for (size_t i = 0; !rc && i < json_array_size(v); i++) {
			if (i)
				rc = mfs_buf_append(out, ",", 1);
			if (!rc)
				rc = dump(out, json_array_get(v, i));
		}
		return rc ? rc : mfs_buf_append(out, "]", 1);
	case JSON_STRING:
		return fld_put_string(out, json_string_value(v),
				      json_string_length(v));
	case JSON_INTEGER:
		return mfs_buf_printf(out, "%" PRId64,
				      (int64_t)json_integer_value(v));
	case JSON_REAL: {
		size_t n = (size_t)mfs_dtoa(json_real_value(v), buf);

		if (!strpbrk(buf, ".eEn")) {    /* stays a real when read back */
			memcpy(buf + n, ".0", 3);
			n += 2;
		}
		return mfs_buf_append(out, buf, n);
	}
	case JSON_TRUE:
		return mfs_buf_append(out, "true", 4);
	case JSON_FALSE:
		return mfs_buf_append(out, "false", 5);
	default:
		return mfs_buf_append(out, "null", 4);
	}
}

int fld_json_dump(struct mfs_buf *out, const json_t *v)
{
	size_t len0 = out->len;
	int rc = dump(out, v);

	if (rc)
		mfs_buf_truncate(out, len0);
	return rc;
}

/* ---- encoding ---- */

static const char *json_kind(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER: return "integer";
	case JSON_REAL: return "real";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	default: return "null";
	}
}

/* "line 3: " or "" */
static const char *at(char *buf, size_t line)
{
	if (line)
		snprintf(buf, 32, "line %zu: ", line);
	else
		buf[0] = '\0';
	return buf;
}

static int oom(struct mfs_err *err, int rc)
{
	return rc == -EFBIG ? mfs_errf(err, rc, "row too large") :
		mfs_errf(err, -ENOMEM, "out of memory");
}

static bool int_fits(enum fld_type t, int64_t x)
{
	switch (t) {
	case FLD_INT8: return x >= INT8_MIN && x <= INT8_MAX;
	case FLD_INT16: return x >= INT16_MIN && x <= INT16_MAX;
	case FLD_INT32: return x >= INT32_MIN && x <= INT32_MAX;
	default: return true;
	}
}

/* Check one scalar (non-JSON, non-ARRAY) value of type t for field d;
 * name is what messages call it ("rank", "tags[2]").  On success *x / *dv
 * hold the value (ints, BOOL / FLOAT, DOUBLE). */
static int check_scalar(const struct fld_def *d, enum fld_type t,
			const char *name, const json_t *v, size_t line,
			int64_t *x, double *dv, struct mfs_err *err)
{
	char tt[FLD_TYPE_TEXT_MAX], ln[32];
	struct fld_def tmp;

	switch (t) {
	case FLD_BOOL:
		if (!json_is_boolean(v))
			break;
		*x = json_is_true(v);
		return 0;
	case FLD_INT8:
	case FLD_INT16:
	case FLD_INT32:
	case FLD_INT64:
		if (!json_is_integer(v))
			break;
		*x = (int64_t)json_integer_value(v);
		if (!int_fits(t, *x))
			return mfs_errf(err, -EINVAL,
					"%sfield %s: value %" PRId64 " out of range for %s",
					at(ln, line), name, *x, fld_type_name(t));
		return 0;
	case FLD_FLOAT:
	case FLD_DOUBLE:
		if (json_is_integer(v)) {
			int64_t iv = (int64_t)json_integer_value(v);

			*dv = t == FLD_FLOAT ? (double)(float)iv : (double)iv;
			return 0;
		}
		if (!json_is_real(v))
			break;
		*dv = json_real_value(v);
		if (t == FLD_FLOAT) {
			float f = (float)*dv;

			if (!isfinite(f))
				return mfs_errf(err, -EINVAL,
						"%sfield %s: value %g out of range for FLOAT",
						at(ln, line), name, *dv);
			*dv = f;
		}
		return 0;
	case FLD_VARCHAR:
		if (!json_is_string(v))
			break;
		if (json_string_length(v) > d->max_length)
			return mfs_errf(err, -EINVAL,
					"%sfield %s: length %zu exceeds max_length %u",
					at(ln, line), name, json_string_length(v),
					d->max_length);
		return 0;
	default:
		break;
	}
	tmp = *d;
	tmp.type = t;
	return mfs_errf(err, -EINVAL, "%sfield %s: expected %s, got %s",
			at(ln, line), name, fld_type_text(&tmp, tt), json_kind(v));
}

/* An ARRAY value as compact text, elements checked and normalized. */
static int encode_array(struct mfs_buf *out, const struct fld_def *d,
			const json_t *v, size_t line, struct mfs_err *err)
{
	size_t n = json_array_size(v);
	char ln[32], name[FLD_NAME_MAX + 24];
	int rc;

	if (n > d->capacity)
		return mfs_errf(err, -EINVAL,
				"%sfield %s: %zu elements exceed max_capacity %u",
				at(ln, line), d->name, n, d->capacity);
	rc = mfs_buf_append(out, "[", 1);
	for (size_t i = 0; !rc && i < n; i++) {
		const json_t *e = json_array_get(v, i);
		int64_t x = 0;
		double dv = 0;

		snprintf(name, sizeof(name), "%s[%zu]", d->name, i);
		rc = check_scalar(d, d->elem, name, e, line, &x, &dv, err);
		if (rc)
			return rc;
		if (i)
			rc = mfs_buf_append(out, ",", 1);
		if (rc)
			break;
		switch (d->elem) {
		case FLD_BOOL:
			rc = x ? mfs_buf_append(out, "true", 4) :
				mfs_buf_append(out, "false", 5);
			break;
		case FLD_FLOAT:
			rc = fld_put_float(out, (float)dv);
			break;
		case FLD_DOUBLE:
			rc = fld_put_double(out, dv);
			break;
		case FLD_VARCHAR:
			rc = fld_put_string(out, json_string_value(e),
					    json_string_length(e));
			break;
		default:
			rc = mfs_buf_printf(out, "%" PRId64, x);
		}
	}
	if (!rc)
		rc = mfs_buf_append(out, "]", 1);
	return rc ? oom(err, rc) : 0;
}

/* Append a u32 length placeholder; the value's text follows; then
 * finish_text checks the size and patches the length. */
static int finish_text(struct mfs_buf *out, size_t at0, const char *name,
		       size_t line, bool limit, struct mfs_err *err)
{
	size_t n = out->len - at0 - 4;
	char ln[32];

	if (limit && n > FLD_JSON_MAX)
		return mfs_errf(err, -EINVAL,
				"%sfield %s: JSON value of %zu bytes exceeds %d",
				at(ln, line), name, n, FLD_JSON_MAX);
	if (n > UINT32_MAX)
		return mfs_errf(err, -EFBIG, "%sfield %s: value too large",
				at(ln, line), name);
	fld_st32((uint8_t *)out->data + at0, (uint32_t)n);
	return 0;
}

int fld_value_encode(struct mfs_buf *out, const struct fld_def *d,
		     const json_t *v, size_t line, struct mfs_err *err)
{
	size_t len0 = out->len;
	uint8_t b[8];
	int64_t x = 0;
	double dv = 0;
	int rc;

	switch (d->type) {
	case FLD_JSON:
	case FLD_ARRAY:
		if (d->type == FLD_ARRAY && !json_is_array(v)) {
			char tt[FLD_TYPE_TEXT_MAX], ln[32];

			return mfs_errf(err, -EINVAL, "%sfield %s: expected %s, got %s",
					at(ln, line), d->name, fld_type_text(d, tt),
					json_kind(v));
		}
		rc = mfs_buf_append(out, "\0\0\0\0", 4);
		if (rc)
			return oom(err, rc);
		if (d->type == FLD_ARRAY) {
			rc = encode_array(out, d, v, line, err);
		} else {
			rc = dump(out, v);
			if (rc)
				rc = oom(err, rc);
		}
		if (!rc)
			rc = finish_text(out, len0, d->name, line,
					 d->type == FLD_JSON, err);
		if (rc)
			mfs_buf_truncate(out, len0);
		return rc;
	default:
		rc = check_scalar(d, d->type, d->name, v, line, &x, &dv, err);
		if (rc)
			return rc;
	}
	switch (d->type) {
	case FLD_BOOL:
	case FLD_INT8:
		b[0] = (uint8_t)x;
		rc = mfs_buf_append(out, b, 1);
		break;
	case FLD_INT16:
		fld_st16(b, (uint16_t)x);
		rc = mfs_buf_append(out, b, 2);
		break;
	case FLD_INT32:
		fld_st32(b, (uint32_t)x);
		rc = mfs_buf_append(out, b, 4);
		break;
	case FLD_INT64:
		fld_st64(b, (uint64_t)x);
		rc = mfs_buf_append(out, b, 8);
		break;
	case FLD_FLOAT: {
		float f = (float)dv;
		uint32_t u;

		memcpy(&u, &f, 4);
		fld_st32(b, u);
		rc = mfs_buf_append(out, b, 4);
		break;
	}
	case FLD_DOUBLE: {
		uint64_t u;

		memcpy(&u, &dv, 8);
		fld_st64(b, u);
		rc = mfs_buf_append(out, b, 8);
		break;
	}
	case FLD_VARCHAR:
		fld_st32(b, (uint32_t)json_string_length(v));
		rc = mfs_buf_append(out, b, 4);
		if (!rc)
			rc = mfs_buf_append(out, json_string_value(v),
					    json_string_length(v));
		break;
	default:
		return mfs_errf(err, -EIO, "field %s: unknown type %d", d->name,
				(int)d->type);
	}
	if (rc) {
		mfs_buf_truncate(out, len0);
		return oom(err, rc);
	}
	return 0;
}

static bool skipped(const char *key, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (strcmp(key, *skip) == 0)
			return true;
	return false;
}

/* Is key a field that input may name (not the dynamic field)? */
static bool user_field(const struct fld_schema *s, const char *key)
{
	int i = fld_schema_find(s, key);

	return i >= 0 && !s->f[i].dynamic;
}

/* The $meta object of obj's keys that are not fields (nor skipped). */
static int encode_meta(struct mfs_buf *out, const struct fld_def *d,
		       const struct fld_schema *s, json_t *obj,
		       const char *const *skip, size_t line, struct mfs_err *err)
{
	size_t len0 = out->len;
	const char *k;
	json_t *x;
	bool first = true;
	int rc = mfs_buf_append(out, "\0\0\0\0{", 5);

	if (obj) {
		json_object_foreach(obj, k, x) {
			if (rc)
				break;
			if (skipped(k, skip) || user_field(s, k))
				continue;
			rc = dump_member(out, !first, k, x);
			first = false;
		}
	}
	if (!rc)
		rc = mfs_buf_append(out, "}", 1);
	if (rc)
		rc = oom(err, rc);
	else
		rc = finish_text(out, len0, d->name, line, true, err);
	if (rc)
		mfs_buf_truncate(out, len0);
	return rc;
}

static int encode(struct mfs_buf *out, const struct fld_schema *s,
		  json_t *obj, const char *const *skip, size_t line,
		  struct mfs_err *err)
{
	size_t len0 = out->len, nu = 0, k = 0, nb;
	int meta = -1;
	char ln[32];
	uint8_t hdr[2];
	int rc;

	if (obj) {
		const char *key;
		json_t *x;

		json_object_foreach(obj, key, x) {
			if (skipped(key, skip) || user_field(s, key))
				continue;
			if (strcmp(key, FLD_META) == 0 && s->dynamic)
				return mfs_errf(err, -EINVAL,
						"%skey %s is reserved for the dynamic field",
						at(ln, line), FLD_META);
			if (!s->dynamic)
				return mfs_errf(err, -EINVAL,
						"%sfield %s not exist", at(ln, line), key);
		}
	}
	for (size_t i = 0; i < s->n; i++) {
		if (s->f[i].dynamic)
			meta = (int)i;
		else
			nu++;
	}
	nb = (nu + 7) / 8;
	fld_st16(hdr, (uint16_t)(nu | (meta >= 0 ? FLD_ROW_META : 0)));
	rc = mfs_buf_append(out, hdr, 2);
	if (!rc)
		rc = mfs_buf_reserve(out, nb);
	if (rc)
		return oom(err, rc);
	memset(out->data + out->len, 0, nb);
	out->len += nb;
	for (size_t i = 0; i < s->n; i++) {
		const struct fld_def *d = &s->f[i];
		json_t *v;

		if (d->dynamic)
			continue;
		v = obj ? json_object_get(obj, d->name) : NULL;
		if (v && !json_is_null(v)) {
			rc = fld_value_encode(out, d, v, line, err);
			if (rc)
				goto fail;
		} else if (d->def) {
			rc = mfs_buf_append(out, d->def + 3, d->def_len - 3);
			if (rc) {
				rc = oom(err, rc);
				goto fail;
			}
		} else if (d->nullable) {
			out->data[len0 + 2 + k / 8] |= (char)(1u << (k % 8));
		} else {
			char tt[FLD_TYPE_TEXT_MAX];

			rc = mfs_errf(err, -EINVAL, v ?
				      "%sfield %s: expected %s, got null" :
				      "%sfield %s: missing value (expected %s)",
				      at(ln, line), d->name, fld_type_text(d, tt));
			goto fail;
		}
		k++;
	}
	if (meta >= 0) {
		rc = encode_meta(out, &s->f[meta], s, obj, skip, line, err);
		if (rc)
			goto fail;
	}
	return 0;
fail:
	mfs_buf_truncate(out, len0);
	return rc;
}

int fld_row_encode(struct mfs_buf *out, const struct fld_schema *s,
		   json_t *obj, const char *const *skip, size_t line,
		   struct mfs_err *err)
{
	char ln[32];

	if (!json_is_object(obj))
		return mfs_errf(err, -EINVAL, "%sexpected a JSON object, got %s",
				at(ln, line), obj ? json_kind(obj) : "nothing");
	return encode(out, s, obj, skip, line, err);
}

int fld_row_default(struct mfs_buf *out, const struct fld_schema *s,
		    size_t line, struct mfs_err *err)
{
	return encode(out, s, NULL, NULL, line, err);
}

/* ---- decoding ---- */

/* Bytes of a non-null value of type t at p (room: n); 0 if malformed. */
static size_t value_size(enum fld_type t, const uint8_t *p, size_t n)
{
	size_t k;

	switch (t) {
	case FLD_BOOL:
		return n >= 1 && p[0] <= 1 ? 1 : 0;
	case FLD_INT8: k = 1; break;
	case FLD_INT16: k = 2; break;
	case FLD_INT32:
	case FLD_FLOAT: k = 4; break;
	case FLD_INT64:
	case FLD_DOUBLE: k = 8; break;
	case FLD_VARCHAR:
	case FLD_JSON:
	case FLD_ARRAY:
		if (n < 4 || fld_ld32(p) > n - 4)
			return 0;
		return 4 + (size_t)fld_ld32(p);
	default:
		return 0;
	}
	return n >= k ? k : 0;
}

/* The row's header: *nf fields (of s's fields but $meta, in order), their
 * values at *vals; *meta whether a $meta value follows them. */
static void header(const uint8_t *r, size_t len, size_t *nf, bool *meta,
		   const uint8_t **vals)
{
	uint16_t h = len >= 2 ? fld_ld16(r) : 0;

	*nf = h & ~FLD_ROW_META;
	*meta = h & FLD_ROW_META;
	*vals = r + 2 + (*nf + 7) / 8;
}

static bool is_null(const uint8_t *r, size_t k)
{
	return r[2 + k / 8] >> (k % 8) & 1;
}

int fld_row_check(const struct fld_schema *s, const void *row, size_t len)
{
	const uint8_t *r = row, *vals;
	size_t nf, nu = 0, p, k = 0;
	bool meta;

	if (len == 0)
		return 0;
	if (len < 2)
		return -EIO;
	header(r, len, &nf, &meta, &vals);
	p = (size_t)(vals - r);
	for (size_t i = 0; i < s->n; i++)
		nu += !s->f[i].dynamic;
	if (nf > nu || p > len)
		return -EIO;
	for (size_t i = 0; k < nf; i++) {
		size_t sz;

		if (s->f[i].dynamic)
			continue;
		if (!is_null(r, k)) {
			sz = value_size(s->f[i].type, r + p, len - p);
			if (!sz)
				return -EIO;
			p += sz;
		}
		k++;
	}
	if (meta) {
		size_t sz = value_size(FLD_JSON, r + p, len - p);

		if (!sz)
			return -EIO;
		p += sz;
	}
	return p == len ? 0 : -EIO;
}

/* Decode the value of type t at p into v; the bytes after it. */
static const uint8_t *get_one(enum fld_type t, const uint8_t *p,
			      struct fld_value *v)
{
	memset(v, 0, sizeof(*v));
	v->type = t;
	switch (t) {
	case FLD_BOOL:
		v->i = p[0];
		return p + 1;
	case FLD_INT8:
		v->i = (int8_t)p[0];
		return p + 1;
	case FLD_INT16:
		v->i = (int16_t)fld_ld16(p);
		return p + 2;
	case FLD_INT32:
		v->i = (int32_t)fld_ld32(p);
		return p + 4;
	case FLD_INT64:
		v->i = (int64_t)fld_ld64(p);
		return p + 8;
	case FLD_FLOAT: {
		uint32_t u = fld_ld32(p);
		float f;

		memcpy(&f, &u, 4);
		v->d = f;
		return p + 4;
	}
	case FLD_DOUBLE: {
		uint64_t u = fld_ld64(p);

		memcpy(&v->d, &u, 8);
		return p + 8;
	}
	default:                /* VARCHAR, JSON, ARRAY */
		v->len = fld_ld32(p);
		v->s = (const char *)p + 4;
		return p + 4 + v->len;
	}
}

static void null_value(struct fld_value *v)
{
	memset(v, 0, sizeof(*v));
	v->type = FLD_NONE;
}

void fld_def_value(const struct fld_def *d, struct fld_value *v)
{
	if (d->def)
		get_one(d->type, d->def + 3, v);
	else
		null_value(v);
}

void fld_row_values(const struct fld_schema *s, const void *row, size_t len,
		    struct fld_value *v)
{
	const uint8_t *r = row, *p;
	size_t nf, k = 0;
	int mi = -1;
	bool meta;

	assert(s->n <= FLD_MAX);        /* callers size v by FLD_MAX */
	header(r, len, &nf, &meta, &p);
	for (size_t i = 0; i < s->n; i++) {
		if (s->f[i].dynamic) {
			mi = (int)i;
			continue;
		}
		if (k >= nf)
			fld_def_value(&s->f[i], &v[i]);
		else if (is_null(r, k))
			null_value(&v[i]);
		else
			p = get_one(s->f[i].type, p, &v[i]);
		k++;
	}
	if (mi >= 0) {
		if (meta)
			get_one(FLD_JSON, p, &v[mi]);
		else
			null_value(&v[mi]);
	}
}

void fld_row_get(const struct fld_schema *s, const void *row, size_t len,
		 size_t i, struct fld_value *v)
{
	const uint8_t *r = row, *p;
	size_t nf, k = 0;
	bool meta, dyn = s->f[i].dynamic;

	header(r, len, &nf, &meta, &p);
	for (size_t j = 0; j < s->n && (dyn || j < i); j++) {
		if (s->f[j].dynamic)
			continue;
		if (k >= nf)
			break;
		if (!is_null(r, k))
			p += value_size(s->f[j].type, p, SIZE_MAX);
		k++;
	}
	if (dyn) {
		if (meta)
			get_one(FLD_JSON, p, v);
		else
			null_value(v);
	} else if (k >= nf) {
		fld_def_value(&s->f[i], v);
	} else if (is_null(r, k)) {
		null_value(v);
	} else {
		get_one(s->f[i].type, p, v);
	}
}

/* ---- JSON out ---- */

int fld_value_json(struct mfs_buf *out, const struct fld_def *d,
		   const struct fld_value *v)
{
	switch (v->type) {
	case FLD_BOOL:
		return v->i ? mfs_buf_append(out, "true", 4) :
			mfs_buf_append(out, "false", 5);
	case FLD_INT8:
	case FLD_INT16:
	case FLD_INT32:
	case FLD_INT64:
		return mfs_buf_printf(out, "%" PRId64, v->i);
	case FLD_FLOAT:
		return fld_put_float(out, (float)v->d);
	case FLD_DOUBLE:
		return fld_put_double(out, v->d);
	case FLD_VARCHAR:
		return fld_put_string(out, v->s, v->len);
	case FLD_JSON:
	case FLD_ARRAY:
		if (v->s)
			return mfs_buf_append(out, v->s, v->len);
		if (v->json)
			return fld_json_dump(out, v->json);
		return mfs_buf_append(out, "null", 4);
	default:
		return mfs_buf_append(out, "null", 4);
	}
}

/* Could $meta's text t[0, n) hold a key named as one of s's fields (a
 * dynamic key stored before a field of that name was added)?  Keys are
 * printed "key": and field names need no escaping, so no such substring
 * means no such key. */
static bool meta_shadowed(const struct fld_schema *s, const char *t, size_t n)
{
	for (size_t i = 0; i < s->n; i++) {
		size_t k = strlen(s->f[i].name);

		if (s->f[i].dynamic || k + 3 > n)
			continue;
		for (const char *p = t; (p = memchr(p, '"', n - (size_t)(p - t) - k - 2));
		     p++)
			if (memcmp(p + 1, s->f[i].name, k) == 0 && p[k + 1] == '"' &&
			    p[k + 2] == ':')
				return true;
	}
	return false;
}

/* $meta's members as ",key":value..., flattened; the fields of s shadow
 * dynamic keys of the same name (the field is the entity's value now). */
static int meta_members(struct mfs_buf *out, const struct fld_schema *s,
			const struct fld_value *v)
{
	const char *key;
	json_t *o, *x;
	int rc = 0;

	if (!v->s || v->len <= 2 || v->s[0] != '{' || v->s[v->len - 1] != '}')
		return 0;       /* null, {} (or not an object: damaged) */
	if (!meta_shadowed(s, v->s, v->len)) {
		rc = mfs_buf_append(out, ",", 1);
		return rc ? rc : mfs_buf_append(out, v->s + 1, v->len - 2);
	}
	o = json_loadb(v->s, v->len, 0, NULL);
	if (!o)
		return 0;
	json_object_foreach(o, key, x) {
		if (user_field(s, key))
			continue;
		rc = dump_member(out, true, key, x);
		if (rc)
			break;
	}
	json_decref(o);
	return rc;
}

int fld_row_json(struct mfs_buf *out, const struct fld_schema *s,
		 const void *row, size_t len, const bool *want)
{
	struct fld_value vs[FLD_MAX];
	size_t len0 = out->len;
	int rc = 0;

	fld_row_values(s, row, len, vs);
	for (size_t i = 0; !rc && i < s->n; i++) {
		const struct fld_def *d = &s->f[i];
		const struct fld_value *v = &vs[i];

		if (want && !want[i])
			continue;
		if (d->dynamic) {
			rc = meta_members(out, s, v);
			continue;
		}
		rc = mfs_buf_reserve(out, strlen(d->name) + 4);
		if (!rc) {
			mfs_buf_append(out, ",", 1);
			rc = fld_put_string(out, d->name, strlen(d->name));
		}
		if (!rc)
			rc = mfs_buf_append(out, ":", 1);
		if (!rc)
			rc = fld_value_json(out, d, v);
	}
	if (rc)
		mfs_buf_truncate(out, len0);
	return rc;
}

/* ---- partition-key hash ---- */

uint64_t fld_value_hash(const struct fld_value *v)
{
	uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a 64 */
	uint8_t b[8];
	const uint8_t *p = b;
	size_t n = 8;

	if (v->type == FLD_VARCHAR) {
		p = (const uint8_t *)v->s;
		n = v->len;
	} else {
		fld_st64(b, (uint64_t)v->i);
	}
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	h ^= h >> 33;                           /* murmur3's fmix64 */
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}
