/* blas.c - batched dot products through OpenBLAS, and row norms.
 *
 * OpenBLAS is kept at one thread: the engine's pool owns parallelism (each
 * pool task calls sgemm on its own tile), so the two never multiply.  This
 * is the only file in milvusfs that includes <cblas.h>.
 */
#include "vec/vec.h"
#include "vec/vec_int.h"

#include <cblas.h>
#include <pthread.h>

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;

static void blas_single_thread(void)
{
	openblas_set_num_threads(1);
}

void vec_blas_init(void)
{
	pthread_once(&blas_once, blas_single_thread);
}

void vec_gemm_dot(const float *Q, size_t nq, const float *X, size_t nx,
		  size_t d, float *out, size_t ldo)
{
	if (nq == 0 || nx == 0)
		return;
	vec_blas_init();
	if (nq == 1) {
		cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)nx, (int)d, 1.0f,
			    X, (int)d, Q, 1, 0.0f, out, 1);
		return;
	}
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nq, (int)nx,
		    (int)d, 1.0f, Q, (int)d, X, (int)d, 0.0f, out, (int)ldo);
}

void vec_norms_sq(const float *X, size_t n, size_t d, float *out)
{
	const struct vec_kernels *k = vec_kernels_get();

	for (size_t j = 0; j < n; j++)
		out[j] = k->dot(X + j * d, X + j * d, d);
}
