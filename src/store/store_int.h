/* store_int.h - private to src/store: the environment, the transaction
 * wrapper, key encoding and the one LMDB-code-to-errno mapping.
 *
 * Error discipline inside the module: every LMDB call goes through
 * txn_fail(), which turns the LMDB code into a negative errno and records
 * the first "hard" code (anything but NOTFOUND / KEYEXIST) in
 * txn->mdb_rc.  store_write() looks at mdb_rc after the callback: MAP_FULL
 * means "grow and run again" whatever the callback returned, any other
 * recorded code means "abort", so a callback that ignores an error can
 * never commit a half-done transaction.
 */
#ifndef MFS_STORE_STORE_INT_H
#define MFS_STORE_STORE_INT_H

#include <lmdb.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "store/store.h"

#define STORE_LAYOUT_VERSION 2u
#define STORE_LAYOUT_VERSION_MIN 1u     /* older layouts opened and migrated */
#define STORE_BLOB_CHUNK (1u << 20)     /* bytes per blob value */

struct store_changes;                   /* shrink.c */

enum store_db {
	DB_META, DB_COLL, DB_PART, DB_PINFO, DB_ENT, DB_IDMAP, DB_BLOB,
	DB_QUERY, DB_FIELDS, DB_COUNT
};

struct store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];          /* fixed after store_open */
	char *dir;                      /* owned */
	int lock_fd;                    /* flock'ed <dir>/milvusfs.lock */
	int sync_always;
	/* Every transaction holds grow_lock shared; growing the map
	 * (mdb_env_set_mapsize, which needs no live transaction in the
	 * process) holds it exclusive.  mapsize_bytes and broken are
	 * protected by grow_lock (written under the exclusive side). */
	pthread_rwlock_t grow_lock;
	uint64_t mapsize_bytes;
	int broken;                     /* a failed remap left no map */
	int recycle_due;                /* env_recycle could not run: retry */
	unsigned env_flags;             /* mdb_env_open flags, for a reopen */
	/* Held by store_write for the whole transaction (and the recycle
	 * after it) and by the online shrink while it takes its snapshot
	 * and while it replays the changes and swaps the files (env.c, "The
	 * file shrinks").  Taken before grow_lock, never while holding it. */
	pthread_mutex_t write_lock;
	/* While a rewrite copies its snapshot: the keys writers change
	 * (shrink.c), else NULL.  Protected by write_lock. */
	struct store_changes *changes;
	/* Threads waiting for grow_lock exclusive to grow or reopen the map
	 * (atomic): a rewrite's copy, which holds it shared, gives way. */
	int grow_waiting;
	uint64_t changes_max_keys;      /* the rewrite gives up past these */
	uint64_t changes_max_bytes;
	char *shrink_gate;              /* a test hook (env.c), or NULL */
	/* The online shrink's thread: protected by shrink_lock. */
	pthread_mutex_t shrink_lock;
	pthread_t shrink_thread;
	int shrink_joinable;            /* started and not joined yet */
	int shrink_running;
	int closing;                    /* store_close began: start none */
	uint64_t shrink_after_ms;       /* CLOCK_MONOTONIC: none before */
	uint64_t shrink_min_bytes;      /* of free pages, to rewrite */
	int unsafe_shrink;              /* a test hook: rewrite unsynced */
	void (*report)(void *arg, const char *op, const char *path, int code,
		       const struct mfs_err *err);
	void *report_arg;               /* set once, before any thread */
	/* Disk-full headroom (env.c, "Disk full"): protected by
	 * reserve_lock. */
	pthread_mutex_t reserve_lock;
	int reserve_fd;                 /* <dir>/milvusfs.reserve, or -1 */
	uint64_t reserve_bytes;         /* its size when held */
	int reserve_short;              /* 1: adding txns are refused */
	/* Commits and syncs, for store_sync to skip a sync with nothing
	 * to flush (__atomic builtins). */
	uint64_t commits;
	uint64_t synced;
};

struct store_txn {
	struct store *st;
	MDB_txn *txn;
	int rdonly;
	int mdb_rc;     /* first hard LMDB code seen in this txn, 0 if none */
	int poison;     /* negative errno: the txn must not commit */
	int grows;      /* store_txn_grows was called: it adds data */
	int refused;    /* store_txn_grows refused it: the disk is full */
	size_t touched; /* entities deleted: about the pages it dirtied */
};

/* Operation context for store_mdb_errno: a failed write during commit
 * (ENOSPC, or EIO from a short write) means the disk is full. */
enum store_op { STORE_OP_DATA, STORE_OP_COMMIT, STORE_OP_OPEN };

/* The one mapping of LMDB (and system) return codes to negative errno:
 * NOTFOUND -ENOENT, KEYEXIST -EEXIST, MAP_FULL -ENOSPC, READERS_FULL
 * -EAGAIN, format/corruption codes -EIO, system errno values negated
 * (EIO at commit -> -ENOSPC). 0 -> 0. */
int store_mdb_errno(int rc, enum store_op op);

/* Called by the functions that add data (entities, index blobs) before
 * they write: 0, or -ENOSPC (and the txn is poisoned) when the file
 * system is too full to keep the headroom that deletes and drops need
 * (env.c, "Disk full"). */
int store_txn_grows(struct store_txn *t);

/* The names of the databases, by enum store_db. */
extern const char *const store_db_names[DB_COUNT];

/* ---- writes: every write of the store goes through these (shrink.c) ----
 *
 * The same as mdb_put, mdb_del (without a data argument: no database is
 * MDB_DUPSORT), mdb_cursor_put, mdb_cursor_del (flags 0) and mdb_drop
 * (emptying only: the handles are fixed) on database db of t, returning
 * LMDB's code; while a rewrite of data.mdb copies its snapshot, they add
 * the key (store_drop: the whole database) to its change set first. */
