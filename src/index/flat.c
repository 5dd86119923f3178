/* flat.c - FLAT and BIN_FLAT: exact search over every vector held.
 *
 * Layout.  Rows sit contiguously in `data` (64-byte aligned, vec_bytes each;
 * COSINE keeps its own normalized copy), with ids[pos] and, for float
 * vectors, norms[pos] = |x|^2 beside them.  The id map (idmap.h) sends
 * id -> pos, so remove() is O(1): the last row moves into the hole.  Row
 * order therefore carries no meaning; positions stay below MFS_IDMAP_NONE.
 *
 * Search has two plans; both return exactly the best k by the kernel score
 * (vec.h), ties by smaller id, and both give bit-identical scores, because
 * every final score comes from the same kernel (vec_score / vec_score_many
 * compute a row identically wherever it sits in a block).
 *
 *  - scan (binary vectors, and fewer than GEMM_MIN_NQ float queries):
 *    vec_score_many over blocks of BLOCK_ROWS rows (each block serving a
 *    tile of up to SCAN_TILE_Q queries while it is in cache), each block's
 *    scores offered to a bounded heap that rejects most rows with one
 *    comparison.
 *  - gemm (float batches): tiles of TILE_Q queries x BLOCK_ROWS rows go
 *    through vec_gemm_dot; dots become approximate scores (L2:
 *    |x|^2 + |q|^2 - 2 q.x, IP/COSINE: -q.x) and a heap keeps the best
 *    kk = k + margin by that approximation.  The candidates are then rescored
 *    exactly with the kernel and the best k kept.  The L2 identity cancels
 *    badly when |x|, |q| are large next to the distances, so the approximation
 *    is only trusted under a proof: every row left out scored at least lb
 *    (the worst candidate of a full heap), its exact score is within E (a
 *    float error bound of both computations) of that, so if the k-th exact
 *    score is below lb - E nothing left out can enter.  Otherwise that query
 *    is redone by the scan plan.  The margin makes the proof hold almost
 *    always.
 *
 * Parallelism: work units are (query tile, data chunk) pairs run with
 * mfs_pool_for on info->pool; with few query tiles the data is cut into
 * chunks too, each unit keeping its own heaps, and a second pass merges a
 * query's chunk heaps (and rescoring).  Scratch (tiles, heaps, candidate
 * lists) is allocated per call and indexed by pool worker, so search() runs
 * concurrently with itself without locks; add/remove/free need exclusive
 * access (index.h).
 */
#include "base/idmap.h"
#include "index/index.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
	GEMM_MIN_NQ = 8,                /* smaller batches scan */
	TILE_Q = 128,                   /* queries per gemm tile */
	SCAN_TILE_Q = 32,               /* queries sharing a scanned block */
	BLOCK_ROWS = 2048,              /* rows per block: tile 1 MiB, in L2 */
	MIN_CHUNK_ROWS = 8192,          /* smallest data chunk worth a task */
};

/* Candidate lists of one query batch stay under this many bytes. */
#define CAND_BUDGET_BYTES ((size_t)64 << 20)

struct flat {
	struct idx base;
	size_t vbytes;                  /* bytes of one row */
	size_t n;                       /* rows held */
	size_t cap;                     /* rows allocated */
	unsigned char *data;            /* cap rows, 64-byte aligned */
	int64_t *ids;                   /* cap */
	float *norms;                   /* cap, |x|^2; NULL for binary */
	struct mfs_idmap map;               /* id -> pos */
};

static size_t margin(size_t k)
{
	return 16 + k / 4;
}

/* ---- storage ---- */

static int is_binary(const struct flat *f)
{
	return f->base.info.vtype == VEC_BINARY;
}

static const unsigned char *row(const struct flat *f, size_t pos)
{
	return f->data + pos * f->vbytes;
}

