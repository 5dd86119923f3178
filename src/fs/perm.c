/* perm.c - owners, groups and modes of the tree, and the daemon's own
 * permission checks (SPEC §12).
 *
 * Collections and partitions have an owner, a group and a mode, kept in
 * the database (struct store_perm).  Everything else takes them from the
 * directory it lives in: the root and /.errors the daemon's user (0755,
 * 0444); a collection's files, entities/, search/ and query/ the
 * collection's; a partition's the partition's, and a partition that has
 * none of its own follows its collection.  A file's mode is its kind's
 * (readable, writable or both, node.c) cut down by its directory's: a
 * class that may read the directory may read its readable files, a class
 * that may write it may write its writable ones, so a read-only file
 * stays read-only for everyone.
 *
 * Checks: with -o allow_other (or allow_root) other users reach the
 * mount, and without default_permissions the kernel checks nothing, so
 * the daemon checks every request itself (fs->check_perms): search (x) on
 * the collection and partition above a node, r to read or list, w for
 * every change.  Root passes, as the kernel lets it.  Who may chmod and
 * chown follows POSIX whatever the mount options: the owner or root
 * changes the mode, only root changes the owner, the owner may change the
 * group to one of its own groups.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Supplementary groups looked at, at most (the kernel's NGROUPS_MAX is
 * 65536; a caller in more groups than this is judged on the first). */
#define GROUPS_MAX 256

#define DEFAULT_DIR_MODE 0755

static void default_owner(struct fs *fs, struct fs_owner *o)
{
	o->uid = fs->uid;
	o->gid = fs->gid;
	o->mode = DEFAULT_DIR_MODE;
}

/* The owner of the collection (part NULL) or partition. */
static void dir_owner(struct fs *fs, const char *coll, const char *part,
		      struct fs_owner *o)
{
	struct store_perm pm;

	if (eng_perm_get(fs->eng, coll, part, &pm) == 0 && pm.set) {
		o->uid = pm.uid;
		o->gid = pm.gid;
		o->mode = pm.mode & 0777;
	} else {
		default_owner(fs, o);
	}
}

void fs_node_owner(struct fs *fs, const struct fs_node *n, struct fs_owner *o)
{
	mode_t kind = fs_kinds[n->kind].mode;
	mode_t dm;

	switch (n->kind) {
	case K_ROOT:
		default_owner(fs, o);
		return;
	case K_ERRORS:
		default_owner(fs, o);
		o->mode = 0444;
		return;
	case K_ALIAS:
		default_owner(fs, o);
		o->mode = 0777;         /* a symlink's */
		return;
	case K_BACKUPDIR:
	case K_BACKUP:
		/* SPEC §13: the whole database, for its owner only */
		default_owner(fs, o);
		o->mode = fs_kinds[n->kind].mode & 0777;
		return;
	default:
		break;
	}
	dir_owner(fs, n->coll, fs_node_part(n), o);
	if (S_ISDIR(kind))
		return;
	dm = o->mode;
	o->mode = ((kind & 0444) ? dm & 0444 : 0) |
		  ((kind & 0222) ? dm & 0222 : 0);
}

/* Is the caller in group gid (its own or a supplementary one)? */
static bool in_group(const struct fuse_context *ctx, gid_t gid)
{
	gid_t list[GROUPS_MAX];
	int n;

	if (ctx->gid == gid)
		return true;
	n = fuse_getgroups(GROUPS_MAX, list);
	if (n > GROUPS_MAX)
		n = GROUPS_MAX;
	for (int i = 0; i < n; i++)
		if (list[i] == gid)
			return true;
	return false;
}

