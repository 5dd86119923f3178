/* fields.c - a collection's scalar field schema (SPEC §8) and the columns
 * of a loaded partition.
 *
 * struct eng_fields is immutable: a schema change makes a new one and
 * swaps the catalog's reference, so a holder (a query, a loaded
 * partition's columns, an fs write in progress) keeps the schema it
 * started with.  Changing fields needs every partition released, so a
 * loaded partition's columns always match the catalog's schema.
 *
 * struct eng_cols wraps field.h's columns with a rwlock and a reference
 * count: inserts and deletes write under the partition's wmu and the
 * columns' lock; a query reads under the columns' lock, in chunks, and
 * holds a reference so a release never waits for a slow reader.  Their
 * memory (and their scalar indexes') is charged to memory_limit.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- the schema ---- */

#define SIDX_KEY "scalar_index="

void eng_fields_ref(struct eng_fields *f)
{
	eng_refs_take(&f->refs);
}

void eng_fields_put(struct eng_fields *f)
{
	if (!f || !eng_refs_drop(&f->refs))
		return;
	fld_schema_fini(&f->s);
	free(f->sidx);
	free(f->text);
	free(f);
}

const struct fld_schema *eng_fields_schema(const struct eng_fields *f)
{
	return &f->s;
}

const char *eng_fields_text(const struct eng_fields *f, size_t *len)
{
	if (len)
		*len = f->len;
	return f->text ? f->text : "";
}

/* The stored text is fld_schema_print's, then one "scalar_index=NAME:TYPE"
 * line per scalar index. */
int eng_fields_new(const char *text, size_t len, struct eng_fields **out,
		   struct mfs_err *err)
{
	struct eng_fields *f = calloc(1, sizeof(*f));
	struct mfs_buf schema;
	const char *p = text, *end = text + len;
	int rc = 0;

	if (!f)
		return mfs_errf(err, -ENOMEM, "out of memory");
	atomic_init(&f->refs, 1);
	fld_schema_init(&f->s);
	mfs_buf_init(&schema, SIZE_MAX);
	/* Split off the scalar index lines. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (!(ll >= strlen(SIDX_KEY) &&
		      memcmp(p, SIDX_KEY, strlen(SIDX_KEY)) == 0)) {
			rc = mfs_buf_append(&schema, p, ll);
			if (rc == 0)
				rc = mfs_buf_append(&schema, "\n", 1);
		}
		if (rc < 0)
			goto nomem;
		p += ll + (nl ? 1 : 0);
	}
	if (schema.len) {
		rc = fld_schema_parse(&f->s, schema.data, schema.len, err);
		if (rc < 0)
			goto fail;
	}
	if (f->s.n) {
		f->sidx = calloc(f->s.n, sizeof(*f->sidx));
		if (!f->sidx)
			goto nomem;
	}
	for (p = text; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (ll > strlen(SIDX_KEY) &&
		    memcmp(p, SIDX_KEY, strlen(SIDX_KEY)) == 0) {
			char buf[FLD_NAME_MAX + 32];
			char *colon;
			int i;

			if (ll - strlen(SIDX_KEY) >= sizeof(buf)) {
				rc = mfs_errf(err, -EIO, "stored scalar index line too long");
				goto fail;
			}
			memcpy(buf, p + strlen(SIDX_KEY), ll - strlen(SIDX_KEY));
			buf[ll - strlen(SIDX_KEY)] = '\0';
			colon = strrchr(buf, ':');
			if (!colon) {
				rc = mfs_errf(err, -EIO, "stored scalar index line without a type: %s", buf);
				goto fail;
			}
			*colon = '\0';
			i = fld_schema_find(&f->s, buf);
			if (i < 0 || strlen(colon + 1) >= sizeof(f->sidx[0])) {
				rc = mfs_errf(err, -EIO, "stored scalar index on unknown field %s", buf);
				goto fail;
			}
			snprintf(f->sidx[i], sizeof(f->sidx[i]), "%s", colon + 1);
		}
		p += ll + (nl ? 1 : 0);
	}
	/* The canonical text, made again (so it is always canonical). */
	mfs_buf_reset(&schema);
	rc = fld_schema_print(&schema, &f->s);
	f->slen = schema.len;
	for (size_t i = 0; rc == 0 && i < f->s.n; i++)
		if (f->sidx && f->sidx[i][0])
			rc = mfs_buf_printf(&schema, SIDX_KEY "%s:%s\n",
					    f->s.f[i].name, f->sidx[i]);
	if (rc < 0)
		goto nomem;
	f->text = mfs_buf_take(&schema, &f->len);
	if (!f->text) {
		f->text = strdup("");
		if (!f->text)
			goto nomem;
		f->len = 0;
	}
	*out = f;
	return 0;

nomem:
	rc = mfs_errf(err, -ENOMEM, "out of memory");
fail:
	mfs_buf_fini(&schema);
	eng_fields_put(f);
	return rc;
}

