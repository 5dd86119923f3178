/* compact.c - compaction, checkpoints and statistics (SPEC §11).
 *
 * Deleted and replaced entities leave LMDB's ent and idmap at once, but an
 * index keeps traces of them: HNSW keeps tombstones (nodes still used for
 * navigation, their vectors saved in the blob), and a stored blob of any
 * type holds what it held when it was saved.  store_part.deleted counts
 * the deletes since the last compaction or build; past
 * ENG_COMPACT_AUTO_PCT of a partition (live + deleted) a delete or an
 * upsert starts a compaction in the background (reading the records of
 * the partitions it removed entities from only: no other can have
 * crossed the mark), and `echo 1 > compact` runs one now (also over
 * loaded partitions whose index holds 15% more than a fresh build would:
 * capacity grown by inserts).
 *
 * A compaction of partition p is an index build of the collection's own
 * index over p's live entities, made aside as index_build.c makes one:
 *
 *  1. Under p->wmu: snap = next_seq, d0 = deleted; p->building = true so
 *     that deletes from now on are noted in p->bdel.
 *  2. With no lock: read the entities with seq < snap, build, save.
 *  3. One store_write: the blob, index_seq = snap, deleted -= d0 (deletes
 *     after the snapshot stay pending), provided the collection's index is
 *     still the one built.
 *  4. Under p->wmu, if p is loaded with that index: remove bdel from the
 *     new index, add the entities with seq >= snap, and swap it in under
 *     p->ilock; searches see the old index or the new one, whole.  The old
 *     one is freed and its memory given back (malloc_trim).
 *
 * A collection is compacted by one run at a time (c->compacting, under
 * c->bmu), never together with an index build (c->building): a compaction
 * refuses to start during a build (-EBUSY), a build waits for a running
 * compaction, and so does `echo 1 > compact`, which then runs its own.
 *
 * Checkpoints: the entities inserted after a build are added to the loaded
 * index, not to the stored one; a load restores the blob and adds them
 * again.  eng_part_checkpoint saves the loaded index itself as the blob
 * (index_seq = next_seq) at a release and at unmount, so the next load
 * adds none, and load_added tells the stats how many the last load added.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/log.h"

#define ENG_COMPACT_AUTO_PCT 20         /* SPEC §11: as Milvus and Qdrant */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- reading a partition's record ---- */

static bool past_auto(const struct store_part *sp)
{
	uint64_t all = sp->count + sp->deleted;

	return sp->deleted && (uint64_t)sp->deleted * 100 >
				      all * ENG_COMPACT_AUTO_PCT;
}

/* Memory held by loaded p (index and columns). */
static uint64_t part_memory(struct eng_part *p)
{
	uint64_t m = 0;

	pthread_rwlock_rdlock(&p->ilock);
	if (p->ix)
		m += p->ix->type->memory_bytes(p->ix);
	if (p->cols) {
		pthread_rwlock_rdlock(&p->cols->lock);
		m += p->cols->charged;
		pthread_rwlock_unlock(&p->cols->lock);
	}
	pthread_rwlock_unlock(&p->ilock);
	return m;
}

/* ---- statistics ---- */

