/* search.c - search fan-out over loaded partitions and merge.
 *
 * Under e->cat (read) the partitions are resolved (SPEC §6: a collection
 * search covers its loaded partitions, nothing loaded is ENODATA, a
 * partition still loading is EAGAIN) and referenced; the catalog lock is
 * dropped before any computation.  Each partition's index is then searched
 * under its part->ilock in read mode for k + offset hits (the index splits
 * batches over the pool), hits are merged per query through a bounded
 * heap on the internal score (smaller is better), offset hits are dropped,
 * and scores become Milvus distances (vec_score_to_distance).  The
 * search's own arrays (nq * (k + offset) hits, three times over) are
 * charged to memory_limit while it runs: past it, ENOMEM.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void eng_result_free(struct eng_result *r)
{
	if (!r)
		return;
	free(r->count);
	free(r->ids);
	free(r->dist);
	memset(r, 0, sizeof(*r));
}

/* Parameters a search may carry.  The query-level ones (k, offset,
 * partitions, format, ...) are the caller's; they are accepted here so a
 * caller may pass the whole list. */
static const char *const known_params[] = {
	"ef", "nprobe", "metric_type", "k", "limit", "top_k", "offset",
	"partitions", "format", "id", "round_decimal", "radius",
	"range_filter", "ignore_growing", NULL,
};

static int check_params(const struct store_coll *rec, const struct mfs_kv *kv,
			struct mfs_err *err)
{
	if (!kv)
		return 0;
	for (size_t i = 0; i < kv->n; i++) {
		const char *key = kv->item[i].key;
		size_t j;

		for (j = 0; known_params[j]; j++)
			if (strcmp(key, known_params[j]) == 0)
				break;
		if (!known_params[j])
			return mfs_errf(err, -EINVAL,
					"invalid search parameter: %s", key);
		if (strcmp(key, "metric_type") == 0) {
			enum vec_metric m;

			if (vec_metric_parse(kv->item[i].val, &m) < 0 ||
			    m != (enum vec_metric)rec->metric)
				return mfs_errf(err, -EINVAL,
						"metric type not match: expected=%s, actual=%s",
						vec_metric_name((enum vec_metric)rec->metric),
						kv->item[i].val);
		}
	}
	return 0;
}

static int part_usable(struct eng_part *p, struct mfs_err *err)
{
	int s = atomic_load(&p->state);

	if (s == ENG_LOADING)
		return mfs_errf(err, -EAGAIN,
				"partition is loading[partition=%s], progress %u%%",
				p->name, atomic_load(&p->progress));
	if (s != ENG_LOADED)
		return mfs_errf(err, -ENODATA,
				"partition not loaded[partition=%s]", p->name);
	return 0;
}

/* Resolve and reference the partitions to search (under e->cat). */
static int resolve(struct eng *e, struct eng_coll *c, struct eng_part *only,
		   const struct eng_query *q, struct eng_part ***out,
		   size_t *nout, struct mfs_err *err)
{
	struct eng_part **v;
	size_t n = 0;
	int rc = 0;

	pthread_rwlock_rdlock(&e->cat);
	v = calloc(c->nparts + q->nparts + 1, sizeof(*v));
	if (!v) {
		pthread_rwlock_unlock(&e->cat);
		return mfs_errf(err, -ENOMEM, "out of memory");
	}
	if (only) {
		rc = part_usable(only, err);
		if (rc == 0)
			v[n++] = only;
	} else if (q->nparts) {
		for (size_t i = 0; i < q->nparts && rc == 0; i++) {
			struct eng_part *p = eng_part_find(c, q->parts[i]);
			bool dup = false;

			if (!p) {
				rc = mfs_errf(err, -ENOENT,
					      "partition not found[partition=%s]",
					      q->parts[i]);
				break;
			}
			rc = part_usable(p, err);
			for (size_t j = 0; j < n; j++)
				dup |= v[j] == p;
			if (rc == 0 && !dup)
				v[n++] = p;
		}
	} else {
		bool loading = false;

		for (size_t i = 0; i < c->nparts; i++) {
			int s = atomic_load(&c->parts[i]->state);

			if (s == ENG_LOADING)
				loading = true;
			else if (s == ENG_LOADED)
				v[n++] = c->parts[i];
		}
		if (loading)
			rc = mfs_errf(err, -EAGAIN,
				      "collection is loading[collection=%s]",
				      c->name);
		else if (n == 0)
			rc = mfs_errf(err, -ENODATA,
				      "collection not loaded[collection=%s]",
				      c->name);
	}
	if (rc == 0)
		for (size_t i = 0; i < n; i++)
			eng_part_ref(v[i]);
	pthread_rwlock_unlock(&e->cat);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*nout = n;
	return 0;
}

