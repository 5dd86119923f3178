/* shrink.c - the parts of the rewrite of data.mdb (env.c, "The file
 * shrinks") that work on data, not on the environment's life: the copy of
 * a snapshot into the new file, the set of keys writers change while that
 * copy runs, the one wrapper every write of the store goes through to
 * record them, and the replay of that set into the copy.
 *
 * The change set.  While a rewrite copies its snapshot, writers go on
 * committing into the old file; each mdb_put / mdb_del / mdb_cursor_put /
 * mdb_cursor_del / mdb_drop of src/store goes through store_put & co.
 * below, which adds (database, key) to st->changes when a copy runs (a
 * drop: the whole database).  Only the key is kept, not what was done:
 * the replay, with no writer running, puts in the copy the value the key
 * has now in the old file, or deletes it there.  So recording too much
 * is harmless (an aborted transaction's keys, a key written twice), and
 * the order of the changes does not matter.  st->changes is installed and
 * removed under write_lock and writers use it under write_lock, so it
 * needs no lock of its own; only its "over" flag is read by the copy
 * while writers run (atomic).
 *
 * The set is an arena of records (database, key length, key) in the
 * order first seen, and an open-addressing table of their offsets (with
 * 24 bits of hash, so most misses skip the compare).  Its size is
 * capped: past max_keys keys or max_bytes bytes (or when memory runs
 * out) it is marked over and emptied, and the rewrite gives up for this
 * time.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SLOT_OFF_BITS 40
#define SLOT_OFF_MASK ((UINT64_C(1) << SLOT_OFF_BITS) - 1)
#define REC_HEAD 3              /* database, key length (2 bytes) */

struct store_changes {
	unsigned char *buf;     /* records: db, klen (big-endian), key */
	size_t len, cap;
	uint64_t *slot;         /* hash tag << 40 | (offset + 1), 0 empty */
	size_t nslot;           /* a power of 2, or 0 */
	size_t n;               /* keys in the set */
	unsigned dropped;       /* bit db: db was emptied, copy it whole */
	size_t max_keys, max_bytes;
	int over;               /* past a limit: atomic */
};

struct store_changes *store_changes_new(size_t max_keys, size_t max_bytes)
{
	struct store_changes *c = calloc(1, sizeof(*c));

	if (c) {
		c->max_keys = max_keys;
		c->max_bytes = max_bytes;
	}
	return c;
}

void store_changes_free(struct store_changes *c)
{
	if (!c)
		return;
	free(c->buf);
	free(c->slot);
	free(c);
}

size_t store_changes_count(const struct store_changes *c)
{
	return c->n;
}

int store_changes_over(const struct store_changes *c)
{
	return __atomic_load_n(&c->over, __ATOMIC_ACQUIRE);
}

static void set_over(struct store_changes *c)
{
	free(c->buf);
	free(c->slot);
	c->buf = NULL;
	c->slot = NULL;
	c->len = c->cap = c->nslot = c->n = 0;
	__atomic_store_n(&c->over, 1, __ATOMIC_RELEASE);
}

static uint64_t key_hash(unsigned db, const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = UINT64_C(0xcbf29ce484222325) ^ db;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h ^ (h >> 29);
}

static size_t rec_len(const unsigned char *r)
{
	return REC_HEAD + ((size_t)r[1] << 8 | r[2]);
}

static size_t bytes_used(const struct store_changes *c, size_t cap,
			 size_t nslot)
{
	(void)c;
	return cap + nslot * sizeof(uint64_t);
}

/* Put offset off (its hash h) into a free slot of the table. */
static void slot_put(uint64_t *slot, size_t nslot, uint64_t h, size_t off)
{
	size_t i = (size_t)h & (nslot - 1);

	while (slot[i])
		i = (i + 1) & (nslot - 1);
	slot[i] = (h >> SLOT_OFF_BITS) << SLOT_OFF_BITS | (uint64_t)(off + 1);
}

