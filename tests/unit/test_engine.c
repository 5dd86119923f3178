/* test_engine.c - unit tests of src/engine: catalog, schema, insert and
 * delete, load state and memory limit, search against brute force,
 * persistence of load state, concurrency, recall (on a synthetic set, and
 * on photosift128 when it is there), index builds, saved queries.
 *
 * Each test case gets a fresh temporary LMDB (checked fixture, run in the
 * forked test process) removed afterwards.  A few cases look inside
 * (engine_int.h) to force a state that is otherwise a race (Loading).
 */
#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/engine.h"
#include "engine/engine_int.h"
#include "synth.h"

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

static void open_all(const struct eng_opts *o)
{
	struct store_opts so = { .mapsize_bytes = 64u << 20 };
	int rc = store_open(db_dir, &so, &st, &err);

	ck_assert_msg(rc == 0, "store_open: %d %s", rc, err.msg);
	rc = eng_open(st, o, &eng, &err);
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
	struct eng_opts o = { .threads = 2 };
	const char *tmp = getenv("TMPDIR");

	snprintf(tmp_root, sizeof(tmp_root), "%s/test_engine.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tmp_root));
	snprintf(db_dir, sizeof(db_dir), "%s/db", tmp_root);
	mfs_err_clear(&err);
	open_all(&o);
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

/* Deterministic pseudo-random floats in [-1, 1). */
static uint64_t rng_state = 88172645463325252ull;
static float frand(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (float)((rng_state >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
}

static float *rand_vecs(size_t n, uint32_t dim)
{
	float *v = malloc(n * dim * sizeof(*v));

	ck_assert_ptr_nonnull(v);
	for (size_t i = 0; i < n * dim; i++)
		v[i] = frand();
	return v;
}

/* Insert n vectors with auto ids (ids NULL) or user ids. */
static int insert(const char *coll, const char *part, const float *v,
		  size_t n, uint32_t dim, const int64_t *ids, int64_t *first)
{
	uint8_t *has = NULL;
	struct eng_rows r = { .n = n, .vtype = VEC_FLOAT, .dim = dim,
			      .vecs = v };
	int rc;

	if (ids) {
		has = malloc(n);
		memset(has, 1, n);
		r.has_id = has;
		r.ids = ids;
	}
	mfs_err_clear(&err);
	rc = eng_insert(eng, coll, part, &r, first, &err);
	free(has);
	return rc;
}

static uint64_t count(const char *coll, const char *part)
{
	uint64_t n = 0;

	OK(eng_count(eng, coll, part, &n, &err));
	return n;
}

static enum eng_state state(const char *coll, const char *part)
{
	enum eng_state s;

	OK(eng_state(eng, coll, part, &s, NULL, &err));
	return s;
}

static int search(const char *coll, const char *part, const float *q,
		  size_t nq, uint32_t dim, size_t k, size_t offset,
		  struct eng_result *r)
{
	struct eng_query eq = { .k = k, .offset = offset, .nq = nq, .vecs = q,
				.dim = dim };

	mfs_err_clear(&err);
	memset(r, 0, sizeof(*r));
	return eng_search(eng, coll, part, &eq, r, &err);
}

/* Brute force: best k ids (and Milvus distances) of q among v[0..n) with
 * ids id0 + i. */
struct bf { int64_t id; double score; };

static int bf_cmp(const void *a, const void *b)
{
	const struct bf *x = a, *y = b;

	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

static void brute(enum vec_metric m, const float *v, size_t n, uint32_t dim,
		  int64_t id0, const float *q, struct bf *out)
{
	double qn = 0;

	for (uint32_t j = 0; j < dim; j++)
		qn += (double)q[j] * q[j];
	for (size_t i = 0; i < n; i++) {
		double l2 = 0, dot = 0, vn = 0;

		for (uint32_t j = 0; j < dim; j++) {
			double d = (double)v[i * dim + j] - q[j];

			l2 += d * d;
			dot += (double)v[i * dim + j] * q[j];
			vn += (double)v[i * dim + j] * v[i * dim + j];
		}
		out[i].id = id0 + (int64_t)i;
		out[i].score = m == VEC_L2 ? l2 : m == VEC_IP ? -dot
			       : -dot / sqrt(vn * qn);
	}
	qsort(out, n, sizeof(*out), bf_cmp);
}

/* ---- catalog ---- */

START_TEST(test_collections)
{
	struct eng_names names;

	OK(eng_coll_create(eng, "book", &err));
	OK(eng_coll_create(eng, "alpha", &err));
	FAILS(-EEXIST, eng_coll_create(eng, "book", &err));
	ck_assert(eng_coll_exists(eng, "book"));
	ck_assert(!eng_coll_exists(eng, "nope"));
	OK(eng_coll_list(eng, &names, &err));
	ck_assert_uint_eq(names.n, 2);
	ck_assert_str_eq(names.name[0], "alpha");
	ck_assert_str_eq(names.name[1], "book");
	eng_names_free(&names);

	OK(eng_coll_rename(eng, "book", "novel", &err));
	ck_assert(!eng_coll_exists(eng, "book"));
	ck_assert(eng_coll_exists(eng, "novel"));
	FAILS(-EEXIST, eng_coll_rename(eng, "novel", "alpha", &err));
	FAILS(-ENOENT, eng_coll_rename(eng, "book", "x", &err));
	ck_assert(eng_part_exists(eng, "novel", "_default"));

	OK(eng_coll_drop(eng, "alpha", &err));
	FAILS(-ENOENT, eng_coll_drop(eng, "alpha", &err));
	ck_assert(!eng_coll_exists(eng, "alpha"));

	/* The catalog survives a reopen. */
	close_all();
	open_all(NULL);
	ck_assert(eng_coll_exists(eng, "novel"));
	ck_assert(!eng_coll_exists(eng, "alpha"));
	ck_assert(eng_part_exists(eng, "novel", "_default"));
}
END_TEST

START_TEST(test_partitions)
{
	struct eng_opts o = { .threads = 2, .max_partitions = 4 };
	struct eng_names names;
	float *v = rand_vecs(4, 4);

	close_all();
	open_all(&o);
	OK(eng_coll_create(eng, "book", &err));
	OK(eng_part_create(eng, "book", "b", &err));
	OK(eng_part_create(eng, "book", "a", &err));
	FAILS(-EEXIST, eng_part_create(eng, "book", "a", &err));
	FAILS(-ENOENT, eng_part_create(eng, "nope", "a", &err));
	OK(eng_part_list(eng, "book", &names, &err));
	ck_assert_uint_eq(names.n, 3);
	ck_assert_str_eq(names.name[0], "_default");
	ck_assert_str_eq(names.name[1], "b");     /* creation order */
	ck_assert_str_eq(names.name[2], "a");
	eng_names_free(&names);

	OK(eng_part_create(eng, "book", "c", &err));
	FAILS(-EDQUOT, eng_part_create(eng, "book", "d", &err));
	ck_assert_msg(strstr(err.msg, "exceeds max configuration (4)") &&
		      strstr(err.msg, "book"), "%s", err.msg);

	FAILS(-EPERM, eng_part_drop(eng, "book", "_default", &err));
	FAILS(-ENOENT, eng_part_drop(eng, "book", "zz", &err));

	ck_assert_int_eq(insert("book", "a", v, 4, 4, NULL, NULL), 0);
	OK(eng_load(eng, "book", "a", 1, &err));
	FAILS(-EBUSY, eng_part_drop(eng, "book", "a", &err));
	ck_assert_msg(strstr(err.msg, "release"), "%s", err.msg);
	FAILS(-EBUSY, eng_coll_drop(eng, "book", &err));
	OK(eng_release(eng, "book", "a", &err));
	OK(eng_part_drop(eng, "book", "a", &err));
	ck_assert(!eng_part_exists(eng, "book", "a"));
	ck_assert_uint_eq(count("book", NULL), 0);
	OK(eng_part_create(eng, "book", "d", &err));
	FAILS(-EDQUOT, eng_part_create(eng, "book", "a", &err));
	OK(eng_part_drop(eng, "book", "d", &err));
	/* A new partition of a dropped one's name is empty. */
	OK(eng_part_create(eng, "book", "a", &err));
	ck_assert_uint_eq(count("book", "a"), 0);
	OK(eng_coll_drop(eng, "book", &err));
	free(v);
}
END_TEST

START_TEST(test_schema)
{
	struct eng_schema s;
	struct mfs_kv kv;
	float *v = rand_vecs(10, 8);

	OK(eng_coll_create(eng, "book", &err));
	OK(eng_schema_get(eng, "book", &s, &err));
	ck_assert_uint_eq(s.dim, 0);
	ck_assert_int_eq(s.vtype, VEC_FLOAT);
	ck_assert_int_eq(s.metric, VEC_L2);

	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "dim", "1", NULL);
	FAILS(-EINVAL, eng_schema_set(eng, "book", &kv, NULL, &err));
	mfs_kv_set(&kv, "dim", "32769", NULL);
	FAILS(-EINVAL, eng_schema_set(eng, "book", &kv, NULL, &err));
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "color", "red", NULL);
	FAILS(-EINVAL, eng_schema_set(eng, "book", &kv, NULL, &err));
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "metric_type", "HAMMING", NULL);
	FAILS(-EINVAL, eng_schema_set(eng, "book", &kv, NULL, &err));
	/* All or nothing: a bad key keeps the good one out. */
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "dim", "16", NULL);
	mfs_kv_set(&kv, "bogus", "1", NULL);
	FAILS(-EINVAL, eng_schema_set(eng, "book", &kv, NULL, &err));
	OK(eng_schema_get(eng, "book", &s, &err));
	ck_assert_uint_eq(s.dim, 0);

	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "vector_type", "BINARY_VECTOR", NULL);
	mfs_kv_set(&kv, "dim", "12", NULL);
	FAILS(-EINVAL, eng_schema_set(eng, "book", &kv, NULL, &err));
	mfs_kv_set(&kv, "dim", "16", NULL);
	OK(eng_schema_set(eng, "book", &kv, NULL, &err));
	OK(eng_schema_get(eng, "book", &s, &err));
	ck_assert_int_eq(s.vtype, VEC_BINARY);
	ck_assert_int_eq(s.metric, VEC_HAMMING);
	ck_assert_uint_eq(s.dim, 16);

	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "vector_type", "FLOAT_VECTOR", NULL);
	mfs_kv_set(&kv, "dim", "8", NULL);
	mfs_kv_set(&kv, "metric_type", "IP", NULL);
	mfs_kv_set(&kv, "description", "a book", NULL);
	OK(eng_schema_set(eng, "book", &kv, NULL, &err));
	OK(eng_schema_get(eng, "book", &s, &err));
	ck_assert_int_eq(s.vtype, VEC_FLOAT);
	ck_assert_int_eq(s.metric, VEC_IP);
	ck_assert_str_eq(s.description, "a book");

	/* Wrong dim on insert. */
	float *v3 = rand_vecs(2, 3);
	ck_assert_int_eq(insert("book", NULL, v3, 2, 3, NULL, NULL), -EINVAL);
	ck_assert_msg(strstr(err.msg, "expected 8, got 3"), "%s", err.msg);
	free(v3);

	ck_assert_int_eq(insert("book", NULL, v, 10, 8, NULL, NULL), 0);
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "dim", "16", NULL);
	FAILS(-EBUSY, eng_schema_set(eng, "book", &kv, NULL, &err));
	ck_assert_msg(strstr(err.msg,
			     "cannot change dim of collection book: it has 10 entities"),
		      "%s", err.msg);
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "metric_type", "L2", NULL);
	FAILS(-EBUSY, eng_schema_set(eng, "book", &kv, NULL, &err));
	/* Same values and the description are fine. */
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "dim", "8", NULL);
	mfs_kv_set(&kv, "metric_type", "IP", NULL);
	mfs_kv_set(&kv, "vector_type", "FLOAT_VECTOR", NULL);
	mfs_kv_set(&kv, "description", "changed", NULL);
	OK(eng_schema_set(eng, "book", &kv, NULL, &err));
	OK(eng_schema_get(eng, "book", &s, &err));
	ck_assert_str_eq(s.description, "changed");

	/* Schema set by the first insert. */
	OK(eng_coll_create(eng, "auto", &err));
	ck_assert_int_eq(insert("auto", NULL, v, 2, 5, NULL, NULL), 0);
	OK(eng_schema_get(eng, "auto", &s, &err));
	ck_assert_uint_eq(s.dim, 5);
	/* An empty loaded collection refuses schema changes. */
	OK(eng_coll_create(eng, "empty", &err));
	OK(eng_load(eng, "empty", NULL, 1, &err));
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "dim", "4", NULL);
	FAILS(-EBUSY, eng_schema_set(eng, "empty", &kv, NULL, &err));
	free(v);
}
END_TEST

