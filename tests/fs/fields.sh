#!/bin/sh
# fields.sh - scalar fields in schema (SPEC §8): the canonical `cat schema`
# text, rewriting before the first insert (replace), adding nullable or
# defaulted fields once there is data (merge; `cat schema > schema` is a
# no-op), EBUSY for any other change and for any field change while loaded,
# every malformed declaration (EINVAL, one /.errors line naming the field,
# the schema unchanged), the 64-field limit, defaults and nulls read back by
# the entities that were there before the field, and all of it after a
# remount.
. "$(dirname "$0")/lib.sh"
mfs_mount

# later CHECK ARGS...: run the check in a subshell; its failure is reported
# (and fails the test) at the end, so one wrong answer does not hide the
# checks after it.
LATER=0
later() {
	("$@") 2>>"$T/later.msg" || LATER=$((LATER + 1))
}
# py_check MESSAGE ARGS... <<'EOF': the Python script on standard input
# succeeds, else fail MESSAGE.
py_check() {
	_msg=$1; shift
	py "$@" || fail "$_msg"
}
finish() {
	[ "$LATER" -eq 0 ] || fail "$LATER check(s) failed:$NL$(cat "$T/later.msg")"
	exit 0
}

# expect_msg TEXT...: the last /.errors line (LAST_ERROR, set by
# expect_logged) contains every TEXT.
expect_msg() {
	for _m in "$@"; do
		case "$LAST_ERROR" in
		*"$_m"*) ;;
		*) fail "/.errors line does not contain '$_m': '$LAST_ERROR'" ;;
		esac
	done
}

# same_schema FILE [SCHEMA]: SCHEMA (default $S) reads exactly the bytes of FILE.
same_schema() {
	_s=${2:-$S}
	cat "$_s" >"$T/schema.now" || fail "cat $_s"
	cmp -s "$1" "$T/schema.now" ||
		fail "$_s changed:${NL}expected:$NL$(cat "$1")${NL}got:$NL$(cat "$T/schema.now")"
}

# --- the canonical text ------------------------------------------------------
C=$M/c
S=$C/schema
mkdir "$C" || fail "mkdir c"
echo "dim=4 metric_type=L2 field=word:VARCHAR(64) field=rank:INT64 field=tags:ARRAY(VARCHAR(16),8) field=meta:JSON field=note:VARCHAR(200):nullable field=lvl:INT8:default=3 enable_dynamic_field=true" >"$S" ||
	fail "schema with fields"
expect_content "$S" dim=4 metric_type=L2 vector_type=FLOAT_VECTOR description= \
	'field=word:VARCHAR(64)' field=rank:INT64 'field=tags:ARRAY(VARCHAR(16),8)' \
	field=meta:JSON 'field=note:VARCHAR(200):nullable' field=lvl:INT8:default=3 \
	enable_dynamic_field=true

# Newlines and tabs separate keys as blanks do; options print in one order,
# VARCHAR defaults quoted (a blank escaped, so the line stays one key).
mkdir "$M/canon" || fail "mkdir canon"
expect_ok write "$M/canon/schema" 'dim=2\nfield=a:INT64:default=5:nullable\tfield=b:VARCHAR(10):default="x y"\n  field=c:DOUBLE:default=1e3 field=d:BOOL:default=false field=e:ARRAY(INT8,2):nullable field=f:VARCHAR(5):default=abc\n'
expect_content "$M/canon/schema" dim=2 metric_type=L2 vector_type=FLOAT_VECTOR description= \
	field=a:INT64:nullable:default=5 'field=b:VARCHAR(10):default="x\u0020y"' \
	field=c:DOUBLE:default=1000 field=d:BOOL:default=false 'field=e:ARRAY(INT8,2):nullable' \
	'field=f:VARCHAR(5):default="abc"'
# cat schema > schema reproduces itself before any data, too.
cat "$M/canon/schema" >"$T/canon" || fail "cat canon/schema"
cat "$T/canon" >"$M/canon/schema" || fail "cat schema > schema (no data)"
same_schema "$T/canon" "$M/canon/schema"
# Every default reads back as itself on an entity inserted without the fields.
printf '1\t0.5,0.5\n' >>"$M/canon/vectors" || fail "text insert into canon (all defaulted or nullable)"
py "$M/canon/entities/1" <<'EOF' || fail "defaults of canon read back wrong"
import json, sys
e = json.load(open(sys.argv[1]))
want = {"id": 1, "partition": "_default", "vector": [0.5, 0.5], "a": 5, "b": "x y",
        "c": 1000.0, "d": False, "e": None, "f": "abc"}
assert e == want, "%r != %r" % (e, want)
assert type(e["a"]) is int and type(e["d"]) is bool
EOF

