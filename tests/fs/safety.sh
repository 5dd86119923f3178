#!/bin/sh
# safety.sh - failures that must change nothing and say why (SPEC §7, §13):
# - rm -rf of a loaded collection or partition removes nothing (no
#   entity: entities/ lists nothing; no saved query, no partition), each
#   step EBUSY; rm -rf of a released one drops it whole, and rm exits 0;
# - entities/<id> answers only canonical decimal names; a key given twice
#   in one schema or index write is EINVAL naming it;
# - an id past int64 is EINVAL naming the id and the range;
# - an inline query name over 255 bytes is ENAMETOOLONG with a line that
#   says what to do instead;
# - `: > search/q` of a new name saves an empty query, which reading says
#   is empty; of a saved one, or followed by a bad text, changes nothing;
# - a write of a saved query's text that fails (EFBIG past 256 MiB,
#   ENOMEM past memory_limit) makes close fail too and saves nothing;
# - the text held by open descriptors counts in memory_limit;
# - a reload at mount that does not fit memory_limit reaches /.errors and
#   leaves the collection released, not half loaded.
. "$(dirname "$0")/lib.sh"
mfs_mount

C=$M/c
mkdir "$C" "$C/p" || fail "mkdir c c/p"
printf '1\t1,0\n2\t0,1\n3\t1,1\n' >>"$C/vectors" || fail "insert"
printf '4\t0.5,0.5\n' >>"$C/p/vectors" || fail "insert into p"
printf 'k=2\n1,0\n' >"$C/search/q" || fail "save search/q"
printf 'k=1\n0,1\n' >"$C/p/search/pq" || fail "save p/search/pq"
printf 'limit=2\n' >"$C/query/sq" || fail "save query/sq"
echo 1 >"$C/load" || fail "load c"

# --- rm -rf ------------------------------------------------------------------------
# rm_rf_kept PATH: rm -rf PATH fails, every complaint is EBUSY, and c is
# as it was.
rm_rf_kept() {
	_before=$(errors_lines)
	rm -rf "$1" 2>"$T/rm.err" && fail "rm -rf $1 of something loaded succeeded"
	grep -v 'Device or resource busy$' "$T/rm.err" | head -n 3 >"$T/rm.other"
	[ -s "$T/rm.other" ] && fail "rm -rf $1: a failure other than EBUSY: $(cat "$T/rm.other")"
	[ "$(errors_lines)" -gt "$_before" ] || fail "rm -rf $1: no /.errors line"
	grep -q " EBUSY: .* is loaded, please release it first (rm -r removes a .* whole: nothing in it was removed)$" "$M/.errors" ||
		fail "rm -rf $1: no EBUSY line that says why: $(tail -n 1 "$M/.errors")"
	expect_content "$C/count" 4
	expect_content "$C/partitions" _default p
	expect_content "$C/_default/ids" 1 2 3
	expect_content "$C/p/ids" 4
	expect_eq "$(ls "$C/search" "$C/p/search" "$C/query" | tr '\n' ' ')" \
		"$C/p/search: pq  $C/query: sq  $C/search: q " "saved queries after rm -rf $1"
	expect_content "$C/entities/3" '{"id":3,"partition":"_default","vector":[1,1]}'
}
expect_eq "$(ls -A "$C/entities" | wc -l | tr -d ' ')" 0 "entries listed in entities/"
expect_content "$C/entities/2" '{"id":2,"partition":"_default","vector":[0,1]}'
rm_rf_kept "$C"
expect_content "$C/state" Loaded
# a loaded partition, in a collection loaded or not
rm_rf_kept "$C/p"
echo 1 >"$C/_default/release" || fail "release c/_default"
rm_rf_kept "$C/p"
rm_rf_kept "$C"
echo 1 >"$C/load" || fail "load c again"
# rm by name still deletes, and a plain rm of a control file is EPERM
expect_ok unlink "$C/entities/3"
expect_content "$C/count" 3
expect_logged EPERM /c/count unlink "$C/count"
expect_logged EPERM /c/search rmdir "$C/search"
# released: rm -rf drops the partition, then the collection, whole
echo 1 >"$C/release" || fail "release c"
rm -rf "$C/p" || fail "rm -rf c/p once released"
expect_errno ENOENT stat "$C/p"
expect_content "$C/partitions" _default
expect_content "$C/count" 2
expect_errno ENODATA read "$C/search/q"
rm -rf "$C" || fail "rm -rf c once released"
expect_errno ENOENT stat "$C"
expect_eq "$(ls "$M")" "" "collections after rm -rf c"
# a new c has nothing of the old one
mkdir "$C" || fail "mkdir c again"
expect_eq "$(ls "$C/search" "$C/query" | tr '\n' ' ')" "$C/query:  $C/search: " "saved queries of a new c"
expect_content "$C/count" 0
rmdir "$C" || fail "rmdir the new c"
# a partition-key collection, whose partitions cannot be dropped one by
# one, goes whole too
mkdir "$M/pk" || fail "mkdir pk"
echo "dim=2 field=cat:INT64:partition_key num_partitions=4" >"$M/pk/schema" ||
	fail "schema of pk"
