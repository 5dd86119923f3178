#!/usr/bin/python3
"""bench_print.py BIN...: how fast milvusfs prints numbers.  Mounts each
binary on its own database of the first 100,000 glove100 vectors, then
reads c/vectors, c/entities.jsonl and a 1,000-query k=100 batch search as
text, the binaries alternating, best of 5.  Compare two builds, e.g. one
of an older commit:  bench/bench_print.py OLD/milvusfs build/milvusfs
Data: $MFS_DATA/glove100 (default ../shared/data)."""
import os, subprocess, sys, tempfile, time
data = os.path.join(os.environ.get("MFS_DATA") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data"),
    "glove100", "")
base = open(data + "glove100_base.fvecs", "rb").read(100000 * 404)
qs = open(data + "glove100_query.fvecs", "rb").read(1000 * 404)
mounts = []
for b in sys.argv[1:]:
    d = tempfile.mkdtemp(); m = d + "/mnt"; os.mkdir(m)
    p = subprocess.Popen([b, "-f", "-o", "db=" + d + "/db", m], stderr=open(d + "/log", "w"))
    for i in range(100):
        if os.path.ismount(m): break
        time.sleep(0.1)
    os.mkdir(m + "/c")
    open(m + "/c/schema", "w").write("dim=100 metric_type=L2\n")
    with open(m + "/c/vectors.fvecs", "ab") as f: f.write(base)
    open(m + "/c/load", "w").write("1\n")
    with open(m + "/c/search/b.fvecs", "wb") as f: f.write(qs)
    mounts.append((b, d, m, p))
def rd(path):
    t = time.perf_counter(); n = 0
    with open(path, "rb") as f:
        while True:
            x = f.read(1 << 20)
            if not x: break
            n += len(x)
    return time.perf_counter() - t, n
best = {}
for r in range(5):
    for b, d, m, p in mounts:
        for what in ("c/vectors", "c/entities.jsonl", "c/search/b.fvecs&k=100"):
            t, n = rd(m + "/" + what)
            k = (b, what)
            if k not in best or t < best[k][0]: best[k] = (t, n)
for what in ("c/vectors", "c/entities.jsonl", "c/search/b.fvecs&k=100"):
    row = [what]
    for b, d, m, p in mounts:
        t, n = best[(b, what)]
        row.append("%s: %.3f s %d bytes %.0f MB/s" % (b, t, n, n / t / 1e6))
    print(" | ".join(row))
    if len(mounts) == 2:
        print("   new/old time ratio %.2f" % (best[(mounts[1][0], what)][0] / best[(mounts[0][0], what)][0]))
for b, d, m, p in mounts:
    subprocess.run(["fusermount3", "-u", m]); p.wait(); subprocess.run(["rm", "-rf", d])