/* ---- entities ---- */

START_TEST(test_insert_ids)
{
	float *v = rand_vecs(10, 4);
	int64_t first = 0, ids[3] = { 100, 7, 100 };
	size_t line[2] = { 6, 7 };
	uint8_t has[2] = { 0, 1 };
	int64_t uid[2] = { 0, 7 };
	char part[STORE_NAME_MAX + 1];
	float got[4];

	OK(eng_coll_create(eng, "book", &err));
	ck_assert_int_eq(insert("book", NULL, v, 3, 4, NULL, &first), 0);
	ck_assert_int_eq(first, 1);
	ck_assert_int_eq(insert("book", NULL, v + 12, 1, 4, ids, NULL), 0);
	ck_assert_int_eq(insert("book", NULL, v + 16, 1, 4, NULL, &first), 0);
	ck_assert_int_eq(first, 101);      /* user id 100 moved the counter */
	ck_assert_uint_eq(count("book", NULL), 5);

	/* A duplicate fails the whole batch and names the line. */
	struct eng_rows r = { .n = 2, .vtype = VEC_FLOAT, .dim = 4,
			      .has_id = has, .ids = uid, .vecs = v,
			      .line = line };
	OK(insert("book", NULL, v, 1, 4, &ids[1], NULL));
	FAILS(-EEXIST, eng_insert(eng, "book", NULL, &r, &first, &err));
	ck_assert_msg(strstr(err.msg,
			     "duplicate primary key: id 7 at line 7 already exists"),
		      "%s", err.msg);
	ck_assert_uint_eq(count("book", NULL), 6);
	/* Twice in one batch: nothing either. */
	ck_assert_int_eq(insert("book", NULL, v, 2, 4, (int64_t[]){ 500, 500 },
				NULL), -EEXIST);
	ck_assert_uint_eq(count("book", NULL), 6);
	FAILS(-ENOENT, eng_entity_get(eng, "book", 500, NULL, NULL, &err));
	/* The auto id counter did not move either. */
	ck_assert_int_eq(insert("book", NULL, v, 1, 4, NULL, &first), 0);
	ck_assert_int_eq(first, 102);

	/* NaN is refused. */
	float bad[4] = { 1, NAN, 0, 0 };
	ck_assert_int_eq(insert("book", NULL, bad, 1, 4, NULL, NULL), -EINVAL);

	OK(eng_entity_get(eng, "book", 2, got, part, &err));
	ck_assert_str_eq(part, "_default");
	ck_assert(memcmp(got, v + 4, sizeof(got)) == 0);
	FAILS(-ENOENT, eng_entity_get(eng, "book", 99, got, part, &err));
	FAILS(-ENOENT, insert("nope", NULL, v, 1, 4, NULL, NULL));
	FAILS(-ENOENT, insert("book", "nope", v, 1, 4, NULL, NULL));
	free(v);
}
END_TEST

