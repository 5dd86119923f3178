/* test_flat.c - FLAT and BIN_FLAT against brute force in double precision,
 * and recall 1.0 against exact ground truth: of synthetic sets (synth.h)
 * always, of the real data sets too when they are there. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/idmap.h"
#include "index/index.h"
#include "synth.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static float frnd(void)
{
	return (float)((double)(rnd() >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static struct mfs_pool *pool2(void)
{
	struct mfs_pool *p = NULL;

	ck_assert_int_eq(mfs_pool_new(2, &p), 0);
	return p;
}

/* Reference score in double: smaller is better, like vec.h. */
static double ref_score(enum vec_metric m, const void *a, const void *b,
			uint32_t dim)
{
	double s = 0, na = 0, nb = 0;

	if (m == VEC_HAMMING || m == VEC_JACCARD) {
		const uint8_t *x = a, *y = b;
		unsigned in = 0, un = 0, h = 0;

		for (uint32_t i = 0; i < dim / 8; i++) {
			h += (unsigned)__builtin_popcount(x[i] ^ y[i]);
			in += (unsigned)__builtin_popcount(x[i] & y[i]);
			un += (unsigned)__builtin_popcount(x[i] | y[i]);
		}
		if (m == VEC_HAMMING)
			return h;
		return un ? 1.0 - (double)in / un : 0.0;
	}
	const float *x = a, *y = b;
	for (uint32_t i = 0; i < dim; i++) {
		if (m == VEC_L2)
			s += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
		else
			s += (double)x[i] * y[i];
		na += (double)x[i] * x[i];
		nb += (double)y[i] * y[i];
	}
	if (m == VEC_L2)
		return s;
	if (m == VEC_IP)
		return -s;
	return na > 0 && nb > 0 ? -s / sqrt(na * nb) : 0.0;
}