int eng_stats(struct eng *e, const char *coll, const char *part,
	      struct eng_stats *out, struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p = NULL, **parts = NULL;
	struct store_coll rec;
	const struct idx_type *t;
	struct mfs_kv canon;
	struct eng_stats s;
	size_t n = 0;
	int rc;

	rc = eng_lookup(e, coll, part, &c, &p, &rec, err);
	if (rc < 0)
		return rc;
	memset(&s, 0, sizeof(s));
	if (eng_rec_index(&rec, &t, &canon, NULL) < 0)
		t = eng_default_type((enum vec_type)rec.vtype);
	snprintf(s.index_type, sizeof(s.index_type), "%s", t->name);
	rc = eng_parts_of(e, c, &p, &parts, &n, err);
	if (rc < 0)
		goto unref;
	for (size_t i = 0; i < n && rc == 0; i++) {
		struct eng_sp_arg a = { .p = parts[i], .usage = true };

		rc = store_read(e->st, eng_sp_txn, &a, err);
		if (rc == -ENOENT && !p) {
			mfs_err_clear(err);     /* dropped meanwhile */
			rc = 0;
			continue;
		}
		if (rc < 0)
			break;
		s.entities += a.sp.count;
		s.deleted_pending += a.sp.deleted;
		/* FLAT stores nothing: every entity is in its index. */
		if (t->save)
			s.inserted_since_index += a.u.after_index;
		s.memory_bytes += part_memory(parts[i]);
		s.index_bytes += a.u.blob_bytes;
		s.disk_bytes += a.u.ent_bytes + a.u.blob_bytes;
		if (atomic_load(&parts[i]->state) == ENG_LOADED)
			s.loaded_past_index +=
				atomic_load(&parts[i]->load_added);
	}
	eng_parts_done(p, parts, n);
	if (rc == 0)
		rc = eng_state(e, coll, part, &s.state, NULL, err);
	if (rc == 0)
		*out = s;
unref:
	eng_part_unref(p);
	eng_coll_unref(c);
	return rc;
}

/* ---- compaction ---- */

struct cjob {
	struct eng_bjob b;              /* first: eng_bjob_free frees j */
	bool autorun;
	struct eng_compact_info fig;
};

static void cprogress(void *arg, double pct)
{
	struct cjob *j = arg;

	if (j->b.cur && j->b.wtotal > 0)
		atomic_store(&j->b.c->compact_progress,
			     eng_bpart_pct(j->b.cur, j->b.wtotal, pct));
}

/* Step 1 and 2 for q. */
static int cbuild(struct cjob *j, struct eng_bpart *q, struct mfs_err *err)
{
	struct idx_progress prog = { cprogress, j };
	int rc;

	rc = eng_bpart_make(j->b.e, &j->b.rec, j->b.t, &j->b.canon, q, &prog,
			    &j->b.cur, true, "compaction of partition", err);
	malloc_trim(0);
	return rc;
}

/* Step 3. */
static int ccommit_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct cjob *j = arg;
	struct store_coll rec;
	char name[STORE_NAME_MAX + 1];
	int rc;

	rc = eng_bcoll_get(txn, j->b.e, j->b.c, &j->b.rec, true, "compaction", name,
			   sizeof(name), &rec, err);
	if (rc < 0)
		return rc;
	j->fig.last_removed = 0;
	j->fig.last_index_after = 0;
	for (size_t i = 0; i < j->b.n; i++) {
		struct eng_bpart *q = &j->b.v[i];

		if (q->skip)
			continue;
		rc = eng_bpart_commit(txn, q, j->b.t->save != NULL, err);
		if (rc == -ENOENT)
			continue;
		if (rc < 0)
			return rc;
		if (j->b.t->save)
			j->fig.last_index_after += q->blob.len;
		j->fig.last_removed += q->d0;
	}
	return 0;
}

/* Step 4 (caller holds p->wmu). */
static void cswap(struct cjob *j, struct eng_bpart *q)
{
	struct eng_part *p = q->p;
	struct idx *ix = q->ix;
	struct mfs_err err;
	size_t added = 0;
	int rc;

	q->ix = NULL;
	if (!ix)
		return;
	if (atomic_load(&p->state) != ENG_LOADED || p->dropped || !p->ix ||
	    strcmp(p->ix_text, j->b.rec.index) != 0 || p->nbdel == SIZE_MAX) {
		/* Released, reloaded with another index, or deletes lost:
		 * the stored index is right, the loaded one stays. */
		idx_free(ix);
		return;
	}
	mfs_err_clear(&err);
	rc = eng_bpart_catch_up(j->b.e, &j->b.rec, p, ix, q->snap, &added, &err);
	if (rc < 0) {
		mfs_log(MFS_LOG_ERROR, "compaction of partition %s stored but "
			"not swapped in (the old index serves until a reload): %s",
			p->name, err.msg);
		idx_free(ix);
		return;
	}
	eng_part_swap_ix(j->b.e, p, ix);
	p->unfolded = added;
	atomic_store(&p->load_added, added);
}

