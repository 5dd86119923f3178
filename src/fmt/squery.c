/* squery.c - the text of scalar queries (SPEC §9): query/ names and saved
 * texts into parameters, output_fields into a selection, and matching
 * entities into JSON lines, one JSON array, or TSV.
 *
 * The expression itself is not parsed here (field/expr.h does that
 * against the collection's schema); this file only finds where it is.
 */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char *const qkeys[] = {
	"filter", "output_fields", "limit", "offset", "partitions", "format",
	NULL,
};

#define QKEYS_TEXT "filter, output_fields, limit, offset, partitions, format"

/* Length of the known key at s followed by '=' (0 if none). */
static size_t key_at(const char *s, size_t len)
{
	for (size_t i = 0; qkeys[i]; i++) {
		size_t kl = strlen(qkeys[i]);

		if (len > kl && memcmp(s, qkeys[i], kl) == 0 && s[kl] == '=')
			return kl;
	}
	return 0;
}

void fmt_squery_init(struct fmt_squery *q)
{
	memset(q, 0, sizeof(*q));
	mfs_buf_init(&q->filter, FMT_LINE_MAX);
	mfs_buf_init(&q->output, 65536);
}

void fmt_squery_fini(struct fmt_squery *q)
{
	mfs_buf_fini(&q->filter);
	mfs_buf_fini(&q->output);
}

static int set_u64(const char *key, const char *v, size_t vl, uint64_t min,
		   uint64_t *out, struct mfs_err *err)
{
	char tmp[32];
	int64_t x;

	if (vl == 0 || vl >= sizeof(tmp) || fmt_parse_i64(v, v + vl, &x) < 0 ||
	    x < (int64_t)min)
		return mfs_errf(err, -EINVAL,
				"%s: expected an integer >= %" PRIu64 ", got '%s'",
				key, min, mfs_excerpt(tmp, sizeof(tmp), v, vl));
	*out = (uint64_t)x;
	return 0;
}

/* Apply key = [v, v+vl) to q. */
static int apply(struct fmt_squery *q, const char *key, size_t kl,
		 const char *v, size_t vl, struct mfs_err *err)
{
	char ex[64];

	if (kl == 6 && memcmp(key, "filter", 6) == 0) {
		mfs_buf_reset(&q->filter);
		if (mfs_buf_append(&q->filter, v, vl) < 0)
			return mfs_errf(err, -EINVAL,
					"filter longer than %u bytes",
					FMT_LINE_MAX);
		q->has_filter = true;
		return 0;
	}
	if (kl == 13 && memcmp(key, "output_fields", 13) == 0) {
		mfs_buf_reset(&q->output);
		if (mfs_buf_append(&q->output, v, vl) < 0)
			return mfs_errf(err, -EINVAL,
					"output_fields longer than 65536 bytes");
		q->has_output = true;
		return 0;
	}
	if (kl == 5 && memcmp(key, "limit", 5) == 0)
		return set_u64("limit", v, vl, 1, &q->limit, err);
	if (kl == 6 && memcmp(key, "offset", 6) == 0)
		return set_u64("offset", v, vl, 0, &q->offset, err);
	if (kl == 6 && memcmp(key, "format", 6) == 0) {
		if (vl == 5 && memcmp(v, "jsonl", 5) == 0)
			q->format = FMT_Q_JSONL;
		else if (vl == 4 && memcmp(v, "json", 4) == 0)
			q->format = FMT_Q_JSON;
		else if (vl == 3 && memcmp(v, "tsv", 3) == 0)
			q->format = FMT_Q_TSV;
		else
			return mfs_errf(err, -EINVAL,
					"format: expected jsonl, json or tsv, got '%s'",
					mfs_excerpt(ex, sizeof(ex), v, vl));
		return 0;
	}
	if (kl == 10 && memcmp(key, "partitions", 10) == 0) {
		size_t n = 0, i = 0;

		while (i < vl) {
			size_t s = i;

			while (i < vl && v[i] != ',')
				i++;
			if (i > s) {
				if (n == FMT_QUERY_PARTS_MAX)
					return mfs_errf(err, -EINVAL,
							"partitions: at most %d names",
							FMT_QUERY_PARTS_MAX);
				if (i - s > MFS_NAME_MAX)
					return mfs_errf(err, -EINVAL,
							"partitions: a name longer than %d bytes",
							MFS_NAME_MAX);
				memcpy(q->parts[n], v + s, i - s);
				q->parts[n][i - s] = '\0';
				n++;
			}
			i++;
		}
		if (n == 0)
			return mfs_errf(err, -EINVAL,
					"partitions: expected names separated by ',', got nothing");
		q->nparts = n;
		return 0;
	}
	return mfs_errf(err, -EINVAL,
			"unknown query parameter '%s' (expected " QKEYS_TEXT ")",
			mfs_excerpt(ex, sizeof(ex), key, kl));
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!fmt_isspace((unsigned char)s[i]))
			return false;
	return true;
}

