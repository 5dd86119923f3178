/* expr_parse.c - Milvus boolean expressions: a precedence-climbing parser
 * of the lexer's tokens (expr_lex.c) to a typed tree (expr_int.h), and
 * type checking against a schema.  This file holds the expression's
 * arena, the helpers of every level, and the predicate levels (or, and,
 * not, comparisons); the operand levels (sum and below) are in
 * expr_operand.c.
 *
 * The grammar (expr.h, milvusfs(5)), loosest binding first:
 *
 *   expr  := and (("or" | "||") and)*
 *   and   := not (("and" | "&&") not)*
 *   not   := ("not" | "!") not | cmp
 *   cmp   := "exists" atom
 *          | sum (cmp-op sum (cmp-op sum)?)?       chains: < <= or > >= only
 *          | sum ("not")? "in" array | sum "like" string
 *          | sum "is" ("not")? "null"
 *   sum   := prod (("+" | "-") prod)*
 *   prod  := unary (("*" | "/" | "%") unary)*
 *   unary := "-" unary | atom
 *   atom  := number | string | "true" | "false" | "[" literals "]"
 *          | "(" expr ")" | name "(" args ")" | name ("[" (string | int) "]")*
 *
 * One recursive function per level; each returns an "item" that is either
 * a predicate or a value, so that `(a + 1) > 2` and `(a > 1) and b` both
 * parse through the same parentheses, and the level that needs one kind
 * converts or refuses the other (a BOOL or JSON value becomes a predicate).
 * Keywords and function names are case-insensitive; identifiers are not.
 * Nesting is bounded twice: recursion depth (parentheses, not, unary
 * minus) and the height of arithmetic trees built by the loops, both by
 * FLD_EXPR_DEPTH_MAX, so that evaluation recursion is bounded too.
 *
 * Type checking follows Milvus: numbers compare with numbers (integers and
 * floats exactly), strings with strings, BOOL only with == and != against
 * BOOL; a JSON value (a path, or a bare name in a dynamic schema) is typed
 * per row, so anything but an array goes.  Constant subtrees are folded.
 * Messages name types as Milvus does (Int64, VarChar...).
 */
#include "field/expr_int.h"

#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the arena ---- */

struct xarena {
	struct xarena *next;
	size_t used, cap;
	alignas(max_align_t) unsigned char data[];
};

void *xalloc(struct fld_expr *x, size_t n)
{
	struct xarena *a = x->arena;
	size_t need = (n + 15) & ~(size_t)15;

	if (!a || a->cap - a->used < need) {
		size_t cap = a ? a->cap * 2 : 4096;

		if (cap > 65536)
			cap = 65536;
		if (cap < need)
			cap = need;
		a = malloc(sizeof(*a) + cap);
		if (!a)
			return NULL;
		a->cap = cap;
		a->used = 0;
		a->next = x->arena;
		x->arena = a;
	}
	void *p = a->data + a->used;

	a->used += need;
	memset(p, 0, n);
	return p;
}

void fld_expr_free(struct fld_expr *x)
{
	if (!x)
		return;
	for (struct xarena *a = x->arena, *next; a; a = next) {
		next = a->next;
		free(a);
	}
	free(x);
}

/* ---- helpers ---- */

int xunexpected(struct parser *p)
{
	const struct tok *t = xcur(p);

	if (t->k == T_END)
		return xperr(p, t->pos, "unexpected end of expression");
	return xperr(p, t->pos, "unexpected token '%.*s'",
		    (int)(t->len > 40 ? 40 : t->len), p->text + t->pos);
}

int xexpect(struct parser *p, enum tk k)
{
	if (xcur(p)->k != k)
		return xunexpected(p);
	p->i++;
	return 0;
}

int xenter(struct parser *p)
{
	if (++p->depth > FLD_EXPR_DEPTH_MAX)
		return xperr(p, xcur(p)->pos, "nesting deeper than %d",
			    FLD_EXPR_DEPTH_MAX);
	return 0;
}

/* Milvus's names of types, as its messages print them. */
const char *xmname(enum fld_type t)
{
	static const char *const n[] = {
		"None", "Bool", "Int8", "Int16", "Int32", "Int64", "Float",
		"Double", "VarChar", "JSON", "Array"
	};

	return (unsigned)t < sizeof(n) / sizeof(*n) ? n[t] : "?";
}

/* Ours (field.h's fld_type_name, kept local to stay a leaf). */
const char *xuname(enum fld_type t)
{
	static const char *const n[] = {
		"NONE", "BOOL", "INT8", "INT16", "INT32", "INT64", "FLOAT",
		"DOUBLE", "VARCHAR", "JSON", "ARRAY"
	};

	return (unsigned)t < sizeof(n) / sizeof(*n) ? n[t] : "?";
}

