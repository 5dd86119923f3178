/* backup.c - /.backup/data.mdb: a hot backup as a file (SPEC §13).
 *
 * Opening the file makes the copy (eng_backup: a compacted copy of the
 * whole database in one read transaction, written to an unlinked file of
 * the database directory), so `cp /m/.backup/data.mdb /safe/db/` copies
 * the database as of the open while the mount goes on serving.  The open
 * returns when the copy is made; reads are then served from the copy at
 * any offset with pread, holding no transaction and no memory, and the
 * copy's length is the file's st_size for that descriptor (and for a stat
 * of the path while it is open).  Each open makes its own copy; closing
 * the descriptor frees it.
 *
 * Who may read it: the copy is every collection, so only root and the
 * daemon's user (the owner of the database files) may open it, whatever
 * the collections' own modes say (the file is 0400, /.backup 0500).
 *
 * Locks: backup_fd and backup_size are set at open before the file is
 * visible to reads; backup_size is written under fs->files_lock, which a
 * stat of the path takes to find the newest copy.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int fs_backup_allowed(struct fs *fs, struct mfs_err *err)
{
	struct fuse_context *ctx = fuse_get_context();

	if (!ctx || ctx->uid == 0 || ctx->uid == fs->uid)
		return 0;
	return mfs_errf(err, -EACCES, "permission denied: the backup holds "
			"every collection: only root and the daemon's user "
			"(uid %u) may read it, caller uid %u",
			(unsigned)fs->uid, (unsigned)ctx->uid);
}

int fs_backup_open(struct fs *fs, struct fs_file *f, struct mfs_err *err)
{
	uint64_t size;
	int fd, rc;

	rc = fs_backup_allowed(fs, err);
	if (rc < 0)
		return rc;
	rc = eng_backup(fs->eng, &fd, &size, err);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&fs->files_lock);
	f->backup_fd = fd;
	f->backup_size = size;
	pthread_mutex_unlock(&fs->files_lock);
	return 0;
}

int fs_backup_read(struct fs_file *f, char *buf, size_t size, uint64_t off,
		   size_t *got, struct mfs_err *err)
{
	size_t done = 0;

	if (f->backup_fd < 0)
		return mfs_errf(err, -EIO, "no backup copy on this descriptor");
	if (off >= f->backup_size) {
		*got = 0;
		return 0;
	}
	if (size > f->backup_size - off)
		size = (size_t)(f->backup_size - off);
	while (done < size) {
		ssize_t n = pread(f->backup_fd, buf + done, size - done,
				  (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return mfs_errf(err, -EIO, "reading the backup copy: %s",
					n < 0 ? strerror(errno) :
					"it is shorter than it was made");
		done += (size_t)n;
	}
	*got = done;
	return 0;
}

void fs_backup_close(struct fs_file *f)
{
	if (f->backup_fd >= 0)
		close(f->backup_fd);
	f->backup_fd = -1;
}

bool fs_backup_open_size(struct fs *fs, uint64_t *size)
{
	bool found = false;

	pthread_mutex_lock(&fs->files_lock);
	/* the list holds the newest open first */
	for (struct fs_file *f = fs->files; f; f = f->next_file)
		if (f->node.kind == K_BACKUP && f->backup_fd >= 0) {
			*size = f->backup_size;
			found = true;
			break;
		}
	pthread_mutex_unlock(&fs->files_lock);
	return found;
}
