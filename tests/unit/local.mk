## Check suites, one per module; each module's suite is declared in its
## own fragment, with the libraries it links.
UNIT_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
include tests/unit/base.mk
include tests/unit/field.mk
include tests/unit/fmt.mk
include tests/unit/vec.mk
include tests/unit/index.mk
include tests/unit/store.mk
include tests/unit/engine.mk
include tests/unit/hnsw.mk
include tests/unit/ivf.mk
include tests/unit/filter.mk
## synthetic vector sets with exact ground truth, shared by the suites
EXTRA_DIST += tests/unit/synth.h
