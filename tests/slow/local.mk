## The slow runs, not part of make check (tests/fs/README.md): `make
## check-million` runs tests/slow/million.sh, 1,000,000 entities through a
## real mount (issue 16).  MFS_MILLION_DATA=DIR keeps its data set in DIR.
SLOW_TESTS = tests/slow/million.sh
check-million:
	$(MAKE) $(AM_MAKEFLAGS) check TESTS='$(SLOW_TESTS)' MFS_TIMEOUT=$${MFS_TIMEOUT:-7200}
.PHONY: check-million
EXTRA_DIST += $(SLOW_TESTS)
CLEANFILES += tests/slow/*.log tests/slow/*.trs
