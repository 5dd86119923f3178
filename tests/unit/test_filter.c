/* test_filter.c - unit tests of the allow-list paths of every index type
 * (index.h search_filtered, struct idx_allow): on synthetic data, each
 * answer holds min(k, allowed) hits, only allowed ones and never removed
 * ones; FLAT and the exact strategy equal a scalar brute force; HNSW and
 * IVF_FLAT walks find the allowed neighbours; score windows hold; the
 * bitmap and the set forms of an allow-list agree. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/kv.h"
#include "base/pool.h"
#include "index/index.h"

#define N 3000
#define DIM 16
#define BDIM 64
#define NQ 8
#define K 10

static uint64_t rng = 88172645463325252ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static float unif(void)
{
	return (float)((next() >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

/* Scalar reference score (smaller is better), as vec.h defines them. */
static double ref_score(enum vec_metric m, const void *a, const void *b,
			size_t dim)
{
	if (m == VEC_HAMMING || m == VEC_JACCARD) {
		const uint8_t *x = a, *y = b;
		unsigned inter = 0, uni = 0, ham = 0;

		for (size_t i = 0; i < dim / 8; i++) {
			inter += __builtin_popcount(x[i] & y[i]);
			uni += __builtin_popcount(x[i] | y[i]);
			ham += __builtin_popcount(x[i] ^ y[i]);
		}
		if (m == VEC_HAMMING)
			return ham;
		return uni ? 1.0 - (double)inter / uni : 0;
	}
	const float *x = a, *y = b;
	double s = 0, nx = 0, ny = 0;

	for (size_t i = 0; i < dim; i++) {
		if (m == VEC_L2)
			s += ((double)x[i] - y[i]) * ((double)x[i] - y[i]);
		else
			s -= (double)x[i] * y[i];
		nx += (double)x[i] * x[i];
		ny += (double)y[i] * y[i];
	}
	if (m == VEC_COSINE)
		s /= sqrt(nx) * sqrt(ny);
	return s;
}

struct fx {
	const struct idx_type *t;
	enum vec_metric m;
	int binary;
	const char *params;             /* "k=v k=v" */
	double recall_min;              /* <0: exact */
};

static struct idx *build(const struct fx *f, struct mfs_pool *pool,
			 int64_t *ids, void *vecs)
{
	struct idx_info info = {
		.vtype = f->binary ? VEC_BINARY : VEC_FLOAT, .metric = f->m,
		.dim = f->binary ? BDIM : DIM, .pool = pool,
	};
	struct mfs_kv p, canon;
	struct mfs_err err;
	struct idx *ix = NULL;
	char buf[256], *save = NULL;

	mfs_kv_init(&p);
	mfs_kv_init(&canon);
	mfs_kv_set(&p, "index_type", f->t->name, NULL);
	snprintf(buf, sizeof(buf), "%s", f->params);
	for (char *tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');

		*eq = '\0';
		mfs_kv_set(&p, tok, eq + 1, NULL);
	}
	ck_assert_int_eq(f->t->check(&info, &p, &canon, &err), 0);
	ck_assert_int_eq(f->t->build(&info, &canon, ids, vecs, N, NULL, &ix,
				     &err), 0);
	return ix;
}

