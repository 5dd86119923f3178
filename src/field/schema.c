/* placeholder */ typedef int mfs_placeholder_schema;
