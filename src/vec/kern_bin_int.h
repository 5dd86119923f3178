/* kern_bin_int.h - private to src/vec: the binary kernels, written once and
 * compiled into each kern_*.c under that file's target attribute.
 *
 * The includer defines BIN_TGT (its __attribute__((target)), or nothing for
 * scalar) before including.  Bits are counted 64 at a time with unaligned-
 * safe loads; the *_many versions specialize the common widths (128, 256,
 * 512, 1024 bits) so the inner loop is fully unrolled.
 */
#ifndef MFS_VEC_KERN_BIN_INT_H
#define MFS_VEC_KERN_BIN_INT_H

#include "vec/vec_int.h"

#define BIN_INL static inline __attribute__((always_inline)) BIN_TGT

BIN_INL uint32_t ham_k(const uint8_t *a, const uint8_t *b, size_t nbytes)
{
	uint32_t c = 0;
	size_t i = 0;

	for (; i + 8 <= nbytes; i += 8)
		c += (uint32_t)__builtin_popcountll(vec_load64(a + i) ^
						    vec_load64(b + i));
	for (; i < nbytes; i++)
		c += (uint32_t)__builtin_popcount((unsigned)(a[i] ^ b[i]));
	return c;
}

BIN_INL float jac_k(const uint8_t *a, const uint8_t *b, size_t nbytes)
{
	uint32_t in = 0, un = 0;
	size_t i = 0;

	for (; i + 8 <= nbytes; i += 8) {
		uint64_t x = vec_load64(a + i), y = vec_load64(b + i);

		in += (uint32_t)__builtin_popcountll(x & y);
		un += (uint32_t)__builtin_popcountll(x | y);
	}
	for (; i < nbytes; i++) {
		in += (uint32_t)__builtin_popcount((unsigned)(a[i] & b[i]));
		un += (uint32_t)__builtin_popcount((unsigned)(a[i] | b[i]));
	}
	/* Two empty sets are identical: distance 0. */
	return un ? 1.0f - (float)in / (float)un : 0.0f;
}

BIN_TGT static uint32_t hamming(const uint8_t *a, const uint8_t *b,
				size_t nbytes)
{
	return ham_k(a, b, nbytes);
}

BIN_TGT static float jaccard(const uint8_t *a, const uint8_t *b,
			     size_t nbytes)
{
	return jac_k(a, b, nbytes);
}

#define BIN_MANY(kern, nb)                                               \
	for (size_t j = 0; j < n; j++)                                   \
		out[j] = (float)kern(q, X + j * (nb), (nb))

BIN_TGT static void hamming_many(const uint8_t *q, const uint8_t *X,
				 size_t n, size_t nbytes, float *out)
{
	switch (nbytes) {
	case 16:
		BIN_MANY(ham_k, 16);
		break;
	case 32:
		BIN_MANY(ham_k, 32);
		break;
	case 64:
		BIN_MANY(ham_k, 64);
		break;
	case 128:
		BIN_MANY(ham_k, 128);
		break;
	default:
		BIN_MANY(ham_k, nbytes);
	}
}

BIN_TGT static void jaccard_many(const uint8_t *q, const uint8_t *X,
				 size_t n, size_t nbytes, float *out)
{
	switch (nbytes) {
	case 16:
		BIN_MANY(jac_k, 16);
		break;
	case 32:
		BIN_MANY(jac_k, 32);
		break;
	case 64:
		BIN_MANY(jac_k, 64);
		break;
	case 128:
		BIN_MANY(jac_k, 128);
		break;
	default:
		BIN_MANY(jac_k, nbytes);
	}
}

#undef BIN_MANY

#endif
