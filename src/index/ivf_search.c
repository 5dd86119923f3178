/* ivf_search.c - batched search of an IVF index.
 *
 * Queries are cut into blocks of QBLOCK; the blocks run over the pool, each
 * worker with its own scratch (indexed by the pool's worker number, so no
 * lock).  Per block: coarse scores against all centroids with one
 * vec_gemm_dot (Hamming for binary), then per query the nprobe best lists
 * (smallest squared L2 to the centroid; largest inner product under IP) are
 * scanned into a vec.h top-k heap.  The index is only read.
 *
 * Under an allow-list (search_filtered) the allowed entries are found once
 * per search when they may be few (struct allowed: one pass over the
 * lists' ids), and a query scores exactly those entries instead of testing
 * every list entry against the allow-list: always when the engine asks for
 * exact scoring, and otherwise when they are fewer than the entries of the
 * query's nprobe nearest lists, where the widened scan would have scored
 * every one of them anyway (same hits, without the tests).
 */
#include "index/ivf_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define QBLOCK 16

/* The entries of the lists an allow-list admits, in list order: run r is
 * pos[start[r], start[r + 1]) of list li[r].  Made once per search, read
 * by every query; n * 4 + nrun * 12 bytes, freed with the search. */
struct allowed {
	uint32_t *pos;
	uint32_t *li;
	size_t *start;                  /* nrun + 1 */
	size_t n, nrun;
};

struct sjob {
	const struct ivf *v;
	const uint8_t *q;
	size_t qbytes, nq, nprobe, maxlist;
	struct idx_hits *hits;
	char *scratch;
	size_t stride;
	const struct idx_allow *a;      /* NULL: unfiltered */
	size_t nsort;                   /* lists ordered per query (filtered:
					 * every list; else nprobe) */
	const struct allowed *al;       /* NULL: not resolved */
};

/* Scratch of one worker, carved from one block. */
struct scr {
	float *qn, *coarse, *pscore, *resid, *dec, *base, *lut, *sbuf;
	int64_t *pid;
	vec_sq8_fn sq8;                 /* IVF_SQ8's kernel */
};

static size_t align64(size_t b)
{
	return (b + 63) & ~(size_t)63;
}

static size_t carve(const struct ivf *v, size_t nprobe, size_t maxlist,
		    char *p, struct scr *s)
{
	size_t d = v->base.info.dim, off = 0;
	size_t lutn = v->kind == IVF_PQ ? v->m * ivf_pq_ksub(v) : 1;
#define TAKE(field, type, count)                                               \
	do {                                                                   \
		if (p)                                                         \
			s->field = (type *)(p + off);                          \
		off += align64((count) * sizeof(type));                        \
	} while (0)
	TAKE(qn, float, QBLOCK * d);
	TAKE(coarse, float, QBLOCK * (size_t)v->nlist);
	TAKE(pscore, float, nprobe);
	TAKE(pid, int64_t, nprobe);
	TAKE(resid, float, d);
	TAKE(dec, float, d);
	TAKE(base, float, d);
	TAKE(lut, float, lutn);
	TAKE(sbuf, float, maxlist ? maxlist : 1);
#undef TAKE
	return off;
}

static float pq_score(const float *lut, const uint8_t *code, uint32_t m,
		      uint32_t nbits, size_t ksub)
{
	float s = 0;

	if (nbits == 8) {
		for (uint32_t j = 0; j < m; j++)
			s += lut[j * 256 + code[j]];
		return s;
	}
	for (uint32_t j = 0; j < m; j++)
		s += lut[j * ksub + pq_code_get(code, j, nbits)];
	return s;
}

/* c0 + the ADC scores of n 8-bit codes (cs bytes apart) into out.  Four
 * codes at a time, each with two partial sums: a code's m table lookups
 * are one dependent chain of adds otherwise, and the lookups of eight
 * chains overlap. */
