// hnsw_peer.cpp - the native hnswlib peer of the HNSW benchmark.
//
// Builds hnswlib's HierarchicalNSW (Debian libhnswlib-dev headers, compiled
// with -O3 -march=native) over the same fvecs base with the same M,
// efConstruction and thread count as milvusfs, then for each ef runs the
// queries as one parallel batch (QPS: the best of REPEAT batches, as the
// benchmark times milvusfs's batch; default 1) and one by one on one thread
// (latency; again "cold", each query after 7 cross-CPU wake-up round trips
// as a search through the mount follows, see coldgap.h), and prints one
// JSON object a line:
//   {"peer":"hnswlib","event":"build","seconds":S,"n":N,"threads":T}
//   {"peer":"hnswlib","event":"search","ef":E,"recall":R,"qps":Q,"p50_ms":..,"p99_ms":..,"cold_p50_ms":..}
//   {"peer":"hnswlib","event":"memory","index_bytes":B,"rss_mib":M}
// COSINE normalizes base and queries and uses the inner-product space.
//
//   hnsw_peer BASE.fvecs QUERY.fvecs GT.ivecs L2|IP|COSINE M EFC THREADS EF,EF,... [REPEAT]
#include <hnswlib/hnswlib.h>

#include "coldgap.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

static std::vector<float> read_fvecs(const char *path, size_t &n, size_t &d)
{
	FILE *f = fopen(path, "rb");
	std::vector<float> v;
	int32_t dim;

	if (!f) {
		perror(path);
		exit(2);
	}
	n = 0;
	while (fread(&dim, 4, 1, f) == 1) {
		d = (size_t)dim;
		v.resize((n + 1) * d);
		if (fread(&v[n * d], 4, d, f) != d)
			exit(2);
		n++;
	}
	fclose(f);
	return v;
}

static double now()
{
	return std::chrono::duration<double>(
		std::chrono::steady_clock::now().time_since_epoch()).count();
}

static long rss_kib()
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = 0;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = atol(line + 6);
	if (f)
		fclose(f);
	return kib;
}

static void normalize(std::vector<float> &v, size_t n, size_t d)
{
	for (size_t i = 0; i < n; i++) {
		double s = 0;
		for (size_t j = 0; j < d; j++)
			s += (double)v[i * d + j] * v[i * d + j];
		if (s > 0)
			for (size_t j = 0; j < d; j++)
				v[i * d + j] = (float)(v[i * d + j] / std::sqrt(s));
	}
}

template <class F>
static void parallel_for(size_t n, unsigned threads, F fn)
{
	std::atomic<size_t> next(0);
	std::vector<std::thread> th;

	for (unsigned t = 0; t < threads; t++)
		th.emplace_back([&]() {
			for (;;) {
				size_t i = next++;
				if (i >= n)
					break;
				fn(i);
			}
		});
	for (auto &t : th)
		t.join();
}

