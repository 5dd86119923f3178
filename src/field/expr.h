/* expr.h - Milvus boolean expressions over scalar fields (SPEC §9): the
 * parser, the evaluator over a loaded partition's columns (field.h), and
 * scalar indexes that make a filter cheaper (SPEC §5 `field=`).
 *
 * Grammar (written down in milvusfs(5)):
 *
 *   expr     := or
 *   or       := and (("or" | "||") and)*
 *   and      := not (("and" | "&&") not)*
 *   not      := ("not" | "!") not | pred
 *   pred     := "(" expr ")"
 *             | sum cmp sum (cmp sum)?            chained: 1 < a <= 5
 *             | sum ("not")? "in" array
 *             | sum "like" string
 *             | "exists" path
 *             | path "is" ("not")? "null"
 *             | call                               bool functions
 *             | path | "true" | "false"            a BOOL field, literal
 *   sum      := prod (("+" | "-") prod)*
 *   prod     := unary (("*" | "/" | "%") unary)*
 *   unary    := "-" unary | atom
 *   atom     := number | string | "true" | "false" | array | path
 *             | "(" sum ")" | call
 *   call     := name "(" args ")"   array_contains, array_contains_all,
 *               array_contains_any, array_length, json_contains,
 *               json_contains_all, json_contains_any
 *   path     := name ("[" (string | integer) "]")*     meta["a"][0],
 *               $meta["k"]; a name that is not a field is $meta["name"]
 *               when the schema is dynamic
 *   cmp      := "==" | "!=" | "<" | "<=" | ">" | ">="
 *
 * Keywords are case-insensitive (and, AND, In, LIKE ...).  Strings are '…'
 * or "…" with backslash escapes.  `id` is the primary key (INT64).
 *
 * Semantics follow Milvus 2.5: a predicate over a null value is unknown,
 * and unknown rows match neither the predicate nor its negation (null rows
 * are found only by `is null`); JSON paths that are missing or of another
 * type are unknown too; integers and floats compare numerically; `like` takes '%' as any run and '_' as any one byte
 * (escape with '\').
 *
 * Errors, -EINVAL with Milvus's words:
 *   "cannot parse expression: <expr>, error: <where and what>"
 *   "field <name> not exist"
 *   "comparisons between VarChar and Int64 are not supported" (names both
 *   types), "array_length() expects an ARRAY field, got INT64", ...
 *
 * Thread-safety: a parsed expression is immutable: evaluate it from many
 * threads at once.  The evaluator reads struct fld_cols without locking:
 * the caller holds whatever guards the columns (readers share).
 */
#ifndef MFS_FIELD_EXPR_H
#define MFS_FIELD_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "field/field.h"

#define FLD_EXPR_MAX 65536              /* bytes of expression text */
#define FLD_EXPR_DEPTH_MAX 128          /* nesting */

struct fld_expr;

/* Parse text[0, len) against schema s (borrowed; must outlive *out).  An
 * empty or blank expression is -EINVAL ("expression is empty").  Returns
 * owned *out.  -EINVAL, -ENOMEM. */
int fld_expr_parse(const char *text, size_t len, const struct fld_schema *s,
		   struct fld_expr **out, struct mfs_err *err);
void fld_expr_free(struct fld_expr *x);

/* match[i] = 1 if row rows[i] of c matches x, else 0 (liveness is the
 * caller's business).  c's schema must be the one x was parsed with (or a
 * schema that only added fields to it).  Never fails: evaluation
 * scratch is on the stack or, for long lists, done in blocks. */
void fld_expr_eval(const struct fld_expr *x, const struct fld_cols *c,
		   const uint32_t *rows, size_t n, uint8_t *match);

/* Use the scalar indexes of c to find the rows among [0, nrows) that
 * match x.  Returns 1 and an owned array *rows (ascending row numbers) of
 * exactly the matching rows (liveness not considered) when an index
 * answered at least one conjunct of x (the rest is evaluated on those
 * candidates, and rows past what an index covers are evaluated directly);
 * returns 0 (and *rows NULL) when no index helps: the caller scans.
 * -ENOMEM. */
int fld_expr_select(const struct fld_expr *x, const struct fld_cols *c,
		    size_t nrows, uint32_t **rows, size_t *n);

/* Partition-key pruning: when x restricts the partition key to a finite
 * set of values at its top level (pk == v, pk in [...], and-ed with
 * anything), return 1 and call cb once per value; 0 when it does not
 * (every partition must be visited). */
int fld_expr_pk_values(const struct fld_expr *x,
		       void (*cb)(void *arg, const struct fld_value *v),
		       void *arg);

/* ---- scalar indexes (SPEC §5: index lines with field=) ---- */

/* Check index_type for field d: STL_SORT (numeric, VARCHAR), INVERTED
 * (every scalar type, ARRAY), BITMAP (BOOL, INT*, VARCHAR, ARRAY of
 * those), TRIE (VARCHAR), AUTOINDEX (any but JSON), upper case.  -EINVAL
 * with a message naming both, e.g. "index type TRIE is not supported for
 * field rank of type INT64 (TRIE: VARCHAR)". */
int fld_sidx_check(const struct fld_def *d, const char *index_type,
		   struct mfs_err *err);
/* Build (or rebuild) the index of field i of c over its current rows,
 * replacing any.  Caller holds c exclusively.  -ENOMEM. */
int fld_sidx_build(struct fld_cols *c, size_t i, const char *index_type,
		   struct mfs_err *err);
void fld_sidx_drop(struct fld_cols *c, size_t i);
/* Rebuild the indexes whose unindexed tail (rows appended since their
 * build) passed max(4096, rows/8).  Caller holds c exclusively.  0,
 * -ENOMEM (the old index stays). */
int fld_sidx_maintain(struct fld_cols *c);
/* Bytes the indexes of c hold. */
size_t fld_sidx_bytes(const struct fld_cols *c);

#endif
