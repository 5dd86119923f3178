/* env.c - the LMDB environment: open/close, the lock file, transactions,
 * map growth and the one LMDB-code-to-errno mapping.
 *
 * Design.  One environment opened MDB_NOTLS (transactions are not tied to
 * threads, so FUSE worker threads may each run readers) with the named
 * databases of store.h.  Every transaction holds st->grow_lock shared;
 * mdb_env_set_mapsize() requires that no transaction of the process is
 * alive, so growing takes the lock exclusive.  A writer that hits
 * MDB_MAP_FULL (in a put or at commit) aborts, drops its shared hold,
 * grows (doubling, unless another thread grew meanwhile) and runs the
 * callback again.  MDB_MAP_RESIZED (another process grew the map) adopts
 * the new size the same way.  Nobody waits for the exclusive side while
 * holding the shared side, so there is no deadlock; store_read and
 * store_write must not be nested in one thread (the lock prefers writers).
 *
 * Durability (SPEC §13: no crash of the daemon or the machine corrupts the
 * database or loses what fsync(2)/close(2) acknowledged).  LMDB commits by
 * writing the transaction's pages (copy-on-write: only pages that neither
 * of the two meta pages' snapshots uses), then one of the two meta pages.
 * Without sync_always the environment is MDB_NOMETASYNC: every commit
 * fdatasyncs its pages before writing its meta page, but does not sync the
 * meta page; the next commit's fdatasync, or store_sync()'s
 * mdb_env_sync(env, 1), does.  So a meta page on disk never points at
 * pages that are not, and a crash loses at most the transactions committed
 * since the last sync: the ones fsync/close had not acknowledged.
 * MDB_NOSYNC, which this file used before, syncs nothing at commit: after
 * a machine crash a meta page may reach the disk without the pages it
 * points at, and the database is corrupt (tests/crash shows it).
 * sync_always uses LMDB's default, a synced meta page at every commit.
 * store_sync skips the sync when nothing was committed since the last one.
 *
 * Disk full.  LMDB is copy-on-write: a delete or a drop writes new pages
 * before it frees old ones, so on a full file system nothing could be
 * deleted any more.  The store keeps a reserve file, <dir>/milvusfs.reserve,
 * of max(1 MiB, 1/128 of the data) allocated bytes.  Transactions that add
 * data (store_ent_insert, store_blob_put with data: store_txn_grows) never
 * release it: they fail with ENOSPC when the file system is full.  Any
 * other transaction (a delete, a drop, a rename, a load state) that fails
 * with ENOSPC empties the reserve file and runs again, using the space it
 * gave back.  While the reserve is not held, adding transactions are
 * refused unless LMDB's free pages (what deletes freed inside data.mdb)
 * hold as much as the reserve; after every commit the store tries to
 * allocate the reserve again.  So after a disk-full, deleting makes room
 * and inserts resume in the freed pages.
 *
 * Database directory (SPEC §12): created 0700, its files 0600.  The store
 * refuses a directory that is a symlink, that another user than the
 * daemon's effective uid (or root) owns, or that group or others may
 * write; then nobody else can plant a symlink or a hard link in it.  Its
 * files are opened with O_NOFOLLOW (LMDB's own opens follow, so data.mdb
 * and lock.mdb are first created or checked here) and must be regular
 * files with one link.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

#define DEFAULT_MAPSIZE (UINT64_C(1) << 30)
#define RESERVE_MIN (UINT64_C(1) << 20)        /* bytes */
#define RESERVE_SHARE 128                       /* of the data, at least */
#define FILE_MODE 0600
#define DIR_MODE 0700
#define MAX_READERS 512
#define READERS_FULL_TRIES 10000        /* x 1 ms */

const char *const store_db_names[DB_COUNT] = {
	[DB_META] = "meta", [DB_COLL] = "coll", [DB_PART] = "part",
	[DB_PINFO] = "pinfo", [DB_ENT] = "ent", [DB_IDMAP] = "idmap",
	[DB_BLOB] = "blob", [DB_QUERY] = "query", [DB_FIELDS] = "fields",
};

int store_mdb_errno(int rc, enum store_op op)
{
	switch (rc) {
	case 0: return 0;
	case MDB_NOTFOUND: return -ENOENT;
	case MDB_KEYEXIST: return -EEXIST;
	case MDB_MAP_FULL: return -ENOSPC;
	case MDB_READERS_FULL: return -EAGAIN;
	case MDB_MAP_RESIZED: return -EAGAIN;
	case MDB_TXN_FULL: return -E2BIG;
	case MDB_DBS_FULL: case MDB_TLS_FULL: case MDB_CURSOR_FULL:
	case MDB_PAGE_FULL: case MDB_BAD_RSLOT: case MDB_BAD_TXN:
	case MDB_BAD_VALSIZE: case MDB_BAD_DBI: case MDB_INCOMPATIBLE:
	case MDB_INVALID: case MDB_CORRUPTED: case MDB_PAGE_NOTFOUND:
	case MDB_PANIC: case MDB_VERSION_MISMATCH:
		return -EIO;
	case EIO:
		/* LMDB reports a short write as EIO: at commit that is the
		 * disk filling up. */
		return op == STORE_OP_COMMIT ? -ENOSPC : -EIO;
	case ENOSPC: case EDQUOT: case EFBIG: return -ENOSPC;
	default:
		if (rc > 0 && rc < 4096)
			return -rc;
		return -EIO;
	}
}

int store_txn_fail(struct store_txn *t, int rc)
{
	if (rc != 0 && rc != MDB_NOTFOUND && rc != MDB_KEYEXIST &&
	    t->mdb_rc == 0)
		t->mdb_rc = rc;
	return store_mdb_errno(rc, STORE_OP_DATA);
}

int store_name_len(const char *name)
{
	size_t len;

	if (!name)
		return -EINVAL;
	len = strnlen(name, STORE_NAME_MAX + 1);
	if (len == 0 || len > STORE_NAME_MAX)
		return -EINVAL;
	return (int)len;
}

/* ---- open / close ---- */

/* mkdir -p dir; messages name the component that failed. */
static int mkdir_p(const char *dir, struct mfs_err *err)
{
	char *path = strdup(dir);
	char *p;
	int rc = 0;

	if (!path)
		return mfs_errf(err, -ENOMEM, "database %s: out of memory", dir);
	for (p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		int last = p[strspn(p, "/")] == '\0';
		*p = '\0';
		/* SPEC §12: the database directory itself 0700 */
		if (mkdir(path, last ? DIR_MODE : 0755) != 0 &&
		    errno != EEXIST) {
			rc = mfs_errf(err, -errno,
				      "cannot create database directory %s: %s",
				      path, strerror(errno));
			goto out;
		}
		*p = c;
		if (c == '\0')
			break;
		while (p[1] == '/')
			p++;
	}
	struct stat sb;
	uid_t me = geteuid();
	if (lstat(dir, &sb) != 0) {
		rc = mfs_errf(err, -errno, "database directory %s: %s", dir,
			      strerror(errno));
	} else if (S_ISLNK(sb.st_mode)) {
		/* SPEC §12: its files are never reached through a symlink */
		rc = mfs_errf(err, -ELOOP,
			      "database %s: expected a directory, got a symbolic link (give the directory it points to)",
			      dir);
	} else if (!S_ISDIR(sb.st_mode)) {
		rc = mfs_errf(err, -ENOTDIR,
			      "database %s: expected a directory, got a file",
			      dir);
	} else if (sb.st_uid != me && sb.st_uid != 0) {
		rc = mfs_errf(err, -EPERM,
			      "database %s: expected a directory owned by uid %ld (the daemon's) or root, got one owned by uid %ld",
			      dir, (long)me, (long)sb.st_uid);
	} else if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
		rc = mfs_errf(err, -EPERM,
			      "database %s: expected a directory only its owner may write, got mode %04o (chmod go-w it)",
			      dir, (unsigned)(sb.st_mode & 07777));
	}
out:
	free(path);
	return rc;
}

/* Open (creating, mode 0600) <dir>/name without following a symlink; it
 * must be a regular file with one link, owned by us or root.  Returns the
 * descriptor or a negative errno with err set. */
static int open_file(struct store *st, const char *name, struct mfs_err *err)
{
	char path[PATH_MAX];
	struct stat sb;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", st->dir, name) >=
	    (int)sizeof(path))
		return mfs_errf(err, -ENAMETOOLONG, "database %s: path too long",
				st->dir);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, FILE_MODE);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			return mfs_errf(err, -ELOOP,
					"database %s: expected a regular file %s, got a symbolic link",
					st->dir, name);
		return mfs_errf(err, -e, "database %s: cannot open %s: %s",
				st->dir, name, strerror(e));
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_nlink != 1 ||
	    (sb.st_uid != geteuid() && sb.st_uid != 0)) {
		close(fd);
		return mfs_errf(err, -EPERM,
				"database %s: expected %s to be a regular file with one link, owned by the daemon's user",
				st->dir, name);
	}
	return fd;
}

