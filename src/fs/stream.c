/* stream.c - the big files: vectors, vectors.fvecs, entities.jsonl and ids
 * are read in chunks as the reader advances; vectors, vectors.fvecs,
 * entities.jsonl, upsert and delete are written as streams of records.
 *
 * Reads: the descriptor keeps a window out = bytes [out_off, out_off+len)
 * of the file and an engine cursor; a read past the window drops what lies
 * before the read offset and scans the next entities, so memory stays at
 * about one read plus one chunk however large the collection.  A read
 * before the window restarts the scan from the beginning.
 *
 * Writes (SPEC §4): each write(2) is parsed together with the bytes left
 * pending by the previous one; its complete records go to the engine in
 * one eng_insert (all or nothing), a partial last record waits.  On any
 * error the pending bytes are dropped as well, so the next write starts
 * clean.  At close (final) the remainder is a last record.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_BYTES (256u * 1024u)

/* ---- reads ---- */

static int scan_cb(void *arg, int64_t id, const void *vec)
{
	struct fs_file *f = arg;

	switch (f->node.kind) {
	case K_IDS:
		return mfs_buf_printf(&f->out, "%" PRId64 "\n", id);
	case K_FVECS:
		return fmt_entity_fvecs(&f->out, f->schema.vtype,
					f->schema.dim, vec);
	default:
		return fmt_entity_tsv(&f->out, id, f->schema.vtype,
				      f->schema.dim, vec);
	}
}

static int scan_row_cb(void *arg, int64_t id, const void *vec,
		       const void *row, size_t row_len, const char *part)
{
	struct fs_file *f = arg;

	return fmt_entity_jsonl(&f->out, id, NULL, f->schema.vtype,
				f->schema.dim, vec,
				eng_fields_schema(f->wfields), row, row_len);
}

static int restart(struct fs *fs, struct fs_file *f, struct mfs_err *err)
{
	int rc = eng_schema_get(fs->eng, f->node.coll, &f->schema, err);

	if (rc < 0)
		return rc;
	if (f->node.kind == K_ENTJSONL) {
		struct eng_fields *nf;

		rc = eng_fields_get(fs->eng, f->node.coll, &nf, err);
		if (rc < 0)
			return rc;
		eng_fields_put(f->wfields);
		f->wfields = nf;
	}
	memset(&f->cur, 0, sizeof(f->cur));
	mfs_buf_reset(&f->out);
	f->out_off = 0;
	f->out_ready = true;
	/* No dim yet: no entity can exist. */
	if (f->schema.dim == 0 && f->node.kind != K_IDS)
		f->cur.done = true;
	return 0;
}

/* Entities per scan call: about CHUNK_BYTES of output. */
static size_t chunk_entities(const struct fs_file *f)
{
	size_t per;

	if (f->node.kind == K_IDS)
		per = 12;
	else if (f->node.kind == K_ENTJSONL)
		per = 64 + (size_t)f->schema.dim * 12 +
		      eng_fields_schema(f->wfields)->n * 32;
	else if (f->node.kind == K_FVECS)
		per = 4 + vec_bytes(f->schema.vtype, f->schema.dim);
	else
		per = 24 + (size_t)f->schema.dim * 12;
	return CHUNK_BYTES / per + 1;
}

void fs_window_advance(struct fs_file *f, uint64_t off)
{
	if (off > f->out_off) {
		uint64_t d = off - f->out_off;

		if (d > f->out.len)
			d = f->out.len;
		mfs_buf_consume(&f->out, (size_t)d);
		f->out_off += d;
	}
}

size_t fs_window_copy(const struct fs_file *f, uint64_t off, char *buf,
		      size_t size)
{
	size_t at, n;

	if (off < f->out_off || off >= f->out_off + f->out.len)
		return 0;
	at = (size_t)(off - f->out_off);
	n = f->out.len - at;
	if (n > size)
		n = size;
	memcpy(buf, f->out.data + at, n);
	return n;
}