/* Room for need rows.  0 or -ENOMEM (index unchanged). */
static int reserve(struct flat *f, size_t need)
{
	/* A build asks for exactly its n rows; later adds double. */
	size_t cap = f->cap ? (f->cap < SIZE_MAX / 2 ? f->cap * 2 : need) : 64;
	void *data = NULL;
	int64_t *ids = NULL;
	float *norms = NULL;

	if (need <= f->cap)
		return 0;
	if (cap < need)
		cap = need;
	if (cap > SIZE_MAX / (f->vbytes + 16))
		return -ENOMEM;
	if (posix_memalign(&data, 64, cap * f->vbytes))
		return -ENOMEM;
	ids = malloc(cap * sizeof(*ids));
	if (!ids)
		goto fail;
	if (!is_binary(f)) {
		norms = malloc(cap * sizeof(*norms));
		if (!norms)
			goto fail;
	}
	if (f->n) {
		memcpy(data, f->data, f->n * f->vbytes);
		memcpy(ids, f->ids, f->n * sizeof(*ids));
		if (norms)
			memcpy(norms, f->norms, f->n * sizeof(*norms));
	}
	free(f->data);
	free(f->ids);
	free(f->norms);
	f->data = data;
	f->ids = ids;
	f->norms = norms;
	f->cap = cap;
	return 0;
fail:
	free(data);
	free(ids);
	free(norms);
	return -ENOMEM;
}

/* ---- type functions ---- */

static const struct idx_type *type_of(int binary)
{
	return binary ? &idx_bin_flat_type : &idx_flat_type;
}

static int check_common(int binary, const struct idx_info *info,
			const struct mfs_kv *params, struct mfs_kv *canon,
			struct mfs_err *err)
{
	const char *name = type_of(binary)->name;
	enum vec_type want = binary ? VEC_BINARY : VEC_FLOAT;
	const char *supported = binary ? "HAMMING JACCARD" : "L2 IP COSINE";

	if (info->vtype != want)
		return mfs_errf(err, -EINVAL,
				"index %s expects a %s field, got %s", name,
				vec_type_name(want), vec_type_name(info->vtype));
	if (!vec_metric_fits(info->metric, want))
		return mfs_errf(err, -EINVAL,
				"metric type %s not found or not supported, "
				"supported: [%s]",
				vec_metric_name(info->metric), supported);
	if (info->dim == 0 || (binary && info->dim % 8))
		return mfs_errf(err, -EINVAL,
				"dim: expected %s, got %u",
				binary ? "a positive multiple of 8" :
					 "a positive number", info->dim);
	for (size_t i = 0; params && i < params->n; i++) {
		const char *key = params->item[i].key;
		const char *val = params->item[i].val;

		if (strcmp(key, "index_type") == 0) {
			if (strcasecmp(val, name) != 0)
				return mfs_errf(err, -EINVAL,
						"index_type: expected %s, "
						"got %s", name, val);
		} else if (strcmp(key, "metric_type") == 0) {
			enum vec_metric m;

			if (vec_metric_parse(val, &m) ||
			    !vec_metric_fits(m, want))
				return mfs_errf(err, -EINVAL,
						"metric type %s not found or "
						"not supported, supported: "
						"[%s]", val, supported);
		} else {
			return mfs_errf(err, -EINVAL,
					"unknown parameter %s for index %s "
					"(it takes none)", key, name);
		}
	}
	if (canon) {
		mfs_kv_init(canon);
		return mfs_kv_set(canon, "index_type", name, err);
	}
	return 0;
}

static int check_float(const struct idx_info *info,
		       const struct mfs_kv *params, struct mfs_kv *canon,
		       struct mfs_err *err)
{
	return check_common(0, info, params, canon, err);
}

static int check_binary(const struct idx_info *info,
			const struct mfs_kv *params, struct mfs_kv *canon,
			struct mfs_err *err)
{
	return check_common(1, info, params, canon, err);
}

static size_t estimate_bytes(const struct idx_info *info,
			     const struct mfs_kv *canon, size_t n)
{
	size_t per = vec_bytes(info->vtype, info->dim) + sizeof(int64_t) +
		     (info->vtype == VEC_FLOAT ? sizeof(float) : 0);

	return sizeof(struct flat) + n * per + mfs_idmap_bytes_for(n);
}

