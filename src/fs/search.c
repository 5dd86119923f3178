/* search.c - search/<name>: saved queries, inline queries, overrides
 * (SPEC §6).
 *
 * A name "base&k=v&..." is split at the first '&'.  The query comes from,
 * in order: the saved query called base (a saved query's name has no '&'),
 * or base itself read as an inline query (a vector or id=N).  The pairs
 * after '&' then override its parameters.  A saved query whose name ends
 * in ".fvecs" holds fvecs query vectors and no parameters.  Saved queries
 * are kept parsed (qcache.c) after their first search.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool ends_with_fvecs(const char *name, size_t len)
{
	return len >= 6 && memcmp(name + len - 6, ".fvecs", 6) == 0;
}

/* Could base be meant as an inline query?  Then a lookup reports a file,
 * and open says what is wrong with it rather than a bare ENOENT. */
static bool looks_inline(const char *base, size_t len)
{
	if (len == 0)
		return false;
	if (memchr(base, '=', len))
		return true;
	return strchr("0123456789-+[{", base[0]) != NULL;
}

static bool saved(struct fs *fs, const struct fs_node *n, const char *name)
{
	char *text = NULL;
	size_t len;

	if (eng_query_get(fs->eng, n->coll, fs_node_part(n), name, &text,
			  &len, NULL) < 0)
		return false;
	free(text);
	return true;
}

static bool same_query(const struct fs_node *a, const struct fs_node *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->coll, b->coll) == 0
		&& strcmp(a->part, b->part) == 0;
}

/* An open descriptor on search/<name> of n: a writer, or (writer false) a
 * reader whose results are made; its results' length in *size (NULL
 * allowed).  Takes fs->files_lock. */
static bool open_query(struct fs *fs, const struct fs_node *n, bool writer,
		       uint64_t *size)
{
	bool found = false;

	pthread_mutex_lock(&fs->files_lock);
	for (struct fs_file *f = fs->files; f && !found; f = f->next_file)
		if (f->node.kind == n->kind && f->qwriter == writer &&
		    (writer || f->qsize) && same_query(&f->node, n)) {
			if (size)
				*size = f->qsize;
			found = true;
		}
	pthread_mutex_unlock(&fs->files_lock);
	return found;
}

bool fs_query_writing(struct fs *fs, const struct fs_node *n)
{
	return open_query(fs, n, true, NULL);
}

bool fs_query_open_size(struct fs *fs, const struct fs_node *n,
			uint64_t *size)
{
	return open_query(fs, n, false, size);
}

bool fs_query_exists(struct fs *fs, const struct fs_node *n)
{
	size_t blen;
	const char *params;

	fmt_query_split_name(n->name, &blen, &params);
	if (params != NULL || looks_inline(n->name, blen))
		return true;
	/* a file being written exists before its first close saves it
	 * (cp does fstat on the new descriptor) */
	return fs_query_writing(fs, n) ||
		fs_qcache_has(&fs->qcache, n, n->name) ||
		saved(fs, n, n->name);
}

/* Parse text into q: fvecs when the query's name says so. */
static int parse_text(struct fmt_query *q, bool fvecs, const char *text,
		      size_t len, struct mfs_err *err)
{
	if (fvecs)
		return fmt_query_parse_fvecs(q, text, len, err);
	return fmt_query_parse(q, text, len, err);
}

/* Fill q from the query saved as name, kept parsed or read from the store
 * (and then kept).  *found says whether there is one; *ent gets the cache
 * reference when q borrows the kept vectors. */
static int saved_query(struct fs *fs, const struct fs_node *n,
		       const char *name, const struct eng_schema *s,
		       struct fmt_query *q, bool *found, struct fs_qent **ent,
		       struct mfs_err *err)
{
	uint64_t gen;
	char *text = NULL;
	size_t len;
	int rc;

	*ent = fs_qcache_get(&fs->qcache, n, name, q);
	*found = *ent != NULL;
	if (*found)
		return 0;
	gen = fs_qcache_gen(&fs->qcache);
	if (eng_query_get(fs->eng, n->coll, fs_node_part(n), name, &text,
			  &len, NULL) < 0)
		return 0;
	*found = true;
	if (len == 0) {
		/* made by `: > search/q` (ops_file.c) */
		free(text);
		return mfs_errf(err, -EINVAL, "saved query %s is empty: write "
				"parameter lines and query vectors to it "
				"(printf 'k=5\\n0.1,0.2\\n' > search/%s)",
				name, name);
	}
	rc = parse_text(q, ends_with_fvecs(name, strlen(name)), text, len,
			err);
	free(text);
	if (rc == 0)
		*ent = fs_qcache_add(&fs->qcache, gen, n, name, s->vtype,
				     s->dim, q);
	return rc;
}

