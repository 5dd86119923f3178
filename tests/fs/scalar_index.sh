#!/bin/sh
# scalar_index.sh - scalar indexes (SPEC §5 `field=`, §9): `cat index` with
# a block per scalar index, unsuitable types and drops, and queries with
# indexes answering exactly what a brute force in Python (query_ref.py)
# computes over the rows this script wrote, and what the same collection
# without indexes answers, byte for byte: after the build, after inserts
# (past the rebuild threshold and below it), deletes and upserts made
# after it, after release/load, and after a remount.
. "$(dirname "$0")/lib.sh"
REF=$MFS_SRCDIR/tests/fs
bug() {
	printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
	printf '%s\n' "$*" >>"$T/bugs"
}
mfs_mount

X=$M/x          # with scalar indexes
N=$M/n          # the same entities, no scalar index
mkdir "$X" "$X/p" "$N" "$N/p" || fail "mkdir x n"

# Indexes are built before any entity (on the schema alone), then entities
# come, then the load.
py "$REF" "$X" "$N" <<'PY' || fail "schemas"
import sys
sys.path.insert(0, sys.argv[1])
import query_ref as R
for c in sys.argv[2:]:
    open(c + "/schema", "w").write(R.SCHEMA + "\n")
PY
echo "field=rank index_type=STL_SORT" >"$X/index" || fail "STL_SORT on rank before any insert"

# Unsuitable index types: EINVAL naming field, type and what fits.
expect_iname() {
	expect_logged EINVAL /x/index write "$X/index" "$1\n"
	case $LAST_ERROR in
	*" EINVAL: $2") ;;
	*) fail "index '$1': expected the message '$2', got: $LAST_ERROR" ;;
	esac
}
expect_iname "field=rank index_type=TRIE" "index type TRIE is not supported for field rank of type INT64 (TRIE: VARCHAR)"
expect_iname "field=score index_type=BITMAP" "index type BITMAP is not supported for field score of type DOUBLE (BITMAP: BOOL, INT8, INT16, INT32, INT64, VARCHAR and ARRAY of those)"
expect_iname "field=meta index_type=INVERTED" "index type INVERTED is not supported for field meta of type JSON (INVERTED: BOOL, INT8, INT16, INT32, INT64, FLOAT, DOUBLE, VARCHAR, ARRAY)"
expect_iname "field=nosuch index_type=INVERTED" "field nosuch not exist"
expect_iname "field=word index_type=FOO" "unknown scalar index type FOO (expected STL_SORT, INVERTED, BITMAP, TRIE or AUTOINDEX)"
expect_errno EINVAL write "$X/index" 'field=tags index_type=STL_SORT\n'
expect_errno EINVAL write "$X/index" 'field=tags index_type=TRIE\n'
expect_errno EINVAL write "$X/index" 'field=ok index_type=STL_SORT\n'
expect_errno EINVAL write "$X/index" 'field=vector index_type=INVERTED\n'
expect_errno EINVAL write "$X/index" 'field=id index_type=INVERTED\n'

py "$REF" "$T" "$X" "$N" <<'PY' || fail "inserting"
import sys, random
sys.path.insert(0, sys.argv[1])
import query_ref as R
t = sys.argv[2]
rows = R.gen_rows(77, 3000)
random.Random(3).shuffle(rows)
for i, r in enumerate(rows):
    r["_p"] = "p" if i % 3 == 0 else "_default"
R.dump(rows, t + "/model.jsonl", keep_private=True)
for c in sys.argv[3:]:
    for p in ("_default", "p"):
        mine = [r for r in rows if r["_p"] == p]
        R.dump(mine, t + "/in.jsonl")
        path = c + "/entities.jsonl" if p == "_default" else c + "/p/entities.jsonl"
        with open(path, "a") as f:
            f.write(open(t + "/in.jsonl").read())
PY
for l in "field=word index_type=TRIE" "field=len index_type=INVERTED" \
	"field=score index_type=AUTOINDEX" "field=ok index_type=BITMAP" \
	"field=tags index_type=INVERTED" "field=nums index_type=BITMAP" \
	"field=note index_type=INVERTED" "field=cnt index_type=STL_SORT"; do
	echo "$l" >"$X/index" || fail "index: $l"
done
echo 1 >"$X/load" || fail "load x"
echo 1 >"$N/load" || fail "load n"
# Rebuilding one in place, with the partitions loaded.
echo "field=cnt index_type=INVERTED" >"$X/index" || fail "cnt INVERTED over STL_SORT"
echo "field=cnt index_type=STL_SORT" >"$X/index" || fail "cnt back to STL_SORT"
# A query and a delete by filter right after a build on a loaded collection.
got=$(cat "$X/query/rank > 0&output_fields=count(*)" 2>&1)
[ "$got" = "$(cat "$N/query/rank > 0&output_fields=count(*)")" ] ||
	bug "query after building a scalar index on a loaded collection: got '$got' ($(tail -n 1 "$M/.errors"))"
