/* main.c - the milvusfs daemon: options, wiring, the FUSE loop.
 *
 *     milvusfs [-f] [-d] [-s] [-o OPTION[,OPTION...]] MOUNTPOINT
 *     milvusfs SOURCE MOUNTPOINT [-o OPTION...]      (mount helper form)
 *
 * Order matters: the process detaches first (our own fork, so that the
 * parent can exit 1 with the child's message when the database is busy or
 * the mount fails), and only then opens LMDB and starts the engine's
 * threads, which must live in the process that serves the mount.  The
 * parent exits when the mount is ready.  SIGTERM/SIGINT/SIGHUP end the
 * loop (fs_signals_set: the loop stops the fs's own thread first, still
 * answering requests); the daemon then unmounts, stops the engine, syncs
 * and closes the store, and exits 0.
 */
#define FUSE_USE_VERSION 31

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fuse.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/kv.h"
#include "base/log.h"
#include "base/pool.h"
#include "engine/engine.h"
#include "fs/fs.h"
#include "store/store.h"

#if FS_FUSE_USE_VERSION != FUSE_USE_VERSION
#error "main.c and src/fs must agree on FUSE_USE_VERSION"
#endif

struct opts {
	char *db;
	char *mapsize;
	char *sync;
	char *memory_limit;
	char *threads;
	char *max_partitions;
	char *spin;
	char *pos[2];           /* SOURCE MOUNTPOINT, or MOUNTPOINT */
	int npos;
	int too_many;
	int foreground, debug, single, help, version;
	int others;             /* allow_other or allow_root: SPEC §12 */
	int ro;                 /* -o ro: the daemon refuses changes */
	int no_auto_unmount;    /* -o noauto_unmount */
};

enum { KEY_FG, KEY_DEBUG, KEY_SINGLE, KEY_HELP, KEY_VERSION, KEY_OTHERS,
       KEY_RO, KEY_RW, KEY_NOAUTOUMOUNT };

#define OPT(t, m) { t, offsetof(struct opts, m), 0 }

