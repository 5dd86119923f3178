/* interpose.c - an LD_PRELOAD library that records what a process writes to
 * one LMDB data file and when it syncs it, for crash_sim (SQLite's crash
 * test idea: the disk images a crash could leave are made afterwards from
 * the record).
 *
 *   MFS_CRASH_FILE=/abs/db/data.mdb MFS_CRASH_TRACE=/abs/trace \
 *   LD_PRELOAD=tests/crash/interpose.so milvusfs -f -o db=/abs/db MNT
 *
 * The trace is a sequence of records (crash_trace.h): every open of
 * MFS_CRASH_FILE, of MFS_CRASH_FILE.shrink (the rewrite of the database,
 * src/store/env.c) and of their directory; every write(2), pwrite(2),
 * writev(2), pwritev(2) to a descriptor of the two files with its offset
 * and bytes; the start and the end of every fsync(2), fdatasync(2) of
 * them or of the directory, syncfs(2) and sync(2); the completion of
 * writes to a descriptor opened O_DSYNC or O_SYNC (LMDB's meta page
 * descriptor); the rename of the .shrink file over MFS_CRASH_FILE and
 * the unlink of either.  One
 * mutex is held from the start of a write to its record, and around each
 * sync's start and end records, so that a write recorded before a sync's
 * start was complete when the sync began: that sync made it durable.
 * Clients append their own records (acknowledgements) to the same file
 * with O_APPEND, so the trace orders them with the daemon's events.
 *
 * What it cannot see it refuses: a writable shared mmap of the file (LMDB's
 * MDB_WRITEMAP), ftruncate, and copy_file_range/sendfile/fallocate on it
 * are recorded as 'U' (unsupported), which makes crash_sim fail.
 */
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "crash_trace.h"

#define MAX_FD 65536

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static unsigned char tracked[MAX_FD];   /* 0, 1 tracked, 2 tracked O_DSYNC,
					 * 3 the directory (syncs only) */
static uint64_t handle[MAX_FD];         /* of a tracked descriptor */
static int trace_fd = -1;
static const char *target;
static char shrink_path[4096], dir_path[4096];
static uint64_t sync_seq, open_seq;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static ssize_t (*real_pwritev)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev64)(int, const struct iovec *, int, off_t);
static ssize_t (*real_pwritev2)(int, const struct iovec *, int, off_t, int);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static int (*real_close)(int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_syncfs)(int);
static void (*real_sync)(void);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off_t);
static void *(*real_mmap)(void *, size_t, int, int, int, off_t);
static void *(*real_mmap64)(void *, size_t, int, int, int, off_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_rename)(const char *, const char *);
static int (*real_unlink)(const char *);

#define LOAD(name) real_##name = dlsym(RTLD_NEXT, #name)

/* dlsym every real function (also from a wrapper called before the
 * constructor ran, by another library's constructor). */
static void syms(void)
{
	LOAD(write); LOAD(pwrite); LOAD(pwrite64); LOAD(writev);
	LOAD(pwritev); LOAD(pwritev64); LOAD(pwritev2); LOAD(open);
	LOAD(open64); LOAD(openat); LOAD(openat64); LOAD(close);
	LOAD(fsync); LOAD(fdatasync); LOAD(syncfs); LOAD(sync);
	LOAD(ftruncate); LOAD(ftruncate64); LOAD(mmap); LOAD(mmap64);
	LOAD(fallocate); LOAD(rename); LOAD(unlink);
}

__attribute__((constructor)) static void init(void)
{
	const char *tr = getenv("MFS_CRASH_TRACE");

	syms();
	target = getenv("MFS_CRASH_FILE");
	if (target) {
		snprintf(shrink_path, sizeof(shrink_path), "%s.shrink",
			 target);
		snprintf(dir_path, sizeof(dir_path), "%s", target);
		char *slash = strrchr(dir_path, '/');
		if (slash && slash != dir_path)
			*slash = '\0';
	}
	if (tr && target) {
		trace_fd = (int)syscall(SYS_open, tr,
					O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
					0600);
		if (trace_fd < 0) {
			fprintf(stderr, "interpose: cannot open %s\n", tr);
			abort();
		}
	}
}

