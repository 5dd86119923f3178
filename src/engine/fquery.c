/* fquery.c - scalar queries over loaded partitions (SPEC §9) and delete by
 * filter (SPEC §8).
 *
 * A query is consistent as of its start: for each partition it keeps a
 * reference to the columns (not to the load: a release does not wait for
 * a slow reader), the number of rows then (rows appended later are not
 * seen) and the delete epoch then (rows deleted later still are).  Rows
 * never change once appended, so reading row r later reads what was
 * there at the start.
 *
 * Order: matches come in ascending id order, merged over partitions.
 * Within a partition rows are in append order, which is id order while
 * ids only grew (fld_cols id_sorted: the common case of auto ids); else
 * the query sorts the row numbers by id once (cached in the columns until
 * rows are appended).
 *
 * Matching: a partition is scanned in that order in blocks of FQ_BLOCK
 * rows, each evaluated by fld_expr_eval (column at a time), and only as
 * far as the caller reads: `limit=100` at 50% selectivity evaluates a few
 * hundred rows.  When a scalar index can answer the filter
 * (fld_expr_select) and the scan did not find enough matches in its first
 * FQ_PROBE rows, or for count(*), the index gives the exact matching rows
 * instead.  Memory: the block buffers, plus 4 bytes per match when an
 * index selected them.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FQ_BLOCK 1024
#define FQ_PROBE 8192

struct fq_part {
	struct eng_part *p;             /* a reference (its name) */
	struct eng_cols *k;             /* a reference */
	size_t nrows;                   /* rows as of the start */
	uint32_t epoch;                 /* delete epoch as of the start */
	uint32_t *order;                /* nrows rows in id order; NULL while
					 * id order = row order */
	uint32_t *sel;                  /* exact matches (an index said), in
					 * id order, from selpos on; NULL:
					 * scanning */
	size_t nsel, selpos;
	size_t pos;                     /* scan: next position in order */
	bool tried;                     /* fld_expr_select was asked */
	/* matches found and not yet given, in id order */
	uint32_t buf[FQ_BLOCK];
	int64_t bid[FQ_BLOCK];
	size_t nbuf, bpos;
	bool done;                      /* nothing more to find */
};

struct eng_fq {
	struct eng *e;
	struct eng_fquery q;
	struct eng_coll *c;
	struct eng_fields *fields;
	size_t vb;                      /* vector bytes */
	struct fq_part *fp;
	size_t nfp;
	uint64_t count;                 /* count(*) */
	uint64_t skipped, given;        /* offset skipped, matches given */
	void *vbuf;                     /* q.vectors: one vector */
};

static inline size_t row_at(const struct fq_part *f, size_t i)
{
	return f->order ? f->order[i] : i;
}

/* ---- order ---- */

struct sort_ctx {
	const int64_t *ids;
};

static int cmp_rows_by_id(const void *x, const void *y, void *ctx)
{
	const int64_t *ids = ((struct sort_ctx *)ctx)->ids;
	int64_t a = ids[*(const uint32_t *)x], b = ids[*(const uint32_t *)y];

	return (a > b) - (a < b);
}

/* Sort rows[0, n) by id (caller holds k->lock for reading). */
static void sort_by_id(const struct eng_cols *k, uint32_t *rows, size_t n)
{
	struct sort_ctx ctx = { k->c.ids };

	qsort_r(rows, n, sizeof(*rows), cmp_rows_by_id, &ctx);
}

/* f->order for rows [0, nrows): from the columns' cache, or made and
 * cached.  Caller holds no lock. */
