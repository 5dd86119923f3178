/* field_int.h - helpers shared by the field sources; not part of the API.
 *
 * Little-endian loads and stores for the row format, the JSON text writers
 * (shortest floats, escaped strings, compact values with shortest reals),
 * a one-pass decoder of a whole row, and the text of a field's type.
 */
#ifndef MFS_FIELD_FIELD_INT_H
#define MFS_FIELD_FIELD_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "field/field.h"

static inline uint16_t fld_ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static inline uint32_t fld_ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

static inline uint64_t fld_ld64(const uint8_t *p)
{
	return (uint64_t)fld_ld32(p) | (uint64_t)fld_ld32(p + 4) << 32;
}

static inline void fld_st16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void fld_st32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

static inline void fld_st64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> 8 * i);
}

/* Longest text of fld_type_text: ARRAY(VARCHAR(65535),4096). */
#define FLD_TYPE_TEXT_MAX 32
/* d's type as the schema prints it, "VARCHAR(64)", "ARRAY(INT64,8)";
 * returns buf (FLD_TYPE_TEXT_MAX bytes). */
char *fld_type_text(const struct fld_def *d, char *buf);

/* JSON text writers.  Each appends to out: 0, -ENOMEM, -EFBIG (out keeps
 * its old length). */
/* The shortest text that reads back (strtof) as the same float32; "null"
 * for inf/nan, which no row holds; "-0.0" for -0 (JSON's -0 is an
 * integer, which would read back as +0). */
int fld_put_float(struct mfs_buf *out, float v);
/* The same for a double (strtod). */
int fld_put_double(struct mfs_buf *out, double v);
/* s[0, n) as a quoted JSON string: '"', '\\' and control bytes escaped,
 * UTF-8 kept. */
int fld_put_string(struct mfs_buf *out, const char *s, size_t n);
/* v as compact JSON, objects in insertion order, reals in the shortest
 * form (an integral real keeps a ".0" so that it reads back as a real). */
int fld_json_dump(struct mfs_buf *out, const json_t *v);
/* A member of a JSON object, "key":x as fld_json_dump writes x, after a
 * ',' when comma. */
int fld_json_member(struct mfs_buf *out, bool comma, const char *key,
		    const json_t *x);

/* Is key a field of s that input may name (not the dynamic field)? */
static inline bool fld_user_field(const struct fld_schema *s,
				  const char *key)
{
	int i = fld_schema_find(s, key);

	return i >= 0 && !s->f[i].dynamic;
}

/* Append value v (not JSON null) of field d in the row's value encoding
 * (field.h), checking it against d's type as fld_row_encode does; line
 * (0: none) prefixes messages "line L: ".  -EINVAL, -ENOMEM, -EFBIG (out
 * keeps its old length). */
int fld_value_encode(struct mfs_buf *out, const struct fld_def *d,
		     const json_t *v, size_t line, struct mfs_err *err);

/* The default of field d into *v (borrowing d->def), or null (FLD_NONE). */
void fld_def_value(const struct fld_def *d, struct fld_value *v);

/* Every field of a row (well formed for s) into v[0, s->n), in one pass;
 * fields past the row's nf read as their default or null (fld_row_get).
 * s->n <= FLD_MAX, so v may be an array of FLD_MAX. */
void fld_row_values(const struct fld_schema *s, const void *row, size_t len,
		    struct fld_value *v);

#endif
