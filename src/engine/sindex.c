/* sindex.c - scalar indexes (SPEC §5: an index line with field=NAME).
 *
 * The declaration is kept with the field schema (a "scalar_index=NAME:TYPE"
 * line in the fields db, struct eng_fields.sidx); the index itself lives
 * in memory beside each loaded partition's columns (field/expr.h's
 * fld_sidx_*), built at load and here for the partitions loaded now.  It is
 * cheap to rebuild (a sort of one column), so it is not stored.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct sidx_arg {
	struct eng *e;
	struct eng_coll *c;
	const char *text;
	size_t len;
};

static int sidx_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct sidx_arg *a = arg;
	int rc = store_fields_put(txn, a->c->cid, a->text, a->len);

	if (rc < 0)
		return mfs_errf(err, rc, "cannot store the index of collection %s",
				a->c->name);
	return 0;
}

int eng_sindex_set(struct eng *e, const char *coll, const char *field,
		   const char *type, struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_fields *cur, *nf = NULL;
	struct eng_part **parts = NULL;
	size_t nparts = 0;
	struct mfs_buf text;
	char canon[16];
	bool drop;
	int i, rc;

	rc = eng_lookup(e, coll, NULL, &c, NULL, NULL, err);
	if (rc < 0)
		return rc;
	mfs_buf_init(&text, SIZE_MAX);
	cur = eng_coll_fields(e, c);
	i = fld_schema_find(&cur->s, field);
	if (i < 0 || cur->s.f[i].dynamic) {
		rc = mfs_errf(err, -EINVAL, "field %s not exist", field);
		goto out;
	}
	drop = strcmp(type, "NONE") == 0;
	if (!drop) {
		rc = fld_sidx_check(&cur->s.f[i], type, err);
		if (rc < 0)
			goto out;
	}
	snprintf(canon, sizeof(canon), "%s", drop ? "" : type);
	rc = eng_parts_get(e, c, &parts, &nparts);
	if (rc < 0) {
		rc = mfs_errf(err, rc, "out of memory");
		goto out;
	}
	for (size_t p = 0; p < nparts; p++)
		pthread_mutex_lock(&parts[p]->wmu);
	pthread_mutex_lock(&e->wmu);
	if (cur != c->fields) {
		rc = mfs_errf(err, -EAGAIN,
			      "the schema of collection %s changed, write the index again",
			      coll);
		goto unlock;
	}
	/* The new text: the schema, the other scalar indexes, this one. */
	rc = fld_schema_print(&text, &cur->s);
	for (size_t k = 0; rc == 0 && k < cur->s.n; k++) {
		const char *t = (int)k == i ? canon : cur->sidx[k];

		if (t[0])
			rc = mfs_buf_printf(&text, "scalar_index=%s:%s\n",
					    cur->s.f[k].name, t);
	}
	if (rc == 0)
		rc = eng_fields_new(text.data ? text.data : "", text.len, &nf,
				    err);
	else
		rc = mfs_errf(err, rc, "out of memory");
	if (rc == 0) {
		struct sidx_arg a = { e, c, text.data, text.len };

		rc = store_write(e->st, sidx_txn, &a, err);
	}
	if (rc == 0) {
		pthread_rwlock_wrlock(&e->cat);
		c->fields = nf;
		pthread_rwlock_unlock(&e->cat);
		nf = cur;       /* the catalog's old reference: put below */
	}
unlock:
	pthread_mutex_unlock(&e->wmu);
	/* Loaded partitions: build or drop now.  Their columns keep the
	 * schema they were loaded with (same fields; only sidx differs). */
	for (size_t p = 0; rc == 0 && p < nparts; p++) {
		struct eng_part *q = parts[p];

		pthread_rwlock_rdlock(&q->ilock);
		if (q->cols) {
			struct eng_cols *k = q->cols;
			size_t before, after;

			pthread_rwlock_wrlock(&k->lock);
			before = k->charged;
			if (drop)
				fld_sidx_drop(&k->c, (size_t)i);
			else
				rc = fld_sidx_build(&k->c, (size_t)i, type,
						    err);
			after = k->c.bytes + fld_sidx_bytes(&k->c) +
				k->nperm * sizeof(uint32_t);
			k->charged = after;
			pthread_rwlock_unlock(&k->lock);
			eng_mem_adjust(e, (int64_t)after - (int64_t)before);
		}
		pthread_rwlock_unlock(&q->ilock);
	}
	for (size_t p = nparts; p > 0; p--)
		pthread_mutex_unlock(&parts[p - 1]->wmu);
	eng_parts_put(parts, nparts);
out:
	eng_fields_put(nf);
	eng_fields_put(cur);
	mfs_buf_fini(&text);
	eng_coll_unref(c);
	return rc;
}

int eng_sindex_list(struct eng *e, const char *coll, struct eng_names *fields,
		    struct eng_names *types, struct mfs_err *err)
{
	struct eng_fields *f;
	size_t n = 0;
	int rc = eng_fields_get(e, coll, &f, err);

	if (rc < 0)
		return rc;
	memset(fields, 0, sizeof(*fields));
	memset(types, 0, sizeof(*types));
	for (size_t i = 0; f->sidx && i < f->s.n; i++)
		n += f->sidx[i][0] != 0;
	if (n) {
		fields->name = calloc(n, sizeof(char *));
		types->name = calloc(n, sizeof(char *));
		if (!fields->name || !types->name)
			goto nomem;
	}
	for (size_t i = 0; f->sidx && i < f->s.n; i++) {
		if (!f->sidx[i][0])
			continue;
		fields->name[fields->n] = strdup(f->s.f[i].name);
		if (!fields->name[fields->n])
			goto nomem;
		fields->n++;
		types->name[types->n] = strdup(f->sidx[i]);
		if (!types->name[types->n])
			goto nomem;
		types->n++;
	}
	eng_fields_put(f);
	return 0;
nomem:
	eng_names_free(fields);
	eng_names_free(types);
	eng_fields_put(f);
	return mfs_errf(err, -ENOMEM, "out of memory");
}
