/* store.h - all of LMDB: the catalog, entities, id map, index blobs and
 * saved queries of milvusfs, in one environment.  Nothing else includes
 * <lmdb.h>.
 *
 * Use: every access runs inside store_read() or store_write(), which call
 * back with a transaction.  store_write() commits when the callback returns
 * 0 and aborts otherwise; when the map is full it aborts, grows the map
 * (under an exclusive lock, doubling) and runs the callback again, so a
 * callback may run more than once: it must reset what it collects in *arg
 * at its start, and
 * have no effect outside the transaction (collect results in
 * *arg and apply them after store_write returns 0).  MAP_FULL, MAP_RESIZED
 * and READERS_FULL never reach the caller.  No pointer into LMDB leaves a
 * transaction: records are copied into caller structs.
 *
 * Durability: sync=fsync opens with MDB_NOMETASYNC (each commit syncs its
 * pages, not its meta page: a machine crash loses at most the commits since
 * the last sync and never corrupts, env.c); store_sync() makes every
 * committed transaction durable (fsync(2)/close(2) of a file).  sync=always
 * syncs at every commit.  A flock(2) on <dir>/milvusfs.lock refuses a second
 * opener (-EBUSY).
 *
 * Key layout (big-endian integers, so LMDB's byte order is numeric order;
 * ids are stored as id ^ 0x8000000000000000 so negative ids sort first):
 *
 *   db        key                               value
 *   meta      "version"                         u32 layout version (2)
 *   meta      "next_cid" / "next_pid"           u32 next counter value
 *                                               (start at 1, never reused)
 *   coll      name                              cid u32 | dim u32 |
 *                                               vtype u8 | metric u8 |
 *                                               metric_set u8 | 0 u8 |
 *                                               next_id u64 | u16 len |
 *                                               description | u16 len |
 *                                               index text [| uid u32 |
 *                                               gid u32 | mode u32]
 *   part      cid u32 | name                    pid u32
 *   pinfo     pid u32                           pid u32 | cid u32 |
 *                                               loaded u8 | count u64 |
 *                                               next_seq u64 |
 *                                               index_seq u64 | 0 x4
 *                                               [| uid u32 | gid u32 |
 *                                               mode u32] (37 or 49 bytes)
 *   ent       pid u32 | seq u64                 id i64 (big-endian two's
 *                                               complement) | vector bytes
 *                                               | row (the entity's scalar
 *                                               fields, src/field/field.h;
 *                                               empty without fields)
 *   idmap     cid u32 | id^2^63 u64             pid u32 | seq u64
 *   blob      pid u32 | chunk u32               <= 1 MiB of index blob
 *                                               (chunks 0, 1, ... no gaps)
 *   query     cid u32 | pid u32 | name          saved query text
 *   meta      "alias/" name                     cid u32 of the collection
 *                                               the alias names (SPEC §12)
 *   fields    cid u32                           the collection's scalar
 *                                               field schema, canonical
 *                                               text (fld_schema_print);
 *                                               absent: no fields
 *
 * Records are encoded field by field, never as raw structs.  Layout 2 added
 * the fields db and the row after the vector; a layout 1 database is
 * layout 2 without fields, so opening one only writes version 2.  The
 * owner, group and mode of a collection or partition (SPEC §12) end its
 * coll or pinfo value when they are set (struct store_perm); a record
 * without them, as every record written before owners existed, reads as
 * unset.  (A milvusfs older than owners refuses such a record as corrupt
 * rather than ignore it: it cannot open the database at all.)  Another
 * version is refused with -EIO.
 *
 * ent is appended with MDB_APPEND (seq rises per partition), so reading a
 * partition in insertion order is one range scan; idmap gives uniqueness
 * (MDB_NOOVERWRITE) and deletes by id.  pid 0 in query means "the
 * collection itself"; pid | 2^31 keeps the saved scalar queries of query/
 * apart (a partition's are dropped with it).
 *
 * Thread-safety: store_read/store_write may be called from any thread;
 * writers are serialized (a mutex of the store, then LMDB's); readers run
 * in parallel with the writer.  When free pages pass a quarter of
 * data.mdb, a thread of the store rewrites it compacted (env.c, "The file
 * shrinks"): store_write waits for the copy, store_read only for the swap.
 * Never call store_read/store_write (or store_sync, store_mapsize) from
 * inside a callback: the map-growth lock would deadlock.
 *
 * Errors inside a transaction: the store_* functions below return 0 or a
 * negative errno (-EINVAL for a name that is empty or longer than
 * STORE_NAME_MAX).  An LMDB failure is also remembered by the txn, so
 * store_write aborts (or grows the map and retries) even if the callback
 * ignores the return value.  Functions that write fail in store_read
 * transactions.
 */
