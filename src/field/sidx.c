/* sidx.c - scalar indexes (SPEC §5 `field=`) and fld_expr_select, which
 * answers one conjunct of a filter from them.
 *
 * One structure serves every index type: the sorted (key, row) pairs of a
 * column's non-null rows [0, built_n).  The key is the value for BOOL and
 * INT*, an order-preserving integer image of the double for FLOAT/DOUBLE
 * (xdkey), and for ARRAY one pair per element (INVERTED, BITMAP,
 * AUTOINDEX: array_contains), strings hashed.  VARCHAR keeps only the rows,
 * sorted by the string they hold in the column (rows never change once
 * appended, so the index borrows the column's bytes): binary search serves
 * ==, ranges, in-lists and like with a literal prefix.  Which index type
 * was asked for only decides what fld_sidx_check allows:
 *
 *   type            STL_SORT  TRIE  BITMAP  INVERTED  AUTOINDEX
 *   BOOL                -       -      y        y         y
 *   INT8..INT64         y       -      y        y         y
 *   FLOAT, DOUBLE       y       -      -        y         y
 *   VARCHAR             y       y      y        y         y
 *   ARRAY               -       -      y(1)     y         y
 *   JSON                -       -      -        -         -
 *   (1) of BOOL, INT8..INT64 or VARCHAR elements
 *
 * JSON has no index: without a path (Milvus's json_path index parameter)
 * there is nothing to sort.
 *
 * fld_expr_select picks, among the top-level conjuncts the indexes can
 * answer, the one with the fewest candidate rows; it marks them in a
 * bitmap over [0, nrows) (which also sorts and dedups them), adds every
 * row past the index's built_n, and evaluates the whole expression on
 * those candidates (fld_expr_eval), so the index only has to be a
 * superset: hashed array elements are exact enough.
 */
#include "field/expr_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SX_NUM = 1, SX_STR, SX_ARR };

struct kr {
	int64_t k;
	uint32_t r;
};

struct sidx {
	int kind;
	enum fld_type type, elem;
	char index_type[16];
	size_t built_n;                 /* rows [0, built_n) are covered */
	size_t n;                       /* entries */
	struct kr *e;                   /* SX_NUM, SX_ARR: sorted by (k, r) */
	uint32_t *rows;                 /* SX_STR: sorted by (string, row) */
	size_t bytes;
};

/* ---- the table ---- */

static const char *const types_ok[] = {
	"STL_SORT", "TRIE", "BITMAP", "INVERTED", "AUTOINDEX"
};

static const char *const allowed[] = {
	"INT8, INT16, INT32, INT64, FLOAT, DOUBLE, VARCHAR",
	"VARCHAR",
	"BOOL, INT8, INT16, INT32, INT64, VARCHAR and ARRAY of those",
	"BOOL, INT8, INT16, INT32, INT64, FLOAT, DOUBLE, VARCHAR, ARRAY",
	"BOOL, INT8, INT16, INT32, INT64, FLOAT, DOUBLE, VARCHAR, ARRAY",
};

static const char *tname(enum fld_type t)
{
	static const char *const n[] = {
		"NONE", "BOOL", "INT8", "INT16", "INT32", "INT64", "FLOAT",
		"DOUBLE", "VARCHAR", "JSON", "ARRAY"
	};

	return (unsigned)t < sizeof(n) / sizeof(*n) ? n[t] : "?";
}

static bool type_ok(int k, enum fld_type t, enum fld_type elem)
{
	bool num = t >= FLD_INT8 && t <= FLD_DOUBLE;
	bool bm = t == FLD_BOOL || (t >= FLD_INT8 && t <= FLD_INT64) ||
		  t == FLD_VARCHAR;

	switch (k) {
	case 0: return num || t == FLD_VARCHAR;
	case 1: return t == FLD_VARCHAR;
	case 2: return bm || (t == FLD_ARRAY && type_ok(2, elem, FLD_NONE));
	default: return t != FLD_JSON && t != FLD_NONE;
	}
}

int fld_sidx_check(const struct fld_def *d, const char *index_type,
		   struct mfs_err *err)
{
	size_t k, nt = sizeof(types_ok) / sizeof(*types_ok);

