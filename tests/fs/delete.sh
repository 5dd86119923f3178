#!/bin/sh
# delete.sh - deleting: the delete file, rm entities/<id>, unknown ids,
# exact counts, entities/<id> JSON, deleted entities never found (SPEC §4).
. "$(dirname "$0")/lib.sh"
mfs_mount

C=$M/d
mkdir "$C" || fail "mkdir d"
echo "dim=2" >"$C/schema" || fail "schema"
i=1
while [ $i -le 10 ]; do
	printf '%s 0.5\n' $i
	i=$((i + 1))
done >>"$C/vectors" || fail "insert 10"
mkdir "$C/p" || fail "mkdir d/p"
printf '77\t-1.25,2\n' >>"$C/p/vectors" || fail "insert into p"
expect_content "$C/count" 11

# entities/<id> is one JSON object naming its partition.
expect_eq "$(cat "$C/entities/1")" '{"id":1,"partition":"_default","vector":[1,0.5]}' "entities/1"
expect_eq "$(cat "$C/entities/77")" '{"id":77,"partition":"p","vector":[-1.25,2]}' "entities/77"
# entities/ lists nothing (SPEC §2: rm -rf cannot walk it); the ids are
# in vectors and ids.
expect_eq "$(ls -A "$C/entities" | wc -l | tr -d ' ')" 0 "entries listed in entities/"
expect_eq "$(cut -f1 "$C/vectors" | tr '\n' ' ')" "1 2 3 4 5 6 7 8 9 10 77 " "ids in vectors"

# The delete file takes ids separated by any white space.
echo "3 5" >"$C/delete" || fail "delete 3 5"
expect_content "$C/count" 9
expect_errno ENOENT read "$C/entities/3"
printf '7\n\t8  \n' >"$C/delete" || fail "delete 7 8"
expect_content "$C/count" 7
# Unknown ids are ignored, known ones in the same write are deleted.
expect_ok write "$C/delete" '999 4 -12\n'
expect_content "$C/count" 6
expect_ok write "$C/delete" '3\n'
expect_content "$C/count" 6
# A malformed id fails the whole write: nothing is deleted.
expect_errno EINVAL write "$C/delete" '1 abc\n'
expect_errno EINVAL write "$C/delete" '1 2.5\n'
expect_content "$C/count" 6
expect_ok read "$C/entities/1"

# rm entities/<id> deletes one entity.
expect_ok unlink "$C/entities/9"
expect_errno ENOENT unlink "$C/entities/9"
expect_errno ENOENT read "$C/entities/9"
expect_content "$C/count" 5
expect_content "$C/_default/count" 4
expect_content "$C/_default/ids" 1 2 6 10
expect_eq "$(ls -A "$C/entities" | wc -l | tr -d ' ')" 0 "entries listed in entities/ after deletes"
expect_eq "$(cut -f1 "$C/vectors" | tr '\n' ' ')" "1 2 6 10 77 " "ids in vectors after deletes"

# Deleted entities are never returned by a search, also after a delete
# made while loaded.
echo 1 >"$C/load" || fail "load"
cut -f1 "$C/search/3,0.5&k=100" | sort -n | tr '\n' ' ' >"$T/hits"
expect_eq "$(cat "$T/hits")" "1 2 6 10 77 " "hits of a search after deletes"
echo 2 >"$C/delete" || fail "delete 2 while loaded"
expect_eq "$(cut -f1 "$C/search/2,0.5&k=100" | sort -n | tr '\n' ' ')" "1 6 10 77 " "hits after delete while loaded"
rm "$C/entities/77" || fail "rm entities/77 while loaded"
expect_eq "$(cut -f1 "$C/search/-1.25,2&k=100" | sort -n | tr '\n' ' ')" "1 6 10 " "hits after rm while loaded"
expect_content "$C/count" 3
expect_content "$C/p/count" 0

# Deletes survive a remount.
remount
expect_content "$C/count" 3
expect_eq "$(cut -f1 "$C/vectors" | tr '\n' ' ')" "1 6 10 " "ids in vectors after remount"
for i in 1 6 10; do expect_ok read "$C/entities/$i"; done
expect_errno ENOENT read "$C/entities/2"
exit 0
