/* ent.c - entities (ent), the id map (idmap) and prefix deletion.
 *
 *   ent   pid u32 | seq u64  ->  id i64 (big-endian, two's complement) |
 *                                vector bytes | row (scalar fields,
 *                                field.h; absent in layout 1 and for
 *                                collections without fields)
 *   idmap cid u32 | id^2^63  ->  pid u32 | seq u64
 *
 * An insert batch writes through two cursors: ent with MDB_APPEND when its
 * keys sort after the last key of the db (the common case: the newest
 * partition, or the only one), idmap with MDB_NOOVERWRITE, which catches
 * ids already in the collection and ids repeated inside the batch.  The
 * partition record is rewritten once per call, not per entity.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>

#define ENT_KEY 12
#define IDMAP_KEY 12
#define ID_BYTES 8

static void ent_key(unsigned char *kb, uint32_t pid, uint64_t seq)
{
	put_be32(kb, pid);
	put_be64(kb + 4, seq);
}

static void idmap_key(unsigned char *kb, uint32_t cid, int64_t id)
{
	put_be32(kb, cid);
	put_be64(kb + 4, id_key(id));
}

int store_del_prefix(struct store_txn *t, enum store_db db,
		     const void *prefix, size_t len, uint64_t *n)
{
	MDB_cursor *cur;
	MDB_val k = { len, (void *)prefix }, v;
	uint64_t count = 0;
	int rc;

	rc = mdb_cursor_open(t->txn, store_dbi(t, db), &cur);
	if (rc)
		return store_txn_fail(t, rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < len || memcmp(k.mv_data, prefix, len) != 0)
			break;
		rc = store_cursor_del(t, db, cur);
		if (rc)
			break;
		count++;
		t->touched++;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return store_txn_fail(t, rc);
	if (n)
		*n = count;
	return 0;
}

int store_part_purge(struct store_txn *t, uint32_t cid, uint32_t pid,
		     int del_ids)
{
	unsigned char pre[8], ik[IDMAP_KEY];
	MDB_val k, v, ikv = { IDMAP_KEY, ik };
	MDB_cursor *cur;
	int rc;

	put_be32(pre, pid);
	if (del_ids) {
		rc = mdb_cursor_open(t->txn, store_dbi(t, DB_ENT), &cur);
		if (rc)
			return store_txn_fail(t, rc);
		k.mv_data = pre;
		k.mv_size = 4;
		for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
		     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
			if (k.mv_size != ENT_KEY || memcmp(k.mv_data, pre, 4))
				break;
			if (v.mv_size < ID_BYTES) {
				rc = MDB_CORRUPTED;
				break;
			}
			idmap_key(ik, cid, (int64_t)get_be64(v.mv_data));
			rc = store_del(t, DB_IDMAP, &ikv);
			if (rc && rc != MDB_NOTFOUND)
				break;
			rc = store_cursor_del(t, DB_ENT, cur);
			if (rc)
				break;
		}
		mdb_cursor_close(cur);
		if (rc && rc != MDB_NOTFOUND)
			return store_txn_fail(t, rc);
	} else {
		rc = store_del_prefix(t, DB_ENT, pre, 4, NULL);
		if (rc)
			return rc;
	}
	rc = store_del_prefix(t, DB_BLOB, pre, 4, NULL);
	if (rc)
		return rc;
	put_be32(pre, cid);
	put_be32(pre + 4, pid);
	rc = store_del_prefix(t, DB_QUERY, pre, 8, NULL);
	if (rc)
		return rc;
	/* and the partition's saved scalar queries (pid | 2^31) */
	put_be32(pre + 4, pid | 0x80000000u);
	rc = store_del_prefix(t, DB_QUERY, pre, 8, NULL);
	if (rc)
		return rc;
	put_be32(pre, pid);
	k.mv_data = pre;
	k.mv_size = 4;
	rc = store_del(t, DB_PINFO, &k);
	if (rc && rc != MDB_NOTFOUND)
		return store_txn_fail(t, rc);
	return 0;
}

