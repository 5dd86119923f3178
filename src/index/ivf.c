/* ivf.c - the IVF core: parameters, lifecycle, training, add and remove,
 * and the IVF_FLAT, IVF_SQ8 and IVF_PQ type tables.
 *
 * See ivf_int.h for the layout.  Training follows faiss: the coarse
 * quantizer is k-means (10 iterations; spherical for IP and COSINE) on a
 * seeded sample of at most 256 * nlist points; SQ8 ranges and PQ codebooks are trained on the
 * residuals of a sample to their centroids.  add() assigns in slices with
 * BLAS over the pool, encodes, then appends serially in input order, so a
 * build is the same whatever the thread count.
 */
#include "index/ivf_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index/kmeans_int.h"

#define COARSE_NITER 10
#define ADD_SLICE 8192
#define SQ8_TRAIN_MAX 65536

/* Integer parameter key in [lo, hi], def when absent, Milvus wording. */
static int get_param(const struct mfs_kv *kv, const char *key, long def,
		     long lo, long hi, long *out, struct mfs_err *err)
{
	const char *s = kv ? mfs_kv_get(kv, key) : NULL;
	long v = def;

	if (s && mfs_parse_long(s, lo, hi, &v) < 0)
		return mfs_errf(err, -EINVAL, "param '%s' (%s) should be in "
				"range [%ld, %ld]", key, s, lo, hi);
	*out = v;
	return 0;
}

/* Default PQ m: the largest divisor of dim that is at most dim / 4. */
static long default_m(uint32_t dim)
{
	long m = dim / 4 ? dim / 4 : 1;

	while (m > 1 && dim % m)
		m--;
	return m;
}

int ivf_params(enum ivf_kind kind, const struct idx_info *info,
	       const struct mfs_kv *kv, struct ivf_params *p,
	       struct mfs_err *err)
{
	long nlist, m = 0, nbits = 0, seed = 0;
	int rc;

	if (kind == IVF_BIN) {
		if (info->vtype != VEC_BINARY ||
		    (info->metric != VEC_HAMMING && info->metric != VEC_JACCARD))
			return mfs_errf(err, -EINVAL, "metric type %s not found "
					"or not supported, supported: [HAMMING "
					"JACCARD]", vec_metric_name(info->metric));
		if (info->dim == 0 || info->dim % 8)
			return mfs_errf(err, -EINVAL, "dim should be a multiple "
					"of 8 for binary vectors, got %u",
					info->dim);
	} else if (info->vtype != VEC_FLOAT ||
		   (info->metric != VEC_L2 && info->metric != VEC_IP &&
		    info->metric != VEC_COSINE)) {
		return mfs_errf(err, -EINVAL, "metric type %s not found or not "
				"supported, supported: [L2 IP COSINE]",
				vec_metric_name(info->metric));
	}
	rc = get_param(kv, "nlist", IVF_NLIST_DEF, 1, IVF_NLIST_MAX, &nlist,
		       err);
	if (rc < 0)
		return rc;
	if (kind == IVF_PQ) {
		rc = get_param(kv, "m", default_m(info->dim), 1, info->dim, &m,
			       err);
		if (rc < 0)
			return rc;
		if (info->dim % m)
			return mfs_errf(err, -EINVAL, "The dimension of the "
					"vector (dim) should be a multiple of "
					"the number of subquantizers (m). "
					"Dimension:%u, m:%ld", info->dim, m);
		rc = get_param(kv, "nbits", 8, 1, 16, &nbits, err);
		if (rc < 0)
			return rc;
	}
	rc = get_param(kv, "seed", 0, 0, IVF_SEED_MAX, &seed, err);
	if (rc < 0)
		return rc;
	p->nlist = (uint32_t)nlist;
	p->m = (uint32_t)m;
	p->nbits = (uint32_t)nbits;
	p->seed = (uint64_t)seed;
	return 0;
}

int ivf_check(enum ivf_kind kind, const char *name,
	      const struct idx_info *info, const struct mfs_kv *params,
	      struct mfs_kv *canon, struct mfs_err *err)
{
	struct ivf_params p;
	char num[32];
	int rc;

