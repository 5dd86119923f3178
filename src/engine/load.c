/* load.c - loading partitions into memory, releasing them, load state.
 *
 * A load holds part->wmu from start to end, so inserts and deletes into
 * the partition wait for it and none is missed (engine_int.h: lock order).
 * Steps: charge the index type's estimate of the partition against
 * memory_limit (-ENOMEM past it), set state Loading, read the entities in
 * chunks of ENG_SCAN_CHUNK (one read txn each, progress rising with them),
 * restore the collection's index from its blob (or build it when there is
 * none or the blob does not fit), publish it under part->ilock, set state
 * Loaded and persist store_part.loaded = 1 so the next eng_open loads it
 * again (SPEC §5).  A release takes part->ilock for writing, which waits
 * for every search holding it for reading, then frees.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "base/log.h"

/* ---- reading entities ---- */

void eng_ents_free(struct eng_ents *x)
{
	free(x->ids);
	free(x->seqs);
	free(x->vecs);
	free(x->blob);
	memset(x, 0, sizeof(*x));
}

static int ents_reserve(struct eng_ents *x, size_t n)
{
	if (n <= x->cap)
		return 0;
	size_t cap = x->cap ? x->cap : 1024;
	while (cap < n)
		cap *= 2;
	int64_t *ids = realloc(x->ids, cap * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	x->ids = ids;
	uint64_t *seqs = realloc(x->seqs, cap * sizeof(*seqs));
	if (!seqs)
		return -ENOMEM;
	x->seqs = seqs;
	uint8_t *v = realloc(x->vecs, cap * (x->vec_bytes ? x->vec_bytes : 1));
	if (!v)
		return -ENOMEM;
	x->vecs = v;
	x->cap = cap;
	return 0;
}

struct rd_arg {
	struct eng_ents *x;
	uint32_t pid;
	uint64_t from, to;
	size_t n0;                      /* x->n at the start of the txn */
	uint64_t next;
	bool stop;
};

static int rd_cb(void *arg, uint64_t seq, int64_t id, const void *vec,
		 size_t vb)
{
	struct rd_arg *a = arg;
	struct eng_ents *x = a->x;

	if (seq >= a->to) {
		a->stop = true;
		return 1;
	}
	if (vb < x->vec_bytes)
		return -EIO;
	if (x->cols) {
		/* Rows past the vector: the entity's fields. */
		const uint8_t *row = (const uint8_t *)vec + x->vec_bytes;
		size_t rl = vb - x->vec_bytes;

		if (fld_row_check(x->cols->c.s, row, rl) < 0)
			return -EIO;
		if (fld_cols_append(&x->cols->c, id, row, rl) < 0)
			return -ENOMEM;
	}
	if (ents_reserve(x, x->n + 1) < 0)
		return -ENOMEM;
	x->ids[x->n] = id;
	x->seqs[x->n] = seq;
	memcpy(x->vecs + x->n * x->vec_bytes, vec, x->vec_bytes);
	x->n++;
	return 0;
}

static int rd_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct rd_arg *a = arg;
	int rc;

	a->x->n = a->n0;
	a->stop = false;
	rc = store_ent_scan(txn, a->pid, a->from, ENG_SCAN_CHUNK, rd_cb, a,
			    &a->next);
	if (a->stop)
		return 0;
	if (rc == -ENOMEM)
		return mfs_errf(err, rc, "out of memory reading partition");
	if (rc == -EIO)
		return mfs_errf(err, rc, "corrupt entity in partition: wrong vector size or fields");
	if (rc < 0)
		return mfs_errf(err, rc, "cannot read partition");
	return 0;
}

/* Map the pages of [p, p + len) writable now, without touching their
 * contents (so it may run while another thread writes them): a large
 * read spends most of its time in page faults of fresh memory, which
 * this takes on another core.  Advice: failure (an old kernel) is
 * harmless. */
