/* catalog.c - collections, partitions and the meta counters.
 *
 * Records are serialized field by field (big-endian), never as raw
 * structs, so the layout does not depend on the compiler:
 *
 *   coll value : cid u32 | dim u32 | vtype u8 | metric u8 | metric_set u8 |
 *                0 u8 | next_id u64 | dlen u16 | description | ilen u16 |
 *                index text [| uid u32 | gid u32 | mode u32]
 *   pinfo value: pid u32 | cid u32 | loaded u8 | count u64 | next_seq u64 |
 *                index_seq u64 | deleted u32 [| uid u32 | gid u32 | mode u32]
 *
 * The bracketed owner, group and mode (SPEC §12) are present only when
 * set (perm.set): a record written before owners existed has none and
 * reads as unset (the fs then shows the daemon's user, or for a partition
 * its collection's).  Both lengths decode; no other does.
 *
 * cid and pid come from the meta counters "next_cid" / "next_pid" (start
 * at 1, never reused; pid 0 means "the collection" in the query db).
 */
#include "store/store_int.h"

#include <errno.h>
#include <stdlib.h>

#define COLL_FIXED 24
#define PINFO_SIZE 37                   /* without owner (layout 1, 2) */
#define PERM_SIZE 12                    /* uid u32 | gid u32 | mode u32 */

static void perm_encode(const struct store_perm *pm, unsigned char *b)
{
	put_be32(b, pm->uid);
	put_be32(b + 4, pm->gid);
	put_be32(b + 8, pm->mode);
}

static void perm_decode(const unsigned char *b, struct store_perm *pm)
{
	pm->set = 1;
	pm->uid = get_be32(b);
	pm->gid = get_be32(b + 4);
	pm->mode = get_be32(b + 8) & 07777;
}

/* ---- meta counters ---- */

int store_meta_next(struct store_txn *t, const char *name, uint32_t *out)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	unsigned char b[4];
	uint32_t next = 1;
	int rc;

	rc = mdb_get(t->txn, store_dbi(t, DB_META), &k, &v);
	if (rc == 0 && v.mv_size == 4)
		next = get_be32(v.mv_data);
	else if (rc != MDB_NOTFOUND && rc != 0)
		return store_txn_fail(t, rc);
	if (next == UINT32_MAX)
		return -ENOSPC;
	put_be32(b, next + 1);
	v.mv_data = b;
	v.mv_size = 4;
	rc = store_put(t, DB_META, &k, &v, 0);
	if (rc)
		return store_txn_fail(t, rc);
	*out = next;
	return 0;
}

/* ---- collection records ---- */

static size_t text_len(const char *s)
{
	return strnlen(s, STORE_TEXT_MAX - 1);
}

static int coll_encode(const struct store_coll *c, MDB_val *v,
		       unsigned char *buf)
{
	size_t dl = text_len(c->description), il = text_len(c->index);
	unsigned char *p = buf;

	put_be32(p, c->cid);
	put_be32(p + 4, c->dim);
	p[8] = c->vtype;
	p[9] = c->metric;
	p[10] = c->metric_set;
	p[11] = 0;
	put_be64(p + 12, c->next_id);
	p[20] = (unsigned char)(dl >> 8);
	p[21] = (unsigned char)dl;
	memcpy(p + 22, c->description, dl);
	p += 22 + dl;
	p[0] = (unsigned char)(il >> 8);
	p[1] = (unsigned char)il;
	memcpy(p + 2, c->index, il);
	p += 2 + il;
	if (c->perm.set) {
		perm_encode(&c->perm, p);
		p += PERM_SIZE;
	}
	v->mv_data = buf;
	v->mv_size = (size_t)(p - buf);
	return 0;
}

static int coll_decode(const MDB_val *v, struct store_coll *c)
{
	const unsigned char *p = v->mv_data;
	size_t n = v->mv_size, dl, il;

	if (n < COLL_FIXED)
		return -EIO;
	memset(c, 0, sizeof(*c));
	c->cid = get_be32(p);
	c->dim = get_be32(p + 4);
	c->vtype = p[8];
	c->metric = p[9];
	c->metric_set = p[10];
	c->next_id = get_be64(p + 12);
	dl = (size_t)p[20] << 8 | p[21];
	if (dl >= STORE_TEXT_MAX || 22 + dl + 2 > n)
		return -EIO;
	memcpy(c->description, p + 22, dl);
	p += 22 + dl;
	il = (size_t)p[0] << 8 | p[1];
	if (il >= STORE_TEXT_MAX || (22 + dl + 2 + il != n &&
				     22 + dl + 2 + il + PERM_SIZE != n))
		return -EIO;
	memcpy(c->index, p + 2, il);
	if (22 + dl + 2 + il != n)
		perm_decode(p + 2 + il, &c->perm);
	return 0;
}

