/* test_engine_fields.c - unit tests of the engine's scalar fields (SPEC
 * §8, §9): field schemas (replace before data, merge after, EBUSY),
 * inserts with rows and defaults, upsert, queries against a brute force
 * over the test's own data (order, offset, limit, count, partitions,
 * consistency as of the start), delete by filter, scalar indexes,
 * partition-key routing and memory accounting.
 *
 * Each case gets a fresh temporary LMDB.  Expressions are parsed with
 * field/expr.h as the fs layer does; the expected answers are computed
 * here from the values the test generated.
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/engine_int.h"
#include "field/expr.h"
#include "field/field.h"

static char tmp_root[256];
static char db_dir[512];
static struct store *st;
static struct eng *eng;
static struct mfs_err err;

static int rm_cb(const char *path, const struct stat *sb, int flag,
		 struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static void open_all(void)
{
	struct store_opts so = { .mapsize_bytes = 64u << 20 };
	struct eng_opts o = { .threads = 2 };
	int rc = store_open(db_dir, &so, &st, &err);

	ck_assert_msg(rc == 0, "store_open: %d %s", rc, err.msg);
	rc = eng_open(st, &o, &eng, &err);
	ck_assert_msg(rc == 0, "eng_open: %d %s", rc, err.msg);
}

static void close_all(void)
{
	eng_close(eng);
	store_close(st);
	eng = NULL;
	st = NULL;
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(tmp_root, sizeof(tmp_root), "%s/test_engf.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp_root));
	snprintf(db_dir, sizeof(db_dir), "%s/db", tmp_root);
	mfs_err_clear(&err);
	open_all();
}

static void teardown(void)
{
	if (eng)
		close_all();
	nftw(tmp_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

#define OK(expr) do { \
		mfs_err_clear(&err); \
		int rc_ = (expr); \
		ck_assert_msg(rc_ == 0, "%s: %d %s", #expr, rc_, err.msg); \
	} while (0)
#define FAILS(code, expr) do { \
		mfs_err_clear(&err); \
		int rc_ = (expr); \
		ck_assert_msg(rc_ == (code), "%s: expected %d, got %d (%s)", \
			      #expr, (code), rc_, err.msg); \
	} while (0)

/* Set the schema: kv text "k=v k=v" and field specs. */
static int schema(const char *coll, const char *kvtext, const char *const *specs)
{
	struct mfs_kv kv;
	struct fld_schema f;
	int rc = 0;

	mfs_kv_init(&kv);
	fld_schema_init(&f);
	if (kvtext) {
		char buf[256], *save = NULL, *tok;

		snprintf(buf, sizeof(buf), "%s", kvtext);
		for (tok = strtok_r(buf, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(tok, '=');

			*eq = '\0';
			ck_assert_int_eq(mfs_kv_set(&kv, tok, eq + 1, NULL), 0);
		}
	}
	for (size_t i = 0; specs && specs[i] && rc == 0; i++)
		rc = fld_schema_add(&f, specs[i], &err);
	if (rc == 0)
		rc = eng_schema_set(eng, coll, &kv, specs ? &f : NULL, &err);
	fld_schema_fini(&f);
	return rc;
}

/* Insert (or upsert) JSON objects carrying id, and fields; vector
 * [id, -id] (dim 2). */
static int put_json(const char *coll, const char *part, bool upsert,
		    const char *const *objs, size_t n)
{
	struct eng_fields *f;
	struct mfs_buf rows;
	size_t *ends = calloc(n ? n : 1, sizeof(*ends));
	int64_t *ids = calloc(n ? n : 1, sizeof(*ids));
	uint8_t *has = calloc(n ? n : 1, 1);
	float *v = calloc(2 * (n ? n : 1), sizeof(*v));
	const char *const skip[] = { "id", "vector", NULL };
	int rc;

	OK(eng_fields_get(eng, coll, &f, &err));
	mfs_buf_init(&rows, SIZE_MAX);
	for (size_t i = 0; i < n; i++) {
		json_error_t je;
		json_t *o = json_loads(objs[i], 0, &je);

		ck_assert_msg(o != NULL, "bad test JSON %s", objs[i]);
		ids[i] = json_integer_value(json_object_get(o, "id"));
		has[i] = 1;
		v[2 * i] = (float)ids[i];
		v[2 * i + 1] = -(float)ids[i];
		rc = fld_row_encode(&rows, eng_fields_schema(f), o, skip,
				    i + 1, &err);
		json_decref(o);
		if (rc < 0)
			goto out;
		ends[i] = rows.len;
	}
	{
		struct eng_rows r = { .n = n, .vtype = VEC_FLOAT, .dim = 2,
				      .has_id = has, .ids = ids, .vecs = v,
				      .rows = (const uint8_t *)rows.data,
				      .row_end = ends, .fields = f };

		mfs_err_clear(&err);
		rc = upsert ? eng_upsert(eng, coll, part, &r, NULL, &err)
			    : eng_insert(eng, coll, part, &r, NULL, &err);
	}
out:
	mfs_buf_fini(&rows);
	eng_fields_put(f);
	free(ends);
	free(ids);
	free(has);
	free(v);
	return rc;
}

static uint64_t count(const char *coll, const char *part)
{
	uint64_t n = 0;

	OK(eng_count(eng, coll, part, &n, &err));
	return n;
}

/* Run a query; ids of matches into out (cap), returns their number;
 * count(*) into *cnt when not NULL. */
struct got {
	int64_t ids[4096];
	size_t n;
	int64_t vals[4096];             /* field 0 as an integer */
};

static int got_cb(void *arg, const struct eng_fq_row *r)
{
	struct got *g = arg;
	struct fld_value v;

	ck_assert_uint_lt(g->n, 4096);
	g->ids[g->n] = r->id;
	fld_cols_get(r->cols, r->row, 0, &v);
	g->vals[g->n] = v.type == FLD_NONE ? -999999 : v.i;
	g->n++;
	return 0;
}

static int query(const char *coll, const char *part, const char *expr,
		 uint64_t offset, uint64_t limit, struct got *g, uint64_t *cnt)
{
	struct eng_fields *f;
	struct fld_expr *x = NULL;
	struct eng_fquery q = { 0 };
	struct eng_fq *j = NULL;
	size_t given;
	int rc;

	memset(g, 0, sizeof(*g));
	OK(eng_fields_get(eng, coll, &f, &err));
	if (expr && *expr) {
		rc = fld_expr_parse(expr, strlen(expr), eng_fields_schema(f),
				    &x, &err);
		if (rc < 0)
			goto out;
	}
	q.filter = x;
	q.offset = offset;
	q.limit = limit;
	q.count = cnt != NULL;
	rc = eng_fq_start(eng, coll, part, &q, &j, &err);
	if (rc < 0)
		goto out;
	if (cnt)
		*cnt = eng_fq_count(j);
	do {
		rc = eng_fq_next(j, 100, got_cb, g, &given, &err);
	} while (rc == 0 && given);
out:
	eng_fq_end(j);
	fld_expr_free(x);
	eng_fields_put(f);
	return rc;
}

START_TEST(test_schema_replace_merge)
{
	const char *const a[] = { "rank:INT64", "word:VARCHAR(8)", NULL };
	const char *const b[] = { "word:VARCHAR(8)", NULL };
	const char *const add_bad[] = { "rank:INT64", "word:VARCHAR(8)",
					"x:INT32", NULL };
	const char *const add_ok[] = { "note:VARCHAR(4):nullable",
				       "lvl:INT8:default=3", NULL };
	const char *const change[] = { "word:VARCHAR(9)", NULL };
	const char *const objs[] = { "{\"id\":1,\"rank\":5,\"word\":\"a\"}" };
	struct eng_fields *f;
	struct got g;

	OK(eng_coll_create(eng, "c", &err));
	OK(schema("c", "dim=2", a));
	/* before data: a write replaces the fields */
	OK(schema("c", NULL, b));
	OK(eng_fields_get(eng, "c", &f, &err));
	ck_assert_uint_eq(eng_fields_schema(f)->n, 1);
	eng_fields_put(f);
	OK(schema("c", NULL, a));
	OK(put_json("c", NULL, false, objs, 1));
	/* after data: merge; a new required field is EBUSY */
	FAILS(-EBUSY, schema("c", NULL, add_bad));
	FAILS(-EBUSY, schema("c", NULL, change));
	OK(schema("c", NULL, a));       /* as defined: a no-op */
	OK(schema("c", NULL, add_ok));
	OK(eng_fields_get(eng, "c", &f, &err));
	ck_assert_uint_eq(eng_fields_schema(f)->n, 4);
	ck_assert_str_eq(eng_fields_text(f, NULL),
			 "field=rank:INT64\nfield=word:VARCHAR(8)\n"
			 "field=note:VARCHAR(4):nullable\n"
			 "field=lvl:INT8:default=3\n");
	eng_fields_put(f);
	/* the old entity reads the default of the added field */
	OK(eng_load(eng, "c", NULL, 1, &err));
	OK(query("c", NULL, "lvl == 3 and note is null", 0, 0, &g, NULL));
	ck_assert_uint_eq(g.n, 1);
	/* loaded: no field change */
	{
		const char *const more[] = { "z:BOOL:nullable", NULL };

		FAILS(-EBUSY, schema("c", NULL, more));
	}
	/* persists */
	close_all();
	open_all();
	OK(eng_fields_get(eng, "c", &f, &err));
	ck_assert_uint_eq(eng_fields_schema(f)->n, 4);
	eng_fields_put(f);
}
END_TEST

START_TEST(test_insert_defaults_and_required)
{
	const char *const a[] = { "rank:INT64:default=7", "n:INT32:nullable",
				  NULL };
	const char *const b[] = { "rank:INT64", NULL };
	float v[4] = { 1, 2, 3, 4 };
	struct eng_rows r = { .n = 2, .vtype = VEC_FLOAT, .dim = 2, .vecs = v };
	struct got g;

	OK(eng_coll_create(eng, "c", &err));
	OK(schema("c", "dim=2", a));
	/* no rows given: defaults and nulls */
	OK(eng_insert(eng, "c", NULL, &r, NULL, &err));
	OK(eng_load(eng, "c", NULL, 1, &err));
	OK(query("c", NULL, "rank == 7 and n is null", 0, 0, &g, NULL));
	ck_assert_uint_eq(g.n, 2);
	/* a required field without value: EINVAL, nothing stored */
	OK(eng_coll_create(eng, "d", &err));
	OK(schema("d", "dim=2", b));
	FAILS(-EINVAL, eng_insert(eng, "d", NULL, &r, NULL, &err));
	ck_assert_msg(strstr(err.msg, "rank"), "message: %s", err.msg);
	ck_assert_uint_eq(count("d", NULL), 0);
}
END_TEST

START_TEST(test_upsert)
{
	const char *const a[] = { "rank:INT64", NULL };
	const char *const first[] = { "{\"id\":1,\"rank\":10}",
				      "{\"id\":2,\"rank\":20}" };
	const char *const second[] = { "{\"id\":2,\"rank\":21}",
					"{\"id\":3,\"rank\":30}" };
	const char *const dup[] = { "{\"id\":4,\"rank\":1}",
				    "{\"id\":4,\"rank\":2}" };
	struct got g;
	char part[STORE_NAME_MAX + 1];

	OK(eng_coll_create(eng, "c", &err));
	OK(schema("c", "dim=2", a));
	OK(eng_part_create(eng, "c", "p", &err));
	OK(put_json("c", NULL, false, first, 2));
	OK(eng_load(eng, "c", NULL, 1, &err));
	/* upsert into p: id 2 moves from _default to p */
	OK(put_json("c", "p", true, second, 2));
	ck_assert_uint_eq(count("c", NULL), 3);
	ck_assert_uint_eq(count("c", "p"), 2);
	ck_assert_uint_eq(count("c", "_default"), 1);
	OK(eng_entity_get(eng, "c", 2, NULL, part, &err));
	ck_assert_str_eq(part, "p");
	OK(query("c", NULL, "", 0, 0, &g, NULL));
	ck_assert_uint_eq(g.n, 3);
	ck_assert_int_eq(g.ids[0], 1);
	ck_assert_int_eq(g.ids[1], 2);
	ck_assert_int_eq(g.vals[1], 21);        /* never the old one */
	ck_assert_int_eq(g.ids[2], 3);
	/* the search answers the new entity only, once */
	{
		float q[2] = { 2, -2 };
		struct eng_query sq = { .k = 5, .nq = 1, .vecs = q, .dim = 2 };
		struct eng_result res;
		size_t twos = 0;

		OK(eng_search(eng, "c", NULL, &sq, &res, &err));
		for (size_t i = 0; i < res.count[0]; i++)
			twos += res.ids[i] == 2;
		ck_assert_uint_eq(twos, 1);
		eng_result_free(&res);
	}
	FAILS(-EINVAL, put_json("c", NULL, true, dup, 2));
	ck_assert_uint_eq(count("c", NULL), 3);
	/* an entity without an id */
	{
		float v[2] = { 0, 0 };
		struct eng_rows r = { .n = 1, .vtype = VEC_FLOAT, .dim = 2,
				      .vecs = v };
		const char *const d[] = { "rank:INT64:default=0", NULL };

		(void)d;
		FAILS(-EINVAL, eng_upsert(eng, "c", NULL, &r, NULL, &err));
	}
	/* after reload, same answers */
	OK(eng_release(eng, "c", NULL, &err));
	OK(eng_load(eng, "c", NULL, 1, &err));
	OK(query("c", NULL, "rank > 15", 0, 0, &g, NULL));
	ck_assert_uint_eq(g.n, 2);
	ck_assert_int_eq(g.ids[0], 2);
	ck_assert_int_eq(g.ids[1], 3);
}
END_TEST

/* Random data in three partitions, out-of-order ids; queries against a
 * brute force over what was generated. */
START_TEST(test_query_brute_force)
{
	const char *const a[] = { "v:INT64:nullable", "s:VARCHAR(8)", NULL };
	static const char *const parts[] = { "_default", "p1", "p2" };
	enum { N = 900 };
	static int64_t vv[N + 1];
	static bool vnull[N + 1], live[N + 1];
	static char ss[N + 1][8];
	static const char *const exprs[] = {
		"v < 50", "v >= 20 and v < 70", "v in [1, 5, 9, 99]",
		"not (v == 3)", "v is null", "v % 7 == 0 or s like \"b%\"",
		"s == \"a3\"", "",
	};
	uint64_t rng = 12345;
	struct got g;

	OK(eng_coll_create(eng, "c", &err));
	OK(schema("c", "dim=2", a));
	OK(eng_part_create(eng, "c", "p1", &err));
	OK(eng_part_create(eng, "c", "p2", &err));
	/* ids in a shuffled order, each partition gets every third */
	for (int i = 1; i <= N; i++) {
		char obj[128];
		const char *o[1] = { obj };
		int64_t id = (int64_t)((i * 379) % N) + 1;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		vnull[id] = (rng >> 60) == 0;
		vv[id] = (int64_t)((rng >> 33) % 100);
		snprintf(ss[id], sizeof(ss[id]), "%c%d",
			 "abc"[(rng >> 20) % 3], (int)((rng >> 40) % 10));
		live[id] = true;
		if (vnull[id])
			snprintf(obj, sizeof(obj),
				 "{\"id\":%lld,\"v\":null,\"s\":\"%s\"}",
				 (long long)id, ss[id]);
		else
			snprintf(obj, sizeof(obj),
				 "{\"id\":%lld,\"v\":%lld,\"s\":\"%s\"}",
				 (long long)id, (long long)vv[id], ss[id]);
		OK(put_json("c", parts[i % 3], false, o, 1));
	}
	OK(eng_load(eng, "c", NULL, 1, &err));
	/* some deletes */
	for (int64_t id = 5; id <= N; id += 11) {
		OK(eng_delete(eng, "c", NULL, &id, 1, NULL, &err));
		live[id] = false;
	}
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			OK(eng_sindex_set(eng, "c", "v", "STL_SORT", &err));
			OK(eng_sindex_set(eng, "c", "s", "INVERTED", &err));
		}
		for (size_t e = 0; e < sizeof(exprs) / sizeof(exprs[0]); e++) {
			int64_t want[N];
			size_t nw = 0;
			uint64_t cnt = 0;

			for (int64_t id = 1; id <= N; id++) {
				bool m;

				if (!live[id])
					continue;
				switch (e) {
				case 0: m = !vnull[id] && vv[id] < 50; break;
				case 1: m = !vnull[id] && vv[id] >= 20 && vv[id] < 70; break;
				case 2: m = !vnull[id] && (vv[id] == 1 || vv[id] == 5 || vv[id] == 9 || vv[id] == 99); break;
				case 3: m = !vnull[id] && vv[id] != 3; break;
				case 4: m = vnull[id]; break;
				case 5: m = (!vnull[id] && vv[id] % 7 == 0) || ss[id][0] == 'b'; break;
				case 6: m = strcmp(ss[id], "a3") == 0; break;
				default: m = true; break;
				}
				if (m)
					want[nw++] = id;
			}
			OK(query("c", NULL, exprs[e], 0, 0, &g, NULL));
			ck_assert_msg(g.n == nw, "%s: %zu matches, want %zu",
				      exprs[e], g.n, nw);
			for (size_t i = 0; i < nw; i++)
				ck_assert_int_eq(g.ids[i], want[i]);
			OK(query("c", NULL, exprs[e], 0, 0, &g, &cnt));
			ck_assert_uint_eq(cnt, nw);
			/* pages */
			OK(query("c", NULL, exprs[e], 3, 5, &g, NULL));
			ck_assert_uint_eq(g.n, nw > 3 ? (nw - 3 < 5 ? nw - 3 : 5) : 0);
			for (size_t i = 0; i < g.n; i++)
				ck_assert_int_eq(g.ids[i], want[3 + i]);
			{
				size_t page = g.n;

				OK(query("c", NULL, exprs[e], 3, 5, &g, &cnt));
				ck_assert_uint_eq(cnt, page);
			}
		}
	}
	/* one partition */
	OK(query("c", "p1", "", 0, 0, &g, NULL));
	for (size_t i = 0; i < g.n; i++) {
		char part[STORE_NAME_MAX + 1];

		OK(eng_entity_get(eng, "c", g.ids[i], NULL, part, &err));
		ck_assert_str_eq(part, "p1");
		if (i)
			ck_assert_int_lt(g.ids[i - 1], g.ids[i]);
	}
	ck_assert_uint_eq(g.n, count("c", "p1"));
}
END_TEST

