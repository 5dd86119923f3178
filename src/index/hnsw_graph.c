/* hnsw_graph.c - the HNSW graph: storage, insertion, layer search.
 *
 * The algorithm is Malkov & Yashunin's, as hnswlib implements it: a node
 * gets a random level (exponential, 1/ln M), is found greedily through the
 * levels above its own, and at each of its levels is linked to the M nodes
 * the neighbour heuristic picks from an efConstruction-wide search; each
 * neighbour links back, shrinking its list with the same heuristic when it
 * is full (maxM0 = 2M at level 0, M above).
 *
 * Parallel insertion (build, big adds): see hnsw_int.h.  A node's vector,
 * label, level and upper-list storage are written by hnsw_append before any
 * insertion starts, so only link lists change during linking; each list is
 * read (copied) or written under its node's spin lock, one lock at a time.
 * Unlike hnswlib, the new node's own lock is not held across its whole
 * insertion (hnswlib takes a neighbour's lock while holding it, which can
 * deadlock in principle); a node whose lower list is still empty when it is
 * reached only costs that one search a little width.
 *
 * Deleted nodes (tomb) are walked like the others; the final level-0 search
 * of a query only counts live nodes in its result set and keeps exploring
 * until it holds ef of them (hnswlib's filtered search), so deletions never
 * shrink the answer below k while k live entities remain reachable.
 */
#include "index/hnsw_int.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* ---- node spin locks ---- */

static void node_lock(const struct hnsw *h, uint32_t i)
{
	_Atomic unsigned char *l = &h->lock[i];
	unsigned spins = 0;

	while (atomic_exchange_explicit(l, 1, memory_order_acquire)) {
		while (atomic_load_explicit(l, memory_order_relaxed)) {
			if (++spins > 100)
				sched_yield();
			else
				__builtin_ia32_pause();
		}
	}
}

static void node_unlock(const struct hnsw *h, uint32_t i)
{
	atomic_store_explicit(&h->lock[i], 0, memory_order_release);
}

/* ---- heaps of (d, id): cand is a min-heap, top a max-heap ---- */

static int grow_pairs(struct hnsw_pair **a, size_t *cap, size_t need)
{
	size_t nc = *cap ? *cap : 64;
	struct hnsw_pair *p;

	if (need <= *cap)
		return 0;
	while (nc < need)
		nc *= 2;
	p = realloc(*a, nc * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*a = p;
	*cap = nc;
	return 0;
}

/* One binary heap of pairs for both orders: max = 0, the min-heap (cand:
 * the smallest d at the root), max = 1, the max-heap (top: the largest).
 * Does d belong nearer the root than e? */
#define ABOVE(max, d, e) ((max) ? (d) > (e) : (d) < (e))

static inline __attribute__((always_inline)) void
heap_push(struct hnsw_pair *a, size_t *n, struct hnsw_pair x, int max)
{
	size_t i = (*n)++;

	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!ABOVE(max, x.d, a[p].d))
			break;
		a[i] = a[p];
		i = p;
	}
	a[i] = x;
}

static inline __attribute__((always_inline)) void
heap_pop(struct hnsw_pair *a, size_t *n, int max)
{
	struct hnsw_pair x = a[--(*n)];
	size_t i = 0, m = *n;

	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= m)
			break;
		if (c + 1 < m && ABOVE(max, a[c + 1].d, a[c].d))
			c++;
		if (!ABOVE(max, a[c].d, x.d))
			break;
		a[i] = a[c];
		i = c;
	}
	if (m)
		a[i] = x;
}

static void min_push(struct hnsw_pair *a, size_t *n, struct hnsw_pair x)
{
	heap_push(a, n, x, 0);
}

static void min_pop(struct hnsw_pair *a, size_t *n)
{
	heap_pop(a, n, 0);
}

static void max_push(struct hnsw_pair *a, size_t *n, struct hnsw_pair x)
{
	heap_push(a, n, x, 1);
}

static void max_pop(struct hnsw_pair *a, size_t *n)
{
	heap_pop(a, n, 1);
}