static int cjob_run(struct eng_bjob *b, struct mfs_err *err)
{
	struct cjob *j = (struct cjob *)b;
	struct eng *e = j->b.e;
	struct eng_coll *c = j->b.c;
	uint64_t t0 = now_ms();
	int rc = 0;

	j->fig.last_auto = j->autorun;
	for (size_t i = 0; i < j->b.n; i++) {
		j->fig.last_memory_before += part_memory(j->b.v[i].p);
		{
			struct eng_sp_arg a = { .p = j->b.v[i].p, .usage = true };

			if (store_read(e->st, eng_sp_txn, &a, NULL) == 0)
				j->fig.last_index_before += a.u.blob_bytes;
		}
	}
	for (size_t i = 0; i < j->b.n && rc == 0; i++) {
		rc = cbuild(j, &j->b.v[i], err);
		if (!j->b.v[i].skip)
			j->fig.last_partitions++;
	}
	if (rc == 0) {
		pthread_mutex_lock(&e->wmu);
		rc = store_write(e->st, ccommit_txn, j, err);
		pthread_mutex_unlock(&e->wmu);
	}
	for (size_t i = 0; i < j->b.n; i++) {
		struct eng_bpart *q = &j->b.v[i];

		pthread_mutex_lock(&q->p->wmu);
		if (rc == 0 && !q->skip)
			cswap(j, q);
		if (!q->skip) {
			q->p->building = false;
			q->p->nbdel = 0;
		}
		pthread_mutex_unlock(&q->p->wmu);
		idx_free(q->ix);
		q->ix = NULL;
	}
	malloc_trim(0);
	for (size_t i = 0; i < j->b.n; i++)
		j->fig.last_memory_after += part_memory(j->b.v[i].p);
	if (rc < 0) {
		j->fig.last_partitions = 0;
		j->fig.last_removed = 0;
		j->fig.last_index_after = j->fig.last_index_before;
	}
	j->fig.last_ms = now_ms() - t0;
	pthread_mutex_lock(&c->bmu);
	j->fig.runs = c->compact_last.runs + 1;
	snprintf(j->fig.last_error, sizeof(j->fig.last_error), "%s",
		 rc == 0 || !err ? "" : err->msg);
	c->compact_last = j->fig;
	c->compacting = false;
	pthread_cond_broadcast(&c->compacted);
	atomic_store(&c->compact_progress, 100);
	pthread_mutex_unlock(&c->bmu);
	mfs_log(rc == 0 ? MFS_LOG_INFO : MFS_LOG_ERROR,
		"compaction of %s (%s): %llu partitions, %llu deleted entities "
		"removed, %llu ms%s%s", c->name,
		j->autorun ? "automatic" : "requested",
		(unsigned long long)j->fig.last_partitions,
		(unsigned long long)j->fig.last_removed,
		(unsigned long long)j->fig.last_ms, rc == 0 ? "" : ": ",
		rc == 0 || !err ? "" : err->msg);
	return rc;
}

static void *cjob_main(void *arg)
{
	struct cjob *j = arg;
	struct mfs_err err = { 0 };
	struct eng *e = j->b.e;
	char name[STORE_NAME_MAX + 1];
	bool again;

	cjob_run(&j->b, &err);
	pthread_rwlock_rdlock(&e->cat);
	snprintf(name, sizeof(name), "%s", j->b.c->name);
	again = !j->b.c->dropped && err.code == 0;
	pthread_rwlock_unlock(&e->cat);
	eng_bjob_free(&j->b);
	/* Deletes that came during the run may have passed the mark. */
	if (again && !atomic_load(&e->closing))
		eng_compact_auto(e, name);
	return NULL;
}

