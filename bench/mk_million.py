#!/usr/bin/python3
"""mk_million.py - a deterministic clustered synthetic set for the
scale benchmark (issue 16): N x 96 float32 base vectors (default
1,000,000), 1,000 queries drawn the same way, and exact ground truth
(the 100 nearest base positions by squared L2, ties to the smaller
position) with their distances.

    bench/mk_million.py OUTDIR [--n N] [--seed S]

Writes OUTDIR/million96_base.fvecs, _query.fvecs, _groundtruth.ivecs and
_groundtruth.dist.fvecs (texmex formats).  The vectors: 1,000 centres in
a 24-dimensional subspace, spread by a random rotation into 96 dims,
plus isotropic noise, so HNSW has a realistic recall curve.  Ground truth
is exact: float32 matrix products pick 200 candidates per query in
blocks of 100,000 base vectors, which are then ranked in float64.
Needs numpy (Debian /usr/bin/python3); about 1.5 GB of memory for 1M.
"""
import argparse
import os
import sys
import time

import numpy as np

DIM, SUB, NC, NQ, GTK, CAND = 96, 24, 1000, 1000, 100, 200


def write_vecs(path, a):
    a = np.ascontiguousarray(a)
    rec = np.empty((a.shape[0], a.shape[1] + 1), dtype="<i4")
    rec[:, 0] = a.shape[1]
    rec[:, 1:] = a.view("<i4")
    rec.tofile(path)


def make(r, n, centres, rot, block=100000):
    out = np.empty((n, DIM), dtype=np.float32)
    for s in range(0, n, block):
        m = min(block, n - s)
        c = centres[r.randint(0, NC, m)]
        low = c + 0.6 * r.standard_normal((m, SUB))
        out[s:s + m] = (low @ rot + 0.15 * r.standard_normal((m, DIM))
                        ).astype(np.float32)
    return out


def ground_truth(base, q):
    nq = q.shape[0]
    q64 = q.astype(np.float64)
    qn = (q64 ** 2).sum(1)
    best_i = np.zeros((nq, 0), dtype=np.int64)
    best_d = np.zeros((nq, 0))
    for s in range(0, base.shape[0], 100000):
        b = base[s:s + 100000]
        d32 = (b.astype(np.float32) ** 2).sum(1)[None, :] - 2 * (q @ b.T)
        k = min(CAND, b.shape[0])
        part = np.argpartition(d32, k - 1, axis=1)[:, :k]
        cand = part + s
        bb = base[cand].astype(np.float64)               # nq x k x DIM
        d64 = ((bb - q64[:, None, :]) ** 2).sum(2)
        best_i = np.concatenate([best_i, cand], 1)
        best_d = np.concatenate([best_d, d64], 1)
        order = np.lexsort((best_i, best_d), axis=1)[:, :CAND]
        best_i = np.take_along_axis(best_i, order, 1)
        best_d = np.take_along_axis(best_d, order, 1)
    del qn
    return best_i[:, :GTK].astype(np.int32), best_d[:, :GTK].astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--n", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=96)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    r = np.random.RandomState(a.seed)
    rot, _ = np.linalg.qr(r.standard_normal((DIM, DIM)))
    rot = rot[:SUB]                                     # SUB x DIM
    centres = 4.0 * r.standard_normal((NC, SUB))
    t = time.time()
    base = make(r, a.n, centres, rot)
    q = make(r, NQ, centres, rot)
    p = os.path.join(a.out, "million96")
    write_vecs(p + "_base.fvecs", base)
    write_vecs(p + "_query.fvecs", q)
    print(f"[mk_million] {a.n} x {DIM} made in {time.time() - t:.1f} s",
          file=sys.stderr)
    t = time.time()
    gi, gd = ground_truth(base, q)
    write_vecs(p + "_groundtruth.ivecs", gi)
    write_vecs(p + "_groundtruth.dist.fvecs", gd)
    print(f"[mk_million] exact ground truth in {time.time() - t:.1f} s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
