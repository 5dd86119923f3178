/* loop.c - the multi-threaded FUSE request loop: the thread that answered a
 * request reads the next one.
 *
 * libfuse's fuse_loop_mt wakes the longest-idle of its workers for each
 * request, so a client that sends one request after another (`cat c/count`
 * is 7 of them) meets a different thread, often on the other CPU, every
 * time: a cross-CPU wake-up and cold caches per request (measured on 2
 * cores: `cat c/count` 0.15-0.20 ms with it, 0.08 ms with one thread).
 *
 * Here one worker at a time reads /dev/fuse (the reader).  Having taken a
 * request it processes it and, when done, reads again itself.  One more
 * worker, the spare, watches: every SPARE_POLL_US it looks whether the
 * reader is still away on the same request it was away on last time; if
 * so, the request is a slow one (a blocking index build, a large import or
 * search) and the spare becomes the reader, so other requests wait at most
 * about two polls behind a slow one.  Another worker then becomes the
 * spare: an idle one, or a new one up to max_threads workers.  A worker
 * that comes back from a request to find another reader and another spare
 * goes idle.  While no request arrives for IDLE_POLLS polls the spare
 * sleeps until the reader takes the next one.
 *
 * After answering, the reader looks for the next request for spin_us
 * (-o spin=, default FS_SPIN_US_DEFAULT) before it sleeps in read(2)
 * (spin_for_next): on the 2-core virtual machine of the benchmarks a
 * wake-up from sleep cost up to 50 us a request (`cat c/count` 0.35-0.43
 * ms without the spin, 0.11-0.16 ms with it, measured one after the
 * other), far more than the spin's CPU.
 *
 * Workers block every signal: the calling thread gets SIGINT, SIGTERM
 * and SIGHUP (fs_signals_set: their handler only notes the stop) and
 * waits.  At a stop it first has the fs's own thread stop
 * (fs_forget_stop) while the workers still answer every request: that
 * thread may be waiting, in the kernel, on a LOOKUP only they answer, and
 * libfuse drops, unanswered, a request it reads once the session is
 * marked ended (its own signal handlers mark it at once: a client's LOOKUP
 * read just then stayed unanswered, holding its directory's lock, the
 * thread's notification waited on that lock and the daemon on the thread,
 * for good).  Only then does it end the session, cancel the reader out
 * of its read(2) and join everyone.  A worker can be cancelled only while
 * it reads.  After an unmount (the read fails with ENODEV) the kernel has
 * ended every request already, so the thread returns by itself.
 *
 * Locking: l->lock guards every field of struct loop below it; it is never
 * held across a read or a request.
 */
#include "fs/fs_int.h"
#include "base/log.h"

#include <errno.h>
#include <poll.h>
#include <fuse_lowlevel.h>
#include <linux/fuse.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SPARE_POLL_US 500
/* A worker's receive buffer (libfuse's, 1 MiB and a page: the largest
 * request) is resident as far as the largest request it took reached, for
 * good: up to 10 MiB over the workers after large writes.  A worker frees
 * it after a request larger than this; libfuse allocates it again at the
 * next receive, untouched. */
#define BUF_KEEP_BYTES (64 * 1024)
#define IDLE_POLLS 2000                 /* one second without a request */

struct loop {
	struct fuse_session *se;
	sem_t finish;                   /* posted when the session ends */
	pthread_mutex_t lock;
	pthread_cond_t wake;            /* the spare's; CLOCK_MONOTONIC */
	pthread_cond_t idle_cv;         /* idle workers' */
	bool reading;                   /* a worker is in receive */
	bool spare;                     /* a worker is the spare */
	bool spare_asleep;              /* ... waiting without a timeout */
	bool want_spare;                /* an idle worker should be it */
	unsigned nidle;
	uint64_t taken;                 /* requests taken so far */
	unsigned max_workers;
	unsigned spin_us;               /* fixed */
	pthread_t *tid;                 /* max_workers slots */
	bool *live;                     /* tid[i] was started, not joined */
	int err;                        /* first receive error */
};

static int start_worker(struct loop *l);
static void ending(struct loop *l, int err);

/* After a request: run the search it left, if any (fs_run_deferred: an
 * open of search/<name> answered before its search ran).  Meanwhile the
 * spare takes over reading, as behind any slow request.  (Answering the
 * client's IOCTL and GETATTRs from inside the search, at hooks in HNSW's
 * walk, was tried and removed: on glove100, HNSW ef default, lone
 * searches with `cat count` from another client, p50 of the searches
 * 213 us with it and 212 us without, of the counts 305 and 296 us, means
 * of four alternating runs.) */
