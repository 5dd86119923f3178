/* test_vec.c - the vec kernels against a scalar double reference, at every
 * SIMD level this CPU runs; top-k against a full sort; gemm against a naive
 * product. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vec/vec.h"
#include "vec/vec_int.h"

/* Small deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 88172645463325252ull;

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

static void fill(float *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = frnd() * 10.0f;
}

static double ref_l2sq(const float *a, const float *b, size_t d, double *abs)
{
	double s = 0;

	for (size_t i = 0; i < d; i++)
		s += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
	*abs = s;
	return s;
}

static double ref_dot(const float *a, const float *b, size_t d, double *abs)
{
	double s = 0, t = 0;

	for (size_t i = 0; i < d; i++) {
		s += (double)a[i] * b[i];
		t += fabs((double)a[i] * b[i]);
	}
	*abs = t;
	return s;
}

/* Float error bound of a d-term sum: a few ulps per term of sum |terms|. */
static double tol(size_t d, double abs)
{
	return 2e-7 * (double)(d + 2) * abs + 1e-30;
}

static uint32_t ref_ham(const uint8_t *a, const uint8_t *b, size_t nb)
{
	uint32_t c = 0;

	for (size_t i = 0; i < nb; i++)
		for (int bit = 0; bit < 8; bit++)
			c += ((a[i] ^ b[i]) >> bit) & 1;
	return c;
}

static double ref_jac(const uint8_t *a, const uint8_t *b, size_t nb)
{
	uint32_t in = 0, un = 0;

	for (size_t i = 0; i < nb; i++)
		for (int bit = 0; bit < 8; bit++) {
			in += ((a[i] & b[i]) >> bit) & 1;
			un += ((a[i] | b[i]) >> bit) & 1;
		}
	return un ? 1.0 - (double)in / un : 0.0;
}

static const size_t extra_dims[] = { 384, 512, 768, 960, 1000, 1024, 1536 };

static void check_float_kernels(const struct vec_kernels *k)
{
	float *buf = malloc((2 * 1600 + 8) * sizeof(float));

	ck_assert_ptr_nonnull(buf);
	for (size_t t = 0; t < 300 + sizeof(extra_dims) / sizeof(*extra_dims);
	     t++) {
		size_t d = t < 300 ? t + 1 : extra_dims[t - 300];

		for (size_t off = 0; off < 3; off++) {
			float *a = buf + off, *b = buf + 1600 + 2 * off + 1;
			double abs, r;

			fill(a, d);
			fill(b, d);
			r = ref_l2sq(a, b, d, &abs);
			ck_assert_msg(fabs(k->l2sq(a, b, d) - r) <= tol(d, abs),
				      "%s l2sq d=%zu off=%zu: %g vs %g",
				      k->name, d, off, k->l2sq(a, b, d), r);
			r = ref_dot(a, b, d, &abs);
			ck_assert_msg(fabs(k->dot(a, b, d) - r) <= tol(d, abs),
				      "%s dot d=%zu off=%zu: %g vs %g",
				      k->name, d, off, k->dot(a, b, d), r);
			/* the score of IP/COSINE: exactly -dot */
			ck_assert_msg(k->ndot(a, b, d) == -k->dot(a, b, d),
				      "%s ndot d=%zu off=%zu", k->name, d, off);
		}
	}
	free(buf);
}