int fmt_squery_parse(struct fmt_squery *q, const char *text, size_t len,
		     struct mfs_err *err)
{
	struct mfs_buf expr;
	bool filter_line = false;
	size_t i = 0;
	int rc = 0;

	mfs_buf_init(&expr, FMT_LINE_MAX);
	while (i < len && rc == 0) {
		const char *s = text + i, *nl = memchr(s, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - s) : len - i, kl;

		i += ll + (nl ? 1 : 0);
		if (ll && s[ll - 1] == '\r')
			ll--;
		if (blank(s, ll))
			continue;
		kl = key_at(s, ll);
		if (kl) {
			if (kl == 6 && memcmp(s, "filter", 6) == 0)
				filter_line = true;
			rc = apply(q, s, kl, s + kl + 1, ll - kl - 1, err);
			continue;
		}
		if (expr.len)
			rc = mfs_buf_append(&expr, "\n", 1);
		if (rc == 0)
			rc = mfs_buf_append(&expr, s, ll);
		if (rc < 0)
			rc = mfs_errf(err, -EINVAL,
				      "expression longer than %u bytes",
				      FMT_LINE_MAX);
	}
	if (rc == 0 && expr.len) {
		if (filter_line)
			rc = mfs_errf(err, -EINVAL,
				      "a query has one expression: a filter= line and an expression line were both given");
		else
			rc = apply(q, "filter", 6, expr.data, expr.len, err);
	}
	mfs_buf_fini(&expr);
	return rc;
}

/* The next override boundary in [s, s+len): a '&' followed by a known key
 * and '=' (or the end). */
static size_t next_override(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] == '&' && key_at(s + i + 1, len - i - 1))
			return i;
	return len;
}

int fmt_squery_params(struct fmt_squery *q, const char *text, size_t len,
		      struct mfs_err *err)
{
	size_t i = 0;

	/* text starts right after a '&' (or at a saved text's first key) */
	while (i < len) {
		const char *s = text + i;
		size_t seg = next_override(s, len - i), kl;
		const char *eq;
		char ex[64];

		if (seg == 0) {
			i++;
			continue;
		}
		kl = key_at(s, seg);
		if (!kl) {
			eq = memchr(s, '=', seg);
			return mfs_errf(err, -EINVAL,
					"unknown query parameter '%s' (expected " QKEYS_TEXT ")",
					mfs_excerpt(ex, sizeof(ex), s,
						    eq ? (size_t)(eq - s) : seg));
		}
		int rc = apply(q, s, kl, s + kl + 1, seg - kl - 1, err);

		if (rc < 0)
			return rc;
		i += seg + 1;
	}
	return 0;
}

void fmt_squery_split_name(const char *name, size_t *base_len,
			   const char **params)
{
	size_t len = strlen(name), b = next_override(name, len);

	*base_len = b;
	*params = b < len ? name + b + 1 : NULL;
}

/* ---- output fields ---- */

static int add_item(struct fmt_qsel *sel, int field, const char *name,
		    size_t nl, struct mfs_err *err)
{
	for (size_t i = 0; i < sel->n; i++)
		if (sel->it[i].field == field &&
		    (field != -3 || (strlen(sel->it[i].name) == nl &&
				     memcmp(sel->it[i].name, name, nl) == 0)))
			return 0;       /* named twice: once */
	if (sel->n == FMT_QSEL_MAX)
		return mfs_errf(err, -EINVAL, "output_fields: at most %d fields",
				FMT_QSEL_MAX);
	sel->it[sel->n].field = field;
	memcpy(sel->it[sel->n].name, name, nl);
	sel->it[sel->n].name[nl] = '\0';
	sel->n++;
	return 0;
}

