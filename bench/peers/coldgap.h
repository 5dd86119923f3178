/* coldgap.h - between two in-process searches, what the requests of a
 * search through the mount do to the searching CPU: wake-ups to and from
 * another CPU.  Shared by hnsw_peer.cpp (hnswlib) and hnsw_probe.c (the
 * milvusfs index), so both are measured "cold" the same way.
 *
 * A search through the mount follows other requests: in the benchmark a
 * `cat count` (6 answered requests) and the search's own LOOKUP, each a
 * wake-up of the client on one CPU by the daemon on the other and back.
 * coldgap_run(g, 7) makes 7 such round trips through two pipes to a
 * helper thread on the other CPU before the query is timed; the query's
 * time then includes what those wake-ups cost its caches and TLB (on the
 * 2-core benchmark machine, a virtual one, far more than on bare metal).
 * Without a second CPU the helper shares the first.
 */
#ifndef MFS_BENCH_COLDGAP_H
#define MFS_BENCH_COLDGAP_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

struct coldgap {
	int to[2], from[2];
	pthread_t helper;
	cpu_set_t saved;                /* the caller's affinity before */
};

static void *coldgap_helper(void *arg)
{
	struct coldgap *g = (struct coldgap *)arg;
	char c;

	while (read(g->to[0], &c, 1) == 1 && c)
		if (write(g->from[1], &c, 1) != 1)
			break;
	return NULL;
}

static void coldgap_pin(pthread_t t, int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	pthread_setaffinity_np(t, sizeof(s), &s);
}

/* Start the helper; the caller runs on CPU 0, the helper on CPU 1. */
static int coldgap_start(struct coldgap *g)
{
	int other = sysconf(_SC_NPROCESSORS_ONLN) > 1;

	if (pipe(g->to) != 0 || pipe(g->from) != 0)
		return -1;
	pthread_getaffinity_np(pthread_self(), sizeof(g->saved), &g->saved);
	if (pthread_create(&g->helper, NULL, coldgap_helper, g) != 0)
		return -1;
	coldgap_pin(pthread_self(), 0);
	coldgap_pin(g->helper, other ? 1 : 0);
	return 0;
}

/* rounds round trips to the helper and back. */
static void coldgap_run(struct coldgap *g, int rounds)
{
	char c = 1;

	for (int i = 0; i < rounds; i++)
		if (write(g->to[1], &c, 1) != 1 || read(g->from[0], &c, 1) != 1)
			abort();
}

static void coldgap_stop(struct coldgap *g)
{
	char c = 0;

	if (write(g->to[1], &c, 1) == 1)
		pthread_join(g->helper, NULL);
	close(g->to[0]);
	close(g->to[1]);
	close(g->from[0]);
	close(g->from[1]);
	pthread_setaffinity_np(pthread_self(), sizeof(g->saved), &g->saved);
}

#endif
