/* vec.h - distance kernels, BLAS batching and top-k selection.
 *
 * Scores.  Inside milvusfs every comparison uses a *score* where smaller is
 * better: squared L2, -IP, -cosine (vectors pre-normalized, so -dot), Hamming
 * distance, Jaccard distance.  vec_score_to_distance() turns a score into the
 * distance Milvus reports (SPEC §6): squared L2, IP, cosine similarity,
 * Hamming, Jaccard.  Kernels never allocate; scratch comes from the caller.
 *
 * Kernels pick the widest SIMD the CPU has at run time (AVX-512, AVX2+FMA,
 * scalar); vec_impl_name() tells which.  All functions here are thread-safe.
 */
#ifndef MFS_VEC_VEC_H
#define MFS_VEC_VEC_H

#include <stddef.h>
#include <stdint.h>

/* For a loop left to the compiler's vectorizer (where vec's hand-written
 * kernels do not apply): a portable build (configure's default) compiles a
 * function so marked for AVX-512, AVX2 and the x86-64 baseline, and the
 * loader picks one at run time (GCC's target_clones, an ifunc), as vec's
 * kernels are picked.  A build whose target has AVX2 (--enable-native)
 * compiles it once.  The clones compute alike: -std=c11 contracts no
 * multiply-add. */
#if defined(__x86_64__) && !defined(__AVX2__) && defined(__GNUC__) && \
	!defined(__clang__)
#define VEC_CLONES __attribute__((target_clones("avx512f", "avx2", \
						      "default")))
#else
#define VEC_CLONES
#endif

enum vec_metric {
	VEC_L2 = 0,
	VEC_IP,
	VEC_COSINE,
	VEC_HAMMING,
	VEC_JACCARD,
};

enum vec_type {
	VEC_FLOAT = 0,          /* dim float32 values */
	VEC_BINARY,             /* dim bits packed in dim/8 bytes, MSB first */
};

/* "L2", "IP", "COSINE", "HAMMING", "JACCARD"; static. */
const char *vec_metric_name(enum vec_metric m);
/* Parse a metric name (case-insensitive; "TANIMOTO" = JACCARD).
 * 0 or -EINVAL. */
int vec_metric_parse(const char *s, enum vec_metric *out);
/* "FLOAT_VECTOR", "BINARY_VECTOR"; static. */
const char *vec_type_name(enum vec_type t);
int vec_type_parse(const char *s, enum vec_type *out);
/* 1 if metric applies to vectors of type t. */
int vec_metric_fits(enum vec_metric m, enum vec_type t);
/* Bytes of one vector: dim*4 (float) or dim/8 (binary). */
size_t vec_bytes(enum vec_type t, uint32_t dim);
/* 1 if the metric ranks higher distances first (IP, COSINE). */
int vec_metric_higher_better(enum vec_metric m);
/* Milvus distance of an internal score (see above). */
float vec_score_to_distance(enum vec_metric m, float score);

/* Name of the kernel set in use: "avx512-vpopcnt" (AVX-512F with
 * VPOPCNTDQ), "avx512", "avx2" or "scalar"; static. */
const char *vec_impl_name(void);

/* Float kernels, d >= 1, any alignment. */
float vec_l2sq(const float *a, const float *b, size_t d);
float vec_dot(const float *a, const float *b, size_t d);
/* Scale v to unit length in place (a zero vector stays zero). */
void vec_normalize(float *v, size_t d);
/* Binary kernels over nbytes bytes. */
uint32_t vec_hamming(const uint8_t *a, const uint8_t *b, size_t nbytes);
float vec_jaccard(const uint8_t *a, const uint8_t *b, size_t nbytes);
/* Score of a against b under metric m (COSINE expects normalized inputs and
 * gives -dot).  a and b point to vec_bytes() bytes. */
float vec_score(enum vec_metric m, const void *a, const void *b, uint32_t dim);
/* A float kernel: the score of a against b over d >= 1 dimensions. */
typedef float (*vec_float_fn)(const float *a, const float *b, size_t d);
/* The kernel behind vec_score for float metric m (squared L2; -dot for IP
 * and COSINE), at the SIMD level chosen at run time, for loops that score
 * one pair at a time (a graph walk) and cannot afford vec_score's metric
 * switch and dispatch on every call: k(a, b, d) == vec_score(m, a, b, d),
 * bit for bit.  NULL for a binary metric.  Thread-safe. */
