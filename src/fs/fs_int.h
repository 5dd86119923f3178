/* fs_int.h - private to src/fs: the fs context, node kinds, open files.
 *
 * Locks: fs->errors.lock guards the /.errors ring; each struct fs_file has
 * its own lock (two threads may use one descriptor at once).  The fs never
 * holds one of its locks while calling into the engine except a file's
 * own lock, and the engine never calls back, so there is no lock order to
 * keep beyond "file lock, then errors lock".
 */
#ifndef MFS_FS_FS_INT_H
#define MFS_FS_FS_INT_H

#ifndef FUSE_USE_VERSION
#define FUSE_USE_VERSION 31
#endif

#include <fuse.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "base/buf.h"
#include "base/err.h"
#include "engine/engine.h"
#include "fmt/fmt.h"
#include "fs/fs.h"

/* ---- /.errors ---- */

struct fs_errors {
	pthread_mutex_t lock;
	char **line;                    /* lock: a ring of cap lines, owned */
	size_t cap;                     /* lock */
	size_t head;                    /* protected by lock: oldest */
	size_t n;                       /* protected by lock */
	unsigned readers;               /* lock: open /.errors descriptors;
					 * while there are, up to
					 * FS_ERRORS_HOLD lines are kept */
	struct timespec mtime;          /* lock: when the last line came */
	uint64_t total;                 /* lock: bytes ever added, '\n's
					 * included: an open /.errors reads
					 * a stream that only grows */
	uint64_t dropped;               /* lock: bytes of the lines dropped */
};

void fs_errors_init(struct fs_errors *r);
void fs_errors_fini(struct fs_errors *r);
/* Append a copy of line (without '\n'), dropping the oldest when full. */
void fs_errors_add(struct fs_errors *r, const char *line);
/* Append every line, oldest first, each with '\n'.  0, -ENOMEM. */
int fs_errors_dump(struct fs_errors *r, struct mfs_buf *out);
/* The lines kept from stream position from on (bytes since the mount; a
 * position in a line dropped since starts at the oldest line kept), and
 * in *start the position of the first byte appended.  0, -ENOMEM. */
int fs_errors_dump_from(struct fs_errors *r, uint64_t from,
			struct mfs_buf *out, uint64_t *start);
/* Stream position of the end (total) and of the oldest byte kept, and
 * when the last line came (mtime, may be NULL). */
void fs_errors_span(struct fs_errors *r, uint64_t *dropped, uint64_t *total,
		    struct timespec *mtime);
/* A descriptor of /.errors opened (+1) or closed (-1). */
void fs_errors_reader(struct fs_errors *r, int delta);

/* ---- saved queries kept parsed (qcache.c) ---- */

#define FS_QCACHE_BUCKETS 1024
#define FS_QCACHE_MAX 4096                      /* entries */
#define FS_QCACHE_BYTES ((size_t)64 << 20)      /* all entries */
#define FS_QCACHE_ENTRY_MAX ((size_t)16 << 20)  /* larger: not kept */

struct fs_qent;
struct fs_node;

struct fs_qcache {
	pthread_mutex_t lock;           /* a leaf lock; guards all below */
	uint64_t gen;                   /* advanced by every clear */
	struct fs_qent *bucket[FS_QCACHE_BUCKETS];
	struct fs_qent *head, *tail;    /* LRU order, most recent first */
	size_t n, bytes;
};

void fs_qcache_init(struct fs_qcache *c);
void fs_qcache_fini(struct fs_qcache *c);
/* Forget every entry: a saved query, a schema or a name may have changed.
 * Call it after the change is in the store. */
void fs_qcache_clear(struct fs_qcache *c);
/* The generation to pass to fs_qcache_add; read it before fetching the
 * query text from the store. */
uint64_t fs_qcache_gen(struct fs_qcache *c);
/* Is the query saved as name in n's collection/partition kept? */
bool fs_qcache_has(struct fs_qcache *c, const struct fs_node *n,
		   const char *name);
