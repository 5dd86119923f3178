/* row_json.c - JSON text out: the writers of field_int.h (shortest
 * floats and doubles, escaped strings, compact JSON values), which row.c
 * also uses to store JSON and ARRAY values, and a value or a whole row as
 * JSON members for query results and reads.
 */
#include "field/field_int.h"
#include "base/ftoa.h"

#include <errno.h>
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
int fld_json_member(struct mfs_buf *out, bool comma, const char *key,
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
			rc = fld_json_member(out, !first, k, x);
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
		if (fld_user_field(s, key))
			continue;
		rc = fld_json_member(out, true, key, x);
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
