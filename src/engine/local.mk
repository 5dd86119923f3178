noinst_LIBRARIES += libmfs_engine.a
libmfs_engine_a_SOURCES = src/engine/engine.h src/engine/engine_int.h \
	src/engine/engine.c src/engine/catalog.c src/engine/catalog_int.h \
	src/engine/catalog_coll.c src/engine/catalog_part.c \
	src/engine/catalog_alias.c src/engine/itext.c \
	src/engine/schema.c src/engine/insert.c src/engine/load.c \
	src/engine/index_build.c src/engine/search.c src/engine/query.c \
	src/engine/fields.c src/engine/fquery.c src/engine/sindex.c \
	src/engine/delete.c src/engine/read.c src/engine/compact.c \
	src/engine/sfilter.c src/engine/sfilter_int.h
