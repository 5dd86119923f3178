#!/bin/sh
# partition_key.sh - partition keys (SPEC §8): num_partitions partitions
# _default_0.. made by the collection, EPERM for mkdir/rmdir, EINVAL for
# inserts into a partition directory, routing by the key (every entity of
# a key in one partition, counts summing to the total, stable across a
# remount, upserts and later inserts), and queries with and without a
# filter on the key answering what a brute force in Python (query_ref.py)
# computes over the rows this script wrote; VARCHAR and INT64 keys.
. "$(dirname "$0")/lib.sh"
REF=$MFS_SRCDIR/tests/fs
bug() {
	printf 'FAIL: %s: %s\n' "$TEST_NAME" "$*" >&2
	printf '%s\n' "$*" >>"$T/bugs"
}
mfs_mount

K=$M/k          # VARCHAR key, 4 partitions
I=$M/i          # INT64 key, the default number of partitions (16)
mkdir "$K" "$I" || fail "mkdir k i"
py "$REF" "$K" "$I" <<'PY' || fail "schemas"
import sys
sys.path.insert(0, sys.argv[1])
import query_ref as R
open(sys.argv[2] + "/schema", "w").write(R.SCHEMA + " field=cat:VARCHAR(16):partition_key num_partitions=4\n")
open(sys.argv[3] + "/schema", "w").write(R.SCHEMA + " field=cat:INT64:partition_key\n")
PY
expect_eq "$(grep -c '^field=cat:VARCHAR(16):partition_key$' "$K/schema")" 1 "k's key in schema"
expect_eq "$(grep -c '^num_partitions=4$' "$K/schema")" 1 "num_partitions=4 in schema"
expect_content "$K/partitions" _default _default_0 _default_1 _default_2 _default_3
expect_eq "$(grep -c '^_default_' "$I/partitions")" 16 "the default num_partitions"
expect_eq "$(tail -n 1 "$I/partitions")" _default_15 "i's last partition"

expect_logged EPERM /k/px mkdir "$K/px"
case $LAST_ERROR in *"EPERM: disable create partition if partition key mode is used") ;;
*) fail "mkdir message: $LAST_ERROR" ;; esac
expect_logged EPERM /k/_default_1 rmdir "$K/_default_1"
case $LAST_ERROR in *"EPERM: disable drop partition if partition key mode is used") ;;
*) fail "rmdir message: $LAST_ERROR" ;; esac
expect_errno EPERM rmdir "$K/_default"
expect_errno EPERM rmdir "$I/_default_15"
line='{"id":1,"vector":[0,0],"word":"a","rank":1,"len":1,"score":1,"ok":true,"tags":[],"nums":[],"meta":{},"note":null,"cnt":null,"cat":"k1"}'
expect_logged EINVAL /k/_default_0/entities.jsonl write "$K/_default_0/entities.jsonl" "$line\\n"
case $LAST_ERROR in *"EINVAL: not support manually specifying the partition names if partition key mode is used") ;;
*) fail "partition insert message: $LAST_ERROR" ;; esac
expect_errno EINVAL write "$K/_default/entities.jsonl" "$line\\n"
expect_errno EINVAL write "$K/_default_0/upsert" "$line\\n"
expect_errno EINVAL write "$K/_default_2/vectors" '5\t1,1\n'
expect_errno EINVAL write "$K/entities.jsonl" '{"id":1,"vector":[0,0],"word":"a","rank":1,"len":1,"score":1,"ok":true,"tags":[],"nums":[],"meta":{},"note":null,"cnt":null}\n'
expect_eq "$(cat "$K/count")" 0 "k's count after refused inserts"

# 4,000 entities into k (50 keys) and 2,000 into i (keys -20..40), in
# several writes; then the routing each partition's ids show.
py "$REF" "$T" "$K" "$I" <<'PY' || fail "inserting"
import sys, json, random
sys.path.insert(0, sys.argv[1])
import query_ref as R
t, k, i = sys.argv[2:5]
def ins(c, rows):
    data = "".join(json.dumps({a: v for a, v in r.items() if a != "_p"}) + "\n" for r in rows)
    with open(c + "/entities.jsonl", "a") as f:
        for o in range(0, len(data), 100000):
            f.write(data[o:o + 100000]); f.flush()
rk = R.gen_rows(501, 4000, extra_fields=[("cat", lambda g: "c%d" % g.randint(0, 49))])
ri = R.gen_rows(502, 2000, id0=-1000, extra_fields=[("cat", lambda g: g.randint(-20, 40))])
random.Random(2).shuffle(rk)
ins(k, rk)
ins(i, ri)
R.dump(rk, t + "/k.jsonl")
R.dump(ri, t + "/i.jsonl")
PY
expect_eq "$(cat "$K/count")" 4000 "k's count"
expect_eq "$(cat "$I/count")" 2000 "i's count"
echo 1 >"$K/load" || fail "load k"
echo 1 >"$I/load" || fail "load i"

