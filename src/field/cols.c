/* cols.c - the columns of a loaded partition: one array per field, ids,
 * delete epochs, and an id -> live row map.
 *
 * Rows are only appended, never changed, so a reader that saw n rows keeps
 * seeing the same values (the engine guards the arrays themselves: readers
 * in parallel, one writer).  Every array grows by doubling together with
 * cap; an append makes every allocation it needs (array growth, string
 * bytes, JSON parses, a null map, map room) before it writes anything, so
 * -ENOMEM leaves the columns as they were.
 *
 * The id map is base's (idmap.h); it maps an id to its live row only:
 * a delete takes the id out, and dead rows are found by scanning dead_at.
 *
 * bytes counts what the columns hold: arrays by capacity, string bytes by
 * capacity, the map's table, and each parsed JSON value as 4 times its
 * text plus 64 (jansson's nodes are about that).
 */
#include "field/field_int.h"
#include "field/expr.h"

#include "base/idmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ROWS_MAX (UINT32_MAX - 2)

struct priv {
	struct mfs_idmap map;   /* id -> live row */
	size_t *str_cap;        /* s->n: bytes allocated at col[i].str */
	size_t json_bytes;      /* estimate for parsed JSON values */
};

/* ---- columns ---- */

static size_t row_bytes(enum fld_type t)
{
	switch (t) {
	case FLD_FLOAT:
	case FLD_DOUBLE: return sizeof(double);
	case FLD_VARCHAR: return sizeof(uint64_t);
	case FLD_JSON:
	case FLD_ARRAY: return sizeof(json_t *);
	default: return sizeof(int64_t);
	}
}

static void account(struct fld_cols *c)
{
	const struct priv *m = c->map;
	size_t b = sizeof(*c) + sizeof(*m) +
		c->cap * (sizeof(int64_t) + sizeof(uint32_t));

	for (size_t i = 0; i < c->s->n; i++) {
		b += c->cap * row_bytes(c->col[i].type) + m->str_cap[i];
		if (c->col[i].null)
			b += c->cap;
	}
	b += mfs_idmap_bytes(&m->map);
	c->bytes = b + m->json_bytes + c->s->n * (sizeof(struct fld_col) +
						   sizeof(void *) + sizeof(size_t));
}

int fld_cols_init(struct fld_cols *c, const struct fld_schema *s)
{
	struct priv *m;

	memset(c, 0, sizeof(*c));
	c->s = s;
	c->id_sorted = true;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	c->map = m;
	if (s->n) {
		c->col = calloc(s->n, sizeof(*c->col));
		c->sidx = calloc(s->n, sizeof(*c->sidx));
		m->str_cap = calloc(s->n, sizeof(*m->str_cap));
		if (!c->col || !c->sidx || !m->str_cap) {
			fld_cols_fini(c);
			return -ENOMEM;
		}
		for (size_t i = 0; i < s->n; i++)
			c->col[i].type = s->f[i].type;
	}
	account(c);
	return 0;
}

void fld_cols_fini(struct fld_cols *c)
{
	struct priv *m = c->map;

	if (c->sidx) {
		for (size_t i = 0; i < c->s->n; i++)
			if (c->sidx[i])
				fld_sidx_drop(c, i);
		free(c->sidx);
	}
	for (size_t i = 0; c->col && i < c->s->n; i++) {
		struct fld_col *col = &c->col[i];

		if (col->json)
			for (size_t r = 0; r < c->n; r++)
				json_decref(col->json[r]);
		free(col->null);
		free(col->i);
		free(col->d);
		free(col->off);
		free(col->str);
		free(col->json);
	}
	free(c->col);
	free(c->ids);
	free(c->dead_at);
	if (m) {
		mfs_idmap_fini(&m->map);
		free(m->str_cap);
		free(m);
	}
	memset(c, 0, sizeof(*c));
}