static const struct fuse_opt opt_spec[] = {
	OPT("db=%s", db),
	OPT("mapsize=%s", mapsize),
	OPT("sync=%s", sync),
	OPT("memory_limit=%s", memory_limit),
	OPT("threads=%s", threads),
	OPT("max_partitions=%s", max_partitions),
	OPT("spin=%s", spin),
	FUSE_OPT_KEY("-f", KEY_FG),
	FUSE_OPT_KEY("-d", KEY_DEBUG),
	FUSE_OPT_KEY("debug", KEY_DEBUG),
	FUSE_OPT_KEY("-s", KEY_SINGLE),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_KEY("allow_other", KEY_OTHERS),
	FUSE_OPT_KEY("allow_root", KEY_OTHERS),
	FUSE_OPT_KEY("ro", KEY_RO),
	FUSE_OPT_KEY("rw", KEY_RW),
	FUSE_OPT_KEY("noauto_unmount", KEY_NOAUTOUMOUNT),
	/* fstab words that mount(8) may hand to a helper */
	FUSE_OPT_KEY("defaults", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("users", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
	FUSE_OPT_END
};

static int opt_proc(void *data, const char *arg, int key,
		    struct fuse_args *outargs)
{
	struct opts *o = data;

	switch (key) {
	case KEY_FG:
		o->foreground = 1;
		return 0;
	case KEY_DEBUG:
		o->debug = o->foreground = 1;
		return 1;       /* libfuse logs every request */
	case KEY_SINGLE:
		o->single = 1;
		return 0;
	case KEY_HELP:
		o->help = 1;
		return 0;
	case KEY_VERSION:
		o->version = 1;
		return 0;
	case KEY_OTHERS:
		/* other users reach the mount: the daemon checks owners and
		 * modes itself, with or without default_permissions */
		o->others = 1;
		return 1;       /* and FUSE mounts so */
	case KEY_RO:
		/* SPEC §13: a read-only mount still loads, releases and
		 * searches, which are writes to load, release and search/:
		 * the kernel mounts read-write and the daemon refuses every
		 * change itself (EROFS and a /.errors line). */
		o->ro = 1;
		return 0;
	case KEY_RW:
		o->ro = 0;
		return 0;
	case KEY_NOAUTOUMOUNT:
		o->no_auto_unmount = 1;
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		if (o->npos == 2) {
			o->too_many = 1;
			return 0;
		}
		o->pos[o->npos] = strdup(arg);
		if (!o->pos[o->npos])
			return -1;
		o->npos++;
		return 0;
	default:
		return 1;       /* FUSE's own options pass through */
	}
}

static void usage(const char *prog)
{
	printf("usage: %s [-f] [-d] [-s] [-o OPTION[,OPTION...]] MOUNTPOINT\n"
	       "       %s DATABASE MOUNTPOINT [-o OPTION[,OPTION...]]\n"
	       "\n"
	       "milvusfs mounts a vector database as a filesystem "
	       "(see milvusfs(1), milvusfs(5)).\n"
	       "\n"
	       "general options:\n"
	       "    -f                     stay in the foreground\n"
	       "    -d, -o debug           foreground, log every FUSE request\n"
	       "    -s                     single-threaded request loop\n"
	       "    -h, --help             this help\n"
	       "    -V, --version          versions\n"
	       "\n"
	       "milvusfs options:\n"
	       "    -o db=PATH             database directory (default "
	       "$MILVUSFS_DB,\n"
	       "                           else $XDG_DATA_HOME/milvusfs, "
	       "else ~/.local/share/milvusfs)\n"
	       "    -o mapsize=SIZE        initial LMDB map size, K/M/G "
	       "suffixes (default 1G; grows)\n"
	       "    -o sync=fsync|always   durable at fsync/close (default) "
	       "or at every write\n"
	       "    -o memory_limit=SIZE   memory for loaded partitions "
	       "(default 90%% of RAM)\n"
	       "    -o threads=N           search and index-build threads "
	       "(default: cores)\n"
	       "    -o max_partitions=N    partitions per collection "
	       "(default 1024)\n"
	       "    -o spin=US             look for the next request this long "
	       "before sleeping\n"
	       "                           (default 50; 0: sleep at once, "
	       "least CPU)\n"
	       "    -o ro                  serve reads, loads and searches; "
	       "refuse changes (EROFS)\n"
	       "    -o noauto_unmount      a killed daemon leaves its mount "
	       "(auto_unmount is\n"
	       "                           the default: the mount goes with "
	       "the daemon)\n"
	       "\n"
	       "FUSE options:\n", prog, prog);
	fflush(stdout);
}

/* The database directory when db= is absent; owned. */
static char *default_db(void)
{
	const char *env = getenv("MILVUSFS_DB");
	const char *xdg = getenv("XDG_DATA_HOME");
	const char *home = getenv("HOME");
	char *s = NULL;

	if (env && *env)
		return strdup(env);
	if (xdg && *xdg) {
		if (asprintf(&s, "%s/milvusfs", xdg) < 0)
			return NULL;
		return s;
	}
	if (!home || !*home)
		home = "/";
	if (asprintf(&s, "%s/.local/share/milvusfs", home) < 0)
		return NULL;
	return s;
}

/* An absolute version of path (the daemon changes directory to /). */
static char *absolute(const char *path)
{
	char cwd[PATH_MAX];
	char *s = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (!getcwd(cwd, sizeof(cwd)))
		return NULL;
	if (asprintf(&s, "%s/%s", cwd, path) < 0)
		return NULL;
	return s;
}

static int bad_value(const char *key, const char *val, const char *expect)
{
	fprintf(stderr, "milvusfs: bad value for %s: expected %s, got '%s'\n",
		key, expect, val);
	return -EINVAL;
}

static int check_opts(const struct opts *o, struct store_opts *so,
		      struct eng_opts *eo, bool *sync_fsync, unsigned *spin_us)
{
	uint64_t v;
	long n;

	memset(so, 0, sizeof(*so));
	memset(eo, 0, sizeof(*eo));
	*sync_fsync = true;
	*spin_us = FS_SPIN_US_DEFAULT;
	if (o->mapsize) {
		if (mfs_parse_size(o->mapsize, &v) < 0 || v < 64 * 1024)
			return bad_value("mapsize", o->mapsize,
					 "a size of at least 64K (K, M, G "
					 "suffixes)");
		so->mapsize_bytes = v;
	}
	if (o->sync) {
		if (strcmp(o->sync, "always") == 0)
			*sync_fsync = false, so->sync_always = 1;
		else if (strcmp(o->sync, "fsync") != 0)
			return bad_value("sync", o->sync, "fsync or always");
	}
	if (o->memory_limit) {
		if (mfs_parse_size(o->memory_limit, &v) < 0 || v == 0)
			return bad_value("memory_limit", o->memory_limit,
					 "a positive size (K, M, G suffixes)");
		eo->memory_limit_bytes = v;
	}
	if (o->threads) {
		if (mfs_parse_long(o->threads, 1, MFS_POOL_THREADS_MAX, &n) < 0)
			return bad_value("threads", o->threads,
					 "an integer in [1, 64] (the pool's "
					 "most threads)");
		eo->threads = (unsigned)n;
	}
	if (o->max_partitions) {
		if (mfs_parse_long(o->max_partitions, 1, 65536, &n) < 0)
			return bad_value("max_partitions", o->max_partitions,
					 "an integer in [1, 65536]");
		eo->max_partitions = (unsigned)n;
	}
	if (o->spin) {
		if (mfs_parse_long(o->spin, 0, FS_SPIN_US_MAX, &n) < 0)
			return bad_value("spin", o->spin,
					 "microseconds, an integer in [0, 10000]");
		*spin_us = (unsigned)n;
	}
	return 0;
}

/* Detach: the parent waits on a pipe for the child's verdict and exits
 * with it; returns the write end in the child. */
static int detach(void)
{
	int p[2];
	pid_t pid;
	char verdict = 1;

	if (pipe(p) != 0) {
		perror("milvusfs: pipe");
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		perror("milvusfs: fork");
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &verdict, 1) != 1)
			verdict = 1;
		_exit(verdict ? 1 : 0);
	}
	close(p[0]);
	if (setsid() < 0)
		perror("milvusfs: setsid");
	return p[1];
}