/* Does loaded p's index hold more than 15% past what a fresh build of
 * its entities holds (capacity grown by inserts, a catch-up after a
 * swap)?  A requested compaction gives that back too. */
static bool slack(struct cjob *j, struct eng_part *p, uint64_t count)
{
	struct idx_info info;
	uint64_t mem = 0, est;

	pthread_rwlock_rdlock(&p->ilock);
	if (p->ix && p->ix->type == j->b.t)
		mem = p->ix->type->memory_bytes(p->ix);
	pthread_rwlock_unlock(&p->ilock);
	if (!mem)
		return false;
	eng_rec_info(j->b.e, &j->b.rec, &info);
	est = j->b.t->estimate_bytes(&info, &j->b.canon, (size_t)count);
	return mem * 100 > est * 115;
}

/* Is pid in pids[0, n) (sorted, unique)? */
static bool has_pid(const uint32_t *pids, size_t n, uint32_t pid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && pids[lo] == pid;
}

/* A job over c's partitions with deleted entities (automatic: past the
 * mark; requested: also those with slack); *out NULL when there is
 * none.  pids (sorted, unique; NULL: every partition) limits the
 * partitions looked at, and so the store reads, to those npids.  The
 * caller holds c->compacting. */
static int cjob_new(struct eng *e, struct eng_coll *c, bool autorun,
		    const uint32_t *pids, size_t npids, struct cjob **out,
		    struct mfs_err *err)
{
	struct eng_part **v;
	struct cjob *j;
	size_t n;
	int rc;

	*out = NULL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return mfs_errf(err, -ENOMEM, "out of memory");
	j->b.e = e;
	j->autorun = autorun;
	eng_coll_ref(c);
	j->b.c = c;
	pthread_rwlock_rdlock(&e->cat);
	j->b.rec = c->rec;
	pthread_rwlock_unlock(&e->cat);
	rc = eng_rec_index(&j->b.rec, &j->b.t, &j->b.canon, err);
	if (rc < 0)
		goto fail;
	if (j->b.rec.dim == 0)
		goto none;
	rc = eng_parts_get(e, c, &v, &n);
	if (rc < 0) {
		rc = mfs_errf(err, rc, "out of memory");
		goto fail;
	}
	j->b.v = calloc(n ? n : 1, sizeof(*j->b.v));
	if (!j->b.v) {
		eng_parts_put(v, n);
		rc = mfs_errf(err, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct eng_sp_arg a = { .p = v[i] };
		bool want = (!pids || has_pid(pids, npids, v[i]->pid)) &&
			    store_read(e->st, eng_sp_txn, &a, NULL) == 0 &&
			    (autorun ? past_auto(&a.sp)
				     : a.sp.deleted > 0 ||
				       slack(j, v[i], a.sp.count));

		if (!want) {
			eng_part_unref(v[i]);
			continue;
		}
		eng_bpart_init(&j->b.v[j->b.n++], v[i], a.sp.count, &j->b.wtotal);
	}
	free(v);
	if (j->b.n == 0)
		goto none;
	*out = j;
	return 0;
none:
	rc = 0;
fail:
	eng_bjob_free(&j->b);
	return rc;
}

/* Claim c for a compaction: 0, or -EBUSY when a build (or, !wait, a
 * compaction) runs. */
static int claim(struct eng_coll *c, bool wait, const char *coll,
		 struct mfs_err *err)
{
	for (;;) {
		pthread_mutex_lock(&c->bmu);
		if (c->building) {
			pthread_mutex_unlock(&c->bmu);
			return mfs_errf(err, -EBUSY,
					"an index build of collection %s is in progress, compact it when it is finished",
					coll);
		}
		if (!c->compacting) {
			c->compacting = true;
			atomic_store(&c->compact_progress, 0);
			pthread_mutex_unlock(&c->bmu);
			return 0;
		}
		pthread_mutex_unlock(&c->bmu);
		if (!wait)
			return -EBUSY;
		usleep(10000);
	}
}

static void unclaim(struct eng_coll *c)
{
	pthread_mutex_lock(&c->bmu);
	c->compacting = false;
	pthread_cond_broadcast(&c->compacted);
	atomic_store(&c->compact_progress, 100);
	pthread_mutex_unlock(&c->bmu);
}

int eng_compact(struct eng *e, const char *coll, bool wait,
		struct mfs_err *err)
{
	struct eng_coll *c;
	struct cjob *j = NULL;
	int rc;

