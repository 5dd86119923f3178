/* node.c - path -> node kind: the file tree of SPEC §2 as a table.
 *
 * A path has at most four components:
 *
 *     /                          K_ROOT
 *     /.errors                   K_ERRORS
 *     /.backup[/data.mdb]        K_BACKUPDIR, K_BACKUP
 *     /c                         K_COLL
 *     /c/<control>               the collection-level kinds of the table
 *     /c/entities[/<id>]         K_ENTDIR, K_ENTITY
 *     /c/search[/<name>]         K_SEARCHDIR, K_QUERY
 *     /c/query[/<name>]          K_QDIR, K_SQUERY
 *     /c/p                       K_PART
 *     /c/p/<control>             the partition-level kinds of the table
 *     /c/p/search[/<name>]       K_SEARCHDIR, K_QUERY
 *     /c/p/query[/<name>]        K_QDIR, K_SQUERY
 *
 * Collections and partitions are looked up in the engine's cache, so a
 * resolution costs no LMDB transaction; entity and query existence is
 * checked separately (fs_node_exists) by the operations that need it.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DIR_MODE (S_IFDIR | 0755)
#define R_MODE (S_IFREG | 0444)
#define W_MODE (S_IFREG | 0200)
#define RW_MODE (S_IFREG | 0644)
#define CP (FS_AT_COLL | FS_AT_PART)

const struct fs_kind_info fs_kinds[K_NKINDS] = {
	[K_ROOT]       = { NULL,            DIR_MODE, 0 },
	[K_ERRORS]     = { NULL,            R_MODE,   0 },
	[K_COLL]       = { NULL,            DIR_MODE, 0 },
	[K_PART]       = { NULL,            DIR_MODE, 0 },
	[K_SCHEMA]     = { "schema",        RW_MODE,  FS_AT_COLL },
	[K_INDEX]      = { "index",         RW_MODE,  FS_AT_COLL },
	[K_LOAD]       = { "load",          RW_MODE,  CP },
	[K_RELEASE]    = { "release",       W_MODE,   CP },
	[K_STATE]      = { "state",         R_MODE,   CP },
	[K_COUNT]      = { "count",         R_MODE,   CP },
	[K_PARTITIONS] = { "partitions",    R_MODE,   FS_AT_COLL },
	[K_VECTORS]    = { "vectors",       RW_MODE,  CP },
	[K_FVECS]      = { "vectors.fvecs", RW_MODE,  CP },
	[K_DELETE]     = { "delete",        W_MODE,   CP },
	[K_IDS]        = { "ids",           R_MODE,   FS_AT_PART },
	[K_ENTDIR]     = { "entities",      DIR_MODE, FS_AT_COLL },
	[K_ENTITY]     = { NULL,            R_MODE,   0 },
	[K_SEARCHDIR]  = { "search",        DIR_MODE, CP },
	[K_QUERY]      = { NULL,            RW_MODE,  0 },
	[K_ENTJSONL]   = { "entities.jsonl", RW_MODE, CP },
	[K_UPSERT]     = { "upsert",        W_MODE,   CP },
	[K_QDIR]       = { "query",         DIR_MODE, CP },
	[K_SQUERY]     = { NULL,            RW_MODE,  0 },
	[K_BACKUPDIR]  = { NULL,            S_IFDIR | 0500, 0 },
	/* 0600, though writes are refused: `cp` gives the copy the same
	 * mode, and the daemon must be able to open the copy read-write */
	[K_BACKUP]     = { NULL,            S_IFREG | 0600, 0 },
	[K_STATS]      = { "stats",         R_MODE,   CP },
	[K_COMPACT]    = { "compact",       RW_MODE,  FS_AT_COLL },
	[K_ALIAS]      = { NULL,            S_IFLNK | 0777, 0 },
};

/* The control kind called name at level where, or K_NKINDS. */
static enum fs_kind control(const char *name, unsigned where)
{
	for (int k = 0; k < K_NKINDS; k++)
		if (fs_kinds[k].name && (fs_kinds[k].where & where) &&
		    strcmp(fs_kinds[k].name, name) == 0)
			return (enum fs_kind)k;
	return K_NKINDS;
}

/* Entity ids in names: canonical decimal int64 (as `cat vectors` prints
 * them), nothing else: no sign but '-', no leading zero, no "-0", so one
 * entity has one name (SPEC §2). */
