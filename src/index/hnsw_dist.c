/* hnsw_dist.c - the HNSW graph's own distance kernels, picked at run time.
 *
 * The graph walk computes one distance at a time on short vectors, where a
 * call through vec.h's generic vec_score (metric switch) costs as much as the
 * arithmetic; these kernels are the two the graph needs (squared L2, -dot),
 * compiled for AVX-512, AVX2+FMA and plain C with __attribute__((target)),
 * and chosen once per index with __builtin_cpu_supports.  The AVX-512 ones
 * load the tail with a mask, so no scalar loop runs for d % 16 != 0.
 */
#include "index/hnsw_int.h"

#include <immintrin.h>
#include <stddef.h>

static float l2_scalar(const float *a, const float *b, size_t d)
{
	float s = 0;

	for (size_t i = 0; i < d; i++) {
		float t = a[i] - b[i];
		s += t * t;
	}
	return s;
}

static float ip_scalar(const float *a, const float *b, size_t d)
{
	float s = 0;

	for (size_t i = 0; i < d; i++)
		s += a[i] * b[i];
	return -s;
}

__attribute__((target("avx2,fma")))
static float hsum256(__m256 v)
{
	__m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);

	lo = _mm_add_ps(lo, hi);
	lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
	lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
	return _mm_cvtss_f32(lo);
}

__attribute__((target("avx2,fma")))
static float l2_avx2(const float *a, const float *b, size_t d)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
	size_t i = 0;
	float s;

	for (; i + 16 <= d; i += 16) {
		__m256 t0 = _mm256_sub_ps(_mm256_loadu_ps(a + i),
					  _mm256_loadu_ps(b + i));
		__m256 t1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8),
					  _mm256_loadu_ps(b + i + 8));
		s0 = _mm256_fmadd_ps(t0, t0, s0);
		s1 = _mm256_fmadd_ps(t1, t1, s1);
	}
	for (; i + 8 <= d; i += 8) {
		__m256 t = _mm256_sub_ps(_mm256_loadu_ps(a + i),
					 _mm256_loadu_ps(b + i));
		s0 = _mm256_fmadd_ps(t, t, s0);
	}
	s = hsum256(_mm256_add_ps(s0, s1));
	for (; i < d; i++) {
		float t = a[i] - b[i];
		s += t * t;
	}
	return s;
}

__attribute__((target("avx2,fma")))
static float ip_avx2(const float *a, const float *b, size_t d)
{
	__m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
	size_t i = 0;
	float s;

	for (; i + 16 <= d; i += 16) {
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i),
				     _mm256_loadu_ps(b + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8),
				     _mm256_loadu_ps(b + i + 8), s1);
	}
	for (; i + 8 <= d; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i),
				     _mm256_loadu_ps(b + i), s0);
	s = hsum256(_mm256_add_ps(s0, s1));
	for (; i < d; i++)
		s += a[i] * b[i];
	return -s;
}

__attribute__((target("avx512f")))
static float l2_avx512(const float *a, const float *b, size_t d)
{
	__m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
	size_t i = 0;

	for (; i + 32 <= d; i += 32) {
		__m512 t0 = _mm512_sub_ps(_mm512_loadu_ps(a + i),
					  _mm512_loadu_ps(b + i));
		__m512 t1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16),
					  _mm512_loadu_ps(b + i + 16));
		s0 = _mm512_fmadd_ps(t0, t0, s0);
		s1 = _mm512_fmadd_ps(t1, t1, s1);
	}
	for (; i + 16 <= d; i += 16) {
		__m512 t = _mm512_sub_ps(_mm512_loadu_ps(a + i),
					 _mm512_loadu_ps(b + i));
		s0 = _mm512_fmadd_ps(t, t, s0);
	}
	if (i < d) {
		__mmask16 m = (__mmask16)((1u << (d - i)) - 1);
		__m512 t = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i),
					 _mm512_maskz_loadu_ps(m, b + i));
		s1 = _mm512_fmadd_ps(t, t, s1);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f")))
static float ip_avx512(const float *a, const float *b, size_t d)
{
	__m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
	size_t i = 0;

	for (; i + 32 <= d; i += 32) {
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i),
				     _mm512_loadu_ps(b + i), s0);
		s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16),
				     _mm512_loadu_ps(b + i + 16), s1);
	}
	for (; i + 16 <= d; i += 16)
		s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i),
				     _mm512_loadu_ps(b + i), s0);
	if (i < d) {
		__mmask16 m = (__mmask16)((1u << (d - i)) - 1);
		s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i),
				     _mm512_maskz_loadu_ps(m, b + i), s1);
	}
	return -_mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

hnsw_dist_fn hnsw_dist_pick(int ip)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return ip ? ip_avx512 : l2_avx512;
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return ip ? ip_avx2 : l2_avx2;
	return ip ? ip_scalar : l2_scalar;
}

const char *hnsw_dist_impl(void)
{
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f"))
		return "avx512";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "avx2";
	return "scalar";
}
