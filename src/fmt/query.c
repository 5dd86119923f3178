/* query.c - search queries (SPEC §6): parameters, vectors, names.
 *
 * Every entry point works on a heap copy of the query and writes it back
 * only on success, so a bad override leaves the query as it was.  The copy
 * is shallow: the vector batch's storage is shared, and on failure its
 * (possibly moved) pointers are kept with n and dim put back.
 */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/limits.h"
#include "base/sparam.h"

void fmt_query_init(struct fmt_query *q, enum vec_type vtype, uint32_t dim)
{
	q->k = 10;
	q->offset = 0;
	q->json = false;
	q->by_id = false;
	q->id = 0;
	q->nparts = 0;
	mfs_kv_init(&q->params);
	fmt_batch_init(&q->q, vtype, dim);
}

void fmt_query_fini(struct fmt_query *q)
{
	if (q)
		fmt_batch_fini(&q->q);
}

void fmt_query_split_name(const char *name, size_t *base_len,
			  const char **params)
{
	const char *amp = strchr(name, '&');

	*base_len = amp ? (size_t)(amp - name) : strlen(name);
	*params = amp ? amp + 1 : NULL;
}

static int set_parts(struct fmt_query *q, const char *val, struct mfs_err *err)
{
	const char *p = val;

	q->nparts = 0;
	while (*p) {
		const char *c = strchr(p, ',');
		size_t n = c ? (size_t)(c - p) : strlen(p);
		char name[MFS_NAME_MAX + 2];
		bool dup = false;
		int rc;

		if (n > MFS_NAME_MAX + 1)
			n = MFS_NAME_MAX + 1;   /* fmt_name_check reports the length */
		memcpy(name, p, n);
		name[n] = '\0';
		rc = fmt_name_check("partition", name, err);
		if (rc)
			return rc;
		for (size_t i = 0; i < q->nparts && !dup; i++)
			dup = strcmp(q->parts[i], name) == 0;
		if (!dup) {
			if (q->nparts == FMT_QUERY_PARTS_MAX)
				return mfs_errf(err, -EINVAL,
						"partitions: at most %d names", FMT_QUERY_PARTS_MAX);
			strcpy(q->parts[q->nparts++], name);
		}
		if (!c)
			break;
		p = c + 1;
		if (!*p)
			return mfs_errf(err, -EINVAL,
					"partitions: expected a name after ','");
	}
	return 0;
}

static int set_int_param(struct fmt_query *q, const char *key, const char *val,
			 long lo, long hi, struct mfs_err *err)
{
	long v;
	char ex[48];

	if (mfs_parse_long(val, lo, hi, &v))
		return mfs_errf(err, -EINVAL, "%s must be an integer in [%ld, %ld], got '%s'",
				key, lo, hi, mfs_excerpt(ex, sizeof(ex), val, strlen(val)));
	return mfs_kv_set(&q->params, key, val, err);
}

static int apply(struct fmt_query *q, const char *key, const char *val,
		 struct mfs_err *err)
{
	char ex[48];
	long v;

	mfs_excerpt(ex, sizeof(ex), val, strlen(val));
	if (!strcmp(key, "k") || !strcmp(key, "limit") || !strcmp(key, "top_k")) {
		if (mfs_parse_long(val, 1, MFS_TOPK_MAX, &v))
			return mfs_errf(err, -EINVAL,
					"topk [%s] is invalid, it should be in range [1, %d]",
					ex, MFS_TOPK_MAX);
		q->k = (size_t)v;
	} else if (!strcmp(key, "offset")) {
		if (mfs_parse_long(val, 0, MFS_TOPK_MAX, &v))
			return mfs_errf(err, -EINVAL,
					"offset [%s] is invalid, it should be in range [0, %d]",
					ex, MFS_TOPK_MAX);
		q->offset = (size_t)v;
	} else if (!strcmp(key, "format")) {
		if (!strcmp(val, "json") || !strcmp(val, "JSON"))
			q->json = true;
		else if (!strcmp(val, "tsv") || !strcmp(val, "TSV"))
			q->json = false;
		else
			return mfs_errf(err, -EINVAL,
					"format must be tsv or json, got '%s'", ex);
	} else if (!strcmp(key, "partitions")) {
		return set_parts(q, val, err);
	} else if (!strcmp(key, "id")) {
		int64_t id;

		if (fmt_parse_i64(val, val + strlen(val), &id))
			return mfs_errf(err, -EINVAL,
					"id must be a 64-bit integer, got '%s'", ex);
		q->by_id = true;
		q->id = id;
	} else {
		/* the rest as the table (base/sparam.h) says: kept as text in
		 * q->params for the engine (ef, nprobe, radius, ...) or for
		 * the fs layer (filter, output_fields) */
		const struct mfs_sparam *sp = mfs_sparam_find(key);
		float f;

		if (!sp)
			return mfs_errf(err, -EINVAL,
					"unknown search parameter '%s' (expected %s)",
					mfs_excerpt(ex, sizeof(ex), key, strlen(key)),
					mfs_sparam_names());
		switch (sp->kind) {
		case MFS_SP_INT:
			return set_int_param(q, key, val, sp->lo, sp->hi, err);
		case MFS_SP_FLOAT:
			if (fmt_parse_float(val, val + strlen(val), &f))
				return mfs_errf(err, -EINVAL,
						"%s must be a finite number, got '%s'",
						key, ex);
			break;
		case MFS_SP_BOOL:
			if (strcmp(val, "true") && strcmp(val, "false") &&
			    strcmp(val, "True") && strcmp(val, "False"))
				return mfs_errf(err, -EINVAL,
						"%s must be true or false, got '%s'",
						key, ex);
			break;
		case MFS_SP_TEXT:
		case MFS_SP_WORD:
			if (!val[0])
				return mfs_errf(err, -EINVAL,
						"%s: expected a value after '='",
						key);
			break;
		}
		return mfs_kv_set(&q->params, key, val, err);
	}
	return 0;
}