struct ref {
	double s;
	int64_t id;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A tiny model of the index: live rows with their ids. */
struct model {
	enum vec_metric metric;
	enum vec_type vtype;
	uint32_t dim;
	size_t vb, n;
	unsigned char *vecs;
	int64_t *ids;
	int *live;
};

/* Tolerance for "a genuine float tie" between two reference scores. */
static double tie_tol(const struct model *md, double s)
{
	if (md->vtype == VEC_BINARY)
		return 1e-6;
	return 1e-5 * (fabs(s) + 1.0);
}

/* Check hits of query qv against brute force over the model's live rows:
 * count, order, every rank's score equal to the reference rank's score
 * (ids equal unless tied), returned score close to the reference, no
 * removed id, no duplicates. */
static void check_hits(const struct model *md, const void *qv, size_t k,
		       size_t count, const float *score, const int64_t *id,
		       const char *what)
{
	struct ref *r = malloc(md->n * sizeof(*r));
	size_t live = 0;

	ck_assert_ptr_nonnull(r);
	for (size_t i = 0; i < md->n; i++)
		if (md->live[i]) {
			r[live].s = ref_score(md->metric, qv,
					      md->vecs + i * md->vb, md->dim);
			r[live].id = md->ids[i];
			live++;
		}
	qsort(r, live, sizeof(*r), ref_cmp);
	ck_assert_msg(count == (k < live ? k : live), "%s: count %zu of %zu",
		      what, count, live);
	for (size_t t = 0; t < count; t++) {
		size_t pos = SIZE_MAX;
		double want = r[t].s;

		for (size_t i = 0; i < live; i++)
			if (r[i].id == id[t]) {
				pos = i;
				break;
			}
		ck_assert_msg(pos != SIZE_MAX, "%s: rank %zu id %lld not live",
			      what, t, (long long)id[t]);
		ck_assert_msg(id[t] == r[t].id ||
				      fabs(r[pos].s - want) <= tie_tol(md, want),
			      "%s: rank %zu: id %lld (%.9g), expected %lld "
			      "(%.9g)", what, t, (long long)id[t], r[pos].s,
			      (long long)r[t].id, want);
		if (md->vtype == VEC_BINARY)   /* integer ties: by id */
			ck_assert_int_eq(id[t], r[t].id);
		ck_assert_msg(fabs(score[t] - r[pos].s) <=
				      tie_tol(md, r[pos].s),
			      "%s: rank %zu score %.9g, expected %.9g", what, t,
			      score[t], r[pos].s);
		if (t > 0) {
			ck_assert(score[t - 1] <= score[t]);
			ck_assert(id[t - 1] != id[t]);
		}
	}
	free(r);
}

struct hitbuf {
	struct idx_hits h;
	size_t cap_nq;
};

static void hits_init(struct hitbuf *hb, size_t nq, size_t k)
{
	hb->h.k = k;
	hb->h.count = calloc(nq, sizeof(size_t));
	hb->h.score = calloc(nq * k + 1, sizeof(float));
	hb->h.id = calloc(nq * k + 1, sizeof(int64_t));
	hb->cap_nq = nq;
	ck_assert(hb->h.count && hb->h.score && hb->h.id);
}

static void hits_fini(struct hitbuf *hb)
{
	free(hb->h.count);
	free(hb->h.score);
	free(hb->h.id);
}

static void model_random(struct model *md, enum vec_metric m, uint32_t dim,
			 size_t n, float offset)
{
	md->metric = m;
	md->vtype = (m == VEC_HAMMING || m == VEC_JACCARD) ? VEC_BINARY :
							       VEC_FLOAT;
	md->dim = dim;
	md->vb = vec_bytes(md->vtype, dim);
	md->n = n;
	md->vecs = malloc(n * md->vb + 1);
	md->ids = malloc(n * sizeof(int64_t));
	md->live = malloc(n * sizeof(int));
	ck_assert(md->vecs && md->ids && md->live);
	for (size_t i = 0; i < n; i++) {
		/* Sparse ids, negative ones too, in no particular order. */
		md->ids[i] = (int64_t)(i * 7919 % 100003) * 1000 - 5000000;
		md->live[i] = 1;
		if (md->vtype == VEC_BINARY) {
			for (size_t b = 0; b < md->vb; b++)
				md->vecs[i * md->vb + b] =
					(uint8_t)(rnd() & rnd());
		} else {
			float *v = (float *)(md->vecs + i * md->vb);

			for (uint32_t d = 0; d < dim; d++)
				v[d] = offset + frnd();
		}
	}
}

static void model_free(struct model *md)
{
	free(md->vecs);
	free(md->ids);
	free(md->live);
}

static void random_queries(const struct model *md, size_t nq, float offset,
			   void *out)
{
	for (size_t i = 0; i < nq; i++) {
		if (md->vtype == VEC_BINARY) {
			uint8_t *q = (uint8_t *)out + i * md->vb;

			for (size_t b = 0; b < md->vb; b++)
				q[b] = (uint8_t)(rnd() & rnd());
		} else {
			float *q = (float *)out + i * md->dim;

			for (uint32_t d = 0; d < md->dim; d++)
				q[d] = offset + frnd();
		}
	}
}

static struct idx *build(const struct model *md, struct mfs_pool *pool)
{
	const struct idx_type *t = md->vtype == VEC_BINARY ? &idx_bin_flat_type :
							      &idx_flat_type;
	struct idx_info info = { md->vtype, md->metric, md->dim, pool };
	struct idx *ix = NULL;
	struct mfs_kv canon;
	struct mfs_err err = { 0 };