/* Rows inserted or deleted after the start are not seen. */
static int consistent_cb(void *arg, const struct eng_fq_row *r)
{
	(*(size_t *)arg)++;
	return 0;
}

START_TEST(test_query_snapshot)
{
	const char *const a[] = { "v:INT64", NULL };
	struct eng_fields *f;
	struct fld_expr *x;
	struct eng_fquery q = { 0 };
	struct eng_fq *j;
	size_t seen = 0, given;
	int64_t id;

	OK(eng_coll_create(eng, "c", &err));
	OK(schema("c", "dim=2", a));
	for (int i = 1; i <= 3000; i++) {
		char obj[64];
		const char *o[1] = { obj };

		snprintf(obj, sizeof(obj), "{\"id\":%d,\"v\":%d}", i, i % 2);
		OK(put_json("c", NULL, false, o, 1));
	}
	OK(eng_load(eng, "c", NULL, 1, &err));
	OK(eng_fields_get(eng, "c", &f, &err));
	OK(fld_expr_parse("v == 1", 6, eng_fields_schema(f), &x, &err));
	q.filter = x;
	OK(eng_fq_start(eng, "c", NULL, &q, &j, &err));
	OK(eng_fq_next(j, 10, consistent_cb, &seen, &given, &err));
	/* meanwhile: delete a later match, insert new matches */
	id = 2999;
	OK(eng_delete(eng, "c", NULL, &id, 1, NULL, &err));
	{
		const char *o[1] = { "{\"id\":5000,\"v\":1}" };

		OK(put_json("c", NULL, false, o, 1));
	}
	do {
		OK(eng_fq_next(j, 100, consistent_cb, &seen, &given, &err));
	} while (given);
	ck_assert_uint_eq(seen, 1500);
	eng_fq_end(j);
	/* a release while a query streams: the query goes on */
	OK(eng_fq_start(eng, "c", NULL, &q, &j, &err));
	OK(eng_release(eng, "c", NULL, &err));
	seen = 0;
	do {
		OK(eng_fq_next(j, 100, consistent_cb, &seen, &given, &err));
	} while (given);
	ck_assert_uint_eq(seen, 1500);  /* 2999 gone, 5000 in */
	eng_fq_end(j);
	FAILS(-ENODATA, eng_fq_start(eng, "c", NULL, &q, &j, &err));
	ck_assert_msg(strstr(err.msg, "collection not loaded"), "%s", err.msg);
	fld_expr_free(x);
	eng_fields_put(f);
}
END_TEST