/* A machine crash after store_open created data.mdb but before LMDB's
 * first meta pages reached the disk leaves a file LMDB refuses
 * (MDB_INVALID), although nothing in it was ever acknowledged: LMDB
 * writes its two meta pages when it creates the file and syncs them only
 * with the first commit, and the file system may have kept the file's
 * size without its bytes.  So a data.mdb of at most two pages, all
 * zeros, is a new database: it is emptied and LMDB starts it afresh.
 * Anything else LMDB refuses stays refused (nothing that ever held data
 * is wiped).  fd: data.mdb.  0 or negative errno with err set. */
static int never_synced(struct store *st, int fd, struct mfs_err *err)
{
	unsigned char buf[4096];
	struct stat sb;
	long page = sysconf(_SC_PAGESIZE);
	off_t off = 0;

	if (page < 4096)
		page = 4096;
	if (fstat(fd, &sb) != 0)
		return mfs_errf(err, -errno, "database %s: data.mdb: %s",
				st->dir, strerror(errno));
	if (sb.st_size == 0 || sb.st_size > 2 * (off_t)page)
		return 0;
	while (off < sb.st_size) {
		ssize_t n = pread(fd, buf, sizeof(buf), off);

		if (n < 0)
			return mfs_errf(err, -errno, "database %s: cannot read data.mdb: %s",
					st->dir, strerror(errno));
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i])
				return 0;
		off += n;
	}
	if (ftruncate(fd, 0) != 0 || fsync(fd) != 0)
		return mfs_errf(err, -errno, "database %s: cannot empty data.mdb: %s",
				st->dir, strerror(errno));
	mfs_log(MFS_LOG_INFO, "database %s: data.mdb of %lld bytes held only zeros (made just before a crash, never synced by LMDB): started as a new database",
		st->dir, (long long)sb.st_size);
	return 0;
}

static int lock_dir(struct store *st, struct mfs_err *err)
{
	char path[4096];
	char buf[32];
	int fd;

	snprintf(path, sizeof(path), "%s/milvusfs.lock", st->dir);
	fd = open_file(st, "milvusfs.lock", err);
	if (fd < 0)
		return fd;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		ssize_t n;

		if (e != EWOULDBLOCK) {
			close(fd);
			return mfs_errf(err, -e, "cannot lock %s: %s", path,
					strerror(e));
		}
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		close(fd);
		return mfs_errf(err, -EBUSY,
				"database %s is already in use by another milvusfs (pid %s)",
				st->dir, buf[0] ? buf : "?");
	}
	int len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)len, 0) != len)
		mfs_log(MFS_LOG_WARN, "cannot write pid into %s: %s", path,
			strerror(errno));
	st->lock_fd = fd;
	return 0;
}

static int env_error(struct store *st, int rc, const char *what,
		     struct mfs_err *err)
{
	int e = store_mdb_errno(rc, STORE_OP_OPEN);

	if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
		return mfs_errf(err, -EIO,
				"database %s: expected an LMDB environment, got an unreadable data.mdb (%s)",
				st->dir, mdb_strerror(rc));
	return mfs_errf(err, e, "database %s: %s: %s", st->dir, what,
			mdb_strerror(rc));
}

/* Open the named databases and check (or write) the layout version. */
static int open_dbs(struct store *st, struct mfs_err *err)
{
	MDB_txn *txn;
	MDB_val k, v;
	unsigned char b[4];
	int rc, i;

	rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (rc)
		return env_error(st, rc, "cannot begin the first transaction",
				 err);
	for (i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, store_db_names[i], MDB_CREATE, &st->dbi[i]);
		if (rc) {
			mdb_txn_abort(txn);
			if (rc == MDB_INCOMPATIBLE)
				return mfs_errf(err, -EIO,
						"database %s: expected a milvusfs database, got an LMDB environment with an incompatible database \"%s\"",
						st->dir, store_db_names[i]);
			return env_error(st, rc, "cannot open a database", err);
		}
	}
	k.mv_data = "version";
	k.mv_size = 7;
	struct store_txn vt = { .st = st, .txn = txn };
	rc = mdb_get(txn, st->dbi[DB_META], &k, &v);
	if (rc == MDB_NOTFOUND) {
		MDB_stat ms;
		uint64_t entries = 0;

		for (i = 0; i < DB_COUNT; i++) {
			if (mdb_stat(txn, st->dbi[i], &ms) == 0)
				entries += ms.ms_entries;
		}
		if (entries != 0) {
			mdb_txn_abort(txn);
			return mfs_errf(err, -EIO,
					"database %s: expected a milvusfs database, got data without a layout version",
					st->dir);
		}
		put_be32(b, STORE_LAYOUT_VERSION);
		v.mv_data = b;
		v.mv_size = 4;
		rc = store_put(&vt, DB_META, &k, &v, 0);
	} else if (rc == 0) {
		uint32_t ver = v.mv_size == 4 ? get_be32(v.mv_data) : 0;

		if (ver < STORE_LAYOUT_VERSION_MIN ||
		    ver > STORE_LAYOUT_VERSION) {
			mdb_txn_abort(txn);
			return mfs_errf(err, -EIO,
					"database %s: expected layout version %u, got %" PRIu32 " (written by another milvusfs version?)",
					st->dir, STORE_LAYOUT_VERSION, ver);
		}
		if (ver < STORE_LAYOUT_VERSION) {
			/* Layout 1 is layout 2 without scalar fields: an
			 * entity value ending after its vector has no fields,
			 * and the fields db (created above) is empty.  The
			 * migration is the new version number, which keeps
			 * an older milvusfs from reading rows it does not
			 * know. */
			put_be32(b, STORE_LAYOUT_VERSION);
			v.mv_data = b;
			v.mv_size = 4;
			rc = store_put(&vt, DB_META, &k, &v, 0);
		}
	}
	if (rc) {
		mdb_txn_abort(txn);
		return env_error(st, rc, "cannot read the layout version", err);
	}
	rc = mdb_txn_commit(txn);
	if (rc)
		return env_error(st, rc, "cannot write the layout version",
				 err);
	return 0;
}

static void refresh_mapsize(struct store *st)
{
	MDB_envinfo info;

	if (mdb_env_info(st->env, &info) == 0)
		st->mapsize_bytes = info.me_mapsize;
}

/* Create, configure and open st->env (mapsize bytes, st->env_flags) and
 * its databases.  On failure st->env is NULL. */
static int env_start(struct store *st, uint64_t mapsize, struct mfs_err *err)
{
	int rc;

	rc = mdb_env_create(&st->env);
	if (rc) {
		st->env = NULL;
		return env_error(st, rc, "cannot create the environment", err);
	}
	if ((rc = mdb_env_set_maxdbs(st->env, DB_COUNT)) ||
	    (rc = mdb_env_set_maxreaders(st->env, MAX_READERS)) ||
	    (rc = mdb_env_set_mapsize(st->env, (size_t)mapsize))) {
		rc = env_error(st, rc, "cannot configure the environment", err);
		goto fail;
	}
	rc = mdb_env_open(st->env, st->dir, st->env_flags, FILE_MODE);
	if (rc) {
		rc = env_error(st, rc, "cannot open the environment", err);
		goto fail;
	}
	rc = open_dbs(st, err);
	if (rc)
		goto fail;
	refresh_mapsize(st);
	return 0;
fail:
	mdb_env_close(st->env);
	st->env = NULL;
	return rc;
}

/* ---- disk full: the reserve file ---- */

/* Bytes of LMDB's free pages (the freelist, FREE_DBI), what deletes freed
 * inside data.mdb.  Runs its own read transaction: call it outside any
 * transaction of this thread, with grow_lock held shared. */
static uint64_t free_bytes(struct store *st)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_stat ms;
	uint64_t pages = 0;

	if (mdb_env_stat(st->env, &ms) != 0 ||
	    mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) != 0)
		return 0;
	if (mdb_cursor_open(txn, 0, &cur) == 0) {
		/* each record: txnid -> IDL, whose first word is its count */
		while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
			size_t n;
			if (v.mv_size < sizeof(n))
				continue;
			memcpy(&n, v.mv_data, sizeof(n));
			pages += n;
		}
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return pages * ms.ms_psize;
}