bool eng_fields_same(const struct eng_fields *a, const struct eng_fields *b)
{
	return a == b || (a->slen == b->slen &&
			  memcmp(a->text, b->text, a->slen) == 0);
}

struct eng_fields *eng_coll_fields(struct eng *e, struct eng_coll *c)
{
	struct eng_fields *f;

	pthread_rwlock_rdlock(&e->cat);
	f = c->fields;
	eng_fields_ref(f);
	pthread_rwlock_unlock(&e->cat);
	return f;
}

int eng_fields_read(struct store_txn *txn, uint32_t cid,
		    struct eng_fields **out, struct mfs_err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = store_fields_get(txn, cid, &text, &len);

	if (rc < 0)
		return mfs_errf(err, rc, "cannot read the fields of a collection");
	rc = eng_fields_new(text ? text : "", len, out, err);
	free(text);
	if (rc == -EINVAL)
		rc = mfs_err_prefix(err, -EIO, "stored field schema is corrupt");
	return rc;
}

int eng_fields_get(struct eng *e, const char *coll, struct eng_fields **out,
		   struct mfs_err *err)
{
	struct eng_coll *c;

	pthread_rwlock_rdlock(&e->cat);
	c = eng_coll_find(e, coll);
	if (!c) {
		pthread_rwlock_unlock(&e->cat);
		return eng_err_no_coll(err, -ENOENT, coll);
	}
	*out = c->fields;
	eng_fields_ref(*out);
	pthread_rwlock_unlock(&e->cat);
	return 0;
}

bool eng_coll_has_pk(struct eng *e, const char *coll)
{
	struct eng_coll *c;
	bool r = false;

	pthread_rwlock_rdlock(&e->cat);
	c = eng_coll_find(e, coll);
	if (c)
		r = c->fields->s.pk >= 0;
	pthread_rwlock_unlock(&e->cat);
	return r;
}

/* ---- columns ---- */

int eng_cols_new(struct eng_fields *f, struct eng_cols **out)
{
	struct eng_cols *k = calloc(1, sizeof(*k));

	if (!k)
		return -ENOMEM;
	if (fld_cols_init(&k->c, &f->s) < 0) {
		free(k);
		return -ENOMEM;
	}
	atomic_init(&k->refs, 1);
	eng_rwlock_init(&k->lock);
	eng_fields_ref(f);
	k->fields = f;
	*out = k;
	return 0;
}

void eng_cols_ref(struct eng_cols *k)
{
	eng_refs_take(&k->refs);
}

void eng_cols_unref(struct eng_cols *k)
{
	if (!k || !eng_refs_drop(&k->refs))
		return;
	fld_cols_fini(&k->c);
	free(k->perm);
	pthread_rwlock_destroy(&k->lock);
	eng_fields_put(k->fields);
	free(k);
}

