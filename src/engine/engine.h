/* engine.h - collections, partitions, schema, load state, memory limit,
 * insert/delete, index builds, and search fan-out and merge.
 *
 * The engine is milvusfs without the filesystem: it takes names, parsed
 * records and parsed parameters (never text to parse), keeps an in-memory
 * cache of the catalog (so lookups on every FUSE call cost no LMDB
 * transaction), owns the loaded partitions (one struct idx each) and the
 * thread pool, and writes through store/.  It is testable without a mount.
 *
 * Names: collection and partition names are validated by the caller (fmt's
 * name rules); the engine only looks them up.  A NULL partition means "the
 * whole collection" where the contract says so (for insert: "_default").
 *
 * Errors follow SPEC §7: -ENOENT, -EEXIST, -EINVAL, -EBUSY, -EPERM, -EDQUOT,
 * -ENOMEM, -ENODATA, -EAGAIN, -ENOSPC; err gets a message in Milvus's
 * wording.  A failed call changes nothing.
 *
 * Thread-safety: every function may be called from any thread at any time.
 * Searches run in parallel with each other and with inserts; an insert into
 * a loaded partition is searchable when eng_insert returns; a deleted id is
 * never returned by a search that starts after eng_delete returns.
 */
#ifndef MFS_ENGINE_ENGINE_H
#define MFS_ENGINE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/kv.h"
#include "base/limits.h"
#include "field/expr.h"
#include "field/field.h"
#include "store/store.h"
#include "vec/vec.h"

#define ENG_DEFAULT_PARTITION "_default"

struct eng;

struct eng_opts {
	unsigned threads;               /* search/build threads; 0 = cores;
					 * at most MFS_POOL_THREADS_MAX */
	uint64_t memory_limit_bytes;    /* 0 = 90% of physical memory */
	unsigned max_partitions;        /* 0 = 1024 */
	/* Failures the engine meets on its own, with no caller to tell (a
	 * reload at open): op ("reload"), the path ("/coll/part"), -errno
	 * and why.  Called from a background thread; NULL: only logged. */
	void (*report)(void *arg, const char *op, const char *path, int code,
		       const struct mfs_err *err);
	void *report_arg;
	/* -o ro (SPEC §13): loads and releases serve but their state is not
	 * stored, so the database is not changed by them */
	bool read_only;
};

/* Start the engine on an open store (borrowed; must outlive the engine):
 * read the catalog and load again what was loaded at the last unmount
 * (in the background: state is Loading meanwhile).  Returns owned *out. */
int eng_open(struct store *st, const struct eng_opts *opts, struct eng **out,
	     struct mfs_err *err);
/* Wait for background work (loads, index builds, compactions), fold what
 * was inserted since each stored index into it (SPEC §11), free every
 * loaded partition, the catalog cache and the pool, and free e; NULL
 * allowed.  No other call may be in progress or follow.  The store stays
 * open (the caller's). */
void eng_close(struct eng *e);
/* Make committed data durable (store_sync); takes no engine lock.
 * -EIO and the store's other codes, with a message. */
int eng_sync(struct eng *e, struct mfs_err *err);
/* A compacted copy of the whole database as of now (store_backup: owned
 * *fd, its length in *size_bytes).  -ENOSPC, -ENOMEM, -EIO. */
int eng_backup(struct eng *e, int *fd, uint64_t *size_bytes,
	       struct mfs_err *err);

/* ---- catalog ---- */

/* A list of names, owned by the caller; free with eng_names_free. */
struct eng_names {
	size_t n;
	char **name;
};
/* Free the names and the array and zero *names (NULL allowed); a zeroed
 * list may be freed again. */
void eng_names_free(struct eng_names *names);

/* Create collection coll (name checked by the caller, at most
 * STORE_NAME_MAX bytes) with its _default partition, no schema and no
 * owner, in one transaction.  -EEXIST (a collection or an alias of that
 * name), -EINVAL (too long), -ENOMEM, -ENOSPC. */
int eng_coll_create(struct eng *e, const char *coll, struct mfs_err *err);
/* eng_coll_create with an owner, group and mode (SPEC §12; perm NULL or
 * unset: none stored), in the same transaction.  Its _default partition
 * stores none: it follows the collection. */
int eng_coll_create_owned(struct eng *e, const char *coll,
			  const struct store_perm *perm, struct mfs_err *err);
