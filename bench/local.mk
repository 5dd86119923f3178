## Benchmarks are not part of make check; see bench/README.md.
include bench/hnsw.mk
include bench/ivf.mk
EXTRA_DIST += bench/bench_sync.sh bench/bench_print.py bench/bench_release.sh
EXTRA_DIST += bench/bench_churn.py bench/mk_million.py bench/bench_million.py \
	bench/bench_rewrite.py
EXTRA_DIST += bench/bench_flat.py bench/benchlib.py bench/bench_query.py \
	bench/bench_filter.py \
	bench/jsonl_parse.c bench/expr_eval_bench.c
