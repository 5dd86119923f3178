/* engine.c - opening and closing the engine, background threads, helpers.
 *
 * eng_open builds struct eng (locks, thread pool, catalog cache read from
 * the store) and starts the background reload of the partitions that were
 * loaded at the last close.  Background work (that reload, index builds
 * with wait = false) runs in threads listed in e->bg and joined at
 * eng_close; finished ones are reaped when the next one starts.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"

void eng_rwlock_init(pthread_rwlock_t *l)
{
	pthread_rwlockattr_t a;

	/* glibc's default prefers readers: a steady stream of searches would
	 * starve an insert waiting for part->ilock.  Prefer writers (the
	 * engine never takes a read lock recursively). */
	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(l, &a);
	pthread_rwlockattr_destroy(&a);
}

static void opts_defaults(const struct eng_opts *o, struct eng *e)
{
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	long pages = sysconf(_SC_PHYS_PAGES);
	long psize = sysconf(_SC_PAGESIZE);

	e->threads = o && o->threads ? o->threads
				     : (unsigned)(cores > 0 ? cores : 1);
	if (o && o->memory_limit_bytes)
		e->memory_limit = o->memory_limit_bytes;
	else if (pages > 0 && psize > 0)
		/* As Milvus query nodes: 90% of physical memory. */
		e->memory_limit = (uint64_t)pages * (uint64_t)psize / 10 * 9;
	else
		e->memory_limit = UINT64_MAX;
	e->max_partitions = o && o->max_partitions ? o->max_partitions : 1024;
	e->report = o ? o->report : NULL;
	e->report_arg = o ? o->report_arg : NULL;
	e->read_only = o && o->read_only;
}

int eng_open(struct store *st, const struct eng_opts *opts, struct eng **out,
	     struct mfs_err *err)
{
	struct eng *e;
	int rc;

	e = calloc(1, sizeof(*e));
	if (!e)
		return mfs_errf(err, -ENOMEM, "out of memory");
	e->st = st;
	opts_defaults(opts, e);
	pthread_mutex_init(&e->wmu, NULL);
	eng_rwlock_init(&e->cat);
	pthread_mutex_init(&e->memmu, NULL);
	pthread_mutex_init(&e->bgmu, NULL);
	atomic_init(&e->closing, false);
	vec_blas_init();
	rc = mfs_pool_new(e->threads, &e->pool);
	if (rc < 0) {
		mfs_errf(err, rc, "cannot start %u threads", e->threads);
		goto fail_locks;
	}
	rc = eng_catalog_read(e, err);
	if (rc < 0)
		goto fail_catalog;
	rc = eng_reload_start(e, err);
	if (rc < 0)
		goto fail_catalog;
	*out = e;
	return 0;

fail_catalog:
	eng_catalog_free(e);
	mfs_pool_free(e->pool);
fail_locks:
	pthread_mutex_destroy(&e->bgmu);
	pthread_mutex_destroy(&e->memmu);
	pthread_rwlock_destroy(&e->cat);
	pthread_mutex_destroy(&e->wmu);
	free(e);
	return rc;
}

static void bg_join_all(struct eng *e)
{
	for (;;) {
		struct eng_bg *b;

		pthread_mutex_lock(&e->bgmu);
		b = e->bg;
		if (b)
			e->bg = b->next;
		pthread_mutex_unlock(&e->bgmu);
		if (!b)
			return;
		pthread_join(b->tid, NULL);
		free(b);
	}
}

void eng_close(struct eng *e)
{
	if (!e)
		return;
	atomic_store(&e->closing, true);
	bg_join_all(e);
	eng_checkpoint_all(e);          /* SPEC §11: the next load adds none */
	eng_catalog_free(e);
	mfs_pool_free(e->pool);
	pthread_mutex_destroy(&e->bgmu);
	pthread_mutex_destroy(&e->memmu);
	pthread_rwlock_destroy(&e->cat);
	pthread_mutex_destroy(&e->wmu);
	free(e);
}

int eng_sync(struct eng *e, struct mfs_err *err)
{
	int rc = store_sync(e->st);

	if (rc < 0)
		return mfs_errf(err, rc, "cannot sync the database: %s",
				strerror(-rc));
	return 0;
}

int eng_backup(struct eng *e, int *fd, uint64_t *size_bytes,
	       struct mfs_err *err)
{
	return store_backup(e->st, fd, size_bytes, err);
}