# --- before the first insert a field= write replaces the field list ----------
mkdir "$M/r" || fail "mkdir r"
echo "dim=3 field=a:INT32 field=b:BOOL:nullable" >"$M/r/schema" || fail "r: first fields"
echo "field=z:DOUBLE" >"$M/r/schema" || fail "r: replacing fields"
expect_content "$M/r/schema" dim=3 metric_type=L2 vector_type=FLOAT_VECTOR description= field=z:DOUBLE
# A write without field= keeps them.
echo "description=no_fields_here" >"$M/r/schema" || fail "r: description"
expect_content "$M/r/schema" dim=3 metric_type=L2 vector_type=FLOAT_VECTOR \
	description=no_fields_here field=z:DOUBLE
# Until the first insert, a field may become anything, even non-nullable.
echo "field=z:DOUBLE field=w:VARCHAR(3)" >"$M/r/schema" || fail "r: a non-nullable field before data"
expect_content "$M/r/schema" dim=3 metric_type=L2 vector_type=FLOAT_VECTOR \
	description=no_fields_here field=z:DOUBLE 'field=w:VARCHAR(3)'

# --- malformed declarations: EINVAL, logged, nothing changes ------------------
cat "$S" >"$T/c.schema"
bad_field() { # DECLARATION NAME-IN-MESSAGE
	expect_logged EINVAL /c/schema write "$S" "$1\n"
	expect_msg "$2"
	same_schema "$T/c.schema"
}
bad_field 'field=a:VARCHAR(0)' 'field a'
bad_field 'field=a:VARCHAR(65536)' 'field a'
bad_field 'field=a:VARCHAR' 'field a'
bad_field 'field=a:VARCHAR(x)' 'field a'
bad_field 'field=a:ARRAY(JSON,4)' 'field a'
bad_field 'field=a:ARRAY(ARRAY(INT8,2),2)' 'field a'
bad_field 'field=a:ARRAY(INT64,0)' 'field a'
bad_field 'field=a:ARRAY(INT64,4097)' 'field a'
bad_field 'field=a:ARRAY(INT64)' 'field a'
bad_field 'field=a:ARRAY(VARCHAR(0),2)' 'field a'
bad_field 'field=a:FLOAT16' 'field a'
bad_field 'field=a:INT64:bogus' 'field a'
bad_field 'field=a:INT64:default=1:default=2' 'field a'
bad_field 'field=a:INT8:default=128' 'field a'
bad_field 'field=a:INT16:default=-32769' 'field a'
bad_field 'field=a:INT32:default=2147483648' 'field a'
bad_field 'field=a:INT64:default=1.5' 'field a'
bad_field 'field=a:BOOL:default=1' 'field a'
bad_field 'field=a:FLOAT:default=abc' 'field a'
bad_field 'field=a:FLOAT:default=1e39' 'field a'
bad_field 'field=a:VARCHAR(3):default="abcd"' 'field a'
bad_field 'field=a:JSON:default={}' 'field a'
bad_field 'field=a:FLOAT:partition_key' 'field a'
bad_field 'field=a:INT64:partition_key field=b:VARCHAR(8):partition_key' 'field b'
bad_field 'field=a:INT64 field=a:INT32' 'field a'
bad_field 'field=id:INT64' 'field id'
bad_field 'field=vector:FLOAT' 'field vector'
bad_field 'field=1a:INT64' 'field 1a'
bad_field 'field=a-b:INT64' 'field a-b'
bad_field 'field=$meta:JSON' 'field $meta'
bad_field 'field=a' "'a'"
bad_field 'field=:INT64' 'field'
bad_field 'enable_dynamic_field=yes' 'enable_dynamic_field'
# A name of 256 bytes is one too many (names follow the collection rules).
long=$(printf 'f%0255d' 0)
bad_field "field=$long:INT8" 255
echo "field=$(printf 'g%0254d' 0):INT8:nullable" >"$M/canon/schema" ||
	fail "a field name of 255 bytes"

# At most 64 fields, id and vector included (and the dynamic field).
f=
i=1
while [ $i -le 62 ]; do
	f="$f field=f$i:INT8:nullable"
	i=$((i + 1))
done
mkdir "$M/many" || fail "mkdir many"
expect_ok write "$M/many/schema" "dim=2$f\n"
expect_eq "$(grep -c '^field=' "$M/many/schema")" 62 "fields of many"
cat "$M/many/schema" >"$T/many.schema"
expect_logged EINVAL /many/schema write "$M/many/schema" "dim=2$f field=g:INT8:nullable\n"
expect_msg 64
expect_logged EINVAL /many/schema write "$M/many/schema" "dim=2$f enable_dynamic_field=true\n"
expect_msg 64
same_schema "$T/many.schema" "$M/many/schema"
printf '0.5 0.5\n' >>"$M/many/vectors" || fail "insert into a collection of 64 fields"
expect_eq "$(jq -c '[.f1, .f62, (keys | length)]' "$M/many/entities/1")" '[null,null,65]' "entity of 64 fields"