static void run_deferred(void)
{
	if (fs_deferred())
		fs_run_deferred();
}

/* What a read of the device answered, with the end of the connection
 * as 0: an unmount (ENODEV, already 0; also what a write to the fusectl
 * abort file gives here) or ECONNABORTED, which the kernel answered once
 * in about 160 lazy unmounts (`fusermount3 -uz`) with clients still in
 * the mount (tests/fs/shutdown.sh).  Either way no request will come
 * again and nothing is lost (every acknowledged write was committed
 * before its answer), so the daemon ends as after an unmount, with a
 * log line. */
static int read_end(int res)
{
	/* every reader sees it: one line (one loop per process) */
	static atomic_flag said = ATOMIC_FLAG_INIT;

	if (res == -ECONNABORTED) {
		if (!atomic_flag_test_and_set(&said))
			mfs_log(MFS_LOG_WARN, "the kernel aborted the FUSE connection: nothing more to serve, stopping");
		return 0;
	}
	return res;
}

static void ending(struct loop *l, int err)
{
	if (err < 0 && !l->err)
		l->err = err;
	fuse_session_exit(l->se);
	pthread_cond_broadcast(&l->wake);
	pthread_cond_broadcast(&l->idle_cv);
	sem_post(&l->finish);
}

/* As the spare: 1 to take over reading, 0 to end (session over). */
static int be_spare(struct loop *l)
{
	uint64_t seen = l->taken;
	unsigned quiet = 0;
	bool away = false;

	l->spare = true;
	while (!fuse_session_exited(l->se)) {
		struct timespec ts;

		if (quiet >= IDLE_POLLS && l->reading) {
			l->spare_asleep = true;
			pthread_cond_wait(&l->wake, &l->lock);
			l->spare_asleep = false;
			quiet = 0;
			seen = l->taken;
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += SPARE_POLL_US * 1000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&l->wake, &l->lock, &ts);
		if (l->taken != seen) {
			seen = l->taken;
			quiet = 0;
			away = !l->reading;
			continue;
		}
		quiet++;
		if (l->reading) {
			away = false;
			continue;
		}
		/* No one reading, and no request taken since the last
		 * poll: the reader is still away on the same one. */
		if (away) {
			l->spare = false;
			return 1;
		}
		away = true;
	}
	l->spare = false;
	return 0;
}

/* After answering, look for the next request for up to spin_us before
 * sleeping in read(2): a client's requests come a few microseconds apart
 * (open, fstat, read, read, close), and a thread woken from sleep, on a
 * virtual machine's idle CPU above all, costs tens of microseconds per
 * request. */
static void spin_for_next(struct loop *l)
{
	struct pollfd p = { .fd = fuse_session_fd(l->se), .events = POLLIN };
	struct timespec t0, t;

	if (l->spin_us == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (poll(&p, 1, 0) != 0)
			return;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000000000L +
		 (t.tv_nsec - t0.tv_nsec) < l->spin_us * 1000L);
}

/* A worker's buffer. */
static void buf_free(void *arg)
{
	struct fuse_buf *buf = arg;

	free(buf->mem);
	buf->mem = NULL;
}

/* A new spare is needed (the old one became the reader). */
static void need_spare(struct loop *l)
{
	if (l->nidle) {
		l->want_spare = true;
		pthread_cond_signal(&l->idle_cv);
	} else {
		start_worker(l);        /* -EAGAIN at max_workers: none */
	}
}

static void *worker(void *arg)
{
	struct loop *l = arg;
	struct fuse_buf buf;
	int res;

	memset(&buf, 0, sizeof(buf));
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&l->lock);
	while (!fuse_session_exited(l->se)) {
		if (l->reading && l->spare) {
			/* a reader and a spare already: wait until one is
			 * wanted */
			l->nidle++;
			while (!l->want_spare && !fuse_session_exited(l->se))
				pthread_cond_wait(&l->idle_cv, &l->lock);
			l->nidle--;
			l->want_spare = false;
			continue;
		}
		if (l->reading) {
			if (!be_spare(l))
				break;
			need_spare(l);
		}
		l->reading = true;
		pthread_mutex_unlock(&l->lock);
		spin_for_next(l);
		/* cancelled in the read (the session is over): free buf */
		pthread_cleanup_push(buf_free, &buf);
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		res = read_end(fuse_session_receive_buf(l->se, &buf));
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		pthread_cleanup_pop(0);
		pthread_mutex_lock(&l->lock);
		l->reading = false;
		if (res == -EINTR)
			continue;
		if (res <= 0) {         /* 0: unmounted */
			ending(l, res);
			break;
		}
		l->taken++;
		if (l->spare_asleep)
			pthread_cond_signal(&l->wake);
		pthread_mutex_unlock(&l->lock);
		fuse_session_process_buf(l->se, &buf);
		run_deferred();
		if ((size_t)res > BUF_KEEP_BYTES)
			buf_free(&buf);
		pthread_mutex_lock(&l->lock);
	}
	pthread_mutex_unlock(&l->lock);
	buf_free(&buf);
	return NULL;
}