/* libfuse's messages, into the daemon's log. */
static void fuse_log_to_ours(enum fuse_log_level level, const char *fmt,
			     va_list ap)
{
	char line[1024];
	size_t n;

	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	mfs_log(level <= FUSE_LOG_ERR ? MFS_LOG_ERROR :
		level == FUSE_LOG_WARNING ? MFS_LOG_WARN :
		level == FUSE_LOG_DEBUG ? MFS_LOG_DEBUG : MFS_LOG_INFO,
		"fuse: %s", line);
}

static void ready(int fd)
{
	char ok = 0;
	int nul;

	if (fd < 0)
		return;
	if (chdir("/") != 0)
		perror("milvusfs: chdir /");
	nul = open("/dev/null", O_RDWR);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		if (nul > 2)
			close(nul);
	}
	if (write(fd, &ok, 1) != 1) {
		/* the parent is gone: nothing to tell */
	}
	close(fd);
}

/*
 * auto_unmount's backstop.  fusermount3 unmounts a dead daemon's mount
 * only if opening the mount point then fails with ENOTCONN; when the
 * daemon's end of fusermount3's socket is released before its /dev/fuse
 * descriptor, that open waits on the still-live connection and fails
 * with ECONNABORTED instead, and the dead mount stays (seen in about one
 * kill -9 in ten on a loaded machine).  So a child that holds nothing but
 * the read end of a pipe waits for the daemon to be gone, then for the
 * mount to answer ENOTCONN (at most 30 s), and unmounts it lazily itself.
 * A mount already gone (a clean unmount, or fusermount3 was first) opens
 * as the directory below: nothing to do.  Between fork and exec the child
 * makes system calls only.
 *
 * The child also keeps the daemon's /dev/fuse descriptor, for one case: a
 * daemon thread that waits in the kernel on a request only the daemon
 * would answer (the fs's thread telling the kernel to forget a name waits
 * for the directory's lock, held by a LOOKUP in that directory) keeps a
 * killed daemon from ever exiting, and with it the descriptor and the
 * mount.  So once the thread that started the child is gone (the parent
 * death signal), the child answers every request ENOTCONN, having the
 * kernel send again those the dead workers had taken (FUSE_NOTIFY_RESEND,
 * Linux 6.9), until the daemon is gone; then it lets the descriptor go.
 */
#define WATCH_NOTIFY_RESEND 7
#define WATCH_BUF_BYTES ((size_t)2 << 20)

static volatile sig_atomic_t watch_parent_gone;

static void watch_wake(int sig)
{
	(void)sig;
	watch_parent_gone = 1;
}

