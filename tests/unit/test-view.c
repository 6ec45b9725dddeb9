/* SPDX-License-Identifier: MIT */
/* Alternate views: lifecycle, sparseness, access, change_gfn, propagation. */
#include <errno.h>
#include <string.h>

#include "counts.h"
#include "guest.h"
#include "harness.h"

#define MiB (UINT64_C(1) << 20)

static void lifecycle_and_limits(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 2 * MiB);
	unsigned int idx;

	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &idx), -EOPNOTSUPP);
	CHECK_EQ(hv_view_set_access(d, 1, 0, 1, XENMEM_access_r), -EOPNOTSUPP);
	CHECK_EQ(hv_views_enable(d, ALTVIEW_MAX_VIEWS + 1), -EINVAL);
	CHECK_EQ(hv_views_enable(d, 0), 0);
	CHECK_EQ(hv_views_enable(d, 0), -EEXIST);
	for (unsigned int i = 1; i < HV_DEFAULT_MAX_VIEWS; i++) {
		CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &idx), 0);
		CHECK_EQ(idx, i);
	}
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &idx), -ENOSPC);
	/* Create returns the first free index. */
	CHECK_EQ(hv_view_destroy(d, 4), 0);
	CHECK_EQ(hv_view_destroy(d, 4), -ENOENT);
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &idx), 0);
	CHECK_EQ(idx, 4);
	CHECK_EQ(hv_view_destroy(d, 0), -EBUSY);
	CHECK_EQ(hv_view_destroy(d, HV_DEFAULT_MAX_VIEWS), -EINVAL);
	CHECK_EQ(hv_view_destroy(d, ALTVIEW_MAX_VIEWS), -EINVAL);
	CHECK_EQ(hv_view_create(d, (xenmem_access_t)42, &idx), -EINVAL);
	CHECK_EQ(hv_views_disable(d), 0);
	CHECK_EQ(hv_view_destroy(d, 1), -EOPNOTSUPP);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void five_hundred_twelve_views(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 2 * MiB);
	unsigned int idx;

	CHECK_EQ(hv_views_enable(d, ALTVIEW_MAX_VIEWS), 0);
	for (unsigned int i = 1; i < ALTVIEW_MAX_VIEWS; i++) {
		CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &idx), 0);
		CHECK_EQ(hv_view_set_access(d, idx, i % 512, 1, XENMEM_access_r), 0);
	}
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &idx), -ENOSPC);
	xenmem_access_t a;

	CHECK_EQ(hv_view_get_access(d, 511, 511, &a), 0);
	CHECK_EQ(a, XENMEM_access_r);
	CHECK_EQ(hv_view_get_access(d, 511, 510, &a), 0);
	CHECK_EQ(a, XENMEM_access_rwx);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void sparse_fall_through(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 4 * MiB);
	uint64_t entries, bytes;
	unsigned int v;

	CHECK_EQ(hv_views_enable(d, 0), 0);
	CHECK_EQ(hv_view_create(d, XENMEM_access_n, &v), 0);
	CHECK_EQ(hv_view_usage(d, v, &entries, &bytes), 0);
	CHECK_EQ(entries, 0);
	/* The default access is no access to what the view sees. */
	for (uint64_t g = 0; g < 1024; g++) {
		struct hv_p2m_entry h, e;

		CHECK_EQ(hv_p2m_get_entry(d, g, &h), 0);
		CHECK_EQ(hv_view_get_entry(d, v, g, &e), 0);
		CHECK_EQ(e.mfn, h.mfn);
		CHECK_EQ(e.access, h.access);
	}
	CHECK_EQ(hv_view_set_access(d, v, 100, 1, XENMEM_access_default), 0);
	CHECK_EQ(hv_view_usage(d, v, &entries, &bytes), 0);
	CHECK_EQ(entries, 1);
	xenmem_access_t a;

	CHECK_EQ(hv_view_get_access(d, v, 100, &a), 0);
	CHECK_EQ(a, XENMEM_access_n);
	CHECK_EQ(hv_view_get_access(d, 0, 100, &a), 0);
	CHECK_EQ(a, XENMEM_access_rwx);         /* the host is untouched */
	CHECK_EQ(hv_view_get_access(d, v, 101, &a), 0);
	CHECK_EQ(a, XENMEM_access_rwx);
	/* A range in a view is per gfn; the host keeps its 2 MiB leaf. */
	CHECK_EQ(hv_view_set_access(d, v, 512, 512, XENMEM_access_rx), 0);
	CHECK_EQ(hv_view_usage(d, v, &entries, &bytes), 0);
	CHECK_EQ(entries, 513);
	struct hv_p2m_entry h;

	CHECK_EQ(hv_p2m_get_entry(d, 600, &h), 0);
	CHECK_EQ(h.order, 9);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void host_access_and_defaults(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 4 * MiB);
	struct hv_p2m_entry e;
	xenmem_access_t a;

	/* A whole 2 MiB range keeps its leaf; a part of one splits it. */
	CHECK_EQ(hv_view_set_access(d, 0, 512, 512, XENMEM_access_rx), 0);
	CHECK_EQ(hv_p2m_get_entry(d, 700, &e), 0);
	CHECK_EQ(e.order, 9);
	CHECK_EQ(e.access, XENMEM_access_rx);
	CHECK_EQ(hv_view_set_access(d, 0, 10, 3, XENMEM_access_w), 0);
	CHECK_EQ(hv_p2m_get_entry(d, 11, &e), 0);
	CHECK_EQ(e.order, 0);
	CHECK_EQ(e.access, XENMEM_access_w);
	CHECK_EQ(hv_p2m_get_entry(d, 13, &e), 0);
	CHECK_EQ(e.access, XENMEM_access_rwx);
	/* "default" is the domain's default access. */
	CHECK_EQ(hv_view_set_default_access(d, 0, XENMEM_access_r), 0);
	CHECK_EQ(hv_view_get_default_access(d, 0, &a), 0);
	CHECK_EQ(a, XENMEM_access_r);
	CHECK_EQ(hv_view_set_default_access(d, 0, XENMEM_access_default), -EINVAL);
	CHECK_EQ(hv_view_set_access(d, 0, 20, 1, XENMEM_access_default), 0);
	CHECK_EQ(hv_view_get_access(d, 0, 20, &a), 0);
	CHECK_EQ(a, XENMEM_access_r);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void batch_is_all_or_nothing(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 2 * MiB);
	uint64_t gfns[4] = { 1, 2, 3, 4 };
	xenmem_access_t acc[4] = { XENMEM_access_r, XENMEM_access_x, XENMEM_access_n2rwx,
				   XENMEM_access_rw };
	size_t failed = 99;
	xenmem_access_t a;
	unsigned int v;

	CHECK_EQ(hv_views_enable(d, 0), 0);
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &v), 0);
	for (unsigned int idx = 0; idx <= v; idx += v) {
		gfns[2] = 4096;                      /* outside the domain */
		CHECK_EQ(hv_view_set_access_multi(d, idx, gfns, acc, 4, &failed), -ENOENT);
		CHECK_EQ(failed, 2);
		gfns[2] = 3;
		acc[3] = (xenmem_access_t)77;
		CHECK_EQ(hv_view_set_access_multi(d, idx, gfns, acc, 4, &failed), -EINVAL);
		CHECK_EQ(failed, 3);
		for (uint64_t g = 1; g <= 4; g++) {
			CHECK_EQ(hv_view_get_access(d, idx, g, &a), 0);
			CHECK_EQ(a, XENMEM_access_rwx);
		}
		acc[3] = XENMEM_access_rw;
		CHECK_EQ(hv_view_set_access_multi(d, idx, gfns, acc, 4, &failed), 0);
		for (uint64_t g = 1; g <= 4; g++) {
			CHECK_EQ(hv_view_get_access(d, idx, g, &a), 0);
			CHECK_EQ(a, acc[g - 1]);
		}
		CHECK_EQ(hv_view_set_access(d, 0, 1, 4, XENMEM_access_rwx), 0);
	}
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void bad_arguments_change_nothing(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 2 * MiB);
	struct counts *before;
	uint64_t entries, bytes;
	xenmem_access_t a;
	unsigned int v;

	CHECK_EQ(hv_views_enable(d, 4), 0);
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &v), 0);
	before = counts_take(hv);
	CHECK_EQ(hv_view_set_access(d, v, 510, 4, XENMEM_access_r), -ENOENT);   /* runs off RAM */
	CHECK_EQ(hv_view_set_access(d, v, 0, 0, XENMEM_access_r), -EINVAL);
	CHECK_EQ(hv_view_set_access(d, v, HV_MAX_GFN, 2, XENMEM_access_r), -EINVAL);
	CHECK_EQ(hv_view_set_access(d, v, 0, 1, (xenmem_access_t)11), -EINVAL);
	CHECK_EQ(hv_view_set_access(d, 4, 0, 1, XENMEM_access_r), -EINVAL);
	CHECK_EQ(hv_view_set_access(d, 3, 0, 1, XENMEM_access_r), -ENOENT);
	CHECK_EQ(hv_view_set_access(d, 0, 600, 1, XENMEM_access_r), -ENOENT);
	CHECK_EQ(hv_view_get_access(d, v, 600, &a), -ENOENT);
	CHECK_EQ(hv_view_change_gfn(d, 0, 1, 2), -EINVAL);
	CHECK_EQ(hv_view_change_gfn(d, v, 600, 2), -ENOENT);
	CHECK_EQ(hv_view_change_gfn(d, v, 1, 600), -ENOENT);            /* to an unmapped gfn */
	CHECK_EQ(hv_view_change_gfn(d, v, 1, HV_MAX_GFN + 1), -EINVAL);
	CHECK_EQ(hv_view_set_visible(d, 0, false), -EINVAL);
	CHECK_EQ(hv_view_switch(d, 3), -ENOENT);
	CHECK(hv_domain_vcpu(d, 0) == NULL);
	CHECK_EQ(hv_view_usage(d, v, &entries, &bytes), 0);
	CHECK_EQ(entries, 0);
	CHECK(counts_unchanged(before, hv));
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void change_gfn_holds_the_frame(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 2 * MiB);
	uint64_t mfn9 = gfn_mfn(d, 9);
	struct hv_frame_info fi;
	struct hv_spage_info si;
	struct hv_p2m_entry e;
	unsigned int v;

	CHECK_EQ(hv_views_enable(d, 0), 0);
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &v), 0);
	CHECK_EQ(hv_view_change_gfn(d, v, 3, 9), 0);
	CHECK_EQ(hv_view_get_entry(d, v, 3, &e), 0);
	CHECK_EQ(e.mfn, mfn9);
	CHECK_EQ(hv_view_get_entry(d, 0, 3, &e), 0);
	CHECK(e.mfn != mfn9);
	hv_frame_info(hv, mfn9, &fi);
	CHECK_EQ(fi.count, 2);
	CHECK_EQ(fi.type, HV_PGT_NONE);         /* dom0 may still write it */
	hv_spage_info(hv, mfn9, &si);
	CHECK_EQ(si.type, HV_SGT_NOSUPER);
	/* So the block cannot be mapped whole, but 4 KiB writable works. */
	void *p;

	CHECK_EQ(hv_foreign_map(hv, hv_domain_id(d), 0, 512, HV_MAP_WRITE | HV_MAP_SUPERPAGE_ONLY,
				&p), -EBUSY);
	CHECK_EQ(hv_foreign_map(hv, hv_domain_id(d), 9, 1, HV_MAP_WRITE, &p), 0);
	CHECK_EQ(hv_foreign_unmap(hv, p), 0);
	/* Remapping again moves the reference; reverting drops it. */
	CHECK_EQ(hv_view_change_gfn(d, v, 3, 10), 0);
	hv_frame_info(hv, mfn9, &fi);
	CHECK_EQ(fi.count, 1);
	CHECK_EQ(hv_view_change_gfn(d, v, 3, HV_INVALID_GFN), 0);
	hv_spage_info(hv, mfn9, &si);
	CHECK_EQ(si.type, HV_SGT_NONE);
	CHECK_EQ(hv_view_get_entry(d, v, 3, &e), 0);
	CHECK_EQ(e.mfn, gfn_mfn(d, 3));
	/* A view destroyed with remaps releases them. */
	CHECK_EQ(hv_view_change_gfn(d, v, 4, 9), 0);
	CHECK_EQ(hv_view_destroy(d, v), 0);
	hv_frame_info(hv, mfn9, &fi);
	CHECK_EQ(fi.count, 1);
	/* And so does a domain destroyed with them (hv_end_clean checks). */
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &v), 0);
	CHECK_EQ(hv_view_change_gfn(d, v, 4, 9), 0);
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

