#!/bin/sh
# bench_sync.sh - the cost of the durable default (issue 12, SPEC §13):
# sync=fsync with MDB_NOMETASYNC (every commit syncs its pages) against
# the MDB_NOSYNC it replaced (nothing synced until fsync/close; a machine
# crash could corrupt the database), and sync=always for reference.
#
#   bench/bench_sync.sh [BULK_VECTORS [LINES [REPEAT]]]
#
# Same binary, same machine, same run: the old flags are those of
# 517cb51's src/store/env.c (MDB_NOTLS | MDB_NOSYNC, the same
# mdb_env_sync(env, 1) at fsync/close), brought back by the test hook
# MFS_STORE_UNSAFE_NOSYNC=1.  Two workloads, each on a fresh database,
# the modes alternating within each of REPEAT rounds, best kept:
#
#   bulk   cat x.fvecs >> C/vectors.fvecs, BULK_VECTORS x 100 (the first
#          vectors of glove100 when $MFS_DATA has it, else random ones)
#          [100000]
#   lines  LINES times `echo "ID<TAB>v1,...,v100" >> C/vectors`, one
#          open/write/close each [2000]
#
# REPEAT [3].  Environment: MFS_BIN [build/milvusfs], MFS_DATA
# [<source>/../shared/data], MFS_PYTHON [/usr/bin/python3], TMPDIR: where
# the databases go (the figures depend on its file system and disk).
set -e
SRC=$(cd "$(dirname "$0")/.." && pwd)
BULK=${1:-100000}
LINES=${2:-2000}
REPEAT=${3:-3}
: "${MFS_BIN:=$SRC/build/milvusfs}"
: "${MFS_DATA:=$SRC/../shared/data}"
: "${MFS_PYTHON:=/usr/bin/python3}"
[ -x "$MFS_BIN" ] || { echo "bench_sync: $MFS_BIN not built" >&2; exit 1; }
W=$(mktemp -d "${TMPDIR:-/tmp}/mfs-bench-sync.XXXXXX")
PID=
cleanup() {
	if [ -n "$PID" ]; then
		fusermount3 -u "$W/mnt" 2>/dev/null || fusermount3 -uz "$W/mnt"
		wait "$PID" 2>/dev/null || :
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
mkdir "$W/mnt"

# the bulk file: BULK vectors of dim 100
G=$MFS_DATA/glove100/glove100_base.fvecs
if [ -f "$G" ] && [ "$(stat -c %s "$G")" -ge $((BULK * 404)) ]; then
	head -c $((BULK * 404)) "$G" >"$W/x.fvecs"
	what="the first $BULK vectors of glove100"
else
	"$MFS_PYTHON" - "$W/x.fvecs" "$BULK" <<'EOF'
import sys, numpy as np
n = int(sys.argv[2])
v = np.random.default_rng(1).standard_normal((n, 100)).astype("<f4")
out = np.empty((n, 101), dtype="<f4")
out[:, 0] = np.frombuffer(np.int32(100).tobytes(), dtype="<f4")[0]
out[:, 1:] = v
out.tofile(sys.argv[1])
EOF
	what="$BULK random vectors"
fi
# the lines: one insert each
"$MFS_PYTHON" - "$W/lines" "$LINES" <<'EOF'
import sys, random
r = random.Random(2)
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write("%d\t%s\n" % (i + 1, ",".join("%.4f" % r.uniform(-1, 1) for _ in range(100))))
EOF

now() { date +%s.%N; }

# mount MODE: a fresh database; MODE old (MDB_NOSYNC), fsync, always
mount_mode() {
	rm -rf "$W/db"
	case $1 in
	old) env MFS_STORE_UNSAFE_NOSYNC=1 "$MFS_BIN" -f -o "db=$W/db,sync=fsync" "$W/mnt" 2>>"$W/log" & ;;
	*) "$MFS_BIN" -f -o "db=$W/db,sync=$1" "$W/mnt" 2>>"$W/log" & ;;
	esac
	PID=$!
	n=0
	until mountpoint -q "$W/mnt" && [ -e "$W/mnt/.errors" ]; do
		n=$((n + 1))
		[ $n -lt 400 ] || { echo "bench_sync: mount failed" >&2; cat "$W/log" >&2; exit 1; }
		sleep 0.05
	done
	mkdir "$W/mnt/c"
	echo "dim=100" >"$W/mnt/c/schema"
}

unmount() {
	fusermount3 -u "$W/mnt"
	wait "$PID"
	PID=
}

# run MODE WORKLOAD: seconds of one run, on stdout
run() {
	mount_mode "$1"
	if [ "$2" = bulk ]; then
		t0=$(now)
		cat "$W/x.fvecs" >>"$W/mnt/c/vectors.fvecs"
		t1=$(now)
		want=$BULK
	else
		t0=$(now)
		while IFS= read -r line; do
			echo "$line" >>"$W/mnt/c/vectors"
		done <"$W/lines"
		t1=$(now)
		want=$LINES
	fi
	got=$(cat "$W/mnt/c/count")
	[ "$got" = "$want" ] || { echo "bench_sync: $1 $2: count $got, expected $want" >&2; exit 1; }
	unmount
	echo "$t1 - $t0" | bc -l
}

echo "bench_sync: $what, $LINES one-line writes, best of $REPEAT; databases in $(df -P "$W" | awk 'NR == 2 { print $1 }') ($(stat -f -c %T "$W")), $(nproc) cores"
for wl in bulk lines; do
	for m in old fsync always; do
		eval "best_$m="
	done
	r=0
	while [ $r -lt "$REPEAT" ]; do
		for m in old fsync always; do
			s=$(run $m $wl)
			eval "b=\$best_$m"
			if [ -z "$b" ] || [ "$(echo "$s < $b" | bc -l)" = 1 ]; then
				eval "best_$m=$s"
			fi
		done
		r=$((r + 1))
	done
	for m in old fsync always; do
		eval "s=\$best_$m"
		if [ $wl = bulk ]; then
			n=$BULK
		else
			n=$LINES
		fi
		case $m in
		old) label="sync=fsync, MDB_NOSYNC (before)" ;;
		fsync) label="sync=fsync, MDB_NOMETASYNC (now)" ;;
		always) label="sync=always" ;;
		esac
		printf '%-6s %-34s %8.2f s %10.0f inserts/s %6.2fx\n' "$wl" "$label" "$s" \
			"$(echo "$n / $s" | bc -l)" "$(echo "$s / $best_old" | bc -l)"
	done
done
