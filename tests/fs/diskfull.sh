#!/bin/sh
# diskfull.sh - a database on a full file system (issue 12, SPEC §7, §13):
# inserts fail with ENOSPC and a /.errors line and change nothing; deletes
# and drops still work (the store's reserve file, src/store/env.c), inserts
# resume in the space they freed, and a remount finds every acknowledged
# entity and nothing else.  The database lives on a small tmpfs (root
# only: skipped otherwise).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
SMALL=$T/small
mkdir "$SMALL" || fail "mkdir $SMALL"
mount -t tmpfs -o size=12m,mode=0700 mfs-diskfull "$SMALL" 2>"$T/tmpfs.err" ||
	skip "cannot mount a tmpfs: $(cat "$T/tmpfs.err")"
# after the daemon's unmount (at_cleanup runs then)
at_cleanup "umount '$SMALL' 2>/dev/null || umount -l '$SMALL'"
DB=$SMALL/db
mfs_mount

for c in a b; do
	mkdir "$M/$c" || fail "mkdir $c"
	echo "dim=64" >"$M/$c/schema" || fail "schema of $c"
done

# fill.py COLL FIRST BATCH MAXBATCHES ACKFILE: inserts batches of BATCH
# entities (ids FIRST, FIRST+1, ...; entity i has vector vec(i)), each
# one write, fsync and close, until MAXBATCHES went in or a call fails;
# appends the ids of each acknowledged batch to ACKFILE; prints the
# errno name of the failure, or OK.
cat >"$T/fill.py" <<'EOF'
import errno, os, sys
m, coll, first, batch, most, ackf = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
def vec(i):
    return ",".join(str((i * 7 + j * 13) % 997) for j in range(64))
i = first
ack = open(ackf, "a")
for _ in range(most):
    ids = range(i, i + batch)
    data = "".join("%d\t%s\n" % (k, vec(k)) for k in ids).encode()
    fd = os.open("%s/%s/vectors" % (m, coll), os.O_WRONLY | os.O_APPEND)
    try:
        if os.write(fd, data) != len(data):
            sys.exit("short write")
        os.fsync(fd)
    except OSError as e:
        os.close(fd)
        print(errno.errorcode[e.errno])
        break
    os.close(fd)
    ack.write("".join("%d\n" % k for k in ids))
    ack.flush()
    i += batch
else:
    print("OK")
EOF
fill() {
	"$MFS_PYTHON" "$T/fill.py" "$M" "$@"
}

# check_part PART ACKFILE: partition PART (coll/part) holds exactly the ids
# of ACKFILE, with their vectors, and its count says so.
check_part() {
	sort -n "$2" >"$T/want.ids"
	cat "$M/$1/ids" >"$T/got.ids" || fail "cat $1/ids"
	sort -n "$T/got.ids" -o "$T/got.ids"
	cmp -s "$T/want.ids" "$T/got.ids" ||
		fail "$1: the ids are not the acknowledged ones ($(wc -l <"$T/want.ids") acknowledged, $(wc -l <"$T/got.ids") there; first difference: $(diff "$T/want.ids" "$T/got.ids" | sed -n 2p))"
	expect_content "$M/$1/count" "$(wc -l <"$T/want.ids" | tr -d ' ')"
	cat "$M/$1/vectors" >"$T/vectors" || fail "cat $1/vectors"
	py "$T/vectors" <<'EOF' || fail "$1: a vector read back differs from what was written"
import sys
for line in open(sys.argv[1]):
    i, v = line.split("\t")
    i = int(i)
    want = [float((i * 7 + j * 13) % 997) for j in range(64)]
    if [float(x) for x in v.split(",")] != want:
        sys.exit("entity %d: %s" % (i, v[:60]))
EOF
}
A=a/_default
# without FILE GONE: the lines of FILE that are not in GONE
without() {
	awk 'NR == FNR { g[$0] = 1; next } !($0 in g)' "$2" "$1"
}

# expect_full_line PATH: the last /.errors line is well formed and reads
# "PATH ENOSPC: database full: ... delete ... or drop ...".
expect_full_line() {
	_line=$(tail -n 1 "$M/.errors")
	printf '%s\n' "$_line" | grep -Eq "$ERR_RE" ||
		fail "/.errors line malformed: '$_line'"
	case "$_line" in
	*" $1 ENOSPC: database full: "*delete*drop*) ;;
	*) fail "/.errors line does not read '$1 ENOSPC: database full: ... delete ... drop ...': '$_line'" ;;
	esac
}

