/* test_expr.c - the expression parser, evaluator and scalar indexes
 * (field/expr.h): one case per grammar production and per error, null
 * semantics, and a differential test against a brute-force reference
 * interpreter written here (its own generated tree, its own exact
 * number comparisons, its own like matcher), with and without scalar indexes.
 *
 * Columns are built by hand from JSON rows (struct fld_cols is public), so
 * the suite does not depend on cols.c.
 */
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field/expr.h"

/* ---- schemas and columns by hand ---- */

struct tab {
	struct fld_schema s;
	struct fld_def f[FLD_MAX];
	struct fld_cols c;
	json_t *rows[512];              /* one object per row, owned */
	int64_t ids[512];
	size_t n;
};

static void add_field(struct tab *t, const char *name, enum fld_type type,
		      enum fld_type elem, bool nullable)
{
	struct fld_def *d = &t->f[t->s.n];

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->type = type;
	d->elem = elem;
	d->nullable = nullable;
	if (!strcmp(name, FLD_META)) {
		d->dynamic = true;
		d->nullable = true;
		t->s.dynamic = true;
	}
	t->s.f = t->f;
	t->s.n++;
}

static void tab_init(struct tab *t)
{
	memset(t, 0, sizeof(*t));
	t->s.pk = -1;
	t->s.f = t->f;
}

static void add_row(struct tab *t, int64_t id, const char *json)
{
	json_error_t e;
	json_t *o = json_loads(json, 0, &e);

	ck_assert_msg(o, "bad test row %s: %s", json, e.text);
	t->ids[t->n] = id;
	t->rows[t->n++] = o;
}

/* A field's value in a row: NULL when null. */
static json_t *row_val(const struct tab *t, size_t r, size_t f)
{
	json_t *v = json_object_get(t->rows[r], t->f[f].name);

	return v && !json_is_null(v) ? v : NULL;
}

/* The columns of rows [0, t->n). */
static void cols_build(struct tab *t)
{
	struct fld_cols *c = &t->c;
	size_t n = t->n ? t->n : 1;

	memset(c, 0, sizeof(*c));
	c->s = &t->s;
	c->n = c->cap = t->n;
	c->ids = malloc(n * sizeof(*c->ids));
	memcpy(c->ids, t->ids, t->n * sizeof(*c->ids));
	c->dead_at = calloc(n, sizeof(*c->dead_at));
	c->col = calloc(t->s.n, sizeof(*c->col));
	c->sidx = calloc(t->s.n, sizeof(*c->sidx));
	for (size_t f = 0; f < t->s.n; f++) {
		struct fld_col *col = &c->col[f];
		enum fld_type ty = t->f[f].type;
		size_t slen = 0;

		col->type = ty;
		if (t->f[f].nullable)
			col->null = calloc(n, 1);
		switch (ty) {
		case FLD_FLOAT: case FLD_DOUBLE:
			col->d = calloc(n, sizeof(double));
			break;
		case FLD_VARCHAR:
			col->off = calloc(n + 1, sizeof(uint64_t));
			for (size_t r = 0; r < t->n; r++)
				if (row_val(t, r, f))
					slen += json_string_length(row_val(t, r, f));
			col->str = malloc(slen + 1);
			break;
		case FLD_JSON: case FLD_ARRAY:
			col->json = calloc(n, sizeof(json_t *));
			break;
		default:
			col->i = calloc(n, sizeof(int64_t));
		}
		slen = 0;
		for (size_t r = 0; r < t->n; r++) {
			json_t *v = row_val(t, r, f);

			if (!v) {
				ck_assert_msg(col->null, "null in %s", t->f[f].name);
				col->null[r] = 1;
			}
			switch (ty) {
			case FLD_FLOAT: case FLD_DOUBLE:
				col->d[r] = v ? json_number_value(v) : 0;
				break;
			case FLD_VARCHAR:
				if (v) {
					memcpy(col->str + slen, json_string_value(v),
					       json_string_length(v));
					slen += json_string_length(v);
				}
				col->off[r + 1] = slen;
				break;
			case FLD_JSON: case FLD_ARRAY:
				col->json[r] = v ? json_incref(v) : NULL;
				break;
			case FLD_BOOL:
				col->i[r] = v && json_is_true(v);
				break;
			default:
				col->i[r] = v ? json_integer_value(v) : 0;
			}
		}
	}
}

static void tab_fini(struct tab *t)
{
	struct fld_cols *c = &t->c;

	for (size_t f = 0; f < t->s.n; f++) {
		struct fld_col *col = &c->col[f];

		fld_sidx_drop(c, f);
		if (col->json)
			for (size_t r = 0; r < c->n; r++)
				json_decref(col->json[r]);
		free(col->null);
		free(col->i);
		free(col->d);
		free(col->off);
		free(col->str);
		free(col->json);
	}
	free(c->sidx);
	free(c->col);
	free(c->ids);
	free(c->dead_at);
	for (size_t r = 0; r < t->n; r++)
		json_decref(t->rows[r]);
}

/* ---- the fixture ---- */

static struct tab *fx;          /* the fixed table (set per test) */
static struct tab *fs;          /* the same without $meta */

static void fixture_fields(struct tab *t, bool dyn)
{
	tab_init(t);
	add_field(t, "b", FLD_BOOL, 0, false);
	add_field(t, "nb", FLD_BOOL, 0, true);
	add_field(t, "i8", FLD_INT8, 0, false);
	add_field(t, "i32", FLD_INT32, 0, false);
	add_field(t, "rank", FLD_INT64, 0, false);
	add_field(t, "f", FLD_FLOAT, 0, false);
	add_field(t, "d", FLD_DOUBLE, 0, false);
	add_field(t, "word", FLD_VARCHAR, 0, false);
	add_field(t, "meta", FLD_JSON, 0, true);
	add_field(t, "tags", FLD_ARRAY, FLD_VARCHAR, true);
	add_field(t, "nums", FLD_ARRAY, FLD_INT64, true);
	add_field(t, "fl", FLD_ARRAY, FLD_DOUBLE, true);
	add_field(t, "note", FLD_VARCHAR, 0, true);
	add_field(t, "n", FLD_INT64, 0, true);
	if (dyn)
		add_field(t, FLD_META, FLD_JSON, 0, true);
	add_row(t, 100, "{\"b\":true,\"nb\":true,\"i8\":1,\"i32\":10,\"rank\":0,\"f\":0.5,\"d\":-1.5,\"word\":\"apple\","
		"\"meta\":{\"k\":1,\"s\":\"x\",\"a\":[1,2,3],\"o\":{\"j\":5},\"b\":true},\"tags\":[\"a\",\"b\"],"
		"\"nums\":[1,2,3],\"fl\":[0.5,2],\"note\":\"hello\",\"n\":1,\"$meta\":{\"color\":\"red\",\"size\":3}}");
	add_row(t, 101, "{\"b\":false,\"nb\":null,\"i8\":-2,\"i32\":20,\"rank\":1,\"f\":1.5,\"d\":2.0,\"word\":\"apricot\","
		"\"meta\":{\"k\":2.5,\"s\":\"y\",\"a\":[4]},\"tags\":[\"b\"],\"nums\":[4,5],\"fl\":[],"
		"\"note\":null,\"n\":null,\"$meta\":{\"color\":\"blue\"}}");
	add_row(t, 102, "{\"b\":true,\"nb\":false,\"i8\":3,\"i32\":-30,\"rank\":2,\"f\":-0.25,\"d\":3.0,\"word\":\"banana\","
		"\"meta\":{\"k\":\"str\",\"a\":[]},\"tags\":[],\"nums\":[],\"fl\":[1.5],\"note\":\"h_llo\",\"n\":3,\"$meta\":{}}");
	add_row(t, 103, "{\"b\":false,\"nb\":true,\"i8\":127,\"i32\":40,\"rank\":3,\"f\":2.0,\"d\":100.0,\"word\":\"ab%c\","
		"\"meta\":{\"s\":\"x\"},\"tags\":[\"c\",\"a\"],\"nums\":[7],\"fl\":[2.0],\"note\":\"100%\",\"n\":null,"
		"\"$meta\":{\"size\":3.0}}");
	add_row(t, 104, "{\"b\":true,\"nb\":false,\"i8\":-128,\"i32\":0,\"rank\":4,\"f\":3.5,\"d\":0,\"word\":\"\","
		"\"meta\":null,\"tags\":null,\"nums\":null,\"fl\":null,\"note\":null,\"n\":5,\"$meta\":null}");
	add_row(t, 105, "{\"b\":false,\"nb\":null,\"i8\":0,\"i32\":5,\"rank\":5,\"f\":0,\"d\":-0.5,\"word\":\"Apple\","
		"\"meta\":{\"k\":1.0,\"o\":{\"j\":\"5\"}},\"tags\":[\"a\"],\"nums\":[1,10],\"fl\":[0.5],"
		"\"note\":\"hello world\",\"n\":-5,\"$meta\":{\"color\":\"red\"}}");
	cols_build(t);
}

static void setup(void)
{
	fx = calloc(1, sizeof(*fx));
	fs = calloc(1, sizeof(*fs));
	fixture_fields(fx, true);
	fixture_fields(fs, false);
}