struct xval *xnew_val(struct parser *p, enum xvk k, enum xt t,
		      enum fld_type ft)
{
	struct xval *v = xalloc(p->x, sizeof(*v));

	if (v) {
		v->k = k;
		v->t = t;
		v->ft = ft;
		v->h = 1;
		v->f = -1;
	}
	return v;
}

struct xpred *xnew_pred(struct parser *p, enum xpk k)
{
	struct xpred *r = xalloc(p->x, sizeof(*r));

	if (r) {
		r->k = k;
		r->f = -1;
	}
	return r;
}

static struct xpred *const_pred(struct parser *p, uint8_t tv)
{
	struct xpred *r = xnew_pred(p, XP_CONST);

	if (r)
		r->tv = tv;
	return r;
}

struct xval *xconst_val(struct parser *p, const struct xrv *c)
{
	static const enum fld_type ft[] = {
		[XR_UNK] = FLD_INT64, [XR_INT] = FLD_INT64,
		[XR_FLT] = FLD_DOUBLE, [XR_STR] = FLD_VARCHAR,
		[XR_BOOL] = FLD_BOOL, [XR_OTHER] = FLD_JSON
	};
	static const enum xt xt[] = {
		[XR_UNK] = XT_INT, [XR_INT] = XT_INT, [XR_FLT] = XT_FLT,
		[XR_STR] = XT_STR, [XR_BOOL] = XT_BOOL, [XR_OTHER] = XT_DYN
	};
	struct xval *v = xnew_val(p, XV_CONST, xt[c->k], ft[c->k]);

	if (v)
		v->c = *c;
	return v;
}

bool xis_num(enum xt t)
{
	return t == XT_INT || t == XT_FLT;
}

static const char *opname(int op)
{
	static const char *const n[] = { "?", "==", "!=", "<", "<=", ">", ">=" };

	return n[op];
}

/* May a op b be compared?  Element types stand for arrays' elements. */
int xcheck_cmp(struct parser *p, const struct xval *a,
	       const struct xval *b, int op)
{
	bool ok;

	if (a->t == XT_ARRAY || a->t == XT_LIST || b->t == XT_ARRAY ||
	    b->t == XT_LIST)
		ok = false;
	else if (a->t == XT_DYN || b->t == XT_DYN)
		ok = true;
	else if (xis_num(a->t) && xis_num(b->t))
		ok = true;
	else if (a->t == XT_STR && b->t == XT_STR)
		ok = true;
	else if (a->t == XT_BOOL && b->t == XT_BOOL) {
		if (op != XO_EQ && op != XO_NE)
			return xterr(p, "operator %s is not supported on Bool",
				    opname(op));
		ok = true;
	} else
		ok = false;
	if (!ok)
		return xterr(p, "comparisons between %s and %s are not supported",
			    xmname(a->ft), xmname(b->ft));
	return 0;
}

int xto_value(struct parser *p, struct xitem *it)
{
	if (it->p)
		return xperr(p, it->pos,
			    "a boolean expression cannot be an operand");
	return 0;
}

static int to_pred(struct parser *p, struct xitem *it)
{
	struct xval *v = it->v;

	if (it->p)
		return 0;
	if (v->t == XT_BOOL && v->k == XV_CONST) {
		it->p = const_pred(p, v->c.k == XR_BOOL ?
				   (v->c.i ? XT : XF) : XU);
	} else if (v->t == XT_BOOL || v->t == XT_DYN) {
		it->p = xnew_pred(p, XP_BOOL);
		if (it->p)
			it->p->a = v;
	} else {
		return xterr(p, "cannot use %s as a boolean expression",
			    xmname(v->ft));
	}
	if (!it->p)
		return -ENOMEM;
	it->v = NULL;
	return 0;
}

/* ---- the levels ---- */