/* Start one more worker, signals blocked (under l->lock). */
static int start_worker(struct loop *l)
{
	sigset_t all, old;
	unsigned i;
	int rc;

	for (i = 0; i < l->max_workers && l->live[i]; i++)
		;
	if (i == l->max_workers)
		return -EAGAIN;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&l->tid[i], NULL, worker, l);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -rc;
	l->live[i] = true;
	return 0;
}

/* ---- the stop signals ----
 *
 * File-scope state, against the house rule, because a signal handler can
 * reach nothing else; there is one loop per process. */

static volatile sig_atomic_t stop_sig;  /* the stop signal taken, or 0 */
static sem_t *volatile stop_sem;        /* the running loop's, or NULL */

static void on_stop(int sig)
{
	sem_t *s = stop_sem;

	stop_sig = sig;
	if (s)
		sem_post(s);            /* async-signal-safe */
}

static const int stop_sigs[] = { SIGINT, SIGTERM, SIGHUP };

/* Install on_stop for sig if it is at its default; *set: whether it was. */
static int take_signal(int sig, void (*fn)(int), bool *set)
{
	struct sigaction sa, old;

	*set = false;
	if (sigaction(sig, NULL, &old) != 0)
		return -errno;
	if (old.sa_handler != SIG_DFL)
		return 0;               /* ignored (nohup) or another's */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;                /* no SA_RESTART: waits end EINTR */
	if (sigaction(sig, &sa, NULL) != 0)
		return -errno;
	*set = true;
	return 0;
}

static bool stop_taken[3];