	/* A misspelt key must not build with defaults silently. */
	for (size_t i = 0; i < params->n; i++) {
		const char *k = params->item[i].key;

		if (strcmp(k, "index_type") && strcmp(k, "metric_type") &&
		    strcmp(k, "nlist") && strcmp(k, "seed") &&
		    (kind != IVF_PQ || (strcmp(k, "m") && strcmp(k, "nbits"))))
			return mfs_errf(err, -EINVAL,
					"invalid index params: unknown parameter '%s' for index type %s, expected %s",
					k, name, kind == IVF_PQ ?
					"nlist, m, nbits or seed" :
					"nlist or seed");
	}
	rc = ivf_params(kind, info, params, &p, err);
	if (rc < 0)
		return rc;
	mfs_kv_init(canon);
	rc = mfs_kv_set(canon, "index_type", name, err);
	snprintf(num, sizeof(num), "%u", p.nlist);
	if (rc == 0)
		rc = mfs_kv_set(canon, "nlist", num, err);
	if (rc == 0 && kind == IVF_PQ) {
		snprintf(num, sizeof(num), "%u", p.m);
		rc = mfs_kv_set(canon, "m", num, err);
		snprintf(num, sizeof(num), "%u", p.nbits);
		if (rc == 0)
			rc = mfs_kv_set(canon, "nbits", num, err);
	}
	/* Shown only when given: the default build stays as Milvus shows it. */
	if (rc == 0 && mfs_kv_get(params, "seed")) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)p.seed);
		rc = mfs_kv_set(canon, "seed", num, err);
	}
	return rc;
}

int ivf_new(const struct idx_type *type, enum ivf_kind kind,
	    const struct idx_info *info, const struct ivf_params *p,
	    struct ivf **out)
{
	struct ivf *v = calloc(1, sizeof(*v));
	size_t d = info->dim;

	if (!v)
		return -ENOMEM;
	v->base.type = type;
	v->base.info = *info;
	v->kind = kind;
	v->nlist = p->nlist;
	v->m = p->m;
	v->nbits = p->nbits;
	v->seed = ivf_seed(p->seed);
	switch (kind) {
	case IVF_FLAT: v->code_size = d * sizeof(float); break;
	case IVF_SQ8: v->code_size = d; break;
	case IVF_PQ: v->code_size = ((size_t)p->m * p->nbits + 7) / 8; break;
	case IVF_BIN: v->code_size = d / 8; break;
	}
	v->lists = calloc(v->nlist, sizeof(*v->lists));
	if (kind == IVF_BIN) {
		v->bcent = calloc(v->nlist, d / 8);
	} else {
		v->cent = calloc((size_t)v->nlist * d, sizeof(float));
		v->cnorm = calloc(v->nlist, sizeof(float));
	}
	if (kind == IVF_SQ8) {
		v->sq_min = calloc(d, sizeof(float));
		v->sq_step = calloc(d, sizeof(float));
	}
	if (kind == IVF_PQ) {
		v->pq_cbt = calloc(((size_t)1 << p->nbits) * d, sizeof(float));
	}
	if (!v->lists || (kind == IVF_BIN ? !v->bcent : !v->cent || !v->cnorm) ||
	    (kind == IVF_SQ8 && (!v->sq_min || !v->sq_step)) ||
	    (kind == IVF_PQ && !v->pq_cbt)) {
		ivf_destroy(v);
		return -ENOMEM;
	}
	*out = v;
	return 0;
}

void ivf_destroy(struct ivf *v)
{
	if (!v)
		return;
	if (v->lists)
		for (uint32_t l = 0; l < v->nlist; l++) {
			free(v->lists[l].ids);
			free(v->lists[l].codes);
		}
	free(v->lists);
	free(v->cent);
	free(v->cnorm);
	free(v->bcent);
	free(v->sq_min);
	free(v->sq_step);
	free(v->pq_cbt);
	free(v->pend_ids);
	free(v->pend_vecs);
	free(v);
}

int ivf_prepare(const struct ivf *v, const void *vecs, size_t n,
		const void **out, float **copy)
{
	size_t d = v->base.info.dim;

	*copy = NULL;
	if (v->kind == IVF_BIN || v->base.info.metric != VEC_COSINE || n == 0) {
		*out = vecs;
		return 0;
	}
	*copy = malloc(n * d * sizeof(float));
	if (!*copy)
		return -ENOMEM;
	memcpy(*copy, vecs, n * d * sizeof(float));
	for (size_t i = 0; i < n; i++)
		vec_normalize(*copy + i * d, d);
	*out = *copy;
	return 0;
}

