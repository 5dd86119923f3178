/* catalog_alias.c - aliases of collections (SPEC §12) in the catalog:
 * set, move, rename, drop, resolve and list them (catalog.c has the
 * rules every change follows).
 */
#include "engine/catalog_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers (caller holds e->cat) ---- */

static struct eng_alias *alias_find(struct eng *e, const char *name)
{
	for (size_t i = 0; i < e->naliases; i++)
		if (strcmp(e->aliases[i].name, name) == 0)
			return &e->aliases[i];
	return NULL;
}

/* The aliases of collection cid, "a, b", in out (size bytes; cut short
 * with "..." when long); false when it has none. */
bool eng_cat_aliases_of(struct eng *e, uint32_t cid, char *out,
			size_t size)
{
	size_t len = 0;
	bool any = false;

	out[0] = '\0';
	for (size_t i = 0; i < e->naliases; i++) {
		if (e->aliases[i].cid != cid)
			continue;
		int n = snprintf(out + len, size - len, "%s%s",
				 any ? ", " : "", e->aliases[i].name);
		any = true;
		if (n < 0 || (size_t)n >= size - len) {
			if (size > 4)
				strcpy(out + size - 4, "...");
			break;
		}
		len += (size_t)n;
	}
	return any;
}

/* Room for one more alias (caller holds e->cat for write). */
int eng_cat_alias_room(struct eng *e)
{
	struct eng_alias *na;
	size_t nc;

	if (e->naliases < e->capaliases)
		return 0;
	nc = e->capaliases ? e->capaliases * 2 : 8;
	na = realloc(e->aliases, nc * sizeof(*na));
	if (!na)
		return -ENOMEM;
	e->aliases = na;
	e->capaliases = nc;
	return 0;
}

/* ---- aliases (SPEC §12) ---- */

struct alias_arg {
	const char *name, *old;         /* old: an alias to delete, or NULL */
	uint32_t cid;
};

static int alias_put_txn(struct store_txn *txn, void *arg,
			 struct mfs_err *err)
{
	struct alias_arg *a = arg;
	int rc = store_alias_put(txn, a->name, a->cid);

	if (rc == 0 && a->old)
		rc = store_alias_del(txn, a->old);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot store alias %s", a->name);
	return 0;
}

static void alias_remove(struct eng *e, const char *name)
{
	struct eng_alias *al = alias_find(e, name);

	if (al)
		*al = e->aliases[--e->naliases];
}

/* An alias cannot take the name of collection name. */
static int err_shadow(struct mfs_err *err, const char *name)
{
	return mfs_errf(err, -EEXIST, "cannot create alias [%s]: a collection "
			"of that name exists (an alias cannot shadow a "
			"collection)", name);
}

/* The end of eng_alias_set and eng_alias_rename, called with e->wmu held
 * (released here) and rc, the outcome of their checks (> 0: nothing to
 * change): a stored, then in the cache (room made by the checks) alias
 * a->name names collection a->cid, and a->old, when set, is gone. */
static int alias_commit(struct eng *e, struct alias_arg *a, int rc,
			struct mfs_err *err)
{
	struct eng_alias *al;

	if (rc == 0)
		rc = store_write(e->st, alias_put_txn, a, err);
	if (rc == 0) {
		pthread_rwlock_wrlock(&e->cat);
		if (a->old) {
			alias_remove(e, a->name);
			al = alias_find(e, a->old);
		} else {
			al = alias_find(e, a->name);
			if (!al)
				al = &e->aliases[e->naliases++];
		}
		if (al) {
			snprintf(al->name, sizeof(al->name), "%s", a->name);
			al->cid = a->cid;
		}
		pthread_rwlock_unlock(&e->cat);
	}
	pthread_mutex_unlock(&e->wmu);
	return rc > 0 ? 0 : rc;
}

static int alias_del_txn(struct store_txn *txn, void *arg,
			 struct mfs_err *err)
{
	struct alias_arg *a = arg;
	int rc = store_alias_del(txn, a->name);

	if (rc < 0)
		return mfs_errf(err, rc, "cannot drop alias %s", a->name);
	return 0;
}

