#!/bin/sh
# upsert.sh - upsert (SPEC §8): new ids inserted, existing ids replaced
# (deleted and inserted into the partition written to, every field taken
# from the new record), count growing only by new ids, every record needing
# an id, an id twice in one write refused, one transaction per write; a
# loaded partition answering with the new vector at once and never the old
# one, with every index type (FLAT, HNSW, IVF_FLAT, IVF_SQ8, IVF_PQ,
# BIN_FLAT, BIN_IVF_FLAT), after release + load, after an upsert made while
# released, and after a remount; several writers upserting overlapping ids
# at once (exactly one entity per id, counts exact and never going back).
. "$(dirname "$0")/lib.sh"
mfs_mount

LATER=0
# later CHECK ARGS...: run the check in a subshell; a failure is reported
# (and fails the test) at the end, so it does not hide the checks after it.
later() {
	("$@") 2>>"$T/later.msg" && return 0
	LATER=$((LATER + 1))
	return 1
}
expect_msg() {
	for _m in "$@"; do
		case "$LAST_ERROR" in
		*"$_m"*) ;;
		*) fail "/.errors line does not contain '$_m': '$LAST_ERROR'" ;;
		esac
	done
}
ids_of() { tr '\n' ' ' <"$1"; }

# --- the basics ------------------------------------------------------------------
C=$M/u
mkdir "$C" || fail "mkdir u"
echo "dim=2 field=tag:VARCHAR(8):nullable field=n:INT32:default=7" >"$C/schema" || fail "schema of u"
mkdir "$C/p" "$C/q" || fail "mkdir u/p u/q"
printf '%s\n' '{"id":1,"vector":[1,1],"tag":"one","n":1}' '{"id":2,"vector":[2,2],"tag":"two","n":2}' \
	'{"id":3,"vector":[3,3]}' '{"id":4,"vector":[4,4],"tag":"four"}' >>"$C/entities.jsonl" || fail "insert 1-4"
printf '%s\n' '{"id":5,"vector":[5,5],"tag":"five","n":5}' '{"id":6,"vector":[6,6]}' >>"$C/p/entities.jsonl" ||
	fail "insert 5-6 into p"
expect_content "$C/count" 6

# An existing id is replaced as a whole: fields not given are null or their
# default, not the old values.
expect_ok write "$C/upsert" '{"id":1,"vector":[10,10]}\n'
expect_content "$C/count" 6
expect_content "$C/entities/1" '{"id":1,"partition":"_default","vector":[10,10],"tag":null,"n":7}'
expect_content "$C/_default/ids" 2 3 4 1
# A new id is inserted.
expect_ok write "$C/upsert" '{"id":100,"vector":[100,100],"tag":"new"}\n'
expect_content "$C/count" 7
# The collection's upsert writes to _default: an id of p moves there.
expect_ok write "$C/upsert" '5\t50,50\n'
expect_content "$C/count" 7
expect_content "$C/p/ids" 6
expect_content "$C/p/count" 1
expect_content "$C/_default/ids" 2 3 4 1 100 5
expect_content "$C/entities/5" '{"id":5,"partition":"_default","vector":[50,50],"tag":null,"n":7}'
# A partition's upsert writes there: ids of _default and of another
# partition move into it, a new id lands in it.
expect_ok write "$C/q/upsert" '{"id":2,"vector":[20,20],"tag":"moved"}\n{"id":6,"vector":[60,60],"n":-6}\n{"id":200,"vector":[200,200]}\n'
expect_content "$C/count" 8
expect_content "$C/q/ids" 2 6 200
expect_content "$C/p/ids"
expect_content "$C/_default/ids" 3 4 1 100 5
expect_content "$C/q/count" 3
expect_content "$C/p/count" 0
expect_content "$C/_default/count" 5
expect_content "$C/entities/6" '{"id":6,"partition":"q","vector":[60,60],"tag":null,"n":-6}'
# The same id again in the same partition.
expect_ok write "$C/q/upsert" '200\t202,202\n'
expect_content "$C/q/ids" 2 6 200
expect_content "$C/entities/200" '{"id":200,"partition":"q","vector":[202,202],"tag":null,"n":7}'

# Every record needs an id; an id twice in one write is refused; a bad
# record anywhere refuses the whole write.  Nothing changes.
cat "$C/entities.jsonl" >"$T/u.before"
for bad in '1 1\n' '1,1\n' '[1, 1]\n' '{"vector":[1,1]}\n' '{"id":null,"vector":[1,1]}\n' \
	'{"id":300,"vector":[1,1]}\n{"vector":[2,2],"tag":"x"}\n'; do
	expect_logged EINVAL /u/upsert write "$C/upsert" "$bad"
	expect_msg id
