/* catalog.c - the in-memory catalog cache: collections and partitions.
 *
 * Every change runs as one store_write under e->wmu and is then applied to
 * the cache under e->cat in write mode, so the cache follows the database
 * in commit order (engine_int.h has the lock order).  Lookups take e->cat
 * in read mode only and never touch LMDB.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- Milvus's messages (engine_int.h) ---- */

int eng_err_no_coll(struct mfs_err *err, int rc, const char *name)
{
	return mfs_errf(err, rc, "collection not found[collection=%s]", name);
}

int eng_err_no_part(struct mfs_err *err, int rc, const char *name)
{
	return mfs_errf(err, rc, "partition not found[partition=%s]", name);
}

int eng_err_no_alias(struct mfs_err *err, int rc, const char *name)
{
	return mfs_errf(err, rc, "alias not found[alias=%s]", name);
}

/* ---- references ----
 *
 * part_new and coll_new return an object holding one reference; the last
 * eng_*_unref frees it (eng_*_ref: engine_int.h). */

static struct eng_part *part_new(const char *name, const struct store_part *sp)
{
	struct eng_part *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->pid = sp->pid;
	p->cid = sp->cid;
	p->count = sp->count;
	p->perm = sp->perm;
	atomic_init(&p->refs, 1);
	atomic_init(&p->state, ENG_NOTLOAD);
	atomic_init(&p->progress, 0);
	pthread_mutex_init(&p->wmu, NULL);
	eng_rwlock_init(&p->ilock);
	return p;
}

static struct eng_coll *coll_new(const char *name, const struct store_coll *rec)
{
	struct eng_coll *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->cid = rec->cid;
	c->rec = *rec;
	if (eng_fields_new("", 0, &c->fields, NULL) < 0) {
		free(c);
		return NULL;
	}
	atomic_init(&c->refs, 1);
	atomic_init(&c->build_progress, 100);
	pthread_mutex_init(&c->bmu, NULL);
	pthread_cond_init(&c->compacted, NULL);
	eng_rwlock_init(&c->plock);
	return c;
}

void eng_part_unref(struct eng_part *p)
{
	if (!p || !eng_refs_drop(&p->refs))
		return;
	idx_free(p->ix);
	eng_cols_unref(p->cols);
	free(p->bdel);
	pthread_rwlock_destroy(&p->ilock);
	pthread_mutex_destroy(&p->wmu);
	free(p);
}

void eng_coll_unref(struct eng_coll *c)
{
	if (!c || !eng_refs_drop(&c->refs))
		return;
	for (size_t i = 0; i < c->nparts; i++)
		eng_part_unref(c->parts[i]);
	free(c->parts);
	eng_fields_put(c->fields);
	pthread_mutex_destroy(&c->bmu);
	pthread_cond_destroy(&c->compacted);
	pthread_rwlock_destroy(&c->plock);
	free(c);
}

/* Append p (taking the caller's reference) in pid order. */
static int coll_add_part(struct eng_coll *c, struct eng_part *p)
{
	size_t i;

	if (c->nparts == c->capparts) {
		size_t cap = c->capparts ? c->capparts * 2 : 4;
		struct eng_part **np = realloc(c->parts, cap * sizeof(*np));

		if (!np)
			return -ENOMEM;
		c->parts = np;
		c->capparts = cap;
	}
	for (i = c->nparts; i > 0 && c->parts[i - 1]->pid > p->pid; i--)
		c->parts[i] = c->parts[i - 1];
	c->parts[i] = p;
	c->nparts++;
	return 0;
}

