# Check suites of field: the schema, rows and columns (test_field), the
# expression parser and evaluator with a differential test against a
# brute-force reference (test_expr), and mutation fuzzing of the expression
# and JSON-record parsers (test_field_fuzz).
check_PROGRAMS += tests/unit/test_field tests/unit/test_expr
TESTS += tests/unit/test_field tests/unit/test_expr
tests_unit_test_field_SOURCES = tests/unit/test_field.c
tests_unit_test_field_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_field_LDADD = libmfs_fmt.a libmfs_field.a libmfs_base.a \
	$(CHECK_LIBS) $(JANSSON_LIBS) -lm -lpthread
tests_unit_test_expr_SOURCES = tests/unit/test_expr.c
tests_unit_test_expr_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_expr_LDADD = libmfs_field.a libmfs_base.a \
	$(CHECK_LIBS) $(JANSSON_LIBS) -lm -lpthread

# libFuzzer targets (not built by make: see each script).
EXTRA_DIST += tests/unit/fuzz_expr.c tests/unit/fuzz_expr.sh \
	tests/unit/fuzz_jsonl.c tests/unit/fuzz_jsonl.sh
