/* expr_parse.c - Milvus boolean expressions: a precedence-climbing parser
 * of the lexer's tokens (expr_lex.c) to a typed tree (expr_int.h), and
 * type checking against a schema.
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
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static const struct tok *cur(const struct parser *p)
{
	return &p->t[p->i];
}

static const struct tok *peek2(const struct parser *p)
{
	return p->i + 1 < p->nt ? &p->t[p->i + 1] : &p->t[p->nt - 1];
}

static int unexpected(struct parser *p)
{
	const struct tok *t = cur(p);

	if (t->k == T_END)
		return xperr(p, t->pos, "unexpected end of expression");
	return xperr(p, t->pos, "unexpected token '%.*s'",
		    (int)(t->len > 40 ? 40 : t->len), p->text + t->pos);
}

static int expect(struct parser *p, enum tk k)
{
	if (cur(p)->k != k)
		return unexpected(p);
	p->i++;
	return 0;
}

static int enter(struct parser *p)
{
	if (++p->depth > FLD_EXPR_DEPTH_MAX)
		return xperr(p, cur(p)->pos, "nesting deeper than %d",
			    FLD_EXPR_DEPTH_MAX);
	return 0;
}

/* Milvus's names of types, as its messages print them. */
static const char *mname(enum fld_type t)
{
	static const char *const n[] = {
		"None", "Bool", "Int8", "Int16", "Int32", "Int64", "Float",
		"Double", "VarChar", "JSON", "Array"
	};

	return (unsigned)t < sizeof(n) / sizeof(*n) ? n[t] : "?";
}

/* Ours (field.h's fld_type_name, kept local to stay a leaf). */
static const char *uname(enum fld_type t)
{
	static const char *const n[] = {
		"NONE", "BOOL", "INT8", "INT16", "INT32", "INT64", "FLOAT",
		"DOUBLE", "VARCHAR", "JSON", "ARRAY"
	};

	return (unsigned)t < sizeof(n) / sizeof(*n) ? n[t] : "?";
}

static enum xt xt_of(enum fld_type t)
{
	switch (t) {
	case FLD_BOOL: return XT_BOOL;
	case FLD_INT8: case FLD_INT16: case FLD_INT32: case FLD_INT64:
		return XT_INT;
	case FLD_FLOAT: case FLD_DOUBLE: return XT_FLT;
	case FLD_VARCHAR: return XT_STR;
	case FLD_ARRAY: return XT_ARRAY;
	default: return XT_DYN;
	}
}

static int find_field(const struct fld_schema *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->f[i].name, name) ||
		    (s->f[i].dynamic && !strcmp(name, FLD_META)))
			return (int)i;
	return -1;
}

struct item {
	struct xpred *p;                /* a predicate, or */
	struct xval *v;                 /* a value */
	size_t pos;
};

static struct xval *new_val(struct parser *p, enum xvk k, enum xt t,
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

static struct xpred *new_pred(struct parser *p, enum xpk k)
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
	struct xpred *r = new_pred(p, XP_CONST);

	if (r)
		r->tv = tv;
	return r;
}

static struct xval *const_val(struct parser *p, const struct xrv *c)
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
	struct xval *v = new_val(p, XV_CONST, xt[c->k], ft[c->k]);

	if (v)
		v->c = *c;
	return v;
}

static bool is_num(enum xt t)
{
	return t == XT_INT || t == XT_FLT;
}

static const char *opname(int op)
{
	static const char *const n[] = { "?", "==", "!=", "<", "<=", ">", ">=" };

	return n[op];
}

/* May a op b be compared?  Element types stand for arrays' elements. */
static int check_cmp(struct parser *p, const struct xval *a,
		     const struct xval *b, int op)
{
	bool ok;

	if (a->t == XT_ARRAY || a->t == XT_LIST || b->t == XT_ARRAY ||
	    b->t == XT_LIST)
		ok = false;
	else if (a->t == XT_DYN || b->t == XT_DYN)
		ok = true;
	else if (is_num(a->t) && is_num(b->t))
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
			    mname(a->ft), mname(b->ft));
	return 0;
}

static int to_value(struct parser *p, struct item *it)
{
	if (it->p)
		return xperr(p, it->pos,
			    "a boolean expression cannot be an operand");
	return 0;
}

