/* expr_plan.c - planning a parsed expression at parse time (xplan): the
 * block kernels of the leaves that compare one column with constants
 * (integer and double ranges, in-lists as sorted arrays, bitmaps or hash
 * tables, string comparisons, like, is null), chained ranges merged into
 * one, and the partition-key values an expression pins (partition-key
 * pruning, fld_expr_pk_values).
 */
#include "field/expr_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- planning ---- */

static bool is_int_col(const struct fld_expr *x, const struct xval *v)
{
	if (v->k == XV_ID)
		return true;
	if (v->k != XV_COL)
		return false;
	enum fld_type t = x->s->f[v->f].type;

	return t == FLD_BOOL || (t >= FLD_INT8 && t <= FLD_INT64);
}

static bool is_col_of(const struct fld_expr *x, const struct xval *v,
		      enum fld_type a, enum fld_type b)
{
	return v->k == XV_COL && (x->s->f[v->f].type == a ||
				  x->s->f[v->f].type == b);
}

static int flip(int op)
{
	switch (op) {
	case XO_LT: return XO_GT;
	case XO_LE: return XO_GE;
	case XO_GT: return XO_LT;
	case XO_GE: return XO_LE;
	default: return op;
	}
}

/* The integers v with `v op c` as [lo, hi] (empty, or kneg for !=). */
static void irange(struct xpred *p, int op, const struct xrv *c)
{
	int64_t lo = INT64_MIN, hi = INT64_MAX;
	bool empty = false;

	p->kneg = op == XO_NE;
	if (c->k != XR_FLT) {
		int64_t v = c->i;

		switch (op) {
		case XO_EQ: case XO_NE: lo = hi = v; break;
		case XO_LT: empty = v == INT64_MIN; hi = v - !empty; break;
		case XO_LE: hi = v; break;
		case XO_GT: empty = v == INT64_MAX; lo = v + !empty; break;
		default: lo = v;
		}
	} else {
		double d = c->d, f;

		switch (op) {
		case XO_EQ: case XO_NE:
			if (d >= -XTWO63 && d < XTWO63 && d == floor(d))
				lo = hi = (int64_t)d;
			else
				empty = true;
			break;
		case XO_LT:
			if (d <= -XTWO63)
				empty = true;
			else if (d < XTWO63) {
				f = floor(d);
				hi = (int64_t)f - (f == d);
			}
			break;
		case XO_LE:
			if (d < -XTWO63)
				empty = true;
			else if (d < XTWO63)
				hi = (int64_t)floor(d);
			break;
		case XO_GT:
			if (d >= XTWO63)
				empty = true;
			else if (d >= -XTWO63) {
				f = ceil(d);
				if (f == d && (int64_t)f == INT64_MAX)
					empty = true;
				else
					lo = (int64_t)f + (f == d);
			}
			break;
		default:
			if (d > XTWO63 || d == XTWO63)
				empty = true;
			else if (d > -XTWO63)
				lo = (int64_t)ceil(d);
		}
	}
	p->lo = lo;
	p->hi = hi;
	p->empty = empty || lo > hi;
}

/* Largest double x with x < c (strict) or x <= c; smallest above. */
static double below(const struct xrv *c, bool strict)
{
	if (c->k == XR_FLT)
		return strict ? nextafter(c->d, -INFINITY) : c->d;
	double d = (double)c->i;
	int r = -xcmp_id(c->i, d);      /* sign of d - c */

	return (strict ? r < 0 : r <= 0) ? d : nextafter(d, -INFINITY);
}

static double above(const struct xrv *c, bool strict)
{
	if (c->k == XR_FLT)
		return strict ? nextafter(c->d, INFINITY) : c->d;
	double d = (double)c->i;
	int r = -xcmp_id(c->i, d);

	return (strict ? r > 0 : r >= 0) ? d : nextafter(d, INFINITY);
}