# routing C MODEL OUT: each partition's ids; every key in one partition,
# _default empty, counts summing to the total; OUT: the key -> partition map.
routing() {
	py "$REF" "$1" "$2" "$3" <<'PY' || bug "routing of $1 (details above)"
import sys, json, os
sys.path.insert(0, sys.argv[1])
import query_ref as R
c, model, out = sys.argv[2:5]
rows = {r["id"]: r for r in R.load(model)}
parts = open(c + "/partitions").read().split()
where, keyp, bad, total = {}, {}, [], 0
for p in parts:
    ids = [int(x) for x in open("%s/%s/ids" % (c, p)).read().split()]
    n = int(open("%s/%s/count" % (c, p)).read())
    if n != len(ids):
        bad.append("%s: count %d, %d ids" % (p, n, len(ids)))
    q = int(open("%s/%s/query/id > -1000000&output_fields=count(*)" % (c, p)).read())
    if q != n:
        bad.append("%s: count(*) %d, count %d" % (p, q, n))
    total += n
    for x in ids:
        where[x] = p
        key = json.dumps(rows[x]["cat"])
        if keyp.setdefault(key, p) != p:
            bad.append("key %s in %s and %s" % (key, keyp[key], p))
if open(c + "/count").read() != "%d\n" % len(rows) or total != len(rows):
    bad.append("partitions hold %d, count %s, expected %d" % (total, open(c + "/count").read(), len(rows)))
if set(where) != set(rows):
    bad.append("ids in partitions differ from the ids inserted")
if "_default" in where.values():
    bad.append("_default holds entities")
used = set(where.values())
if len(used) < min(len(parts) - 1, 3):
    bad.append("only %d partitions used: %s" % (len(used), sorted(used)))
json.dump(keyp, open(out, "w"), sort_keys=True)
print("# %s: %d keys over %d partitions" % (c.rsplit("/", 1)[1], len(keyp), len(used)))
for b in bad[:10]:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY
}
routing "$K" "$T/k.jsonl" "$T/k.route"
routing "$I" "$T/i.jsonl" "$T/i.route"

