/* fuzz_name.c - libFuzzer target of the names (SPEC §2, §6, §9):
 * fmt_name_check (collection and partition names), the inline search
 * names (fmt_query_split_name, fmt_query_parse_name) and the inline query
 * names (fmt_squery_split_name).
 *
 * Input: byte 0 picks the vector type and dim; byte 1 on is the name
 * (bytes after a NUL are dropped, as a path has none).  Aborts when:
 *   - the result is not 0 or -EINVAL with a one-line message;
 *   - fmt_name_check disagrees with the rule written out here (1..255
 *     bytes, a letter or '_' first, then letters, digits and '_'; for a
 *     partition also not a reserved name);
 *   - a split is not at the first override's '&' or runs past the name;
 *   - an inline search name parses to a query without a vector or id, or
 *     with both, or differently on a second parse;
 *   - a failed parse changed the query.
 */
#include <errno.h>

#include "fmt/fmt.h"
#include "fuzz.h"

static bool rule_ok(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 255)
		return false;
	if (!(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') ||
	      (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t dims[2][3] = { { 0, 4, 16 }, { 0, 8, 16 } };
	struct fmt_query q, r;
	struct mfs_err err;
	enum vec_type vt;
	uint32_t dim;
	const char *params;
	size_t base;
	char *name;
	int rc;

	if (size < 1)
		return 0;
	vt = data[0] & 1 ? VEC_BINARY : VEC_FLOAT;
	dim = dims[vt == VEC_BINARY][(data[0] >> 1) % 3];
	name = fz_dup(data + 1, size - 1, true);        /* stops at a NUL */

	rc = fmt_name_check("collection", name, &err);
	MUST_RC(rc, &err);
	MUST((rc == 0) == rule_ok(name));
	rc = fmt_name_check("partition", name, &err);
	MUST_RC(rc, &err);
	MUST((rc == 0) == (rule_ok(name) && !fmt_name_reserved(name)));

	fmt_query_split_name(name, &base, &params);
	MUST(base <= strlen(name) && !memchr(name, '&', base));
	MUST(params ? name[base] == '&' && params == name + base + 1 :
		      base == strlen(name));
	fmt_squery_split_name(name, &base, &params);
	MUST(base <= strlen(name));
	MUST(params ? name[base] == '&' && params == name + base + 1 :
		      base == strlen(name));

	fmt_query_init(&q, vt, dim);
	rc = fmt_query_parse_name(&q, name, &err);
	MUST_RC(rc, &err);
	if (rc == 0) {
		MUST(q.by_id != (q.q.n > 0));
		MUST(q.k >= 1 && q.k + q.offset <= 16384);
		fmt_query_init(&r, vt, dim);
		MUST(fmt_query_parse_name(&r, name, &err) == 0);
		MUST(r.k == q.k && r.offset == q.offset && r.by_id == q.by_id &&
		     r.id == q.id && r.q.n == q.q.n && r.nparts == q.nparts &&
		     r.params.n == q.params.n);
		fmt_query_fini(&r);
	} else {
		MUST(q.q.n == 0 && q.k == 10 && !q.by_id && q.nparts == 0 &&
		     q.params.n == 0);
	}
	fmt_query_fini(&q);
	free(name);
	return 0;
}
