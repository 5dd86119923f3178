/* test_store.c - unit tests of src/store: catalog, entities, ids, blobs,
 * saved queries, the lock, map growth, persistence, threads, disk full.
 *
 * Each test case gets a fresh temporary directory (checked fixture, so it
 * runs in the forked test process) that is removed afterwards.  This suite
 * is the store's own, so it may include <lmdb.h> to forge a database with a
 * foreign layout version.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

static char tmp_root[300];
static char db_dir[512];

static int rm_cb(const char *path, const struct stat *sb, int flag,
		 struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

static char suite_root[256];    /* made by main(), removed by main() */

static void teardown(void)
{
	char mnt[400];

	/* test_disk_full's tmpfs, if an assertion left it mounted */
	snprintf(mnt, sizeof(mnt), "%s/small", tmp_root);
	umount2(mnt, MNT_DETACH);
	nftw(tmp_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	snprintf(tmp_root, sizeof(tmp_root), "%s/case.XXXXXX", suite_root);
	ck_assert_ptr_nonnull(mkdtemp(tmp_root));
	snprintf(db_dir, sizeof(db_dir), "%s/db", tmp_root);
}

static struct store *open_db(uint64_t mapsize)
{
	struct store_opts o = { .mapsize_bytes = mapsize };
	struct mfs_err err = { 0 };
	struct store *st = NULL;
	int rc = store_open(db_dir, &o, &st, &err);

	ck_assert_msg(rc == 0, "store_open: %d %s", rc, err.msg);
	return st;
}

static uint64_t nkeys(struct store *st, const char *db)
{
	uint64_t n = 0;
	struct mfs_err err;

	ck_assert_int_eq(store_stat_entries(st, db, &n, &err), 0);
	return n;
}

static const char *const all_dbs[] = {
	"meta", "coll", "part", "pinfo", "ent", "idmap", "blob", "query"
};

static void snapshot(struct store *st, uint64_t *n)
{
	for (size_t i = 0; i < 8; i++)
		n[i] = nkeys(st, all_dbs[i]);
}

/* ---- generic callbacks ---- */

struct coll_arg {
	const char *name;
	struct store_coll c;
};

static int coll_new_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct coll_arg *a = arg;
	return store_coll_new(t, a->name, &a->c);
}

static int coll_get_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct coll_arg *a = arg;
	return store_coll_get(t, a->name, &a->c);
}

static struct store_coll mkcoll(struct store *st, const char *name)
{
	struct coll_arg a = { .name = name };
	struct mfs_err err;

	ck_assert_int_eq(store_write(st, coll_new_fn, &a, &err), 0);
	return a.c;
}

struct part_arg {
	uint32_t cid;
	const char *name;
	struct store_part p;
};

static int part_new_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct part_arg *a = arg;
	return store_part_new(t, a->cid, a->name, &a->p);
}

static int part_get_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct part_arg *a = arg;
	return store_part_get(t, a->cid, a->name, &a->p);
}

static struct store_part getpart(struct store *st, uint32_t cid,
				 const char *name)
{
	struct part_arg a = { .cid = cid, .name = name };
	struct mfs_err err;

	ck_assert_int_eq(store_read(st, part_get_fn, &a, &err), 0);
	return a.p;
}

static struct store_part mkpart(struct store *st, uint32_t cid,
				const char *name)
{
	struct part_arg a = { .cid = cid, .name = name };
	struct mfs_err err;

	ck_assert_int_eq(store_write(st, part_new_fn, &a, &err), 0);
	return a.p;
}

struct ins_arg {
	uint32_t pid;
	const int64_t *ids;
	const float *vecs;
	size_t dim, n, dup;
	struct store_part p;
};

static int ins_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct ins_arg *a = arg;

	a->p.pid = a->pid;
	return store_ent_insert(t, &a->p, a->ids, a->vecs,
				a->dim * sizeof(float), NULL, NULL, a->n,
				&a->dup);
}

/* A careless caller: ignores the insert's result. */
static int ins_ignore_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	ins_fn(t, arg, err);
	return 0;
}

static int insert(struct store *st, uint32_t pid, const int64_t *ids,
		  const float *vecs, size_t dim, size_t n, size_t *dup)
{
	struct ins_arg a = { .pid = pid, .ids = ids, .vecs = vecs, .dim = dim,
			     .n = n, .dup = SIZE_MAX };
	struct mfs_err err = { 0 };
	int rc = store_write(st, ins_fn, &a, &err);

	if (dup)
		*dup = a.dup;
	return rc;
}

static float val(int64_t id, size_t j)
{
	return (float)id * 0.5f + (float)j;
}

/* Insert ids first..first+n-1 with vectors val(id, j). */
static void insert_range(struct store *st, uint32_t pid, int64_t first,
			 size_t n, size_t dim)
{
	int64_t *ids = malloc(n * sizeof(*ids));
	float *v = malloc(n * dim * sizeof(*v));

	for (size_t i = 0; i < n; i++) {
		ids[i] = first + (int64_t)i;
		for (size_t j = 0; j < dim; j++)
			v[i * dim + j] = val(ids[i], j);
	}
	ck_assert_int_eq(insert(st, pid, ids, v, dim, n, NULL), 0);
	free(ids);
	free(v);
}

struct scan_arg {
	uint32_t pid;
	size_t dim;
	uint64_t from, next;
	size_t max, seen;
	int64_t expect_id;      /* next id expected, INT64_MIN: unchecked */
	uint64_t last_seq;
	int bad;
};

static int scan_cb(void *arg, uint64_t seq, int64_t id, const void *vec,
		   size_t vec_bytes)
{
	struct scan_arg *a = arg;
	const float *f = vec;

	if (vec_bytes != a->dim * sizeof(float) || (uintptr_t)vec % 8)
		a->bad++;
	if (a->seen && seq <= a->last_seq)
		a->bad++;
	if (a->expect_id != INT64_MIN && id != a->expect_id++)
		a->bad++;
	for (size_t j = 0; j < a->dim; j++)
		if (f[j] != val(id, j))
			a->bad++;
	a->last_seq = seq;
	a->seen++;
	return 0;
}

