#!/bin/sh
# backup.sh - /.backup/data.mdb (SPEC §13): a copy made while an import
# goes on is the database as of the open (every entity committed before
# the open, none committed after it, whole records only), it mounts as a
# database of its own with the collections, fields, index, saved queries
# and load state of that moment, it is compacted (no free pages), its
# st_size is exact while it is open, writes to it fail with EACCES and a
# /.errors line, and only root and the daemon's user may read it.
. "$(dirname "$0")/lib.sh"
command -v mdb_stat >/dev/null 2>&1 || fail "mdb_stat (Debian lmdb-utils) is needed"
bulk_sets
BULK=$SYN/bulk100.fvecs         # 100,000 x 100 floats, 404-byte records
mfs_mount

# The layout of what was there before the import: a collection with
# fields, two partitions, an HNSW index, saved queries, loaded.
mkdir "$M/fixed" || fail "mkdir fixed"
echo 'dim=4 metric_type=IP field=word:VARCHAR(16)' >"$M/fixed/schema" ||
	fail "schema of fixed"
mkdir "$M/fixed/p1" || fail "mkdir fixed/p1"
py "$M/fixed" <<'EOF' || fail "filling fixed"
import json, sys
C = sys.argv[1]
with open(C + "/entities.jsonl", "a") as f:
    for i in range(1, 301):
        f.write(json.dumps({"id": i, "vector": [i, i % 7, -i / 4, 0.5],
                            "word": "w%d" % i}) + "\n")
with open(C + "/p1/entities.jsonl", "a") as f:
    for i in range(301, 351):
        f.write(json.dumps({"id": i, "vector": [1, 2, 3, i],
                            "word": "p%d" % i}) + "\n")
EOF
echo "index_type=HNSW M=8 efConstruction=64" >"$M/fixed/index" || fail "index of fixed"
printf 'k=3\n1,0,0,0\n' >"$M/fixed/search/near" || fail "saving search/near"
echo 'word like "w1%"' >"$M/fixed/query/w1" || fail "saving query/w1"
echo 1 >"$M/fixed/load" || fail "load fixed"
for f in schema index count partitions state search/near query/w1; do
	cat "$M/fixed/$f" >"$T/fixed.$(echo "$f" | tr / _)" || fail "cat fixed/$f"
done
cat "$M/fixed/vectors.fvecs" >"$T/fixed.fvecs" || fail "cat fixed/vectors.fvecs"
cat "$M/fixed/entities.jsonl" >"$T/fixed.jsonl" || fail "cat fixed/entities.jsonl"
cat "$M/fixed/search/near" >"$T/fixed.near" || fail "search fixed/near"

# Pages to leave out: a dropped collection frees its pages in data.mdb,
# and a compacted copy has none of them.
mkdir "$M/big" || fail "mkdir big"
head -c $((20000 * 404)) "$BULK" >>"$M/big/vectors.fvecs" || fail "import into big"
rmdir "$M/big" || fail "rmdir big"

# Before any open, a stat says 0 (the length is known once made).
expect_eq "$(stat -c %s "$M/.backup/data.mdb")" 0 "st_size of data.mdb before any open"
expect_eq "$(stat -c %a "$M/.backup/data.mdb")" 600 "mode of /.backup/data.mdb"
expect_eq "$(stat -c %a "$M/.backup")" 500 "mode of /.backup"
[ "$(ls -A "$M/.backup")" = data.mdb ] || fail "ls /.backup: $(ls -A "$M/.backup")"
ls -A "$M" | grep -qx .backup || fail "ls -A / does not list .backup"

# The import: a writer appends the records of BULK in order, 50 per
# write(2) (each write one transaction, whole records), and says when it
# has written the first 10,000; it stops at the end or when told.
mkdir "$M/imp" || fail "mkdir imp"
cat >"$T/writer.py" <<'EOF'
import os, sys
src, dst, half, stop = sys.argv[1:5]
rec = 404
data = open(src, "rb").read()
fd = os.open(dst, os.O_WRONLY | os.O_APPEND)
n = len(data) // rec
i = 0
while i < n and not os.path.exists(stop):
    j = min(n, i + 50)
    b = data[i * rec:j * rec]
    assert os.write(fd, b) == len(b)
    i = j
    if i >= 10000 and not os.path.exists(half):
        open(half, "w").close()
