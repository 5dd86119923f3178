# Check suite(s) of vec: check_PROGRAMS += tests/unit/test_vec; TESTS += tests/unit/test_vec
