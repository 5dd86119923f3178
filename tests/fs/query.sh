#!/bin/sh
# query.sh - scalar queries (SPEC §9): every output format byte for byte on a
# small collection, the three query forms, overrides, partitions, every
# error with its errno and /.errors line, a collection without fields, a
# differential test of a few hundred random expressions against a brute
# force in Python (query_ref.py, over the rows this script wrote), streaming
# 200,000 matches, and a result consistent as of open.
. "$(dirname "$0")/lib.sh"
REF=$MFS_SRCDIR/tests/fs
# lib.sh's ERR_RE takes a path without spaces; query names have them (SPEC
# §7 escapes control bytes only): the same check with any path.
ERR_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z pid=[0-9]+ [a-z_]+ /.* E[A-Z0-9]+: .+$'
# bug MESSAGE: an assertion that failed; the script goes on and fails at
# the end (so that one daemon bug does not hide the checks after it).
bug() {
	printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
	printf '%s\n' "$*" >>"$T/bugs"
}
soft_errno() {
	_want=$1; shift
	_got=$("$PROBE" "$@" 2>>"$T/probe.err")
	[ "$_got" = "$_want" ] || bug "errno_probe $*: expected $_want, got '$_got'"
}
mfs_mount

# ---- a small collection: formats byte for byte ------------------------------
F=$M/f
mkdir "$F" || fail "mkdir f"
echo "dim=2 field=word:VARCHAR(32) field=rank:INT64 field=score:DOUBLE field=ok:BOOL field=tags:ARRAY(VARCHAR(8),4) field=meta:JSON field=note:VARCHAR(8):nullable enable_dynamic_field=true" >"$F/schema" ||
	fail "schema of f"
mkdir "$F/p" || fail "mkdir f/p"
cat >"$T/f.jsonl" <<'EOF'
{"id":3,"vector":[0.5,-1],"word":"piano","rank":10,"score":0.1,"ok":true,"tags":["music"],"meta":{"a":{"b":1}},"note":"x","k":1}
{"id":-7,"vector":[0,0.25],"word":"a\tb\nc\"d\\é/","rank":-5,"score":-2.5,"ok":false,"tags":[],"meta":[1,"two"],"note":null}
EOF
cat >"$T/fp.jsonl" <<'EOF'
{"id":12,"vector":[1,1],"word":"","rank":9223372036854775807,"score":1e300,"ok":true,"tags":["a","b"],"meta":"s","note":"nn","k":"v","k2":[1]}
{"id":100,"vector":[2,2],"word":"\u0001x","rank":-9223372036854775808,"score":3,"ok":false,"tags":["z"],"meta":{},"note":null}
EOF
cat "$T/f.jsonl" >>"$F/entities.jsonl" || fail "insert into f"
cat "$T/fp.jsonl" >>"$F/p/entities.jsonl" || fail "insert into f/p"

# Nothing loaded: ENODATA with Milvus's words, in every form.
expect_logged ENODATA "/f/query/id > 0" read "$F/query/id > 0"
case $LAST_ERROR in
*"ENODATA: collection not loaded[collection=f]") ;;
*) fail "ENODATA message: $LAST_ERROR" ;;
esac
expect_errno ENODATA read "$F/p/query/id > 0"
expect_errno "OK OK ENODATA" seq "$F/query/d1" rwc 'w:filter=id > 0\n' r
# (whether that descriptor, whose read failed, saved d1 is left open: it does)
rm -f "$F/query/d1"
echo 1 >"$F/load" || fail "load f"

