/* query.c - saved queries (SPEC §6, §9), stored as text by the store under
 * (cid, pid) with pid 0 for the collection's own search/; the saved
 * scalar queries of query/ are kept under pid | ENG_QUERY_SCALAR (so the
 * collection's are under ENG_QUERY_SCALAR itself).  The engine keeps
 * no cache of them: they are read when run.
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct q_arg {
	uint32_t cid, pid;
	const char *name;
	const void *text;
	size_t len;
	char *out;
	size_t outlen;
	struct eng_names *names;
	size_t cap;
};

static int resolve(struct eng *e, const char *coll, const char *part,
		   bool scalar, struct q_arg *a, struct mfs_err *err)
{
	struct eng_coll *c;
	struct eng_part *p = NULL;
	int rc = eng_lookup(e, coll, part, &c, &p, NULL, err);

	if (rc < 0)
		return rc;
	a->cid = c->cid;
	a->pid = (p ? p->pid : 0) | (scalar ? ENG_QUERY_SCALAR : 0);
	eng_part_unref(p);
	eng_coll_unref(c);
	return 0;
}

static int put_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct q_arg *a = arg;
	int rc = store_query_put(txn, a->cid, a->pid, a->name, a->text, a->len);

	if (rc < 0)
		return mfs_errf(err, rc, "cannot save query %s", a->name);
	return 0;
}

static int q_put(struct eng *e, const char *coll, const char *part,
		 bool scalar,
		  const char *name, const void *text, size_t len,
		  struct mfs_err *err)
{
	struct q_arg a = { .name = name, .text = text, .len = len };
	int rc = resolve(e, coll, part, scalar, &a, err);

	if (rc < 0)
		return rc;
	if (strlen(name) > STORE_NAME_MAX)
		return mfs_errf(err, -EINVAL,
				"query name too long: at most %d bytes",
				STORE_NAME_MAX);
	return eng_write(e, put_txn, &a, err);
}

static int get_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct q_arg *a = arg;
	int rc = store_query_get(txn, a->cid, a->pid, a->name, &a->out,
				 &a->outlen);

	if (rc == -ENOENT)
		return mfs_errf(err, rc, "saved query not found: %s", a->name);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot read query %s", a->name);
	return 0;
}

static int q_get(struct eng *e, const char *coll, const char *part,
		 bool scalar,
		  const char *name, char **text, size_t *len,
		  struct mfs_err *err)
{
	struct q_arg a = { .name = name };
	int rc = resolve(e, coll, part, scalar, &a, err);

	if (rc < 0)
		return rc;
	rc = store_read(e->st, get_txn, &a, err);
	if (rc < 0)
		return rc;
	*text = a.out;
	if (len)
		*len = a.outlen;
	return 0;
}

static int del_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct q_arg *a = arg;
	int rc = store_query_del(txn, a->cid, a->pid, a->name);

	if (rc == -ENOENT)
		return mfs_errf(err, rc, "saved query not found: %s", a->name);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot delete query %s", a->name);
	return 0;
}

static int q_del(struct eng *e, const char *coll, const char *part,
		 bool scalar,
		  const char *name, struct mfs_err *err)
{
	struct q_arg a = { .name = name };
	int rc = resolve(e, coll, part, scalar, &a, err);

	if (rc < 0)
		return rc;
	return eng_write(e, del_txn, &a, err);
}

static int list_cb(void *arg, const char *name)
{
	struct q_arg *a = arg;

	return eng_names_add(a->names, &a->cap, name);
}

static int list_txn(struct store_txn *txn, void *arg, struct mfs_err *err)
{
	struct q_arg *a = arg;
	int rc;

	eng_names_free(a->names);
	a->cap = 0;
	rc = store_query_list(txn, a->cid, a->pid, list_cb, a);
	if (rc < 0)
		return mfs_errf(err, rc, "cannot list saved queries");
	return 0;
}

static int q_list(struct eng *e, const char *coll, const char *part,
		 bool scalar,
		   struct eng_names *out, struct mfs_err *err)
{
	struct eng_names names = { 0 };
	struct q_arg a = { .names = &names };
	int rc = resolve(e, coll, part, scalar, &a, err);

	if (rc < 0)
		return rc;
	rc = store_read(e->st, list_txn, &a, err);
	if (rc < 0) {
		eng_names_free(&names);
		return rc;
	}
	*out = names;
	return 0;
}

int eng_query_put(struct eng *e, const char *coll, const char *part,
		  const char *name, const void *text, size_t len,
		  struct mfs_err *err)
{
	return q_put(e, coll, part, false, name, text, len, err);
}

int eng_query_get(struct eng *e, const char *coll, const char *part,
		  const char *name, char **text, size_t *len,
		  struct mfs_err *err)
{
	return q_get(e, coll, part, false, name, text, len, err);
}

int eng_query_del(struct eng *e, const char *coll, const char *part,
		  const char *name, struct mfs_err *err)
{
	return q_del(e, coll, part, false, name, err);
}

int eng_query_list(struct eng *e, const char *coll, const char *part,
		   struct eng_names *out, struct mfs_err *err)
{
	return q_list(e, coll, part, false, out, err);
}

int eng_squery_put(struct eng *e, const char *coll, const char *part,
		   const char *name, const void *text, size_t len,
		   struct mfs_err *err)
{
	return q_put(e, coll, part, true, name, text, len, err);
}

int eng_squery_get(struct eng *e, const char *coll, const char *part,
		   const char *name, char **text, size_t *len,
		   struct mfs_err *err)
{
	return q_get(e, coll, part, true, name, text, len, err);
}

int eng_squery_del(struct eng *e, const char *coll, const char *part,
		   const char *name, struct mfs_err *err)
{
	return q_del(e, coll, part, true, name, err);
}

int eng_squery_list(struct eng *e, const char *coll, const char *part,
		    struct eng_names *out, struct mfs_err *err)
{
	return q_list(e, coll, part, true, out, err);
}