struct merge {
	size_t nq, K;
	struct vec_topk *tk;            /* nq */
	float *score;                   /* nq * K */
	int64_t *id;                    /* nq * K */
};

static int merge_init(struct merge *m, size_t nq, size_t K)
{
	m->nq = nq;
	m->K = K;
	m->tk = calloc(nq, sizeof(*m->tk));
	m->score = malloc(nq * K * sizeof(*m->score));
	m->id = malloc(nq * K * sizeof(*m->id));
	if (!m->tk || !m->score || !m->id)
		return -ENOMEM;
	for (size_t i = 0; i < nq; i++)
		vec_topk_init(&m->tk[i], K, m->score + i * K, m->id + i * K);
	return 0;
}

static void merge_fini(struct merge *m)
{
	free(m->tk);
	free(m->score);
	free(m->id);
}

/* Bytes this search allocates for nq queries of K = k + offset hits (the
 * index's hits, the merge heaps, the results); UINT64_MAX on overflow. */
static uint64_t search_bytes(size_t nq, size_t K, size_t k)
{
	const uint64_t hit = sizeof(float) + sizeof(int64_t);
	uint64_t per = 2 * (uint64_t)K * hit + (uint64_t)k * hit +
		2 * sizeof(size_t) + sizeof(struct vec_topk);

	return nq > UINT64_MAX / per ? UINT64_MAX : (uint64_t)nq * per;
}

/* Search one partition and push its hits (caller holds nothing). */
static int search_part(struct eng_part *p, const void *qv, size_t nq,
		       size_t K, const struct eng_query *q, struct merge *m,
		       struct idx_hits *h, struct mfs_err *err)
{
	int rc = 0;

	pthread_rwlock_rdlock(&p->ilock);
	if (atomic_load(&p->state) != ENG_LOADED) {
		/* Released between resolve and now. */
		rc = mfs_errf(err, -ENODATA, "partition not loaded[partition=%s]",
			      p->name);
		goto unlock;
	}
	if (!p->ix)
		goto unlock;            /* loaded while empty (dim 0) */
	if (p->ix->type->check_search) {
		rc = p->ix->type->check_search(p->ix, q->params, K, err);
		if (rc < 0)
			goto unlock;
	}
	h->k = K;
	rc = idx_search(p->ix, qv, nq, q->params, h, err);
	if (rc < 0)
		goto unlock;
	for (size_t i = 0; i < nq; i++) {
		size_t c = h->count[i] < K ? h->count[i] : K;

		for (size_t j = 0; j < c; j++)
			vec_topk_push(&m->tk[i], h->score[i * K + j],
				      h->id[i * K + j]);
	}
unlock:
	pthread_rwlock_unlock(&p->ilock);
	return rc;
}

struct eng_search_job {
	struct eng *e;
	const struct eng_query *q;
	struct eng_coll *c;
	struct eng_part *only;
	struct eng_part **parts;
	size_t nparts;
	struct store_coll rec;
	void *byid;                     /* the entity's vector (by_id) */
	const void *qv;
	size_t nq, K;
	uint64_t need;                  /* charged to memory_limit */
};

void eng_search_end(struct eng_search_job *j)
{
	if (!j)
		return;
	free(j->byid);
	if (j->need)
		eng_mem_adjust(j->e, -(int64_t)j->need);
	eng_parts_put(j->parts, j->nparts);
	eng_part_unref(j->only);
	eng_coll_unref(j->c);
	free(j);
}

/* The index's own check of the parameters, as search_part makes it. */
static int part_check(struct eng_part *p, const struct eng_query *q, size_t K,
		      struct mfs_err *err)
{
	int rc = 0;

	pthread_rwlock_rdlock(&p->ilock);
	if (p->ix && p->ix->type->check_search)
		rc = p->ix->type->check_search(p->ix, q->params, K, err);
	pthread_rwlock_unlock(&p->ilock);
	return rc;
}

int eng_search_start(struct eng *e, const char *coll, const char *part,
		     const struct eng_query *q, struct eng_search_job **out,
		     struct mfs_err *err)
{
	struct eng_search_job *j;
	char what[80];
	uint64_t need;
	size_t vb;
	int rc;

