/* insert.c - inserting and upserting entities (deletes: delete.c; counts,
 * reads and scans: read.c).
 *
 * Insert: validate the rows, then under part->wmu and e->wmu run one
 * store_write that assigns ids (from the collection's next_id), appends the
 * entities (store_ent_insert: EEXIST aborts everything) and rewrites the
 * collection record (next_id, and dim when it was 0).  After the commit the
 * cache takes the new record and count, and, if the partition is loaded,
 * the vectors go into its index under its write lock before eng_insert
 * returns (SPEC §4: Strong consistency).  part->wmu is what keeps a load
 * from missing them: a load holds it for its whole read.
 *
 * Delete: the same with every partition concerned locked in pid order;
 * the removed ids also go to part->bdel while an index build runs, so the
 * build's result drops them before it is swapped in.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"

static size_t row_line(const struct eng_rows *rows, size_t i)
{
	return rows->line ? rows->line[i] : i + 1;
}

int eng_check_dim(enum vec_type vt, uint32_t dim, struct mfs_err *err)
{
	if (vt == VEC_BINARY) {
		if (dim == 0 || dim % 8 || dim > MFS_DIM_MAX)
			return mfs_errf(err, -EINVAL,
					"invalid dimension: expected a multiple of 8 in [8, %d] for BINARY_VECTOR, got %u",
					MFS_DIM_MAX, dim);
		return 0;
	}
	if (dim < 2 || dim > MFS_DIM_MAX)
		return mfs_errf(err, -EINVAL,
				"invalid dimension: expected an integer in [2, %d], got %u",
				MFS_DIM_MAX, dim);
	return 0;
}

struct ins_arg {
	struct eng *e;
	struct eng_coll *c;
	struct eng_part *p;             /* the target, unless routed */
	const struct eng_rows *rows;
	const uint8_t *frows;           /* rows of fields in effect (the
					 * caller's, or defaults) */
	const size_t *frow_end;
	int64_t *ids;                   /* rows->n, filled in the txn */
	int64_t first_id;
	bool any_auto;
	struct store_coll rec;          /* out: record after the insert */
	struct store_part sp;           /* out: partition after the insert */

	/* Routed (partition key) and upsert writes: */
	bool upsert;
	struct eng_part **tp;           /* targets, pid order (routed) */
	size_t ntp;
	uint32_t *route;                /* rows->n: index into tp */
	struct store_part *tsp;         /* ntp: partitions after the write */
	int64_t *gids;                  /* gather scratch, rows->n */
	uint8_t *gvecs;
	uint8_t *grows;
	size_t *gend;
	size_t *route_line;
	struct del_pair *dout;          /* upsert: entities replaced */
	size_t ndout;
};

static void upsert_cb(void *arg, uint32_t pid, int64_t id)
{
	struct ins_arg *a = arg;

	a->dout[a->ndout++] = (struct del_pair){ pid, id };
}

/* Upsert: the ids that exist anywhere in the collection go first. */
static int upsert_delete(struct store_txn *txn, struct ins_arg *a,
			 struct mfs_err *err)
{
	size_t nd = 0;
	int rc;

	a->ndout = 0;
	rc = store_ent_delete(txn, a->c->cid, 0, a->ids, a->rows->n,
			      upsert_cb, a, &nd);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot replace entities");
	for (size_t i = 0; i < a->ndout; i++) {
		bool known = false;

		for (size_t j = 0; j < a->ntp; j++)
			if (a->tp[j]->pid == a->dout[i].pid)
				known = true;
		if (!known)
			return -EAGAIN; /* a partition created meanwhile */
	}
	return 0;
}

/* Gather the records that go to target t (a->tp[t]; without a route,
 * every record when t is a->p, else none) into the g* arrays; their
 * number. */
static size_t gather(struct ins_arg *a, size_t t)
{
	const struct eng_rows *rows = a->rows;
	size_t vb = vec_bytes(rows->vtype, rows->dim), m = 0, rl = 0;

	if (!a->route && a->tp[t] != a->p)
		return 0;
	for (size_t i = 0; i < rows->n; i++) {
		size_t r0, r1;

		if (a->route && a->route[i] != t)
			continue;
		a->gids[m] = a->ids[i];
		memcpy(a->gvecs + m * vb, (const uint8_t *)rows->vecs + i * vb,
		       vb);
		r0 = a->frow_end && i ? a->frow_end[i - 1] : 0;
		r1 = a->frow_end ? a->frow_end[i] : 0;
		if (r1 > r0)
			memcpy(a->grows + rl, a->frows + r0, r1 - r0);
		rl += r1 - r0;
		a->gend[m] = rl;
		a->route_line[m] = row_line(rows, i);
		m++;
	}
	return m;
}

