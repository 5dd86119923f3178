/* ivf_io.c - save and restore of IVF indexes (a load never retrains).
 *
 * Blob layout (native byte order, as LMDB values on the same machine):
 *
 *   "MFSIVF01"  u32 kind metric vtype dim nlist m nbits trained  u64 ntotal
 *   if trained: centroids (nlist*dim floats; binary: nlist*dim/8 bytes)
 *               SQ8: min[dim] step[dim]     PQ: codebooks (ksub*dim floats)
 *   per list:   u64 n, ids[n] (int64), SQ8/PQ only: codes[n * code_size]
 *   u64 FNV-1a of everything before it
 *
 * IVF_FLAT and BIN_IVF_FLAT save only the ids of each list: their codes are
 * the vectors, which restore() gets with the current entities anyway.
 * restore() keeps the quantizers and list membership of the entities still
 * current, encodes and assigns the new ones, and drops the rest.  An
 * untrained index saves no quantizer and no entity (its pending entities
 * are the current ones).
 */
#include "base/idmap.h"
#include "index/ivf_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char MAGIC[8] = { 'M', 'F', 'S', 'I', 'V', 'F', '0', '1' };

static uint64_t fnv1a(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

static int stores_codes(const struct ivf *v)
{
	return v->kind == IVF_SQ8 || v->kind == IVF_PQ;
}

static size_t quantizer_bytes(const struct ivf *v)
{
	size_t d = v->base.info.dim, b;

	if (v->kind == IVF_BIN)
		return (size_t)v->nlist * (d / 8);
	b = (size_t)v->nlist * d * sizeof(float);
	if (v->kind == IVF_SQ8)
		b += 2 * d * sizeof(float);
	if (v->kind == IVF_PQ)
		b += ivf_pq_ksub(v) * d * sizeof(float);
	return b;
}

/* The PQ codebooks as m sub-codebooks of ksub rows of dsub floats (the
 * blob layout; memory keeps them transposed). 0, -ENOMEM. */
static int append_pq(const struct ivf *v, struct mfs_buf *blob)
{
	size_t sub = ivf_pq_ksub(v) * (v->base.info.dim / v->m);
	float *cb = malloc(sub * sizeof(float));
	int rc = cb ? 0 : -ENOMEM;

	for (size_t j = 0; j < v->m && rc == 0; j++) {
		pq_get_sub(v, j, cb);
		rc = mfs_buf_append(blob, cb, sub * sizeof(float));
	}
	free(cb);
	return rc;
}

int ivf_generic_save(const struct idx *ix, struct mfs_buf *blob)
{
	const struct ivf *v = (const struct ivf *)ix;
	size_t start = blob->len, d = v->base.info.dim;
	uint32_t hdr[8] = {
		v->kind, v->base.info.metric, v->base.info.vtype, (uint32_t)d,
		v->nlist, v->m, v->nbits, (uint32_t)v->trained,
	};
	uint64_t nt = v->ntotal, h;
	int rc;

	rc = mfs_buf_append(blob, MAGIC, sizeof(MAGIC));
	if (rc == 0)
		rc = mfs_buf_append(blob, hdr, sizeof(hdr));
	if (rc == 0)
		rc = mfs_buf_append(blob, &nt, sizeof(nt));
	if (rc == 0)
		rc = mfs_buf_reserve(blob, quantizer_bytes(v));
	if (rc == 0 && v->trained) {
		if (v->kind == IVF_BIN)
			rc = mfs_buf_append(blob, v->bcent,
					    (size_t)v->nlist * (d / 8));
		else
			rc = mfs_buf_append(blob, v->cent, (size_t)v->nlist *
					    d * sizeof(float));
		if (rc == 0 && v->kind == IVF_SQ8)
			rc = mfs_buf_append(blob, v->sq_min, d * sizeof(float));
		if (rc == 0 && v->kind == IVF_SQ8)
			rc = mfs_buf_append(blob, v->sq_step, d * sizeof(float));
		if (rc == 0 && v->kind == IVF_PQ)
			rc = append_pq(v, blob);
	}
	for (uint32_t l = 0; l < v->nlist && rc == 0; l++) {
		const struct ivf_list *li = &v->lists[l];
		uint64_t n = li->n;

		rc = mfs_buf_append(blob, &n, sizeof(n));
		if (rc == 0 && n)
			rc = mfs_buf_append(blob, li->ids, n * sizeof(int64_t));
		if (rc == 0 && n && stores_codes(v))
			rc = mfs_buf_append(blob, li->codes, n * v->code_size);
	}
	if (rc == 0) {
		h = fnv1a(blob->data + start, blob->len - start);
		rc = mfs_buf_append(blob, &h, sizeof(h));
	}
	if (rc < 0)
		blob->len = start;
	return rc;
}

/* Bounded reader over the blob. */
struct rd {
	const uint8_t *p;
	size_t len, off;
};

static const void *take(struct rd *r, size_t n)
{
	const void *p;

	if (n > r->len - r->off)
		return NULL;
	p = r->p + r->off;
	r->off += n;
	return p;
}

/* Read quantizers and lists of blob into v (already shaped by canon). */
static int load_blob(struct ivf *v, struct rd *r, const int64_t *ids,
		     const void *x, size_t n, uint8_t *seen,
		     struct mfs_err *err)
{
	size_t d = v->base.info.dim, vb = vec_bytes(v->base.info.vtype, d);
	struct mfs_idmap map = { 0 };
	int rc = 0;

	if (v->kind == IVF_BIN) {
		const void *p = take(r, (size_t)v->nlist * (d / 8));

		if (!p)
			goto corrupt;
		memcpy(v->bcent, p, (size_t)v->nlist * (d / 8));
	} else {
		const void *p = take(r, (size_t)v->nlist * d * sizeof(float));

		if (!p)
			goto corrupt;
		memcpy(v->cent, p, (size_t)v->nlist * d * sizeof(float));
		vec_norms_sq(v->cent, v->nlist, d, v->cnorm);
	}
	if (v->kind == IVF_SQ8) {
		const void *a = take(r, d * sizeof(float));
		const void *b = take(r, d * sizeof(float));

		if (!a || !b)
			goto corrupt;
		memcpy(v->sq_min, a, d * sizeof(float));
		memcpy(v->sq_step, b, d * sizeof(float));
	}
	if (v->kind == IVF_PQ) {
		const void *p = take(r, ivf_pq_ksub(v) * d * sizeof(float));

		if (!p)
			goto corrupt;
		float *cb = malloc(ivf_pq_ksub(v) * (d / v->m) *
				   sizeof(float));

		if (!cb) {
			rc = mfs_errf(err, -ENOMEM, "%s restore: out of memory",
				      v->base.type->name);
			goto out;
		}
		for (size_t j = 0; j < v->m; j++) {
			memcpy(cb, (const float *)p + j * ivf_pq_ksub(v) *
				       (d / v->m),
			       ivf_pq_ksub(v) * (d / v->m) * sizeof(float));
			pq_set_sub(v, j, cb);
		}
		free(cb);
	}
	v->trained = 1;
	if (mfs_idmap_build(&map, ids, n) < 0) {
		rc = mfs_errf(err, -ENOMEM, "%s restore: out of memory",
			      v->base.type->name);
		goto out;
	}
	for (uint32_t l = 0; l < v->nlist; l++) {
		const uint64_t *pn = take(r, sizeof(uint64_t));
		const uint8_t *lid, *lcode = NULL;
		uint64_t ln;

		if (!pn)
			goto corrupt;
		memcpy(&ln, pn, sizeof(ln));
		if (ln > (r->len - r->off) / sizeof(int64_t))
			goto corrupt;
		lid = take(r, ln * sizeof(int64_t));
		if (stores_codes(v) &&
		    (ln > (r->len - r->off) / (v->code_size ? v->code_size : 1) ||
		     !(lcode = take(r, ln * v->code_size))))
			goto corrupt;
		/* Exact capacity: no realloc chain, no heap holes. */
		if (ln && ivf_list_reserve(&v->lists[l], ln, v->code_size) < 0) {
			rc = mfs_errf(err, -ENOMEM, "%s restore: out of memory",
				      v->base.type->name);
			goto out;
		}
		for (uint64_t i = 0; i < ln; i++) {
			int64_t id;
			size_t pos;
			const uint8_t *code;

			memcpy(&id, lid + i * sizeof(int64_t), sizeof(id));
			pos = mfs_idmap_get(&map, id);
			if (pos == MFS_IDMAP_NONE || seen[pos])
				continue;       /* deleted since the save */
			seen[pos] = 1;
			code = lcode ? lcode + i * v->code_size :
				       (const uint8_t *)x + pos * vb;
			if (ivf_list_push(&v->lists[l], id, code,
					  v->code_size) < 0) {
				rc = mfs_errf(err, -ENOMEM, "%s restore: out "
					      "of memory", v->base.type->name);
				goto out;
			}
			v->ntotal++;
		}
	}
	if (r->off != r->len)
		goto corrupt;
	goto out;
corrupt:
	rc = mfs_errf(err, -EINVAL, "%s index blob: truncated or corrupt at "
		      "byte %zu of %zu", v->base.type->name, r->off, r->len);
out:
	mfs_idmap_fini(&map);
	return rc;
}

/* Add the entities not marked seen. */
static int add_unseen(struct ivf *v, const int64_t *ids, const void *x,
		      size_t n, const uint8_t *seen, struct mfs_err *err)
{
	size_t vb = vec_bytes(v->base.info.vtype, v->base.info.dim), m = 0;
	int64_t *nid;
	uint8_t *nx;
	int rc;

	for (size_t i = 0; i < n; i++)
		m += !seen[i];
	if (m == 0)
		return 0;
	nid = malloc(m * sizeof(int64_t));
	nx = malloc(m * vb);
	if (!nid || !nx) {
		free(nid);
		free(nx);
		return mfs_errf(err, -ENOMEM, "%s restore: out of memory",
				v->base.type->name);
	}
	m = 0;
	for (size_t i = 0; i < n; i++) {
		if (seen[i])
			continue;
		nid[m] = ids[i];
		memcpy(nx + m * vb, (const uint8_t *)x + i * vb, vb);
		m++;
	}
	rc = ivf_add_prepared(v, nid, nx, m, NULL, 0, 0, err);
	free(nid);
	free(nx);
	return rc;
}

int ivf_generic_restore(enum ivf_kind kind, const struct idx_type *type,
			const struct idx_info *info,
			const struct mfs_kv *canon, const void *blob,
			size_t len, const int64_t *ids, const void *vecs,
			size_t n, struct idx **out, struct mfs_err *err)
{
	struct ivf_params p;
	struct ivf *v = NULL;
	struct rd r = { .p = blob, .len = len };
	const uint32_t *hp;
	uint32_t hdr[8];
	uint64_t sum;
	const void *x = NULL;
	float *copy = NULL;
	uint8_t *seen = NULL;
	int rc = ivf_params(kind, info, canon, &p, err);

	if (rc < 0)
		return rc;
	if (!blob || len < sizeof(MAGIC) + sizeof(hdr) + 16 ||
	    memcmp(blob, MAGIC, sizeof(MAGIC)) != 0)
		return mfs_errf(err, -EINVAL, "%s index blob: expected magic "
				"MFSIVF01, got %zu bytes of something else",
				type->name, len);
	memcpy(&sum, (const uint8_t *)blob + len - sizeof(sum), sizeof(sum));
	if (sum != fnv1a(blob, len - sizeof(sum)))
		return mfs_errf(err, -EINVAL, "%s index blob: checksum "
				"mismatch", type->name);
	r.len = len - sizeof(sum);
	take(&r, sizeof(MAGIC));
	hp = take(&r, sizeof(hdr));
	memcpy(hdr, hp, sizeof(hdr));
	take(&r, sizeof(uint64_t));
	if (hdr[0] != (uint32_t)kind || hdr[1] != (uint32_t)info->metric ||
	    hdr[2] != (uint32_t)info->vtype || hdr[3] != info->dim ||
	    hdr[4] != p.nlist || hdr[5] != p.m || hdr[6] != p.nbits)
		return mfs_errf(err, -EINVAL, "%s index blob: expected kind %d "
				"metric %d dim %u nlist %u m %u nbits %u, got "
				"%u %u %u %u %u %u", type->name, kind,
				info->metric, info->dim, p.nlist, p.m, p.nbits,
				hdr[0], hdr[1], hdr[3], hdr[4], hdr[5], hdr[6]);
	if (ivf_new(type, kind, info, &p, &v) < 0)
		return mfs_errf(err, -ENOMEM, "%s: out of memory", type->name);
	seen = calloc(n ? n : 1, 1);
	if (!seen || ivf_prepare(v, vecs, n, &x, &copy) < 0) {
		rc = mfs_errf(err, -ENOMEM, "%s: out of memory", type->name);
		goto fail;
	}
	if (hdr[7]) {
		rc = load_blob(v, &r, ids, x, n, seen, err);
		if (rc == 0)
			rc = add_unseen(v, ids, x, n, seen, err);
	} else {
		/* Saved untrained (too few entities): the blob holds no
		 * quantizer; train now if there are enough. */
		rc = n ? ivf_feed(v, ids, x, n, NULL, 0, 0, err) : 0;
	}
	if (rc < 0)
		goto fail;
	ivf_shrink(v);
	free(copy);
	free(seen);
	*out = &v->base;
	return 0;
fail:
	free(copy);
	free(seen);
	ivf_destroy(v);
	return rc;
}
