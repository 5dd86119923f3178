/* expr_int.h - the parsed form of an expression (expr.h), shared by the
 * parser (expr_lex.c, expr_parse.c, expr_operand.c), the planner
 * (expr_plan.c), the evaluator (expr_row.c, expr_eval.c) and the scalar
 * indexes (sidx.c).
 *
 * A parsed expression is a tree of predicates (struct xpred) whose leaves
 * compare values (struct xval: constants, columns, JSON paths, arithmetic).
 * Every node, string and table lives in the expression's arena and is freed
 * with it; the tree is immutable once fld_expr_parse returns (subtrees may
 * be shared: a chained range `1 < a <= 5` uses `a` twice).
 *
 * Truth is three-valued and encoded so that `and` is min, `or` is max and
 * `not` is 2 - t:  XF (false) = 0, XU (unknown) = 1, XT (true) = 2.
 */
#ifndef MFS_FIELD_EXPR_INT_H
#define MFS_FIELD_EXPR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "field/expr.h"
#include "field/field.h"

#define XF 0
#define XU 1
#define XT 2

#define XBLOCK 512                      /* rows per evaluation block */

/* Static types of values, checked at parse time. */
enum xt {
	XT_INT = 1,                     /* INT8..INT64, id, integer literal */
	XT_FLT,                         /* FLOAT, DOUBLE, float literal */
	XT_STR,                         /* VARCHAR, string literal */
	XT_BOOL,                        /* BOOL, true/false */
	XT_DYN,                         /* a JSON value: typed per row */
	XT_ARRAY,                       /* a whole ARRAY field */
	XT_LIST                         /* an array literal [..] */
};

/* A value at run time (one row) or a literal. */
enum xr {
	XR_UNK = 0,                     /* null, missing, undefined (x / 0) */
	XR_INT,
	XR_FLT,
	XR_STR,
	XR_BOOL,                        /* i is 0 or 1 */
	XR_OTHER                        /* JSON array or object: j */
};

struct xrv {
	enum xr k;
	int64_t i;
	double d;
	const char *s;
	size_t len;
	const json_t *j;
};

enum xvk {
	XV_CONST,                       /* c */
	XV_LIST,                        /* items[nitems], all constants */
	XV_COL,                         /* field f, whole */
	XV_ID,                          /* the primary key, c->ids */
	XV_PATH,                        /* field f (JSON or ARRAY), steps */
	XV_ARITH,                       /* a op b, op one of + - * / % */
	XV_NEG,                         /* -a */
	XV_ALEN                         /* array_length(a) */
};

struct xstep {
	const char *key;                /* NUL-terminated object key, or */
	int64_t idx;                    /* array index when key is NULL */
};

struct xval {
	enum xvk k;
	enum xt t;
	enum fld_type ft;               /* for messages: the field's type, or
					 * INT64/DOUBLE/VARCHAR/BOOL for
					 * literals and arithmetic */
	unsigned h;                     /* height of this value's tree */
	struct xrv c;                   /* XV_CONST */
	struct xrv *items;              /* XV_LIST */
	size_t nitems;
	int f;                          /* XV_COL, XV_PATH: field index */
	const struct xstep *steps;      /* XV_PATH */
	size_t nsteps;
	int op;                         /* XV_ARITH: '+', '-', '*', '/', '%' */
	struct xval *a, *b;
};

enum xpk {
	XP_CONST,                       /* tv */
	XP_AND,                         /* kids[nkids] */
	XP_OR,
	XP_NOT,                         /* kids[0] */
	XP_CMP,                         /* a op b */
	XP_IN,                          /* a (not)? in b (XV_LIST) */
	XP_LIKE,                        /* a like pat */
	XP_EXISTS,                      /* exists a (XV_PATH or XV_COL JSON) */
	XP_NULL,                        /* a is (not)? null */
	XP_FN,                          /* fn(a, b) */
	XP_BOOL                         /* a BOOL value used as a predicate */
};

/* Comparison operators. */
enum { XO_EQ = 1, XO_NE, XO_LT, XO_LE, XO_GT, XO_GE };

/* Boolean functions. */
enum { XFN_CONTAINS = 1, XFN_CONTAINS_ALL, XFN_CONTAINS_ANY };

/* Block kernels: the fast paths of leaves over one column (f; -1: id). */
enum xkern {
	XK_NONE = 0,                    /* per row (expr_row.c xpred_row) */
	XK_IRANGE,                      /* int column in [lo, hi] (neg: not) */
	XK_IARITH,                      /* (int column aop ak) in [lo, hi] */
	XK_FRANGE,                      /* double column in [dlo, dhi] */
	XK_ISET,                        /* int column in set (neg: not in) */
	XK_FSET,                        /* double column in set */
	XK_SCMP,                        /* VARCHAR op lit */
	XK_SLIKE,                       /* VARCHAR like pat */
	XK_SSET,                        /* VARCHAR in set */
	XK_NULL                         /* is (not) null on a column */
};

