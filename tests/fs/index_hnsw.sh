#!/bin/sh
# index_hnsw.sh - HNSW through the mount (SPEC §5, §6): `cat index` after a
# build, recall@10 on an L2 set and a COSINE set (the synthetic syn128 and
# syn100; photosift128 and the first 10,000 of glove100 too when present)
# at the default ef and a higher one, the index kept across a
# remount without a rebuild, inserts after the build found at once, deleted
# entities never returned, parameter errors (EINVAL and a /.errors line)
# leaving the index as it was, FLAT dropping it, searches during inserts, and
# a non-blocking build showing InProgress then Finished.
. "$(dirname "$0")/lib.sh"
data_sets
# the first 10,000 of the COSINE set (under MFS_SMALL, the GL_NB there are)
GC_NB=$((GL_NB < 10000 ? GL_NB : 10000))
# 10% of the L2 set is deleted below
PS_LEFT=$((PS_NB - PS_NB / 10))
mfs_mount

# ann.py RESULT BASE NBASE QUERY GT METRIC K MIN [DELETED]: RESULT (a TSV
# batch answer, one block per row of QUERY) has K hits per query, distinct,
# best first, each with the exact distance of its id (id = position + 1 in
# the first NBASE rows of BASE), none listed in DELETED; recall@K against the
# ground truth GT with the deleted positions filtered out is at least MIN (a
# hit as good as the K-th true neighbour counts, for ties).  Prints the
# recall.
cat >"$T/ann.py" <<'EOF'
import sys
import numpy as np

res_f, base_f, nbase, query_f, gt_f, metric, k, lo = sys.argv[1:9]
nbase, k, lo = int(nbase), int(k), float(lo)
deleted = set()
if len(sys.argv) > 9:
    with open(sys.argv[9]) as f:
        deleted = set(int(x) for x in f.read().split())

def vecs(p, dt, n=None):
    a = np.fromfile(p, dtype="<i4")
    a = a.reshape(-1, a[0] + 1)[:, 1:]
    return (a if n is None else a[:n]).view(dt)

base = vecs(base_f, "<f4", nbase).astype(np.float64)
queries = vecs(query_f, "<f4").astype(np.float64)
gt = vecs(gt_f, "<i4")
higher = metric in ("IP", "COSINE")
if metric == "COSINE":
    base /= np.linalg.norm(base, axis=1)[:, None]
    queries /= np.linalg.norm(queries, axis=1)[:, None]
with open(res_f) as f:
    text = f.read()
failures = []

def done():
    for m in failures:
        print("ann.py: %s" % m, file=sys.stderr)
    sys.exit(1 if failures else 0)

def bad(msg):
    failures.append(msg)
    if len(failures) >= 10:
        done()

if not text.endswith("\n"):
    bad("the answer does not end with a newline")
    done()
blocks = text[:-1].split("\n\n")
if len(blocks) != len(queries):
    bad("%d result blocks, expected %d" % (len(blocks), len(queries)))
    done()

# every score at once: squared L2 or (cosine) similarity, in float64
S = queries @ base.T
if not higher:
    S = (base ** 2).sum(axis=1)[None, :] - 2 * S + (queries ** 2).sum(axis=1)[:, None]

def close(a, b):
    return abs(a - b) <= 1e-3 * max(abs(b), 1e-3)

good = total = 0
for qi, b in enumerate(blocks):
    hits = []
    for line in b.split("\n"):
        i, tab, d = line.partition("\t")
        if not tab:
            bad("query %d: malformed line %r" % (qi, line))
            break
        hits.append((int(i), float(d)))
    ids = [h[0] for h in hits]
    total += k
    if len(hits) != k or len(set(ids)) != k:
        bad("query %d: %d hits (%d distinct), expected %d" % (qi, len(hits), len(set(ids)), k))
        continue
    ds = [h[1] for h in hits]
    if ds != sorted(ds, reverse=higher):
        bad("query %d: not best first: %s" % (qi, ds))
    gone = [i for i in ids if i in deleted]
    if gone:
        bad("query %d: deleted ids returned: %s" % (qi, gone))
        continue
    if not all(1 <= i <= nbase for i in ids):
        bad("query %d: ids out of range: %s" % (qi, ids))
        continue
    s = S[qi]
    for i, d in hits:
        if not close(d, s[i - 1]):
            bad("query %d: id %d distance %r, exact %r" % (qi, i, d, s[i - 1]))
    truth = [int(p) for p in gt[qi] if int(p) + 1 not in deleted][:k]
    if len(truth) < k:
        bad("query %d: fewer than %d true neighbours left" % (qi, k))
        continue
    kth = s[truth[-1]]
    tol = 1e-6 * max(1.0, abs(kth))
    for i in ids:
        if i - 1 in truth or (s[i - 1] >= kth - tol if higher else s[i - 1] <= kth + tol):
            good += 1
