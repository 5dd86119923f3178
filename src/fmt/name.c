/* name.c - collection and partition name rules (SPEC §2), worded as Milvus
 * words them. */
#include "fmt/fmt_int.h"

#include <errno.h>
#include <string.h>


/* Control files and directories of a collection or partition directory. */
static const char *const reserved[] = {
	"schema", "index", "load", "release", "state", "count", "partitions",
	"vectors", "vectors.fvecs", "vectors.bvecs", "delete", "entities",
	"search", "ids", "entities.jsonl", "upsert", "query", "stats",
	"compact",
};

bool fmt_name_reserved(const char *name)
{
	if (name[0] == '.')
		return true;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return true;
	return false;
}

static bool is_letter(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int fmt_name_check(const char *kind, const char *name, struct mfs_err *err)
{
	size_t len = strlen(name);
	char ex[80];

	mfs_excerpt(ex, sizeof(ex), name, len);
	if (len == 0)
		return mfs_errf(err, -EINVAL,
				"Invalid %s name: . %s name should not be empty",
				kind, kind);
	if (len > MFS_NAME_MAX)
		return mfs_errf(err, -EINVAL,
				"Invalid %s name: %s. the length of a %s name must be not more than %d characters",
				kind, ex, kind, MFS_NAME_MAX);
	if (!is_letter((unsigned char)name[0]) && name[0] != '_')
		return mfs_errf(err, -EINVAL,
				"Invalid %s name: %s. the first character of a %s name must be an underscore or letter",
				kind, ex, kind);
	for (size_t i = 1; i < len; i++) {
		int c = (unsigned char)name[i];

		if (!is_letter(c) && c != '_' && !(c >= '0' && c <= '9'))
			return mfs_errf(err, -EINVAL,
					"Invalid %s name: %s. %s name can only contain numbers, letters and underscores",
					kind, ex, kind);
	}
	if (strcmp(kind, "partition") == 0 && fmt_name_reserved(name))
		return mfs_errf(err, -EINVAL,
				"Invalid %s name: %s. '%s' is a reserved control file name",
				kind, ex, ex);
	return 0;
}
