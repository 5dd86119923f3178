/* read.c - counting, reading and scanning entities: counts from the
 * catalog cache, an entity (vector, row of fields, partition) by id, and
 * walks over a collection or partition in insertion order, one read
 * transaction per chunk.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


/* ---- reading ---- */

int eng_count(struct eng *e, const char *coll, const char *part,
	      uint64_t *out, struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p;
	uint64_t n = 0;
	int rc;

	rc = eng_find_rdlock(e, coll, part, &c, &p, err);
	if (rc < 0)
		return rc;
	if (p) {
		n = p->count;
	} else {
		for (size_t i = 0; i < c->nparts; i++)
			n += c->parts[i]->count;
	}
	pthread_rwlock_unlock(&e->cat);
	*out = n;
	return 0;
}

struct ids_arg {
	uint32_t pid;
	uint64_t bytes;
};

static int ids_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct ids_arg *a = arg;
	int rc = store_part_id_text(txn, a->pid, &a->bytes);

	return rc < 0 ? mfs_errf(err, rc, "cannot read the partition's ids")
		      : 0;
}

int eng_ids_size(struct eng *e, const char *coll, const char *part,
		 uint64_t *out, struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p;
	struct ids_arg a = { 0 };
	uint64_t gen;
	int rc;

	if (!part)
		return mfs_errf(err, -EINVAL, "ids: a partition is needed");
	rc = eng_lookup(e, coll, part, &c, &p, NULL, err);
	if (rc < 0)
		return rc;
	/* The walk of the keys is paid once per change of the partition:
	 * a value computed at generation g is as of g or later, so it is
	 * kept under g only if no write bumped it meanwhile (one that
	 * committed before the walk but bumps after it only costs a walk
	 * more). */
	pthread_rwlock_rdlock(&e->cat);
	gen = p->ids_gen;
	if (p->ids_cached == gen + 1) {
		*out = p->ids_bytes;
		pthread_rwlock_unlock(&e->cat);
		goto done;
	}
	pthread_rwlock_unlock(&e->cat);
	a.pid = p->pid;
	rc = store_read(e->st, ids_txn, &a, err);
	if (rc == 0) {
		*out = a.bytes;
		pthread_rwlock_wrlock(&e->cat);
		if (p->ids_gen == gen) {
			p->ids_cached = gen + 1;
			p->ids_bytes = a.bytes;
		}
		pthread_rwlock_unlock(&e->cat);
	}
done:
	eng_part_unref(p);
	eng_coll_unref(c);
	return rc;
}

struct get_arg {
	uint32_t cid;
	int64_t id;
	uint32_t pid;
	void *vec;
	size_t vb;
	void **row;
	size_t *row_len;
};

static int get_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct get_arg *a = arg;
	int rc = store_ent_get(txn, a->cid, a->id, &a->pid, a->vec, a->vb,
			       a->row, a->row_len);

	if (rc == -ENOENT)
		return mfs_errf(err, rc, "entity %lld not found",
				(long long)a->id);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot read entity %lld",
				(long long)a->id);
	return 0;
}

int eng_entity_read(struct eng *e, uint32_t cid, int64_t id, void *vec,
		    size_t vb, uint32_t *pid, struct mfs_err *err)
{
	struct get_arg a = { .cid = cid, .id = id, .vec = vec, .vb = vb };
	int rc = store_read(e->st, get_txn, &a, err);

	if (rc == 0 && pid)
		*pid = a.pid;
	return rc;
}

int eng_entity_get(struct eng *e, const char *coll, int64_t id, void *vec,
		   char *part, struct mfs_err *err)
{
	return eng_entity_get_row(e, coll, id, vec, part, NULL, NULL, NULL,
				  err);
}

int eng_entity_get_row(struct eng *e, const char *coll, int64_t id,
		       void *vec, char *part, void **row, size_t *row_len,
		       struct eng_fields **fields, struct mfs_err *err)
{
	struct eng_coll *c;
	struct store_coll rec;
	uint32_t pid = 0;
	int rc;

	rc = eng_lookup(e, coll, NULL, &c, NULL, &rec, err);
	if (rc < 0)
		return rc;
	if (rec.dim == 0) {
		rc = mfs_errf(err, -ENOENT, "entity %lld not found",
			      (long long)id);
		goto unref;
	}
	{
		struct get_arg a = { .cid = c->cid, .id = id, .vec = vec,
				     .vb = vec_bytes((enum vec_type)rec.vtype,
						     rec.dim),
				     .row = row, .row_len = row_len };
		struct eng_fields *f = row ? eng_coll_fields(e, c) : NULL;

		rc = store_read(e->st, get_txn, &a, err);
		pid = a.pid;
		if (rc == 0 && row && fld_row_check(&f->s, *row, *row_len) < 0) {
			free(*row);
			*row = NULL;
			rc = mfs_errf(err, -EIO,
				      "entity %lld: stored fields do not match the schema",
				      (long long)id);
		}
		if (rc == 0 && fields)
			*fields = f;
		else
			eng_fields_put(f);
	}
	if (rc == 0 && part) {
		pthread_rwlock_rdlock(&e->cat);
		struct eng_part *p = eng_part_by_pid(c, pid);
		snprintf(part, STORE_NAME_MAX + 1, "%s", p ? p->name : "");
		pthread_rwlock_unlock(&e->cat);
	}
unref:
	eng_coll_unref(c);
	return rc;
}

