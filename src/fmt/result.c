/* result.c - search results out, TSV or JSON (SPEC §6). */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <math.h>
#include <string.h>

/* Bytes one hit takes at most: ,{"id":-9223372036854775808,"distance":
 * -1.17549435e-38} (JSON) is the longest. */
#define HIT_MAX (7 + 20 + 12 + FMT_FLOAT_MAX + 2)

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
				o += mfs_ftoa(dist[j], o);
			else {
				memcpy(o, "null", 4);   /* JSON has no inf */
				o += 4;
			}
			*o++ = '}';
		} else {
			o += fmt_i64(ids[j], o);
			*o++ = '\t';
			o += mfs_ftoa(dist[j], o);
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
	if (rc)
		mfs_buf_truncate(out, len0);
	return rc;
}

/* ---- results with fields (SPEC §10 output_fields) ---- */

int fmt_hits_start(struct fmt_hits *h, struct mfs_buf *out, bool json,
		   const struct fmt_qsel *sel)
{
	h->out = out;
	h->json = json;
	h->sel = sel;
	h->open = 0;
	h->nhit = 0;
	return json ? mfs_buf_append(out, "[", 1) : 0;
}

/* Open queries up to and including i (closing the one before). */
static int open_upto(struct fmt_hits *h, size_t i)
{
	int rc = 0;

	while (h->open <= i && !rc) {
		if (h->json)
			rc = mfs_buf_append(h->out, h->open ? "],[" : "[",
					    h->open ? 3 : 1);
		else if (h->open)
			rc = mfs_buf_append(h->out, "\n", 1);
		h->open++;
		h->nhit = 0;
	}
	return rc;
}

int fmt_hits_hit(struct fmt_hits *h, size_t i, int64_t id, float dist,
		 const struct fld_cols *c, size_t row)
{
	struct mfs_buf *out = h->out;
	size_t len0 = out->len, first = 0;
	char tmp[HIT_MAX + 1];
	int rc = open_upto(h, i);

	if (rc)
		return rc;
	if (h->json) {
		char *e = put_hits(tmp + 1, true, 1, &id, &dist);

		/* the hit without its closing '}', then the entity */
		tmp[0] = ',';
		rc = h->nhit ? mfs_buf_append(out, tmp, (size_t)(e - tmp - 1)) :
			mfs_buf_append(out, tmp + 1, (size_t)(e - tmp - 2));
		if (!rc)
			rc = mfs_buf_append(out, ",\"entity\":{", 11);
		first = out->len;
	} else {
		char *e = put_hits(tmp, false, 1, &id, &dist);

		rc = mfs_buf_append(out, tmp, (size_t)(e - tmp - 1));
	}
	for (size_t f = 0; f < h->sel->n && !rc; f++) {
		const struct fmt_qsel_item *it = &h->sel->it[f];

		if (it->field == -1 || it->field == -2)
			continue;       /* id is there; vectors are not kept */
		if (h->json) {
			if (c && it->field >= 0 && c->s->f[it->field].dynamic) {
				/* $meta's keys go flat, as Milvus prints
				 * dynamic fields (each after a ',') */
				bool want[FLD_MAX] = { false };

				want[it->field] = true;
				rc = fld_cols_json(out, c, row, want);
				continue;
			}
			rc = mfs_buf_printf(out, ",\"%s\":", it->name);
		} else {
			rc = mfs_buf_append(out, "\t", 1);
		}
		if (!rc)
			rc = c ? fmt_qsel_value(out, it, c, row, id) :
				mfs_buf_append(out, "null", 4);
	}
	if (!rc && h->json) {
		/* drop the first member's ',' */
		if (out->len > first && out->data[first] == ',') {
			memmove(out->data + first, out->data + first + 1,
				out->len - first - 1);
			out->len--;
			out->data[out->len] = '\0';
		}
		rc = mfs_buf_append(out, "}}", 2);
	} else if (!rc) {
		rc = mfs_buf_append(out, "\n", 1);
	}
	if (rc) {
		mfs_buf_truncate(out, len0);
		return rc;
	}
	h->nhit++;
	return 0;
}

int fmt_hits_end(struct fmt_hits *h, size_t nq)
{
	int rc = nq ? open_upto(h, nq - 1) : 0;

	if (!rc && h->json)
		rc = mfs_buf_append(h->out, nq ? "]]\n" : "]\n", nq ? 3 : 2);
	return rc;
}