static int parse_id(const char *s, int64_t *out)
{
	const char *d = *s == '-' ? s + 1 : s;
	char *end;
	long long v;

	if (*d < '0' || *d > '9' || (d[0] == '0' && (d[1] || d != s)))
		return -ENOENT;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -ENOENT;
	*out = v;
	return 0;
}

int fs_resolve(struct fs *fs, const char *path, struct fs_node *out)
{
	char comp[4][STORE_NAME_MAX + 1];
	size_t nc = 0;
	const char *p = path;

	memset(out, 0, sizeof(*out));
	while (*p) {
		const char *s;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - s);
		if (nc == 4)
			return -ENOENT;
		if (len > STORE_NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(comp[nc], s, len);
		comp[nc][len] = '\0';
		nc++;
	}
	if (nc == 0) {
		out->kind = K_ROOT;
		return 0;
	}
	if (nc == 1 && strcmp(comp[0], ".errors") == 0) {
		out->kind = K_ERRORS;
		return 0;
	}
	if (strcmp(comp[0], ".backup") == 0) {
		/* SPEC §13; fmt's name rules keep collections from it */
		if (nc == 1)
			out->kind = K_BACKUPDIR;
		else if (nc == 2 && strcmp(comp[1], "data.mdb") == 0)
			out->kind = K_BACKUP;
		else
			return -ENOENT;
		return 0;
	}
	if (!eng_coll_exists(fs->eng, comp[0])) {
		/* SPEC §12: an alias is a symlink; the kernel follows it,
		 * so no path goes through one */
		if (nc != 1 || eng_alias_get(fs->eng, comp[0], NULL) < 0)
			return -ENOENT;
		out->kind = K_ALIAS;
		strcpy(out->name, comp[0]);
		return 0;
	}
	strcpy(out->coll, comp[0]);
	if (nc == 1) {
		out->kind = K_COLL;
		return 0;
	}

	enum fs_kind k = control(comp[1], FS_AT_COLL);
	size_t i = 2;           /* next component after the level's dir */
	if (k == K_NKINDS) {
		if (fmt_name_reserved(comp[1]) ||
		    !eng_part_exists(fs->eng, comp[0], comp[1]))
			return -ENOENT;
		strcpy(out->part, comp[1]);
		if (nc == 2) {
			out->kind = K_PART;
			return 0;
		}
		k = control(comp[2], FS_AT_PART);
		if (k == K_NKINDS)
			return -ENOENT;
		i = 3;
	}
	out->kind = k;
	if (nc == i)
		return 0;
	if (nc != i + 1)
		return -ENOENT;
	if (k == K_ENTDIR) {
		if (parse_id(comp[i], &out->id) < 0)
			return -ENOENT;
		out->kind = K_ENTITY;
		strcpy(out->name, comp[i]);
		return 0;
	}
	if (k == K_SEARCHDIR) {
		out->kind = K_QUERY;
		strcpy(out->name, comp[i]);
		return 0;
	}
	if (k == K_QDIR) {
		out->kind = K_SQUERY;
		strcpy(out->name, comp[i]);
		return 0;
	}
	return -ENOENT;
}

bool fs_node_exists(struct fs *fs, const struct fs_node *n)
{
	switch (n->kind) {
	case K_ENTITY:
		return eng_entity_get(fs->eng, n->coll, n->id, NULL, NULL,
				      NULL) == 0;
	case K_QUERY:
		return fs_query_exists(fs, n);
	case K_SQUERY:
		return fs_squery_exists(fs, n);
	default:
		return true;
	}
}

mode_t fs_node_mode(const struct fs_node *n)
{
	return fs_kinds[n->kind].mode;
}

void fs_node_stat(struct fs *fs, const struct fs_node *n, struct stat *st)
{
	struct fs_owner o;

	fs_node_owner(fs, n, &o);
	memset(st, 0, sizeof(*st));
	st->st_mode = (fs_node_mode(n) & S_IFMT) | o.mode;
	st->st_nlink = S_ISDIR(st->st_mode) ? 2 : 1;
	st->st_uid = o.uid;
	st->st_gid = o.gid;
	st->st_size = 0;        /* SPEC §2: control files have no size */
	st->st_blksize = 4096;
	st->st_atim = st->st_mtim = st->st_ctim = fs->t0;
}
