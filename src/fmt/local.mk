noinst_LIBRARIES += libmfs_fmt.a
libmfs_fmt_a_SOURCES = src/fmt/fmt.h src/fmt/fmt_int.h \
	src/fmt/batch.c src/fmt/num.c src/fmt/name.c \
	src/fmt/text.c src/fmt/fvecs.c src/fmt/entity.c \
	src/fmt/kv.c src/fmt/query.c src/fmt/result.c \
	src/fmt/jsonl.c src/fmt/jsonl_int.h src/fmt/jsonl_vec.c \
	src/fmt/squery.c