/* Insert each target's records: gather them, one store_ent_insert each. */
static int routed_insert(struct store_txn *txn, struct ins_arg *a,
			 struct mfs_err *err)
{
	const struct eng_rows *rows = a->rows;
	size_t vb = vec_bytes(rows->vtype, rows->dim);

	for (size_t t = 0; t < a->ntp; t++) {
		struct eng_part *p = a->tp[t];
		size_t m = gather(a, t), dup = 0;
		int rc;

		rc = store_part_get(txn, a->c->cid, p->name, &a->tsp[t]);
		if (rc < 0)
			return eng_err_no_part(err, rc, p->name);
		if (m == 0)
			continue;
		rc = store_ent_insert(txn, &a->tsp[t], a->gids, a->gvecs, vb,
				      a->grows, a->gend, m, &dup);
		if (rc == -EEXIST)
			return mfs_errf(err, rc,
					"duplicate primary key: id %lld at line %zu already exists",
					(long long)a->gids[dup < m ? dup : 0],
					a->route_line[dup < m ? dup : 0]);
		if (rc < 0)
			return mfs_errf(err, rc,
					"cannot insert into partition %s",
					p->name);
	}
	return 0;
}

static int ins_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct ins_arg *a = arg;
	const struct eng_rows *rows = a->rows;
	char name[STORE_NAME_MAX + 1];
	size_t dup = 0;
	int rc;

	/* Under e->wmu the name cannot change (rename takes it too). */
	pthread_rwlock_rdlock(&a->e->cat);
	snprintf(name, sizeof(name), "%s", a->c->name);
	pthread_rwlock_unlock(&a->e->cat);
	rc = store_coll_get(txn, name, &a->rec);
	if (rc < 0)
		return eng_err_no_coll(err, rc, name);
	if (a->rec.dim == 0) {
		/* SPEC §3: no schema written, the first insert sets dim. */
		if (rows->vtype != (enum vec_type)a->rec.vtype &&
		    !a->rec.metric_set)
			a->rec.metric = rows->vtype == VEC_BINARY ? VEC_HAMMING
								  : VEC_L2;
		if (!vec_metric_fits((enum vec_metric)a->rec.metric,
				     rows->vtype))
			return mfs_errf(err, -EINVAL,
					"line %zu: vector type mismatch, expected %s, got %s",
					row_line(rows, 0),
					vec_type_name((enum vec_type)a->rec.vtype),
					vec_type_name(rows->vtype));
		a->rec.vtype = (uint8_t)rows->vtype;
		a->rec.dim = rows->dim;
	} else if (rows->vtype != (enum vec_type)a->rec.vtype) {
		return mfs_errf(err, -EINVAL,
				"line %zu: vector type mismatch, expected %s, got %s",
				row_line(rows, 0),
				vec_type_name((enum vec_type)a->rec.vtype),
				vec_type_name(rows->vtype));
	} else if (rows->dim != a->rec.dim) {
		return mfs_errf(err, -EINVAL,
				"line %zu: vector dimension mismatch, expected %u, got %u",
				row_line(rows, 0), a->rec.dim, rows->dim);
	}
	a->any_auto = false;
	for (size_t i = 0; i < rows->n; i++) {
		if (rows->has_id && rows->has_id[i]) {
			int64_t id = rows->ids[i];

			a->ids[i] = id;
			if (id >= 0 && (uint64_t)id >= a->rec.next_id &&
			    id < INT64_MAX)
				a->rec.next_id = (uint64_t)id + 1;
		} else {
			if (a->rec.next_id >= (uint64_t)INT64_MAX)
				return mfs_errf(err, -EINVAL,
						"line %zu: auto ids exhausted",
						row_line(rows, i));
			a->ids[i] = (int64_t)a->rec.next_id++;
			if (!a->any_auto)
				a->first_id = a->ids[i];
			a->any_auto = true;
		}
	}
	if (a->upsert) {
		rc = upsert_delete(txn, a, err);
		if (rc < 0)
			return rc;
	}
	if (a->tp) {
		rc = routed_insert(txn, a, err);
		if (rc < 0)
			return rc;
		goto put;
	}
	rc = store_part_get(txn, a->c->cid, a->p->name, &a->sp);
	if (rc < 0)
		return eng_err_no_part(err, rc, a->p->name);
	rc = store_ent_insert(txn, &a->sp, a->ids, rows->vecs,
			      vec_bytes(rows->vtype, rows->dim), a->frows,
			      a->frow_end, rows->n, &dup);
	if (rc == -EEXIST)
		return mfs_errf(err, rc,
				"duplicate primary key: id %lld at line %zu already exists",
				(long long)a->ids[dup < rows->n ? dup : 0],
				row_line(rows, dup < rows->n ? dup : 0));
	if (rc < 0)
		return mfs_errf(err, rc, "cannot insert into partition %s",
				a->p->name);
