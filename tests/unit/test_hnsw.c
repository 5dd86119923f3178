/* test_hnsw.c - unit tests of the HNSW index: recall against exact ground
 * truth, persistence, inserts, deletes, parameters and concurrent
 * searches.  Each test that reads a data set runs twice (a Check loop
 * test): pass 0 on a synthetic set (synth.h, ground truth by brute force
 * in double here), pass 1 on the real set when it is there (else it says
 * that it did not run). */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/kv.h"
#include "base/pool.h"
#include "index/hnsw.h"
#include "index/index.h"
#include "synth.h"

/* ---- data ---- */

struct set {
	const char *name;
	float *base, *query;
	size_t nb, nq, dim;
	int32_t *gt;                    /* nq x gk base positions */
	size_t gk;
};

/* The set of pass (0: synthetic, 1: real) like kind: at most nb base
 * vectors (SYNTH_PS: photosift128, 10,000 x 128, L2 ground truth; SYNTH_GL:
 * the first 10,000 of glove100, dim 100, COSINE ground truth), the queries
 * (synthetic: 300) and the ground truth (synthetic: the 100 best of the
 * loaded base vectors).  Returns 0, having said so, when pass 1 finds no
 * real set. */
static int load_set(struct set *s, int pass, enum synth_kind kind, size_t nb)
{
	size_t d2;

	memset(s, 0, sizeof(*s));
	if (nb > 10000)
		nb = 10000;
	if (pass == 0) {
		s->name = kind == SYNTH_PS ? "synthetic ps" : "synthetic gl";
		s->base = synth_rows(kind, 0, 0, nb, &s->dim);
		s->query = synth_rows(kind, 1, 0, 300, &s->dim);
		s->nb = nb;
		s->nq = 300;
		s->gk = 100;
		s->gt = malloc(s->nq * s->gk * sizeof(int32_t));
		ck_assert_ptr_nonnull(s->gt);
		synth_truth(s->base, s->nb, s->query, s->nq, s->dim,
			    kind == SYNTH_PS ? SYNTH_L2 : SYNTH_COSINE, s->gk,
			    s->gt, NULL);
		return 1;
	}
	if (kind == SYNTH_PS) {
		s->name = "photosift128";
		if (!synth_real_present(s->name, "photosift128/photosift128_base.fvecs",
					"photosift128/photosift128_query.fvecs",
					"photosift128/photosift128_groundtruth.ivecs",
					(char *)NULL))
			return 0;
		s->base = synth_read_vecs("photosift128/photosift128_base.fvecs",
					  nb, &s->nb, &s->dim);
		s->query = synth_read_vecs("photosift128/photosift128_query.fvecs",
					   SIZE_MAX, &s->nq, &d2);
		ck_assert_uint_eq(d2, s->dim);
		s->gt = synth_read_vecs("photosift128/photosift128_groundtruth.ivecs",
					SIZE_MAX, &d2, &s->gk);
	} else {
		s->name = "glove100";
		if (!synth_real_present(s->name, "glove100/glove100_base.fvecs",
					"glove100/glove100_query.fvecs",
					"glove100/glove100_groundtruth_first10k.ivecs",
					(char *)NULL))
			return 0;
		s->base = synth_read_vecs("glove100/glove100_base.fvecs", nb,
					  &s->nb, &s->dim);
		s->query = synth_read_vecs("glove100/glove100_query.fvecs",
					   SIZE_MAX, &s->nq, &d2);
		ck_assert_uint_eq(d2, s->dim);
		s->gt = synth_read_vecs("glove100/glove100_groundtruth_first10k.ivecs",
					SIZE_MAX, &d2, &s->gk);
	}
	ck_assert_uint_eq(d2, s->nq);
	return 1;
}

static void free_set(struct set *s)
{
	free(s->base);
	free(s->query);
	free(s->gt);
}

static int64_t *seq_ids(size_t n)
{
	int64_t *ids = malloc(n * sizeof(*ids));

	for (size_t i = 0; i < n; i++)
		ids[i] = (int64_t)i + 1;        /* id = position + 1 */
	return ids;
}

struct hits {
	struct idx_hits h;
	size_t nq;
};

static void hits_init(struct hits *r, size_t nq, size_t k)
{
	r->nq = nq;
	r->h.k = k;
	r->h.count = calloc(nq, sizeof(size_t));
	r->h.score = calloc(nq * k, sizeof(float));
	r->h.id = calloc(nq * k, sizeof(int64_t));
}

