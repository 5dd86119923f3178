/* crash_sim.c - simulated machine crashes from a trace of the daemon's
 * writes and syncs to data.mdb (interpose.c), as SQLite's crash tests do.
 *
 *   crash_sim [-n CRASHES] [-s SEED] [-d DIM] [-k KEEPDIR] TRACE
 *
 * A crash point p is a place in the trace: records before p happened,
 * the others did not.  At p, a write is durable when a sync that began
 * after it ended before p (or it went through an O_DSYNC descriptor and
 * completed); every other write before p is pending, and the disk may hold
 * any part of it.  Each simulated crash picks a point after the first
 * completed sync and one way the pending writes reached the disk:
 *
 *   none     all pending writes lost (power cut right after the last sync)
 *   all      all of them written (a kill -9: the OS had them)
 *   each     each pending write kept, lost or torn (a random subset of its
 *            512-byte sectors), independently
 *   sector   each sector holds any of its versions: its durable content or
 *            what any pending write put there (writes reordered at will)
 *   prefix   pending writes reached the disk in order up to one, torn
 *
 * builds that disk image of data.mdb in a directory of its own, and checks
 * it in a child process (a crash of the checker is a failure: a page
 * outside the file faults).
 *
 * Several files: the store rewrites data.mdb (src/store/env.c, "The file
 * shrinks") into data.mdb.shrink, syncs it, renames it over data.mdb and
 * syncs the directory.  Each file has its own durable image (a sync of
 * one handle makes only that file's earlier writes durable); the names
 * follow the trace's creates, renames and unlinks, which are durable once
 * a sync of the directory that began after them ended, and of the pending
 * ones any prefix reached the disk (none with "none", all with "all").
 * The image holds data.mdb (whichever file the name reaches then, or none)
 * and data.mdb.shrink when that name exists.  A third of the crash points
 * fall inside rewrites (from the copy's creation to the directory sync
 * after its rename), counted by phase: during the copy, after its sync
 * before the rename, after the rename before the directory sync.
 *
 * The checks:
 *
 *   - LMDB opens it; the meta page's last page is inside the file; every
 *     named database and the freelist walk to the end, every value is read
 *     in full, the entry counts match mdb_stat, free pages are in range;
 *   - through the store (store.h), every partition of every collection:
 *     each entity there was sent before p (no phantom), once, with its
 *     exact vector (the clients' formula, vec_of below), in the partition
 *     the clients last put it in (or, for an upsert not yet acknowledged,
 *     the one it came from), and found by id through the id map; its
 *     count is the number of its entities; the id map holds no other id;
 *   - every entity whose insert was acknowledged ('A' before p) and whose
 *     delete was not issued ('Z') is there, unless its partition's drop
 *     was issued: a drop not yet made durable ('R', no acknowledgement
 *     after it) left all or none of them; no entity whose delete or whose
 *     partition's drop was acknowledged is there.
 *
 * Prints one line per failure and a summary; exits 1 if any crash failed.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crash_trace.h"
#include "store/store.h"

#define SECTOR 512

struct rec {
	uint32_t type;
	uint64_t a, b, h, len;
	const unsigned char *data;
	int file;               /* W, B, E: the file (FILE_DIR, FILE_ALL) */
	size_t begin;           /* E: its B */
};

#define FILE_NONE (-1)
#define FILE_DIR (-2)           /* a sync of the directory */
#define FILE_ALL (-3)           /* syncfs, sync */

static struct rec *recs;
static size_t nrec;
static unsigned dim = 8;

enum strategy { S_NONE, S_ALL, S_EACH, S_SECTOR, S_PREFIX, S_COUNT };
static const char *const sname[S_COUNT] = {
	"none", "all", "each", "sector", "prefix"
};