/* Look up the query saved as name in n's collection/partition, parsed for
 * q's vector type and dim (q as fmt_query_init left it).  On a hit q gets
 * the parameters and borrows the vectors, and the reference to give back
 * to fs_qcache_release is returned; NULL on a miss (q unchanged). */
struct fs_qent *fs_qcache_get(struct fs_qcache *c, const struct fs_node *n,
			      const char *name, struct fmt_query *q);
/* Keep parsed q as the query saved as name, parsed for (vtype, dim),
 * unless the cache was cleared since generation gen (or it is too large,
 * or memory is short).  When kept, q's vectors move into the cache, q
 * borrows them, and the reference is returned; else NULL, q unchanged. */
struct fs_qent *fs_qcache_add(struct fs_qcache *c, uint64_t gen,
			      const struct fs_node *n, const char *name,
			      enum vec_type vtype, uint32_t dim,
			      struct fmt_query *q);
/* Give back a reference from get or add (NULL: nothing); q stops
 * borrowing, so fmt_query_fini(q) frees only what is q's own. */
void fs_qcache_release(struct fs_qcache *c, struct fs_qent *e,
		       struct fmt_query *q);

/* ---- forgetting the names of inline queries (fs.c) ----
 *
 * libfuse's high-level node table keeps a node for every name the kernel
 * holds a dentry for, and the kernel keeps the dentry of every name
 * looked up (ENTRY_TIMEOUT_S does not make it drop them): each distinct
 * inline search/ or query/ name cost the daemon about 200 bytes for good.
 * So the release of such a name queues it, and one thread of the fs
 * (started at init, never a request handler) tells the kernel to forget
 * it (fuse_lowlevel_notify_inval_entry); the kernel then sends FORGET and
 * libfuse frees the node.  The notification waits for the kernel's lock
 * on the directory, which a LOOKUP being answered holds: at a stop,
 * fs_loop has the thread stop before it ends the session, while requests
 * are still answered (loop.c). */

/* Names waiting, at first.  The queue holds a name from its release
 * until the thread has told the kernel; when releases come faster than
 * the thread goes (a flood of stats on a busy machine: over 1,000 names
 * behind in tests/fs/memory.sh here) its ring doubles, without a fixed
 * limit, and shrinks back once drained.  A waiting name takes a ring slot
 * and one allocation of its three names packed (about 40 bytes for
 * "c/search/0.5,1,0,0&k=2"), less than the node libfuse keeps for it
 * meanwhile (about 200): the queue is bounded by what clients looked up
 * faster than the thread forgets, and by memory.  Only when memory is
 * short is a name dropped: counted, and logged once per burst (the
 * kernel keeps that name, and the daemon its node, until the unmount). */
#define FS_FORGET_QUEUE 256
/* The names of the last FS_FORGET_KEEP private sessions (a read-write
 * descriptor of a name without overrides that did not save) stay known:
 * a program that opens the same name for every search then costs one
 * OPEN, not a LOOKUP, a CREATE and a FORGET (bench/README.md, private
 * sessions).  The name a new one pushes out is forgotten. */
#define FS_FORGET_KEEP 8
/* A name only looked up (stat, test -e) is never released: the last
 * FS_FORGET_SEEN such names stay known, and the one a new one pushes out
 * is forgotten, unless a release has had it forgotten meanwhile (or keeps
 * it, above).  So a flood of stats of distinct names costs at most this
 * many nodes, and an open right after a stat still finds its name. */
#define FS_FORGET_SEEN 64

struct fs_forget_ent {
	bool squery;                    /* query/<name>, else search/ */
	bool gone;                      /* in seen: forgotten or kept
					 * since (a release) */
	char coll[STORE_NAME_MAX + 1];
	char part[STORE_NAME_MAX + 1];
	char name[STORE_NAME_MAX + 1];
};

