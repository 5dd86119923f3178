/* kmeans.c - seeded Lloyd k-means with BLAS assignment, for the IVF family.
 *
 * Like faiss's Clustering: train on a random sample of at most
 * k * max_per_centroid points, initialize with k distinct random points,
 * re-seed empty clusters by splitting a large one with a small symmetric
 * perturbation.  The assignment step is the only costly part; it runs
 * vec_gemm_dot on tiles of points against all centroids, the tiles spread
 * over the pool, each worker with its own scratch (indexed by worker, so no
 * lock).  Everything else is serial and in a fixed order, so a given seed
 * gives the same centroids whatever the number of threads.
 */
#include "index/kmeans_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "vec/vec.h"

/* Scratch per worker for the dot-product tile: about 4 MB. */
#define TILE_FLOATS ((size_t)1 << 20)
#define SPLIT_EPS (1.0f / 1024.0f)

struct assign_job {
	const float *cent, *cnorm, *x;
	size_t k, n, d, tile;
	float *scratch;                 /* nworkers * tile * k */
	uint32_t *label;
	float *dist;
};

/* GCC vector extension (AVX2/AVX-512 in the clones below, SSE otherwise):
 * the argmin over all centroids is the hot loop of k-means, and -O2 does
 * not vectorize a float min reduction by itself. */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

/* Index of the smallest cnorm[c] - 2 dot[c] (first on ties), value in *v.
 * Each lane keeps its best value and index; lanes merge at the end. */
VEC_CLONES                      /* the baseline clone lowers the 32-byte
				 * vectors through the stack */
static uint32_t argmin_row(const float *cnorm, const float *dot, size_t k,
			   float *v)
{
	float best = INFINITY;
	uint32_t arg = 0;
	size_t c = 0, k8 = k / 8 * 8;

	if (k8) {
		/* Two independent lane sets break the dependency chain. */
		v8f m0 = { INFINITY, INFINITY, INFINITY, INFINITY,
			   INFINITY, INFINITY, INFINITY, INFINITY }, m1 = m0;
		v8i i0 = { 0 }, i1 = { 0 }, ci = { 0, 1, 2, 3, 4, 5, 6, 7 };
		v8i lt;

		for (; c + 16 <= k8; c += 16, ci += 16) {
			v8f a, b, s0, s1;

			memcpy(&a, cnorm + c, sizeof(a));
			memcpy(&b, dot + c, sizeof(b));
			s0 = a - 2.0f * b;
			memcpy(&a, cnorm + c + 8, sizeof(a));
			memcpy(&b, dot + c + 8, sizeof(b));
			s1 = a - 2.0f * b;
			lt = s0 < m0;
			i0 = (ci & lt) | (i0 & ~lt);
			m0 = (v8f)(((v8i)s0 & lt) | ((v8i)m0 & ~lt));
			lt = s1 < m1;
			i1 = ((ci + 8) & lt) | (i1 & ~lt);
			m1 = (v8f)(((v8i)s1 & lt) | ((v8i)m1 & ~lt));
		}
		for (; c < k8; c += 8, ci += 8) {
			v8f a, b, s0;

			memcpy(&a, cnorm + c, sizeof(a));
			memcpy(&b, dot + c, sizeof(b));
			s0 = a - 2.0f * b;
			lt = s0 < m0;
			i0 = (ci & lt) | (i0 & ~lt);
			m0 = (v8f)(((v8i)s0 & lt) | ((v8i)m0 & ~lt));
		}
		/* Merge: smaller value, or equal value with smaller index. */
		lt = (m1 < m0) | ((m1 == m0) & (i1 < i0));
		i0 = (i1 & lt) | (i0 & ~lt);
		m0 = (v8f)(((v8i)m1 & lt) | ((v8i)m0 & ~lt));
		arg = (uint32_t)i0[0];
		best = m0[0];
		for (int l = 1; l < 8; l++)
			if (m0[l] < best ||
			    (m0[l] == best && (uint32_t)i0[l] < arg)) {
				best = m0[l];
				arg = (uint32_t)i0[l];
			}
	}
	for (; c < k; c++) {
		float s = cnorm[c] - 2.0f * dot[c];

		if (s < best) {
			best = s;
			arg = (uint32_t)c;
		}
	}
	*v = best;
	return arg;
}

