/* test_field.c - unit tests of src/field's core (field.h): types, schemas
 * (specs, canonical text, evolution), rows (encoding with Milvus's type
 * rules, decoding, JSON out), columns of a loaded partition, and the
 * fmt side of fields: fmt_jsonl_parse and fmt_entity_jsonl, including a
 * differential test of the JSON-lines fast path against its whole-line
 * jansson reference.
 */
#include <check.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "field/field.h"
#include "fmt/fmt.h"
#include "fmt/fmt_int.h"

/* ---- helpers ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

/* A schema from text as fld_schema_parse reads it; must succeed. */
static void mk(struct fld_schema *s, const char *text)
{
	struct mfs_err err;
	int rc;

	fld_schema_init(s);
	mfs_err_clear(&err);
	rc = fld_schema_parse(s, text, strlen(text), &err);
	ck_assert_msg(rc == 0, "schema '%s': %s", text, err.msg);
}

static char *print_schema(const struct fld_schema *s)
{
	struct mfs_buf b;

	mfs_buf_init(&b, SIZE_MAX);
	ck_assert_int_eq(fld_schema_print(&b, s), 0);
	return mfs_buf_take(&b, NULL);
}

/* Encode the JSON object text j as a row of s into out (reset first). */
static int enc(struct mfs_buf *out, const struct fld_schema *s, const char *j,
	       struct mfs_err *err)
{
	static const char *const skip[] = { "id", "vector", "partition", NULL };
	json_error_t jerr;
	json_t *o = json_loads(j, 0, &jerr);
	int rc;

	ck_assert_msg(o != NULL, "bad test JSON %.200s: %s", j, jerr.text);
	mfs_buf_reset(out);
	mfs_err_clear(err);
	rc = fld_row_encode(out, s, o, skip, 7, err);
	json_decref(o);
	return rc;
}

/* Row of s from j, printed back by fld_row_json. */
static char *row_text(const struct fld_schema *s, const char *j)
{
	struct mfs_buf row, out;
	struct mfs_err err;

	mfs_buf_init(&row, SIZE_MAX);
	mfs_buf_init(&out, SIZE_MAX);
	ck_assert_msg(enc(&row, s, j, &err) == 0, "%s: %s", j, err.msg);
	ck_assert_int_eq(fld_row_check(s, row.data, row.len), 0);
	ck_assert_int_eq(fld_row_json(&out, s, row.data, row.len, NULL), 0);
	mfs_buf_fini(&row);
	return mfs_buf_take(&out, NULL);
}

static void expect_row(const char *schema, const char *j, const char *want)
{
	struct fld_schema s;
	char *got;

	mk(&s, schema);
	got = row_text(&s, j);
	ck_assert_msg(strcmp(got, want) == 0, "%s:\n got  %s\n want %s", j, got, want);
	free(got);
	fld_schema_fini(&s);
}

static void expect_row_err(const char *schema, const char *j, const char *msg)
{
	struct fld_schema s;
	struct mfs_buf row;
	struct mfs_err err;
	int rc;

	mk(&s, schema);
	mfs_buf_init(&row, SIZE_MAX);
	mfs_buf_append(&row, "xy", 2);
	rc = enc(&row, &s, j, &err);
	ck_assert_msg(rc == -EINVAL, "%.200s: rc %d", j, rc);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "%.200s: message '%s', want '%s'",
		      j, err.msg, msg);
	ck_assert_msg(!strchr(err.msg, '\n'), "multi-line message");
	ck_assert_uint_eq(row.len, 0);  /* reset by enc; nothing appended */
	mfs_buf_fini(&row);
	fld_schema_fini(&s);
}

static void expect_add_err(const char *spec, int code, const char *msg)
{
	struct fld_schema s;
	struct mfs_err err;
	int rc;

	fld_schema_init(&s);
	mfs_err_clear(&err);
	ck_assert_int_eq(fld_schema_add(&s, "a:INT64:partition_key", &err), 0);
	rc = fld_schema_add(&s, spec, &err);
	ck_assert_msg(rc == code, "%s: rc %d (%s)", spec, rc, err.msg);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "%s: message '%s', want '%s'",
		      spec, err.msg, msg);
	ck_assert_uint_eq(s.n, 1);      /* unchanged */
	fld_schema_fini(&s);
}

/* ---- types and schemas ---- */

START_TEST(test_types)
{
	ck_assert_str_eq(fld_type_name(FLD_BOOL), "BOOL");
	ck_assert_str_eq(fld_type_name(FLD_INT16), "INT16");
	ck_assert_str_eq(fld_type_name(FLD_VARCHAR), "VARCHAR");
	ck_assert_str_eq(fld_type_name(FLD_ARRAY), "ARRAY");
	ck_assert(fld_type_is_int(FLD_INT8) && fld_type_is_int(FLD_INT64));
	ck_assert(!fld_type_is_int(FLD_BOOL) && !fld_type_is_int(FLD_FLOAT));
	ck_assert(fld_type_is_num(FLD_DOUBLE) && fld_type_is_num(FLD_INT32));
	ck_assert(!fld_type_is_num(FLD_VARCHAR) && !fld_type_is_num(FLD_JSON));
}
END_TEST

static const char every_type[] =
	"field=b:BOOL:default=true\n"
	"field=i8:INT8:nullable\n"
	"field=i16:INT16:default=-300\n"
	"field=i32:INT32\n"
	"field=i64:INT64:partition_key\n"
	"field=f:FLOAT:default=0.1\n"
	"field=d:DOUBLE:nullable:default=2.5\n"
	"field=word:VARCHAR(64):default=\"a\\u0020b&c:d\\\"\"\n"
	"field=meta:JSON:nullable\n"
	"field=tags:ARRAY(VARCHAR(16),8)\n"
	"field=nums:ARRAY(INT64,4):nullable\n"
	"field=fl:ARRAY(FLOAT,3)\n"
	"enable_dynamic_field=true\n"
	"num_partitions=8\n";

START_TEST(test_schema_roundtrip)
{
	struct fld_schema s, t, u;
	struct mfs_err err;
	struct fld_value v;
	char *p1, *p2;

	mk(&s, every_type);
	ck_assert_uint_eq(s.n, 13);
	ck_assert(s.dynamic);
	ck_assert_int_eq(s.pk, 4);
	ck_assert_uint_eq(s.num_partitions, 8);
	ck_assert_int_eq(fld_schema_find(&s, "word"), 7);
	ck_assert_int_eq(fld_schema_find(&s, "$meta"), 12);
	ck_assert_int_eq(fld_schema_find(&s, "nope"), -1);
	ck_assert(s.f[12].dynamic && s.f[12].type == FLD_JSON);
	ck_assert_int_eq(s.f[9].type, FLD_ARRAY);
	ck_assert_int_eq(s.f[9].elem, FLD_VARCHAR);
	ck_assert_uint_eq(s.f[9].max_length, 16);
	ck_assert_uint_eq(s.f[9].capacity, 8);
	ck_assert_uint_eq(s.f[7].max_length, 64);
	ck_assert(s.f[1].nullable && !s.f[0].nullable);
	fld_row_get(&s, NULL, 0, 7, &v);
	ck_assert_int_eq(v.type, FLD_VARCHAR);
	ck_assert_uint_eq(v.len, 8);
	ck_assert(memcmp(v.s, "a b&c:d\"", 8) == 0);
	fld_row_get(&s, NULL, 0, 2, &v);
	ck_assert_int_eq(v.type, FLD_INT16);
	ck_assert_int_eq(v.i, -300);
	fld_row_get(&s, NULL, 0, 5, &v);
	ck_assert(v.type == FLD_FLOAT && v.d == (double)0.1f);
	fld_row_get(&s, NULL, 0, 1, &v);
	ck_assert_int_eq(v.type, FLD_NONE);

	p1 = print_schema(&s);
	ck_assert_str_eq(p1,
		"field=b:BOOL:default=true\n"
		"field=i8:INT8:nullable\n"
		"field=i16:INT16:default=-300\n"
		"field=i32:INT32\n"
		"field=i64:INT64:partition_key\n"
		"field=f:FLOAT:default=0.1\n"
		"field=d:DOUBLE:nullable:default=2.5\n"
		"field=word:VARCHAR(64):default=\"a\\u0020b\\u0026c:d\\\"\"\n"
		"field=meta:JSON:nullable\n"
		"field=tags:ARRAY(VARCHAR(16),8)\n"
		"field=nums:ARRAY(INT64,4):nullable\n"
		"field=fl:ARRAY(FLOAT,3)\n"
		"enable_dynamic_field=true\n"
		"num_partitions=8\n");
	mk(&t, p1);
	p2 = print_schema(&t);
	ck_assert_str_eq(p1, p2);
	ck_assert_int_eq(fld_schema_evolve_check(&s, &t, &err), 0);
	ck_assert_int_eq(fld_schema_evolve_check(&t, &s, &err), 0);
	ck_assert_int_eq(fld_schema_copy(&u, &t), 0);
	free(p2);
	p2 = print_schema(&u);
	ck_assert_str_eq(p1, p2);
	free(p1);
	free(p2);
	fld_schema_fini(&s);
	fld_schema_fini(&t);
	fld_schema_fini(&u);

	/* types and options are case-insensitive; print is canonical */
	mk(&s, "field=x:varchar(5):NULLABLE field=y:Array(Int8,2) field=z:bool:Default=false");
	p1 = print_schema(&s);
	ck_assert_str_eq(p1, "field=x:VARCHAR(5):nullable\nfield=y:ARRAY(INT8,2)\n"
			 "field=z:BOOL:default=false\n");
	free(p1);
	fld_schema_fini(&s);

	/* a quoted default may hold ':' (any case of "default") */
	mk(&s, "field=q:VARCHAR(9):Default=\"a:b\":nullable");
	p1 = print_schema(&s);
	ck_assert_str_eq(p1, "field=q:VARCHAR(9):nullable:default=\"a:b\"\n");
	free(p1);
	fld_schema_fini(&s);

	/* a bare word default for VARCHAR, and JSON-ish words stay strings */
	mk(&s, "field=w:VARCHAR(8):default=piano field=n:VARCHAR(8):default=123");
	p1 = print_schema(&s);
	ck_assert_str_eq(p1, "field=w:VARCHAR(8):default=\"piano\"\n"
			 "field=n:VARCHAR(8):default=\"123\"\n");
	free(p1);
	fld_schema_fini(&s);

	/* $meta listed in the middle prints last and parses back last; a row
	 * reads the same with either (rows keep $meta out of the positions) */
	mk(&s, "field=a:INT64 enable_dynamic_field=true field=b:INT8:nullable");
	ck_assert_int_eq(fld_schema_find(&s, "$meta"), 1);
	p1 = print_schema(&s);
	ck_assert_str_eq(p1, "field=a:INT64\nfield=b:INT8:nullable\n"
			 "enable_dynamic_field=true\n");
	mk(&t, p1);
	ck_assert_int_eq(fld_schema_find(&t, "$meta"), 2);
	ck_assert_int_eq(fld_schema_evolve_check(&s, &t, &err), 0);
	ck_assert_int_eq(fld_schema_evolve_check(&t, &s, &err), 0);
	free(p1);
	{
		struct mfs_buf row, o1, o2;

		mfs_buf_init(&row, SIZE_MAX);
		mfs_buf_init(&o1, SIZE_MAX);
		mfs_buf_init(&o2, SIZE_MAX);
		ck_assert_int_eq(enc(&row, &s, "{\"a\":1,\"b\":2,\"k\":\"v\"}", &err), 0);
		ck_assert_int_eq(fld_row_check(&t, row.data, row.len), 0);
		ck_assert_int_eq(fld_row_json(&o1, &s, row.data, row.len, NULL), 0);
		ck_assert_int_eq(fld_row_json(&o2, &t, row.data, row.len, NULL), 0);
		ck_assert_str_eq(o1.data, ",\"a\":1,\"k\":\"v\",\"b\":2");
		ck_assert_str_eq(o2.data, ",\"a\":1,\"b\":2,\"k\":\"v\"");
		fld_row_get(&t, row.data, row.len, 2, &v);
		ck_assert(v.type == FLD_JSON && v.len == 9 && memcmp(v.s, "{\"k\":\"v\"}", 9) == 0);
		fld_row_get(&t, row.data, row.len, 1, &v);
		ck_assert(v.type == FLD_INT8 && v.i == 2);
		mfs_buf_fini(&row);
		mfs_buf_fini(&o1);
		mfs_buf_fini(&o2);
	}
	fld_schema_fini(&s);
	fld_schema_fini(&t);

	/* empty */
	fld_schema_init(&s);
	p1 = print_schema(&s);
	ck_assert_str_eq(p1, "");
	free(p1);
	ck_assert_int_eq(fld_schema_copy(&t, &s), 0);
	ck_assert_uint_eq(t.n, 0);
	fld_schema_fini(&t);
}
END_TEST

