#!/bin/sh
# layout1.sh - a database of layout version 1 (the LMDB "meta" db has
# "version" = big-endian u32 1 and there is no "fields" db: what milvusfs
# wrote before scalar fields) still mounts and reads back: count, vectors,
# partitions, index, saved queries, load state, search, entities/<id>; it
# then takes a nullable field and JSON entities with it.  A database of
# another layout version (99, 3, 0) is refused: the daemon exits non-zero
# naming the layout version and leaves the database as it was.
#
# The layout 1 database is made without an old binary: this milvusfs writes
# one (no fields anywhere), then mdb_dump -a, an edit (version 2 -> 1, the
# "fields" db left out) and mdb_load into a fresh directory.
. "$(dirname "$0")/lib.sh"
for t in mdb_dump mdb_load; do
	command -v $t >/dev/null 2>&1 || fail "$t not installed (Debian's lmdb-utils)"
done

# --- a database written by this milvusfs, without fields ----------------------
mfs_mount
mkdir "$M/old" "$M/bits" || fail "mkdir old bits"
echo "dim=4 metric_type=L2 description=made_by_layout_1" >"$M/old/schema" || fail "schema of old"
mkdir "$M/old/p" || fail "mkdir old/p"
py "$T/old.txt" "$T/p.txt" <<'EOF' || fail "making vectors"
import random, sys
r = random.Random(11)
with open(sys.argv[1], "w") as f:
    for i in range(1, 401):
        f.write("%d\t%s\n" % (i, ",".join("%.5f" % r.uniform(-1, 1) for _ in range(4))))
with open(sys.argv[2], "w") as f:
    for i in range(-5, 0):
        f.write("%d\t%s\n" % (i, ",".join("%.5f" % r.uniform(-1, 1) for _ in range(4))))
EOF
cat "$T/old.txt" >>"$M/old/vectors" || fail "insert into old"
cat "$T/p.txt" >>"$M/old/p/vectors" || fail "insert into old/p"
printf '0.5 0.5 0.5 0.5\n' >>"$M/old/vectors" || fail "insert an auto id into old"
echo 17 >"$M/old/delete" || fail "delete 17"
echo "index_type=HNSW M=8 efConstruction=100" >"$M/old/index" || fail "HNSW on old"
printf 'k=5\nef=64\n0.1,0.2,0.3,0.4\n' >"$M/old/search/q1" || fail "save old/search/q1"
echo "dim=16 vector_type=BINARY_VECTOR metric_type=HAMMING" >"$M/bits/schema" || fail "schema of bits"
printf '1\t8001\n2\tffff\n3\t0f0f\n' >>"$M/bits/vectors" || fail "insert into bits"
echo 1 >"$M/old/load" || fail "load old"
# What layout 1 must read back.
Q='0.1,0.2,0.3,0.4&k=10&ef=64'
for f in count schema index state partitions vectors _default/ids p/ids p/vectors search/q1 \
	"search/$Q" entities/1 entities/-5 entities/401; do
	cat "$M/old/$f" >"$T/want.$(echo "$f" | tr '/&=,' '____')" || fail "cat old/$f"
done
cat "$M/bits/vectors" >"$T/want.bits" || fail "cat bits/vectors"
expect_content "$M/old/count" 405
mfs_unmount || fail "unmount"

# --- make it layout 1 -------------------------------------------------------------
mdb_dump -a "$DB" >"$T/dump" 2>"$T/dump.err" || fail "mdb_dump -a: $(cat "$T/dump.err")"
# convert DUMP OUT VERSION: the dump with meta "version" set to VERSION
# (big-endian u32), the "fields" db left out and the empty rows cut off the
# ent values.  Checks first that the dump is layout 2 without any field:
# version 2, an empty fields db, every ent value id + vector + an empty row.
cat >"$T/convert.py" <<'EOF'
import struct, sys
src, out, ver = sys.argv[1], sys.argv[2], int(sys.argv[3])
sections, cur = [], None
for line in open(src).read().splitlines():
    if line.startswith("VERSION="):
        cur = {"head": [line], "data": [], "name": None}
        sections.append(cur)
    elif line.startswith(" "):
        cur["data"].append(line)
    elif line == "DATA=END":
        pass
    else:
        cur["head"].append(line)
        if line.startswith("database="):
            cur["name"] = line[len("database="):]