struct scan_acc {
	int64_t ids[64];
	size_t n;
	size_t stop_at;
};

static int scan_cb(void *arg, int64_t id, const void *vec)
{
	struct scan_acc *a = arg;

	(void)vec;
	if (a->n == a->stop_at)
		return 1;
	a->ids[a->n++] = id;
	return 0;
}

START_TEST(test_delete_count_scan)
{
	float *v = rand_vecs(20, 4);
	struct eng_result r;
	size_t nd = 0;
	struct scan_acc acc = { .stop_at = SIZE_MAX };
	struct eng_cursor cur = { 0 };

	OK(eng_coll_create(eng, "book", &err));
	OK(eng_part_create(eng, "book", "p", &err));
	ck_assert_int_eq(insert("book", NULL, v, 10, 4, NULL, NULL), 0);
	ck_assert_int_eq(insert("book", "p", v + 40, 10, 4, NULL, NULL), 0);
	ck_assert_uint_eq(count("book", NULL), 20);
	ck_assert_uint_eq(count("book", "p"), 10);
	OK(eng_load(eng, "book", NULL, 1, &err));

	OK(eng_delete(eng, "book", NULL, (int64_t[]){ 1, 15, 999 }, 3, &nd,
		      &err));
	ck_assert_uint_eq(nd, 2);
	ck_assert_uint_eq(count("book", NULL), 18);
	ck_assert_uint_eq(count("book", "p"), 9);
	/* Restricted to a partition: ids elsewhere are ignored. */
	OK(eng_delete(eng, "book", "p", (int64_t[]){ 2, 16 }, 2, &nd, &err));
	ck_assert_uint_eq(nd, 1);
	ck_assert_uint_eq(count("book", "_default"), 9);

	/* Searching with the deleted vectors never returns them. */
	OK(search("book", NULL, v, 1, 4, 20, 0, &r));
	ck_assert_uint_eq(r.count[0], 17);
	for (size_t i = 0; i < r.count[0]; i++)
		ck_assert(r.ids[i] != 1 && r.ids[i] != 15 && r.ids[i] != 16);
	eng_result_free(&r);

	/* Scan: creation order, then insertion order, resumable. */
	acc.stop_at = 5;
	OK(eng_scan(eng, "book", NULL, &cur, 100, scan_cb, &acc, &err) == 1
	   ? 0 : -1);
	ck_assert_uint_eq(acc.n, 5);
	acc.stop_at = SIZE_MAX;
	while (!cur.done)
		OK(eng_scan(eng, "book", NULL, &cur, 3, scan_cb, &acc, &err));
	ck_assert_uint_eq(acc.n, 17);
	ck_assert_int_eq(acc.ids[0], 2);
	ck_assert_int_eq(acc.ids[8], 10);
	ck_assert_int_eq(acc.ids[9], 11);
	ck_assert_int_eq(acc.ids[16], 20);
	free(v);
}
END_TEST

/* ---- load state ---- */

START_TEST(test_load_state)
{
	float *v = rand_vecs(10, 4);
	struct eng_result r;
	unsigned pr = 7;
	enum eng_state s;

	OK(eng_coll_create(eng, "book", &err));
	OK(eng_part_create(eng, "book", "p", &err));
	ck_assert_int_eq(insert("book", NULL, v, 5, 4, NULL, NULL), 0);
	ck_assert_int_eq(insert("book", "p", v + 20, 5, 4, NULL, NULL), 0);
	ck_assert_int_eq(state("book", NULL), ENG_NOTLOAD);
	ck_assert_int_eq(search("book", NULL, v, 1, 4, 3, 0, &r), -ENODATA);
	ck_assert_str_eq(err.msg, "collection not loaded[collection=book]");

	FAILS(-EINVAL, eng_load(eng, "book", NULL, 2, &err));
	ck_assert_msg(strstr(err.msg, "only support to load 1 replica"), "%s",
		      err.msg);
	OK(eng_load(eng, "book", "p", 1, &err));
	ck_assert_int_eq(state("book", "p"), ENG_LOADED);
	ck_assert_int_eq(state("book", NULL), ENG_NOTLOAD);  /* SPEC §5 */
	/* A collection search covers the loaded partition. */
	OK(search("book", NULL, v + 20, 1, 4, 10, 0, &r));
	ck_assert_uint_eq(r.count[0], 5);
	ck_assert_int_eq(r.ids[0], 6);
	eng_result_free(&r);
	ck_assert_int_eq(search("book", "_default", v, 1, 4, 3, 0, &r),
			 -ENODATA);
	ck_assert_str_eq(err.msg, "partition not loaded[partition=_default]");

	OK(eng_load(eng, "book", NULL, 1, &err));
	OK(eng_load(eng, "book", NULL, 1, &err));       /* again: fine */
	OK(eng_state(eng, "book", NULL, &s, &pr, &err));
	ck_assert_int_eq(s, ENG_LOADED);
	ck_assert_uint_eq(pr, 100);
	/* An insert into a loaded partition is searchable at once. */
	float far[4] = { 5, 5, 5, 5 };
	ck_assert_int_eq(insert("book", NULL, far, 1, 4, NULL, NULL), 0);
	OK(search("book", NULL, far, 1, 4, 1, 0, &r));
	ck_assert_int_eq(r.ids[0], 11);
	eng_result_free(&r);

	/* A new partition is not loaded: the collection is then NotLoad. */
	OK(eng_part_create(eng, "book", "q", &err));
	ck_assert_int_eq(state("book", NULL), ENG_NOTLOAD);
	OK(eng_load(eng, "book", "q", 1, &err));
	ck_assert_int_eq(state("book", NULL), ENG_LOADED);

	OK(eng_release(eng, "book", NULL, &err));
	OK(eng_state(eng, "book", "p", &s, &pr, &err));
	ck_assert_int_eq(s, ENG_NOTLOAD);
	ck_assert_uint_eq(pr, 0);
	ck_assert_int_eq(search("book", NULL, v, 1, 4, 3, 0, &r), -ENODATA);
	/* Inserting into a released partition only stores. */
	ck_assert_int_eq(insert("book", "p", v, 1, 4, NULL, NULL), 0);
	ck_assert_uint_eq(count("book", NULL), 12);
	FAILS(-ENOENT, eng_load(eng, "book", "zz", 1, &err));
	FAILS(-ENOENT, eng_release(eng, "nope", NULL, &err));
	free(v);
}
END_TEST

