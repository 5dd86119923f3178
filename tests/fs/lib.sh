# lib.sh - shared setup of the mount tests; sourced by every tests/fs/*.sh.
#
# On sourcing it makes a temporary directory $T, checks that FUSE is usable
# (exit 77, "skipped", only when it is not), and installs an EXIT trap that
# unmounts, requires the daemon to exit 0, and fails the test when the
# daemon's log ($T/log) holds a sanitizer report.  mfs_mount then mounts a
# fresh database $T/db on $M = $T/mnt.
#
# Environment (exported by `make check`; defaults suit a run by hand from the
# build directory, see tests/fs/README.md):
#   MFS_BIN       the milvusfs binary           [$MFS_BUILDDIR/milvusfs]
#   MFS_BUILDDIR  top of the build tree         [.]
#   MFS_SRCDIR    top of the source tree        [two levels above the script]
#   MFS_DATA      the shared data sets          [$MFS_SRCDIR/../shared/data]
#   MFS_PYTHON    Python with numpy             [/usr/bin/python3]
#   MFS_TIMEOUT   seconds before the watchdog kills a hung daemon [600]
#   MFS_WRAP      a command the daemon runs under, e.g. valgrind with its
#                 options (`make check-valgrind` sets it)          [none]
#   MFS_KEEP      non-empty: keep $T even when the test passes
#   MFS_SMALL     N: search_flat and index_hnsw use only the first N
#                 base vectors of each data set, with exact ground truth
#                 computed for them (data_sets); `make check-valgrind` sets
#                 6000 so that they end in minutes under valgrind [unset]
#
# Scripts are POSIX sh (make runs them with $(SHELL)); helpers never run
# inside $(...) when they may call fail, since exit there leaves only the
# subshell.

TEST_NAME=$(basename "$0" .sh)
LC_ALL=C
export LC_ALL
: "${MFS_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MFS_BUILDDIR:=$(pwd)}"
: "${MFS_BIN:=$MFS_BUILDDIR/milvusfs}"
: "${MFS_DATA:=$MFS_SRCDIR/../shared/data}"
: "${MFS_PYTHON:=/usr/bin/python3}"
: "${MFS_TIMEOUT:=600}"
PROBE=$MFS_BUILDDIR/tests/fs/errno_probe
TAB=$(printf '\t')
NL='
'
MFS_PID=
MFS_WATCHDOG=
MFS_AT_CLEANUP=

# --- reporting ---------------------------------------------------------------

note() { printf '# %s\n' "$*"; }

# fail MESSAGE: the test fails (the EXIT trap still unmounts and checks).
fail() {
	printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}

skip() {
	printf 'SKIP: %s: %s\n' "$TEST_NAME" "$*" >&2
	exit 77
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
	[ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}

# expect_errno EXPECTED PROBE-ARGS...: errno_probe prints exactly EXPECTED.
expect_errno() {
	_want=$1; shift
	_got=$("$PROBE" "$@" 2>>"$T/probe.err")
	[ "$_got" = "$_want" ] ||
		fail "errno_probe $*: expected $_want, got '$_got'"
}

expect_ok() { expect_errno OK "$@"; }

# expect_content PATH LINE...: PATH reads exactly the LINEs, each ended by \n
# (no LINE: PATH reads empty).
expect_content() {
	_p=$1; shift
	if [ $# -eq 0 ]; then : >"$T/expected"; else printf '%s\n' "$@" >"$T/expected"; fi
	cat "$_p" >"$T/actual" 2>"$T/cat.err" ||
		fail "cat $_p failed: $(cat "$T/cat.err")"
	cmp -s "$T/expected" "$T/actual" ||
		fail "$_p: expected:$NL$(cat "$T/expected")${NL}got:$NL$(cat "$T/actual")"
}

# same_bytes A B: A and B hold the same bytes.  Both are read through cat:
# control files report size 0 (SPEC §2), and cmp trusts sizes of files.
same_bytes() {
	cat "$1" >"$T/same.a" || return 1
	cat "$2" | cmp -s "$T/same.a" -
}

# errors_lines: number of lines of /.errors now.
errors_lines() { wc -l <"$M/.errors" | tr -d ' '; }

# ERR_RE: the format of a /.errors line (SPEC §7).
ERR_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z pid=[0-9]+ [a-z_]+ /[^ ]* E[A-Z0-9]+: .+$'

# expect_logged ERRNO PATH PROBE-ARGS...: the probe fails with ERRNO and
# /.errors gains exactly one line, well formed, naming the caller's pid,
# PATH (relative to the mount, starting with /) and ERRNO.
expect_logged() {
	_want=$1 _path=$2; shift 2
	_before=$(errors_lines)
	_got=$("$PROBE" -P "$T/probe.pid" "$@" 2>>"$T/probe.err")
	[ "$_got" = "$_want" ] ||
		fail "errno_probe $*: expected $_want, got '$_got'"
	_after=$(errors_lines)
	[ "$_after" -eq $((_before + 1)) ] ||
		fail "errno_probe $*: /.errors went from $_before to $_after lines, expected one more$NL$(tail -n 3 "$M/.errors")"
	_line=$(tail -n 1 "$M/.errors")
	printf '%s\n' "$_line" | grep -Eq "$ERR_RE" ||
		fail "/.errors line malformed: '$_line'"
	_ppid=$(cat "$T/probe.pid")
	case "$_line" in
	*" pid=$_ppid "*) ;;
	*) fail "/.errors line does not name pid $_ppid: '$_line'" ;;
	esac
	case "$_line" in
	*" $_path $_want: "*) ;;
	*) fail "/.errors line does not read '$_path $_want: ...': '$_line'" ;;
	esac
	LAST_ERROR=$_line
}

