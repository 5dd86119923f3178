/* jsonl_int.h - what the two files of the JSON-lines parser share
 * (jsonl.c: lines and records; jsonl_vec.c: the "vector" value and JSON
 * numbers as float32): the parse context and small scanners. */
#ifndef MFS_FMT_JSONL_INT_H
#define MFS_FMT_JSONL_INT_H

#include <errno.h>

#include <jansson.h>

#include "fmt/fmt_int.h"

/* One call of fmt_jsonl_parse (jsonl.c has the design). */
struct jctx {
	struct fmt_batch *b;
	const struct fld_schema *s;
	size_t line;
	struct mfs_err *err;
	bool ref;                       /* reference path only */
	float *fscratch;                /* MFS_DIM_MAX floats, on demand */
	json_t *obj;                    /* the fast path's fields, reused */
	struct mfs_buf key;             /* a key, NUL-terminated */
	struct mfs_buf defrow;          /* the default row of text records */
	bool have_def;
	/* the pending vector */
	size_t count;                   /* values or bits */
	bool str;                       /* binary: given as one string */
	size_t slen;                    /* its digits */
	uint8_t bits[MFS_DIM_MAX / 8];
};

static inline int fmt_joom(struct jctx *c)
{
	return mfs_errf(c->err, -ENOMEM, "out of memory");
}

/* Past JSON whitespace at p. */
static inline const char *fmt_jws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

static inline bool fmt_jdigit(int ch)
{
	return ch >= '0' && ch <= '9';
}

/* A string without escapes, controls or non-ASCII at p (after its opening
 * quote): its closing quote, or NULL. */
static inline const char *fmt_jplain(const char *p, const char *e)
{
	for (; p < e; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '"')
			return p;
		if (ch == '\\' || ch < 0x20 || ch >= 0x80)
			return NULL;
	}
	return NULL;
}
/* jsonl_vec.c */
/* The end of an RFC 8259 number at p, or NULL; *is_int when it has no
 * fraction and no exponent (jansson's integer). */
const char *fmt_jnum(const char *p, const char *e, bool *is_int);
/* After an element of an array or object at *pp: past the ',' that
 * follows it (0), at the close char that ends it (1), or -1 when neither
 * follows. */
int fmt_jnext_elem(const char **pp, const char *e, char close);
/* Fast path: the vector value at p into the batch's next slot (or
 * scratch) and c's pending vector.  0 (*endp after it), 1 (give up: the
 * reference path decides), -ENOMEM. */
int fmt_jvec_fast(struct jctx *c, const char *p, const char *e,
		  const char **endp);
/* Reference path: the vector from jansson's value.  0, -EINVAL (with a
 * message), -ENOMEM. */
int fmt_jvec_ref(struct jctx *c, json_t *v);

#endif