static int grow_array(void *pp, size_t ncap, size_t size)
{
	void **p = pp, *q;

	if (ncap > SIZE_MAX / size)
		return -ENOMEM;
	q = realloc(*p, ncap * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	return 0;
}

/* Capacity for ncap rows in every array (arrays already grown stay grown
 * on failure; cap is raised only once all succeeded). */
static int grow(struct fld_cols *c, size_t ncap)
{
	if (grow_array(&c->ids, ncap, sizeof(*c->ids)) ||
	    grow_array(&c->dead_at, ncap, sizeof(*c->dead_at)))
		return -ENOMEM;
	for (size_t i = 0; i < c->s->n; i++) {
		struct fld_col *col = &c->col[i];
		int rc = 0;

		if (col->null) {
			rc = grow_array(&col->null, ncap, 1);
			if (rc)
				return rc;
			memset(col->null + c->cap, 0, ncap - c->cap);
		}
		switch (col->type) {
		case FLD_FLOAT:
		case FLD_DOUBLE:
			rc = grow_array(&col->d, ncap, sizeof(*col->d));
			break;
		case FLD_VARCHAR:
			rc = grow_array(&col->off, ncap + 1, sizeof(*col->off));
			if (!rc && !c->cap)
				col->off[0] = 0;
			break;
		case FLD_JSON:
		case FLD_ARRAY:
			rc = grow_array(&col->json, ncap, sizeof(*col->json));
			break;
		default:
			rc = grow_array(&col->i, ncap, sizeof(*col->i));
		}
		if (rc)
			return rc;
	}
	c->cap = ncap;
	return 0;
}

/* Append one row of values v[s->n] (fld_row_values', or fld_cols_get's:
 * a parsed JSON value is then shared, not parsed again). */
static int append_values(struct fld_cols *c, int64_t id,
			 const struct fld_value *v)
{
	const struct fld_schema *s = c->s;
	struct priv *m = c->map;
	json_t *jv[FLD_MAX];
	size_t n = c->n, jb = 0;
	int rc = 0;

	if (n >= ROWS_MAX)
		return -ENOMEM;
	if (n == c->cap && grow(c, c->cap ? c->cap * 2 : 64))
		return -ENOMEM;
	if (mfs_idmap_reserve(&m->map, m->map.n + 1))
		return -ENOMEM;
	memset(jv, 0, sizeof(jv));
	/* every allocation first */
	for (size_t i = 0; i < s->n; i++) {
		struct fld_col *col = &c->col[i];

		if (v[i].type == FLD_NONE) {
			if (!col->null) {
				col->null = calloc(c->cap, 1);
				if (!col->null)
					rc = -ENOMEM;
			}
		} else if (col->type == FLD_VARCHAR) {
			size_t need = col->off[n] + v[i].len;

			if (need > m->str_cap[i]) {
				size_t ncap = m->str_cap[i] ? m->str_cap[i] : 256;
				char *p;

				while (ncap < need)
					ncap *= 2;
				p = realloc(col->str, ncap);
				if (!p) {
					rc = -ENOMEM;
				} else {
					col->str = p;
					m->str_cap[i] = ncap;
				}
			}
		} else if ((col->type == FLD_JSON || col->type == FLD_ARRAY) &&
			   v[i].json) {
			jv[i] = json_incref(v[i].json);
			jb += json_dumpb(v[i].json, NULL, 0, JSON_COMPACT |
					 JSON_ENCODE_ANY) * 4 + 64;
		} else if (col->type == FLD_JSON || col->type == FLD_ARRAY) {
			jv[i] = json_loadb(v[i].s, v[i].len, JSON_DECODE_ANY, NULL);
			jb += v[i].len * 4 + 64;
			/* not JSON (stored data damaged) reads as null */
			if (!jv[i] && !col->null) {
				col->null = calloc(c->cap, 1);
				if (!col->null)
					rc = -ENOMEM;
			}
		}
		if (rc)
			break;
	}
	if (rc) {
		for (size_t i = 0; i < s->n; i++)
			json_decref(jv[i]);
		account(c);
		return rc;
	}
	for (size_t i = 0; i < s->n; i++) {
		struct fld_col *col = &c->col[i];
		bool null = v[i].type == FLD_NONE;

		if ((col->type == FLD_JSON || col->type == FLD_ARRAY) && !null &&
		    !jv[i])
			null = true;
		if (col->null)
			col->null[n] = null;
		switch (col->type) {
		case FLD_FLOAT:
		case FLD_DOUBLE:
			col->d[n] = null ? 0 : v[i].d;
			break;
		case FLD_VARCHAR:
			col->off[n + 1] = col->off[n];
			if (!null && v[i].len) {
				memcpy(col->str + col->off[n], v[i].s, v[i].len);
				col->off[n + 1] += v[i].len;
			}
			break;
		case FLD_JSON:
		case FLD_ARRAY:
			col->json[n] = null ? NULL : jv[i];
			break;
		default:
			col->i[n] = null ? 0 : v[i].i;
		}
	}
	if (n && c->ids[n - 1] >= id)
		c->id_sorted = false;
	c->ids[n] = id;
	c->dead_at[n] = 0;
	mfs_idmap_put(&m->map, id, (uint32_t)n);
	m->json_bytes += jb;
	c->n = n + 1;
	account(c);
	return 0;
}

int fld_cols_append(struct fld_cols *c, int64_t id, const void *row,
		    size_t len)
{
	struct fld_value v[FLD_MAX];

	fld_row_values(c->s, row, len, v);
	return append_values(c, id, v);
}

size_t fld_cols_live(const struct fld_cols *c)
{
	const struct priv *m = c->map;

	return m->map.n;
}

int fld_cols_copy_live(struct fld_cols *dst, const struct fld_cols *src)
{
	struct fld_value v[FLD_MAX];

	for (size_t r = 0; r < src->n; r++) {
		int rc;

		if (src->dead_at[r])
			continue;
		for (size_t i = 0; i < src->s->n; i++)
			fld_cols_get(src, r, i, &v[i]);
		rc = append_values(dst, src->ids[r], v);
		if (rc)
			return rc;
	}
	dst->epoch = src->epoch;
	return 0;
}

uint32_t fld_cols_new_epoch(struct fld_cols *c)
{
	if (++c->epoch == 0)
		c->epoch = 1;
	return c->epoch;
}

bool fld_cols_delete(struct fld_cols *c, int64_t id, uint32_t epoch)
{
	struct priv *m = c->map;
	uint32_t row = mfs_idmap_del(&m->map, id);

	if (row == MFS_IDMAP_NONE)
		return false;
	c->dead_at[row] = epoch ? epoch : 1;
	return true;
}

ptrdiff_t fld_cols_find(const struct fld_cols *c, int64_t id)
{
	const struct priv *m = c->map;
	uint32_t row = mfs_idmap_get(&m->map, id);

	return row == MFS_IDMAP_NONE ? -1 : (ptrdiff_t)row;
}

void fld_cols_get(const struct fld_cols *c, size_t r, size_t i,
		  struct fld_value *v)
{
	const struct fld_col *col = &c->col[i];

	memset(v, 0, sizeof(*v));
	if (col->null && col->null[r]) {
		v->type = FLD_NONE;
		return;
	}
	v->type = col->type;
	switch (col->type) {
	case FLD_FLOAT:
	case FLD_DOUBLE:
		v->d = col->d[r];
		break;
	case FLD_VARCHAR:
		v->len = (size_t)(col->off[r + 1] - col->off[r]);
		v->s = col->str ? col->str + col->off[r] : "";
		break;
	case FLD_JSON:
	case FLD_ARRAY:
		v->json = col->json[r];
		break;
	default:
		v->i = col->i[r];
	}
}

int fld_cols_json(struct mfs_buf *out, const struct fld_cols *c, size_t r,
		  const bool *want)
{
	const struct fld_schema *s = c->s;
	size_t len0 = out->len;
	int rc = 0;

	for (size_t i = 0; !rc && i < s->n; i++) {
		const struct fld_def *d = &s->f[i];
		struct fld_value v;

		if (want && !want[i])
			continue;
		fld_cols_get(c, r, i, &v);
		if (d->dynamic) {
			const char *k;
			json_t *x;

			if (!json_is_object(v.json))
				continue;
			json_object_foreach(v.json, k, x) {
				int f = fld_schema_find(s, k);

				if (f >= 0 && !s->f[f].dynamic)
					continue;       /* a field shadows the key */
				rc = mfs_buf_append(out, ",", 1);
				if (!rc)
					rc = fld_put_string(out, k, strlen(k));
				if (!rc)
					rc = mfs_buf_append(out, ":", 1);
				if (!rc)
					rc = fld_json_dump(out, x);
				if (rc)
					break;
			}
			continue;
		}
		rc = mfs_buf_append(out, ",", 1);
		if (!rc)
			rc = fld_put_string(out, d->name, strlen(d->name));
		if (!rc)
			rc = mfs_buf_append(out, ":", 1);
		if (!rc)
			rc = fld_value_json(out, d, &v);
	}
	if (rc)
		mfs_buf_truncate(out, len0);
	return rc;
}
