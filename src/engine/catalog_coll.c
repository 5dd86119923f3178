/* catalog_coll.c - creating, dropping, renaming and listing collections
 * in the catalog (catalog.c has the rules every change follows).
 */
#include "engine/catalog_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- collections ---- */

bool eng_coll_exists(struct eng *e, const char *coll)
{
	bool r;

	pthread_rwlock_rdlock(&e->cat);
	r = eng_coll_find(e, coll) != NULL;
	pthread_rwlock_unlock(&e->cat);
	return r;
}

struct create_arg {
	const char *name;
	const struct store_perm *perm;  /* NULL: none */
	struct store_coll rec;
	struct store_part def;
};

static int create_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct create_arg *a = arg;
	int rc = store_coll_new(txn, a->name, &a->rec);

	if (rc == -EEXIST)
		return mfs_errf(err, rc, "collection %s already exists",
				a->name);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot create collection %s",
				a->name);
	if (a->perm && a->perm->set) {
		a->rec.perm = *a->perm;
		rc = store_coll_put(txn, a->name, &a->rec);
		if (rc < 0)
			return mfs_errf(err, rc, "cannot create collection %s",
					a->name);
	}
	rc = store_part_get(txn, a->rec.cid, ENG_DEFAULT_PARTITION, &a->def);
	if (rc < 0)
		return mfs_errf(err, rc == -ENOENT ? -EIO : rc,
				"collection %s: no default partition", a->name);
	return 0;
}

/* A collection cannot take an alias's name (SPEC §12, Milvus's words). */
static int err_alias_name(struct mfs_err *err, const char *name)
{
	return mfs_errf(err, -EEXIST, "collection name [%s] conflicts with an "
			"existing alias, please choose a unique name", name);
}

int eng_coll_create(struct eng *e, const char *coll, struct mfs_err *err)
{
	return eng_coll_create_owned(e, coll, NULL, err);
}

int eng_coll_create_owned(struct eng *e, const char *coll,
			  const struct store_perm *perm, struct mfs_err *err)
{
	struct create_arg a = { .name = coll, .perm = perm };
	struct store_coll zc = { 0 };
	struct store_part zp = { 0 };
	struct eng_coll *c;
	struct eng_part *p;
	int rc;

	if ((rc = eng_cat_name_check(coll, "collection", err)) < 0)
		return rc;
	/* Allocate first: once committed, the cache update cannot fail. */
	c = eng_cat_coll_new(coll, &zc);
	p = eng_cat_part_new(ENG_DEFAULT_PARTITION, &zp);
	if (!c || !p || eng_cat_add_part(c, p) < 0) {
		eng_part_unref(p);
		eng_coll_unref(c);
		return mfs_errf(err, -ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&e->wmu);
	pthread_rwlock_wrlock(&e->cat);
	rc = eng_cat_grow(&e->colls, e->ncolls, &e->capcolls);
	pthread_rwlock_unlock(&e->cat);
	if (rc < 0) {
		rc = mfs_errf(err, rc, "out of memory");
		goto unlock;
	}
	if (eng_coll_exists(e, coll)) {
		rc = mfs_errf(err, -EEXIST, "collection %s already exists",
			      coll);
		goto unlock;
	}
	if (eng_alias_get(e, coll, NULL) == 0) {
		rc = err_alias_name(err, coll);
		goto unlock;
	}
	rc = store_write(e->st, create_txn, &a, err);
	if (rc < 0)
		goto unlock;
	c->cid = a.rec.cid;
	c->rec = a.rec;
	p->pid = a.def.pid;
	p->cid = a.def.cid;
	p->count = a.def.count;
	pthread_rwlock_wrlock(&e->cat);
	e->colls[e->ncolls++] = c;
	pthread_rwlock_unlock(&e->cat);
	c = NULL;
unlock:
	pthread_mutex_unlock(&e->wmu);
	eng_coll_unref(c);
	return rc;
}

static int drop_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	const char *name = arg;
	int rc = store_coll_del(txn, name);

	if (rc < 0)
		return mfs_errf(err, rc, "cannot drop collection %s", name);
	return 0;
}

static void remove_coll(struct eng *e, struct eng_coll *c)
{
	for (size_t i = 0; i < e->ncolls; i++)
		if (e->colls[i] == c) {
			e->colls[i] = e->colls[--e->ncolls];
			c->dropped = true;
			for (size_t j = 0; j < c->nparts; j++)
				c->parts[j]->dropped = true;
			eng_coll_unref(c);
			return;
		}
}

