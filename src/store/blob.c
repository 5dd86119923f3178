/* blob.c - a partition's serialized index, in chunks of at most 1 MiB
 * under blob: pid u32 | chunk u32 (chunk numbers from 0, no gaps).
 *
 * Chunking keeps each LMDB value (an overflow-page run) bounded, so a
 * large index never needs one huge contiguous page run in the file.
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>

int store_blob_put(struct store_txn *t, uint32_t pid, const void *data,
		   size_t len)
{
	unsigned char kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	if (len > 0 && (rc = store_txn_grows(t)) != 0)
		return rc;
	put_be32(kb, pid);
	rc = store_del_prefix(t, DB_BLOB, kb, 4, NULL);
	if (rc)
		return rc;
	for (size_t off = 0, chunk = 0; off < len; off += v.mv_size, chunk++) {
		if (chunk >= UINT32_MAX)
			return -E2BIG;
		put_be32(kb + 4, (uint32_t)chunk);
		v.mv_size = len - off < STORE_BLOB_CHUNK ? len - off
							 : STORE_BLOB_CHUNK;
		v.mv_data = (unsigned char *)data + off;
		/* Keys rise, but another pid may sort after: no APPEND. */
		rc = store_put(t, DB_BLOB, &k, &v, 0);
		if (rc)
			return store_txn_fail(t, rc);
	}
	return 0;
}

/* Walk pid's chunks: with out NULL sum their sizes into *len, else copy
 * them to out (of *len bytes). */
static int blob_walk(struct store_txn *t, uint32_t pid, unsigned char *out,
		     size_t *len)
{
	unsigned char kb[8];
	MDB_cursor *cur;
	MDB_val k = { 4, kb }, v;
	size_t total = 0;
	uint32_t expect = 0;
	int rc;

	put_be32(kb, pid);
	rc = mdb_cursor_open(t->txn, store_dbi(t, DB_BLOB), &cur);
	if (rc)
		return store_txn_fail(t, rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 || memcmp(k.mv_data, kb, 4) != 0)
			break;
		if (get_be32((unsigned char *)k.mv_data + 4) != expect++) {
			rc = MDB_CORRUPTED;     /* a missing chunk */
			break;
		}
		if (out) {
			if (total + v.mv_size > *len) {
				rc = MDB_CORRUPTED;
				break;
			}
			memcpy(out + total, v.mv_data, v.mv_size);
		}
		total += v.mv_size;
	}
	mdb_cursor_close(cur);
	if (rc && rc != MDB_NOTFOUND)
		return store_txn_fail(t, rc);
	*len = total;
	return 0;
}

int store_blob_get(struct store_txn *t, uint32_t pid, void **data,
		   size_t *len)
{
	size_t total = 0;
	unsigned char *buf;
	int rc;

	rc = blob_walk(t, pid, NULL, &total);
	if (rc)
		return rc;
	if (total == 0) {
		*data = NULL;
		*len = 0;
		return 0;
	}
	buf = malloc(total);
	if (!buf)
		return -ENOMEM;
	rc = blob_walk(t, pid, buf, &total);
	if (rc) {
		free(buf);
		return rc;
	}
	*data = buf;
	*len = total;
	return 0;
}
