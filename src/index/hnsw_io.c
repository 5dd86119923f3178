/* hnsw_io.c - HNSW persistence: the graph as a blob, and back.
 *
 * The blob holds what is costly to rebuild, the graph, but not the live
 * vectors, which the engine hands back from the partition's entities at
 * restore.  Tombstones (deleted nodes still used for navigation) have no
 * entity any more, so their vectors travel in the blob.  Layout, in host
 * byte order (the blob never leaves the machine's LMDB):
 *
 *     header (struct blob_hdr)
 *     i64 label[n] | u8 level[n] | u8 tomb[n] | pad to 4
 *     u32 l0[n][1 + maxM0]              count, then links
 *     u32 upper[...]                    level(i) lists of (1 + M) per node
 *     f32 tomb_vec[ntomb][dim]          normalized as held, in node order
 *
 * restore() reconciles the blob with the current entities: a saved live
 * node whose id is still present keeps its place and takes the current
 * vector; a tombstone stays a tombstone; a saved live node whose id is gone
 * (deleted after the save: its vector is lost) is dropped from the graph and
 * every list that pointed to it is repaired from the dropped node's own
 * neighbours, re-pruned with the heuristic (as FreshDiskANN consolidates
 * deletes); entities the blob does not know are inserted as by add().
 */
#include "index/hnsw_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/pool.h"

#define BLOB_MAGIC "MFSHNSW1"
#define BLOB_VERSION 1

struct blob_hdr {
	char magic[8];
	uint32_t version, dim, metric, M, efc, maxM0;
	int32_t maxlevel;
	uint32_t entry;
	uint64_t n, ntomb;
};

static size_t pad4(size_t x)
{
	return (x + 3) & ~(size_t)3;
}

int hnsw_save(const struct idx *ix, struct mfs_buf *blob)
{
	const struct hnsw *h = (const struct hnsw *)ix;
	struct blob_hdr hd = { .version = BLOB_VERSION, .dim = (uint32_t)h->dim,
			       .metric = (uint32_t)ix->info.metric, .M = h->M,
			       .efc = h->efc, .maxM0 = h->maxM0,
			       .maxlevel = h->maxlevel, .entry = h->entry,
			       .n = h->n, .ntomb = h->n - h->live };
	size_t l0list = (1 + (size_t)h->maxM0) * sizeof(uint32_t);
	size_t uplist = (1 + (size_t)h->M) * sizeof(uint32_t);
	size_t total, start = blob->len;
	static const char zero[4];
	int rc;

	memcpy(hd.magic, BLOB_MAGIC, 8);
	total = sizeof(hd) + pad4(h->n * 10) + h->n * l0list + h->upper_bytes +
		hd.ntomb * h->dim * sizeof(float);
	if ((rc = mfs_buf_reserve(blob, total)) < 0)
		return rc;
	if ((rc = mfs_buf_append(blob, &hd, sizeof(hd))) < 0 ||
	    (rc = mfs_buf_append(blob, h->labels, h->n * 8)) < 0 ||
	    (rc = mfs_buf_append(blob, h->level, h->n)) < 0 ||
	    (rc = mfs_buf_append(blob, h->tomb, h->n)) < 0 ||
	    (rc = mfs_buf_append(blob, zero, pad4(h->n * 10) - h->n * 10)) < 0)
		goto fail;
	for (size_t i = 0; i < h->n; i++)
		if ((rc = mfs_buf_append(blob, hnsw_l0_links(h, (uint32_t)i),
					 l0list)) < 0)
			goto fail;
	for (size_t i = 0; i < h->n; i++)
		if (h->level[i] &&
		    (rc = mfs_buf_append(blob, h->upper[i],
					 h->level[i] * uplist)) < 0)
			goto fail;
	for (size_t i = 0; i < h->n; i++)
		if (h->tomb[i] &&
		    (rc = mfs_buf_append(blob, hnsw_vec(h, (uint32_t)i),
					 h->dim * sizeof(float))) < 0)
			goto fail;
	return 0;
fail:
	blob->len = start;
	if (blob->data)
		blob->data[start] = 0;
	return rc;
}

/* The parsed, validated views of a blob. */
struct view {
	struct blob_hdr hd;
	const int64_t *label;
	const uint8_t *level, *tomb;
	const uint32_t *l0;
	const uint32_t **up;            /* owned: per-node start of upper */
	const float *tvec;
};

