#!/bin/sh
# fuzz_jsonl.sh - build and run the libFuzzer target of fmt_jsonl_parse
# (tests/unit/fuzz_jsonl.c) under ASan and UBSan.  Not part of make check.
#
#   tests/unit/fuzz_jsonl.sh BUILD_DIR [SECONDS] [libFuzzer options...]
#
# BUILD_DIR is a configured build directory (for config.h); the binary and
# the corpus go into BUILD_DIR/fuzz_jsonl.d.  Needs clang with libFuzzer
# (Debian: clang).  Crashes are written there as crash-*; replay one with
#   BUILD_DIR/fuzz_jsonl.d/fuzz_jsonl CRASH_FILE
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: fuzz_jsonl.sh BUILD_DIR [SECONDS]}" && pwd)
secs=${2:-120}
shift $(( $# >= 2 ? 2 : 1 ))
out=$build/fuzz_jsonl.d
mkdir -p "$out/corpus"
${CC_FUZZ:-clang} -g -O1 -std=c11 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined \
	-include "$build/config.h" -I"$src/src" $(pkg-config --cflags jansson) \
	"$src/tests/unit/fuzz_jsonl.c" "$src"/src/fmt/*.c "$src"/src/field/*.c \
	"$src"/src/base/*.c $(pkg-config --libs jansson) -lm -lpthread \
	-o "$out/fuzz_jsonl"
# seeds: the first byte picks the batch (see fuzz_jsonl.c)
printf '\004{"id": 7, "vector": [0.1, 0.2, 0.3, 0.4], "word": "piano", "rank": 1520, "tags": ["music"], "meta": {"pos": "noun"}}\n' \
	> "$out/corpus/seed1"
printf '\006{"vector":[1,2,3,4],"b":true,"i8":-8,"i16":300,"i32":-70000,"f":0.5,"d":1e-300,"word":"a\\u00e9\\n","rank":1,"nums":[1,2],"fl":[0.25],"meta":[1,{"k":null}],"dyn":"x","id":"-3"}\n0.5 0.5 0.5 0.5\n{"vector":[4,3,2,1],"rank":2,"partition":"p"}' \
	> "$out/corpus/seed2"
printf '\011{"id": 3, "vector": "55f0", "rank": 9, "tags": []}\n{"id": 4, "vector": [1,0,1,0,1,0,1,0,1,1,1,1,0,0,0,0]}\n7\t00ff\n' \
	> "$out/corpus/seed3"
printf '\000{"id":1,"vector":[1.5e-7,-0,3.4028235e38,1e-45],"f":-0.0,"meta":{"a":[1.0,"x"]},"word":"\\ud83d\\ude00"}\n' \
	> "$out/corpus/seed4"
cd "$out"
exec ./fuzz_jsonl -max_total_time="$secs" -max_len=4096 -print_final_stats=1 \
	"$@" corpus