# --- once there is data, field= lines merge --------------------------------
E=$C/entities.jsonl
printf '%s\n' '{"id": 1, "vector": [1, 0, 0, 0], "word": "piano", "rank": 1520, "tags": ["music"], "meta": {"pos": "noun"}, "lang": "it"}' \
	'{"id": 2, "vector": [0, 1, 0, 0], "word": "forte", "rank": -3, "tags": [], "meta": [1, 2], "note": "loud", "lvl": -128}' >>"$E" ||
	fail "insert two entities into c"
expect_content "$C/count" 2
cat "$S" >"$T/c.schema"
# cat schema > schema: every field repeated as it is, a no-op.
cat "$T/c.schema" >"$S" || fail "cat schema > schema with data"
same_schema "$T/c.schema"
expect_ok write "$S" 'field=rank:INT64 field=lvl:INT8:default=3\n'
same_schema "$T/c.schema"
# The keys of §3 alone leave the fields as they are.
expect_ok write "$S" 'dim=4 metric_type=L2\n'
same_schema "$T/c.schema"
# A new field that is neither nullable nor defaulted: EBUSY.
expect_logged EBUSY /c/schema write "$S" 'field=len:INT32\n'
expect_msg 'field len'
same_schema "$T/c.schema"
# Any change of an existing field: EBUSY.
for chg in field=rank:INT32 field=rank:INT64:nullable field=rank:INT64:default=0 \
	field=lvl:INT8 field=lvl:INT8:default=4 field=lvl:INT16:default=3 \
	'field=word:VARCHAR(65)' 'field=note:VARCHAR(200)' 'field=tags:ARRAY(VARCHAR(16),9)' \
	field=meta:JSON:nullable field=rank:INT64:partition_key; do
	expect_logged EBUSY /c/schema write "$S" "$chg\n"
	case "$LAST_ERROR" in
	*"field $(echo "$chg" | sed 's/^field=//; s/:.*//')"*) ;;
	*) fail "/.errors does not name the field of '$chg': '$LAST_ERROR'" ;;
	esac
	same_schema "$T/c.schema"
done
# dim and vector_type stay fixed (§3).
expect_logged EBUSY /c/schema write "$S" 'dim=8\n'
same_schema "$T/c.schema"
# All or nothing: a good new field beside a bad change adds nothing.
expect_logged EBUSY /c/schema write "$S" 'field=ok:INT8:nullable field=rank:INT32\n'
same_schema "$T/c.schema"
expect_logged EINVAL /c/schema write "$S" 'field=ok:INT8:nullable field=bad:NOPE:nullable\n'
same_schema "$T/c.schema"

# Adding nullable and defaulted fields: the old entities read null or the
# default, new ones their values (null in a nullable field with a default
# is the default, as Milvus); `cat schema` lists the fields in
# declaration order (the dynamic-field flag after all of them, as before).
expect_ok write "$S" 'field=extra1:INT16:nullable field=extra2:VARCHAR(8):default="dflt"\n'
expect_ok write "$S" 'field=extra3:DOUBLE:nullable:default=2.5\n'
later expect_content "$S" dim=4 metric_type=L2 vector_type=FLOAT_VECTOR description= \
	'field=word:VARCHAR(64)' field=rank:INT64 'field=tags:ARRAY(VARCHAR(16),8)' \
	field=meta:JSON 'field=note:VARCHAR(200):nullable' field=lvl:INT8:default=3 \
	field=extra1:INT16:nullable 'field=extra2:VARCHAR(8):default="dflt"' \
	field=extra3:DOUBLE:nullable:default=2.5 enable_dynamic_field=true
printf '%s\n' '{"id": 3, "vector": [0, 0, 1, 0], "word": "w", "rank": 0, "tags": ["a", "b"], "meta": null, "extra1": -32768, "extra2": "x", "extra3": null}' >"$T/e3"
# meta is a JSON field and not nullable: null is refused; 1 is a JSON value.
expect_logged EINVAL /c/entities.jsonl writefile "$E" "$T/e3"
sed 's/"meta": null/"meta": 1/' "$T/e3" >>"$E" || fail "insert id 3 with the new fields"
py "$C/entities.jsonl" <<'EOF' || fail "entities after adding fields"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
got = [json.loads(l) for l in lines]
want = [
    {"id": 1, "vector": [1, 0, 0, 0], "word": "piano", "rank": 1520, "tags": ["music"],
     "meta": {"pos": "noun"}, "note": None, "lvl": 3, "lang": "it",
     "extra1": None, "extra2": "dflt", "extra3": 2.5},
    {"id": 2, "vector": [0, 1, 0, 0], "word": "forte", "rank": -3, "tags": [], "meta": [1, 2],
     "note": "loud", "lvl": -128, "extra1": None, "extra2": "dflt", "extra3": 2.5},
    {"id": 3, "vector": [0, 0, 1, 0], "word": "w", "rank": 0, "tags": ["a", "b"], "meta": 1,
     "note": None, "lvl": 3, "extra1": -32768, "extra2": "x", "extra3": 2.5},
]
assert got == want, "got:\n%s\nwant:\n%s" % ("\n".join(map(repr, got)), "\n".join(map(repr, want)))
EOF
# cat schema > schema still a no-op with the added fields.
cat "$S" >"$T/c.schema"
cat "$T/c.schema" >"$S" || fail "cat schema > schema after adding fields"
same_schema "$T/c.schema"