by = {s["name"]: s for s in sections}
names = sorted(n for n in by if n)
assert names == sorted(["blob", "coll", "ent", "fields", "idmap", "meta", "part", "pinfo", "query"]), names
pairs = lambda s: [(bytes.fromhex(s["data"][i][1:]), bytes.fromhex(s["data"][i + 1][1:]))
                   for i in range(0, len(s["data"]), 2)]
assert pairs(by["fields"]) == [], "the fields db is not empty: %r" % pairs(by["fields"])
meta = dict(pairs(by["meta"]))
assert meta[b"version"] == struct.pack(">I", 2), meta
# ent values: layout 2 stores id (8 bytes), vector, then a row, which for
# a collection without fields is 2 zero bytes (nf = 0); layout 1 stored
# id and vector and nothing after them: cut the row off.
vbytes = {}
for k, v in pairs(by["coll"]):
    cid, dim, vtype = struct.unpack(">IIB", v[:9])
    vbytes[cid] = dim * 4 if vtype == 0 else dim // 8
pcid = {struct.unpack(">I", k)[0]: struct.unpack(">II", v[:8])[1] for k, v in pairs(by["pinfo"])}
n = 0
ent = by["ent"]["data"]
for i in range(0, len(ent), 2):
    k, v = bytes.fromhex(ent[i][1:]), bytes.fromhex(ent[i + 1][1:])
    want = 8 + vbytes[pcid[struct.unpack(">I", k[:4])[0]]]
    assert len(v) in (want, want + 2) and v[want:] in (b"", b"\0\0"), \
        "ent value %s: %d bytes, expected %d (+ an empty row)" % (v.hex(), len(v), want)
    ent[i + 1] = " " + v[:want].hex()
    n += 1
assert n == 408, "%d entities in ent" % n
with open(out, "w") as f:
    for s in sections:
        if s["name"] == "fields":
            continue
        data = s["data"]
        if s["name"] == "meta":
            for i in range(0, len(data), 2):
                if data[i] == " " + b"version".hex():
                    data[i + 1] = " " + struct.pack(">I", ver).hex()
        f.write("\n".join(s["head"]) + "\n")
        f.write("".join(l + "\n" for l in data))
        f.write("DATA=END\n")
EOF
# make_db DIR VERSION: DIR holds the database, version VERSION, no fields db.
make_db() {
	"$MFS_PYTHON" "$T/convert.py" "$T/dump" "$T/dump.$2" "$2" || fail "converting the dump to version $2"
	mkdir "$1" || fail "mkdir $1"
	mdb_load -f "$T/dump.$2" "$1" 2>"$T/load.err" || fail "mdb_load version $2: $(cat "$T/load.err")"
	mdb_dump -a "$1" | grep -qx 'database=fields' && fail "$1 still has a fields db"
	mdb_dump -s meta "$1" | grep -A1 -x " $(printf version | od -An -tx1 | tr -d ' \n')" |
		tail -n 1 >"$T/ver"
	expect_eq "$(cat "$T/ver")" " $(printf '%08x' "$2")" "meta version in $1"
}
make_db "$T/db1" 1
make_db "$T/db99" 99
make_db "$T/db3" 3
make_db "$T/db0" 0
# The dump's own HEADER/DATA lines survive the edit: the dump of db1 is the
# edited dump (LMDB reads back exactly what was loaded).
mdb_dump -a "$T/db1" | grep -v '^mapsize=' >"$T/db1.dump"
grep -v '^mapsize=' "$T/dump.1" | cmp -s - "$T/db1.dump" || fail "db1 does not hold the edited dump"