L1='{"id":-7,"word":"a\tb\nc\"d\\é/","rank":-5,"score":-2.5,"ok":false,"tags":[],"meta":[1,"two"],"note":null}'
L2='{"id":3,"word":"piano","rank":10,"score":0.1,"ok":true,"tags":["music"],"meta":{"a":{"b":1}},"note":"x","k":1}'
L3='{"id":12,"word":"","rank":9223372036854775807,"score":1e+300,"ok":true,"tags":["a","b"],"meta":"s","note":"nn","k":"v","k2":[1]}'
L4='{"id":100,"word":"\u0001x","rank":-9223372036854775808,"score":3,"ok":false,"tags":["z"],"meta":{},"note":null}'
expect_content "$F/query/id > -100" "$L1" "$L2" "$L3" "$L4"
expect_content "$F/query/id > -100&format=jsonl" "$L1" "$L2" "$L3" "$L4"
expect_content "$F/query/id > -100&output_fields=*" "$L1" "$L2" "$L3" "$L4"
expect_content "$F/query/id > -100&format=json" "[$L1,$L2,$L3,$L4]"
expect_content "$F/query/id > -100&format=tsv" \
	"id${TAB}word${TAB}rank${TAB}score${TAB}ok${TAB}tags${TAB}meta${TAB}note${TAB}\$meta" \
	"-7${TAB}\"a\\tb\\nc\\\"d\\\\é/\"${TAB}-5${TAB}-2.5${TAB}false${TAB}[]${TAB}[1,\"two\"]${TAB}null${TAB}{}" \
	"3${TAB}\"piano\"${TAB}10${TAB}0.1${TAB}true${TAB}[\"music\"]${TAB}{\"a\":{\"b\":1}}${TAB}\"x\"${TAB}{\"k\":1}" \
	"12${TAB}\"\"${TAB}9223372036854775807${TAB}1e+300${TAB}true${TAB}[\"a\",\"b\"]${TAB}\"s\"${TAB}\"nn\"${TAB}{\"k\":\"v\",\"k2\":[1]}" \
	"100${TAB}\"\\u0001x\"${TAB}-9223372036854775808${TAB}3${TAB}false${TAB}[\"z\"]${TAB}{}${TAB}null${TAB}{}"
# output_fields in the order given; vector; dynamic keys by name.
expect_content "$F/query/rank > 0&output_fields=rank,word" \
	'{"id":3,"rank":10,"word":"piano"}' '{"id":12,"rank":9223372036854775807,"word":""}'
expect_content "$F/query/id > -100&format=json&output_fields=vector,k,note&limit=2&offset=1" \
	'[{"id":3,"vector":[0.5,-1],"k":1,"note":"x"},{"id":12,"vector":[1,1],"k":"v","note":"nn"}]'
expect_content "$F/query/ok == false&output_fields=id&format=tsv" "id" "-7" "100"
expect_content "$F/query/ok&output_fields=vector&format=tsv" \
	"id${TAB}vector" "3${TAB}[0.5,-1]" "12${TAB}[1,1]"
expect_content "$F/query/id > -100&output_fields=count(*)" "4"
expect_content "$F/query/ok&output_fields=count(*)&format=json" "2"
expect_content "$F/query/id > -100&limit=1&offset=3" "$L4"
expect_content "$F/query/id > -100&offset=4"
expect_content "$F/query/id > -100&offset=2&limit=100" "$L3" "$L4"
# An empty answer in each format.
expect_content "$F/query/id > 1000"
expect_content "$F/query/id > 1000&format=json" "[]"
expect_content "$F/query/id > 1000&format=tsv&output_fields=word,rank" "id${TAB}word${TAB}rank"
expect_content "$F/query/id > 1000&output_fields=count(*)" "0"
# Expressions over the odd values, and `&&` kept inside an inline name.
expect_content "$F/query/word like \"a\\tb\\nc\\\"d%\"&output_fields=id" '{"id":-7}'
expect_content "$F/query/word like '%\\\\\\\\é_'&output_fields=id" '{"id":-7}'
expect_content "$F/query/rank == 9223372036854775807 && ok&output_fields=id" '{"id":12}'
expect_content "$F/query/rank < -9223372036854775807&output_fields=id" '{"id":100}'
expect_content "$F/query/meta[\"a\"][\"b\"] == 1 || meta[0] == 1&output_fields=id" '{"id":-7}' '{"id":3}'
expect_content "$F/query/k == \"v\" or \$meta[\"k\"] == 1&output_fields=id" '{"id":3}' '{"id":12}'
expect_content "$F/query/note is null&output_fields=id" '{"id":-7}' '{"id":100}'
expect_content "$F/query/not (note == \"x\")&output_fields=id" '{"id":12}'
expect_content "$F/query/word like \"%\"&output_fields=count(*)" "4"
expect_content "$F/query/word like \"_\"&output_fields=count(*)" "0"
expect_content "$F/query/word like \"\\\\%\"&output_fields=count(*)" "0"
expect_content "$F/query/score > 0.1&output_fields=id" '{"id":12}' '{"id":100}'
expect_content "$F/query/score >= 0.1 and score <= 0.1&output_fields=id" '{"id":3}'
expect_content "$F/query/id > 0 AnD ok&output_fields=id" '{"id":3}' '{"id":12}'
# Integers at the ends of INT64 against integer and float literals.
expect_content "$F/query/rank == 9223372036854775807.0&output_fields=id"
expect_content "$F/query/rank >= 9223372036854775807&output_fields=id" '{"id":12}'
expect_content "$F/query/rank == -9223372036854775808&output_fields=id" '{"id":100}'
expect_content "$F/query/rank < -9223372036854775808&output_fields=id"
expect_content "$F/query/rank > 9223372036854775807&output_fields=id"
expect_content "$F/query/rank <= -9.3e18 or rank >= 9.2e18&output_fields=id" '{"id":12}'
expect_content "$F/query/id == 12.0&output_fields=id" '{"id":12}'
expect_content "$F/query/id < 3.5 and id > -7.5&output_fields=id" '{"id":-7}' '{"id":3}'
expect_content "$F/query/score > 1e299&output_fields=id" '{"id":12}'
expect_content "$F/query/score == 0.1&output_fields=id" '{"id":3}'
expect_content "$F/query/word like \"%\\\\\\\\___\"&output_fields=id" '{"id":-7}'   # '_' is a byte (expr.h)

