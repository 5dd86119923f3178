"""search_ref.py - a brute-force reference for filtered, range and grouped
search (SPEC §10), used by search_filter.sh, search_range.sh and
search_group.sh.  Synthetic data from a fixed seed; everything computed
here in float64 with numpy, independently of milvusfs."""
import errno
import json
import os

import numpy as np

NB = 1000                       # buckets: bucket = row % NB


def make_float(n, dim, seed):
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((n, dim)).astype(np.float32)
    queries = rng.standard_normal((20, dim)).astype(np.float32)
    return base, queries


def make_binary(n, dim, seed):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (n, dim // 8), dtype=np.uint8)
    queries = rng.integers(0, 256, (12, dim // 8), dtype=np.uint8)
    return base, queries


def fields(i, near):
    return {"bucket": int(i % NB), "tag": "t%d" % (i % 3),
            "f": float(i) / 7.0, "near": bool(near[i])}


def near_mask(base):
    """The 10% of rows nearest to a fixed centroid (a correlated filter)."""
    c = base[0].astype(np.float64)
    d = ((base.astype(np.float64) - c) ** 2).sum(1) if base.dtype != np.uint8 \
        else np.unpackbits(base ^ base[0], axis=1).sum(1).astype(np.float64)
    cut = np.sort(d)[len(d) // 10 - 1]
    return d <= cut


def write_jsonl(path, base, near, binary=False):
    with open(path, "w") as f:
        for i in range(len(base)):
            v = base[i].tobytes().hex() if binary else [float(x) for x in base[i]]
            row = {"id": i, "vector": v}
            row.update(fields(i, near))
            f.write(json.dumps(row) + "\n")


# filters: milvusfs expression, python predicate over (i, near)
FILTERS = [
    ("bucket < 500", lambda i, nr: i % NB < 500),
    ("bucket < 100", lambda i, nr: i % NB < 100),
    ("bucket < 10", lambda i, nr: i % NB < 10),
    ("bucket < 1", lambda i, nr: i % NB < 1),
    ("near == true", lambda i, nr: nr[i]),
    ('tag == "t1" && bucket >= 900', lambda i, nr: i % 3 == 1 and i % NB >= 900),
    ("id % 7 == 3", lambda i, nr: i % 7 == 3),
    ("bucket in [1, 2, 3] or bucket == 999", lambda i, nr: i % NB in (1, 2, 3, 999)),
    ("bucket > 5000", lambda i, nr: False),
]


def scores(metric, base, q):
    """Internal scores (smaller is better) and Milvus distances."""
    if metric in ("HAMMING", "JACCARD"):
        x = np.unpackbits(base, axis=1).astype(np.int64)
        y = np.unpackbits(q).astype(np.int64)
        inter = (x & y).sum(1)
        union = (x | y).sum(1)
        if metric == "HAMMING":
            d = (x ^ y).sum(1).astype(np.float64)
        else:
            d = np.where(union > 0, 1.0 - inter / np.maximum(union, 1), 0.0)
        return d, d
    b = base.astype(np.float64)
    qq = q.astype(np.float64)
    if metric == "L2":
        d = ((b - qq) ** 2).sum(1)
        return d, d
    if metric == "COSINE":
        b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-30)
        qq = qq / max(np.linalg.norm(qq), 1e-30)
    s = b @ qq
    return -s, s


def topk(sc, allowed, k):
    idx = np.nonzero(allowed)[0]
    order = idx[np.lexsort((idx, sc[idx]))]
    return order[:k]


def parse_tsv(text, nq):
    """nq queries separated by blank lines; hits id<TAB>distance[<TAB>..]."""
    out = [[]]
    lines = text.split("\n")
    if text.endswith("\n"):
        lines = lines[:-1]
    for line in lines:
        if line == "":
            out.append([])
            continue
        p = line.split("\t")
        out[-1].append((int(p[0]), float(p[1])) + tuple(p[2:]))
    return (out + [[] for _ in range(nq)])[:nq]


def read(path):
    with open(path) as f:
        return f.read()


def errno_of(path):
    try:
        read(path)
        return "OK"
    except OSError as e:
        return errno.errorcode[e.errno]


def fmt_vec(v, binary=False):
    return v.tobytes().hex() if binary else ",".join("%.9g" % x for x in v)


def save(path, text):
    with open(path, "w") as f:
        f.write(text)
