#!/bin/sh
# partitions.sh - partitions: _default, mkdir/rmdir, the partitions file,
# reserved and bad names, EPERM for _default, EBUSY for a loaded one, the
# partition limit (EDQUOT) with -o max_partitions and by default (SPEC §2, §5).
. "$(dirname "$0")/lib.sh"
mfs_mount

mkdir "$M/c" || fail "mkdir c"
echo "dim=2" >"$M/c/schema" || fail "schema"
expect_content "$M/c/partitions" _default
[ -d "$M/c/_default" ] || fail "_default is not a directory"

expect_ok mkdir "$M/c/p1"
expect_ok mkdir "$M/c/_p2"
expect_content "$M/c/partitions" _default p1 _p2
expect_eq "$(ls "$M/c" | tr '\n' ' ')" \
	"_default _p2 compact count delete entities entities.jsonl index load p1 partitions query release schema search state stats upsert vectors vectors.fvecs " \
	"ls of a collection"
expect_eq "$(ls "$M/c/p1" | tr '\n' ' ')" \
	"count delete entities.jsonl ids load query release search state stats upsert vectors vectors.fvecs " \
	"ls of a partition"
expect_errno EEXIST mkdir "$M/c/p1"
expect_errno EEXIST mkdir "$M/c/_default"

# Reserved names.  Those the collection shows as files are refused by the
# kernel already (EEXIST); "ids" exists only inside partitions, so the
# daemon itself must refuse it.
expect_errno EINVAL mkdir "$M/c/ids"
for r in schema index load release state count partitions vectors vectors.fvecs delete entities search; do
	expect_errno EEXIST mkdir "$M/c/$r"
done
expect_errno EINVAL mkdir "$M/c/1p"
expect_errno EINVAL mkdir "$M/c/p-1"
expect_errno EINVAL mkdir "$M/c/$(printf 'p%.0s' $(seq 256))"
expect_content "$M/c/partitions" _default p1 _p2

# Each partition counts its own entities; the collection counts them all.
printf '1 2\n3 4\n' >>"$M/c/p1/vectors" || fail "insert into p1"
printf '5 6\n' >>"$M/c/_default/vectors" || fail "insert into _default"
expect_content "$M/c/p1/count" 2
expect_content "$M/c/_default/count" 1
expect_content "$M/c/_p2/count" 0
expect_content "$M/c/count" 3
expect_content "$M/c/p1/ids" 1 2
expect_content "$M/c/_default/ids" 3

# _default cannot be dropped; a loaded partition cannot be dropped.
expect_errno EPERM rmdir "$M/c/_default"
echo 1 >"$M/c/p1/load" || fail "load p1"
expect_content "$M/c/p1/state" Loaded
expect_errno EBUSY rmdir "$M/c/p1"
expect_content "$M/c/partitions" _default p1 _p2
expect_content "$M/c/count" 3
echo 1 >"$M/c/p1/release" || fail "release p1"
expect_ok rmdir "$M/c/p1"
expect_errno ENOENT rmdir "$M/c/p1"
expect_content "$M/c/partitions" _default _p2
expect_content "$M/c/count" 1
expect_ok rmdir "$M/c/_p2"
expect_content "$M/c/partitions" _default
# A partition of the same name starts empty; its ids do not come back.
expect_ok mkdir "$M/c/p1"
expect_content "$M/c/p1/count" 0
expect_errno ENOENT read "$M/c/entities/1"

# -o max_partitions=4: _default and three more, the fifth is EDQUOT.
remount max_partitions=4
mkdir "$M/lim" || fail "mkdir lim"
for p in a b c; do expect_ok mkdir "$M/lim/$p"; done
expect_errno EDQUOT mkdir "$M/lim/d"
expect_content "$M/lim/partitions" _default a b c
expect_ok rmdir "$M/lim/c"
expect_ok mkdir "$M/lim/d"
expect_errno EDQUOT mkdir "$M/lim/e"

# The default limit is 1,024, _default included.
remount
mkdir "$M/big" || fail "mkdir big"
start=$(date +%s)
py "$M/big" <<'EOF' || fail "creating 1,023 partitions"
import os, sys
base = sys.argv[1]
for i in range(1, 1024):
    os.mkdir(os.path.join(base, "p%d" % i))
EOF
note "1,023 partitions made in $(($(date +%s) - start)) s"
expect_errno EDQUOT mkdir "$M/big/p1024"
expect_eq "$(wc -l <"$M/big/partitions" | tr -d ' ')" 1024 "lines of big/partitions"
expect_eq "$(head -n 2 "$M/big/partitions" | tr '\n' ' ')" "_default p1 " "first partitions"
expect_eq "$(tail -n 1 "$M/big/partitions")" p1023 "last partition"
exit 0
