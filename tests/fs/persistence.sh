#!/bin/sh
# persistence.sh - everything survives an unmount: data, schema, partitions,
# deletes, saved queries, load state; auto ids are not reused (SPEC §1, §4,
# §5, §6).
. "$(dirname "$0")/lib.sh"
mfs_mount

C=$M/pc
mkdir "$C" "$C/a" "$C/b" || fail "mkdir"
echo "dim=4 metric_type=IP description=kept across mounts" >"$C/schema" || fail "schema"
printf '1 0 0 0\n0 1 0 0\n0 0 1 0\n' >>"$C/vectors" || fail "insert _default"
printf '0.5 0.5 0 0\n0.25 0 0.75 0\n' >>"$C/a/vectors" || fail "insert a"
printf '100\t0,0,0,1\n' >>"$C/b/vectors" || fail "insert b"
printf '0 0 0.5 0.5\n' >>"$C/b/vectors" || fail "insert b (auto id after 100)"
echo 2 >"$C/delete" || fail "delete 2"
mkdir "$M/other" || fail "mkdir other"
printf '1,2\n' >>"$M/other/vectors" || fail "insert into other"
printf 'k=2\n1,0,0,0\n' >"$C/search/q_text" || fail "save q_text"
printf 'k=3\nformat=json\n0,0,1,1\n' >"$C/a/search/q_part" || fail "save a/search/q_part"
py "$C/search/q.fvecs" <<'EOF' || fail "save q.fvecs"
import struct, sys
with open(sys.argv[1], "wb") as f:
    for v in ([1, 0, 0, 0], [0, 0, 0, 1]):
        f.write(struct.pack("<i4f", 4, *v))
EOF
echo 1 >"$C/a/load" || fail "load a"
echo 1 >"$C/b/load" || fail "load b"

snapshot() {
	for f in "$M/other/schema" "$M/other/count" "$M/other/vectors" \
		"$C/schema" "$C/count" "$C/partitions" "$C/vectors" "$C/state" \
		"$C/_default/ids" "$C/a/ids" "$C/b/ids" "$C/_default/state" "$C/a/state" "$C/b/state" \
		"$C/entities/1" "$C/entities/100" "$C/search/q_text" "$C/a/search/q_part" \
		"$C/search/q.fvecs"; do
		echo "== $f"
		cat "$f" || echo "cat failed"
	done
	echo "== ls"
	ls "$M" "$C" "$C/search" "$C/a/search" "$C/entities"
	echo "== fvecs"
	od -An -tx1 "$C/vectors.fvecs"
}
snapshot >"$T/before"
grep -q 'cat failed' "$T/before" && fail "snapshot before the unmount: $(grep -B1 'cat failed' "$T/before")"
expect_content "$C/count" 6
expect_content "$C/search/q_text" "4${TAB}0.5" "5${TAB}0.25"

# Twice, so that what a mount restored is itself saved again.
for round in 1 2; do
	remount
	n=0
	while grep -qx Loading "$C/a/state" "$C/b/state"; do
		n=$((n + 1))
		[ $n -lt 600 ] || fail "still Loading 30 s after the remount"
		sleep 0.05
	done
	snapshot >"$T/after"
	cmp -s "$T/before" "$T/after" ||
		fail "round $round: the filesystem differs after a remount:$NL$(diff "$T/before" "$T/after")"
done
expect_content "$C/a/state" Loaded
expect_content "$C/_default/state" NotLoad

# Auto ids keep increasing across mounts: a new one is above every id
# assigned before (101), even the deleted ones.
printf '0 1 1 0\n' >>"$C/vectors" || fail "insert after remount"
new=$(tail -n 1 "$C/_default/ids")
[ "$new" -gt 101 ] || fail "auto id after remount is $new, expected above 101"
expect_content "$C/count" 7
exit 0