/* -ENOENT, -EBUSY (a partition is loaded or loading, or an index build
 * runs) */
int eng_coll_drop(struct eng *e, const char *coll, struct mfs_err *err);
/* -ENOENT, -EEXIST; allowed while loaded. */
int eng_coll_rename(struct eng *e, const char *from, const char *to,
		    struct mfs_err *err);
/* Names of every collection, in name order, from the catalog cache (no
 * LMDB): *out is owned (eng_names_free).  -ENOMEM. */
int eng_coll_list(struct eng *e, struct eng_names *out, struct mfs_err *err);
/* Is coll a collection (not an alias)?  Takes e->cat for reading. */
bool eng_coll_exists(struct eng *e, const char *coll);

/* ---- aliases (SPEC §12) ----
 * An alias names one collection (never another alias); a collection may
 * have several; no alias has a collection's name, no collection an
 * alias's (-EEXIST both ways); a collection with aliases cannot be dropped
 * or replaced by a rename (-EBUSY); a rename of it keeps them. */
/* Point alias at coll: create it, or, when move, move it if it exists
 * (without move an existing alias is -EEXIST).  -ENOENT (no collection
 * coll), -EINVAL (coll is an alias, or a bad name), -EEXIST. */
int eng_alias_set(struct eng *e, const char *alias, const char *coll,
		  bool move, struct mfs_err *err);
/* -ENOENT */
int eng_alias_drop(struct eng *e, const char *alias, struct mfs_err *err);
/* Rename alias from to to in one transaction, replacing alias to if it
 * exists.  -ENOENT (from), -EEXIST (to is a collection). */
int eng_alias_rename(struct eng *e, const char *from, const char *to,
		     struct mfs_err *err);
/* The collection alias names (STORE_NAME_MAX+1 bytes at coll, may be
 * NULL).  -ENOENT when alias is no alias. */
int eng_alias_get(struct eng *e, const char *alias, char *coll);
/* Names of every alias, in name order, from the catalog cache: *out is
 * owned (eng_names_free).  -ENOMEM. */
int eng_alias_list(struct eng *e, struct eng_names *out, struct mfs_err *err);

struct eng_schema {
	uint32_t dim;                   /* 0 = not yet known */
	enum vec_type vtype;
	enum vec_metric metric;
	char description[STORE_TEXT_MAX];
};
/* coll's vector schema, copied from the catalog cache into *out (written
 * only on success).  -ENOENT. */
int eng_schema_get(struct eng *e, const char *coll, struct eng_schema *out,
		   struct mfs_err *err);
/* Apply the keys present in kv: dim, metric_type, vector_type,
 * description, enable_dynamic_field (true|false), num_partitions; others
 * -EINVAL.  dim/vector_type/metric_type changes once the collection has
 * data: -EBUSY.  fields (may be NULL: fields unchanged) holds the `field=`
 * lines of the write, in order (SPEC §8): before the first insert they
 * replace the collection's fields; once it has data they are merged: a
 * field named as it is defined is a no-op, a new field is appended if it
 * is nullable or has a default, anything else is -EBUSY.  Any change of
 * fields while a partition is loaded is -EBUSY.  A partition_key field
 * (only before data) creates num_partitions partitions _default_0 ...
 * _default_N-1 and drops the empty _default.  All or nothing. */
int eng_schema_set(struct eng *e, const char *coll, const struct mfs_kv *kv,
		   const struct fld_schema *fields, struct mfs_err *err);

/* ---- scalar fields (SPEC §8) ---- */

/* A collection's field schema as of the call: immutable, referenced. */
struct eng_fields;
/* Never NULL on success (a collection without fields has an empty
 * schema).  -ENOENT. */
int eng_fields_get(struct eng *e, const char *coll, struct eng_fields **out,
		   struct mfs_err *err);
/* The schema f holds: borrowed, valid until eng_fields_put(f). */
const struct fld_schema *eng_fields_schema(const struct eng_fields *f);
/* The canonical text (fld_schema_print), borrowed as above. */
const char *eng_fields_text(const struct eng_fields *f, size_t *len);
void eng_fields_put(struct eng_fields *f);      /* NULL allowed */
/* Does coll have a partition key?  (Partitions are then the engine's.) */
bool eng_coll_has_pk(struct eng *e, const char *coll);

