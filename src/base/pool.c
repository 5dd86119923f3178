/* pool.c - a fixed set of workers running parallel for-loops.
 *
 * Design: each mfs_pool_for call is a job on a list; workers and the
 * calling thread take indexes from the job with an atomic counter.  A thread
 * joining a job takes the lowest free bit of the job's slot mask as its
 * worker number and gives it back when it leaves, so numbers are unique
 * among the threads inside one job and stay below nthreads (nthreads - 1
 * workers plus the caller).  The list, the masks and the active counts are
 * protected by pool->lock; job->next is atomic.
 */
#include "base/pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

struct job {
	mfs_pool_fn fn;
	void *arg;
	size_t n;
	atomic_size_t next;             /* next index to hand out */
	uint64_t slots;                 /* protected by pool->lock */
	unsigned active;                /* threads inside; pool->lock */
	struct job *link;               /* pool->lock */
	pthread_cond_t idle;            /* signalled when active drops to 0 */
};

struct mfs_pool {
	unsigned nthreads;
	pthread_t *tids;
	unsigned nworkers;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct job *jobs;               /* protected by lock */
	int stopping;                   /* protected by lock */
};

static void unlink_job(struct mfs_pool *p, struct job *j)
{
	for (struct job **pp = &p->jobs; *pp; pp = &(*pp)->link)
		if (*pp == j) {
			*pp = j->link;
			return;
		}
}

/* Called with p->lock held; returns with it held. */
static void work_on(struct mfs_pool *p, struct job *j)
{
	unsigned slot = (unsigned)__builtin_ctzll(~j->slots);

	j->slots |= 1ull << slot;
	j->active++;
	pthread_mutex_unlock(&p->lock);
	for (;;) {
		size_t i = atomic_fetch_add(&j->next, 1);
		if (i >= j->n)
			break;
		j->fn(j->arg, i, slot);
	}
	pthread_mutex_lock(&p->lock);
	unlink_job(p, j);               /* nothing left to hand out */
	j->slots &= ~(1ull << slot);
	if (--j->active == 0)
		pthread_cond_broadcast(&j->idle);
}

static void *worker(void *arg)
{
	struct mfs_pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		struct job *j = p->jobs;

		while (j && (atomic_load(&j->next) >= j->n ||
			     j->active >= p->nthreads))
			j = j->link;
		if (j) {
			work_on(p, j);
			continue;
		}
		if (p->stopping)
			break;
		pthread_cond_wait(&p->wake, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int mfs_pool_new(unsigned nthreads, struct mfs_pool **out)
{
	struct mfs_pool *p;

	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > MFS_POOL_THREADS_MAX)
		nthreads = MFS_POOL_THREADS_MAX;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->nthreads = nthreads;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->tids = calloc(nthreads, sizeof(*p->tids));
	if (!p->tids) {
		mfs_pool_free(p);
		return -ENOMEM;
	}
	for (unsigned i = 0; i + 1 < nthreads; i++) {
		if (pthread_create(&p->tids[i], NULL, worker, p)) {
			mfs_pool_free(p);
			return -ENOMEM;
		}
		p->nworkers++;
	}
	*out = p;
	return 0;
}

void mfs_pool_free(struct mfs_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nworkers; i++)
		pthread_join(p->tids[i], NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p->tids);
	free(p);
}

unsigned mfs_pool_size(const struct mfs_pool *p)
{
	return p ? p->nthreads : 1;
}

void mfs_pool_for(struct mfs_pool *p, size_t n, mfs_pool_fn fn, void *arg)
{
	struct job j = { .fn = fn, .arg = arg, .n = n };

	if (n == 0)
		return;
	if (!p || p->nthreads == 1 || n == 1) {
		for (size_t i = 0; i < n; i++)
			fn(arg, i, 0);
		return;
	}
	atomic_init(&j.next, 0);
	pthread_cond_init(&j.idle, NULL);
	pthread_mutex_lock(&p->lock);
	j.link = p->jobs;
	p->jobs = &j;
	pthread_cond_broadcast(&p->wake);
	work_on(p, &j);
	while (j.active > 0)
		pthread_cond_wait(&j.idle, &p->lock);
	unlink_job(p, &j);
	pthread_mutex_unlock(&p->lock);
	pthread_cond_destroy(&j.idle);
}