/* xorshift64* */
static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static size_t rnd_below(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* The vector the clients write for entity id (crash.sh, its python). */
static float vec_of(int64_t id, unsigned j)
{
	return (float)((id * 31 + (int64_t)j * 7) % 1000) / 8.0f;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("crash_sim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void load(const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat sb;
	const unsigned char *p;
	size_t off = 0, cap = 0;

	if (fd < 0 || fstat(fd, &sb) != 0)
		die("%s: %s", path, strerror(errno));
	if (sb.st_size == 0)
		die("%s: empty trace (was the daemon run with interpose.so?)",
		    path);
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		die("mmap %s: %s", path, strerror(errno));
	while (off < (size_t)sb.st_size) {
		struct crash_rec h;
		if ((size_t)sb.st_size - off < sizeof(h))
			die("%s: truncated record at byte %zu", path, off);
		memcpy(&h, p + off, sizeof(h));
		if (h.magic != CRASH_MAGIC)
			die("%s: bad record at byte %zu", path, off);
		off += sizeof(h);
		if (h.len > (size_t)sb.st_size - off)
			die("%s: truncated payload at byte %zu", path, off);
		if (nrec == cap) {
			cap = cap ? cap * 2 : 4096;
			recs = realloc(recs, cap * sizeof(*recs));
			if (!recs)
				die("out of memory");
		}
		recs[nrec++] = (struct rec){ h.type, h.a, h.b, h.h, h.len,
					     p + off, FILE_NONE, 0 };
		if (h.type == CRASH_UNSUPPORTED)
			die("%s: the daemon wrote data.mdb in a way the trace cannot represent (shared writable map, truncate, fallocate or RWF_SYNC)",
			    path);
		off += h.len;
	}
	close(fd);
}

/* ---- files and names ---- */

struct file {
	unsigned char *base;    /* its durable image so far */
	size_t size, cap;
	size_t applied;         /* its writes before it are in base */
	size_t durable_from;    /* its writes before it are durable */
};
static struct file *files;
static size_t nfiles;

/* A change of names: after record at, data.mdb and data.mdb.shrink name
 * files n[0] and n[1] (FILE_NONE: the name does not exist). */
struct nsop {
	size_t at;
	int n[2];
	int rename;             /* 1: the rewrite's rename */
};
static struct nsop *ops;
static size_t nops;

/* handle -> file (open addressing; handles are never 0) */
static uint64_t *hkey;
static int *hval;
static size_t hcap;

static size_t hslot(uint64_t h)
{
	size_t i = (size_t)(h * 0x9E3779B97F4A7C15ull) & (hcap - 1);
	while (hkey[i] && hkey[i] != h)
		i = (i + 1) & (hcap - 1);
	return i;
}

static void hput(uint64_t h, int f)
{
	if (2 * (nrec + 1) > hcap) {
		/* sized once: at most one handle a record */
		hcap = 16;
		while (hcap < 2 * (nrec + 1))
			hcap *= 2;
		hkey = calloc(hcap, sizeof(*hkey));
		hval = calloc(hcap, sizeof(*hval));
		if (!hkey || !hval)
			die("out of memory");
	}
	size_t i = hslot(h);
	hkey[i] = h;
	hval[i] = f;
}

static int hget(uint64_t h)
{
	size_t i;
	if (!hcap || !hkey[i = hslot(h)])
		return FILE_NONE;
	return hval[i];
}

static void ns_op(size_t at, const int n[2], int rename)
{
	static size_t cap;
	if (nops == cap) {
		cap = cap ? 2 * cap : 64;
		ops = realloc(ops, cap * sizeof(*ops));
		if (!ops)
			die("out of memory");
	}
	ops[nops++] = (struct nsop){ at, { n[0], n[1] }, rename };
}

static int new_file(size_t at)
{
	files = realloc(files, (nfiles + 1) * sizeof(*files));
	if (!files)
		die("out of memory");
	files[nfiles] = (struct file){ NULL, 0, 0, at, at };
	return (int)nfiles++;
}

/* Resolve every record's file, follow the names, pair each sync's end
 * with its begin (sync ids restart with each daemon). */
static void resolve(const char *path)
{
	int n[2] = { FILE_NONE, FILE_NONE };
	uint64_t *bkey = NULL;
	size_t *bval = NULL, bcap = 16;

	while (bcap < 2 * (nrec + 1))
		bcap *= 2;
	bkey = calloc(bcap, sizeof(*bkey));
	bval = calloc(bcap, sizeof(*bval));
	if (!bkey || !bval)
		die("out of memory");
	hput(1, FILE_NONE);     /* allocate */
	for (size_t i = 0; i < nrec; i++) {
		struct rec *r = &recs[i];
		switch (r->type) {
		case CRASH_OPEN:
			if (r->a == CRASH_NAME_DIR) {
				hput(r->h, FILE_DIR);
				break;
			}
			if (r->a > CRASH_NAME_SHRINK)
				die("%s: record %zu: an open of an unknown name",
				    path, i);
			if (r->b & O_TRUNC)
				die("%s: record %zu: an open with O_TRUNC the trace cannot represent",
				    path, i);
			if (n[r->a] == FILE_NONE) {
				n[r->a] = new_file(i);
				ns_op(i, n, 0);
			}
			hput(r->h, n[r->a]);
			break;
		case CRASH_RENAME:
			if (n[CRASH_NAME_SHRINK] == FILE_NONE)
				die("%s: record %zu: a rename of a name that does not exist",
				    path, i);
			n[CRASH_NAME_DATA] = n[CRASH_NAME_SHRINK];
			n[CRASH_NAME_SHRINK] = FILE_NONE;
			ns_op(i, n, 1);
			break;
		case CRASH_UNLINK:
			if (r->a > CRASH_NAME_SHRINK)
				die("%s: record %zu: a bad unlink", path, i);
			n[r->a] = FILE_NONE;
			ns_op(i, n, 0);
			break;
		case CRASH_WRITE:
		case CRASH_DSYNC_DONE:
			r->file = hget(r->h);
			if (r->file < 0)
				die("%s: record %zu: a write through an unknown handle",
				    path, i);
			break;
		case CRASH_SYNC_BEGIN:
		case CRASH_SYNC_END: {
			r->file = r->h ? hget(r->h) : FILE_ALL;
			if (r->file == FILE_NONE)
				die("%s: record %zu: a sync of an unknown handle",
				    path, i);
			size_t j = (size_t)(r->a * 0x9E3779B97F4A7C15ull) &
				   (bcap - 1);
			while (bkey[j] && bkey[j] != r->a)
				j = (j + 1) & (bcap - 1);
			if (r->type == CRASH_SYNC_BEGIN) {
				bkey[j] = r->a;
				bval[j] = i;
			} else {
				if (!bkey[j])
					die("%s: record %zu: a sync that did not begin",
					    path, i);
				r->begin = bval[j];
			}
			break;
		}
		default:
			break;
		}
	}
	free(bkey);
	free(bval);
}

/* ---- the image ---- */

static void ensure(unsigned char **buf, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	size_t n = *cap ? *cap : 1 << 20;
	while (n < need)
		n *= 2;
	unsigned char *b = realloc(*buf, n);
	if (!b)
		die("out of memory");
	memset(b + *cap, 0, n - *cap);
	*buf = b;
	*cap = n;
}

static void put(unsigned char **buf, size_t *cap, size_t *size,
		uint64_t off, const unsigned char *data, size_t len)
{
	ensure(buf, cap, off + len);
	memcpy(*buf + off, data, len);
	if (off + len > *size)
		*size = off + len;
}

/* Apply the part of write w that falls in sector s. */
static void put_sector(unsigned char **buf, size_t *cap, size_t *size,
		       const struct rec *w, uint64_t s)
{
	uint64_t lo = s * SECTOR, hi = lo + SECTOR;
	uint64_t a = w->a > lo ? w->a : lo;
	uint64_t b = w->a + w->len < hi ? w->a + w->len : hi;

	if (a < b)
		put(buf, cap, size, a, w->data + (a - w->a), b - a);
}

static uint64_t first_sector(const struct rec *w) { return w->a / SECTOR; }
static uint64_t end_sector(const struct rec *w)
{
	return (w->a + w->len + SECTOR - 1) / SECTOR;
}

/* Window state for one crash point. */
struct win {
	size_t from, to;                /* records [from, to) */
};

static int is_durable_in(size_t i, size_t to)
{
	/* an O_DSYNC write whose completion record is before the point */
	return recs[i].b == 1 && i + 1 < to &&
	       recs[i + 1].type == CRASH_DSYNC_DONE;
}

/* Per-sector choice for S_SECTOR: reservoir sampling over the versions. */
static int64_t *choice;
static uint32_t *nver;
static size_t nsect_cap;

/* Is record i a write of file f? */
static int write_of(size_t i, int f)
{
	return recs[i].type == CRASH_WRITE && recs[i].file == f;
}

/* The image of file f at the end of window w (its durable base, then its
 * pending writes in w as st says). */
static void build(unsigned char **img, size_t *cap, size_t *size, int f,
		  const struct win *w, enum strategy st)
{
	size_t pend_total = 0, cut = 0;
	struct file *fl = &files[f];

	ensure(img, cap, fl->size);
	if (fl->size)
		memcpy(*img, fl->base, fl->size);
	if (*cap > fl->size)
		memset(*img + fl->size, 0, *cap - fl->size);
	*size = fl->size;
	for (size_t i = w->from; i < w->to; i++)
		if (write_of(i, f) && !is_durable_in(i, w->to))
			pend_total++;
	if (st == S_PREFIX)
		cut = rnd_below(pend_total + 1);
	if (st == S_SECTOR) {
		uint64_t maxs = 0;
		for (size_t i = w->from; i < w->to; i++)
			if (write_of(i, f) && end_sector(&recs[i]) > maxs)
				maxs = end_sector(&recs[i]);
		if (maxs > nsect_cap) {
			free(choice);
			free(nver);
			nsect_cap = maxs;
			choice = malloc(maxs * sizeof(*choice));
			nver = malloc(maxs * sizeof(*nver));
			if (!choice || !nver)
				die("out of memory");
		}
		for (size_t i = w->from; i < w->to; i++) {
			if (!write_of(i, f))
				continue;
			for (uint64_t s = first_sector(&recs[i]);
			     s < end_sector(&recs[i]); s++) {
				choice[s] = -1;
				nver[s] = 1;
			}
		}
	}
	size_t k = 0;
	for (size_t i = w->from; i < w->to; i++) {
		const struct rec *r = &recs[i];
		if (!write_of(i, f))
			continue;
		if (is_durable_in(i, w->to)) {
			if (st == S_SECTOR) {
				for (uint64_t s = first_sector(r);
				     s < end_sector(r); s++) {
					choice[s] = (int64_t)i;
					nver[s] = 1;
				}
			} else {
				put(img, cap, size, r->a, r->data, r->len);
			}
			continue;
		}
		switch (st) {
		case S_NONE:
			break;
		case S_ALL:
			put(img, cap, size, r->a, r->data, r->len);
			break;
		case S_EACH: {
			unsigned c = (unsigned)rnd_below(3);
			if (c == 1)
				put(img, cap, size, r->a, r->data, r->len);
			else if (c == 2)
				for (uint64_t s = first_sector(r);
				     s < end_sector(r); s++)
					if (rnd() & 1)
						put_sector(img, cap, size, r, s);
			break;
		}
		case S_SECTOR:
			for (uint64_t s = first_sector(r); s < end_sector(r);
			     s++)
				if (rnd_below(++nver[s]) == 0)
					choice[s] = (int64_t)i;
			break;
		case S_PREFIX:
			if (k < cut) {
				put(img, cap, size, r->a, r->data, r->len);
			} else if (k == cut) {
				uint64_t n = end_sector(r) - first_sector(r);
				uint64_t keep = rnd_below(n + 1);
				for (uint64_t s = first_sector(r);
				     s < first_sector(r) + keep; s++)
					put_sector(img, cap, size, r, s);
			}
			break;
		default:
			break;
		}
		k++;
	}
	if (st == S_SECTOR) {
		/* the later writes' bytes of a chosen sector are not there;
		 * sectors are applied in record order so that a partial
		 * sector keeps the base's other bytes */
		for (size_t i = w->from; i < w->to; i++) {
			const struct rec *r = &recs[i];
			if (!write_of(i, f))
				continue;
			for (uint64_t s = first_sector(r); s < end_sector(r);
			     s++)
				if (choice[s] == (int64_t)i)
					put_sector(img, cap, size, r, s);
		}
	}
}

/* ---- the check (in a child) ---- */

static int problems;
static void bad(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	problems++;
}

static void walk_lmdb(const char *dir, size_t file_size)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_dbi main_dbi;
	MDB_envinfo info;
	MDB_stat ms;
	MDB_val k, v;
	int rc;

	if ((rc = mdb_env_create(&env)) ||
	    (rc = mdb_env_set_maxdbs(env, 64)) ||
	    (rc = mdb_env_set_mapsize(env, (size_t)1 << 34))) {
		bad("mdb_env_create: %s", mdb_strerror(rc));
		return;
	}
	rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0600);
	if (rc) {
		bad("LMDB cannot open the image: %s", mdb_strerror(rc));
		mdb_env_close(env);
		return;
	}
	mdb_env_info(env, &info);
	mdb_env_stat(env, &ms);
	if (((uint64_t)info.me_last_pgno + 1) * ms.ms_psize > file_size) {
		bad("the meta page uses pages up to %zu, the file has %zu",
		    info.me_last_pgno, file_size / ms.ms_psize);
		mdb_env_close(env);
		return;
	}
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn))) {
		bad("mdb_txn_begin: %s", mdb_strerror(rc));
		mdb_env_close(env);
		return;
	}
	/* the freelist: every page in range */
	if ((rc = mdb_cursor_open(txn, 0, &cur)) == 0) {
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
			size_t n, pg;
			if (v.mv_size < sizeof(n)) {
				bad("freelist record of %zu bytes", v.mv_size);
				break;
			}
			memcpy(&n, v.mv_data, sizeof(n));
			if ((n + 1) * sizeof(n) > v.mv_size) {
				bad("freelist record: %zu pages in %zu bytes",
				    n, v.mv_size);
				break;
			}
			for (size_t i = 1; i <= n; i++) {
				memcpy(&pg, (char *)v.mv_data + i * sizeof(pg),
				       sizeof(pg));
				if (pg < 2 || pg > info.me_last_pgno)
					bad("free page %zu outside 2..%zu", pg,
					    info.me_last_pgno);
			}
		}
		if (rc != MDB_NOTFOUND && rc != 0)
			bad("walking the freelist: %s", mdb_strerror(rc));
		mdb_cursor_close(cur);
	}
	if ((rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) ||
	    (rc = mdb_cursor_open(txn, main_dbi, &cur))) {
		bad("main db: %s", mdb_strerror(rc));
		goto out;
	}
	while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0) {
		char name[256];
		MDB_dbi dbi;
		MDB_cursor *c2;
		MDB_val k2, v2;
		size_t n = 0;
		unsigned sum = 0;
		int rc2;

		if (k.mv_size == 0 || k.mv_size >= sizeof(name)) {
			bad("main db: a key of %zu bytes", k.mv_size);
			continue;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if ((rc2 = mdb_dbi_open(txn, name, 0, &dbi))) {
			bad("db %s: %s", name, mdb_strerror(rc2));
			continue;
		}
		if ((rc2 = mdb_cursor_open(txn, dbi, &c2))) {
			bad("db %s: %s", name, mdb_strerror(rc2));
			continue;
		}
		while ((rc2 = mdb_cursor_get(c2, &k2, &v2, MDB_NEXT)) == 0) {
			/* read every byte: overflow pages too */
			for (size_t i = 0; i < v2.mv_size; i++)
				sum += ((unsigned char *)v2.mv_data)[i];
			n++;
		}
		if (rc2 != MDB_NOTFOUND)
			bad("db %s: walking: %s", name, mdb_strerror(rc2));
		mdb_cursor_close(c2);
		if ((rc2 = mdb_stat(txn, dbi, &ms)) == 0 && ms.ms_entries != n)
			bad("db %s: mdb_stat says %zu entries, the walk found %zu",
			    name, ms.ms_entries, n);
		(void)sum;
	}
	if (rc != MDB_NOTFOUND)
		bad("main db: walking: %s", mdb_strerror(rc));
	mdb_cursor_close(cur);
out:
	mdb_txn_abort(txn);
	mdb_env_close(env);
}