done
expect_logged EINVAL /u/upsert write "$C/upsert" '{"id":3,"vector":[1,1]}\n{"id":301,"vector":[1,1]}\n{"id":3,"vector":[2,2]}\n'
expect_msg 3 'line'
expect_logged EINVAL /u/p/upsert write "$C/p/upsert" '4\t1,1\n4\t1,1\n'
expect_logged EINVAL /u/upsert write "$C/upsert" '{"id":1,"vector":[9,9]}\n{"id":302,"vector":[9,9],"zzz":1}\n'
expect_msg 'line 2' zzz
expect_logged EINVAL /u/upsert write "$C/upsert" '{"id":1,"vector":[9,9]}\n{"id":4,"vector":[9,9,9]}\n'
expect_msg 'line 2'
expect_logged EINVAL /u/upsert write "$C/upsert" '{"id":1,"vector":[9,9]}\n{"id":4,"vector":[9,9],"n":2147483648}\n'
expect_msg 'line 2' 'field n' INT32
expect_logged EINVAL /u/upsert write "$C/upsert" '{"id":1,"vector":[9,9],"tag":"123456789"}\n'
expect_msg 'field tag' 8
expect_logged EINVAL /u/upsert write "$C/upsert" '{"id":1,"vector":[9,9],}\n'
expect_content "$C/count" 8
cat "$C/entities.jsonl" | cmp -s "$T/u.before" - || fail "u changed by failed upserts"
# A partial last record at close: a bad one fails close, and nothing of it.
expect_eq "$("$PROBE" seq "$C/upsert" a 'w:3\t30,30\n{"id":4,"vec' c)" "OK OK EINVAL" "upsert with a bad final partial record"
expect_content "$C/entities/3" '{"id":3,"partition":"_default","vector":[30,30],"tag":null,"n":7}'
expect_content "$C/entities/4" '{"id":4,"partition":"_default","vector":[4,4],"tag":"four","n":7}'
expect_ok write "$C/upsert" '{"id":4,"vector":[40,40],"tag":"4"}\n'
expect_content "$C/count" 8

# Loaded: the new vector answers at once, the old one never.
echo 1 >"$C/load" || fail "load u"
cut -f1 "$C/search/3,3&k=100" | sort -n | tr '\n' ' ' >"$T/hits"
expect_eq "$(cat "$T/hits")" "1 2 3 4 5 6 100 200 " "ids of a search of all of u"
expect_ok write "$C/upsert" '3\t-3,-3\n'
expect_content "$C/search/-3,-3&k=1" "3${TAB}0"
expect_eq "$(grep "^3$TAB" "$C/search/30,30&k=100")" "3${TAB}2178" "id 3 in a search at its old vector"
expect_ok write "$C/p/upsert" '{"id":1,"vector":[-1,-1]}\n'
expect_content "$C/p/search/-1,-1&k=1" "1${TAB}0"
expect_eq "$(cut -f1 "$C/search/0,0&k=100" | sort -n | tr '\n' ' ')" "1 2 3 4 5 6 100 200 " "ids after upserts while loaded"
expect_eq "$(grep -c "^1$TAB" "$C/search/10,10&k=100")" 1 "hits of id 1"
expect_content "$C/search/10,10&k=1&partitions=_default" "3${TAB}338"
# Partitions loaded apart: an id moving out of a loaded partition into a
# released one leaves the loaded one at once; one moving out of a released
# partition into a loaded one is found once when both are loaded.
echo 1 >"$C/release" || fail "release u"
echo 1 >"$C/q/load" || fail "load u/q"
expect_content "$C/search/20,20&k=1" "2${TAB}0"
expect_ok write "$C/p/upsert" '2	21,21
'
expect_content "$C/search/20,20&k=100" "6${TAB}3200" "200${TAB}66248"
expect_ok write "$C/q/upsert" '4	41,41
'
expect_content "$C/search/41,41&k=100" "4${TAB}0" "6${TAB}722" "200${TAB}51842"
echo 1 >"$C/load" || fail "load u again"
expect_eq "$(cut -f1 "$C/search/0,0&k=100" | sort -n | tr '\n' ' ')" "1 2 3 4 5 6 100 200 " "ids of u loaded again"
expect_content "$C/search/40,40&k=1" "4${TAB}2"
expect_eq "$(grep "^2$TAB" "$C/search/20,20&k=100")" "2${TAB}2" "id 2 in a search at its old vector"
# Remount: the same entities.
cat "$C/entities.jsonl" >"$T/u.before"
remount
cat "$C/entities.jsonl" | cmp -s "$T/u.before" - || fail "u changed by the remount"
expect_content "$C/state" Loaded
expect_content "$C/search/-1,-1&k=1" "1${TAB}0"
expect_content "$C/search/-3,-3&k=1" "3${TAB}0"

