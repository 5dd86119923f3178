/* engine_int.h - the engine's private structures, shared by its files.
 *
 * The catalog cache.  struct eng holds the collections (struct eng_coll,
 * one per LMDB coll record), each with its partitions (struct eng_part) in
 * creation order (= pid order).  It is read from the store at eng_open and
 * updated after each successful store_write, so lookups (exists, count,
 * state, list) touch no LMDB.  Collections and partitions are reference
 * counted: a caller takes a reference under the catalog lock, drops the
 * lock, and may then use the struct (its constant fields, its own locks)
 * even if it is dropped from the catalog meanwhile; the last unref frees.
 *
 * Locks, in the order they are taken (never the reverse):
 *
 *   1. part->wmu    (per partition) serializes writers to the partition's
 *                   in-memory state: an insert or delete (store write + idx
 *                   update), a load (the whole read of the entities), a
 *                   release, the swap of a newly built index.  Several are
 *                   taken in ascending pid order (a delete over a whole
 *                   collection).  Held across store_read/store_write: a
 *                   search never takes it, so a search never waits for
 *                   LMDB's writer lock behind it.
 *   2. e->wmu       the engine writer mutex: held around every store_write
 *                   together with the cache update that follows, so the
 *                   cache changes in the same order as the database.
 *                   Searches never take it.
 *   3. e->cat       rwlock of the catalog cache (collections, partition
 *                   lists, names, cached records and counts).  Held only for
 *                   memory operations: never across a store call or an
 *                   index computation.
 *   -  c->plock     rwlock of a collection's partition set as searches see
 *                   it (struct eng_coll): a multi-partition search =
 *                   read, the apply of a multi-partition write = write.
 *                   Taken before part->ilock, never with e->cat.
 *   -  part->ilock  rwlock of part->ix and part->cols (the pointers).
 *                   Search = read, add/remove/swap/free = write.  Never
 *                   held together with e->cat.
 *   -  cols->lock   rwlock of one struct eng_cols' columns: a query's
 *                   scan = read, an append or delete = write.  Taken
 *                   inside part->ilock or alone (a query holds a reference
 *                   to the columns, not to the partition's load); a leaf.
 *   -  e->memmu, e->bgmu, c->bmu: leaf mutexes (memory accounting,
 *                   background threads, index build status).
 *
 * Fields say which lock protects them.
 */
#ifndef MFS_ENGINE_ENGINE_INT_H
#define MFS_ENGINE_ENGINE_INT_H

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdbool.h>

#include "base/buf.h"
#include "base/pool.h"
#include "engine/engine.h"
#include "index/index.h"
#include "store/store.h"

#define ENG_SCAN_CHUNK 8192             /* entities per read txn */

enum eng_build_state { ENG_BUILD_FINISHED = 0, ENG_BUILD_INPROGRESS,
		       ENG_BUILD_FAILED };

/* A collection's field schema: immutable once made, shared by reference
 * (the catalog holds one, every loaded partition's columns and every
 * caller of eng_fields_get another). */
struct eng_fields {
	atomic_int refs;
	struct fld_schema s;
	char *text;                     /* canonical, fld_schema_print, then
					 * the scalar_index lines */
	size_t len;
	size_t slen;                    /* of text, the fld_schema_print
					 * part */
	/* Scalar indexes declared with `field=` index lines (SPEC §5):
	 * sidx[i] is the index type of field i ("" for none). */
	char (*sidx)[16];               /* s.n entries */
};

/* The columns of a loaded partition (field.h), shared by reference: a
 * release drops the partition's; a query that streams holds its own. */
struct eng_cols {
	atomic_int refs;
	pthread_rwlock_t lock;          /* c, perm */
	struct fld_cols c;
	struct eng_fields *fields;      /* a reference; c.s is &fields->s */
	uint32_t *perm;                 /* lock: rows [0, nperm) in id order
					 * (unused while c.id_sorted) */
	size_t nperm;
	size_t charged;                 /* bytes charged to memory_limit
					 * (lock) */
};

