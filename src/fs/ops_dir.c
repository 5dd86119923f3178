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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

void fs_node_size(struct fs *fs, const struct fs_node *n,
		  struct fs_file *f, struct stat *st)
{
	struct eng_schema sc;
	struct mfs_buf b;
	uint64_t count;

	if (n->kind == K_ALIAS) {
		/* a symlink's size is its target's length */
		char coll[STORE_NAME_MAX + 1];

		if (eng_alias_get(fs->eng, n->name, coll) == 0)
			st->st_size = (off_t)strlen(coll);
		return;
	}
	if (n->kind == K_FVECS) {
		/* count x (4 + vector bytes): no scan */
		if (eng_schema_get(fs->eng, n->coll, &sc, NULL) == 0 &&
		    sc.dim > 0 &&
		    eng_count(fs->eng, n->coll, fs_node_part(n), &count,
			      NULL) == 0)
			st->st_size = (off_t)(count *
				(4 + vec_bytes(sc.vtype, sc.dim)));
		return;
	}
	if (n->kind == K_IDS) {
		/* exact, so that sort(1) and cp size their buffers from it
		 * (GNU sort took a temporary file per 4 KiB of a size-0
		 * file: 19,199 of them for 18,000 ids) */
		uint64_t size;

		if (eng_ids_size(fs->eng, n->coll, fs_node_part(n), &size,
				 NULL) == 0)
			st->st_size = (off_t)size;
		return;
	}
	if (n->kind == K_ERRORS) {
		/* the lines kept (an open descriptor: its stream, which
		 * only grows), modified when the last came: tail -f looks
		 * at both.  fstat(2) asks by path (FUSE sends no handle),
		 * so no line is dropped while one is open (errors.c), and
		 * the two agree. */
		uint64_t dropped, total;
		struct timespec mt;

		fs_errors_span(&fs->errors, &dropped, &total, &mt);
		st->st_size = (off_t)(total - (f ? f->ebase : dropped));
		if (mt.tv_sec)
			st->st_mtim = st->st_ctim = mt;
		return;
	}
	if (!fs_is_generated(n->kind) || !(fs_node_mode(n) & 0444))
		return;
	if (f) {
		/* what this descriptor reads: its content as of open (or of
		 * its last read after a write) */
		bool ready;

		pthread_mutex_lock(&f->lock);
		ready = f->out_ready;
		if (ready)
			st->st_size = (off_t)f->out.len;
		pthread_mutex_unlock(&f->lock);
		if (ready)
			return;
	}
	mfs_buf_init(&b, SIZE_MAX);
	if (fs_ctl_generate(fs, n, &b, NULL) == 0)
		st->st_size = (off_t)b.len;
	mfs_buf_fini(&b);
}