/* Offer node i at d to the k best held in the max-heap ws->top. */
static void keep_best(struct hnsw_ws *ws, size_t k, float d, uint32_t i)
{
	if (ws->ntop < k || d < ws->top[0].d) {
		max_push(ws->top, &ws->ntop, (struct hnsw_pair){ d, i });
		if (ws->ntop > k)
			max_pop(ws->top, &ws->ntop);
	}
}

static int cmp_pair(const void *a, const void *b)
{
	const struct hnsw_pair *x = a, *y = b;

	if (x->d < y->d)
		return -1;
	if (x->d > y->d)
		return 1;
	return (x->id > y->id) - (x->id < y->id);
}

void hnsw_sort_pairs(struct hnsw_pair *p, size_t n)
{
	qsort(p, n, sizeof(*p), cmp_pair);
}

static int grow_u32(uint32_t **a, size_t *cap, size_t need)
{
	uint32_t *p;

	if (need <= *cap)
		return 0;
	p = realloc(*a, need * sizeof(*p));
	if (!p)
		return -ENOMEM;
	*a = p;
	*cap = need;
	return 0;
}

/* ---- workspaces ---- */

static void ws_free(struct hnsw_ws *ws)
{
	if (!ws)
		return;
	free(ws->tag);
	free(ws->cand);
	free(ws->top);
	free(ws->sel);
	free(ws->nbr);
	free(ws->links);
	free(ws->fresh);
	free(ws->pend);
	free(ws->qbuf);
	free(ws);
}

/* The stack is logically part of the index's scratch, not its value: it is
 * guarded by wslock, so taking it from a const index (search) is safe. */
struct hnsw_ws *hnsw_ws_get(struct hnsw *h)
{
	struct hnsw_ws *ws;
	size_t maxm = h->maxM0 > h->M ? h->maxM0 : h->M;

	pthread_mutex_lock(&h->wslock);
	ws = h->ws_free;
	if (ws)
		h->ws_free = ws->next;
	pthread_mutex_unlock(&h->wslock);
	if (!ws) {
		ws = calloc(1, sizeof(*ws));
		if (!ws)
			return NULL;
		ws->links = malloc((maxm + 1) * sizeof(uint32_t));
		ws->fresh = malloc((maxm + 1) * sizeof(uint32_t));
		ws->nbr = malloc((maxm + 2) * sizeof(*ws->nbr));
		ws->qbuf = malloc((h->dim ? h->dim : 1) * sizeof(float));
		if (!ws->links || !ws->fresh || !ws->nbr || !ws->qbuf)
			goto fail;
	}
	if (ws->tag_cap < h->n) {
		size_t nc = h->cap > h->n ? h->cap : h->n;

		free(ws->tag);
		ws->tag = calloc(nc, sizeof(*ws->tag));
		if (!ws->tag) {
			ws->tag_cap = 0;
			goto fail;
		}
		ws->tag_cap = nc;
		ws->epoch = 0;
	}
	ws->next = NULL;
	ws->lone = 0;
	return ws;
fail:
	ws_free(ws);
	return NULL;
}

void hnsw_ws_put(struct hnsw *h, struct hnsw_ws *ws)
{
	if (!ws)
		return;
	pthread_mutex_lock(&h->wslock);
	ws->next = h->ws_free;
	h->ws_free = ws;
	pthread_mutex_unlock(&h->wslock);
}

static void new_epoch(struct hnsw_ws *ws)
{
	if (++ws->epoch == 0) {
		memset(ws->tag, 0, ws->tag_cap * sizeof(*ws->tag));
		ws->epoch = 1;
	}
}

/* ---- storage ---- */

int hnsw_new(const struct idx_info *info, uint32_t M, uint32_t efc,
	     struct hnsw **out)
{
	struct hnsw *h = calloc(1, sizeof(*h));

	if (!h)
		return -ENOMEM;
	h->base.info = *info;
	h->M = M;
	h->maxM0 = 2 * M;
	h->efc = efc;
	h->mult = 1.0 / log((double)M);
	h->dim = info->dim;
	h->cosine = info->metric == VEC_COSINE;
	h->dist = vec_score_kernel(info->metric);
	h->node_bytes = sizeof(uint32_t) * (1 + (size_t)h->maxM0) +
			sizeof(float) * h->dim;
	h->entry = HNSW_NONE;
	h->maxlevel = -1;
	h->rng = 100;                   /* hnswlib's default seed */
	pthread_mutex_init(&h->glock, NULL);
	pthread_mutex_init(&h->wslock, NULL);
	*out = h;
	return 0;
}

