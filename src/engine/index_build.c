/* index_build.c - building, storing and swapping a collection's index
 * (SPEC §5), and showing it.
 *
 * A build runs without holding any engine lock while it computes:
 *
 *  1. For each partition, under part->wmu: set part->building (deletes now
 *     also record their ids in part->bdel) and note snap = next_seq.
 *  2. Read the entities with seq < snap (chunked read txns), build the
 *     index over them (progress weighted by partition size), serialize it
 *     (save) into a blob.  The built index is kept only for partitions
 *     loaded at that time; for the others the blob is all that is needed.
 *  3. One store_write stores every blob (with index_seq = snap) and the
 *     collection's new canonical index text.  Until this commit nothing is
 *     changed: a failure leaves the previous index (state=Failed).
 *  4. For each partition, under part->wmu: if it is loaded, catch the new
 *     index up (add entities with seq >= snap, remove the ids in bdel) and
 *     swap it in under part->ilock; a partition loaded meanwhile without a
 *     built index gets one made from the new blob.  Clear building.
 *
 * index_type=FLAT (BIN_FLAT for binary collections) drops the index: the
 * same steps with empty blobs and an empty index text.  Only one build per
 * collection runs at a time (c->building, under c->bmu; -EBUSY otherwise).
 * With wait = false the build runs in a background thread joined at
 * eng_close.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/log.h"

struct job {
	struct eng_bjob b;              /* first: eng_bjob_free frees j */
	char text[STORE_TEXT_MAX];      /* "" when dropping the index */
};

/* ---- the steps, shared with compact.c ---- */

int eng_sp_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct eng_sp_arg *a = arg;
	int rc = store_part_get(txn, a->p->cid, a->p->name, &a->sp);

	if (rc < 0)
		return eng_err_no_part(err, rc, a->p->name);
	if (a->usage) {
		rc = store_part_usage(txn, a->p->pid, a->sp.index_seq, &a->u);
		if (rc < 0)
			return mfs_errf(err, rc, "cannot read partition %s",
					a->p->name);
	}
	return 0;
}

void eng_bpart_init(struct eng_bpart *q, struct eng_part *p, uint64_t count,
		    double *wtotal)
{
	q->p = p;
	q->w0 = *wtotal;
	q->w = (double)count + 1;
	mfs_buf_init(&q->blob, SIZE_MAX);
	*wtotal += q->w;
}

void eng_bparts_free(struct eng_bpart *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		idx_free(v[i].ix);
		mfs_buf_fini(&v[i].blob);
		eng_part_unref(v[i].p);
	}
	free(v);
}

void eng_bjob_free(struct eng_bjob *b)
{
	eng_bparts_free(b->v, b->n);
	eng_coll_unref(b->c);
	free(b);
}

int eng_bjob_start(struct eng_bjob *b, bool wait,
		   int (*run)(struct eng_bjob *b, struct mfs_err *err),
		   void *(*main)(void *b), struct mfs_err *err)
{
	int rc;

	if (!wait && eng_bg_start(b->e, main, b) == 0)
		return 0;
	rc = run(b, err);       /* waited for, or no thread: inline */
	eng_bjob_free(b);
	return rc;
}

unsigned eng_bpart_pct(const struct eng_bpart *q, double wtotal, double pct)
{
	double v;

	pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
	v = (q->w0 + q->w * pct / 100) / wtotal * 100;
	return (unsigned)(v >= 99 ? 99 : v);
}

/* Step 2: build t over the entities with seq < q->snap (count expected)
 * and save it into q->blob when t saves; *out the index.  A build failure
 * is prefixed "<what> <partition>". */
static int bpart_build(struct eng *e, const struct store_coll *rec,
		       const struct idx_type *t, const struct mfs_kv *canon,
		       struct eng_bpart *q, uint64_t count,
		       const struct idx_progress *prog, const char *what,
		       struct idx **out, struct mfs_err *err)
{
	struct eng_ents x = { 0 };
	struct idx_info info;
	struct idx *ix = NULL;
	int rc;

