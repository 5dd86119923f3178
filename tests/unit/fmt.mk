# Check suite of fmt: links fmt and base only, so it builds while the other
# layers are in progress.
check_PROGRAMS += tests/unit/test_fmt
TESTS += tests/unit/test_fmt
tests_unit_test_fmt_SOURCES = tests/unit/test_fmt.c
tests_unit_test_fmt_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fmt_LDADD = libmfs_fmt.a libmfs_field.a libmfs_base.a $(CHECK_LIBS) $(JANSSON_LIBS) -lm -lpthread

# Mutation fuzzing of every fmt parser (MFS_FUZZ_ITERS inputs; files as
# arguments replay inputs).
check_PROGRAMS += tests/unit/test_fmt_fuzz
TESTS += tests/unit/test_fmt_fuzz
tests_unit_test_fmt_fuzz_SOURCES = tests/unit/test_fmt_fuzz.c
tests_unit_test_fmt_fuzz_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_fmt_fuzz_LDADD = libmfs_fmt.a libmfs_field.a libmfs_base.a $(JANSSON_LIBS) -lm -lpthread