	for (k = 0; k < nt; k++)
		if (!strcmp(index_type, types_ok[k]))
			break;
	if (k == nt)
		return mfs_errf(err, -EINVAL,
				"unknown scalar index type %s (expected STL_SORT, INVERTED, BITMAP, TRIE or AUTOINDEX)",
				index_type);
	if (!type_ok((int)k, d->type, d->elem)) {
		if (d->type == FLD_ARRAY)
			return mfs_errf(err, -EINVAL,
					"index type %s is not supported for field %s of type ARRAY(%s) (%s: %s)",
					index_type, d->name, tname(d->elem),
					index_type, allowed[k]);
		return mfs_errf(err, -EINVAL,
				"index type %s is not supported for field %s of type %s (%s: %s)",
				index_type, d->name, tname(d->type),
				index_type, allowed[k]);
	}
	return 0;
}

/* ---- building ---- */

static uint64_t strhash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

/* The key of a scalar of type t (an array element), false if it has none
 * (a value that no element of type t can equal). */
static bool key_of(enum fld_type t, const struct xrv *v, int64_t *k)
{
	switch (t) {
	case FLD_FLOAT:
	case FLD_DOUBLE:
		if (v->k == XR_FLT) {
			*k = xdkey(v->d);
			return v->d == v->d;
		}
		if (v->k == XR_INT && xcmp_id(v->i, (double)v->i) == 0) {
			*k = xdkey((double)v->i);
			return true;
		}
		return false;
	case FLD_VARCHAR:
		if (v->k != XR_STR)
			return false;
		*k = (int64_t)strhash(v->s, v->len);
		return true;
	default:
		if (v->k == XR_INT || v->k == XR_BOOL) {
			*k = v->i;
			return true;
		}
		if (v->k == XR_FLT && v->d >= -9223372036854775808.0 &&
		    v->d < 9223372036854775808.0 && v->d == (double)(int64_t)v->d) {
			*k = (int64_t)v->d;
			return true;
		}
		return false;
	}
}

static int cmp_kr(const void *a, const void *b)
{
	const struct kr *x = a, *y = b;

	if (x->k != y->k)
		return x->k < y->k ? -1 : 1;
	return x->r < y->r ? -1 : x->r > y->r;
}

static int strcmp_rows(const struct fld_col *col, uint32_t a, const char *s,
		       size_t len)
{
	const char *p = col->str + col->off[a];
	size_t n = col->off[a + 1] - col->off[a], m = n < len ? n : len;
	int r = m ? memcmp(p, s, m) : 0;

	if (r)
		return r;
	return n < len ? -1 : n > len;
}

static int cmp_str_rows(const void *a, const void *b, void *arg)
{
	const struct fld_col *col = arg;
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	int r = strcmp_rows(col, x, col->str + col->off[y],
			    col->off[y + 1] - col->off[y]);

	return r ? r : x < y ? -1 : x > y;
}

static bool row_null(const struct fld_col *col, size_t r)
{
	return (col->null && col->null[r]) ||
	       ((col->type == FLD_JSON || col->type == FLD_ARRAY) &&
		!col->json[r]);
}

static int build(const struct fld_cols *c, size_t f, struct sidx *x)
{
	const struct fld_col *col = &c->col[f];
	const struct fld_def *d = &c->s->f[f];
	size_t n = c->n, m = 0;

	x->type = d->type;
	x->elem = d->elem;
	x->built_n = n;
	if (d->type == FLD_VARCHAR) {
		x->kind = SX_STR;
		x->rows = malloc((n ? n : 1) * sizeof(*x->rows));
		if (!x->rows)
			return -ENOMEM;
		for (size_t r = 0; r < n; r++)
			if (!row_null(col, r))
				x->rows[m++] = (uint32_t)r;
		qsort_r(x->rows, m, sizeof(*x->rows), cmp_str_rows,
			(void *)col);
		x->n = m;
		x->bytes = sizeof(*x) + m * sizeof(*x->rows);
		return 0;
	}
	if (d->type == FLD_ARRAY) {
		size_t cap = 0;

		x->kind = SX_ARR;
		for (size_t r = 0; r < n; r++)
			if (!row_null(col, r))
				cap += json_array_size(col->json[r]);
		x->e = malloc((cap ? cap : 1) * sizeof(*x->e));
		if (!x->e)
			return -ENOMEM;
		for (size_t r = 0; r < n; r++) {
			size_t i;
			json_t *e;

			if (row_null(col, r))
				continue;
			json_array_foreach(col->json[r], i, e) {
				struct xrv v;

				xjson_rv(e, &v);
				if (m < cap && key_of(d->elem, &v, &x->e[m].k))
					x->e[m++].r = (uint32_t)r;
			}
		}
	} else {
		x->kind = SX_NUM;
		x->e = malloc((n ? n : 1) * sizeof(*x->e));
		if (!x->e)
			return -ENOMEM;
		for (size_t r = 0; r < n; r++) {
			if (row_null(col, r))
				continue;
			x->e[m].k = d->type == FLD_FLOAT || d->type == FLD_DOUBLE ?
				    xdkey(col->d[r]) : col->i[r];
			x->e[m++].r = (uint32_t)r;
		}
	}
	qsort(x->e, m, sizeof(*x->e), cmp_kr);
	x->n = m;
	x->bytes = sizeof(*x) + m * sizeof(*x->e);
	return 0;
}