static void reserve_update(struct store *st);

/* ---- the file shrinks ---- */

/* LMDB never gives back what its file grew to: pages freed by deletes, by
 * blobs rewritten at compactions and checkpoints, by entities replaced,
 * stay in the file for later writes, and B-tree pages that lost entries
 * stay part-filled.  After long churn data.mdb was 2.4-3.4x the size of a
 * fresh database of the same entities (bench/README.md).  So a file whose
 * free pages are at least SHRINK_FREE_PCT of it (and at least
 * shrink_min_bytes: SHRINK_MIN_BYTES, or MFS_STORE_SHRINK_MIN_BYTES from
 * the environment, for tests) is rewritten: every database copied in key
 * order with MDB_APPEND (full pages, no free ones: denser than
 * mdb_env_copy2's MDB_CP_COMPACT, which keeps part-filled pages as they
 * are) into a new environment <dir>/data.mdb.shrink (created 0600,
 * O_EXCL, O_NOFOLLOW, no lock file), synced, then renamed over data.mdb,
 * the directory synced, and the environment opened again on the new file.
 *
 * When: at open, before anyone uses the environment; and while mounted,
 * when a commit leaves the free pages past the threshold (so after a
 * compaction, whose rewritten index blobs free the old ones).  The online
 * rewrite runs in a thread of its own (shrink_run), and holds writers off
 * only for two short steps:
 *
 *   1. under write_lock, a read transaction: the snapshot of the last
 *      commit; from then on every write of the store (store_put & co.,
 *      shrink.c) adds the key it touches to the rewrite's change set;
 *      write_lock is released.
 *   2. the copy of the snapshot into data.mdb.shrink (MDB_APPEND), and its
 *      sync, while writers go on committing into the old file.  The copy
 *      holds grow_lock shared (no remap under its snapshot); a writer that
 *      must grow the map meanwhile (grow_waiting) makes it give up rather
 *      than wait for its end, and so does store_close.  The long snapshot
 *      keeps LMDB from reusing the pages commits free meanwhile, so the
 *      old file may grow during the copy.
 *   3. under write_lock again: the change set replayed into the copy, each
 *      key given the value it has now in the old file or deleted (a
 *      dropped database copied whole again), the copy synced (only the
 *      replay's pages are left to write), then the swap, and write_lock
 *      released after the directory sync.
 *
 * So the copy ends as the last commit: the old file and the new one hold
 * the same data, every commit acknowledged before the swap is in both,
 * and a crash anywhere leaves one of them, complete; a commit that
 * fsync(2) acknowledges afterwards is in the file that a crash leaves
 * under the name data.mdb.  Writers wait for the replay, proportional to
 * the keys changed during the copy, not for the copy.  The change set
 * holds at most SHRINK_MAX_KEYS keys and SHRINK_MAX_BYTES of memory
 * (MFS_STORE_SHRINK_MAX_KEYS lowers it, for tests): past that, the
 * rewrite gives up for this time, logs why and is tried again after
 * SHRINK_RETRY_MS, as after a failure.  Readers go on in the old file
 * during the copy (a read transaction never writes data.mdb); the swap
 * takes grow_lock exclusive, waiting SHRINK_WAIT_MS at most for readers
 * to end; searches of loaded partitions do not touch the store.  (Only
 * for tests: with MFS_STORE_SHRINK_GATE=path in the environment, the copy
 * waits in its middle while path exists, so that a test can write during
 * it without relying on timing; store_shrink_now runs a rewrite with a
 * hook there.)
 *
 * A crash before the rename leaves the old file (the partial copy is
 * removed at the next open), after it the new one.  (Only to show that
 * tests/crash catches a rewrite that is not crash-safe: with
 * MFS_STORE_UNSAFE_SHRINK=1 in the environment the copy is renamed
 * without being synced and the directory is not synced, and the log says
 * so at every open.)  Any failure (a full
 * disk, readers that would not end) keeps the old file in use, is logged
 * and reported (store_set_report: /.errors), and the next try waits
 * SHRINK_RETRY_MS; giving way (to growth, to too many changes) is only
 * logged. */
#define SHRINK_FREE_PCT 25
#define SHRINK_MIN_BYTES (UINT64_C(4) << 20)
#define SHRINK_WAIT_MS 1000
#define SHRINK_RETRY_MS 30000
#define SHRINK_MAX_KEYS UINT64_C(1000000)
#define SHRINK_MAX_BYTES (UINT64_C(256) << 20)

static void shrink_unlink(const char *path)
{
	char lock[PATH_MAX + 8];

	snprintf(lock, sizeof(lock), "%s-lock", path);
	unlink(path);
	unlink(lock);           /* left by an older milvusfs */
}

/* The pages data.mdb uses (up to the last one) and how many of them no
 * database holds (the freelist's, and those the last commits freed), from
 * the stats of the last commit: a few lookups, no walk.  grow_lock held
 * (either side), no transaction of this thread alive.  0 or an LMDB
 * code. */
static int page_usage(struct store *st, uint64_t *file_pages,
		      uint64_t *free_pages, uint64_t *psize)
{
	MDB_envinfo info;
	MDB_stat ms;
	MDB_txn *txn;
	uint64_t used = 2;      /* the meta pages */
	int rc;

	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn);
	if (rc)
		return rc;
	for (int i = -2; i < DB_COUNT && rc == 0; i++) {
		/* -2: the freelist (dbi 0), -1: the main db (dbi 1) */
		rc = mdb_stat(txn, i < 0 ? (MDB_dbi)(i + 2) : st->dbi[i], &ms);
		if (rc == 0)
			used += ms.ms_branch_pages + ms.ms_leaf_pages +
				ms.ms_overflow_pages;
	}
	if (rc == 0)
		rc = mdb_env_info(st->env, &info);
	mdb_txn_abort(txn);
	if (rc)
		return rc;
	*psize = ms.ms_psize;
	*file_pages = (uint64_t)info.me_last_pgno + 1;
	*free_pages = *file_pages > used ? *file_pages - used : 0;
	return 0;
}

/* Is the file worth rewriting (see above)? */
static int shrink_worth(struct store *st, uint64_t file_pages,
			uint64_t free_pages, uint64_t psize)
{
	return free_pages * 100 >= file_pages * SHRINK_FREE_PCT &&
	       free_pages * psize >= st->shrink_min_bytes;
}

static int sync_dir(struct store *st)
{
	int fd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) != 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* The copy being made: the new environment on <dir>/data.mdb.shrink. */
struct copy {
	char path[PATH_MAX];
	int fd;
	MDB_env *to;
	MDB_dbi tdbi[DB_COUNT];
	uint64_t mapsize;       /* of to */
};

/* Create <dir>/data.mdb.shrink (c->path) and open the environment of the
 * copy on it, map size mapsize, its databases created.  On failure
 * nothing is left behind; 0 or negative errno with err set. */
static int shrink_create(struct store *st, struct copy *c, uint64_t mapsize,
			 struct mfs_err *err)
{
	int rc;

	c->to = NULL;
	c->mapsize = mapsize;
	shrink_unlink(c->path); /* a copy a crash left */
	/* created here: LMDB's own open would follow a symlink */
	c->fd = open(c->path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
		     O_CLOEXEC, FILE_MODE);
	if (c->fd < 0)
		return mfs_errf(err, store_mdb_errno(errno, STORE_OP_DATA),
				"cannot create %s: %s", c->path,
				strerror(errno));
	if ((rc = mdb_env_create(&c->to)) != 0) {
		c->to = NULL;
		goto fail;
	}
	if ((rc = mdb_env_set_maxdbs(c->to, DB_COUNT)) != 0 ||
	    (rc = mdb_env_set_mapsize(c->to, (size_t)mapsize)) != 0 ||
	    (rc = mdb_env_open(c->to, c->path, MDB_NOSUBDIR | MDB_NOSYNC |
			       MDB_NOTLS | MDB_NOLOCK, FILE_MODE)) != 0 ||
	    (rc = store_shrink_dbs(c->to, c->tdbi)) != 0)
		goto fail;
	return 0;
fail:
	if (c->to)
		mdb_env_close(c->to);
	c->to = NULL;
	close(c->fd);
	unlink(c->path);
	return mfs_errf(err, store_mdb_errno(rc, STORE_OP_COMMIT),
			"cannot write %s: %s", c->path, mdb_strerror(rc));
}

/* Sync the copy (unless unsafe_shrink) and close it.  0 or an LMDB code
 * (or errno); either way to and fd are closed, the file is kept. */
