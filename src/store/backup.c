/* backup.c - a hot, compacted copy of the whole environment (SPEC §13).
 *
 * store_backup copies the database as one read transaction sees it, with
 * LMDB's mdb_env_copyfd2(MDB_CP_COMPACT): free pages are left out and the
 * pages renumbered, so the copy is a fresh data.mdb holding only live
 * data, which `milvusfs -o db=DIR` opens as it is.  Writers go on meanwhile
 * (LMDB readers never block the writer); the copy is what was committed
 * when it began.
 *
 * The copy goes into an unlinked file of the database directory (O_TMPFILE,
 * else mkstemp and unlink): the same file system as the database, so it
 * needs no memory and at most the space the live data takes, and nothing
 * is left behind if the daemon dies.  The caller serves reads from it at
 * any offset (pread), with its exact length, holding no transaction
 * between requests.
 *
 * Locks: the copy's read transaction lives as long as the copy, so it
 * holds grow_lock shared for that long (env.c: the map must not be
 * remapped under a live transaction).  A writer that needs a larger map
 * meanwhile waits for the copy to end; so does every transaction begun
 * after that writer (the lock prefers writers).  Nothing here takes
 * another lock, so that is a wait, not a deadlock.
 */
#include "store/store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define READERS_FULL_TRIES 1000         /* x 1 ms */

/* An unlinked 0600 file in dir, or -errno. */
static int tmp_file(const char *dir)
{
	char *path = NULL;
	int fd;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
#endif
	if (asprintf(&path, "%s/.milvusfs-backup.XXXXXX", dir) < 0)
		return -ENOMEM;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	else
		unlink(path);
	free(path);
	return fd;
}

int store_backup(struct store *st, int *fd_out, uint64_t *size_bytes,
		 struct mfs_err *err)
{
	struct stat sb;
	int fd, rc = 0, tries = 0;

	fd = tmp_file(st->dir);
	if (fd < 0)
		return mfs_errf(err, fd == -ENOSPC || fd == -EDQUOT ? -ENOSPC :
				fd == -ENOMEM ? -ENOMEM : -EIO,
				"backup: cannot make a temporary file in %s: %s",
				st->dir, strerror(-fd));
	for (;;) {
		pthread_rwlock_rdlock(&st->grow_lock);
		rc = st->broken ? MDB_PANIC :
			mdb_env_copyfd2(st->env, fd, MDB_CP_COMPACT);
		pthread_rwlock_unlock(&st->grow_lock);
		if (rc != MDB_READERS_FULL || ++tries >= READERS_FULL_TRIES)
			break;
		struct timespec ts = { 0, 1000000 };
		nanosleep(&ts, NULL);
		if (ftruncate(fd, 0) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
			rc = errno;
			break;
		}
	}
	if (rc) {
		int e = store_mdb_errno(rc, STORE_OP_COMMIT);

		close(fd);
		return mfs_errf(err, e == -ENOSPC ? -ENOSPC : -EIO,
				"backup of %s failed: %s%s", st->dir,
				mdb_strerror(rc), e == -ENOSPC ?
				" (the copy is made in the database's "
				"directory: make room there)" : "");
	}
	if (fstat(fd, &sb) != 0) {
		rc = errno;
		close(fd);
		return mfs_errf(err, -EIO, "backup of %s: %s", st->dir,
				strerror(rc));
	}
	*fd_out = fd;
	*size_bytes = (uint64_t)sb.st_size;
	return 0;
}
