/* test_store_shrink.c - unit tests of the rewrite of data.mdb while
 * writers go on (src/store/env.c, "The file shrinks"; shrink.c), and of a
 * data.mdb a crash left before LMDB's first sync.
 *
 * The replay: two stores get the same writes; in one of them the writes
 * of the second half land while a rewrite copies its snapshot (the copy's
 * hook runs them from another thread), then the rewrite replays them and
 * swaps the files.  Both stores must then hold the same keys and values,
 * database by database, compared with LMDB's own cursors.  This suite is
 * the store's own: it includes store_int.h for the hook and the raw
 * handles.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store/store_int.h"

static char suite_root[256];
static char tmp_root[300];

static int rm_cb(const char *path, const struct stat *sb, int flag,
		 struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static void teardown(void)
{
	nftw(tmp_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	snprintf(tmp_root, sizeof(tmp_root), "%s/case.XXXXXX", suite_root);
	ck_assert_ptr_nonnull(mkdtemp(tmp_root));
}

static struct store *open_at(const char *name, uint64_t mapsize)
{
	struct store_opts o = { .mapsize_bytes = mapsize };
	struct mfs_err err = { 0 };
	struct store *st = NULL;
	char dir[400];
	int rc;

	snprintf(dir, sizeof(dir), "%s/%s", tmp_root, name);
	rc = store_open(dir, &o, &st, &err);
	ck_assert_msg(rc == 0, "store_open %s: %d %s", dir, rc, err.msg);
	return st;
}

static ino_t data_ino(const char *name)
{
	char path[400];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s/data.mdb", tmp_root, name);
	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_ino;
}

static int shrink_left(const char *name)
{
	char path[400];

	snprintf(path, sizeof(path), "%s/%s/data.mdb.shrink", tmp_root, name);
	return access(path, F_OK) == 0;
}

/* ---- the writes: one step of a script, applied to any store ---- */

#define DIM 8

static float val(int64_t id, size_t j)
{
	return (float)id * 0.25f + (float)j;
}

struct step {
	int op;
	int64_t a, b;           /* ids a..b-1, or a partition number */
};

enum { OP_COLL, OP_PART, OP_INSERT, OP_DELETE, OP_UPSERT, OP_BLOB,
       OP_QUERY, OP_QDEL, OP_PART_DROP, OP_DROP_QUERIES, OP_FIELDS };

static const char *part_name(int64_t n)
{
	static const char *const names[] = { "_default", "p1", "p2", "p3" };
	return names[n];
}

static int step_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	const struct step *s = arg;
	struct store_coll c;
	struct store_part p;
	int rc;

	(void)err;
	if (s->op == OP_COLL)
		return store_coll_new(t, "book", &c);
	if ((rc = store_coll_get(t, "book", &c)) != 0)
		return rc;
	switch (s->op) {
	case OP_PART:
		return store_part_new(t, c.cid, part_name(s->a), &p);
	case OP_PART_DROP:
		return store_part_del(t, c.cid, part_name(s->a));
	case OP_INSERT:
	case OP_UPSERT: {
		size_t n = (size_t)(s->b - s->a), dup;
		int64_t *ids = malloc(n * sizeof(*ids));
		float *v = malloc(n * DIM * sizeof(*v));

		ck_assert_ptr_nonnull(ids);
		ck_assert_ptr_nonnull(v);
		for (size_t i = 0; i < n; i++) {
			ids[i] = s->a + (int64_t)i;
			for (size_t j = 0; j < DIM; j++)
				/* an upsert changes the vector */
				v[i * DIM + j] = val(ids[i], j) +
						 (s->op == OP_UPSERT);
		}
		/* inserts go to _default, upserts move them to p1 */
		rc = store_part_get(t, c.cid, part_name(s->op == OP_UPSERT),
				    &p);
		if (rc == 0 && s->op == OP_UPSERT)
			rc = store_ent_delete(t, c.cid, 0, ids, n, NULL, NULL,
					      &dup);
		if (rc == 0)
			rc = store_ent_insert(t, &p, ids, v, DIM * sizeof(float),
					      NULL, NULL, n, &dup);
		free(ids);
		free(v);
		return rc;
	}
	case OP_DELETE: {
		size_t n = (size_t)(s->b - s->a), done;
		int64_t *ids = malloc(n * sizeof(*ids));

		ck_assert_ptr_nonnull(ids);
		for (size_t i = 0; i < n; i++)
			ids[i] = s->a + (int64_t)i;
		rc = store_ent_delete(t, c.cid, 0, ids, n, NULL, NULL, &done);
		free(ids);
		return rc;
	}
	case OP_BLOB: {
		/* 2.5 chunks, its bytes depending on b: an overwrite */
		size_t len = STORE_BLOB_CHUNK * 5 / 2;
		unsigned char *d = malloc(len);

		ck_assert_ptr_nonnull(d);
		for (size_t i = 0; i < len; i++)
			d[i] = (unsigned char)(i * 7 + (size_t)s->b);
		rc = store_part_get(t, c.cid, part_name(s->a), &p);
		if (rc == 0)
			rc = store_blob_put(t, p.pid, d, len);
		free(d);
		return rc;
	}
	case OP_QUERY: {
		char name[32], text[64];

		snprintf(name, sizeof(name), "q%lld", (long long)s->a);
		snprintf(text, sizeof(text), "0.5,1.5&k=%lld", (long long)s->b);
		return store_query_put(t, c.cid, 0, name, text, strlen(text));
	}
	case OP_QDEL: {
		char name[32];

		snprintf(name, sizeof(name), "q%lld", (long long)s->a);
		return store_query_del(t, c.cid, 0, name);
	}
	case OP_DROP_QUERIES:
		/* a whole database emptied (mdb_drop) */
		rc = store_drop(t, DB_QUERY);
		return rc ? store_txn_fail(t, rc) : 0;
	case OP_FIELDS:
		return store_fields_put(t, c.cid, "f int64", 7);
	}
	return -EINVAL;
}

