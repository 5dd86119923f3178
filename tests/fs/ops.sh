#!/bin/sh
# ops.sh - running milvusfs as a service (SPEC §13, milvusfs(1) LOGS,
# FILES): without -f the daemon is silent on the terminal and logs to
# syslog (LOG_DAEMON, ident milvusfs[pid]), the mount's success line
# included; with -f it logs to stderr and not to syslog; auto_unmount is
# the default (a killed daemon leaves no dead mount) and noauto_unmount
# turns it off; -o ro serves reads, loads, releases, searches and the
# backup, refuses every change with EROFS and a /.errors line, and stores
# no load state; the fstab line and the systemd unit of examples/ mount
# and unmount (the README's minute: readme.sh).
#
# Syslog without a syslog daemon: the daemon runs in a private mount
# namespace (unshare -m) whose /dev is a tmpfs holding /dev/null, /dev/fuse
# and the like bound from the real /dev, and /dev/log, a symlink to a
# datagram socket of this test ($T/log.sock) that a small listener copies
# to $T/syslog.  glibc's syslog(3) sends to /dev/log, so what arrives there
# is exactly what a syslog daemon would receive; nothing outside the
# namespace sees /dev/log.  That part needs root and unshare(1); without
# them it is skipped with a note.
. "$(dirname "$0")/lib.sh"
EX=$MFS_SRCDIR/examples

# daemon_of DB: the pid the daemon of database DB wrote in its lock file.
daemon_of() { tr -dc 0-9 <"$1/milvusfs.lock"; }

# wait_unmounted DIR SECONDS: DIR leaves the mount table; 1 on timeout.
wait_unmounted() {
	_n=$(($2 * 20))
	while awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || return 1
		sleep 0.05
	done
	return 0
}

# ---- syslog without -f, stderr with -f ------------------------------------

# listener: copy every datagram sent to $T/log.sock to $T/syslog, a line
# each, until killed.
cat >"$T/listen.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[3], "w").close()
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        out.write(s.recv(65536).rstrip(b"\n") + b"\n")
EOF

# the part that runs in the namespace: $1 = $T, $2 = the binary
cat >"$T/ns.sh" <<'EOF'
T=$1 BIN=$2
mkdir "$T/realdev" || exit 10
mount --rbind /dev "$T/realdev" || exit 11
mount -t tmpfs -o mode=0755 tmpfs /dev || exit 12
for f in null zero full fuse random urandom; do
	[ -e "$T/realdev/$f" ] || continue
	touch "/dev/$f" && mount --bind "$T/realdev/$f" "/dev/$f" || exit 13
done
umount -l "$T/realdev"
ln -s "$T/log.sock" /dev/log || exit 14
mkdir "$T/nsmnt"
mounted() { awk -v m="$T/nsmnt" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts; }

# as a daemon: the command says nothing and exits 0 once mounted
"$BIN" -o "db=$T/nsdb" "$T/nsmnt" >"$T/daemon.out" 2>&1
echo $? >"$T/daemon.rc"
mounted || exit 15
tr -dc 0-9 <"$T/nsdb/milvusfs.lock" >"$T/ns.pid"
mkdir "$T/nsmnt/bad name" 2>/dev/null
mkdir "$T/nsmnt/good" || exit 16
fusermount3 -u "$T/nsmnt" || exit 17
pid=$(cat "$T/ns.pid")
n=0
while [ -d "/proc/$pid" ]; do
	n=$((n + 1)); [ $n -lt 600 ] || exit 18; sleep 0.05
done
logger -u /dev/log ops-mark-1 || exit 19

# in the foreground: the log is stderr
"$BIN" -f -o "db=$T/nsdb" "$T/nsmnt" 2>"$T/fg.err" &
fpid=$!
n=0
until mounted && [ -d "$T/nsmnt/good" ]; do
	n=$((n + 1)); [ $n -lt 400 ] || exit 20; sleep 0.05
done
mkdir "$T/nsmnt/bad name 2" 2>/dev/null
fusermount3 -u "$T/nsmnt" || exit 21
wait $fpid
echo $? >"$T/fg.rc"
logger -u /dev/log ops-mark-2 || exit 22
exit 0
EOF

