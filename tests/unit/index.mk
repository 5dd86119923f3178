# Check suite(s) of index: FLAT and BIN_FLAT (links only index, vec, base).
check_PROGRAMS += tests/unit/test_flat
TESTS += tests/unit/test_flat
tests_unit_test_flat_SOURCES = tests/unit/test_flat.c
tests_unit_test_flat_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_flat_LDADD = libmfs_index.a libmfs_vec.a libmfs_base.a \
	$(BLAS_LIBS) $(CHECK_LIBS) -lm -lpthread
