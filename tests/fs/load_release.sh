#!/bin/sh
# load_release.sh - load and release: partition and collection state, load
# progress, replica_number, searching what is not loaded (ENODATA), load
# state across a remount, memory_limit (ENOMEM) for loads and for the
# memory of a search (SPEC §5, §6, §7).
. "$(dirname "$0")/lib.sh"
bulk_sets
BASE=$SYN/syn128/syn128_base.fvecs
mfs_mount

C=$M/lr
mkdir "$C" "$C/p2" || fail "mkdir lr lr/p2"
echo "dim=4" >"$C/schema" || fail "schema"
printf '1 0 0 0\n0 1 0 0\n' >>"$C/vectors" || fail "insert into _default"
printf '0 0 1 0\n0 0 0 1\n' >>"$C/p2/vectors" || fail "insert into p2"

for s in "$C" "$C/_default" "$C/p2"; do
	expect_content "$s/state" NotLoad
	expect_content "$s/load" 0
done
expect_errno ENODATA read "$C/search/1,0,0,0"
expect_errno ENODATA read "$C/p2/search/1,0,0,0"

# One partition of two loaded: the collection is not Loaded; a collection
# search covers the loaded partition only.
echo 1 >"$C/p2/load" || fail "load p2"
expect_content "$C/p2/state" Loaded
expect_content "$C/p2/load" 100
expect_content "$C/_default/state" NotLoad
expect_content "$C/state" NotLoad
expect_eq "$(cut -f1 "$C/search/1,0,0,0&k=10" | sort -n | tr '\n' ' ')" "3 4 " "collection search with p2 loaded"
expect_errno ENODATA read "$C/_default/search/1,0,0,0"

# Loading the collection loads every partition; loading again succeeds.
echo 1 >"$C/load" || fail "load lr"
for s in "$C" "$C/_default" "$C/p2"; do
	expect_content "$s/state" Loaded
	expect_content "$s/load" 100
done
expect_ok write "$C/load" '1\n'
expect_ok write "$C/load" 'replica_number=1\n'
expect_errno EINVAL write "$C/load" 'replica_number=2\n'
expect_errno EINVAL write "$C/p2/load" 'replica_number=3\n'
expect_errno EINVAL write "$C/load" 'replica_number=x\n'
expect_content "$C/state" Loaded
expect_eq "$(cut -f1 "$C/search/1,0,0,0&k=10" | sort -n | tr '\n' ' ')" "1 2 3 4 " "search with all loaded"

# Inserting into a loaded partition is searchable at once.
printf '0.9 0 0 0\n' >>"$C/vectors" || fail "insert while loaded"
expect_eq "$(head -n 1 "$C/search/0.9,0,0,0&k=1")" "5${TAB}0" "nearest after an insert while loaded"

# Release one partition, then the collection.
echo 1 >"$C/_default/release" || fail "release _default"
expect_content "$C/_default/state" NotLoad
expect_content "$C/state" NotLoad
expect_errno ENODATA read "$C/_default/search/1,0,0,0"
expect_eq "$(cut -f1 "$C/search/1,0,0,0&k=10" | sort -n | tr '\n' ' ')" "3 4 " "collection search after releasing _default"
# Inserting into a released partition only stores.
printf '1 0 0 0\n' >>"$C/vectors" || fail "insert while released"
expect_content "$C/count" 6
expect_eq "$(cut -f1 "$C/search/1,0,0,0&k=10" | sort -n | tr '\n' ' ')" "3 4 " "released entities are not searched"
echo 1 >"$C/release" || fail "release lr"
for s in "$C" "$C/_default" "$C/p2"; do
	expect_content "$s/state" NotLoad
done
expect_errno ENODATA read "$C/search/1,0,0,0"
expect_ok write "$C/release" '1\n'

