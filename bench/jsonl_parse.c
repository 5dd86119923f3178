/* jsonl_parse.c - the JSON-lines import rate of fmt_jsonl_parse alone.
 *
 * Builds 100,000 entity lines from glove100 (100 floats, the words as a
 * VARCHAR, a rank, a length, an ARRAY of VARCHAR tags and a small JSON
 * object; synthetic vectors when the data set is absent), then parses
 * them the way the FUSE write path does: 128 KiB writes, a partial last
 * line carried to the next write, the batch reset after each (without
 * copying: the parser alone is timed).  Prints
 * entities/s for the fast path and for the whole-line jansson reference.
 * Not part of make check.  Build from a configured build directory:
 *
 *   cc -O2 -std=c11 -I../src -include config.h $(pkg-config --cflags jansson) \
 *      ../bench/jsonl_parse.c libmfs_fmt.a libmfs_field.a libmfs_base.a \
 *      $(pkg-config --libs jansson) -lm -o jsonl_parse
 *   ./jsonl_parse [DATA_DIR] [--repr] [--fast-only]
 *
 * --repr prints vectors as Python's json.dumps of float32 values widened
 * to double does (up to 17 digits) instead of %.9g; --fast-only skips the
 * reference and the TSV baseline (for profiling).  Times are CPU time of
 * the parsing thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmt/fmt.h"
#include "fmt/fmt_int.h"

#define N 100000
#define DIM 100
#define WRITE_BYTES (128 * 1024)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);   /* CPU time: steady on a busy machine */
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int load(const char *dir, float *vecs, char (*words)[64])
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/glove100/glove100_base.fvecs", dir);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	for (int i = 0; i < N; i++) {
		int32_t d;

		if (fread(&d, 4, 1, f) != 1 || d != DIM ||
		    fread(vecs + (size_t)i * DIM, 4, DIM, f) != DIM) {
			fclose(f);
			return -1;
		}
	}
	fclose(f);
	snprintf(path, sizeof(path), "%s/glove100/glove100_base.words.txt", dir);
	f = fopen(path, "r");
	for (int i = 0; i < N; i++) {
		if (!f || !fgets(words[i], 64, f))
			snprintf(words[i], 64, "w%d", i);
		words[i][strcspn(words[i], "\r\n\"\\")] = '\0';
	}
	if (f)
		fclose(f);
	return 0;
}

typedef int (*parse_fn)(const char *, size_t, size_t, bool,
			const struct fld_schema *, struct fmt_batch *,
			size_t *, struct mfs_err *);

static int text_parse(const char *buf, size_t len, size_t line0, bool final,
		      const struct fld_schema *s, struct fmt_batch *b,
		      size_t *consumed, struct mfs_err *err)
{
	(void)s;
	return fmt_text_parse(buf, len, line0, final, b, consumed, err);
}

/* Feed text to fn as 128 KiB writes would arrive: each call sees the
 * unconsumed tail of the previous write and the new bytes (no copy: the
 * parser alone is timed); the batch is reset after each call.  Every line
 * is one record, so line numbers advance by the records parsed. */
static double run(parse_fn fn, const struct mfs_buf *text,
		  const struct fld_schema *s, size_t *nrec)
{
	struct fmt_batch b;
	struct mfs_err err;
	size_t start = 0, end = 0, line = 1, total = 0;
	double t0 = now();

	fmt_batch_init(&b, VEC_FLOAT, 0);
	while (end < text->len) {
		size_t used;

		end = text->len - end < WRITE_BYTES ? text->len : end + WRITE_BYTES;
		if (fn(text->data + start, end - start, line, end == text->len, s, &b,
		       &used, &err)) {
			fprintf(stderr, "parse: %s\n", err.msg);
			exit(1);
		}
		total += b.n;
		line += b.n;
		start += used;
		fmt_batch_reset(&b);
	}
	t0 = now() - t0;
	fmt_batch_fini(&b);
	*nrec = total;
	return t0;
}