int main(int argc, char **argv)
{
	size_t nb, nq, d, d2, ng, gk;
	const size_t k = 10;

	if (argc != 9 && argc != 10) {
		fprintf(stderr, "usage: %s BASE QUERY GT METRIC M EFC THREADS EFS [REPEAT]\n",
			argv[0]);
		return 2;
	}
	int repeat = argc == 10 ? atoi(argv[9]) : 1;
	if (repeat < 1)
		repeat = 1;
	std::string metric = argv[4];
	size_t M = atoi(argv[5]), efc = atoi(argv[6]);
	unsigned threads = (unsigned)atoi(argv[7]);
	std::vector<size_t> efs;
	{
		std::stringstream ss(argv[8]);
		std::string t;
		while (std::getline(ss, t, ','))
			efs.push_back(std::stoul(t));
	}
	long rss0 = rss_kib();
	std::vector<float> base = read_fvecs(argv[1], nb, d);
	std::vector<float> query = read_fvecs(argv[2], nq, d2);
	std::vector<int32_t> gt;
	{
		std::vector<float> g = read_fvecs(argv[3], ng, gk);
		gt.resize(g.size());
		memcpy(gt.data(), g.data(), g.size() * 4);
	}
	hnswlib::SpaceInterface<float> *space;
	if (metric == "L2") {
		space = new hnswlib::L2Space(d);
	} else {
		if (metric == "COSINE") {
			normalize(base, nb, d);
			normalize(query, nq, d);
		}
		space = new hnswlib::InnerProductSpace(d);
	}
	long rss1 = rss_kib();
	double t0 = now();
	auto *h = new hnswlib::HierarchicalNSW<float>(space, nb, M, efc, 100);
	// as hnswlib's Python binding: the first point alone, then in parallel
	h->addPoint(&base[0], 0);
	parallel_for(nb - 1, threads, [&](size_t i) {
		h->addPoint(&base[(i + 1) * d], i + 1);
	});
	double build = now() - t0;
	printf("{\"peer\":\"hnswlib\",\"event\":\"build\",\"seconds\":%.4f,\"n\":%zu,\"threads\":%u}\n",
	       build, nb, threads);
	fflush(stdout);

	std::vector<int64_t> res(nq * k);
	std::vector<double> lat(nq);
	for (size_t ef : efs) {
		h->setEf(ef);
		double best = 1e300;
		for (int rep = 0; rep < repeat; rep++) {
			t0 = now();
			parallel_for(nq, threads, [&](size_t q) {
				auto r = h->searchKnn(&query[q * d], k);
				for (size_t j = r.size(); j-- > 0; r.pop())
					res[q * k + j] = (int64_t)r.top().second;
			});
			best = std::min(best, now() - t0);
		}
		double qps = nq / best;
		size_t found = 0;
		for (size_t q = 0; q < nq; q++)
			for (size_t j = 0; j < k; j++)
				for (size_t t = 0; t < k; t++)
					if (res[q * k + j] == gt[q * gk + t]) {
						found++;
						break;
					}
		for (size_t q = 0; q < nq; q++) {
			double s = now();
			auto r = h->searchKnn(&query[q * d], k);
			lat[q] = (now() - s) * 1e3;
		}
		std::sort(lat.begin(), lat.end());
		double sum = 0;
		for (double x : lat)
			sum += x;
		// the same, cold: 7 cross-CPU round trips before each query
		std::vector<double> cold(nq);
		struct coldgap g;
		if (coldgap_start(&g) != 0) {
			perror("coldgap");
			return 1;
		}
		for (size_t q = 0; q < nq; q++) {
			coldgap_run(&g, 7);
			double s = now();
			auto r = h->searchKnn(&query[q * d], k);
			cold[q] = (now() - s) * 1e3;
		}
		coldgap_stop(&g);
		std::sort(cold.begin(), cold.end());
		printf("{\"peer\":\"hnswlib\",\"event\":\"search\",\"ef\":%zu,\"recall\":%.4f,\"qps\":%.1f,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"mean_ms\":%.4f,\"cold_p50_ms\":%.4f}\n",
		       ef, (double)found / (nq * k), qps, lat[nq / 2],
		       lat[(nq * 99) / 100], sum / nq, cold[nq / 2]);
		fflush(stdout);
	}
	size_t upper = 0;
	for (size_t i = 0; i < h->cur_element_count; i++)
		upper += h->element_levels_[i] * h->size_links_per_element_;
	size_t bytes = h->max_elements_ * h->size_data_per_element_ + upper;
	printf("{\"peer\":\"hnswlib\",\"event\":\"memory\",\"index_bytes\":%zu,\"rss_mib\":%.1f,\"rss_index_mib\":%.1f}\n",
	       bytes, rss_kib() / 1024.0, (rss_kib() - rss1) / 1024.0);
	(void)rss0;
	delete h;
	delete space;
	return 0;
}