START_TEST(test_delete_filter)
{
	const char *const a[] = { "v:INT64", NULL };
	struct eng_fields *f;
	struct fld_expr *x;
	size_t nd = 0;
	struct got g;

	OK(eng_coll_create(eng, "c", &err));
	OK(schema("c", "dim=2", a));
	for (int i = 1; i <= 100; i++) {
		char obj[64];
		const char *o[1] = { obj };

		snprintf(obj, sizeof(obj), "{\"id\":%d,\"v\":%d}", i, i);
		OK(put_json("c", NULL, false, o, 1));
	}
	OK(eng_fields_get(eng, "c", &f, &err));
	OK(fld_expr_parse("v > 90 or v <= 5", 16, eng_fields_schema(f), &x,
			  &err));
	/* SPEC §8: loaded partitions only */
	FAILS(-ENODATA, eng_delete_filter(eng, "c", NULL, x, &nd, &err));
	ck_assert_uint_eq(count("c", NULL), 100);
	OK(eng_load(eng, "c", NULL, 1, &err));
	OK(eng_delete_filter(eng, "c", NULL, x, &nd, &err));
	ck_assert_uint_eq(nd, 15);
	ck_assert_uint_eq(count("c", NULL), 85);
	OK(query("c", NULL, "", 0, 0, &g, NULL));
	ck_assert_uint_eq(g.n, 85);
	ck_assert_int_eq(g.ids[0], 6);
	ck_assert_int_eq(g.ids[84], 90);
	/* matching nothing is not an error */
	OK(eng_delete_filter(eng, "c", NULL, x, &nd, &err));
	ck_assert_uint_eq(nd, 0);
	fld_expr_free(x);
	eng_fields_put(f);
}
END_TEST

