/* synth.h - deterministic synthetic vector sets for the unit suites, with
 * exact ground truth computed here by brute force in double precision
 * (never with milvusfs's kernels), so that a clone with no data sets
 * beside it tests what the real sets test; and where the real sets are
 * ($MFS_DATA, else the configured MFS_DATA_DIR), for the passes on them.
 *
 * The sets are clustered as tests/fs/mksynth.py makes them (100 clusters
 * in a 32-dimensional subspace, noise in every dimension): HNSW at its
 * default ef misses a few neighbours and IVF at nprobe=1 many, as on the
 * real sets.  Each vector comes from its own stream of a splitmix64
 * generator (seeded by set, role and position), so the first n vectors of
 * a set are the same whatever the set's size.
 *
 *   SYNTH_PS   dim 128, values around 20 (x 8), for L2 (like photosift128)
 *   SYNTH_GL   dim 100, norms spread (log-normal), for COSINE and IP (like
 *              glove100)
 *
 * synth_read_vecs is the suites' one reader of the real sets' fvecs and
 * ivecs files.
 *
 * Header-only (static functions), included by the suites that use it. */
#ifndef MFS_TESTS_SYNTH_H
#define MFS_TESTS_SYNTH_H

#include <check.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum synth_kind { SYNTH_PS, SYNTH_GL };
enum synth_metric { SYNTH_L2, SYNTH_IP, SYNTH_COSINE };

#define SYNTH_LATENT 32
#define SYNTH_CLUSTERS 100

/* ---- where the real data sets are ---- */

static inline const char *synth_data_dir(void)
{
	const char *d = getenv("MFS_DATA");

	return d && *d ? d : MFS_DATA_DIR;
}

/* 1 when every file named (relative to the data directory, NULL-ended)
 * is readable; else 0, after saying on stderr that WHAT was not run. */
static inline int synth_real_present(const char *what, const char *rel, ...)
{
	char path[4096];
	const char *r = rel;
	va_list ap;
	int ok = 1;

	va_start(ap, rel);
	for (; r; r = va_arg(ap, const char *)) {
		snprintf(path, sizeof(path), "%s/%s", synth_data_dir(), r);
		if (access(path, R_OK) != 0) {
			ok = 0;
			break;
		}
	}
	va_end(ap);
	if (!ok)
		fprintf(stderr, "%s: the real-data part was not run: %s is "
			"absent (set MFS_DATA)\n", what, path);
	else
		fprintf(stderr, "%s: real data set in %s\n", what,
			synth_data_dir());
	return ok;
}

/* Up to max records of the fvecs or ivecs file rel (relative to the data
 * directory; 4-byte items, each record led by its int32 dimension) as
 * owned rows, their count in *n and their dimension in *dim.  A file that
 * does not open, is empty, has a truncated record or changes dimension
 * fails the test.  The one loader of the unit suites. */
static inline void *synth_read_vecs(const char *rel, size_t max, size_t *n,
				    size_t *dim)
{
	char path[4096];
	FILE *f;
	int32_t d, d0 = 0;
	size_t got = 0, cap = 0;
	char *out = NULL;

	snprintf(path, sizeof(path), "%s/%s", synth_data_dir(), rel);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s (set MFS_DATA)", path);
	while (got < max && fread(&d, 4, 1, f) == 1) {
		if (got == 0)
			d0 = d;
		ck_assert_msg(d > 0 && d == d0, "%s: record %zu has dimension "
			      "%d, the first %d", path, got, (int)d, (int)d0);
		if (got == cap) {
			cap = cap ? 2 * cap : 1024;
			out = realloc(out, cap * (size_t)d * 4);
			ck_assert_ptr_nonnull(out);
		}
		ck_assert_msg(fread(out + got * (size_t)d * 4, 4, (size_t)d,
				    f) == (size_t)d,
			      "%s: record %zu is truncated", path, got);
		got++;
	}
	fclose(f);
	ck_assert_msg(got > 0, "%s: no records", path);
	*n = got;
	*dim = (size_t)d0;
	return out;
}

/* ---- the generator ---- */

static inline uint64_t synth_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* uniform in (0, 1] */
static inline double synth_unit(uint64_t *s)
{
	return ((double)(synth_u64(s) >> 11) + 1.0) * 0x1p-53;
}

