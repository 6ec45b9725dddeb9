/* SPDX-License-Identifier: MIT */
/* libaltview: views as a guest sees them. */
#include <errno.h>
#include <string.h>

#include "lib-util.h"

static void test_lifecycle(void)
{
	av_domain *dom = t_domain(t_hv, "{\"memory_mib\": 4, \"vcpus\": 2, \"engine\": \"script\", \"program\": []}");
	uint32_t v[4], cur;

	CHECK(dom);
	CHECK_EQ(av_view_create(dom, AV_ACCESS_RWX, &v[0]), -EOPNOTSUPP);
	CHECK_EQ(av_views_enable(dom, 3), 0);
	CHECK_EQ(av_view_create(dom, AV_ACCESS_RWX, &v[0]), 0);
	CHECK_EQ(av_view_create(dom, AV_ACCESS_RX, &v[1]), 0);
	if (t_xen()) {
		t_note("xen: Xen's table has 10 views whatever max_views asks, and one vCPU "
		       "changes view only in an answer");
		CHECK_EQ(av_view_create(dom, AV_ACCESS_RX, &v[2]), 0);
		CHECK_EQ(av_view_destroy(dom, v[2]), 0);
	} else {
		CHECK_EQ(av_view_create(dom, AV_ACCESS_RX, &v[2]), -ENOSPC);
	}
	CHECK(v[0] && v[1] && v[0] != v[1]);
	CHECK_EQ(av_view_create(dom, (enum av_access)11, &v[2]), -EINVAL);
	CHECK_EQ(av_view_create(dom, AV_ACCESS_RX, NULL), -EINVAL);

	CHECK_EQ(av_view_switch(dom, v[0]), 0);
	CHECK_EQ(av_vcpu_get_view(dom, 0, &cur), 0);
	CHECK_EQ(cur, v[0]);
	if (t_xen()) {
		CHECK_EQ(av_vcpu_switch_view(dom, 1, v[1]), -EOPNOTSUPP);
		CHECK_EQ(av_view_switch(dom, v[1]), 0);
	} else {
		CHECK_EQ(av_vcpu_switch_view(dom, 1, v[1]), 0);
	}
	CHECK_EQ(av_vcpu_get_view(dom, 1, &cur), 0);
	CHECK_EQ(cur, v[1]);
	CHECK_EQ(av_vcpu_switch_view(dom, 2, v[1]), -EINVAL);
	CHECK_EQ(av_view_destroy(dom, v[1]), -EBUSY);
	if (t_xen())
		CHECK_EQ(av_view_switch(dom, v[0]), 0);
	else
		CHECK_EQ(av_vcpu_switch_view(dom, 1, 0), 0);
	CHECK_EQ(av_view_destroy(dom, v[1]), 0);
	CHECK_EQ(av_view_destroy(dom, v[1]), -ENOENT);
	CHECK_EQ(av_view_switch(dom, 9), -EINVAL);
	CHECK_EQ(av_views_disable(dom), 0);      /* takes vCPU 0 back to view 0 */
	CHECK_EQ(av_vcpu_get_view(dom, 0, &cur), 0);
	CHECK_EQ(cur, 0);
	av_domain_close(dom);
}

static void test_access(void)
{
	av_domain *dom = t_domain(t_hv, "{\"memory_mib\": 4}");
	uint64_t gfns[3] = { 1, 2, 99999 };
	enum av_access acc[3] = { AV_ACCESS_R, AV_ACCESS_X, AV_ACCESS_N };
	enum av_access a;
	size_t failed = 77;
	uint32_t v;

	CHECK(dom);
	CHECK_EQ(av_views_enable(dom, 0), 0);
	CHECK_EQ(av_view_create(dom, AV_ACCESS_RX, &v), 0);
	CHECK_EQ(av_view_get_access(dom, v, 5, &a), 0);
	CHECK_EQ(a, AV_ACCESS_RWX);                      /* unchanged: the host's */
	CHECK_EQ(av_view_set_access(dom, v, 5, 1, AV_ACCESS_DEFAULT), 0);
	CHECK_EQ(av_view_get_access(dom, v, 5, &a), 0);
	CHECK_EQ(a, AV_ACCESS_RX);                       /* the view's default */
	CHECK_EQ(av_view_set_access(dom, v, 4, 3, AV_ACCESS_RW), 0);
	for (uint64_t g = 4; g < 7; g++) {
		CHECK_EQ(av_view_get_access(dom, v, g, &a), 0);
		CHECK_EQ(a, AV_ACCESS_RW);
	}
	CHECK_EQ(av_view_get_access(dom, 0, 4, &a), 0);
	CHECK_EQ(a, AV_ACCESS_RWX);                      /* the host is untouched */
	if (t_xen()) {
		t_note("xen: a batch with a gfn past RAM is Xen's ESRCH, with no index, and Xen "
		       "may have set the entries before it");
		CHECK_EQ(av_view_set_access_multi(dom, v, gfns, acc, 3, &failed), -ESRCH);
	} else {
		CHECK_EQ(av_view_set_access_multi(dom, v, gfns, acc, 3, &failed), -ENOENT);
		CHECK_EQ(failed, 2);
		CHECK_EQ(av_view_get_access(dom, v, 1, &a), 0);
		CHECK_EQ(a, AV_ACCESS_RWX);                      /* all or nothing */
	}
	acc[1] = (enum av_access)42;
	CHECK_EQ(av_view_set_access_multi(dom, v, gfns, acc, 3, &failed), -EINVAL);
	CHECK_EQ(failed, 1);
	acc[1] = AV_ACCESS_X;
	CHECK_EQ(av_view_set_access_multi(dom, v, gfns, acc, 2, &failed), 0);
	CHECK_EQ(av_view_get_access(dom, v, 2, &a), 0);
	CHECK_EQ(a, AV_ACCESS_X);
	if (t_xen()) {
		t_note("xen: a view's default access is fixed when it is made; a range past RAM "
		       "is skipped there, as Xen skips it");
		CHECK_EQ(av_view_set_default_access(dom, v, AV_ACCESS_R), -EOPNOTSUPP);
		CHECK_EQ(av_view_set_access(dom, v, 1023, 2, AV_ACCESS_R), 0);
	} else {
		CHECK_EQ(av_view_set_default_access(dom, v, AV_ACCESS_R), 0);
		CHECK_EQ(av_view_set_access(dom, v, 300, 1, AV_ACCESS_DEFAULT), 0);
		CHECK_EQ(av_view_get_access(dom, v, 300, &a), 0);
		CHECK_EQ(a, AV_ACCESS_R);
		CHECK_EQ(av_view_set_access(dom, v, 1023, 2, AV_ACCESS_R), -ENOENT);
	}
	CHECK_EQ(av_view_set_default_access(dom, v, AV_ACCESS_DEFAULT), -EINVAL);
	CHECK_EQ(av_view_set_access(dom, v, 4, 1, (enum av_access)-1), -EINVAL);
	CHECK_EQ(av_view_get_access(dom, 5, 1, &a), -ENOENT);
	CHECK_EQ(av_view_get_access(dom, v, 1, NULL), -EINVAL);
	av_domain_close(dom);
}