START_TEST(test_scalar_index_decl)
{
	const char *const a[] = { "v:INT64", "s:VARCHAR(8)", "j:JSON", NULL };
	struct eng_names fl, ty;

	OK(eng_coll_create(eng, "c", &err));
	OK(schema("c", "dim=2", a));
	FAILS(-EINVAL, eng_sindex_set(eng, "c", "nope", "STL_SORT", &err));
	ck_assert_msg(strstr(err.msg, "field nope not exist"), "%s", err.msg);
	FAILS(-EINVAL, eng_sindex_set(eng, "c", "v", "TRIE", &err));
	OK(eng_sindex_set(eng, "c", "v", "STL_SORT", &err));
	OK(eng_sindex_set(eng, "c", "s", "TRIE", &err));
	OK(eng_sindex_list(eng, "c", &fl, &ty, &err));
	ck_assert_uint_eq(fl.n, 2);
	ck_assert_str_eq(fl.name[0], "v");
	ck_assert_str_eq(ty.name[0], "STL_SORT");
	ck_assert_str_eq(fl.name[1], "s");
	ck_assert_str_eq(ty.name[1], "TRIE");
	eng_names_free(&fl);
	eng_names_free(&ty);
	close_all();
	open_all();
	OK(eng_sindex_set(eng, "c", "v", "NONE", &err));
	OK(eng_sindex_list(eng, "c", &fl, &ty, &err));
	ck_assert_uint_eq(fl.n, 1);
	ck_assert_str_eq(fl.name[0], "s");
	eng_names_free(&fl);
	eng_names_free(&ty);
}
END_TEST

