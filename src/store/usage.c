/* usage.c - what one partition occupies in the database (SPEC §11
 * `stats`): a walk of its ent range and its blob chunks that reads key
 * and value sizes only, never copies a value; and the length of its
 * `ids` listing, from a like walk that reads each id.
 */
#include "store/store_int.h"

#include <errno.h>
#include <string.h>

#define USAGE_ENT_KEY 12                /* pid u32 | seq u64 (ent.c) */
#define USAGE_IDMAP_BYTES 24            /* idmap key 12 + value 12 */

int store_part_usage(struct store_txn *t, uint32_t pid, uint64_t index_seq,
		     struct store_usage *out)
{
	unsigned char kb[USAGE_ENT_KEY];
	struct store_usage u = { 0 };
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	put_be32(kb, pid);
	put_be64(kb + 4, index_seq);
	rc = mdb_cursor_open(t->txn, store_dbi(t, DB_ENT), &cur);
	if (rc)
		return store_txn_fail(t, rc);
	/* Entities before index_seq first (only their sizes), then those
	 * after it, counted apart: the walk starts at the partition's
	 * first key. */
	put_be64(kb + 4, 0);
	k.mv_size = USAGE_ENT_KEY;
	k.mv_data = kb;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != USAGE_ENT_KEY || memcmp(k.mv_data, kb, 4))
			break;
		u.entities++;
		u.ent_bytes += k.mv_size + v.mv_size + USAGE_IDMAP_BYTES;
		if (get_be64((unsigned char *)k.mv_data + 4) >= index_seq)
			u.after_index++;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return store_txn_fail(t, rc);
	rc = mdb_cursor_open(t->txn, store_dbi(t, DB_BLOB), &cur);
	if (rc)
		return store_txn_fail(t, rc);
	k.mv_size = 4;
	k.mv_data = kb;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || memcmp(k.mv_data, kb, 4) != 0)
			break;
		u.blob_bytes += v.mv_size;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return store_txn_fail(t, rc);
	*out = u;
	return 0;
}

/* Digits of v in decimal (1 for 0). */
static unsigned dec_digits(uint64_t v)
{
	unsigned n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

int store_part_id_text(struct store_txn *t, uint32_t pid, uint64_t *bytes)
{
	unsigned char kb[USAGE_ENT_KEY];
	uint64_t sum = 0;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc;

	put_be32(kb, pid);
	put_be64(kb + 4, 0);
	rc = mdb_cursor_open(t->txn, store_dbi(t, DB_ENT), &cur);
	if (rc)
		return store_txn_fail(t, rc);
	k.mv_size = USAGE_ENT_KEY;
	k.mv_data = kb;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		int64_t id;

		if (k.mv_size != USAGE_ENT_KEY || memcmp(k.mv_data, kb, 4))
			break;
		if (v.mv_size < 8) {
			rc = MDB_CORRUPTED;
			break;
		}
		id = (int64_t)get_be64(v.mv_data);
		/* "-" and the magnitude (INT64_MIN's as unsigned), "\n" */
		sum += (id < 0) + dec_digits(id < 0 ? 0 - (uint64_t)id
					       : (uint64_t)id) + 1;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return store_txn_fail(t, rc);
	*bytes = sum;
	return 0;
}
