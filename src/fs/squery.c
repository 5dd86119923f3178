/* squery.c - query/<name>: scalar queries (SPEC §9) in the three forms of
 * search/ (inline name, saved query, read-write descriptor).
 *
 * The name "expr&key=value&..." splits at the first '&' that starts a
 * known parameter (fmt_squery_split_name), so `&&` stays in the
 * expression.  The base is a saved query's name if one is saved, else the
 * expression itself.  The query is checked and started at open (errors
 * come back from open: ENODATA, EAGAIN, EINVAL), consistent as of that
 * moment (eng_fq_start); its results are then made as the reader
 * advances, CHUNK_BYTES at a time, so an unbounded query costs the daemon
 * a window of output, not the whole answer.  A read before the window
 * runs the query again (from a new start).
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES (256u * 1024u)

struct fs_squery {
	struct eng_fields *fields;      /* a reference */
	struct fld_expr *expr;          /* NULL: every entity */
	struct fmt_qsel sel;
	enum fmt_qformat format;
	struct eng_fq *job;
	struct eng_schema schema;       /* vector type and dim */
	uint64_t nth;                   /* rows made so far */
	bool ended;                     /* the closing text is out */
};

void fs_squery_free(struct fs_squery *q)
{
	if (!q)
		return;
	eng_fq_end(q->job);
	fld_expr_free(q->expr);
	eng_fields_put(q->fields);
	free(q);
}

static bool saved(struct fs *fs, const struct fs_node *n, const char *name,
		  char **text, size_t *len)
{
	char *t = NULL;
	size_t l = 0;

	if (eng_squery_get(fs->eng, n->coll, fs_node_part(n), name, &t, &l,
			   NULL) < 0)
		return false;
	if (text) {
		*text = t;
		*len = l;
	} else {
		free(t);
	}
	return true;
}

static bool looks_inline(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (strchr(" <>=!()[]\"'%+-*/,", s[i]))
			return true;
	return len && s[0] >= '0' && s[0] <= '9';
}

/* Does the bare word base[0, len) parse as an expression (a BOOL
 * field, true, a dynamic key)? */
static bool bare_expr(struct fs *fs, const struct fs_node *n,
		      const char *base, size_t len)
{
	struct eng_fields *f;
	struct fld_expr *x = NULL;
	bool r = false;

	if (len && eng_fields_get(fs->eng, n->coll, &f, NULL) == 0) {
		r = fld_expr_parse(base, len, eng_fields_schema(f), &x,
				   NULL) == 0;
		fld_expr_free(x);
		eng_fields_put(f);
	}
	return r;
}

bool fs_squery_exists(struct fs *fs, const struct fs_node *n)
{
	const char *params;
	size_t blen;

	fmt_squery_split_name(n->name, &blen, &params);
	if (params != NULL || looks_inline(n->name, blen))
		return true;
	if (fs_query_writing(fs, n) || saved(fs, n, n->name, NULL, NULL))
		return true;
	/* A bare word: an expression if it parses (a BOOL field). */
	return bare_expr(fs, n, n->name, blen);
}

/* The parameters of node n (text: what a descriptor wrote, or NULL). */
static int gather(struct fs *fs, const struct fs_node *n, const char *text,
		  size_t len, struct fmt_squery *q, struct mfs_err *err)
{
	const char *params;
	size_t blen;
	int rc;

	fmt_squery_split_name(n->name, &blen, &params);
	if (text) {
		rc = fmt_squery_parse(q, text, len, err);
	} else {
		char base[STORE_NAME_MAX + 1], *st = NULL;
		size_t sl = 0;

		memcpy(base, n->name, blen);
		base[blen] = '\0';
		if (blen && saved(fs, n, base, &st, &sl)) {
			rc = fmt_squery_parse(q, st, sl, err);
			free(st);
		} else if (blen && !looks_inline(base, blen) &&
			   !bare_expr(fs, n, base, blen)) {
			/* a bare word that is neither saved nor an
			 * expression: the saved query it names is gone */
			rc = mfs_errf(err, -ENOENT, "saved query not found: %s",
				      base);
		} else {
			rc = fmt_squery_parse(q, base, blen, err);
		}
	}
	if (rc == 0 && params)
		rc = fmt_squery_params(q, params, strlen(params), err);
	return rc;
}

/* Parse what the query needs against the collection's schema. */
static int prepare(struct fs *fs, const struct fs_node *n,
		   const struct fmt_squery *q, struct fs_squery *s,
		   struct mfs_err *err)
{
	const struct fld_schema *sc;
	int rc;

	rc = eng_fields_get(fs->eng, n->coll, &s->fields, err);
	if (rc < 0)
		return rc;
	sc = eng_fields_schema(s->fields);
	if (q->filter.len) {
		rc = fld_expr_parse(q->filter.data, q->filter.len, sc,
				    &s->expr, err);
		if (rc < 0)
			return rc;
	}
	rc = fmt_qsel_parse(&s->sel, q->has_output ? q->output.data : NULL,
			    q->output.len, sc, err);
	if (rc < 0)
		return rc;
	s->format = q->format;
	return eng_schema_get(fs->eng, n->coll, &s->schema, err);
}

