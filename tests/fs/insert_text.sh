#!/bin/sh
# insert_text.sh - text inserts into vectors: every line form, auto and user
# ids, atomic writes, bad records, partial lines across writes and at close,
# reading back, copying between collections (SPEC §4).
. "$(dirname "$0")/lib.sh"
mfs_mount

C=$M/t
mkdir "$C" || fail "mkdir t"
echo "dim=3" >"$C/schema" || fail "schema"
V=$C/vectors

# Every form of SPEC §4, one write each.
expect_ok write "$V" '0.1 0.2 0.3\n'
expect_ok write "$V" '0.1,0.2,0.3\n'
expect_ok write "$V" '[0.1, 0.2, 0.3]\n'
expect_ok write "$V" '42\t0.4,0.5,0.6\n'
expect_ok write "$V" '{"id": 43, "vector": [0.7, 0.8, 0.9]}\n'
# CR before LF is ignored; auto ids continue past the user ids.
expect_ok write "$V" '1.5 2.5 3.5\r\n'
# Several forms in one write.
expect_ok write "$V" '{"id":100,"vector":[1,2,3]}\n[4,5,6]\n7,8,9\n'
expect_content "$C/count" 9
expect_content "$C/_default/count" 9
expect_content "$C/_default/ids" 1 2 3 42 43 44 100 101 102
# Ids are signed: a negative user id is an id like any other.
expect_ok write "$V" '-5\t1,1,1\n'
expect_content "$C/count" 10
# The ends of the 64-bit range (in a collection of their own: an id at the
# top leaves no room for auto ids), and one past them.
mkdir "$M/t3" || fail "mkdir t3"
expect_ok write "$M/t3/vectors" '9223372036854775807\t2,2,2\n-9223372036854775808\t3,3,3\n'
expect_errno EINVAL write "$M/t3/vectors" '9223372036854775808\t2,2,2\n'
expect_errno EINVAL write "$M/t3/vectors" '-9223372036854775809\t2,2,2\n'
expect_content "$M/t3/_default/ids" 9223372036854775807 -9223372036854775808

# The values read back are the float32 values written, in id<TAB>v,v,v lines.
py "$V" <<'EOF' || fail "vectors read back differ from what was written"
import struct, sys
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
want = {1: [.1, .2, .3], 2: [.1, .2, .3], 3: [.1, .2, .3], 42: [.4, .5, .6],
        43: [.7, .8, .9], 44: [1.5, 2.5, 3.5], 100: [1, 2, 3], 101: [4, 5, 6],
        102: [7, 8, 9], -5: [1, 1, 1]}
got = {}
text = open(sys.argv[1]).read()
assert text.endswith("\n"), "vectors does not end with a newline"
for line in text.split("\n")[:-1]:
    i, tab, vec = line.partition("\t")
    assert tab, "no tab in %r" % line
    assert int(i) not in got, "id %s printed twice" % i
    got[int(i)] = [f32(float(x)) for x in vec.split(",")]
assert set(got) == set(want), "ids %s, expected %s" % (sorted(got), sorted(want))
for i, v in want.items():
    assert got[i] == [f32(x) for x in v], "id %d: %r, expected %r" % (i, got[i], v)
EOF

# A user id that exists: EEXIST, and nothing of that write is inserted.
expect_errno EEXIST write "$V" '42\t1,1,1\n'
expect_errno EEXIST write "$V" '7\t1,1,1\n42\t1,1,1\n'
expect_errno EEXIST write "$V" '50\t1,1,1\n50\t2,2,2\n'
expect_errno ENOENT read "$C/entities/7"
expect_errno ENOENT read "$C/entities/50"
expect_content "$C/count" 10

# One bad line fails the whole write; /.errors names the line.
expect_errno EINVAL write "$V" '1 1 1\n2 2 2\nx y z\n'
tail -n 1 "$M/.errors" | grep -q 'line 3' ||
	fail "/.errors does not name line 3: $(tail -n 1 "$M/.errors")"