static int to_pred(struct parser *p, struct item *it)
{
	struct xval *v = it->v;

	if (it->p)
		return 0;
	if (v->t == XT_BOOL && v->k == XV_CONST) {
		it->p = const_pred(p, v->c.k == XR_BOOL ?
				   (v->c.i ? XT : XF) : XU);
	} else if (v->t == XT_BOOL || v->t == XT_DYN) {
		it->p = new_pred(p, XP_BOOL);
		if (it->p)
			it->p->a = v;
	} else {
		return xterr(p, "cannot use %s as a boolean expression",
			    mname(v->ft));
	}
	if (!it->p)
		return -ENOMEM;
	it->v = NULL;
	return 0;
}

/* ---- the levels ---- */

static int parse_or(struct parser *p, struct item *out);
static int parse_sum(struct parser *p, struct item *out);

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
	*out = new_pred(p, k);
	if (!*out)
		return -ENOMEM;
	(*out)->kids = v;
	(*out)->nkids = m;
	return 0;
}

static int parse_nary(struct parser *p, enum xpk k, struct item *out,
		      int (*sub)(struct parser *, struct item *))
{
	enum tk op = k == XP_OR ? T_OR : T_AND;
	struct xpred **kids = NULL;
	size_t n = 0, cap = 0;
	int rc;

	rc = sub(p, out);
	if (rc || cur(p)->k != op)
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
		if (cur(p)->k != op)
			break;
		p->i++;
		size_t pos = cur(p)->pos;

		if ((rc = sub(p, out)))
			goto out_free;
		out->pos = pos;
	}
	rc = make_nary(p, k, kids, n, &out->p);
out_free:
	free(kids);
	return rc;
}

static int parse_cmp(struct parser *p, struct item *out);

static int parse_not(struct parser *p, struct item *out)
{
	int rc;

	if (cur(p)->k != T_NOT)
		return parse_cmp(p, out);
	size_t pos = cur(p)->pos;

	p->i++;
	if ((rc = enter(p)) || (rc = parse_not(p, out)) ||
	    (rc = to_pred(p, out)))
		return rc;
	p->depth--;
	if (out->p->k == XP_CONST) {
		out->p->tv = (uint8_t)(2 - out->p->tv);
	} else if (out->p->k == XP_NOT) {
		out->p = out->p->kids[0];
	} else {
		struct xpred *n = new_pred(p, XP_NOT);

		if (!n || !(n->kids = xalloc(p->x, sizeof(*n->kids))))
			return -ENOMEM;
		n->kids[0] = out->p;
		n->nkids = 1;
		out->p = n;
	}
	out->pos = pos;
	return 0;
}

static int parse_and(struct parser *p, struct item *out)
{
	return parse_nary(p, XP_AND, out, parse_not);
}

static int parse_or(struct parser *p, struct item *out)
{
	int rc = enter(p);

	if (!rc)
		rc = parse_nary(p, XP_OR, out, parse_and);
	p->depth--;
	return rc;
}

/* a op b, folded when both are constants. */
static int make_cmp(struct parser *p, struct xval *a, int op, struct xval *b,
		    struct xpred **out)
{
	int rc = check_cmp(p, a, b, op);

	if (rc)
		return rc;
	if (a->k == XV_CONST && b->k == XV_CONST) {
		*out = const_pred(p, xcmp(op, &a->c, &b->c));
	} else {
		*out = new_pred(p, XP_CMP);
		if (*out) {
			(*out)->a = a;
			(*out)->op = op;
			(*out)->b = b;
		}
	}
	return *out ? 0 : -ENOMEM;
}

static bool is_field_ref(const struct xval *v)
{
	return v->k == XV_COL || v->k == XV_ID || v->k == XV_PATH;
}

static int parse_atom(struct parser *p, struct item *out);

