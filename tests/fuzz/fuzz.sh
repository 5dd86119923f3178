#!/bin/sh
# fuzz.sh - run the libFuzzer targets of tests/fuzz (built by `make
# fuzz-build`; `make check` builds them first).
#
#   FUZZ_SECONDS   seconds per target             [FUZZ_CHECK_SECONDS or 3]
#   FUZZ_TARGETS   which targets                  [every one built]
#   FUZZ_KEEP      non-empty (make fuzz): grow the corpus kept in
#                  $MFS_BUILDDIR/tests/fuzz/corpus-TARGET across runs; else
#                  new inputs go to a temporary directory
#
# Each target starts from its seeds (tests/fuzz/corpus/TARGET) and runs
# under ASan and UBSan; a crash, a leak, undefined behaviour, a timeout or a
# broken invariant (fuzz_*.c) fails the run, and the input is kept as
# $MFS_BUILDDIR/tests/fuzz/TARGET-crash-* (replay it: fuzz_TARGET FILE).
# Prints the executions of each target.
set -u
: "${MFS_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${MFS_BUILDDIR:=$(pwd)}"
secs=${FUZZ_SECONDS:-${FUZZ_CHECK_SECONDS:-3}}
bin=$MFS_BUILDDIR/tests/fuzz
all="text fvecs jsonl query name squery kv schema index expr"
targets=${FUZZ_TARGETS:-$all}

if ! command -v "${FUZZ_CC:-clang}" >/dev/null 2>&1; then
	echo "FAIL: fuzz: clang not found: the fuzz targets cannot be built." >&2
	echo "FAIL: fuzz: clang is a declared dependency: install the Debian package clang (./bootstrap deps)" >&2
	exit 1
fi
T=$(mktemp -d "${TMPDIR:-/tmp}/mfs-fuzz.XXXXXX") || exit 99
trap 'rm -rf "$T"' EXIT
trap 'exit 1' INT TERM HUP
rc=0
total=0
for t in $targets; do
	if [ ! -x "$bin/fuzz_$t" ]; then
		echo "FAIL: fuzz: $bin/fuzz_$t not built (make fuzz-build)" >&2
		rc=1
		continue
	fi
	seeds=$MFS_SRCDIR/tests/fuzz/corpus/$t
	[ -d "$seeds" ] || { echo "FAIL: fuzz: no seed corpus $seeds" >&2; rc=1; continue; }
	if [ -n "${FUZZ_KEEP:-}" ]; then
		new=$bin/corpus-$t
	else
		new=$T/corpus-$t
	fi
	mkdir -p "$new" "$T/art-$t"
	"$bin/fuzz_$t" -max_total_time="$secs" -max_len=4096 -timeout=20 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$T/art-$t/" "$new" "$seeds" \
		>"$T/log-$t" 2>&1
	st=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/log-$t")
	total=$((total + ${execs:-0}))
	if [ $st -ne 0 ]; then
		echo "FAIL: fuzz_$t exited with status $st after ${execs:-?} executions:" >&2
		grep -E 'invariant failed|ERROR:|runtime error|SUMMARY|Test unit written' \
			"$T/log-$t" | head -n 20 >&2
		for a in "$T/art-$t"/*; do
			[ -f "$a" ] || continue
			cp "$a" "$bin/$t-$(basename "$a")"
			echo "    input kept: $bin/$t-$(basename "$a") (replay: $bin/fuzz_$t FILE)" >&2
		done
		tail -n 40 "$T/log-$t" >&2
		rc=1
	else
		echo "fuzz_$t: ${execs:-?} executions in ${secs} s, no failure"
	fi
done
echo "fuzz: $total executions in all"
exit $rc
