#!/bin/sh
# tools.sh - the standard tools on the tree (SPEC §13):
# - st_size is exact for schema, index, state, count, load, partitions,
#   stats, compact, /.errors, entities/<id> (what cat reads) and
#   vectors.fvecs (count x (4 + 4 x dim)) and ids (what cat reads, so
#   that sort(1) sizes its buffer from it); vectors and entities.jsonl
#   report 0;
# - tar, cp -r and rsync of a collection copy those files byte for byte
#   (and cp, which reads to the end, vectors and entities.jsonl too); their
#   only complaints are the write-only files (release, delete, upsert);
# - Python's shutil.copyfile copies the bytes; numpy's fromfile reads
#   vectors.fvecs as the vectors inserted, partition by partition in
#   insertion order;
# - tail -f /.errors shows each new failure line as it comes, also once
#   more lines have come than /.errors keeps;
# - shutil.rmtree drops a released collection, find -delete of a loaded
#   one changes nothing.
. "$(dirname "$0")/lib.sh"
for tool in tar rsync; do
	command -v $tool >/dev/null 2>&1 ||
		fail "$tool not installed (./bootstrap deps installs it)"
done
mfs_mount

C=$M/c
mkdir "$C" "$C/p" || fail "mkdir c c/p"
echo "dim=3 metric_type=L2" >"$C/schema" || fail "schema"
# 200 entities in _default, 100 in p; every value is exact in float32
py "$T/in.d" "$T/in.p" "$T/ref.d" "$T/ref.p" <<'EOF' || fail "making the data"
import sys
import numpy as np
rows = {}
for part, path, n, base, j in (("d", sys.argv[1], 200, 1000, 1), ("p", sys.argv[2], 100, 5000, 2)):
    ids = [base + 7 * i - 300 for i in range(n)]
    vecs = np.array([[((i * 5 + j * 3) % 17) / 8.0 - 1.0, (i % 13) / 4.0, -j - i / 16.0]
                     for i in range(n)], dtype=np.float32)
    with open(path, "w") as f:
        for i, v in zip(ids, vecs):
            # as milvusfs prints them (shortest form: 0, -1.0625)
            f.write("%d\t%s\n" % (i, ",".join("%g" % x for x in v)))
    rows[part] = vecs
np.save(sys.argv[3], rows["d"])
np.save(sys.argv[4], rows["p"])
EOF
cat "$T/in.d" >>"$C/vectors" || fail "insert into _default"
cat "$T/in.p" >>"$C/p/vectors" || fail "insert into p"
printf 'k=2\n1,0,0\n' >"$C/search/q" || fail "save search/q"
echo "index_type=HNSW M=8 efConstruction=40" >"$C/index" || fail "index"
echo 1 >"$C/load" || fail "load c"
expect_content "$C/count" 300
# a failure, so that /.errors has a line
expect_logged EINVAL /c/vectors write "$C/vectors" 'x\n'

# --- st_size -------------------------------------------------------------------------
# size_is PATH: stat's size is what cat reads
size_is() {
	_st=$(stat -c %s "$1") || fail "stat $1"
	_n=$(cat "$1" | wc -c | tr -d ' ')
	[ "$_st" = "$_n" ] || fail "st_size of $1 is $_st, cat reads $_n bytes"
	[ "$_n" -gt 0 ] || fail "$1 reads empty"
}
EXACT="schema index state count load partitions stats compact vectors.fvecs
_default/state _default/count _default/load _default/stats _default/vectors.fvecs
p/state p/count p/load p/stats p/vectors.fvecs"
for f in $EXACT; do
	size_is "$C/$f"
done
size_is "$M/.errors"
size_is "$C/entities/700"
size_is "$C/entities/5393"
expect_eq "$(stat -c %s "$C/vectors.fvecs")" 4800 "st_size of vectors.fvecs (300 x 16)"
expect_eq "$(stat -c %s "$C/p/vectors.fvecs")" 1600 "st_size of p/vectors.fvecs (100 x 16)"
for f in vectors entities.jsonl p/vectors; do
	expect_eq "$(stat -c %s "$C/$f")" 0 "st_size of $f (made only when read)"
done
# ids: exact (sort(1) sizes its buffer from it), against the ids inserted
size_is "$C/_default/ids"
size_is "$C/p/ids"
expect_eq "$(stat -c %s "$C/_default/ids")" "$(awk '{ n += length($1) + 1 } END { print n }' "$T/in.d")" \
	"st_size of _default/ids"
expect_eq "$(stat -c %s "$C/p/ids")" "$(awk '{ n += length($1) + 1 } END { print n }' "$T/in.p")" \
	"st_size of p/ids"
# an open descriptor reports what it reads (fstat of its content)
py "$C/count" <<'EOF' || fail "fstat of an open count"
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
data = os.read(fd, 1 << 16)
assert size == len(data) == 4, (size, data)
EOF

