# Check suite of engine (links its layer and those below it, not fs).
check_PROGRAMS += tests/unit/test_engine
TESTS += tests/unit/test_engine
tests_unit_test_engine_SOURCES = tests/unit/test_engine.c
tests_unit_test_engine_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_engine_LDADD = libmfs_engine.a libmfs_index.a \
	libmfs_store.a libmfs_field.a libmfs_vec.a libmfs_base.a \
	$(CHECK_LIBS) $(JANSSON_LIBS) $(LMDB_LIBS) $(BLAS_LIBS) -lpthread -lm