static void pq_scan8(const float *lut, const uint8_t *codes, size_t n,
		     uint32_t m, size_t cs, float c0, float *out)
{
	size_t i = 0;
	uint32_t m2 = m & ~1u;

	for (; i + 4 <= n; i += 4) {
		const uint8_t *a = codes + i * cs, *b = a + cs, *c = b + cs,
			      *d = c + cs;
		float a0 = 0, a1 = 0, b0 = 0, b1 = 0, c0s = 0, c1 = 0, d0 = 0,
		      d1 = 0;
		uint32_t j;

		for (j = 0; j < m2; j += 2) {
			const float *t0 = lut + (size_t)j * 256,
				    *t1 = t0 + 256;

			a0 += t0[a[j]];
			b0 += t0[b[j]];
			c0s += t0[c[j]];
			d0 += t0[d[j]];
			a1 += t1[a[j + 1]];
			b1 += t1[b[j + 1]];
			c1 += t1[c[j + 1]];
			d1 += t1[d[j + 1]];
		}
		if (j < m) {
			const float *t0 = lut + (size_t)j * 256;

			a0 += t0[a[j]];
			b0 += t0[b[j]];
			c0s += t0[c[j]];
			d0 += t0[d[j]];
		}
		out[i] = c0 + (a0 + a1);
		out[i + 1] = c0 + (b0 + b1);
		out[i + 2] = c0 + (c0s + c1);
		out[i + 3] = c0 + (d0 + d1);
	}
	for (; i < n; i++)
		out[i] = c0 + pq_score(lut, codes + i * cs, m, 8, 256);
}

static void scan_list(const struct ivf *v, uint32_t li, const void *q,
		      struct scr *s, struct vec_topk *t)
{
	const struct ivf_list *l = &v->lists[li];
	enum vec_metric mt = v->base.info.metric;
	size_t d = v->base.info.dim;
	const float *qf = q;

	if (l->n == 0)
		return;
	switch (v->kind) {
	case IVF_FLAT:
	case IVF_BIN:
		vec_score_many(mt, q, l->codes, l->n, v->base.info.dim,
			       s->sbuf);
		vec_topk_push_scores(t, mt, d, s->sbuf, l->ids, 0, l->n);
		return;
	case IVF_SQ8:
	{
		float k0;

		sq8_list_base(v, v->cent + (size_t)li * d, s->base);
		k0 = sq8_prep(v, qf, s->base, s->dec);
		for (size_t i = 0; i < l->n; i++) {
			float sc = sq8_score(v, s->sq8, s->dec, k0,
					     l->codes + i * d);

			if (sc <= vec_topk_worst(t))
				vec_topk_push(t, sc, l->ids[i]);
		}
		return;
	}
	case IVF_PQ: {
		size_t ksub = ivf_pq_ksub(v);
		float c0 = 0;

		if (mt == VEC_L2) {
			const float *c = v->cent + (size_t)li * d;

			for (size_t k = 0; k < d; k++)
				s->resid[k] = qf[k] - c[k];
			pq_lut_l2(v, s->resid, s->lut);
		} else {
			/* The IP table was made once per query. */
			c0 = -vec_dot(qf, v->cent + (size_t)li * d, d);
		}
		if (v->nbits == 8) {
			pq_scan8(s->lut, l->codes, l->n, v->m, v->code_size,
				 c0, s->sbuf);
			vec_topk_push_many(t, s->sbuf, l->ids, 0, l->n);
			return;
		}
		for (size_t i = 0; i < l->n; i++) {
			float sc = c0 + pq_score(s->lut, l->codes +
						 i * v->code_size, v->m,
						 v->nbits, ksub);

			if (sc <= vec_topk_worst(t))
				vec_topk_push(t, sc, l->ids[i]);
		}
		return;
	}
	}
}

/* Prepare list li for scoring its entries one by one (SQ8 weights, the
 * PQ L2 table); returns the constant the entry scores add. */
static float list_prep(const struct ivf *v, uint32_t li, const float *qf,
		       struct scr *s)
{
	size_t d = v->base.info.dim;

	switch (v->kind) {
	case IVF_SQ8:
		sq8_list_base(v, v->cent + (size_t)li * d, s->base);
		return sq8_prep(v, qf, s->base, s->dec);
	case IVF_PQ:
		if (v->base.info.metric == VEC_L2) {
			const float *c = v->cent + (size_t)li * d;

			for (size_t k = 0; k < d; k++)
				s->resid[k] = qf[k] - c[k];
			pq_lut_l2(v, s->resid, s->lut);
			return 0;
		}
		return -vec_dot(qf, v->cent + (size_t)li * d, d);
	default:
		return 0;
	}
}

/* Score of entry i of list l, prepared by list_prep (c0). */
static float entry_score(const struct ivf *v, const struct ivf_list *l,
			 size_t i, const void *q, const struct scr *s,
			 float c0)
{
	switch (v->kind) {
	case IVF_SQ8:
		return sq8_score(v, s->sq8, s->dec, c0,
				 l->codes + i * v->code_size);
	case IVF_PQ:
		return c0 + pq_score(s->lut, l->codes + i * v->code_size,
				     v->m, v->nbits, ivf_pq_ksub(v));
	default:
		return vec_score(v->base.info.metric, q,
				 l->codes + i * v->code_size,
				 v->base.info.dim);
	}
}