START_TEST(test_schema_errors)
{
	char name[300];

	expect_add_err("rank:INT65", -EINVAL, "field rank: unknown type 'INT65' (expected BOOL, INT8");
	expect_add_err("word:VARCHAR(0)", -EINVAL, "field word: max_length 0 out of range [1, 65535]");
	expect_add_err("word:VARCHAR(65536)", -EINVAL, "max_length 65536 out of range [1, 65535]");
	expect_add_err("word:VARCHAR", -EINVAL, "field word: VARCHAR needs a max_length");
	expect_add_err("word:VARCHAR(x)", -EINVAL, "field word: max_length must be an integer");
	expect_add_err("t:ARRAY(INT64,0)", -EINVAL, "field t: max_capacity 0 out of range [1, 4096]");
	expect_add_err("t:ARRAY(INT64,4097)", -EINVAL, "max_capacity 4097 out of range");
	expect_add_err("t:ARRAY(JSON,4)", -EINVAL, "field t: ARRAY element type JSON is not supported");
	expect_add_err("t:ARRAY(ARRAY(INT8,2),4)", -EINVAL, "ARRAY element type ARRAY is not supported");
	expect_add_err("t:ARRAY(FOO,4)", -EINVAL, "unknown ARRAY element type 'FOO'");
	expect_add_err("t:ARRAY(VARCHAR(0),4)", -EINVAL, "field t: max_length 0 out of range");
	expect_add_err("t:ARRAY", -EINVAL, "field t: ARRAY needs an element type and a capacity");
	expect_add_err("t:ARRAY(INT8)", -EINVAL, "ARRAY needs an element type and a capacity");
	expect_add_err("9x:INT8", -EINVAL, "field 9x: the first character of a field name must be an underscore or a letter");
	expect_add_err("a-b:INT8", -EINVAL, "field a-b: a field name can only contain numbers, letters and underscores");
	expect_add_err(":INT8", -EINVAL, "field name is empty");
	expect_add_err("noType", -EINVAL, "field spec 'noType': expected NAME:TYPE");
	expect_add_err("id:INT64", -EINVAL, "field id: the name is taken");
	expect_add_err("vector:INT64", -EINVAL, "field vector: the name is taken");
	expect_add_err("$meta:JSON", -EINVAL, "the first character");
	expect_add_err("a:INT8", -EINVAL, "field a: already exists");
	expect_add_err("m:JSON:default={}", -EINVAL, "field m: default values are not supported for JSON");
	expect_add_err("m:ARRAY(INT8,2):default=[1]", -EINVAL, "field m: default values are not supported for ARRAY");
	expect_add_err("r:INT8:default=300", -EINVAL, "field r: value 300 out of range for INT8");
	expect_add_err("r:INT64:default=abc", -EINVAL, "field r: default 'abc' is not a JSON literal (expected INT64)");
	expect_add_err("r:INT64:default=1.5", -EINVAL, "field r: expected INT64, got real");
	expect_add_err("r:INT64:default=\"1\"", -EINVAL, "field r: expected INT64, got string");
	expect_add_err("r:INT64:default=null", -EINVAL, "field r: default null is not a value");
	expect_add_err("r:INT64:default=", -EINVAL, "field r: default=VALUE needs a value");
	expect_add_err("r:INT64:default=1:default=2", -EINVAL, "field r: default given twice");
	expect_add_err("w:VARCHAR(3):default=abcd", -EINVAL, "field w: length 4 exceeds max_length 3");
	expect_add_err("f:FLOAT:default=1e39", -EINVAL, "field f: value 1e+39 out of range for FLOAT");
	expect_add_err("b:BOOL:default=1", -EINVAL, "field b: expected BOOL, got integer");
	expect_add_err("r:INT64:bogus", -EINVAL, "field r: unknown option 'bogus' (expected nullable, default=VALUE, partition_key)");
	expect_add_err("p:INT64:partition_key", -EINVAL, "field p: at most one partition key, and a is one already");
	memset(name, 'n', 256);
	strcpy(name + 256, ":INT8");
	expect_add_err(name, -EINVAL, "name longer than 255 bytes");
	memset(name, 'n', 255);
	strcpy(name + 255, ":INT8");
	{
		struct fld_schema s;
		struct mfs_err err;

		fld_schema_init(&s);
		ck_assert_int_eq(fld_schema_add(&s, name, &err), 0);
		ck_assert_uint_eq(strlen(s.f[0].name), 255);
		/* partition key rules */
		ck_assert_int_eq(fld_schema_add(&s, "p:FLOAT:partition_key", &err), -EINVAL);
		ck_assert(strstr(err.msg, "field p: a partition key must be INT64 or VARCHAR, got FLOAT"));
		ck_assert_int_eq(fld_schema_add(&s, "p:INT64:nullable:partition_key", &err), -EINVAL);
		ck_assert(strstr(err.msg, "field p: a partition key cannot be nullable"));
		ck_assert_int_eq(fld_schema_add(&s, "p:VARCHAR(9):partition_key", &err), 0);
		ck_assert_int_eq(s.pk, 1);
		ck_assert_int_eq(fld_schema_check(&s, &err), 0);
		/* check catches hand-made schemas */
		s.f[0].partition_key = true;
		s.f[0].type = FLD_INT64;
		ck_assert_int_eq(fld_schema_check(&s, &err), -EINVAL);
		ck_assert(strstr(err.msg, "at most one partition key"));
		s.f[0].partition_key = false;
		s.f[1].nullable = true;
		ck_assert_int_eq(fld_schema_check(&s, &err), -EINVAL);
		ck_assert(strstr(err.msg, "cannot be nullable"));
		fld_schema_fini(&s);
	}
}
END_TEST

