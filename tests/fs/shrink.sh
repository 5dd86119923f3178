#!/bin/sh
# shrink.sh - data.mdb gives back its free pages (src/store/env.c, "The file
# shrinks").  At mount: 60,000 entities with an HNSW index, 54,000 of them
# deleted and the partition compacted while the online rewrite is off
# (MFS_STORE_SHRINK_MIN_BYTES); at the next mount the file is rewritten and
# at most half its size, with the same entities (vectors read back byte for
# byte), the same search answers, the index still loading from its stored
# blob, inserts and deletes working; a mount with few free pages does not
# rewrite; a copy a crash left is removed.  While mounted: 40,000 more
# entities, 36,000 deleted in one write while a client inserts, deletes
# and searches; the rewrite's copy is held in its middle
# (MFS_STORE_SHRINK_GATE) until the client has had writes acknowledged
# during it, so they land in the old file after the copy's snapshot and
# reach the new file by the replay; the file is rewritten without a
# remount, to at most half its size, no write fails, every search has its
# k hits, and the ids are exactly those expected (every acknowledged
# insert there, no acknowledged delete back), before and after a
# remount.
. "$(dirname "$0")/lib.sh"
# the first part tests the rewrite at mount: none while mounted
MFS_WRAP_SAVED=$MFS_WRAP
MFS_WRAP="env MFS_STORE_SHRINK_MIN_BYTES=1000000000000 $MFS_WRAP"
mfs_mount

size() { stat -c %s "$DB/data.mdb"; }
rewrites() { grep -c 'data.mdb rewritten without' "$T/log"; }
online() { grep -c 'data.mdb rewritten while mounted' "$T/log"; }

# 60,000 x 32 floats (7.3 MiB of vectors) and 5 queries.
py_vecs "$T/a.fvecs" "$T/q.txt" "$T/del.txt" <<'EOF'
r = np.random.RandomState(11)
write_fvecs(sys.argv[1], r.standard_normal((60000, 32)))
with open(sys.argv[2], "w") as f:
    for q in r.standard_normal((5, 32)):
        f.write(",".join("%.4f" % x for x in q) + "\n")
keep = set(r.choice(np.arange(1, 60001), 6000, replace=False).tolist())
with open(sys.argv[3], "w") as f:
    f.write("".join("%d\n" % i for i in range(1, 60001) if i not in keep))
EOF
C=$M/c
mkdir "$C" || fail "mkdir c"
echo "dim=32 metric_type=L2" >"$C/schema" || fail "schema"
cat "$T/a.fvecs" >>"$C/vectors.fvecs" || fail "import"
echo "index_type=HNSW M=8 efConstruction=40" >"$C/index" || fail "index"
cat "$T/del.txt" >"$C/delete" || fail "delete"
echo 1 >"$C/compact" || fail "compact"
expect_eq "$(cat "$C/count")" 6000 "count after the deletes"
echo 1 >"$C/load" || fail "load"
cat "$T/q.txt" >"$C/search/q" || fail "save query"
cat "$C/search/q&k=10&ef=200" >"$T/s1" || fail "search before"
cat "$C/vectors" >"$T/v1" || fail "read vectors before"
expect_eq "$(wc -l <"$T/v1" | tr -d ' ')" 6000 "vectors lines before"
before=$(size)
MFS_WRAP=$MFS_WRAP_SAVED
remount
after=$(size)
note "data.mdb $before -> $after bytes"
[ "$after" -le $((before / 2)) ] ||
	fail "data.mdb $after bytes after the remount, expected at most half of $before"
expect_eq "$(rewrites)" 1 "rewrites logged"
[ ! -e "$DB/data.mdb.shrink" ] && [ ! -e "$DB/data.mdb.shrink-lock" ] ||
	fail "the copy's files were left in $DB: $(ls "$DB")"