static int is_tracked(int fd)
{
	return trace_fd >= 0 && fd >= 0 && fd < MAX_FD && tracked[fd] &&
	       tracked[fd] != 3;
}

/* A sync may be of the directory too. */
static int is_syncable(int fd)
{
	return trace_fd >= 0 && fd >= 0 && fd < MAX_FD && tracked[fd];
}

static int name_of(const char *path)
{
	if (!path || !target)
		return -1;
	if (strcmp(path, target) == 0)
		return CRASH_NAME_DATA;
	if (strcmp(path, shrink_path) == 0)
		return CRASH_NAME_SHRINK;
	if (strcmp(path, dir_path) == 0)
		return CRASH_NAME_DIR;
	return -1;
}

/* One record with its payload (iov, n), appended in one writev. */
static void emit(uint32_t type, uint64_t a, uint64_t b, uint64_t h,
		 const struct iovec *iov, int n, size_t len)
{
	struct crash_rec r = { CRASH_MAGIC, type, a, b, h, len };
	struct iovec v[1 + 64];
	int k = 0;
	size_t left = len;

	v[k].iov_base = &r;
	v[k++].iov_len = sizeof(r);
	for (int i = 0; i < n && left > 0 && k < 65; i++) {
		size_t l = iov[i].iov_len < left ? iov[i].iov_len : left;
		v[k].iov_base = iov[i].iov_base;
		v[k++].iov_len = l;
		left -= l;
	}
	if (left != 0)
		abort();        /* more than 64 iovecs in one write */
	size_t want = sizeof(r) + len;
	ssize_t got = syscall(SYS_writev, trace_fd, v, k);
	if (got < 0 || (size_t)got != want) {
		/* a partial trace record would be misread: stop here */
		fprintf(stderr, "interpose: trace write failed\n");
		abort();
	}
}

static void note_open(int fd, const char *path, int flags)
{
	if (fd < 0 || fd >= MAX_FD || trace_fd < 0 || !path)
		return;
	int name = name_of(path);
	if (name >= 0) {
		pthread_mutex_lock(&mu);
		tracked[fd] = name == CRASH_NAME_DIR ? 3 :
			      (flags & O_DSYNC) ? 2 : 1;
		handle[fd] = (uint64_t)getpid() << 32 | ++open_seq;
		emit(CRASH_OPEN, (uint64_t)name, (uint64_t)(unsigned)flags,
		     handle[fd], NULL, 0, 0);
		pthread_mutex_unlock(&mu);
	} else {
		tracked[fd] = 0;
	}
}

static int mode_of(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, int) : 0;
}

int open(const char *path, int flags, ...)
{
	if (!real_open)
		syms();
	va_list ap;
	va_start(ap, flags);
	int mode = mode_of(flags, ap);
	va_end(ap);
	int fd = real_open(path, flags, mode);
	note_open(fd, path, flags);
	return fd;
}

int open64(const char *path, int flags, ...)
{
	if (!real_open64)
		syms();
	va_list ap;
	va_start(ap, flags);
	int mode = mode_of(flags, ap);
	va_end(ap);
	int fd = real_open64(path, flags, mode);
	note_open(fd, path, flags);
	return fd;
}

int openat(int dfd, const char *path, int flags, ...)
{
	if (!real_openat)
		syms();
	va_list ap;
	va_start(ap, flags);
	int mode = mode_of(flags, ap);
	va_end(ap);
	int fd = real_openat(dfd, path, flags, mode);
	note_open(fd, path, flags);
	return fd;
}

int openat64(int dfd, const char *path, int flags, ...)
{
	if (!real_openat64)
		syms();
	va_list ap;
	va_start(ap, flags);
	int mode = mode_of(flags, ap);
	va_end(ap);
	int fd = real_openat64(dfd, path, flags, mode);
	note_open(fd, path, flags);
	return fd;
}

int close(int fd)
{
	if (!real_close)
		syms();
	if (fd >= 0 && fd < MAX_FD && tracked[fd]) {
		pthread_mutex_lock(&mu);
		tracked[fd] = 0;
		pthread_mutex_unlock(&mu);
	}
	return real_close(fd);
}

