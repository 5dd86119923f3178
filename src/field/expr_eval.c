/* expr_eval.c - evaluating a parsed expression over a partition's columns,
 * a block of rows at a time (values and the per-row interpreter:
 * expr_row.c; the kernels' plans: expr_plan.c).
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
 * (`1 < a <= 5`, or `a > 1 and a <= 5`) merge into one range kernel
 * (expr_plan.c).  Truth is three-valued (expr_row.c says when a leaf is
 * unknown).
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

#include <string.h>

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
			t[k] = xwrap((uint64_t)v[k] + ak);
		break;
	case '-':
		for (size_t k = 0; k < n; k++)
			t[k] = xwrap((uint64_t)v[k] - ak);
		break;
	case '*':
		for (size_t k = 0; k < n; k++)
			t[k] = xwrap((uint64_t)v[k] * ak);
		break;
	case '/':
		if (p->ak == -1)
			for (size_t k = 0; k < n; k++)
				t[k] = xwrap(0 - (uint64_t)v[k]);
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
	for (uint64_t h = xihash(x) & s->hmask; s->hused[h];
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
	for (uint64_t h = xstrhash(str, len) & s->hmask; s->shash[h];
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