int eng_alias_set(struct eng *e, const char *alias, const char *coll,
		  bool move, struct mfs_err *err)
{
	struct alias_arg a = { .name = alias };
	struct eng_alias *al;
	struct eng_coll *c;
	char cur[STORE_NAME_MAX + 1];
	int rc = 0;

	if ((rc = eng_cat_name_check(alias, "", err)) < 0 ||
	    (rc = eng_cat_name_check(coll, "", err)) < 0)
		return rc;
	pthread_mutex_lock(&e->wmu);
	pthread_rwlock_wrlock(&e->cat);
	if (eng_cat_alias_room(e) < 0) {
		rc = mfs_errf(err, -ENOMEM, "out of memory");
	} else if (eng_coll_find(e, alias)) {
		rc = err_shadow(err, alias);
	} else if ((al = alias_find(e, coll)) != NULL) {
		c = eng_cat_coll_by_cid(e, al->cid);
		rc = mfs_errf(err, -EINVAL, "cannot point alias [%s] at "
			      "[%s]: it is an alias (of collection %s), and "
			      "an alias names a collection", alias, coll,
			      c ? c->name : "?");
	} else if (!(c = eng_coll_find(e, coll))) {
		rc = eng_err_no_coll(err, -ENOENT, coll);
	} else {
		a.cid = c->cid;
		al = alias_find(e, alias);
		if (al && !move) {
			struct eng_coll *oc = eng_cat_coll_by_cid(e, al->cid);

			snprintf(cur, sizeof(cur), "%s", oc ? oc->name : "?");
			rc = mfs_errf(err, -EEXIST, "alias [%s] already exists"
				      " and names collection %s (ln -sfn or a "
				      "rename over it moves it)", alias, cur);
		} else if (al && al->cid == c->cid) {
			rc = 1;         /* already so */
		}
	}
	pthread_rwlock_unlock(&e->cat);
	return alias_commit(e, &a, rc, err);
}

int eng_alias_drop(struct eng *e, const char *alias, struct mfs_err *err)
{
	struct alias_arg a = { .name = alias };
	int rc;

	pthread_mutex_lock(&e->wmu);
	if (eng_alias_get(e, alias, NULL) < 0) {
		rc = eng_err_no_alias(err, -ENOENT, alias);
		goto out;
	}
	rc = store_write(e->st, alias_del_txn, &a, err);
	if (rc == 0) {
		pthread_rwlock_wrlock(&e->cat);
		alias_remove(e, alias);
		pthread_rwlock_unlock(&e->cat);
	}
out:
	pthread_mutex_unlock(&e->wmu);
	return rc;
}

int eng_alias_rename(struct eng *e, const char *from, const char *to,
		     struct mfs_err *err)
{
	struct alias_arg a = { .name = to, .old = from };
	struct eng_alias *al;
	int rc = 0;

	if ((rc = eng_cat_name_check(to, "alias", err)) < 0)
		return rc;
	pthread_mutex_lock(&e->wmu);
	pthread_rwlock_wrlock(&e->cat);
	if (!(al = alias_find(e, from)))
		rc = eng_err_no_alias(err, -ENOENT, from);
	else if (eng_coll_find(e, to))
		rc = err_shadow(err, to);
	else if (strcmp(from, to) == 0)
		rc = 1;
	else if (!alias_find(e, to) && eng_cat_alias_room(e) < 0)
		rc = mfs_errf(err, -ENOMEM, "out of memory");
	else
		a.cid = al->cid;
	pthread_rwlock_unlock(&e->cat);
	return alias_commit(e, &a, rc, err);
}

int eng_alias_get(struct eng *e, const char *alias, char *coll)
{
	struct eng_alias *al;
	struct eng_coll *c = NULL;

	pthread_rwlock_rdlock(&e->cat);
	al = alias_find(e, alias);
	if (al)
		c = eng_cat_coll_by_cid(e, al->cid);
	if (c && coll)
		snprintf(coll, STORE_NAME_MAX + 1, "%s", c->name);
	pthread_rwlock_unlock(&e->cat);
	return c ? 0 : -ENOENT;
}

int eng_alias_list(struct eng *e, struct eng_names *out, struct mfs_err *err)
{
	return eng_cat_list(e, true, out, err);
}