/* What the clients did before the crash point, per entity id and per
 * location (crash_trace.h's 'L', 'I', 'A', 'Z', 'X', 'R'). */
enum { F_ISSUED = 1, F_ACKED = 2, F_DEL_ISSUED = 4, F_DEL_ACKED = 8 };
enum { L_LIVE, L_DROPPING, L_GONE };
static unsigned char *eflags;   /* per id */
static uint32_t *eloc, *ealt;   /* location; the one an upsert in flight
				 * may not have left yet (0: none) */
static int64_t want_n;          /* ids 0 .. want_n - 1 */
static char **loc_name;         /* per location number */
static unsigned char *loc_state;
static size_t nloc;

static const char *lname(uint32_t loc)
{
	return loc && loc < nloc && loc_name[loc] ? loc_name[loc] : "?";
}

/* One record of the clients, in trace order. */
static void client_rec(const struct rec *r)
{
	int64_t id = (int64_t)r->a;

	switch (r->type) {
	case CRASH_INSERT_ISSUED:
		/* an upsert of an id that is there may leave it where it
		 * was until acknowledged */
		ealt[id] = (eflags[id] & F_ISSUED) && eloc[id] != r->b ?
			   eloc[id] : 0;
		eloc[id] = (uint32_t)r->b;
		eflags[id] |= F_ISSUED;
		break;
	case CRASH_ACK_INSERT:
	case CRASH_ACK_DELETE:
		/* this acknowledgement's fsync made earlier drops durable */
		for (size_t l = 1; l < nloc; l++)
			if (loc_state[l] == L_DROPPING)
				loc_state[l] = L_GONE;
		if (r->type == CRASH_ACK_INSERT) {
			eflags[id] |= F_ACKED;
			eloc[id] = (uint32_t)r->b;
			ealt[id] = 0;
		} else {
			eflags[id] |= F_DEL_ACKED;
		}
		break;
	case CRASH_DELETE_ISSUED:
		eflags[id] |= F_DEL_ISSUED;
		break;
	case CRASH_DROPPED:
		loc_state[r->a] = L_DROPPING;
		break;
	default:
		break;
	}
}

