/* row.c - one entity's scalar fields as stored bytes (a "row", field.h):
 * encoding from JSON with Milvus's type rules (decoding: row_dec.c; JSON
 * text out: row_json.c).
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

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
			rc = fld_json_dump(out, v);
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
			if (skipped(k, skip) || fld_user_field(s, k))
				continue;
			rc = fld_json_member(out, !first, k, x);
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
			if (skipped(key, skip) || fld_user_field(s, key))
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