static void check_many_kernels(const struct vec_kernels *k)
{
	static const size_t dims[] = { 1, 3, 7, 8, 15, 16, 17, 31, 33, 64,
				       100, 127, 128, 129, 200, 300 };
	float *q = malloc(301 * sizeof(float));
	float *X = malloc((23 * 300 + 1) * sizeof(float));
	float out[24];

	ck_assert_ptr_nonnull(q);
	ck_assert_ptr_nonnull(X);
	for (size_t t = 0; t < sizeof(dims) / sizeof(*dims); t++) {
		size_t d = dims[t];

		for (size_t n = 0; n <= 23; n++) {
			float *Xu = X + (n & 1);        /* unaligned rows too */

			fill(q + 1, d);
			fill(Xu, n * d);
			out[n] = 12345.0f;              /* sentinel */
			k->l2sq_many(q + 1, Xu, n, d, out);
			ck_assert(out[n] == 12345.0f);
			for (size_t j = 0; j < n; j++) {
				double abs, r;

				r = ref_l2sq(q + 1, Xu + j * d, d, &abs);
				ck_assert_msg(fabs(out[j] - r) <= tol(d, abs),
					      "%s l2sq_many d=%zu n=%zu j=%zu",
					      k->name, d, n, j);
				/* Bit-identical to the one-row kernel. */
				ck_assert(out[j] ==
					  k->l2sq(q + 1, Xu + j * d, d));
			}
			k->dot_many(q + 1, Xu, n, d, out);
			ck_assert(out[n] == 12345.0f);
			for (size_t j = 0; j < n; j++) {
				double abs, r;

				r = ref_dot(q + 1, Xu + j * d, d, &abs);
				ck_assert_msg(fabs(out[j] - r) <= tol(d, abs),
					      "%s dot_many d=%zu n=%zu j=%zu",
					      k->name, d, n, j);
				ck_assert(out[j] ==
					  k->dot(q + 1, Xu + j * d, d));
			}
		}
	}
	free(q);
	free(X);
}

/* Vectors that end exactly at a page followed by an inaccessible page: a
 * kernel reading one float too far faults. */
static void check_no_overread(const struct vec_kernels *k)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert(m != MAP_FAILED);
	ck_assert_int_eq(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
	for (size_t d = 1; d <= 140; d++) {
		float *a = (float *)(m + pg) - d;       /* ends at the guard */
		float *X = (float *)(m + pg) - 4 * d;
		float out[4];
		double abs;

		fill(X, 4 * d);
		ck_assert(fabs(k->l2sq(a, a - d, d) -
			       ref_l2sq(a, a - d, d, &abs)) <= tol(d, abs));
		ck_assert(fabs(k->dot(a - d, a, d) -
			       ref_dot(a - d, a, d, &abs)) <= tol(d, abs));
		ck_assert(k->ndot(a - d, a, d) == -k->dot(a - d, a, d));
		k->l2sq_many(a, X, 4, d, out);
		ck_assert(out[3] == 0.0f);              /* row 3 is a */
		k->dot_many(a, X, 4, d, out);
		ck_assert(fabs(out[3] - ref_dot(a, a, d, &abs)) <=
			  tol(d, abs));
		{
			uint8_t *ba = (uint8_t *)(m + pg) - d;
			uint8_t *bb = (uint8_t *)(m + pg) - 2 * d;

			ck_assert_uint_eq(k->hamming(ba, bb, d),
					  ref_ham(ba, bb, d));
			ck_assert(fabs(k->jaccard(ba, bb, d) -
				       ref_jac(ba, bb, d)) < 1e-6);
		}
	}
	/* Rows of the specialized widths, the last at the guard. */
	for (size_t nb = 16; nb <= 128; nb *= 2)
		for (size_t n = 1; n <= 17; n += 8) {
			uint8_t *X = (uint8_t *)(m + pg) - n * nb;
			float out[17];

			for (size_t i = 0; i < n * nb; i++)
				X[i] = (uint8_t)rnd();
			k->hamming_many(X + (n - 1) * nb, X, n, nb, out);
			ck_assert(out[n - 1] == 0.0f);
			for (size_t j = 0; j < n; j++)
				ck_assert(out[j] ==
					  (float)ref_ham(X + (n - 1) * nb,
							 X + j * nb, nb));
		}
	munmap(m, (size_t)pg * 2);
}