struct scan {
	unsigned char *seen;            /* per id */
	uint64_t count;                 /* in the partition being scanned */
	uint64_t total;                 /* in every partition */
	char where[2 * 256 + 2];        /* "collection/partition" */
	int64_t *ids;                   /* of the partition being scanned */
	size_t nids, capids;
};

static int scan_cb(void *arg, uint64_t seq, int64_t id, const void *val,
		   size_t len)
{
	struct scan *s = arg;
	const float *f = val;

	(void)seq;
	if (len < dim * sizeof(float)) {
		bad("%s: entity %" PRId64 ": a value of %zu bytes", s->where,
		    id, len);
		return 0;
	}
	for (unsigned j = 0; j < dim; j++)
		if (f[j] != vec_of(id, j)) {
			bad("%s: entity %" PRId64 ": component %u is %g, expected %g",
			    s->where, id, j, f[j], vec_of(id, j));
			break;
		}
	s->count++;
	if (s->nids == s->capids) {
		s->capids = s->capids ? 2 * s->capids : 1024;
		s->ids = realloc(s->ids, s->capids * sizeof(*s->ids));
		if (!s->ids)
			die("out of memory");
	}
	s->ids[s->nids++] = id;
	if (id < 0 || id >= want_n || !(eflags[id] & F_ISSUED)) {
		bad("%s: entity %" PRId64 " was never sent (a phantom)",
		    s->where, id);
		return 0;
	}
	if (s->seen[id]++)
		bad("%s: entity %" PRId64 " is there twice", s->where, id);
	if (eflags[id] & F_DEL_ACKED)
		bad("%s: entity %" PRId64 " is back after its delete was acknowledged",
		    s->where, id);
	if (strcmp(s->where, lname(eloc[id])) != 0 &&
	    (!ealt[id] || strcmp(s->where, lname(ealt[id])) != 0))
		bad("entity %" PRId64 " is in %s, expected in %s", id,
		    s->where, lname(eloc[id]));
	else if (loc_state[eloc[id]] == L_GONE && !ealt[id])
		bad("%s: entity %" PRId64 " is back after the drop of %s was acknowledged",
		    s->where, id, lname(eloc[id]));
	return 0;
}