static void host_changes_propagate(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_domain *d = test_domain(hv, 2 * MiB);
	struct hv_p2m_entry e;
	uint64_t entries, bytes;
	xenmem_access_t a;
	unsigned int v, w;

	CHECK_EQ(hv_views_enable(d, 0), 0);
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &v), 0);
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &w), 0);

	/* An entry derived from the host entry is dropped when the host changes. */
	CHECK_EQ(hv_view_set_access(d, v, 50, 2, XENMEM_access_r), 0);
	CHECK_EQ(hv_view_set_access(d, 0, 50, 1, XENMEM_access_rx), 0);
	CHECK_EQ(hv_view_get_access(d, v, 50, &a), 0);
	CHECK_EQ(a, XENMEM_access_rx);
	CHECK_EQ(hv_view_get_access(d, v, 51, &a), 0);
	CHECK_EQ(a, XENMEM_access_r);

	/* A remap whose source changes in the host is dropped. */
	CHECK_EQ(hv_view_change_gfn(d, v, 60, 70), 0);
	CHECK_EQ(hv_view_change_gfn(d, w, 200, 201), 0);
	CHECK_EQ(hv_view_set_access(d, w, 300, 1, XENMEM_access_x), 0);
	CHECK_EQ(hv_p2m_get_entry(d, 70, &e), 0);
	e.order = 0;
	e.suppress_ve = true;
	CHECK_EQ(hv_p2m_set_entry(d, 70, &e), 0);
	CHECK_EQ(hv_view_get_entry(d, v, 60, &e), 0);
	CHECK_EQ(e.mfn, gfn_mfn(d, 60));
	CHECK_EQ(hv_view_get_access(d, v, 51, &a), 0);
	CHECK_EQ(a, XENMEM_access_r);

	/* A host change inside a view's remapped range resets that view only. */
	CHECK_EQ(hv_view_change_gfn(d, v, 100, 101), 0);
	CHECK_EQ(hv_view_change_gfn(d, v, 120, 101), 0);
	CHECK_EQ(hv_view_set_access(d, 0, 110, 1, XENMEM_access_rw), 0);
	CHECK_EQ(hv_view_usage(d, v, &entries, &bytes), 0);
	CHECK_EQ(entries, 0);
	CHECK_EQ(hv_view_get_entry(d, v, 100, &e), 0);
	CHECK_EQ(e.mfn, gfn_mfn(d, 100));
	CHECK_EQ(hv_view_usage(d, w, &entries, &bytes), 0);
	CHECK_EQ(entries, 2);
	CHECK_EQ(hv_view_get_entry(d, w, 200, &e), 0);
	CHECK_EQ(e.mfn, gfn_mfn(d, 201));
	domain_end(d);
	CHECK(hv_end_clean(hv));
}

