/* expr_eval.c - evaluating a parsed expression over a partition's columns:
 * run-time values and three-valued comparisons, like patterns, kernel
 * planning, the block evaluator, and partition-key pruning.
 *
 * Blocks.  fld_expr_eval cuts the rows into blocks of XBLOCK and computes
 * one truth byte per row (XF 0, XU 1, XT 2: expr_int.h) for the whole tree,
 * column at a time: a leaf fills the block's truth vector, `and` keeps the
 * minimum of its children's vectors, `or` the maximum, `not` 2 - t.  Leaves
 * that compare one column with constants (ranges, in-lists, like, is null)
 * were given a kernel by xplan at parse time: a tight loop over the
 * column's values (read in place when the block's rows are consecutive,
 * else gathered into a stack buffer) that then marks null rows unknown.
 * Other leaves (JSON paths, arithmetic on several fields, functions) run
 * xpred_row per row, a direct interpreter of the tree.  Chained ranges
 * (`1 < a <= 5`, or `a > 1 and a <= 5`) merge into one range kernel.
 *
 * Unknown.  A null value, a JSON path that is missing or of another type,
 * and x / 0 are XR_UNK; a comparison with one is XU; `not` keeps XU; only
 * XT at the top matches.  `is null` is the one leaf that answers XT or XF
 * for nulls.
 *
 * Short-circuit.  An `and` evaluates its next child only if some row of
 * the block is not yet XF (an `or`: not yet XT), and hands the child the
 * mask of rows still undecided: per-row leaves skip the others (kernels
 * compute every row: cheaper than testing).  Every leaf writes every row
 * of its vector, so no byte is ever read uninitialized.  Scratch is on the
 * stack: two XBLOCK vectors per and/or level (nesting is bounded by
 * FLD_EXPR_DEPTH_MAX) and one gather buffer per kernel.
 */
#include "field/expr_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TWO63 9223372036854775808.0

/* ---- values ---- */

