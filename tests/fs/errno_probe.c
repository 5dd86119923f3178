/* errno_probe.c - run one file operation and print OK or the errno's name.
 *
 * The mount tests assert exact errnos (SPEC §7) with this tool rather than
 * parsing strerror text from the shell.  Each sub-command prints one word
 * per step on standard output: "OK" or the errno name ("EINVAL", "ENOENT",
 * ...), and exits 0 whatever the outcome; exit 2 is a usage error.
 *
 *   errno_probe [-P PIDFILE] COMMAND ARGS...
 *
 *   open PATH FLAGS        open(2) then close(2); FLAGS letters: r w a (append)
 *                          c (O_CREAT) t (O_TRUNC) x (O_EXCL) n (O_NONBLOCK);
 *                          "rw" is O_RDWR.  Prints the first failure.
 *   read PATH              open O_RDONLY, read to EOF, close: first failure.
 *   write PATH DATA        open O_WRONLY|O_APPEND, one write(2) of DATA, close:
 *                          first failure.
 *   writefile PATH FILE    the same with FILE's contents as DATA (one write).
 *   seq PATH FLAGS STEP... open PATH with FLAGS, then run the steps on that one
 *                          descriptor, printing one word for the open and one
 *                          per step, space separated:
 *                            w:DATA   one write(2) of DATA
 *                            f:FILE   one write(2) of FILE's contents
 *                            r        read to EOF, discard
 *                            R        read to EOF, print the bytes to stderr
 *                            s        lseek(fd, 0, SEEK_SET)
 *                            y        fsync
 *                            c        close (the descriptor is gone after it)
 *                          steps after a failed open are not run.
 *   rw PATH DATA           open O_RDWR|O_CREAT, write DATA, read the answer to
 *                          EOF (from where the descriptor stands), print it to
 *                          stdout, close; a failure prints "ERR:NAME" instead
 *   unlink PATH | mkdir PATH | rmdir PATH | rename FROM TO
 *   truncate PATH LEN | chmod PATH MODE(octal) | stat PATH
 *   chown PATH UID GID     chown(2); -1 keeps the owner or group
 *   fuse-ok DIR            mount a trivial FUSE filesystem on DIR and
 *                          unmount it: prints OK when FUSE is usable here.
 *
 * DATA takes C escapes: \n \t \r \\ \0 and \xHH.
 * -P PIDFILE writes the probe's pid there first (the tests match it against
 * the pid= field of /.errors).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FUSE_USE_VERSION 31
#include <fuse_lowlevel.h>

struct ename {
	int num;
	const char *name;
};

static const struct ename enames[] = {
	{EPERM, "EPERM"},     {ENOENT, "ENOENT"},   {ESRCH, "ESRCH"},
	{EINTR, "EINTR"},     {EIO, "EIO"},         {ENXIO, "ENXIO"},
	{E2BIG, "E2BIG"},     {EBADF, "EBADF"},     {EAGAIN, "EAGAIN"},
	{ENOMEM, "ENOMEM"},   {EACCES, "EACCES"},   {EFAULT, "EFAULT"},
	{EBUSY, "EBUSY"},     {EEXIST, "EEXIST"},   {EXDEV, "EXDEV"},
	{ENODEV, "ENODEV"},   {ENOTDIR, "ENOTDIR"}, {EISDIR, "EISDIR"},
	{EINVAL, "EINVAL"},   {ENFILE, "ENFILE"},   {EMFILE, "EMFILE"},
	{EFBIG, "EFBIG"},     {ENOSPC, "ENOSPC"},   {ESPIPE, "ESPIPE"},
	{EROFS, "EROFS"},     {EMLINK, "EMLINK"},   {ERANGE, "ERANGE"},
	{ENAMETOOLONG, "ENAMETOOLONG"},             {ENOSYS, "ENOSYS"},
	{ENOTEMPTY, "ENOTEMPTY"},                   {ENODATA, "ENODATA"},
	{EOVERFLOW, "EOVERFLOW"},                   {ENOTSUP, "ENOTSUP"},
	{EDQUOT, "EDQUOT"},   {ECONNABORTED, "ECONNABORTED"},
	{ENOTCONN, "ENOTCONN"}, {ETIMEDOUT, "ETIMEDOUT"},
	{ECANCELED, "ECANCELED"},
};

static void put_errno(int e)
{
	for (size_t i = 0; i < sizeof enames / sizeof enames[0]; i++) {
		if (enames[i].num == e) {
			fputs(enames[i].name, stdout);
			return;
		}
	}
	printf("E#%d", e);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the C escapes of s into a new buffer; *len gets its length.
 * Returns owned memory (never NULL: exits on allocation failure). */
