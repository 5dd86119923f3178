/* hnsw_int.h - private parts of the HNSW index (hnsw*.c).
 *
 * Layout (as hnswlib): node i's level-0 block is
 *     u32 count | u32 link[maxM0] | float vec[dim]
 * at l0 + i * node_bytes, so one node's links and vector are contiguous.
 * Upper levels live apart: upper[i] holds level(i) lists of (1 + M) u32
 * (count, then links), list l (l >= 1) at upper[i] + (l - 1) * (1 + M).
 * labels[i] is the entity id of node i; map (idmap.h) turns an id into the
 * node that holds it (live nodes only).  Deleted nodes (tomb[i]) stay in the graph for
 * navigation and are never returned.
 *
 * Concurrency.  Searches only read.  add()/remove()/free() are exclusive
 * (the engine's write lock).  Inside one build or add, insertions run in
 * parallel: every read or write of a node's link lists holds that node's
 * spin lock (lock[i]), and no thread ever holds two node locks, so there is
 * no lock order to break.  entry and maxlevel are protected by glock.
 * Search workspaces (visited tags + heaps) come from a stack protected by
 * wslock.
 */
#ifndef MFS_INDEX_HNSW_INT_H
#define MFS_INDEX_HNSW_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "index/hnsw.h"
#include "base/idmap.h"
#include "index/index.h"

#define HNSW_NONE MFS_IDMAP_NONE          /* no node (UINT32_MAX) */
#define HNSW_MAX_LEVEL 63

struct hnsw_pair {
	float d;
	uint32_t id;
};

/* Scratch for one search or insertion; owned by one thread at a time. */
struct hnsw_ws {
	uint16_t *tag;                  /* visited marks, tag_cap nodes */
	size_t tag_cap;
	uint16_t epoch;
	struct hnsw_pair *cand;         /* min-heap of candidates */
	size_t ncand, cand_cap;
	struct hnsw_pair *top;          /* max-heap of results */
	size_t ntop, top_cap;
	struct hnsw_pair *sel;          /* sorted results, heuristic */
	size_t sel_cap;
	struct hnsw_pair *nbr;          /* maxM0 + 1: shrinking a list */
	uint32_t *links;                /* copy of one link list */
	uint32_t *fresh;                /* a list's nodes not yet visited */
	uint32_t *pend;                 /* a new node's lists, to link back */
	size_t pend_cap;
	float *qbuf;                    /* normalized query (COSINE) */
	int lone;                       /* a search of one query: it starts
					 * cold (search_layer's prefetch) */
	struct hnsw_ws *next;           /* free stack link; wslock */
};

struct hnsw {
	struct idx base;
	uint32_t M, maxM0, efc;
	double mult;                    /* 1 / ln(M) */
	size_t dim;
	int cosine;
	vec_float_fn dist;              /* vec_score_kernel(metric): the
					 * score, smaller is closer */

	size_t node_bytes;              /* level-0 block of one node */
	size_t n;                       /* nodes, tombstones included */
	size_t cap;                     /* nodes allocated */
	size_t live;
	char *l0;                       /* cap * node_bytes */
	uint32_t **upper;               /* cap; NULL when level 0 */
	uint8_t *level;                 /* cap */
	uint8_t *tomb;                  /* cap; 1: deleted */
	int64_t *labels;                /* cap */
	_Atomic unsigned char *lock;    /* cap; node spin locks */
	size_t upper_bytes;             /* sum of upper allocations */
	struct mfs_idmap map;               /* label -> live node */

	pthread_mutex_t glock;
	uint32_t entry;                 /* glock; HNSW_NONE when empty */
	int maxlevel;                   /* glock; -1 when empty */
	uint64_t rng;                   /* level generator; exclusive ops */

	pthread_mutex_t wslock;
	struct hnsw_ws *ws_free;        /* wslock */
};

