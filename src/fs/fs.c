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
#include "base/log.h"

#include <errno.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
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
	if (opts->mountpoint)
		snprintf(fs->mnt, sizeof(fs->mnt), "%s", opts->mountpoint);
	pthread_mutex_init(&fs->forget.lock, NULL);
	pthread_cond_init(&fs->forget.cv, NULL);
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
	/* names left waiting at the stop */
	for (size_t i = 0; i < fs->forget.n; i++)
		free(fs->forget.q[(fs->forget.head + i) % fs->forget.cap]);
	free(fs->forget.q);
	pthread_cond_destroy(&fs->forget.cv);
	pthread_mutex_destroy(&fs->forget.lock);
	free(fs);
}

int fs_ro_refuse(const char *what, struct mfs_err *err)
{
	return mfs_errf(err, -EROFS, "read-only mount (-o ro): %s would "
			"change the database; mount without ro to change it",
			what);
}

#define ENTRY_TIMEOUT_S 1.0

/* ---- forgetting the names of inline queries (fs_int.h) ---- */

static void forget_ent(struct fs_forget_ent *e, const struct fs_node *n)
{
	e->squery = n->kind == K_SQUERY;
	e->gone = false;
	memcpy(e->coll, n->coll, sizeof(e->coll));
	memcpy(e->part, n->part, sizeof(e->part));
	memcpy(e->name, n->name, sizeof(e->name));
}

/* e as one allocation, "s" or "q" then coll, part and name each ended by
 * a NUL: what a waiting name costs (fs_int.h).  NULL: no memory. */
static char *forget_pack(const struct fs_forget_ent *e)
{
	size_t lc = strlen(e->coll) + 1, lp = strlen(e->part) + 1;
	size_t ln = strlen(e->name) + 1;
	char *p = malloc(1 + lc + lp + ln);

	if (!p)
		return NULL;
	p[0] = e->squery ? 'q' : 's';
	memcpy(p + 1, e->coll, lc);
	memcpy(p + 1 + lc, e->part, lp);
	memcpy(p + 1 + lc + lp, e->name, ln);
	return p;
}

static void forget_unpack(const char *p, struct fs_forget_ent *e)
{
	size_t lc = strlen(p + 1) + 1, lp = strlen(p + 1 + lc) + 1;

	e->squery = p[0] == 'q';
	e->gone = false;
	memcpy(e->coll, p + 1, lc);
	memcpy(e->part, p + 1 + lc, lp);
	memcpy(e->name, p + 1 + lc + lp, strlen(p + 1 + lc + lp) + 1);
}

/* Double the ring, its names moved to the front (caller holds g->lock).
 * 0, -ENOMEM. */
static int forget_grow(struct fs_forget *g)
{
	char **q;
	size_t cap = g->cap * 2;

	if (cap > SIZE_MAX / sizeof(*q))
		return -ENOMEM;
	q = malloc(cap * sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (size_t i = 0; i < g->n; i++)
		q[i] = g->q[(g->head + i) % g->cap];
	free(g->q);
	g->q = q;
	g->cap = cap;
	g->head = 0;
	return 0;
}

/* Queue e (caller holds g->lock).  A full ring grows; only when memory
 * is short is the name dropped, counted for forget_main to log. */
static void forget_push(struct fs_forget *g, const struct fs_forget_ent *e)
{
	char *p;

	if (!g->started || g->stop)
		return;
	p = forget_pack(e);
	if (!p || (g->n == g->cap && forget_grow(g) < 0)) {
		free(p);
		g->dropped++;
		return;
	}
	g->q[(g->head + g->n) % g->cap] = p;
	if (g->n++ == 0)
		pthread_cond_signal(&g->cv);
}

/* The entry of v[0..n) naming what e names, or NULL. */
static struct fs_forget_ent *forget_find(struct fs_forget_ent *v, size_t n,
					 const struct fs_forget_ent *e)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].squery == e->squery &&
		    strcmp(v[i].name, e->name) == 0 &&
		    strcmp(v[i].coll, e->coll) == 0 &&
		    strcmp(v[i].part, e->part) == 0)
			return &v[i];
	return NULL;
}