/*
 * Two vCPUs read the same gfn at the same time; vCPU 1 runs in a view
 * where that gfn is backed by another frame.
 */
static void vcpus_see_different_frames(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct vm_event_regs_x86 r0, r1;
	struct hv_domain *d;
	uint64_t a = 0xaaaa, b = 0xbbbb;
	unsigned int v;

	hv_script_pause_point(s);
	hv_script_read(s, 3, 0, 8);
	hv_script_pause_point(s);
	d = test_script_domain(hv, 2 * MiB, 2, &s, 1);
	guest_write(hv, d, 3, 0, &a, 8);
	guest_write(hv, d, 9, 0, &b, 8);
	CHECK_EQ(hv_views_enable(d, 0), 0);
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &v), 0);
	CHECK_EQ(hv_view_change_gfn(d, v, 3, 9), 0);
	CHECK_EQ(hv_vcpu_switch_view(hv_domain_vcpu(d, 1), v), 0);
	CHECK_EQ(hv_view_destroy(d, v), -EBUSY);             /* vCPU 1 uses it */
	CHECK_EQ(hv_domain_unpause(d), 0);
	for (unsigned int i = 0; i < 2; i++) {
		CHECK(wait_pause_point(hv_domain_vcpu(d, i), 5000));
		CHECK_EQ(hv_vcpu_unpause(hv_domain_vcpu(d, i)), 0);
	}
	for (unsigned int i = 0; i < 2; i++)
		CHECK(wait_pause_point(hv_domain_vcpu(d, i), 5000));
	CHECK_EQ(hv_vcpu_get_regs(hv_domain_vcpu(d, 0), &r0), 0);
	CHECK_EQ(hv_vcpu_get_regs(hv_domain_vcpu(d, 1), &r1), 0);
	CHECK_EQ(r0.rax, 0xaaaa);
	CHECK_EQ(r1.rax, 0xbbbb);
	CHECK_EQ(hv_vcpu_view(hv_domain_vcpu(d, 1)), v);
	/* Back to the host view, the view can go. */
	CHECK_EQ(hv_vcpu_switch_view(hv_domain_vcpu(d, 1), 0), 0);
	CHECK_EQ(hv_view_destroy(d, v), 0);
	domain_end(d);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