/* An n-ary and/or node from kids, folding constants and flattening. */
static int make_nary(struct parser *p, enum xpk k, struct xpred **kids,
		     size_t n, struct xpred **out)
{
	uint8_t absorb = k == XP_AND ? XF : XT;   /* decides the result */
	uint8_t unit = k == XP_AND ? XT : XF;     /* drops out */
	size_t m = 0, total = 0;

	for (size_t i = 0; i < n; i++)
		total += kids[i]->k == k ? kids[i]->nkids : 1;
	struct xpred **v = xalloc(p->x, (total ? total : 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct xpred *kid = kids[i];

		if (kid->k == XP_CONST && kid->tv == absorb) {
			*out = kid;
			return 0;
		}
		if (kid->k == XP_CONST && kid->tv == unit)
			continue;
		if (kid->k == k) {
			memcpy(v + m, kid->kids, kid->nkids * sizeof(*v));
			m += kid->nkids;
		} else {
			v[m++] = kid;
		}
	}
	if (m == 0) {
		*out = const_pred(p, unit);
		return *out ? 0 : -ENOMEM;
	}
	if (m == 1) {
		*out = v[0];
		return 0;
	}
	*out = xnew_pred(p, k);
	if (!*out)
		return -ENOMEM;
	(*out)->kids = v;
	(*out)->nkids = m;
	return 0;
}

static int parse_nary(struct parser *p, enum xpk k, struct xitem *out,
		      int (*sub)(struct parser *, struct xitem *))
{
	enum tk op = k == XP_OR ? T_OR : T_AND;
	struct xpred **kids = NULL;
	size_t n = 0, cap = 0;
	int rc;

	rc = sub(p, out);
	if (rc || xcur(p)->k != op)
		return rc;
	for (;;) {
		if ((rc = to_pred(p, out)))
			goto out_free;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			struct xpred **nk = realloc(kids, cap * sizeof(*nk));

			if (!nk) {
				rc = -ENOMEM;
				goto out_free;
			}
			kids = nk;
		}
		kids[n++] = out->p;
		if (xcur(p)->k != op)
			break;
		p->i++;
		size_t pos = xcur(p)->pos;

		if ((rc = sub(p, out)))
			goto out_free;
		out->pos = pos;
	}
	rc = make_nary(p, k, kids, n, &out->p);
out_free:
	free(kids);
	return rc;
}

static int parse_cmp(struct parser *p, struct xitem *out);

static int parse_not(struct parser *p, struct xitem *out)
{
	int rc;

	if (xcur(p)->k != T_NOT)
		return parse_cmp(p, out);
	size_t pos = xcur(p)->pos;

	p->i++;
	if ((rc = xenter(p)) || (rc = parse_not(p, out)) ||
	    (rc = to_pred(p, out)))
		return rc;
	p->depth--;
	if (out->p->k == XP_CONST) {
		out->p->tv = (uint8_t)(2 - out->p->tv);
	} else if (out->p->k == XP_NOT) {
		out->p = out->p->kids[0];
	} else {
		struct xpred *n = xnew_pred(p, XP_NOT);

		if (!n || !(n->kids = xalloc(p->x, sizeof(*n->kids))))
			return -ENOMEM;
		n->kids[0] = out->p;
		n->nkids = 1;
		out->p = n;
	}
	out->pos = pos;
	return 0;
}

static int parse_and(struct parser *p, struct xitem *out)
{
	return parse_nary(p, XP_AND, out, parse_not);
}

int xparse_or(struct parser *p, struct xitem *out)
{
	int rc = xenter(p);

	if (!rc)
		rc = parse_nary(p, XP_OR, out, parse_and);
	p->depth--;
	return rc;
}

/* a op b, folded when both are constants. */
static int make_cmp(struct parser *p, struct xval *a, int op, struct xval *b,
		    struct xpred **out)
{
	int rc = xcheck_cmp(p, a, b, op);

	if (rc)
		return rc;
	if (a->k == XV_CONST && b->k == XV_CONST) {
		*out = const_pred(p, xcmp(op, &a->c, &b->c));
	} else {
		*out = xnew_pred(p, XP_CMP);
		if (*out) {
			(*out)->a = a;
			(*out)->op = op;
			(*out)->b = b;
		}
	}
	return *out ? 0 : -ENOMEM;
}

bool xis_field_ref(const struct xval *v)
{
	return v->k == XV_COL || v->k == XV_ID || v->k == XV_PATH;
}