# --- mount layout 1: everything reads back --------------------------------------
DB=$T/db1
mfs_mount
for f in count schema index state partitions vectors _default/ids p/ids p/vectors search/q1 \
	"search/$Q" entities/1 entities/-5 entities/401; do
	same_bytes "$T/want.$(echo "$f" | tr '/&=,' '____')" "$M/old/$f" ||
		fail "old/$f of the layout 1 database differs:$NL$(cat "$M/old/$f" | head -n 5)${NL}expected:$NL$(head -n 5 "$T/want.$(echo "$f" | tr '/&=,' '____')")"
done
same_bytes "$T/want.bits" "$M/bits/vectors" || fail "bits/vectors of the layout 1 database differs"
expect_content "$M/old/state" Loaded
expect_content "$M/old/count" 405
expect_errno ENOENT read "$M/old/entities/17"
expect_content "$M/old/entities/1" "$(cat "$T/want.entities_1")"
# entities.jsonl of a collection without fields: id and vector.
py "$M/old/entities.jsonl" "$T/old.txt" "$T/p.txt" <<'EOF' || fail "old/entities.jsonl"
import json, struct, sys
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]
want = {}
for path in sys.argv[2:]:
    for l in open(path).read().splitlines():
        i, v = l.split("\t")
        want[int(i)] = [f32(float(x)) for x in v.split(",")]
want[401] = [.5] * 4
del want[17]
got = {}
for l in open(sys.argv[1]).read().splitlines():
    e = json.loads(l)
    assert sorted(e) == ["id", "vector"], e
    got[e["id"]] = [f32(x) for x in e["vector"]]
assert got == want, "entities.jsonl differs (%d entities, %d expected)" % (len(got), len(want))
EOF
# Inserts, deletes, searches work as before.
printf '500\t0.9,0.9,0.9,0.9\n' >>"$M/old/vectors" || fail "insert 500 into the layout 1 database"
expect_content "$M/old/search/0.9,0.9,0.9,0.9&k=1&ef=16" "500${TAB}0"
echo 500 >"$M/old/delete" || fail "delete 500"
expect_content "$M/old/count" 405
printf 'ffff\n' >>"$M/bits/vectors" || fail "insert into bits"
expect_content "$M/bits/count" 4

# A nullable field, then JSON with it.
expect_logged EBUSY /old/schema write "$M/old/schema" 'field=tag:VARCHAR(16):nullable\n'
echo 1 >"$M/old/release" || fail "release old"
expect_logged EBUSY /old/schema write "$M/old/schema" 'field=must:INT64\n'
echo "field=tag:VARCHAR(16):nullable field=lvl:INT16:default=-1" >"$M/old/schema" ||
	fail "adding fields to the layout 1 collection"
expect_content "$M/old/schema" dim=4 metric_type=L2 vector_type=FLOAT_VECTOR \
	description=made_by_layout_1 'field=tag:VARCHAR(16):nullable' field=lvl:INT16:default=-1
expect_content "$M/old/entities/1" "$(sed 's/}$/,"tag":null,"lvl":-1}/' "$T/want.entities_1")"
printf '%s\n' '{"id": 600, "vector": [0.25, 0.25, 0.25, 0.25], "tag": "new", "lvl": 6}' \
	'{"id": 601, "vector": [-0.25, 0.25, 0.25, 0.25]}' >>"$M/old/entities.jsonl" ||
	fail "JSON with fields into the layout 1 collection"
printf '%s\n' '{"id": -6, "vector": [0.75, 0.25, 0.25, 0.25], "tag": "in p"}' >>"$M/old/p/entities.jsonl" ||
	fail "JSON with fields into old/p"