void hnsw_free_all(struct hnsw *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		free(h->upper[i]);
	while (h->ws_free) {
		struct hnsw_ws *ws = h->ws_free;
		h->ws_free = ws->next;
		ws_free(ws);
	}
	free(h->l0);
	free(h->upper);
	free(h->level);
	free(h->tomb);
	free(h->labels);
	free((void *)h->lock);
	mfs_idmap_fini(&h->map);
	pthread_mutex_destroy(&h->glock);
	pthread_mutex_destroy(&h->wslock);
	free(h);
}

#define GROW(field, cap)                                                  \
	do {                                                              \
		void *p_ = realloc((void *)h->field, (cap) * sizeof(*h->field)); \
		if (!p_)                                                  \
			return -ENOMEM;                                   \
		h->field = p_;                                            \
	} while (0)

int hnsw_reserve(struct hnsw *h, size_t cap)
{
	char *l0;

	if (cap <= h->cap)
		return 0;
	if (cap >= HNSW_NONE)
		return -ENOMEM;
	l0 = realloc(h->l0, cap * h->node_bytes);
	if (!l0)
		return -ENOMEM;
	h->l0 = l0;
	GROW(upper, cap);
	GROW(level, cap);
	GROW(tomb, cap);
	GROW(labels, cap);
	GROW(lock, cap);
	if (mfs_idmap_reserve(&h->map, cap) < 0)
		return -ENOMEM;
	h->cap = cap;
	return 0;
}

int hnsw_random_level(struct hnsw *h)
{
	uint64_t z = (h->rng += 0x9E3779B97F4A7C15ull);
	double u, l;

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	z ^= z >> 31;
	u = ((double)(z >> 11) + 1.0) * 0x1.0p-53;     /* (0, 1] */
	l = -log(u) * h->mult;
	return l >= HNSW_MAX_LEVEL ? HNSW_MAX_LEVEL : (int)l;
}

int hnsw_append(struct hnsw *h, const int64_t *ids, const float *vecs,
		size_t n, uint32_t *first)
{
	size_t base = h->n, upl = (1 + (size_t)h->M) * sizeof(uint32_t);

	if (base + n > h->cap)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = (uint32_t)(base + i);
		int lv = hnsw_random_level(h);

		h->upper[c] = NULL;
		if (lv > 0) {
			h->upper[c] = calloc((size_t)lv, upl);
			if (!h->upper[c]) {
				for (size_t j = base; j < c; j++)
					free(h->upper[j]);
				return -ENOMEM;
			}
		}
		h->level[c] = (uint8_t)lv;
		h->tomb[c] = 0;
		h->labels[c] = ids[i];
		atomic_init(&h->lock[c], 0);
		/* unused link slots stay zero: saved blobs are deterministic */
		memset(hnsw_l0_links(h, c), 0,
		       (1 + (size_t)h->maxM0) * sizeof(uint32_t));
		memcpy(hnsw_vec(h, c), vecs + i * h->dim, h->dim * sizeof(float));
		if (h->cosine)
			vec_normalize(hnsw_vec(h, c), h->dim);
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t c = (uint32_t)(base + i);

		h->upper_bytes += h->level[c] * upl;
		mfs_idmap_put(&h->map, ids[i], c);
	}
	h->n += n;
	h->live += n;
	*first = (uint32_t)base;
	return 0;
}

size_t hnsw_bytes(const struct hnsw *h)
{
	return sizeof(*h) + h->cap * (h->node_bytes + sizeof(*h->upper) +
				      sizeof(*h->level) + sizeof(*h->tomb) +
				      sizeof(*h->labels) + sizeof(*h->lock)) +
	       h->upper_bytes + mfs_idmap_bytes(&h->map);
}

/* ---- search ---- */

#define HNSW_SEEDS 16                   /* extra entry points of a filtered walk */

/* Copy node c's list at lv into ws->links (under its lock when locked);
 * returns the count. */
