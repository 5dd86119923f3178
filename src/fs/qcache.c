/* qcache.c - saved queries kept parsed, so that a search does not read its
 * query text from the store and parse it again on every open.
 *
 * An entry is keyed by collection, partition and query name, and remembers
 * the vector type and dim it was parsed for.  It holds the query's
 * parameters in a compact copy (only the slots in use) and owns the parsed
 * vectors, which a search borrows for as long as it holds a reference.
 * Entries are immutable once added; references keep a removed entry alive
 * until the last one is dropped.
 *
 * Consistency: anything that may change a saved query (saving one,
 * removing one, rmdir, rename, a schema write, a new engine) calls
 * fs_qcache_clear, which empties the cache and advances its generation.  A
 * parse is added only if the generation is still the one read before the
 * query text was fetched, so text read before a change is never kept.
 */
#include "fs/fs_int.h"

#include <stdlib.h>
#include <string.h>

struct fs_qent {
	struct fs_qent *hnext;          /* hash chain */
	struct fs_qent *prev, *next;    /* LRU list, most recent first */
	unsigned refs;                  /* the table's and the borrowers' */
	bool in_table;
	uint32_t hash;
	size_t bytes;                   /* counted in c->bytes */
	enum vec_type vtype;
	uint32_t dim;
	/* the query, compact */
	size_t k, offset;
	bool json, by_id;
	int64_t id;
	size_t nparts;
	char (*parts)[MFS_NAME_MAX + 1];
	size_t nparams;
	struct mfs_kv_item *params;
	struct fmt_batch q;             /* owned */
	size_t keylen;
	char key[];                     /* coll NUL part NUL name NUL */
};

void fs_qcache_init(struct fs_qcache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
}

static void ent_free(struct fs_qent *e)
{
	fmt_batch_fini(&e->q);
	free(e->parts);
	free(e->params);
	free(e);
}

/* Drop e from the table and the LRU list (caller holds the lock); freed
 * when its last reference goes. */
static void unlink_ent(struct fs_qcache *c, struct fs_qent *e)
{
	struct fs_qent **pp = &c->bucket[e->hash % FS_QCACHE_BUCKETS];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->in_table = false;
	c->n--;
	c->bytes -= e->bytes;
	if (--e->refs == 0)
		ent_free(e);
}

void fs_qcache_clear(struct fs_qcache *c)
{
	pthread_mutex_lock(&c->lock);
	c->gen++;
	while (c->head)
		unlink_ent(c, c->head);
	pthread_mutex_unlock(&c->lock);
}

void fs_qcache_fini(struct fs_qcache *c)
{
	fs_qcache_clear(c);
	pthread_mutex_destroy(&c->lock);
}

uint64_t fs_qcache_gen(struct fs_qcache *c)
{
	uint64_t g;

	pthread_mutex_lock(&c->lock);
	g = c->gen;
	pthread_mutex_unlock(&c->lock);
	return g;
}

/* Key of (coll, part, name) into buf; its length, or 0 if too long. */
static size_t make_key(char *buf, size_t cap, const struct fs_node *n,
		       const char *name)
{
	size_t a = strlen(n->coll) + 1, b = strlen(n->part) + 1,
	       d = strlen(name) + 1;

	if (a + b + d > cap)
		return 0;
	memcpy(buf, n->coll, a);
	memcpy(buf + a, n->part, b);
	memcpy(buf + a + b, name, d);
	return a + b + d;
}

static uint32_t hash_key(const char *key, size_t len)
{
	uint32_t h = 2166136261u;       /* FNV-1a */

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * 16777619u;
	return h;
}

/* The entry for key (caller holds the lock), moved to the LRU front. */
static struct fs_qent *find(struct fs_qcache *c, const char *key,
			    size_t len, uint32_t h)
{
	struct fs_qent *e = c->bucket[h % FS_QCACHE_BUCKETS];

	while (e && !(e->hash == h && e->keylen == len &&
		      memcmp(e->key, key, len) == 0))
		e = e->hnext;
	if (!e || !e->prev)
		return e;
	e->prev->next = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = NULL;
	e->next = c->head;
	c->head->prev = e;
	c->head = e;
	return e;
}

/* Fill q from e: parameters copied, vectors borrowed. */
static void fill(struct fmt_query *q, const struct fs_qent *e)
{
	q->k = e->k;
	q->offset = e->offset;
	q->json = e->json;
	q->by_id = e->by_id;
	q->id = e->id;
	q->nparts = e->nparts;
	if (e->nparts)
		memcpy(q->parts, e->parts, e->nparts * sizeof(*e->parts));
	q->params.n = e->nparams;
	if (e->nparams)
		memcpy(q->params.item, e->params,
		       e->nparams * sizeof(*e->params));
	fmt_batch_fini(&q->q);
	q->q = e->q;
}

