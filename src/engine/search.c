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
#include "engine/sfilter_int.h"

#include "base/sparam.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct eng_hitrows {
	size_t ncols;
	struct eng_cols **cols;         /* ncols references */
	int *part;                      /* per hit: index in cols, -1 */
	size_t *row;                    /* per hit */
};

static void hitrows_free(struct eng_hitrows *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->ncols; i++)
		eng_cols_unref(h->cols[i]);
	free(h->cols);
	free(h->part);
	free(h->row);
	free(h);
}

void eng_result_free(struct eng_result *r)
{
	if (!r)
		return;
	free(r->count);
	free(r->ids);
	free(r->dist);
	hitrows_free(r->rows);
	memset(r, 0, sizeof(*r));
}

int eng_result_rows(const struct eng_result *r,
		    int (*cb)(void *arg, size_t i, size_t j,
			      const struct fld_cols *cols, size_t row),
		    void *arg)
{
	const struct eng_hitrows *h = r->rows;
	int rc = 0;

	for (size_t i = 0; i < r->nq && rc == 0; i++)
		for (size_t j = 0; j < r->count[i] && rc == 0; j++) {
			size_t at = i * r->k + j;
			int p = h ? h->part[at] : -1;

			if (p < 0) {
				rc = cb(arg, i, j, NULL, 0);
				continue;
			}
			pthread_rwlock_rdlock(&h->cols[p]->lock);
			rc = cb(arg, i, j, &h->cols[p]->c, h->row[at]);
			pthread_rwlock_unlock(&h->cols[p]->lock);
		}
	return rc;
}

/* SPEC §10: every key is one some layer honours (base/sparam.h); the
 * caller's keys (k, offset, filter, ...) are the caller's business. */
