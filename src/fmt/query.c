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

#define TOPK_MAX 16384

#define KNOWN "k, limit, top_k, offset, format, partitions, id, ef, nprobe, " \
	"search_k, radius, range_filter"

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
		char name[256 + 1];
		bool dup = false;
		int rc;

		if (n > 256)
			n = 256;        /* fmt_name_check reports the length */
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
				key, lo, hi, fmt_excerpt(ex, sizeof(ex), val, strlen(val)));
	return mfs_kv_set(&q->params, key, val, err);
}

static int apply(struct fmt_query *q, const char *key, const char *val,
		 struct mfs_err *err)
{
	char ex[48];
	long v;

	fmt_excerpt(ex, sizeof(ex), val, strlen(val));
	if (!strcmp(key, "k") || !strcmp(key, "limit") || !strcmp(key, "top_k")) {
		if (mfs_parse_long(val, 1, TOPK_MAX, &v))
			return mfs_errf(err, -EINVAL,
					"topk [%s] is invalid, it should be in range [1, %d]",
					ex, TOPK_MAX);
		q->k = (size_t)v;
	} else if (!strcmp(key, "offset")) {
		if (mfs_parse_long(val, 0, TOPK_MAX, &v))
			return mfs_errf(err, -EINVAL,
					"offset [%s] is invalid, it should be in range [0, %d]",
					ex, TOPK_MAX);
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
	} else if (!strcmp(key, "ef")) {
		return set_int_param(q, key, val, 1, 32768, err);
	} else if (!strcmp(key, "nprobe")) {
		return set_int_param(q, key, val, 1, 65536, err);
	} else if (!strcmp(key, "search_k")) {
		return set_int_param(q, key, val, -1, 2147483647L, err);
	} else if (!strcmp(key, "radius") || !strcmp(key, "range_filter")) {
		float f;

		if (fmt_parse_float(val, val + strlen(val), &f))
			return mfs_errf(err, -EINVAL,
					"%s must be a finite number, got '%s'", key, ex);
		return mfs_kv_set(&q->params, key, val, err);
	} else {
		return mfs_errf(err, -EINVAL,
				"unknown search parameter '%s' (expected " KNOWN ")",
				fmt_excerpt(ex, sizeof(ex), key, strlen(key)));
	}
	return 0;
}

/* Cross-field rules, checked after every change. */
static int check_params(const struct fmt_query *q, struct mfs_err *err)
{
	if (q->k + q->offset > TOPK_MAX)
		return mfs_errf(err, -EINVAL,
				"topk + offset [%zu] is invalid, it should be in range [1, %d]",
				q->k + q->offset, TOPK_MAX);
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

/* Apply params to t (a working copy). */
static int params_into(struct fmt_query *t, const char *text, size_t len,
		       struct mfs_err *err)
{
	struct mfs_kv *kv = malloc(sizeof(*kv));
	int rc;

	if (!kv)
		return mfs_errf(err, -ENOMEM, "out of memory");
	mfs_kv_init(kv);
	rc = fmt_kv_parse(text, len, kv, err);
	for (size_t i = 0; !rc && i < kv->n; i++)
		rc = apply(t, kv->item[i].key, kv->item[i].val, err);
	if (!rc)
		rc = check_params(t, err);
	free(kv);
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
	rc = params_into(t, text, len, err);
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
			rc = params_into(t, p, (size_t)(le - p), err);
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
		rc = params_into(t, params, strlen(params), err);
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