static int flat_add(struct idx *ix, const int64_t *ids, const void *vecs,
		    size_t n, struct mfs_err *err)
{
	struct flat *f = (struct flat *)ix;
	const struct idx_info *info = &f->base.info;
	size_t i;

	if (n == 0)
		return 0;
	if (n >= MFS_IDMAP_NONE - f->n || reserve(f, f->n + n) ||
	    mfs_idmap_reserve(&f->map, f->n + n))
		return mfs_errf(err, -ENOMEM, "FLAT: out of memory adding "
				"%zu vectors to %zu", n, f->n);
	for (i = 0; i < n; i++) {
		if (mfs_idmap_get(&f->map, ids[i]) != MFS_IDMAP_NONE)
			break;
		mfs_idmap_put(&f->map, ids[i], (uint32_t)(f->n + i));
	}
	if (i < n) {            /* a duplicate id: undo, change nothing */
		int64_t dup = ids[i];

		while (i-- > 0)
			mfs_idmap_del(&f->map, ids[i]);
		return mfs_errf(err, -EINVAL, "id %lld: expected a new id, "
				"got one already in the index",
				(long long)dup);
	}
	memcpy(f->data + f->n * f->vbytes, vecs, n * f->vbytes);
	memcpy(f->ids + f->n, ids, n * sizeof(*ids));
	for (i = f->n; i < f->n + n; i++) {
		float *v = (float *)(f->data + i * f->vbytes);

		if (is_binary(f))
			break;
		if (info->metric == VEC_COSINE)
			vec_normalize(v, info->dim);
		f->norms[i] = vec_dot(v, v, info->dim);
	}
	f->n += n;
	return 0;
}

static void flat_remove(struct idx *ix, const int64_t *ids, size_t n)
{
	struct flat *f = (struct flat *)ix;

	for (size_t i = 0; i < n; i++) {
		uint32_t p = mfs_idmap_del(&f->map, ids[i]);
		size_t pos = p, last;

		if (p == MFS_IDMAP_NONE)
			continue;
		last = --f->n;
		if (pos == last)
			continue;
		/* Move the last row into the hole. */
		memcpy(f->data + pos * f->vbytes, row(f, last), f->vbytes);
		f->ids[pos] = f->ids[last];
		if (f->norms)
			f->norms[pos] = f->norms[last];
		mfs_idmap_put(&f->map, f->ids[pos], (uint32_t)pos);
	}
}

static void flat_free(struct idx *ix)
{
	struct flat *f = (struct flat *)ix;

	if (!f)
		return;
	free(f->data);
	free(f->ids);
	free(f->norms);
	mfs_idmap_fini(&f->map);
	free(f);
}

/* A FLAT (binary: BIN_FLAT) index of the n vectors; progress (may be
 * NULL) hears 100 once it is made. */
static int make(int binary, const struct idx_info *info, const int64_t *ids,
		const void *vecs, size_t n, const struct idx_progress *progress,
		struct idx **out, struct mfs_err *err)
{
	struct flat *f;
	int rc;

	rc = check_common(binary, info, NULL, NULL, err);
	if (rc)
		return rc;
	f = calloc(1, sizeof(*f));
	if (!f)
		return mfs_errf(err, -ENOMEM, "FLAT: out of memory");
	f->base.type = type_of(binary);
	f->base.info = *info;
	f->vbytes = vec_bytes(info->vtype, info->dim);
	if (!binary)
		vec_blas_init();
	rc = flat_add(&f->base, ids, vecs, n, err);
	if (rc) {
		flat_free(&f->base);
		return rc;
	}
	if (progress && progress->fn)
		progress->fn(progress->arg, 100.0);
	*out = &f->base;
	return 0;
}

static int build_float(const struct idx_info *info,
		       const struct mfs_kv *canon, const int64_t *ids,
		       const void *vecs, size_t n,
		       const struct idx_progress *progress, struct idx **out,
		       struct mfs_err *err)
{
	return make(0, info, ids, vecs, n, progress, out, err);
}

static int build_binary(const struct idx_info *info,
			const struct mfs_kv *canon, const int64_t *ids,
			const void *vecs, size_t n,
			const struct idx_progress *progress, struct idx **out,
			struct mfs_err *err)
{
	return make(1, info, ids, vecs, n, progress, out, err);
}

/* FLAT saves nothing: the entities are the index. */
static int restore_float(const struct idx_info *info,
			 const struct mfs_kv *canon, const void *blob,
			 size_t len, const int64_t *ids, const void *vecs,
			 size_t n, struct idx **out, struct mfs_err *err)
{
	return make(0, info, ids, vecs, n, NULL, out, err);
}

static int restore_binary(const struct idx_info *info,
			  const struct mfs_kv *canon, const void *blob,
			  size_t len, const int64_t *ids, const void *vecs,
			  size_t n, struct idx **out, struct mfs_err *err)
{
	return make(1, info, ids, vecs, n, NULL, out, err);
}

static size_t flat_count(const struct idx *ix)
{
	return ((const struct flat *)ix)->n;
}

