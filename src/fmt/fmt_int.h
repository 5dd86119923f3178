/* fmt_int.h - helpers shared by the fmt sources; not part of the API. */
#ifndef MFS_FMT_FMT_INT_H
#define MFS_FMT_FMT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/ftoa.h"
#include "base/limits.h"
#include "base/text.h"
#include "fmt/fmt.h"

/* Bytes of one vector (dim*4 float, dim/8 binary).  Private so that fmt
 * depends on base alone (vec.h's enums only). */
static inline size_t fmt_vbytes(enum vec_type t, uint32_t dim)
{
	return t == VEC_BINARY ? (size_t)dim / 8 : (size_t)dim * 4;
}

static inline bool fmt_isspace(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* key=value text (kv.c, query.c): pairs are separated by blanks, newlines
 * or '&'. */
static inline bool fmt_pair_sep(int c)
{
	return fmt_isspace(c) || c == '&';
}
/* The next pair of [*p, e): separators skipped, its key [*key, *eq), its
 * value up to the next separator, (*eq, *p), with *p left at that end.
 * 1 when no pair is left (only separators, or a token that starts with
 * stop, 0 for none: a comment), 0 for a pair, -EINVAL for a token without
 * '=' or with an empty key. */
int fmt_pair_next(const char **p, const char *e, int stop, const char **key,
		  const char **eq, struct mfs_err *err);
/* Copy key [k, k + kl) (kl < MFS_KV_KEY_MAX: the caller checks it, with
 * its own words) NUL-terminated into key, and the value [v, v + vl) into
 * *val (returns owned).  0, -EINVAL (a value of MFS_KV_VAL_MAX bytes or
 * more), -ENOMEM. */
int fmt_pair_strings(const char *k, size_t kl, const char *v, size_t vl,
		     char key[MFS_KV_KEY_MAX], char **val, struct mfs_err *err);

/* 0 if a batch's dim suits its type (0 = unknown yet; float 2..32768;
 * binary a multiple of 8 up to 32768), else -EINVAL with a message. */
int fmt_batch_check(const struct fmt_batch *b, struct mfs_err *err);
/* Make room for one more record at b->n (dim must be set).  0, -ENOMEM. */
int fmt_batch_grow(struct fmt_batch *b, size_t need);
/* Record i (< b->cap) names partition name[0, len) (NUL-free).  The
 * other records' entries start at 0 (none).  0, -ENOMEM. */
int fmt_batch_set_pname(struct fmt_batch *b, size_t i, const char *name,
			size_t len);
/* A binary vector given as one string t[0, len) (SPEC §4): dim 0/1
 * digits (a multiple of 8 when dim is 0), else hex digits, two a byte,
 * optionally 0x-prefixed.  bits (bytes: dim/8, or MFS_DIM_MAX/8 when dim
 * is 0) is cleared and filled; *count gets the bits given.  0, or -EINVAL
 * with *why the expectation to report.  One decoder for the text and the
 * JSON-lines parsers. */
int fmt_bit_string(uint8_t *bits, uint32_t dim, const char *t, size_t len,
		   size_t *count, const char **why);

/* Set the dim of a batch whose dim is 0, resizing the vector storage.
 * 0, -ENOMEM. */
int fmt_batch_set_dim(struct fmt_batch *b, uint32_t dim);
/* Does a vector of n values (bits when binary; str: given as one string
 * of slen digits) on line fit b: b's dim, or while that is 0 a dim the
 * vector type allows?  0, or -EINVAL with the message. */
int fmt_batch_count_check(const struct fmt_batch *b, size_t n, bool str,
			  size_t slen, size_t line, struct mfs_err *err);

/* fmt_jsonl_parse with every JSON line parsed whole by jansson: the
 * reference that its fast scanner must agree with (tests, fuzzing). */
int fmt_jsonl_parse_ref(const char *buf, size_t len, size_t line0, bool final,
			const struct fld_schema *s, struct fmt_batch *b,
			size_t *consumed, struct mfs_err *err);

/* Parse the number token [s, e) as a float32: 0, -1 (not a number),
 * -2 (NaN or infinite), -3 (out of float32 range).  Never reads outside
 * [s, e).  *out is written on 0 only. */
int fmt_parse_float(const char *s, const char *e, float *out);
/* The fast path of fmt_parse_float: scan a plain decimal at s (not past e)
 * and stop after it: 0 with *out and *endp set, or -1 when the number
 * needs fmt_parse_float (not decimal, too many digits, a rare rounding
 * case) or there is no number at s. */
int fmt_scan_float(const char *s, const char *e, float *out,
		   const char **endp);
/* Parse the token [s, e) as an int64 (optional sign, decimal digits).
 * 0 or -1. */
int fmt_parse_i64(const char *s, const char *e, int64_t *out);

/* Excerpts of input for messages: mfs_excerpt (base/text.h). */

/* 1 if [s, s+n) is valid UTF-8 without NUL or control bytes other than
 * tab, CR and LF. */
bool fmt_text_clean(const char *s, size_t n);

/* Append v as mfs_ftoa writes it (the shortest decimal that reads back
 * to v).  0, -ENOMEM, -EFBIG (out unchanged). */
int fmt_put_float(struct mfs_buf *out, float v);
/* The longest mfs_ftoa text of a finite float, without its NUL. */
#define FMT_FLOAT_MAX 15
/* v in decimal into out (at most 20 bytes and a NUL); the length. */
int fmt_i64(int64_t v, char *out);
/* Append dim float32 values from vec (any alignment), comma-separated,
 * each as fmt_put_float.  0, -ENOMEM, -EFBIG (out unchanged). */
int fmt_put_floats(struct mfs_buf *out, const void *vec, uint32_t dim);

#endif