static void frange(struct xpred *p, int op, const struct xrv *c)
{
	p->dlo = -INFINITY;
	p->dhi = INFINITY;
	p->kneg = op == XO_NE;
	p->empty = false;
	switch (op) {
	case XO_EQ: case XO_NE:
		if (c->k == XR_INT && xcmp_id(c->i, (double)c->i) != 0)
			p->empty = true;
		p->dlo = p->dhi = xrv_d(c);
		break;
	case XO_LT: p->dhi = below(c, true); break;
	case XO_LE: p->dhi = below(c, false); break;
	case XO_GT: p->dlo = above(c, true); break;
	default: p->dlo = above(c, false);
	}
	if (p->dlo > p->dhi)
		p->empty = true;
}

static void to_const(struct xpred *p, uint8_t tv)
{
	p->k = XP_CONST;
	p->tv = tv;
	p->kk = XK_NONE;
}

static void plan_cmp(struct fld_expr *x, struct xpred *p)
{
	if (p->a->k == XV_CONST && p->b->k != XV_CONST) {
		struct xval *t = p->a;

		p->a = p->b;
		p->b = t;
		p->op = flip(p->op);
	}
	const struct xval *a = p->a, *b = p->b;

	if (b->k != XV_CONST)
		return;
	if (b->c.k == XR_UNK || (b->c.k == XR_FLT && isnan(b->c.d))) {
		to_const(p, XU);
		return;
	}
	if (is_int_col(x, a) && b->c.k != XR_STR) {
		p->kk = XK_IRANGE;
		p->f = a->k == XV_ID ? -1 : a->f;
		irange(p, p->op, &b->c);
	} else if (is_col_of(x, a, FLD_FLOAT, FLD_DOUBLE) && xrv_num(&b->c)) {
		p->kk = XK_FRANGE;
		p->f = a->f;
		frange(p, p->op, &b->c);
	} else if (is_col_of(x, a, FLD_VARCHAR, FLD_VARCHAR) &&
		   b->c.k == XR_STR) {
		p->kk = XK_SCMP;
		p->f = a->f;
	} else if (a->k == XV_ARITH && a->t == XT_INT &&
		   is_int_col(x, a->a) && a->b->k == XV_CONST &&
		   a->b->c.k == XR_INT && xrv_num(&b->c)) {
		if ((a->op == '/' || a->op == '%') && a->b->c.i == 0) {
			to_const(p, XU);
			return;
		}
		p->kk = XK_IARITH;
		p->f = a->a->k == XV_ID ? -1 : a->a->f;
		p->aop = a->op;
		p->ak = a->b->c.i;
		irange(p, p->op, &b->c);
	}
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int cmp_str(const void *a, const void *b)
{
	return xcmp(XO_LT, a, b) == XT ? -1 : xcmp(XO_GT, a, b) == XT;
}

static int plan_iset(struct fld_expr *x, struct xpred *p)
{
	const struct xval *l = p->b;
	int64_t *v = xalloc(x, (l->nitems + 1) * sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t k = 0; k < l->nitems; k++) {
		const struct xrv *e = &l->items[k];
		double d = e->d;

		if (e->k == XR_INT || e->k == XR_BOOL)
			v[n++] = e->i;
		else if (e->k == XR_FLT && d >= -XTWO63 && d < XTWO63 &&
			 d == floor(d))
			v[n++] = (int64_t)d;
	}
	qsort(v, n, sizeof(*v), cmp_i64);
	size_t m = 0;

	for (size_t k = 0; k < n; k++)
		if (!m || v[m - 1] != v[k])
			v[m++] = v[k];
	p->set.n = m;
	p->set.iv = v;
	if (!m)
		return 0;
	uint64_t span = (uint64_t)v[m - 1] - (uint64_t)v[0];

	/* a bitmap when it is small (<= 128 KiB) or dense enough */
	if (span < (uint64_t)1 << 20 ||
	    (span < (uint64_t)1 << 24 && span < 64 * (uint64_t)m)) {
		uint64_t *bits = xalloc(x, (span / 64 + 1) * sizeof(*bits));

		if (!bits)
			return -ENOMEM;
		for (size_t k = 0; k < m; k++) {
			uint64_t o = (uint64_t)v[k] - (uint64_t)v[0];

			bits[o / 64] |= (uint64_t)1 << (o % 64);
		}
		p->set.bits = bits;
		p->set.bmin = v[0];
		p->set.bspan = span;
		return 0;
	}
	size_t cap = 16;

	while (cap < 4 * m)
		cap *= 2;
	int64_t *tab = xalloc(x, cap * sizeof(*tab));
	uint8_t *used = xalloc(x, cap);

	if (!tab || !used)
		return -ENOMEM;
	for (size_t k = 0; k < m; k++) {
		uint64_t h = xihash(v[k]) & (cap - 1);

		while (used[h])
			h = (h + 1) & (cap - 1);
		used[h] = 1;
		tab[h] = v[k];
	}
	p->set.htab = tab;
	p->set.hused = used;
	p->set.hmask = cap - 1;
	return 0;
}

static int plan_fset(struct fld_expr *x, struct xpred *p)
{
	const struct xval *l = p->b;
	double *v = xalloc(x, (l->nitems + 1) * sizeof(*v));
	size_t n = 0, m = 0;

	if (!v)
		return -ENOMEM;
	for (size_t k = 0; k < l->nitems; k++) {
		const struct xrv *e = &l->items[k];

		if (e->k == XR_FLT)
			v[n++] = e->d == 0 ? 0 : e->d;
		else if (xcmp_id(e->i, (double)e->i) == 0)
			v[n++] = (double)e->i;
	}
	qsort(v, n, sizeof(*v), cmp_dbl);
	for (size_t k = 0; k < n; k++)
		if (!m || v[m - 1] != v[k])
			v[m++] = v[k];
	p->set.n = m;
	p->set.dv = v;
	return 0;
}

static int plan_sset(struct fld_expr *x, struct xpred *p)
{
	const struct xval *l = p->b;
	struct xrv *v = xalloc(x, (l->nitems + 1) * sizeof(*v));
	size_t m = 0, cap = 16;

	if (!v)
		return -ENOMEM;
	memcpy(v, l->items, l->nitems * sizeof(*v));
	qsort(v, l->nitems, sizeof(*v), cmp_str);
	for (size_t k = 0; k < l->nitems; k++)
		if (!m || cmp_str(&v[m - 1], &v[k]))
			v[m++] = v[k];
	while (cap < 4 * m)
		cap *= 2;
	uint32_t *tab = xalloc(x, cap * sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t k = 0; k < m; k++) {
		uint64_t h = xstrhash(v[k].s, v[k].len) & (cap - 1);

		while (tab[h])
			h = (h + 1) & (cap - 1);
		tab[h] = (uint32_t)k + 1;
	}
	p->set.n = m;
	p->set.sv = v;
	p->set.shash = tab;
	p->set.hmask = cap - 1;
	return 0;
}

static int plan_in(struct fld_expr *x, struct xpred *p)
{
	const struct xval *a = p->a, *l = p->b;

	for (size_t k = 0; k < l->nitems; k++)
		if (l->items[k].k == XR_UNK ||
		    (l->items[k].k == XR_FLT && isnan(l->items[k].d)))
			return 0;               /* per row: unknown elements */
	p->kneg = p->neg;
	if (is_int_col(x, a)) {
		p->kk = XK_ISET;
		p->f = a->k == XV_ID ? -1 : a->f;
		return plan_iset(x, p);
	}
	if (is_col_of(x, a, FLD_FLOAT, FLD_DOUBLE)) {
		p->kk = XK_FSET;
		p->f = a->f;
		return plan_fset(x, p);
	}
	if (is_col_of(x, a, FLD_VARCHAR, FLD_VARCHAR)) {
		p->kk = XK_SSET;
		p->f = a->f;
		return plan_sset(x, p);
	}
	return 0;
}

/* Merge the range kernels of one column among an and's children. */
static void merge_ranges(struct xpred *p)
{
	size_t m = 0;

	for (size_t i = 0; i < p->nkids; i++) {
		struct xpred *k = p->kids[i];
		size_t j;

		for (j = 0; j < m; j++) {
			struct xpred *o = p->kids[j];

			if (o->kk != k->kk || o->f != k->f || o->kneg ||
			    k->kneg || (k->kk != XK_IRANGE &&
					k->kk != XK_FRANGE))
				continue;
			if (k->kk == XK_IRANGE) {
				o->lo = k->lo > o->lo ? k->lo : o->lo;
				o->hi = k->hi < o->hi ? k->hi : o->hi;
				o->empty = o->empty || k->empty || o->lo > o->hi;
			} else {
				o->dlo = k->dlo > o->dlo ? k->dlo : o->dlo;
				o->dhi = k->dhi < o->dhi ? k->dhi : o->dhi;
				o->empty = o->empty || k->empty ||
					   o->dlo > o->dhi;
			}
			break;
		}
		if (j == m)
			p->kids[m++] = k;
	}
	p->nkids = m;
	if (m == 1)
		*p = *p->kids[0];
}

int xplan(struct fld_expr *x, struct xpred *p)
{
	int rc;

	switch (p->k) {
	case XP_AND:
	case XP_OR:
	case XP_NOT:
		for (size_t k = 0; k < p->nkids; k++)
			if ((rc = xplan(x, p->kids[k])))
				return rc;
		if (p->k == XP_AND)
			merge_ranges(p);
		return 0;
	case XP_CMP:
		plan_cmp(x, p);
		return 0;
	case XP_IN:
		return plan_in(x, p);
	case XP_LIKE:
		if (is_col_of(x, p->a, FLD_VARCHAR, FLD_VARCHAR)) {
			p->kk = XK_SLIKE;
			p->f = p->a->f;
		}
		return 0;
	case XP_BOOL:
		if (is_col_of(x, p->a, FLD_BOOL, FLD_BOOL)) {
			p->kk = XK_IRANGE;      /* b: b != 0 */
			p->f = p->a->f;
			p->lo = p->hi = 0;
			p->kneg = true;
		}
		return 0;
	case XP_NULL:
		if (p->a->k == XV_COL && x->s->f[p->a->f].type != FLD_JSON &&
		    x->s->f[p->a->f].type != FLD_ARRAY) {
			p->kk = XK_NULL;
			p->f = p->a->f;
		}
		return 0;
	default:
		return 0;
	}
}

/* ---- partition-key pruning ---- */

static int pk_conjunct(const struct fld_expr *x, const struct xpred *p,
		       void (*cb)(void *, const struct fld_value *), void *arg)
{
	int pk = x->s->pk;
	struct fld_value v = { .type = FLD_INT64 };

	if (pk < 0 || p->f != pk || p->kneg)
		return 0;
	if (p->kk == XK_IRANGE && (p->empty || p->lo == p->hi)) {
		if (!p->empty) {
			v.i = p->lo;
			cb(arg, &v);
		}
		return 1;
	}
	if (p->kk == XK_SCMP && p->op == XO_EQ) {
		v.type = FLD_VARCHAR;
		v.s = p->b->c.s;
		v.len = p->b->c.len;
		cb(arg, &v);
		return 1;
	}
	if (p->kk == XK_ISET) {
		for (size_t k = 0; k < p->set.n; k++) {
			v.i = p->set.iv[k];
			cb(arg, &v);
		}
		return 1;
	}
	if (p->kk == XK_SSET) {
		v.type = FLD_VARCHAR;
		for (size_t k = 0; k < p->set.n; k++) {
			v.s = p->set.sv[k].s;
			v.len = p->set.sv[k].len;
			cb(arg, &v);
		}
		return 1;
	}
	return 0;
}

int fld_expr_pk_values(const struct fld_expr *x,
		       void (*cb)(void *arg, const struct fld_value *v),
		       void *arg)
{
	const struct xpred *p = x->root;

	if (p->k != XP_AND)
		return pk_conjunct(x, p, cb, arg);
	for (size_t k = 0; k < p->nkids; k++)
		if (pk_conjunct(x, p->kids[k], cb, arg))
			return 1;
	return 0;
}
