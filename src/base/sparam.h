/* sparam.h - the one table of search parameters (SPEC §6, §10).
 *
 * fmt reads it to parse a query's `key=value` pairs (which keys exist,
 * which are numbers in which range, which take the rest of their line) and
 * the engine reads it to accept the parameters it is handed: a key is in
 * this table exactly when some layer honours it, so a key that nobody
 * honours is EINVAL in both layers with the same list of known keys.
 *
 * Thread-safety: the table is constant.
 */
#ifndef MFS_BASE_SPARAM_H
#define MFS_BASE_SPARAM_H

#include <stdbool.h>
#include <stddef.h>

enum mfs_sp_kind {
	MFS_SP_INT = 0,         /* a decimal integer in [lo, hi] */
	MFS_SP_FLOAT,           /* a finite number */
	MFS_SP_BOOL,            /* true | false */
	MFS_SP_TEXT,            /* free text; in a query text it takes the
				 * rest of its line, in a name it runs to the
				 * next '&' that starts a known key */
	MFS_SP_WORD,            /* a token (a name, a list, a metric) */
};

/* Who honours a key: the caller (fmt/fs: k, offset, format, partitions,
 * id, filter, output_fields) or the engine (index and result shaping). */
enum mfs_sp_layer { MFS_SP_CALLER = 0, MFS_SP_ENGINE };

struct mfs_sparam {
	const char *name;
	enum mfs_sp_kind kind;
	enum mfs_sp_layer layer;
	long lo, hi;            /* MFS_SP_INT */
};

/* The parameter named name (case-sensitive), or NULL. */
const struct mfs_sparam *mfs_sparam_find(const char *name);
/* The parameter whose name is s[0, len) (not NUL-terminated), or NULL. */
const struct mfs_sparam *mfs_sparam_findn(const char *s, size_t len);
/* "k, limit, top_k, ..." in table order (static). */
const char *mfs_sparam_names(void);

#endif
