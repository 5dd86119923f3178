/* kv.h - an ordered list of key=value pairs.
 *
 * The common currency for parameters that cross layers: schema updates,
 * index build parameters, search parameters.  Parsing text into a kv is
 * fmt's job (fmt_kv_parse); this module only stores and converts values.
 * Keys are case-sensitive, at most MFS_KV_KEY_MAX-1 bytes; values at most
 * MFS_KV_VAL_MAX-1 bytes; at most MFS_KV_MAX pairs.
 */
#ifndef MFS_BASE_KV_H
#define MFS_BASE_KV_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define MFS_KV_MAX 32
#define MFS_KV_KEY_MAX 64
#define MFS_KV_VAL_MAX 1024

struct mfs_kv {
	size_t n;
	struct mfs_kv_item {
		char key[MFS_KV_KEY_MAX];
		char val[MFS_KV_VAL_MAX];
	} item[MFS_KV_MAX];
};

void mfs_kv_init(struct mfs_kv *kv);
/* dst = src, touching only the pairs in use (the struct is 35 KB; a
 * whole-struct copy costs a search measurable time). */
void mfs_kv_copy(struct mfs_kv *dst, const struct mfs_kv *src);
/* Value of key, or NULL.  Borrowed, valid until kv changes. */
const char *mfs_kv_get(const struct mfs_kv *kv, const char *key);
/* Set key (replacing an existing value, else appending).
 * 0, -EINVAL (key or value too long, or list full), with a message. */
int mfs_kv_set(struct mfs_kv *kv, const char *key, const char *val,
	       struct mfs_err *err);
/* Remove key if present. */
void mfs_kv_del(struct mfs_kv *kv, const char *key);
/* Integer value of key in [min, max]; def when absent.
 * -EINVAL with "<key> must be an integer in [min, max], got <v>" otherwise.
 * *out written only on success. */
int mfs_kv_get_long(const struct mfs_kv *kv, const char *key, long def,
		    long min, long max, long *out, struct mfs_err *err);

/* Parse a whole string as a decimal integer in [min,max]; 0 or -EINVAL. */
int mfs_parse_long(const char *s, long min, long max, long *out);
/* Parse a size with optional K/M/G/T suffix (powers of 1024); 0 or -EINVAL. */
int mfs_parse_size(const char *s, uint64_t *out);

#endif
