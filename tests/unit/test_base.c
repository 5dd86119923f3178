/* test_base.c - unit tests of src/base: errors, buffers, kv, pool. */
#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/kv.h"
#include "base/pool.h"

START_TEST(test_errf)
{
	struct mfs_err err;

	mfs_err_clear(&err);
	ck_assert_int_eq(err.code, 0);
	ck_assert_int_eq(mfs_errf(&err, -EINVAL, "line %d:\nexpected %s", 3, "x"),
			 -EINVAL);
	ck_assert_str_eq(err.msg, "line 3: expected x");
	ck_assert_int_eq(err.code, -EINVAL);
	ck_assert_int_eq(mfs_errf(NULL, -ENOENT, "dropped"), -ENOENT);
	mfs_err_prefix(&err, -EIO, "write /c/vectors");
	ck_assert_str_eq(err.msg, "write /c/vectors: line 3: expected x");
	ck_assert_int_eq(err.code, -EINVAL);
	ck_assert_str_eq(mfs_errno_name(-EDQUOT), "EDQUOT");
	ck_assert_str_eq(mfs_errno_name(ENODATA), "ENODATA");
	ck_assert_str_eq(mfs_errno_name(99999), "E?");
}
END_TEST

START_TEST(test_buf)
{
	struct mfs_buf b;
	size_t len;
	char *p;

	mfs_buf_init(&b, 10);
	ck_assert_int_eq(mfs_buf_append(&b, "hello", 5), 0);
	ck_assert_int_eq(mfs_buf_printf(&b, "%d", 1234), 0);
	ck_assert_str_eq(b.data, "hello1234");
	ck_assert_int_eq(mfs_buf_append(&b, "ab", 2), -EFBIG);
	ck_assert_str_eq(b.data, "hello1234");     /* unchanged on failure */
	ck_assert_int_eq(mfs_buf_printf(&b, "%s", "xy"), -EFBIG);
	ck_assert_uint_eq(b.len, 9);
	mfs_buf_consume(&b, 5);
	ck_assert_str_eq(b.data, "1234");
	mfs_buf_consume(&b, 100);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	mfs_buf_fini(&b);

	mfs_buf_init(&b, SIZE_MAX);
	for (int i = 0; i < 10000; i++)
		ck_assert_int_eq(mfs_buf_printf(&b, "%05d", i), 0);
	ck_assert_uint_eq(b.len, 50000);
	ck_assert_int_eq(memcmp(b.data + 49995, "09999", 5), 0);
	p = mfs_buf_take(&b, &len);
	ck_assert_uint_eq(len, 50000);
	ck_assert_ptr_null(b.data);
	free(p);
	p = mfs_buf_take(&b, &len);             /* empty buffer: "" owned */
	ck_assert_str_eq(p, "");
	free(p);
	mfs_buf_fini(&b);
	mfs_buf_fini(NULL);
}
END_TEST

START_TEST(test_kv)
{
	struct mfs_kv kv;
	struct mfs_err err;
	char big[MFS_KV_VAL_MAX + 1];
	long v;

	mfs_kv_init(&kv);
	ck_assert_int_eq(mfs_kv_set(&kv, "M", "16", &err), 0);
	ck_assert_int_eq(mfs_kv_set(&kv, "ef", "64", &err), 0);
	ck_assert_int_eq(mfs_kv_set(&kv, "M", "32", &err), 0);
	ck_assert_uint_eq(kv.n, 2);
	ck_assert_str_eq(mfs_kv_get(&kv, "M"), "32");
	ck_assert_ptr_null(mfs_kv_get(&kv, "m"));
	ck_assert_int_eq(mfs_kv_get_long(&kv, "M", 16, 2, 2048, &v, &err), 0);
	ck_assert_int_eq(v, 32);
	ck_assert_int_eq(mfs_kv_get_long(&kv, "x", 7, 2, 2048, &v, &err), 0);
	ck_assert_int_eq(v, 7);
	ck_assert_int_eq(mfs_kv_get_long(&kv, "ef", 0, 100, 200, &v, &err), -EINVAL);
	ck_assert_str_eq(err.msg, "ef must be an integer in [100, 200], got 64");
	mfs_kv_del(&kv, "M");
	ck_assert_uint_eq(kv.n, 1);
	ck_assert_str_eq(kv.item[0].key, "ef");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(mfs_kv_set(&kv, "d", big, &err), -EINVAL);
	for (int i = 0; i < MFS_KV_MAX - 1; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%d", i);
		ck_assert_int_eq(mfs_kv_set(&kv, key, "1", &err), 0);
	}
	ck_assert_int_eq(mfs_kv_set(&kv, "one_more", "1", &err), -EINVAL);
}
END_TEST

