/* batch.c - the growable record batch that the record parsers fill.
 *
 * Invariant: when dim != 0, vecs holds cap * fmt_vbytes(vtype, dim) bytes.
 * A batch whose dim was set and then restored to 0 (a failed first record)
 * keeps stale storage; fmt_batch_set_dim resizes it again.
 *
 * Rows (scalar fields) exist only in batches fmt_jsonl_parse filled: rows
 * is a byte buffer of its own (rows_len, rows_cap), row_end one entry a
 * record, allocated on first use and grown with the other arrays from
 * then on; batches without fields never allocate either.
 */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void fmt_batch_init(struct fmt_batch *b, enum vec_type vtype, uint32_t dim)
{
	memset(b, 0, sizeof(*b));
	b->vtype = vtype;
	b->dim = dim;
}

void fmt_batch_reset(struct fmt_batch *b)
{
	b->n = 0;
	b->rows_len = 0;
	free(b->row_end);
	b->row_end = NULL;
	b->pnames_len = 0;
	free(b->pname_at);
	b->pname_at = NULL;
}

void fmt_batch_fini(struct fmt_batch *b)
{
	if (!b)
		return;
	free(b->has_id);
	free(b->ids);
	free(b->vecs);
	free(b->line);
	free(b->rows);
	free(b->row_end);
	free(b->pnames);
	free(b->pname_at);
	fmt_batch_init(b, b->vtype, b->dim);
}

/* Resize every array to ncap records; the batch is unchanged on failure
 * except that arrays already grown stay grown (harmless: cap is only
 * raised once all of them succeeded). */
static int resize(struct fmt_batch *b, size_t ncap)
{
	size_t vb = fmt_vbytes(b->vtype, b->dim);
	void *p;

	if (ncap > SIZE_MAX / (vb ? vb : 1) || ncap > SIZE_MAX / sizeof(int64_t))
		return -ENOMEM;
	p = realloc(b->has_id, ncap);
	if (!p)
		return -ENOMEM;
	b->has_id = p;
	p = realloc(b->ids, ncap * sizeof(*b->ids));
	if (!p)
		return -ENOMEM;
	b->ids = p;
	p = realloc(b->line, ncap * sizeof(*b->line));
	if (!p)
		return -ENOMEM;
	b->line = p;
	if (b->row_end) {
		p = realloc(b->row_end, ncap * sizeof(*b->row_end));
		if (!p)
			return -ENOMEM;
		b->row_end = p;
	}
	if (b->pname_at) {
		p = realloc(b->pname_at, ncap * sizeof(*b->pname_at));
		if (!p)
			return -ENOMEM;
		b->pname_at = p;
	}
	p = realloc(b->vecs, ncap * vb + 1);
	if (!p)
		return -ENOMEM;
	b->vecs = p;
	b->cap = ncap;
	return 0;
}

int fmt_batch_check(const struct fmt_batch *b, struct mfs_err *err)
{
	if (b->vtype != VEC_FLOAT && b->vtype != VEC_BINARY)
		return mfs_errf(err, -EINVAL, "unknown vector type %d", (int)b->vtype);
	if (b->dim == 0)
		return 0;
	if (b->vtype == VEC_BINARY && (b->dim % 8 || b->dim > MFS_DIM_MAX))
		return mfs_errf(err, -EINVAL,
				"dim of a binary vector must be a multiple of 8 in [8, %d], got %u",
				MFS_DIM_MAX, b->dim);
	if (b->vtype == VEC_FLOAT && (b->dim < MFS_FLOAT_DIM_MIN || b->dim > MFS_DIM_MAX))
		return mfs_errf(err, -EINVAL,
				"dim of a float vector must be in [%d, %d], got %u",
				MFS_FLOAT_DIM_MIN, MFS_DIM_MAX, b->dim);
	return 0;
}

int fmt_batch_grow(struct fmt_batch *b, size_t need)
{
	size_t ncap;

	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 64;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	return resize(b, ncap);
}

int fmt_batch_count_check(const struct fmt_batch *b, size_t n, bool str,
			  size_t slen, size_t line, struct mfs_err *err)
{
	if (b->vtype == VEC_BINARY) {
		if (b->dim && n != b->dim && str)
			return mfs_errf(err, -EINVAL,
					"line %zu: expected %u bits or %u hex digits, got %zu digits",
					line, b->dim, b->dim / 4, slen);
		if (b->dim && n != b->dim)
			return mfs_errf(err, -EINVAL,
					"line %zu: expected %u bits, got %zu",
					line, b->dim, n);
		if (!b->dim && (n == 0 || n % 8 || n > MFS_DIM_MAX))
			return mfs_errf(err, -EINVAL,
					"line %zu: expected a multiple of 8 bits in [8, %d], got %zu",
					line, MFS_DIM_MAX, n);
		return 0;
	}
	if (b->dim && n != b->dim)
		return mfs_errf(err, -EINVAL,
				"line %zu: expected %u values, got %zu",
				line, b->dim, n);
	if (!b->dim && (n < MFS_FLOAT_DIM_MIN || n > MFS_DIM_MAX))
		return mfs_errf(err, -EINVAL,
				"line %zu: expected %d to %d values, got %zu",
				line, MFS_FLOAT_DIM_MIN, MFS_DIM_MAX, n);
	return 0;
}

int fmt_batch_set_dim(struct fmt_batch *b, uint32_t dim)
{
	void *p;
	size_t vb;

	b->dim = dim;
	if (!b->cap)
		return 0;
	vb = fmt_vbytes(b->vtype, dim);
	p = realloc(b->vecs, b->cap * vb + 1);
	if (!p) {
		b->dim = 0;
		return -ENOMEM;
	}
	b->vecs = p;
	return 0;
}

int fmt_batch_set_pname(struct fmt_batch *b, size_t i, const char *name,
			size_t len)
{
	if (!b->pname_at) {
		b->pname_at = calloc(b->cap ? b->cap : 1, sizeof(*b->pname_at));
		if (!b->pname_at)
			return -ENOMEM;
	}
	if (b->pnames_len + len + 1 > b->pnames_cap) {
		size_t cap = (b->pnames_len + len + 1) * 2;
		char *p = realloc(b->pnames, cap);

		if (!p)
			return -ENOMEM;
		b->pnames = p;
		b->pnames_cap = cap;
	}
	memcpy(b->pnames + b->pnames_len, name, len);
	b->pnames[b->pnames_len + len] = '\0';
	b->pname_at[i] = b->pnames_len + 1;
	b->pnames_len += len + 1;
	return 0;
}