struct eng_part {
	char name[STORE_NAME_MAX + 1];  /* constant */
	uint32_t pid, cid;              /* constant */
	atomic_int refs;
	uint64_t count;                 /* e->cat */
	/* e->cat: ids_gen changes with every write that adds or removes
	 * entities of the partition; ids_bytes is the length of its `ids`
	 * listing as of ids_cached - 1 (0: not known) (eng_ids_size) */
	uint64_t ids_gen, ids_cached, ids_bytes;
	struct store_perm perm;         /* e->cat; unset: the collection's */
	atomic_int state;               /* enum eng_state */
	atomic_uint progress;           /* 0-100 while loading */
	bool dropped;                   /* e->cat */

	pthread_mutex_t wmu;
	bool reload_pending;            /* wmu: eng_open's reload to do */
	size_t mem_bytes;               /* wmu: charged to e->mem_used */
	bool building;                  /* wmu: an index build runs */
	int64_t *bdel;                  /* wmu: ids deleted while building */
	size_t nbdel, capbdel;          /* wmu */

	char ix_text[STORE_TEXT_MAX];   /* wmu: rec.index that ix was made
					 * from */
	uint64_t unfolded;              /* wmu: entities in ix that its
					 * stored form lacks (what the next
					 * load would add); past
					 * ENG_FOLD_EVERY an insert folds
					 * them (eng_part_checkpoint) */
	atomic_uint_least64_t load_added;  /* entities the last load or
					 * swap added past the stored
					 * index (stats: loaded_past_index) */

	pthread_rwlock_t ilock;
	struct idx *ix;                 /* ilock; NULL when not loaded (or
					 * loaded while dim is still 0) */
	struct eng_cols *cols;          /* ilock; NULL when not loaded */
};

struct eng_coll {
	atomic_int refs;
	char name[STORE_NAME_MAX + 1];  /* e->cat (rename) */
	uint32_t cid;                   /* constant */
	struct store_coll rec;          /* e->cat; a copy of the LMDB record */
	struct eng_fields *fields;      /* e->cat; a reference, never NULL
					 * once in the catalog */
	struct eng_part **parts;        /* e->cat; pid order, one ref each */
	size_t nparts, capparts;        /* e->cat */
	bool dropped;                   /* e->cat */

	pthread_mutex_t bmu;            /* index build status: */
	bool building;                  /* bmu */
	int build_state;                /* bmu: enum eng_build_state */
	char build_text[STORE_TEXT_MAX];/* bmu: canon text being built */
	char build_msg[MFS_ERR_MSG_MAX];/* bmu: why the last build failed */
	atomic_uint build_progress;     /* 0-100 */

	/* Compaction (compact.c, SPEC §11); never at once with a build. */
	bool compacting;                /* bmu */
	pthread_cond_t compacted;       /* with bmu: compacting went false */
	atomic_uint compact_progress;   /* 0-100 */
	struct eng_compact_info compact_last;   /* bmu: the last run */

	/* The partition set as searches see it: held for writing around
	 * the in-memory apply of a write that changes several loaded
	 * partitions (an upsert that replaces or routes, a delete), for
	 * reading around a search's fan-out over several partitions; so a
	 * search sees an entity moving between partitions exactly once.
	 * Taken after the partitions' wmu and before any ilock. */
	pthread_rwlock_t plock;
};

struct eng_bg {
	pthread_t tid;
	bool done;                      /* e->bgmu */
	struct eng_bg *next;            /* e->bgmu */
};

/* An alias: a root-level name for the collection with cid
 * (catalog_alias.c). */
struct eng_alias {
	char name[STORE_NAME_MAX + 1];
	uint32_t cid;
};

struct eng {
	struct store *st;               /* borrowed */
	struct mfs_pool *pool;
	unsigned threads;
	uint64_t memory_limit;
	unsigned max_partitions;
	void (*report)(void *arg, const char *op, const char *path, int code,
		       const struct mfs_err *err);      /* eng_opts */
	void *report_arg;
	bool read_only;                 /* eng_opts: load state not stored */

	pthread_mutex_t wmu;
	pthread_rwlock_t cat;
	struct eng_coll **colls;        /* cat; unordered */
	size_t ncolls, capcolls;        /* cat */
	struct eng_alias *aliases;      /* cat; unordered (SPEC §12) */
	size_t naliases, capaliases;    /* cat */

	pthread_mutex_t memmu;
	uint64_t mem_used;              /* memmu */

	pthread_mutex_t bgmu;
	struct eng_bg *bg;              /* bgmu: background threads */
	atomic_bool closing;
};

/* ---- catalog.c, catalog_coll.c, catalog_part.c, catalog_alias.c ---- */