# --- processes -----------------------------------------------------------------

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
	[ -r "/proc/$1/stat" ] || return 1
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$_st" ] && [ "$_st" != Z ]
}

# wait_gone PID SECONDS: wait for PID to end; returns 1 on timeout.
wait_gone() {
	_n=$(($2 * 20))
	while pid_alive "$1"; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || return 1
		sleep 0.05
	done
	return 0
}

# --- mounting ------------------------------------------------------------------

# is_mounted: $M is in the mount table (also when its daemon is dead).
is_mounted() {
	awk -v m="$M" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts
}

# at_cleanup COMMAND: eval COMMAND at exit, after the unmount (last first).
at_cleanup() { MFS_AT_CLEANUP="$1${MFS_AT_CLEANUP:+; $MFS_AT_CLEANUP}"; }

# mfs_mount [EXTRA-OPTIONS]: mount $DB (default $T/db) on $M in the foreground, in the
# background of this shell; waits (20 s at most) for the root to answer.
mfs_mount() {
	[ -z "$MFS_PID" ] || fail "mfs_mount: already mounted"
	_opts="db=$DB${1:+,$1}"
	printf '== milvusfs -f -o %s %s\n' "$_opts" "$M" >>"$T/log"
	# MFS_WRAP unquoted: a command and its options
	$MFS_WRAP "$MFS_BIN" -f -o "$_opts" "$M" >>"$T/log" 2>&1 &
	MFS_PID=$!
	echo "$MFS_PID" >"$T/daemon.pid"
	_n=400
	until mountpoint -q "$M" && [ -e "$M/.errors" ]; do
		if ! pid_alive "$MFS_PID"; then
			wait "$MFS_PID"
			_rc=$?
			MFS_PID=
			fail "milvusfs -o $_opts exited with status $_rc before the mount was ready"
		fi
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || fail "mount not ready after 20 s"
		sleep 0.05
	done
}

