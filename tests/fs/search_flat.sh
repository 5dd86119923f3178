#!/bin/sh
# search_flat.sh - exact (FLAT) search against brute-force ground truth:
# recall@10 = 1 on an L2 set and a COSINE and IP set (the synthetic syn128
# and syn100; photosift128 and glove100 too when present) through a
# saved .fvecs batch, saved text queries, inline id=N and read-write
# descriptors; distances as Milvus reports them; TSV and JSON; k bounds,
# offset, partitions=, bad parameters and dims (SPEC §6).
. "$(dirname "$0")/lib.sh"
data_sets
mfs_mount

# check.py C BASE QUERY GT_IVECS GT_DIST METRIC: every way of searching
# collection C (holding BASE with ids = position + 1, loaded, with
# search/batch.fvecs saved) agrees with the ground truth.
cat >"$T/check.py" <<'EOF'
import json, os, sys
import numpy as np

C, base_f, query_f, gt_f, dist_f, metric = sys.argv[1:7]

def fvecs(p):
    a = np.fromfile(p, dtype="<i4")
    return a.reshape(-1, a[0] + 1)[:, 1:].view("<f4")

def ivecs(p):
    a = np.fromfile(p, dtype="<i4")
    return a.reshape(-1, a[0] + 1)[:, 1:]

base = fvecs(base_f).astype(np.float64)
queries = fvecs(query_f)
gt, gtd = ivecs(gt_f), fvecs(dist_f).astype(np.float64)
higher = metric in ("IP", "COSINE")
bn = base / np.linalg.norm(base, axis=1)[:, None] if metric == "COSINE" else base
failures = []

def fail(msg):
    failures.append(msg)
    if len(failures) >= 10:
        finish()

def finish():
    for m in failures:
        print("check.py: %s: %s" % (C, m), file=sys.stderr)
    sys.exit(1 if failures else 0)

def scores(q):
    q = q.astype(np.float64)
    if metric == "L2":
        return ((base - q) ** 2).sum(axis=1)
    if metric == "IP":
        return base @ q
    return bn @ (q / np.linalg.norm(q))

def close(a, b, rel=1e-3):
    return abs(a - b) <= rel * max(abs(b), 1e-3)

def verify(what, hits, q, want_dist, want_ids):
    """hits: [(id, distance)] from milvusfs, best first."""
    k = len(want_dist)
    if len(hits) != k:
        return fail("%s: %d hits, expected %d" % (what, len(hits), k))
    ids = [h[0] for h in hits]
    if len(set(ids)) != k:
        return fail("%s: an id returned twice: %s" % (what, ids))
    s = scores(q)
    tol = 1e-5 * max(1.0, abs(want_dist[-1]))
    good = 0
    for r, (i, d) in enumerate(hits):
        if not 1 <= i <= len(base):
            return fail("%s: id %d out of range" % (what, i))
        true = s[i - 1]
        if not close(d, true):
            return fail("%s rank %d: id %d distance %r, exact %r" % (what, r, i, d, true))
        if not close(d, want_dist[r]):
            return fail("%s rank %d: distance %r, ground truth %r" % (what, r, d, want_dist[r]))
        # a hit is right when it is in the true top k or ties the k-th
        if i - 1 in want_ids or (true >= want_dist[-1] - tol if higher else true <= want_dist[-1] + tol):
            good += 1
    if good != k:
        fail("%s: recall@%d = %.3f, expected 1 (ids %s, ground truth %s)" %
             (what, k, good / k, ids, [int(x) + 1 for x in want_ids]))
    order = [d for _, d in hits]
    if order != sorted(order, reverse=higher):
        fail("%s: hits not best first: %s" % (what, order))

def parse_tsv(text, nq):
    if not text.endswith("\n"):
        fail("results do not end with a newline")
    blocks = text[:-1].split("\n\n")
    if len(blocks) != nq:
        fail("%d result blocks, expected %d" % (len(blocks), nq))
    out = []
    for b in blocks:
        hits = []
        for line in b.split("\n"):
            i, tab, d = line.partition("\t")
            if not tab:
                fail("malformed hit line %r" % line)
                continue
            hits.append((int(i), float(d)))
        out.append(hits)
    return out

def read(path):
    with open(path) as f:
        return f.read()

# 1. The saved batch of all queries, TSV then JSON.
nq = len(queries)
tsv = parse_tsv(read(C + "/search/batch.fvecs&k=10"), nq)
for qi in range(min(nq, len(tsv))):
    verify("batch query %d" % qi, tsv[qi], queries[qi], gtd[qi, :10], set(gt[qi, :10]))
js = json.loads(read(C + "/search/batch.fvecs&k=10&format=json"))
if len(js) != nq:
    fail("JSON batch: %d lists, expected %d" % (len(js), nq))