# ---- the three forms ------------------------------------------------------------
# e: no dynamic field, so a bare name is a saved query or ENOENT.
E=$M/e
mkdir "$E" || fail "mkdir e"
echo "dim=2 field=w:VARCHAR(8) field=r:INT64" >"$E/schema" || fail "schema of e"
echo '{"id":5,"vector":[1,2],"w":"a","r":1}' >>"$E/entities.jsonl" || fail "insert into e"
echo 1 >"$E/load" || fail "load e"
Q=$F/query
printf 'filter=rank > 0\noutput_fields=word\n' >"$Q/pos" || fail "save pos"
printf 'id < 5\nformat=tsv\noutput_fields=rank\n' >"$Q/lt" || fail "save lt (a bare expression line)"
expect_content "$Q/pos" '{"id":3,"word":"piano"}' '{"id":12,"word":""}'
expect_content "$Q/pos&limit=1" '{"id":3,"word":"piano"}'
expect_content "$Q/pos&output_fields=count(*)" "2"
expect_content "$Q/pos&filter=rank < 0" '{"id":-7,"word":"a\tb\nc\"d\\é/"}' '{"id":100,"word":"\u0001x"}'
expect_content "$Q/lt" "id${TAB}rank" "-7${TAB}-5" "3${TAB}10"
# Expressions containing '/' in the saved form.
printf '%s\n' 'filter=word == "a\tb\nc\"d\\é/"' 'output_fields=rank' >"$Q/slash" || fail "save slash"
expect_content "$Q/slash" '{"id":-7,"rank":-5}'
rm "$Q/slash" || fail "rm slash"
expect_eq "$(ls "$Q" | tr '\n' ' ')" "lt pos " "ls query/"
# A descriptor that reads what it wrote saves nothing.
expect_eq "$("$PROBE" rw "$Q/dd" 'filter=id == 3\noutput_fields=word\n')" '{"id":3,"word":"piano"}' "descriptor answer"
expect_eq "$(ls "$Q" | tr '\n' ' ')" "lt pos " "ls query/ after a descriptor session"
# A descriptor closed without reading saves.
expect_errno "OK OK OK" seq "$Q/ee" rwc 'w:filter=id == 3\noutput_fields=rank\n' c
expect_eq "$(ls "$Q" | tr '\n' ' ')" "ee lt pos " "ls query/ after a descriptor closed unread"
expect_content "$Q/ee" '{"id":3,"rank":10}'
# Saving a bad query fails and saves nothing.
# (checked at close, as search/ does; `bad` alone reads as the dynamic key
# $meta["bad"], so the name is checked with ls)
expect_errno "OK OK EINVAL" seq "$Q/bad" wc 'w:filter=rank >\n' c
expect_eq "$(ls "$Q" | tr '\n' ' ')" "ee lt pos " "ls query/ after a bad query"
expect_content "$Q/bad"
rm "$Q/ee" || fail "rm ee"
printf 'r == 1\n' >"$E/query/one" || fail "save e/one"
expect_content "$E/query/one" '{"id":5,"w":"a","r":1}'
rm "$E/query/one" || fail "rm e/one"
expect_errno ENOENT read "$E/query/one"     # lookups of missing names are not logged
soft_errno ENOENT read "$E/query/one&limit=1"   # as search/: a removed saved query with overrides
expect_errno ENOENT unlink "$E/query/one"
# (f has a dynamic field: a bare name that is no saved query is the
# expression $meta["ee"], which matches nothing)
expect_content "$Q/ee"
expect_content "$Q/ee&limit=1"
expect_eq "$(ls "$Q" | tr '\n' ' ')" "lt pos " "ls query/ after rm"
# A partition's query/ and partitions=.
expect_content "$F/p/query/id > -100&output_fields=id" '{"id":12}' '{"id":100}'
expect_content "$F/query/id > -100&output_fields=id&partitions=_default" '{"id":-7}' '{"id":3}'
expect_content "$F/query/id > -100&output_fields=id&partitions=p,_default" '{"id":-7}' '{"id":3}' '{"id":12}' '{"id":100}'
expect_content "$F/p/query/pos"
expect_errno ENOENT read "$E/query/pos"
printf 'filter=id > 0\noutput_fields=id\n' >"$F/p/query/pos" || fail "save p/pos"
expect_content "$F/p/query/pos" '{"id":12}' '{"id":100}'
expect_content "$Q/pos" '{"id":3,"word":"piano"}' '{"id":12,"word":""}'
# Released partition: the collection answers over what is loaded.
echo 1 >"$F/p/release" || fail "release f/p"
expect_content "$Q/id > -100&output_fields=id" '{"id":-7}' '{"id":3}'
expect_logged ENODATA "/f/p/query/pos" read "$F/p/query/pos"
expect_errno ENODATA read "$Q/id > 0&partitions=p"
echo 1 >"$F/p/load" || fail "load f/p"