START_TEST(test_schema_limits)
{
	struct fld_schema s;
	struct mfs_err err;
	char spec[32];

	fld_schema_init(&s);
	for (int i = 0; i < FLD_USER_MAX; i++) {
		snprintf(spec, sizeof(spec), "f%d:INT8", i);
		ck_assert_int_eq(fld_schema_add(&s, spec, &err), 0);
	}
	ck_assert_int_eq(fld_schema_add(&s, "one_more:INT8", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "too many fields: at most 64, id and vector included");
	ck_assert_int_eq(fld_schema_set_dynamic(&s, true, &err), -EINVAL);
	ck_assert(strstr(err.msg, "too many fields"));
	ck_assert_uint_eq(s.n, FLD_USER_MAX);
	fld_schema_fini(&s);

	/* $meta counts as a field */
	fld_schema_init(&s);
	ck_assert_int_eq(fld_schema_set_dynamic(&s, true, &err), 0);
	ck_assert_int_eq(fld_schema_set_dynamic(&s, true, &err), 0);
	ck_assert_uint_eq(s.n, 1);
	for (int i = 0; i < FLD_USER_MAX - 1; i++) {
		snprintf(spec, sizeof(spec), "f%d:INT8", i);
		ck_assert_int_eq(fld_schema_add(&s, spec, &err), 0);
	}
	ck_assert_int_eq(fld_schema_add(&s, "x:INT8", &err), -EINVAL);
	/* off removes $meta */
	ck_assert_int_eq(fld_schema_set_dynamic(&s, false, &err), 0);
	ck_assert(!s.dynamic);
	ck_assert_int_eq(fld_schema_find(&s, "$meta"), -1);
	ck_assert_uint_eq(s.n, FLD_USER_MAX - 1);
	ck_assert_int_eq(fld_schema_add(&s, "x:INT8", &err), 0);
	fld_schema_fini(&s);

	fld_schema_init(&s);
	ck_assert_uint_eq(s.num_partitions, FLD_NUM_PARTITIONS_DEFAULT);
	ck_assert_int_eq(s.pk, -1);
	ck_assert_int_eq(fld_schema_set_num_partitions(&s, 0, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "num_partitions 0 out of range [1, 1024]");
	ck_assert_int_eq(fld_schema_set_num_partitions(&s, 1025, &err), -EINVAL);
	ck_assert_int_eq(fld_schema_set_num_partitions(&s, 1024, &err), 0);
	ck_assert_uint_eq(s.num_partitions, 1024);
	fld_schema_fini(&s);
}
END_TEST

static void parse_err(const char *text, const char *msg)
{
	struct fld_schema s;
	struct mfs_err err;
	char *p;

	mk(&s, "field=keep:INT8");
	ck_assert_int_eq(fld_schema_parse(&s, text, strlen(text), &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "%s: '%s'", text, err.msg);
	p = print_schema(&s);
	ck_assert_str_eq(p, "field=keep:INT8\n");   /* unchanged */
	free(p);
	fld_schema_fini(&s);
}

START_TEST(test_schema_parse)
{
	struct fld_schema s;
	struct mfs_err err;
	const char *t = "  field=a:INT8\tfield=b:BOOL\r\n\n";

	parse_err("field=x:INT8 bogus=1", "schema: unknown key 'bogus'");
	parse_err("field=x:INT8 junk", "schema: expected key=value, got 'junk'");
	parse_err("enable_dynamic_field=yes", "enable_dynamic_field: expected true or false, got 'yes'");
	parse_err("num_partitions=abc", "num_partitions: expected an integer");
	parse_err("num_partitions=0", "num_partitions 0 out of range");
	parse_err("field=x:INT8 field=x:INT16", "field x: already exists");
	parse_err("field=keep:INT8", "field keep: already exists");
	/* appending */
	mk(&s, "field=z:INT8");
	ck_assert_int_eq(fld_schema_parse(&s, t, strlen(t), &err), 0);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_str_eq(s.f[2].name, "b");
	fld_schema_fini(&s);
}
END_TEST

static void evolve(const char *from, const char *to, int code, const char *msg)
{
	struct fld_schema a, b;
	struct mfs_err err;
	int rc;

	mk(&a, from);
	mk(&b, to);
	mfs_err_clear(&err);
	rc = fld_schema_evolve_check(&a, &b, &err);
	ck_assert_msg(rc == code, "%s -> %s: %d (%s)", from, to, rc, err.msg);
	if (msg)
		ck_assert_msg(strstr(err.msg, msg) != NULL, "%s -> %s: '%s'", from,
			      to, err.msg);
	fld_schema_fini(&a);
	fld_schema_fini(&b);
}

START_TEST(test_evolve)
{
	const char *base = "field=word:VARCHAR(64) field=rank:INT64";

	evolve(base, base, 0, NULL);
	evolve(base, "field=word:VARCHAR(64) field=rank:INT64 field=n:INT8:nullable", 0, NULL);
	evolve(base, "field=word:VARCHAR(64) field=rank:INT64 field=n:INT8:default=3", 0, NULL);
	evolve(base, "field=word:VARCHAR(64) field=rank:INT64 enable_dynamic_field=true", 0, NULL);
	evolve("", "field=n:INT8:nullable", 0, NULL);
	evolve(base, "field=word:VARCHAR(64) field=rank:INT64 field=n:INT8", -EBUSY,
	       "field n: a field added to a collection with data must be nullable or have a default");
	evolve(base, "field=word:VARCHAR(65) field=rank:INT64", -EBUSY,
	       "field word: cannot change a field once the collection has data");
	evolve(base, "field=rank:INT64 field=word:VARCHAR(64)", -EBUSY,
	       "field word: cannot change a field");
	evolve(base, "field=word:VARCHAR(64)", -EBUSY,
	       "field rank: cannot remove a field once the collection has data");
	evolve(base, "field=word:VARCHAR(64):nullable field=rank:INT64", -EBUSY,
	       "field word: cannot change");
	evolve("field=r:INT64:default=1", "field=r:INT64:default=2", -EBUSY,
	       "field r: cannot change");
	evolve("field=a:INT8 enable_dynamic_field=true", "field=a:INT8", -EBUSY,
	       "enable_dynamic_field: cannot turn off the dynamic field");
	evolve("field=a:INT8 enable_dynamic_field=true",
	       "field=a:INT8 field=b:INT8:nullable enable_dynamic_field=true", 0, NULL);
	evolve("field=a:INT8 enable_dynamic_field=true field=b:INT8:nullable",
	       "field=a:INT8 field=b:INT8:nullable enable_dynamic_field=true", 0, NULL);
	evolve("field=a:INT8 field=b:INT8:nullable", "field=a:INT8 enable_dynamic_field=true",
	       -EBUSY, "field b: cannot remove a field");
	evolve(base, "field=word:VARCHAR(64) field=rank:INT64 field=p:INT64:default=1:partition_key",
	       -EBUSY, "field p: a partition key cannot be added to a collection with data");
	evolve("field=p:INT64:partition_key num_partitions=4",
	       "field=p:INT64:partition_key num_partitions=5", -EBUSY,
	       "num_partitions: cannot change from 4 to 5");
}
END_TEST

/* ---- rows ---- */

START_TEST(test_row_types)
{
	const char *sch = "field=b:BOOL field=i8:INT8 field=i16:INT16 field=i32:INT32 "
		"field=i64:INT64 field=f:FLOAT field=d:DOUBLE field=w:VARCHAR(16) "
		"field=j:JSON field=a:ARRAY(INT16,4) field=af:ARRAY(FLOAT,3) "
		"field=ad:ARRAY(DOUBLE,2) field=ab:ARRAY(BOOL,2) field=aw:ARRAY(VARCHAR(4),2)";
	struct fld_schema s;
	struct mfs_buf row;
	struct mfs_err err;
	struct fld_value v;

	expect_row(sch,
		   "{\"b\":true,\"i8\":-128,\"i16\":32767,\"i32\":-2147483648,"
		   "\"i64\":-9223372036854775808,\"f\":0.1,\"d\":0.1,\"w\":\"pi\\\"a\\u00e9\\n\","
		   "\"j\":{\"x\":[1,2.5,1.0,\"s\",null,true,{}],\"y\":1e300},"
		   "\"a\":[1,-2],\"af\":[0.1,3,1e-3],\"ad\":[0.1,2],\"ab\":[true,false],"
		   "\"aw\":[\"ab\",\"\"]}",
		   ",\"b\":true,\"i8\":-128,\"i16\":32767,\"i32\":-2147483648,"
		   "\"i64\":-9223372036854775808,\"f\":0.1,\"d\":0.1,\"w\":\"pi\\\"a\xc3\xa9\\n\","
		   "\"j\":{\"x\":[1,2.5,1.0,\"s\",null,true,{}],\"y\":1e+300},"
		   "\"a\":[1,-2],\"af\":[0.1,3,0.001],\"ad\":[0.1,2],\"ab\":[true,false],"
		   "\"aw\":[\"ab\",\"\"]");
	mk(&s, sch);
	mfs_buf_init(&row, SIZE_MAX);
	ck_assert_int_eq(enc(&row, &s, "{\"b\":false,\"i8\":7,\"i16\":-7,\"i32\":70000,"
			     "\"i64\":9007199254740993,\"f\":16777217,\"d\":-1.5e-300,"
			     "\"w\":\"\",\"j\":\"str\",\"a\":[],\"af\":[],\"ad\":[],\"ab\":[],"
			     "\"aw\":[]}", &err), 0);
	ck_assert_int_eq(fld_row_check(&s, row.data, row.len), 0);
	fld_row_get(&s, row.data, row.len, 0, &v);
	ck_assert(v.type == FLD_BOOL && v.i == 0);
	fld_row_get(&s, row.data, row.len, 3, &v);
	ck_assert(v.type == FLD_INT32 && v.i == 70000);
	fld_row_get(&s, row.data, row.len, 4, &v);
	ck_assert(v.type == FLD_INT64 && v.i == 9007199254740993ll);
	fld_row_get(&s, row.data, row.len, 5, &v);
	ck_assert(v.type == FLD_FLOAT && v.d == 16777216.0);
	fld_row_get(&s, row.data, row.len, 6, &v);
	ck_assert(v.type == FLD_DOUBLE && v.d == -1.5e-300);
	fld_row_get(&s, row.data, row.len, 7, &v);
	ck_assert(v.type == FLD_VARCHAR && v.len == 0);
	fld_row_get(&s, row.data, row.len, 8, &v);
	ck_assert(v.type == FLD_JSON && v.len == 5 && memcmp(v.s, "\"str\"", 5) == 0);
	fld_row_get(&s, row.data, row.len, 9, &v);
	ck_assert(v.type == FLD_ARRAY && v.len == 2 && memcmp(v.s, "[]", 2) == 0);
	mfs_buf_fini(&row);
	fld_schema_fini(&s);
}
END_TEST

START_TEST(test_row_json_exact)
{
	expect_row("field=f:FLOAT field=d:DOUBLE",
		   "{\"f\":0.3,\"d\":0.3}", ",\"f\":0.3,\"d\":0.3");
	expect_row("field=f:FLOAT field=d:DOUBLE",
		   "{\"f\":3.4028234663852886e38,\"d\":1.7976931348623157e308}",
		   ",\"f\":3.4028235e+38,\"d\":1.7976931348623157e+308");
	expect_row("field=f:FLOAT field=d:DOUBLE",
		   "{\"f\":-0.0,\"d\":-0.0}", ",\"f\":-0.0,\"d\":-0.0");
	expect_row("field=f:FLOAT field=d:DOUBLE",
		   "{\"f\":-0,\"d\":0.1234567890123}", ",\"f\":0,\"d\":0.1234567890123");
	expect_row("field=f:FLOAT field=d:DOUBLE",
		   "{\"f\":1e-45,\"d\":5e-324}", ",\"f\":1e-45,\"d\":5e-324");
	expect_row("field=f:FLOAT field=d:DOUBLE", "{\"f\":1520,\"d\":1e20}",
		   ",\"f\":1520,\"d\":1e+20");
	expect_row("field=w:VARCHAR(20)", "{\"w\":\"\\u0001\\t\\\\/\"}",
		   ",\"w\":\"\\u0001\\t\\\\/\"");
	expect_row("field=word:VARCHAR(10) field=rank:INT64 field=note:VARCHAR(9):nullable",
		   "{\"word\":\"piano\",\"rank\":1520}",
		   ",\"word\":\"piano\",\"rank\":1520,\"note\":null");
	/* dynamic keys flattened, in input order; id/vector/partition skipped */
	expect_row("field=word:VARCHAR(10) enable_dynamic_field=true",
		   "{\"id\":3,\"zeta\":[1,{\"q\":null}],\"word\":\"x\",\"vector\":[1,2],"
		   "\"partition\":\"p\",\"alpha\":0.5}",
		   ",\"word\":\"x\",\"zeta\":[1,{\"q\":null}],\"alpha\":0.5");
	expect_row("field=word:VARCHAR(10) enable_dynamic_field=true",
		   "{\"word\":\"x\"}", ",\"word\":\"x\"");
	/* defaults and nulls */
	expect_row("field=a:INT8:default=5 field=b:INT8:nullable field=c:INT8:nullable:default=6 "
		   "field=w:VARCHAR(5):default=hi",
		   "{\"a\":null,\"c\":null}", ",\"a\":5,\"b\":null,\"c\":6,\"w\":\"hi\"");
	expect_row("field=a:INT8:default=5 field=b:INT8:nullable", "{\"a\":1,\"b\":2}",
		   ",\"a\":1,\"b\":2");
	expect_row("field=j:JSON:nullable field=a:ARRAY(INT8,2):nullable", "{\"j\":null}",
		   ",\"j\":null,\"a\":null");
	expect_row("", "{\"id\":1}", "");
}
END_TEST

START_TEST(test_row_errors)
{
	char big[FLD_JSON_MAX + 64];

	expect_row_err("field=a:INT8", "{\"a\":1,\"foo\":2}", "line 7: field foo not exist");
	expect_row_err("field=a:INT8", "{\"foo\":2,\"a\":1}", "line 7: field foo not exist");
	expect_row_err("field=a:INT8 enable_dynamic_field=true", "{\"a\":1,\"$meta\":{}}",
		       "line 7: key $meta is reserved for the dynamic field");
	expect_row_err("field=rank:INT64", "{}", "line 7: field rank: missing value (expected INT64)");
	expect_row_err("field=rank:INT64", "{\"rank\":null}", "line 7: field rank: expected INT64, got null");
	expect_row_err("field=rank:INT64", "{\"rank\":\"1\"}", "line 7: field rank: expected INT64, got string");
	expect_row_err("field=rank:INT64", "{\"rank\":1.0}", "line 7: field rank: expected INT64, got real");
	expect_row_err("field=rank:INT64", "{\"rank\":true}", "field rank: expected INT64, got bool");
	expect_row_err("field=age:INT8", "{\"age\":300}", "line 7: field age: value 300 out of range for INT8");
	expect_row_err("field=age:INT8", "{\"age\":-129}", "value -129 out of range for INT8");
	expect_row_err("field=age:INT16", "{\"age\":32768}", "value 32768 out of range for INT16");
	expect_row_err("field=age:INT16", "{\"age\":-32769}", "value -32769 out of range for INT16");
	expect_row_err("field=age:INT32", "{\"age\":2147483648}", "value 2147483648 out of range for INT32");
	expect_row_err("field=age:INT32", "{\"age\":-2147483649}", "out of range for INT32");
	expect_row_err("field=b:BOOL", "{\"b\":0}", "field b: expected BOOL, got integer");
	expect_row_err("field=f:FLOAT", "{\"f\":1e39}", "field f: value 1e+39 out of range for FLOAT");
	expect_row_err("field=f:FLOAT", "{\"f\":-3.5e38}", "out of range for FLOAT");
	expect_row_err("field=f:FLOAT", "{\"f\":\"1\"}", "field f: expected FLOAT, got string");
	expect_row_err("field=d:DOUBLE", "{\"d\":[]}", "field d: expected DOUBLE, got array");
	expect_row_err("field=word:VARCHAR(4)", "{\"word\":\"abcde\"}",
		       "line 7: field word: length 5 exceeds max_length 4");
	expect_row_err("field=word:VARCHAR(4)", "{\"word\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}",
		       "length 6 exceeds max_length 4");
	expect_row_err("field=word:VARCHAR(4)", "{\"word\":5}",
		       "field word: expected VARCHAR(4), got integer");
	expect_row_err("field=t:ARRAY(INT8,2)", "{\"t\":[1,2,3]}",
		       "line 7: field t: 3 elements exceed max_capacity 2");
	expect_row_err("field=t:ARRAY(INT8,2)", "{\"t\":{}}",
		       "field t: expected ARRAY(INT8,2), got object");
	expect_row_err("field=t:ARRAY(INT8,2)", "{\"t\":[1,\"x\"]}",
		       "line 7: field t[1]: expected INT8, got string");
	expect_row_err("field=t:ARRAY(INT8,2)", "{\"t\":[1,200]}",
		       "field t[1]: value 200 out of range for INT8");
	expect_row_err("field=t:ARRAY(INT8,2)", "{\"t\":[null]}", "field t[0]: expected INT8, got null");
	expect_row_err("field=t:ARRAY(VARCHAR(2),2)", "{\"t\":[\"abc\"]}",
		       "field t[0]: length 3 exceeds max_length 2");
	expect_row_err("field=t:ARRAY(VARCHAR(2),2)", "{\"t\":[1]}",
		       "field t[0]: expected VARCHAR(2), got integer");
	expect_row_err("field=t:ARRAY(FLOAT,2)", "{\"t\":[1e40]}",
		       "field t[0]: value 1e+40 out of range for FLOAT");
	expect_row_err("field=t:ARRAY(BOOL,2)", "{\"t\":[1]}", "field t[0]: expected BOOL, got integer");
	memset(big, 'x', sizeof(big));
	memcpy(big, "{\"j\":\"", 6);
	strcpy(big + FLD_JSON_MAX + 5, "\"}");   /* a string of 65,535 bytes: 65,537 quoted */
	expect_row_err("field=j:JSON", big, "line 7: field j: JSON value of 65537 bytes exceeds 65536");
	memcpy(big, "{\"k\":\"", 6);
	expect_row_err("field=a:INT8:nullable enable_dynamic_field=true", big,
		       "field $meta: JSON value of 65543 bytes exceeds 65536");
	strcpy(big + FLD_JSON_MAX + 3, "\"}");  /* 65,536 bytes quoted: fits */
	{
		struct fld_schema s;
		struct mfs_buf row;
		struct mfs_err err;

		mk(&s, "field=j:JSON");
		mfs_buf_init(&row, SIZE_MAX);
		memcpy(big, "{\"j\":\"", 6);
		ck_assert_int_eq(enc(&row, &s, big, &err), 0);
		ck_assert_int_eq(fld_row_check(&s, row.data, row.len), 0);
		/* the buffer's cap: -EFBIG, nothing appended */
		mfs_buf_fini(&row);
		mfs_buf_init(&row, 100);
		mfs_buf_append(&row, "ab", 2);
		{
			json_t *o = json_loads(big, 0, NULL);

			ck_assert_int_eq(fld_row_encode(&row, &s, o, NULL, 1, &err), -EFBIG);
			json_decref(o);
		}
		ck_assert_uint_eq(row.len, 2);
		/* not an object */
		{
			json_t *a = json_array();

			ck_assert_int_eq(fld_row_encode(&row, &s, a, NULL, 2, &err), -EINVAL);
			ck_assert_str_eq(err.msg, "line 2: expected a JSON object, got array");
			json_decref(a);
		}
		mfs_buf_fini(&row);
		fld_schema_fini(&s);
	}
}
END_TEST

START_TEST(test_row_default_short)
{
	struct fld_schema s, t;
	struct mfs_buf row, out;
	struct mfs_err err;
	struct fld_value v;

	mk(&s, "field=a:INT64 field=w:VARCHAR(8):default=zz");
	mfs_buf_init(&row, SIZE_MAX);
	mfs_buf_init(&out, SIZE_MAX);
	/* text records: defaults or refusal */
	ck_assert_int_eq(fld_row_default(&row, &s, 4, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "line 4: field a: missing value (expected INT64)");
	ck_assert_uint_eq(row.len, 0);
	fld_schema_fini(&s);
	mk(&s, "field=a:INT64:nullable field=w:VARCHAR(8):default=zz");
	ck_assert_int_eq(fld_row_default(&row, &s, 4, &err), 0);
	ck_assert_int_eq(fld_row_check(&s, row.data, row.len), 0);
	ck_assert_int_eq(fld_row_json(&out, &s, row.data, row.len, NULL), 0);
	ck_assert_str_eq(out.data, ",\"a\":null,\"w\":\"zz\"");
	mfs_buf_reset(&out);

	/* a row written before fields were added: nf < n */
	ck_assert_int_eq(enc(&row, &s, "{\"a\":5,\"w\":\"q\"}", &err), 0);
	mk(&t, "field=a:INT64:nullable field=w:VARCHAR(8):default=zz "
	   "field=x:DOUBLE:default=1.5 field=y:BOOL:nullable enable_dynamic_field=true");
	ck_assert_int_eq(fld_row_check(&t, row.data, row.len), 0);
	fld_row_get(&t, row.data, row.len, 2, &v);
	ck_assert(v.type == FLD_DOUBLE && v.d == 1.5);
	fld_row_get(&t, row.data, row.len, 3, &v);
	ck_assert_int_eq(v.type, FLD_NONE);
	fld_row_get(&t, row.data, row.len, 4, &v);
	ck_assert_int_eq(v.type, FLD_NONE);
	ck_assert_int_eq(fld_row_json(&out, &t, row.data, row.len, NULL), 0);
	ck_assert_str_eq(out.data, ",\"a\":5,\"w\":\"q\",\"x\":1.5,\"y\":null");
	/* want */
	{
		bool want[5] = { false, true, true, false, false };

		mfs_buf_reset(&out);
		ck_assert_int_eq(fld_row_json(&out, &t, row.data, row.len, want), 0);
		ck_assert_str_eq(out.data, ",\"w\":\"q\",\"x\":1.5");
	}
	/* the empty row */
	mfs_buf_reset(&out);
	ck_assert_int_eq(fld_row_check(&t, "", 0), 0);
	ck_assert_int_eq(fld_row_json(&out, &t, "", 0, NULL), 0);
	ck_assert_str_eq(out.data, ",\"a\":null,\"w\":\"zz\",\"x\":1.5,\"y\":null");
	/* a row with more fields than the schema is corrupt */
	ck_assert_int_eq(fld_row_check(&s, row.data, row.len), 0);
	mfs_buf_fini(&row);
	mfs_buf_init(&row, SIZE_MAX);
	ck_assert_int_eq(enc(&row, &t, "{\"a\":1}", &err), 0);
	ck_assert_int_eq(fld_row_check(&s, row.data, row.len), -EIO);
	/* a field added with the name of a stored dynamic key shadows it */
	{
		struct fld_schema u;
		struct fld_cols c;

		fld_schema_fini(&s);
		mk(&s, "field=a:INT8 enable_dynamic_field=true");
		ck_assert_int_eq(enc(&row, &s, "{\"a\":1,\"lang\":\"it\",\"z\":[\"lang\"],"
				     "\"x\":{\"lang\":2}}", &err), 0);
		mk(&u, "field=a:INT8 enable_dynamic_field=true field=lang:VARCHAR(8):nullable");
		mfs_buf_reset(&out);
		ck_assert_int_eq(fld_row_json(&out, &u, row.data, row.len, NULL), 0);
		ck_assert_str_eq(out.data, ",\"a\":1,\"z\":[\"lang\"],\"x\":{\"lang\":2},\"lang\":null");
		ck_assert_int_eq(fld_cols_init(&c, &u), 0);
		ck_assert_int_eq(fld_cols_append(&c, 1, row.data, row.len), 0);
		mfs_buf_reset(&out);
		ck_assert_int_eq(fld_cols_json(&out, &c, 0, NULL), 0);
		ck_assert_str_eq(out.data, ",\"a\":1,\"z\":[\"lang\"],\"x\":{\"lang\":2},\"lang\":null");
		fld_cols_fini(&c);
		fld_schema_fini(&u);
		/* an old row without $meta reads $meta as null */
		mfs_buf_reset(&out);
		ck_assert_int_eq(fld_row_check(&s, "\x01\x00\x00\x07", 4), 0);
		ck_assert_int_eq(fld_row_json(&out, &s, "\x01\x00\x00\x07", 4, NULL), 0);
		ck_assert_str_eq(out.data, ",\"a\":7");
		ck_assert_int_eq(fld_row_check(&s, "\x01\x80\x00\x07", 4), -EIO);
	}
	mfs_buf_fini(&row);
	mfs_buf_fini(&out);
	fld_schema_fini(&s);
	fld_schema_fini(&t);
}
END_TEST

START_TEST(test_row_check)
{
	struct fld_schema s;
	struct mfs_buf row;
	struct mfs_err err;
	uint8_t bad[64];

	mk(&s, "field=b:BOOL field=w:VARCHAR(8) field=n:INT32:nullable field=j:JSON");
	mfs_buf_init(&row, SIZE_MAX);
	ck_assert_int_eq(enc(&row, &s, "{\"b\":true,\"w\":\"abc\",\"j\":[1]}", &err), 0);
	ck_assert_int_eq(fld_row_check(&s, row.data, row.len), 0);
	/* every truncation and an extra byte are corrupt */
	for (size_t k = 1; k < row.len; k++)
		ck_assert_int_eq(fld_row_check(&s, row.data, k), -EIO);
	memcpy(bad, row.data, row.len);
	bad[row.len] = 0;
	ck_assert_int_eq(fld_row_check(&s, bad, row.len + 1), -EIO);
	/* a BOOL byte other than 0/1 */
	memcpy(bad, row.data, row.len);
	bad[3] = 2;
	ck_assert_int_eq(fld_row_check(&s, bad, row.len), -EIO);
	/* a string length past the end */
	memcpy(bad, row.data, row.len);
	bad[4] = 200;
	ck_assert_int_eq(fld_row_check(&s, bad, row.len), -EIO);
	mfs_buf_fini(&row);
	fld_schema_fini(&s);
}
END_TEST

START_TEST(test_value_hash)
{
	struct fld_value a = { .type = FLD_INT64, .i = 1 };
	struct fld_value b = { .type = FLD_INT64, .i = 2 };
	struct fld_value w = { .type = FLD_VARCHAR, .s = "piano", .len = 5 };
	struct fld_value e = { .type = FLD_VARCHAR, .s = "", .len = 0 };
	size_t buckets[16] = { 0 };

	/* stable across versions: these values route entities */
	ck_assert_uint_eq(fld_value_hash(&a), fld_value_hash(&a));
	ck_assert_uint_ne(fld_value_hash(&a), fld_value_hash(&b));
	ck_assert_uint_ne(fld_value_hash(&w), fld_value_hash(&e));
	ck_assert_uint_eq(fld_value_hash(&a), 0x4a3a3a4ba6523826ull);
	ck_assert_uint_eq(fld_value_hash(&w), 0x7a2db7c3c9894aeaull);
	ck_assert_uint_eq(fld_value_hash(&e), 0xefd01f60ba992926ull);
	for (int64_t i = 0; i < 16000; i++) {
		struct fld_value v = { .type = FLD_INT64, .i = i };

		buckets[fld_value_hash(&v) % 16]++;
	}
	for (int k = 0; k < 16; k++)
		ck_assert_msg(buckets[k] > 800 && buckets[k] < 1200, "bucket %d: %zu", k,
			      buckets[k]);
}
END_TEST

/* ---- columns ---- */

START_TEST(test_cols)
{
	struct fld_schema s;
	struct fld_cols c;
	struct mfs_buf row, a, b;
	struct mfs_err err;
	struct fld_value v;
	size_t bytes0;
	const char *rows[] = {
		"{\"w\":\"piano\",\"r\":5,\"f\":0.5,\"m\":{\"k\":[1,2.0]},\"t\":[\"a\",\"b\"],\"x\":1}",
		"{\"w\":\"\",\"r\":-1,\"f\":null,\"m\":null,\"t\":[]}",
		"{\"w\":\"drum\\u00e9\",\"r\":9,\"t\":[\"c\"],\"y\":\"s\"}",
	};

	mk(&s, "field=w:VARCHAR(16) field=r:INT64 field=f:FLOAT:nullable "
	   "field=m:JSON:nullable field=t:ARRAY(VARCHAR(4),4) enable_dynamic_field=true");
	ck_assert_int_eq(fld_cols_init(&c, &s), 0);
	ck_assert(c.id_sorted);
	ck_assert_uint_eq(c.n, 0);
	bytes0 = c.bytes;
	ck_assert_uint_gt(bytes0, 0);
	mfs_buf_init(&row, SIZE_MAX);
	mfs_buf_init(&a, SIZE_MAX);
	mfs_buf_init(&b, SIZE_MAX);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(enc(&row, &s, rows[i], &err), 0);
		ck_assert_int_eq(fld_cols_append(&c, 10 * (i + 1), row.data, row.len), 0);
		/* the columns print as the row does */
		mfs_buf_reset(&a);
		mfs_buf_reset(&b);
		ck_assert_int_eq(fld_row_json(&a, &s, row.data, row.len, NULL), 0);
		ck_assert_int_eq(fld_cols_json(&b, &c, (size_t)i, NULL), 0);
		ck_assert_str_eq(a.data, b.data);
	}
	ck_assert_str_eq(b.data, ",\"w\":\"drum\xc3\xa9\",\"r\":9,\"f\":null,\"m\":null,"
			 "\"t\":[\"c\"],\"y\":\"s\"");
	mfs_buf_reset(&b);
	ck_assert_int_eq(fld_cols_json(&b, &c, 0, NULL), 0);
	ck_assert_str_eq(b.data, ",\"w\":\"piano\",\"r\":5,\"f\":0.5,\"m\":{\"k\":[1,2.0]},"
			 "\"t\":[\"a\",\"b\"],\"x\":1");
	{
		bool want[6] = { false, true, false, false, false, true };

		mfs_buf_reset(&b);
		ck_assert_int_eq(fld_cols_json(&b, &c, 0, want), 0);
		ck_assert_str_eq(b.data, ",\"r\":5,\"x\":1");
	}
	ck_assert_uint_eq(c.n, 3);
	ck_assert(c.id_sorted);
	ck_assert_uint_gt(c.bytes, bytes0);
	fld_cols_get(&c, 0, 0, &v);
	ck_assert(v.type == FLD_VARCHAR && v.len == 5 && memcmp(v.s, "piano", 5) == 0);
	fld_cols_get(&c, 1, 0, &v);
	ck_assert(v.type == FLD_VARCHAR && v.len == 0);
	fld_cols_get(&c, 2, 1, &v);
	ck_assert(v.type == FLD_INT64 && v.i == 9);
	fld_cols_get(&c, 0, 2, &v);
	ck_assert(v.type == FLD_FLOAT && v.d == 0.5);
	fld_cols_get(&c, 1, 2, &v);
	ck_assert_int_eq(v.type, FLD_NONE);
	fld_cols_get(&c, 0, 3, &v);
	ck_assert(v.type == FLD_JSON && json_is_object(v.json));
	fld_cols_get(&c, 1, 3, &v);
	ck_assert(v.type == FLD_NONE && v.json == NULL);
	fld_cols_get(&c, 0, 4, &v);
	ck_assert(v.type == FLD_ARRAY && json_array_size(v.json) == 2);
	fld_cols_get(&c, 2, 5, &v);
	ck_assert(v.type == FLD_JSON && json_is_string(json_object_get(v.json, "y")));

	/* find, delete, epochs, visibility */
	ck_assert_int_eq(fld_cols_find(&c, 20), 1);
	ck_assert_int_eq(fld_cols_find(&c, 21), -1);
	{
		uint32_t e1 = fld_cols_new_epoch(&c), e2;

		ck_assert_uint_eq(e1, 1);
		ck_assert(fld_cols_delete(&c, 20, e1));
		ck_assert(!fld_cols_delete(&c, 20, e1));
		ck_assert(!fld_cols_delete(&c, 99, e1));
		ck_assert_int_eq(fld_cols_find(&c, 20), -1);
		ck_assert(fld_cols_visible(&c, 1, 0));          /* a reader before */
		ck_assert(!fld_cols_visible(&c, 1, e1));
		ck_assert(fld_cols_visible(&c, 0, e1));
		e2 = fld_cols_new_epoch(&c);
		ck_assert_uint_eq(e2, 2);
		/* upsert: a new row for the same id */
		ck_assert_int_eq(enc(&row, &s, rows[1], &err), 0);
		ck_assert_int_eq(fld_cols_append(&c, 20, row.data, row.len), 0);
		ck_assert_int_eq(fld_cols_find(&c, 20), 3);
		ck_assert(!c.id_sorted);
		ck_assert(fld_cols_delete(&c, 10, e2));
		ck_assert(fld_cols_visible(&c, 0, e1));
		ck_assert(!fld_cols_visible(&c, 0, e2));
	}
	fld_cols_fini(&c);

	/* an empty schema: ids only */
	{
		struct fld_schema e;

		fld_schema_init(&e);
		ck_assert_int_eq(fld_cols_init(&c, &e), 0);
		ck_assert_int_eq(fld_cols_append(&c, 5, "", 0), 0);
		ck_assert_int_eq(fld_cols_append(&c, 5, "", 0), 0);
		ck_assert(!c.id_sorted);        /* strictly ascending */
		ck_assert_int_eq(fld_cols_find(&c, 5), 1);
		mfs_buf_reset(&b);
		ck_assert_int_eq(fld_cols_json(&b, &c, 0, NULL), 0);
		ck_assert_uint_eq(b.len, 0);
		fld_cols_fini(&c);
	}
	mfs_buf_fini(&row);
	mfs_buf_fini(&a);
	mfs_buf_fini(&b);
	fld_schema_fini(&s);
}
END_TEST

/* The live rows copied into new columns (a partition's columns after many
 * deletes): the same values, JSON shared, dead rows and upserted-over rows
 * gone, ids found at their new rows. */
START_TEST(test_cols_copy_live)
{
	struct fld_schema s;
	struct fld_cols c, d;
	struct mfs_buf row, a, b;
	struct mfs_err err;
	struct fld_value v, w;
	enum { N = 300 };
	uint32_t ep;

	mk(&s, "field=w:VARCHAR(16):nullable field=r:INT64 field=m:JSON:nullable "
	   "field=t:ARRAY(INT32,4) enable_dynamic_field=true");
	mfs_buf_init(&row, SIZE_MAX);
	mfs_buf_init(&a, SIZE_MAX);
	mfs_buf_init(&b, SIZE_MAX);
	ck_assert_int_eq(fld_cols_init(&c, &s), 0);
	for (int i = 0; i < N; i++) {
		char j[160];

		if (i % 4 == 0)
			snprintf(j, sizeof(j), "{\"r\":%d,\"t\":[%d],\"z\":%d}", i, i, i);
		else
			snprintf(j, sizeof(j), "{\"w\":\"w%d\",\"r\":%d,"
				 "\"m\":{\"k\":[%d,\"x\"]},\"t\":[1,%d]}", i, i, i, i);
		ck_assert_int_eq(enc(&row, &s, j, &err), 0);
		ck_assert_int_eq(fld_cols_append(&c, 1000 + i, row.data, row.len), 0);
	}
	ep = fld_cols_new_epoch(&c);
	for (int i = 0; i < N; i++)
		if (i % 3 == 0)
			ck_assert(fld_cols_delete(&c, 1000 + i, ep));
	/* an upsert of id 1001: its old row dies, a new one comes last */
	ck_assert(fld_cols_delete(&c, 1001, fld_cols_new_epoch(&c)));
	ck_assert_int_eq(enc(&row, &s, "{\"w\":\"new\",\"r\":-1,\"t\":[]}", &err), 0);
	ck_assert_int_eq(fld_cols_append(&c, 1001, row.data, row.len), 0);
	ck_assert_uint_eq(c.n, N + 1);
	ck_assert_uint_eq(fld_cols_live(&c), N - N / 3);

	ck_assert_int_eq(fld_cols_init(&d, &s), 0);
	ck_assert_int_eq(fld_cols_copy_live(&d, &c), 0);
	ck_assert_uint_eq(d.n, N - N / 3);
	ck_assert_uint_eq(fld_cols_live(&d), d.n);
	ck_assert(!d.id_sorted);        /* 1001 comes last */
	ck_assert_uint_lt(d.bytes, c.bytes);
	for (size_t r = 0, k = 0; r < c.n; r++) {
		if (c.dead_at[r])
			continue;
		ck_assert_int_eq(d.ids[k], c.ids[r]);
		ck_assert_uint_eq(d.dead_at[k], 0);
		ck_assert_int_eq(fld_cols_find(&d, c.ids[r]), (ptrdiff_t)k);
		mfs_buf_reset(&a);
		mfs_buf_reset(&b);
		ck_assert_int_eq(fld_cols_json(&a, &c, r, NULL), 0);
		ck_assert_int_eq(fld_cols_json(&b, &d, k, NULL), 0);
		ck_assert_str_eq(a.data, b.data);
		fld_cols_get(&c, r, 2, &v);
		fld_cols_get(&d, k, 2, &w);
		ck_assert(v.json == w.json);    /* shared, not parsed again */
		k++;
	}
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(fld_cols_find(&d, 1000 + i) < 0, i % 3 == 0);
	fld_cols_get(&d, d.n - 1, 0, &v);
	ck_assert(v.type == FLD_VARCHAR && v.len == 3 && memcmp(v.s, "new", 3) == 0);
	/* the copy outlives the original's JSON references */
	fld_cols_fini(&c);
	mfs_buf_reset(&b);
	ck_assert_int_eq(fld_cols_json(&b, &d, 0, NULL), 0);
	ck_assert_str_eq(b.data, ",\"w\":\"w2\",\"r\":2,\"m\":{\"k\":[2,\"x\"]},\"t\":[1,2]");
	fld_cols_fini(&d);
	mfs_buf_fini(&row);
	mfs_buf_fini(&a);
	mfs_buf_fini(&b);
	fld_schema_fini(&s);
}
END_TEST

START_TEST(test_cols_many)
{
	struct fld_schema s, t;
	struct fld_cols c;
	struct mfs_buf row;
	struct mfs_err err;
	enum { N = 20000 };
	uint32_t ep;

	mk(&s, "field=r:INT32 field=w:VARCHAR(12):nullable field=d:DOUBLE:default=2");
	mfs_buf_init(&row, SIZE_MAX);
	ck_assert_int_eq(fld_cols_init(&c, &s), 0);
	for (int i = 0; i < N; i++) {
		char j[96];

		if (i % 3)
			snprintf(j, sizeof(j), "{\"r\":%d,\"w\":\"w%d\"}", i, i);
		else
			snprintf(j, sizeof(j), "{\"r\":%d,\"d\":%d.5}", i, i);
		ck_assert_int_eq(enc(&row, &s, j, &err), 0);
		ck_assert_int_eq(fld_cols_append(&c, (int64_t)i * 7 - 1000, row.data, row.len), 0);
	}
	ck_assert(c.id_sorted);
	ck_assert_uint_ge(c.cap, N);
	ck_assert_uint_gt(c.bytes, (size_t)N * 30);
	ep = fld_cols_new_epoch(&c);
	for (int i = 0; i < N; i += 2)
		ck_assert(fld_cols_delete(&c, (int64_t)i * 7 - 1000, ep));
	for (int i = 0; i < N; i++) {
		struct fld_value v;
		ptrdiff_t r = fld_cols_find(&c, (int64_t)i * 7 - 1000);

		ck_assert_int_eq(r, i % 2 ? i : -1);
		ck_assert_int_eq(fld_cols_visible(&c, (size_t)i, ep), i % 2);
		fld_cols_get(&c, (size_t)i, 0, &v);
		ck_assert_int_eq(v.i, i);
		fld_cols_get(&c, (size_t)i, 1, &v);
		if (i % 3) {
			char w[16];

			snprintf(w, sizeof(w), "w%d", i);
			ck_assert(v.type == FLD_VARCHAR && v.len == strlen(w) &&
				  memcmp(v.s, w, v.len) == 0);
		} else {
			ck_assert_int_eq(v.type, FLD_NONE);
		}
		fld_cols_get(&c, (size_t)i, 2, &v);
		ck_assert(v.d == (i % 3 ? 2.0 : i + 0.5));
	}
	/* rows of an older schema in columns of a newer one */
	fld_cols_fini(&c);
	mk(&t, "field=r:INT32 field=w:VARCHAR(12):nullable field=d:DOUBLE:default=2 "
	   "field=z:INT8:default=4");
	ck_assert_int_eq(fld_cols_init(&c, &t), 0);
	ck_assert_int_eq(fld_cols_append(&c, 1, row.data, row.len), 0);
	{
		struct fld_value v;

		fld_cols_get(&c, 0, 3, &v);
		ck_assert(v.type == FLD_INT8 && v.i == 4);
	}
	fld_cols_fini(&c);
	mfs_buf_fini(&row);
	fld_schema_fini(&s);
	fld_schema_fini(&t);
}
END_TEST

/* ---- JSON lines (fmt) ---- */

static const char words_schema[] =
	"field=word:VARCHAR(64) field=rank:INT64 field=len:INT32:default=0 "
	"field=tags:ARRAY(VARCHAR(16),8):nullable field=meta:JSON:nullable";

static int jp(struct fmt_batch *b, const struct fld_schema *s, const char *t,
	      bool final, size_t *used, struct mfs_err *err)
{
	size_t u = (size_t)-1;
	int rc;

	mfs_err_clear(err);
	rc = fmt_jsonl_parse(t, strlen(t), 1, final, s, b, &u, err);
	if (used)
		*used = u;
	return rc;
}

static char *rec_text(const struct fmt_batch *b, const struct fld_schema *s,
		      size_t i)
{
	struct mfs_buf out;
	size_t r0 = i ? b->row_end[i - 1] : 0;

	mfs_buf_init(&out, SIZE_MAX);
	ck_assert_int_eq(fld_row_check(s, b->rows + r0, b->row_end[i] - r0), 0);
	ck_assert_int_eq(fld_row_json(&out, s, b->rows + r0, b->row_end[i] - r0, NULL), 0);
	return mfs_buf_take(&out, NULL);
}

START_TEST(test_jsonl_basic)
{
	struct fld_schema s;
	struct fmt_batch b;
	struct mfs_err err;
	size_t used;
	char *t;
	const char *in =
		"{\"id\": 7, \"vector\": [0.1, 0.2, 0.3], \"word\": \"piano\", \"rank\": 1520,"
		" \"tags\": [\"music\"], \"meta\": {\"pos\": \"noun\"}}\n"
		"\n"
		"{\"vector\":[1,2,3],\"id\":-8,\"partition\":\"p\",\"word\":\"x\",\"rank\":1,\"len\":3}\r\n"
		"  {\"word\": \"y\", \"rank\": 2, \"vector\": [4e0, -5, 6.5E-1]}  \n"
		"{\"id\":9,\"vector\":[1,1,1],\"word\":\"z\",\"rank\":3}";

	mk(&s, words_schema);
	fmt_batch_init(&b, VEC_FLOAT, 0);
	ck_assert_int_eq(jp(&b, &s, in, false, &used, &err), 0);
	ck_assert_uint_eq(b.n, 3);
	ck_assert_uint_eq(used, strlen(in) - strlen("{\"id\":9,\"vector\":[1,1,1],\"word\":\"z\",\"rank\":3}"));
	ck_assert_uint_eq(b.dim, 3);
	ck_assert(b.has_id[0] && b.ids[0] == 7);
	ck_assert(b.has_id[1] && b.ids[1] == -8);
	ck_assert(!b.has_id[2] && b.ids[2] == 0);
	ck_assert_uint_eq(b.line[0], 1);
	ck_assert_uint_eq(b.line[1], 3);
	ck_assert_uint_eq(b.line[2], 4);
	{
		float f[9];

		memcpy(f, b.vecs, sizeof(f));
		ck_assert(f[0] == 0.1f && f[2] == 0.3f && f[5] == 3.0f);
		ck_assert(f[6] == 4.0f && f[7] == -5.0f && f[8] == 0.65f);
	}
	t = rec_text(&b, &s, 0);
	ck_assert_str_eq(t, ",\"word\":\"piano\",\"rank\":1520,\"len\":0,\"tags\":[\"music\"],"
			 "\"meta\":{\"pos\":\"noun\"}");
	free(t);
	t = rec_text(&b, &s, 1);
	ck_assert_str_eq(t, ",\"word\":\"x\",\"rank\":1,\"len\":3,\"tags\":null,\"meta\":null");
	free(t);
	/* final takes the partial line */
	ck_assert_int_eq(jp(&b, &s, in + used, true, &used, &err), 0);
	ck_assert_uint_eq(b.n, 4);
	ck_assert_int_eq(b.ids[3], 9);
	t = rec_text(&b, &s, 3);
	ck_assert_str_eq(t, ",\"word\":\"z\",\"rank\":3,\"len\":0,\"tags\":null,\"meta\":null");
	free(t);
	fmt_batch_reset(&b);
	ck_assert(b.row_end == NULL);
	ck_assert_uint_eq(b.rows_len, 0);
	fmt_batch_fini(&b);
	fld_schema_fini(&s);
}
END_TEST

START_TEST(test_jsonl_mixed)
{
	struct fld_schema s;
	struct fmt_batch b;
	struct mfs_err err;
	size_t used;
	char *t;
	const char *in =
		"1 2 3\n"
		"42\t4,5,6\n"
		"{\"id\":1,\"vector\":[7,8,9],\"a\":5}\n"
		"[1,1,1]\n"
		"{\"vector\":[7,8,9]}\n"
		"3 3 3";

	mk(&s, "field=a:INT8:default=2 field=n:VARCHAR(3):nullable");
	fmt_batch_init(&b, VEC_FLOAT, 0);
	ck_assert_int_eq(jp(&b, &s, in, true, &used, &err), 0);
	ck_assert_uint_eq(used, strlen(in));
	ck_assert_uint_eq(b.n, 6);
	ck_assert(!b.has_id[0] && b.has_id[1] && b.ids[1] == 42 && b.has_id[2]);
	for (size_t i = 0; i < 6; i++) {
		t = rec_text(&b, &s, i);
		ck_assert_str_eq(t, i == 2 ? ",\"a\":5,\"n\":null" : ",\"a\":2,\"n\":null");
		free(t);
		ck_assert_uint_eq(b.line[i], i + 1);
	}
	/* a batch with records from fmt_text_parse gets empty rows for them */
	fmt_batch_reset(&b);
	ck_assert_int_eq(fmt_text_parse("1 2 3\n", 6, 1, false, &b, &used, &err), 0);
	ck_assert(b.row_end == NULL);
	ck_assert_int_eq(jp(&b, &s, "{\"vector\":[1,2,3],\"a\":1}\n", false, &used, &err), 0);
	ck_assert_uint_eq(b.n, 2);
	ck_assert_uint_eq(b.row_end[0], 0);
	ck_assert_uint_gt(b.row_end[1], 0);
	fmt_batch_fini(&b);

	/* text records need every field nullable or defaulted */
	fld_schema_fini(&s);
	mk(&s, "field=a:INT8");
	fmt_batch_init(&b, VEC_FLOAT, 0);
	ck_assert_int_eq(jp(&b, &s, "{\"vector\":[1,2],\"a\":1}\n\n0.5 0.5\n", false, &used, &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "line 3: field a: missing value (expected INT8)");
	ck_assert_uint_eq(b.n, 0);
	ck_assert_uint_eq(b.dim, 0);
	ck_assert_uint_eq(b.rows_len, 0);
	fmt_batch_fini(&b);
	fld_schema_fini(&s);
}
END_TEST

static void jsonl_err(const char *schema, enum vec_type vt, uint32_t dim,
		      const char *in, const char *msg)
{
	struct fld_schema s;
	struct fmt_batch b;
	struct mfs_err err;
	size_t used = 12345, rows0;

	mk(&s, schema);
	fmt_batch_init(&b, vt, dim);
	/* something already in the batch: all or nothing keeps it */
	ck_assert_int_eq(jp(&b, &s, vt == VEC_BINARY ?
			    "{\"vector\":\"ff\",\"a\":1}\n" :
			    "{\"vector\":[1,2,3],\"a\":1}\n", false, &used, &err), 0);
	ck_assert_uint_eq(b.n, 1);
	rows0 = b.rows_len;
	if (!dim)
		b.dim = 0, b.n = 0, b.rows_len = rows0 = 0;
	used = 12345;
	mfs_err_clear(&err);
	ck_assert_int_eq(fmt_jsonl_parse(in, strlen(in), 1, true, &s, &b, &used, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "%s: message '%s', want '%s'",
		      in, err.msg, msg);
	ck_assert(!strchr(err.msg, '\n'));
	ck_assert_uint_eq(used, 12345);
	ck_assert_uint_eq(b.n, dim ? 1 : 0);
	ck_assert_uint_eq(b.dim, dim);
	ck_assert_uint_eq(b.rows_len, rows0);
	/* the reference agrees */
	ck_assert_int_eq(fmt_jsonl_parse_ref(in, strlen(in), 1, true, &s, &b, &used, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "ref %s: message '%s', want '%s'",
		      in, err.msg, msg);
	fmt_batch_fini(&b);
	fld_schema_fini(&s);
}

START_TEST(test_jsonl_errors)
{
	const char *sch = "field=a:INT8:nullable";
	char *longl;

	/* strict JSON */
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"a\":tru}",
		  "line 1: invalid JSON: invalid token near 'tru' at column");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3]}\n{\"vector\":[01,2,3]}",
		  "line 2: invalid JSON: invalid token near '0' at column 12");
	jsonl_err(sch, VEC_FLOAT, 3, "\n\n{\"vector\":[.5,2,3]}", "line 3: invalid JSON:");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],}", "line 1: invalid JSON: string or '}' expected");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3,]}", "line 1: invalid JSON:");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"a\":\"\\x\"}", "invalid JSON: invalid escape");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"a\":\"\xff\"}", "invalid JSON: unable to decode byte 0xff");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"\xc3\":1}", "invalid JSON:");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"a\":1,\"a\":2}", "invalid JSON: duplicate object key");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"vector\":[1,2,3]}", "duplicate object key");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"id\":1,\"vector\":[1,2,3],\"id\":1}", "duplicate object key");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"a\":\"\\u0000\"}", "invalid JSON:");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3]} x", "invalid JSON: end of file expected");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,1e400]}", "invalid JSON: real number overflow");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,99999999999999999999]}", "invalid JSON: too big integer");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,-]}", "invalid JSON:");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,+3]}", "invalid JSON:");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3.]}", "invalid JSON:");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,NaN]}", "invalid JSON:");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3]", "invalid JSON:");
	jsonl_err(sch, VEC_FLOAT, 3, "{'vector':[1,2,3]}", "invalid JSON:");
	/* records */
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2]}", "line 1: expected 3 values, got 2");
	jsonl_err(sch, VEC_FLOAT, 0, "{\"vector\":[1]}", "line 1: expected 2 to 32768 values, got 1");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,1e39]}", "line 1: value 3 out of float32 range");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,\"3\"]}", "line 1: value 3 is not a number");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":\"123\"}", "line 1: expected \"vector\" as [numbers]");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"id\":1}", "line 1: expected a \"vector\" in the JSON record");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"id\":1.5}", "line 1: field id: expected INT64, got float");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"id\":\"x\"}", "field id: expected INT64, got string");
	/* SPEC §8: a value of the wrong type, the id's too: a string that
	 * holds an integer is still a string */
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"id\":\"7\"}", "field id: expected INT64, got string");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"id\":99999999999999999999}",
		  "line 1: invalid JSON");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"id\":null}", "field id: expected INT64, got null");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3],\"b\":1}", "line 1: field b not exist");
	jsonl_err(sch, VEC_FLOAT, 3, "{\"vector\":[1,2,3]}\n{\"vector\":[1,2,3],\"a\":300}",
		  "line 2: field a: value 300 out of range for INT8");
	jsonl_err(sch, VEC_FLOAT, 3, "1 2 3\n{\"vector\":[1,2,3]}\n1 2", "line 3: expected 3 values, got 2");
	jsonl_err(sch, VEC_FLOAT, 3, "1 2 3\n{\"vector\":[1,2,3]}\n1 2 x\n", "line 3: not a number: 'x'");
	/* binary */
	jsonl_err(sch, VEC_BINARY, 8, "{\"vector\":[1,0,2,0,0,0,0,0]}", "line 1: bit 3: expected 0 or 1");
	jsonl_err(sch, VEC_BINARY, 8, "{\"vector\":\"fff\"}", "line 1: expected bits (0/1) or hex digits");
	jsonl_err(sch, VEC_BINARY, 8, "{\"vector\":\"ffff\"}", "line 1: expected 8 bits or 2 hex digits, got 4 digits");
	jsonl_err(sch, VEC_BINARY, 8, "{\"vector\":[1,0]}", "line 1: expected 8 bits, got 2");
	jsonl_err(sch, VEC_BINARY, 0, "{\"vector\":[1,0]}", "line 1: expected a multiple of 8 bits in [8, 32768], got 2");
	jsonl_err(sch, VEC_BINARY, 8, "{\"vector\":1}", "expected \"vector\" as [0, 1, ...] or a hex string");
	/* a long line, also partial */
	longl = malloc(FMT_LINE_MAX + 10);
	memset(longl, ' ', FMT_LINE_MAX + 9);
	longl[0] = '{';
	longl[FMT_LINE_MAX + 9] = '\0';
	jsonl_err(sch, VEC_FLOAT, 3, longl, "line 1: line longer than 1048576 bytes");
	free(longl);
}
END_TEST

