/* fs.c - the fs context and the table of FUSE operations.
 *
 * The high-level libfuse API gives every operation a path; the fs resolves
 * it (node.c) and dispatches on the node kind.  Attributes and negative
 * entries are never cached (timeouts 0), so whether a file exists is
 * always what the engine says now: entities and saved queries come and go
 * through other files (delete, search/), which the kernel cannot see.
 * Positive entries are kept for ENTRY_TIMEOUT_S: a path's kind (directory
 * or file) never changes (node.c), every directory change goes through
 * the kernel (mkdir, rmdir, mv), and with a kept entry the kernel still
 * asks the daemon at every stat and open, which answers ENOENT for what is
 * gone.  That spares one LOOKUP per path component of every open (2 of
 * the 10 requests of `cat c/count`).  Control files are direct_io (set at
 * open), so nothing is served stale.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct fs *fs_ctx(void)
{
	return fuse_get_context()->private_data;
}

int fs_new(struct eng *e, const struct fs_opts *opts, struct fs **out,
	   struct mfs_err *err)
{
	struct fs *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return mfs_errf(err, -ENOMEM, "out of memory");
	fs->eng = e;
	fs->sync_fsync = opts->sync_fsync;
	fs->check_perms = opts->check_perms;
	fs->read_only = opts->read_only;
	if (opts->db_dir)
		snprintf(fs->db_dir, sizeof(fs->db_dir), "%s", opts->db_dir);
	fs->uid = getuid();
	fs->gid = getgid();
	clock_gettime(CLOCK_REALTIME, &fs->t0);
	fs_errors_init(&fs->errors);
	pthread_mutex_init(&fs->files_lock, NULL);
	fs_qcache_init(&fs->qcache);
	*out = fs;
	return 0;
}

void fs_set_engine(struct fs *fs, struct eng *e)
{
	fs->eng = e;
	fs_qcache_clear(&fs->qcache);
}

void fs_free(struct fs *fs)
{
	if (!fs)
		return;
	/* Files the kernel never released (requests lost at unmount). */
	while (fs->files)
		fs_file_free(fs, fs->files);
	fs_holds_free(fs);
	fs_errors_fini(&fs->errors);
	pthread_mutex_destroy(&fs->files_lock);
	fs_qcache_fini(&fs->qcache);
	free(fs);
}

int fs_ro_refuse(const char *what, struct mfs_err *err)
{
	return mfs_errf(err, -EROFS, "read-only mount (-o ro): %s would "
			"change the database; mount without ro to change it",
			what);
}

#define ENTRY_TIMEOUT_S 1.0

static void *op_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
	cfg->entry_timeout = ENTRY_TIMEOUT_S;
	cfg->attr_timeout = 0;
	cfg->negative_timeout = 0;
	/* Unlinking an open query must not become a rename to .fuse_hidden */
	cfg->hard_remove = 1;
	cfg->use_ino = 0;
	/* Writes go straight to the daemon, one write(2) at a time. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	return fuse_get_context()->private_data;
}

static int op_statfs(const char *path, struct statvfs *st)
{
	struct fs *fs = fs_ctx();

	memset(st, 0, sizeof(*st));
	if (fs->db_dir[0] && statvfs(fs->db_dir, st) != 0)
		memset(st, 0, sizeof(*st));
	st->f_namemax = STORE_NAME_MAX;
	if (!st->f_bsize)
		st->f_bsize = st->f_frsize = 4096;
	return 0;
}

void fs_fill_ops(struct fuse_operations *ops)
{
	memset(ops, 0, sizeof(*ops));
	ops->init = op_init;
	ops->statfs = op_statfs;
	ops->getattr = fs_op_getattr;
	ops->readdir = fs_op_readdir;
	ops->opendir = fs_op_opendir;
	ops->releasedir = fs_op_releasedir;
	ops->readlink = fs_op_readlink;
	ops->mkdir = fs_op_mkdir;
	ops->rmdir = fs_op_rmdir;
	ops->unlink = fs_op_unlink;
	ops->rename = fs_op_rename;
	ops->access = fs_op_access;
	ops->truncate = fs_op_truncate;
	ops->chmod = fs_op_chmod;
	ops->chown = fs_op_chown;
	ops->utimens = fs_op_utimens;
	ops->mknod = fs_op_mknod;
	ops->symlink = fs_op_symlink;
	ops->link = fs_op_link;
	ops->open = fs_op_open;
	ops->create = fs_op_create;
	ops->read = fs_op_read;
	ops->write = fs_op_write;
	ops->flush = fs_op_flush;
	ops->release = fs_op_release;
	ops->fsync = fs_op_fsync;
}