static size_t cols_bytes(const struct eng_cols *k)
{
	return k->c.bytes + fld_sidx_bytes(&k->c) +
	       k->nperm * sizeof(*k->perm);
}

int eng_cols_index(struct eng_cols *k, struct mfs_err *err)
{
	const struct eng_fields *f = k->fields;

	for (size_t i = 0; f->sidx && i < f->s.n; i++) {
		int rc;

		if (!f->sidx[i][0])
			continue;
		rc = fld_sidx_build(&k->c, i, f->sidx[i], err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int eng_cols_append(struct eng *e, struct eng_cols *k, const int64_t *ids,
		    const uint8_t *rows, const size_t *row_end, size_t n)
{
	size_t before, after;
	int rc = 0;

	pthread_rwlock_wrlock(&k->lock);
	before = k->charged;
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t r0 = row_end && i ? row_end[i - 1] : 0;
		size_t rl = row_end ? row_end[i] - r0 : 0;

		rc = fld_cols_append(&k->c, ids[i], rows ? rows + r0 : NULL,
				     rl);
	}
	if (rc == 0)
		rc = fld_sidx_maintain(&k->c);
	after = cols_bytes(k);
	k->charged = after;
	pthread_rwlock_unlock(&k->lock);
	eng_mem_adjust(e, (int64_t)after - (int64_t)before);
	return rc;
}

void eng_cols_delete(struct eng_cols *k, const int64_t *ids, size_t n)
{
	uint32_t ep;

	pthread_rwlock_wrlock(&k->lock);
	ep = fld_cols_new_epoch(&k->c);
	for (size_t i = 0; i < n; i++)
		fld_cols_delete(&k->c, ids[i], ep);
	pthread_rwlock_unlock(&k->lock);
}

/* Columns are append-only (a reader's row numbers stay valid), so a
 * delete leaves a dead row: a partition that stays loaded through inserts
 * and deletes held 12 bytes (id, delete epoch) and more for every entity
 * it ever had (the soak: RssAnon 15 -> 44 MiB in 10 minutes).  Once the
 * dead rows are COLS_TIDY_MIN or more and outnumber the live ones, the
 * live rows are copied into new columns that replace the old, as a fresh
 * load would make them: queries under way keep their reference to the
 * old ones.  Each copy is paid for by as many deletes as it copies rows. */
#define COLS_TIDY_MIN 4096

void eng_part_cols_tidy(struct eng *e, struct eng_part *p)
{
	struct eng_cols *k, *nk = NULL;
	struct mfs_err err;
	size_t live, dead;
	bool swapped;
	int rc;

	pthread_rwlock_rdlock(&p->ilock);
	k = p->cols;
	if (k)
		eng_cols_ref(k);
	pthread_rwlock_unlock(&p->ilock);
	if (!k)
		return;
	pthread_rwlock_rdlock(&k->lock);
	live = fld_cols_live(&k->c);
	dead = k->c.n - live;
	rc = dead < COLS_TIDY_MIN || dead <= live ? 1 :
	     eng_cols_new(k->fields, &nk);
	if (rc == 0)
		rc = fld_cols_copy_live(&nk->c, &k->c);
	pthread_rwlock_unlock(&k->lock);
	mfs_err_clear(&err);
	if (rc == 0)
		rc = eng_cols_index(nk, &err);
	if (rc != 0) {                  /* not due, or no memory: keep k */
		eng_cols_unref(nk);
		eng_cols_unref(k);
		return;
	}
	nk->charged = cols_bytes(nk);
	eng_mem_adjust(e, (int64_t)nk->charged);
	pthread_rwlock_wrlock(&p->ilock);
	swapped = p->cols == k;
	if (swapped)
		p->cols = nk;
	pthread_rwlock_unlock(&p->ilock);
	if (swapped) {
		eng_cols_uncharge(e, k);
		eng_cols_unref(k);      /* p's reference */
	} else {                        /* released meanwhile */
		eng_cols_uncharge(e, nk);
		eng_cols_unref(nk);
	}
	eng_cols_unref(k);              /* ours */
}

void eng_cols_uncharge(struct eng *e, struct eng_cols *k)
{
	size_t c;

	pthread_rwlock_wrlock(&k->lock);
	c = k->charged;
	k->charged = 0;
	pthread_rwlock_unlock(&k->lock);
	eng_mem_adjust(e, -(int64_t)c);
}

/* ---- columns made after the load ---- */

struct cread_arg {
	struct eng_cols *k;
	uint32_t pid;
	size_t vb;
	uint64_t from, next;
	size_t n0;                      /* rows at the start of the txn */
};

static int cread_cb(void *arg, uint64_t seq, int64_t id, const void *val,
		    size_t len)
{
	struct cread_arg *a = arg;
	const uint8_t *row = (const uint8_t *)val + a->vb;

	if (len < a->vb || fld_row_check(a->k->c.s, row, len - a->vb) < 0)
		return -EIO;
	return fld_cols_append(&a->k->c, id, row, len - a->vb);
}

static int cread_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct cread_arg *a = arg;
	int rc;

	if (a->k->c.n != a->n0)
		return mfs_errf(err, -EIO, "columns read twice");
	rc = store_ent_scan(txn, a->pid, a->from, ENG_SCAN_CHUNK, cread_cb, a,
			    &a->next);
	if (rc == -EIO)
		return mfs_errf(err, rc, "corrupt entity in partition: wrong vector size or fields");
	if (rc < 0)
		return mfs_errf(err, rc, "cannot read partition");
	return 0;
}

int eng_part_cols_ensure(struct eng *e, struct eng_coll *c,
			 struct eng_part *p, struct mfs_err *err)
{
	struct eng_cols *k = NULL;
	struct store_coll rec;
	struct eng_fields *f;
	bool need;
	int rc = 0;

	pthread_rwlock_rdlock(&p->ilock);
	need = !p->cols;
	pthread_rwlock_unlock(&p->ilock);
	if (!need)
		return 0;
	pthread_mutex_lock(&p->wmu);
	pthread_rwlock_rdlock(&p->ilock);
	need = !p->cols && atomic_load(&p->state) == ENG_LOADED;
	pthread_rwlock_unlock(&p->ilock);
	if (!need)
		goto unlock;
	pthread_rwlock_rdlock(&e->cat);
	rec = c->rec;
	f = c->fields;
	eng_fields_ref(f);
	pthread_rwlock_unlock(&e->cat);
	rc = eng_cols_new(f, &k);
	eng_fields_put(f);
	if (rc < 0) {
		rc = mfs_errf(err, rc, "out of memory");
		goto unlock;
	}
	if (rec.dim) {
		struct cread_arg a = { .k = k, .pid = p->pid,
				       .vb = vec_bytes((enum vec_type)rec.vtype,
						       rec.dim) };

		for (;;) {
			a.n0 = k->c.n;
			rc = store_read(e->st, cread_txn, &a, err);
			if (rc < 0 || a.next == UINT64_MAX)
				break;
			a.from = a.next;
		}
	}
	if (rc == 0)
		rc = eng_cols_index(k, err);
	if (rc == 0) {
		size_t b = k->c.bytes + fld_sidx_bytes(&k->c);

		rc = eng_mem_charge(e, b, "query of a partition (its ids)",
				    "", err);
		if (rc == 0)
			k->charged = b;
	}
	if (rc == 0) {
		pthread_rwlock_wrlock(&p->ilock);
		if (atomic_load(&p->state) == ENG_LOADED && !p->cols) {
			p->cols = k;
			k = NULL;
		}
		pthread_rwlock_unlock(&p->ilock);
		if (k)
			eng_cols_uncharge(e, k);
	}
	eng_cols_unref(k);
unlock:
	pthread_mutex_unlock(&p->wmu);
	return rc;
}