static void name_val(const char *name, MDB_val *k)
{
	k->mv_data = (void *)name;
	k->mv_size = strlen(name);
}

/* Collection name's record: its key in k, its value in v.  -EINVAL for
 * a bad name, else LMDB's code (MDB_NOTFOUND when there is none; LMDB's
 * codes are all below -30000, apart from -EINVAL). */
static int coll_find(struct store_txn *t, const char *name, MDB_val *k,
		     MDB_val *v)
{
	if (store_name_len(name) < 0)
		return -EINVAL;
	name_val(name, k);
	return mdb_get(t->txn, store_dbi(t, DB_COLL), k, v);
}

int store_coll_get(struct store_txn *t, const char *name,
		   struct store_coll *out)
{
	MDB_val k, v;
	int rc = coll_find(t, name, &k, &v);

	if (rc == -EINVAL)
		return rc;
	if (rc)
		return store_txn_fail(t, rc);
	return coll_decode(&v, out);
}

int store_coll_put(struct store_txn *t, const char *name,
		   const struct store_coll *c)
{
	unsigned char buf[COLL_FIXED + 2 * STORE_TEXT_MAX + PERM_SIZE];
	struct store_coll old;
	MDB_val k, v;
	int rc;

	rc = store_coll_get(t, name, &old);
	if (rc)
		return rc;
	if (old.cid != c->cid)
		return -EINVAL;
	name_val(name, &k);
	coll_encode(c, &v, buf);
	rc = store_put(t, DB_COLL, &k, &v, 0);
	return rc ? store_txn_fail(t, rc) : 0;
}

int store_coll_new(struct store_txn *t, const char *name,
		   struct store_coll *out)
{
	unsigned char buf[COLL_FIXED + 2 * STORE_TEXT_MAX + PERM_SIZE];
	struct store_coll c;
	struct store_part p;
	MDB_val k, v;
	int rc;

	rc = coll_find(t, name, &k, &v);
	if (rc == 0)
		return -EEXIST;
	if (rc == -EINVAL)
		return rc;
	if (rc != MDB_NOTFOUND)
		return store_txn_fail(t, rc);
	memset(&c, 0, sizeof(c));
	rc = store_meta_next(t, "next_cid", &c.cid);
	if (rc)
		return rc;
	c.next_id = 1;              /* dim 0, vtype 0 (FLOAT), metric 0 (L2) */
	coll_encode(&c, &v, buf);
	rc = store_put(t, DB_COLL, &k, &v, MDB_NOOVERWRITE);
	if (rc)
		return store_txn_fail(t, rc);
	rc = store_part_new(t, c.cid, "_default", &p);
	if (rc)
		return rc;
	*out = c;
	return 0;
}

int store_coll_rename(struct store_txn *t, const char *from, const char *to)
{
	unsigned char buf[COLL_FIXED + 2 * STORE_TEXT_MAX + PERM_SIZE];
	struct store_coll c;
	MDB_val k, v;
	int rc;

	if (store_name_len(to) < 0)
		return -EINVAL;
	rc = store_coll_get(t, from, &c);
	if (rc)
		return rc;
	if (strcmp(from, to) == 0)
		return 0;
	name_val(to, &k);
	coll_encode(&c, &v, buf);
	rc = store_put(t, DB_COLL, &k, &v, MDB_NOOVERWRITE);
	if (rc)
		return store_txn_fail(t, rc);
	name_val(from, &k);
	rc = store_del(t, DB_COLL, &k);
	return rc ? store_txn_fail(t, rc) : 0;
}

/* The end of a walk with cursor cur, which it closes: a callback's (or a
 * record's) ret wins; the walk's last LMDB code rc is success when 0 or at
 * the end of the data. */
static int walk_end(struct store_txn *t, MDB_cursor *cur, int rc, int ret)
{
	mdb_cursor_close(cur);
	if (ret)
		return ret;
	if (rc == 0 || rc == MDB_NOTFOUND)
		return 0;
	return store_txn_fail(t, rc);
}