/* scan_list under allow a: disallowed entries are skipped before they are
 * scored (the list's preparation is made only if one is allowed);
 * returns how many allowed entries were scored. */
static size_t scan_list_allow(const struct ivf *v, uint32_t li, const void *q,
			      struct scr *s, struct vec_topk *t,
			      const struct idx_allow *a)
{
	const struct ivf_list *l = &v->lists[li];
	size_t scored = 0;
	float c0 = 0;

	for (size_t i = 0; i < l->n; i++) {
		float sc;

		if (!idx_allow_id(a, l->ids[i]))
			continue;
		if (scored++ == 0)
			c0 = list_prep(v, li, q, s);
		sc = entry_score(v, l, i, q, s, c0);
		if (idx_allow_score(a, sc) && sc <= vec_topk_worst(t))
			vec_topk_push(t, sc, l->ids[i]);
	}
	return scored;
}

/* Query qi of a filtered search: lists in centroid order (probe, sorted,
 * every list), scanned under a.  Ids allowed: at least nprobe lists, and
 * more until as many allowed entries were scored as the first nprobe
 * lists hold (a restrictive filter widens nprobe instead of starving the
 * answer), or every list when a->exact.  A window alone: nprobe lists. */
static void search_allowed(const struct sjob *j, const struct vec_topk *probe,
			   const void *q, struct scr *s, struct vec_topk *top)
{
	const struct ivf *v = j->v;
	const struct idx_allow *a = j->a;
	size_t want = 0, got = 0;

	for (size_t p = 0; p < probe->n; p++) {
		uint32_t li = (uint32_t)probe->id[p];

		if (p >= j->nprobe &&
		    (!a->ids_on || (!a->exact && got >= want &&
				    top->n >= top->k)))
			break;
		if (p < j->nprobe)
			want += v->lists[li].n;
		got += scan_list_allow(v, li, q, s, top, a);
	}
}

/* Query q scored against the allowed entries alone (j->al): every one of
 * them, list by list. */
static void search_resolved(const struct sjob *j, const void *q,
			    struct scr *s, struct vec_topk *top)
{
	const struct ivf *v = j->v;
	const struct allowed *al = j->al;
	const struct idx_allow *a = j->a;

	for (size_t r = 0; r < al->nrun; r++) {
		uint32_t li = al->li[r];
		const struct ivf_list *l = &v->lists[li];
		float c0 = list_prep(v, li, q, s);

		for (size_t i = al->start[r]; i < al->start[r + 1]; i++) {
			uint32_t p = al->pos[i];
			float sc = entry_score(v, l, p, q, s, c0);

			if (idx_allow_score(a, sc) && sc <= vec_topk_worst(top))
				vec_topk_push(top, sc, l->ids[p]);
		}
	}
}

/* Does query q (its lists in centroid order in probe) score the resolved
 * entries alone?  When exact scoring is asked for, or when they are fewer
 * than its nprobe nearest lists hold: search_allowed would then scan every
 * list and score them all. */
static bool use_resolved(const struct sjob *j, const struct vec_topk *probe)
{
	size_t want = 0;

	if (!j->al)
		return false;
	if (j->a->exact)
		return true;
	for (size_t p = 0; p < probe->n && p < j->nprobe; p++)
		want += j->v->lists[probe->id[p]].n;
	return j->al->n < want;
}

