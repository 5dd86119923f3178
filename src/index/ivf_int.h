/* ivf_int.h - the inverted-file core shared by IVF_FLAT, IVF_SQ8, IVF_PQ
 * and BIN_IVF_FLAT (private to src/index/ivf*.c, sq8.c, pq.c, bin_ivf.c).
 *
 * An IVF index is a coarse quantizer (nlist centroids trained by k-means)
 * and nlist inverted lists; each list holds the ids and the codes of the
 * entities whose nearest centroid (squared L2; Hamming for binary) it is.
 * What a code is depends on the kind:
 *
 *   FLAT  the vector itself (normalized for COSINE), dim floats
 *   SQ8   the residual to the list's centroid, one byte per dimension
 *         scaled between per-dimension min and max (faiss QT_8bit)
 *   PQ    the residual, m sub-quantizer indices of nbits bits each
 *   BIN   the packed bits themselves
 *
 * Raw vectors are not kept for SQ8 and PQ (they live in LMDB), so memory is
 * centroids + quantizer tables + per entity (8-byte id + code).  There is no
 * id -> list map: remove() scans the lists once per call against the sorted
 * ids to drop, which keeps memory to ids + codes.
 *
 * Training needs enough points (ivf_min_train: 39 per list, as faiss asks,
 * and for PQ at least one per sub-centroid up to 4096).  Until a partition
 * has that many, the index is untrained and keeps its entities pending, as
 * prepared vectors searched exactly; the add() that reaches the threshold
 * trains on all of them.  So an index created on an empty collection and
 * filled by small inserts ends up as good as one built after the import.
 * All state is owned by struct ivf; search() only reads it.
 */
#ifndef MFS_INDEX_IVF_INT_H
#define MFS_INDEX_IVF_INT_H

#include <stddef.h>
#include <stdint.h>

#include "index/index.h"

enum ivf_kind { IVF_FLAT = 0, IVF_SQ8, IVF_PQ, IVF_BIN };

#define IVF_NLIST_MAX 65536
#define IVF_NLIST_DEF 128
#define IVF_NPROBE_DEF 8
#define IVF_SEED 0x4d46534956464cULL    /* fixed: builds are reproducible */
#define IVF_SEED_MAX 2147483647L        /* build parameter `seed` range */

struct ivf_list {
	int64_t *ids;                   /* n used, cap allocated */
	uint8_t *codes;                 /* n * code_size */
	size_t n, cap;
};

struct ivf {
	struct idx base;
	enum ivf_kind kind;
	uint32_t nlist;
	uint32_t m, nbits;              /* PQ only */
	uint64_t seed;                  /* training seed (ivf_seed) */
	int trained;
	size_t code_size;               /* bytes per entity code */
	size_t ntotal;
	float *cent;                    /* nlist * dim (float kinds) */
	float *cnorm;                   /* nlist squared norms */
	uint8_t *bcent;                 /* nlist * dim/8 (binary) */
	float *sq_min, *sq_step;        /* SQ8: dim each; x = min + (c+.5)*step */
	float *pq_cbt;                  /* PQ codebooks as m * dsub * ksub
					 * (transposed: the table loops run
					 * over c); the only copy kept */
	struct ivf_list *lists;         /* nlist */
	/* Untrained only: entities waiting for training (prepared vectors). */
	int64_t *pend_ids;
	uint8_t *pend_vecs;
	size_t pend_n, pend_cap;
};

/* Parameters read from a canonical kv (see ivf_params).  seed is the
 * optional build parameter `seed` (0 when absent): it only chooses the
 * training sample, the initial centroids and the splits, so builds with
 * different seeds show the spread of recall that k-means' initialization
 * alone causes (bench/bench_ivf.py averages over a few). */
struct ivf_params {
	uint32_t nlist, m, nbits;
	uint64_t seed;
};

/* The generator seed of build parameter seed: IVF_SEED for 0 (the default,
 * so builds without the parameter are unchanged), distinct otherwise. */
static inline uint64_t ivf_seed(uint64_t param)
{
	return IVF_SEED ^ (param * 0x9e3779b97f4a7c15ULL);
}

static inline size_t ivf_pq_ksub(const struct ivf *v)
{
	return (size_t)1 << v->nbits;
}

/* ivf.c: parameters, lifecycle, build, add, remove. */
int ivf_params(enum ivf_kind kind, const struct idx_info *info,
	       const struct mfs_kv *kv, struct ivf_params *p,
	       struct mfs_err *err);
/* Validate params for kind and write the canonical list to canon. */
int ivf_check(enum ivf_kind kind, const char *name,
	      const struct idx_info *info, const struct mfs_kv *params,
	      struct mfs_kv *canon, struct mfs_err *err);
int ivf_new(const struct idx_type *type, enum ivf_kind kind,
	    const struct idx_info *info, const struct ivf_params *p,
	    struct ivf **out);
void ivf_destroy(struct ivf *v);
/* Train on n prepared vectors (float kinds: normalized for COSINE). */
int ivf_train(struct ivf *v, const void *x, size_t n,
	      const struct idx_progress *pr, double lo, double hi,
	      struct mfs_err *err);
/* Points needed before training. */
size_t ivf_min_train(const struct ivf *v);
/* The same for parameters canon (idx_type.train_min), and 0 when v is
 * trained (idx_type.train_wait). */
size_t ivf_train_min(enum ivf_kind kind, const struct idx_info *info,
		     const struct mfs_kv *canon);
size_t ivf_generic_train_wait(const struct idx *ix);
/* Take n prepared vectors: add them when trained, else keep them pending
 * and train once enough are there (progress lo..hi). */