int store_coll_del(struct store_txn *t, const char *name)
{
	struct store_coll c;
	unsigned char pre[4];
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	rc = store_coll_get(t, name, &c);
	if (rc)
		return rc;
	put_be32(pre, c.cid);
	/* Each partition's entities, blob and pinfo; the ids and queries of
	 * the whole collection go by prefix below, faster than per id. */
	rc = mdb_cursor_open(t->txn, store_dbi(t, DB_PART), &cur);
	if (rc)
		return store_txn_fail(t, rc);
	k.mv_data = pre;
	k.mv_size = 4;
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	while (rc == 0 && k.mv_size >= 4 && memcmp(k.mv_data, pre, 4) == 0) {
		if (v.mv_size != 4) {
			rc = MDB_CORRUPTED;
			break;
		}
		ret = store_part_purge(t, c.cid, get_be32(v.mv_data), 0);
		if (ret)
			break;
		rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if ((rc = walk_end(t, cur, rc, ret)) ||
	    (rc = store_del_prefix(t, DB_PART, pre, 4, NULL)) ||
	    (rc = store_del_prefix(t, DB_IDMAP, pre, 4, NULL)) ||
	    (rc = store_del_prefix(t, DB_QUERY, pre, 4, NULL)) ||
	    (rc = store_del_prefix(t, DB_FIELDS, pre, 4, NULL)))
		return rc;
	name_val(name, &k);
	rc = store_del(t, DB_COLL, &k);
	return rc ? store_txn_fail(t, rc) : 0;
}

int store_coll_list(struct store_txn *t,
		    int (*cb)(void *arg, const char *name,
			      const struct store_coll *c),
		    void *arg)
{
	char name[STORE_NAME_MAX + 1];
	struct store_coll c;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	rc = mdb_cursor_open(t->txn, store_dbi(t, DB_COLL), &cur);
	if (rc)
		return store_txn_fail(t, rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size > STORE_NAME_MAX || coll_decode(&v, &c)) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		ret = cb(arg, name, &c);
		if (ret)
			break;
	}
	return walk_end(t, cur, rc, ret);
}

/* ---- partitions ---- */

/* Returns the encoded length. */
static size_t pinfo_encode(const struct store_part *p, unsigned char *b)
{
	put_be32(b, p->pid);
	put_be32(b + 4, p->cid);
	b[8] = p->loaded;
	put_be64(b + 9, p->count);
	put_be64(b + 17, p->next_seq);
	put_be64(b + 25, p->index_seq);
	put_be32(b + 33, p->deleted);
	if (!p->perm.set)
		return PINFO_SIZE;
	perm_encode(&p->perm, b + PINFO_SIZE);
	return PINFO_SIZE + PERM_SIZE;
}

static int pinfo_decode(const MDB_val *v, struct store_part *p)
{
	const unsigned char *b = v->mv_data;

	if (v->mv_size != PINFO_SIZE && v->mv_size != PINFO_SIZE + PERM_SIZE)
		return -EIO;
	memset(p, 0, sizeof(*p));
	p->pid = get_be32(b);
	p->cid = get_be32(b + 4);
	p->loaded = b[8];
	p->count = get_be64(b + 9);
	p->next_seq = get_be64(b + 17);
	p->index_seq = get_be64(b + 25);
	p->deleted = get_be32(b + 33);  /* 0 in records made before it */
	if (v->mv_size > PINFO_SIZE)
		perm_decode(b + PINFO_SIZE, &p->perm);
	return 0;
}

int store_pinfo_get(struct store_txn *t, uint32_t pid, struct store_part *p)
{
	unsigned char kb[4];
	MDB_val k = { 4, kb }, v;
	int rc;

	put_be32(kb, pid);
	rc = mdb_get(t->txn, store_dbi(t, DB_PINFO), &k, &v);
	if (rc)
		return store_txn_fail(t, rc);
	return pinfo_decode(&v, p);
}

int store_part_put(struct store_txn *t, const struct store_part *p)
{
	unsigned char kb[4], vb[PINFO_SIZE + PERM_SIZE];
	MDB_val k = { 4, kb }, v = { 0, vb };
	int rc;

	put_be32(kb, p->pid);
	v.mv_size = pinfo_encode(p, vb);
	rc = store_put(t, DB_PINFO, &k, &v, 0);
	return rc ? store_txn_fail(t, rc) : 0;
}

