/* fuzz_query.c - libFuzzer target of the search query parsers (SPEC §6):
 * fmt_query_parse (a saved query's text) and fmt_query_params (overrides).
 *
 * Input: byte 0 picks the vector type and dim (0, 4/8 or 16); byte 1 on
 * is the query text.  Aborts when:
 *   - the result is not 0 or -EINVAL with a one-line message;
 *   - a parsed query breaks SPEC §6: no vector and no id, both, k or
 *     offset out of range, an empty or duplicate partition, a parameter
 *     that is not in the table of search parameters (base/sparam.h);
 *   - parsing the same text twice gives two different queries;
 *   - a failed override (the text applied as overrides to a parsed query)
 *     changed the query.
 */
#include <errno.h>

#include "base/sparam.h"
#include "fmt/fmt.h"
#include "fuzz.h"

static size_t vbytes(const struct fmt_batch *b)
{
	return b->vtype == VEC_BINARY ? b->dim / 8 : (size_t)b->dim * 4;
}

static void same_query(const struct fmt_query *a, const struct fmt_query *b)
{
	MUST(a->k == b->k && a->offset == b->offset && a->json == b->json);
	MUST(a->by_id == b->by_id && a->id == b->id && a->nparts == b->nparts);
	for (size_t i = 0; i < a->nparts; i++)
		MUST(strcmp(a->parts[i], b->parts[i]) == 0);
	MUST(a->params.n == b->params.n);
	for (size_t i = 0; i < a->params.n; i++)
		MUST(!strcmp(a->params.item[i].key, b->params.item[i].key) &&
		     !strcmp(a->params.item[i].val, b->params.item[i].val));
	MUST(a->q.n == b->q.n && a->q.dim == b->q.dim);
	MUST(fz_eq(a->q.vecs, b->q.vecs, a->q.n * vbytes(&a->q)));
}

static void well_formed(const struct fmt_query *q)
{
	MUST(q->by_id != (q->q.n > 0));
	MUST(q->k >= 1 && q->k <= 16384 && q->k + q->offset <= 16384);
	MUST(q->nparts <= FMT_QUERY_PARTS_MAX);
	for (size_t i = 0; i < q->nparts; i++) {
		MUST(q->parts[i][0] && strlen(q->parts[i]) <= 255);
		for (size_t j = 0; j < i; j++)
			MUST(strcmp(q->parts[i], q->parts[j]) != 0);
	}
	for (size_t i = 0; i < q->params.n; i++)
		MUST(mfs_sparam_find(q->params.item[i].key) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t dims[2][3] = { { 0, 4, 16 }, { 0, 8, 16 } };
	struct fmt_query q, r, snap;
	struct mfs_err err;
	enum vec_type vt;
	uint32_t dim;
	size_t len;
	char *text;
	int rc;

	if (size < 1)
		return 0;
	vt = data[0] & 1 ? VEC_BINARY : VEC_FLOAT;
	dim = dims[vt == VEC_BINARY][(data[0] >> 1) % 3];
	len = size - 1;
	text = fz_dup(data + 1, len, false);

	fmt_query_init(&q, vt, dim);
	rc = fmt_query_parse(&q, text, len, &err);
	MUST_RC(rc, &err);
	if (rc == 0) {
		well_formed(&q);
		fmt_query_init(&r, vt, dim);
		MUST(fmt_query_parse(&r, text, len, &err) == 0);
		same_query(&q, &r);
		fmt_query_fini(&r);
	} else {
		MUST(q.q.n == 0 && q.k == 10 && q.offset == 0 && !q.by_id &&
		     q.nparts == 0 && q.params.n == 0);
	}

	/* the text as overrides of a query by id */
	fmt_query_fini(&q);
	fmt_query_init(&q, vt, dim);
	MUST(fmt_query_parse(&q, "id=5\nk=7\nef=64\n", 15, &err) == 0);
	fmt_query_init(&snap, vt, dim);
	MUST(fmt_query_parse(&snap, "id=5\nk=7\nef=64\n", 15, &err) == 0);
	rc = fmt_query_params(&q, text, len, &err);
	MUST_RC(rc, &err);
	if (rc)
		same_query(&q, &snap);
	else
		well_formed(&q);
	fmt_query_fini(&snap);
	fmt_query_fini(&q);
	free(text);
	return 0;
}
