#!/bin/sh
# soak.sh - SOAK_SECONDS (default 600) of 8 clients at once (soak.py):
# three writers inserting and deleting, two searchers, a scalar querier, an
# index builder and a client releasing and loading another collection.
# Checks that every client makes progress (each one's operation count
# grows in every SOAK_STALL seconds, default 120), that no operation fails,
# that the entities at the end are exactly those the clients acknowledged
# (before and after a remount), and that the daemon's memory is flat: its
# RssAnon (its own memory; RssFile is LMDB's map) from /proc sampled every
# SOAK_SAMPLE seconds (default 15, all printed); the highest sample of the
# last third of the run is at most 5% + 2 MiB above the highest of the
# middle third (a creep of 3 MiB a minute, the columns of a partition
# keeping every deleted entity's row, grew it from 37 to 44 MiB over
# 600 s); and that s's own memory_bytes (stats) over the last third stays
# within 1 MiB + 512 bytes per live entity.  `make check-stress`.
: "${MFS_TIMEOUT:=14400}"
. "$(dirname "$0")/../fs/lib.sh"
PYTHONDONTWRITEBYTECODE=1   # nothing written beside client.py
export PYTHONDONTWRITEBYTECODE
DUR=${SOAK_SECONDS:-600}
EVERY=${SOAK_SAMPLE:-15}
STALL=${SOAK_STALL:-120}
CLIENT=$MFS_SRCDIR/tests/stress/client.py
export MFS_SRCDIR
mfs_mount

S=$M/s
L=$M/l
mkdir "$S" "$L" "$S/p1" || fail "mkdir"
echo "dim=4" >"$S/schema" || fail "schema of s"
echo "dim=4" >"$L/schema" || fail "schema of l"
py "$S" "$L" <<'PY' || fail "seed entities"
import os, sys
sys.path.insert(0, os.environ["MFS_SRCDIR"] + "/tests/stress")
from client import append, line
S, L = sys.argv[1], sys.argv[2]
append(S + "/vectors", "".join(line(i) for i in range(1, 201)))
append(L + "/vectors", "".join(line(i) for i in range(1, 301)))
PY
echo 1 >"$S/load" || fail "load s"
echo 1 >"$L/load" || fail "load l"

deadline=$(( $(date +%s) + DUR ))
pids=
for c in "writer 1 $S" "writer 2 $S p1" "writer 3 $S" "searcher 4 $S" \
	"searcher 5 $S format=tsv ef=64" "querier 6 $S" "indexer 7 $S" "loader 8 $S $L"; do
	# shellcheck disable=SC2086
	set -- $c
	role=$1 n=$2 coll=$3
	shift 3
	echo 0 >"$T/prog.$n"
	"$MFS_PYTHON" "$CLIENT" soak "$role" "$n" "$coll" "$deadline" "$T/prog.$n" \
		"$T/out.$n" "$@" 2>"$T/err.$n" &
	pids="$pids $!"
	eval "last_$n=0 moved_$n=$(date +%s)"
done

# rss: "RSS ANON FILE" of the daemon in MiB (VmRSS, RssAnon, RssFile; the
# file part is LMDB's map, pages of data.mdb the kernel may drop)
rss() {
	awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
	     END { print int(r / 1024), int(a / 1024), int(f / 1024) }' "/proc/$MFS_PID/status"
}
: >"$T/rss"
while [ "$(date +%s)" -lt "$deadline" ]; do
	sleep "$EVERY"
	now=$(date +%s)
	echo "$((DUR - (deadline - now))) $(rss)" >>"$T/rss"
	echo "$((DUR - (deadline - now))) $(sed -n 's/^memory_bytes=//p' "$S/stats")" >>"$T/mem"
	for n in 1 2 3 4 5 6 7 8; do
		ops=$(cat "$T/prog.$n")
		eval "last=\$last_$n moved=\$moved_$n"
		if [ "$ops" -gt "$last" ]; then
			eval "last_$n=$ops moved_$n=$now"
		elif [ $((now - moved)) -gt "$STALL" ] && [ "$now" -lt "$deadline" ]; then
			fail "client $n made no progress in $STALL s (at $ops operations): $(cat "$T/err.$n")"
		fi
	done
