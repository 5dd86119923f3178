#!/bin/sh
# examples.sh - the examples run and say what they should: quickstart.sh on
# a fresh database with the bundled sample (and with photosift128, when the
# real data sets are present), and on a mount given to it; search.py and
# rag.py against a mount.
. "$(dirname "$0")/lib.sh"
EX=$MFS_SRCDIR/examples

# quickstart OUT [ARGS]: run it with TMPDIR in $T; it must exit 0 and leave
# nothing mounted nor any temporary directory behind.
quickstart() {
	_out=$1; shift
	mkdir -p "$T/qs"
	TMPDIR=$T/qs MILVUSFS=$MFS_BIN sh "$EX/quickstart.sh" "$@" >"$_out" 2>"$_out.err" ||
		fail "quickstart.sh $* exited with status $?:$NL$(tail -n 20 "$_out" "$_out.err")"
	grep -q " $T/qs" /proc/self/mounts && fail "quickstart.sh left a mount behind"
	[ -z "$(ls "$T/qs")" ] || fail "quickstart.sh left $(ls "$T/qs") in TMPDIR"
	return 0
}

# With photosift128, when it is there (quickstart.sh reads $MFS_DATA).
if real_sets_present; then
	note "data: the real photosift128 in $MFS_DATA (quickstart), then the bundled sample"
	MFS_DATA=$MFS_DATA quickstart "$T/qs1"
	o=$T/qs1
	grep -qx 10000 "$o" || fail "quickstart: no count of 10000 in:$NL$(cat "$o")"
	grep -qx Loaded "$o" || fail "quickstart: not Loaded"
	grep -qx NotLoad "$o" || fail "quickstart: not released"
	grep -qx 'dim=128' "$o" || fail "quickstart: no dim=128 schema"
	# the first hit of id=1 is entity 1 at distance 0
	sed -n '/search\/id=1&k=5/{n;p;}' "$o" | grep -qx "1${TAB}0" ||
		fail "quickstart: the first hit of id=1 is not '1<TAB>0':$NL$(cat "$o")"
	[ "$(grep -c "^[0-9]*${TAB}[0-9.e+-]*\$" "$o")" -ge 10 ] || fail "quickstart: too few hit lines"
	grep -q '^\[\[{"id":2,"distance":0}' "$o" || fail "quickstart: the JSON query of entity 2 does not find it first"
	grep -q 'ENOENT' "$o" || fail "quickstart: /.errors shows no ENOENT line"
else
	note "the real-data part (quickstart with photosift128) was not run: the data sets are absent ($MFS_DATA); data: the bundled sample"
fi

# With the bundled sample (no data sets).
MFS_DATA=$T/nodata quickstart "$T/qs2"
o=$T/qs2
grep -qx 300 "$o" || fail "quickstart with the sample: no count of 300:$NL$(cat "$o")"
grep -qx 'dim=8' "$o" || fail "quickstart with the sample: no dim=8"
sed -n '/search\/id=1&k=5/{n;p;}' "$o" | grep -qx "1${TAB}0" ||
	fail "quickstart with the sample: the first hit of id=1 is not '1<TAB>0'"
grep -qx Loaded "$o" || fail "quickstart with the sample: not Loaded"
grep -qx NotLoad "$o" || fail "quickstart with the sample: not released"
# (the five hits of id=1&k=5)
[ "$(grep -c "^[0-9]*${TAB}[0-9.e+-]*\$" "$o")" -ge 5 ] || fail "quickstart with the sample: too few hit lines"
grep -q '^\[\[{"id":2,"distance":0}' "$o" ||
	fail "quickstart with the sample: the JSON query of entity 2 does not find it first"
grep -q 'ENOENT' "$o" || fail "quickstart with the sample: /.errors shows no ENOENT line"

# On a filesystem that is mounted already: it works there and leaves it.
mfs_mount
MFS_DATA=$T/nodata quickstart "$T/qs3" "$M"
expect_content "$M/photos/count" 300
expect_content "$M/photos/state" NotLoad
# Run again: the name is taken, it picks another.
MFS_DATA=$T/nodata quickstart "$T/qs4" "$M"
expect_eq "$(ls "$M" | wc -l | tr -d ' ')" 2 "collections after two quickstarts"

# search.py, twice (it starts afresh).
for i in 1 2; do
	"$MFS_PYTHON" "$EX/search.py" "$M" >"$T/py.out" 2>"$T/py.err" ||
		fail "search.py exited with status $?: $(cat "$T/py.err")"
	cat >"$T/py.want" <<'EOF'
count: 8
state: Loaded
sour and juicy:
  lemon   3  cosine 0.9869
  lime    4  cosine 0.9832
  grape   8  cosine 0.7303
like an apple:
  apple   1  cosine 1.0000
  carrot  7  cosine 0.9558
  pear    2  cosine 0.9438
like a banana (JSON):
  banana  5  cosine 1.0000
  mango   6  cosine 0.8754
entity 7: carrot [0.5, 0.1, 1, 0.4]
state: NotLoad
EOF
	cmp -s "$T/py.want" "$T/py.out" ||
		fail "search.py output:$NL$(diff "$T/py.want" "$T/py.out")"
done
# rag.py: fields, JSON lines, query/, upsert, delete by filter; it checks
# its own answers against its data and exits 1 on any difference.
"$MFS_PYTHON" "$EX/rag.py" "$M" >"$T/rag.out" 2>"$T/rag.err" ||
	fail "rag.py exited with status $?:$NL$(cat "$T/rag.out" "$T/rag.err")"
for want in 'collection docs: 50 chunks' 'state: Loaded' 'recent FAQ chunks: 14' \
	'chunks from the manual: 20' 'upserted 1000: year 2026' \
	'after deleting doc07: 45 chunks' 'all as expected'; do
	grep -qxF "$want" "$T/rag.out" || fail "rag.py: no line '$want' in:$NL$(cat "$T/rag.out")"
done
[ "$(grep -c '^  0\.[0-9]\{4\}  ' "$T/rag.out")" -eq 4 ] ||
	fail "rag.py: not 4 search hits with their text:$NL$(cat "$T/rag.out")"
expect_content "$M/docs/count" 45
expect_content "$M/docs/state" NotLoad
# The only failures were the quickstart's deliberate ones.
grep -v '/search/id=99999 ENOENT: ' "$M/.errors" >"$T/other.errors" || true
[ ! -s "$T/other.errors" ] || fail "unexpected failures in /.errors:$NL$(cat "$T/other.errors")"
exit 0
