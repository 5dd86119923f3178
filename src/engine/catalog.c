/* catalog.c - the in-memory catalog cache: its objects (collections and
 * partitions, reference counted), lookups, the lists it hands out, and
 * reading it from the store at eng_open.  Changing it: catalog_coll.c
 * (collections), catalog_part.c (partitions, owners and modes),
 * catalog_alias.c (aliases).
 *
 * Every change runs as one store_write under e->wmu and is then applied to
 * the cache under e->cat in write mode, so the cache follows the database
 * in commit order (engine_int.h has the lock order).  Lookups take e->cat
 * in read mode only and never touch LMDB.
 */
#include "engine/catalog_int.h"

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
 * eng_cat_part_new and eng_cat_coll_new return an object holding one
 * reference; the last eng_*_unref frees it (eng_*_ref: engine_int.h). */

struct eng_part *eng_cat_part_new(const char *name,
				  const struct store_part *sp)
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

struct eng_coll *eng_cat_coll_new(const char *name,
				  const struct store_coll *rec)
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
int eng_cat_add_part(struct eng_coll *c, struct eng_part *p)
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

struct eng_coll *eng_cat_coll_by_cid(struct eng *e, uint32_t cid)
{
	for (size_t i = 0; i < e->ncolls; i++)
		if (e->colls[i]->cid == cid)
			return e->colls[i];
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

/* ---- growing arrays (caller holds e->cat for write) ---- */

/* Make room for one more pointer in *v (caller holds e->cat for write). */
int eng_cat_grow(void *vp, size_t n, size_t *cap)
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


/* ---- names ---- */

int eng_cat_name_check(const char *name, const char *what,
		       struct mfs_err *err)
{
	if (strlen(name) <= STORE_NAME_MAX)
		return 0;
	return mfs_errf(err, -EINVAL, "%s%sname too long: at most %d bytes",
			what, *what ? " " : "", STORE_NAME_MAX);
}

int eng_cat_list(struct eng *e, bool aliases, struct eng_names *out,
		 struct mfs_err *err)
{
	struct eng_names r = { 0 };
	size_t cap = 0, n;
	int rc = 0;

	pthread_rwlock_rdlock(&e->cat);
	n = aliases ? e->naliases : e->ncolls;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = eng_names_add(&r, &cap, aliases ? e->aliases[i].name :
						       e->colls[i]->name);
	pthread_rwlock_unlock(&e->cat);
	if (rc < 0) {
		eng_names_free(&r);
		return mfs_errf(err, rc, "out of memory");
	}
	if (r.n > 1)
		qsort(r.name, r.n, sizeof(*r.name), cmp_str);
	*out = r;
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
	struct eng_part *p = eng_cat_part_new(name, sp);

	if (!p)
		return -ENOMEM;
	if (eng_cat_add_part(a->cur, p) < 0) {
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
	struct eng_coll *c = eng_cat_coll_new(name, rec);
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

	if (!eng_cat_coll_by_cid(e, cid) || eng_coll_find(e, name))
		return 0;
	if (eng_cat_alias_room(e) < 0)
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