struct names {
	char (*name)[256];
	uint32_t *num;                  /* cid or pid */
	size_t n, cap;
};

static void names_add(struct names *l, const char *name, uint32_t num)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->name = realloc(l->name, l->cap * sizeof(*l->name));
		l->num = realloc(l->num, l->cap * sizeof(*l->num));
		if (!l->name || !l->num)
			die("out of memory");
	}
	snprintf(l->name[l->n], sizeof(*l->name), "%s", name);
	l->num[l->n++] = num;
}

static int coll_cb(void *arg, const char *name, const struct store_coll *c)
{
	names_add(arg, name, c->cid);
	return 0;
}

static int part_cb(void *arg, const char *name, const struct store_part *p)
{
	names_add(arg, name, p->pid);
	return 0;
}

/* Every partition of every collection: its entities, its count, the id
 * map's way back to each. */
static int check_fn(struct store_txn *t, void *arg, struct mfs_err *err)
{
	struct scan *s = arg;
	struct names colls = { 0 };
	int rc;

	(void)err;
	rc = store_coll_list(t, coll_cb, &colls);
	if (rc)
		bad("listing the collections: %s", strerror(-rc));
	for (size_t i = 0; i < colls.n; i++) {
		struct names parts = { 0 };
		uint32_t cid = colls.num[i];

		rc = store_part_list(t, cid, part_cb, &parts);
		if (rc)
			bad("collection %s: listing its partitions: %s",
			    colls.name[i], strerror(-rc));
		for (size_t j = 0; j < parts.n; j++) {
			struct store_part p;
			uint64_t next;

			snprintf(s->where, sizeof(s->where), "%s/%s",
				 colls.name[i], parts.name[j]);
			rc = store_part_get(t, cid, parts.name[j], &p);
			if (rc) {
				bad("%s: %s", s->where, strerror(-rc));
				continue;
			}
			s->count = 0;
			s->nids = 0;
			rc = store_ent_scan(t, p.pid, 0, 0, scan_cb, s, &next);
			if (rc)
				bad("%s: scanning: %s", s->where,
				    strerror(-rc));
			if (p.count != s->count)
				bad("%s: count %" PRIu64 ", %" PRIu64 " entities",
				    s->where, p.count, s->count);
			s->total += s->count;
			for (size_t k = 0; k < s->nids; k++) {
				uint32_t pid;
				float v[256];
				rc = store_ent_get(t, cid, s->ids[k], &pid, v,
						   dim * sizeof(float), NULL,
						   NULL);
				if (rc)
					bad("%s: entity %" PRId64 " is not in the id map: %s",
					    s->where, s->ids[k], strerror(-rc));
				else if (pid != p.pid)
					bad("%s: entity %" PRId64 ": the id map names partition %u, not %u",
					    s->where, s->ids[k], pid, p.pid);
			}
		}
		free(parts.name);
		free(parts.num);
	}
	free(colls.name);
	free(colls.num);
	return 0;
}

