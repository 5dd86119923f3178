/* pq.c - product quantization of IVF residuals (IVF_PQ).
 *
 * The residual is cut into m sub-vectors of dsub = dim / m components; each
 * sub-quantizer is a codebook of ksub = 2^nbits centroids trained by k-means
 * (25 iterations, as faiss's ProductQuantizer) on a sample of residuals.  A
 * code is m indices of nbits bits, packed little-endian bit first (the
 * nbits = 8 case is one byte each).  Search is asymmetric (ADC): a lookup
 * table of the query's distance to every sub-centroid, then m lookups per
 * code.  The codebooks are kept once, transposed (pq_cbt[j][t][c]), so
 * that the table loops over c vectorize; training, encoding and the blob
 * see them as rows (pq_get_sub, pq_set_sub).
 */
#include "index/ivf_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index/kmeans_int.h"

#define PQ_NITER 25

void pq_get_sub(const struct ivf *v, size_t j, float *cb)
{
	size_t ksub = ivf_pq_ksub(v), dsub = v->base.info.dim / v->m;
	const float *src = v->pq_cbt + j * dsub * ksub;

	for (size_t c = 0; c < ksub; c++)
		for (size_t t = 0; t < dsub; t++)
			cb[c * dsub + t] = src[t * ksub + c];
}

void pq_set_sub(struct ivf *v, size_t j, const float *cb)
{
	size_t ksub = ivf_pq_ksub(v), dsub = v->base.info.dim / v->m;
	float *dst = v->pq_cbt + j * dsub * ksub;

	for (size_t c = 0; c < ksub; c++)
		for (size_t t = 0; t < dsub; t++)
			dst[t * ksub + c] = cb[c * dsub + t];
}

/* Sub-vectors j of the n rows at x into out (n * dsub). */
static void gather(const float *x, size_t n, size_t d, size_t dsub, size_t j,
		   float *out)
{
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * dsub, x + i * d + j * dsub,
		       dsub * sizeof(float));
}

int pq_train(struct ivf *v, const float *res, size_t n,
	     const struct idx_progress *pr, double lo, double hi,
	     struct mfs_err *err)
{
	size_t d = v->base.info.dim, ksub = ivf_pq_ksub(v), dsub = d / v->m;
	float *sub = malloc(n * dsub * sizeof(float));
	float *cb = malloc(ksub * dsub * sizeof(float));
	int rc = 0;

	if (!sub || !cb) {
		free(sub);
		free(cb);
		return mfs_errf(err, -ENOMEM, "IVF_PQ training: out of memory");
	}
	for (size_t j = 0; j < v->m && rc == 0; j++) {
		double a = lo + (hi - lo) * j / v->m;
		struct km_opts o = {
			.niter = PQ_NITER, .seed = v->seed + 2 + j,
			.max_per_centroid = 256, .pool = v->base.info.pool,
			.progress = pr ? pr->fn : NULL,
			.progress_arg = pr ? pr->arg : NULL,
			.lo = a, .hi = a + (hi - lo) / v->m,
		};

		gather(res, n, d, dsub, j, sub);
		rc = km_train(sub, n, dsub, ksub, &o, cb, err);
		if (rc == 0)
			pq_set_sub(v, j, cb);
	}
	free(sub);
	free(cb);
	return rc;
}

int pq_encode(const struct ivf *v, const float *res, size_t n, uint8_t *codes,
	      struct mfs_err *err)
{
	size_t d = v->base.info.dim, ksub = ivf_pq_ksub(v), dsub = d / v->m;
	float *sub = malloc(n * dsub * sizeof(float));
	float *cb = malloc(ksub * dsub * sizeof(float));
	uint32_t *label = malloc(n * sizeof(uint32_t));
	int rc = 0;

	if (!sub || !cb || !label) {
		rc = mfs_errf(err, -ENOMEM, "IVF_PQ encode: out of memory");
		goto out;
	}
	memset(codes, 0, n * v->code_size);
	for (size_t j = 0; j < v->m; j++) {
		gather(res, n, d, dsub, j, sub);
		pq_get_sub(v, j, cb);
		rc = km_assign(cb, NULL, ksub, sub, n, dsub, v->base.info.pool,
			       label, NULL, err);
		if (rc < 0)
			goto out;
		for (size_t i = 0; i < n; i++) {
			uint8_t *code = codes + i * v->code_size;

			if (v->nbits == 8) {
				code[j] = (uint8_t)label[i];
				continue;
			}
			size_t bit = j * v->nbits;

			for (uint32_t b = 0; b < v->nbits; b++, bit++)
				code[bit >> 3] |= (uint8_t)(((label[i] >> b) & 1)
							    << (bit & 7));
		}
	}
out:
	free(sub);
	free(cb);
	free(label);
	return rc;
}

/* GCC vector extension: the table loops run over c, 8 at a time (ksub is
 * a power of two; below 8 the scalar loop runs). */
typedef float v8f __attribute__((vector_size(32)));

/* The tables of pq_lut_l2 (l2) and pq_lut_ip: for sub-quantizer j and
 * code c, the sum over the sub-vector's dsub dimensions t of (x_t - cb_t)^2,
 * or of -x_t cb_t.  Inlined into both, so l2 is a constant there. */
static inline __attribute__((always_inline))
void lut_fill(const struct ivf *v, const float *x, int l2, float *lut)
{
	size_t d = v->base.info.dim, ksub = ivf_pq_ksub(v), dsub = d / v->m;

	for (size_t j = 0; j < v->m; j++) {
		float *out = lut + j * ksub;

		memset(out, 0, ksub * sizeof(float));
		for (size_t t = 0; t < dsub; t++) {
			const float *cb = v->pq_cbt + (j * dsub + t) * ksub;
			float xt = x[j * dsub + t];
			size_t c = 0;

			for (; c + 8 <= ksub; c += 8) {
				v8f a, o;

				memcpy(&a, cb + c, sizeof(a));
				memcpy(&o, out + c, sizeof(o));
				if (l2) {
					a = xt - a;
					o += a * a;
				} else {
					o -= xt * a;
				}
				memcpy(out + c, &o, sizeof(o));
			}
			for (; c < ksub; c++) {
				float diff = xt - cb[c];

				if (l2)
					out[c] += diff * diff;
				else
					out[c] -= xt * cb[c];
			}
		}
	}
}

void pq_lut_l2(const struct ivf *v, const float *r, float *lut)
{
	lut_fill(v, r, 1, lut);
}

void pq_lut_ip(const struct ivf *v, const float *q, float *lut)
{
	lut_fill(v, q, 0, lut);
}
