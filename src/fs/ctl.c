/* ctl.c - small control files: what reading them gives (generated whole
 * at open) and what writing them does (one action per write(2), so the
 * writer gets the error: SPEC §3, §5).
 */
#include "fs/fs_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int print_names(struct mfs_buf *out, const struct eng_names *names)
{
	int rc = 0;

	for (size_t i = 0; i < names->n && rc == 0; i++)
		rc = mfs_buf_printf(out, "%s\n", names->name[i]);
	return rc;
}

static int gen_schema(struct fs *fs, const struct fs_node *n,
		      struct mfs_buf *out, struct mfs_err *err)
{
	struct eng_schema s;
	struct eng_fields *f;
	int rc = eng_schema_get(fs->eng, n->coll, &s, err);

	if (rc < 0)
		return rc;
	rc = mfs_buf_printf(out, "dim=%u\nmetric_type=%s\nvector_type=%s\n"
			    "description=%s\n", s.dim,
			    vec_metric_name(s.metric),
			    vec_type_name(s.vtype), s.description);
	if (rc < 0)
		return rc;
	/* SPEC §8: one canonical field= line per field, after the keys */
	rc = eng_fields_get(fs->eng, n->coll, &f, err);
	if (rc < 0)
		return rc;
	rc = fld_schema_print(out, eng_fields_schema(f));
	eng_fields_put(f);
	return rc;
}

/* `cat index`: the vector index, then one block per scalar index, blocks
 * separated by a blank line (SPEC §5). */
static int gen_index(struct fs *fs, const struct fs_node *n,
		     struct mfs_buf *out, struct mfs_err *err)
{
	struct eng_names fields = { 0, NULL }, types = { 0, NULL };
	struct mfs_kv kv;
	int rc;

	mfs_kv_init(&kv);
	rc = eng_index_get(fs->eng, n->coll, &kv, err);
	if (rc == 0)
		rc = fmt_kv_print(out, &kv);
	if (rc == 0)
		rc = eng_sindex_list(fs->eng, n->coll, &fields, &types, err);
	for (size_t i = 0; rc == 0 && i < fields.n; i++)
		rc = mfs_buf_printf(out, "\nfield=%s\nindex_type=%s\n",
				    fields.name[i], types.name[i]);
	eng_names_free(&fields);
	eng_names_free(&types);
	return rc;
}

static int gen_entity(struct fs *fs, const struct fs_node *n,
		      struct mfs_buf *out, struct mfs_err *err)
{
	char part[STORE_NAME_MAX + 1];
	struct eng_schema s;
	struct eng_fields *f = NULL;
	void *vec = NULL, *row = NULL;
	size_t rl = 0;
	int rc;

	rc = eng_schema_get(fs->eng, n->coll, &s, err);
	if (rc < 0)
		return rc;
	vec = malloc(vec_bytes(s.vtype, s.dim) + 1);
	if (!vec)
		return mfs_errf(err, -ENOMEM, "out of memory");
	rc = eng_entity_get_row(fs->eng, n->coll, n->id, vec, part, &row, &rl,
				&f, err);
	if (rc == 0)
		rc = fmt_entity_jsonl(out, n->id, part, s.vtype, s.dim, vec,
				      eng_fields_schema(f), row, rl);
	free(row);
	eng_fields_put(f);
	free(vec);
	return rc;
}

int fs_ctl_generate(struct fs *fs, const struct fs_node *n,
		    struct mfs_buf *out, struct mfs_err *err)
{
	const char *part = fs_node_part(n);
	struct eng_names names = { 0, NULL };
	enum eng_state st;
	unsigned progress;
	uint64_t count;
	int rc;

	switch (n->kind) {
	case K_ERRORS:
		return fs_errors_dump(&fs->errors, out);
	case K_SCHEMA:
		return gen_schema(fs, n, out, err);
	case K_INDEX:
		return gen_index(fs, n, out, err);
	case K_LOAD:
	case K_STATE:
		rc = eng_state(fs->eng, n->coll, part, &st, &progress, err);
		if (rc < 0)
			return rc;
		if (n->kind == K_LOAD)
			return mfs_buf_printf(out, "%u\n", progress);
		return mfs_buf_printf(out, "%s\n", eng_state_name(st));
	case K_COUNT:
		rc = eng_count(fs->eng, n->coll, part, &count, err);
		return rc < 0 ? rc : mfs_buf_printf(out, "%" PRIu64 "\n", count);
	case K_PARTITIONS:
		rc = eng_part_list(fs->eng, n->coll, &names, err);
		if (rc == 0)
			rc = print_names(out, &names);
		eng_names_free(&names);
		return rc;
	case K_ENTITY:
		return gen_entity(fs, n, out, err);
	case K_STATS:
		return fs_stats_generate(fs, n, out, err);
	case K_COMPACT:
		return fs_compact_generate(fs, n, out, err);
	default:
		return mfs_errf(err, -EIO, "no generated content for this file");
	}
}