START_TEST(test_memory_limit)
{
	struct eng_opts o = { .threads = 2, .memory_limit_bytes = 1 << 20 };
	float *v = rand_vecs(2000, 128);  /* 1000 KiB of vectors */

	close_all();
	open_all(&o);
	OK(eng_coll_create(eng, "small", &err));
	OK(eng_coll_create(eng, "big", &err));
	ck_assert_int_eq(insert("small", NULL, v, 100, 128, NULL, NULL), 0);
	ck_assert_int_eq(insert("big", NULL, v, 2000, 128, NULL, NULL), 0);
	OK(eng_load(eng, "small", NULL, 1, &err));
	FAILS(-ENOMEM, eng_load(eng, "big", NULL, 1, &err));
	ck_assert_msg(strstr(err.msg, "memory not enough: need ") &&
		      strstr(err.msg, "limit 1.0 MiB, in use "), "%s", err.msg);
	ck_assert_int_eq(state("big", NULL), ENG_NOTLOAD);
	OK(eng_release(eng, "small", NULL, &err));
	FAILS(-ENOMEM, eng_load(eng, "big", NULL, 1, &err));
	OK(eng_load(eng, "small", NULL, 1, &err));
	free(v);
}
END_TEST

/* ---- search ---- */

static void check_exact(enum vec_metric m, const char *mname)
{
	enum { N = 600, D = 16, NQ = 7, K = 10 };
	float *v = rand_vecs(N, D), *q = rand_vecs(NQ, D);
	struct bf *bf = malloc(N * sizeof(*bf));
	struct eng_result r;
	struct mfs_kv kv;

	OK(eng_coll_create(eng, mname, &err));
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "metric_type", mname, NULL);
	OK(eng_schema_set(eng, mname, &kv, NULL, &err));
	ck_assert_int_eq(insert(mname, NULL, v, N, D, NULL, NULL), 0);
	OK(eng_load(eng, mname, NULL, 1, &err));
	OK(search(mname, NULL, q, NQ, D, K, 0, &r));
	ck_assert_uint_eq(r.nq, NQ);
	for (size_t i = 0; i < NQ; i++) {
		brute(m, v, N, D, 1, q + i * D, bf);
		ck_assert_uint_eq(r.count[i], K);
		for (size_t j = 0; j < K; j++) {
			double want = m == VEC_L2 ? bf[j].score : -bf[j].score;

			ck_assert_msg(r.ids[i * K + j] == bf[j].id,
				      "%s q%zu hit %zu: id %lld, want %lld", mname,
				      i, j, (long long)r.ids[i * K + j],
				      (long long)bf[j].id);
			ck_assert_msg(fabs(r.dist[i * K + j] - want) <
				      1e-4 * (1 + fabs(want)),
				      "%s distance %f, want %f", mname,
				      r.dist[i * K + j], want);
		}
	}
	eng_result_free(&r);
	/* offset: the next page. */
	OK(search(mname, NULL, q, 1, D, 5, 3, &r));
	brute(m, v, N, D, 1, q, bf);
	ck_assert_uint_eq(r.count[0], 5);
	for (size_t j = 0; j < 5; j++)
		ck_assert_int_eq(r.ids[j], bf[3 + j].id);
	eng_result_free(&r);
	free(v);
	free(q);
	free(bf);
}

START_TEST(test_search_exact)
{
	check_exact(VEC_L2, "L2");
	check_exact(VEC_IP, "IP");
	check_exact(VEC_COSINE, "COSINE");
}
END_TEST

START_TEST(test_search_rules)
{
	float *v = rand_vecs(40, 4);
	struct bf bf[40];
	struct eng_result r;
	struct eng_query q = { .k = 3, .nq = 1, .vecs = v, .dim = 4 };
	const char *only_b[] = { "b" };
	struct mfs_kv kv;

	OK(eng_coll_create(eng, "book", &err));
	OK(eng_part_create(eng, "book", "a", &err));
	OK(eng_part_create(eng, "book", "b", &err));
	ck_assert_int_eq(insert("book", "a", v, 20, 4, NULL, NULL), 0);
	ck_assert_int_eq(insert("book", "b", v + 80, 20, 4, NULL, NULL), 0);
	OK(eng_load(eng, "book", NULL, 1, &err));

	/* Merge over partitions equals brute force over all. */
	OK(search("book", NULL, v + 8, 1, 4, 40, 0, &r));
	brute(VEC_L2, v, 40, 4, 1, v + 8, bf);
	ck_assert_uint_eq(r.count[0], 40);
	for (size_t j = 0; j < 40; j++)
		ck_assert_int_eq(r.ids[j], bf[j].id);
	eng_result_free(&r);
	/* offset past the end: no hits. */
	OK(search("book", NULL, v, 1, 4, 5, 38, &r));
	ck_assert_uint_eq(r.count[0], 2);
	eng_result_free(&r);

	/* partitions= */
	q.parts = only_b;
	q.nparts = 1;
	OK(eng_search(eng, "book", NULL, &q, &r, &err));
	for (size_t j = 0; j < r.count[0]; j++)
		ck_assert_int_gt(r.ids[j], 20);
	eng_result_free(&r);
	const char *bad[] = { "zz" };
	q.parts = bad;
	FAILS(-ENOENT, eng_search(eng, "book", NULL, &q, &r, &err));
	OK(eng_release(eng, "book", "b", &err));
	q.parts = only_b;
	FAILS(-ENODATA, eng_search(eng, "book", NULL, &q, &r, &err));
	ck_assert_str_eq(err.msg, "partition not loaded[partition=b]");
	q.parts = NULL;
	q.nparts = 0;

	/* by_id */
	q.by_id = true;
	q.id = 7;
	OK(eng_search(eng, "book", NULL, &q, &r, &err));
	ck_assert_int_eq(r.ids[0], 7);
	ck_assert(r.dist[0] == 0);
	eng_result_free(&r);
	q.id = 4242;
	FAILS(-ENOENT, eng_search(eng, "book", NULL, &q, &r, &err));
	ck_assert_str_eq(err.msg, "entity 4242 not found");
	q.by_id = false;

	/* k, dim, params */
	q.k = 0;
	FAILS(-EINVAL, eng_search(eng, "book", NULL, &q, &r, &err));
	q.k = MFS_TOPK_MAX + 1;
	FAILS(-EINVAL, eng_search(eng, "book", NULL, &q, &r, &err));
	q.k = MFS_TOPK_MAX;
	q.offset = 1;
	FAILS(-EINVAL, eng_search(eng, "book", NULL, &q, &r, &err));
	q.k = 3;
	q.offset = 0;
	q.dim = 3;
	FAILS(-EINVAL, eng_search(eng, "book", NULL, &q, &r, &err));
	ck_assert_str_eq(err.msg, "vector dimension mismatch, expected 4, got 3");
	q.dim = 4;
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "bogus", "1", NULL);
	q.params = &kv;
	FAILS(-EINVAL, eng_search(eng, "book", NULL, &q, &r, &err));
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "metric_type", "IP", NULL);
	FAILS(-EINVAL, eng_search(eng, "book", NULL, &q, &r, &err));
	ck_assert_str_eq(err.msg, "metric type not match: expected=L2, actual=IP");
	q.params = NULL;
	FAILS(-ENOENT, eng_search(eng, "nope", NULL, &q, &r, &err));

	/* Loading: EAGAIN (forced: otherwise a race). */
	pthread_rwlock_rdlock(&eng->cat);
	struct eng_part *pa = eng_part_find(eng_coll_find(eng, "book"), "b");
	pthread_rwlock_unlock(&eng->cat);
	atomic_store(&pa->state, ENG_LOADING);
	FAILS(-EAGAIN, eng_search(eng, "book", NULL, &q, &r, &err));
	ck_assert_int_eq(state("book", NULL), ENG_LOADING);
	atomic_store(&pa->state, ENG_NOTLOAD);
	OK(eng_search(eng, "book", NULL, &q, &r, &err));
	eng_result_free(&r);
	free(v);
}
END_TEST

/* eng_search in steps: the start makes the checks and holds what the
 * search needs, the run finds only what changed since, the end gives it
 * all back. */
