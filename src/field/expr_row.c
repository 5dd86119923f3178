/* expr_row.c - run-time values and the per-row interpreter of a parsed
 * expression (expr_int.h): three-valued comparisons and arithmetic,
 * JSON values and paths, like patterns, and xpred_row, which gives the
 * truth of a predicate at one row; the block evaluator (expr_eval.c) runs
 * it for the leaves that have no kernel.
 *
 * Unknown.  A null value, a JSON path that is missing or of another type,
 * and x / 0 are XR_UNK; a comparison with one is XU; `not` keeps XU; only
 * XT at the top matches.  `is null` is the one leaf that answers XT or XF
 * for nulls.
 */
#include "field/expr_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- values ---- */

int xcmp_id(int64_t i, double d)
{
	if (d >= XTWO63)
		return -1;
	if (d < -XTWO63)
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

uint8_t xcmp(int op, const struct xrv *a, const struct xrv *b)
{
	int r;

	if (xrv_num(a) && xrv_num(b)) {
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

void xarith(int op, const struct xrv *a, const struct xrv *b,
	    struct xrv *out)
{
	memset(out, 0, sizeof(*out));
	if (!xrv_num(a) || (b && !xrv_num(b)))
		return;
	if (!b) {
		out->k = a->k;
		if (a->k == XR_INT)
			out->i = xwrap(0 - (uint64_t)a->i);
		else
			out->d = -a->d;
		return;
	}
	if (a->k == XR_INT && b->k == XR_INT) {
		int64_t x = a->i, y = b->i;

		out->k = XR_INT;
		switch (op) {
		case '+': out->i = xwrap((uint64_t)x + (uint64_t)y); break;
		case '-': out->i = xwrap((uint64_t)x - (uint64_t)y); break;
		case '*': out->i = xwrap((uint64_t)x * (uint64_t)y); break;
		case '/':
			if (!y)
				out->k = XR_UNK;
			else
				out->i = y == -1 ? xwrap(0 - (uint64_t)x) : x / y;
			break;
		default:
			if (!y)
				out->k = XR_UNK;
			else
				out->i = y == -1 ? 0 : x % y;
		}
		return;
	}
	double x = xrv_d(a), y = xrv_d(b);

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
