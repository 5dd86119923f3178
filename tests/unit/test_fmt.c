/* test_fmt.c - unit tests of src/fmt: names, text and fvecs records,
 * entities, key=value text, queries and results.
 */
#include <check.h>
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/ftoa.h"
#include "fmt/fmt.h"
#include "synth.h"

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

static float fv(const struct fmt_batch *b, size_t i, size_t j)
{
	float f;

	memcpy(&f, b->vecs + (i * b->dim + j) * 4, 4);
	return f;
}

/* Parse s (NUL not passed) into b; returns rc; *used written on success. */
static int tp(struct fmt_batch *b, const char *s, bool final, size_t *used,
	      struct mfs_err *err)
{
	size_t u = (size_t)-1;
	int rc;

	mfs_err_clear(err);
	rc = fmt_text_parse(s, strlen(s), 1, final, b, &u, err);
	if (used)
		*used = u;
	return rc;
}

/* Expect -EINVAL and exactly msg, nothing appended, dim kept. */
static void text_err(enum vec_type t, uint32_t dim, const char *s,
		     const char *msg)
{
	struct fmt_batch b;
	struct mfs_err err;

	fmt_batch_init(&b, t, dim);
	ck_assert_int_eq(tp(&b, s, true, NULL, &err), -EINVAL);
	ck_assert_uint_eq(b.n, 0);
	ck_assert_uint_eq(b.dim, dim);
	if (msg)
		ck_assert_str_eq(err.msg, msg);
	ck_assert_int_eq(err.code, -EINVAL);
	fmt_batch_fini(&b);
}

/* ---- text records ---- */

START_TEST(test_text_forms)
{
	struct fmt_batch b;
	struct mfs_err err;
	size_t used;
	const char *s =
		"0.1 0.2 0.3\n"
		"0.1,0.2,0.3\n"
		"[0.1, 0.2, 0.3]\n"
		"42\t0.1,0.2,0.3\n"
		"{\"id\": 42, \"vector\": [0.1, 0.2, 0.3]}\n"
		"{ \"vector\" : [0.1,0.2,0.3] , \"id\" : -7 }\n"
		"{\"id\":\"9223372036854775807\",\"partition\":\"p\",\"vector\":[0.1,0.2,0.3]}\n"
		"  0.1 ,0.2,   0.3  \n"
		"-3\t[0.1 0.2 0.3]\n"
		"0.1\t0.2\t0.3\n"
		"5 \t 0.1 0.2 0.3\n";
	static const int64_t ids[] = { 0, 0, 0, 42, 42, -7, INT64_MAX, 0, -3, 0, 5 };
	static const uint8_t has[] = { 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1 };

	fmt_batch_init(&b, VEC_FLOAT, 0);
	ck_assert_int_eq(tp(&b, s, false, &used, &err), 0);
	ck_assert_uint_eq(used, strlen(s));
	ck_assert_uint_eq(b.dim, 3);
	ck_assert_uint_eq(b.n, 11);
	for (size_t i = 0; i < b.n; i++) {
		ck_assert_msg(fv(&b, i, 0) == 0.1f && fv(&b, i, 1) == 0.2f &&
			      fv(&b, i, 2) == 0.3f, "record %zu", i);
		ck_assert_int_eq(b.has_id[i], has[i]);
		ck_assert_int_eq(b.ids[i], ids[i]);
		ck_assert_uint_eq(b.line[i], i + 1);
	}
	/* "1<TAB>2" is the 2-dim vector [1, 2], not id 1 */
	fmt_batch_reset(&b);
	b.dim = 0;
	ck_assert_int_eq(tp(&b, "1\t2\n", false, &used, &err), 0);
	ck_assert_uint_eq(b.dim, 2);
	ck_assert_int_eq(b.has_id[0], 0);
	ck_assert(fv(&b, 0, 0) == 1.0f && fv(&b, 0, 1) == 2.0f);
	/* numbers in every syntax strtof knows, within float range */
	fmt_batch_reset(&b);
	b.dim = 0;
	ck_assert_int_eq(tp(&b, "1e3 -2.5E-1 +.5 7. 0x10 -0 1e-50\n", true, &used,
			    &err), 0);
	ck_assert_uint_eq(b.dim, 7);
	ck_assert(fv(&b, 0, 0) == 1000.0f && fv(&b, 0, 1) == -0.25f &&
		  fv(&b, 0, 2) == 0.5f && fv(&b, 0, 3) == 7.0f &&
		  fv(&b, 0, 4) == 16.0f && fv(&b, 0, 5) == 0.0f &&
		  signbit(fv(&b, 0, 5)) && fv(&b, 0, 6) == 0.0f);
	fmt_batch_fini(&b);
}
END_TEST

