/* test_fmt_fuzz.c - mutation fuzzing of every fmt parser.
 *
 * Valid seeds (every record form, queries, key=value text, fvecs) are
 * mutated (byte flips, cuts, duplicated spans, interesting tokens spliced
 * in) and each result, in a buffer of its exact size so that valgrind and
 * ASan see any over-read, goes through every parser.  Oracles:
 *   - the result is 0 or -EINVAL with a one-line message;
 *   - on error the batch is as it was (all or nothing);
 *   - on success, printing the records and parsing the print gives the
 *     same ids and the same vector bytes (text and fvecs);
 *   - JSON lines with fields (fmt_jsonl_parse, a schema of every type):
 *     the same, and also the same row bytes (fmt_entity_jsonl, then
 *     fmt_jsonl_parse), and the fast path agrees with the whole-line
 *     jansson reference (fmt_jsonl_parse_ref) on the result, the records,
 *     the rows and the message.
 * Usage: test_fmt_fuzz [FILE...]  runs the given inputs; without files it
 * runs MFS_FUZZ_ITERS (default 30000) mutations from a fixed seed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmt/fmt.h"
#include "fmt/fmt_int.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int failures;
static long parsed, records;      /* how deep the inputs got */
static long jparsed, jrecords;    /* ... with fields (fmt_jsonl_parse) */

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		failures++; \
		return; \
	} \
} while (0)

static const char *const seeds[] = {
	"0.1 0.2 0.3 0.4\n0.5,0.6,0.7,0.8\n",
	"[0.1, 0.2, 0.3, 0.4]\n",
	"42\t0.1,0.2,0.3,0.4\n-7\t[1e-3, 2E2, -0, +5.]\n",
	"{\"id\": 42, \"vector\": [0.1, 0.2, 0.3, 0.4]}\n",
	"{ \"vector\" : [1,2,3,4] , \"partition\": \"p\", \"id\" : \"9\" }\r\n",
	"\n  \n1 2 3 4",
	"0101010111110000\n0x55f0\n7\tabcd\n[1,0,1,0,1,0,1,0,1,1,1,1,0,0,0,0]\n",
	"{\"id\": 3, \"vector\": \"55f0\"}\n",
	"k=5\n0.1,0.2,0.3,0.4\n",
	"limit=7 ef=64&nprobe=8\nformat=json\noffset=3 partitions=a,b\n1 2 3 4\n",
	"id=42&k=5",
	"dim=128 metric_type=L2\ndescription=free text & more\n# c\n",
	"index_type=HNSW M=16 efConstruction=200",
	"1.17549435e-38 3.40282347e+38 1e-45 16777217\n",
	/* JSON lines with fields (the schema in jsonl_schema) */
	"{\"id\": 7, \"vector\": [0.1, 0.2, 0.3, 0.4], \"word\": \"piano\", "
	"\"rank\": 1520, \"tags\": [\"music\"], \"meta\": {\"pos\": \"noun\"}}\n",
	"{\"vector\":[1,2,3,4],\"b\":true,\"i8\":-8,\"i16\":300,\"i32\":-70000,"
	"\"f\":0.5,\"d\":1e-300,\"word\":\"a\\u00e9\\n\",\"rank\":1,\"nums\":[1,2],"
	"\"fl\":[0.25],\"meta\":[1,{\"k\":null}],\"dyn\":\"x\",\"id\":\"-3\"}\n"
	"0.5 0.5 0.5 0.5\n{\"vector\":[4,3,2,1],\"rank\":2,\"partition\":\"p\"}",
	"{\"id\": 3, \"vector\": \"55f0\", \"rank\": 9, \"tags\": []}\n"
	"{\"id\": 4, \"vector\": [1,0,1,0,1,0,1,0,1,1,1,1,0,0,0,0], \"rank\": 9}\n",
};

static const char *const tokens[] = {
	"nan", "inf", "-Infinity", "1e40", "1e-50", "0x1p3", "\t", "\n", "\r",
	"{", "}", "[", "]", "\"", ":", ",", "\"id\":", "\"vector\":", "=", "&",
	"k=", "id=", " ", "99999999999999999999", "-9223372036854775808",
	"\xff", "\xc3", "\0", "#", "0.", ".", "e", "-", "0x", "01", "\\",
	"123456789012345678901234567890",
	"\"rank\":", "\"word\":", "\"tags\":", "\"meta\":", "\"i8\":", "null",
	"true", "tru", "\\u", "\\ud800", "1e400", "[]", "{}", "\"a\":1,", "-0",
	"\"\":", "\xc3\xa9", "0.1e-45",
};

