/* fuzz_index.c - libFuzzer target of index parameters (SPEC §5): the text
 * of an `index` write (fmt_kv_parse_once), the type's check of its build
 * parameters (idx_type.check), and for scalar indexes fld_sidx_check.
 *
 * Input: byte 0 picks the vector type, metric and dim; byte 1 on is the
 * text.  As eng_index_set does, index_type names the type and
 * metric_type, state and progress are not build parameters.  Aborts when:
 *   - the result is not 0 or -EINVAL with a one-line message;
 *   - checking the canonical list a check wrote fails, or writes another
 *     list (the canonical list is a fixed point);
 *   - an index built with modest canonical parameters over 64 vectors
 *     does not hold 64 entities or does not answer a search with
 *     min(k, 64) hits, best first.
 */
#include <errno.h>
#include <math.h>

#include "field/expr.h"
#include "fmt/fmt.h"
#include "fuzz.h"
#include "index/index.h"

#define NV 64
#define K 5

static void same_kv(const struct mfs_kv *a, const struct mfs_kv *b)
{
	MUST(a->n == b->n);
	for (size_t i = 0; i < a->n; i++)
		MUST(!strcmp(a->item[i].key, b->item[i].key) &&
		     !strcmp(a->item[i].val, b->item[i].val));
}

/* Every numeric value of canon small enough for a quick build. */
static bool modest(const struct mfs_kv *canon)
{
	for (size_t i = 0; i < canon->n; i++) {
		char *end;
		double v = strtod(canon->item[i].val, &end);

		if (end != canon->item[i].val && !*end && fabs(v) > 256)
			return false;
	}
	return true;
}

static void build_and_search(const struct idx_type *t,
			     const struct idx_info *info,
			     const struct mfs_kv *canon)
{
	static uint8_t vecs[NV * 16 * 4];
	static int64_t ids[NV];
	struct idx *ix = NULL;
	struct mfs_err err;
	struct mfs_kv sp;
	size_t count[1];
	float score[K];
	int64_t id[K];
	struct idx_hits h = { K, count, score, id };
	uint64_t r = 7;
	int rc;

	for (size_t i = 0; i < sizeof(vecs); i += 4) {
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		if (info->vtype == VEC_BINARY) {
			memcpy(vecs + i, &r, 4);
		} else {
			float f = (float)((r >> 40) % 1000) / 100.0f - 5.0f;

			memcpy(vecs + i, &f, 4);
		}
	}
	for (size_t i = 0; i < NV; i++)
		ids[i] = (int64_t)i * 3 + 1;
	rc = t->build(info, canon, ids, vecs, NV, NULL, &ix, &err);
	if (rc) {
		/* training may refuse too few vectors, never anything else */
		MUST_RC(rc, &err);
		return;
	}
	MUST(t->count(ix) == NV);
	mfs_kv_init(&sp);
	if (t->check_search && t->check_search(ix, &sp, K, &err) != 0) {
		idx_free(ix);
		return;
	}
	MUST(t->search(ix, vecs, 1, &sp, &h, &err) == 0);
	MUST(count[0] <= K);
	for (size_t i = 1; i < count[0]; i++)
		MUST(score[i - 1] <= score[i]);
	if (!strcmp(t->name, "FLAT") || !strcmp(t->name, "BIN_FLAT") ||
	    !strcmp(t->name, "HNSW"))
		MUST(count[0] == K);
	idx_free(ix);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mfs_kv kv, p2, canon, canon2;
	static const enum vec_metric fm[] = { VEC_L2, VEC_IP, VEC_COSINE };
	static const enum vec_metric bm[] = { VEC_HAMMING, VEC_JACCARD };
	static const uint32_t fd[] = { 4, 16 }, bd[] = { 8, 128 };
	struct idx_info info;
	const struct idx_type *t;
	struct mfs_err err;
	const char *tname;
	char *text;
	int rc;

	if (size < 1)
		return 0;
	info.vtype = data[0] & 1 ? VEC_BINARY : VEC_FLOAT;
	info.metric = info.vtype == VEC_BINARY ? bm[(data[0] >> 1) % 2] :
		      fm[(data[0] >> 1) % 3];
	info.dim = info.vtype == VEC_BINARY ? bd[(data[0] >> 3) & 1] :
		   fd[(data[0] >> 3) & 1];
	info.pool = NULL;
	text = fz_dup(data + 1, size - 1, false);
	mfs_kv_init(&kv);
	rc = fmt_kv_parse_once(text, size - 1, &kv, &err);
	MUST_RC(rc, &err);
	if (rc)
		goto out;
	tname = mfs_kv_get(&kv, "index_type");
	if (mfs_kv_get(&kv, "field")) {         /* a scalar index */
		static const char spec[][40] = {
			"b:BOOL", "n:INT64", "f:DOUBLE", "w:VARCHAR(8)",
			"j:JSON", "a:ARRAY(INT32,4)", "s:ARRAY(VARCHAR(4),2)",
		};
		struct fld_schema s;

		fld_schema_init(&s);
		MUST(fld_schema_add(&s, spec[(data[0] >> 4) % 7], &err) == 0);
		rc = fld_sidx_check(&s.f[0], tname ? tname : "", &err);
		MUST_RC(rc, &err);
		fld_schema_fini(&s);
		goto out;
	}
	if (!tname || !(t = idx_lookup(tname)) ||
	    t->binary != (info.vtype == VEC_BINARY))
		goto out;
	mfs_kv_init(&p2);
	for (size_t i = 0; i < kv.n; i++) {
		const char *k = kv.item[i].key;

		if (!strcmp(k, "metric_type") || !strcmp(k, "state") ||
		    !strcmp(k, "progress") || !strcmp(k, "fail_reason"))
			continue;
		MUST(mfs_kv_set(&p2, k, strcmp(k, "index_type") ? kv.item[i].val :
				t->name, &err) == 0);
	}
	mfs_kv_init(&canon);
	rc = t->check(&info, &p2, &canon, &err);
	MUST_RC(rc, &err);
	if (rc)
		goto out;
	mfs_kv_init(&canon2);
	rc = t->check(&info, &canon, &canon2, &err);
	if (rc)
		fprintf(stderr, "check of the canonical list: %s\n", err.msg);
	MUST(rc == 0);
	same_kv(&canon, &canon2);
	(void)t->estimate_bytes(&info, &canon, 1000);
	if (modest(&canon))
		build_and_search(t, &info, &canon);
out:
	free(text);
	return 0;
}