put:
	rc = store_coll_put(txn, name, &a->rec);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot update collection %s", name);
	return 0;
}

static int check_rows(const struct eng_rows *rows, struct mfs_err *err)
{
	int rc = eng_check_dim(rows->vtype, rows->dim, err);

	if (rc < 0)
		return mfs_err_prefix(err, rc, "line %zu", row_line(rows, 0));
	if (rows->vtype == VEC_FLOAT) {
		const float *v = rows->vecs;

		for (size_t i = 0; i < rows->n; i++)
			for (uint32_t j = 0; j < rows->dim; j++)
				if (!isfinite(v[i * rows->dim + j]))
					return mfs_errf(err, -EINVAL,
							"line %zu: vector holds NaN or Inf at position %u",
							row_line(rows, i), j + 1);
	}
	return 0;
}

/* Add entities to a loaded partition's index and columns (caller holds
 * p->wmu).  rows/row_end as in eng_rows (NULL: empty rows). */
static int part_add(struct eng *e, struct eng_part *p,
		    const struct store_coll *rec, const int64_t *ids,
		    const void *vecs, const uint8_t *rows,
		    const size_t *row_end, size_t n, struct mfs_err *err)
{
	int rc = 0;

	if (atomic_load(&p->state) != ENG_LOADED)
		return 0;
	pthread_rwlock_wrlock(&p->ilock);
	if (!p->ix) {
		/* Loaded while the collection had no dim yet. */
		const struct idx_type *t;
		struct mfs_kv canon;
		struct idx_info info;

		eng_rec_info(e, rec, &info);
		rc = eng_rec_index(rec, &t, &canon, err);
		if (rc == 0)
			rc = t->build(&info, &canon, ids, vecs, n, NULL, &p->ix,
				      err);
	} else {
		rc = p->ix->type->add(p->ix, ids, vecs, n, err);
	}
	if (rc == 0) {
		size_t m = p->ix->type->memory_bytes(p->ix);

		eng_mem_adjust(e, (int64_t)m - (int64_t)p->mem_bytes);
		p->mem_bytes = m;
	}
	if (rc == 0 && p->cols &&
	    eng_cols_append(e, p->cols, ids, rows, row_end, n) < 0)
		rc = mfs_errf(err, -ENOMEM, "out of memory adding fields");
	pthread_rwlock_unlock(&p->ilock);
	/* SPEC §11: a load after a crash adds at most ENG_FOLD_EVERY. */
	p->unfolded += n;
	if (rc == 0 && p->unfolded >= ENG_FOLD_EVERY)
		eng_part_checkpoint_rec(e, rec, p);
	return rc;
}

static int cmp_id_line(const void *x, const void *y)
{
	const struct del_pair *a = x, *b = y;

	if (a->id != b->id)
		return a->id < b->id ? -1 : 1;
	return (a->pid > b->pid) - (a->pid < b->pid);
}

/* After the commit: replaced entities leave the loaded partitions, new
 * ones enter them (caller holds the partitions' wmu). */
static int apply_rows(struct eng *e, struct ins_arg *a, const char *coll,
		      struct mfs_err *err)
{
	const struct eng_rows *rows = a->rows;
	bool several = a->tp && (a->ntp > 1 || a->ndout);
	int rc = 0;

	if (several)
		pthread_rwlock_wrlock(&a->c->plock);
	if (a->ndout)
		eng_remove_loaded(e, a->tp, a->ntp, a->dout, a->ndout);
	if (!a->tp || !a->route) {
		struct eng_part *p = a->p;

		rc = part_add(e, p, &a->rec, a->ids, rows->vecs, a->frows,
			      a->frow_end, rows->n, err);
		goto out;
	}
	for (size_t t = 0; t < a->ntp && rc == 0; t++) {
		size_t m = gather(a, t);

		if (m)
			rc = part_add(e, a->tp[t], &a->rec, a->gids, a->gvecs,
				      a->grows, a->gend, m, err);
	}
out:
	if (several)
		pthread_rwlock_unlock(&a->c->plock);
	if (rc < 0) {
		mfs_log(MFS_LOG_ERROR,
			"insert into %s: stored but not searchable until reloaded: %s",
			coll, err ? err->msg : "");
		rc = mfs_err_prefix(err, rc, "entities stored but not loaded");
	}
	return rc;
}

