noinst_LIBRARIES += libmfs_store.a
libmfs_store_a_SOURCES = src/store/store.h
libmfs_store_a_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS)
