/* fvecs.c - texmex fvecs records in (SPEC §4), and bvecs-like binary ones.
 *
 * A float record is int32 dim then dim float32; a binary record is int32
 * nbytes then nbytes bytes; all little-endian.  Records may straddle
 * write(2) calls, so a trailing partial record is left unconsumed.
 * All or nothing: on error b->n and b->dim are put back.
 */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		(uint32_t)p[3] << 24;
}

int fmt_fvecs_parse(const void *buf, size_t len, size_t record0,
		    struct fmt_batch *b, size_t *consumed, struct mfs_err *err)
{
	const unsigned char *p = buf;
	size_t n0 = b->n, pos = 0, rec = record0;
	uint32_t dim0 = b->dim;
	bool bin = b->vtype == VEC_BINARY;
	int rc = fmt_batch_check(b, err);

	if (rc)
		return rc;

	while (len - pos >= 4) {
		int32_t d = (int32_t)le32(p + pos);
		int64_t lo = bin ? 1 : MFS_FLOAT_DIM_MIN;
		int64_t hi = bin ? MFS_DIM_MAX / 8 : MFS_DIM_MAX;
		uint32_t dim;
		size_t vb;

		if (d < lo || d > hi) {
			rc = mfs_errf(err, -EINVAL, bin ?
				      "record %zu: dim %d bytes out of range [%lld, %lld]" :
				      "record %zu: dim %d out of range [%lld, %lld]",
				      rec, (int)d, (long long)lo, (long long)hi);
			goto fail;
		}
		dim = bin ? (uint32_t)d * 8 : (uint32_t)d;
		if (b->dim && dim != b->dim) {
			rc = bin ? mfs_errf(err, -EINVAL,
					    "record %zu: expected dim %u bytes, got %d",
					    rec, b->dim / 8, (int)d) :
				mfs_errf(err, -EINVAL, "record %zu: expected dim %u, got %d",
					 rec, b->dim, (int)d);
			goto fail;
		}
		vb = fmt_vbytes(b->vtype, dim);
		if (len - pos - 4 < vb)
			break;                  /* partial: waits for more */
		if (!bin) {
			const unsigned char *v = p + pos + 4;

			for (uint32_t i = 0; i < dim; i++) {
				float f;

				memcpy(&f, v + 4 * (size_t)i, 4);
				if (!isfinite(f)) {
					rc = mfs_errf(err, -EINVAL,
						      "record %zu: value %u is NaN or infinite",
						      rec, i + 1);
					goto fail;
				}
			}
		}
		if (!b->dim && fmt_batch_set_dim(b, dim)) {
			rc = mfs_errf(err, -ENOMEM, "out of memory");
			goto fail;
		}
		if (fmt_batch_grow(b, b->n + 1)) {
			rc = mfs_errf(err, -ENOMEM, "out of memory");
			goto fail;
		}
		/* little-endian hosts only: float32 bytes copy as they are */
		memcpy(b->vecs + b->n * vb, p + pos + 4, vb);
		b->has_id[b->n] = 0;
		b->ids[b->n] = 0;
		b->line[b->n] = rec;
		b->n++;
		pos += 4 + vb;
		rec++;
	}
	*consumed = pos;
	return 0;
fail:
	b->n = n0;
	b->dim = dim0;
	return rc;
}
