/* field.h - scalar fields (SPEC §8): types, a collection's field schema,
 * the stored form of one entity's fields (a "row"), and the columns that a
 * loaded partition keeps for scanning.
 *
 * A leaf module: it depends on base/ and on jansson (JSON values), nothing
 * else.  fmt/ parses JSON lines into rows with it, engine/ stores rows in
 * LMDB beside the vector and keeps struct fld_cols per loaded partition,
 * expr.h evaluates expressions over those columns.
 *
 * Rows.  The bytes stored after the vector in an entity's LMDB value:
 *
 *     u16 nf | FLD_ROW_META        fields encoded (<= the schema's fields
 *                                  but $meta; positional, declaration
 *                                  order, $meta skipped); FLD_ROW_META set:
 *                                  a $meta value follows the fields
 *     null bitmap                  (nf + 7) / 8 bytes, bit k (byte k/8,
 *                                  bit k%8) set = field k is null
 *     per field k < nf, not null:
 *       BOOL, INT8                 1 byte
 *       INT16 / INT32 / INT64      2 / 4 / 8 bytes, little-endian
 *       FLOAT / DOUBLE             4 / 8 bytes, IEEE-754 little-endian
 *       VARCHAR                    u32 len (LE) | UTF-8 bytes
 *       JSON, ARRAY                u32 len (LE) | compact JSON text
 *     with FLD_ROW_META:           u32 len (LE) | compact JSON object
 *                                  ($meta's keys)
 *
 * An empty row (0 bytes) is a row with nf = 0 and no $meta.  A field at
 * index >= nf (added to the schema after the row was written, SPEC §8)
 * reads as its default, or null; $meta reads null when the row has none.
 * $meta is kept out of the positions so that where the schema lists it
 * (enable_dynamic_field before or after fields were added) never moves
 * another field's bytes.  Defaults are resolved when a row is encoded: an
 * encoded row never relies on the schema's default for fields < nf.
 *
 * Thread-safety: schemas are immutable once built (share them freely);
 * struct fld_cols is not locked: the engine guards it (readers in
 * parallel, one writer).
 */
#ifndef MFS_FIELD_FIELD_H
#define MFS_FIELD_FIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/limits.h"

#define FLD_MAX 64                      /* fields, id and vector included */
#define FLD_USER_MAX (FLD_MAX - 2)      /* scalar fields, $meta included */
#define FLD_NAME_MAX MFS_NAME_MAX
#define FLD_VARCHAR_MAX 65535           /* max_length bound */
#define FLD_JSON_MAX 65536              /* bytes of one JSON value */
#define FLD_ARRAY_CAP_MAX 4096
#define FLD_NUM_PARTITIONS_DEFAULT 16
#define FLD_NUM_PARTITIONS_MAX 1024
#define FLD_META "$meta"                /* the dynamic field's name */
#define FLD_ROW_META 0x8000u            /* row header: a $meta value follows */

enum fld_type {
	FLD_NONE = 0,
	FLD_BOOL,
	FLD_INT8,
	FLD_INT16,
	FLD_INT32,
	FLD_INT64,
	FLD_FLOAT,
	FLD_DOUBLE,
	FLD_VARCHAR,
	FLD_JSON,
	FLD_ARRAY
};

/* "BOOL", "INT8", ..., "VARCHAR", "JSON", "ARRAY" (static). */
const char *fld_type_name(enum fld_type t);
bool fld_type_is_int(enum fld_type t);          /* INT8..INT64 */
bool fld_type_is_num(enum fld_type t);          /* ints, FLOAT, DOUBLE */

/* One value, borrowed from wherever it was read (a row, a column). */
struct fld_value {
	enum fld_type type;             /* FLD_NONE: null */
	int64_t i;                      /* BOOL (0/1), INT* */
	double d;                       /* FLOAT (widened), DOUBLE */
	const char *s;                  /* VARCHAR bytes; JSON, ARRAY: compact
					 * JSON text (not NUL-terminated;
					 * NULL when read from columns) */
	size_t len;                     /* of s */
	json_t *json;                   /* JSON, ARRAY read from columns: the
					 * parsed value (borrowed), else NULL */
};

struct fld_def {
	char name[FLD_NAME_MAX + 1];
	enum fld_type type;
	enum fld_type elem;             /* ARRAY: element type (not JSON,
					 * not ARRAY) */
	uint32_t max_length;            /* VARCHAR, or ARRAY of VARCHAR */
	uint32_t capacity;              /* ARRAY: max_capacity */
	bool nullable;
	bool partition_key;
	bool dynamic;                   /* the hidden $meta JSON field */
	uint8_t *def;                   /* default value encoded as a
					 * one-field row (see fld_row_get on
					 * it), owned; NULL: no default */
	size_t def_len;
};

struct fld_schema {
	size_t n;                       /* fields, $meta included */
	struct fld_def *f;              /* n, declaration order; $meta
					 * (when dynamic) is where it was
					 * enabled, usually last */
	bool dynamic;                   /* enable_dynamic_field */
	int pk;                         /* index of the partition key, -1 */
	uint32_t num_partitions;        /* with a partition key */
};