START_TEST(test_jsonl_binary_ids)
{
	struct fld_schema s;
	struct fmt_batch b;
	struct mfs_err err;
	size_t used;
	const char *in =
		"{\"id\":9223372036854775807,\"vector\":\"0x0fF0\"}\n"
		"{\"id\":-9223372036854775808,\"vector\":\"1000000000000001\"}\n"
		"{\"id\":5,\"vector\":[1,1,1,1,0,0,0,0,0,0,0,0,1,1,1,1]}\n"
		"{\"id\":-0,\"vector\":\"\\u0030\\u0030ff\"}\n"
		"7\t00ff\n";

	fld_schema_init(&s);
	fmt_batch_init(&b, VEC_BINARY, 0);
	ck_assert_int_eq(jp(&b, &s, in, false, &used, &err), 0);
	ck_assert_uint_eq(b.n, 5);
	ck_assert_uint_eq(b.dim, 16);
	ck_assert_int_eq(b.ids[0], INT64_MAX);
	ck_assert_int_eq(b.ids[1], INT64_MIN);
	ck_assert_int_eq(b.ids[2], 5);
	ck_assert_int_eq(b.ids[3], 0);
	ck_assert_int_eq(b.ids[4], 7);
	ck_assert(b.vecs[0] == 0x0f && b.vecs[1] == 0xf0);
	ck_assert(b.vecs[2] == 0x80 && b.vecs[3] == 0x01);
	ck_assert(b.vecs[4] == 0xf0 && b.vecs[5] == 0x0f);
	ck_assert(b.vecs[6] == 0x00 && b.vecs[7] == 0xff);
	ck_assert(b.vecs[8] == 0x00 && b.vecs[9] == 0xff);
	for (size_t i = 0; i < 5; i++)
		ck_assert_uint_eq(b.row_end[i], 2 * (i + 1));   /* nf 0 rows */
	fmt_batch_fini(&b);
	fld_schema_fini(&s);
}
END_TEST