static void prog_call(void *arg, double pct)
{
	const struct idx_progress *pr = arg;

	if (pr && pr->fn)
		pr->fn(pr->arg, pct);
}

/* Residuals to their nearest centroid of a seeded sample of at most max
 * points: returns owned *res (ns * d), *ns. */
static int sample_residuals(const struct ivf *v, const float *x, size_t n,
			    size_t max, float **res, size_t *ns,
			    struct mfs_err *err)
{
	size_t d = v->base.info.dim, m = n < max ? n : max;
	size_t *idx = NULL;
	uint32_t *label = NULL;
	float *r = malloc(m * d * sizeof(float));
	int rc = -ENOMEM;

	label = malloc(m * sizeof(uint32_t));
	if (!r || !label)
		goto fail;
	if (m < n) {
		idx = malloc(m * sizeof(size_t));
		if (!idx || km_sample(n, m, v->seed + 1, idx) < 0)
			goto fail;
		for (size_t i = 0; i < m; i++)
			memcpy(r + i * d, x + idx[i] * d, d * sizeof(float));
	} else {
		memcpy(r, x, m * d * sizeof(float));
	}
	rc = km_assign(v->cent, v->cnorm, v->nlist, r, m, d,
		       v->base.info.pool, label, NULL, err);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < m; i++) {
		const float *c = v->cent + (size_t)label[i] * d;

		for (size_t t = 0; t < d; t++)
			r[i * d + t] -= c[t];
	}
	free(idx);
	free(label);
	*res = r;
	*ns = m;
	return 0;
fail:
	free(idx);
	free(label);
	free(r);
	return rc == -ENOMEM ? mfs_errf(err, -ENOMEM, "IVF training: out of "
					"memory") : rc;
}

int ivf_train(struct ivf *v, const void *x, size_t n,
	      const struct idx_progress *pr, double lo, double hi,
	      struct mfs_err *err)
{
	size_t d = v->base.info.dim;
	double mid = v->kind == IVF_PQ ? lo + (hi - lo) * 0.3 : hi;
	struct km_opts o = {
		.niter = COARSE_NITER, .seed = v->seed, .max_per_centroid = 256,
		.pool = v->base.info.pool, .progress = prog_call,
		.progress_arg = (void *)pr, .lo = lo, .hi = mid,
		/* Inner-product metrics: spherical k-means, as faiss's
		 * IndexIVF trains them; lists then agree with the probe
		 * order (largest inner product) for IP as well. */
		.spherical = v->base.info.metric != VEC_L2,
	};
	float *res = NULL;
	size_t ns = 0;
	int rc;

	if (n == 0)
		return 0;
	if (v->kind == IVF_BIN) {
		rc = bin_train(v, x, n, pr, lo, hi, err);
		if (rc == 0)
			v->trained = 1;
		return rc;
	}
	rc = km_train(x, n, d, v->nlist, &o, v->cent, err);
	if (rc < 0)
		return rc;
	vec_norms_sq(v->cent, v->nlist, d, v->cnorm);
	if (v->kind == IVF_SQ8 || v->kind == IVF_PQ) {
		size_t max = v->kind == IVF_SQ8 ? SQ8_TRAIN_MAX :
						 ivf_pq_ksub(v) * 256;

		rc = sample_residuals(v, x, n, max, &res, &ns, err);
		if (rc < 0)
			return rc;
		if (v->kind == IVF_SQ8)
			rc = sq8_train(v, res, ns, err);
		else
			rc = pq_train(v, res, ns, pr, mid, hi, err);
		free(res);
		if (rc < 0)
			return rc;
	}
	v->trained = 1;
	return 0;
}

int ivf_list_reserve(struct ivf_list *l, size_t cap, size_t code_size)
{
	int64_t *ids;
	uint8_t *codes;

	if (cap <= l->cap)
		return 0;
	ids = realloc(l->ids, cap * sizeof(int64_t));
	if (!ids)
		return -ENOMEM;
	l->ids = ids;
	codes = realloc(l->codes, cap * code_size);
	if (!codes)
		return -ENOMEM;
	l->codes = codes;
	l->cap = cap;
	return 0;
}