r = good / total
print("%.4f" % r)
if r < lo:
    bad("recall@%d = %.4f, expected at least %s" % (k, r, lo))
done()
EOF

# recall NAME COLL QUERY_SUFFIX BASE NBASE QUERY GT METRIC MIN [DELETED]:
# read COLL/search/batch.fvecs&k=10QUERY_SUFFIX into $T/NAME, check it with
# ann.py; the recall goes into $T/NAME.recall.
recall() {
	cat "$M/$2/search/batch.fvecs&k=10$3" >"$T/$1" 2>"$T/cat.err" ||
		fail "$1: cat $2/search/batch.fvecs&k=10$3: $(cat "$T/cat.err")"
	"$MFS_PYTHON" "$T/ann.py" "$T/$1" "$4" "$5" "$6" "$7" "$8" 10 "$9" ${10} \
		>"$T/$1.recall" || fail "$1: search of $2 with '&k=10$3'"
	note "$1: recall@10 = $(cat "$T/$1.recall")"
}

HNSW_PS="index_type=HNSW${NL}metric_type=L2${NL}M=16${NL}efConstruction=200${NL}state=Finished${NL}progress=100"

# --- the L2 set: build, cat index, recall at the default ef and ef=256 --------
mkdir "$M/ps" || fail "mkdir ps"
echo "dim=128 metric_type=L2" >"$M/ps/schema" || fail "schema of ps"
cat "$PS_BASE" >>"$M/ps/vectors.fvecs" || fail "import $PS_NAME"
expect_content "$M/ps/count" "$PS_NB"
t0=$(now_ms)
echo "index_type=HNSW M=16 efConstruction=200" >"$M/ps/index" || fail "HNSW build on ps"
build_ms=$(($(now_ms) - t0))
note "HNSW build of $PS_NAME: $build_ms ms"
expect_content "$M/ps/index" "$HNSW_PS"
echo 1 >"$M/ps/load" || fail "load ps"
expect_content "$M/ps/state" Loaded
cp "$PS_QUERY" "$M/ps/search/batch.fvecs" || fail "save the $PS_NAME batch"
PSARGS="$PS_BASE $PS_NB $PS_QUERY $PS_GT L2"
# shellcheck disable=SC2086
recall ps_default ps "" $PSARGS 0.95
# shellcheck disable=SC2086
recall ps_ef256 ps "&ef=256" $PSARGS 0.95
awk -v a="$(cat "$T/ps_ef256.recall")" -v b="$(cat "$T/ps_default.recall")" 'BEGIN { exit !(a > b) }' ||
	fail "recall@10 with ef=256 ($(cat "$T/ps_ef256.recall")) is not above the default ef's ($(cat "$T/ps_default.recall"))"
# ef=64 is the default for k=10 (max(k, 64)).
same_bytes "$T/ps_default" "$M/ps/search/batch.fvecs&k=10&ef=64" ||
	fail "the default ef is not 64 for k=10"

# --- the COSINE set, its first 10,000 ---------------------------------------------
mkdir "$M/gc" || fail "mkdir gc"
echo "dim=100 metric_type=COSINE" >"$M/gc/schema" || fail "schema of gc"
head -c $((GC_NB * 404)) "$GL_BASE" >>"$M/gc/vectors.fvecs" || fail "import $GL_NAME first $GC_NB"
expect_content "$M/gc/count" "$GC_NB"
echo "index_type=HNSW" >"$M/gc/index" || fail "HNSW build on gc"
expect_content "$M/gc/index" index_type=HNSW metric_type=COSINE M=16 efConstruction=200 \
	state=Finished progress=100