/* A release has e forgotten or kept: a lookup noted it needs nothing
 * more (caller holds g->lock). */
static void forget_unsee(struct fs_forget *g, const struct fs_forget_ent *e)
{
	struct fs_forget_ent *s = forget_find(g->seen, g->nseen, e);

	if (s)
		s->gone = true;
}

void fs_forget_name(struct fs *fs, const struct fs_node *n)
{
	struct fs_forget *g = &fs->forget;
	struct fs_forget_ent e;

	forget_ent(&e, n);
	pthread_mutex_lock(&g->lock);
	forget_unsee(g, &e);
	forget_push(g, &e);
	pthread_mutex_unlock(&g->lock);
}

void fs_forget_seen(struct fs *fs, const struct fs_node *n)
{
	struct fs_forget *g = &fs->forget;
	struct fs_forget_ent e, *s;

	forget_ent(&e, n);
	pthread_mutex_lock(&g->lock);
	if (!g->started || g->stop)
		goto out;
	s = forget_find(g->seen, g->nseen, &e);
	if (s) {
		s->gone = false;        /* looked up again since */
		goto out;
	}
	if (g->nseen < FS_FORGET_SEEN) {
		g->seen[g->nseen++] = e;
		goto out;
	}
	s = &g->seen[g->seen_next];
	/* a private session's name stays known (FS_FORGET_KEEP) */
	if (!s->gone && !forget_find(g->keep, g->nkeep, s))
		forget_push(g, s);
	*s = e;
	g->seen_next = (g->seen_next + 1) % FS_FORGET_SEEN;
out:
	pthread_mutex_unlock(&g->lock);
}

void fs_forget_keep(struct fs *fs, const struct fs_node *n)
{
	struct fs_forget *g = &fs->forget;
	struct fs_forget_ent e;

	forget_ent(&e, n);
	pthread_mutex_lock(&g->lock);
	forget_unsee(g, &e);
	if (forget_find(g->keep, g->nkeep, &e))
		goto out;               /* known already */
	if (g->nkeep < FS_FORGET_KEEP) {
		g->keep[g->nkeep++] = e;
	} else {
		forget_push(g, &g->keep[g->keep_next]);
		g->keep[g->keep_next] = e;
		g->keep_next = (g->keep_next + 1) % FS_FORGET_KEEP;
	}
out:
	pthread_mutex_unlock(&g->lock);
}

/* The directory of e's name, through the mount. */
static void forget_dir(const struct fs *fs, const struct fs_forget_ent *e,
		       char *path, size_t size)
{
	const char *d = e->squery ? "query" : "search";

	if (e->part[0])
		snprintf(path, size, "%s/%s/%s/%s", fs->mnt, e->coll, e->part,
			 d);
	else
		snprintf(path, size, "%s/%s/%s", fs->mnt, e->coll, d);
}

#define FORGET_PATH_MAX (PATH_MAX + 2 * STORE_NAME_MAX + 16)

/* Tell the kernel to drop e's name.  The directory's node id is what a
 * stat of it through the mount reports as st_ino (use_ino is off); dir
 * and *dir_ino keep the last one (0: none), stated again when the kernel
 * does not know the name under it (the directory may have been looked
 * up anew, or the name be gone already). */
static void forget_one(struct fs *fs, const struct fs_forget_ent *e,
		       char *dir, fuse_ino_t *dir_ino)
{
	struct fuse_session *se = fs->forget.se;
	char path[FORGET_PATH_MAX];
	size_t len = strlen(e->name);
	struct stat st;
	int rc = -ENOENT;

	forget_dir(fs, e, path, sizeof(path));
	if (*dir_ino && strcmp(path, dir) == 0)
		rc = fuse_lowlevel_notify_inval_entry(se, *dir_ino, e->name,
						      len);
	if (rc != -ENOENT)
		return;
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
		*dir_ino = 0;
		return;
	}
	if (strcmp(path, dir) == 0 && (fuse_ino_t)st.st_ino == *dir_ino)
		return;                 /* the name is gone already */
	memcpy(dir, path, sizeof(path));
	*dir_ino = st.st_ino;
	fuse_lowlevel_notify_inval_entry(se, *dir_ino, e->name, len);
}