	rc = eng_lookup(e, coll, NULL, &c, NULL, NULL, err);
	if (rc < 0)
		return rc;
	/* A running compaction is waited for (it may have started before
	 * the deletes this one is asked for). */
	rc = claim(c, true, coll, err);
	if (rc < 0)
		goto unref;
	rc = cjob_new(e, c, false, NULL, 0, &j, err);
	if (rc < 0 || !j) {
		unclaim(c);
		if (rc == 0) {
			/* Nothing to remove: still a run, with its figures. */
			pthread_mutex_lock(&c->bmu);
			uint64_t runs = c->compact_last.runs;

			memset(&c->compact_last, 0, sizeof(c->compact_last));
			c->compact_last.runs = runs + 1;
			pthread_mutex_unlock(&c->bmu);
		}
		goto unref;
	}
	rc = eng_bjob_start(&j->b, wait, cjob_run, cjob_main, err);
unref:
	eng_coll_unref(c);
	return rc;
}

/* eng_compact_auto over the partitions pids[0, npids) (sorted, unique;
 * NULL: all of them). */
static void compact_auto(struct eng *e, const char *coll,
			 const uint32_t *pids, size_t npids)
{
	struct eng_coll *c;
	struct cjob *j = NULL;
	struct mfs_err err;

	if (atomic_load(&e->closing) ||
	    eng_lookup(e, coll, NULL, &c, NULL, NULL, NULL) < 0)
		return;
	mfs_err_clear(&err);
	if (claim(c, false, coll, NULL) < 0)
		goto unref;
	if (cjob_new(e, c, true, pids, npids, &j, &err) < 0 || !j) {
		unclaim(c);
		goto unref;
	}
	eng_bjob_start(&j->b, false, cjob_run, cjob_main, &err);
unref:
	eng_coll_unref(c);
}

void eng_compact_auto(struct eng *e, const char *coll)
{
	compact_auto(e, coll, NULL, 0);
}

static int cmp_pid(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

void eng_compact_auto_del(struct eng *e, const char *coll,
			  const struct del_pair *out, size_t n)
{
	uint32_t *pids;
	size_t m = 0, u = 0;

	if (n == 0)
		return;
	pids = malloc(n * sizeof(*pids));
	if (!pids) {
		compact_auto(e, coll, NULL, 0);   /* look at them all */
		return;
	}
	/* out is mostly in pid order: runs fold first, then sort. */
	for (size_t i = 0; i < n; i++)
		if (!m || pids[m - 1] != out[i].pid)
			pids[m++] = out[i].pid;
	qsort(pids, m, sizeof(*pids), cmp_pid);
	for (size_t i = 0; i < m; i++)
		if (!u || pids[u - 1] != pids[i])
			pids[u++] = pids[i];
	compact_auto(e, coll, pids, u);
	free(pids);
}

int eng_compact_get(struct eng *e, const char *coll,
		    struct eng_compact_info *out, struct mfs_err *err)
{
	struct eng_coll *c;
	int rc = eng_lookup(e, coll, NULL, &c, NULL, NULL, err);

	if (rc < 0)
		return rc;
	pthread_mutex_lock(&c->bmu);
	*out = c->compact_last;
	out->running = c->compacting;
	out->progress = c->compacting ? atomic_load(&c->compact_progress)
				      : 100;
	pthread_mutex_unlock(&c->bmu);
	eng_coll_unref(c);
	return 0;
}

/* ---- checkpoints ---- */

struct ckpt_arg {
	struct eng_part *p;
	const struct mfs_buf *blob;
	uint64_t seq;
};

static int ckpt_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct ckpt_arg *a = arg;
	struct store_part sp;
	int rc = store_part_get(txn, a->p->cid, a->p->name, &sp);

	if (rc < 0)
		return eng_err_no_part(err, rc, a->p->name);
	if (sp.next_seq != a->seq)
		return mfs_errf(err, -EBUSY, "partition %s changed", a->p->name);
	rc = store_blob_put(txn, a->p->pid, a->blob->data, a->blob->len);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot store the index of partition %s",
				a->p->name);
	sp.index_seq = a->seq;
	return store_part_put(txn, &sp);
}