int store_ent_insert(struct store_txn *t, struct store_part *p,
		     const int64_t *ids, const void *vecs, size_t vec_bytes,
		     const void *rows, const size_t *row_end, size_t n,
		     size_t *dup)
{
	unsigned char ek[ENT_KEY], ik[IDMAP_KEY], iv[12];
	MDB_val k, v;
	MDB_cursor *ce = NULL, *ci = NULL;
	struct store_part cur;
	unsigned append = 0;
	int rc;

	if (n == 0)
		return 0;
	rc = store_txn_grows(t);
	if (rc)
		return rc;
	/* The record in the database is the truth; *p may be stale. */
	rc = store_pinfo_get(t, p->pid, &cur);
	if (rc)
		return rc;
	if ((rc = mdb_cursor_open(t->txn, store_dbi(t, DB_ENT), &ce)) ||
	    (rc = mdb_cursor_open(t->txn, store_dbi(t, DB_IDMAP), &ci)))
		goto lmdb_fail;
	ent_key(ek, cur.pid, cur.next_seq);
	rc = mdb_cursor_get(ce, &k, &v, MDB_LAST);
	if (rc == MDB_NOTFOUND ||
	    (rc == 0 && k.mv_size == ENT_KEY && memcmp(k.mv_data, ek, ENT_KEY) < 0))
		append = MDB_APPEND;
	else if (rc)
		goto lmdb_fail;

	for (size_t i = 0; i < n; i++) {
		uint64_t seq = cur.next_seq + i;

		idmap_key(ik, cur.cid, ids[i]);
		put_be32(iv, cur.pid);
		put_be64(iv + 4, seq);
		k.mv_data = ik;
		k.mv_size = IDMAP_KEY;
		v.mv_data = iv;
		v.mv_size = sizeof(iv);
		rc = store_cursor_put(t, DB_IDMAP, ci, &k, &v,
				      MDB_NOOVERWRITE);
		if (rc == MDB_KEYEXIST) {
			/* Earlier entities of the batch are in: the txn must
			 * not commit (store_write aborts it). */
			t->poison = -EEXIST;
			*dup = i;
			rc = -EEXIST;
			goto out;
		}
		if (rc)
			goto lmdb_fail;
		ent_key(ek, cur.pid, seq);
		k.mv_data = ek;
		k.mv_size = ENT_KEY;
		size_t r0 = row_end && i ? row_end[i - 1] : 0;
		size_t rl = row_end ? row_end[i] - r0 : 0;

		v.mv_data = NULL;
		v.mv_size = ID_BYTES + vec_bytes + rl;
		rc = store_cursor_put(t, DB_ENT, ce, &k, &v,
				      MDB_RESERVE | append);
		if (rc)
			goto lmdb_fail;
		put_be64(v.mv_data, (uint64_t)ids[i]);
		memcpy((unsigned char *)v.mv_data + ID_BYTES,
		       (const unsigned char *)vecs + i * vec_bytes, vec_bytes);
		if (rl)
			memcpy((unsigned char *)v.mv_data + ID_BYTES +
			       vec_bytes, (const unsigned char *)rows + r0, rl);
	}
	cur.count += n;
	cur.next_seq += n;
	rc = store_part_put(t, &cur);
	if (rc == 0)
		*p = cur;
	goto out;

lmdb_fail:
	rc = store_txn_fail(t, rc);
out:
	mdb_cursor_close(ce);
	mdb_cursor_close(ci);
	return rc;
}

struct pid_count {
	uint32_t pid;
	uint64_t n;
};

int store_ent_delete(struct store_txn *t, uint32_t cid, uint32_t only_pid,
		     const int64_t *ids, size_t n,
		     void (*cb)(void *arg, uint32_t pid, int64_t id), void *arg,
		     size_t *ndeleted)
{
	unsigned char ik[IDMAP_KEY], ek[ENT_KEY];
	struct pid_count *pc = NULL;
	size_t npc = 0, cap = 0, last = 0, done = 0;
	MDB_cursor *ci = NULL;
	MDB_val k, v;
	int rc;

	rc = mdb_cursor_open(t->txn, store_dbi(t, DB_IDMAP), &ci);
	if (rc)
		goto lmdb_fail;
	for (size_t i = 0; i < n; i++) {
		uint32_t pid;
		uint64_t seq;

		idmap_key(ik, cid, ids[i]);
		k.mv_data = ik;
		k.mv_size = IDMAP_KEY;
		rc = mdb_cursor_get(ci, &k, &v, MDB_SET_KEY);
		if (rc == MDB_NOTFOUND)
			continue;
		if (rc)
			goto lmdb_fail;
		if (v.mv_size != 12) {
			rc = MDB_CORRUPTED;
			goto lmdb_fail;
		}
		pid = get_be32(v.mv_data);
		seq = get_be64((unsigned char *)v.mv_data + 4);
		if (only_pid && pid != only_pid)
			continue;
		rc = store_cursor_del(t, DB_IDMAP, ci);
		if (rc)
			goto lmdb_fail;
		t->touched++;
		ent_key(ek, pid, seq);
		k.mv_data = ek;
		k.mv_size = ENT_KEY;
		rc = store_del(t, DB_ENT, &k);
		if (rc && rc != MDB_NOTFOUND)
			goto lmdb_fail;
		if (!(npc && pc[last].pid == pid)) {
			for (last = 0; last < npc && pc[last].pid != pid; last++)
				;
			if (last == npc) {
				if (npc == cap) {
					size_t nc = cap ? cap * 2 : 8;
					void *np = realloc(pc, nc * sizeof(*pc));
					if (!np) {
						rc = -ENOMEM;
						goto out;
					}
					pc = np;
					cap = nc;
				}
				pc[npc].pid = pid;
				pc[npc].n = 0;
				npc++;
			}
		}
		pc[last].n++;
		done++;
		if (cb)
			cb(arg, pid, ids[i]);
	}
	for (size_t j = 0; j < npc; j++) {
		struct store_part p;

		rc = store_pinfo_get(t, pc[j].pid, &p);
		if (rc)
			goto out;
		p.count = p.count > pc[j].n ? p.count - pc[j].n : 0;
		p.deleted = pc[j].n >= UINT32_MAX - p.deleted
			    ? UINT32_MAX : p.deleted + (uint32_t)pc[j].n;
		rc = store_part_put(t, &p);
		if (rc)
			goto out;
	}
	*ndeleted = done;
	rc = 0;
	goto out;

lmdb_fail:
	rc = store_txn_fail(t, rc);
out:
	mdb_cursor_close(ci);
	free(pc);
	return rc;
}

