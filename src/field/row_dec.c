/* row_dec.c - reading stored rows (field.h): checking a row's bytes
 * against its schema, reading one field or all of them (fields past the
 * row's count read as their default), and the partition-key hash of a
 * value.
 */
#include "field/field_int.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