static int scan_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct scan_arg *a = arg;

	a->seen = 0;
	a->bad = 0;
	return store_ent_scan(t, a->pid, a->from, a->max, scan_cb, a,
			      &a->next);
}

/* Scan all of pid checking vectors; ids must rise by one from first_id
 * (INT64_MIN: unchecked).  Returns the number seen. */
static size_t scan_all(struct store *st, uint32_t pid, size_t dim,
		       int64_t first_id)
{
	struct scan_arg a = { .pid = pid, .dim = dim, .expect_id = first_id };
	struct mfs_err err;

	ck_assert_int_eq(store_read(st, scan_fn, &a, &err), 0);
	ck_assert_int_eq(a.bad, 0);
	ck_assert_uint_eq(a.next, UINT64_MAX);
	return a.seen;
}

/* ---- catalog ---- */

struct list_arg {
	char names[16][STORE_NAME_MAX + 1];
	uint32_t ids[16];
	int n;
	int stop_at;
};

static int coll_list_cb(void *arg, const char *name,
			const struct store_coll *c)
{
	struct list_arg *a = arg;

	snprintf(a->names[a->n], sizeof(a->names[0]), "%s", name);
	a->ids[a->n++] = c->cid;
	return a->n == a->stop_at ? 42 : 0;
}

static int coll_list_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct list_arg *a = arg;
	a->n = 0;
	return store_coll_list(t, coll_list_cb, a);
}

struct cat_arg {
	int step;
};

static int catalog_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct store_coll c, d;
	char longname[STORE_NAME_MAX + 2];

	ck_assert_int_eq(store_coll_new(t, "beta", &c), 0);
	ck_assert_uint_eq(c.cid, 1);
	ck_assert_uint_eq(c.next_id, 1);
	ck_assert_uint_eq(c.dim, 0);
	ck_assert_int_eq(store_coll_new(t, "beta", &d), -EEXIST);
	ck_assert_int_eq(store_coll_new(t, "alpha", &d), 0);
	ck_assert_uint_eq(d.cid, 2);
	ck_assert_int_eq(store_coll_get(t, "gamma", &d), -ENOENT);
	ck_assert_int_eq(store_coll_new(t, "", &d), -EINVAL);
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(store_coll_new(t, longname, &d), -EINVAL);
	longname[STORE_NAME_MAX] = '\0';
	ck_assert_int_eq(store_coll_new(t, longname, &d), 0);
	ck_assert_int_eq(store_coll_del(t, longname), 0);

	c.dim = 128;
	c.metric = 2;
	c.metric_set = 1;
	c.vtype = 1;
	c.next_id = 77;
	snprintf(c.description, sizeof(c.description), "a book\nof vectors");
	snprintf(c.index, sizeof(c.index), "index_type=HNSW\nM=16\n");
	ck_assert_int_eq(store_coll_put(t, "beta", &c), 0);
	ck_assert_int_eq(store_coll_put(t, "nope", &c), -ENOENT);
	ck_assert_int_eq(store_coll_get(t, "beta", &d), 0);
	ck_assert_uint_eq(d.cid, 1);
	ck_assert_uint_eq(d.dim, 128);
	ck_assert_uint_eq(d.metric, 2);
	ck_assert_uint_eq(d.metric_set, 1);
	ck_assert_uint_eq(d.vtype, 1);
	ck_assert_uint_eq(d.next_id, 77);
	ck_assert_str_eq(d.description, "a book\nof vectors");
	ck_assert_str_eq(d.index, "index_type=HNSW\nM=16\n");

	/* rename */
	ck_assert_int_eq(store_coll_rename(t, "nope", "x"), -ENOENT);
	ck_assert_int_eq(store_coll_rename(t, "beta", "alpha"), -EEXIST);
	ck_assert_int_eq(store_coll_rename(t, "beta", "zeta"), 0);
	ck_assert_int_eq(store_coll_get(t, "beta", &d), -ENOENT);
	ck_assert_int_eq(store_coll_get(t, "zeta", &d), 0);
	ck_assert_uint_eq(d.cid, 1);
	ck_assert_str_eq(d.index, "index_type=HNSW\nM=16\n");
	ck_assert_int_eq(store_coll_rename(t, "zeta", "zeta"), 0);
	/* the partitions follow (they hang off the cid) */
	struct store_part p;
	ck_assert_int_eq(store_part_get(t, d.cid, "_default", &p), 0);
	ck_assert_uint_eq(p.cid, d.cid);

	ck_assert_int_eq(store_coll_del(t, "nope"), -ENOENT);
	return 0;
}

START_TEST(test_catalog)
{
	struct store *st = open_db(0);
	struct mfs_err err;
	struct list_arg la = { .stop_at = -1 };
	struct cat_arg ca = { 0 };

	ck_assert_int_eq(store_write(st, catalog_fn, &ca, &err), 0);
	ck_assert_int_eq(store_read(st, coll_list_fn, &la, &err), 0);
	ck_assert_int_eq(la.n, 2);
	ck_assert_str_eq(la.names[0], "alpha");
	ck_assert_str_eq(la.names[1], "zeta");
	ck_assert_uint_eq(la.ids[1], 1);
	la.stop_at = 1;
	ck_assert_int_eq(store_read(st, coll_list_fn, &la, &err), 42);
	ck_assert_int_eq(la.n, 1);

	/* ids are never reused: drop alpha (cid 2; 3 was the long name) */
	struct coll_arg a = { .name = "alpha" };
	ck_assert_int_eq(store_read(st, coll_get_fn, &a, &err), 0);
	struct store_coll c = mkcoll(st, "omega");
	ck_assert_uint_eq(c.cid, 4);
	store_close(st);
}
END_TEST

/* ---- partitions ---- */

static int part_list_cb(void *arg, const char *name,
			const struct store_part *p)
{
	struct list_arg *a = arg;

	snprintf(a->names[a->n], sizeof(a->names[0]), "%s", name);
	a->ids[a->n++] = p->pid;
	return 0;
}

struct plist_arg {
	uint32_t cid;
	struct list_arg l;
};

static int part_list_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct plist_arg *a = arg;
	a->l.n = 0;
	return store_part_list(t, a->cid, part_list_cb, &a->l);
}