echo 1 >"$M/gc/load" || fail "load gc"
cp "$GL_QUERY" "$M/gc/search/batch.fvecs" || fail "save the $GL_NAME batch"
GCARGS="$GL_BASE $GC_NB $GL_QUERY $GL_GT10K COSINE"
# shellcheck disable=SC2086
recall gc_default gc "" $GCARGS 0.95

# --- persistence: no rebuild after a remount -------------------------------------
mfs_unmount || fail "unmount"
log0=$(wc -l <"$T/log")
t0=$(now_ms)
mfs_mount
wait_loaded ps
wait_loaded gc
reload_ms=$(($(now_ms) - t0))
note "mount until both loaded: $reload_ms ms (the ps build took $build_ms ms)"
# A load that builds an index says so in the log ("building it", or
# "rebuilding" when the stored one is unusable): the outcome, not a time.
sed -n "$((log0 + 1)),\$p" "$T/log" | grep -q 'building it\|rebuilding' &&
	fail "an index was rebuilt at the remount: $(sed -n "$((log0 + 1)),\$p" "$T/log" | grep 'building')"
expect_content "$M/ps/index" "$HNSW_PS"
same_bytes "$T/ps_default" "$M/ps/search/batch.fvecs&k=10" ||
	fail "$PS_NAME results differ after the remount"
same_bytes "$T/gc_default" "$M/gc/search/batch.fvecs&k=10" ||
	fail "$GL_NAME results differ after the remount"
# A release and a load read the stored graph again, also well under a build.
echo 1 >"$M/ps/release" || fail "release ps"
log0=$(wc -l <"$T/log")
t0=$(now_ms)
echo 1 >"$M/ps/load" || fail "load ps again"
load_ms=$(($(now_ms) - t0))
note "load of ps: $load_ms ms"
sed -n "$((log0 + 1)),\$p" "$T/log" | grep -q 'building it\|rebuilding' &&
	fail "the index of ps was rebuilt at the load"
same_bytes "$T/ps_default" "$M/ps/search/batch.fvecs&k=10" ||
	fail "$PS_NAME results differ after release and load"

# --- inserts after the build are found at once -----------------------------------
# Queries 0-19 as entities 100001-100020: each is its own query's first hit,
# at distance 0 (no query is in the base).
py "$PS_QUERY" "$T/new.fvecs" >"$T/new.txt" <<'EOF' || fail "making new.txt"
import sys
import numpy as np
a = np.fromfile(sys.argv[1], dtype="<i4")
a = a.reshape(-1, a[0] + 1)[:20]
a.tofile(sys.argv[2])
for i, row in enumerate(a[:, 1:].view("<f4")):
    print("%d\t%s" % (100001 + i, ",".join("%.9g" % x for x in row)))
EOF
cat "$T/new.txt" >>"$M/ps/vectors" || fail "insert 20 entities into the loaded ps"
expect_content "$M/ps/count" $((PS_NB + 20))
cp "$T/new.fvecs" "$M/ps/search/new.fvecs" || fail "save new.fvecs"
cat "$M/ps/search/new.fvecs&k=3" >"$T/new.res" || fail "search new.fvecs"
py "$T/new.res" <<'EOF' || fail "entities inserted after the build not found first at distance 0"
import sys
blocks = open(sys.argv[1]).read()[:-1].split("\n\n")
assert len(blocks) == 20, "%d blocks" % len(blocks)
for i, b in enumerate(blocks):
    first = b.split("\n")[0].split("\t")
    assert first == [str(100001 + i), "0"], "query %d: first hit %r, expected %d at 0" % (i, first, 100001 + i)
EOF

