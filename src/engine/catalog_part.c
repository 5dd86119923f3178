/* catalog_part.c - creating, dropping and listing partitions (with the
 * key partitions of a partition-key collection), and the owners, groups
 * and modes of collections and partitions (catalog.c has the rules every
 * change follows).
 */
#include "engine/catalog_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- partitions ---- */

bool eng_part_exists(struct eng *e, const char *coll, const char *part)
{
	struct eng_coll *c;
	bool r = false;

	pthread_rwlock_rdlock(&e->cat);
	c = eng_coll_find(e, coll);
	if (c)
		r = eng_part_find(c, part) != NULL;
	pthread_rwlock_unlock(&e->cat);
	return r;
}

struct pcreate_arg {
	const char *coll, *part;
	const struct store_perm *perm;  /* NULL: none */
	uint32_t cid;
	struct store_part sp;
};

static int pcreate_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct pcreate_arg *a = arg;
	int rc = store_part_new(txn, a->cid, a->part, &a->sp);

	if (rc == 0 && a->perm && a->perm->set) {
		a->sp.perm = *a->perm;
		rc = store_part_put(txn, &a->sp);
	}
	if (rc == -EEXIST)
		return mfs_errf(err, rc, "partition %s already exists", a->part);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot create partition %s", a->part);
	return 0;
}

static int part_create(struct eng *e, const char *coll, const char *part,
		       const struct store_perm *perm, bool by_engine,
		       struct mfs_err *err);
static int part_drop(struct eng *e, const char *coll, const char *part,
		     bool by_engine, struct mfs_err *err);

int eng_part_create(struct eng *e, const char *coll, const char *part,
		    struct mfs_err *err)
{
	return part_create(e, coll, part, NULL, false, err);
}

int eng_part_create_owned(struct eng *e, const char *coll, const char *part,
			  const struct store_perm *perm, struct mfs_err *err)
{
	return part_create(e, coll, part, perm, false, err);
}

/* Is name "_default_<i>" with i >= n (a key partition past the count)? */
static bool surplus_key_part(const char *name, uint32_t n)
{
	size_t dl = strlen(ENG_DEFAULT_PARTITION);
	char *end;
	unsigned long i;

	if (strncmp(name, ENG_DEFAULT_PARTITION "_", dl + 1) != 0 ||
	    name[dl + 1] < '0' || name[dl + 1] > '9')
		return false;
	i = strtoul(name + dl + 1, &end, 10);
	return *end == '\0' && i >= n;
}

int eng_pk_parts(struct eng *e, const char *coll, struct mfs_err *err)
{
	struct eng_fields *f;
	struct eng_names names = { 0, NULL };
	uint32_t n;
	int rc;

	rc = eng_fields_get(e, coll, &f, err);
	if (rc < 0)
		return rc;
	n = f->s.pk >= 0 ? f->s.num_partitions : 0;
	eng_fields_put(f);
	/* Empty key partitions past the count (num_partitions lowered, or
	 * the key removed, before the first insert) go. */
	rc = eng_part_list(e, coll, &names, err);
	for (size_t i = 0; rc == 0 && i < names.n; i++) {
		uint64_t cnt = 1;

		if (!surplus_key_part(names.name[i], n))
			continue;
		if (eng_count(e, coll, names.name[i], &cnt, NULL) == 0 &&
		    cnt == 0) {
			rc = part_drop(e, coll, names.name[i], true, err);
			if (rc == -EBUSY || rc == -ENOENT) {
				/* loaded or gone: leave it */
				mfs_err_clear(err);
				rc = 0;
			}
		}
	}
	eng_names_free(&names);
	if (rc < 0)
		return rc;
	for (uint32_t i = 0; i < n; i++) {
		char name[64];

		snprintf(name, sizeof(name), "%s_%u", ENG_DEFAULT_PARTITION, i);
		if (eng_part_exists(e, coll, name))
			continue;
		rc = part_create(e, coll, name, NULL, true, err);
		if (rc < 0 && rc != -EEXIST)
			return rc;
	}
	mfs_err_clear(err);
	return 0;
}

