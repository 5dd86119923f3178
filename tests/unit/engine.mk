# Check suite(s) of engine: check_PROGRAMS += tests/unit/test_engine; TESTS += tests/unit/test_engine
