/* schema.c - a collection's scalar field schema (SPEC §8): field specs in,
 * the canonical text out, and the rules for changing it once there is data.
 *
 * A spec "NAME:TYPE[:OPTION]..." is read left to right: the name up to the
 * first ':', the type up to the next, then options.  A default value may
 * itself hold ':' when it is a quoted JSON string, so "default=" takes a
 * JSON string literal whole and anything else up to the next ':'.  Defaults
 * are checked and encoded by the row encoder (fld_value_encode), so a
 * default is exactly what a row may hold.  The printed form escapes
 * whitespace and '&' inside string defaults (\u0020, \u0026) so that one
 * spec stays one token for every key=value parser.
 *
 * Every mutator builds the new field aside and commits it last: on error
 * the schema is unchanged.
 */
#include "field/field_int.h"

#include "base/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[] = {
	[FLD_NONE] = "NONE", [FLD_BOOL] = "BOOL", [FLD_INT8] = "INT8",
	[FLD_INT16] = "INT16", [FLD_INT32] = "INT32", [FLD_INT64] = "INT64",
	[FLD_FLOAT] = "FLOAT", [FLD_DOUBLE] = "DOUBLE",
	[FLD_VARCHAR] = "VARCHAR", [FLD_JSON] = "JSON", [FLD_ARRAY] = "ARRAY",
};

#define TYPES_EXPECTED "BOOL, INT8, INT16, INT32, INT64, FLOAT, DOUBLE, " \
	"VARCHAR(n), JSON, ARRAY(type,n)"
#define ELEMS_EXPECTED "BOOL, INT8, INT16, INT32, INT64, FLOAT, DOUBLE, " \
	"VARCHAR(n)"

const char *fld_type_name(enum fld_type t)
{
	if ((unsigned)t < sizeof(type_names) / sizeof(type_names[0]))
		return type_names[t];
	return "NONE";
}

bool fld_type_is_int(enum fld_type t)
{
	return t >= FLD_INT8 && t <= FLD_INT64;
}

bool fld_type_is_num(enum fld_type t)
{
	return t >= FLD_INT8 && t <= FLD_DOUBLE;
}

char *fld_type_text(const struct fld_def *d, char *buf)
{
	if (d->type == FLD_VARCHAR)
		snprintf(buf, FLD_TYPE_TEXT_MAX, "VARCHAR(%u)", d->max_length);
	else if (d->type == FLD_ARRAY && d->elem == FLD_VARCHAR)
		snprintf(buf, FLD_TYPE_TEXT_MAX, "ARRAY(VARCHAR(%u),%u)",
			 d->max_length, d->capacity);
	else if (d->type == FLD_ARRAY)
		snprintf(buf, FLD_TYPE_TEXT_MAX, "ARRAY(%s,%u)",
			 fld_type_name(d->elem), d->capacity);
	else
		snprintf(buf, FLD_TYPE_TEXT_MAX, "%s", fld_type_name(d->type));
	return buf;
}

/* ---- lifecycle ---- */

void fld_schema_init(struct fld_schema *s)
{
	memset(s, 0, sizeof(*s));
	s->pk = -1;
	s->num_partitions = FLD_NUM_PARTITIONS_DEFAULT;
}

void fld_schema_fini(struct fld_schema *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->f[i].def);
	free(s->f);
	fld_schema_init(s);
}

int fld_schema_copy(struct fld_schema *dst, const struct fld_schema *src)
{
	fld_schema_init(dst);
	if (!src->n) {
		*dst = *src;
		dst->f = NULL;
		return 0;
	}
	dst->f = calloc(src->n, sizeof(*dst->f));
	if (!dst->f)
		return -ENOMEM;
	for (size_t i = 0; i < src->n; i++) {
		dst->f[i] = src->f[i];
		dst->f[i].def = NULL;
		if (src->f[i].def) {
			dst->f[i].def = malloc(src->f[i].def_len);
			if (!dst->f[i].def) {
				dst->n = i;
				fld_schema_fini(dst);
				return -ENOMEM;
			}
			memcpy(dst->f[i].def, src->f[i].def, src->f[i].def_len);
		}
	}
	dst->n = src->n;
	dst->dynamic = src->dynamic;
	dst->pk = src->pk;
	dst->num_partitions = src->num_partitions;
	return 0;
}

