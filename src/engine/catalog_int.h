/* catalog_int.h - the helpers the catalog's files share (catalog.c,
 * catalog_coll.c, catalog_part.c, catalog_alias.c); nothing else of the
 * engine includes it.
 */
#ifndef MFS_ENGINE_CATALOG_INT_H
#define MFS_ENGINE_CATALOG_INT_H

#include "engine/engine_int.h"

/* catalog.c */
/* A partition or collection object named name with the stored record's
 * fields, holding one reference (the last eng_*_unref frees it); NULL
 * when out of memory. */
struct eng_part *eng_cat_part_new(const char *name,
				  const struct store_part *sp);
struct eng_coll *eng_cat_coll_new(const char *name,
				  const struct store_coll *rec);
/* Append p to c's partitions in pid order, taking the caller's
 * reference.  0, -ENOMEM (nothing changed). */
int eng_cat_add_part(struct eng_coll *c, struct eng_part *p);
/* The collection whose cid is cid, or NULL (caller holds e->cat). */
struct eng_coll *eng_cat_coll_by_cid(struct eng *e, uint32_t cid);
/* Room for one more pointer in the array *vp of n (capacity *cap), so
 * that the append after a commit cannot fail; caller holds e->cat for
 * write.  0, -ENOMEM. */
int eng_cat_grow(void *vp, size_t n, size_t *cap);
/* Is name at most STORE_NAME_MAX bytes?  0, or -EINVAL with "<what> name
 * too long: ..." (what "": "name too long: ..."). */
int eng_cat_name_check(const char *name, const char *what,
		       struct mfs_err *err);
/* The names of e's collections (aliases: of its aliases), sorted, into
 * *out (owned: eng_names_free).  0, -ENOMEM. */
int eng_cat_list(struct eng *e, bool aliases, struct eng_names *out,
		 struct mfs_err *err);

/* catalog_alias.c (caller holds e->cat) */
/* The aliases of collection cid, "a, b", in out (size bytes; cut short
 * with "..." when long); false when it has none. */
bool eng_cat_aliases_of(struct eng *e, uint32_t cid, char *out,
			size_t size);
/* Room for one more alias (e->cat held for write).  0, -ENOMEM. */
int eng_cat_alias_room(struct eng *e);

#endif