START_TEST(test_search_steps)
{
	float *v = rand_vecs(20, 4);
	struct eng_query q = { .k = 3, .nq = 1, .vecs = v + 8, .dim = 4 };
	struct eng_search_job *j = NULL;
	struct eng_result r;
	struct bf bf[20];
	uint64_t used0;

	OK(eng_coll_create(eng, "book", &err));
	ck_assert_int_eq(insert("book", NULL, v, 20, 4, NULL, NULL), 0);
	OK(eng_load(eng, "book", NULL, 1, &err));
	used0 = eng->mem_used;

	/* A refused start holds nothing. */
	q.k = 0;
	FAILS(-EINVAL, eng_search_start(eng, "book", NULL, &q, &j, &err));
	q.k = 3;
	q.dim = 5;
	FAILS(-EINVAL, eng_search_start(eng, "book", NULL, &q, &j, &err));
	ck_assert_str_eq(err.msg, "vector dimension mismatch, expected 4, got 5");
	q.dim = 4;
	ck_assert_uint_eq(eng->mem_used, used0);

	/* start + run = eng_search; the search's memory is charged from
	 * the start to the end. */
	OK(eng_search_start(eng, "book", NULL, &q, &j, &err));
	ck_assert_uint_gt(eng->mem_used, used0);
	memset(&r, 0, sizeof(r));
	OK(eng_search_run(j, &r, &err));
	brute(VEC_L2, v, 20, 4, 1, v + 8, bf);
	ck_assert_uint_eq(r.count[0], 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(r.ids[i], bf[i].id);
	eng_result_free(&r);
	eng_search_end(j);
	ck_assert_uint_eq(eng->mem_used, used0);

	/* Released between the start and the run: the run says so, and
	 * the release was not held up by the search it found started. */
	OK(eng_search_start(eng, "book", NULL, &q, &j, &err));
	OK(eng_release(eng, "book", NULL, &err));
	ck_assert_int_eq(state("book", NULL), ENG_NOTLOAD);
	FAILS(-ENODATA, eng_search_run(j, &r, &err));
	ck_assert_str_eq(err.msg, "partition not loaded[partition=_default]");
	eng_search_end(j);
	ck_assert_uint_eq(eng->mem_used, 0);
	eng_search_end(NULL);
	free(v);
}
END_TEST

/* ---- persistence ---- */

START_TEST(test_reopen)
{
	float *v = rand_vecs(300, 8);
	struct eng_result r;

	OK(eng_coll_create(eng, "book", &err));
	OK(eng_part_create(eng, "book", "p", &err));
	ck_assert_int_eq(insert("book", NULL, v, 200, 8, NULL, NULL), 0);
	ck_assert_int_eq(insert("book", "p", v + 1600, 100, 8, NULL, NULL), 0);
	OK(eng_load(eng, "book", "_default", 1, &err));
	OK(eng_delete(eng, "book", NULL, (int64_t[]){ 3 }, 1, NULL, &err));
	close_all();
	open_all(NULL);
	ck_assert_uint_eq(count("book", NULL), 299);
	ck_assert_uint_eq(count("book", "p"), 100);
	ck_assert_int_eq(state("book", "p"), ENG_NOTLOAD);
	for (int i = 0; i < 2000 && state("book", "_default") != ENG_LOADED;
	     i++)
		usleep(5000);
	ck_assert_int_eq(state("book", "_default"), ENG_LOADED);
	OK(search("book", NULL, v + 8 * 10, 1, 8, 1, 0, &r));
	ck_assert_int_eq(r.ids[0], 11);
	eng_result_free(&r);
	OK(search("book", NULL, v + 8 * 2, 1, 8, 300, 0, &r));
	ck_assert_uint_eq(r.count[0], 199);   /* _default only, 3 deleted */
	for (size_t j = 0; j < r.count[0]; j++)
		ck_assert(r.ids[j] != 3 && r.ids[j] <= 200);
	eng_result_free(&r);
	/* Auto ids continue after a reopen. */
	int64_t first = 0;
	ck_assert_int_eq(insert("book", NULL, v, 1, 8, NULL, &first), 0);
	ck_assert_int_eq(first, 301);
	/* Released state persists too. */
	OK(eng_release(eng, "book", NULL, &err));
	close_all();
	open_all(NULL);
	ck_assert_int_eq(state("book", "_default"), ENG_NOTLOAD);
	free(v);
}
END_TEST

/* ---- concurrency ---- */

enum { CT_WRITERS = 4, CT_BATCHES = 60, CT_BATCH = 10, CT_DIM = 8 };

static void *writer(void *arg)
{
	float *v = arg;

	for (int b = 0; b < CT_BATCHES; b++) {
		struct eng_rows r = { .n = CT_BATCH, .vtype = VEC_FLOAT,
				      .dim = CT_DIM,
				      .vecs = v + (size_t)b * CT_BATCH * CT_DIM };
		struct mfs_err e2;

		if (eng_insert(eng, "book", NULL, &r, NULL, &e2) != 0)
			return (void *)1;
	}
	return NULL;
}

static atomic_bool stop_search;

static void *searcher(void *arg)
{
	float *q = arg;

	while (!atomic_load(&stop_search)) {
		struct eng_query eq = { .k = 5, .nq = 2, .vecs = q,
					.dim = CT_DIM };
		struct eng_result r;
		struct mfs_err e2;

		if (eng_search(eng, "book", NULL, &eq, &r, &e2) != 0)
			return (void *)1;
		eng_result_free(&r);
	}
	return NULL;
}

START_TEST(test_concurrent)
{
	enum { N = CT_WRITERS * CT_BATCHES * CT_BATCH };
	pthread_t w[CT_WRITERS], s[2];
	float *v[CT_WRITERS];
	float *q = rand_vecs(2, CT_DIM);
	struct eng_result r;
	void *ret;
	static uint8_t seen[N + 1];

	OK(eng_coll_create(eng, "book", &err));
	ck_assert_int_eq(insert("book", NULL, q, 1, CT_DIM,
				(int64_t[]){ -1 }, NULL), 0);
	OK(eng_load(eng, "book", NULL, 1, &err));
	atomic_store(&stop_search, false);
	for (int i = 0; i < 2; i++)
		pthread_create(&s[i], NULL, searcher, q);
	for (int i = 0; i < CT_WRITERS; i++) {
		v[i] = rand_vecs(CT_BATCHES * CT_BATCH, CT_DIM);
		pthread_create(&w[i], NULL, writer, v[i]);
	}
	for (int i = 0; i < CT_WRITERS; i++) {
		pthread_join(w[i], &ret);
		ck_assert_ptr_null(ret);
	}
	atomic_store(&stop_search, true);
	for (int i = 0; i < 2; i++) {
		pthread_join(s[i], &ret);
		ck_assert_ptr_null(ret);
	}
	ck_assert_uint_eq(count("book", NULL), N + 1);
	/* Every id 1..N exactly once, in the index as in the store. */
	OK(search("book", NULL, q, 1, CT_DIM, N + 1, 0, &r));
	ck_assert_uint_eq(r.count[0], N + 1);
	memset(seen, 0, sizeof(seen));
	for (size_t j = 0; j < r.count[0]; j++) {
		int64_t id = r.ids[j];

		if (id == -1)
			continue;
		ck_assert(id >= 1 && id <= N);
		ck_assert_uint_eq(seen[id], 0);
		seen[id] = 1;
	}
	eng_result_free(&r);
	for (int i = 0; i < CT_WRITERS; i++)
		free(v[i]);
	free(q);
}
END_TEST

/* ---- recall: synthetic and real data ---- */

static double recall10(const struct eng_result *r, const int32_t *gt,
		       uint32_t gdim, size_t nq)
{
	size_t hit = 0;

	for (size_t i = 0; i < nq; i++)
		for (size_t j = 0; j < r->count[i] && j < 10; j++)
			for (size_t g = 0; g < 10; g++)
				if (r->ids[i * r->k + j] ==
				    (int64_t)gt[i * gdim + g] + 1) {
					hit++;
					break;
				}
	return (double)hit / (double)(nq * 10);
}

/* Pass 0: the synthetic set like photosift128 (synth.h: 10,000 base
 * vectors, 1,000 queries, ground truth by brute force in double here);
 * pass 1: photosift128 when it is there (else it says so on stderr). */
START_TEST(test_recall)
{
	static const char *const gtf =
		"photosift128/photosift128_groundtruth.ivecs";
	const char *name = _i == 0 ? "synthetic ps" : "photosift128";
	size_t nb, nq, ng, d, dq, dg;
	float *base, *qs;
	int32_t *gt;
	struct eng_result r;
	struct eng_rows rows = { .vtype = VEC_FLOAT };
	double rec;

	if (_i == 0) {
		nb = 10000;
		nq = ng = 1000;
		dg = 10;
		base = synth_rows(SYNTH_PS, 0, 0, nb, &d);
		qs = synth_rows(SYNTH_PS, 1, 0, nq, &dq);
		gt = malloc(nq * dg * sizeof(*gt));
		ck_assert_ptr_nonnull(gt);
		synth_truth(base, nb, qs, nq, d, SYNTH_L2, dg, gt, NULL);
	} else {
		if (!synth_real_present(name,
					"photosift128/photosift128_base.fvecs",
					"photosift128/photosift128_query.fvecs",
					gtf, (char *)NULL))
			return;
		base = synth_read_vecs("photosift128/photosift128_base.fvecs",
				       SIZE_MAX, &nb, &d);
		qs = synth_read_vecs("photosift128/photosift128_query.fvecs",
				     SIZE_MAX, &nq, &dq);
		gt = synth_read_vecs(gtf, SIZE_MAX, &ng, &dg);
	}
	ck_assert_uint_eq(d, 128);
	ck_assert_uint_eq(dq, d);
	ck_assert_uint_eq(nq, ng);
	rows.dim = (uint32_t)d;
	OK(eng_coll_create(eng, "photos", &err));
	for (size_t i = 0; i < nb; i += 2500) {
		rows.n = nb - i < 2500 ? nb - i : 2500;
		rows.vecs = base + i * d;
		OK(eng_insert(eng, "photos", NULL, &rows, NULL, &err));
	}
	ck_assert_uint_eq(count("photos", NULL), nb);
	OK(eng_load(eng, "photos", NULL, 1, &err));
	OK(search("photos", NULL, qs, nq, (uint32_t)d, 10, 0, &r));
	rec = recall10(&r, gt, (uint32_t)dg, nq);
	ck_assert_msg(rec == 1.0, "%s: FLAT recall@10 %.4f, expected 1.0",
		      name, rec);
	eng_result_free(&r);

	/* An approximate index through the engine, when built in. */
	if (idx_lookup("HNSW")) {
		struct mfs_kv kv, out;

		mfs_kv_init(&kv);
		mfs_kv_set(&kv, "index_type", "HNSW", NULL);
		mfs_kv_set(&kv, "M", "16", NULL);
		mfs_kv_set(&kv, "efConstruction", "100", NULL);
		OK(eng_index_set(eng, "photos", &kv, true, &err));
		OK(eng_index_get(eng, "photos", &out, &err));
		ck_assert_str_eq(mfs_kv_get(&out, "index_type"), "HNSW");
		ck_assert_str_eq(mfs_kv_get(&out, "state"), "Finished");
		mfs_kv_init(&kv);
		mfs_kv_set(&kv, "ef", "64", NULL);
		struct eng_query eq = { .k = 10, .nq = nq, .vecs = qs,
					.dim = (uint32_t)d, .params = &kv };
		OK(eng_search(eng, "photos", NULL, &eq, &r, &err));
		rec = recall10(&r, gt, (uint32_t)dg, nq);
		fprintf(stderr, "%s: engine HNSW M=16 efConstruction=100 "
			"ef=64: recall@10 %.4f\n", name, rec);
		ck_assert_msg(rec >= 0.9, "%s: HNSW recall@10 %.4f", name,
			      rec);
		eng_result_free(&r);
		/* The index persists: a reload restores it. */
		OK(eng_release(eng, "photos", NULL, &err));
		OK(eng_load(eng, "photos", NULL, 1, &err));
		OK(eng_search(eng, "photos", NULL, &eq, &r, &err));
		rec = recall10(&r, gt, (uint32_t)dg, nq);
		ck_assert_msg(rec >= 0.9, "%s: HNSW recall@10 %.4f after "
			      "reload", name, rec);
		eng_result_free(&r);
	}
	free(base);
	free(qs);
	free(gt);
}
END_TEST

/* ---- index ---- */

START_TEST(test_index)
{
	float *v = rand_vecs(3000, 16), *q = rand_vecs(5, 16);
	struct mfs_kv kv, out;
	struct eng_result r;
	const char *ivf = idx_lookup("IVF_FLAT") ? "IVF_FLAT" : NULL;

	OK(eng_coll_create(eng, "book", &err));
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "index_type", "HNSW", NULL);
	FAILS(-EINVAL, eng_index_set(eng, "book", &kv, true, &err));
	ck_assert_msg(strstr(err.msg, "dim is not set"), "%s", err.msg);
	OK(eng_index_get(eng, "book", &out, &err));
	ck_assert_str_eq(mfs_kv_get(&out, "index_type"), "FLAT");
	ck_assert_str_eq(mfs_kv_get(&out, "metric_type"), "L2");
	ck_assert_str_eq(mfs_kv_get(&out, "state"), "Finished");
	ck_assert_str_eq(mfs_kv_get(&out, "progress"), "100");

	OK(eng_part_create(eng, "book", "p", &err));
	ck_assert_int_eq(insert("book", NULL, v, 2000, 16, NULL, NULL), 0);
	ck_assert_int_eq(insert("book", "p", v + 2000 * 16, 500, 16, NULL,
				NULL), 0);
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "index_type", "XYZ", NULL);
	FAILS(-EINVAL, eng_index_set(eng, "book", &kv, true, &err));
	ck_assert_str_eq(err.msg, "invalid index type: XYZ");
	mfs_kv_set(&kv, "index_type", "FLAT", NULL);
	mfs_kv_set(&kv, "metric_type", "IP", NULL);
	FAILS(-EINVAL, eng_index_set(eng, "book", &kv, true, &err));
	ck_assert_str_eq(err.msg, "metric type not match: expected=L2, actual=IP");

	if (!ivf) {
		free(v);
		free(q);
		return;
	}
	OK(eng_load(eng, "book", "_default", 1, &err));
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "index_type", ivf, NULL);
	mfs_kv_set(&kv, "nlist", "16", NULL);
	mfs_kv_set(&kv, "metric_type", "L2", NULL);
	OK(eng_index_set(eng, "book", &kv, true, &err));
	OK(eng_index_get(eng, "book", &out, &err));
	ck_assert_str_eq(mfs_kv_get(&out, "index_type"), ivf);
	ck_assert_str_eq(mfs_kv_get(&out, "nlist"), "16");
	ck_assert_str_eq(mfs_kv_get(&out, "state"), "Finished");
	/* Inserted after the build: searchable at once. */
	ck_assert_int_eq(insert("book", NULL, v + 2500 * 16, 10, 16, NULL,
				NULL), 0);
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "nprobe", "16", NULL);
	struct eng_query eq = { .k = 1, .nq = 1, .vecs = v + 2505 * 16,
				.dim = 16, .params = &kv };
	OK(eng_search(eng, "book", NULL, &eq, &r, &err));
	ck_assert_int_eq(r.ids[0], 2506);
	eng_result_free(&r);
	/* Deleted: never returned. */
	OK(eng_delete(eng, "book", NULL, (int64_t[]){ 2506 }, 1, NULL, &err));
	OK(eng_search(eng, "book", NULL, &eq, &r, &err));
	ck_assert_int_ne(r.ids[0], 2506);
	eng_result_free(&r);

	/* Non-blocking build, then the loaded partition p gets it too. */
	OK(eng_load(eng, "book", "p", 1, &err));
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "index_type", ivf, NULL);
	mfs_kv_set(&kv, "nlist", "8", NULL);
	OK(eng_index_set(eng, "book", &kv, false, &err));
	for (int i = 0; i < 2000; i++) {
		OK(eng_index_get(eng, "book", &out, &err));
		if (strcmp(mfs_kv_get(&out, "state"), "InProgress") != 0)
			break;
		usleep(5000);
	}
	ck_assert_str_eq(mfs_kv_get(&out, "state"), "Finished");
	ck_assert_str_eq(mfs_kv_get(&out, "nlist"), "8");

	/* Reopen: the index and load state come back. */
	close_all();
	open_all(NULL);
	for (int i = 0; i < 2000 && state("book", NULL) != ENG_LOADED; i++)
		usleep(5000);
	ck_assert_int_eq(state("book", NULL), ENG_LOADED);
	OK(eng_index_get(eng, "book", &out, &err));
	ck_assert_str_eq(mfs_kv_get(&out, "index_type"), ivf);
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "nprobe", "8", NULL);
	eq.vecs = v + 100 * 16;
	eq.params = &kv;
	OK(eng_search(eng, "book", NULL, &eq, &r, &err));
	ck_assert_int_eq(r.ids[0], 101);
	eng_result_free(&r);

	/* FLAT drops it. */
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "index_type", "FLAT", NULL);
	OK(eng_index_set(eng, "book", &kv, true, &err));
	OK(eng_index_get(eng, "book", &out, &err));
	ck_assert_str_eq(mfs_kv_get(&out, "index_type"), "FLAT");
	ck_assert_ptr_null(mfs_kv_get(&out, "nlist"));
	eq.params = NULL;
	eq.k = 10;
	eq.nq = 5;
	eq.vecs = q;
	OK(eng_search(eng, "book", NULL, &eq, &r, &err));
	ck_assert_uint_eq(r.count[0], 10);
	eng_result_free(&r);
	free(v);
	free(q);
}
END_TEST