/* The references of a refcounted engine object (partition, collection,
 * fields, columns).  A reference is only taken from one already held, and
 * never dropped more often than taken: both asserted.  eng_refs_drop
 * returns true for the last one (the caller then frees). */
static inline void eng_refs_take(atomic_int *refs)
{
	int old = atomic_fetch_add(refs, 1);

	assert(old > 0);
	(void)old;
}

static inline bool eng_refs_drop(atomic_int *refs)
{
	int old = atomic_fetch_sub(refs, 1);

	assert(old > 0);
	return old == 1;
}

/* Milvus's words for a missing object, one helper each (as mfs_errf:
 * returns rc, fills err when not NULL): "collection not found[collection=
 * NAME]", "partition not found[partition=NAME]", "alias not found[alias=
 * NAME]".  rc is -ENOENT, or the store's code when a store lookup failed.
 * name is borrowed. */
int eng_err_no_coll(struct mfs_err *err, int rc, const char *name);
int eng_err_no_part(struct mfs_err *err, int rc, const char *name);
int eng_err_no_alias(struct mfs_err *err, int rc, const char *name);

/* Another reference to p or c, taken from one the caller holds. */
static inline void eng_part_ref(struct eng_part *p)
{
	eng_refs_take(&p->refs);
}

static inline void eng_coll_ref(struct eng_coll *c)
{
	eng_refs_take(&c->refs);
}

/* Drop a reference; the last one frees (NULL: nothing). */
void eng_part_unref(struct eng_part *p);
void eng_coll_unref(struct eng_coll *c);
/* Caller holds e->cat. NULL when absent. */
struct eng_coll *eng_coll_find(struct eng *e, const char *name);
/* Take e->cat in read mode and find collection coll (*c_out) and, unless
 * part is NULL, its partition part (*p_out, else NULL); no references
 * taken.  0 with e->cat held (the caller unlocks), or -ENOENT with
 * Milvus's message and e->cat released. */
int eng_find_rdlock(struct eng *e, const char *coll, const char *part,
		    struct eng_coll **c_out, struct eng_part **p_out,
		    struct mfs_err *err);
struct eng_part *eng_part_find(struct eng_coll *c, const char *name);
struct eng_part *eng_part_by_pid(struct eng_coll *c, uint32_t pid);
/* Take references on coll (and part unless part is NULL; part_out may be
 * NULL) and copy its record, under e->cat. -ENOENT with a message. */
int eng_lookup(struct eng *e, const char *coll, const char *part,
	       struct eng_coll **coll_out, struct eng_part **part_out,
	       struct store_coll *rec_out, struct mfs_err *err);
/* Append a copy of name to out, whose name array holds *cap slots (grown
 * by doubling).  0 or -ENOMEM. */
int eng_names_add(struct eng_names *out, size_t *cap, const char *name);
/* Referenced copy of c's partition list (free with eng_parts_put). */
int eng_parts_get(struct eng *e, struct eng_coll *c, struct eng_part ***out,
		  size_t *n);
void eng_parts_put(struct eng_part **parts, size_t n);
/* The partitions a call on c names: *p alone when not NULL (*out = p,
 * *n = 1, no reference taken), else every one of c's (eng_parts_get;
 * "out of memory" in err).  Release with eng_parts_done(*p, ...). */
int eng_parts_of(struct eng *e, struct eng_coll *c, struct eng_part **p,
		 struct eng_part ***out, size_t *n, struct mfs_err *err);
void eng_parts_done(const struct eng_part *p, struct eng_part **parts,
		    size_t n);
/* Read the whole catalog from the store (eng_open). */
int eng_catalog_read(struct eng *e, struct mfs_err *err);
void eng_catalog_free(struct eng *e);

/* ---- fields.c ---- */

/* New fields from canonical text (len 0: none); a reference. */
int eng_fields_new(const char *text, size_t len, struct eng_fields **out,
		   struct mfs_err *err);
void eng_fields_ref(struct eng_fields *f);
/* The same fields (scalar indexes aside)? */
bool eng_fields_same(const struct eng_fields *a, const struct eng_fields *b);
/* c's field schema, referenced (under e->cat inside). */
struct eng_fields *eng_coll_fields(struct eng *e, struct eng_coll *c);
/* Read collection cid's fields from the store (in a txn). */
int eng_fields_read(struct store_txn *txn, uint32_t cid,
		    struct eng_fields **out, struct mfs_err *err);