static int part_crud_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	uint32_t *cid = arg;
	struct store_part p, q;

	ck_assert_int_eq(store_part_new(t, *cid, "_default", &p), -EEXIST);
	ck_assert_int_eq(store_part_new(t, *cid, "novel", &p), 0);
	ck_assert_uint_eq(p.cid, *cid);
	ck_assert_uint_eq(p.count, 0);
	ck_assert_int_eq(store_part_new(t, *cid, "essay", &q), 0);
	ck_assert_uint_gt(q.pid, p.pid);
	p.loaded = 1;
	p.index_seq = 12;
	ck_assert_int_eq(store_part_put(t, &p), 0);
	ck_assert_int_eq(store_part_get(t, *cid, "novel", &q), 0);
	ck_assert_uint_eq(q.loaded, 1);
	ck_assert_uint_eq(q.index_seq, 12);
	ck_assert_uint_eq(q.pid, p.pid);
	ck_assert_int_eq(store_part_get(t, *cid, "nope", &q), -ENOENT);
	ck_assert_int_eq(store_part_get(t, *cid + 100, "novel", &q), -ENOENT);
	ck_assert_int_eq(store_part_del(t, *cid, "nope"), -ENOENT);
	ck_assert_int_eq(store_part_new(t, *cid, "tmp", &q), 0);
	ck_assert_int_eq(store_part_del(t, *cid, "tmp"), 0);
	ck_assert_int_eq(store_part_get(t, *cid, "tmp", &q), -ENOENT);
	return 0;
}

START_TEST(test_partitions)
{
	struct store *st = open_db(0);
	struct mfs_err err;
	struct store_coll c = mkcoll(st, "book");
	struct store_coll c2 = mkcoll(st, "other");
	struct plist_arg pl = { .cid = c.cid };

	ck_assert_int_eq(store_write(st, part_crud_fn, &c.cid, &err), 0);
	ck_assert_int_eq(store_read(st, part_list_fn, &pl, &err), 0);
	ck_assert_int_eq(pl.l.n, 3);
	ck_assert_str_eq(pl.l.names[0], "_default");
	ck_assert_str_eq(pl.l.names[1], "essay");
	ck_assert_str_eq(pl.l.names[2], "novel");
	pl.cid = c2.cid;
	ck_assert_int_eq(store_read(st, part_list_fn, &pl, &err), 0);
	ck_assert_int_eq(pl.l.n, 1);
	ck_assert_str_eq(pl.l.names[0], "_default");
	/* a failed callback leaves nothing behind */
	struct part_arg a = { .cid = c2.cid, .name = "x" };
	ck_assert_int_eq(store_write(st, part_new_fn, &a, &err), 0);
	ck_assert_int_eq(store_write(st, part_new_fn, &a, &err), -EEXIST);
	store_close(st);
}
END_TEST

/* ---- entities ---- */

START_TEST(test_insert_scan)
{
	struct store *st = open_db(0);
	struct mfs_err err;
	struct store_coll c = mkcoll(st, "book");
	struct store_part p = getpart(st, c.cid, "_default");
	struct store_part q = mkpart(st, c.cid, "novel");
	const size_t dim = 16;

	/* interleave two partitions so APPEND is not always possible */
	insert_range(st, p.pid, 1, 500, dim);
	insert_range(st, q.pid, 10001, 300, dim);
	insert_range(st, p.pid, 501, 500, dim);
	insert_range(st, q.pid, 10301, 300, dim);
	p = getpart(st, c.cid, "_default");
	q = getpart(st, c.cid, "novel");
	ck_assert_uint_eq(p.count, 1000);
	ck_assert_uint_eq(p.next_seq, 1000);
	ck_assert_uint_eq(q.count, 600);
	ck_assert_uint_eq(scan_all(st, p.pid, dim, 1), 1000);
	ck_assert_uint_eq(scan_all(st, q.pid, dim, 10001), 600);

	/* paged scan */
	struct scan_arg a = { .pid = p.pid, .dim = dim, .max = 300,
			      .expect_id = 1 };
	size_t total = 0;
	int pages = 0;
	for (;;) {
		int64_t e = a.expect_id;
		ck_assert_int_eq(store_read(st, scan_fn, &a, &err), 0);
		ck_assert_int_eq(a.bad, 0);
		ck_assert_int_eq(a.expect_id, e + (int64_t)a.seen);
		total += a.seen;
		pages++;
		if (a.next == UINT64_MAX)
			break;
		a.from = a.next;
	}
	ck_assert_uint_eq(total, 1000);
	ck_assert_int_eq(pages, 4);

	/* negative and huge ids */
	int64_t ids[3] = { -5, INT64_MAX, INT64_MIN };
	float v[3 * 16] = { 0 };
	for (int i = 0; i < 3; i++)
		for (size_t j = 0; j < dim; j++)
			v[i * dim + j] = val(ids[i], j);
	ck_assert_int_eq(insert(st, q.pid, ids, v, dim, 3, NULL), 0);
	a = (struct scan_arg){ .pid = q.pid, .dim = dim, .from = 600,
			       .expect_id = INT64_MIN };
	ck_assert_int_eq(store_read(st, scan_fn, &a, &err), 0);
	ck_assert_uint_eq(a.seen, 3);
	ck_assert_int_eq(a.bad, 0);
	store_close(st);
}
END_TEST

struct get_arg {
	uint32_t cid;
	int64_t id;
	uint32_t pid;
	size_t dim;             /* 0: 16 */
	float v[16];
};

static int get_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct get_arg *a = arg;
	return store_ent_get(t, a->cid, a->id, &a->pid, a->v,
			     (a->dim ? a->dim : 16) * sizeof(float), NULL,
			     NULL);
}

