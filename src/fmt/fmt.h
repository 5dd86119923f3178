/* fmt.h - bytes <-> typed values: names, vector records (text and fvecs),
 * key=value text, queries, entities and results (TSV and JSON).
 *
 * Pure functions of their inputs; no locks, no globals; thread-safe.
 * Every parser is total: any byte string gives either a value or -EINVAL
 * with a message naming the line and what was expected and found.
 */
#ifndef MFS_FMT_FMT_H
#define MFS_FMT_FMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/kv.h"
#include "base/limits.h"
#include "field/field.h"
#include "vec/vec.h"

/* Longest text line accepted (a 32,768-dim vector in full precision fits). */
#define FMT_LINE_MAX (1u << 20)

/* ---- names (SPEC §2) ---- */

/* Milvus name rules: a letter or '_' first, then letters, digits, '_';
 * 1..255 bytes.  kind is "collection" or "partition" for the message, e.g.
 * "Invalid collection name: 9x. the first character of a collection name
 * must be an underscore or letter" (bytes that are not printable ASCII
 * show as \xNN; long names are cut with "...").  For partitions, the
 * names fmt_name_reserved() lists are refused too.  0 or -EINVAL. */
int fmt_name_check(const char *kind, const char *name, struct mfs_err *err);
/* 1 if name is a control file or directory name of a collection or
 * partition directory: schema index load release state count partitions
 * vectors vectors.fvecs vectors.bvecs delete entities search ids, or
 * starts with '.'. */
bool fmt_name_reserved(const char *name);

/* ---- records ---- */

/* A growable batch of records with one vector type and dim. */
struct fmt_batch {
	enum vec_type vtype;
	uint32_t dim;           /* 0 = set by the first record */
	size_t n, cap;
	uint8_t *has_id;        /* n */
	int64_t *ids;           /* n (0 where !has_id) */
	uint8_t *vecs;          /* n * vec_bytes(vtype, dim) */
	size_t *line;           /* n: line (text) or record (fvecs) number */
	/* Scalar fields (SPEC §8), filled only by fmt_jsonl_parse: record i's
	 * row (field.h) is rows[i ? row_end[i-1] : 0, row_end[i]).  row_end
	 * NULL: no record carries fields (every row empty). */
	uint8_t *rows;
	size_t rows_len, rows_cap;
	size_t *row_end;        /* n when not NULL */
	/* The partition a JSON record names ("partition": "p"), filled only
	 * by fmt_jsonl_parse: pname_at[i] is 1 + the offset of record i's
	 * NUL-terminated name in pnames, 0 when it names none; pname_at
	 * NULL: no record names one. */
	char *pnames;
	size_t pnames_len, pnames_cap;
	size_t *pname_at;
};

void fmt_batch_init(struct fmt_batch *b, enum vec_type vtype, uint32_t dim);
/* Drop the records, keep vtype, dim and storage (row_end goes back to
 * NULL: rows are maintained only by fmt_jsonl_parse, so a batch reused for
 * the other parsers must not carry stale row ends). */
void fmt_batch_reset(struct fmt_batch *b);
void fmt_batch_fini(struct fmt_batch *b);

/* Parse the complete lines ('\n'-terminated) of buf[0, len) into b,
 * appending.  A trailing partial line is left: *consumed gets the bytes
 * used (up to and including the last '\n').  final = true takes a trailing
 * partial line as a last line (close(2), SPEC §4).  line0 is the number of
 * the first line in buf.  Lines that are empty or only whitespace are
 * skipped.  Forms (SPEC §4), float vectors:
 *     0.1 0.2 0.3 | 0.1,0.2,0.3 | [0.1, 0.2, 0.3] | 42<TAB>0.1,0.2,0.3 |
 *     {"id": 42, "vector": [0.1, 0.2, 0.3]}
 * binary vectors: one string of dim 0/1 digits, or dim/4 hex digits
 * (optionally 0x-prefixed), or [1,0,1,...], each optionally after
 * "id<TAB>", or the JSON form with "vector" a list of 0/1 or a hex string.
 * "A<TAB>B" carries an id when it has exactly one tab and A is a 64-bit
 * integer; for float vectors B must also hold more than one token, so
 * "1<TAB>2" is the vector [1, 2].  In the JSON form keys may come in any
 * order, "id" may be a quoted integer, other keys ("partition", as
 * fmt_entity_json prints) are skipped.  A binary string of only 0/1 whose
 * length is dim (or, when dim is 0, a multiple of 8) is bits, else hex.
 * When b->dim is 0 the first record sets it (2..32768 floats; a multiple
 * of 8 up to 32768 bits); a batch whose dim does not suit its type is
 * refused.  Reads nothing outside buf[0, len) (no NUL needed).
 * On error nothing is appended to b (b->n and b->dim as they were), err
 * names the line and *consumed is not written:
 * "line 3: expected 128 values, got 127", "line 2: value 5 is NaN or
 * infinite", "line 1: value 2 out of float32 range: '1e40'", "line 7: not
 * a number: 'abc'", "line 1: line longer than 1048576 bytes" (also for a
 * partial line that is already too long).  -EINVAL, -ENOMEM. */
