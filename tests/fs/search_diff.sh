#!/bin/sh
# search_diff.sh - filtered search against brute force on random data and
# random filters (SPEC §10).  Each run draws a seed (MFS_SEED to replay
# one; a failure prints it): a collection of random size, dimension,
# metric and field values, a tenth of it deleted, then random filter
# expressions (comparisons, chained ranges, in / not in, arithmetic, like,
# and / or / not, nested) evaluated here in Python.  FLAT, and BIN_FLAT
# on a binary collection, must equal the brute force over the matching
# live entities exactly (distances, and ids up to ties); HNSW, IVF_FLAT
# and BIN_IVF_FLAT must answer min(k, matches) distinct matching hits with
# their true distances, at recall >= 0.95 over the run.
. "$(dirname "$0")/lib.sh"
mfs_mount

seed=${MFS_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
note "seed $seed (MFS_SEED=$seed to replay)"

"$MFS_PYTHON" - "$M" "$MFS_SRCDIR/tests/fs" "$T" "$seed" <<'EOF' || fail "filtered search differs from brute force (MFS_SEED=$seed)"
import os, sys
M, REF, T, SEED = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, REF)
from search_ref import *

rng = np.random.default_rng(SEED)
bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
        if len(bad) <= 20:
            print("FAIL:", what, file=sys.stderr)

WORDS = ["ab", "abc", "b", "ba", "cab", "x", "xy", ""]

def make(n):
    """Random field values, every column a numpy array."""
    return {"a": rng.integers(-50, 50, n), "b": np.array(rng.choice(WORDS, n)),
            "c": np.round(rng.standard_normal(n) * 10, 3),
            "d": rng.random(n) < rng.random()}

def rnd_leaf(F, ids):
    """One random comparison: (milvusfs text, numpy mask)."""
    a, b, c, d = F["a"], F["b"], F["c"], F["d"]
    ops = [("<", np.less), ("<=", np.less_equal), (">", np.greater),
           (">=", np.greater_equal), ("==", np.equal), ("!=", np.not_equal)]
    kind = rng.integers(0, 9)
    op, fn = ops[rng.integers(0, 6)]
    if kind == 0:
        v = int(rng.integers(-55, 55))
        return "a %s %d" % (op, v), fn(a, v)
    if kind == 1:
        v = float(np.round(rng.standard_normal() * 10, 2))
        return "c %s %r" % (op, v), fn(c, v)
    if kind == 2:
        lo = int(rng.integers(-50, 40)); hi = lo + int(rng.integers(0, 30))
        return "%d <= a < %d" % (lo, hi), (a >= lo) & (a < hi)
    if kind == 3:
        vs = sorted(set(int(x) for x in rng.integers(-50, 50, rng.integers(1, 6))))
        neg = rng.random() < 0.3
        m = np.isin(a, vs)
        return "a %sin %s" % ("not " if neg else "", vs), ~m if neg else m
    if kind == 4:
        w = str(rng.choice(WORDS))
        o, f2 = ("==", np.equal) if rng.random() < 0.6 else ("!=", np.not_equal)
        return 'b %s "%s"' % (o, w), f2(b, w)
    if kind == 5:
        p = str(rng.choice(["a", "b", "x", "ab"]))
        return 'b like "%s%%"' % p, np.char.startswith(b.astype(str), p)
    if kind == 6:
        return "d == %s" % ("true" if rng.random() < 0.5 else "false"), None
    if kind == 7:
        mod = int(rng.integers(2, 200)); r = int(rng.integers(0, mod))
        return "id %% %d == %d" % (mod, r), ids % mod == r
    v = int(rng.integers(0, 60))
    return "a * 2 + 1 %s %d" % (op, v), fn(a * 2 + 1, v)

def rnd_expr(F, ids, depth):
    if depth == 0 or rng.random() < 0.4:
        t, m = rnd_leaf(F, ids)
        if m is None:       # d == true / false
            m = F["d"] if t.endswith("true") else ~F["d"]
        return t, m
    r = rng.random()
    if r < 0.2:
        t, m = rnd_expr(F, ids, depth - 1)
        return "not (%s)" % t, ~m
    (t1, m1), (t2, m2) = rnd_expr(F, ids, depth - 1), rnd_expr(F, ids, depth - 1)
    if r < 0.6:
        return "(%s) %s (%s)" % (t1, rng.choice(["and", "&&"]), t2), m1 & m2
    return "(%s) %s (%s)" % (t1, rng.choice(["or", "||"]), t2), m1 | m2