/* ---- scan ---- */

struct scan_arg {
	struct eng_part **parts;
	size_t nparts;
	struct eng_cursor cur;          /* working copy */
	size_t max, given;
	int (*cb)(void *arg, int64_t id, const void *vec);
	int (*rcb)(void *arg, int64_t id, const void *vec, const void *row,
		   size_t row_len, const char *part);
	size_t vb;                      /* rcb: vector bytes */
	const char *part;               /* rcb: the partition scanned */
	void *cbarg;
	int cbrc;
};

static int scan_cb(void *arg, uint64_t seq, int64_t id, const void *vec,
		   size_t vb)
{
	struct scan_arg *a = arg;
	int rc;

	if (a->rcb) {
		if (vb < a->vb)
			rc = -EIO;
		else
			rc = a->rcb(a->cbarg, id, vec,
				    (const uint8_t *)vec + a->vb, vb - a->vb,
				    a->part);
	} else {
		rc = a->cb(a->cbarg, id, vec);
	}

	if (rc) {
		a->cbrc = rc;
		a->cur.seq = seq;       /* not consumed */
		return rc;
	}
	a->cur.seq = seq + 1;
	a->given++;
	return 0;
}

static int scan_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct scan_arg *a = arg;

	for (size_t i = 0; i < a->nparts && a->given < a->max; i++) {
		struct eng_part *p = a->parts[i];
		uint64_t next = 0;
		int rc;

		if (p->pid < a->cur.pid)
			continue;
		if (p->pid > a->cur.pid) {
			a->cur.pid = p->pid;
			a->cur.seq = 0;
		}
		a->part = p->name;
		rc = store_ent_scan(txn, p->pid, a->cur.seq, a->max - a->given,
				    scan_cb, a, &next);
		if (a->cbrc)
			return a->cbrc;
		if (rc < 0)
			return mfs_errf(err, rc, "cannot read partition %s",
					p->name);
		if (next != UINT64_MAX) {
			a->cur.seq = next;
			return 0;
		}
		/* End of this partition: go on with the next one. */
		a->cur.pid = p->pid + 1;
		a->cur.seq = 0;
	}
	if (a->given < a->max)
		a->cur.done = true;
	else {
		/* Stopped exactly at max: done when no partition remains. */
		bool more = false;

		for (size_t i = 0; i < a->nparts; i++)
			if (a->parts[i]->pid >= a->cur.pid)
				more = true;
		a->cur.done = !more;
	}
	return 0;
}

static int scan_any(struct eng *e, const char *coll, const char *part,
		    struct scan_arg *ap, struct eng_cursor *cur,
		    struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p = NULL;
	struct scan_arg a = *ap;
	struct store_coll rec;
	int rc;

	if (cur->done)
		return 0;
	rc = eng_lookup(e, coll, part, &c, &p, &rec, err);
	if (rc < 0)
		return rc;
	a.vb = vec_bytes((enum vec_type)rec.vtype, rec.dim);
	rc = eng_parts_of(e, c, &p, &a.parts, &a.nparts, err);
	if (rc < 0)
		goto unref;
	rc = store_read(e->st, scan_txn, &a, err);
	if (rc == 0 || rc == a.cbrc)
		*cur = a.cur;
	eng_parts_done(p, a.parts, a.nparts);
unref:
	eng_part_unref(p);
	eng_coll_unref(c);
	return rc;
}

int eng_scan(struct eng *e, const char *coll, const char *part,
	     struct eng_cursor *cur, size_t max,
	     int (*cb)(void *arg, int64_t id, const void *vec),
	     void *arg, struct mfs_err *err)
{
	struct scan_arg a = { .cur = *cur, .max = max, .cb = cb, .cbarg = arg };

	return scan_any(e, coll, part, &a, cur, err);
}

int eng_scan_rows(struct eng *e, const char *coll, const char *part,
		  struct eng_cursor *cur, size_t max,
		  int (*cb)(void *arg, int64_t id, const void *vec,
			    const void *row, size_t row_len,
			    const char *part),
		  void *arg, struct mfs_err *err)
{
	struct scan_arg a = { .cur = *cur, .max = max, .rcb = cb,
			      .cbarg = arg };

	return scan_any(e, coll, part, &a, cur, err);
}
