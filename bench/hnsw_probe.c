/* hnsw_probe.c - the milvusfs HNSW index in-process, without the mount.
 *
 * Same build and ef sweep as the peers (hnsw_peer.cpp), through the index
 * vtable directly, so the benchmark can tell the index's own speed and
 * memory_bytes() from the filesystem's overhead.  Prints JSON lines
 * ("peer":"mfs-inproc") like the peers.
 *
 *   hnsw_probe BASE QUERY GT L2|IP|COSINE M EFC THREADS EF,EF,...
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/kv.h"
#include "base/pool.h"
#include "index/hnsw.h"
#include "peers/coldgap.h"

static float *read_vecs(const char *path, size_t *n, size_t *d)
{
	FILE *f = fopen(path, "rb");
	float *v = NULL;
	int dim;
	size_t cap = 0;

	if (!f) {
		perror(path);
		exit(2);
	}
	*n = 0;
	while (fread(&dim, 4, 1, f) == 1) {
		*d = (size_t)dim;
		if (*n == cap) {
			cap = cap ? 2 * cap : 1024;
			v = realloc(v, cap * *d * 4);
		}
		if (fread(v + *n * *d, 4, *d, f) != *d)
			exit(2);
		(*n)++;
	}
	fclose(f);
	return v;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t nb, nq, d, d2, ng, gk, k = 10;
	struct idx_info info = { VEC_FLOAT, VEC_L2, 0, NULL };
	struct mfs_kv params, canon, sp;
	struct mfs_err err;
	struct idx *ix;
	float *base, *query, *gtf;
	int *gt;
	int64_t *ids;
	double t0, *lat;
	char *efs, *tok;

	if (argc != 9) {
		fprintf(stderr, "usage: %s BASE QUERY GT METRIC M EFC THREADS EFS\n",
			argv[0]);
		return 2;
	}
	base = read_vecs(argv[1], &nb, &d);
	query = read_vecs(argv[2], &nq, &d2);
	gtf = read_vecs(argv[3], &ng, &gk);
	gt = (int *)gtf;
	info.dim = (uint32_t)d;
	info.metric = !strcmp(argv[4], "L2") ? VEC_L2 :
		      !strcmp(argv[4], "IP") ? VEC_IP : VEC_COSINE;
	if (mfs_pool_new((unsigned)atoi(argv[7]), &info.pool) < 0)
		return 1;
	mfs_kv_init(&params);
	mfs_kv_set(&params, "M", argv[5], NULL);
	mfs_kv_set(&params, "efConstruction", argv[6], NULL);
	if (idx_hnsw_type.check(&info, &params, &canon, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	ids = malloc(nb * sizeof(*ids));
	for (size_t i = 0; i < nb; i++)
		ids[i] = (int64_t)i + 1;
	t0 = now();
	if (idx_hnsw_type.build(&info, &canon, ids, base, nb, NULL, &ix, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	printf("{\"peer\":\"mfs-inproc\",\"event\":\"build\",\"seconds\":%.4f,\"n\":%zu,\"threads\":%s,\"kernels\":\"%s\"}\n",
	       now() - t0, nb, argv[7], vec_impl_name());
	fflush(stdout);
	{
		size_t count[nq];
		float *score = malloc(nq * k * sizeof(float));
		int64_t *id = malloc(nq * k * sizeof(int64_t));
		struct idx_hits h = { k, count, score, id };

		struct coldgap g;
		double *cold = malloc(nq * sizeof(*cold));

		lat = malloc(nq * sizeof(*lat));
		efs = strdup(argv[8]);
		for (tok = strtok(efs, ","); tok; tok = strtok(NULL, ",")) {
			size_t found = 0;
			double qps, sum = 0;

			mfs_kv_init(&sp);
			mfs_kv_set(&sp, "ef", tok, NULL);
			t0 = now();
			idx_search(ix, query, nq, &sp, &h, NULL);
			qps = (double)nq / (now() - t0);
			for (size_t q = 0; q < nq; q++)
				for (size_t j = 0; j < count[q]; j++)
					for (size_t t = 0; t < k; t++)
						if (id[q * k + j] == gt[q * gk + t] + 1) {
							found++;
							break;
						}
			for (size_t q = 0; q < nq; q++) {
				struct idx_hits one = { k, count, score, id };
				double s = now();

				idx_search(ix, query + q * d, 1, &sp, &one, NULL);
				lat[q] = (now() - s) * 1e3;
				sum += lat[q];
			}
			qsort(lat, nq, sizeof(*lat), cmpd);
			/* the same, cold (coldgap.h), as hnsw_peer does */
			if (coldgap_start(&g) != 0) {
				perror("coldgap");
				return 1;
			}
			for (size_t q = 0; q < nq; q++) {
				struct idx_hits one = { k, count, score, id };
				double s;

				coldgap_run(&g, 7);
				s = now();
				idx_search(ix, query + q * d, 1, &sp, &one, NULL);
				cold[q] = (now() - s) * 1e3;
			}
			coldgap_stop(&g);
			qsort(cold, nq, sizeof(*cold), cmpd);
			printf("{\"peer\":\"mfs-inproc\",\"event\":\"search\",\"ef\":%s,\"recall\":%.4f,\"qps\":%.1f,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"mean_ms\":%.4f,\"cold_p50_ms\":%.4f}\n",
			       tok, (double)found / (double)(nq * k), qps,
			       lat[nq / 2], lat[nq * 99 / 100], sum / (double)nq,
			       cold[nq / 2]);
			fflush(stdout);
		}
		free(efs);
		free(lat);
		free(cold);
		free(score);
		free(id);
	}
	{
		/* persistence: save the graph, restore it with the entities */
		struct mfs_buf blob;
		struct idx *ix2 = NULL;
		double ts, tr;

		mfs_buf_init(&blob, SIZE_MAX);
		t0 = now();
		if (idx_hnsw_type.save(ix, &blob) < 0)
			return 1;
		ts = now() - t0;
		t0 = now();
		if (idx_hnsw_type.restore(&info, &canon, blob.data, blob.len, ids,
					  base, nb, &ix2, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		tr = now() - t0;
		printf("{\"peer\":\"mfs-inproc\",\"event\":\"persist\",\"blob_bytes\":%zu,\"save_s\":%.4f,\"restore_s\":%.4f}\n",
		       blob.len, ts, tr);
		idx_free(ix2);
		mfs_buf_fini(&blob);
	}
	printf("{\"peer\":\"mfs-inproc\",\"event\":\"memory\",\"index_bytes\":%zu,\"estimate_bytes\":%zu}\n",
	       idx_hnsw_type.memory_bytes(ix),
	       idx_hnsw_type.estimate_bytes(&info, &canon, nb));
	idx_free(ix);
	mfs_pool_free(info.pool);
	free(ids);
	free(base);
	free(query);
	free(gtf);
	return 0;
}