# mfs_unmount: fusermount3 -u, then the daemon must exit 0 within 30 s.
# Returns 1 (with a message) otherwise; fail is the caller's choice.
mfs_unmount() {
	[ -n "$MFS_PID" ] || return 0
	_pid=$MFS_PID
	MFS_PID=
	# close(2) sends the kernel's RELEASE without waiting for it, and an
	# unmount drops the requests still queued: one answered request
	# first, so the daemon has taken the releases of the files this
	# script closed (else a slow daemon, under valgrind, never frees
	# what libfuse keeps for an open directory).
	stat "$M" >/dev/null 2>&1
	_tries=0
	while is_mounted; do
		fusermount3 -u "$M" 2>>"$T/umount.err" && break
		_tries=$((_tries + 1))
		if [ "$_tries" -ge 50 ]; then
			fusermount3 -uz "$M" 2>>"$T/umount.err"
			break
		fi
		sleep 0.1
	done
	if ! wait_gone "$_pid" 30; then
		printf 'FAIL: %s: milvusfs did not exit within 30 s of the unmount\n' "$TEST_NAME" >&2
		kill -KILL "$_pid" 2>/dev/null
		wait "$_pid" 2>/dev/null
		return 1
	fi
	wait "$_pid"
	_rc=$?
	if [ "$_rc" -ne 0 ]; then
		printf 'FAIL: %s: milvusfs exited with status %s after the unmount, expected 0\n' \
			"$TEST_NAME" "$_rc" >&2
		return 1
	fi
	return 0
}

# remount [EXTRA-OPTIONS]: unmount (the daemon must exit 0), mount again on
# $DB (the same database unless the test changed DB).
remount() {
	mfs_unmount || fail "unmount before remount failed"
	mfs_mount "$@"
}

# scan_log: no sanitizer or valgrind report in the daemon's log.
SCAN_RE='ERROR: AddressSanitizer|runtime error:|LeakSanitizer|ERROR: ThreadSanitizer|ERROR SUMMARY: [1-9]|definitely lost: [1-9]'
scan_log() {
	[ -f "$T/log" ] || return 0
	if grep -Eq "$SCAN_RE" "$T/log"; then
		printf 'FAIL: %s: sanitizer or valgrind report in the daemon log:\n' "$TEST_NAME" >&2
		grep -E -B 5 -A 20 "$SCAN_RE" "$T/log" | head -n 80 >&2
		return 1
	fi
	return 0
}

mfs_cleanup() {
	_xrc=$?
	trap - EXIT
	cd /
	[ -n "$MFS_WATCHDOG" ] && kill "$MFS_WATCHDOG" "$(cat "$T/watchdog.sleep" 2>/dev/null)" 2>/dev/null
	mfs_unmount || _xrc=1
	if is_mounted; then
		printf 'FAIL: %s: %s still mounted at exit\n' "$TEST_NAME" "$M" >&2
		fusermount3 -uz "$M"
		_xrc=1
	fi
	[ -z "$MFS_AT_CLEANUP" ] || eval "$MFS_AT_CLEANUP"
	scan_log || _xrc=1
	if [ -f "$T/timeout" ]; then
		printf 'FAIL: %s: watchdog: the test ran past %s s (daemon killed)\n' \
			"$TEST_NAME" "$MFS_TIMEOUT" >&2
		_xrc=1
	fi
	if [ "$_xrc" -ne 0 ] && [ "$_xrc" -ne 77 ] && [ -f "$T/log" ]; then
		printf -- '--- last lines of the daemon log (%s):\n' "$T/log" >&2
		tail -n 30 "$T/log" >&2
	fi
	if [ "$_xrc" -eq 0 ] || [ "$_xrc" -eq 77 ]; then
		[ -n "$MFS_KEEP" ] || rm -rf "$T"
	else
		printf 'kept %s\n' "$T" >&2
	fi
	exit "$_xrc"
}

# --- Python ----------------------------------------------------------------------

# py ARGS... <<'EOF' ... EOF: run the script given on standard input with
# MFS_PYTHON (the Debian python3 with numpy); ARGS become sys.argv[1:].
# A script saved in a file runs as "$MFS_PYTHON" FILE ARGS.
py() { "$MFS_PYTHON" - "$@"; }

# --- setup ----------------------------------------------------------------------

T=$(mktemp -d "${TMPDIR:-/tmp}/mfs-$TEST_NAME.XXXXXX") || exit 99
M=$T/mnt
DB=$T/db
mkdir "$M" || exit 99
trap mfs_cleanup EXIT
trap 'exit 1' INT TERM HUP

