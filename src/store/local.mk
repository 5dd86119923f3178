noinst_LIBRARIES += libmfs_store.a
libmfs_store_a_SOURCES = src/store/store.h src/store/store_int.h \
	src/store/env.c src/store/catalog.c src/store/ent.c \
	src/store/blob.c src/store/query.c src/store/usage.c \
	src/store/backup.c src/store/shrink.c
libmfs_store_a_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS)