printf '{"id":1,"vector":[1,0],"cat":3}\n{"id":2,"vector":[0,1],"cat":8}\n' \
	>>"$M/pk/entities.jsonl" || fail "insert into pk"
[ "$(wc -l <"$M/pk/partitions")" -ge 4 ] || fail "pk has not its key partitions"
expect_logged EPERM "/pk/$(tail -n 1 "$M/pk/partitions")" rmdir "$M/pk/$(tail -n 1 "$M/pk/partitions")"
rm -rf "$M/pk" || fail "rm -rf of a released partition-key collection"
expect_errno ENOENT stat "$M/pk"

# --- canonical entity names, keys given once ----------------------------------------
C=$M/e
mkdir "$C" || fail "mkdir e"
printf '1\t1,0\n0\t0,1\n-5\t1,1\n' >>"$C/vectors" || fail "insert into e"
for name in 01 00 -0 +1 -05 ' 1' 1.0 1e0 0x1 99999999999999999999; do
	expect_errno ENOENT read "$C/entities/$name"
done
expect_ok read "$C/entities/1"
expect_ok read "$C/entities/0"
expect_ok read "$C/entities/-5"
mkdir "$M/k" || fail "mkdir k"
expect_logged EINVAL /k/schema write "$M/k/schema" 'dim=4 dim=8\n'
case "$LAST_ERROR" in
*" EINVAL: key dim given twice (dim=4, then dim=8): give each key once") ;;
*) fail "dim twice: '$LAST_ERROR'" ;;
esac
expect_content "$M/k/schema" dim=0 metric_type=L2 vector_type=FLOAT_VECTOR description=
expect_logged EINVAL /k/schema write "$M/k/schema" 'dim=4\nmetric_type=IP metric_type=L2\n'
expect_content "$M/k/schema" dim=0 metric_type=L2 vector_type=FLOAT_VECTOR description=
expect_logged EINVAL /e/index write "$C/index" 'index_type=HNSW M=8 M=16\n'
case "$LAST_ERROR" in
*" EINVAL: key M given twice (M=8, then M=16): give each key once") ;;
*) fail "M twice: '$LAST_ERROR'" ;;
esac
expect_eq "$(head -n 1 "$C/index")" index_type=FLAT "index after a refused write"
# one key each, and fields (field= may come many times) still work
echo "dim=2 metric_type=L2" >"$M/k/schema" || fail "schema of k"
echo "field=a:INT64:nullable field=b:INT64:nullable" >"$M/k/schema" || fail "fields of k"