/* Double the table (or make the first one). 0 or -ENOMEM / -E2BIG. */
static int grow_table(struct store_changes *c)
{
	size_t n = c->nslot ? c->nslot * 2 : 1024;
	uint64_t *s;

	if (bytes_used(c, c->cap, n) > c->max_bytes)
		return -E2BIG;
	s = calloc(n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	for (size_t off = 0; off < c->len; off += rec_len(c->buf + off)) {
		const unsigned char *r = c->buf + off;
		slot_put(s, n, key_hash(r[0], r + REC_HEAD, rec_len(r) - REC_HEAD),
			 off);
	}
	free(c->slot);
	c->slot = s;
	c->nslot = n;
	return 0;
}

void store_changes_add(struct store_changes *c, enum store_db db,
		       const MDB_val *k)
{
	uint64_t h, tag;
	size_t i, need;

	if (!c || store_changes_over(c) || (c->dropped & 1u << db))
		return;
	if (k->mv_size > 0xffff) {      /* LMDB keys are far shorter */
		set_over(c);
		return;
	}
	h = key_hash(db, k->mv_data, k->mv_size);
	tag = h >> SLOT_OFF_BITS;
	if (c->nslot) {
		for (i = (size_t)h & (c->nslot - 1); c->slot[i];
		     i = (i + 1) & (c->nslot - 1)) {
			const unsigned char *r;

			if (c->slot[i] >> SLOT_OFF_BITS != tag)
				continue;
			r = c->buf + (c->slot[i] & SLOT_OFF_MASK) - 1;
			if (r[0] == db &&
			    rec_len(r) - REC_HEAD == k->mv_size &&
			    memcmp(r + REC_HEAD, k->mv_data, k->mv_size) == 0)
				return;         /* already there */
		}
	}
	if (c->n + 1 > c->max_keys)
		goto over;
	if ((c->n + 1) * 2 > c->nslot && grow_table(c) != 0)
		goto over;
	need = REC_HEAD + k->mv_size;
	if (c->len + need > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 65536;
		unsigned char *b;

		while (cap < c->len + need)
			cap *= 2;
		if (bytes_used(c, cap, c->nslot) > c->max_bytes)
			goto over;
		b = realloc(c->buf, cap);
		if (!b)
			goto over;
		c->buf = b;
		c->cap = cap;
	}
	c->buf[c->len] = (unsigned char)db;
	c->buf[c->len + 1] = (unsigned char)(k->mv_size >> 8);
	c->buf[c->len + 2] = (unsigned char)k->mv_size;
	memcpy(c->buf + c->len + REC_HEAD, k->mv_data, k->mv_size);
	slot_put(c->slot, c->nslot, h, c->len);
	c->len += need;
	c->n++;
	return;
over:
	set_over(c);
}

void store_changes_drop(struct store_changes *c, enum store_db db)
{
	if (c && !store_changes_over(c))
		c->dropped |= 1u << db;
}

/* ---- the wrappers: every write of the store ---- */

static void record(struct store_txn *t, enum store_db db, const MDB_val *k)
{
	if (t->st->changes)
		store_changes_add(t->st->changes, db, k);
}

int store_put(struct store_txn *t, enum store_db db, MDB_val *k, MDB_val *v,
	      unsigned flags)
{
	record(t, db, k);
	return mdb_put(t->txn, t->st->dbi[db], k, v, flags);
}

int store_del(struct store_txn *t, enum store_db db, MDB_val *k)
{
	record(t, db, k);
	return mdb_del(t->txn, t->st->dbi[db], k, NULL);
}

int store_cursor_put(struct store_txn *t, enum store_db db, MDB_cursor *cur,
		     MDB_val *k, MDB_val *v, unsigned flags)
{
	record(t, db, k);
	return mdb_cursor_put(cur, k, v, flags);
}

int store_cursor_del(struct store_txn *t, enum store_db db, MDB_cursor *cur)
{
	if (t->st->changes) {
		MDB_val k, v;
		int rc = mdb_cursor_get(cur, &k, &v, MDB_GET_CURRENT);

		if (rc)
			return rc;
		store_changes_add(t->st->changes, db, &k);
	}
	return mdb_cursor_del(cur, 0);
}

int store_drop(struct store_txn *t, enum store_db db)
{
	if (t->st->changes)
		store_changes_drop(t->st->changes, db);
	return mdb_drop(t->txn, t->st->dbi[db], 0);
}

/* ---- the copy and the replay ---- */

int store_shrink_dbs(MDB_env *to, MDB_dbi *tdbi)
{
	MDB_txn *wt;
	int rc = mdb_txn_begin(to, NULL, 0, &wt);

	if (rc)
		return rc;
	for (int i = 0; i < DB_COUNT && rc == 0; i++)
		rc = mdb_dbi_open(wt, store_db_names[i], MDB_CREATE, &tdbi[i]);
	if (rc) {
		mdb_txn_abort(wt);
		return rc;
	}
	return mdb_txn_commit(wt);
}

/* Copy database db of rt, in key order, with MDB_APPEND into the empty
 * tdbi of to, committing every STORE_SHRINK_TXN_ENTRIES; *n counts the
 * entries, and every STORE_SHRINK_CHECK of them stop(arg) is asked
 * whether to give up (its nonzero code is returned). */
static int copy_db(MDB_txn *rt, MDB_dbi from, MDB_env *to, MDB_dbi tdbi,
		   size_t *n, int (*stop)(void *), void *arg)
{
	MDB_txn *wt = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_txn_begin(to, NULL, 0, &wt)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(rt, from, &cur)) != 0)
		goto out;
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		rc = mdb_put(wt, tdbi, &k, &v, MDB_APPEND);
		if (rc)
			break;
		++*n;
		if (stop && *n % STORE_SHRINK_CHECK == 0 &&
		    (rc = stop(arg)) != 0)
			break;
		if (*n % STORE_SHRINK_TXN_ENTRIES == 0) {
			rc = mdb_txn_commit(wt);
			wt = NULL;
			if (rc || (rc = mdb_txn_begin(to, NULL, 0, &wt)) != 0) {
				wt = NULL;
				break;
			}
		}
	}
	if (rc == MDB_NOTFOUND) {
		rc = mdb_txn_commit(wt);
		wt = NULL;
	}