int ivf_list_push(struct ivf_list *l, int64_t id, const uint8_t *code,
		  size_t code_size)
{
	if (l->n == l->cap &&
	    ivf_list_reserve(l, l->cap ? l->cap + l->cap / 2 + 1 : 8,
			     code_size) < 0)
		return -ENOMEM;
	l->ids[l->n] = id;
	memcpy(l->codes + l->n * code_size, code, code_size);
	l->n++;
	return 0;
}

void ivf_shrink(struct ivf *v)
{
	for (uint32_t i = 0; i < v->nlist; i++) {
		struct ivf_list *l = &v->lists[i];

		if (l->cap == l->n || l->n == 0)
			continue;
		int64_t *ids = realloc(l->ids, l->n * sizeof(int64_t));
		uint8_t *codes = realloc(l->codes, l->n * v->code_size);

		if (ids)
			l->ids = ids;
		if (codes)
			l->codes = codes;
		if (ids && codes)
			l->cap = l->n;
	}
}

int ivf_add_prepared(struct ivf *v, const int64_t *ids, const void *x,
		     size_t n, const struct idx_progress *pr, double lo,
		     double hi, struct mfs_err *err)
{
	size_t d = v->base.info.dim, slice = n < ADD_SLICE ? n : ADD_SLICE;
	size_t vb = vec_bytes(v->base.info.vtype, v->base.info.dim);
	uint32_t *label = malloc((slice ? slice : 1) * sizeof(uint32_t));
	float *res = NULL;
	uint8_t *codes = NULL;
	int rc = -ENOMEM;

	if (!label)
		goto out;
	if (v->kind == IVF_SQ8 || v->kind == IVF_PQ) {
		res = malloc(slice * d * sizeof(float));
		codes = malloc(slice * v->code_size);
		if (!res || !codes)
			goto out;
	}
	for (size_t s = 0; s < n; s += slice) {
		size_t m = n - s < slice ? n - s : slice;
		const uint8_t *xs = (const uint8_t *)x + s * vb;

		if (v->kind == IVF_BIN) {
			bin_assign(v, xs, m, label);
		} else {
			rc = km_assign(v->cent, v->cnorm, v->nlist,
				       (const float *)xs, m, d,
				       v->base.info.pool, label, NULL, err);
			if (rc < 0)
				goto out;
			rc = -ENOMEM;
		}
		if (res) {
			const float *xf = (const float *)xs;

			for (size_t i = 0; i < m; i++) {
				const float *c = v->cent + (size_t)label[i] * d;

				for (size_t t = 0; t < d; t++)
					res[i * d + t] = xf[i * d + t] - c[t];
			}
			if (v->kind == IVF_SQ8) {
				for (size_t i = 0; i < m; i++)
					sq8_encode(v, res + i * d,
						   codes + i * v->code_size);
			} else {
				rc = pq_encode(v, res, m, codes, err);
				if (rc < 0)
					goto out;
				rc = -ENOMEM;
			}
		}
		if (s == 0 && m == n) {
			/* One slice (a build or a big add): size lists exactly. */
			size_t *cnt = calloc(v->nlist, sizeof(size_t));

			if (!cnt)
				goto out;
			for (size_t i = 0; i < m; i++)
				cnt[label[i]]++;
			for (uint32_t l = 0; l < v->nlist; l++)
				if (cnt[l] && ivf_list_reserve(&v->lists[l],
					v->lists[l].n + cnt[l],
					v->code_size) < 0) {
					free(cnt);
					goto out;
				}
			free(cnt);
		}
		for (size_t i = 0; i < m; i++) {
			const uint8_t *code = codes ? codes + i * v->code_size :
						      xs + i * vb;

			if (ivf_list_push(&v->lists[label[i]], ids[s + i], code,
					  v->code_size) < 0)
				goto out;
			v->ntotal++;
		}
		prog_call((void *)pr, lo + (hi - lo) * (double)(s + m) / n);
	}
	rc = 0;
out:
	free(label);
	free(res);
	free(codes);
	if (rc == -ENOMEM)
		mfs_errf(err, -ENOMEM, "IVF add: out of memory");
	return rc;
}

