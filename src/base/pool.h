/* pool.h - the engine's one thread pool: parallel for-loops.
 *
 * One owner of parallelism: searches and index builds split their work here,
 * and OpenBLAS is kept single-threaded (vec_blas_init) so the two never
 * multiply.  Several threads may call mfs_pool_for at once; their tasks share
 * the workers, and each call returns when its own tasks are done.  The
 * calling thread works on its own tasks too, so a call from inside a task
 * cannot deadlock.
 */
#ifndef MFS_BASE_POOL_H
#define MFS_BASE_POOL_H

#include <stddef.h>

struct mfs_pool;

/* fn(arg, i, worker) for i in [0, n).  worker is in [0, mfs_pool_size())
 * and, within one mfs_pool_for call, no two threads run with the same worker
 * value at the same time: per-call scratch indexed by worker needs no lock. */
typedef void (*mfs_pool_fn)(void *arg, size_t i, unsigned worker);

/* Most threads a pool runs: worker numbers are bits of one 64-bit slot
 * mask per call (pool.c). */
#define MFS_POOL_THREADS_MAX 64

/* Start nthreads - 1 workers; the caller of mfs_pool_for is the last
 * thread.  nthreads is clamped to [1, MFS_POOL_THREADS_MAX] (1 means the
 * caller does all work; main.c refuses threads= outside that range).
 * Returns owned *out (free with mfs_pool_free).  0 or -ENOMEM. */
int mfs_pool_new(unsigned nthreads, struct mfs_pool **out);
/* Stop and join the workers; NULL allowed.  No call may be in progress. */
void mfs_pool_free(struct mfs_pool *pool);
/* Number of worker slots (nthreads as clamped; 1 for NULL). */
unsigned mfs_pool_size(const struct mfs_pool *pool);
/* Run fn for every i in [0, n) and return when all have run.  pool may be
 * NULL (runs inline).  Thread-safe. */
void mfs_pool_for(struct mfs_pool *pool, size_t n, mfs_pool_fn fn, void *arg);

#endif