static void populate(void *p, size_t len)
{
#ifdef MADV_POPULATE_WRITE
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)4095;
	uintptr_t b = (uintptr_t)p + len;

	if (p && len)
		(void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
	(void)p;
	(void)len;
#endif
}

struct blob_arg {
	const struct eng_part *p;
	void *data;
	size_t len;
	uint64_t index_seq;             /* entities below it are in the blob */
};

static int blob_txn(struct store_txn *txn, void *arg, struct mfs_err *err);

struct ents_job {
	struct eng *e;
	struct rd_arg *a;
	atomic_uint *progress;
	uint64_t expect;
	struct mfs_err *err;
	int rc;
};

static void ents_scan(struct ents_job *j)
{
	struct eng_ents *out = j->a->x;

	for (;;) {
		j->a->n0 = out->n;
		j->rc = store_read(j->e->st, rd_txn, j->a, j->err);
		if (j->rc < 0)
			return;
		if (j->progress && j->expect) {
			uint64_t pct = (uint64_t)out->n * 90 / j->expect;

			atomic_store(j->progress,
				     (unsigned)(pct > 90 ? 90 : pct));
		}
		if (j->a->stop || j->a->next == UINT64_MAX)
			return;
		j->a->from = j->a->next;
	}
}

/* Task 0 reads; task 1 maps the arrays' pages meanwhile (they were sized
 * for the expected count: the read does not move them unless more
 * entities come), then reads the index blob if asked (x->blob_of; a
 * failure leaves it to eng_part_make_index, which says why). */
static void ents_task(void *arg, size_t i, unsigned worker)
{
	struct ents_job *j = arg;
	struct eng_ents *x = j->a->x;

	(void)worker;
	if (i == 0) {
		ents_scan(j);
		return;
	}
	populate(x->ids, j->expect * sizeof(*x->ids));
	populate(x->seqs, j->expect * sizeof(*x->seqs));
	populate(x->vecs, j->expect * x->vec_bytes);
	if (x->blob_of) {
		struct blob_arg b = { .p = x->blob_of };
		struct mfs_err err;

		mfs_err_clear(&err);
		if (store_read(j->e->st, blob_txn, &b, &err) == 0) {
			x->blob = b.data;
			x->blob_len = b.len;
			x->blob_seq = b.index_seq;
			x->blob_read = true;
		}
	}
}

#define ENG_POPULATE_MIN 65536          /* entities: below, not worth it */

int eng_ents_read(struct eng *e, uint32_t pid, size_t vec_bytes,
		  uint64_t from_seq, uint64_t to_seq, struct eng_ents *out,
		  atomic_uint *progress, uint64_t expect, struct mfs_err *err)
{
	struct rd_arg a = { .x = out, .pid = pid, .from = from_seq,
			    .to = to_seq };
	struct ents_job j = { .e = e, .a = &a, .progress = progress,
			      .expect = expect, .err = err };

	out->vec_bytes = vec_bytes;
	if (expect && ents_reserve(out, expect) < 0)
		return mfs_errf(err, -ENOMEM, "out of memory reading partition");
	if (expect >= ENG_POPULATE_MIN && out->n == 0 &&
	    mfs_pool_size(e->pool) > 1)
		mfs_pool_for(e->pool, 2, ents_task, &j);
	else
		ents_scan(&j);
	if (j.rc < 0)
		return j.rc;
	out->next_seq = a.stop ? to_seq : a.next;
	return 0;
}

/* ---- persistence of the load flag ---- */

struct persist_arg {
	struct eng_part *p;
	bool loaded;
};

static int persist_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct persist_arg *a = arg;
	struct store_part sp;
	int rc = store_part_get(txn, a->p->cid, a->p->name, &sp);

	if (rc < 0)
		return eng_err_no_part(err, rc, a->p->name);
	if (sp.loaded == (uint8_t)a->loaded)
		return 0;
	sp.loaded = (uint8_t)a->loaded;
	rc = store_part_put(txn, &sp);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot update partition %s",
				a->p->name);
	return 0;
}

