/* hnsw.c - the HNSW index type: parameters, build, add, remove, search.
 *
 * Parameters as Milvus (knowhere) takes them: M in [2, 2048], default 16;
 * efConstruction in [1, 2^31 - 1], default 200; search ef in [1, 2^31 - 1],
 * at least k, default max(k, 64).  COSINE keeps normalized copies and
 * normalizes queries, then ranks by -dot like IP.  The graph itself is in
 * hnsw_graph.c, persistence in hnsw_io.c.
 */
#include "index/hnsw_int.h"

#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define M_DEFAULT 16
#define EFC_DEFAULT 200
#define EF_MIN_DEFAULT 64

/* Integer parameter with knowhere's wording for type and range errors. */
static int param_long(const struct mfs_kv *kv, const char *key, long def,
		      long min, long max, long *out, struct mfs_err *err)
{
	const char *s = mfs_kv_get(kv, key);
	long v;

	if (!s) {
		*out = def;
		return 0;
	}
	if (mfs_parse_long(s, LONG_MIN, LONG_MAX, &v) < 0)
		return mfs_errf(err, -EINVAL,
				"Type conflict in json: param '%s' (%s) should be integer",
				key, s);
	if (v < min || v > max)
		return mfs_errf(err, -EINVAL,
				"Out of range in json: param '%s' (%s) should be in range [%ld, %ld]",
				key, s, min, max);
	*out = v;
	return 0;
}

int hnsw_params(const struct mfs_kv *canon, uint32_t *M, uint32_t *efc,
		struct mfs_err *err)
{
	long m, e;
	int rc;

	if ((rc = param_long(canon, "M", M_DEFAULT, 2, 2048, &m, err)) < 0 ||
	    (rc = param_long(canon, "efConstruction", EFC_DEFAULT, 1, INT_MAX,
			     &e, err)) < 0)
		return rc;
	*M = (uint32_t)m;
	*efc = (uint32_t)e;
	return 0;
}

/* Local names: the messages must not depend on vec.h's tables. */
static const char *metric_name(enum vec_metric m)
{
	static const char *const names[] = { "L2", "IP", "COSINE", "HAMMING",
					     "JACCARD" };

	return (unsigned)m < 5 ? names[m] : "?";
}

int hnsw_check_info(const struct idx_info *info, struct mfs_err *err)
{
	if (info->vtype != VEC_FLOAT)
		return mfs_errf(err, -EINVAL,
				"index HNSW expects FLOAT_VECTOR, got BINARY_VECTOR");
	if (info->metric != VEC_L2 && info->metric != VEC_IP &&
	    info->metric != VEC_COSINE)
		return mfs_errf(err, -EINVAL,
				"metric type %s not found or not supported, supported: [L2 IP COSINE]",
				metric_name(info->metric));
	if (info->dim < 1)
		return mfs_errf(err, -EINVAL, "dim: expected >= 1, got %u",
				info->dim);
	return 0;
}

static int hnsw_check(const struct idx_info *info, const struct mfs_kv *params,
		      struct mfs_kv *canon, struct mfs_err *err)
{
	uint32_t M, efc;
	char buf[32];
	int rc;

	if ((rc = hnsw_check_info(info, err)) < 0)
		return rc;
	for (size_t i = 0; i < params->n; i++) {
		const char *k = params->item[i].key;

		if (strcmp(k, "index_type") && strcmp(k, "metric_type") &&
		    strcmp(k, "M") && strcmp(k, "efConstruction"))
			return mfs_errf(err, -EINVAL,
					"invalid index params: unknown parameter '%s' for index type HNSW, expected M or efConstruction",
					k);
	}
	if ((rc = hnsw_params(params, &M, &efc, err)) < 0)
		return rc;
	mfs_kv_init(canon);
	if ((rc = mfs_kv_set(canon, "index_type", "HNSW", err)) < 0)
		return rc;
	snprintf(buf, sizeof(buf), "%u", M);
	if ((rc = mfs_kv_set(canon, "M", buf, err)) < 0)
		return rc;
	snprintf(buf, sizeof(buf), "%u", efc);
	return mfs_kv_set(canon, "efConstruction", buf, err);
}

/* The search width for k: "ef" if given, else max(k, 64). */
static int search_ef(const struct mfs_kv *sp, size_t k, size_t *ef,
		     struct mfs_err *err)
{
	long v;
	int rc;