# --- every index type -------------------------------------------------------------
# 2,000 random entities (ids 1-2000); rounds of upserts give ids 1-20, then
# 21-40, ..., the vector of id i+1000 (so a search of it must find exactly
# {i, i+1000} at the same distance) and add 2 new ids; checks after each.
cat >"$T/up.py" <<'EOF'
import json, os, random, struct, sys
cmd, coll, kind = sys.argv[1], sys.argv[2], sys.argv[3]
state_path = os.path.join(os.environ["T"], os.path.basename(coll) + ".state")
f32 = lambda x: struct.unpack("f", struct.pack("f", x))[0]

def load():
    with open(state_path) as f:
        return json.load(f)

def save(st):
    with open(state_path, "w") as f:
        json.dump(st, f)

def text(v):            # the text of a vector, as written and as queried
    return v if kind == "b" else ",".join(v)

def read(path):
    with open(path) as f:
        return f.read()

def search(vec, k, params):
    out = read("%s/search/%s&k=%d%s" % (coll, text(vec), k, params))
    hits = []
    for line in out.splitlines():
        i, d = line.split("\t")
        hits.append((int(i), float(d)))
    return hits

def dist(a, b):
    if kind == "b":
        return bin(int(a, 16) ^ int(b, 16)).count("1")
    return sum((f32(float(x)) - f32(float(y))) ** 2 for x, y in zip(a, b))

def rnd(r):
    if kind == "b":
        return "%016x" % r.getrandbits(64)
    return ["%.6f" % r.random() for _ in range(8)]

if cmd == "init":
    r = random.Random(int(sys.argv[4]))
    vec = {str(i): rnd(r) for i in range(1, 2001)}
    with open(coll + "/vectors", "w") as f:
        f.write("".join("%s\t%s\n" % (i, text(v)) for i, v in vec.items()))
    save({"vec": vec, "old": {}, "twin": {}, "hist": {}, "round": 0, "seed": int(sys.argv[4])})
elif cmd == "upsert":
    # upsert ROUND: ids 20*(ROUND-1)+1 .. 20*ROUND take their twin's vector,
    # two new ids come in; JSON and TSV records mixed, one write.
    st = load()
    rd = st["round"] + 1
    r = random.Random(st["seed"] * 1000 + rd)
    lines = []
    for i in range(20 * (rd - 1) + 1, 20 * rd + 1):
        tw = str(i + 1000)
        st["old"][str(i)] = st["vec"][str(i)]
        st["vec"][str(i)] = st["vec"][tw]
        st["twin"][str(i)] = tw
        v = st["vec"][str(i)]
        if i % 2:
            lines.append("%d\t%s\n" % (i, text(v)))
        else:
            lines.append(json.dumps({"id": i, "vector": v if kind == "b" else [float(x) for x in v]}) + "\n")
    # ids 1901-1905 take a fresh random vector in every round
    for i in range(1901, 1906):
        st["hist"].setdefault(str(i), []).append(st["vec"][str(i)])
        st["vec"][str(i)] = rnd(r)
        lines.append("%d\t%s\n" % (i, text(st["vec"][str(i)])))
    for j in range(2):
        nid = str(5000 + 2 * rd + j)
        st["vec"][nid] = rnd(r)
        lines.append("%s\t%s\n" % (nid, text(st["vec"][nid])))
    with open(coll + "/upsert", "w") as f:
        f.write("".join(lines))
    st["round"] = rd
    save(st)
