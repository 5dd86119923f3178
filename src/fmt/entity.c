/* entity.c - one entity out, as TSV, JSON (with its scalar fields, SPEC
 * §8, in fmt_entity_jsonl) or fvecs (SPEC §4).
 *
 * Floats print as mfs_ftoa writes them: the shortest decimal that reads
 * back to the same float32 (0.1, not 0.100000001).  Binary vectors print as hex, two digits a byte, which
 * the text parser reads back.  On failure the buffer keeps its old length.
 */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

static int put_hex(struct mfs_buf *out, const uint8_t *v, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	int rc = mfs_buf_reserve(out, 2 * n);

	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		out->data[out->len++] = digits[v[i] >> 4];
		out->data[out->len++] = digits[v[i] & 15];
	}
	out->data[out->len] = '\0';
	return 0;
}

int fmt_entity_tsv(struct mfs_buf *out, int64_t id, enum vec_type vtype,
		   uint32_t dim, const void *vec)
{
	size_t len0 = out->len;
	int rc = mfs_buf_printf(out, "%" PRId64 "\t", id);

	if (!rc)
		rc = vtype == VEC_BINARY ? put_hex(out, vec, dim / 8) :
			fmt_put_floats(out, vec, dim);
	if (!rc)
		rc = mfs_buf_append(out, "\n", 1);
	if (rc)
		mfs_buf_truncate(out, len0);
	return rc;
}

static int put_json_string(struct mfs_buf *out, const char *s)
{
	int rc = mfs_buf_append(out, "\"", 1);

	for (; !rc && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			rc = mfs_buf_printf(out, "\\%c", c);
		else if (c < 0x20)
			rc = mfs_buf_printf(out, "\\u%04x", c);
		else
			rc = mfs_buf_append(out, s, 1);
	}
	if (!rc)
		rc = mfs_buf_append(out, "\"", 1);
	return rc;
}

/* {"id":42,"partition":"p","vector":[...]  without the closing brace. */
static int entity_head(struct mfs_buf *out, int64_t id, const char *part,
		       enum vec_type vtype, uint32_t dim, const void *vec)
{
	int rc = mfs_buf_printf(out, "{\"id\":%" PRId64 ",", id);

	if (!rc && part) {
		rc = mfs_buf_append(out, "\"partition\":", 12);
		if (!rc)
			rc = put_json_string(out, part);
		if (!rc)
			rc = mfs_buf_append(out, ",", 1);
	}
	if (!rc && vtype == VEC_BINARY) {
		rc = mfs_buf_append(out, "\"vector\":\"", 10);
		if (!rc)
			rc = put_hex(out, vec, dim / 8);
		if (!rc)
			rc = mfs_buf_append(out, "\"", 1);
	} else if (!rc) {
		rc = mfs_buf_append(out, "\"vector\":[", 10);
		if (!rc)
			rc = fmt_put_floats(out, vec, dim);
		if (!rc)
			rc = mfs_buf_append(out, "]", 1);
	}
	return rc;
}

int fmt_entity_json(struct mfs_buf *out, int64_t id, const char *part,
		    enum vec_type vtype, uint32_t dim, const void *vec)
{
	size_t len0 = out->len;
	int rc = entity_head(out, id, part, vtype, dim, vec);

	if (!rc)
		rc = mfs_buf_append(out, "}\n", 2);
	if (rc)
		mfs_buf_truncate(out, len0);
	return rc;
}

int fmt_entity_jsonl(struct mfs_buf *out, int64_t id, const char *part,
		     enum vec_type vtype, uint32_t dim, const void *vec,
		     const struct fld_schema *s, const void *row,
		     size_t row_len)
{
	size_t len0 = out->len;
	int rc = entity_head(out, id, part, vtype, dim, vec);

	if (!rc && s)
		rc = fld_row_json(out, s, row, row_len, NULL);
	if (!rc)
		rc = mfs_buf_append(out, "}\n", 2);
	if (rc)
		mfs_buf_truncate(out, len0);
	return rc;
}

int fmt_entity_fvecs(struct mfs_buf *out, enum vec_type vtype, uint32_t dim,
		     const void *vec)
{
	uint32_t d = vtype == VEC_BINARY ? dim / 8 : dim;
	unsigned char hdr[4] = {
		(unsigned char)d, (unsigned char)(d >> 8),
		(unsigned char)(d >> 16), (unsigned char)(d >> 24),
	};
	size_t vb = fmt_vbytes(vtype, dim);
	int rc = mfs_buf_reserve(out, 4 + vb);

	if (rc)
		return rc;
	mfs_buf_append(out, hdr, 4);
	mfs_buf_append(out, vec, vb);   /* little-endian hosts: as stored */
	return 0;
}