static int parse_cmp(struct parser *p, struct item *out)
{
	const struct tok *t = cur(p);
	size_t pos = t->pos;
	int rc;

	if (t->k == T_EXISTS) {
		p->i++;
		if ((rc = parse_atom(p, out)) || (rc = to_value(p, out)))
			return rc;
		struct xval *v = out->v;

		if (v->t != XT_DYN || !is_field_ref(v))
			return xterr(p, "exists expects a JSON field, got %s",
				    uname(v->ft));
		out->p = new_pred(p, XP_EXISTS);
		if (!out->p)
			return -ENOMEM;
		out->p->a = v;
		out->v = NULL;
		out->pos = pos;
		return 0;
	}
	if ((rc = parse_sum(p, out)))
		return rc;
	t = cur(p);
	if (t->k == T_CMP) {
		struct item b, c;
		int op1 = t->op, op2;
		struct xpred *k2[2];

		if ((rc = to_value(p, out)))
			return rc;
		p->i++;
		if ((rc = parse_sum(p, &b)) || (rc = to_value(p, &b)))
			return rc;
		if (cur(p)->k != T_CMP)
			return make_cmp(p, out->v, op1, b.v, &out->p);
		op2 = cur(p)->op;
		bool up = (op1 == XO_LT || op1 == XO_LE) &&
			  (op2 == XO_LT || op2 == XO_LE);
		bool down = (op1 == XO_GT || op1 == XO_GE) &&
			    (op2 == XO_GT || op2 == XO_GE);

		if (!up && !down)
			return xperr(p, cur(p)->pos,
				    "chained comparison '%s' after '%s' (expected both of < <= or both of > >=)",
				    opname(op2), opname(op1));
		p->i++;
		if ((rc = parse_sum(p, &c)) || (rc = to_value(p, &c)))
			return rc;
		if ((rc = make_cmp(p, out->v, op1, b.v, &k2[0])) ||
		    (rc = make_cmp(p, b.v, op2, c.v, &k2[1])))
			return rc;
		if (cur(p)->k == T_CMP)
			return unexpected(p);
		rc = make_nary(p, XP_AND, k2, 2, &out->p);
		out->v = NULL;
		return rc;
	}
	if (t->k == T_IN || (t->k == T_NOT && peek2(p)->k == T_IN)) {
		bool neg = t->k == T_NOT;
		struct item l;

		if ((rc = to_value(p, out)))
			return rc;
		p->i += neg ? 2 : 1;
		if (cur(p)->k != T_LB)
			return xperr(p, cur(p)->pos, "expected an array after in");
		if ((rc = parse_atom(p, &l)))
			return rc;
		struct xval *v = out->v;

		for (size_t k = 0; k < l.v->nitems; k++) {
			struct xval *e = const_val(p, &l.v->items[k]);

			if (!e)
				return -ENOMEM;
			if ((rc = check_cmp(p, v, e, XO_EQ)))
				return rc;
		}
		out->p = new_pred(p, XP_IN);
		if (!out->p)
			return -ENOMEM;
		out->p->a = v;
		out->p->b = l.v;
		out->p->neg = neg;
		out->v = NULL;
		return 0;
	}
	if (t->k == T_LIKE) {
		if ((rc = to_value(p, out)))
			return rc;
		p->i++;
		if (cur(p)->k != T_STR)
			return xperr(p, cur(p)->pos, "expected a string after like");
		struct xval *v = out->v;

		if (v->t != XT_STR && v->t != XT_DYN)
			return xterr(p, "cannot use like on a field of type %s",
				    mname(v->ft));
		out->p = new_pred(p, XP_LIKE);
		if (!out->p)
			return -ENOMEM;
		out->p->a = v;
		if ((rc = xpat_compile(p->x, cur(p)->s, cur(p)->slen,
				       &out->p->pat)))
			return rc;
		p->i++;
		out->v = NULL;
		return 0;
	}
	if (t->k == T_IS) {
		bool neg = false;

		if ((rc = to_value(p, out)))
			return rc;
		p->i++;
		if (cur(p)->k == T_NOT) {
			neg = true;
			p->i++;
		}
		if ((rc = expect(p, T_NULL)))
			return rc;
		if (!is_field_ref(out->v))
			return xperr(p, pos, "is null expects a field");
		out->p = new_pred(p, XP_NULL);
		if (!out->p)
			return -ENOMEM;
		out->p->a = out->v;
		out->p->neg = neg;
		out->v = NULL;
		return 0;
	}
	return 0;
}

static int make_arith(struct parser *p, int op, struct item *a,
		      struct item *b)
{
	struct xval *x = a->v, *y = b ? b->v : NULL;
	const char opc[2] = { (char)op, 0 };

	if (!is_num(x->t) && x->t != XT_DYN)
		return xterr(p, "arithmetic operator '%s' is not supported on %s",
			    opc, mname(x->ft));
	if (y && !is_num(y->t) && y->t != XT_DYN)
		return xterr(p, "arithmetic operator '%s' is not supported on %s",
			    opc, mname(y->ft));
	unsigned h = (y && y->h > x->h ? y->h : x->h) + 1;