/* Names dropped since the last report: say so, once per burst (when the
 * queue has drained, or a minute after the last report), with what it
 * costs (caller holds g->lock, released meanwhile). */
static void forget_report(struct fs_forget *g, bool now)
{
	struct timespec t;
	uint64_t n = g->dropped - g->dropped_told;

	if (n == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (!now && g->n && t.tv_sec - g->told_at < 60)
		return;
	g->dropped_told = g->dropped;
	g->told_at = t.tv_sec;
	pthread_mutex_unlock(&g->lock);
	mfs_log(MFS_LOG_WARN, "out of memory: %llu inline query names were "
		"not queued to be forgotten (%llu since the mount); the kernel "
		"keeps each until the unmount, and the daemon about 200 bytes "
		"for it", (unsigned long long)n,
		(unsigned long long)g->dropped_told);
	pthread_mutex_lock(&g->lock);
}

static void *forget_main(void *arg)
{
	struct fs *fs = arg;
	struct fs_forget *g = &fs->forget;
	struct fs_forget_ent e;
	char dir[FORGET_PATH_MAX] = "";
	fuse_ino_t dir_ino = 0;

	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		forget_report(g, false);
		if (g->n == 0) {
			/* a burst grew the ring: give it back */
			if (g->cap > FS_FORGET_QUEUE) {
				char **q = realloc(g->q,
						   FS_FORGET_QUEUE * sizeof(*q));

				if (q) {
					g->q = q;
					g->cap = FS_FORGET_QUEUE;
				}
			}
			g->head = 0;
			pthread_cond_wait(&g->cv, &g->lock);
			continue;
		}
		forget_unpack(g->q[g->head], &e);
		free(g->q[g->head]);
		g->head = (g->head + 1) % g->cap;
		g->n--;
		pthread_mutex_unlock(&g->lock);
		forget_one(fs, &e, dir, &dir_ino);
		pthread_mutex_lock(&g->lock);
	}
	forget_report(g, true);
	g->done = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

/* At init: start the thread, every signal blocked (the stop signals
 * belong to the loop's thread).  Without it names are only not
 * forgotten. */
static void forget_start(struct fs *fs, struct fuse_session *se)
{
	struct fs_forget *g = &fs->forget;
	sigset_t all, old;
	int rc;

	if (!fs->mnt[0])
		return;
	g->q = calloc(FS_FORGET_QUEUE, sizeof(*g->q));
	g->cap = FS_FORGET_QUEUE;
	if (!g->q) {
		mfs_log(MFS_LOG_ERROR, "out of memory: inline query names "
			"will not be forgotten");
		return;
	}
	g->se = se;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&g->tid, NULL, forget_main, fs);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		mfs_log(MFS_LOG_ERROR, "cannot start a thread (%s): inline "
			"query names will not be forgotten", strerror(rc));
		return;
	}
	pthread_mutex_lock(&g->lock);
	g->started = true;
	pthread_mutex_unlock(&g->lock);
}

void fs_forget_stop(struct fs *fs)
{
	struct fs_forget *g = &fs->forget;

	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->lock);
}

bool fs_forget_wait(struct fs *fs, unsigned ms)
{
	struct fs_forget *g = &fs->forget;
	struct timespec ts;
	bool running;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&g->lock);
	while (g->started && !g->done && ms &&
	       pthread_cond_timedwait(&g->cv, &g->lock, &ts) == 0)
		;
	running = g->started && !g->done;
	pthread_mutex_unlock(&g->lock);
	return running;
}

static void op_destroy(void *data)
{
	struct fs *fs = data;
	struct fs_forget *g = &fs->forget;

	/* fs_loop has stopped the thread; a stop with no loop run (no
	 * request can wait then) */
	fs_forget_stop(fs);
	if (g->started)
		pthread_join(g->tid, NULL);
	g->started = false;
}

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
	forget_start(fuse_get_context()->private_data,
		     fuse_get_session(fuse_get_context()->fuse));
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
	ops->destroy = op_destroy;
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