START_TEST(test_dup_and_get)
{
	struct store *st = open_db(0);
	struct mfs_err err;
	struct store_coll c = mkcoll(st, "book");
	struct store_coll c2 = mkcoll(st, "other");
	struct store_part p = getpart(st, c.cid, "_default");
	struct store_part q = mkpart(st, c.cid, "novel");
	struct store_part r = getpart(st, c2.cid, "_default");
	float v[4 * 16] = { 0 };
	size_t dup;

	insert_range(st, p.pid, 1, 10, 16);
	/* id 5 exists in the collection (other partition) */
	int64_t ids1[4] = { 100, 101, 5, 102 };
	ck_assert_int_eq(insert(st, q.pid, ids1, v, 16, 4, &dup), -EEXIST);
	ck_assert_uint_eq(dup, 2);
	/* twice inside the batch */
	int64_t ids2[4] = { 200, 201, 202, 201 };
	ck_assert_int_eq(insert(st, q.pid, ids2, v, 16, 4, &dup), -EEXIST);
	ck_assert_uint_eq(dup, 3);
	/* a callback that ignores the EEXIST still cannot commit */
	struct ins_arg ia = { .pid = q.pid, .ids = ids2, .vecs = v, .dim = 16,
			      .n = 4 };
	ck_assert_int_eq(store_write(st, ins_ignore_fn, &ia, &err), -EEXIST);
	/* nothing of any batch is in */
	ck_assert_uint_eq(nkeys(st, "ent"), 10);
	ck_assert_uint_eq(nkeys(st, "idmap"), 10);
	q = getpart(st, c.cid, "novel");
	ck_assert_uint_eq(q.count, 0);
	ck_assert_uint_eq(q.next_seq, 0);
	/* the same ids are fine in another collection */
	ck_assert_int_eq(insert(st, r.pid, ids1, v, 16, 4, &dup), 0);

	struct get_arg g = { .cid = c.cid, .id = 7 };
	ck_assert_int_eq(store_read(st, get_fn, &g, &err), 0);
	ck_assert_uint_eq(g.pid, p.pid);
	for (size_t j = 0; j < 16; j++)
		ck_assert(g.v[j] == val(7, j));
	g.id = 100;
	ck_assert_int_eq(store_read(st, get_fn, &g, &err), -ENOENT);
	g.cid = c2.cid;
	ck_assert_int_eq(store_read(st, get_fn, &g, &err), 0);
	ck_assert_uint_eq(g.pid, r.pid);
	store_close(st);
}
END_TEST

struct del_arg {
	uint32_t cid, only_pid;
	const int64_t *ids;
	size_t n, ndel, ncb;
	int64_t cb_sum;
};

static void del_cb(void *arg, uint32_t pid, int64_t id)
{
	struct del_arg *a = arg;
	a->ncb++;
	a->cb_sum += id;
}

static int del_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct del_arg *a = arg;

	a->ncb = 0;
	a->cb_sum = 0;
	return store_ent_delete(t, a->cid, a->only_pid, a->ids, a->n, del_cb,
				a, &a->ndel);
}

START_TEST(test_delete)
{
	struct store *st = open_db(0);
	struct mfs_err err;
	struct store_coll c = mkcoll(st, "book");
	struct store_part p = getpart(st, c.cid, "_default");
	struct store_part q = mkpart(st, c.cid, "novel");

	insert_range(st, p.pid, 1, 100, 4);
	insert_range(st, q.pid, 101, 100, 4);
	/* 3 in p, 2 in q, one missing, one repeated */
	int64_t ids[] = { 1, 50, 150, 100, 200, 9999, 50 };
	struct del_arg d = { .cid = c.cid, .ids = ids, .n = 7 };
	ck_assert_int_eq(store_write(st, del_fn, &d, &err), 0);
	ck_assert_uint_eq(d.ndel, 5);
	ck_assert_uint_eq(d.ncb, 5);
	ck_assert_int_eq(d.cb_sum, 1 + 50 + 150 + 100 + 200);
	ck_assert_uint_eq(getpart(st, c.cid, "_default").count, 97);
	ck_assert_uint_eq(getpart(st, c.cid, "novel").count, 98);
	ck_assert_uint_eq(nkeys(st, "ent"), 195);
	ck_assert_uint_eq(nkeys(st, "idmap"), 195);
	ck_assert_uint_eq(scan_all(st, p.pid, 4, INT64_MIN), 97);

	/* only_pid: ids elsewhere are ignored */
	int64_t ids2[] = { 2, 3, 101, 102 };
	d = (struct del_arg){ .cid = c.cid, .only_pid = q.pid, .ids = ids2,
			      .n = 4 };
	ck_assert_int_eq(store_write(st, del_fn, &d, &err), 0);
	ck_assert_uint_eq(d.ndel, 2);
	ck_assert_uint_eq(getpart(st, c.cid, "_default").count, 97);
	ck_assert_uint_eq(getpart(st, c.cid, "novel").count, 96);

	/* a deleted id can be inserted again */
	insert_range(st, q.pid, 1, 1, 4);
	struct get_arg g = { .cid = c.cid, .id = 1, .dim = 4 };
	ck_assert_int_eq(store_read(st, get_fn, &g, &err), 0);
	ck_assert_uint_eq(g.pid, q.pid);
	ck_assert(g.v[3] == val(1, 3));
	g.dim = 5;      /* wrong vector size */
	ck_assert_int_eq(store_read(st, get_fn, &g, &err), -EINVAL);
	store_close(st);
}
END_TEST

/* ---- blobs and saved queries ---- */

struct blob_arg {
	uint32_t pid;
	void *data;
	size_t len;
};

static int blob_put_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct blob_arg *a = arg;
	return store_blob_put(t, a->pid, a->data, a->len);
}

static int blob_get_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct blob_arg *a = arg;
	return store_blob_get(t, a->pid, &a->data, &a->len);
}