static int shrink_finish(struct store *st, struct copy *c)
{
	MDB_envinfo info;
	int rc = 0;

	if (mdb_env_info(c->to, &info) == 0 && info.me_mapsize > c->mapsize)
		c->mapsize = info.me_mapsize;
	if (!st->unsafe_shrink)
		rc = mdb_env_sync(c->to, 1);
	mdb_env_close(c->to);
	c->to = NULL;
	if (rc == 0 && !st->unsafe_shrink && fsync(c->fd) != 0)
		rc = errno;
	close(c->fd);
	return rc;
}

/* Give the copy up: nothing is left behind. */
static void shrink_abandon(struct copy *c)
{
	if (c->to) {
		mdb_env_close(c->to);
		c->to = NULL;
		close(c->fd);
	}
	unlink(c->path);
}

/* Make <dir>/data.mdb.shrink (c->path), a synced compacted copy of
 * st->env with map size mapsize, at open: nobody else uses st.  On
 * failure nothing is left behind; 0 or negative errno with err set. */
static int shrink_make(struct store *st, struct copy *c, uint64_t mapsize,
		       struct mfs_err *err)
{
	MDB_txn *rt;
	int rc = shrink_create(st, c, mapsize, err);

	if (rc)
		return rc;
	rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rt);
	if (rc == 0) {
		rc = store_shrink_copy(st, rt, c->to, c->tdbi, NULL, NULL,
				       NULL, NULL);
		mdb_txn_abort(rt);
	}
	if (rc == 0)
		rc = shrink_finish(st, c);
	if (rc == 0)
		return 0;
	shrink_abandon(c);
	return mfs_errf(err, store_mdb_errno(rc, STORE_OP_COMMIT),
			"cannot write %s: %s", c->path, mdb_strerror(rc));
}

/* With st->env closed: put the copy path in place of data.mdb and sync
 * the directory.  1 when data.mdb is the copy now, 0 when it is still the
 * old file (err set), -1 when it is the copy but the directory sync
 * failed (err set). */
static int shrink_swap(struct store *st, const char *path,
		       struct mfs_err *err)
{
	char final[PATH_MAX];
	int rc;

	snprintf(final, sizeof(final), "%s/data.mdb", st->dir);
	if (rename(path, final) != 0) {
		mfs_errf(err, store_mdb_errno(errno, STORE_OP_DATA),
			 "cannot rename %s to data.mdb: %s", path,
			 strerror(errno));
		unlink(path);
		return 0;
	}
	rc = st->unsafe_shrink ? 0 : sync_dir(st);
	if (rc) {
		mfs_errf(err, rc, "database %s: fsync of the directory after data.mdb was rewritten: %s",
			 st->dir, strerror(-rc));
		return -1;
	}
	return 1;
}

/* Called by store_open with st->env open and nobody else using it.  On
 * return st->env is open (the new file or the old one), or NULL with err
 * set when opening again failed. */
static int env_shrink(struct store *st, struct mfs_err *err)
{
	struct copy c;
	uint64_t fpages, fr, psize, mapsize;
	struct mfs_err e2;

	if ((size_t)snprintf(c.path, sizeof(c.path), "%s/data.mdb.shrink",
			     st->dir) >= sizeof(c.path) - 8)
		return 0;
	shrink_unlink(c.path);  /* a copy a crash left */
	if (page_usage(st, &fpages, &fr, &psize) != 0 ||
	    !shrink_worth(st, fpages, fr, psize))
		return 0;
	mapsize = st->mapsize_bytes;
	mfs_err_clear(&e2);
	if (shrink_make(st, &c, mapsize, &e2) != 0) {
		mfs_log(MFS_LOG_WARN, "database %s: %" PRIu64 " MiB of free pages in data.mdb not given back: %s",
			st->dir, (fr * psize) >> 20, e2.msg);
		return 0;
	}
	mdb_env_close(st->env);
	st->env = NULL;
	int swapped = shrink_swap(st, c.path, &e2);
	if (swapped <= 0)
		mfs_log(MFS_LOG_WARN, "database %s: %s", st->dir, e2.msg);
	if (swapped != 0)
		mfs_log(MFS_LOG_INFO, "database %s: data.mdb rewritten without its %"
			PRIu64 " MiB of free pages (it had %" PRIu64 " MiB)",
			st->dir, (fr * psize) >> 20, (fpages * psize) >> 20);
	return env_start(st, c.mapsize, err);
}

/* Under reserve_lock: allocate the reserve file to st->reserve_bytes.
 * 1 when it is held. */
static int reserve_take(struct store *st)
{
	struct stat sb;
	off_t want = (off_t)st->reserve_bytes;

	if (st->reserve_fd < 0)
		return 0;
	if (fstat(st->reserve_fd, &sb) == 0 && sb.st_size >= want &&
	    (uint64_t)sb.st_blocks * 512 >= (uint64_t)want)
		return 1;
	if (posix_fallocate(st->reserve_fd, 0, want) == 0)
		return 1;
	/* a partial allocation would be neither held nor given back */
	if (ftruncate(st->reserve_fd, 0) != 0)
		mfs_log(MFS_LOG_WARN, "database %s: reserve file: %s",
			st->dir, strerror(errno));
	return 0;
}

/* After a commit (and at open), grow_lock held shared, no transaction of
 * this thread alive: size the reserve, take it back if it was given, and
 * decide whether adding transactions may run. */
static void reserve_update(struct store *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	uint64_t used = 0, want;

	if (mdb_env_info(st->env, &info) == 0 &&
	    mdb_env_stat(st->env, &ms) == 0)
		used = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	want = used / RESERVE_SHARE;
	if (want < RESERVE_MIN)
		want = RESERVE_MIN;
	pthread_mutex_lock(&st->reserve_lock);
	if (want > st->reserve_bytes + st->reserve_bytes / 8 ||
	    st->reserve_bytes == 0)
		st->reserve_bytes = want;
	if (reserve_take(st)) {
		st->reserve_short = 0;
	} else {
		st->reserve_short = free_bytes(st) < st->reserve_bytes;
		if (st->reserve_short)
			mfs_log(MFS_LOG_DEBUG, "database %s: file system full, inserts refused until deletes free %" PRIu64 " KiB",
				st->dir, st->reserve_bytes >> 10);
	}
	pthread_mutex_unlock(&st->reserve_lock);
}

/* A non-adding transaction failed with ENOSPC: empty the reserve file so
 * that it can run again.  1 if there was something to give. */
static int reserve_give(struct store *st)
{
	struct stat sb;
	int gave = 0;

	pthread_mutex_lock(&st->reserve_lock);
	if (st->reserve_fd >= 0 && fstat(st->reserve_fd, &sb) == 0 &&
	    sb.st_blocks > 0 && ftruncate(st->reserve_fd, 0) == 0) {
		gave = 1;
		st->reserve_short = 1;
		mfs_log(MFS_LOG_INFO, "database %s: file system full: reserve of %" PRIu64 " KiB given to a delete or drop",
			st->dir, st->reserve_bytes >> 10);
	}
	pthread_mutex_unlock(&st->reserve_lock);
	return gave;
}

int store_txn_grows(struct store_txn *t)
{
	struct store *st = t->st;
	int refuse;

	pthread_mutex_lock(&st->reserve_lock);
	/* the user may have made room on the file system meanwhile */
	if (st->reserve_short && reserve_take(st))
		st->reserve_short = 0;
	refuse = st->reserve_short;
	pthread_mutex_unlock(&st->reserve_lock);
	t->grows = 1;
	if (!refuse)
		return 0;
	t->refused = 1;
	if (!t->poison)
		t->poison = -ENOSPC;
	return -ENOSPC;
}

/* The end of a store whose grow_lock could not be made: its mutexes and
 * memory. */
static void store_free_mutexes(struct store *st)
{
	pthread_mutex_destroy(&st->reserve_lock);
	pthread_mutex_destroy(&st->write_lock);
	pthread_mutex_destroy(&st->shrink_lock);
	free(st->shrink_gate);
	free(st->dir);
	free(st);
}

/* The end of a store, opened or not: the reserve file, locks, memory
 * (the environment and the lock file are the callers'). */
static void store_free(struct store *st)
{
	if (st->reserve_fd >= 0)
		close(st->reserve_fd);
	pthread_rwlock_destroy(&st->grow_lock);
	store_free_mutexes(st);
}

/* The decimal number in environment variable name (a test hook), or def
 * when it is unset, empty or not a number. */
static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoull(s, &end, 10);
	return *end == '\0' && errno == 0 ? (uint64_t)v : def;
}

