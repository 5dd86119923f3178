#!/bin/sh
# delete_filter.sh - delete by filter (SPEC §8): `filter=<expr>` lines in a
# collection's and a partition's `delete`, beside plain ids, delete exactly
# what a brute force in Python (query_ref.py) finds over the rows this
# script wrote; counts, entities/<id>, query/ answers and a remount agree;
# matching nothing is fine; an empty or malformed expression is EINVAL and
# unloaded partitions ENODATA, and a failed delete deletes nothing.
. "$(dirname "$0")/lib.sh"
REF=$MFS_SRCDIR/tests/fs
bug() {
	printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
	printf '%s\n' "$*" >>"$T/bugs"
}
mfs_mount

C=$M/c
mkdir "$C" "$C/p1" "$C/p2" || fail "mkdir c"
py "$REF" "$T" "$C" <<'PY' || fail "inserting"
import sys, random
sys.path.insert(0, sys.argv[1])
import query_ref as R
t, c = sys.argv[2], sys.argv[3]
open(c + "/schema", "w").write(R.SCHEMA + "\n")
rows = R.gen_rows(4242, 3000)
random.Random(1).shuffle(rows)
for i, r in enumerate(rows):
    r["_p"] = ["_default", "p1", "p2"][i % 3]
R.dump(rows, t + "/model.jsonl", keep_private=True)
for p in ("_default", "p1", "p2"):
    R.dump([r for r in rows if r["_p"] == p], t + "/in.jsonl")
    with open(c + ("/entities.jsonl" if p == "_default" else "/%s/entities.jsonl" % p), "a") as f:
        f.write(open(t + "/in.jsonl").read())
PY

# Partitions must be loaded: ENODATA, and nothing deleted.
expect_logged ENODATA /c/delete write "$C/delete" 'filter=id > 0\n'
expect_logged ENODATA /c/p1/delete write "$C/p1/delete" 'filter=id > 0\n'
echo 1 >"$C/p1/load" || fail "load p1"
expect_errno ENODATA write "$C/delete" 'filter=id > 0\n'
expect_errno ENODATA write "$C/p2/delete" 'filter=id > 0\n'
expect_eq "$(cat "$C/count")" 3000 "count after refused deletes"
echo 1 >"$C/load" || fail "load c"

# Bad expressions: EINVAL with Milvus's words, nothing deleted (not even the
# plain ids written with them in one write).
expect_logged EINVAL /c/delete write "$C/delete" 'filter=\n'
expect_logged EINVAL /c/delete write "$C/delete" 'filter=   \n'
expect_logged EINVAL /c/delete write "$C/delete" 'filter=rank >\n'
case $LAST_ERROR in
*" EINVAL: "*"cannot parse expression: rank >, error: "*) ;;
*) fail "parse error message: $LAST_ERROR" ;;
esac
expect_logged EINVAL /c/delete write "$C/delete" 'filter=rank == "x"\n'
case $LAST_ERROR in
*" EINVAL: "*"comparisons between Int64 and VarChar are not supported") ;;
*) fail "type mismatch message: $LAST_ERROR" ;;
esac
id1=$(sed -n '1s/^{"id":\([-0-9]*\),.*/\1/p' "$T/model.jsonl")
expect_errno EINVAL write "$C/delete" "$id1\\nfilter=(rank > 1\\n"
expect_ok read "$C/entities/$id1"
expect_eq "$(cat "$C/count")" 3000 "count after bad deletes"

# Matching nothing is not an error.
expect_ok write "$C/delete" 'filter=rank > 1000\n'
expect_ok write "$C/p1/delete" 'filter=id < -5\n'
expect_eq "$(cat "$C/count")" 3000 "count after deletes of nothing"

