/* sq8.c - 8-bit per-dimension scalar quantization of IVF residuals.
 *
 * As faiss's QT_8bit with min/max ranges: each dimension t has a range
 * [min_t, min_t + 256 step_t] trained on residuals; a component x becomes
 * c = floor((x - min_t) / step_t) clamped to [0, 255] and decodes to the
 * middle of its bin, min_t + (c + 0.5) step_t.  Search scores codes
 * directly with vec's SQ8 kernels (vec_sq8_kernel), with per-list terms
 * prepared once (see sq8_prep):
 *
 *   L2:  |q - x|^2 = sum_t (qb_t - c_t step_t)^2     qb = q - base
 *   IP:  -q.x      = -(q.base) - sum_t (q_t step_t) c_t
 */
#include "index/ivf_int.h"

#include <errno.h>
#include <math.h>
#include <string.h>

int sq8_train(struct ivf *v, const float *res, size_t n, struct mfs_err *err)
{
	size_t d = v->base.info.dim;

	for (size_t t = 0; t < d; t++) {
		float lo = INFINITY, hi = -INFINITY;

		for (size_t i = 0; i < n; i++) {
			float x = res[i * d + t];

			lo = x < lo ? x : lo;
			hi = x > hi ? x : hi;
		}
		if (n == 0)
			lo = hi = 0;
		v->sq_min[t] = lo;
		/* A constant dimension still gets a non-zero step. */
		v->sq_step[t] = hi > lo ? (hi - lo) / 256.0f : 1e-6f;
	}
	return 0;
}

void sq8_encode(const struct ivf *v, const float *res, uint8_t *code)
{
	size_t d = v->base.info.dim;

	for (size_t t = 0; t < d; t++) {
		float c = floorf((res[t] - v->sq_min[t]) / v->sq_step[t]);

		code[t] = c < 0 ? 0 : c > 255 ? 255 : (uint8_t)c;
	}
}

void sq8_list_base(const struct ivf *v, const float *cent, float *base)
{
	size_t d = v->base.info.dim;

	for (size_t t = 0; t < d; t++)
		base[t] = cent[t] + v->sq_min[t] + 0.5f * v->sq_step[t];
}

float sq8_prep(const struct ivf *v, const float *q, const float *base,
	       float *w)
{
	size_t d = v->base.info.dim;
	float k = 0;

	if (v->base.info.metric == VEC_L2) {
		for (size_t t = 0; t < d; t++)
			w[t] = q[t] - base[t];
		return 0;
	}
	for (size_t t = 0; t < d; t++) {
		w[t] = q[t] * v->sq_step[t];
		k += q[t] * base[t];
	}
	return -k;
}