int eng_part_persist_loaded(struct eng *e, struct eng_part *p, bool loaded,
			    struct mfs_err *err)
{
	struct persist_arg a = { .p = p, .loaded = loaded };

	if (e->read_only)
		return 0;       /* SPEC §13: -o ro stores no load state */
	return eng_write(e, persist_txn, &a, err);
}

/* ---- load ---- */

static int blob_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct blob_arg *a = arg;
	struct store_part sp;
	int rc = store_part_get(txn, a->p->cid, a->p->name, &sp);

	if (rc == 0)
		rc = store_blob_get(txn, a->p->pid, &a->data, &a->len);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot read the index of partition");
	a->index_seq = sp.index_seq;
	return 0;
}

static uint64_t part_need(struct eng *e, const struct store_coll *rec,
			  uint64_t count)
{
	const struct idx_type *t;
	struct mfs_kv canon;
	struct idx_info info;

	if (rec->dim == 0)
		return 0;
	if (eng_rec_index(rec, &t, &canon, NULL) < 0)
		t = eng_default_type((enum vec_type)rec->vtype);
	eng_rec_info(e, rec, &info);
	return t->estimate_bytes(&info, &canon, (size_t)count);
}

/* Build or restore the index of one partition from its entities. */
int eng_part_make_index(struct eng *e, const struct store_coll *rec,
			struct eng_part *p, const struct eng_ents *x,
			struct idx **out, struct mfs_err *err)
{
	const struct idx_type *t;
	struct mfs_kv canon;
	struct idx_info info;
	struct blob_arg b = { .p = p };
	bool owned = true;
	int rc;

	eng_rec_info(e, rec, &info);
	rc = eng_rec_index(rec, &t, &canon, err);
	if (rc < 0)
		return rc;
	if (t->save && x->blob_read && x->blob_of == p) {
		b.data = x->blob;       /* read alongside the entities */
		b.len = x->blob_len;
		b.index_seq = x->blob_seq;
		owned = false;
	} else if (t->save) {
		rc = store_read(e->st, blob_txn, &b, err);
		if (rc < 0)
			return rc;
	}
	if (b.data && b.len) {
		/* The blob covers the entities below index_seq; the others
		 * (inserted since, upserted ones among them: an id may be in
		 * the blob with its old vector) are added after the restore,
		 * which drops every id not among the older ones. */
		size_t nold = x->n;

		if (b.index_seq && x->seqs)
			for (nold = 0; nold < x->n &&
				       x->seqs[nold] < b.index_seq; nold++)
				;
		rc = t->restore(&info, &canon, b.data, b.len, x->ids, x->vecs,
				nold, out, err);
		if (owned)
			free(b.data);
		atomic_store(&p->load_added, x->n - nold);      /* stats */
		p->unfolded = x->n - nold;
		if (rc == 0 && nold < x->n) {
			rc = (*out)->type->add(*out, x->ids + nold,
					       x->vecs + nold * x->vec_bytes,
					       x->n - nold, err);
			if (rc < 0) {
				idx_free(*out);
				*out = NULL;
			}
		}
		if (rc != -EINVAL)
			return rc;
		mfs_log(MFS_LOG_WARN,
			"partition %s: saved %s index unusable (%s), rebuilding",
			p->name, t->name, err ? err->msg : "");
		mfs_err_clear(err);
	} else if (t->save && x->n) {
		/* Said in the log, so that a load that builds is seen (the
		 * tests look for it: a persisted index is never rebuilt). */
		mfs_log(MFS_LOG_INFO,
			"partition %s: no saved %s index, building it",
			p->name, t->name);
	}
	atomic_store(&p->load_added, t->save ? x->n : 0);
	p->unfolded = t->save ? x->n : 0;
	rc = t->build(&info, &canon, x->ids, x->vecs, x->n, NULL, out, err);
	if (rc == -EINVAL && t != eng_default_type(info.vtype)) {
		/* E.g. too few vectors to train: serve exact search. */
		mfs_log(MFS_LOG_WARN, "partition %s: cannot build %s (%s), using %s",
			p->name, t->name, err ? err->msg : "",
			eng_default_type(info.vtype)->name);
		mfs_err_clear(err);
		t = eng_default_type(info.vtype);
		mfs_kv_init(&canon);
		mfs_kv_set(&canon, "index_type", t->name, NULL);
		rc = t->build(&info, &canon, x->ids, x->vecs, x->n, NULL, out,
			      err);
	}
	return rc;
}