static void check_binary_kernels(const struct vec_kernels *k)
{
	uint8_t buf[2 * 300 + 8];

	for (size_t nb = 0; nb <= 260; nb++)
		for (size_t off = 0; off < 3; off++) {
			uint8_t *a = buf + off, *b = buf + 300 + 2 * off + 1;

			for (size_t i = 0; i < nb; i++) {
				a[i] = (uint8_t)rnd();
				b[i] = (uint8_t)rnd();
				if (off == 2)   /* sparse: jaccard away from 0.5 */
					a[i] &= (uint8_t)rnd();
			}
			ck_assert_uint_eq(k->hamming(a, b, nb),
					  ref_ham(a, b, nb));
			ck_assert_uint_eq(k->hamming(a, a, nb), 0);
			ck_assert_msg(fabs(k->jaccard(a, b, nb) -
					   ref_jac(a, b, nb)) < 1e-6,
				      "%s jaccard nb=%zu", k->name, nb);
			ck_assert(k->jaccard(a, a, nb) == 0.0f);
		}
	/* Many rows at once, at the specialized widths and others. */
	{
		static const size_t widths[] = { 1, 9, 16, 24, 32, 64, 100,
						 128 };
		/* 7 rows and 37 (blocks of eight and a tail), unaligned */
		static const size_t rows[] = { 7, 37 };
		static uint8_t q[129], X[37 * 128 + 1];
		float out[38];

		for (size_t w = 0; w < sizeof(widths) / sizeof(*widths); w++)
		for (size_t r = 0; r < 2; r++) {
			size_t nb = widths[w], n = rows[r];

			for (size_t i = 0; i < 129; i++)
				q[i] = (uint8_t)rnd();
			for (size_t i = 0; i < sizeof(X); i++)
				X[i] = (uint8_t)(rnd() & rnd());
			out[n] = 12345.0f;
			k->hamming_many(q + 1, X + 1, n, nb, out);
			ck_assert(out[n] == 12345.0f);
			for (size_t j = 0; j < n; j++)
				ck_assert_msg(out[j] ==
					      (float)ref_ham(q + 1,
							     X + 1 + j * nb,
							     nb),
					      "%s hamming_many nb=%zu row %zu",
					      k->name, nb, j);
			k->jaccard_many(q + 1, X + 1, n, nb, out);
			ck_assert(out[n] == 12345.0f);
			for (size_t j = 0; j < n; j++)
				ck_assert(fabs(out[j] -
					       ref_jac(q + 1, X + 1 + j * nb,
						       nb)) < 1e-6);
		}
	}
}

/* The SQ8 kernels against a double reference: codes of every byte value,
 * dims 1-300 and the wide ones, three alignments; then codes that end at
 * a guard page (no byte past the code is read). */
static double ref_sq8(const float *w, const float *st, const uint8_t *c,
		      size_t d, int l2, double *abs)
{
	double s = 0, a = 0;

	for (size_t i = 0; i < d; i++) {
		double x = (double)c[i] * st[i];

		if (l2) {
			s += ((double)w[i] - x) * ((double)w[i] - x);
			a += (fabs(w[i]) + fabs(x)) * (fabs(w[i]) + fabs(x));
		} else {
			s += (double)w[i] * c[i];
			a += fabs((double)w[i] * c[i]);
		}
	}
	*abs = a;
	return s;
}

static void check_sq8_one(const struct vec_kernels *k, const float *w,
			  const float *st, const uint8_t *c, size_t d)
{
	double abs, r;
	float got;

	r = ref_sq8(w, st, c, d, 1, &abs);
	got = k->sq8_l2(w, st, c, d);
	ck_assert_msg(fabs(got - r) <= tol(d, abs), "%s sq8_l2 d=%zu: %g vs %g",
		      k->name, d, got, r);
	r = ref_sq8(w, st, c, d, 0, &abs);
	got = k->sq8_dot(w, st, c, d);
	ck_assert_msg(fabs(got - r) <= tol(d, abs), "%s sq8_dot d=%zu: %g vs %g",
		      k->name, d, got, r);
}