/* A compiled like pattern. */
enum { XL_EXACT = 1, XL_PREFIX, XL_SUFFIX, XL_INFIX, XL_GENERAL };
struct xpat {
	int kind;
	const char *lit;                /* the literal part (not general) */
	size_t len;
	const uint8_t *pk;              /* general: per position 0 literal
					 * byte pb[i], 1 '_', 2 '%' */
	const char *pb;
	size_t pn;
};

/* A compiled in-list over a column. */
struct xset {
	size_t n;
	const int64_t *iv;              /* XK_ISET: sorted, unique */
	const uint64_t *bits;           /* dense: bit (v - bmin) */
	int64_t bmin;
	uint64_t bspan;                 /* values in [bmin, bmin + bspan] */
	const int64_t *htab;            /* sparse: open addressing */
	const uint8_t *hused;
	uint64_t hmask;
	const double *dv;               /* XK_FSET: sorted, unique */
	const struct xrv *sv;           /* XK_SSET: sorted, unique */
	const uint32_t *shash;          /* XK_SSET: index + 1 per slot, 0 */
};

struct xpred {
	enum xpk k;
	uint8_t tv;                     /* XP_CONST */
	struct xpred **kids;            /* XP_AND, XP_OR, XP_NOT */
	size_t nkids;
	int op;                         /* XP_CMP: XO_*; XP_FN: XFN_* */
	struct xval *a, *b;
	bool neg;                       /* not in, is not null */
	struct xpat pat;                /* XP_LIKE */
	/* the kernel, planned by xplan (expr_plan.c) */
	enum xkern kk;
	int f;                          /* column; -1: id */
	bool kneg;                      /* negate the kernel's test */
	bool empty;                     /* IRANGE/FRANGE: no value passes */
	int64_t lo, hi;                 /* IRANGE, IARITH */
	double dlo, dhi;                /* FRANGE */
	int aop;                        /* IARITH */
	int64_t ak;
	struct xset set;                /* ISET, FSET, SSET */
};

struct xarena;

struct fld_expr {
	const struct fld_schema *s;
	struct xpred *root;
	struct xarena *arena;
};

/* expr_parse.c: zeroed memory from x's arena, NULL when out of memory. */
void *xalloc(struct fld_expr *x, size_t n);

/* expr_plan.c: plan the kernel of leaf p (and of its descendants).
 * 0, -ENOMEM. */
int xplan(struct fld_expr *x, struct xpred *p);
/* expr_eval.c: truth of p for rows[0, n) (n <= XBLOCK) into out. */
void xpred_block(const struct xpred *p, const struct fld_cols *c,
		 const uint32_t *rows, size_t n, uint8_t *out);

/* expr_row.c */
/* Compile a like pattern (bytes s[0, len), with '\' escapes). */
int xpat_compile(struct fld_expr *x, const char *s, size_t len,
		 struct xpat *out);
/* Truth of p at row r, one row at a time. */
uint8_t xpred_row(const struct xpred *p, const struct fld_cols *c, size_t r);
/* a op b for one row or two constants (XT, XF or XU). */
uint8_t xcmp(int op, const struct xrv *a, const struct xrv *b);
/* a op b (op '+' '-' '*' '/' '%'; '-' with b NULL negates a) into *out:
 * integers wrap, / and % by zero are XR_UNK. */
void xarith(int op, const struct xrv *a, const struct xrv *b,
	    struct xrv *out);
/* A JSON value as a run-time value (null: XR_UNK). */
void xjson_rv(const json_t *j, struct xrv *out);
/* Does the pattern match s[0, len)? */
bool xpat_match(const struct xpat *p, const char *s, size_t len);
/* -1, 0, 1: a compared to b, exactly (an int64 against a double). */
int xcmp_id(int64_t i, double d);
/* A double mapped to an int64 whose signed order is the double's
 * (-0 as 0); the order key of FLOAT/DOUBLE values in sidx. */
int64_t xdkey(double d);

/* Small helpers of expr_row.c, expr_plan.c and expr_eval.c, inline: the
 * block kernels call them per value. */
#define XTWO63 9223372036854775808.0    /* 2^63 */

/* Is v a number (XR_INT or XR_FLT)? */
static inline bool xrv_num(const struct xrv *v)
{
	return v->k == XR_INT || v->k == XR_FLT;
}