/* Columns for partition p from its rows: new, empty, with a reference to
 * f; append with eng_cols_append.  Scalar indexes are built by
 * eng_cols_index once the rows are in. */
int eng_cols_new(struct eng_fields *f, struct eng_cols **out);
void eng_cols_ref(struct eng_cols *k);
void eng_cols_unref(struct eng_cols *k);        /* NULL allowed */
/* Build the scalar indexes f->sidx declares (caller holds k exclusively
 * or alone). */
int eng_cols_index(struct eng_cols *k, struct mfs_err *err);
/* Append n rows (caller holds p->wmu; takes k->lock).  The rows of
 * eng_rows layout: rows[row_end[i-1], row_end[i]); row_end NULL = empty
 * rows.  Charges the growth to memory_limit (never refused: the entities
 * are stored already). */
int eng_cols_append(struct eng *e, struct eng_cols *k, const int64_t *ids,
		    const uint8_t *rows, const size_t *row_end, size_t n);
/* Mark ids dead (takes k->lock). */
void eng_cols_delete(struct eng_cols *k, const int64_t *ids, size_t n);
/* Give back k's memory charge (release). */
void eng_cols_uncharge(struct eng *e, struct eng_cols *k);
/* Replace loaded p's columns by a copy without their dead rows once
 * these are many (fields.c); caller holds p->wmu.  Nothing on failure. */
void eng_part_cols_tidy(struct eng *e, struct eng_part *p);
/* Make the columns of loaded partition p if it has none (a collection
 * without fields gets them at its first query): reads its ids (and
 * rows) from the store under p->wmu.  0 (also when p is not loaded: the
 * caller's check decides), -ENOMEM past memory_limit, -EIO. */
int eng_part_cols_ensure(struct eng *e, struct eng_coll *c,
			 struct eng_part *p, struct mfs_err *err);

/* Create the partitions _default_0 .. _default_N-1 of a partition-key
 * collection that are missing. */
int eng_pk_parts(struct eng *e, const char *coll, struct mfs_err *err);

/* ---- search.c ---- */

/* The partitions a search or query covers (SPEC §6): only, else the named
 * ones, else every loaded one; referenced, in *out (free with
 * eng_parts_put).  -ENOENT, -ENODATA, -EAGAIN as for a search. */
int eng_resolve_parts(struct eng *e, struct eng_coll *c,
		      struct eng_part *only, const char *const *parts,
		      size_t nparts, struct eng_part ***out, size_t *nout,
		      struct mfs_err *err);

/* ---- itext.c: canonical index text <-> kv, index types ---- */

int eng_itext_to_kv(const char *text, struct mfs_kv *kv, struct mfs_err *err);
int eng_kv_to_itext(const struct mfs_kv *kv, char *text, size_t cap,
		    struct mfs_err *err);
/* The index type and canonical parameters the collection's record names
 * (FLAT or BIN_FLAT when none). */
int eng_rec_index(const struct store_coll *rec, const struct idx_type **type,
		  struct mfs_kv *canon, struct mfs_err *err);
const struct idx_type *eng_default_type(enum vec_type vt);
void eng_rec_info(struct eng *e, const struct store_coll *rec,
		  struct idx_info *info);

/* ---- load.c ---- */

/* Entities of a partition read into memory. */
struct eng_ents {
	size_t n, cap;
	int64_t *ids;
	uint64_t *seqs;                 /* ascending */
	uint8_t *vecs;
	size_t vec_bytes;
	uint64_t next_seq;              /* first seq not read */
	struct eng_cols *cols;          /* not NULL: each entity's id and row
					 * are appended here too (borrowed) */
	int cols_rc;                    /* first append failure */
	/* Set blob_of before eng_ents_read to have that partition's index
	 * blob read too, alongside on another thread when the pool has
	 * one; blob_read says it was (eng_part_make_index then takes it
	 * from here instead of reading it). */
	const struct eng_part *blob_of;
	bool blob_read;
	void *blob;
	size_t blob_len;
	uint64_t blob_seq;
};
void eng_ents_free(struct eng_ents *x);
/* Read pid's entities with seq in [from_seq, to_seq) in chunks of
 * ENG_SCAN_CHUNK, one read txn each; progress (may be NULL) gets the
 * fraction read so far, of expect entities. */