struct fs_forget {
	pthread_mutex_t lock;           /* a leaf lock; guards all below */
	pthread_cond_t cv;              /* work, stop or done */
	char **q;                       /* a ring of cap names, each packed
					 * in one allocation (fs.c) */
	size_t cap, head, n;
	bool started;                   /* tid runs or ran, not joined */
	bool stop;                      /* take no more work */
	bool done;                      /* the thread has returned */
	uint64_t dropped;               /* names dropped (out of memory) */
	uint64_t dropped_told;          /* ... of them logged so far */
	time_t told_at;                 /* CLOCK_MONOTONIC s of that log */
	struct fs_forget_ent keep[FS_FORGET_KEEP];
	size_t nkeep, keep_next;        /* used; the next to push out */
	struct fs_forget_ent seen[FS_FORGET_SEEN];
	size_t nseen, seen_next;        /* used; the next to push out */
	pthread_t tid;
	struct fuse_session *se;        /* set at start */
};

/* ---- the context ---- */

struct fs {
	struct eng *eng;                /* borrowed */
	bool sync_fsync;
	bool check_perms;               /* other users reach the mount:
					 * the daemon checks (perm.c) */
	bool read_only;                 /* -o ro: changes fail with EROFS */
	char db_dir[PATH_MAX];
	uid_t uid;
	gid_t gid;
	struct timespec t0;             /* mount time: every node's times */
	struct fs_errors errors;
	struct fs_qcache qcache;
	pthread_mutex_t files_lock;     /* a leaf lock */
	struct fs_file *files;          /* protected by files_lock: every
					 * open file: the search/<name>
					 * writers (the name exists before
					 * their first close) and readers
					 * (their results' size is what a
					 * stat of the name reports) are
					 * found here, and those the kernel
					 * never releases (an unmount with
					 * requests queued) freed at exit */
	struct fs_dirhold *holds;       /* files_lock: collections and
					 * partitions open as directories
					 * (ops_dir.c: rm -r) */
	char mnt[PATH_MAX];             /* the mount point; fixed */
	struct fs_forget forget;        /* its own lock */
	struct fs_file *run_head;       /* files_lock (read unlocked with
					 * __atomic_load_n): the open files
					 * whose search is left to run after
					 * the reply, oldest first, linked by
					 * next_run (ops_file.c) */
	struct fs_file *run_tail;       /* files_lock */
	bool run_after;                 /* __atomic: the request loop runs
					 * them (it has called fs_deferred) */
};

/* Queue the name of node n (search/ or query/) for the kernel to forget
 * (see above).  Never blocks on the kernel. */
void fs_forget_name(struct fs *fs, const struct fs_node *n);
/* Keep the name of node n known (FS_FORGET_KEEP): queue the one it
 * pushes out, if any. */
void fs_forget_keep(struct fs *fs, const struct fs_node *n);
/* Note that the kernel looked up the name of node n (search/ or query/,
 * an existing one) without an open (FS_FORGET_SEEN): queue the name it
 * pushes out, if any. */
void fs_forget_seen(struct fs *fs, const struct fs_node *n);
/* Take no more names; the thread returns after the one it is at. */
void fs_forget_stop(struct fs *fs);
/* Wait up to ms for the thread to return; true while it runs. */
bool fs_forget_wait(struct fs *fs, unsigned ms);

/* The context of the running request. */
struct fs *fs_ctx(void);

/* ---- node kinds (the table lives in node.c) ---- */

enum fs_kind {
	K_ROOT = 0,
	K_ERRORS,
	K_COLL,
	K_PART,
	K_SCHEMA,
	K_INDEX,
	K_LOAD,
	K_RELEASE,
	K_STATE,
	K_COUNT,
	K_PARTITIONS,
	K_VECTORS,
	K_FVECS,
	K_DELETE,
	K_IDS,
	K_ENTDIR,
	K_ENTITY,
	K_SEARCHDIR,
	K_QUERY,
	K_ENTJSONL,
	K_UPSERT,
	K_QDIR,
	K_SQUERY,
	K_BACKUPDIR,            /* /.backup */
	K_BACKUP,               /* /.backup/data.mdb (backup.c) */
	K_STATS,                /* stats (stats.c, SPEC §11) */
	K_COMPACT,              /* compact (stats.c, SPEC §11) */
	K_ALIAS,                /* /<alias>: a symlink (SPEC §12); name is
				 * the alias, coll empty */
	K_NKINDS
};