	*out = NULL;
	rc = eng_ents_read(e, q->p->pid, vec_bytes((enum vec_type)rec->vtype,
						   rec->dim),
			   0, q->snap, &x, NULL, count, err);
	if (rc < 0)
		goto out;
	eng_rec_info(e, rec, &info);
	rc = t->build(&info, canon, x.ids, x.vecs, x.n, prog, &ix, err);
	eng_ents_free(&x);
	if (rc < 0) {
		mfs_err_prefix(err, rc, "%s %s", what, q->p->name);
		goto out;
	}
	if (t->save && (rc = t->save(ix, &q->blob)) < 0) {
		rc = mfs_errf(err, rc, "cannot serialize the index of partition %s",
			      q->p->name);
		goto out;
	}
	*out = ix;
	ix = NULL;
out:
	idx_free(ix);
	eng_ents_free(&x);
	return rc;
}

int eng_bpart_make(struct eng *e, const struct store_coll *rec,
		   const struct idx_type *t, const struct mfs_kv *canon,
		   struct eng_bpart *q, const struct idx_progress *prog,
		   struct eng_bpart **cur, bool same_index, const char *what,
		   struct mfs_err *err)
{
	struct eng_part *p = q->p;
	struct eng_sp_arg sa = { .p = p };
	struct idx *ix;
	bool loaded;
	int rc;

	pthread_mutex_lock(&p->wmu);
	rc = store_read(e->st, eng_sp_txn, &sa, err);
	if (rc == 0 && p->building) {
		rc = 1;         /* cannot happen: builds exclude compactions */
	} else if (rc == 0) {
		p->building = true;
		p->nbdel = 0;
		q->snap = sa.sp.next_seq;
		q->d0 = sa.sp.deleted;
	}
	loaded = atomic_load(&p->state) == ENG_LOADED &&
		 (!same_index ||
		  (p->ix && strcmp(p->ix_text, rec->index) == 0));
	pthread_mutex_unlock(&p->wmu);
	if (rc == -ENOENT || rc == 1) {
		q->skip = true;         /* dropped meanwhile */
		mfs_err_clear(err);
		return 0;
	}
	if (rc < 0)
		return rc;
	/* Without a blob to save, only a loaded index needs making. */
	if (!t->save && !loaded)
		return 0;
	*cur = q;
	rc = bpart_build(e, rec, t, canon, q, sa.sp.count, prog, what, &ix,
			 err);
	*cur = NULL;
	if (rc == 0 && (same_index ? loaded
				   : atomic_load(&p->state) == ENG_LOADED)) {
		q->ix = ix;
		ix = NULL;
	}
	idx_free(ix);
	return rc;
}

int eng_bcoll_get(struct store_txn *txn, struct eng *e, struct eng_coll *c,
		  const struct store_coll *was, bool same_index,
		  const char *what, char *name, size_t size,
		  struct store_coll *rec, struct mfs_err *err)
{
	bool changed;
	int rc;

	pthread_rwlock_rdlock(&e->cat);
	snprintf(name, size, "%s", c->name);
	pthread_rwlock_unlock(&e->cat);
	rc = store_coll_get(txn, name, rec);
	if (rc < 0)
		return eng_err_no_coll(err, rc, name);
	if (same_index)
		changed = strcmp(rec->index, was->index) != 0 ||
			  rec->dim != was->dim;
	else
		changed = rec->dim != was->dim || rec->vtype != was->vtype ||
			  rec->metric != was->metric;
	if (changed)
		return mfs_errf(err, -EBUSY, "the %s of collection %s changed "
				"during the %s", same_index ? "index" : "schema",
				name, what);
	return 0;
}

int eng_bpart_commit(struct store_txn *txn, const struct eng_bpart *q,
		     bool blob, struct mfs_err *err)
{
	struct store_part sp;
	int rc = store_part_get(txn, q->p->cid, q->p->name, &sp);

	if (rc == -ENOENT)
		return rc;              /* dropped meanwhile */
	if (rc < 0)
		return mfs_errf(err, rc, "cannot read partition %s",
				q->p->name);
	if (blob) {
		rc = store_blob_put(txn, q->p->pid, q->blob.data, q->blob.len);
		if (rc < 0)
			return mfs_errf(err, rc,
					"cannot store the index of partition %s",
					q->p->name);
		sp.index_seq = q->blob.len ? q->snap : 0;
	}
	/* A new index holds no deleted entity (SPEC §11: deletes after the
	 * snapshot stay pending). */
	sp.deleted = sp.deleted > q->d0 ? sp.deleted - q->d0 : 0;
	rc = store_part_put(txn, &sp);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot update partition %s",
				q->p->name);
	return 0;
}

