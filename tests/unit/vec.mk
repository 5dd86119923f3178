# Check suite of vec: kernels at every SIMD level, top-k, gemm.
check_PROGRAMS += tests/unit/test_vec
TESTS += tests/unit/test_vec
tests_unit_test_vec_SOURCES = tests/unit/test_vec.c
tests_unit_test_vec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vec_LDADD = libmfs_vec.a libmfs_base.a $(BLAS_LIBS) \
	$(CHECK_LIBS) -lm -lpthread
