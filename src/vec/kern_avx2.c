/* kern_avx2.c - AVX2+FMA kernels (8 floats a step, masked-load tails).
 *
 * Same shape as kern_avx512.c: target attributes on every function, dims
 * 100 and 128 specialized, four rows per pass in the *_many kernels.
 * _mm256_maskload_ps reads nothing where the mask is clear, so tails never
 * touch bytes past the end of a vector.
 */
#include "vec/vec_int.h"

#include <immintrin.h>

#define TGT __attribute__((target("avx2,fma,popcnt")))
#define INL static inline __attribute__((always_inline)) TGT

INL __m256i tail_mask(size_t r)
{
	return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)r),
				  _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

INL float hsum(__m256 v)
{
	__m128 s = _mm_add_ps(_mm256_castps256_ps128(v),
			      _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

/* One accumulator per row, 8 lanes a step, masked tail, one reduction:
 * the same operations as the four-row kernels, so a row's score does not
 * depend on which kernel computed it. */
INL float l2sq_k(const float *a, const float *b, size_t d)
{
	__m256 s = _mm256_setzero_ps();
	size_t i = 0;

	for (; i + 8 <= d; i += 8) {
		__m256 t = _mm256_sub_ps(_mm256_loadu_ps(b + i),
					 _mm256_loadu_ps(a + i));

		s = _mm256_fmadd_ps(t, t, s);
	}
	if (i < d) {
		__m256i m = tail_mask(d - i);
		__m256 t = _mm256_sub_ps(_mm256_maskload_ps(b + i, m),
					 _mm256_maskload_ps(a + i, m));

		s = _mm256_fmadd_ps(t, t, s);
	}
	return hsum(s);
}

INL float dot_k(const float *a, const float *b, size_t d)
{
	__m256 s = _mm256_setzero_ps();
	size_t i = 0;

	for (; i + 8 <= d; i += 8)
		s = _mm256_fmadd_ps(_mm256_loadu_ps(b + i),
				    _mm256_loadu_ps(a + i), s);
	if (i < d) {
		__m256i m = tail_mask(d - i);

		s = _mm256_fmadd_ps(_mm256_maskload_ps(b + i, m),
				    _mm256_maskload_ps(a + i, m), s);
	}
	return hsum(s);
}

INL void l2sq4_k(const float *q, const float *x, size_t d, float *out)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
	__m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
	size_t i = 0;

	for (; i + 8 <= d; i += 8) {
		__m256 v = _mm256_loadu_ps(q + i);
		__m256 t0 = _mm256_sub_ps(_mm256_loadu_ps(x + i), v);
		__m256 t1 = _mm256_sub_ps(_mm256_loadu_ps(x + d + i), v);
		__m256 t2 = _mm256_sub_ps(_mm256_loadu_ps(x + 2 * d + i), v);
		__m256 t3 = _mm256_sub_ps(_mm256_loadu_ps(x + 3 * d + i), v);

		s0 = _mm256_fmadd_ps(t0, t0, s0);
		s1 = _mm256_fmadd_ps(t1, t1, s1);
		s2 = _mm256_fmadd_ps(t2, t2, s2);
		s3 = _mm256_fmadd_ps(t3, t3, s3);
	}
	if (i < d) {
		__m256i m = tail_mask(d - i);
		__m256 v = _mm256_maskload_ps(q + i, m);
		__m256 t0 = _mm256_sub_ps(_mm256_maskload_ps(x + i, m), v);
		__m256 t1 = _mm256_sub_ps(_mm256_maskload_ps(x + d + i, m), v);
		__m256 t2 = _mm256_sub_ps(
			_mm256_maskload_ps(x + 2 * d + i, m), v);
		__m256 t3 = _mm256_sub_ps(
			_mm256_maskload_ps(x + 3 * d + i, m), v);

		s0 = _mm256_fmadd_ps(t0, t0, s0);
		s1 = _mm256_fmadd_ps(t1, t1, s1);
		s2 = _mm256_fmadd_ps(t2, t2, s2);
		s3 = _mm256_fmadd_ps(t3, t3, s3);
	}
	out[0] = hsum(s0);
	out[1] = hsum(s1);
	out[2] = hsum(s2);
	out[3] = hsum(s3);
}

INL void dot4_k(const float *q, const float *x, size_t d, float *out)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
	__m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
	size_t i = 0;

	for (; i + 8 <= d; i += 8) {
		__m256 v = _mm256_loadu_ps(q + i);

		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), v, s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + d + i), v, s1);
		s2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 2 * d + i), v, s2);
		s3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + 3 * d + i), v, s3);
	}
	if (i < d) {
		__m256i m = tail_mask(d - i);
		__m256 v = _mm256_maskload_ps(q + i, m);

		s0 = _mm256_fmadd_ps(_mm256_maskload_ps(x + i, m), v, s0);
		s1 = _mm256_fmadd_ps(_mm256_maskload_ps(x + d + i, m), v, s1);
		s2 = _mm256_fmadd_ps(_mm256_maskload_ps(x + 2 * d + i, m), v,
				     s2);
		s3 = _mm256_fmadd_ps(_mm256_maskload_ps(x + 3 * d + i, m), v,
				     s3);
	}
	out[0] = hsum(s0);
	out[1] = hsum(s1);
	out[2] = hsum(s2);
	out[3] = hsum(s3);
}