int eng_bpart_catch_up(struct eng *e, const struct store_coll *rec,
		       struct eng_part *p, struct idx *ix, uint64_t snap,
		       size_t *added, struct mfs_err *err)
{
	struct eng_ents x = { 0 };
	int rc;

	rc = eng_ents_read(e, p->pid, vec_bytes((enum vec_type)rec->vtype,
						rec->dim),
			   snap, UINT64_MAX, &x, NULL, 0, err);
	if (rc < 0)
		return rc;
	if (p->nbdel)
		ix->type->remove(ix, p->bdel, p->nbdel);
	if (x.n)
		rc = ix->type->add(ix, x.ids, x.vecs, x.n, err);
	*added = x.n;
	eng_ents_free(&x);
	return rc;
}

void eng_part_swap_ix(struct eng *e, struct eng_part *p, struct idx *ix)
{
	size_t mem = ix->type->memory_bytes(ix);
	struct idx *old;

	pthread_rwlock_wrlock(&p->ilock);       /* waits for searches */
	old = p->ix;
	p->ix = ix;
	pthread_rwlock_unlock(&p->ilock);
	idx_free(old);
	eng_mem_adjust(e, (int64_t)mem - (int64_t)p->mem_bytes);
	p->mem_bytes = mem;
}

/* ---- a build ---- */

static void progress_fn(void *arg, double pct)
{
	struct job *j = arg;

	if (j->b.cur)
		atomic_store(&j->b.c->build_progress,
			     eng_bpart_pct(j->b.cur, j->b.wtotal, pct));
}

static int build_part(struct job *j, struct eng_bpart *q, struct mfs_err *err)
{
	struct idx_progress prog = { progress_fn, j };

	return eng_bpart_make(j->b.e, &j->b.rec, j->b.t, &j->b.canon, q, &prog,
			      &j->b.cur, false, "partition", err);
}

static int commit_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct job *j = arg;
	struct store_coll rec;
	char name[STORE_NAME_MAX + 1];
	int rc;

	rc = eng_bcoll_get(txn, j->b.e, j->b.c, &j->b.rec, false, "index build",
			   name, sizeof(name), &rec, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < j->b.n; i++) {
		if (j->b.v[i].skip)
			continue;
		rc = eng_bpart_commit(txn, &j->b.v[i], true, err);
		if (rc < 0 && rc != -ENOENT)
			return rc;
	}
	snprintf(rec.index, sizeof(rec.index), "%s", j->text);
	rc = store_coll_put(txn, name, &rec);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot update collection %s", name);
	j->b.rec = rec;
	return 0;
}

/* Bring a built index up to date and swap it in (caller holds p->wmu). */
static int swap_part(struct job *j, struct eng_bpart *q, struct mfs_err *err)
{
	struct eng *e = j->b.e;
	struct eng_part *p = q->p;
	struct idx *ix = q->ix;
	int rc = 0;

	q->ix = NULL;
	if (atomic_load(&p->state) != ENG_LOADED || p->dropped) {
		idx_free(ix);
		return 0;
	}
	if (!ix && strcmp(p->ix_text, j->text) == 0 && p->ix)
		return 0;               /* loaded with the new index already */
	if (ix && p->nbdel == SIZE_MAX) {
		idx_free(ix);           /* lost track of deletes: remake */
		ix = NULL;
	}
	if (ix) {
		size_t added = SIZE_MAX;

		rc = eng_bpart_catch_up(e, &j->b.rec, p, ix, q->snap, &added,
					err);
		if (added != SIZE_MAX) {
			atomic_store(&p->load_added, j->b.t->save ? added : 0);
			p->unfolded = j->b.t->save ? added : 0;
		}
	} else {
		struct eng_ents x = { 0 };

		rc = eng_ents_read(e, p->pid,
				   vec_bytes((enum vec_type)j->b.rec.vtype,
					     j->b.rec.dim),
				   0, UINT64_MAX, &x, NULL, 0, err);
		if (rc == 0)
			rc = eng_part_make_index(e, &j->b.rec, p, &x, &ix, err);
		eng_ents_free(&x);
	}
	if (rc < 0)
		goto fail;
	eng_part_swap_ix(e, p, ix);
	snprintf(p->ix_text, sizeof(p->ix_text), "%s", j->text);
	return 0;
fail:
	idx_free(ix);
	mfs_log(MFS_LOG_ERROR,
		"index of partition %s stored but not swapped in (old index kept until reload): %s",
		p->name, err ? err->msg : "");
	return rc;
}

