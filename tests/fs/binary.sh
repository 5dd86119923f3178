#!/bin/sh
# binary.sh - binary vectors through the mount (SPEC §3, §4, §5, §6): the
# schema, every line form (0/1 digits, hex, JSON) read back as one vector,
# binary fvecs records, bad lines and schemas; a binarized L2 set (the
# synthetic syn128; photosift128 too when present) searched with BIN_FLAT
# and BIN_IVF_FLAT against brute-force Hamming and Jaccard distances
# computed here, inserts and deletes after the build, the
# index across a remount, TANIMOTO taken as JACCARD, and the float indexes
# and metrics refused (EINVAL and a /.errors line).
. "$(dirname "$0")/lib.sh"
MFS_SMALL=          # (binary.sh never took a part of photosift128)
data_sets
# PS_DEL: base entities deleted at random below (a tenth); PS_LEFT: the rest
PS_DEL=$((PS_NB / 10))
PS_LEFT=$((PS_NB - PS_DEL))
mfs_mount

# --- the line forms on a small collection (dim=16) --------------------------------
C=$M/forms
mkdir "$C" || fail "mkdir forms"
echo "dim=16 vector_type=BINARY_VECTOR metric_type=HAMMING" >"$C/schema" || fail "schema of forms"
expect_content "$C/schema" dim=16 metric_type=HAMMING vector_type=BINARY_VECTOR description=
expect_content "$C/index" index_type=BIN_FLAT metric_type=HAMMING state=Finished progress=100
# The same vector (bits 0 and 15 set, most significant bit first) three ways.
printf '1\t1000000000000001\n2\t8001\n{"id": 3, "vector": "8001"}\n' >>"$C/vectors" ||
	fail "insert bits, hex and JSON lines"
printf '1111000011110000\n' >>"$C/vectors" || fail "insert a bits line with an auto id"
printf 'F0F1\n' >>"$C/vectors" || fail "insert an upper-case hex line"
# one binary fvecs record: int32 dim/8 = 2, then the 2 bytes
printf '\002\000\000\000\252\125' >>"$C/vectors.fvecs" || fail "insert a binary fvecs record"
expect_content "$C/vectors" "1${TAB}8001" "2${TAB}8001" "3${TAB}8001" "4${TAB}f0f0" "5${TAB}f0f1" "6${TAB}aa55"
expect_content "$C/entities/1" '{"id":1,"partition":"_default","vector":"8001"}'
printf '\002\000\000\000\200\001' >"$T/one.bvecs"
cat "$C/vectors.fvecs" | head -c 6 | cmp -s - "$T/one.bvecs" || fail "vectors.fvecs does not start with 02000000 8001"
expect_eq "$(wc -c <"$C/vectors.fvecs" | tr -d ' ')" 36 "bytes of vectors.fvecs for 6 entities of 16 bits"
expect_content "$C/count" 6
# bad lines: the whole write fails, nothing is inserted
for l in 101 100000000000000 10000000000000001 fff 8001f 1000000000000002 ggff '8001 ff'; do
	expect_logged EINVAL /forms/vectors write "$C/vectors" "$l\n"
done
expect_logged EINVAL /forms/vectors write "$C/vectors" '7\t8001\n8\tfff\n'
expect_logged EEXIST /forms/vectors write "$C/vectors" '1\tffff\n'
# a bad partial last line fails close
expect_eq "$("$PROBE" seq "$C/vectors" wa 'w:010' c)" "OK OK EINVAL" "close after a final line of 3 hex digits"
expect_content "$C/count" 6
echo 1 >"$C/load" || fail "load forms"
printf 'k=2\nf0f0\n' >"$C/search/q" || fail "save forms/search/q"
expect_content "$C/search/q" "4${TAB}0" "5${TAB}1"
printf 'k=1\n1111000011110001\n0101010110101010\n' >"$C/search/q2" || fail "save forms/search/q2"
expect_content "$C/search/q2" "5${TAB}0" "" "4${TAB}8"
expect_eq "$("$PROBE" seq "$C/search/bad" wc 'w:k=1\nfff\n' c)" "OK OK EINVAL" "saving a query of 12 bits"
expect_eq "$("$PROBE" seq "$C/search/bad" wc 'w:k=1\n0.5,1\n' c)" "OK OK EINVAL" "saving a float query"