static void assign_tile(void *arg, size_t t, unsigned worker)
{
	struct assign_job *j = arg;
	size_t i0 = t * j->tile;
	size_t m = j->n - i0 < j->tile ? j->n - i0 : j->tile;
	float *dot = j->scratch + (size_t)worker * j->tile * j->k;

	vec_gemm_dot(j->x + i0 * j->d, m, j->cent, j->k, j->d, dot, j->k);
	for (size_t i = 0; i < m; i++) {
		float best;
		uint32_t arg_best = argmin_row(j->cnorm, dot + i * j->k, j->k,
					       &best);

		j->label[i0 + i] = arg_best;
		if (j->dist) {
			const float *xi = j->x + (i0 + i) * j->d;
			float dd = vec_dot(xi, xi, j->d) + best;

			j->dist[i0 + i] = dd > 0 ? dd : 0;
		}
	}
}

int km_assign(const float *cent, const float *cnorm, size_t k, const float *x,
	      size_t n, size_t d, struct mfs_pool *pool, uint32_t *label,
	      float *dist, struct mfs_err *err)
{
	struct assign_job j = {
		.cent = cent, .cnorm = cnorm, .x = x, .k = k, .n = n, .d = d,
		.label = label, .dist = dist,
	};
	float *own_norm = NULL;
	size_t ntiles;

	if (n == 0)
		return 0;
	j.tile = TILE_FLOATS / k;
	if (j.tile > 256)
		j.tile = 256;
	if (j.tile < 1)
		j.tile = 1;
	ntiles = (n + j.tile - 1) / j.tile;
	if (!cnorm) {
		own_norm = malloc(k * sizeof(float));
		if (!own_norm)
			return mfs_errf(err, -ENOMEM, "k-means: out of memory");
		vec_norms_sq(cent, k, d, own_norm);
		j.cnorm = own_norm;
	}
	j.scratch = malloc((size_t)(pool ? mfs_pool_size(pool) : 1) *
			   j.tile * k * sizeof(float));
	if (!j.scratch) {
		free(own_norm);
		return mfs_errf(err, -ENOMEM, "k-means: out of memory");
	}
	mfs_pool_for(pool, ntiles, assign_tile, &j);
	free(j.scratch);
	free(own_norm);
	return 0;
}

int km_sample(size_t n, size_t m, uint64_t seed, size_t *out)
{
	size_t *perm = malloc(n * sizeof(size_t));
	uint64_t s = seed;

	if (!perm)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		perm[i] = i;
	for (size_t i = 0; i < m; i++) {
		size_t r = i + (size_t)(km_rand(&s) % (n - i));
		size_t t = perm[i];

		perm[i] = perm[r];
		perm[r] = t;
		out[i] = perm[i];
	}
	free(perm);
	return 0;
}

/* Re-seed empty clusters by splitting others, chosen with probability
 * proportional to their size minus one (faiss split_clusters). */
static void split_empty(float *cent, size_t *count, size_t k, size_t d,
			uint64_t *rng)
{
	for (size_t ci = 0; ci < k; ci++) {
		size_t total = 0, r, cj;

		if (count[ci] != 0)
			continue;
		for (size_t c = 0; c < k; c++)
			if (count[c] > 1)
				total += count[c] - 1;
		if (total == 0)
			return;
		r = (size_t)(km_rand(rng) % total);
		for (cj = 0; cj < k; cj++) {
			if (count[cj] <= 1)
				continue;
			if (r < count[cj] - 1)
				break;
			r -= count[cj] - 1;
		}
		memcpy(cent + ci * d, cent + cj * d, d * sizeof(float));
		for (size_t t = 0; t < d; t++) {
			if (t % 2 == 0) {
				cent[ci * d + t] *= 1 + SPLIT_EPS;
				cent[cj * d + t] *= 1 - SPLIT_EPS;
			} else {
				cent[ci * d + t] *= 1 - SPLIT_EPS;
				cent[cj * d + t] *= 1 + SPLIT_EPS;
			}
		}
		count[ci] = count[cj] / 2;
		count[cj] -= count[ci];
	}
}

