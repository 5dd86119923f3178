#!/bin/sh
# entities_json.sh - entities with scalar fields as JSON lines (SPEC §8):
# inserting into entities.jsonl and vectors (collection and partition),
# every type at its limits read back exactly, strict RFC 8259 parsing,
# unknown keys, wrong types, over-long strings and arrays (EINVAL naming the
# line, the field, what was expected and what was found, one /.errors line,
# nothing inserted), text and fvecs records beside fields, dynamic keys,
# reading entities.jsonl and entities/<id>, copying a collection with cat,
# Python with nothing but open(), and a remount.
. "$(dirname "$0")/lib.sh"
mfs_mount

LATER=0
# later CHECK ARGS...: run the check in a subshell; a failure is reported
# (and fails the test) at the end, so it does not hide the checks after it.
later() {
	("$@") 2>>"$T/later.msg" || LATER=$((LATER + 1))
}
# expect_msg TEXT...: the last /.errors line (LAST_ERROR) contains each TEXT.
expect_msg() {
	for _m in "$@"; do
		case "$LAST_ERROR" in
		*"$_m"*) ;;
		*) fail "/.errors line does not contain '$_m': '$LAST_ERROR'" ;;
		esac
	done
}
# py_check MESSAGE ARGS... <<'EOF': the Python script succeeds, else fail.
py_check() {
	_msg=$1; shift
	py "$@" || fail "$_msg"
}

# --- the example of the SPEC, with a dynamic field ---------------------------
C=$M/w
E=$C/entities.jsonl
mkdir "$C" || fail "mkdir w"
echo "dim=4 metric_type=L2 field=word:VARCHAR(64) field=rank:INT64 field=tags:ARRAY(VARCHAR(16),8) field=meta:JSON field=note:VARCHAR(200):nullable field=lvl:INT8:default=3 enable_dynamic_field=true" >"$C/schema" ||
	fail "schema of w"