out:
	if (cur)
		mdb_cursor_close(cur);
	if (wt)
		mdb_txn_abort(wt);
	return rc;
}

int store_shrink_copy(struct store *st, MDB_txn *rt, MDB_env *to,
		      const MDB_dbi *tdbi, int (*stop)(void *), void *arg,
		      void (*mid)(void *), void *mid_arg)
{
	size_t n = 0;
	int rc = 0;

	for (int i = 0; i < DB_COUNT && rc == 0; i++) {
		/* the hook of store_shrink_now: between the catalog and the
		 * entities, a write changes both copied and uncopied data */
		if (i == DB_ENT && mid)
			mid(mid_arg);
		if (stop && (rc = stop(arg)) != 0)
			break;
		rc = copy_db(rt, st->dbi[i], to, tdbi[i], &n, stop, arg);
	}
	return rc;
}

/* Empty tdbi of to and copy database db of rt into it whole. */
static int recopy(MDB_txn *rt, MDB_dbi from, MDB_env *to, MDB_dbi tdbi)
{
	MDB_txn *wt;
	size_t n = 0;
	int rc = mdb_txn_begin(to, NULL, 0, &wt);

	if (rc)
		return rc;
	rc = mdb_drop(wt, tdbi, 0);
	if (rc) {
		mdb_txn_abort(wt);
		return rc;
	}
	if ((rc = mdb_txn_commit(wt)) != 0)
		return rc;
	return copy_db(rt, from, to, tdbi, &n, NULL, NULL);
}

/* One pass of the replay (see store_shrink_replay). */
static int replay_pass(struct store *st, MDB_txn *rt,
		       const struct store_changes *c, MDB_env *to,
		       const MDB_dbi *tdbi, size_t *keys)
{
	MDB_txn *wt = NULL;
	size_t n = 0;
	int rc = 0;

	for (int i = 0; i < DB_COUNT && rc == 0; i++)
		if (c->dropped & 1u << i)
			rc = recopy(rt, st->dbi[i], to, tdbi[i]);
	if (rc)
		return rc;
	for (size_t off = 0; off < c->len && rc == 0;
	     off += rec_len(c->buf + off)) {
		const unsigned char *r = c->buf + off;
		unsigned db = r[0];
		MDB_val k = { rec_len(r) - REC_HEAD, (void *)(r + REC_HEAD) };
		MDB_val v;

		if (c->dropped & 1u << db)
			continue;
		if (!wt && (rc = mdb_txn_begin(to, NULL, 0, &wt)) != 0) {
			wt = NULL;
			break;
		}
		rc = mdb_get(rt, st->dbi[db], &k, &v);
		if (rc == 0)
			rc = mdb_put(wt, tdbi[db], &k, &v, 0);
		else if (rc == MDB_NOTFOUND) {
			rc = mdb_del(wt, tdbi[db], &k, NULL);
			if (rc == MDB_NOTFOUND)
				rc = 0;
		}
		if (rc == 0 && ++n % STORE_SHRINK_TXN_ENTRIES == 0) {
			rc = mdb_txn_commit(wt);
			wt = NULL;
		}
	}
	if (wt) {
		if (rc == 0)
			rc = mdb_txn_commit(wt);
		else
			mdb_txn_abort(wt);
	}
	if (rc == 0)
		*keys = n;
	return rc;
}

int store_shrink_replay(struct store *st, MDB_txn *rt,
			const struct store_changes *c, MDB_env *to,
			const MDB_dbi *tdbi, size_t *keys)
{
	for (int tries = 0;; tries++) {
		MDB_envinfo info;
		int rc = replay_pass(st, rt, c, to, tdbi, keys);

		if (rc != MDB_MAP_FULL || tries >= 8)
			return rc;
		/* Updates in the dense copy split pages: give it room and
		 * play it again (a key replayed twice ends the same). */
		if ((rc = mdb_env_info(to, &info)) != 0 ||
		    (rc = mdb_env_set_mapsize(to, info.me_mapsize * 2)) != 0)
			return rc;
	}
}