/* Fill q from node n's name, or from text when not NULL.  A saved query's
 * name has no '&' (fs_query_save), so the name is looked up only up to
 * its first '&'. */
static int build(struct fs *fs, const struct fs_node *n, const char *text,
		 size_t len, const struct eng_schema *s, struct fmt_query *q,
		 struct fs_qent **ent, struct mfs_err *err)
{
	char base[STORE_NAME_MAX + 1];
	const char *params = NULL;
	size_t blen;
	bool found = false;
	int rc;

	fmt_query_split_name(n->name, &blen, &params);
	memcpy(base, n->name, blen);
	base[blen] = '\0';
	if (text) {
		rc = parse_text(q, ends_with_fvecs(base, blen), text, len, err);
	} else if ((rc = saved_query(fs, n, base, s, q, &found, ent,
				     err)) < 0 || found) {
		/* rc says how the saved query parsed */
	} else if (looks_inline(base, blen)) {
		/* base and overrides together: "k=3&id=42" is a query too */
		rc = fmt_query_parse_name(q, n->name, err);
		params = NULL;
	} else if (fmt_query_parse_name(q, n->name, NULL) == 0) {
		/* e.g. a hex binary vector that starts with a letter */
		params = NULL;
		rc = 0;
	} else {
		rc = mfs_errf(err, -ENOENT, "query '%s' not found: no saved "
			      "query of that name in %s%s%s/search", base,
			      n->coll, n->part[0] ? "/" : "", n->part);
	}
	if (rc == 0 && params)
		rc = fmt_query_params(q, params, strlen(params), err);
	return rc;
}

/* A search started (checked, its partitions taken), not yet run. */
struct fs_search {
	struct fmt_query *q;
	struct fs_qent *ent;            /* the kept query q borrows from */
	const char *parts[FMT_QUERY_PARTS_MAX];
	struct eng_query eq;
	struct eng_search_job *job;
	struct eng_fields *fields;      /* a reference: filter, output */
	struct fld_expr *filter;        /* SPEC §10 filter=, parsed */
	struct fmt_qsel *sel;           /* SPEC §10 output_fields= */
};

void fs_query_drop(struct fs *fs, struct fs_search *s)
{
	if (!s)
		return;
	eng_search_end(s->job);
	fld_expr_free(s->filter);
	free(s->sel);
	eng_fields_put(s->fields);
	fs_qcache_release(&fs->qcache, s->ent, s->q);
	fmt_query_fini(s->q);
	free(s->q);
	free(s);
}

/* SPEC §10: the filter expression and output fields of q, parsed against
 * the collection's fields into s. */
static int fields_of(struct fs *fs, const struct fs_node *n,
		     const struct fmt_query *q, struct fs_search *s,
		     struct mfs_err *err)
{
	const char *ft = mfs_kv_get(&q->params, "filter");
	const char *ot = mfs_kv_get(&q->params, "output_fields");
	const struct fld_schema *sc;
	int rc;

	if (!ft && !ot)
		return 0;
	rc = eng_fields_get(fs->eng, n->coll, &s->fields, err);
	if (rc < 0)
		return rc;
	sc = eng_fields_schema(s->fields);
	if (ft) {
		rc = fld_expr_parse(ft, strlen(ft), sc, &s->filter, err);
		if (rc < 0)
			return rc;
	}
	if (ot) {
		s->sel = malloc(sizeof(*s->sel));
		if (!s->sel)
			return mfs_errf(err, -ENOMEM, "out of memory");
		rc = fmt_qsel_parse(s->sel, ot, strlen(ot), sc, err);
		if (rc < 0)
			return rc;
		if (s->sel->count)
			return mfs_errf(err, -EINVAL, "output_fields: count(*) "
					"is for query/, not for a search");
		for (size_t i = 0; i < s->sel->n; i++)
			if (s->sel->it[i].field == -2)
				return mfs_errf(err, -EINVAL,
						"output_fields: vector is not "
						"printed with search hits (read "
						"entities/<id>)");
	}
	return 0;
}