/* Answer dev's requests ENOTCONN until ctl (the pipe) reads EOF. */
static void answer_orphans(int ctl, int dev)
{
	struct fuse_out_header resend = { sizeof(resend), WATCH_NOTIFY_RESEND,
					  0 };
	char *buf = mmap(NULL, WATCH_BUF_BYTES, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool live = buf != MAP_FAILED;

	for (int round = 0;; round++) {
		struct pollfd pf[2] = { { ctl, POLLIN, 0 }, { dev, POLLIN, 0 } };
		ssize_t n;

		if (live && round % 10 == 0 &&
		    write(dev, &resend, sizeof(resend)) < 0 &&
		    errno == ENODEV)
			live = false;
		if (poll(pf, live ? 2 : 1, 100) < 0 && errno != EINTR)
			return;
		if (pf[0].revents)
			return;         /* the daemon is gone */
		if (!live || !(pf[1].revents & (POLLIN | POLLERR | POLLHUP)))
			continue;
		n = read(dev, buf, WATCH_BUF_BYTES);
		if (n < 0 && errno == ENODEV)
			live = false;
		if (n >= (ssize_t)sizeof(struct fuse_in_header)) {
			const struct fuse_in_header *in = (const void *)buf;
			struct fuse_out_header out = { sizeof(out), -ENOTCONN,
						       in->unique };

			if (in->opcode != FUSE_FORGET &&
			    in->opcode != FUSE_BATCH_FORGET &&
			    in->opcode != FUSE_INTERRUPT &&
			    write(dev, &out, sizeof(out)) < 0) {
				/* the request is gone (interrupted) */
			}
		}
	}
}

static void unmount_watch(const char *mnt, int dev)
{
	int p[2], nul;
	pid_t pid, daemon = getpid();
	struct sigaction sa;
	sigset_t usr1, wait_mask;

	if (pipe2(p, O_CLOEXEC) != 0)
		return;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return;
	}
	if (pid > 0) {
		close(p[0]);    /* p[1] stays open until the daemon is gone */
		return;
	}
	prctl(PR_SET_NAME, "milvusfs-watch", 0, 0, 0);
	/* SIGUSR1 comes when the daemon's main thread is gone (killed: the
	 * child may have been given to another thread of the daemon, so
	 * getppid() does not tell); taken only in ppoll below */
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &wait_mask);
	sigdelset(&wait_mask, SIGUSR1);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_wake;
	sigaction(SIGUSR1, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGUSR1, 0, 0, 0);
	if (getppid() != daemon)
		watch_parent_gone = 1;
	if (dup2(p[0], 3) != 3 || dup2(dev, 4) != 4)
		_exit(1);
	nul = open("/dev/null", O_RDWR);
	if (nul > 4) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
	}
	close_range(5, ~0U, 0);         /* the socket, the db */
	{
		struct pollfd pf = { 3, POLLIN, 0 };

		/* until EOF (the daemon is gone) or the signal */
		while (!watch_parent_gone &&
		       ppoll(&pf, 1, NULL, &wait_mask) < 0 && errno == EINTR)
			;
		answer_orphans(3, 4);
		close(4);
	}
	for (int i = 0; i < 600; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd >= 0)
			_exit(0);       /* unmounted already */
		if (errno == ENOTCONN) {
			execlp("fusermount3", "fusermount3", "-u", "-z", "-q",
			       mnt, (char *)NULL);
			_exit(1);
		}
		if (errno != ECONNABORTED && errno != EINTR)
			_exit(0);       /* gone, or not ours to judge */
		nanosleep(&ts, NULL);
	}
	_exit(0);
}

/* Mark every descriptor past stderr close-on-exec. */
static void cloexec_all(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		int fd = atoi(de->d_name), fl;

		if (fd <= 2 || fd == dirfd(d))
			continue;
		fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
	closedir(d);
}

/* main, step 1: parse the command line into *o.  1: go on; 0: done
 * (--version, --help answered); -1: refused (said why on stderr). */
static int parse_args(struct fuse_args *args, struct opts *o,
		      const char *prog)
{
	if (fuse_opt_parse(args, o, opt_spec, opt_proc) != 0) {
		fprintf(stderr, "milvusfs: cannot parse the options\n");
		return -1;
	}
	if (o->version) {
		printf("milvusfs " PACKAGE_VERSION "\n");
		printf("FUSE library version %s\n", fuse_pkgversion());
		fflush(stdout);
		fuse_lowlevel_version();
		return 0;
	}
	if (o->help) {
		usage(prog);
		fuse_lib_help(args);
		return 0;
	}
	if (o->too_many || o->npos == 0) {
		fprintf(stderr, "milvusfs: %s\nusage: %s [-f] [-d] [-s] "
			"[-o OPTION[,OPTION...]] MOUNTPOINT\n(try --help)\n",
			o->too_many ? "too many arguments" :
			"no mount point given", prog);
		return -1;
	}
	return 1;
}

