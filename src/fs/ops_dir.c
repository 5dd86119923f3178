/* ops_dir.c - FUSE operations on the tree: attributes, directories,
 * mkdir/rmdir/rename/unlink, chmod/chown (perm.c), and the refusals
 * (links, mknod).
 *
 * Lookups of paths that do not exist (getattr, access) are not logged to
 * /.errors: shells and ls probe paths all the time.  Every other failure
 * is logged exactly once, through fs_fail.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs/fs.h"

/* Is path a name over 255 bytes in a search/ or query/ directory (an
 * inline query: SPEC §7 ENAMETOOLONG)?  Elsewhere the lookup says ENOENT
 * and mkdir explains the name rules. */
static bool long_query_name(struct fs *fs, const char *path)
{
	const char *slash = strrchr(path, '/');
	char parent[PATH_MAX];
	struct fs_node pn;
	size_t plen;

	if (!slash || strlen(slash + 1) <= STORE_NAME_MAX)
		return false;
	plen = (size_t)(slash - path);
	if (plen >= sizeof(parent))
		return false;
	memcpy(parent, path, plen);
	parent[plen] = '\0';
	return fs_resolve(fs, parent, &pn) == 0 &&
	       (pn.kind == K_SEARCHDIR || pn.kind == K_QDIR);
}

int fs_op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct fs_node n;
	int rc;

	if (fi && fi->fh) {
		struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;

		fs_node_stat(fs, &f->node, st);
		if (f->node.kind == K_QUERY && !f->qwriter) {
			/* set when the search has run */
			pthread_mutex_lock(&fs->files_lock);
			st->st_size = (off_t)f->qsize;
			pthread_mutex_unlock(&fs->files_lock);
		}
		return 0;
	}
	/* SPEC §7: a name over 255 bytes, inline queries included, is
	 * ENAMETOOLONG, not a missing file */
	rc = fs_resolve(fs, path, &n);
	if (rc == -ENAMETOOLONG && long_query_name(fs, path)) {
		/* Logged, unlike a missing name: nothing else will say why
		 * (the open never comes). */
		struct mfs_err err;
		const char *last = strrchr(path, '/') + 1;

		mfs_errf(&err, rc, "query name too long: at most %d bytes, "
			 "got %zu; save the query in a file of search/ or "
			 "query/ (printf 'k=5\\n0.1,0.2\\n' > search/q) "
			 "and read that, with &key=value overrides if need "
			 "be", STORE_NAME_MAX, strlen(last));
		return fs_fail(fs, "lookup", path, rc, &err);
	}
	if (rc < 0)
		return -ENOENT;
	/* SPEC §12: no x on the collection or partition above, no lookup
	 * (not logged: the kernel may look a name up more than once for
	 * one call, and what a lookup fails at is not logged anyway) */
	if (fs_perm_reach(fs, &n, NULL) < 0)
		return -EACCES;
	if (!fs_node_exists(fs, &n))
		return -ENOENT;
	fs_node_stat(fs, &n, st);
	if (n.kind == K_QUERY) {
		uint64_t size;

		if (fs_query_open_size(fs, &n, &size))
			st->st_size = (off_t)size;
	}
	return 0;
}

int fs_op_access(const char *path, int mask)
{
	struct fs *fs = fs_ctx();
	struct fs_node n;

	if (fs_resolve(fs, path, &n) < 0 || !fs_node_exists(fs, &n))
		return -ENOENT;
	return fs_perm_access(fs, &n, mask);
}

/* ---- readdir ---- */

struct fill {
	void *buf;
	fuse_fill_dir_t filler;
};

static int fill_names(struct fill *fl, const struct eng_names *names)
{
	for (size_t i = 0; i < names->n; i++)
		if (fl->filler(fl->buf, names->name[i], NULL, 0, 0))
			return -ENOBUFS;
	return 0;
}

static void fill_controls(struct fill *fl, unsigned where)
{
	for (int k = 0; k < K_NKINDS; k++)
		if (fs_kinds[k].name && (fs_kinds[k].where & where))
			fl->filler(fl->buf, fs_kinds[k].name, NULL, 0, 0);
}

int fs_op_readdir(const char *path, void *buf, fuse_fill_dir_t filler,
		  off_t off, struct fuse_file_info *fi,
		  enum fuse_readdir_flags flags)
{
	struct fs *fs = fs_ctx();
	struct fill fl = { buf, filler };
	struct eng_names names = { 0, NULL };
	struct mfs_err err;
	struct fs_node n;
	int rc = 0;

