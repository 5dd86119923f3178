/* kmeans_int.h - seeded k-means and nearest-centroid assignment (private to
 * the IVF family: coarse quantizers, PQ codebooks, binary IVF).
 *
 * Both functions compute squared L2 through the BLAS identity
 * |x - c|^2 = |x|^2 - 2 x.c + |c|^2, in tiles of points times all
 * centroids with vec_gemm_dot, the tiles spread over the pool.  Results are
 * independent of the number of threads: each point's assignment is computed
 * alone, and centroid sums are accumulated serially in point order.
 */
#ifndef MFS_INDEX_KMEANS_INT_H
#define MFS_INDEX_KMEANS_INT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/pool.h"

struct km_opts {
	unsigned niter;                 /* Lloyd iterations, >= 1 */
	uint64_t seed;                  /* sampling, init and splitting */
	size_t max_per_centroid;        /* sample at most k * this points */
	int spherical;                  /* centroids kept at unit norm */
	struct mfs_pool *pool;          /* borrowed; NULL: inline */
	/* Progress: fn(arg, lo + (hi - lo) * done) after each iteration. */
	void (*progress)(void *arg, double pct);
	void *progress_arg;
	double lo, hi;
};

/* Train k centroids of dimension d on the n points at x (row-major), into
 * cent (k * d floats, caller storage).  n may be smaller than k (then the
 * points are repeated and some clusters are duplicates) but must be >= 1.
 * Empty clusters are re-seeded by splitting a large one, as faiss does.
 * With o->spherical the centroids are renormalized to unit length after the
 * initialization and after every update (spherical k-means, what faiss
 * trains for inner-product metrics): with all |c| = 1 the nearest centroid
 * in L2 is the one of largest inner product, so km_assign serves both.
 * 0, -ENOMEM. */
int km_train(const float *x, size_t n, size_t d, size_t k,
	     const struct km_opts *o, float *cent, struct mfs_err *err);

/* For each of the n points at x, the index of its nearest centroid (squared
 * L2) in label[i] and, when dist is not NULL, the squared distance in
 * dist[i].  cnorm may hold the k squared centroid norms (NULL: computed).
 * 0, -ENOMEM. */
int km_assign(const float *cent, const float *cnorm, size_t k, const float *x,
	      size_t n, size_t d, struct mfs_pool *pool, uint32_t *label,
	      float *dist, struct mfs_err *err);

/* A small, seeded, splittable generator (splitmix64). */
static inline uint64_t km_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Choose m distinct indices out of [0, n) (m <= n) into out, seeded. */
int km_sample(size_t n, size_t m, uint64_t seed, size_t *out);

#endif