#ifndef MFS_STORE_STORE_H
#define MFS_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/limits.h"

#define STORE_NAME_MAX MFS_NAME_MAX     /* bytes, without the NUL */
#define STORE_TEXT_MAX 1024             /* description, index text */

struct store;
struct store_txn;

struct store_opts {
	uint64_t mapsize_bytes;         /* initial map size; 0 = 1 GiB */
	int sync_always;                /* 1: durable at every commit */
};

/* Open (creating dir and the environment if missing) and lock.
 * Returns owned *out.  -EBUSY (another process has it open), -EACCES,
 * -ENOSPC, -EIO (not a milvusfs database, or corrupt). */
int store_open(const char *dir, const struct store_opts *opts,
	       struct store **out, struct mfs_err *err);
/* Sync and close; NULL allowed.  No transaction may be running.  Waits
 * for a rewrite of data.mdb in progress (env.c, "The file shrinks"). */
void store_close(struct store *st);
/* Where failures the store meets on its own (a rewrite of data.mdb that
 * could not be made while mounted) are reported besides the log: the
 * engine's report hook (SPEC §7, /.errors), fn(arg, op, path, code, err).
 * Call once after store_open, before other threads use st. */
void store_set_report(struct store *st,
		      void (*fn)(void *arg, const char *op, const char *path,
				 int code, const struct mfs_err *err),
		      void *arg);
/* Make every committed write durable.  0, -EIO, -ENOSPC. */
int store_sync(struct store *st);
/* Current map size in bytes (grows by itself). */
uint64_t store_mapsize(struct store *st);
/* Number of keys in the named db ("meta", "coll", "part", "pinfo", "ent",
 * "idmap", "blob", "query", "fields") in *n: diagnostics and tests (a drop must
 * leave no key behind).  -EINVAL (unknown db), -EIO. */
int store_stat_entries(struct store *st, const char *db, uint64_t *n,
		       struct mfs_err *err);
/* A compacted copy of the whole database as of now (backup.c, SPEC §13),
 * while writers go on: a data.mdb that store_open opens as it is, in an
 * unlinked file of the database directory.  Returns the owned descriptor
 * in *fd (positioned anywhere: read it with pread) and the copy's length
 * in *size_bytes.  A map growth waits until the copy is made.  -ENOSPC,
 * -ENOMEM, -EIO.  Thread-safe; not from inside a callback. */
int store_backup(struct store *st, int *fd, uint64_t *size_bytes,
		 struct mfs_err *err);

typedef int (*store_fn)(struct store_txn *txn, void *arg,
			struct mfs_err *err);
/* Run fn in a read-only transaction; returns what fn returns. */
int store_read(struct store *st, store_fn fn, void *arg, struct mfs_err *err);
/* Run fn in a write transaction and commit if it returns 0 (see above).
 * Returns fn's error, or -ENOSPC (disk full), -EIO. */
int store_write(struct store *st, store_fn fn, void *arg,
		struct mfs_err *err);

/* ---- catalog ---- */

/* Owner, group and mode of a collection or partition (SPEC §12). */
struct store_perm {
	uint8_t set;                    /* 0: none stored (layout 1 or 2, or
					 * a partition that follows its
					 * collection): the other fields are
					 * 0 */
	uint32_t uid, gid;
	uint32_t mode;                  /* permission bits, 07777 at most */
};

struct store_coll {
	uint32_t cid;                   /* assigned by store_coll_new */
	uint32_t dim;                   /* 0 until set by schema or insert */
	uint8_t vtype;                  /* enum vec_type */
	uint8_t metric;                 /* enum vec_metric */
	uint8_t metric_set;             /* 1 if written in the schema */
	uint64_t next_id;               /* next auto id, starts at 1 */
	char description[STORE_TEXT_MAX];
	char index[STORE_TEXT_MAX];     /* canonical "index_type=HNSW\nM=16\n..."
					 * or "" for FLAT */
	struct store_perm perm;         /* unset in a new record */
};

