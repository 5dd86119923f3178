/* kv.c - key=value lists. */
#include "base/kv.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

void mfs_kv_init(struct mfs_kv *kv)
{
	kv->n = 0;
}

void mfs_kv_copy(struct mfs_kv *dst, const struct mfs_kv *src)
{
	dst->n = src->n;
	memcpy(dst->item, src->item, src->n * sizeof(src->item[0]));
}

static struct mfs_kv_item *find(const struct mfs_kv *kv, const char *key)
{
	for (size_t i = 0; i < kv->n; i++)
		if (strcmp(kv->item[i].key, key) == 0)
			return (struct mfs_kv_item *)&kv->item[i];
	return NULL;
}

const char *mfs_kv_get(const struct mfs_kv *kv, const char *key)
{
	struct mfs_kv_item *it = find(kv, key);

	return it ? it->val : NULL;
}

int mfs_kv_set(struct mfs_kv *kv, const char *key, const char *val,
	       struct mfs_err *err)
{
	struct mfs_kv_item *it;

	if (strlen(key) >= MFS_KV_KEY_MAX)
		return mfs_errf(err, -EINVAL, "parameter name too long: %.64s...", key);
	if (strlen(val) >= MFS_KV_VAL_MAX)
		return mfs_errf(err, -EINVAL, "value of %s too long: at most %d bytes",
				key, MFS_KV_VAL_MAX - 1);
	it = find(kv, key);
	if (!it) {
		if (kv->n == MFS_KV_MAX)
			return mfs_errf(err, -EINVAL, "too many parameters: at most %d",
					MFS_KV_MAX);
		it = &kv->item[kv->n++];
		strcpy(it->key, key);
	}
	strcpy(it->val, val);
	return 0;
}

void mfs_kv_del(struct mfs_kv *kv, const char *key)
{
	struct mfs_kv_item *it = find(kv, key);

	if (!it)
		return;
	size_t i = (size_t)(it - kv->item);
	memmove(&kv->item[i], &kv->item[i + 1], (kv->n - i - 1) * sizeof(*it));
	kv->n--;
}

int mfs_parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int mfs_kv_get_long(const struct mfs_kv *kv, const char *key, long def,
		    long min, long max, long *out, struct mfs_err *err)
{
	const char *s = mfs_kv_get(kv, key);

	if (!s) {
		*out = def;
		return 0;
	}
	if (mfs_parse_long(s, min, max, out))
		return mfs_errf(err, -EINVAL,
				"%s must be an integer in [%ld, %ld], got %.100s",
				key, min, max, s);
	return 0;
}

int mfs_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: return -EINVAL;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (ULLONG_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}