static int make_order(struct fq_part *f)
{
	struct eng_cols *k = f->k;
	uint32_t *o = malloc((f->nrows ? f->nrows : 1) * sizeof(*o));

	if (!o)
		return -ENOMEM;
	pthread_rwlock_rdlock(&k->lock);
	if (k->perm && k->nperm == f->nrows) {
		memcpy(o, k->perm, f->nrows * sizeof(*o));
		pthread_rwlock_unlock(&k->lock);
		f->order = o;
		return 0;
	}
	for (size_t i = 0; i < f->nrows; i++)
		o[i] = (uint32_t)i;
	sort_by_id(k, o, f->nrows);
	pthread_rwlock_unlock(&k->lock);
	f->order = o;
	/* Cache it for the next query while no row came meanwhile. */
	pthread_rwlock_wrlock(&k->lock);
	if (k->c.n == f->nrows && k->nperm != f->nrows) {
		uint32_t *c = realloc(k->perm, (f->nrows ? f->nrows : 1) *
					       sizeof(*c));

		if (c) {
			memcpy(c, o, f->nrows * sizeof(*c));
			k->perm = c;
			k->nperm = f->nrows;
		}
	}
	pthread_rwlock_unlock(&k->lock);
	return 0;
}

/* ---- matching ---- */

/* Select the exact matches of f through a scalar index, if one helps;
 * rows already scanned (positions below f->pos, id order) are left out.
 * Caller holds k->lock for reading.  1 selected, 0 no index, -ENOMEM. */
static int try_select(struct eng_fq *j, struct fq_part *f)
{
	const struct fld_cols *c = &f->k->c;
	uint32_t *rows = NULL;
	size_t n = 0, m = 0;
	int rc;

	if (!j->q.filter || f->tried)
		return 0;
	f->tried = true;
	rc = fld_expr_select(j->q.filter, c, f->nrows, &rows, &n);
	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (fld_cols_visible(c, rows[i], f->epoch))
			rows[m++] = rows[i];
	if (!c->id_sorted)
		sort_by_id(f->k, rows, m);
	if (f->pos) {
		/* Drop what the scan covered: ids up to the last scanned
		 * row's. */
		int64_t last = c->ids[row_at(f, f->pos - 1)];
		size_t s = 0;

		while (s < m && c->ids[rows[s]] <= last)
			s++;
		memmove(rows, rows + s, (m - s) * sizeof(*rows));
		m -= s;
	}
	f->sel = rows;
	f->nsel = m;
	f->selpos = 0;
	return 1;
}

/* Fill f->buf with the next matches.  Caller holds k->lock for reading. */
static int fill(struct eng_fq *j, struct fq_part *f)
{
	const struct fld_cols *c = &f->k->c;
	uint32_t rows[FQ_BLOCK];
	uint8_t match[FQ_BLOCK];

	f->nbuf = f->bpos = 0;
	if (f->sel) {
		size_t m = f->nsel - f->selpos;

		if (m > FQ_BLOCK)
			m = FQ_BLOCK;
		for (size_t i = 0; i < m; i++) {
			f->buf[i] = f->sel[f->selpos + i];
			f->bid[i] = c->ids[f->buf[i]];
		}
		f->selpos += m;
		f->nbuf = m;
		if (m == 0)
			f->done = true;
		return 0;
	}
	while (f->nbuf == 0 && f->pos < f->nrows) {
		size_t b = f->nrows - f->pos;

		if (b > FQ_BLOCK)
			b = FQ_BLOCK;
		if (f->pos >= FQ_PROBE && j->q.filter && !f->sel) {
			int rc = try_select(j, f);

			if (rc < 0)
				return rc;
			if (rc > 0)
				return fill(j, f);
		}
		for (size_t i = 0; i < b; i++)
			rows[i] = (uint32_t)row_at(f, f->pos + i);
		if (j->q.filter)
			fld_expr_eval(j->q.filter, c, rows, b, match);
		else
			memset(match, 1, b);
		for (size_t i = 0; i < b; i++)
			if (match[i] && fld_cols_visible(c, rows[i], f->epoch)) {
				f->buf[f->nbuf] = rows[i];
				f->bid[f->nbuf] = c->ids[rows[i]];
				f->nbuf++;
			}
		f->pos += b;
	}
	if (f->nbuf == 0)
		f->done = true;
	return 0;
}

