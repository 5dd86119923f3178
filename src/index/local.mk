noinst_LIBRARIES += libmfs_index.a
libmfs_index_a_SOURCES = src/index/index.h src/index/index.c
include src/index/flat.mk
include src/index/hnsw.mk
include src/index/ivf.mk