/* Points a kind with nlist lists (and nbits, IVF_PQ) needs to train. */
static size_t min_train(enum ivf_kind kind, uint32_t nlist, uint32_t nbits)
{
	size_t t = (size_t)39 * nlist;

	if (kind == IVF_PQ) {
		size_t k = (size_t)1 << (nbits < 12 ? nbits : 12);

		t = t > k ? t : k;
	}
	return t;
}

size_t ivf_min_train(const struct ivf *v)
{
	return min_train(v->kind, v->nlist, v->nbits);
}

size_t ivf_train_min(enum ivf_kind kind, const struct idx_info *info,
		     const struct mfs_kv *canon)
{
	struct ivf_params p;

	if (ivf_params(kind, info, canon, &p, NULL) < 0)
		p = (struct ivf_params){ IVF_NLIST_DEF, 1, 8, 0 };
	return min_train(kind, p.nlist, p.nbits);
}

size_t ivf_generic_train_wait(const struct idx *ix)
{
	const struct ivf *v = (const struct ivf *)ix;

	return v->trained ? 0 : ivf_min_train(v);
}

static void pend_clear(struct ivf *v)
{
	free(v->pend_ids);
	free(v->pend_vecs);
	v->pend_ids = NULL;
	v->pend_vecs = NULL;
	v->pend_n = v->pend_cap = 0;
}

int ivf_feed(struct ivf *v, const int64_t *ids, const void *x, size_t n,
	     const struct idx_progress *pr, double lo, double hi,
	     struct mfs_err *err)
{
	size_t vb = vec_bytes(v->base.info.vtype, v->base.info.dim);
	double mid = lo + (hi - lo) * 0.8;
	size_t old = v->pend_n;
	int rc;

	if (v->trained)
		return ivf_add_prepared(v, ids, x, n, pr, lo, hi, err);
	if (v->pend_n == 0 && n >= ivf_min_train(v)) {
		rc = ivf_train(v, x, n, pr, lo, mid, err);
		return rc < 0 ? rc : ivf_add_prepared(v, ids, x, n, pr, mid,
						      hi, err);
	}
	if (v->pend_n + n > v->pend_cap) {
		size_t cap = v->pend_cap * 2 > v->pend_n + n ?
			v->pend_cap * 2 : v->pend_n + n;
		int64_t *pi = realloc(v->pend_ids, cap * sizeof(int64_t));

		if (!pi)
			return mfs_errf(err, -ENOMEM, "IVF add: out of memory");
		v->pend_ids = pi;
		uint8_t *pv = realloc(v->pend_vecs, cap * vb);

		if (!pv)
			return mfs_errf(err, -ENOMEM, "IVF add: out of memory");
		v->pend_vecs = pv;
		v->pend_cap = cap;
	}
	memcpy(v->pend_ids + v->pend_n, ids, n * sizeof(int64_t));
	memcpy(v->pend_vecs + v->pend_n * vb, x, n * vb);
	v->pend_n += n;
	if (v->pend_n < ivf_min_train(v))
		return 0;
	rc = ivf_train(v, v->pend_vecs, v->pend_n, pr, lo, mid, err);
	if (rc < 0) {
		v->pend_n = old;
		return rc;
	}
	rc = ivf_add_prepared(v, v->pend_ids, v->pend_vecs, v->pend_n, pr,
			      mid, hi, err);
	if (rc < 0)
		return rc;
	pend_clear(v);
	return 0;
}

int ivf_generic_add(struct idx *ix, const int64_t *ids, const void *vecs,
		    size_t n, struct mfs_err *err)
{
	struct ivf *v = (struct ivf *)ix;
	const void *x;
	float *copy;
	int rc;

	if (n == 0)
		return 0;
	if (ivf_prepare(v, vecs, n, &x, &copy) < 0)
		return mfs_errf(err, -ENOMEM, "IVF add: out of memory");
	rc = ivf_feed(v, ids, x, n, NULL, 0, 0, err);
	free(copy);
	return rc;
}

int ivf_generic_build(enum ivf_kind kind, const struct idx_type *type,
		      const struct idx_info *info, const struct mfs_kv *canon,
		      const int64_t *ids, const void *vecs, size_t n,
		      const struct idx_progress *pr, struct idx **out,
		      struct mfs_err *err)
{
	struct ivf_params p;
	struct ivf *v;
	const void *x;
	float *copy = NULL;
	int rc = ivf_params(kind, info, canon, &p, err);