/* The number of matches of f (caller holds k->lock for reading). */
static int count_part(struct eng_fq *j, struct fq_part *f, uint64_t *out)
{
	const struct fld_cols *c = &f->k->c;
	uint32_t rows[FQ_BLOCK];
	uint8_t match[FQ_BLOCK];
	uint64_t n = 0;
	int rc;

	rc = try_select(j, f);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		*out = f->nsel;
		return 0;
	}
	for (size_t pos = 0; pos < f->nrows; pos += FQ_BLOCK) {
		size_t b = f->nrows - pos;

		if (b > FQ_BLOCK)
			b = FQ_BLOCK;
		for (size_t i = 0; i < b; i++)
			rows[i] = (uint32_t)(pos + i);
		if (j->q.filter)
			fld_expr_eval(j->q.filter, c, rows, b, match);
		else
			memset(match, 1, b);
		for (size_t i = 0; i < b; i++)
			n += match[i] && fld_cols_visible(c, rows[i], f->epoch);
	}
	*out = n;
	return 0;
}

/* ---- partition-key pruning (SPEC §8) ---- */

struct pk_arg {
	uint32_t num;                   /* num_partitions */
	char (*names)[32];              /* the partitions named */
	size_t n, cap;
};

static void pk_cb(void *arg, const struct fld_value *v)
{
	struct pk_arg *a = arg;
	char name[32];

	snprintf(name, sizeof(name), "%s_%llu", ENG_DEFAULT_PARTITION,
		 (unsigned long long)(fld_value_hash(v) % a->num));
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->names[i], name) == 0)
			return;
	if (a->n == a->cap)
		return;         /* more values than partitions: cannot be */
	memcpy(a->names[a->n++], name, sizeof(name));
}

/* ---- the query ---- */
/* What the query sees: each partition's rows and delete epoch now.  Over
 * several partitions the snapshot is taken under the collection's plock,
 * as a search's (engine_int.h): a write that moves entities between
 * partitions (an upsert) applies under it as one, so the query sees the
 * move whole or not at all, never an entity twice or nowhere. */
static void snapshot(struct eng_fq *j)
{
	bool several = j->nfp > 1;

	if (several)
		pthread_rwlock_rdlock(&j->c->plock);
	for (size_t i = 0; i < j->nfp; i++) {
		struct fq_part *f = &j->fp[i];

		pthread_rwlock_rdlock(&f->k->lock);
		f->nrows = f->k->c.n;
		f->epoch = f->k->c.epoch;
		pthread_rwlock_unlock(&f->k->lock);
	}
	if (several)
		pthread_rwlock_unlock(&j->c->plock);
}


int eng_fq_start(struct eng *e, const char *coll, const char *part,
		 const struct eng_fquery *q, struct eng_fq **out,
		 struct mfs_err *err)
{
	struct eng_fq *j = calloc(1, sizeof(*j));
	struct eng_part *only = NULL, **parts = NULL;
	struct store_coll rec;
	size_t nparts = 0;
	int rc;