START_TEST(test_partition_key)
{
	const char *const a[] = { "cat:VARCHAR(8):partition_key", "v:INT64",
				  NULL };
	struct eng_names names;
	uint64_t total = 0;
	struct got g;

	OK(eng_coll_create(eng, "c", &err));
	OK(schema("c", "dim=2 num_partitions=6", a));
	OK(eng_part_list(eng, "c", &names, &err));
	ck_assert_uint_eq(names.n, 7);  /* _default and _default_0..5 */
	eng_names_free(&names);
	/* fewer before data: the surplus key partitions go */
	OK(schema("c", "num_partitions=4", NULL));
	OK(eng_part_list(eng, "c", &names, &err));
	ck_assert_uint_eq(names.n, 5);  /* _default and _default_0..3 */
	ck_assert(!eng_part_exists(eng, "c", "_default_4"));
	eng_names_free(&names);
	FAILS(-EPERM, eng_part_create(eng, "c", "x", &err));
	FAILS(-EPERM, eng_part_drop(eng, "c", "_default_1", &err));
	for (int i = 1; i <= 200; i++) {
		char obj[64];
		const char *o[1] = { obj };

		snprintf(obj, sizeof(obj), "{\"id\":%d,\"cat\":\"k%d\",\"v\":%d}",
			 i, i % 10, i);
		OK(put_json("c", NULL, false, o, 1));
	}
	{
		const char *o[1] = { "{\"id\":999,\"cat\":\"k1\",\"v\":1}" };

		FAILS(-EINVAL, put_json("c", "_default_0", false, o, 1));
	}
	ck_assert_uint_eq(count("c", "_default"), 0);
	for (int p = 0; p < 4; p++) {
		char name[32];

		snprintf(name, sizeof(name), "_default_%d", p);
		total += count("c", name);
	}
	ck_assert_uint_eq(total, 200);
	/* one key lives in one partition */
	OK(eng_load(eng, "c", NULL, 1, &err));
	{
		int where = -1;

		for (int p = 0; p < 4; p++) {
			char name[32];

			snprintf(name, sizeof(name), "_default_%d", p);
			OK(query("c", name, "cat == \"k3\"", 0, 0, &g, NULL));
			if (g.n) {
				ck_assert_int_eq(where, -1);
				where = p;
				ck_assert_uint_eq(g.n, 20);
			}
		}
		ck_assert_int_ne(where, -1);
		/* the filter on the key visits only its partition: with
		 * that one released it is not loaded (not an empty answer) */
		{
			char name[32];

			snprintf(name, sizeof(name), "_default_%d", where);
			OK(eng_release(eng, "c", name, &err));
			FAILS(-ENODATA, query("c", NULL, "cat == \"k3\"", 0, 0,
					      &g, NULL));
			OK(query("c", NULL, "v > 0", 0, 0, &g, NULL));
			ck_assert_uint_eq(g.n, 200 - count("c", name));
			OK(eng_load(eng, "c", name, 1, &err));
		}
	}
	OK(query("c", NULL, "cat == \"k3\"", 0, 0, &g, NULL));
	ck_assert_uint_eq(g.n, 20);
}
END_TEST