int eng_part_load_locked(struct eng *e, struct eng_coll *c, struct eng_part *p,
			 struct mfs_err *err)
{
	struct store_coll rec;
	struct eng_ents x = { 0 };
	struct idx *ix = NULL;
	struct eng_cols *cols = NULL;
	struct eng_fields *fields;
	uint64_t count, need;
	size_t mem = 0, cmem = 0;
	bool dropped;
	int rc;

	if (atomic_load(&p->state) == ENG_LOADED)
		return 0;
	pthread_rwlock_rdlock(&e->cat);
	rec = c->rec;
	count = p->count;
	dropped = p->dropped;
	fields = c->fields;
	eng_fields_ref(fields);
	pthread_rwlock_unlock(&e->cat);
	/* Columns at load only for a collection with fields; without, a
	 * query (on id) makes them when it first needs them
	 * (eng_part_cols_ensure), so a plain vector collection pays
	 * nothing for them. */
	rc = fields->s.n ? eng_cols_new(fields, &cols) : 0;
	eng_fields_put(fields);
	if (rc < 0)
		return mfs_errf(err, rc, "out of memory");
	if (dropped) {
		eng_cols_unref(cols);
		return eng_err_no_part(err, -ENOENT, p->name);
	}
	need = part_need(e, &rec, count);
	rc = eng_mem_charge(e, need, "load partition", "", err);
	if (rc < 0)
		goto fail;
	atomic_store(&p->progress, 0);
	atomic_store(&p->state, ENG_LOADING);
	if (rec.dim) {
		const struct idx_type *t;
		struct mfs_kv canon;

		x.cols = cols;
		if (eng_rec_index(&rec, &t, &canon, NULL) == 0 && t->save)
			x.blob_of = p;
		rc = eng_ents_read(e, p->pid,
				   vec_bytes((enum vec_type)rec.vtype, rec.dim),
				   0, UINT64_MAX, &x, &p->progress, count, err);
		if (rc == 0 && cols)
			rc = eng_cols_index(cols, err);
		if (rc == 0)
			rc = eng_part_make_index(e, &rec, p, &x, &ix, err);
		eng_ents_free(&x);
		/* Give the read buffers back to the system: a loaded
		 * partition should cost its index, not the load's peak. */
		malloc_trim(0);
		if (rc < 0)
			goto fail_mem;
		mem = ix->type->memory_bytes(ix);
	}
	/* SPEC §8: the fields' memory counts toward memory_limit. */
	if (cols) {
		cmem = cols->c.bytes + fld_sidx_bytes(&cols->c);
		rc = eng_mem_charge(e, cmem, "load partition fields", "",
				    err);
		if (rc < 0) {
			cmem = 0;
			goto fail_mem;
		}
		cols->charged = cmem;
	}
	rc = eng_part_persist_loaded(e, p, true, err);
	if (rc < 0)
		goto fail_mem;
	pthread_rwlock_wrlock(&p->ilock);
	p->ix = ix;
	p->cols = cols;
	pthread_rwlock_unlock(&p->ilock);
	eng_mem_adjust(e, (int64_t)mem - (int64_t)need);
	p->mem_bytes = mem;
	snprintf(p->ix_text, sizeof(p->ix_text), "%s", rec.index);
	p->reload_pending = false;
	atomic_store(&p->progress, 100);
	atomic_store(&p->state, ENG_LOADED);
	return 0;

fail_mem:
	idx_free(ix);
	eng_mem_adjust(e, -(int64_t)need - (int64_t)cmem);
fail:
	eng_cols_unref(cols);
	atomic_store(&p->progress, 0);
	atomic_store(&p->state, ENG_NOTLOAD);
	p->reload_pending = false;
	return rc;
}