/*
 * change_gfn as the guest sees it: in the view, gfn 30 reads what gfn 31
 * holds; the guest request after each read shows the loaded value in rax.
 * The guest then asks for a hidden view, which it must not get.
 */
static void test_change_gfn_and_visibility(void)
{
	av_domain *dom = t_domain(t_hv, "{\"memory_mib\": 4, \"vcpus\": 1, \"engine\": \"script\", \"program\": ["
				  "{\"op\": \"read\", \"gfn\": 30, \"len\": 8}, {\"op\": \"guest_request\"}, "
				  "{\"op\": \"switch_view\", \"view\": 0}, {\"op\": \"read\", \"gfn\": 30, \"len\": 8}, "
				  "{\"op\": \"guest_request\"}, {\"op\": \"switch_view\", \"view\": 2}, "
				  "{\"op\": \"guest_request\"}]}");
	uint64_t a = 0xaaaa, b = 0xbbbb;
	AV_OPTS(av_event, ev);
	av_monitor *mon;
	uint32_t v, hidden;

	CHECK(dom);
	CHECK_EQ(av_write(dom, 30 * 4096, &a, 8), 0);
	CHECK_EQ(av_write(dom, 31 * 4096, &b, 8), 0);
	CHECK_EQ(av_views_enable(dom, 0), 0);
	CHECK_EQ(av_view_create(dom, AV_ACCESS_RWX, &v), 0);
	CHECK_EQ(av_view_create(dom, AV_ACCESS_RWX, &hidden), 0);
	CHECK_EQ(hidden, 2);
	CHECK_EQ(av_view_set_visible(dom, hidden, false), 0);
	CHECK_EQ(av_view_change_gfn(dom, v, 30, 31), 0);
	CHECK_EQ(av_view_change_gfn(dom, 0, 30, 31), -EINVAL);
	CHECK_EQ(av_view_switch(dom, hidden), t_xen() ? -EINVAL : -EPERM);     /* Xen's errno */
	CHECK_EQ(av_view_switch(dom, v), 0);
	CHECK_EQ(av_monitor_open(dom, NULL, &mon), 0);
	CHECK_EQ(av_monitor_set_events(mon, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST)), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);

	CHECK_EQ(av_monitor_wait(mon, 0, 5000, &ev), 0);
	CHECK_EQ(ev.view, v);
	CHECK_EQ(ev.regs.rax, 0xbbbb);
	CHECK_EQ(av_monitor_respond(mon, &ev, NULL), 0);
	CHECK_EQ(av_monitor_wait(mon, 0, 5000, &ev), 0);
	CHECK_EQ(ev.view, 0);
	CHECK_EQ(ev.regs.rax, 0xaaaa);
	CHECK_EQ(av_monitor_respond(mon, &ev, NULL), 0);
	CHECK_EQ(av_monitor_wait(mon, 0, 5000, &ev), 0);
	CHECK_EQ(ev.view, 0);                            /* the hidden view was refused */
	CHECK_EQ(av_monitor_respond(mon, &ev, NULL), 0);
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	/* Reverting restores the host's frame. */
	CHECK_EQ(av_view_change_gfn(dom, v, 30, AV_INVALID_GFN), 0);
	av_monitor_close(mon);
	av_domain_close(dom);
}

T_MAIN(T_CASE(t_setup), T_CASE(test_lifecycle), T_CASE(test_access),
       T_CASE(test_change_gfn_and_visibility), T_CASE(t_teardown))