# Keys in any order, blanks anywhere JSON allows them, escapes, CRLF.
cat >"$T/w.in" <<'EOF'
{"id": 7, "vector": [0.1, 0.2, 0.3, 0.4], "word": "piano", "rank": 1520, "tags": ["music"], "meta": {"pos": "noun"}}
 { "rank" : -9223372036854775808 , "word":"caf\u00e9 \"\\/\t","id":8,"vector":[1e0,-2.5E-1,0,3],"tags":["a","b","c","d","e","f","g","h"],"meta":[1,"x",null,true,{"k":[]}],"note":null,"lvl":-128,"pos":"adj","nested":{"a":[1,2]}} 
{"id": -9, "vector": [0, 0, 0, 0], "word": "", "rank": 9223372036854775807, "tags": [], "meta": "just a string", "note": "\ud83c\udfb9 🎹", "lvl": null, "n": null}
EOF
printf '{"id": 10, "vector": [1, 1, 1, 1], "word": "crlf", "rank": 0, "tags": ["x"], "meta": 0}\r\n' >>"$T/w.in"
expect_ok writefile "$E" "$T/w.in"
expect_content "$C/count" 4
expect_content "$C/_default/ids" 7 8 -9 10
cat "$E" >"$T/w.out" || fail "cat w/entities.jsonl"
for i in 7 8 -9 10; do cat "$C/entities/$i"; done >"$T/w.ent" || fail "cat w/entities/<id>"
py_check "w read back" "$T/w.out" "$T/w.ent" <<'EOF'
import json, struct, sys
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
def strict(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "duplicate keys %r" % keys
    return dict(pairs)
want = [
    {"id": 7, "vector": [.1, .2, .3, .4], "word": "piano", "rank": 1520, "tags": ["music"],
     "meta": {"pos": "noun"}, "note": None, "lvl": 3},
    {"id": 8, "vector": [1, -.25, 0, 3], "word": "caf\u00e9 \"\\/\t", "rank": -2**63,
     "tags": list("abcdefgh"), "meta": [1, "x", None, True, {"k": []}], "note": None, "lvl": -128,
     "pos": "adj", "nested": {"a": [1, 2]}},
    {"id": -9, "vector": [0, 0, 0, 0], "word": "", "rank": 2**63 - 1, "tags": [],
     "meta": "just a string", "note": "\U0001F3B9 \U0001F3B9", "lvl": 3, "n": None},
    {"id": 10, "vector": [1, 1, 1, 1], "word": "crlf", "rank": 0, "tags": ["x"], "meta": 0,
     "note": None, "lvl": 3},
]
for w in want:
    w["vector"] = [f32(x) for x in w["vector"]]
text = open(sys.argv[1], encoding="utf-8").read()
assert text.endswith("\n") and "\r" not in text, repr(text[-20:])
got = [json.loads(l, object_pairs_hook=strict) for l in text.split("\n")[:-1]]
for g in got:
    g["vector"] = [f32(x) for x in g["vector"]]
    assert list(g)[:2] == ["id", "vector"], "id and vector first: %r" % list(g)
assert got == want, "entities.jsonl:\n%s\nexpected:\n%s" % (
    "\n".join(map(repr, got)), "\n".join(map(repr, want)))
ent = [json.loads(l, object_pairs_hook=strict) for l in open(sys.argv[2], encoding="utf-8").read().splitlines()]
for e, w in zip(ent, want):
    assert e.pop("partition") == "_default", e
    e["vector"] = [f32(x) for x in e["vector"]]
    assert e == w, "entities/%d: %r, expected %r" % (w["id"], e, w)
EOF
# vectors still reads id<TAB>vector, fields or not.
expect_content "$C/vectors" "7${TAB}0.1,0.2,0.3,0.4" \
	"8${TAB}1,-0.25,0,3" "-9${TAB}0,0,0,0" "10${TAB}1,1,1,1"

# --- every type at its limits, read back exactly ------------------------------
Y=$M/ty
mkdir "$Y" || fail "mkdir ty"
echo "dim=2 field=b:BOOL:nullable field=i8:INT8:nullable field=i16:INT16:nullable field=i32:INT32:nullable field=i64:INT64:nullable field=f:FLOAT:nullable field=d:DOUBLE:nullable field=s:VARCHAR(8):nullable field=j:JSON:nullable field=af:ARRAY(FLOAT,3):nullable field=ab:ARRAY(BOOL,2):nullable field=ai:ARRAY(INT16,4):nullable field=as:ARRAY(VARCHAR(2),2):nullable" >"$Y/schema" ||
	fail "schema of ty"
cat >"$T/ty.in" <<'EOF'
{"id":1,"vector":[1,2],"b":true,"i8":-128,"i16":32767,"i32":-2147483648,"i64":9223372036854775807,"f":3.4028235e38,"d":1.7976931348623157e308,"s":"12345678","j":{"a":[1,{"b":null}],"\u00e9":"\ud83d\ude00","big":1.5e300},"af":[0.1,1e-45,-2.5],"ab":[false,true],"ai":[-32768,32767,0,1],"as":["\u00e9","ab"]}
{"id":2,"vector":[3,4],"b":false,"i8":127,"i16":-32768,"i32":2147483647,"i64":-9223372036854775808,"f":1.17549435e-38,"d":5e-324,"s":"\u00e9\u00e9\u00e9\u00e9","j":[],"af":[],"ab":[],"ai":[],"as":[]}
{"id":3,"vector":[5,6],"b":null,"i8":null,"i16":null,"i32":null,"i64":null,"f":null,"d":0.30000000000000004,"s":"\u001f\n\\\"","j":null,"af":null,"ab":null,"ai":null,"as":null}
{"id":4,"vector":[7,8],"i64":0,"f":0.1,"d":-0.1,"s":"","j":-1.25e-7,"af":[16777217]}
{"id":5,"vector":[9,10],"j":"\ud83d\ude00"}
EOF
expect_ok writefile "$Y/entities.jsonl" "$T/ty.in"
cat "$Y/entities.jsonl" >"$T/ty.out" || fail "cat ty/entities.jsonl"
py_check "ty read back" "$T/ty.in" "$T/ty.out" <<'EOF'
import json, struct, sys
f32 = lambda x: None if x is None else struct.unpack("f", struct.pack("f", x))[0]
fields = ["b", "i8", "i16", "i32", "i64", "f", "d", "s", "j", "af", "ab", "ai", "as"]
ins = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8").read().splitlines()]
outs = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8").read().splitlines()]
assert len(ins) == len(outs), (len(ins), len(outs))
for a, b in zip(ins, outs):
    assert list(b) == ["id", "vector"] + fields, "keys %r" % list(b)
    for k in fields:
        x, y = a.get(k), b[k]
        if k == "f":
            x = f32(x)
        if k == "af" and x is not None:
            x = [f32(v) for v in x]
        if k in ("d", "f", "af") and x is not None:
            # reals: the same float (sign included); the printed form may be 1 or 1.0
            xs = x if k == "af" else [x]
            ys = y if k == "af" else [y]
            assert isinstance(ys, list) and len(xs) == len(ys), "id %d field %s: %r, expected %r" % (a["id"], k, y, x)
            for u, v in zip(xs, ys):
                if k != "d":
                    v = f32(float(v))  # a FLOAT prints as the shortest text of its float32
                assert type(v) in (int, float) and repr(float(u)) == repr(float(v)), \
                    "id %d field %s: %r, expected %r" % (a["id"], k, y, x)
            continue
        assert x == y and type(x) is type(y), "id %d field %s: %r, expected %r" % (a["id"], k, y, x)
# the integers are printed as integers, not reals
assert '"i64":9223372036854775807' in open(sys.argv[2]).read()
EOF
expect_content "$Y/count" 5

# --- EINVAL: naming line, field, expected and found; nothing inserted --------
expect_content "$C/count" 4
cat "$E" >"$T/w.before"
# bad_line WRITE-DATA TEXT...: the write fails with EINVAL, /.errors has one
# line containing every TEXT, and w is unchanged.
bad_line() {
	_d=$1; shift
	expect_logged EINVAL /w/entities.jsonl write "$E" "$_d"
	expect_msg "$@"
	expect_content "$C/count" 4
}
R='"vector":[1,2,3,4],"word":"w","rank":1,"tags":[],"meta":{}'
bad_line "{\"id\":100,$R}\n{\"id\":101,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":\"1\",\"tags\":[],\"meta\":1}\n{\"id\":102,$R}\n" \
	'line 2' 'field rank' INT64 string
expect_errno ENOENT read "$C/entities/100"
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"rank\":1,\"tags\":[],\"meta\":1}\n" 'line 1' 'field word' 'VARCHAR(64)'
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":null,\"rank\":1,\"tags\":[],\"meta\":1}\n" 'field word' 'VARCHAR(64)' null
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"tags\":[],\"meta\":1}\n" 'field rank' INT64
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":1,\"meta\":1}\n" 'field tags'
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":1,\"tags\":[]}\n" 'field meta'
bad_line "{\"id\":100,$R,\"rank\":1.5}\n" 'invalid JSON'
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":1.5,\"tags\":[],\"meta\":1}\n" 'field rank' INT64 real
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":true,\"tags\":[],\"meta\":1}\n" 'field rank' INT64 bool
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":5,\"rank\":1,\"tags\":[],\"meta\":1}\n" 'field word' 'VARCHAR(64)' integer
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":1,\"tags\":\"music\",\"meta\":1}\n" 'field tags' 'ARRAY' string
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":1,\"tags\":[\"ok\",7],\"meta\":1}\n" 'field tags' 'VARCHAR(16)' integer
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":1,\"tags\":[\"ok\",null],\"meta\":1}\n" 'field tags' 'VARCHAR(16)' null
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":1,\"tags\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\"],\"meta\":1}\n" 'field tags' 8 9
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":1,\"tags\":[\"01234567890123456\"],\"meta\":1}\n" 'field tags' 16 17
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"$(printf '%065d' 0)\",\"rank\":1,\"tags\":[],\"meta\":1}\n" 'field word' 64 65
# max_length counts bytes (UTF-8), as Milvus: 32 e-acutes fit, 33 do not.
e32=$(printf '\\u00e9%.0s' $(seq 32))
expect_ok write "$E" "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"$e32\",\"rank\":1,\"tags\":[],\"meta\":1}\n"
expect_eq "$(jq -r .word "$C/entities/100" | wc -c | tr -d ' ')" 65 "bytes of 32 e-acutes and a newline"
echo 100 >"$C/delete" || fail "delete 100"
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"a$e32\",\"rank\":1,\"tags\":[],\"meta\":1}\n" 'field word' 64 65
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":1,\"tags\":[],\"meta\":1,\"lvl\":128}\n" 'field lvl' INT8 128
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":1,\"tags\":[],\"meta\":1,\"lvl\":-129}\n" 'field lvl' INT8 -129
bad_line "{\"id\":100,\"vector\":[1,2,3,4],\"word\":\"w\",\"rank\":1,\"tags\":[],\"meta\":1,\"note\":[]}\n" 'field note' 'VARCHAR(200)' array
# Reserved keys: $meta is the dynamic field itself.
bad_line "{\"id\":100,$R,\"\$meta\":{\"a\":1}}\n" '$meta'
# id: an integer, not a string, real or boolean; vector: dim numbers.
later bad_line "{\"id\":\"100\",$R}\n" 'line 1' id
echo 100 >"$C/delete" || fail "delete 100"
bad_line "{\"id\":100.0,$R}\n" 'line 1' id
bad_line "{\"id\":true,$R}\n" 'line 1' id
bad_line "{\"id\":null,$R}\n" 'line 1' id
bad_line "{\"id\":9223372036854775808,$R}\n" 'line 1'
bad_line '{"id":100,"vector":[1,2,3],"word":"w","rank":1,"tags":[],"meta":1}\n' 'line 1' 4 3
bad_line '{"id":100,"vector":"1,2,3,4","word":"w","rank":1,"tags":[],"meta":1}\n' 'line 1'
bad_line '{"id":100,"vector":[1,2,"3",4],"word":"w","rank":1,"tags":[],"meta":1}\n' 'line 1'
bad_line '{"id":100,"vector":[1,2,null,4],"word":"w","rank":1,"tags":[],"meta":1}\n' 'line 1'
bad_line '{"id":100,"word":"w","rank":1,"tags":[],"meta":1}\n' 'line 1' vector
# Strict RFC 8259: every one of these is EINVAL.
for j in \
	"{\"id\":100,$R,\"x\":tru}" "{\"id\":100,$R,\"x\":nul}" "{\"id\":100,$R,\"x\":01}" \
	"{\"id\":100,$R,\"x\":-01}" "{\"id\":100,$R,\"x\":.5}" "{\"id\":100,$R,\"x\":1.}" \
	"{\"id\":100,$R,\"x\":+1}" "{\"id\":100,$R,\"x\":1e}" "{\"id\":100,$R,\"x\":0x10}" \
	"{\"id\":100,$R,\"x\":NaN}" "{\"id\":100,$R,\"x\":Infinity}" "{\"id\":100,$R,\"x\":-Infinity}" \
	"{\"id\":100,$R,}" "{\"id\":100,$R,\"x\":[1,2,]}" "{\"id\":100,$R,\"x\":{\"a\":1,}}" \
	"{\"id\":100,$R,\"x\":\"\\\\q\"}" "{\"id\":100,$R,\"x\":\"\\\\x41\"}" "{\"id\":100,$R,\"x\":\"\\\\u12\"}" \
	"{\"id\":100,$R,\"x\":\"\\\\ud800\"}" "{\"id\":100,$R,\"x\":\"\\\\udc00x\"}" \
	"{\"id\":100,$R,\"x\":\"\\xff\"}" "{\"id\":100,$R,\"x\":\"\\xc0\\xaf\"}" \
	"{\"id\":100,$R,\"x\":\"\\xed\\xa0\\x80\"}" "{\"id\":100,$R,\"x\":\"\\xe2\\x82\"}" \
	"{\"id\":100,$R,\"x\":\"\\xf8\\x88\\x80\\x80\\x80\"}" "{\"id\":100,$R,\"x\":\"a\\x01b\"}" \
	"{\"id\":100,$R,\"x\":\"a\\tb\"}" "{\"id\":100,$R,\"word\":\"v\"}" "{\"id\":100,\"id\":101,$R}" \
	"{\"id\":100,$R,\"x\":{\"a\":1,\"a\":2}}" "{\"id\":100,$R,\"x\":'s'}" "{\"id\":100,$R,x:1}" \
	"{\"id\":100,$R} /* c */" "{\"id\":100,$R}{\"id\":101,$R}" "{\"id\":100,$R" \
	"{\"id\":100,$R}}" "[{\"id\":100,$R}]" "{\"id\":100,$R,\"x\":[1,,2]}" \
	"{\"id\":100,$R,\"x\":\"\\xef\\xbb\\xbf\"x}"; do
	expect_logged EINVAL /w/entities.jsonl write "$E" "$j\n"
	expect_msg 'line 1'
done
expect_content "$C/count" 4
cat "$E" | cmp -s "$T/w.before" - || fail "w/entities.jsonl changed by failed writes"

# Without a dynamic field, a key that is not a field is refused, named.
N=$M/nd
mkdir "$N" || fail "mkdir nd"
echo "dim=2 field=a:INT8:nullable field=s:VARCHAR(4):default=\"x\"" >"$N/schema" || fail "schema of nd"
expect_logged EINVAL /nd/entities.jsonl write "$N/entities.jsonl" '{"id":1,"vector":[1,2],"a":1}\n{"id":2,"vector":[1,2],"lang":"it"}\n'
expect_msg 'line 2' lang
expect_content "$N/count" 0
# "partition" is not a field either: a record naming a partition that does
# not exist must not be stored in _default with the key silently dropped
# (refused as an unknown key, EINVAL, or as a missing partition, ENOENT).
mkdir "$M/pt" || fail "mkdir pt"
echo "dim=2 field=a:INT8:nullable" >"$M/pt/schema" || fail "schema of pt"
_got=$("$PROBE" write "$M/pt/entities.jsonl" '{"id":3,"vector":[1,2],"partition":"nosuch"}\n')
case $_got in
EINVAL | ENOENT) ;;
*) later fail "{\"id\":3,\"vector\":[1,2],\"partition\":\"nosuch\"} into pt/entities.jsonl (no dynamic field, no partition nosuch): expected EINVAL or ENOENT, got $_got; entities/3: $(cat "$M/pt/entities/3" 2>&1)" ;;
esac
expect_content "$M/pt/count" 0
# A record naming a partition that exists goes there (as a Milvus insert
# with partition_name); written to a partition's own file it may only name
# that one; the copy of entities/<id> keeps its partition.
mkdir "$M/pt/p1" || fail "mkdir pt/p1"
expect_ok write "$M/pt/entities.jsonl" '{"id":4,"vector":[1,2],"partition":"p1"}\n{"id":5,"vector":[3,4]}\n'
expect_content "$M/pt/p1/ids" 4
expect_content "$M/pt/_default/ids" 5
expect_eq "$(jq -r .partition "$M/pt/entities/4")" p1 "pt/entities/4 partition"
expect_logged EINVAL /pt/p1/entities.jsonl write "$M/pt/p1/entities.jsonl" '{"id":6,"vector":[1,2],"partition":"_default"}\n'
expect_logged EINVAL /pt/entities.jsonl write "$M/pt/entities.jsonl" '{"id":7,"vector":[1,2],"partition":7}\n'
expect_content "$M/pt/count" 2