# --- ids past int64 ---------------------------------------------------------------------
expect_logged EINVAL /e/vectors write "$C/vectors" '99999999999999999999\t0.5,0.5\n'
case "$LAST_ERROR" in
*" EINVAL: line 1: id 99999999999999999999 out of range: ids are 64-bit integers in [-9223372036854775808, 9223372036854775807]") ;;
*) fail "id past int64: '$LAST_ERROR'" ;;
esac
expect_logged EINVAL /e/vectors write "$C/vectors" '7\t1,1\n-9223372036854775809\t0.5,0.5\n'
case "$LAST_ERROR" in
*" EINVAL: line 2: id -9223372036854775809 out of range: "*) ;;
*) fail "id below int64: '$LAST_ERROR'" ;;
esac
expect_content "$C/count" 3
expect_ok write "$C/vectors" '9223372036854775807\t0.5,0.5\n-9223372036854775808\t0.25,0.5\n'
expect_content "$C/count" 5

# --- an inline query name over 255 bytes -----------------------------------------------
echo 1 >"$C/load" || fail "load e"
LONG=$(py <<'EOF'
print(",".join(["0.123456789"] * 2) + "&k=1" * 70)
EOF
)
expect_logged ENAMETOOLONG "/e/search/$LONG" read "$C/search/$LONG"
case "$LAST_ERROR" in
*" lookup /e/search/$LONG ENAMETOOLONG: query name too long: at most 255 bytes, got ${#LONG}; save the query in a file of search/ or query/ (printf 'k=5\\n0.1,0.2\\n' > search/q) and read that, with &key=value overrides if need be") ;;
*) fail "long inline name: '$LAST_ERROR'" ;;
esac
expect_logged ENAMETOOLONG "/e/query/$LONG" read "$C/query/$LONG"

# --- : > search/q ------------------------------------------------------------------------
: >"$C/search/empty" || fail ": > search/empty"
expect_eq "$(ls "$C/search")" empty "ls search/ after : > search/empty"
expect_logged EINVAL /e/search/empty read "$C/search/empty"
case "$LAST_ERROR" in
*" EINVAL: query on e (dim=2): saved query empty is empty: write parameter lines and query vectors to it (printf 'k=5\\n0.1,0.2\\n' > search/empty)") ;;
*) fail "empty saved query: '$LAST_ERROR'" ;;
esac
printf 'k=1\n1,0\n' >"$C/search/empty" || fail "write search/empty"
expect_content "$C/search/empty" "1${TAB}0"
# a saved query is left as it was (a shell closes a dup of the descriptor
# before it writes: that close must not empty it)
: >"$C/search/empty" || fail ": > search/empty again"
expect_content "$C/search/empty" "1${TAB}0"
# a bad text for a new name leaves no query behind, empty or not
# (cat reports the failed close; the shell made the file and closed a dup
# of it before cat wrote)
printf 'k=1\nnot a vector\n' | cat >"$C/search/bad" 2>/dev/null && fail "saving a bad query succeeded"
expect_errno ENOENT stat "$C/search/bad"
expect_eq "$(ls "$C/search")" empty "ls search/ after a bad query"
printf 'k=1\nnot a vector\n' | cat >"$C/search/empty" 2>/dev/null && fail "saving a bad query over empty succeeded"
expect_content "$C/search/empty" "1${TAB}0"

# --- a failed write of a query's text: close saves nothing --------------------------------
head -c $((256 * 1024 * 1024)) /dev/zero >"$T/256m" || fail "making 256 MiB"
_before=$(errors_lines)
expect_errno "OK OK EFBIG EFBIG" seq "$C/search/big" wc "f:$T/256m" 'w:k=1\n' c
expect_eq "$(errors_lines)" $((_before + 2)) "/.errors lines after writing 256 MiB + 4 bytes"
tail -n 2 "$M/.errors" >"$T/big.err"
grep -q ' write /e/search/big EFBIG: query text longer than 268435456 bytes: it will not be saved$' "$T/big.err" ||
	fail "write EFBIG line: $(cat "$T/big.err")"
grep -q ' close /e/search/big EFBIG: query not saved: its text passed 268435456 bytes (a write failed)$' "$T/big.err" ||
	fail "close EFBIG line: $(cat "$T/big.err")"