int fs_query_start(struct fs *fs, const struct fs_node *n, const char *text,
		   size_t len, struct fs_search **out, struct mfs_err *err)
{
	struct eng_schema sch;
	struct fs_search *s;
	struct fmt_query *q;
	int rc;

	rc = eng_schema_get(fs->eng, n->coll, &sch, err);
	if (rc < 0)
		return rc;
	s = calloc(1, sizeof(*s));
	q = malloc(sizeof(*q));
	if (!s || !q) {
		free(s);
		free(q);
		return mfs_errf(err, -ENOMEM, "out of memory");
	}
	s->q = q;
	fmt_query_init(q, sch.vtype, sch.dim);
	rc = build(fs, n, text, len, &sch, q, &s->ent, err);
	if (rc == -EINVAL && sch.dim)
		mfs_err_prefix(err, rc, "query on %s (dim=%u)", n->coll,
			       sch.dim);
	if (rc < 0)
		goto fail;
	rc = fields_of(fs, n, q, s, err);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < q->nparts; i++)
		s->parts[i] = q->parts[i];
	s->eq = (struct eng_query){
		.k = q->k,
		.offset = q->offset,
		.parts = q->nparts ? s->parts : NULL,
		.nparts = q->nparts,
		.nq = q->by_id ? 1 : q->q.n,
		.vecs = q->q.vecs,
		.by_id = q->by_id,
		.id = q->id,
		.params = &q->params,
		.dim = q->q.dim,
		.filter = s->filter,
		.rows = s->sel != NULL,
	};
	rc = eng_search_start(fs->eng, n->coll, fs_node_part(n), &s->eq,
			      &s->job, err);
	if (rc < 0)
		goto fail;
	*out = s;
	return 0;
fail:
	fs_query_drop(fs, s);
	return rc;
}

struct hits_arg {
	const struct eng_result *r;
	struct fmt_hits h;
};

static int put_hit(void *arg, size_t i, size_t j, const struct fld_cols *c,
		   size_t row)
{
	struct hits_arg *a = arg;
	size_t at = i * a->r->k + j;

	return fmt_hits_hit(&a->h, i, a->r->ids[at], a->r->dist[at], c, row);
}

int fs_query_finish(struct fs *fs, struct fs_search *s, struct mfs_buf *out,
		    struct mfs_err *err)
{
	struct eng_result res;
	int rc;

	memset(&res, 0, sizeof(res));
	rc = eng_search_run(s->job, &res, err);
	if (rc == 0 && s->sel) {
		struct hits_arg a = { .r = &res };

		mfs_buf_reset(out);
		rc = fmt_hits_start(&a.h, out, s->q->json, s->sel);
		if (rc == 0)
			rc = eng_result_rows(&res, put_hit, &a);
		if (rc == 0)
			rc = fmt_hits_end(&a.h, res.nq);
		if (rc < 0)
			rc = mfs_errf(err, rc, "results too large");
	} else if (rc == 0) {
		mfs_buf_reset(out);
		rc = fmt_results(out, s->q->json, res.nq, res.k, res.count,
				 res.ids, res.dist);
		if (rc < 0)
			rc = mfs_errf(err, rc, "results too large");
	}
	eng_result_free(&res);
	fs_query_drop(fs, s);
	return rc;
}

int fs_query_run(struct fs *fs, const struct fs_node *n, const char *text,
		 size_t len, struct mfs_buf *out, struct mfs_err *err)
{
	struct fs_search *s;
	int rc = fs_query_start(fs, n, text, len, &s, err);

	if (rc < 0)
		return rc;
	return fs_query_finish(fs, s, out, err);
}

int fs_query_save(struct fs *fs, const struct fs_node *n, const char *text,
		  size_t len, struct mfs_err *err)
{
	struct eng_schema s;
	struct fmt_query *q;
	int rc;

	if (strchr(n->name, '&'))
		return mfs_errf(err, -EINVAL, "a saved query's name cannot "
				"contain '&' (it starts the overrides), got "
				"'%s'", n->name);
	rc = eng_schema_get(fs->eng, n->coll, &s, err);
	if (rc < 0)
		return rc;
	q = malloc(sizeof(*q));
	if (!q)
		return mfs_errf(err, -ENOMEM, "out of memory");
	fmt_query_init(q, s.vtype, s.dim);
	rc = parse_text(q, ends_with_fvecs(n->name, strlen(n->name)), text,
			len, err);
	fmt_query_fini(q);
	free(q);
	if (rc < 0)
		return rc;
	rc = eng_query_put(fs->eng, n->coll, fs_node_part(n), n->name, text,
			   len, err);
	fs_qcache_clear(&fs->qcache);
	return rc;
}