# --- schema and index errors ----------------------------------------------------------
mkdir "$M/x" || fail "mkdir x"
for s in "dim=12 vector_type=BINARY_VECTOR" "dim=4 vector_type=BINARY_VECTOR" \
	"dim=32776 vector_type=BINARY_VECTOR" "dim=16 vector_type=BINARY_VECTOR metric_type=L2" \
	"dim=16 vector_type=BINARY_VECTOR metric_type=IP" "dim=16 vector_type=BINARY_VECTOR metric_type=COSINE" \
	"dim=16 vector_type=BITS"; do
	expect_logged EINVAL /x/schema write "$M/x/schema" "$s\n"
done
expect_content "$M/x/schema" dim=0 metric_type=L2 vector_type=FLOAT_VECTOR description=
echo "dim=32768 vector_type=BINARY_VECTOR" >"$M/x/schema" || fail "dim=32768 bits"
expect_content "$M/x/schema" dim=32768 metric_type=HAMMING vector_type=BINARY_VECTOR description=
for t in "HNSW" "HNSW M=16 efConstruction=200" "IVF_FLAT" "IVF_SQ8" "IVF_PQ m=2" \
	"BIN_FLAT metric_type=L2" "BIN_IVF_FLAT metric_type=JACCARD" "BIN_IVF_FLAT nlist=0" \
	"BIN_IVF_FLAT nlist=65537"; do
	expect_logged EINVAL /forms/index write "$C/index" "index_type=$t\n"
	expect_content "$C/index" index_type=BIN_FLAT metric_type=HAMMING state=Finished progress=100
done
# TANIMOTO is JACCARD
mkdir "$M/ht" || fail "mkdir ht"
echo "dim=16 vector_type=BINARY_VECTOR metric_type=TANIMOTO" >"$M/ht/schema" || fail "TANIMOTO schema"
expect_content "$M/ht/schema" dim=16 metric_type=JACCARD vector_type=BINARY_VECTOR description=
printf '1\tff00\n2\tf0f0\n3\t0001\n' >>"$M/ht/vectors" || fail "insert into ht"
echo "index_type=BIN_FLAT metric_type=TANIMOTO" >"$M/ht/index" || fail "BIN_FLAT metric_type=TANIMOTO"
expect_content "$M/ht/index" index_type=BIN_FLAT metric_type=JACCARD state=Finished progress=100
echo 1 >"$M/ht/load" || fail "load ht"
printf 'k=3\nff00\n' >"$M/ht/search/q" || fail "save ht/search/q"
cat "$M/ht/search/q" >"$T/ht.res" || fail "search ht"
# |a&b|/|a|b|: 8/8, 4/12, 0/9
py "$T/ht.res" <<'EOF' || fail "TANIMOTO (Jaccard) distances: $(cat "$T/ht.res")"
import sys
got = [l.split("\t") for l in open(sys.argv[1]).read().split("\n")[:-1]]
want = [("1", 0.0), ("2", 1 - 4 / 12), ("3", 1.0)]
assert [g[0] for g in got] == [w[0] for w in want], got
assert all(abs(float(g[1]) - w[1]) <= 1e-6 for g, w in zip(got, want)), got
EOF

# --- the binarized L2 set ---------------------------------------------------------------
# bin.py gen DIR: bits = x > per-dimension median of the base, packed most
# significant bit first; DIR/base.txt ("position<TAB>hex" lines, ids =
# positions), DIR/batch (k=10 and every query in hex), DIR/codes.npz,
# DIR/probe.txt and DIR/probe (20 queries whose code no base row has, as
# entities 20000.. and as a saved query).
# bin.py check RESULT METRIC K [DELETED]: every query of DIR/codes.npz has K
# distinct hits, none deleted, each at its exact distance (HAMMING exactly,
# JACCARD within 1e-6), and the distance list is the brute-force top K over
# the base rows left.
# bin.py same A B METRIC [DELETED]: the answers A and B have the same
# distance lists and the same ids wherever the distance is unique among the
# rows left (ties may order differently).
cat >"$T/bin.py" <<'EOF'
import sys
import numpy as np

def fvecs(p):
    a = np.fromfile(p, dtype="<i4")
    return a.reshape(-1, a[0] + 1)[:, 1:].view("<f4")

def hexs(codes):
    return [c.tobytes().hex() for c in codes]

def dists(q, base, metric):
    # |a&b| as a product of 0/1 matrices; |a^b| = |a| + |b| - 2|a&b|,
    # |a|b| = |a| + |b| - |a&b| (integers, exact in float64)
    qb = np.unpackbits(q, axis=1).astype(np.float64)
    bb = np.unpackbits(base, axis=1).astype(np.float64)
    inter = qb @ bb.T
    tot = qb.sum(axis=1)[:, None] + bb.sum(axis=1)[None, :]
    if metric == "HAMMING":
        return tot - 2 * inter
    return 1 - inter / (tot - inter)