static void check_store(const char *dir)
{
	struct store *st;
	struct mfs_err err;
	struct scan s = { 0 };
	uint64_t nmap = 0;
	int rc;

	mfs_err_clear(&err);
	rc = store_open(dir, NULL, &st, &err);
	if (rc) {
		bad("store_open: %s", err.msg);
		return;
	}
	s.seen = calloc((size_t)want_n + 1, 1);
	if (!s.seen)
		die("out of memory");
	rc = store_read(st, check_fn, &s, &err);
	if (rc)
		bad("store_read: %s", err.msg);
	/* each entity found through the id map: no other key may be there */
	if (store_stat_entries(st, "idmap", &nmap, &err) != 0)
		bad("the id map: %s", err.msg);
	else if (nmap != s.total)
		bad("the id map has %" PRIu64 " ids, the partitions %" PRIu64 " entities",
		    nmap, s.total);

	int64_t lost = 0, first_lost = -1;
	uint64_t *there = calloc(nloc, sizeof(*there));
	uint64_t *acked = calloc(nloc, sizeof(*acked));
	if (!there || !acked)
		die("out of memory");
	for (int64_t id = 0; id < want_n; id++) {
		if ((eflags[id] & (F_ACKED | F_DEL_ISSUED)) != F_ACKED)
			continue;
		switch (loc_state[eloc[id]]) {
		case L_LIVE:
			if (!s.seen[id] && !lost++)
				first_lost = id;
			break;
		case L_DROPPING:
			acked[eloc[id]]++;
			there[eloc[id]] += s.seen[id] != 0;
			break;
		default:
			break;
		}
	}
	if (lost)
		bad("%" PRId64 " acknowledged inserts lost (first: id %" PRId64 " in %s)",
		    lost, first_lost, lname(eloc[first_lost]));
	/* a drop in flight is one transaction: all or nothing */
	for (size_t l = 1; l < nloc; l++)
		if (there[l] && there[l] != acked[l])
			bad("the drop of %s is half done: %" PRIu64 " of its %" PRIu64 " acknowledged entities there",
			    lname((uint32_t)l), there[l], acked[l]);
	free(there);
	free(acked);
	free(s.seen);
	free(s.ids);
	store_close(st);
}

/* ---- driver ---- */

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return x < y ? -1 : x > y;
}

static int write_image(const char *dir, const char *name,
		       const unsigned char *img, size_t n)
{
	char path[4400];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -1;
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, img + off, n - off);
		if (w <= 0) {
			close(fd);
			return -1;
		}
		off += (size_t)w;
	}
	close(fd);
	return 0;
}