# queries C MODEL ROUTE SEED COUNT: random expressions, alone, and-ed with
# a filter on the key (== or in), with partitions=, against the brute force.
queries() {
	py "$REF" "$@" <<'PY' || bug "queries on $1 (details above)"
import sys, json, random, time
sys.path.insert(0, sys.argv[1])
import query_ref as R
R.MIXED_IN = False
R.FIELDS = R.FIELDS + ["cat"]
c, model, route, seed, count = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
rows = R.load(model)
keyp = json.load(open(route))
for r in rows:
    r["_p"] = keyp[json.dumps(r["cat"])]
keys = sorted({r["cat"] for r in rows}, key=json.dumps)
t0 = time.time()
bad = R.differential(c + "/query", rows, seed, count // 3)
g = R.Gen(seed + 1, idmax=max(r["id"] for r in rows))
rr = random.Random(seed)
n = 0
for i in range(count):
    ks = rr.sample(keys, rr.randint(1, 3))
    if isinstance(ks[0], int):
        ks.append(rr.randint(100, 200))           # a key no entity has
    kexpr = ("cmp", ("f", "cat"), "==", ("lit", ks[0])) if len(ks) == 1 else \
        ("in", ("f", "cat"), ks, False)
    e = ("and", kexpr, g.expr()) if rr.random() < 0.8 else kexpr
    if rr.random() < 0.2:
        e = ("or", e, ("cmp", ("f", "cat"), "==", ("lit", rr.choice(keys))))
    text = R.render(e, rr)
    want = R.matches(e, rows)
    params = ""
    if rr.random() < 0.3:
        ps = rr.sample(sorted(set(keyp.values())), 2)
        params = "&partitions=" + ",".join(ps)
        want = [w for w in want if w["_p"] in ps]
    name = text + params
    if len(name) > 250 or "/" in name:
        got = R.fetch(c + "/query/d", "filter=" + text + "\n" + params.replace("&", "\n")[1:] + "\n" if params else "filter=" + text + "\n")
    else:
        got = R.fetch(c + "/query/" + name)
    m = R.check_objects(got, want, None, name)
    if m:
        bad.append(m)
    # the key's own partition answers the same for a single key
    if len(ks) == 1 and not params and json.dumps(ks[0]) in keyp:
        p = keyp[json.dumps(ks[0])]
        got2 = R.fetch("%s/%s/query/d" % (c, p), "filter=" + text + "\noutput_fields=count(*)\n")
        if got2 != "%d\n" % len([w for w in want if w["_p"] == p]):
            bad.append("%s in %s: count %r" % (name, p, got2))
    n += 1
# Filters on the key that must not prune to one partition, or that
# must prune with the literal converted.
L = lambda v: ("lit", v)
ck = ("f", "cat")
if isinstance(keys[0], str):
    special = [("not", ("cmp", ck, "==", L("c3"))), ("cmp", ck, "!=", L("c3")),
               ("like", ck, "c3%"), ("in", ck, [], False), ("in", ck, ["c3"], True),
               ("and", ("cmp", ck, "==", L("c3")), ("cmp", ck, "==", L("c4"))),
               ("or", ("cmp", ck, "==", L("c3")), ("cmp", ("f", "rank"), ">", L(55))),
               ("cmp", ck, ">", L("c4")), ("chain", L("c1"), "<", ck, "<=", L("c2")),
               ("cmp", L("c7"), "==", ck), ("isnull", ck, False)]
else:
    special = [("cmp", ck, "==", L(5.0)), ("in", ck, [5, 6.5, -3], False),
               ("cmp", ck, "==", L(-0)), ("cmp", ("neg", ck), "==", L(5)),
               ("cmp", ("ar", "%", ck, L(5)), "==", L(0)), ("cmp", ck, ">", L(30)),
               ("not", ("in", ck, [1, 2], False)), ("cmp", ("ar", "+", ck, L(1)), "==", L(6)),
               ("and", ("cmp", ck, "==", L(5)), ("cmp", ck, "==", L(6))),
               ("cmp", ck, "==", L(5.5)), ("cmp", L(7), "==", ck)]
for e in special:
    text = R.render(e, rr)
    want = R.matches(e, rows)
    m = R.check_objects(R.fetch(c + "/query/" + text + "&output_fields=id"), want, [], text)
    if m:
        bad.append(m)
    n += 1
print("# %s: %d + %d expressions in %.1f s, %d wrong" % (c.rsplit("/", 1)[1], count // 3, n, time.time() - t0, len(bad)))
for b in bad[:10]:
    print("FAIL:", b[:500])
sys.exit(1 if bad else 0)
PY
}
queries "$K" "$T/k.jsonl" "$T/k.route" 10 150
queries "$I" "$T/i.jsonl" "$T/i.route" 20 90

# Remount: the same routing; new entities with known keys go where their
# key went; an upsert with another key moves the entity; delete by filter
# on the key.
remount
n=600
until [ "$(cat "$K/state")" = Loaded ] && [ "$(cat "$I/state")" = Loaded ]; do
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "k and i not Loaded 30 s after the mount"
	sleep 0.05
done
routing "$K" "$T/k.jsonl" "$T/k.route2"
cmp -s "$T/k.route" "$T/k.route2" || bug "k's routing changed across a remount"
py "$REF" "$T" "$K" <<'PY' || fail "inserts and upserts after the remount"
import sys, json
sys.path.insert(0, sys.argv[1])
import query_ref as R
t, k = sys.argv[2:4]
rows = R.load(t + "/k.jsonl")
new = R.gen_rows(503, 500, id0=10000, extra_fields=[("cat", lambda g: "c%d" % g.randint(0, 59))])
with open(k + "/entities.jsonl", "a") as f:
    f.write("".join(json.dumps(r) + "\n" for r in new))
ups = [dict(r, cat="c%d" % ((int(r["cat"][1:]) + 7) % 50)) for r in rows[:300]]
with open(k + "/upsert", "a") as f:
    f.write("".join(json.dumps(r) + "\n" for r in ups))
up = {r["id"]: r for r in ups}
rows = [up.get(r["id"], r) for r in rows] + new
R.dump(rows, t + "/k.jsonl")
PY
routing "$K" "$T/k.jsonl" "$T/k.route3"
py "$T/k.route" "$T/k.route3" <<'PY' || bug "keys moved partitions after the remount"
import sys, json
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
moved = {k: (a[k], b[k]) for k in a if k in b and a[k] != b[k]}
assert not moved, moved
assert len(b) == 60, len(b)
PY
queries "$K" "$T/k.jsonl" "$T/k.route3" 30 60

# Delete by filter on the key (and on the key and another field).
py "$REF" "$T" "$K" <<'PY' || bug "delete by filter on the key"
import sys, json
sys.path.insert(0, sys.argv[1])
import query_ref as R
t, k = sys.argv[2:4]
rows = R.load(t + "/k.jsonl")
with open(k + "/delete", "a") as f:
    f.write('filter=cat == "c3"\n')
with open(k + "/delete", "a") as f:
    f.write('filter=cat in ["c4", "c5"] and rank > 0\n')
rows = [r for r in rows if not (r["cat"] == "c3" or (r["cat"] in ("c4", "c5") and r["rank"] > 0))]
assert open(k + "/count").read() == "%d\n" % len(rows), (open(k + "/count").read(), len(rows))
got = R.fetch(k + "/query/id > -1000000&output_fields=id")
assert got == "".join('{"id":%d}\n' % r["id"] for r in sorted(rows, key=lambda r: r["id"])), "live ids"
assert R.fetch(k + '/query/cat == "c3"&output_fields=count(*)') == "0\n"
R.dump(rows, t + "/k.jsonl")
PY
routing "$K" "$T/k.jsonl" "$T/k.route4"
[ ! -s "$T/bugs" ] || fail "$(wc -l <"$T/bugs") failed assertions (above)"
exit 0