#define FS_AT_COLL 1u   /* a file of a collection directory */
#define FS_AT_PART 2u   /* a file of a partition directory */

struct fs_kind_info {
	const char *name;       /* control name, NULL for the others */
	mode_t mode;            /* S_IFDIR|0755, S_IFREG|0444/0200/0644 */
	unsigned where;         /* FS_AT_* for control names */
};

extern const struct fs_kind_info fs_kinds[K_NKINDS];

struct fs_node {
	enum fs_kind kind;
	char coll[STORE_NAME_MAX + 1];
	char part[STORE_NAME_MAX + 1];  /* "" at collection level */
	char name[STORE_NAME_MAX + 1];  /* query name, entity id text */
	int64_t id;                     /* K_ENTITY */
};

/* The partition argument for the engine: NULL at collection level. */
static inline const char *fs_node_part(const struct fs_node *n)
{
	return n->part[0] ? n->part : NULL;
}

/* Resolve path to a node: the collection and partition must exist; an
 * entity or query name is taken as it is (see fs_node_exists).  -ENOENT,
 * -ENAMETOOLONG. */
int fs_resolve(struct fs *fs, const char *path, struct fs_node *out);
/* Does the node exist (entity present, query name meaningful)? */
bool fs_node_exists(struct fs *fs, const struct fs_node *n);
/* Mode of a node (type and permission bits). */
mode_t fs_node_mode(const struct fs_node *n);
/* Fill st for a node. */
void fs_node_stat(struct fs *fs, const struct fs_node *n, struct stat *st);

/* ---- owners and permission checks (perm.c, SPEC §12) ---- */

struct fs_owner {
	uid_t uid;
	gid_t gid;
	mode_t mode;                    /* permission bits only */
};

/* The owner, group and permission bits of node n: its own for a
 * collection or partition, its directory's (cut to its kind) for the
 * rest, the daemon's user for / and /.errors. */
void fs_node_owner(struct fs *fs, const struct fs_node *n, struct fs_owner *o);
/* May the caller of the running request reach n (x on the collection and
 * partition above it)?  0 or -EACCES (err says why).  Always 0 unless
 * fs->check_perms. */
int fs_perm_reach(struct fs *fs, const struct fs_node *n,
		  struct mfs_err *err);
/* fs_perm_reach, then want (R_OK, W_OK, X_OK) on n's directory (n itself
 * for a collection or partition).  0 or -EACCES. */
int fs_perm_check(struct fs *fs, const struct fs_node *n, int want,
		  struct mfs_err *err);
/* access(2) of n for the caller: 0 or -EACCES (checked whatever
 * fs->check_perms says: it answers what the caller asked). */
int fs_perm_access(struct fs *fs, const struct fs_node *n, int mask);
/* chmod and chown of a collection or partition (POSIX rules; -1 keeps
 * the owner or group), stored.  -EPERM (another node, or the caller may
 * not), -EACCES, -ENOENT, -ENOSPC. */
int fs_perm_chmod(struct fs *fs, const struct fs_node *n, mode_t mode,
		  struct mfs_err *err);
int fs_perm_chown(struct fs *fs, const struct fs_node *n, uid_t uid,
		  gid_t gid, struct mfs_err *err);

/* ---- open files ---- */

struct fs_file {
	pthread_mutex_t lock;           /* guards everything below */
	struct fs_node node;
	int flags;                      /* open(2) flags */
	bool dirty;                     /* written since the last flush */

	/* read side: out holds bytes [out_off, out_off + out.len) */
	struct mfs_buf out;
	uint64_t out_off;
	bool out_ready;                 /* out holds the whole content */
	struct eng_cursor cur;          /* streamed kinds: the scan position */
	struct eng_schema schema;       /* streamed kinds: at scan start */

	/* write side (vectors, vectors.fvecs, delete) */
	struct mfs_buf pend;            /* bytes not yet parsed */
	size_t line0;                   /* number of the first pending line */
	struct fmt_batch batch;
	bool batch_ready;