def setup(name, metric, binary, n, dim):
    C = M + "/" + name
    os.mkdir(C)
    save(C + "/schema", "dim=%d metric_type=%s%s field=a:INT64 field=b:VARCHAR(8) "
         "field=c:DOUBLE field=d:BOOL\n" % (dim, metric, " vector_type=BINARY_VECTOR" if binary else ""))
    if binary:
        # clustered: 16 centres, each bit flipped with probability 0.15
        # (uniform random bits have no neighbours for lists to find)
        cent = rng.integers(0, 2, (16, dim), dtype=np.uint8)
        flip = lambda c: np.packbits(c ^ (rng.random(c.shape) < 0.15), axis=1)
        base = flip(cent[rng.integers(0, 16, n)])
        qs = flip(cent[rng.integers(0, 16, 6)])
    else:
        base = rng.standard_normal((n, dim)).astype(np.float32)
        qs = rng.standard_normal((6, dim)).astype(np.float32)
        if rng.random() < 0.5:      # clustered: harder for graphs and lists
            cent = rng.standard_normal((8, dim)).astype(np.float32) * 4
            base += cent[rng.integers(0, 8, n)]
            qs += cent[rng.integers(0, 8, len(qs))]
    F = make(n)
    with open(T + "/" + name + ".jsonl", "w") as f:
        for i in range(n):
            v = base[i].tobytes().hex() if binary else [float(x) for x in base[i]]
            f.write(json.dumps({"id": i, "vector": v, "a": int(F["a"][i]), "b": str(F["b"][i]),
                                "c": float(F["c"][i]), "d": bool(F["d"][i])}) + "\n")
    with open(T + "/" + name + ".jsonl") as f, open(C + "/entities.jsonl", "a") as o:
        o.write(f.read())
    dead = rng.choice(n, n // 10, replace=False)
    save(C + "/delete", "".join("%d\n" % i for i in dead))
    live = np.ones(n, bool)
    live[dead] = False
    save(C + "/load", "1\n")
    return C, base, qs, F, live

def run(C, name, metric, base, qs, F, live, index, params, exact, filters, rec):
    if index:
        save(C + "/index", index + "\n")
    binary = base.dtype == np.uint8
    for expr, mask in filters:
        allowed = mask & live
        m = int(allowed.sum())
        k = int(rng.integers(1, 40))
        save(C + "/search/dq", "k=%d\nfilter=%s\n%s\n" % (k, expr, "\n".join(fmt_vec(v, binary) for v in qs)))
        try:
            got = parse_tsv(read(C + "/search/dq" + params), len(qs))
        except OSError as e:
            check(False, "%s %s k=%d %r: %s" % (name, index, k, expr, e))
            continue
        for qi, q in enumerate(qs):
            sc, dist = scores(metric, base, q)
            want = topk(sc, allowed, k)
            hits = got[qi]
            tag = "%s %s k=%d %r q%d" % (name, index or "FLAT", k, expr, qi)
            ids = [h[0] for h in hits]
            check(len(hits) == min(k, m), "%s: %d hits, expected min(%d, %d)" % (tag, len(hits), k, m))
            check(all(0 <= i < len(base) and allowed[i] for i in ids), "%s: a hit that does not match or is deleted: %s" % (tag, ids))
            check(len(set(ids)) == len(ids), "%s: a hit twice" % tag)
            tol = lambda x: 1e-4 * max(1.0, abs(x))
            for i, d in hits[:len(hits)]:
                if 0 <= i < len(base):
                    check(abs(d - dist[i]) <= tol(dist[i]), "%s: distance of %d %g, expected %g" % (tag, i, d, dist[i]))
            if exact:
                wd = [dist[i] for i in want]
                check(len(hits) == len(want) and all(abs(h[1] - w) <= tol(w) for h, w in zip(hits, wd)),
                      "%s: distances %s, expected %s" % (tag, [h[1] for h in hits], wd))
            elif len(want):
                # ties at the k-th distance: any of them is a right answer
                cut = sc[want[-1]]
                ok = set(int(i) for i in np.nonzero(allowed & (sc <= cut + 1e-9))[0])
                rec.append(min(1.0, len(set(ids) & ok) / len(want)))

print("# seed %d" % SEED)
for r, (metric, binary) in enumerate((("L2", False), (str(rng.choice(["IP", "COSINE"])), False),
                                      (str(rng.choice(["HAMMING", "JACCARD"])), True))):
    n = int(rng.integers(1500, 4000))
    dim = int(rng.choice([64, 128])) if binary else int(rng.integers(3, 25))
    name = "d%d" % r
    C, base, qs, F, live = setup(name, metric, binary, n, dim)
    ids = np.arange(n)
    filters = [rnd_expr(F, ids, int(rng.integers(0, 4))) for _ in range(14)]
    print("# %s %s n=%d dim=%d matches %s" % (name, metric, n, dim,
          sorted(int((m & live).sum()) for _, m in filters)))
    rec = []
    run(C, name, metric, base, qs, F, live, None, "", True, filters, rec)
    if binary:
        run(C, name, metric, base, qs, F, live, "index_type=BIN_IVF_FLAT nlist=16", "&nprobe=8", False, filters, rec)
    else:
        run(C, name, metric, base, qs, F, live, "index_type=HNSW M=16 efConstruction=100", "", False, filters, rec)
        run(C, name, metric, base, qs, F, live, "index_type=IVF_FLAT nlist=32", "&nprobe=16", False, filters, rec)
    if rec:
        rr = sum(rec) / len(rec)
        print("# %s recall %.3f over %d answers" % (name, rr, len(rec)))
        check(rr >= 0.95, "%s %s: recall %.3f < 0.95" % (name, metric, rr))
    save(C + "/release", "1\n")
if bad:
    print("%d failures, seed %d" % (len(bad), SEED), file=sys.stderr)
sys.exit(1 if bad else 0)
EOF
