#!/bin/sh
# search_session.sh - private search sessions (SPEC §6 form 3): a
# read-write descriptor on search/<name> that reads the results of what it
# wrote stores nothing: no LMDB transaction (the last transaction id in
# data.mdb's meta pages does not move), no saved query left, a saved query
# of the same name untouched.  Each descriptor answers its own text while
# others write the same name; a descriptor writes a new query after
# reading; a bad query fails the read and saves nothing; a descriptor
# closed unread saves its query (a transaction).  A name used by many
# sessions in a row answers each and is no file afterwards.  A text batch written
# through a descriptor answers as the same batch saved as .fvecs.
. "$(dirname "$0")/lib.sh"
mfs_mount

py_check "$M" "$DB" <<'EOF' || fail "private sessions"
import struct
M, DB = sys.argv[1], sys.argv[2]

def txnid():
    """The newest of LMDB's two meta pages' txnid: MDB_page header (16
    bytes), then mm_magic, mm_version (4 + 4), mm_address, mm_mapsize
    (8 + 8), two MDB_db (2 x 48), mm_last_pg (8), mm_txnid."""
    ps = os.sysconf("SC_PAGE_SIZE")     # LMDB's page size is the OS's
    with open(DB + "/data.mdb", "rb") as f:
        pages = f.read(2 * ps)
    for off in (0, ps):
        assert struct.unpack_from("<I", pages, off + 16)[0] == 0xBEEFC0DE, "not an LMDB meta page"
    return max(struct.unpack_from("<Q", pages, off + 144)[0] for off in (0, ps))

def session(name, text, flags=os.O_RDWR | os.O_CREAT):
    fd = os.open(C + "/search/" + name, flags, 0o644)
    try:
        os.write(fd, text.encode())
        out = b""
        while True:
            b = os.read(fd, 1 << 16)
            if not b:
                break
            out += b
    finally:
        os.close(fd)
    return out.decode()

N, DIM = 3000, 8
base, qs = make_float(N, DIM, 21)
C = M + "/c"
os.mkdir(C)
save(C + "/schema", "dim=%d metric_type=L2 field=bucket:INT64 field=tag:VARCHAR(8) field=f:FLOAT field=near:BOOL\n" % DIM)
with open(C + "/entities.jsonl", "a") as f:
    for i in range(N):
        f.write(json.dumps({"id": i, "vector": [float(x) for x in base[i]], **fields(i, np.zeros(N, bool))}) + "\n")
save(C + "/load", "1\n")

def want(q, k, pred=None):
    sc, _ = scores("L2", base, q)
    allowed = np.ones(N, bool) if pred is None else np.array([pred(i) for i in range(N)])
    return [int(i) for i in topk(sc, allowed, k)]

ids = lambda text, nq=1: [[h[0] for h in r] for r in parse_tsv(text, nq)]

save(C + "/search/q1", "k=4\n%s\n" % fmt_vec(qs[0]))
check(ids(read(C + "/search/q1")) == [want(qs[0], 4)], "the saved query q1")
t0 = txnid()
# 30 private sessions: new names, the saved name, filters, a batch
for i in range(30):
    q = qs[i % len(qs)]
    name = ("p%d" % i) if i % 3 else "q1"
    got = session(name, "k=5\nfilter=bucket >= %d\n%s\n" % (i * 10, fmt_vec(q)),
                  os.O_RDWR | (os.O_CREAT if name != "q1" else 0))
    check(ids(got) == [want(q, 5, lambda j: j % NB >= i * 10)], "session %d (%s): %r" % (i, name, got))
check(txnid() == t0, "private sessions wrote to LMDB: txnid %d -> %d" % (t0, txnid()))
check(sorted(os.listdir(C + "/search")) == ["q1"], "saved queries after private sessions: %s" % os.listdir(C + "/search"))
check(ids(read(C + "/search/q1")) == [want(qs[0], 4)], "q1 changed by a session on its name")

# one name for every session (its name stays known to the kernel, fs.c
# FS_FORGET_KEEP): each answers its own query, and the name is no file
t2 = txnid()
for i in range(20):
    q = qs[(i * 7) % len(qs)]
    got = session("same", "k=3\n%s\n" % fmt_vec(q))
    check(ids(got) == [want(q, 3)], "session %d on one name: %r" % (i, got))
check(txnid() == t2, "sessions on one name wrote to LMDB")
for name in ("same", "p29", "p1"):
    for what, fn in (("stat", lambda: os.stat(C + "/search/" + name)),
                     ("open", lambda: os.close(os.open(C + "/search/" + name, os.O_RDONLY)))):
        try:
            fn()
            check(False, "%s of %s after its private sessions succeeded" % (what, name))
        except OSError as e:
            check(e.errno == errno.ENOENT, "%s of %s: %s" % (what, name, errno.errorcode[e.errno]))
check(sorted(os.listdir(C + "/search")) == ["q1"], "saved queries after sessions on one name: %s" % os.listdir(C + "/search"))
# and saving under that name afterwards saves
save(C + "/search/same", "k=2\n%s\n" % fmt_vec(qs[5]))
check(ids(read(C + "/search/same")) == [want(qs[5], 2)], "a query saved on a session's name")
os.remove(C + "/search/same")
check(sorted(os.listdir(C + "/search")) == ["q1"], "saved queries after rm same: %s" % os.listdir(C + "/search"))
t0 = txnid()

