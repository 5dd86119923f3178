## vec: distance kernels (run-time SIMD dispatch), BLAS batching, top-k.
noinst_LIBRARIES += libmfs_vec.a
libmfs_vec_a_SOURCES = src/vec/vec.h src/vec/vec_int.h src/vec/kern_bin_int.h \
	src/vec/meta.c \
	src/vec/dispatch.c \
	src/vec/kern_scalar.c \
	src/vec/kern_avx2.c \
	src/vec/kern_avx512.c \
	src/vec/blas.c \
	src/vec/topk.c
libmfs_vec_a_CFLAGS = $(AM_CFLAGS) $(BLAS_CFLAGS)