int store_put(struct store_txn *t, enum store_db db, MDB_val *k, MDB_val *v,
	      unsigned flags);
int store_del(struct store_txn *t, enum store_db db, MDB_val *k);
int store_cursor_put(struct store_txn *t, enum store_db db, MDB_cursor *cur,
		     MDB_val *k, MDB_val *v, unsigned flags);
int store_cursor_del(struct store_txn *t, enum store_db db, MDB_cursor *cur);
int store_drop(struct store_txn *t, enum store_db db);

/* ---- the rewrite's data (shrink.c; env.c, "The file shrinks") ---- */

/* Entries per transaction of the copy: LMDB keeps a transaction's dirty
 * pages in the heap until it commits, and their list until the copy's
 * environment closes, so this bounds what a rewrite holds while it runs
 * beside the writers (with 65,536, the daemon held 14-22 MiB more while
 * it copied a 31 MiB file of 60,000 entities: tests/fs/memory.sh; a
 * commit of the copy is a write(2) without a sync). */
#define STORE_SHRINK_TXN_ENTRIES 4096
#define STORE_SHRINK_CHECK 1024         /* entries between stop() calls */
#define STORE_SHRINK_STOPPED (-1)       /* stop() said so */

/* A change set: at most max_keys keys and max_bytes of memory; NULL when
 * out of memory. */
struct store_changes *store_changes_new(size_t max_keys, size_t max_bytes);
void store_changes_free(struct store_changes *c);
/* Add (db, k) (a copy of the key); db emptied: copy it whole.  Past the
 * limits, or out of memory, the set empties and is over for good. */
void store_changes_add(struct store_changes *c, enum store_db db,
		       const MDB_val *k);
void store_changes_drop(struct store_changes *c, enum store_db db);
/* 1 once the set went over its limits (safe while writers add). */
int store_changes_over(const struct store_changes *c);
size_t store_changes_count(const struct store_changes *c);

/* Open (creating) the databases of store_db_names in the fresh
 * environment to, handles in tdbi.  0 or an LMDB code. */
int store_shrink_dbs(MDB_env *to, MDB_dbi *tdbi);
/* Copy every database of st as read transaction rt sees it into the
 * empty tdbi of to, in key order (MDB_APPEND: full pages).  Every
 * STORE_SHRINK_CHECK entries stop(arg) (may be NULL) may end it: its
 * nonzero return is returned (STORE_SHRINK_STOPPED).  mid(mid_arg), when
 * not NULL, is called once in the middle.  0 or an LMDB code. */
int store_shrink_copy(struct store *st, MDB_txn *rt, MDB_env *to,
		      const MDB_dbi *tdbi, int (*stop)(void *), void *arg,
		      void (*mid)(void *), void *mid_arg);
/* Make the copy what rt sees for every key of c: the value in rt, or
 * none; a dropped database copied whole again.  Grows to's map when it
 * fills (no transaction of to may be alive).  *keys: the keys replayed.
 * 0 or an LMDB code. */
int store_shrink_replay(struct store *st, MDB_txn *rt,
			const struct store_changes *c, MDB_env *to,
			const MDB_dbi *tdbi, size_t *keys);

/* A test hook: run the online rewrite of data.mdb now in this thread,
 * worth it or not; mid(arg), when not NULL, is called once in the middle
 * of the copy, with write_lock free (writes from another thread go on)
 * and grow_lock held shared by this thread.  1 when data.mdb was
 * rewritten, else a negative errno with err set. */
int store_shrink_now(struct store *st, void (*mid)(void *), void *arg,
		     struct mfs_err *err);

/* Record rc in txn (unless NOTFOUND / KEYEXIST) and return its errno. */
int store_txn_fail(struct store_txn *t, int rc);

static inline MDB_dbi store_dbi(struct store_txn *t, enum store_db db)
{
	return t->st->dbi[db];
}

/* A copy of value v, NUL-terminated, in *text (returns owned; *len its
 * length when len is not NULL), so it outlives the transaction.  0 or
 * -ENOMEM. */
int store_val_text(const MDB_val *v, char **text, size_t *len);

/* ---- big-endian key helpers ---- */

static inline void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static inline void put_be64(unsigned char *p, uint64_t v)
{
	put_be32(p, (uint32_t)(v >> 32));
	put_be32(p + 4, (uint32_t)v);
}

static inline uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline uint64_t get_be64(const unsigned char *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

/* Ids in keys: flipping the sign bit makes byte order numeric order. */
static inline uint64_t id_key(int64_t id)
{
	return (uint64_t)id ^ UINT64_C(0x8000000000000000);
}

/* Names: 1..STORE_NAME_MAX bytes. Returns the length or -EINVAL. */
int store_name_len(const char *name);

/* Delete every key of db that starts with prefix[0..len).  Returns the
 * number deleted in *n (may be NULL). 0 or negative errno. */
int store_del_prefix(struct store_txn *t, enum store_db db,
		     const void *prefix, size_t len, uint64_t *n);

/* meta counter name: read, store value+1, return the value in *out. */
int store_meta_next(struct store_txn *t, const char *name, uint32_t *out);

/* Partition record of pid (catalog.c). -ENOENT */
int store_pinfo_get(struct store_txn *t, uint32_t pid, struct store_part *p);
/* Delete partition pid of collection cid: entities with their idmap
 * entries (when del_ids), blob, saved queries, pinfo.  The part key is
 * the caller's. */
int store_part_purge(struct store_txn *t, uint32_t cid, uint32_t pid,
		     int del_ids);

#endif