# two descriptors on one name, interleaved: each reads what it wrote
a = os.open(C + "/search/shared", os.O_RDWR | os.O_CREAT, 0o644)
b = os.open(C + "/search/shared", os.O_RDWR | os.O_CREAT, 0o644)
os.write(a, ("k=3\n%s\n" % fmt_vec(qs[1])).encode())
os.write(b, ("k=2\nfilter=tag == \"t2\"\n%s\n" % fmt_vec(qs[2])).encode())
ra = os.read(a, 1 << 16).decode()
rb = os.read(b, 1 << 16).decode()
check(ids(ra) == [want(qs[1], 3)], "descriptor a: %r" % ra)
check(ids(rb) == [want(qs[2], 2, lambda j: j % 3 == 2)], "descriptor b: %r" % rb)
# a new query on a descriptor that has read: its results from offset 0 of
# the new answer, wherever the reader stands
os.write(a, ("k=1\n%s\n" % fmt_vec(qs[3])).encode())
os.lseek(a, 0, os.SEEK_SET)
ra = os.read(a, 1 << 16).decode()
check(ids(ra) == [want(qs[3], 1)], "descriptor a, second query: %r" % ra)
os.close(a)
os.close(b)
check(txnid() == t0, "interleaved sessions wrote to LMDB")
check("shared" not in os.listdir(C + "/search"), "an interleaved session left a saved query")

# a bad query: the read fails with EINVAL, nothing is saved
fd = os.open(C + "/search/badq", os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, ("k=3\nfilter=nosuch > 1\n%s\n" % fmt_vec(qs[0])).encode())
try:
    os.read(fd, 1 << 16)
    check(False, "a session with an unknown field in its filter read results")
except OSError as e:
    check(errno.errorcode[e.errno] == "EINVAL", "bad session: %s" % errno.errorcode[e.errno])
os.close(fd)
check("badq" not in os.listdir(C + "/search"), "a failed session left a saved query")
check(txnid() == t0, "a failed session wrote to LMDB")
check("field nosuch not exist" in read(M + "/.errors"), "/.errors names the unknown field")

# a text batch through a descriptor answers as the saved .fvecs batch
with open(C + "/search/b.fvecs", "wb") as f:
    for v in qs:
        f.write(np.int32(DIM).tobytes() + v.tobytes())
t1 = txnid()
txt = session("tb", "k=7\n" + "".join(fmt_vec(v) + "\n" for v in qs))
fv = read(C + "/search/b.fvecs&k=7")
check(txt == fv, "text batch through a descriptor differs from the .fvecs batch")
check(ids(txt, len(qs)) == [want(v, 7) for v in qs], "text batch results")
check(txnid() == t1, "the batch session wrote to LMDB")

# a query written in pieces, each ending a line: the read answers the
# whole text, never a first piece the daemon may have run already (an
# fstat between the writes gives it the time), and a piece that turns a
# good query bad fails the read; nothing is saved
t1 = txnid()
for i in range(10):
    a, b = qs[(2 * i) % len(qs)], qs[(2 * i + 1) % len(qs)]
    fd = os.open(C + "/search/pieces", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, ("k=3\n%s\n" % fmt_vec(a)).encode())
        os.fstat(fd)
        os.write(fd, ("%s\n" % fmt_vec(b)).encode())
        got = os.pread(fd, 1 << 16, 0).decode()
        check(ids(got, 2) == [want(a, 3), want(b, 3)], "pieces %d: %r" % (i, got))
        # a new query in two pieces: parameters first, then the vector
        os.write(fd, b"k=2\n")
        os.fstat(fd)
        os.write(fd, ("%s\n" % fmt_vec(b)).encode())
        got = os.pread(fd, 1 << 16, 0).decode()
        check(ids(got) == [want(b, 2)], "parameters, then the vector %d: %r" % (i, got))
        os.write(fd, ("k=4\n%s\n" % fmt_vec(a)).encode())
        os.fstat(fd)
        os.write(fd, b"1,2\n")
        try:
            got = os.pread(fd, 1 << 16, 0)
            check(False, "a bad last piece read %r" % got)
        except OSError as e:
            check(errno.errorcode[e.errno] == "EINVAL", "bad last piece: %s" % errno.errorcode[e.errno])
    finally:
        os.close(fd)
check(txnid() == t1, "sessions written in pieces wrote to LMDB")
check("pieces" not in os.listdir(C + "/search"), "sessions written in pieces left a saved query")

# closed without reading: the query is saved (one transaction at least)
fd = os.open(C + "/search/kept", os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, ("k=2\n%s\n" % fmt_vec(qs[4])).encode())
os.close(fd)
check(txnid() > t1, "a descriptor closed unread did not write its query")
check("kept" in os.listdir(C + "/search"), "a descriptor closed unread did not save")
check(ids(read(C + "/search/kept")) == [want(qs[4], 2)], "the kept query")
sys.exit(1 if bad else 0)
EOF
