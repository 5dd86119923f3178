/* test_ftoa.c - mfs_ftoa and mfs_dtoa against a reference written with
 * printf and strtof only.
 *
 * For each float the reference tries 1, 2, ... 9 significant digits:
 * printf's correctly rounded decimal (ties to even), then its neighbours
 * in the last digit, the first that strtof reads back as the float wins;
 * the text is then laid out by printf from that decimal.  Every float must
 * print as the reference prints it and read back to itself.
 *
 * `test_ftoa` checks edges, powers of ten and their neighbours, integers,
 * embedding-like values and 8 million random bit patterns (all read back,
 * one in eight compared with the reference).  `test_ftoa
 * all` (make check-ftoa) checks all 2^32 bit patterns: every one reads
 * back, and one in 64 (every pattern with the low six bits equal to a
 * rotating value) is compared with the reference, which is 20 times
 * slower than mfs_ftoa.
 */
#include <check.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/ftoa.h"

/* The reference text of a finite nonzero float. */
static void ref_ftoa(float v, char *out)
{
	float a = fabsf(v);
	char b[64], s[64];

	if (v == 0) {
		strcpy(out, signbit(v) ? "-0" : "0");
		return;
	}
	if (!isfinite(v)) {
		sprintf(out, "%g", (double)v);
		return;
	}
	for (int p = 1; p <= 9; p++) {
		long long d = 0, cand[3];
		char *e;
		int x;

		snprintf(b, sizeof(b), "%.*e", p - 1, (double)a);
		for (e = b; *e != 'e'; e++)
			if (*e != '.')
				d = d * 10 + (*e - '0');
		x = atoi(e + 1);
		cand[0] = d;
		cand[1] = d - 1;
		cand[2] = d + 1;
		for (int j = 0; j < 3; j++) {
			double dv;
			char m[64], *z;
			int nd, X;

			if (cand[j] <= 0)
				continue;
			snprintf(s, sizeof(s), "%llde%d", cand[j], x - (p - 1));
			if (strtof(s, NULL) != a)
				continue;
			/* lay out the decimal found: its digits by %e */
			dv = strtod(s, NULL);
			snprintf(m, sizeof(m), "%.*e", p - 1, dv);
			z = strchr(m, 'e');
			X = atoi(z + 1);
			nd = 0;
			for (char *q = m; q < z; q++)
				if (*q != '.')
					nd++;
			while (nd > 1 && z[-1] == '0') {   /* strip zeros */
				memmove(z - 1, z, strlen(z) + 1);
				z--;
				nd--;
			}
			if (z[-1] == '.') {
				memmove(z - 1, z, strlen(z) + 1);
				z--;
			}
			if (X < -4 || X >= 9)
				sprintf(out, "%s%s", v < 0 ? "-" : "", m);
			else
				sprintf(out, "%s%.*f", v < 0 ? "-" : "",
					nd - 1 - X > 0 ? nd - 1 - X : 0, dv);
			return;
		}
	}
	ck_abort_msg("no decimal of 9 digits reads back");
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/*
 * v prints as the reference does (when compare) and reads back.  Plain
 * tests, ck_abort_msg only on failure: every passing ck_assert is a
 * message to the runner, and this runs millions of times.
 */
static void check(float v, int compare)
{
	char got[MFS_FTOA_MAX + 8], want[64];
	int n;
	float back;

	memset(got, 0x55, sizeof(got));
	n = mfs_ftoa(v, got);
	if (n != (int)strlen(got) || n >= MFS_FTOA_MAX)
		ck_abort_msg("%a: mfs_ftoa returned %d for \"%.*s\"", (double)v,
			     n, MFS_FTOA_MAX, got);
	if (compare) {
		ref_ftoa(v, want);
		if (strcmp(got, want) != 0)
			ck_abort_msg("%a: mfs_ftoa %s, reference %s", (double)v,
				     got, want);
	}
	back = strtof(got, NULL);
	if (isfinite(v) && memcmp(&back, &v, 4) != 0)
		ck_abort_msg("%a: %s reads back as %a", (double)v, got,
			     (double)back);
}

static void check_one(float v)
{
	check(v, 1);
}

START_TEST(test_known)
{
	static const struct { float v; const char *s; } k[] = {
		{ 0.1f, "0.1" }, { -0.1f, "-0.1" }, { 0.0f, "0" }, { -0.0f, "-0" },
		{ 1.0f, "1" }, { 0.5f, "0.5" }, { 3.14159274f, "3.1415927" },
		{ 1e9f, "1e+09" }, { 123456789.0f, "123456790" },
		{ 100000000.0f, "100000000" }, { 1e-4f, "0.0001" },
		{ 1e-5f, "1e-05" }, { FLT_MAX, "3.4028235e+38" },
		{ FLT_MIN, "1.1754944e-38" }, { 1e-45f, "1e-45" },
		{ 16777216.0f, "16777216" }, { 2025055.75f, "2025055.8" },
		{ 0.333333343f, "0.33333334" }, { 255.0f, "255" },
		{ -2.5e-7f, "-2.5e-07" }, { 3e30f, "3e+30" },
	};
	char buf[MFS_FTOA_MAX];

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		mfs_ftoa(k[i].v, buf);
		ck_assert_str_eq(buf, k[i].s);
		check_one(k[i].v);
	}
	mfs_ftoa(INFINITY, buf);
	ck_assert_str_eq(buf, "inf");
	mfs_ftoa(-INFINITY, buf);
	ck_assert_str_eq(buf, "-inf");
}
END_TEST