static void sidx_free(struct sidx *x)
{
	if (x) {
		free(x->e);
		free(x->rows);
		free(x);
	}
}

int fld_sidx_build(struct fld_cols *c, size_t i, const char *index_type,
		   struct mfs_err *err)
{
	const struct fld_def *d = &c->s->f[i];
	struct sidx *x;
	int rc = fld_sidx_check(d, index_type, err);

	if (rc)
		return rc;
	if (!c->sidx && !(c->sidx = calloc(c->s->n, sizeof(*c->sidx))))
		return mfs_errf(err, -ENOMEM, "out of memory");
	x = calloc(1, sizeof(*x));
	if (!x)
		return mfs_errf(err, -ENOMEM, "out of memory");
	snprintf(x->index_type, sizeof(x->index_type), "%s", index_type);
	if ((rc = build(c, i, x))) {
		sidx_free(x);
		return mfs_errf(err, rc, "out of memory building the %s index of field %s",
				index_type, d->name);
	}
	sidx_free(c->sidx[i]);
	c->sidx[i] = x;
	return 0;
}

void fld_sidx_drop(struct fld_cols *c, size_t i)
{
	if (c->sidx && c->sidx[i]) {
		sidx_free(c->sidx[i]);
		c->sidx[i] = NULL;
	}
}

int fld_sidx_maintain(struct fld_cols *c)
{
	int ret = 0;

	if (!c->sidx)
		return 0;
	for (size_t i = 0; i < c->s->n; i++) {
		struct sidx *x = c->sidx[i];
		size_t thr = c->n / 8 > 4096 ? c->n / 8 : 4096;

		if (!x || c->n - x->built_n <= thr)
			continue;
		int rc = fld_sidx_build(c, i, x->index_type, NULL);

		if (rc && !ret)
			ret = rc;
	}
	return ret;
}

size_t fld_sidx_bytes(const struct fld_cols *c)
{
	size_t b = 0;

	if (!c->sidx)
		return 0;
	for (size_t i = 0; i < c->s->n; i++)
		if (c->sidx[i])
			b += ((const struct sidx *)c->sidx[i])->bytes;
	return b;
}

/* ---- lookups: half-open ranges of entries ---- */