static void rm_image(const char *dir)
{
	static const char *const names[] = {
		"data.mdb", "lock.mdb", "milvusfs.lock", "milvusfs.reserve",
		"data.mdb.shrink", "data.mdb.shrink-lock"
	};
	char path[4400];

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

int main(int argc, char **argv)
{
	size_t ncrash = 100;
	const char *keep = NULL, *tmp = getenv("TMPDIR");
	unsigned long long seed = 1;
	int opt;

	while ((opt = getopt(argc, argv, "n:s:d:k:")) != -1) {
		switch (opt) {
		case 'n': ncrash = strtoull(optarg, NULL, 10); break;
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'd': dim = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k': keep = optarg; break;
		default:
			fprintf(stderr, "usage: crash_sim [-n CRASHES] [-s SEED] [-d DIM] [-k KEEPDIR] TRACE\n");
			return 2;
		}
	}
	if (optind != argc - 1 || dim == 0 || dim > 256)
		die("usage: crash_sim [-n CRASHES] [-s SEED] [-d DIM] [-k KEEPDIR] TRACE");
	rng ^= seed * 0x9E3779B97F4A7C15ull;
	if (!rng)
		rng = 1;
	load(argv[optind]);

	/* ids, locations and where syncs begin */
	size_t first_end = SIZE_MAX, nwrites = 0, nsyncs = 0;
	int64_t maxid = -1;
	uint64_t maxsync = 0, maxloc = 0;
	for (size_t i = 0; i < nrec; i++) {
		const struct rec *r = &recs[i];
		if ((r->type == CRASH_INSERT_ISSUED ||
		     r->type == CRASH_ACK_INSERT ||
		     r->type == CRASH_DELETE_ISSUED ||
		     r->type == CRASH_ACK_DELETE) && (int64_t)r->a > maxid)
			maxid = (int64_t)r->a;
		if (r->type == CRASH_LOCATION && r->a > maxloc)
			maxloc = r->a;
		if (r->type == CRASH_SYNC_END && first_end == SIZE_MAX)
			first_end = i;
		if (r->type == CRASH_SYNC_BEGIN && r->a > maxsync)
			maxsync = r->a;
		nwrites += r->type == CRASH_WRITE;
		nsyncs += r->type == CRASH_SYNC_END;
	}
	if (first_end == SIZE_MAX)
		die("%s: no completed sync in the trace", argv[optind]);
	if (maxid < 0)
		die("%s: no acknowledgement in the trace (did the clients write them?)",
		    argv[optind]);
	(void)maxsync;
	resolve(argv[optind]);
	/* Crash points start after the first sync of a file: the directory
	 * sync that store_open makes after creating data.mdb comes before
	 * LMDB has written the file's meta pages, and a crash there leaves
	 * a database that never existed (nothing was acknowledged yet),
	 * which LMDB rightly refuses. */
	first_end = SIZE_MAX;
	for (size_t j = 0; j < nrec && first_end == SIZE_MAX; j++)
		if (recs[j].type == CRASH_SYNC_END && recs[j].file != FILE_DIR)
			first_end = j;
	if (first_end == SIZE_MAX)
		die("%s: no completed sync of data.mdb in the trace",
		    argv[optind]);
	want_n = maxid + 1;
	eflags = calloc((size_t)want_n, 1);
	eloc = calloc((size_t)want_n, sizeof(*eloc));
	ealt = calloc((size_t)want_n, sizeof(*ealt));
	nloc = maxloc + 1;
	loc_name = calloc(nloc, sizeof(*loc_name));
	loc_state = calloc(nloc, 1);
	if (!eflags || !eloc || !ealt || !loc_name || !loc_state)
		die("out of memory");
	for (size_t i = 0; i < nrec; i++) {
		const struct rec *r = &recs[i];
		if (r->type == CRASH_LOCATION) {
			if (r->a == 0 || loc_name[r->a] || r->len == 0 ||
			    r->len > 2 * 256 + 1 ||
			    !(loc_name[r->a] = strndup((const char *)r->data,
						      r->len)))
				die("%s: record %zu: a bad location", argv[optind], i);
		} else if (((r->type == CRASH_INSERT_ISSUED ||
			     r->type == CRASH_ACK_INSERT) &&
			    (r->b == 0 || r->b >= nloc)) ||
			   (r->type == CRASH_DROPPED &&
			    (r->a == 0 || r->a >= nloc))) {
			die("%s: record %zu: an unknown location", argv[optind], i);
		}
	}

	/* The rewrites: from the creation of data.mdb.shrink to the end of
	 * the first directory sync begun after its rename or unlink. */
	size_t (*rw)[2] = calloc(nops + 1, sizeof(*rw)), nrw = 0, rwlen = 0;
	if (!rw)
		die("out of memory");
	for (size_t k = 0; k < nops; k++) {
		if (ops[k].n[1] == FILE_NONE ||
		    (k > 0 && ops[k - 1].n[1] == ops[k].n[1]))
			continue;
		size_t gone = nrec, end = nrec;
		for (size_t j = k + 1; j < nops && gone == nrec; j++)
			if (ops[j].n[1] != ops[k].n[1])
				gone = ops[j].at;
		for (size_t i = gone; i < nrec && end == nrec; i++)
			if (recs[i].type == CRASH_SYNC_END &&
			    recs[i].file <= FILE_DIR && recs[i].begin > gone)
				end = i + 1;
		size_t from = ops[k].at + 1 > first_end + 1 ? ops[k].at + 1 :
			      first_end + 1;
		if (from < end) {
			rw[nrw][0] = from;
			rw[nrw][1] = end;
			rwlen += end - from;
			nrw++;
		}
	}

	/* crash points: records [0, p) happened, p in (first_end, nrec];
	 * a third inside the rewrites */
	size_t *pts = malloc(ncrash * sizeof(*pts));
	size_t span = nrec - first_end;
	for (size_t i = 0; i < ncrash; i++) {
		if (rwlen && i % 3 == 2) {
			size_t x = rnd_below(rwlen), k = 0;
			while (x >= rw[k][1] - rw[k][0])
				x -= rw[k][1] - rw[k][0], k++;
			pts[i] = rw[k][0] + x;
		} else {
			pts[i] = first_end + 1 + rnd_below(span);
		}
	}
	qsort(pts, ncrash, sizeof(*pts), cmp_size);

	size_t dir_from = 0;            /* names changed before it are
					 * durable */
	size_t opscan = 0;              /* ops [0, opscan) are before p */
	size_t phases[4] = { 0 };       /* outside, copying, copied,
					 * renamed */
	size_t ackscan = 0, failed = 0, counts[S_COUNT] = { 0 };
	size_t fails_shown = 0;
	unsigned char *img = NULL;
	size_t img_cap = 0, img_size = 0, data_size = 0;
	char work[4096];

	snprintf(work, sizeof(work), "%s/crash_sim.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(work))
		die("mkdtemp: %s", strerror(errno));
	for (size_t c = 0; c < ncrash; c++) {
		size_t p = pts[c];
		enum strategy st = (enum strategy)rnd_below(S_COUNT);

		/* advance the durable horizons and the acknowledgements */
		for (; ackscan < p; ackscan++) {
			const struct rec *r = &recs[ackscan];
			if (r->type != CRASH_SYNC_END) {
				client_rec(r);
				continue;
			}
			for (size_t f = 0; f < nfiles; f++)
				if ((r->file == FILE_ALL || r->file == (int)f) &&
				    r->begin > files[f].durable_from)
					files[f].durable_from = r->begin;
			if (r->file <= FILE_DIR && r->begin > dir_from)
				dir_from = r->begin;
		}
		while (opscan < nops && ops[opscan].at < p)
			opscan++;
		/* the names: the durable changes, then a prefix of the
		 * pending ones */
		size_t durable_ops = 0;
		while (durable_ops < opscan && ops[durable_ops].at < dir_from)
			durable_ops++;
		size_t pend = opscan - durable_ops;
		size_t k = st == S_NONE ? 0 : st == S_ALL ? pend :
			   rnd_below(pend + 1);
		const int none[2] = { FILE_NONE, FILE_NONE };
		const int *names = durable_ops + k ?
				   ops[durable_ops + k - 1].n : none;
		/* the phase, from what the daemon had done by p */
		const int *now = opscan ? ops[opscan - 1].n : none;
		int ph = 0;
		if (now[1] != FILE_NONE)
			ph = files[now[1]].durable_from > ops[opscan - 1].at ?
			     2 : 1;
		else if (opscan && durable_ops < opscan)
			for (size_t j = durable_ops; j < opscan; j++)
				if (ops[j].rename)
					ph = 3;
		phases[ph]++;
		counts[st]++;

		char dir[4200];
		snprintf(dir, sizeof(dir), "%s/img%zu", work, c);
		if (mkdir(dir, 0700) != 0)
			die("%s: %s", dir, strerror(errno));
		img_size = 0;
		for (int n = 0; n < 2; n++) {
			int f = names[n];
			if (f == FILE_NONE)
				continue;
			struct file *fl = &files[f];
			for (; fl->applied < fl->durable_from; fl->applied++)
				if (write_of(fl->applied, f))
					put(&fl->base, &fl->cap, &fl->size,
					    recs[fl->applied].a,
					    recs[fl->applied].data,
					    recs[fl->applied].len);
			struct win w = { fl->durable_from, p };
			build(&img, &img_cap, &img_size, f, &w, st);
			if (write_image(dir, n ? "data.mdb.shrink" : "data.mdb",
					img, img_size) != 0)
				die("%s: %s", dir, strerror(errno));
			if (n == 0)
				data_size = img_size;
		}
		int pfd[2];
		if (pipe(pfd) != 0)
			die("pipe: %s", strerror(errno));
		fflush(NULL);
		pid_t pid = fork();
		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			close(pfd[0]);
			dup2(pfd[1], 2);
			alarm(60);
			walk_lmdb(dir, data_size);
			if (!problems)
				check_store(dir);
			_exit(problems ? 1 : 0);
		}
		close(pfd[1]);
		char msg[2048];
		size_t ml = 0;
		ssize_t r;
		while ((r = read(pfd[0], msg + ml, sizeof(msg) - 1 - ml)) > 0)
			ml += (size_t)r;
		close(pfd[0]);
		msg[ml] = '\0';
		int status;
		waitpid(pid, &status, 0);
		int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
		if (!ok) {
			failed++;
			if (WIFSIGNALED(status))
				snprintf(msg + ml, sizeof(msg) - ml,
					 "the checker died of signal %d (a page outside the file?)\n",
					 WTERMSIG(status));
			if (fails_shown++ < 20) {
				char *nl;
				while ((nl = strchr(msg, '\n')) && nl[1])
					*nl = ';';
				printf("crash %zu: point %zu of %zu (%zu pending records), %s: %s",
				       c, p, nrec, p - dir_from, sname[st],
				       msg);
				if (!strchr(msg, '\n'))
					putchar('\n');
			}
			if (keep) {
				char dst[4300];
				snprintf(dst, sizeof(dst), "%s/crash%zu-%s.mdb",
					 keep, c, sname[st]);
				mkdir(keep, 0700);
				char src[4300];
				snprintf(src, sizeof(src), "%s/data.mdb", dir);
				if (rename(src, dst) != 0)
					fprintf(stderr, "crash_sim: keeping %s: %s\n",
						dst, strerror(errno));
			}
		}
		rm_image(dir);
		data_size = 0;
	}
	rmdir(work);
	printf("crash_sim: %zu simulated crashes (none %zu, all %zu, each %zu, sector %zu, prefix %zu) over %zu records (%zu writes, %zu syncs), ids 0..%" PRId64 ", seed %llu: %zu failed\n",
	       ncrash, counts[S_NONE], counts[S_ALL], counts[S_EACH],
	       counts[S_SECTOR], counts[S_PREFIX], nrec, nwrites, nsyncs,
	       maxid, seed, failed);
	printf("crash_sim: %zu rewrites of data.mdb in the trace; crashes inside them: %zu during the copy, %zu after its sync before the rename, %zu after the rename before the directory sync\n",
	       nrw, phases[1], phases[2], phases[3]);
	free(img);
	free(pts);
	free(rw);
	return failed ? 1 : 0;
}