START_TEST(test_blob)
{
	struct store *st = open_db(1 << 20);     /* forces growth as well */
	struct mfs_err err;
	size_t n = 5 * 1024 * 1024 + 123;
	unsigned char *b = malloc(n);
	struct blob_arg a = { .pid = 7, .data = b, .len = n };

	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)(i * 2654435761u >> 13);
	ck_assert_int_eq(store_write(st, blob_put_fn, &a, &err), 0);
	ck_assert_uint_eq(nkeys(st, "blob"), 6);
	struct blob_arg g = { .pid = 7 };
	ck_assert_int_eq(store_read(st, blob_get_fn, &g, &err), 0);
	ck_assert_uint_eq(g.len, n);
	ck_assert_int_eq(memcmp(g.data, b, n), 0);
	free(g.data);
	/* neighbours untouched, replace with a smaller one, delete */
	struct blob_arg o = { .pid = 8, .data = "xyz", .len = 3 };
	ck_assert_int_eq(store_write(st, blob_put_fn, &o, &err), 0);
	a.len = 1000;
	ck_assert_int_eq(store_write(st, blob_put_fn, &a, &err), 0);
	ck_assert_uint_eq(nkeys(st, "blob"), 2);
	g = (struct blob_arg){ .pid = 7 };
	ck_assert_int_eq(store_read(st, blob_get_fn, &g, &err), 0);
	ck_assert_uint_eq(g.len, 1000);
	ck_assert_int_eq(memcmp(g.data, b, 1000), 0);
	free(g.data);
	a.len = 0;
	ck_assert_int_eq(store_write(st, blob_put_fn, &a, &err), 0);
	g = (struct blob_arg){ .pid = 7, .data = b };
	ck_assert_int_eq(store_read(st, blob_get_fn, &g, &err), 0);
	ck_assert_ptr_null(g.data);
	ck_assert_uint_eq(g.len, 0);
	g = (struct blob_arg){ .pid = 8 };
	ck_assert_int_eq(store_read(st, blob_get_fn, &g, &err), 0);
	ck_assert_uint_eq(g.len, 3);
	ck_assert_int_eq(memcmp(g.data, "xyz", 3), 0);
	free(g.data);
	free(b);
	store_close(st);
}
END_TEST

static int qlist_cb(void *arg, const char *name)
{
	struct list_arg *a = arg;
	snprintf(a->names[a->n++], sizeof(a->names[0]), "%s", name);
	return 0;
}

static int query_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct list_arg *l = arg;
	char *text;
	size_t len;

	ck_assert_int_eq(store_query_put(t, 1, 0, "q1", "top_k=3\n", 8), 0);
	ck_assert_int_eq(store_query_put(t, 1, 0, "a0", "x", 1), 0);
	ck_assert_int_eq(store_query_put(t, 1, 5, "q1", "top_k=9\n", 8), 0);
	ck_assert_int_eq(store_query_put(t, 2, 0, "q1", "other", 5), 0);
	ck_assert_int_eq(store_query_put(t, 1, 0, "q1", "top_k=4\n", 8), 0);
	ck_assert_int_eq(store_query_get(t, 1, 0, "q1", &text, &len), 0);
	ck_assert_uint_eq(len, 8);
	ck_assert_str_eq(text, "top_k=4\n");
	free(text);
	ck_assert_int_eq(store_query_get(t, 1, 5, "q1", &text, &len), 0);
	ck_assert_str_eq(text, "top_k=9\n");
	free(text);
	ck_assert_int_eq(store_query_get(t, 1, 5, "zz", &text, &len), -ENOENT);
	ck_assert_int_eq(store_query_put(t, 1, 5, "e", "", 0), 0);
	ck_assert_int_eq(store_query_get(t, 1, 5, "e", &text, &len), 0);
	ck_assert_uint_eq(len, 0);
	ck_assert_str_eq(text, "");
	free(text);
	l->n = 0;
	ck_assert_int_eq(store_query_list(t, 1, 0, qlist_cb, l), 0);
	ck_assert_int_eq(l->n, 2);
	ck_assert_str_eq(l->names[0], "a0");
	ck_assert_str_eq(l->names[1], "q1");
	ck_assert_int_eq(store_query_del(t, 1, 0, "a0"), 0);
	ck_assert_int_eq(store_query_del(t, 1, 0, "a0"), -ENOENT);
	l->n = 0;
	ck_assert_int_eq(store_query_list(t, 1, 5, qlist_cb, l), 0);
	ck_assert_int_eq(l->n, 2);
	return 0;
}

START_TEST(test_queries)
{
	struct store *st = open_db(0);
	struct mfs_err err;
	struct list_arg l;

	ck_assert_int_eq(store_write(st, query_fn, &l, &err), 0);
	ck_assert_uint_eq(nkeys(st, "query"), 4);
	store_close(st);
}
END_TEST

/* ---- drop cascades ---- */

struct fill_arg {
	uint32_t cid, pid;
};

static int fill_extras_fn(struct store_txn *t, void *arg,
			  struct mfs_err *err)
{
	struct fill_arg *a = arg;
	int rc;

	if ((rc = store_blob_put(t, a->pid, "blobdata", 8)) ||
	    (rc = store_query_put(t, a->cid, a->pid, "qp", "t", 1)) ||
	    (rc = store_query_put(t, a->cid, 0, "qc", "t", 1)))
		return rc;
	return 0;
}

static void fill(struct store *st, uint32_t cid, uint32_t pid,
		 int64_t first, size_t n)
{
	struct fill_arg a = { cid, pid };
	struct mfs_err err;

	insert_range(st, pid, first, n, 8);
	ck_assert_int_eq(store_write(st, fill_extras_fn, &a, &err), 0);
}

static int drop_coll_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	return store_coll_del(t, arg);
}

struct pdel_arg {
	uint32_t cid;
	const char *name;
};

static int drop_part_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct pdel_arg *a = arg;
	return store_part_del(t, a->cid, a->name);
}