int ivf_feed(struct ivf *v, const int64_t *ids, const void *x, size_t n,
	     const struct idx_progress *pr, double lo, double hi,
	     struct mfs_err *err);
/* Assign, encode and append n prepared vectors. */
int ivf_add_prepared(struct ivf *v, const int64_t *ids, const void *x,
		     size_t n, const struct idx_progress *pr, double lo,
		     double hi, struct mfs_err *err);
/* Float kinds under COSINE: a normalized copy in *copy (free it); others:
 * *out = vecs.  0 or -ENOMEM. */
int ivf_prepare(const struct ivf *v, const void *vecs, size_t n,
		const void **out, float **copy);
/* Grow l's storage to at least cap entries. 0 or -ENOMEM. */
int ivf_list_reserve(struct ivf_list *l, size_t cap, size_t code_size);
int ivf_list_push(struct ivf_list *l, int64_t id, const uint8_t *code,
		  size_t code_size);
void ivf_shrink(struct ivf *v);
int ivf_generic_add(struct idx *ix, const int64_t *ids, const void *vecs,
		    size_t n, struct mfs_err *err);
/* Shared vtable entries. */
int ivf_generic_check_search(const struct idx *ix, const struct mfs_kv *sp,
			     size_t k, struct mfs_err *err);
void ivf_generic_remove(struct idx *ix, const int64_t *ids, size_t n);
size_t ivf_generic_count(const struct idx *ix);
size_t ivf_generic_memory(const struct idx *ix);
void ivf_generic_free(struct idx *ix);
int ivf_generic_build(enum ivf_kind kind, const struct idx_type *type,
		      const struct idx_info *info, const struct mfs_kv *canon,
		      const int64_t *ids, const void *vecs, size_t n,
		      const struct idx_progress *pr, struct idx **out,
		      struct mfs_err *err);
size_t ivf_estimate(enum ivf_kind kind, const struct idx_info *info,
		    const struct mfs_kv *canon, size_t n);

/* ivf_search.c */
int ivf_generic_search(const struct idx *ix, const void *q, size_t nq,
		       const struct mfs_kv *sp, struct idx_hits *hits,
		       struct mfs_err *err);

/* The same under an allow-list (index.h search_filtered). */
int ivf_generic_search_filtered(const struct idx *ix, const void *q,
				size_t nq, const struct mfs_kv *sp,
				const struct idx_allow *a,
				struct idx_hits *hits, struct mfs_err *err);

/* ivf_io.c */
int ivf_generic_save(const struct idx *ix, struct mfs_buf *blob);
int ivf_generic_restore(enum ivf_kind kind, const struct idx_type *type,
			const struct idx_info *info,
			const struct mfs_kv *canon, const void *blob,
			size_t len, const int64_t *ids, const void *vecs,
			size_t n, struct idx **out, struct mfs_err *err);

/* sq8.c: train min/step on n residuals; encode one residual. */
int sq8_train(struct ivf *v, const float *res, size_t n, struct mfs_err *err);
void sq8_encode(const struct ivf *v, const float *res, uint8_t *code);
/* base[t] = cent[t] + min[t] + 0.5 step[t]: x[t] = base[t] + c[t] step[t] */
void sq8_list_base(const struct ivf *v, const float *cent, float *base);
/* Per (query, list) weights w (dim floats) and constant for sq8_score. */
float sq8_prep(const struct ivf *v, const float *q, const float *base,
	       float *w);
/* Score of one code: squared L2, or -IP for IP and COSINE; fn is
 * vec_sq8_kernel(metric), fetched once for the scan. */
static inline float sq8_score(const struct ivf *v, vec_sq8_fn fn,
			      const float *w, float k0, const uint8_t *code)
{
	float s = fn(w, v->sq_step, code, v->base.info.dim);

	return v->base.info.metric == VEC_L2 ? s : k0 - s;
}

/* pq.c */
int pq_train(struct ivf *v, const float *res, size_t n,
	     const struct idx_progress *pr, double lo, double hi,
	     struct mfs_err *err);
/* Encode n residuals into codes (n * code_size), parallel over the pool. */
int pq_encode(const struct ivf *v, const float *res, size_t n, uint8_t *codes,
	      struct mfs_err *err);
/* Sub-codebook j as ksub rows of dsub floats (the layout of training,
 * encoding and the blob) into cb, from pq_cbt; and the reverse. */
void pq_get_sub(const struct ivf *v, size_t j, float *cb);
void pq_set_sub(struct ivf *v, size_t j, const float *cb);
/* Index j of code (nbits bits each, little-endian bit order). */
static inline uint32_t pq_code_get(const uint8_t *code, uint32_t j,
				   uint32_t nbits)
{
	if (nbits == 8)
		return code[j];
	size_t bit = (size_t)j * nbits;
	uint32_t val = 0;

	for (uint32_t b = 0; b < nbits; b++, bit++)
		val |= (uint32_t)((code[bit >> 3] >> (bit & 7)) & 1) << b;
	return val;
}
/* Squared-L2 table: lut[j * ksub + c] = |r_j - cb_jc|^2. */
void pq_lut_l2(const struct ivf *v, const float *r, float *lut);
/* Inner-product table: lut[j * ksub + c] = -(q_j . cb_jc). */
void pq_lut_ip(const struct ivf *v, const float *q, float *lut);

/* bin_ivf.c: nearest binary centroid by Hamming. */
void bin_assign(const struct ivf *v, const uint8_t *x, size_t n,
		uint32_t *label);
int bin_train(struct ivf *v, const uint8_t *x, size_t n,
	      const struct idx_progress *pr, double lo, double hi,
	      struct mfs_err *err);

#endif