static const uint32_t *old_list(const struct view *v, size_t i, int lv)
{
	if (lv == 0)
		return v->l0 + i * (1 + (size_t)v->hd.maxM0);
	return v->up[i] + (size_t)(lv - 1) * (1 + v->hd.M);
}

static int parse(const void *blob, size_t len, const struct idx_info *info,
		 uint32_t M, struct view *v, struct mfs_err *err)
{
	const char *p = blob;
	size_t n, need, nup = 0, ntomb = 0, l0n, off;

	if (!blob || len < sizeof(v->hd))
		return mfs_errf(err, -EINVAL,
				"HNSW blob: expected at least %zu bytes, got %zu",
				sizeof(v->hd), len);
	memcpy(&v->hd, p, sizeof(v->hd));
	if (memcmp(v->hd.magic, BLOB_MAGIC, 8) || v->hd.version != BLOB_VERSION)
		return mfs_errf(err, -EINVAL,
				"HNSW blob: expected magic %s version %d",
				BLOB_MAGIC, BLOB_VERSION);
	if (v->hd.dim != info->dim || v->hd.metric != (uint32_t)info->metric ||
	    v->hd.M != M || v->hd.maxM0 != 2 * M)
		return mfs_errf(err, -EINVAL,
				"HNSW blob: expected dim %u metric %d M %u, got dim %u metric %u M %u",
				info->dim, (int)info->metric, M, v->hd.dim,
				v->hd.metric, v->hd.M);
	n = v->hd.n;
	l0n = 1 + (size_t)v->hd.maxM0;
	if (n >= HNSW_NONE || v->hd.ntomb > n)
		return mfs_errf(err, -EINVAL, "HNSW blob: bad node count %zu", n);
	off = sizeof(v->hd);
	need = off + pad4(n * 10) + n * l0n * 4;
	if (len < need)
		goto short_blob;
	v->label = (const int64_t *)(p + off);
	v->level = (const uint8_t *)(p + off + n * 8);
	v->tomb = v->level + n;
	v->l0 = (const uint32_t *)(p + off + pad4(n * 10));
	for (size_t i = 0; i < n; i++) {
		if (v->level[i] > HNSW_MAX_LEVEL)
			return mfs_errf(err, -EINVAL,
					"HNSW blob: node %zu: level %u", i,
					v->level[i]);
		nup += v->level[i];
		ntomb += v->tomb[i] != 0;
	}
	if (ntomb != v->hd.ntomb)
		return mfs_errf(err, -EINVAL,
				"HNSW blob: expected %llu tombstones, got %zu",
				(unsigned long long)v->hd.ntomb, ntomb);
	need += nup * (1 + (size_t)M) * 4 + ntomb * info->dim * 4;
	if (len != need)
		goto short_blob;
	v->up = calloc(n ? n : 1, sizeof(*v->up));
	if (!v->up)
		return mfs_errf(err, -ENOMEM, "HNSW restore: out of memory");
	off = sizeof(v->hd) + pad4(n * 10) + n * l0n * 4;
	for (size_t i = 0; i < n; i++) {
		v->up[i] = (const uint32_t *)(p + off);
		off += v->level[i] * (1 + (size_t)M) * 4;
	}
	v->tvec = (const float *)(p + off);
	for (size_t i = 0; i < n; i++)
		for (int lv = 0; lv <= v->level[i]; lv++) {
			const uint32_t *l = old_list(v, i, lv);
			uint32_t maxm = lv ? M : 2 * M;

			if (l[0] > maxm)
				goto bad_links;
			for (uint32_t j = 0; j < l[0]; j++)
				if (l[1 + j] >= n || v->level[l[1 + j]] < lv)
					goto bad_links;
		}
	if (n && (v->hd.entry >= n || v->hd.maxlevel != v->level[v->hd.entry]))
		goto bad_links;
	return 0;
short_blob:
	return mfs_errf(err, -EINVAL, "HNSW blob: expected %zu bytes, got %zu",
			need, len);
bad_links:
	free(v->up);
	v->up = NULL;
	return mfs_errf(err, -EINVAL, "HNSW blob: corrupt link lists");
}

/* Rewrite node c's list at lv (old node i) without dropped nodes: the
 * dropped neighbours' own live neighbours stand in, re-pruned. */
