#!/usr/bin/python3
"""bench_flat.py - exact (FLAT) search and insert throughput of milvusfs,
side by side with faiss IndexFlat in the same run.

Usage: /usr/bin/python3 bench/bench_flat.py [--bin build/milvusfs]
       [--data ../shared/data] [--threads N] [--singles 200]

Mounts milvusfs on a fresh database in a temporary directory and measures,
through the filesystem only (open/read/write):
  - insert throughput of `cat X_base.fvecs >> C/_default/vectors.fvecs`
    for photosift128 and glove100 (vectors/s);
  - load time of glove100 (100k x 100, COSINE);
  - FLAT batch QPS of the 1,000 glove100 queries, k=10, as one saved
    .fvecs query read with `&k=10`, and recall@10 against the ground truth;
  - single-query latency of `cat search/<saved query>` (open/read/close),
    and of a trivial control file (`count`) for the filesystem round trip;
then faiss IndexFlatIP on the same normalized vectors, same thread count,
and prints milvusfs/faiss ratios.
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


def progress(msg):
    benchlib.progress("bench", msg)


def recall(found, gt_pos, k=10):
    hit = 0
    for q, ids in enumerate(found):
        truth = set(int(p) + 1 for p in gt_pos[q, :k])
        hit += len(truth.intersection(ids[:k]))
    return hit / (len(found) * k)


def timed_cat(src, dst):
    t = time.perf_counter()
    subprocess.run(f"cat '{src}' >> '{dst}'", shell=True, check=True)
    return time.perf_counter() - t


def main():
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(top, "build", "milvusfs"))
    ap.add_argument("--data", default=os.path.join(top, "..", "shared", "data"))
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--singles", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="mfs-bench-")
    mnt = os.path.join(tmp, "mnt")
    os.mkdir(mnt)
    log = open(os.path.join(tmp, "log"), "w")
    daemon = subprocess.Popen([a.bin, "-f", "-o",
                               f"db={tmp}/db,threads={a.threads}", mnt],
                              stderr=log)
    for _ in range(200):
        if os.path.exists(os.path.join(mnt, ".errors")):
            break
        time.sleep(0.05)
    else:
        sys.exit("milvusfs did not mount")
    res = {}
    try:
        sift = os.path.join(a.data, "photosift128")
        glove = os.path.join(a.data, "glove100")
        # inserts
        os.mkdir(f"{mnt}/photos")
        put(f"{mnt}/photos/schema", "dim=128 metric_type=L2\n")
        progress("importing photosift128 (10,000 x 128) through vectors.fvecs")
        t = timed_cat(f"{sift}/photosift128_base.fvecs",
                      f"{mnt}/photos/_default/vectors.fvecs")
        res["insert_sift"] = 10000 / t
        os.mkdir(f"{mnt}/glove")
        put(f"{mnt}/glove/schema", "dim=100 metric_type=COSINE\n")
        progress("importing glove100 (100,000 x 100) through vectors.fvecs")
        t = timed_cat(f"{glove}/glove100_base.fvecs",
                      f"{mnt}/glove/_default/vectors.fvecs")
        res["insert_glove"] = 100000 / t
        assert get(f"{mnt}/glove/count").strip() == "100000"
        progress("loading glove100")
        t = time.perf_counter()
        put(f"{mnt}/glove/load", "1\n")
        res["load_glove"] = time.perf_counter() - t

        gt = read_ivecs(f"{glove}/glove100_groundtruth.ivecs")
        qv = read_fvecs(f"{glove}/glove100_query.fvecs")
        with open(f"{glove}/glove100_query.fvecs", "rb") as f:
            put(f"{mnt}/glove/search/all.fvecs", f.read())
        progress(f"FLAT batch: 1,000 queries, k=10, best of {a.repeat}")
        best = 1e9
        for _ in range(a.repeat):
            t = time.perf_counter()
            text = get(f"{mnt}/glove/search/all.fvecs&k=10")
            best = min(best, time.perf_counter() - t)
        found = benchlib.parse_ids(text)
        res["flat_qps"] = 1000 / best
        res["flat_recall"] = recall(found, gt)

        progress(f"single queries: {a.singles} x open/read/close")
        for i in range(a.singles):
            put(f"{mnt}/glove/search/s{i}",
                "k=10\n" + ",".join("%.9g" % x for x in qv[i]) + "\n")
        lat, triv = [], []
        single_found = []
        for i in range(a.singles):
            t = time.perf_counter()
            text = get(f"{mnt}/glove/search/s{i}")
            lat.append(time.perf_counter() - t)
            single_found.append(benchlib.parse_ids(text)[0])
            t = time.perf_counter()
            get(f"{mnt}/glove/count")
            triv.append(time.perf_counter() - t)
        lat.sort()
        triv.sort()
        res["single_p50_ms"] = 1000 * lat[len(lat) // 2]
        res["single_p99_ms"] = 1000 * lat[int(len(lat) * 0.99) - 1]
        res["trivial_p50_ms"] = 1000 * triv[len(triv) // 2]
        res["single_recall"] = recall(single_found, gt)
    finally:
        subprocess.run(["fusermount3", "-u", mnt])
        rc = daemon.wait(timeout=60)
        log.close()
        if rc != 0:
            print(open(os.path.join(tmp, "log")).read(), file=sys.stderr)
            sys.exit(f"milvusfs exited {rc}")
        shutil.rmtree(tmp)

    progress("faiss IndexFlatIP on the same normalized vectors")
    import faiss
    faiss.omp_set_num_threads(a.threads)
    xb = read_fvecs(f"{glove}/glove100_base.fvecs")
    xb /= np.maximum(np.linalg.norm(xb, axis=1, keepdims=True), 1e-30)
    xq = qv / np.maximum(np.linalg.norm(qv, axis=1, keepdims=True), 1e-30)
    ix = faiss.IndexFlatIP(100)
    ix.add(xb)
    best = 1e9
    for _ in range(a.repeat):
        t = time.perf_counter()
        _, I = ix.search(xq, 10)
        best = min(best, time.perf_counter() - t)
    res["faiss_qps"] = 1000 / best
    res["faiss_recall"] = recall([list(r + 1) for r in I], gt)
    lat = []
    for i in range(a.singles):
        t = time.perf_counter()
        ix.search(xq[i:i + 1], 10)
        lat.append(time.perf_counter() - t)
    lat.sort()
    res["faiss_single_p50_ms"] = 1000 * lat[len(lat) // 2]

    print(f"\nmilvusfs FLAT benchmark, {a.threads} threads "
          f"(machine: {os.cpu_count()} cores)")
    print(f"{'measure':44} {'milvusfs':>12} {'faiss':>12} {'ratio':>7}")
    def row(name, m, f=None, fmt="{:12.1f}"):
        fs = fmt.format(f) if f is not None else " " * 12
        r = f"{m / f:7.2f}" if f else ""
        print(f"{name:44} {fmt.format(m)} {fs} {r}")
    row("insert photosift128 fvecs (vectors/s)", res["insert_sift"], fmt="{:12.0f}")
    row("insert glove100 fvecs (vectors/s)", res["insert_glove"], fmt="{:12.0f}")
    row("load glove100 (s)", res["load_glove"], fmt="{:12.3f}")
    row("batch QPS, 1000 queries, k=10", res["flat_qps"], res["faiss_qps"])
    row("batch recall@10", res["flat_recall"], res["faiss_recall"], fmt="{:12.4f}")
    row("single query p50 (ms)", res["single_p50_ms"], res["faiss_single_p50_ms"], fmt="{:12.3f}")
    row("single query p99 (ms)", res["single_p99_ms"], fmt="{:12.3f}")
    row("single query recall@10", res["single_recall"], fmt="{:12.4f}")
    row("trivial file round trip p50 (ms)", res["trivial_p50_ms"], fmt="{:12.3f}")


if __name__ == "__main__":
    main()