static void teardown(void)
{
	tab_fini(fx);
	tab_fini(fs);
	free(fx);
	free(fs);
}

/* The rows of t matching text, as "0,3,5" (static buffer); also checks
 * that fld_expr_select with indexes on every indexable field agrees. */
static const char *qt(struct tab *t, const char *text)
{
	static char out[256];
	struct fld_expr *x = NULL;
	struct mfs_err err = { 0 };
	uint32_t rows[64];
	uint8_t match[64];
	int rc = fld_expr_parse(text, strlen(text), &t->s, &x, &err);

	ck_assert_msg(rc == 0, "parse '%s': %d %s", text, rc, err.msg);
	for (size_t r = 0; r < t->n; r++)
		rows[r] = (uint32_t)r;
	fld_expr_eval(x, &t->c, rows, t->n, match);
	out[0] = '\0';
	for (size_t r = 0; r < t->n; r++)
		if (match[r])
			snprintf(out + strlen(out), sizeof(out) - strlen(out),
				 "%s%zu", out[0] ? "," : "", r);
	/* the same through indexes */
	for (size_t f = 0; f < t->s.n; f++)
		if (!t->c.sidx[f] && !fld_sidx_check(&t->f[f], "INVERTED", NULL))
			ck_assert_int_eq(fld_sidx_build(&t->c, f, "INVERTED", NULL), 0);
	uint32_t *sel;
	size_t ns;

	rc = fld_expr_select(x, &t->c, t->n, &sel, &ns);
	ck_assert_int_ge(rc, 0);
	if (rc == 1) {
		char s2[256] = "";

		for (size_t k = 0; k < ns; k++)
			snprintf(s2 + strlen(s2), sizeof(s2) - strlen(s2),
				 "%s%u", k ? "," : "", sel[k]);
		ck_assert_msg(!strcmp(s2, out), "select '%s': %s, eval %s",
			      text, s2, out);
	}
	free(sel);
	fld_expr_free(x);
	return out;
}

#define Q(text, want) ck_assert_msg(!strcmp(qt(fx, text), want), \
	"'%s': got '%s', want '%s'", text, qt(fx, text), want)

static void bad_in(struct tab *t, const char *text, size_t len,
		   const char *sub)
{
	struct fld_expr *x = NULL;
	struct mfs_err err = { 0 };
	int rc = fld_expr_parse(text, len, &t->s, &x, &err);

	ck_assert_msg(rc == -EINVAL, "'%.80s': rc %d, want EINVAL", text, rc);
	ck_assert_msg(strstr(err.msg, sub), "'%.80s': message '%s' lacks '%s'",
		      text, err.msg, sub);
	ck_assert_ptr_null(x);
}

#define BAD(text, sub) bad_in(fx, text, strlen(text), sub)

/* ---- cases ---- */

START_TEST(t_compare)
{
	Q("rank == 3", "3");
	Q("rank != 3", "0,1,2,4,5");
	Q("rank < 2", "0,1");
	Q("rank <= 2", "0,1,2");
	Q("rank > 3", "4,5");
	Q("rank >= 3", "3,4,5");
	Q("3 == rank", "3");
	Q("2 > rank", "0,1");
	Q("rank < 2.5", "0,1,2");
	Q("rank == 2.0", "2");
	Q("rank == 2.5", "");
	Q("rank != 2.5", "0,1,2,3,4,5");
	Q("rank > -0.5", "0,1,2,3,4,5");
	Q("i8 < 1000", "0,1,2,3,4,5");
	Q("i8 > -1000.5", "0,1,2,3,4,5");
	Q("i8 == -128", "4");
	Q("f > 0.5", "1,3,4");
	Q("f == 0", "5");
	Q("f == 1.5", "1");
	Q("d >= 2", "1,2,3");
	Q("d < 0", "0,5");
	Q("d == -0.0", "4");
	Q("rank == i8 - 1", "0,2");
	Q("f < d", "1,2,3");
	Q("b", "0,2,4");
	Q("b == true", "0,2,4");
	Q("b != false", "0,2,4");
	Q("b == True", "0,2,4");
	Q("false == b", "1,3,5");
	Q("word == \"apple\"", "0");
	Q("word == 'apple'", "0");
	Q("word > \"b\"", "2");
	Q("word < \"apple\"", "3,4,5");
	Q("word >= \"apricot\"", "1,2");
	Q("word != \"\"", "0,1,2,3,5");
	Q("\"\\u0041pple\" == word", "5");
	Q("'it\\'s' == \"it's\"", "0,1,2,3,4,5");
	Q("\"a\\nb\" == 'a\nb'", "0,1,2,3,4,5");
	Q("1 < 2", "0,1,2,3,4,5");
	Q("1.5 > 2", "");
}
END_TEST

START_TEST(t_chain)
{
	Q("1 < rank <= 3", "2,3");
	Q("3 >= rank > 1", "2,3");
	Q("1 <= rank < 3", "1,2");
	Q("0 < i32 < 30", "0,1,5");
	Q("-1 < f < 1.5", "0,2,5");
	Q("rank > 1 and rank <= 3", "2,3");
	Q("0 <= rank < i32", "0,1,3");
	Q("\"a\" < word < \"b\"", "0,1,3");
	BAD("1 < rank > 3", "chained comparison '>' after '<'");
	BAD("rank == 1 == 2", "chained comparison");
	BAD("1 < rank < 3 < 4", "unexpected token '<' at column 14");
}
END_TEST

START_TEST(t_logic)
{
	Q("rank < 2 or rank > 4", "0,1,5");
	Q("rank < 2 || rank > 4", "0,1,5");
	Q("rank > 0 && rank < 3", "1,2");
	Q("rank > 0 AND rank < 3", "1,2");
	Q("rank > 0 And rank < 3 Or rank == 5", "1,2,5");
	Q("!(rank > 2)", "0,1,2");
	Q("not not rank > 2", "3,4,5");
	Q("NOT rank > 2", "0,1,2");
	Q("Not rank > 2", "0,1,2");
	Q("!b", "1,3,5");
	Q("(rank < 2 or rank > 4) and b", "0");
	Q("rank < 2 or rank > 4 and b", "0,1");
	Q("true", "0,1,2,3,4,5");
	Q("FALSE", "");
	Q("TRUE and rank == 1", "1");
	Q("false or rank == 1", "1");
	Q("((rank == 1))", "1");
	Q("rank In [1] AND NOT b OR rank == 5", "1,5");
	Q("(rank + 1) * 2 == 4", "1");
}
END_TEST

START_TEST(t_in)
{
	Q("rank in [1, 3, 5]", "1,3,5");
	Q("rank not in [1, 3, 5]", "0,2,4");
	Q("rank NOT IN [1,3,5,]", "0,2,4");
	Q("rank in [1.0, 2.5]", "1");
	Q("rank in []", "");
	Q("rank not in []", "0,1,2,3,4,5");
	Q("rank in [-1, 4, 1000000000000]", "4");
	Q("d in [2, 3.0]", "1,2");
	Q("f in [0, -0.25]", "2,5");
	Q("word in [\"apple\", \"banana\"]", "0,2");
	Q("word not in [\"apple\"]", "1,2,3,4,5");
	Q("b in [true]", "0,2,4");
	Q("id in [100, 105]", "0,5");
	Q("rank in [1, 1/0]", "1");
	Q("not (rank in [1, 1/0])", "");
	Q("meta[\"k\"] in [1, \"str\"]", "0,2,5");
	/* a known value of another type than an element is not that element */
	Q("meta[\"k\"] == 2.5 and meta[\"k\"] not in [\"s1\", 7]", "1");
	Q("meta[\"k\"] not in [\"s1\", 7]", "0,1,2,5");
	BAD("rank in ['a']", "comparisons between Int64 and VarChar are not supported");
	BAD("rank in 1", "expected an array after in");
	BAD("rank in [[1]]", "nested arrays are not supported");
	BAD("rank in [rank]", "array elements must be literals");
}
END_TEST

START_TEST(t_like)
{
	Q("word like \"ap%\"", "0,1");
	Q("word LIKE \"%e\"", "0,5");
	Q("word like \"%an%\"", "2");
	Q("word like \"apple\"", "0");
	Q("word like \"_pple\"", "0,5");
	Q("word like \"a%c%\"", "1,3");
	Q("word like \"ab\\%c\"", "3");
	Q("word like \"ab%c\"", "3");
	Q("word like \"%\"", "0,1,2,3,4,5");
	Q("word like \"\"", "4");
	Q("word like \"%%p%%\"", "0,1,5");
	Q("note like \"h\\_llo\"", "2");
	Q("note like \"h_llo\"", "0,2");
	Q("note like \"100\\%\"", "3");
	Q("note like \"h%o\"", "0,2");
	Q("not note like \"h%\"", "3");
	Q("meta[\"s\"] like \"x%\"", "0,3");
	Q("color like \"r_d\"", "0,5");
	BAD("rank like 'x'", "cannot use like on a field of type Int64");
	BAD("word like 1", "expected a string after like");
}
END_TEST