static int add_all(struct fmt_qsel *sel, const struct fld_schema *s,
		   struct mfs_err *err)
{
	int rc = 0;

	for (size_t i = 0; i < s->n && rc == 0; i++)
		rc = add_item(sel, (int)i, s->f[i].name, strlen(s->f[i].name),
			      err);
	return rc;
}

int fmt_qsel_parse(struct fmt_qsel *sel, const char *text, size_t len,
		   const struct fld_schema *s, struct mfs_err *err)
{
	size_t i = 0;
	bool any = false;
	int rc;

	memset(sel, 0, sizeof(*sel));
	rc = add_item(sel, -1, "id", 2, err);
	while (rc == 0 && text && i < len) {
		size_t st, e;

		while (i < len && (text[i] == ',' || fmt_isspace((unsigned char)text[i])))
			i++;
		st = i;
		while (i < len && text[i] != ',')
			i++;
		e = i;
		while (e > st && fmt_isspace((unsigned char)text[e - 1]))
			e--;
		if (e == st)
			continue;
		any = true;
		const char *w = text + st;
		size_t wl = e - st;
		char name[FLD_NAME_MAX + 1];
		int fi;

		if (wl == 8 && memcmp(w, "count(*)", 8) == 0) {
			sel->count = true;
			continue;
		}
		if (wl == 1 && w[0] == '*') {
			rc = add_all(sel, s, err);
			continue;
		}
		if (wl == 2 && memcmp(w, "id", 2) == 0)
			continue;
		if (wl == 6 && memcmp(w, "vector", 6) == 0) {
			rc = add_item(sel, -2, "vector", 6, err);
			continue;
		}
		if (wl > FLD_NAME_MAX)
			return mfs_errf(err, -EINVAL,
					"field %.40s... not exist", w);
		memcpy(name, w, wl);
		name[wl] = '\0';
		fi = fld_schema_find(s, name);
		if (fi >= 0)
			rc = add_item(sel, fi, name, wl, err);
		else if (s->dynamic)
			rc = add_item(sel, -3, name, wl, err);
		else
			return mfs_errf(err, -EINVAL, "field %s not exist",
					mfs_excerpt(name, sizeof(name), w, wl));
	}
	if (rc < 0)
		return rc;
	if (sel->count && sel->n > 1)
		return mfs_errf(err, -EINVAL,
				"count(*) cannot be mixed with other output fields");
	if (!any)
		rc = add_all(sel, s, err);
	return rc;
}

/* ---- output ---- */

static int put_jstr(struct mfs_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	int rc = mfs_buf_append(out, "\"", 1);

	for (size_t i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			rc = mfs_buf_append(out, e, 2);
		} else if (c < 0x20) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4],
				      hex[c & 15] };

			rc = mfs_buf_append(out, e, 6);
		} else {
			rc = mfs_buf_append(out, (const char *)&c, 1);
		}
	}
	return rc ? rc : mfs_buf_append(out, "\"", 1);
}

static int put_vector(struct mfs_buf *out, const void *vec, enum vec_type vt,
		      uint32_t dim)
{
	int rc;

	if (!vec)
		return mfs_buf_append(out, "null", 4);
	if (vt == VEC_BINARY) {
		static const char hex[] = "0123456789abcdef";
		const uint8_t *b = vec;

		rc = mfs_buf_append(out, "\"", 1);
		for (uint32_t i = 0; i < dim / 8 && rc == 0; i++) {
			char h[2] = { hex[b[i] >> 4], hex[b[i] & 15] };

			rc = mfs_buf_append(out, h, 2);
		}
		return rc ? rc : mfs_buf_append(out, "\"", 1);
	}
	rc = mfs_buf_append(out, "[", 1);
	if (rc == 0)
		rc = fmt_put_floats(out, vec, dim);
	return rc ? rc : mfs_buf_append(out, "]", 1);
}

