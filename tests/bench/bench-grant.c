/* SPDX-License-Identifier: MIT */
/*
 * Grant table operations under three table locks, in one run: the
 * per-thread reader lock (what the core uses), pthread_rwlock_t and a plain
 * atomic counter rwlock.  Each thread works on its own grants, so the only
 * thing threads share is the table lock, as in seed 002's measurement.
 *
 *  1. Uncontended read lock + unlock of the per-thread reader lock and of
 *     pthread_rwlock_t (ns per pair).
 *  2. Grant copies per second (64 bytes, grant -> frame: two read locks per
 *     copy, no system call) with 1, 2 and 4 threads (this machine has 2).
 *  3. Map + unmap pairs per second: each pair also makes two system calls
 *     (mmap, munmap), which is most of its cost.
 *
 * usage: bench-grant [seconds-per-run]
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "hv.h"
#include "prwlock.h"

#define MiB (UINT64_C(1) << 20)

static const char *const lock_names[] = { "per_thread", "pthread_rwlock", "atomic_rwlock" };

static __attribute__((noreturn)) void die(const char *what)
{
	fprintf(stderr, "bench-grant: %s failed\n", what);
	exit(1);
}

static void lock_cost(void)
{
	static struct hv_prw_class cls = { .id = 2 };
	struct hv_prwlock prw;
	pthread_rwlock_t rw;
	const long n = 20000000;
	double t0;

	hv_prw_class_init(&cls);
	hv_prwlock_init(&prw, &cls, HV_LOCK_GRANT, "bench");
	pthread_rwlock_init(&rw, NULL);
	t0 = now_s();
	for (long i = 0; i < n; i++) {
		hv_prw_read_lock(&prw);
		hv_prw_read_unlock(&prw);
	}
	double prw_ns = (now_s() - t0) * 1e9 / (double)n;

	t0 = now_s();
	for (long i = 0; i < n; i++) {
		pthread_rwlock_rdlock(&rw);
		pthread_rwlock_unlock(&rw);
	}
	double rw_ns = (now_s() - t0) * 1e9 / (double)n;

	printf("{\"bench\":\"read_lock_unlock\",\"threads\":1,\"per_thread_ns\":%.2f,"
	       "\"pthread_rwlock_ns\":%.2f}\n", prw_ns, rw_ns);
	hv_prwlock_deinit(&prw);
	pthread_rwlock_destroy(&rw);
}

struct worker {
	struct hv *hv;
	domid_t id;
	grant_ref_t ref;
	uint64_t gfn;
	bool map;
	atomic_bool *go, *stop;
	uint64_t ops;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct gnttab_copy op = {
		.source = { .u.ref = w->ref, .domid = w->id },
		.dest = { .u.gmfn = w->gfn, .domid = w->id },
		.len = 64, .flags = GNTCOPY_source_gref,
	};

	while (!atomic_load(w->go))
		;
	while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
		if (w->map) {
			grant_handle_t h;
			void *p;

			if (hv_gnttab_map(w->hv, w->id, w->ref, GNTMAP_host_map, &p, &h) != GNTST_okay ||
			    hv_gnttab_unmap(w->hv, h) != GNTST_okay)
				die("map");
		} else if (hv_gnttab_copy(w->hv, &op) != GNTST_okay) {
			die("copy");
		}
		w->ops++;
	}
	return NULL;
}

static double run(enum hv_grant_lock kind, unsigned int threads, bool map, double seconds)
{
	struct hv_opts opts = { .sz = sizeof(opts), .machine_bytes = 96 * MiB };
	struct hv_domain_opts dopts = { .sz = sizeof(dopts), .memory_bytes = 32 * MiB,
					.grant_lock = kind };
	struct worker w[8];
	pthread_t t[8];
	atomic_bool go = false, stop = false;
	struct hv_domain *d;
	struct hv *hv;
	uint64_t gfns[1], total = 0;
	double t0, elapsed;

	if (hv_new(&opts, &hv) < 0 || hv_domain_create(hv, &dopts, &d) < 0 ||
	    hv_gnttab_setup_table(d, 1, gfns) != GNTST_okay)
		die("setup");
	for (unsigned int i = 0; i < threads; i++) {
		/*
		 * Grants 64 apart and frames in different 2 MiB blocks: no two
		 * threads share an active entry's or a superpage's cache line.
		 */
		grant_ref_t ref = 64 * i;
		uint64_t block = 512 * (2 * i + 1);

		hv_gnttab_grant_access(d, ref, HV_DOMID_DOM0, block + 10, false);
		w[i] = (struct worker){ .hv = hv, .id = hv_domain_id(d), .ref = ref, .gfn = block + 100,
					.map = map, .go = &go, .stop = &stop };
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	t0 = now_s();
	atomic_store(&go, true);
	/* Sleep, not spin: this machine has two cores and the workers need both. */
	struct timespec dur = { .tv_sec = (time_t)seconds,
				.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9) };

	nanosleep(&dur, NULL);
	atomic_store(&stop, true);
	elapsed = now_s() - t0;
	for (unsigned int i = 0; i < threads; i++) {
		pthread_join(t[i], NULL);
		total += w[i].ops;
	}
	hv_domain_destroy(d);
	hv_domain_put(d);
	hv_free(hv);
	return (double)total / elapsed;
}

int main(int argc, char **argv)
{
	double seconds = argc > 1 ? atof(argv[1]) : 1.0;
	static const unsigned int thread_counts[] = { 1, 2, 4 };

	if (seconds <= 0) {
		fprintf(stderr, "usage: %s [seconds-per-run]\n", argv[0]);
		return 2;
	}
	lock_cost();
	for (int map = 0; map < 2; map++) {
		for (unsigned int i = 0; i < 3; i++) {
			double rate[3];

			for (int k = 0; k < 3; k++)
				rate[k] = run((enum hv_grant_lock)k, thread_counts[i], map, seconds);
			for (int k = 0; k < 3; k++)
				printf("{\"bench\":\"grant_%s\",\"lock\":\"%s\",\"threads\":%u,"
				       "\"ops_per_s\":%.0f}\n", map ? "map_unmap" : "copy", lock_names[k],
				       thread_counts[i], rate[k]);
			printf("{\"bench\":\"grant_%s\",\"threads\":%u,\"compare\":\"per_thread/pthread\","
			       "\"ratio\":%.2f,\"compare_atomic\":%.2f}\n", map ? "map_unmap" : "copy",
			       thread_counts[i], rate[0] / rate[1], rate[0] / rate[2]);
		}
	}
	return 0;
}
