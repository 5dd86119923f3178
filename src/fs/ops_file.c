/* ops_file.c - FUSE operations on open files: open/create, read, write,
 * flush (close), release, fsync.
 *
 * Each open makes a struct fs_file (fi->fh), freed in release on every
 * path.  Its lock serializes the operations of one descriptor.  Every
 * file is direct_io with size 0 (SPEC §2): reads are served from the
 * descriptor's buffer, generated at open (small files, search results) or
 * streamed as the reader advances (vectors, vectors.fvecs, ids).
 *
 * A search of search/<name> runs after the reply of the request that
 * started it: the read-only open of a saved or inline query (checked at
 * open), or the write that ends a read-write descriptor's query (a
 * private session, SPEC §6 form 3; only a guess: a text that does not
 * run is run again by the read, which says why).  The file waits on
 * fs->run_head's list (fs->files_lock), f->pending set, until a worker
 * of the loop takes it after its request (fs_run_deferred) or a request
 * of the file itself (read, write, close, release) finds it there
 * (settle): the state is the file's, whichever thread runs it.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

/* Cap on the text one descriptor may write to search/<name>. */
#define QUERY_TEXT_MAX ((size_t)256 << 20)
/* A read-write descriptor's text up to this long is run after the write
 * that ends a line (query_eager); a longer one (a batch, written in many
 * pieces) when it is read, so that no piece pays for a search. */
#define QUERY_EAGER_MAX ((size_t)64 << 10)

/* Count what f's query text and results hold (their capacities, with
 * extra more bytes of text to come) in memory_limit: six descriptors of
 * 256 MiB must not take the daemon past it (SPEC §7 ENOMEM).  The count
 * follows the buffers up and down; fs_file_free gives it back. */
static int file_charge(struct fs *fs, struct fs_file *f, size_t extra,
		       struct mfs_err *err)
{
	uint64_t want = f->out.cap;
	const struct mfs_buf *b = &f->qtext;
	size_t need = b->len + extra + 1, cap = b->cap;
	int rc;

	if (extra && need > cap) {
		/* the capacity mfs_buf_reserve will choose */
		cap = cap ? cap : 256;
		while (cap < need)
			cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	}
	want += cap;
	if (!fs->eng || want == f->charged)
		return 0;
	if (want < f->charged) {
		eng_mem_unreserve(fs->eng, f->charged - want);
		f->charged = want;
		return 0;
	}
	rc = eng_mem_reserve(fs->eng, want - f->charged,
			     extra ? "query text of an open file" :
			     "search results of an open file",
			     "; close descriptors that hold large queries or "
			     "results, or raise memory_limit", err);
	if (rc == 0)
		f->charged = want;
	return rc;
}

/* Append one write(2) to f's query text.  A failure leaves no text:
 * close then saves nothing and says why. */
static int qtext_append(struct fs *fs, struct fs_file *f, const char *buf,
			size_t size, struct mfs_err *err)
{
	int rc;

	f->qwrote = true;
	if (f->qfailed)
		return mfs_errf(err, f->qfailed, "an earlier write on this "
				"descriptor failed: its query is not taken");
	if (size > QUERY_TEXT_MAX - f->qtext.len)
		rc = mfs_errf(err, -EFBIG, "query text longer than %zu "
			      "bytes: it will not be saved", QUERY_TEXT_MAX);
	else
		rc = file_charge(fs, f, size, err);
	if (rc == 0) {
		rc = mfs_buf_append(&f->qtext, buf, size);
		if (rc < 0)
			rc = mfs_errf(err, rc, "out of memory");
	}
	if (rc < 0) {
		f->qfailed = rc;
		mfs_buf_fini(&f->qtext);
		file_charge(fs, f, 0, NULL);
	}
	return rc;
}

static struct fs_file *file_of(struct fuse_file_info *fi)
{
	return (struct fs_file *)(uintptr_t)fi->fh;
}

