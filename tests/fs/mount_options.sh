#!/bin/sh
# mount_options.sh - the command line: --help, --version, one mount per
# database, bad option values, SIGTERM/SIGINT, a tiny mapsize that must grow,
# sync=always, ro, MILVUSFS_DB, the mount-helper form (SPEC §1, milvusfs(1)).
. "$(dirname "$0")/lib.sh"

# run_bounded SECONDS CMD...: run CMD (stdout+stderr to $T/out); its status
# in $rc; fails when it is still running after SECONDS.
run_bounded() {
	_s=$1; shift
	"$@" >"$T/out" 2>&1 &
	_p=$!
	if ! wait_gone "$_p" "$_s"; then
		kill -KILL "$_p" 2>/dev/null
		wait "$_p"
		is_mounted2 && fusermount3 -u "$T/mnt2"
		fail "'$*' still running after $_s s"
	fi
	wait "$_p"
	rc=$?
}
is_mounted2() { awk -v m="$T/mnt2" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts; }
mkdir "$T/mnt2"

run_bounded 10 "$MFS_BIN" --help
expect_eq "$rc" 0 "exit status of --help"
grep -q 'db=' "$T/out" || fail "--help does not mention db=: $(cat "$T/out")"
run_bounded 10 "$MFS_BIN" --version
expect_eq "$rc" 0 "exit status of --version"
grep -Eq 'milvusfs.*[0-9]+\.[0-9]+\.[0-9]+' "$T/out" || fail "--version prints no version: $(cat "$T/out")"
run_bounded 10 "$MFS_BIN"
[ "$rc" -ne 0 ] || fail "no mountpoint: exit status 0"

# Bad option values are refused before mounting.
for o in mapsize=abc mapsize=12Q sync=sometimes memory_limit=-5 threads=0 threads=x threads=65 \
	max_partitions=0 max_partitions=abc spin=-1 spin=10001 spin=5ms; do
	run_bounded 10 "$MFS_BIN" -f -o "db=$T/db2,$o" "$T/mnt2"
	[ "$rc" -ne 0 ] || fail "-o $o accepted (exit 0)"
	is_mounted2 && fail "-o $o: mounted anyway"
	[ -s "$T/out" ] || fail "-o $o refused without a message"
done

# A second mount of one database is refused with a message naming the
# process that holds it.
mfs_mount
mkdir "$M/c" || fail "mkdir c"
run_bounded 10 "$MFS_BIN" -f -o "db=$DB" "$T/mnt2"
[ "$rc" -ne 0 ] || fail "a second mount of $DB exited 0"
is_mounted2 && fail "a second mount of $DB mounted"
grep -q "$MFS_PID" "$T/out" || fail "the refusal does not name pid $MFS_PID: $(cat "$T/out")"
[ -d "$M/c" ] || fail "the first mount was disturbed"

# SIGTERM and SIGINT unmount and exit 0.
for sig in TERM INT; do
	kill -"$sig" "$MFS_PID"
	wait_gone "$MFS_PID" 30 || fail "milvusfs still running 30 s after SIG$sig"
	wait "$MFS_PID"
	rc=$?
	MFS_PID=
	expect_eq "$rc" 0 "exit status after SIG$sig"
	is_mounted && fail "still mounted after SIG$sig"
	mfs_mount
	[ -d "$M/c" ] || fail "collection c lost after SIG$sig"
done

# mapsize=64K: the map grows by itself during a 4 MB import.
bulk_sets
BASE=$SYN/syn128/syn128_base.fvecs
mfs_unmount || fail "unmount"
DB=$T/db64k
mfs_mount mapsize=64K
mkdir "$M/p" || fail "mkdir p"
cat "$BASE" >>"$M/p/vectors.fvecs" || fail "import with mapsize=64K"
expect_content "$M/p/count" 8000
same_bytes "$BASE" "$M/p/vectors.fvecs" || fail "vectors.fvecs differs after growing the map"
echo 1 >"$M/p/load" || fail "load with mapsize=64K"
expect_eq "$(head -n 1 "$M/p/search/id=5&k=1" | cut -f2)" 0 "distance of entity 5 to itself"
remount mapsize=64K
expect_content "$M/p/count" 8000
same_bytes "$BASE" "$M/p/vectors.fvecs" || fail "vectors.fvecs differs after a remount with mapsize=64K"
printf '%s\n' "$(head -n 1 "$M/p/_default/vectors" | cut -f2)" >>"$M/p/vectors" ||
	fail "an insert after the remount with mapsize=64K"
expect_content "$M/p/count" 8001

# sync=always and threads=1 are accepted and work.
remount sync=always,threads=1
mkdir "$M/s" || fail "mkdir with sync=always"
printf '1 2\n3 4\n' >>"$M/s/vectors" || fail "insert with sync=always"
expect_content "$M/s/count" 2
# spin=0 (workers sleep at once) and spin=10000 serve requests alike.
for o in spin=0 spin=10000; do
	remount "$o"
	expect_content "$M/s/count" 2
	printf '9\t5,6\n' >>"$M/s/vectors" || fail "insert with $o"
	expect_content "$M/s/count" 3
	echo 9 >"$M/s/delete" || fail "delete with $o"
	expect_content "$M/s/count" 2
done

# ro: reads work, changes fail with EROFS (refused by the daemon; ops.sh
# has the rest).
remount ro
expect_content "$M/s/count" 2
expect_errno EROFS mkdir "$M/x"
expect_errno EROFS write "$M/s/vectors" '5 6\n'
expect_content "$M/s/count" 2
mfs_unmount || fail "unmount ro"

# MILVUSFS_DB names the default database.
MILVUSFS_DB=$T/envdb "$MFS_BIN" -f "$M" >>"$T/log" 2>&1 &
MFS_PID=$!
n=0
until mountpoint -q "$M" && [ -e "$M/.errors" ]; do
	n=$((n + 1))
	[ $n -lt 400 ] || fail "MILVUSFS_DB mount not ready after 20 s"
	pid_alive "$MFS_PID" || fail "milvusfs with MILVUSFS_DB exited"
	sleep 0.05
done
mkdir "$M/e" || fail "mkdir under MILVUSFS_DB"
mfs_unmount || fail "unmount of the MILVUSFS_DB mount"
[ -f "$T/envdb/data.mdb" ] || fail "MILVUSFS_DB=$T/envdb: no data.mdb there"

# The mount-helper form: milvusfs DATABASE MOUNTPOINT daemonizes; its pid
# is in DATABASE/milvusfs.lock while mounted.
run_bounded 20 "$MFS_BIN" "$T/envdb" "$M"
expect_eq "$rc" 0 "exit status of the mount-helper form"
n=0
until mountpoint -q "$M" && [ -e "$M/.errors" ]; do
	n=$((n + 1))
	[ $n -lt 400 ] || fail "mount-helper form not ready after 20 s"
	sleep 0.05
done
hpid=$(tr -dc 0-9 <"$T/envdb/milvusfs.lock")
[ -d "$M/e" ] || { fusermount3 -u "$M"; fail "collection e missing in the mount-helper form"; }
fusermount3 -u "$M" || fail "unmount of the mount-helper form"
[ -n "$hpid" ] || fail "no pid in $T/envdb/milvusfs.lock"
wait_gone "$hpid" 30 || fail "daemon $hpid still running after the unmount"
exit 0
