#!/bin/sh
# kill9.sh - kill -9 the daemon in the middle of inserts: the database opens
# clean (mdb_stat), and after a remount every acknowledged entity is there
# (SPEC §1 sync=, §7 "no input ... loses data already acknowledged").
. "$(dirname "$0")/lib.sh"
command -v mdb_stat >/dev/null 2>&1 || fail "mdb_stat (Debian lmdb-utils) is needed"
bulk_sets
mfs_mount

mkdir "$M/k" || fail "mkdir k"
echo "dim=4" >"$M/k/schema" || fail "schema"

# writer FIRST MODE ACKFILE: inserts ids FIRST, FIRST+1, ... one per
# open/write/(fsync)/close until a call fails; appends each id to ACKFILE
# once it is acknowledged: after close (MODE fsync: after fsync and close)
# or, with MODE always (sync=always), as soon as write returns.
cat >"$T/writer.py" <<'EOF'
import os, sys
first, mode, ack = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "a")
path = sys.argv[4]
i = first
while True:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        line = ("%d\t%d,1,2,3\n" % (i, i)).encode()
        if os.write(fd, line) != len(line):
            sys.exit("short write")
        if mode == "always":
            ack.write("%d\n" % i); ack.flush()
        else:
            os.fsync(fd)
        os.close(fd)
        if mode != "always":
            ack.write("%d\n" % i); ack.flush()
    except OSError:
        break
    i += 1
EOF

# dead_mount_gone: auto_unmount (the default, SPEC §13) takes the killed
# daemon's mount away by itself (fusermount3 unmounts it once the dead
# process is gone, which under the sanitizers on a loaded machine may take
# seconds: 60 s is a hang guard, not a speed).
dead_mount_gone() {
	_n=0
	while is_mounted; do
		_n=$((_n + 1))
		[ $_n -lt 1200 ] || fail "the killed daemon's mount is still there after 60 s (auto_unmount)"
		sleep 0.05
	done
}

# round MODE FIRST: run the writer, kill -9 the daemon once it has
# acknowledged 300 inserts, clean up the dead mount, check the environment.
round() {
	: >"$T/ack.$1"
	"$MFS_PYTHON" "$T/writer.py" "$2" "$1" "$T/ack.$1" "$M/k/vectors" 2>"$T/writer.err" &
	wpid=$!
	n=0
	while [ "$(wc -l <"$T/ack.$1")" -lt 300 ]; do
		pid_alive "$wpid" || fail "the writer stopped early: $(cat "$T/writer.err")"
		n=$((n + 1))
		[ $n -lt 1200 ] || fail "fewer than 300 inserts acknowledged in 60 s"
		sleep 0.05
	done
	kill -KILL "$MFS_PID"
	wait "$MFS_PID"
	note "daemon killed (status $?) after $(wc -l <"$T/ack.$1") acknowledged inserts"
	MFS_PID=
	wait "$wpid"
	dead_mount_gone
	mdb_stat -a "$DB" >"$T/mdb_stat" 2>&1 || fail "mdb_stat -a after kill -9: $(cat "$T/mdb_stat")"
}

# check ACKFILE...: after a remount every acknowledged id is there with its
# vector, the count is at least their number, and ids are unique.
check() {
	sort -n "$@" >"$T/acked"
	py "$M/k" "$T/acked" <<'EOF' || fail "acknowledged inserts lost"
import json, sys
C, acked = sys.argv[1], [int(x) for x in open(sys.argv[2])]
count = int(open(C + "/count").read())
ids = [int(x) for x in open(C + "/_default/ids")]
assert count == len(ids), "count %d, ids file has %d" % (count, len(ids))
assert len(set(ids)) == len(ids), "an id listed twice"
assert count >= len(acked), "count %d < %d acknowledged" % (count, len(acked))
missing = sorted(set(acked) - set(ids))
assert not missing, "acknowledged ids missing: %s" % missing[:20]
for i in acked:
    e = json.load(open("%s/entities/%d" % (C, i)))
    assert e["vector"] == [i, 1, 2, 3], "entity %d: %r" % (i, e)
EOF
}

round fsync 1
mfs_mount
check "$T/ack.fsync"
# The ids that were written but not acknowledged may or may not be there;
# the next round starts above them all.
last=$(tail -n 1 "$M/k/_default/ids")
remount sync=always
round always $((last + 1000))
mfs_mount
check "$T/ack.fsync" "$T/ack.always"
# The database still takes writes.
printf '1 1 1 1\n' >>"$M/k/vectors" || fail "insert after the kills"

# kill -9 in the middle of a 40 MB import: each write(2) is all or nothing,
# so what survives is a prefix of whole records: ids 1..n and the first n
# records of the file, byte for byte.
GL=$SYN/bulk100.fvecs
mkdir "$M/imp" || fail "mkdir imp"
cat "$GL" >>"$M/imp/vectors.fvecs" 2>/dev/null &
cpid=$!
n=0
while [ "$(cat "$M/imp/count")" -eq 0 ]; do
	n=$((n + 1))
	[ $n -lt 1200 ] || fail "the import did not start in 60 s"
	sleep 0.05
done
kill -KILL "$MFS_PID"
wait "$MFS_PID"
MFS_PID=
wait "$cpid"
dead_mount_gone
mdb_stat -a "$DB" >"$T/mdb_stat" 2>&1 || fail "mdb_stat -a after kill -9 mid-import: $(cat "$T/mdb_stat")"
mfs_mount
n=$(cat "$M/imp/count")
note "$n of 100000 records imported at the kill"
seq 1 "$n" >"$T/imp.ids"
same_bytes "$T/imp.ids" "$M/imp/_default/ids" || fail "ids after a kill mid-import are not 1..$n"
head -c $((n * 404)) "$GL" >"$T/imp.want"
same_bytes "$T/imp.want" "$M/imp/vectors.fvecs" ||
	fail "vectors.fvecs after a kill mid-import is not the first $n records"
exit 0
