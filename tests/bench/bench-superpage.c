/* SPDX-License-Identifier: MIT */
/*
 * Map and unmap 1 GiB of a domain into dom0, writable, through the
 * superpage path and through the forced 4 KiB path, in the same run.
 * Prints one JSON line per path and one comparing them.  Not a pass/fail
 * test: it exits non-zero only if a mapping call itself fails.
 *
 * usage: bench-superpage [GiB] [iterations]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "hv.h"

struct result {
	const char *path;
	double map_ns, unmap_ns;       /* medians */
	uint64_t ref_ops;              /* per map + unmap */
};

static int run(struct hv *hv, domid_t id, uint64_t pages, unsigned int flags, int iters,
	       struct result *res)
{
	uint64_t *map_t = calloc((size_t)iters, sizeof(*map_t));
	uint64_t *unmap_t = calloc((size_t)iters, sizeof(*unmap_t));
	struct hv_stats s0, s1;
	int r = 0;

	hv_get_stats(hv, &s0);
	for (int i = 0; i < iters && r == 0; i++) {
		uint64_t t0 = now_ns(), t1;
		void *p;

		r = hv_foreign_map(hv, id, 0, pages, flags, &p);
		t1 = now_ns();
		if (r < 0)
			break;
		r = hv_foreign_unmap(hv, p);
		map_t[i] = t1 - t0;
		unmap_t[i] = now_ns() - t1;
	}
	hv_get_stats(hv, &s1);
	if (r == 0) {
		qsort(map_t, (size_t)iters, sizeof(*map_t), cmp_u64);
		qsort(unmap_t, (size_t)iters, sizeof(*unmap_t), cmp_u64);
		res->map_ns = (double)map_t[iters / 2];
		res->unmap_ns = (double)unmap_t[iters / 2];
		res->ref_ops = ((s1.page_ref_ops - s0.page_ref_ops) +
				(s1.spage_ref_ops - s0.spage_ref_ops)) / (uint64_t)iters;
	}
	free(map_t);
	free(unmap_t);
	return r;
}

int main(int argc, char **argv)
{
	uint64_t gib = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	int iters = argc > 2 ? atoi(argv[2]) : 15;
	struct hv_opts opts = { .sz = sizeof(opts), .machine_bytes = (gib << 30) + (64 << 20) };
	struct hv_domain_opts dopts = { .sz = sizeof(dopts), .memory_bytes = gib << 30 };
	struct result super = { .path = "superpage" }, small = { .path = "4k" };
	struct hv_domain *d;
	struct hv *hv;
	int r;

	if (gib == 0 || iters <= 0) {
		fprintf(stderr, "usage: %s [GiB] [iterations]\n", argv[0]);
		return 2;
	}
	r = hv_new(&opts, &hv);
	if (r == 0)
		r = hv_domain_create(hv, &dopts, &d);
	if (r < 0) {
		fprintf(stderr, "bench-superpage: setup: %s\n", strerror(-r));
		return 1;
	}
	uint64_t pages = dopts.memory_bytes >> HV_PAGE_SHIFT;

	/* Alternate the paths so neither benefits from running second. */
	r = run(hv, hv_domain_id(d), pages, HV_MAP_WRITE, 1, &super);
	if (r == 0)
		r = run(hv, hv_domain_id(d), pages, HV_MAP_WRITE | HV_MAP_4K, 1, &small);
	if (r == 0)
		r = run(hv, hv_domain_id(d), pages, HV_MAP_WRITE, iters, &super);
	if (r == 0)
		r = run(hv, hv_domain_id(d), pages, HV_MAP_WRITE | HV_MAP_4K, iters, &small);
	if (r < 0) {
		fprintf(stderr, "bench-superpage: map: %s\n", strerror(-r));
		return 1;
	}
	for (const struct result *x = &super; x; x = x == &super ? &small : NULL)
		printf("{\"bench\":\"foreign_map\",\"path\":\"%s\",\"bytes\":%" PRIu64
		       ",\"iterations\":%d,\"map_ns\":%.0f,\"unmap_ns\":%.0f,"
		       "\"map_unmap_ns\":%.0f,\"ref_ops\":%" PRIu64 "}\n",
		       x->path, dopts.memory_bytes, iters, x->map_ns, x->unmap_ns,
		       x->map_ns + x->unmap_ns, x->ref_ops);
	printf("{\"bench\":\"foreign_map\",\"compare\":\"4k/superpage\",\"speedup\":%.1f,"
	       "\"ref_ops_ratio\":%.1f}\n",
	       (small.map_ns + small.unmap_ns) / (super.map_ns + super.unmap_ns),
	       (double)small.ref_ops / (double)super.ref_ops);

	hv_domain_destroy(d);
	hv_domain_put(d);
	hv_free(hv);
	return 0;
}