START_TEST(test_edges)
{
	/* powers of ten and of two, each with its neighbours */
	for (int e = -45; e <= 38; e++) {
		char s[16];
		float p;

		snprintf(s, sizeof(s), "1e%d", e);
		p = strtof(s, NULL);
		check_one(p);
		check_one(nextafterf(p, 0));
		check_one(nextafterf(p, INFINITY));
		check_one(-p);
	}
	for (int e = -149; e <= 127; e++) {
		float p = ldexpf(1.0f, e);

		check_one(p);
		check_one(nextafterf(p, 0));
		check_one(nextafterf(p, INFINITY));
	}
	for (uint32_t u = 1; u < 4096; u++) {   /* the first subnormals */
		float f;

		memcpy(&f, &u, 4);
		check_one(f);
	}
	check_one(FLT_MAX);
	check_one(nextafterf(FLT_MAX, 0));
}
END_TEST

START_TEST(test_integers)
{
	for (int i = 0; i < 300000; i++)
		check((float)(i % 2 ? -i : i), i % 8 == 0);
	for (int i = 0; i < 300000; i++)
		check((float)(rnd() % 2000000000u), i % 8 == 0);
}
END_TEST

START_TEST(test_random)
{
	/* 8 million read back, one in eight of them against the reference */
	for (int i = 0; i < 8000000; i++) {
		uint32_t u = rnd();
		float f;

		if (i % 2)      /* embedding-like magnitudes, 2^-27 to 2^12 */
			u = (u & 0x807fffffu) | ((uint32_t)(100 + rnd() % 40) << 23);
		memcpy(&f, &u, 4);
		if (isfinite(f))
			check(f, i % 8 == 0);
	}
	/* decimals as people write them */
	for (int i = 0; i < 100000; i++) {
		char s[32];

		snprintf(s, sizeof(s), "%s%u.%0*u", i % 3 ? "" : "-",
			 rnd() % 1000, 1 + (int)(rnd() % 6), rnd() % 1000000);
		check_one(strtof(s, NULL));
	}
}
END_TEST

START_TEST(test_dtoa)
{
	static const struct { double v; const char *s; } k[] = {
		{ 0.1, "0.1" }, { 1.0, "1" }, { 1e300, "1e+300" },
		{ 5e-324, "5e-324" }, { 0.1234567890123, "0.1234567890123" },
		{ DBL_MAX, "1.7976931348623157e+308" }, { 1e20, "1e+20" },
		{ 1.0 / 3, "0.3333333333333333" },
	};
	char buf[MFS_FTOA_MAX];

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		mfs_dtoa(k[i].v, buf);
		ck_assert_str_eq(buf, k[i].s);
	}
	for (int i = 0; i < 200000; i++) {
		uint64_t u = (uint64_t)rnd() << 32 | rnd();
		double d;

		memcpy(&d, &u, 8);
		if (!isfinite(d))
			continue;
		if (mfs_dtoa(d, buf) >= MFS_FTOA_MAX || strtod(buf, NULL) != d)
			ck_abort_msg("%a: mfs_dtoa gave %s", d, buf);
	}
}
END_TEST

/* ---- every float (make check-ftoa) ---- */

struct span {
	uint64_t lo, hi, bad, compared;
};

static void *all_task(void *arg)
{
	struct span *s = arg;
	char got[MFS_FTOA_MAX], want[64];

	for (uint64_t b = s->lo; b < s->hi; b++) {
		uint32_t u = (uint32_t)b;
		float f, r;

		memcpy(&f, &u, 4);
		if (!isfinite(f))
			continue;
		mfs_ftoa(f, got);
		r = strtof(got, NULL);
		if (memcmp(&r, &f, 4) != 0 && s->bad++ < 10)
			fprintf(stderr, "%08x: %s reads back as %a\n", u, got,
				(double)r);
		if ((u & 63) == ((u >> 20) & 63)) {
			ref_ftoa(f, want);
			s->compared++;
			if (strcmp(got, want) != 0 && s->bad++ < 10)
				fprintf(stderr, "%08x: %s, reference %s\n", u,
					got, want);
		}
	}
	return NULL;
}

static int run_all(void)
{
	enum { NT = 8 };
	struct span sp[NT];
	pthread_t t[NT];
	uint64_t bad = 0, compared = 0, step = (1ull << 32) / NT;
	int nt = NT;

	for (int i = 0; i < nt; i++) {
		sp[i] = (struct span){ i * step, (i + 1) * step, 0, 0 };
		pthread_create(&t[i], NULL, all_task, &sp[i]);
	}
	for (int i = 0; i < nt; i++) {
		pthread_join(t[i], NULL);
		bad += sp[i].bad;
		compared += sp[i].compared;
	}
	printf("all 4294967296 bit patterns: every finite one read back%s; "
	       "%llu compared with the reference; %llu wrong\n",
	       bad ? " NOT" : "", (unsigned long long)compared,
	       (unsigned long long)bad);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	Suite *s;
	TCase *tc;
	SRunner *sr;
	int nf;

	if (argc > 1 && strcmp(argv[1], "all") == 0)
		return run_all();
	s = suite_create("ftoa");
	tc = tcase_create("core");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_known);
	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_random);
	tcase_add_test(tc, test_dtoa);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