int eng_coll_drop(struct eng *e, const char *coll, struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part **parts = NULL;
	size_t n = 0, locked = 0;
	bool building;
	int rc;

	rc = eng_lookup(e, coll, NULL, &c, NULL, NULL, err);
	if (rc < 0)
		return rc;
	rc = eng_parts_get(e, c, &parts, &n);
	if (rc < 0) {
		rc = mfs_errf(err, rc, "out of memory");
		goto unref;
	}
	/* Hold every partition's writer mutex so no load starts meanwhile. */
	for (; locked < n; locked++) {
		pthread_mutex_lock(&parts[locked]->wmu);
		if (atomic_load(&parts[locked]->state) != ENG_NOTLOAD) {
			rc = mfs_errf(err, -EBUSY,
				      "collection cannot be dropped, collection is loaded, please release it first");
			locked++;
			goto unlock;
		}
	}
	pthread_mutex_lock(&c->bmu);
	building = c->building;
	pthread_mutex_unlock(&c->bmu);
	if (building) {
		rc = mfs_errf(err, -EBUSY,
			      "collection cannot be dropped: an index build of collection %s is in progress",
			      coll);
		goto unlock;
	}
	pthread_mutex_lock(&e->wmu);
	pthread_rwlock_rdlock(&e->cat);
	/* The name may have changed since the lookup. */
	char name[STORE_NAME_MAX + 1];
	char aliases[512];
	snprintf(name, sizeof(name), "%s", c->name);
	bool gone = c->dropped;
	bool aliased = eng_cat_aliases_of(e, c->cid, aliases, sizeof(aliases));
	pthread_rwlock_unlock(&e->cat);
	if (gone) {
		rc = eng_err_no_coll(err, -ENOENT, coll);
	} else if (aliased) {
		/* SPEC §12, Milvus's words */
		rc = mfs_errf(err, -EBUSY, "unable to drop the collection "
			      "[%s] because it has associated aliases [%s], "
			      "please remove all aliases before dropping the "
			      "collection", name, aliases);
	} else {
		rc = store_write(e->st, drop_txn, name, err);
		if (rc == 0) {
			pthread_rwlock_wrlock(&e->cat);
			remove_coll(e, c);
			pthread_rwlock_unlock(&e->cat);
		}
	}
	pthread_mutex_unlock(&e->wmu);
unlock:
	while (locked > 0)
		pthread_mutex_unlock(&parts[--locked]->wmu);
	eng_parts_put(parts, n);
unref:
	eng_coll_unref(c);
	return rc;
}

struct rename_arg {
	const char *from, *to;
};

static int rename_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct rename_arg *a = arg;
	int rc = store_coll_rename(txn, a->from, a->to);

	if (rc == -EEXIST)
		return mfs_errf(err, rc, "collection %s already exists", a->to);
	if (rc == -ENOENT)
		return eng_err_no_coll(err, rc, a->from);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot rename collection %s to %s",
				a->from, a->to);
	return 0;
}

int eng_coll_rename(struct eng *e, const char *from, const char *to,
		    struct mfs_err *err)
{
	struct rename_arg a = { .from = from, .to = to };
	int rc;

	if ((rc = eng_cat_name_check(to, "collection", err)) < 0)
		return rc;
	pthread_mutex_lock(&e->wmu);
	if (!eng_coll_exists(e, from)) {
		rc = eng_err_no_coll(err, -ENOENT, from);
		goto unlock;
	}
	if (strcmp(from, to) == 0) {
		rc = 0;
		goto unlock;
	}
	if (eng_alias_get(e, to, NULL) == 0) {
		rc = err_alias_name(err, to);
		goto unlock;
	}
	if (eng_coll_exists(e, to)) {
		char aliases[512];
		struct eng_coll *tc;
		bool aliased;

		pthread_rwlock_rdlock(&e->cat);
		tc = eng_coll_find(e, to);
		aliased = tc && eng_cat_aliases_of(e, tc->cid, aliases,
					   sizeof(aliases));
		pthread_rwlock_unlock(&e->cat);
		if (aliased)
			rc = mfs_errf(err, -EBUSY, "collection %s cannot be "
				      "replaced: unable to drop the collection "
				      "[%s] because it has associated aliases "
				      "[%s], please remove all aliases before "
				      "dropping the collection", to, to,
				      aliases);
		else
			rc = mfs_errf(err, -EEXIST, "collection %s already "
				      "exists", to);
		goto unlock;
	}
	rc = store_write(e->st, rename_txn, &a, err);
	if (rc == 0) {
		pthread_rwlock_wrlock(&e->cat);
		struct eng_coll *c = eng_coll_find(e, from);
		if (c)
			snprintf(c->name, sizeof(c->name), "%s", to);
		pthread_rwlock_unlock(&e->cat);
	}
unlock:
	pthread_mutex_unlock(&e->wmu);
	return rc;
}

int eng_coll_list(struct eng *e, struct eng_names *out, struct mfs_err *err)
{
	return eng_cat_list(e, false, out, err);
}