	/* query/<name>: the running query, streamed into out */
	struct fs_squery *squery;
	struct eng_fields *wfields;     /* entity writes: the schema parsed
					 * with (a reference) */
	struct fld_schema *wschema;     /* schema writes: the field= lines
					 * this descriptor wrote so far (a
					 * shell writes a line per write) */

	/* search/<name> */
	struct fs_search *search;       /* read-only: started at open, run
					 * after the reply (fs_run_deferred) */
	bool pending;                   /* search not run yet: out, qerr and
					 * qsize are the runner's */
	pthread_cond_t ran;             /* pending became false */
	struct mfs_err qerr;            /* how the deferred run failed */
	bool queued;                    /* on fs->run_head's list, not
					 * taken yet; fs->files_lock */
	struct fs_file *next_run;       /* fs->files_lock */
	struct mfs_buf qtext;           /* text this descriptor wrote */
	bool qready;                    /* a writer: out holds the results
					 * of qtext, run after the write
					 * that ended it (query_eager) */
	bool qran;                      /* a read came since the last write
					 * (a writer; read-only: set at
					 * open): out or qerr answer qtext */
	uint64_t qbase;                 /* offset of the first result read */
	bool qwriter;                   /* opened for writing; fixed */
	bool qwrote;                    /* a write came (even a failed one) */
	bool qtrunc;                    /* created or truncated: a close
					 * with nothing written saves an
					 * empty query under a new name */
	bool qempty;                    /* this descriptor saved that empty
					 * query: a failed save of its text
					 * later takes it away again */
	int qfailed;                    /* -errno of a failed write of the
					 * text: close saves nothing and
					 * says so (SPEC §7) */
	bool ereader;                   /* /.errors: counted in readers */
	uint64_t ebase;                 /* /.errors: stream position of
					 * offset 0 (the oldest line kept at
					 * open) */
	uint64_t charged;               /* bytes of qtext and out counted
					 * in memory_limit */
	uint64_t qsize;                 /* read-only: length of its results,
					 * 0 until they are made;
					 * fs->files_lock */
	struct fs_file *prev_file, *next_file;  /* fs->files_lock */

	/* /.backup/data.mdb: the copy made at open (backup.c) */
	int backup_fd;                  /* -1 when none; owned */
	uint64_t backup_size;           /* its length; fixed once made */
};

/* Free open file f (taking it off every list); NULL allowed.  Waits
 * until a pending search taken by a worker has run (one not taken yet is
 * dropped). */
void fs_file_free(struct fs *fs, struct fs_file *f);

/* A read-only open of search/<name> answers when the query has been
 * checked, and the search runs right after the answer while the client
 * takes it and sends its next request (fstat, read); so does the search
 * of a query a read-write descriptor has just written (SPEC §6 form 3).
 * The file then waits on fs->run_head's list; a worker of fs_loop, after
 * each request, asks fs_deferred whether one waits and runs the oldest
 * (fs_run_deferred); a read of the file that finds it still waiting runs
 * it itself.  Nothing is left to run unless fs_deferred has been called
 * (-s, loop_single: the search runs in the request).  fs_deferred and
 * fs_run_deferred take the fs of the calling thread's last request
 * (fs_ctx): call them after a request. */
bool fs_deferred(void);
void fs_run_deferred(void);

/* Is search/<name> of n open by a writer (search.c)? */
bool fs_query_writing(struct fs *fs, const struct fs_node *n);
/* The results' length of a read-only descriptor open on search/<name> of
 * n, in *size; false when there is none. */
bool fs_query_open_size(struct fs *fs, const struct fs_node *n,
			uint64_t *size);

/* -o ro (SPEC §13): returns -EROFS with a message saying that what (an
 * operation, a file) would change the database. */
int fs_ro_refuse(const char *what, struct mfs_err *err);

/* backup.c: /.backup/data.mdb (SPEC §13) */
/* May the caller read the backup (the whole database)?  Root and the
 * daemon's user only.  0 or -EACCES (err says why). */
