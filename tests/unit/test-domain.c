/* SPDX-License-Identifier: MIT */
/* Domains: memory layout in aligned blocks, lifetime, ids, bad input. */
#include <errno.h>

#include "counts.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)

static void largest_aligned_blocks(void)
{
	struct hv *hv = test_hv(1280 * MiB);
	struct hv_domain *d = test_domain(hv, 1024 * MiB + 2 * MiB + 3 * HV_PAGE_SIZE);
	uint64_t mfn[8];
	unsigned int order[8];
	struct hv_p2m_entry e;

	CHECK_EQ(hv_domain_tot_pages(d), 262144 + 512 + 3);
	/* 1 GiB, then 2 MiB, then 8 KiB + 4 KiB: gfn-aligned, largest first. */
	CHECK_EQ(hv_domain_blocks(d, mfn, order, 8), 4);
	CHECK_EQ(order[0], 18);
	CHECK_EQ(order[1], 9);
	CHECK_EQ(order[2], 1);
	CHECK_EQ(order[3], 0);
	for (unsigned int i = 0; i < 4; i++)
		CHECK_EQ(mfn[i] & ((UINT64_C(1) << order[i]) - 1), 0);
	/* The p2m uses 2 MiB leaves where the block allows it. */
	CHECK_EQ(hv_p2m_get_entry(d, 262144 + 100, &e), 0);
	CHECK_EQ(e.order, 9);
	CHECK_EQ(e.mfn, mfn[1] + 100);
	CHECK_EQ(e.type, HV_P2M_RAM_RW);
	CHECK_EQ(e.access, XENMEM_access_rwx);
	CHECK_EQ(hv_p2m_get_entry(d, 262144 + 512 + 2, &e), 0);
	CHECK_EQ(e.order, 0);
	CHECK_EQ(e.mfn, mfn[3]);
	CHECK_EQ(hv_p2m_get_entry(d, 262144 + 512 + 3, &e), -ENOENT);

	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void fragmented_heap_still_serves(void)
{
	struct hv *hv = test_hv(8 * MiB);
	struct hv_domain *small[3], *d;
	uint64_t mfn[64];
	unsigned int order[64];
	struct hv_stats st;

	/*
	 * Three single frames, the middle one freed again, leave mfn 1 and 3
	 * free but not buddies: a domain taking every free frame must end in
	 * two order-0 blocks after the large ones.
	 */
	for (int i = 0; i < 3; i++)
		small[i] = test_domain(hv, HV_PAGE_SIZE);
	domain_end(small[1]);
	d = test_domain(hv, 2046 * HV_PAGE_SIZE);
	size_t n = hv_domain_blocks(d, mfn, order, 64);

	CHECK_EQ(n, 11);
	CHECK_EQ(order[0], 10);
	CHECK_EQ(order[n - 2], 0);
	CHECK_EQ(order[n - 1], 0);
	CHECK_EQ(mfn[n - 2], 1);
	CHECK_EQ(mfn[n - 1], 3);
	CHECK_EQ(hv_domain_tot_pages(d), 2046);
	hv_get_stats(hv, &st);
	CHECK_EQ(st.free_frames, 0);
	domain_end(d);
	for (int i = 0; i < 3; i += 2) {
		hv_domain_destroy(small[i]);
		hv_domain_put(small[i]);
	}
	CHECK(hv_end_clean(hv));
}

static void out_of_memory_is_clean(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *a = test_domain(hv, 10 * MiB), *b = NULL;
	struct hv_domain_opts opts = { .sz = sizeof(opts), .memory_bytes = 8 * MiB };
	struct counts *before = counts_take(hv);

	CHECK_EQ(hv_domain_create(hv, &opts, &b), -ENOMEM);
	CHECK(b == NULL);
	opts.memory_bytes = 64 * MiB;
	CHECK_EQ(hv_domain_create(hv, &opts, &b), -ENOMEM);
	CHECK(counts_unchanged(before, hv));
	domain_end(a);
	CHECK(hv_end_clean(hv));
}

static void bad_opts(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain_opts opts = { .sz = sizeof(opts), .memory_bytes = 4 * MiB };
	struct hv_domain *d = NULL;

	opts.memory_bytes = 0;
	CHECK_EQ(hv_domain_create(hv, &opts, &d), -EINVAL);
	opts.memory_bytes = 4 * MiB + 1;
	CHECK_EQ(hv_domain_create(hv, &opts, &d), -EINVAL);
	opts.memory_bytes = 4 * MiB;
	opts.sz = sizeof(opts) - 1;
	CHECK_EQ(hv_domain_create(hv, &opts, &d), -EINVAL);
	CHECK_EQ(hv_domain_create(hv, NULL, &d), -EINVAL);
	CHECK(d == NULL);
	CHECK_EQ(hv_domain_get(hv, HV_DOMID_DOM0, &d), -EINVAL);
	CHECK_EQ(hv_domain_get(hv, HV_MAX_DOMAINS, &d), -EINVAL);
	CHECK_EQ(hv_domain_get(hv, 5, &d), -ESRCH);
	CHECK(hv_end_clean(hv));
}

static void lifetime_and_ids(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *a = test_domain(hv, MiB), *b = test_domain(hv, MiB), *g;

	CHECK_EQ(hv_domain_id(a), 1);
	CHECK_EQ(hv_domain_id(b), 2);
	CHECK_EQ(hv_domain_get(hv, 2, &g), 0);
	CHECK(g == b);
	hv_domain_put(g);
	CHECK_EQ(hv_domain_destroy(b), 0);
	CHECK_EQ(hv_domain_destroy(b), -ESRCH);
	CHECK_EQ(hv_domain_get(hv, 2, &g), -ESRCH);
	/* The caller's reference still keeps the structure; p2m is gone. */
	struct hv_p2m_entry e;

	CHECK_EQ(hv_p2m_get_entry(b, 0, &e), -ENOENT);
	CHECK_EQ(hv_p2m_set_entry(b, 0, &e), -ESRCH);
	hv_domain_put(b);
	domain_end(a);
	CHECK(hv_end_clean(hv));
}

static void domain_table_full(void)
{
	struct hv *hv = test_hv(16 * MiB);
	static struct hv_domain *d[HV_MAX_DOMAINS];
	struct hv_domain_opts opts = { .sz = sizeof(opts), .memory_bytes = HV_PAGE_SIZE };
	struct hv_domain *extra = NULL;
	unsigned int n = 0;

	while (n < HV_MAX_DOMAINS - 1 && hv_domain_create(hv, &opts, &d[n]) == 0)
		n++;
	CHECK_EQ(n, HV_MAX_DOMAINS - 1);
	CHECK_EQ(hv_domain_create(hv, &opts, &extra), -ENOSPC);
	for (unsigned int i = 0; i < n; i++) {
		hv_domain_destroy(d[i]);
		hv_domain_put(d[i]);
	}
	CHECK(counts_all_free(hv));
	/* hv_free() destroys what the caller did not. */
	CHECK_EQ(hv_domain_create(hv, &opts, &extra), 0);
	hv_domain_put(extra);
	hv_free(hv);
}

T_MAIN(T_CASE(largest_aligned_blocks),
       T_CASE(fragmented_heap_still_serves),
       T_CASE(out_of_memory_is_clean),
       T_CASE(bad_opts),
       T_CASE(lifetime_and_ids),
       T_CASE(domain_table_full))
