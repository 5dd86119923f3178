#!/bin/sh
# shrink.sh - data.mdb gives back its free pages at mount (src/store/env.c,
# "the file shrinks at open"): 60,000 entities with an HNSW index, 54,000
# of them deleted and the partition compacted; at the next mount the file
# is rewritten and at most half its size, with the same entities (vectors
# read back byte for byte), the same search answers, the index still
# loading from its stored blob, inserts and deletes working; a mount with
# few free pages does not rewrite; a copy a crash left is removed.
. "$(dirname "$0")/lib.sh"
mfs_mount

size() { stat -c %s "$DB/data.mdb"; }
rewrites() { grep -c 'data.mdb rewritten without' "$T/log"; }

# 60,000 x 32 floats (7.3 MiB of vectors) and 5 queries.
py "$T/a.fvecs" "$T/q.txt" "$T/del.txt" <<'EOF'
import sys
import numpy as np
r = np.random.RandomState(11)
a = r.standard_normal((60000, 32)).astype("<f4")
rec = np.empty((a.shape[0], 33), dtype="<i4")
rec[:, 0] = 32
rec[:, 1:] = a.view("<i4")
rec.tofile(sys.argv[1])
with open(sys.argv[2], "w") as f:
    for q in r.standard_normal((5, 32)):
        f.write(",".join("%.4f" % x for x in q) + "\n")
keep = set(r.choice(np.arange(1, 60001), 6000, replace=False).tolist())
with open(sys.argv[3], "w") as f:
    f.write("".join("%d\n" % i for i in range(1, 60001) if i not in keep))
EOF
C=$M/c
mkdir "$C" || fail "mkdir c"
echo "dim=32 metric_type=L2" >"$C/schema" || fail "schema"
cat "$T/a.fvecs" >>"$C/vectors.fvecs" || fail "import"
echo "index_type=HNSW M=8 efConstruction=40" >"$C/index" || fail "index"
cat "$T/del.txt" >"$C/delete" || fail "delete"
echo 1 >"$C/compact" || fail "compact"
expect_eq "$(cat "$C/count")" 6000 "count after the deletes"
echo 1 >"$C/load" || fail "load"
cat "$T/q.txt" >"$C/search/q" || fail "save query"
cat "$C/search/q&k=10&ef=200" >"$T/s1" || fail "search before"
cat "$C/vectors" >"$T/v1" || fail "read vectors before"
expect_eq "$(wc -l <"$T/v1" | tr -d ' ')" 6000 "vectors lines before"
before=$(size)
remount
after=$(size)
note "data.mdb $before -> $after bytes"
[ "$after" -le $((before / 2)) ] ||
	fail "data.mdb $after bytes after the remount, expected at most half of $before"
expect_eq "$(rewrites)" 1 "rewrites logged"
[ ! -e "$DB/data.mdb.shrink" ] && [ ! -e "$DB/data.mdb.shrink-lock" ] ||
	fail "the copy's files were left in $DB: $(ls "$DB")"
expect_eq "$(cat "$C/count")" 6000 "count after the remount"
cat "$C/vectors" >"$T/v2" || fail "read vectors after"
cmp -s "$T/v1" "$T/v2" || fail "vectors differ after the rewrite: $(diff "$T/v1" "$T/v2" | head -5)"
echo 1 >"$C/load" || fail "load after the remount"
grep -q '^loaded_past_index=0$' "$C/stats" ||
	fail "the load rebuilt or re-added entities:$NL$(cat "$C/stats")"
cat "$C/search/q&k=10&ef=200" >"$T/s2" || fail "search after"
cmp -s "$T/s1" "$T/s2" || fail "search answers differ after the rewrite"
# Writes go on in the new file.
printf '70000\t%s\n' "$(head -n 1 "$T/q.txt")" >>"$C/vectors" ||
	fail "insert after the rewrite"
expect_eq "$(cat "$C/count")" 6001 "count after an insert"
id=$(head -n 1 "$T/v1" | cut -f 1)
echo "$id" >"$C/delete" || fail "delete $id"
expect_eq "$(cat "$C/count")" 6000 "count after a delete"

# Few free pages: no rewrite.  A copy left by a crash is removed.
echo junk >"$DB/data.mdb.shrink"
echo junk >"$DB/data.mdb.shrink-lock"
remount
expect_eq "$(rewrites)" 1 "rewrites logged after the second remount"
[ ! -e "$DB/data.mdb.shrink" ] && [ ! -e "$DB/data.mdb.shrink-lock" ] ||
	fail "a crash's copy was not removed: $(ls "$DB")"
expect_eq "$(cat "$C/count")" 6000 "count after the second remount"
exit 0
