/* kern_scalar.c - portable kernels: the fallback and the reference level.
 *
 * Four independent accumulators so the compiler can overlap the adds; the
 * binary kernels (kern_bin_int.h) count bits 64 at a time.
 */
#include "vec/vec_int.h"

static float l2sq(const float *a, const float *b, size_t d)
{
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i = 0;

	for (; i + 4 <= d; i += 4) {
		float t0 = a[i] - b[i], t1 = a[i + 1] - b[i + 1];
		float t2 = a[i + 2] - b[i + 2], t3 = a[i + 3] - b[i + 3];

		s0 += t0 * t0;
		s1 += t1 * t1;
		s2 += t2 * t2;
		s3 += t3 * t3;
	}
	for (; i < d; i++) {
		float t = a[i] - b[i];

		s0 += t * t;
	}
	return (s0 + s1) + (s2 + s3);
}

static float dot(const float *a, const float *b, size_t d)
{
	float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i = 0;

	for (; i + 4 <= d; i += 4) {
		s0 += a[i] * b[i];
		s1 += a[i + 1] * b[i + 1];
		s2 += a[i + 2] * b[i + 2];
		s3 += a[i + 3] * b[i + 3];
	}
	for (; i < d; i++)
		s0 += a[i] * b[i];
	return (s0 + s1) + (s2 + s3);
}

static float ndot(const float *a, const float *b, size_t d)
{
	return -dot(a, b, d);
}

static void l2sq_many(const float *q, const float *X, size_t n, size_t d,
		      float *out)
{
	for (size_t j = 0; j < n; j++)
		out[j] = l2sq(q, X + j * d, d);
}

static void dot_many(const float *q, const float *X, size_t n, size_t d,
		     float *out)
{
	for (size_t j = 0; j < n; j++)
		out[j] = dot(q, X + j * d, d);
}

/* SQ8 codes: the same four accumulators. */
static float sq8_l2(const float *w, const float *step, const uint8_t *c,
		    size_t d)
{
	float s[4] = { 0, 0, 0, 0 };
	size_t i = 0;

	for (; i + 4 <= d; i += 4)
		for (size_t l = 0; l < 4; l++) {
			float t = w[i + l] - (float)c[i + l] * step[i + l];

			s[l] += t * t;
		}
	for (; i < d; i++) {
		float t = w[i] - (float)c[i] * step[i];

		s[0] += t * t;
	}
	return (s[0] + s[1]) + (s[2] + s[3]);
}

static float sq8_dot(const float *w, const float *step, const uint8_t *c,
		     size_t d)
{
	float s[4] = { 0, 0, 0, 0 };
	size_t i = 0;

	(void)step;
	for (; i + 4 <= d; i += 4)
		for (size_t l = 0; l < 4; l++)
			s[l] += w[i + l] * (float)c[i + l];
	for (; i < d; i++)
		s[0] += w[i] * (float)c[i];
	return (s[0] + s[1]) + (s[2] + s[3]);
}

#define BIN_TGT
#include "vec/kern_bin_int.h"

const struct vec_kernels vec_kernels_scalar = {
	.name = "scalar",
	.l2sq = l2sq,
	.dot = dot,
	.ndot = ndot,
	.hamming = hamming,
	.jaccard = jaccard,
	.hamming_many = hamming_many,
	.jaccard_many = jaccard_many,
	.l2sq_many = l2sq_many,
	.dot_many = dot_many,
	.sq8_l2 = sq8_l2,
	.sq8_dot = sq8_dot,
};
