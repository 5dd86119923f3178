/* sparam.c - the table of search parameters (sparam.h).
 *
 * One list, SPARAMS, gives both the table and the text of the known names
 * (built by the compiler), so adding a parameter is adding one line. */
#include "base/sparam.h"

#include <string.h>

#include "base/limits.h"

/*       name                kind   layer   lo  hi */
#define SPARAMS(X) \
	X("k",                 INT,   CALLER, 1, MFS_TOPK_MAX) \
	X("limit",             INT,   CALLER, 1, MFS_TOPK_MAX) \
	X("top_k",             INT,   CALLER, 1, MFS_TOPK_MAX) \
	X("offset",            INT,   CALLER, 0, MFS_TOPK_MAX) \
	X("format",            WORD,  CALLER, 0, 0) \
	X("partitions",        WORD,  CALLER, 0, 0) \
	X("id",                WORD,  CALLER, 0, 0) \
	X("filter",            TEXT,  CALLER, 0, 0) \
	X("output_fields",     TEXT,  CALLER, 0, 0) \
	X("ef",                INT,   ENGINE, 1, MFS_EF_MAX) \
	X("nprobe",            INT,   ENGINE, 1, MFS_NPROBE_MAX) \
	X("radius",            FLOAT, ENGINE, 0, 0) \
	X("range_filter",      FLOAT, ENGINE, 0, 0) \
	X("group_by_field",    WORD,  ENGINE, 0, 0) \
	X("group_size",        INT,   ENGINE, 1, MFS_GROUP_SIZE_MAX) \
	X("strict_group_size", BOOL,  ENGINE, 0, 0) \
	X("metric_type",       WORD,  ENGINE, 0, 0)

#define ROW(n, kind, layer, lo, hi) \
	{ n, MFS_SP_##kind, MFS_SP_##layer, lo, hi },
#define NAME(n, kind, layer, lo, hi) ", " n

static const struct mfs_sparam table[] = { SPARAMS(ROW) };
/* ", k, limit, ..., metric_type": the names start after the first ", " */
static const char names[] = SPARAMS(NAME);

#define NTABLE (sizeof(table) / sizeof(table[0]))

const struct mfs_sparam *mfs_sparam_findn(const char *s, size_t len)
{
	for (size_t i = 0; i < NTABLE; i++)
		if (strlen(table[i].name) == len &&
		    memcmp(table[i].name, s, len) == 0)
			return &table[i];
	return NULL;
}

const struct mfs_sparam *mfs_sparam_find(const char *name)
{
	return mfs_sparam_findn(name, strlen(name));
}

const char *mfs_sparam_names(void)
{
	return names + 2;
}