static struct fs_file *file_new(struct fs *fs, const struct fs_node *n,
				 int flags)
{
	struct fs_file *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->ran, NULL);
	f->node = *n;
	f->flags = flags;
	mfs_buf_init(&f->out, SIZE_MAX);
	mfs_buf_init(&f->pend, SIZE_MAX);
	mfs_buf_init(&f->qtext, QUERY_TEXT_MAX);
	f->line0 = 1;
	f->backup_fd = -1;
	f->qwriter = (n->kind == K_QUERY || n->kind == K_SQUERY) &&
		     (flags & O_ACCMODE) != O_RDONLY;
	pthread_mutex_lock(&fs->files_lock);
	f->next_file = fs->files;
	if (fs->files)
		fs->files->prev_file = f;
	fs->files = f;
	pthread_mutex_unlock(&fs->files_lock);
	return f;
}

static void settle(struct fs *fs, struct fs_file *f, bool run);

void fs_file_free(struct fs *fs, struct fs_file *f)
{
	if (!f)
		return;
	/* a search not taken yet is dropped (an open whose answer did not
	 * reach the client is released at once) */
	pthread_mutex_lock(&f->lock);
	settle(fs, f, false);
	pthread_mutex_unlock(&f->lock);
	fs_query_drop(fs, f->search);
	fs_squery_free(f->squery);
	fs_backup_close(f);
	if (f->ereader)
		fs_errors_reader(&fs->errors, -1);
	if (f->charged && fs->eng)
		eng_mem_unreserve(fs->eng, f->charged);
	eng_fields_put(f->wfields);
	fs_ctl_acc_free(f->wschema);
	pthread_mutex_lock(&fs->files_lock);
	if (f->prev_file)
		f->prev_file->next_file = f->next_file;
	else
		fs->files = f->next_file;
	if (f->next_file)
		f->next_file->prev_file = f->prev_file;
	pthread_mutex_unlock(&fs->files_lock);
	if (f->batch_ready)
		fmt_batch_fini(&f->batch);
	mfs_buf_fini(&f->out);
	mfs_buf_fini(&f->pend);
	mfs_buf_fini(&f->qtext);
	pthread_cond_destroy(&f->ran);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* Run descriptor f's started search s into f->out.  A reader's results
 * are final: a stat of the name reports their length while f is open
 * (readers that size their buffer from st_size take them in one read). */
static int query_finish(struct fs *fs, struct fs_file *f,
			struct fs_search *s, struct mfs_err *err)
{
	int rc = fs_query_finish(fs, s, &f->out, err);

	if (rc == 0) {
		rc = file_charge(fs, f, 0, err);
		if (rc < 0)
			mfs_buf_fini(&f->out);
	}
	if (!f->qwriter) {
		pthread_mutex_lock(&fs->files_lock);
		f->qsize = rc == 0 ? f->out.len : 0;
		pthread_mutex_unlock(&fs->files_lock);
	}
	return rc;
}

/* Does the request loop run what is left after a reply? */
static bool run_after(struct fs *fs)
{
	return __atomic_load_n(&fs->run_after, __ATOMIC_RELAXED);
}

/* Leave f's search (f->search, or a writer's text) to run after the
 * reply.  f->lock held. */
static void enqueue(struct fs *fs, struct fs_file *f)
{
	f->pending = true;
	pthread_mutex_lock(&fs->files_lock);
	f->queued = true;
	f->next_run = NULL;
	if (fs->run_tail)
		fs->run_tail->next_run = f;
	else
		__atomic_store_n(&fs->run_head, f, __ATOMIC_RELEASE);
	fs->run_tail = f;
	pthread_mutex_unlock(&fs->files_lock);
}

/* Take f off the list if no worker has taken it: true if it was on it. */
static bool unqueue(struct fs *fs, struct fs_file *f)
{
	struct fs_file **p, *prev = NULL;
	bool was;

	pthread_mutex_lock(&fs->files_lock);
	was = f->queued;
	if (was) {
		for (p = &fs->run_head; *p != f; p = &(*p)->next_run)
			prev = *p;
		__atomic_store_n(p, f->next_run, __ATOMIC_RELEASE);
		if (fs->run_tail == f)
			fs->run_tail = prev;
		f->queued = false;
		f->next_run = NULL;
	}
	pthread_mutex_unlock(&fs->files_lock);
	return was;
}

/* Run f's pending search: the one started at open (f->search), or a
 * writer's text.  Only the runner touches what it fills (f->out,
 * f->charged, f->search) while f->pending is set. */
static int run_body(struct fs *fs, struct fs_file *f, struct mfs_err *err)
{
	struct fs_search *s = f->search;
	int rc = 0;

	f->search = NULL;
	if (!s)
		rc = fs_query_start(fs, &f->node, f->qtext.data ?
				    f->qtext.data : "", f->qtext.len, &s,
				    err);
	return rc < 0 ? rc : query_finish(fs, f, s, err);
}

/* Record how f's search went and wake its waiters.  f->lock held.  A
 * writer's search that failed is forgotten: its read runs the text
 * again and says why (the text may have been the first piece of its
 * query); a reader's failure is what its reads answer. */
static void run_done(struct fs_file *f, int rc, const struct mfs_err *err)
{
	if (f->qwriter)
		f->qready = rc == 0;
	else if (rc < 0)
		f->qerr = err->code ? *err : (struct mfs_err){ .code = rc };
	f->pending = false;
	pthread_cond_broadcast(&f->ran);
}

/* Settle f's pending search, f->lock held: one no worker has taken is
 * run here (run) or dropped (the text it would answer is replaced, or
 * the file closes unread); one taken is waited for. */
static void settle(struct fs *fs, struct fs_file *f, bool run)
{
	if (f->pending && unqueue(fs, f)) {
		struct mfs_err err;
		int rc;

		mfs_err_clear(&err);
		/* not run: a writer's read runs its text; a reader's search
		 * (f->search) is freed with it */
		rc = run ? run_body(fs, f, &err) : -ECANCELED;
		run_done(f, rc, &err);
	}
	while (f->pending)
		pthread_cond_wait(&f->ran, &f->lock);
}

bool fs_deferred(void)
{
	struct fuse_context *c = fuse_get_context();
	struct fs *fs = c ? c->private_data : NULL;

	/* a worker's first request may be one libfuse answers without a
	 * context (FORGET) */
	if (!fs)
		return false;
	if (!run_after(fs))
		__atomic_store_n(&fs->run_after, true, __ATOMIC_RELAXED);
	return __atomic_load_n(&fs->run_head, __ATOMIC_ACQUIRE) != NULL;
}

void fs_run_deferred(void)
{
	struct fs *fs = fs_ctx();
	struct fs_file *f;
	struct mfs_err err;
	int rc;

	pthread_mutex_lock(&fs->files_lock);
	f = fs->run_head;
	if (f) {
		__atomic_store_n(&fs->run_head, f->next_run,
				 __ATOMIC_RELEASE);
		if (fs->run_tail == f)
			fs->run_tail = NULL;
		f->queued = false;
		f->next_run = NULL;
	}
	pthread_mutex_unlock(&fs->files_lock);
	if (!f)
		return;
	mfs_err_clear(&err);
	rc = run_body(fs, f, &err);
	pthread_mutex_lock(&f->lock);
	run_done(f, rc, &err);
	pthread_mutex_unlock(&f->lock);
}

/* Start the search of read-only descriptor f at open: run it now, or
 * leave it to run after the reply. */
static int query_open(struct fs *fs, struct fs_file *f, struct mfs_err *err)
{
	struct fs_search *s;
	int rc = fs_query_start(fs, &f->node, NULL, 0, &s, err);

	if (rc < 0)
		return rc;
	f->qran = true;
	if (run_after(fs)) {
		f->search = s;
		pthread_mutex_lock(&f->lock);
		enqueue(fs, f);
		pthread_mutex_unlock(&f->lock);
		return 0;
	}
	return query_finish(fs, f, s, err);
}

/* SPEC §6 form 3: the text a read-write descriptor has written ends a
 * line, so it may be the whole query: run it after the write's reply,
 * while the client sends its read, as an open of a saved query does.
 * A write-only descriptor (a shell's >) cannot read: never.  f->lock
 * held. */
static void query_eager(struct fs *fs, struct fs_file *f)
{
	const struct mfs_buf *t = &f->qtext;

	if ((f->flags & O_ACCMODE) != O_RDWR || f->qfailed || t->len == 0 ||
	    t->len > QUERY_EAGER_MAX || t->data[t->len - 1] != '\n' ||
	    !run_after(fs))
		return;
	enqueue(fs, f);
}

static bool is_streamed(enum fs_kind k)
{
	return k == K_VECTORS || k == K_FVECS || k == K_IDS ||
	       k == K_ENTJSONL;
}

bool fs_is_generated(enum fs_kind k)
{
	return k == K_ERRORS || k == K_SCHEMA || k == K_INDEX ||
		k == K_LOAD || k == K_STATE || k == K_COUNT ||
		k == K_PARTITIONS || k == K_ENTITY || k == K_STATS ||
		k == K_COMPACT;
}

/* Open node n; the operation is "open" or "create" for the log. */
static int do_open(struct fs *fs, const char *op, const char *path,
		   const struct fs_node *n, struct fuse_file_info *fi)
{
	int acc = fi->flags & O_ACCMODE;
	bool want_r = acc != O_WRONLY, want_w = acc != O_RDONLY;
	mode_t mode = fs_node_mode(n);
	struct fs_file *f = NULL;
	struct mfs_err err;
	int rc = 0;

	mfs_err_clear(&err);
	if (S_ISDIR(mode))
		return fs_fail(fs, op, path, -EISDIR, NULL);
	if (want_r && !(mode & 0444)) {
		rc = mfs_errf(&err, -EACCES, "%s is write-only",
			      fs_kinds[n->kind].name);
		goto fail;
	}
	if (want_w && (!(mode & 0222) || n->kind == K_BACKUP)) {
		rc = mfs_errf(&err, -EACCES, "%s is read-only",
			      n->kind == K_ENTITY ? "an entity (rm deletes "
			      "it)" : n->kind == K_ERRORS ? ".errors" :
			      n->kind == K_BACKUP ? "the backup" :
			      fs_kinds[n->kind].name);
		goto fail;
	}
	/* SPEC §13: -o ro loads, releases and searches, and changes nothing
	 * else.  A read-write descriptor of search/ or query/ may be a
	 * private session (it reads the answer to what it wrote): it opens,
	 * and only a save at close is refused; a write-only one can only
	 * save. */
	if (want_w && fs->read_only && n->kind != K_LOAD &&
	    n->kind != K_RELEASE &&
	    !((n->kind == K_QUERY || n->kind == K_SQUERY) && acc == O_RDWR)) {
		rc = fs_ro_refuse(n->kind == K_QUERY || n->kind == K_SQUERY ?
				  "saving a query" : "a write", &err);
		goto fail;
	}
	/* SPEC §12: r to read, w to change, on the file's directory */
	rc = fs_perm_check(fs, n, (want_r ? R_OK : 0) | (want_w ? W_OK : 0),
			   &err);
	if (rc < 0)
		goto fail;
	if (n->kind == K_ENTITY && !fs_node_exists(fs, n)) {
		rc = mfs_errf(&err, -ENOENT, "entity %s not found"
			      "[collection=%s]", n->name, n->coll);
		goto fail;
	}
	f = file_new(fs, n, fi->flags);
	if (!f) {
		rc = mfs_errf(&err, -ENOMEM, "out of memory");
		goto fail;
	}
	if (want_r && n->kind == K_ERRORS) {
		/* SPEC §13: a stream from the oldest line kept; reads past
		 * its end take what came since (tail -f) */
		rc = fs_errors_dump_from(&fs->errors, 0, &f->out, &f->ebase);
		f->out_off = 0;
		f->out_ready = true;
		if (rc == 0) {
			fs_errors_reader(&fs->errors, 1);
			f->ereader = true;
		}
	} else if (want_r && fs_is_generated(n->kind)) {
		rc = fs_ctl_generate(fs, n, &f->out, &err);
		f->out_ready = true;
	} else if (n->kind == K_QUERY && acc == O_RDONLY) {
		/* SPEC §6: the query is checked at open, so errors come back
		 * from open (ENODATA, EAGAIN, EINVAL, ENOENT); it may run
		 * just after (query_open). */
		rc = query_open(fs, f, &err);
	} else if (n->kind == K_SQUERY && acc == O_RDONLY) {
		/* SPEC §9: checked and started at open, as search/ */
		rc = fs_squery_start(fs, n, NULL, 0, &f->squery, &f->out,
				     &err);
	} else if (n->kind == K_BACKUP) {
		/* SPEC §13: the copy is made now, consistent as of open */
		rc = fs_backup_open(fs, f, &err);
	}
	if (rc < 0)
		goto fail;
	fi->direct_io = 1;
	fi->keep_cache = 0;
	/* A descriptor that cannot write has nothing to do at close: the
	 * kernel need not send FLUSH (one request fewer per cat). */
	fi->noflush = acc == O_RDONLY;
	/* SPEC §6: a created or emptied search/ or query/ file closed with
	 * nothing written is an empty saved query (fs_op_flush) */
	f->qtrunc = f->qwriter && !strchr(n->name, '&') &&
		    (strcmp(op, "create") == 0 || (fi->flags & O_TRUNC));
	fi->fh = (uint64_t)(uintptr_t)f;
	return 0;
fail:
	fs_file_free(fs, f);
	return fs_fail(fs, op, path, rc, &err);
}

int fs_op_open(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct fs_node n;
	int rc = fs_resolve(fs, path, &n);

	if (rc < 0)
		return fs_fail(fs, "open", path, rc, NULL);
	return do_open(fs, "open", path, &n, fi);
}

int fs_op_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct mfs_err err;
	struct fs_node n;
	int rc;

	mfs_err_clear(&err);
	/* The kernel has found the parent, so a name that does not resolve
	 * to search/<name> is a new file somewhere else. */
	rc = fs_resolve(fs, path, &n);
	if (rc == -ENOENT ||
	    (rc == 0 && n.kind != K_QUERY && n.kind != K_SQUERY))
		rc = mfs_errf(&err, -EPERM, "files can be created in search/ "
			      "and query/ only");
	if (rc == 0 && strchr(n.name, '&'))
		rc = mfs_errf(&err, -EINVAL, "a saved query's name cannot "
			      "contain '&' (it starts the overrides), got "
			      "'%s'", n.name);

	if (rc < 0)
		return fs_fail(fs, "create", path, rc, &err);
	return do_open(fs, "create", path, &n, fi);
}