int xcmp_id(int64_t i, double d)
{
	if (d >= TWO63)
		return -1;
	if (d < -TWO63)
		return 1;
	int64_t t = (int64_t)d;         /* toward zero, exact */

	if (i != t)
		return i < t ? -1 : 1;
	double frac = d - (double)t;

	return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

int64_t xdkey(double d)
{
	int64_t k;

	if (d == 0)
		d = 0;                  /* -0 is 0 */
	memcpy(&k, &d, sizeof(k));
	return k < 0 ? (int64_t)((uint64_t)k ^ INT64_MAX) : k;
}

void xjson_rv(const json_t *j, struct xrv *out)
{
	memset(out, 0, sizeof(*out));
	if (!j)
		return;
	switch (json_typeof(j)) {
	case JSON_INTEGER:
		out->k = XR_INT;
		out->i = json_integer_value(j);
		break;
	case JSON_REAL:
		out->k = XR_FLT;
		out->d = json_real_value(j);
		break;
	case JSON_STRING:
		out->k = XR_STR;
		out->s = json_string_value(j);
		out->len = json_string_length(j);
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		out->k = XR_BOOL;
		out->i = json_is_true(j);
		break;
	case JSON_NULL:
		break;
	default:
		out->k = XR_OTHER;
		out->j = j;
	}
}

static bool rv_num(const struct xrv *v)
{
	return v->k == XR_INT || v->k == XR_FLT;
}

static double rv_d(const struct xrv *v)
{
	return v->k == XR_INT ? (double)v->i : v->d;
}

uint8_t xcmp(int op, const struct xrv *a, const struct xrv *b)
{
	int r;

	if (rv_num(a) && rv_num(b)) {
		if (a->k == XR_INT && b->k == XR_INT)
			r = a->i < b->i ? -1 : a->i > b->i;
		else if (a->k == XR_INT)
			r = isnan(b->d) ? 2 : xcmp_id(a->i, b->d);
		else if (b->k == XR_INT)
			r = isnan(a->d) ? 2 : -xcmp_id(b->i, a->d);
		else if (isnan(a->d) || isnan(b->d))
			r = 2;
		else
			r = a->d < b->d ? -1 : a->d > b->d;
		if (r == 2)
			return XU;
	} else if (a->k == XR_STR && b->k == XR_STR) {
		size_t n = a->len < b->len ? a->len : b->len;

		r = n ? memcmp(a->s, b->s, n) : 0;
		if (!r)
			r = a->len < b->len ? -1 : a->len > b->len;
		r = r < 0 ? -1 : r > 0;
	} else if (a->k == XR_BOOL && b->k == XR_BOOL) {
		if (op != XO_EQ && op != XO_NE)
			return XU;
		r = a->i != b->i;
	} else {
		return XU;
	}
	bool t;

	switch (op) {
	case XO_EQ: t = r == 0; break;
	case XO_NE: t = r != 0; break;
	case XO_LT: t = r < 0; break;
	case XO_LE: t = r <= 0; break;
	case XO_GT: t = r > 0; break;
	default: t = r >= 0; break;
	}
	return t ? XT : XF;
}

static int64_t wrap(uint64_t u)
{
	return (int64_t)u;              /* two's complement (gcc, clang) */
}

void xarith(int op, const struct xrv *a, const struct xrv *b,
	    struct xrv *out)
{
	memset(out, 0, sizeof(*out));
	if (!rv_num(a) || (b && !rv_num(b)))
		return;
	if (!b) {
		out->k = a->k;
		if (a->k == XR_INT)
			out->i = wrap(0 - (uint64_t)a->i);
		else
			out->d = -a->d;
		return;
	}
	if (a->k == XR_INT && b->k == XR_INT) {
		int64_t x = a->i, y = b->i;

		out->k = XR_INT;
		switch (op) {
		case '+': out->i = wrap((uint64_t)x + (uint64_t)y); break;
		case '-': out->i = wrap((uint64_t)x - (uint64_t)y); break;
		case '*': out->i = wrap((uint64_t)x * (uint64_t)y); break;
		case '/':
			if (!y)
				out->k = XR_UNK;
			else
				out->i = y == -1 ? wrap(0 - (uint64_t)x) : x / y;
			break;
		default:
			if (!y)
				out->k = XR_UNK;
			else
				out->i = y == -1 ? 0 : x % y;
		}
		return;
	}
	double x = rv_d(a), y = rv_d(b);

	out->k = XR_FLT;
	switch (op) {
	case '+': out->d = x + y; break;
	case '-': out->d = x - y; break;
	case '*': out->d = x * y; break;
	case '/':
		if (y == 0)
			out->k = XR_UNK;
		else
			out->d = x / y;
		break;
	default:
		if (y == 0)
			out->k = XR_UNK;
		else
			out->d = fmod(x, y);
	}
}

static bool is_null(const struct fld_col *col, size_t r)
{
	return (col->null && col->null[r]) ||
	       ((col->type == FLD_JSON || col->type == FLD_ARRAY) &&
		!col->json[r]);
}

/* The JSON value a path leads to at row r, NULL when missing; *base_null
 * when the field itself is null. */
static const json_t *walk(const struct xval *v, const struct fld_cols *c,
			  size_t r, bool *base_null)
{
	const struct fld_col *col = &c->col[v->f];

	*base_null = is_null(col, r);
	if (*base_null)
		return NULL;
	const json_t *j = col->json[r];

	for (size_t k = 0; k < v->nsteps && j; k++) {
		const struct xstep *st = &v->steps[k];

		if (st->key)
			j = json_is_object(j) ? json_object_get(j, st->key) : NULL;
		else
			j = json_is_array(j) ? json_array_get(j, (size_t)st->idx) :
			    NULL;
	}
	return j;
}

static void xval_row(const struct xval *v, const struct fld_cols *c,
		     size_t r, struct xrv *out)
{
	struct xrv a, b;
	bool bn;

	switch (v->k) {
	case XV_CONST:
		*out = v->c;
		return;
	case XV_LIST:
		break;
	case XV_ID:
		memset(out, 0, sizeof(*out));
		out->k = XR_INT;
		out->i = c->ids[r];
		return;
	case XV_COL: {
		const struct fld_col *col = &c->col[v->f];

		memset(out, 0, sizeof(*out));
		if (is_null(col, r))
			return;
		switch (col->type) {
		case FLD_BOOL:
			out->k = XR_BOOL;
			out->i = col->i[r] != 0;
			return;
		case FLD_INT8: case FLD_INT16: case FLD_INT32: case FLD_INT64:
			out->k = XR_INT;
			out->i = col->i[r];
			return;
		case FLD_FLOAT: case FLD_DOUBLE:
			out->k = XR_FLT;
			out->d = col->d[r];
			return;
		case FLD_VARCHAR:
			out->k = XR_STR;
			out->s = col->str + col->off[r];
			out->len = col->off[r + 1] - col->off[r];
			return;
		case FLD_JSON:
			xjson_rv(col->json[r], out);
			return;
		case FLD_ARRAY:
			out->k = XR_OTHER;
			out->j = col->json[r];
			return;
		default:
			return;
		}
	}
	case XV_PATH:
		xjson_rv(walk(v, c, r, &bn), out);
		return;
	case XV_ARITH:
		xval_row(v->a, c, r, &a);
		xval_row(v->b, c, r, &b);
		xarith(v->op, &a, &b, out);
		return;
	case XV_NEG:
		xval_row(v->a, c, r, &a);
		xarith('-', &a, NULL, out);
		return;
	case XV_ALEN:
		xval_row(v->a, c, r, &a);
		memset(out, 0, sizeof(*out));
		if (a.k == XR_OTHER && json_is_array(a.j)) {
			out->k = XR_INT;
			out->i = (int64_t)json_array_size(a.j);
		}
		return;
	}
	memset(out, 0, sizeof(*out));
}

/* ---- like ---- */

int xpat_compile(struct fld_expr *x, const char *s, size_t len,
		 struct xpat *out)
{
	uint8_t *pk = xalloc(x, len + 1);
	char *pb = xalloc(x, len + 1);
	size_t n = 0, nwild = 0, nany = 0;

	if (!pk || !pb)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			pk[n] = 0;
			pb[n++] = s[++i];
		} else if (s[i] == '%') {
			if (n && pk[n - 1] == 2)
				continue;       /* %% is % */
			pk[n++] = 2;
			nwild++;
		} else if (s[i] == '_') {
			pk[n++] = 1;
			nany++;
		} else {
			pk[n] = 0;
			pb[n++] = s[i];
		}
	}
	out->pk = pk;
	out->pb = pb;
	out->pn = n;
	out->kind = XL_GENERAL;
	if (nany)
		return 0;
	if (!nwild) {
		out->kind = XL_EXACT;
		out->lit = pb;
		out->len = n;
	} else if (nwild == 1 && pk[n - 1] == 2) {
		out->kind = XL_PREFIX;
		out->lit = pb;
		out->len = n - 1;
	} else if (nwild == 1 && pk[0] == 2) {
		out->kind = XL_SUFFIX;
		out->lit = pb + 1;
		out->len = n - 1;
	} else if (nwild == 2 && pk[0] == 2 && pk[n - 1] == 2) {
		out->kind = XL_INFIX;
		out->lit = pb + 1;
		out->len = n - 2;
	}
	return 0;
}

