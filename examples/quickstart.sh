#!/bin/sh
# quickstart.sh - a minute with milvusfs: mount a database, create a
# collection, import vectors, load them, search, unmount.
#
#   sh examples/quickstart.sh [MOUNTPOINT]
#
# `./bootstrap demo` runs it.  Without MOUNTPOINT it mounts a fresh database
# on a temporary directory and unmounts (and removes) it at the end; given
# a MOUNTPOINT where milvusfs is mounted already it works there and leaves
# the mount and the new collection in place (given an empty directory, it
# mounts a fresh database there for the demo).
#
#   MILVUSFS  the milvusfs binary [./milvusfs, ./build/milvusfs, PATH]
#   MFS_DATA  the shared data sets [../shared/data beside the repository]
#
# The collection holds photosift128 (10,000 SIFT descriptors of photos,
# dim 128, L2) when the data set is there, else examples/sample.txt
# (300 vectors of dim 8 in three clusters).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
data=${MFS_DATA:-$here/../../shared/data}
data=$(cd "$data" 2>/dev/null && pwd || printf '%s\n' "$data")
base=$data/photosift128/photosift128_base.fvecs
queries=$data/photosift128/photosift128_query.fvecs

bin=${MILVUSFS:-}
if [ -z "$bin" ]; then
	for b in ./milvusfs ./build/milvusfs "$here/../build/milvusfs"; do
		if [ -x "$b" ]; then bin=$b; break; fi
	done
fi
[ -n "$bin" ] || bin=$(command -v milvusfs || true)
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
	echo "quickstart: milvusfs not found: build it (./bootstrap build) or set MILVUSFS" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/milvusfs-quickstart.XXXXXX")
m=${1:-$work/mnt}
pid=

say() { printf '\n# %s\n' "$*"; }
# run 'COMMAND': show it ($c as $m/NAME, data paths spelled out), then run it.
run() {
	_shown=$1
	for _v in c base queries here; do
		if [ "$_v" = c ]; then _val="\$m/${c##*/}"; else eval "_val=\${$_v:-}"; fi
		_shown=$(printf '%s\n' "$_shown" |
			sed "s|\\\$$_v\\([^A-Za-z0-9_]\\)|$_val\\1|g; s|\\\$$_v\$|$_val|")
	done
	printf '$ %s\n' "$_shown"
	eval "$1"
}

unmount() {
	[ -n "$pid" ] || return 0
	run 'fusermount3 -u "$m"'
	wait "$pid" || { echo "quickstart: milvusfs exited with status $?" >&2; pid=; return 1; }
	pid=
}
cleanup() {
	status=$?
	trap - EXIT
	if [ -n "$pid" ]; then
		fusermount3 -u "$m" 2>/dev/null || true
		wait "$pid" || status=1
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if mountpoint -q "$m" 2>/dev/null && [ -e "$m/.errors" ]; then
	say "milvusfs is mounted on $m already; working there"
else
	mkdir -p "$m"
	db=$work/db
	say "Mount a fresh database ($db) on $m"
	printf '$ %s -f -o db=%s %s &\n' "$bin" "$db" "$m"
	"$bin" -f -o "db=$db" "$m" 2>"$work/log" &
	pid=$!
	n=0
	until mountpoint -q "$m" && [ -e "$m/.errors" ]; do
		n=$((n + 1))
		if [ $n -gt 200 ] || ! kill -0 "$pid" 2>/dev/null; then
			cat "$work/log" >&2
			echo "quickstart: the mount did not come up" >&2
			exit 1
		fi
		sleep 0.1
	done
fi

printf '$ m=%s\n' "$m"
c=$m/photos
[ ! -e "$c" ] || c=$m/photos_$$

say "A collection is a directory; its schema is a file"
run 'mkdir "$c"'
if [ -r "$base" ]; then
	run 'echo "dim=128 metric_type=L2 description=SIFT descriptors of photos" > "$c/schema"'
	say "Import a standard data set: fvecs records appended to vectors.fvecs (ids 1, 2, ...)"
	run 'cat "$base" >> "$c/_default/vectors.fvecs"'
else
	run 'echo "dim=8 metric_type=L2 description=a small sample" > "$c/schema"'
	say "Insert text vectors, one a line (ids 1, 2, ...)"
	run 'cat "$here/sample.txt" >> "$c/vectors"'
fi
run 'cat "$c/schema"'
run 'cat "$c/count"'

say "Load the collection into memory to search it"
run 'echo 1 > "$c/load"'
run 'cat "$c/state"'

say "The 5 nearest neighbours of entity 1: id<TAB>squared L2 distance, itself first"
run 'cat "$c/search/id=1&k=5"'

say "A saved query: parameter lines, then a vector (here entity 2's, as reading vectors prints it)"
run 'vec=$(head -n 2 "$c/_default/vectors" | tail -n 1 | cut -f2)'
run 'printf "k=3\nformat=json\n%s\n" "$vec" > "$c/search/q1"'
run 'cat "$c/search/q1"'
say "Parameters after & override the saved ones; every read searches afresh"
run 'cat "$c/search/q1&k=1"'

if [ -r "$queries" ]; then
	say "A batch: the first two photosift128 queries saved as fvecs; a blank line separates the answers"
	run 'head -c 1032 "$queries" > "$c/search/two.fvecs"'
	run 'cat "$c/search/two.fvecs&k=3"'
fi

say "Failures return an errno and leave a line in /.errors"
run 'cat "$c/search/id=99999" || true'
run 'cat "$m/.errors"'

say "Release the memory"
run 'echo 1 > "$c/release"'
run 'cat "$c/state"'

if [ -n "$pid" ]; then
	say "Unmount; the database stays in $db until this demo removes it"
	unmount
fi
say "done"