/* Serve [off, off+size) of a buffer holding the whole content. */
static int serve(const struct mfs_buf *b, char *buf, size_t size,
		 uint64_t off)
{
	size_t n;

	if (off >= b->len)
		return 0;
	n = b->len - (size_t)off;
	if (n > size)
		n = size;
	memcpy(buf, b->data + off, n);
	return (int)n;
}

int fs_op_read(const char *path, char *buf, size_t size, off_t off,
	       struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct fs_file *f = file_of(fi);
	struct mfs_err err;
	size_t got = 0;
	int rc = 0;

	mfs_err_clear(&err);
	if (size > INT32_MAX)
		size = INT32_MAX;
	pthread_mutex_lock(&f->lock);
	if (is_streamed(f->node.kind)) {
		rc = fs_stream_read(fs, f, buf, size, (uint64_t)off, &got,
				    &err);
		if (rc == 0)
			rc = (int)got;
	} else if ((f->node.kind == K_SQUERY || f->node.kind == K_QUERY) &&
		   f->qfailed) {
		rc = mfs_errf(&err, f->qfailed, "a write of this descriptor's "
			      "query failed: there is no query to answer");
	} else if (f->node.kind == K_SQUERY) {
		if (!f->squery) {
			/* SPEC §9: a descriptor reads the answer to what it
			 * wrote (a private session: nothing is stored) */
			mfs_buf_reset(&f->out);
			f->out_off = (uint64_t)off;
			rc = fs_squery_start(fs, &f->node, f->qtext.len ||
					     f->dirty ? (f->qtext.data ?
							 f->qtext.data : "")
						      : NULL,
					     f->qtext.len, &f->squery, &f->out,
					     &err);
			/* read, even if it failed: a private session, the
			 * text is not saved at close */
			f->qran = true;
		}
		if (rc == 0)
			rc = fs_squery_read(fs, f, buf, size, (uint64_t)off,
					    &got, &err);
		if (rc == 0)
			rc = (int)got;
	} else if (f->node.kind == K_QUERY) {
		settle(fs, f, true);
		if (!f->qerr.code && !f->qran) {
			/* SPEC §6: what a descriptor reads answers what
			 * that descriptor wrote: run after the write that
			 * ended it (query_eager), or now. */
			if (f->qready)
				rc = 0;
			else if (f->dirty || f->qtext.len)
				rc = fs_query_run(fs, &f->node, f->qtext.data ?
						  f->qtext.data : "",
						  f->qtext.len, &f->out, &err);
			else
				rc = fs_query_run(fs, &f->node, NULL, 0,
						  &f->out, &err);
			if (rc == 0 && !f->qready) {
				rc = file_charge(fs, f, 0, &err);
				if (rc < 0)
					mfs_buf_fini(&f->out);
			}
			/* read, even if it failed: a private session, its
			 * text is not saved at close; every read until the
			 * next write says why */
			f->qran = true;
			if (rc < 0)
				f->qerr = err.code ? err :
					(struct mfs_err){ .code = rc };
			/* results start where the reader stands */
			f->qbase = (uint64_t)off;
		} else if (f->qerr.code) {
			/* the search failed: every read says so */
			err = f->qerr;
			rc = err.code;
		}
		if (rc == 0) {
			uint64_t pos = (uint64_t)off >= f->qbase ?
				(uint64_t)off - f->qbase : (uint64_t)off;
			rc = serve(&f->out, buf, size, pos);
		}
	} else if (f->node.kind == K_BACKUP) {
		rc = fs_backup_read(f, buf, size, (uint64_t)off, &got, &err);
		if (rc == 0)
			rc = (int)got;
	} else if (f->node.kind == K_ERRORS) {
		/* SPEC §13: offsets are positions in the stream of lines
		 * since open; a read outside what out holds takes the lines
		 * from there on (tail -f), or from the oldest kept when the
		 * ring dropped the ones asked for */
		uint64_t o = (uint64_t)off, start = 0;

		if (o < f->out_off || o >= f->out_off + f->out.len) {
			mfs_buf_reset(&f->out);
			rc = fs_errors_dump_from(&fs->errors, f->ebase + o,
						 &f->out, &start);
			f->out_off = start - f->ebase;
			if (rc < 0)
				rc = mfs_errf(&err, rc, "out of memory");
		}
		if (rc == 0)
			rc = serve(&f->out, buf, size,
				   o > f->out_off ? o - f->out_off : 0);
	} else {
		if (!f->out_ready) {
			mfs_buf_reset(&f->out);
			rc = fs_ctl_generate(fs, &f->node, &f->out, &err);
			if (rc == 0)
				f->out_ready = true;
		}
		if (rc == 0)
			rc = serve(&f->out, buf, size, (uint64_t)off);
	}
	pthread_mutex_unlock(&f->lock);
	if (rc < 0)
		return fs_fail(fs, "read", path, rc, &err);
	return rc;
}