	if (h > FLD_EXPR_DEPTH_MAX)
		return xperr(p, a->pos, "nesting deeper than %d",
			    FLD_EXPR_DEPTH_MAX);
	if (x->k == XV_CONST && (!y || y->k == XV_CONST)) {
		struct xrv r;

		xarith(op, &x->c, y ? &y->c : NULL, &r);
		/* an undefined constant (1 / 0) keeps the operands' type */
		a->v = const_val(p, &r);
		if (a->v && r.k == XR_UNK) {
			a->v->t = (x->t == XT_FLT || (y && y->t == XT_FLT)) ?
				  XT_FLT : XT_INT;
			a->v->ft = a->v->t == XT_FLT ? FLD_DOUBLE : FLD_INT64;
		}
		return a->v ? 0 : -ENOMEM;
	}
	struct xval *v = new_val(p, y ? XV_ARITH : XV_NEG, XT_INT, FLD_INT64);

	if (!v)
		return -ENOMEM;
	if (x->t == XT_DYN || (y && y->t == XT_DYN)) {
		v->t = XT_DYN;
		v->ft = FLD_JSON;
	} else if (x->t == XT_FLT || (y && y->t == XT_FLT)) {
		v->t = XT_FLT;
		v->ft = FLD_DOUBLE;
	}
	v->op = op;
	v->a = x;
	v->b = y;
	v->h = h;
	a->v = v;
	return 0;
}

static int parse_unary(struct parser *p, struct item *out)
{
	const struct tok *t = cur(p);
	int rc;

	if (t->k != T_MINUS)
		return parse_atom(p, out);
	size_t pos = t->pos;

	p->i++;
	if (cur(p)->k == T_INT && cur(p)->u == (uint64_t)1 << 63) {
		struct xrv c = { .k = XR_INT, .i = INT64_MIN };

		p->i++;
		out->p = NULL;
		out->v = const_val(p, &c);
		out->pos = pos;
		return out->v ? 0 : -ENOMEM;
	}
	if ((rc = enter(p)) || (rc = parse_unary(p, out)) ||
	    (rc = to_value(p, out)))
		return rc;
	p->depth--;
	out->pos = pos;
	return make_arith(p, '-', out, NULL);
}

static int parse_prod(struct parser *p, struct item *out)
{
	int rc = parse_unary(p, out);

	while (!rc && (cur(p)->k == T_STAR || cur(p)->k == T_SLASH ||
		       cur(p)->k == T_PCT)) {
		int op = cur(p)->k == T_STAR ? '*' : cur(p)->k == T_SLASH ?
			 '/' : '%';
		struct item b;

		if ((rc = to_value(p, out)))
			break;
		p->i++;
		if ((rc = parse_unary(p, &b)) || (rc = to_value(p, &b)))
			break;
		rc = make_arith(p, op, out, &b);
	}
	return rc;
}

static int parse_sum(struct parser *p, struct item *out)
{
	int rc = parse_prod(p, out);

	while (!rc && (cur(p)->k == T_PLUS || cur(p)->k == T_MINUS)) {
		int op = cur(p)->k == T_PLUS ? '+' : '-';
		struct item b;

		if ((rc = to_value(p, out)))
			break;
		p->i++;
		if ((rc = parse_prod(p, &b)) || (rc = to_value(p, &b)))
			break;
		rc = make_arith(p, op, out, &b);
	}
	return rc;
}

static int parse_list(struct parser *p, struct item *out)
{
	size_t n = 0, cap = 0;
	struct xrv *v = NULL;
	int rc = 0;

	p->i++;                                 /* [ */
	while (cur(p)->k != T_RB) {
		struct item e;

		if (n && (rc = expect(p, T_COMMA)))
			goto out_free;
		if (n && cur(p)->k == T_RB)     /* a trailing comma */
			break;
		size_t pos = cur(p)->pos;

		if (cur(p)->k == T_LB) {
			rc = xperr(p, pos, "nested arrays are not supported");
			goto out_free;
		}
		if ((rc = parse_sum(p, &e)))
			goto out_free;
		if (e.p || e.v->k != XV_CONST) {
			rc = xperr(p, pos, "array elements must be literals");
			goto out_free;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct xrv *nv = realloc(v, cap * sizeof(*nv));

			if (!nv) {
				rc = -ENOMEM;
				goto out_free;
			}
			v = nv;
		}
		v[n++] = e.v->c;
	}
	p->i++;                                 /* ] */
	out->p = NULL;
	out->v = new_val(p, XV_LIST, XT_LIST, FLD_ARRAY);
	if (!out->v || !(out->v->items = xalloc(p->x, (n ? n : 1) * sizeof(*v)))) {
		rc = -ENOMEM;
		goto out_free;
	}
	if (n)
		memcpy(out->v->items, v, n * sizeof(*v));
	out->v->nitems = n;
out_free:
	free(v);
	return rc;
}