START_TEST(test_drop_cascade)
{
	struct store *st = open_db(0);
	struct mfs_err err;
	uint64_t before[8], after[8];

	/* a neighbour that must survive, with the same ids */
	struct store_coll keep = mkcoll(st, "keep");
	struct store_part kp = getpart(st, keep.cid, "_default");
	fill(st, keep.cid, kp.pid, 1, 300);
	mkcoll(st, "zzz");      /* a collection sorting after */
	snapshot(st, before);

	struct store_coll c = mkcoll(st, "book");
	struct store_part p = getpart(st, c.cid, "_default");
	struct store_part q = mkpart(st, c.cid, "novel");
	fill(st, c.cid, p.pid, 1, 500);
	fill(st, c.cid, q.pid, 1001, 700);
	mkcoll(st, "tmp");
	ck_assert_int_eq(store_write(st, drop_coll_fn, "tmp", &err), 0);
	ck_assert_int_eq(store_write(st, drop_coll_fn, "book", &err), 0);
	ck_assert_int_eq(store_write(st, drop_coll_fn, "book", &err), -ENOENT);
	snapshot(st, after);
	for (int i = 0; i < 8; i++)
		ck_assert_msg(before[i] == after[i], "%s: %llu keys before, %llu after",
			      all_dbs[i], (unsigned long long)before[i],
			      (unsigned long long)after[i]);
	ck_assert_uint_eq(scan_all(st, kp.pid, 8, 1), 300);

	/* partition drop */
	q = mkpart(st, keep.cid, "novel");
	snapshot(st, before);
	fill(st, keep.cid, q.pid, 5001, 400);
	struct pdel_arg pd = { keep.cid, "novel" };
	ck_assert_int_eq(store_write(st, drop_part_fn, &pd, &err), 0);
	snapshot(st, after);
	/* the partition itself (part, pinfo) and the collection-level
	 * query "qc" (already there) aside, everything went */
	ck_assert_uint_eq(after[2] + 1, before[2]);     /* part */
	ck_assert_uint_eq(after[3] + 1, before[3]);     /* pinfo */
	for (int i = 4; i < 8; i++)
		ck_assert_msg(before[i] == after[i], "%s: %llu keys before, %llu after",
			      all_dbs[i], (unsigned long long)before[i],
			      (unsigned long long)after[i]);
	ck_assert_uint_eq(scan_all(st, kp.pid, 8, 1), 300);
	/* the dropped ids are free again in keep */
	insert_range(st, kp.pid, 5001, 400, 8);
	store_close(st);
}
END_TEST

/* ---- environment ---- */

START_TEST(test_second_open)
{
	struct store *st = open_db(0);
	struct store *st2 = NULL;
	struct mfs_err err = { 0 };
	char want[64];

	ck_assert_int_eq(store_open(db_dir, NULL, &st2, &err), -EBUSY);
	ck_assert_ptr_null(st2);
	snprintf(want, sizeof(want), "(pid %ld)", (long)getpid());
	ck_assert_msg(strstr(err.msg, "is already in use by another milvusfs") &&
		      strstr(err.msg, want), "message: %s", err.msg);
	store_close(st);
	ck_assert_int_eq(store_open(db_dir, NULL, &st2, &err), 0);
	store_close(st2);

	/* mkdir -p */
	char deep[400];
	snprintf(deep, sizeof(deep), "%s/a/b//c", tmp_root);
	ck_assert_int_eq(store_open(deep, NULL, &st2, &err), 0);
	store_close(st2);
	/* a file where the directory should be */
	snprintf(deep, sizeof(deep), "%s/file", tmp_root);
	FILE *f = fopen(deep, "w");
	fclose(f);
	ck_assert_int_eq(store_open(deep, NULL, &st2, &err), -ENOTDIR);
	/* garbage data.mdb */
	snprintf(deep, sizeof(deep), "%s/junk", tmp_root);
	mkdir(deep, 0755);
	snprintf(deep, sizeof(deep), "%s/junk/data.mdb", tmp_root);
	f = fopen(deep, "w");
	for (int i = 0; i < 3000; i++)
		fputs("not an lmdb file ", f);
	fclose(f);
	snprintf(deep, sizeof(deep), "%s/junk", tmp_root);
	ck_assert_int_eq(store_open(deep, NULL, &st2, &err), -EIO);
	ck_assert_msg(strstr(err.msg, "expected an LMDB environment"),
		      "message: %s", err.msg);
}
END_TEST

/* EACCES with a readable message; as root, from a child that drops to
 * nobody. */
START_TEST(test_eacces)
{
	char ro[400], deep[450];
	pid_t pid;
	int status;

	snprintf(ro, sizeof(ro), "%s/ro", tmp_root);
	ck_assert_int_eq(mkdir(ro, 0555), 0);
	ck_assert_int_eq(chmod(tmp_root, 0755), 0);
	ck_assert_int_eq(chmod(ro, 0555), 0);
	snprintf(deep, sizeof(deep), "%s/db", ro);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct mfs_err err = { 0 };
		struct store *st = NULL;

		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		if (store_open(deep, NULL, &st, &err) != -EACCES)
			_exit(1);
		if (!strstr(err.msg, "cannot create database directory") ||
		    !strstr(err.msg, "ermission denied"))
			_exit(2);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "child status %d", status);
}
END_TEST

START_TEST(test_version)
{
	struct store *st = open_db(0);
	struct mfs_err err = { 0 };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	unsigned char v2[4] = { 0, 0, 0, 3 };
	MDB_val k = { 7, "version" }, v = { 4, v2 };

	mkcoll(st, "book");
	store_close(st);
	ck_assert_int_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	ck_assert_int_eq(mdb_env_open(env, db_dir, 0, 0644), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	st = NULL;
	ck_assert_int_eq(store_open(db_dir, NULL, &st, &err), -EIO);
	ck_assert_msg(strstr(err.msg, "expected layout version 2, got 3"),
		      "message: %s", err.msg);
	/* the refusal released the lock */
	ck_assert_int_eq(store_open(db_dir, NULL, &st, &err), -EIO);
}
END_TEST

/* A layout 1 database (no fields db, entity values id | vector) opens,
 * is marked layout 2, and its entities read back with empty rows. */
static int v1_get_txn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	void **row = arg;
	float v[4];
	size_t rl = 99;
	uint32_t pid;
	int rc = store_ent_get(t, 1, 7, &pid, v, sizeof(v), row, &rl);

	(void)err;

	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(rl, 0);
	ck_assert(v[0] == 1.0f && v[3] == 4.0f);
	return 0;
}

