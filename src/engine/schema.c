/* schema.c - a collection's schema: dim, metric_type, vector_type,
 * description (SPEC §3), and its scalar fields (SPEC §8).
 *
 * Fields: before the first insert, the `field=` lines of a write replace
 * the collection's fields; once it has data they merge into them (a field
 * repeated as it is defined is a no-op, so `cat schema > schema` works; a
 * new one must be nullable or defaulted).  The new schema is stored as
 * canonical text in the same transaction as the collection record; the
 * catalog then swaps in a new immutable struct eng_fields.  No field
 * change while a partition is loaded: its columns follow the schema it was
 * loaded with.
 *
 * eng_schema_set checks every key first (all or nothing), then rewrites the
 * collection record in one store_write under e->wmu, re-checking inside the
 * transaction what the data decides (a dim, type or metric change once the
 * collection has entities is EBUSY).  Keys equal to the current value are
 * no-ops, so `cat schema > schema` always works.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <string.h>

int eng_schema_get(struct eng *e, const char *coll, struct eng_schema *out,
		   struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_schema s;

	pthread_rwlock_rdlock(&e->cat);
	c = eng_coll_find(e, coll);
	if (!c) {
		pthread_rwlock_unlock(&e->cat);
		return eng_err_no_coll(err, -ENOENT, coll);
	}
	s.dim = c->rec.dim;
	s.vtype = (enum vec_type)c->rec.vtype;
	s.metric = (enum vec_metric)c->rec.metric;
	snprintf(s.description, sizeof(s.description), "%s",
		 c->rec.description);
	pthread_rwlock_unlock(&e->cat);
	*out = s;
	return 0;
}

struct schema_arg {
	struct eng *e;
	struct eng_coll *c;
	struct eng_part **parts;
	size_t nparts;
	bool has_dim, has_vt, has_metric, has_desc;
	uint32_t dim;
	enum vec_type vt;
	enum vec_metric metric;
	const char *desc;
	struct store_coll rec;          /* out */
	/* fields */
	const struct fld_schema *fields;        /* written field lines */
	int dynamic;                    /* -1 unchanged, 0, 1 */
	uint32_t num_partitions;        /* 0 unchanged */
	struct eng_fields *cur;         /* the collection's, referenced */
	struct mfs_buf text;            /* out: the new canonical text */
	bool fields_changed;            /* out */
};

/* The "field=NAME:..." line of field name in canonical text t, or NULL;
 * *len gets its length. */
static const char *field_line(const char *t, const char *name, size_t *len)
{
	size_t nl = strlen(name);

	while (t && *t) {
		const char *e = strchr(t, '\n');
		size_t ll = e ? (size_t)(e - t) : strlen(t);

		if (ll > 6 + nl && memcmp(t, "field=", 6) == 0 &&
		    memcmp(t + 6, name, nl) == 0 && t[6 + nl] == ':') {
			*len = ll;
			return t;
		}
		t = e ? e + 1 : NULL;
	}
	return NULL;
}

/* Make the new field schema into *to (initialized here) from a->cur and
 * what was written.  has_data decides replace or merge. */
static int fields_make(struct schema_arg *a, bool has_data, bool loaded,
		       struct fld_schema *to, struct mfs_err *err)
{
	const struct fld_schema *cur = &a->cur->s;
	struct mfs_buf wt, ct;
	int rc = 0;