/* -ENOENT (coll), -EEXIST, -EDQUOT (past max_partitions) */
int eng_part_create(struct eng *e, const char *coll, const char *part,
		    struct mfs_err *err);
/* eng_part_create with an owner, group and mode (perm NULL or unset:
 * none stored, the partition follows its collection). */
int eng_part_create_owned(struct eng *e, const char *coll, const char *part,
			  const struct store_perm *perm, struct mfs_err *err);
/* -ENOENT, -EPERM (_default), -EBUSY (loaded or loading) */
int eng_part_drop(struct eng *e, const char *coll, const char *part,
		  struct mfs_err *err);
/* Names of coll's partitions in creation order, "_default" first, from
 * the catalog cache: *out is owned (eng_names_free).  -ENOENT, -ENOMEM. */
int eng_part_list(struct eng *e, const char *coll, struct eng_names *out,
		  struct mfs_err *err);
/* Does coll have a partition part?  false when coll does not exist.
 * Takes e->cat for reading. */
bool eng_part_exists(struct eng *e, const char *coll, const char *part);

/* ---- owners, groups and modes (SPEC §12) ---- */

/* The owner, group and mode of coll (part NULL) or of its partition part,
 * from the catalog cache (no LMDB).  A partition without its own follows
 * its collection; out->set is 0 when the collection has none either (a
 * database written before owners: the caller decides).  -ENOENT. */
int eng_perm_get(struct eng *e, const char *coll, const char *part,
		 struct store_perm *out);
/* Store perm (set is taken as 1) as the owner, group and mode of coll
 * (part NULL) or part.  The caller checks who may.  -ENOENT, -ENOSPC. */
int eng_perm_set(struct eng *e, const char *coll, const char *part,
		 const struct store_perm *perm, struct mfs_err *err);

/* ---- entities ---- */

/* Records to insert, borrowed: for record i, has_id[i] ? ids[i] : auto id,
 * vector at vecs + i*vec_bytes(vtype, dim); line[i] numbers it in messages
 * (line may be NULL: records are then numbered from 1). */
struct eng_rows {
	size_t n;
	enum vec_type vtype;
	uint32_t dim;
	const uint8_t *has_id;          /* NULL = all auto */
	const int64_t *ids;             /* NULL when has_id is NULL */
	const void *vecs;
	const size_t *line;
	/* Scalar fields: record i's row (field.h) is rows[row_end[i-1],
	 * row_end[i]), well formed for the schema of fields (checked:
	 * -EINVAL otherwise, or when the collection's schema changed since).
	 * row_end NULL: no fields given; each record then gets the defaults
	 * (-EINVAL naming the field when one has none and is not
	 * nullable). */
	const uint8_t *rows;
	const size_t *row_end;
	const struct eng_fields *fields;        /* the schema rows follow */
	/* The partition each record names ("partition" in a JSON line), or
	 * NULL; the array NULL when none does.  At the collection level a
	 * record goes to the partition it names (-ENOENT if there is none),
	 * else to _default; written to a partition, a record may only name
	 * that one (-EINVAL); with a partition key, none may (-EINVAL). */
	const char *const *parts;
};

/* Insert into coll/part (part NULL = _default) in one transaction.  When
 * the collection's dim is 0 it becomes rows->dim.  Auto ids are assigned
 * increasing; a user id at or above the counter moves the counter past it.
 * first_id (may be NULL) gets the first auto id given.
 * -ENOENT, -EINVAL (dim or type mismatch), -EEXIST (id exists), -ENOSPC. */
int eng_insert(struct eng *e, const char *coll, const char *part,
	       const struct eng_rows *rows, int64_t *first_id,
	       struct mfs_err *err);
/* Upsert (SPEC §8): as eng_insert, but every record needs an id (-EINVAL
 * naming the line otherwise, and for an id twice in rows), and an id that
 * exists anywhere in the collection is replaced: deleted and inserted into
 * part (NULL: _default, or by partition key) in the same transaction.
 * *nnew (may be NULL) gets the number of ids that were new. */
int eng_upsert(struct eng *e, const char *coll, const char *part,
	       const struct eng_rows *rows, size_t *nnew,
	       struct mfs_err *err);
/* Delete ids from coll (part NULL = any partition; else only ids in part).
 * Unknown ids are ignored.  *ndeleted may be NULL. */
