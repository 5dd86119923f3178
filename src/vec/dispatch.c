/* dispatch.c - run-time choice of the kernel set, and the public kernels.
 *
 * Design: the widest level the CPU runs (AVX-512F with VPOPCNTDQ, AVX-512F,
 * AVX2+FMA, scalar) is picked once, under pthread_once, into `chosen`.  That pointer is
 * the module's only mutable static: written exactly once before any reader
 * can see it (pthread_once orders the write), then read-only.  Everything
 * else in vec is stateless and thread-safe.
 */
#include "vec/vec.h"
#include "vec/vec_int.h"

#include <math.h>
#include <pthread.h>

static pthread_once_t choose_once = PTHREAD_ONCE_INIT;
static const struct vec_kernels *chosen;        /* set once by choose() */

static int cpu_has(enum vec_level level)
{
	__builtin_cpu_init();
	switch (level) {
	case VEC_LEVEL_SCALAR:
		return 1;
	case VEC_LEVEL_AVX2:
		return __builtin_cpu_supports("avx2") &&
		       __builtin_cpu_supports("fma") &&
		       __builtin_cpu_supports("popcnt");
	case VEC_LEVEL_AVX512:
		return __builtin_cpu_supports("avx512f") &&
		       __builtin_cpu_supports("avx2") &&
		       __builtin_cpu_supports("fma") &&
		       __builtin_cpu_supports("popcnt");
	case VEC_LEVEL_AVX512POP:
		return cpu_has(VEC_LEVEL_AVX512) &&
		       __builtin_cpu_supports("avx512vpopcntdq");
	case VEC_LEVEL_COUNT:
		break;
	}
	return 0;
}

const struct vec_kernels *vec_kernels_level(enum vec_level level)
{
	static const struct vec_kernels *const sets[VEC_LEVEL_COUNT] = {
		[VEC_LEVEL_SCALAR] = &vec_kernels_scalar,
		[VEC_LEVEL_AVX2] = &vec_kernels_avx2,
		[VEC_LEVEL_AVX512] = &vec_kernels_avx512,
		[VEC_LEVEL_AVX512POP] = &vec_kernels_avx512pop,
	};

	if ((unsigned)level >= VEC_LEVEL_COUNT || !cpu_has(level))
		return NULL;
	return sets[level];
}

static void choose(void)
{
	for (int l = VEC_LEVEL_COUNT - 1; l >= 0; l--) {
		const struct vec_kernels *k = vec_kernels_level(l);

		if (k) {
			chosen = k;
			return;
		}
	}
}

const struct vec_kernels *vec_kernels_get(void)
{
	pthread_once(&choose_once, choose);
	return chosen;
}

const char *vec_impl_name(void)
{
	return vec_kernels_get()->name;
}

float vec_l2sq(const float *a, const float *b, size_t d)
{
	return vec_kernels_get()->l2sq(a, b, d);
}

float vec_dot(const float *a, const float *b, size_t d)
{
	return vec_kernels_get()->dot(a, b, d);
}

vec_float_fn vec_score_kernel(enum vec_metric m)
{
	const struct vec_kernels *k = vec_kernels_get();

	switch (m) {
	case VEC_L2:
		return k->l2sq;
	case VEC_IP:
	case VEC_COSINE:
		return k->ndot;
	case VEC_HAMMING:
	case VEC_JACCARD:
		break;
	}
	return NULL;
}

vec_sq8_fn vec_sq8_kernel(enum vec_metric m)
{
	const struct vec_kernels *k = vec_kernels_get();

	switch (m) {
	case VEC_L2:
		return k->sq8_l2;
	case VEC_IP:
	case VEC_COSINE:
		return k->sq8_dot;
	case VEC_HAMMING:
	case VEC_JACCARD:
		break;
	}
	return NULL;
}

void vec_normalize(float *v, size_t d)
{
	double s = 0;

	/* The norm in double: a unit vector should come out unit. */
	for (size_t i = 0; i < d; i++)
		s += (double)v[i] * v[i];
	if (s <= 0)
		return;
	float inv = (float)(1.0 / sqrt(s));
	for (size_t i = 0; i < d; i++)
		v[i] *= inv;
}

uint32_t vec_hamming(const uint8_t *a, const uint8_t *b, size_t nbytes)
{
	return vec_kernels_get()->hamming(a, b, nbytes);
}

float vec_jaccard(const uint8_t *a, const uint8_t *b, size_t nbytes)
{
	return vec_kernels_get()->jaccard(a, b, nbytes);
}

float vec_score(enum vec_metric m, const void *a, const void *b, uint32_t dim)
{
	const struct vec_kernels *k = vec_kernels_get();

	switch (m) {
	case VEC_L2:
		return k->l2sq(a, b, dim);
	case VEC_IP:
	case VEC_COSINE:
		return k->ndot(a, b, dim);
	case VEC_HAMMING:
		return (float)k->hamming(a, b, dim / 8);
	case VEC_JACCARD:
		return k->jaccard(a, b, dim / 8);
	}
	return INFINITY;
}

void vec_score_many(enum vec_metric m, const void *q, const void *X, size_t n,
		    uint32_t dim, float *out)
{
	const struct vec_kernels *k = vec_kernels_get();
	size_t nb = dim / 8;

	switch (m) {
	case VEC_L2:
		k->l2sq_many(q, X, n, dim, out);
		return;
	case VEC_IP:
	case VEC_COSINE:
		k->dot_many(q, X, n, dim, out);
		for (size_t j = 0; j < n; j++)
			out[j] = -out[j];
		return;
	case VEC_HAMMING:
		k->hamming_many(q, X, n, nb, out);
		return;
	case VEC_JACCARD:
		k->jaccard_many(q, X, n, nb, out);
		return;
	}
	for (size_t j = 0; j < n; j++)
		out[j] = INFINITY;
}