static void hidden_views_refuse_the_guest(void)
{
	struct hv *hv = test_hv(16 * MiB);
	struct hv_script *s = hv_script_new();
	struct hv_vcpu_stats st;
	struct hv_domain *d;
	unsigned int v, w;

	hv_script_switch_view(s, 1);
	hv_script_pause_point(s);
	hv_script_switch_view(s, 2);
	hv_script_pause_point(s);
	d = test_script_domain(hv, 2 * MiB, 1, &s, 1);
	CHECK_EQ(hv_views_enable(d, 0), 0);
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &v), 0);
	CHECK_EQ(hv_view_create(d, XENMEM_access_rwx, &w), 0);
	CHECK_EQ(hv_view_set_visible(d, w, false), 0);
	CHECK_EQ(hv_domain_unpause(d), 0);
	struct hv_vcpu *vc = hv_domain_vcpu(d, 0);

	CHECK(wait_pause_point(vc, 5000));
	CHECK_EQ(hv_vcpu_view(vc), v);
	hv_vcpu_unpause(vc);
	CHECK(wait_pause_point(vc, 5000));
	CHECK_EQ(hv_vcpu_view(vc), v);          /* the hidden view was refused */
	hv_vcpu_get_stats(vc, &st);
	CHECK_EQ(st.denied_view_switches, 1);
	CHECK_EQ(hv_view_switch(d, w), -EPERM);   /* not the whole domain at once, as Xen */
	CHECK_EQ(hv_vcpu_switch_view(vc, w), 0);  /* the monitor may, one vCPU at a time */
	CHECK_EQ(hv_vcpu_view(vc), w);
	CHECK_EQ(hv_view_switch(d, 0), 0);
	CHECK_EQ(hv_vcpu_view(vc), 0);
	domain_end(d);
	hv_script_free(s);
	CHECK(hv_end_clean(hv));
}

T_MAIN(T_CASE(lifecycle_and_limits),
       T_CASE(five_hundred_twelve_views),
       T_CASE(sparse_fall_through),
       T_CASE(host_access_and_defaults),
       T_CASE(batch_is_all_or_nothing),
       T_CASE(bad_arguments_change_nothing),
       T_CASE(change_gfn_holds_the_frame),
       T_CASE(host_changes_propagate),
       T_CASE(vcpus_see_different_frames),
       T_CASE(hidden_views_refuse_the_guest))