def parse(p):
    text = open(p).read()
    assert text.endswith("\n"), "%s: no final newline" % p
    return [[(int(l.split("\t")[0]), float(l.split("\t")[1])) for l in b.split("\n")]
            for b in text[:-1].split("\n\n")]

def deleted_set(args):
    return set(int(x) for x in open(args[0]).read().split()) if args else set()

def gen(d, base_f, query_f):
    base, query = fvecs(base_f), fvecs(query_f)
    med = np.median(base, axis=0)
    bc = np.packbits(base > med, axis=1)
    qc = np.packbits(query > med, axis=1)
    np.savez(d + "/codes.npz", base=bc, query=qc)
    with open(d + "/base.txt", "w") as f:
        f.writelines("%d\t%s\n" % (i, h) for i, h in enumerate(hexs(bc)))
    with open(d + "/batch", "w") as f:
        f.write("k=10\n" + "".join(h + "\n" for h in hexs(qc)))
    known = set(hexs(bc))
    probe = [h for h in hexs(qc) if h not in known][:20]
    assert len(probe) == 20
    with open(d + "/probe.txt", "w") as f:
        f.writelines("%d\t%s\n" % (20000 + i, h) for i, h in enumerate(probe))
    with open(d + "/probe", "w") as f:
        f.write("k=3\n" + "".join(h + "\n" for h in probe))

def check(d, res, metric, k, rest):
    c = np.load(d + "/codes.npz")
    gone = deleted_set(rest)
    alive = np.array([i not in gone for i in range(len(c["base"]))])
    D = dists(c["query"], c["base"], metric)
    tol = 0 if metric == "HAMMING" else 1e-6
    ans = parse(res)
    assert len(ans) == len(D), "%d answers, expected %d" % (len(ans), len(D))
    for qi, hits in enumerate(ans):
        ids = [h[0] for h in hits]
        assert len(hits) == k and len(set(ids)) == k, "query %d: %s" % (qi, hits)
        for i, d in hits:
            assert 0 <= i < len(D[qi]) and alive[i], "query %d: id %d not a base row left" % (qi, i)
            assert abs(d - D[qi, i]) <= tol, "query %d: id %d distance %r, exact %r" % (qi, i, d, D[qi, i])
        want = np.sort(D[qi][alive])[:k]
        got = np.array([h[1] for h in hits])
        assert np.all(np.abs(got - want) <= tol), "query %d: distances %s, brute force %s" % (qi, got, want)

def same(d, a, b, metric, rest):
    c = np.load(d + "/codes.npz")
    gone = deleted_set(rest)
    alive = np.array([i not in gone for i in range(len(c["base"]))])
    D = dists(c["query"], c["base"], metric)
    tol = 0 if metric == "HAMMING" else 1e-6
    A, B = parse(a), parse(b)
    assert len(A) == len(B), "%d answers against %d" % (len(A), len(B))
    for qi, (x, y) in enumerate(zip(A, B)):
        assert len(x) == len(y), "query %d: %d hits against %d" % (qi, len(x), len(y))
        for (i, di), (j, dj) in zip(x, y):
            assert abs(di - dj) <= tol, "query %d: distances %s against %s" % (qi, x, y)
            if i != j:
                n = int(np.sum(np.abs(D[qi][alive] - di) <= tol))
                assert n > 1, "query %d: id %d against %d at distance %r, which only one row has" % (qi, i, j, di)

cmd, d = sys.argv[1], sys.argv[2]
try:
    if cmd == "gen":
        gen(d, *sys.argv[3:5])
    elif cmd == "check":
        check(d, sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6:])
    else:
        same(d, sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6:])
except AssertionError as e:
    sys.exit("bin.py %s: %s" % (cmd, e))
EOF
binpy() { "$MFS_PYTHON" "$T/bin.py" "$@" 2>"$T/bin.err"; }
mkdir "$T/g" || fail "mkdir g"
binpy gen "$T/g" "$PS_BASE" "$PS_QUERY" ||
	fail "generating the binarized set: $(cat "$T/bin.err")"