int fs_stream_read(struct fs *fs, struct fs_file *f, char *buf, size_t size,
		   uint64_t off, size_t *got, struct mfs_err *err)
{
	int rc;

	if (!f->out_ready || off < f->out_off) {
		rc = restart(fs, f, err);
		if (rc < 0)
			return rc;
	}
	for (;;) {
		uint64_t end = f->out_off + f->out.len;
		if (off + size <= end || f->cur.done)
			break;
		fs_window_advance(f, off);
		if (f->node.kind == K_ENTJSONL)
			rc = eng_scan_rows(fs->eng, f->node.coll,
					   fs_node_part(&f->node), &f->cur,
					   chunk_entities(f), scan_row_cb, f,
					   err);
		else
			rc = eng_scan(fs->eng, f->node.coll,
				      fs_node_part(&f->node), &f->cur,
				      chunk_entities(f), scan_cb, f, err);
		if (rc != 0) {
			/* the window is now unreliable: start over next time */
			f->out_ready = false;
			return rc < 0 ? rc : mfs_errf(err, -ENOMEM,
						      "out of memory");
		}
	}
	*got = fs_window_copy(f, off, buf, size);
	return 0;
}

/* ---- writes ---- */

static int batch_prepare(struct fs *fs, struct fs_file *f,
			 struct mfs_err *err)
{
	struct eng_schema s;
	int rc;

	if (f->batch_ready && f->batch.dim != 0)
		return 0;
	rc = eng_schema_get(fs->eng, f->node.coll, &s, err);
	if (rc < 0)
		return rc;
	if (f->batch_ready)
		fmt_batch_fini(&f->batch);
	fmt_batch_init(&f->batch, s.vtype, s.dim);
	f->batch_ready = true;
	return 0;
}

/* delete: ids separated by whitespace; a token touching the end of the
 * data waits unless final. */
static int parse_ids(const char *data, size_t len, bool final,
		     int64_t **ids_out, size_t *n_out, size_t *consumed,
		     struct mfs_err *err)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0, i = 0, used = 0;

	while (i < len) {
		size_t s;
		while (i < len && (data[i] == ' ' || data[i] == '\t' ||
				   data[i] == '\n' || data[i] == '\r' ||
				   data[i] == ',' || data[i] == '\0'))
			i++;
		if (i == len) {
			used = len;
			break;
		}
		s = i;
		while (i < len && !(data[i] == ' ' || data[i] == '\t' ||
				    data[i] == '\n' || data[i] == '\r' ||
				    data[i] == ',' || data[i] == '\0'))
			i++;
		if (i == len && !final) {
			used = s;
			break;
		}
		char tok[32], *end;
		size_t tl = i - s;
		long long v;
		if (tl >= sizeof(tok)) {
			free(ids);
			return mfs_errf(err, -EINVAL, "delete: expected an id, "
					"got '%.24s...'", data + s);
		}
		memcpy(tok, data + s, tl);
		tok[tl] = '\0';
		errno = 0;
		v = strtoll(tok, &end, 10);
		if (errno || *end || end == tok) {
			free(ids);
			return mfs_errf(err, -EINVAL, "delete: expected an id "
					"(a 64-bit integer), got '%s'", tok);
		}
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			int64_t *p = realloc(ids, nc * sizeof(*ids));
			if (!p) {
				free(ids);
				return mfs_errf(err, -ENOMEM, "out of memory");
			}
			ids = p;
			cap = nc;
		}
		ids[n++] = v;
		used = i;
	}
	*ids_out = ids;
	*n_out = n;
	*consumed = used;
	return 0;
}

/* The fields schema for this write (a reference kept in f). */
static int write_fields(struct fs *fs, struct fs_file *f, struct mfs_err *err)
{
	struct eng_fields *nf;
	int rc = eng_fields_get(fs->eng, f->node.coll, &nf, err);

	if (rc < 0)
		return rc;
	eng_fields_put(f->wfields);
	f->wfields = nf;
	return 0;
}

static bool starts_filter(const char *s, size_t n)
{
	return n >= 7 && memcmp(s, "filter=", 7) == 0;
}

/* delete (SPEC §8): ids, and lines "filter=<expr>".  Everything of one
 * write is checked first (ids parse, expressions parse against the
 * schema), then the ids are deleted, then each filter's matches. */
static int take_deletes(struct fs *fs, struct fs_file *f, const char *data,
			size_t len, bool final, size_t *consumed,
			struct mfs_err *err)
{
	const struct fs_node *n = &f->node;
	struct fld_expr *xs[64];
	size_t nx = 0, i = 0, used = 0, nids = 0, line = f->line0;
	int64_t *ids = NULL;
	int rc = 0;