static char *unescape(const char *s, size_t *len)
{
	size_t n = strlen(s), o = 0;
	char *out = malloc(n + 1);
	if (!out) {
		perror("malloc");
		exit(2);
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 == n) {
			out[o++] = s[i];
			continue;
		}
		char c = s[++i];
		if (c == 'x' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			out[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
			continue;
		}
		switch (c) {
		case 'n': out[o++] = '\n'; break;
		case 't': out[o++] = '\t'; break;
		case 'r': out[o++] = '\r'; break;
		case '0': out[o++] = '\0'; break;
		case '\\': out[o++] = '\\'; break;
		default:
			out[o++] = '\\';
			out[o++] = c;
		}
	}
	*len = o;
	return out;
}

/* Reads a whole file into owned memory; exits on failure (a test bug). */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	size_t cap = 1 << 16, n = 0;
	char *b = malloc(cap);
	size_t got;
	while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			cap *= 2;
			b = realloc(b, cap);
		}
	}
	if (!b) {
		perror("malloc");
		exit(2);
	}
	fclose(f);
	*len = n;
	return b;
}

static int parse_flags(const char *s)
{
	int acc = -1, fl = 0;
	if (strncmp(s, "rw", 2) == 0) {
		acc = O_RDWR;
		s += 2;
	}
	for (; *s; s++) {
		switch (*s) {
		case 'r': acc = acc == O_WRONLY ? O_RDWR : O_RDONLY; break;
		case 'w': acc = acc == O_RDONLY ? O_RDWR : (acc < 0 ? O_WRONLY : acc); break;
		case 'a': fl |= O_APPEND; if (acc < 0) acc = O_WRONLY; break;
		case 'c': fl |= O_CREAT; break;
		case 't': fl |= O_TRUNC; break;
		case 'x': fl |= O_EXCL; break;
		case 'n': fl |= O_NONBLOCK; break;
		default:
			fprintf(stderr, "errno_probe: bad flag '%c'\n", *s);
			exit(2);
		}
	}
	return (acc < 0 ? O_RDONLY : acc) | fl;
}

/* One write(2) of all of buf: a short write is reported as EIO-like
 * "SHORT" since the SPEC's all-or-nothing rule forbids it. */
static int write_once(int fd, const char *buf, size_t len)
{
	ssize_t w = write(fd, buf, len);
	if (w < 0)
		return errno;
	if ((size_t)w != len) {
		fprintf(stderr, "errno_probe: short write %zd of %zu\n", w, len);
		return -1;
	}
	return 0;
}

static int read_all(int fd, FILE *sink)
{
	char buf[65536];
	for (;;) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0)
			return errno;
		if (r == 0)
			return 0;
		if (sink)
			fwrite(buf, 1, (size_t)r, sink);
	}
}

static void put_result(int e)
{
	if (e == 0)
		fputs("OK", stdout);
	else if (e < 0)
		fputs("SHORT", stdout);
	else
		put_errno(e);
}

/* open, one write, close; the first failure wins. */
static int do_write(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return errno;
	int e = write_once(fd, data, len);
	if (close(fd) != 0 && e == 0)
		e = errno;
	return e;
}

static void do_seq(const char *path, const char *flags, int nsteps, char **steps)
{
	int fd = open(path, parse_flags(flags), 0644);
	if (fd < 0) {
		put_errno(errno);
		return;
	}
	fputs("OK", stdout);
	int open_fd = 1;
	for (int i = 0; i < nsteps; i++) {
		const char *st = steps[i];
		int e = 0;
		fputc(' ', stdout);
		if (!open_fd) {
			fputs("EBADF", stdout);
			continue;
		}
		if (strncmp(st, "w:", 2) == 0) {
			size_t len;
			char *d = unescape(st + 2, &len);
			e = write_once(fd, d, len);
			free(d);
		} else if (strncmp(st, "f:", 2) == 0) {
			size_t len;
			char *d = slurp(st + 2, &len);
			e = write_once(fd, d, len);
			free(d);
		} else if (strcmp(st, "r") == 0) {
			e = read_all(fd, NULL);
		} else if (strcmp(st, "R") == 0) {
			e = read_all(fd, stderr);
		} else if (strcmp(st, "s") == 0) {
			e = lseek(fd, 0, SEEK_SET) < 0 ? errno : 0;
		} else if (strcmp(st, "y") == 0) {
			e = fsync(fd) != 0 ? errno : 0;
		} else if (strcmp(st, "c") == 0) {
			e = close(fd) != 0 ? errno : 0;
			open_fd = 0;
		} else {
			fprintf(stderr, "errno_probe: bad step '%s'\n", st);
			exit(2);
		}
		put_result(e);
	}
	if (open_fd)
		close(fd);
}