static void msg_ok(int rc, const struct mfs_err *err, const char *what);

/* The schema of the JSON-lines seeds: every type and option. */
static const char jsonl_schema[] =
	"field=b:BOOL:default=false field=i8:INT8:nullable field=i16:INT16:default=-1 "
	"field=i32:INT32:nullable field=f:FLOAT:nullable field=d:DOUBLE:default=0.5 "
	"field=word:VARCHAR(16):default=w field=rank:INT64:default=0 "
	"field=tags:ARRAY(VARCHAR(8),4):nullable field=nums:ARRAY(INT64,3):nullable "
	"field=fl:ARRAY(FLOAT,2):nullable field=meta:JSON:nullable "
	"enable_dynamic_field=true";
static struct fld_schema jschema;       /* built once in main */

/* memcmp that takes NULL for empty arrays */
static bool eq(const void *a, const void *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

static bool same_vec(const struct fmt_batch *a, const struct fmt_batch *b)
{
	if (a->vtype == VEC_BINARY)
		return eq(a->vecs, b->vecs, a->n * (a->dim / 8));
	for (size_t i = 0; i < a->n * a->dim; i++) {
		float x, y;

		memcpy(&x, a->vecs + 4 * i, 4);
		memcpy(&y, b->vecs + 4 * i, 4);
		if (x != y)             /* -0 == +0: see jsonl.c */
			return false;
	}
	return true;
}

/* Print b's records with their fields and parse the print: same ids,
 * vector bytes and rows. */
static void jsonl_roundtrip(const struct fmt_batch *b)
{
	struct mfs_buf out;
	struct fmt_batch c;
	struct mfs_err err;
	size_t used, vb = b->vtype == VEC_BINARY ? b->dim / 8 : (size_t)b->dim * 4;
	int rc = 0;

	if (!b->n)
		return;
	jparsed++;
	jrecords += (long)b->n;
	mfs_buf_init(&out, SIZE_MAX);
	for (size_t i = 0; !rc && i < b->n; i++) {
		size_t r0 = i ? b->row_end[i - 1] : 0;

		rc = fmt_entity_jsonl(&out, b->ids[i], i % 2 ? "p" : NULL, b->vtype,
				      b->dim, b->vecs + i * vb, &jschema,
				      b->rows + r0, b->row_end[i] - r0);
	}
	fmt_batch_init(&c, b->vtype, b->dim);
	if (!rc)
		rc = fmt_jsonl_parse(out.data, out.len, 1, false, &jschema, &c, &used, &err);
	if (rc || c.n != b->n || used != out.len ||
	    !eq(c.ids, b->ids, b->n * 8) || !eq(c.vecs, b->vecs, b->n * vb) ||
	    c.rows_len != b->rows_len || !eq(c.rows, b->rows, b->rows_len) ||
	    !eq(c.row_end, b->row_end, b->n * sizeof(size_t))) {
		fprintf(stderr, "jsonl round trip failed: %d %s\n%s", rc,
			rc ? err.msg : "", out.data);
		failures++;
	}
	fmt_batch_fini(&c);
	mfs_buf_fini(&out);
}

/* fmt_jsonl_parse: the oracles, and the reference path agrees. */
static void jsonl_one(const unsigned char *p, size_t n, enum vec_type vt,
		      uint32_t dim)
{
	struct fmt_batch b, r;
	struct mfs_err err, rerr;
	size_t used = 0, rused = 0;
	int rc, rrc;

	fmt_batch_init(&b, vt, dim);
	fmt_batch_init(&r, vt, dim);
	for (int final = 0; final < 2; final++) {
		size_t n0 = b.n, rows0 = b.rows_len;
		uint32_t dim0 = b.dim;

		mfs_err_clear(&err);
		mfs_err_clear(&rerr);
		rc = fmt_jsonl_parse((const char *)p, n, 1, final, &jschema, &b, &used, &err);
		rrc = fmt_jsonl_parse_ref((const char *)p, n, 1, final, &jschema, &r,
					  &rused, &rerr);
		msg_ok(rc, &err, "jsonl");
		if (rc)
			CHECK(b.n == n0 && b.dim == dim0 && b.rows_len == rows0,
			      "jsonl: not all or nothing");
		else
			CHECK(used <= n, "jsonl: consumed %zu of %zu", used, n);
		CHECK(rc == rrc && (rc ? strcmp(err.msg, rerr.msg) == 0 :
				    used == rused && b.n == r.n && b.dim == r.dim),
		      "jsonl: fast %d '%s', reference %d '%s'", rc, err.msg, rrc, rerr.msg);
		CHECK(b.rows_len == r.rows_len && eq(b.rows, r.rows, b.rows_len) &&
		      eq(b.ids, r.ids, b.n * 8) && eq(b.has_id, r.has_id, b.n) &&
		      same_vec(&b, &r), "jsonl: fast and reference records differ");
	}
	jsonl_roundtrip(&b);
	fmt_batch_fini(&b);
	fmt_batch_fini(&r);
}

/* Print b's records and parse the print: same ids and bytes. */
static void roundtrip(const struct fmt_batch *b)
{
	struct mfs_buf out;
	struct fmt_batch c;
	struct mfs_err err;
	size_t used, vb = b->vtype == VEC_BINARY ? b->dim / 8 : (size_t)b->dim * 4;
	int rc;

	if (!b->n)
		return;
	parsed++;
	records += (long)b->n;
	mfs_buf_init(&out, SIZE_MAX);
	for (size_t i = 0; i < b->n; i++)
		fmt_entity_tsv(&out, b->ids[i], b->vtype, b->dim, b->vecs + i * vb);
	fmt_batch_init(&c, b->vtype, b->dim);
	rc = fmt_text_parse(out.data, out.len, 1, false, &c, &used, &err);
	if (rc == 0 && c.n == b->n) {
		for (size_t i = 0; i < b->n; i++)
			if (c.ids[i] != b->ids[i] ||
			    memcmp(c.vecs + i * vb, b->vecs + i * vb, vb)) {
				rc = -1;
				break;
			}
	}
	if (rc || c.n != b->n)
		fprintf(stderr, "round trip failed: %s\n%s", err.msg, out.data);
	if (rc || c.n != b->n)
		failures++;
	mfs_buf_reset(&out);
	for (size_t i = 0; i < b->n; i++)
		fmt_entity_fvecs(&out, b->vtype, b->dim, b->vecs + i * vb);
	fmt_batch_reset(&c);
	rc = fmt_fvecs_parse(out.data, out.len, 1, &c, &used, &err);
	if (rc || c.n != b->n || used != out.len ||
	    memcmp(c.vecs, b->vecs, b->n * vb)) {
		fprintf(stderr, "fvecs round trip failed: %s\n", err.msg);
		failures++;
	}
	fmt_batch_fini(&c);
	mfs_buf_fini(&out);
}

static void msg_ok(int rc, const struct mfs_err *err, const char *what)
{
	CHECK(rc == 0 || rc == -EINVAL, "%s: rc %d", what, rc);
	if (rc)
		CHECK(err->msg[0] && !strchr(err->msg, '\n') &&
		      strlen(err->msg) < MFS_ERR_MSG_MAX, "%s: bad message", what);
}

static void run_one(const unsigned char *p, size_t n)
{
	static const uint32_t dims[2][3] = { { 0, 4, 16 }, { 0, 8, 16 } };
	struct mfs_err err;
	char *z = malloc(n + 1);

	memcpy(z, p, n);
	z[n] = '\0';
	for (int t = 0; t < 2; t++) {
		for (int d = 0; d < 3; d++) {
			enum vec_type vt = t ? VEC_BINARY : VEC_FLOAT;
			struct fmt_batch b;
			struct fmt_query q;
			size_t used;
			int rc;

			fmt_batch_init(&b, vt, dims[t][d]);
			for (int final = 0; final < 2; final++) {
				size_t n0 = b.n;
				uint32_t dim0 = b.dim;

				rc = fmt_text_parse((const char *)p, n, 1, final, &b,
						    &used, &err);
				msg_ok(rc, &err, "text");
				if (rc)
					CHECK(b.n == n0 && b.dim == dim0, "text: not all or nothing");
				else
					CHECK(used <= n, "text: consumed %zu of %zu", used, n);
			}
			roundtrip(&b);
			fmt_batch_reset(&b);
			rc = fmt_fvecs_parse(p, n, 1, &b, &used, &err);
			msg_ok(rc, &err, "fvecs");
			if (!rc)
				roundtrip(&b);
			fmt_batch_fini(&b);

			fmt_query_init(&q, vt, dims[t][d]);
			msg_ok(fmt_query_parse(&q, (const char *)p, n, &err), &err, "query");
			CHECK(q.k >= 1 && q.k + q.offset <= 16384, "query: k %zu", q.k);
			msg_ok(fmt_query_params(&q, (const char *)p, n, &err), &err, "params");
			fmt_query_fini(&q);
			fmt_query_init(&q, vt, dims[t][d]);
			msg_ok(fmt_query_parse_name(&q, z, &err), &err, "name");
			msg_ok(fmt_query_parse_fvecs(&q, p, n, &err), &err, "qfvecs");
			fmt_query_fini(&q);
			jsonl_one(p, n, vt, dims[t][d]);
		}
	}
	{
		struct mfs_kv kv;

		mfs_kv_init(&kv);
		msg_ok(fmt_kv_parse((const char *)p, n, &kv, &err), &err, "kv");
		msg_ok(fmt_name_check("partition", z, &err), &err, "name");
	}
	free(z);
}

static size_t mutate(unsigned char *buf, size_t n, size_t cap)
{
	int rounds = 1 + (int)(rnd() % 4);

	while (rounds--) {
		size_t at = n ? rnd() % (n + 1) : 0;

		switch (rnd() % 6) {
		case 0:                 /* flip a byte */
			if (n)
				buf[rnd() % n] ^= (unsigned char)(1u << (rnd() % 8));
			break;
		case 1:                 /* cut a span */
			if (n) {
				size_t len = 1 + rnd() % (n - at + 1);

				if (at + len > n)
					len = n - at;
				memmove(buf + at, buf + at + len, n - at - len);
				n -= len;
			}
			break;
		case 2:                 /* duplicate a span */
			if (n && at < n) {
				size_t len = 1 + rnd() % (n - at);

				if (n + len <= cap) {
					memmove(buf + at + len, buf + at, n - at);
					n += len;
				}
			}
			break;
		default: {              /* splice in a token */
			const char *tok = tokens[rnd() % (sizeof(tokens) / sizeof(tokens[0]))];
			size_t len = tok[0] ? strlen(tok) : 1;

			if (n + len <= cap) {
				memmove(buf + at + len, buf + at, n - at);
				memcpy(buf + at, tok, len);
				n += len;
			}
		}
		}
	}
	return n;
}

static void fvecs_seed(unsigned char *buf, size_t *n)
{
	int32_t d = 4;
	float v[4] = { 0.5f, -1.0f, 3.0f, 1e-3f };

	memcpy(buf, &d, 4);
	memcpy(buf + 4, v, 16);
	memcpy(buf + 20, buf, 20);
	*n = 40;
}

int main(int argc, char **argv)
{
	enum { CAP = 4096 };
	unsigned char work[CAP];
	long iters = getenv("MFS_FUZZ_ITERS") ? atol(getenv("MFS_FUZZ_ITERS")) : 30000;
	struct mfs_err err;

	fld_schema_init(&jschema);
	if (fld_schema_parse(&jschema, jsonl_schema, strlen(jsonl_schema), &err)) {
		fprintf(stderr, "schema: %s\n", err.msg);
		return 99;
	}

	if (argc > 1) {
		for (int i = 1; i < argc; i++) {
			FILE *f = fopen(argv[i], "rb");
			size_t n;
			unsigned char *p;

			if (!f) {
				perror(argv[i]);
				return 99;
			}
			p = malloc(1 << 22);
			n = fread(p, 1, 1 << 22, f);
			fclose(f);
			run_one(p, n);
			free(p);
		}
		fld_schema_fini(&jschema);
		return failures ? 1 : 0;
	}
	for (long it = 0; it < iters && failures < 20; it++) {
		size_t n, k = rnd() % (sizeof(seeds) / sizeof(seeds[0]) + 1);
		unsigned char *exact;

		if (k == sizeof(seeds) / sizeof(seeds[0])) {
			fvecs_seed(work, &n);
		} else {
			n = strlen(seeds[k]);
			memcpy(work, seeds[k], n);
		}
		n = mutate(work, n, CAP);
		exact = malloc(n ? n : 1);
		memcpy(exact, work, n);
		run_one(exact, n);
		free(exact);
	}
	printf("fmt fuzz: %ld inputs, %ld parsed into %ld records and round-tripped, "
	       "%ld JSON-lines parses into %ld records with fields, %d failures\n",
	       iters, parsed, records, jparsed, jrecords, failures);
	fld_schema_fini(&jschema);
	return failures ? 1 : 0;
}