int eng_delete(struct eng *e, const char *coll, const char *part,
	       const int64_t *ids, size_t n, size_t *ndeleted,
	       struct mfs_err *err);
/* Live entities in coll (part NULL) or part; exact. */
int eng_count(struct eng *e, const char *coll, const char *part,
	      uint64_t *out, struct mfs_err *err);
/* The exact length of part's `ids` listing (SPEC §2): every id in
 * decimal and a newline, in one read transaction (a walk of the
 * partition's keys, as for stats).  -EINVAL without part, -ENOENT */
int eng_ids_size(struct eng *e, const char *coll, const char *part,
		 uint64_t *out, struct mfs_err *err);
/* Entity id: its vector (vec_bytes(schema) bytes copied to vec, may be
 * NULL) and the name of its partition (part, STORE_NAME_MAX+1 bytes, may
 * be NULL).  -ENOENT */
int eng_entity_get(struct eng *e, const char *coll, int64_t id, void *vec,
		   char *part, struct mfs_err *err);
/* The same with the entity's row of fields: an owned copy in *row,
 * *row_len (valid for the schema *fields, referenced: eng_fields_put). */
int eng_entity_get_row(struct eng *e, const char *coll, int64_t id,
		       void *vec, char *part, void **row, size_t *row_len,
		       struct eng_fields **fields, struct mfs_err *err);

/* A position in a walk over a collection or partition, in partition
 * creation order and, within one, insertion order.  Zero it to start. */
struct eng_cursor {
	uint32_t pid;
	uint64_t seq;
	bool done;
};
/* Call cb for up to max entities from *cur on, advancing *cur; vec is
 * borrowed for the call.  Sets cur->done at the end.  A non-zero cb result
 * stops the walk and is returned (the entity is not consumed). */
int eng_scan(struct eng *e, const char *coll, const char *part,
	     struct eng_cursor *cur, size_t max,
	     int (*cb)(void *arg, int64_t id, const void *vec),
	     void *arg, struct mfs_err *err);
/* eng_scan with each entity's row of fields (row, row_len borrowed for
 * the call, valid for the schema eng_fields_get gives: a schema change
 * needs the collection released and rewrites no row) and its partition's
 * name. */
int eng_scan_rows(struct eng *e, const char *coll, const char *part,
		  struct eng_cursor *cur, size_t max,
		  int (*cb)(void *arg, int64_t id, const void *vec,
			    const void *row, size_t row_len,
			    const char *part),
		  void *arg, struct mfs_err *err);

/* ---- load and release ---- */

enum eng_state { ENG_NOTLOAD = 0, ENG_LOADING, ENG_LOADED };
/* "NotLoad", "Loading", "Loaded" (Milvus's words); a static string. */
const char *eng_state_name(enum eng_state s);

/* Load every partition of coll (part NULL) or one; returns when loaded.
 * replica_number must be 1 (else -EINVAL as Milvus standalone).  Loading
 * what is loaded succeeds.  -ENOMEM past memory_limit (message names the
 * sizes), -ENOENT. */
int eng_load(struct eng *e, const char *coll, const char *part,
	     unsigned replica_number, struct mfs_err *err);
/* Release every partition of coll (part NULL) or one: what was inserted
 * since the stored index is folded into it first (SPEC §11), then the
 * index and columns are dropped once the searches holding the partition
 * end (part->ilock), the memory is given back and the released state is
 * stored (not with read_only).  Releasing what is not loaded succeeds.
 * -ENOENT, -ENOMEM, -ENOSPC (the state could not be stored: the
 * partition is released all the same). */
int eng_release(struct eng *e, const char *coll, const char *part,
		struct mfs_err *err);
/* State of a partition, or of a collection (SPEC §5 rule), and its load
 * progress 0-100 (100 when loaded, 0 when not loaded). */
int eng_state(struct eng *e, const char *coll, const char *part,
	      enum eng_state *state, unsigned *progress, struct mfs_err *err);

/* ---- index ---- */

/* Build the index described by params ("index_type" plus the type's
 * parameters; index_type FLAT drops the index) over every partition, store
 * it, and swap it into loaded partitions when complete.  wait = false
 * returns once the build has started (O_NONBLOCK writers).  A failed build
 * leaves the previous index in place.  -EINVAL, -EBUSY (a build runs). */
int eng_index_set(struct eng *e, const char *coll, const struct mfs_kv *params,
		  bool wait, struct mfs_err *err);