static void run_steps(struct store *st, const struct step *s, size_t n)
{
	struct mfs_err err = { 0 };

	for (size_t i = 0; i < n; i++) {
		int rc = store_write(st, step_fn, (void *)&s[i], &err);
		ck_assert_msg(rc == 0, "step %zu (op %d): %d %s", i, s[i].op,
			      rc, err.msg);
	}
}

/* Before the rewrite: a catalog, 6,000 entities, blobs, queries, and
 * deletes that leave free pages. */
static const struct step before[] = {
	{ OP_COLL, 0, 0 }, { OP_PART, 1, 0 }, { OP_PART, 2, 0 },
	{ OP_PART, 3, 0 },
	{ OP_INSERT, 1, 3001 }, { OP_INSERT, 3001, 6001 },
	{ OP_BLOB, 2, 1 }, { OP_BLOB, 3, 1 },
	{ OP_QUERY, 1, 10 }, { OP_QUERY, 2, 10 }, { OP_QUERY, 3, 10 },
	{ OP_DELETE, 2000, 4000 }, { OP_BLOB, 2, 2 },
};

/* During the copy: entities inserted (into pages copied and not),
 * deleted (copied ones), upserted (deleted and put back elsewhere),
 * a blob overwritten and one dropped with its partition, a query
 * overwritten and one deleted, then the query database emptied by a
 * drop and one query put back, a fields schema added. */
static const struct step during[] = {
	{ OP_INSERT, 6001, 6501 }, { OP_INSERT, 2500, 2600 },
	{ OP_DELETE, 1, 300 }, { OP_DELETE, 5990, 6010 },
	{ OP_UPSERT, 4500, 4700 },
	{ OP_BLOB, 2, 3 }, { OP_PART_DROP, 3, 0 },
	{ OP_QUERY, 1, 20 }, { OP_QDEL, 2, 0 },
	{ OP_DROP_QUERIES, 0, 0 }, { OP_QUERY, 4, 30 },
	{ OP_FIELDS, 0, 0 },
	{ OP_INSERT, 7000, 7100 }, { OP_DELETE, 7050, 7060 },
};

/* ---- comparing two stores key by key ---- */

struct dump {
	size_t n, cap;
	MDB_val *k, *v;         /* owned copies */
};

static void dump_free(struct dump *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->k[i].mv_data);
		free(d->v[i].mv_data);
	}
	free(d->k);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

static void *dup_mem(const MDB_val *x)
{
	void *p = malloc(x->mv_size ? x->mv_size : 1);

	ck_assert_ptr_nonnull(p);
	memcpy(p, x->mv_data, x->mv_size);
	return p;
}

struct dump_arg {
	int db;
	struct dump *d;
};