int fmt_text_parse(const char *buf, size_t len, size_t line0, bool final,
		   struct fmt_batch *b, size_t *consumed, struct mfs_err *err);
/* Parse JSON lines with scalar fields (SPEC §8) into b, appending, with
 * schema s (borrowed).  Lines, partial lines, final, line0, *consumed,
 * dims, the long-line limit and all-or-nothing are as fmt_text_parse.  A
 * line whose first non-blank byte is '{' is one JSON object, parsed
 * strictly (RFC 8259, as jansson: `tru`, `01`, `.5`, trailing commas, bad
 * escapes, invalid UTF-8, \u0000 and duplicate keys are refused): "vector"
 * as in fmt_text_parse's JSON form, "id" (optional) a 64-bit integer or a
 * string holding one, "partition" ignored, every other key a field of s
 * (fld_row_encode: unknown keys, types, ranges, lengths, defaults).  Runs
 * of other lines are fmt_text_parse's text forms; their records get
 * fld_row_default rows.  Every record appended gets its row in b->rows
 * (row_end is allocated on first use; records already in b get empty
 * rows).  Errors: fmt_text_parse's, "line 3: invalid JSON: <jansson's
 * text> at column C", fld_row_encode's; on error b->n, b->dim and
 * b->rows_len are as they were and *consumed is not written.  -EINVAL,
 * -ENOMEM. */
int fmt_jsonl_parse(const char *buf, size_t len, size_t line0, bool final,
		    const struct fld_schema *s, struct fmt_batch *b,
		    size_t *consumed, struct mfs_err *err);
/* Parse the complete fvecs records (int32 dim, dim float32, little-endian)
 * of buf[0, len) into b; a trailing partial record is left (*consumed).
 * For binary batches the record is bvecs-like: int32 dim (bytes), then
 * dim bytes.  record0 numbers the first record (b->line holds record
 * numbers).  Errors, all or nothing: "record 5: dim 0 out of range [2,
 * 32768]", "record 5: expected dim 128, got 100", "record 7: value 4 is
 * NaN or infinite".  -EINVAL, -ENOMEM. */
int fmt_fvecs_parse(const void *buf, size_t len, size_t record0,
		    struct fmt_batch *b, size_t *consumed, struct mfs_err *err);

/* ---- entities out ---- */

/* "id<TAB>v1,v2,...\n" (binary: hex string, two digits a byte).  Floats
 * print as the shortest decimal that reads back to the same float32
 * (base/ftoa.h).
 * These writers append; on failure (-ENOMEM, -EFBIG past out->max) out
 * keeps its old length. */
int fmt_entity_tsv(struct mfs_buf *out, int64_t id, enum vec_type vtype,
		   uint32_t dim, const void *vec);
/* {"id":42,"partition":"p","vector":[...]}\n  (part may be NULL; binary
 * vectors as a hex string "vector":"0aff"). */
int fmt_entity_json(struct mfs_buf *out, int64_t id, const char *part,
		    enum vec_type vtype, uint32_t dim, const void *vec);
/* An entity with its fields as one JSON line (SPEC §8):
 * {"id":7,"vector":[...],"word":"piano",...}\n, or with part not NULL
 * {"id":7,"partition":"p","vector":[...],...}\n (entities/<id>).  The row
 * is well formed for s (fld_row_check); fields print as fld_row_json. */
int fmt_entity_jsonl(struct mfs_buf *out, int64_t id, const char *part,
		     enum vec_type vtype, uint32_t dim, const void *vec,
		     const struct fld_schema *s, const void *row,
		     size_t row_len);
/* One fvecs record (binary: int32 bytes + bytes). */
int fmt_entity_fvecs(struct mfs_buf *out, enum vec_type vtype, uint32_t dim,
		     const void *vec);

/* ---- key=value text ---- */

/* Parse "k=v" pairs separated by whitespace, newlines or '&' into kv
 * (appending; later keys replace earlier ones).  "description" takes the
 * rest of its line.  Blank lines and lines starting with '#' are skipped.
 * -EINVAL ("expected key=value, got 'xyz'"). */
int fmt_kv_parse(const char *text, size_t len, struct mfs_kv *kv,
		 struct mfs_err *err);
/* fmt_kv_parse for text where a key means one thing (schema, index): a
 * key given twice, or one kv holds already, is -EINVAL naming it. */
