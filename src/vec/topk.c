/* topk.c - bounded selection of the k best (smallest score) hits.
 *
 * A max-heap on (score, id): the root is the worst hit kept, so a candidate
 * that cannot enter is rejected with one comparison (callers can test
 * vec_topk_worst() themselves and skip the call).  Order is total: equal
 * scores rank by id, smaller first, so results do not depend on the order in
 * which candidates arrive.  NaN scores are never kept.
 */
#include "vec/vec.h"

#include <string.h>

/* 1 if (s1, i1) ranks after (s2, i2). */
static inline int worse(float s1, int64_t i1, float s2, int64_t i2)
{
	return s1 > s2 || (s1 == s2 && i1 > i2);
}

void vec_topk_init(struct vec_topk *t, size_t k, float *score, int64_t *id)
{
	t->k = k;
	t->n = 0;
	t->score = score;
	t->id = id;
}

static void sift_down(float *s, int64_t *id, size_t n, size_t i)
{
	float vs = s[i];
	int64_t vi = id[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= n)
			break;
		if (c + 1 < n && worse(s[c + 1], id[c + 1], s[c], id[c]))
			c++;
		if (!worse(s[c], id[c], vs, vi))
			break;
		s[i] = s[c];
		id[i] = id[c];
		i = c;
	}
	s[i] = vs;
	id[i] = vi;
}

void vec_topk_push(struct vec_topk *t, float score, int64_t id)
{
	if (score != score)     /* NaN */
		return;
	if (t->n < t->k) {
		size_t i = t->n++;

		while (i > 0) {
			size_t p = (i - 1) / 2;

			if (!worse(score, id, t->score[p], t->id[p]))
				break;
			t->score[i] = t->score[p];
			t->id[i] = t->id[p];
			i = p;
		}
		t->score[i] = score;
		t->id[i] = id;
		return;
	}
	if (t->k == 0 || !worse(t->score[0], t->id[0], score, id))
		return;
	t->score[0] = score;
	t->id[0] = id;
	sift_down(t->score, t->id, t->n, 0);
}

/* Most candidates lose to the worst kept: test 16 at a time with a
 * branch-free loop the compiler turns into one vector compare, and look at
 * single scores only where the mask has bits. */
VEC_CLONES
void vec_topk_push_many(struct vec_topk *t, const float *score,
			const int64_t *ids, int64_t base, size_t n)
{
	float w = vec_topk_worst(t);
	size_t j = 0;

	for (; j + 16 <= n; j += 16) {
		const float *s = score + j;
		unsigned m = 0;

		for (unsigned c = 0; c < 16; c++)
			m |= (unsigned)(s[c] <= w) << c;
		while (m) {
			unsigned c = (unsigned)__builtin_ctz(m);

			m &= m - 1;
			if (!(s[c] <= w))       /* w fell meanwhile */
				continue;
			vec_topk_push(t, s[c], ids ? ids[j + c] :
						     base + (int64_t)(j + c));
			w = vec_topk_worst(t);
		}
	}
	for (; j < n; j++) {
		if (!(score[j] <= w))   /* also rejects NaN */
			continue;
		vec_topk_push(t, score[j], ids ? ids[j] : base + (int64_t)j);
		w = vec_topk_worst(t);
	}
}

/* Offer the scores <= lim.  Most scores are above lim, unpredictably:
 * the passing positions are gathered without a branch, a chunk at a
 * time, then offered. */
static void push_upto(struct vec_topk *t, const float *score,
		      const int64_t *ids, int64_t base, size_t n, float lim)
{
	uint32_t pos[256];

	for (size_t j0 = 0; j0 < n; j0 += 256) {
		size_t m = 0, c = n - j0 < 256 ? n - j0 : 256;

		for (size_t j = 0; j < c; j++) {
			pos[m] = (uint32_t)j;
			m += score[j0 + j] <= lim;
		}
		for (size_t i = 0; i < m; i++) {
			size_t j = j0 + pos[i];

			if (score[j] <= vec_topk_worst(t))
				vec_topk_push(t, score[j],
					      ids ? ids[j] : base + (int64_t)j);
		}
	}
}

void vec_topk_push_many_int(struct vec_topk *t, const float *score,
			    const int64_t *ids, int64_t base, size_t n,
			    uint32_t maxv)
{
	uint32_t cnt[2][VEC_TOPK_INT_MAX + 2], lim, v;
	size_t cum = 0;

	if (t->k == 0)
		return;
	/* The heap's cost grows as k ln(n / k) heap operations, the
	 * counting pass's as n: it pays between 2k and about 32k scores. */
	if (maxv > VEC_TOPK_INT_MAX || n <= 2 * t->k || n > 32 * t->k) {
		vec_topk_push_many(t, score, ids, base, n);
		return;
	}
	/* Only scores up to the worst kept can enter; they are counted
	 * exactly, everything above lands in bucket lim + 1. */
	lim = maxv;
	if (t->n == t->k && t->score[0] < (float)maxv)
		lim = t->score[0] < 0 ? 0 : (uint32_t)t->score[0];
	/* Two tables, even and odd positions: equal neighbours would
	 * otherwise make every increment wait for the previous one. */
	memset(cnt[0], 0, (lim + 2) * sizeof(cnt[0][0]));
	memset(cnt[1], 0, (lim + 2) * sizeof(cnt[0][0]));
	for (size_t j = 0; j < n; j++) {
		float s = score[j] < 0 ? 0 : score[j];
		uint32_t u = s < (float)(lim + 1) ? (uint32_t)s : lim + 1;

		cnt[j & 1][u]++;
	}
	/* The block's k-th best: anything worse loses to k of its own. */
	for (v = 0; v <= lim; v++) {
		cum += cnt[0][v] + cnt[1][v];
		if (cum >= t->k)
			break;
	}
	if (v > lim)
		v = lim;
	push_upto(t, score, ids, base, n, (float)v);
}

void vec_topk_push_scores(struct vec_topk *t, enum vec_metric mt, size_t dim,
			  const float *score, const int64_t *ids, int64_t base,
			  size_t n)
{
	if (mt == VEC_HAMMING && dim <= UINT32_MAX)
		vec_topk_push_many_int(t, score, ids, base, n, (uint32_t)dim);
	else
		vec_topk_push_many(t, score, ids, base, n);
}

void vec_topk_sort(struct vec_topk *t)
{
	/* Heapsort: move the worst to the end, shrink, repeat. */
	for (size_t n = t->n; n > 1; n--) {
		float s = t->score[0];
		int64_t i = t->id[0];

		t->score[0] = t->score[n - 1];
		t->id[0] = t->id[n - 1];
		t->score[n - 1] = s;
		t->id[n - 1] = i;
		sift_down(t->score, t->id, n - 1, 0);
	}
}