	ck_assert_int_eq(t->check(&info, NULL, &canon, &err), 0);
	ck_assert_int_eq(t->build(&info, &canon, md->ids, md->vecs, md->n,
				  NULL, &ix, &err), 0);
	ck_assert_ptr_nonnull(ix);
	ck_assert_uint_eq(t->count(ix), md->n);
	return ix;
}

/* Search nq queries in one batch and one by one; check both against brute
 * force and that they agree bit for bit. */
static void search_and_check(const struct model *md, struct idx *ix,
			     const void *Q, size_t nq, size_t k)
{
	struct hitbuf batch, one;
	struct mfs_err err = { 0 };
	char what[96];

	hits_init(&batch, nq, k);
	hits_init(&one, 1, k);
	ck_assert_int_eq(idx_search(ix, Q, nq, NULL, &batch.h, &err), 0);
	for (size_t i = 0; i < nq; i++) {
		const void *qv = (const unsigned char *)Q + i * md->vb;

		snprintf(what, sizeof(what), "%s nq=%zu k=%zu q%zu",
			 vec_metric_name(md->metric), nq, k, i);
		check_hits(md, qv, k, batch.h.count[i], batch.h.score + i * k,
			   batch.h.id + i * k, what);
		if (nq > 1 && i % 7 == 0) {
			ck_assert_int_eq(idx_search(ix, qv, 1, NULL, &one.h,
						    &err), 0);
			ck_assert_uint_eq(one.h.count[0], batch.h.count[i]);
			for (size_t t = 0; t < one.h.count[0]; t++) {
				ck_assert_int_eq(one.h.id[t],
						 batch.h.id[i * k + t]);
				ck_assert(one.h.score[t] ==
					  batch.h.score[i * k + t]);
			}
		}
	}
	hits_fini(&batch);
	hits_fini(&one);
}

/* ---- tests ---- */

START_TEST(test_check)
{
	struct idx_info fi = { VEC_FLOAT, VEC_L2, 16, NULL };
	struct idx_info bi = { VEC_BINARY, VEC_HAMMING, 64, NULL };
	struct mfs_kv p, canon;
	struct mfs_err err = { 0 };

	ck_assert_ptr_eq(idx_lookup("flat"), &idx_flat_type);
	ck_assert_ptr_eq(idx_lookup("BIN_FLAT"), &idx_bin_flat_type);
	ck_assert_int_eq(idx_flat_type.binary, 0);
	ck_assert_int_eq(idx_bin_flat_type.binary, 1);
	ck_assert_ptr_null(idx_flat_type.save);

	mfs_kv_init(&p);
	mfs_kv_set(&p, "index_type", "FLAT", NULL);
	mfs_kv_set(&p, "metric_type", "L2", NULL);
	ck_assert_int_eq(idx_flat_type.check(&fi, &p, &canon, &err), 0);
	ck_assert_uint_eq(canon.n, 1);
	ck_assert_str_eq(mfs_kv_get(&canon, "index_type"), "FLAT");
	ck_assert_int_eq(idx_flat_type.check(&fi, NULL, &canon, &err), 0);

	mfs_kv_set(&p, "nlist", "128", NULL);
	ck_assert_int_eq(idx_flat_type.check(&fi, &p, &canon, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown parameter nlist"));

	fi.metric = VEC_HAMMING;
	ck_assert_int_eq(idx_flat_type.check(&fi, NULL, &canon, &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "metric type HAMMING not found or not "
			 "supported, supported: [L2 IP COSINE]");
	bi.metric = VEC_L2;
	ck_assert_int_eq(idx_bin_flat_type.check(&bi, NULL, &canon, &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "metric type L2 not found or not "
			 "supported, supported: [HAMMING JACCARD]");
	bi.metric = VEC_JACCARD;
	ck_assert_int_eq(idx_bin_flat_type.check(&bi, NULL, &canon, &err), 0);
	ck_assert_str_eq(mfs_kv_get(&canon, "index_type"), "BIN_FLAT");
	/* Type and field disagree. */
	ck_assert_int_eq(idx_flat_type.check(&bi, NULL, &canon, &err),
			 -EINVAL);
	ck_assert_int_eq(idx_bin_flat_type.check(&fi, NULL, &canon, &err),
			 -EINVAL);
	/* A metric_type parameter that does not fit. */
	fi.metric = VEC_IP;
	mfs_kv_init(&p);
	mfs_kv_set(&p, "metric_type", "JACCARD", NULL);
	ck_assert_int_eq(idx_flat_type.check(&fi, &p, &canon, &err), -EINVAL);
	/* Estimates grow with n and cover what a build takes. */
	ck_assert_uint_lt(idx_flat_type.estimate_bytes(&fi, &canon, 10),
			  idx_flat_type.estimate_bytes(&fi, &canon, 1000));
}
END_TEST

START_TEST(test_add_remove)
{
	struct mfs_pool *pool = pool2();
	struct model md;
	struct idx *ix;
	struct mfs_err err = { 0 };
	size_t n = 3000, nq = 40, k = 25;
	float *Q = malloc(nq * 37 * sizeof(float));
	int64_t *rm = malloc(n * sizeof(int64_t));
	size_t nrm = 0;

	model_random(&md, VEC_L2, 37, n, 0.0f);
	/* Build from the first half, add the second. */
	{
		struct idx_info info = { VEC_FLOAT, VEC_L2, 37, pool };

		ck_assert_int_eq(idx_flat_type.build(&info, NULL, md.ids,
						     md.vecs, n / 2, NULL, &ix,
						     &err), 0);
		ck_assert_int_eq(idx_flat_type.add(ix, md.ids + n / 2,
						   md.vecs + n / 2 * md.vb,
						   n - n / 2, &err), 0);
	}
	ck_assert_uint_eq(idx_flat_type.count(ix), n);
	ck_assert_uint_ge(idx_flat_type.memory_bytes(ix), n * md.vb);
	/* A duplicate id is refused and changes nothing. */
	{
		int64_t dup[3] = { 123456789, md.ids[5], 987654321 };
		float v[3 * 37] = { 0 };

		ck_assert_int_eq(idx_flat_type.add(ix, dup, v, 3, &err),
				 -EINVAL);
		ck_assert_uint_eq(idx_flat_type.count(ix), n);
		dup[1] = 123456789;     /* duplicate inside the batch */
		ck_assert_int_eq(idx_flat_type.add(ix, dup, v, 3, &err),
				 -EINVAL);
		ck_assert_uint_eq(idx_flat_type.count(ix), n);
	}
	random_queries(&md, nq, 0.0f, Q);
	search_and_check(&md, ix, Q, nq, k);
	/* Remove about half, an unknown id and a repeat among them. */
	for (size_t i = 0; i < n; i++)
		if (rnd() % 2) {
			rm[nrm++] = md.ids[i];
			md.live[i] = 0;
		}
	rm[nrm++] = 42424242;
	rm[nrm++] = rm[0];
	idx_flat_type.remove(ix, rm, nrm);
	ck_assert_uint_eq(idx_flat_type.count(ix), n - (nrm - 2));
	search_and_check(&md, ix, Q, nq, k);
	search_and_check(&md, ix, Q, 3, k);
	/* Removed ids can come back. */
	ck_assert_int_eq(idx_flat_type.add(ix, rm, md.vecs, 1, &err), 0);
	ck_assert_uint_eq(idx_flat_type.count(ix), n - (nrm - 2) + 1);
	/* Remove everything: searches find nothing. */
	idx_flat_type.remove(ix, md.ids, n);
	idx_flat_type.remove(ix, rm, 1);
	ck_assert_uint_eq(idx_flat_type.count(ix), 0);
	{
		struct hitbuf hb;

		hits_init(&hb, nq, k);
		ck_assert_int_eq(idx_search(ix, Q, nq, NULL, &hb.h, &err), 0);
		for (size_t i = 0; i < nq; i++)
			ck_assert_uint_eq(hb.h.count[i], 0);
		hits_fini(&hb);
	}
	idx_free(ix);
	model_free(&md);
	free(Q);
	free(rm);
	mfs_pool_free(pool);
}
END_TEST

/* Every float metric, scan and gemm plans, with and without a pool, k
 * small, large and beyond n. */
START_TEST(test_float_metrics)
{
	static const enum vec_metric ms[] = { VEC_L2, VEC_IP, VEC_COSINE };
	static const size_t ks[] = { 1, 10, 100, 5000 };
	static const size_t nqs[] = { 1, 3, 8, 70 };
	struct mfs_pool *pool = pool2();

	for (size_t mi = 0; mi < 3; mi++)
		for (int p = 0; p < 2; p++) {
			struct model md;
			struct idx *ix;
			uint32_t dim = mi == 1 ? 100 : (mi == 2 ? 128 : 19);
			float *Q = malloc(70 * dim * sizeof(float));

			model_random(&md, ms[mi], dim, 2500, 0.0f);
			ix = build(&md, p ? pool : NULL);
			random_queries(&md, 70, 0.0f, Q);
			for (size_t ki = 0; ki < 4; ki++)
				for (size_t qi = 0; qi < 4; qi++)
					if (ks[ki] < 1000 || nqs[qi] <= 8)
						search_and_check(&md, ix, Q,
								 nqs[qi],
								 ks[ki]);
			idx_free(ix);
			model_free(&md);
			free(Q);
		}
	mfs_pool_free(pool);
}
END_TEST

/* Far from the origin, |x|^2 + |q|^2 - 2 q.x loses most of its digits: the
 * results must still be exact, and the distances the exact kernel's. */
START_TEST(test_l2_cancellation)
{
	struct mfs_pool *pool = pool2();
	struct model md;
	struct idx *ix;
	float *Q = malloc(64 * 16 * sizeof(float));

	model_random(&md, VEC_L2, 16, 20000, 3000.0f);
	ix = build(&md, pool);
	random_queries(&md, 64, 3000.0f, Q);
	search_and_check(&md, ix, Q, 64, 10);
	idx_free(ix);
	model_free(&md);
	free(Q);
	mfs_pool_free(pool);
}
END_TEST

/* Enough rows that one tile of queries is split over data chunks, each
 * with its own heaps, merged afterwards (gemm and scan plans). */
START_TEST(test_chunks)
{
	static const enum vec_metric ms[] = { VEC_L2, VEC_IP, VEC_COSINE };
	struct mfs_pool *pool = pool2();

	for (size_t mi = 0; mi < 3; mi++) {
		struct model md;
		struct idx *ix;
		float *Q = malloc(20 * 24 * sizeof(float));

		model_random(&md, ms[mi], 24, 40000, 0.0f);
		ix = build(&md, pool);
		random_queries(&md, 20, 0.0f, Q);
		search_and_check(&md, ix, Q, 20, 10);
		search_and_check(&md, ix, Q, 2, 50);
		idx_free(ix);
		model_free(&md);
		free(Q);
	}
	mfs_pool_free(pool);
}
END_TEST

/* Binary: integer scores with many ties, which go by the smaller id. */
START_TEST(test_binary)
{
	static const enum vec_metric ms[] = { VEC_HAMMING, VEC_JACCARD };
	static const uint32_t dims[] = { 256, 72, 8 };
	struct mfs_pool *pool = pool2();

	for (size_t mi = 0; mi < 2; mi++)
		for (size_t di = 0; di < 3; di++) {
			struct model md;
			struct idx *ix;
			uint8_t Q[40 * 32];
			struct mfs_err err = { 0 };

			model_random(&md, ms[mi], dims[di], 20000, 0.0f);
			ix = build(&md, pool);
			random_queries(&md, 40, 0.0f, Q);
			search_and_check(&md, ix, Q, 40, 10);
			search_and_check(&md, ix, Q, 2, 300);
			/* Remove, then nothing removed comes back. */
			idx_bin_flat_type.remove(ix, md.ids, 10000);
			for (size_t i = 0; i < 10000; i++)
				md.live[i] = 0;
			search_and_check(&md, ix, Q, 40, 10);
			(void)err;
			idx_free(ix);
			model_free(&md);
		}
	mfs_pool_free(pool);
}
END_TEST

START_TEST(test_restore)
{
	struct model md;
	struct idx *a, *b = NULL;
	struct mfs_err err = { 0 };
	struct idx_info info = { VEC_FLOAT, VEC_COSINE, 24, NULL };
	float Q[20 * 24];
	struct hitbuf ha, hb;

	model_random(&md, VEC_COSINE, 24, 1000, 0.0f);
	a = build(&md, NULL);
	ck_assert_int_eq(idx_flat_type.restore(&info, NULL, NULL, 0, md.ids,
					       md.vecs, md.n, &b, &err), 0);
	ck_assert_uint_eq(idx_flat_type.count(b), md.n);
	/* What memory_limit is checked against covers what a load takes. */
	ck_assert_uint_ge(idx_flat_type.estimate_bytes(&info, NULL, md.n),
			  idx_flat_type.memory_bytes(b));
	random_queries(&md, 20, 0.0f, Q);
	hits_init(&ha, 20, 7);
	hits_init(&hb, 20, 7);
	ck_assert_int_eq(idx_search(a, Q, 20, NULL, &ha.h, &err), 0);
	ck_assert_int_eq(idx_search(b, Q, 20, NULL, &hb.h, &err), 0);
	ck_assert_mem_eq(ha.h.id, hb.h.id, 20 * 7 * sizeof(int64_t));
	ck_assert_mem_eq(ha.h.score, hb.h.score, 20 * 7 * sizeof(float));
	/* Duplicate ids among the entities: refused. */
	{
		int64_t ids[2] = { 5, 5 };
		struct idx *c = NULL;

		ck_assert_int_eq(idx_flat_type.restore(&info, NULL, NULL, 0,
						       ids, md.vecs, 2, &c,
						       &err), -EINVAL);
		ck_assert_ptr_null(c);
	}
	hits_fini(&ha);
	hits_fini(&hb);
	idx_free(a);
	idx_free(b);
	model_free(&md);
}
END_TEST

/* ---- recall against exact ground truth ---- */

/* Recall@10 must be 1.0 (ids = positions), in one batch and one by one
 * (the first nsingle queries); distances match the ground truth's (G and
 * gdist: gdim per query, best first). */
static void recall_exact(const char *set, const float *X, size_t n,
			 uint32_t dim, const float *Q, size_t nq,
			 const int32_t *G, const float *gdist, uint32_t gdim,
			 enum vec_metric m, size_t nsingle)
{
	struct mfs_pool *pool = pool2();
	size_t k = 10, hit = 0;
	int64_t *ids;
	struct idx *ix;
	struct idx_info info = { VEC_FLOAT, m, 0, pool };
	struct mfs_err err = { 0 };
	struct hitbuf hb, one;

	ids = malloc(n * sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		ids[i] = (int64_t)i;
	info.dim = dim;
	ck_assert_int_eq(idx_flat_type.build(&info, NULL, ids, X, n, NULL,
					     &ix, &err), 0);
	hits_init(&hb, nq, k);
	hits_init(&one, 1, k);
	ck_assert_int_eq(idx_search(ix, Q, nq, NULL, &hb.h, &err), 0);
	for (size_t i = 0; i < nq; i++) {
		ck_assert_uint_eq(hb.h.count[i], k);
		for (size_t t = 0; t < k; t++) {
			float want = gdist[i * gdim + t];
			float got = vec_score_to_distance(m,
							  hb.h.score[i * k + t]);

			for (size_t u = 0; u < k; u++)
				if (hb.h.id[i * k + t] == G[i * gdim + u]) {
					hit++;
					break;
				}
			ck_assert_msg(fabsf(got - want) <=
					      1e-5f * (fabsf(want) + 1.0f),
				      "%s q%zu rank %zu: distance %.9g, "
				      "expected %.9g", set, i, t, got, want);
		}
		if (i < nsingle) {
			ck_assert_int_eq(idx_search(ix, Q + i * dim, 1, NULL,
						    &one.h, &err), 0);
			ck_assert_mem_eq(one.h.id, hb.h.id + i * k,
					 k * sizeof(int64_t));
		}
	}
	ck_assert_msg(hit == nq * k, "%s %s: recall@10 = %.4f", set,
		      vec_metric_name(m), (double)hit / (double)(nq * k));
	fprintf(stderr, "%s %s: %zu base, %zu queries: recall@10 = 1, "
		"distances exact\n", set, vec_metric_name(m), n, nq);
	hits_fini(&hb);
	hits_fini(&one);
	idx_free(ix);
	free(ids);
	mfs_pool_free(pool);
}

static void real_recall(const char *set, const char *gt, const char *gtd,
			enum vec_metric m, size_t nsingle)
{
	size_t dim, qdim, gdim, ddim, n, nq, ng, nd;
	char f1[128], f2[128], r1[256], r2[256], r3[256], r4[256];
	float *X, *Q, *gdist;
	int32_t *G;

	snprintf(f1, sizeof(f1), "%s_base.fvecs", set);
	snprintf(f2, sizeof(f2), "%s_query.fvecs", set);
	snprintf(r1, sizeof(r1), "%s/%s", set, f1);
	snprintf(r2, sizeof(r2), "%s/%s", set, f2);
	snprintf(r3, sizeof(r3), "%s/%s", set, gt);
	snprintf(r4, sizeof(r4), "%s/%s", set, gtd);
	if (!synth_real_present(set, r1, r2, r3, r4, (char *)NULL))
		return;
	X = synth_read_vecs(r1, SIZE_MAX, &n, &dim);
	Q = synth_read_vecs(r2, SIZE_MAX, &nq, &qdim);
	G = synth_read_vecs(r3, SIZE_MAX, &ng, &gdim);
	gdist = synth_read_vecs(r4, SIZE_MAX, &nd, &ddim);
	ck_assert_uint_eq(dim, qdim);
	ck_assert_uint_eq(ng, nq);
	ck_assert_uint_eq(gdim, ddim);
	recall_exact(set, X, n, (uint32_t)dim, Q, nq, G, gdist, (uint32_t)gdim,
		     m, nsingle);
	free(X);
	free(Q);
	free(G);
	free(gdist);
}

/* The synthetic sets: 10,000 base vectors, 200 queries, ground truth by
 * brute force in double here. */
static void synth_recall(enum synth_kind kind, enum vec_metric m,
			 enum synth_metric sm, size_t nsingle)
{
	const size_t n = 10000, nq = 200, gk = 10;
	size_t dim;
	float *X = synth_rows(kind, 0, 0, n, &dim);
	float *Q = synth_rows(kind, 1, 0, nq, &dim);
	int32_t *G = malloc(nq * gk * sizeof(*G));
	float *gdist = malloc(nq * gk * sizeof(*gdist));

	ck_assert(G && gdist);
	synth_truth(X, n, Q, nq, dim, sm, gk, G, gdist);
	recall_exact(kind == SYNTH_PS ? "synthetic ps" : "synthetic gl", X, n,
		     (uint32_t)dim, Q, nq, G, gdist, (uint32_t)gk, m, nsingle);
	free(X);
	free(Q);
	free(G);
	free(gdist);
}

START_TEST(test_synth_l2)
{
	synth_recall(SYNTH_PS, VEC_L2, SYNTH_L2, 100);
}
END_TEST

START_TEST(test_synth_cosine)
{
	synth_recall(SYNTH_GL, VEC_COSINE, SYNTH_COSINE, 20);
}
END_TEST

START_TEST(test_synth_ip)
{
	synth_recall(SYNTH_GL, VEC_IP, SYNTH_IP, 20);
}
END_TEST

START_TEST(test_photosift128_l2)
{
	real_recall("photosift128", "photosift128_groundtruth.ivecs",
		    "photosift128_groundtruth.dist.fvecs", VEC_L2, 100);
}
END_TEST

START_TEST(test_glove100_cosine)
{
	real_recall("glove100", "glove100_groundtruth.ivecs",
		    "glove100_groundtruth.dist.fvecs", VEC_COSINE, 20);
}
END_TEST

START_TEST(test_glove100_ip)
{
	real_recall("glove100", "glove100_groundtruth_ip.ivecs",
		    "glove100_groundtruth_ip.dist.fvecs", VEC_IP, 20);
}
END_TEST

/* The id map of every index type (idmap.h) against a plain array: ids
 * NIDS * stride apart (stride 1, and 2^20 as auto ids have regular low
 * bits), random puts, replacements and deletions, every id checked after
 * each round; no growth past the reserve; deletions that empty the map. */
START_TEST(test_idmap)
{
	enum { NIDS = 5000, ROUNDS = 8 };
	static const int64_t strides[] = { 1, (int64_t)1 << 20, -7 };
	uint32_t *ref = malloc(NIDS * sizeof(*ref));
	int64_t *ids = malloc(NIDS * sizeof(*ids));

	ck_assert_ptr_nonnull(ref);
	ck_assert_ptr_nonnull(ids);
	for (size_t st = 0; st < sizeof(strides) / sizeof(*strides); st++) {
		struct mfs_idmap m = { 0 };
		size_t n = 0;

		ck_assert_uint_eq(mfs_idmap_get(&m, 1), MFS_IDMAP_NONE);
		ck_assert_uint_eq(mfs_idmap_del(&m, 1), MFS_IDMAP_NONE);
		ck_assert_int_eq(mfs_idmap_reserve(&m, NIDS), 0);
		ck_assert_uint_ge(m.cap, 2 * NIDS);
		ck_assert_uint_eq(mfs_idmap_bytes(&m), mfs_idmap_bytes_for(NIDS));
		for (size_t i = 0; i < NIDS; i++) {
			ids[i] = (int64_t)i * strides[st] + 12345;
			ref[i] = MFS_IDMAP_NONE;
		}
		for (int r = 0; r < ROUNDS; r++) {
			size_t cap = m.cap;

			for (size_t t = 0; t < NIDS; t++) {
				size_t i = rnd() % NIDS;
				uint32_t v = (uint32_t)(rnd() % 1000000);

				if (r % 3 == 2 || rnd() % 3 == 0) {
					ck_assert_uint_eq(mfs_idmap_del(&m, ids[i]),
							  ref[i]);
					n -= ref[i] != MFS_IDMAP_NONE;
					ref[i] = MFS_IDMAP_NONE;
				} else {
					mfs_idmap_put(&m, ids[i], v);
					n += ref[i] == MFS_IDMAP_NONE;
					ref[i] = v;
				}
			}
			ck_assert_uint_eq(m.cap, cap);
			ck_assert_uint_eq(m.n, n);
			for (size_t i = 0; i < NIDS; i++)
				ck_assert_uint_eq(mfs_idmap_get(&m, ids[i]), ref[i]);
			ck_assert_uint_eq(mfs_idmap_get(&m, ids[NIDS - 1] +
						       strides[st]),
					  MFS_IDMAP_NONE);
		}
		/* growth keeps every entry */
		ck_assert_int_eq(mfs_idmap_reserve(&m, 4 * NIDS), 0);
		ck_assert_uint_ge(m.cap, 8 * NIDS);
		for (size_t i = 0; i < NIDS; i++)
			ck_assert_uint_eq(mfs_idmap_get(&m, ids[i]), ref[i]);
		for (size_t i = 0; i < NIDS; i++)
			mfs_idmap_del(&m, ids[i]);
		ck_assert_uint_eq(m.n, 0);
		for (size_t i = 0; i < m.cap; i++)
			ck_assert_uint_eq(m.val[i], MFS_IDMAP_NONE);
		mfs_idmap_fini(&m);
		ck_assert_uint_eq(m.cap, 0);
	}
	{
		/* build: ids[i] -> i, a later duplicate wins */
		struct mfs_idmap m = { 0 };
		const int64_t b[] = { 5, -3, 5, 1 << 30 };

		ck_assert_int_eq(mfs_idmap_build(&m, b, 4), 0);
		ck_assert_uint_eq(m.n, 3);
		ck_assert_uint_eq(mfs_idmap_get(&m, 5), 2);
		ck_assert_uint_eq(mfs_idmap_get(&m, -3), 1);
		ck_assert_uint_eq(mfs_idmap_get(&m, 1 << 30), 3);
		ck_assert_uint_eq(mfs_idmap_get(&m, 0), MFS_IDMAP_NONE);
		mfs_idmap_fini(&m);
	}
	free(ref);
	free(ids);
}
END_TEST

static Suite *flat_suite(void)
{
	Suite *s = suite_create("flat");
	TCase *tc = tcase_create("core");
	TCase *real = tcase_create("real");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_check);
	tcase_add_test(tc, test_add_remove);
	tcase_add_test(tc, test_float_metrics);
	tcase_add_test(tc, test_l2_cancellation);
	tcase_add_test(tc, test_chunks);
	tcase_add_test(tc, test_binary);
	tcase_add_test(tc, test_restore);
	tcase_add_test(tc, test_idmap);
	suite_add_tcase(s, tc);
	tcase_set_timeout(real, 300);
	/* the whole data sets: left out under valgrind (make check-valgrind) */
	tcase_set_tags(real, "data");
	tcase_add_test(real, test_synth_l2);
	tcase_add_test(real, test_synth_cosine);
	tcase_add_test(real, test_synth_ip);
	tcase_add_test(real, test_photosift128_l2);
	tcase_add_test(real, test_glove100_cosine);
	tcase_add_test(real, test_glove100_ip);
	suite_add_tcase(s, real);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(flat_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