int fs_op_write(const char *path, const char *buf, size_t size, off_t off,
		struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct fs_file *f = file_of(fi);
	struct mfs_err err;
	int rc;

	mfs_err_clear(&err);
	if (size > INT32_MAX)
		return fs_fail(fs, "write", path, -EFBIG, NULL);
	pthread_mutex_lock(&f->lock);
	f->dirty = true;
	switch (f->node.kind) {
	case K_VECTORS:
	case K_FVECS:
	case K_DELETE:
	case K_ENTJSONL:
	case K_UPSERT:
		rc = fs_stream_write(fs, f, buf, size, false, &err);
		break;
	case K_SQUERY:
		if (f->qran) {
			/* a new query after reading the last one's results */
			mfs_buf_reset(&f->qtext);
			fs_squery_free(f->squery);
			f->squery = NULL;
			f->qran = false;
		}
		rc = qtext_append(fs, f, buf, size, &err);
		break;
	case K_QUERY:
		/* the results of the text so far are no answer now */
		settle(fs, f, false);
		if (f->qran || f->qready) {
			if (f->qran)    /* a new query after reading */
				mfs_buf_reset(&f->qtext);
			mfs_buf_fini(&f->out);
			file_charge(fs, f, 0, NULL);
			f->qran = false;
			f->qready = false;
			mfs_err_clear(&f->qerr);
		}
		rc = qtext_append(fs, f, buf, size, &err);
		if (rc == 0)
			query_eager(fs, f);
		break;
	default:
		rc = fs_ctl_write(fs, &f->node, f->flags, buf, size,
				  &f->wschema, &err);
		f->out_ready = false;   /* read again after a write: fresh */
		break;
	}
	pthread_mutex_unlock(&f->lock);
	if (rc < 0)
		return fs_fail(fs, "write", path, rc, &err);
	return (int)size;
}

