# Check suite of engine (links its layer and those below it, not fs).
check_PROGRAMS += tests/unit/test_engine
TESTS += tests/unit/test_engine
tests_unit_test_engine_SOURCES = tests/unit/test_engine.c
tests_unit_test_engine_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_engine_LDADD = libmfs_engine.a libmfs_index.a \
	libmfs_store.a libmfs_field.a libmfs_vec.a libmfs_base.a \
	$(CHECK_LIBS) $(JANSSON_LIBS) $(LMDB_LIBS) $(BLAS_LIBS) -lpthread -lm

# The engine's scalar fields: schemas, rows, upsert, queries against a
# brute force, delete by filter, scalar indexes, partition keys.
check_PROGRAMS += tests/unit/test_engine_fields
TESTS += tests/unit/test_engine_fields
tests_unit_test_engine_fields_SOURCES = tests/unit/test_engine_fields.c
tests_unit_test_engine_fields_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_engine_fields_LDADD = libmfs_engine.a libmfs_index.a \
	libmfs_store.a libmfs_field.a libmfs_vec.a libmfs_base.a \
	$(CHECK_LIBS) $(JANSSON_LIBS) $(LMDB_LIBS) $(BLAS_LIBS) -lpthread -lm
