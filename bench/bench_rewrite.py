#!/usr/bin/python3
"""bench_rewrite.py - how long writers wait while data.mdb is rewritten
while mounted (SPEC §11, the store's online rewrite).

    bench/bench_rewrite.py --bin BUILD/milvusfs [--compare OLD_BIN]
                           [--n 200000] [--rounds 1]

Per binary (rounds alternating when --compare is given): a fresh mount,
N x 128 float32 imported (about 100 MiB of data.mdb at 200,000), a
writer that loops on a write of 20 entities and a delete of 5 of them
(each acknowledged by close), then every other entity deleted in one
write: the file is then half free pages, and the daemon rewrites it
while the writer goes on.  Prints the daemon's rewrite log line (copy
time, keys replayed, how long writers were held off) and the writer's
per-iteration latency (median, p99, max) over the whole run.
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time

import numpy as np


def run(binary, n, d=128):
    work = tempfile.mkdtemp(prefix="mfs-bench-rewrite.")
    db, mnt, log = work + "/db", work + "/mnt", work + "/log"
    os.makedirs(mnt)
    p = subprocess.Popen([binary, "-f", "-o", "db=" + db, mnt],
                         stdout=open(log, "a"), stderr=subprocess.STDOUT)
    out = []
    try:
        for _ in range(400):
            if os.path.exists(mnt + "/.errors"):
                break
            time.sleep(0.05)
        c = mnt + "/c"
        os.mkdir(c)
        with open(c + "/schema", "w") as f:
            f.write(f"dim={d} metric_type=L2\n")
        a = np.random.RandomState(1).standard_normal((n, d)).astype("<f4")
        rec = np.empty((n, d + 1), dtype="<i4")
        rec[:, 0] = d
        rec[:, 1:] = a.view("<i4")
        with open(c + "/vectors.fvecs", "ab") as f:
            f.write(rec.tobytes())
        out.append("data.mdb after the import: %.1f MiB" %
                   (os.stat(db + "/data.mdb").st_size / 2**20))
        lat, stop = [], [False]
        q = ",".join("%.3f" % x for x in a[0])

        def writer():
            nxt = 10_000_000
            while not stop[0]:
                t0 = time.monotonic()
                with open(c + "/vectors", "a") as f:
                    f.write("".join("%d\t%s\n" % (i, q)
                                    for i in range(nxt, nxt + 20)))
                with open(c + "/delete", "w") as f:
                    f.write("".join("%d\n" % i for i in range(nxt, nxt + 5)))
                lat.append(time.monotonic() - t0)
                nxt += 20
        th = threading.Thread(target=writer)
        th.start()
        time.sleep(1)
        with open(c + "/delete", "w") as f:
            f.write("".join("%d\n" % i for i in range(1, n + 1, 2)))
        t0 = time.time()
        while time.time() - t0 < 120:
            if "rewritten while mounted" in open(log).read():
                break
            time.sleep(0.1)
        time.sleep(1)
        stop[0] = True
        th.join()
        for line in open(log):
            if "rewritten" in line or "keeps" in line:
                out.append(line.rstrip())
        ms = np.array(lat) * 1000
        out.append("writer: %d iterations (20 inserted + 5 deleted each), "
                   "latency ms median %.1f p99 %.1f max %.1f" %
                   (len(ms), np.median(ms), np.percentile(ms, 99), ms.max()))
        out.append("data.mdb at the end: %.1f MiB" %
                   (os.stat(db + "/data.mdb").st_size / 2**20))
    finally:
        subprocess.call(["fusermount3", "-u", mnt])
        p.wait()
        shutil.rmtree(work, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--compare", default=None, metavar="OLD_BIN")
    ap.add_argument("--n", type=int, default=200000)
    ap.add_argument("--rounds", type=int, default=1)
    a = ap.parse_args()
    bins = [("old", a.compare)] if a.compare else []
    bins.append(("new", a.bin))
    for r in range(a.rounds):
        for name, b in bins:
            print(f"== round {r + 1}, {name}: {b}", flush=True)
            for line in run(b, a.n):
                print("  " + line, flush=True)


if __name__ == "__main__":
    main()