static uint32_t read_links(const struct hnsw *h, struct hnsw_ws *ws,
			   uint32_t c, int lv, int locked, const uint32_t **out)
{
	const uint32_t *l = hnsw_links(h, c, lv);
	uint32_t cnt;

	if (!locked) {
		*out = l + 1;
		return l[0];
	}
	node_lock(h, c);
	cnt = l[0];
	memcpy(ws->links, l + 1, cnt * sizeof(uint32_t));
	node_unlock(h, c);
	*out = ws->links;
	return cnt;
}

/* Greedy walk from *cur down to level stop + 1. */
static void greedy(const struct hnsw *h, struct hnsw_ws *ws, const float *q,
		   uint32_t *cur, float *curd, int from, int stop, int locked)
{
	for (int lv = from; lv > stop; lv--) {
		int changed = 1;

		while (changed) {
			const uint32_t *l;
			uint32_t cnt = read_links(h, ws, *cur, lv, locked, &l);

			changed = 0;
			/* start every neighbour's load before the first
			 * distance: the upper levels are cold in memory */
			for (uint32_t j = 0; j < cnt; j++)
				__builtin_prefetch(hnsw_vec(h, l[j]));
			for (uint32_t j = 0; j < cnt; j++) {
				float d = h->dist(q, hnsw_vec(h, l[j]), h->dim);
				if (d < *curd) {
					*curd = d;
					*cur = l[j];
					changed = 1;
				}
			}
		}
	}
}

/* Start loading all of node i's vector (not only its first line): a lone
 * search, which comes after system calls and wake-ups (every search of one
 * query through the mount), finds little of the graph in the caches, and
 * the vectors of one list's new neighbours then load side by side instead
 * of one line after another (in-process p50 after 7 cross-CPU wake-ups,
 * photosift128 ef=32/64: 30-34/40-51 us -> 23-27/36-42 us).  A batch runs
 * warm, back to back, and there the extra prefetches only add traffic:
 * batch QPS at ef=64 fell 12% on glove100 and 4% on photosift128 (four
 * alternating runs in one process each); it prefetches the first line. */
static inline void prefetch_vec(const struct hnsw *h, uint32_t i)
{
	const char *v = (const char *)hnsw_vec(h, i);
	size_t bytes = h->dim * sizeof(float);

	for (size_t o = 0; o < bytes; o += 64)
		__builtin_prefetch(v + o);
}

/* May node i at score d enter the results?  Live, and (a not NULL) an
 * allowed id with a score in a's window. */
static inline int admit(const struct hnsw *h, const struct idx_allow *a,
			uint32_t i, float d)
{
	if (h->tomb[i])
		return 0;
	return !a || (idx_allow_score(a, d) && idx_allow_id(a, h->labels[i]));
}

/* Search level lv from ep with width ef; the results are left in the max-
 * heap ws->top.  filter: only admitted nodes (admit(), a may be NULL)
 * enter the results; the others are still traversed, and the walk goes
 * on until ef admitted nodes are held (SPEC §10: a restrictive filter
 * widens the walk instead of starving it).  A radius (a->hi finite) stops
 * the walk at candidates past it while fewer than ef are held: the walk
 * then covers the ball of that radius and its rim, not the graph.
 * Inlined: the unfiltered call (a NULL) keeps its code as it was.
 * 0 or -ENOMEM. */
