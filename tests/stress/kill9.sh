#!/bin/sh
# kill9.sh - KILL9_CYCLES (default 200) kill -9 of the daemon in the middle
# of concurrent inserts, deletes, searches and index builds (client.py
# kill9), each followed by a remount and an exact check (client.py check9):
# every acknowledged insert that no delete touched is there, no entity that
# was never inserted or whose delete was acknowledged is, no id twice, each
# entity with its own vector, `count` the number of entities, the load
# state kept, the database clean for mdb_stat.  Every fifth cycle starts
# with a bulk step: 2,500 fresh entities in one write, then 2,000 of them
# deleted in one write (the store closes and opens its environment after
# a delete of 1,024 or more, env_recycle), and the daemon rewrites
# data.mdb while mounted past 64 KiB of free pages
# (MFS_STORE_SHRINK_MIN_BYTES), so kills land around both; the last
# cycles' remounts must have seen such rewrites.  `make check-stress`.
: "${MFS_TIMEOUT:=14400}"
. "$(dirname "$0")/../fs/lib.sh"
PYTHONDONTWRITEBYTECODE=1   # nothing written beside client.py
export PYTHONDONTWRITEBYTECODE
command -v mdb_stat >/dev/null 2>&1 || fail "mdb_stat (Debian lmdb-utils) is needed"
CYCLES=${KILL9_CYCLES:-200}
CLIENT=$MFS_SRCDIR/tests/stress/client.py
MFS_WRAP="env MFS_STORE_SHRINK_MIN_BYTES=65536 $MFS_WRAP"
mfs_mount

C=$M/k
mkdir "$C" || fail "mkdir k"
echo "dim=4" >"$C/schema" || fail "schema"
: >"$C/vectors"
echo 1 >"$C/load" || fail "load"
# state: the ids known present (checked), and the next fresh id
echo '{"present": [], "next_id": 1}' >"$T/state"

cycle=0 acked=0 deleted=0 undecided=0 searches=0 builds=0 unacked=0 bulks=0
while [ $cycle -lt $CYCLES ]; do
	cycle=$((cycle + 1))
	rm -f "$T/marker" "$T/out"
	: >"$T/progress"
	if [ $((cycle % 5)) -eq 1 ]; then
		# the bulk step: acknowledged before the client starts, so the
		# state (present ids, next id) takes it in
		py "$C" "$T/state" <<'EOF' || fail "cycle $cycle: the bulk insert and delete failed"
import json, os, sys
c, state = sys.argv[1:3]
st = json.load(open(state))
first = st["next_id"]
ids = list(range(first, first + 2500))
def vec(i):
    return [i % 1000, (i // 1000) % 1000, (i // 1000000) % 1000, i % 7]
def put(path, text):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        data = text.encode()
        if os.write(fd, data) != len(data):
            sys.exit("short write")
    finally:
        os.close(fd)
put(c + "/vectors", "".join("%d\t%s\n" % (i, ",".join(map(str, vec(i))))
                           for i in ids))
gone = ids[::5] + ids[1::5] + ids[2::5] + ids[3::5]
put(c + "/delete", "".join("%d\n" % i for i in gone))
st["present"] = sorted(set(st["present"]) | (set(ids) - set(gone)))
st["next_id"] = first + 2500
json.dump(st, open(state, "w"))
EOF
		bulks=$((bulks + 1))
	fi
	first=$("$MFS_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["next_id"])' "$T/state")
	"$MFS_PYTHON" "$CLIENT" kill9 "$C" "$first" "$T/state" "$T/marker" \
		"$T/out" "$T/progress" "$cycle" 2>"$T/client.err" &
	cpid=$!
	# kill after 1..80 acknowledged inserts (a different moment each cycle)
	want=$(( (cycle * 37) % 80 + 1 ))
	n=0
	while [ "$(wc -l <"$T/progress")" -lt $want ]; do
		pid_alive "$cpid" || fail "cycle $cycle: the client stopped early: $(cat "$T/client.err")"
		n=$((n + 1))
		[ $n -lt 1200 ] || fail "cycle $cycle: fewer than $want inserts acknowledged in 60 s"
		sleep 0.02
	done
	touch "$T/marker"
	kill -KILL "$MFS_PID"
	wait "$MFS_PID" 2>/dev/null
	MFS_PID=
	wait "$cpid" || fail "cycle $cycle: the client failed: $(cat "$T/client.err")"
	"$MFS_PYTHON" -c '
import json, sys
f = json.load(open(sys.argv[1]))["failures"]
sys.exit("\n".join(f) if f else 0)' "$T/out" ||
		fail "cycle $cycle: an operation failed before the kill"
	# auto_unmount (the default) may have taken the dead mount away
	n=0
	while is_mounted; do
		fusermount3 -u "$M" 2>"$T/umount.err" && break
		n=$((n + 1))
		[ $n -lt 100 ] || fail "cycle $cycle: fusermount3 -u of the dead mount: $(cat "$T/umount.err")"
		sleep 0.05
	done
	mdb_stat -a "$DB" >"$T/mdb_stat" 2>&1 ||
		fail "cycle $cycle: mdb_stat -a after kill -9: $(cat "$T/mdb_stat")"
	mfs_mount
	# the reload at mount runs in the background: Loading, then Loaded
	n=0
	while [ "$(cat "$C/state")" = Loading ]; do
		n=$((n + 1))
		[ $n -lt 2400 ] || fail "cycle $cycle: still Loading 120 s after the remount"
		sleep 0.05
	done
	expect_eq "$(cat "$C/state")" Loaded "cycle $cycle: state after the remount"
	r=$("$MFS_PYTHON" "$CLIENT" check9 "$C" "$T/state" "$T/out" 2>"$T/check.err") ||
		fail "cycle $cycle: $(cat "$T/check.err")"
	set -- $r
	acked=$((acked + $2)) deleted=$((deleted + $3)) undecided=$((undecided + $4))
	searches=$((searches + $5)) builds=$((builds + $6)) unacked=$((unacked + $7))
	[ $((cycle % 20)) -eq 0 ] &&
		note "cycle $cycle: $1 entities; so far $acked inserts and $deleted deletes acknowledged"
done
shrinks=$(grep -c 'data.mdb rewritten' "$T/log")
shrink_fails=$(grep -c "data.mdb keeps" "$T/log")
[ "$CYCLES" -lt 20 ] || [ "$shrinks" -gt 0 ] ||
	fail "no rewrite of data.mdb in $CYCLES cycles with $bulks bulk deletes"
note "$bulks bulk steps (2,000 deletes in one write each), $shrinks rewrites of data.mdb, $shrink_fails that failed"
note "$CYCLES kill -9 cycles: $acked inserts and $deleted deletes acknowledged, none lost;" \
	"$unacked inserts in flight at a kill, $undecided ids either way; $searches searches, $builds index builds; no phantom, no duplicate"
exit 0