static int eng_add_coll(struct eng *e, struct eng_coll *c)
{
	if (e->ncolls == e->capcolls) {
		size_t cap = e->capcolls ? e->capcolls * 2 : 8;
		struct eng_coll **nc = realloc(e->colls, cap * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		e->colls = nc;
		e->capcolls = cap;
	}
	e->colls[e->ncolls++] = c;
	return 0;
}

/* ---- lookups (caller holds e->cat) ---- */

struct eng_coll *eng_coll_find(struct eng *e, const char *name)
{
	for (size_t i = 0; i < e->ncolls; i++)
		if (strcmp(e->colls[i]->name, name) == 0)
			return e->colls[i];
	return NULL;
}

struct eng_part *eng_part_find(struct eng_coll *c, const char *name)
{
	for (size_t i = 0; i < c->nparts; i++)
		if (strcmp(c->parts[i]->name, name) == 0)
			return c->parts[i];
	return NULL;
}

struct eng_part *eng_part_by_pid(struct eng_coll *c, uint32_t pid)
{
	for (size_t i = 0; i < c->nparts; i++)
		if (c->parts[i]->pid == pid)
			return c->parts[i];
	return NULL;
}

int eng_find_rdlock(struct eng *e, const char *coll, const char *part,
		    struct eng_coll **c_out, struct eng_part **p_out,
		    struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p = NULL;
	int rc = 0;

	pthread_rwlock_rdlock(&e->cat);
	c = eng_coll_find(e, coll);
	if (!c)
		rc = eng_err_no_coll(err, -ENOENT, coll);
	else if (part && !(p = eng_part_find(c, part)))
		rc = eng_err_no_part(err, -ENOENT, part);
	if (rc < 0) {
		pthread_rwlock_unlock(&e->cat);
		return rc;
	}
	*c_out = c;
	*p_out = p;
	return 0;
}

int eng_lookup(struct eng *e, const char *coll, const char *part,
	       struct eng_coll **coll_out, struct eng_part **part_out,
	       struct store_coll *rec_out, struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p;
	int rc;

	rc = eng_find_rdlock(e, coll, part, &c, &p, err);
	if (rc < 0)
		return rc;
	if (p)
		eng_part_ref(p);
	eng_coll_ref(c);
	if (rec_out)
		*rec_out = c->rec;
	pthread_rwlock_unlock(&e->cat);
	*coll_out = c;
	if (part_out)
		*part_out = p;
	else if (p)
		eng_part_unref(p);
	return 0;
}

int eng_parts_get(struct eng *e, struct eng_coll *c, struct eng_part ***out,
		  size_t *n)
{
	struct eng_part **v;

	pthread_rwlock_rdlock(&e->cat);
	v = malloc((c->nparts ? c->nparts : 1) * sizeof(*v));
	if (!v) {
		pthread_rwlock_unlock(&e->cat);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->nparts; i++) {
		v[i] = c->parts[i];
		eng_part_ref(v[i]);
	}
	*n = c->nparts;
	pthread_rwlock_unlock(&e->cat);
	*out = v;
	return 0;
}

void eng_parts_put(struct eng_part **parts, size_t n)
{
	if (!parts)
		return;
	for (size_t i = 0; i < n; i++)
		eng_part_unref(parts[i]);
	free(parts);
}

int eng_parts_of(struct eng *e, struct eng_coll *c, struct eng_part **p,
		 struct eng_part ***out, size_t *n, struct mfs_err *err)
{
	int rc;

	if (*p) {
		*out = p;
		*n = 1;
		return 0;
	}
	rc = eng_parts_get(e, c, out, n);
	return rc < 0 ? mfs_errf(err, rc, "out of memory") : 0;
}

void eng_parts_done(const struct eng_part *p, struct eng_part **parts,
		    size_t n)
{
	if (!p)
		eng_parts_put(parts, n);
}

/* ---- aliases: helpers (caller holds e->cat) ---- */

static struct eng_alias *alias_find(struct eng *e, const char *name)
{
	for (size_t i = 0; i < e->naliases; i++)
		if (strcmp(e->aliases[i].name, name) == 0)
			return &e->aliases[i];
	return NULL;
}

static struct eng_coll *coll_by_cid(struct eng *e, uint32_t cid)
{
	for (size_t i = 0; i < e->ncolls; i++)
		if (e->colls[i]->cid == cid)
			return e->colls[i];
	return NULL;
}

/* The aliases of collection cid, "a, b", in out (size bytes; cut short
 * with "..." when long); false when it has none. */
static bool aliases_of(struct eng *e, uint32_t cid, char *out, size_t size)
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
static int alias_room(struct eng *e)
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

/* ---- reading the catalog at eng_open ---- */

struct read_arg {
	struct eng *e;
	struct eng_coll *cur;
	struct store_txn *txn;
};

static int read_part_cb(void *arg, const char *name, const struct store_part *sp)
{
	struct read_arg *a = arg;
	struct eng_part *p = part_new(name, sp);

	if (!p)
		return -ENOMEM;
	if (coll_add_part(a->cur, p) < 0) {
		eng_part_unref(p);
		return -ENOMEM;
	}
	if (sp->loaded) {
		/* eng_reload_start loads it again in the background. */
		atomic_store(&p->state, ENG_LOADING);
		p->reload_pending = true;
	}
	return 0;
}

static int read_coll_cb(void *arg, const char *name, const struct store_coll *rec)
{
	struct read_arg *a = arg;
	struct eng_coll *c = coll_new(name, rec);
	int rc;

	if (!c)
		return -ENOMEM;
	if (eng_add_coll(a->e, c) < 0) {
		eng_coll_unref(c);
		return -ENOMEM;
	}
	a->cur = c;
	eng_fields_put(c->fields);
	c->fields = NULL;
	rc = eng_fields_read(a->txn, rec->cid, &c->fields, NULL);
	if (rc < 0) {
		/* Keep the catalog sane; the error stops the read. */
		eng_fields_new("", 0, &c->fields, NULL);
		if (!c->fields)
			return -ENOMEM;
		return rc;
	}
	rc = store_part_list(a->txn, rec->cid, read_part_cb, a);
	return rc;
}

/* An alias whose collection is gone (an older milvusfs dropped it) is
 * left out. */
static int read_alias_cb(void *arg, const char *name, uint32_t cid)
{
	struct read_arg *a = arg;
	struct eng *e = a->e;

	if (!coll_by_cid(e, cid) || eng_coll_find(e, name))
		return 0;
	if (alias_room(e) < 0)
		return -ENOMEM;
	snprintf(e->aliases[e->naliases].name, STORE_NAME_MAX + 1, "%s",
		 name);
	e->aliases[e->naliases++].cid = cid;
	return 0;
}

static int read_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct read_arg *a = arg;
	int rc;

	a->txn = txn;
	rc = store_coll_list(txn, read_coll_cb, a);
	if (rc == 0) {
		a->e->naliases = 0;
		rc = store_alias_list(txn, read_alias_cb, a);
	}
	if (rc < 0)
		return mfs_errf(err, rc, "cannot read the catalog");
	return 0;
}