static int part_create(struct eng *e, const char *coll, const char *part,
		       const struct store_perm *perm, bool by_engine,
		       struct mfs_err *err)
{
	struct pcreate_arg a = { .coll = coll, .part = part, .perm = perm };
	struct eng_coll *c;
	struct eng_part *p;
	int rc;

	if ((rc = eng_cat_name_check(part, "partition", err)) < 0)
		return rc;
	pthread_mutex_lock(&e->wmu);
	/* Under e->wmu no other writer changes the partition list. */
	pthread_rwlock_rdlock(&e->cat);
	c = eng_coll_find(e, coll);
	if (!c)
		rc = eng_err_no_coll(err, -ENOENT, coll);
	else if (eng_part_find(c, part))
		rc = mfs_errf(err, -EEXIST, "partition %s already exists",
			      part);
	else if (!by_engine && c->fields->s.pk >= 0)
		rc = mfs_errf(err, -EPERM,
			      "disable create partition if partition key mode is used");
	else if (c->nparts >= e->max_partitions)
		rc = mfs_errf(err, -EDQUOT,
			      "partition number (%zu) exceeds max configuration (%u), collection: %s",
			      c->nparts, e->max_partitions, coll);
	else
		rc = 0;
	if (rc == 0)
		a.cid = c->cid;
	pthread_rwlock_unlock(&e->cat);
	if (rc < 0)
		goto unlock;
	p = eng_cat_part_new(part, &a.sp);
	pthread_rwlock_wrlock(&e->cat);
	if (p)
		rc = eng_cat_grow(&c->parts, c->nparts, &c->capparts);
	pthread_rwlock_unlock(&e->cat);
	if (!p || rc < 0) {
		eng_part_unref(p);
		rc = mfs_errf(err, -ENOMEM, "out of memory");
		goto unlock;
	}
	rc = store_write(e->st, pcreate_txn, &a, err);
	if (rc < 0) {
		eng_part_unref(p);
		goto unlock;
	}
	p->pid = a.sp.pid;
	p->cid = a.sp.cid;
	p->count = a.sp.count;
	p->perm = a.sp.perm;
	pthread_rwlock_wrlock(&e->cat);
	eng_cat_add_part(c, p);    /* room was made above */
	pthread_rwlock_unlock(&e->cat);
unlock:
	pthread_mutex_unlock(&e->wmu);
	return rc;
}

struct pdrop_arg {
	uint32_t cid;
	const char *part;
};

static int pdrop_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct pdrop_arg *a = arg;
	int rc = store_part_del(txn, a->cid, a->part);

	if (rc < 0)
		return mfs_errf(err, rc, "cannot drop partition %s", a->part);
	return 0;
}

static int part_drop(struct eng *e, const char *coll, const char *part,
		     bool by_engine, struct mfs_err *err);

int eng_part_drop(struct eng *e, const char *coll, const char *part,
		  struct mfs_err *err)
{
	return part_drop(e, coll, part, false, err);
}

static int part_drop(struct eng *e, const char *coll, const char *part,
		     bool by_engine, struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p;
	struct pdrop_arg a = { .part = part };
	int rc;

	if (strcmp(part, ENG_DEFAULT_PARTITION) == 0) {
		if (!eng_coll_exists(e, coll))
			return eng_err_no_coll(err, -ENOENT, coll);
		return mfs_errf(err, -EPERM,
				"default partition cannot be deleted");
	}
	rc = eng_lookup(e, coll, part, &c, &p, NULL, err);
	if (rc < 0)
		return rc;
	if (!by_engine && eng_coll_has_pk(e, coll)) {
		eng_part_unref(p);
		eng_coll_unref(c);
		return mfs_errf(err, -EPERM,
				"disable drop partition if partition key mode is used");
	}
	a.cid = c->cid;
	pthread_mutex_lock(&p->wmu);
	if (atomic_load(&p->state) != ENG_NOTLOAD) {
		rc = mfs_errf(err, -EBUSY,
			      "partition cannot be dropped, partition is loaded, please release it first");
		goto unlock_p;
	}
	pthread_mutex_lock(&e->wmu);
	if (p->dropped) {
		rc = eng_err_no_part(err, -ENOENT, part);
	} else {
		rc = store_write(e->st, pdrop_txn, &a, err);
		if (rc == 0) {
			pthread_rwlock_wrlock(&e->cat);
			for (size_t i = 0; i < c->nparts; i++)
				if (c->parts[i] == p) {
					memmove(&c->parts[i], &c->parts[i + 1],
						(c->nparts - i - 1) *
						sizeof(c->parts[0]));
					c->nparts--;
					p->dropped = true;
					eng_part_unref(p);  /* the list's */
					break;
				}
			pthread_rwlock_unlock(&e->cat);
		}
	}
	pthread_mutex_unlock(&e->wmu);
unlock_p:
	pthread_mutex_unlock(&p->wmu);
	eng_part_unref(p);
	eng_coll_unref(c);
	return rc;
}