int fmt_kv_parse_once(const char *text, size_t len, struct mfs_kv *kv,
		      struct mfs_err *err);
/* Print "k=v\n" per pair. */
int fmt_kv_print(struct mfs_buf *out, const struct mfs_kv *kv);

/* ---- queries (SPEC §6) ---- */

#define FMT_QUERY_PARTS_MAX 64

struct fmt_query {
	size_t k;                       /* default 10; k, limit, top_k */
	size_t offset;                  /* default 0 */
	bool json;                      /* format=json (else tsv) */
	bool by_id;                     /* id=N */
	int64_t id;
	size_t nparts;
	char parts[FMT_QUERY_PARTS_MAX][MFS_NAME_MAX + 1]; /* partitions=a,b */
	struct mfs_kv params;           /* everything else known: ef, nprobe */
	struct fmt_batch q;             /* query vectors */
};

void fmt_query_init(struct fmt_query *q, enum vec_type vtype, uint32_t dim);
void fmt_query_fini(struct fmt_query *q);
/* Apply parameter pairs "k=v&k=v" or lines (overrides): k/limit/top_k in
 * 1..MFS_TOPK_MAX, offset >= 0 with k+offset <= MFS_TOPK_MAX, format
 * tsv|json, partitions, id; every other key is one of the table of search
 * parameters (base/sparam.h), checked as its kind says (ef 1..MFS_EF_MAX,
 * nprobe 1..MFS_NPROBE_MAX, radius and range_filter finite, ...) and kept
 * as text in q->params.  Pairs are separated by '&', blanks or newlines
 * (fmt_kv_parse).  Messages as Milvus: "topk [16385] is invalid, it should
 * be in range [1, 16384]".  Unknown keys: -EINVAL "unknown search parameter
 * 'foo' (expected k, limit, ...)" listing the table.  id=N together with
 * vectors is -EINVAL.  q is changed only on success. */
int fmt_query_params(struct fmt_query *q, const char *text, size_t len,
		     struct mfs_err *err);
/* Parse a whole query text: parameter lines (a line containing '=', see
 * fmt_query_params), and vector lines (fmt_text_parse forms, without ids;
 * a trailing line without '\n' counts).  "id=42" alone is a query by id,
 * "0.1,0.2,0.3" alone one vector.  Needs vectors or id=N, not both
 * (-EINVAL "query has no vector and no id=N").  q is changed only on
 * success (its vector storage may have moved either way).  -EINVAL,
 * -ENOMEM. */
int fmt_query_parse(struct fmt_query *q, const char *text, size_t len,
		    struct mfs_err *err);
/* Fill q's vectors from an fvecs batch file (no parameter lines); a
 * truncated last record is -EINVAL. */
int fmt_query_parse_fvecs(struct fmt_query *q, const void *data, size_t len,
			  struct mfs_err *err);
/* Parse an inline query name (SPEC §6 form 1): "0.1,0.2,0.3&k=3",
 * "id=42&k=5", "k=3&id=42": the base before the first '&' as with
 * fmt_query_parse, then the pairs after it as overrides, and only then the
 * check that there is a vector or id=N.  name is NUL-terminated (borrowed).
 * q is changed only on success.  -EINVAL, -ENOMEM. */
int fmt_query_parse_name(struct fmt_query *q, const char *name,
			 struct mfs_err *err);
/* Split a search/ file name "base&k=v&..." at the first '&': *base_len
 * gets the length of base, *params the rest after '&' (or NULL). */
void fmt_query_split_name(const char *name, size_t *base_len,
			  const char **params);

/* Results: for query i, count[i] hits at ids[i*stride], dist[i*stride].
 * TSV: "id<TAB>distance\n" per hit, a blank line between queries.
 * JSON: [[{"id":42,"distance":0.0123},...],...]\n
 * Distances print as the shortest decimal that reads back to the same
 * float32 (JSON: null if not finite).  On failure
 * (-ENOMEM, -EFBIG) out keeps its old length. */
int fmt_results(struct mfs_buf *out, bool json, size_t nq, size_t stride,
		const size_t *count, const int64_t *ids, const float *dist);

/* ---- scalar queries (SPEC §9) ---- */

enum fmt_qformat { FMT_Q_JSONL = 0, FMT_Q_JSON, FMT_Q_TSV };

/* The parameters of query/<name>: a filter expression, output fields,
 * limit, offset, partitions, format. */
struct fmt_squery {
	struct mfs_buf filter;          /* the expression (may be empty: every
					 * entity) */
	bool has_filter;                /* filter= given or expression lines */
	struct mfs_buf output;          /* output_fields text; empty: default */
	bool has_output;
	uint64_t limit;                 /* 0: every match */
	uint64_t offset;
	enum fmt_qformat format;
	size_t nparts;
	char parts[FMT_QUERY_PARTS_MAX][MFS_NAME_MAX + 1];
};