	if (!j)
		return mfs_errf(err, -ENOMEM, "out of memory");
	j->e = e;
	j->q = *q;
	rc = eng_lookup(e, coll, part, &j->c, part ? &only : NULL, &rec, err);
	if (rc < 0) {
		free(j);
		return rc;
	}
	j->fields = eng_coll_fields(e, j->c);
	j->vb = vec_bytes((enum vec_type)rec.vtype, rec.dim);
	if (!only && !q->nparts && q->filter && j->fields->s.pk >= 0) {
		/* A filter that fixes the partition key visits only the
		 * partitions its values hash to. */
		struct pk_arg a = { .num = j->fields->s.num_partitions };
		const char *names[FLD_NUM_PARTITIONS_MAX];

		a.cap = a.num;
		a.names = calloc(a.cap ? a.cap : 1, sizeof(*a.names));
		if (!a.names) {
			rc = mfs_errf(err, -ENOMEM, "out of memory");
			goto fail;
		}
		if (fld_expr_pk_values(q->filter, pk_cb, &a) == 1 && a.n) {
			for (size_t i = 0; i < a.n; i++)
				names[i] = a.names[i];
			rc = eng_resolve_parts(e, j->c, NULL, names, a.n,
					       &parts, &nparts, err);
		} else {
			rc = eng_resolve_parts(e, j->c, NULL, NULL, 0, &parts,
					       &nparts, err);
		}
		free(a.names);
	} else {
		rc = eng_resolve_parts(e, j->c, only, q->parts, q->nparts,
				       &parts, &nparts, err);
	}
	if (rc < 0)
		goto fail;
	j->fp = calloc(nparts ? nparts : 1, sizeof(*j->fp));
	if (!j->fp) {
		rc = mfs_errf(err, -ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < nparts; i++) {
		struct eng_part *p = parts[i];
		struct fq_part *f = &j->fp[j->nfp];

		rc = eng_part_cols_ensure(e, j->c, p, err);
		if (rc < 0)
			goto fail;
		pthread_rwlock_rdlock(&p->ilock);
		f->k = p->cols;
		if (f->k)
			eng_cols_ref(f->k);
		pthread_rwlock_unlock(&p->ilock);
		if (!f->k) {
			rc = mfs_errf(err, -ENODATA,
				      "partition not loaded[partition=%s]",
				      p->name);
			goto fail;
		}
		eng_part_ref(p);
		f->p = p;
		j->nfp++;
		if (!eng_fields_same(f->k->fields, j->fields)) {
			rc = mfs_errf(err, -EAGAIN,
				      "the schema of collection %s changed, query again",
				      coll);
			goto fail;
		}
	}
	snapshot(j);
	if (q->vectors) {
		j->vbuf = malloc(j->vb ? j->vb : 1);
		if (!j->vbuf) {
			rc = mfs_errf(err, -ENOMEM, "out of memory");
			goto fail;
		}
	}
	for (size_t i = 0; i < j->nfp; i++) {
		struct fq_part *f = &j->fp[i];
		bool sorted;

		pthread_rwlock_rdlock(&f->k->lock);
		sorted = f->k->c.id_sorted;
		pthread_rwlock_unlock(&f->k->lock);
		if (!sorted && make_order(f) < 0) {
			rc = mfs_errf(err, -ENOMEM, "out of memory");
			goto fail;
		}
	}
	if (q->count) {
		uint64_t total = 0;

		for (size_t i = 0; i < j->nfp; i++) {
			struct fq_part *f = &j->fp[i];
			uint64_t n = 0;

			pthread_rwlock_rdlock(&f->k->lock);
			rc = count_part(j, f, &n);
			pthread_rwlock_unlock(&f->k->lock);
			if (rc < 0) {
				rc = mfs_errf(err, rc, "out of memory");
				goto fail;
			}
			total += n;
		}
		total = total > q->offset ? total - q->offset : 0;
		if (q->limit && total > q->limit)
			total = q->limit;
		j->count = total;
	}
	eng_parts_put(parts, nparts);
	eng_part_unref(only);
	*out = j;
	return 0;
fail:
	eng_parts_put(parts, nparts);
	eng_part_unref(only);
	eng_fq_end(j);
	return rc;
}

uint64_t eng_fq_count(const struct eng_fq *j)
{
	return j->count;
}

/* The partition holding the smallest next id; NULL at the end.  Fills
 * buffers as needed (each under its columns' lock). */
static struct fq_part *next_part(struct eng_fq *j, int *rc)
{
	struct fq_part *best = NULL;