static int job_run(struct eng_bjob *b, struct mfs_err *err)
{
	struct job *j = (struct job *)b;
	struct eng *e = j->b.e;
	struct eng_coll *c = j->b.c;
	int rc = 0;

	for (size_t i = 0; i < j->b.n && rc == 0; i++) {
		rc = build_part(j, &j->b.v[i], err);
		progress_fn(j, 100);
		j->b.cur = NULL;
	}
	if (rc == 0) {
		pthread_mutex_lock(&e->wmu);
		rc = store_write(e->st, commit_txn, j, err);
		if (rc == 0) {
			pthread_rwlock_wrlock(&e->cat);
			snprintf(c->rec.index, sizeof(c->rec.index), "%s",
				 j->text);
			pthread_rwlock_unlock(&e->cat);
		}
		pthread_mutex_unlock(&e->wmu);
	}
	for (size_t i = 0; i < j->b.n; i++) {
		struct eng_bpart *q = &j->b.v[i];
		struct mfs_err serr = { 0 };

		pthread_mutex_lock(&q->p->wmu);
		if (rc == 0 && !q->skip)
			swap_part(j, q, &serr);
		q->p->building = false;
		q->p->nbdel = 0;
		pthread_mutex_unlock(&q->p->wmu);
	}
	pthread_mutex_lock(&c->bmu);
	c->building = false;
	c->build_state = rc == 0 ? ENG_BUILD_FINISHED : ENG_BUILD_FAILED;
	snprintf(c->build_msg, sizeof(c->build_msg), "%s",
		 rc == 0 || !err ? "" : err->msg);
	atomic_store(&c->build_progress, 100);
	pthread_mutex_unlock(&c->bmu);
	return rc;
}

static void *job_main(void *arg)
{
	struct job *j = arg;
	struct mfs_err err = { 0 };

	if (job_run(&j->b, &err) < 0)
		mfs_log(MFS_LOG_ERROR, "index build of %s failed: %s",
			j->b.c->name, err.msg);
	eng_bjob_free(&j->b);
	return NULL;
}

/* Keys `cat index` shows that are not build parameters: accepted (so that
 * `cat index > index` works) and ignored. */
static bool shown_only(const char *k)
{
	return strcmp(k, "state") == 0 || strcmp(k, "progress") == 0 ||
	       strcmp(k, "fail_reason") == 0 || strcmp(k, "trained") == 0 ||
	       strcmp(k, "train_min") == 0 ||
	       strcmp(k, "untrained_entities") == 0;
}

/* eng_index_set, step 1: the type params name, checked against the
 * collection's vector type and metric; FLAT (or the type's default) is a
 * drop (*drop), with j->b.t the default type. */
static int set_type(struct job *j, const struct mfs_kv *params, bool *drop,
		    struct mfs_err *err)
{
	const char *tname = mfs_kv_get(params, "index_type");
	const char *metric;

	if (!tname || !*tname) {
		char names[IDX_NAMES_MAX];

		return mfs_errf(err, -EINVAL,
				"index_type is required, expected one of %s",
				idx_names(names, sizeof(names)));
	}
	j->b.t = idx_lookup(tname);
	if (!j->b.t)
		return mfs_errf(err, -EINVAL, "invalid index type: %s", tname);
	if (j->b.rec.dim == 0)
		return mfs_errf(err, -EINVAL,
				"dim is not set: write the schema or insert first");
	*drop = j->b.t == &idx_flat_type || j->b.t == eng_default_type(
		(enum vec_type)j->b.rec.vtype);
	if (*drop)
		j->b.t = eng_default_type((enum vec_type)j->b.rec.vtype);
	if (j->b.t->binary != (j->b.rec.vtype == VEC_BINARY))
		return mfs_errf(err, -EINVAL,
				"index type %s does not apply to %s",
				j->b.t->name,
				vec_type_name((enum vec_type)j->b.rec.vtype));
	metric = mfs_kv_get(params, "metric_type");
	if (metric) {
		enum vec_metric m;

		if (vec_metric_parse(metric, &m) < 0 ||
		    m != (enum vec_metric)j->b.rec.metric)
			return mfs_errf(err, -EINVAL,
					"metric type not match: expected=%s, actual=%s",
					vec_metric_name((enum vec_metric)j->b.rec.metric),
					metric);
	}
	return 0;
}

