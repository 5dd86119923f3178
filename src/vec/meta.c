/* meta.c - metric and vector type names, sizes and score conversion. */
#include "vec/vec.h"

#include <errno.h>
#include <strings.h>

static const char *const metric_names[] = {
	[VEC_L2] = "L2",
	[VEC_IP] = "IP",
	[VEC_COSINE] = "COSINE",
	[VEC_HAMMING] = "HAMMING",
	[VEC_JACCARD] = "JACCARD",
};

const char *vec_metric_name(enum vec_metric m)
{
	if ((unsigned)m < sizeof(metric_names) / sizeof(metric_names[0]))
		return metric_names[m];
	return "?";
}

int vec_metric_parse(const char *s, enum vec_metric *out)
{
	if (!s)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(metric_names) / sizeof(metric_names[0]);
	     i++)
		if (strcasecmp(s, metric_names[i]) == 0) {
			*out = (enum vec_metric)i;
			return 0;
		}
	if (strcasecmp(s, "TANIMOTO") == 0) {
		*out = VEC_JACCARD;
		return 0;
	}
	return -EINVAL;
}

const char *vec_type_name(enum vec_type t)
{
	switch (t) {
	case VEC_FLOAT:
		return "FLOAT_VECTOR";
	case VEC_BINARY:
		return "BINARY_VECTOR";
	}
	return "?";
}

int vec_type_parse(const char *s, enum vec_type *out)
{
	if (!s)
		return -EINVAL;
	if (strcasecmp(s, "FLOAT_VECTOR") == 0) {
		*out = VEC_FLOAT;
		return 0;
	}
	if (strcasecmp(s, "BINARY_VECTOR") == 0) {
		*out = VEC_BINARY;
		return 0;
	}
	return -EINVAL;
}

int vec_metric_fits(enum vec_metric m, enum vec_type t)
{
	switch (m) {
	case VEC_L2:
	case VEC_IP:
	case VEC_COSINE:
		return t == VEC_FLOAT;
	case VEC_HAMMING:
	case VEC_JACCARD:
		return t == VEC_BINARY;
	}
	return 0;
}

size_t vec_bytes(enum vec_type t, uint32_t dim)
{
	return t == VEC_BINARY ? (size_t)dim / 8 : (size_t)dim * sizeof(float);
}

int vec_metric_higher_better(enum vec_metric m)
{
	return m == VEC_IP || m == VEC_COSINE;
}

/* Scores are "smaller is better"; IP and COSINE are stored negated. */
float vec_score_to_distance(enum vec_metric m, float score)
{
	return vec_metric_higher_better(m) ? -score : score;
}
