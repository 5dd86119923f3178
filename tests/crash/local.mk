## Simulated machine crashes (tests/crash/crash.sh, SPEC §13): an LD_PRELOAD
## library records the daemon's writes and syncs to data.mdb; crash_sim
## makes the disk images a crash could leave from that record and checks
## each.  The library is built without the sanitizers: it is loaded before
## their runtime.
check_PROGRAMS += tests/crash/interpose.so tests/crash/crash_sim
tests_crash_interpose_so_SOURCES = tests/crash/interpose.c \
	tests/crash/crash_trace.h
tests_crash_interpose_so_CFLAGS = -std=c11 -O2 -g -Wall -Wextra -fPIC
tests_crash_interpose_so_LDFLAGS = -shared
tests_crash_interpose_so_LDADD = -ldl -lpthread
tests_crash_crash_sim_SOURCES = tests/crash/crash_sim.c \
	tests/crash/crash_trace.h
tests_crash_crash_sim_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS)
tests_crash_crash_sim_LDADD = libmfs_store.a libmfs_base.a $(LMDB_LIBS) \
	-lpthread -lm
CRASH_TESTS = tests/crash/crash.sh
TESTS += $(CRASH_TESTS)
EXTRA_DIST += $(CRASH_TESTS) tests/crash/workload.py \
	tests/crash/crash_unsafe.sh tests/crash/crash_unsafe_shrink.sh

## make check-stress-crash (part of make check-stress): 1,500 simulated
## crashes of a 200-round workload with sync=fsync, 500 with sync=always,
## and the check of the checker: with MDB_NOSYNC, the flags sync=fsync
## used before, 500 crashes must find lost or corrupted data, and so must
## 500 against rewrites of data.mdb made without syncs (MFS_STORE_UNSAFE_
## SHRINK=1).  Every run rewrites data.mdb at a remount and while mounted
## (crash.sh).  Each run keeps its log as tests/crash/stress-*.log.
CRASH_STRESS = MFS_CRASH_ROUNDS=200
check-stress-crash: milvusfs$(EXEEXT) tests/fs/errno_probe$(EXEEXT) \
		tests/crash/interpose.so tests/crash/crash_sim$(EXEEXT)
	@set -e; for run in fsync:1500:0 always:500:0 fsync:500:1 \
	    fsync:500:shrink; do \
	  mode=$${run%%:*}; rest=$${run#*:}; n=$${rest%%:*}; u=$${rest#*:}; \
	  script=crash.sh; [ "$$u" = 0 ] || script=crash_unsafe.sh; \
	  [ "$$u" != shrink ] || script=crash_unsafe_shrink.sh; \
	  log=tests/crash/stress-$$mode-$$u.log; \
	  echo "crash stress: sync=$$mode, $$n crashes, $$script (log $$log)"; \
	  $(AM_TESTS_ENVIRONMENT) $(CRASH_STRESS) MFS_CRASHES=$$n \
	    MFS_CRASH_SYNC=$$mode $(SHELL) $(srcdir)/tests/crash/$$script \
	    >$$log 2>&1 || { cat $$log; exit 1; }; \
	  grep 'crash_sim:' $$log; \
	done
check-stress: check-stress-crash
CLEANFILES += tests/crash/stress-*.log
.PHONY: check-stress check-stress-crash
