#!/bin/sh
# crash.sh - simulated machine crashes (SPEC §13 durability): the daemon
# runs with interpose.so, which records its writes and syncs to data.mdb;
# workload.py inserts, upserts, deletes and drops, recording what it sends
# and each acknowledgement in the same trace; crash_sim then makes
# MFS_CRASHES disk images a crash could have left (unsynced writes lost,
# torn at 512 bytes, reordered) and checks that each opens, walks clean,
# holds every acknowledged entity where it belongs and nothing else.
# The rewrites of data.mdb (src/store/env.c, "The file shrinks") are in the
# trace too: the daemon rewrites past 32 KiB of free pages
# (MFS_STORE_SHRINK_MIN_BYTES), none in the first 13 rounds; then a remount
# rewrites at mount (the first drop of d freed most of the file), and
# later drops rewrite while mounted.  A third of the crashes fall inside
# the rewrites.
#
#   MFS_CRASHES       simulated crashes                         [300]
#   MFS_CRASH_ROUNDS  workload rounds (about 8 commits each)    [60]
#   MFS_CRASH_SYNC    sync= mount option                        [fsync]
#   MFS_CRASH_SEED    seed of the workload and the crashes      [random]
#   MFS_CRASH_UNSAFE  1: the daemon opens LMDB with MDB_NOSYNC, the flags
#                     sync=fsync used before (MFS_STORE_UNSAFE_NOSYNC, see
#                     src/store/env.c), and the test passes only when the
#                     simulator finds crashes that corrupt or lose data:
#                     the check of the checker (crash_unsafe.sh);
#                     shrink: the same with the rewrites of data.mdb
#                     made without syncs (MFS_STORE_UNSAFE_SHRINK=1,
#                     crash_unsafe_shrink.sh)
. "$(dirname "$0")/../fs/lib.sh"
SO=$MFS_BUILDDIR/tests/crash/interpose.so
SIM=$MFS_BUILDDIR/tests/crash/crash_sim
[ -f "$SO" ] || fail "$SO not built (make check builds it)"
[ -x "$SIM" ] || fail "$SIM not built (make check builds it)"
N=${MFS_CRASHES:-300}
ROUNDS=${MFS_CRASH_ROUNDS:-60}
MODE=${MFS_CRASH_SYNC:-fsync}
UNSAFE=${MFS_CRASH_UNSAFE:-0}
SEED=${MFS_CRASH_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
note "seed $SEED, $ROUNDS rounds, sync=$MODE, $N crashes$([ "$UNSAFE" = 1 ] && echo ", MDB_NOSYNC (unsafe)")$([ "$UNSAFE" = shrink ] && echo ", rewrites without syncs (unsafe)")"
USHRINK=0
[ "$UNSAFE" = shrink ] && UNSAFE=0 USHRINK=1

: >"$T/trace"
# An ASan daemon (--enable-sanitizers) accepts a library preloaded before
# its runtime only when told so.
wrap() {
	MFS_WRAP="env LD_PRELOAD=$SO MFS_CRASH_FILE=$DB/data.mdb MFS_CRASH_TRACE=$T/trace MFS_STORE_UNSAFE_NOSYNC=$UNSAFE MFS_STORE_UNSAFE_SHRINK=$USHRINK MFS_STORE_SHRINK_MIN_BYTES=$1 ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
}
wrap 1000000000000
# a small map, so that it grows (mdb_env_set_mapsize) during the workload
mfs_mount "sync=$MODE,mapsize=64K"
if [ "$UNSAFE" = 1 ]; then
	grep -q 'opened with MDB_NOSYNC' "$T/log" ||
		fail "MFS_STORE_UNSAFE_NOSYNC=1 did not reach the daemon"
fi
PAUSE=
[ "$ROUNDS" -gt 13 ] && PAUSE=$T/pause
"$MFS_PYTHON" "$(dirname "$0")/workload.py" "$M" "$T/trace" "$ROUNDS" "$SEED" $PAUSE &
wpid=$!
at_cleanup "kill $wpid 2>/dev/null"
if [ -n "$PAUSE" ]; then
	n=0
	until [ -e "$PAUSE" ]; do
		pid_alive "$wpid" || break
		n=$((n + 1))
		[ $n -lt 6000 ] || fail "the workload did not reach round 13 in 300 s"
		sleep 0.05
	done
	[ -e "$PAUSE" ] || { wait "$wpid"; fail "the workload failed before round 13"; }
	wrap 32768
	remount "sync=$MODE,mapsize=64K"
	touch "$PAUSE.go"
fi
wait "$wpid" || fail "the workload failed"
mfs_unmount || fail "unmount"
if [ -n "$PAUSE" ]; then
	grep -q 'data.mdb rewritten without' "$T/log" ||
		fail "no rewrite of data.mdb at the remount after round 13"
	[ "$ROUNDS" -lt 40 ] || grep -q 'data.mdb rewritten while mounted' "$T/log" ||
		fail "no rewrite of data.mdb while mounted in $ROUNDS rounds"
	# writers go on during a rewrite's copy: what they changed is
	# replayed into the copy before the swap
	note "$(grep -c 'data.mdb rewritten while mounted' "$T/log") rewrites while mounted, $(grep -c ' [1-9][0-9]* keys changed meanwhile replayed' "$T/log") of them with commits during the copy"
fi
"$SIM" -n "$N" -s "$SEED" -k "$T/failed" "$T/trace" >"$T/sim.out" 2>&1
rc=$?
cat "$T/sim.out"
if [ "$UNSAFE" = 1 ] || [ "$USHRINK" = 1 ]; then
	# crash_sim exits 1 when crashes failed, 2 when it could not run
	[ $rc -eq 1 ] && grep -q ': [1-9][0-9]* failed$' "$T/sim.out" ||
		fail "with $([ "$USHRINK" = 1 ] && echo "rewrites without syncs" || echo MDB_NOSYNC) the simulator found no crash that corrupts or loses data (exit $rc): it would not catch them"
	rm -rf "$T/failed"
	exit 0
fi
[ $rc -eq 0 ] || fail "simulated crashes lost or corrupted data (images in $T/failed, trace $T/trace)"
exit 0