expect_content "$C/count" 10
for bad in '1 2\n' '1 2 3 4\n' 'nan 1 1\n' '1 inf 1\n' '1 1 -Infinity\n' '1 NaN 1\n' \
	'1e39 1 1\n' '-1e39 1 1\n' 'a b c\n' '1 2 x\n' '1..2 3 4\n' '1 2 3abc\n' \
	'[1, 2, 3\n' '{"id": 60, "vector": [1, 2]}\n' '{"id": "x", "vector": [1, 2, 3]}\n' \
	'x\t1,2,3\n' '1,,2,3\n'; do
	expect_errno EINVAL write "$V" "$bad"
done
expect_content "$C/count" 10

# Empty and blank lines are skipped.
expect_ok write "$V" '\n\n7 7 7\n\n   \n8 8 8\n'
expect_content "$C/count" 12

# A 10 MB line is refused (EINVAL); the daemon lives on and nothing changed.
py "$V" "$T/big.err" <<'EOF'
import errno, sys
import os
line = memoryview(b"0.5 " * (10 * 1024 * 1024 // 4) + b"\n")
res = "OK"
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
try:
    off = 0
    while off < len(line):
        off += os.write(fd, line[off:])
except OSError as e:
    res = errno.errorcode.get(e.errno, str(e.errno))
try:
    os.close(fd)
except OSError as e:
    if res == "OK":
        res = errno.errorcode.get(e.errno, str(e.errno))
open(sys.argv[2], "w").write(res)
EOF
expect_eq "$(cat "$T/big.err")" EINVAL "writing a 10 MB line"
expect_content "$C/count" 12

# Binary junk is refused whole.
py "$T/junk" <<'EOF'
import random, sys
r = random.Random(7)
data = bytearray(r.getrandbits(8) for _ in range(65536))
data[0] = 0xff
open(sys.argv[1], "wb").write(bytes(data) + b"\n")
EOF
expect_errno EINVAL writefile "$V" "$T/junk"
expect_errno EINVAL write "$V" '\x00\x01\x02\n'
expect_content "$C/count" 12

# A partial last line waits for the next write, even inside a number.
expect_eq "$("$PROBE" seq "$V" a 'w:1 1' 'w: 1\n' c)" "OK OK OK OK" "line split across writes"
expect_eq "$("$PROBE" seq "$V" a 'w:2.5 3' 'w:.5 4\n' c)" "OK OK OK OK" "number split across writes"
expect_content "$C/count" 14
# At close a partial line is a final line; a bad one fails close.
expect_eq "$("$PROBE" seq "$V" a 'w:5 5 5' c)" "OK OK OK" "final line without newline"
expect_content "$C/count" 15
expect_eq "$("$PROBE" seq "$V" a 'w:6 6 6\n7 7' c)" "OK OK EINVAL" "bad final partial line"
expect_content "$C/count" 16
expect_content "$C/_default/ids" 1 2 3 42 43 44 100 101 102 -5 \
	103 104 105 106 107 108
py "$C/entities" <<'EOF' || fail "split lines stored wrong"
import json, sys
e = lambda i: json.load(open("%s/%d" % (sys.argv[1], i)))["vector"]
assert e(105) == [1, 1, 1], e(105)
assert e(106) == [2.5, 3.5, 4], e(106)
assert e(107) == [5, 5, 5], e(107)
assert e(108) == [6, 6, 6], e(108)
EOF

# Truncation is ignored: > appends like >>, truncate(2) changes nothing.
printf '9 9 9\n' >"$V" || fail "> vectors"
expect_content "$C/count" 17
expect_ok truncate "$V" 0
expect_content "$C/count" 17

# cat a/vectors >> b/vectors copies with ids.
mkdir "$M/t2" || fail "mkdir t2"
cat "$V" >>"$M/t2/vectors" || fail "copying vectors"
expect_content "$M/t2/count" 17
cat "$V" >"$T/a.txt"
cat "$M/t2/vectors" >"$T/b.txt"
cmp -s "$T/a.txt" "$T/b.txt" || fail "t2/vectors differs from t/vectors"
expect_content "$M/t2/schema" dim=3 metric_type=L2 vector_type=FLOAT_VECTOR description=
# Copying again collides on every id: EEXIST, nothing inserted.
expect_errno EEXIST writefile "$M/t2/vectors" "$T/a.txt"
expect_content "$M/t2/count" 17
exit 0
