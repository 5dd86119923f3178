#!/bin/sh
# shutdown.sh - the daemon ends, exit status 0, whenever it is told to:
# SIGTERM, fusermount3 -u and fusermount3 -uz at a random moment while
# three clients flood it with stats and opens of distinct inline search
# names (each one queued for the kernel to forget), on a database reopened
# with a loaded collection.  Every search read meanwhile answers its k
# lines.  The deadline of 20 s to exit at all is not a measure of speed: a
# daemon that misses it has hung (its fs thread waiting on a LOOKUP no one
# will answer).  SHUTDOWN_CYCLES=N runs N cycles (default 20).
. "$(dirname "$0")/lib.sh"

CYCLES=${SHUTDOWN_CYCLES:-20}
NVEC=200

mfs_mount
C=$M/c
mkdir "$C" || fail "mkdir c"
py "$NVEC" >"$T/vectors" <<'EOF'
import random, sys
r = random.Random(7)
for _ in range(int(sys.argv[1])):
    print(" ".join("%.4f" % r.random() for _ in range(3)))
EOF
cat "$T/vectors" >>"$C/vectors" || fail "insert"
expect_content "$C/count" "$NVEC"
echo 1 >"$C/load" || fail "load"
wait_loaded c

# client.py DIR SEED MODE BAD: stat (MODE stat) or stat and read (mixed)
# inline names "0.1,0.2,0.D&k=K" until the mount goes; a read must give
# min(K, NVEC) lines, else a line goes to BAD.  The errors a stopping
# daemon may give end the client quietly; any other is written to BAD.
cat >"$T/client.py" <<'EOF'
import errno, os, random, sys
d, seed, mode, bad, nvec = sys.argv[1:6]
r = random.Random(int(seed))
nvec = int(nvec)
gone = (errno.ENOTCONN, errno.ECONNABORTED, errno.ENOENT, errno.ENODEV)
def report(msg):
    with open(bad, "a") as f:
        f.write(msg + "\n")
while True:
    k = r.randint(1, 300)
    p = "%s/search/0.1,0.2,0.%d&k=%d" % (d, r.randint(0, 9), k)
    try:
        os.stat(p)
        if mode == "mixed" and r.random() < 0.5:
            with open(p) as f:
                n = len(f.read().splitlines())
            if n != min(k, nvec):
                report("%s: %d lines, expected %d" % (p, n, min(k, nvec)))
    except OSError as e:
        if e.errno in gone:
            break
        report("%s: %s" % (p, errno.errorcode.get(e.errno, e.errno)))
        break
EOF

# daemon_exits PID WHAT: PID ends within 20 s with status 0, its mount gone.
daemon_exits() {
	if ! wait_gone "$1" 20; then
		kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		fail "cycle $i: milvusfs did not exit within 20 s of $2"
	fi
	wait "$1"
	_rc=$?
	[ "$_rc" -eq 0 ] ||
		fail "cycle $i: milvusfs exited with status $_rc after $2, expected 0"
	! is_mounted || fail "cycle $i: $M still mounted after milvusfs exited ($2)"
}

stop_clients() {
	for _c in $clients; do kill -KILL "$_c" 2>/dev/null; done
	for _c in $clients; do wait "$_c" 2>/dev/null; done
	clients=
}
at_cleanup 'stop_clients'

: >"$T/bad"
i=0
while [ "$i" -lt "$CYCLES" ]; do
	i=$((i + 1))
	mfs_unmount || fail "cycle $i: unmount before the mount failed"
	mfs_mount
	wait_loaded c
	expect_content "$C/count" "$NVEC"
	clients=
	for j in 1 2 3; do
		mode=mixed
		[ "$j" -eq 1 ] && mode=stat
		"$MFS_PYTHON" "$T/client.py" "$C" "$i$j" "$mode" "$T/bad" "$NVEC" &
		clients="$clients $!"
	done
	delay=$(awk -v s="$i$$" \
		'BEGIN { srand(s); printf "%.2f", 0.2 + rand() * 1.3 }')
	sleep "$delay"
	pid=$MFS_PID
	case $((i % 5)) in
	3)
		how="fusermount3 -uz"
		fusermount3 -uz "$M" || fail "cycle $i: fusermount3 -uz failed"
		;;
	4)
		how="fusermount3 -u"
		stop_clients
		n=0
		until fusermount3 -u "$M" 2>>"$T/umount.err"; do
			n=$((n + 1))
			[ "$n" -lt 100 ] ||
				fail "cycle $i: fusermount3 -u refused 100 times with no client left: $(tail -n 1 "$T/umount.err")"
			sleep 0.1
		done
		;;
	*)
		how=SIGTERM
		kill -TERM "$pid" || fail "cycle $i: kill -TERM $pid"
		;;
	esac
	note "cycle $i: $how after $delay s"
	MFS_PID=
	daemon_exits "$pid" "$how"
	stop_clients
	[ ! -s "$T/bad" ] || fail "cycle $i: clients saw:$NL$(head -n 5 "$T/bad")"
done

# The database is whole after all that: a last mount serves the searches.
mfs_mount
wait_loaded c
expect_content "$C/count" "$NVEC"
n=$(cat "$C/search/0.1,0.2,0.3&k=5" | wc -l)
expect_eq "$n" 5 "search after $CYCLES stops"