got=$("$PROBE" write "$X/delete" 'filter=id < 0
')
[ "$got" = OK ] ||
	bug "delete by filter after building a scalar index on a loaded collection: $got ($(tail -n 1 "$M/.errors"))"
expect_content "$X/index" index_type=FLAT metric_type=L2 state=Finished progress=100 "" \
	field=word index_type=TRIE "" field=rank index_type=STL_SORT "" \
	field=len index_type=INVERTED "" field=score index_type=AUTOINDEX "" \
	field=ok index_type=BITMAP "" field=tags index_type=INVERTED "" \
	field=nums index_type=BITMAP "" field=note index_type=INVERTED "" \
	field=cnt index_type=STL_SORT
expect_content "$N/index" index_type=FLAT metric_type=L2 state=Finished progress=100

# round NAME SEED COUNT: COUNT random expressions on x against the brute
# force over $T/model.jsonl, and x and n byte for byte.
round() {
	py "$REF" "$T" "$X" "$N" "$2" "$3" "$1" <<'PY' || bug "round $1 (details above)"
import sys, os, random, time
sys.path.insert(0, sys.argv[1])
import query_ref as R
R.MIXED_IN = False
t, x, n, seed, count, name = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7]
rows = R.load(t + "/model.jsonl")
t0 = time.time()
bad = R.differential(x + "/query", rows, seed, count)
bad += R.differential(x + "/p/query", [r for r in rows if r["_p"] == "p"], seed + 7, count // 6)
g = R.Gen(seed + 11, idmax=max(r["id"] for r in rows))
rr = random.Random(seed)
same = 0
for i in range(count // 2):
    e = R.render(g.expr(), rr)
    if "/" in e or len(e) > 200:
        a = R.fetch(x + "/query/long", "filter=" + e + "\n")
        b = R.fetch(n + "/query/long", "filter=" + e + "\n")
    else:
        a = R.fetch(x + "/query/" + e)
        b = R.fetch(n + "/query/" + e)
    if a != b:
        bad.append("%s: with and without indexes differ: %d and %d bytes" % (e, len(a), len(b)))
    same += 1
print("# %s: %d expressions and %d byte comparisons in %.1f s, %d wrong" % (
    name, count + count // 6, same, time.time() - t0, len(bad)))
for b in bad[:10]:
    print("FAIL:", b[:500])
sys.exit(1 if bad else 0)
PY
}
round built 1000 120

# Changes after the build, the same on x and n, and in the model: 600 new
# rows (below the rebuild threshold), deletes by id and by filter,
# upserts that change indexed values, then 4,500 more rows (past it).
change() {
	py "$REF" "$T" "$X" "$N" "$1" <<'PY' || fail "changes $1"
import sys, json, random
sys.path.insert(0, sys.argv[1])
import query_ref as R
t, cs, step = sys.argv[2], sys.argv[3:5], sys.argv[5]
rows = R.load(t + "/model.jsonl")
rng = random.Random(step)
if step == "a":
    new = R.gen_rows(78, 600, id0=5001)
    for r in new:
        r["_p"] = rng.choice(["_default", "p"])
    dels = rng.sample([r["id"] for r in rows], 200)
    e = ("or", ("cmp", ("f", "rank"), ">", ("lit", 50)),
         ("like", ("f", "word"), "ka%"))
    filt = R.render(e, rng)
    gone = set(dels) | {r["id"] for r in R.matches(e, rows + new) if r["_p"] in ("_default", "p")}
    ups = [dict(r, rank=r["rank"] + 1000, word="zz" + r["word"], tags=["new"], ok=not r["ok"],
                note=None, cnt=7, _p="_default")
           for r in rng.sample(rows, 300) if r["id"] not in gone]
    for c in cs:
        for p in ("_default", "p"):
            with open(c + ("/entities.jsonl" if p == "_default" else "/p/entities.jsonl"), "a") as f:
                f.write("".join(json.dumps({k: v for k, v in r.items() if k != "_p"}) + "\n"
                                for r in new if r["_p"] == p))
        with open(c + "/delete", "a") as f:
            f.write("".join("%d\n" % i for i in dels))
        with open(c + "/delete", "a") as f:
            f.write("filter=" + filt + "\n")
        with open(c + "/upsert", "a") as f:
            f.write("".join(json.dumps({k: v for k, v in r.items() if k != "_p"}) + "\n" for r in ups))
    up = {r["id"]: r for r in ups}
    rows = [up.get(r["id"], r) for r in rows + new if r["id"] not in gone]
else:
    new = R.gen_rows(79, 4500, id0=10001, step=2)
    for r in new:
        r["_p"] = rng.choice(["_default", "p"])
    for c in cs:
        for p in ("_default", "p"):
            with open(c + ("/entities.jsonl" if p == "_default" else "/p/entities.jsonl"), "a") as f:
                f.write("".join(json.dumps({k: v for k, v in r.items() if k != "_p"}) + "\n"
                                for r in new if r["_p"] == p))
    rows += new
R.dump(rows, t + "/model.jsonl", keep_private=True)
for c in cs:
    got = open(c + "/count").read()
    assert got == "%d\n" % len(rows), (c, got, len(rows))
PY
}
change a
round "after inserts, deletes and upserts" 2000 90
change b
round "after 4,500 more rows" 3000 90
echo 1 >"$X/release" || fail "release x"
echo 1 >"$X/load" || fail "load x again"
round "after release and load" 4000 50
remount
wait_loaded "$X"
wait_loaded "$N"
expect_eq "$(grep -c '^field=' "$X/index")" 9 "scalar indexes after remount"
round "after remount" 5000 60

# Dropping: index_type=NONE with field=; the block goes, queries stay right.
echo "field=rank index_type=NONE" >"$X/index" || fail "drop rank's index"
echo "field=tags index_type=NONE" >"$X/index" || fail "drop tags's index"
expect_eq "$(grep '^field=' "$X/index" | tr '\n' ' ')" \
	"field=word field=len field=score field=ok field=nums field=note field=cnt " "blocks after the drops"
got=$(cat "$X/query/rank > 0&output_fields=count(*)" 2>&1)
[ "$got" = "$(cat "$N/query/rank > 0&output_fields=count(*)")" ] ||
	bug "query after dropping a scalar index of a loaded collection: got '$got' ($(tail -n 1 "$M/.errors"))"
round "after dropping two" 6000 40
[ ! -s "$T/bugs" ] || fail "$(wc -l <"$T/bugs") failed assertions (above)"
exit 0
