/* kern_avx512.c - AVX-512F kernels (16 floats a step, masked tails).
 *
 * Every function carries __attribute__((target)) so the file builds without
 * -march flags; dispatch.c calls into it only when the CPU has AVX-512F.
 * Masked loads read no byte past the end, so any length and alignment work.
 * The dims 100 and 128 get their own constant-length copies (full unroll, no
 * loop control); the *_many kernels take four rows per pass so each query
 * load feeds four FMAs, and prefetch the rows two passes ahead.
 */
#include "vec/vec_int.h"

#include <immintrin.h>

#define TGT __attribute__((target("avx512f,avx2,fma,popcnt")))
#define INL static inline __attribute__((always_inline)) TGT

INL __mmask16 tail_mask(size_t r)
{
	return (__mmask16)((1u << r) - 1u);
}

/* One accumulator per row, 16 lanes a step, masked tail, then one
 * reduction: exactly the operations of the four-row kernels below, so a
 * row's score is bit-identical whichever kernel computes it (results must
 * not depend on how a scan was split into blocks). */
INL float l2sq_k(const float *a, const float *b, size_t d)
{
	__m512 s = _mm512_setzero_ps();
	size_t i = 0;

	for (; i + 16 <= d; i += 16) {
		__m512 t = _mm512_sub_ps(_mm512_loadu_ps(b + i),
					 _mm512_loadu_ps(a + i));

		s = _mm512_fmadd_ps(t, t, s);
	}
	if (i < d) {
		__mmask16 m = tail_mask(d - i);
		__m512 t = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, b + i),
					 _mm512_maskz_loadu_ps(m, a + i));

		s = _mm512_fmadd_ps(t, t, s);
	}
	return _mm512_reduce_add_ps(s);
}

INL float dot_k(const float *a, const float *b, size_t d)
{
	__m512 s = _mm512_setzero_ps();
	size_t i = 0;

	for (; i + 16 <= d; i += 16)
		s = _mm512_fmadd_ps(_mm512_loadu_ps(b + i),
				    _mm512_loadu_ps(a + i), s);
	if (i < d) {
		__mmask16 m = tail_mask(d - i);

		s = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, b + i),
				    _mm512_maskz_loadu_ps(m, a + i), s);
	}
	return _mm512_reduce_add_ps(s);
}

/* Four rows x, x+d, x+2d, x+3d against q. */
INL void l2sq4_k(const float *q, const float *x, size_t d, float *out)
{
	__m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
	__m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
	size_t i = 0;

	for (; i + 16 <= d; i += 16) {
		__m512 v = _mm512_loadu_ps(q + i);
		__m512 t0 = _mm512_sub_ps(_mm512_loadu_ps(x + i), v);
		__m512 t1 = _mm512_sub_ps(_mm512_loadu_ps(x + d + i), v);
		__m512 t2 = _mm512_sub_ps(_mm512_loadu_ps(x + 2 * d + i), v);
		__m512 t3 = _mm512_sub_ps(_mm512_loadu_ps(x + 3 * d + i), v);

		s0 = _mm512_fmadd_ps(t0, t0, s0);
		s1 = _mm512_fmadd_ps(t1, t1, s1);
		s2 = _mm512_fmadd_ps(t2, t2, s2);
		s3 = _mm512_fmadd_ps(t3, t3, s3);
	}
	if (i < d) {
		__mmask16 m = tail_mask(d - i);
		__m512 v = _mm512_maskz_loadu_ps(m, q + i);
		__m512 t0 = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i), v);
		__m512 t1 = _mm512_sub_ps(
			_mm512_maskz_loadu_ps(m, x + d + i), v);
		__m512 t2 = _mm512_sub_ps(
			_mm512_maskz_loadu_ps(m, x + 2 * d + i), v);
		__m512 t3 = _mm512_sub_ps(
			_mm512_maskz_loadu_ps(m, x + 3 * d + i), v);

		s0 = _mm512_fmadd_ps(t0, t0, s0);
		s1 = _mm512_fmadd_ps(t1, t1, s1);
		s2 = _mm512_fmadd_ps(t2, t2, s2);
		s3 = _mm512_fmadd_ps(t3, t3, s3);
	}
	out[0] = _mm512_reduce_add_ps(s0);
	out[1] = _mm512_reduce_add_ps(s1);
	out[2] = _mm512_reduce_add_ps(s2);
	out[3] = _mm512_reduce_add_ps(s3);
}

INL void dot4_k(const float *q, const float *x, size_t d, float *out)
{
	__m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
	__m512 s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
	size_t i = 0;

	for (; i + 16 <= d; i += 16) {
		__m512 v = _mm512_loadu_ps(q + i);

		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + i), v, s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + d + i), v, s1);
		s2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 2 * d + i), v, s2);
		s3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + 3 * d + i), v, s3);
	}
	if (i < d) {
		__mmask16 m = tail_mask(d - i);
		__m512 v = _mm512_maskz_loadu_ps(m, q + i);

		s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), v, s0);
		s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + d + i), v,
				     s1);
		s2 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + 2 * d + i),
				     v, s2);
		s3 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + 3 * d + i),
				     v, s3);
	}
	out[0] = _mm512_reduce_add_ps(s0);
	out[1] = _mm512_reduce_add_ps(s1);
	out[2] = _mm512_reduce_add_ps(s2);
	out[3] = _mm512_reduce_add_ps(s3);
}

