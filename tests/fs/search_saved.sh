#!/bin/sh
# search_saved.sh - saved queries are kept parsed after their first search;
# what a search answers must still follow every change: rewriting a saved
# query, removing it, renaming or removing its collection, removing and
# making again its partition, a schema change, a remount, and rewrites
# racing with searches (SPEC §6).  The size an open result reports.
. "$(dirname "$0")/lib.sh"
mfs_mount

C=$M/c
mkdir "$C" || fail "mkdir c"
echo "dim=2 metric_type=L2" >"$C/schema" || fail "schema"
printf '0,0\n10,10\n20,20\n' >>"$C/vectors" || fail "insert"
mkdir "$C/p" || fail "mkdir c/p"
printf '100\t31,31\n' >>"$C/p/vectors" || fail "insert into p"
echo 1 >"$C/load" || fail "load"

# ids: the ids a search returns, one line.
ids() { cut -f1 "$1" | tr '\n' ' '; }

printf 'k=1\n0,0\n' >"$C/search/q" || fail "save q"
expect_eq "$(ids "$C/search/q")" "1 " "q first search"
expect_eq "$(ids "$C/search/q")" "1 " "q second search (kept)"
expect_eq "$(ids "$C/search/q&k=2")" "1 2 " "q&k=2"
expect_eq "$(ids "$C/search/q")" "1 " "q after an override (the kept query is unchanged)"

# Rewriting the saved query: the next search uses the new text.
printf 'k=1\n20,20\n' >"$C/search/q" || fail "rewrite q"
expect_eq "$(ids "$C/search/q")" "3 " "q after rewrite"
expect_eq "$(ids "$C/search/q&k=3")" "3 2 100 " "q&k=3 after rewrite"
printf 'k=1\n20,20\n11,11\n' >"$C/search/q" || fail "rewrite q, two vectors"
expect_eq "$(ids "$C/search/q")" "3  2 " "q after rewrite (two queries, a blank line between)"

# A partition's search/ has its own queries of the same name.
printf 'k=1\n30,30\n' >"$C/p/search/q" || fail "save p/q"
expect_eq "$(ids "$C/p/search/q")" "100 " "p/q"
expect_eq "$(ids "$C/search/q")" "3  2 " "c/q beside p/q"

# Removing the saved query: the name is gone.
rm "$C/search/q" || fail "rm q"
expect_errno ENOENT read "$C/search/q"
expect_errno ENOENT read "$C/search/q&k=2"
expect_eq "$(ids "$C/p/search/q")" "100 " "p/q after rm c/q"

# Removing the partition and making it again: its queries are gone.
echo 1 >"$C/p/release" || fail "release p"
rmdir "$C/p" || fail "rmdir p"
mkdir "$C/p" || fail "mkdir p again"
expect_errno ENOENT read "$C/p/search/q"

# Renaming the collection: the query goes with it; a new collection of the
# old name does not have it.
printf 'k=1\n10,10\n' >"$C/search/r" || fail "save r"
expect_eq "$(ids "$C/search/r")" "2 " "r"
mv "$C" "$M/d" || fail "mv c d"
expect_eq "$(ids "$M/d/search/r")" "2 " "r after mv"
mkdir "$C" || fail "mkdir c again"
echo "dim=2 metric_type=L2" >"$C/schema" || fail "schema of the new c"
printf '5,5\n' >>"$C/vectors" || fail "insert into the new c"
echo 1 >"$C/load" || fail "load the new c"
expect_errno ENOENT read "$C/search/r"

# Removing the collection and making it again.
printf 'k=1\n5,5\n' >"$C/search/s" || fail "save s"
expect_eq "$(ids "$C/search/s")" "1 " "s"
echo 1 >"$C/release" || fail "release c"
rmdir "$C" || fail "rmdir c"
mkdir "$C" || fail "mkdir c a third time"
expect_errno ENOENT read "$C/search/s"

