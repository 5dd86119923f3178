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
 * Durability: without sync_always the environment is MDB_NOSYNC and
 * store_sync() does mdb_env_sync(env, 1).  MDB_NOMETASYNC is never used.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
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
#define MAX_READERS 512
#define READERS_FULL_TRIES 10000        /* x 1 ms */

static const char *const db_names[DB_COUNT] = {
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
		*p = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST) {
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
	if (stat(dir, &sb) != 0) {
		rc = mfs_errf(err, -errno, "database directory %s: %s", dir,
			      strerror(errno));
	} else if (!S_ISDIR(sb.st_mode)) {
		rc = mfs_errf(err, -ENOTDIR,
			      "database %s: expected a directory, got a file",
			      dir);
	}
out:
	free(path);
	return rc;
}

static int lock_dir(struct store *st, struct mfs_err *err)
{
	char path[4096];
	char buf[32];
	int fd;

	snprintf(path, sizeof(path), "%s/milvusfs.lock", st->dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return mfs_errf(err, -errno, "cannot open lock file %s: %s",
				path, strerror(errno));
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
		rc = mdb_dbi_open(txn, db_names[i], MDB_CREATE, &st->dbi[i]);
		if (rc) {
			mdb_txn_abort(txn);
			if (rc == MDB_INCOMPATIBLE)
				return mfs_errf(err, -EIO,
						"database %s: expected a milvusfs database, got an LMDB environment with an incompatible database \"%s\"",
						st->dir, db_names[i]);
			return env_error(st, rc, "cannot open a database", err);
		}
	}
	k.mv_data = "version";
	k.mv_size = 7;
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
		rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
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
			rc = mdb_put(txn, st->dbi[DB_META], &k, &v, 0);
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

int store_open(const char *dir, const struct store_opts *opts,
	       struct store **out, struct mfs_err *err)
{
	struct store *st;
	pthread_rwlockattr_t attr;
	uint64_t mapsize = opts && opts->mapsize_bytes ? opts->mapsize_bytes
						      : DEFAULT_MAPSIZE;
	unsigned flags = MDB_NOTLS;
	int rc;

	if (!dir || !*dir)
		return mfs_errf(err, -EINVAL,
				"database directory: expected a path, got an empty string");
	st = calloc(1, sizeof(*st));
	if (!st || !(st->dir = strdup(dir))) {
		free(st);
		return mfs_errf(err, -ENOMEM, "database %s: out of memory",
				dir);
	}
	st->lock_fd = -1;
	st->sync_always = opts ? opts->sync_always : 0;
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	rc = pthread_rwlock_init(&st->grow_lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (rc) {
		free(st->dir);
		free(st);
		return mfs_errf(err, -rc, "database %s: cannot create a lock",
				dir);
	}

	rc = mkdir_p(dir, err);
	if (rc)
		goto fail_lock;
	rc = lock_dir(st, err);
	if (rc)
		goto fail_lock;

	rc = mdb_env_create(&st->env);
	if (rc) {
		rc = env_error(st, rc, "cannot create the environment", err);
		goto fail_lock;
	}
	if ((rc = mdb_env_set_maxdbs(st->env, DB_COUNT)) ||
	    (rc = mdb_env_set_maxreaders(st->env, MAX_READERS)) ||
	    (rc = mdb_env_set_mapsize(st->env, (size_t)mapsize))) {
		rc = env_error(st, rc, "cannot configure the environment", err);
		goto fail_env;
	}
	if (!st->sync_always)
		flags |= MDB_NOSYNC;
	rc = mdb_env_open(st->env, dir, flags, 0644);
	if (rc) {
		rc = env_error(st, rc, "cannot open the environment", err);
		goto fail_env;
	}
	rc = open_dbs(st, err);
	if (rc)
		goto fail_env;
	refresh_mapsize(st);
	*out = st;
	return 0;

fail_env:
	mdb_env_close(st->env);
fail_lock:
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	pthread_rwlock_destroy(&st->grow_lock);
	free(st->dir);
	free(st);
	return rc;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (!st->broken && !st->sync_always) {
		int rc = mdb_env_sync(st->env, 1);
		if (rc)
			mfs_log(MFS_LOG_ERROR, "database %s: sync at close: %s",
				st->dir, mdb_strerror(rc));
	}
	mdb_env_close(st->env);
	if (st->lock_fd >= 0) {
		/* The pid in the file is stale from here on; empty it. */
		if (ftruncate(st->lock_fd, 0) != 0)
			mfs_log(MFS_LOG_WARN, "database %s: lock file: %s",
				st->dir, strerror(errno));
		close(st->lock_fd);
	}
	pthread_rwlock_destroy(&st->grow_lock);
	free(st->dir);
	free(st);
}

int store_sync(struct store *st)
{
	int rc;

	pthread_rwlock_rdlock(&st->grow_lock);
	rc = st->broken ? EIO : mdb_env_sync(st->env, 1);
	pthread_rwlock_unlock(&st->grow_lock);
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

/* Under the exclusive lock: double the map if it is still seen_bytes (else
 * another thread already grew it), or adopt a size set by another process
 * (seen_bytes 0). */
static int grow(struct store *st, uint64_t seen_bytes, struct mfs_err *err)
{
	int rc = 0;

	pthread_rwlock_wrlock(&st->grow_lock);
	if (st->broken) {
		rc = mfs_errf(err, -EIO, "database %s: the map was lost after a failed resize; remount",
			      st->dir);
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
			return mfs_errf(err, -EIO, "database %s: the map was lost after a failed resize; remount",
					st->dir);
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

static int full_error(struct store *st, uint64_t seen, struct mfs_err *err)
{
	return mfs_errf(err, -ENOSPC,
			"database full: no space left on device (map size %" PRIu64 " MiB)",
			seen >> 20);
}

int store_write(struct store *st, store_fn fn, void *arg,
		struct mfs_err *err)
{
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
		pthread_rwlock_unlock(&st->grow_lock);
		if (rc == 0)
			return 0;
		if (rc == MDB_MAP_FULL) {
			rc = grow(st, seen, err);
			if (rc)
				return rc;
			continue;
		}
		rc = store_mdb_errno(rc, STORE_OP_COMMIT);
		if (rc == -ENOSPC)
			return full_error(st, seen, err);
		return mfs_errf(err, rc, "database %s: commit failed: %s",
				st->dir, strerror(-rc));
	}
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
				db_names[a->db], mdb_strerror(rc));
	a->n = ms.ms_entries;
	return 0;
}

int store_stat_entries(struct store *st, const char *db, uint64_t *n,
		       struct mfs_err *err)
{
	struct stat_arg a = { 0 };
	int rc;

	for (a.db = 0; a.db < DB_COUNT; a.db++)
		if (strcmp(db_names[a.db], db) == 0)
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
