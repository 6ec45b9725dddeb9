/* SPDX-License-Identifier: MIT */
/* Frame table: references, exclusive types, NOSUPER, overflow, bad input. */
#include <errno.h>
#include <stdlib.h>

#include "counts.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)

static uint64_t first_mfn(struct hv_domain *d)
{
	uint64_t mfn[64];
	unsigned int order[64];

	hv_domain_blocks(d, mfn, order, 64);
	return mfn[0];
}

static void typed_reference_counts(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 4 * MiB);
	uint64_t mfn = first_mfn(d) + 7;
	struct hv_frame_info fi;
	struct hv_spage_info si;

	CHECK_EQ(hv_frame_get_typed(d, mfn, HV_PGT_VM_EVENT), 0);
	CHECK_EQ(hv_frame_get_typed(d, mfn, HV_PGT_VM_EVENT), 0);
	hv_frame_info(hv, mfn, &fi);
	CHECK_EQ(fi.count, 3);
	CHECK_EQ(fi.type, HV_PGT_VM_EVENT);
	CHECK_EQ(fi.type_count, 2);
	CHECK_EQ(fi.owner, hv_domain_id(d));
	/* A conflicting type holds one NOSUPER reference per type reference. */
	hv_spage_info(hv, mfn, &si);
	CHECK_EQ(si.type, HV_SGT_NOSUPER);
	CHECK_EQ(si.type_count, 2);
	CHECK(si.enabled);

	CHECK_EQ(hv_frame_put_typed(d, mfn, HV_PGT_VM_EVENT), 0);
	CHECK_EQ(hv_frame_put_typed(d, mfn, HV_PGT_VM_EVENT), 0);
	hv_frame_info(hv, mfn, &fi);
	CHECK_EQ(fi.count, 1);
	CHECK_EQ(fi.type, HV_PGT_NONE);
	CHECK_EQ(fi.type_count, 0);
	hv_spage_info(hv, mfn, &si);
	CHECK_EQ(si.type, HV_SGT_NONE);
	CHECK_EQ(si.type_count, 0);

	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void writable_does_not_conflict(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 4 * MiB);
	uint64_t mfn = first_mfn(d);
	struct hv_spage_info si;

	CHECK_EQ(hv_frame_get_typed(d, mfn, HV_PGT_WRITABLE), 0);
	hv_spage_info(hv, mfn, &si);
	CHECK_EQ(si.type, HV_SGT_NONE);
	CHECK_EQ(si.type_count, 0);
	CHECK_EQ(hv_frame_put_typed(d, mfn, HV_PGT_WRITABLE), 0);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void types_exclude_each_other(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 4 * MiB);
	uint64_t mfn = first_mfn(d) + 1;
	struct counts *before;

	CHECK_EQ(hv_frame_get_typed(d, mfn, HV_PGT_GRANT_TABLE), 0);
	before = counts_take(hv);
	CHECK_EQ(hv_frame_get_typed(d, mfn, HV_PGT_WRITABLE), -EBUSY);
	CHECK_EQ(hv_frame_get_typed(d, mfn, HV_PGT_VM_EVENT), -EBUSY);
	CHECK_EQ(hv_frame_put_typed(d, mfn, HV_PGT_VM_EVENT), -ENOENT);
	CHECK(counts_unchanged(before, hv));
	CHECK_EQ(hv_frame_put_typed(d, mfn, HV_PGT_GRANT_TABLE), 0);
	/* The type is gone with its last user, so another type may follow. */
	CHECK_EQ(hv_frame_get_typed(d, mfn, HV_PGT_VM_EVENT), 0);
	CHECK_EQ(hv_frame_put_typed(d, mfn, HV_PGT_VM_EVENT), 0);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void type_count_overflow(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 4 * MiB);
	uint64_t mfn = first_mfn(d) + 2;
	struct counts *before;
	struct hv_frame_info fi;

	for (unsigned int i = 0; i < HV_PGT_COUNT_MAX; i++)
		CHECK_EQ(hv_frame_get_typed(d, mfn, HV_PGT_GRANT_TABLE), 0);
	hv_frame_info(hv, mfn, &fi);
	CHECK_EQ(fi.type_count, HV_PGT_COUNT_MAX);
	before = counts_take(hv);
	CHECK_EQ(hv_frame_get_typed(d, mfn, HV_PGT_GRANT_TABLE), -EOVERFLOW);
	CHECK(counts_unchanged(before, hv));
	for (unsigned int i = 0; i < HV_PGT_COUNT_MAX; i++)
		CHECK_EQ(hv_frame_put_typed(d, mfn, HV_PGT_GRANT_TABLE), 0);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

/*
 * The superpage type count is as wide as the page type count; when it is
 * full, a further conflicting page type must fail and undo its page type.
 */
static void nosuper_overflow_undoes_page_type(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 4 * MiB);
	uint64_t mfn = first_mfn(d);
	struct counts *before;

	for (unsigned int i = 0; i < HV_SGT_COUNT_MAX; i++)
		CHECK_EQ(hv_frame_get_typed(d, mfn + (i & 1), HV_PGT_GRANT_TABLE), 0);
	before = counts_take(hv);
	CHECK_EQ(hv_frame_get_typed(d, mfn + 2, HV_PGT_GRANT_TABLE), -EOVERFLOW);
	CHECK(counts_unchanged(before, hv));
	for (unsigned int i = 0; i < HV_SGT_COUNT_MAX; i++)
		CHECK_EQ(hv_frame_put_typed(d, mfn + (i & 1), HV_PGT_GRANT_TABLE), 0);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void bad_input_leaves_counts(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *a = test_domain(hv, 2 * MiB);
	struct hv_domain *b = test_domain(hv, 2 * MiB);
	struct counts *before = counts_take(hv);
	struct hv_stats st;

	hv_get_stats(hv, &st);
	/* Another domain's frame, a free frame, beyond memory, bad types. */
	CHECK_EQ(hv_frame_get_typed(a, first_mfn(b), HV_PGT_GRANT_TABLE), -EPERM);
	CHECK_EQ(hv_frame_put_typed(a, first_mfn(b), HV_PGT_GRANT_TABLE), -EPERM);
	CHECK(st.free_frames > 0);
	CHECK_EQ(hv_frame_get_typed(a, hv_machine_frames(hv) - 1, HV_PGT_GRANT_TABLE), -ENOENT);
	CHECK_EQ(hv_frame_get_typed(a, hv_machine_frames(hv), HV_PGT_GRANT_TABLE), -EINVAL);
	CHECK_EQ(hv_frame_get_typed(a, first_mfn(a), HV_PGT_NONE), -EINVAL);
	CHECK_EQ(hv_frame_get_typed(a, first_mfn(a), HV_PGT__MAX), -EINVAL);
	/* Putting what was never taken (a double put). */
	CHECK_EQ(hv_frame_put_typed(a, first_mfn(a), HV_PGT_WRITABLE), -ENOENT);
	CHECK(counts_unchanged(before, hv));
	hv_domain_destroy(a);
	hv_domain_destroy(b);
	hv_domain_put(a);
	hv_domain_put(b);
	CHECK(hv_end_clean(hv));
}

T_MAIN(T_CASE(typed_reference_counts),
       T_CASE(writable_does_not_conflict),
       T_CASE(types_exclude_each_other),
       T_CASE(type_count_overflow),
       T_CASE(nosuper_overflow_undoes_page_type),
       T_CASE(bad_input_leaves_counts))