void fmt_squery_init(struct fmt_squery *q);
void fmt_squery_fini(struct fmt_squery *q);
/* Parse a saved or written query text: lines "filter=", "output_fields=",
 * "limit=", "offset=", "partitions=", "format=" (a key followed at once by
 * '='); every other non-blank line is the expression (lines joined with a
 * newline), which a filter= line may not be given beside (-EINVAL).
 * Appending to q as overrides do.  -EINVAL ("limit: expected an integer in
 * [1, ...]", "format: expected jsonl, json or tsv, got 'x'", "unknown query
 * parameter 'foo' ..." never happens: unknown lines are expression text),
 * -ENOMEM. */
int fmt_squery_parse(struct fmt_squery *q, const char *text, size_t len,
		     struct mfs_err *err);
/* Apply overrides "k=v&k=v" (a name's part after its base): an override
 * starts at '&' followed by a known key and '=' (so `&&` stays in an
 * expression).  Unknown keys: -EINVAL naming the key and the known ones. */
int fmt_squery_params(struct fmt_squery *q, const char *text, size_t len,
		      struct mfs_err *err);
/* Split an inline query/ name: *base_len gets the length of the expression
 * before the first override, *params the override text after its '&' (or
 * NULL). */
void fmt_squery_split_name(const char *name, size_t *base_len,
			   const char **params);

/* Which fields a query prints. */
#define FMT_QSEL_MAX (FLD_MAX * 2)
struct fmt_qsel {
	bool count;                     /* count(*) */
	size_t n;
	struct fmt_qsel_item {
		int field;              /* index in the schema; -1 id, -2
					 * vector, -3 a key of $meta */
		char name[FLD_NAME_MAX + 1];
	} it[FMT_QSEL_MAX];
};
/* Parse output_fields (text NULL or empty: every scalar field; "*" the
 * same; "vector" adds the vector; "count(*)" alone the number of
 * matches; a name that is not a field is a key of $meta when the schema
 * is dynamic).  id always comes first.  -EINVAL "field foo not exist",
 * "count(*) cannot be mixed with other output fields". */
int fmt_qsel_parse(struct fmt_qsel *sel, const char *text, size_t len,
		   const struct fld_schema *s, struct mfs_err *err);
/* Append one matching entity, the nth (from 0) of the output, in format f:
 * jsonl {"id":1,"word":"a"}\n; json the same objects in one array (nth 0
 * opens it, fmt_qend closes it); tsv a header line before the first, then
 * values tab-separated, strings and JSON values JSON-encoded.  vec (may be
 * NULL: printed as null) is the entity's vector when sel asks for it.
 * 0, -ENOMEM, -EFBIG (out keeps its old length). */
int fmt_qrow(struct mfs_buf *out, enum fmt_qformat f,
	     const struct fmt_qsel *sel, const struct fld_cols *c, size_t row,
	     int64_t id, const void *vec, enum vec_type vt, uint32_t dim,
	     uint64_t nth);
/* One selected value of row `row` of c as JSON (it->field -1: id), as
 * fmt_qrow prints it.  0, -ENOMEM, -EFBIG. */
int fmt_qsel_value(struct mfs_buf *out, const struct fmt_qsel_item *it,
		   const struct fld_cols *c, size_t row, int64_t id);

/* Search results with fields (SPEC §10 output_fields), hit by hit in
 * order: fmt_hits_start, fmt_hits_hit for each hit (query i, ascending),
 * fmt_hits_end.  TSV: id<TAB>distance<TAB>a<TAB>b per hit (values
 * JSON-encoded), a blank line between queries; JSON: as fmt_results with
 * "entity":{"a":..,"b":..} in each hit.  c NULL (the entity went away):
 * every value null.  sel's vector item is not printed.  0, -ENOMEM,
 * -EFBIG. */
struct fmt_hits {
	struct mfs_buf *out;
	bool json;
	const struct fmt_qsel *sel;
	size_t open;                    /* queries opened */
	size_t nhit;                    /* hits of the last opened query */
};
int fmt_hits_start(struct fmt_hits *h, struct mfs_buf *out, bool json,
		   const struct fmt_qsel *sel);
int fmt_hits_hit(struct fmt_hits *h, size_t i, int64_t id, float dist,
		 const struct fld_cols *c, size_t row);
int fmt_hits_end(struct fmt_hits *h, size_t nq);

/* Close the output of nrows entities (json: "]\n" or "[]\n"; tsv with no
 * rows: the header alone). */
int fmt_qend(struct mfs_buf *out, enum fmt_qformat f,
	     const struct fmt_qsel *sel, uint64_t nrows);

#endif