static void ins_free(struct ins_arg *a)
{
	free(a->ids);
	free(a->route);
	free(a->tsp);
	free(a->gids);
	free(a->gvecs);
	free(a->grows);
	free(a->gend);
	free(a->route_line);
	free(a->dout);
}

/* The rows of fields in effect: the caller's, checked against the
 * collection's schema, or defaults made here (owned by *buf). */
static int ins_rows(struct ins_arg *a, struct eng_fields *f,
		    struct mfs_buf *buf, size_t **ends, struct mfs_err *err)
{
	const struct eng_rows *rows = a->rows;

	/* Without fields the entity is id and vector, as in layout 1: the
	 * parser's empty rows are not stored. */
	if (rows->row_end && f->s.n == 0 && !f->s.dynamic)
		return 0;
	if (rows->row_end) {
		if (!rows->fields || !eng_fields_same(rows->fields, f))
			return mfs_errf(err, -EINVAL,
					"the schema of collection %s changed during the write, write again",
					a->c->name);
		for (size_t i = 0; i < rows->n; i++) {
			size_t r0 = i ? rows->row_end[i - 1] : 0;

			if (fld_row_check(&f->s, rows->rows + r0,
					  rows->row_end[i] - r0) < 0)
				return mfs_errf(err, -EINVAL,
						"line %zu: malformed fields",
						row_line(rows, i));
		}
		a->frows = rows->rows;
		a->frow_end = rows->row_end;
		return 0;
	}
	if (f->s.n == 0)
		return 0;
	*ends = malloc(rows->n * sizeof(**ends));
	if (!*ends)
		return mfs_errf(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < rows->n; i++) {
		int rc = fld_row_default(buf, &f->s, row_line(rows, i), err);

		if (rc < 0)
			return rc;
		(*ends)[i] = buf->len;
	}
	a->frows = (const uint8_t *)buf->data;
	a->frow_end = *ends;
	return 0;
}

/* Route each record to its partition by the partition key's hash
 * (SPEC §8): partitions _default_0 ... _default_N-1 among a->tp. */
static int ins_route(struct ins_arg *a, struct eng_fields *f,
		     struct mfs_err *err)
{
	const struct fld_schema *s = &f->s;
	const struct eng_rows *rows = a->rows;

	a->route = malloc(rows->n * sizeof(*a->route));
	if (!a->route)
		return mfs_errf(err, -ENOMEM, "out of memory");
	if (s->pk < 0) {
		/* By the partition each record names (else _default). */
		for (size_t i = 0; i < rows->n; i++) {
			const char *want = rows->parts && rows->parts[i] ?
				rows->parts[i] : ENG_DEFAULT_PARTITION;
			size_t t;

			for (t = 0; t < a->ntp; t++)
				if (strcmp(a->tp[t]->name, want) == 0)
					break;
			if (t == a->ntp)
				return mfs_err_prefix(err,
						      eng_err_no_part(err, -ENOENT, want),
						      "line %zu", row_line(rows, i));
			a->route[i] = (uint32_t)t;
		}
		return 0;
	}
	for (size_t i = 0; i < rows->n; i++) {
		struct fld_value v;
		char want[STORE_NAME_MAX + 1];
		size_t r0 = a->frow_end && i ? a->frow_end[i - 1] : 0;
		size_t t;

		fld_row_get(s, a->frows + r0, a->frow_end[i] - r0,
			    (size_t)s->pk, &v);
		if (v.type == FLD_NONE)
			return mfs_errf(err, -EINVAL,
					"line %zu: partition key %s is null",
					row_line(rows, i), s->f[s->pk].name);
		snprintf(want, sizeof(want), "%s_%llu", ENG_DEFAULT_PARTITION,
			 (unsigned long long)(fld_value_hash(&v) %
					      s->num_partitions));
		for (t = 0; t < a->ntp; t++)
			if (strcmp(a->tp[t]->name, want) == 0)
				break;
		if (t == a->ntp)
			return mfs_errf(err, -EIO,
					"partition %s of the partition key is missing",
					want);
		a->route[i] = (uint32_t)t;
	}
	return 0;
}