# check NAME COLL SUFFIX METRIC [DELETED]: COLL/search/batchSUFFIX into
# $T/NAME, exact against brute force.
check() {
	cat "$M/$2/search/batch$3" >"$T/$1" 2>"$T/cat.err" ||
		fail "$1: cat $2/search/batch$3: $(cat "$T/cat.err")"
	binpy check "$T/g" "$T/$1" "$4" 10 $5 || fail "$1: $(cat "$T/bin.err")"
}
# same NAME_A NAME_B METRIC [DELETED]
same() {
	binpy same "$T/g" "$T/$1" "$T/$2" "$3" $4 || fail "$1 against $2: $(cat "$T/bin.err")"
}
for metric in HAMMING JACCARD; do
	c=h$metric
	C=$M/$c
	mkdir "$C" || fail "mkdir $c"
	echo "dim=128 vector_type=BINARY_VECTOR metric_type=$metric" >"$C/schema" || fail "schema of $c"
	cat "$T/g/base.txt" >>"$C/vectors" || fail "insert the binarized base into $c"
	expect_content "$C/count" "$PS_NB"
	cat "$C/vectors" | cmp -s - "$T/g/base.txt" || fail "$c/vectors does not read back as inserted"
	expect_content "$C/entities/0" "{\"id\":0,\"partition\":\"_default\",\"vector\":\"$(head -n 1 "$T/g/base.txt" | cut -f2)\"}"
	echo 1 >"$C/load" || fail "load $c"
	cp "$T/g/batch" "$C/search/batch" || fail "save $c/search/batch"
	check "${c}_flat" "$c" "" $metric
	echo "index_type=BIN_IVF_FLAT nlist=64" >"$C/index" || fail "BIN_IVF_FLAT on $c"
	expect_content "$C/index" index_type=BIN_IVF_FLAT metric_type=$metric nlist=64 \
		state=Finished progress=100
	check "${c}_ivf64" "$c" "&nprobe=64" $metric
	same "${c}_ivf64" "${c}_flat" $metric
	cat "$C/search/batch&nprobe=1" >"$T/${c}_ivf1" || fail "$c nprobe=1"
	binpy check "$T/g" "$T/${c}_ivf1" $metric 10 &&
		fail "$c: BIN_IVF_FLAT at nprobe=1 is exact for every query: the lists are not used"
	expect_logged EINVAL "/$c/search/batch&nprobe=65" read "$C/search/batch&nprobe=65"
done

# --- inserts and deletes after the build; the index across a remount ---------------
C=$M/hHAMMING
cat "$T/g/probe.txt" >>"$C/vectors" || fail "insert 20 probes into the loaded hHAMMING"
expect_content "$C/count" $((PS_NB + 20))
cp "$T/g/probe" "$C/search/probe" || fail "save the probe query"
cat "$C/search/probe&nprobe=1" >"$T/probe.res" || fail "search the probes"
py "$T/probe.res" <<'EOF' || fail "probes inserted after the build not first at distance 0: $(head -n 4 "$T/probe.res")"
import sys
blocks = open(sys.argv[1]).read()[:-1].split("\n\n")
assert len(blocks) == 20, len(blocks)
for i, b in enumerate(blocks):
    first = b.split("\n")[0]
    assert first == "%d\t0" % (20000 + i), "probe %d: first hit %r" % (i, first)
EOF
py "$PS_NB" "$PS_DEL" >"$T/deleted" <<'EOF'
import random, sys
n, ndel = int(sys.argv[1]), int(sys.argv[2])
r = random.Random(5)
print(" ".join(str(i) for i in r.sample(range(n), ndel) + list(range(20000, 20020))))
EOF
cat "$T/deleted" >"$C/delete" || fail "delete $((PS_DEL + 20)) ids from hHAMMING"
expect_content "$C/count" "$PS_LEFT"
check hHAMMING_del hHAMMING "&nprobe=64" HAMMING "$T/deleted"
cat "$C/search/probe&nprobe=64&k=10" | cut -f1 | grep -x '200[01][0-9]' >"$T/back" &&
	fail "deleted probes found again: $(tr '\n' ' ' <"$T/back")"
remount
wait_loaded hHAMMING
wait_loaded hJACCARD
expect_content "$C/index" index_type=BIN_IVF_FLAT metric_type=HAMMING nlist=64 state=Finished progress=100
same_bytes "$T/hHAMMING_del" "$C/search/batch&nprobe=64" || fail "hHAMMING results differ after the remount"
check hJACCARD_remount hJACCARD "&nprobe=64" JACCARD
same hJACCARD_remount hJACCARD_flat JACCARD
# back to BIN_FLAT: writing FLAT or BIN_FLAT drops the index
echo "index_type=FLAT" >"$C/index" || fail "FLAT on hHAMMING"
expect_content "$C/index" index_type=BIN_FLAT metric_type=HAMMING state=Finished progress=100
check hHAMMING_flat_del hHAMMING "" HAMMING "$T/deleted"
same hHAMMING_flat_del hHAMMING_del HAMMING "$T/deleted"
exit 0