# ---- errors ------------------------------------------------------------------------
# expect_msg PATH MESSAGE: reading query PATH (relative to /f/query/) fails
# with EINVAL and /.errors ends with MESSAGE.
expect_msg() {
	expect_logged EINVAL "/f/query/$1" read "$Q/$1"
	case $LAST_ERROR in
	*" EINVAL: $2") ;;
	*) fail "query '$1': expected the message '$2', got: $LAST_ERROR" ;;
	esac
}
expect_msg 'rank >' 'cannot parse expression: rank >, error: unexpected end of expression at column 7'
expect_msg 'rank > 1 and' 'cannot parse expression: rank > 1 and, error: unexpected end of expression at column 13'
expect_msg '(rank > 1' 'cannot parse expression: (rank > 1, error: unexpected end of expression at column 10'
expect_msg 'rank == 1 rank' "cannot parse expression: rank == 1 rank, error: unexpected token 'rank' at column 11"
expect_msg 'rank > 1&foo=1' "cannot parse expression: rank > 1&foo=1, error: unexpected character '&' at column 9"
expect_msg 'rank == "5"' 'comparisons between Int64 and VarChar are not supported'
expect_msg 'word > 1' 'comparisons between VarChar and Int64 are not supported'
expect_msg 'array_contains(word, "a")' 'array_contains() expects an ARRAY field, got VARCHAR'
expect_msg 'rank like "a%"' 'cannot use like on a field of type Int64'
expect_msg 'id > 0&output_fields=count(*),word' 'count(*) cannot be mixed with other output fields'
expect_msg 'id > 0&limit=0' "limit: expected an integer >= 1, got '0'"
expect_msg 'id > 0&offset=-1' "offset: expected an integer >= 0, got '-1'"
expect_msg 'id > 0&format=csv' "format: expected jsonl, json or tsv, got 'csv'"
expect_logged ENOENT "/f/query/id > 0&partitions=nope" read "$Q/id > 0&partitions=nope"
# An empty filter with a limit pages the whole collection (Milvus allows
# that; without a limit Milvus refuses it, the SPEC does not say).
expect_eq "$("$PROBE" rw "$Q/d2" 'filter=\nlimit=2\noutput_fields=id\n')" '{"id":-7}
{"id":3}' "an empty filter with limit=2"
# Without a dynamic field, an unknown name is `field x not exist`.
expect_logged EINVAL "/e/query/x > 1" read "$E/query/x > 1"
case $LAST_ERROR in *" EINVAL: field x not exist") ;; *) fail "unknown field: $LAST_ERROR" ;; esac
expect_logged EINVAL "/e/query/r > 0&output_fields=zz" read "$E/query/r > 0&output_fields=zz"
case $LAST_ERROR in *" EINVAL: field zz not exist") ;; *) fail "unknown output field: $LAST_ERROR" ;; esac
expect_content "$E/query/r > 0" '{"id":5,"w":"a","r":1}'
# A name longer than 255 bytes.
long="id > 1$(printf '%0250d' 0 | tr 0 ' ')"          # 256 bytes
expect_eq "${#long}" 256 "length of the long name"
soft_errno ENAMETOOLONG read "$Q/$long"
expect_errno OK read "$Q/${long%?}"