static bool match_general(const struct xpat *p, const char *s, size_t n)
{
	size_t i = 0, j = 0, star = SIZE_MAX, mark = 0;

	while (j < n) {
		if (i < p->pn && (p->pk[i] == 1 ||
				  (p->pk[i] == 0 && p->pb[i] == s[j]))) {
			i++;
			j++;
		} else if (i < p->pn && p->pk[i] == 2) {
			star = i++;
			mark = j;
		} else if (star != SIZE_MAX) {
			i = star + 1;
			j = ++mark;
		} else {
			return false;
		}
	}
	while (i < p->pn && p->pk[i] == 2)
		i++;
	return i == p->pn;
}

bool xpat_match(const struct xpat *p, const char *s, size_t n)
{
	switch (p->kind) {
	case XL_EXACT:
		return n == p->len && !memcmp(s, p->lit, n);
	case XL_PREFIX:
		return n >= p->len && !memcmp(s, p->lit, p->len);
	case XL_SUFFIX:
		return n >= p->len && !memcmp(s + n - p->len, p->lit, p->len);
	case XL_INFIX:
		return !p->len || (n >= p->len && memmem(s, n, p->lit, p->len));
	default:
		return match_general(p, s, n);
	}
}

/* ---- one row ---- */

/* The JSON array a function or array_length reads, or NULL (*unk set
 * when the value is null or not an array). */
