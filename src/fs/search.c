/* search.c - search/<name>: saved queries, inline queries, overrides
 * (SPEC §6).
 *
 * A name "base&k=v&..." is split at the first '&'.  The query text comes
 * from, in order: the saved query called by the whole name, the saved
 * query called base, or base itself read as an inline query (a vector or
 * id=N).  The pairs after '&' then override its parameters.  A saved query
 * whose name ends in ".fvecs" holds fvecs query vectors and no parameters.
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

bool fs_query_writing(struct fs *fs, const struct fs_node *n)
{
	bool found = false;

	pthread_mutex_lock(&fs->writers_lock);
	for (struct fs_file *f = fs->writers; f && !found; f = f->next_writer)
		found = same_query(&f->node, n);
	pthread_mutex_unlock(&fs->writers_lock);
	return found;
}

void fs_writers_add(struct fs *fs, struct fs_file *f)
{
	pthread_mutex_lock(&fs->writers_lock);
	f->next_writer = fs->writers;
	fs->writers = f;
	f->in_writers = true;
	pthread_mutex_unlock(&fs->writers_lock);
}

void fs_writers_del(struct fs *fs, struct fs_file *f)
{
	if (!f->in_writers)
		return;
	pthread_mutex_lock(&fs->writers_lock);
	for (struct fs_file **pp = &fs->writers; *pp; pp = &(*pp)->next_writer)
		if (*pp == f) {
			*pp = f->next_writer;
			break;
		}
	f->in_writers = false;
	pthread_mutex_unlock(&fs->writers_lock);
}

bool fs_query_exists(struct fs *fs, const struct fs_node *n)
{
	size_t blen;
	const char *params;

	/* a file being written exists before its first close saves it
	 * (cp does fstat on the new descriptor) */
	if (fs_query_writing(fs, n) || saved(fs, n, n->name))
		return true;
	fmt_query_split_name(n->name, &blen, &params);
	return params != NULL || looks_inline(n->name, blen);
}

/* Parse text into q: fvecs when the query's name says so. */
static int parse_text(struct fmt_query *q, bool fvecs, const char *text,
		      size_t len, struct mfs_err *err)
{
	if (fvecs)
		return fmt_query_parse_fvecs(q, text, len, err);
	return fmt_query_parse(q, text, len, err);
}

/* Fill q from node n's name, or from text when not NULL. */
static int build(struct fs *fs, const struct fs_node *n, const char *text,
		 size_t len, struct fmt_query *q, struct mfs_err *err)
{
	char base[STORE_NAME_MAX + 1];
	const char *params = NULL;
	char *saved_text = NULL;
	size_t blen, slen;
	int rc;

	fmt_query_split_name(n->name, &blen, &params);
	memcpy(base, n->name, blen);
	base[blen] = '\0';
	if (text) {
		rc = parse_text(q, ends_with_fvecs(base, blen), text, len, err);
	} else if (eng_query_get(fs->eng, n->coll, fs_node_part(n), n->name,
				 &saved_text, &slen, NULL) == 0) {
		params = NULL;  /* the whole name is a saved query's */
		rc = parse_text(q, ends_with_fvecs(n->name, strlen(n->name)),
				saved_text, slen, err);
	} else if (eng_query_get(fs->eng, n->coll, fs_node_part(n), base,
				 &saved_text, &slen, NULL) == 0) {
		rc = parse_text(q, ends_with_fvecs(base, blen), saved_text,
				slen, err);
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
	free(saved_text);
	if (rc == 0 && params)
		rc = fmt_query_params(q, params, strlen(params), err);
	return rc;
}

int fs_query_run(struct fs *fs, const struct fs_node *n, const char *text,
		 size_t len, struct mfs_buf *out, struct mfs_err *err)
{
	const char *parts[FMT_QUERY_PARTS_MAX];
	struct eng_result res;
	struct eng_schema s;
	struct fmt_query *q;
	int rc;

	rc = eng_schema_get(fs->eng, n->coll, &s, err);
	if (rc < 0)
		return rc;
	q = malloc(sizeof(*q));
	if (!q)
		return mfs_errf(err, -ENOMEM, "out of memory");
	fmt_query_init(q, s.vtype, s.dim);
	rc = build(fs, n, text, len, q, err);
	if (rc == -EINVAL && s.dim)
		mfs_err_prefix(err, rc, "query on %s (dim=%u)", n->coll, s.dim);
	if (rc < 0)
		goto out_query;
	for (size_t i = 0; i < q->nparts; i++)
		parts[i] = q->parts[i];
	struct eng_query eq = {
		.k = q->k,
		.offset = q->offset,
		.parts = q->nparts ? parts : NULL,
		.nparts = q->nparts,
		.nq = q->by_id ? 1 : q->q.n,
		.vecs = q->q.vecs,
		.by_id = q->by_id,
		.id = q->id,
		.params = &q->params,
		.dim = q->q.dim,
	};
	memset(&res, 0, sizeof(res));
	rc = eng_search(fs->eng, n->coll, fs_node_part(n), &eq, &res, err);
	if (rc < 0)
		goto out_query;
	mfs_buf_reset(out);
	rc = fmt_results(out, q->json, res.nq, res.k, res.count, res.ids,
			 res.dist);
	if (rc < 0)
		rc = mfs_errf(err, rc, "results too large");
	eng_result_free(&res);
out_query:
	fmt_query_fini(q);
	free(q);
	return rc;
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
	return eng_query_put(fs->eng, n->coll, fs_node_part(n), n->name, text,
			     len, err);
}