/* The value of $meta key name in row r as JSON (null when absent). */
static int put_meta_key(struct mfs_buf *out, const struct fld_cols *c,
			size_t r, const char *name)
{
	int mi = fld_schema_find(c->s, FLD_META);
	struct fld_value v;
	json_t *x;
	char *txt;
	int rc;

	if (mi < 0)
		return mfs_buf_append(out, "null", 4);
	fld_cols_get(c, r, (size_t)mi, &v);
	x = v.json ? json_object_get(v.json, name) : NULL;
	if (!x)
		return mfs_buf_append(out, "null", 4);
	txt = json_dumps(x, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!txt)
		return -ENOMEM;
	rc = mfs_buf_append(out, txt, strlen(txt));
	free(txt);
	return rc;
}

static int put_value(struct mfs_buf *out, const struct fmt_qsel_item *it,
		     const struct fld_cols *c, size_t r, int64_t id,
		     const void *vec, enum vec_type vt, uint32_t dim)
{
	struct fld_value v;
	char num[24];

	switch (it->field) {
	case -1:
		return mfs_buf_append(out, num, (size_t)fmt_i64(id, num));
	case -2:
		return put_vector(out, vec, vt, dim);
	case -3:
		return put_meta_key(out, c, r, it->name);
	default:
		fld_cols_get(c, r, (size_t)it->field, &v);
		return fld_value_json(out, &c->s->f[it->field], &v);
	}
}

int fmt_qsel_value(struct mfs_buf *out, const struct fmt_qsel_item *it,
		   const struct fld_cols *c, size_t row, int64_t id)
{
	return put_value(out, it, c, row, id, NULL, VEC_FLOAT, 0);
}

int fmt_qrow(struct mfs_buf *out, enum fmt_qformat f,
	     const struct fmt_qsel *sel, const struct fld_cols *c, size_t row,
	     int64_t id, const void *vec, enum vec_type vt, uint32_t dim,
	     uint64_t nth)
{
	size_t len0 = out->len;
	int rc = 0;

	if (f == FMT_Q_TSV) {
		if (nth == 0)
			rc = fmt_qend(out, f, sel, 0);
		for (size_t i = 0; i < sel->n && rc == 0; i++) {
			if (i)
				rc = mfs_buf_append(out, "\t", 1);
			if (rc == 0)
				rc = put_value(out, &sel->it[i], c, row, id,
					       vec, vt, dim);
		}
		if (rc == 0)
			rc = mfs_buf_append(out, "\n", 1);
		goto out;
	}
	if (f == FMT_Q_JSON)
		rc = mfs_buf_append(out, nth ? "," : "[", 1);
	if (rc == 0)
		rc = mfs_buf_append(out, "{", 1);
	for (size_t i = 0; i < sel->n && rc == 0; i++) {
		const struct fmt_qsel_item *it = &sel->it[i];

		if (it->field >= 0 && c->s->f[it->field].dynamic) {
			/* $meta's keys go flat into the object, as Milvus
			 * prints dynamic fields */
			bool want[FLD_MAX] = { false };

			want[it->field] = true;
			/* members each preceded by ',': id came first */
			rc = fld_cols_json(out, c, row, want);
			continue;
		}
		if (i)
			rc = mfs_buf_append(out, ",", 1);
		if (rc == 0)
			rc = put_jstr(out, it->name, strlen(it->name));
		if (rc == 0)
			rc = mfs_buf_append(out, ":", 1);
		if (rc == 0)
			rc = put_value(out, it, c, row, id, vec, vt, dim);
	}
	if (rc == 0)
		rc = mfs_buf_append(out, f == FMT_Q_JSON ? "}" : "}\n",
				    f == FMT_Q_JSON ? 1 : 2);
out:
	if (rc < 0)
		out->len = len0;
	return rc;
}

int fmt_qend(struct mfs_buf *out, enum fmt_qformat f,
	     const struct fmt_qsel *sel, uint64_t nrows)
{
	int rc = 0;

	switch (f) {
	case FMT_Q_JSON:
		return mfs_buf_append(out, nrows ? "]\n" : "[]\n",
				      nrows ? 2 : 3);
	case FMT_Q_TSV:
		if (nrows)
			return 0;
		/* the header: before the first row, or alone */
		for (size_t i = 0; i < sel->n && rc == 0; i++) {
			if (i)
				rc = mfs_buf_append(out, "\t", 1);
			if (rc == 0)
				rc = mfs_buf_append(out, sel->it[i].name,
						    strlen(sel->it[i].name));
		}
		return rc ? rc : mfs_buf_append(out, "\n", 1);
	default:
		return 0;
	}
}
