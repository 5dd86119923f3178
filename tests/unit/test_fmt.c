/* test_fmt.c - unit tests of src/fmt. */
#include <check.h>
#include "fmt/fmt.h"
START_TEST(test_smoke) { ck_assert(1); }
END_TEST
int main(void)
{
	Suite *s = suite_create("fmt");
	TCase *tc = tcase_create("all");
	tcase_add_test(tc, test_smoke);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
