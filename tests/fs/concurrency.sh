#!/bin/sh
# concurrency.sh - writers, searchers and readers at once on one loaded
# collection: no errors, every id exactly once, count exact and never
# showing half a write (SPEC §4 atomicity, §6 descriptors); requests
# answered while a slow one (a blocking index build) runs.
. "$(dirname "$0")/lib.sh"
bulk_sets
mfs_mount

C=$M/cc
mkdir "$C" || fail "mkdir cc"
echo "dim=8" >"$C/schema" || fail "schema"
# 10 entities first, so that every k=5 search has 5 hits.
i=1
while [ $i -le 10 ]; do
	printf '%d\t%d,0,0,0,0,0,0,1\n' $i $i
	i=$((i + 1))
done >>"$C/vectors" || fail "first inserts"
echo 1 >"$C/load" || fail "load"

WRITERS=4 WRITES=50 LINES=10 SEARCHERS=2 SEARCHES=150
cat >"$T/writer.py" <<'EOF'
import os, sys
C, w, writes, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
fd = os.open(C + "/vectors", os.O_WRONLY | os.O_APPEND)
for j in range(writes):
    buf = "".join("%d\t%s\n" % (w * 100000 + j * lines + l,
                  ",".join(str((w * 7 + j * 3 + l + d) % 13) for d in range(8)))
                  for l in range(lines))
    n = os.write(fd, buf.encode())
    assert n == len(buf), "short write"
os.close(fd)
EOF
cat >"$T/searcher.py" <<'EOF'
import os, random, sys
C, s, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
r = random.Random(s)
for j in range(n):
    v = ",".join(str(r.randint(0, 12)) for _ in range(8))
    if j % 2:
        text = open("%s/search/%s&k=5" % (C, v)).read()
    else:
        fd = os.open("%s/search/s%d" % (C, s), os.O_RDWR | os.O_CREAT, 0o644)
        os.write(fd, ("k=5\nformat=json\n%s\n" % v).encode())
        chunks = []
        while True:
            b = os.read(fd, 65536)
            if not b:
                break
            chunks.append(b)
        os.close(fd)
        import json
        hits = json.loads(b"".join(chunks))
        assert len(hits) == 1 and len(hits[0]) == 5, "json answer %r" % hits
        continue
    lines = text.split("\n")
    assert len(lines) == 6 and lines[5] == "", "answer %r" % text
    d = [float(l.split("\t")[1]) for l in lines[:5]]
    assert d == sorted(d), "not best first: %r" % text
EOF
cat >"$T/counter.py" <<'EOF'
import sys, os
C, stop = sys.argv[1], sys.argv[2]
last = 0
while not os.path.exists(stop):
    c = int(open(C + "/count").read())
    assert c >= last, "count went back from %d to %d" % (last, c)
    assert c % 10 == 0, "count %d shows part of a write" % c
    last = c
EOF

pids=
w=1
while [ $w -le $WRITERS ]; do
	"$MFS_PYTHON" "$T/writer.py" "$C" $w $WRITES $LINES 2>"$T/writer.$w.err" &
	pids="$pids $!"
	w=$((w + 1))
done
s=1
while [ $s -le $SEARCHERS ]; do
	"$MFS_PYTHON" "$T/searcher.py" "$C" $s $SEARCHES 2>"$T/searcher.$s.err" &
	pids="$pids $!"
	s=$((s + 1))
done
"$MFS_PYTHON" "$T/counter.py" "$C" "$T/stop" 2>"$T/counter.err" &
cpid=$!
bad=0
for p in $pids; do
	wait "$p" || bad=1
done
touch "$T/stop"
wait "$cpid" || bad=1
[ $bad -eq 0 ] || fail "a process failed: $(cat "$T"/writer.*.err "$T"/searcher.*.err "$T/counter.err")"

# Partitions and collections created and dropped by several processes at
# once: each name once, nothing lost.
pids=
for w in 1 2 3 4; do
	py "$C" "$M" $w 2>"$T/mk.$w.err" <<'EOF' &
import os, sys
C, M, w = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(20):
    os.mkdir("%s/p%d_%d" % (C, w, i))
    os.mkdir("%s/tmp%d_%d" % (M, w, i))
    if i % 2:
        os.rmdir("%s/tmp%d_%d" % (M, w, i))
EOF
	pids="$pids $!"
done
bad=0
for p in $pids; do wait "$p" || bad=1; done
[ $bad -eq 0 ] || fail "concurrent mkdir/rmdir failed: $(cat "$T"/mk.*.err)"
expect_eq "$(wc -l <"$C/partitions" | tr -d ' ')" 81 "partitions after concurrent mkdirs"
expect_eq "$(sort "$C/partitions" | uniq | wc -l | tr -d ' ')" 81 "distinct partitions"
expect_eq "$(ls "$M" | grep -c '^tmp')" 40 "collections left after concurrent mkdir/rmdir"

total=$((10 + WRITERS * WRITES * LINES))
expect_content "$C/count" $total
sort -n "$C/_default/ids" >"$T/ids"
expect_eq "$(uniq "$T/ids" | wc -l | tr -d ' ')" $total "distinct ids"
{
	seq 1 10
	w=1
	while [ $w -le $WRITERS ]; do
		seq $((w * 100000)) $((w * 100000 + WRITES * LINES - 1))
		w=$((w + 1))
	done
} | sort -n >"$T/ids.want"
cmp -s "$T/ids" "$T/ids.want" || fail "the ids are not those written"
# Each writer's ids are in its order of writing.
w=1
while [ $w -le $WRITERS ]; do
	grep -E "^${w}[0-9]{5}\$" "$C/_default/ids" >"$T/ids.$w"
	seq $((w * 100000)) $((w * 100000 + WRITES * LINES - 1)) | cmp -s - "$T/ids.$w" ||
		fail "writer $w's ids are not in insertion order"
	w=$((w + 1))
done
# Every entity is searchable: its own vector finds it at distance 0 (among
# the entities of the same vector).
grep -qx "300499${TAB}0" "$C/search/id=300499&k=16384" ||
	fail "entity 300499 not found at distance 0 by its own vector"
# A slow request does not hold up the others: while a blocking index
# build (one write(2) that returns when the graph is done) runs, other
# processes' requests are answered, among them the build's own progress.
S=$M/slow
mkdir "$S" || fail "mkdir slow"
echo "dim=128 metric_type=L2" >"$S/schema" || fail "schema of slow"
cat "$SYN/syn128/syn128_base.fvecs" >>"$S/_default/vectors.fvecs" ||
	fail "import syn128"
echo "index_type=HNSW M=48 efConstruction=500" >"$S/index" &
builder=$!
seen=0 answered=0
while pid_alive $builder; do
	state=$(grep '^state=' "$S/index" 2>/dev/null)
	[ "$state" = "state=InProgress" ] && pid_alive $builder && seen=$((seen + 1))
	[ "$(cat "$C/count")" = "$total" ] && answered=$((answered + 1))
done
wait $builder || fail "the blocking build failed"
note "during the build: InProgress read $seen times, count $answered times"
[ "$seen" -ge 1 ] || fail "no request was answered during a blocking build"
[ "$answered" -ge 1 ] || fail "count was not answered during a blocking build"
expect_eq "$(grep '^state=' "$S/index")" "state=Finished" "state after the build"

expect_ok read "$M/.errors"
expect_content "$M/.errors"
exit 0