START_TEST(test_parse)
{
	uint64_t sz;
	long v;

	ck_assert_int_eq(mfs_parse_size("1G", &sz), 0);
	ck_assert_uint_eq(sz, 1ull << 30);
	ck_assert_int_eq(mfs_parse_size("64K", &sz), 0);
	ck_assert_uint_eq(sz, 65536);
	ck_assert_int_eq(mfs_parse_size("512MB", &sz), 0);
	ck_assert_uint_eq(sz, 512ull << 20);
	ck_assert_int_eq(mfs_parse_size("123", &sz), 0);
	ck_assert_uint_eq(sz, 123);
	ck_assert_int_eq(mfs_parse_size("-1", &sz), -EINVAL);
	ck_assert_int_eq(mfs_parse_size("1X", &sz), -EINVAL);
	ck_assert_int_eq(mfs_parse_size("", &sz), -EINVAL);
	ck_assert_int_eq(mfs_parse_size("99999999999T", &sz), -EINVAL);
	ck_assert_int_eq(mfs_parse_long("42", 0, 100, &v), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_int_eq(mfs_parse_long("42x", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(mfs_parse_long("101", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(mfs_parse_long(NULL, 0, 100, &v), -EINVAL);
}
END_TEST

struct sum_arg {
	atomic_ullong sum;
	atomic_uint seen[64];
	atomic_int clash;
	atomic_int inside[64];
	struct mfs_pool *pool;
};

static void add_i(void *p, size_t i, unsigned w)
{
	struct sum_arg *a = p;

	if (atomic_fetch_add(&a->inside[w], 1) != 0)
		atomic_store(&a->clash, 1);
	atomic_fetch_add(&a->sum, i);
	atomic_fetch_add(&a->seen[w], 1);
	atomic_fetch_sub(&a->inside[w], 1);
}

static void nested(void *p, size_t i, unsigned w)
{
	struct sum_arg *a = p;
	struct sum_arg *inner = calloc(1, sizeof(*inner));

	mfs_pool_for(a->pool, 100, add_i, inner);
	atomic_fetch_add(&a->sum, atomic_load(&inner->sum));
	free(inner);
}

START_TEST(test_pool)
{
	struct mfs_pool *pool;
	struct sum_arg *a = calloc(1, sizeof(*a));

	ck_assert_int_eq(mfs_pool_new(4, &pool), 0);
	ck_assert_uint_eq(mfs_pool_size(pool), 4);
	mfs_pool_for(pool, 100000, add_i, a);
	ck_assert_uint_eq(atomic_load(&a->sum), 100000ull * 99999 / 2);
	ck_assert_int_eq(atomic_load(&a->clash), 0);
	for (int w = 4; w < 64; w++)
		ck_assert_uint_eq(atomic_load(&a->seen[w]), 0);
	/* nested calls from inside tasks must not deadlock */
	memset(a, 0, sizeof(*a));
	a->pool = pool;
	mfs_pool_for(pool, 50, nested, a);
	ck_assert_uint_eq(atomic_load(&a->sum), 50ull * (100 * 99 / 2));
	mfs_pool_for(pool, 0, add_i, a);
	mfs_pool_free(pool);
	/* NULL pool runs inline */
	memset(a, 0, sizeof(*a));
	mfs_pool_for(NULL, 10, add_i, a);
	ck_assert_uint_eq(atomic_load(&a->sum), 45);
	free(a);
}
END_TEST

static Suite *base_suite(void)
{
	Suite *s = suite_create("base");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_errf);
	tcase_add_test(tc, test_buf);
	tcase_add_test(tc, test_kv);
	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_pool);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(base_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
