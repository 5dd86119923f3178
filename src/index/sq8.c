/* sq8.c - 8-bit per-dimension scalar quantization of IVF residuals.
 *
 * As faiss's QT_8bit with min/max ranges: each dimension t has a range
 * [min_t, min_t + 256 step_t] trained on residuals; a component x becomes
 * c = floor((x - min_t) / step_t) clamped to [0, 255] and decodes to the
 * middle of its bin, min_t + (c + 0.5) step_t.  Search scores codes
 * directly, with per-list terms prepared once (see sq8_prep):
 *
 *   L2:  |q - x|^2 = sum_t (qb_t - c_t step_t)^2     qb = q - base
 *   IP:  -q.x      = -(q.base) - sum_t (q_t step_t) c_t
 */
#include "index/ivf_int.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

typedef float v8f __attribute__((vector_size(32)));

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

/* ---- scoring: the hot loop of IVF_SQ8 search ----
 *
 * One body (SCORE_BODY), two ways to widen 8 codes to floats: vpmovzxbd +
 * vcvtdq2ps with AVX2, element by element otherwise (GCC scalarizes the
 * generic uint8 -> float conversion).  A portable build (configure's
 * default) compiles both and picks one at run time from the CPU, as vec's
 * kernels are picked (no ifunc: its resolver would run before the
 * sanitizers' runtime is ready in the fuzz builds); a build whose target has
 * AVX2 (--enable-native here) compiles the AVX2 one alone.  Both add in
 * the same order (-std=c11 does not contract to FMA), so they score alike.
 */
#define SCORE_BODY(WIDEN)                                               \
{                                                                       \
	size_t d = v->base.info.dim, t = 0;                             \
	const float *step = v->sq_step;                                 \
	v8f acc = { 0 };                                                \
	float s = 0;                                                    \
									\
	if (v->base.info.metric == VEC_L2) {                            \
		for (; t + 8 <= d; t += 8) {                            \
			v8f a, b, c, x;                                 \
									\
			memcpy(&a, w + t, sizeof(a));                   \
			memcpy(&b, step + t, sizeof(b));                \
			WIDEN(x, code + t);                             \
			c = a - x * b;                                  \
			acc += c * c;                                   \
		}                                                       \
		for (; t < d; t++) {                                    \
			float c = w[t] - (float)code[t] * step[t];      \
									\
			s += c * c;                                     \
		}                                                       \
	} else {                                                        \
		for (; t + 8 <= d; t += 8) {                            \
			v8f a, x;                                       \
									\
			memcpy(&a, w + t, sizeof(a));                   \
			WIDEN(x, code + t);                             \
			acc += a * x;                                   \
		}                                                       \
		for (; t < d; t++)                                      \
			s += w[t] * (float)code[t];                     \
	}                                                               \
	for (int l = 0; l < 8; l++)                                     \
		s += acc[l];                                            \
	return v->base.info.metric == VEC_L2 ? s : k0 - s;              \
}

#define WIDEN_BASE(dst, p) do {                                         \
		const uint8_t *p_ = (p);                                \
		v8f r_ = { p_[0], p_[1], p_[2], p_[3],                  \
			   p_[4], p_[5], p_[6], p_[7] };                \
		(dst) = r_;                                             \
	} while (0)

#if defined(__x86_64__)
#define WIDEN_AVX2(dst, p) do {                                         \
		__m256 f_ = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(    \
			_mm_loadl_epi64((const __m128i *)(const void *)(p)))); \
		memcpy(&(dst), &f_, sizeof(dst));                       \
	} while (0)
#endif

#if defined(__x86_64__) && defined(__AVX2__)

float sq8_score(const struct ivf *v, const float *w, float k0,
		const uint8_t *code)
SCORE_BODY(WIDEN_AVX2)

#elif defined(__x86_64__)

__attribute__((target("avx2")))
static float score_avx2(const struct ivf *v, const float *w, float k0,
			const uint8_t *code)
SCORE_BODY(WIDEN_AVX2)

static float score_base(const struct ivf *v, const float *w, float k0,
			const uint8_t *code)
SCORE_BODY(WIDEN_BASE)

/* The CPU model is read once at start-up (by the compiler's runtime);
 * asking it is a load and a test, next to a dim-long loop. */
float sq8_score(const struct ivf *v, const float *w, float k0,
		const uint8_t *code)
{
	if (__builtin_cpu_supports("avx2"))
		return score_avx2(v, w, k0, code);
	return score_base(v, w, k0, code);
}

#else

float sq8_score(const struct ivf *v, const float *w, float k0,
		const uint8_t *code)
SCORE_BODY(WIDEN_BASE)

#endif