static int repair(struct hnsw *h, struct hnsw_ws *ws, const struct view *v,
		  const uint32_t *remap, size_t i, uint32_t c, int lv)
{
	const uint32_t *ol = old_list(v, i, lv);
	uint32_t *l = hnsw_links(h, c, lv);
	uint32_t maxm = lv ? h->M : h->maxM0;
	const float *cv = hnsw_vec(h, c);
	size_t n = 0, cap = 0;
	struct hnsw_pair *cand = NULL;

	if (++ws->epoch == 0) {
		memset(ws->tag, 0, ws->tag_cap * sizeof(*ws->tag));
		ws->epoch = 1;
	}
	ws->tag[c] = ws->epoch;
	for (uint32_t j = 0; j < ol[0]; j++) {
		uint32_t e = ol[1 + j];
		const uint32_t *el = old_list(v, e, lv);
		uint32_t from[1] = { e };
		const uint32_t *src = remap[e] != HNSW_NONE ? from : el + 1;
		uint32_t cnt = remap[e] != HNSW_NONE ? 1 : el[0];

		for (uint32_t t = 0; t < cnt; t++) {
			uint32_t nc = remap[src[t]];

			if (nc == HNSW_NONE || ws->tag[nc] == ws->epoch)
				continue;
			ws->tag[nc] = ws->epoch;
			if (n == cap) {
				struct hnsw_pair *p;

				cap = cap ? 2 * cap : 64;
				p = realloc(cand, cap * sizeof(*p));
				if (!p) {
					free(cand);
					return -ENOMEM;
				}
				cand = p;
			}
			cand[n++] = (struct hnsw_pair){
				h->dist(cv, hnsw_vec(h, nc), h->dim), nc
			};
		}
	}
	hnsw_sort_pairs(cand, n);
	n = hnsw_heuristic(h, cand, n, maxm);
	for (size_t j = 0; j < n; j++)
		l[1 + j] = cand[j].id;
	for (size_t j = n; j < maxm; j++)
		l[1 + j] = 0;
	l[0] = (uint32_t)n;
	free(cand);
	return 0;
}

/* What hnsw_restore works from: the blob's view, the current entities'
 * id map, and per blob node i its entity (pos[i], HNSW_NONE if gone) and
 * new number (remap[i], HNSW_NONE if dropped); used[p]: entity p has its
 * node.  Tombstones are kept (their vectors are in the blob). */
struct rst {
	struct view v;
	struct mfs_idmap cur;
	uint32_t *remap, *pos;
	uint8_t *used;
	size_t nb, kept, matched, ndrop;
};

/* Step 1: match the blob's nodes to the current entities (ids[0, n)).
 * Both are usually in the same order (the build read the entities as the
 * load does), so each node is first tried against the entity after the
 * last one matched; the id map of the entities is built only at the first
 * node out of that order (ids are distinct: either way finds the same). */
static int rst_match(struct rst *r, const int64_t *ids, size_t n)
{
	const struct view *v = &r->v;
	size_t next = 0;
	bool mapped = false;

	r->remap = malloc((r->nb ? r->nb : 1) * sizeof(*r->remap));
	r->pos = malloc((r->nb ? r->nb : 1) * sizeof(*r->pos));
	r->used = calloc(n ? n : 1, 1);
	if (!r->remap || !r->pos || !r->used)
		return -ENOMEM;
	for (size_t i = 0; i < r->nb; i++) {
		uint32_t p = HNSW_NONE;

		if (v->tomb[i]) {
			/* kept as a tombstone, below */
		} else if (next < n && ids[next] == v->label[i]) {
			p = (uint32_t)next;
		} else {
			if (!mapped && mfs_idmap_build(&r->cur, ids, n) < 0)
				return -ENOMEM;
			mapped = true;
			p = mfs_idmap_get(&r->cur, v->label[i]);
		}
		if (p != HNSW_NONE)
			next = (size_t)p + 1;

		r->pos[i] = p;
		if (v->tomb[i]) {
			r->remap[i] = (uint32_t)r->kept++;
		} else if (p != HNSW_NONE && !r->used[p]) {
			r->used[p] = 1;
			r->remap[i] = (uint32_t)r->kept++;
			r->matched++;
		} else {
			r->remap[i] = HNSW_NONE;
			r->ndrop++;
		}
	}
	return 0;
}

/* Steps 2 and 3: the kept nodes, in the blob's order (levels, labels,
 * vectors: a live node's from the current entities fv, a tombstone's from
 * the blob), and their links, renumbered, without the dropped nodes.
 * Most of a load is copying hundreds of MiB into fresh memory, page fault
 * after page fault: the blob's nodes are cut into chunks that the pool's
 * threads fill at once (each writes only its own nodes), while one task
 * fills the id map (not thread-safe: one writer). */
