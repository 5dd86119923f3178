# IVF benchmark files (run by bench/run_bench ivf; not part of make check)
EXTRA_DIST += bench/bench_ivf.py bench/README-ivf.md