int fld_schema_find(const struct fld_schema *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->f[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* ---- spec parsing ---- */

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Is [s, s+n) the keyword kw (lower case), ignoring case? */
static bool word_is(const char *s, size_t n, const char *kw)
{
	size_t i;

	for (i = 0; i < n && kw[i]; i++)
		if (lower((unsigned char)s[i]) != kw[i])
			return false;
	return i == n && !kw[i];
}

/* Name rules as collection names (SPEC §2). */
static int check_name(const char *s, size_t n, struct mfs_err *err)
{
	char ex[80];

	if (n == 0)
		return mfs_errf(err, -EINVAL,
				"field name is empty (expected NAME:TYPE)");
	mfs_excerpt(ex, sizeof(ex), s, n);
	if (n > FLD_NAME_MAX)
		return mfs_errf(err, -EINVAL,
				"field %s: name longer than %d bytes", ex,
				FLD_NAME_MAX);
	if (!is_alpha((unsigned char)s[0]) && s[0] != '_')
		return mfs_errf(err, -EINVAL,
				"field %s: the first character of a field name must be an underscore or a letter",
				ex);
	for (size_t i = 1; i < n; i++)
		if (!is_alpha((unsigned char)s[i]) &&
		    !is_digit((unsigned char)s[i]) && s[i] != '_')
			return mfs_errf(err, -EINVAL,
					"field %s: a field name can only contain numbers, letters and underscores",
					ex);
	return 0;
}

/* A decimal in [lo, hi] at [s, e); -1 if not digits, -2 out of range. */
static int parse_uint(const char *s, const char *e, uint32_t lo, uint32_t hi,
		      uint32_t *out)
{
	uint64_t v = 0;

	if (s == e)
		return -1;
	for (const char *p = s; p < e; p++) {
		if (!is_digit((unsigned char)*p))
			return -1;
		if (v < 100000000)
			v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return v < lo || v > hi ? -2 : 0;
}

static int scalar_type(const char *s, size_t n, enum fld_type *t)
{
	static const enum fld_type order[] = {
		FLD_BOOL, FLD_INT8, FLD_INT16, FLD_INT32, FLD_INT64,
		FLD_FLOAT, FLD_DOUBLE, FLD_JSON,
	};
	char lw[16];

	for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		const char *name = type_names[order[k]];
		size_t i;

		for (i = 0; name[i] && i < sizeof(lw) - 1; i++)
			lw[i] = (char)lower((unsigned char)name[i]);
		lw[i] = '\0';
		if (word_is(s, n, lw)) {
			*t = order[k];
			return 0;
		}
	}
	return -1;
}

/* VARCHAR(n) at [s, e) with "varchar" already matched: max_length. */
static int varchar_len(const char *nm, const char *s, const char *e,
		       uint32_t *out, struct mfs_err *err)
{
	char ex[80];
	int rc;

	if (s == e || *s != '(' || e[-1] != ')')
		return mfs_errf(err, -EINVAL,
				"field %s: VARCHAR needs a max_length: expected VARCHAR(n), n in [1, %d], got '%s'",
				nm, FLD_VARCHAR_MAX,
				mfs_excerpt(ex, sizeof(ex), s - 7, (size_t)(e - s) + 7));
	rc = parse_uint(s + 1, e - 1, 1, FLD_VARCHAR_MAX, out);
	if (rc == -1)
		return mfs_errf(err, -EINVAL,
				"field %s: max_length must be an integer in [1, %d], got '%s'",
				nm, FLD_VARCHAR_MAX,
				mfs_excerpt(ex, sizeof(ex), s + 1, (size_t)(e - s) - 2));
	if (rc == -2)
		return mfs_errf(err, -EINVAL,
				"field %s: max_length %u out of range [1, %d]", nm,
				*out, FLD_VARCHAR_MAX);
	return 0;
}

/* TYPE at [s, e) into d. */
static int parse_type(struct fld_def *d, const char *s, const char *e,
		      struct mfs_err *err)
{
	const char *nm = d->name;
	size_t n = (size_t)(e - s);
	char ex[80];
	int rc;

	if (scalar_type(s, n, &d->type) == 0)
		return 0;
	if (n >= 7 && word_is(s, 7, "varchar")) {
		d->type = FLD_VARCHAR;
		return varchar_len(nm, s + 7, e, &d->max_length, err);
	}
	if (n >= 5 && word_is(s, 5, "array")) {
		const char *p = s + 5, *comma;

		if (p == e || *p != '(' || e[-1] != ')')
			return mfs_errf(err, -EINVAL,
					"field %s: ARRAY needs an element type and a capacity: expected ARRAY(type,n), got '%s'",
					nm, mfs_excerpt(ex, sizeof(ex), s, n));
		p++;
		e--;
		comma = NULL;
		for (const char *q = e; q > p; q--)
			if (q[-1] == ',') {
				comma = q - 1;
				break;
			}
		if (!comma)
			return mfs_errf(err, -EINVAL,
					"field %s: ARRAY needs an element type and a capacity: expected ARRAY(type,n), got '%s'",
					nm, mfs_excerpt(ex, sizeof(ex), s, n));
		d->type = FLD_ARRAY;
		if (scalar_type(p, (size_t)(comma - p), &d->elem) == 0) {
			if (d->elem == FLD_JSON)
				return mfs_errf(err, -EINVAL,
						"field %s: ARRAY element type JSON is not supported (expected "
						ELEMS_EXPECTED ")", nm);
		} else if (comma - p >= 7 && word_is(p, 7, "varchar")) {
			d->elem = FLD_VARCHAR;
			rc = varchar_len(nm, p + 7, comma, &d->max_length, err);
			if (rc)
				return rc;
		} else {
			bool arr = comma - p >= 5 && word_is(p, 5, "array");

			return mfs_errf(err, -EINVAL,
					"field %s: %s '%s' (expected " ELEMS_EXPECTED ")",
					nm, arr ? "ARRAY element type ARRAY is not supported, got" :
					"unknown ARRAY element type",
					mfs_excerpt(ex, sizeof(ex), p, (size_t)(comma - p)));
		}
		rc = parse_uint(comma + 1, e, 1, FLD_ARRAY_CAP_MAX, &d->capacity);
		if (rc == -1)
			return mfs_errf(err, -EINVAL,
					"field %s: max_capacity must be an integer in [1, %d], got '%s'",
					nm, FLD_ARRAY_CAP_MAX,
					mfs_excerpt(ex, sizeof(ex), comma + 1, (size_t)(e - comma - 1)));
		if (rc == -2)
			return mfs_errf(err, -EINVAL,
					"field %s: max_capacity %u out of range [1, %d]",
					nm, d->capacity, FLD_ARRAY_CAP_MAX);
		return 0;
	}
	return mfs_errf(err, -EINVAL, "field %s: unknown type '%s' (expected "
			TYPES_EXPECTED ")", nm, mfs_excerpt(ex, sizeof(ex), s, n));
}

/* default=VALUE text [s, e) for field d (type known): encode it into d. */
static int parse_default(struct fld_def *d, const char *s, const char *e,
			 struct mfs_err *err)
{
	struct mfs_buf b;
	json_t *v;
	json_error_t jerr;
	char ex[80];
	int rc;

	mfs_excerpt(ex, sizeof(ex), s, (size_t)(e - s));
	if (d->type == FLD_JSON || d->type == FLD_ARRAY)
		return mfs_errf(err, -EINVAL,
				"field %s: default values are not supported for %s",
				d->name, fld_type_name(d->type));
	if (d->def)
		return mfs_errf(err, -EINVAL, "field %s: default given twice",
				d->name);
	if (s == e)
		return mfs_errf(err, -EINVAL,
				"field %s: default=VALUE needs a value", d->name);
	v = json_loadb(s, (size_t)(e - s), JSON_DECODE_ANY, &jerr);
	if (d->type == FLD_VARCHAR && (!v || !json_is_string(v))) {
		json_decref(v);
		v = json_stringn(s, (size_t)(e - s));   /* a bare word */
		if (!v)
			return mfs_errf(err, -EINVAL,
					"field %s: default '%s' is not valid UTF-8 text",
					d->name, ex);
	}
	if (!v)
		return mfs_errf(err, -EINVAL,
				"field %s: default '%s' is not a JSON literal (expected %s)",
				d->name, ex, fld_type_name(d->type));
	if (json_is_null(v)) {
		json_decref(v);
		return mfs_errf(err, -EINVAL,
				"field %s: default null is not a value (expected %s; for null use nullable)",
				d->name, fld_type_name(d->type));
	}
	mfs_buf_init(&b, SIZE_MAX);
	rc = mfs_buf_append(&b, "\x01\x00\x00", 3);     /* nf 1, no null */
	if (rc)
		rc = mfs_errf(err, rc, "out of memory");
	else
		rc = fld_value_encode(&b, d, v, 0, err);
	json_decref(v);
	if (rc) {
		mfs_buf_fini(&b);
		return rc;
	}
	d->def = (uint8_t *)mfs_buf_take(&b, &d->def_len);
	return 0;
}

/* The end of option text starting at p: the next ':' (or the end); a
 * "default=" value that opens with '"' runs to its closing quote. */
static const char *option_end(const char *p)
{
	if (strlen(p) > 8 && word_is(p, 8, "default=") && p[8] == '"') {
		const char *q = p + 9;

		for (; *q && *q != '"'; q++)
			if (*q == '\\' && q[1])
				q++;
		if (*q == '"')
			return strchr(q + 1, ':') ? strchr(q + 1, ':') : q + strlen(q);
	}
	return strchr(p, ':') ? strchr(p, ':') : p + strlen(p);
}

static void def_fini(struct fld_def *d)
{
	free(d->def);
	d->def = NULL;
}

static int pk_rules(const struct fld_def *d, struct mfs_err *err)
{
	if (d->type != FLD_INT64 && d->type != FLD_VARCHAR)
		return mfs_errf(err, -EINVAL,
				"field %s: a partition key must be INT64 or VARCHAR, got %s",
				d->name, fld_type_name(d->type));
	if (d->nullable)
		return mfs_errf(err, -EINVAL,
				"field %s: a partition key cannot be nullable",
				d->name);
	return 0;
}

static int push(struct fld_schema *s, struct fld_def *d)
{
	struct fld_def *f = realloc(s->f, (s->n + 1) * sizeof(*f));

	if (!f)
		return -ENOMEM;
	s->f = f;
	s->f[s->n++] = *d;
	return 0;
}

int fld_schema_add(struct fld_schema *s, const char *spec,
		   struct mfs_err *err)
{
	struct fld_def d;
	const char *colon = strchr(spec, ':'), *p, *te;
	char ex[80];
	int rc;

	memset(&d, 0, sizeof(d));
	if (!colon)
		return mfs_errf(err, -EINVAL,
				"field spec '%s': expected NAME:TYPE[:OPTION]...",
				mfs_excerpt(ex, sizeof(ex), spec, strlen(spec)));
	rc = check_name(spec, (size_t)(colon - spec), err);
	if (rc)
		return rc;
	memcpy(d.name, spec, (size_t)(colon - spec));
	if (strcmp(d.name, "id") == 0 || strcmp(d.name, "vector") == 0)
		return mfs_errf(err, -EINVAL,
				"field %s: the name is taken (id, vector and $meta are reserved)",
				d.name);
	if (fld_schema_find(s, d.name) >= 0)
		return mfs_errf(err, -EINVAL, "field %s: already exists", d.name);
	if (s->n + 2 >= FLD_MAX)
		return mfs_errf(err, -EINVAL,
				"too many fields: at most %d, id and vector included",
				FLD_MAX);
	p = colon + 1;
	te = strchr(p, ':') ? strchr(p, ':') : p + strlen(p);
	rc = parse_type(&d, p, te, err);
	if (rc)
		return rc;
	for (p = te; *p == ':';) {
		const char *o = p + 1, *oe = option_end(o);
		size_t on = (size_t)(oe - o);

		if (word_is(o, on, "nullable")) {
			d.nullable = true;
		} else if (word_is(o, on, "partition_key")) {
			d.partition_key = true;
		} else if (on >= 8 && word_is(o, 8, "default=")) {
			rc = parse_default(&d, o + 8, oe, err);
			if (rc)
				goto fail;
		} else {
			rc = mfs_errf(err, -EINVAL,
				      "field %s: unknown option '%s' (expected nullable, default=VALUE, partition_key)",
				      d.name, mfs_excerpt(ex, sizeof(ex), o, on));
			goto fail;
		}
		p = oe;
	}
	if (d.partition_key) {
		rc = pk_rules(&d, err);
		if (rc)
			goto fail;
		if (s->pk >= 0) {
			rc = mfs_errf(err, -EINVAL,
				      "field %s: at most one partition key, and %s is one already",
				      d.name, s->f[s->pk].name);
			goto fail;
		}
	}
	rc = push(s, &d);
	if (rc) {
		rc = mfs_errf(err, rc, "out of memory");
		goto fail;
	}
	if (d.partition_key)
		s->pk = (int)s->n - 1;
	return 0;
fail:
	def_fini(&d);
	return rc;
}

int fld_schema_set_dynamic(struct fld_schema *s, bool on, struct mfs_err *err)
{
	int i = fld_schema_find(s, FLD_META);

	if (on && i < 0) {
		struct fld_def d;

		if (s->n + 2 >= FLD_MAX)
			return mfs_errf(err, -EINVAL,
					"too many fields: at most %d, id, vector and the dynamic field included",
					FLD_MAX);
		memset(&d, 0, sizeof(d));
		strcpy(d.name, FLD_META);
		d.type = FLD_JSON;
		d.dynamic = true;
		if (push(s, &d))
			return mfs_errf(err, -ENOMEM, "out of memory");
	} else if (!on && i >= 0) {
		memmove(s->f + i, s->f + i + 1, (s->n - (size_t)i - 1) * sizeof(*s->f));
		s->n--;
		if (s->pk > i)
			s->pk--;
	}
	s->dynamic = on;
	return 0;
}

int fld_schema_set_num_partitions(struct fld_schema *s, uint32_t n,
				  struct mfs_err *err)
{
	if (n < 1 || n > FLD_NUM_PARTITIONS_MAX)
		return mfs_errf(err, -EINVAL,
				"num_partitions %u out of range [1, %d]", n,
				FLD_NUM_PARTITIONS_MAX);
	s->num_partitions = n;
	return 0;
}

int fld_schema_check(const struct fld_schema *s, struct mfs_err *err)
{
	int pk = -1;

	if (s->n + 2 > FLD_MAX)
		return mfs_errf(err, -EINVAL,
				"too many fields: at most %d, id and vector included",
				FLD_MAX);
	for (size_t i = 0; i < s->n; i++) {
		const struct fld_def *d = &s->f[i];
		int rc;

		if (!d->partition_key)
			continue;
		if (pk >= 0)
			return mfs_errf(err, -EINVAL,
					"field %s: at most one partition key, and %s is one already",
					d->name, s->f[pk].name);
		rc = pk_rules(d, err);
		if (rc)
			return rc;
		pk = (int)i;
	}
	if (pk != s->pk)
		return mfs_errf(err, -EIO, "schema: partition key index %d, field %d is marked",
				s->pk, pk);
	return 0;
}

/* ---- text ---- */

/* A string default as JSON, with whitespace and '&' escaped too. */
static int put_token_string(struct mfs_buf *out, const char *s, size_t n)
{
	struct mfs_buf tmp;
	int rc;

	mfs_buf_init(&tmp, SIZE_MAX);
	rc = fld_put_string(&tmp, s, n);
	for (size_t i = 0; !rc && i < tmp.len; i++) {
		if (tmp.data[i] == ' ')
			rc = mfs_buf_append(out, "\\u0020", 6);
		else if (tmp.data[i] == '&')
			rc = mfs_buf_append(out, "\\u0026", 6);
		else
			rc = mfs_buf_append(out, tmp.data + i, 1);
	}
	mfs_buf_fini(&tmp);
	return rc;
}

static int print_field(struct mfs_buf *out, const struct fld_def *d)
{
	char t[FLD_TYPE_TEXT_MAX];
	int rc = mfs_buf_printf(out, "field=%s:%s%s", d->name, fld_type_text(d, t),
				d->nullable ? ":nullable" : "");

	if (!rc && d->def) {
		struct fld_value v;

		fld_def_value(d, &v);
		rc = mfs_buf_append(out, ":default=", 9);
		if (!rc && d->type == FLD_VARCHAR && v.type == FLD_VARCHAR)
			rc = put_token_string(out, v.s, v.len);
		else if (!rc)
			rc = fld_value_json(out, d, &v);
	}
	if (!rc && d->partition_key)
		rc = mfs_buf_append(out, ":partition_key", 14);
	if (!rc)
		rc = mfs_buf_append(out, "\n", 1);
	return rc;
}

int fld_schema_print(struct mfs_buf *out, const struct fld_schema *s)
{
	size_t len0 = out->len;
	int rc = 0;

	for (size_t i = 0; !rc && i < s->n; i++)
		if (!s->f[i].dynamic)
			rc = print_field(out, &s->f[i]);
	/* last, wherever $meta is listed: rows do not depend on its index */
	if (!rc && s->dynamic)
		rc = mfs_buf_append(out, "enable_dynamic_field=true\n", 26);
	if (!rc && s->pk >= 0)
		rc = mfs_buf_printf(out, "num_partitions=%u\n", s->num_partitions);
	if (rc)
		mfs_buf_truncate(out, len0);
	return rc;
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
		c == '\f';
}

static int parse_key(struct fld_schema *s, const char *k, size_t kn,
		     struct mfs_err *err)
{
	const char *eq = memchr(k, '=', kn), *v;
	size_t vn;
	char ex[80];
	uint32_t n;

	if (!eq)
		return mfs_errf(err, -EINVAL, "schema: expected key=value, got '%s'",
				mfs_excerpt(ex, sizeof(ex), k, kn));
	v = eq + 1;
	vn = kn - (size_t)(v - k);
	if (word_is(k, (size_t)(eq - k), "field")) {
		char *spec = malloc(vn + 1);
		int rc;

		if (!spec)
			return mfs_errf(err, -ENOMEM, "out of memory");
		memcpy(spec, v, vn);
		spec[vn] = '\0';
		rc = memchr(v, '\0', vn) ?
			mfs_errf(err, -EINVAL, "schema: NUL byte in a field spec") :
			fld_schema_add(s, spec, err);
		free(spec);
		return rc;
	}
	if (word_is(k, (size_t)(eq - k), "enable_dynamic_field")) {
		if (word_is(v, vn, "true"))
			return fld_schema_set_dynamic(s, true, err);
		if (word_is(v, vn, "false"))
			return fld_schema_set_dynamic(s, false, err);
		return mfs_errf(err, -EINVAL,
				"enable_dynamic_field: expected true or false, got '%s'",
				mfs_excerpt(ex, sizeof(ex), v, vn));
	}
	if (word_is(k, (size_t)(eq - k), "num_partitions")) {
		int rc = parse_uint(v, v + vn, 1, FLD_NUM_PARTITIONS_MAX, &n);

		if (rc == -1)
			return mfs_errf(err, -EINVAL,
					"num_partitions: expected an integer in [1, %d], got '%s'",
					FLD_NUM_PARTITIONS_MAX,
					mfs_excerpt(ex, sizeof(ex), v, vn));
		return fld_schema_set_num_partitions(s, n, err);
	}
	return mfs_errf(err, -EINVAL,
			"schema: unknown key '%s' (expected field, enable_dynamic_field, num_partitions)",
			mfs_excerpt(ex, sizeof(ex), k, (size_t)(eq - k)));
}

int fld_schema_parse(struct fld_schema *s, const char *text, size_t len,
		     struct mfs_err *err)
{
	struct fld_schema t;
	size_t i = 0;
	int rc;

	if (fld_schema_copy(&t, s))
		return mfs_errf(err, -ENOMEM, "out of memory");
	while (i < len) {
		size_t k;

		while (i < len && is_space((unsigned char)text[i]))
			i++;
		for (k = i; k < len && !is_space((unsigned char)text[k]); k++)
			;
		if (k > i) {
			rc = parse_key(&t, text + i, k - i, err);
			if (rc)
				goto fail;
		}
		i = k;
	}
	rc = fld_schema_check(&t, err);
	if (rc)
		goto fail;
	fld_schema_fini(s);
	*s = t;
	return 0;
fail:
	fld_schema_fini(&t);
	return rc;
}

/* ---- evolution ---- */

static bool same_def(const struct fld_def *a, const struct fld_def *b)
{
	return strcmp(a->name, b->name) == 0 && a->type == b->type &&
		a->elem == b->elem && a->max_length == b->max_length &&
		a->capacity == b->capacity && a->nullable == b->nullable &&
		a->partition_key == b->partition_key &&
		a->dynamic == b->dynamic && a->def_len == b->def_len &&
		(!a->def_len || memcmp(a->def, b->def, a->def_len) == 0);
}

int fld_schema_evolve_check(const struct fld_schema *from,
			    const struct fld_schema *to, struct mfs_err *err)
{
	size_t i = 0, j = 0;

	/* the fields but $meta, in order: a prefix of to's */
	for (; i < from->n; i++) {
		const struct fld_def *a = &from->f[i];

		if (a->dynamic)
			continue;
		while (j < to->n && to->f[j].dynamic)
			j++;
		if (j >= to->n)
			return mfs_errf(err, -EBUSY,
					"field %s: cannot remove a field once the collection has data",
					a->name);
		if (!same_def(a, &to->f[j]))
			return mfs_errf(err, -EBUSY,
					"field %s: cannot change a field once the collection has data",
					a->name);
		j++;
	}
	for (; j < to->n; j++) {
		const struct fld_def *b = &to->f[j];

		if (b->dynamic)
			continue;
		if (b->partition_key)
			return mfs_errf(err, -EBUSY,
					"field %s: a partition key cannot be added to a collection with data",
					b->name);
		if (!b->nullable && !b->def)
			return mfs_errf(err, -EBUSY,
					"field %s: a field added to a collection with data must be nullable or have a default",
					b->name);
	}
	if (from->dynamic && !to->dynamic)
		return mfs_errf(err, -EBUSY,
				"enable_dynamic_field: cannot turn off the dynamic field once the collection has data");
	if (from->pk >= 0 && from->num_partitions != to->num_partitions)
		return mfs_errf(err, -EBUSY,
				"num_partitions: cannot change from %u to %u once the collection has data",
				from->num_partitions, to->num_partitions);
	return 0;
}