int fs_op_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct fs_node n;
	int rc;

	if (fi && fi->fh) {
		struct fs_file *f = (struct fs_file *)(uintptr_t)fi->fh;

		fs_node_stat(fs, &f->node, st);
		fs_node_size(fs, &f->node, f, st);
		if (f->node.kind == K_QUERY && !f->qwriter) {
			/* set when the search has run */
			pthread_mutex_lock(&fs->files_lock);
			st->st_size = (off_t)f->qsize;
			pthread_mutex_unlock(&fs->files_lock);
		}
		if (f->node.kind == K_BACKUP)
			st->st_size = (off_t)f->backup_size;    /* fixed */
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
	/* a stat may be all a query name gets: no release forgets it */
	if (n.kind == K_QUERY || n.kind == K_SQUERY)
		fs_forget_seen(fs, &n);
	fs_node_stat(fs, &n, st);
	fs_node_size(fs, &n, NULL, st);
	if (n.kind == K_QUERY) {
		uint64_t size;

		if (fs_query_open_size(fs, &n, &size))
			st->st_size = (off_t)size;
	}
	if (n.kind == K_BACKUP) {
		uint64_t size;

		/* SPEC §13: 0 until made; then the newest copy's length */
		if (fs_backup_open_size(fs, &size))
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
		filler(buf, ".backup", NULL, 0, 0);
		rc = eng_coll_list(fs->eng, &names, &err);
		if (rc == 0)
			fill_names(&fl, &names);
		eng_names_free(&names);
		if (rc == 0)
			rc = eng_alias_list(fs->eng, &names, &err);
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
	case K_BACKUPDIR:
		filler(buf, "data.mdb", NULL, 0, 0);
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

/* ---- rm -r: a collection or partition goes whole or not at all ---- */

/* rm -r (and find -delete, shutil.rmtree, busybox rm) opens a directory,
 * unlinks what it lists, and removes the directory last, and GNU rm does
 * not try that last rmdir once anything inside failed.  So that `rm -rf
 * /m/c` drops a released collection and changes nothing in a loaded one
 * (SPEC §13), an unlink or rmdir inside a collection or partition that the
 * calling process holds open as a directory is a step of removing it
 * whole: when released, the control files, the fixed directories and
 * (inside a collection) the partitions "go" without changing anything
 * (the rmdir at the end drops them with it, in one transaction), saved
 * queries go as they would; when anything in it is loaded, every step is
 * EBUSY and nothing is removed. */

int fs_op_opendir(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct fs_dirhold *h;
	struct fs_node n;

	fi->fh = 0;
	if (fs_resolve(fs, path, &n) < 0 ||
	    (n.kind != K_COLL && n.kind != K_PART))
		return 0;               /* readdir says what is wrong */
	h = calloc(1, sizeof(*h));
	if (!h)
		return 0;               /* only rm -r loses its guard */
	h->pid = fuse_get_context()->pid;
	h->is_part = n.kind == K_PART;
	memcpy(h->coll, n.coll, sizeof(h->coll));
	memcpy(h->part, n.part, sizeof(h->part));
	pthread_mutex_lock(&fs->files_lock);
	h->next = fs->holds;
	if (fs->holds)
		fs->holds->prev = h;
	fs->holds = h;
	pthread_mutex_unlock(&fs->files_lock);
	fi->fh = (uint64_t)(uintptr_t)h;
	return 0;
}

static void hold_unlink(struct fs *fs, struct fs_dirhold *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		fs->holds = h->next;
	if (h->next)
		h->next->prev = h->prev;
}

int fs_op_releasedir(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct fs_dirhold *h = (struct fs_dirhold *)(uintptr_t)fi->fh;

	(void)path;
	if (!h)
		return 0;
	pthread_mutex_lock(&fs->files_lock);
	hold_unlink(fs, h);
	pthread_mutex_unlock(&fs->files_lock);
	free(h);
	return 0;
}

void fs_holds_free(struct fs *fs)
{
	while (fs->holds) {
		struct fs_dirhold *h = fs->holds;

		hold_unlink(fs, h);
		free(h);
	}
}

enum removing { RM_NONE, RM_COLL, RM_PART };

/* Is node n (inside a collection or partition, not the directory itself)
 * inside one that the caller holds open? */
static enum removing removing(struct fs *fs, const struct fs_node *n)
{
	pid_t pid = fuse_get_context()->pid;
	enum removing r = RM_NONE;

	if (n->kind == K_ROOT || n->kind == K_ERRORS || n->kind == K_COLL ||
	    n->kind == K_ALIAS || !n->coll[0])
		return RM_NONE;
	pthread_mutex_lock(&fs->files_lock);
	for (struct fs_dirhold *h = fs->holds; h; h = h->next) {
		if (h->pid != pid || strcmp(h->coll, n->coll) != 0)
			continue;
		if (!h->is_part) {
			r = RM_COLL;
			break;
		}
		if (n->kind != K_PART && strcmp(h->part, n->part) == 0)
			r = RM_PART;
	}
	pthread_mutex_unlock(&fs->files_lock);
	return r;
}

/* Is anything of the collection (part NULL) or partition loaded or
 * loading?  Errors count as loaded: nothing is removed then. */
static bool any_loaded(struct fs *fs, const char *coll, const char *part)
{
	struct eng_names names = { 0, NULL };
	enum eng_state st;
	unsigned pr;
	bool any = false;

	if (part)
		return eng_state(fs->eng, coll, part, &st, &pr, NULL) < 0 ||
		       st != ENG_NOTLOAD;
	if (eng_part_list(fs->eng, coll, &names, NULL) < 0)
		return true;
	for (size_t i = 0; i < names.n && !any; i++)
		any = eng_state(fs->eng, coll, names.name[i], &st, &pr,
				NULL) < 0 || st != ENG_NOTLOAD;
	eng_names_free(&names);
	return any;
}

/* A step of rm -r inside what the caller holds open (see above): 1 to go
 * on as a plain unlink or rmdir, 0 when done (nothing to change), or a
 * negative errno (err says why). */
static int removal_step(struct fs *fs, const struct fs_node *n,
			enum removing rm, struct mfs_err *err)
{
	int rc;

	if (rm == RM_NONE)
		return 1;
	rc = fs_perm_check(fs, n, W_OK, err);
	if (rc < 0)
		return rc;
	if (rm == RM_COLL && any_loaded(fs, n->coll, NULL))
		return mfs_errf(err, -EBUSY, "collection cannot be dropped, "
				"collection is loaded, please release it "
				"first (rm -r removes a collection whole: "
				"nothing in it was removed)");
	if (rm == RM_PART && any_loaded(fs, n->coll, n->part))
		return mfs_errf(err, -EBUSY, "partition cannot be dropped, "
				"partition is loaded, please release it first"
				" (rm -r removes a partition whole: nothing in"
				" it was removed)");
	switch (n->kind) {
	case K_QUERY:
	case K_SQUERY:
	case K_ENTITY:
		return 1;
	case K_PART:
		/* the partitions go with their collection, in the one
		 * transaction of its drop (_default and a partition key's
		 * could not go alone) */
		return 0;
	default:
		return 0;       /* a control file or fixed directory */
	}
}

/* The start of a call that changes the database (op on path): err
 * cleared, and on a read-only mount op refused (SPEC §13) and logged: the
 * negative errno then, else 0. */
static int change_begin(struct fs *fs, const char *op, const char *path,
			struct mfs_err *err)
{
	mfs_err_clear(err);
	if (fs->read_only)
		return fs_fail(fs, op, path, fs_ro_refuse(op, err), err);
	return 0;
}

/* The start of rmdir and unlink (op): refuse on a read-only mount,
 * resolve path into n, and take the step of an rm -r (removal_step).  1 to
 * go on, 0 when done, or the negative errno, already logged. */
static int removal_begin(struct fs *fs, const char *op, const char *path,
			 struct fs_node *n, struct mfs_err *err)
{
	int rc;

	rc = change_begin(fs, op, path, err);
	if (rc < 0)
		return rc;
	rc = fs_resolve(fs, path, n);
	if (rc < 0)
		return fs_fail(fs, op, path, rc, NULL);
	rc = removal_step(fs, n, removing(fs, n), err);
	if (rc < 0)
		return fs_fail(fs, op, path, rc, err);
	return rc;
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

	rc = change_begin(fs, "mkdir", path, &err);
	if (rc < 0)
		return rc;
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

	rc = removal_begin(fs, "rmdir", path, &n, &err);
	if (rc <= 0)
		return rc;
	rc = 0;
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
	case K_BACKUPDIR:
		rc = mfs_errf(&err, -EPERM, "/.backup is part of the root "
			      "and cannot be removed");
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

	rc = removal_begin(fs, "unlink", path, &n, &err);
	if (rc <= 0)
		return rc;
	if (n.kind == K_ENTITY || n.kind == K_QUERY || n.kind == K_SQUERY ||
	    n.kind == K_ALIAS) {
		rc = fs_perm_check(fs, &n, W_OK, &err);
		if (rc < 0)
			return fs_fail(fs, "unlink", path, rc, &err);
	}
	switch (n.kind) {
	case K_ALIAS:
		rc = eng_alias_drop(fs->eng, n.name, &err);
		break;
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

/* SPEC §12: a rename of alias n (a new symlink renamed over an alias, as
 * `ln -sfn` does, moves that alias). */
static int rename_alias(struct fs *fs, const struct fs_node *n,
			const char *to, unsigned int flags,
			struct mfs_err *err)
{
	char parent[PATH_MAX], name[LAST_MAX + 1];
	struct fs_node root = { .kind = K_ROOT }, dst;
	int rc;

	rc = fs_perm_check(fs, &root, W_OK | X_OK, err);
	if (rc < 0)
		return rc;
	rc = split_last(to, parent, name);
	if (rc < 0)
		return rc;
	if (strcmp(parent, "/") != 0)
		return mfs_errf(err, -EPERM, "an alias stays at the root, got "
				"destination %s", to);
	if (flags & RENAME_EXCHANGE)
		return mfs_errf(err, -EINVAL, "aliases cannot be exchanged");
	if ((flags & RENAME_NOREPLACE) && fs_resolve(fs, to, &dst) == 0)
		return mfs_errf(err, -EEXIST, "%s exists", to);
	rc = fmt_name_check("alias", name, err);
	if (rc == 0)
		rc = eng_alias_rename(fs->eng, n->name, name, err);
	if (rc == 0 && fs->sync_fsync)
		eng_sync(fs->eng, NULL);
	return rc;
}

int fs_op_rename(const char *from, const char *to, unsigned int flags)
{
	struct fs *fs = fs_ctx();
	char parent[PATH_MAX], name[LAST_MAX + 1];
	struct mfs_err err;
	struct fs_node n, dst;
	int rc;

	rc = change_begin(fs, "rename", from, &err);
	if (rc < 0)
		return rc;
	rc = fs_resolve(fs, from, &n);
	if (rc < 0)
		return fs_fail(fs, "rename", from, rc, NULL);
	if (n.kind == K_ALIAS) {
		rc = rename_alias(fs, &n, to, flags, &err);
		if (rc < 0)
			goto fail;
		return 0;
	}
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

/* chmod (own false: mode) and chown (own: uid, gid) of path. */
static int perm_change(const char *path, struct fuse_file_info *fi, bool own,
		       mode_t mode, uid_t uid, gid_t gid)
{
	struct fs *fs = fs_ctx();
	const char *op = own ? "chown" : "chmod";
	struct mfs_err err;
	struct fs_node n;
	int rc;

	rc = change_begin(fs, op, path, &err);
	if (rc < 0)
		return rc;
	rc = node_of(fs, path, fi, &n);
	if (rc == 0)
		rc = own ? fs_perm_chown(fs, &n, uid, gid, &err)
			 : fs_perm_chmod(fs, &n, mode, &err);
	if (rc < 0)
		return fs_fail(fs, op, path, rc, &err);
	return 0;
}

int fs_op_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	return perm_change(path, fi, false, mode, 0, 0);
}

int fs_op_chown(const char *path, uid_t uid, gid_t gid,
		struct fuse_file_info *fi)
{
	return perm_change(path, fi, true, 0, uid, gid);
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

/* SPEC §12: `ln -s book /m/novels` creates alias novels of collection
 * book; the target is a collection's name (or ./name). */
int fs_op_symlink(const char *target, const char *path)
{
	struct fs *fs = fs_ctx();
	char parent[PATH_MAX], name[LAST_MAX + 1];
	struct fs_node root = { .kind = K_ROOT };
	struct mfs_err err;
	int rc;

	rc = change_begin(fs, "symlink", path, &err);
	if (rc < 0)
		return rc;
	rc = split_last(path, parent, name);
	if (rc < 0)
		return fs_fail(fs, "symlink", path, rc, NULL);
	if (strcmp(parent, "/") != 0) {
		rc = mfs_errf(&err, -EPERM, "symbolic links are aliases, made "
			      "at the root only (ln -s book /m/novels)");
		return fs_fail(fs, "symlink", path, rc, &err);
	}
	rc = fs_perm_check(fs, &root, W_OK | X_OK, &err);
	if (rc < 0)
		return fs_fail(fs, "symlink", path, rc, &err);
	if (strncmp(target, "./", 2) == 0)
		target += 2;
	if (!*target || strchr(target, '/')) {
		rc = mfs_errf(&err, -EINVAL, "an alias names a collection of "
			      "this mount by its name (ln -s book %s), got "
			      "target '%s'", path, target);
		return fs_fail(fs, "symlink", path, rc, &err);
	}
	rc = fmt_name_check("alias", name, &err);
	if (rc == 0)
		rc = eng_alias_set(fs->eng, name, target, false, &err);
	if (rc < 0)
		return fs_fail(fs, "symlink", path, rc, &err);
	if (fs->sync_fsync)
		eng_sync(fs->eng, NULL);
	return 0;
}

int fs_op_readlink(const char *path, char *buf, size_t size)
{
	struct fs *fs = fs_ctx();
	char coll[STORE_NAME_MAX + 1];
	struct fs_node n;

	if (size == 0)
		return -EINVAL;
	if (fs_resolve(fs, path, &n) < 0 || n.kind != K_ALIAS)
		return -EINVAL;         /* not a symlink: readlink(2)'s word */
	if (eng_alias_get(fs->eng, n.name, coll) < 0)
		return -ENOENT;
	snprintf(buf, size, "%s", coll);
	return 0;
}

int fs_op_link(const char *from, const char *to)
{
	struct mfs_err err;

	mfs_errf(&err, -EPERM, "hard links are not supported");
	return fs_fail(fs_ctx(), "link", to, -EPERM, &err);
}
