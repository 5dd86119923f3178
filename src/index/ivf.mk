# sources of the ivf index types: libmfs_index_a_SOURCES += ...
libmfs_index_a_SOURCES += src/index/ivf_int.h src/index/ivf.c \
	src/index/ivf_search.c src/index/ivf_io.c src/index/kmeans_int.h \
	src/index/kmeans.c src/index/sq8.c src/index/pq.c src/index/bin_ivf.c