static inline __attribute__((always_inline)) int
search_layer_a(const struct hnsw *h, struct hnsw_ws *ws, const float *q,
	       uint32_t ep, float epd, size_t ef, int lv, int locked,
	       int filter, const struct idx_allow *a, const uint32_t *seeds,
	       size_t nseeds)
{
	float lower = __builtin_inff();
	uint32_t *fresh = ws->fresh, nnew;
	uint16_t epoch;

	new_epoch(ws);
	epoch = ws->epoch;
	ws->ncand = ws->ntop = 0;
	if (grow_pairs(&ws->top, &ws->top_cap, ef + 1) < 0 ||
	    grow_pairs(&ws->cand, &ws->cand_cap, ef + 1) < 0)
		return -ENOMEM;
	ws->tag[ep] = epoch;
	if (!filter || admit(h, a, ep, epd)) {
		max_push(ws->top, &ws->ntop, (struct hnsw_pair){ epd, ep });
		lower = epd;
	}
	min_push(ws->cand, &ws->ncand, (struct hnsw_pair){ epd, ep });
	/* more entry points (a filtered walk: allowed nodes, so that a
	 * filter whose matches lie away from the query's own neighbourhood
	 * is entered from inside) */
	for (size_t i = 0; i < nseeds; i++) {
		uint32_t sd = seeds[i];
		float d;

		if (ws->tag[sd] == epoch)
			continue;
		ws->tag[sd] = epoch;
		d = h->dist(q, hnsw_vec(h, sd), h->dim);
		if (grow_pairs(&ws->cand, &ws->cand_cap, ws->ncand + 1) < 0)
			return -ENOMEM;
		min_push(ws->cand, &ws->ncand, (struct hnsw_pair){ d, sd });
		if (admit(h, a, sd, d) && ws->ntop < ef) {
			max_push(ws->top, &ws->ntop, (struct hnsw_pair){ d, sd });
			lower = ws->top[0].d;
		}
	}
	while (ws->ncand) {
		struct hnsw_pair c = ws->cand[0];
		const uint32_t *l;
		uint32_t cnt;

		if (c.d > lower && (ws->ntop >= ef || !filter ||
				    (a && c.d >= a->hi)))
			break;
		min_pop(ws->cand, &ws->ncand);
		/* the next candidate's list, likely read next round (a
		 * search; an insertion's lists are read under their locks) */
		if (!locked && lv == 0 && ws->ncand)
			__builtin_prefetch(hnsw_l0_links(h, ws->cand[0].id));
		cnt = read_links(h, ws, c.id, lv, locked, &l);
		/* First the neighbours not yet visited, each vector's load
		 * started at once; then their distances, by which time the
		 * first loads have landed. */
		for (uint32_t j = 0; j < cnt; j++)
			__builtin_prefetch(&ws->tag[l[j]]);
		nnew = 0;
		for (uint32_t j = 0; j < cnt; j++) {
			uint32_t nb = l[j];

			if (ws->tag[nb] == epoch)
				continue;
			ws->tag[nb] = epoch;
			if (ws->lone && !locked)
				prefetch_vec(h, nb);
			else    /* a batch, or an insertion */
				__builtin_prefetch(hnsw_vec(h, nb));
			fresh[nnew++] = nb;
		}
		for (uint32_t j = 0; j < nnew; j++) {
			uint32_t nb = fresh[j];
			float d;

			d = h->dist(q, hnsw_vec(h, nb), h->dim);
			if (ws->ntop < ef || d < lower) {
				if (ws->ncand + 1 > ws->cand_cap &&
				    grow_pairs(&ws->cand, &ws->cand_cap,
					       ws->ncand + 1) < 0)
					return -ENOMEM;
				min_push(ws->cand, &ws->ncand,
					 (struct hnsw_pair){ d, nb });
				if (!filter || admit(h, a, nb, d)) {
					max_push(ws->top, &ws->ntop,
						 (struct hnsw_pair){ d, nb });
					if (ws->ntop > ef)
						max_pop(ws->top, &ws->ntop);
				}
				if (ws->ntop)
					lower = ws->top[0].d;
			}
		}
	}
	return 0;
}

static int search_layer(const struct hnsw *h, struct hnsw_ws *ws,
			const float *q, uint32_t ep, float epd, size_t ef,
			int lv, int locked, int filter)
{
	return search_layer_a(h, ws, q, ep, epd, ef, lv, locked, filter, NULL,
			      NULL, 0);
}

/* Move ws->top into ws->sel, sorted best first; returns the count. */
static long top_to_sel(struct hnsw_ws *ws)
{
	size_t n = ws->ntop;

	if (grow_pairs(&ws->sel, &ws->sel_cap, n + 1) < 0)
		return -ENOMEM;
	memcpy(ws->sel, ws->top, n * sizeof(*ws->sel));
	hnsw_sort_pairs(ws->sel, n);
	return (long)n;
}

/* Every live node's distance to q, the best k kept in ws->top: what a walk
 * of width ef >= live would at best find, found for sure and sooner (a
 * walk cannot reach a node cut off by deletions or a thin neighbourhood).
 * 0 or -ENOMEM. */
