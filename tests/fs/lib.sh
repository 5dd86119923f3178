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
#   MFS_DATA      the shared (real) data sets, optional: when present the
#                 recall tests also run on them  [$MFS_SRCDIR/../shared/data]
#   MFS_SYNTH     where the synthetic data sets are made and kept
#                 [$MFS_BUILDDIR/tests/fs/synth-CHECKSUM of mksynth.py]
#   MFS_PYTHON    Python with numpy             [/usr/bin/python3]
#   MFS_TIMEOUT   seconds before the watchdog kills a hung daemon [600]
#   MFS_WRAP      a command the daemon runs under, e.g. valgrind with its
#                 options (`make check-valgrind` sets it)          [none]
#   MFS_KEEP      non-empty: keep $T even when the test passes
#   MFS_SMALL     N: the real-data pass of search_flat and index_hnsw uses
#                 only the first N base vectors of each data set, with exact
#                 ground truth computed for them (data_sets); `make
#                 check-valgrind` sets 6000 so that they end in minutes
#                 under valgrind [unset]
#   MFS_SET       set by data_sets itself: `real` in the pass of a script
#                 on the real data sets
#
# Scripts are POSIX sh (make runs them with $(SHELL)); helpers never run
# inside $(...) when they may call fail, since exit there leaves only the
# subshell.

TEST_NAME=$(basename "$0" .sh)${MFS_SET:+-$MFS_SET}
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