expect_eq "$(cat "$C/count")" 6000 "count after the remount"
cat "$C/vectors" >"$T/v2" || fail "read vectors after"
cmp -s "$T/v1" "$T/v2" || fail "vectors differ after the rewrite: $(diff "$T/v1" "$T/v2" | head -5)"
echo 1 >"$C/load" || fail "load after the remount"
grep -q '^loaded_past_index=0$' "$C/stats" ||
	fail "the load rebuilt or re-added entities:$NL$(cat "$C/stats")"
cat "$C/search/q&k=10&ef=200" >"$T/s2" || fail "search after"
cmp -s "$T/s1" "$T/s2" || fail "search answers differ after the rewrite"
# Writes go on in the new file.
printf '70000\t%s\n' "$(head -n 1 "$T/q.txt")" >>"$C/vectors" ||
	fail "insert after the rewrite"
expect_eq "$(cat "$C/count")" 6001 "count after an insert"
id=$(head -n 1 "$T/v1" | cut -f 1)
echo "$id" >"$C/delete" || fail "delete $id"
expect_eq "$(cat "$C/count")" 6000 "count after a delete"

# Few free pages: no rewrite.  A copy left by a crash is removed.
echo junk >"$DB/data.mdb.shrink"
echo junk >"$DB/data.mdb.shrink-lock"
remount
expect_eq "$(rewrites)" 1 "rewrites logged after the second remount"
[ ! -e "$DB/data.mdb.shrink" ] && [ ! -e "$DB/data.mdb.shrink-lock" ] ||
	fail "a crash's copy was not removed: $(ls "$DB")"
expect_eq "$(cat "$C/count")" 6000 "count after the second remount"

# ---- while mounted, under concurrent inserts, deletes and searches ----
# (a rewrite past 1 MiB of free pages, not 4: this database is small; the
# copy waits in its middle while $T/gate exists)
MFS_WRAP="env MFS_STORE_SHRINK_MIN_BYTES=1048576 MFS_STORE_SHRINK_GATE=$T/gate $MFS_WRAP_SAVED"
remount
py_vecs "$T/b.fvecs" "$T/del2.txt" <<'EOF'
r = np.random.RandomState(12)
write_fvecs(sys.argv[1], r.standard_normal((40000, 32)))
# the 40,000 get the auto ids 70,001..110,000: delete 36,000 of them
gone = r.choice(np.arange(70001, 110001), 36000, replace=False)
with open(sys.argv[2], "w") as f:
    f.write("".join("%d\n" % i for i in sorted(gone)))
EOF
cat "$T/b.fvecs" >>"$C/vectors.fvecs" || fail "import 40,000"
expect_eq "$(cat "$C/count")" 46000 "count after the second import"
expect_eq "$(sort -n "$C/_default/ids" | tail -n 1)" 110000 "last auto id"
full=$(size)
# The client: until $T/stop exists, rounds of a write of 20 entities (ids
# 200,000 on; 3,000 rounds at most), a delete of 5 of the previous round's
# and of one of the 4,000 kept of 70,001..110,000, each acknowledged by
# close, and a k=10 search; a line in $T/progress per round.  It writes
# the acknowledged ids to $T/acked and $T/deleted, its failures to
# $T/cerr.
py "$T/del2.txt" >"$T/keep" <<'EOF'
import sys
gone = set(int(l) for l in open(sys.argv[1]))
print("\n".join(str(i) for i in range(70001, 110001) if i not in gone))
EOF
cat >"$T/client.py" <<'EOF'
import os, sys
c, stop, t, qpath = sys.argv[1:5]
q = open(qpath).readline().strip()
keep = [int(l) for l in open(t + "/keep")]
acked, deleted, fails, nxt, searches = [], [], [], 200000, 0
progress = open(t + "/progress", "a", buffering=1)
while not os.path.exists(stop) and len(fails) < 5:
    if nxt < 260000:
        ids = range(nxt, nxt + 20)
        try:
            with open(c + "/vectors", "a") as f:
                f.write("".join("%d\t%s\n" % (i, q) for i in ids))
            acked.extend(ids)
        except OSError as e:
            fails.append("insert %d..: %s" % (ids[0], e))
        gone = list(range(nxt - 20, nxt - 15)) if nxt > 200000 else []
        gone.append(keep.pop())
        try:
            with open(c + "/delete", "w") as f:
                f.write("".join("%d\n" % i for i in gone))
            deleted.extend(gone)
        except OSError as e:
            fails.append("delete %s: %s" % (gone, e))
        nxt += 20
        progress.write("%d\n" % nxt)
    try:
        with open(c + "/search/" + q + "&k=10") as f:
            hits = [l for l in f.read().splitlines() if l.strip()]
        searches += 1
        if len(hits) != 10:
            fails.append("a search returned %d hits, expected 10" % len(hits))
    except OSError as e:
        fails.append("search: %s" % e)