static int dump_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct dump_arg *a = arg;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	(void)err;
	ck_assert_int_eq(mdb_cursor_open(t->txn, store_dbi(t, a->db), &cur),
			 0);
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		struct dump *d = a->d;

		if (d->n == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 1024;
			d->k = realloc(d->k, d->cap * sizeof(*d->k));
			d->v = realloc(d->v, d->cap * sizeof(*d->v));
			ck_assert_ptr_nonnull(d->k);
			ck_assert_ptr_nonnull(d->v);
		}
		d->k[d->n] = (MDB_val){ k.mv_size, dup_mem(&k) };
		d->v[d->n] = (MDB_val){ v.mv_size, dup_mem(&v) };
		d->n++;
	}
	mdb_cursor_close(cur);
	ck_assert_int_eq(rc, MDB_NOTFOUND);
	return 0;
}

static void dump_db(struct store *st, int db, struct dump *d)
{
	struct dump_arg a = { db, d };
	struct mfs_err err;

	ck_assert_int_eq(store_read(st, dump_fn, &a, &err), 0);
}

/* Every database of x and y: the same keys with the same values.
 * Returns the number of keys compared. */
static size_t same_stores(struct store *x, struct store *y)
{
	size_t total = 0;

	for (int db = 0; db < DB_COUNT; db++) {
		struct dump a = { 0 }, b = { 0 };

		dump_db(x, db, &a);
		dump_db(y, db, &b);
		ck_assert_msg(a.n == b.n, "database %s: %zu keys after the rewrite, %zu without",
			      store_db_names[db], a.n, b.n);
		for (size_t i = 0; i < a.n; i++) {
			ck_assert_msg(a.k[i].mv_size == b.k[i].mv_size &&
				      memcmp(a.k[i].mv_data, b.k[i].mv_data,
					     a.k[i].mv_size) == 0,
				      "database %s: key %zu differs",
				      store_db_names[db], i);
			ck_assert_msg(a.v[i].mv_size == b.v[i].mv_size &&
				      memcmp(a.v[i].mv_data, b.v[i].mv_data,
					     a.v[i].mv_size) == 0,
				      "database %s: the value of key %zu differs (%zu bytes, %zu without the rewrite)",
				      store_db_names[db], i, a.v[i].mv_size,
				      b.v[i].mv_size);
		}
		total += a.n;
		dump_free(&a);
		dump_free(&b);
	}
	return total;
}

/* ---- the hook: writes from another thread while the copy waits ---- */

struct during_arg {
	struct store *st;
	const struct step *steps;
	size_t n;
	pthread_t th;
	int started, done;      /* __atomic */
	int calls;
};