START_TEST(test_version1_migrates)
{
	struct store *st = open_db(0);
	struct mfs_err err = { 0 };
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	unsigned char v1[4] = { 0, 0, 0, 1 };
	MDB_val k = { 7, "version" }, v = { 4, v1 }, fk = { 6, "fields" };
	struct ins_arg a = { 0 };
	int64_t id = 7;
	float vec[4] = { 1, 2, 3, 4 };
	void *row = NULL;
	uint64_t n = 1;

	a.ids = &id;
	a.vecs = vec;
	a.dim = 4;
	a.n = 1;
	a.pid = getpart(st, mkcoll(st, "book").cid, "_default").pid;
	ck_assert_int_eq(store_write(st, ins_fn, &a, &err), 0);
	store_close(st);
	/* Make it layout 1: version 1 and no "fields" db in the main db. */
	ck_assert_int_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	ck_assert_int_eq(mdb_env_open(env, db_dir, 0, 0644), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "fields", 0, &dbi), 0);
	ck_assert_int_eq(mdb_drop(txn, dbi, 1), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	ck_assert_int_eq(mdb_get(txn, dbi, &fk, &v), MDB_NOTFOUND);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	st = NULL;
	ck_assert_int_eq(store_open(db_dir, NULL, &st, &err), 0);
	ck_assert_int_eq(store_read(st, v1_get_txn, &row, &err), 0);
	free(row);
	ck_assert_int_eq(store_stat_entries(st, "fields", &n, &err), 0);
	ck_assert_uint_eq(n, 0);
	store_close(st);
	/* Now version 2. */
	ck_assert_int_eq(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	ck_assert_int_eq(mdb_env_open(env, db_dir, MDB_RDONLY, 0644), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	ck_assert_int_eq(mdb_get(txn, dbi, &k, &v), 0);
	ck_assert_uint_eq(v.mv_size, 4);
	ck_assert_uint_eq(((unsigned char *)v.mv_data)[3], 2);
	mdb_txn_abort(txn);
	mdb_env_close(env);
}
END_TEST

/* Another process (bypassing the lock, as only a foreign tool would) grows
 * the map: our next transaction meets MDB_MAP_RESIZED and adopts it. */
START_TEST(test_map_resized)
{
	struct store *st = open_db(64 * 1024);
	struct store_coll c = mkcoll(st, "book");
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		MDB_env *env;
		MDB_txn *txn;
		MDB_dbi dbi;
		static char big[4 << 20];
		MDB_val k = { 5, "bulky" }, v = { sizeof(big), big };

		if (mdb_env_create(&env) || mdb_env_set_maxdbs(env, 8) ||
		    mdb_env_set_mapsize(env, 64 << 20) ||
		    mdb_env_open(env, db_dir, 0, 0644) ||
		    mdb_txn_begin(env, NULL, 0, &txn) ||
		    mdb_dbi_open(txn, "meta", 0, &dbi) ||
		    mdb_put(txn, dbi, &k, &v, 0) || mdb_txn_commit(txn))
			_exit(1);
		mdb_env_close(env);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_int_eq(WIFEXITED(status) && WEXITSTATUS(status) == 0, 1);
	ck_assert_uint_eq(nkeys(st, "meta"), 4);
	struct store_part p = getpart(st, c.cid, "_default");
	insert_range(st, p.pid, 1, 100, 8);
	ck_assert_uint_ge(store_mapsize(st), 4 << 20);
	ck_assert_uint_eq(scan_all(st, p.pid, 8, 1), 100);
	store_close(st);
}
END_TEST

START_TEST(test_persistence)
{
	struct store *st = open_db(0);
	struct mfs_err err;
	struct store_coll c = mkcoll(st, "book");
	struct store_part q = mkpart(st, c.cid, "novel");

	fill(st, c.cid, q.pid, 1, 1000);
	ck_assert_int_eq(store_sync(st), 0);
	store_close(st);

	st = open_db(0);
	struct coll_arg a = { .name = "book" };
	ck_assert_int_eq(store_read(st, coll_get_fn, &a, &err), 0);
	ck_assert_uint_eq(a.c.cid, c.cid);
	struct store_part r = getpart(st, c.cid, "novel");
	ck_assert_uint_eq(r.pid, q.pid);
	ck_assert_uint_eq(r.count, 1000);
	ck_assert_uint_eq(scan_all(st, q.pid, 8, 1), 1000);
	/* counters continue */
	struct store_coll d = mkcoll(st, "next");
	ck_assert_uint_eq(d.cid, c.cid + 1);
	store_close(st);

	/* sync=always */
	struct store_opts o = { .sync_always = 1 };
	ck_assert_int_eq(store_open(db_dir, &o, &st, &err), 0);
	mkcoll(st, "durable");
	store_close(st);
}
END_TEST

START_TEST(test_growth)
{
	struct store *st = open_db(64 * 1024);
	struct store_coll c = mkcoll(st, "book");
	struct store_part p = getpart(st, c.cid, "_default");
	uint64_t m0 = store_mapsize(st);

	ck_assert_uint_le(m0, 128 * 1024);
	for (int b = 0; b < 50; b++)
		insert_range(st, p.pid, 1 + b * 1000, 1000, 32);
	ck_assert_uint_ge(store_mapsize(st), 16 * m0);
	store_close(st);

	st = open_db(64 * 1024);
	p = getpart(st, c.cid, "_default");
	ck_assert_uint_eq(p.count, 50000);
	ck_assert_uint_eq(scan_all(st, p.pid, 32, 1), 50000);
	/* still grows after a reopen with a too small size */
	insert_range(st, p.pid, 50001, 5000, 32);
	ck_assert_uint_eq(scan_all(st, p.pid, 32, 1), 55000);
	store_close(st);
}
END_TEST

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 100,000 vectors in batches of 1,000, all read back (the time is
 * printed; speed is the benchmarks' business). */
START_TEST(test_insert_large)
{
	struct store *st = open_db(0);
	struct store_coll c = mkcoll(st, "glove");
	struct store_part p = getpart(st, c.cid, "_default");
	const size_t dim = 100, batch = 1000, total = 100000;
	int64_t *ids = malloc(batch * sizeof(*ids));
	float *v = malloc(batch * dim * sizeof(*v));
	double t0 = now_s();

	for (size_t b = 0; b < total / batch; b++) {
		for (size_t i = 0; i < batch; i++) {
			ids[i] = (int64_t)(b * batch + i + 1);
			for (size_t j = 0; j < dim; j++)
				v[i * dim + j] = val(ids[i], j);
		}
		ck_assert_int_eq(insert(st, p.pid, ids, v, dim, batch, NULL), 0);
	}
	double t1 = now_s();
	ck_assert_uint_eq(scan_all(st, p.pid, dim, 1), total);
	double t2 = now_s();
	printf("store: inserted %zu x %zu-dim in %.3f s, scanned in %.3f s\n",
	       total, dim, t1 - t0, t2 - t1);
	free(ids);
	free(v);
	store_close(st);
}
END_TEST

/* ---- threads ---- */

struct conc {
	struct store *st;
	uint32_t cid, pid;
	atomic_int stop;
	atomic_int errors;
	atomic_long reads;
};

struct consistent_arg {
	struct conc *c;
	uint64_t count;
	size_t seen;
	int bad;
};

static int count_cb(void *arg, uint64_t seq, int64_t id, const void *vec,
		    size_t vec_bytes)
{
	struct consistent_arg *a = arg;
	const float *f = vec;

	if (f[0] != val(id, 0) || f[7] != val(id, 7))
		a->bad++;
	a->seen++;
	return 0;
}

static int consistent_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct consistent_arg *a = arg;
	struct store_part p;
	uint64_t next;
	int rc;

	a->seen = 0;
	a->bad = 0;
	rc = store_part_get(t, a->c->cid, "_default", &p);
	if (rc)
		return rc;
	a->count = p.count;
	return store_ent_scan(t, a->c->pid, 0, 0, count_cb, a, &next);
}

static void *reader(void *arg)
{
	struct conc *c = arg;
	struct mfs_err err;

	while (!atomic_load(&c->stop)) {
		struct consistent_arg a = { .c = c };
		if (store_read(c->st, consistent_fn, &a, &err) != 0 ||
		    a.bad || a.seen != a.count)
			atomic_fetch_add(&c->errors, 1);
		atomic_fetch_add(&c->reads, 1);
	}
	return NULL;
}

struct writer_arg {
	struct conc *c;
	int64_t first;
};

static void *writer(void *arg)
{
	struct writer_arg *w = arg;

	for (int b = 0; b < 20; b++)
		insert_range(w->c->st, w->c->pid, w->first + b * 250, 250, 8);
	return NULL;
}

START_TEST(test_threads)
{
	/* small map: growth under concurrent readers */
	struct conc c = { .st = open_db(256 * 1024) };
	struct store_coll coll = mkcoll(c.st, "book");
	pthread_t r[4], w[2];
	struct writer_arg wa[2] = { { &c, 1 }, { &c, 100001 } };

	c.cid = coll.cid;
	c.pid = getpart(c.st, coll.cid, "_default").pid;
	for (int i = 0; i < 4; i++)
		pthread_create(&r[i], NULL, reader, &c);
	for (int i = 0; i < 2; i++)
		pthread_create(&w[i], NULL, writer, &wa[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(w[i], NULL);
	atomic_store(&c.stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(r[i], NULL);
	ck_assert_int_eq(atomic_load(&c.errors), 0);
	ck_assert_int_gt(atomic_load(&c.reads), 4);
	ck_assert_uint_eq(getpart(c.st, coll.cid, "_default").count, 10000);
	ck_assert_uint_eq(nkeys(c.st, "idmap"), 10000);
	store_close(c.st);
}
END_TEST

/* ---- disk full ---- */

START_TEST(test_disk_full)
{
	char mnt[400];
	struct mfs_err err = { 0 };
	struct store *st;
	struct store_opts o = { .mapsize_bytes = 64u << 20 };

	snprintf(mnt, sizeof(mnt), "%s/small", tmp_root);
	mkdir(mnt, 0755);
	if (geteuid() != 0 ||
	    mount("tmpfs", mnt, "tmpfs", 0, "size=2m") != 0) {
		printf("store: test_disk_full skipped: cannot mount a small tmpfs (%s)\n",
		       geteuid() != 0 ? "not root" : strerror(errno));
		return;
	}
	snprintf(db_dir, sizeof(db_dir), "%s/db", mnt);
	ck_assert_int_eq(store_open(db_dir, &o, &st, &err), 0);
	struct store_coll c = mkcoll(st, "book");
	struct store_part p = getpart(st, c.cid, "_default");
	int64_t ids[100];
	float v[100 * 64];
	uint64_t acked = 0;
	int rc = 0;

	for (int b = 0; b < 1000 && rc == 0; b++) {
		for (int i = 0; i < 100; i++) {
			ids[i] = 1 + b * 100 + i;
			for (int j = 0; j < 64; j++)
				v[i * 64 + j] = val(ids[i], (size_t)j);
		}
		struct ins_arg a = { .pid = p.pid, .ids = ids, .vecs = v,
				     .dim = 64, .n = 100 };
		rc = store_write(st, ins_fn, &a, &err);
		if (rc == 0)
			acked += 100;
	}
	ck_assert_int_eq(rc, -ENOSPC);
	ck_assert_msg(strstr(err.msg, "database full: no space left on device (map size 64 MiB)"),
		      "message: %s", err.msg);
	ck_assert_uint_gt(acked, 0);
	/* the store keeps working for reads, and nothing acked is lost */
	ck_assert_uint_eq(getpart(st, c.cid, "_default").count, acked);
	store_close(st);
	ck_assert_int_eq(store_open(db_dir, &o, &st, &err), 0);
	ck_assert_uint_eq(getpart(st, c.cid, "_default").count, acked);
	ck_assert_uint_eq(scan_all(st, p.pid, 64, 1), acked);
	store_close(st);
	umount2(mnt, MNT_DETACH);
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_catalog);
	tcase_add_test(tc, test_partitions);
	tcase_add_test(tc, test_insert_scan);
	tcase_add_test(tc, test_dup_and_get);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_blob);
	tcase_add_test(tc, test_queries);
	tcase_add_test(tc, test_drop_cascade);
	tcase_add_test(tc, test_second_open);
	tcase_add_test(tc, test_eacces);
	tcase_add_test(tc, test_version);
	tcase_add_test(tc, test_version1_migrates);
	tcase_add_test(tc, test_map_resized);
	tcase_add_test(tc, test_persistence);
	tcase_add_test(tc, test_growth);
	tcase_add_test(tc, test_insert_large);
	tcase_add_test(tc, test_threads);
	tcase_add_test(tc, test_disk_full);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(store_suite());
	int failed;

	/* A failed assertion ends a forked test case before its teardown:
	 * every case works under suite_root, which goes at the end. */
	const char *tmp = getenv("TMPDIR");

	snprintf(suite_root, sizeof(suite_root), "%s/test_store.XXXXXX",
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