/* An empty schema (no fields, not dynamic, pk -1). */
void fld_schema_init(struct fld_schema *s);
void fld_schema_fini(struct fld_schema *s);
/* Deep copy into caller storage dst (which must not be initialized).
 * 0, -ENOMEM. */
int fld_schema_copy(struct fld_schema *dst, const struct fld_schema *src);
/* Index of field name in s, or -1.  "$meta" finds the dynamic field. */
int fld_schema_find(const struct fld_schema *s, const char *name);

/* Add one field from its spec, the value of a `field=` key (SPEC §8):
 * "NAME:TYPE[:OPTION]...", TYPE one of BOOL INT8 INT16 INT32 INT64 FLOAT
 * DOUBLE VARCHAR(n) JSON ARRAY(ELEM,cap) with ELEM a scalar type (VARCHAR(n)
 * allowed), case-insensitive; OPTIONs: "nullable", "default=VALUE" (VALUE a
 * JSON literal of the field's type, or a bare word for VARCHAR),
 * "partition_key".  Names follow the collection-name rules and are unique
 * ("id", "vector" and "$meta" are taken).  -EINVAL with a message naming the
 * field and what was expected, e.g. "field rank: unknown type 'INT65'
 * (expected BOOL, INT8, ...)", "field word: max_length 0 out of range [1,
 * 65535]", "too many fields: at most 64, id and vector included".  s is
 * unchanged on error. */
int fld_schema_add(struct fld_schema *s, const char *spec,
		   struct mfs_err *err);
/* enable_dynamic_field=true|false: adds (or, before data, removes) $meta.
 * -EINVAL for another value. */
int fld_schema_set_dynamic(struct fld_schema *s, bool on, struct mfs_err *err);
/* num_partitions=N (1..FLD_NUM_PARTITIONS_MAX); -EINVAL. */
int fld_schema_set_num_partitions(struct fld_schema *s, uint32_t n,
				  struct mfs_err *err);
/* Check the whole schema: at most one partition_key, of type INT64 or
 * VARCHAR, not nullable.  -EINVAL. */
int fld_schema_check(const struct fld_schema *s, struct mfs_err *err);

/* The canonical text: one "field=NAME:TYPE[:nullable][:default=V]
 * [:partition_key]\n" line per field but $meta, in declaration order, then
 * "enable_dynamic_field=true\n" when dynamic and "num_partitions=N\n" when
 * there is a partition key.  Nothing for an empty schema.  Types print upper
 * case, VARCHAR(64), ARRAY(INT64,8), ARRAY(VARCHAR(16),8); defaults as
 * compact JSON (in strings ' ' and '&' as \u0020 and \u0026: a spec
 * stays one token).  Parsing this text back (fld_schema_parse) gives the same
 * schema, but for $meta, which comes back last (rows do not depend on
 * where $meta is listed).  0, -ENOMEM, -EFBIG. */
int fld_schema_print(struct mfs_buf *out, const struct fld_schema *s);
/* Parse text as fld_schema_print makes it (keys separated by whitespace or
 * newlines: field=, enable_dynamic_field=, num_partitions=), into s
 * (initialized by the caller, appending).  Used for the stored form.
 * -EINVAL, -ENOMEM. */
int fld_schema_parse(struct fld_schema *s, const char *text, size_t len,
		     struct mfs_err *err);
/* May `to` replace `from` on a collection that has data?  Only by adding
 * fields at the end that are nullable or have a default (and turning on
 * the dynamic field; where $meta is listed does not matter).  -EBUSY with a message naming the field otherwise
 * ("field rank: a field added to a collection with data must be nullable
 * or have a default", "field word: cannot change a field once the
 * collection has data"). */
int fld_schema_evolve_check(const struct fld_schema *from,
			    const struct fld_schema *to, struct mfs_err *err);

/* ---- rows ---- */

/* Encode the fields of a JSON object into a row appended to out.
 * obj holds the entity's keys (it may hold "id", "vector" and
 * "partition" too: skip is a NULL-terminated list of keys to ignore).  Keys
 * that are not fields go into $meta when the schema is dynamic, else
 * -EINVAL "line L: field foo not exist"; a missing field gets its default,
 * or null when nullable, else -EINVAL "line L: field rank: missing value
 * (expected INT64)"; a value of the wrong type -EINVAL "line L: field rank:
 * expected INT64, got string"; out of range for the type "line L: field
 * age: value 300 out of range for INT8"; a string over max_length "line L:
 * field word: length 70 exceeds max_length 64"; an array over capacity,
 * an element of the wrong type, a JSON value over 65,536 bytes: likewise.
 * null for a non-nullable field without default is -EINVAL.  Integers
 * accept JSON integers only; FLOAT/DOUBLE accept integers and reals (finite
 * float range for FLOAT).  line numbers the message.  On error out is
 * unchanged.  -EINVAL, -ENOMEM, -EFBIG. */
int fld_row_encode(struct mfs_buf *out, const struct fld_schema *s,
		   json_t *obj, const char *const *skip, size_t line,
		   struct mfs_err *err);
