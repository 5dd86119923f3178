# Check suite of the HNSW index
check_PROGRAMS += tests/unit/test_hnsw
TESTS += tests/unit/test_hnsw
tests_unit_test_hnsw_SOURCES = tests/unit/test_hnsw.c
tests_unit_test_hnsw_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_hnsw_LDADD = libmfs_index.a libmfs_vec.a libmfs_base.a \
	$(BLAS_LIBS) $(CHECK_LIBS) -lm -lpthread
