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
	 * after it) and by the online shrink for its copy and swap: no
	 * commit lands in data.mdb while it is being rewritten (env.c, "The
	 * file shrinks").  Taken before grow_lock, never while holding it. */
	pthread_mutex_t write_lock;
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