static size_t flat_memory_bytes(const struct idx *ix)
{
	const struct flat *f = (const struct flat *)ix;

	return sizeof(*f) + f->cap * (f->vbytes + sizeof(int64_t)) +
	       (f->norms ? f->cap * sizeof(float) : 0) +
	       mfs_idmap_bytes(&f->map);
}

/* ---- search ---- */

struct job {
	const struct flat *f;
	const unsigned char *Q;         /* queries as searched */
	const float *qn;                /* gemm: |q|^2 per query */
	struct idx_hits *hits;
	size_t nq, k;
	size_t kk;                      /* heap size in the first pass */
	int gemm;
	size_t tq;                      /* queries per unit */
	size_t ndc, chunk;              /* data chunks, rows per chunk */
	size_t qb0, qb1;                /* query batch in progress */
	float maxnorm;                  /* gemm: max |x| */
	float *tile;                    /* per worker: tile_len floats */
	size_t tile_len;
	struct vec_topk *tks;           /* per worker: tq heaps */
	float *cs;                      /* (query in batch, chunk) x kk */
	int64_t *ci;
	size_t *cn;                     /* (query in batch, chunk): held */
	float *cw;                      /* ... worst held when full */
};

static size_t slot_of(const struct job *j, size_t qi, size_t dc)
{
	return (qi - j->qb0) * j->ndc + dc;
}

/* Gemm pass over rows [r0, r1) for queries [q0, q0 + nqt). */
VEC_CLONES
static void unit_gemm(const struct job *j, size_t q0, size_t nqt, size_t r0,
		      size_t r1, struct vec_topk *tk, float *tile)
{
	const struct flat *f = j->f;
	size_t dim = f->base.info.dim;
	const float *Q = (const float *)j->Q + q0 * dim;
	int l2 = f->base.info.metric == VEC_L2;

	for (size_t b = r0; b < r1; b += BLOCK_ROWS) {
		size_t nb = r1 - b < BLOCK_ROWS ? r1 - b : BLOCK_ROWS;
		const float *nrm = f->norms + b;

		vec_gemm_dot(Q, nqt, (const float *)row(f, b), nb, dim, tile,
			     nb);
		for (size_t i = 0; i < nqt; i++) {
			float *s = tile + i * nb;

			if (l2) {
				float qn = j->qn[q0 + i];

				for (size_t c = 0; c < nb; c++)
					s[c] = (nrm[c] + qn) - 2.0f * s[c];
			} else {
				for (size_t c = 0; c < nb; c++)
					s[c] = -s[c];
			}
			/* Positions, not ids: the rescoring needs rows. */
			vec_topk_push_many(&tk[i], s, NULL, (int64_t)b, nb);
		}
	}
}

/* Exact scan of rows [r0, r1) for nqt queries at Q (one heap each), block
 * by block, so a block read from memory serves every query of the tile;
 * ids as hit ids. */
static void scan_rows(const struct flat *f, const unsigned char *Q,
		      size_t nqt, size_t r0, size_t r1, struct vec_topk *tk,
		      float *scratch)
{
	const struct idx_info *info = &f->base.info;

	for (size_t b = r0; b < r1; b += BLOCK_ROWS) {
		size_t nb = r1 - b < BLOCK_ROWS ? r1 - b : BLOCK_ROWS;

		for (size_t i = 0; i < nqt; i++) {
			vec_score_many(info->metric, Q + i * f->vbytes,
				       row(f, b), nb, info->dim, scratch);
			vec_topk_push_many(&tk[i], scratch, f->ids + b, 0, nb);
		}
	}
}

static void unit_fn(void *arg, size_t u, unsigned worker)
{
	const struct job *j = arg;
	size_t qt = u / j->ndc, dc = u % j->ndc;
	size_t q0 = j->qb0 + qt * j->tq;
	size_t nqt = j->qb1 - q0 < j->tq ? j->qb1 - q0 : j->tq;
	size_t r0 = dc * j->chunk, r1 = r0 + j->chunk;
	struct vec_topk *tk = j->tks + (size_t)worker * j->tq;
	float *tile = j->tile + (size_t)worker * j->tile_len;

	if (r1 > j->f->n)
		r1 = j->f->n;
	if (r0 > r1)
		r0 = r1;
	for (size_t i = 0; i < nqt; i++) {
		size_t s = slot_of(j, q0 + i, dc);

		vec_topk_init(&tk[i], j->kk, j->cs + s * j->kk,
			      j->ci + s * j->kk);
	}
	if (j->gemm)
		unit_gemm(j, q0, nqt, r0, r1, tk, tile);
	else
		scan_rows(j->f, j->Q + q0 * j->f->vbytes, nqt, r0, r1, tk,
			  tile);
	for (size_t i = 0; i < nqt; i++) {
		size_t s = slot_of(j, q0 + i, dc);

		j->cn[s] = tk[i].n;
		j->cw[s] = tk[i].n == j->kk && r1 - r0 > j->kk ?
				   tk[i].score[0] : INFINITY;
	}
}