/* ---- writes ---- */

/* Tokens of a load/release write: "1" and "replica_number=N", separated
 * by whitespace or '&'. */
static int parse_load(const char *buf, size_t size, bool allow_replica,
		      unsigned *replica, struct mfs_err *err)
{
	const char *what = allow_replica ? "load" : "release";
	const char *expect = allow_replica ? "1 or replica_number=N" : "1";
	size_t i = 0, ntok = 0;

	*replica = 1;
	while (i < size) {
		char tok[64];
		size_t s, len;

		while (i < size && (isspace((unsigned char)buf[i]) ||
				    buf[i] == '&' || buf[i] == '\0'))
			i++;
		if (i == size)
			break;
		s = i;
		while (i < size && !isspace((unsigned char)buf[i]) &&
		       buf[i] != '&' && buf[i] != '\0')
			i++;
		len = i - s;
		ntok++;
		if (len == 1 && buf[s] == '1')
			continue;
		if (len >= sizeof(tok))
			len = sizeof(tok) - 1;
		memcpy(tok, buf + s, len);
		tok[len] = '\0';
		if (allow_replica && strncmp(tok, "replica_number=", 15) == 0) {
			long v;
			if (mfs_parse_long(tok + 15, 1, 1L << 20, &v) < 0)
				return mfs_errf(err, -EINVAL, "replica_number "
						"must be a positive integer, "
						"got '%s'", tok + 15);
			*replica = (unsigned)v;
			continue;
		}
		return mfs_errf(err, -EINVAL, "%s: expected %s, got '%s'",
				what, expect, tok);
	}
	if (ntok == 0)
		return mfs_errf(err, -EINVAL, "%s: expected %s, got nothing",
				what, expect);
	return 0;
}

/* Move the `field=` tokens of a schema write into fields and the rest
 * into rest: a field spec runs to the next blank outside a JSON string (a
 * default may be "two words"); description= keeps the rest of its line. */
static int split_fields(const char *buf, size_t size, struct fld_schema *fields,
			bool *any, struct mfs_buf *rest, struct mfs_err *err)
{
	size_t i = 0;
	int rc = 0;

	*any = false;
	while (i < size && rc == 0) {
		size_t s = i;

		if (isspace((unsigned char)buf[i])) {
			rc = mfs_buf_append(rest, buf + i, 1);
			i++;
			continue;
		}
		if (size - i >= 12 && memcmp(buf + i, "description=", 12) == 0) {
			while (i < size && buf[i] != '\n')
				i++;
			rc = mfs_buf_append(rest, buf + s, i - s);
			continue;
		}
		if (size - i >= 6 && memcmp(buf + i, "field=", 6) == 0) {
			bool instr = false;
			char *spec;

			for (i += 6; i < size; i++) {
				if (instr && buf[i] == '\\' && i + 1 < size) {
					i++;
					continue;
				}
				if (buf[i] == '"')
					instr = !instr;
				else if (!instr && isspace((unsigned char)buf[i]))
					break;
			}
			spec = strndup(buf + s + 6, i - s - 6);
			if (!spec)
				return mfs_errf(err, -ENOMEM, "out of memory");
			rc = fld_schema_add(fields, spec, err);
			free(spec);
			*any = true;
			continue;
		}
		while (i < size && !isspace((unsigned char)buf[i]))
			i++;
		rc = mfs_buf_append(rest, buf + s, i - s);
	}
	if (rc == -ENOMEM || rc == -EFBIG)
		rc = mfs_errf(err, -ENOMEM, "out of memory");
	return rc;
}

void fs_ctl_acc_free(struct fld_schema *acc)
{
	if (acc) {
		fld_schema_fini(acc);
		free(acc);
	}
}

static int write_schema(struct fs *fs, const struct fs_node *n,
			const char *buf, size_t size,
			struct fld_schema **acc, struct mfs_err *err)
{
	struct fld_schema fields;
	struct mfs_buf rest;
	struct mfs_kv kv;
	bool any;
	int rc;