/* Release p (caller holds p->wmu). */
static int part_release_locked(struct eng *e, struct eng_coll *c,
			       struct eng_part *p, struct mfs_err *err)
{
	struct idx *ix;
	struct eng_cols *cols;
	bool was = atomic_load(&p->state) != ENG_NOTLOAD || p->reload_pending;
	int rc;

	/* SPEC §11: what was inserted since the stored index goes into it
	 * now, so the next load adds nothing (compact.c). */
	if (!p->dropped)
		eng_part_checkpoint(e, c, p);
	pthread_rwlock_wrlock(&p->ilock);       /* waits for searches */
	ix = p->ix;
	p->ix = NULL;
	cols = p->cols;
	p->cols = NULL;
	atomic_store(&p->state, ENG_NOTLOAD);
	atomic_store(&p->progress, 0);
	pthread_rwlock_unlock(&p->ilock);
	idx_free(ix);
	if (cols) {
		eng_cols_uncharge(e, cols);
		eng_cols_unref(cols);
	}
	/* SPEC §11: a release gives the memory back to the system, also
	 * what sits free in the middle of the heap. */
	malloc_trim(0);
	eng_mem_adjust(e, -(int64_t)p->mem_bytes);
	p->mem_bytes = 0;
	p->reload_pending = false;
	if (!was || p->dropped)
		return 0;
	rc = eng_part_persist_loaded(e, p, false, err);
	return rc;
}

int eng_load(struct eng *e, const char *coll, const char *part,
	     unsigned replica_number, struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p = NULL, **parts = NULL;
	size_t n = 0, i;
	bool *mine = NULL;
	int rc;

	if (replica_number > 1)
		return mfs_errf(err, -EINVAL,
				"only support to load 1 replica on a standalone node, got replica_number=%u",
				replica_number);
	rc = eng_lookup(e, coll, part, &c, &p, NULL, err);
	if (rc < 0)
		return rc;
	if (p) {
		pthread_mutex_lock(&p->wmu);
		rc = eng_part_load_locked(e, c, p, err);
		pthread_mutex_unlock(&p->wmu);
		goto unref;
	}
	rc = eng_parts_get(e, c, &parts, &n);
	if (rc < 0) {
		rc = mfs_errf(err, rc, "out of memory");
		goto unref;
	}
	mine = calloc(n ? n : 1, sizeof(*mine));
	if (!mine) {
		rc = mfs_errf(err, -ENOMEM, "out of memory");
		goto put;
	}
	/* Check the whole collection first so the message names its size. */
	{
		uint64_t need = 0;
		struct store_coll rec;

		pthread_rwlock_rdlock(&e->cat);
		rec = c->rec;
		for (i = 0; i < n; i++)
			if (atomic_load(&parts[i]->state) != ENG_LOADED)
				need += part_need(e, &rec, parts[i]->count);
		pthread_rwlock_unlock(&e->cat);
		rc = eng_mem_charge(e, need, "load collection", "", err);
		if (rc < 0)
			goto put;
		eng_mem_adjust(e, -(int64_t)need);      /* each charges its own */
	}
	for (i = 0; i < n && rc == 0; i++) {
		pthread_mutex_lock(&parts[i]->wmu);
		if (atomic_load(&parts[i]->state) != ENG_LOADED) {
			rc = eng_part_load_locked(e, c, parts[i], err);
			mine[i] = rc == 0;
		}
		pthread_mutex_unlock(&parts[i]->wmu);
	}
	if (rc < 0) {
		/* SPEC §7: a failed operation changes nothing. */
		for (i = 0; i < n; i++)
			if (mine[i]) {
				pthread_mutex_lock(&parts[i]->wmu);
				part_release_locked(e, c, parts[i], NULL);
				pthread_mutex_unlock(&parts[i]->wmu);
			}
	}
put:
	free(mine);
	eng_parts_put(parts, n);
unref:
	eng_part_unref(p);
	eng_coll_unref(c);
	return rc;
}

