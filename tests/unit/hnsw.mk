# Check suite of the HNSW index
