#!/bin/sh
# fuzz_expr.sh - build and run the libFuzzer target for expressions
# (tests/unit/fuzz_expr.c).  Not part of make check: run it by hand.
#
#   tests/unit/fuzz_expr.sh [SECONDS] [extra libFuzzer options]
#
# Needs clang with libFuzzer and jansson's headers; builds into
# ${BUILD:-/tmp/fuzz_expr} with ASan and UBSan, seeds a corpus with
# expressions of every production, and runs for SECONDS (default 120).
# A crash, a leak, undefined behaviour or a disagreement between the
# evaluator's paths (in order, gathered, through indexes) stops the run and
# leaves crash-* in the build directory; replay one with
#   $BUILD/fuzz_expr $BUILD/crash-...
set -eu
SECONDS_TO_RUN=${1:-120}
[ $# -gt 0 ] && shift
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-/tmp/fuzz_expr}
mkdir -p "$BUILD/corpus"
# config.h: the same feature macros as the real build
cat > "$BUILD/config.h" <<'H'
#define _GNU_SOURCE 1
H
clang -g -O1 -std=c11 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -include "$BUILD/config.h" \
	-I"$SRC/src" $(pkg-config --cflags jansson) \
	"$SRC/tests/unit/fuzz_expr.c" "$SRC/src/field/expr_lex.c" \
	"$SRC/src/field/expr_parse.c" "$SRC/src/field/expr_operand.c" \
	"$SRC/src/field/expr_row.c" "$SRC/src/field/expr_plan.c" \
	"$SRC/src/field/expr_eval.c" "$SRC/src/field/sidx.c" \
	"$SRC/src/base/err.c" $(pkg-config --libs jansson) -lm \
	-o "$BUILD/fuzz_expr"
i=0
while IFS= read -r line; do
	i=$((i + 1))
	printf '%s' "$line" > "$BUILD/corpus/seed$i"
done <<'SEEDS'
rank < 500
1 < rank <= 5 and b
5 > i8 >= -1
rank % 10 == 0 or n / 0 == 1
rank in [1, 2, 3.5, -7] and not word in ["a", 'ab']
word like "ab%" || note like '%b\%' && word like "_p%e"
array_contains(tags, "a") and array_contains_any(nums, [1, 2])
array_contains_all(nums, [0, 1]) or array_length(tags) > 1
json_contains(meta["a"], 1) and json_contains_any(meta["a"], ["x"])
meta["o"]["j"] == true or meta["k"] > 3 or meta["a"][0] != 2
exists meta["s"] and $meta["x"] is null and color == "red"
n is not null AND NOT (n IS NULL) and id > -100
-rank * 2 + f / 3 >= d - 1.5e2
(d < 0) != false
SEEDS
cd "$BUILD"
exec ./fuzz_expr -max_total_time="$SECONDS_TO_RUN" -max_len=512 \
	-print_final_stats=1 "$@" corpus