/* Partitions with no or few entities still get (or fall back from) the
 * index; loaded empty ones keep serving inserts. */
START_TEST(test_index_small_parts)
{
	const char *types[] = { "IVF_FLAT", "IVF_SQ8", "IVF_PQ", "HNSW",
				"FLAT" };
	float *v = rand_vecs(300, 8);
	struct mfs_kv kv;
	struct eng_result r;

	OK(eng_coll_create(eng, "book", &err));
	OK(eng_part_create(eng, "book", "tiny", &err));
	OK(eng_part_create(eng, "book", "big", &err));
	ck_assert_int_eq(insert("book", "tiny", v, 3, 8, NULL, NULL), 0);
	ck_assert_int_eq(insert("book", "big", v + 3 * 8, 290, 8, NULL, NULL),
			 0);
	OK(eng_load(eng, "book", NULL, 1, &err));
	for (size_t t = 0; t < sizeof(types) / sizeof(types[0]); t++) {
		if (!idx_lookup(types[t]))
			continue;
		mfs_kv_init(&kv);
		mfs_kv_set(&kv, "index_type", types[t], NULL);
		if (strncmp(types[t], "IVF", 3) == 0)
			mfs_kv_set(&kv, "nlist", "4", NULL);
		if (strcmp(types[t], "IVF_PQ") == 0)
			mfs_kv_set(&kv, "m", "4", NULL);
		OK(eng_index_set(eng, "book", &kv, true, &err));
		/* Loaded empty _default takes an insert, searchable. */
		ck_assert_int_eq(insert("book", NULL, v + (293 + t) * 8, 1, 8,
					NULL, NULL), 0);
		OK(eng_release(eng, "book", NULL, &err));
		OK(eng_load(eng, "book", NULL, 1, &err));
		mfs_kv_init(&kv);
		if (strncmp(types[t], "IVF", 3) == 0)
			mfs_kv_set(&kv, "nprobe", "4", NULL);
		struct eng_query q = { .k = 1, .nq = 1, .vecs = v + 8,
				       .dim = 8, .params = &kv };
		OK(eng_search(eng, "book", "tiny", &q, &r, &err));
		ck_assert_msg(r.count[0] == 1 && r.ids[0] == 2, "%s", types[t]);
		eng_result_free(&r);
		q.vecs = v + (293 + t) * 8;
		OK(eng_search(eng, "book", "_default", &q, &r, &err));
		ck_assert_msg(r.count[0] == 1, "%s", types[t]);
		eng_result_free(&r);
	}
	free(v);
}
END_TEST

