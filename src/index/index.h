/* index.h - the in-memory searchable form of one partition, behind a vtable.
 *
 * A loaded partition is exactly one struct idx: FLAT keeps the raw vectors,
 * HNSW keeps vectors plus graph, IVF_SQ8/IVF_PQ keep only codes.  The engine
 * builds one when an index is created or a partition is loaded, feeds it
 * inserts and deletes, and asks it for the best k of a batch of queries.
 * Adding an index type means one file, its extern at the end of this
 * header and one line in the table in index.c (idx_lookup, idx_names).
 *
 * Vectors handed to an index are as stored: float32 (VEC_FLOAT) or packed
 * bits (VEC_BINARY).  For COSINE the index normalizes its own copy and the
 * queries it receives (scores are then -dot).
 *
 * Build parameters arrive as an mfs_kv ("M" -> "16"); check() validates them
 * in Milvus's ranges and wording and writes the canonical, complete list
 * (defaults filled in) that `cat index` shows and that is persisted.
 *
 * Persistence: save() serializes what is costly to rebuild (graph,
 * centroids, codes) into a blob the engine stores in LMDB; restore() turns
 * blob + the partition's current entities back into an index without
 * retraining or rebuilding.  The blob may be stale: entities inserted after
 * it was saved are added and deleted ones dropped by restore(), which must
 * end with exactly the entities given.
 *
 * Thread-safety: search() may run concurrently with search() on the same
 * index.  add(), remove() and free() need exclusive access (the engine holds
 * the partition's write lock).  Types are stateless; idx_lookup is
 * thread-safe.
 */
#ifndef MFS_INDEX_INDEX_H
#define MFS_INDEX_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/kv.h"
#include "base/pool.h"
#include "vec/vec.h"

/* What an index is built over.  pool may be NULL (single-threaded). */
struct idx_info {
	enum vec_type vtype;
	enum vec_metric metric;
	uint32_t dim;                   /* floats, or bits for VEC_BINARY */
	struct mfs_pool *pool;          /* borrowed; for builds and batches */
};

/* Progress of a build: fn(arg, pct) with pct rising in [0, 100]; may be
 * called from any pool thread.  NULL fn allowed. */
struct idx_progress {
	void (*fn)(void *arg, double pct);
	void *arg;
};

/* One batch of hits: for query i, count[i] hits at score[i*k ..],
 * id[i*k ..], best (smallest score) first; count[i] < k when fewer entities
 * exist. */
struct idx_hits {
	size_t k;
	size_t *count;                  /* nq */
	float *score;                   /* nq * k */
	int64_t *id;                    /* nq * k */
};

struct idx;

/* What a filtered or range search may return (SPEC §10), built once per
 * search and partition by the engine and only read by the index.
 *
 * Ids: when `ids_on`, only the ids listed in ids[0, n) (any order, each
 * once) may be returned; idx_allow_id() answers in O(1) from a bitmap over
 * [base, base + span) (dense ids) or an open-addressing set (mask + 1
 * slots, IDX_ALLOW_EMPTY free; has_empty says whether that id itself is
 * allowed).  Scores: only hits with lo <= score < hi (internal scores,
 * vec.h) may be returned; -inf and +inf when there is no window.
 *
 * Strategy (the engine's choice, ARCHITECTURE.md): exact = 1 asks for
 * every allowed entity to be scored (few matches: a scan of the matches
 * is cheaper and exact); exact = 0 asks for the index's own walk widened
 * past what it disallows: HNSW traverses disallowed nodes but returns
 * only allowed ones, IVF scans lists in centroid order, skipping
 * disallowed entries, until it has scored as many allowed entries as an
 * unfiltered search of nprobe lists scores.  Either way a search returns
 * min(k, allowed) hits when the window does not cut them. */
#define IDX_ALLOW_EMPTY INT64_MIN
struct idx_allow {
	int ids_on;
	const int64_t *ids;             /* n allowed ids */
	size_t n;
	int64_t base;                   /* bitmap (bits != NULL) */
	uint64_t span;
	const uint64_t *bits;
	const int64_t *set;             /* else a set of mask + 1 slots */
	size_t mask;
	int has_empty;
	int exact;
	float lo, hi;                   /* score window */
};

/* Slot of id in a set of mask + 1 slots (the engine fills, the index
 * reads: one hash). */
static inline size_t idx_allow_slot(int64_t id, size_t mask)
{
	return ((uint64_t)id * 0x9e3779b97f4a7c15ULL) >> 20 & mask;
}

static inline int idx_allow_id(const struct idx_allow *a, int64_t id)
{
	if (!a->ids_on)
		return 1;
	if (a->bits) {
		uint64_t o = (uint64_t)id - (uint64_t)a->base;

		return o < a->span && (a->bits[o >> 6] >> (o & 63) & 1);
	}
	if (id == IDX_ALLOW_EMPTY)
		return a->has_empty;
	for (size_t i = idx_allow_slot(id, a->mask);; i = (i + 1) & a->mask) {
		if (a->set[i] == id)
			return 1;
		if (a->set[i] == IDX_ALLOW_EMPTY)
			return 0;
	}
}

static inline int idx_allow_score(const struct idx_allow *a, float s)
{
	return s >= a->lo && s < a->hi;
}

/* An allow-list of ids[0, n) (borrowed: must outlive *a; n may be 0),
 * no score window; on false: every id.  0 or -ENOMEM.  Free with
 * idx_allow_fini. */
int idx_allow_init(struct idx_allow *a, bool on, const int64_t *ids,
		   size_t n);
void idx_allow_fini(struct idx_allow *a);
/* Set a's score window from a range search's radius and range_filter as
 * Milvus defines them for metric m (SPEC §10). */