static void search_block(void *arg, size_t b, unsigned worker)
{
	struct sjob *j = arg;
	const struct ivf *v = j->v;
	size_t d = v->base.info.dim, nl = v->nlist, k = j->hits->k;
	size_t i0 = b * QBLOCK, m = j->nq - i0 < QBLOCK ? j->nq - i0 : QBLOCK;
	enum vec_metric mt = v->base.info.metric;
	struct scr s;

	carve(v, j->nsort, j->maxlist, j->scratch + worker * j->stride, &s);
	s.sq8 = vec_sq8_kernel(mt);
	if (v->kind == IVF_BIN) {
		/* Hamming to the binary centroids, one kernel call a query. */
		for (size_t i = 0; i < m; i++)
			vec_score_many(VEC_HAMMING, j->q + (i0 + i) * j->qbytes,
				       v->bcent, nl, d, s.coarse + i * nl);
	} else {
		memcpy(s.qn, j->q + i0 * j->qbytes, m * j->qbytes);
		if (mt == VEC_COSINE)
			for (size_t i = 0; i < m; i++)
				vec_normalize(s.qn + i * d, d);
		if (j->al && j->a->exact)
			goto queries;   /* no list order needed */
		vec_gemm_dot(s.qn, m, v->cent, nl, d, s.coarse, nl);
		for (size_t i = 0; i < m; i++)
			for (size_t c = 0; c < nl; c++) {
				float dot = s.coarse[i * nl + c];

				s.coarse[i * nl + c] = mt == VEC_IP ? -dot :
					v->cnorm[c] - 2 * dot;
			}
	}
queries:
	for (size_t i = 0; i < m; i++) {
		size_t qi = i0 + i;
		const void *q = v->kind == IVF_BIN ?
			(const void *)(j->q + qi * j->qbytes) :
			(const void *)(s.qn + i * d);
		struct vec_topk probe, top;

		vec_topk_init(&probe, j->nsort, s.pscore, s.pid);
		/* binary vectors go to centroids by Hamming (the order is
		 * not needed when every allowed entry is scored) */
		if (!(j->al && j->a->exact)) {
			vec_topk_push_scores(&probe, v->kind == IVF_BIN ?
					     VEC_HAMMING : mt, d,
					     s.coarse + i * nl, NULL, 0, nl);
			vec_topk_sort(&probe);
		}
		if (v->kind == IVF_PQ && mt != VEC_L2)
			pq_lut_ip(v, q, s.lut);
		vec_topk_init(&top, k, j->hits->score + qi * k,
			      j->hits->id + qi * k);
		if (use_resolved(j, &probe))
			search_resolved(j, q, &s, &top);
		else if (j->a)
			search_allowed(j, &probe, q, &s, &top);
		else
			for (size_t p = 0; p < probe.n; p++)
				scan_list(v, (uint32_t)probe.id[p], q, &s,
					  &top);
		vec_topk_sort(&top);
		j->hits->count[qi] = top.n;
	}
}

/* Untrained: the pending entities, searched exactly, one query a task. */
static void search_pending(void *arg, size_t qi, unsigned worker)
{
	struct sjob *j = arg;
	const struct ivf *v = j->v;
	size_t d = v->base.info.dim, k = j->hits->k;
	float *sbuf = (float *)(j->scratch + worker * j->stride);
	float *qn = sbuf + v->pend_n;
	const void *q = j->q + qi * j->qbytes;
	struct vec_topk top;

	if (v->kind != IVF_BIN) {
		memcpy(qn, q, j->qbytes);
		if (v->base.info.metric == VEC_COSINE)
			vec_normalize(qn, d);
		q = qn;
	}
	vec_score_many(v->base.info.metric, q, v->pend_vecs, v->pend_n,
		       v->base.info.dim, sbuf);
	vec_topk_init(&top, k, j->hits->score + qi * k, j->hits->id + qi * k);
	if (j->a) {
		for (size_t i = 0; i < v->pend_n; i++)
			if (idx_allow_score(j->a, sbuf[i]) &&
			    idx_allow_id(j->a, v->pend_ids[i]) &&
			    sbuf[i] <= vec_topk_worst(&top))
				vec_topk_push(&top, sbuf[i], v->pend_ids[i]);
	} else {
		vec_topk_push_many(&top, sbuf, v->pend_ids, 0, v->pend_n);
	}
	vec_topk_sort(&top);
	j->hits->count[qi] = top.n;
}

static void allowed_free(struct allowed *al)
{
	free(al->pos);
	free(al->li);
	free(al->start);
}

static int size_desc(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return a < b ? 1 : a > b ? -1 : 0;
}

/* Sum of the sizes of v's nprobe largest lists: no query's nprobe nearest
 * lists hold more.  SIZE_MAX when out of memory. */
static size_t largest_lists(const struct ivf *v, size_t nprobe)
{
	size_t *n = malloc(v->nlist * sizeof(*n)), sum = 0;

	if (!n)
		return SIZE_MAX;
	for (uint32_t l = 0; l < v->nlist; l++)
		n[l] = v->lists[l].n;
	qsort(n, v->nlist, sizeof(*n), size_desc);
	for (size_t p = 0; p < nprobe && p < v->nlist; p++)
		sum += n[p];
	free(n);
	return sum;
}