/* Step 2: the database directory and the mount point as absolute paths,
 * owned (*db, *mnt: free them, also after a failure).  -1 with a message
 * on stderr. */
static int paths_of(const struct opts *o, char **db, char **mnt)
{
	/* mount helper form: SOURCE is the database unless db= says */
	if (o->db)
		*db = absolute(o->db);
	else if (o->npos == 2)
		*db = absolute(o->pos[0]);
	else {
		char *d = default_db();
		*db = d ? absolute(d) : NULL;
		free(d);
	}
	*mnt = realpath(o->pos[o->npos - 1], NULL);
	if (!*db) {
		fprintf(stderr, "milvusfs: out of memory\n");
		return -1;
	}
	if (!*mnt) {
		fprintf(stderr, "milvusfs: bad mount point '%s': %s\n",
			o->pos[o->npos - 1], strerror(errno));
		return -1;
	}
	return 0;
}

/* Step 3: the FUSE options milvusfs adds to the user's.  -1 (no memory). */
static int fuse_args_add(struct fuse_args *args, const struct opts *o)
{
	/* first, so that the user's own fsname= or subtype= wins */
	if (fuse_opt_insert_arg(args, 1, "-ofsname=milvusfs,subtype=milvusfs"))
		return -1;
	/* SPEC §13: a killed daemon leaves no dead mount (fusermount3
	 * unmounts when the daemon's /dev/fuse descriptor closes) */
	if (!o->no_auto_unmount && fuse_opt_add_arg(args, "-oauto_unmount"))
		return -1;
	return 0;
}

/* Step 4: the fs context for db on mnt (returned owned in *fs), and the
 * engine options that tie the engine to it (eo->report: SPEC §7, what the
 * engine fails at alone reaches /.errors).  -1 with a message. */
static int session_new(const struct opts *o, const char *db, const char *mnt,
		       bool sync_fsync, struct eng_opts *eo, struct fs **fs)
{
	struct fs_opts fo;
	struct mfs_err err;
	int rc;

	mfs_err_clear(&err);
	fo.sync_fsync = sync_fsync;
	fo.db_dir = db;
	fo.check_perms = o->others;
	fo.read_only = o->ro;
	fo.mountpoint = mnt;
	rc = fs_new(NULL, &fo, fs, &err);
	if (rc < 0) {
		fprintf(stderr, "milvusfs: %s\n", err.msg);
		return -1;
	}
	eo->report = fs_report;
	eo->report_arg = *fs;
	eo->read_only = o->ro;
	return 0;
}

/* Threads started from here on (the engine's) inherit a mask that blocks
 * the stop signals, so that they reach the thread running the FUSE loop
 * and interrupt its read of /dev/fuse.  The mask before goes to *old. */
static void block_stop_signals(sigset_t *old)
{
	sigset_t stop;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &stop, old);
}

