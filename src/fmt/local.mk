noinst_LIBRARIES += libmfs_fmt.a
libmfs_fmt_a_SOURCES = src/fmt/fmt.h