START_TEST(t_arith)
{
	Q("rank % 2 == 0", "0,2,4");
	Q("rank * 2 > 5", "3,4,5");
	Q("rank + i32 < 10", "2,4");
	Q("rank / 0 == 0", "");
	Q("not (rank / 0 == 0)", "");
	Q("rank % 0 == 0", "");
	Q("rank / (i8 - i8) == 0", "");
	Q("not (rank % (i8 - i8) == 0)", "");
	Q("d / 0 > 1", "");
	Q("d % 0.0 > 1", "");
	Q("-rank < -3", "4,5");
	Q("i8 * -1 == 2", "1");
	Q("rank - 10 > -8", "3,4,5");
	Q("rank / 2 == 1", "2,3");
	Q("i8 / 2 == -1", "1");
	Q("i8 % 3 == -2", "1,4");
	Q("i8 / -1 == 128", "4");
	Q("f * 2 > 3", "3,4");
	Q("rank + 0.5 > 3", "3,4,5");
	Q("d % 2 == 1", "2");
	Q("rank - -1 == 1", "0");
	Q("2 * 3 + 1 == rank + 2", "5");
	Q("(-9223372036854775808) / -1 == -9223372036854775808", "0,1,2,3,4,5");
	Q("-9223372036854775808 % -1 == 0", "0,1,2,3,4,5");
	Q("id % 2 == 0", "0,2,4");
	Q("meta[\"k\"] + 1 > 2", "1");
	Q("size * 2 == 6", "0,3");
	BAD("word + 1 > 2", "arithmetic operator '+' is not supported on VarChar");
	BAD("b * 2 > 2", "arithmetic operator '*' is not supported on Bool");
	BAD("-word == 1", "arithmetic operator '-' is not supported on VarChar");
	BAD("rank == 9223372036854775808", "integer out of range");
	BAD("rank == 99999999999999999999", "out of range");
}
END_TEST

START_TEST(t_extremes)
{
	struct tab *t = calloc(1, sizeof(*t));

	tab_init(t);
	add_field(t, "x", FLD_INT64, 0, false);
	add_row(t, 1, "{\"x\":-9223372036854775808}");
	add_row(t, 2, "{\"x\":-1}");
	add_row(t, 3, "{\"x\":0}");
	add_row(t, 4, "{\"x\":9223372036854775807}");
	cols_build(t);
	ck_assert_str_eq(qt(t, "x / -1 == -9223372036854775808"), "0");
	ck_assert_str_eq(qt(t, "x % -1 == 0"), "0,1,2,3");
	ck_assert_str_eq(qt(t, "x * 2 == -2"), "1,3");
	ck_assert_str_eq(qt(t, "x + 1 == -9223372036854775808"), "3");
	ck_assert_str_eq(qt(t, "x < -9223372036854775808"), "");
	ck_assert_str_eq(qt(t, "x >= 9223372036854775807"), "3");
	ck_assert_str_eq(qt(t, "x > 9223372036854775807"), "");
	ck_assert_str_eq(qt(t, "x > 9.3e18"), "");
	ck_assert_str_eq(qt(t, "x < 9.3e18"), "0,1,2,3");
	ck_assert_str_eq(qt(t, "x <= -9.3e18"), "");
	ck_assert_str_eq(qt(t, "x == 9223372036854775807.0"), "");
	ck_assert_str_eq(qt(t, "x < 9223372036854775807.0"), "0,1,2,3");
	ck_assert_str_eq(qt(t, "x > -9223372036854775808.0"), "1,2,3");
	ck_assert_str_eq(qt(t, "x >= -9223372036854775808.0"), "0,1,2,3");
	ck_assert_str_eq(qt(t, "x + 0.5 > 0"), "2,3");
	ck_assert_str_eq(qt(t, "x in [9223372036854775807, -9223372036854775808]"), "0,3");
	ck_assert_str_eq(qt(t, "x == 0x10 - 16"), "2");
	ck_assert_str_eq(qt(t, "x < 1e400"), "0,1,2,3");
	tab_fini(t);
	free(t);
}
END_TEST

START_TEST(t_functions)
{
	Q("array_length(nums) == 2", "1,5");
	Q("array_length(tags) > 0", "0,1,3,5");
	Q("array_length(meta[\"a\"]) == 3", "0");
	Q("array_length(meta[\"s\"]) >= 0", "");
	Q("ARRAY_LENGTH(fl) == 0", "1");
	Q("array_contains(tags, \"a\")", "0,3,5");
	Q("not array_contains(tags, 'a')", "1,2");
	Q("array_contains(nums, 1)", "0,5");
	Q("array_contains(nums, 1.0)", "0,5");
	Q("array_contains(nums, 1.5)", "");
	Q("array_contains(fl, 2)", "0,3");
	Q("array_contains_all(nums, [1, 10])", "5");
	Q("array_contains_all(nums, [1, 2, 3])", "0");
	Q("array_contains_any(nums, [7, 4])", "1,3");
	Q("array_contains_all(tags, [])", "0,1,2,3,5");
	Q("array_contains_any(tags, [])", "");
	Q("Array_Contains(tags, \"c\")", "3");
	Q("json_contains(meta[\"a\"], 4)", "1");
	Q("json_contains_all(meta[\"a\"], [1, 3])", "0");
	Q("json_contains_any(meta[\"a\"], [3, 4])", "0,1");
	Q("json_contains(meta[\"s\"], \"x\")", "");
	Q("json_contains(tags, \"b\")", "0,1");
	Q("tags[0] == \"a\"", "0,5");
	Q("nums[1] > 4", "1,5");
	Q("nums[5] == 1", "");
	BAD("array_length(rank) == 1", "array_length() expects an ARRAY field, got INT64");
	BAD("array_contains(rank, 1)", "array_contains() expects an ARRAY field, got INT64");
	BAD("json_contains(rank, 1)", "json_contains() expects a JSON field, got INT64");
	BAD("array_contains(nums, 'x')", "comparisons between Int64 and VarChar are not supported");
	BAD("array_contains(tags)", "array_contains() takes 2 arguments, got 1");
	BAD("array_length(tags, 1) == 1", "array_length() takes 1 argument");
	BAD("array_contains_any(tags, 'a')", "expects an array of values");
	BAD("foo(rank) == 1", "unknown function foo at column 1");
	BAD("tags['x'] == 1", "takes one integer index");
	BAD("rank[0] == 1", "field rank of type INT64 cannot be indexed");
}
END_TEST

START_TEST(t_json)
{
	Q("meta[\"k\"] == 1", "0,5");
	Q("meta[\"k\"] > 2", "1");
	Q("meta[\"k\"] == \"str\"", "2");
	Q("meta['s'] == 'x'", "0,3");
	Q("meta[\"o\"][\"j\"] == 5", "0");
	Q("meta[\"o\"][\"j\"] == \"5\"", "5");
	Q("meta[\"a\"][0] == 4", "1");
	Q("meta[\"a\"][1] == 2", "0");
	Q("meta[\"missing\"] == 1", "");
	Q("not (meta[\"missing\"] == 1)", "");
	Q("meta[\"k\"] != 1", "1");
	Q("not (meta[\"k\"] == 1)", "1");
	Q("meta[\"k\"] < \"z\"", "2");
	Q("meta[\"b\"] == true", "0");
	Q("meta[\"b\"]", "0");
	Q("meta[\"a\"] == 1", "");
	Q("$meta[\"color\"] == \"red\"", "0,5");
	Q("color == \"red\"", "0,5");
	Q("size == 3", "0,3");
	Q("size > 2 and color == \"red\"", "0");
	Q("exists meta[\"k\"]", "0,1,2,5");
	Q("exists meta[\"o\"][\"j\"]", "0,5");
	Q("not exists meta[\"k\"]", "3");
	Q("EXISTS color", "0,1,5");
	Q("exists $meta[\"size\"]", "0,3");
	Q("exists meta", "0,1,2,3,5");
	Q("meta[\"k\"] == meta[\"k\"]", "0,1,2,5");
	BAD("exists rank", "exists expects a JSON field, got INT64");
	BAD("tags == 1", "comparisons between Array and Int64 are not supported");
	BAD("meta[\"a\"] == [1]", "comparisons between JSON and Array are not supported");
	bad_in(fs, "foo == 1", 8, "field foo not exist");
	bad_in(fs, "color == 'red'", 14, "field color not exist");
}
END_TEST

