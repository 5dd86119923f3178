#!/bin/sh
# collections.sh - collections: mkdir, ls, rmdir, mv, the schema file and its
# exact text, dim taken from the first insert, name rules (SPEC §2, §3, §7).
. "$(dirname "$0")/lib.sh"
mfs_mount

# An empty filesystem lists nothing but hides /.errors.
expect_eq "$(ls "$M")" "" "ls of a fresh mount"
[ -f "$M/.errors" ] || fail "/.errors missing"

# mkdir creates a collection with _default and an unknown dim.
expect_ok mkdir "$M/book"
expect_eq "$(ls "$M")" "book" "ls after mkdir"
[ -d "$M/book" ] || fail "book is not a directory"
expect_content "$M/book/partitions" _default
expect_content "$M/book/count" 0
expect_content "$M/book/state" NotLoad
expect_content "$M/book/schema" dim=0 metric_type=L2 vector_type=FLOAT_VECTOR description=
for f in schema index load release state count partitions vectors vectors.fvecs delete entities search _default; do
	[ -e "$M/book/$f" ] || fail "book/$f missing"
done

# The schema, written before data, reads back in full.
echo "dim=128 metric_type=L2" >"$M/book/schema" || fail "write schema"
expect_content "$M/book/schema" dim=128 metric_type=L2 vector_type=FLOAT_VECTOR description=
echo "dim=4 metric_type=IP description=my first book of vectors" >"$M/book/schema" ||
	fail "rewrite schema before any insert"
expect_content "$M/book/schema" dim=4 metric_type=IP vector_type=FLOAT_VECTOR \
	"description=my first book of vectors"

# Bad schemas change nothing.
expect_errno EINVAL write "$M/book/schema" 'dim=1\n'
expect_errno EINVAL write "$M/book/schema" 'dim=32769\n'
expect_errno EINVAL write "$M/book/schema" 'dim=abc\n'
expect_errno EINVAL write "$M/book/schema" 'dim=4 metric_type=MANHATTAN\n'
expect_errno EINVAL write "$M/book/schema" 'dim=4 colour=blue\n'
expect_errno EINVAL write "$M/book/schema" 'dim=4 vector_type=SPARSE_VECTOR\n'
expect_content "$M/book/schema" dim=4 metric_type=IP vector_type=FLOAT_VECTOR \
	"description=my first book of vectors"

# Bounds of dim: 2 and 32768 are valid.
expect_ok mkdir "$M/lo"
expect_ok write "$M/lo/schema" 'dim=2\n'
expect_ok mkdir "$M/hi"
expect_ok write "$M/hi/schema" 'dim=32768 metric_type=COSINE\n'
expect_content "$M/hi/schema" dim=32768 metric_type=COSINE vector_type=FLOAT_VECTOR description=

# Once there is data, dim is fixed (EBUSY); the description may change.
printf '1 2 3 4\n' >>"$M/book/vectors" || fail "insert into book"
expect_content "$M/book/count" 1
expect_errno EBUSY write "$M/book/schema" 'dim=8 metric_type=IP\n'
echo "dim=4 metric_type=IP description=changed  later, with spaces" >"$M/book/schema" ||
	fail "changing the description of a collection with data"
expect_content "$M/book/schema" dim=4 metric_type=IP vector_type=FLOAT_VECTOR \
	"description=changed  later, with spaces"

# Without a schema, the first insert sets dim (metric L2 by default).
expect_ok mkdir "$M/c2"
printf '0.5 1.5 2.5\n' >>"$M/c2/vectors" || fail "first insert into c2"
expect_content "$M/c2/schema" dim=3 metric_type=L2 vector_type=FLOAT_VECTOR description=
expect_content "$M/c2/count" 1
expect_errno EINVAL write "$M/c2/vectors" '1 2\n'
expect_content "$M/c2/count" 1

# Names: a letter or _ first, then letters, digits, _; 1 to 255 bytes.
expect_errno EEXIST mkdir "$M/book"
expect_errno EINVAL mkdir "$M/1abc"
expect_errno EINVAL mkdir "$M/a-b"
expect_errno EINVAL mkdir "$M/a.b"
expect_errno EINVAL mkdir "$M/a b"
n255=$(printf 'a%.0s' $(seq 255))
n256=b$n255
expect_eq "${#n255}" 255 "length of the 255-byte name"
expect_errno EINVAL mkdir "$M/$n256"
expect_ok mkdir "$M/$n255"
expect_ok mkdir "$M/_under_1"
expect_ok mkdir "$M/Z9"
expect_eq "$(ls "$M" | tr '\n' ' ')" "Z9 _under_1 $n255 book c2 hi lo " "ls of every collection"
expect_ok rmdir "$M/$n255"

# ENOENT for what does not exist.
expect_errno ENOENT rmdir "$M/nosuch"
expect_errno ENOENT read "$M/nosuch/count"
expect_errno ENOENT rename "$M/nosuch" "$M/other"

# mv renames, keeping data and schema; onto an existing name: EEXIST.
expect_ok rename "$M/book" "$M/novel"
expect_errno ENOENT read "$M/book/count"
expect_content "$M/novel/count" 1
expect_content "$M/novel/schema" dim=4 metric_type=IP vector_type=FLOAT_VECTOR \
	"description=changed  later, with spaces"
expect_errno EEXIST rename "$M/novel" "$M/c2"
expect_content "$M/c2/count" 1
expect_errno EINVAL rename "$M/novel" "$M/9lives"
expect_content "$M/novel/count" 1

# rmdir drops a collection with its data; a new one of that name is empty.
expect_ok rmdir "$M/novel"
expect_eq "$(ls "$M" | tr '\n' ' ')" "Z9 _under_1 c2 hi lo " "ls after rmdir"
expect_ok mkdir "$M/novel"
expect_content "$M/novel/count" 0
expect_content "$M/novel/schema" dim=0 metric_type=L2 vector_type=FLOAT_VECTOR description=

# A loaded collection cannot be dropped (EBUSY), a released one can; it
# can be renamed while loaded and stays loaded and searchable.
echo 1 >"$M/c2/load" || fail "load c2"
expect_errno EBUSY rmdir "$M/c2"
expect_content "$M/c2/count" 1
expect_ok rename "$M/c2" "$M/c3"
expect_content "$M/c3/state" Loaded
expect_eq "$(cat "$M/c3/search/0.5,1.5,2.5")" "1${TAB}0" "search of the renamed collection"
expect_ok rename "$M/c3" "$M/c2"
echo 1 >"$M/c2/release" || fail "release c2"
expect_ok rmdir "$M/c2"
expect_errno ENOENT read "$M/c2/count"
exit 0