# b: a collection to drop later; a/p: a partition to drop later; a: data
# to delete.  Then another file fills the file system: the database's file
# has no room left at its end, and a delete needs new pages before it can
# free old ones.
: >"$T/a.ack"
: >"$T/b.ack"
: >"$T/p.ack"
mkdir "$M/a/p" || fail "mkdir a/p"
expect_eq "$(fill b 1000000 1000 5 "$T/b.ack")" OK "5,000 entities into b"
expect_eq "$(fill a/p 2000000 1000 3 "$T/p.ack")" OK "3,000 entities into a/p"
expect_eq "$(fill a 0 1000 10 "$T/a.ack")" OK "10,000 entities into a"
dd if=/dev/zero of="$SMALL/filler" bs=64k 2>"$T/dd.err" &&
	fail "dd filled no file system: $SMALL is not a small tmpfs"
grep -q 'No space left on device' "$T/dd.err" || fail "dd: $(cat "$T/dd.err")"
note "file system full: $(df -k "$SMALL" | awk 'NR == 2 { print $3 }') KiB used, $(du -k "$SMALL/filler" | cut -f1) KiB by another file"

# inserts: ENOSPC, a line in /.errors saying what to do, nothing changed
before=$(errors_lines)
expect_eq "$(fill a 500000 500 1 "$T/a.ack")" ENOSPC "an insert at disk full"
[ "$(errors_lines)" -gt "$before" ] || fail "ENOSPC left no line in /.errors"
expect_full_line /a/vectors
check_part $A "$T/a.ack"

# A delete that rewrites nearly every page (every third id) may need more
# room than is left: then ENOSPC, a line saying what to do, and nothing
# deleted.
sort -n "$T/a.ack" >"$T/a.sorted"
awk 'NR % 3 == 0' "$T/a.sorted" >"$T/a.del"
before=$(errors_lines)
got=$("$PROBE" writefile "$M/a/delete" "$T/a.del")
if [ "$got" = OK ]; then
	note "a delete of every third entity went through at disk full"
	without "$T/a.sorted" "$T/a.del" >"$T/a.ack"
else
	expect_eq "$got" ENOSPC "a delete of every third entity at disk full"
	[ "$(errors_lines)" -gt "$before" ] || fail "the ENOSPC of a delete left no line in /.errors"
	expect_full_line /a/delete
	note "a delete of every third entity at disk full: ENOSPC, nothing deleted"
fi
check_part $A "$T/a.ack"

# Deletes in blocks of neighbouring ids, the oldest first, all go
# through at disk full; then one with rm entities/<id>.
sort -n "$T/a.ack" >"$T/a.sorted"
for k in 1 2 3 4 5 6; do
	sed -n "$(( (k - 1) * 1000 + 1 )),$(( k * 1000 ))p" "$T/a.sorted" >"$T/block"
	expect_ok writefile "$M/a/delete" "$T/block"
done
last=$(tail -n 1 "$T/a.sorted")
expect_ok unlink "$M/a/entities/$last"
{ head -n 6000 "$T/a.sorted"; echo "$last"; } >"$T/gone"
without "$T/a.sorted" "$T/gone" >"$T/a.ack"
check_part $A "$T/a.ack"
# inserts resume in the pages the deletes freed
expect_eq "$(fill a 600000 500 2 "$T/a.ack")" OK "1,000 inserts after the deletes"
check_part $A "$T/a.ack"

# full again, by the database this time; drops work: a partition, then a
# collection; then inserts resume
expect_eq "$(fill a 700000 500 400 "$T/a.ack")" ENOSPC "inserting into a until full again"
expect_full_line /a/vectors
check_part $A "$T/a.ack"
check_part a/p "$T/p.ack"
expect_ok rmdir "$M/a/p"
expect_ok rmdir "$M/b"
[ ! -e "$M/b" ] || fail "b is still there after rmdir"
expect_content "$M/a/partitions" _default
expect_eq "$(fill a 800000 500 2 "$T/a.ack")" OK "1,000 inserts after the drops"
check_part $A "$T/a.ack"

# nothing acknowledged lost, nothing dropped back, across a remount
remount
check_part $A "$T/a.ack"
[ ! -e "$M/b" ] || fail "b is back after the remount"
expect_content "$M/a/partitions" _default
rm -f "$SMALL/filler"
exit 0