static void run_fixture(const struct fx *f)
{
	struct mfs_pool *pool = NULL;
	size_t vb = f->binary ? BDIM / 8 : DIM * sizeof(float);
	int64_t *ids = malloc(N * sizeof(*ids)), *allowed = malloc(N * 8);
	unsigned char *vecs = malloc(N * vb), *q = malloc(NQ * vb);
	struct idx_hits h;
	struct idx *ix;
	double rec = 0;
	size_t nrec = 0;

	ck_assert_int_eq(mfs_pool_new(2, &pool), 0);
	for (size_t i = 0; i < N; i++)
		ids[i] = (int64_t)i * 3 + 5;    /* not positions */
	if (f->binary) {
		for (size_t i = 0; i < N * vb; i++)
			vecs[i] = (unsigned char)next();
		for (size_t i = 0; i < NQ * vb; i++)
			q[i] = (unsigned char)next();
	} else {
		for (size_t i = 0; i < N * DIM; i++)
			((float *)vecs)[i] = unif();
		for (size_t i = 0; i < NQ * DIM; i++)
			((float *)q)[i] = unif();
	}
	ix = build(f, pool, ids, vecs);
	/* removed entities are never returned, allowed or not */
	int64_t gone[3] = { ids[1], ids[2], ids[100] };

	f->t->remove(ix, gone, 3);
	h.k = K;
	h.count = calloc(NQ, sizeof(*h.count));
	h.score = malloc(NQ * K * sizeof(*h.score));
	h.id = malloc(NQ * K * sizeof(*h.id));
	/* selectivities 50%, 5%, 0.2%, none; exact and walked */
	static const unsigned every[] = { 2, 20, 500, 100000 };
	for (size_t si = 0; si < 4; si++)
		for (int exact = 0; exact < 2; exact++) {
			struct idx_allow a;
			struct mfs_err err;
			size_t na = 0;

			for (size_t i = 0; i < N; i++)
				if (next() % every[si] == 0)
					allowed[na++] = ids[i];
			ck_assert_int_eq(idx_allow_init(&a, true, allowed,
							 na), 0);
			a.exact = exact;
			ck_assert_int_eq(f->t->search_filtered(ix, q, NQ, NULL,
							       &a, &h, &err),
					 0);
			for (size_t qi = 0; qi < NQ; qi++) {
				/* the reference: allowed, live, best K */
				double best[K];
				int64_t bid[K];
				size_t nb = 0, live = 0;

				for (size_t x = 0; x < na; x++) {
					int64_t id = allowed[x];
					size_t pos = (size_t)(id - 5) / 3;
					double s;

					if (id == gone[0] || id == gone[1] ||
					    id == gone[2])
						continue;
					live++;
					s = ref_score(f->m, q + qi * vb,
						      vecs + pos * vb,
						      f->binary ? BDIM : DIM);
					size_t j = nb < K ? nb++ : K;

					if (j == K && s >= best[K - 1])
						continue;
					if (j == K)
						j = K - 1;
					while (j > 0 && (best[j - 1] > s ||
							 (best[j - 1] == s &&
							  bid[j - 1] > id))) {
						best[j] = best[j - 1];
						bid[j] = bid[j - 1];
						j--;
					}
					best[j] = s;
					bid[j] = id;
				}
				ck_assert_uint_eq(h.count[qi],
						  live < K ? live : K);
				for (size_t j = 0; j < h.count[qi]; j++) {
					int64_t id = h.id[qi * K + j];

					ck_assert(idx_allow_id(&a, id));
					ck_assert(id != gone[0] &&
						  id != gone[1] &&
						  id != gone[2]);
				}
				size_t hit = 0;

				for (size_t j = 0; j < h.count[qi]; j++)
					for (size_t r = 0; r < nb; r++)
						hit += h.id[qi * K + j] ==
							bid[r];
				if (f->recall_min < 0 && !f->binary) {
					/* exact: the same set (order may
					 * differ only between ties) */
					ck_assert_uint_eq(hit, nb);
				}
				if (nb) {
					rec += (double)hit / nb;
					nrec++;
				}
			}
			idx_allow_fini(&a);
		}
	if (f->recall_min >= 0)
		ck_assert_msg(rec / nrec >= f->recall_min,
			      "%s: recall %.3f < %.2f", f->t->name, rec / nrec,
			      f->recall_min);
	/* a window only: every hit inside it */
	{
		struct idx_allow a;
		struct mfs_err err;
		float lo = f->binary ? 20 : (f->m == VEC_L2 ? 2.0f : -0.6f);
		float hi = f->binary ? 30 : (f->m == VEC_L2 ? 4.0f : -0.2f);

		if (f->m == VEC_JACCARD) {
			lo = 0.5f;
			hi = 0.7f;
		}
		ck_assert_int_eq(idx_allow_init(&a, false, NULL, 0), 0);
		a.lo = lo;
		a.hi = hi;
		ck_assert_int_eq(f->t->search_filtered(ix, q, NQ, NULL, &a,
						       &h, &err), 0);
		for (size_t qi = 0; qi < NQ; qi++)
			for (size_t j = 0; j < h.count[qi]; j++)
				ck_assert(h.score[qi * K + j] >= lo &&
					  h.score[qi * K + j] < hi);
		idx_allow_fini(&a);
	}
	idx_free(ix);
	mfs_pool_free(pool);
	free(h.count);
	free(h.score);
	free(h.id);
	free(ids);
	free(allowed);
	free(vecs);
	free(q);
}

