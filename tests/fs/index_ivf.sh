#!/bin/sh
# index_ivf.sh - IVF indexes through the mount (SPEC §5, §6) on an L2 set
# (the synthetic syn128; photosift128 too when present): IVF_FLAT at
# nprobe = nlist gives exactly the FLAT results, IVF_SQ8 and IVF_PQ reach
# their recall at nprobe=32, `cat index` shows the parameters with their
# defaults, a built index survives a remount without retraining (the log
# says so), inserts after the build are found, deleted entities are never
# returned, and bad parameters, metrics and types fail with EINVAL and a
# /.errors line, leaving the index as it was.
. "$(dirname "$0")/lib.sh"
# All of the L2 set, also under MFS_SMALL (with 6,000 of photosift128 some
# of the 128 lists hold fewer than 10 entities).
MFS_SMALL=
data_sets
# PS_DEL: base entities deleted at random below (a tenth); PS_LEFT: the rest
PS_DEL=$((PS_NB / 10))
PS_LEFT=$((PS_NB - PS_DEL))
mfs_mount

# ann.py RESULT BASE NBASE QUERY GT METRIC K MIN EXACT [DELETED]: RESULT (a
# TSV batch answer, one block per row of QUERY) has K hits per query,
# distinct, best first, none listed in DELETED, ids in 1..NBASE (id =
# position + 1 in BASE); when EXACT is 1 each distance is its id's exact
# one (IVF_SQ8 and IVF_PQ give approximate distances, as Milvus does);
# recall@K against the ground truth GT with the deleted positions filtered
# out is at least MIN (a hit as good as the K-th true neighbour counts, for
# ties).  Prints the recall.
cat >"$T/ann.py" <<'EOF'
import sys
import numpy as np

res_f, base_f, nbase, query_f, gt_f, metric, k, lo, exact = sys.argv[1:10]
nbase, k, lo, exact = int(nbase), int(k), float(lo), exact == "1"
deleted = set()
if len(sys.argv) > 10:
    with open(sys.argv[10]) as f:
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
# every score at once: squared L2 or (cosine) similarity, in float64
S = queries @ base.T
if not higher:
    S = (base ** 2).sum(axis=1)[None, :] - 2 * S + (queries ** 2).sum(axis=1)[:, None]
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
        if exact and not close(d, s[i - 1]):
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

# same_hits A B: the TSV answers A and B hold the same ids in the same
# order, with distances equal to 1e-6 relative.
cat >"$T/same_hits.py" <<'EOF'
import sys
a, b = (open(p).read().split("\n") for p in sys.argv[1:3])
if len(a) != len(b):
    sys.exit("%d lines against %d" % (len(a), len(b)))
for n, (x, y) in enumerate(zip(a, b)):
    if x == y:
        continue
    xi, _, xd = x.partition("\t")
    yi, _, yd = y.partition("\t")
    if xi != yi or abs(float(xd) - float(yd)) > 1e-6 * max(1.0, abs(float(yd))):
        sys.exit("line %d: %r against %r" % (n + 1, x, y))
EOF
same_hits() {
	"$MFS_PYTHON" "$T/same_hits.py" "$1" "$2" 2>"$T/same_hits.err" ||
		fail "$3: $(cat "$T/same_hits.err")"
}

PSARGS="$PS_BASE $PS_NB $PS_QUERY $PS_GT L2"
# recall NAME SUFFIX MIN EXACT [DELETED]: read ps/search/batch.fvecs&k=10SUFFIX
# into $T/NAME, check it with ann.py; the recall goes into $T/NAME.recall.
recall() {
	cat "$M/ps/search/batch.fvecs&k=10$2" >"$T/$1" 2>"$T/cat.err" ||
		fail "$1: cat ps/search/batch.fvecs&k=10$2: $(cat "$T/cat.err")"
	# shellcheck disable=SC2086
	"$MFS_PYTHON" "$T/ann.py" "$T/$1" $PSARGS 10 "$3" "$4" $5 >"$T/$1.recall" ||
		fail "$1: search of ps with '&k=10$2'"
	note "$1: recall@10 = $(cat "$T/$1.recall")"
}

