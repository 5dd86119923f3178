#!/usr/bin/python3
# mksynth.py DIR - the synthetic data sets of the mount tests, made from a
# fixed seed (numpy's RandomState, whose streams numpy keeps stable), so
# that a clone with no data sets beside it tests what the real sets test.
# lib.sh (synth_sets) runs it once per build tree and generator version and
# the scripts of a run share DIR.  Needs numpy (MFS_PYTHON).
#
# Layout and formats as the shared sets (texmex fvecs/ivecs, little-endian;
# ground truth: the 100 nearest base positions of each query, ties to the
# smaller position, computed here by brute force in float64, and their
# distances as Milvus reports them, as float32):
#
#   syn128/syn128_base.fvecs          8,000 x 128, clustered (L2, like photosift128)
#   syn128/syn128_query.fvecs         200 x 128, drawn like the base, not in it
#   syn128/syn128_groundtruth.ivecs, .dist.fvecs         L2 (squared)
#   syn100/syn100_base.fvecs          8,000 x 100, clustered, norms spread
#                                     (so IP and COSINE differ, like glove100)
#   syn100/syn100_query.fvecs         200 x 100
#   syn100/syn100_groundtruth.ivecs, .dist.fvecs         COSINE (similarity)
#   syn100/syn100_groundtruth_ip.ivecs, _ip.dist.fvecs   IP
#   bulk100.fvecs                     100,000 x 100 uniform in [-1, 1): bulk
#                                     for imports that must take a while
#   done                              written last: DIR is complete
#
# The clusters live in a 32-dimensional subspace with noise in every
# dimension: HNSW at its default ef misses a few neighbours (as on the real
# sets), and IVF with 128 lists at nprobe=1 misses many.
import os
import sys

import numpy as np

NB, NQ, GTK = 8000, 200, 100


def write_vecs(path, a):
    rec = np.empty((a.shape[0], a.shape[1] + 1), dtype="<i4")
    rec[:, 0] = a.shape[1]
    rec[:, 1:] = np.ascontiguousarray(a).view("<i4")
    rec.tofile(path)


def clustered(rs, dim, norms):
    latent, nclusters, spread, noise = 32, 100, 1.0, 0.5
    proj = rs.standard_normal((latent, dim)) / np.sqrt(latent)
    centers = rs.standard_normal((nclusters, latent))

    def draw(n):
        c = rs.randint(nclusters, size=n)
        x = (centers[c] + spread * rs.standard_normal((n, latent))) @ proj
        x += noise * rs.standard_normal((n, dim))
        if norms:
            x *= rs.lognormal(0.0, 0.25, size=n)[:, None]
        return x.astype("<f4")

    return draw(NB), draw(NQ)


def truth(base, query, metric):
    """The GTK best base positions per query and their distances (float64,
    stable: ties go to the smaller position)."""
    b, q = base.astype(np.float64), query.astype(np.float64)
    if metric == "COSINE":
        b = b / np.linalg.norm(b, axis=1)[:, None]
        q = q / np.linalg.norm(q, axis=1)[:, None]
    if metric == "L2":
        d = np.stack([((b - x) ** 2).sum(axis=1) for x in q])
        key = d
    else:
        d = q @ b.T
        key = -d
    ids = np.argsort(key, axis=1, kind="stable")[:, :GTK]
    return ids.astype("<i4"), np.take_along_axis(d, ids, axis=1).astype("<f4")


def main(out):
    os.makedirs(out + "/syn128")
    os.makedirs(out + "/syn100")
    rs = np.random.RandomState(20240128)
    base, query = clustered(rs, 128, False)
    p = out + "/syn128/syn128"
    write_vecs(p + "_base.fvecs", base)
    write_vecs(p + "_query.fvecs", query)
    ids, d = truth(base, query, "L2")
    write_vecs(p + "_groundtruth.ivecs", ids)
    write_vecs(p + "_groundtruth.dist.fvecs", d)

    rs = np.random.RandomState(20240100)
    base, query = clustered(rs, 100, True)
    p = out + "/syn100/syn100"
    write_vecs(p + "_base.fvecs", base)
    write_vecs(p + "_query.fvecs", query)
    for metric, suffix in (("COSINE", ""), ("IP", "_ip")):
        ids, d = truth(base, query, metric)
        write_vecs(p + "_groundtruth%s.ivecs" % suffix, ids)
        write_vecs(p + "_groundtruth%s.dist.fvecs" % suffix, d)

    rs = np.random.RandomState(100000)
    write_vecs(out + "/bulk100.fvecs",
               rs.uniform(-1.0, 1.0, size=(100000, 100)).astype("<f4"))
    with open(out + "/done", "w") as f:
        f.write("complete\n")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: mksynth.py DIR")
    main(sys.argv[1])