void eng_names_free(struct eng_names *names)
{
	if (!names)
		return;
	for (size_t i = 0; i < names->n; i++)
		free(names->name[i]);
	free(names->name);
	names->name = NULL;
	names->n = 0;
}

const char *eng_state_name(enum eng_state s)
{
	switch (s) {
	case ENG_LOADING:
		return "Loading";
	case ENG_LOADED:
		return "Loaded";
	default:
		return "NotLoad";
	}
}

/* ---- background threads ---- */

struct bg_start {
	struct eng *e;
	struct eng_bg *self;
	void *(*fn)(void *);
	void *arg;
};

static void *bg_main(void *arg)
{
	struct bg_start s = *(struct bg_start *)arg;

	free(arg);
	s.fn(s.arg);
	pthread_mutex_lock(&s.e->bgmu);
	s.self->done = true;
	pthread_mutex_unlock(&s.e->bgmu);
	return NULL;
}

/* Join threads that have finished (caller holds nothing). */
static void bg_reap(struct eng *e)
{
	struct eng_bg *done = NULL;

	pthread_mutex_lock(&e->bgmu);
	for (struct eng_bg **pp = &e->bg; *pp;) {
		struct eng_bg *b = *pp;

		if (b->done) {
			*pp = b->next;
			b->next = done;
			done = b;
		} else {
			pp = &b->next;
		}
	}
	pthread_mutex_unlock(&e->bgmu);
	while (done) {
		struct eng_bg *b = done;

		done = b->next;
		pthread_join(b->tid, NULL);
		free(b);
	}
}

int eng_bg_start(struct eng *e, void *(*fn)(void *), void *arg)
{
	struct eng_bg *b;
	struct bg_start *s;
	int rc;

	bg_reap(e);
	b = calloc(1, sizeof(*b));
	s = malloc(sizeof(*s));
	if (!b || !s) {
		free(b);
		free(s);
		return -ENOMEM;
	}
	*s = (struct bg_start){ .e = e, .self = b, .fn = fn, .arg = arg };
	pthread_mutex_lock(&e->bgmu);
	rc = pthread_create(&b->tid, NULL, bg_main, s);
	if (rc == 0) {
		b->next = e->bg;
		e->bg = b;
	}
	pthread_mutex_unlock(&e->bgmu);
	if (rc != 0) {
		free(b);
		free(s);
		return -rc;
	}
	return 0;
}

int eng_write(struct eng *e, store_fn fn, void *arg, struct mfs_err *err)
{
	int rc;

	pthread_mutex_lock(&e->wmu);
	rc = store_write(e->st, fn, arg, err);
	pthread_mutex_unlock(&e->wmu);
	return rc;
}

void eng_fmt_bytes(uint64_t n, char *buf, size_t cap)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, cap, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, cap, "%.1f %s", v, unit[u]);
}

int eng_mem_charge(struct eng *e, uint64_t need, const char *what,
		   const char *hint, struct mfs_err *err)
{
	int rc = 0;

	pthread_mutex_lock(&e->memmu);
	if (need > e->memory_limit || e->mem_used > e->memory_limit - need) {
		char n[32], l[32], u[32];

		eng_fmt_bytes(need, n, sizeof(n));
		eng_fmt_bytes(e->memory_limit, l, sizeof(l));
		eng_fmt_bytes(e->mem_used, u, sizeof(u));
		rc = mfs_errf(err, -ENOMEM,
			      "%s failed: memory not enough: need %s, limit %s, in use %s%s",
			      what, n, l, u, hint);
	} else {
		e->mem_used += need;
	}
	pthread_mutex_unlock(&e->memmu);
	return rc;
}

int eng_mem_reserve(struct eng *e, uint64_t bytes, const char *what,
		    const char *hint, struct mfs_err *err)
{
	return eng_mem_charge(e, bytes, what, hint, err);
}

void eng_mem_unreserve(struct eng *e, uint64_t bytes)
{
	eng_mem_adjust(e, -(int64_t)bytes);
}

void eng_mem_adjust(struct eng *e, int64_t delta)
{
	pthread_mutex_lock(&e->memmu);
	if (delta < 0 && (uint64_t)-delta > e->mem_used)
		e->mem_used = 0;
	else
		e->mem_used += (uint64_t)delta;
	pthread_mutex_unlock(&e->memmu);
}