# below A B: the recall in $T/A.recall is below the one in $T/B.recall.
below() {
	awk -v a="$(cat "$T/$1.recall")" -v b="$(cat "$T/$2.recall")" 'BEGIN { exit !(a < b) }' ||
		fail "recall of $1 ($(cat "$T/$1.recall")) is not below that of $2 ($(cat "$T/$2.recall"))"
}

# insert_queries FIRST COUNT ID0: queries FIRST.. (COUNT of them) inserted into
# ps with ids ID0.., and saved as ps/search/new_ID0.fvecs.
insert_queries() {
	py "$PS_QUERY" "$T/new_$3.fvecs" "$1" "$2" "$3" >"$T/new_$3.txt" <<'EOF' ||
import sys
import numpy as np
first, count, id0 = (int(x) for x in sys.argv[3:6])
a = np.fromfile(sys.argv[1], dtype="<i4")
a = a.reshape(-1, a[0] + 1)[first:first + count]
a.tofile(sys.argv[2])
for i, row in enumerate(a[:, 1:].view("<f4")):
    print("%d\t%s" % (id0 + i, ",".join("%.9g" % x for x in row)))
EOF
		fail "making the insert of queries $1.."
	cat "$T/new_$3.txt" >>"$M/ps/vectors" || fail "insert queries $1.. as ids $3.. into the loaded ps"
	cp "$T/new_$3.fvecs" "$M/ps/search/new_$3.fvecs" || fail "save new_$3.fvecs"
}

# first_hits ANSWER ID0 EXACT: in the batch ANSWER, query i's first hit is
# ID0 + i, at distance 0 when EXACT is 1.
first_hits() {
	py "$1" "$2" "$3" <<'EOF' || fail "entities inserted after the build not found first ($1)"
import sys
blocks = open(sys.argv[1]).read()[:-1].split("\n\n")
id0, exact = int(sys.argv[2]), sys.argv[3] == "1"
for i, b in enumerate(blocks):
    lines = [l.split("\t") for l in b.split("\n")]
    assert lines[0][0] == str(id0 + i), "query %d: first hit %r, expected id %d" % (i, lines[0], id0 + i)
    assert not exact or lines[0][1] == "0", "query %d: first hit %r, expected distance 0" % (i, lines[0])
    assert len(lines) < 2 or float(lines[0][1]) < float(lines[1][1]), "query %d: %r" % (i, lines[:2])
EOF
}

# --- FLAT, the exact answer --------------------------------------------------------
mkdir "$M/ps" || fail "mkdir ps"
echo "dim=128 metric_type=L2" >"$M/ps/schema" || fail "schema of ps"
cat "$PS_BASE" >>"$M/ps/vectors.fvecs" || fail "import $PS_NAME"
expect_content "$M/ps/count" "$PS_NB"
echo 1 >"$M/ps/load" || fail "load ps"
cp "$PS_QUERY" "$M/ps/search/batch.fvecs" || fail "save the $PS_NAME batch"
recall flat "" 1 1

