check_PROGRAMS += tests/unit/test_base
TESTS += tests/unit/test_base
tests_unit_test_base_SOURCES = tests/unit/test_base.c
tests_unit_test_base_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_base_LDADD = libmfs_base.a $(CHECK_LIBS) -lpthread -lm

check_PROGRAMS += tests/unit/test_ftoa
TESTS += tests/unit/test_ftoa
tests_unit_test_ftoa_SOURCES = tests/unit/test_ftoa.c
tests_unit_test_ftoa_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ftoa_LDADD = libmfs_base.a $(CHECK_LIBS) -lpthread -lm

# Every float through mfs_ftoa (about 10 minutes on two cores).
check-ftoa: tests/unit/test_ftoa
	tests/unit/test_ftoa all
.PHONY: check-ftoa