# Load state survives a remount: p2 comes back loaded, _default does not.
echo 1 >"$C/p2/load" || fail "load p2 again"
remount
n=0
while [ "$(cat "$C/p2/state")" != Loaded ]; do
	st=$(cat "$C/p2/state")
	[ "$st" = Loading ] || fail "p2/state after remount: expected Loading or Loaded, got '$st'"
	n=$((n + 1))
	[ $n -lt 600 ] || fail "p2 not loaded 30 s after the remount"
	sleep 0.05
done
expect_content "$C/_default/state" NotLoad
expect_content "$C/state" NotLoad
expect_eq "$(cut -f1 "$C/search/0,0,1,0&k=10" | sort -n | tr '\n' ' ')" "3 4 " "search after remount"

# memory_limit: a load past it fails with ENOMEM, names the sizes, and
# changes nothing.
remount memory_limit=100K
while [ "$(cat "$C/p2/state")" = Loading ]; do sleep 0.05; done
expect_content "$C/p2/state" Loaded
mkdir "$M/big" || fail "mkdir big"
cat "$BASE" >>"$M/big/vectors.fvecs" || fail "import into big"
expect_content "$M/big/count" 8000
expect_logged ENOMEM /big/load write "$M/big/load" '1\n'
printf '%s\n' "$LAST_ERROR" | grep -Eq 'ENOMEM: .*[0-9]+[^0-9]+[0-9]+' ||
	fail "ENOMEM message names no sizes: $LAST_ERROR"
expect_content "$M/big/state" NotLoad
expect_content "$M/big/_default/state" NotLoad
expect_errno ENODATA read "$M/big/search/id=1"
# A search's own memory (its hits and results) counts too: past the limit
# it fails with ENOMEM naming the sizes; a small search still runs, and
# the memory is given back after each search.
expect_logged ENOMEM "/lr/search/0,0,1,0&k=16384" read "$C/search/0,0,1,0&k=16384"
printf '%s\n' "$LAST_ERROR" | grep -q 'search fewer queries' ||
	fail "search ENOMEM message says nothing to do: $LAST_ERROR"
expect_eq "$(cut -f1 "$C/search/0,0,1,0&k=2" | tr '\n' ' ')" "3 4 " "small search under memory_limit"
expect_eq "$(cut -f1 "$C/search/0,0,1,0&k=2" | tr '\n' ' ')" "3 4 " "small search again"
echo 1 >"$C/p2/release" || fail "release p2 under memory_limit"
echo 1 >"$C/p2/load" || fail "load p2 again under memory_limit"
# Without the limit it loads.
remount
echo 1 >"$M/big/load" || fail "load big without a memory limit"
expect_content "$M/big/state" Loaded
expect_eq "$(head -n 1 "$M/big/search/id=1" | cut -f1)" 1 "nearest of entity 1"

# While a partition is Loading (the reload at mount runs in the
# background), a search fails with EAGAIN; it is never answered from half
# the data.  A search is known to have run while loading when the state
# reads Loading both before and after it.
GL=$SYN/bulk100.fvecs         # 100,000 x 100
mkdir "$M/gl" || fail "mkdir gl"
cat "$GL" >>"$M/gl/vectors.fvecs" || fail "import bulk100"
echo 1 >"$M/gl/load" || fail "load gl"
remount
seen=0 n=0
while :; do
	s1=$(cat "$M/gl/state")
	r=$("$PROBE" read "$M/gl/search/id=1")
	s2=$(cat "$M/gl/state")
	case "$s1 $s2 $r" in
	"Loading Loading EAGAIN") seen=1 ;;
	"Loading Loading "*) fail "a search while gl was Loading: expected EAGAIN, got $r" ;;
	*" Loaded OK") break ;;
	"Loading Loaded "*) ;;
	*) fail "after a remount: state $s1, then search $r, then state $s2" ;;
	esac
	n=$((n + 1))
	[ $n -lt 3000 ] || fail "gl not Loaded long after the remount"
done
if [ $seen -eq 1 ]; then
	note "EAGAIN seen while Loading"
else
	note "the reload finished before a search could see Loading"
fi
exit 0