with open(t + "/acked", "w") as f:
    f.write("".join("%d\n" % i for i in acked))
with open(t + "/deleted", "w") as f:
    f.write("".join("%d\n" % i for i in deleted))
with open(t + "/cerr", "w") as f:
    f.write("".join(x + "\n" for x in fails))
print(len(acked), len(deleted), searches)
EOF
: >"$T/progress"
touch "$T/gate"
"$MFS_PYTHON" "$T/client.py" "$C" "$T/stop" "$T" "$T/q.txt" \
	>"$T/client.out" 2>&1 &
cpid=$!
at_cleanup "kill $cpid 2>/dev/null"
sleep 0.5
cat "$T/del2.txt" >"$C/delete" || fail "delete 36,000 in one write"
# The copy has its snapshot and waits: the client's writes acknowledged
# from now on reach the new file only by the replay.
n=0
until grep -q 'the copy of data.mdb waits while' "$T/log"; do
	pid_alive "$cpid" || fail "the client stopped: $(cat "$T/client.out")"
	n=$((n + 1))
	[ $n -lt 1200 ] || fail "no rewrite's copy within 120 s of the delete"
	sleep 0.1
done
p0=$(wc -l <"$T/progress")
n=0
until [ "$(wc -l <"$T/progress")" -ge $((p0 + 10)) ]; do
	pid_alive "$cpid" || fail "the client stopped: $(cat "$T/client.out")"
	n=$((n + 1))
	[ $n -lt 1200 ] || fail "writers waited for the rewrite's copy: $(($(wc -l <"$T/progress") - p0)) of 10 rounds acknowledged in 120 s"
	sleep 0.1
done
rm "$T/gate"
n=0
until [ "$(online)" -ge 1 ]; do
	pid_alive "$cpid" || fail "the client stopped: $(cat "$T/client.out")"
	n=$((n + 1))
	[ $n -lt 1200 ] || fail "no rewrite while mounted within 120 s of the delete"
	sleep 0.1
done
replayed=$(grep -m 1 'data.mdb rewritten while mounted' "$T/log" |
	sed -n 's/.* \([0-9]*\) keys changed meanwhile replayed.*/\1/p')
[ "${replayed:-0}" -gt 0 ] ||
	fail "the rewrite replayed no change, expected the client's: $(grep 'data.mdb rewritten while mounted' "$T/log")"
# the client goes on in the new file; a compaction frees the old index
echo 1 >"$C/compact" || fail "compact"
touch "$T/stop"
wait $cpid || fail "the client failed: $(cat "$T/client.out")"
[ -s "$T/cerr" ] && fail "the client's writes or searches failed around the rewrite:$NL$(cat "$T/cerr")"
nacked=$(wc -l <"$T/acked" | tr -d ' ')
ndel=$(wc -l <"$T/deleted" | tr -d ' ')
[ "$nacked" -gt 0 ] || fail "the client had no insert acknowledged"
# at most 1.5 times a fresh database of the same entities, the compacted
# copy /.backup/data.mdb (without the rewrite: about twice), once the
# rewrite the compaction's commit started is done
fresh=$(wc -c <"$M/.backup/data.mdb" | tr -d ' ')
n=0
until [ "$(size)" -le $((fresh * 3 / 2)) ]; do
	n=$((n + 1))
	[ $n -lt 600 ] ||
		fail "data.mdb $(size) bytes 60 s after the compaction, expected at most 1.5 times the fresh copy's $fresh"
	sleep 0.1