struct store_part {
	uint32_t pid;                   /* assigned by store_part_new */
	uint32_t cid;
	uint8_t loaded;                 /* load state to restore at mount */
	uint64_t count;                 /* live entities */
	uint64_t next_seq;              /* next ent seq */
	uint64_t index_seq;             /* ent seq covered by the saved blob */
	uint32_t deleted;               /* entities deleted (or replaced)
					 * since the last compaction or
					 * index build, saturating (SPEC §11) */
	struct store_perm perm;         /* unset: follows the collection */
};

/* Create collection name with defaults (dim 0, L2, FLOAT, next_id 1) and
 * its partition "_default"; *out gets the record.  -EEXIST. */
int store_coll_new(struct store_txn *txn, const char *name,
		   struct store_coll *out);
/* -ENOENT */
int store_coll_get(struct store_txn *txn, const char *name,
		   struct store_coll *out);
/* Overwrite the record of an existing collection. -ENOENT, -EINVAL
 * (c->cid is not the collection's cid). */
int store_coll_put(struct store_txn *txn, const char *name,
		   const struct store_coll *c);
/* Drop the collection with every partition, entity, id, blob and saved
 * query. -ENOENT */
int store_coll_del(struct store_txn *txn, const char *name);
/* -ENOENT (from), -EEXIST (to) */
int store_coll_rename(struct store_txn *txn, const char *from, const char *to);
/* Call cb for each collection in name order; a non-zero cb result stops
 * the walk and is returned. */
int store_coll_list(struct store_txn *txn,
		    int (*cb)(void *arg, const char *name,
			      const struct store_coll *c),
		    void *arg);

/* Aliases (SPEC §12): put creates or moves name -> cid; del -ENOENT;
 * list calls cb in name order (a non-zero result stops and is returned).
 * The caller keeps the rules (no alias shadows a collection). */
int store_alias_put(struct store_txn *txn, const char *name, uint32_t cid);
int store_alias_del(struct store_txn *txn, const char *name);
int store_alias_list(struct store_txn *txn,
		     int (*cb)(void *arg, const char *name, uint32_t cid),
		     void *arg);

/* Create partition name in collection cid. -EEXIST */
int store_part_new(struct store_txn *txn, uint32_t cid, const char *name,
		   struct store_part *out);
/* Partition name of collection cid, copied into *out.  -ENOENT. */
int store_part_get(struct store_txn *txn, uint32_t cid, const char *name,
		   struct store_part *out);
/* Overwrite the pinfo record of partition p->pid with *p (borrowed): load
 * state, count, seqs, deleted, owner.  The caller read it in the same
 * transaction (store_part_get) and changed only what it means to; the
 * name and cid it is filed under are not touched.  Write txn only; an
 * LMDB failure is remembered by the txn (see above). */
int store_part_put(struct store_txn *txn, const struct store_part *p);
/* Drop partition with its entities, ids, blob and saved queries. -ENOENT */
int store_part_del(struct store_txn *txn, uint32_t cid, const char *name);
/* Partitions of cid in name order. */
int store_part_list(struct store_txn *txn, uint32_t cid,
		    int (*cb)(void *arg, const char *name,
			      const struct store_part *p),
		    void *arg);

/* ---- entities ---- */

/* Insert n entities into partition p (of collection p->cid): ids[i],
 * vec_bytes bytes at vecs + i*vec_bytes, and the row of fields
 * rows[row_end[i-1], row_end[i]) (row_end[-1] taken as 0; row_end NULL:
 * no rows).  Updates p->count and p->next_seq
 * in *p and in the database.  -EEXIST when an id exists in the collection
 * or twice in ids: *dup gets its index in ids (nothing is inserted, but
 * the caller must abort: return the error from the store_write callback;
 * store_write refuses to commit such a txn anyway).  The partition record
 * is re-read from the database, so *p needs only pid. */
int store_ent_insert(struct store_txn *txn, struct store_part *p,
		     const int64_t *ids, const void *vecs, size_t vec_bytes,
		     const void *rows, const size_t *row_end, size_t n,
		     size_t *dup);
/* Delete the ids that exist in collection cid; for each one deleted call
 * cb(arg, pid, id) (may be NULL) and decrement that partition's count.
 * only_pid != 0 restricts to one partition (ids elsewhere are ignored).
 * *ndeleted gets the number deleted. */
int store_ent_delete(struct store_txn *txn, uint32_t cid, uint32_t only_pid,
		     const int64_t *ids, size_t n,
		     void (*cb)(void *arg, uint32_t pid, int64_t id), void *arg,
		     size_t *ndeleted);
