/* itext.c - the collection's index, as its record stores it.
 *
 * store_coll.index holds the canonical parameters that the index type's
 * check() wrote, as "key=value\n" lines, index_type first ("" = no index,
 * i.e. FLAT or BIN_FLAT).  This is the engine's own serialization of its
 * own data, not user input, so a plain split suffices (user text is parsed
 * by fmt/).
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <string.h>

int eng_itext_to_kv(const char *text, struct mfs_kv *kv, struct mfs_err *err)
{
	const char *s = text;

	mfs_kv_init(kv);
	while (*s) {
		const char *nl = strchr(s, '\n');
		const char *eq;
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		char key[MFS_KV_KEY_MAX], val[MFS_KV_VAL_MAX];

		eq = memchr(s, '=', len);
		if (eq && (size_t)(eq - s) < sizeof(key) &&
		    len - (size_t)(eq - s) - 1 < sizeof(val)) {
			memcpy(key, s, (size_t)(eq - s));
			key[eq - s] = 0;
			memcpy(val, eq + 1, len - (size_t)(eq - s) - 1);
			val[len - (size_t)(eq - s) - 1] = 0;
			int rc = mfs_kv_set(kv, key, val, err);
			if (rc < 0)
				return rc;
		} else if (len) {
			return mfs_errf(err, -EIO,
					"corrupt index record: expected key=value, got \"%.*s\"",
					(int)len, s);
		}
		s += len;
		if (*s == '\n')
			s++;
	}
	return 0;
}

int eng_kv_to_itext(const struct mfs_kv *kv, char *text, size_t cap,
		    struct mfs_err *err)
{
	size_t off = 0;

	text[0] = 0;
	for (size_t i = 0; i < kv->n; i++) {
		int w = snprintf(text + off, cap - off, "%s=%s\n",
				 kv->item[i].key, kv->item[i].val);

		if (w < 0 || (size_t)w >= cap - off) {
			text[0] = 0;
			return mfs_errf(err, -EINVAL,
					"index parameters too long: at most %zu bytes",
					cap - 1);
		}
		off += (size_t)w;
	}
	return 0;
}

const struct idx_type *eng_default_type(enum vec_type vt)
{
	const struct idx_type *t = NULL;

	if (vt == VEC_BINARY)
		t = idx_lookup("BIN_FLAT");
	return t ? t : &idx_flat_type;
}

int eng_rec_index(const struct store_coll *rec, const struct idx_type **type,
		  struct mfs_kv *canon, struct mfs_err *err)
{
	const char *name;
	int rc;

	rc = eng_itext_to_kv(rec->index, canon, err);
	if (rc < 0)
		return rc;
	name = mfs_kv_get(canon, "index_type");
	if (!name || !*name) {
		*type = eng_default_type((enum vec_type)rec->vtype);
		mfs_kv_init(canon);
		return mfs_kv_set(canon, "index_type", (*type)->name, err);
	}
	*type = idx_lookup(name);
	if (!*type)
		return mfs_errf(err, -EIO, "unknown index type %s in the catalog",
				name);
	return 0;
}

void eng_rec_info(struct eng *e, const struct store_coll *rec,
		  struct idx_info *info)
{
	info->vtype = (enum vec_type)rec->vtype;
	info->metric = (enum vec_metric)rec->metric;
	info->dim = rec->dim;
	info->pool = e->pool;
}

