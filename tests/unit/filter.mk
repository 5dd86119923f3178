# Check suite of the allow-list (filtered and range search) paths of every
# index type
check_PROGRAMS += tests/unit/test_filter
TESTS += tests/unit/test_filter
tests_unit_test_filter_SOURCES = tests/unit/test_filter.c
tests_unit_test_filter_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_filter_LDADD = libmfs_index.a libmfs_vec.a libmfs_base.a \
	$(BLAS_LIBS) $(CHECK_LIBS) -lm -lpthread