int eng_release(struct eng *e, const char *coll, const char *part,
		struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p = NULL, **parts = NULL;
	size_t n = 0;
	int rc;

	rc = eng_lookup(e, coll, part, &c, &p, NULL, err);
	if (rc < 0)
		return rc;
	rc = eng_parts_of(e, c, &p, &parts, &n, err);
	if (rc < 0)
		goto unref;
	for (size_t i = 0; i < n; i++) {
		int r;

		pthread_mutex_lock(&parts[i]->wmu);
		r = part_release_locked(e, c, parts[i], err);
		pthread_mutex_unlock(&parts[i]->wmu);
		if (r < 0 && rc == 0)
			rc = r;
	}
	eng_parts_done(p, parts, n);
unref:
	eng_part_unref(p);
	eng_coll_unref(c);
	return rc;
}

int eng_state(struct eng *e, const char *coll, const char *part,
	      enum eng_state *state, unsigned *progress, struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p;
	enum eng_state s;
	unsigned pr;
	int rc;

	rc = eng_find_rdlock(e, coll, part, &c, &p, err);
	if (rc < 0)
		return rc;
	if (p) {
		s = (enum eng_state)atomic_load(&p->state);
		pr = s == ENG_LOADED ? 100
		     : s == ENG_LOADING ? atomic_load(&p->progress) : 0;
	} else {
		/* SPEC §5: Loaded only when every partition is loaded,
		 * Loading while any is loading, else NotLoad. */
		bool all = true, any_loading = false;
		unsigned sum = 0;

		for (size_t i = 0; i < c->nparts; i++) {
			enum eng_state ps = (enum eng_state)atomic_load(
				&c->parts[i]->state);

			all &= ps == ENG_LOADED;
			any_loading |= ps == ENG_LOADING;
			sum += ps == ENG_LOADED ? 100
			       : ps == ENG_LOADING
				 ? atomic_load(&c->parts[i]->progress) : 0;
		}
		s = all ? ENG_LOADED : any_loading ? ENG_LOADING : ENG_NOTLOAD;
		pr = s == ENG_LOADED ? 100
		     : s == ENG_NOTLOAD ? 0
		     : (unsigned)(sum / (c->nparts ? c->nparts : 1));
	}
	pthread_rwlock_unlock(&e->cat);
	if (state)
		*state = s;
	if (progress)
		*progress = pr;
	return 0;
}

/* ---- reload at eng_open ---- */

struct reload_item {
	struct eng_coll *c;
	struct eng_part *p;
};

struct reload_arg {
	struct eng *e;
	struct reload_item *v;
	size_t n;
};

/* Tell of a failed reload: the log, and the report hook (/.errors). */
static void reload_failed(struct eng *e, const struct eng_coll *c,
			  const struct eng_part *p, int rc,
			  const struct mfs_err *why)
{
	char path[2 * STORE_NAME_MAX + 3];
	struct mfs_err err;

	snprintf(path, sizeof(path), "/%s/%s", c->name, p->name);
	mfs_errf(&err, rc, "reload at mount failed: %s; so every partition "
		 "of %s loaded at the last unmount is released (NotLoad): "
		 "load it again", why->msg[0] ? why->msg : "error", c->name);
	mfs_log(MFS_LOG_ERROR, "reload of %s failed: %s", path, err.msg);
	if (e->report)
		e->report(e->report_arg, "reload", path, rc, &err);
}

