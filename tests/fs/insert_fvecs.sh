#!/bin/sh
# insert_fvecs.sh - binary inserts through vectors.fvecs: a whole data set
# (the synthetic syn128; photosift128 too when present) in one cat, records straddling writes, truncated and bad records, reading the
# file back byte for byte (SPEC §4).
. "$(dirname "$0")/lib.sh"
MFS_SMALL=
data_sets
BASE=$PS_BASE
mfs_mount

# One cat imports the set; dim comes from the first record; ids 1..PS_NB.
mkdir "$M/p" || fail "mkdir p"
cat "$BASE" >>"$M/p/_default/vectors.fvecs" || fail "cat base >> vectors.fvecs"
expect_content "$M/p/count" "$PS_NB"
expect_content "$M/p/schema" dim=128 metric_type=L2 vector_type=FLOAT_VECTOR description=
seq 1 "$PS_NB" >"$T/ids.want"
same_bytes "$T/ids.want" "$M/p/_default/ids" || fail "ids of the import are not 1..$PS_NB"
same_bytes "$BASE" "$M/p/_default/vectors.fvecs" || fail "p/_default/vectors.fvecs differs from the input"
same_bytes "$BASE" "$M/p/vectors.fvecs" || fail "p/vectors.fvecs differs from the input"

# Records straddling write(2) calls: odd chunk sizes on one descriptor.
mkdir "$M/q" || fail "mkdir q"
py "$BASE" "$M/q/vectors.fvecs" "$T/first500.fvecs" <<'EOF' || fail "straddling writes failed"
import os, sys
data = open(sys.argv[1], "rb").read()[: 500 * 516]
open(sys.argv[3], "wb").write(data)
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_APPEND)
sizes = [1, 3, 2, 517, 1000, 4093, 7, 65537, 516, 515]
off, i = 0, 0
while off < len(data):
    n = min(sizes[i % len(sizes)], len(data) - off)
    w = os.write(fd, data[off:off + n])
    assert w == n, "short write %d of %d" % (w, n)
    off += n
    i += 1
os.close(fd)
EOF
expect_content "$M/q/count" 500
same_bytes "$T/first500.fvecs" "$M/q/vectors.fvecs" || fail "q/vectors.fvecs differs from what was written"

# Bad records: the whole write fails with EINVAL and nothing is inserted.
py "$BASE" "$T" <<'EOF'
import struct, sys
rec = open(sys.argv[1], "rb").read()[:516]
good = rec * 3
def put(name, b):
    open("%s/%s" % (sys.argv[2], name), "wb").write(b)
put("dim64", good + struct.pack("<i", 64) + rec[4:4 + 256])
put("dim0", good + struct.pack("<i", 0))
put("dimneg", good + struct.pack("<i", -1) + rec[4:])
put("dimhuge", good + struct.pack("<i", 1 << 30) + rec[4:])
put("nan", good + rec[:8] + struct.pack("<f", float("nan")) + rec[12:])
put("inf", good + rec[:8] + struct.pack("<f", float("-inf")) + rec[12:])
put("trunc", good + rec[:300])
put("trunc3", good + rec[:3])
EOF
for bad in dim64 dim0 dimneg dimhuge nan inf; do
	expect_errno EINVAL writefile "$M/q/vectors.fvecs" "$T/$bad"
	expect_content "$M/q/count" 500
done
# A dim that differs from the schema's is refused on an empty collection too.
mkdir "$M/r" || fail "mkdir r"
echo "dim=64" >"$M/r/schema" || fail "schema of r"
expect_errno EINVAL writefile "$M/r/vectors.fvecs" "$T/first500.fvecs"
expect_content "$M/r/count" 0

# A truncated record at close fails close (EINVAL); the complete ones stay.
expect_eq "$("$PROBE" seq "$M/q/vectors.fvecs" a "f:$T/trunc" c)" "OK OK EINVAL" "truncated record"
expect_content "$M/q/count" 503
expect_eq "$("$PROBE" seq "$M/q/vectors.fvecs" a "f:$T/trunc3" c)" "OK OK EINVAL" "truncated dim field"
expect_content "$M/q/count" 506
exit 0