int eng_ents_read(struct eng *e, uint32_t pid, size_t vec_bytes,
		  uint64_t from_seq, uint64_t to_seq, struct eng_ents *out,
		  atomic_uint *progress, uint64_t expect, struct mfs_err *err);
/* Load p (caller holds p->wmu). */
int eng_part_load_locked(struct eng *e, struct eng_coll *c, struct eng_part *p,
			 struct mfs_err *err);
/* Restore (from its blob) or build p's index for rec over x. */
int eng_part_make_index(struct eng *e, const struct store_coll *rec,
			struct eng_part *p, const struct eng_ents *x,
			struct idx **out, struct mfs_err *err);
/* Persist p's loaded flag (e->wmu taken inside). */
int eng_part_persist_loaded(struct eng *e, struct eng_part *p, bool loaded,
			    struct mfs_err *err);
/* Charge need bytes to memory_limit; past it -ENOMEM and nothing charged,
 * the message "<what> failed: memory not enough: need N, limit L, in use
 * U<hint>". */
int eng_mem_charge(struct eng *e, uint64_t need, const char *what,
		   const char *hint, struct mfs_err *err);
void eng_mem_adjust(struct eng *e, int64_t delta);
/* Reload what eng_open found marked loaded, in the background. */
int eng_reload_start(struct eng *e, struct mfs_err *err);

/* ---- insert.c, delete.c ---- */

/* An entity deleted (or replaced) in partition pid. */
struct del_pair {
	uint32_t pid;
	int64_t id;
};
/* Take the entities out[0, nout) out of the loaded indexes and columns of
 * parts (caller holds each part's wmu); sorts out. */
void eng_remove_loaded(struct eng *e, struct eng_part **parts,
		       size_t nparts, struct del_pair *out, size_t nout);

/* dim valid for vt (SPEC §3)? 0 or -EINVAL. */
int eng_check_dim(enum vec_type vt, uint32_t dim, struct mfs_err *err);
/* Vector of entity id of collection cid (vb bytes into vec, may be NULL)
 * and its pid. -ENOENT "entity 42 not found". */
int eng_entity_read(struct eng *e, uint32_t cid, int64_t id, void *vec,
		    size_t vb, uint32_t *pid, struct mfs_err *err);

/* ---- index_build.c: steps shared by a build and a compaction ---- */

/* A partition's record read in a txn (store_read(e->st, eng_sp_txn, &a)),
 * with its usage walked when usage is set. */
struct eng_sp_arg {
	const struct eng_part *p;
	struct store_part sp;
	bool usage;
	struct store_usage u;
};
int eng_sp_txn(struct store_txn *txn, void *arg, struct mfs_err *err);

/* One partition of an index made aside (a build or a compaction). */
struct eng_bpart {
	struct eng_part *p;             /* referenced */
	uint64_t snap;                  /* entities with seq < snap built */
	uint32_t d0;                    /* store_part.deleted at snap */
	double w0, w;                   /* progress weights */
	struct idx *ix;                 /* built, for a loaded partition */
	struct mfs_buf blob;
	bool skip;                      /* dropped, or nothing to do */
};
/* Take over the reference to p, weighed count + 1 after *wtotal. */
void eng_bpart_init(struct eng_bpart *q, struct eng_part *p, uint64_t count,
		    double *wtotal);
void eng_bparts_free(struct eng_bpart *v, size_t n);
/* What an index build and a compaction share, the first member of each's
 * job (index_build.c, compact.c). */
struct eng_bjob {
	struct eng *e;
	struct eng_coll *c;             /* referenced */
	struct store_coll rec;          /* c's record at the start */
	const struct idx_type *t;
	struct mfs_kv canon;
	struct eng_bpart *v;            /* the n partitions built */
	size_t n;
	double wtotal;                  /* their progress weights */
	struct eng_bpart *cur;          /* the one being built */
};
/* Free the job whose first member is b: its partitions, its reference to
 * c, and the job itself. */
void eng_bjob_free(struct eng_bjob *b);
/* Run the job whose first member is b: in the background through main
 * (which frees it) unless wait, or inline through run, then freed, when
 * waiting or when no thread starts.  run's outcome, or 0 once started. */