/* The index as `cat index` shows it: index_type, metric_type, the
 * parameters, state (Finished | InProgress | Failed) and progress (0-100);
 * for FLAT: index_type=FLAT, metric_type, state=Finished, progress=100.
 * While a build runs it shows the parameters being built; after a failed
 * build, the index still in use with state=Failed and fail_reason=<why>.
 * eng_index_set ignores state, progress and fail_reason keys, so what this
 * shows can be written back. */
int eng_index_get(struct eng *e, const char *coll, struct mfs_kv *out,
		  struct mfs_err *err);

/* Scalar index on field (SPEC §5: `field=NAME index_type=TYPE`):
 * STL_SORT, INVERTED, BITMAP, TRIE, AUTOINDEX (fld_sidx_check), or NONE
 * to drop it.  Built at once in loaded partitions, at load in the others;
 * the declaration persists.  -ENOENT, -EINVAL ("field x not exist", a type
 * that does not suit the field). */
int eng_sindex_set(struct eng *e, const char *coll, const char *field,
		   const char *type, struct mfs_err *err);
/* The scalar indexes of coll: fields->name[i] has index types->name[i],
 * both owned (eng_names_free), in field order.  -ENOENT, -ENOMEM. */
int eng_sindex_list(struct eng *e, const char *coll, struct eng_names *fields,
		    struct eng_names *types, struct mfs_err *err);

/* ---- statistics and compaction (SPEC §11) ---- */

/* What `stats` shows, for a partition or (summed) a collection. */
struct eng_stats {
	uint64_t entities;              /* live */
	uint64_t deleted_pending;       /* deleted or replaced since the last
					 * compaction or index build */
	uint64_t inserted_since_index;  /* live entities the stored index
					 * does not hold (0 for FLAT) */
	uint64_t memory_bytes;          /* held by the loaded partitions:
					 * index and field columns */
	uint64_t index_bytes;           /* the stored index (blobs) */
	uint64_t disk_bytes;            /* entities, id map and blobs in the
					 * database (keys and values) */
	uint64_t loaded_past_index;     /* added by the last loads past the
					 * stored index */
	char index_type[32];
	enum eng_state state;
};
/* Statistics of coll (part NULL) or part.  Reads the store (one read txn
 * per partition, a walk of its keys).  -ENOENT, -EIO. */
int eng_stats(struct eng *e, const char *coll, const char *part,
	      struct eng_stats *out, struct mfs_err *err);

/* A compaction run and its figures (`cat compact`). */
struct eng_compact_info {
	bool running;
	unsigned progress;              /* 0-100 */
	uint64_t runs;                  /* finished since the mount */
	bool last_auto;                 /* the last run was automatic */
	uint64_t last_partitions;       /* partitions compacted */
	uint64_t last_removed;          /* deleted entities that left */
	uint64_t last_memory_before, last_memory_after;
	uint64_t last_index_before, last_index_after;
	uint64_t last_ms;               /* duration */
	char last_error[512];           /* "" when it succeeded */
};
/* Compact the partitions of coll that hold deleted entities (SPEC §11):
 * each index is rebuilt aside from the live entities, stored (blob and
 * index_seq) and swapped into a loaded partition atomically; searches,
 * inserts and deletes go on meanwhile.  wait = false returns once it has
 * started.  A compaction already running is waited for first.
 * -ENOENT, -EBUSY (an index build runs), -ENOMEM, -EIO. */
int eng_compact(struct eng *e, const char *coll, bool wait,
		struct mfs_err *err);
/* The running or last compaction of coll, copied into *out under the
 * collection's build mutex (progress 100 when none runs).  -ENOENT. */
int eng_compact_get(struct eng *e, const char *coll,
		    struct eng_compact_info *out, struct mfs_err *err);

/* ---- search ---- */