START_TEST(test_memory_accounting)
{
	const char *const a[] = { "s:VARCHAR(64)", NULL };
	uint64_t before, loaded, after;

	OK(eng_coll_create(eng, "c", &err));
	OK(schema("c", "dim=2", a));
	for (int i = 1; i <= 500; i++) {
		char obj[128];
		const char *o[1] = { obj };

		snprintf(obj, sizeof(obj),
			 "{\"id\":%d,\"s\":\"a fairly long string value %d\"}",
			 i, i);
		OK(put_json("c", NULL, false, o, 1));
	}
	pthread_mutex_lock(&eng->memmu);
	before = eng->mem_used;
	pthread_mutex_unlock(&eng->memmu);
	OK(eng_load(eng, "c", NULL, 1, &err));
	pthread_mutex_lock(&eng->memmu);
	loaded = eng->mem_used;
	pthread_mutex_unlock(&eng->memmu);
	/* 500 ids, epochs and ~30-byte strings: the columns count */
	ck_assert_msg(loaded >= before + 500 * (8 + 4 + 30),
		      "loaded %llu, before %llu", (unsigned long long)loaded,
		      (unsigned long long)before);
	OK(eng_release(eng, "c", NULL, &err));
	pthread_mutex_lock(&eng->memmu);
	after = eng->mem_used;
	pthread_mutex_unlock(&eng->memmu);
	ck_assert_uint_eq(after, before);
}
END_TEST