for qi in range(min(nq, len(js), len(tsv))):
    got = [(h["id"], h["distance"]) for h in js[qi]]
    if [g[0] for g in got] != [t[0] for t in tsv[qi]] or \
            not all(close(g[1], t[1], 1e-6) for g, t in zip(got, tsv[qi])):
        fail("JSON query %d differs from TSV: %s vs %s" % (qi, got, tsv[qi]))
        break

# 2. Saved text queries, one vector each, k in the text.
fmt = lambda v: ",".join("%.9g" % x for x in v)
sample = range(0, nq, 50)
for qi in sample:
    with open(C + "/search/q%d" % qi, "w") as f:
        f.write("k=10\n%s\n" % fmt(queries[qi]))
    hits = parse_tsv(read(C + "/search/q%d" % qi), 1)[0]
    verify("saved query q%d" % qi, hits, queries[qi], gtd[qi, :10], set(gt[qi, :10]))
# &k= overrides the saved k
hits = parse_tsv(read(C + "/search/q0&k=100"), 1)[0]
verify("saved query q0&k=100", hits, queries[0], gtd[0, :100], set(gt[0, :100]))

# 3. Inline id=N: entity N's own vector, against brute force here.
for n in [n for n in (1, 2, 777, 5000, len(base)) if n <= len(base)]:
    q = base[n - 1].astype(np.float32)
    s = scores(q)
    order = np.argsort(-s if higher else s, kind="stable")[:10]
    hits = parse_tsv(read(C + "/search/id=%d&k=10" % n), 1)[0]
    verify("id=%d" % n, hits, q, s[order], set(order))

# 4. One read-write descriptor: write the query, read the answer; two
# descriptors on one name each read the answer to their own query.
def rw_open(name):
    return os.open(C + "/search/" + name, os.O_RDWR | os.O_CREAT, 0o644)

def rw_read(fd):
    chunks = []
    while True:
        b = os.read(fd, 65536)
        if not b:
            return b"".join(chunks).decode()
        chunks.append(b)

fd = rw_open("rw")
os.write(fd, ("k=10\n%s\n" % fmt(queries[3])).encode())
verify("read-write descriptor", parse_tsv(rw_read(fd), 1)[0], queries[3], gtd[3, :10], set(gt[3, :10]))
os.close(fd)
fa, fb = rw_open("rw2"), rw_open("rw2")
os.write(fa, ("k=10\n%s\n" % fmt(queries[4])).encode())
os.write(fb, ("k=5\n%s\n" % fmt(queries[5])).encode())
verify("descriptor A", parse_tsv(rw_read(fa), 1)[0], queries[4], gtd[4, :10], set(gt[4, :10]))
verify("descriptor B", parse_tsv(rw_read(fb), 1)[0], queries[5], gtd[5, :5], set(gt[5, :5]))
os.close(fa)
os.close(fb)
# The Python idiom of the README: open "r+", write, flush, read.
with open(C + "/search/rw", "r+") as f:
    f.write("k=3\n%s\n" % fmt(queries[6]))
    f.flush()
    verify("open r+", parse_tsv(f.read(), 1)[0], queries[6], gtd[6, :3], set(gt[6, :3]))
finish()
EOF

import_set() { # COLLECTION BASE QUERY SCHEMA
	mkdir "$M/$1" || fail "mkdir $1"
	echo "$4" >"$M/$1/schema" || fail "schema of $1"
	cat "$2" >>"$M/$1/vectors.fvecs" || fail "import $2 into $1"
	echo 1 >"$M/$1/load" || fail "load $1"
	cp "$3" "$M/$1/search/batch.fvecs" || fail "saving the query batch of $1"
}

import_set ps "$PS_BASE" "$PS_QUERY" "dim=128 metric_type=L2"
expect_content "$M/ps/count" "$PS_NB"
"$MFS_PYTHON" "$T/check.py" "$M/ps" "$PS_BASE" "$PS_QUERY" "$PS_GT" "$PS_GTD" L2 ||
	fail "$PS_NAME (L2) search"
note "$PS_NAME (L2): recall@10 = 1, distances exact"

import_set gc "$GL_BASE" "$GL_QUERY" "dim=100 metric_type=COSINE"
expect_content "$M/gc/count" "$GL_NB"
"$MFS_PYTHON" "$T/check.py" "$M/gc" "$GL_BASE" "$GL_QUERY" "$GL_GT" "$GL_GTD" COSINE ||
	fail "$GL_NAME (COSINE) search"
note "$GL_NAME (COSINE): recall@10 = 1, distances exact"
echo 1 >"$M/gc/release" || fail "release gc"

import_set gi "$GL_BASE" "$GL_QUERY" "dim=100 metric_type=IP"
"$MFS_PYTHON" "$T/check.py" "$M/gi" "$GL_BASE" "$GL_QUERY" "$GL_GTIP" "$GL_GTIPD" IP ||
	fail "$GL_NAME (IP) search"
