dist_man_MANS += man/milvusfs.1 man/milvusfs.5