START_TEST(t_null)
{
	Q("note is null", "1,4");
	Q("note is not null", "0,2,3,5");
	Q("note IS NULL", "1,4");
	Q("note IS NOT NULL", "0,2,3,5");
	Q("n is null", "1,3");
	Q("meta is null", "4");
	Q("tags is null", "4");
	Q("tags is not null", "0,1,2,3,5");
	Q("meta[\"s\"] is null", "2,4,5");
	Q("id is null", "");
	Q("rank is not null", "0,1,2,3,4,5");
	Q("n == 1", "0");
	Q("not (n == 1)", "2,4,5");
	Q("n != 1", "2,4,5");
	Q("n == 1 or n is null", "0,1,3");
	Q("n > 100 or true", "0,1,2,3,4,5");
	Q("n > 0 or rank == 1", "0,1,2,4");
	Q("n > 0 and rank < 10", "0,2,4");
	Q("not (n > 0 and rank == 1)", "0,2,3,4,5");
	Q("not (n > 0 or rank == 3)", "5");
	Q("n in [1, 3]", "0,2");
	Q("n not in [1, 3]", "4,5");
	Q("n + 1 > 0", "0,2,4");
	Q("note like 'h%'", "0,2,5");
	Q("not note == 'hello'", "2,3,5");
	Q("nb", "0,3");
	Q("not nb", "2,4");
	Q("nb == false", "2,4");
	Q("nb or true", "0,1,2,3,4,5");
	Q("nb and false", "");
	Q("not (nb and true)", "2,4");
	BAD("1 is null", "is null expects a field");
}
END_TEST

START_TEST(t_id)
{
	Q("id == 103", "3");
	Q("id > 103", "4,5");
	Q("id in [100, 105]", "0,5");
	Q("100 < id < 103", "1,2");
	Q("id != 100", "1,2,3,4,5");
	BAD("id[0] == 1", "cannot be indexed");
}
END_TEST

START_TEST(t_errors)
{
	char *big, *deep;

	BAD("", "expression is empty");
	BAD("   \n\t", "expression is empty");
	BAD("rank ==", "cannot parse expression: rank ==, error: unexpected end of expression at column 8");
	BAD("rank == 1)", "cannot parse expression: rank == 1), error: unexpected token ')' at column 10");
	BAD("(rank == 1", "unexpected end of expression");
	BAD("word == \"abc", "error: unterminated string at column 9");
	BAD("word == 'abc", "unterminated string at column 9");
	BAD("rank == 1 &", "unexpected character '&' at column 11");
	BAD("rank # 1", "unexpected character '#' at column 6");
	BAD("rank = 1", "unexpected character '='");
	BAD("rank == == 1", "unexpected token '==' at column 9");
	BAD("and", "unexpected token 'and'");
	BAD("word == \"\\u12\"", "invalid escape");
	BAD("word == 1", "comparisons between VarChar and Int64 are not supported");
	BAD("1 == word", "comparisons between Int64 and VarChar are not supported");
	BAD("b == 1", "comparisons between Bool and Int64 are not supported");
	BAD("b < true", "operator < is not supported on Bool");
	BAD("rank", "cannot use Int64 as a boolean expression");
	BAD("((rank))", "cannot use Int64 as a boolean expression");
	BAD("word", "cannot use VarChar as a boolean expression");
	BAD("(rank > 1) + 1 > 2", "a boolean expression cannot be an operand");
	bad_in(fs, "nope > 1", 8, "field nope not exist");

	/* depth */
	size_t n = 3 * FLD_EXPR_DEPTH_MAX + 100;

	deep = calloc(n * 4 + 64, 1);
	for (size_t i = 0; i < 200; i++)
		strcat(deep, "(");
	strcat(deep, "rank == 1");
	for (size_t i = 0; i < 200; i++)
		strcat(deep, ")");
	BAD(deep, "nesting deeper than 128");
	deep[0] = '\0';
	for (size_t i = 0; i < 200; i++)
		strcat(deep, "not ");
	strcat(deep, "b");
	BAD(deep, "nesting deeper than 128");
	strcpy(deep, "rank");
	for (size_t i = 0; i < 200; i++)
		strcat(deep, " + 1");
	strcat(deep, " > 0");
	BAD(deep, "nesting deeper than 128");
	deep[0] = '\0';
	for (size_t i = 0; i < 200; i++)
		strcat(deep, "-");
	strcat(deep, "rank > 0");
	BAD(deep, "nesting deeper than 128");
	/* but 100 levels are fine */
	deep[0] = '\0';
	for (size_t i = 0; i < 100; i++)
		strcat(deep, "(");
	strcat(deep, "rank == 1");
	for (size_t i = 0; i < 100; i++)
		strcat(deep, ")");
	Q(deep, "1");
	free(deep);

	/* length */
	big = malloc(FLD_EXPR_MAX + 2);
	memset(big, ' ', FLD_EXPR_MAX + 1);
	memcpy(big, "rank == 1", 9);
	bad_in(fx, big, FLD_EXPR_MAX + 1, "expression too long");
	big[FLD_EXPR_MAX] = '\0';
	Q(big, "1");
	/* a long flat disjunction is no nesting */
	size_t len = 0;

	for (int i = 0; len + 40 < FLD_EXPR_MAX; i++)
		len += (size_t)sprintf(big + len, "%srank == %d", i ? " or " : "", i % 7 + 10);
	Q(big, "");
	free(big);
}
END_TEST