	if (q->k < 1 || q->k > ENG_K_MAX)
		return mfs_errf(err, -EINVAL,
				"topk [%zu] is invalid, it should be in range [1, %d]",
				q->k, ENG_K_MAX);
	if (q->offset > ENG_K_MAX - q->k)
		return mfs_errf(err, -EINVAL,
				"topk [%zu] + offset [%zu] is invalid, it should be in range [1, %d]",
				q->k, q->offset, ENG_K_MAX);
	if (!q->by_id && q->nq == 0)
		return mfs_errf(err, -EINVAL, "no query vector");
	j = calloc(1, sizeof(*j));
	if (!j)
		return mfs_errf(err, -ENOMEM, "out of memory");
	j->e = e;
	j->q = q;
	rc = eng_lookup(e, coll, part, &j->c, &j->only, &j->rec, err);
	if (rc < 0) {
		free(j);
		return rc;
	}
	rc = check_params(&j->rec, q->params, err);
	if (rc < 0)
		goto fail;
	if (!q->by_id && q->dim && j->rec.dim && q->dim != j->rec.dim) {
		rc = mfs_errf(err, -EINVAL,
			      "vector dimension mismatch, expected %u, got %u",
			      j->rec.dim, q->dim);
		goto fail;
	}
	rc = resolve(e, j->c, j->only, q, &j->parts, &j->nparts, err);
	if (rc < 0)
		goto fail;
	j->nq = q->by_id ? 1 : q->nq;
	j->K = q->k + q->offset;
	for (size_t i = 0; i < j->nparts && rc == 0; i++)
		rc = part_check(j->parts[i], q, j->K, err);
	if (rc < 0)
		goto fail;
	snprintf(what, sizeof(what), "search of %zu queries of %zu hits",
		 j->nq, j->K);
	need = search_bytes(j->nq, j->K, q->k);
	rc = eng_mem_charge(e, need, what,
			    "; search fewer queries at a time or with a lower k",
			    err);
	if (rc < 0)
		goto fail;
	j->need = need;
	vb = vec_bytes((enum vec_type)j->rec.vtype, j->rec.dim);
	j->qv = q->vecs;
	if (q->by_id) {
		if (j->rec.dim == 0) {
			rc = mfs_errf(err, -ENOENT, "entity %lld not found",
				      (long long)q->id);
			goto fail;
		}
		j->byid = malloc(vb);
		if (!j->byid) {
			rc = mfs_errf(err, -ENOMEM, "out of memory");
			goto fail;
		}
		rc = eng_entity_read(e, j->c->cid, q->id, j->byid, vb, NULL,
				     err);
		if (rc < 0)
			goto fail;
		j->qv = j->byid;
	}
	*out = j;
	return 0;
fail:
	eng_search_end(j);
	return rc;
}

int eng_search_run(struct eng_search_job *j, struct eng_result *out,
		   struct mfs_err *err)
{
	const struct eng_query *q = j->q;
	struct eng_result r = { 0 };
	struct merge m = { 0 };
	struct idx_hits h = { 0 };
	size_t nq = j->nq, K = j->K;
	int rc = 0;

	r.nq = nq;
	r.k = q->k;
	r.count = calloc(nq, sizeof(*r.count));
	r.ids = malloc(nq * q->k * sizeof(*r.ids));
	r.dist = malloc(nq * q->k * sizeof(*r.dist));
	h.count = calloc(nq, sizeof(*h.count));
	h.score = malloc(nq * K * sizeof(*h.score));
	h.id = malloc(nq * K * sizeof(*h.id));
	if (!r.count || !r.ids || !r.dist || !h.count || !h.score || !h.id ||
	    merge_init(&m, nq, K) < 0) {
		rc = mfs_errf(err, -ENOMEM,
			      "out of memory for %zu queries of %zu hits", nq, K);
		goto out;
	}
	if (j->rec.dim) {
		for (size_t i = 0; i < j->nparts && rc == 0; i++)
			rc = search_part(j->parts[i], j->qv, nq, K, q, &m, &h,
					 err);
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; i < nq; i++) {
		struct vec_topk *t = &m.tk[i];
		size_t got;

		vec_topk_sort(t);
		got = t->n > q->offset ? t->n - q->offset : 0;
		if (got > q->k)
			got = q->k;
		r.count[i] = got;
		for (size_t k = 0; k < got; k++) {
			r.ids[i * q->k + k] = t->id[q->offset + k];
			r.dist[i * q->k + k] = vec_score_to_distance(
				(enum vec_metric)j->rec.metric,
				t->score[q->offset + k]);
		}
	}
	*out = r;
	memset(&r, 0, sizeof(r));
out:
	eng_result_free(&r);
	merge_fini(&m);
	free(h.count);
	free(h.score);
	free(h.id);
	return rc;
}

int eng_search(struct eng *e, const char *coll, const char *part,
	       const struct eng_query *q, struct eng_result *out,
	       struct mfs_err *err)
{
	struct eng_search_job *j;
	int rc = eng_search_start(e, coll, part, q, &j, err);

	if (rc < 0)
		return rc;
	rc = eng_search_run(j, out, err);
	eng_search_end(j);
	return rc;
}

int eng_resolve_parts(struct eng *e, struct eng_coll *c,
		      struct eng_part *only, const char *const *parts,
		      size_t nparts, struct eng_part ***out, size_t *nout,
		      struct mfs_err *err)
{
	struct eng_query q = { .parts = parts, .nparts = nparts };

	return resolve(e, c, only, &q, out, nout, err);
}
