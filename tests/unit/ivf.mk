# Check suites of the IVF and binary indexes
check_PROGRAMS += tests/unit/test_ivf
TESTS += tests/unit/test_ivf
tests_unit_test_ivf_SOURCES = tests/unit/test_ivf.c
tests_unit_test_ivf_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ivf_LDADD = libmfs_index.a libmfs_vec.a libmfs_base.a \
	$(BLAS_LIBS) $(CHECK_LIBS) -lm -lpthread