/* ---- parameter text ----
 *
 * Pairs are separated by blanks, newlines or '&' (as fmt_kv_parse reads
 * them), except that the value of a text parameter (filter,
 * output_fields: base/sparam.h) takes the rest of its line in a query
 * text, and in a name (after its base) runs to the next '&' that starts a
 * known parameter and '=' (SPEC §9, §10: `&&` stays in an expression). */

/* Does [s, e) start with a known parameter name and '='? */
static bool known_at(const char *s, const char *e)
{
	const char *eq = s;

	while (eq < e && *eq != '=' && !fmt_pair_sep((unsigned char)*eq))
		eq++;
	return eq < e && *eq == '=' && mfs_sparam_findn(s, (size_t)(eq - s));
}

static int apply_pair(struct fmt_query *q, const char *k, size_t kl,
		      const char *v, size_t vl, struct mfs_err *err)
{
	char key[MFS_KV_KEY_MAX], *val, ex[48];
	int rc;

	if (kl >= MFS_KV_KEY_MAX)
		return mfs_errf(err, -EINVAL,
				"unknown search parameter '%s' (expected %s)",
				mfs_excerpt(ex, sizeof(ex), k, kl),
				mfs_sparam_names());
	if ((rc = fmt_pair_strings(k, kl, v, vl, key, &val, err)) < 0)
		return rc;
	rc = apply(q, key, val, err);
	free(val);
	return rc;
}

/* Apply the pairs of [p, e); name: the overrides of a name (text values
 * end at the next known '&key='), else one line of a query text. */
static int pairs_into(struct fmt_query *q, const char *p, const char *e,
		      bool name, struct mfs_err *err)
{
	if (!fmt_text_clean(p, (size_t)(e - p)))
		return mfs_errf(err, -EINVAL,
				"expected key=value text, got binary data or invalid UTF-8");
	for (;;) {
		const char *t, *eq, *ve;
		const struct mfs_sparam *sp;
		int rc = fmt_pair_next(&p, e, name ? 0 : '#', &t, &eq, err);

		if (rc)
			return rc < 0 ? rc : 0;
		sp = mfs_sparam_findn(t, (size_t)(eq - t));
		ve = p;
		if (sp && sp->kind == MFS_SP_TEXT) {
			if (!name) {
				ve = e;
			} else {
				for (ve = eq + 1; ve < e; ve++)
					if (*ve == '&' && known_at(ve + 1, e))
						break;
			}
			while (ve > eq + 1 && fmt_isspace((unsigned char)ve[-1]))
				ve--;
			p = ve;
		}
		rc = apply_pair(q, t, (size_t)(eq - t), eq + 1,
				(size_t)(ve - eq - 1), err);
		if (rc)
			return rc;
	}
}

/* Cross-field rules, checked after every change. */
static int check_params(const struct fmt_query *q, struct mfs_err *err)
{
	if (q->k + q->offset > MFS_TOPK_MAX)
		return mfs_errf(err, -EINVAL,
				"topk + offset [%zu] is invalid, it should be in range [1, %d]",
				q->k + q->offset, MFS_TOPK_MAX);
	if (q->by_id && q->q.n)
		return mfs_errf(err, -EINVAL,
				"query has both vectors and id=%lld: give one of them",
				(long long)q->id);
	return 0;
}

/* The final rule: something to search with. */
static int check_query(const struct fmt_query *q, struct mfs_err *err)
{
	if (!q->by_id && q->q.n == 0)
		return mfs_errf(err, -EINVAL, "query has no vector and no id=N");
	return check_params(q, err);
}

/* Apply params to t (a working copy): lines of pairs (name: the
 * overrides of a name). */
static int params_into(struct fmt_query *t, const char *text, size_t len,
		       bool name, struct mfs_err *err)
{
	const char *p = text, *e = text + len;
	int rc = 0;

	while (p < e && !rc) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *le = nl ? nl : e;

		rc = pairs_into(t, p, le, name, err);
		p = nl ? nl + 1 : e;
	}
	if (!rc)
		rc = check_params(t, err);
	return rc;
}

