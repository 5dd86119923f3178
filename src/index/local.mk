noinst_LIBRARIES += libmfs_index.a
libmfs_index_a_SOURCES = src/index/index.h
