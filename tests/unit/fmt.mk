# Check suite(s) of fmt: check_PROGRAMS += tests/unit/test_fmt; TESTS += tests/unit/test_fmt