/* Is the query of n (search/ or query/) saved? */
static bool query_saved(struct fs *fs, const struct fs_node *n)
{
	char *text = NULL;
	size_t len;
	int rc = n->kind == K_QUERY ?
		eng_query_get(fs->eng, n->coll, fs_node_part(n), n->name,
			      &text, &len, NULL) :
		eng_squery_get(fs->eng, n->coll, fs_node_part(n), n->name,
			       &text, &len, NULL);

	free(text);
	return rc == 0;
}

/* Save text as the query of n, unchecked (the empty query). */
static int query_put(struct fs *fs, const struct fs_node *n, const char *text,
		     size_t len, struct mfs_err *err)
{
	int rc = n->kind == K_QUERY ?
		eng_query_put(fs->eng, n->coll, fs_node_part(n), n->name,
			      text, len, err) :
		eng_squery_put(fs->eng, n->coll, fs_node_part(n), n->name,
			       text, len, err);

	fs_qcache_clear(&fs->qcache);
	return rc;
}

/* Remove the query of n, if saved. */
static void query_del(struct fs *fs, const struct fs_node *n)
{
	if (n->kind == K_QUERY)
		eng_query_del(fs->eng, n->coll, fs_node_part(n), n->name,
			      NULL);
	else
		eng_squery_del(fs->eng, n->coll, fs_node_part(n), n->name,
			       NULL);
	fs_qcache_clear(&fs->qcache);
}