/* Scalar indexes: the type table, rows past the build, maintain, bytes. */
START_TEST(t_sidx)
{
	struct mfs_err err = { 0 };
	struct fld_def *rank = &fx->f[4], *word = &fx->f[7], *b = &fx->f[0];

	ck_assert_int_eq(fld_sidx_check(rank, "STL_SORT", &err), 0);
	ck_assert_int_eq(fld_sidx_check(word, "TRIE", &err), 0);
	ck_assert_int_eq(fld_sidx_check(b, "BITMAP", &err), 0);
	ck_assert_int_eq(fld_sidx_check(&fx->f[9], "BITMAP", &err), 0);
	ck_assert_int_eq(fld_sidx_check(&fx->f[11], "INVERTED", &err), 0);
	ck_assert_int_eq(fld_sidx_check(&fx->f[5], "AUTOINDEX", &err), 0);
	ck_assert_int_eq(fld_sidx_check(rank, "TRIE", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "index type TRIE is not supported for field rank of type INT64 (TRIE: VARCHAR)");
	ck_assert_int_eq(fld_sidx_check(b, "STL_SORT", &err), -EINVAL);
	ck_assert_int_eq(fld_sidx_check(&fx->f[5], "BITMAP", &err), -EINVAL);
	ck_assert_int_eq(fld_sidx_check(&fx->f[11], "BITMAP", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "of type ARRAY(DOUBLE)"));
	ck_assert_int_eq(fld_sidx_check(&fx->f[8], "INVERTED", &err), -EINVAL);
	ck_assert_int_eq(fld_sidx_check(&fx->f[8], "AUTOINDEX", &err), -EINVAL);
	ck_assert_int_eq(fld_sidx_check(rank, "HNSW", &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "unknown scalar index type HNSW"));
	ck_assert_int_eq(fld_sidx_check(rank, "stl_sort", &err), -EINVAL);
	ck_assert_int_eq(fld_sidx_build(&fx->c, 4, "TRIE", &err), -EINVAL);
	ck_assert_ptr_null(fx->c.sidx[4]);

	/* build over the first 3 rows, then "append" the other 3 */
	size_t all = fx->c.n;
	struct fld_expr *x;
	uint32_t *rows;
	size_t n;

	fx->c.n = 3;
	ck_assert_int_eq(fld_sidx_build(&fx->c, 4, "STL_SORT", &err), 0);
	ck_assert_int_eq(fld_sidx_build(&fx->c, 7, "TRIE", &err), 0);
	ck_assert_int_eq(fld_sidx_build(&fx->c, 9, "INVERTED", &err), 0);
	ck_assert_uint_gt(fld_sidx_bytes(&fx->c), 0);
	fx->c.n = all;
	ck_assert_int_eq(fld_expr_parse("rank >= 1 and rank < 5 and b", 28, &fx->s, &x, &err), 0);
	ck_assert_int_eq(fld_expr_select(x, &fx->c, all, &rows, &n), 1);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(rows[0], 2);
	ck_assert_uint_eq(rows[1], 4);
	free(rows);
	/* a reader that sees fewer rows */
	ck_assert_int_eq(fld_expr_select(x, &fx->c, 3, &rows, &n), 1);
	ck_assert_uint_eq(n, 1);
	free(rows);
	fld_expr_free(x);
	ck_assert_int_eq(fld_expr_parse("word like 'ap%'", 15, &fx->s, &x, &err), 0);
	ck_assert_int_eq(fld_expr_select(x, &fx->c, all, &rows, &n), 1);
	ck_assert_uint_eq(n, 2);
	free(rows);
	fld_expr_free(x);
	ck_assert_int_eq(fld_expr_parse("array_contains(tags, 'a')", 25, &fx->s, &x, &err), 0);
	ck_assert_int_eq(fld_expr_select(x, &fx->c, all, &rows, &n), 1);
	ck_assert_uint_eq(n, 3);
	free(rows);
	fld_expr_free(x);
	/* no index helps: the caller scans */
	ck_assert_int_eq(fld_expr_parse("d > 0", 5, &fx->s, &x, &err), 0);
	ck_assert_int_eq(fld_expr_select(x, &fx->c, all, &rows, &n), 0);
	ck_assert_ptr_null(rows);
	fld_expr_free(x);
	/* maintain: a short tail stays */
	const void *old = fx->c.sidx[4];

	ck_assert_int_eq(fld_sidx_maintain(&fx->c), 0);
	ck_assert_ptr_eq(fx->c.sidx[4], old);
	fld_sidx_drop(&fx->c, 4);
	ck_assert_ptr_null(fx->c.sidx[4]);
	fld_sidx_drop(&fx->c, 4);
}
END_TEST

static void pk_cb(void *arg, const struct fld_value *v)
{
	char *s = arg;

	if (v->type == FLD_INT64)
		sprintf(s + strlen(s), "%" PRId64 ";", v->i);
	else
		sprintf(s + strlen(s), "%.*s;", (int)v->len, v->s);
}

static const char *pkv(struct tab *t, const char *text)
{
	static char out[256];
	struct fld_expr *x;
	struct mfs_err err;

	ck_assert_int_eq(fld_expr_parse(text, strlen(text), &t->s, &x, &err), 0);
	out[0] = '\0';
	if (!fld_expr_pk_values(x, pk_cb, out))
		strcpy(out, "all");
	fld_expr_free(x);
	return out;
}

START_TEST(t_pk)
{
	fx->s.pk = 4;           /* rank */
	ck_assert_str_eq(pkv(fx, "rank == 3"), "3;");
	ck_assert_str_eq(pkv(fx, "3 == rank and b"), "3;");
	ck_assert_str_eq(pkv(fx, "b and rank in [5, 1, 5]"), "1;5;");
	ck_assert_str_eq(pkv(fx, "rank == 2.5"), "");
	ck_assert_str_eq(pkv(fx, "rank == 3 or b"), "all");
	ck_assert_str_eq(pkv(fx, "rank > 3"), "all");
	ck_assert_str_eq(pkv(fx, "rank not in [1]"), "all");
	ck_assert_str_eq(pkv(fx, "b"), "all");
	fx->s.pk = 7;           /* word */
	ck_assert_str_eq(pkv(fx, "word == 'piano'"), "piano;");
	ck_assert_str_eq(pkv(fx, "word in ['b', 'a']"), "a;b;");
	ck_assert_str_eq(pkv(fx, "word like 'p%'"), "all");
	fx->s.pk = -1;
	ck_assert_str_eq(pkv(fx, "rank == 3"), "all");
}
END_TEST

/* ================= the differential test ================= */

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static int rn(int n)
{
	return (int)(rnd() % (uint64_t)n);
}

/* -- random data -- */

static const char *const words[] = {
	"", "a", "ab", "abc", "b", "ba", "a%b", "a_c", "B", "abab", "ca", "%"
};

static json_t *rand_str(void)
{
	return json_string(words[rn(12)]);
}

static json_t *rand_scalar(void)
{
	switch (rn(7)) {
	case 0: case 1: return json_integer(rn(9) - 4);
	case 2: return json_real((rn(33) - 16) / 4.0);
	case 3: return rand_str();
	case 4: return json_boolean(rn(2));
	case 5: return json_null();
	default: {
		json_t *a = json_array();

		for (int i = rn(4); i > 0; i--)
			json_array_append_new(a, rn(2) ? json_integer(rn(9) - 4) : rand_str());
		return a;
	}
	}
}

static json_t *rand_obj(void)
{
	json_t *o = json_object();
	static const char *const keys[] = { "k0", "k1", "k2" };

	for (int k = 0; k < 3; k++)
		if (rn(10) < 7)
			json_object_set_new(o, keys[k], rand_scalar());
	if (rn(3) == 0) {
		json_t *in = json_object();

		json_object_set_new(in, "x", rand_scalar());
		json_object_set_new(o, "o", in);
	}
	return o;
}

static json_t *rand_value(enum fld_type t, enum fld_type elem)
{
	switch (t) {
	case FLD_BOOL: return json_boolean(rn(2));
	case FLD_INT8: case FLD_INT16: case FLD_INT32:
		return json_integer(rn(11) - 5);
	case FLD_INT64:
		if (rn(40) == 0)
			return json_integer(rn(2) ? INT64_MAX - rn(3) : INT64_MIN + rn(3));
		return json_integer(rn(11) - 5);
	case FLD_FLOAT: case FLD_DOUBLE: return json_real((rn(41) - 20) / 4.0);
	case FLD_VARCHAR: return rand_str();
	case FLD_JSON: {
		json_t *v = rn(6) ? rand_obj() : rand_scalar();

		if (json_is_null(v)) {
			json_decref(v);
			v = json_integer(0);
		}
		return v;
	}
	case FLD_ARRAY: {
		json_t *a = json_array();

		for (int i = rn(5); i > 0; i--)
			json_array_append_new(a, rand_value(elem, FLD_NONE));
		return a;
	}
	default: return json_null();
	}
}

static const enum fld_type tpool[][2] = {
	{ FLD_BOOL, 0 }, { FLD_INT8, 0 }, { FLD_INT32, 0 }, { FLD_INT64, 0 },
	{ FLD_FLOAT, 0 }, { FLD_DOUBLE, 0 }, { FLD_VARCHAR, 0 },
	{ FLD_VARCHAR, 0 }, { FLD_JSON, 0 }, { FLD_ARRAY, FLD_INT64 },
	{ FLD_ARRAY, FLD_VARCHAR }, { FLD_ARRAY, FLD_DOUBLE },
	{ FLD_ARRAY, FLD_BOOL }, { FLD_INT64, 0 },
};

static void rand_table(struct tab *t, size_t nrows)
{
	int nf = 3 + rn(7);

	tab_init(t);
	for (int i = 0; i < nf; i++) {
		char name[16];
		int k = rn((int)(sizeof(tpool) / sizeof(*tpool)));

		snprintf(name, sizeof(name), "f%d", i);
		add_field(t, name, tpool[k][0], tpool[k][1], rn(2));
	}
	if (rn(2))
		add_field(t, FLD_META, FLD_JSON, 0, true);
	for (size_t r = 0; r < nrows; r++) {
		json_t *o = json_object();

		for (size_t f = 0; f < t->s.n; f++) {
			json_t *v;

			if (t->f[f].nullable && rn(5) == 0)
				v = json_null();
			else if (t->f[f].dynamic)
				v = rand_obj();
			else
				v = rand_value(t->f[f].type, t->f[f].elem);
			json_object_set_new(o, t->f[f].name, v);
		}
		t->ids[r] = (int64_t)r * 3 - 50;
		t->rows[r] = o;
	}
	t->n = nrows;
	cols_build(t);
}

/* -- the reference: its own tree, its own interpreter -- */

enum { RU, RI, RF, RS, RB, RO };        /* unknown, int, float, str, bool, other */

struct rv {
	int k;
	int64_t i;
	double d;
	const char *s;
	size_t len;
	const json_t *j;
};

enum rk {
	/* values */
	R_LIT, R_FIELD, R_ID, R_PATH, R_ARITH, R_NEG, R_ALEN,
	/* predicates */
	R_AND, R_OR, R_NOT, R_CMP, R_IN, R_LIKE, R_EXISTS, R_ISNULL, R_FN,
	R_BOOLV, R_TRUTH
};

struct rnode {
	enum rk k;
	int op;                         /* cmp: 0 == 1 != 2 < 3 <= 4 > 5 >=;
					 * arith char; fn 0 contains 1 all 2 any */
	struct rnode *a, *b;
	struct rv lit;                  /* R_LIT */
	struct rv list[8];              /* R_IN, R_FN */
	int nlist;
	bool neg;
	int field;
	const char *keys[3];            /* R_PATH: keys, or "#n" index */
	int nkeys;
	char pat[32];                   /* R_LIKE: raw pattern */
	int truth;                      /* R_TRUTH: 0 1 2 */
};

struct gen {
	struct tab *t;
	char *buf;
	size_t len, cap;
	struct rnode pool[4096];
	int np;
	char strs[4096][16];
	int ns;
};

static void emit(struct gen *g, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void emit(struct gen *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(g->buf + g->len, g->cap - g->len, fmt, ap);

	va_end(ap);
	ck_assert(n >= 0 && g->len + (size_t)n < g->cap);
	g->len += (size_t)n;
}

static struct rnode *node(struct gen *g, enum rk k)
{
	ck_assert_int_lt(g->np, 4096);
	struct rnode *n = &g->pool[g->np++];

	memset(n, 0, sizeof(*n));
	n->k = k;
	return n;
}

static const char *const cmps[] = { "==", "!=", "<", "<=", ">", ">=" };

static bool is_inttype(enum fld_type t)
{
	return t >= FLD_INT8 && t <= FLD_INT64;
}

/* A field index of one of the given kinds, or -1. */
static int pick_field(struct gen *g, int kind)
{
	int cand[FLD_MAX], n = 0;

	for (size_t f = 0; f < g->t->s.n; f++) {
		const struct fld_def *d = &g->t->f[f];
		bool ok;

		switch (kind) {
		case 'n': ok = is_inttype(d->type) || d->type == FLD_FLOAT || d->type == FLD_DOUBLE; break;
		case 's': ok = d->type == FLD_VARCHAR; break;
		case 'b': ok = d->type == FLD_BOOL; break;
		case 'j': ok = d->type == FLD_JSON; break;
		case 'a': ok = d->type == FLD_ARRAY; break;
		default: ok = true;
		}
		if (ok)
			cand[n++] = (int)f;
	}
	return n ? cand[rn(n)] : -1;
}

static void lit_num(struct gen *g, struct rv *v)
{
	memset(v, 0, sizeof(*v));
	if (rn(3)) {
		v->k = RI;
		v->i = rn(13) - 6;
		emit(g, v->i < 0 ? "(%" PRId64 ")" : "%" PRId64, v->i);
	} else {
		v->k = RF;
		v->d = (rn(41) - 20) / 4.0;
		emit(g, v->d < 0 ? "(%.2f)" : "%.2f", v->d);
	}
}

static void lit_str(struct gen *g, struct rv *v)
{
	const char *w = words[rn(12)];

	memset(v, 0, sizeof(*v));
	v->k = RS;
	v->s = w;
	v->len = strlen(w);
	emit(g, rn(2) ? "\"%s\"" : "'%s'", w);
}

/* A JSON path: a JSON field with keys, or a dynamic name. */
static struct rnode *gen_path(struct gen *g)
{
	static const char *const keys[] = { "k0", "k1", "k2", "o", "x", "#0", "#1" };
	int f = pick_field(g, 'j');
	struct rnode *n = node(g, R_PATH);

	if (f < 0 || (g->t->s.dynamic && rn(3) == 0)) {
		f = (int)g->t->s.n - 1;
		if (!g->t->s.dynamic)
			return NULL;
		n->field = f;
		n->keys[0] = keys[rn(3)];
		n->nkeys = 1;
		if (rn(2))
			emit(g, "%s", n->keys[0]);
		else
			emit(g, "$meta[\"%s\"]", n->keys[0]);
	} else {
		n->field = f;
		emit(g, "%s", g->t->f[f].name);
		if (g->t->f[f].dynamic)
			emit(g, "%s", "");
		n->nkeys = rn(3);
		if (!n->nkeys && g->t->f[f].dynamic)
			n->nkeys = 1;
		for (int i = 0; i < n->nkeys; i++) {
			n->keys[i] = keys[i == 1 && n->keys[0][0] == 'o' ? 4 : rn(7)];
			if (n->keys[i][0] == '#')
				emit(g, "[%s]", n->keys[i] + 1);
			else
				emit(g, "[\"%s\"]", n->keys[i]);
		}
	}
	return n;
}

static struct rnode *gen_num(struct gen *g, int depth)
{
	struct rnode *n;
	int f;

	switch (depth > 2 ? rn(4) : rn(10)) {
	case 0:
		n = node(g, R_LIT);
		lit_num(g, &n->lit);
		return n;
	case 1: case 2:
		if ((f = pick_field(g, 'n')) < 0)
			break;
		n = node(g, R_FIELD);
		n->field = f;
		emit(g, "%s", g->t->f[f].name);
		return n;
	case 3:
		if ((n = gen_path(g)))
			return n;
		break;
	case 4: case 5: case 6: {
		static const char ops[] = "+-*/%";

		n = node(g, R_ARITH);
		n->op = ops[rn(5)];
		emit(g, "(");
		n->a = gen_num(g, depth + 1);
		emit(g, " %c ", n->op);
		n->b = gen_num(g, depth + 1);
		emit(g, ")");
		return n;
	}
	case 7:
		n = node(g, R_NEG);
		emit(g, "-");
		n->a = gen_num(g, depth + 1);
		return n;
	case 8:
		n = node(g, R_ALEN);
		emit(g, "array_length(");
		if ((f = pick_field(g, 'a')) >= 0 && rn(3)) {
			n->a = node(g, R_FIELD);
			n->a->field = f;
			emit(g, "%s", g->t->f[f].name);
		} else if (!(n->a = gen_path(g))) {
			n->k = R_ID;    /* no array: fall back to id */
			g->len -= strlen("array_length(");
			emit(g, "id");
			return n;
		}
		emit(g, ")");
		return n;
	default:
		break;
	}
	n = node(g, R_ID);
	emit(g, "id");
	return n;
}

static struct rnode *gen_str(struct gen *g)
{
	struct rnode *n;
	int f = pick_field(g, 's');

	if (f >= 0 && rn(3)) {
		n = node(g, R_FIELD);
		n->field = f;
		emit(g, "%s", g->t->f[f].name);
		return n;
	}
	if (rn(2) && (n = gen_path(g)))
		return n;
	n = node(g, R_LIT);
	lit_str(g, &n->lit);
	return n;
}

static struct rnode *gen_pred(struct gen *g, int depth);

static void gen_list(struct gen *g, struct rnode *n, int kind)
{
	n->nlist = rn(kind == 'x' ? 5 : 6);
	emit(g, "[");
	for (int i = 0; i < n->nlist; i++) {
		if (i)
			emit(g, ", ");
		if (kind == 's' || (kind == 'x' && rn(2)))
			lit_str(g, &n->list[i]);
		else if (kind == 'b') {
			n->list[i].k = RB;
			n->list[i].i = rn(2);
			emit(g, n->list[i].i ? "true" : "false");
		} else
			lit_num(g, &n->list[i]);
	}
	emit(g, "]");
}

static struct rnode *gen_pred(struct gen *g, int depth)
{
	struct rnode *n;
	int f;

	switch (depth > 3 ? 4 + rn(11) : rn(15)) {
	case 0: case 1:
		n = node(g, rn(2) ? R_AND : R_OR);
		emit(g, "(");
		n->a = gen_pred(g, depth + 1);
		emit(g, n->k == R_AND ? (rn(2) ? " and " : " && ") : (rn(2) ? " OR " : " || "));
		n->b = gen_pred(g, depth + 1);
		emit(g, ")");
		return n;
	case 2:
		n = node(g, R_NOT);
		emit(g, rn(2) ? "not (" : "!(");
		n->a = gen_pred(g, depth + 1);
		emit(g, ")");
		return n;
	case 3: {                       /* chained range */
		struct rnode *lo = node(g, R_LIT), *hi = node(g, R_LIT);
		bool up = rn(2);
		int o1 = rn(2), o2 = rn(2);

		n = node(g, R_AND);
		n->a = node(g, R_CMP);
		n->b = node(g, R_CMP);
		lit_num(g, up ? &lo->lit : &hi->lit);
		emit(g, " %s ", up ? cmps[2 + o1] : cmps[4 + o1]);
		struct rnode *mid = gen_num(g, depth + 1);

		emit(g, " %s ", up ? cmps[2 + o2] : cmps[4 + o2]);
		lit_num(g, up ? &hi->lit : &lo->lit);
		/* lo < mid and mid < hi, in the reference's terms */
		n->a->op = up ? 2 + o1 : 4 + o1;
		n->a->a = up ? lo : hi;
		n->a->b = mid;
		n->b->op = up ? 2 + o2 : 4 + o2;
		n->b->a = mid;
		n->b->b = up ? hi : lo;
		return n;
	}
	case 4: case 5: case 6:         /* numeric comparison */
		n = node(g, R_CMP);
		n->a = gen_num(g, depth + 1);
		n->op = rn(6);
		emit(g, " %s ", cmps[n->op]);
		n->b = gen_num(g, depth + 1);
		return n;
	case 7:                         /* string comparison */
		n = node(g, R_CMP);
		n->a = gen_str(g);
		n->op = rn(6);
		emit(g, " %s ", cmps[n->op]);
		n->b = gen_str(g);
		return n;
	case 8:                         /* in */
		n = node(g, R_IN);
		n->neg = rn(2);
		if (rn(2)) {
			n->a = gen_num(g, depth + 1);
			emit(g, n->neg ? " not in " : " in ");
			gen_list(g, n, n->a->k == R_PATH ? 'x' : 'n');
		} else {
			n->a = gen_str(g);
			emit(g, n->neg ? " NOT IN " : " in ");
			gen_list(g, n, n->a->k == R_PATH ? 'x' : 's');
		}
		return n;
	case 9: {                       /* like */
		static const char *const parts[] = { "a", "b", "%", "_", "\\\\%", "\\\\_", "c" };
		char raw[32] = "";

		n = node(g, R_LIKE);
		n->a = gen_str(g);
		emit(g, " like \"");
		for (int i = rn(5); i > 0; i--) {
			const char *p = parts[rn(7)];

			emit(g, "%s", p);
			if (p[0] == '\\')
				strcat(raw, p + 1);     /* \\% in C is \% in text */
			else
				strcat(raw, p);
		}
		emit(g, "\"");
		strcpy(n->pat, raw);
		return n;
	}
	case 10:                        /* is null, exists */
		if (rn(2)) {
			n = node(g, R_ISNULL);
			n->neg = rn(2);
			if (rn(2) && (n->a = gen_path(g)))
				;
			else {
				n->a = node(g, R_FIELD);
				n->a->field = rn((int)g->t->s.n);
				if (g->t->f[n->a->field].dynamic)
					emit(g, "$meta");
				else
					emit(g, "%s", g->t->f[n->a->field].name);
			}
			emit(g, n->neg ? " is not null" : " IS NULL");
			return n;
		}
		n = node(g, R_EXISTS);
		emit(g, "exists ");
		if (!(n->a = gen_path(g))) {
			n->k = R_TRUTH;
			n->truth = 2;
			g->len -= strlen("exists ");
			emit(g, "true");
		}
		return n;
	case 11: {                      /* functions */
		static const char *const names[] = {
			"array_contains", "array_contains_all", "array_contains_any",
			"json_contains", "json_contains_all", "json_contains_any"
		};
		int fn = rn(3);
		bool arr = (f = pick_field(g, 'a')) >= 0 && rn(3);

		n = node(g, R_FN);
		n->op = fn;
		emit(g, "%s(", names[fn + (arr ? 0 : 3)]);
		if (arr) {
			n->a = node(g, R_FIELD);
			n->a->field = f;
			emit(g, "%s, ", g->t->f[f].name);
		} else if ((n->a = gen_path(g))) {
			emit(g, ", ");
		} else {
			g->len -= strlen(names[fn + 3]) + 1;
			n->k = R_TRUTH;
			n->truth = 0;
			emit(g, "false");
			return n;
		}
		enum fld_type el = arr ? g->t->f[f].elem : FLD_NONE;
		int kind = el == FLD_VARCHAR ? 's' : el == FLD_BOOL ? 'b' :
			   el == FLD_NONE ? 'x' : 'n';

		if (fn == 0) {
			n->nlist = 1;
			if (kind == 's' || (kind == 'x' && rn(2)))
				lit_str(g, &n->list[0]);
			else if (kind == 'b') {
				n->list[0].k = RB;
				n->list[0].i = rn(2);
				emit(g, n->list[0].i ? "true" : "false");
			} else
				lit_num(g, &n->list[0]);
		} else {
			gen_list(g, n, kind);
		}
		emit(g, ")");
		return n;
	}
	case 12:                        /* bool field or path as predicate */
		if ((f = pick_field(g, 'b')) >= 0 && rn(3)) {
			n = node(g, R_BOOLV);
			n->a = node(g, R_FIELD);
			n->a->field = f;
			emit(g, "%s", g->t->f[f].name);
			return n;
		}
		if ((n = gen_path(g))) {
			struct rnode *b = node(g, R_BOOLV);

			b->a = n;
			return b;
		}
		n = node(g, R_TRUTH);
		n->truth = rn(2) ? 2 : 0;
		emit(g, n->truth ? "True" : "false");
		return n;
	case 13:                        /* bool comparison */
		if ((f = pick_field(g, 'b')) < 0)
			return gen_pred(g, depth + 1);
		n = node(g, R_CMP);
		n->a = node(g, R_FIELD);
		n->a->field = f;
		n->op = rn(2);
		n->b = node(g, R_LIT);
		n->b->lit.k = RB;
		n->b->lit.i = rn(2);
		emit(g, "%s %s %s", g->t->f[f].name, cmps[n->op],
		     n->b->lit.i ? "true" : "FALSE");
		return n;
	default:                        /* JSON path against any literal */
		n = node(g, R_CMP);
		if (!(n->a = gen_path(g)))
			return gen_pred(g, depth + 1);
		n->op = rn(6);
		emit(g, " %s ", cmps[n->op]);
		n->b = node(g, R_LIT);
		switch (rn(3)) {
		case 0: lit_num(g, &n->b->lit); break;
		case 1: lit_str(g, &n->b->lit); break;
		default:
			n->b->lit.k = RB;
			n->b->lit.i = rn(2);
			emit(g, n->b->lit.i ? "true" : "false");
		}
		return n;
	}
}

static void jrv(const json_t *j, struct rv *v)
{
	memset(v, 0, sizeof(*v));
	if (!j || json_is_null(j))
		v->k = RU;
	else if (json_is_integer(j))
		v->k = RI, v->i = json_integer_value(j);
	else if (json_is_real(j))
		v->k = RF, v->d = json_real_value(j);
	else if (json_is_string(j))
		v->k = RS, v->s = json_string_value(j), v->len = json_string_length(j);
	else if (json_is_boolean(j))
		v->k = RB, v->i = json_is_true(j);
	else
		v->k = RO, v->j = j;
}

static const json_t *ref_path(const struct tab *t, const struct rnode *n,
			      size_t r, bool *base_null)
{
	const json_t *j = row_val(t, r, (size_t)n->field);

	*base_null = !j;
	for (int i = 0; j && i < n->nkeys; i++) {
		if (n->keys[i][0] == '#')
			j = json_is_array(j) ? json_array_get(j, (size_t)atoi(n->keys[i] + 1)) : NULL;
		else
			j = json_is_object(j) ? json_object_get(j, n->keys[i]) : NULL;
	}
	return j;
}

static void ref_val(const struct tab *t, const struct rnode *n, size_t r,
		    struct rv *out)
{
	struct rv a, b;
	bool bn;

	memset(out, 0, sizeof(*out));
	switch (n->k) {
	case R_LIT:
		*out = n->lit;
		return;
	case R_ID:
		out->k = RI;
		out->i = t->ids[r];
		return;
	case R_FIELD: {
		const json_t *j = row_val(t, r, (size_t)n->field);
		enum fld_type ty = t->f[n->field].type;

		jrv(j, out);
		if (out->k == RI && (ty == FLD_FLOAT || ty == FLD_DOUBLE))
			out->k = RF, out->d = (double)out->i;
		if (out->k == RF && ty == FLD_FLOAT)
			out->d = (float)out->d;
		return;
	}
	case R_PATH:
		jrv(ref_path(t, n, r, &bn), out);
		return;
	case R_ALEN:
		if (n->a->k == R_FIELD)
			jrv(row_val(t, r, (size_t)n->a->field), &a);
		else
			jrv(ref_path(t, n->a, r, &bn), &a);
		if (a.k == RO && json_is_array(a.j))
			out->k = RI, out->i = (int64_t)json_array_size(a.j);
		return;
	case R_NEG:
		ref_val(t, n->a, r, &a);
		if (a.k == RI)
			out->k = RI, out->i = (int64_t)(0 - (uint64_t)a.i);
		else if (a.k == RF)
			out->k = RF, out->d = -a.d;
		return;
	case R_ARITH:
		ref_val(t, n->a, r, &a);
		ref_val(t, n->b, r, &b);
		if ((a.k != RI && a.k != RF) || (b.k != RI && b.k != RF))
			return;
		if (a.k == RI && b.k == RI) {
			uint64_t x = (uint64_t)a.i, y = (uint64_t)b.i;

			out->k = RI;
			switch (n->op) {
			case '+': out->i = (int64_t)(x + y); break;
			case '-': out->i = (int64_t)(x - y); break;
			case '*': out->i = (int64_t)(x * y); break;
			case '/':
				if (!b.i)
					out->k = RU;
				else if (b.i == -1)
					out->i = (int64_t)(0 - x);
				else
					out->i = a.i / b.i;
				break;
			default:
				if (!b.i)
					out->k = RU;
				else
					out->i = b.i == -1 ? 0 : a.i % b.i;
			}
			return;
		}
		double x = a.k == RI ? (double)a.i : a.d;
		double y = b.k == RI ? (double)b.i : b.d;

		out->k = RF;
		switch (n->op) {
		case '+': out->d = x + y; break;
		case '-': out->d = x - y; break;
		case '*': out->d = x * y; break;
		case '/': if (y == 0) out->k = RU; else out->d = x / y; break;
		default: if (y == 0) out->k = RU; else out->d = fmod(x, y);
		}
		return;
	default:
		return;
	}
}

/* i against d exactly, by d's floor (long double is not exact
 * everywhere: valgrind runs it as double) */
static int ref_cmp_id(int64_t i, double d)
{
	if (d >= 0x1p63)
		return -1;
	if (d < -0x1p63)
		return 1;
	double fl = floor(d);
	int64_t f = (int64_t)fl;

	if (i != f)
		return i < f ? -1 : 1;
	return d > fl ? -1 : 0;
}

/* 0 false, 1 unknown, 2 true */
static int ref_cmp(int op, const struct rv *a, const struct rv *b)
{
	int c;

	if (a->k == RI && b->k == RI) {
		c = a->i < b->i ? -1 : a->i > b->i;
	} else if ((a->k == RI || a->k == RF) && (b->k == RI || b->k == RF)) {
		if ((a->k == RF && isnan(a->d)) || (b->k == RF && isnan(b->d)))
			return 1;
		if (a->k == RF && b->k == RF)
			c = a->d < b->d ? -1 : a->d > b->d;
		else
			c = a->k == RI ? ref_cmp_id(a->i, b->d) :
			    -ref_cmp_id(b->i, a->d);
	} else if (a->k == RS && b->k == RS) {
		size_t m = a->len < b->len ? a->len : b->len;

		c = 0;
		for (size_t i = 0; i < m && !c; i++)
			c = (unsigned char)a->s[i] - (unsigned char)b->s[i];
		if (!c)
			c = (a->len > b->len) - (a->len < b->len);
	} else if (a->k == RB && b->k == RB) {
		if (op > 1)
			return 1;
		c = a->i != b->i;
	} else {
		return 1;
	}
	bool t[] = { c == 0, c != 0, c < 0, c <= 0, c > 0, c >= 0 };

	return t[op] ? 2 : 0;
}

/* like, recursively, on the raw pattern (with \ escapes) */
static bool ref_like(const char *p, const char *s, size_t n)
{
	if (!*p)
		return n == 0;
	if (*p == '%')
		for (size_t i = 0; i <= n; i++)
			if (ref_like(p + 1, s + i, n - i))
				return true;
	if (*p == '%')
		return false;
	if (*p == '_')
		return n > 0 && ref_like(p + 1, s + 1, n - 1);
	if (*p == '\\' && p[1]) {
		return n > 0 && s[0] == p[1] && ref_like(p + 2, s + 1, n - 1);
	}
	return n > 0 && s[0] == *p && ref_like(p + 1, s + 1, n - 1);
}

static bool ref_member(const json_t *arr, const struct rv *v)
{
	for (size_t i = 0; i < json_array_size(arr); i++) {
		struct rv e;

		jrv(json_array_get(arr, i), &e);
		if (ref_cmp(0, &e, v) == 2)
			return true;
	}
	return false;
}

static int ref_pred(const struct tab *t, const struct rnode *n, size_t r)
{
	struct rv a, b;
	int x, y;
	bool bn;

	switch (n->k) {
	case R_TRUTH:
		return n->truth;
	case R_AND:
		x = ref_pred(t, n->a, r);
		y = ref_pred(t, n->b, r);
		return x < y ? x : y;
	case R_OR:
		x = ref_pred(t, n->a, r);
		y = ref_pred(t, n->b, r);
		return x > y ? x : y;
	case R_NOT:
		return 2 - ref_pred(t, n->a, r);
	case R_CMP:
		ref_val(t, n->a, r, &a);
		ref_val(t, n->b, r, &b);
		if (a.k == RU || b.k == RU)
			return 1;
		return ref_cmp(n->op, &a, &b);
	case R_IN:
		ref_val(t, n->a, r, &a);
		if (a.k == RU)
			return 1;
		/* a known value: elements of another type are passed over;
		 * none of its type at all is unknown */
		x = 0;
		{
			int same = n->nlist == 0;

			for (int i = 0; i < n->nlist; i++) {
				y = n->list[i].k == RU ? 1 :
					ref_cmp(0, &a, &n->list[i]);
				if (y == 1 && n->list[i].k != RU &&
				    !(n->list[i].k == RF && isnan(n->list[i].d)))
					continue;
				same = 1;
				x = y > x ? y : x;
			}
			if (!same)
				x = 1;
		}
		return n->neg ? 2 - x : x;
	case R_LIKE:
		ref_val(t, n->a, r, &a);
		if (a.k != RS)
			return 1;
		return ref_like(n->pat, a.s, a.len) ? 2 : 0;
	case R_EXISTS: {
		const json_t *j = ref_path(t, n->a, r, &bn);

		return bn ? 1 : j ? 2 : 0;
	}
	case R_ISNULL:
		if (n->a->k == R_PATH) {
			const json_t *j = ref_path(t, n->a, r, &bn);

			x = !j || json_is_null(j);
		} else {
			x = !row_val(t, r, (size_t)n->a->field);
		}
		return x != n->neg ? 2 : 0;
	case R_FN: {
		const json_t *arr = n->a->k == R_FIELD ?
				    row_val(t, r, (size_t)n->a->field) :
				    ref_path(t, n->a, r, &bn);

		if (!arr || !json_is_array(arr))
			return 1;
		if (n->op == 1) {
			for (int i = 0; i < n->nlist; i++)
				if (!ref_member(arr, &n->list[i]))
					return 0;
			return 2;
		}
		for (int i = 0; i < n->nlist; i++)
			if (ref_member(arr, &n->list[i]))
				return 2;
		return 0;
	}
	case R_BOOLV:
		ref_val(t, n->a, r, &a);
		return a.k != RB ? 1 : a.i ? 2 : 0;
	default:
		ck_abort_msg("bad reference node %d", n->k);
		return 1;
	}
}

/* One random table, nexpr random expressions: eval and select against
 * the reference.  Returns the number of (expression, row) checks. */
static size_t differential(uint64_t seed, int nexpr, size_t nrows,
			   size_t *selected)
{
	struct tab *t = calloc(1, sizeof(*t));
	struct gen *g = calloc(1, sizeof(*g));
	uint32_t rows[512];
	uint8_t match[512];
	size_t checks = 0;

	rng_state = seed;
	rand_table(t, nrows);
	g->t = t;
	g->cap = 16384;
	g->buf = malloc(g->cap);
	/* indexes on some fields over the first 2/3 of the rows */
	size_t all = t->c.n;
	static const char *const itypes[] = {
		"STL_SORT", "INVERTED", "BITMAP", "TRIE", "AUTOINDEX"
	};

	t->c.n = all * 2 / 3;
	for (size_t f = 0; f < t->s.n; f++) {
		const char *it = itypes[rn(5)];

		if (rn(3) && !fld_sidx_check(&t->f[f], it, NULL))
			ck_assert_int_eq(fld_sidx_build(&t->c, f, it, NULL), 0);
	}
	t->c.n = all;
	for (size_t r = 0; r < all; r++)
		rows[r] = (uint32_t)r;
	for (int e = 0; e < nexpr; e++) {
		struct fld_expr *x = NULL;
		struct mfs_err err = { 0 };
		struct rnode *root;
		int rc;

		g->len = 0;
		g->np = 0;
		if (e % 2) {
			/* a leaf and-ed on top: something for the indexes */
			root = node(g, R_AND);
			emit(g, "(");
			root->a = gen_pred(g, 4);
			emit(g, ") and ");
			root->b = gen_pred(g, 1);
		} else {
			root = gen_pred(g, 0);
		}
		rc = fld_expr_parse(g->buf, g->len, &t->s, &x, &err);
		ck_assert_msg(rc == 0, "seed %" PRIu64 " expr '%s': %d %s", seed,
			      g->buf, rc, err.msg);
		/* all rows, and a shuffled subset (gathered blocks) */
		fld_expr_eval(x, &t->c, rows, all, match);
		for (size_t r = 0; r < all; r++) {
			int want = ref_pred(t, root, r) == 2;

			if (match[r] != want)
				ck_abort_msg("seed %" PRIu64 " expr '%s' row %zu (id %" PRId64 "): eval %d, reference %d, row %s",
				      seed, g->buf, r, t->ids[r], match[r], want,
				      json_dumps(t->rows[r], JSON_COMPACT));
			checks++;
		}
		uint32_t sub[512];
		size_t ns = 0;

		for (size_t r = 0; r < all; r++)
			if (rn(2))
				sub[ns++] = (uint32_t)(all - 1 - r);
		fld_expr_eval(x, &t->c, sub, ns, match);
		for (size_t k = 0; k < ns; k++)
			if (match[k] != (ref_pred(t, root, sub[k]) == 2))
				ck_abort_msg("seed %" PRIu64 " expr '%s' subset row %u",
				      seed, g->buf, sub[k]);
		/* through the indexes */
		uint32_t *sel;
		size_t nsel, nvis = rn(4) ? all : all - all / 5;

		rc = fld_expr_select(x, &t->c, nvis, &sel, &nsel);
		ck_assert_int_ge(rc, 0);
		if (rc == 1) {
			size_t k = 0;

			(*selected)++;
			for (size_t r = 0; r < nvis; r++) {
				if (ref_pred(t, root, r) != 2)
					continue;
				if (k >= nsel || sel[k] != r)
					ck_abort_msg("seed %" PRIu64 " select '%s': row %zu missing",
					      seed, g->buf, r);
				k++;
			}
			ck_assert_msg(k == nsel, "seed %" PRIu64 " select '%s': %zu extra rows",
				      seed, g->buf, nsel - k);
		}
		free(sel);
		fld_expr_free(x);
	}
	free(g->buf);
	free(g);
	tab_fini(t);
	free(t);
	return checks;
}

START_TEST(t_differential)
{
	size_t checks = 0, selected = 0;
	int tables = 50, nexpr = 240;

	for (int i = 0; i < tables; i++)
		checks += differential(0x5EED0000u + (uint64_t)i, nexpr,
				       40 + (size_t)(i * 37) % 400, &selected);
	fprintf(stderr, "differential: %d tables, %d expressions, %zu row checks, %zu answered by indexes\n",
		tables, tables * nexpr, checks, selected);
	ck_assert_uint_gt(selected, 100);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("expr");
	TCase *tc = tcase_create("grammar");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t_compare);
	tcase_add_test(tc, t_chain);
	tcase_add_test(tc, t_logic);
	tcase_add_test(tc, t_in);
	tcase_add_test(tc, t_like);
	tcase_add_test(tc, t_arith);
	tcase_add_test(tc, t_extremes);
	tcase_add_test(tc, t_functions);
	tcase_add_test(tc, t_json);
	tcase_add_test(tc, t_null);
	tcase_add_test(tc, t_id);
	tcase_add_test(tc, t_errors);
	tcase_add_test(tc, t_sidx);
	tcase_add_test(tc, t_pk);
	suite_add_tcase(s, tc);
	tc = tcase_create("differential");
	tcase_set_timeout(tc, 120);     /* sanitizer and valgrind builds */
	tcase_add_test(tc, t_differential);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
