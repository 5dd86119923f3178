/* insert.c - inserting, deleting, counting and reading entities.
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
		if (dim == 0 || dim % 8 || dim > ENG_DIM_MAX)
			return mfs_errf(err, -EINVAL,
					"invalid dimension: expected a multiple of 8 in [8, %d] for BINARY_VECTOR, got %u",
					ENG_DIM_MAX, dim);
		return 0;
	}
	if (dim < 2 || dim > ENG_DIM_MAX)
		return mfs_errf(err, -EINVAL,
				"invalid dimension: expected an integer in [2, %d], got %u",
				ENG_DIM_MAX, dim);
	return 0;
}

struct del_pair {
	uint32_t pid;
	int64_t id;
};

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

/* Insert each target's records: gather them, one store_ent_insert each. */
static int routed_insert(struct store_txn *txn, struct ins_arg *a,
			 struct mfs_err *err)
{
	const struct eng_rows *rows = a->rows;
	size_t vb = vec_bytes(rows->vtype, rows->dim);

	for (size_t t = 0; t < a->ntp; t++) {
		struct eng_part *p = a->tp[t];
		size_t m = 0, rl = 0, dup = 0;
		int rc;

		for (size_t i = 0; i < rows->n; i++) {
			size_t r0, r1;

			if (a->route && a->route[i] != t)
				continue;
			if (!a->route && p != a->p)
				break;
			a->gids[m] = a->ids[i];
			memcpy(a->gvecs + m * vb,
			       (const uint8_t *)rows->vecs + i * vb, vb);
			r0 = a->frow_end && i ? a->frow_end[i - 1] : 0;
			r1 = a->frow_end ? a->frow_end[i] : 0;
			if (r1 > r0)
				memcpy(a->grows + rl, a->frows + r0, r1 - r0);
			rl += r1 - r0;
			a->gend[m] = rl;
			a->route_line[m] = row_line(rows, i);
			m++;
		}
		rc = store_part_get(txn, a->c->cid, p->name, &a->tsp[t]);
		if (rc < 0)
			return mfs_errf(err, rc,
					"partition not found[partition=%s]",
					p->name);
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
		return mfs_errf(err, rc, "collection not found[collection=%s]",
				name);
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
		return mfs_errf(err, rc, "partition not found[partition=%s]",
				a->p->name);
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
	return rc;
}

static void remove_loaded(struct eng *e, struct eng_part **parts,
			  size_t nparts, struct del_pair *out, size_t nout);

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
	size_t vb = vec_bytes(rows->vtype, rows->dim);
	int rc = 0;

	if (a->ndout)
		remove_loaded(e, a->tp, a->ntp, a->dout, a->ndout);
	if (!a->tp || !a->route) {
		struct eng_part *p = a->p;

		rc = part_add(e, p, &a->rec, a->ids, rows->vecs, a->frows,
			      a->frow_end, rows->n, err);
		goto out;
	}
	for (size_t t = 0; t < a->ntp && rc == 0; t++) {
		size_t m = 0, rl = 0;

		for (size_t i = 0; i < rows->n; i++) {
			size_t r0, r1;

			if (a->route[i] != t)
				continue;
			a->gids[m] = a->ids[i];
			memcpy(a->gvecs + m * vb,
			       (const uint8_t *)rows->vecs + i * vb, vb);
			r0 = a->frow_end && i ? a->frow_end[i - 1] : 0;
			r1 = a->frow_end ? a->frow_end[i] : 0;
			if (r1 > r0)
				memcpy(a->grows + rl, a->frows + r0, r1 - r0);
			rl += r1 - r0;
			a->gend[m] = rl;
			m++;
		}
		if (m)
			rc = part_add(e, a->tp[t], &a->rec, a->gids, a->gvecs,
				      a->grows, a->gend, m, err);
	}
out:
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
				return mfs_errf(err, -ENOENT,
						"line %zu: partition not found[partition=%s]",
						row_line(rows, i), want);
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
			rc = mfs_errf(err, -ENOENT,
				      "partition not found[partition=%s]",
				      ENG_DEFAULT_PARTITION);
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
					rc = mfs_errf(err, -ENOENT,
						      "partition not found[partition=%s]",
						      a.p->name);
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
			rc = mfs_errf(err, -ENOENT,
				      "partition not found[partition=%s]",
				      a.p->name);
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
				}
				for (size_t t = 0; t < a.ntp; t++) {
					if (routed)
						a.tp[t]->count = a.tsp[t].count;
					else if (a.tp[t] == a.p)
						a.p->count = a.tsp[t].count;
				}
			} else {
				a.p->count = a.sp.count;
			}
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

/* ---- delete ---- */

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
static void remove_loaded(struct eng *e, struct eng_part **parts,
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
	}
	free(ids);
}

static void del_apply(struct eng *e, struct del_arg *a)
{
	remove_loaded(e, a->parts, a->nparts, a->out, a->nout);
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
			}
			pthread_rwlock_unlock(&e->cat);
		}
		pthread_mutex_unlock(&e->wmu);
		if (rc == 0)
			del_apply(e, &a);
		unlock_parts(a.parts, a.nparts);
		if (rc != -EAGAIN || p)
			break;
		mfs_err_clear(err);
	}
	if (rc == 0 && ndeleted)
		*ndeleted = a.nout;
	free(a.out);
unref:
	eng_part_unref(p);
	eng_coll_unref(c);
	return rc;
}

/* ---- reading ---- */

int eng_count(struct eng *e, const char *coll, const char *part,
	      uint64_t *out, struct mfs_err *err)
{
	struct eng_coll *c;
	uint64_t n = 0;

	pthread_rwlock_rdlock(&e->cat);
	c = eng_coll_find(e, coll);
	if (!c) {
		pthread_rwlock_unlock(&e->cat);
		return mfs_errf(err, -ENOENT,
				"collection not found[collection=%s]", coll);
	}
	if (part) {
		struct eng_part *p = eng_part_find(c, part);

		if (!p) {
			pthread_rwlock_unlock(&e->cat);
			return mfs_errf(err, -ENOENT,
					"partition not found[partition=%s]",
					part);
		}
		n = p->count;
	} else {
		for (size_t i = 0; i < c->nparts; i++)
			n += c->parts[i]->count;
	}
	pthread_rwlock_unlock(&e->cat);
	*out = n;
	return 0;
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
	if (p) {
		a.parts = &p;
		a.nparts = 1;
	} else {
		rc = eng_parts_get(e, c, &a.parts, &a.nparts);
		if (rc < 0) {
			rc = mfs_errf(err, rc, "out of memory");
			goto unref;
		}
	}
	rc = store_read(e->st, scan_txn, &a, err);
	if (rc == 0 || rc == a.cbrc)
		*cur = a.cur;
	if (!p)
		eng_parts_put(a.parts, a.nparts);
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