vec_float_fn vec_score_kernel(enum vec_metric m);
/* A kernel over 8-bit scalar-quantized codes (IVF_SQ8): code byte c_t
 * stands for base_t + c_t step_t, and the caller folds the query into w
 * once per list of codes that share base and step:
 *   L2 form:   sum_t (w_t - c_t step_t)^2     with w = q - base
 *   dot form:  sum_t w_t c_t                  with w = q * step (step unused)
 * over d >= 1 dimensions; any alignment, no byte read past code + d. */
typedef float (*vec_sq8_fn)(const float *w, const float *step,
			    const uint8_t *code, size_t d);
/* The SQ8 kernel for metric m at the SIMD level chosen at run time: the L2
 * form for VEC_L2, the dot form for IP and COSINE; NULL for a binary
 * metric.  Fetched once for a scan (no dispatch per code).  Thread-safe. */
vec_sq8_fn vec_sq8_kernel(enum vec_metric m);
/* Scores of one query against n contiguous vectors: out[j] = score(q, X_j). */
void vec_score_many(enum vec_metric m, const void *q, const void *X, size_t n,
		    uint32_t dim, float *out);

/* Keep OpenBLAS single-threaded: parallelism belongs to the pool (pool.h).
 * Call once at start-up; idempotent. */
void vec_blas_init(void);
/* out[i*ldo + j] = dot(Q_i, X_j) for i < nq, j < nx, with cblas_sgemm.
 * Q is nq x d, X is nx x d, both row-major and contiguous. */
void vec_gemm_dot(const float *Q, size_t nq, const float *X, size_t nx,
		  size_t d, float *out, size_t ldo);
/* Squared norms: out[j] = dot(X_j, X_j). */
void vec_norms_sq(const float *X, size_t n, size_t d, float *out);

/* Top-k: a bounded max-heap on score, so the worst kept hit is at the root
 * and a candidate is rejected in O(1).  Ties keep the smaller id.  Storage
 * is the caller's (k slots each). */
struct vec_topk {
	size_t k;               /* capacity */
	size_t n;               /* hits held, <= k */
	float *score;           /* borrowed, k slots */
	int64_t *id;            /* borrowed, k slots */
};

void vec_topk_init(struct vec_topk *t, size_t k, float *score, int64_t *id);
/* Worst score kept, +INFINITY while fewer than k are held. */
static inline float vec_topk_worst(const struct vec_topk *t)
{
	return t->n < t->k ? __builtin_inff() : t->score[0];
}
/* Offer a hit; kept if among the best k so far. */
void vec_topk_push(struct vec_topk *t, float score, int64_t id);
/* Offer n scores with ids ids[j] (or base + j when ids is NULL). */
void vec_topk_push_many(struct vec_topk *t, const float *score,
			const int64_t *ids, int64_t base, size_t n);
/* As vec_topk_push_many, for scores that are integers in [0, maxv]
 * (Hamming distances).  Each block's own k-th best score is found with a
 * counting pass, and only scores up to it are offered: a block of n
 * scores costs about k heap operations instead of about k ln(n / k),
 * which pays for blocks of 2k to 32k scores (an IVF list).  Same hits as
 * vec_topk_push_many, which it falls back to for other block sizes and
 * for maxv above VEC_TOPK_INT_MAX. */
#define VEC_TOPK_INT_MAX 4096
void vec_topk_push_many_int(struct vec_topk *t, const float *score,
			    const int64_t *ids, int64_t base, size_t n,
			    uint32_t maxv);
/* Offer n scores of metric mt over dim-dimensional vectors: Hamming
 * distances (integers up to dim bits) through vec_topk_push_many_int,
 * every other metric through vec_topk_push_many. */
void vec_topk_push_scores(struct vec_topk *t, enum vec_metric mt, size_t dim,
			  const float *score, const int64_t *ids, int64_t base,
			  size_t n);
/* Sort the held hits best first (ascending score, then id); the heap
 * property is lost: call vec_topk_init again before pushing. */
void vec_topk_sort(struct vec_topk *t);

#endif