/* Do the bits of o let the caller do want (R_OK | W_OK | X_OK)? */
static bool allowed(const struct fuse_context *ctx, const struct fs_owner *o,
		    int want)
{
	unsigned bits = 0, need = 0;

	if (ctx->uid == 0)
		return true;
	if (want & R_OK)
		need |= 4;
	if (want & W_OK)
		need |= 2;
	if (want & X_OK)
		need |= 1;
	if (ctx->uid == o->uid)
		bits = (o->mode >> 6) & 7;
	else if (((o->mode >> 3) & need) != (o->mode & need) &&
		 in_group(ctx, o->gid))
		bits = (o->mode >> 3) & 7;      /* group and other differ */
	else
		bits = o->mode & 7;
	return (bits & need) == need;
}

static const char *want_word(int want)
{
	return (want & W_OK) ? "w" : (want & R_OK) ? "r" : "x";
}

static int denied(const struct fuse_context *ctx, const char *what,
		  const char *name, const struct fs_owner *o, int want,
		  struct mfs_err *err)
{
	return mfs_errf(err, -EACCES, "permission denied: %s needs %s "
			"permission on %s %s (owner %u, group %u, mode %04o), "
			"caller uid %u gid %u", want & W_OK ? "a change" :
			want & R_OK ? "reading" : "reaching it",
			want_word(want), what, name, (unsigned)o->uid,
			(unsigned)o->gid, (unsigned)o->mode,
			(unsigned)ctx->uid, (unsigned)ctx->gid);
}

int fs_perm_reach(struct fs *fs, const struct fs_node *n,
		  struct mfs_err *err)
{
	struct fuse_context *ctx = fuse_get_context();
	struct fs_owner o;

	if (!fs->check_perms || !ctx || ctx->uid == 0)
		return 0;
	if (n->kind == K_ROOT || n->kind == K_ERRORS || n->kind == K_COLL ||
	    n->kind == K_BACKUPDIR || n->kind == K_BACKUP ||
	    n->kind == K_ALIAS)
		return 0;       /* the root is 0755: everyone searches it */
	dir_owner(fs, n->coll, NULL, &o);
	if (!allowed(ctx, &o, X_OK))
		return denied(ctx, "collection", n->coll, &o, X_OK, err);
	if (n->part[0] && n->kind != K_PART) {
		dir_owner(fs, n->coll, n->part, &o);
		if (!allowed(ctx, &o, X_OK)) {
			char name[2 * STORE_NAME_MAX + 2];

			snprintf(name, sizeof(name), "%s/%s", n->coll, n->part);
			return denied(ctx, "partition", name, &o, X_OK, err);
		}
	}
	return 0;
}

int fs_perm_check(struct fs *fs, const struct fs_node *n, int want,
		  struct mfs_err *err)
{
	struct fuse_context *ctx = fuse_get_context();
	char name[2 * STORE_NAME_MAX + 2];
	struct fs_owner o;
	int rc;

	if (!fs->check_perms || !ctx || ctx->uid == 0)
		return 0;
	rc = fs_perm_reach(fs, n, err);
	if (rc < 0)
		return rc;
	/* A file's own bits are its directory's cut to its kind, and the
	 * kind's refusals (read-only, write-only) have their own messages:
	 * what is judged here is the directory. */
	if (n->kind == K_BACKUPDIR || n->kind == K_BACKUP)
		return fs_backup_allowed(fs, err);
	if (n->kind == K_ROOT || n->kind == K_ERRORS || n->kind == K_ALIAS) {
		/* an alias is changed in the root */
		struct fs_node root = { .kind = K_ROOT };

		fs_node_owner(fs, &root, &o);
		if (allowed(ctx, &o, want))
			return 0;
		return denied(ctx, "the root", "/", &o, want, err);
	}
	dir_owner(fs, n->coll, fs_node_part(n), &o);
	if (allowed(ctx, &o, want))
		return 0;
	if (n->part[0])
		snprintf(name, sizeof(name), "%s/%s", n->coll, n->part);
	else
		snprintf(name, sizeof(name), "%s", n->coll);
	return denied(ctx, n->part[0] ? "partition" : "collection", name, &o,
		      want, err);
}