/* Find the entries of v that a admits (al; one pass over the lists' ids).
 * 0 or -ENOMEM. */
static int allowed_make(const struct ivf *v, const struct idx_allow *a,
			struct allowed *al)
{
	size_t cap = a->n < v->ntotal ? a->n : v->ntotal;

	memset(al, 0, sizeof(*al));
	al->pos = malloc((cap ? cap : 1) * sizeof(*al->pos));
	al->li = malloc(v->nlist * sizeof(*al->li));
	al->start = malloc((v->nlist + 1) * sizeof(*al->start));
	if (!al->pos || !al->li || !al->start) {
		allowed_free(al);
		return -ENOMEM;
	}
	for (uint32_t li = 0; li < v->nlist; li++) {
		const struct ivf_list *l = &v->lists[li];
		size_t n0 = al->n;

		for (size_t i = 0; i < l->n && al->n < cap; i++)
			if (idx_allow_id(a, l->ids[i]))
				al->pos[al->n++] = (uint32_t)i;
		if (al->n > n0) {
			al->li[al->nrun] = li;
			al->start[al->nrun++] = n0;
		}
	}
	al->start[al->nrun] = al->n;
	return 0;
}

int ivf_generic_search(const struct idx *ix, const void *q, size_t nq,
		       const struct mfs_kv *sp, struct idx_hits *hits,
		       struct mfs_err *err)
{
	return ivf_generic_search_filtered(ix, q, nq, sp, NULL, hits, err);
}

int ivf_generic_search_filtered(const struct idx *ix, const void *q,
				size_t nq, const struct mfs_kv *sp,
				const struct idx_allow *a,
				struct idx_hits *hits, struct mfs_err *err)
{
	const struct ivf *v = (const struct ivf *)ix;
	struct mfs_pool *pool = v->base.info.pool;
	unsigned nw = pool ? mfs_pool_size(pool) : 1;
	struct sjob j = {
		.v = v, .q = q, .nq = nq, .hits = hits, .a = a,
		.qbytes = vec_bytes(v->base.info.vtype, v->base.info.dim),
	};
	const char *s = sp ? mfs_kv_get(sp, "nprobe") : NULL;
	struct allowed al;
	long np = IVF_NPROBE_DEF < v->nlist ? IVF_NPROBE_DEF : v->nlist;
	int rc = 0;

	if (s && mfs_parse_long(s, 1, v->nlist, &np) < 0)
		return mfs_errf(err, -EINVAL, "nprobe out of range: [1, %u], "
				"got %s", v->nlist, s);
	if (nq == 0)
		return 0;
	if (v->ntotal + v->pend_n == 0 || hits->k == 0 ||
	    (a && a->ids_on && a->n == 0)) {
		memset(hits->count, 0, nq * sizeof(size_t));
		return 0;
	}
	if (!v->trained) {
		j.stride = align64((v->pend_n + v->base.info.dim) *
				   sizeof(float));
		j.scratch = aligned_alloc(64, nw * j.stride);
		if (!j.scratch)
			return mfs_errf(err, -ENOMEM, "%s search: out of "
					"memory", v->base.type->name);
		mfs_pool_for(pool, nq, search_pending, &j);
		free(j.scratch);
		return 0;
	}
	j.nprobe = (size_t)np;
	j.nsort = a && a->ids_on ? v->nlist : j.nprobe;
	/* Resolve the allowed entries when some query may score them alone
	 * (use_resolved): exact asked, or fewer allowed ids than the nprobe
	 * largest lists hold. */
	if (a && a->ids_on && (a->exact ||
			       a->n < largest_lists(v, j.nprobe))) {
		if (allowed_make(v, a, &al) < 0)
			return mfs_errf(err, -ENOMEM, "%s search: out of "
					"memory", v->base.type->name);
		j.al = &al;
	}
	for (uint32_t l = 0; l < v->nlist; l++)
		if (v->lists[l].n > j.maxlist)
			j.maxlist = v->lists[l].n;
	j.stride = carve(v, j.nsort, j.maxlist, NULL, NULL);
	j.scratch = aligned_alloc(64, nw * j.stride);
	if (!j.scratch) {
		rc = mfs_errf(err, -ENOMEM, "%s search: out of memory",
			      v->base.type->name);
		goto out;
	}
	mfs_pool_for(pool, (nq + QBLOCK - 1) / QBLOCK, search_block, &j);
	free(j.scratch);
out:
	if (j.al)
		allowed_free(&al);
	return rc;
}