static int scan_all(const struct hnsw *h, struct hnsw_ws *ws, const float *q,
		    size_t k, const struct idx_allow *a)
{
	ws->ntop = 0;
	if (grow_pairs(&ws->top, &ws->top_cap, k + 1) < 0)
		return -ENOMEM;
	for (uint32_t i = 0; i < (uint32_t)h->n; i++) {
		float d;

		if (h->tomb[i] || (a && !idx_allow_id(a, h->labels[i])))
			continue;
		d = h->dist(q, hnsw_vec(h, i), h->dim);
		if (a && !idx_allow_score(a, d))
			continue;
		keep_best(ws, k, d, i);
	}
	return 0;
}

/* The allowed ids of a, scored one by one (found through the id map):
 * the exact answer when they are few. */
static int scan_allowed(const struct hnsw *h, struct hnsw_ws *ws,
			const float *q, size_t k, const struct idx_allow *a)
{
	ws->ntop = 0;
	if (grow_pairs(&ws->top, &ws->top_cap, k + 1) < 0)
		return -ENOMEM;
	for (size_t j = 0; j < a->n; j++) {
		uint32_t i = mfs_idmap_get(&h->map, a->ids[j]);
		float d;

		if (j + 4 < a->n) {
			uint32_t nx = mfs_idmap_get(&h->map, a->ids[j + 4]);

			if (nx != HNSW_NONE)
				__builtin_prefetch(hnsw_vec(h, nx));
		}
		if (i == HNSW_NONE || h->tomb[i])
			continue;
		d = h->dist(q, hnsw_vec(h, i), h->dim);
		if (!idx_allow_score(a, d))
			continue;
		keep_best(ws, k, d, i);
	}
	return 0;
}

long hnsw_knn_allow(const struct hnsw *h, struct hnsw_ws *ws, const float *q,
		    size_t k, size_t ef, const struct idx_allow *a)
{
	uint32_t cur = h->entry, seeds[HNSW_SEEDS];
	size_t nseeds = 0;
	float curd;

	if (cur == HNSW_NONE || h->live == 0 || k == 0 ||
	    (a->ids_on && a->n == 0))
		return 0;
	if (ef < k)
		ef = k;
	if (a->ids_on && (a->exact || ef >= a->n)) {
		if (scan_allowed(h, ws, q, k, a) < 0)
			return -ENOMEM;
		return top_to_sel(ws);
	}
	if (ef >= h->live) {
		if (scan_all(h, ws, q, k, a) < 0)
			return -ENOMEM;
		return top_to_sel(ws);
	}
	if (a->ids_on) {
		/* HNSW_SEEDS allowed nodes spread over the allowed ids */
		for (size_t i = 0; i < HNSW_SEEDS && nseeds < a->n; i++) {
			uint32_t nd = mfs_idmap_get(&h->map,
						   a->ids[i * a->n / HNSW_SEEDS]);

			if (nd != HNSW_NONE && !h->tomb[nd])
				seeds[nseeds++] = nd;
		}
	}
	curd = h->dist(q, hnsw_vec(h, cur), h->dim);
	greedy(h, ws, q, &cur, &curd, h->maxlevel, 0, 0);
	if (search_layer_a(h, ws, q, cur, curd, ef, 0, 0, 1, a, seeds,
			   nseeds) < 0)
		return -ENOMEM;
	while (ws->ntop > k)
		max_pop(ws->top, &ws->ntop);
	return top_to_sel(ws);
}

long hnsw_knn(const struct hnsw *h, struct hnsw_ws *ws, const float *q,
	      size_t k, size_t ef)
{
	uint32_t cur = h->entry;
	float curd;
	long n;

	if (cur == HNSW_NONE || h->live == 0 || k == 0)
		return 0;
	if (ef < k)
		ef = k;
	if (ef >= h->live) {
		if (scan_all(h, ws, q, k, NULL) < 0)
			return -ENOMEM;
		return top_to_sel(ws);
	}
	curd = h->dist(q, hnsw_vec(h, cur), h->dim);
	greedy(h, ws, q, &cur, &curd, h->maxlevel, 0, 0);
	if (search_layer(h, ws, q, cur, curd, ef, 0, 0, h->live < h->n) < 0)
		return -ENOMEM;
	while (ws->ntop > k)            /* drop the worst: only k are sorted */
		max_pop(ws->top, &ws->ntop);
	n = top_to_sel(ws);
	return n;
}