[ -c /dev/fuse ] || skip "no /dev/fuse"
command -v fusermount3 >/dev/null 2>&1 || skip "fusermount3 not installed"
command -v mountpoint >/dev/null 2>&1 || skip "mountpoint(1) not installed"
[ -x "$PROBE" ] || fail "$PROBE not built (make check builds it)"
[ -x "$MFS_BIN" ] || fail "$MFS_BIN not built"
mkdir "$T/fusecheck"
_fok=$("$PROBE" fuse-ok "$T/fusecheck" 2>"$T/fusecheck.err")
[ "$_fok" = OK ] || skip "FUSE unusable here: a trivial mount failed: $(cat "$T/fusecheck.err")"
rmdir "$T/fusecheck"

# The watchdog: a hung daemon would hang the test; kill it instead, so that
# the test fails with ENOTCONN errors and a message.
(
	exec >/dev/null 2>&1 </dev/null
	sleep "$MFS_TIMEOUT" &
	echo $! >"$T/watchdog.sleep"
	wait $!
	touch "$T/timeout"
	kill -KILL "$(cat "$T/daemon.pid")"
	fusermount3 -uz "$M"
) &
MFS_WATCHDOG=$!

# --- data sets -------------------------------------------------------------------

# data_sets: PS and GL, the photosift128 and glove100 directories the
# script reads, and PS_NB and GL_NB, how many base vectors they hold.
# Normally the shared data sets themselves (10,000 and 100,000).  Under
# MFS_SMALL=N, copies in $T/data holding the first N base vectors, every
# query, and ground truth recomputed for those N exactly as the shared
# files are made (float64, ties to the smaller position, 100 per query):
# photosift128 L2; glove100 COSINE (also as _first10k) and IP.
data_sets() {
	PS=$MFS_DATA/photosift128
	GL=$MFS_DATA/glove100
	PS_NB=10000
	GL_NB=100000
	[ -n "${MFS_SMALL:-}" ] || return 0
	case $MFS_SMALL in
	*[!0-9]* | 0*) fail "MFS_SMALL=$MFS_SMALL: expected a count of vectors" ;;
	esac
	[ "$MFS_SMALL" -le 10000 ] || fail "MFS_SMALL=$MFS_SMALL: at most 10000"
	mkdir -p "$T/data/photosift128" "$T/data/glove100"
	py "$PS" "$GL" "$T/data" "$MFS_SMALL" <<'EOF' || fail "making the MFS_SMALL data sets"
import os, sys
import numpy as np
ps, gl, out, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def read(path, dt):
    a = np.fromfile(path, dtype="<i4")
    return a.reshape(-1, a[0] + 1)[:, 1:].view(dt)

def write(path, a):
    rec = np.empty((a.shape[0], a.shape[1] + 1), dtype="<i4")
    rec[:, 0] = a.shape[1]
    rec[:, 1:] = np.ascontiguousarray(a).view("<i4")
    rec.tofile(path)

def truth(base, query, metric, k=100):
    b, q = base.astype(np.float64), query.astype(np.float64)
    if metric == "COSINE":
        b = b / np.linalg.norm(b, axis=1)[:, None]
        q = q / np.linalg.norm(q, axis=1)[:, None]
    if metric == "L2":
        d = np.stack([((b - x) ** 2).sum(1) for x in q])
        key = d
    else:
        d = q @ b.T
        key = -d
    ids = np.argsort(key, axis=1, kind="stable")[:, :k]
    return ids.astype("<i4"), np.take_along_axis(d, ids, axis=1).astype("<f4")

for name, src, metrics in (("photosift128", ps, (("L2", ""),)),
                           ("glove100", gl, (("COSINE", ""), ("COSINE", "_first10k"),
                                             ("IP", "_ip")))):
    base = read(os.path.join(src, name + "_base.fvecs"), "<f4")[:n]
    query = read(os.path.join(src, name + "_query.fvecs"), "<f4")
    dst = os.path.join(out, name, name)
    write(dst + "_base.fvecs", base)
    write(dst + "_query.fvecs", query)
    for metric, suffix in metrics:
        ids, d = truth(base, query, metric)
        write(dst + "_groundtruth%s.ivecs" % suffix, ids)
        write(dst + "_groundtruth%s.dist.fvecs" % suffix, d)
EOF
	PS=$T/data/photosift128
	GL=$T/data/glove100
	PS_NB=$MFS_SMALL
	GL_NB=$MFS_SMALL
	note "MFS_SMALL: the first $MFS_SMALL base vectors of photosift128 and glove100"
}