/* The entity id of collection cid: its partition and vector (vec_bytes
 * copied to vec, may be NULL), and an owned malloc copy of its row of
 * fields in *row, *row_len (row may be NULL). -ENOENT, -ENOMEM, -EINVAL
 * (the value is shorter than vec_bytes). */
int store_ent_get(struct store_txn *txn, uint32_t cid, int64_t id,
		  uint32_t *pid, void *vec, size_t vec_bytes, void **row,
		  size_t *row_len);
/* Walk partition pid in insertion order from seq from_seq, at most max
 * entities (0: no limit): cb(arg, seq, id, val, len) with val the
 * entity's vector followed by its row of fields (len bytes in all),
 * borrowed (valid during the call only, aligned to 8 bytes).  *next_seq gets the seq to
 * continue from (UINT64_MAX when the end was reached).  A non-zero cb
 * result stops the walk and is returned (*next_seq untouched). */
int store_ent_scan(struct store_txn *txn, uint32_t pid, uint64_t from_seq,
		   size_t max,
		   int (*cb)(void *arg, uint64_t seq, int64_t id,
			     const void *vec, size_t vec_bytes),
		   void *arg, uint64_t *next_seq);

/* What partition pid occupies (SPEC §11 stats): its entities (counted
 * by a walk of keys, values not copied), their bytes in ent and idmap
 * (keys and values, no page overhead), those with seq >= index_seq, and
 * its blob's bytes. 0, -EIO. */
struct store_usage {
	uint64_t entities;
	uint64_t ent_bytes;
	uint64_t after_index;
	uint64_t blob_bytes;
};
int store_part_usage(struct store_txn *txn, uint32_t pid, uint64_t index_seq,
		     struct store_usage *out);
/* The length of partition pid's `ids` file: each entity's id in decimal
 * and a newline, summed over a walk of its ent range (values not
 * copied: the id is their first 8 bytes). 0, -EIO. */
int store_part_id_text(struct store_txn *txn, uint32_t pid, uint64_t *bytes);

/* ---- scalar field schemas ---- */

/* Replace collection cid's field schema text (len bytes, borrowed; len 0
 * deletes it, absent or not).  Write txn only. */
int store_fields_put(struct store_txn *txn, uint32_t cid, const void *text,
		     size_t len);
/* Owned NUL-terminated copy in *text (NULL, 0 when none). -ENOMEM */
int store_fields_get(struct store_txn *txn, uint32_t cid, char **text,
		     size_t *len);

/* ---- index blobs ---- */

/* Replace partition pid's blob (len bytes, borrowed, stored in chunks of
 * at most 1 MiB).  len 0 deletes it.  Write txn only.  -E2BIG (more than
 * 2^32 chunks). */
int store_blob_put(struct store_txn *txn, uint32_t pid, const void *data,
		   size_t len);
/* Owned malloc copy in *data (NULL, 0 when none). -ENOMEM */
int store_blob_get(struct store_txn *txn, uint32_t pid, void **data,
		   size_t *len);

/* ---- saved queries (pid 0 = the collection; pid | 2^31: query/) ----
 * The store neither checks nor parses the text; cid and pid are not
 * checked against the catalog (the engine resolved them). */

/* Create or replace query name of (cid, pid) with len bytes of text
 * (borrowed, copied).  Write txn only.  -EINVAL (name empty or longer than
 * STORE_NAME_MAX). */
int store_query_put(struct store_txn *txn, uint32_t cid, uint32_t pid,
		    const char *name, const void *text, size_t len);
/* Owned malloc copy (NUL-terminated). -ENOENT, -ENOMEM */
int store_query_get(struct store_txn *txn, uint32_t cid, uint32_t pid,
		    const char *name, char **text, size_t *len);
/* Delete query name of (cid, pid).  Write txn only.  -ENOENT, -EINVAL
 * (name). */
int store_query_del(struct store_txn *txn, uint32_t cid, uint32_t pid,
		    const char *name);
/* Call cb(arg, name) for each query of (cid, pid) in name order, name
 * borrowed for the call; a non-zero cb result stops the walk and is
 * returned.  -EIO (a corrupt key). */
int store_query_list(struct store_txn *txn, uint32_t cid, uint32_t pid,
		     int (*cb)(void *arg, const char *name), void *arg);

#endif
