#!/bin/sh
# errors.sh - every row of the SPEC §7 table with its exact errno; each
# failure adds exactly one well-formed line to /.errors (time, pid, op, path,
# errno name, message) and to the daemon's log, and changes nothing.
. "$(dirname "$0")/lib.sh"
bulk_sets
mfs_mount

C=$M/c
mkdir "$C" "$C/p" || fail "mkdir c c/p"
echo "dim=3 metric_type=L2" >"$C/schema" || fail "schema"
printf '1 2 3\n4 5 6\n' >>"$C/vectors" || fail "insert"
printf '10\t7,8,9\n' >>"$C/p/vectors" || fail "insert into p"
expect_content "$M/.errors"

# state_of: everything a failed operation must leave as it was.
state_of() {
	for f in schema count partitions index state; do
		printf '%s: ' "$f"
		cat "$C/$f" | tr '\n' '|'
		echo
	done
	ls "$M" "$C" "$C/p" "$C/search" "$C/entities"
	cat "$C/vectors"
}
state_of >"$T/state0"
unchanged() {
	state_of >"$T/state1"
	cmp -s "$T/state0" "$T/state1" || fail "a failed operation changed something ($1):$NL$(diff "$T/state0" "$T/state1")"
}

# ENOENT: lookups of missing names are not logged (man milvusfs(5)), acting
# on a missing entity or partition is.
n0=$(errors_lines)
expect_errno ENOENT read "$M/nosuch/count"
expect_errno ENOENT rmdir "$M/nosuch"
expect_errno ENOENT rmdir "$C/nosuch"
expect_errno ENOENT read "$C/entities/99"
expect_errno ENOENT unlink "$C/entities/99"
expect_errno ENOENT read "$C/search/nosuch"
expect_eq "$(errors_lines)" "$n0" "/.errors lines after failed lookups"
echo 1 >"$C/load" || fail "load"
state_of >"$T/state0"
expect_logged ENOENT /c/search/id=99 read "$C/search/id=99"
expect_logged ENOENT '/c/search/1,2,3&partitions=nosuch' read "$C/search/1,2,3&partitions=nosuch"
unchanged ENOENT

# EEXIST: an existing name (the kernel sees it), a user id that exists.
expect_errno EEXIST mkdir "$C"
expect_errno EEXIST mkdir "$C/p"
expect_logged EEXIST /c/vectors write "$C/vectors" '11\t1,1,1\n10\t1,1,1\n'
expect_logged EEXIST /c/p/vectors write "$C/p/vectors" '1\t1,1,1\n'
unchanged EEXIST

# EINVAL: names, records, parameters, dims, ranges.
expect_logged EINVAL /9c mkdir "$M/9c"
expect_logged EINVAL /c/bad-name mkdir "$C/bad-name"
expect_logged EINVAL /c/vectors write "$C/vectors" '1 2 x\n'
expect_logged EINVAL /c/vectors write "$C/vectors" '1 2\n'
expect_logged EINVAL /c/vectors write "$C/vectors" '1 nan 2\n'
expect_logged EINVAL /c/_default/vectors.fvecs write "$C/_default/vectors.fvecs" '\x02\x00\x00\x00\x00\x00\x80\x3f\x00\x00\x80\x3f'
expect_logged EINVAL /c/schema write "$C/schema" 'dim=3 metric_type=L3\n'
expect_logged EINVAL /c/index write "$C/index" 'index_type=NOPE\n'
expect_logged EINVAL /c/index write "$C/index" 'index_type=HNSW M=0\n'
expect_logged EINVAL /c/load write "$C/load" 'replica_number=2\n'
expect_logged EINVAL /c/delete write "$C/delete" 'one\n'
expect_logged EINVAL '/c/search/1,2,3&k=0' read "$C/search/1,2,3&k=0"
expect_logged EINVAL '/c/search/1,2,3&bogus=1' read "$C/search/1,2,3&bogus=1"
expect_logged EINVAL '/c/search/1,2' read "$C/search/1,2"
printf '%s\n' "$LAST_ERROR" | grep -q 'expected 3' || fail "the wrong-dim message does not say the dim expected: $LAST_ERROR"
unchanged EINVAL