	for (size_t i = 0; i < j->nfp; i++) {
		struct fq_part *f = &j->fp[i];

		if (f->bpos == f->nbuf && !f->done) {
			pthread_rwlock_rdlock(&f->k->lock);
			*rc = fill(j, f);
			pthread_rwlock_unlock(&f->k->lock);
			if (*rc < 0)
				return NULL;
		}
		if (f->bpos < f->nbuf &&
		    (!best || f->bid[f->bpos] < best->bid[best->bpos]))
			best = f;
	}
	return best;
}

struct vec_arg {
	void *vec;
	size_t vb;
};

int eng_fq_next(struct eng_fq *j, size_t max,
		int (*cb)(void *arg, const struct eng_fq_row *r), void *arg,
		size_t *given, struct mfs_err *err)
{
	size_t n = 0;
	int rc = 0;

	*given = 0;
	if (j->q.count)
		return 0;
	while (n < max && (!j->q.limit || j->given < j->q.limit)) {
		struct fq_part *f = next_part(j, &rc);
		struct eng_fq_row r;
		bool have_vec = false;

		if (rc < 0)
			return mfs_errf(err, rc, "out of memory");
		if (!f)
			break;
		if (j->skipped < j->q.offset) {
			j->skipped++;
			f->bpos++;
			continue;
		}
		r.id = f->bid[f->bpos];
		r.part = f->p->name;
		r.row = f->buf[f->bpos];
		r.vec = NULL;
		if (j->q.vectors && j->vb) {
			/* From the store, outside every engine lock. */
			have_vec = eng_entity_read(j->e, j->c->cid, r.id,
						   j->vbuf, j->vb, NULL,
						   NULL) == 0;
			r.vec = have_vec ? j->vbuf : NULL;
		}
		pthread_rwlock_rdlock(&f->k->lock);
		r.cols = &f->k->c;
		rc = cb(arg, &r);
		pthread_rwlock_unlock(&f->k->lock);
		if (rc)
			break;
		f->bpos++;
		j->given++;
		n++;
	}
	*given = n;
	return rc;
}

void eng_fq_end(struct eng_fq *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->nfp; i++) {
		eng_cols_unref(j->fp[i].k);
		eng_part_unref(j->fp[i].p);
		free(j->fp[i].order);
		free(j->fp[i].sel);
	}
	free(j->fp);
	free(j->vbuf);
	eng_fields_put(j->fields);
	eng_coll_unref(j->c);
	free(j);
}

/* ---- delete by filter ---- */

struct ids_arg {
	int64_t *ids;
	size_t n, cap;
};

static int collect_id(void *arg, const struct eng_fq_row *r)
{
	struct ids_arg *a = arg;

	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 1024;
		int64_t *p = realloc(a->ids, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		a->ids = p;
		a->cap = cap;
	}
	a->ids[a->n++] = r->id;
	return 0;
}

int eng_filter_ids(struct eng *e, const char *coll, const char *part,
		   const struct fld_expr *x, int64_t **ids, size_t *n,
		   struct mfs_err *err)
{
	struct eng_fquery q = { .filter = x };
	struct eng_fq *j = NULL;
	struct eng_part **parts = NULL;
	struct eng_coll *c;
	struct eng_part *only = NULL;
	struct ids_arg a = { 0 };
	size_t nparts = 0, got;
	int rc;

	/* SPEC §8: every partition concerned must be loaded. */
	rc = eng_lookup(e, coll, part, &c, part ? &only : NULL, NULL, err);
	if (rc < 0)
		return rc;
	rc = eng_parts_get(e, c, &parts, &nparts);
	if (rc < 0) {
		rc = mfs_errf(err, rc, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nparts; i++) {
		struct eng_part *p = parts[i];
		int s = atomic_load(&p->state);

		if (only && p != only)
			continue;
		if (s == ENG_LOADING) {
			rc = mfs_errf(err, -EAGAIN,
				      "partition is loading[partition=%s]",
				      p->name);
			goto out;
		}
		if (s != ENG_LOADED) {
			rc = only ? mfs_errf(err, -ENODATA,
					     "partition not loaded[partition=%s]",
					     p->name)
				  : mfs_errf(err, -ENODATA,
					     "collection not loaded[collection=%s]",
					     coll);
			goto out;
		}
	}
	rc = eng_fq_start(e, coll, part, &q, &j, err);
	if (rc < 0)
		goto out;
	do {
		rc = eng_fq_next(j, 65536, collect_id, &a, &got, err);
	} while (rc == 0 && got);
	if (rc == -ENOMEM)
		rc = mfs_errf(err, rc, "out of memory");
	eng_fq_end(j);
out:
	if (rc == 0) {
		*ids = a.ids;
		*n = a.n;
	} else {
		free(a.ids);
	}
	eng_parts_put(parts, nparts);
	eng_part_unref(only);
	eng_coll_unref(c);
	return rc;
}

int eng_delete_filter(struct eng *e, const char *coll, const char *part,
		      const struct fld_expr *x, size_t *ndeleted,
		      struct mfs_err *err)
{
	int64_t *ids = NULL;
	size_t n = 0;
	int rc = eng_filter_ids(e, coll, part, x, &ids, &n, err);

	if (rc == 0)
		rc = eng_delete(e, coll, part, ids, n, ndeleted, err);
	free(ids);
	return rc;
}
