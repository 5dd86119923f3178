noinst_LIBRARIES += libmfs_field.a
libmfs_field_a_SOURCES = src/field/field.h src/field/field_int.h \
	src/field/schema.c src/field/cols.c \
	src/field/row.c src/field/row_dec.c src/field/row_json.c \
	src/field/expr.h src/field/expr_int.h src/field/expr_lex.c \
	src/field/expr_parse.c src/field/expr_operand.c src/field/expr_row.c \
	src/field/expr_plan.c src/field/expr_eval.c src/field/sidx.c
