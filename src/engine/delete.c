/* delete.c - deleting entities by id (SPEC §4): one store_write with every
 * partition concerned locked in pid order (their wmu), then the ids leave
 * the loaded indexes and columns (eng_remove_loaded, which upsert shares);
 * while an index build runs the ids also go to part->bdel, so the build's
 * result drops them before it is swapped in.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>


struct del_arg {
	uint32_t cid, only_pid;
	const int64_t *ids;
	size_t n;
	struct eng_part **parts;        /* locked */
	size_t nparts;
	struct del_pair *out;           /* n slots */
	size_t nout;
	bool foreign;                   /* hit a partition not locked */
};

static void del_cb(void *arg, uint32_t pid, int64_t id)
{
	struct del_arg *a = arg;
	bool known = false;

	for (size_t i = 0; i < a->nparts; i++)
		if (a->parts[i]->pid == pid)
			known = true;
	if (!known)
		a->foreign = true;
	if (a->nout < a->n)
		a->out[a->nout++] = (struct del_pair){ pid, id };
}

static int del_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct del_arg *a = arg;
	size_t nd = 0;
	int rc;

	a->nout = 0;
	a->foreign = false;
	rc = store_ent_delete(txn, a->cid, a->only_pid, a->ids, a->n, del_cb,
			      a, &nd);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot delete entities");
	if (a->foreign)
		return -EAGAIN;         /* a partition created meanwhile */
	return 0;
}

static int lock_parts(struct eng *e, struct eng_coll *c, struct eng_part *only,
		      struct eng_part ***parts, size_t *n)
{
	int rc;

	if (only) {
		*parts = malloc(sizeof(**parts));
		if (!*parts)
			return -ENOMEM;
		eng_part_ref(only);
		(*parts)[0] = only;
		*n = 1;
	} else {
		rc = eng_parts_get(e, c, parts, n);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < *n; i++)
		pthread_mutex_lock(&(*parts)[i]->wmu);
	return 0;
}

static void unlock_parts(struct eng_part **parts, size_t n)
{
	for (size_t i = n; i > 0; i--)
		pthread_mutex_unlock(&parts[i - 1]->wmu);
	eng_parts_put(parts, n);
}

static int cmp_pair(const void *x, const void *y)
{
	const struct del_pair *a = x, *b = y;

	if (a->pid != b->pid)
		return a->pid < b->pid ? -1 : 1;
	return (a->id > b->id) - (a->id < b->id);
}

/* Drop deleted ids from loaded indexes and columns (caller holds each
 * p->wmu). */
void eng_remove_loaded(struct eng *e, struct eng_part **parts,
		       size_t nparts, struct del_pair *out, size_t nout)
{
	int64_t *ids = malloc((nout ? nout : 1) * sizeof(*ids));

	qsort(out, nout, sizeof(*out), cmp_pair);
	for (size_t i = 0; i < nparts; i++) {
		struct eng_part *p = parts[i];
		size_t m = 0;

		for (size_t j = 0; j < nout; j++)
			if (out[j].pid == p->pid) {
				if (ids)
					ids[m] = out[j].id;
				m++;
			}
		if (m == 0 || !ids)
			continue;
		if (p->building && p->nbdel != SIZE_MAX) {
			if (p->nbdel + m > p->capbdel) {
				size_t cap = (p->nbdel + m) * 2;
				int64_t *nb = realloc(p->bdel,
						      cap * sizeof(*nb));

				if (nb) {
					p->bdel = nb;
					p->capbdel = cap;
				}
			}
			if (p->nbdel + m <= p->capbdel) {
				memcpy(p->bdel + p->nbdel, ids,
				       m * sizeof(*ids));
				p->nbdel += m;
			} else {
				/* The build will fail its swap. */
				p->nbdel = SIZE_MAX;
			}
		}
		pthread_rwlock_wrlock(&p->ilock);
		if (p->ix)
			p->ix->type->remove(p->ix, ids, m);
		if (p->cols)
			eng_cols_delete(p->cols, ids, m);
		pthread_rwlock_unlock(&p->ilock);
		eng_part_cols_tidy(e, p);
	}
	free(ids);
}

static void del_apply(struct eng *e, struct eng_coll *c, struct del_arg *a)
{
	if (a->nparts > 1)
		pthread_rwlock_wrlock(&c->plock);
	eng_remove_loaded(e, a->parts, a->nparts, a->out, a->nout);
	if (a->nparts > 1)
		pthread_rwlock_unlock(&c->plock);
}

int eng_delete(struct eng *e, const char *coll, const char *part,
	       const int64_t *ids, size_t n, size_t *ndeleted,
	       struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p = NULL;
	struct del_arg a = { .ids = ids, .n = n };
	int rc;

	rc = eng_lookup(e, coll, part, &c, &p, NULL, err);
	if (rc < 0)
		return rc;
	a.cid = c->cid;
	a.only_pid = p ? p->pid : 0;
	if (n == 0) {
		if (ndeleted)
			*ndeleted = 0;
		goto unref;
	}
	a.out = malloc(n * sizeof(*a.out));
	if (!a.out) {
		rc = mfs_errf(err, -ENOMEM, "out of memory");
		goto unref;
	}
	for (;;) {
		rc = lock_parts(e, c, p, &a.parts, &a.nparts);
		if (rc < 0) {
			rc = mfs_errf(err, rc, "out of memory");
			break;
		}
		pthread_mutex_lock(&e->wmu);
		rc = store_write(e->st, del_txn, &a, err);
		if (rc == 0) {
			pthread_rwlock_wrlock(&e->cat);
			for (size_t i = 0; i < a.nout; i++) {
				struct eng_part *q =
					eng_part_by_pid(c, a.out[i].pid);

				if (q && q->count)
					q->count--;
				if (q)
					q->ids_gen++;
			}
			pthread_rwlock_unlock(&e->cat);
		}
		pthread_mutex_unlock(&e->wmu);
		if (rc == 0)
			del_apply(e, c, &a);
		unlock_parts(a.parts, a.nparts);
		if (rc != -EAGAIN || p)
			break;
		mfs_err_clear(err);
	}
	if (rc == 0 && ndeleted)
		*ndeleted = a.nout;
	if (rc == 0 && a.nout)  /* SPEC §11: past 20% */
		eng_compact_auto_del(e, coll, a.out, a.nout);
	free(a.out);
unref:
	eng_part_unref(p);
	eng_coll_unref(c);
	return rc;
}