/* Number v as a double. */
static inline double xrv_d(const struct xrv *v)
{
	return v->k == XR_INT ? (double)v->i : v->d;
}

/* u as an int64, wrapping (two's complement: gcc, clang). */
static inline int64_t xwrap(uint64_t u)
{
	return (int64_t)u;
}

/* The hashes of the in-list tables (plan) and their probes (kernels). */
static inline uint64_t xstrhash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
	return h;
}

static inline uint64_t xihash(int64_t v)
{
	uint64_t h = (uint64_t)v * 0x9E3779B97F4A7C15ull;

	return h ^ h >> 29;
}

/* ---- the parser's tokens (expr_lex.c, expr_parse.c) ---- */

enum tk {
	T_END, T_NAME, T_INT, T_FLT, T_STR, T_LP, T_RP, T_LB, T_RB, T_COMMA,
	T_CMP, T_PLUS, T_MINUS, T_STAR, T_SLASH, T_PCT, T_AND, T_OR, T_NOT,
	T_IN, T_LIKE, T_EXISTS, T_IS, T_NULL, T_TRUE, T_FALSE
};

struct tok {
	enum tk k;
	size_t pos, len;                /* in the text */
	uint64_t u;                     /* T_INT (up to 2^63) */
	double d;                       /* T_FLT */
	char *s;                        /* T_STR (decoded), T_NAME; NUL-ended */
	size_t slen;
	int op;                         /* T_CMP */
};

struct parser {
	struct fld_expr *x;
	const char *text;
	size_t len;
	struct tok *t;
	size_t nt, i;
	unsigned depth;
	struct mfs_err *err;
};

/* Cut p->text into p->t (the tokens, in the arena, T_END last).  0,
 * -EINVAL (a parse error), -ENOMEM. */
int xlex(struct parser *p);
/* A parse error at text position pos, Milvus's words: "cannot parse
 * expression: <expr>, error: <what> at column C".  Returns -EINVAL. */
int xperr(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* A type error (no position, as Milvus words them).  Returns -EINVAL. */
int xterr(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- shared by the parser's levels (expr_parse.c, expr_operand.c) ---- */

/* What a level returns: a predicate or a value (the other NULL), and where
 * in the text it starts. */
struct xitem {
	struct xpred *p;
	struct xval *v;
	size_t pos;
};

/* The current token, and the one after it (T_END at the end). */
static inline const struct tok *xcur(const struct parser *p)
{
	return &p->t[p->i];
}

static inline const struct tok *xpeek2(const struct parser *p)
{
	return p->i + 1 < p->nt ? &p->t[p->i + 1] : &p->t[p->nt - 1];
}

/* expr_parse.c.  The int functions return 0, -EINVAL (a parse or type
 * error, in p->err) or -ENOMEM; constructors return NULL when out of
 * memory. */
/* The error for the current token, as unexpected.  Returns -EINVAL. */
int xunexpected(struct parser *p);
/* Step over a token of kind k, or fail as xunexpected. */
int xexpect(struct parser *p, enum tk k);
/* One level deeper (parentheses, not, unary minus); past
 * FLD_EXPR_DEPTH_MAX an error. */
int xenter(struct parser *p);
/* Milvus's name of a type in messages (Int64, VarChar...), and ours
 * (INT64, VARCHAR...). */
const char *xmname(enum fld_type t);
const char *xuname(enum fld_type t);
/* Zeroed nodes in the expression's arena (f = -1; a value of height 1). */
struct xval *xnew_val(struct parser *p, enum xvk k, enum xt t,
		      enum fld_type ft);
struct xpred *xnew_pred(struct parser *p, enum xpk k);
/* A constant value c, typed as its kind says. */
struct xval *xconst_val(struct parser *p, const struct xrv *c);
/* Is t a number type (XT_INT, XT_FLT)? */
bool xis_num(enum xt t);
/* May a op b be compared (Milvus's rules; element types stand for
 * arrays' elements)? */
int xcheck_cmp(struct parser *p, const struct xval *a,
	       const struct xval *b, int op);
/* An operand is needed: refuse a predicate. */
int xto_value(struct parser *p, struct xitem *it);
/* Is v a field (column, id or path) rather than a literal or a result? */
bool xis_field_ref(const struct xval *v);
/* The loosest level: expr := and ("or" and)* (parentheses recurse). */
int xparse_or(struct parser *p, struct xitem *out);
/* expr_operand.c: sum := prod (("+" | "-") prod)*, and atom (expr_parse.c
 * has the grammar). */
int xparse_sum(struct parser *p, struct xitem *out);
int xparse_atom(struct parser *p, struct xitem *out);

#endif