int fs_signals_set(void)
{
	struct sigaction sa;

	stop_sig = 0;
	for (size_t i = 0; i < 3; i++) {
		int rc = take_signal(stop_sigs[i], on_stop, &stop_taken[i]);

		if (rc < 0)
			return rc;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;        /* as libfuse: no death by a pipe */
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -errno;
	return 0;
}

void fs_signals_restore(void)
{
	for (size_t i = 0; i < 3; i++)
		if (stop_taken[i]) {
			signal(stop_sigs[i], SIG_DFL);
			stop_taken[i] = false;
		}
}

/* ---- ending ---- */

/* Once the loop has ended without a stop signal (unmount, a failed read):
 * the fs's thread may still run.  After an unmount the kernel has ended
 * every request and it returns by itself; after a failed read it may
 * wait on a request no one read: answer requests here until it has
 * returned.  The mark of the ended session is cleared meanwhile (libfuse
 * drops what it reads under it) and the stop signals wait. */
static void answer_until_forgotten(struct fs *fs, struct fuse_session *se)
{
	struct pollfd p = { .fd = fuse_session_fd(se), .events = POLLIN };
	struct fuse_buf buf;
	sigset_t sigs, old;
	bool reading = true;
	unsigned answered = 0;

	fs_forget_stop(fs);
	if (!fs_forget_wait(fs, 0))
		return;
	memset(&buf, 0, sizeof(buf));
	sigemptyset(&sigs);
	for (size_t i = 0; i < 3; i++)
		sigaddset(&sigs, stop_sigs[i]);
	pthread_sigmask(SIG_BLOCK, &sigs, &old);
	fuse_session_reset(se);
	while (fs_forget_wait(fs, reading ? 0 : 10)) {
		int res;

		if (!reading || poll(&p, 1, 10) <= 0)
			continue;
		res = fuse_session_receive_buf(se, &buf);
		if (res == -EINTR)
			continue;
		if (res <= 0) {         /* unmounted: it will not wait */
			reading = false;
			continue;
		}
		fuse_session_process_buf(se, &buf);
		answered++;
	}
	if (answered)
		mfs_log(MFS_LOG_INFO, "stop: %u requests answered after the "
			"loop ended", answered);
	free(buf.mem);
	fuse_session_exit(se);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* -s: the calling thread reads and answers.  It waits in ppoll with the
 * stop signals open, and reads with them open too (a read that has taken
 * a request returns it; one still waiting ends EINTR), so a stop is seen
 * at once and no request is dropped.  At a stop it goes on answering
 * until the fs's thread has returned. */
static int loop_single(struct fs *fs, struct fuse_session *se)
{
	struct pollfd p = { .fd = fuse_session_fd(se), .events = POLLIN };
	struct timespec tick = { 0, 10 * 1000000L };
	struct fuse_buf buf;
	sigset_t sigs, open_mask;
	int rc = 0;

	memset(&buf, 0, sizeof(buf));
	sigemptyset(&sigs);
	for (size_t i = 0; i < 3; i++)
		sigaddset(&sigs, stop_sigs[i]);
	pthread_sigmask(SIG_BLOCK, &sigs, &open_mask);
	sigdelset(&open_mask, SIGINT);
	sigdelset(&open_mask, SIGTERM);
	sigdelset(&open_mask, SIGHUP);
	while (!fuse_session_exited(se)) {
		int res;

		if (stop_sig) {
			/* the fs's thread first, answering what it needs */
			fs_forget_stop(fs);
			if (!fs_forget_wait(fs, 0))
				break;
		}
		res = ppoll(&p, 1, stop_sig ? &tick : NULL, &open_mask);
		if (res <= 0)
			continue;       /* a signal, or the tick */
		pthread_sigmask(SIG_SETMASK, &open_mask, NULL);
		res = read_end(fuse_session_receive_buf(se, &buf));
		pthread_sigmask(SIG_BLOCK, &sigs, NULL);
		if (res == -EINTR)
			continue;
		if (res <= 0) {         /* 0: unmounted */
			rc = res;
			break;
		}
		fuse_session_process_buf(se, &buf);
	}
	pthread_sigmask(SIG_SETMASK, &open_mask, NULL);
	free(buf.mem);
	fuse_session_exit(se);
	answer_until_forgotten(fs, se);
	return rc < 0 ? rc : 0;
}

int fs_loop(struct fs *fs, struct fuse *fuse, unsigned max_threads,
	    unsigned spin_us)
{
	struct loop l;
	pthread_condattr_t ca;
	int rc;

	if (max_threads == 1)
		return loop_single(fs, fuse_get_session(fuse));
	memset(&l, 0, sizeof(l));
	l.se = fuse_get_session(fuse);
	l.max_workers = max_threads < 2 ? 2 : max_threads;
	l.spin_us = spin_us;
	l.tid = calloc(l.max_workers, sizeof(*l.tid));
	l.live = calloc(l.max_workers, sizeof(*l.live));
	if (!l.tid || !l.live) {
		free(l.tid);
		free(l.live);
		return -ENOMEM;
	}
	sem_init(&l.finish, 0, 0);
	pthread_mutex_init(&l.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l.wake, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&l.idle_cv, NULL);

	pthread_mutex_lock(&l.lock);
	rc = start_worker(&l);          /* the reader */
	if (rc == 0)
		rc = start_worker(&l);  /* the spare */
	pthread_mutex_unlock(&l.lock);
	if (rc < 0) {
		pthread_mutex_lock(&l.lock);
		ending(&l, rc);
		pthread_mutex_unlock(&l.lock);
	}
	stop_sem = &l.finish;
	while (!fuse_session_exited(l.se) && !stop_sig)
		sem_wait(&l.finish);    /* EINTR: a signal, look again */
	/* A stop: the fs's thread first, while the workers answer what it
	 * waits on (they end only with the session) */
	fs_forget_stop(fs);
	while (fs_forget_wait(fs, 100) && !fuse_session_exited(l.se))
		;
	stop_sem = NULL;

	pthread_mutex_lock(&l.lock);
	fuse_session_exit(l.se);
	pthread_cond_broadcast(&l.wake);
	pthread_cond_broadcast(&l.idle_cv);
	pthread_mutex_unlock(&l.lock);
	/* Workers start more workers: join until none is left. */
	for (;;) {
		pthread_t t;
		bool found = false;

		pthread_mutex_lock(&l.lock);
		for (unsigned i = 0; i < l.max_workers && !found; i++)
			if (l.live[i]) {
				t = l.tid[i];
				l.live[i] = false;
				found = true;
			}
		pthread_mutex_unlock(&l.lock);
		if (!found)
			break;
		pthread_cancel(t);      /* takes effect only in a read */
		pthread_join(t, NULL);
	}
	answer_until_forgotten(fs, l.se);
	rc = l.err ? l.err : rc;
	pthread_cond_destroy(&l.wake);
	pthread_cond_destroy(&l.idle_cv);
	pthread_mutex_destroy(&l.lock);
	sem_destroy(&l.finish);
	free(l.tid);
	free(l.live);
	return rc < 0 ? rc : 0;
}