/* name ("[" (string | integer) "]")*: a field, id, or a JSON path. */
static int parse_path(struct parser *p, struct item *out)
{
	const struct tok *t = cur(p);
	const struct fld_schema *s = p->x->s;
	struct xstep st[FLD_EXPR_DEPTH_MAX + 1];
	size_t ns = 0, pos = t->pos;
	const char *name = t->s;
	int f = find_field(s, name);

	p->i++;
	if (f < 0 && !strcmp(name, "id")) {
		if (cur(p)->k == T_LB)
			return xterr(p, "field id of type INT64 cannot be indexed");
		out->v = new_val(p, XV_ID, XT_INT, FLD_INT64);
		return out->v ? 0 : -ENOMEM;
	}
	if (f < 0) {
		if (!s->dynamic || (f = find_field(s, FLD_META)) < 0)
			return xterr(p, "field %s not exist", name);
		st[ns++] = (struct xstep){ .key = name };
	}
	while (cur(p)->k == T_LB) {
		const struct tok *k = peek2(p);

		if (ns > FLD_EXPR_DEPTH_MAX)
			return xperr(p, cur(p)->pos, "nesting deeper than %d",
				    FLD_EXPR_DEPTH_MAX);
		p->i++;
		if (k->k == T_STR)
			st[ns++] = (struct xstep){ .key = k->s };
		else if (k->k == T_INT && k->u < (uint64_t)1 << 63)
			st[ns++] = (struct xstep){ .idx = (int64_t)k->u };
		else
			return xperr(p, k->pos,
				    "expected a string or an integer index");
		p->i++;
		int rc = expect(p, T_RB);

		if (rc)
			return rc;
	}
	const struct fld_def *d = &s->f[f];

	if (ns == 0) {
		out->v = new_val(p, XV_COL, xt_of(d->type), d->type);
	} else if (d->type == FLD_JSON) {
		out->v = new_val(p, XV_PATH, XT_DYN, FLD_JSON);
	} else if (d->type == FLD_ARRAY) {
		if (ns != 1 || st[0].key)
			return xperr(p, pos,
				    "field %s of type ARRAY takes one integer index",
				    d->name);
		out->v = new_val(p, XV_PATH, xt_of(d->elem), d->elem);
	} else {
		return xterr(p, "field %s of type %s cannot be indexed", d->name,
			    uname(d->type));
	}
	if (!out->v)
		return -ENOMEM;
	out->v->f = f;
	if (ns) {
		struct xstep *cp = xalloc(p->x, ns * sizeof(*cp));

		if (!cp)
			return -ENOMEM;
		memcpy(cp, st, ns * sizeof(*cp));
		out->v->steps = cp;
		out->v->nsteps = ns;
	}
	return 0;
}

static const struct {
	const char *name;
	int fn;                         /* XFN_*, 0: array_length */
	bool json;
} funcs[] = {
	{ "array_contains", XFN_CONTAINS, false },
	{ "array_contains_all", XFN_CONTAINS_ALL, false },
	{ "array_contains_any", XFN_CONTAINS_ANY, false },
	{ "array_length", 0, false },
	{ "json_contains", XFN_CONTAINS, true },
	{ "json_contains_all", XFN_CONTAINS_ALL, true },
	{ "json_contains_any", XFN_CONTAINS_ANY, true },
};