static void *during_main(void *arg)
{
	struct during_arg *d = arg;

	run_steps(d->st, d->steps, d->n);
	__atomic_store_n(&d->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* The copy's middle: start the writer and wait for it to end, unless it
 * waits to grow the map (then the copy must give way: return). */
static void during_hook(void *arg)
{
	struct during_arg *d = arg;
	struct timespec ts = { 0, 1000000 };

	d->calls++;
	ck_assert_int_eq(pthread_create(&d->th, NULL, during_main, d), 0);
	d->started = 1;
	while (!__atomic_load_n(&d->done, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&d->st->grow_waiting, __ATOMIC_ACQUIRE))
		nanosleep(&ts, NULL);
}

/* The reference store: never rewritten. */
static struct store *open_ref(const char *name)
{
	struct store *st;

	setenv("MFS_STORE_SHRINK_MIN_BYTES", "1000000000000", 1);
	st = open_at(name, 64u << 20);
	unsetenv("MFS_STORE_SHRINK_MIN_BYTES");
	return st;
}

START_TEST(test_replay)
{
	struct store *a = open_at("a", 64u << 20);
	struct store *b = open_ref("b");
	struct during_arg d = { .st = a, .steps = during,
				.n = sizeof(during) / sizeof(during[0]) };
	struct mfs_err err = { 0 };
	ino_t ino;
	int rc;

	run_steps(a, before, sizeof(before) / sizeof(before[0]));
	run_steps(b, before, sizeof(before) / sizeof(before[0]));
	ck_assert_uint_gt(same_stores(a, b), 4000);
	ino = data_ino("a");
	rc = store_shrink_now(a, during_hook, &d, &err);
	ck_assert_int_eq(d.calls, 1);
	if (d.started)
		pthread_join(d.th, NULL);
	ck_assert_msg(rc == 1, "store_shrink_now: %d %s", rc, err.msg);
	ck_assert_msg(data_ino("a") != ino, "data.mdb is still the old file");
	ck_assert(!shrink_left("a"));
	run_steps(b, during, sizeof(during) / sizeof(during[0]));
	same_stores(a, b);
	/* and the same after both are opened again */
	store_close(a);
	store_close(b);
	a = open_at("a", 64u << 20);
	b = open_ref("b");
	same_stores(a, b);
	/* writes go on in the new file */
	static const struct step more[] = { { OP_INSERT, 9000, 9100 },
					    { OP_DELETE, 1, 2000 } };
	run_steps(a, more, 2);
	run_steps(b, more, 2);
	same_stores(a, b);
	store_close(a);
	store_close(b);
}
END_TEST

/* Too many keys changed during the copy: the rewrite gives up, the old
 * file stays, with every write; no copy is left. */
START_TEST(test_replay_gives_up)
{
	struct store *a, *b;
	struct during_arg d = { .steps = during,
				.n = sizeof(during) / sizeof(during[0]) };
	struct mfs_err err = { 0 };
	ino_t ino;
	int rc;

	setenv("MFS_STORE_SHRINK_MAX_KEYS", "50", 1);
	a = open_at("a", 64u << 20);
	unsetenv("MFS_STORE_SHRINK_MAX_KEYS");
	b = open_ref("b");
	d.st = a;
	run_steps(a, before, sizeof(before) / sizeof(before[0]));
	run_steps(b, before, sizeof(before) / sizeof(before[0]));
	ino = data_ino("a");
	rc = store_shrink_now(a, during_hook, &d, &err);
	if (d.started)
		pthread_join(d.th, NULL);
	ck_assert_int_eq(rc, -EAGAIN);
	ck_assert_msg(strstr(err.msg, "data.mdb not rewritten this time: more than 50 keys"),
		      "message: %s", err.msg);
	ck_assert_msg(data_ino("a") == ino, "data.mdb was replaced");
	ck_assert(!shrink_left("a"));
	run_steps(b, during, sizeof(during) / sizeof(during[0]));
	same_stores(a, b);
	store_close(a);
	store_close(b);
}
END_TEST

/* A writer that must grow the map during the copy does not wait for
 * the copy's end: the copy gives way and the rewrite is tried later. */
START_TEST(test_copy_gives_way_to_growth)
{
	struct store *a = open_at("a", 256 * 1024);
	static const struct step big[] = { { OP_INSERT, 100000, 120000 } };
	static const struct step small[] = { { OP_COLL, 0, 0 },
					     { OP_INSERT, 1, 200 } };
	struct during_arg d = { .st = a, .steps = big, .n = 1 };
	struct mfs_err err = { 0 };
	uint64_t map0;
	int rc;

	run_steps(a, small, 2);
	map0 = store_mapsize(a);
	rc = store_shrink_now(a, during_hook, &d, &err);
	ck_assert(d.started);
	pthread_join(d.th, NULL);
	ck_assert_int_eq(rc, -EAGAIN);
	ck_assert_msg(strstr(err.msg, "the map had to grow during the copy"),
		      "message: %s", err.msg);
	ck_assert_uint_gt(store_mapsize(a), map0);
	ck_assert(!shrink_left("a"));
	store_close(a);
}
END_TEST

/* The change set alone: duplicates once, drops, limits. */
START_TEST(test_changes)
{
	struct store_changes *c = store_changes_new(1000, 1u << 20);
	unsigned char key[16];
	MDB_val k = { sizeof(key), key };

	ck_assert_ptr_nonnull(c);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 900; i++) {
			memset(key, 0, sizeof(key));
			put_be32(key, (uint32_t)i);
			store_changes_add(c, DB_ENT, &k);
			store_changes_add(c, DB_IDMAP, &k);
			k.mv_size = 4;
			store_changes_add(c, DB_ENT, &k);       /* shorter */
			k.mv_size = sizeof(key);
		}
	/* 900 x 3 > 1000: over */
	ck_assert_int_eq(store_changes_over(c), 1);
	store_changes_free(c);

	c = store_changes_new(10000, 1u << 20);
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 900; i++) {
			put_be32(key, (uint32_t)i);
			store_changes_add(c, DB_ENT, &k);
			store_changes_add(c, DB_IDMAP, &k);
		}
	ck_assert_int_eq(store_changes_over(c), 0);
	ck_assert_uint_eq(store_changes_count(c), 1800);
	store_changes_drop(c, DB_BLOB);
	put_be32(key, 5);
	store_changes_add(c, DB_BLOB, &k);      /* copied whole anyway */
	ck_assert_uint_eq(store_changes_count(c), 1800);
	store_changes_free(c);

	/* the byte limit */
	c = store_changes_new(1000000, 200 * 1024);
	for (int i = 0; i < 20000; i++) {
		put_be32(key, (uint32_t)i);
		store_changes_add(c, DB_ENT, &k);
		if (i == 100)
			ck_assert_int_eq(store_changes_over(c), 0);
	}
	ck_assert_int_eq(store_changes_over(c), 1);
	store_changes_free(c);
}
END_TEST