	mfs_buf_init(&wt, SIZE_MAX);
	mfs_buf_init(&ct, SIZE_MAX);
	fld_schema_init(to);
	if (a->fields && !has_data) {
		fld_schema_fini(to);
		rc = fld_schema_copy(to, a->fields);
		if (rc < 0)
			goto nomem;
		if (a->dynamic < 0 && cur->dynamic != to->dynamic)
			rc = fld_schema_set_dynamic(to, cur->dynamic, err);
		if (rc == 0 && a->num_partitions == 0 && to->pk >= 0 &&
		    cur->pk >= 0)
			rc = fld_schema_set_num_partitions(
				to, cur->num_partitions, err);
	} else {
		fld_schema_fini(to);
		rc = fld_schema_copy(to, cur);
		if (rc < 0)
			goto nomem;
		if (a->fields) {
			/* Merge, line by line of the canonical prints. */
			const char *p;

			if (fld_schema_print(&wt, a->fields) < 0 ||
			    fld_schema_print(&ct, cur) < 0)
				goto nomem;
			for (p = wt.data ? wt.data : ""; *p;) {
				const char *e = strchr(p, '\n');
				size_t ll = e ? (size_t)(e - p) : strlen(p);
				char line[FLD_JSON_MAX + 512];
				char name[FLD_NAME_MAX + 1];
				const char *colon, *have;
				size_t hl = 0;

				if (ll < sizeof(line) && ll > 6 &&
				    memcmp(p, "field=", 6) == 0) {
					memcpy(line, p, ll);
					line[ll] = '\0';
					colon = strchr(line + 6, ':');
					snprintf(name, sizeof(name), "%.*s",
						 (int)(colon ? colon - line - 6 : 0),
						 line + 6);
					have = field_line(ct.data, name, &hl);
					if (have && (hl != ll ||
						     memcmp(have, line, ll))) {
						rc = mfs_errf(err, -EBUSY,
							      "field %s: cannot change a field once the collection has data",
							      name);
						break;
					}
					if (!have) {
						rc = fld_schema_add(to, line + 6,
								    err);
						if (rc < 0)
							break;
					}
				}
				p = e ? e + 1 : p + ll;
			}
		}
	}
	if (rc == 0 && a->dynamic >= 0 && (bool)a->dynamic != to->dynamic)
		rc = fld_schema_set_dynamic(to, a->dynamic, err);
	if (rc == 0 && a->num_partitions)
		rc = fld_schema_set_num_partitions(to, a->num_partitions, err);
	if (rc == 0)
		rc = fld_schema_check(to, err);
	if (rc == 0 && has_data) {
		rc = fld_schema_evolve_check(cur, to, err);
		if (rc == 0 && to->pk != cur->pk)
			rc = mfs_errf(err, -EBUSY,
				      "cannot change the partition key of a collection that has data");
		if (rc == 0 && to->pk >= 0 &&
		    to->num_partitions != cur->num_partitions)
			rc = mfs_errf(err, -EBUSY,
				      "cannot change num_partitions of a collection that has data");
	}
	if (rc == 0) {
		mfs_buf_reset(&wt);
		rc = fld_schema_print(&wt, to);
		if (rc < 0)
			goto nomem;
		if (wt.len != ct.len || (wt.len && memcmp(wt.data, ct.data, wt.len))) {
			/* ct may not hold cur's print when nothing merged. */
			mfs_buf_reset(&ct);
			if (fld_schema_print(&ct, cur) < 0)
				goto nomem;
		}
		a->fields_changed = wt.len != ct.len ||
				    (wt.len && memcmp(wt.data, ct.data, wt.len));
		if (a->fields_changed && loaded)
			rc = mfs_errf(err, -EBUSY,
				      "cannot change the fields of collection %s: it is loaded, please release it first",
				      a->c->name);
	}
	if (rc == 0) {
		/* Keep the scalar index lines of fields that remain. */
		mfs_buf_reset(&a->text);
		rc = mfs_buf_append(&a->text, wt.data ? wt.data : "", wt.len);
		for (size_t i = 0; rc == 0 && a->cur->sidx && i < cur->n; i++)
			if (a->cur->sidx[i][0] &&
			    fld_schema_find(to, cur->f[i].name) >= 0)
				rc = mfs_buf_printf(&a->text,
						    "scalar_index=%s:%s\n",
						    cur->f[i].name,
						    a->cur->sidx[i]);
		if (rc < 0)
			goto nomem;
	}
	goto out;
nomem:
	rc = mfs_errf(err, -ENOMEM, "out of memory");
out:
	mfs_buf_fini(&wt);
	mfs_buf_fini(&ct);
	if (rc < 0)
		fld_schema_fini(to);
	return rc;
}

static const char *busy_reason(struct schema_arg *a, uint64_t count,
			       char *buf, size_t cap)
{
	bool loaded = false;

	for (size_t i = 0; i < a->nparts; i++)
		if (atomic_load(&a->parts[i]->state) != ENG_NOTLOAD)
			loaded = true;
	if (count) {
		snprintf(buf, cap, "it has %llu entities",
			 (unsigned long long)count);
		return buf;
	}
	if (loaded)
		return "it is loaded, please release it first";
	if (a->rec.index[0])
		return "it has an index, set index_type=FLAT first";
	return NULL;
}

