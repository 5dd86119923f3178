/* idmap.c - the id hash map (idmap.h): linear probing, backward-shift
 * deletion, a table at most half full.
 */
#include "base/idmap.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CAP_MIN 16

/* murmur3's fmix64: every bit of the id moves every bit of the slot. */
static size_t home_of(const struct mfs_idmap *m, int64_t key)
{
	uint64_t x = (uint64_t)key;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return (size_t)x & (m->cap - 1);
}

/* The slot holding key, or the empty slot that ends its probe. */
static size_t slot_of(const struct mfs_idmap *m, int64_t key)
{
	size_t s = home_of(m, key);

	while (m->val[s] != MFS_IDMAP_NONE && m->key[s] != key)
		s = (s + 1) & (m->cap - 1);
	return s;
}

static size_t cap_for(size_t n)
{
	size_t cap = CAP_MIN;

	while (cap < 2 * n)
		cap *= 2;
	return cap;
}

int mfs_idmap_reserve(struct mfs_idmap *m, size_t n)
{
	struct mfs_idmap nm = { 0 };

	if (m->cap && 2 * n <= m->cap)
		return 0;
	if (n > SIZE_MAX / 4 / sizeof(*nm.key))
		return -ENOMEM;
	nm.cap = cap_for(n);
	nm.key = malloc(nm.cap * sizeof(*nm.key));
	nm.val = malloc(nm.cap * sizeof(*nm.val));
	if (!nm.key || !nm.val) {
		free(nm.key);
		free(nm.val);
		return -ENOMEM;
	}
	memset(nm.val, 0xff, nm.cap * sizeof(*nm.val));
	for (size_t i = 0; i < m->cap; i++)
		if (m->val[i] != MFS_IDMAP_NONE)
			mfs_idmap_put(&nm, m->key[i], m->val[i]);
	mfs_idmap_fini(m);
	*m = nm;
	return 0;
}

void mfs_idmap_put(struct mfs_idmap *m, int64_t key, uint32_t val)
{
	size_t s;

	assert(val != MFS_IDMAP_NONE && m->n < m->cap);
	s = slot_of(m, key);
	if (m->val[s] == MFS_IDMAP_NONE)
		m->n++;
	m->key[s] = key;
	m->val[s] = val;
}

int mfs_idmap_build(struct mfs_idmap *m, const int64_t *ids, size_t n)
{
	if (n >= MFS_IDMAP_NONE || mfs_idmap_reserve(m, n) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		mfs_idmap_put(m, ids[i], (uint32_t)i);
	return 0;
}

uint32_t mfs_idmap_get(const struct mfs_idmap *m, int64_t key)
{
	if (!m->cap)
		return MFS_IDMAP_NONE;
	return m->val[slot_of(m, key)];
}

uint32_t mfs_idmap_del(struct mfs_idmap *m, int64_t key)
{
	size_t mask = m->cap - 1, s, j;
	uint32_t old;

	if (!m->cap)
		return MFS_IDMAP_NONE;
	s = slot_of(m, key);
	old = m->val[s];
	if (old == MFS_IDMAP_NONE)
		return MFS_IDMAP_NONE;
	m->n--;
	/* Close the hole: move an entry of the run after it back into it
	 * unless the entry's home lies in (s, j], where it already is on
	 * its probe path. */
	for (j = (s + 1) & mask; m->val[j] != MFS_IDMAP_NONE; j = (j + 1) & mask) {
		size_t home = home_of(m, m->key[j]);

		if (((j - home) & mask) >= ((j - s) & mask)) {
			m->key[s] = m->key[j];
			m->val[s] = m->val[j];
			s = j;
		}
	}
	m->val[s] = MFS_IDMAP_NONE;
	return old;
}

void mfs_idmap_fini(struct mfs_idmap *m)
{
	free(m->key);
	free(m->val);
	memset(m, 0, sizeof(*m));
}

size_t mfs_idmap_bytes(const struct mfs_idmap *m)
{
	return m->cap * (sizeof(*m->key) + sizeof(*m->val));
}

size_t mfs_idmap_bytes_for(size_t n)
{
	return cap_for(n) * (sizeof(int64_t) + sizeof(uint32_t));
}