void idx_allow_window(struct idx_allow *a, enum vec_metric m, bool has_radius,
		      float radius, bool has_filter, float range_filter);

struct idx_type {
	const char *name;               /* "FLAT", "HNSW", ... */
	int binary;                     /* 1: for VEC_BINARY, 0: for VEC_FLOAT */

	/* Validate build parameters for info; write the canonical list
	 * (index_type first, then every parameter with defaults) to *canon.
	 * -EINVAL with Milvus's wording. */
	int (*check)(const struct idx_info *info, const struct mfs_kv *params,
		     struct mfs_kv *canon, struct mfs_err *err);
	/* Validate search parameters (e.g. "ef" >= k, "nprobe" <= nlist);
	 * unknown keys are ignored here (the engine rejects unknown names).
	 * NULL means none apply. -EINVAL. */
	int (*check_search)(const struct idx *ix, const struct mfs_kv *sparams,
			    size_t k, struct mfs_err *err);
	/* Bytes a loaded index of n entities will take, for memory_limit. */
	size_t (*estimate_bytes)(const struct idx_info *info,
				 const struct mfs_kv *canon, size_t n);
	/* Build from n entities (ids[i], vectors at vecs + i*vec_bytes).
	 * Returns owned *out.  Uses info->pool.  -ENOMEM, -EINVAL,
	 * -ECANCELED (never on its own). */
	int (*build)(const struct idx_info *info, const struct mfs_kv *canon,
		     const int64_t *ids, const void *vecs, size_t n,
		     const struct idx_progress *progress, struct idx **out,
		     struct mfs_err *err);
	/* Serialize into blob (appending). NULL when the type has nothing
	 * worth saving (FLAT). 0, -ENOMEM. */
	int (*save)(const struct idx *ix, struct mfs_buf *blob);
	/* Rebuild from a blob written by save() (blob may be NULL/len 0 for
	 * types without save) plus the current entities; see above.
	 * -EINVAL (corrupt or foreign blob: the engine then rebuilds), -ENOMEM. */
	int (*restore)(const struct idx_info *info, const struct mfs_kv *canon,
		       const void *blob, size_t len, const int64_t *ids,
		       const void *vecs, size_t n, struct idx **out,
		       struct mfs_err *err);
	/* Add n new entities (ids unique, not present). 0, -ENOMEM. */
	int (*add)(struct idx *ix, const int64_t *ids, const void *vecs,
		   size_t n, struct mfs_err *err);
	/* Remove entities; ids not present are ignored.  Never fails. */
	void (*remove)(struct idx *ix, const int64_t *ids, size_t n);
	/* Best hits for nq queries (nq * vec_bytes at q).  sparams are the
	 * search parameters (checked by check_search).  0, -ENOMEM. */
	int (*search)(const struct idx *ix, const void *q, size_t nq,
		      const struct mfs_kv *sparams, struct idx_hits *hits,
		      struct mfs_err *err);
	/* search() restricted by allow (never NULL; see struct idx_allow):
	 * the best hits among the entities and scores it allows.  The
	 * unfiltered search() stays as it was, so a search without a filter
	 * pays nothing for this.  0, -ENOMEM. */
	int (*search_filtered)(const struct idx *ix, const void *q, size_t nq,
			       const struct mfs_kv *sparams,
			       const struct idx_allow *allow,
			       struct idx_hits *hits, struct mfs_err *err);
	/* Entities held; bytes used. */
	size_t (*count)(const struct idx *ix);
	size_t (*memory_bytes)(const struct idx *ix);
	void (*free)(struct idx *ix);
	/* Types that train (IVF kinds; NULL for the others).  train_min:
	 * the entities a partition needs before an index of parameters
	 * canon trains (SPEC §5).  train_wait: 0 when ix is trained, else
	 * train_min of its parameters; until then it keeps its entities
	 * aside and searches them exactly. */
	size_t (*train_min)(const struct idx_info *info,
			    const struct mfs_kv *canon);
	size_t (*train_wait)(const struct idx *ix);
};

/* Every index struct starts with this. */
struct idx {
	const struct idx_type *type;
	struct idx_info info;
};

/* The type named name (case-insensitive), or NULL. */
const struct idx_type *idx_lookup(const char *name);
/* The names of all types, "FLAT, IVF_FLAT, ..., BIN_IVF_FLAT", written to
 * buf (cap bytes, cap >= 1; IDX_NAMES_MAX holds them all, a shorter buf
 * gets whole names only).  Returns buf.  Thread-safe. */
#define IDX_NAMES_MAX 128
const char *idx_names(char *buf, size_t cap);

/* Convenience wrappers dispatching through ix->type. */
static inline int idx_search(const struct idx *ix, const void *q, size_t nq,
			     const struct mfs_kv *sp, struct idx_hits *h,
			     struct mfs_err *err)
{
	return ix->type->search(ix, q, nq, sp, h, err);
}
static inline void idx_free(struct idx *ix)
{
	if (ix)
		ix->type->free(ix);
}

/* The types of the table in index.c, each defined in its own file: FLAT
 * and BIN_FLAT (flat.c: exact search, also what a partition without an
 * index is searched with), HNSW (hnsw.c), IVF_FLAT, IVF_SQ8, IVF_PQ
 * and BIN_IVF_FLAT (ivf.c's IVF_TYPE). */
extern const struct idx_type idx_flat_type, idx_bin_flat_type, idx_hnsw_type;
extern const struct idx_type idx_ivf_flat_type, idx_ivf_sq8_type,
	idx_ivf_pq_type, idx_bin_ivf_flat_type;

#endif
