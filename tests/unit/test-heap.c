/* SPDX-License-Identifier: MIT */
/* Buddy allocator: every order, alignment, fragmentation and coalescing. */
#include <errno.h>
#include <stdlib.h>

#include "counts.h"
#include "harness.h"
#include "private.h"

#define MiB (UINT64_C(1) << 20)

static uint64_t free_frames(struct hv *hv)
{
	struct hv_stats st;

	hv_get_stats(hv, &st);
	return st.free_frames;
}

/* A domain with no memory of its own, to own frames the test allocates. */
static struct hv_domain *owner_of(struct hv *hv)
{
	return test_domain(hv, HV_PAGE_SIZE);
}

static void every_order_aligned(void)
{
	struct hv *hv = test_hv(2048 * MiB);
	struct hv_domain *d = owner_of(hv);
	uint64_t mfn[HV_MAX_ORDER + 1];

	for (unsigned int o = 0; o <= HV_MAX_ORDER; o++) {
		CHECK_EQ(heap_alloc_domheap(d, o, &mfn[o]), 0);
		CHECK_EQ(mfn[o] & ((UINT64_C(1) << o) - 1), 0);
		struct hv_spage_info si;

		hv_spage_info(hv, mfn[o], &si);
		CHECK_EQ(si.enabled, o >= HV_SUPERPAGE_ORDER);
	}
	CHECK_EQ(heap_alloc_domheap(d, HV_MAX_ORDER + 1, &mfn[0]), -EINVAL);
	for (unsigned int o = 0; o <= HV_MAX_ORDER; o++)
		heap_free_domheap(d, mfn[o], o);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void fragmentation_and_coalescing(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = owner_of(hv);
	uint64_t n = free_frames(hv), *mfn = calloc(n, sizeof(*mfn)), got = 0, odd = 0, dummy;

	/* Take every frame one by one, then free every other one. */
	while (heap_alloc_domheap(d, 0, &mfn[got]) == 0)
		got++;
	CHECK_EQ(got, n);
	CHECK_EQ(free_frames(hv), 0);
	CHECK_EQ(heap_alloc_domheap(d, 0, &dummy), -ENOMEM);
	for (uint64_t i = 0; i < got; i++)
		if (mfn[i] & 1) {
			heap_free_domheap(d, mfn[i], 0);
			odd++;
		}
	CHECK_EQ(odd, n / 2 + 1);      /* the owner's own frame is mfn 0 */
	CHECK_EQ(free_frames(hv), odd);
	/* Half the memory is free, yet no two free frames are buddies. */
	CHECK_EQ(heap_alloc_domheap(d, 1, &dummy), -ENOMEM);
	/* Freeing the rest in a scrambled order must coalesce completely. */
	for (uint64_t i = 0; i < got; i++) {
		uint64_t j = i + (uint64_t)rand() % (got - i), t = mfn[i];

		mfn[i] = mfn[j];
		mfn[j] = t;
	}
	for (uint64_t i = 0; i < got; i++)
		if (!(mfn[i] & 1))
			heap_free_domheap(d, mfn[i], 0);
	CHECK_EQ(free_frames(hv), n);
	/*
	 * With mfn 0 held by the owner, fully coalesced means exactly one free
	 * block of each order 11..0 (4095 = 2048 + 1024 + ... + 1).
	 */
	uint64_t big[12];

	for (int o = 11; o >= 0; o--)
		CHECK_EQ(heap_alloc_domheap(d, (unsigned int)o, &big[o]), 0);
	CHECK_EQ(free_frames(hv), 0);
	for (int o = 11; o >= 0; o--)
		heap_free_domheap(d, big[o], (unsigned int)o);
	free(mfn);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void odd_machine_size(void)
{
	/* 10 MiB + 12 KiB: the heap is seeded with the largest aligned blocks. */
	struct hv *hv = test_hv(10 * MiB + 3 * HV_PAGE_SIZE);
	struct hv_domain *d = owner_of(hv);
	uint64_t mfn;

	CHECK_EQ(hv_machine_frames(hv), 2563);
	CHECK_EQ(free_frames(hv), 2562);
	CHECK_EQ(heap_alloc_domheap(d, 11, &mfn), 0);
	CHECK_EQ(mfn, 0);
	CHECK_EQ(heap_alloc_domheap(d, 11, &mfn), -ENOMEM);
	CHECK_EQ(heap_alloc_domheap(d, 9, &mfn), 0);
	heap_free_domheap(d, mfn, 9);
	heap_free_domheap(d, 0, 11);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void leaked_reference_holds_block_back(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = owner_of(hv);
	uint64_t mfn, ops = 0, before;

	CHECK_EQ(heap_alloc_domheap(d, 3, &mfn), 0);
	before = free_frames(hv);
	CHECK_EQ(page_get(hv, mfn + 5, hv_domain_id(d), &ops), 0);
	heap_free_domheap(d, mfn, 3);    /* refused: mfn+5 is still referenced */
	CHECK_EQ(free_frames(hv), before);
	page_put(hv, mfn + 5, &ops);
	heap_free_domheap(d, mfn, 3);
	CHECK_EQ(free_frames(hv), before + 8);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

T_MAIN(T_CASE(every_order_aligned),
       T_CASE(fragmentation_and_coalescing),
       T_CASE(odd_machine_size),
       T_CASE(leaked_reference_holds_block_back))