/* A record that names its partition goes there (SPEC §8 is silent; this
 * is what a Milvus insert with partition_name does). */
START_TEST(test_named_partition)
{
	float v[6] = { 1, 1, 2, 2, 3, 3 };
	int64_t ids[3] = { 1, 2, 3 };
	uint8_t has[3] = { 1, 1, 1 };
	const char *names[3] = { "p", NULL, "p" };
	const char *bad[3] = { "nosuch", NULL, NULL };
	struct eng_rows r = { .n = 3, .vtype = VEC_FLOAT, .dim = 2, .vecs = v,
			      .has_id = has, .ids = ids, .parts = names };
	char part[STORE_NAME_MAX + 1];

	OK(eng_coll_create(eng, "c", &err));
	OK(eng_part_create(eng, "c", "p", &err));
	OK(eng_part_create(eng, "c", "q", &err));
	r.parts = bad;
	FAILS(-ENOENT, eng_insert(eng, "c", NULL, &r, NULL, &err));
	ck_assert_uint_eq(count("c", NULL), 0);
	r.parts = names;
	FAILS(-EINVAL, eng_insert(eng, "c", "q", &r, NULL, &err));
	ck_assert_uint_eq(count("c", NULL), 0);
	OK(eng_insert(eng, "c", NULL, &r, NULL, &err));
	ck_assert_uint_eq(count("c", "p"), 2);
	ck_assert_uint_eq(count("c", "_default"), 1);
	OK(eng_entity_get(eng, "c", 3, NULL, part, &err));
	ck_assert_str_eq(part, "p");
	/* upsert moves an entity to the partition its record names */
	{
		const char *to_q[1] = { "q" };
		struct eng_rows u = { .n = 1, .vtype = VEC_FLOAT, .dim = 2,
				      .vecs = v, .has_id = has, .ids = ids,
				      .parts = to_q };

		OK(eng_upsert(eng, "c", NULL, &u, NULL, &err));
		OK(eng_entity_get(eng, "c", 1, NULL, part, &err));
		ck_assert_str_eq(part, "q");
		ck_assert_uint_eq(count("c", NULL), 3);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("engine_fields");
	TCase *tc = tcase_create("fields");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_schema_replace_merge);
	tcase_add_test(tc, test_insert_defaults_and_required);
	tcase_add_test(tc, test_upsert);
	tcase_add_test(tc, test_query_brute_force);
	tcase_add_test(tc, test_query_snapshot);
	tcase_add_test(tc, test_delete_filter);
	tcase_add_test(tc, test_scalar_index_decl);
	tcase_add_test(tc, test_partition_key);
	tcase_add_test(tc, test_memory_accounting);
	tcase_add_test(tc, test_named_partition);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	int nf;

	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