	if (!memmem(data, len, "filter=", 7)) {
		rc = parse_ids(data, len, final, &ids, &nids, consumed, err);
		if (rc == 0 && nids > 0)
			rc = eng_delete(fs->eng, n->coll, fs_node_part(n), ids,
					nids, NULL, err);
		free(ids);
		return rc;
	}
	rc = write_fields(fs, f, err);
	if (rc < 0)
		return rc;
	while (i < len && rc == 0) {
		const char *s = data + i, *nl = memchr(s, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - s) : len - i, sk = 0;

		while (sk < ll && (s[sk] == ' ' || s[sk] == '	'))
			sk++;
		if (!nl && !final) {
			/* an incomplete last line: a filter waits whole, ids
			 * all but a token touching the end */
			if (starts_filter(s + sk, ll - sk) ||
			    (ll - sk < 7 && memcmp(s + sk, "filter=",
						    ll - sk) == 0))
				break;
		}
		if (starts_filter(s + sk, ll - sk)) {
			const char *x = s + sk + 7;
			size_t xl = ll - sk - 7;

			while (xl && (x[xl - 1] == '\r' || x[xl - 1] == ' '))
				xl--;
			if (xl == 0) {
				rc = mfs_errf(err, -EINVAL,
					      "line %zu: delete: filter expression is empty",
					      line);
				break;
			}
			if (nx == sizeof(xs) / sizeof(xs[0])) {
				rc = mfs_errf(err, -EINVAL,
					      "line %zu: delete: at most 64 filter lines in one write",
					      line);
				break;
			}
			rc = fld_expr_parse(x, xl, eng_fields_schema(f->wfields),
					    &xs[nx], err);
			if (rc < 0) {
				mfs_err_prefix(err, rc, "line %zu", line);
				break;
			}
			nx++;
			used = i + ll + (nl ? 1 : 0);
		} else {
			int64_t *more = NULL;
			size_t nm = 0, c = 0;

			rc = parse_ids(s, ll + (nl ? 1 : 0), final || nl,
				       &more, &nm, &c, err);
			if (rc == 0 && nm) {
				int64_t *p = realloc(ids, (nids + nm) *
							  sizeof(*ids));
				if (!p) {
					rc = mfs_errf(err, -ENOMEM,
						      "out of memory");
				} else {
					ids = p;
					memcpy(ids + nids, more,
					       nm * sizeof(*ids));
					nids += nm;
				}
			}
			free(more);
			if (rc == 0)
				used = i + c;
			if (!nl)
				break;
		}
		i += ll + (nl ? 1 : 0);
		line++;
	}
	/* The filters' matches join the ids: one delete, one transaction,
	 * all or nothing (a filter over what is not loaded fails the whole
	 * write before anything is deleted). */
	for (size_t k = 0; k < nx && rc == 0; k++) {
		int64_t *m = NULL, *p;
		size_t nm = 0;

		rc = eng_filter_ids(fs->eng, n->coll, fs_node_part(n), xs[k],
				    &m, &nm, err);
		if (rc == 0 && nm) {
			p = realloc(ids, (nids + nm) * sizeof(*ids));
			if (!p) {
				rc = mfs_errf(err, -ENOMEM, "out of memory");
			} else {
				ids = p;
				memcpy(ids + nids, m, nm * sizeof(*ids));
				nids += nm;
			}
		}
		free(m);
	}
	if (rc == 0 && nids)
		rc = eng_delete(fs->eng, n->coll, fs_node_part(n), ids, nids,
				NULL, err);
	for (size_t k = 0; k < nx; k++)
		fld_expr_free(xs[k]);
	free(ids);
	if (rc == 0)
		*consumed = used;
	return rc;
}

static int take_records(struct fs *fs, struct fs_file *f, const char *data,
			size_t len, bool final, size_t *consumed,
			struct mfs_err *err)
{
	const struct fs_node *n = &f->node;
	int rc;

	if (n->kind == K_DELETE)
		return take_deletes(fs, f, data, len, final, consumed, err);