bool fs_qcache_has(struct fs_qcache *c, const struct fs_node *n,
		   const char *name)
{
	char key[3 * (STORE_NAME_MAX + 1)];
	size_t len = make_key(key, sizeof(key), n, name);
	uint32_t h = hash_key(key, len);
	bool found;

	if (!len)
		return false;
	pthread_mutex_lock(&c->lock);
	found = find(c, key, len, h) != NULL;
	pthread_mutex_unlock(&c->lock);
	return found;
}

struct fs_qent *fs_qcache_get(struct fs_qcache *c, const struct fs_node *n,
			      const char *name, struct fmt_query *q)
{
	char key[3 * (STORE_NAME_MAX + 1)];
	size_t len = make_key(key, sizeof(key), n, name);
	uint32_t h = hash_key(key, len);
	struct fs_qent *e;

	if (!len)
		return NULL;
	pthread_mutex_lock(&c->lock);
	e = find(c, key, len, h);
	if (e && (e->vtype != q->q.vtype || e->dim != q->q.dim)) {
		unlink_ent(c, e);       /* parsed for another schema */
		e = NULL;
	}
	if (e)
		e->refs++;
	pthread_mutex_unlock(&c->lock);
	if (e)
		fill(q, e);
	return e;
}

static size_t batch_bytes(const struct fmt_batch *b)
{
	return b->cap * (vec_bytes(b->vtype, b->dim) + 1 + 2 * sizeof(size_t));
}

struct fs_qent *fs_qcache_add(struct fs_qcache *c, uint64_t gen,
			      const struct fs_node *n, const char *name,
			      enum vec_type vtype, uint32_t dim,
			      struct fmt_query *q)
{
	char key[3 * (STORE_NAME_MAX + 1)];
	size_t len = make_key(key, sizeof(key), n, name);
	struct fs_qent *e, *old;

	if (!len || batch_bytes(&q->q) > FS_QCACHE_ENTRY_MAX)
		return NULL;
	e = calloc(1, sizeof(*e) + len);
	if (!e)
		return NULL;
	e->nparts = q->nparts;
	e->nparams = q->params.n;
	if (e->nparts) {
		e->parts = malloc(e->nparts * sizeof(*e->parts));
		if (!e->parts)
			goto fail;
		memcpy(e->parts, q->parts, e->nparts * sizeof(*e->parts));
	}
	if (e->nparams) {
		e->params = malloc(e->nparams * sizeof(*e->params));
		if (!e->params)
			goto fail;
		memcpy(e->params, q->params.item,
		       e->nparams * sizeof(*e->params));
	}
	e->k = q->k;
	e->offset = q->offset;
	e->json = q->json;
	e->by_id = q->by_id;
	e->id = q->id;
	e->vtype = vtype;
	e->dim = dim;
	e->keylen = len;
	memcpy(e->key, key, len);
	e->hash = hash_key(key, len);
	e->bytes = sizeof(*e) + len + e->nparts * sizeof(*e->parts) +
		e->nparams * sizeof(*e->params) + batch_bytes(&q->q);

	pthread_mutex_lock(&c->lock);
	if (c->gen != gen) {
		/* the text may predate a change: do not keep it */
		pthread_mutex_unlock(&c->lock);
		goto fail;
	}
	old = find(c, key, len, e->hash);
	if (old)
		unlink_ent(c, old);
	e->q = q->q;                    /* the vectors move in */
	e->refs = 2;                    /* the table's and the caller's */
	e->in_table = true;
	e->hnext = c->bucket[e->hash % FS_QCACHE_BUCKETS];
	c->bucket[e->hash % FS_QCACHE_BUCKETS] = e;
	e->next = c->head;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (!c->tail)
		c->tail = e;
	c->n++;
	c->bytes += e->bytes;
	while (c->tail != e &&
	       (c->n > FS_QCACHE_MAX || c->bytes > FS_QCACHE_BYTES))
		unlink_ent(c, c->tail);
	pthread_mutex_unlock(&c->lock);
	return e;
fail:
	free(e->parts);
	free(e->params);
	free(e);
	return NULL;
}

void fs_qcache_release(struct fs_qcache *c, struct fs_qent *e,
		       struct fmt_query *q)
{
	if (!e)
		return;
	fmt_batch_init(&q->q, q->q.vtype, q->q.dim);    /* stop borrowing */
	pthread_mutex_lock(&c->lock);
	if (--e->refs == 0)
		ent_free(e);
	pthread_mutex_unlock(&c->lock);
}
