"""workload.py - the clients of tests/crash/crash.sh.

    python3 workload.py MOUNT TRACE ROUNDS SEED [PAUSE]

On a mounted milvusfs whose daemon runs with interpose.so: inserts into
two partitions of collection c, deletes, upserts that move entities
between them, a partition c/p2 and a collection d made, filled and
dropped again and again (pages freed and reused, names reused).  Around
each operation it appends records to TRACE, the daemon's trace
(crash_trace.h), so that they are ordered with the daemon's writes and
syncs: 'L' names a location (a partition of one incarnation of a
collection), 'I' id loc before an insert or upsert is sent, 'A' id loc
once fsync(2) and close(2) returned, 'Z' id before a delete is sent, 'X'
id once it is acknowledged, 'R' loc before rmdir of its partition or
collection is sent (the drop may reach the disk before rmdir returns).
With PAUSE, before round 13 (just after the first drop of d) it creates
the file PAUSE and waits for PAUSE.go: the caller remounts meanwhile.  Entity i has the vector vec(i) (crash_sim.c's
vec_of) wherever it is.
"""
import os
import random
import struct
import sys
import time

M, TRACE, ROUNDS, SEED = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
PAUSE = sys.argv[5] if len(sys.argv) > 5 else None
DIM = 8
rnd = random.Random(SEED)
tr = os.open(TRACE, os.O_WRONLY | os.O_APPEND)


def rec(kind, a, b=0, payload=b""):
    return struct.pack("=IIQQQQ", 0x4d465343, ord(kind), a, b, 0,
                       len(payload)) + payload


def note(kind, ids, loc=0):
    # one write per record batch: the file is O_APPEND, the daemon's
    # records never land inside it
    if ids:
        os.write(tr, b"".join(rec(kind, i, loc) for i in ids))


nloc = 0


def location(name):
    global nloc
    nloc += 1
    os.write(tr, rec("L", nloc, 0, name.encode()))
    return nloc


def vec(i):
    return ",".join(repr(((i * 31 + j * 7) % 1000) / 8.0) for j in range(DIM))


def send(path, data):
    """Write data to path in writes of random sizes, fsync, close."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    off = 0
    while off < len(data):
        off += os.write(fd, data[off:off + rnd.choice((len(data), 4096, 65536))])
    os.fsync(fd)
    os.close(fd)


def lines(ids):
    return "".join("%d\t%s\n" % (i, vec(i)) for i in ids).encode()


nxt = 0


def insert(path, loc, n):
    global nxt
    ids = list(range(nxt, nxt + n))
    nxt += n
    note("I", ids, loc)
    send(path, lines(ids))
    note("A", ids, loc)
    return ids


def make_coll(name):
    os.mkdir("%s/%s" % (M, name))
    with open("%s/%s/schema" % (M, name), "w") as f:
        f.write("dim=%d\n" % DIM)


make_coll("c")
os.mkdir(M + "/c/p1")
# partition -> (location, file to insert into, upsert file)
parts = {
    "_default": (location("c/_default"), M + "/c/vectors", M + "/c/upsert"),
    "p1": (location("c/p1"), M + "/c/p1/vectors", M + "/c/p1/upsert"),
}
where = {}                      # live id of c -> its partition
d_loc = p2_loc = None
for r in range(ROUNDS):
    if PAUSE and r == 13:
        open(PAUSE, "w").close()
        while not os.path.exists(PAUSE + ".go"):
            time.sleep(0.05)
    part = rnd.choice(("_default", "p1"))
    loc, path, _ = parts[part]
    n = 400 if r % 10 == 9 else rnd.randint(1, 30)
    for i in insert(path, loc, n):
        where[i] = part
    if r % 3 == 2 and len(where) > 20:
        gone = rnd.sample(sorted(where), rnd.randint(1, 15))
        note("Z", gone)
        send(M + "/c/delete", "".join("%d\n" % i for i in gone).encode())
        note("X", gone)
        for i in gone:
            del where[i]
    if r % 4 == 1 and len(where) > 20:
        # upsert: each moves to the other partition (same vector)
        to = "p1" if part == "_default" else "_default"
        loc, _, up = parts[to]
        moved = rnd.sample(sorted(where), rnd.randint(1, 10))
        note("I", moved, loc)
        send(up, lines(moved))
        note("A", moved, loc)
        for i in moved:
            where[i] = to
    if r % 20 == 5:
        # a second collection, filled, then dropped
        make_coll("d")
        d_loc = location("d/_default")
        insert(M + "/d/vectors", d_loc, 1500)
    if r % 20 == 8:
        os.mkdir(M + "/c/p2")
        p2_loc = location("c/p2")
        insert(M + "/c/p2/vectors", p2_loc, 300)
    if r % 20 == 12 and d_loc:
        note("R", [d_loc])
        os.rmdir(M + "/d")
        d_loc = None
    if r % 20 == 15 and p2_loc:
        note("R", [p2_loc])
        os.rmdir(M + "/c/p2")
        p2_loc = None
os.close(tr)
