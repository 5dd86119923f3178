/* stats.c - `stats` of a collection or partition and `compact` of a
 * collection (SPEC §11): key=value lines generated at open, and the write
 * that starts a compaction (returning when it is done, or at once with
 * O_NONBLOCK).
 */
#include "fs/fs_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>

int fs_stats_generate(struct fs *fs, const struct fs_node *n,
		      struct mfs_buf *out, struct mfs_err *err)
{
	struct eng_stats s;
	int rc = eng_stats(fs->eng, n->coll, fs_node_part(n), &s, err);

	if (rc < 0)
		return rc;
	return mfs_buf_printf(out,
			      "entities=%" PRIu64 "\n"
			      "deleted_pending=%" PRIu64 "\n"
			      "inserted_since_index=%" PRIu64 "\n"
			      "memory_bytes=%" PRIu64 "\n"
			      "index_bytes=%" PRIu64 "\n"
			      "disk_bytes=%" PRIu64 "\n"
			      "index_type=%s\n"
			      "state=%s\n"
			      "loaded_past_index=%" PRIu64 "\n",
			      s.entities, s.deleted_pending,
			      s.inserted_since_index, s.memory_bytes,
			      s.index_bytes, s.disk_bytes, s.index_type,
			      eng_state_name(s.state), s.loaded_past_index);
}

int fs_compact_generate(struct fs *fs, const struct fs_node *n,
			struct mfs_buf *out, struct mfs_err *err)
{
	struct eng_compact_info ci;
	int rc = eng_compact_get(fs->eng, n->coll, &ci, err);

	if (rc < 0)
		return rc;
	rc = mfs_buf_printf(out,
			    "state=%s\n"
			    "progress=%u\n"
			    "runs=%" PRIu64 "\n",
			    ci.running ? "Running" : "Idle", ci.progress,
			    ci.runs);
	if (rc < 0 || ci.runs == 0)
		return rc;
	rc = mfs_buf_printf(out,
			    "last_trigger=%s\n"
			    "last_partitions=%" PRIu64 "\n"
			    "last_removed=%" PRIu64 "\n"
			    "last_memory_bytes_before=%" PRIu64 "\n"
			    "last_memory_bytes_after=%" PRIu64 "\n"
			    "last_index_bytes_before=%" PRIu64 "\n"
			    "last_index_bytes_after=%" PRIu64 "\n"
			    "last_duration_ms=%" PRIu64 "\n",
			    ci.last_auto ? "auto" : "manual",
			    ci.last_partitions, ci.last_removed,
			    ci.last_memory_before, ci.last_memory_after,
			    ci.last_index_before, ci.last_index_after,
			    ci.last_ms);
	if (rc == 0 && ci.last_error[0])
		rc = mfs_buf_printf(out, "last_error=%s\n", ci.last_error);
	return rc;
}

/* SPEC §11: `echo 1 > compact`; like load, "1" is the only word. */
int fs_compact_write(struct fs *fs, const struct fs_node *n, int flags,
		     const char *buf, size_t size, struct mfs_err *err)
{
	size_t i = 0, j;

	while (i < size && isspace((unsigned char)buf[i]))
		i++;
	j = size;
	while (j > i && (isspace((unsigned char)buf[j - 1]) ||
			 buf[j - 1] == '\0'))
		j--;
	if (j - i != 1 || buf[i] != '1') {
		char got[32];
		size_t len = j - i < sizeof(got) - 1 ? j - i : sizeof(got) - 1;
		size_t k;

		memcpy(got, buf + i, len);
		got[len] = '\0';
		for (k = 0; k < len; k++)
			if (!isprint((unsigned char)got[k]))
				got[k] = '?';
		return mfs_errf(err, -EINVAL, "compact: expected 1, got '%s'",
				got);
	}
	return eng_compact(fs->eng, n->coll, !(flags & O_NONBLOCK), err);
}
