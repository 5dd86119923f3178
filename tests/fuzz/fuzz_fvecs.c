/* fuzz_fvecs.c - libFuzzer target of fmt_fvecs_parse (vectors.fvecs and
 * vectors.bvecs, SPEC §4) and fmt_query_parse_fvecs (fvecs query files).
 *
 * Input: byte 0 picks the batch (float or binary; dim 0, 4/8 or 128) and
 * where to split; byte 1 on is the file.  Aborts when:
 *   - the result is not 0 or -EINVAL with a one-line message;
 *   - a failed call changed the batch;
 *   - what is consumed is not a whole number of records;
 *   - the file fed in two writes gives another result or records than in
 *     one;
 *   - printing the records and parsing the print does not give the same
 *     bytes;
 *   - a query file of exactly the records parsed is refused or holds
 *     other vectors.
 */
#include <errno.h>

#include "fmt/fmt.h"
#include "fuzz.h"

static size_t vbytes(const struct fmt_batch *b)
{
	return b->vtype == VEC_BINARY ? b->dim / 8 : (size_t)b->dim * 4;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t dims[2][3] = { { 0, 4, 128 }, { 0, 8, 128 } };
	struct fmt_batch b, s, c;
	struct mfs_err err, serr;
	size_t used = 0, sused = 0, len, vb;
	enum vec_type vt;
	char *file;
	int rc, src;

	if (size < 1)
		return 0;
	vt = data[0] & 1 ? VEC_BINARY : VEC_FLOAT;
	len = size - 1;
	file = fz_dup(data + 1, len, false);
	fmt_batch_init(&b, vt, dims[vt == VEC_BINARY][(data[0] >> 1) % 3]);
	fmt_batch_init(&s, b.vtype, b.dim);
	rc = fmt_fvecs_parse(file, len, 1, &b, &used, &err);
	MUST_RC(rc, &err);
	if (rc) {
		MUST(b.n == 0 && b.dim == s.dim);
		goto out;
	}
	vb = vbytes(&b);
	MUST(used <= len && used == b.n * (4 + vb));
	MUST(b.n == 0 || b.dim > 0);
	{
		size_t cut = len ? (size_t)data[0] * 7919 % (len + 1) : 0, k = 0;

		src = fmt_fvecs_parse(file, cut, 1, &s, &k, &serr);
		if (src == 0)
			src = fmt_fvecs_parse(file + k, len - k, 1 + s.n, &s, &sused, &serr);
		MUST(src == 0 && s.n == b.n && k + sused == used);
		MUST(fz_eq(s.vecs, b.vecs, b.n * vb));
	}
	if (b.n) {
		struct mfs_buf out;
		struct fmt_query q;

		mfs_buf_init(&out, SIZE_MAX);
		for (size_t i = 0; i < b.n; i++)
			MUST(fmt_entity_fvecs(&out, b.vtype, b.dim, b.vecs + i * vb) == 0);
		MUST(out.len == used && memcmp(out.data, file, used) == 0);
		fmt_batch_init(&c, b.vtype, b.dim);
		MUST(fmt_fvecs_parse(out.data, out.len, 1, &c, &sused, &err) == 0);
		MUST(c.n == b.n && fz_eq(c.vecs, b.vecs, b.n * vb));
		fmt_batch_fini(&c);
		fmt_query_init(&q, b.vtype, b.dim);
		rc = fmt_query_parse_fvecs(&q, file, used, &err);
		MUST_RC(rc, &err);
		if (rc == 0)
			MUST(q.q.n == b.n && fz_eq(q.q.vecs, b.vecs, b.n * vb));
		fmt_query_fini(&q);
		mfs_buf_fini(&out);
	}
	{       /* a query file with a truncated last record is refused */
		struct fmt_query q;

		fmt_query_init(&q, b.vtype, b.dim);
		rc = fmt_query_parse_fvecs(&q, file, len, &err);
		MUST_RC(rc, &err);
		if (used < len)
			MUST(rc == -EINVAL);
		fmt_query_fini(&q);
	}
out:
	fmt_batch_fini(&b);
	fmt_batch_fini(&s);
	free(file);
	return 0;
}