/* The row of an entity given without fields (a text-form vector line,
 * fvecs): every field its default or null.  -EINVAL "line L: field rank:
 * missing value (expected INT64)" when a field has neither. */
int fld_row_default(struct mfs_buf *out, const struct fld_schema *s,
		    size_t line, struct mfs_err *err);
/* Is row[0, len) well formed for s (lengths, types as far as bytes tell)?
 * 0 or -EIO (stored data corrupt). */
int fld_row_check(const struct fld_schema *s, const void *row, size_t len);
/* Field i of a row (well formed, fld_row_check) into *v, borrowing from
 * row (or from the schema's default); null fields give type FLD_NONE. */
void fld_row_get(const struct fld_schema *s, const void *row, size_t len,
		 size_t i, struct fld_value *v);
/* Append the fields of a row as JSON object members, each preceded by
 * ',' — `,"word":"piano","rank":1520,"meta":{"a":1}` — null fields as
 * null; $meta's keys flattened into the object (as Milvus prints dynamic
 * fields); only the fields whose want[i] is true (want NULL: all).
 * Floats print in the shortest form that reads back to the same value
 * (FLOAT as float32, DOUBLE as double).  0, -ENOMEM, -EFBIG (out keeps its
 * old length). */
int fld_row_json(struct mfs_buf *out, const struct fld_schema *s,
		 const void *row, size_t len, const bool *want);
/* One value as JSON text (strings quoted and escaped). */
int fld_value_json(struct mfs_buf *out, const struct fld_def *d,
		   const struct fld_value *v);
/* 64-bit hash of a partition-key value (INT64 or VARCHAR), stable across
 * versions: the partition is hash % num_partitions. */
uint64_t fld_value_hash(const struct fld_value *v);

/* ---- columns of a loaded partition ---- */

/* One field's values, one slot per row. */
struct fld_col {
	enum fld_type type;             /* the field's */
	uint8_t *null;                  /* 1 = null; NULL while no row is */
	int64_t *i;                     /* BOOL, INT*: the value */
	double *d;                      /* FLOAT (widened), DOUBLE */
	uint64_t *off;                  /* VARCHAR: bytes of row r are
					 * str[off[r], off[r+1]) */
	char *str;
	json_t **json;                  /* JSON, ARRAY: parsed once when the
					 * row is appended (NULL when null) */
};

/* The columns of one partition: rows in append order.  A row is never
 * changed once appended, so a reader that knows a row number sees the same
 * values forever; a delete only sets dead_at. */
struct fld_cols {
	const struct fld_schema *s;     /* borrowed; outlives the columns */
	size_t n, cap;                  /* rows */
	int64_t *ids;                   /* n */
	uint32_t *dead_at;              /* n: 0 = live, else the delete epoch
					 * (rows with 0 < dead_at <= E are gone
					 * for a reader as of epoch E) */
	uint32_t epoch;                 /* last delete epoch given */
	bool id_sorted;                 /* ids strictly ascending in row order */
	struct fld_col *col;            /* s->n */
	size_t bytes;                   /* memory held, for memory_limit */
	void *map;                      /* id -> live row (private) */
	void **sidx;                    /* s->n scalar indexes (expr.h);
					 * NULL entries: none */
};

/* Empty columns for schema s (borrowed). 0, -ENOMEM. */
int fld_cols_init(struct fld_cols *c, const struct fld_schema *s);
void fld_cols_fini(struct fld_cols *c);
/* Append one row (well formed for s).  -ENOMEM (c unchanged). */
int fld_cols_append(struct fld_cols *c, int64_t id, const void *row,
		    size_t len);
/* The number of live rows (those not deleted). */
size_t fld_cols_live(const struct fld_cols *c);
/* Append src's live rows to dst (empty, same schema), in order, with
 * their values (parsed JSON values shared): the columns a fresh load
 * would make, without the dead rows a delete leaves.  Scalar indexes are
 * not copied (build them on dst).  0, or -ENOMEM (fini dst). */
int fld_cols_copy_live(struct fld_cols *dst, const struct fld_cols *src);
/* Mark the live row of id dead at a new epoch (one epoch per call to
 * fld_cols_new_epoch); false when id has no live row. */
uint32_t fld_cols_new_epoch(struct fld_cols *c);
bool fld_cols_delete(struct fld_cols *c, int64_t id, uint32_t epoch);
/* The live row of id, or -1. */
ptrdiff_t fld_cols_find(const struct fld_cols *c, int64_t id);
/* Field i of row r into *v (borrowing from the columns). */
void fld_cols_get(const struct fld_cols *c, size_t r, size_t i,
		  struct fld_value *v);
/* Is row r visible to a reader as of (nrows, epoch)? */
static inline bool fld_cols_visible(const struct fld_cols *c, size_t r,
				    uint32_t epoch)
{
	uint32_t d = c->dead_at[r];

	return d == 0 || d > epoch;
}
/* Append row r's fields as JSON members, as fld_row_json. */
int fld_cols_json(struct mfs_buf *out, const struct fld_cols *c, size_t r,
		  const bool *want);

#endif