static void do_rw(const char *path, const char *data)
{
	size_t len;
	char *d = unescape(data, &len);
	int e = 0;
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	if (fd < 0) {
		e = errno;
		goto out;
	}
	e = write_once(fd, d, len);
	if (e == 0)
		e = read_all(fd, stdout);
	if (close(fd) != 0 && e == 0)
		e = errno;
out:
	free(d);
	if (e) {
		fputs("ERR:", stdout);
		put_result(e);
	}
}

static int fuse_ok(const char *dir)
{
	char *argv[] = {"errno_probe", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(1, argv);
	struct fuse_lowlevel_ops ops;
	memset(&ops, 0, sizeof ops);
	struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
	if (!se)
		return EIO;
	int e = 0;
	if (fuse_session_mount(se, dir) != 0)
		e = ENODEV;
	else
		fuse_session_unmount(se);
	fuse_session_destroy(se);
	fuse_opt_free_args(&args);
	return e;
}

static void usage(void)
{
	fputs("usage: errno_probe [-P PIDFILE] open|read|write|writefile|seq|rw|"
	      "unlink|mkdir|rmdir|rename|truncate|chmod|chown|stat|fuse-ok "
	      "ARGS...\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	int a = 1;
	if (a + 1 < argc && strcmp(argv[a], "-P") == 0) {
		FILE *f = fopen(argv[a + 1], "w");
		if (!f) {
			perror(argv[a + 1]);
			return 2;
		}
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
		a += 2;
	}
	if (argc - a < 2)
		usage();
	const char *cmd = argv[a], *path = argv[a + 1];
	int n = argc - a - 2; /* arguments after PATH */
	char **rest = argv + a + 2;
	int e = 0;

	if (strcmp(cmd, "open") == 0 && n == 1) {
		int fd = open(path, parse_flags(rest[0]), 0644);
		if (fd < 0)
			e = errno;
		else if (close(fd) != 0)
			e = errno;
	} else if (strcmp(cmd, "read") == 0 && n == 0) {
		int fd = open(path, O_RDONLY);
		if (fd < 0) {
			e = errno;
		} else {
			e = read_all(fd, NULL);
			if (close(fd) != 0 && e == 0)
				e = errno;
		}
	} else if (strcmp(cmd, "write") == 0 && n == 1) {
		size_t len;
		char *d = unescape(rest[0], &len);
		e = do_write(path, d, len);
		free(d);
	} else if (strcmp(cmd, "writefile") == 0 && n == 1) {
		size_t len;
		char *d = slurp(rest[0], &len);
		e = do_write(path, d, len);
		free(d);
	} else if (strcmp(cmd, "seq") == 0 && n >= 1) {
		do_seq(path, rest[0], n - 1, rest + 1);
		fputc('\n', stdout);
		return 0;
	} else if (strcmp(cmd, "rw") == 0 && n == 1) {
		do_rw(path, rest[0]);
		return 0;
	} else if (strcmp(cmd, "unlink") == 0 && n == 0) {
		e = unlink(path) ? errno : 0;
	} else if (strcmp(cmd, "mkdir") == 0 && n == 0) {
		e = mkdir(path, 0755) ? errno : 0;
	} else if (strcmp(cmd, "rmdir") == 0 && n == 0) {
		e = rmdir(path) ? errno : 0;
	} else if (strcmp(cmd, "rename") == 0 && n == 1) {
		e = rename(path, rest[0]) ? errno : 0;
	} else if (strcmp(cmd, "truncate") == 0 && n == 1) {
		e = truncate(path, strtoll(rest[0], NULL, 10)) ? errno : 0;
	} else if (strcmp(cmd, "chmod") == 0 && n == 1) {
		e = chmod(path, (mode_t)strtol(rest[0], NULL, 8)) ? errno : 0;
	} else if (strcmp(cmd, "chown") == 0 && n == 2) {
		e = chown(path, (uid_t)strtol(rest[0], NULL, 10),
			  (gid_t)strtol(rest[1], NULL, 10)) ? errno : 0;
	} else if (strcmp(cmd, "stat") == 0 && n == 0) {
		struct stat st;
		e = stat(path, &st) ? errno : 0;
	} else if (strcmp(cmd, "fuse-ok") == 0 && n == 0) {
		e = fuse_ok(path);
	} else {
		usage();
	}
	put_result(e);
	fputc('\n', stdout);
	return 0;
}
