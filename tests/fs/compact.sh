#!/bin/sh
# compact.sh - compaction (SPEC §11) of every index type while searches
# and inserts go on: 15% deleted and 3% upserted, then `echo 1 > compact`
# with a searcher and an inserter running; no entity lost or resurrected
# (ids against the expected list, no deleted id in any answer, every
# answer full), recall@10 against numpy brute force (compact_ref.py) after
# the compaction and after a remount, the stored index smaller; the
# automatic trigger past 20% deleted; O_NONBLOCK.
. "$(dirname "$0")/lib.sh"
mfs_mount
REF=$MFS_SRCDIR/tests/fs/compact_ref.py

st() { sed -n "s/^$2=//p" "$1"; }
expect_stat() {
	_v=$(st "$1" "$2")
	[ "$_v" = "$3" ] || fail "$1: $2: expected '$3', got '$_v'$NL$(cat "$1")"
}
# wait_idle C RUNS: compact reads state=Idle and runs=RUNS (within 120 s).
wait_idle() {
	_n=2400
	until [ "$(st "$1/compact" state)" = Idle ] &&
		[ "$(st "$1/compact" runs)" = "$2" ]; do
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || fail "$1/compact: not Idle with runs=$2 after 120 s:$NL$(cat "$1/compact")"
		sleep 0.05
	done
}

for kind in float binary; do
	mkdir "$T/$kind" || fail "mkdir"
	"$MFS_PYTHON" "$REF" gen "$T/$kind" "$kind" || fail "compact_ref.py gen $kind"
done

# run_type NAME KIND SCHEMA INDEX SEARCHPARAMS MINRECALL
run_type() {
	name=$1 kind=$2 D=$T/$2 C=$M/$1
	note "$name: $4"
	mkdir "$C" || fail "mkdir $name"
	echo "$3" >"$C/schema" || fail "$name: schema"
	cat "$D/base.txt" >>"$C/vectors" || fail "$name: insert"
	echo "$4" >"$C/index" || fail "$name: index $4"
	echo 1 >"$C/load" || fail "$name: load"
	cat "$D/del.txt" >"$C/delete" || fail "$name: delete"
	cat "$D/ups.txt" >"$C/upsert" || fail "$name: upsert"
	expect_stat "$C/stats" deleted_pending 3600
	expect_stat "$C/stats" entities 17000
	expect_stat "$C/compact" runs 0
	ib0=$(st "$C/stats" index_bytes)
	{ printf 'k=10\n%s' "$5"; cat "$D/q.txt"; } >"$C/search/b" ||
		fail "$name: save the batch"

	# A searcher and an inserter while the compaction runs.
	rm -f "$T/stop" "$T/during."* "$T/bgfail"
	(
		i=0
		while [ ! -f "$T/stop" ] && [ $i -lt 400 ]; do
			cat "$C/search/b" >"$T/during.$i" ||
				{ echo "search $i failed" >>"$T/bgfail"; break; }
			i=$((i + 1))
		done
	) &
	spid=$!
	(
		for f in "$D"/ins*.txt; do
			cat "$f" >>"$C/vectors" ||
				{ echo "insert $f failed" >>"$T/bgfail"; break; }
		done
	) &
	ipid=$!
	echo 1 >"$C/compact" || fail "$name: compact"
	wait "$ipid"
	: >"$T/stop"
	wait "$spid"
	[ ! -f "$T/bgfail" ] || fail "$name: $(cat "$T/bgfail")"

	expect_stat "$C/compact" state Idle
	expect_stat "$C/compact" runs 1
	expect_stat "$C/compact" last_trigger manual
	expect_stat "$C/compact" last_partitions 1
	expect_stat "$C/compact" last_removed 3600
	expect_stat "$C/stats" deleted_pending 0
	expect_stat "$C/stats" entities 18000
	# Through a pipe: GNU sort sizes its buffers from st_size, which is 0
	# for ids, and then spills every 4 KiB to a temporary file.
	cat "$C/_default/ids" | sort -n >"$T/ids" || fail "$name: ids"
	cmp -s "$T/ids" "$D/live.txt" ||
		fail "$name: the ids after the compaction differ from the expected ones"
	if [ "$ib0" -gt 0 ]; then
		ib1=$(st "$C/stats" index_bytes)
		[ "$ib1" -lt "$ib0" ] ||
			fail "$name: index_bytes $ib0 before the compaction, $ib1 after"
	fi
	cat "$C/search/b" >"$T/after" || fail "$name: search after"
	r=$("$MFS_PYTHON" "$REF" check "$D" "$T/after" "$6" "$T/during."*) ||
		fail "$name: after the compaction: $r"
	note "$name: recall@10 $r after the compaction, $(ls "$T"/during.* | wc -l) answers during it checked"

	remount
	wait_loaded "$C"
	cat "$C/_default/ids" | sort -n >"$T/ids" || fail "$name: ids after remount"
	cmp -s "$T/ids" "$D/live.txt" || fail "$name: ids after the remount"
	expect_stat "$C/stats" loaded_past_index 0
	cat "$C/search/b" >"$T/after" || fail "$name: search after remount"
	r=$("$MFS_PYTHON" "$REF" check "$D" "$T/after" "$6") ||
		fail "$name: after the remount: $r"
	echo 1 >"$C/release" || fail "$name: release"
}

