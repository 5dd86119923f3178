/* fuzz_schema.c - libFuzzer target of the field schema (SPEC §8):
 * fld_schema_parse (the stored and printed form), fld_schema_add (one
 * field= spec), fld_schema_check, fld_schema_print, and the rows of a
 * schema that parses (fld_row_default, fld_row_check).
 *
 * Input: byte 0 picks the mode (whole text, or one spec added to a schema
 * that has fields already); byte 1 on is the text.  Aborts when:
 *   - the result is not 0 or -EINVAL with a one-line message;
 *   - a failed fld_schema_add changed the schema;
 *   - a schema that parses does not print to a text that parses back to
 *     the same print (the print is canonical);
 *   - the default row of a schema that passes fld_schema_check is not
 *     well formed for it.
 */
#include <errno.h>

#include "field/field.h"
#include "fuzz.h"

static void print(const struct fld_schema *s, struct mfs_buf *out)
{
	mfs_buf_init(out, SIZE_MAX);
	MUST(fld_schema_print(out, s) == 0);
}

static void canonical(const struct fld_schema *s)
{
	struct fld_schema t;
	struct mfs_buf a, b, row;
	struct mfs_err err;
	int rc;

	print(s, &a);
	fld_schema_init(&t);
	rc = fld_schema_parse(&t, a.data ? a.data : "", a.len, &err);
	if (rc)
		fprintf(stderr, "reparse of\n%.*s: %s\n", (int)a.len, a.data, err.msg);
	MUST(rc == 0);
	MUST(t.n == s->n && t.dynamic == s->dynamic);
	print(&t, &b);
	MUST(a.len == b.len && fz_eq(a.data, b.data, a.len));
	if (fld_schema_check(&t, &err) == 0) {
		mfs_buf_init(&row, SIZE_MAX);
		rc = fld_row_default(&row, &t, 1, &err);
		MUST_RC(rc, &err);
		if (rc == 0)
			MUST(fld_row_check(&t, row.data, row.len) == 0);
		mfs_buf_fini(&row);
	}
	fld_schema_fini(&t);
	mfs_buf_fini(&a);
	mfs_buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char base[] =
		"field=word:VARCHAR(16):default=w field=rank:INT64:nullable "
		"field=tags:ARRAY(VARCHAR(8),4):nullable enable_dynamic_field=true";
	struct fld_schema s;
	struct mfs_buf before, after;
	struct mfs_err err;
	char *text;
	int rc;

	if (size < 1)
		return 0;
	fld_schema_init(&s);
	if (data[0] & 1) {
		text = fz_dup(data + 1, size - 1, true);
		MUST(fld_schema_parse(&s, base, strlen(base), &err) == 0);
		print(&s, &before);
		rc = fld_schema_add(&s, text, &err);
		MUST_RC(rc, &err);
		print(&s, &after);
		if (rc)
			MUST(before.len == after.len &&
			     fz_eq(before.data, after.data, before.len));
		else
			MUST(s.n == 4 + 1);
		mfs_buf_fini(&before);
		mfs_buf_fini(&after);
	} else {
		text = fz_dup(data + 1, size - 1, false);
		rc = fld_schema_parse(&s, text, size - 1, &err);
		MUST_RC(rc, &err);
	}
	if (rc == 0)
		canonical(&s);
	fld_schema_fini(&s);
	free(text);
	return 0;
}