int fs_op_flush(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct fs_file *f = file_of(fi);
	struct mfs_err err;
	int rc = 0;

	mfs_err_clear(&err);
	pthread_mutex_lock(&f->lock);
	if (!f->dirty && f->qtrunc && !f->qwrote && !f->qran) {
		/* `: > search/q`, `touch search/q` of a new name: a file
		 * closed with nothing written is an empty saved query, as a
		 * file would be empty; reading it says so.  A saved query
		 * is left as it is (a shell closes a dup of the descriptor
		 * before it writes: the text that follows replaces it at
		 * the last close, or, if bad, leaves it as it was). */
		f->qtrunc = false;
		if (fs->read_only) {
			rc = fs_ro_refuse("saving a query", &err);
		} else if (!query_saved(fs, &f->node)) {
			rc = query_put(fs, &f->node, "", 0, &err);
			f->qempty = rc == 0;
			if (rc == 0 && fs->sync_fsync)
				rc = eng_sync(fs->eng, &err);
		}
	}
	if (f->dirty) {
		/* close(2) may come more than once (dup'd descriptors): act
		 * only on what was written since the last one. */
		f->dirty = false;
		if ((f->node.kind == K_QUERY || f->node.kind == K_SQUERY) &&
		    f->qfailed) {
			/* SPEC §7: a failed operation changes nothing: the
			 * text is not whole, so nothing is saved */
			rc = mfs_errf(&err, f->qfailed, f->qfailed == -EFBIG ?
				      "query not saved: its text passed %zu "
				      "bytes (a write failed)" :
				      "query not saved: a write of its text "
				      "failed (memory_limit)", QUERY_TEXT_MAX);
		}
		switch (rc < 0 ? K_NKINDS : f->node.kind) {
		case K_VECTORS:
		case K_FVECS:
		case K_DELETE:
		case K_ENTJSONL:
		case K_UPSERT:
			/* SPEC §4: the partial last line is a last line */
			rc = fs_stream_write(fs, f, NULL, 0, true, &err);
			break;
		case K_SQUERY:
			/* read after writing: a private session, nothing
			 * is saved (SPEC §6 form 3) */
			if (!f->qran && fs->read_only)
				rc = fs_ro_refuse("saving a query", &err);
			else if (!f->qran)
				rc = fs_squery_save(fs, &f->node,
						    f->qtext.data ?
						    f->qtext.data : "",
						    f->qtext.len, &err);
			break;
		case K_QUERY:
			/* read after writing: a private session, nothing
			 * is saved (SPEC §6 form 3) */
			if (!f->qran && fs->read_only)
				rc = fs_ro_refuse("saving a query", &err);
			else if (!f->qran)
				rc = fs_query_save(fs, &f->node, f->qtext.data ?
						   f->qtext.data : "",
						   f->qtext.len, &err);
			break;
		default:
			break;
		}
		if (rc < 0 && f->qempty) {
			/* SPEC §7: the failed save changes nothing, so the
			 * empty query saved for this descriptor goes too */
			query_del(fs, &f->node);
		}
		f->qempty = false;
		/* a private session wrote nothing: nothing to sync */
		if (rc == 0 && fs->sync_fsync &&
		    !((f->node.kind == K_QUERY || f->node.kind == K_SQUERY) &&
		      f->qran))
			rc = eng_sync(fs->eng, &err);
	}
	pthread_mutex_unlock(&f->lock);
	if (rc < 0)
		return fs_fail(fs, "close", path, rc, &err);
	return 0;
}