elif cmd == "check":
    # check PARAMS EXACT: PARAMS for every search (nprobe=nlist: exhaustive);
    # EXACT: distances are exact (FLAT, HNSW, IVF_FLAT, BIN_*).
    params, exact = sys.argv[4], sys.argv[5] == "1"
    st = load()
    vec = st["vec"]
    n = len(vec)
    assert read(coll + "/count") == "%d\n" % n, "count %r, expected %d" % (read(coll + "/count"), n)
    ents = [json.loads(l) for l in read(coll + "/entities.jsonl").splitlines()]
    ids = [e["id"] for e in ents]
    assert sorted(ids) == sorted(int(i) for i in vec), "entities.jsonl ids differ (%d lines, %d unique)" % (len(ids), len(set(ids)))
    for e in ents:
        want = vec[str(e["id"])]
        got = e["vector"]
        if kind == "f":
            want = [f32(float(x)) for x in want]
            got = [f32(x) for x in got]
        assert got == want, "entity %d: %r, expected %r" % (e["id"], got, want)
    for i, tw in st["twin"].items():
        i, tw = int(i), int(tw)
        e = json.loads(read("%s/entities/%d" % (coll, i)))
        assert e["partition"] == "_default", e
        hits = search(vec[str(i)], 2, params)
        assert sorted(h[0] for h in hits) == sorted([i, tw]), \
            "search of the new vector of %d: %r, expected ids %d and %d" % (i, hits, i, tw)
        assert abs(hits[0][1] - hits[1][1]) <= 1e-6 * max(1, abs(hits[0][1])), "distances of %d and twin: %r" % (i, hits)
        if exact:
            assert hits[0][1] == 0, "distance of the new vector of %d: %r" % (i, hits)
        old = st["old"][str(i)]
        want = dist(old, vec[str(i)])
        for h in search(old, 10, params):
            if h[0] != i:
                continue
            if exact:
                assert abs(h[1] - want) <= 1e-4 * max(1, want), \
                    "search at the old vector of %d: hit %r, expected distance %r (the new vector)" % (i, h, want)
            else:
                assert h[1] > 0.05, "search at the old vector of %d finds it at %r (the old vector)" % (i, h)
    for i, hist in st["hist"].items():
        i = int(i)
        hits = search(vec[str(i)], 10, params)
        assert i in [h[0] for h in hits], "search of the new vector of %d: %r" % (i, hits)
        if exact:
            assert hits[0] == (i, 0), "search of the new vector of %d: %r" % (i, hits)
        for old in hist:
            want = dist(old, vec[str(i)])
            for h in search(old, 10, params):
                if h[0] == i:
                    assert (abs(h[1] - want) <= 1e-4 * max(1, want)) if exact else h[1] > 0.05, \
                        "search at an old vector of %d: hit %r, expected distance %r (the new vector)" % (i, h, want)
    q = vec["1999"]
    hits = search(q, n, params)
    got = [h[0] for h in hits]
    assert len(got) == len(set(got)), "a search of all %d returns an id twice: %r" % (
        n, sorted(x for x in set(got) if got.count(x) > 1))
    assert sorted(got) == sorted(int(i) for i in vec), "a search of all %d returns %d ids" % (n, len(got))
EOF
export T