static int parse_cmp(struct parser *p, struct xitem *out)
{
	const struct tok *t = xcur(p);
	size_t pos = t->pos;
	int rc;

	if (t->k == T_EXISTS) {
		p->i++;
		if ((rc = xparse_atom(p, out)) || (rc = xto_value(p, out)))
			return rc;
		struct xval *v = out->v;

		if (v->t != XT_DYN || !xis_field_ref(v))
			return xterr(p, "exists expects a JSON field, got %s",
				    xuname(v->ft));
		out->p = xnew_pred(p, XP_EXISTS);
		if (!out->p)
			return -ENOMEM;
		out->p->a = v;
		out->v = NULL;
		out->pos = pos;
		return 0;
	}
	if ((rc = xparse_sum(p, out)))
		return rc;
	t = xcur(p);
	if (t->k == T_CMP) {
		struct xitem b, c;
		int op1 = t->op, op2;
		struct xpred *k2[2];

		if ((rc = xto_value(p, out)))
			return rc;
		p->i++;
		if ((rc = xparse_sum(p, &b)) || (rc = xto_value(p, &b)))
			return rc;
		if (xcur(p)->k != T_CMP)
			return make_cmp(p, out->v, op1, b.v, &out->p);
		op2 = xcur(p)->op;
		bool up = (op1 == XO_LT || op1 == XO_LE) &&
			  (op2 == XO_LT || op2 == XO_LE);
		bool down = (op1 == XO_GT || op1 == XO_GE) &&
			    (op2 == XO_GT || op2 == XO_GE);

		if (!up && !down)
			return xperr(p, xcur(p)->pos,
				    "chained comparison '%s' after '%s' (expected both of < <= or both of > >=)",
				    opname(op2), opname(op1));
		p->i++;
		if ((rc = xparse_sum(p, &c)) || (rc = xto_value(p, &c)))
			return rc;
		if ((rc = make_cmp(p, out->v, op1, b.v, &k2[0])) ||
		    (rc = make_cmp(p, b.v, op2, c.v, &k2[1])))
			return rc;
		if (xcur(p)->k == T_CMP)
			return xunexpected(p);
		rc = make_nary(p, XP_AND, k2, 2, &out->p);
		out->v = NULL;
		return rc;
	}
	if (t->k == T_IN || (t->k == T_NOT && xpeek2(p)->k == T_IN)) {
		bool neg = t->k == T_NOT;
		struct xitem l;

		if ((rc = xto_value(p, out)))
			return rc;
		p->i += neg ? 2 : 1;
		if (xcur(p)->k != T_LB)
			return xperr(p, xcur(p)->pos, "expected an array after in");
		if ((rc = xparse_atom(p, &l)))
			return rc;
		struct xval *v = out->v;

		for (size_t k = 0; k < l.v->nitems; k++) {
			struct xval *e = xconst_val(p, &l.v->items[k]);

			if (!e)
				return -ENOMEM;
			if ((rc = xcheck_cmp(p, v, e, XO_EQ)))
				return rc;
		}
		out->p = xnew_pred(p, XP_IN);
		if (!out->p)
			return -ENOMEM;
		out->p->a = v;
		out->p->b = l.v;
		out->p->neg = neg;
		out->v = NULL;
		return 0;
	}
	if (t->k == T_LIKE) {
		if ((rc = xto_value(p, out)))
			return rc;
		p->i++;
		if (xcur(p)->k != T_STR)
			return xperr(p, xcur(p)->pos, "expected a string after like");
		struct xval *v = out->v;

		if (v->t != XT_STR && v->t != XT_DYN)
			return xterr(p, "cannot use like on a field of type %s",
				    xmname(v->ft));
		out->p = xnew_pred(p, XP_LIKE);
		if (!out->p)
			return -ENOMEM;
		out->p->a = v;
		if ((rc = xpat_compile(p->x, xcur(p)->s, xcur(p)->slen,
				       &out->p->pat)))
			return rc;
		p->i++;
		out->v = NULL;
		return 0;
	}
	if (t->k == T_IS) {
		bool neg = false;

		if ((rc = xto_value(p, out)))
			return rc;
		p->i++;
		if (xcur(p)->k == T_NOT) {
			neg = true;
			p->i++;
		}
		if ((rc = xexpect(p, T_NULL)))
			return rc;
		if (!xis_field_ref(out->v))
			return xperr(p, pos, "is null expects a field");
		out->p = xnew_pred(p, XP_NULL);
		if (!out->p)
			return -ENOMEM;
		out->p->a = out->v;
		out->p->neg = neg;
		out->v = NULL;
		return 0;
	}
	return 0;
}

int fld_expr_parse(const char *text, size_t len, const struct fld_schema *s,
		   struct fld_expr **out, struct mfs_err *err)
{
	struct parser p = { .text = text, .len = len, .err = err };
	struct xitem it;
	size_t i;
	int rc;

	if (len > FLD_EXPR_MAX)
		return mfs_errf(err, -EINVAL,
				"expression too long: %zu bytes, at most %d",
				len, FLD_EXPR_MAX);
	for (i = 0; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' &&
		    text[i] != '\r')
			break;
	if (i == len)
		return mfs_errf(err, -EINVAL, "expression is empty");
	p.x = calloc(1, sizeof(*p.x));
	if (!p.x)
		return -ENOMEM;
	p.x->s = s;
	if ((rc = xlex(&p)) || (rc = xparse_or(&p, &it)))
		goto out_free;
	if (xcur(&p)->k != T_END) {
		rc = xunexpected(&p);
		goto out_free;
	}
	if ((rc = to_pred(&p, &it)) || (rc = xplan(p.x, it.p)))
		goto out_free;
	p.x->root = it.p;
	free(p.t);
	*out = p.x;
	return 0;
out_free:
	if (rc == -ENOMEM)
		mfs_errf(err, rc, "out of memory parsing an expression");
	free(p.t);
	fld_expr_free(p.x);
	return rc;
}
