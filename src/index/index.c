/* index.c - the table of index types. */
#include "index/index.h"

#include <stddef.h>
#include <stdio.h>
#include <strings.h>

/* Each type is defined in its own file (flat.c, hnsw.c, ivf.c);
 * adding one means that file, its extern in index.h and one line here.
 * The order is the order of idx_names(). */
static const struct idx_type *const types[] = {
	&idx_flat_type,
	&idx_ivf_flat_type,
	&idx_ivf_sq8_type,
	&idx_ivf_pq_type,
	&idx_hnsw_type,
	&idx_bin_flat_type,
	&idx_bin_ivf_flat_type,
};

const struct idx_type *idx_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(types[i]->name, name) == 0)
			return types[i];
	return NULL;
}

const char *idx_names(char *buf, size_t cap)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		int w = snprintf(buf + n, cap - n, "%s%s", i ? ", " : "",
				 types[i]->name);

		if (w < 0 || (size_t)w >= cap - n)
			break;          /* truncated, still NUL-terminated */
		n += (size_t)w;
	}
	return buf;
}

/* ---- allow-lists (index.h) ---- */

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int idx_allow_init(struct idx_allow *a, bool on, const int64_t *ids, size_t n)
{
	int64_t lo = INT64_MAX, hi = INT64_MIN;
	uint64_t span;

	memset(a, 0, sizeof(*a));
	a->lo = -INFINITY;
	a->hi = INFINITY;
	if (!on)
		return 0;
	a->ids_on = 1;
	a->ids = ids;
	a->n = n;
	for (size_t i = 0; i < n; i++) {
		if (ids[i] < lo)
			lo = ids[i];
		if (ids[i] > hi)
			hi = ids[i];
	}
	span = n ? (uint64_t)hi - (uint64_t)lo + 1 : 0;
	/* A bitmap when it costs no more than about the set would (16
	 * bytes an id at half load): auto ids and most user ids. */
	if (n == 0 || (span != 0 && span / 64 <= 2 * (uint64_t)n + 1024)) {
		uint64_t *bits = calloc(span / 64 + 1, sizeof(*bits));

		if (!bits)
			return -ENOMEM;
		for (size_t i = 0; i < n; i++) {
			uint64_t o = (uint64_t)ids[i] - (uint64_t)lo;

			bits[o >> 6] |= 1ULL << (o & 63);
		}
		a->base = n ? lo : 0;
		a->span = span;
		a->bits = bits;
		return 0;
	}
	size_t cap = 16;
	int64_t *set;

	while (cap < 2 * n)
		cap *= 2;
	set = malloc(cap * sizeof(*set));
	if (!set)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		set[i] = IDX_ALLOW_EMPTY;
	a->mask = cap - 1;
	for (size_t i = 0; i < n; i++) {
		size_t s;

		if (ids[i] == IDX_ALLOW_EMPTY) {
			a->has_empty = 1;
			continue;
		}
		for (s = idx_allow_slot(ids[i], a->mask);
		     set[s] != IDX_ALLOW_EMPTY && set[s] != ids[i];
		     s = (s + 1) & a->mask)
			;
		set[s] = ids[i];
	}
	a->set = set;
	return 0;
}

void idx_allow_fini(struct idx_allow *a)
{
	if (!a)
		return;
	free((void *)a->bits);
	free((void *)a->set);
	a->bits = NULL;
	a->set = NULL;
}

void idx_allow_window(struct idx_allow *a, enum vec_metric m, bool has_radius,
		      float radius, bool has_filter, float range_filter)
{
	if (vec_metric_higher_better(m)) {
		/* R < distance <= F, distance = -score */
		if (has_radius)
			a->hi = -radius;
		if (has_filter)
			a->lo = -range_filter;
	} else {
		/* F <= distance < R */
		if (has_radius)
			a->hi = radius;
		if (has_filter)
			a->lo = range_filter;
	}
}