	if (rc < 0)
		return rc;
	if (ivf_new(type, kind, info, &p, &v) < 0)
		return mfs_errf(err, -ENOMEM, "%s: out of memory", type->name);
	if (ivf_prepare(v, vecs, n, &x, &copy) < 0) {
		rc = mfs_errf(err, -ENOMEM, "%s: out of memory", type->name);
		goto fail;
	}
	rc = n ? ivf_feed(v, ids, x, n, pr, 0, 100, err) : 0;
	free(copy);
	if (rc < 0)
		goto fail;
	ivf_shrink(v);
	prog_call((void *)pr, 100);
	*out = &v->base;
	return 0;
fail:
	ivf_destroy(v);
	return rc;
}

int ivf_generic_check_search(const struct idx *ix, const struct mfs_kv *sp,
			     size_t k, struct mfs_err *err)
{
	const struct ivf *v = (const struct ivf *)ix;
	const char *s = sp ? mfs_kv_get(sp, "nprobe") : NULL;
	long np;

	if (s && mfs_parse_long(s, 1, v->nlist, &np) < 0)
		return mfs_errf(err, -EINVAL, "nprobe out of range: [1, %u], "
				"got %s", v->nlist, s);
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int has_id(const int64_t *sorted, size_t n, int64_t id)
{
	if (!sorted)
		return 0;
	return bsearch(&id, sorted, n, sizeof(int64_t), cmp_i64) != NULL;
}

void ivf_generic_remove(struct idx *ix, const int64_t *ids, size_t n)
{
	struct ivf *v = (struct ivf *)ix;
	int64_t *sorted = n ? malloc(n * sizeof(int64_t)) : NULL;
	size_t cs = v->code_size;

	if (n == 0)
		return;
	if (sorted) {
		memcpy(sorted, ids, n * sizeof(int64_t));
		qsort(sorted, n, sizeof(int64_t), cmp_i64);
	}
	for (size_t i = 0; i < v->pend_n;) {
		size_t vb = vec_bytes(v->base.info.vtype, v->base.info.dim);
		int hit = 0;

		if (sorted)
			hit = has_id(sorted, n, v->pend_ids[i]);
		else
			for (size_t j = 0; j < n && !hit; j++)
				hit = ids[j] == v->pend_ids[i];
		if (!hit) {
			i++;
			continue;
		}
		v->pend_n--;
		v->pend_ids[i] = v->pend_ids[v->pend_n];
		memmove(v->pend_vecs + i * vb, v->pend_vecs + v->pend_n * vb, vb);
	}
	for (uint32_t li = 0; li < v->nlist; li++) {
		struct ivf_list *l = &v->lists[li];

		for (size_t i = 0; i < l->n;) {
			int hit = 0;

			if (sorted) {
				hit = has_id(sorted, n, l->ids[i]);
			} else {
				/* No memory for the sorted copy: scan. */
				for (size_t j = 0; j < n && !hit; j++)
					hit = ids[j] == l->ids[i];
			}
			if (!hit) {
				i++;
				continue;
			}
			l->n--;
			v->ntotal--;
			if (i != l->n) {
				l->ids[i] = l->ids[l->n];
				memcpy(l->codes + i * cs, l->codes + l->n * cs,
				       cs);
			}
		}
	}
	free(sorted);
}

size_t ivf_generic_count(const struct idx *ix)
{
	const struct ivf *v = (const struct ivf *)ix;

	return v->ntotal + v->pend_n;
}

size_t ivf_generic_memory(const struct idx *ix)
{
	const struct ivf *v = (const struct ivf *)ix;
	size_t d = v->base.info.dim, b = sizeof(*v);

	b += (size_t)v->nlist * sizeof(struct ivf_list);
	if (v->kind == IVF_BIN)
		b += (size_t)v->nlist * (d / 8);
	else
		b += (size_t)v->nlist * (d + 1) * sizeof(float);
	if (v->kind == IVF_SQ8)
		b += 2 * d * sizeof(float);
	if (v->kind == IVF_PQ)
		b += ivf_pq_ksub(v) * d * sizeof(float);
	for (uint32_t l = 0; l < v->nlist; l++)
		b += v->lists[l].cap * (sizeof(int64_t) + v->code_size);
	b += v->pend_cap * (sizeof(int64_t) +
			    vec_bytes(v->base.info.vtype, v->base.info.dim));
	return b;
}

size_t ivf_estimate(enum ivf_kind kind, const struct idx_info *info,
		    const struct mfs_kv *canon, size_t n)
{
	struct ivf_params p;
	size_t d = info->dim, code = 0, b;

	if (ivf_params(kind, info, canon, &p, NULL) < 0)
		p = (struct ivf_params){ IVF_NLIST_DEF, 1, 8, 0 };
	switch (kind) {
	case IVF_FLAT: code = d * sizeof(float); break;
	case IVF_SQ8: code = d; break;
	case IVF_PQ: code = ((size_t)p.m * p.nbits + 7) / 8; break;
	case IVF_BIN: code = d / 8; break;
	}
	b = sizeof(struct ivf) + (size_t)p.nlist * sizeof(struct ivf_list);
	b += (size_t)p.nlist * (kind == IVF_BIN ? d / 8 : (d + 1) * 4);
	if (kind == IVF_SQ8)
		b += 8 * d;
	if (kind == IVF_PQ)
		b += ((size_t)1 << p.nbits) * d * sizeof(float);
	return b + n * (sizeof(int64_t) + code);
}

void ivf_generic_free(struct idx *ix)
{
	ivf_destroy((struct ivf *)ix);
}

/* The three float types. */
#define IVF_TYPE(sym, KIND, NAME)                                              \
	static int sym##_check(const struct idx_info *info,                    \
			       const struct mfs_kv *params,                    \
			       struct mfs_kv *canon, struct mfs_err *err)      \
	{                                                                      \
		return ivf_check(KIND, NAME, info, params, canon, err);        \
	}                                                                      \
	static size_t sym##_estimate(const struct idx_info *info,              \
				     const struct mfs_kv *canon, size_t n)     \
	{                                                                      \
		return ivf_estimate(KIND, info, canon, n);                     \
	}                                                                      \
	static size_t sym##_train_min(const struct idx_info *info,             \
				      const struct mfs_kv *canon)              \
	{                                                                      \
		return ivf_train_min(KIND, info, canon);                       \
	}                                                                      \
	static int sym##_build(const struct idx_info *info,                    \
			       const struct mfs_kv *canon, const int64_t *ids, \
			       const void *vecs, size_t n,                     \
			       const struct idx_progress *pr,                  \
			       struct idx **out, struct mfs_err *err)          \
	{                                                                      \
		return ivf_generic_build(KIND, &idx_##sym##_type, info, canon, \
					 ids, vecs, n, pr, out, err);          \
	}                                                                      \
	static int sym##_restore(const struct idx_info *info,                  \
				 const struct mfs_kv *canon, const void *blob, \
				 size_t len, const int64_t *ids,               \
				 const void *vecs, size_t n, struct idx **out, \
				 struct mfs_err *err)                          \
	{                                                                      \
		return ivf_generic_restore(KIND, &idx_##sym##_type, info,      \
					   canon, blob, len, ids, vecs, n,     \
					   out, err);                          \
	}                                                                      \
	const struct idx_type idx_##sym##_type = {                             \
		.name = NAME,                                                  \
		.binary = KIND == IVF_BIN,                                     \
		.check = sym##_check,                                          \
		.check_search = ivf_generic_check_search,                      \
		.estimate_bytes = sym##_estimate,                              \
		.build = sym##_build,                                          \
		.save = ivf_generic_save,                                      \
		.restore = sym##_restore,                                      \
		.add = ivf_generic_add,                                        \
		.remove = ivf_generic_remove,                                  \
		.search = ivf_generic_search,                                  \
		.search_filtered = ivf_generic_search_filtered,                \
		.count = ivf_generic_count,                                    \
		.memory_bytes = ivf_generic_memory,                            \
		.free = ivf_generic_free,                                      \
		.train_min = sym##_train_min,                                  \
		.train_wait = ivf_generic_train_wait,                          \
	}

IVF_TYPE(ivf_flat, IVF_FLAT, "IVF_FLAT");
IVF_TYPE(ivf_sq8, IVF_SQ8, "IVF_SQ8");
IVF_TYPE(ivf_pq, IVF_PQ, "IVF_PQ");
IVF_TYPE(bin_ivf_flat, IVF_BIN, "BIN_IVF_FLAT");