int eng_bjob_start(struct eng_bjob *b, bool wait,
		   int (*run)(struct eng_bjob *b, struct mfs_err *err),
		   void *(*main)(void *b), struct mfs_err *err);
/* Progress 0-99 of the whole when q is pct% done. */
unsigned eng_bpart_pct(const struct eng_bpart *q, double wtotal, double pct);
/* Steps 1 and 2 for q: under p->wmu, p->building set and snap and d0
 * noted from p's record; then t built over the entities with seq < snap
 * (*cur = q meanwhile, for prog) and saved into q->blob when t saves.
 * The index is kept in q->ix when p is loaded: before the build with
 * rec's index when same_index (a compaction), after it otherwise.  A
 * dropped p is skipped; a build failure is prefixed "<what> <p>". */
int eng_bpart_make(struct eng *e, const struct store_coll *rec,
		   const struct idx_type *t, const struct mfs_kv *canon,
		   struct eng_bpart *q, const struct idx_progress *prog,
		   struct eng_bpart **cur, bool same_index, const char *what,
		   struct mfs_err *err);
/* Step 3 in txn: c's record (its name copied into name), -EBUSY when it
 * no longer matches was, the record at the start of the job (what, "index
 * build" or "compaction", says which in the message): its index and dim
 * when same_index, else its dim, vector type and metric; then for each
 * partition: the blob stored when blob (index_seq = snap), deleted -= d0.
 * -ENOENT, with no message, when the partition is gone. */
int eng_bcoll_get(struct store_txn *txn, struct eng *e, struct eng_coll *c,
		  const struct store_coll *was, bool same_index,
		  const char *what, char *name, size_t size,
		  struct store_coll *rec, struct mfs_err *err);
int eng_bpart_commit(struct store_txn *txn, const struct eng_bpart *q,
		     bool blob, struct mfs_err *err);
/* Step 4 (caller holds p->wmu): add the entities with seq >= snap to ix
 * and remove p->bdel from it; *added the number read (untouched when the
 * read failed). */
int eng_bpart_catch_up(struct eng *e, const struct store_coll *rec,
		       struct eng_part *p, struct idx *ix, uint64_t snap,
		       size_t *added, struct mfs_err *err);
/* Swap ix in for p->ix under p->ilock and free the old one. */
void eng_part_swap_ix(struct eng *e, struct eng_part *p, struct idx *ix);

/* ---- compact.c ---- */

/* Start a background compaction of the partitions of coll whose deleted
 * fraction is past ENG_COMPACT_AUTO_PCT, all of them read (after a
 * compaction run, for the deletes that came during it); nothing when none
 * is, or a build or compaction runs. */
void eng_compact_auto(struct eng *e, const char *coll);
/* The same after a delete or an upsert that removed (or replaced)
 * out[0, n) (pid, id): only their partitions can have passed the mark,
 * so only theirs are read. */
void eng_compact_auto_del(struct eng *e, const char *coll,
			  const struct del_pair *out, size_t n);
/* Fold the entities inserted since p's stored index into it (a
 * checkpoint: save the loaded index, index_seq = next_seq) when there are
 * any and the index type saves one; caller holds p->wmu, p loaded.
 * Failures are only logged: the next load re-adds them. */
void eng_part_checkpoint(struct eng *e, struct eng_coll *c,
			 struct eng_part *p);
/* The same with the collection's record given (caller holds p->wmu). */
void eng_part_checkpoint_rec(struct eng *e, const struct store_coll *rec,
			     struct eng_part *p);
/* Inserts into a loaded partition past its stored index that make an
 * insert fold them in, so a load after a crash adds at most this many
 * (SPEC §11: loads stay fast). */
#define ENG_FOLD_EVERY 65536
/* eng_part_checkpoint of every loaded partition (eng_close). */
void eng_checkpoint_all(struct eng *e);

/* ---- engine.c ---- */

/* Start fn(arg) in a background thread joined at eng_close. */
int eng_bg_start(struct eng *e, void *(*fn)(void *), void *arg);
/* Run a store_write under e->wmu. */
int eng_write(struct eng *e, store_fn fn, void *arg, struct mfs_err *err);
/* A writer-preferring rwlock (no reader recursion allowed). */
void eng_rwlock_init(pthread_rwlock_t *l);
/* "41.0 MiB" */
void eng_fmt_bytes(uint64_t n, char *buf, size_t cap);

#endif