static int parse_call(struct parser *p, struct item *out)
{
	const struct tok *t = cur(p);
	size_t pos = t->pos, nf = sizeof(funcs) / sizeof(*funcs), k;
	struct item arg[3];
	size_t na = 0;
	int rc;

	for (k = 0; k < nf; k++)
		if (!strcasecmp(funcs[k].name, t->s))
			break;
	if (k == nf)
		return xperr(p, pos, "unknown function %s", t->s);
	const char *fname = funcs[k].name;
	size_t want = funcs[k].fn ? 2 : 1;

	p->i += 2;
	while (cur(p)->k != T_RP) {
		if (na && (rc = expect(p, T_COMMA)))
			return rc;
		if (na == 3)
			return xperr(p, cur(p)->pos,
				    "%s() takes %zu argument%s", fname, want,
				    want > 1 ? "s" : "");
		if ((rc = parse_sum(p, &arg[na])) ||
		    (rc = to_value(p, &arg[na])))
			return rc;
		na++;
	}
	p->i++;
	if (na != want)
		return xperr(p, pos, "%s() takes %zu argument%s, got %zu",
			    fname, want, want > 1 ? "s" : "", na);
	struct xval *a = arg[0].v;

	if (!is_field_ref(a) || (a->t != XT_ARRAY && a->t != XT_DYN))
		return xterr(p, "%s() expects %s field, got %s", fname,
			    funcs[k].json ? "a JSON" : "an ARRAY",
			    uname(a->ft));
	if (!funcs[k].fn) {
		out->v = new_val(p, XV_ALEN, XT_INT, FLD_INT64);
		if (!out->v)
			return -ENOMEM;
		out->v->a = a;
		out->p = NULL;
		return 0;
	}
	struct xval *b = arg[1].v;

	if (funcs[k].fn == XFN_CONTAINS) {
		if (b->k != XV_CONST)
			return xperr(p, arg[1].pos,
				    "%s() expects a literal value", fname);
		/* one value: a list of one */
		struct xval *l = new_val(p, XV_LIST, XT_LIST, FLD_ARRAY);

		if (!l || !(l->items = xalloc(p->x, sizeof(*l->items))))
			return -ENOMEM;
		l->items[0] = b->c;
		l->nitems = 1;
		b = l;
	} else if (b->k != XV_LIST) {
		return xperr(p, arg[1].pos, "%s() expects an array of values",
			    fname);
	}
	if (a->t == XT_ARRAY) {
		const struct fld_def *d = &p->x->s->f[a->f];
		struct xval e0 = { .t = xt_of(d->elem), .ft = d->elem };

		for (size_t i = 0; i < b->nitems; i++) {
			struct xval *e = const_val(p, &b->items[i]);

			if (!e)
				return -ENOMEM;
			if ((rc = check_cmp(p, &e0, e, XO_EQ)))
				return rc;
		}
	}
	out->p = new_pred(p, XP_FN);
	if (!out->p)
		return -ENOMEM;
	out->p->op = funcs[k].fn;
	out->p->a = a;
	out->p->b = b;
	out->v = NULL;
	return 0;
}

static int parse_atom(struct parser *p, struct item *out)
{
	const struct tok *t = cur(p);
	struct xrv c = { 0 };
	int rc;

	out->p = NULL;
	out->v = NULL;
	out->pos = t->pos;
	switch (t->k) {
	case T_INT:
		if (t->u > INT64_MAX)
			return xperr(p, t->pos, "integer out of range");
		c.k = XR_INT;
		c.i = (int64_t)t->u;
		break;
	case T_FLT:
		c.k = XR_FLT;
		c.d = t->d;
		break;
	case T_STR:
		c.k = XR_STR;
		c.s = t->s;
		c.len = t->slen;
		break;
	case T_TRUE:
	case T_FALSE:
		c.k = XR_BOOL;
		c.i = t->k == T_TRUE;
		break;
	case T_LB:
		return parse_list(p, out);
	case T_LP:
		p->i++;
		if ((rc = parse_or(p, out)))
			return rc;
		out->pos = t->pos;
		return expect(p, T_RP);
	case T_NAME:
		if (peek2(p)->k == T_LP)
			return parse_call(p, out);
		return parse_path(p, out);
	default:
		return unexpected(p);
	}
	p->i++;
	out->v = const_val(p, &c);
	return out->v ? 0 : -ENOMEM;
}

int fld_expr_parse(const char *text, size_t len, const struct fld_schema *s,
		   struct fld_expr **out, struct mfs_err *err)
{
	struct parser p = { .text = text, .len = len, .err = err };
	struct item it;
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
	if ((rc = xlex(&p)) || (rc = parse_or(&p, &it)))
		goto out_free;
	if (cur(&p)->k != T_END) {
		rc = unexpected(&p);
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