/* Items [i, j) are the partitions of one collection to reload.  A
 * collection is not left half loaded (SPEC §5: its state would say
 * NotLoad while some of it holds memory and answers searches): when one
 * of them fails, those that loaded are released again, and every one is
 * stored as released, so what `state` says is what the next mount does. */
static void reload_coll(struct eng *e, struct reload_item *v, size_t i,
			size_t j)
{
	struct mfs_err err;
	bool failed = false;
	int rc;

	for (size_t k = i; k < j && !failed; k++) {
		struct eng_part *p = v[k].p;

		mfs_err_clear(&err);
		pthread_mutex_lock(&p->wmu);
		if (p->reload_pending) {
			if (atomic_load(&e->closing)) {
				/* Keep the persisted flag: the next open
				 * loads it. */
				p->reload_pending = false;
				atomic_store(&p->state, ENG_NOTLOAD);
			} else if ((rc = eng_part_load_locked(e, v[k].c, p,
							      &err)) < 0) {
				reload_failed(e, v[k].c, p, rc, &err);
				failed = true;
			}
		}
		pthread_mutex_unlock(&p->wmu);
	}
	if (!failed)
		return;
	for (size_t k = i; k < j; k++) {
		struct eng_part *p = v[k].p;

		mfs_err_clear(&err);
		pthread_mutex_lock(&p->wmu);
		if (atomic_load(&p->state) != ENG_NOTLOAD || p->reload_pending)
			rc = part_release_locked(e, v[k].c, p, &err);
		else if (!p->dropped)
			rc = eng_part_persist_loaded(e, p, false, &err);
		else
			rc = 0;
		pthread_mutex_unlock(&p->wmu);
		if (rc < 0)
			mfs_log(MFS_LOG_ERROR, "release of %s/%s after a failed "
				"reload: %s", v[k].c->name, p->name, err.msg);
	}
}

static void *reload_main(void *arg)
{
	struct reload_arg *a = arg;
	struct eng *e = a->e;

	for (size_t i = 0, j; i < a->n; i = j) {
		for (j = i + 1; j < a->n && a->v[j].c == a->v[i].c; j++)
			;
		reload_coll(e, a->v, i, j);
	}
	for (size_t i = 0; i < a->n; i++) {
		eng_part_unref(a->v[i].p);
		eng_coll_unref(a->v[i].c);
	}
	free(a->v);
	free(a);
	return NULL;
}

int eng_reload_start(struct eng *e, struct mfs_err *err)
{
	struct reload_arg *a = calloc(1, sizeof(*a));
	size_t cap = 0;
	int rc;

	if (!a)
		return mfs_errf(err, -ENOMEM, "out of memory");
	a->e = e;
	pthread_rwlock_rdlock(&e->cat);
	for (size_t i = 0; i < e->ncolls; i++)
		for (size_t j = 0; j < e->colls[i]->nparts; j++) {
			struct eng_part *p = e->colls[i]->parts[j];

			if (!p->reload_pending)
				continue;
			if (a->n == cap) {
				size_t nc = cap ? cap * 2 : 8;
				struct reload_item *nv =
					realloc(a->v, nc * sizeof(*nv));
				if (!nv) {
					/* Only eng_open runs: no lock needed. */
					p->reload_pending = false;
					atomic_store(&p->state, ENG_NOTLOAD);
					continue;
				}
				a->v = nv;
				cap = nc;
			}
			eng_coll_ref(e->colls[i]);
			eng_part_ref(p);
			a->v[a->n++] = (struct reload_item){ e->colls[i], p };
		}
	pthread_rwlock_unlock(&e->cat);
	if (a->n == 0) {
		free(a->v);
		free(a);
		return 0;
	}
	rc = eng_bg_start(e, reload_main, a);
	if (rc < 0) {
		/* Load inline rather than fail the open. */
		reload_main(a);
	}
	return 0;
}