/* Insert or upsert rows into coll/part: one transaction.  Routed
 * (partition key) and upsert writes lock every partition of the
 * collection; a plain insert locks its target only. */
static int write_rows(struct eng *e, const char *coll, const char *part,
		      const struct eng_rows *rows, bool upsert,
		      int64_t *first_id, size_t *nnew, struct mfs_err *err)
{
	struct ins_arg a = { .e = e, .rows = rows, .upsert = upsert };
	struct eng_fields *f = NULL;
	struct mfs_buf dbuf;
	size_t *dends = NULL;
	bool routed, all;
	int rc;

	mfs_buf_init(&dbuf, SIZE_MAX);
	rc = eng_lookup(e, coll, part ? part : NULL, &a.c, part ? &a.p : NULL,
			NULL, err);
	if (rc < 0)
		return rc;
	f = eng_coll_fields(e, a.c);
	routed = f->s.pk >= 0;
	if (routed && part) {
		rc = mfs_errf(err, -EINVAL,
			      "not support manually specifying the partition names if partition key mode is used");
		goto unref;
	}
	for (size_t i = 0; rows->parts && i < rows->n; i++) {
		const char *pn = rows->parts[i];

		if (!pn)
			continue;
		if (f->s.pk >= 0) {
			rc = mfs_errf(err, -EINVAL,
				      "line %zu: not support manually specifying the partition names if partition key mode is used",
				      row_line(rows, i));
			goto unref;
		}
		if (part && strcmp(pn, part) != 0) {
			rc = mfs_errf(err, -EINVAL,
				      "line %zu: the record names partition %s but is written to partition %s",
				      row_line(rows, i), pn, part);
			goto unref;
		}
		if (!part)
			routed = true;  /* by the names */
	}
	if (!routed && !a.p) {
		pthread_rwlock_rdlock(&e->cat);
		a.p = eng_part_find(a.c, ENG_DEFAULT_PARTITION);
		if (a.p)
			eng_part_ref(a.p);
		pthread_rwlock_unlock(&e->cat);
		if (!a.p) {
			rc = eng_err_no_part(err, -ENOENT, ENG_DEFAULT_PARTITION);
			goto unref;
		}
	}
	if (rows->n == 0)
		goto unref;
	if (f->s.pk >= 0) {
		/* Partitions of the key a crash or a failed create left
		 * missing are made now. */
		rc = eng_pk_parts(e, coll, err);
		if (rc < 0)
			goto unref;
	}
	rc = check_rows(rows, err);
	if (rc < 0)
		goto unref;
	if (upsert) {
		for (size_t i = 0; i < rows->n; i++)
			if (!rows->has_id || !rows->has_id[i]) {
				rc = mfs_errf(err, -EINVAL,
					      "line %zu: upsert needs an id for every entity",
					      row_line(rows, i));
				goto unref;
			}
	}
	rc = ins_rows(&a, f, &dbuf, &dends, err);
	if (rc < 0)
		goto unref;
	a.ids = malloc(rows->n * sizeof(*a.ids));
	if (!a.ids) {
		rc = mfs_errf(err, -ENOMEM, "out of memory");
		goto unref;
	}
	all = routed || upsert;
	for (;;) {
		if (all) {
			size_t vb = vec_bytes(rows->vtype, rows->dim);
			size_t rb = a.frow_end ? a.frow_end[rows->n - 1] : 0;

			rc = eng_parts_get(e, a.c, &a.tp, &a.ntp);
			if (rc == 0) {
				free(a.tsp);
				a.tsp = calloc(a.ntp, sizeof(*a.tsp));
				if (!a.gids) {
					a.gids = malloc(rows->n * sizeof(*a.gids));
					a.gvecs = malloc(rows->n * vb + 1);
					a.grows = malloc(rb + 1);
					a.gend = malloc(rows->n * sizeof(*a.gend));
					a.route_line = malloc(rows->n * sizeof(size_t));
					a.dout = malloc(rows->n * sizeof(*a.dout));
				}
				if (!a.tsp || !a.gids || !a.gvecs ||
				    !a.grows || !a.gend || !a.route_line ||
				    !a.dout)
					rc = -ENOMEM;
			}
			if (rc < 0) {
				rc = mfs_errf(err, -ENOMEM, "out of memory");
				if (a.tp)
					eng_parts_put(a.tp, a.ntp);
				a.tp = NULL;
				break;
			}
			if (routed) {
				free(a.route);
				a.route = NULL;
				rc = ins_route(&a, f, err);
				if (rc < 0) {
					eng_parts_put(a.tp, a.ntp);
					a.tp = NULL;
					break;
				}
			} else {
				/* Upsert into one partition: it is a->tp's
				 * only target. */
				bool found = false;

				for (size_t t = 0; t < a.ntp; t++)
					if (a.tp[t] == a.p)
						found = true;
				if (!found) {
					eng_parts_put(a.tp, a.ntp);
					a.tp = NULL;
					rc = eng_err_no_part(err, -ENOENT, a.p->name);
					break;
				}
			}
			for (size_t t = 0; t < a.ntp; t++)
				pthread_mutex_lock(&a.tp[t]->wmu);
		} else {
			pthread_mutex_lock(&a.p->wmu);
		}
		pthread_mutex_lock(&e->wmu);
		if (a.p && a.p->dropped)
			rc = eng_err_no_part(err, -ENOENT, a.p->name);
		else if (!eng_fields_same(f, a.c->fields))
			rc = mfs_errf(err, -EINVAL,
				      "the schema of collection %s changed during the write, write again",
				      coll);
		else
			rc = store_write(e->st, ins_txn, &a, err);
		if (rc == 0) {
			pthread_rwlock_wrlock(&e->cat);
			a.c->rec = a.rec;
			if (all) {
				for (size_t i = 0; i < a.ndout; i++) {
					struct eng_part *q = eng_part_by_pid(
						a.c, a.dout[i].pid);

					if (q && q->count)
						q->count--;
					if (q)
						q->ids_gen++;
				}
				for (size_t t = 0; t < a.ntp; t++) {
					a.tp[t]->ids_gen++;
					if (routed)
						a.tp[t]->count = a.tsp[t].count;
					else if (a.tp[t] == a.p)
						a.p->count = a.tsp[t].count;
				}
			} else {
				a.p->count = a.sp.count;
			}
			if (a.p)
				a.p->ids_gen++;
			pthread_rwlock_unlock(&e->cat);
		}
		pthread_mutex_unlock(&e->wmu);
		if (rc == 0)
			rc = apply_rows(e, &a, coll, err);
		if (all) {
			for (size_t t = a.ntp; t > 0; t--)
				pthread_mutex_unlock(&a.tp[t - 1]->wmu);
			eng_parts_put(a.tp, a.ntp);
			a.tp = NULL;
		} else {
			pthread_mutex_unlock(&a.p->wmu);
		}
		if (rc != -EAGAIN)
			break;
		mfs_err_clear(err);
	}
	if (rc == 0 && first_id && a.any_auto)
		*first_id = a.first_id;
	if (rc == 0 && nnew)
		*nnew = rows->n - a.ndout;
	if (rc == 0 && a.ndout)         /* SPEC §11: past 20% */
		eng_compact_auto_del(e, coll, a.dout, a.ndout);
unref:
	ins_free(&a);
	free(dends);
	mfs_buf_fini(&dbuf);
	eng_fields_put(f);
	eng_part_unref(a.p);
	eng_coll_unref(a.c);
	return rc;
}