# --- IVF_FLAT: nprobe = nlist is FLAT --------------------------------------------------
echo "index_type=IVF_FLAT nlist=128" >"$M/ps/index" || fail "IVF_FLAT build on ps"
expect_content "$M/ps/index" index_type=IVF_FLAT metric_type=L2 nlist=128 state=Finished progress=100
recall ivf_flat128 "&nprobe=128" 1 1
same_hits "$T/ivf_flat128" "$T/flat" "IVF_FLAT nprobe=128 against FLAT"
recall ivf_flat1 "&nprobe=1" 0 1
below ivf_flat1 ivf_flat128
# inserted after the build: in the list a query meets first (nprobe=1)
insert_queries 0 20 100001
expect_content "$M/ps/count" $((PS_NB + 20))
cat "$M/ps/search/new_100001.fvecs&k=3&nprobe=1" >"$T/ivf_flat_new" || fail "search new_100001.fvecs"
first_hits "$T/ivf_flat_new" 100001 1
# deleted: a tenth of the base entities chosen at random, and the 20 new ones
py "$PS_NB" "$PS_DEL" >"$T/deleted" <<'EOF'
import random, sys
n, ndel = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(11)
ids = r.sample(range(1, n + 1), ndel) + list(range(100001, 100021))
print(" ".join(str(i) for i in ids))
EOF
cat "$T/deleted" >"$M/ps/delete" || fail "delete $((PS_DEL + 20)) ids"
expect_content "$M/ps/count" "$PS_LEFT"
recall ivf_flat_del "&nprobe=128" 1 1 "$T/deleted"
recall ivf_flat_del32 "&nprobe=32" 0.9 1 "$T/deleted"
echo 1 >"$M/ps/release" || fail "release ps"
echo "index_type=FLAT" >"$M/ps/index" || fail "FLAT on ps"
expect_content "$M/ps/index" index_type=FLAT metric_type=L2 state=Finished progress=100
echo 1 >"$M/ps/load" || fail "load ps (FLAT)"
recall flat_del "" 1 1 "$T/deleted"
same_hits "$T/ivf_flat_del" "$T/flat_del" "IVF_FLAT nprobe=128 against FLAT after the delete"

# --- IVF_SQ8 ---------------------------------------------------------------------------
echo "index_type=IVF_SQ8" >"$M/ps/index" || fail "IVF_SQ8 build on ps"
expect_content "$M/ps/index" index_type=IVF_SQ8 metric_type=L2 nlist=128 state=Finished progress=100
recall sq8 "&nprobe=32" 0.9 0 "$T/deleted"
insert_queries 20 20 100101
cat "$M/ps/search/new_100101.fvecs&k=3&nprobe=32" >"$T/sq8_new" || fail "search new_100101.fvecs"
first_hits "$T/sq8_new" 100101 0

# the new ones go; IVF_PQ is built over the base alone
seq 100101 100120 >"$M/ps/delete" || fail "delete 100101-100120"
seq 100101 100120 >>"$T/deleted"
expect_content "$M/ps/count" "$PS_LEFT"

# --- IVF_PQ: defaults shown, persistence without retraining ---------------------------
t0=$(now_ms)
echo "index_type=IVF_PQ m=32" >"$M/ps/index" || fail "IVF_PQ build on ps"
build_ms=$(($(now_ms) - t0))
note "IVF_PQ build: $build_ms ms"
PQ_INDEX="index_type=IVF_PQ${NL}metric_type=L2${NL}nlist=128${NL}m=32${NL}nbits=8${NL}state=Finished${NL}progress=100"
expect_content "$M/ps/index" "$PQ_INDEX"
recall pq "&nprobe=32" 0.5 0 "$T/deleted"
recall pq1 "&nprobe=1" 0 0 "$T/deleted"
below pq1 pq
mfs_unmount || fail "unmount"
log0=$(wc -l <"$T/log")
t0=$(now_ms)
mfs_mount
wait_loaded ps
reload_ms=$(($(now_ms) - t0))
note "mount until loaded: $reload_ms ms (the IVF_PQ build took $build_ms ms)"
# A load that builds (trains) an index says so in the log ("building it",
# or "rebuilding" when the stored one is unusable): the outcome, not a time.
sed -n "$((log0 + 1)),\$p" "$T/log" | grep -q 'building it\|rebuilding' &&
	fail "the IVF_PQ index was retrained at the remount: $(sed -n "$((log0 + 1)),\$p" "$T/log" | grep 'building')"