# wait_syslog WORD: $T/syslog has a line containing WORD (10 s at most).
wait_syslog() {
	_n=0
	until grep -q "$1" "$T/syslog" 2>/dev/null; do
		_n=$((_n + 1))
		[ $_n -lt 200 ] || fail "'$1' never reached the test's syslog socket: $(cat "$T/syslog")"
		sleep 0.05
	done
}

if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1 &&
	command -v logger >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
	"$MFS_PYTHON" "$T/listen.py" "$T/log.sock" "$T/syslog" "$T/listening" 2>"$T/listen.err" &
	lpid=$!
	at_cleanup "kill $lpid 2>/dev/null"
	n=0
	until [ -e "$T/listening" ]; do
		n=$((n + 1))
		[ $n -lt 200 ] || fail "the syslog listener did not start: $(cat "$T/listen.err")"
		sleep 0.05
	done
	unshare -m --propagation private sh "$T/ns.sh" "$T" "$MFS_BIN" >"$T/ns.out" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || fail "the namespace part failed at step $rc: $(cat "$T/ns.out")"
	wait_syslog ops-mark-2
	pid=$(cat "$T/ns.pid")
	expect_eq "$(cat "$T/daemon.rc")" 0 "exit status of milvusfs without -f"
	[ ! -s "$T/daemon.out" ] || fail "milvusfs without -f printed on the terminal: $(cat "$T/daemon.out")"
	# <30>: LOG_DAEMON (3 << 3) | LOG_INFO (6)
	grep -Eq "^<30>.* milvusfs\\[$pid\\]: info: serving database $T/nsdb on $T/nsmnt\$" "$T/syslog" ||
		fail "no 'serving database' line from milvusfs[$pid] at daemon.info in syslog:$NL$(cat "$T/syslog")"
	grep -Eq "^<30>.* milvusfs\\[$pid\\]: info: .* pid=[0-9]+ mkdir /bad name EINVAL: " "$T/syslog" ||
		fail "the failed mkdir is not in syslog:$NL$(cat "$T/syslog")"
	# with -f: stderr has the lines, syslog none between the marks
	expect_eq "$(cat "$T/fg.rc")" 0 "exit status of milvusfs -f"
	grep -q "^milvusfs: info: serving database $T/nsdb on $T/nsmnt\$" "$T/fg.err" ||
		fail "milvusfs -f: no 'serving database' line on stderr: $(cat "$T/fg.err")"
	grep -q "mkdir /bad name 2 EINVAL" "$T/fg.err" ||
		fail "milvusfs -f: the failed mkdir is not on stderr: $(cat "$T/fg.err")"
	sed -n '/ops-mark-1/,/ops-mark-2/p' "$T/syslog" | grep -q milvusfs &&
		fail "milvusfs -f logged to syslog:$NL$(cat "$T/syslog")"
	note "syslog: $(grep -c milvusfs "$T/syslog") lines from the daemon, none with -f"
else
	note "not root, or no unshare(1) or logger(1): the syslog part was not run"
fi

# ---- auto_unmount ------------------------------------------------------------

# The default: kill -9 the daemon and its mount goes by itself.
mfs_mount
mkdir "$M/c" || fail "mkdir c"
printf '1\t1,0\n2\t0,1\n3\t1,1\n' >>"$M/c/vectors" || fail "insert into c"
kill -KILL "$MFS_PID"
wait "$MFS_PID"
MFS_PID=
# (60 s: a hang guard; a sanitizer build's dead process takes seconds to go)
wait_unmounted "$M" 60 || fail "a killed daemon left its mount after 60 s (auto_unmount is the default)"
expect_ok stat "$M"
# noauto_unmount: the dead mount stays (ENOTCONN) until fusermount3 -u.
mfs_mount noauto_unmount
kill -KILL "$MFS_PID"
wait "$MFS_PID"
MFS_PID=
sleep 1
is_mounted || fail "with noauto_unmount the killed daemon's mount went away"
expect_errno ENOTCONN stat "$M/c"
fusermount3 -u "$M" || fail "fusermount3 -u of the dead mount"

# ---- -o ro ---------------------------------------------------------------------