/* Step 2: the type's check of the build parameters (without metric_type
 * and the keys `cat index` only shows) gives j->b.canon, index_type first,
 * and, unless a drop, its stored text j->text. */
static int set_canon(struct eng *e, struct job *j,
		     const struct mfs_kv *params, bool drop,
		     struct mfs_err *err)
{
	struct mfs_kv p2;
	struct idx_info info;
	int rc;

	mfs_kv_init(&p2);
	for (size_t i = 0; i < params->n; i++) {
		const char *k = params->item[i].key;

		if (strcmp(k, "metric_type") == 0 || shown_only(k))
			continue;
		if (strcmp(k, "index_type") == 0) {
			mfs_kv_set(&p2, k, j->b.t->name, NULL);
			continue;
		}
		mfs_kv_set(&p2, k, params->item[i].val, NULL);
	}
	eng_rec_info(e, &j->b.rec, &info);
	rc = j->b.t->check(&info, &p2, &j->b.canon, err);
	if (rc < 0)
		return rc;
	mfs_kv_del(&j->b.canon, "metric_type");
	if (drop)
		return 0;
	if (!mfs_kv_get(&j->b.canon, "index_type")) {
		/* Keep index_type first. */
		struct mfs_kv t;

		mfs_kv_init(&t);
		mfs_kv_set(&t, "index_type", j->b.t->name, NULL);
		for (size_t i = 0; i < j->b.canon.n; i++)
			mfs_kv_set(&t, j->b.canon.item[i].key,
				   j->b.canon.item[i].val, NULL);
		j->b.canon = t;
	}
	return eng_kv_to_itext(&j->b.canon, j->text, sizeof(j->text), err);
}

/* Step 3: references to every partition of the collection, with the
 * entities each has now (j->b.v, j->b.n). */
static int set_parts(struct eng *e, struct job *j, struct mfs_err *err)
{
	struct eng_part **v;
	size_t n;
	int rc = eng_parts_get(e, j->b.c, &v, &n);

	if (rc < 0)
		return mfs_errf(err, rc, "out of memory");
	j->b.v = calloc(n ? n : 1, sizeof(*j->b.v));
	if (!j->b.v) {
		eng_parts_put(v, n);
		return mfs_errf(err, -ENOMEM, "out of memory");
	}
	j->b.n = n;
	pthread_rwlock_rdlock(&e->cat);
	for (size_t i = 0; i < n; i++)
		eng_bpart_init(&j->b.v[i], v[i], v[i]->count, &j->b.wtotal);
	pthread_rwlock_unlock(&e->cat);
	free(v);                        /* the references moved to j->b.v */
	return 0;
}

/* Step 4: claim the collection's build slot (c->bmu), after a running
 * compaction; -EBUSY when another build has it. */
static int set_claim(struct job *j, const char *coll, bool drop,
		     struct mfs_err *err)
{
	struct eng_coll *c = j->b.c;

	pthread_mutex_lock(&c->bmu);
	/* A compaction (compact.c, perhaps started by a delete of this
	 * writer's) ends by itself: wait for it rather than fail. */
	while (c->compacting)
		pthread_cond_wait(&c->compacted, &c->bmu);
	if (c->building) {
		pthread_mutex_unlock(&c->bmu);
		return mfs_errf(err, -EBUSY,
				"an index build of collection %s is in progress",
				coll);
	}
	c->building = true;
	c->build_state = ENG_BUILD_INPROGRESS;
	snprintf(c->build_text, sizeof(c->build_text), "%s",
		 drop ? "" : j->text);
	atomic_store(&c->build_progress, 0);
	pthread_mutex_unlock(&c->bmu);
	return 0;
}

int eng_index_set(struct eng *e, const char *coll, const struct mfs_kv *params,
		  bool wait, struct mfs_err *err)
{
	struct job *j;
	bool drop = false;
	int rc;

	j = calloc(1, sizeof(*j));
	if (!j)
		return mfs_errf(err, -ENOMEM, "out of memory");
	j->b.e = e;
	rc = eng_lookup(e, coll, NULL, &j->b.c, NULL, &j->b.rec, err);
	if (rc < 0) {
		free(j);
		return rc;
	}
	if ((rc = set_type(j, params, &drop, err)) < 0 ||
	    (rc = set_canon(e, j, params, drop, err)) < 0 ||
	    (rc = set_parts(e, j, err)) < 0 ||
	    (rc = set_claim(j, coll, drop, err)) < 0) {
		eng_bjob_free(&j->b);
		return rc;
	}
	return eng_bjob_start(&j->b, wait, job_run, job_main, err);
}