/* Inserts and deletes while a build runs (and while a load runs) are
 * neither lost nor resurrected: with nprobe = nlist IVF_FLAT is exact, so
 * a search for every entity returns exactly the live ones. */
enum { CH_N = 12000, CH_D = 32 };

struct churn {
	float *v;
	size_t n;
	int64_t del0;
};

static void *churn_main(void *arg)
{
	struct churn *c = arg;

	for (size_t b = 0; b < c->n; b += 10) {
		struct eng_rows r = { .n = 10, .vtype = VEC_FLOAT, .dim = CH_D,
				      .vecs = c->v + b * CH_D };
		int64_t del[2] = { c->del0 + (int64_t)b, c->del0 + (int64_t)b + 1 };
		struct mfs_err e2;

		if (eng_insert(eng, "book", NULL, &r, NULL, &e2) != 0 ||
		    eng_delete(eng, "book", NULL, del, 2, NULL, &e2) != 0)
			return (void *)1;
	}
	return NULL;
}

static void check_all_live(const char *what)
{
	static uint8_t seen[CH_N + 2001];     /* ids 1..CH_N + 2000 */
	struct mfs_kv kv;
	struct eng_result r;
	uint64_t n = count("book", NULL);
	float q[CH_D] = { 0 };
	struct eng_query eq = { .k = MFS_TOPK_MAX, .nq = 1, .vecs = q, .dim = CH_D,
				.params = &kv };

	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "nprobe", "64", NULL);
	OK(eng_search(eng, "book", NULL, &eq, &r, &err));
	ck_assert_msg(r.count[0] == n, "%s: %zu hits, %llu entities", what,
		      r.count[0], (unsigned long long)n);
	memset(seen, 0, sizeof(seen));
	for (size_t j = 0; j < r.count[0]; j++) {
		int64_t id = r.ids[j];

		ck_assert_msg(id >= 1 && id <= CH_N + 2000, "%s: id %lld at %zu of %zu", what, (long long)id, j, r.count[0]);
		if (seen[id]) {
			/* Tell an index holding it twice from a search
			 * returning it twice. */
			size_t held = 0;

			pthread_rwlock_rdlock(&eng->cat);
			struct eng_part *p = eng_part_find(
				eng_coll_find(eng, "book"), "_default");
			pthread_rwlock_unlock(&eng->cat);
			pthread_rwlock_rdlock(&p->ilock);
			held = p->ix->type->count(p->ix);
			pthread_rwlock_unlock(&p->ilock);
			ck_abort_msg("%s: id %lld twice (hits %zu and earlier), "
				     "index holds %zu, store %llu", what,
				     (long long)id, j, held,
				     (unsigned long long)n);
		}
		seen[id] = 1;
		ck_assert_msg(eng_entity_get(eng, "book", id, NULL, NULL,
					     NULL) == 0,
			      "%s: deleted id %lld returned", what,
			      (long long)id);
	}
	eng_result_free(&r);
}