/* ---- insertion ---- */

size_t hnsw_heuristic(const struct hnsw *h, struct hnsw_pair *c, size_t n,
		      size_t maxm)
{
	size_t kept = 0;

	if (n < maxm)
		return n;
	for (size_t i = 0; i < n && kept < maxm; i++) {
		const float *v = hnsw_vec(h, c[i].id);
		int good = 1;

		for (size_t j = 0; j < kept; j++)
			if (h->dist(hnsw_vec(h, c[j].id), v, h->dim) < c[i].d) {
				good = 0;
				break;
			}
		if (good)
			c[kept++] = c[i];
	}
	return kept;
}

/* Add c (at distance d) to nb's list at lv, shrinking it when full. */
static void link_back(struct hnsw *h, struct hnsw_ws *ws, uint32_t nb,
		      uint32_t c, float d, int lv)
{
	uint32_t maxm = lv ? h->M : h->maxM0;
	uint32_t *l = hnsw_links(h, nb, lv);
	const float *v = hnsw_vec(h, nb);
	size_t m;

	node_lock(h, nb);
	for (uint32_t j = 0; j < l[0]; j++)
		if (l[1 + j] == c)
			goto out;
	if (l[0] < maxm) {
		l[1 + l[0]] = c;
		l[0]++;
		goto out;
	}
	ws->nbr[0] = (struct hnsw_pair){ d, c };
	for (uint32_t j = 0; j < l[0]; j++)
		ws->nbr[1 + j] = (struct hnsw_pair){
			h->dist(v, hnsw_vec(h, l[1 + j]), h->dim), l[1 + j]
		};
	hnsw_sort_pairs(ws->nbr, l[0] + 1);
	m = hnsw_heuristic(h, ws->nbr, l[0] + 1, maxm);
	for (size_t j = 0; j < m; j++)
		l[1 + j] = ws->nbr[j].id;
	for (size_t j = m; j < l[0]; j++)
		l[1 + j] = 0;
	l[0] = (uint32_t)m;
out:
	node_unlock(h, nb);
}

static int insert(struct hnsw *h, struct hnsw_ws *ws, uint32_t c)
{
	int L = h->level[c], maxl, held = 1, top;
	const float *q = hnsw_vec(h, c);
	uint32_t cur;
	float curd;

	pthread_mutex_lock(&h->glock);
	cur = h->entry;
	maxl = h->maxlevel;
	if (cur == HNSW_NONE) {
		h->entry = c;
		h->maxlevel = L;
		pthread_mutex_unlock(&h->glock);
		return 0;
	}
	if (L <= maxl) {
		pthread_mutex_unlock(&h->glock);
		held = 0;
	}
	curd = h->dist(q, hnsw_vec(h, cur), h->dim);
	greedy(h, ws, q, &cur, &curd, maxl, L, 1);
	for (int lv = L < maxl ? L : maxl; lv >= 0; lv--) {
		long n;
		size_t m;
		uint32_t *l;

		if (search_layer(h, ws, q, cur, curd, h->efc, lv, 1, 0) < 0 ||
		    (n = top_to_sel(ws)) < 0)
			goto nomem;
		for (long j = 0; j < n; j++)    /* never link to itself */
			if (ws->sel[j].id == c) {
				memmove(ws->sel + j, ws->sel + j + 1,
					(size_t)(n - j - 1) * sizeof(*ws->sel));
				n--;
				break;
			}
		m = hnsw_heuristic(h, ws->sel, (size_t)n, h->M);
		if (m == 0)
			continue;
		l = hnsw_links(h, c, lv);
		node_lock(h, c);
		for (size_t j = 0; j < m; j++)
			l[1 + j] = ws->sel[j].id;
		for (size_t j = m; j < l[0]; j++)
			l[1 + j] = 0;
		l[0] = (uint32_t)m;
		node_unlock(h, c);
		cur = ws->sel[0].id;
		curd = ws->sel[0].d;
	}
	/* Back links only now: c becomes reachable with all its lists
	 * complete.  Its lists are copied first, since others may append to
	 * them as soon as the first back link is in. */
	top = L < maxl ? L : maxl;
	if (grow_u32(&ws->pend, &ws->pend_cap,
		     (size_t)(top + 1) * (1 + (size_t)h->maxM0)) < 0)
		goto nomem;
	for (int lv = 0, off = 0; lv <= top; lv++) {
		const uint32_t *l = hnsw_links(h, c, lv);

		memcpy(ws->pend + off, l, (1 + (size_t)l[0]) * sizeof(uint32_t));
		off += 1 + (int)l[0];
	}
	for (int lv = 0, off = 0; lv <= top; lv++) {
		uint32_t cnt = ws->pend[off];

		for (uint32_t j = 0; j < cnt; j++) {
			uint32_t nb = ws->pend[off + 1 + j];

			link_back(h, ws, nb, c,
				  h->dist(q, hnsw_vec(h, nb), h->dim), lv);
		}
		off += 1 + (int)cnt;
	}
	if (held) {
		h->entry = c;
		h->maxlevel = L;
		pthread_mutex_unlock(&h->glock);
	}
	return 0;
nomem:
	if (held)
		pthread_mutex_unlock(&h->glock);
	return -ENOMEM;
}