static inline uint32_t *hnsw_l0_links(const struct hnsw *h, uint32_t i)
{
	return (uint32_t *)(h->l0 + (size_t)i * h->node_bytes);
}
static inline float *hnsw_vec(const struct hnsw *h, uint32_t i)
{
	return (float *)(h->l0 + (size_t)i * h->node_bytes +
			 sizeof(uint32_t) * (1 + (size_t)h->maxM0));
}
/* The list of node i at level lv (count first). */
static inline uint32_t *hnsw_links(const struct hnsw *h, uint32_t i, int lv)
{
	if (lv == 0)
		return hnsw_l0_links(h, i);
	return h->upper[i] + (size_t)(lv - 1) * (1 + h->M);
}

/* ---- hnsw_graph.c ---- */

/* A new empty index for info with M, efc; capacity 0. -ENOMEM. */
int hnsw_new(const struct idx_info *info, uint32_t M, uint32_t efc,
	     struct hnsw **out);
void hnsw_free_all(struct hnsw *h);
/* Make room for cap nodes (exclusive). 0, -ENOMEM. */
int hnsw_reserve(struct hnsw *h, size_t cap);
/* Append n live nodes with labels ids and vectors vecs (copied, normalized
 * for COSINE) without linking them; *first is the first new node.  Needs
 * room (hnsw_reserve).  0, or -ENOMEM with nothing appended. */
int hnsw_append(struct hnsw *h, const int64_t *ids, const float *vecs,
		size_t n, uint32_t *first);
/* Link nodes [first, first + n) into the graph, in parallel over pool.
 * progress may be NULL. 0, -ENOMEM. */
int hnsw_link_range(struct hnsw *h, uint32_t first, size_t n,
		    struct mfs_pool *pool, const struct idx_progress *progress);
/* Best k live nodes for query q (already normalized for COSINE) with
 * search width max(ef, k); leaves them in ws->sel, best first, and returns
 * how many (< k when fewer live nodes are found), or -ENOMEM.  A width of
 * at least the live count scans every live node: the exact answer. */
long hnsw_knn(const struct hnsw *h, struct hnsw_ws *ws, const float *q,
	      size_t k, size_t ef);
/* hnsw_knn restricted by a (index.h): every allowed id scored when
 * a->exact or when they are no more than ef, else the walk of width ef
 * returning only admitted nodes (traversing the others). */
long hnsw_knn_allow(const struct hnsw *h, struct hnsw_ws *ws, const float *q,
		    size_t k, size_t ef, const struct idx_allow *a);
/* Workspace for a thread (tags sized to h->n); NULL on -ENOMEM. */
struct hnsw_ws *hnsw_ws_get(struct hnsw *h);
void hnsw_ws_put(struct hnsw *h, struct hnsw_ws *ws);
/* Keep at most maxm of the candidates c[0..n) (sorted by d ascending to
 * the base node) by the HNSW heuristic; returns how many were kept (at the
 * front of c). */
size_t hnsw_heuristic(const struct hnsw *h, struct hnsw_pair *c, size_t n,
		      size_t maxm);
void hnsw_sort_pairs(struct hnsw_pair *p, size_t n);
/* Random level for a new node (exclusive). */
int hnsw_random_level(struct hnsw *h);
/* Bytes held. */
size_t hnsw_bytes(const struct hnsw *h);

/* ---- hnsw_io.c ---- */
int hnsw_save(const struct idx *ix, struct mfs_buf *blob);
int hnsw_restore(const struct idx_info *info, const struct mfs_kv *canon,
		 const void *blob, size_t len, const int64_t *ids,
		 const void *vecs, size_t n, struct idx **out,
		 struct mfs_err *err);

/* ---- hnsw.c ---- */
/* M and efConstruction of a canonical list (defaults when absent). */
int hnsw_params(const struct mfs_kv *canon, uint32_t *M, uint32_t *efc,
		struct mfs_err *err);
/* -EINVAL unless info is float vectors under L2, IP or COSINE. */
int hnsw_check_info(const struct idx_info *info, struct mfs_err *err);

#endif