/* standard normal (Box-Muller, one value per call) */
static inline double synth_gauss(uint64_t *s)
{
	double u = synth_unit(s), v = synth_unit(s);

	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

struct synth_model {
	enum synth_kind kind;
	size_t dim;
	double *proj;           /* SYNTH_LATENT x dim */
	double *centers;        /* SYNTH_CLUSTERS x SYNTH_LATENT */
};

static inline void synth_model_init(struct synth_model *m, enum synth_kind k)
{
	uint64_t s = k == SYNTH_PS ? 0x5053313238ULL : 0x474c313030ULL;

	m->kind = k;
	m->dim = k == SYNTH_PS ? 128 : 100;
	m->proj = malloc(SYNTH_LATENT * m->dim * sizeof(double));
	m->centers = malloc(SYNTH_CLUSTERS * SYNTH_LATENT * sizeof(double));
	if (!m->proj || !m->centers)
		abort();
	for (size_t i = 0; i < SYNTH_LATENT * m->dim; i++)
		m->proj[i] = synth_gauss(&s) / sqrt((double)SYNTH_LATENT);
	for (size_t i = 0; i < SYNTH_CLUSTERS * SYNTH_LATENT; i++)
		m->centers[i] = synth_gauss(&s);
}

static inline void synth_model_fini(struct synth_model *m)
{
	free(m->proj);
	free(m->centers);
}

/* Vector pos of role (0 base, 1 query) into out[dim]. */
static inline void synth_vector(const struct synth_model *m, int role,
				size_t pos, float *out)
{
	uint64_t s = ((uint64_t)m->kind << 56) ^ ((uint64_t)role << 48) ^
		     (uint64_t)pos;
	double z[SYNTH_LATENT], scale = 1.0;
	size_t c;

	synth_u64(&s);
	c = (size_t)(synth_u64(&s) % SYNTH_CLUSTERS);
	for (size_t j = 0; j < SYNTH_LATENT; j++)
		z[j] = m->centers[c * SYNTH_LATENT + j] + synth_gauss(&s);
	if (m->kind == SYNTH_GL)
		scale = exp(0.25 * synth_gauss(&s));
	for (size_t t = 0; t < m->dim; t++) {
		double x = 0.5 * synth_gauss(&s);

		for (size_t j = 0; j < SYNTH_LATENT; j++)
			x += z[j] * m->proj[j * m->dim + t];
		x *= scale;
		out[t] = (float)(m->kind == SYNTH_PS ? 20.0 + 8.0 * x : x);
	}
}

/* Owned rows [first, first + n) of role. */
static inline float *synth_rows(enum synth_kind k, int role, size_t first,
				size_t n, size_t *dim)
{
	struct synth_model m;
	float *v;

	synth_model_init(&m, k);
	v = malloc((n ? n : 1) * m.dim * sizeof(float));
	if (!v)
		abort();
	for (size_t i = 0; i < n; i++)
		synth_vector(&m, role, first + i, v + i * m.dim);
	*dim = m.dim;
	synth_model_fini(&m);
	return v;
}

/* ---- exact ground truth, float64 ---- */

struct synth_pair {
	double key;
	size_t pos;
};

static inline int synth_pair_cmp(const void *a, const void *b)
{
	const struct synth_pair *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Squared L2 distance and inner product of x and y in double, in four
 * running sums (which lets the loop run at the adder's throughput). */
static inline double synth_l2sq(const float *x, const float *y, size_t dim)
{
	double s[4] = { 0, 0, 0, 0 };
	size_t t = 0;

	for (; t + 4 <= dim; t += 4)
		for (size_t u = 0; u < 4; u++) {
			double d = (double)x[t + u] - y[t + u];

			s[u] += d * d;
		}
	for (; t < dim; t++) {
		double d = (double)x[t] - y[t];

		s[0] += d * d;
	}
	return (s[0] + s[1]) + (s[2] + s[3]);
}

static inline double synth_dot(const float *x, const float *y, size_t dim)
{
	double s[4] = { 0, 0, 0, 0 };
	size_t t = 0;

	for (; t + 4 <= dim; t += 4)
		for (size_t u = 0; u < 4; u++)
			s[u] += (double)x[t + u] * y[t + u];
	for (; t < dim; t++)
		s[0] += (double)x[t] * y[t];
	return (s[0] + s[1]) + (s[2] + s[3]);
}

/* The k best base positions of each query under metric (ties to the
 * smaller position) into ids[nq * k], and their distances as Milvus
 * reports them (squared L2; inner product; cosine similarity) into
 * dist[nq * k] when dist is not NULL.  k <= nb. */
static inline void synth_truth(const float *base, size_t nb,
			       const float *query, size_t nq, size_t dim,
			       enum synth_metric metric, size_t k,
			       int32_t *ids, float *dist)
{
	struct synth_pair *best = malloc((k ? k : 1) * sizeof(*best));
	double *bn = malloc((nb ? nb : 1) * sizeof(double));

	if (!best || !bn)
		abort();
	if (k == 0)
		nq = 0;
	for (size_t i = 0; i < nb; i++) {
		double s = 0;

		for (size_t t = 0; t < dim; t++)
			s += (double)base[i * dim + t] * base[i * dim + t];
		bn[i] = sqrt(s);
	}
	for (size_t q = 0; q < nq; q++) {
		const float *x = query + q * dim;
		double qn = 0;
		size_t have = 0;

		for (size_t t = 0; t < dim; t++)
			qn += (double)x[t] * x[t];
		qn = sqrt(qn);
		for (size_t i = 0; i < nb; i++) {
			const float *y = base + i * dim;
			struct synth_pair p = { 0, i };
			double s = 0;
			size_t j;

			if (metric == SYNTH_L2) {
				p.key = synth_l2sq(x, y, dim);
			} else {
				s = synth_dot(x, y, dim);
				if (metric == SYNTH_COSINE)
					s /= qn * bn[i];
				p.key = -s;
			}
			/* Kept sorted, best first: insert p if it beats
			 * the worst kept (a tie goes to the smaller
			 * position, which came first). */
			if (have == k && synth_pair_cmp(&p, &best[k - 1]) >= 0)
				continue;
			j = have < k ? have++ : k - 1;
			for (; j > 0 && synth_pair_cmp(&p, &best[j - 1]) < 0;
			     j--)
				best[j] = best[j - 1];
			best[j] = p;
		}
		for (size_t j = 0; j < k; j++) {
			ids[q * k + j] = (int32_t)best[j].pos;
			if (dist)
				dist[q * k + j] = (float)(metric == SYNTH_L2 ?
							  best[j].key :
							  -best[j].key);
		}
	}
	free(best);
	free(bn);
}

#endif