int fs_op_release(const char *path, struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct fs_file *f = file_of(fi);
	const struct fs_node *n = &f->node;

	/* An inline name (or a saved one with overrides) is used once and
	 * would stay in the kernel's and libfuse's tables for good: have it
	 * forgotten (fs_forget_name).  A saved query's own name stays. */
	if ((n->kind == K_QUERY || n->kind == K_SQUERY) && f->qwriter &&
	    f->qran && !strchr(n->name, '&')) {
		/* a private session's name, saved or not, stays known (the
		 * next session opens it without a look in the store) */
		fs_forget_keep(fs, n);
	} else if ((n->kind == K_QUERY || n->kind == K_SQUERY) &&
	    (strchr(n->name, '&') ||
	     !((n->kind == K_QUERY && fs_qcache_has(&fs->qcache, n, n->name))
	       || query_saved(fs, n)))) {
		if (f->qwriter && !strchr(n->name, '&'))
			fs_forget_keep(fs, n);  /* a private session's */
		else
			fs_forget_name(fs, n);
	}
	fs_file_free(fs, f);
	fi->fh = 0;
	return 0;
}

int fs_op_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	struct fs *fs = fs_ctx();
	struct mfs_err err;
	int rc;

	mfs_err_clear(&err);
	if (!fs->sync_fsync)
		return 0;
	rc = eng_sync(fs->eng, &err);
	if (rc < 0)
		return fs_fail(fs, "fsync", path, rc, &err);
	return 0;
}