	mfs_err_clear(&err);
	rc = fs_resolve(fs, path, &n);
	if (rc < 0)
		return fs_fail(fs, "readdir", path, rc, NULL);
	if (!S_ISDIR(fs_node_mode(&n)))
		return fs_fail(fs, "readdir", path, -ENOTDIR, NULL);
	rc = fs_perm_check(fs, &n, R_OK, &err);
	if (rc < 0)
		return fs_fail(fs, "readdir", path, rc, &err);
	filler(buf, ".", NULL, 0, 0);
	filler(buf, "..", NULL, 0, 0);
	switch (n.kind) {
	case K_ROOT:
		filler(buf, ".errors", NULL, 0, 0);
		rc = eng_coll_list(fs->eng, &names, &err);
		if (rc == 0)
			fill_names(&fl, &names);
		break;
	case K_COLL:
		fill_controls(&fl, FS_AT_COLL);
		rc = eng_part_list(fs->eng, n.coll, &names, &err);
		if (rc == 0)
			fill_names(&fl, &names);
		break;
	case K_PART:
		fill_controls(&fl, FS_AT_PART);
		break;
	case K_ENTDIR:
		/* SPEC §2, §13: entities/ lists nothing, so that rm -rf of a
		 * loaded collection cannot delete its entities one by one;
		 * entities/<id> is still there by name. */
		break;
	case K_SEARCHDIR:
		rc = eng_query_list(fs->eng, n.coll, fs_node_part(&n), &names,
				    &err);
		if (rc == 0)
			fill_names(&fl, &names);
		break;
	case K_QDIR:
		rc = eng_squery_list(fs->eng, n.coll, fs_node_part(&n), &names,
				     &err);
		if (rc == 0)
			fill_names(&fl, &names);
		break;
	default:
		break;
	}
	eng_names_free(&names);
	if (rc < 0)
		return fs_fail(fs, "readdir", path, rc, &err);
	return 0;
}

/* ---- mkdir, rmdir ---- */

/* Longest last component taken, so that name rules (not a bare
 * ENAMETOOLONG) explain a name over 255 bytes; FUSE's own limit. */
#define LAST_MAX 1024

/* Split path into its parent and last component (both in caller arrays
 * of PATH_MAX and LAST_MAX+1 bytes).  -ENAMETOOLONG. */
static int split_last(const char *path, char *parent, char *last)
{
	const char *slash = strrchr(path, '/');
	size_t plen, llen;

	if (!slash)
		return -ENOENT;
	plen = (size_t)(slash - path);
	llen = strlen(slash + 1);
	if (plen >= PATH_MAX || llen > LAST_MAX)
		return -ENAMETOOLONG;
	memcpy(parent, path, plen);
	parent[plen] = '\0';
	if (plen == 0)
		strcpy(parent, "/");
	memcpy(last, slash + 1, llen + 1);
	return 0;
}

int fs_op_mkdir(const char *path, mode_t mode)
{
	struct fs *fs = fs_ctx();
	struct fuse_context *ctx = fuse_get_context();
	struct store_perm perm;
	char parent[PATH_MAX], name[LAST_MAX + 1];
	struct mfs_err err;
	struct fs_node n;
	int rc;

	mfs_err_clear(&err);
	rc = split_last(path, parent, name);
	if (rc < 0)
		return fs_fail(fs, "mkdir", path, rc, NULL);
	rc = fs_resolve(fs, parent, &n);
	if (rc < 0)
		return fs_fail(fs, "mkdir", path, rc, NULL);
	/* SPEC §12: the caller's, with the mode asked for less its umask */
	perm.set = 1;
	perm.uid = ctx->uid;
	perm.gid = ctx->gid;
	perm.mode = mode & ~ctx->umask & 0777;
	if (n.kind == K_ROOT || n.kind == K_COLL)
		rc = fs_perm_check(fs, &n, W_OK | X_OK, &err);
	if (rc < 0) {
		/* said */
	} else if (n.kind == K_ROOT) {
		rc = fmt_name_check("collection", name, &err);
		if (rc == 0)
			rc = eng_coll_create_owned(fs->eng, name, &perm, &err);
	} else if (n.kind == K_COLL) {
		rc = fmt_name_check("partition", name, &err);
		if (rc == 0)
			rc = eng_part_create_owned(fs->eng, n.coll, name, &perm,
						   &err);
	} else {
		rc = mfs_errf(&err, -EPERM, "directories are made at / "
			      "(collections) and in a collection (partitions)"
			      " only");
	}
	if (rc < 0)
		return fs_fail(fs, "mkdir", path, rc, &err);
	return 0;
}