static int check_params(const struct store_coll *rec, const struct mfs_kv *kv,
			struct mfs_err *err)
{
	if (!kv)
		return 0;
	for (size_t i = 0; i < kv->n; i++) {
		const char *key = kv->item[i].key;

		if (!mfs_sparam_find(key))
			return mfs_errf(err, -EINVAL,
					"invalid search parameter: %s (expected %s)",
					key, mfs_sparam_names());
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
				rc = eng_err_no_part(err, -ENOENT, q->parts[i]);
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
	struct eng_sopts so;            /* SPEC §10 parameters */
	struct eng_fields *fields;      /* a reference, when grouping */
	struct eng_cols **cols;         /* nparts references (filter, rows,
					 * grouping), else NULL */
	/* per partition, made at its first search: the filter's matches */
	int64_t **allowed;
	size_t *nallowed;
	bool *made;
};

/* The allow-list of partition i for a search of K hits in a (a->exact
 * chosen against the index's size: ENG_EXACT_PCT). */
static int make_allow(struct eng_search_job *j, size_t i, const struct idx *ix,
		      size_t K, struct idx_allow *a)
{
	const struct eng_query *q = j->q;
	int rc;

	if (q->filter && !j->made[i]) {
		rc = eng_sf_allowed(q->filter, j->cols[i], &j->allowed[i],
				    &j->nallowed[i]);
		if (rc < 0)
			return rc;
		j->made[i] = true;
	}
	rc = idx_allow_init(a, q->filter != NULL,
			    q->filter ? j->allowed[i] : NULL,
			    q->filter ? j->nallowed[i] : 0);
	if (rc < 0)
		return rc;
	if (q->filter) {
		size_t ef = 0;

		if (strcmp(ix->type->name, "HNSW") == 0) {
			long v;

			ef = K > 64 ? K : 64;   /* hnsw.c's default */
			if (q->params && mfs_kv_get(q->params, "ef") &&
			    mfs_parse_long(mfs_kv_get(q->params, "ef"), 1,
					   INT32_MAX, &v) == 0 && (size_t)v > ef)
				ef = (size_t)v;
		}
		a->exact = eng_sf_exact(j->nallowed[i], ix->type->count(ix), K,
					ef);
	}
	if (j->so.range)
		idx_allow_window(a, (enum vec_metric)j->rec.metric, true,
				 j->so.radius, j->so.has_rf,
				 j->so.range_filter);
	return 0;
}

/* Search partition i and push its hits (caller holds nothing).  check:
 * make the index's parameter check (a grouping search's wider rounds
 * skip it: the index widens ef to K itself). */
static int search_part(struct eng_search_job *j, size_t i, size_t K,
		       bool check, struct merge *m, struct idx_hits *h,
		       struct mfs_err *err)
{
	struct eng_part *p = j->parts[i];
	const struct eng_query *q = j->q;
	size_t nq = j->nq;
	struct idx_allow a;
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
	if (check && p->ix->type->check_search) {
		rc = p->ix->type->check_search(p->ix, q->params, K, err);
		if (rc < 0)
			goto unlock;
	}
	h->k = K;
	if (q->filter || j->so.range) {
		rc = make_allow(j, i, p->ix, K, &a);
		if (rc < 0) {
			rc = mfs_errf(err, rc, "out of memory for a filter");
			goto unlock;
		}
		rc = p->ix->type->search_filtered(p->ix, j->qv, nq, q->params,
						  &a, h, err);
		idx_allow_fini(&a);
	} else {
		rc = idx_search(p->ix, j->qv, nq, q->params, h, err);
	}
	if (rc < 0)
		goto unlock;
	for (size_t qi = 0; qi < nq; qi++) {
		size_t c = h->count[qi] < K ? h->count[qi] : K;

		for (size_t k = 0; k < c; k++)
			vec_topk_push(&m->tk[qi], h->score[qi * K + k],
				      h->id[qi * K + k]);
	}
unlock:
	pthread_rwlock_unlock(&p->ilock);
	return rc;
}

void eng_search_end(struct eng_search_job *j)
{
	if (!j)
		return;
	free(j->byid);
	if (j->need)
		eng_mem_adjust(j->e, -(int64_t)j->need);
	for (size_t i = 0; j->cols && i < j->nparts; i++) {
		eng_cols_unref(j->cols[i]);
		free(j->allowed[i]);
	}
	free(j->cols);
	free(j->allowed);
	free(j->nallowed);
	free(j->made);
	eng_fields_put(j->fields);
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

/* The columns of the partitions searched, referenced (a filter, output
 * fields or grouping read them). */
static int take_cols(struct eng_search_job *j, struct mfs_err *err)
{
	size_t n = j->nparts ? j->nparts : 1;
	int rc;

	j->cols = calloc(n, sizeof(*j->cols));
	j->allowed = calloc(n, sizeof(*j->allowed));
	j->nallowed = calloc(n, sizeof(*j->nallowed));
	j->made = calloc(n, sizeof(*j->made));
	if (!j->cols || !j->allowed || !j->nallowed || !j->made)
		return mfs_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < j->nparts; i++) {
		struct eng_part *p = j->parts[i];

		rc = eng_part_cols_ensure(j->e, j->c, p, err);
		if (rc < 0)
			return rc;
		pthread_rwlock_rdlock(&p->ilock);
		j->cols[i] = p->cols;
		if (p->cols)
			eng_cols_ref(p->cols);
		pthread_rwlock_unlock(&p->ilock);
		if (!j->cols[i])
			return mfs_errf(err, -ENODATA,
					"partition not loaded[partition=%s]",
					p->name);
	}
	return 0;
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

	if (q->k < 1 || q->k > MFS_TOPK_MAX)
		return mfs_errf(err, -EINVAL,
				"topk [%zu] is invalid, it should be in range [1, %d]",
				q->k, MFS_TOPK_MAX);
	if (q->offset > MFS_TOPK_MAX - q->k)
		return mfs_errf(err, -EINVAL,
				"topk [%zu] + offset [%zu] is invalid, it should be in range [1, %d]",
				q->k, q->offset, MFS_TOPK_MAX);
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
	j->fields = eng_coll_fields(e, j->c);
	rc = eng_sopts_parse(q->params, (enum vec_metric)j->rec.metric,
			     &j->fields->s, &j->so, err);
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
	if (q->filter || q->rows || j->so.group_field >= 0) {
		rc = take_cols(j, err);
		if (rc < 0)
			goto fail;
	}
	snprintf(what, sizeof(what), "search of %zu queries of %zu hits",
		 j->nq, j->K);
	need = search_bytes(j->nq, j->K * j->so.group_size, q->k);
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

/* Every partition searched for K hits a query, merged into m (sorted). */
static int search_all(struct eng_search_job *j, size_t K, bool check,
		      struct merge *m, struct mfs_err *err)
{
	struct idx_hits h = { 0 };
	size_t nq = j->nq;
	int rc = 0;

	h.count = calloc(nq, sizeof(*h.count));
	h.score = malloc(nq * K * sizeof(*h.score));
	h.id = malloc(nq * K * sizeof(*h.id));
	if (!h.count || !h.score || !h.id || merge_init(m, nq, K) < 0) {
		rc = mfs_errf(err, -ENOMEM,
			      "out of memory for %zu queries of %zu hits", nq, K);
		goto out;
	}
	if (j->rec.dim) {
		/* several partitions: as one (c->plock, engine_int.h) */
		if (j->nparts > 1)
			pthread_rwlock_rdlock(&j->c->plock);
		for (size_t i = 0; i < j->nparts && rc == 0; i++)
			rc = search_part(j, i, K, check, m, &h, err);
		if (j->nparts > 1)
			pthread_rwlock_unlock(&j->c->plock);
	}
	for (size_t i = 0; i < nq && rc == 0; i++)
		vec_topk_sort(&m->tk[i]);
out:
	free(h.count);
	free(h.score);
	free(h.id);
	return rc;
}

/* The grouping key of hit id's field f (NULL when the entity is gone). */
static int hit_key(struct eng_search_job *j, int64_t id, char **key)
{
	struct fld_value v;
	size_t row;
	int p = eng_sf_find(j->cols, j->nparts, id, &row);
	int rc;

	*key = NULL;
	if (p < 0)
		return 0;
	pthread_rwlock_rdlock(&j->cols[p]->lock);
	fld_cols_get(&j->cols[p]->c, row, (size_t)j->so.group_field, &v);
	rc = eng_sf_key(&v, key);
	pthread_rwlock_unlock(&j->cols[p]->lock);
	return rc;
}

/* Group query qi's sorted candidates t into r (SPEC §10): groups in the
 * order of their best hit, each of up to group_size hits, the first
 * offset groups skipped, k kept.  *enough: every group wanted was found
 * (and filled, when strict). */
static int group_query(struct eng_search_job *j, const struct vec_topk *t,
		       size_t qi, struct eng_result *r, bool *enough)
{
	const struct eng_query *q = j->q;
	size_t G = q->k + q->offset, gs = j->so.group_size, ng = 0;
	char **keys = calloc(G, sizeof(*keys));
	size_t *fill = calloc(G, sizeof(*fill));
	size_t *first = calloc(G * gs, sizeof(*first));
	int rc = 0;

	if (!keys || !fill || !first) {
		rc = -ENOMEM;
		goto out;
	}
	for (size_t h = 0; h < t->n && rc == 0; h++) {
		char *key;
		size_t g;

		rc = hit_key(j, t->id[h], &key);
		if (rc < 0 || !key)
			continue;
		for (g = 0; g < ng && strcmp(keys[g], key); g++)
			;
		if (g == ng) {
			if (ng == G) {
				free(key);
				continue;
			}
			keys[ng++] = key;
		} else {
			free(key);
		}
		if (fill[g] < gs)
			first[g * gs + fill[g]++] = h;
	}
	if (rc < 0)
		goto out;
	*enough = ng == G;
	for (size_t g = 0; g < ng && *enough && j->so.strict; g++)
		*enough = fill[g] == gs;
	r->count[qi] = 0;
	for (size_t g = q->offset; g < ng; g++)
		for (size_t x = 0; x < fill[g]; x++) {
			size_t h = first[g * gs + x], at = qi * r->k +
				r->count[qi]++;

			r->ids[at] = t->id[h];
			r->dist[at] = vec_score_to_distance(
				(enum vec_metric)j->rec.metric, t->score[h]);
		}
out:
	for (size_t g = 0; keys && g < ng; g++)
		free(keys[g]);
	free(keys);
	free(fill);
	free(first);
	return rc;
}

/* A grouping search: candidates K at a time, K growing fourfold until
 * every query has its groups or the index has no more to give. */
static int run_grouped(struct eng_search_job *j, struct eng_result *r,
		       struct mfs_err *err)
{
	const struct eng_query *q = j->q;
	size_t K = (q->k + q->offset) * j->so.group_size * 2;
	int rc;

	if (K < 64)
		K = 64;
	for (;;) {
		struct merge m = { 0 };
		bool all = true, more = false;

		rc = search_all(j, K, K == j->K, &m, err);
		for (size_t i = 0; i < j->nq && rc == 0; i++) {
			bool enough = false;

			rc = group_query(j, &m.tk[i], i, r, &enough);
			if (rc < 0)
				rc = mfs_errf(err, rc, "out of memory");
			all &= enough;
			more |= !enough && m.tk[i].n == K;
		}
		merge_fini(&m);
		if (rc < 0 || all || !more || K >= MFS_TOPK_MAX * 16)
			return rc;
		K *= 4;
	}
}

/* r->rows for output fields: where each hit's row is. */
static int make_rows(struct eng_search_job *j, struct eng_result *r)
{
	struct eng_hitrows *h = calloc(1, sizeof(*h));
	size_t n = r->nq * r->k;

	if (!h)
		return -ENOMEM;
	r->rows = h;
	h->cols = calloc(j->nparts ? j->nparts : 1, sizeof(*h->cols));
	h->part = malloc((n ? n : 1) * sizeof(*h->part));
	h->row = malloc((n ? n : 1) * sizeof(*h->row));
	if (!h->cols || !h->part || !h->row)
		return -ENOMEM;
	for (size_t i = 0; i < j->nparts; i++) {
		h->cols[i] = j->cols[i];
		eng_cols_ref(h->cols[i]);
	}
	h->ncols = j->nparts;
	for (size_t i = 0; i < r->nq; i++)
		for (size_t x = 0; x < r->count[i]; x++) {
			size_t at = i * r->k + x;

			h->part[at] = eng_sf_find(j->cols, j->nparts,
						  r->ids[at], &h->row[at]);
		}
	return 0;
}

int eng_search_run(struct eng_search_job *j, struct eng_result *out,
		   struct mfs_err *err)
{
	const struct eng_query *q = j->q;
	struct eng_result r = { 0 };
	struct merge m = { 0 };
	size_t nq = j->nq, stride = q->k * j->so.group_size;
	int rc = 0;

	r.nq = nq;
	r.k = stride;
	r.count = calloc(nq, sizeof(*r.count));
	r.ids = malloc(nq * stride * sizeof(*r.ids));
	r.dist = malloc(nq * stride * sizeof(*r.dist));
	if (!r.count || !r.ids || !r.dist) {
		rc = mfs_errf(err, -ENOMEM,
			      "out of memory for %zu queries of %zu hits", nq,
			      stride);
		goto out;
	}
	if (j->so.group_field >= 0) {
		rc = run_grouped(j, &r, err);
		if (rc < 0)
			goto out;
	} else {
		rc = search_all(j, j->K, true, &m, err);
		if (rc < 0)
			goto out;
		for (size_t i = 0; i < nq; i++) {
			struct vec_topk *t = &m.tk[i];
			size_t got;

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
	}
	if (q->rows && make_rows(j, &r) < 0) {
		rc = mfs_errf(err, -ENOMEM, "out of memory");
		goto out;
	}
	*out = r;
	memset(&r, 0, sizeof(r));
out:
	eng_result_free(&r);
	merge_fini(&m);
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