# A schema change: a query saved and searched while the collection had
# no dim is parsed again for the schema set later (here: it no longer
# fits).
mkdir "$M/e" || fail "mkdir e"
printf '1,2,3\n' >"$M/e/search/t" || fail "save t in e (no dim yet)"
echo 1 >"$M/e/load" || fail "load empty e"
expect_content "$M/e/search/t"
echo 1 >"$M/e/release" || fail "release e"
echo "dim=2" >"$M/e/schema" || fail "schema of e"
printf '1,1\n' >>"$M/e/vectors" || fail "insert into e"
echo 1 >"$M/e/load" || fail "load e"
expect_errno EINVAL read "$M/e/search/t"

# Rewrites racing with searches: every answer is one of the two queries',
# and after the last rewrite the search answers the last text.
D=$M/d
echo 1 >"$D/load" 2>/dev/null
printf 'k=1\n0,0\n' >"$D/search/w" || fail "save w"
(
	i=0
	while [ $i -lt 100 ]; do
		printf 'k=1\n20,20\n' >"$D/search/w"
		printf 'k=1\n0,0\n' >"$D/search/w"
		i=$((i + 1))
	done
	printf 'k=1\n20,20\n' >"$D/search/w"
) &
writer=$!
n=0
while pid_alive $writer; do
	cut -f1 "$D/search/w" >"$T/w" 2>/dev/null || continue
	case "$(cat "$T/w")" in
	1|3) n=$((n + 1)) ;;
	*) fail "search during rewrites answered '$(cat "$T/w")'" ;;
	esac
done
wait $writer || fail "the writer failed"
note "$n searches during 201 rewrites"
expect_eq "$(ids "$D/search/w")" "3 " "w after the last rewrite"

# Sizes: a search name stats as 0 by itself; while a reader holds its
# results open, fstat and stat of the name report their length, so a
# reader that sizes its buffer from st_size reads them in one go.
expect_eq "$(stat -c %s "$D/search/w")" "0" "stat of a saved query, not open"
py "$D/search/w" "$D/search/w&k=2" <<'PY' || fail "sizes of open results"
import os, sys
for name in sys.argv[1:]:
    with open(name, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        by_path = os.stat(name).st_size
        data = f.read()
        assert size == len(data) > 0, (name, size, len(data))
        assert by_path == size, (name, by_path, size)
        os.lseek(f.fileno(), 0, os.SEEK_SET)
        assert f.read(size + 1) == data
    assert os.stat(name).st_size == 0, name
with open(sys.argv[1], "r+b") as f:    # a writer's results come later
    assert os.fstat(f.fileno()).st_size == 0
PY

# A search is checked at open and runs just after it: a reader that
# closes without reading, or reads while others open and close, finds
# everything in order (4 threads, 200 opens each, half of them closed
# unread).
py "$D/search/w" "$D/search/w&k=2" <<'PY' || fail "opens closed unread"
import sys, threading
bad = []
def run(t):
    for i in range(200):
        name = sys.argv[1 + (i + t) % 2]
        with open(name) as f:
            if i % 2:
                continue
            got = [l.split("\t")[0] for l in f.read().splitlines()]
            if len(got) != (2 if name.endswith("&k=2") else 1) or got[0] != "3":
                bad.append((name, got))
ts = [threading.Thread(target=run, args=(t,)) for t in range(4)]
for t in ts: t.start()
for t in ts: t.join()
assert not bad, bad[:3]
PY
pid_alive "$MFS_PID" || fail "daemon died after opens closed unread"
expect_eq "$(ids "$D/search/w")" "3 " "w after opens closed unread"

# After a remount the saved queries are read from the database again.
remount
echo 1 >"$D/load" || fail "load d after remount"
expect_eq "$(ids "$D/search/w")" "3 " "w after remount"
expect_eq "$(ids "$D/search/r")" "2 " "r after remount"
exit 0