int fs_backup_allowed(struct fs *fs, struct mfs_err *err);
/* Make f's copy: a compacted copy of the whole database as of now, in an
 * unlinked file of the database directory (f->backup_fd, backup_size).
 * -EACCES, -ENOSPC, -EIO, -ENOMEM. */
int fs_backup_open(struct fs *fs, struct fs_file *f, struct mfs_err *err);
/* Serve [off, off+size) of f's copy into buf; *got bytes.  -EIO. */
int fs_backup_read(struct fs_file *f, char *buf, size_t size, uint64_t off,
		   size_t *got, struct mfs_err *err);
/* Close f's copy (none: nothing). */
void fs_backup_close(struct fs_file *f);
/* The length of the newest copy a descriptor holds, for a stat of the
 * path; false when none is open. */
bool fs_backup_open_size(struct fs *fs, uint64_t *size);

/* ops_file.c */
/* Is a read of kind k's content made whole at open (fs_ctl_generate)? */
bool fs_is_generated(enum fs_kind k);
/* SPEC §13: st_size of node n, exact where cheap (generated files and
 * vectors.fvecs), 0 for the rest; f: n's open file, NULL for a path. */
void fs_node_size(struct fs *fs, const struct fs_node *n,
		  struct fs_file *f, struct stat *st);
int fs_op_open(const char *path, struct fuse_file_info *fi);
int fs_op_create(const char *path, mode_t mode, struct fuse_file_info *fi);
int fs_op_read(const char *path, char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi);
int fs_op_write(const char *path, const char *buf, size_t size, off_t off,
		struct fuse_file_info *fi);
int fs_op_flush(const char *path, struct fuse_file_info *fi);
int fs_op_release(const char *path, struct fuse_file_info *fi);
int fs_op_fsync(const char *path, int datasync, struct fuse_file_info *fi);

/* ops_dir.c */
int fs_op_getattr(const char *path, struct stat *st,
		  struct fuse_file_info *fi);
/* A collection or partition open as a directory, by pid: a process that
 * unlinks inside what it holds open is removing it whole (rm -r), which
 * then drops it when released or changes nothing (SPEC §13). */
struct fs_dirhold {
	pid_t pid;
	bool is_part;
	char coll[STORE_NAME_MAX + 1];
	char part[STORE_NAME_MAX + 1];
	struct fs_dirhold *prev, *next;         /* fs->files_lock */
};
int fs_op_opendir(const char *path, struct fuse_file_info *fi);
int fs_op_readlink(const char *path, char *buf, size_t size);
int fs_op_releasedir(const char *path, struct fuse_file_info *fi);
void fs_holds_free(struct fs *fs);
int fs_op_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		  off_t off, struct fuse_file_info *fi,
		  enum fuse_readdir_flags flags);
int fs_op_mkdir(const char *path, mode_t mode);
int fs_op_rmdir(const char *path);
int fs_op_unlink(const char *path);
int fs_op_rename(const char *from, const char *to, unsigned int flags);
int fs_op_access(const char *path, int mask);
int fs_op_truncate(const char *path, off_t size, struct fuse_file_info *fi);
int fs_op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi);
int fs_op_chown(const char *path, uid_t uid, gid_t gid,
		struct fuse_file_info *fi);
int fs_op_utimens(const char *path, const struct timespec tv[2],
		  struct fuse_file_info *fi);
int fs_op_mknod(const char *path, mode_t mode, dev_t dev);
int fs_op_symlink(const char *target, const char *path);
int fs_op_link(const char *from, const char *to);

/* ctl.c: contents of generated files, actions of written control files */
/* Generate the whole content of a static kind into out.  0 or -errno. */
/* stats.c: `cat stats`, `cat compact`, `echo 1 > compact` (SPEC §11). */
int fs_stats_generate(struct fs *fs, const struct fs_node *n,
		      struct mfs_buf *out, struct mfs_err *err);
int fs_compact_generate(struct fs *fs, const struct fs_node *n,
			struct mfs_buf *out, struct mfs_err *err);
int fs_compact_write(struct fs *fs, const struct fs_node *n, int flags,
		     const char *buf, size_t size, struct mfs_err *err);