# --- numpy and shutil ----------------------------------------------------------------------
py "$C" "$T/ref.d.npy" "$T/ref.p.npy" <<'EOF' || fail "np.fromfile of vectors.fvecs"
import sys
import numpy as np
c, ref_d, ref_p = sys.argv[1], np.load(sys.argv[2]), np.load(sys.argv[3])
def fvecs(path):
    a = np.fromfile(path, dtype=np.float32)
    assert a.size % 4 == 0, (path, a.size)
    a = a.reshape(-1, 4)
    assert (a[:, 0].view(np.int32) == 3).all(), path
    return a[:, 1:]
for path, ref in ((c + "/_default/vectors.fvecs", ref_d), (c + "/p/vectors.fvecs", ref_p)):
    got = fvecs(path)
    assert got.shape == ref.shape and (got == ref).all(), path
both = fvecs(c + "/vectors.fvecs")
want = np.concatenate([ref_d, ref_p])
key = lambda a: a[np.lexsort(a.T[::-1])]
assert both.shape == want.shape and (key(both) == key(want)).all(), "collection fvecs"
EOF
for f in vectors.fvecs schema stats entities/700; do
	"$MFS_PYTHON" -c 'import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])' \
		"$C/$f" "$T/shutil.out" || fail "shutil.copyfile $f"
	same_bytes "$C/$f" "$T/shutil.out" || fail "shutil.copyfile of $f: bytes differ"
	[ -s "$T/shutil.out" ] || fail "shutil.copyfile of $f copied nothing"
done
"$MFS_PYTHON" -c 'import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])' \
	"$M/.errors" "$T/shutil.out" || fail "shutil.copyfile /.errors"
same_bytes "$M/.errors" "$T/shutil.out" || fail "shutil.copyfile of /.errors: bytes differ"

# --- tar, cp -r, rsync ---------------------------------------------------------------------
# only_write_only FILE TOOL: each line of FILE complains about one of the
# nine write-only files, and there are nine
only_write_only() {
	_n=$(grep -c '/\(release\|delete\|upsert\)[^/]*\(Permission denied\|(13)\)' "$1")
	[ "$_n" -eq 9 ] && [ "$(wc -l <"$1" | tr -d ' ')" -le 10 ] ||
		fail "$2: expected complaints about the 9 write-only files only, got:$NL$(cat "$1")"
}
# copied DIR TOOL: DIR holds the exact files of c byte for byte
copied() {
	for f in $EXACT; do
		cmp -s "$1/$f" "$T/ref/$f" || fail "$2: $f differs from the mount's"
	done
}
mkdir "$T/ref" "$T/ref/_default" "$T/ref/p" || fail "mkdir ref"
for f in $EXACT; do
	cat "$C/$f" >"$T/ref/$f" || fail "cat $f"
done
tar -C "$M" -cf "$T/c.tar" c 2>"$T/tar.err" && fail "tar of c reported no failure for the write-only files"
only_write_only "$T/tar.err" tar
mkdir "$T/tar" && tar -C "$T/tar" -xf "$T/c.tar" || fail "tar -x"
copied "$T/tar/c" tar
expect_eq "$(tar -tf "$T/c.tar" | grep -c '^c/search/q$')" 1 "search/q in the archive"

cp -r "$C" "$T/cp" 2>"$T/cp.err" && fail "cp -r of c reported no failure for the write-only files"
only_write_only "$T/cp.err" "cp -r"
copied "$T/cp" "cp -r"
# cp reads to the end: the files made when read come whole
cmp -s "$T/cp/_default/vectors" "$T/in.d" || fail "cp -r: _default/vectors differs from what was inserted"
cmp -s "$T/cp/p/vectors" "$T/in.p" || fail "cp -r: p/vectors differs from what was inserted"

rsync -r "$C/" "$T/rs/" 2>"$T/rsync.err"
rc=$?
expect_eq "$rc" 23 "rsync exit status (23: some files not transferred)"
grep -v '^rsync error: some files/attrs were not transferred' "$T/rsync.err" >"$T/rsync.err2"
only_write_only "$T/rsync.err2" rsync
copied "$T/rs" rsync

# --- tail -f /.errors ------------------------------------------------------------------------
tail -n 0 -s 0.1 -f "$M/.errors" >"$T/tail.out" 2>"$T/tail.err" &
TAIL=$!
# tail holds the mount: a failure here stops it before the unmount
fail() {
	kill "$TAIL" 2>/dev/null
	wait "$TAIL" 2>/dev/null
	printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}
# wait until tail holds /.errors open and has gone to its end
n=300
until ls -l "/proc/$TAIL/fd" 2>/dev/null | grep -q '/\.errors$'; do
	n=$((n - 1))
	[ $n -gt 0 ] || fail "tail -f did not open /.errors"
	sleep 0.1
done
sleep 0.3
expect_logged EINVAL /bad1! mkdir "$M/bad1!"
L1=$LAST_ERROR
expect_logged EINVAL /c/vectors write "$C/vectors" '1\t1,2\n'
L3=$LAST_ERROR
n=300
while [ "$(wc -l <"$T/tail.out" | tr -d ' ')" -lt 2 ]; do
	n=$((n - 1))
	[ $n -gt 0 ] || fail "tail -f showed $(wc -l <"$T/tail.out") lines of 2 in 30 s: $(cat "$T/tail.out" "$T/tail.err")"
	sleep 0.1