# index_round NAME KIND INDEX-LINE SEARCH-PARAMS EXACT
index_round() {
	_c=$M/$1
	mkdir "$_c" || fail "mkdir $1"
	if [ "$2" = b ]; then
		echo "dim=64 vector_type=BINARY_VECTOR metric_type=HAMMING" >"$_c/schema"
	else
		echo "dim=8 metric_type=L2" >"$_c/schema"
	fi || fail "schema of $1"
	"$MFS_PYTHON" "$T/up.py" init "$_c" "$2" 7 || fail "$1: init"
	expect_content "$_c/count" 2000
	echo "$3" >"$_c/index" || fail "$1: $3"
	grep -qx 'state=Finished' "$_c/index" || fail "$1: index not built: $(cat "$_c/index")"
	grep -q 'trained=false' "$_c/index" && fail "$1: index not trained: $(cat "$_c/index")"
	echo 1 >"$_c/load" || fail "$1: load"
	# upsert while loaded
	"$MFS_PYTHON" "$T/up.py" upsert "$_c" "$2" || fail "$1: upsert round 1"
	later "$MFS_PYTHON" "$T/up.py" check "$_c" "$2" "$4" "$5" || return 0
	# release and load again
	echo 1 >"$_c/release" || fail "$1: release"
	echo 1 >"$_c/load" || fail "$1: load again"
	later "$MFS_PYTHON" "$T/up.py" check "$_c" "$2" "$4" "$5" || return 0
	# upsert while released, then load
	echo 1 >"$_c/release" || fail "$1: release"
	"$MFS_PYTHON" "$T/up.py" upsert "$_c" "$2" || fail "$1: upsert round 2"
	echo 1 >"$_c/load" || fail "$1: load after round 2"
	later "$MFS_PYTHON" "$T/up.py" check "$_c" "$2" "$4" "$5" || return 0
	# upsert again while loaded (a load that restored the index blob)
	"$MFS_PYTHON" "$T/up.py" upsert "$_c" "$2" || fail "$1: upsert round 3"
	later "$MFS_PYTHON" "$T/up.py" check "$_c" "$2" "$4" "$5"
}
index_round xflat f "index_type=FLAT" "" 1
index_round xhnsw f "index_type=HNSW M=8 efConstruction=64" "&ef=2100" 1
index_round xivf f "index_type=IVF_FLAT nlist=8" "&nprobe=8" 1
index_round xsq8 f "index_type=IVF_SQ8 nlist=8" "&nprobe=8" 0
index_round xpq f "index_type=IVF_PQ nlist=8 m=4 nbits=8" "&nprobe=8" 0
index_round xbin b "index_type=BIN_FLAT" "" 1
index_round xbivf b "index_type=BIN_IVF_FLAT nlist=8" "&nprobe=8" 1
remount
for x in "xflat f  1" "xhnsw f &ef=2100 1" "xivf f &nprobe=8 1" "xsq8 f &nprobe=8 0" \
	"xpq f &nprobe=8 0" "xbin b  1" "xbivf b &nprobe=8 1"; do
	set -- $x
	if [ $# -eq 3 ]; then set -- "$1" "$2" "" "$3"; fi
	# the mount reloads what was loaded in the background (Loading, then
	# Loaded)
	wait_loaded "$1"
	later "$MFS_PYTHON" "$T/up.py" check "$M/$1" "$2" "$3" "$4"
	# and once more after the remount, the index blob as saved
	"$MFS_PYTHON" "$T/up.py" upsert "$M/$1" "$2" || fail "$1: upsert after the remount"
	later "$MFS_PYTHON" "$T/up.py" check "$M/$1" "$2" "$3" "$4"
done

# --- several writers at once -------------------------------------------------------
# Writers 0-3 upsert into partitions p0-p3, writer 4 into the collection
# (_default), 40 writes of 25 distinct ids each from 1-300 (overlapping
# between writers), vectors [writer, write, id, 1]; meanwhile a reader
# watches count (never above 300, never going back) and a searcher
# requires every search and every query to return each id at most once.
K=$M/cc
mkdir "$K" || fail "mkdir cc"
echo "dim=4 field=w:INT8 field=r:INT32" >"$K/schema" || fail "schema of cc"
for p in p0 p1 p2 p3; do mkdir "$K/$p" || fail "mkdir cc/$p"; done
echo 1 >"$K/load" || fail "load cc"
cat >"$T/cw.py" <<'EOF'
import json, random, sys
k, w = sys.argv[1], int(sys.argv[2])
path = "%s/%supsert" % (k, "p%d/" % w if w < 4 else "")
r = random.Random(w)
log = []
for rd in range(40):
    ids = r.sample(range(1, 301), 25)
    recs = "".join(json.dumps({"id": i, "vector": [w, rd, i, 1], "w": w, "r": rd}) + "\n" for i in ids)
    fd = open(path, "w")
    fd.write(recs)
    fd.close()
    log.append(ids)
json.dump(log, open("%s.w%d" % (sys.argv[3], w), "w"))
EOF
cat >"$T/cr.py" <<'EOF'
import json, os, sys
k, stop = sys.argv[1], sys.argv[2]
last, n = 0, 0
while not os.path.exists(stop):
    c = int(open(k + "/count").read())
    assert last <= c <= 300, "count went from %d to %d" % (last, c)
    last = c
    out = open(k + "/search/150,20,150,1&k=400").read()
    ids = [int(l.split("\t")[0]) for l in out.splitlines()]
    assert len(ids) == len(set(ids)), "a search returned an id twice: %r" % sorted(i for i in set(ids) if ids.count(i) > 1)
    # a query over the five partitions sees each write whole: an id
    # moving between partitions is listed once, and never lost
    out = open(k + "/query/r >= 0").read()
    qids = [json.loads(l)["id"] for l in out.splitlines()]
    assert len(qids) == len(set(qids)), "a query listed an id twice: %r" % sorted(i for i in set(qids) if qids.count(i) > 1)
    qn = int(open(k + "/query/r >= 0&output_fields=count(*)").read())
    assert last <= len(qids) <= 300 and last <= qn <= 300, "query saw %d then %d entities, count %d" % (len(qids), qn, last)
    n += 1
open(stop + ".reads", "w").write("%d\n" % n)
EOF
"$MFS_PYTHON" "$T/cr.py" "$K" "$T/stop" >"$T/cr.out" 2>&1 &
reader=$!
pids=
for w in 0 1 2 3 4; do
	"$MFS_PYTHON" "$T/cw.py" "$K" $w "$T/cw" >"$T/cw$w.out" 2>&1 &
	pids="$pids $!"
done
wfail=0
for p in $pids; do wait "$p" || wfail=1; done
touch "$T/stop"
wait "$reader" || fail "reader of cc: $(cat "$T/cr.out")"
[ "$wfail" -eq 0 ] || fail "a writer of cc failed: $(cat "$T"/cw?.out)"
note "reader made $(cat "$T/stop.reads") rounds during the writes"
for p in _default p0 p1 p2 p3; do cat "$K/$p/ids"; done >"$T/cc.ids"
cat "$K/entities.jsonl" >"$T/cc.jsonl" || fail "cat cc/entities.jsonl"
for p in _default p0 p1 p2 p3; do
	printf '%s %s\n' "$p" "$(cat "$K/$p/count")"
done >"$T/cc.counts"
cat "$K/count" >"$T/cc.count"
cut -f1 "$K/search/150,20,150,1&k=1000" >"$T/cc.hits" || fail "search cc"
py "$T" <<'EOF' || fail "state of cc after the concurrent upserts"
import json, os, sys
t = sys.argv[1]
logs = [json.load(open("%s/cw.w%d" % (t, w))) for w in range(5)]
written = set(i for log in logs for ids in log for i in ids)
ids = [int(x) for x in open(t + "/cc.ids").read().split()]
assert len(ids) == len(set(ids)), "ids files list an id twice: %r" % sorted(i for i in set(ids) if ids.count(i) > 1)
assert set(ids) == written, "ids files: %d ids, %d written" % (len(set(ids)), len(written))
assert open(t + "/cc.count").read() == "%d\n" % len(written), open(t + "/cc.count").read()
counts = dict(l.split() for l in open(t + "/cc.counts").read().splitlines())
ents = [json.loads(l) for l in open(t + "/cc.jsonl").read().splitlines()]
eids = [e["id"] for e in ents]
assert len(eids) == len(set(eids)) and set(eids) == written, "entities.jsonl: %d lines, %d ids" % (len(eids), len(set(eids)))
hits = [int(x) for x in open(t + "/cc.hits").read().split()]
assert len(hits) == len(set(hits)) and set(hits) == written, "search: %d hits, %d distinct" % (len(hits), len(set(hits)))
# Each entity is one writer's last write of its id (a writer's later write
# of an id always replaces its earlier one), in that writer's partition.
last = {}
for w, log in enumerate(logs):
    for rd, wids in enumerate(log):
        for i in wids:
            last.setdefault(i, {})[w] = rd
per_part = {}
for e in ents:
    w, rd, i, one = e["vector"]
    assert i == e["id"] and one == 1 and e["w"] == w and e["r"] == rd, e
    assert last[i].get(w) == rd, "entity %r is not writer %d's last write of id %d (%r)" % (e, w, i, last[i])
    part = "_default" if w == 4 else "p%d" % w
    per_part[part] = per_part.get(part, 0) + 1
    e2 = json.load(open("%s/mnt/cc/entities/%d" % (t, i)))
    assert e2["partition"] == part, "entities/%d: %r, expected partition %s" % (i, e2, part)
for p, c in counts.items():
    assert int(c) == per_part.get(p, 0), "count of %s: %s, expected %d" % (p, c, per_part.get(p, 0))
EOF
# Every entity answers a search of its own vector, in its own partition.
jq -r '"\(.vector | map(tostring) | join(","))"' "$T/cc.jsonl" >"$T/cc.vecs"
{ echo k=1; cat "$T/cc.vecs"; } >"$M/cc/search/all" || fail "save search cc/all"
cat "$M/cc/search/all" | grep -v '^$' | cut -f1 >"$T/cc.self"
jq -r .id "$T/cc.jsonl" | cmp -s - "$T/cc.self" || fail "a search of an entity's vector in cc does not answer that entity"

[ "$LATER" -eq 0 ] || fail "$LATER check(s) failed:$NL$(cat "$T/later.msg")"
exit 0