#define RST_CHUNK 16384

struct rst_job {
	struct rst *r;
	struct hnsw *h;
	const float *fv;
	size_t nchunks;
	size_t *tomb0;                  /* per chunk: tombstones before it */
	size_t *upper;                  /* per chunk: bytes of upper lists */
	atomic_int nomem;
};

static void rst_chunk(struct rst_job *j, size_t k)
{
	const struct view *v = &j->r->v;
	struct hnsw *h = j->h;
	const uint32_t *remap = j->r->remap;
	size_t upl = (1 + (size_t)h->M) * sizeof(uint32_t);
	size_t ti = j->tomb0[k], end = (k + 1) * RST_CHUNK;

	if (end > j->r->nb)
		end = j->r->nb;
	for (size_t i = k * RST_CHUNK; i < end; i++) {
		uint32_t c = remap[i];
		int lv = v->level[i];

		if (c == HNSW_NONE) {
			ti += v->tomb[i] != 0;
			continue;
		}
		h->upper[c] = lv ? calloc((size_t)lv, upl) : NULL;
		if (lv && !h->upper[c]) {
			atomic_store(&j->nomem, 1);
			lv = 0;         /* its links stop at level 0 */
		}
		j->upper[k] += lv * upl;
		h->level[c] = (uint8_t)lv;
		h->tomb[c] = v->tomb[i] ? 1 : 0;
		h->labels[c] = v->label[i];
		atomic_init(&h->lock[c], 0);
		if (v->tomb[i]) {
			memcpy(hnsw_vec(h, c), v->tvec + ti * h->dim,
			       h->dim * sizeof(float));
			ti++;
		} else {
			memcpy(hnsw_vec(h, c),
			       j->fv + (size_t)j->r->pos[i] * h->dim,
			       h->dim * sizeof(float));
			if (h->cosine)
				vec_normalize(hnsw_vec(h, c), h->dim);
		}
		for (int l = 0; l <= lv; l++) {
			const uint32_t *ol = old_list(v, i, l);
			uint32_t *dst = hnsw_links(h, c, l), m = 0;

			for (uint32_t x = 0; x < ol[0]; x++)
				if (remap[ol[1 + x]] != HNSW_NONE)
					dst[1 + m++] = remap[ol[1 + x]];
			dst[0] = m;
			for (uint32_t x = m; x < (l ? h->M : 2 * h->M); x++)
				dst[1 + x] = 0;
		}
	}
}

static void rst_task(void *arg, size_t i, unsigned worker)
{
	struct rst_job *j = arg;
	const struct view *v = &j->r->v;

	(void)worker;
	if (i < j->nchunks) {
		rst_chunk(j, i);
		return;
	}
	for (size_t x = 0; x < j->r->nb; x++)   /* the id map */
		if (j->r->remap[x] != HNSW_NONE && !v->tomb[x])
			mfs_idmap_put(&j->h->map, v->label[x], j->r->remap[x]);
}

static int rst_nodes(struct rst *r, struct hnsw *h, const float *fv,
		     struct mfs_pool *pool)
{
	const struct view *v = &r->v;
	struct rst_job j = { .r = r, .h = h, .fv = fv };
	size_t t = 0;

	j.nchunks = (r->nb + RST_CHUNK - 1) / RST_CHUNK;
	j.tomb0 = calloc(j.nchunks + 1, sizeof(*j.tomb0));
	j.upper = calloc(j.nchunks + 1, sizeof(*j.upper));
	if (!j.tomb0 || !j.upper) {
		free(j.tomb0);
		free(j.upper);
		return -ENOMEM;
	}
	for (size_t i = 0; i < r->nb; i++) {
		if (i % RST_CHUNK == 0)
			j.tomb0[i / RST_CHUNK] = t;
		t += v->tomb[i] != 0;  /* tvec holds every tombstone's */
	}
	atomic_init(&j.nomem, 0);
	mfs_pool_for(pool, j.nchunks + 1, rst_task, &j);
	h->n = r->kept;         /* every upper[c] is set: hnsw_free_all */
	h->live = r->matched;
	for (size_t k = 0; k < j.nchunks; k++)
		h->upper_bytes += j.upper[k];
	free(j.tomb0);
	free(j.upper);
	return atomic_load(&j.nomem) ? -ENOMEM : 0;
}

