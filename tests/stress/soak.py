"""soak.py - the 8 clients of soak.sh (run through client.py soak).

    ROLE N C DEADLINE PROG OUT [ARGS]

Roles, on collection C (dim 4, seed entities 1..200 never deleted, loaded):
  writer     inserts batches of fresh ids (N * 10**7 up) into C or into the
             partition named by ARGS, deletes its own older ids to keep at
             most 1,000 alive; OUT gets the ids alive at the end
  searcher   inline and saved searches, k=10 (ARGS: extra parameters):
             exactly 10 hits, best first, only ids that can exist
  querier    query/: count(*) of the seeds is exactly 200; a page of 5 ids
             in ascending order
  indexer    HNSW, IVF_FLAT and FLAT builds in turn (blocking), the state
             never Failed; EBUSY (an automatic compaction runs) is tried
             again
  loader     on collection ARGS (300 entities): release (state NotLoad,
             a search is ENODATA, count still 300), load (Loaded, a search
             finds 10)
Any other error fails the client (exit 1, OUT says why).
"""
import errno
import json
import os
import random
import sys
import time

from client import append, line, read, vec

SEEDS = 200


def hits_of(text):
    return [l.split("\t") for l in text.split("\n") if l]


def possible(i):
    return 1 <= i <= SEEDS or (10**7 <= i < 9 * 10**7)


def saved_search(path, text):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, text.encode())
        chunks = []
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            chunks.append(b)
    finally:
        os.close(fd)
    return b"".join(chunks).decode()


class Client:
    def __init__(self, n, C, deadline, prog, out, args):
        self.n, self.C, self.deadline = n, C, deadline
        self.prog, self.out, self.args = prog, out, args
        self.ops = 0
        self.last_prog = 0
        self.r = random.Random(n)
        self.result = {}

    def tick(self):
        self.ops += 1
        now = time.time()
        if now - self.last_prog >= 1:
            self.last_prog = now
            tmp = self.prog + ".tmp"
            with open(tmp, "w") as f:
                f.write("%d\n" % self.ops)
            os.replace(tmp, self.prog)

    def writer(self):
        target = self.C + ("/" + self.args[0] if self.args else "") + "/vectors"
        nxt = self.n * 10**7
        alive = []
        while time.time() < self.deadline:
            k = self.r.randint(1, 20)
            ids = list(range(nxt, nxt + k))
            nxt += k
            append(target, "".join(line(i) for i in ids))
            alive.extend(ids)
            self.tick()
            if len(alive) > 1000:
                self.r.shuffle(alive)
                gone, alive = alive[:200], alive[200:]
                append(self.C + "/delete", "".join("%d\n" % i for i in gone))
                self.tick()
        self.result["alive"] = sorted(alive)

    def searcher(self):
        extra = "".join("&" + a for a in self.args)
        j = 0
        while time.time() < self.deadline:
            v = ",".join(str(self.r.randint(0, 999)) for _ in range(3)) + ",%d" % (j % 7)
            if j % 2:
                text = read("%s/search/%s&k=10%s" % (self.C, v, extra))
            else:
                text = saved_search("%s/search/s%d" % (self.C, self.n),
                                    "k=10\n%s\n%s\n" % ("\n".join(self.args), v))
            h = hits_of(text)
            d = [float(x[1]) for x in h]
            ids = [int(x[0]) for x in h]
            if len(h) != 10 or d != sorted(d) or not all(possible(i) for i in ids) \
                    or len(set(ids)) != 10:
                raise RuntimeError("search %s answered %r" % (v, text))
            j += 1
            self.tick()

    def querier(self):
        while time.time() < self.deadline:
            c = read("%s/query/id <= %d&output_fields=count(*)" % (self.C, SEEDS)).strip()
            if c != str(SEEDS):
                raise RuntimeError("count(*) of the seeds: %r" % c)
            self.tick()
            lo = self.r.randint(1, SEEDS - 10)
            text = read("%s/query/id >= %d&limit=5&output_fields=id" % (self.C, lo))
            ids = [json.loads(l)["id"] for l in text.split("\n") if l]
            if ids != list(range(lo, lo + 5)):
                raise RuntimeError("page from %d: %r" % (lo, text))
            self.tick()

    def indexer(self):
        specs = ["index_type=HNSW M=8 efConstruction=40",
                 "index_type=IVF_FLAT nlist=16", "index_type=FLAT"]
        j = 0
        while time.time() < self.deadline:
            try:
                with open(self.C + "/index", "w") as f:
                    f.write(specs[j % 3] + "\n")
            except OSError as e:
                # EBUSY while an automatic compaction runs (SPEC §11): the
                # build is tried again; a stall shows in the progress check
                if e.errno != errno.EBUSY:
                    raise
                self.result["busy"] = self.result.get("busy", 0) + 1
                time.sleep(0.1)
                continue
            state = [l for l in read(self.C + "/index").split("\n")
                     if l.startswith("state=")]
            if state and state[0] == "state=Failed":
                raise RuntimeError("index %s: %r" % (specs[j % 3], read(self.C + "/index")))
            j += 1
            self.tick()
            time.sleep(0.2)

    def loader(self):
        L = self.args[0]
        while time.time() < self.deadline:
            with open(L + "/release", "w") as f:
                f.write("1\n")
            if read(L + "/state").strip() != "NotLoad":
                raise RuntimeError("state after release: %r" % read(L + "/state"))
            try:
                read(L + "/search/1,2,3,4&k=10")
                raise RuntimeError("a search of a released collection answered")
            except OSError as e:
                if e.errno != errno.ENODATA:
                    raise
            if read(L + "/count").strip() != "300":
                raise RuntimeError("count of L: %r" % read(L + "/count"))
            self.tick()
            with open(L + "/load", "w") as f:
                f.write("1\n")
            if read(L + "/state").strip() != "Loaded":
                raise RuntimeError("state after load: %r" % read(L + "/state"))
            if len(hits_of(read(L + "/search/1,2,3,4&k=10"))) != 10:
                raise RuntimeError("search of L after load")
            self.tick()


def main(argv):
    role, n, C, deadline, prog, out = argv[:6]
    c = Client(int(n), C, float(deadline), prog, out, argv[6:])
    rc = 0
    try:
        getattr(c, role)()
    except Exception as e:          # noqa: BLE001 - any failure is reported
        c.result["error"] = "%s %s: %r" % (role, n, e)
        rc = 1
    c.result["ops"] = c.ops
    with open(out, "w") as f:
        json.dump(c.result, f)
    sys.exit(rc)
