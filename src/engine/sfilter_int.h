/* sfilter_int.h - what a search adds to its nearest neighbours (SPEC
 * §10): the allow-list of a filter, the window of a range search, the
 * grouping of hits by a field, the rows printed with hits.  Private to
 * src/engine/search.c and sfilter.c.
 */
#ifndef MFS_ENGINE_SFILTER_INT_H
#define MFS_ENGINE_SFILTER_INT_H

#include "engine/engine_int.h"

/* Selectivity at or under which a filtered search scores the matching
 * entities exactly instead of walking the index (Milvus switches to brute
 * force past about 93% filtered out). */
#define ENG_EXACT_PCT 7

/* The parameters of SPEC §10 a search carries, checked. */
struct eng_sopts {
	bool range;                     /* radius given */
	float radius;
	bool has_rf;
	float range_filter;
	int group_field;                /* -1: no grouping */
	size_t group_size;              /* 1 */
	bool strict;
};

/* Read and check radius, range_filter, group_by_field, group_size,
 * strict_group_size from kv for metric m and schema s.  -EINVAL with the
 * rule broken. */
int eng_sopts_parse(const struct mfs_kv *kv, enum vec_metric m,
		    const struct fld_schema *s, struct eng_sopts *o,
		    struct mfs_err *err);

/* The ids of the live rows of k matching x (an owned array in *ids, n of
 * them; scalar indexes used when they help).  Takes k->lock for reading.
 * 0, -ENOMEM. */
int eng_sf_allowed(const struct fld_expr *x, struct eng_cols *k,
		   int64_t **ids, size_t *n);

/* Exact scoring of the m allowed entities of an index of live ones, for
 * a search of K hits?  Yes when they are at most K, or at most
 * ENG_EXACT_PCT% of the index, or, for a graph walked with width ef
 * (0: not a graph), when scoring them costs less than the widened walk
 * would: a walk that must hold ef allowed nodes expands about ef / s
 * nodes at selectivity s = m / live, each scoring its ~2M = 32 new
 * neighbours, so m < 32 ef live / m. */
static inline bool eng_sf_exact(size_t m, size_t live, size_t K, size_t ef)
{
	return m <= K || m * 100 <= live * ENG_EXACT_PCT ||
		(double)m * m <= 32.0 * (double)ef * (double)live;
}

/* Where id lives: the columns of one of the search's partitions (in
 * cols[0, n), references) and its row.  -1 when no partition holds it
 * (deleted since). */
int eng_sf_find(struct eng_cols *const *cols, size_t n, int64_t id,
		size_t *row);

/* A grouping key of a field value (SPEC §10 grouping: INT*, BOOL,
 * VARCHAR; null is a key of its own): an owned string in *key. */
int eng_sf_key(const struct fld_value *v, char **key);

#endif