int store_ent_get(struct store_txn *t, uint32_t cid, int64_t id,
		  uint32_t *pid, void *vec, size_t vec_bytes, void **row,
		  size_t *row_len)
{
	unsigned char ik[IDMAP_KEY];
	MDB_val k = { IDMAP_KEY, ik }, v;
	int rc;

	idmap_key(ik, cid, id);
	rc = mdb_get(t->txn, store_dbi(t, DB_IDMAP), &k, &v);
	if (rc)
		return store_txn_fail(t, rc);
	if (v.mv_size != 12)
		return store_txn_fail(t, MDB_CORRUPTED);
	uint32_t p = get_be32(v.mv_data);
	if (vec || row) {
		unsigned char ek[ENT_KEY];

		ent_key(ek, p, get_be64((unsigned char *)v.mv_data + 4));
		k.mv_data = ek;
		k.mv_size = ENT_KEY;
		rc = mdb_get(t->txn, store_dbi(t, DB_ENT), &k, &v);
		if (rc == MDB_NOTFOUND)
			rc = MDB_CORRUPTED;     /* idmap points nowhere */
		if (rc)
			return store_txn_fail(t, rc);
		if (v.mv_size < ID_BYTES + vec_bytes)
			return -EINVAL;
		if (vec)
			memcpy(vec, (unsigned char *)v.mv_data + ID_BYTES,
			       vec_bytes);
		if (row) {
			size_t rl = v.mv_size - ID_BYTES - vec_bytes;
			void *r = malloc(rl ? rl : 1);

			if (!r)
				return -ENOMEM;
			memcpy(r, (unsigned char *)v.mv_data + ID_BYTES +
			       vec_bytes, rl);
			*row = r;
			*row_len = rl;
		}
	}
	if (pid)
		*pid = p;
	return 0;
}

int store_ent_scan(struct store_txn *t, uint32_t pid, uint64_t from_seq,
		   size_t max,
		   int (*cb)(void *arg, uint64_t seq, int64_t id,
			     const void *vec, size_t vec_bytes),
		   void *arg, uint64_t *next_seq)
{
	unsigned char ek[ENT_KEY];
	MDB_cursor *ce;
	MDB_val k = { ENT_KEY, ek }, v;
	uint64_t *aligned = NULL;       /* copy of a misaligned vector */
	size_t aligned_bytes = 0, done = 0;
	uint64_t next = UINT64_MAX;
	int rc, ret = 0;

	rc = mdb_cursor_open(t->txn, store_dbi(t, DB_ENT), &ce);
	if (rc)
		return store_txn_fail(t, rc);
	ent_key(ek, pid, from_seq);
	for (rc = mdb_cursor_get(ce, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(ce, &k, &v, MDB_NEXT)) {
		const unsigned char *kp = k.mv_data;
		const unsigned char *vec;
		uint64_t seq;
		size_t vb;

		if (k.mv_size != ENT_KEY || get_be32(kp) != pid)
			break;
		seq = get_be64(kp + 4);
		if (max && done == max) {
			next = seq;
			break;
		}
		if (v.mv_size < ID_BYTES) {
			rc = MDB_CORRUPTED;
			break;
		}
		vec = (const unsigned char *)v.mv_data + ID_BYTES;
		vb = v.mv_size - ID_BYTES;
		if ((uintptr_t)vec % sizeof(uint64_t)) {
			if (vb > aligned_bytes) {
				void *np = realloc(aligned, vb);
				if (!np) {
					ret = -ENOMEM;
					break;
				}
				aligned = np;
				aligned_bytes = vb;
			}
			memcpy(aligned, vec, vb);
			vec = (const unsigned char *)aligned;
		}
		done++;
		ret = cb(arg, seq, (int64_t)get_be64(v.mv_data), vec, vb);
		if (ret) {
			next = seq + 1;
			break;
		}
	}
	mdb_cursor_close(ce);
	free(aligned);
	if (ret)
		return ret;
	if (rc && rc != MDB_NOTFOUND)
		return store_txn_fail(t, rc);
	*next_seq = next;
	return 0;
}