struct link_job {
	struct hnsw *h;
	uint32_t first;
	size_t n, chunk;
	const struct idx_progress *progress;
	atomic_size_t done;
	atomic_int err;
	pthread_mutex_t plock;
	double last;                    /* plock */
};

static void link_task(void *arg, size_t t, unsigned worker)
{
	struct link_job *j = arg;
	size_t lo = t * j->chunk, hi = lo + j->chunk, done;
	struct hnsw_ws *ws;

	(void)worker;
	if (hi > j->n)
		hi = j->n;
	if (atomic_load(&j->err))
		return;
	ws = hnsw_ws_get(j->h);
	if (!ws) {
		atomic_store(&j->err, -ENOMEM);
		return;
	}
	for (size_t i = lo; i < hi; i++)
		if (insert(j->h, ws, j->first + (uint32_t)i) < 0) {
			atomic_store(&j->err, -ENOMEM);
			break;
		}
	hnsw_ws_put(j->h, ws);
	done = atomic_fetch_add(&j->done, hi - lo) + (hi - lo);
	if (j->progress && j->progress->fn) {
		double pct = 100.0 * (double)done / (double)j->n;

		pthread_mutex_lock(&j->plock);
		if (pct >= j->last + 1.0 || (done == j->n && pct > j->last)) {
			j->last = pct;
			j->progress->fn(j->progress->arg, pct);
		}
		pthread_mutex_unlock(&j->plock);
	}
}

int hnsw_link_range(struct hnsw *h, uint32_t first, size_t n,
		    struct mfs_pool *pool, const struct idx_progress *progress)
{
	struct link_job j = { .h = h, .first = first, .n = n,
			      .progress = progress, .last = 0 };
	size_t ntasks;

	if (progress && progress->fn)
		progress->fn(progress->arg, 0);
	if (n == 0)
		goto out;
	/* chunks of 16: a workspace per chunk, order close to sequential */
	j.chunk = 16;
	ntasks = (n + j.chunk - 1) / j.chunk;
	atomic_init(&j.done, 0);
	atomic_init(&j.err, 0);
	pthread_mutex_init(&j.plock, NULL);
	/* the first node alone, so the others have an entry point */
	if (h->entry == HNSW_NONE) {
		struct hnsw_ws *ws = hnsw_ws_get(h);

		if (!ws) {
			pthread_mutex_destroy(&j.plock);
			return -ENOMEM;
		}
		insert(h, ws, first);
		hnsw_ws_put(h, ws);
		j.first++;
		j.n--;
		ntasks = (j.n + j.chunk - 1) / j.chunk;
	}
	mfs_pool_for(pool, ntasks, link_task, &j);
	pthread_mutex_destroy(&j.plock);
	if (atomic_load(&j.err))
		return atomic_load(&j.err);
out:
	if (progress && progress->fn && j.last < 100)
		progress->fn(progress->arg, 100);
	return 0;
}