void eng_catalog_free(struct eng *e)
{
	for (size_t i = 0; i < e->ncolls; i++)
		eng_coll_unref(e->colls[i]);
	free(e->colls);
	e->colls = NULL;
	e->ncolls = e->capcolls = 0;
	free(e->aliases);
	e->aliases = NULL;
	e->naliases = e->capaliases = 0;
}

int eng_catalog_read(struct eng *e, struct mfs_err *err)
{
	struct read_arg a = { .e = e };
	int rc = store_read(e->st, read_txn, &a, err);

	if (rc < 0)
		eng_catalog_free(e);
	return rc;
}

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

/* Make room for one more pointer in *v (caller holds e->cat for write). */
static int grow(void *vp, size_t n, size_t *cap)
{
	void ***v = vp;
	size_t nc;
	void **nv;

	if (n < *cap)
		return 0;
	nc = *cap ? *cap * 2 : 8;
	nv = realloc(*v, nc * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	*cap = nc;
	return 0;
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

	if (strlen(coll) > STORE_NAME_MAX)
		return mfs_errf(err, -EINVAL,
				"collection name too long: at most %d bytes",
				STORE_NAME_MAX);
	/* Allocate first: once committed, the cache update cannot fail. */
	c = coll_new(coll, &zc);
	p = part_new(ENG_DEFAULT_PARTITION, &zp);
	if (!c || !p || coll_add_part(c, p) < 0) {
		eng_part_unref(p);
		eng_coll_unref(c);
		return mfs_errf(err, -ENOMEM, "out of memory");
	}
	pthread_mutex_lock(&e->wmu);
	pthread_rwlock_wrlock(&e->cat);
	rc = grow(&e->colls, e->ncolls, &e->capcolls);
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
		rc = mfs_errf(err, -EEXIST, "collection name [%s] conflicts "
			      "with an existing alias, please choose a unique "
			      "name", coll);
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
	bool aliased = aliases_of(e, c->cid, aliases, sizeof(aliases));
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

	if (strlen(to) > STORE_NAME_MAX)
		return mfs_errf(err, -EINVAL,
				"collection name too long: at most %d bytes",
				STORE_NAME_MAX);
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
		rc = mfs_errf(err, -EEXIST, "collection name [%s] conflicts "
			      "with an existing alias, please choose a unique "
			      "name", to);
		goto unlock;
	}
	if (eng_coll_exists(e, to)) {
		char aliases[512];
		struct eng_coll *tc;
		bool aliased;

		pthread_rwlock_rdlock(&e->cat);
		tc = eng_coll_find(e, to);
		aliased = tc && aliases_of(e, tc->cid, aliases,
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

int eng_names_add(struct eng_names *out, size_t *cap, const char *name)
{
	char *s;

	if (out->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		char **nn = realloc(out->name, nc * sizeof(*nn));

		if (!nn)
			return -ENOMEM;
		out->name = nn;
		*cap = nc;
	}
	s = strdup(name);
	if (!s)
		return -ENOMEM;
	out->name[out->n++] = s;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The end of a list made by eng_names_add: sorted into *out, or freed. */
static int names_done(struct eng_names *r, int rc, struct eng_names *out,
		      struct mfs_err *err)
{
	if (rc < 0) {
		eng_names_free(r);
		return mfs_errf(err, rc, "out of memory");
	}
	if (r->n > 1)
		qsort(r->name, r->n, sizeof(*r->name), cmp_str);
	*out = *r;
	return 0;
}

int eng_coll_list(struct eng *e, struct eng_names *out, struct mfs_err *err)
{
	struct eng_names r = { 0 };
	size_t cap = 0;
	int rc = 0;

	pthread_rwlock_rdlock(&e->cat);
	for (size_t i = 0; i < e->ncolls && rc == 0; i++)
		rc = eng_names_add(&r, &cap, e->colls[i]->name);
	pthread_rwlock_unlock(&e->cat);
	return names_done(&r, rc, out, err);
}

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

	if (strlen(part) > STORE_NAME_MAX)
		return mfs_errf(err, -EINVAL,
				"partition name too long: at most %d bytes",
				STORE_NAME_MAX);
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
	p = part_new(part, &a.sp);
	pthread_rwlock_wrlock(&e->cat);
	if (p)
		rc = grow(&c->parts, c->nparts, &c->capparts);
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
	coll_add_part(c, p);    /* room was made above */
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

	if (strlen(alias) > STORE_NAME_MAX || strlen(coll) > STORE_NAME_MAX)
		return mfs_errf(err, -EINVAL, "name too long: at most %d "
				"bytes", STORE_NAME_MAX);
	pthread_mutex_lock(&e->wmu);
	pthread_rwlock_wrlock(&e->cat);
	if (alias_room(e) < 0) {
		rc = mfs_errf(err, -ENOMEM, "out of memory");
	} else if (eng_coll_find(e, alias)) {
		rc = err_shadow(err, alias);
	} else if ((al = alias_find(e, coll)) != NULL) {
		c = coll_by_cid(e, al->cid);
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
			struct eng_coll *oc = coll_by_cid(e, al->cid);

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

	if (strlen(to) > STORE_NAME_MAX)
		return mfs_errf(err, -EINVAL, "alias name too long: at most "
				"%d bytes", STORE_NAME_MAX);
	pthread_mutex_lock(&e->wmu);
	pthread_rwlock_wrlock(&e->cat);
	al = alias_find(e, from);
	if (!al)
		rc = eng_err_no_alias(err, -ENOENT, from);
	else if (eng_coll_find(e, to))
		rc = err_shadow(err, to);
	else if (strcmp(from, to) == 0)
		rc = 1;
	else if (!alias_find(e, to) && alias_room(e) < 0)
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
		c = coll_by_cid(e, al->cid);
	if (c && coll)
		snprintf(coll, STORE_NAME_MAX + 1, "%s", c->name);
	pthread_rwlock_unlock(&e->cat);
	return c ? 0 : -ENOENT;
}

int eng_alias_list(struct eng *e, struct eng_names *out, struct mfs_err *err)
{
	struct eng_names r = { 0 };
	size_t cap = 0;
	int rc = 0;

	pthread_rwlock_rdlock(&e->cat);
	for (size_t i = 0; i < e->naliases && rc == 0; i++)
		rc = eng_names_add(&r, &cap, e->aliases[i].name);
	pthread_rwlock_unlock(&e->cat);
	return names_done(&r, rc, out, err);
}