static void check_sq8_kernels(const struct vec_kernels *k)
{
	float *buf = malloc((2 * 1600 + 8) * sizeof(float));
	uint8_t *code = malloc(1600 + 8);
	long pg = sysconf(_SC_PAGESIZE);
	uint8_t *m;

	ck_assert_ptr_nonnull(buf);
	ck_assert_ptr_nonnull(code);
	for (size_t t = 0; t < 300 + sizeof(extra_dims) / sizeof(*extra_dims);
	     t++) {
		size_t d = t < 300 ? t + 1 : extra_dims[t - 300];

		for (size_t off = 0; off < 3; off++) {
			float *w = buf + off, *st = buf + 1600 + 2 * off + 1;
			uint8_t *c = code + off;

			fill(w, d);
			fill(st, d);
			for (size_t i = 0; i < d; i++) {
				st[i] = fabsf(st[i]) * 0.01f;
				c[i] = (uint8_t)(i < 256 ? i : rnd());
			}
			check_sq8_one(k, w, st, c, d);
		}
	}
	m = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(m != MAP_FAILED);
	ck_assert_int_eq(mprotect(m + pg, (size_t)pg, PROT_NONE), 0);
	for (size_t d = 1; d <= 140; d++) {
		uint8_t *c = m + pg - d;

		for (size_t i = 0; i < d; i++)
			c[i] = (uint8_t)rnd();
		fill(buf, d);
		fill(buf + 1600, d);
		check_sq8_one(k, buf, buf + 1600, c, d);
	}
	munmap(m, (size_t)pg * 2);
	free(code);
	free(buf);
}

START_TEST(test_levels)
{
	int seen = 0;

	for (int l = 0; l < VEC_LEVEL_COUNT; l++) {
		const struct vec_kernels *k = vec_kernels_level(l);

		if (!k)
			continue;
		seen++;
		check_float_kernels(k);
		check_many_kernels(k);
		check_binary_kernels(k);
		check_no_overread(k);
		check_sq8_kernels(k);
	}
	ck_assert_int_ge(seen, 1);
	ck_assert_ptr_nonnull(vec_kernels_level(VEC_LEVEL_SCALAR));
	/* The chosen set is the widest available. */
	for (int l = VEC_LEVEL_COUNT - 1; l >= 0; l--)
		if (vec_kernels_level(l)) {
			ck_assert_str_eq(vec_impl_name(),
					 vec_kernels_level(l)->name);
			break;
		}
}
END_TEST

START_TEST(test_public_kernels)
{
	float a[130], b[130], X[5 * 130], out[5];
	uint8_t ba[16], bb[16], bX[3 * 16];
	double abs;

	fill(a, 130);
	fill(b, 130);
	fill(X, 5 * 130);
	ck_assert(fabs(vec_l2sq(a, b, 130) - ref_l2sq(a, b, 130, &abs)) <=
		  tol(130, abs));
	ck_assert(fabs(vec_dot(a, b, 130) - ref_dot(a, b, 130, &abs)) <=
		  tol(130, abs));
	ck_assert(vec_score(VEC_L2, a, b, 130) == vec_l2sq(a, b, 130));
	ck_assert(vec_score(VEC_IP, a, b, 130) == -vec_dot(a, b, 130));
	ck_assert(vec_score(VEC_COSINE, a, b, 130) == -vec_dot(a, b, 130));
	/* the kernel pointer scores as vec_score does, bit for bit */
	for (int m = VEC_L2; m <= VEC_COSINE; m++)
		for (size_t d = 1; d <= 130; d++)
			ck_assert(vec_score_kernel(m)(a, b, d) ==
				  vec_score(m, a, b, (uint32_t)d));
	ck_assert_ptr_null(vec_score_kernel(VEC_HAMMING));
	ck_assert_ptr_null(vec_score_kernel(VEC_JACCARD));
	ck_assert(vec_sq8_kernel(VEC_L2) == vec_kernels_get()->sq8_l2);
	ck_assert(vec_sq8_kernel(VEC_IP) == vec_kernels_get()->sq8_dot);
	ck_assert(vec_sq8_kernel(VEC_COSINE) == vec_kernels_get()->sq8_dot);
	ck_assert(vec_sq8_kernel(VEC_HAMMING) == NULL);

	for (int m = VEC_L2; m <= VEC_COSINE; m++) {
		vec_score_many(m, a, X, 5, 130, out);
		for (int j = 0; j < 5; j++) {
			double r = m == VEC_L2 ?
					   ref_l2sq(a, X + j * 130, 130, &abs) :
					   -ref_dot(a, X + j * 130, 130, &abs);
			ck_assert(fabs(out[j] - r) <= tol(130, abs));
		}
	}
	for (int i = 0; i < 16; i++) {
		ba[i] = (uint8_t)rnd();
		bb[i] = (uint8_t)rnd();
	}
	for (int i = 0; i < 48; i++)
		bX[i] = (uint8_t)rnd();
	ck_assert(vec_score(VEC_HAMMING, ba, bb, 128) ==
		  (float)ref_ham(ba, bb, 16));
	ck_assert(fabs(vec_score(VEC_JACCARD, ba, bb, 128) -
		       ref_jac(ba, bb, 16)) < 1e-6);
	vec_score_many(VEC_HAMMING, ba, bX, 3, 128, out);
	for (int j = 0; j < 3; j++)
		ck_assert(out[j] == (float)ref_ham(ba, bX + 16 * j, 16));
	vec_score_many(VEC_JACCARD, ba, bX, 3, 128, out);
	for (int j = 0; j < 3; j++)
		ck_assert(fabs(out[j] - ref_jac(ba, bX + 16 * j, 16)) < 1e-6);
}
END_TEST