static void hits_fini(struct hits *r)
{
	free(r->h.count);
	free(r->h.score);
	free(r->h.id);
}

static void search_all(const struct idx *ix, const struct set *s, size_t k,
		       const char *ef, struct hits *r)
{
	struct mfs_kv sp;
	struct mfs_err err;

	mfs_kv_init(&sp);
	if (ef)
		ck_assert_int_eq(mfs_kv_set(&sp, "ef", ef, NULL), 0);
	hits_init(r, s->nq, k);
	ck_assert_int_eq(idx_search(ix, s->query, s->nq, &sp, &r->h, &err), 0);
}

/* recall@k of r against the ground truth, skipping ground-truth rows that
 * dead[] marks (deleted entities). */
static double recall(const struct set *s, const struct hits *r,
		     const uint8_t *dead)
{
	size_t k = r->h.k, found = 0;

	for (size_t q = 0; q < r->nq; q++) {
		int64_t want[64];
		size_t nw = 0;

		for (size_t j = 0; j < s->gk && nw < k; j++) {
			int32_t p = s->gt[q * s->gk + j];
			if (!dead || !dead[p])
				want[nw++] = p + 1;
		}
		for (size_t j = 0; j < r->h.count[q]; j++)
			for (size_t t = 0; t < nw; t++)
				if (r->h.id[q * k + j] == want[t]) {
					found++;
					break;
				}
	}
	return (double)found / (double)(r->nq * k);
}

static struct mfs_pool *pool2(void)
{
	struct mfs_pool *p;

	ck_assert_int_eq(mfs_pool_new(2, &p), 0);
	return p;
}

struct prog {
	double last;
	int calls, bad;
};

static void on_progress(void *arg, double pct)
{
	struct prog *p = arg;

	if (pct < p->last || pct < 0 || pct > 100)
		p->bad++;
	p->last = pct;
	p->calls++;
}

