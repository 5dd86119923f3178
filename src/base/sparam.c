/* sparam.c - the table of search parameters (sparam.h). */
#include "base/sparam.h"

#include <string.h>

static const struct mfs_sparam table[] = {
	{ "k", MFS_SP_INT, MFS_SP_CALLER, 1, 16384 },
	{ "limit", MFS_SP_INT, MFS_SP_CALLER, 1, 16384 },
	{ "top_k", MFS_SP_INT, MFS_SP_CALLER, 1, 16384 },
	{ "offset", MFS_SP_INT, MFS_SP_CALLER, 0, 16384 },
	{ "format", MFS_SP_WORD, MFS_SP_CALLER, 0, 0 },
	{ "partitions", MFS_SP_WORD, MFS_SP_CALLER, 0, 0 },
	{ "id", MFS_SP_WORD, MFS_SP_CALLER, 0, 0 },
	{ "filter", MFS_SP_TEXT, MFS_SP_CALLER, 0, 0 },
	{ "output_fields", MFS_SP_TEXT, MFS_SP_CALLER, 0, 0 },
	{ "ef", MFS_SP_INT, MFS_SP_ENGINE, 1, 32768 },
	{ "nprobe", MFS_SP_INT, MFS_SP_ENGINE, 1, 65536 },
	{ "radius", MFS_SP_FLOAT, MFS_SP_ENGINE, 0, 0 },
	{ "range_filter", MFS_SP_FLOAT, MFS_SP_ENGINE, 0, 0 },
	{ "group_by_field", MFS_SP_WORD, MFS_SP_ENGINE, 0, 0 },
	{ "group_size", MFS_SP_INT, MFS_SP_ENGINE, 1, 1024 },
	{ "strict_group_size", MFS_SP_BOOL, MFS_SP_ENGINE, 0, 0 },
	{ "metric_type", MFS_SP_WORD, MFS_SP_ENGINE, 0, 0 },
};

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
	return "k, limit, top_k, offset, format, partitions, id, filter, "
	       "output_fields, ef, nprobe, radius, range_filter, "
	       "group_by_field, group_size, strict_group_size, metric_type";
}