struct eng_query {
	size_t k;                       /* 1..MFS_TOPK_MAX */
	size_t offset;                  /* hits skipped; k + offset <= K_MAX */
	const char *const *parts;       /* restrict a collection search */
	size_t nparts;                  /* 0 = every loaded partition */
	size_t nq;                      /* query vectors at vecs */
	const void *vecs;               /* nq * vec_bytes; unused if by_id */
	bool by_id;                     /* search with entity id's vector */
	int64_t id;
	const struct mfs_kv *params;    /* search params (base/sparam.h: ef,
					 * nprobe, radius, range_filter,
					 * group_by_field, group_size,
					 * strict_group_size, metric_type;
					 * the caller's keys are ignored) */
	uint32_t dim;                   /* dim of the vectors at vecs, checked
					 * against the schema; 0 = unchecked
					 * (vecs must then hold schema dim) */
	const struct fld_expr *filter;  /* SPEC §10: only matching entities;
					 * NULL: all.  Parsed for the schema
					 * of an eng_fields the caller holds */
	bool rows;                      /* keep each hit's row of fields for
					 * eng_result_rows (output_fields) */
};

/* Results: for query i, count[i] hits at ids[i*k], dist[i*k] (k as
 * asked), best first, distances as Milvus reports them (vec.h). */
struct eng_result {
	size_t nq, k;                   /* k: the stride (k * group_size when
					 * grouping: SPEC §10, the hits of k
					 * groups, group after group) */
	size_t *count;
	int64_t *ids;
	float *dist;
	struct eng_hitrows *rows;       /* q->rows: where each hit's fields
					 * are (private; eng_result_rows) */
};
/* Free what eng_search or eng_search_run put in *r (not r itself) and
 * zero it; NULL or a zeroed result allowed. */
void eng_result_free(struct eng_result *r);
/* For each hit of a result searched with q->rows, in order (query i, hit
 * j): cb(arg, i, j, cols, row) with the hit's row of fields, cols NULL
 * when the entity was deleted since the search.  cb runs under the
 * columns' lock: it must not call the engine.  A non-zero cb result
 * stops and is returned. */
int eng_result_rows(const struct eng_result *r,
		    int (*cb)(void *arg, size_t i, size_t j,
			      const struct fld_cols *cols, size_t row),
		    void *arg);

/* Search coll (part NULL = the collection's loaded partitions, or
 * q->parts) or one partition.  Owned *out.  -ENOENT, -EINVAL (dim, k,
 * params), -ENODATA (nothing loaded, or a named partition not loaded),
 * -EAGAIN (still loading). */
int eng_search(struct eng *e, const char *coll, const char *part,
	       const struct eng_query *q, struct eng_result *out,
	       struct mfs_err *err);

/* eng_search in three steps, so that a caller can answer before the
 * search has run.  eng_search_start makes every check eng_search makes
 * (the index's parameter check among them) and takes what the search
 * needs: references to the partitions, its memory charge, an id's vector.
 * q and what it points to must stay valid until eng_search_end.
 * eng_search_run can then fail only for what changed since the start: a
 * partition released (-ENODATA), an index swapped for one that refuses
 * the parameters (-EINVAL), or -ENOMEM.  eng_search_end (NULL allowed)
 * gives everything back. */
struct eng_search_job;
int eng_search_start(struct eng *e, const char *coll, const char *part,
		     const struct eng_query *q, struct eng_search_job **out,
		     struct mfs_err *err);
int eng_search_run(struct eng_search_job *j, struct eng_result *out,
		   struct mfs_err *err);
void eng_search_end(struct eng_search_job *j);

/* ---- scalar queries (SPEC §9) ---- */

struct eng_fquery {
	const struct fld_expr *filter;  /* NULL: every entity; parsed for the
					 * schema of an eng_fields the caller
					 * holds */
	const char *const *parts;       /* restrict a collection query */
	size_t nparts;                  /* 0 = every loaded partition */
	uint64_t offset;
	uint64_t limit;                 /* 0 = every match */
	bool count;                     /* count(*): only the number */
	bool vectors;                   /* rows carry their vectors */
};

/* One match, borrowed for the callback. */
struct eng_fq_row {
	int64_t id;
	const char *part;               /* partition name */
	const struct fld_cols *cols;    /* read fields with fld_cols_get /
					 * fld_cols_json */
	size_t row;
	const void *vec;                /* q->vectors: the vector (NULL if the
					 * entity was deleted since start) */
};

/* A running query: consistent as of eng_fq_start (rows inserted or
 * deleted later are not seen), matches in ascending id order, streamed
 * with memory bounded by what eng_fq_next is asked for (and, when an
 * index selects the rows, 4 bytes per match). */