/* ---- a data.mdb that a crash left before LMDB's first sync ---- */

static void write_file(const char *path, const unsigned char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, p, n), (ssize_t)n);
	close(fd);
}

START_TEST(test_zero_data_mdb)
{
	static const size_t sizes[] = { 0, 100, 8192 };
	unsigned char buf[8192], back[8192];
	char dir[400], path[440];
	struct mfs_err err = { 0 };
	struct store *st;

	for (size_t i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), "%s/z%zu", tmp_root, sizes[i]);
		ck_assert_int_eq(mkdir(dir, 0700), 0);
		snprintf(path, sizeof(path), "%s/data.mdb", dir);
		memset(buf, 0, sizeof(buf));
		write_file(path, buf, sizes[i]);
		st = NULL;
		ck_assert_msg(store_open(dir, NULL, &st, &err) == 0,
			      "%zu zero bytes: %s", sizes[i], err.msg);
		/* a new, empty database that works */
		static const struct step s[] = { { OP_COLL, 0, 0 },
						 { OP_INSERT, 1, 11 } };
		struct dump dm = { 0 };
		dump_db(st, DB_ENT, &dm);
		ck_assert_uint_eq(dm.n, 0);
		dump_free(&dm);
		run_steps(st, s, 2);
		store_close(st);
		ck_assert_int_eq(store_open(dir, NULL, &st, &err), 0);
		dump_db(st, DB_ENT, &dm);
		ck_assert_uint_eq(dm.n, 10);
		dump_free(&dm);
		store_close(st);
	}
	/* random bytes: refused as before, and left as they were */
	snprintf(dir, sizeof(dir), "%s/junk", tmp_root);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(rand() >> 7);
	write_file(path, buf, sizeof(buf));
	st = NULL;
	ck_assert_int_eq(store_open(dir, NULL, &st, &err), -EIO);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err.msg, "expected an LMDB environment"),
		      "message: %s", err.msg);
	int fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, back, sizeof(back)), (ssize_t)sizeof(back));
	close(fd);
	ck_assert(memcmp(buf, back, sizeof(buf)) == 0);
	/* zeros but one byte: not a file LMDB never wrote; refused */
	memset(buf, 0, sizeof(buf));
	buf[4000] = 1;
	write_file(path, buf, sizeof(buf));
	ck_assert_int_eq(store_open(dir, NULL, &st, &err), -EIO);
	/* zeros past two pages: refused too (LMDB wrote more than its meta
	 * pages: something was committed) */
	unsigned char *big = calloc(1, 3 * 65536);
	ck_assert_ptr_nonnull(big);
	write_file(path, big, 3 * 65536);
	free(big);
	ck_assert_int_eq(store_open(dir, NULL, &st, &err), -EIO);
}
END_TEST

static Suite *shrink_suite(void)
{
	Suite *s = suite_create("store_shrink");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_replay_gives_up);
	tcase_add_test(tc, test_copy_gives_way_to_growth);
	tcase_add_test(tc, test_changes);
	tcase_add_test(tc, test_zero_data_mdb);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(shrink_suite());
	const char *tmp = getenv("TMPDIR");
	int failed;

	snprintf(suite_root, sizeof(suite_root), "%s/test_store_shrink.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(suite_root)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	srunner_run_all(sr, CK_NORMAL);
	snprintf(tmp_root, sizeof(tmp_root), "%s", suite_root);
	teardown();
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
