/* placeholder */ typedef int mfs_placeholder_expr_parse;
