noinst_LIBRARIES += libmfs_vec.a
libmfs_vec_a_SOURCES = src/vec/vec.h