START_TEST(test_normalize)
{
	for (size_t d = 1; d <= 300; d++) {
		float v[300];
		double s = 0;

		fill(v, d);
		vec_normalize(v, d);
		for (size_t i = 0; i < d; i++)
			s += (double)v[i] * v[i];
		ck_assert_msg(fabs(s - 1.0) < 1e-5, "d=%zu norm^2=%g", d, s);
	}
	float z[7] = { 0 };
	vec_normalize(z, 7);
	for (int i = 0; i < 7; i++)
		ck_assert(z[i] == 0.0f);
}
END_TEST

START_TEST(test_names)
{
	enum vec_metric m;
	enum vec_type t;

	for (int i = VEC_L2; i <= VEC_JACCARD; i++) {
		ck_assert_int_eq(vec_metric_parse(vec_metric_name(i), &m), 0);
		ck_assert_int_eq(m, i);
	}
	ck_assert_int_eq(vec_metric_parse("cosine", &m), 0);
	ck_assert_int_eq(m, VEC_COSINE);
	ck_assert_int_eq(vec_metric_parse("TANIMOTO", &m), 0);
	ck_assert_int_eq(m, VEC_JACCARD);
	ck_assert_int_eq(vec_metric_parse("L1", &m), -EINVAL);
	ck_assert_int_eq(vec_metric_parse(NULL, &m), -EINVAL);
	ck_assert_int_eq(vec_type_parse("BINARY_VECTOR", &t), 0);
	ck_assert_int_eq(t, VEC_BINARY);
	ck_assert_int_eq(vec_type_parse("float_vector", &t), 0);
	ck_assert_int_eq(t, VEC_FLOAT);
	ck_assert_int_eq(vec_type_parse("INT8", &t), -EINVAL);
	ck_assert_str_eq(vec_type_name(VEC_FLOAT), "FLOAT_VECTOR");
	ck_assert(vec_metric_fits(VEC_L2, VEC_FLOAT));
	ck_assert(vec_metric_fits(VEC_COSINE, VEC_FLOAT));
	ck_assert(!vec_metric_fits(VEC_HAMMING, VEC_FLOAT));
	ck_assert(vec_metric_fits(VEC_JACCARD, VEC_BINARY));
	ck_assert(!vec_metric_fits(VEC_IP, VEC_BINARY));
	ck_assert_uint_eq(vec_bytes(VEC_FLOAT, 128), 512);
	ck_assert_uint_eq(vec_bytes(VEC_BINARY, 128), 16);
	ck_assert(vec_metric_higher_better(VEC_IP));
	ck_assert(!vec_metric_higher_better(VEC_L2));
	ck_assert(vec_score_to_distance(VEC_IP, -2.5f) == 2.5f);
	ck_assert(vec_score_to_distance(VEC_COSINE, -0.5f) == 0.5f);
	ck_assert(vec_score_to_distance(VEC_L2, 3.0f) == 3.0f);
	ck_assert(vec_score_to_distance(VEC_HAMMING, 7.0f) == 7.0f);
}
END_TEST

