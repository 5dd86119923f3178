noinst_LIBRARIES += libmfs_engine.a
libmfs_engine_a_SOURCES = src/engine/engine.h