/* Spherical k-means: every centroid back to unit length (a zero centroid,
 * which normalization cannot fix, is left as it is). */
static void renorm(float *cent, size_t k, size_t d, int spherical)
{
	if (!spherical)
		return;
	for (size_t c = 0; c < k; c++)
		vec_normalize(cent + c * d, d);
}

int km_train(const float *x, size_t n, size_t d, size_t k,
	     const struct km_opts *o, float *cent, struct mfs_err *err)
{
	uint64_t rng = o->seed ^ 0x6b6d65616e73ULL;
	size_t ns = n, *idx = NULL, *count = NULL;
	float *xs = NULL, *sum = NULL, *cnorm = NULL;
	uint32_t *label = NULL;
	const float *xt = x;
	int rc = -ENOMEM;

	if (n == 0 || k == 0)
		return mfs_errf(err, -EINVAL, "k-means: expected points and "
				"clusters, got %zu points, %zu clusters", n, k);
	if (o->max_per_centroid && n > k * o->max_per_centroid) {
		ns = k * o->max_per_centroid;
		idx = malloc(ns * sizeof(size_t));
		xs = malloc(ns * d * sizeof(float));
		if (!idx || !xs || km_sample(n, ns, km_rand(&rng), idx) < 0)
			goto out;
		for (size_t i = 0; i < ns; i++)
			memcpy(xs + i * d, x + idx[i] * d, d * sizeof(float));
		xt = xs;
		free(idx);
		idx = NULL;
	}
	/* Initial centroids: k distinct random points (repeated if ns < k). */
	if (ns >= k) {
		idx = malloc(k * sizeof(size_t));
		if (!idx || km_sample(ns, k, km_rand(&rng), idx) < 0)
			goto out;
		for (size_t c = 0; c < k; c++)
			memcpy(cent + c * d, xt + idx[c] * d, d * sizeof(float));
	} else {
		for (size_t c = 0; c < k; c++)
			memcpy(cent + c * d, xt + (c % ns) * d,
			       d * sizeof(float));
	}
	renorm(cent, k, d, o->spherical);
	count = malloc(k * sizeof(size_t));
	sum = malloc(k * d * sizeof(float));
	cnorm = malloc(k * sizeof(float));
	label = malloc(ns * sizeof(uint32_t));
	if (!count || !sum || !cnorm || !label)
		goto out;
	for (unsigned it = 0; it < o->niter && ns >= k; it++) {
		vec_norms_sq(cent, k, d, cnorm);
		rc = km_assign(cent, cnorm, k, xt, ns, d, o->pool, label, NULL,
			       err);
		if (rc < 0)
			goto out;
		rc = -ENOMEM;
		memset(count, 0, k * sizeof(size_t));
		memset(sum, 0, k * d * sizeof(float));
		for (size_t i = 0; i < ns; i++) {
			float *s = sum + (size_t)label[i] * d;
			const float *xi = xt + i * d;

			count[label[i]]++;
			for (size_t t = 0; t < d; t++)
				s[t] += xi[t];
		}
		for (size_t c = 0; c < k; c++) {
			if (count[c] == 0)
				continue;
			float inv = 1.0f / (float)count[c];

			for (size_t t = 0; t < d; t++)
				cent[c * d + t] = sum[c * d + t] * inv;
		}
		split_empty(cent, count, k, d, &rng);
		renorm(cent, k, d, o->spherical);
		if (o->progress)
			o->progress(o->progress_arg,
				    o->lo + (o->hi - o->lo) * (it + 1) /
					    o->niter);
	}
	rc = 0;
out:
	if (rc == -ENOMEM)
		mfs_errf(err, -ENOMEM, "k-means: out of memory");
	free(idx);
	free(xs);
	free(count);
	free(sum);
	free(cnorm);
	free(label);
	return rc;
}