void eng_part_checkpoint(struct eng *e, struct eng_coll *c,
			 struct eng_part *p)
{
	struct store_coll rec;

	pthread_rwlock_rdlock(&e->cat);
	rec = c->rec;
	pthread_rwlock_unlock(&e->cat);
	eng_part_checkpoint_rec(e, &rec, p);
}

void eng_part_checkpoint_rec(struct eng *e, const struct store_coll *rec,
			     struct eng_part *p)
{
	struct eng_sp_arg sa = { .p = p };
	struct mfs_buf blob;
	struct ckpt_arg a = { .p = p, .blob = &blob };
	struct mfs_err err;
	const struct idx_type *t;
	struct mfs_kv canon;
	int rc;

	if (atomic_load(&p->state) != ENG_LOADED || !p->ix || p->dropped ||
	    p->building)
		return;
	mfs_err_clear(&err);
	/* Only the collection's own index is worth saving (a partition
	 * whose IVF could not train serves FLAT meanwhile). */
	if (strcmp(p->ix_text, rec->index) != 0 ||
	    eng_rec_index(rec, &t, &canon, NULL) < 0 || !t->save ||
	    p->ix->type != t)
		return;
	if (store_read(e->st, eng_sp_txn, &sa, &err) < 0 ||
	    sa.sp.index_seq >= sa.sp.next_seq)
		return;
	/* p->wmu is held: no insert or delete changes the index or the
	 * entities meanwhile, so the blob is exactly [0, next_seq). */
	mfs_buf_init(&blob, SIZE_MAX);
	a.seq = sa.sp.next_seq;
	rc = t->save(p->ix, &blob);
	if (rc == 0)
		rc = eng_write(e, ckpt_txn, &a, &err);
	else
		mfs_errf(&err, rc, "out of memory");
	mfs_buf_fini(&blob);
	if (rc < 0) {
		mfs_log(MFS_LOG_WARN, "checkpoint of partition %s: %s "
			"(the next load adds its new entities again)", p->name,
			err.msg);
		return;
	}
	p->unfolded = 0;
	mfs_log(MFS_LOG_INFO, "partition %s: the entities inserted "
		"since the stored index (seq %llu to %llu) folded into it",
		p->name, (unsigned long long)sa.sp.index_seq,
		(unsigned long long)sa.sp.next_seq);
}

void eng_checkpoint_all(struct eng *e)
{
	struct eng_coll **cs;
	size_t nc;

	pthread_rwlock_rdlock(&e->cat);
	nc = e->ncolls;
	cs = malloc((nc ? nc : 1) * sizeof(*cs));
	if (cs)
		for (size_t i = 0; i < nc; i++) {
			cs[i] = e->colls[i];
			eng_coll_ref(cs[i]);
		}
	pthread_rwlock_unlock(&e->cat);
	if (!cs)
		return;
	for (size_t i = 0; i < nc; i++) {
		struct eng_part **v;
		size_t n;

		if (eng_parts_get(e, cs[i], &v, &n) == 0) {
			for (size_t k = 0; k < n; k++) {
				pthread_mutex_lock(&v[k]->wmu);
				eng_part_checkpoint(e, cs[i], v[k]);
				pthread_mutex_unlock(&v[k]->wmu);
			}
			eng_parts_put(v, n);
		}
		eng_coll_unref(cs[i]);
	}
	free(cs);
}
