#!/bin/sh
# readme.sh - the README's minute runs as written, twice in a row (it uses
# -o db= on a database it makes afresh, so a second run starts clean), and
# prints what the README shows.  (The minute's index write comes right
# after a delete whose automatic compaction may still run: the write
# waits for it.)
. "$(dirname "$0")/lib.sh"

# Its commands (lines "    $ ..." up to the unmount) with /tmp/vec moved
# into $T; each run must print what the README shows.
sed -n '/^## A minute with it/,/fusermount3 -u/p' "$MFS_SRCDIR/README.md" >"$T/minute"
grep -q -- '-o db=' "$T/minute" || fail "the README's minute does not use -o db="
sed -n 's/^    \$ //p' "$T/minute" |
	sed -e "s|/tmp/vec|$T/vec|g" -e "s|\./build/milvusfs|$MFS_BIN|" \
	    -e "/$(basename "$MFS_BIN") /a tr -dc 0-9 <$T/vec.db/milvusfs.lock >$T/minute.pid" \
	    >"$T/minute.sh"
grep -q minute.pid "$T/minute.sh" || fail "no mount command in the README's minute"
awk '/^    \$ /{next} /^    /{sub(/^    /, ""); print}' "$T/minute" >"$T/minute.want"
at_cleanup "fusermount3 -uz '$T/vec' 2>/dev/null"
for run in 1 2; do
	sh -e "$T/minute.sh" >"$T/minute.out.$run" 2>&1 ||
		fail "the README's minute, run $run: $(tail -n 5 "$T/minute.out.$run")"
	cmp -s "$T/minute.want" "$T/minute.out.$run" ||
		fail "the README's minute, run $run, printed:$NL$(cat "$T/minute.out.$run")${NL}expected:$NL$(cat "$T/minute.want")"
	# its daemon exits after the unmount that ends it
	wait_gone "$(cat "$T/minute.pid")" 30 || fail "the minute's daemon did not exit after its unmount"
done
exit 0
