## Stress runs (tests/stress, tests/fs/README.md), not part of make check:
## `make check-stress` runs each script of STRESS_TESTS through the test
## harness, one after the other (logs in tests/stress/*.log): 200 kill -9
## cycles under concurrent inserts, deletes, searches and index builds
## (KILL9_CYCLES=N) and a 10-minute soak of 8 clients (SOAK_SECONDS=N).
## Other modules hook in by adding a script (STRESS_TESTS += x.sh) or a
## target (check-stress: check-stress-x).
STRESS_TESTS = tests/stress/kill9.sh tests/stress/soak.sh
check-stress: check-stress-scripts
check-stress-scripts:
	@fail=0; for t in $(STRESS_TESTS); do \
		$(MAKE) $(AM_MAKEFLAGS) check TESTS="$$t" || fail=1; \
	done; exit $$fail
.PHONY: check-stress check-stress-scripts
EXTRA_DIST += tests/stress/kill9.sh tests/stress/soak.sh \
	tests/stress/client.py tests/stress/soak.py
CLEANFILES += tests/stress/*.log tests/stress/*.trs
