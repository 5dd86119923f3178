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
	int rc = eng_schema_get(fs->eng, n->coll, &s, err);

	if (rc < 0)
		return rc;
	return mfs_buf_printf(out, "dim=%u\nmetric_type=%s\nvector_type=%s\n"
			      "description=%s\n", s.dim,
			      vec_metric_name(s.metric),
			      vec_type_name(s.vtype), s.description);
}

static int gen_entity(struct fs *fs, const struct fs_node *n,
		      struct mfs_buf *out, struct mfs_err *err)
{
	char part[STORE_NAME_MAX + 1];
	struct eng_schema s;
	void *vec = NULL;
	int rc;

	rc = eng_schema_get(fs->eng, n->coll, &s, err);
	if (rc < 0)
		return rc;
	vec = malloc(vec_bytes(s.vtype, s.dim) + 1);
	if (!vec)
		return mfs_errf(err, -ENOMEM, "out of memory");
	rc = eng_entity_get(fs->eng, n->coll, n->id, vec, part, err);
	if (rc == 0)
		rc = fmt_entity_json(out, n->id, part, s.vtype, s.dim, vec);
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
	struct mfs_kv kv;
	int rc;

	switch (n->kind) {
	case K_ERRORS:
		return fs_errors_dump(&fs->errors, out);
	case K_SCHEMA:
		return gen_schema(fs, n, out, err);
	case K_INDEX:
		mfs_kv_init(&kv);
		rc = eng_index_get(fs->eng, n->coll, &kv, err);
		return rc < 0 ? rc : fmt_kv_print(out, &kv);
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

int fs_ctl_write(struct fs *fs, const struct fs_node *n, int flags,
		 const char *buf, size_t size, struct mfs_err *err)
{
	const char *part = fs_node_part(n);
	struct mfs_kv kv;
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
	case K_INDEX:
		mfs_kv_init(&kv);
		rc = fmt_kv_parse(buf, size, &kv, err);
		if (rc < 0)
			return rc;
		if (kv.n == 0)
			return mfs_errf(err, -EINVAL, "%s: expected key=value "
					"pairs, got nothing",
					fs_kinds[n->kind].name);
		if (n->kind == K_SCHEMA) {
			rc = eng_schema_set(fs->eng, n->coll, &kv, err);
			/* queries are parsed for the schema's type and dim */
			fs_qcache_clear(&fs->qcache);
			return rc;
		}
		return eng_index_set(fs->eng, n->coll, &kv,
				     !(flags & O_NONBLOCK), err);
	default:
		return mfs_errf(err, -EACCES, "this file is read-only");
	}
}