int eng_insert(struct eng *e, const char *coll, const char *part,
	       const struct eng_rows *rows, int64_t *first_id,
	       struct mfs_err *err)
{
	return write_rows(e, coll, part, rows, false, first_id, NULL, err);
}

int eng_upsert(struct eng *e, const char *coll, const char *part,
	       const struct eng_rows *rows, size_t *nnew,
	       struct mfs_err *err)
{
	/* One id twice in one upsert: which one wins would be a guess. */
	if (rows->has_id && rows->n > 1) {
		struct del_pair *s = malloc(rows->n * sizeof(*s));

		if (!s)
			return mfs_errf(err, -ENOMEM, "out of memory");
		size_t m = 0;

		for (size_t i = 0; i < rows->n; i++)
			if (rows->has_id[i])
				s[m++] = (struct del_pair){
					(uint32_t)row_line(rows, i),
					rows->ids[i] };
		qsort(s, m, sizeof(*s), cmp_id_line);
		for (size_t i = 1; i < m; i++)
			if (s[i].id == s[i - 1].id) {
				int rc = mfs_errf(err, -EINVAL,
						  "duplicate primary key %lld in one upsert, at lines %u and %u",
						  (long long)s[i].id,
						  s[i - 1].pid, s[i].pid);
				free(s);
				return rc;
			}
		free(s);
	}
	return write_rows(e, coll, part, rows, true, NULL, nnew, err);
}