	if (!sp || !mfs_kv_get(sp, "ef")) {
		*ef = k > EF_MIN_DEFAULT ? k : EF_MIN_DEFAULT;
		return 0;
	}
	if ((rc = param_long(sp, "ef", 0, 1, INT_MAX, &v, err)) < 0)
		return rc;
	if ((size_t)v < k)
		return mfs_errf(err, -EINVAL,
				"ef(%ld) should be larger than k(%zu)", v, k);
	*ef = (size_t)v;
	return 0;
}

static int hnsw_check_search(const struct idx *ix, const struct mfs_kv *sp,
			     size_t k, struct mfs_err *err)
{
	size_t ef;

	return search_ef(sp, k, &ef, err);
}

static size_t hnsw_estimate(const struct idx_info *info,
			    const struct mfs_kv *canon, size_t n)
{
	uint32_t M = M_DEFAULT, efc;
	size_t node, upper;

	if (!canon || hnsw_params(canon, &M, &efc, NULL) < 0)
		M = M_DEFAULT;
	node = sizeof(uint32_t) * (1 + 2 * (size_t)M) +
	       sizeof(float) * info->dim;
	/* expected upper levels per node: 1 / (M - 1), plus malloc's header */
	upper = ((1 + (size_t)M) * sizeof(uint32_t) + 16) / (M - 1) + 1;
	/* labels, level, tomb, lock, upper pointer; map at load <= 1/2 */
	return sizeof(struct hnsw) +
	       n * (node + upper + 8 + 1 + 1 + 1 + 8 + 2 * 12);
}

static int hnsw_build(const struct idx_info *info, const struct mfs_kv *canon,
		      const int64_t *ids, const void *vecs, size_t n,
		      const struct idx_progress *progress, struct idx **out,
		      struct mfs_err *err)
{
	struct hnsw *h = NULL;
	uint32_t M, efc, first;
	int rc;

	if ((rc = hnsw_check_info(info, err)) < 0 ||
	    (rc = hnsw_params(canon, &M, &efc, err)) < 0)
		return rc;
	if ((rc = hnsw_new(info, M, efc, &h)) < 0)
		goto nomem;
	h->base.type = &idx_hnsw_type;
	if ((rc = hnsw_reserve(h, n ? n : 1)) < 0 ||
	    (rc = hnsw_append(h, ids, vecs, n, &first)) < 0 ||
	    (rc = hnsw_link_range(h, first, n, info->pool, progress)) < 0)
		goto nomem;
	*out = &h->base;
	return 0;
nomem:
	hnsw_free_all(h);
	return mfs_errf(err, -ENOMEM, "HNSW build of %zu vectors: out of memory",
			n);
}

static int hnsw_add(struct idx *ix, const int64_t *ids, const void *vecs,
		    size_t n, struct mfs_err *err)
{
	struct hnsw *h = (struct hnsw *)ix;
	size_t need = h->n + n, cap = h->cap;
	uint32_t first;
	int rc;

	if (n == 0)
		return 0;
	/* an id already held is replaced: the old node becomes a tombstone */
	for (size_t i = 0; i < n; i++) {
		uint32_t old = mfs_idmap_del(&h->map, ids[i]);

		if (old != HNSW_NONE) {
			h->tomb[old] = 1;
			h->live--;
		}
	}
	if (need > cap) {
		cap = cap + cap / 2 > need ? cap + cap / 2 : need;
		if ((rc = hnsw_reserve(h, cap)) < 0 &&
		    (rc = hnsw_reserve(h, need)) < 0)
			goto nomem;
	}
	if ((rc = hnsw_append(h, ids, vecs, n, &first)) < 0)
		goto nomem;
	if ((rc = hnsw_link_range(h, first, n, ix->info.pool, NULL)) < 0)
		goto nomem;
	return 0;
nomem:
	return mfs_errf(err, -ENOMEM, "HNSW add of %zu vectors: out of memory",
			n);
}

static void hnsw_remove(struct idx *ix, const int64_t *ids, size_t n)
{
	struct hnsw *h = (struct hnsw *)ix;

	for (size_t i = 0; i < n; i++) {
		uint32_t c = mfs_idmap_del(&h->map, ids[i]);

		if (c == HNSW_NONE)
			continue;
		h->tomb[c] = 1;
		h->live--;
	}
}

struct search_job {
	const struct hnsw *h;
	const float *q;
	size_t nq, k, ef, chunk;
	struct idx_hits *hits;
	const struct idx_allow *a;      /* NULL: unfiltered */
	atomic_int err;
};