	rc = batch_prepare(fs, f, err);
	if (rc == 0 && n->kind != K_FVECS)
		rc = write_fields(fs, f, err);
	if (rc < 0)
		return rc;
	fmt_batch_reset(&f->batch);
	if (n->kind == K_FVECS) {
		rc = fmt_fvecs_parse(data, len, f->line0, &f->batch, consumed,
				     err);
		if (rc == 0 && final && *consumed < len)
			rc = mfs_errf(err, -EINVAL, "record %zu: truncated "
				      "fvecs record at close (%zu bytes)",
				      f->line0 + f->batch.n, len - *consumed);
	} else {
		/* SPEC §8: JSON lines carry fields; text lines get the
		 * fields' defaults */
		rc = fmt_jsonl_parse(data, len, f->line0, final,
				     eng_fields_schema(f->wfields), &f->batch,
				     consumed, err);
	}
	const char **pnames = NULL;

	if (rc == 0 && f->batch.n > 0 && f->batch.pname_at) {
		pnames = calloc(f->batch.n, sizeof(*pnames));
		if (!pnames)
			rc = mfs_errf(err, -ENOMEM, "out of memory");
		for (size_t i = 0; pnames && i < f->batch.n; i++)
			pnames[i] = f->batch.pname_at[i] ?
				f->batch.pnames + f->batch.pname_at[i] - 1 :
				NULL;
	}
	if (rc == 0 && f->batch.n > 0) {
		struct eng_rows rows = {
			.n = f->batch.n,
			.vtype = f->batch.vtype,
			.dim = f->batch.dim,
			.has_id = f->batch.has_id,
			.ids = f->batch.ids,
			.vecs = f->batch.vecs,
			.line = f->batch.line,
			.rows = f->batch.row_end ? f->batch.rows : NULL,
			.row_end = f->batch.row_end,
			.fields = f->wfields,
			.parts = pnames,
		};
		if (n->kind == K_UPSERT)
			rc = eng_upsert(fs->eng, n->coll, fs_node_part(n),
					&rows, NULL, err);
		else
			rc = eng_insert(fs->eng, n->coll, fs_node_part(n),
					&rows, NULL, err);
	}
	free(pnames);
	if (rc < 0) {
		/* refresh dim and type from the schema at the next write */
		fmt_batch_fini(&f->batch);
		f->batch_ready = false;
		return rc;
	}
	if (n->kind == K_FVECS) {
		f->line0 += f->batch.n;
	} else {
		const char *p = data, *end = data + *consumed;

		while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			f->line0++;
			p++;
		}
	}
	fmt_batch_reset(&f->batch);
	return 0;
}

int fs_stream_write(struct fs *fs, struct fs_file *f, const char *buf,
		    size_t size, bool final, struct mfs_err *err)
{
	const char *data;
	size_t len, consumed = 0;
	int rc;

	if (f->line0 == 0)
		f->line0 = 1;
	if (final && f->pend.len == 0)
		return 0;
	if (f->pend.len == 0) {
		data = buf;
		len = size;
	} else {
		rc = mfs_buf_append(&f->pend, buf, size);
		if (rc < 0) {
			mfs_buf_reset(&f->pend);
			return mfs_errf(err, rc, "out of memory");
		}
		data = f->pend.data;
		len = f->pend.len;
	}
	rc = take_records(fs, f, data, len, final, &consumed, err);
	if (rc < 0) {
		mfs_buf_reset(&f->pend);
		return rc;
	}
	if (data == buf) {
		rc = mfs_buf_append(&f->pend, buf + consumed, size - consumed);
		if (rc < 0) {
			mfs_buf_reset(&f->pend);
			return mfs_errf(err, rc, "out of memory");
		}
	} else {
		mfs_buf_consume(&f->pend, consumed);
	}
	if (f->pend.len > FMT_LINE_MAX) {
		mfs_buf_reset(&f->pend);
		if (f->node.kind != K_FVECS && f->node.kind != K_DELETE)
			return mfs_errf(err, -EINVAL, "line %zu: line longer "
					"than %u bytes", f->line0,
					FMT_LINE_MAX);
		return mfs_errf(err, -EINVAL, "a pending record or id longer "
				"than %u bytes", FMT_LINE_MAX);
	}
	return 0;
}