static const json_t *arr_of(const struct xval *a, const struct fld_cols *c,
			    size_t r)
{
	struct xrv v;

	xval_row(a, c, r, &v);
	return v.k == XR_OTHER && json_is_array(v.j) ? v.j : NULL;
}

static bool has_elem(const json_t *arr, const struct xrv *want)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		struct xrv v;

		xjson_rv(e, &v);
		if (xcmp(XO_EQ, &v, want) == XT)
			return true;
	}
	return false;
}

uint8_t xpred_row(const struct xpred *p, const struct fld_cols *c, size_t r)
{
	struct xrv a, b;
	uint8_t t;
	bool bn;

	switch (p->k) {
	case XP_CONST:
		return p->tv;
	case XP_AND:
		t = XT;
		for (size_t k = 0; k < p->nkids && t != XF; k++) {
			uint8_t u = xpred_row(p->kids[k], c, r);

			t = u < t ? u : t;
		}
		return t;
	case XP_OR:
		t = XF;
		for (size_t k = 0; k < p->nkids && t != XT; k++) {
			uint8_t u = xpred_row(p->kids[k], c, r);

			t = u > t ? u : t;
		}
		return t;
	case XP_NOT:
		return (uint8_t)(2 - xpred_row(p->kids[0], c, r));
	case XP_CMP:
		xval_row(p->a, c, r, &a);
		xval_row(p->b, c, r, &b);
		return xcmp(p->op, &a, &b);
	case XP_IN:
		xval_row(p->a, c, r, &a);
		if (a.k == XR_UNK)
			return XU;
		/* The value is known: elements of another type than it are
		 * passed over (`meta["x"] not in ["s", 7]` holds for x = 3);
		 * a list with no element of its type at all is a type
		 * mismatch, unknown, as `meta["x"] == "s"` is for a number;
		 * an unknown element (1/0, NaN) leaves the answer unknown. */
		t = XF;
		{
			bool same = p->b->nitems == 0;

			for (size_t k = 0; k < p->b->nitems && t != XT; k++) {
				const struct xrv *e = &p->b->items[k];
				uint8_t u = xcmp(XO_EQ, &a, e);

				if (u == XU && e->k != XR_UNK &&
				    !(e->k == XR_FLT && isnan(e->d)))
					continue;       /* another type */
				same = true;
				t = u > t ? u : t;
			}
			if (!same)
				t = XU;
		}
		return p->neg ? (uint8_t)(2 - t) : t;
	case XP_LIKE:
		xval_row(p->a, c, r, &a);
		if (a.k != XR_STR)
			return XU;
		return xpat_match(&p->pat, a.s, a.len) ? XT : XF;
	case XP_EXISTS:
		if (p->a->k == XV_PATH) {
			const json_t *j = walk(p->a, c, r, &bn);

			return bn ? XU : j ? XT : XF;
		}
		return is_null(&c->col[p->a->f], r) ? XU : XT;
	case XP_NULL:
		if (p->a->k == XV_ID) {
			bn = false;
		} else if (p->a->k == XV_PATH) {
			const json_t *j = walk(p->a, c, r, &bn);

			bn = bn || !j || json_is_null(j);
		} else {
			bn = is_null(&c->col[p->a->f], r);
		}
		return bn != p->neg ? XT : XF;
	case XP_FN: {
		const json_t *arr = arr_of(p->a, c, r);

		if (!arr)
			return XU;
		if (p->op == XFN_CONTAINS_ALL) {
			for (size_t k = 0; k < p->b->nitems; k++)
				if (!has_elem(arr, &p->b->items[k]))
					return XF;
			return XT;
		}
		for (size_t k = 0; k < p->b->nitems; k++)
			if (has_elem(arr, &p->b->items[k]))
				return XT;
		return XF;
	}
	case XP_BOOL:
		xval_row(p->a, c, r, &a);
		if (a.k != XR_BOOL)
			return XU;
		return a.i ? XT : XF;
	}
	return XU;
}

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
			if (d >= -TWO63 && d < TWO63 && d == floor(d))
				lo = hi = (int64_t)d;
			else
				empty = true;
			break;
		case XO_LT:
			if (d <= -TWO63)
				empty = true;
			else if (d < TWO63) {
				f = floor(d);
				hi = (int64_t)f - (f == d);
			}
			break;
		case XO_LE:
			if (d < -TWO63)
				empty = true;
			else if (d < TWO63)
				hi = (int64_t)floor(d);
			break;
		case XO_GT:
			if (d >= TWO63)
				empty = true;
			else if (d >= -TWO63) {
				f = ceil(d);
				if (f == d && (int64_t)f == INT64_MAX)
					empty = true;
				else
					lo = (int64_t)f + (f == d);
			}
			break;
		default:
			if (d > TWO63 || d == TWO63)
				empty = true;
			else if (d > -TWO63)
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
		p->dlo = p->dhi = rv_d(c);
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
	} else if (is_col_of(x, a, FLD_FLOAT, FLD_DOUBLE) && rv_num(&b->c)) {
		p->kk = XK_FRANGE;
		p->f = a->f;
		frange(p, p->op, &b->c);
	} else if (is_col_of(x, a, FLD_VARCHAR, FLD_VARCHAR) &&
		   b->c.k == XR_STR) {
		p->kk = XK_SCMP;
		p->f = a->f;
	} else if (a->k == XV_ARITH && a->t == XT_INT &&
		   is_int_col(x, a->a) && a->b->k == XV_CONST &&
		   a->b->c.k == XR_INT && rv_num(&b->c)) {
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

static uint64_t strhash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static uint64_t ihash(int64_t v)
{
	uint64_t h = (uint64_t)v * 0x9E3779B97F4A7C15ull;

	return h ^ h >> 29;
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
		else if (e->k == XR_FLT && d >= -TWO63 && d < TWO63 &&
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
		uint64_t h = ihash(v[k]) & (cap - 1);

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
		uint64_t h = strhash(v[k].s, v[k].len) & (cap - 1);

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

/* ---- blocks ---- */

struct bctx {
	const struct fld_cols *c;
	const uint32_t *rows;
	size_t n;
	ptrdiff_t base;                 /* >= 0: rows are base, base+1, ... */
};

static const int64_t *gather_i(const struct bctx *b, const int64_t *col,
			       int64_t *buf)
{
	if (b->base >= 0)
		return col + b->base;
	for (size_t k = 0; k < b->n; k++)
		buf[k] = col[b->rows[k]];
	return buf;
}

static const double *gather_d(const struct bctx *b, const double *col,
			      double *buf)
{
	if (b->base >= 0)
		return col + b->base;
	for (size_t k = 0; k < b->n; k++)
		buf[k] = col[b->rows[k]];
	return buf;
}

/* Null rows become unknown (is null aside). */
static void mark_nulls(const struct bctx *b, const struct fld_col *col,
		       uint8_t *out)
{
	if (!col || !col->null)
		return;
	if (b->base >= 0) {
		const uint8_t *nl = col->null + b->base;

		for (size_t k = 0; k < b->n; k++)
			out[k] = nl[k] ? XU : out[k];
	} else {
		for (size_t k = 0; k < b->n; k++)
			if (col->null[b->rows[k]])
				out[k] = XU;
	}
}

static void k_irange(const struct xpred *p, const int64_t *v, size_t n,
		     uint8_t *out)
{
	uint8_t tv = p->kneg ? XF : XT, fv = (uint8_t)(2 - tv);

	if (p->empty) {
		memset(out, fv, n);
		return;
	}
	uint64_t lo = (uint64_t)p->lo, span = (uint64_t)p->hi - lo;

	for (size_t k = 0; k < n; k++)
		out[k] = (uint64_t)v[k] - lo <= span ? tv : fv;
}

static void k_iarith(const struct xpred *p, const int64_t *v, size_t n,
		     uint8_t *out)
{
	int64_t t[XBLOCK];
	uint64_t ak = (uint64_t)p->ak;

	switch (p->aop) {
	case '+':
		for (size_t k = 0; k < n; k++)
			t[k] = wrap((uint64_t)v[k] + ak);
		break;
	case '-':
		for (size_t k = 0; k < n; k++)
			t[k] = wrap((uint64_t)v[k] - ak);
		break;
	case '*':
		for (size_t k = 0; k < n; k++)
			t[k] = wrap((uint64_t)v[k] * ak);
		break;
	case '/':
		if (p->ak == -1)
			for (size_t k = 0; k < n; k++)
				t[k] = wrap(0 - (uint64_t)v[k]);
		else
			for (size_t k = 0; k < n; k++)
				t[k] = v[k] / p->ak;
		break;
	default:
		if (p->ak == -1)
			memset(t, 0, n * sizeof(*t));
		else
			for (size_t k = 0; k < n; k++)
				t[k] = v[k] % p->ak;
	}
	k_irange(p, t, n, out);
}

static bool iset_has(const struct xset *s, int64_t x)
{
	if (s->bits) {
		uint64_t o = (uint64_t)x - (uint64_t)s->bmin;

		return o <= s->bspan && (s->bits[o / 64] >> (o % 64) & 1);
	}
	if (!s->htab)
		return false;
	for (uint64_t h = ihash(x) & s->hmask; s->hused[h];
	     h = (h + 1) & s->hmask)
		if (s->htab[h] == x)
			return true;
	return false;
}

static bool fset_has(const struct xset *s, double x)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->dv[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->n && s->dv[lo] == x;
}

static bool sset_has(const struct xset *s, const char *str, size_t len)
{
	if (!s->n)
		return false;
	for (uint64_t h = strhash(str, len) & s->hmask; s->shash[h];
	     h = (h + 1) & s->hmask) {
		const struct xrv *e = &s->sv[s->shash[h] - 1];

		if (e->len == len && !memcmp(e->s, str, len))
			return true;
	}
	return false;
}

static void kernel(const struct xpred *p, const struct bctx *b, uint8_t *out)
{
	const struct fld_cols *c = b->c;
	const struct fld_col *col = p->f >= 0 ? &c->col[p->f] : NULL;
	uint8_t tv = p->kneg ? XF : XT, fv = (uint8_t)(2 - tv);
	size_t n = b->n;
	union {
		int64_t i[XBLOCK];
		double d[XBLOCK];
	} buf;

	switch (p->kk) {
	case XK_IRANGE:
		k_irange(p, gather_i(b, col ? col->i : c->ids, buf.i), n, out);
		break;
	case XK_IARITH:
		k_iarith(p, gather_i(b, col ? col->i : c->ids, buf.i), n, out);
		break;
	case XK_FRANGE: {
		const double *v = gather_d(b, col->d, buf.d);
		double lo = p->dlo, hi = p->dhi;

		if (p->empty)
			memset(out, fv, n);
		else
			for (size_t k = 0; k < n; k++)
				out[k] = ((v[k] >= lo) & (v[k] <= hi)) ? tv : fv;
		break;
	}
	case XK_ISET: {
		const int64_t *v = gather_i(b, col ? col->i : c->ids, buf.i);

		if (p->set.bits) {
			const uint64_t *bits = p->set.bits;
			uint64_t lo = (uint64_t)p->set.bmin, span = p->set.bspan;

			for (size_t k = 0; k < n; k++) {
				uint64_t o = (uint64_t)v[k] - lo;

				out[k] = o <= span && (bits[o / 64] >> (o % 64) & 1) ?
					 tv : fv;
			}
		} else {
			for (size_t k = 0; k < n; k++)
				out[k] = iset_has(&p->set, v[k]) ? tv : fv;
		}
		break;
	}
	case XK_FSET: {
		const double *v = gather_d(b, col->d, buf.d);

		for (size_t k = 0; k < n; k++)
			out[k] = fset_has(&p->set, v[k]) ? tv : fv;
		break;
	}
	case XK_SCMP:
	case XK_SLIKE:
	case XK_SSET: {
		const uint64_t *off = col->off;
		const char *str = col->str;
		const char *lit = p->kk == XK_SLIKE ? p->pat.lit : p->b->c.s;
		size_t pl = p->kk == XK_SLIKE ? p->pat.len : p->b->c.len;
		bool exact = (p->kk == XK_SLIKE && p->pat.kind == XL_EXACT) ||
			     (p->kk == XK_SCMP && (p->op == XO_EQ || p->op == XO_NE));

		if (exact || (p->kk == XK_SLIKE && p->pat.kind == XL_PREFIX)) {
			/* the common cases, one tight loop: length, first
			 * byte, then memcmp */
			if (p->kk == XK_SCMP && p->op == XO_NE)
				tv = XF, fv = XT;
			for (size_t k = 0; k < n; k++) {
				size_t r = b->base >= 0 ? (size_t)b->base + k :
					   b->rows[k];
				const char *sp = str + off[r];
				size_t len = off[r + 1] - off[r];
				bool t = exact ? len == pl : len >= pl;

				t = t && (!pl || (sp[0] == lit[0] &&
						  !memcmp(sp, lit, pl)));
				out[k] = t ? tv : fv;
			}
			break;
		}
		for (size_t k = 0; k < n; k++) {
			size_t r = b->base >= 0 ? (size_t)b->base + k : b->rows[k];
			struct xrv s = { .k = XR_STR, .s = str + off[r],
					 .len = off[r + 1] - off[r] };
			bool t;

			if (p->kk == XK_SCMP)
				t = xcmp(p->op, &s, &p->b->c) == XT;
			else if (p->kk == XK_SLIKE)
				t = xpat_match(&p->pat, s.s, s.len);
			else
				t = sset_has(&p->set, s.s, s.len);
			out[k] = t ? tv : fv;
		}
		break;
	}
	case XK_NULL: {
		uint8_t yes = p->neg ? XF : XT, no = (uint8_t)(2 - yes);

		if (!col->null)
			memset(out, no, n);
		else if (b->base >= 0)
			for (size_t k = 0; k < n; k++)
				out[k] = col->null[b->base + (ptrdiff_t)k] ? yes : no;
		else
			for (size_t k = 0; k < n; k++)
				out[k] = col->null[b->rows[k]] ? yes : no;
		return;
	}
	default:
		break;
	}
	mark_nulls(b, col, out);
}

static void blk(const struct xpred *p, const struct bctx *b,
		const uint8_t *act, uint8_t *out)
{
	size_t n = b->n;

	switch (p->k) {
	case XP_CONST:
		memset(out, p->tv, n);
		return;
	case XP_NOT:
		blk(p->kids[0], b, act, out);
		for (size_t k = 0; k < n; k++)
			out[k] = (uint8_t)(2 - out[k]);
		return;
	case XP_AND:
	case XP_OR: {
		uint8_t tmp[XBLOCK], live[XBLOCK];
		uint8_t stop = p->k == XP_AND ? XF : XT;

		blk(p->kids[0], b, act, out);
		for (size_t i = 1; i < p->nkids; i++) {
			size_t nlive = 0;

			for (size_t k = 0; k < n; k++) {
				live[k] = out[k] != stop && (!act || act[k]);
				nlive += live[k];
			}
			if (!nlive)
				return;
			blk(p->kids[i], b, live, tmp);
			if (p->k == XP_AND)
				for (size_t k = 0; k < n; k++)
					out[k] = tmp[k] < out[k] ? tmp[k] : out[k];
			else
				for (size_t k = 0; k < n; k++)
					out[k] = tmp[k] > out[k] ? tmp[k] : out[k];
		}
		return;
	}
	default:
		break;
	}
	if (p->kk != XK_NONE) {
		kernel(p, b, out);
		return;
	}
	for (size_t k = 0; k < n; k++) {
		size_t r = b->base >= 0 ? (size_t)b->base + k : b->rows[k];

		out[k] = !act || act[k] ? xpred_row(p, b->c, r) : XU;
	}
}

void xpred_block(const struct xpred *p, const struct fld_cols *c,
		 const uint32_t *rows, size_t n, uint8_t *out)
{
	struct bctx b = { .c = c, .rows = rows, .n = n, .base = -1 };
	size_t k;

	for (k = 1; k < n && rows[k] == rows[0] + k; k++)
		;
	if (n && k == n)
		b.base = rows[0];
	blk(p, &b, NULL, out);
}

void fld_expr_eval(const struct fld_expr *x, const struct fld_cols *c,
		   const uint32_t *rows, size_t n, uint8_t *match)
{
	for (size_t i = 0; i < n; i += XBLOCK) {
		size_t m = n - i < XBLOCK ? n - i : XBLOCK;

		xpred_block(x->root, c, rows + i, m, match + i);
		for (size_t k = 0; k < m; k++)
			match[i + k] = match[i + k] == XT;
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