# --- deleted entities are never returned -----------------------------------------
# 10% of the base entities (chosen at random) and the 20 just inserted.
py "$PS_NB" >"$T/deleted" <<'EOF'
import random, sys
n = int(sys.argv[1])
r = random.Random(7)
ids = r.sample(range(1, n + 1), n // 10) + list(range(100001, 100021))
print(" ".join(str(i) for i in ids))
EOF
cat "$T/deleted" >"$M/ps/delete" || fail "delete $((PS_NB / 10 + 20)) ids"
expect_content "$M/ps/count" "$PS_LEFT"
# shellcheck disable=SC2086
recall ps_deleted ps "" $PSARGS 0.9 "$T/deleted"
# shellcheck disable=SC2086
recall ps_deleted100 ps "&ef=100" $PSARGS 0.9 "$T/deleted"
cat "$M/ps/search/new.fvecs&k=10" >"$T/new2.res" || fail "search new.fvecs after the delete"
tr ' ' '\n' <"$T/deleted" >"$T/deleted.lines"
cut -f1 "$T/new2.res" | grep -Fxf "$T/deleted.lines" >"$T/back" &&
	fail "deleted ids found again: $(head -n 5 "$T/back" | tr '\n' ' ')"
# and across a remount (the stored graph may be repaired around entities
# deleted since it was saved, so the hits may differ; the bar does not)
remount
wait_loaded ps
# shellcheck disable=SC2086
recall ps_deleted_remount ps "" $PSARGS 0.9 "$T/deleted"

# --- parameter errors: EINVAL, one /.errors line, the index unchanged -----------
expect_content "$M/ps/index" "$HNSW_PS"
for p in "M=1" "M=2049" "efConstruction=0" "foo=3" "M=abc" "metric_type=IP"; do
	expect_logged EINVAL /ps/index write "$M/ps/index" "index_type=HNSW $p\n"
	expect_content "$M/ps/index" "$HNSW_PS"
done
expect_logged EINVAL /ps/index write "$M/ps/index" 'index_type=NOPE\n'
expect_content "$M/ps/index" "$HNSW_PS"
expect_logged EINVAL '/ps/search/batch.fvecs&k=100&ef=10' read "$M/ps/search/batch.fvecs&k=100&ef=10"
expect_logged EINVAL '/ps/search/id=5&ef=0' read "$M/ps/search/id=5&ef=0"
expect_logged EINVAL '/ps/search/id=5&ef=x' read "$M/ps/search/id=5&ef=x"
# ef = k is allowed; the results are unchanged by the failures.
expect_ok read "$M/ps/search/batch.fvecs&k=100&ef=100"
same_bytes "$T/ps_deleted_remount" "$M/ps/search/batch.fvecs&k=10" || fail "results changed after failed builds"

# --- searches during inserts -----------------------------------------------------
# ids 2, 9, 16, ... not deleted: searched by their own vector, they come first.
# While a lone HNSW search runs, its worker answers the lookups, stats and
# ioctls that come meanwhile (fs/loop.c): a third thread stats and looks up
# other search names all along, and each reader's fstat, once it has read,
# reports the length of what it read.
py "$T/deleted" "$PS_NB" >"$T/alive" <<'EOF'
import sys
gone = set(int(x) for x in open(sys.argv[1]).read().split())
print(" ".join(str(i) for i in range(2, int(sys.argv[2]) + 1, 7) if i not in gone))
EOF
"$MFS_PYTHON" - "$M/ps" "$T/alive" 2>"$T/searchers.err" <<'EOF' &
import os, sys, threading
C = sys.argv[1]
ids = [int(x) for x in open(sys.argv[2]).read().split()][:600]
errs = []
done = threading.Event()
def run(part):
    try:
        for i in part:
            with open("%s/search/id=%d&k=5" % (C, i)) as f:
                text = f.read()
                size = os.fstat(f.fileno()).st_size
            assert size == len(text), "id=%d: fstat %d, read %d" % (i, size, len(text))
            lines = text.split("\n")
            assert len(lines) == 6 and lines[5] == "", "answer %r" % text
            assert lines[0] == "%d\t0" % i, "id=%d: first hit %r" % (i, lines[0])
            d = [float(l.split("\t")[1]) for l in lines[:5]]
            assert d == sorted(d), "not best first: %r" % text
    except Exception as e:
        errs.append(repr(e))
def stat_others():
    n = 0
    try:
        while not done.is_set() or n < 100:
            i = ids[n % len(ids)]
            st = os.stat("%s/search/id=%d&k=7" % (C, i))
            assert st.st_size == 0, "stat of a name no one has open: %d" % st.st_size
            assert os.access("%s/search/id=%d&k=3" % (C, i), os.R_OK)
            assert not os.path.exists("%s/nosuch%d" % (C, i))
            n += 1
    except Exception as e:
        errs.append(repr(e))
ts = [threading.Thread(target=run, args=(ids[s::2],)) for s in range(2)]
st = threading.Thread(target=stat_others)
for t in ts + [st]: t.start()
for t in ts: t.join()
done.set()
st.join()
if errs:
    sys.exit("\n".join(errs))
EOF
searchers=$!
py "$M/ps/vectors" <<'EOF' || fail "inserts during searches"
import os, sys
import numpy as np
r = np.random.default_rng(3)
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
for w in range(40):
    rows = r.uniform(0, 100, size=(50, 128)).astype(np.float32)
    buf = "".join("%d\t%s\n" % (200000 + w * 50 + i, ",".join("%.9g" % x for x in v))
                  for i, v in enumerate(rows)).encode()
    assert os.write(fd, buf) == len(buf), "short write"
os.close(fd)
EOF
wait $searchers || fail "searches during inserts: $(cat "$T/searchers.err")"
expect_content "$M/ps/count" $((PS_LEFT + 2000))
expect_eq "$(grep -c '^2[0-9][0-9][0-9][0-9][0-9]	' "$M/ps/vectors")" 2000 "entities inserted during searches"
# each new one is found by its own vector, first, at 0
for i in 200000 200777 201999; do
	expect_eq "$(head -n 1 "$M/ps/search/id=$i&k=3")" "$i${TAB}0" "first hit of id=$i"
done

# --- a non-blocking writer returns at once; InProgress, then Finished ---------------
echo 1 >"$M/gc/release" || fail "release gc"
py "$M/gc/index" "$build_ms" <<'EOF' || fail "non-blocking build"
import os, sys, time
path, build_ms = sys.argv[1], int(sys.argv[2])
t = time.monotonic()
fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
os.write(fd, b"index_type=HNSW M=32 efConstruction=300\n")
os.close(fd)
took = (time.monotonic() - t) * 1000
# The write returned before the build ended: the state read next is
# InProgress (asserted below: seen), an outcome rather than a time.
seen, last = [], -1
while True:
    lines = open(path).read().split("\n")
    assert lines[:4] == ["index_type=HNSW", "metric_type=COSINE", "M=32", "efConstruction=300"], lines
    state, prog = lines[4], lines[5]
    assert prog.startswith("progress="), lines
    p = int(prog[9:])
    assert p >= last, "progress went back from %d to %d" % (last, p)
    last = p
    if state == "state=Finished":
        assert p == 100 and lines[6:] == [""], lines
        break
    assert state == "state=InProgress" and 0 <= p <= 99, lines
    seen.append(p)
    # (a build of M=32 takes a few times the ps build; under valgrind, minutes)
    limit = 60 + 10 * build_ms / 1000
    assert time.monotonic() - t < limit, "not Finished after %.0f s" % limit
    time.sleep(0.005)
assert seen, "never saw state=InProgress"
print("# O_NONBLOCK write and close: %.0f ms; InProgress seen %d times, progress %d..%d"
      % (took, len(seen), seen[0], seen[-1]))
EOF
expect_content "$M/gc/index" index_type=HNSW metric_type=COSINE M=32 efConstruction=300 \
	state=Finished progress=100
echo 1 >"$M/gc/load" || fail "load gc after the rebuild"
# shellcheck disable=SC2086
recall gc_m32 gc "" $GCARGS 0.95

# --- FLAT drops the index: exact again --------------------------------------------
echo "index_type=FLAT" >"$M/ps/index" || fail "FLAT on ps"
expect_content "$M/ps/index" index_type=FLAT metric_type=L2 state=Finished progress=100
# The entities inserted during the searches go, then the search is exact.
seq 200000 201999 >"$M/ps/delete" || fail "delete the random entities"
seq 200000 201999 >>"$T/deleted"
expect_content "$M/ps/count" "$PS_LEFT"
# shellcheck disable=SC2086
recall ps_flat ps "" $PSARGS 1 "$T/deleted"
echo 1 >"$M/gc/release" || fail "release gc"
echo "index_type=FLAT" >"$M/gc/index" || fail "FLAT on gc"
echo 1 >"$M/gc/load" || fail "load gc (FLAT)"
# shellcheck disable=SC2086
recall gc_flat gc "" $GCARGS 1
remount
wait_loaded ps
expect_content "$M/ps/index" index_type=FLAT metric_type=L2 state=Finished progress=100
same_bytes "$T/ps_flat" "$M/ps/search/batch.fvecs&k=10" || fail "FLAT results differ after a remount"
exit 0
