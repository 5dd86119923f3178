#!/usr/bin/python3
"""faiss_hnsw.py - the faiss IndexHNSWFlat peer of the HNSW benchmark.

Same data, M, efConstruction, ef sweep and thread count as milvusfs; prints
JSON lines like hnsw_peer.cpp (peer "faiss").  COSINE normalizes base and
queries and uses the inner-product metric.  Run with Debian's python3
(python3-faiss, python3-numpy):

    faiss_hnsw.py BASE.fvecs QUERY.fvecs GT.ivecs L2|IP|COSINE M EFC THREADS EF,EF,... [REPEAT]

The batch QPS is the best of REPEAT batches (default 1), as the benchmark
times milvusfs's.
"""
import json
import sys
import time

import faiss
import numpy as np


def read_vecs(path, dtype):
    raw = np.fromfile(path, dtype=np.int32)
    d = int(raw[0])
    return raw.reshape(-1, d + 1)[:, 1:].copy().view(dtype)


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def emit(**kw):
    print(json.dumps(dict(peer="faiss", **kw)), flush=True)


def main():
    if len(sys.argv) not in (9, 10):
        sys.exit(__doc__)
    repeat = max(1, int(sys.argv[9])) if len(sys.argv) == 10 else 1
    base = read_vecs(sys.argv[1], np.float32)
    query = read_vecs(sys.argv[2], np.float32)
    gt = read_vecs(sys.argv[3], np.int32)
    metric, M, efc, threads = sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
    efs = [int(x) for x in sys.argv[8].split(",")]
    k = 10
    faiss.omp_set_num_threads(threads)
    if metric == "COSINE":
        faiss.normalize_L2(base)
        faiss.normalize_L2(query)
    fm = faiss.METRIC_L2 if metric == "L2" else faiss.METRIC_INNER_PRODUCT
    rss0 = rss_mib()
    index = faiss.IndexHNSWFlat(base.shape[1], M, fm)
    index.hnsw.efConstruction = efc
    t0 = time.perf_counter()
    index.add(base)
    emit(event="build", seconds=round(time.perf_counter() - t0, 4),
         n=int(base.shape[0]), threads=threads)
    for ef in efs:
        index.hnsw.efSearch = ef
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            _, ids = index.search(query, k)
            best = min(best, time.perf_counter() - t0)
        qps = len(query) / best
        found = sum(len(set(ids[i]) & set(gt[i, :k])) for i in range(len(query)))
        faiss.omp_set_num_threads(1)
        lat = []
        for i in range(len(query)):
            s = time.perf_counter()
            index.search(query[i:i + 1], k)
            lat.append((time.perf_counter() - s) * 1e3)
        faiss.omp_set_num_threads(threads)
        lat.sort()
        emit(event="search", ef=ef, recall=round(found / (len(query) * k), 4),
             qps=round(qps, 1), p50_ms=round(lat[len(lat) // 2], 4),
             p99_ms=round(lat[len(lat) * 99 // 100], 4),
             mean_ms=round(sum(lat) / len(lat), 4))
    emit(event="memory", rss_mib=round(rss_mib(), 1),
         rss_index_mib=round(rss_mib() - rss0, 1))


if __name__ == "__main__":
    main()