/* Prefetch the 4 rows starting at row j + 8 (two passes ahead). */
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

/* Dispatch on the short dims here, once per call, not per row. */
/* SQ8 codes: 16 bytes widened to floats (vpmovzxbd, vcvtdq2ps), 32 a
 * step over two accumulators; the last d % 16 one by one, so no byte past
 * the code is read. */
INL __m512 u8x16(const uint8_t *c)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(
		_mm_loadu_si128((const __m128i *)(const void *)c)));
}

TGT static float sq8_l2(const float *w, const float *step, const uint8_t *c,
			size_t d)
{
	__m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
	size_t i = 0;
	float r;

	for (; i + 32 <= d; i += 32) {
		__m512 t0 = _mm512_fnmadd_ps(u8x16(c + i),
					     _mm512_loadu_ps(step + i),
					     _mm512_loadu_ps(w + i));
		__m512 t1 = _mm512_fnmadd_ps(u8x16(c + i + 16),
					     _mm512_loadu_ps(step + i + 16),
					     _mm512_loadu_ps(w + i + 16));

		s0 = _mm512_fmadd_ps(t0, t0, s0);
		s1 = _mm512_fmadd_ps(t1, t1, s1);
	}
	if (i + 16 <= d) {
		__m512 t = _mm512_fnmadd_ps(u8x16(c + i),
					    _mm512_loadu_ps(step + i),
					    _mm512_loadu_ps(w + i));

		s0 = _mm512_fmadd_ps(t, t, s0);
		i += 16;
	}
	r = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
	for (; i < d; i++) {
		float t = w[i] - (float)c[i] * step[i];

		r += t * t;
	}
	return r;
}

TGT static float sq8_dot(const float *w, const float *step, const uint8_t *c,
			 size_t d)
{
	__m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
	size_t i = 0;
	float r;

	(void)step;
	for (; i + 32 <= d; i += 32) {
		s0 = _mm512_fmadd_ps(u8x16(c + i), _mm512_loadu_ps(w + i), s0);
		s1 = _mm512_fmadd_ps(u8x16(c + i + 16),
				     _mm512_loadu_ps(w + i + 16), s1);
	}
	if (i + 16 <= d) {
		s0 = _mm512_fmadd_ps(u8x16(c + i), _mm512_loadu_ps(w + i), s0);
		i += 16;
	}
	r = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
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

/* AVX-512 VPOPCNTDQ: Hamming of many rows with a popcount of 64 bytes at
 * once.  16-byte rows (128 bits) eight at a time: two loads, xor with the
 * query repeated, popcounts, qword pairs summed with one unpack and add,
 * narrowed, put back in row order and converted; rows a multiple of 64
 * bytes one at a time; other widths and the last rows as without it. */
#define TGTP __attribute__((target("avx512f,avx512vpopcntdq,avx2,fma," \
					 "popcnt")))

TGTP static void hamming_many_pop(const uint8_t *q, const uint8_t *X,
				  size_t n, size_t nbytes, float *out)
{
	size_t j = 0;

	if (nbytes == 16) {
		const __m512i qq = _mm512_broadcast_i32x4(
			_mm_loadu_si128((const __m128i *)q));
		const __m256i order = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);

		for (; j + 8 <= n; j += 8) {
			const uint8_t *x = X + j * 16;
			__m512i a = _mm512_popcnt_epi64(_mm512_xor_si512(
				_mm512_loadu_si512(x), qq));
			__m512i b = _mm512_popcnt_epi64(_mm512_xor_si512(
				_mm512_loadu_si512(x + 64), qq));
			/* rows 0-3 in a, 4-7 in b, two qwords each:
			 * [a0 b0 a2 b2 ...] + [a1 b1 a3 b3 ...] is
			 * rows 0 4 1 5 2 6 3 7 */
			__m512i sum = _mm512_add_epi64(
				_mm512_unpacklo_epi64(a, b),
				_mm512_unpackhi_epi64(a, b));
			__m256i c = _mm256_permutevar8x32_epi32(
				_mm512_cvtepi64_epi32(sum), order);

			_mm256_storeu_ps(out + j, _mm256_cvtepi32_ps(c));
		}
	} else if (nbytes % 64 == 0) {
		for (; j < n; j++) {
			const uint8_t *x = X + j * nbytes;
			__m512i acc = _mm512_setzero_si512();

			for (size_t o = 0; o < nbytes; o += 64)
				acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(
					_mm512_xor_si512(
						_mm512_loadu_si512(x + o),
						_mm512_loadu_si512(q + o))));
			out[j] = (float)_mm512_reduce_add_epi64(acc);
		}
	}
	if (j < n)
		hamming_many(q, X + j * nbytes, n - j, nbytes, out + j);
}

const struct vec_kernels vec_kernels_avx512pop = {
	.name = "avx512-vpopcnt",
	.l2sq = l2sq,
	.dot = dot,
	.ndot = ndot,
	.hamming = hamming,
	.jaccard = jaccard,
	.hamming_many = hamming_many_pop,
	.jaccard_many = jaccard_many,
	.l2sq_many = l2sq_many,
	.dot_many = dot_many,
	.sq8_l2 = sq8_l2,
	.sq8_dot = sq8_dot,
};

const struct vec_kernels vec_kernels_avx512 = {
	.name = "avx512",
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
