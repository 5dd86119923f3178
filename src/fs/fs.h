/* fs.h - the FUSE adaptor: milvusfs's file tree over the engine.
 *
 * The fs layer is thin: it maps a path to a node kind (a table, Plan 9
 * webfs style), keeps per-open buffers, parses what is written with fmt,
 * calls the engine, and returns -errno.  Every failing operation appends
 * one line to /.errors (and to the daemon's log).  See SPEC §2-§7.
 *
 * Use (main.c):
 *
 *     struct fuse_operations ops;
 *     fs_new(eng, &opts, &fs, &err);
 *     fs_fill_ops(&ops);
 *     fuse = fuse_new(&args, &ops, sizeof(ops), fs);  // fs: private data
 *     ... fuse_mount ... fs_signals_set() ...
 *     fs_loop(fs, fuse, FS_THREADS_MAX, spin_us) ...
 *     fs_signals_restore(); fuse_unmount(fuse); ... fuse_destroy(fuse);
 *     fs_free(fs);
 *
 * The caller compiles against FUSE_USE_VERSION FS_FUSE_USE_VERSION.
 */
#ifndef MFS_FS_FS_H
#define MFS_FS_FS_H

#include <stdbool.h>

#include "base/err.h"
#include "engine/engine.h"

#define FS_FUSE_USE_VERSION 31

/* Most recent /.errors lines kept (SPEC §7: at least 1,000). */
#define FS_ERRORS_MAX 1024
/* Lines kept at most while /.errors is open: tail -f sees a file that
 * only grows as long as no line it may not have read is dropped. */
#define FS_ERRORS_HOLD 65536

/* FUSE worker threads at most (as libfuse's default). */
#define FS_THREADS_MAX 10

struct fs;
struct fuse;
struct fuse_operations;

struct fs_opts {
	bool sync_fsync;        /* sync=fsync: fsync(2)/close(2) call eng_sync */
	const char *db_dir;     /* borrowed for fs_new only (statfs reports it) */
	bool check_perms;       /* the daemon checks owners and modes itself
				 * (allow_other, allow_root: SPEC §12) */
	bool read_only;         /* -o ro: every change fails with EROFS
				 * (loads, releases, searches serve) */
	const char *mountpoint; /* absolute; borrowed for fs_new only (the
				 * fs stats its own directories through it) */
};

/* Make the fs context over engine e (borrowed; must outlive the fs; may be
 * NULL until fs_set_engine, which must come before the mount serves).
 * Returns owned *out.  -ENOMEM. */
int fs_new(struct eng *e, const struct fs_opts *opts, struct fs **out,
	   struct mfs_err *err);
/* Set the engine of a context made with none (main.c makes the FUSE
 * session, which needs the context, before it starts the engine). */
void fs_set_engine(struct fs *fs, struct eng *e);
/* Free the context (no FUSE call may be running); NULL allowed. */
void fs_free(struct fs *fs);
/* Fill *ops (struct fuse_operations, zeroed first) with the fs callbacks.
 * The struct fs must be passed as fuse_new's private data. */
void fs_fill_ops(struct fuse_operations *ops);
/* Take SIGINT, SIGTERM and SIGHUP (those at their default) for fs_loop:
 * their handler only notes the stop, which fs_loop then makes; SIGPIPE is
 * ignored.  Call it with the stop signals blocked, before fs_loop; they
 * may be unblocked in the calling thread afterwards.  0 or -errno. */
int fs_signals_set(void);
/* Put the signals fs_signals_set took back to their default. */
void fs_signals_restore(void);
/* Serve fuse's requests on up to max_threads worker threads (at least 2;
 * 1: the calling thread alone, -s) until the session ends: unmount, or a
 * stop signal (fs_signals_set), after which the fs's own thread is
 * stopped first while requests are still answered (loop.c); the calling
 * thread only waits, so it is the one to take signals.  The worker that
 * answered a request reads the next one, looking for it for spin_us
 * microseconds before it sleeps (0: sleeps at once); a request that takes
 * over half a millisecond hands reading to another worker.  fs is fuse's
 * private data.  0 when the session ended, or -errno of a failed read or
 * thread start. */
#define FS_SPIN_US_DEFAULT 50
#define FS_SPIN_US_MAX 10000
int fs_loop(struct fs *fs, struct fuse *fuse, unsigned max_threads,
	    unsigned spin_us);

/* Append a failure line to /.errors and the log, as the FUSE operations do:
 * "2026-11-20T10:00:00Z pid=4242 op path ENAME: message".  pid is the
 * caller's (0 outside a FUSE request).  Returns code.  Thread-safe. */
int fs_fail(struct fs *fs, const char *op, const char *path, int code,
	    const struct mfs_err *err);
/* fs_fail as an eng_opts.report hook (arg: the struct fs), so that what
 * the engine fails at on its own (a reload at mount) reaches /.errors. */
void fs_report(void *arg, const char *op, const char *path, int code,
	       const struct mfs_err *err);

#endif