/* Copy a query's state, touching only the parameter and partition slots in
 * use (the struct is large; whole-struct copies cost a search measurable
 * time). */
static void query_copy(struct fmt_query *dst, const struct fmt_query *src)
{
	dst->k = src->k;
	dst->offset = src->offset;
	dst->json = src->json;
	dst->by_id = src->by_id;
	dst->id = src->id;
	dst->nparts = src->nparts;
	memcpy(dst->parts, src->parts, src->nparts * sizeof(src->parts[0]));
	dst->params.n = src->params.n;
	memcpy(dst->params.item, src->params.item,
	       src->params.n * sizeof(src->params.item[0]));
	dst->q = src->q;
}

int fmt_query_params(struct fmt_query *q, const char *text, size_t len,
		     struct mfs_err *err)
{
	struct fmt_query *t = malloc(sizeof(*t));
	int rc;

	if (!t)
		return mfs_errf(err, -ENOMEM, "out of memory");
	query_copy(t, q);
	rc = params_into(t, text, len, true, err);
	if (!rc)
		query_copy(q, t);
	free(t);
	return rc;
}

/* Vector lines [s, e) starting at line number line0 into t. */
static int vectors_into(struct fmt_query *t, const char *s, const char *e,
			size_t line0, struct mfs_err *err)
{
	size_t n0 = t->q.n, used;
	int rc;

	if (s == e)
		return 0;
	rc = fmt_text_parse(s, (size_t)(e - s), line0, true, &t->q, &used, err);
	for (size_t i = n0; !rc && i < t->q.n; i++)
		if (t->q.has_id[i])
			rc = mfs_errf(err, -EINVAL,
				      "line %zu: a query vector takes no id (expected values only)",
				      t->q.line[i]);
	if (rc)
		t->q.n = n0;
	return rc;
}

/* Parameter lines (those with '=') and vector lines, in any order;
 * consecutive vector lines go to fmt_text_parse together. */
static int text_into(struct fmt_query *t, const char *text, size_t len,
		     struct mfs_err *err)
{
	const char *run = text, *p = text, *e = text + len;
	size_t line = 1, run_line = 1;
	int rc;

	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		const char *le = nl ? nl : e;

		if (le - p > (ptrdiff_t)FMT_LINE_MAX)
			return mfs_errf(err, -EINVAL, "line %zu: line longer than %u bytes",
					line, FMT_LINE_MAX);
		if (memchr(p, '=', (size_t)(le - p))) {
			rc = vectors_into(t, run, p, run_line, err);
			if (rc)
				return rc;
			rc = params_into(t, p, (size_t)(le - p), false, err);
			if (rc)         /* name the line in a many-line query */
				return memchr(text, '\n', len) ?
					mfs_err_prefix(err, rc, "line %zu", line) : rc;
			run = nl ? nl + 1 : e;
			run_line = line + 1;
		}
		p = nl ? nl + 1 : e;
		line++;
	}
	return vectors_into(t, run, e, run_line, err);
}

static int parse_common(struct fmt_query *q, const char *text, size_t len,
			const char *params, struct mfs_err *err)
{
	struct fmt_query *t = malloc(sizeof(*t));
	size_t n0 = q->q.n;
	uint32_t dim0 = q->q.dim;
	int rc;

	if (!t)
		return mfs_errf(err, -ENOMEM, "out of memory");
	query_copy(t, q);
	rc = text_into(t, text, len, err);
	if (!rc && params)
		rc = params_into(t, params, strlen(params), true, err);
	if (!rc)
		rc = check_query(t, err);
	if (rc) {
		q->q = t->q;            /* storage may have moved */
		q->q.n = n0;
		q->q.dim = dim0;
	} else {
		query_copy(q, t);
	}
	free(t);
	return rc;
}

int fmt_query_parse(struct fmt_query *q, const char *text, size_t len,
		    struct mfs_err *err)
{
	return parse_common(q, text, len, NULL, err);
}

int fmt_query_parse_name(struct fmt_query *q, const char *name,
			 struct mfs_err *err)
{
	size_t base_len;
	const char *params;

	fmt_query_split_name(name, &base_len, &params);
	return parse_common(q, name, base_len, params, err);
}

int fmt_query_parse_fvecs(struct fmt_query *q, const void *data, size_t len,
			  struct mfs_err *err)
{
	size_t n0 = q->q.n, used;
	uint32_t dim0 = q->q.dim;
	int rc = fmt_fvecs_parse(data, len, 1, &q->q, &used, err);

	if (!rc && used != len)
		rc = mfs_errf(err, -EINVAL,
			      "record %zu: truncated: %zu bytes left over after the last whole record",
			      q->q.n - n0 + 1, len - used);
	if (!rc)
		rc = check_query(q, err);
	if (rc) {
		q->q.n = n0;
		q->q.dim = dim0;
	}
	return rc;
}