static int part_key(uint32_t cid, const char *name, unsigned char *kb,
		    MDB_val *k)
{
	int len = store_name_len(name);

	if (len < 0)
		return len;
	put_be32(kb, cid);
	memcpy(kb + 4, name, (size_t)len);
	k->mv_data = kb;
	k->mv_size = 4 + (size_t)len;
	return 0;
}

int store_part_new(struct store_txn *t, uint32_t cid, const char *name,
		   struct store_part *out)
{
	unsigned char kb[4 + STORE_NAME_MAX], pb[4];
	struct store_part p;
	MDB_val k, v;
	int rc;

	rc = part_key(cid, name, kb, &k);
	if (rc)
		return rc;
	rc = mdb_get(t->txn, store_dbi(t, DB_PART), &k, &v);
	if (rc == 0)
		return -EEXIST;
	if (rc != MDB_NOTFOUND)
		return store_txn_fail(t, rc);
	memset(&p, 0, sizeof(p));
	p.cid = cid;
	rc = store_meta_next(t, "next_pid", &p.pid);
	if (rc)
		return rc;
	put_be32(pb, p.pid);
	v.mv_data = pb;
	v.mv_size = 4;
	rc = store_put(t, DB_PART, &k, &v, MDB_NOOVERWRITE);
	if (rc)
		return store_txn_fail(t, rc);
	rc = store_part_put(t, &p);
	if (rc)
		return rc;
	*out = p;
	return 0;
}

/* The pid of partition name of collection cid; its key in k, held in kb
 * (4 + STORE_NAME_MAX bytes), unless both are NULL. */
static int part_pid(struct store_txn *t, uint32_t cid, const char *name,
		    unsigned char *kb, MDB_val *k, uint32_t *pid)
{
	unsigned char own[4 + STORE_NAME_MAX];
	MDB_val ownk, v;
	int rc;

	if (!kb) {
		kb = own;
		k = &ownk;
	}
	rc = part_key(cid, name, kb, k);

	if (rc)
		return rc;
	rc = mdb_get(t->txn, store_dbi(t, DB_PART), k, &v);
	if (rc)
		return store_txn_fail(t, rc);
	if (v.mv_size != 4)
		return -EIO;
	*pid = get_be32(v.mv_data);
	return 0;
}

int store_part_get(struct store_txn *t, uint32_t cid, const char *name,
		   struct store_part *out)
{
	uint32_t pid;
	int rc = part_pid(t, cid, name, NULL, NULL, &pid);

	if (rc)
		return rc;
	rc = store_pinfo_get(t, pid, out);
	return rc == -ENOENT ? -EIO : rc;
}

int store_part_del(struct store_txn *t, uint32_t cid, const char *name)
{
	unsigned char kb[4 + STORE_NAME_MAX];
	MDB_val k;
	uint32_t pid;
	int rc;

	rc = part_pid(t, cid, name, kb, &k, &pid);
	if (rc)
		return rc;
	rc = store_part_purge(t, cid, pid, 1);
	if (rc)
		return rc;
	rc = store_del(t, DB_PART, &k);
	return rc ? store_txn_fail(t, rc) : 0;
}

int store_part_list(struct store_txn *t, uint32_t cid,
		    int (*cb)(void *arg, const char *name,
			      const struct store_part *p),
		    void *arg)
{
	char name[STORE_NAME_MAX + 1];
	unsigned char pre[4];
	struct store_part p;
	MDB_cursor *cur;
	MDB_val k, v;
	int rc, ret = 0;

	put_be32(pre, cid);
	rc = mdb_cursor_open(t->txn, store_dbi(t, DB_PART), &cur);
	if (rc)
		return store_txn_fail(t, rc);
	k.mv_data = pre;
	k.mv_size = 4;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 4 || memcmp(k.mv_data, pre, 4) != 0) {
			rc = MDB_NOTFOUND;
			break;
		}
		if (k.mv_size - 4 > STORE_NAME_MAX || v.mv_size != 4) {
			rc = MDB_CORRUPTED;
			break;
		}
		ret = store_pinfo_get(t, get_be32(v.mv_data), &p);
		if (ret) {
			ret = ret == -ENOENT ? -EIO : ret;
			break;
		}
		memcpy(name, (char *)k.mv_data + 4, k.mv_size - 4);
		name[k.mv_size - 4] = '\0';
		ret = cb(arg, name, &p);
		if (ret)
			break;
	}
	return walk_end(t, cur, rc, ret);
}

/* ---- scalar field schemas ---- */