# --- text and fvecs records beside fields -----------------------------------
# Every field of nd is nullable or defaulted: the forms of §4 are taken.
printf '0.5 0.5\n11\t1,2\n[3, 4]\n' >>"$N/vectors" || fail "text lines into nd"
printf '\002\000\000\000\000\000\200\077\000\000\000\100' >>"$N/vectors.fvecs" || fail "fvecs into nd"
# JSON lines with fields go through vectors too.
printf '{"id":20,"vector":[5,6],"a":-7,"s":"yz"}\n' >>"$N/vectors" || fail "JSON with fields into nd/vectors"
expect_content "$N/count" 5
expect_content "$N/entities.jsonl" '{"id":1,"vector":[0.5,0.5],"a":null,"s":"x"}' \
	'{"id":11,"vector":[1,2],"a":null,"s":"x"}' '{"id":12,"vector":[3,4],"a":null,"s":"x"}' \
	'{"id":13,"vector":[1,2],"a":null,"s":"x"}' '{"id":20,"vector":[5,6],"a":-7,"s":"yz"}'
expect_errno EEXIST write "$N/vectors" '{"id":20,"vector":[5,6]}\n'
# w has fields that are neither: every text form and fvecs are refused.
for l in '0.1 0.2 0.3 0.4\n' '0.1,0.2,0.3,0.4\n' '[0.1, 0.2, 0.3, 0.4]\n' '42\t0.1,0.2,0.3,0.4\n' \
	'{"id": 42, "vector": [0.1, 0.2, 0.3, 0.4]}\n'; do
	expect_logged EINVAL /w/vectors write "$C/vectors" "$l"
	expect_msg 'field word'