os.close(fd)
open(half, "w").close()
EOF
"$MFS_PYTHON" "$T/writer.py" "$BULK" "$M/imp/vectors.fvecs" "$T/half" "$T/stop" \
	2>"$T/writer.err" &
wpid=$!
n=0
until [ -e "$T/half" ]; do
	pid_alive "$wpid" || fail "the writer stopped early: $(cat "$T/writer.err")"
	n=$((n + 1))
	[ $n -lt 1200 ] || fail "10,000 records not imported in 60 s"
	sleep 0.05
done

# The copy: count before the open (the copy has at least that), count
# right after it (at most that), then more entities into fixed while the
# descriptor is open (the copy has none of them), then read it all.
mkdir "$T/copy" || fail "mkdir copy"
py "$M" "$T/copy/data.mdb" "$T/bounds" <<'EOF' || fail "copying the backup"
import os, sys
M, out, bounds = sys.argv[1:4]
def count(c):
    return int(open("%s/%s/count" % (M, c)).read())
c0 = count("imp")
fd = os.open(M + "/.backup/data.mdb", os.O_RDONLY)
c1 = count("imp")
size = os.fstat(fd).st_size
assert size > 0, "st_size of an open backup is 0"
assert os.stat(M + "/.backup/data.mdb").st_size == size, \
    "stat of the path while open: %d, fstat %d" % (
        os.stat(M + "/.backup/data.mdb").st_size, size)
with open(M + "/fixed/entities.jsonl", "a") as f:
    f.write('{"id": 9001, "vector": [9, 9, 9, 9], "word": "late"}\n'
            '{"id": 9002, "vector": [8, 8, 8, 8], "word": "late"}\n')
os.unlink(M + "/fixed/entities/7")
# read it as cp would, in odd-sized pieces, then once more at an offset
parts = []
while True:
    b = os.read(fd, 100001)
    if not b:
        break
    parts.append(b)
data = b"".join(parts)
assert len(data) == size, "read %d bytes, st_size says %d" % (len(data), size)
assert os.pread(fd, 4096, 8192) == data[8192:12288], "pread at 8192 differs"
os.close(fd)
open(out, "wb").write(data)
open(bounds, "w").write("%d %d\n" % (c0, c1))
EOF
touch "$T/stop"
wait "$wpid" || fail "the writer failed: $(cat "$T/writer.err")"
read -r c0 c1 <"$T/bounds"
final=$(cat "$M/imp/count")
note "imp held $c0 entities before the open, $c1 after it, $final at the end"
expect_content "$M/fixed/count" 351

# A second open makes a second copy: as of its own open.
cp "$M/.backup/data.mdb" "$T/copy2.mdb" || fail "cp of the backup"
[ -s "$T/copy2.mdb" ] || fail "cp of the backup copied nothing"

# Writing to it, or a non-root other user reading it, fails.
expect_logged EACCES /.backup/data.mdb write "$M/.backup/data.mdb" 'x'
expect_errno EPERM rmdir "$M/.backup"
expect_errno EPERM unlink "$M/.backup/data.mdb"

# The copy is sound and compacted: LMDB's own tool reads every page and
# counts no free page.
mdb_stat -a "$T/copy" >"$T/mdb_stat" 2>&1 || fail "mdb_stat -a of the copy: $(cat "$T/mdb_stat")"
mdb_stat -f "$T/copy" >"$T/mdb_free" 2>&1 || fail "mdb_stat -f of the copy: $(cat "$T/mdb_free")"
grep -Eq '^ *Free pages: 0$' "$T/mdb_free" ||
	fail "the copy is not compacted: $(cat "$T/mdb_free")"
dsize=$(stat -c %s "$DB/data.mdb")
csize=$(stat -c %s "$T/copy/data.mdb")
note "data.mdb: $dsize bytes; the compacted copy: $csize bytes"