struct eng_fq;
/* Check and start.  -ENOENT, -EINVAL (partitions), -ENODATA (nothing
 * loaded, a named partition not loaded), -EAGAIN (loading), -ENOMEM.
 * q->filter must stay valid until eng_fq_end. */
int eng_fq_start(struct eng *e, const char *coll, const char *part,
		 const struct eng_fquery *q, struct eng_fq **out,
		 struct mfs_err *err);
/* count(*): the number of matches (after offset and limit), known at
 * eng_fq_start.  No lock, no failure. */
uint64_t eng_fq_count(const struct eng_fq *j);
/* Call cb for up to max next matches (fewer only at the end); *given gets
 * how many (0: the end).  cb runs under the partition's column lock: it
 * must not call the engine.  A non-zero cb result stops and is
 * returned. */
int eng_fq_next(struct eng_fq *j, size_t max,
		int (*cb)(void *arg, const struct eng_fq_row *r), void *arg,
		size_t *given, struct mfs_err *err);
/* Drop what eng_fq_start took (references to the collection, its
 * fields, the partitions and their columns) and free j; NULL allowed. */
void eng_fq_end(struct eng_fq *j);

/* Delete every entity of coll (part NULL) or part that matches x, over
 * the loaded partitions (SPEC §8: -ENODATA when a partition is not
 * loaded).  *ndeleted may be NULL. */
int eng_delete_filter(struct eng *e, const char *coll, const char *part,
		      const struct fld_expr *x, size_t *ndeleted,
		      struct mfs_err *err);
/* The ids eng_delete_filter would delete, as of the call, in ascending
 * order: an owned array in *ids (n entries; NULL when none).  The same
 * errors. */
int eng_filter_ids(struct eng *e, const char *coll, const char *part,
		   const struct fld_expr *x, int64_t **ids, size_t *n,
		   struct mfs_err *err);

/* ---- memory the caller holds for its clients ---- */

/* Count bytes the caller holds for a client (an open file's query text or
 * search results) against memory_limit, with the loaded partitions:
 * -ENOMEM past it (nothing counted), err "<what> failed: memory not
 * enough: need N, limit L, in use U<hint>".  Thread-safe. */
int eng_mem_reserve(struct eng *e, uint64_t bytes, const char *what,
		    const char *hint, struct mfs_err *err);
/* Give back bytes that eng_mem_reserve counted. */
void eng_mem_unreserve(struct eng *e, uint64_t bytes);

/* ---- saved queries (part NULL = the collection's search/) ----
 * Kept as text (text borrowed, len bytes), not parsed: they are read when
 * run.  Each call is one store transaction; no engine lock is held across
 * it. */

/* Store or replace the query name of coll (part NULL) or part.  -ENOENT
 * (coll, part), -EINVAL (name longer than STORE_NAME_MAX), -ENOSPC. */
int eng_query_put(struct eng *e, const char *coll, const char *part,
		  const char *name, const void *text, size_t len,
		  struct mfs_err *err);
/* Owned NUL-terminated text in *text, its length in *len (may be NULL).
 * -ENOENT (coll, part or the query). */
int eng_query_get(struct eng *e, const char *coll, const char *part,
		  const char *name, char **text, size_t *len,
		  struct mfs_err *err);
/* -ENOENT (coll, part or the query), -ENOSPC. */
int eng_query_del(struct eng *e, const char *coll, const char *part,
		  const char *name, struct mfs_err *err);
/* Names of the saved queries, in name order: *out owned
 * (eng_names_free).  -ENOENT, -ENOMEM. */
int eng_query_list(struct eng *e, const char *coll, const char *part,
		   struct eng_names *out, struct mfs_err *err);

/* The same four for the saved scalar queries of query/ (SPEC §9), a
 * namespace of their own (stored under pid | ENG_QUERY_SCALAR), with the
 * same contracts. */
#define ENG_QUERY_SCALAR 0x80000000u
int eng_squery_put(struct eng *e, const char *coll, const char *part,
		   const char *name, const void *text, size_t len,
		   struct mfs_err *err);
int eng_squery_get(struct eng *e, const char *coll, const char *part,
		   const char *name, char **text, size_t *len,
		   struct mfs_err *err);
int eng_squery_del(struct eng *e, const char *coll, const char *part,
		   const char *name, struct mfs_err *err);
int eng_squery_list(struct eng *e, const char *coll, const char *part,
		    struct eng_names *out, struct mfs_err *err);

#endif
