noinst_LIBRARIES += libmfs_base.a
libmfs_base_a_SOURCES = \
	src/base/err.c src/base/err.h \
	src/base/buf.c src/base/buf.h \
	src/base/ftoa.c src/base/ftoa.h \
	src/base/idmap.c src/base/idmap.h \
	src/base/kv.c src/base/kv.h \
	src/base/limits.h \
	src/base/log.c src/base/log.h \
	src/base/pool.c src/base/pool.h \
	src/base/sparam.c src/base/sparam.h \
	src/base/text.c src/base/text.h