# now_ms: a clock in milliseconds (for notes, never for a verdict).
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# wait_loaded COLL [SECONDS]: wait until COLL/state reads Loaded (COLL a
# path, or a name below $M), SECONDS at most (default 120).
wait_loaded() {
	case $1 in
	/*) _wl=$1 ;;
	*) _wl=$M/$1 ;;
	esac
	_n=$((${2:-120} * 20))
	until [ "$(cat "$_wl/state")" = Loaded ]; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || fail "$1 not Loaded after ${2:-120} s: $(cat "$_wl/state")"
		sleep 0.05
	done
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
# many control files report size 0 (SPEC §13), and cmp trusts sizes.
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

# start_watchdog: a hung daemon would hang the test; kill it instead, so
# that the test fails with ENOTCONN errors and a message.  Started by the
# first mfs_mount (not at sourcing: data_sets may run the test on the real
# data sets first, as a run of its own with its own watchdog).
start_watchdog() {
	[ -z "$MFS_WATCHDOG" ] || return 0
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
}

# mfs_mount [EXTRA-OPTIONS]: mount $DB (default $T/db) on $M in the foreground, in the
# background of this shell; waits (20 s at most) for the root to answer.
mfs_mount() {
	[ -z "$MFS_PID" ] || fail "mfs_mount: already mounted"
	start_watchdog
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

# py_check ARGS... <<'EOF' ... EOF: py with the search tests' prelude run
# first: os and sys imported, everything of tests/fs/search_ref.py, and
# check(cond, what), which prints "FAIL: what" and appends it to the list
# bad (the script ends with sys.exit(1 if bad else 0)).
py_check() {
	{
		cat <<'PYEOF'
import os, sys
sys.path.insert(0, sys.argv.pop(1))
from search_ref import *

bad = []
def check(cond, what):
    if not cond:
        bad.append(what)
        print("FAIL:", what, file=sys.stderr)
PYEOF
		cat
	} | "$MFS_PYTHON" - "$MFS_SRCDIR/tests/fs" "$@"
}

# py_vecs ARGS... <<'EOF' ... EOF: py with sys and numpy (as np) imported
# first, and write_fvecs(path, a): the rows of a (n x dim) as an fvecs file,
# each record dim as a little-endian int32, then dim little-endian float32.
py_vecs() {
	{
		cat <<'PYEOF'
import sys
import numpy as np

def write_fvecs(path, a):
    a = np.ascontiguousarray(a, dtype="<f4")
    rec = np.empty((a.shape[0], a.shape[1] + 1), dtype="<i4")
    rec[:, 0] = a.shape[1]
    rec[:, 1:] = a.view("<i4")
    rec.tofile(path)
PYEOF
		cat
	} | "$MFS_PYTHON" - "$@"
}

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


# --- data sets -------------------------------------------------------------------
#
# The tests make their own data: synthetic sets (tests/fs/mksynth.py, from a
# fixed seed, with ground truth computed there by brute force in float64),
# made once per build tree and generator version into $SYN and shared by the
# scripts of a run.  The real data sets ($MFS_DATA: photosift128, glove100)
# add a pass of the recall tests when they are there (data_sets).

# synth_sets: SYN, the directory of the synthetic sets, made if missing
# (MFS_SYNTH=DIR uses DIR instead, made there if missing).  Concurrent
# scripts may each make it: each writes its own copy, the first rename wins.
synth_sets() {
	_gen=$MFS_SRCDIR/tests/fs/mksynth.py
	[ -r "$_gen" ] || fail "$_gen missing"
	_sum=$(cksum <"$_gen" | cut -d' ' -f1)
	SYN=${MFS_SYNTH:-$MFS_BUILDDIR/tests/fs/synth-$_sum}
	[ -f "$SYN/done" ] && return 0
	mkdir -p "$(dirname "$SYN")" || fail "mkdir $(dirname "$SYN")"
	_tmp=$SYN.tmp.$$
	rm -rf "$_tmp"
	if ! "$MFS_PYTHON" "$_gen" "$_tmp" >"$T/mksynth.err" 2>&1; then
		rm -rf "$_tmp"
		fail "making the synthetic data sets: $(cat "$T/mksynth.err")"
	fi
	mv -T "$_tmp" "$SYN" 2>/dev/null || rm -rf "$_tmp"
	[ -f "$SYN/done" ] || fail "the synthetic data sets in $SYN are incomplete"
}

# real_sets_present: the shared data sets are in $MFS_DATA.
real_sets_present() {
	for _f in photosift128/photosift128_base.fvecs photosift128/photosift128_query.fvecs \
		photosift128/photosift128_groundtruth.ivecs photosift128/photosift128_groundtruth.dist.fvecs \
		glove100/glove100_base.fvecs glove100/glove100_query.fvecs \
		glove100/glove100_groundtruth.ivecs glove100/glove100_groundtruth.dist.fvecs \
		glove100/glove100_groundtruth_first10k.ivecs \
		glove100/glove100_groundtruth_ip.ivecs glove100/glove100_groundtruth_ip.dist.fvecs; do
		[ -r "$MFS_DATA/$_f" ] || return 1
	done
	return 0
}

# bulk_sets: for the tests that need vectors in bulk but no ground truth:
# SYN (synth_sets), and a note that the real sets add nothing there.
bulk_sets() {
	synth_sets
	note "data: synthetic ($SYN); the real data sets are not used by this test"
}

# data_sets: the sets a recall test reads, as variables:
#   SET          synth or real
#   PS_NAME PS_BASE PS_QUERY PS_GT PS_GTD PS_NB   an L2 set (base, queries,
#       ground truth ids and distances, base count): syn128 or photosift128
#   GL_NAME GL_BASE GL_QUERY GL_GT GL_GTD GL_GTIP GL_GTIPD GL_NB GL_GT10K
#       a set for COSINE (GT, GTD) and IP (GTIP, GTIPD): syn100 or glove100;
#       GL_GT10K is the COSINE ground truth of its first 10,000 base vectors
# The script runs on the synthetic sets.  When the real ones are present
# (real_sets_present), data_sets first runs the whole script on them, as a
# run of its own (MFS_SET=real, its own mount and $T), and fails when that
# run fails; when they are absent it says that that part was not run.
# Under MFS_SMALL=N the real pass uses copies in $T/data holding the first
# N base vectors, every query, and ground truth recomputed for those N
# exactly as the shared files are made (float64, ties to the smaller
# position, 100 per query): photosift128 L2; glove100 COSINE (also as
# _first10k) and IP.  (The synthetic sets are small already.)
data_sets() {
	if [ "${MFS_SET:-}" = real ]; then
		real_sets
		return 0
	fi
	synth_sets
	if real_sets_present; then
		note "the real data sets are in $MFS_DATA: a pass on them first (${TEST_NAME}-real)"
		MFS_SET=real
		export MFS_SET
		sh "$0"
		_rrc=$?
		unset MFS_SET
		[ "$_rrc" -eq 0 ] ||
			fail "the pass on the real data sets (photosift128, glove100) failed with status $_rrc (above)"
		note "the pass on the real data sets passed"
	else
		note "the real-data part was not run: the data sets are absent ($MFS_DATA/photosift128, $MFS_DATA/glove100)"
	fi
	SET=synth
	PS_NAME=syn128
	PS_BASE=$SYN/syn128/syn128_base.fvecs
	PS_QUERY=$SYN/syn128/syn128_query.fvecs
	PS_GT=$SYN/syn128/syn128_groundtruth.ivecs
	PS_GTD=$SYN/syn128/syn128_groundtruth.dist.fvecs
	PS_NB=8000
	GL_NAME=syn100
	GL_BASE=$SYN/syn100/syn100_base.fvecs
	GL_QUERY=$SYN/syn100/syn100_query.fvecs
	GL_GT=$SYN/syn100/syn100_groundtruth.ivecs
	GL_GTD=$SYN/syn100/syn100_groundtruth.dist.fvecs
	GL_GTIP=$SYN/syn100/syn100_groundtruth_ip.ivecs
	GL_GTIPD=$SYN/syn100/syn100_groundtruth_ip.dist.fvecs
	GL_GT10K=$GL_GT         # 8,000 base vectors: the first 10,000 are all
	GL_NB=8000
	note "data: synthetic $PS_NAME ($PS_NB x 128, L2) and $GL_NAME ($GL_NB x 100, COSINE and IP), 200 queries each, in $SYN"
}

# real_sets: the variables of data_sets for the real sets (the real pass).
real_sets() {
	real_sets_present || fail "the real data sets are not all in $MFS_DATA"
	PS=$MFS_DATA/photosift128
	GL=$MFS_DATA/glove100
	PS_NB=10000
	GL_NB=100000
	if [ -n "${MFS_SMALL:-}" ]; then
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
	fi
	SET=real
	PS_NAME=photosift128
	PS_BASE=$PS/photosift128_base.fvecs
	PS_QUERY=$PS/photosift128_query.fvecs
	PS_GT=$PS/photosift128_groundtruth.ivecs
	PS_GTD=$PS/photosift128_groundtruth.dist.fvecs
	GL_NAME=glove100
	GL_BASE=$GL/glove100_base.fvecs
	GL_QUERY=$GL/glove100_query.fvecs
	GL_GT=$GL/glove100_groundtruth.ivecs
	GL_GTD=$GL/glove100_groundtruth.dist.fvecs
	GL_GTIP=$GL/glove100_groundtruth_ip.ivecs
	GL_GTIPD=$GL/glove100_groundtruth_ip.dist.fvecs
	GL_GT10K=$GL/glove100_groundtruth_first10k.ivecs
	note "data: real $PS_NAME ($PS_NB base vectors, L2) and $GL_NAME ($GL_NB, COSINE and IP) in $MFS_DATA"
}