static struct idx *build(const struct set *s, struct idx_info *info,
			 const int64_t *ids, size_t n, const char *M)
{
	struct mfs_kv params, canon;
	struct mfs_err err;
	struct idx *ix = NULL;
	struct prog pr = { 0 };
	struct idx_progress progress = { on_progress, &pr };

	mfs_kv_init(&params);
	if (M)
		mfs_kv_set(&params, "M", M, NULL);
	ck_assert_int_eq(idx_hnsw_type.check(info, &params, &canon, &err), 0);
	ck_assert_int_eq(idx_hnsw_type.build(info, &canon, ids, s->base, n,
					     &progress, &ix, &err), 0);
	ck_assert_int_eq(pr.bad, 0);
	ck_assert(pr.calls >= 2);
	ck_assert(pr.last == 100.0);
	ck_assert_uint_eq(idx_hnsw_type.count(ix), n);
	return ix;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- tests ---- */

START_TEST(test_params)
{
	struct idx_info info = { VEC_FLOAT, VEC_L2, 16, NULL };
	struct mfs_kv p, canon;
	struct mfs_err err;

	mfs_kv_init(&p);
	mfs_kv_set(&p, "index_type", "HNSW", NULL);
	mfs_kv_set(&p, "metric_type", "L2", NULL);
	ck_assert_int_eq(idx_hnsw_type.check(&info, &p, &canon, &err), 0);
	ck_assert_str_eq(canon.item[0].key, "index_type");
	ck_assert_str_eq(canon.item[0].val, "HNSW");
	ck_assert_str_eq(mfs_kv_get(&canon, "M"), "16");
	ck_assert_str_eq(mfs_kv_get(&canon, "efConstruction"), "200");
	ck_assert_ptr_null(mfs_kv_get(&canon, "metric_type"));

	mfs_kv_set(&p, "M", "1", NULL);
	ck_assert_int_eq(idx_hnsw_type.check(&info, &p, &canon, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "Out of range in json: param 'M' (1) should be in range [2, 2048]");
	mfs_kv_set(&p, "M", "2049", NULL);
	ck_assert_int_eq(idx_hnsw_type.check(&info, &p, &canon, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "(2049)"));
	mfs_kv_set(&p, "M", "x", NULL);
	ck_assert_int_eq(idx_hnsw_type.check(&info, &p, &canon, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "should be integer"));
	mfs_kv_set(&p, "M", "2048", NULL);
	mfs_kv_set(&p, "efConstruction", "0", NULL);
	ck_assert_int_eq(idx_hnsw_type.check(&info, &p, &canon, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "efConstruction"));
	mfs_kv_set(&p, "efConstruction", "2147483647", NULL);
	ck_assert_int_eq(idx_hnsw_type.check(&info, &p, &canon, &err), 0);
	ck_assert_str_eq(mfs_kv_get(&canon, "M"), "2048");
	mfs_kv_set(&p, "nlist", "5", NULL);
	ck_assert_int_eq(idx_hnsw_type.check(&info, &p, &canon, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "'nlist'"));

	mfs_kv_init(&p);
	info.metric = VEC_HAMMING;
	ck_assert_int_eq(idx_hnsw_type.check(&info, &p, &canon, &err), -EINVAL);
	info.metric = VEC_L2;
	info.vtype = VEC_BINARY;
	ck_assert_int_eq(idx_hnsw_type.check(&info, &p, &canon, &err), -EINVAL);
}
END_TEST

START_TEST(test_search_params)
{
	struct set s = { 0 };
	struct idx_info info = { VEC_FLOAT, VEC_L2, 0, NULL };
	struct mfs_kv sp;
	struct mfs_err err;
	struct idx *ix;
	int64_t *ids;
	struct hits r;

	if (!load_set(&s, _i, SYNTH_PS, 500)) {
		return;
	}
	info.dim = (uint32_t)s.dim;
	ids = seq_ids(s.nb);
	ix = build(&s, &info, ids, s.nb, NULL);
	mfs_kv_init(&sp);
	ck_assert_int_eq(idx_hnsw_type.check_search(ix, &sp, 10, &err), 0);
	mfs_kv_set(&sp, "ef", "5", NULL);
	ck_assert_int_eq(idx_hnsw_type.check_search(ix, &sp, 10, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "ef(5) should be larger than k(10)");
	mfs_kv_set(&sp, "ef", "10", NULL);
	ck_assert_int_eq(idx_hnsw_type.check_search(ix, &sp, 10, &err), 0);
	mfs_kv_set(&sp, "ef", "0", NULL);
	ck_assert_int_eq(idx_hnsw_type.check_search(ix, &sp, 1, &err), -EINVAL);
	mfs_kv_set(&sp, "ef", "abc", NULL);
	ck_assert_int_eq(idx_hnsw_type.check_search(ix, &sp, 1, &err), -EINVAL);
	/* k above the entity count: every entity, once, best first */
	hits_init(&r, 1, 600);
	mfs_kv_init(&sp);
	ck_assert_int_eq(idx_search(ix, s.query, 1, &sp, &r.h, &err), 0);
	ck_assert_uint_eq(r.h.count[0], 500);
	for (size_t j = 1; j < 500; j++)
		ck_assert(r.h.score[j - 1] <= r.h.score[j]);
	hits_fini(&r);
	idx_free(ix);
	free(ids);
	free_set(&s);
}
END_TEST

START_TEST(test_recall_photosift)
{
	struct set s = { 0 };
	struct idx_info info = { VEC_FLOAT, VEC_L2, 0, NULL };
	struct mfs_pool *pool = pool2();
	struct idx *ix;
	int64_t *ids;
	struct hits r;
	double rc, t0 = now();
	size_t raw;

	if (!load_set(&s, _i, SYNTH_PS, SIZE_MAX)) {
		mfs_pool_free(pool);
		return;
	}
	info.dim = (uint32_t)s.dim;
	info.pool = pool;
	ids = seq_ids(s.nb);
	ix = build(&s, &info, ids, s.nb, NULL);
	fprintf(stderr, "%s: build %.2fs\n", s.name, now() - t0);
	search_all(ix, &s, 10, NULL, &r);       /* default ef */
	rc = recall(&s, &r, NULL);
	fprintf(stderr, "%s L2 recall@10 (default ef) = %.4f\n", s.name, rc);
	ck_assert(rc >= 0.95);
	for (size_t q = 0; q < r.nq; q++)
		ck_assert_uint_eq(r.h.count[q], 10);
	hits_fini(&r);
	/* memory: vectors plus graph, no more than the estimate's ballpark */
	raw = s.nb * s.dim * 4;
	ck_assert(idx_hnsw_type.memory_bytes(ix) > raw);
	ck_assert(idx_hnsw_type.memory_bytes(ix) <
		  idx_hnsw_type.estimate_bytes(&info, NULL, s.nb) * 5 / 4);
	idx_free(ix);
	free(ids);
	free_set(&s);
	mfs_pool_free(pool);
}
END_TEST

START_TEST(test_recall_glove_cosine)
{
	struct set s = { 0 };
	struct idx_info info = { VEC_FLOAT, VEC_COSINE, 0, NULL };
	struct mfs_pool *pool = pool2();
	struct idx *ix;
	int64_t *ids;
	struct hits r;
	double rc;

	if (!load_set(&s, _i, SYNTH_GL, 10000)) {
		mfs_pool_free(pool);
		return;
	}
	info.dim = (uint32_t)s.dim;
	info.pool = pool;
	ids = seq_ids(s.nb);
	ix = build(&s, &info, ids, s.nb, NULL);
	search_all(ix, &s, 10, NULL, &r);
	rc = recall(&s, &r, NULL);
	fprintf(stderr, "%s first 10k COSINE recall@10 (default ef) = %.4f\n",
		s.name, rc);
	ck_assert(rc >= 0.95);
	/* scores are -cosine: in [-1, 1], ascending */
	for (size_t j = 0; j < 10; j++) {
		ck_assert(r.h.score[j] >= -1.0001f && r.h.score[j] <= 1.0001f);
		if (j)
			ck_assert(r.h.score[j - 1] <= r.h.score[j]);
	}
	hits_fini(&r);
	idx_free(ix);
	free(ids);
	free_set(&s);
	mfs_pool_free(pool);
}
END_TEST

/* save, restore with the same entities: identical answers, no rebuild */
START_TEST(test_save_restore)
{
	struct set s = { 0 };
	struct idx_info info = { VEC_FLOAT, VEC_L2, 0, NULL };
	struct mfs_pool *pool = pool2();
	struct mfs_kv canon;
	struct mfs_err err;
	struct mfs_buf blob;
	struct idx *ix, *ix2 = NULL;
	int64_t *ids;
	struct hits a, b;
	double t0, dt;

	if (!load_set(&s, _i, SYNTH_PS, SIZE_MAX)) {
		mfs_pool_free(pool);
		return;
	}
	info.dim = (uint32_t)s.dim;
	info.pool = pool;
	ids = seq_ids(s.nb);
	ix = build(&s, &info, ids, s.nb, NULL);
	idx_hnsw_type.remove(ix, ids, 1);       /* a tombstone travels too */
	mfs_buf_init(&blob, SIZE_MAX);
	ck_assert_int_eq(idx_hnsw_type.save(ix, &blob), 0);
	mfs_kv_init(&canon);
	idx_hnsw_type.check(&info, &canon, &canon, NULL);
	t0 = now();
	ck_assert_int_eq(idx_hnsw_type.restore(&info, &canon, blob.data, blob.len,
					       ids + 1, s.base + s.dim, s.nb - 1,
					       &ix2, &err), 0);
	dt = now() - t0;
	fprintf(stderr, "%s: restore of %zu vectors: %.4fs\n", s.name, s.nb, dt);
	/* no time bound: the byte-equal save below proves no rebuild */
	ck_assert_uint_eq(idx_hnsw_type.count(ix2), s.nb - 1);
	search_all(ix, &s, 10, "64", &a);
	search_all(ix2, &s, 10, "64", &b);
	for (size_t q = 0; q < a.nq; q++) {
		ck_assert_uint_eq(a.h.count[q], b.h.count[q]);
		for (size_t j = 0; j < a.h.count[q]; j++) {
			ck_assert_int_eq(a.h.id[q * 10 + j], b.h.id[q * 10 + j]);
			ck_assert(a.h.score[q * 10 + j] == b.h.score[q * 10 + j]);
		}
	}
	hits_fini(&a);
	hits_fini(&b);
	/* and saving it again gives the same bytes */
	{
		struct mfs_buf b2;

		mfs_buf_init(&b2, SIZE_MAX);
		ck_assert_int_eq(idx_hnsw_type.save(ix2, &b2), 0);
		ck_assert_uint_eq(b2.len, blob.len);
		ck_assert(memcmp(b2.data, blob.data, blob.len) == 0);
		mfs_buf_fini(&b2);
	}
	idx_free(ix2);
	/* a corrupt or foreign blob is refused with EINVAL */
	ix2 = NULL;
	blob.data[0] ^= 1;
	ck_assert_int_eq(idx_hnsw_type.restore(&info, &canon, blob.data, blob.len,
					       ids, s.base, s.nb, &ix2, &err), -EINVAL);
	blob.data[0] ^= 1;
	ck_assert_int_eq(idx_hnsw_type.restore(&info, &canon, blob.data,
					       blob.len - 4, ids, s.base, s.nb,
					       &ix2, &err), -EINVAL);
	ck_assert_int_eq(idx_hnsw_type.restore(&info, &canon, NULL, 0, ids,
					       s.base, s.nb, &ix2, &err), -EINVAL);
	ck_assert_ptr_null(ix2);
	mfs_buf_fini(&blob);
	idx_free(ix);
	free(ids);
	free_set(&s);
	mfs_pool_free(pool);
}
END_TEST

/* a stale blob: entities deleted and inserted after the save */
START_TEST(test_restore_stale)
{
	struct set s = { 0 };
	struct idx_info info = { VEC_FLOAT, VEC_L2, 0, NULL };
	struct mfs_pool *pool = pool2();
	struct mfs_kv canon;
	struct mfs_err err;
	struct mfs_buf blob;
	struct idx *ix, *ix2 = NULL;
	int64_t *ids, *cur_ids;
	float *cur_vecs;
	uint8_t *dead;
	size_t ncur = 0;
	struct hits r;
	double rc;

	if (!load_set(&s, _i, SYNTH_PS, SIZE_MAX)) {
		mfs_pool_free(pool);
		return;
	}
	info.dim = (uint32_t)s.dim;
	info.pool = pool;
	ids = seq_ids(s.nb);
	/* the blob knows the first 8,000 entities */
	ix = build(&s, &info, ids, 8000, NULL);
	mfs_buf_init(&blob, SIZE_MAX);
	ck_assert_int_eq(idx_hnsw_type.save(ix, &blob), 0);
	idx_free(ix);
	/* now: every 10th of those deleted, the last 2,000 inserted */
	dead = calloc(s.nb, 1);
	cur_ids = malloc(s.nb * sizeof(*cur_ids));
	cur_vecs = malloc(s.nb * s.dim * sizeof(float));
	for (size_t i = 0; i < s.nb; i++) {
		if (i < 8000 && i % 10 == 3) {
			dead[i] = 1;
			continue;
		}
		cur_ids[ncur] = ids[i];
		memcpy(cur_vecs + ncur * s.dim, s.base + i * s.dim,
		       s.dim * sizeof(float));
		ncur++;
	}
	mfs_kv_init(&canon);
	idx_hnsw_type.check(&info, &canon, &canon, NULL);
	ck_assert_int_eq(idx_hnsw_type.restore(&info, &canon, blob.data, blob.len,
					       cur_ids, cur_vecs, ncur, &ix2,
					       &err), 0);
	ck_assert_uint_eq(idx_hnsw_type.count(ix2), ncur);
	search_all(ix2, &s, 10, NULL, &r);
	for (size_t q = 0; q < r.nq; q++) {
		ck_assert_uint_eq(r.h.count[q], 10);
		for (size_t j = 0; j < 10; j++)
			ck_assert(!dead[r.h.id[q * 10 + j] - 1]);
	}
	rc = recall(&s, &r, dead);
	fprintf(stderr, "%s: stale restore recall@10 = %.4f\n", s.name, rc);
	ck_assert(rc >= 0.95);
	hits_fini(&r);
	mfs_buf_fini(&blob);
	idx_free(ix2);
	free(dead);
	free(cur_ids);
	free(cur_vecs);
	free(ids);
	free_set(&s);
	mfs_pool_free(pool);
}
END_TEST

START_TEST(test_insert_after_build)
{
	struct set s = { 0 };
	struct idx_info info = { VEC_FLOAT, VEC_L2, 0, NULL };
	struct mfs_pool *pool = pool2();
	struct mfs_err err;
	struct idx *ix;
	int64_t *ids;
	struct hits r;
	size_t self = 0;
	double rc;

	if (!load_set(&s, _i, SYNTH_PS, SIZE_MAX)) {
		mfs_pool_free(pool);
		return;
	}
	info.dim = (uint32_t)s.dim;
	info.pool = pool;
	ids = seq_ids(s.nb);
	ix = build(&s, &info, ids, 5000, NULL);
	/* in batches of various sizes, as writes arrive */
	for (size_t i = 5000, step = 1; i < s.nb; i += step, step = step * 3 + 1) {
		size_t n = i + step > s.nb ? s.nb - i : step;
		ck_assert_int_eq(idx_hnsw_type.add(ix, ids + i, s.base + i * s.dim,
						   n, &err), 0);
	}
	ck_assert_uint_eq(idx_hnsw_type.count(ix), s.nb);
	/* every inserted vector finds itself */
	hits_init(&r, s.nb - 5000, 1);
	ck_assert_int_eq(idx_search(ix, s.base + 5000 * s.dim, s.nb - 5000, NULL,
				    &r.h, &err), 0);
	for (size_t i = 0; i < r.nq; i++)
		self += r.h.count[i] == 1 && r.h.id[i] == ids[5000 + i];
	fprintf(stderr, "%s: inserted found themselves: %zu of %zu\n", s.name,
		self, r.nq);
	ck_assert(self >= r.nq * 99 / 100);
	hits_fini(&r);
	search_all(ix, &s, 10, NULL, &r);
	rc = recall(&s, &r, NULL);
	fprintf(stderr, "%s: recall@10 after inserts = %.4f\n", s.name, rc);
	ck_assert(rc >= 0.95);
	hits_fini(&r);
	idx_free(ix);
	free(ids);
	free_set(&s);
	mfs_pool_free(pool);
}
END_TEST

START_TEST(test_delete)
{
	struct set s = { 0 };
	struct idx_info info = { VEC_FLOAT, VEC_L2, 0, NULL };
	struct mfs_pool *pool = pool2();
	struct idx *ix;
	int64_t *ids, gone[2] = { -5, 123456789 };
	uint8_t *dead;
	struct hits r;
	double rc;

	if (!load_set(&s, _i, SYNTH_PS, SIZE_MAX)) {
		mfs_pool_free(pool);
		return;
	}
	info.dim = (uint32_t)s.dim;
	info.pool = pool;
	ids = seq_ids(s.nb);
	ix = build(&s, &info, ids, s.nb, NULL);
	dead = calloc(s.nb, 1);
	/* delete 10%, among them the ground truth's favourites */
	for (size_t q = 0; q < 300; q++)
		dead[s.gt[q * s.gk]] = 1;
	for (size_t i = 0, n = 0; i < s.nb; i++)
		n += dead[i];
	for (size_t i = 0; i < s.nb; i += 17)
		dead[i] = 1;
	for (size_t i = 0; i < s.nb; i++)
		if (dead[i]) {
			idx_hnsw_type.remove(ix, &ids[i], 1);
			idx_hnsw_type.remove(ix, &ids[i], 1);   /* twice: no-op */
		}
	idx_hnsw_type.remove(ix, gone, 2);              /* unknown ids */
	{
		size_t nd = 0;
		for (size_t i = 0; i < s.nb; i++)
			nd += dead[i];
		ck_assert_uint_eq(idx_hnsw_type.count(ix), s.nb - nd);
	}
	search_all(ix, &s, 10, NULL, &r);
	for (size_t q = 0; q < r.nq; q++) {
		ck_assert_uint_eq(r.h.count[q], 10);
		for (size_t j = 0; j < 10; j++)
			ck_assert(!dead[r.h.id[q * 10 + j] - 1]);
	}
	rc = recall(&s, &r, dead);
	fprintf(stderr, "%s: recall@10 after deleting ~10%% = %.4f\n", s.name, rc);
	ck_assert(rc >= 0.9);
	hits_fini(&r);
	idx_free(ix);
	free(dead);
	free(ids);
	free_set(&s);
	mfs_pool_free(pool);
}
END_TEST

/* deleting nearly everything still answers with what is left */
START_TEST(test_delete_most)
{
	struct set s = { 0 };
	struct idx_info info = { VEC_FLOAT, VEC_IP, 0, NULL };
	struct idx *ix;
	int64_t *ids;
	struct hits r;

	if (!load_set(&s, _i, SYNTH_PS, 2000)) {
		return;
	}
	info.dim = (uint32_t)s.dim;
	ids = seq_ids(s.nb);
	ix = build(&s, &info, ids, s.nb, NULL);
	idx_hnsw_type.remove(ix, ids, s.nb - 5);
	ck_assert_uint_eq(idx_hnsw_type.count(ix), 5);
	search_all(ix, &s, 10, "10", &r);
	for (size_t q = 0; q < r.nq; q++) {
		ck_assert_uint_eq(r.h.count[q], 5);
		for (size_t j = 0; j < 5; j++)
			ck_assert(r.h.id[q * 10 + j] > (int64_t)s.nb - 5);
	}
	hits_fini(&r);
	idx_hnsw_type.remove(ix, ids + s.nb - 5, 5);
	search_all(ix, &s, 10, NULL, &r);
	ck_assert_uint_eq(r.h.count[0], 0);
	hits_fini(&r);
	idx_free(ix);
	free(ids);
	free_set(&s);
}
END_TEST

/* the same on a small set, cheap enough for valgrind and TSan: parallel
 * insertion, a stale blob with drops (repair) and additions */
START_TEST(test_restore_small)
{
	struct set s = { 0 };
	struct idx_info info = { VEC_FLOAT, VEC_COSINE, 0, NULL };
	struct mfs_pool *pool = pool2();
	struct mfs_kv canon;
	struct mfs_err err;
	struct mfs_buf blob;
	struct idx *ix, *ix2 = NULL;
	int64_t *ids, *cur_ids;
	float *cur_vecs;
	size_t ncur = 0, self = 0;
	struct hits r;
	char *odd;

	if (!load_set(&s, _i, SYNTH_GL, 2000)) {
		mfs_pool_free(pool);
		return;
	}
	info.dim = (uint32_t)s.dim;
	info.pool = pool;
	ids = seq_ids(s.nb);
	ix = build(&s, &info, ids, 1500, "8");
	idx_hnsw_type.remove(ix, ids + 1, 1);           /* saved tombstone */
	mfs_buf_init(&blob, SIZE_MAX);
	ck_assert_int_eq(idx_hnsw_type.save(ix, &blob), 0);
	idx_free(ix);
	cur_ids = malloc(s.nb * sizeof(*cur_ids));
	cur_vecs = malloc(s.nb * s.dim * sizeof(float));
	for (size_t i = 0; i < s.nb; i++) {
		if (i == 1 || (i < 1500 && i % 7 == 0))
			continue;               /* deleted (id 2 before the save) */
		cur_ids[ncur] = ids[i];
		memcpy(cur_vecs + ncur * s.dim, s.base + i * s.dim,
		       s.dim * sizeof(float));
		ncur++;
	}
	mfs_kv_init(&canon);
	mfs_kv_set(&canon, "M", "8", NULL);
	/* an LMDB value need not be aligned: hand the blob in at an odd
	 * address */
	odd = malloc(blob.len + 1);
	memcpy(odd + 1, blob.data, blob.len);
	ck_assert_int_eq(idx_hnsw_type.restore(&info, &canon, odd + 1, blob.len,
					       cur_ids, cur_vecs, ncur, &ix2,
					       &err), 0);
	free(odd);
	ck_assert_uint_eq(idx_hnsw_type.count(ix2), ncur);
	/* every entity finds itself first; no deleted one ever comes back */
	hits_init(&r, ncur, 5);
	ck_assert_int_eq(idx_search(ix2, cur_vecs, ncur, NULL, &r.h, &err), 0);
	for (size_t i = 0; i < ncur; i++) {
		ck_assert_uint_eq(r.h.count[i], 5);
		self += r.h.id[i * 5] == cur_ids[i];
		for (size_t j = 0; j < 5; j++) {
			int64_t id = r.h.id[i * 5 + j];
			ck_assert(id != 2 && !(id <= 1500 && (id - 1) % 7 == 0));
		}
	}
	ck_assert(self >= ncur * 98 / 100);
	hits_fini(&r);
	mfs_buf_fini(&blob);
	idx_free(ix2);
	free(cur_ids);
	free(cur_vecs);
	free(ids);
	free_set(&s);
	mfs_pool_free(pool);
}
END_TEST

START_TEST(test_empty)
{
	struct idx_info info = { VEC_FLOAT, VEC_L2, 4, NULL };
	struct mfs_kv canon;
	struct mfs_err err;
	struct mfs_buf blob;
	struct idx *ix = NULL, *ix2 = NULL;
	float q[4] = { 1, 2, 3, 4 };
	int64_t id = 9;
	struct hits r;

	mfs_kv_init(&canon);
	idx_hnsw_type.check(&info, &canon, &canon, NULL);
	ck_assert_int_eq(idx_hnsw_type.build(&info, &canon, NULL, NULL, 0, NULL,
					     &ix, &err), 0);
	hits_init(&r, 1, 3);
	ck_assert_int_eq(idx_search(ix, q, 1, NULL, &r.h, &err), 0);
	ck_assert_uint_eq(r.h.count[0], 0);
	mfs_buf_init(&blob, SIZE_MAX);
	ck_assert_int_eq(idx_hnsw_type.save(ix, &blob), 0);
	ck_assert_int_eq(idx_hnsw_type.restore(&info, &canon, blob.data, blob.len,
					       &id, q, 1, &ix2, &err), 0);
	ck_assert_int_eq(idx_hnsw_type.add(ix, &id, q, 1, &err), 0);
	ck_assert_int_eq(idx_search(ix, q, 1, NULL, &r.h, &err), 0);
	ck_assert_uint_eq(r.h.count[0], 1);
	ck_assert_int_eq(r.h.id[0], 9);
	ck_assert_int_eq(idx_search(ix2, q, 1, NULL, &r.h, &err), 0);
	ck_assert_uint_eq(r.h.count[0], 1);
	ck_assert_int_eq(r.h.id[0], 9);
	ck_assert(r.h.score[0] == 0);
	hits_fini(&r);
	mfs_buf_fini(&blob);
	idx_free(ix);
	idx_free(ix2);
}
END_TEST

struct conc {
	const struct idx *ix;
	const struct set *s;
	const struct hits *want;
	size_t from, mismatches;
};

static void *conc_thread(void *arg)
{
	struct conc *c = arg;
	struct mfs_kv sp;

	mfs_kv_init(&sp);
	mfs_kv_set(&sp, "ef", "64", NULL);
	for (size_t t = 0; t < c->s->nq; t++) {
		size_t q = (c->from + t) % c->s->nq;
		float score[10];
		int64_t id[10];
		size_t count;
		struct idx_hits h = { 10, &count, score, id };

		if (idx_search(c->ix, c->s->query + q * c->s->dim, 1, &sp, &h,
			       NULL) < 0 || count != c->want->h.count[q] ||
		    memcmp(id, c->want->h.id + q * 10, count * sizeof(*id)))
			c->mismatches++;
	}
	return NULL;
}

/* single searches from four threads, and a batch, give the same answers */
START_TEST(test_concurrent)
{
	struct set s = { 0 };
	struct idx_info info = { VEC_FLOAT, VEC_L2, 0, NULL };
	struct mfs_pool *pool = pool2();
	struct idx *ix;
	int64_t *ids;
	struct hits r;
	pthread_t th[4];
	struct conc c[4];

	if (!load_set(&s, _i, SYNTH_PS, SIZE_MAX)) {
		mfs_pool_free(pool);
		return;
	}
	info.dim = (uint32_t)s.dim;
	info.pool = pool;
	ids = seq_ids(s.nb);
	ix = build(&s, &info, ids, s.nb, NULL);
	search_all(ix, &s, 10, "64", &r);
	for (int i = 0; i < 4; i++) {
		c[i] = (struct conc){ ix, &s, &r, (size_t)i * 250, 0 };
		ck_assert_int_eq(pthread_create(&th[i], NULL, conc_thread, &c[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ck_assert_uint_eq(c[i].mismatches, 0);
	}
	hits_fini(&r);
	idx_free(ix);
	free(ids);
	free_set(&s);
	mfs_pool_free(pool);
}
END_TEST

static Suite *hnsw_suite(void)
{
	Suite *s = suite_create("hnsw");
	TCase *small = tcase_create("small");
	TCase *tc = tcase_create("data");

	/* builds over the data sets: left out under valgrind (make
	 * check-valgrind runs CK_EXCLUDE_TAGS=data) */
	tcase_set_tags(tc, "data");

	tcase_set_timeout(small, 600);
	tcase_add_test(small, test_params);
	tcase_add_loop_test(small, test_search_params, 0, 2);
	tcase_add_test(small, test_empty);
	tcase_add_loop_test(small, test_restore_small, 0, 2);
	tcase_add_loop_test(small, test_delete_most, 0, 2);
	suite_add_tcase(s, small);
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_recall_photosift, 0, 2);
	tcase_add_loop_test(tc, test_recall_glove_cosine, 0, 2);
	tcase_add_loop_test(tc, test_save_restore, 0, 2);
	tcase_add_loop_test(tc, test_restore_stale, 0, 2);
	tcase_add_loop_test(tc, test_insert_after_build, 0, 2);
	tcase_add_loop_test(tc, test_delete, 0, 2);
	tcase_add_loop_test(tc, test_concurrent, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(hnsw_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