/* SPEC §5: an IVF index that has too few entities to train on says so:
 * trained=false, the entities a partition needs (train_min) and those of
 * the collection searched exactly meanwhile (untrained_entities).  A
 * loaded partition's index says whether it is trained; a released one is
 * counted as trained when it holds train_min entities, as a load of it
 * would train (or restore a trained index). */
static void train_state(struct eng *e, struct eng_coll *c,
			const struct idx_type *t, const struct store_coll *rec,
			const struct mfs_kv *canon, struct mfs_kv *r)
{
	struct eng_part **parts = NULL;
	struct idx_info info;
	size_t n = 0, need;
	uint64_t untrained = 0;
	bool trained = true, any = false;
	char num[32];

	eng_rec_info(e, rec, &info);
	need = t->train_min(&info, canon);
	if (eng_parts_get(e, c, &parts, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct eng_part *p = parts[i];
		uint64_t count;
		size_t wait = SIZE_MAX;

		pthread_rwlock_rdlock(&e->cat);
		count = p->count;
		pthread_rwlock_unlock(&e->cat);
		pthread_rwlock_rdlock(&p->ilock);
		if (p->ix && p->ix->type == t)
			wait = t->train_wait(p->ix);
		pthread_rwlock_unlock(&p->ilock);
		if (wait == SIZE_MAX)
			wait = count >= need ? 0 : need;
		if (count == 0)
			continue;
		any = true;
		if (wait) {
			trained = false;
			untrained += count;
		}
	}
	eng_parts_put(parts, n);
	if (trained && any)
		return;
	mfs_kv_set(r, "trained", "false", NULL);
	snprintf(num, sizeof(num), "%zu", need);
	mfs_kv_set(r, "train_min", num, NULL);
	snprintf(num, sizeof(num), "%llu", (unsigned long long)untrained);
	mfs_kv_set(r, "untrained_entities", num, NULL);
}

int eng_index_get(struct eng *e, const char *coll, struct mfs_kv *out,
		  struct mfs_err *err)
{
	struct store_coll rec;
	struct eng_coll *c;
	struct mfs_kv canon, r;
	const struct idx_type *t;
	char msg[MFS_ERR_MSG_MAX] = "";
	int state, rc;
	unsigned progress;

	rc = eng_lookup(e, coll, NULL, &c, NULL, &rec, err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&c->bmu);
	state = c->build_state;
	if (c->building)
		snprintf(rec.index, sizeof(rec.index), "%s", c->build_text);
	else if (state == ENG_BUILD_FAILED)
		snprintf(msg, sizeof(msg), "%s", c->build_msg);
	progress = state == ENG_BUILD_INPROGRESS
			   ? atomic_load(&c->build_progress) : 100;
	pthread_mutex_unlock(&c->bmu);
	rc = eng_rec_index(&rec, &t, &canon, err);
	if (rc < 0) {
		eng_coll_unref(c);
		return rc;
	}
	mfs_kv_init(&r);
	mfs_kv_set(&r, "index_type", t->name, NULL);
	mfs_kv_set(&r, "metric_type",
		   vec_metric_name((enum vec_metric)rec.metric), NULL);
	for (size_t i = 0; i < canon.n; i++)
		if (strcmp(canon.item[i].key, "index_type") != 0)
			mfs_kv_set(&r, canon.item[i].key, canon.item[i].val,
				   NULL);
	mfs_kv_set(&r, "state", state == ENG_BUILD_INPROGRESS ? "InProgress"
				: state == ENG_BUILD_FAILED ? "Failed"
							     : "Finished",
		   NULL);
	char pbuf[16];
	snprintf(pbuf, sizeof(pbuf), "%u", progress);
	mfs_kv_set(&r, "progress", pbuf, NULL);
	if (msg[0])
		mfs_kv_set(&r, "fail_reason", msg, NULL);
	if (t->train_min && state == ENG_BUILD_FINISHED)
		train_state(e, c, t, &rec, &canon, &r);
	eng_coll_unref(c);
	*out = r;
	return 0;
}
