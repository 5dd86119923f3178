## Mount tests: one script per behaviour, each mounting a fresh filesystem
## through tests/fs/lib.sh (see tests/fs/README.md).  errno_probe prints
## exact errno names for the scripts to compare.
check_PROGRAMS += tests/fs/errno_probe
tests_fs_errno_probe_SOURCES = tests/fs/errno_probe.c
tests_fs_errno_probe_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS)
tests_fs_errno_probe_LDADD = $(FUSE_LIBS)

FS_TESTS = \
	tests/fs/collections.sh \
	tests/fs/partitions.sh \
	tests/fs/insert_text.sh \
	tests/fs/insert_fvecs.sh \
	tests/fs/delete.sh \
	tests/fs/load_release.sh \
	tests/fs/search_flat.sh \
	tests/fs/search_saved.sh \
	tests/fs/errors.sh \
	tests/fs/persistence.sh \
	tests/fs/kill9.sh \
	tests/fs/concurrency.sh \
	tests/fs/mount_options.sh \
	tests/fs/examples.sh \
	tests/fs/index_hnsw.sh \
	tests/fs/index_ivf.sh \
	tests/fs/binary.sh \
	tests/fs/fields.sh \
	tests/fs/entities_json.sh \
	tests/fs/upsert.sh \
	tests/fs/layout1.sh \
	tests/fs/query.sh \
	tests/fs/delete_filter.sh \
	tests/fs/partition_key.sh \
	tests/fs/scalar_index.sh \
	tests/fs/security.sh \
	tests/fs/safety.sh \
	tests/fs/diskfull.sh \
	tests/fs/tools.sh \
	tests/fs/aliases.sh \
	tests/fs/search_filter.sh \
	tests/fs/search_range.sh \
	tests/fs/search_group.sh \
	tests/fs/stats.sh \
	tests/fs/memory.sh \
	tests/fs/compact.sh \
	tests/fs/shrink.sh \
	tests/fs/search_diff.sh \
	tests/fs/search_session.sh \
	tests/fs/backup.sh \
	tests/fs/ops.sh \
	tests/fs/shutdown.sh \
	tests/fs/readme.sh
TESTS += $(FS_TESTS)
EXTRA_DIST += $(FS_TESTS) tests/fs/lib.sh tests/fs/README.md tests/fs/query_ref.py
EXTRA_DIST += tests/fs/search_ref.py
EXTRA_DIST += tests/fs/compact_ref.py
EXTRA_DIST += tests/fs/mksynth.py
# the synthetic data sets lib.sh makes (synth_sets), one per generator version
clean-local: clean-local-fs-synth
clean-local-fs-synth:
	-rm -rf tests/fs/synth-*
.PHONY: clean-local-fs-synth
