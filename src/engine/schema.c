/* schema.c - a collection's schema: dim, metric_type, vector_type,
 * description (SPEC §3).
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
		return mfs_errf(err, -ENOENT,
				"collection not found[collection=%s]", coll);
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
};

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
		return mfs_errf(err, rc, "collection not found[collection=%s]",
				name);
	busy = busy_reason(a, count, why, sizeof(why));
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
		   struct mfs_err *err)
{
	struct schema_arg a = { .e = e };
	int rc;

	/* Parse every key first: all or nothing. */
	for (size_t i = 0; i < kv->n; i++) {
		const char *k = kv->item[i].key, *v = kv->item[i].val;

		if (strcmp(k, "dim") == 0) {
			long d;

			if (mfs_parse_long(v, 0, ENG_DIM_MAX, &d) < 0)
				return mfs_errf(err, -EINVAL,
						"dim: expected an integer in [2, %d], got '%s'",
						ENG_DIM_MAX, v);
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
		} else {
			return mfs_errf(err, -EINVAL,
					"unknown schema key '%s': expected dim, metric_type, vector_type or description",
					k);
		}
	}
	rc = eng_lookup(e, coll, NULL, &a.c, NULL, NULL, err);
	if (rc < 0)
		return rc;
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
	rc = store_write(e->st, schema_txn, &a, err);
	if (rc == 0) {
		pthread_rwlock_wrlock(&e->cat);
		a.c->rec = a.rec;
		pthread_rwlock_unlock(&e->cat);
	}
	pthread_mutex_unlock(&e->wmu);
	for (size_t i = a.nparts; i > 0; i--)
		pthread_mutex_unlock(&a.parts[i - 1]->wmu);
	eng_parts_put(a.parts, a.nparts);
unref:
	eng_coll_unref(a.c);
	return rc;
}
