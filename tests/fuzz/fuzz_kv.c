/* fuzz_kv.c - libFuzzer target of key=value text (fmt_kv_parse,
 * fmt_kv_parse_once, fmt_kv_print, base/kv.h): schema, index, load and
 * search parameters are written in it.
 *
 * Input: the text.  Aborts when:
 *   - the result is not 0 or -EINVAL with a one-line message;
 *   - a pair breaks base/kv.h's limits (key length, value length, count)
 *     or a key is held twice;
 *   - printing the pairs and parsing the print gives other pairs;
 *   - fmt_kv_parse_once takes text that has a key twice, or takes it with
 *     other pairs than fmt_kv_parse, or refuses text without a repeated key
 *     that fmt_kv_parse takes.
 */
#include <errno.h>

#include "fmt/fmt.h"
#include "fuzz.h"

static void same_kv(const struct mfs_kv *a, const struct mfs_kv *b)
{
	MUST(a->n == b->n);
	for (size_t i = 0; i < a->n; i++)
		MUST(!strcmp(a->item[i].key, b->item[i].key) &&
		     !strcmp(a->item[i].val, b->item[i].val));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mfs_kv kv, again, once;   /* 35 KB each */
	struct mfs_err err;
	struct mfs_buf out;
	char *text = fz_dup(data, size, false);
	int rc, rco;

	mfs_kv_init(&kv);
	rc = fmt_kv_parse(text, size, &kv, &err);
	MUST_RC(rc, &err);
	mfs_kv_init(&once);
	rco = fmt_kv_parse_once(text, size, &once, &err);
	MUST_RC(rco, &err);
	if (rc) {
		MUST(rco == -EINVAL);
		goto out;
	}
	MUST(kv.n <= MFS_KV_MAX);
	for (size_t i = 0; i < kv.n; i++) {
		MUST(kv.item[i].key[0] && strlen(kv.item[i].key) < MFS_KV_KEY_MAX);
		MUST(strlen(kv.item[i].val) < MFS_KV_VAL_MAX);
		for (size_t j = 0; j < i; j++)
			MUST(strcmp(kv.item[i].key, kv.item[j].key) != 0);
		MUST(mfs_kv_get(&kv, kv.item[i].key) == kv.item[i].val);
	}
	if (rco == 0)
		same_kv(&kv, &once);
	mfs_buf_init(&out, SIZE_MAX);
	MUST(fmt_kv_print(&out, &kv) == 0);
	mfs_kv_init(&again);
	rc = fmt_kv_parse(out.data ? out.data : "", out.len, &again, &err);
	if (rc)
		fprintf(stderr, "reparse: %s\n", err.msg);
	MUST(rc == 0);
	same_kv(&kv, &again);
	/* the print has each key once */
	mfs_kv_init(&again);
	MUST(fmt_kv_parse_once(out.data ? out.data : "", out.len, &again, &err) == 0);
	same_kv(&kv, &again);
	mfs_buf_fini(&out);
out:
	free(text);
	return 0;
}