struct hit {
	float s;
	int64_t id;
};

static int hit_cmp(const void *a, const void *b)
{
	const struct hit *x = a, *y = b;

	if (x->s != y->s)
		return x->s < y->s ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

START_TEST(test_topk)
{
	enum { N = 500 };
	static const size_t ks[] = { 0, 1, 2, 5, 10, 64, 499, 500, 700 };
	struct hit all[N];
	float sc[N];
	int64_t ids[N];

	for (int round = 0; round < 20; round++) {
		/* Few distinct scores: many ties, which must go by id. */
		int levels = round < 10 ? 7 : 100000;

		for (int i = 0; i < N; i++) {
			sc[i] = (float)(rnd() % (uint64_t)levels);
			ids[i] = i;
		}
		for (int i = N - 1; i > 0; i--) {       /* shuffle the ids */
			int j = (int)(rnd() % (uint64_t)(i + 1));
			int64_t t = ids[i];

			ids[i] = ids[j];
			ids[j] = t;
		}
		for (int i = 0; i < N; i++)
			all[i] = (struct hit){ sc[i], ids[i] };
		qsort(all, N, sizeof(*all), hit_cmp);
		for (size_t t = 0; t < sizeof(ks) / sizeof(*ks); t++) {
			size_t k = ks[t], want = k < N ? k : N;
			float hs[700];
			int64_t hi[700];
			struct vec_topk tk;

			vec_topk_init(&tk, k, hs, hi);
			if (round & 1) {
				vec_topk_push_many(&tk, sc, ids, 0, N);
			} else {
				for (int i = 0; i < N; i++)
					vec_topk_push(&tk, sc[i], ids[i]);
			}
			ck_assert_uint_eq(tk.n, want);
			vec_topk_sort(&tk);
			for (size_t i = 0; i < want; i++) {
				ck_assert_msg(hs[i] == all[i].s &&
						      hi[i] == all[i].id,
					      "k=%zu rank %zu: (%g,%lld) vs "
					      "(%g,%lld)", k, i, hs[i],
					      (long long)hi[i], all[i].s,
					      (long long)all[i].id);
			}
		}
	}
	/* ids == NULL: base + j; NaN never kept. */
	{
		float s[5] = { 3, NAN, 1, 2, 0.5f }, hs[3];
		int64_t hi[3];
		struct vec_topk tk;

		vec_topk_init(&tk, 3, hs, hi);
		vec_topk_push_many(&tk, s, NULL, 100, 5);
		ck_assert(vec_topk_worst(&tk) == 2.0f);
		vec_topk_sort(&tk);
		ck_assert_uint_eq(tk.n, 3);
		ck_assert(hi[0] == 104 && hi[1] == 102 && hi[2] == 103);
		vec_topk_init(&tk, 3, hs, hi);
		ck_assert(isinf(vec_topk_worst(&tk)));
		vec_topk_push(&tk, NAN, 1);
		ck_assert_uint_eq(tk.n, 0);
	}
}
END_TEST

/* vec_topk_push_many_int keeps exactly the hits that pushing one by one
 * keeps: blocks of every size, ties on few levels, a heap that fills
 * across blocks, ids or base + j, and maxv past VEC_TOPK_INT_MAX. */
START_TEST(test_topk_int)
{
	enum { N = 2000 };
	static const uint32_t maxvs[] = { 6, 128, 4096, 5000 };
	static const size_t ks[] = { 1, 3, 10, 100, 2500 };
	static float sc[N];
	static int64_t ids[N];
	static float as[2500], bs[2500];
	static int64_t ai[2500], bi[2500];

	for (int round = 0; round < 40; round++) {
		uint32_t maxv = maxvs[round % 4];
		size_t k = ks[(round / 4) % 5];
		struct vec_topk a, b;
		size_t j = 0;

		for (int i = 0; i < N; i++) {
			sc[i] = (float)(rnd() % ((uint64_t)maxv + 1));
			ids[i] = (int64_t)(rnd() % 100000);
		}
		vec_topk_init(&a, k, as, ai);
		vec_topk_init(&b, k, bs, bi);
		while (j < N) {
			size_t n = 1 + (size_t)(rnd() % 400);

			if (n > N - j)
				n = N - j;
			if (round & 1) {
				vec_topk_push_many_int(&a, sc + j, NULL,
						       (int64_t)j, n, maxv);
				for (size_t i = 0; i < n; i++)
					vec_topk_push(&b, sc[j + i],
						      (int64_t)(j + i));
			} else {
				vec_topk_push_many_int(&a, sc + j, ids + j, 0,
						       n, maxv);
				for (size_t i = 0; i < n; i++)
					vec_topk_push(&b, sc[j + i],
						      ids[j + i]);
			}
			j += n;
		}
		ck_assert_uint_eq(a.n, b.n);
		vec_topk_sort(&a);
		vec_topk_sort(&b);
		for (size_t i = 0; i < a.n; i++)
			ck_assert_msg(as[i] == bs[i] && ai[i] == bi[i],
				      "maxv=%u k=%zu rank %zu: (%g,%lld) vs "
				      "(%g,%lld)", maxv, k, i, as[i],
				      (long long)ai[i], bs[i],
				      (long long)bi[i]);
	}
}
END_TEST

START_TEST(test_gemm)
{
	static const size_t shapes[][3] = {
		{ 1, 1, 1 }, { 1, 37, 100 }, { 3, 5, 7 }, { 64, 300, 128 },
		{ 17, 1000, 100 }, { 130, 33, 3 },
	};

	vec_blas_init();
	vec_blas_init();        /* idempotent */
	for (size_t t = 0; t < sizeof(shapes) / sizeof(*shapes); t++) {
		size_t nq = shapes[t][0], nx = shapes[t][1], d = shapes[t][2];
		size_t ldo = nx + 3;
		float *Q = malloc(nq * d * sizeof(float));
		float *X = malloc(nx * d * sizeof(float));
		float *out = malloc(nq * ldo * sizeof(float));
		float *nrm = malloc(nx * sizeof(float));

		ck_assert(Q && X && out && nrm);
		fill(Q, nq * d);
		fill(X, nx * d);
		for (size_t i = 0; i < nq * ldo; i++)
			out[i] = 777.0f;
		vec_gemm_dot(Q, nq, X, nx, d, out, ldo);
		for (size_t i = 0; i < nq; i++) {
			for (size_t j = 0; j < nx; j++) {
				double abs, r = ref_dot(Q + i * d, X + j * d,
							d, &abs);
				ck_assert_msg(fabs(out[i * ldo + j] - r) <=
						      tol(d, abs),
					      "gemm %zux%zux%zu at %zu,%zu", nq,
					      nx, d, i, j);
			}
			for (size_t j = nx; j < ldo; j++)
				ck_assert(out[i * ldo + j] == 777.0f);
		}
		vec_norms_sq(X, nx, d, nrm);
		for (size_t j = 0; j < nx; j++) {
			double abs, r = ref_dot(X + j * d, X + j * d, d, &abs);
			ck_assert(fabs(nrm[j] - r) <= tol(d, abs));
		}
		free(Q);
		free(X);
		free(out);
		free(nrm);
	}
}
END_TEST

static Suite *vec_suite(void)
{
	Suite *s = suite_create("vec");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_levels);
	tcase_add_test(tc, test_public_kernels);
	tcase_add_test(tc, test_normalize);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_topk);
	tcase_add_test(tc, test_topk_int);
	tcase_add_test(tc, test_gemm);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(vec_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
