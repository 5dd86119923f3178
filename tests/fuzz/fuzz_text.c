/* fuzz_text.c - libFuzzer target of fmt_text_parse (SPEC §4 text records).
 *
 * Input: byte 0 picks the batch (float or binary; dim 0, 4/8 or 16; a
 * record already in it or not) and where to split the text; byte 1 on is
 * the text.  Aborts when:
 *   - the result is not 0 or -EINVAL with a one-line message;
 *   - a failed call changed the batch (all or nothing);
 *   - a final parse did not consume everything, a non-final one consumed
 *     a partial line;
 *   - the text fed in two writes (a non-final parse of a prefix, then the
 *     rest, final) gives another result, message or records than in one;
 *   - printing the records (TSV and fvecs) and parsing the print does not
 *     give the same ids and vector bytes.
 */
#include <errno.h>

#include "fmt/fmt.h"
#include "fuzz.h"

static size_t vbytes(const struct fmt_batch *b)
{
	return b->vtype == VEC_BINARY ? b->dim / 8 : (size_t)b->dim * 4;
}

static void same_records(const struct fmt_batch *a, const struct fmt_batch *b)
{
	MUST(a->n == b->n && a->dim == b->dim);
	MUST(fz_eq(a->ids, b->ids, a->n * 8));
	MUST(fz_eq(a->has_id, b->has_id, a->n));
	MUST(fz_eq(a->vecs, b->vecs, a->n * vbytes(a)));
}

static void roundtrip(const struct fmt_batch *b)
{
	struct mfs_buf out;
	struct fmt_batch c;
	struct mfs_err err;
	size_t used = 0, vb = vbytes(b);

	if (!b->n)
		return;
	mfs_buf_init(&out, SIZE_MAX);
	for (size_t i = 0; i < b->n; i++)
		MUST(fmt_entity_tsv(&out, b->ids[i], b->vtype, b->dim, b->vecs + i * vb) == 0);
	fmt_batch_init(&c, b->vtype, b->dim);
	MUST(fmt_text_parse(out.data, out.len, 1, false, &c, &used, &err) == 0);
	MUST(c.n == b->n && used == out.len);
	MUST(fz_eq(c.ids, b->ids, b->n * 8));
	MUST(fz_eq(c.vecs, b->vecs, b->n * vb));
	mfs_buf_reset(&out);
	for (size_t i = 0; i < b->n; i++)
		MUST(fmt_entity_fvecs(&out, b->vtype, b->dim, b->vecs + i * vb) == 0);
	fmt_batch_reset(&c);
	MUST(fmt_fvecs_parse(out.data, out.len, 1, &c, &used, &err) == 0);
	MUST(c.n == b->n && used == out.len);
	MUST(fz_eq(c.vecs, b->vecs, b->n * vb));
	fmt_batch_fini(&c);
	mfs_buf_fini(&out);
}

static size_t lines_in(const char *p, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += p[i] == '\n';
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t dims[2][3] = { { 0, 4, 16 }, { 0, 8, 16 } };
	static const char *const first[2][3] = {
		{ NULL, "9\t1,2,3,4\n", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n" },
		{ NULL, "9\tff\n", "0xffff\n" } };
	struct fmt_batch b, s;
	struct mfs_err err, serr;
	size_t used = 0, sused = 0, len, n0;
	uint32_t dim0;
	enum vec_type vt;
	int rc, src, d;
	char *text;

	if (size < 1)
		return 0;
	vt = data[0] & 1 ? VEC_BINARY : VEC_FLOAT;
	d = (data[0] >> 1) % 3;
	len = size - 1;
	text = fz_dup(data + 1, len, false);
	fmt_batch_init(&b, vt, dims[vt == VEC_BINARY][d]);
	if ((data[0] & 8) && first[vt == VEC_BINARY][d]) {
		const char *f = first[vt == VEC_BINARY][d];

		MUST(fmt_text_parse(f, strlen(f), 1, true, &b, &used, &err) == 0);
		MUST(b.n == 1);
	}
	fmt_batch_init(&s, b.vtype, b.dim);
	if (b.n)
		MUST(fmt_text_parse(first[vt == VEC_BINARY][d],
				    strlen(first[vt == VEC_BINARY][d]), 1, true,
				    &s, &sused, &serr) == 0);
	n0 = b.n;
	dim0 = b.dim;

	/* non-final: complete lines only */
	rc = fmt_text_parse(text, len, 1, false, &b, &used, &err);
	MUST_RC(rc, &err);
	if (rc) {
		MUST(b.n == n0 && b.dim == dim0);
	} else {
		MUST(used <= len && (used == 0 || text[used - 1] == '\n'));
		MUST(!memchr(text + used, '\n', len - used));
	}
	fmt_batch_reset(&b);
	fmt_batch_fini(&b);

	/* final in one write, against a prefix then the rest */
	fmt_batch_init(&b, s.vtype, s.dim);
	if (s.n)
		MUST(fmt_text_parse(first[vt == VEC_BINARY][d],
				    strlen(first[vt == VEC_BINARY][d]), 1, true,
				    &b, &used, &err) == 0);
	rc = fmt_text_parse(text, len, 1, true, &b, &used, &err);
	MUST_RC(rc, &err);
	if (rc)
		MUST(b.n == n0 && b.dim == dim0);
	else
		MUST(used == len);
	{
		size_t cut = len ? (size_t)data[0] * 7919 % (len + 1) : 0, c = 0;

		src = fmt_text_parse(text, cut, 1, false, &s, &c, &serr);
		if (src == 0)
			src = fmt_text_parse(text + c, len - c, 1 + lines_in(text, c),
					     true, &s, &sused, &serr);
		MUST(src == rc);
		if (rc)
			MUST(strcmp(err.msg, serr.msg) == 0);
		else
			same_records(&b, &s);
	}
	if (!rc)
		roundtrip(&b);
	fmt_batch_fini(&b);
	fmt_batch_fini(&s);
	free(text);
	return 0;
}