START_TEST(test_build_churn)
{
	float *v = rand_vecs(CH_N + 2000, CH_D);
	struct churn ch = { .v = v + (size_t)CH_N * CH_D, .n = 1000,
			     .del0 = 1 };
	bool overlapped;
	struct mfs_kv kv, out;
	pthread_t t;
	void *ret;

	if (!idx_lookup("IVF_FLAT")) {
		free(v);
		return;
	}
	OK(eng_coll_create(eng, "book", &err));
	ck_assert_int_eq(insert("book", NULL, v, CH_N, CH_D, NULL, NULL), 0);
	OK(eng_load(eng, "book", NULL, 1, &err));
	mfs_kv_init(&kv);
	mfs_kv_set(&kv, "index_type", "IVF_FLAT", NULL);
	mfs_kv_set(&kv, "nlist", "64", NULL);
	OK(eng_index_set(eng, "book", &kv, false, &err));
	/* One build at a time (the build takes far longer than this). */
	FAILS(-EBUSY, eng_index_set(eng, "book", &kv, true, &err));
	OK(eng_index_get(eng, "book", &out, &err));
	ck_assert_str_eq(mfs_kv_get(&out, "state"), "InProgress");
	ck_assert_str_eq(mfs_kv_get(&out, "nlist"), "64");
	pthread_create(&t, NULL, churn_main, &ch);
	pthread_join(t, &ret);
	ck_assert_ptr_null(ret);
	OK(eng_index_get(eng, "book", &out, &err));
	overlapped = strcmp(mfs_kv_get(&out, "state"), "InProgress") == 0;
	if (getenv("MFS_TEST_VERBOSE"))
		fprintf(stderr, "build_churn: overlapped=%d\n", overlapped);
	for (int i = 0; i < 4000; i++) {
		OK(eng_index_get(eng, "book", &out, &err));
		if (strcmp(mfs_kv_get(&out, "state"), "InProgress") != 0)
			break;
		usleep(5000);
	}
	ck_assert_str_eq(mfs_kv_get(&out, "state"), "Finished");
	check_all_live(overlapped ? "after build (overlapped)"
				  : "after build (build was quicker)");

	/* Churn during a load. */
	OK(eng_release(eng, "book", NULL, &err));
	ch.v = v + ((size_t)CH_N + 1000) * CH_D;
	ch.del0 = 1001;
	pthread_create(&t, NULL, churn_main, &ch);
	if (getenv("MFS_TEST_LOAD_DELAY_US"))
		usleep((useconds_t)atoi(getenv("MFS_TEST_LOAD_DELAY_US")));
	OK(eng_load(eng, "book", NULL, 1, &err));
	pthread_join(t, &ret);
	ck_assert_ptr_null(ret);
	check_all_live("after load");
	free(v);
}
END_TEST

START_TEST(test_binary)
{
	uint8_t v[4][2] = { { 0xff, 0x00 }, { 0x0f, 0x00 }, { 0x00, 0x00 },
			    { 0xff, 0xff } };
	struct eng_rows rows = { .n = 4, .vtype = VEC_BINARY, .dim = 16,
				 .vecs = v };
	struct eng_schema s;
	struct eng_result r;
	struct eng_query q = { .k = 4, .nq = 1, .vecs = v[0], .dim = 16 };
	struct mfs_kv out;

	OK(eng_coll_create(eng, "bits", &err));
	OK(eng_insert(eng, "bits", NULL, &rows, NULL, &err));
	OK(eng_schema_get(eng, "bits", &s, &err));
	ck_assert_int_eq(s.vtype, VEC_BINARY);
	ck_assert_int_eq(s.metric, VEC_HAMMING);
	OK(eng_index_get(eng, "bits", &out, &err));
	ck_assert_str_eq(mfs_kv_get(&out, "index_type"), "BIN_FLAT");
	OK(eng_load(eng, "bits", NULL, 1, &err));
	OK(eng_search(eng, "bits", NULL, &q, &r, &err));
	ck_assert_uint_eq(r.count[0], 4);
	ck_assert_int_eq(r.ids[0], 1);
	ck_assert(r.dist[0] == 0);
	ck_assert_int_eq(r.ids[1], 2);
	ck_assert(r.dist[1] == 4);
	eng_result_free(&r);
}
END_TEST

START_TEST(test_saved_queries)
{
	struct eng_names names;
	char *text;
	size_t len;

	OK(eng_coll_create(eng, "book", &err));
	OK(eng_part_create(eng, "book", "p", &err));
	OK(eng_query_put(eng, "book", NULL, "q1", "k=5\n1,2\n", 8, &err));
	OK(eng_query_put(eng, "book", "p", "q2", "k=1\n", 4, &err));
	OK(eng_query_get(eng, "book", NULL, "q1", &text, &len, &err));
	ck_assert_uint_eq(len, 8);
	ck_assert_str_eq(text, "k=5\n1,2\n");
	free(text);
	FAILS(-ENOENT, eng_query_get(eng, "book", NULL, "q2", &text, &len,
				     &err));
	OK(eng_query_list(eng, "book", "p", &names, &err));
	ck_assert_uint_eq(names.n, 1);
	ck_assert_str_eq(names.name[0], "q2");
	eng_names_free(&names);
	OK(eng_query_del(eng, "book", NULL, "q1", &err));
	FAILS(-ENOENT, eng_query_del(eng, "book", NULL, "q1", &err));
	OK(eng_query_list(eng, "book", NULL, &names, &err));
	ck_assert_uint_eq(names.n, 0);
	eng_names_free(&names);
	FAILS(-ENOENT, eng_query_put(eng, "nope", NULL, "q", "k=1", 3, &err));
}
END_TEST

static Suite *engine_suite(void)
{
	Suite *s = suite_create("engine");
	struct { const char *name; const TTest *t; } cases[] = {
		{ "collections", test_collections },
		{ "partitions", test_partitions },
		{ "schema", test_schema },
		{ "insert_ids", test_insert_ids },
		{ "delete_count_scan", test_delete_count_scan },
		{ "load_state", test_load_state },
		{ "memory_limit", test_memory_limit },
		{ "search_exact", test_search_exact },
		{ "search_rules", test_search_rules },
		{ "reopen", test_reopen },
		{ "concurrent", test_concurrent },
		{ "recall", test_recall },
		{ "index", test_index },
		{ "index_small_parts", test_index_small_parts },
		{ "build_churn", test_build_churn },
		{ "binary", test_binary },
		{ "saved_queries", test_saved_queries },
		{ "search_steps", test_search_steps },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		TCase *tc = tcase_create(cases[i].name);

		tcase_add_checked_fixture(tc, setup, teardown);
		tcase_set_timeout(tc, 600);
		/* recall: pass 0 on the synthetic set, 1 on the real */
		tcase_add_loop_test(tc, cases[i].t, 0,
				    cases[i].t == test_recall ? 2 : 1);
		suite_add_tcase(s, tc);
	}
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(engine_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
