#!/bin/sh
# stats.sh - `stats` of collections and partitions against known counts
# (SPEC §11): entities, deleted_pending through deletes, upserts, builds
# and compactions, inserted_since_index, memory_bytes loaded and released,
# index_bytes, disk_bytes (exact for a collection without fields), state;
# loads after post-build inserts add none of them once a release or an
# unmount folded them into the stored index (loaded_past_index), and
# fewer than 65,536 after kill -9 (an insert folds them past that); errors.
. "$(dirname "$0")/lib.sh"
mfs_mount

# st FILE KEY: the value of KEY in FILE (a stats or compact file).
st() { sed -n "s/^$2=//p" "$1"; }
# expect_stat FILE KEY VALUE
expect_stat() {
	_v=$(st "$1" "$2")
	[ "$_v" = "$3" ] || fail "$1: $2: expected '$3', got '$_v'$NL$(cat "$1")"
}
C=$M/c
mkdir "$C" || fail "mkdir c"
echo "dim=4" >"$C/schema" || fail "schema"
mkdir "$C/p" || fail "mkdir c/p"

# Every key, in order, of an empty collection.
expect_content "$C/stats" entities=0 deleted_pending=0 inserted_since_index=0 \
	memory_bytes=0 index_bytes=0 disk_bytes=0 index_type=FLAT state=NotLoad \
	loaded_past_index=0

# 100 entities in _default (ids 1..100), 50 in p (ids 101..150).
py "$T/a.txt" "$T/b.txt" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(100):
        f.write("%d,%d,%d,%d\n" % (i % 7, i % 5, i % 3, i % 11))
with open(sys.argv[2], "w") as f:
    for i in range(50):
        f.write("%d,%d,%d,%d\n" % (i % 3, -(i % 5), i % 2, i % 13))
EOF
cat "$T/a.txt" >>"$C/vectors" || fail "insert 100"
cat "$T/b.txt" >>"$C/p/vectors" || fail "insert 50"

# A fieldless entity is 60 bytes in the database: ent key 12 + id 8 +
# 4 floats 16, idmap key 12 + value 12.
expect_stat "$C/_default/stats" entities 100
expect_stat "$C/_default/stats" disk_bytes 6000
expect_stat "$C/p/stats" entities 50
expect_stat "$C/p/stats" disk_bytes 3000
expect_stat "$C/stats" entities 150
expect_stat "$C/stats" disk_bytes 9000
expect_stat "$C/stats" index_bytes 0
expect_stat "$C/stats" deleted_pending 0
expect_stat "$C/stats" state NotLoad

# Deletes are pending (10 of 110: under the automatic mark); unknown
# ids count nothing.
seq 1 10 >"$C/delete" || fail "delete 1..10"
echo "999 1 2" >"$C/delete" || fail "delete known-deleted and unknown"
expect_stat "$C/_default/stats" entities 90
expect_stat "$C/_default/stats" deleted_pending 10
expect_stat "$C/_default/stats" disk_bytes 5400
expect_stat "$C/p/stats" deleted_pending 0
expect_stat "$C/stats" deleted_pending 10
expect_stat "$C/stats" entities 140

# Loaded: memory is held (FLAT keeps 90 vectors: 1,440 bytes at least),
# and only where loaded.
echo 1 >"$C/_default/load" || fail "load _default"
m=$(st "$C/_default/stats" memory_bytes)
[ "$m" -ge 1440 ] || fail "memory_bytes of loaded _default: $m < 1440"
expect_stat "$C/_default/stats" state Loaded
expect_stat "$C/p/stats" memory_bytes 0
expect_stat "$C/stats" state NotLoad
expect_stat "$C/stats" memory_bytes "$m"
expect_stat "$C/stats" inserted_since_index 0

# An HNSW build stores an index that holds no deleted entity.
echo "index_type=HNSW M=8 efConstruction=32" >"$C/index" || fail "HNSW"
expect_stat "$C/stats" index_type HNSW
expect_stat "$C/stats" deleted_pending 0
expect_stat "$C/stats" inserted_since_index 0
ib=$(st "$C/_default/stats" index_bytes)
[ "$ib" -gt 0 ] || fail "index_bytes after the build: $ib"
db=$(st "$C/_default/stats" disk_bytes)
expect_eq "$db" $((5400 + ib)) "disk_bytes = entities + index"

# 30 inserts after the build are not in the stored index; 5 upserts
# replace 5 entities (pending deletes) by 5 new ones.
head -n 30 "$T/b.txt" >>"$C/vectors" || fail "insert 30"
expect_stat "$C/_default/stats" inserted_since_index 30
expect_stat "$C/_default/stats" entities 120
printf '20\t1,1,1,1\n21\t2,2,2,2\n22\t3,3,3,3\n23\t4,4,4,4\n24\t5,5,5,5\n' \
	>"$C/upsert" || fail "upsert 5"
expect_stat "$C/_default/stats" entities 120
expect_stat "$C/_default/stats" deleted_pending 5
expect_stat "$C/_default/stats" inserted_since_index 35
expect_stat "$C/stats" inserted_since_index 35