# EBUSY: schema change with data; dropping a loaded partition or collection.
expect_logged EBUSY /c/schema write "$C/schema" 'dim=4\n'
expect_logged EBUSY /c/p rmdir "$C/p"
expect_logged EBUSY /c rmdir "$C"
# The message says what to do (SPEC §7 example).
printf '%s\n' "$LAST_ERROR" | grep -qi 'release' || fail "EBUSY message does not say to release: $LAST_ERROR"
# ... and the daemon's log has it too.
msg=${LAST_ERROR#*EBUSY: }
grep -qF "$msg" "$T/log" || fail "the daemon log lacks the failure '$msg'"
unchanged EBUSY

# EPERM: _default; control files cannot be renamed, unlinked or created;
# files are created only in search/; no directories below a partition.
expect_logged EPERM /c/_default rmdir "$C/_default"
expect_logged EPERM /c/schema rename "$C/schema" "$C/schema2"
expect_logged EPERM /c/count unlink "$C/count"
expect_logged EPERM /c/p/vectors unlink "$C/p/vectors"
expect_logged EPERM /.errors unlink "$M/.errors"
expect_logged EPERM /c/newfile open "$C/newfile" wc
expect_logged EPERM /newfile open "$M/newfile" wc
expect_logged EPERM /c/p/sub mkdir "$C/p/sub"
expect_logged EPERM /c/search/dir mkdir "$C/search/dir"
expect_logged EPERM /c/p rename "$C/p" "$C/q"
expect_logged EPERM /c/schema chmod "$C/schema" 777
unchanged EPERM

# Read-only files refuse writes.
for f in state count partitions; do
	r=$("$PROBE" write "$C/$f" '5\n')
	case $r in
	EACCES | EPERM | EBADF) ;;
	*) fail "writing $f: expected EACCES, EPERM or EBADF, got '$r'" ;;
	esac
done
r=$("$PROBE" write "$M/.errors" 'x\n')
case $r in EACCES | EPERM | EBADF) ;; *) fail "writing /.errors: got '$r'" ;; esac
unchanged "writes to read-only files"

# ENODATA: search of what is not loaded.
echo 1 >"$C/release" || fail "release"
state_of >"$T/state0"
expect_logged ENODATA /c/search/id=1 read "$C/search/id=1"
expect_logged ENODATA /c/p/search/id=10 read "$C/p/search/id=10"
printf 'k=1\n1,2,3\n' >"$C/search/q1" || fail "save q1"
state_of >"$T/state0"
expect_logged ENODATA /c/search/q1 read "$C/search/q1"
printf '%s\n' "$LAST_ERROR" | grep -q 'not loaded' || fail "ENODATA message does not say 'not loaded': $LAST_ERROR"
unchanged ENODATA

# /.errors keeps at least 1,000 lines, oldest first.
py "$C/search" <<'EOF' || fail "making 1,100 failures"
import errno, sys
for k in range(1, 1101):
    try:
        open("%s/id=1&k=%d" % (sys.argv[1], k)).read()
        sys.exit("id=1&k=%d did not fail" % k)
    except OSError as e:
        if e.errno != errno.ENODATA:
            sys.exit("id=1&k=%d: errno %d, expected ENODATA" % (k, e.errno))
EOF
n=$(errors_lines)
[ "$n" -ge 1000 ] || fail "/.errors keeps $n lines, expected at least 1000"
tail -n 1 "$M/.errors" | grep -q ' /c/search/id=1&k=1100 ENODATA: ' ||
	fail "the last line of /.errors is not the newest failure: $(tail -n 1 "$M/.errors")"
tail -n 1000 "$M/.errors" | grep -Evc "$ERR_RE" >"$T/bad" || true
expect_eq "$(cat "$T/bad")" 0 "malformed lines in /.errors"
tail -n 1000 "$M/.errors" | sed -n 's|.* /c/search/id=1&k=\([0-9]*\) .*|\1|p' >"$T/ids"
sort -n "$T/ids" | cmp -s - "$T/ids" || fail "/.errors is not oldest first"

# EDQUOT: a partition past the limit.
remount max_partitions=2
expect_logged EDQUOT /c/p2 mkdir "$C/p2"
expect_content "$C/partitions" _default p

# ENOMEM: a load past memory_limit.
remount memory_limit=1K
expect_logged ENOMEM /c/load write "$C/load" '1\n'
expect_content "$C/state" NotLoad

# ENOSPC: a database on a 3 MB tmpfs cannot hold a 4 MB import.
BASE=$SYN/syn128/syn128_base.fvecs
mkdir "$T/small"
if mount -t tmpfs -o size=3M tmpfs "$T/small" 2>"$T/tmpfs.err"; then
	at_cleanup "umount '$T/small'"
	mfs_unmount || fail "unmount"
	DB=$T/small/db
	mfs_mount mapsize=1M
	mkdir "$M/full" || fail "mkdir full"
	py "$BASE" "$M/full/vectors.fvecs" "$T/enospc" <<'EOF'
import errno, os, sys
data = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND)
res, off = "OK", 0
try:
    while off < len(data):
        off += os.write(fd, data[off:off + 516 * 64])
except OSError as e:
    res = errno.errorcode.get(e.errno, str(e.errno))
try:
    os.close(fd)
except OSError as e:
    res = res if res != "OK" else errno.errorcode.get(e.errno, str(e.errno))
open(sys.argv[3], "w").write("%s %d\n" % (res, off // 516))
EOF
	read -r res acked <"$T/enospc"
	expect_eq "$res" ENOSPC "importing 4 MB into a 3 MB filesystem"
	tail -n 1 "$M/.errors" | grep -q ' ENOSPC: ' || fail "/.errors lacks the ENOSPC line"
	expect_content "$M/full/count" "$acked"
	remount mapsize=1M
	expect_content "$M/full/count" "$acked"
else
	note "ENOSPC row not tested: cannot mount a tmpfs here: $(cat "$T/tmpfs.err")"
fi
exit 0
