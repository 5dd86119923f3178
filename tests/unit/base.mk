# Check suite(s) of base: check_PROGRAMS += tests/unit/test_base; TESTS += tests/unit/test_base
