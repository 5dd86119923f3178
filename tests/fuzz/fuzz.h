/* fuzz.h - what the libFuzzer targets of tests/fuzz share: the entry
 * points' prototypes (the project builds with -Wmissing-prototypes), an
 * invariant check that aborts (libFuzzer then saves the input), and
 * helpers.  Each target is one fuzz_<name>.c built with clang
 * -fsanitize=fuzzer,address,undefined (tests/fuzz/local.mk).
 */
#ifndef MFS_TESTS_FUZZ_H
#define MFS_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An invariant: when it does not hold, say which and abort. */
#define MUST(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, \
			__LINE__, #cond); \
		abort(); \
	} \
} while (0)

/* A parser's answer: 0, or -EINVAL with a one-line message. */
#define MUST_RC(rc, err) do { \
	MUST((rc) == 0 || (rc) == -EINVAL); \
	if (rc) \
		MUST((err)->msg[0] && !strchr((err)->msg, '\n') && \
		     strlen((err)->msg) < MFS_ERR_MSG_MAX); \
} while (0)

/* memcmp that takes NULL for empty arrays. */
static inline bool fz_eq(const void *a, const void *b, size_t n)
{
	return n == 0 || memcmp(a, b, n) == 0;
}

/* A copy of data[0, size) in a buffer of exactly size bytes (ASan then
 * sees any read past the end), or with a NUL after it when nul. */
static inline char *fz_dup(const uint8_t *data, size_t size, bool nul)
{
	char *p = malloc(size + (nul ? 1 : 0) + (size == 0 && !nul));

	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);
	if (nul)
		p[size] = '\0';
	return p;
}

#endif
