/* result.c - search results out, TSV or JSON (SPEC §6). */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>

static int put_dist(struct mfs_buf *out, float d, bool json)
{
	if (json && !isfinite(d))
		return mfs_buf_append(out, "null", 4);  /* JSON has no inf */
	return fmt_put_float(out, d);
}

int fmt_results(struct mfs_buf *out, bool json, size_t nq, size_t stride,
		const size_t *count, const int64_t *ids, const float *dist)
{
	size_t len0 = out->len;
	int rc = json ? mfs_buf_append(out, "[", 1) : 0;

	for (size_t i = 0; i < nq && !rc; i++) {
		if (json)
			rc = mfs_buf_append(out, i ? ",[" : "[", i ? 2 : 1);
		else if (i)
			rc = mfs_buf_append(out, "\n", 1);
		for (size_t j = 0; j < count[i] && !rc; j++) {
			size_t at = i * stride + j;

			if (json)
				rc = mfs_buf_printf(out, "%s{\"id\":%" PRId64 ",\"distance\":",
						    j ? "," : "", ids[at]);
			else
				rc = mfs_buf_printf(out, "%" PRId64 "\t", ids[at]);
			if (!rc)
				rc = put_dist(out, dist[at], json);
			if (!rc)
				rc = mfs_buf_append(out, json ? "}" : "\n", 1);
		}
		if (json && !rc)
			rc = mfs_buf_append(out, "]", 1);
	}
	if (json && !rc)
		rc = mfs_buf_append(out, "]\n", 2);
	if (rc && out->data) {
		out->len = len0;
		out->data[len0] = '\0';
	}
	return rc;
}
