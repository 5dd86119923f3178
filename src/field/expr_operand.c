/* expr_operand.c - the operand levels of the expression parser (the
 * grammar: expr_parse.c): arithmetic (sum, prod, unary minus, folded when
 * constant), array literals, fields, id and JSON or ARRAY paths, the
 * array and JSON functions, and literals; type-checked against the
 * schema as they are built.
 */
#include "field/expr_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static int make_arith(struct parser *p, int op, struct xitem *a,
		      struct xitem *b)
{
	struct xval *x = a->v, *y = b ? b->v : NULL;
	const char opc[2] = { (char)op, 0 };

	if (!xis_num(x->t) && x->t != XT_DYN)
		return xterr(p, "arithmetic operator '%s' is not supported on %s",
			    opc, xmname(x->ft));
	if (y && !xis_num(y->t) && y->t != XT_DYN)
		return xterr(p, "arithmetic operator '%s' is not supported on %s",
			    opc, xmname(y->ft));
	unsigned h = (y && y->h > x->h ? y->h : x->h) + 1;

	if (h > FLD_EXPR_DEPTH_MAX)
		return xperr(p, a->pos, "nesting deeper than %d",
			    FLD_EXPR_DEPTH_MAX);
	if (x->k == XV_CONST && (!y || y->k == XV_CONST)) {
		struct xrv r;

		xarith(op, &x->c, y ? &y->c : NULL, &r);
		/* an undefined constant (1 / 0) keeps the operands' type */
		a->v = xconst_val(p, &r);
		if (a->v && r.k == XR_UNK) {
			a->v->t = (x->t == XT_FLT || (y && y->t == XT_FLT)) ?
				  XT_FLT : XT_INT;
			a->v->ft = a->v->t == XT_FLT ? FLD_DOUBLE : FLD_INT64;
		}
		return a->v ? 0 : -ENOMEM;
	}
	struct xval *v = xnew_val(p, y ? XV_ARITH : XV_NEG, XT_INT, FLD_INT64);

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

static int parse_unary(struct parser *p, struct xitem *out)
{
	const struct tok *t = xcur(p);
	int rc;

	if (t->k != T_MINUS)
		return xparse_atom(p, out);
	size_t pos = t->pos;

	p->i++;
	if (xcur(p)->k == T_INT && xcur(p)->u == (uint64_t)1 << 63) {
		struct xrv c = { .k = XR_INT, .i = INT64_MIN };

		p->i++;
		out->p = NULL;
		out->v = xconst_val(p, &c);
		out->pos = pos;
		return out->v ? 0 : -ENOMEM;
	}
	if ((rc = xenter(p)) || (rc = parse_unary(p, out)) ||
	    (rc = xto_value(p, out)))
		return rc;
	p->depth--;
	out->pos = pos;
	return make_arith(p, '-', out, NULL);
}

static int parse_prod(struct parser *p, struct xitem *out)
{
	int rc = parse_unary(p, out);

	while (!rc && (xcur(p)->k == T_STAR || xcur(p)->k == T_SLASH ||
		       xcur(p)->k == T_PCT)) {
		int op = xcur(p)->k == T_STAR ? '*' : xcur(p)->k == T_SLASH ?
			 '/' : '%';
		struct xitem b;

		if ((rc = xto_value(p, out)))
			break;
		p->i++;
		if ((rc = parse_unary(p, &b)) || (rc = xto_value(p, &b)))
			break;
		rc = make_arith(p, op, out, &b);
	}
	return rc;
}

int xparse_sum(struct parser *p, struct xitem *out)
{
	int rc = parse_prod(p, out);

	while (!rc && (xcur(p)->k == T_PLUS || xcur(p)->k == T_MINUS)) {
		int op = xcur(p)->k == T_PLUS ? '+' : '-';
		struct xitem b;

		if ((rc = xto_value(p, out)))
			break;
		p->i++;
		if ((rc = parse_prod(p, &b)) || (rc = xto_value(p, &b)))
			break;
		rc = make_arith(p, op, out, &b);
	}
	return rc;
}

static int parse_list(struct parser *p, struct xitem *out)
{
	size_t n = 0, cap = 0;
	struct xrv *v = NULL;
	int rc = 0;

	p->i++;                                 /* [ */
	while (xcur(p)->k != T_RB) {
		struct xitem e;

		if (n && (rc = xexpect(p, T_COMMA)))
			goto out_free;
		if (n && xcur(p)->k == T_RB)     /* a trailing comma */
			break;
		size_t pos = xcur(p)->pos;

		if (xcur(p)->k == T_LB) {
			rc = xperr(p, pos, "nested arrays are not supported");
			goto out_free;
		}
		if ((rc = xparse_sum(p, &e)))
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
	out->v = xnew_val(p, XV_LIST, XT_LIST, FLD_ARRAY);
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
static int parse_path(struct parser *p, struct xitem *out)
{
	const struct tok *t = xcur(p);
	const struct fld_schema *s = p->x->s;
	struct xstep st[FLD_EXPR_DEPTH_MAX + 1];
	size_t ns = 0, pos = t->pos;
	const char *name = t->s;
	int f = find_field(s, name);

	p->i++;
	if (f < 0 && !strcmp(name, "id")) {
		if (xcur(p)->k == T_LB)
			return xterr(p, "field id of type INT64 cannot be indexed");
		out->v = xnew_val(p, XV_ID, XT_INT, FLD_INT64);
		return out->v ? 0 : -ENOMEM;
	}
	if (f < 0) {
		if (!s->dynamic || (f = find_field(s, FLD_META)) < 0)
			return xterr(p, "field %s not exist", name);
		st[ns++] = (struct xstep){ .key = name };
	}
	while (xcur(p)->k == T_LB) {
		const struct tok *k = xpeek2(p);

		if (ns > FLD_EXPR_DEPTH_MAX)
			return xperr(p, xcur(p)->pos, "nesting deeper than %d",
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
		int rc = xexpect(p, T_RB);

		if (rc)
			return rc;
	}
	const struct fld_def *d = &s->f[f];

	if (ns == 0) {
		out->v = xnew_val(p, XV_COL, xt_of(d->type), d->type);
	} else if (d->type == FLD_JSON) {
		out->v = xnew_val(p, XV_PATH, XT_DYN, FLD_JSON);
	} else if (d->type == FLD_ARRAY) {
		if (ns != 1 || st[0].key)
			return xperr(p, pos,
				    "field %s of type ARRAY takes one integer index",
				    d->name);
		out->v = xnew_val(p, XV_PATH, xt_of(d->elem), d->elem);
	} else {
		return xterr(p, "field %s of type %s cannot be indexed", d->name,
			    xuname(d->type));
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

static int parse_call(struct parser *p, struct xitem *out)
{
	const struct tok *t = xcur(p);
	size_t pos = t->pos, nf = sizeof(funcs) / sizeof(*funcs), k;
	struct xitem arg[3];
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
	while (xcur(p)->k != T_RP) {
		if (na && (rc = xexpect(p, T_COMMA)))
			return rc;
		if (na == 3)
			return xperr(p, xcur(p)->pos,
				    "%s() takes %zu argument%s", fname, want,
				    want > 1 ? "s" : "");
		if ((rc = xparse_sum(p, &arg[na])) ||
		    (rc = xto_value(p, &arg[na])))
			return rc;
		na++;
	}
	p->i++;
	if (na != want)
		return xperr(p, pos, "%s() takes %zu argument%s, got %zu",
			    fname, want, want > 1 ? "s" : "", na);
	struct xval *a = arg[0].v;

	if (!xis_field_ref(a) || (a->t != XT_ARRAY && a->t != XT_DYN))
		return xterr(p, "%s() expects %s field, got %s", fname,
			    funcs[k].json ? "a JSON" : "an ARRAY",
			    xuname(a->ft));
	if (!funcs[k].fn) {
		out->v = xnew_val(p, XV_ALEN, XT_INT, FLD_INT64);
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
		struct xval *l = xnew_val(p, XV_LIST, XT_LIST, FLD_ARRAY);

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
			struct xval *e = xconst_val(p, &b->items[i]);

			if (!e)
				return -ENOMEM;
			if ((rc = xcheck_cmp(p, &e0, e, XO_EQ)))
				return rc;
		}
	}
	out->p = xnew_pred(p, XP_FN);
	if (!out->p)
		return -ENOMEM;
	out->p->op = funcs[k].fn;
	out->p->a = a;
	out->p->b = b;
	out->v = NULL;
	return 0;
}

int xparse_atom(struct parser *p, struct xitem *out)
{
	const struct tok *t = xcur(p);
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
		if ((rc = xparse_or(p, out)))
			return rc;
		out->pos = t->pos;
		return xexpect(p, T_RP);
	case T_NAME:
		if (xpeek2(p)->k == T_LP)
			return parse_call(p, out);
		return parse_path(p, out);
	default:
		return xunexpected(p);
	}
	p->i++;
	out->v = xconst_val(p, &c);
	return out->v ? 0 : -ENOMEM;
}