note "$GL_NAME (IP): recall@10 = 1, distances exact"
echo 1 >"$M/gi/release" || fail "release gi"

S=$M/ps/search
# ls search/ lists the saved queries; rm removes one.
ls "$S" | grep -qx batch.fvecs || fail "ls search/ does not list batch.fvecs"
ls "$S" | grep -qx q50 || fail "ls search/ does not list q50"
expect_ok unlink "$S/q50"
expect_errno ENOENT read "$S/q50"
expect_errno ENOENT read "$S/nosuch"

# k: 1 to 16,384 (also limit, top_k); more than the entities gives them all.
for k in 0 16385 -1 abc; do expect_errno EINVAL read "$S/id=1&k=$k"; done
expect_eq "$(wc -l <"$S/id=1&k=16384" | tr -d ' ')" "$PS_NB" "hits of k=16384 over $PS_NB entities"
expect_eq "$(wc -l <"$S/id=1" | tr -d ' ')" 10 "hits with the default k"
cat "$S/id=7&k=5" >"$T/k5" || fail "id=7&k=5"
same_bytes "$T/k5" "$S/id=7&limit=5" || fail "limit=5 differs from k=5"
same_bytes "$T/k5" "$S/id=7&top_k=5" || fail "top_k=5 differs from k=5"
# offset pages through the hits.
sed -n '6,10p' "$S/id=7&k=10" >"$T/page2"
same_bytes "$T/page2" "$S/id=7&k=5&offset=5" || fail "offset=5 is not hits 6 to 10"
expect_errno EINVAL read "$S/id=7&k=16384&offset=1"
expect_errno EINVAL read "$S/id=7&offset=-1"
# Parameters of other index types are accepted and change nothing on FLAT.
same_bytes "$T/k5" "$S/id=7&k=5&ef=64&nprobe=8" || fail "ef and nprobe change a FLAT search"
# Unknown parameters and wrong dims are refused.
expect_errno EINVAL read "$S/id=1&foo=3"
expect_errno EINVAL read "$S/id=abc"
expect_errno ENOENT read "$S/id=$((PS_NB + 1))"
expect_errno EINVAL read "$S/1,2,3"
expect_eq "$("$PROBE" seq "$S/bad1" wc 'w:foo=1\n1,2,3\n' c)" "OK OK EINVAL" "saving a query with an unknown key"
expect_eq "$("$PROBE" seq "$S/bad2" wc 'w:k=3\n1,2,3\n' c)" "OK OK EINVAL" "saving a query of the wrong dim"
expect_eq "$("$PROBE" seq "$S/bad3.fvecs" wc "f:$GL_QUERY" c)" "OK OK EINVAL" \
	"saving a .fvecs batch of the wrong dim"
for q in bad1 bad2 bad3.fvecs; do expect_errno ENOENT read "$S/$q"; done

# A small collection: inline vectors, TSV/JSON text, partitions=.
C=$M/sm
mkdir "$C" "$C/a" "$C/b" || fail "mkdir sm"
echo "dim=2" >"$C/schema" || fail "schema sm"
printf '1\t0,0\n' >>"$C/vectors"
printf '2\t1,0\n3\t3,0\n' >>"$C/a/vectors"
printf '4\t0,2\n' >>"$C/b/vectors"
echo 1 >"$C/load" || fail "load sm"
expect_content "$C/search/0,0&k=3" "1${TAB}0" "2${TAB}1" "4${TAB}4"
expect_content "$C/search/0.25,0&k=2&format=json" '[[{"id":1,"distance":0.0625},{"id":2,"distance":0.5625}]]'
expect_content "$C/search/0,0&k=10&partitions=a" "2${TAB}1" "3${TAB}9"
expect_content "$C/search/0,0&partitions=a,b" "2${TAB}1" "4${TAB}4" "3${TAB}9"
expect_content "$C/a/search/0,0" "2${TAB}1" "3${TAB}9"
expect_errno ENOENT read "$C/search/0,0&partitions=nosuch"
echo 1 >"$C/b/release" || fail "release sm/b"
expect_errno ENODATA read "$C/search/0,0&partitions=b"
expect_content "$C/search/0,0" "1${TAB}0" "2${TAB}1" "3${TAB}9"
# A saved text batch: two queries, a blank line between their hits.
printf 'k=1\n0,0\n3,0.5\n' >"$C/search/two" || fail "save sm/search/two"
expect_content "$C/search/two" "1${TAB}0" "" "3${TAB}0.25"
expect_content "$C/search/two&format=json" '[[{"id":1,"distance":0}],[{"id":3,"distance":0.25}]]'
# Saved queries run against the data as it is now.
printf '5\t3,0.5\n' >>"$C/a/vectors" || fail "insert 5"
expect_content "$C/search/two" "1${TAB}0" "" "5${TAB}0"
exit 0