/* Bound on |approximate - kernel score| for any row and query qi: both are
 * d-term float sums (plus a few roundings) of terms bounded by the norms. */
static float error_bound(const struct job *j, size_t qi)
{
	double g = 2.0 * (j->f->base.info.dim + 8) * (FLT_EPSILON / 2);
	double qv = sqrt(j->qn[qi]), xv = j->maxnorm;

	if (j->f->base.info.metric == VEC_L2)
		return (float)(g * (qv + xv) * (qv + xv));
	return (float)(g * qv * xv);
}

static void merge_fn(void *arg, size_t i, unsigned worker)
{
	const struct job *j = arg;
	const struct flat *f = j->f;
	const struct idx_info *info = &f->base.info;
	size_t qi = j->qb0 + i, k = j->k;
	const void *q = j->Q + qi * f->vbytes;
	struct vec_topk fin;
	float lb = INFINITY;

	vec_topk_init(&fin, k, j->hits->score + qi * k, j->hits->id + qi * k);
	for (size_t dc = 0; dc < j->ndc; dc++) {
		size_t s = slot_of(j, qi, dc), n = j->cn[s];
		const float *cs = j->cs + s * j->kk;
		const int64_t *ci = j->ci + s * j->kk;

		if (!j->gemm) {
			for (size_t t = 0; t < n; t++)
				vec_topk_push(&fin, cs[t], ci[t]);
			continue;
		}
		if (j->cw[s] < lb)
			lb = j->cw[s];
		for (size_t t = 0; t < n; t++) {
			size_t pos = (size_t)ci[t];

			vec_topk_push(&fin, vec_score(info->metric, q,
						      row(f, pos), info->dim),
				      f->ids[pos]);
		}
	}
	if (j->gemm && lb < INFINITY &&
	    !(vec_topk_worst(&fin) + error_bound(j, qi) < lb)) {
		/* The approximation cannot vouch for this query: scan. */
		vec_topk_init(&fin, k, j->hits->score + qi * k,
			      j->hits->id + qi * k);
		scan_rows(f, q, 1, 0, f->n, &fin,
			  j->tile + (size_t)worker * j->tile_len);
	}
	vec_topk_sort(&fin);
	j->hits->count[qi] = fin.n;
}

/* The queries as the rows are held: q itself, or for COSINE a normalized
 * copy in *copy (returns owned: the caller frees *copy, NULL when q was
 * kept).  NULL when out of memory (index.h: the index normalizes the
 * queries it receives). */
static const unsigned char *scored_queries(const struct flat *f,
					   const void *q, size_t nq,
					   float **copy)
{
	size_t d = f->base.info.dim;

	*copy = NULL;
	if (f->base.info.metric != VEC_COSINE)
		return q;
	*copy = malloc(nq * f->vbytes);
	if (!*copy)
		return NULL;
	memcpy(*copy, q, nq * f->vbytes);
	for (size_t i = 0; i < nq; i++)
		vec_normalize(*copy + i * d, d);
	return (const unsigned char *)*copy;
}

static int flat_search(const struct idx *ix, const void *q, size_t nq,
		       const struct mfs_kv *sparams, struct idx_hits *hits,
		       struct mfs_err *err)
{
	const struct flat *f = (const struct flat *)ix;
	const struct idx_info *info = &f->base.info;
	struct mfs_pool *pool = info->pool;
	size_t nw = mfs_pool_size(pool), k = hits->k, qtiles, qbatch, ncand;
	size_t per_query;
	struct job j = { .f = f, .hits = hits, .nq = nq, .k = k };
	float *qcopy = NULL, *qn = NULL;
	int rc = 0;

