#!/bin/sh
# memory.sh - a release gives the memory back to the system (SPEC §11):
# the daemon's RssAnon (/proc/PID/status) after loading FLAT and HNSW
# partitions, searching them and releasing them falls back to within 10%
# of what it was before the loads plus 8 MiB, and stays there over
# repeated load/release cycles; names of inline queries, opened or only
# looked up, are forgotten; a partition's columns do not keep its deleted
# entities.  Sizes, not timings.
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
py_vecs "$T/a.fvecs" "$T/q.txt" <<'EOF'
r = np.random.RandomState(16)
write_fvecs(sys.argv[1], r.standard_normal((60000, 64)))
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

# Distinct inline names: each is searched once, and its name must not stay
# in the daemon (libfuse keeps a node for every name the kernel holds):
# after 2,000 names to warm up, 20,000 more grow RssAnon by at most 2 MiB
# (about 200 bytes a name were kept: 3.9 MiB).  Every search answers its k.
D=$M/d
mkdir "$D" || fail "mkdir d"
printf '0 0 0 0\n0 1 0 0\n0 0 1 0\n' >>"$D/vectors" || fail "insert d"
echo 1 >"$D/load" || fail "load d"
# names N..N+COUNT-1: "N.5,1,0,0&k=2" in search/, "id in [N]" in query/
inline_names() {
	py "$D" "$1" "$2" <<'EOF' || fail "inline names from $1"
import sys
d, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + count):
    with open("%s/search/%d.5,1,0,0&k=2" % (d, i)) as f:
        n = len(f.read().splitlines())
    if n != 2:
        sys.exit("search %d: %d lines, expected 2" % (i, n))
    if i % 4 == 0:
        with open("%s/query/id in [%d]" % (d, i)) as f:
            f.read()
EOF
}
inline_names 0 2000
warm=$(rss_kib)
inline_names 2000 20000
after=$(rss_kib)
note "inline names: RssAnon after 2,000 $warm KiB, after 22,000 $after KiB"
[ "$sanitized" -eq 1 ] || [ "$after" -le $((warm + 2048)) ] ||
	fail "20,000 distinct inline names grew RssAnon by $((after - warm)) KiB, expected <= 2048 KiB (their names are not forgotten)"

# Names only looked up, never opened (stat, test -e): no release forgets
# them, yet they must not stay either.  Each stat says a regular file;
# after 2,000 pairs to warm up, 20,000 more (40,000 names) grow RssAnon by
# at most 2 MiB.  A name stated and then read still answers its search.
stat_names() {
	py "$D" "$1" "$2" <<'EOF' || fail "stat of inline names from $1"
import os, stat, sys
d, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + count):
    for p in ("%s/search/%d.25,0,1,0&k=1" % (d, i), "%s/query/id in [%d]&limit=1" % (d, i)):
        if not stat.S_ISREG(os.stat(p).st_mode):
            sys.exit("%s: not a regular file" % p)
p = "%s/search/%d.75,0,0,1&k=3" % (d, first)
os.stat(p)
n = len(open(p).read().splitlines())
if n != 3:
    sys.exit("search after a stat: %d lines, expected 3" % n)
EOF
}
stat_names 100000 2000
warm=$(rss_kib)
stat_names 102000 20000
after=$(rss_kib)
note "stat of inline names: RssAnon after 2,000 pairs $warm KiB, after 22,000 $after KiB"
[ "$sanitized" -eq 1 ] || [ "$after" -le $((warm + 2048)) ] ||
	fail "stat of 40,000 distinct inline names grew RssAnon by $((after - warm)) KiB, expected <= 2048 KiB (names only looked up are not forgotten)"

# A partition that stays loaded through inserts and deletes: its columns
# must not keep a row for every entity it ever had (12 bytes and more
# each: the soak's creep).  1,000 entities with a VARCHAR field stay;
# 60,000 more come and go in batches of 1,000 (every 5th batch's ids also
# upserted first); then, after a compaction of the index, the
# partition's memory_bytes is at most 256 KiB above what it was before,
# and queries answer exactly: count(*), a page in id order, a field.
F=$M/f
mkdir "$F" || fail "mkdir f"
echo "dim=4 field=w:VARCHAR(16)" >"$F/schema" || fail "schema f"
py "$F" 0 1000 <<'EOF' || fail "insert f"
import sys
f, a, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(f + "/entities.jsonl", "a") as o:
    o.write("".join('{"id": %d, "vector": [%d, 1, 0, 0], "w": "w%d"}\n' % (i, i, i)
                    for i in range(a, a + n)))
EOF
echo 1 >"$F/load" || fail "load f"
expect_content "$F/query/id >= 0&output_fields=count(*)" 1000
mem_of() { sed -n 's/^memory_bytes=//p' "$F/stats"; }
mem0=$(mem_of)
py "$F" <<'EOF' || fail "churn of f"
import sys
f = sys.argv[1]
def put(name, a, w):
    with open(f + "/" + name, "a") as o:
        o.write("".join('{"id": %d, "vector": [%d, 2, 0, 0], "w": "%s%d"}\n' % (i, i, w, i)
                        for i in range(a, a + 1000)))
for b in range(60):
    a = 10**6 + b * 1000
    put("entities.jsonl", a, "n")
    if b % 5 == 0:
        put("upsert", a, "u")
    with open(f + "/delete", "a") as o:
        o.write("".join("%d\n" % i for i in range(a, a + 1000)))
EOF
echo 1 >"$F/compact" || fail "compact f"
expect_content "$F/count" 1000
expect_content "$F/query/id >= 0&output_fields=count(*)" 1000
expect_content "$F/query/id >= 500&limit=3&output_fields=w" \
	'{"id":500,"w":"w500"}' '{"id":501,"w":"w501"}' '{"id":502,"w":"w502"}'
expect_content "$F/query/id >= 1000000&output_fields=count(*)" 0
mem1=$(mem_of)
note "churn of a loaded partition: memory_bytes $mem0 before, $mem1 after 60,000 inserted and deleted"
[ "$mem1" -le $((mem0 + 262144)) ] ||
	fail "60,000 entities inserted and deleted grew the loaded partition's memory_bytes from $mem0 to $mem1 (more than 256 KiB: its columns keep the dead rows)"
exit 0