done
note "while mounted: $(cat "$T/client.out") (inserts and deletes acknowledged, searches); data.mdb $full -> $(size) bytes, a fresh copy $fresh; $(online) rewrites:$NL$(grep -o 'copied in.*held off [0-9]* ms' "$T/log")"
[ ! -e "$DB/data.mdb.shrink" ] || fail "the copy was left in $DB: $(ls "$DB")"
if grep -q 'data.mdb keeps\|cannot open data.mdb again' "$T/log"; then
	fail "a rewrite failed: $(grep 'data.mdb keeps\|cannot open data.mdb again' "$T/log")"
fi
# expected: the 6,000 of the first part, the 4,000 kept, the acknowledged
# inserts, less the acknowledged deletes
py "$T/v2" "$T/del2.txt" "$T/acked" "$T/deleted" >"$T/want" <<'EOF'
import sys
have = set(int(l.split("\t")[0]) for l in open(sys.argv[1]))
have.add(70000)
have.discard(int(open(sys.argv[1]).readline().split("\t")[0]))
gone = set(int(l) for l in open(sys.argv[2]))
have |= set(range(70001, 110001)) - gone
have |= set(int(l) for l in open(sys.argv[3]))
have -= set(int(l) for l in open(sys.argv[4]))
print("\n".join(str(i) for i in sorted(have)))
EOF
want=$(wc -l <"$T/want" | tr -d ' ')
expect_eq "$want" $((10000 + nacked - ndel)) "expected ids"
expect_eq "$(cat "$C/count")" "$want" "count after the rewrite"
sort -n "$C/_default/ids" >"$T/have" || fail "read ids"
cmp -s "$T/want" "$T/have" || fail "ids after the rewrite differ: $(diff "$T/want" "$T/have" | head -5)"
remount
expect_eq "$(cat "$C/count")" "$want" "count after a remount"
sort -n "$C/_default/ids" >"$T/have2" || fail "read ids after the remount"
cmp -s "$T/want" "$T/have2" || fail "ids after the remount differ: $(diff "$T/want" "$T/have2" | head -5)"

# A rewrite that cannot be made (a directory where the copy goes) keeps
# the old file in use, with one well-formed /.errors line that says so.
mkdir "$DB/data.mdb.shrink" || fail "mkdir data.mdb.shrink"
e0=$(errors_lines)
cat "$T/b.fvecs" >>"$C/vectors.fvecs" || fail "import 40,000 again"
sort -n "$C/_default/ids" >"$T/have3" || fail "read ids"
comm -13 "$T/want" "$T/have3" >"$T/new"
expect_eq "$(wc -l <"$T/new" | tr -d ' ')" 40000 "new ids"
big=$(size)
cat "$T/new" >"$C/delete" || fail "delete the 40,000 new ones"
n=0
until [ "$(errors_lines)" -gt "$e0" ]; do
	n=$((n + 1))
	[ $n -lt 600 ] || fail "no /.errors line 60 s after a rewrite that cannot be made"
	sleep 0.1
done
line=$(grep 'data.mdb keeps' "$M/.errors" | tail -n 1)
printf '%s\n' "$line" | grep -Eq "$ERR_RE" || fail "/.errors line malformed: '$line'"
case "$line" in
*" shrink / EEXIST: database $DB: data.mdb keeps "*"old file stays in use"*"data.mdb.shrink: File exists") ;;
*) fail "/.errors: expected the failed rewrite with EEXIST, got '$line'" ;;
esac
[ "$(size)" -ge "$big" ] || fail "data.mdb shrank from $big to $(size) bytes, expected the old file kept"
expect_eq "$(cat "$C/count")" "$want" "count after the failed rewrite"
sort -n "$C/_default/ids" >"$T/have4" || fail "read ids"
cmp -s "$T/want" "$T/have4" || fail "ids after the failed rewrite differ"
rmdir "$DB/data.mdb.shrink"
exit 0