/* Step 4: the lists that lost a node get their neighbours chosen again
 * (repair). */
static int rst_repair(struct rst *r, struct hnsw *h)
{
	const struct view *v = &r->v;
	struct hnsw_ws *ws;

	if (!r->ndrop)
		return 0;
	ws = hnsw_ws_get(h);
	if (!ws)
		return -ENOMEM;
	for (size_t i = 0; i < r->nb; i++) {
		uint32_t c = r->remap[i];

		if (c == HNSW_NONE)
			continue;
		for (int lv = 0; lv <= v->level[i]; lv++) {
			const uint32_t *ol = old_list(v, i, lv);
			int hit = 0;

			for (uint32_t j = 0; j < ol[0] && !hit; j++)
				hit = r->remap[ol[1 + j]] == HNSW_NONE;
			if (hit && repair(h, ws, v, r->remap, i, c, lv) < 0) {
				hnsw_ws_put(h, ws);
				return -ENOMEM;
			}
		}
	}
	hnsw_ws_put(h, ws);
	return 0;
}

/* Step 5: the entry point: the saved one, else the highest node left. */
static void rst_entry(const struct rst *r, struct hnsw *h)
{
	if (r->nb && r->remap[r->v.hd.entry] != HNSW_NONE) {
		h->entry = r->remap[r->v.hd.entry];
		h->maxlevel = r->v.hd.maxlevel;
		return;
	}
	for (uint32_t c = 0; c < r->kept; c++)
		if ((int)h->level[c] > h->maxlevel) {
			h->maxlevel = h->level[c];
			h->entry = c;
		}
}

/* Step 6: the entities inserted after the save, appended and linked. */
static int rst_new(const struct rst *r, struct hnsw *h,
		   const struct idx_info *info, const int64_t *ids,
		   const float *fv, size_t n)
{
	size_t nnew = n - r->matched;
	uint32_t first;

	for (size_t i = 0; i < n; i++)
		if (!r->used[i] && hnsw_append(h, ids + i, fv + i * h->dim, 1,
					       &first) < 0)
			return -ENOMEM;
	if (nnew && hnsw_link_range(h, (uint32_t)r->kept, nnew, info->pool,
				    NULL) < 0)
		return -ENOMEM;
	return 0;
}

static void rst_fini(struct rst *r)
{
	free(r->v.up);
	free(r->remap);
	free(r->pos);
	free(r->used);
	mfs_idmap_fini(&r->cur);
}

int hnsw_restore(const struct idx_info *info, const struct mfs_kv *canon,
		 const void *blob, size_t len, const int64_t *ids,
		 const void *vecs, size_t n, struct idx **out,
		 struct mfs_err *err)
{
	struct rst r = { 0 };
	struct hnsw *h = NULL;
	uint32_t M, efc;
	const float *fv = vecs;
	void *aligned = NULL;
	size_t total;
	int rc;

	/* the arrays in the blob are read in place: they need 8-byte
	 * alignment, which an LMDB value need not have */
	if (blob && ((uintptr_t)blob & 7)) {
		aligned = malloc(len ? len : 1);
		if (!aligned)
			return mfs_errf(err, -ENOMEM, "HNSW restore: out of memory");
		memcpy(aligned, blob, len);
		blob = aligned;
	}
	if ((rc = hnsw_check_info(info, err)) < 0 ||
	    (rc = hnsw_params(canon, &M, &efc, err)) < 0 ||
	    (rc = parse(blob, len, info, M, &r.v, err)) < 0) {
		free(aligned);
		return rc;
	}
	r.nb = r.v.hd.n;
	if (rst_match(&r, ids, n) < 0 || hnsw_new(info, M, efc, &h) < 0)
		goto fail;
	h->base.type = &idx_hnsw_type;
	total = r.kept + (n - r.matched);
	if (hnsw_reserve(h, total ? total : 1) < 0 ||
	    rst_nodes(&r, h, fv, info->pool) < 0)
		goto fail;
	if (rst_repair(&r, h) < 0)
		goto fail;
	rst_entry(&r, h);
	if (rst_new(&r, h, info, ids, fv, n) < 0)
		goto fail;
	rst_fini(&r);
	free(aligned);
	*out = &h->base;
	return 0;
fail:
	hnsw_free_all(h);
	rst_fini(&r);
	free(aligned);
	return mfs_errf(err, -ENOMEM, "HNSW restore of %zu entities: out of memory",
			n);
}
