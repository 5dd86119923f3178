/* sfilter.c - filters, range windows, grouping keys and hit rows of a
 * search (SPEC §10).
 *
 * A filter is evaluated once per search and partition, over the
 * partition's columns, into the ids of the matching live rows; the index
 * takes them as an allow-list (index.h struct idx_allow) that it honours
 * during its walk or scan.  The strategy by selectivity is in search.c
 * (eng_sf_exact) and ARCHITECTURE.md.
 */
#include "engine/sfilter_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 1024

static int parse_float(const char *key, const char *s, float *out,
		       struct mfs_err *err)
{
	char *end;
	float f = strtof(s, &end);

	if (end == s || *end || !isfinite(f))
		return mfs_errf(err, -EINVAL,
				"%s must be a finite number, got '%s'", key, s);
	*out = f;
	return 0;
}

int eng_sopts_parse(const struct mfs_kv *kv, enum vec_metric m,
		    const struct fld_schema *s, struct eng_sopts *o,
		    struct mfs_err *err)
{
	const char *r = kv ? mfs_kv_get(kv, "radius") : NULL;
	const char *f = kv ? mfs_kv_get(kv, "range_filter") : NULL;
	const char *g = kv ? mfs_kv_get(kv, "group_by_field") : NULL;
	const char *gs = kv ? mfs_kv_get(kv, "group_size") : NULL;
	const char *st = kv ? mfs_kv_get(kv, "strict_group_size") : NULL;
	bool higher = vec_metric_higher_better(m);
	int rc;

	memset(o, 0, sizeof(*o));
	o->group_field = -1;
	o->group_size = 1;
	if (f && !r)
		return mfs_errf(err, -EINVAL,
				"range_filter needs radius: a range search "
				"is given by radius (and range_filter)");
	if (r) {
		if ((rc = parse_float("radius", r, &o->radius, err)) < 0)
			return rc;
		o->range = true;
	}
	if (f) {
		if ((rc = parse_float("range_filter", f, &o->range_filter,
				      err)) < 0)
			return rc;
		o->has_rf = true;
	}
	if (o->range && m == VEC_COSINE &&
	    (o->radius < -1 || o->radius > 1 ||
	     (o->has_rf && (o->range_filter < -1 || o->range_filter > 1))))
		return mfs_errf(err, -EINVAL,
				"radius and range_filter must be in [-1, 1] "
				"for metric COSINE");
	if (o->range && !higher && o->radius <= 0)
		return mfs_errf(err, -EINVAL,
				"radius must be greater than 0 for metric %s "
				"(distances are never negative), got %g",
				vec_metric_name(m), (double)o->radius);
	if (o->has_rf && !higher && o->range_filter < 0)
		return mfs_errf(err, -EINVAL,
				"range_filter must be at least 0 for metric "
				"%s, got %g", vec_metric_name(m),
				(double)o->range_filter);
	if (o->has_rf && !higher && !(o->range_filter < o->radius))
		return mfs_errf(err, -EINVAL,
				"range_filter must be less than radius for "
				"L2/HAMMING/JACCARD, got radius=%g "
				"range_filter=%g", (double)o->radius,
				(double)o->range_filter);
	if (o->has_rf && higher && !(o->range_filter > o->radius))
		return mfs_errf(err, -EINVAL,
				"range_filter must be greater than radius "
				"for IP/COSINE, got radius=%g range_filter=%g",
				(double)o->radius, (double)o->range_filter);
	if ((gs || st) && !g)
		return mfs_errf(err, -EINVAL, "%s needs group_by_field",
				gs ? "group_size" : "strict_group_size");
	if (!g)
		return 0;
	if (o->range)
		return mfs_errf(err, -EINVAL,
				"not support search_group_by operation based "
				"on range search");
	o->group_field = fld_schema_find(s, g);
	if (o->group_field < 0)
		return mfs_errf(err, -EINVAL, "group_by_field: field %s not "
				"exist", g);
	switch (s->f[o->group_field].type) {
	case FLD_BOOL:
	case FLD_INT8:
	case FLD_INT16:
	case FLD_INT32:
	case FLD_INT64:
	case FLD_VARCHAR:
		break;
	default:
		return mfs_errf(err, -EINVAL,
				"group_by_field %s is of type %s: grouping "
				"takes an INT8, INT16, INT32, INT64, BOOL or "
				"VARCHAR field", g,
				s->f[o->group_field].dynamic ? "JSON" :
				fld_type_name(s->f[o->group_field].type));
	}
	if (gs) {
		long v;

		if (mfs_parse_long(gs, 1, MFS_GROUP_SIZE_MAX, &v) < 0)
			return mfs_errf(err, -EINVAL,
					"group_size must be an integer in "
					"[1, %d], got '%s'", MFS_GROUP_SIZE_MAX, gs);
		o->group_size = (size_t)v;
	}
	if (st) {
		if (strcmp(st, "true") == 0 || strcmp(st, "True") == 0)
			o->strict = true;
		else if (strcmp(st, "false") && strcmp(st, "False"))
			return mfs_errf(err, -EINVAL,
					"strict_group_size must be true or "
					"false, got '%s'", st);
	}
	return 0;
}

