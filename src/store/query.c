/* query.c - saved queries: query db, key cid u32 | pid u32 | name, value
 * the query text as written (pid 0: the collection's search/ folder).
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>

static int query_key(uint32_t cid, uint32_t pid, const char *name,
		     unsigned char *kb, MDB_val *k)
{
	int len = store_name_len(name);

	if (len < 0)
		return len;
	put_be32(kb, cid);
	put_be32(kb + 4, pid);
	memcpy(kb + 8, name, (size_t)len);
	k->mv_data = kb;
	k->mv_size = 8 + (size_t)len;
	return 0;
}

int store_query_put(struct store_txn *t, uint32_t cid, uint32_t pid,
		    const char *name, const void *text, size_t len)
{
	unsigned char kb[8 + STORE_NAME_MAX];
	MDB_val k, v = { len, (void *)text };
	int rc;

	rc = query_key(cid, pid, name, kb, &k);
	if (rc)
		return rc;
	rc = store_put(t, DB_QUERY, &k, &v, 0);
	return rc ? store_txn_fail(t, rc) : 0;
}

int store_query_get(struct store_txn *t, uint32_t cid, uint32_t pid,
		    const char *name, char **text, size_t *len)
{
	unsigned char kb[8 + STORE_NAME_MAX];
	MDB_val k, v;
	int rc;

	rc = query_key(cid, pid, name, kb, &k);
	if (rc)
		return rc;
	rc = mdb_get(t->txn, store_dbi(t, DB_QUERY), &k, &v);
	if (rc)
		return store_txn_fail(t, rc);
	return store_val_text(&v, text, len);
}

int store_query_del(struct store_txn *t, uint32_t cid, uint32_t pid,
		    const char *name)
{
	unsigned char kb[8 + STORE_NAME_MAX];
	MDB_val k;
	int rc;

	rc = query_key(cid, pid, name, kb, &k);
	if (rc)
		return rc;
	rc = store_del(t, DB_QUERY, &k);
	return rc ? store_txn_fail(t, rc) : 0;
}

int store_query_list(struct store_txn *t, uint32_t cid, uint32_t pid,
		     int (*cb)(void *arg, const char *name), void *arg)
{
	char name[STORE_NAME_MAX + 1];
	unsigned char pre[8];
	MDB_cursor *cur;
	MDB_val k = { 8, pre }, v;
	int rc, ret = 0;

	put_be32(pre, cid);
	put_be32(pre + 4, pid);
	rc = mdb_cursor_open(t->txn, store_dbi(t, DB_QUERY), &cur);
	if (rc)
		return store_txn_fail(t, rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 8 || memcmp(k.mv_data, pre, 8) != 0)
			break;
		if (k.mv_size - 8 > STORE_NAME_MAX) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(name, (char *)k.mv_data + 8, k.mv_size - 8);
		name[k.mv_size - 8] = '\0';
		ret = cb(arg, name);
		if (ret)
			break;
	}
	mdb_cursor_close(cur);
	if (ret)
		return ret;
	if (rc && rc != MDB_NOTFOUND)
		return store_txn_fail(t, rc);
	return 0;
}
