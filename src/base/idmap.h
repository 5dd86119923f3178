/* idmap.h - entity id -> position: the one id hash map.
 *
 * FLAT maps an id to its row, HNSW to its node, IVF's restore to the
 * entity's place in the arrays it was handed, a partition's columns
 * (field/cols.c) to its live row.  Open addressing with linear
 * probing over two arrays (keys, values: 12 bytes a slot), a power-of-two
 * table that mfs_idmap_reserve keeps at most half full, and backward-shift
 * deletion: no tombstone slots, so probes stay short however many ids come
 * and go.  Ids are mixed with murmur3's 64-bit finalizer, so ids with
 * regular low bits (Milvus's auto ids, multiples of a power of two) spread
 * like any others.
 *
 * Values are positions below MFS_IDMAP_NONE (2^32 - 1), which marks an empty
 * slot.  A zeroed struct is an empty map.  Writers (reserve, put, del)
 * need exclusive access; mfs_idmap_get only reads, and any number of threads
 * may call it while no writer runs.
 */
#ifndef MFS_BASE_IDMAP_H
#define MFS_BASE_IDMAP_H

#include <stddef.h>
#include <stdint.h>

#define MFS_IDMAP_NONE UINT32_MAX

struct mfs_idmap {
	int64_t *key;                   /* cap */
	uint32_t *val;                  /* cap; MFS_IDMAP_NONE: empty slot */
	size_t cap;                     /* 0 or a power of two >= 16 */
	size_t n;                       /* entries */
};

/* Room for n entries (the table at most half full).  0, or -ENOMEM with
 * the map unchanged. */
int mfs_idmap_reserve(struct mfs_idmap *m, size_t n);
/* Map key to val (val < MFS_IDMAP_NONE), replacing what key mapped to.  Needs
 * room for one more entry: mfs_idmap_reserve(m, m->n + 1) first, or a reserve
 * for every entry the map will hold. */
void mfs_idmap_put(struct mfs_idmap *m, int64_t key, uint32_t val);
/* Fill the empty map m with ids[i] -> i for i < n (a later duplicate
 * wins): the positions of the entities an index is restored with.  0, or
 * -ENOMEM (n >= MFS_IDMAP_NONE included) with m left empty. */
int mfs_idmap_build(struct mfs_idmap *m, const int64_t *ids, size_t n);
/* The value of key, or MFS_IDMAP_NONE when absent. */
uint32_t mfs_idmap_get(const struct mfs_idmap *m, int64_t key);
/* Remove key; returns the value it had, or MFS_IDMAP_NONE when absent. */
uint32_t mfs_idmap_del(struct mfs_idmap *m, int64_t key);
/* Free the arrays; the map is empty (zeroed) after. */
void mfs_idmap_fini(struct mfs_idmap *m);
/* Bytes the map holds. */
size_t mfs_idmap_bytes(const struct mfs_idmap *m);
/* Bytes mfs_idmap_reserve(n) makes an empty map hold (memory estimates). */
size_t mfs_idmap_bytes_for(size_t n);

#endif