	if (nq == 0)
		return 0;
	if (k == 0 || f->n == 0) {
		for (size_t i = 0; i < nq; i++)
			hits->count[i] = 0;
		return 0;
	}
	if (!(j.Q = scored_queries(f, q, nq, &qcopy)))
		goto nomem;
	j.gemm = !is_binary(f) && nq >= GEMM_MIN_NQ;
	/* Equal tiles of at most TILE_Q / SCAN_TILE_Q queries. */
	j.tq = j.gemm ? TILE_Q : SCAN_TILE_Q;
	qtiles = (nq + j.tq - 1) / j.tq;
	j.tq = (nq + qtiles - 1) / qtiles;
	j.kk = j.gemm ? k + margin(k) : k;
	if (j.kk > f->n)
		j.kk = f->n;
	if (j.gemm) {
		float mx = 0;

		qn = malloc(nq * sizeof(*qn));
		if (!qn)
			goto nomem;
		vec_norms_sq((const float *)j.Q, nq, info->dim, qn);
		for (size_t r = 0; r < f->n; r++)
			if (f->norms[r] > mx)
				mx = f->norms[r];
		j.qn = qn;
		j.maxnorm = sqrtf(mx);
	}

	/* Enough units for every worker twice over: cut the data when the
	 * queries alone do not give them. */
	j.ndc = 1;
	if (nw > 1 && qtiles < 2 * nw) {
		size_t want = (2 * nw + qtiles - 1) / qtiles;
		size_t most = f->n / MIN_CHUNK_ROWS;

		j.ndc = want < most ? want : most;
		if (j.ndc < 1)
			j.ndc = 1;
	}
	j.chunk = (f->n + j.ndc - 1) / j.ndc;

	per_query = j.ndc * j.kk * (sizeof(float) + sizeof(int64_t));
	qbatch = CAND_BUDGET_BYTES / (per_query ? per_query : 1);
	qbatch = qbatch / j.tq * j.tq;
	if (qbatch < j.tq)
		qbatch = j.tq;
	if (qbatch > nq)
		qbatch = nq;
	ncand = qbatch * j.ndc;
	j.cs = malloc(ncand * j.kk * sizeof(*j.cs));
	j.ci = malloc(ncand * j.kk * sizeof(*j.ci));
	j.cn = malloc(ncand * sizeof(*j.cn));
	j.cw = malloc(ncand * sizeof(*j.cw));
	j.tile_len = j.gemm ? j.tq * BLOCK_ROWS : BLOCK_ROWS;
	j.tile = malloc(nw * j.tile_len * sizeof(*j.tile));
	j.tks = malloc(nw * j.tq * sizeof(*j.tks));
	if (!j.cs || !j.ci || !j.cn || !j.cw || !j.tile || !j.tks)
		goto nomem;

	for (j.qb0 = 0; j.qb0 < nq; j.qb0 = j.qb1) {
		j.qb1 = j.qb0 + qbatch < nq ? j.qb0 + qbatch : nq;
		mfs_pool_for(pool, (j.qb1 - j.qb0 + j.tq - 1) / j.tq * j.ndc,
			     unit_fn, &j);
		mfs_pool_for(pool, j.qb1 - j.qb0, merge_fn, &j);
	}
	goto out;
nomem:
	rc = mfs_errf(err, -ENOMEM, "FLAT search: out of memory for %zu "
		      "queries, k=%zu", nq, k);
out:
	free(qcopy);
	free(qn);
	free(j.cs);
	free(j.ci);
	free(j.cn);
	free(j.cw);
	free(j.tile);
	free(j.tks);
	return rc;
}

/* ---- filtered and range search (index.h, struct idx_allow) ----
 *
 * Always exact, whatever allow->exact says: the allowed rows are found
 * once per call (through the id map when they are few, else by testing
 * every row's id), then every query scores exactly those rows with the
 * kernel of the unfiltered scan (vec_score computes a row as
 * vec_score_many does), so a filtered FLAT search is brute force over the
 * matching entities.  A window alone (range search) scans every row in
 * blocks. */

struct fjob {
	const struct flat *f;
	const unsigned char *Q;
	size_t k;
	const struct idx_allow *a;
	const size_t *pos;              /* npos allowed rows; NULL: all */
	size_t npos;
	float *scr;                     /* BLOCK_ROWS per worker */
	struct idx_hits *hits;
};

