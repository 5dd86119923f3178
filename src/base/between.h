/* between.h - a long computation lets its thread do other work now and
 * then.
 *
 * A search that runs in a request thread calls mfs_between() every few
 * microseconds.  When the thread's owner has set mfs_between_hook (the
 * request loop does while it runs a search it answered early, fs/loop.c),
 * the hook may answer other requests there and then; otherwise the call
 * costs one test.  The hook must not wait for the computation that calls
 * it, nor take a lock the computation holds.
 */
#ifndef MFS_BASE_BETWEEN_H
#define MFS_BASE_BETWEEN_H

extern __thread void (*mfs_between_hook)(void);

static inline void mfs_between(void)
{
	if (mfs_between_hook)
		mfs_between_hook();
}

#endif