INL void prefetch4(const float *X, size_t j, size_t n, size_t d)
{
	if (j + 12 > n)
		return;
	const char *p = (const char *)(X + (j + 8) * d);
	for (size_t o = 0; o < 4 * d * sizeof(float); o += 64)
		_mm_prefetch(p + o, _MM_HINT_T0);
}

INL void l2sq_many_k(const float *q, const float *X, size_t n, size_t d,
		     float *out)
{
	size_t j = 0;

	for (; j + 4 <= n; j += 4) {
		prefetch4(X, j, n, d);
		l2sq4_k(q, X + j * d, d, out + j);
	}
	for (; j < n; j++)
		out[j] = l2sq_k(q, X + j * d, d);
}

INL void dot_many_k(const float *q, const float *X, size_t n, size_t d,
		    float *out)
{
	size_t j = 0;

	for (; j + 4 <= n; j += 4) {
		prefetch4(X, j, n, d);
		dot4_k(q, X + j * d, d, out + j);
	}
	for (; j < n; j++)
		out[j] = dot_k(q, X + j * d, d);
}

/* SQ8 codes: 8 bytes widened to floats (vpmovzxbd, vcvtdq2ps), 16 a
 * step over two accumulators; the last d % 8 one by one, so no byte past
 * the code is read. */
INL __m256 u8x8(const uint8_t *c)
{
	return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(
		_mm_loadl_epi64((const __m128i *)(const void *)c)));
}

TGT static float sq8_l2(const float *w, const float *step, const uint8_t *c,
			size_t d)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
	size_t i = 0;
	float r;

	for (; i + 16 <= d; i += 16) {
		__m256 t0 = _mm256_fnmadd_ps(u8x8(c + i),
					     _mm256_loadu_ps(step + i),
					     _mm256_loadu_ps(w + i));
		__m256 t1 = _mm256_fnmadd_ps(u8x8(c + i + 8),
					     _mm256_loadu_ps(step + i + 8),
					     _mm256_loadu_ps(w + i + 8));

		s0 = _mm256_fmadd_ps(t0, t0, s0);
		s1 = _mm256_fmadd_ps(t1, t1, s1);
	}
	if (i + 8 <= d) {
		__m256 t = _mm256_fnmadd_ps(u8x8(c + i),
					    _mm256_loadu_ps(step + i),
					    _mm256_loadu_ps(w + i));

		s0 = _mm256_fmadd_ps(t, t, s0);
		i += 8;
	}
	r = hsum(_mm256_add_ps(s0, s1));
	for (; i < d; i++) {
		float t = w[i] - (float)c[i] * step[i];

		r += t * t;
	}
	return r;
}

TGT static float sq8_dot(const float *w, const float *step, const uint8_t *c,
			 size_t d)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
	size_t i = 0;
	float r;

	(void)step;
	for (; i + 16 <= d; i += 16) {
		s0 = _mm256_fmadd_ps(u8x8(c + i), _mm256_loadu_ps(w + i), s0);
		s1 = _mm256_fmadd_ps(u8x8(c + i + 8), _mm256_loadu_ps(w + i + 8),
				     s1);
	}
	if (i + 8 <= d) {
		s0 = _mm256_fmadd_ps(u8x8(c + i), _mm256_loadu_ps(w + i), s0);
		i += 8;
	}
	r = hsum(_mm256_add_ps(s0, s1));
	for (; i < d; i++)
		r += w[i] * (float)c[i];
	return r;
}

TGT static float l2sq(const float *a, const float *b, size_t d)
{
	if (d == 128)
		return l2sq_k(a, b, 128);
	if (d == 100)
		return l2sq_k(a, b, 100);
	return l2sq_k(a, b, d);
}

TGT static float dot(const float *a, const float *b, size_t d)
{
	if (d == 128)
		return dot_k(a, b, 128);
	if (d == 100)
		return dot_k(a, b, 100);
	return dot_k(a, b, d);
}

TGT __attribute__((flatten)) static float ndot(const float *a, const float *b,
					       size_t d)
{
	return -dot(a, b, d);           /* flatten: dot inlined here */
}

TGT static void l2sq_many(const float *q, const float *X, size_t n, size_t d,
			  float *out)
{
	if (d == 128)
		l2sq_many_k(q, X, n, 128, out);
	else if (d == 100)
		l2sq_many_k(q, X, n, 100, out);
	else
		l2sq_many_k(q, X, n, d, out);
}

TGT static void dot_many(const float *q, const float *X, size_t n, size_t d,
			 float *out)
{
	if (d == 128)
		dot_many_k(q, X, n, 128, out);
	else if (d == 100)
		dot_many_k(q, X, n, 100, out);
	else
		dot_many_k(q, X, n, d, out);
}

#define BIN_TGT TGT
#include "vec/kern_bin_int.h"

const struct vec_kernels vec_kernels_avx2 = {
	.name = "avx2",
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