static const struct fx fixtures[] = {
	{ &idx_flat_type, VEC_L2, 0, "", -1 },
	{ &idx_flat_type, VEC_IP, 0, "", -1 },
	{ &idx_flat_type, VEC_COSINE, 0, "", -1 },
	{ &idx_hnsw_type, VEC_L2, 0, "M=16 efConstruction=100", 0.9 },
	{ &idx_hnsw_type, VEC_COSINE, 0, "M=16 efConstruction=100", 0.9 },
	{ &idx_ivf_flat_type, VEC_L2, 0, "nlist=16", 0.9 },
	{ &idx_ivf_flat_type, VEC_IP, 0, "nlist=16", 0.9 },
	{ &idx_ivf_sq8_type, VEC_L2, 0, "nlist=16", 0.7 },
	{ &idx_ivf_pq_type, VEC_L2, 0, "nlist=16 m=4", 0.0 },
	{ &idx_bin_flat_type, VEC_HAMMING, 1, "", -1 },
	{ &idx_bin_flat_type, VEC_JACCARD, 1, "", -1 },
	{ &idx_bin_ivf_flat_type, VEC_HAMMING, 1, "nlist=16", 0.5 },
};

START_TEST(test_index_allow)
{
	run_fixture(&fixtures[_i]);
}
END_TEST

START_TEST(test_allow_forms)
{
	/* dense ids: a bitmap; sparse: a set; both answer alike */
	int64_t dense[] = { 10, 11, 15, 40 };
	int64_t sparse[] = { INT64_MIN, -7, 1000000000000LL, 3, INT64_MAX };
	struct idx_allow a;

	ck_assert_int_eq(idx_allow_init(&a, true, dense, 4), 0);
	ck_assert_ptr_nonnull(a.bits);
	for (int64_t id = 0; id < 60; id++)
		ck_assert_int_eq(idx_allow_id(&a, id),
				 id == 10 || id == 11 || id == 15 || id == 40);
	idx_allow_fini(&a);
	ck_assert_int_eq(idx_allow_init(&a, true, sparse, 5), 0);
	ck_assert_ptr_null(a.bits);
	for (size_t i = 0; i < 5; i++)
		ck_assert(idx_allow_id(&a, sparse[i]));
	ck_assert(!idx_allow_id(&a, 4));
	ck_assert(!idx_allow_id(&a, INT64_MIN + 1));
	ck_assert(!idx_allow_id(&a, 0));
	idx_allow_fini(&a);
	ck_assert_int_eq(idx_allow_init(&a, true, NULL, 0), 0);
	ck_assert(!idx_allow_id(&a, 0));
	idx_allow_fini(&a);
	ck_assert_int_eq(idx_allow_init(&a, false, NULL, 0), 0);
	ck_assert(idx_allow_id(&a, 12345));
	ck_assert(idx_allow_score(&a, 1e30f));
	/* windows as Milvus defines them: L2 F <= d < R, IP R < d <= F */
	idx_allow_window(&a, VEC_L2, true, 2.0f, true, 1.0f);
	ck_assert(idx_allow_score(&a, 1.0f) && !idx_allow_score(&a, 2.0f));
	idx_allow_init(&a, false, NULL, 0);
	idx_allow_window(&a, VEC_IP, true, 0.5f, true, 0.9f);
	/* distance 0.9 = score -0.9 in; 0.5 = -0.5 out */
	ck_assert(idx_allow_score(&a, -0.9f) && !idx_allow_score(&a, -0.5f));
	idx_allow_fini(&a);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("filter");
	TCase *tc = tcase_create("allow");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_allow_forms);
	tcase_add_loop_test(tc, test_index_allow, 0,
			    sizeof(fixtures) / sizeof(fixtures[0]));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
