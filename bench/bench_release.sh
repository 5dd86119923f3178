#!/bin/sh
# bench_release.sh [BIN] [DATA] - a release gives the memory back (issue 16,
# SPEC §11): the daemon's RssAnon on a fresh mount, after glove100 is
# imported into an HNSW and an IVF_FLAT collection, built, loaded and
# searched (a 1,000-query batch each), and after both are released.
# Target: released <= fresh x 1.1 + 8 MiB.
set -e
top=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$top/build/milvusfs}
DATA=${2:-${MFS_DATA:-$top/../shared/data}}/glove100
D=$(mktemp -d "${TMPDIR:-/tmp}/mfs-bench-release.XXXXXX")
mkdir "$D/m"
"$B" -f -o db="$D/db" "$D/m" 2>"$D/log" &
P=$!
trap 'fusermount3 -u "$D/m" 2>/dev/null; wait $P 2>/dev/null; rm -rf "$D"' EXIT
for i in $(seq 200); do [ -e "$D/m/.errors" ] && break; sleep 0.05; done
rss() { awk '/RssAnon/ {print $2}' "/proc/$P/status"; }
fresh=$(rss)
echo "fresh mount: $fresh KiB"
for c in h v; do
	mkdir "$D/m/$c"
	echo "dim=100 metric_type=COSINE" >"$D/m/$c/schema"
	cat "$DATA/glove100_base.fvecs" >>"$D/m/$c/vectors.fvecs"
done
echo "index_type=HNSW M=16 efConstruction=200" >"$D/m/h/index"
echo "index_type=IVF_FLAT nlist=256" >"$D/m/v/index"
for c in h v; do
	echo 1 >"$D/m/$c/load"
	cat "$DATA/glove100_query.fvecs" >"$D/m/$c/search/q.fvecs"
	lines=$(wc -l <"$D/m/$c/search/q.fvecs")
	echo "$c: a 1,000-query batch answered $lines lines"
done
echo "loaded both, searched: $(rss) KiB"
for c in h v; do echo 1 >"$D/m/$c/release"; done
sleep 1
rel=$(rss)
lim=$((fresh * 11 / 10 + 8192))
echo "released both: $rel KiB (target <= $lim KiB: $([ "$rel" -le "$lim" ] && echo met || echo NOT met))"