# --- while loaded, no field changes ------------------------------------------
echo 1 >"$C/load" || fail "load c"
expect_logged EBUSY /c/schema write "$S" 'field=late:INT8:nullable\n'
expect_msg release
same_schema "$T/c.schema"
# ... but what changes no field is fine.
cat "$T/c.schema" >"$S" || fail "cat schema > schema while loaded"
same_schema "$T/c.schema"
echo "description=loaded_but_fine" >"$S" || fail "description while loaded"
sed 's/^description=$/description=loaded_but_fine/' "$T/c.schema" >"$T/c.schema2"
same_schema "$T/c.schema2"
# One loaded partition is enough to refuse.
echo 1 >"$C/release" || fail "release c"
mkdir "$C/p" || fail "mkdir c/p"
echo 1 >"$C/p/load" || fail "load c/p"
expect_logged EBUSY /c/schema write "$S" 'field=late:INT8:nullable\n'
same_schema "$T/c.schema2"
echo 1 >"$C/p/release" || fail "release c/p"
expect_ok write "$S" 'field=late:INT8:nullable\n'
later expect_eq "$(tail -n 2 "$S" | tr '\n' ' ')" "field=late:INT8:nullable enable_dynamic_field=true " "end of c/schema"
# An empty collection that is loaded refuses field changes too.
mkdir "$M/el" || fail "mkdir el"
echo "dim=2 field=a:INT8:nullable" >"$M/el/schema" || fail "el schema"
echo 1 >"$M/el/load" || fail "load el"
expect_logged EBUSY /el/schema write "$M/el/schema" 'field=b:INT8\n'
expect_content "$M/el/schema" dim=2 metric_type=L2 vector_type=FLOAT_VECTOR description= field=a:INT8:nullable
echo 1 >"$M/el/release" || fail "release el"
expect_ok write "$M/el/schema" 'field=b:INT8\n'
expect_content "$M/el/schema" dim=2 metric_type=L2 vector_type=FLOAT_VECTOR description= field=b:INT8

# --- a field named as a dynamic key already stored --------------------------
# Entity 1 holds the dynamic key "lang".  Adding a field "lang" must leave
# every entity one JSON object with unique keys (refused, or the field
# shadowing the key), that the daemon's own strict parser takes back.
"$PROBE" write "$S" 'field=lang:VARCHAR(8):nullable\n' >"$T/lang.res"
cat "$C/entities.jsonl" >"$T/c.jsonl" || fail "cat c/entities.jsonl"
cat "$C/entities/1" >"$T/c.1" || fail "cat c/entities/1"
later py_check "field lang ($(cat "$T/lang.res")) beside the dynamic key lang" "$T/c.jsonl" "$T/c.1" <<'EOF'
import json, sys
def strict(pairs):
    keys = [k for k, _ in pairs]
    assert len(keys) == len(set(keys)), "duplicate keys %r" % keys
    return dict(pairs)
for path in sys.argv[1:]:
    for line in open(path).read().splitlines():
        json.loads(line, object_pairs_hook=strict)
EOF
mkdir "$M/c_copy" || fail "mkdir c_copy"
cat "$S" >"$M/c_copy/schema" || fail "copy the schema of c"
later expect_ok writefile "$M/c_copy/entities.jsonl" "$T/c.jsonl"
later expect_content "$M/c_copy/count" 3

# --- everything after a remount ----------------------------------------------
cat "$S" >"$T/c.schema"
cat "$M/canon/schema" >"$T/canon.schema"
cat "$C/entities.jsonl" >"$T/c.jsonl"
remount
same_schema "$T/c.schema"
same_schema "$T/canon.schema" "$M/canon/schema"
cat "$C/entities.jsonl" | cmp -s "$T/c.jsonl" - || fail "c/entities.jsonl changed by the remount"
# Merging still works after the remount (the rules come from LMDB).
expect_logged EBUSY /c/schema write "$S" 'field=again:INT8\n'
expect_ok write "$S" 'field=again:INT8:default=-1\n'
expect_eq "$(jq -c .again "$C/entities/2")" -1 "default of a field added after the remount"
finish
