/* fuzz_squery.c - libFuzzer target of scalar queries (SPEC §9): a saved
 * query's text (fmt_squery_parse), inline names and their overrides
 * (fmt_squery_split_name, fmt_squery_params), output_fields
 * (fmt_qsel_parse) against a schema, and the filter through the
 * expression parser (fld_expr_parse).
 *
 * Input: byte 0 picks the form (saved text or inline name); byte 1 on is
 * the text.  Aborts when:
 *   - the result is not 0 or -EINVAL with a one-line message;
 *   - a parsed query has a limit of 0 given, more than 64 partitions, an
 *     empty partition name;
 *   - parsing the same text twice gives two different queries;
 *   - a query that parsed, printed as one key= line per parameter, parses
 *     back to another query;
 *   - an output selection does not list id first, or mixes count(*).
 */
#include <errno.h>

#include "field/expr.h"
#include "fmt/fmt.h"
#include "fuzz.h"

static const char schema_text[] =
	"field=b:BOOL:nullable field=rank:INT64:default=0 field=f:FLOAT:nullable "
	"field=word:VARCHAR(16):default=w field=tags:ARRAY(VARCHAR(8),4):nullable "
	"field=meta:JSON:nullable enable_dynamic_field=true";
static struct fld_schema schema;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct mfs_err err;

	(void)argc;
	(void)argv;
	fld_schema_init(&schema);
	if (fld_schema_parse(&schema, schema_text, strlen(schema_text), &err)) {
		fprintf(stderr, "schema: %s\n", err.msg);
		abort();
	}
	return 0;
}

static void same_q(const struct fmt_squery *a, const struct fmt_squery *b)
{
	MUST(a->has_filter == b->has_filter && a->has_output == b->has_output);
	MUST(a->filter.len == b->filter.len &&
	     fz_eq(a->filter.data, b->filter.data, a->filter.len));
	MUST(a->output.len == b->output.len &&
	     fz_eq(a->output.data, b->output.data, a->output.len));
	MUST(a->limit == b->limit && a->offset == b->offset &&
	     a->format == b->format && a->nparts == b->nparts);
	for (size_t i = 0; i < a->nparts; i++)
		MUST(strcmp(a->parts[i], b->parts[i]) == 0);
}

/* nul: the text held a NUL byte, which ends a partition name early (the
 * names are C strings). */
static void well_formed(const struct fmt_squery *q, bool nul)
{
	MUST(q->nparts <= FMT_QUERY_PARTS_MAX);
	for (size_t i = 0; i < q->nparts; i++)
		MUST((nul || q->parts[i][0]) && !strchr(q->parts[i], ','));
}

static bool has_byte(const struct mfs_buf *b, int c)
{
	return b->len && memchr(b->data, c, b->len);
}

/* Print q as a saved text and parse it back: the same query.  A value
 * with a newline or ending in '\r' cannot be printed as one line, nor
 * printed whole when it holds a NUL: those are skipped. */
static void reprint(const struct fmt_squery *q)
{
	static const char *const fmts[] = { "jsonl", "json", "tsv" };
	struct fmt_squery r;
	struct mfs_buf t;
	struct mfs_err err;

	if (has_byte(&q->filter, '\n') || has_byte(&q->output, '\n') ||
	    (q->filter.len && q->filter.data[q->filter.len - 1] == '\r') ||
	    (q->output.len && q->output.data[q->output.len - 1] == '\r') ||
	    (q->nparts && q->parts[q->nparts - 1][strlen(q->parts[q->nparts - 1]) - 1] == '\r'))
		return;
	for (size_t i = 0; i < q->nparts; i++)
		if (strchr(q->parts[i], '\n'))
			return;
	mfs_buf_init(&t, SIZE_MAX);
	if (q->has_filter)
		MUST(mfs_buf_printf(&t, "filter=%.*s\n", (int)q->filter.len,
				    q->filter.data ? q->filter.data : "") == 0);
	if (q->has_output)
		MUST(mfs_buf_printf(&t, "output_fields=%.*s\n", (int)q->output.len,
				    q->output.data ? q->output.data : "") == 0);
	if (q->limit)
		MUST(mfs_buf_printf(&t, "limit=%llu\n", (unsigned long long)q->limit) == 0);
	MUST(mfs_buf_printf(&t, "offset=%llu\nformat=%s\n",
			    (unsigned long long)q->offset, fmts[q->format]) == 0);
	for (size_t i = 0; i < q->nparts; i++)
		MUST(mfs_buf_printf(&t, "%s%s", i ? "," : "partitions=",
				    q->parts[i]) == 0);
	if (q->nparts)
		MUST(mfs_buf_append(&t, "\n", 1) == 0);
	fmt_squery_init(&r);
	MUST(fmt_squery_parse(&r, t.data, t.len, &err) == 0);
	same_q(q, &r);
	fmt_squery_fini(&r);
	mfs_buf_fini(&t);
}

static void selection(const struct fmt_squery *q)
{
	static struct fmt_qsel sel;
	struct mfs_err err;
	struct fld_expr *x;
	int rc;

	rc = fmt_qsel_parse(&sel, q->has_output ? q->output.data : NULL,
			    q->output.len, &schema, &err);
	MUST_RC(rc, &err);
	if (rc == 0 && !sel.count) {
		MUST(sel.n >= 1 && sel.n <= FMT_QSEL_MAX && sel.it[0].field == -1);
		for (size_t i = 1; i < sel.n; i++)
			MUST(sel.it[i].field != -1);
	}
	if (rc == 0 && sel.count)
		MUST(sel.n == 0 || (sel.n == 1 && sel.it[0].field == -1));
	rc = fld_expr_parse(q->filter.data ? q->filter.data : "", q->filter.len,
			    &schema, &x, &err);
	MUST_RC(rc, &err);
	if (rc == 0)
		fld_expr_free(x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fmt_squery q, r;
	struct mfs_err err;
	char *text;
	int rc;

	if (size < 1)
		return 0;
	fmt_squery_init(&q);
	fmt_squery_init(&r);
	if (data[0] & 1) {              /* an inline name: base&k=v&... */
		const char *params;
		size_t base;

		text = fz_dup(data + 1, size - 1, true);
		fmt_squery_split_name(text, &base, &params);
		MUST(base <= strlen(text));
		rc = fmt_squery_parse(&q, text, base, &err);
		MUST_RC(rc, &err);
		if (rc == 0 && params) {
			rc = fmt_squery_params(&q, params, strlen(params), &err);
			MUST_RC(rc, &err);
		}
	} else {
		text = fz_dup(data + 1, size - 1, false);
		rc = fmt_squery_parse(&q, text, size - 1, &err);
		MUST_RC(rc, &err);
		if (rc == 0) {
			MUST(fmt_squery_parse(&r, text, size - 1, &err) == 0);
			same_q(&q, &r);
		}
	}
	if (rc == 0) {
		bool nul = memchr(data + 1, 0, size - 1) != NULL;

		well_formed(&q, nul);
		if (!nul)
			reprint(&q);
		selection(&q);
	}
	fmt_squery_fini(&q);
	fmt_squery_fini(&r);
	free(text);
	return 0;
}