/* Print every record of b with fmt_entity_jsonl and parse the print: the
 * same ids, vector bytes and row bytes. */
static void roundtrip(const struct fmt_batch *b, const struct fld_schema *s,
		      const char *part)
{
	struct mfs_buf out;
	struct fmt_batch c;
	struct mfs_err err;
	size_t used, vb = b->vtype == VEC_BINARY ? b->dim / 8 : (size_t)b->dim * 4;

	mfs_buf_init(&out, SIZE_MAX);
	for (size_t i = 0; i < b->n; i++) {
		size_t r0 = i ? b->row_end[i - 1] : 0;

		ck_assert_int_eq(fmt_entity_jsonl(&out, b->ids[i], part, b->vtype, b->dim,
						  b->vecs + i * vb, s, b->rows + r0,
						  b->row_end[i] - r0), 0);
	}
	fmt_batch_init(&c, b->vtype, b->dim);
	ck_assert_msg(fmt_jsonl_parse(out.data, out.len, 1, false, s, &c, &used, &err) == 0,
		      "%s\n%s", err.msg, out.data);
	ck_assert_uint_eq(used, out.len);
	ck_assert_uint_eq(c.n, b->n);
	ck_assert(memcmp(c.ids, b->ids, b->n * 8) == 0);
	ck_assert(memcmp(c.vecs, b->vecs, b->n * vb) == 0);
	ck_assert(memcmp(c.row_end, b->row_end, b->n * sizeof(size_t)) == 0);
	ck_assert_msg(memcmp(c.rows, b->rows, b->rows_len) == 0, "%s", out.data);
	fmt_batch_fini(&c);
	mfs_buf_fini(&out);
}

