/* SPDX-License-Identifier: MIT */
/* Host p2m: entries, 2 MiB leaves, splitting, replacing, bad input. */
#include <errno.h>

#include "counts.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)

static void split_keeps_whole_range(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 4 * MiB);
	struct hv_p2m_entry e, before;
	uint64_t tables;

	CHECK_EQ(hv_p2m_get_entry(d, 512, &before), 0);
	CHECK_EQ(before.order, 9);
	tables = hv_p2m_tables(d);

	/* One 4 KiB change in the middle of the second 2 MiB leaf. */
	e = before;
	e.mfn = before.mfn + 77;
	e.order = 0;
	e.access = XENMEM_access_rx;
	e.suppress_ve = true;
	CHECK_EQ(hv_p2m_set_entry(d, 512 + 77, &e), 0);
	CHECK_EQ(hv_p2m_tables(d), tables + 1);

	for (uint64_t i = 0; i < 512; i++) {
		struct hv_p2m_entry x;

		CHECK_EQ(hv_p2m_get_entry(d, 512 + i, &x), 0);
		CHECK_EQ(x.order, 0);
		CHECK_EQ(x.mfn, before.mfn + i);
		CHECK_EQ(x.type, HV_P2M_RAM_RW);
		CHECK_EQ(x.access, i == 77 ? XENMEM_access_rx : XENMEM_access_rwx);
		CHECK_EQ(x.suppress_ve, i == 77);
	}
	/* The first leaf was not touched. */
	CHECK_EQ(hv_p2m_get_entry(d, 5, &e), 0);
	CHECK_EQ(e.order, 9);

	/* A 2 MiB set over the split range replaces the table again. */
	CHECK_EQ(hv_p2m_set_entry(d, 512, &before), 0);
	CHECK_EQ(hv_p2m_tables(d), tables);
	CHECK_EQ(hv_p2m_get_entry(d, 512 + 77, &e), 0);
	CHECK_EQ(e.order, 9);
	CHECK_EQ(e.access, XENMEM_access_rwx);

	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void every_access_value_round_trips(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, MiB);
	struct hv_p2m_entry e;

	for (int a = XENMEM_access_n; a <= XENMEM_access_n2rwx; a++) {
		CHECK_EQ(hv_p2m_get_entry(d, (uint64_t)a, &e), 0);
		e.access = (xenmem_access_t)a;
		CHECK_EQ(hv_p2m_set_entry(d, (uint64_t)a, &e), 0);
	}
	for (int a = XENMEM_access_n; a <= XENMEM_access_n2rwx; a++) {
		CHECK_EQ(hv_p2m_get_entry(d, (uint64_t)a, &e), 0);
		CHECK_EQ(e.access, a);
	}
	domain_end(d);
	hv_free(hv);
}

static void remove_and_sparse_gfns(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 4 * MiB);
	struct hv_p2m_entry e, far;

	CHECK_EQ(hv_p2m_get_entry(d, 3, &far), 0);
	/* An entry far above guest RAM builds its own path of tables. */
	far.order = 0;
	CHECK_EQ(hv_p2m_set_entry(d, HV_MAX_GFN, &far), 0);
	CHECK_EQ(hv_p2m_get_entry(d, HV_MAX_GFN, &e), 0);
	CHECK_EQ(e.mfn, far.mfn);
	CHECK_EQ(hv_p2m_get_entry(d, HV_MAX_GFN - 1, &e), -ENOENT);

	e.type = HV_P2M_INVALID;
	e.order = 0;
	CHECK_EQ(hv_p2m_set_entry(d, HV_MAX_GFN, &e), 0);
	CHECK_EQ(hv_p2m_get_entry(d, HV_MAX_GFN, &e), -ENOENT);
	/* Removing one 4 KiB entry of a 2 MiB leaf splits it. */
	e.type = HV_P2M_INVALID;
	CHECK_EQ(hv_p2m_set_entry(d, 10, &e), 0);
	CHECK_EQ(hv_p2m_get_entry(d, 10, &e), -ENOENT);
	CHECK_EQ(hv_p2m_get_entry(d, 11, &e), 0);
	/* Removing what is not there is not an error. */
	e.type = HV_P2M_INVALID;
	CHECK_EQ(hv_p2m_set_entry(d, UINT64_C(1) << 30, &e), 0);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void bad_entries_change_nothing(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 4 * MiB);
	struct hv_p2m_entry e, ok, x;
	uint64_t tables = hv_p2m_tables(d);

	CHECK_EQ(hv_p2m_get_entry(d, 512, &ok), 0);
	e = ok;
	CHECK_EQ(hv_p2m_get_entry(d, HV_MAX_GFN + 1, &x), -EINVAL);
	CHECK_EQ(hv_p2m_set_entry(d, HV_MAX_GFN + 1, &e), -EINVAL);
	CHECK_EQ(hv_p2m_set_entry(d, 513, &e), -EINVAL);         /* unaligned 2 MiB */
	e.mfn = ok.mfn + 1;
	CHECK_EQ(hv_p2m_set_entry(d, 512, &e), -EINVAL);         /* unaligned mfn */
	e = ok;
	e.order = 1;
	CHECK_EQ(hv_p2m_set_entry(d, 512, &e), -EINVAL);
	e = ok;
	e.access = XENMEM_access_default;
	CHECK_EQ(hv_p2m_set_entry(d, 512, &e), -EINVAL);
	e.access = (xenmem_access_t)99;
	CHECK_EQ(hv_p2m_set_entry(d, 512, &e), -EINVAL);
	e = ok;
	e.type = HV_P2M__MAX;
	CHECK_EQ(hv_p2m_set_entry(d, 512, &e), -EINVAL);
	CHECK_EQ(hv_p2m_set_entry(d, 512, NULL), -EINVAL);

	CHECK_EQ(hv_p2m_tables(d), tables);
	CHECK_EQ(hv_p2m_get_entry(d, 512, &x), 0);
	CHECK_EQ(x.mfn, ok.mfn);
	CHECK_EQ(x.order, 9);
	CHECK_EQ(x.access, ok.access);
	domain_end(d);
	hv_free(hv);
}

T_MAIN(T_CASE(split_keeps_whole_range),
       T_CASE(every_access_value_round_trips),
       T_CASE(remove_and_sparse_gfns),
       T_CASE(bad_entries_change_nothing))
