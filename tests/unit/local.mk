## Check suites, one per module; each module's suite is declared in its
## own fragment.  UNIT_LDADD links every layer (an archive only pulls in
## what a test uses).
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
UNIT_LDADD = libmfs_fs.a libmfs_engine.a libmfs_index.a libmfs_store.a \
	libmfs_fmt.a libmfs_field.a libmfs_vec.a libmfs_base.a \
	$(CHECK_LIBS) $(JANSSON_LIBS) $(LMDB_LIBS) $(BLAS_LIBS) -lpthread -lm
include tests/unit/base.mk
include tests/unit/field.mk
include tests/unit/fmt.mk
include tests/unit/vec.mk
include tests/unit/index.mk
include tests/unit/store.mk
include tests/unit/engine.mk
include tests/unit/hnsw.mk
include tests/unit/ivf.mk
include tests/unit/filter.mk
## synthetic vector sets with exact ground truth, shared by the suites
EXTRA_DIST += tests/unit/synth.h
