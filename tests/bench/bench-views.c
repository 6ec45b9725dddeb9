/* SPDX-License-Identifier: MIT */
/*
 * Views: what they cost the guest and the monitor, all in one run.
 *
 *  1. Script-engine accesses per second with the vCPU in the host p2m, in a
 *     view with no changed entries and in a view with 10 000 changed
 *     entries, for a working set that stays in the vCPU's translation cache
 *     ("hot", 64 pages) and one that misses it on every access ("cold",
 *     16 384 pages, 10 000 of them changed in the big view).  The three
 *     placements alternate within each round; medians over the rounds.
 *  2. The cost of switching one running vCPU between two views.
 *  3. Memory a view with 10 000 changed entries uses, on a 4 GiB domain.
 *
 * usage: bench-views [rounds] [accesses-per-segment]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "hv.h"

#define GiB (UINT64_C(1) << 30)
#define HOT_PAGES 64
#define COLD_PAGES 16384
#define CHANGED 10000

static __attribute__((noreturn)) void die(const char *what, int r)
{
	fprintf(stderr, "bench-views: %s: %s\n", what, strerror(-r));
	exit(1);
}

static void wait_pause_point(struct hv_vcpu *v)
{
	while (!hv_vcpu_at_pause_point(v))
		usleep(100);
}

/* Pages spread over the whole 4 GiB so the cold set misses every cache. */
static uint64_t cold_gfn(unsigned int i)
{
	return (uint64_t)i * 61 % (4 * GiB >> HV_PAGE_SHIFT);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 5;
	uint64_t per_segment = argc > 2 ? strtoull(argv[2], NULL, 0) : 4000000;
	struct hv_opts opts = { .sz = sizeof(opts), .machine_bytes = 4 * GiB + 64 * (1 << 20) };
	const char *sets[2] = { "hot", "cold" };
	const unsigned int set_pages[2] = { HOT_PAGES, COLD_PAGES };
	const char *places[3] = { "host", "view_empty", "view_10000_changed" };
	struct hv_script *s = hv_script_new();
	struct hv_domain *d;
	struct hv_vcpu *v;
	unsigned int views[3] = { 0 };
	double *rate[2][3];
	struct hv *hv;
	int r;

	if (rounds <= 0 || per_segment == 0) {
		fprintf(stderr, "usage: %s [rounds] [accesses-per-segment]\n", argv[0]);
		return 2;
	}
	/* Segments: for each round, set, placement: pause, then the loop. */
	for (int round = 0; round < rounds; round++)
		for (int set = 0; set < 2; set++)
			for (int place = 0; place < 3; place++) {
				uint32_t loops = (uint32_t)(per_segment / set_pages[set]);

				hv_script_pause_point(s);
				hv_script_loop_begin(s, loops ? loops : 1);
				for (unsigned int i = 0; i < set_pages[set]; i++)
					hv_script_read(s, set ? cold_gfn(i) : i, 64, 8);
				hv_script_loop_end(s);
			}
	hv_script_pause_point(s);

	r = hv_new(&opts, &hv);
	if (r < 0)
		die("hv_new", r);
	struct hv_script_config cfg = { .nr = 1, .scripts = (const struct hv_script *const *)&s };
	struct hv_domain_opts dopts = {
		.sz = sizeof(dopts), .memory_bytes = 4 * GiB, .nr_vcpus = 1,
		.engine = &hv_script_engine, .engine_config = &cfg,
	};

	r = hv_domain_create(hv, &dopts, &d);
	if (r < 0)
		die("domain", r);
	v = hv_domain_vcpu(d, 0);
	if ((r = hv_views_enable(d, 0)) < 0 || (r = hv_view_create(d, XENMEM_access_rwx, &views[1])) < 0 ||
	    (r = hv_view_create(d, XENMEM_access_rwx, &views[2])) < 0)
		die("views", r);
	/* 10 000 changed entries, all in the cold set, none that would trap. */
	for (unsigned int i = 0; i < CHANGED; i++)
		if ((r = hv_view_set_access(d, views[2], cold_gfn(i), 1, XENMEM_access_rw)) < 0)
			die("set_access", r);

	for (int set = 0; set < 2; set++)
		for (int place = 0; place < 3; place++)
			rate[set][place] = calloc((size_t)rounds, sizeof(double));
	hv_domain_unpause(d);
	for (int round = 0; round < rounds; round++)
		for (int set = 0; set < 2; set++)
			for (int place = 0; place < 3; place++) {
				struct hv_vcpu_stats st0, st1;
				double t0;

				wait_pause_point(v);
				hv_vcpu_switch_view(v, views[place]);
				hv_vcpu_get_stats(v, &st0);
				t0 = now_s();
				hv_vcpu_unpause(v);
				wait_pause_point(v);
				hv_vcpu_get_stats(v, &st1);
				rate[set][place][round] = (double)(st1.accesses - st0.accesses) / (now_s() - t0);
			}

	double median[2][3];

	for (int set = 0; set < 2; set++) {
		for (int place = 0; place < 3; place++) {
			qsort(rate[set][place], (size_t)rounds, sizeof(double), cmp_double);
			median[set][place] = rate[set][place][rounds / 2];
			printf("{\"bench\":\"view_access\",\"working_set\":\"%s\",\"pages\":%u,"
			       "\"placement\":\"%s\",\"rounds\":%d,\"accesses_per_s\":%.0f}\n",
			       sets[set], set_pages[set], places[place], rounds, median[set][place]);
		}
		printf("{\"bench\":\"view_access\",\"working_set\":\"%s\",\"compare\":\"host/view\","
		       "\"empty_view_cost\":%.3f,\"changed_view_cost\":%.3f}\n", sets[set],
		       median[set][0] / median[set][1], median[set][0] / median[set][2]);
	}

	/* View switch of one running vCPU. */
	struct hv_script *spin = hv_script_new();
	struct hv_domain *d2;

	hv_script_loop_begin(spin, 2000000000u);
	hv_script_read(spin, 1, 0, 8);
	hv_script_loop_end(spin);
	cfg.scripts = (const struct hv_script *const *)&spin;
	dopts.memory_bytes = 64 << 20;
	if ((r = hv_domain_create(hv, &dopts, &d2)) < 0 || (r = hv_views_enable(d2, 0)) < 0 ||
	    (r = hv_view_create(d2, XENMEM_access_rwx, &views[1])) < 0 ||
	    (r = hv_view_create(d2, XENMEM_access_rwx, &views[2])) < 0)
		die("switch domain", r);
	hv_domain_unpause(d2);
	const int switches = 1000000;
	double t0 = now_s();

	for (int i = 0; i < switches; i++)
		hv_vcpu_switch_view(hv_domain_vcpu(d2, 0), views[1 + (i & 1)]);
	double switch_ns = (now_s() - t0) * 1e9 / switches;

	printf("{\"bench\":\"view_switch\",\"vcpus\":1,\"vcpu_running\":true,\"switches\":%d,"
	       "\"ns_per_switch\":%.1f}\n", switches, switch_ns);

	uint64_t entries, bytes;

	hv_view_usage(d, views[2], &entries, &bytes);
	printf("{\"bench\":\"view_memory\",\"domain_bytes\":%" PRIu64 ",\"changed_entries\":%" PRIu64
	       ",\"view_bytes\":%" PRIu64 ",\"bytes_per_entry\":%.1f}\n",
	       dopts.memory_bytes == 0 ? 0 : 4 * GiB, entries, bytes, (double)bytes / (double)entries);

	hv_domain_destroy(d2);
	hv_domain_put(d2);
	hv_domain_destroy(d);
	hv_domain_put(d);
	hv_free(hv);
	hv_script_free(spin);
	hv_script_free(s);
	for (int set = 0; set < 2; set++)
		for (int place = 0; place < 3; place++)
			free(rate[set][place]);
	return 0;
}
