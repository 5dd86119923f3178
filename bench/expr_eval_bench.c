/* expr_eval_bench.c - how fast fld_expr_eval and fld_expr_select are on
 * 100,000 rows (not part of make check).
 *
 *   gcc -O2 -std=c11 -include build/config.h -Isrc $(pkg-config --cflags jansson) \
 *       bench/expr_eval_bench.c build/libmfs_field.a build/libmfs_base.a \
 *       $(pkg-config --libs jansson) -lm -o /tmp/expr_eval_bench
 *   /tmp/expr_eval_bench
 *
 * Prints, per expression, the matches and the best of 50 runs over all
 * rows (in place: consecutive rows), over every other row (gathered), and
 * through a scalar index when one answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "field/expr.h"

#define N 100000

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(void)
{
	static struct fld_def f[5];
	struct fld_schema s = { .n = 5, .f = f, .pk = -1 };
	struct fld_cols c = { .s = &s, .n = N, .cap = N };
	uint64_t seed = 1;
	static uint32_t rows[N], half[N / 2];
	static uint8_t match[N];

	snprintf(f[0].name, sizeof(f[0].name), "rank");
	f[0].type = FLD_INT64;
	snprintf(f[1].name, sizeof(f[1].name), "word");
	f[1].type = FLD_VARCHAR;
	snprintf(f[2].name, sizeof(f[2].name), "len");
	f[2].type = FLD_INT32;
	snprintf(f[3].name, sizeof(f[3].name), "score");
	f[3].type = FLD_DOUBLE;
	f[3].nullable = true;
	snprintf(f[4].name, sizeof(f[4].name), "meta");
	f[4].type = FLD_JSON;
	c.ids = malloc(N * sizeof(*c.ids));
	c.dead_at = calloc(N, sizeof(*c.dead_at));
	c.col = calloc(5, sizeof(*c.col));
	c.sidx = calloc(5, sizeof(*c.sidx));
	for (int i = 0; i < 5; i++)
		c.col[i].type = f[i].type;
	c.col[0].i = malloc(N * sizeof(int64_t));
	c.col[2].i = malloc(N * sizeof(int64_t));
	c.col[3].d = malloc(N * sizeof(double));
	c.col[3].null = calloc(N, 1);
	c.col[1].off = calloc(N + 1, sizeof(uint64_t));
	c.col[1].str = malloc(N * 9);
	c.col[4].json = calloc(N, sizeof(json_t *));
	for (size_t r = 0; r < N; r++) {
		char w[9];
		int len;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		len = 2 + (int)(seed >> 60) % 7;
		for (int k = 0; k < len; k++)
			w[k] = (char)('a' + (seed >> (8 + 5 * k)) % 26);
		c.ids[r] = (int64_t)r;
		c.col[0].i[r] = (int64_t)((r * 7919) % N);
		c.col[2].i[r] = len;
		c.col[3].d[r] = (double)(seed >> 40) / (1 << 20);
		c.col[3].null[r] = (seed >> 20) % 10 == 0;
		memcpy(c.col[1].str + c.col[1].off[r], w, (size_t)len);
		c.col[1].off[r + 1] = c.col[1].off[r] + (size_t)len;
		c.col[4].json[r] = json_pack("{s:i, s:s}", "k", (int)(r % 10), "s", "x");
		rows[r] = (uint32_t)r;
		if (r % 2 == 0)
			half[r / 2] = (uint32_t)r;
	}
	char in100[2048] = "rank in [";

	for (int k = 0; k < 100; k++)
		sprintf(in100 + strlen(in100), "%s%d", k ? ", " : "", k * 997);
	strcat(in100, "]");
	const char *exprs[] = {
		"rank < 50000",
		"word like \"ab%\"",
		in100,
		"1000 < rank <= 2000",
		"rank % 10 == 0",
		"word == \"hello\"",
		"word like \"%xy%\"",
		"score > 2000 and len < 5",
		"rank < 50000 and word like \"a%\" or len == 3",
		"rank + len < 100",
		"meta[\"k\"] == 3",
		"not (score < 100)",
	};
	fld_sidx_build(&c, 0, "STL_SORT", NULL);
	fld_sidx_build(&c, 1, "TRIE", NULL);
	printf("%-44s %8s %10s %10s %10s\n", "expression (100,000 rows)", "matches",
	       "eval ms", "gather ms", "select ms");
	for (size_t e = 0; e < sizeof(exprs) / sizeof(*exprs); e++) {
		struct fld_expr *x;
		struct mfs_err err;
		double best = 1e9, bestg = 1e9, bests = 1e9;
		size_t cnt = 0, nsel = 0;
		int rc;

		if (fld_expr_parse(exprs[e], strlen(exprs[e]), &s, &x, &err)) {
			printf("%s: %s\n", exprs[e], err.msg);
			return 1;
		}
		for (int it = 0; it < 50; it++) {
			double t0 = now_ms();

			fld_expr_eval(x, &c, rows, N, match);
			double t1 = now_ms();

			best = t1 - t0 < best ? t1 - t0 : best;
			t0 = now_ms();
			fld_expr_eval(x, &c, half, N / 2, match + N / 2);
			t1 = now_ms();
			bestg = t1 - t0 < bestg ? t1 - t0 : bestg;
		}
		fld_expr_eval(x, &c, rows, N, match);
		for (size_t r = 0; r < N; r++)
			cnt += match[r];
		for (int it = 0; it < 20; it++) {
			uint32_t *sel;
			double t0 = now_ms();

			rc = fld_expr_select(x, &c, N, &sel, &nsel);
			double t1 = now_ms();

			free(sel);
			if (rc != 1)
				break;
			bests = t1 - t0 < bests ? t1 - t0 : bests;
		}
		char name[45];

		snprintf(name, sizeof(name), "%s", exprs[e]);
		printf("%-44s %8zu %10.3f %10.3f ", name, cnt, best, bestg);
		if (bests < 1e9)
			printf("%10.3f\n", bests);
		else
			printf("%10s\n", "-");
		fld_expr_free(x);
	}
	return 0;
}