int store_open(const char *dir, const struct store_opts *opts,
	       struct store **out, struct mfs_err *err)
{
	struct store *st;
	pthread_rwlockattr_t attr;
	uint64_t mapsize = opts && opts->mapsize_bytes ? opts->mapsize_bytes
						      : DEFAULT_MAPSIZE;
	int rc, fd;
	size_t len;

	if (!dir || !*dir)
		return mfs_errf(err, -EINVAL,
				"database directory: expected a path, got an empty string");
	st = calloc(1, sizeof(*st));
	if (!st || !(st->dir = strdup(dir))) {
		free(st);
		return mfs_errf(err, -ENOMEM, "database %s: out of memory",
				dir);
	}
	/* "db/" would make lstat follow a symlink db */
	for (len = strlen(st->dir); len > 1 && st->dir[len - 1] == '/'; len--)
		st->dir[len - 1] = '\0';
	st->lock_fd = -1;
	st->reserve_fd = -1;
	st->sync_always = opts ? opts->sync_always : 0;
	/* see "Durability" above */
	st->env_flags = MDB_NOTLS | (st->sync_always ? 0 : MDB_NOMETASYNC);
	/* Only to show that tests/crash catches the old, unsafe flags
	 * (crash.sh with MFS_CRASH_UNSAFE=1, bench/bench_sync.sh): the
	 * environment variable MFS_STORE_UNSAFE_NOSYNC=1 brings back
	 * MDB_NOSYNC, and the log says so at every open. */
	const char *unsafe = getenv("MFS_STORE_UNSAFE_NOSYNC");
	if (!st->sync_always && unsafe && strcmp(unsafe, "1") == 0) {
		st->env_flags = MDB_NOTLS | MDB_NOSYNC;
		mfs_log(MFS_LOG_WARN, "database %s: MFS_STORE_UNSAFE_NOSYNC=1: opened with MDB_NOSYNC, a machine crash may corrupt it",
			dir);
	}
	/* see "The file shrinks"; MFS_STORE_SHRINK_MIN_BYTES lets tests
	 * rewrite small files */
	st->shrink_min_bytes = env_u64("MFS_STORE_SHRINK_MIN_BYTES",
				       SHRINK_MIN_BYTES);
	/* the change set's limits, and the test hooks that lower them
	 * (MFS_STORE_SHRINK_MAX_KEYS) or hold the copy in its middle
	 * (MFS_STORE_SHRINK_GATE, see gate_wait) */
	st->changes_max_keys = env_u64("MFS_STORE_SHRINK_MAX_KEYS",
				       SHRINK_MAX_KEYS);
	st->changes_max_bytes = SHRINK_MAX_BYTES;
	const char *gate = getenv("MFS_STORE_SHRINK_GATE");
	if (gate && *gate && !(st->shrink_gate = strdup(gate))) {
		free(st->dir);
		free(st);
		return mfs_errf(err, -ENOMEM, "database %s: out of memory",
				dir);
	}
	const char *ushrink = getenv("MFS_STORE_UNSAFE_SHRINK");
	if (ushrink && strcmp(ushrink, "1") == 0) {
		st->unsafe_shrink = 1;
		mfs_log(MFS_LOG_WARN, "database %s: MFS_STORE_UNSAFE_SHRINK=1: data.mdb rewritten without syncs, a machine crash may lose it",
			dir);
	}
	pthread_mutex_init(&st->reserve_lock, NULL);
	pthread_mutex_init(&st->write_lock, NULL);
	pthread_mutex_init(&st->shrink_lock, NULL);
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(&st->grow_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (rc) {
		store_free_mutexes(st);
		return mfs_errf(err, -rc, "database %s: cannot create a lock",
				dir);
	}

	rc = mkdir_p(st->dir, err);
	if (rc)
		goto fail_lock;
	rc = lock_dir(st, err);
	if (rc)
		goto fail_lock;
	/* LMDB opens these following symlinks: make or check them first */
	if ((fd = open_file(st, "data.mdb", err)) < 0) {
		rc = fd;
		goto fail_lock;
	}
	rc = never_synced(st, fd, err);
	close(fd);
	if (rc)
		goto fail_lock;
	if ((fd = open_file(st, "lock.mdb", err)) < 0) {
		rc = fd;
		goto fail_lock;
	}
	close(fd);
	/* a data.mdb just made exists after a crash only once its directory
	 * is synced (SPEC §13: its first fsync acknowledges data in it) */
	if ((rc = sync_dir(st)) != 0)
		mfs_log(MFS_LOG_WARN, "database %s: fsync of the directory: %s",
			st->dir, strerror(-rc));
	fd = open_file(st, "milvusfs.reserve", err);
	if (fd < 0) {
		rc = fd;
		goto fail_lock;
	}
	st->reserve_fd = fd;
	rc = env_start(st, mapsize, err);
	if (rc == 0)
		rc = env_shrink(st, err);
	if (rc)
		goto fail_lock;
	reserve_update(st);
	*out = st;
	return 0;

fail_lock:
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	store_free(st);
	return rc;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	/* a rewrite in progress ends first (it checks closing before its
	 * copy) */
	pthread_mutex_lock(&st->shrink_lock);
	__atomic_store_n(&st->closing, 1, __ATOMIC_RELEASE);
	int join = st->shrink_joinable;
	st->shrink_joinable = 0;
	pthread_mutex_unlock(&st->shrink_lock);
	if (join)
		pthread_join(st->shrink_thread, NULL);
	if (!st->broken && st->env && !st->sync_always) {
		int rc = mdb_env_sync(st->env, 1);
		if (rc)
			mfs_log(MFS_LOG_ERROR, "database %s: sync at close: %s",
				st->dir, mdb_strerror(rc));
	}
	if (st->env)
		mdb_env_close(st->env);
	if (st->lock_fd >= 0) {
		/* The pid in the file is stale from here on; empty it. */
		if (ftruncate(st->lock_fd, 0) != 0)
			mfs_log(MFS_LOG_WARN, "database %s: lock file: %s",
				st->dir, strerror(errno));
		close(st->lock_fd);
	}
	store_free(st);
}

int store_sync(struct store *st)
{
	uint64_t c = __atomic_load_n(&st->commits, __ATOMIC_ACQUIRE);
	int rc;

	/* Nothing committed since the last sync: nothing to flush. */
	if (c == __atomic_load_n(&st->synced, __ATOMIC_ACQUIRE))
		return 0;
	pthread_rwlock_rdlock(&st->grow_lock);
	rc = st->broken ? EIO : mdb_env_sync(st->env, 1);
	pthread_rwlock_unlock(&st->grow_lock);
	if (rc == 0) {
		/* synced = max(synced, c) */
		uint64_t s = __atomic_load_n(&st->synced, __ATOMIC_ACQUIRE);
		while (s < c && !__atomic_compare_exchange_n(&st->synced, &s, c,
				0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			;
	}
	/* An fsync EIO is a real I/O error, not a full disk. */
	return store_mdb_errno(rc, STORE_OP_DATA);
}

uint64_t store_mapsize(struct store *st)
{
	uint64_t n;

	pthread_rwlock_rdlock(&st->grow_lock);
	n = st->mapsize_bytes;
	pthread_rwlock_unlock(&st->grow_lock);
	return n;
}

/* ---- map growth ---- */

/* grow_lock exclusive, to remap: a rewrite's copy holding it shared
 * gives way (copy_stop) rather than keep every transaction waiting. */
static void wrlock_grow(struct store *st)
{
	__atomic_add_fetch(&st->grow_waiting, 1, __ATOMIC_ACQ_REL);
	pthread_rwlock_wrlock(&st->grow_lock);
	__atomic_sub_fetch(&st->grow_waiting, 1, __ATOMIC_ACQ_REL);
}

/* What a call on a store whose map was lost says (st->broken). */
static int broken_err(const struct store *st, struct mfs_err *err)
{
	return mfs_errf(err, -EIO, "database %s: the map was lost after a failed resize; remount",
			st->dir);
}

/* Under the exclusive lock: double the map if it is still seen_bytes (else
 * another thread already grew it), or adopt a size set by another process
 * (seen_bytes 0). */
static int grow(struct store *st, uint64_t seen_bytes, struct mfs_err *err)
{
	int rc = 0;

	wrlock_grow(st);
	if (st->broken) {
		rc = broken_err(st, err);
		goto out;
	}
	if (seen_bytes == 0) {
		rc = mdb_env_set_mapsize(st->env, 0);
		if (rc) {
			st->broken = 1;
			rc = mfs_errf(err, -EIO, "database %s: cannot adopt the new map size: %s",
				      st->dir, mdb_strerror(rc));
		}
		refresh_mapsize(st);
		goto out;
	}
	if (st->mapsize_bytes != seen_bytes)
		goto out;
	uint64_t old = st->mapsize_bytes;
	uint64_t want = old * 2;
	/* mdb_env_set_mapsize unmaps first and is left without a map when
	 * the new mmap fails: probe the address space before. */
	void *probe = want > SIZE_MAX ? MAP_FAILED :
		mmap(NULL, (size_t)want, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (probe == MAP_FAILED) {
		rc = mfs_errf(err, -ENOSPC,
			      "database full: cannot grow the map from %" PRIu64 " to %" PRIu64 " MiB: %s",
			      old >> 20, want >> 20, strerror(errno));
		goto out;
	}
	munmap(probe, (size_t)want);
	rc = mdb_env_set_mapsize(st->env, (size_t)want);
	if (rc) {
		int rc2 = mdb_env_set_mapsize(st->env, (size_t)old);
		if (rc2)
			st->broken = 1;
		rc = mfs_errf(err, -ENOSPC,
			      "database full: cannot grow the map from %" PRIu64 " to %" PRIu64 " MiB: %s",
			      old >> 20, want >> 20, mdb_strerror(rc));
	}
	refresh_mapsize(st);
	mfs_log(MFS_LOG_DEBUG, "database %s: map size now %" PRIu64 " MiB",
		st->dir, st->mapsize_bytes >> 20);
out:
	pthread_rwlock_unlock(&st->grow_lock);
	return rc;
}

/* LMDB marks the environment fatal (MDB_PANIC from then on) when it could
 * not write a meta page, e.g. on a full or failing disk.  The data on disk
 * is still the last good commit: close and open the environment again,
 * under the exclusive lock (no transaction alive). */
static int reopen(struct store *st, struct mfs_err *err)
{
	int rc = 0;

	wrlock_grow(st);
	if (st->broken) {
		rc = broken_err(st, err);
		goto out;
	}
	MDB_txn *probe;
	int prc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &probe);
	if (prc == 0)
		mdb_txn_abort(probe);
	if (prc != MDB_PANIC)
		goto out;       /* another thread reopened it */
	mfs_log(MFS_LOG_WARN, "database %s: the environment failed (a write error); opening it again",
		st->dir);
	mdb_env_close(st->env);
	rc = env_start(st, st->mapsize_bytes, err);
	if (rc)
		st->broken = 1;
out:
	pthread_rwlock_unlock(&st->grow_lock);
	return rc;
}

/* LMDB keeps every single page a write transaction dirtied (malloc'd
 * copies) in a list of its own for later transactions, and frees that
 * list only when the environment is closed.  One delete of 10,000 random
 * entities dirties about as many pages: after churn the daemon's heap
 * held 40 MiB more than a fresh one (bench/bench_churn.py), released or
 * not.  So after a commit that deleted RECYCLE_TOUCHED entities or more
 * (inserts append: they dirty about as many pages as their bytes), the
 * environment is closed and opened again (nothing
 * changes on disk; the unsynced meta page is synced by the next commit's
 * or store_sync's fdatasync of the same file), which gives that list
 * back.  It needs no transaction alive: grow_lock exclusive, waited for
 * RECYCLE_WAIT_MS at most (a backup's long reader holds it shared); when
 * the wait fails, the next commit tries again. */
#define RECYCLE_TOUCHED 1024
#define RECYCLE_WAIT_MS 100

static void env_recycle(struct store *st)
{
	struct timespec ts;
	struct mfs_err err;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += RECYCLE_WAIT_MS * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_rwlock_timedwrlock(&st->grow_lock, &ts) != 0) {
		__atomic_store_n(&st->recycle_due, 1, __ATOMIC_RELEASE);
		return;
	}
	__atomic_store_n(&st->recycle_due, 0, __ATOMIC_RELEASE);
	if (!st->broken && st->env) {
		mdb_env_close(st->env);
		mfs_err_clear(&err);
		if (env_start(st, st->mapsize_bytes, &err) != 0) {
			mfs_log(MFS_LOG_ERROR, "database %s: %s", st->dir,
				err.msg);
			st->broken = 1;
		}
	}
	pthread_rwlock_unlock(&st->grow_lock);
}

/* ---- the file shrinks while mounted (see "The file shrinks") ---- */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A failure met with nobody to answer: the log, and /.errors when the
 * report hook is set (it logs too). */
static void report(struct store *st, const struct mfs_err *e)
{
	if (st->report)
		st->report(st->report_arg, "shrink", "/", e->code, e);
	else
		mfs_log(MFS_LOG_WARN, "%s", e->msg);
}

/* What stops the copy of a rewrite while mounted (store_shrink_copy's
 * stop): the store closing, a writer waiting to grow or reopen the map
 * (it needs the copy's shared hold of grow_lock gone), or a change set
 * past its limits. */
struct stop_arg {
	struct store *st;
	struct store_changes *changes;
	const char *why;        /* set when it stopped the copy */
	int over;               /* it was the change set */
};

static int copy_stop(void *arg)
{
	struct stop_arg *sa = arg;
	struct store *st = sa->st;

	if (__atomic_load_n(&st->closing, __ATOMIC_ACQUIRE))
		sa->why = "the database is being closed";
	else if (__atomic_load_n(&st->grow_waiting, __ATOMIC_ACQUIRE))
		sa->why = "the map had to grow during the copy";
	else if (store_changes_over(sa->changes))
		sa->over = 1;
	else
		return 0;
	return STORE_SHRINK_STOPPED;
}

/* The test hook MFS_STORE_SHRINK_GATE=path: the copy waits in its middle
 * while path exists (SHRINK_GATE_MS at most), so that a test can write
 * through the mount during the copy without depending on timing. */
#define SHRINK_GATE_MS 120000

static void gate_wait(void *arg)
{
	struct store *st = arg;
	struct timespec ts = { 0, 10000000 };

	mfs_log(MFS_LOG_INFO, "database %s: the copy of data.mdb waits while %s exists (MFS_STORE_SHRINK_GATE)",
		st->dir, st->shrink_gate);
	for (int i = 0; i < SHRINK_GATE_MS / 10 &&
	     access(st->shrink_gate, F_OK) == 0 &&
	     !__atomic_load_n(&st->closing, __ATOMIC_ACQUIRE) &&
	     !__atomic_load_n(&st->grow_waiting, __ATOMIC_ACQUIRE); i++)
		nanosleep(&ts, NULL);
}

struct shrink_stats {
	uint64_t fpages, fr, psize;     /* page_usage before */
	uint64_t copy_ms;               /* the copy, writers going on */
	uint64_t held_ms;               /* write_lock held */
	size_t keys;                    /* changed meanwhile, replayed */
	int gave_up;                    /* e says why; nobody's fault */
	int swapped;                    /* shrink_swap's answer, if run */
	int reopen_rc;                  /* env_start's after the swap */
};

/* The online rewrite (see "The file shrinks"); force: worth it or not.
 * 1 when data.mdb is the new file and open, 0 when nothing was done, or
 * a negative errno with e set (ss->swapped -1: data.mdb is the new file
 * but the directory sync failed), or with e2 set when the environment
 * could not be opened again (ss->reopen_rc, st->broken). */
static int shrink_run(struct store *st, int force, void (*mid)(void *),
		      void *mid_arg, struct shrink_stats *ss,
		      struct mfs_err *e, struct mfs_err *e2)
{
	struct copy c;
	struct stop_arg sa = { .st = st };
	MDB_txn *rt = NULL;
	uint64_t mapsize, t0;
	struct timespec ts;
	int rc, swapped;

	if ((size_t)snprintf(c.path, sizeof(c.path), "%s/data.mdb.shrink",
			     st->dir) >= sizeof(c.path) - 8)
		return 0;
	/* another rewrite, or commits since the trigger, may have made it
	 * needless */
	pthread_rwlock_rdlock(&st->grow_lock);
	rc = st->broken || __atomic_load_n(&st->closing, __ATOMIC_ACQUIRE) ||
	     page_usage(st, &ss->fpages, &ss->fr, &ss->psize) != 0 ||
	     (!force && !shrink_worth(st, ss->fpages, ss->fr, ss->psize));
	mapsize = st->mapsize_bytes;
	pthread_rwlock_unlock(&st->grow_lock);
	if (rc)
		return 0;
	if ((rc = shrink_create(st, &c, mapsize, e)) != 0)
		return rc;
	sa.changes = store_changes_new(st->changes_max_keys,
				       st->changes_max_bytes);
	if (!sa.changes) {
		shrink_abandon(&c);
		return mfs_errf(e, -ENOMEM, "database %s: out of memory",
				st->dir);
	}

	/* 1. The snapshot: the last commit.  From here on writers record
	 * what they change. */
	t0 = mono_ms();
	pthread_mutex_lock(&st->write_lock);
	pthread_rwlock_rdlock(&st->grow_lock);
	rc = st->broken ? MDB_PANIC :
		mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rt);
	if (rc == 0)
		st->changes = sa.changes;
	pthread_mutex_unlock(&st->write_lock);
	ss->held_ms = mono_ms() - t0;

	/* 2. The copy, writers going on in the old file.  grow_lock stays
	 * held shared (no remap under the snapshot); the bulk of the copy
	 * is synced before writers are held again. */
	t0 = mono_ms();
	if (rc == 0) {
		rc = store_shrink_copy(st, rt, c.to, c.tdbi, copy_stop, &sa,
				       mid, mid_arg);
		mdb_txn_abort(rt);
		rt = NULL;
	}
	pthread_rwlock_unlock(&st->grow_lock);
	if (rc == 0 && !st->unsafe_shrink)
		rc = mdb_env_sync(c.to, 1);
	ss->copy_ms = mono_ms() - t0;

	/* 3. Writers held: what they changed meanwhile into the copy, the
	 * copy synced, then the swap. */
	t0 = mono_ms();
	pthread_mutex_lock(&st->write_lock);
	st->changes = NULL;
	if (rc == 0 && store_changes_over(sa.changes)) {
		sa.over = 1;
		rc = STORE_SHRINK_STOPPED;
	}
	pthread_rwlock_rdlock(&st->grow_lock);
	if (rc == 0 && (st->broken ||
			__atomic_load_n(&st->closing, __ATOMIC_ACQUIRE))) {
		sa.why = "the database is being closed";
		rc = STORE_SHRINK_STOPPED;
	}
	if (rc == 0 &&
	    (rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &rt)) == 0) {
		rc = store_shrink_replay(st, rt, sa.changes, c.to, c.tdbi,
					 &ss->keys);
		mdb_txn_abort(rt);
	}
	if (rc == 0)
		rc = shrink_finish(st, &c);
	pthread_rwlock_unlock(&st->grow_lock);
	store_changes_free(sa.changes);
	if (rc) {
		pthread_mutex_unlock(&st->write_lock);
		ss->held_ms += mono_ms() - t0;
		shrink_abandon(&c);
		if (rc != STORE_SHRINK_STOPPED)
			return mfs_errf(e, store_mdb_errno(rc, STORE_OP_COMMIT),
					"cannot write %s: %s", c.path,
					mdb_strerror(rc));
		ss->gave_up = 1;
		if (__atomic_load_n(&st->closing, __ATOMIC_ACQUIRE))
			return 0;
		if (sa.over)
			return mfs_errf(e, -EAGAIN, "database %s: data.mdb not rewritten this time: more than %" PRIu64 " keys or %" PRIu64 " MiB of them changed during its copy",
					st->dir, st->changes_max_keys,
					st->changes_max_bytes >> 20);
		return mfs_errf(e, -EAGAIN, "database %s: data.mdb not rewritten this time: %s",
				st->dir, sa.why);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += SHRINK_WAIT_MS / 1000;
	ts.tv_nsec += (SHRINK_WAIT_MS % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	if (pthread_rwlock_timedwrlock(&st->grow_lock, &ts) != 0) {
		pthread_mutex_unlock(&st->write_lock);
		ss->held_ms += mono_ms() - t0;
		unlink(c.path);
		return mfs_errf(e, -EBUSY, "database %s: readers held data.mdb for %d ms",
				st->dir, SHRINK_WAIT_MS);
	}
	if (st->broken) {
		pthread_rwlock_unlock(&st->grow_lock);
		pthread_mutex_unlock(&st->write_lock);
		unlink(c.path);
		return 0;
	}
	mdb_env_close(st->env);
	st->env = NULL;
	swapped = ss->swapped = shrink_swap(st, c.path, e);
	if (c.mapsize < st->mapsize_bytes)
		c.mapsize = st->mapsize_bytes;
	rc = ss->reopen_rc = env_start(st, c.mapsize, e2);
	if (rc)
		st->broken = 1;
	else
		__atomic_store_n(&st->recycle_due, 0, __ATOMIC_RELEASE);
	if (rc == 0 && swapped == 1)
		/* the new file was synced whole */
		__atomic_store_n(&st->synced,
				 __atomic_load_n(&st->commits, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
	pthread_rwlock_unlock(&st->grow_lock);
	if (rc == 0) {
		pthread_rwlock_rdlock(&st->grow_lock);
		reserve_update(st);
		pthread_rwlock_unlock(&st->grow_lock);
	}
	pthread_mutex_unlock(&st->write_lock);
	ss->held_ms += mono_ms() - t0;
	if (rc)
		return rc;
	return swapped == 1 ? 1 : e->code;
}

/* Run the online rewrite, log it and report its failures (e, /.errors),
 * schedule the next try after one.  Returns shrink_run's answer. */
static int shrink_online(struct store *st, int force, void (*mid)(void *),
			 void *mid_arg, struct mfs_err *e)
{
	struct shrink_stats ss = { 0 };
	struct mfs_err e2;
	uint64_t fr_mib;
	int rc;

	mfs_err_clear(e);
	mfs_err_clear(&e2);
	rc = shrink_run(st, force, mid, mid_arg, &ss, e, &e2);
	fr_mib = (ss.fr * ss.psize) >> 20;
	if (ss.swapped != 0)
		mfs_log(MFS_LOG_INFO, "database %s: data.mdb rewritten while mounted without its %"
			PRIu64 " MiB of free pages (it had %" PRIu64 " MiB; copied in %" PRIu64 " ms, %zu keys changed meanwhile replayed; writers held off %" PRIu64 " ms)",
			st->dir, fr_mib, (ss.fpages * ss.psize) >> 20,
			ss.copy_ms, ss.keys, ss.held_ms);
	if (ss.reopen_rc) {
		mfs_errf(&e2, -EIO, "database %s: cannot open data.mdb again after its rewrite (%s); remount",
			 st->dir, e2.msg);
		report(st, &e2);
		return rc;
	}
	if (rc >= 0)
		return rc;
	if (ss.gave_up)
		mfs_log(MFS_LOG_WARN, "%s (tried again in %d s)", e->msg,
			SHRINK_RETRY_MS / 1000);
	else if (ss.swapped != 0)
		mfs_err_prefix(e, e->code, "database %s: data.mdb keeps its %" PRIu64 " MiB of free pages",
			       st->dir, fr_mib);
	else
		mfs_err_prefix(e, e->code, "database %s: data.mdb keeps its %" PRIu64 " MiB of free pages, the old file stays in use (tried again in %d s)",
			       st->dir, fr_mib, SHRINK_RETRY_MS / 1000);
	if (!ss.gave_up)
		report(st, e);
	__atomic_store_n(&st->shrink_after_ms, mono_ms() + SHRINK_RETRY_MS,
			 __ATOMIC_RELEASE);
	return rc;
}

int store_shrink_now(struct store *st, void (*mid)(void *), void *arg,
		     struct mfs_err *err)
{
	int rc;

	/* no rewrite thread meanwhile */
	pthread_mutex_lock(&st->shrink_lock);
	rc = st->shrink_running;
	st->shrink_running = 1;
	pthread_mutex_unlock(&st->shrink_lock);
	if (rc)
		return mfs_errf(err, -EBUSY, "database %s: a rewrite runs",
				st->dir);
	rc = shrink_online(st, 1, mid, arg, err);
	pthread_mutex_lock(&st->shrink_lock);
	st->shrink_running = 0;
	pthread_mutex_unlock(&st->shrink_lock);
	if (rc == 0)
		rc = mfs_errf(err, -EAGAIN, "database %s: data.mdb not rewritten",
			      st->dir);
	return rc;
}

static void *shrink_main(void *arg)
{
	struct store *st = arg;
	struct mfs_err e;

	shrink_online(st, 0, st->shrink_gate ? gate_wait : NULL, st, &e);
	pthread_mutex_lock(&st->shrink_lock);
	st->shrink_running = 0;
	pthread_mutex_unlock(&st->shrink_lock);
	return NULL;
}

/* After a commit whose stats said the file is worth rewriting: start the
 * rewrite's thread unless one runs or the store is closing. */
static void shrink_start(struct store *st)
{
	pthread_mutex_lock(&st->shrink_lock);
	if (!st->closing && !st->shrink_running) {
		if (st->shrink_joinable) {
			pthread_join(st->shrink_thread, NULL);
			st->shrink_joinable = 0;
		}
		st->shrink_running = 1;
		if (pthread_create(&st->shrink_thread, NULL, shrink_main,
				   st) == 0)
			st->shrink_joinable = 1;
		else
			st->shrink_running = 0;
	}
	pthread_mutex_unlock(&st->shrink_lock);
}

/* After a commit, grow_lock held shared and write_lock held: 1 when the
 * online rewrite should start. */
static int shrink_due(struct store *st)
{
	uint64_t fpages, fr, psize;

	if (__atomic_load_n(&st->shrink_running, __ATOMIC_ACQUIRE) ||
	    mono_ms() < __atomic_load_n(&st->shrink_after_ms, __ATOMIC_ACQUIRE))
		return 0;
	return page_usage(st, &fpages, &fr, &psize) == 0 &&
	       shrink_worth(st, fpages, fr, psize);
}

void store_set_report(struct store *st,
		      void (*fn)(void *arg, const char *op, const char *path,
				 int code, const struct mfs_err *err),
		      void *arg)
{
	st->report = fn;
	st->report_arg = arg;
}

/* Begin a transaction with grow_lock held shared; on success the lock is
 * still held and *seen has the map size it runs with. */
static int begin(struct store *st, unsigned flags, MDB_txn **txn,
		 uint64_t *seen, struct mfs_err *err)
{
	int tries = 0;

	for (;;) {
		pthread_rwlock_rdlock(&st->grow_lock);
		if (st->broken) {
			pthread_rwlock_unlock(&st->grow_lock);
			return broken_err(st, err);
		}
		*seen = st->mapsize_bytes;
		int rc = mdb_txn_begin(st->env, NULL, flags, txn);
		if (rc == 0)
			return 0;
		pthread_rwlock_unlock(&st->grow_lock);
		if (rc == MDB_MAP_RESIZED) {
			rc = grow(st, 0, err);
			if (rc)
				return rc;
			continue;
		}
		if (rc == MDB_PANIC && ++tries < 3) {
			rc = reopen(st, err);
			if (rc)
				return rc;
			continue;
		}
		if (rc == MDB_READERS_FULL && ++tries < READERS_FULL_TRIES) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		return mfs_errf(err, store_mdb_errno(rc, STORE_OP_DATA),
				"database %s: cannot begin a transaction: %s",
				st->dir, mdb_strerror(rc));
	}
}

int store_read(struct store *st, store_fn fn, void *arg, struct mfs_err *err)
{
	struct store_txn t = { .st = st, .rdonly = 1 };
	uint64_t seen;
	int rc;

	rc = begin(st, MDB_RDONLY, &t.txn, &seen, err);
	if (rc)
		return rc;
	rc = fn(&t, arg, err);
	mdb_txn_abort(t.txn);
	pthread_rwlock_unlock(&st->grow_lock);
	if (rc == 0 && t.mdb_rc)
		rc = mfs_errf(err, store_mdb_errno(t.mdb_rc, STORE_OP_DATA),
			      "database %s: %s", st->dir,
			      mdb_strerror(t.mdb_rc));
	return rc;
}

/* A commit failed with ENOSPC: the file system is full.  grows: the
 * transaction added data; else it was a delete, drop or the like that did
 * not fit even in the reserve's room. */
static int full_error(struct store *st, uint64_t seen, int grows,
		      struct mfs_err *err)
{
	if (grows)
		return mfs_errf(err, -ENOSPC,
				"database full: no space left on device (map size %" PRIu64 " MiB): the file system holding %s is full; delete entities or drop collections to make room",
				seen >> 20, st->dir);
	return mfs_errf(err, -ENOSPC,
			"database full: no space left on device (map size %" PRIu64 " MiB): the file system holding %s is full and this change needs more room than the %" PRIu64 " KiB kept in reserve; delete fewer entities in one write (ids next to each other free the most), or drop a partition or collection first",
			seen >> 20, st->dir, st->reserve_bytes >> 10);
}

static int refused_error(struct store *st, struct mfs_err *err)
{
	return mfs_errf(err, -ENOSPC,
			"database full: the file system holding %s is full; delete entities or drop collections to make room (at least %" PRIu64 " KiB)",
			st->dir, st->reserve_bytes >> 10);
}

/* The transaction of store_write, write_lock held. */
static int write_locked(struct store *st, store_fn fn, void *arg,
			struct mfs_err *err)
{
	int gave = 0;

	for (;;) {
		struct store_txn t = { .st = st };
		uint64_t seen;
		int rc, frc;

		rc = begin(st, 0, &t.txn, &seen, err);
		if (rc)
			return rc;
		frc = fn(&t, arg, err);
		if (t.mdb_rc == MDB_MAP_FULL) {
			mdb_txn_abort(t.txn);
			pthread_rwlock_unlock(&st->grow_lock);
			mfs_err_clear(err);
			rc = grow(st, seen, err);
			if (rc)
				return rc;
			continue;
		}
		if (frc || t.mdb_rc || t.poison) {
			mdb_txn_abort(t.txn);
			pthread_rwlock_unlock(&st->grow_lock);
			if (t.refused)
				return refused_error(st, err);
			if (frc)
				return frc;
			if (t.poison)
				return t.poison;
			return mfs_errf(err,
					store_mdb_errno(t.mdb_rc, STORE_OP_DATA),
					"database %s: %s", st->dir,
					mdb_strerror(t.mdb_rc));
		}
		rc = mdb_txn_commit(t.txn);
		if (rc == 0) {
			int shrink;

			__atomic_add_fetch(&st->commits, 1, __ATOMIC_ACQ_REL);
			reserve_update(st);
			shrink = shrink_due(st);
			pthread_rwlock_unlock(&st->grow_lock);
			if (t.touched >= RECYCLE_TOUCHED)
				__atomic_store_n(&st->recycle_due, 1,
						 __ATOMIC_RELEASE);
			/* the rewrite opens the environment again too; while
			 * its copy runs, its snapshot must stay */
			if (shrink)
				shrink_start(st);
			else if (!st->changes &&
				 __atomic_load_n(&st->recycle_due,
						 __ATOMIC_ACQUIRE))
				env_recycle(st);
			return 0;
		}
		pthread_rwlock_unlock(&st->grow_lock);
		if (rc == MDB_MAP_FULL) {
			rc = grow(st, seen, err);
			if (rc)
				return rc;
			continue;
		}
		rc = store_mdb_errno(rc, STORE_OP_COMMIT);
		if (rc == -ENOSPC) {
			/* A delete or drop on a full disk: run it again in
			 * the space of the reserve file ("Disk full"). */
			if (!t.grows && !gave && reserve_give(st)) {
				gave = 1;
				mfs_err_clear(err);
				continue;
			}
			if (t.grows) {
				pthread_mutex_lock(&st->reserve_lock);
				if (!reserve_take(st))
					st->reserve_short = 1;
				pthread_mutex_unlock(&st->reserve_lock);
			}
			return full_error(st, seen, t.grows, err);
		}
		return mfs_errf(err, rc, "database %s: commit failed: %s",
				st->dir, strerror(-rc));
	}
}

int store_write(struct store *st, store_fn fn, void *arg,
		struct mfs_err *err)
{
	int rc;

	pthread_mutex_lock(&st->write_lock);
	rc = write_locked(st, fn, arg, err);
	pthread_mutex_unlock(&st->write_lock);
	return rc;
}

struct stat_arg {
	int db;
	uint64_t n;
};

static int stat_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct stat_arg *a = arg;
	MDB_stat ms;
	int rc = mdb_stat(t->txn, t->st->dbi[a->db], &ms);

	if (rc)
		return mfs_errf(err, store_txn_fail(t, rc),
				"database %s: stat %s: %s", t->st->dir,
				store_db_names[a->db], mdb_strerror(rc));
	a->n = ms.ms_entries;
	return 0;
}

int store_stat_entries(struct store *st, const char *db, uint64_t *n,
		       struct mfs_err *err)
{
	struct stat_arg a = { 0 };
	int rc;

	for (a.db = 0; a.db < DB_COUNT; a.db++)
		if (strcmp(store_db_names[a.db], db) == 0)
			break;
	if (a.db == DB_COUNT)
		return mfs_errf(err, -EINVAL,
				"database name: expected meta, coll, part, pinfo, ent, idmap, blob or query, got \"%s\"",
				db);
	rc = store_read(st, stat_fn, &a, err);
	if (rc == 0)
		*n = a.n;
	return rc;
}