int main(int argc, char **argv)
{
	static const char *const specs[] = {
		"word:VARCHAR(64)", "rank:INT64", "len:INT32",
		"tags:ARRAY(VARCHAR(16),8)", "meta:JSON",
	};
	static const char *const tagset[] = { "noun", "verb", "common", "rare", "en" };
	const char *dir = argc > 1 && argv[1][0] != '-' ? argv[1] : "../../shared/data";
	bool repr = false, fast_only = false;
	float *vecs = malloc((size_t)N * DIM * sizeof(float));
	char (*words)[64] = malloc((size_t)N * 64);
	struct fld_schema s;
	struct mfs_err err;
	struct mfs_buf text;
	size_t n;
	double t;

	for (int i = 1; i < argc; i++) {
		repr |= strcmp(argv[i], "--repr") == 0;
		fast_only |= strcmp(argv[i], "--fast-only") == 0;
	}
	if (load(dir, vecs, words)) {
		fprintf(stderr, "glove100 not found under %s: synthetic vectors\n", dir);
		srand(1);
		for (size_t i = 0; i < (size_t)N * DIM; i++)
			vecs[i] = (float)rand() / RAND_MAX * 2 - 1;
		for (int i = 0; i < N; i++)
			snprintf(words[i], 64, "w%d", i);
	}
	fld_schema_init(&s);
	for (size_t i = 0; i < 5; i++)
		if (fld_schema_add(&s, specs[i], &err)) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
	mfs_buf_init(&text, SIZE_MAX);
	for (int i = 0; i < N; i++) {
		mfs_buf_printf(&text, "{\"id\": %d, \"vector\": [", i);
		for (int j = 0; j < DIM; j++) {
			float f = vecs[(size_t)i * DIM + j];

			if (repr) {
				char b[40];

				for (int p = 1; p <= 17; p++) {
					snprintf(b, sizeof(b), "%.*g", p, (double)f);
					if (strtod(b, NULL) == (double)f)
						break;
				}
				mfs_buf_printf(&text, "%s%s", j ? ", " : "", b);
			} else {
				mfs_buf_printf(&text, "%s%.9g", j ? ", " : "", (double)f);
			}
		}
		mfs_buf_printf(&text, "], \"word\": \"%s\", \"rank\": %d, \"len\": %zu, "
			       "\"tags\": [\"%s\", \"%s\"], \"meta\": {\"pos\": \"%s\", \"freq\": %d}}\n",
			       words[i], i + 1, strlen(words[i]), tagset[i % 5],
			       tagset[(i / 5) % 5], i % 2 ? "noun" : "verb", N - i);
	}
	printf("%d lines, %.1f MB (%s vectors)\n", N, text.len / 1e6,
	       repr ? "repr" : "%.9g");
	for (int k = 0; k < 3; k++) {
		t = run(fmt_jsonl_parse, &text, &s, &n);
		printf("fast path:  %zu entities in %.3f s = %.0f entities/s (%.0f MB/s)\n",
		       n, t, n / t, text.len / t / 1e6);
	}
	if (fast_only)
		goto out;
	t = run(fmt_jsonl_parse_ref, &text, &s, &n);
	printf("reference:  %zu entities in %.3f s = %.0f entities/s\n", n, t, n / t);
	/* the same vectors without fields, as TSV through fmt_text_parse:
	 * the floor set by number parsing alone */
	mfs_buf_reset(&text);
	for (int i = 0; i < N; i++) {
		mfs_buf_printf(&text, "%d\t", i);
		for (int j = 0; j < DIM; j++)
			mfs_buf_printf(&text, "%s%.9g", j ? "," : "",
				       (double)vecs[(size_t)i * DIM + j]);
		mfs_buf_append(&text, "\n", 1);
	}
	t = run(text_parse, &text, &s, &n);
	printf("text (TSV, no fields): %zu entities in %.3f s = %.0f entities/s\n",
	       n, t, n / t);
out:
	mfs_buf_fini(&text);
	fld_schema_fini(&s);
	free(vecs);
	free(words);
	return 0;
}