/* A write of the iovecs at off (-1: the file offset) through fn. */
static ssize_t traced(int fd, const struct iovec *iov, int n, off_t off,
		      ssize_t (*fn)(void *), void *arg)
{
	ssize_t r;

	pthread_mutex_lock(&mu);
	if (off < 0)
		off = lseek(fd, 0, SEEK_CUR);
	r = fn(arg);
	if (r > 0) {
		emit(CRASH_WRITE, (uint64_t)off, tracked[fd] == 2, handle[fd],
		     iov, n, (size_t)r);
		if (tracked[fd] == 2)
			emit(CRASH_DSYNC_DONE, (uint64_t)off, (uint64_t)r,
			     handle[fd], NULL, 0, 0);
	}
	pthread_mutex_unlock(&mu);
	return r;
}

struct wargs {
	int fd, n, flags;
	const void *buf;
	size_t len;
	const struct iovec *iov;
	off_t off;
	ssize_t (*w)(int, const void *, size_t);
	ssize_t (*pw)(int, const void *, size_t, off_t);
	ssize_t (*wv)(int, const struct iovec *, int);
	ssize_t (*pwv)(int, const struct iovec *, int, off_t);
};

static ssize_t do_w(void *p)
{
	struct wargs *a = p;
	return a->w(a->fd, a->buf, a->len);
}

static ssize_t do_pw(void *p)
{
	struct wargs *a = p;
	return a->pw(a->fd, a->buf, a->len, a->off);
}

static ssize_t do_wv(void *p)
{
	struct wargs *a = p;
	return a->wv(a->fd, a->iov, a->n);
}

static ssize_t do_pwv(void *p)
{
	struct wargs *a = p;
	return a->pwv(a->fd, a->iov, a->n, a->off);
}

static ssize_t do_pwv2(void *p)
{
	struct wargs *a = p;
	return real_pwritev2(a->fd, a->iov, a->n, a->off, a->flags);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	if (!real_write)
		syms();
	if (!is_tracked(fd))
		return real_write(fd, buf, len);
	struct iovec v = { (void *)buf, len };
	struct wargs a = { .fd = fd, .buf = buf, .len = len, .w = real_write };
	return traced(fd, &v, 1, -1, do_w, &a);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
	if (!real_pwrite)
		syms();
	if (!is_tracked(fd))
		return real_pwrite(fd, buf, len, off);
	struct iovec v = { (void *)buf, len };
	struct wargs a = { .fd = fd, .buf = buf, .len = len, .off = off,
			   .pw = real_pwrite };
	return traced(fd, &v, 1, off, do_pw, &a);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
	if (!real_pwrite64)
		syms();
	if (!is_tracked(fd))
		return real_pwrite64(fd, buf, len, off);
	struct iovec v = { (void *)buf, len };
	struct wargs a = { .fd = fd, .buf = buf, .len = len, .off = off,
			   .pw = real_pwrite64 };
	return traced(fd, &v, 1, off, do_pw, &a);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
	if (!real_writev)
		syms();
	if (!is_tracked(fd))
		return real_writev(fd, iov, n);
	struct wargs a = { .fd = fd, .iov = iov, .n = n, .wv = real_writev };
	return traced(fd, iov, n, -1, do_wv, &a);
}

ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off)
{
	if (!real_pwritev)
		syms();
	if (!is_tracked(fd))
		return real_pwritev(fd, iov, n, off);
	struct wargs a = { .fd = fd, .iov = iov, .n = n, .off = off,
			   .pwv = real_pwritev };
	return traced(fd, iov, n, off, do_pwv, &a);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int n, off_t off)
{
	if (!real_pwritev64)
		syms();
	if (!is_tracked(fd))
		return real_pwritev64(fd, iov, n, off);
	struct wargs a = { .fd = fd, .iov = iov, .n = n, .off = off,
			   .pwv = real_pwritev64 };
	return traced(fd, iov, n, off, do_pwv, &a);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int n, off_t off,
		 int flags)
{
	if (!real_pwritev2)
		syms();
	if (!is_tracked(fd))
		return real_pwritev2(fd, iov, n, off, flags);
	if (flags & (RWF_DSYNC | RWF_SYNC)) {
		pthread_mutex_lock(&mu);
		emit(CRASH_UNSUPPORTED, 0, 0, 0, NULL, 0, 0);
		pthread_mutex_unlock(&mu);
	}
	struct wargs a = { .fd = fd, .iov = iov, .n = n, .off = off,
			   .flags = flags };
	return traced(fd, iov, n, off, do_pwv2, &a);
}