mfs_mount
expect_content "$M/c/count" 3
printf 'k=2\n1,0\n' >"$M/c/search/near" || fail "saving search/near"
mkdir "$M/d" || fail "mkdir d"
printf '0.5,0.5\n' >>"$M/d/vectors" || fail "insert into d"
echo 1 >"$M/c/load" || fail "load c"
remount ro
# reads, the saved load state, searches
expect_content "$M/c/count" 3
n=0
until [ "$(cat "$M/c/state")" = Loaded ]; do
	n=$((n + 1))
	[ $n -lt 400 ] || fail "c not loaded again at a ro mount"
	sleep 0.05
done
expect_content "$M/c/search/near" "1${TAB}0" "3${TAB}1"
expect_content "$M/c/search/0,1&k=1" "2${TAB}0"
# a private session: write a query, read its answer, nothing saved
py "$M/c/search/mine" <<'EOF' || fail "a private session on a ro mount"
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b"k=1\n1,1\n")
out = os.pread(fd, 4096, 0)
os.close(fd)
assert out == b"3\t0\n", out
EOF
ls "$M/c/search" | grep -qx mine &&
	fail "a private session saved its query on a ro mount"
# load and release serve
echo 1 >"$M/d/load" || fail "load d on a ro mount"
expect_content "$M/d/state" Loaded
expect_content "$M/d/search/0.5,0.5&k=1" "1${TAB}0"
echo 1 >"$M/c/release" || fail "release c on a ro mount"
expect_content "$M/c/state" NotLoad
# the backup reads
cat "$M/.backup/data.mdb" >"$T/ro.mdb" || fail "reading the backup on a ro mount"
[ -s "$T/ro.mdb" ] || fail "the backup of a ro mount is empty"
# every change: EROFS and a /.errors line that says why
expect_logged EROFS /c/vectors write "$M/c/vectors" '4\t1,2\n'
case "$LAST_ERROR" in
*"read-only mount (-o ro)"*) ;;
*) fail "the EROFS line does not say why: $LAST_ERROR" ;;
esac
expect_logged EROFS /c/vectors.fvecs write "$M/c/vectors.fvecs" '\002\0\0\0\0\0\0\0\0\0\0\0'
expect_logged EROFS /c/entities.jsonl write "$M/c/entities.jsonl" '{"id":5,"vector":[1,2]}\n'
expect_logged EROFS /c/upsert write "$M/c/upsert" '{"id":1,"vector":[1,2]}\n'
expect_logged EROFS /c/delete write "$M/c/delete" '1\n'
expect_logged EROFS /c/schema write "$M/c/schema" 'description=x\n'
expect_logged EROFS /c/index write "$M/c/index" 'index_type=HNSW\n'
expect_logged EROFS /e mkdir "$M/e"
expect_logged EROFS /c/p mkdir "$M/c/p"
expect_logged EROFS /d rmdir "$M/d"
expect_logged EROFS /d rename "$M/d" "$M/d2"
expect_logged EROFS /c/entities/1 unlink "$M/c/entities/1"
expect_logged EROFS /c/search/near unlink "$M/c/search/near"
expect_logged EROFS /c chmod "$M/c" 0700
expect_logged EROFS /c/search/new open "$M/c/search/new" wct
expect_logged EROFS /c/search/near open "$M/c/search/near" wt
expect_logged EROFS /c/search/near write "$M/c/search/near" 'k=1\n0,0\n'
expect_logged EROFS /c/query/q1 open "$M/c/query/q1" wct
# a read-write descriptor opens (it may be a private session), but one
# closed without reading would save its query: the close fails
before=$(errors_lines)
got=$("$PROBE" seq "$M/c/search/kept" rwc 'w:k=1\n1,0\n' c 2>>"$T/probe.err")
expect_eq "$got" "OK OK EROFS" "close of an unread read-write search/kept on a ro mount"
expect_eq "$(errors_lines)" $((before + 1)) "/.errors lines after the refused save"
tail -n 1 "$M/.errors" | grep -q " close /c/search/kept EROFS: read-only mount" ||
	fail "/.errors line of the refused save: $(tail -n 1 "$M/.errors")"
