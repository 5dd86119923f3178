#!/usr/bin/python3
# compact_ref.py - data and brute-force answers for compact.sh (SPEC §11),
# computed with numpy, never through milvusfs.
#
#   compact_ref.py gen DIR float|binary
#       DIR/base.txt    N entities "id<TAB>vector", ids 1..N, clustered
#       DIR/del.txt     the ids to delete (15%)
#       DIR/ups.txt     upserts of other ids (3%) with new vectors
#       DIR/insNN.txt   10 files of 100 new entities, ids from 100001
#       DIR/q.txt       20 query vectors
#       DIR/live.txt    the live ids at the end, ascending
#       DIR/dead.txt    ids never to be found: deleted, or inserted by no one
#       DIR/final.npz   the live ids and vectors at the end
#   compact_ref.py check DIR RESULT MINRECALL [RESULT...]
#       each RESULT: the TSV answer of the k=10 batch of q.txt; every query
#       has exactly 10 hits, none dead, no id twice; the first RESULT's
#       recall@10 (a hit counts when its true distance is within the true
#       10th best: ties of Hamming distances count) is printed and must be
#       >= MINRECALL.  The others (answers taken during the compaction,
#       when inserts were landing) are checked for hits only.
import sys

import numpy as np

N, NDEL, NUPS, NINS, NFILES, NQ, K = 20000, 3000, 600, 100, 10, 20, 10
DIM_F, BITS = 16, 64


def vec_text(kind, v):
    if kind == "binary":
        return bytes(np.packbits(v.astype(np.uint8))).hex()
    return ",".join("%.5g" % x for x in v)


def make(r, kind, n, centers):
    c = centers[r.randint(0, len(centers), n)]
    if kind == "binary":
        flip = r.random_sample(c.shape) < 0.12
        return np.where(flip, 1 - c, c).astype(np.uint8)
    return (c + 0.35 * r.standard_normal(c.shape)).astype(np.float32)


def gen(d, kind):
    r = np.random.RandomState(11)
    if kind == "binary":
        centers = r.randint(0, 2, (24, BITS)).astype(np.uint8)
    else:
        centers = r.standard_normal((24, DIM_F)).astype(np.float32) * 2
    ids = np.arange(1, N + 1, dtype=np.int64)
    base = make(r, kind, N, centers)
    vecs = {int(i): base[j] for j, i in enumerate(ids)}
    with open(d + "/base.txt", "w") as f:
        for i in ids:
            f.write("%d\t%s\n" % (i, vec_text(kind, vecs[int(i)])))
    perm = r.permutation(ids)
    dele, ups = perm[:NDEL], perm[NDEL:NDEL + NUPS]
    with open(d + "/del.txt", "w") as f:
        for i in dele:
            f.write("%d\n" % i)
            del vecs[int(i)]
    new = make(r, kind, NUPS, centers)
    with open(d + "/ups.txt", "w") as f:
        for j, i in enumerate(ups):
            vecs[int(i)] = new[j]
            f.write("%d\t%s\n" % (i, vec_text(kind, new[j])))
    nid = 100001
    for fi in range(NFILES):
        new = make(r, kind, NINS, centers)
        with open(d + "/ins%02d.txt" % fi, "w") as f:
            for j in range(NINS):
                vecs[nid] = new[j]
                f.write("%d\t%s\n" % (nid, vec_text(kind, new[j])))
                nid += 1
    q = make(r, kind, NQ, centers)
    with open(d + "/q.txt", "w") as f:
        for v in q:
            f.write(vec_text(kind, v) + "\n")
    live = np.array(sorted(vecs), dtype=np.int64)
    with open(d + "/live.txt", "w") as f:
        f.write("".join("%d\n" % i for i in live))
    with open(d + "/dead.txt", "w") as f:
        f.write("".join("%d\n" % i for i in sorted(int(i) for i in dele)))
    np.savez(d + "/final.npz", ids=live,
             vecs=np.array([vecs[int(i)] for i in live]), q=q,
             dead=np.sort(dele), binary=kind == "binary")


def parse(path):
    out, cur = [], []
    for line in open(path):
        line = line.rstrip("\n")
        if not line:
            out.append(cur)
            cur = []
            continue
        cur.append(int(line.split("\t")[0]))
    out.append(cur)
    return out


def check(d, results, minrecall):
    z = np.load(d + "/final.npz")
    ids, vecs, q, dead = z["ids"], z["vecs"], z["q"], set(z["dead"].tolist())
    pos = {int(i): j for j, i in enumerate(ids)}
    if z["binary"]:
        dist = (q[:, None, :] != vecs[None, :, :]).sum(axis=2).astype(np.float64)
    else:
        qq, vv = q.astype(np.float64), vecs.astype(np.float64)
        dist = ((qq ** 2).sum(1)[:, None] - 2 * qq @ vv.T +
                (vv ** 2).sum(1)[None, :])
    recall = None
    for ri, path in enumerate(results):
        ans = parse(path)
        if len(ans) != NQ:
            sys.exit("%s: %d answers, expected %d" % (path, len(ans), NQ))
        good = 0
        for qi, hits in enumerate(ans):
            if len(hits) != K or len(set(hits)) != K:
                sys.exit("%s: query %d: %d hits (%d distinct), expected %d"
                         % (path, qi, len(hits), len(set(hits)), K))
            bad = [h for h in hits if h in dead]
            if bad:
                sys.exit("%s: query %d: deleted ids found: %s" % (path, qi, bad))
            if ri:
                continue
            missing = [h for h in hits if h not in pos]
            if missing:
                sys.exit("%s: query %d: unknown ids: %s" % (path, qi, missing))
            kth = np.sort(dist[qi])[K - 1]
            good += sum(dist[qi][pos[h]] <= kth + 1e-4 * max(1.0, abs(kth))
                        for h in hits)
        if ri == 0:
            recall = good / float(NQ * K)
    print("%.4f" % recall)
    if recall < minrecall:
        sys.exit("recall@10 %.4f < %.4f" % (recall, minrecall))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], sys.argv[3])
    else:
        check(sys.argv[2], [sys.argv[3]] + sys.argv[5:], float(sys.argv[4]))
