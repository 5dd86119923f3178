/* bin_ivf.c - the binary coarse quantizer of BIN_IVF_FLAT.
 *
 * As faiss's IndexBinaryIVF: k-means runs in float on the bits (0.0/1.0)
 * of a seeded sample, and the centroids are binarized (a bit is set when
 * more than half of the cluster has it, i.e. the float centroid > 0.5).
 * Entities go to the centroid nearest in Hamming distance; lists keep the
 * packed vectors themselves, scanned with vec_hamming / vec_jaccard.
 */
#include "index/ivf_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index/kmeans_int.h"

#define BIN_NITER 10
#define ASSIGN_CHUNK 256

struct bjob {
	const struct ivf *v;
	const uint8_t *x;
	size_t n;
	uint32_t *label;
};

static void assign_chunk(void *arg, size_t c, unsigned worker)
{
	struct bjob *j = arg;
	size_t nb = j->v->base.info.dim / 8, i1 = (c + 1) * ASSIGN_CHUNK;

	if (i1 > j->n)
		i1 = j->n;
	for (size_t i = c * ASSIGN_CHUNK; i < i1; i++) {
		uint32_t best = UINT32_MAX, arg_best = 0;

		for (uint32_t l = 0; l < j->v->nlist; l++) {
			uint32_t h = vec_hamming(j->x + i * nb,
						 j->v->bcent + (size_t)l * nb,
						 nb);

			if (h < best) {
				best = h;
				arg_best = l;
			}
		}
		j->label[i] = arg_best;
	}
}

void bin_assign(const struct ivf *v, const uint8_t *x, size_t n,
		uint32_t *label)
{
	struct bjob j = { .v = v, .x = x, .n = n, .label = label };

	mfs_pool_for(v->base.info.pool, (n + ASSIGN_CHUNK - 1) / ASSIGN_CHUNK,
		     assign_chunk, &j);
}

int bin_train(struct ivf *v, const uint8_t *x, size_t n,
	      const struct idx_progress *pr, double lo, double hi,
	      struct mfs_err *err)
{
	size_t d = v->base.info.dim, nb = d / 8;
	size_t ns = n < (size_t)v->nlist * 256 ? n : (size_t)v->nlist * 256;
	size_t *idx = malloc(ns * sizeof(size_t));
	float *xf = malloc(ns * d * sizeof(float));
	float *cent = malloc((size_t)v->nlist * d * sizeof(float));
	struct km_opts o = {
		.niter = BIN_NITER, .seed = v->seed, .max_per_centroid = 0,
		.pool = v->base.info.pool,
		.progress = pr ? pr->fn : NULL,
		.progress_arg = pr ? pr->arg : NULL, .lo = lo, .hi = hi,
	};
	int rc = -ENOMEM;

	if (!idx || !xf || !cent)
		goto out;
	if (ns < n) {
		if (km_sample(n, ns, v->seed, idx) < 0)
			goto out;
	} else {
		for (size_t i = 0; i < ns; i++)
			idx[i] = i;
	}
	for (size_t i = 0; i < ns; i++) {
		const uint8_t *b = x + idx[i] * nb;

		for (size_t t = 0; t < d; t++)
			xf[i * d + t] = (b[t >> 3] >> (7 - (t & 7))) & 1;
	}
	rc = km_train(xf, ns, d, v->nlist, &o, cent, err);
	if (rc < 0)
		goto out;
	memset(v->bcent, 0, (size_t)v->nlist * nb);
	for (size_t l = 0; l < v->nlist; l++)
		for (size_t t = 0; t < d; t++)
			if (cent[l * d + t] > 0.5f)
				v->bcent[l * nb + (t >> 3)] |=
					(uint8_t)(0x80 >> (t & 7));
out:
	if (rc == -ENOMEM)
		mfs_errf(err, -ENOMEM, "BIN_IVF_FLAT training: out of memory");
	free(idx);
	free(xf);
	free(cent);
	return rc;
}
