/* index.c - the table of index types. */
#include "index/index.h"

#include <stddef.h>
#include <strings.h>

/* Each type is defined in its own file (flat.c, hnsw.c, ivf.c); adding one
 * means one file and one line here. */
static const struct idx_type *const types[] = {
	&idx_flat_type,
	&idx_hnsw_type,
	&idx_ivf_flat_type,
	&idx_ivf_sq8_type,
	&idx_ivf_pq_type,
	&idx_bin_flat_type,
	&idx_bin_ivf_flat_type,
};

const struct idx_type *idx_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i] && strcasecmp(types[i]->name, name) == 0)
			return types[i];
	return NULL;
}

const char *const *idx_names(void)
{
	static const char *names[sizeof(types) / sizeof(types[0]) + 1];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (types[i])
			names[n++] = types[i]->name;
	names[n] = NULL;
	return names;
}