done
bad=0
for p in $pids; do wait "$p" || bad=1; done
[ $bad -eq 0 ] ||
	fail "a client failed: $(grep -ho '"error": "[^"]*"' "$T"/out.*) $(tail -n 3 "$T"/err.*)"
note "operations per client (writer writer writer searcher searcher querier indexer loader):" \
	"$(for n in 1 2 3 4 5 6 7 8; do printf '%s ' "$(cat "$T/prog.$n")"; done)"
note "index builds refused with EBUSY during a compaction: $(grep -ho '"busy": [0-9]*' "$T/out.7" || echo 0)"
note "daemon memory (seconds VmRSS RssAnon RssFile, MiB): $(tr '\n' ';' <"$T/rss")"
note "memory_bytes of s (seconds bytes): $(tr '\n' ';' <"$T/mem")"

# check WHEN: the entities are the seeds and what the writers left alive,
# each with its own vector, once; count exact; p1 holds writer 2's.
check() {
	py "$S" "$T" >"$T/check.out" 2>"$T/check.err" <<'PY' ||
import json, os, sys
sys.path.insert(0, os.environ["MFS_SRCDIR"] + "/tests/stress")
from client import vec
S, T = sys.argv[1], sys.argv[2]
want = set(range(1, 201))
for n in (1, 2, 3):
    want |= set(json.load(open("%s/out.%d" % (T, n)))["alive"])
ids = []
for l in open(S + "/vectors").read().split("\n"):
    if l:
        i, v = l.split("\t")
        ids.append(int(i))
        assert [float(x) for x in v.split(",")] == [float(x) for x in vec(int(i))], \
            "entity %s has vector %s" % (i, v)
got = set(ids)
assert len(got) == len(ids), "an id listed twice"
lost, phantom = sorted(want - got), sorted(got - want)
assert not lost, "%d acknowledged entities lost: %s" % (len(lost), lost[:10])
assert not phantom, "%d phantom entities: %s" % (len(phantom), phantom[:10])
count = int(open(S + "/count").read())
assert count == len(want), "count %d, expected %d" % (count, len(want))
p1 = [int(x) for x in open(S + "/p1/ids").read().split()]
assert set(p1) == set(json.load(open(T + "/out.2"))["alive"]), "partition p1 holds other ids"
print(len(want))
PY
		fail "$1: the entities are not those acknowledged: $(cat "$T/check.err")"
	note "$1: $(cat "$T/check.out") entities, exactly those acknowledged"
}
check "at the end"
# What the engine holds for s (index and columns, its stats' memory_bytes)
# follows its live entities, not all it ever had: over the last third at
# most 1 MiB + 512 bytes an entity (the columns kept a row for every
# entity ever inserted: 6 MiB and growing after 600 s).
live=$(cat "$S/count")
awk -v dur="$DUR" -v live="$live" '
	$2 == "" { print "# no memory_bytes in the stats of s at " $1 " s"; bad = 1 }
	$1 >= 2 * dur / 3 && $2 > max { max = $2 }
	END {
		if (bad)
			exit 1
		limit = 1048576 + 512 * live
		printf "# memory_bytes of s over the last third: max %d (limit %d for %d entities)\n", max, limit, live
		exit max > limit
	}' "$T/mem" || fail "the memory of s grew past its live entities' (seconds memory_bytes: $(tr '\n' ';' <"$T/mem"))"
remount
check "after a remount"

py "$T/rss" "$DUR" <<'PY' || fail "daemon memory not flat"
import sys
s = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
dur = int(sys.argv[2])
mid = [a for t, r, a, f in s if dur / 3 <= t < 2 * dur / 3]
last = [a for t, r, a, f in s if t >= 2 * dur / 3]
if not mid or not last:
    sys.exit("too few RSS samples: %r" % s)
limit = max(mid) * 1.05 + 2
print("# RssAnon: middle third max %d MiB, last third max %d MiB (limit %d)"
      % (max(mid), max(last), limit))
if max(last) > limit:
    sys.exit("RssAnon grew from %d MiB to %d MiB" % (max(mid), max(last)))
PY
exit 0