int fs_ctl_generate(struct fs *fs, const struct fs_node *n,
		    struct mfs_buf *out, struct mfs_err *err);
/* Act on one write(2) to load, release, schema or index.  acc: the
 * field= lines written before on this descriptor (schema; created on
 * first use, freed with fs_ctl_acc_free), so that a multi-line echo,
 * which a shell writes a line at a time, declares every field. */
int fs_ctl_write(struct fs *fs, const struct fs_node *n, int flags,
		 const char *buf, size_t size, struct fld_schema **acc,
		 struct mfs_err *err);
void fs_ctl_acc_free(struct fld_schema *acc);

/* stream.c: vectors, vectors.fvecs, ids, delete */
/* A streamed read keeps a window of its output: f->out holds the bytes
 * from stream offset f->out_off on.  Drop those before off (a reader
 * never goes back without a restart); copy what the window holds of
 * [off, off + size) into buf and return how many bytes. */
void fs_window_advance(struct fs_file *f, uint64_t off);
size_t fs_window_copy(const struct fs_file *f, uint64_t off, char *buf,
		      size_t size);
/* Serve [off, off+size) of a streamed read, scanning as it advances. */
int fs_stream_read(struct fs *fs, struct fs_file *f, char *buf, size_t size,
		   uint64_t off, size_t *got, struct mfs_err *err);
/* Take one write(2) (final = false) or the close (final = true). */
int fs_stream_write(struct fs *fs, struct fs_file *f, const char *buf,
		    size_t size, bool final, struct mfs_err *err);

/* search.c */
/* Does search/<name> exist for getattr (saved, based on a saved one, or
 * looking like an inline query)? */
bool fs_query_exists(struct fs *fs, const struct fs_node *n);
/* Run the query of node n (text = NULL: the saved or inline query the name
 * says; else text this descriptor wrote, with the name's overrides) and
 * put the results into out.  -ENOENT, -EINVAL, -ENODATA, -EAGAIN, ... */
int fs_query_run(struct fs *fs, const struct fs_node *n, const char *text,
		 size_t len, struct mfs_buf *out, struct mfs_err *err);
/* fs_query_run in two steps: fs_query_start makes every check (the
 * errors of fs_query_run but those of eng_search_run) into *out;
 * fs_query_finish runs it into out and frees it; fs_query_drop (NULL
 * allowed) frees it unrun. */
struct fs_search;
int fs_query_start(struct fs *fs, const struct fs_node *n, const char *text,
		   size_t len, struct fs_search **out, struct mfs_err *err);
int fs_query_finish(struct fs *fs, struct fs_search *s, struct mfs_buf *out,
		    struct mfs_err *err);
void fs_query_drop(struct fs *fs, struct fs_search *s);
/* Validate text for query n and save it (close of a writer). */
int fs_query_save(struct fs *fs, const struct fs_node *n, const char *text,
		  size_t len, struct mfs_err *err);

/* squery.c: query/<name> (SPEC §9) */
struct fs_squery;
/* Does query/<name> exist for getattr (saved, written, inline-looking, or
 * a bare word that parses as an expression)? */
bool fs_squery_exists(struct fs *fs, const struct fs_node *n);
/* Check and start the query of n (text NULL: the saved or inline query of
 * the name; else what a descriptor wrote, with the name's overrides).
 * count(*) answers at once into first.  -EINVAL, -ENOENT, -ENODATA,
 * -EAGAIN, -ENOMEM. */
int fs_squery_start(struct fs *fs, const struct fs_node *n, const char *text,
		    size_t len, struct fs_squery **out, struct mfs_buf *first,
		    struct mfs_err *err);
void fs_squery_free(struct fs_squery *q);
/* Serve [off, off+size) of f's query results (f->squery, f->out). */
int fs_squery_read(struct fs *fs, struct fs_file *f, char *buf, size_t size,
		   uint64_t off, size_t *got, struct mfs_err *err);
/* Validate text for query/<name> and save it (close of a writer). */
int fs_squery_save(struct fs *fs, const struct fs_node *n, const char *text,
		   size_t len, struct mfs_err *err);

#endif
