# Check suite(s) of index: check_PROGRAMS += tests/unit/test_index; TESTS += tests/unit/test_index