int fs_squery_start(struct fs *fs, const struct fs_node *n, const char *text,
		    size_t len, struct fs_squery **out, struct mfs_buf *first,
		    struct mfs_err *err)
{
	struct fs_squery *s = calloc(1, sizeof(*s));
	struct fmt_squery q;
	const char *parts[FMT_QUERY_PARTS_MAX];
	struct eng_fquery eq = { 0 };
	bool vectors = false;
	int rc;

	if (!s)
		return mfs_errf(err, -ENOMEM, "out of memory");
	fmt_squery_init(&q);
	rc = gather(fs, n, text, len, &q, err);
	if (rc == 0)
		rc = prepare(fs, n, &q, s, err);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < q.nparts; i++)
		parts[i] = q.parts[i];
	for (size_t i = 0; i < s->sel.n; i++)
		vectors |= s->sel.it[i].field == -2;
	eq.filter = s->expr;
	eq.parts = parts;
	eq.nparts = q.nparts;
	eq.offset = q.offset;
	eq.limit = q.limit;
	eq.count = s->sel.count;
	eq.vectors = vectors;
	rc = eng_fq_start(fs->eng, n->coll, fs_node_part(n), &eq, &s->job,
			  err);
	if (rc < 0)
		goto fail;
	if (s->sel.count) {
		rc = mfs_buf_printf(first, "%" PRIu64 "\n",
				    eng_fq_count(s->job));
		s->ended = true;
		if (rc < 0) {
			rc = mfs_errf(err, rc, "out of memory");
			goto fail;
		}
	}
	fmt_squery_fini(&q);
	*out = s;
	return 0;
fail:
	fmt_squery_fini(&q);
	fs_squery_free(s);
	return rc;
}

struct row_arg {
	struct fs_squery *s;
	struct mfs_buf *out;
};

static int row_cb(void *arg, const struct eng_fq_row *r)
{
	struct row_arg *a = arg;
	struct fs_squery *s = a->s;
	int rc = fmt_qrow(a->out, s->format, &s->sel, r->cols, r->row, r->id,
			  r->vec, s->schema.vtype, s->schema.dim, s->nth);

	if (rc == 0)
		s->nth++;
	return rc;
}

/* Make at least one more chunk of output into out (or the end). */
static int more(struct fs_squery *s, struct mfs_buf *out, struct mfs_err *err)
{
	struct row_arg a = { s, out };
	size_t target = out->len + CHUNK_BYTES, got = 0;
	int rc = 0;

	while (!s->ended && out->len < target) {
		rc = eng_fq_next(s->job, 256, row_cb, &a, &got, err);
		if (rc > 0 || rc == -ENOMEM || rc == -EFBIG)
			return mfs_errf(err, rc > 0 ? -ENOMEM : rc,
					"out of memory");
		if (rc < 0)
			return rc;
		if (got == 0) {
			rc = fmt_qend(out, s->format, &s->sel, s->nth);
			if (rc < 0)
				return mfs_errf(err, rc, "out of memory");
			s->ended = true;
		}
	}
	return 0;
}

int fs_squery_read(struct fs *fs, struct fs_file *f, char *buf, size_t size,
		   uint64_t off, size_t *got, struct mfs_err *err)
{
	int rc;

	*got = 0;
	if (off < f->out_off) {
		/* Before the window: run it again. */
		struct fs_squery *s = NULL;

		mfs_buf_reset(&f->out);
		f->out_off = 0;
		rc = fs_squery_start(fs, &f->node, f->qtext.len ?
				     f->qtext.data : NULL, f->qtext.len, &s,
				     &f->out, err);
		if (rc < 0)
			return rc;
		fs_squery_free(f->squery);
		f->squery = s;
	}
	for (;;) {
		uint64_t end = f->out_off + f->out.len;

		if (off + size <= end || !f->squery || f->squery->ended)
			break;
		fs_window_advance(f, off);
		rc = more(f->squery, &f->out, err);
		if (rc < 0)
			return rc;
	}
	*got = fs_window_copy(f, off, buf, size);
	return 0;
}

int fs_squery_save(struct fs *fs, const struct fs_node *n, const char *text,
		   size_t len, struct mfs_err *err)
{
	struct fs_squery *s = calloc(1, sizeof(*s));
	struct fmt_squery q;
	int rc;

	if (!s)
		return mfs_errf(err, -ENOMEM, "out of memory");
	if (strchr(n->name, '&')) {
		free(s);
		return mfs_errf(err, -EINVAL, "a saved query's name cannot "
				"contain '&' (it starts the overrides), got "
				"'%s'", n->name);
	}
	/* Check it as it would run: parameters, expression, fields. */
	fmt_squery_init(&q);
	rc = fmt_squery_parse(&q, text, len, err);
	if (rc == 0)
		rc = prepare(fs, n, &q, s, err);
	fmt_squery_fini(&q);
	fs_squery_free(s);
	if (rc < 0)
		return rc;
	return eng_squery_put(fs->eng, n->coll, fs_node_part(n), n->name,
			      text, len, err);
}
