/* kv.c - key=value text in and out (schema, index, load, search
 * parameters).
 *
 * Pairs are separated by blanks, newlines or '&', so "dim=128 metric_type=L2",
 * one pair a line, and "k=5&ef=64" all read the same.  "description" takes
 * the rest of its line, spaces and '&' included (SPEC §3: free text).
 */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool key_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Set key [k, ke) to [v, ve) in kv; once: a key kv has is -EINVAL. */
static int put(struct mfs_kv *kv, const char *k, const char *ke,
	       const char *v, const char *ve, bool once, struct mfs_err *err)
{
	char key[MFS_KV_KEY_MAX], ex[48];
	char *val;
	size_t kl = (size_t)(ke - k), vl = (size_t)(ve - v);
	int rc;

	for (const char *p = k; p < ke; p++)
		if (!key_char((unsigned char)*p))
			return mfs_errf(err, -EINVAL,
					"expected a parameter name of letters, digits and '_', got '%s'",
					mfs_excerpt(ex, sizeof(ex), k, kl));
	if (kl >= MFS_KV_KEY_MAX)
		return mfs_errf(err, -EINVAL,
				"parameter name too long: at most %d bytes, got %zu",
				MFS_KV_KEY_MAX - 1, kl);
	if ((rc = fmt_pair_strings(k, kl, v, vl, key, &val, err)) < 0)
		return rc;
	if (once && mfs_kv_get(kv, key)) {
		rc = mfs_errf(err, -EINVAL,
			      "key %s given twice (%s=%s, then %s=%s): give each key once",
			      key, key, mfs_excerpt(ex, sizeof(ex),
						    mfs_kv_get(kv, key),
						    strlen(mfs_kv_get(kv, key))),
			      key, val);
		free(val);
		return rc;
	}
	rc = mfs_kv_set(kv, key, val, err);
	free(val);
	return rc;
}

int fmt_pair_next(const char **p, const char *e, int stop, const char **key,
		  const char **eq, struct mfs_err *err)
{
	const char *s = *p, *t;
	char ex[48];

	while (s < e && fmt_pair_sep((unsigned char)*s))
		s++;
	if (s == e || (stop && *s == stop)) {
		*p = s;
		return 1;
	}
	t = s;
	*eq = NULL;
	while (s < e && !fmt_pair_sep((unsigned char)*s)) {
		if (*s == '=' && !*eq)
			*eq = s;
		s++;
	}
	if (!*eq || *eq == t)
		return mfs_errf(err, -EINVAL, "expected key=value, got '%s'",
				mfs_excerpt(ex, sizeof(ex), t, (size_t)(s - t)));
	*key = t;
	*p = s;
	return 0;
}

int fmt_pair_strings(const char *k, size_t kl, const char *v, size_t vl,
		     char key[MFS_KV_KEY_MAX], char **val, struct mfs_err *err)
{
	char ex[48];

	if (vl >= MFS_KV_VAL_MAX)
		return mfs_errf(err, -EINVAL,
				"value of %s too long: at most %d bytes, got %zu",
				mfs_excerpt(ex, sizeof(ex), k, kl),
				MFS_KV_VAL_MAX - 1, vl);
	*val = malloc(vl + 1);
	if (!*val)
		return mfs_errf(err, -ENOMEM, "out of memory");
	memcpy(key, k, kl);
	key[kl] = '\0';
	memcpy(*val, v, vl);
	(*val)[vl] = '\0';
	return 0;
}

static int parse_line(struct mfs_kv *kv, const char *p, const char *e,
		      bool once, struct mfs_err *err)
{
	for (;;) {
		const char *t, *eq;
		int rc = fmt_pair_next(&p, e, 0, &t, &eq, err);

		if (rc)
			return rc < 0 ? rc : 0;
		if (eq - t == 11 && memcmp(t, "description", 11) == 0) {
			while (e > eq + 1 && fmt_isspace((unsigned char)e[-1]))
				e--;
			return put(kv, t, eq, eq + 1, e, once, err);
		}
		rc = put(kv, t, eq, eq + 1, p, once, err);
		if (rc)
			return rc;
	}
}

static int kv_parse(const char *text, size_t len, struct mfs_kv *kv,
		    bool once, struct mfs_err *err)
{
	struct mfs_kv *tmp;
	size_t pos = 0;
	int rc = 0;

	if (!fmt_text_clean(text, len))
		return mfs_errf(err, -EINVAL,
				"expected key=value text, got binary data or invalid UTF-8");
	tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return mfs_errf(err, -ENOMEM, "out of memory");
	mfs_kv_copy(tmp, kv);
	while (pos < len && !rc) {
		const char *s = text + pos, *e;
		const char *nl = memchr(s, '\n', len - pos);

		e = nl ? nl : text + len;
		pos = (size_t)(e - text) + (nl ? 1 : 0);
		while (s < e && fmt_isspace((unsigned char)*s))
			s++;
		if (s == e || *s == '#')
			continue;
		rc = parse_line(tmp, s, e, once, err);
	}
	if (!rc)
		mfs_kv_copy(kv, tmp);
	free(tmp);
	return rc;
}

int fmt_kv_parse(const char *text, size_t len, struct mfs_kv *kv,
		 struct mfs_err *err)
{
	return kv_parse(text, len, kv, false, err);
}

int fmt_kv_parse_once(const char *text, size_t len, struct mfs_kv *kv,
		      struct mfs_err *err)
{
	return kv_parse(text, len, kv, true, err);
}

int fmt_kv_print(struct mfs_buf *out, const struct mfs_kv *kv)
{
	size_t len0 = out->len;
	int rc = 0;

	for (size_t i = 0; i < kv->n && !rc; i++)
		rc = mfs_buf_printf(out, "%s=%s\n", kv->item[i].key,
				    kv->item[i].val);
	if (rc)
		mfs_buf_truncate(out, len0);
	return rc;
}
