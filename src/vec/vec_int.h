/* vec_int.h - private to src/vec: the kernel sets behind the dispatch.
 *
 * One struct vec_kernels per SIMD level (scalar, AVX2+FMA, AVX-512F, and
 * AVX-512F with VPOPCNTDQ, which only changes hamming_many).  The
 * public functions in vec.h go through the set chosen once at run time
 * (dispatch.c).  Tests reach every level the CPU has through
 * vec_kernels_level() so each is checked against a scalar double reference.
 */
#ifndef MFS_VEC_VEC_INT_H
#define MFS_VEC_VEC_INT_H

#include <stddef.h>
#include <stdint.h>

enum vec_level {
	VEC_LEVEL_SCALAR = 0,
	VEC_LEVEL_AVX2,
	VEC_LEVEL_AVX512,
	VEC_LEVEL_AVX512POP,            /* AVX-512F and VPOPCNTDQ */
	VEC_LEVEL_COUNT,
};

struct vec_kernels {
	const char *name;               /* "scalar", "avx2", "avx512", ... */
	float (*l2sq)(const float *a, const float *b, size_t d);
	float (*dot)(const float *a, const float *b, size_t d);
	/* -dot(a, b): the score of IP and COSINE, for loops that score one
	 * pair at a time through a pointer (vec_score_kernel). */
	float (*ndot)(const float *a, const float *b, size_t d);
	uint32_t (*hamming)(const uint8_t *a, const uint8_t *b, size_t nbytes);
	float (*jaccard)(const uint8_t *a, const uint8_t *b, size_t nbytes);
	/* out[j] = hamming / jaccard of q and the j-th of n rows of nbytes. */
	void (*hamming_many)(const uint8_t *q, const uint8_t *X, size_t n,
			     size_t nbytes, float *out);
	void (*jaccard_many)(const uint8_t *q, const uint8_t *X, size_t n,
			     size_t nbytes, float *out);
	/* out[j] = l2sq(q, X_j) / dot(q, X_j) for n contiguous rows of d. */
	void (*l2sq_many)(const float *q, const float *X, size_t n, size_t d,
			  float *out);
	void (*dot_many)(const float *q, const float *X, size_t n, size_t d,
			 float *out);
	/* IVF_SQ8 codes (vec.h's vec_sq8_fn): sum_t (w_t - c_t step_t)^2 and
	 * sum_t w_t c_t over the d bytes of code c. */
	float (*sq8_l2)(const float *w, const float *step, const uint8_t *c,
			size_t d);
	float (*sq8_dot)(const float *w, const float *step, const uint8_t *c,
			 size_t d);
};

extern const struct vec_kernels vec_kernels_scalar;
extern const struct vec_kernels vec_kernels_avx2;
extern const struct vec_kernels vec_kernels_avx512pop;
extern const struct vec_kernels vec_kernels_avx512;

/* The kernel set of a level, or NULL when this CPU cannot run it. */
const struct vec_kernels *vec_kernels_level(enum vec_level level);
/* The set in use (the widest the CPU runs), chosen once; thread-safe. */
const struct vec_kernels *vec_kernels_get(void);

/* Shared binary helpers (scalar 64-bit popcounts; unaligned-safe). */
static inline uint64_t vec_load64(const uint8_t *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, 8);
	return v;
}

#endif
