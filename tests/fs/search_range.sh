#!/bin/sh
# search_range.sh - range search (SPEC §10): radius and range_filter on
# every metric; FLAT and BIN_FLAT equal brute force over the range exactly
# (the best k of it, best first); HNSW finds >= 0.95 of the in-range best
# k; IVF_FLAT, IVF_SQ8, IVF_PQ, BIN_IVF_FLAT return only hits in range;
# with a filter too; every rule broken is EINVAL.
. "$(dirname "$0")/lib.sh"
mfs_mount

py_check "$M" "$T" <<'EOF' || fail "range search"
M, T = sys.argv[1], sys.argv[2]

N, DIM, K = 8000, 12, 20
fbase, fq = make_float(N, DIM, 11)
bbase, bq = make_binary(4000, 64, 12)
higher = {"IP": True, "COSINE": True}

def setup(name, metric, binary):
    C = M + "/" + name
    os.mkdir(C)
    base = bbase if binary else fbase
    save(C + "/schema", "dim=%d metric_type=%s%s field=bucket:INT64 field=tag:VARCHAR(8) field=f:FLOAT field=near:BOOL\n" %
         (64 if binary else DIM, metric, " vector_type=BINARY_VECTOR" if binary else ""))
    write_jsonl(T + "/" + name + ".jsonl", base, near_mask(base), binary)
    with open(T + "/" + name + ".jsonl") as f, open(C + "/entities.jsonl", "a") as o:
        o.write(f.read())
    save(C + "/load", "1\n")
    return C

def window(metric, dist):
    """radius and range_filter around the 3rd..60th best distances, cut
    where neighbouring distances differ (no ties at the edges)."""
    s = np.sort(dist)[::-1] if metric in higher else np.sort(dist)
    gap = lambda i: abs(s[i] - s[i - 1]) > 1e-4 * (1 + abs(s[i]))
    lo_i, hi_i = 3, 60
    while not gap(lo_i):
        lo_i += 1
    hi_i = max(hi_i, lo_i + 10)
    while not gap(hi_i):
        hi_i += 1
    a, b = s[lo_i - 1], s[lo_i]
    c, d = s[hi_i - 1], s[hi_i]
    rf = (a + b) / 2
    r = (c + d) / 2
    return r, rf

def run(C, name, metric, index, binary, mode, filt=None):
    base = bbase if binary else fbase
    qs = bq if binary else fq
    if index:
        save(C + "/index", index + "\n")
    allowed = np.ones(len(base), bool)
    if filt:
        allowed = np.arange(len(base)) % NB < 300
    rec = []
    for qi, q in enumerate(qs[:10]):
        sc, dist = scores(metric, base, q)
        r, rf = window(metric, dist)
        if metric in higher:
            inr = (dist > r) & (dist <= rf)
        else:
            inr = (dist >= rf) & (dist < r)
        want = topk(sc, inr & allowed, K)
        name_q = "%s&k=%d&radius=%r&range_filter=%r%s%s" % (
            fmt_vec(q, binary), K, float(r), float(rf),
            "&filter=bucket < 300" if filt else "",
            "&nprobe=16" if "IVF" in (index or "") else "")
        text = "k=%d\nradius=%r\nrange_filter=%r\n%s%s\n" % (
            K, float(r), float(rf), "filter=bucket < 300\n" if filt else "", fmt_vec(q, binary))
        save(C + "/search/rq", text)
        hits = parse_tsv(read(C + "/search/rq" + ("&nprobe=16" if "IVF" in (index or "") else "")), 1)[0]
        tag = "%s %s q%d%s" % (name, index or "FLAT", qi, " filtered" if filt else "")
        for h in hits:
            ok = (r < h[1] <= rf * (1 + 1e-6) + 1e-6) if metric in higher else (rf * (1 - 1e-6) - 1e-6 <= h[1] < r)
            check(ok, "%s: hit %d at %g out of range (%g, %g)" % (tag, h[0], h[1], r, rf))
            check(allowed[h[0]], "%s: hit %d does not match the filter" % (tag, h[0]))
        if mode == "exact":
            check([h[0] for h in hits] == list(want), "%s: %s, expected %s" % (tag, [h[0] for h in hits], list(want)))
        elif mode == "recall" and len(want):
            rec.append(len(set(h[0] for h in hits) & set(want)) / len(want))
        check(len(hits) <= K, "%s: more than k hits" % tag)
    if rec:
        rr = sum(rec) / len(rec)
        print("# %s %s range recall %.3f" % (name, index, rr))
        check(rr >= 0.95, "%s %s: range recall %.3f < 0.95" % (name, index, rr))

for metric in ("L2", "IP", "COSINE"):
    name = "r" + metric.lower()
    C = setup(name, metric, False)
    run(C, name, metric, None, False, "exact")
    run(C, name, metric, None, False, "exact", filt=True)
    run(C, name, metric, "index_type=HNSW M=16 efConstruction=100", False, "recall")
    run(C, name, metric, "index_type=HNSW M=16 efConstruction=100", False, "recall", filt=True)
    run(C, name, metric, "index_type=IVF_FLAT nlist=32", False, "in")
    if metric == "L2":
        run(C, name, metric, "index_type=IVF_SQ8 nlist=32", False, "in")
        run(C, name, metric, "index_type=IVF_PQ nlist=32 m=4", False, "in")
    save(C + "/release", "1\n")
for metric in ("HAMMING", "JACCARD"):
    name = "r" + metric.lower()
    C = setup(name, metric, True)
    run(C, name, metric, None, True, "exact")
    run(C, name, metric, "index_type=BIN_IVF_FLAT nlist=16", True, "in")

# ---- errors ----
C = M + "/rl2"
save(C + "/load", "1\n")
v = fmt_vec(np.round(fq[0], 1))
for params, want_e in (
        ("range_filter=1", "EINVAL"),                  # no radius
        ("radius=1&range_filter=2", "EINVAL"),         # L2: range_filter < radius
        ("radius=0", "EINVAL"),                        # L2 distances >= 0
        ("radius=-1", "EINVAL"),
        ("radius=1&range_filter=-0.5", "EINVAL"),
        ("radius=abc", "EINVAL"),
        ("radius=nan", "EINVAL"),
        ("radius=5&group_by_field=bucket", "EINVAL"),  # not with grouping
        ("radius=5&range_filter=1", "OK")):
    e = errno_of(C + "/search/%s&%s" % (v, params))
    check(e == want_e, "%s: %s, expected %s" % (params, e, want_e))
C = M + "/rcosine"
save(C + "/load", "1\n")
for params, want_e in (
        ("radius=0.5&range_filter=0.2", "EINVAL"),     # IP/COSINE: range_filter > radius
        ("radius=-2", "EINVAL"),                       # COSINE in [-1, 1]
        ("radius=0.2&range_filter=1.5", "EINVAL"),
        ("radius=0.2&range_filter=0.9", "OK")):
    e = errno_of(C + "/search/%s&%s" % (v[:200], params))
    check(e == want_e, "cosine %s: %s, expected %s" % (params, e, want_e))
sys.exit(1 if bad else 0)
EOF