expect_content "$M/old/count" 408
expect_content "$M/old/entities/600" '{"id":600,"partition":"_default","vector":[0.25,0.25,0.25,0.25],"tag":"new","lvl":6}'
expect_content "$M/old/entities/601" '{"id":601,"partition":"_default","vector":[-0.25,0.25,0.25,0.25],"tag":null,"lvl":-1}'
expect_content "$M/old/entities/-6" '{"id":-6,"partition":"p","vector":[0.75,0.25,0.25,0.25],"tag":"in p","lvl":-1}'
expect_eq "$(jq -c 'select(.id == -5) | [.tag, .lvl]' "$M/old/entities.jsonl")" '[null,-1]' "-5 in entities.jsonl"
echo 1 >"$M/old/load" || fail "load old again"
# the new entities' distances to q1's vector (0.1,0.2,0.3,0.4), as q1 prints them
printf '600\t0.050000004\n601\t0.15\n-6\t0.45000002\n' >"$T/new.hits"
expect_content "$M/old/search/0.25,0.25,0.25,0.25&k=1&ef=16" "600${TAB}0"
expect_content "$M/old/search/0.75,0.25,0.25,0.25&k=1&ef=16" "-6${TAB}0"
expect_eq "$(cut -f1 "$M/old/search/q1" | tr '\n' ' ')" \
	"$(cat "$T/want.search_q1" "$T/new.hits" | sort -t "$TAB" -k2,2g | head -n 5 | cut -f1 | tr '\n' ' ')" \
	"old/search/q1 after the inserts"
cat "$M/old/entities.jsonl" >"$T/old.jsonl"
cat "$M/old/schema" >"$T/old.schema"
mfs_unmount || fail "unmount the layout 1 database"
# Opened once, it is layout 2 (the fields db now holds old's fields).
mdb_dump -s meta "$T/db1" | grep -qx ' 00000002' || fail "db1 was not made layout 2: $(mdb_dump -s meta "$T/db1")"
mdb_dump -s fields "$T/db1" >/dev/null 2>&1 || fail "db1 has no fields db after the mount"
mfs_mount
same_bytes "$T/old.jsonl" "$M/old/entities.jsonl" || fail "old/entities.jsonl changed by a remount"
same_bytes "$T/old.schema" "$M/old/schema" || fail "old/schema changed by a remount"
expect_content "$M/old/search/0.25,0.25,0.25,0.25&k=1&ef=16" "600${TAB}0"
mfs_unmount || fail "unmount"

# --- another layout version is refused -------------------------------------------
# refused DIR VERSION: milvusfs exits non-zero with a message naming the
# layout version and VERSION, mounts nothing, and leaves DIR as it was.
refused() {
	mdb_dump -a "$1" >"$T/refused.before"
	mkdir -p "$T/mnt$2"
	"$MFS_BIN" -f -o "db=$1" "$T/mnt$2" >"$T/refused.log" 2>&1 &
	_p=$!
	if ! wait_gone "$_p" 20; then
		kill -TERM "$_p"
		fusermount3 -u "$T/mnt$2" 2>/dev/null
		wait "$_p"
		fail "milvusfs mounted a database of layout version $2"
	fi
	wait "$_p"
	_rc=$?
	[ "$_rc" -ne 0 ] || fail "milvusfs exited 0 on a database of layout version $2"
	awk -v m="$T/mnt$2" '$2 == m { f = 1 } END { exit !f }' /proc/self/mounts &&
		fail "$T/mnt$2 is mounted"
	grep -q 'layout version' "$T/refused.log" ||
		fail "the message does not name the layout version: $(cat "$T/refused.log")"
	grep -q "\\b$2\\b" "$T/refused.log" ||
		fail "the message does not name version $2: $(cat "$T/refused.log")"
	mdb_dump -a "$1" | cmp -s "$T/refused.before" - || fail "$1 changed by the refused mount"
	grep -E "$SCAN_RE" "$T/refused.log" && fail "sanitizer report"
	note "version $2: exit $_rc: $(grep 'layout version' "$T/refused.log" | head -n 1)"
}
refused "$T/db99" 99
refused "$T/db3" 3
refused "$T/db0" 0
exit 0