static int schema_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct schema_arg *a = arg;
	char name[STORE_NAME_MAX + 1], why[64];
	struct store_coll *r = &a->rec;
	uint64_t count = 0;
	enum vec_type vt;
	const char *busy;
	int rc;

	pthread_rwlock_rdlock(&a->e->cat);
	snprintf(name, sizeof(name), "%s", a->c->name);
	for (size_t i = 0; i < a->nparts; i++)
		count += a->parts[i]->count;
	pthread_rwlock_unlock(&a->e->cat);
	rc = store_coll_get(txn, name, r);
	if (rc < 0)
		return eng_err_no_coll(err, rc, name);
	busy = busy_reason(a, count, why, sizeof(why));
	if (a->fields || a->dynamic >= 0 || a->num_partitions) {
		struct fld_schema to;
		bool loaded = false;

		for (size_t i = 0; i < a->nparts; i++)
			if (atomic_load(&a->parts[i]->state) != ENG_NOTLOAD)
				loaded = true;
		rc = fields_make(a, count > 0, loaded, &to, err);
		if (rc < 0)
			return rc;
		fld_schema_fini(&to);
		if (a->fields_changed) {
			rc = store_fields_put(txn, r->cid, a->text.data,
					      a->text.len);
			if (rc < 0)
				return mfs_errf(err, rc,
						"cannot store the fields of collection %s",
						name);
		}
	}
	vt = a->has_vt ? a->vt : (enum vec_type)r->vtype;
	if (a->has_vt && vt != (enum vec_type)r->vtype) {
		if (busy)
			return mfs_errf(err, -EBUSY,
					"cannot change vector_type of collection %s: %s",
					name, busy);
		r->vtype = (uint8_t)vt;
		if (!a->has_metric && !vec_metric_fits(
			    (enum vec_metric)r->metric, vt)) {
			/* Default metric of the new type. */
			r->metric = vt == VEC_BINARY ? VEC_HAMMING : VEC_L2;
			r->metric_set = 0;
		}
		if (!a->has_dim && r->dim && eng_check_dim(vt, r->dim, NULL))
			r->dim = 0;
	}
	if (a->has_dim && a->dim != r->dim) {
		if (busy)
			return mfs_errf(err, -EBUSY,
					"cannot change dim of collection %s: %s",
					name, busy);
		rc = eng_check_dim(vt, a->dim, err);
		if (rc < 0)
			return rc;
		r->dim = a->dim;
	} else if (a->has_dim && a->dim == 0 && r->dim == 0) {
		/* Rewriting what `cat schema` shows before a dim is set. */
	}
	if (a->has_metric) {
		if (!vec_metric_fits(a->metric, vt))
			return mfs_errf(err, -EINVAL,
					"metric_type %s does not apply to %s, expected %s",
					vec_metric_name(a->metric),
					vec_type_name(vt),
					vt == VEC_BINARY ? "HAMMING or JACCARD"
							 : "L2, IP or COSINE");
		if (a->metric != (enum vec_metric)r->metric) {
			if (busy)
				return mfs_errf(err, -EBUSY,
						"cannot change metric_type of collection %s: %s",
						name, busy);
			r->metric = (uint8_t)a->metric;
		}
		r->metric_set = 1;
	}
	if (a->has_desc)
		snprintf(r->description, sizeof(r->description), "%s", a->desc);
	rc = store_coll_put(txn, name, r);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot update collection %s", name);
	return 0;
}