static int search_one(const struct hnsw *h, struct hnsw_ws *ws,
		      const float *q, size_t k, size_t ef, struct idx_hits *hits,
		      size_t i, const struct idx_allow *a)
{
	long n;

	if (h->cosine) {
		memcpy(ws->qbuf, q, h->dim * sizeof(*q));
		vec_normalize(ws->qbuf, h->dim);
		q = ws->qbuf;
	}
	n = a ? hnsw_knn_allow(h, ws, q, k, ef, a) : hnsw_knn(h, ws, q, k, ef);
	if (n < 0)
		return (int)n;
	hits->count[i] = (size_t)n;
	for (long j = 0; j < n; j++) {
		hits->score[i * hits->k + (size_t)j] = ws->sel[j].d;
		hits->id[i * hits->k + (size_t)j] = h->labels[ws->sel[j].id];
	}
	return 0;
}

static void search_task(void *arg, size_t t, unsigned worker)
{
	struct search_job *j = arg;
	size_t lo = t * j->chunk, hi = lo + j->chunk;
	struct hnsw *h = (struct hnsw *)j->h;  /* ws stack only */
	struct hnsw_ws *ws;

	(void)worker;
	if (hi > j->nq)
		hi = j->nq;
	ws = hnsw_ws_get(h);
	if (!ws) {
		atomic_store(&j->err, -ENOMEM);
		return;
	}
	ws->lone = j->nq == 1;
	for (size_t i = lo; i < hi; i++)
		if (search_one(j->h, ws, j->q + i * j->h->dim, j->k, j->ef,
			       j->hits, i, j->a) < 0) {
			atomic_store(&j->err, -ENOMEM);
			break;
		}
	hnsw_ws_put(h, ws);
}

static int hnsw_search_allow(const struct idx *ix, const void *q, size_t nq,
			     const struct mfs_kv *sp,
			     const struct idx_allow *a, struct idx_hits *hits,
			     struct mfs_err *err)
{
	const struct hnsw *h = (const struct hnsw *)ix;
	struct search_job j = { .h = h, .q = q, .nq = nq, .k = hits->k,
				.hits = hits, .a = a };
	size_t nthr = mfs_pool_size(ix->info.pool);
	const char *s = sp ? mfs_kv_get(sp, "ef") : NULL;
	long v;

	/* check_search has vetted ef; an ef below k is widened to k */
	j.ef = hits->k > EF_MIN_DEFAULT ? hits->k : EF_MIN_DEFAULT;
	if (s && mfs_parse_long(s, 1, INT_MAX, &v) == 0)
		j.ef = (size_t)v;
	atomic_init(&j.err, 0);
	/* about 8 tasks per thread: balance without much hand-out traffic */
	j.chunk = nq / (nthr * 8);
	if (j.chunk < 1)
		j.chunk = 1;
	if (nq == 1 || nthr == 1)
		j.chunk = nq ? nq : 1;
	mfs_pool_for(nq > j.chunk ? ix->info.pool : NULL,
		     (nq + j.chunk - 1) / j.chunk, search_task, &j);
	if (atomic_load(&j.err))
		return mfs_errf(err, -ENOMEM, "HNSW search: out of memory");
	return 0;
}

static int hnsw_search(const struct idx *ix, const void *q, size_t nq,
		       const struct mfs_kv *sp, struct idx_hits *hits,
		       struct mfs_err *err)
{
	return hnsw_search_allow(ix, q, nq, sp, NULL, hits, err);
}

static size_t hnsw_count(const struct idx *ix)
{
	return ((const struct hnsw *)ix)->live;
}

static size_t hnsw_memory(const struct idx *ix)
{
	return hnsw_bytes((const struct hnsw *)ix);
}

static void hnsw_free(struct idx *ix)
{
	hnsw_free_all((struct hnsw *)ix);
}

const struct idx_type idx_hnsw_type = {
	.name = "HNSW",
	.binary = 0,
	.check = hnsw_check,
	.check_search = hnsw_check_search,
	.estimate_bytes = hnsw_estimate,
	.build = hnsw_build,
	.save = hnsw_save,
	.restore = hnsw_restore,
	.add = hnsw_add,
	.remove = hnsw_remove,
	.search = hnsw_search,
	.search_filtered = hnsw_search_allow,
	.count = hnsw_count,
	.memory_bytes = hnsw_memory,
	.free = hnsw_free,
};