# Rounds: a random expression that matches between 1 and 400 of the live
# rows, deleted from the collection or from one partition (alone, with
# plain ids in the same write, or as several filter lines); then count,
# partition counts, a deleted id's entity, and every live id in order.
py "$REF" "$T" "$C" <<'PY' || bug "rounds of deletes by filter (details above)"
import sys, os, json, random, errno
sys.path.insert(0, sys.argv[1])
import query_ref as R
R.MIXED_IN = False
t, c = sys.argv[2], sys.argv[3]
rows = R.load(t + "/model.jsonl")
rng = random.Random(11)
g = R.Gen(12, idmax=3000)
bad = []
rounds = 0
while rounds < 60:
    e = g.expr()
    where = rng.choice(["", "", "p1", "p2", "_default"])
    scope = [r for r in rows if where == "" or r["_p"] == where]
    hit = R.matches(e, scope)
    if not 1 <= len(hit) <= min(400, len(scope) // 8):
        continue
    rounds += 1
    text = R.render(e, rng)
    gone = {r["id"] for r in hit}
    body = "filter=" + text + "\n"
    form = rounds % 4
    if form == 1:       # plain ids beside the filter, in one write
        extra = rng.sample([r["id"] for r in scope if r["id"] not in gone], 3)
        gone |= set(extra)
        body = "%d\n%s%d\n%d\n" % (extra[0], body, extra[1], extra[2])
    elif form == 2:     # the same filter twice: the second deletes nothing
        body = body + body
    path = c + ("/delete" if where == "" else "/%s/delete" % where)
    try:
        with open(path, "a") as f:
            f.write(body)
    except OSError as x:
        bad.append("delete %r in %s: %s" % (body, where or "c", x))
        continue
    rows = [r for r in rows if r["id"] not in gone]
    cnt = open(c + "/count").read()
    if cnt != "%d\n" % len(rows):
        bad.append("after deleting %r from %s (%d entities): count %r, expected %d"
                   % (text, where or "c", len(gone), cnt, len(rows)))
        break
    for p in ("_default", "p1", "p2"):
        n = open(c + "/%s/count" % p).read()
        w = sum(1 for r in rows if r["_p"] == p)
        if n != "%d\n" % w:
            bad.append("after %r: %s/count %r, expected %d" % (text, p, n, w))
    victim = min(gone)
    try:
        open(c + "/entities/%d" % victim).read()
        bad.append("after %r: entities/%d still reads" % (text, victim))
    except OSError as x:
        if x.errno != errno.ENOENT:
            bad.append("entities/%d: %s" % (victim, x))
    got = R.fetch(c + "/query/id > -1000000&output_fields=id")
    want = "".join('{"id":%d}\n' % i for i in sorted(r["id"] for r in rows))
    if got != want:
        bad.append("after %r: the live ids differ (%d lines, expected %d)"
                   % (text, got.count("\n"), len(rows)))
        break
    # The filter matches nothing now.
    got = R.fetch(c + "/query/d", "filter=" + text + "\noutput_fields=count(*)\n"
                  + ("partitions=%s\n" % where if where else ""))
    if got != "0\n":
        bad.append("after deleting %r: it still matches %r" % (text, got))
R.dump(rows, t + "/model.jsonl", keep_private=True)
print("# %d rounds, %d entities left" % (rounds, len(rows)))
bad += R.differential(c + "/query", rows, 99, 100)
for b in bad[:10]:
    print("FAIL:", b[:500])
sys.exit(1 if bad else 0)
PY

# Upsert then delete by the new value: the old version is not matched, the
# new one is deleted wherever it went.
py "$REF" "$T" "$C" <<'PY' || bug "upsert then delete by filter"
import sys, json
sys.path.insert(0, sys.argv[1])
import query_ref as R
t, c = sys.argv[2], sys.argv[3]
rows = R.load(t + "/model.jsonl")
p2 = [r for r in rows if r["_p"] == "p2"][:5]
for r in p2:
    r.update(word="upserted", rank=777)
with open(c + "/upsert", "a") as f:
    f.write("".join(json.dumps({k: v for k, v in r.items() if k != "_p"}) + "\n" for r in p2))
n0 = len(rows)
assert open(c + "/query/rank == 777&output_fields=count(*)").read() == "5\n"
with open(c + "/p2/delete", "a") as f:           # they moved to _default
    f.write('filter=word == "upserted"\n')
assert open(c + "/count").read() == "%d\n" % n0, "p2/delete deleted upserted entities now in _default"
with open(c + "/delete", "a") as f:
    f.write("filter=rank == 777 and word like 'up%'\n")
assert open(c + "/count").read() == "%d\n" % (n0 - 5)
gone = {r["id"] for r in p2}
rows = [r for r in rows if r["id"] not in gone]
R.dump(rows, t + "/model.jsonl", keep_private=True)
PY

# Released again: ENODATA, nothing deleted.
echo 1 >"$C/p2/release" || fail "release p2"
n=$(cat "$C/count")
expect_errno ENODATA write "$C/delete" 'filter=id > 0\n'
expect_errno ENODATA write "$C/p2/delete" 'filter=id > 0\n'
expect_eq "$(cat "$C/count")" "$n" "count after deletes refused for p2"
expect_ok write "$C/p1/delete" 'filter=id < -5\n'

# After a remount the deletes hold.
remount
echo 1 >"$C/load" || fail "load c after remount"
expect_eq "$(cat "$C/count")" "$n" "count after remount"
py "$REF" "$T" "$C" <<'PY' || bug "after remount (details above)"
import sys
sys.path.insert(0, sys.argv[1])
import query_ref as R
R.MIXED_IN = False
t, c = sys.argv[2], sys.argv[3]
rows = R.load(t + "/model.jsonl")
got = R.fetch(c + "/query/id > -1000000&output_fields=id")
assert got == "".join('{"id":%d}\n' % i for i in sorted(r["id"] for r in rows)), "live ids after remount"
bad = R.differential(c + "/query", rows, 123, 40)
for b in bad[:10]:
    print("FAIL:", b[:500])
sys.exit(1 if bad else 0)
PY

# Everything: a filter true for every row.
expect_ok write "$C/delete" 'filter=id >= -9223372036854775808\n'
expect_eq "$(cat "$C/count")" 0 "count after deleting everything"
expect_content "$C/query/id > -1000000&output_fields=count(*)" 0
[ ! -s "$T/bugs" ] || fail "$(wc -l <"$T/bugs") failed assertions (above)"
exit 0