int fs_op_rmdir(const char *path)
{
	struct fs *fs = fs_ctx();
	struct mfs_err err;
	struct fs_node n;
	int rc;

	mfs_err_clear(&err);
	rc = fs_resolve(fs, path, &n);
	if (rc < 0)
		return fs_fail(fs, "rmdir", path, rc, NULL);
	/* SPEC §12: a drop needs w on what is dropped */
	if (n.kind == K_COLL || n.kind == K_PART)
		rc = fs_perm_check(fs, &n, W_OK, &err);
	if (rc < 0)
		return fs_fail(fs, "rmdir", path, rc, &err);
	switch (n.kind) {
	case K_COLL:
		rc = eng_coll_drop(fs->eng, n.coll, &err);
		break;
	case K_PART:
		rc = eng_part_drop(fs->eng, n.coll, n.part, &err);
		break;
	case K_ROOT:
		rc = mfs_errf(&err, -EBUSY, "the root cannot be removed");
		break;
	case K_ENTDIR:
	case K_SEARCHDIR:
	case K_QDIR:
		rc = mfs_errf(&err, -EPERM, "%s/ is part of its directory "
			      "and cannot be removed", fs_kinds[n.kind].name);
		break;
	default:
		rc = -ENOTDIR;
		break;
	}
	fs_qcache_clear(&fs->qcache);   /* saved queries may have gone */
	if (rc < 0)
		return fs_fail(fs, "rmdir", path, rc, &err);
	return 0;
}

/* ---- unlink, rename ---- */

int fs_op_unlink(const char *path)
{
	struct fs *fs = fs_ctx();
	struct mfs_err err;
	struct fs_node n;
	size_t nd = 0;
	int rc;

	mfs_err_clear(&err);
	rc = fs_resolve(fs, path, &n);
	if (rc < 0)
		return fs_fail(fs, "unlink", path, rc, NULL);
	if (n.kind == K_ENTITY || n.kind == K_QUERY || n.kind == K_SQUERY) {
		rc = fs_perm_check(fs, &n, W_OK, &err);
		if (rc < 0)
			return fs_fail(fs, "unlink", path, rc, &err);
	}
	switch (n.kind) {
	case K_ENTITY:
		rc = eng_delete(fs->eng, n.coll, NULL, &n.id, 1, &nd, &err);
		if (rc == 0 && nd == 0)
			rc = mfs_errf(&err, -ENOENT, "entity %" PRId64
				      " not found[collection=%s]", n.id,
				      n.coll);
		break;
	case K_QUERY:
		rc = eng_query_del(fs->eng, n.coll, fs_node_part(&n), n.name,
				   &err);
		fs_qcache_clear(&fs->qcache);
		break;
	case K_SQUERY:
		rc = eng_squery_del(fs->eng, n.coll, fs_node_part(&n), n.name,
				    &err);
		break;
	default:
		if (S_ISDIR(fs_node_mode(&n)))
			rc = -EISDIR;
		else
			rc = mfs_errf(&err, -EPERM, "control files cannot be "
				      "removed");
		break;
	}
	if (rc < 0)
		return fs_fail(fs, "unlink", path, rc, &err);
	if (fs->sync_fsync)
		eng_sync(fs->eng, NULL);
	return 0;
}