# ---- a collection without fields answers on id --------------------------------------
V=$M/v
mkdir "$V" || fail "mkdir v"
printf '5\t1,1\n-2\t0,0\n9\t2,2\n' >>"$V/vectors" || fail "insert into v"
echo 1 >"$V/load" || fail "load v"
expect_content "$V/query/id > 0" '{"id":5}' '{"id":9}'
expect_content "$V/query/id in [9, -2]&format=tsv" "id" "-2" "9"
expect_content "$V/query/id >= -2&output_fields=vector&limit=1" '{"id":-2,"vector":[0,0]}'
expect_content "$V/query/id % 2 != 0&output_fields=count(*)" "2"

# ---- differential: random expressions against a brute force -------------------------
D=$M/d
mkdir "$D" "$D/p1" "$D/p2" || fail "mkdir d"
py "$REF" "$T" "$D" <<'PY' || bug "differential test (details above)"
import sys, time
sys.path.insert(0, sys.argv[1])
import query_ref as R
t, d = sys.argv[2], sys.argv[3]
open(d + "/schema", "w").write(R.SCHEMA + "\n")
rows = R.gen_rows(20261202, 3000)
import random
random.Random(5).shuffle(rows)          # inserted out of id order
parts = ["_default", "p1", "p2"]
for i, r in enumerate(rows):
    r["_p"] = parts[i % 3]
for p in parts:
    mine = [r for r in rows if r["_p"] == p]
    R.dump(mine, t + "/d_" + p + ".jsonl")
    path = d + "/entities.jsonl" if p == "_default" else "%s/%s/entities.jsonl" % (d, p)
    with open(path, "a") as f:
        data = open(t + "/d_" + p + ".jsonl").read()
        for k in range(0, len(data), 65536):     # several writes, lines split
            f.write(data[k:k + 65536]); f.flush()
open(d + "/load", "w").write("1\n")
assert open(d + "/count").read() == "3000\n"
t0 = time.time()
log = open(t + "/differential.log", "w")
bad = R.differential(d + "/query", rows, 1, 260, log=log)
bad += R.differential(d + "/query", rows, 2, 40, parts=["p1"], log=log)
bad += R.differential(d + "/query", rows, 3, 40, parts=["p2", "_default"], log=log)
bad += R.differential(d + "/p2/query", [r for r in rows if r["_p"] == "p2"], 4, 40, log=log)
print("# differential: 380 expressions in %.1f s, %d wrong" % (time.time() - t0, len(bad)))
for b in bad[:15]:
    print("FAIL:", b[:600])
sys.exit(1 if bad else 0)
PY

# Mixed-type lists: `not in` must be the negation of `in` for rows where
# `in` is decided (a JSON string compared with ["s1", 4]).
py "$REF" "$D" <<'PY' || bug "in/not in with a list of mixed types"
import sys
sys.path.insert(0, sys.argv[1])
import query_ref as R
d = sys.argv[2]
def n(e):
    return int(open(d + "/query/" + e + "&output_fields=count(*)").read())
inn, nin = n('meta["s"] in ["kaka", 4]'), n('meta["s"] not in ["kaka", 4]')
ex = n('exists meta["s"] and meta["s"] like "%"')
assert inn + nin == ex, "in %d + not in %d != %d strings" % (inn, nin, ex)
PY

# A result with fields is consistent as of open too: upserts and deletes
# after the first 4 KB do not show in the rest.
py "$REF" "$T" "$D" <<'PY' || bug "query with fields consistent as of open"
import sys, os, json
sys.path.insert(0, sys.argv[1])
import query_ref as R
t, d = sys.argv[2], sys.argv[3]
rows = []
for p in ("_default", "p1", "p2"):
    rows += R.load(t + "/d_" + p + ".jsonl")