/* What fuse_opt_parse allocated in *o. */
static void opts_free(struct opts *o)
{
	free(o->db);
	free(o->mapsize);
	free(o->sync);
	free(o->memory_limit);
	free(o->threads);
	free(o->max_partitions);
	free(o->spin);
	free(o->pos[0]);
	free(o->pos[1]);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct opts o;
	struct store_opts so;
	struct eng_opts eo;
	struct fuse_operations ops;
	struct mfs_err err;
	struct store *st = NULL;
	struct eng *eng = NULL;
	struct fs *fs = NULL;
	struct fuse *fuse = NULL;
	char *db = NULL, *mnt = NULL;
	sigset_t old_sigs;
	bool sync_fsync;
	unsigned spin_us;
	int pipe_fd = -1, status = 1, rc;

	memset(&o, 0, sizeof(o));
	mfs_err_clear(&err);
	/* SPEC §11: a release gives the memory back.  glibc raises its mmap
	 * threshold (and with it the trim threshold, to twice as much) each
	 * time a large block is freed, after which indexes are carved from
	 * the pool threads' arenas, whose free top malloc_trim never returns
	 * (24 MiB kept after one HNSW load/release here).  Fixed thresholds
	 * keep every large array in its own mapping, unmapped when freed. */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	mallopt(M_TRIM_THRESHOLD, 1024 * 1024);
	rc = parse_args(&args, &o, argv[0]);
	if (rc <= 0) {
		status = rc == 0 ? 0 : 1;
		goto out_args;
	}
	if (check_opts(&o, &so, &eo, &sync_fsync, &spin_us) < 0)
		goto out_args;
	if (paths_of(&o, &db, &mnt) < 0)
		goto out_args;
	if (fuse_args_add(&args, &o) < 0)
		goto out_args;
	mfs_log_set_level(o.debug ? MFS_LOG_DEBUG : MFS_LOG_INFO);

	/* The FUSE session first: bad FUSE options fail before anything is
	 * created.  It starts no thread, so it survives the fork. */
	if (session_new(&o, db, mnt, sync_fsync, &eo, &fs) < 0)
		goto out_args;
	fs_fill_ops(&ops);
	fuse = fuse_new(&args, &ops, sizeof(ops), fs);
	if (!fuse)
		goto out_fs;            /* libfuse said why */
	if (!o.foreground) {
		pipe_fd = detach();
		if (pipe_fd < 0)
			goto out_fuse;
		/* SPEC §13: the daemon logs to syslog; what makes the mount
		 * fail still reaches the terminal (fprintf, and libfuse's
		 * messages, to stderr until ready()) */
		mfs_log_to_syslog(true);
	}
	block_stop_signals(&old_sigs);
	rc = store_open(db, &so, &st, &err);
	if (rc < 0) {
		fprintf(stderr, "milvusfs: %s\n", err.msg[0] ? err.msg :
			strerror(-rc));
		goto out_fuse;
	}
	store_set_report(st, eo.report, eo.report_arg);
	rc = eng_open(st, &eo, &eng, &err);
	if (rc < 0) {
		fprintf(stderr, "milvusfs: database %s: %s\n", db,
			err.msg[0] ? err.msg : strerror(-rc));
		goto out_store;
	}
	fs_set_engine(fs, eng);
	/* The mount may run fusermount3 (and with auto_unmount it stays
	 * until the daemon is gone): it must not inherit the database's
	 * descriptors (LMDB opens data.mdb without O_CLOEXEC), or the
	 * database stays open, and its filesystem busy, after the daemon
	 * exits. */
	cloexec_all();
	if (fuse_mount(fuse, mnt) != 0)
		goto out_eng;
	if (!o.no_auto_unmount)
		unmount_watch(mnt, fuse_session_fd(fuse_get_session(fuse)));
	/* A shell starts background jobs with SIGINT ignored, and
	 * fs_signals_set only takes over signals left at their default:
	 * SIGINT must stop the daemon however it was started.  (libfuse's
	 * own handlers end the session at once, and libfuse drops what it
	 * reads after that unanswered: fs_loop ends it itself.) */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (fs_signals_set() != 0)
		goto out_unmount;
	pthread_sigmask(SIG_SETMASK, &old_sigs, NULL);
	mfs_log(MFS_LOG_INFO, "serving database %s on %s", db, mnt);
	ready(pipe_fd);
	pipe_fd = -1;
	if (!o.foreground)
		fuse_set_log_func(fuse_log_to_ours);    /* stderr is gone */

	rc = fs_loop(fs, fuse, o.single ? 1 : FS_THREADS_MAX, spin_us);
	if (rc < 0)
		mfs_log(MFS_LOG_ERROR, "FUSE loop: %s", strerror(-rc));
	else
		status = 0;
	fs_signals_restore();
out_unmount:
	fuse_unmount(fuse);
out_eng:
	/* no request runs now: the engine may stop (files the kernel never
	 * released, freed by fs_free, then give it nothing back) */
	fs_set_engine(fs, NULL);
	eng_close(eng);
	if (store_sync(st) < 0) {
		mfs_log(MFS_LOG_ERROR, "database %s: final sync failed", db);
		status = 1;
	}
out_store:
	store_close(st);
out_fuse:
	fuse_destroy(fuse);
out_fs:
	fs_free(fs);
out_args:
	if (pipe_fd >= 0)
		close(pipe_fd);         /* the parent reads EOF: exit 1 */
	fuse_opt_free_args(&args);
	opts_free(&o);
	free(db);
	free(mnt);
	return status;
}