START_TEST(test_jsonl_roundtrip)
{
	struct fld_schema s;
	struct fmt_batch b;
	struct mfs_err err;
	size_t used;
	const char *in =
		"{\"id\":1,\"vector\":[0.1,-2.5e-7,3e30],\"b\":true,\"i8\":-5,\"f\":0.7,\"d\":1e-300,"
		"\"w\":\"a\\\"\\\\\\n\\u00e9\\ud83d\\ude00\",\"j\":{\"x\":[1.5,1.0,-0.0]},\"t\":[\"q\"],"
		"\"af\":[0.1,1e-40],\"extra\":{\"deep\":[null,false]},\"e2\":\"v\"}\n"
		"{\"id\":2,\"vector\":[1,2,3],\"i8\":0,\"w\":\"\"}\n"
		"4 5 6\n";

	mk(&s, "field=b:BOOL:default=false field=i8:INT8 field=f:FLOAT:nullable "
	   "field=d:DOUBLE:default=0.1 field=w:VARCHAR(20) field=j:JSON:nullable "
	   "field=t:ARRAY(VARCHAR(4),2):nullable field=af:ARRAY(FLOAT,2):nullable "
	   "enable_dynamic_field=true");
	fmt_batch_init(&b, VEC_FLOAT, 0);
	ck_assert_int_eq(jp(&b, &s, "{\"id\":3,\"vector\":[1,2,3]}\n", false, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "line 1: field i8: missing value (expected INT8)");
	ck_assert_int_eq(jp(&b, &s, in, false, &used, &err), -EINVAL);  /* "4 5 6": i8 */
	fld_schema_fini(&s);
	mk(&s, "field=b:BOOL:default=false field=i8:INT8:default=3 field=f:FLOAT:nullable "
	   "field=d:DOUBLE:default=0.1 field=w:VARCHAR(20):default=\"x\" field=j:JSON:nullable "
	   "field=t:ARRAY(VARCHAR(4),2):nullable field=af:ARRAY(FLOAT,2):nullable "
	   "enable_dynamic_field=true");
	ck_assert_msg(jp(&b, &s, in, false, &used, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(b.n, 3);
	roundtrip(&b, &s, NULL);
	roundtrip(&b, &s, "part\"x");
	{
		struct mfs_buf out;

		mfs_buf_init(&out, SIZE_MAX);
		ck_assert_int_eq(fmt_entity_jsonl(&out, 2, "p", VEC_FLOAT, 3, b.vecs + 12, &s,
						  b.rows + b.row_end[0],
						  b.row_end[1] - b.row_end[0]), 0);
		ck_assert_str_eq(out.data, "{\"id\":2,\"partition\":\"p\",\"vector\":[1,2,3],"
				 "\"b\":false,\"i8\":0,\"f\":null,\"d\":0.1,\"w\":\"\",\"j\":null,"
				 "\"t\":null,\"af\":null}\n");
		mfs_buf_reset(&out);
		ck_assert_int_eq(fmt_entity_jsonl(&out, 1, NULL, VEC_FLOAT, 3, b.vecs, &s,
						  b.rows, b.row_end[0]), 0);
		ck_assert_str_eq(out.data, "{\"id\":1,\"vector\":[0.1,-2.5e-07,"
				 "3e+30],\"b\":true,\"i8\":-5,\"f\":0.7,\"d\":1e-300,"
				 "\"w\":\"a\\\"\\\\\\n\xc3\xa9\xf0\x9f\x98\x80\",\"j\":{\"x\":[1.5,1.0,-0.0]},"
				 "\"t\":[\"q\"],\"af\":[0.1,1e-40],\"extra\":{\"deep\":[null,false]},"
				 "\"e2\":\"v\"}\n");
		/* empty schema: as fmt_entity_json */
		mfs_buf_reset(&out);
		{
			struct fld_schema e;
			struct mfs_buf o2;

			fld_schema_init(&e);
			mfs_buf_init(&o2, SIZE_MAX);
			ck_assert_int_eq(fmt_entity_jsonl(&out, 5, "p", VEC_FLOAT, 3, b.vecs, &e,
							  "", 0), 0);
			ck_assert_int_eq(fmt_entity_json(&o2, 5, "p", VEC_FLOAT, 3, b.vecs), 0);
			ck_assert_str_eq(out.data, o2.data);
			mfs_buf_fini(&o2);
		}
		/* the cap: nothing appended */
		mfs_buf_fini(&out);
		mfs_buf_init(&out, 40);
		ck_assert_int_eq(fmt_entity_jsonl(&out, 1, NULL, VEC_FLOAT, 3, b.vecs, &s,
						  b.rows, b.row_end[0]), -EFBIG);
		ck_assert_uint_eq(out.len, 0);
		mfs_buf_fini(&out);
	}
	fmt_batch_fini(&b);

	/* binary */
	fmt_batch_init(&b, VEC_BINARY, 16);
	ck_assert_int_eq(jp(&b, &s, "{\"id\":4,\"vector\":\"a5f0\",\"x\":1}\n", false, &used, &err), 0);
	roundtrip(&b, &s, NULL);
	fmt_batch_fini(&b);
	fld_schema_fini(&s);
}
END_TEST

/* Random entities through the fast path and the reference: the same
 * records, rows and errors. */
static void differential(const char *text, const struct fld_schema *s,
			 enum vec_type vt, uint32_t dim)
{
	struct fmt_batch a, b;
	struct mfs_err ea, eb;
	size_t ua = 0, ub = 0;
	int ra, rb;

	fmt_batch_init(&a, vt, dim);
	fmt_batch_init(&b, vt, dim);
	ra = fmt_jsonl_parse(text, strlen(text), 1, true, s, &a, &ua, &ea);
	rb = fmt_jsonl_parse_ref(text, strlen(text), 1, true, s, &b, &ub, &eb);
	ck_assert_msg(ra == rb, "%s: fast %d (%s), ref %d (%s)", text, ra,
		      ra ? ea.msg : "", rb, rb ? eb.msg : "");
	if (ra == 0) {
		size_t vb = vt == VEC_BINARY ? a.dim / 8 : (size_t)a.dim * 4;

		ck_assert_uint_eq(ua, ub);
		ck_assert_uint_eq(a.n, b.n);
		ck_assert_uint_eq(a.dim, b.dim);
		ck_assert_uint_gt(a.n, 0);
		ck_assert(memcmp(a.ids, b.ids, a.n * 8) == 0);
		ck_assert(memcmp(a.has_id, b.has_id, a.n) == 0);
		if (vt == VEC_FLOAT) {          /* -0 and +0 agree (jsonl.c) */
			for (size_t i = 0; i < a.n * a.dim; i++) {
				float x, y;

				memcpy(&x, a.vecs + 4 * i, 4);
				memcpy(&y, b.vecs + 4 * i, 4);
				ck_assert_msg(x == y, "%s: value %zu", text, i);
			}
		} else {
			ck_assert(memcmp(a.vecs, b.vecs, a.n * vb) == 0);
		}
		ck_assert_uint_eq(a.rows_len, b.rows_len);
		ck_assert(memcmp(a.rows, b.rows, a.rows_len) == 0);
	} else {
		ck_assert_str_eq(ea.msg, eb.msg);
	}
	fmt_batch_fini(&a);
	fmt_batch_fini(&b);
}

START_TEST(test_jsonl_fast_vs_ref)
{
	static const char *const vals[] = {
		"1", "-0", "0.5", "1e5", "-1.25E-3", "\"s\"", "\"\\u00e9\"", "\"\xc3\xa9\"",
		"true", "false", "null", "[]", "[1,\"a\"]", "{}", "{\"k\":1}", "123456789012",
		"1.0", "\"piano\"", "[\"ab\",\"cd\"]", "300", "{\"a\":{\"b\":[1,2]}}",
	};
	static const char *const keys[] = {
		"w", "r", "t", "m", "x", "partition", "w\\u0041", "\xc3\xa9", "",
	};
	struct fld_schema s;
	struct mfs_buf t;

	mk(&s, "field=w:VARCHAR(8):nullable field=r:INT32:default=1 "
	   "field=t:ARRAY(VARCHAR(2),2):nullable field=m:JSON:nullable enable_dynamic_field=true");
	mfs_buf_init(&t, SIZE_MAX);
	for (int it = 0; it < 3000; it++) {
		int nk = (int)(rnd() % 5);

		mfs_buf_reset(&t);
		mfs_buf_printf(&t, "{%s\"vector\" : [", rnd() % 2 ? " " : "");
		for (int j = 0; j < 4; j++) {
			double mag = pow(10, (int)(rnd() % 40) - 20);
			double v = ((double)(rnd() % 2000000) - 1e6) / 1e6 * mag;
			int prec = 1 + (int)(rnd() % 19);

			mfs_buf_printf(&t, "%s%.*g", j ? ", " : "", prec, v);
		}
		mfs_buf_append(&t, "]", 1);
		if (rnd() % 2)
			mfs_buf_printf(&t, ",\"id\":%s", rnd() % 2 ? "\"12\"" : "-3");
		for (int k = 0; k < nk; k++)
			mfs_buf_printf(&t, ",\"%s\":%s", keys[rnd() % 9],
				       vals[rnd() % (sizeof(vals) / sizeof(vals[0]))]);
		mfs_buf_append(&t, "}\n", 2);
		differential(t.data, &s, VEC_FLOAT, 4);
	}
	/* floats: the fast parser equals strtof on hard decimals */
	for (int it = 0; it < 20000; it++) {
		char num[64];
		float want;
		int nd = 1 + (int)(rnd() % 24), ex = (int)(rnd() % 90) - 45, k = 0;
		struct fmt_batch b;
		struct mfs_err err;
		size_t used;
		char line[128];

		if (rnd() % 2)
			num[k++] = '-';
		num[k++] = (char)('1' + rnd() % 9);
		if (nd > 1)
			num[k++] = '.';
		for (int d = 1; d < nd; d++)
			num[k++] = (char)('0' + rnd() % 10);
		k += snprintf(num + k, sizeof(num) - (size_t)k, "e%d", ex);
		want = strtof(num, NULL);
		if (!isfinite(want))
			continue;
		snprintf(line, sizeof(line), "{\"vector\":[%s,1]}\n", num);
		fmt_batch_init(&b, VEC_FLOAT, 2);
		ck_assert_msg(fmt_jsonl_parse(line, strlen(line), 1, false, &s, &b, &used,
					      &err) == 0, "%s: %s", num, err.msg);
		{
			float got;

			memcpy(&got, b.vecs, 4);
			ck_assert_msg(memcmp(&got, &want, 4) == 0, "%s: got %.9g want %.9g",
				      num, (double)got, (double)want);
		}
		fmt_batch_fini(&b);
	}
	mfs_buf_fini(&t);
	fld_schema_fini(&s);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("field");
	TCase *tc = tcase_create("field");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_types);
	tcase_add_test(tc, test_schema_roundtrip);
	tcase_add_test(tc, test_schema_errors);
	tcase_add_test(tc, test_schema_limits);
	tcase_add_test(tc, test_schema_parse);
	tcase_add_test(tc, test_evolve);
	tcase_add_test(tc, test_row_types);
	tcase_add_test(tc, test_row_json_exact);
	tcase_add_test(tc, test_row_errors);
	tcase_add_test(tc, test_row_default_short);
	tcase_add_test(tc, test_row_check);
	tcase_add_test(tc, test_value_hash);
	tcase_add_test(tc, test_cols);
	tcase_add_test(tc, test_cols_many);
	tcase_add_test(tc, test_cols_copy_live);
	tcase_add_test(tc, test_jsonl_basic);
	tcase_add_test(tc, test_jsonl_mixed);
	tcase_add_test(tc, test_jsonl_errors);
	tcase_add_test(tc, test_jsonl_binary_ids);
	tcase_add_test(tc, test_jsonl_roundtrip);
	tcase_add_test(tc, test_jsonl_fast_vs_ref);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