done
printf '\004\000\000\000\000\000\200\077\000\000\200\077\000\000\200\077\000\000\200\077' >"$T/one4.fvecs"
expect_logged EINVAL /w/vectors.fvecs writefile "$C/vectors.fvecs" "$T/one4.fvecs"
expect_logged EINVAL /w/_default/vectors.fvecs writefile "$C/_default/vectors.fvecs" "$T/one4.fvecs"
expect_content "$C/count" 4

# --- partitions ----------------------------------------------------------------
mkdir "$C/p" || fail "mkdir w/p"
printf '%s\n' '{"id": 20, "vector": [2, 2, 2, 2], "word": "in p", "rank": 20, "tags": ["p"], "meta": {"p": true}, "mood": "dyn"}' \
	'{"id": 21, "vector": [2, 2, 2, 1], "word": "in p too", "rank": 21, "tags": [], "meta": null}' >"$T/p.in"
expect_logged EINVAL /w/p/entities.jsonl writefile "$C/p/entities.jsonl" "$T/p.in"
expect_msg 'line 2' 'field meta'
sed 's/"meta": null/"meta": {}/' "$T/p.in" >>"$C/p/entities.jsonl" || fail "insert into w/p"
printf '{"id": 22, "vector": [3, 3, 3, 3], "word": "via vectors", "rank": 22, "tags": [], "meta": 2}\n' >>"$C/p/vectors" ||
	fail "JSON with fields into w/p/vectors"