F="dim=16 metric_type=L2"
B="dim=64 vector_type=BINARY_VECTOR metric_type=HAMMING"
run_type flat float "$F" "index_type=FLAT" "" 1
run_type hnsw float "$F" "index_type=HNSW M=16 efConstruction=100" "ef=64$NL" 0.95
run_type ivfflat float "$F" "index_type=IVF_FLAT nlist=32" "nprobe=32$NL" 1
run_type ivfsq8 float "$F" "index_type=IVF_SQ8 nlist=32" "nprobe=32$NL" 0.9
run_type ivfpq float "$F" "index_type=IVF_PQ nlist=32 m=8 nbits=8" "nprobe=32$NL" 0.5
run_type binflat binary "$B" "index_type=BIN_FLAT" "" 1
run_type binivf binary "$B" "index_type=BIN_IVF_FLAT nlist=32" "nprobe=32$NL" 1

# The automatic trigger: past 20% deleted of a partition, not before.
C=$M/auto
mkdir "$C" || fail "mkdir auto"
echo "dim=16" >"$C/schema" || fail "auto: schema"
head -n 1000 "$T/float/base.txt" >>"$C/vectors" || fail "auto: insert"
echo "index_type=HNSW M=8 efConstruction=64" >"$C/index" || fail "auto: index"
echo 1 >"$C/load" || fail "auto: load"
seq 1 200 >"$C/delete" || fail "auto: delete 200"
# 200 of 1,000 is 20%, not past it.
expect_stat "$C/stats" deleted_pending 200
expect_stat "$C/compact" runs 0
echo 201 >"$C/delete" || fail "auto: delete 201"
wait_idle "$C" 1
expect_stat "$C/compact" last_trigger auto
expect_stat "$C/compact" last_removed 201
expect_stat "$C/stats" deleted_pending 0
expect_stat "$C/stats" entities 799
expect_eq "$(cut -f1 "$C/search/id=500&k=1&ef=200")" 500 "auto: a search after"

# O_NONBLOCK: the write returns at once; the run finishes alone.
seq 300 310 >"$C/delete" || fail "auto: delete 11"
expect_stat "$C/stats" deleted_pending 11
expect_eq "$("$PROBE" seq "$C/compact" wn 'w:1\n' c)" "OK OK OK" "non-blocking compact"
wait_idle "$C" 2
expect_stat "$C/compact" last_trigger manual
expect_stat "$C/compact" last_removed 11
expect_stat "$C/stats" deleted_pending 0
exit 0