expect_content "$M/ps/index" "$PQ_INDEX"
same_bytes "$T/pq" "$M/ps/search/batch.fvecs&k=10&nprobe=32" ||
	fail "IVF_PQ results differ after the remount"
# inserted after the build: found first (PQ distances are approximate)
insert_queries 40 10 100201
expect_content "$M/ps/count" $((PS_LEFT + 10))
cat "$M/ps/search/new_100201.fvecs&k=3&nprobe=32" >"$T/pq_new" || fail "search new_100201.fvecs"
first_hits "$T/pq_new" 100201 0
for i in 100201 100205 100210; do
	expect_eq "$(head -n 1 "$M/ps/search/id=$i&k=1&nprobe=32" | cut -f1)" "$i" "IVF_PQ id=$i first hit"
done
# and still after a remount
remount
wait_loaded ps
same_bytes "$T/pq_new" "$M/ps/search/new_100201.fvecs&k=3&nprobe=32" ||
	fail "IVF_PQ results for the entities inserted after the build differ after a remount"
# deleted after the build: never returned
seq 100201 100210 >"$M/ps/delete" || fail "delete 100201-100210"
seq 100201 100210 >>"$T/deleted"
expect_content "$M/ps/count" "$PS_LEFT"
cat "$M/ps/search/new_100201.fvecs&k=10&nprobe=128" >"$T/pq_new_del" || fail "search new_100201.fvecs"
cut -f1 "$T/pq_new_del" | grep -x '1002[01][0-9]' >"$T/back" &&
	fail "deleted ids found again: $(head -n 5 "$T/back" | tr '\n' ' ')"
recall pq_del "&nprobe=32" 0.5 0 "$T/deleted"

# --- errors: EINVAL, one /.errors line, the index unchanged --------------------------
for p in "IVF_PQ m=7" "IVF_PQ m=0" "IVF_PQ m=256" "IVF_PQ nbits=0" "IVF_PQ nbits=17" \
	"IVF_FLAT nlist=0" "IVF_FLAT nlist=65537" "IVF_SQ8 nlist=-1" "IVF_FLAT nlist=abc" \
	"IVF_FLAT metric_type=IP" "IVF_FLAT metric_type=HAMMING" "BIN_IVF_FLAT" "BIN_FLAT" \
	"IVF_FLAT nlsit=256" "IVF_SQ8 m=4"; do
	expect_logged EINVAL /ps/index write "$M/ps/index" "index_type=$p\n"
	expect_content "$M/ps/index" "$PQ_INDEX"
done
expect_logged EINVAL '/ps/search/id=1&nprobe=129' read "$M/ps/search/id=1&nprobe=129"
expect_logged EINVAL '/ps/search/id=1&nprobe=0' read "$M/ps/search/id=1&nprobe=0"
expect_logged EINVAL '/ps/search/batch.fvecs&nprobe=x' read "$M/ps/search/batch.fvecs&nprobe=x"
expect_ok read "$M/ps/search/id=1&nprobe=128"
# the limits themselves are accepted
echo 1 >"$M/ps/release" || fail "release ps"
echo "index_type=IVF_FLAT nlist=1" >"$M/ps/index" || fail "IVF_FLAT nlist=1"
expect_content "$M/ps/index" index_type=IVF_FLAT metric_type=L2 nlist=1 state=Finished progress=100
echo 1 >"$M/ps/load" || fail "load ps (nlist=1)"
expect_logged EINVAL '/ps/search/id=1&nprobe=2' read "$M/ps/search/id=1&nprobe=2"
recall nlist1 "&nprobe=1" 1 1 "$T/deleted"