	fld_schema_init(&fields);
	mfs_buf_init(&rest, SIZE_MAX);
	mfs_kv_init(&kv);
	/* The field= lines of earlier writes on this descriptor come
	 * first: `echo "dim=4<NL>field=a:INT64<NL>field=b:INT64" > schema`
	 * arrives as three writes and declares both fields. */
	if (*acc) {
		fld_schema_fini(&fields);
		rc = fld_schema_copy(&fields, *acc);
		if (rc < 0) {
			fld_schema_init(&fields);
			rc = mfs_errf(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	rc = split_fields(buf, size, &fields, &any, &rest, err);
	if (rc == 0 && any) {
		struct fld_schema *keep = *acc;

		if (!keep) {
			keep = malloc(sizeof(*keep));
			if (!keep) {
				rc = mfs_errf(err, -ENOMEM, "out of memory");
				goto out;
			}
		} else {
			fld_schema_fini(keep);
		}
		if (fld_schema_copy(keep, &fields) < 0) {
			free(keep);
			*acc = NULL;
			rc = mfs_errf(err, -ENOMEM, "out of memory");
			goto out;
		}
		*acc = keep;
	}
	any = any || (*acc && (*acc)->n);
	if (rc == 0)
		rc = fmt_kv_parse_once(rest.data ? rest.data : "", rest.len,
				       &kv, err);
	if (rc == 0 && kv.n == 0 && !any)
		rc = mfs_errf(err, -EINVAL, "schema: expected key=value pairs, "
			      "got nothing");
	if (rc == 0)
		rc = eng_schema_set(fs->eng, n->coll, &kv, any ? &fields : NULL,
				    err);
	/* queries are parsed for the schema's type and dim */
	fs_qcache_clear(&fs->qcache);
out:
	fld_schema_fini(&fields);
	mfs_buf_fini(&rest);
	return rc;
}

/* One block of an index write (no blank line inside). */
static int index_block(struct fs *fs, const struct fs_node *n, int flags,
		       const char *buf, size_t size, struct mfs_err *err)
{
	struct mfs_kv kv;
	const char *field, *type;
	int rc;

	mfs_kv_init(&kv);
	rc = fmt_kv_parse_once(buf, size, &kv, err);
	if (rc < 0 || kv.n == 0)
		return rc;
	field = mfs_kv_get(&kv, "field");
	if (!field)
		return eng_index_set(fs->eng, n->coll, &kv,
				     !(flags & O_NONBLOCK), err);
	/* SPEC §5: a scalar index on field */
	type = mfs_kv_get(&kv, "index_type");
	for (size_t i = 0; i < kv.n; i++) {
		const char *k = kv.item[i].key;

		if (strcmp(k, "field") && strcmp(k, "index_type") &&
		    strcmp(k, "state") && strcmp(k, "progress"))
			return mfs_errf(err, -EINVAL,
					"unknown key '%s' for a scalar index (expected field and index_type)",
					k);
	}
	if (!type || !*type)
		return mfs_errf(err, -EINVAL,
				"index_type is required, expected one of STL_SORT, INVERTED, BITMAP, TRIE, AUTOINDEX, or NONE to drop");
	return eng_sindex_set(fs->eng, n->coll, field, type, err);
}

static int write_index(struct fs *fs, const struct fs_node *n, int flags,
		       const char *buf, size_t size, struct mfs_err *err)
{
	size_t i = 0, blocks = 0;
	int rc = 0;

	/* `cat index > index` works: blocks separated by blank lines */
	while (i < size && rc == 0) {
		size_t s = i, e;

		for (;;) {
			const char *nl = memchr(buf + i, '\n', size - i);
			size_t ll = nl ? (size_t)(nl - buf - i) : size - i;
			bool blank = true;

			for (size_t k = 0; k < ll; k++)
				if (!isspace((unsigned char)buf[i + k]))
					blank = false;
			if (blank && i > s) {
				e = i;
				i += ll + (nl ? 1 : 0);
				break;
			}
			i += ll + (nl ? 1 : 0);
			if (!nl || i >= size) {
				e = i;
				break;
			}
		}
		for (size_t k = s; k < e; k++)
			if (!isspace((unsigned char)buf[k])) {
				blocks++;
				rc = index_block(fs, n, flags, buf + s, e - s,
						 err);
				break;
			}
	}
	if (rc == 0 && blocks == 0)
		rc = mfs_errf(err, -EINVAL, "index: expected key=value pairs, "
			      "got nothing");
	return rc;
}

int fs_ctl_write(struct fs *fs, const struct fs_node *n, int flags,
		 const char *buf, size_t size, struct fld_schema **acc,
		 struct mfs_err *err)
{
	const char *part = fs_node_part(n);
	unsigned replica;
	int rc;

	switch (n->kind) {
	case K_LOAD:
		rc = parse_load(buf, size, true, &replica, err);
		return rc < 0 ? rc : eng_load(fs->eng, n->coll, part, replica,
					      err);
	case K_RELEASE:
		rc = parse_load(buf, size, false, &replica, err);
		return rc < 0 ? rc : eng_release(fs->eng, n->coll, part, err);
	case K_SCHEMA:
		return write_schema(fs, n, buf, size, acc, err);
	case K_INDEX:
		return write_index(fs, n, flags, buf, size, err);
	case K_COMPACT:
		return fs_compact_write(fs, n, flags, buf, size, err);
	default:
		return mfs_errf(err, -EACCES, "this file is read-only");
	}
}