/* First entry of [lo, hi) with key >= k (hi when none), by bisection. */
static size_t kr_bisect(const struct sidx *x, int64_t k, size_t lo, size_t hi)
{
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (x->e[mid].k < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* First entry with key >= k (kr). */
static size_t kr_lower(const struct sidx *x, int64_t k)
{
	return kr_bisect(x, k, 0, x->n);
}

/* First entry with key > k. */
static size_t kr_upper(const struct sidx *x, int64_t k)
{
	return k == INT64_MAX ? x->n : kr_lower(x, k + 1);
}

/* kr_lower for a key known to be at or past entry from: a galloping
 * search, so a sorted list of keys is a merge (each lookup costs the log
 * of its distance from the last, not of the index). */
static size_t kr_lower_from(const struct sidx *x, int64_t k, size_t from)
{
	size_t lo = from, step = 1, hi;

	while (lo + step < x->n && x->e[lo + step].k < k) {
		lo += step;
		step *= 2;
	}
	hi = lo + step < x->n ? lo + step + 1 : x->n;
	return kr_bisect(x, k, lo, hi);
}

/* First row whose string is >= s (or > s when after), or, with
 * prefix, whose string neither is below s nor starts with it. */
static size_t str_bound(const struct sidx *x, const struct fld_col *col,
			const char *s, size_t len, int mode)
{
	size_t lo = 0, hi = x->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t r = x->rows[mid];
		int c;

		if (mode == 2) {        /* prefix end */
			size_t n = col->off[r + 1] - col->off[r];
			size_t m = n < len ? n : len;

			c = m ? memcmp(col->str + col->off[r], s, m) : 0;
			if (!c && n < len)
				c = -1;
		} else {
			c = strcmp_rows(col, r, s, len);
		}
		if (c < 0 || (c == 0 && mode >= 1))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

typedef void (*span_cb)(void *arg, const struct sidx *x, size_t lo,
			size_t hi);

/* Call cb once per span [lo, hi) of entries that may match conjunct p;
 * false when the index cannot answer p. */
static bool spans(const struct sidx *x, const struct fld_col *col,
		  const struct xpred *p, span_cb cb, void *arg)
{
	size_t lo, hi;

	switch (p->kk) {
	case XK_IRANGE:
	case XK_FRANGE:
		if (x->kind != SX_NUM)
			return false;
		if (p->empty) {
			if (p->kneg)
				cb(arg, x, 0, x->n);
			return true;
		}
		if (p->kk == XK_IRANGE) {
			lo = kr_lower(x, p->lo);
			hi = kr_upper(x, p->hi);
		} else {
			lo = kr_lower(x, xdkey(p->dlo));
			hi = kr_upper(x, xdkey(p->dhi));
		}
		if (p->kneg) {
			cb(arg, x, 0, lo);
			cb(arg, x, hi, x->n);
		} else {
			cb(arg, x, lo, hi);
		}
		return true;
	case XK_ISET:
	case XK_FSET:
		if (x->kind != SX_NUM || p->kneg)
			return false;
		{
			size_t from = 0;
			int64_t prev = INT64_MIN;

			for (size_t k = 0; k < p->set.n; k++) {
				int64_t key = p->kk == XK_ISET ?
					p->set.iv[k] : xdkey(p->set.dv[k]);

				if (key < prev)
					from = 0;       /* not sorted */
				lo = kr_lower_from(x, key, from);
				hi = key == INT64_MAX ? x->n :
					kr_lower_from(x, key + 1, lo);
				cb(arg, x, lo, hi);
				from = hi;
				prev = key;
			}
		}
		return true;
	case XK_SCMP: {
		const struct xrv *s = &p->b->c;

		if (x->kind != SX_STR)
			return false;
		lo = str_bound(x, col, s->s, s->len, 0);
		hi = str_bound(x, col, s->s, s->len, 1);
		switch (p->op) {
		case XO_EQ: cb(arg, x, lo, hi); break;
		case XO_NE: cb(arg, x, 0, lo); cb(arg, x, hi, x->n); break;
		case XO_LT: cb(arg, x, 0, lo); break;
		case XO_LE: cb(arg, x, 0, hi); break;
		case XO_GT: cb(arg, x, hi, x->n); break;
		default: cb(arg, x, lo, x->n);
		}
		return true;
	}
	case XK_SSET:
		if (x->kind != SX_STR || p->kneg)
			return false;
		for (size_t k = 0; k < p->set.n; k++) {
			const struct xrv *s = &p->set.sv[k];

			cb(arg, x, str_bound(x, col, s->s, s->len, 0),
			   str_bound(x, col, s->s, s->len, 1));
		}
		return true;
	case XK_SLIKE: {
		size_t plen = 0;

		if (x->kind != SX_STR)
			return false;
		while (plen < p->pat.pn && p->pat.pk[plen] == 0)
			plen++;
		if (p->pat.kind == XL_EXACT) {
			cb(arg, x, str_bound(x, col, p->pat.pb, plen, 0),
			   str_bound(x, col, p->pat.pb, plen, 1));
			return true;
		}
		if (!plen)
			return false;
		cb(arg, x, str_bound(x, col, p->pat.pb, plen, 0),
		   str_bound(x, col, p->pat.pb, plen, 2));
		return true;
	}
	default:
		break;
	}
	if (p->k == XP_FN && x->kind == SX_ARR && p->op != XFN_CONTAINS_ALL) {
		for (size_t k = 0; k < p->b->nitems; k++) {
			int64_t key;

			if (key_of(x->elem, &p->b->items[k], &key))
				cb(arg, x, kr_lower(x, key), kr_upper(x, key));
		}
		return true;
	}
	if (p->k == XP_FN && x->kind == SX_ARR && p->b->nitems) {
		int64_t key;            /* all: the rows of one value */

		if (key_of(x->elem, &p->b->items[0], &key))
			cb(arg, x, kr_lower(x, key), kr_upper(x, key));
		return true;
	}
	return false;
}

static void count_cb(void *arg, const struct sidx *x, size_t lo, size_t hi)
{
	(void)x;
	if (hi > lo)
		*(size_t *)arg += hi - lo;
}

struct mark {
	uint64_t *bits;
	size_t nrows;
};

static void mark_cb(void *arg, const struct sidx *x, size_t lo, size_t hi)
{
	struct mark *m = arg;

	for (size_t i = lo; i < hi; i++) {
		uint32_t r = x->kind == SX_STR ? x->rows[i] : x->e[i].r;

		if (r < m->nrows)
			m->bits[r / 64] |= (uint64_t)1 << (r % 64);
	}
}

/* The index and field of conjunct p's column, or NULL. */
static const struct sidx *index_of(const struct fld_cols *c,
				   const struct xpred *p, size_t *f)
{
	int fi = -1;

	if (!c->sidx)
		return NULL;
	if (p->kk != XK_NONE && p->kk != XK_IARITH && p->kk != XK_NULL)
		fi = p->f;
	else if (p->k == XP_FN && p->a->k == XV_COL)
		fi = p->a->f;
	if (fi < 0 || (size_t)fi >= c->s->n)
		return NULL;
	*f = (size_t)fi;
	return c->sidx[fi];
}

int fld_expr_select(const struct fld_expr *x, const struct fld_cols *c,
		    size_t nrows, uint32_t **rows, size_t *n)
{
	const struct xpred *root = x->root;
	const struct xpred *const *kids = (const struct xpred *const *)&x->root;
	const struct xpred *best = NULL;
	const struct sidx *bx = NULL;
	size_t nk = 1, bcount = SIZE_MAX, bf = 0, tail = nrows;

	*rows = NULL;
	*n = 0;
	if (root->k == XP_AND) {
		kids = (const struct xpred *const *)root->kids;
		nk = root->nkids;
	}
	bool marked = false;
	struct mark m = { .nrows = nrows };
	size_t words = (nrows + 63) / 64;

	if (nk == 1) {
		/* one conjunct: no choice to make, so no counting pass: mark
		 * its rows at once */
		bx = index_of(c, root, &bf);
		if (!bx)
			return 0;
		m.bits = calloc(words ? words : 1, sizeof(*m.bits));
		if (!m.bits)
			return -ENOMEM;
		if (!spans(bx, &c->col[bf], root, mark_cb, &m)) {
			free(m.bits);
			return 0;
		}
		best = root;
		marked = true;
		nk = 0;
	}
	for (size_t k = 0; k < nk; k++) {
		size_t f, count = 0;
		const struct sidx *ix = index_of(c, kids[k], &f);

		if (!ix || !spans(ix, &c->col[f], kids[k], count_cb, &count))
			continue;
		if (ix->built_n < nrows)
			count += nrows - ix->built_n;
		if (count < bcount) {
			best = kids[k];
			bx = ix;
			bf = f;
			bcount = count;
		}
	}
	if (!best)
		return 0;
	uint32_t *cand = NULL;
	uint8_t *match = NULL;
	size_t nc = 0;

	if (!marked) {
		m.bits = calloc(words ? words : 1, sizeof(*m.bits));
		if (!m.bits)
			return -ENOMEM;
		spans(bx, &c->col[bf], best, mark_cb, &m);
	}
	if (bx->built_n < nrows)
		tail = bx->built_n;
	for (size_t r = tail; r < nrows; r++)
		m.bits[r / 64] |= (uint64_t)1 << (r % 64);
	for (size_t w = 0; w < words; w++)
		nc += (size_t)__builtin_popcountll(m.bits[w]);
	cand = malloc((nc ? nc : 1) * sizeof(*cand));
	match = malloc(nc ? nc : 1);
	if (!cand || !match) {
		free(m.bits);
		free(cand);
		free(match);
		return -ENOMEM;
	}
	nc = 0;
	for (size_t w = 0; w < words; w++)
		for (uint64_t b = m.bits[w]; b; b &= b - 1)
			cand[nc++] = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(b));
	free(m.bits);
	fld_expr_eval(x, c, cand, nc, match);
	size_t out = 0;

	for (size_t i = 0; i < nc; i++)
		if (match[i])
			cand[out++] = cand[i];
	free(match);
	*rows = cand;
	*n = out;
	return 1;
}