START_TEST(test_text_dim)
{
	struct fmt_batch b;
	struct mfs_err err;
	char *line;
	size_t n;

	/* dim inferred from the first record, then enforced */
	fmt_batch_init(&b, VEC_FLOAT, 0);
	ck_assert_int_eq(tp(&b, "1 2 3 4\n1 2 3\n", true, NULL, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "line 2: expected 4 values, got 3");
	ck_assert_uint_eq(b.dim, 0);
	ck_assert_uint_eq(b.n, 0);
	ck_assert_int_eq(tp(&b, "1 2 3\n", true, NULL, &err), 0);
	ck_assert_uint_eq(b.dim, 3);
	fmt_batch_fini(&b);

	/* "line 3: expected 128 values, got 127" */
	line = malloc(4096);
	n = 0;
	for (int r = 0; r < 3; r++) {
		for (int j = 0; j < (r == 2 ? 127 : 128); j++)
			n += (size_t)sprintf(line + n, "%s%d", j ? "," : "", j);
		line[n++] = '\n';
	}
	line[n] = '\0';
	text_err(VEC_FLOAT, 128, line, "line 3: expected 128 values, got 127");
	line[n - 1] = ',';
	strcpy(line + n, "1,2\n");
	text_err(VEC_FLOAT, 128, line, "line 3: expected 128 values, got 129");
	free(line);

	text_err(VEC_FLOAT, 0, "5\n", "line 1: expected 2 to 32768 values, got 1");
	/* 32769 values */
	line = malloc(32769 * 2 + 2);
	for (int j = 0; j < 32769; j++) {
		line[2 * j] = '1';
		line[2 * j + 1] = ' ';
	}
	line[2 * 32769] = '\0';
	text_err(VEC_FLOAT, 0, line, "line 1: expected 2 to 32768 values, got 32769");
	line[2 * 32768 - 1] = '\0';                 /* 32768 values: fine */
	fmt_batch_init(&b, VEC_FLOAT, 0);
	ck_assert_int_eq(tp(&b, line, true, NULL, &err), 0);
	ck_assert_uint_eq(b.dim, 32768);
	fmt_batch_fini(&b);
	free(line);
}
END_TEST

START_TEST(test_text_errors)
{
	text_err(VEC_FLOAT, 0, "1 2 3\n1 2 nan\n", "line 2: value 3 is NaN or infinite");
	text_err(VEC_FLOAT, 5, "1 2 3 4 NaN\n", "line 1: value 5 is NaN or infinite");
	text_err(VEC_FLOAT, 2, "inf 1\n", "line 1: value 1 is NaN or infinite");
	text_err(VEC_FLOAT, 2, "1,-Infinity\n", "line 1: value 2 is NaN or infinite");
	text_err(VEC_FLOAT, 2, "1 1e40\n", "line 1: value 2 out of float32 range: '1e40'");
	text_err(VEC_FLOAT, 2, "-1e39 1\n", "line 1: value 1 out of float32 range: '-1e39'");
	text_err(VEC_FLOAT, 2, "\n\n\n\n\n\n1 abc\n", "line 7: not a number: 'abc'");
	text_err(VEC_FLOAT, 3, "0.1,,0.2\n", "line 1: expected a number after ',', got ',0.2'");
	text_err(VEC_FLOAT, 2, "0.1,0.2,\n", "line 1: expected a number after ',', got end of line");
	text_err(VEC_FLOAT, 2, "[0.1, 0.2\n", "line 1: expected ']' after value 2, got end of line");
	text_err(VEC_FLOAT, 2, "[0.1, 0.2] x\n", "line 1: expected end of line after ']', got 'x'");
	text_err(VEC_FLOAT, 2, "0.1 0.2]\n", "line 1: not a number: '0.2]'");
	text_err(VEC_FLOAT, 2, "1e 2\n", "line 1: not a number: '1e'");
	text_err(VEC_FLOAT, 2, "1 2\x01\n", "line 1: not a number: '2\\x01'");
	text_err(VEC_FLOAT, 2, "1 \xff\xfe\n", "line 1: not a number: '\\xff\\xfe'");
	text_err(VEC_FLOAT, 2, "x\t1,2\n", NULL);
	text_err(VEC_FLOAT, 2, "99999999999999999999\t1,2\n", NULL);
	/* JSON */
	text_err(VEC_FLOAT, 2, "{\"id\": \"x\", \"vector\": [1, 2]}\n",
		 "line 1: \"id\" must be a 64-bit integer, got 'x'");
	text_err(VEC_FLOAT, 2, "{\"id\": 1.5, \"vector\": [1, 2]}\n",
		 "line 1: \"id\" must be a 64-bit integer, got '1.5'");
	text_err(VEC_FLOAT, 2, "{\"id\": null, \"vector\": [1, 2]}\n", NULL);
	text_err(VEC_FLOAT, 2, "{\"id\": 9223372036854775808, \"vector\": [1, 2]}\n", NULL);
	text_err(VEC_FLOAT, 2, "{\"id\": 1}\n",
		 "line 1: expected a \"vector\" in the JSON record");
	text_err(VEC_FLOAT, 2, "{}\n", "line 1: expected a \"vector\" in the JSON record");
	text_err(VEC_FLOAT, 2, "{\"id\": 1, \"vector\": [1, 2]\n",
		 "line 1: expected ',' or '}' in JSON object, got end of line");
	text_err(VEC_FLOAT, 2, "{\"id\": 1, \"vector\": [1, 2]} 3\n",
		 "line 1: expected end of line after '}', got '3'");
	text_err(VEC_FLOAT, 2, "{\"vector\": \"ab\"}\n", NULL);
	text_err(VEC_FLOAT, 2, "{\"vector\": [1, 2], \"vector\": [1, 2]}\n", NULL);
	text_err(VEC_FLOAT, 2, "{\"vector\": [1, 2], \"x\": [1, {\"a\": \"}\"}]\n", NULL);
	text_err(VEC_FLOAT, 2, "{id: 1, \"vector\": [1, 2]}\n", NULL);
}
END_TEST

START_TEST(test_text_lines)
{
	struct fmt_batch b;
	struct mfs_err err;
	size_t used;

	/* blank and whitespace-only lines are skipped, CRLF is fine */
	fmt_batch_init(&b, VEC_FLOAT, 0);
	ck_assert_int_eq(tp(&b, "  \n\t\n1 2\r\n\r\n3 4\r\n \r\n", false, &used,
			    &err), 0);
	ck_assert_uint_eq(b.n, 2);
	ck_assert_uint_eq(b.line[0], 3);
	ck_assert_uint_eq(b.line[1], 5);
	ck_assert(fv(&b, 1, 1) == 4.0f);
	/* empty input */
	ck_assert_int_eq(tp(&b, "", true, &used, &err), 0);
	ck_assert_uint_eq(used, 0);
	ck_assert_uint_eq(b.n, 2);

	/* a partial last line waits unless final */
	ck_assert_int_eq(tp(&b, "5 6\n7 8", false, &used, &err), 0);
	ck_assert_uint_eq(used, 4);
	ck_assert_uint_eq(b.n, 3);
	ck_assert_int_eq(tp(&b, "7 8", true, &used, &err), 0);
	ck_assert_uint_eq(used, 3);
	ck_assert_uint_eq(b.n, 4);
	ck_assert(fv(&b, 3, 1) == 8.0f);
	/* a bad final partial line fails the call, all or nothing */
	ck_assert_int_eq(tp(&b, "9 10\n7 x", true, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "line 2: not a number: 'x'");
	ck_assert_uint_eq(b.n, 4);
	ck_assert_int_eq(tp(&b, "9 10\n7 x", false, &used, &err), 0);
	ck_assert_uint_eq(b.n, 5);
	ck_assert_uint_eq(used, 5);
	/* line0 numbers the lines */
	mfs_err_clear(&err);
	ck_assert_int_eq(fmt_text_parse("1 2\n\n1\n", 7, 40, true, &b, &used, &err),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "line 42: expected 2 values, got 1");
	ck_assert_uint_eq(b.n, 5);
	/* not reading past len: "1 2" of "1 23" */
	ck_assert_int_eq(fmt_text_parse("1 23", 3, 1, true, &b, &used, &err), 0);
	ck_assert(fv(&b, 5, 1) == 2.0f);
	fmt_batch_fini(&b);
}
END_TEST

START_TEST(test_text_long_line)
{
	size_t n = 2u << 20;
	char *s = malloc(n + 2);
	struct fmt_batch b;
	struct mfs_err err;
	size_t used;

	for (size_t i = 0; i < n; i += 2) {
		s[i] = '1';
		s[i + 1] = ' ';
	}
	s[n] = '\0';
	fmt_batch_init(&b, VEC_FLOAT, 0);
	/* partial, not final: still refused, it could never fit */
	ck_assert_int_eq(fmt_text_parse(s, n, 1, false, &b, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "line 1: line longer than 1048576 bytes");
	ck_assert_int_eq(fmt_text_parse(s, n, 1, true, &b, &used, &err), -EINVAL);
	s[n] = '\n';
	ck_assert_int_eq(fmt_text_parse(s, n + 1, 1, false, &b, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "line 1: line longer than 1048576 bytes");
	/* exactly FMT_LINE_MAX bytes is a line (too many values, though) */
	ck_assert_int_eq(fmt_text_parse(s + n - FMT_LINE_MAX, FMT_LINE_MAX + 1, 1,
					false, &b, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "line 1: expected 2 to 32768 values, got 524288");
	ck_assert_uint_eq(b.n, 0);
	fmt_batch_fini(&b);
	free(s);
}
END_TEST

/* Feeding a text in random pieces, as write(2) does, gives what one call
 * gives. */
START_TEST(test_text_straddle)
{
	struct fmt_batch one, many;
	struct mfs_err err;
	struct mfs_buf pend;
	char *text = malloc(1 << 20);
	size_t len = 0, used, line = 1;

	for (int i = 0; i < 2000; i++) {
		switch (i % 4) {
		case 0:
			len += (size_t)sprintf(text + len, "%.9g %.9g %.9g\n",
					       (double)(rnd() % 1000) / 7, 1.5, -2.25);
			break;
		case 1:
			len += (size_t)sprintf(text + len, "%d\t1,2,%d\r\n", i, i);
			break;
		case 2:
			len += (size_t)sprintf(text + len, "\n{\"vector\": [1,2,3], \"id\": %d}\n", i);
			break;
		default:
			len += (size_t)sprintf(text + len, "[4, 5, 6]");
			if (i != 1999)
				text[len++] = '\n';
		}
	}
	fmt_batch_init(&one, VEC_FLOAT, 0);
	ck_assert_int_eq(fmt_text_parse(text, len, 1, true, &one, &used, &err), 0);
	ck_assert_uint_eq(one.n, 2000);
	ck_assert_uint_eq(used, len);

	fmt_batch_init(&many, VEC_FLOAT, 0);
	mfs_buf_init(&pend, SIZE_MAX);
	for (size_t pos = 0; pos < len;) {
		size_t piece = 1 + rnd() % 97;

		if (piece > len - pos)
			piece = len - pos;
		mfs_buf_append(&pend, text + pos, piece);
		pos += piece;
		ck_assert_int_eq(fmt_text_parse(pend.data, pend.len, line, false,
						&many, &used, &err), 0);
		for (size_t i = 0; i < used; i++)
			line += pend.data[i] == '\n';
		mfs_buf_consume(&pend, used);
	}
	ck_assert_uint_eq(many.n, 1999);       /* the last line has no '\n' */
	ck_assert_int_eq(fmt_text_parse(pend.data, pend.len, line, true, &many,
					&used, &err), 0);
	ck_assert_uint_eq(used, pend.len);
	ck_assert_uint_eq(many.n, 2000);
	ck_assert_uint_eq(many.dim, 3);
	ck_assert_mem_eq(one.vecs, many.vecs, 2000 * 12);
	ck_assert_mem_eq(one.ids, many.ids, 2000 * sizeof(int64_t));
	ck_assert_mem_eq(one.has_id, many.has_id, 2000);
	ck_assert_mem_eq(one.line, many.line, 2000 * sizeof(size_t));
	mfs_buf_fini(&pend);
	fmt_batch_fini(&one);
	fmt_batch_fini(&many);
	free(text);
}
END_TEST

START_TEST(test_text_binary)
{
	struct fmt_batch b;
	struct mfs_err err;
	size_t used;
	const char *s =
		"0101010111110000\n"
		"0x55f0\n"
		"55F0\n"
		"[0,1,0,1,0,1,0,1,1,1,1,1,0,0,0,0]\n"
		"0 1 0 1 0 1 0 1 1 1 1 1 0 0 0 0\n"
		"7\t55f0\n"
		"8\t0101010111110000\n"
		"{\"id\": 3, \"vector\": \"55f0\"}\n"
		"{\"vector\": [0,1,0,1,0,1,0,1,1,1,1,1,0,0,0,0]}\n";

	fmt_batch_init(&b, VEC_BINARY, 16);
	ck_assert_int_eq(tp(&b, s, true, &used, &err), 0);
	ck_assert_uint_eq(b.n, 9);
	for (size_t i = 0; i < b.n; i++) {
		ck_assert_msg(b.vecs[2 * i] == 0x55 && b.vecs[2 * i + 1] == 0xf0,
			      "record %zu: %02x%02x", i, b.vecs[2 * i], b.vecs[2 * i + 1]);
	}
	ck_assert_int_eq(b.ids[5], 7);
	ck_assert_int_eq(b.ids[6], 8);
	ck_assert_int_eq(b.ids[7], 3);
	ck_assert_int_eq(b.has_id[8], 0);
	fmt_batch_fini(&b);

	/* a batch whose dim does not suit its type is refused */
	fmt_batch_init(&b, VEC_BINARY, 4);
	ck_assert_int_eq(tp(&b, "0101\n", true, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "dim of a binary vector must be a multiple of 8 in [8, 32768], got 4");
	ck_assert_int_eq(fmt_fvecs_parse("\0\0\0\0", 4, 1, &b, &used, &err), -EINVAL);
	b.vtype = VEC_FLOAT;
	b.dim = 1;
	ck_assert_int_eq(tp(&b, "1\n", true, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "dim of a float vector must be in [2, 32768], got 1");
	fmt_batch_fini(&b);

	/* dim from the first record: 0/1 strings of 8k digits are bits */
	fmt_batch_init(&b, VEC_BINARY, 0);
	ck_assert_int_eq(tp(&b, "10000001\n81\n", true, &used, &err), 0);
	ck_assert_uint_eq(b.dim, 8);
	ck_assert_int_eq(b.vecs[0], 0x81);
	ck_assert_int_eq(b.vecs[1], 0x81);
	fmt_batch_fini(&b);
	fmt_batch_init(&b, VEC_BINARY, 0);
	ck_assert_int_eq(tp(&b, "0101\n", true, &used, &err), 0);   /* hex */
	ck_assert_uint_eq(b.dim, 16);
	fmt_batch_fini(&b);

	text_err(VEC_BINARY, 16, "55f\n",
		 "line 1: expected bits (0/1) or hex digits, got '55f'");
	text_err(VEC_BINARY, 16, "55f0aa\n",
		 "line 1: expected 16 bits or 4 hex digits, got 6 digits");
	text_err(VEC_BINARY, 16, "01010101\n",
		 "line 1: expected 16 bits or 4 hex digits, got 8 digits");
	text_err(VEC_BINARY, 16, "xyzw\n", NULL);
	text_err(VEC_BINARY, 16, "[0,1,2]\n", "line 1: expected a bit 0 or 1, got '2'");
	/* An id needs a TAB: with a space the line is a list of bits. */
	text_err(VEC_BINARY, 16, "1 00ff\n", "line 1: expected a bit 0 or 1 "
		 "(a line of several words is a list of bits; a bit or hex "
		 "string is one word, after an id and a TAB), got '00ff'");
	text_err(VEC_BINARY, 16, "[0,1,0]\n", "line 1: expected 16 bits, got 3");
	text_err(VEC_BINARY, 0, "[0,1,0]\n",
		 "line 1: expected a multiple of 8 bits in [8, 32768], got 3");
	text_err(VEC_BINARY, 0, "0x\n", NULL);
	text_err(VEC_BINARY, 8, "{\"vector\": \"zz\"}\n", NULL);
	text_err(VEC_BINARY, 8, "{\"vector\": [1.5]}\n", NULL);
}
END_TEST

/* ---- fvecs ---- */

static size_t put_rec(unsigned char *p, int32_t d, const float *v, int nv)
{
	memcpy(p, &d, 4);
	memcpy(p + 4, v, (size_t)nv * 4);
	return 4 + (size_t)nv * 4;
}

START_TEST(test_fvecs)
{
	unsigned char *buf = malloc(1 << 16);
	float v[8];
	size_t len = 0, used;
	struct fmt_batch b, c;
	struct mfs_err err;

	for (int r = 0; r < 100; r++) {
		for (int j = 0; j < 8; j++)
			v[j] = (float)(r * 8 + j) / 3.0f;
		len += put_rec(buf + len, 8, v, 8);
	}
	fmt_batch_init(&b, VEC_FLOAT, 0);
	ck_assert_int_eq(fmt_fvecs_parse(buf, len, 1, &b, &used, &err), 0);
	ck_assert_uint_eq(used, len);
	ck_assert_uint_eq(b.n, 100);
	ck_assert_uint_eq(b.dim, 8);
	ck_assert(fv(&b, 99, 7) == (float)(99 * 8 + 7) / 3.0f);
	ck_assert_uint_eq(b.line[99], 100);

	/* random pieces: partial records wait */
	fmt_batch_init(&c, VEC_FLOAT, 0);
	{
		struct mfs_buf pend;
		size_t rec = 1;

		mfs_buf_init(&pend, SIZE_MAX);
		for (size_t pos = 0; pos < len;) {
			size_t piece = 1 + rnd() % 50;

			if (piece > len - pos)
				piece = len - pos;
			mfs_buf_append(&pend, buf + pos, piece);
			pos += piece;
			ck_assert_int_eq(fmt_fvecs_parse(pend.data, pend.len, rec, &c,
							 &used, &err), 0);
			ck_assert_uint_eq(used % 36, 0);
			rec += used / 36;
			mfs_buf_consume(&pend, used);
		}
		ck_assert_uint_eq(pend.len, 0);
		mfs_buf_fini(&pend);
	}
	ck_assert_uint_eq(c.n, 100);
	ck_assert_mem_eq(b.vecs, c.vecs, 100 * 32);
	ck_assert_mem_eq(b.line, c.line, 100 * sizeof(size_t));
	fmt_batch_fini(&c);

	/* errors: all or nothing */
	ck_assert_int_eq(fmt_fvecs_parse(buf, 3, 1, &b, &used, &err), 0);
	ck_assert_uint_eq(used, 0);
	len = 0;
	for (int r = 0; r < 4; r++)
		len += put_rec(buf + len, 8, v, 8);
	len += put_rec(buf + len, 0, v, 0);
	ck_assert_int_eq(fmt_fvecs_parse(buf, len, 1, &b, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "record 5: dim 0 out of range [2, 32768]");
	ck_assert_uint_eq(b.n, 100);
	put_rec(buf + len - 4, 32769, v, 0);
	ck_assert_int_eq(fmt_fvecs_parse(buf, len, 1, &b, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "record 5: dim 32769 out of range [2, 32768]");
	put_rec(buf + len - 4, -1, v, 0);
	ck_assert_int_eq(fmt_fvecs_parse(buf, len, 1, &b, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "record 5: dim -1 out of range [2, 32768]");
	put_rec(buf + len - 4, 4, v, 4);
	ck_assert_int_eq(fmt_fvecs_parse(buf, len + 16, 1, &b, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "record 5: expected dim 8, got 4");
	v[3] = NAN;
	put_rec(buf, 8, v, 8);
	ck_assert_int_eq(fmt_fvecs_parse(buf, 36, 7, &b, &used, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "record 7: value 4 is NaN or infinite");
	v[3] = -INFINITY;
	put_rec(buf, 8, v, 8);
	ck_assert_int_eq(fmt_fvecs_parse(buf, 36, 7, &b, &used, &err), -EINVAL);
	ck_assert_uint_eq(b.n, 100);
	fmt_batch_fini(&b);

	/* dim 0 batch restored after a failed first call */
	fmt_batch_init(&b, VEC_FLOAT, 0);
	v[3] = 1;
	len = put_rec(buf, 8, v, 8);
	len += put_rec(buf + len, 4, v, 4);
	ck_assert_int_eq(fmt_fvecs_parse(buf, len, 1, &b, &used, &err), -EINVAL);
	ck_assert_uint_eq(b.dim, 0);
	ck_assert_uint_eq(b.n, 0);
	ck_assert_int_eq(fmt_fvecs_parse(buf + 36, 20, 1, &b, &used, &err), 0);
	ck_assert_uint_eq(b.dim, 4);
	fmt_batch_fini(&b);

	/* binary: int32 bytes, then bytes */
	fmt_batch_init(&b, VEC_BINARY, 16);
	{
		unsigned char r[12] = { 2, 0, 0, 0, 0xab, 0xcd, 2, 0, 0, 0, 1, 2 };

		ck_assert_int_eq(fmt_fvecs_parse(r, 11, 1, &b, &used, &err), 0);
		ck_assert_uint_eq(used, 6);
		ck_assert_uint_eq(b.n, 1);
		ck_assert_int_eq(b.vecs[0], 0xab);
		r[6] = 3;
		ck_assert_int_eq(fmt_fvecs_parse(r, 12, 1, &b, &used, &err), -EINVAL);
		ck_assert_str_eq(err.msg, "record 2: expected dim 2 bytes, got 3");
	}
	fmt_batch_fini(&b);
	free(buf);
}
END_TEST

/* A whole fvecs file (the bytes in file, n records of dim floats) parsed
 * in 64 KB pieces, records straddling them: n records, each vector the
 * file's floats bit for bit. */
static void fvecs_pieces(const char *what, const unsigned char *file,
			 size_t len, size_t n, uint32_t dim)
{
	struct fmt_batch b;
	struct mfs_err err;
	struct mfs_buf pend;
	size_t off = 0, used, rec = 1, rb = 4 + (size_t)dim * 4;

	fmt_batch_init(&b, VEC_FLOAT, 0);
	mfs_buf_init(&pend, SIZE_MAX);
	while (off < len) {
		size_t got = len - off < 65536 ? len - off : 65536;

		mfs_buf_append(&pend, file + off, got);
		off += got;
		ck_assert_int_eq(fmt_fvecs_parse(pend.data, pend.len, rec, &b, &used,
						 &err), 0);
		rec += used / rb;
		mfs_buf_consume(&pend, used);
	}
	ck_assert_uint_eq(pend.len, 0);
	ck_assert_uint_eq(b.n, n);
	ck_assert_uint_eq(b.dim, dim);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(memcmp((const unsigned char *)b.vecs + i * dim * 4,
				     file + i * rb + 4, (size_t)dim * 4) == 0,
			      "%s: record %zu differs", what, i + 1);
	fprintf(stderr, "%s: %zu records of dim %u through fvecs in 64 KB "
		"pieces\n", what, n, dim);
	mfs_buf_fini(&pend);
	fmt_batch_fini(&b);
}

/* A data set through fvecs, in 64 KB pieces: the synthetic one (synth.h),
 * and photosift128 too when it is there. */
START_TEST(test_fvecs_dataset)
{
	const size_t n = 10000;
	size_t dim, len;
	float *v = synth_rows(SYNTH_PS, 0, 0, n, &dim);
	unsigned char *file;
	int32_t d;
	FILE *f;
	char path[4096];

	len = n * (4 + dim * 4);
	file = malloc(len);
	ck_assert_ptr_nonnull(file);
	d = (int32_t)dim;
	for (size_t i = 0; i < n; i++) {
		memcpy(file + i * (4 + dim * 4), &d, 4);
		memcpy(file + i * (4 + dim * 4) + 4, v + i * dim, dim * 4);
	}
	fvecs_pieces("synthetic ps", file, len, n, (uint32_t)dim);
	free(file);
	free(v);

	if (!synth_real_present("photosift128",
				"photosift128/photosift128_base.fvecs",
				(char *)NULL))
		return;
	snprintf(path, sizeof(path), "%s/photosift128/photosift128_base.fvecs",
		 synth_data_dir());
	f = fopen(path, "rb");
	ck_assert_ptr_nonnull(f);
	len = 10000 * (4 + 128 * 4);
	file = malloc(len + 1);
	ck_assert_ptr_nonnull(file);
	ck_assert_uint_eq(fread(file, 1, len + 1, f), len);
	fclose(f);
	fvecs_pieces("photosift128", file, len, 10000, 128);
	free(file);
}
END_TEST

/* ---- numbers ---- */

/* Every float printed and read back is the same float; and the fast
 * parser agrees with strtof on decimal strings of every shape. */
START_TEST(test_float_roundtrip)
{
	struct mfs_buf out;
	struct fmt_batch b;
	struct mfs_err err;
	size_t used;
	float v[4];
	int checked = 0;

	mfs_buf_init(&out, SIZE_MAX);
	fmt_batch_init(&b, VEC_FLOAT, 4);
	for (int i = 0; i < 200000; i++) {
		for (int j = 0; j < 4; j++) {
			uint32_t bits;

			do {
				bits = (uint32_t)rnd();
				if (j == 1)     /* ordinary magnitudes too */
					bits = (bits & 0x807fffffu) | ((uint32_t)(110 + rnd() % 30) << 23);
				memcpy(&v[j], &bits, 4);
			} while (!isfinite(v[j]));
		}
		mfs_buf_reset(&out);
		ck_assert_int_eq(fmt_entity_tsv(&out, i, VEC_FLOAT, 4, v), 0);
		fmt_batch_reset(&b);
		ck_assert_int_eq(fmt_text_parse(out.data, out.len, 1, false, &b,
						&used, &err), 0);
		ck_assert_uint_eq(b.n, 1);
		ck_assert_int_eq(b.ids[0], i);
		if (memcmp(b.vecs, v, 16) != 0)
			ck_abort_msg("round trip of %s", out.data);
		checked++;
	}
	ck_assert_int_eq(checked, 200000);
	/* decimal strings: compare with strtof bit for bit */
	for (int i = 0; i < 300000; i++) {
		char s[64];
		int nd = 1 + (int)(rnd() % 20), dot = (int)(rnd() % 25), n = 0, e;
		float a, want;

		if (rnd() % 2)
			s[n++] = '-';
		for (int k = 0; k < nd; k++) {
			if (k == dot)
				s[n++] = '.';
			s[n++] = (char)('0' + rnd() % 10);
		}
		e = (int)(rnd() % 90) - 50;
		if (rnd() % 3)
			n += sprintf(s + n, "e%d", e);
		s[n] = '\0';
		want = strtof(s, NULL);
		if (!isfinite(want)) {
			ck_assert_int_ne(fmt_text_parse(s, (size_t)n, 1, true, &b, &used, &err), 0);
			continue;
		}
		{
			/* through the parser: "<s> 0 0 0" */
			char line[80];
			int ln = snprintf(line, sizeof(line), "%s 0 0 0", s);

			fmt_batch_reset(&b);
			ck_assert_int_eq(fmt_text_parse(line, (size_t)ln, 1, true, &b,
							&used, &err), 0);
			memcpy(&a, b.vecs, 4);
			ck_assert_msg(memcmp(&a, &want, 4) == 0, "%s: %a vs strtof %a",
				      s, (double)a, (double)want);
		}
	}
	/* float midpoints and neighbours: 1 + 2^-24 is halfway */
	{
		static const char *const cases[] = {
			"1.000000059604644775390625", "1.0000000596046448",
			"16777217", "16777219", "33554434", "0.1", "3.4028235e38",
			"3.4028236e38", "1.17549435e-38", "1.4e-45", "7e-46",
			"340282356779733661637539395458142568447",
		};

		for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
			char line[128];
			int ln = snprintf(line, sizeof(line), "%s 0", cases[k]);
			float want = strtof(cases[k], NULL), a;

			fmt_batch_reset(&b);
			b.dim = 2;
			if (!isfinite(want)) {
				ck_assert_int_eq(fmt_text_parse(line, (size_t)ln, 1, true,
								&b, &used, &err), -EINVAL);
				continue;
			}
			ck_assert_int_eq(fmt_text_parse(line, (size_t)ln, 1, true, &b,
							&used, &err), 0);
			memcpy(&a, b.vecs, 4);
			ck_assert_msg(memcmp(&a, &want, 4) == 0, "%s", cases[k]);
		}
	}
	mfs_buf_fini(&out);
	fmt_batch_fini(&b);
}
END_TEST

/* A float as the outputs must print it: mfs_ftoa's shortest round-trip
 * decimal (test_ftoa checks it against printf and strtof), which must also
 * read back here. */
static const char *ref_float(float f, char *s)
{
	float back;

	mfs_ftoa(f, s);
	back = strtof(s, NULL);
	if (isfinite(f) && memcmp(&back, &f, 4) != 0)
		ck_abort_msg("%a prints as %s, which reads back as %a",
			     (double)f, s, (double)back);
	return s;
}

/* Floats print as mfs_ftoa does (the fast paths of fmt must agree). */
START_TEST(test_float_print)
{
	struct mfs_buf out;
	float v[8];
	size_t nv = 0;

	mfs_buf_init(&out, SIZE_MAX);
	for (int i = 0; i < 1000000 + 400; i++) {
		float f;

		if (i < 400) {          /* around powers of ten and the ends */
			static const float ends[] = {
				FLT_MAX, FLT_MIN, 1e-45f, 0.0f, 1e9f, 999999999.0f,
				999999940.0f, 1e-5f, 1e-4f, 9.99999975e-05f, 123456789.0f,
				0.5f, 1.0f, 1e30f, 1e31f, 1e-14f, 1e-15f, 16777216.0f,
			};
			float p10 = powf(10.0f, (float)(i / 8 % 50) - 25);

			f = i < 18 ? ends[i] : (i % 8 < 4 ? nextafterf(p10, 0) :
						 nextafterf(p10, INFINITY));
			if (i % 2)
				f = -f;
		} else {
			uint32_t bits = (uint32_t)rnd();

			if (i % 2)      /* embedding-like magnitudes */
				bits = (bits & 0x807fffffu) |
					((uint32_t)(100 + rnd() % 40) << 23);
			memcpy(&f, &bits, 4);
			if (!isfinite(f))
				continue;
		}
		v[nv++] = f;
		if (nv < 8)
			continue;
		mfs_buf_reset(&out);
		ck_assert_int_eq(fmt_entity_tsv(&out, 1, VEC_FLOAT, 8, v), 0);
		{
			char line[512], num[MFS_FTOA_MAX];
			int n = sprintf(line, "1\t");

			for (int j = 0; j < 8; j++)
				n += sprintf(line + n, "%s%s", j ? "," : "",
					     ref_float(v[j], num));
			line[n++] = '\n';
			line[n] = '\0';
			if (strcmp(line, out.data) != 0) {
				ck_abort_msg("printed %s, mfs_ftoa gives %s", out.data, line);
			}
		}
		nv = 0;
	}
	/* Integer values (Hamming distances, counts): 0..99999, then
	 * random ones up to past 1e9, both signs. */
	for (int i = 0; i < 200000; i++) {
		char line[64], num[MFS_FTOA_MAX];
		float f = i < 100000 ? (float)i :
			(float)(rnd() % 2000000000u);

		if (i % 3 == 0)
			f = -f;
		mfs_buf_reset(&out);
		ck_assert_int_eq(fmt_entity_tsv(&out, 1, VEC_FLOAT, 1, &f), 0);
		sprintf(line, "1\t%s\n", ref_float(f, num));
		ck_assert_msg(strcmp(line, out.data) == 0,
			      "printed %s, mfs_ftoa gives %s", out.data, line);
	}
	mfs_buf_fini(&out);
}
END_TEST

/* A large text import in one call: 20,000 lines of 100 numbers with six
 * decimals, every value read back exactly as strtof reads its text.
 * (Its speed is the benchmarks' business: bench/bench_flat.py.) */
START_TEST(test_text_large)
{
	enum { NL = 20000, D = 100 };
	size_t cap = (size_t)NL * D * 11 + 1, len = 0, used;
	char *text = malloc(cap), num[16];
	int *val = malloc((size_t)NL * D * sizeof(int));
	struct fmt_batch b;
	struct mfs_err err;

	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(val);
	for (int i = 0; i < NL; i++) {
		for (int j = 0; j < D; j++) {
			int v = (int)(rnd() % 2000001) - 1000000;

			val[i * D + j] = v;
			len += (size_t)sprintf(text + len, "%s%.6f", j ? " " : "",
					       v / 1e6);
		}
		text[len++] = '\n';
	}
	fmt_batch_init(&b, VEC_FLOAT, 0);
	ck_assert_int_eq(fmt_text_parse(text, len, 1, false, &b, &used, &err), 0);
	ck_assert_uint_eq(used, len);
	ck_assert_uint_eq(b.n, NL);
	ck_assert_uint_eq(b.dim, D);
	for (size_t i = 0; i < (size_t)NL * D; i++) {
		snprintf(num, sizeof(num), "%.6f", val[i] / 1e6);
		ck_assert_msg(((const float *)b.vecs)[i] == strtof(num, NULL),
			      "value %zu: %.9g, strtof gives %.9g", i,
			      ((const float *)b.vecs)[i], strtof(num, NULL));
	}
	fmt_batch_fini(&b);
	free(val);
	free(text);
}
END_TEST

/* ---- junk: no crash, only 0 or -EINVAL, nothing half-done ---- */

static void junk_fill(unsigned char *p, size_t n)
{
	static const char alpha[] = "0123456789.,-+eE[]{}\":\t\n\r x#&=abnifk_";
	int mode = (int)(rnd() % 3);

	for (size_t i = 0; i < n; i++) {
		if (mode == 0)
			p[i] = (unsigned char)rnd();
		else if (mode == 1)
			p[i] = (unsigned char)alpha[rnd() % (sizeof(alpha) - 1)];
		else
			p[i] = rnd() % 16 ? (unsigned char)alpha[rnd() % 12] :
				(unsigned char)rnd();
	}
}

static void err_ok(int rc, const struct mfs_err *err, const char *what)
{
	ck_assert_msg(rc == 0 || rc == -EINVAL, "%s: rc %d", what, rc);
	if (rc) {
		ck_assert_msg(err->msg[0] != '\0', "%s: empty message", what);
		ck_assert_msg(!strchr(err->msg, '\n'), "%s: newline in message", what);
	}
}

START_TEST(test_junk)
{
	struct mfs_err err;

	for (int it = 0; it < 4000; it++) {
		size_t n = rnd() % 400;
		unsigned char *p = malloc(n ? n : 1);   /* exact size: no over-read */
		char *z = malloc(n + 1);
		struct fmt_batch b;
		struct fmt_query q;
		struct mfs_kv kv;
		size_t used, n0;
		uint32_t dims[] = { 0, 2, 8, 16 };
		int rc;

		junk_fill(p, n);
		memcpy(z, p, n);
		z[n] = '\0';
		for (int t = 0; t < 2; t++) {
			for (int d = 0; d < 4; d++) {
				enum vec_type vt = t ? VEC_BINARY : VEC_FLOAT;

				if (!t && dims[d] == 8)
					continue;
				fmt_batch_init(&b, vt, dims[d]);
				rc = fmt_text_parse((char *)p, n, 1, it % 2, &b, &used, &err);
				err_ok(rc, &err, "text");
				if (!rc)
					ck_assert_uint_le(used, n);
				else
					ck_assert_uint_eq(b.n, 0);
				n0 = b.n;
				rc = fmt_fvecs_parse(p, n, 1, &b, &used, &err);
				err_ok(rc, &err, "fvecs");
				if (rc)
					ck_assert_uint_eq(b.n, n0);
				fmt_batch_fini(&b);
				fmt_query_init(&q, vt, dims[d]);
				err_ok(fmt_query_parse(&q, (char *)p, n, &err), &err, "query");
				err_ok(fmt_query_params(&q, (char *)p, n, &err), &err, "params");
				err_ok(fmt_query_parse_fvecs(&q, p, n, &err), &err, "qfvecs");
				fmt_query_fini(&q);
				fmt_query_init(&q, vt, dims[d]);
				err_ok(fmt_query_parse_name(&q, z, &err), &err, "name query");
				fmt_query_fini(&q);
			}
		}
		mfs_kv_init(&kv);
		err_ok(fmt_kv_parse((char *)p, n, &kv, &err), &err, "kv");
		err_ok(fmt_name_check("collection", z, &err), &err, "name");
		err_ok(fmt_name_check("partition", z, &err), &err, "name");
		free(p);
		free(z);
	}
}
END_TEST

/* ---- names ---- */

START_TEST(test_names)
{
	struct mfs_err err;
	char n[300];

	ck_assert_int_eq(fmt_name_check("collection", "book", &err), 0);
	ck_assert_int_eq(fmt_name_check("collection", "_a9_Z", &err), 0);
	ck_assert_int_eq(fmt_name_check("collection", "9x", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "Invalid collection name: 9x. the first character of a collection name must be an underscore or letter");
	ck_assert_int_eq(fmt_name_check("collection", "a-b", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "Invalid collection name: a-b. collection name can only contain numbers, letters and underscores");
	ck_assert_int_eq(fmt_name_check("partition", "", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "Invalid partition name: . partition name should not be empty");
	ck_assert_int_eq(fmt_name_check("partition", "a\xff", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "Invalid partition name: a\\xff. partition name can only contain numbers, letters and underscores");
	memset(n, 'a', 255);
	n[255] = '\0';
	ck_assert_int_eq(fmt_name_check("collection", n, &err), 0);
	n[255] = 'a';
	n[256] = '\0';
	ck_assert_int_eq(fmt_name_check("collection", n, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, ". the length of a collection name must be not more than 255 characters"));
	ck_assert_int_eq(strncmp(err.msg, "Invalid collection name: aaaa", 29), 0);
	/* reserved control names: refused for partitions only */
	static const char *const res[] = {
		"schema", "index", "load", "release", "state", "count", "partitions",
		"vectors", "delete", "entities", "search", "ids",
	};
	for (size_t i = 0; i < sizeof(res) / sizeof(res[0]); i++) {
		ck_assert(fmt_name_reserved(res[i]));
		ck_assert_int_eq(fmt_name_check("partition", res[i], &err), -EINVAL);
		ck_assert_int_eq(fmt_name_check("collection", res[i], &err), 0);
	}
	ck_assert_int_eq(fmt_name_check("partition", "load", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "Invalid partition name: load. 'load' is a reserved control file name");
	ck_assert(fmt_name_reserved("vectors.fvecs"));
	ck_assert(fmt_name_reserved(".errors"));
	ck_assert(fmt_name_reserved(".x"));
	ck_assert(!fmt_name_reserved("_default"));
	ck_assert(!fmt_name_reserved("loads"));
	ck_assert_int_eq(fmt_name_check("partition", "_default", &err), 0);
	ck_assert_int_eq(fmt_name_check("partition", ".hidden", &err), -EINVAL);
}
END_TEST

/* ---- key=value ---- */

START_TEST(test_kv)
{
	struct mfs_kv kv;
	struct mfs_err err;
	struct mfs_buf out;
	const char *s;

	mfs_kv_init(&kv);
	s = "dim=128 metric_type=L2";
	ck_assert_int_eq(fmt_kv_parse(s, strlen(s), &kv, &err), 0);
	ck_assert_uint_eq(kv.n, 2);
	ck_assert_str_eq(mfs_kv_get(&kv, "dim"), "128");
	ck_assert_str_eq(mfs_kv_get(&kv, "metric_type"), "L2");
	s = "# a comment\n\n  index_type=HNSW\r\nM=16&efConstruction=200\n"
		"description=  free text & more = words  \ndim=64\n";
	ck_assert_int_eq(fmt_kv_parse(s, strlen(s), &kv, &err), 0);
	ck_assert_uint_eq(kv.n, 6);
	ck_assert_str_eq(mfs_kv_get(&kv, "dim"), "64");
	ck_assert_str_eq(mfs_kv_get(&kv, "M"), "16");
	ck_assert_str_eq(mfs_kv_get(&kv, "efConstruction"), "200");
	ck_assert_str_eq(mfs_kv_get(&kv, "index_type"), "HNSW");
	ck_assert_str_eq(mfs_kv_get(&kv, "description"), "  free text & more = words");
	s = "description=\n";
	ck_assert_int_eq(fmt_kv_parse(s, strlen(s), &kv, &err), 0);
	ck_assert_str_eq(mfs_kv_get(&kv, "description"), "");
	/* errors leave kv as it was */
	s = "k=1 xyz";
	ck_assert_int_eq(fmt_kv_parse(s, strlen(s), &kv, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "expected key=value, got 'xyz'");
	ck_assert_ptr_null(mfs_kv_get(&kv, "k"));
	s = "=5";
	ck_assert_int_eq(fmt_kv_parse(s, strlen(s), &kv, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "expected key=value, got '=5'");
	ck_assert_int_eq(fmt_kv_parse("a\0=1", 4, &kv, &err), -EINVAL);
	ck_assert_int_eq(fmt_kv_parse("a=\xc3\x28", 4, &kv, &err), -EINVAL);
	ck_assert_int_eq(fmt_kv_parse("d\xc3\xa9=1", 5, &kv, &err), -EINVAL);
	ck_assert_int_eq(fmt_kv_parse("description=caf\xc3\xa9", 17, &kv, &err), 0);
	ck_assert_str_eq(mfs_kv_get(&kv, "description"), "caf\xc3\xa9");

	mfs_kv_init(&kv);
	s = "b=2\na=1";
	ck_assert_int_eq(fmt_kv_parse(s, strlen(s), &kv, &err), 0);
	mfs_buf_init(&out, SIZE_MAX);
	ck_assert_int_eq(fmt_kv_print(&out, &kv), 0);
	ck_assert_str_eq(out.data, "b=2\na=1\n");
	mfs_buf_fini(&out);
}
END_TEST

/* ---- queries ---- */

START_TEST(test_query_parse)
{
	struct fmt_query q;
	struct mfs_err err;
	const char *s;

	fmt_query_init(&q, VEC_FLOAT, 3);
	ck_assert_uint_eq(q.k, 10);
	s = "k=5\n0.1,0.2,0.3\n";
	ck_assert_int_eq(fmt_query_parse(&q, s, strlen(s), &err), 0);
	ck_assert_uint_eq(q.k, 5);
	ck_assert_uint_eq(q.q.n, 1);
	ck_assert(fv(&q.q, 0, 2) == 0.3f);
	ck_assert(!q.by_id && !q.json);
	fmt_query_fini(&q);

	fmt_query_init(&q, VEC_FLOAT, 0);
	s = "limit=7 ef=64&nprobe=8\nformat=json\n\noffset=3  partitions=a,b,a\n"
		"1 2 3\n[4, 5, 6]\r\n";
	ck_assert_int_eq(fmt_query_parse(&q, s, strlen(s), &err), 0);
	ck_assert_uint_eq(q.k, 7);
	ck_assert_uint_eq(q.offset, 3);
	ck_assert(q.json);
	ck_assert_uint_eq(q.nparts, 2);
	ck_assert_str_eq(q.parts[0], "a");
	ck_assert_str_eq(q.parts[1], "b");
	ck_assert_str_eq(mfs_kv_get(&q.params, "ef"), "64");
	ck_assert_str_eq(mfs_kv_get(&q.params, "nprobe"), "8");
	ck_assert_uint_eq(q.q.n, 2);
	ck_assert_uint_eq(q.q.dim, 3);
	ck_assert(fv(&q.q, 1, 0) == 4.0f);
	/* overrides */
	s = "top_k=100&ef=128&format=tsv";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), 0);
	ck_assert_uint_eq(q.k, 100);
	ck_assert(!q.json);
	ck_assert_str_eq(mfs_kv_get(&q.params, "ef"), "128");
	/* a failed override changes nothing */
	s = "k=3&k=0";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "topk [0] is invalid, it should be in range [1, 16384]");
	s = "k=3 ef=9 limit=16385";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "topk [16385] is invalid, it should be in range [1, 16384]");
	ck_assert_uint_eq(q.k, 100);
	ck_assert_str_eq(mfs_kv_get(&q.params, "ef"), "128");
	s = "k=x";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "topk [x] is invalid, it should be in range [1, 16384]");
	s = "k=16384";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "topk + offset [16387] is invalid, it should be in range [1, 16384]");
	s = "k=16384&offset=0";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), 0);
	ck_assert_uint_eq(q.k, 16384);
	s = "offset=-1";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "offset [-1] is invalid, it should be in range [0, 16384]");
	s = "foo=1";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "unknown search parameter 'foo' (expected k, limit, top_k, offset, format, partitions, id, filter, output_fields, ef, nprobe, radius, range_filter, group_by_field, group_size, strict_group_size, metric_type)");
	s = "format=xml";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "format must be tsv or json, got 'xml'");
	s = "ef=abc";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "ef must be an integer in [1, 32768], got 'abc'");
	s = "nprobe=0";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	s = "radius=nan";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	s = "search_k=-1";      /* no index honours it: SPEC §10 */
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	s = "radius=0.5 range_filter=-1e3";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), 0);
	ck_assert_str_eq(mfs_kv_get(&q.params, "radius"), "0.5");
	s = "partitions=9x";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "Invalid partition name: 9x. the first character of a partition name must be an underscore or letter");
	s = "partitions=a,";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_uint_eq(q.nparts, 2);
	s = "partitions=";
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), 0);
	ck_assert_uint_eq(q.nparts, 0);
	s = "id=5";              /* vectors and an id: which one? */
	ck_assert_int_eq(fmt_query_params(&q, s, strlen(s), &err), -EINVAL);
	ck_assert(!q.by_id);
	fmt_query_fini(&q);

	/* errors of whole query texts; nothing is kept */
	fmt_query_init(&q, VEC_FLOAT, 2);
	s = "k=5\n";
	ck_assert_int_eq(fmt_query_parse(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "query has no vector and no id=N");
	s = "\n  \n";
	ck_assert_int_eq(fmt_query_parse(&q, s, strlen(s), &err), -EINVAL);
	s = "1 2\n1 2 3\n";
	ck_assert_int_eq(fmt_query_parse(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "line 2: expected 2 values, got 3");
	ck_assert_uint_eq(q.q.n, 0);
	s = "k=2\n1 2\nbogus=1\n";
	ck_assert_int_eq(fmt_query_parse(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "line 3: unknown search parameter 'bogus'"));
	ck_assert_uint_eq(q.q.n, 0);
	ck_assert_uint_eq(q.k, 10);
	s = "7\t1,2\n";
	ck_assert_int_eq(fmt_query_parse(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "line 1: a query vector takes no id (expected values only)");
	s = "id=3\n1 2\n";
	ck_assert_int_eq(fmt_query_parse(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_uint_eq(q.q.n, 0);
	ck_assert(!q.by_id);
	s = "id=-42 k=3";
	ck_assert_int_eq(fmt_query_parse(&q, s, strlen(s), &err), 0);
	ck_assert(q.by_id);
	ck_assert_int_eq(q.id, -42);
	ck_assert_uint_eq(q.k, 3);
	fmt_query_fini(&q);

	fmt_query_init(&q, VEC_FLOAT, 2);
	s = "id=x";
	ck_assert_int_eq(fmt_query_parse(&q, s, strlen(s), &err), -EINVAL);
	ck_assert_str_eq(err.msg, "id must be a 64-bit integer, got 'x'");
	fmt_query_fini(&q);
}
END_TEST

START_TEST(test_query_names)
{
	struct fmt_query q;
	struct mfs_err err;
	size_t bl;
	const char *params;

	fmt_query_split_name("0.1,0.2,0.3&k=3&ef=32", &bl, &params);
	ck_assert_uint_eq(bl, 11);
	ck_assert_str_eq(params, "k=3&ef=32");
	fmt_query_split_name("q1", &bl, &params);
	ck_assert_uint_eq(bl, 2);
	ck_assert_ptr_null(params);
	fmt_query_split_name("q1&", &bl, &params);
	ck_assert_uint_eq(bl, 2);
	ck_assert_str_eq(params, "");

	/* the FUSE layer's way: split, parse the base, apply the rest */
	fmt_query_init(&q, VEC_FLOAT, 0);
	ck_assert_int_eq(fmt_query_parse(&q, "0.1,0.2,0.3", 11, &err), 0);
	ck_assert_uint_eq(q.q.n, 1);
	ck_assert_uint_eq(q.q.dim, 3);
	ck_assert_int_eq(fmt_query_params(&q, "k=3&ef=32", 9, &err), 0);
	ck_assert_uint_eq(q.k, 3);
	fmt_query_fini(&q);
	fmt_query_init(&q, VEC_FLOAT, 3);
	ck_assert_int_eq(fmt_query_parse(&q, "id=42", 5, &err), 0);
	ck_assert(q.by_id);
	ck_assert_int_eq(q.id, 42);
	ck_assert_uint_eq(q.q.n, 0);
	fmt_query_fini(&q);

	/* or in one call */
	fmt_query_init(&q, VEC_FLOAT, 3);
	ck_assert_int_eq(fmt_query_parse_name(&q, "0.1,0.2,0.3&k=3&ef=32", &err), 0);
	ck_assert_uint_eq(q.k, 3);
	ck_assert_uint_eq(q.q.n, 1);
	ck_assert_str_eq(mfs_kv_get(&q.params, "ef"), "32");
	fmt_query_fini(&q);
	fmt_query_init(&q, VEC_FLOAT, 3);
	ck_assert_int_eq(fmt_query_parse_name(&q, "id=42&k=5", &err), 0);
	ck_assert(q.by_id);
	ck_assert_uint_eq(q.k, 5);
	fmt_query_fini(&q);
	fmt_query_init(&q, VEC_FLOAT, 3);
	ck_assert_int_eq(fmt_query_parse_name(&q, "k=3&id=42", &err), 0);
	ck_assert(q.by_id);
	fmt_query_fini(&q);
	fmt_query_init(&q, VEC_FLOAT, 3);
	ck_assert_int_eq(fmt_query_parse_name(&q, "[1, 2, 3]&k=0", &err), -EINVAL);
	ck_assert_int_eq(fmt_query_parse_name(&q, "k=5", &err), -EINVAL);
	ck_assert_str_eq(err.msg, "query has no vector and no id=N");
	ck_assert_int_eq(fmt_query_parse_name(&q, "q1&k=5", &err), -EINVAL);
	ck_assert_uint_eq(q.k, 10);
	fmt_query_fini(&q);
}
END_TEST

START_TEST(test_query_fvecs)
{
	struct fmt_query q;
	struct mfs_err err;
	unsigned char buf[256];
	float v[4] = { 1, 2, 3, 4 };
	size_t len = 0;

	for (int i = 0; i < 3; i++)
		len += put_rec(buf + len, 4, v, 4);
	fmt_query_init(&q, VEC_FLOAT, 4);
	ck_assert_int_eq(fmt_query_parse_fvecs(&q, buf, len - 1, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "record 3: truncated: 19 bytes left over after the last whole record");
	ck_assert_uint_eq(q.q.n, 0);
	ck_assert_int_eq(fmt_query_parse_fvecs(&q, buf, 0, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "query has no vector and no id=N");
	ck_assert_int_eq(fmt_query_parse_fvecs(&q, buf, len, &err), 0);
	ck_assert_uint_eq(q.q.n, 3);
	ck_assert_int_eq(fmt_query_params(&q, "k=10&nprobe=32", 14, &err), 0);
	fmt_query_fini(&q);
}
END_TEST

/* ---- output ---- */

START_TEST(test_entities_out)
{
	struct mfs_buf out;
	float v[3] = { 0.5f, -1.0f, 3.14159274f };
	uint8_t bits[2] = { 0x0a, 0xff };

	mfs_buf_init(&out, SIZE_MAX);
	ck_assert_int_eq(fmt_entity_tsv(&out, 42, VEC_FLOAT, 3, v), 0);
	ck_assert_str_eq(out.data, "42\t0.5,-1,3.1415927\n");
	mfs_buf_reset(&out);
	ck_assert_int_eq(fmt_entity_tsv(&out, -1, VEC_BINARY, 16, bits), 0);
	ck_assert_str_eq(out.data, "-1\t0aff\n");
	mfs_buf_reset(&out);
	ck_assert_int_eq(fmt_entity_json(&out, 42, "p", VEC_FLOAT, 3, v), 0);
	ck_assert_str_eq(out.data, "{\"id\":42,\"partition\":\"p\",\"vector\":[0.5,-1,3.1415927]}\n");
	mfs_buf_reset(&out);
	ck_assert_int_eq(fmt_entity_json(&out, 7, NULL, VEC_BINARY, 16, bits), 0);
	ck_assert_str_eq(out.data, "{\"id\":7,\"vector\":\"0aff\"}\n");
	mfs_buf_reset(&out);
	ck_assert_int_eq(fmt_entity_fvecs(&out, VEC_FLOAT, 3, v), 0);
	ck_assert_uint_eq(out.len, 16);
	ck_assert_mem_eq(out.data, "\x03\0\0\0", 4);
	ck_assert_mem_eq(out.data + 4, v, 12);
	mfs_buf_reset(&out);
	ck_assert_int_eq(fmt_entity_fvecs(&out, VEC_BINARY, 16, bits), 0);
	ck_assert_mem_eq(out.data, "\x02\0\0\0\x0a\xff", 6);

	/* what is printed reads back, JSON included */
	{
		struct fmt_batch b;
		struct mfs_err err;
		size_t used;

		mfs_buf_reset(&out);
		fmt_entity_tsv(&out, 42, VEC_FLOAT, 3, v);
		fmt_entity_json(&out, 43, "_default", VEC_FLOAT, 3, v);
		fmt_batch_init(&b, VEC_FLOAT, 3);
		ck_assert_int_eq(fmt_text_parse(out.data, out.len, 1, false, &b,
						&used, &err), 0);
		ck_assert_uint_eq(b.n, 2);
		ck_assert_int_eq(b.ids[1], 43);
		ck_assert_mem_eq(b.vecs, v, 12);
		ck_assert_mem_eq(b.vecs + 12, v, 12);
		fmt_batch_fini(&b);
		fmt_batch_init(&b, VEC_BINARY, 16);
		mfs_buf_reset(&out);
		fmt_entity_tsv(&out, 1, VEC_BINARY, 16, bits);
		fmt_entity_json(&out, 2, "p", VEC_BINARY, 16, bits);
		ck_assert_int_eq(fmt_text_parse(out.data, out.len, 1, false, &b,
						&used, &err), 0);
		ck_assert_uint_eq(b.n, 2);
		ck_assert_mem_eq(b.vecs, bits, 2);
		ck_assert_mem_eq(b.vecs + 2, bits, 2);
		fmt_batch_fini(&b);
	}
	/* a capped buffer fails whole */
	mfs_buf_fini(&out);
	mfs_buf_init(&out, 10);
	ck_assert_int_eq(fmt_entity_tsv(&out, 42, VEC_FLOAT, 3, v), -EFBIG);
	ck_assert_uint_eq(out.len, 0);
	mfs_buf_fini(&out);
}
END_TEST

START_TEST(test_results)
{
	struct mfs_buf out;
	size_t count[3] = { 2, 1, 0 };
	int64_t ids[9] = { 1, 2, 0, 3, 0, 0, 0, 0, 0 };
	float dist[9] = { 0.5f, 1.25f, 0, 2.0f, 0, 0, 0, 0, 0 };

	mfs_buf_init(&out, SIZE_MAX);
	ck_assert_int_eq(fmt_results(&out, false, 2, 3, count, ids, dist), 0);
	ck_assert_str_eq(out.data, "1\t0.5\n2\t1.25\n\n3\t2\n");
	mfs_buf_reset(&out);
	ck_assert_int_eq(fmt_results(&out, true, 2, 3, count, ids, dist), 0);
	ck_assert_str_eq(out.data, "[[{\"id\":1,\"distance\":0.5},{\"id\":2,\"distance\":1.25}],[{\"id\":3,\"distance\":2}]]\n");
	mfs_buf_reset(&out);
	ck_assert_int_eq(fmt_results(&out, false, 3, 3, count, ids, dist), 0);
	ck_assert_str_eq(out.data, "1\t0.5\n2\t1.25\n\n3\t2\n\n");
	mfs_buf_reset(&out);
	ck_assert_int_eq(fmt_results(&out, true, 1, 3, count + 2, ids, dist), 0);
	ck_assert_str_eq(out.data, "[[]]\n");
	mfs_buf_reset(&out);
	ck_assert_int_eq(fmt_results(&out, false, 1, 3, count + 2, ids, dist), 0);
	ck_assert_uint_eq(out.len, 0);
	dist[0] = 0.1f;
	mfs_buf_reset(&out);
	ck_assert_int_eq(fmt_results(&out, false, 1, 3, count + 1, ids, dist), 0);
	ck_assert_str_eq(out.data, "1\t0.1\n");
	mfs_buf_fini(&out);
}
END_TEST

/* fmt_results against printf's own "%" PRId64 and ref_float, for edge ids and
 * distances, TSV and JSON, with room and near the buffer's cap (where each
 * hit is appended by itself). */
START_TEST(test_results_printf)
{
	int64_t ids[] = { 0, 1, -1, 42, INT64_MAX, INT64_MIN, 1000000007,
			  -987654321012LL };
	float dist[] = { 0.0f, -0.0f, 1.0f, 3.0f, 255.0f, 0.1f, -2.5e-7f,
			 3.4028235e38f, 1.17549435e-38f, 1e-45f,
			 INFINITY, -INFINITY, 123456789.0f, 0.333333343f };
	size_t ni = sizeof(ids) / sizeof(ids[0]);
	size_t nd = sizeof(dist) / sizeof(dist[0]);
	size_t n = ni * nd;
	int64_t *qi = malloc(n * sizeof(*qi));
	float *qd = malloc(n * sizeof(*qd));
	size_t count[1] = { n };
	struct mfs_buf out, want, small;
	char num[MFS_FTOA_MAX];

	ck_assert_ptr_nonnull(qi);
	ck_assert_ptr_nonnull(qd);
	for (size_t i = 0; i < n; i++) {
		qi[i] = ids[i % ni];
		qd[i] = dist[i / ni];
	}
	for (int json = 0; json <= 1; json++) {
		mfs_buf_init(&out, SIZE_MAX);
		mfs_buf_init(&want, SIZE_MAX);
		if (json)
			mfs_buf_append(&want, "[[", 2);
		for (size_t i = 0; i < n; i++) {
			if (!json)
				mfs_buf_printf(&want, "%" PRId64 "\t%s\n",
					       qi[i], ref_float(qd[i], num));
			else if (isfinite(qd[i]))
				mfs_buf_printf(&want, "%s{\"id\":%" PRId64
					       ",\"distance\":%s}",
					       i ? "," : "", qi[i],
					       ref_float(qd[i], num));
			else
				mfs_buf_printf(&want, "%s{\"id\":%" PRId64
					       ",\"distance\":null}",
					       i ? "," : "", qi[i]);
		}
		if (json)
			mfs_buf_append(&want, "]]\n", 3);
		ck_assert_int_eq(fmt_results(&out, json, 1, n, count, qi, qd),
				 0);
		ck_assert_str_eq(out.data, want.data);
		/* exactly the room the text needs: the slow path fits */
		mfs_buf_init(&small, want.len);
		ck_assert_int_eq(fmt_results(&small, json, 1, n, count, qi,
					     qd), 0);
		ck_assert_str_eq(small.data, want.data);
		mfs_buf_fini(&small);
		/* one byte less: -EFBIG and nothing written */
		mfs_buf_init(&small, want.len - 1);
		mfs_buf_append(&small, "x", 1);
		ck_assert_int_eq(fmt_results(&small, json, 1, n, count, qi,
					     qd), -EFBIG);
		ck_assert_uint_eq(small.len, 1);
		ck_assert_str_eq(small.data, "x");
		mfs_buf_fini(&small);
		mfs_buf_fini(&out);
		mfs_buf_fini(&want);
	}
	free(qi);
	free(qd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fmt");
	TCase *tc = tcase_create("fmt");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_text_forms);
	tcase_add_test(tc, test_results_printf);
	tcase_add_test(tc, test_text_dim);
	tcase_add_test(tc, test_text_errors);
	tcase_add_test(tc, test_text_lines);
	tcase_add_test(tc, test_text_long_line);
	tcase_add_test(tc, test_text_straddle);
	tcase_add_test(tc, test_text_binary);
	tcase_add_test(tc, test_fvecs);
	tcase_add_test(tc, test_fvecs_dataset);
	tcase_add_test(tc, test_float_roundtrip);
	tcase_add_test(tc, test_float_print);
	tcase_add_test(tc, test_text_large);
	tcase_add_test(tc, test_junk);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_kv);
	tcase_add_test(tc, test_query_parse);
	tcase_add_test(tc, test_query_names);
	tcase_add_test(tc, test_query_fvecs);
	tcase_add_test(tc, test_entities_out);
	tcase_add_test(tc, test_results);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