static int push_id(int64_t **ids, size_t *n, size_t *cap, int64_t id)
{
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		int64_t *p = realloc(*ids, c * sizeof(*p));

		if (!p)
			return -ENOMEM;
		*ids = p;
		*cap = c;
	}
	(*ids)[(*n)++] = id;
	return 0;
}

int eng_sf_allowed(const struct fld_expr *x, struct eng_cols *k,
		   int64_t **ids, size_t *n)
{
	const struct fld_cols *c = &k->c;
	int64_t *out = NULL;
	size_t m = 0, cap = 0;
	uint32_t *sel = NULL;
	size_t nsel = 0;
	int rc;

	pthread_rwlock_rdlock(&k->lock);
	rc = fld_expr_select(x, c, c->n, &sel, &nsel);
	if (rc < 0)
		goto out;
	if (rc > 0) {
		rc = 0;
		for (size_t i = 0; i < nsel && rc == 0; i++)
			if (fld_cols_visible(c, sel[i], c->epoch))
				rc = push_id(&out, &m, &cap, c->ids[sel[i]]);
		goto out;
	}
	for (size_t pos = 0; pos < c->n && rc == 0; pos += BLOCK) {
		uint32_t rows[BLOCK];
		uint8_t match[BLOCK];
		size_t b = c->n - pos < BLOCK ? c->n - pos : BLOCK;

		for (size_t i = 0; i < b; i++)
			rows[i] = (uint32_t)(pos + i);
		fld_expr_eval(x, c, rows, b, match);
		for (size_t i = 0; i < b && rc == 0; i++)
			if (match[i] && fld_cols_visible(c, pos + i, c->epoch))
				rc = push_id(&out, &m, &cap, c->ids[pos + i]);
	}
out:
	pthread_rwlock_unlock(&k->lock);
	free(sel);
	if (rc < 0) {
		free(out);
		return -ENOMEM;
	}
	*ids = out;
	*n = m;
	return 0;
}

int eng_sf_find(struct eng_cols *const *cols, size_t n, int64_t id,
		size_t *row)
{
	for (size_t i = 0; i < n; i++) {
		ptrdiff_t r;

		if (!cols[i])
			continue;
		pthread_rwlock_rdlock(&cols[i]->lock);
		r = fld_cols_find(&cols[i]->c, id);
		pthread_rwlock_unlock(&cols[i]->lock);
		if (r >= 0) {
			*row = (size_t)r;
			return (int)i;
		}
	}
	return -1;
}

int eng_sf_key(const struct fld_value *v, char **key)
{
	char buf[32];
	char *k;

	switch (v->type) {
	case FLD_NONE:
		k = strdup("n");
		break;
	case FLD_VARCHAR:
		k = malloc(v->len + 2);
		if (k) {
			k[0] = 's';
			memcpy(k + 1, v->s, v->len);
			k[v->len + 1] = '\0';
		}
		break;
	default:
		snprintf(buf, sizeof(buf), "i%lld", (long long)v->i);
		k = strdup(buf);
		break;
	}
	if (!k)
		return -ENOMEM;
	*key = k;
	return 0;
}
