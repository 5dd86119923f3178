# HNSW benchmark files (run by bench/run_bench hnsw; not part of make check)
EXTRA_DIST += bench/run_bench bench/bench_hnsw.py bench/README.md \
	bench/peers/hnsw_peer.cpp bench/peers/coldgap.h bench/peers/faiss_hnsw.py
