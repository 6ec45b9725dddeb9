/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counts.h"

struct counts {
	uint64_t nr_frames, nr_spages;
	struct hv_frame_info *frames;
	struct hv_spage_info *spages;
	uint64_t free_frames;
};

struct counts *counts_take(struct hv *hv)
{
	struct counts *c = calloc(1, sizeof(*c));
	struct hv_stats st;

	c->nr_frames = hv_machine_frames(hv);
	c->nr_spages = (c->nr_frames + HV_SUPERPAGE_PAGES - 1) / HV_SUPERPAGE_PAGES;
	c->frames = calloc(c->nr_frames, sizeof(*c->frames));
	c->spages = calloc(c->nr_spages, sizeof(*c->spages));
	for (uint64_t i = 0; i < c->nr_frames; i++)
		hv_frame_info(hv, i, &c->frames[i]);
	for (uint64_t i = 0; i < c->nr_spages; i++)
		hv_spage_info(hv, i * HV_SUPERPAGE_PAGES, &c->spages[i]);
	hv_get_stats(hv, &st);
	c->free_frames = st.free_frames;
	return c;
}

static void counts_free(struct counts *c)
{
	free(c->frames);
	free(c->spages);
	free(c);
}

bool counts_unchanged(struct counts *before, struct hv *hv)
{
	struct counts *now = counts_take(hv);
	bool same = before->free_frames == now->free_frames;

	if (!same)
		printf("# free frames %" PRIu64 " -> %" PRIu64 "\n", before->free_frames,
		       now->free_frames);
	for (uint64_t i = 0; same && i < before->nr_frames; i++) {
		const struct hv_frame_info *a = &before->frames[i], *b = &now->frames[i];

		if (memcmp(a, b, sizeof(*a))) {
			printf("# mfn %#" PRIx64 ": count %u -> %u, type %d/%u -> %d/%u\n", i,
			       a->count, b->count, a->type, a->type_count, b->type, b->type_count);
			same = false;
		}
	}
	for (uint64_t i = 0; same && i < before->nr_spages; i++) {
		const struct hv_spage_info *a = &before->spages[i], *b = &now->spages[i];

		if (memcmp(a, b, sizeof(*a))) {
			printf("# superpage %#" PRIx64 ": count %u -> %u, type %d/%u -> %d/%u\n",
			       i * HV_SUPERPAGE_PAGES, a->count, b->count, a->type, a->type_count,
			       b->type, b->type_count);
			same = false;
		}
	}
	counts_free(before);
	counts_free(now);
	return same;
}

bool counts_all_free(struct hv *hv)
{
	struct hv_stats st;

	for (uint64_t i = 0; i < hv_machine_frames(hv); i++) {
		struct hv_frame_info fi;

		hv_frame_info(hv, i, &fi);
		if (fi.count || fi.type_count || fi.type || fi.owner != DOMID_INVALID) {
			printf("# mfn %#" PRIx64 " not free: count %u type %d/%u owner %u\n",
			       i, fi.count, fi.type, fi.type_count, fi.owner);
			return false;
		}
	}
	for (uint64_t i = 0; i < hv_machine_frames(hv); i += HV_SUPERPAGE_PAGES) {
		struct hv_spage_info si;

		hv_spage_info(hv, i, &si);
		if (si.count || si.type_count || si.type || si.enabled) {
			printf("# superpage %#" PRIx64 " in use: count %u type %d/%u enabled %d\n",
			       i, si.count, si.type, si.type_count, si.enabled);
			return false;
		}
	}
	hv_get_stats(hv, &st);
	return st.free_frames == hv_machine_frames(hv);
}

bool hv_end_clean(struct hv *hv)
{
	bool clean = counts_all_free(hv);

	hv_free(hv);
	return clean;
}

void domain_end(struct hv_domain *d)
{
	hv_domain_destroy(d);
	hv_domain_put(d);
}

static void log_to_tap(void *ctx, enum hv_log_level level, const char *msg)
{
	(void)ctx;
	printf("# hv[%d]: %s\n", level, msg);
}

struct hv *test_hv(uint64_t machine_bytes)
{
	struct hv_opts opts = {
		.sz = sizeof(opts),
		.machine_bytes = machine_bytes,
		.log = log_to_tap,
	};
	struct hv *hv = NULL;
	int r = hv_new(&opts, &hv);

	if (r < 0) {
		printf("# hv_new: %s\n", strerror(-r));
		exit(1);
	}
	return hv;
}

struct hv_domain *test_domain_with(struct hv *hv, const struct hv_domain_opts *opts)
{
	struct hv_domain *d = NULL;
	int r = hv_domain_create(hv, opts, &d);

	if (r < 0) {
		printf("# hv_domain_create: %s\n", strerror(-r));
		exit(1);
	}
	return d;
}

struct hv_domain *test_domain(struct hv *hv, uint64_t memory_bytes)
{
	struct hv_domain_opts opts = { .sz = sizeof(opts), .memory_bytes = memory_bytes };

	return test_domain_with(hv, &opts);
}