rows.sort(key=lambda r: r["id"])
want = "".join(json.dumps(R.project(r, None), separators=(",", ":"), ensure_ascii=False) + "\n"
               for r in rows).encode()
fd = os.open(d + "/query/id > -100", os.O_RDONLY)
first = os.read(fd, 4096)
late = rows[-500:]
with open(d + "/upsert", "a") as f:
    f.write("".join(json.dumps(dict(r, word="changed", rank=999)) + "\n" for r in late[:250]))
with open(d + "/delete", "a") as f:
    f.write("filter=id >= %d\n" % late[250]["id"])
rest = [first]
while True:
    c = os.read(fd, 4096)
    if not c:
        break
    rest.append(c)
os.close(fd)
got = b"".join(rest)
assert json.loads(got.split(b"\n")[0]) == json.loads(want.split(b"\n")[0])
assert [json.loads(l) for l in got.splitlines()] == [json.loads(l) for l in want.splitlines()], \
    "as of open: %d lines, expected %d" % (got.count(b"\n"), want.count(b"\n"))
assert R.fetch(d + "/query/rank == 999&output_fields=count(*)") == "250\n"
PY

# ---- streaming 200,000 matches, and consistency as of open ----------------------------
B=$M/b
mkdir "$B" "$B/q" || fail "mkdir b"
py "$T/b" <<'PY' || fail "making b's vectors"
import sys, random
ids = list(range(1, 200001))
random.Random(9).shuffle(ids)
with open(sys.argv[1] + "_d", "w") as a, open(sys.argv[1] + "_q", "w") as b:
    for i in ids:
        (a if i % 2 else b).write("%d\t%d,%d\n" % (i, i % 7, i % 5))
PY
cat "$T/b_d" >>"$B/vectors" || fail "insert into b"
cat "$T/b_q" >>"$B/q/vectors" || fail "insert into b/q"
echo 1 >"$B/load" || fail "load b"
expect_eq "$(wc -l <"$B/query/id > 0")" "200000" "wc -l of 200,000 matches"
expect_eq "$(cat "$B/query/id > 100&output_fields=count(*)")" "199900" "count(*) of b"
py "$B" <<'PY' || fail "streaming and consistency as of open"
import os, sys
b = sys.argv[1]
def read_all(fd, first=b""):
    out = [first]
    while True:
        c = os.read(fd, 4096)
        if not c:
            break
        out.append(c)
    return b"".join(out)
want = b"".join(b'{"id":%d}\n' % i for i in range(1, 200001))
fd = os.open(b + "/query/id > 0", os.O_RDONLY)
got = read_all(fd)
os.close(fd)
assert got == want, "4 KB reads: %d bytes, expected %d" % (len(got), len(want))
fd = os.open(b + "/query/id > 0&format=tsv&output_fields=vector", os.O_RDONLY)
got = read_all(fd).split(b"\n")
os.close(fd)
assert got[0] == b"id\tvector" and len(got) == 200002 and got[-1] == b"", len(got)
assert got[123457] == b"123457\t[%d,%d]" % (123457 % 7, 123457 % 5), got[123457]
# Open, read the first 4 KB, then insert, delete and upsert: the rest of
# the read answers the state at open.
fd = os.open(b + "/query/id > 0", os.O_RDONLY)
first = os.read(fd, 4096)
with open(b + "/vectors", "a") as f:
    f.write("".join("%d\t1,1\n" % i for i in range(200001, 201001)))
with open(b + "/delete", "a") as f:
    f.write("".join("%d\n" % i for i in range(150000, 151000)))
with open(b + "/delete", "a") as f:
    f.write("filter=id < 1000\n")
with open(b + "/q/vectors", "a") as f:
    f.write("-5\t1,1\n")
rest = read_all(fd, first)
os.close(fd)
assert rest == want, "as of open: %d bytes, expected %d; first difference at %d" % (
    len(rest), len(want), next((i for i in range(min(len(rest), len(want))) if rest[i] != want[i]), -1))
now = open(b + "/query/id > -10").read().split("\n")
exp = ["-5"] + [str(i) for i in range(1000, 201001) if not 150000 <= i < 151000]
got_ids = [l[6:-1] for l in now if l]
assert got_ids == exp, "after the changes: %d ids, expected %d" % (len(got_ids), len(exp))
PY
[ ! -s "$T/bugs" ] || fail "$(wc -l <"$T/bugs") failed assertions (above)"
exit 0