# --- too few entities to train (SPEC §5): cat index says so, search is exact ---------
# IVF_FLAT nlist=8 trains at 39 x 8 = 312 entities; few has 200 of them.
mkdir "$M/few" || fail "mkdir few"
head -c $((200 * 516)) "$PS_BASE" >>"$M/few/vectors.fvecs" || fail "import into few"
echo "index_type=IVF_FLAT nlist=8" >"$M/few/index" || fail "IVF_FLAT on few"
FEW_INDEX="index_type=IVF_FLAT${NL}metric_type=L2${NL}nlist=8${NL}state=Finished${NL}progress=100"
expect_content "$M/few/index" "$FEW_INDEX" trained=false train_min=312 untrained_entities=200
echo 1 >"$M/few/load" || fail "load few"
expect_content "$M/few/index" "$FEW_INDEX" trained=false train_min=312 untrained_entities=200
# what `cat index` shows is accepted back (the shown-only keys are ignored)
cat "$M/few/index" >"$T/few.index" || fail "cat few/index"
expect_ok writefile "$M/few/index" "$T/few.index"
# exact: at nprobe=1 the 10 nearest of entity 1 are brute force's
cat "$M/few/search/id=1&k=10&nprobe=1" >"$T/few.res" || fail "search few"
py "$PS_BASE" "$T/few.res" <<'EOF' || fail "an untrained IVF_FLAT search is not exact"
import sys
import numpy as np
a = np.fromfile(sys.argv[1], dtype="<i4")
a = a.reshape(-1, a[0] + 1)[:200, 1:].view("<f4").astype(np.float64)
d = ((a - a[0]) ** 2).sum(axis=1)
rows = [l.split("\t") for l in open(sys.argv[2])]
got = [int(r[0]) for r in rows]
assert len(got) == 10 and len(set(got)) == 10, got
# the k-th true distance bounds every hit (ties may swap ids)
kth = np.sort(d)[9]
assert all(d[i - 1] <= kth * (1 + 1e-6) for i in got), (got, kth)
for r, i in zip(rows, got):
    assert abs(float(r[1]) - d[i - 1]) <= 1e-3 * max(1.0, d[i - 1]), (r, d[i - 1])
EOF
# 112 more make 312: it trains, and says nothing more
head -c $((312 * 516)) "$PS_BASE" | tail -c $((112 * 516)) >>"$M/few/vectors.fvecs" ||
	fail "import 112 more into few"
expect_content "$M/few/count" 312
expect_content "$M/few/index" "$FEW_INDEX"
echo 1 >"$M/few/release" || fail "release few"
expect_content "$M/few/index" "$FEW_INDEX"
# IVF_PQ needs 2^nbits entities when that is more than 39 x nlist
echo "index_type=IVF_PQ nlist=4 m=8 nbits=10" >"$M/few/index" || fail "IVF_PQ on few"
expect_content "$M/few/index" index_type=IVF_PQ metric_type=L2 nlist=4 m=8 nbits=10 \
	state=Finished progress=100 trained=false train_min=1024 untrained_entities=312

# binary metrics on float vectors, float indexes on binary vectors
mkdir "$M/fb" "$M/bin" || fail "mkdir fb bin"
for s in "dim=128 metric_type=HAMMING" "dim=128 vector_type=FLOAT_VECTOR metric_type=JACCARD" \
	"dim=128 metric_type=TANIMOTO"; do
	expect_logged EINVAL /fb/schema write "$M/fb/schema" "$s\n"
done
expect_content "$M/fb/schema" dim=0 metric_type=L2 vector_type=FLOAT_VECTOR description=
echo "dim=64 vector_type=BINARY_VECTOR metric_type=HAMMING" >"$M/bin/schema" || fail "schema of bin"
printf '%s\n' 0123456789abcdef fedcba9876543210 >>"$M/bin/vectors" || fail "insert into bin"
for t in IVF_FLAT IVF_SQ8 "IVF_PQ m=8" HNSW; do
	expect_logged EINVAL /bin/index write "$M/bin/index" "index_type=$t\n"
	expect_content "$M/bin/index" index_type=BIN_FLAT metric_type=HAMMING state=Finished progress=100
done
exit 0