static void filtered_fn(void *arg, size_t qi, unsigned worker)
{
	const struct fjob *j = arg;
	const struct flat *f = j->f;
	const struct idx_info *info = &f->base.info;
	const unsigned char *q = j->Q + qi * f->vbytes;
	struct vec_topk t;

	vec_topk_init(&t, j->k, j->hits->score + qi * j->k,
		      j->hits->id + qi * j->k);
	if (!j->pos) {
		float *sc = j->scr + (size_t)worker * BLOCK_ROWS;

		for (size_t r0 = 0; r0 < f->n; r0 += BLOCK_ROWS) {
			size_t nb = f->n - r0 < BLOCK_ROWS ? f->n - r0 :
				BLOCK_ROWS;

			vec_score_many(info->metric, q, row(f, r0), nb,
				       info->dim, sc);
			for (size_t i = 0; i < nb; i++)
				if (idx_allow_score(j->a, sc[i]) &&
				    sc[i] <= vec_topk_worst(&t))
					vec_topk_push(&t, sc[i],
						      f->ids[r0 + i]);
		}
	} else {
		for (size_t i = 0; i < j->npos; i++) {
			size_t p = j->pos[i];
			float s = vec_score(info->metric, q, row(f, p),
					    info->dim);

			if (idx_allow_score(j->a, s) && s <= vec_topk_worst(&t))
				vec_topk_push(&t, s, f->ids[p]);
		}
	}
	vec_topk_sort(&t);
	j->hits->count[qi] = t.n;
}

static int flat_search_filtered(const struct idx *ix, const void *q,
				size_t nq, const struct mfs_kv *sparams,
				const struct idx_allow *a,
				struct idx_hits *hits, struct mfs_err *err)
{
	const struct flat *f = (const struct flat *)ix;
	const struct idx_info *info = &f->base.info;
	struct fjob j = { .f = f, .Q = q, .k = hits->k, .a = a,
			  .hits = hits };
	size_t *pos = NULL;
	float *qcopy = NULL;
	int rc = 0;

	(void)sparams;
	if (nq == 0)
		return 0;
	if (hits->k == 0 || f->n == 0 || (a->ids_on && a->n == 0)) {
		memset(hits->count, 0, nq * sizeof(*hits->count));
		return 0;
	}
	if (a->ids_on) {
		size_t n = 0;

		pos = malloc((a->n < f->n ? a->n : f->n) * sizeof(*pos) + 1);
		if (!pos)
			goto nomem;
		if (a->n * 4 < f->n) {
			for (size_t i = 0; i < a->n; i++) {
				uint32_t p = mfs_idmap_get(&f->map, a->ids[i]);

				if (p != MFS_IDMAP_NONE)
					pos[n++] = p;
			}
		} else {
			for (size_t p = 0; p < f->n; p++)
				if (idx_allow_id(a, f->ids[p]))
					pos[n++] = p;
		}
		j.pos = pos;
		j.npos = n;
	} else {
		j.scr = malloc(mfs_pool_size(info->pool) * BLOCK_ROWS *
			       sizeof(*j.scr));
		if (!j.scr)
			goto nomem;
	}
	if (!(j.Q = scored_queries(f, q, nq, &qcopy)))
		goto nomem;
	mfs_pool_for(nq > 1 ? info->pool : NULL, nq, filtered_fn, &j);
	goto out;
nomem:
	rc = mfs_errf(err, -ENOMEM, "FLAT search: out of memory for %zu "
		      "queries, k=%zu", nq, hits->k);
out:
	free(pos);
	free(qcopy);
	free(j.scr);
	return rc;
}

const struct idx_type idx_flat_type = {
	.name = "FLAT",
	.binary = 0,
	.check = check_float,
	.check_search = NULL,
	.estimate_bytes = estimate_bytes,
	.build = build_float,
	.save = NULL,
	.restore = restore_float,
	.add = flat_add,
	.remove = flat_remove,
	.search = flat_search,
	.search_filtered = flat_search_filtered,
	.count = flat_count,
	.memory_bytes = flat_memory_bytes,
	.free = flat_free,
};

const struct idx_type idx_bin_flat_type = {
	.name = "BIN_FLAT",
	.binary = 1,
	.check = check_binary,
	.check_search = NULL,
	.estimate_bytes = estimate_bytes,
	.build = build_binary,
	.save = NULL,
	.restore = restore_binary,
	.add = flat_add,
	.remove = flat_remove,
	.search = flat_search,
	.search_filtered = flat_search_filtered,
	.count = flat_count,
	.memory_bytes = flat_memory_bytes,
	.free = flat_free,
};
