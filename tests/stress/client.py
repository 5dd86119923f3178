"""client.py - the workload of the stress scripts (tests/stress).

    client.py kill9 C FIRST BASELINE MARKER OUT PROGRESS SEED
        Threads on collection directory C until the mount dies: two
        inserters (fresh ids from FIRST up, one write of 1-4 lines a
        descriptor, acknowledged at close), a deleter (ids of BASELINE, the
        ids known present, acknowledged at close), a searcher (inline and
        saved queries) and an index builder (HNSW, IVF_FLAT and FLAT in
        turn, blocking writes; EBUSY during a compaction is tried again).
        An error before MARKER exists (made just before the kill) is a
        failure.  At the end OUT gets a JSON record: ids tried and
        acknowledged, per kind, and the failures.  PROGRESS gets a line per
        acknowledged insert.

    client.py soak ROLE N C DEADLINE PROG OUT [ARGS]
        One of the 8 clients of soak.sh until the time DEADLINE (epoch
        seconds); PROG gets its operation count every second, OUT a JSON
        record at the end.  See soak.sh for the roles.

The vector of entity i is vec(i), distinct for every i below 10**9, so a
reader can check that each entity carries its own vector.
"""
import errno
import json
import os
import random
import sys
import threading
import time


def vec(i):
    return [i % 1000, (i // 1000) % 1000, (i // 1000000) % 1000, i % 7]


def line(i):
    return "%d\t%s\n" % (i, ",".join(str(x) for x in vec(i)))


def append(path, text):
    """One open, one write(2), close: acknowledged when this returns."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        data = text.encode()
        n = os.write(fd, data)
        if n != len(data):
            raise RuntimeError("short write %d of %d" % (n, len(data)))
    finally:
        os.close(fd)


def read(path):
    with open(path) as f:
        return f.read()


# ---- kill9 -----------------------------------------------------------------

class Kill9:
    def __init__(self, C, first, baseline, marker, progress, seed):
        self.C, self.marker = C, marker
        self.next_id = first
        self.lock = threading.Lock()
        self.ins_tried, self.ins_acked = [], []
        self.del_tried, self.del_acked = [], []
        self.failures = []
        self.ops = {"insert": 0, "delete": 0, "search": 0, "index": 0}
        self.baseline = baseline
        self.prog = open(progress, "a")
        self.rnd = random.Random(seed)

    def dead(self, who, e):
        """An error: expected once the daemon is killed, else a failure."""
        if not os.path.exists(self.marker):
            with self.lock:
                self.failures.append("%s: %r before the kill" % (who, e))
        return True

    def fresh(self, n):
        with self.lock:
            ids = list(range(self.next_id, self.next_id + n))
            self.next_id += n
            self.ins_tried.extend(ids)
        return ids

    def inserter(self, k):
        r = random.Random(self.rnd.random())
        while True:
            ids = self.fresh(r.randint(1, 4))
            try:
                append(self.C + "/vectors", "".join(line(i) for i in ids))
            except OSError as e:
                return self.dead("insert", e)
            with self.lock:
                self.ins_acked.extend(ids)
                self.ops["insert"] += 1
                self.prog.write("%d\n" % ids[0])
                self.prog.flush()

    def deleter(self):
        r = random.Random(self.rnd.random())
        pool = list(self.baseline)
        r.shuffle(pool)
        while pool:
            ids = [pool.pop() for _ in range(min(len(pool), r.randint(1, 3)))]
            with self.lock:
                self.del_tried.extend(ids)
            try:
                append(self.C + "/delete", "".join("%d\n" % i for i in ids))
            except OSError as e:
                return self.dead("delete", e)
            with self.lock:
                self.del_acked.extend(ids)
                self.ops["delete"] += 1
            time.sleep(0.01)

    def searcher(self):
        r = random.Random(self.rnd.random())
        j = 0
        while True:
            v = ",".join(str(r.randint(0, 999)) for _ in range(3)) + ",3"
            try:
                if j % 2:
                    text = read("%s/search/%s&k=5" % (self.C, v))
                else:
                    fd = os.open(self.C + "/search/s", os.O_RDWR | os.O_CREAT, 0o644)
                    try:
                        os.write(fd, ("k=5\n%s\n" % v).encode())
                        chunks = []
                        while True:
                            b = os.read(fd, 65536)
                            if not b:
                                break
                            chunks.append(b)
                        text = b"".join(chunks).decode()
                    finally:
                        os.close(fd)
            except OSError as e:
                return self.dead("search", e)
            hits = [l.split("\t") for l in text.split("\n") if l]
            d = [float(h[1]) for h in hits]
            if d != sorted(d) or len(hits) > 5:
                with self.lock:
                    self.failures.append("search answer %r" % text)
            with self.lock:
                self.ops["search"] += 1
            j += 1

    def builder(self):
        specs = ["index_type=HNSW M=8 efConstruction=32\n",
                 "index_type=IVF_FLAT nlist=8\n", "index_type=FLAT\n"]
        j = self.rnd.randint(0, 2)
        while True:
            try:
                with open(self.C + "/index", "w") as f:
                    f.write(specs[j % 3])
            except OSError as e:
                # EBUSY while an automatic compaction runs (SPEC §11)
                if e.errno == errno.EBUSY and not os.path.exists(self.marker):
                    time.sleep(0.05)
                    continue
                return self.dead("index", e)
            with self.lock:
                self.ops["index"] += 1
            j += 1
            time.sleep(0.05)

    def run(self, out):
        ts = [threading.Thread(target=self.inserter, args=(k,)) for k in range(2)]
        ts += [threading.Thread(target=f) for f in
               (self.deleter, self.searcher, self.builder)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        with open(out, "w") as f:
            json.dump({"ins_tried": self.ins_tried, "ins_acked": self.ins_acked,
                       "del_tried": self.del_tried, "del_acked": self.del_acked,
                       "ops": self.ops, "failures": self.failures,
                       "next_id": self.next_id}, f)


def check_kill9(C, state_file, out_file):
    """After a remount: the ids present against the model.  state_file holds
    {"present": [...], "next_id": N}; it is replaced by the new state."""
    st = json.load(open(state_file))
    o = json.load(open(out_file))
    present = set(st["present"])
    must = (present | set(o["ins_acked"])) - set(o["del_tried"])
    may = (present | set(o["ins_tried"])) - set(o["del_acked"])
    text = read(C + "/vectors")
    ids = []
    for l in text.split("\n"):
        if not l:
            continue
        i, v = l.split("\t")
        i = int(i)
        ids.append(i)
        if [float(x) for x in v.split(",")] != [float(x) for x in vec(i)]:
            sys.exit("entity %d has vector %s, expected %s" % (i, v, vec(i)))
    got = set(ids)
    if len(got) != len(ids):
        sys.exit("duplicate ids: %s" % sorted(i for i in got if ids.count(i) > 1)[:10])
    count = int(read(C + "/count"))
    if count != len(ids):
        sys.exit("count %d but %d entities listed" % (count, len(ids)))
    lost = sorted(must - got)
    if lost:
        sys.exit("acknowledged entities lost (inserted and not deleted): %s" % lost[:20])
    phantom = sorted(got - may)
    if phantom:
        sys.exit("phantom entities (never inserted, or deleted and acknowledged): %s"
                 % phantom[:20])
    undecided = len(may - must)
    json.dump({"present": sorted(got), "next_id": o["next_id"]}, open(state_file, "w"))
    print("%d %d %d %d %d %d %d" % (len(got), len(o["ins_acked"]), len(o["del_acked"]),
                                    undecided, o["ops"]["search"], o["ops"]["index"],
                                    len(o["ins_tried"]) - len(o["ins_acked"])))


def main():
    if sys.argv[1] == "kill9":
        C, first, base, marker, out, prog, seed = sys.argv[2:9]
        baseline = json.load(open(base))["present"]
        Kill9(C, int(first), baseline, marker, prog, int(seed)).run(out)
    elif sys.argv[1] == "check9":
        check_kill9(*sys.argv[2:5])
    elif sys.argv[1] == "soak":
        import soak
        soak.main(sys.argv[2:])
    else:
        sys.exit("usage: client.py kill9|check9|soak ...")


if __name__ == "__main__":
    main()