int eng_schema_set(struct eng *e, const char *coll, const struct mfs_kv *kv,
		   const struct fld_schema *fields, struct mfs_err *err)
{
	struct schema_arg a = { .e = e, .fields = fields, .dynamic = -1 };
	struct eng_fields *nf = NULL;
	int rc;

	/* Parse every key first: all or nothing. */
	for (size_t i = 0; i < kv->n; i++) {
		const char *k = kv->item[i].key, *v = kv->item[i].val;

		if (strcmp(k, "dim") == 0) {
			long d;

			if (mfs_parse_long(v, 0, MFS_DIM_MAX, &d) < 0)
				return mfs_errf(err, -EINVAL,
						"dim: expected an integer in [2, %d], got '%s'",
						MFS_DIM_MAX, v);
			a.has_dim = true;
			a.dim = (uint32_t)d;
		} else if (strcmp(k, "metric_type") == 0) {
			if (vec_metric_parse(v, &a.metric) < 0)
				return mfs_errf(err, -EINVAL,
						"metric_type: expected L2, IP, COSINE, HAMMING or JACCARD, got '%s'",
						v);
			a.has_metric = true;
		} else if (strcmp(k, "vector_type") == 0) {
			if (vec_type_parse(v, &a.vt) < 0)
				return mfs_errf(err, -EINVAL,
						"vector_type: expected FLOAT_VECTOR or BINARY_VECTOR, got '%s'",
						v);
			a.has_vt = true;
		} else if (strcmp(k, "description") == 0) {
			if (strlen(v) >= STORE_TEXT_MAX)
				return mfs_errf(err, -EINVAL,
						"description: expected at most %d bytes, got %zu",
						STORE_TEXT_MAX - 1, strlen(v));
			a.has_desc = true;
			a.desc = v;
		} else if (strcmp(k, "enable_dynamic_field") == 0) {
			if (strcmp(v, "true") == 0 || strcmp(v, "True") == 0)
				a.dynamic = 1;
			else if (strcmp(v, "false") == 0 ||
				 strcmp(v, "False") == 0)
				a.dynamic = 0;
			else
				return mfs_errf(err, -EINVAL,
						"enable_dynamic_field: expected true or false, got '%s'",
						v);
		} else if (strcmp(k, "num_partitions") == 0) {
			long np;

			if (mfs_parse_long(v, 1, FLD_NUM_PARTITIONS_MAX, &np) < 0)
				return mfs_errf(err, -EINVAL,
						"num_partitions: expected an integer in [1, %d], got '%s'",
						FLD_NUM_PARTITIONS_MAX, v);
			a.num_partitions = (uint32_t)np;
		} else {
			return mfs_errf(err, -EINVAL,
					"unknown schema key '%s': expected dim, metric_type, vector_type, description, field, enable_dynamic_field or num_partitions",
					k);
		}
	}
	rc = eng_lookup(e, coll, NULL, &a.c, NULL, NULL, err);
	if (rc < 0)
		return rc;
	mfs_buf_init(&a.text, SIZE_MAX);
	a.cur = eng_coll_fields(e, a.c);
	rc = eng_parts_get(e, a.c, &a.parts, &a.nparts);
	if (rc < 0) {
		rc = mfs_errf(err, rc, "out of memory");
		goto unref;
	}
	/* Hold the writer mutexes: no load or insert changes the answer
	 * between the check and the commit. */
	for (size_t i = 0; i < a.nparts; i++)
		pthread_mutex_lock(&a.parts[i]->wmu);
	pthread_mutex_lock(&e->wmu);
	if (a.cur != a.c->fields) {
		/* Changed since we looked: go with the current one. */
		eng_fields_put(a.cur);
		a.cur = eng_coll_fields(e, a.c);
	}
	rc = store_write(e->st, schema_txn, &a, err);
	if (rc == 0 && a.fields_changed) {
		/* Stored already: the catalog must follow, so make the
		 * struct from the stored text (ENOMEM here is reported, and
		 * the next mount reads the stored one). */
		rc = eng_fields_new(a.text.data ? a.text.data : "", a.text.len,
				    &nf, err);
	}
	if (rc == 0) {
		pthread_rwlock_wrlock(&e->cat);
		a.c->rec = a.rec;
		if (nf) {
			struct eng_fields *old = a.c->fields;

			a.c->fields = nf;
			nf = old;       /* put below */
		}
		pthread_rwlock_unlock(&e->cat);
	}
	pthread_mutex_unlock(&e->wmu);
	for (size_t i = a.nparts; i > 0; i--)
		pthread_mutex_unlock(&a.parts[i - 1]->wmu);
	eng_parts_put(a.parts, a.nparts);
	eng_fields_put(nf);
	if (rc == 0 && a.fields_changed)
		rc = eng_pk_parts(e, coll, err);
unref:
	mfs_buf_fini(&a.text);
	eng_fields_put(a.cur);
	eng_coll_unref(a.c);
	return rc;
}