int fs_perm_access(struct fs *fs, const struct fs_node *n, int mask)
{
	struct fuse_context *ctx = fuse_get_context();
	struct fs_owner o;

	if (fs_perm_reach(fs, n, NULL) < 0)
		return -EACCES;
	fs_node_owner(fs, n, &o);
	if (!ctx || ctx->uid == 0) {
		/* root: everything but executing what no one may */
		if ((mask & X_OK) && !(o.mode & 0111))
			return -EACCES;
		return 0;
	}
	return allowed(ctx, &o, mask & (R_OK | W_OK | X_OK)) ? 0 : -EACCES;
}

/* ---- chmod, chown ---- */

static const char *dir_word(const struct fs_node *n)
{
	return n->kind == K_PART ? "partition" : "collection";
}

/* n's owner in *o, for a chmod or chown (cmd) of n, which must be a
 * collection or a partition (what it has of its own: "modes", "owners")
 * that the caller reaches. */
static int own_dir(struct fs *fs, const struct fs_node *n, const char *what,
		   const char *cmd, struct fs_owner *o, struct mfs_err *err)
{
	int rc;

	if (n->kind != K_COLL && n->kind != K_PART)
		return mfs_errf(err, -EPERM, "only collections and partitions "
				"have %s of their own: the files inside "
				"follow their directory (%s the directory)",
				what, cmd);
	rc = fs_perm_reach(fs, n, err);
	if (rc < 0)
		return rc;
	fs_node_owner(fs, n, o);
	return 0;
}

int fs_perm_chmod(struct fs *fs, const struct fs_node *n, mode_t mode,
		  struct mfs_err *err)
{
	struct fuse_context *ctx = fuse_get_context();
	struct store_perm pm;
	struct fs_owner o;
	int rc;

	rc = own_dir(fs, n, "modes", "chmod", &o, err);
	if (rc < 0)
		return rc;
	if (ctx && ctx->uid != 0 && ctx->uid != o.uid)
		return mfs_errf(err, -EPERM, "only the owner (uid %u) or root "
				"may change the mode of %s %s, caller uid %u",
				(unsigned)o.uid, dir_word(n),
				n->kind == K_PART ? n->part : n->coll,
				(unsigned)ctx->uid);
	pm.set = 1;
	pm.uid = o.uid;
	pm.gid = o.gid;
	/* SPEC §12 has no use for setuid, setgid and sticky bits */
	pm.mode = mode & 0777;
	return eng_perm_set(fs->eng, n->coll, fs_node_part(n), &pm, err);
}

int fs_perm_chown(struct fs *fs, const struct fs_node *n, uid_t uid,
		  gid_t gid, struct mfs_err *err)
{
	struct fuse_context *ctx = fuse_get_context();
	struct store_perm pm;
	struct fs_owner o;
	int rc;

	rc = own_dir(fs, n, "owners", "chown", &o, err);
	if (rc < 0)
		return rc;
	if (uid == (uid_t)-1)
		uid = o.uid;
	if (gid == (gid_t)-1)
		gid = o.gid;
	if (ctx && ctx->uid != 0) {
		const char *name = n->kind == K_PART ? n->part : n->coll;

		if (uid != o.uid)
			return mfs_errf(err, -EPERM, "only root may change the "
					"owner of %s %s (owner %u), caller uid "
					"%u", dir_word(n), name,
					(unsigned)o.uid, (unsigned)ctx->uid);
		if (ctx->uid != o.uid)
			return mfs_errf(err, -EPERM, "only the owner (uid %u) "
					"or root may change the group of %s "
					"%s, caller uid %u", (unsigned)o.uid,
					dir_word(n), name, (unsigned)ctx->uid);
		if (gid != o.gid && !in_group(ctx, gid))
			return mfs_errf(err, -EPERM, "the owner may change the "
					"group of %s %s only to a group of its "
					"own, and is not in group %u",
					dir_word(n), name, (unsigned)gid);
	}
	pm.set = 1;
	pm.uid = uid;
	pm.gid = gid;
	pm.mode = o.mode;
	return eng_perm_set(fs->eng, n->coll, fs_node_part(n), &pm, err);
}
