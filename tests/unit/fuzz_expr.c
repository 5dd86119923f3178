/* fuzz_expr.c - libFuzzer target for the expression parser and evaluator
 * (field/expr.h); build and run with tests/unit/fuzz_expr.sh.
 *
 * Each input is expression text, parsed against a fixed schema with every
 * field type (nullable ones, a dynamic $meta).  When it parses, it is
 * evaluated over a small fixed table three ways that must agree: over rows
 * in order (consecutive blocks), over the rows reversed (gathered blocks),
 * and through fld_expr_select with scalar indexes built over part of the
 * rows.  A disagreement aborts, so the fuzzer finds wrong answers as well
 * as crashes, leaks and undefined behaviour.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field/expr.h"

#define NROWS 1100                      /* > 2 blocks of XBLOCK */

struct fx {
	struct fld_schema s;
	struct fld_def f[16];
	struct fld_cols c;
};

static const struct {
	const char *name;
	enum fld_type t, elem;
	bool nullable;
} defs[] = {
	{ "b", FLD_BOOL, 0, true }, { "i8", FLD_INT8, 0, false },
	{ "rank", FLD_INT64, 0, false }, { "n", FLD_INT64, 0, true },
	{ "f", FLD_FLOAT, 0, false }, { "d", FLD_DOUBLE, 0, true },
	{ "word", FLD_VARCHAR, 0, false }, { "note", FLD_VARCHAR, 0, true },
	{ "meta", FLD_JSON, 0, true }, { "tags", FLD_ARRAY, FLD_VARCHAR, true },
	{ "nums", FLD_ARRAY, FLD_INT64, false }, { "$meta", FLD_JSON, 0, true },
};

static const char *const words[] = { "", "a", "ab", "abc", "b%", "a_b", "apple", "Z" };

static struct fx *build(void)
{
	struct fx *x = calloc(1, sizeof(*x));
	size_t nf = sizeof(defs) / sizeof(*defs);
	struct fld_cols *c = &x->c;
	uint64_t seed = 42;

	x->s.n = nf;
	x->s.f = x->f;
	x->s.pk = 2;                    /* rank: pk pruning runs too */
	x->s.dynamic = true;
	for (size_t i = 0; i < nf; i++) {
		snprintf(x->f[i].name, sizeof(x->f[i].name), "%s", defs[i].name);
		x->f[i].type = defs[i].t;
		x->f[i].elem = defs[i].elem;
		x->f[i].nullable = defs[i].nullable;
		x->f[i].dynamic = !strcmp(defs[i].name, "$meta");
	}
	c->s = &x->s;
	c->n = c->cap = NROWS;
	c->ids = calloc(NROWS, sizeof(*c->ids));
	c->dead_at = calloc(NROWS, sizeof(*c->dead_at));
	c->col = calloc(nf, sizeof(*c->col));
	c->sidx = calloc(nf, sizeof(*c->sidx));
	for (size_t i = 0; i < nf; i++) {
		struct fld_col *col = &c->col[i];

		col->type = defs[i].t;
		if (defs[i].nullable)
			col->null = calloc(NROWS, 1);
		col->i = calloc(NROWS, sizeof(*col->i));
		col->d = calloc(NROWS, sizeof(*col->d));
		col->off = calloc(NROWS + 1, sizeof(*col->off));
		col->str = malloc(NROWS * 8);
		col->json = calloc(NROWS, sizeof(*col->json));
	}
	for (size_t r = 0; r < NROWS; r++) {
		c->ids[r] = (int64_t)r * 7 - 300;
		for (size_t i = 0; i < nf; i++) {
			struct fld_col *col = &c->col[i];
			const char *w;

			seed = seed * 6364136223846793005ull + 1442695040888963407ull;
			uint32_t v = (uint32_t)(seed >> 33);
			bool null = col->null && v % 7 == 0;

			if (null)
				col->null[r] = 1;
			switch (col->type) {
			case FLD_BOOL: col->i[r] = v & 1; break;
			case FLD_INT8: col->i[r] = (int8_t)v; break;
			case FLD_INT64:
				col->i[r] = v % 50 == 0 ? INT64_MIN + v % 3 :
					    (int64_t)(v % 2001) - 1000;
				break;
			case FLD_FLOAT: case FLD_DOUBLE:
				col->d[r] = ((int)(v % 401) - 200) / 8.0;
				break;
			case FLD_VARCHAR:
				w = null ? "" : words[v % 8];
				memcpy(col->str + col->off[r], w, strlen(w));
				col->off[r + 1] = col->off[r] + strlen(w);
				break;
			default: {
				char js[128];

				if (null)
					break;
				if (col->type == FLD_ARRAY && defs[i].elem == FLD_VARCHAR)
					snprintf(js, sizeof(js), "[\"%s\",\"%s\"]",
						 words[v % 8], words[(v >> 3) % 8]);
				else if (col->type == FLD_ARRAY)
					snprintf(js, sizeof(js), "[%u,%u,%d]", v % 5,
						 (v >> 3) % 9, -(int)(v % 3));
				else
					snprintf(js, sizeof(js),
						 "{\"k\":%u,\"s\":\"%s\",\"a\":[%u,\"x\"],\"o\":{\"j\":%s}}",
						 v % 9, words[v % 8], v % 4,
						 v & 1 ? "true" : "1.5");
				col->json[r] = json_loads(js, 0, NULL);
			}
			}
		}
	}
	/* indexes over the first 2/3 of the rows */
	c->n = NROWS * 2 / 3;
	fld_sidx_build(c, 2, "STL_SORT", NULL);
	fld_sidx_build(c, 3, "INVERTED", NULL);
	fld_sidx_build(c, 4, "AUTOINDEX", NULL);
	fld_sidx_build(c, 6, "TRIE", NULL);
	fld_sidx_build(c, 0, "BITMAP", NULL);
	fld_sidx_build(c, 9, "INVERTED", NULL);
	fld_sidx_build(c, 10, "BITMAP", NULL);
	c->n = NROWS;
	return x;
}

static void pk_cb(void *arg, const struct fld_value *v)
{
	*(int64_t *)arg += v->i;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fx *fx;
	static uint32_t fwd[NROWS], rev[NROWS];
	uint8_t m1[NROWS], m2[NROWS];
	struct fld_expr *x;
	struct mfs_err err;
	uint32_t *sel;
	size_t nsel;

	if (!fx) {
		fx = build();
		for (size_t r = 0; r < NROWS; r++) {
			fwd[r] = (uint32_t)r;
			rev[r] = (uint32_t)(NROWS - 1 - r);
		}
	}
	if (fld_expr_parse((const char *)data, size, &fx->s, &x, &err))
		return 0;
	fld_expr_eval(x, &fx->c, fwd, NROWS, m1);
	fld_expr_eval(x, &fx->c, rev, NROWS, m2);
	for (size_t r = 0; r < NROWS; r++)
		if (m1[r] != m2[NROWS - 1 - r])
			abort();
	int rc = fld_expr_select(x, &fx->c, NROWS, &sel, &nsel);

	if (rc == 1) {
		size_t k = 0;

		for (size_t r = 0; r < NROWS; r++) {
			if (!m1[r])
				continue;
			if (k >= nsel || sel[k] != r)
				abort();
			k++;
		}
		if (k != nsel)
			abort();
	}
	free(sel);
	int64_t sum = 0;

	fld_expr_pk_values(x, pk_cb, &sum);
	fld_expr_free(x);
	return 0;
}