done
sleep 0.3
expect_content "$T/tail.out" "$L1" "$L3"
# past the 1,024 lines /.errors keeps, tail -f still shows each new line
# once: while /.errors is open no line goes (up to 65,536), so the file
# only grows for tail's fstat (FUSE asks by path, not by descriptor)
py "$M" <<'EOF' || fail "1,100 failing mkdirs"
import os, sys
for i in range(1100):
    try:
        os.mkdir("%s/bad-%d" % (sys.argv[1], i))
    except OSError:
        pass
    else:
        raise SystemExit("mkdir bad-%d succeeded" % i)
EOF
n=600
while [ "$(wc -l <"$T/tail.out" | tr -d ' ')" -lt 1102 ]; do
	n=$((n - 1))
	[ $n -gt 0 ] || fail "tail -f showed $(wc -l <"$T/tail.out") lines of 1102 in 60 s"
	sleep 0.1
done
sleep 0.3
expect_eq "$(wc -l <"$T/tail.out" | tr -d ' ')" 1102 "lines tail -f showed"
py "$T/tail.out" <<'EOF' || fail "tail -f lines past the ring's size"
import re, sys
lines = open(sys.argv[1]).read().splitlines()[2:]
for i, l in enumerate(lines):
    assert re.search(r" mkdir /bad-%d EINVAL: " % i, l), (i, l)
EOF
tail -n 1102 "$M/.errors" >"$T/errors.last" || fail "tail -n 1102 /.errors"
cmp -s "$T/tail.out" "$T/errors.last" || fail "what tail -f showed is not the end of /.errors"
kill "$TAIL" && wait "$TAIL" 2>/dev/null
fail() {
	printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
	exit 1
}
# closed: the oldest go, /.errors keeps its most recent lines
KEPT=$(errors_lines)
[ "$KEPT" -ge 1000 ] && [ "$KEPT" -lt 1100 ] ||
	fail "/.errors keeps $KEPT lines once nobody has it open: at least 1,000, and not all"
tail -n "$KEPT" "$T/errors.last" >"$T/errors.kept"
cmp -s "$T/errors.kept" "$M/.errors" || fail "/.errors once closed is not its most recent lines"
size_is "$M/.errors"

# --- ids of the extremes, and after a delete ---------------------------------------------------
N=$M/n
mkdir "$N" || fail "mkdir n"
printf -- '-9223372036854775808\t1,0,0\n-5\t0,1,0\n0\t0,0,1\n9223372036854775807\t1,1,1\n' \
	>>"$N/vectors" || fail "insert the extreme ids into n"
# 21 + 3 + 2 + 20 bytes
expect_eq "$(stat -c %s "$N/_default/ids")" 46 "st_size of n/_default/ids"
size_is "$N/_default/ids"
echo -5 >"$N/delete" || fail "delete -5 from n"
expect_eq "$(stat -c %s "$N/_default/ids")" 43 "st_size of n/_default/ids after a delete"
expect_eq "$(sort -n "$N/_default/ids" | tr '\n' ' ')" \
	"-9223372036854775808 0 9223372036854775807 " "sort -n n/_default/ids"
# an upsert moving 0 to p, then an insert: each changes the sizes it must
mkdir "$N/p" || fail "mkdir n/p"
expect_eq "$(stat -c %s "$N/p/ids")" 0 "st_size of an empty n/p/ids"
echo '{"id": 0, "vector": [0, 0, 1]}' >"$N/p/upsert" || fail "upsert 0 into n/p"
expect_eq "$(stat -c %s "$N/_default/ids")" 41 "st_size of n/_default/ids after 0 moved"
expect_eq "$(stat -c %s "$N/p/ids")" 2 "st_size of n/p/ids after 0 moved"
printf '123456\t1,0,1\n' >>"$N/_default/vectors" || fail "insert 123456 into n"
expect_eq "$(stat -c %s "$N/_default/ids")" 48 "st_size of n/_default/ids after an insert"
size_is "$N/_default/ids"
size_is "$N/p/ids"
rmdir "$N" 2>/dev/null || rm -rf "$N" || fail "drop n"
expect_errno ENOENT stat "$N"

# --- rm -r by other tools --------------------------------------------------------------------------
D=$M/d
mkdir "$D" || fail "mkdir d"
printf '1\t1,0,0\n2\t0,1,0\n' >>"$D/vectors" || fail "insert into d"
printf 'k=1\n1,0,0\n' >"$D/search/q" || fail "save d/search/q"
echo 1 >"$D/load" || fail "load d"
find "$D" -delete 2>/dev/null && fail "find -delete of a loaded d succeeded"
expect_content "$D/count" 2
expect_eq "$(ls "$D/search")" q "d/search after find -delete"
echo 1 >"$D/release" || fail "release d"
"$MFS_PYTHON" -c 'import shutil, sys; shutil.rmtree(sys.argv[1])' "$D" ||
	fail "shutil.rmtree of a released d"
expect_errno ENOENT stat "$D"
expect_eq "$(ls "$M" | tr '\n' ' ')" "c " "collections after shutil.rmtree d"
exit 0