# A release folds them into the stored index: the next load adds none.
echo 1 >"$C/_default/release" || fail "release _default"
expect_stat "$C/_default/stats" inserted_since_index 0
expect_stat "$C/_default/stats" memory_bytes 0
expect_stat "$C/_default/stats" state NotLoad
echo 1 >"$C/_default/load" || fail "load _default again"
expect_stat "$C/_default/stats" loaded_past_index 0
expect_stat "$C/_default/stats" entities 120
expect_eq "$(cut -f1 "$C/_default/search/5,5,5,5&k=1")" 24 "upserted 24 found"

# Inserts into a released partition cannot be folded: the load adds them.
echo 1 >"$C/_default/release" || fail "release"
head -n 17 "$T/a.txt" >>"$C/vectors" || fail "insert 17 released"
expect_stat "$C/_default/stats" inserted_since_index 17
echo 1 >"$C/_default/load" || fail "load"
expect_stat "$C/_default/stats" loaded_past_index 17
expect_stat "$C/stats" loaded_past_index 17

# An unmount folds them too: the reload at mount adds none.
echo 1 >"$C/p/load" || fail "load p"
head -n 9 "$T/a.txt" >>"$C/p/vectors" || fail "insert 9 into p"
expect_stat "$C/p/stats" inserted_since_index 9
expect_stat "$C/stats" inserted_since_index 26
remount
wait_loaded "$C"
expect_stat "$C/stats" inserted_since_index 0
expect_stat "$C/stats" loaded_past_index 0
expect_stat "$C/stats" entities 196
expect_stat "$C/stats" deleted_pending 5
expect_stat "$C/stats" state Loaded
expect_eq "$(grep -c 'no saved HNSW index, building it' "$T/log")" 0 "loads that built"
m=$(st "$C/stats" memory_bytes)
[ "$m" -gt 0 ] || fail "memory_bytes after the reload: $m"

# compact takes `1`; reads Idle with no run yet; only at a collection.
expect_content "$C/compact" state=Idle progress=100 runs=0
expect_logged EINVAL /c/compact write "$C/compact" 'yes\n'
case "$LAST_ERROR" in
*"expected 1, got 'yes'"*) ;;
*) fail "compact error line: $LAST_ERROR" ;;
esac
expect_content "$C/compact" state=Idle progress=100 runs=0
expect_errno ENOENT read "$C/p/compact"
expect_errno EACCES open "$C/stats" w
expect_errno EACCES open "$C/p/stats" w
expect_errno ENOENT read "$M/nope/stats"
expect_errno ENOENT read "$C/nope/stats"

# A compaction empties deleted_pending and shrinks the stored index.
ib=$(st "$C/_default/stats" index_bytes)
echo 1 >"$C/compact" || fail "compact"
expect_stat "$C/stats" deleted_pending 0
expect_stat "$C/compact" runs 1
expect_stat "$C/compact" last_trigger manual
expect_stat "$C/compact" last_removed 5
expect_stat "$C/compact" last_partitions 1
expect_stat "$C/stats" entities 196
echo 1 >"$C/compact" || fail "compact with nothing to do"
expect_stat "$C/compact" runs 2
expect_stat "$C/compact" last_removed 0
expect_stat "$C/compact" last_partitions 0
echo 1 >"$C/release" || fail "release c"
expect_stat "$C/stats" memory_bytes 0

# Inserts into a loaded partition are folded into the stored index once
# 65,536 of them are past it, so even a load after kill -9 adds fewer.
B=$M/big
mkdir "$B" || fail "mkdir big"
echo "dim=4" >"$B/schema" || fail "big: schema"
head -n 50 "$T/a.txt" >>"$B/vectors" || fail "big: insert 50"
echo "index_type=HNSW M=4 efConstruction=8" >"$B/index" || fail "big: HNSW"
echo 1 >"$B/load" || fail "big: load"
py "$T/big.txt" <<'EOF'
import sys
import numpy as np
a = np.random.RandomState(5).randint(-50, 50, (70000, 4))
np.savetxt(sys.argv[1], a, fmt="%d", delimiter=",")
EOF
cat "$T/big.txt" >>"$B/vectors" || fail "big: insert 70000"
expect_stat "$B/stats" entities 70050
left=$(st "$B/stats" inserted_since_index)
[ "$left" -gt 0 ] && [ "$left" -lt 65536 ] ||
	fail "big: inserted_since_index after 70,000 inserts: $left, expected 1..65535"
grep -q 'partition _default: the entities inserted since the stored index (seq 50 to [0-9]*) folded into it' "$T/log" ||
	fail "big: no fold in the log"
kill -KILL "$MFS_PID"
wait "$MFS_PID"
MFS_PID=
_n=0
while is_mounted; do
	_n=$((_n + 1))
	[ $_n -lt 200 ] || fail "the killed daemon's mount is still there after 10 s"
	sleep 0.05
done
mfs_mount
wait_loaded "$B"
expect_stat "$B/stats" loaded_past_index "$left"
expect_stat "$B/stats" entities 70050
expect_eq "$(grep -c 'no saved HNSW index, building it' "$T/log")" 0 "loads that built"
exit 0
