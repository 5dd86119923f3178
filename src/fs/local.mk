noinst_LIBRARIES += libmfs_fs.a
libmfs_fs_a_SOURCES = \
	src/fs/fs.h src/fs/fs_int.h \
	src/fs/fs.c \
	src/fs/node.c \
	src/fs/perm.c \
	src/fs/errors.c \
	src/fs/ops_dir.c \
	src/fs/ops_file.c \
	src/fs/ctl.c src/fs/squery.c \
	src/fs/stream.c \
	src/fs/search.c \
	src/fs/qcache.c \
	src/fs/loop.c \
	src/fs/backup.c \
	src/fs/stats.c
libmfs_fs_a_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS)

bin_PROGRAMS += milvusfs
milvusfs_SOURCES = src/main.c
milvusfs_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS)
# Link order: upper layers first.
milvusfs_LDADD = libmfs_fs.a libmfs_engine.a libmfs_index.a libmfs_store.a \
	libmfs_fmt.a libmfs_field.a libmfs_vec.a libmfs_base.a \
	$(FUSE_LIBS) $(JANSSON_LIBS) $(LMDB_LIBS) $(BLAS_LIBS) -lpthread -lm
