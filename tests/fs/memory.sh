#!/bin/sh
# memory.sh - a release gives the memory back to the system (SPEC §11):
# the daemon's RssAnon (/proc/PID/status) after loading FLAT and HNSW
# partitions, searching them and releasing them falls back to within 10%
# of what it was before the loads plus 8 MiB, and stays there over
# repeated load/release cycles.  Sizes, not timings.
. "$(dirname "$0")/lib.sh"
[ -r /proc/self/status ] || skip "no /proc"
mfs_mount
# Under AddressSanitizer its allocator, not glibc's, holds the heap and
# keeps what a release frees (quarantine, shadow): what this script checks
# is the release path of the plain build, where make check runs it too.
# The sanitizer build still runs every load, search and release.
if grep -q 'libasan' "/proc/$MFS_PID/maps" 2>/dev/null; then
	sanitized=1
	note "AddressSanitizer build: the loads, searches and releases run; the RssAnon bounds after release are checked by the plain build"
else
	sanitized=0
fi

# rss_kib: the daemon's anonymous resident memory in KiB.
rss_kib() { sed -n 's/^RssAnon:[^0-9]*\([0-9]*\) kB$/\1/p' "/proc/$MFS_PID/status"; }

# 60,000 x 64 floats (15 MiB of vectors) and 20 queries.
py "$T/a.fvecs" "$T/q.txt" <<'EOF'
import sys
import numpy as np
r = np.random.RandomState(16)
a = r.standard_normal((60000, 64)).astype("<f4")
rec = np.empty((a.shape[0], 65), dtype="<i4")
rec[:, 0] = 64
rec[:, 1:] = a.view("<i4")
rec.tofile(sys.argv[1])
with open(sys.argv[2], "w") as f:
    for q in r.standard_normal((20, 64)):
        f.write(",".join("%.4f" % x for x in q) + "\n")
EOF
C=$M/c
mkdir "$C" || fail "mkdir c"
cat "$T/a.fvecs" >>"$C/vectors.fvecs" || fail "import"
expect_content "$C/count" 60000
base=$(rss_kib)
[ -n "$base" ] || fail "no RssAnon for pid $MFS_PID"
note "RssAnon after the import: $base KiB"

# check_cycle WHAT: load, search (a batch and single queries), release;
# the load must have held at least 15 MiB, the release give it back.
check_cycle() {
	echo 1 >"$C/load" || fail "$1: load"
	{ printf 'k=10\n'; cat "$T/q.txt"; } >"$C/search/batch" || fail "$1: save batch"
	[ "$(grep -c . "$C/search/batch")" -eq 200 ] || fail "$1: batch search"
	for q in 7 777 7777; do
		[ "$(grep -c . "$C/search/id=$q")" -eq 10 ] ||
			fail "$1: single search id=$q"
	done
	rm "$C/search/batch" || fail "$1: rm batch"
	loaded=$(rss_kib)
	echo 1 >"$C/release" || fail "$1: release"
	released=$(rss_kib)
	note "$1: RssAnon loaded $loaded KiB, released $released KiB"
	[ $((loaded - base)) -ge 15360 ] ||
		fail "$1: the load held $((loaded - base)) KiB, expected >= 15 MiB"
	[ "$sanitized" -eq 1 ] || [ "$released" -le $((base + base / 10 + 8192)) ] ||
		fail "$1: RssAnon after release $released KiB > $base KiB + 10% + 8 MiB (loaded: $loaded KiB)"
}

check_cycle "FLAT 1"
check_cycle "FLAT 2"
echo "index_type=HNSW M=16 efConstruction=40" >"$C/index" || fail "HNSW"
check_cycle "HNSW 1"
check_cycle "HNSW 2"
echo "index_type=IVF_SQ8 nlist=64" >"$C/index" || fail "IVF_SQ8"
# IVF_SQ8 (a byte a dimension) holds under 15 MiB: the release alone.
echo 1 >"$C/load" || fail "IVF load"
echo 1 >"$C/release" || fail "IVF release"
released=$(rss_kib)
[ "$sanitized" -eq 1 ] || [ "$released" -le $((base + base / 10 + 8192)) ] ||
	fail "IVF_SQ8: RssAnon after release $released KiB > $base KiB + 10% + 8 MiB"
exit 0