int store_fields_put(struct store_txn *t, uint32_t cid, const void *text,
		     size_t len)
{
	unsigned char kb[4];
	MDB_val k = { 4, kb }, v = { len, (void *)text };
	int rc;

	put_be32(kb, cid);
	if (len == 0) {
		rc = store_del(t, DB_FIELDS, &k);
		return rc && rc != MDB_NOTFOUND ? store_txn_fail(t, rc) : 0;
	}
	rc = store_put(t, DB_FIELDS, &k, &v, 0);
	return rc ? store_txn_fail(t, rc) : 0;
}

int store_val_text(const MDB_val *v, char **text, size_t *len)
{
	char *p = malloc(v->mv_size + 1);

	if (!p)
		return -ENOMEM;
	memcpy(p, v->mv_data, v->mv_size);
	p[v->mv_size] = '\0';
	*text = p;
	if (len)
		*len = v->mv_size;
	return 0;
}

int store_fields_get(struct store_txn *t, uint32_t cid, char **text,
		     size_t *len)
{
	unsigned char kb[4];
	MDB_val k = { 4, kb }, v;
	int rc;

	put_be32(kb, cid);
	rc = mdb_get(t->txn, store_dbi(t, DB_FIELDS), &k, &v);
	if (rc == MDB_NOTFOUND) {
		*text = NULL;
		*len = 0;
		return 0;
	}
	if (rc)
		return store_txn_fail(t, rc);
	return store_val_text(&v, text, len);
}

/* ---- aliases (SPEC §12) ----
 *
 * meta "alias/<name>" -> cid u32: an alias names the collection by cid, so
 * a rename of the collection keeps it.  The meta db held only counters
 * and the version before, so an older milvusfs ignores aliases. */

#define ALIAS_PRE "alias/"
#define ALIAS_PRE_LEN (sizeof(ALIAS_PRE) - 1)

static int alias_key(const char *name, char *buf, MDB_val *k)
{
	size_t n = strlen(name);

	if (n == 0 || n > STORE_NAME_MAX)
		return -EINVAL;
	memcpy(buf, ALIAS_PRE, ALIAS_PRE_LEN);
	memcpy(buf + ALIAS_PRE_LEN, name, n);
	k->mv_data = buf;
	k->mv_size = ALIAS_PRE_LEN + n;
	return 0;
}

int store_alias_put(struct store_txn *t, const char *name, uint32_t cid)
{
	char kb[ALIAS_PRE_LEN + STORE_NAME_MAX];
	unsigned char b[4];
	MDB_val k, v = { 4, b };
	int rc = alias_key(name, kb, &k);

	if (rc)
		return rc;
	put_be32(b, cid);
	rc = store_put(t, DB_META, &k, &v, 0);
	return rc ? store_txn_fail(t, rc) : 0;
}

int store_alias_del(struct store_txn *t, const char *name)
{
	char kb[ALIAS_PRE_LEN + STORE_NAME_MAX];
	MDB_val k;
	int rc = alias_key(name, kb, &k);

	if (rc)
		return rc;
	rc = store_del(t, DB_META, &k);
	if (rc == MDB_NOTFOUND)
		return -ENOENT;
	return rc ? store_txn_fail(t, rc) : 0;
}

int store_alias_list(struct store_txn *t,
		     int (*cb)(void *arg, const char *name, uint32_t cid),
		     void *arg)
{
	char name[STORE_NAME_MAX + 1];
	MDB_cursor *cur;
	MDB_val k = { ALIAS_PRE_LEN, (void *)ALIAS_PRE }, v;
	int rc, ret = 0;

	rc = mdb_cursor_open(t->txn, store_dbi(t, DB_META), &cur);
	if (rc)
		return store_txn_fail(t, rc);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		size_t n = k.mv_size - ALIAS_PRE_LEN;

		if (k.mv_size < ALIAS_PRE_LEN ||
		    memcmp(k.mv_data, ALIAS_PRE, ALIAS_PRE_LEN) != 0)
			break;
		if (n == 0 || n > STORE_NAME_MAX || v.mv_size != 4) {
			rc = MDB_CORRUPTED;
			break;
		}
		memcpy(name, (char *)k.mv_data + ALIAS_PRE_LEN, n);
		name[n] = '\0';
		ret = cb(arg, name, get_be32(v.mv_data));
		if (ret)
			break;
	}
	return walk_end(t, cur, rc, ret);
}