expect_content "$C/p/count" 3
expect_content "$C/count" 7
expect_content "$C/p/ids" 20 21 22
expect_content "$C/p/entities.jsonl" \
	'{"id":20,"vector":[2,2,2,2],"word":"in p","rank":20,"tags":["p"],"meta":{"p":true},"note":null,"lvl":3,"mood":"dyn"}' \
	'{"id":21,"vector":[2,2,2,1],"word":"in p too","rank":21,"tags":[],"meta":{},"note":null,"lvl":3}' \
	'{"id":22,"vector":[3,3,3,3],"word":"via vectors","rank":22,"tags":[],"meta":2,"note":null,"lvl":3}'
expect_eq "$(jq -c '[.id, .partition, .mood]' "$C/entities/20")" '[20,"p","dyn"]' "entities/20"
# The collection's file: every partition, each in insertion order.
cat "$E" >"$T/w.all"
cat "$C/_default/entities.jsonl" "$C/p/entities.jsonl" >"$T/w.parts"
sort "$T/w.all" >"$T/w.all.s"
sort "$T/w.parts" >"$T/w.parts.s"
cmp -s "$T/w.all.s" "$T/w.parts.s" || fail "w/entities.jsonl is not the union of its partitions' files"
expect_eq "$(jq -c .id "$T/w.all" | grep -E '^(20|21|22)$' | tr '\n' ' ')" "20 21 22 " "order of p within w/entities.jsonl"
expect_eq "$(jq -c .id "$T/w.all" | grep -vE '^(20|21|22)$' | tr '\n' ' ')" "7 8 -9 10 " "order of _default within w/entities.jsonl"

