## libFuzzer targets of every parser (tests/fuzz/README.md): built with
## clang -fsanitize=fuzzer,address,undefined from the project's sources,
## apart from the gcc build (objects in tests/fuzz/obj).  `make check` runs
## each for FUZZ_CHECK_SECONDS on its seed corpus (tests/fuzz/fuzz.sh
## fails, loudly, when clang is missing: it is a declared dependency, see
## bootstrap); `make fuzz` runs each for FUZZ_SECONDS and keeps what it
## finds in tests/fuzz/corpus-<target> of the build tree.
FUZZ_TARGETS = text fvecs jsonl query name squery kv schema index expr
FUZZ_CC = clang
FUZZ_SECONDS = 60
FUZZ_CHECK_SECONDS = 3
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = -g -O1 -std=c11 -pthread -Wno-psabi $(FUZZ_SAN)
FUZZ_CPPFLAGS = -include $(top_builddir)/config.h -I$(top_srcdir)/src \
	-I$(top_srcdir)/tests/fuzz $(JANSSON_CFLAGS) $(BLAS_CFLAGS) \
	-DMFS_DATA_DIR='"$(MFS_DATA_DIR)"'
FUZZ_LIBS = $(JANSSON_LIBS) $(BLAS_LIBS) -lm -lpthread
FUZZ_LIB_SRCS = $(libmfs_base_a_SOURCES) $(libmfs_field_a_SOURCES) \
	$(libmfs_fmt_a_SOURCES) $(libmfs_vec_a_SOURCES) \
	$(libmfs_index_a_SOURCES)
FUZZ_OBJS = $(patsubst %.c,tests/fuzz/obj/%.o,$(filter %.c,$(FUZZ_LIB_SRCS)))
FUZZ_BINS = $(FUZZ_TARGETS:%=tests/fuzz/fuzz_%)
# The targets whose source is elsewhere (written before tests/fuzz).
FUZZ_SRC_jsonl = tests/unit/fuzz_jsonl.c
FUZZ_SRC_expr = tests/unit/fuzz_expr.c
FUZZ_HAVE_CC = $(shell command -v $(FUZZ_CC) 2>/dev/null)

tests/fuzz/obj/%.o: $(top_srcdir)/%.c
	@mkdir -p $(@D)
	$(AM_V_CC)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<
tests/fuzz/fuzz_%: tests/fuzz/obj/tests/fuzz/fuzz_%.o $(FUZZ_OBJS)
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)
tests/fuzz/fuzz_jsonl: tests/fuzz/obj/$(FUZZ_SRC_jsonl:.c=.o) $(FUZZ_OBJS)
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)
tests/fuzz/fuzz_expr: tests/fuzz/obj/$(FUZZ_SRC_expr:.c=.o) $(FUZZ_OBJS)
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(FUZZ_LIBS)
# the targets' own objects are not intermediate files to delete
.SECONDARY: $(FUZZ_BINS:tests/fuzz/fuzz_%=tests/fuzz/obj/tests/fuzz/fuzz_%.o)
-include $(FUZZ_OBJS:.o=.d) $(FUZZ_BINS:tests/fuzz/fuzz_%=tests/fuzz/obj/tests/fuzz/fuzz_%.d)

# make check builds them when clang is there (else fuzz.sh says so and
# fails).
check_DATA = $(if $(FUZZ_HAVE_CC),$(FUZZ_BINS))
TESTS += tests/fuzz/fuzz.sh

fuzz-build:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || { \
		echo "make fuzz: $(FUZZ_CC) not found: install the Debian package clang (./bootstrap deps)" >&2; \
		exit 1; }
	@$(MAKE) $(AM_MAKEFLAGS) $(FUZZ_BINS)
fuzz: fuzz-build
	MFS_BUILDDIR='$(abs_top_builddir)' MFS_SRCDIR='$(abs_top_srcdir)' \
	FUZZ_SECONDS='$(FUZZ_SECONDS)' FUZZ_TARGETS='$(FUZZ_TARGETS)' \
	FUZZ_CC='$(FUZZ_CC)' FUZZ_KEEP=1 $(SHELL) $(top_srcdir)/tests/fuzz/fuzz.sh
clean-local: clean-local-fuzz
clean-local-fuzz:
	rm -rf tests/fuzz/obj $(FUZZ_BINS)
.PHONY: fuzz fuzz-build clean-local-fuzz

EXTRA_DIST += tests/fuzz/fuzz.sh tests/fuzz/fuzz.h tests/fuzz/README.md tests/fuzz/corpus \
	tests/fuzz/fuzz_text.c tests/fuzz/fuzz_fvecs.c tests/fuzz/fuzz_query.c \
	tests/fuzz/fuzz_name.c tests/fuzz/fuzz_squery.c tests/fuzz/fuzz_kv.c \
	tests/fuzz/fuzz_schema.c tests/fuzz/fuzz_index.c
