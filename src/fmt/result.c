/* result.c - search results out, TSV or JSON (SPEC §6). */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Bytes one hit takes at most: ,{"id":-9223372036854775808,"distance":
 * -1.17549435e-38} (JSON) is the longest. */
#define HIT_MAX (7 + 20 + 12 + FMT_G9_MAX + 1)

/* Query i's hits at o (room for count * HIT_MAX bytes); the end. */
static char *put_hits(char *o, bool json, size_t count, const int64_t *ids,
		      const float *dist)
{
	for (size_t j = 0; j < count; j++) {
		if (json) {
			if (j)
				*o++ = ',';
			memcpy(o, "{\"id\":", 6);
			o += 6;
			o += fmt_i64(ids[j], o);
			memcpy(o, ",\"distance\":", 12);
			o += 12;
			if (isfinite(dist[j]))
				o += fmt_g9(dist[j], o);
			else {
				memcpy(o, "null", 4);   /* JSON has no inf */
				o += 4;
			}
			*o++ = '}';
		} else {
			o += fmt_i64(ids[j], o);
			*o++ = '\t';
			o += fmt_g9(dist[j], o);
			*o++ = '\n';
		}
	}
	return o;
}

/* Query i's hits one append at a time: near out's cap, where room for the
 * longest hits cannot be reserved but the real text may still fit. */
static int put_hits_slow(struct mfs_buf *out, bool json, size_t count,
			 const int64_t *ids, const float *dist)
{
	char tmp[HIT_MAX + 1];
	int rc = 0;

	for (size_t j = 0; j < count && !rc; j++) {
		char *e = put_hits(tmp + 1, json, 1, ids + j, dist + j);

		tmp[0] = ',';
		rc = json && j ? mfs_buf_append(out, tmp, (size_t)(e - tmp)) :
			mfs_buf_append(out, tmp + 1, (size_t)(e - tmp - 1));
	}
	return rc;
}

int fmt_results(struct mfs_buf *out, bool json, size_t nq, size_t stride,
		const size_t *count, const int64_t *ids, const float *dist)
{
	size_t len0 = out->len;
	int rc = json ? mfs_buf_append(out, "[", 1) : 0;

	for (size_t i = 0; i < nq && !rc; i++) {
		const int64_t *id = ids + i * stride;
		const float *d = dist + i * stride;

		if (json)
			rc = mfs_buf_append(out, i ? ",[" : "[", i ? 2 : 1);
		else if (i)
			rc = mfs_buf_append(out, "\n", 1);
		if (rc)
			break;
		if (mfs_buf_reserve(out, count[i] * HIT_MAX + 1) == 0) {
			char *e = put_hits(out->data + out->len, json,
					   count[i], id, d);

			out->len = (size_t)(e - out->data);
			out->data[out->len] = '\0';
		} else {
			rc = put_hits_slow(out, json, count[i], id, d);
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