expect_errno ENOENT stat "$C/search/big"
expect_eq "$(ls "$C/search")" empty "ls search/ after the failed save"
# an existing query is left as it was
printf 'k=1\n1,0\n' >"$C/search/kept" || fail "save search/kept"
expect_errno "OK OK EFBIG EFBIG" seq "$C/search/kept" wt "f:$T/256m" 'w:k=1\n' c
rm -f "$T/256m"
expect_content "$C/search/kept" "1${TAB}0"

# --- memory_limit counts query text held open ---------------------------------------------
echo 1 >"$C/release" || fail "release e"
remount memory_limit=1M
py "$T/chunk" <<'EOF' || fail "making a chunk"
import sys
open(sys.argv[1], "w").write("0.5," * 32767 + "0.5\n")
EOF
steps=
i=0
while [ $i -lt 12 ]; do steps="$steps f:$T/chunk"; i=$((i + 1)); done
# shellcheck disable=SC2086
"$PROBE" -P "$T/probe.pid" seq "$C/search/mem" wc $steps c >"$T/mem.out" 2>>"$T/probe.err"
_words=$(cat "$T/mem.out")
case "$_words" in
"OK OK "*" ENOMEM "*" ENOMEM") ;;
*) fail "query text past memory_limit=1M: expected some writes, then ENOMEM to the end and at close, got '$_words'" ;;
esac
grep -q " write /e/search/mem ENOMEM: query text of an open file failed: memory not enough: need [0-9.]* [KM]iB, limit 1.0 MiB, in use [0-9.]* [KM]\\?i\\?B; close descriptors that hold large queries or results, or raise memory_limit$" "$M/.errors" ||
	fail "ENOMEM line: $(grep ENOMEM "$M/.errors")"
grep -q ' close /e/search/mem ENOMEM: query not saved: a write of its text failed (memory_limit)$' "$M/.errors" ||
	fail "close ENOMEM line: $(grep ENOMEM "$M/.errors")"
expect_errno ENOENT stat "$C/search/mem"
# what the descriptor held was given back: the same writes fail at the
# same one again (they would fail sooner if it had not been)
# shellcheck disable=SC2086
expect_errno "$_words" seq "$C/search/mem" wc $steps c

# --- a reload that does not fit memory_limit -------------------------------------------------
remount
C=$M/r
mkdir "$C" "$C/big" || fail "mkdir r r/big"
printf '1\t1,1,1,1\n' >>"$C/vectors" || fail "insert into r"
py "$C/big/vectors" <<'EOF' || fail "insert into r/big"
import sys
with open(sys.argv[1], "a") as f:
    f.write("".join("%d\t%s\n" % (i, ",".join(["0.5"] * 4)) for i in range(10, 20010)))
EOF
echo 1 >"$C/load" || fail "load r"
expect_content "$C/state" Loaded
remount memory_limit=64K
# wait for the reload at mount (a deadline, not a timing assertion)
n=600
while [ "$(cat "$C/big/state")" = Loading ] || [ "$(cat "$C/_default/state")" = Loading ]; do
	n=$((n - 1))
	[ $n -gt 0 ] || fail "reload still running after 30 s"
	sleep 0.05
done
expect_content "$C/state" NotLoad
expect_content "$C/_default/state" NotLoad
expect_content "$C/big/state" NotLoad
grep -q '^[0-9T:Z-]* pid=0 reload /r/big ENOMEM: reload at mount failed: load partition failed: memory not enough: need .*, limit 64.0 KiB, in use .*; so every partition of r loaded at the last unmount is released (NotLoad): load it again$' "$M/.errors" ||
	fail "no /.errors line for the failed reload: $(cat "$M/.errors")"
expect_errno ENODATA read "$C/search/1,1,1,1"
# what state says is what the next mount does
remount
expect_content "$C/state" NotLoad
expect_content "$C/count" 20001
exit 0