# nothing changed
expect_content "$M/c/count" 3
expect_content "$M/d/count" 1
[ -e "$M/c/entities/1" ] || fail "entity 1 went on a ro mount"
[ "$(ls "$M/c/search")" = near ] || fail "search/ of c on a ro mount: $(ls "$M/c/search")"
# load state was not stored: c is loaded again, d is not
remount
n=0
until [ "$(cat "$M/c/state")" = Loaded ]; do
	n=$((n + 1))
	[ $n -lt 400 ] || fail "the release on the ro mount was stored: c is $(cat "$M/c/state")"
	sleep 0.05
done
expect_content "$M/c/search/near" "1${TAB}0" "3${TAB}1"
expect_content "$M/d/state" NotLoad
expect_content "$M/d/count" 1
mfs_unmount || fail "unmount"

# ---- examples/fstab: what mount(8) runs for the line ---------------------------

# mount(8) runs mount.fuse3 with the line's fields, and mount.fuse3 runs
# milvusfs from PATH (mount(8) gives helpers a PATH of its own, so the
# test calls mount.fuse3 itself with the build directory in PATH).
MF=$(command -v mount.fuse3 || echo /sbin/mount.fuse3)
if [ -x "$MF" ]; then
	line=$(grep -v '^#' "$EX/fstab" | grep .)
	set -- $line
	expect_eq "$3" fuse.milvusfs "file system type of the fstab line"
	expect_eq "$#" 6 "fields of the fstab line"
	mkdir "$T/fstab.db"
	PATH=$MFS_BUILDDIR:$PATH "$MF" "$T/fstab.db" "$M" -t "$3" -o "$4" >"$T/fstab.out" 2>&1 ||
		fail "mount.fuse3 with the fstab line's options ($4): $(cat "$T/fstab.out")"
	[ ! -s "$T/fstab.out" ] || fail "mounting from fstab printed: $(cat "$T/fstab.out")"
	is_mounted || fail "the fstab line mounted nothing"
	fpid=$(daemon_of "$T/fstab.db")
	mkdir "$M/f" || fail "mkdir on the fstab mount"
	grep -q " $M fuse.milvusfs .*allow_other" /proc/self/mounts ||
		fail "the fstab mount lacks allow_other: $(grep " $M " /proc/self/mounts)"
	umount "$M" || fail "umount of the fstab mount"
	wait_gone "$fpid" 30 || fail "the fstab mount's daemon did not exit after umount"
	[ -d "$T/fstab.db" ] && [ -f "$T/fstab.db/data.mdb" ] || fail "no database in $T/fstab.db"
else
	note "no mount.fuse3: the fstab line was not tried"
fi

# ---- examples/milvusfs.service: its commands, as systemd runs them -------------

sed -e "s|/usr/local/bin/milvusfs|$MFS_BIN|" -e "s|/var/lib/milvusfs|$T/unit.db|" \
	-e "s|/mnt/vec|$T/unitmnt|g" "$EX/milvusfs.service" >"$T/milvusfs-ops.service"
if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify --man=no "$T/milvusfs-ops.service" >"$T/verify.out" 2>&1 ||
		fail "systemd-analyze verify of the unit: $(cat "$T/verify.out")"
fi
grep -qx 'Type=forking' "$T/milvusfs-ops.service" || fail "the unit is not Type=forking"
pre=$(sed -n 's/^ExecStartPre=//p' "$T/milvusfs-ops.service")
start=$(sed -n 's/^ExecStart=//p' "$T/milvusfs-ops.service")
[ -n "$start" ] || fail "no ExecStart in the unit"
$pre || fail "ExecStartPre: $pre"
# Type=forking: the command returns once the service is ready
$start >"$T/unit.out" 2>&1 || fail "ExecStart exited with status $?: $(cat "$T/unit.out")"
[ ! -s "$T/unit.out" ] || fail "ExecStart printed: $(cat "$T/unit.out")"
awk -v m="$T/unitmnt" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts ||
	fail "the unit's ExecStart returned before the mount was ready"
upid=$(daemon_of "$T/unit.db")
at_cleanup "fusermount3 -uz '$T/unitmnt' 2>/dev/null"
mkdir "$T/unitmnt/u" || fail "mkdir on the unit's mount"
# systemctl stop: SIGTERM to the main process
kill -TERM "$upid"
wait_gone "$upid" 30 || fail "the unit's daemon did not exit 30 s after SIGTERM"
wait_unmounted "$T/unitmnt" 10 || fail "SIGTERM left the unit's mount"

exit 0