int fs_op_rename(const char *from, const char *to, unsigned int flags)
{
	struct fs *fs = fs_ctx();
	char parent[PATH_MAX], name[LAST_MAX + 1];
	struct mfs_err err;
	struct fs_node n, dst;
	int rc;

	mfs_err_clear(&err);
	rc = fs_resolve(fs, from, &n);
	if (rc < 0)
		return fs_fail(fs, "rename", from, rc, NULL);
	if (n.kind != K_COLL) {
		const char *what = n.kind == K_PART ? "partitions" :
			n.kind == K_QUERY || n.kind == K_SQUERY ?
			"saved queries" :
			n.kind == K_ENTITY ? "entities" : "control files";
		rc = mfs_errf(&err, -EPERM, "%s cannot be renamed (only "
			      "collections can)", what);
		goto fail;
	}
	rc = fs_perm_check(fs, &n, W_OK, &err);
	if (rc < 0)
		goto fail;
	rc = split_last(to, parent, name);
	if (rc < 0)
		goto fail;
	if (strcmp(parent, "/") != 0) {
		rc = mfs_errf(&err, -EPERM, "a collection can only be renamed "
			      "within /, got destination %s", to);
		goto fail;
	}
	if (flags & RENAME_EXCHANGE) {
		rc = mfs_errf(&err, -EINVAL, "collections cannot be exchanged");
		goto fail;
	}
	if (fs_resolve(fs, to, &dst) == 0 && dst.kind == K_ERRORS) {
		rc = mfs_errf(&err, -EPERM, "/.errors cannot be replaced");
		goto fail;
	}
	rc = fmt_name_check("collection", name, &err);
	if (rc == 0)
		rc = eng_coll_rename(fs->eng, n.coll, name, &err);
	fs_qcache_clear(&fs->qcache);   /* saved queries changed names */
	if (rc < 0)
		goto fail;
	return 0;
fail:
	/* /.errors names the source (one path, no spaces: SPEC §7) */
	return fs_fail(fs, "rename", from, rc, &err);
}

/* ---- attributes ---- */

int fs_op_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct mfs_err err;
	struct fs_node n;
	int rc;

	mfs_err_clear(&err);
	if (fi && fi->fh) {
		n = ((struct fs_file *)(uintptr_t)fi->fh)->node;
	} else {
		rc = fs_resolve(fs, path, &n);
		if (rc < 0)
			return fs_fail(fs, "truncate", path, rc, NULL);
	}
	if (S_ISDIR(fs_node_mode(&n)))
		return fs_fail(fs, "truncate", path, -EISDIR, NULL);
	if (!(fs_node_mode(&n) & 0222)) {
		rc = mfs_errf(&err, -EACCES, "%s is read-only",
			      n.kind == K_ENTITY ? "an entity" :
			      "this control file");
		return fs_fail(fs, "truncate", path, rc, &err);
	}
	if (!(fi && fi->fh)) {
		rc = fs_perm_check(fs, &n, W_OK, &err);
		if (rc < 0)
			return fs_fail(fs, "truncate", path, rc, &err);
	}
	/* SPEC §4: vectors is an append-only log, truncation is ignored;
	 * the other writable files take whole writes, so there is nothing
	 * to truncate either. */
	return 0;
}

/* The node of path, or of the open file fi (fchmod, fchown). */
static int node_of(struct fs *fs, const char *path, struct fuse_file_info *fi,
		   struct fs_node *n)
{
	if (fi && fi->fh) {
		*n = ((struct fs_file *)(uintptr_t)fi->fh)->node;
		return 0;
	}
	return fs_resolve(fs, path, n);
}

int fs_op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct mfs_err err;
	struct fs_node n;
	int rc;

	mfs_err_clear(&err);
	rc = node_of(fs, path, fi, &n);
	if (rc == 0)
		rc = fs_perm_chmod(fs, &n, mode, &err);
	if (rc < 0)
		return fs_fail(fs, "chmod", path, rc, &err);
	return 0;
}

int fs_op_chown(const char *path, uid_t uid, gid_t gid,
		struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct mfs_err err;
	struct fs_node n;
	int rc;

	mfs_err_clear(&err);
	rc = node_of(fs, path, fi, &n);
	if (rc == 0)
		rc = fs_perm_chown(fs, &n, uid, gid, &err);
	if (rc < 0)
		return fs_fail(fs, "chown", path, rc, &err);
	return 0;
}

int fs_op_utimens(const char *path, const struct timespec tv[2],
		  struct fuse_file_info *fi)
{
	/* touch works; times stay the mount time. */
	return 0;
}

int fs_op_mknod(const char *path, mode_t mode, dev_t dev)
{
	struct mfs_err err;

	mfs_errf(&err, -EPERM, "files can be created in search/ only");
	return fs_fail(fs_ctx(), "mknod", path, -EPERM, &err);
}

int fs_op_symlink(const char *target, const char *path)
{
	struct mfs_err err;

	mfs_errf(&err, -EPERM, "symbolic links are not supported");
	return fs_fail(fs_ctx(), "symlink", path, -EPERM, &err);
}

int fs_op_link(const char *from, const char *to)
{
	struct mfs_err err;

	mfs_errf(&err, -EPERM, "hard links are not supported");
	return fs_fail(fs_ctx(), "link", to, -EPERM, &err);
}
