# Check suite of store (links only its layer and base, so it builds while
# other layers are unfinished).
check_PROGRAMS += tests/unit/test_store
TESTS += tests/unit/test_store
tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(UNIT_CFLAGS) $(LMDB_CFLAGS)
tests_unit_test_store_LDADD = libmfs_store.a libmfs_base.a $(LMDB_LIBS) \
	$(CHECK_LIBS) -lpthread -lm
check_PROGRAMS += tests/unit/test_store_shrink
TESTS += tests/unit/test_store_shrink
tests_unit_test_store_shrink_SOURCES = tests/unit/test_store_shrink.c
tests_unit_test_store_shrink_CFLAGS = $(UNIT_CFLAGS) $(LMDB_CFLAGS)
tests_unit_test_store_shrink_LDADD = libmfs_store.a libmfs_base.a \
	$(LMDB_LIBS) $(CHECK_LIBS) -lpthread -lm