/* A sync of the file: its start and end recorded (the end only when it
 * succeeded: a failed sync made nothing durable). */
static int traced_sync(int (*fn)(int), int fd, int all)
{
	uint64_t id, h;
	int r;

	if (!all && !is_syncable(fd))
		return fn(fd);
	if (trace_fd < 0)
		return fn(fd);
	pthread_mutex_lock(&mu);
	id = ++sync_seq;
	h = all ? 0 : handle[fd];
	emit(CRASH_SYNC_BEGIN, id, 0, h, NULL, 0, 0);
	pthread_mutex_unlock(&mu);
	r = fn(fd);
	if (r == 0) {
		pthread_mutex_lock(&mu);
		emit(CRASH_SYNC_END, id, 0, h, NULL, 0, 0);
		pthread_mutex_unlock(&mu);
	}
	return r;
}

int fsync(int fd) { if (!real_fsync) syms(); return traced_sync(real_fsync, fd, 0); }
int fdatasync(int fd) { if (!real_fdatasync) syms(); return traced_sync(real_fdatasync, fd, 0); }
int syncfs(int fd) { if (!real_syncfs) syms(); return traced_sync(real_syncfs, fd, 1); }

static int sync_all(int fd)
{
	(void)fd;
	real_sync();
	return 0;
}

void sync(void) { if (!real_sync) syms(); traced_sync(sync_all, -1, 1); }

static void unsupported(int fd)
{
	if (!is_tracked(fd))
		return;
	pthread_mutex_lock(&mu);
	emit(CRASH_UNSUPPORTED, 0, 0, 0, NULL, 0, 0);
	pthread_mutex_unlock(&mu);
}

/* The rewrite's rename and the unlinks of the two names: recorded once
 * done (the mutex held across, so that no sync record comes between). */
int rename(const char *from, const char *to)
{
	if (!real_rename)
		syms();
	if (trace_fd < 0 || name_of(from) != CRASH_NAME_SHRINK ||
	    name_of(to) != CRASH_NAME_DATA)
		return real_rename(from, to);
	pthread_mutex_lock(&mu);
	int r = real_rename(from, to);
	if (r == 0)
		emit(CRASH_RENAME, 0, 0, 0, NULL, 0, 0);
	pthread_mutex_unlock(&mu);
	return r;
}

int unlink(const char *path)
{
	if (!real_unlink)
		syms();
	int name = name_of(path);
	if (trace_fd < 0 || name < 0 || name == CRASH_NAME_DIR)
		return real_unlink(path);
	pthread_mutex_lock(&mu);
	int r = real_unlink(path);
	if (r == 0)
		emit(CRASH_UNLINK, (uint64_t)name, 0, 0, NULL, 0, 0);
	pthread_mutex_unlock(&mu);
	return r;
}

int ftruncate(int fd, off_t len)
{
	if (!real_ftruncate)
		syms();
	unsupported(fd);
	return real_ftruncate(fd, len);
}

int ftruncate64(int fd, off_t len)
{
	if (!real_ftruncate64)
		syms();
	unsupported(fd);
	return real_ftruncate64(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
	if (!real_fallocate)
		syms();
	unsupported(fd);
	return real_fallocate(fd, mode, off, len);
}

/* Other libraries' threads may map memory before this library's
 * constructor ran (OpenBLAS starts its threads in its own constructor),
 * and dlsym itself may map: without the real function yet, the system
 * call. */
static void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd,
		      off_t off)
{
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *(*fn)(void *, size_t, int, int, int, off_t) =
		__atomic_load_n(&real_mmap, __ATOMIC_ACQUIRE);

	if ((prot & PROT_WRITE) && (flags & MAP_SHARED))
		unsupported(fd);
	return (fn ? fn : sys_mmap)(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *(*fn)(void *, size_t, int, int, int, off_t) =
		__atomic_load_n(&real_mmap64, __ATOMIC_ACQUIRE);

	if ((prot & PROT_WRITE) && (flags & MAP_SHARED))
		unsupported(fd);
	return (fn ? fn : sys_mmap)(addr, len, prot, flags, fd, off);
}