# Mount the copy: it is the database as of the open.
mfs_unmount || fail "unmount"
DB=$T/copy
mfs_mount
n=$(cat "$M/imp/count")
note "the copy holds $n entities of imp"
[ "$n" -ge "$c0" ] && [ "$n" -le "$c1" ] ||
	fail "the copy holds $n entities of imp, expected between $c0 (before the open) and $c1 (after it)"
seq 1 "$n" >"$T/imp.ids"
same_bytes "$T/imp.ids" "$M/imp/_default/ids" || fail "ids of imp in the copy are not 1..$n"
head -c $((n * 404)) "$BULK" >"$T/imp.want"
same_bytes "$T/imp.want" "$M/imp/vectors.fvecs" ||
	fail "vectors.fvecs of imp in the copy is not the first $n records"
# fixed: as it was before the open, not after (9001, 9002 and the delete
# of 7 came after the open); loaded again at mount, with its index.
for f in schema index count partitions search/near query/w1; do
	same_bytes "$T/fixed.$(echo "$f" | tr / _)" "$M/fixed/$f" ||
		fail "fixed/$f differs in the copy: $(cat "$M/fixed/$f")"
done
n=0
until [ "$(cat "$M/fixed/state")" = Loaded ]; do
	n=$((n + 1))
	[ $n -lt 600 ] || fail "fixed not Loaded again in the copy: $(cat "$M/fixed/state")"
	sleep 0.05
done
same_bytes "$T/fixed.fvecs" "$M/fixed/vectors.fvecs" || fail "fixed/vectors.fvecs differs in the copy"
same_bytes "$T/fixed.jsonl" "$M/fixed/entities.jsonl" || fail "fixed/entities.jsonl differs in the copy"
same_bytes "$T/fixed.near" "$M/fixed/search/near" || fail "a search of fixed differs in the copy"
[ -e "$M/fixed/entities/7" ] || fail "entity 7, deleted after the open, is not in the copy"
[ ! -e "$M/fixed/entities/9001" ] || fail "entity 9001, inserted after the open, is in the copy"
[ ! -e "$M/big" ] || fail "the dropped collection big is in the copy"
# and it is a database like any other: it takes writes
echo '{"id": 9003, "vector": [1, 1, 1, 1], "word": "new"}' >>"$M/fixed/entities.jsonl" ||
	fail "an insert into the mounted copy"
expect_content "$M/fixed/count" 351

# The second copy (made after the import stopped) has all of it.
mfs_unmount || fail "unmount the copy"
mkdir "$T/copy2" && mv "$T/copy2.mdb" "$T/copy2/data.mdb" || fail "mv copy2"
DB=$T/copy2
mfs_mount
expect_content "$M/imp/count" "$final"
expect_content "$M/fixed/count" 351
[ -e "$M/fixed/entities/9001" ] || fail "entity 9001 is not in the second copy"

# Only root and the daemon's user may read it: with allow_other, nobody
# is refused (EACCES and a /.errors line) though / is 0755.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1 &&
	NB=$(id -u nobody 2>/dev/null); then
	NG=$(id -g nobody)
	remount allow_other
	chmod 0755 "$T"
	mkdir "$T/u" && chmod 0777 "$T/u" || fail "mkdir $T/u"
	before=$(errors_lines)
	got=$(setpriv --reuid="$NB" --regid="$NG" --clear-groups \
		"$PROBE" read "$M/.backup/data.mdb" 2>>"$T/u/probe.err")
	expect_eq "$got" EACCES "nobody reading /.backup/data.mdb"
	expect_eq "$(errors_lines)" $((before + 1)) "/.errors lines after nobody's read"
	tail -n 1 "$M/.errors" | grep -q "/.backup/data.mdb EACCES: .*only root and the daemon's user" ||
		fail "/.errors line: $(tail -n 1 "$M/.errors")"
	got=$(setpriv --reuid="$NB" --regid="$NG" --clear-groups \
		"$PROBE" read "$M/.errors" 2>>"$T/u/probe.err")
	expect_eq "$got" OK "nobody reading /.errors"
else
	note "not root, or no setpriv or nobody: the other-user part was not run"
fi
exit 0