# --- records across writes, and at close ---------------------------------
expect_eq "$("$PROBE" seq "$N/entities.jsonl" a 'w:{"id":30,"vec' 'w:tor":[1,2],"s":"\xc3' 'w:\xa9"}\n' c)" \
	"OK OK OK OK OK" "a JSON record split across writes, inside a UTF-8 character"
expect_eq "$(jq -r .s "$N/entities/30")" "$(printf '\303\251')" "s of 30"
expect_eq "$("$PROBE" seq "$N/entities.jsonl" a 'w:{"id":31,"vector":[1,2]}' c)" "OK OK OK" "a final record without newline"
expect_eq "$("$PROBE" seq "$N/entities.jsonl" a 'w:{"id":32,"vector":[1,2]}\n{"id":33,"vec' c)" "OK OK EINVAL" "a bad final partial record"
expect_content "$N/_default/ids" 1 11 12 13 20 30 31 32

# --- JSON values up to 65,536 bytes ------------------------------------------
J=$M/js
mkdir "$J" || fail "mkdir js"
echo "dim=2 field=j:JSON field=v:VARCHAR(65535)" >"$J/schema" || fail "schema of js"
py "$T" <<'EOF' || fail "making the JSON size cases"
import json, sys
d = sys.argv[1]
def rec(i, jlen, vlen):
    j = '"' + "a" * (jlen - 2) + '"'
    assert len(j) == jlen
    return '{"id":%d,"vector":[1,2],"j":%s,"v":"%s"}\n' % (i, j, "\u00e9" * (vlen // 2))
open(d + "/js.ok", "w").write(rec(1, 65536, 65534))
open(d + "/js.bigj", "w").write(rec(2, 65537, 2))
open(d + "/js.bigv", "w").write(rec(3, 10, 65536))
EOF
expect_ok writefile "$J/entities.jsonl" "$T/js.ok"
expect_logged EINVAL /js/entities.jsonl writefile "$J/entities.jsonl" "$T/js.bigj"
expect_msg 'field j' 65536
expect_logged EINVAL /js/entities.jsonl writefile "$J/entities.jsonl" "$T/js.bigv"
expect_msg 'field v' 65535
expect_content "$J/count" 1
cat "$J/entities/1" | jq -e '(.j | length) == 65534 and (.v | utf8bytelength) == 65534' >/dev/null ||
	fail "js/entities/1 does not hold the 65,536-byte JSON and the 65,534-byte string"

# --- copying a collection: cat a/entities.jsonl >> b/entities.jsonl -----------
mkdir "$M/w2" || fail "mkdir w2"
cat "$C/schema" >"$M/w2/schema" || fail "copy the schema of w"
cat "$C/entities.jsonl" >>"$M/w2/entities.jsonl" || fail "cat w/entities.jsonl >> w2/entities.jsonl"
expect_content "$M/w2/count" 7
cat "$C/entities.jsonl" >"$T/w.copy.a"
cat "$M/w2/entities.jsonl" >"$T/w.copy.b"
sort "$T/w.copy.a" >"$T/w.copy.as"
sort "$T/w.copy.b" >"$T/w.copy.bs"
cmp -s "$T/w.copy.as" "$T/w.copy.bs" || fail "w2/entities.jsonl differs from w/entities.jsonl"
# Every type survives the trip too.
mkdir "$M/ty2" || fail "mkdir ty2"
cat "$Y/schema" >"$M/ty2/schema" || fail "copy the schema of ty"
cat "$Y/entities.jsonl" >>"$M/ty2/entities.jsonl" || fail "cat ty/entities.jsonl >> ty2/entities.jsonl"
same_bytes "$Y/entities.jsonl" "$M/ty2/entities.jsonl" || fail "ty2/entities.jsonl differs from ty/entities.jsonl"
# And the entity files too: cat entities/<id> >> entities.jsonl.
mkdir "$M/w3" || fail "mkdir w3"
cat "$C/schema" >"$M/w3/schema" || fail "schema of w3"
cat "$C/entities/8" >>"$M/w3/entities.jsonl" || fail "cat w/entities/8 >> w3/entities.jsonl"
expect_eq "$(jq -cS 'del(.partition)' "$M/w3/entities/8")" "$(jq -cS 'del(.partition)' "$C/entities/8")" "w3/entities/8"
# Into a collection whose schema lacks a field: refused, nothing copied.
mkdir "$M/w4" || fail "mkdir w4"
echo "dim=4 field=word:VARCHAR(64) field=rank:INT64 field=tags:ARRAY(VARCHAR(16),8) field=meta:JSON" >"$M/w4/schema" ||
	fail "schema of w4"
cat "$C/entities.jsonl" >"$T/w.all"
expect_logged EINVAL /w4/entities.jsonl writefile "$M/w4/entities.jsonl" "$T/w.all"
expect_msg 'line 1' note
expect_content "$M/w4/count" 0

# --- Python, with nothing but open() -----------------------------------------
py "$C" <<'EOF' || fail "Python open() insert and read"
import json, sys
c = sys.argv[1]
with open(c + "/entities.jsonl", "a") as f:
    for i in range(1000, 1200):
        f.write(json.dumps({"id": i, "vector": [i, 0, 0, 1], "word": "w%d" % i, "rank": -i,
                            "tags": ["t"] * (i % 9), "meta": {"i": i}, "note": None if i % 2 else "n"},
                           ensure_ascii=False) + "\n")
with open(c + "/entities.jsonl") as f:
    got = {e["id"]: e for e in map(json.loads, f)}
assert len(got) == 207, len(got)
for i in range(1000, 1200):
    e = got[i]
    assert e == {"id": i, "vector": [i, 0, 0, 1], "word": "w%d" % i, "rank": -i,
                 "tags": ["t"] * (i % 9), "meta": {"i": i}, "note": None if i % 2 else "n",
                 "lvl": 3}, e
with open(c + "/entities/1111") as f:
    e = json.load(f)
assert e["partition"] == "_default" and e["tags"] == ["t"] * 4, e
with open(c + "/count") as f:
    assert f.read() == "207\n"
# a bad record through open(): the write (or the close) fails with EINVAL
try:
    with open(c + "/entities.jsonl", "a") as f:
        f.write('{"id": 5000, "vector": [1, 1, 1, 1], "word": 1}\n')
    raise SystemExit("a bad record through open() was accepted")
except OSError as e:
    assert e.errno == 22, e
EOF
expect_content "$C/count" 207

# --- a remount changes nothing ------------------------------------------------
for c in w nd ty js w2; do cat "$M/$c/entities.jsonl" >"$T/$c.before"; done
remount
for c in w nd ty js w2; do
	cat "$M/$c/entities.jsonl" | cmp -s "$T/$c.before" - ||
		fail "$c/entities.jsonl changed by the remount"
done
expect_eq "$(jq -c '[.id, .partition, .mood]' "$C/entities/20")" '[20,"p","dyn"]' "entities/20 after the remount"

[ "$LATER" -eq 0 ] || fail "$LATER check(s) failed:$NL$(cat "$T/later.msg")"
exit 0
