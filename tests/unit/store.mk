# Check suite(s) of store: check_PROGRAMS += tests/unit/test_store; TESTS += tests/unit/test_store
