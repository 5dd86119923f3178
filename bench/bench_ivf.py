#!/usr/bin/python3
"""bench_ivf.py - IVF_FLAT, IVF_SQ8, IVF_PQ and BIN_IVF_FLAT of milvusfs,
through the mounted filesystem, side by side with faiss in the same run.

Usage: bench/run_bench ivf [photosift128|glove100] [--nlist N]
           [--nprobes 1,2,4,...] [--threads N] [--repeat N] [--seeds N]
           [--bin-seeds N] [--no-binary] [--out DIR]
   or: /usr/bin/python3 bench/bench_ivf.py --bin build/milvusfs [...]

For the data set (photosift128: 10k x 128, L2; glove100: 100k x 100,
COSINE) it mounts milvusfs on a fresh database, imports the base through
vectors.fvecs, and for each of IVF_FLAT, IVF_SQ8 and IVF_PQ (m = dim/4,
nbits = 8) with the same nlist:
  - builds with `echo "index_type=... nlist=..." > index` (train + add, s);
  - measures the memory of the loaded partition as the daemon's anonymous
    resident memory (RssAnon: heap, not the LMDB file mapping) after a
    remount (the load state persists, so the partition loads from the saved
    index) minus that of a remount with nothing loaded (each the median of
    3 mounts: thread stacks make single readings vary by ~0.1-0.3 MB);
  - sweeps nprobe, running the 1,000 queries as one batch
    (`cat 'search/q.fvecs&k=10&nprobe=N'`), recall@10 against the exact
    ground truth (id = position + 1).
Then faiss IndexIVFFlat, IndexIVFScalarQuantizer(QT_8bit) and IndexIVFPQ
with the same parameters and thread count (COSINE: normalized vectors and
inner product), memory as the size of the serialized index.

Seeds: k-means' random initialization alone moves recall at small nprobe
by about +-0.01 (photosift128 nlist=64, nprobe=1: sd 0.008 over seeds for
both faiss and milvusfs; binary sd 0.015), more than the 0.01 the two are
compared at.  So each index is built --seeds times (binary: --bin-seeds)
on both sides (milvusfs: build parameter seed=0,1,...; faiss: cp.seed and
pq.cp.seed = 1234 + s) and recall is the mean over the builds, with its
standard deviation; QPS and memory are of the first build (the default
seed), train + add the mean over the builds.

Binary: the base and queries binarized against the per-dimension median of
the base (dim bits), exact Hamming ground truth computed here; milvusfs
BIN_IVF_FLAT (and BIN_FLAT when present) against faiss IndexBinaryFlat and
IndexBinaryIVF.  Hamming distances tie a lot, so binary recall@10 counts a
hit when the returned entity's distance is within the exact 10th distance.

Prints a table with milvusfs/faiss ratios, writes results.tsv and, with
gnuplot, recall-vs-QPS plots (PNG) into --out.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import benchlib
from benchlib import get, put, read_fvecs, read_ivecs
from benchlib import parse_hits as parse_tsv


def progress(msg):
    benchlib.progress("bench-ivf", msg)


def recall_ids(found, gt_pos, k=10):
    hit = 0
    for q, hits in enumerate(found):
        truth = set(int(p) + 1 for p in gt_pos[q, :k])
        hit += len(truth.intersection(i for i, _ in hits[:k]))
    return hit / (len(gt_pos) * k)


def recall_dist(found_ids, exact_dist, kth, k=10):
    """Hits whose exact distance is within the k-th exact distance;
    found_ids hold 0-based positions."""
    hit = 0
    for q, ids in enumerate(found_ids):
        ids = [i for i in ids[:k] if i >= 0]
        hit += int(np.sum(exact_dist[q, ids] <= kth[q]))
    return hit / (len(found_ids) * k)


def rss_bytes(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1]) * 1024
    return 0


class Mount:
    def __init__(self, binary, tmp, threads):
        self.bin, self.tmp, self.threads = binary, tmp, threads
        self.mnt = os.path.join(tmp, "mnt")
        os.makedirs(self.mnt, exist_ok=True)
        self.daemon = None

    def up(self):
        self.log = open(os.path.join(self.tmp, "log"), "a")
        self.daemon = subprocess.Popen(
            [self.bin, "-f", "-o",
             f"db={self.tmp}/db,threads={self.threads}", self.mnt],
            stderr=self.log)
        for _ in range(400):
            if os.path.exists(os.path.join(self.mnt, ".errors")):
                return
            if self.daemon.poll() is not None:
                break
            time.sleep(0.05)
        sys.exit("milvusfs did not mount; see " + self.tmp + "/log")

    def down(self):
        subprocess.run(["fusermount3", "-u", self.mnt], check=False)
        rc = self.daemon.wait(timeout=120)
        self.log.close()
        if rc != 0:
            sys.stderr.write(open(os.path.join(self.tmp, "log")).read())
            sys.exit(f"milvusfs exited {rc}")

    def wait_loaded(self, coll):
        for _ in range(6000):
            if get(f"{self.mnt}/{coll}/state").strip() == "Loaded":
                return
            time.sleep(0.05)
        sys.exit(f"{coll} did not load")


def median_rss(m, n=3, coll=None):
    """Median RssAnon over n remounts (coll: wait until it is loaded)."""
    vals = []
    for _ in range(n):
        m.down()
        m.up()
        if coll:
            m.wait_loaded(coll)
        time.sleep(0.2)
        vals.append(rss_bytes(m.daemon.pid))
    return sorted(vals)[n // 2]


def mean_rows(runs):
    """runs: per build, rows (nprobe, recall, qps).  Rows of the first
    build with the recall replaced by the mean over builds; plus the
    standard deviations."""
    rec = np.array([[r for _, r, _ in rows] for rows in runs])
    rows = [(p, float(rec[:, i].mean()), q)
            for i, (p, _, q) in enumerate(runs[0])]
    return rows, [float(x) for x in rec.std(axis=0)]


# A batch that takes a millisecond is timed more than --repeat times: best
# of as many as fit in MIN_TIMED_S (at most MAX_REPEAT), on both sides.
MIN_TIMED_S = 0.25
MAX_REPEAT = 50


def sweep(m, coll, nprobes, repeat, score):
    # One untimed batch first (both sides): the first search after a load
    # pays for first touches that no later one does.
    get(f"{m.mnt}/{coll}/search/q.fvecs&k=10&nprobe={nprobes[0]}")
    rows = []
    for npb in nprobes:
        best, text, t0, r = 1e9, "", time.perf_counter(), 0
        while r < repeat or (time.perf_counter() - t0 < MIN_TIMED_S
                             and r < MAX_REPEAT):
            t = time.perf_counter()
            text = get(f"{m.mnt}/{coll}/search/q.fvecs&k=10&nprobe={npb}")
            best = min(best, time.perf_counter() - t)
            r += 1
        found = parse_tsv(text)
        rows.append((npb, score(found), 1000 / best))
    return rows


def faiss_sweep(ix, xq, nprobes, repeat, score, search=None):
    ix.nprobe = nprobes[0]
    ix.search(xq, 10)           # untimed, as in sweep()
    rows = []
    for npb in nprobes:
        ix.nprobe = npb
        best, t0, r = 1e9, time.perf_counter(), 0
        while r < repeat or (time.perf_counter() - t0 < MIN_TIMED_S
                             and r < MAX_REPEAT):
            t = time.perf_counter()
            _, I = ix.search(xq, 10)
            best = min(best, time.perf_counter() - t)
            r += 1
        rows.append((npb, score(I), 1000 / best))
    return rows


def plot(out, title, series, png):
    """series: list of (name, rows); rows (nprobe, recall, qps)."""
    if not shutil.which("gnuplot"):
        progress("gnuplot not found: no plot")
        return
    dat = []
    for name, rows in series:
        path = os.path.join(out, f"{png}.{name}.dat")
        with open(path, "w") as f:
            for npb, r, q in rows:
                f.write(f"{r:.4f} {q:.1f} {npb}\n")
        dat.append((name, path))
    cmd = (f"set terminal png size 900,600; set output '{out}/{png}.png';"
           f"set title '{title}'; set xlabel 'recall@10';"
           f"set ylabel 'queries/s (batch of 1,000)'; set logscale y;"
           f"set key left bottom; set grid;"
           "plot " + ", ".join(
               f"'{p}' using 1:2 with linespoints title '{n}'"
               for n, p in dat))
    subprocess.run(["gnuplot", "-e", cmd], check=False)


def main():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("set", nargs="?", default="photosift128",
                    choices=["photosift128", "glove100"])
    ap.add_argument("--bin", default=os.path.join(top, "build", "milvusfs"))
    ap.add_argument("--data", default=os.path.join(top, "..", "shared", "data"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--nlist", type=int, default=0,
                    help="default: 64 for photosift128, 256 for glove100")
    ap.add_argument("--nprobes", default="")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--seeds", type=int, default=3,
                    help="builds per float index type (recall: the mean)")
    ap.add_argument("--bin-seeds", type=int, default=10,
                    help="builds of BIN_IVF_FLAT (recall: the mean)")
    ap.add_argument("--no-binary", action="store_true")
    ap.add_argument("--out", default=os.path.join(top, "build",
                                                   "bench-results"))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    name = a.set
    d = os.path.join(a.data, name)
    xb = read_fvecs(f"{d}/{name}_base.fvecs")
    xq = read_fvecs(f"{d}/{name}_query.fvecs")
    gt = read_ivecs(f"{d}/{name}_groundtruth.ivecs")
    n, dim = xb.shape
    metric = "L2" if name == "photosift128" else "COSINE"
    nlist = a.nlist or (64 if name == "photosift128" else 256)
    nprobes = ([int(x) for x in a.nprobes.split(",")] if a.nprobes else
               [p for p in (1, 2, 4, 8, 16, 32, 64, 128, 256) if p <= nlist])
    m_pq = dim // 4
    types = [("IVF_FLAT", f"nlist={nlist}"), ("IVF_SQ8", f"nlist={nlist}"),
             ("IVF_PQ", f"nlist={nlist} m={m_pq} nbits=8")]

    tmp = tempfile.mkdtemp(prefix="mfs-bench-ivf-")
    mnt = Mount(a.bin, tmp, a.threads)
    mnt.up()
    res = {}            # type -> dict(build, mem, rows)
    M = mnt.mnt
    try:
        os.mkdir(f"{M}/c")
        put(f"{M}/c/schema", f"dim={dim} metric_type={metric}\n")
        progress(f"importing {name} ({n} x {dim}) through vectors.fvecs")
        t = time.perf_counter()
        subprocess.run(f"cat '{d}/{name}_base.fvecs' >> "
                       f"'{M}/c/_default/vectors.fvecs'", shell=True,
                       check=True)
        progress(f"  {n / (time.perf_counter() - t):.0f} vectors/s")
        with open(f"{d}/{name}_query.fvecs", "rb") as f:
            put(f"{M}/c/search/q.fvecs", f.read())
        # Baseline: a mount with nothing loaded.
        base_rss = median_rss(mnt)
        for tname, params in types:
            builds, runs, mem = [], [], 0
            for seed in range(a.seeds):
                M = mnt.mnt
                sp = f"{params} seed={seed}" if seed else params
                put(f"{M}/c/release", "1\n")
                progress(f"{tname}: echo 'index_type={tname} {sp}' > index")
                t = time.perf_counter()
                put(f"{M}/c/index", f"index_type={tname} {sp}\n")
                builds.append(time.perf_counter() - t)
                put(f"{M}/c/load", "1\n")
                if seed == 0:
                    mem = median_rss(mnt, coll="c") - base_rss
                else:
                    mnt.wait_loaded("c")
                runs.append(sweep(mnt, "c", nprobes,
                                  a.repeat if seed == 0 else 1,
                                  lambda f: recall_ids(f, gt)))
                progress(f"  build {builds[-1]:.2f} s, " + ", ".join(
                    f"np={p}: {r:.3f}/{q:.0f}qps" for p, r, q in runs[-1]))
            rows, sd = mean_rows(runs)
            res[tname] = dict(build=float(np.mean(builds)), mem=mem,
                              rows=rows, sd=sd)
            progress(f"  memory {mem / 1e6:.2f} MB")
        put(f"{M}/c/release", "1\n")
    finally:
        mnt.down()

    progress(f"faiss, {a.threads} threads, same parameters")
    import faiss
    faiss.omp_set_num_threads(a.threads)
    fres = {}
    xbf, xqf = xb, xq
    fm = faiss.METRIC_L2
    if metric == "COSINE":
        xbf = xb / np.maximum(np.linalg.norm(xb, axis=1, keepdims=True), 1e-30)
        xqf = xq / np.maximum(np.linalg.norm(xq, axis=1, keepdims=True), 1e-30)
        fm = faiss.METRIC_INNER_PRODUCT
    score = lambda I: recall_ids([[(int(i) + 1, 0) for i in r] for r in I], gt)
    for tname, _ in types:
        builds, runs, mem = [], [], 0
        for seed in range(a.seeds):
            qz = (faiss.IndexFlatL2(dim) if fm == faiss.METRIC_L2
                  else faiss.IndexFlatIP(dim))
            if tname == "IVF_FLAT":
                ix = faiss.IndexIVFFlat(qz, dim, nlist, fm)
            elif tname == "IVF_SQ8":
                ix = faiss.IndexIVFScalarQuantizer(
                    qz, dim, nlist, faiss.ScalarQuantizer.QT_8bit, fm)
            else:
                ix = faiss.IndexIVFPQ(qz, dim, nlist, m_pq, 8, fm)
                ix.pq.cp.seed = 1234 + seed
            ix.cp.seed = 1234 + seed
            t = time.perf_counter()
            ix.train(xbf)
            ix.add(xbf)
            builds.append(time.perf_counter() - t)
            if seed == 0:
                mem = len(faiss.serialize_index(ix))
            runs.append(faiss_sweep(ix, xqf, nprobes,
                                    a.repeat if seed == 0 else 1, score))
            progress(f"  faiss {tname} cp.seed={1234 + seed}: build "
                     f"{builds[-1]:.2f} s, np=1 recall {runs[-1][0][1]:.3f}")
            ix.quantizer = None
            del ix
        rows, sd = mean_rows(runs)
        fres[tname] = dict(build=float(np.mean(builds)), mem=mem, rows=rows,
                           sd=sd)

    bres = {} if a.no_binary else binary_bench(a, name, xb, xq, nlist,
                                                nprobes)
    report(a, name, n, dim, metric, nlist, m_pq, nprobes, res, fres, bres)
    shutil.rmtree(tmp, ignore_errors=True)


def binarize(xb, xq):
    med = np.median(xb, axis=0)
    return (np.packbits(xb > med, axis=1),
            np.packbits(xq > med, axis=1))


def binary_bench(a, name, xb, xq, nlist, nprobes):
    import faiss
    n, dim = xb.shape
    bb, bq = binarize(xb, xq)
    progress(f"binary: {n} x {dim} bits (per-dimension median), "
             "exact Hamming ground truth")
    pm_b = np.unpackbits(bb, axis=1).astype(np.float32) * 2 - 1
    pm_q = np.unpackbits(bq, axis=1).astype(np.float32) * 2 - 1
    exact = np.rint((dim - pm_q @ pm_b.T) / 2).astype(np.int32)
    kth = np.partition(exact, 9, axis=1)[:, 9]
    out = {}

    tmp = tempfile.mkdtemp(prefix="mfs-bench-bin-")
    mnt = Mount(a.bin, tmp, a.threads)
    mnt.up()
    M = mnt.mnt
    try:
        os.mkdir(f"{M}/b")
        put(f"{M}/b/schema",
            f"dim={dim} metric_type=HAMMING vector_type=BINARY_VECTOR\n")
        rec = lambda v: (np.int32(len(v)).tobytes() + v.tobytes())
        put(f"{M}/b/_default/vectors.fvecs", b"".join(rec(v) for v in bb))
        put(f"{M}/b/search/q.fvecs", b"".join(rec(v) for v in bq))
        score = lambda f: recall_dist([[i - 1 for i, _ in r] for r in f],
                                      exact, kth)
        for tname, params in (("BIN_IVF_FLAT", f"nlist={nlist}"),
                              ("BIN_FLAT", "")):
            nps = nprobes if tname == "BIN_IVF_FLAT" else [1]
            builds, runs = [], []
            for seed in range(a.bin_seeds if tname == "BIN_IVF_FLAT"
                              else 1):
                sp = f"{params} seed={seed}" if seed else params
                try:
                    put(f"{M}/b/release", "1\n")
                    t = time.perf_counter()
                    put(f"{M}/b/index", f"index_type={tname} {sp}\n")
                    builds.append(time.perf_counter() - t)
                    put(f"{M}/b/load", "1\n")
                except OSError as e:
                    progress(f"  {tname}: {e}")
                    break
                runs.append(sweep(mnt, "b", nps,
                                  a.repeat if seed == 0 else 1, score))
            if not runs:
                continue
            rows, sd = mean_rows(runs)
            out[tname] = dict(build=float(np.mean(builds)), mem=0,
                              rows=rows, sd=sd)
            progress(f"  {tname}: build {out[tname]['build']:.2f} s, "
                     + ", ".join(f"np={p}: {r:.3f}/{q:.0f}qps"
                                 for p, r, q in rows))
    finally:
        mnt.down()
        shutil.rmtree(tmp, ignore_errors=True)

    fscore = lambda I: recall_dist(I, exact, kth)
    ix = faiss.IndexBinaryFlat(dim)
    t = time.perf_counter()
    ix.add(bb)
    build = time.perf_counter() - t
    best = 1e9
    for _ in range(a.repeat):
        t = time.perf_counter()
        _, I = ix.search(bq, 10)
        best = min(best, time.perf_counter() - t)
    out["faiss BIN_FLAT"] = dict(build=build, mem=bb.nbytes,
                                 rows=[(1, fscore(I), 1000 / best)],
                                 sd=[0.0])
    builds, runs = [], []
    for seed in range(a.bin_seeds):
        qz = faiss.IndexBinaryFlat(dim)
        ix = faiss.IndexBinaryIVF(qz, dim, nlist)
        ix.cp.seed = 1234 + seed
        t = time.perf_counter()
        ix.train(bb)
        ix.add(bb)
        builds.append(time.perf_counter() - t)
        runs.append(faiss_sweep(ix, bq, nprobes,
                                a.repeat if seed == 0 else 1, fscore))
        ix.quantizer = None
        del ix
    rows, sd = mean_rows(runs)
    out["faiss BIN_IVF_FLAT"] = dict(build=float(np.mean(builds)), mem=0,
                                     rows=rows, sd=sd)
    return out


def report(a, name, n, dim, metric, nlist, m_pq, nprobes, res, fres, bres):
    lines = [f"milvusfs IVF benchmark: {name} ({n} x {dim}, {metric}), "
             f"nlist={nlist}, IVF_PQ m={m_pq} nbits=8, {a.threads} threads, "
             "1,000 queries as one batch, k=10",
             f"recall@10: mean (sd) over {a.seeds} builds with different "
             f"seeds on each side (binary: {a.bin_seeds}); QPS: the first "
             "build",
             "",
             "type      nprobe  recall@10 (sd)      QPS | faiss recall (sd)"
             "     QPS | recall diff  QPS ratio"]
    tsv = ["set\ttype\tnprobe\trecall\trecall_sd\tqps\tfaiss_recall\t"
           "faiss_recall_sd\tfaiss_qps"]
    for t in res:
        for (p, r, q), sd, (_, fr, fq), fsd in zip(
                res[t]["rows"], res[t]["sd"], fres[t]["rows"],
                fres[t]["sd"]):
            lines.append(f"{t:9s} {p:6d}  {r:9.3f} ({sd:.3f}) {q:7.0f} | "
                         f"{fr:12.3f} ({fsd:.3f}) {fq:7.0f} | {r - fr:+11.3f}"
                         f"  {q / fq:9.2f}")
            tsv.append(f"{name}\t{t}\t{p}\t{r:.4f}\t{sd:.4f}\t{q:.1f}\t"
                       f"{fr:.4f}\t{fsd:.4f}\t{fq:.1f}")
        lines.append("")
    lines.append("type       train+add s (faiss, ratio)   memory MB "
                 "(faiss, ratio)   memory / IVF_FLAT")
    flat_mem = res["IVF_FLAT"]["mem"] or 1
    for t in res:
        b, fb = res[t]["build"], fres[t]["build"]
        mm, fm = res[t]["mem"], fres[t]["mem"]
        lines.append(f"{t:9s}  {b:6.2f} ({fb:6.2f}, {b / fb:5.2f})        "
                     f"{mm / 1e6:7.2f} ({fm / 1e6:6.2f}, {mm / fm:5.2f})"
                     f"     {mm / flat_mem:5.3f}")
    lines.append(f"(raw float vectors: {n * dim * 4 / 1e6:.2f} MB; milvusfs "
                 "memory = daemon RssAnon with the partition loaded minus "
                 "with nothing loaded; faiss = serialized index size)")
    if bres:
        lines += ["", f"binary ({dim} bits, median-binarized), HAMMING, "
                  "recall@10 within the exact 10th distance",
                  "index                 nprobe  recall@10 (sd)      QPS"
                  "   build s"]
        for t, v in bres.items():
            for (p, r, q), sd in zip(v["rows"], v["sd"]):
                lines.append(f"{t:20s} {p:6d}  {r:9.3f} ({sd:.3f}) {q:7.0f}"
                             f"  {v['build']:6.2f}")
                tsv.append(f"{name}-bin\t{t}\t{p}\t{r:.4f}\t{sd:.4f}\t"
                           f"{q:.1f}\t\t\t")
    text = "\n".join(lines)
    print("\n" + text)
    with open(os.path.join(a.out, f"ivf-{name}.txt"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(a.out, f"ivf-{name}.tsv"), "w") as f:
        f.write("\n".join(tsv) + "\n")
    series = []
    for t in res:
        series.append((f"milvusfs-{t}", res[t]["rows"]))
        series.append((f"faiss-{t}", fres[t]["rows"]))
    plot(a.out, f"{name} {metric} nlist={nlist}: recall vs QPS", series,
         f"ivf-{name}")
    if bres:
        plot(a.out, f"{name} binarized HAMMING nlist={nlist}",
             [(t.replace(" ", "-"), v["rows"]) for t, v in bres.items()
              if len(v["rows"]) > 1], f"ivf-{name}-binary")
    progress(f"results in {a.out}/ivf-{name}.txt, .tsv, .png")


if __name__ == "__main__":
    main()