int eng_part_list(struct eng *e, const char *coll, struct eng_names *out,
		  struct mfs_err *err)
{
	struct eng_names r = { 0 };
	struct eng_coll *c;
	size_t cap = 0;
	int rc = 0;

	pthread_rwlock_rdlock(&e->cat);
	c = eng_coll_find(e, coll);
	if (!c) {
		pthread_rwlock_unlock(&e->cat);
		return eng_err_no_coll(err, -ENOENT, coll);
	}
	for (size_t i = 0; i < c->nparts && rc == 0; i++)
		rc = eng_names_add(&r, &cap, c->parts[i]->name);
	pthread_rwlock_unlock(&e->cat);
	if (rc < 0) {
		eng_names_free(&r);
		return mfs_errf(err, rc, "out of memory");
	}
	*out = r;
	return 0;
}

/* ---- owners, groups and modes ---- */

int eng_perm_get(struct eng *e, const char *coll, const char *part,
		 struct store_perm *out)
{
	struct eng_coll *c;
	struct eng_part *p;
	int rc = eng_find_rdlock(e, coll, part, &c, &p, NULL);

	if (rc < 0)
		return rc;
	*out = p && p->perm.set ? p->perm : c->rec.perm;
	pthread_rwlock_unlock(&e->cat);
	return 0;
}

struct perm_arg {
	const char *coll, *part;
	struct store_perm perm;
	struct store_coll rec;          /* out: the collection's record */
};

static int perm_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct perm_arg *a = arg;
	struct store_part sp;
	int rc = store_coll_get(txn, a->coll, &a->rec);

	if (rc < 0)
		return eng_err_no_coll(err, rc, a->coll);
	if (!a->part) {
		a->rec.perm = a->perm;
		rc = store_coll_put(txn, a->coll, &a->rec);
	} else {
		rc = store_part_get(txn, a->rec.cid, a->part, &sp);
		if (rc == -ENOENT)
			return eng_err_no_part(err, rc, a->part);
		if (rc == 0) {
			sp.perm = a->perm;
			rc = store_part_put(txn, &sp);
		}
	}
	if (rc < 0)
		return mfs_errf(err, rc, "cannot change the owner or mode of "
				"%s%s%s", a->coll, a->part ? "/" : "",
				a->part ? a->part : "");
	return 0;
}

int eng_perm_set(struct eng *e, const char *coll, const char *part,
		 const struct store_perm *perm, struct mfs_err *err)
{
	struct perm_arg a = { .coll = coll, .part = part, .perm = *perm };
	int rc;

	a.perm.set = 1;
	/* Under e->wmu the cache follows the database in commit order. */
	pthread_mutex_lock(&e->wmu);
	rc = store_write(e->st, perm_txn, &a, err);
	if (rc == 0) {
		struct eng_coll *c;
		struct eng_part *p;

		pthread_rwlock_wrlock(&e->cat);
		c = eng_coll_find(e, coll);
		if (c && !part) {
			c->rec.perm = a.perm;
		} else if (c && (p = eng_part_find(c, part)) != NULL) {
			p->perm = a.perm;
		}
		pthread_rwlock_unlock(&e->cat);
	}
	pthread_mutex_unlock(&e->wmu);
	return rc;
}
