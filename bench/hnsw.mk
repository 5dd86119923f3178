# HNSW benchmark files
