#!/bin/sh
# million.sh - 1,000,000 entities through a real mount (issue 16), the slow
# target `make check-million`, not part of make check: a 1,000,000 x 96
# clustered set (bench/mk_million.py, deterministic, exact ground truth
# for 1,000 queries) imported with `cat >> vectors.fvecs`; exact counts
# and stats; an HNSW build; recall@10 of the 1,000 queries as one batch
# against the exact ground truth; 1,000 deletes, never found again; release,
# remount, load of the stored index without a rebuild, the same recall;
# release.  About 1.5 GB of memory and 2 GB of disk under $TMPDIR; the
# build takes minutes.  MFS_MILLION_DATA=DIR keeps the set in DIR (made
# there when missing) instead of making it in the test's directory.
. "$(dirname "$0")/../fs/lib.sh"
N=1000000
MIN_RECALL=0.95
D=${MFS_MILLION_DATA:-$T/data}
if [ ! -f "$D/million96_groundtruth.ivecs" ]; then
	note "making the set in $D (bench/mk_million.py)"
	"$MFS_PYTHON" "$MFS_SRCDIR/bench/mk_million.py" "$D" --n "$N" ||
		fail "bench/mk_million.py $D"
fi
mfs_mount
C=$M/m
st() { sed -n "s/^$2=//p" "$1/stats"; }

mkdir "$C" || fail "mkdir"
echo "dim=96 metric_type=L2" >"$C/schema" || fail "schema"
cat "$D/million96_base.fvecs" >>"$C/_default/vectors.fvecs" || fail "import"
expect_eq "$(cat "$C/count")" "$N" "count after the import"
expect_eq "$(st "$C" entities)" "$N" "stats entities"
expect_eq "$(stat -c %s "$C/_default/vectors.fvecs")" $((N * 388)) \
	"st_size of vectors.fvecs"
echo "index_type=HNSW M=16 efConstruction=100" >"$C/index" || fail "index"
echo 1 >"$C/load" || fail "load"
expect_eq "$(cat "$C/state")" Loaded "state"
cat "$D/million96_query.fvecs" >"$C/search/q.fvecs" || fail "save the queries"

# recall FILE [DELETED]: recall@10 of the search answers in FILE against the
# ground truth (ids are positions + 1; deleted ids leave the truth and must
# not be found); every query has exactly 10 hits.
recall() {
	py "$1" "$D/million96_groundtruth.ivecs" "$MIN_RECALL" "${2:-}" <<'PYEOF'
import sys
import numpy as np
gt = np.fromfile(sys.argv[2], dtype="<i4").reshape(-1, 101)[:, 1:] + 1
dele = set(int(x) for x in open(sys.argv[4]).read().split()) if sys.argv[4] else set()
res, cur = [], []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line:
        res.append(cur)
        cur = []
        continue
    cur.append(int(line.split("\t")[0]))
if cur:
    res.append(cur)
bad = []
if len(res) != len(gt):
    bad.append("%d answers for %d queries" % (len(res), len(gt)))
hit = 0
for q, ids in enumerate(res):
    if len(ids) != 10:
        bad.append("query %d: %d hits" % (q, len(ids)))
    if dele & set(ids):
        bad.append("query %d: deleted ids %s found" % (q, sorted(dele & set(ids))[:5]))
    truth = [int(i) for i in gt[q] if int(i) not in dele][:10]
    hit += len(set(truth) & set(ids))
r = hit / (10.0 * len(gt))
print("# recall@10 %.4f" % r)
if r < float(sys.argv[3]):
    bad.append("recall@10 %.4f below %s" % (r, sys.argv[3]))
for b in bad[:10]:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
}
cat "$C/search/q.fvecs&k=10&ef=64" >"$T/s1" || fail "search"
recall "$T/s1" || fail "recall after the build"

# 1,000 deletes: the nearest neighbour of each of the first 1,000 queries
# (some repeat), then never found again.
py "$D/million96_groundtruth.ivecs" "$T/del" <<'PYEOF' || fail "delete list"
import sys
import numpy as np
gt = np.fromfile(sys.argv[1], dtype="<i4").reshape(-1, 101)[:, 1:] + 1
ids = sorted(set(int(x) for x in gt[:, 0]))
open(sys.argv[2], "w").write("".join("%d\n" % i for i in ids))
PYEOF
nd=$(wc -l <"$T/del" | tr -d ' ')
cat "$T/del" >"$C/delete" || fail "delete"
expect_eq "$(cat "$C/count")" $((N - nd)) "count after $nd deletes"
expect_eq "$(st "$C" deleted_pending)" "$nd" "deleted_pending"
cat "$C/search/q.fvecs&k=10&ef=64" >"$T/s2" || fail "search after the deletes"
recall "$T/s2" "$T/del" || fail "recall after the deletes"

echo 1 >"$C/release" || fail "release"
expect_eq "$(st "$C" memory_bytes)" 0 "memory_bytes after the release"
remount
expect_eq "$(cat "$C/count")" $((N - nd)) "count after the remount"
echo 1 >"$C/load" || fail "load after the remount"
expect_eq "$(st "$C" loaded_past_index)" 0 "loaded_past_index (no entity re-added)"
cat "$C/search/q.fvecs&k=10&ef=64" >"$T/s3" || fail "search after the remount"
recall "$T/s3" "$T/del" || fail "recall after the remount"
echo 1 >"$C/release" || fail "release at the end"
exit 0
