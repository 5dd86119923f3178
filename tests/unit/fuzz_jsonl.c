/* fuzz_jsonl.c - libFuzzer target for fmt_jsonl_parse (not part of make
 * check; build and run with tests/unit/fuzz_jsonl.sh).
 *
 * The first byte picks the batch (float or binary, dim 0, 4/8 or 16) and
 * whether the input is final; the rest is the text.  The schema has every
 * type and option.  Aborts when:
 *   - the result is not 0 or -EINVAL with a one-line message;
 *   - a failed call changed the batch (all or nothing);
 *   - the fast path and the whole-line jansson reference disagree on the
 *     result, the message, the records or the rows;
 *   - printing the records (fmt_entity_jsonl) and parsing the print does
 *     not give the same ids, vectors and rows.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt/fmt.h"
#include "fmt/fmt_int.h"

static const char schema_text[] =
	"field=b:BOOL:default=false field=i8:INT8:nullable field=i16:INT16:default=-1 "
	"field=i32:INT32:nullable field=f:FLOAT:nullable field=d:DOUBLE:default=0.5 "
	"field=word:VARCHAR(16):default=w field=rank:INT64:default=0 "
	"field=tags:ARRAY(VARCHAR(8),4):nullable field=nums:ARRAY(INT64,3):nullable "
	"field=fl:ARRAY(FLOAT,2):nullable field=meta:JSON:nullable "
	"enable_dynamic_field=true";

static struct fld_schema schema;       /* libFuzzer's entry has no context */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct mfs_err err;

	fld_schema_init(&schema);
	if (fld_schema_parse(&schema, schema_text, strlen(schema_text), &err)) {
		fprintf(stderr, "schema: %s\n", err.msg);
		abort();
	}
	return 0;
}

#define MUST(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "fuzz_jsonl: %s failed (line %d)\n", #cond, __LINE__); \
		abort(); \
	} \
} while (0)

/* memcmp that takes NULL for empty arrays */
static bool eq(const void *a, const void *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

static bool same_floats(const struct fmt_batch *a, const struct fmt_batch *b)
{
	if (a->vtype == VEC_BINARY)
		return eq(a->vecs, b->vecs, a->n * (a->dim / 8));
	for (size_t i = 0; i < a->n * a->dim; i++) {
		float x, y;

		memcpy(&x, a->vecs + 4 * i, 4);
		memcpy(&y, b->vecs + 4 * i, 4);
		if (x != y)
			return false;
	}
	return true;
}

static void roundtrip(const struct fmt_batch *b)
{
	struct mfs_buf out;
	struct fmt_batch c;
	struct mfs_err err;
	size_t used = 0, vb = b->vtype == VEC_BINARY ? b->dim / 8 : (size_t)b->dim * 4;

	if (!b->n)
		return;
	mfs_buf_init(&out, SIZE_MAX);
	for (size_t i = 0; i < b->n; i++) {
		size_t r0 = i ? b->row_end[i - 1] : 0;

		MUST(fmt_entity_jsonl(&out, b->ids[i], i % 2 ? "p" : NULL, b->vtype,
				      b->dim, b->vecs + i * vb, &schema, b->rows + r0,
				      b->row_end[i] - r0) == 0);
	}
	fmt_batch_init(&c, b->vtype, b->dim);
	MUST(fmt_jsonl_parse(out.data, out.len, 1, false, &schema, &c, &used, &err) == 0);
	MUST(c.n == b->n && used == out.len);
	MUST(eq(c.ids, b->ids, b->n * 8));
	MUST(eq(c.vecs, b->vecs, b->n * vb));
	MUST(c.rows_len == b->rows_len && eq(c.rows, b->rows, b->rows_len));
	MUST(eq(c.row_end, b->row_end, b->n * sizeof(size_t)));
	fmt_batch_fini(&c);
	mfs_buf_fini(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t dims[2][3] = { { 0, 4, 16 }, { 0, 8, 16 } };
	struct fmt_batch b, r;
	struct mfs_err err, rerr;
	size_t used = 0, rused = 0;
	enum vec_type vt;
	bool final;
	int rc, rrc;
	char *text;

	if (size < 1)
		return 0;
	vt = data[0] & 1 ? VEC_BINARY : VEC_FLOAT;
	final = data[0] & 2;
	fmt_batch_init(&b, vt, dims[vt == VEC_BINARY][(data[0] >> 2) % 3]);
	fmt_batch_init(&r, b.vtype, b.dim);
	text = malloc(size);            /* exact size: ASan sees over-reads */
	memcpy(text, data + 1, size - 1);
	mfs_err_clear(&err);
	mfs_err_clear(&rerr);
	rc = fmt_jsonl_parse(text, size - 1, 1, final, &schema, &b, &used, &err);
	rrc = fmt_jsonl_parse_ref(text, size - 1, 1, final, &schema, &r, &rused, &rerr);
	MUST(rc == 0 || rc == -EINVAL);
	MUST(rc == rrc);
	if (rc) {
		MUST(err.msg[0] && !strchr(err.msg, '\n'));
		MUST(strcmp(err.msg, rerr.msg) == 0);
		MUST(b.n == 0 && b.rows_len == 0 && b.dim == r.dim);
	} else {
		MUST(used <= size - 1 && used == rused);
		MUST(b.n == r.n && b.dim == r.dim);
		MUST(eq(b.ids, r.ids, b.n * 8));
		MUST(eq(b.has_id, r.has_id, b.n));
		MUST(same_floats(&b, &r));
		MUST(b.rows_len == r.rows_len && eq(b.rows, r.rows, b.rows_len));
		roundtrip(&b);
	}
	free(text);
	fmt_batch_fini(&b);
	fmt_batch_fini(&r);
	return 0;
}
