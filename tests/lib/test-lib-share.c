/* SPDX-License-Identifier: MIT */
/* libaltview: event channels and grant tables between this process and a guest. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "lib-util.h"

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/*
 * The guest's own calls (av_guest_*) are for guests that run in this
 * process; a daemon's guests make them themselves.  Through altviewd the
 * cases that play the guest check the refusal and what needs no guest;
 * lib-x86's grant guest drives channels and grants through the daemon.
 */
static bool guest_side_here(av_domain *dom)
{
	if (!t_daemon())
		return true;
	if (av_guest_evtchn_alloc_unbound(dom, 0) != -EOPNOTSUPP ||
	    av_guest_grant_access(dom, 3, 0, 7, false) != -EOPNOTSUPP)
		t_fail(__FILE__, __LINE__, "a guest's own call through altviewd is not -EOPNOTSUPP");
	t_note("through altviewd: no guest-side calls (-EOPNOTSUPP checked); lib-x86's grant "
	       "guest plays the guest");
	return false;
}

static void test_evtchn_both_ways(void)
{
	av_domain *dom = t_domain(t_hv, "{\"memory_mib\": 1}");
	av_evtchn *xce;
	int remote, local;

	CHECK(dom);
	CHECK_EQ(av_evtchn_open(t_hv, NULL, &xce), 0);
	if (!guest_side_here(dom)) {
		CHECK(!readable(av_evtchn_fd(xce), 0));
		CHECK_EQ(av_evtchn_pending(xce), -EAGAIN);
		CHECK(av_evtchn_notify(xce, 5) < 0);            /* not this handle's port */
		CHECK(av_evtchn_unbind(xce, 5) < 0);
		CHECK(av_evtchn_bind_interdomain(xce, 999, 1) < 0);
		CHECK(av_evtchn_bind_interdomain(xce, av_domain_id(dom), 4000) < 0);
		av_evtchn_close(xce);
		av_domain_close(dom);
		return;
	}
	/* On xen: the guest's kernel is the toolstack's handle (t_guest). */
	av_domain *guest = t_guest(dom);

	remote = av_guest_evtchn_alloc_unbound(guest, 0);
	CHECK(remote > 0);
	local = av_evtchn_bind_interdomain(xce, av_domain_id(dom), (uint32_t)remote);
	CHECK(local > 0);
	CHECK(!readable(av_evtchn_fd(xce), 0));

	/* guest -> us */
	CHECK_EQ(av_guest_evtchn_send(guest, (uint32_t)remote), 0);
	CHECK(readable(av_evtchn_fd(xce), 5000));
	CHECK_EQ(av_evtchn_pending(xce), local);
	CHECK_EQ(av_evtchn_pending(xce), -EAGAIN);
	/* Fired again while masked: unmask makes it readable again, nothing lost. */
	CHECK_EQ(av_guest_evtchn_send(guest, (uint32_t)remote), 0);
	CHECK_EQ(av_evtchn_unmask(xce, (uint32_t)local), 0);
	CHECK(readable(av_evtchn_fd(xce), 5000));
	CHECK_EQ(av_evtchn_pending(xce), local);
	CHECK_EQ(av_evtchn_unmask(xce, (uint32_t)local), 0);

	/* us -> guest */
	CHECK_EQ(av_guest_evtchn_test_and_clear(guest, (uint32_t)remote), 0);
	CHECK_EQ(av_evtchn_notify(xce, (uint32_t)local), 0);
	CHECK_EQ(av_guest_evtchn_test_and_clear(guest, (uint32_t)remote), 1);
	CHECK_EQ(av_guest_evtchn_test_and_clear(guest, (uint32_t)remote), 0);

	CHECK_EQ(av_evtchn_unbind(xce, (uint32_t)local), 0);
	CHECK(av_evtchn_notify(xce, (uint32_t)local) < 0);
	CHECK(av_evtchn_bind_interdomain(xce, 999, 1) < 0);
	CHECK(av_evtchn_bind_interdomain(xce, 70000, 1) < 0);
	CHECK_EQ(av_evtchn_pending(NULL), -EINVAL);
	av_evtchn_close(xce);
	av_domain_close(dom);
}

static void test_unbound_port(void)
{
	av_domain *dom = t_domain(t_hv, "{\"memory_mib\": 1}");
	av_evtchn *xce;
	int port;

	CHECK(dom);
	CHECK_EQ(av_evtchn_open(t_hv, NULL, &xce), 0);
	port = av_evtchn_bind_unbound_port(xce, av_domain_id(dom));
	CHECK(port > 0);
	av_evtchn_close(xce);       /* unbinds it */
	av_domain_close(dom);
}

static void test_grant_map_and_copy(void)
{
	av_domain *dom = t_domain(t_hv, "{\"memory_mib\": 1, \"grant_frames\": 1}");
	const char msg[] = "granted page";
	char buf[64] = { 0 };
	uint32_t handle, ro;
	char *page;

	CHECK(dom);
	if (!guest_side_here(dom)) {
		/* Nothing granted yet: what the daemon refuses, it refuses as hv: would. */
		CHECK(av_grant_map(t_hv, av_domain_id(dom), 3, 0, (void **)&page, &handle) < 0);
		CHECK_EQ(av_grant_map(t_hv, 999, 3, 0, (void **)&page, &handle), -ESRCH);
		CHECK_EQ(av_grant_map(t_hv, av_domain_id(dom), 3, 0x10, (void **)&page, &handle),
			 -EINVAL);
		CHECK(av_grant_copy_from(t_hv, av_domain_id(dom), 3, 0, buf, 8) < 0);
		CHECK_EQ(av_grant_copy_to(t_hv, av_domain_id(dom), 3, 4094, "tail", 5), -EINVAL);
		CHECK_EQ(av_grant_unmap(t_hv, 12345), -ENOENT);
		av_domain_close(dom);
		return;
	}
	/* On xen: the guest's kernel is the toolstack's handle (t_guest). */
	av_domain *guest = t_guest(dom);

	CHECK_EQ(av_write(dom, 7 * 4096 + 100, msg, sizeof(msg)), 0);
	CHECK_EQ(av_guest_grant_access(guest, 3, 0, 7, false), 0);
	CHECK_EQ(av_guest_grant_access(guest, 4, 0, 8, true), 0);

	CHECK_EQ(av_grant_map(t_hv, av_domain_id(dom), 3, 0, (void **)&page, &handle), 0);
	CHECK(!strcmp(page + 100, msg));
	page[200] = 'X';
	CHECK_EQ(av_guest_end_access(guest, 3), -EBUSY);           /* mapped */
	CHECK_EQ(av_grant_unmap(t_hv, handle), 0);
	CHECK_EQ(av_grant_unmap(t_hv, handle), -ENOENT);
	CHECK_EQ(av_read(dom, 7 * 4096 + 200, buf, 1), 0);
	CHECK_EQ(buf[0], 'X');

	CHECK_EQ(av_grant_copy_from(t_hv, av_domain_id(dom), 3, 100, buf, sizeof(msg)), 0);
	CHECK(!strcmp(buf, msg));
	CHECK_EQ(av_grant_copy_to(t_hv, av_domain_id(dom), 3, 4000, "tail", 5), 0);
	CHECK_EQ(av_read(dom, 7 * 4096 + 4000, buf, 5), 0);
	CHECK(!strcmp(buf, "tail"));
	CHECK_EQ(av_grant_copy_to(t_hv, av_domain_id(dom), 3, 4094, "tail", 5), -EINVAL);

	/* A read-only grant cannot be written, or mapped writable. */
	/* Xen's answer to write-pinning a read-only entry is a general error. */
	CHECK_EQ(av_grant_copy_to(t_hv, av_domain_id(dom), 4, 0, "x", 1), -EIO);
	CHECK(t_log_has("GNTST_general_error"));
	CHECK_EQ(av_grant_map(t_hv, av_domain_id(dom), 4, 0, (void **)&page, &ro), -EIO);
	CHECK_EQ(av_grant_map(t_hv, av_domain_id(dom), 4, AV_GRANT_READONLY, (void **)&page, &ro), 0);
	CHECK_EQ(av_grant_unmap(t_hv, ro), 0);

	CHECK_EQ(av_guest_end_access(guest, 3), 0);
	CHECK_EQ(av_grant_map(t_hv, av_domain_id(dom), 3, 0, (void **)&page, &handle), -EIO);
	CHECK_EQ(av_grant_map(t_hv, av_domain_id(dom), 100000, 0, (void **)&page, &handle), -EINVAL);
	CHECK(t_log_has("GNTST_bad_gntref"));
	CHECK_EQ(av_grant_map(t_hv, 999, 3, 0, (void **)&page, &handle), -ESRCH);
	CHECK_EQ(av_grant_map(t_hv, av_domain_id(dom), 3, 0x10, (void **)&page, &handle), -EINVAL);
	av_domain_close(dom);
}

/* The guest reads dom0's shared page where it mapped it (rax shows the load). */
static void test_share_with_guest(void)
{
	av_domain *dom = t_domain(t_hv, "{\"memory_mib\": 1, \"vcpus\": 1, \"engine\": \"script\", "
				  "\"program\": [{\"op\": \"read\", \"gfn\": 2048, \"len\": 8}, "
				  "{\"op\": \"guest_request\"}]}");
	AV_OPTS(av_event, ev);
	av_monitor *mon;
	uint32_t ref, handle;
	uint64_t *page;

	CHECK(dom);
	if (t_daemon()) {
		/* A page of this process granted to a guest would have to be the daemon's. */
		t_note("through altviewd: sharing this process's pages is not offered (-EOPNOTSUPP "
		       "checked)");
		CHECK_EQ(av_grant_share(t_hv, av_domain_id(dom), 0, &ref, (void **)&page), -EOPNOTSUPP);
		CHECK_EQ(av_grant_unshare(t_hv, 0), -EOPNOTSUPP);
		av_domain_close(dom);
		return;
	}
	av_domain *guest = t_guest(dom);

	CHECK_EQ(av_grant_share(t_hv, av_domain_id(dom), 0, &ref, (void **)&page), 0);
	*page = 0x0123456789abcdefull;
	CHECK_EQ(av_guest_map_grant(guest, ref, 3, false, &handle), -EFAULT);     /* RAM there */
	if (!t_xen())           /* on xen: the guest's kernel logs it, not this handle */
		CHECK(t_log_has("GNTST_bad_virt_addr"));
	CHECK_EQ(av_guest_map_grant(guest, ref, 2048, false, &handle), 0);
	CHECK_EQ(av_monitor_open(dom, NULL, &mon), 0);
	CHECK_EQ(av_monitor_set_events(mon, AV_EVENT_BIT(AV_EVENT_GUEST_REQUEST)), 0);
	CHECK_EQ(av_domain_unpause(dom), 0);
	CHECK_EQ(av_monitor_wait(mon, 0, 5000, &ev), 0);
	CHECK_EQ(ev.regs.rax, 0x0123456789abcdefull);
	CHECK_EQ(av_monitor_respond(mon, &ev, NULL), 0);
	CHECK_EQ(av_domain_wait_idle(dom, 10000), 0);
	av_monitor_close(mon);

	CHECK_EQ(av_grant_unshare(t_hv, ref), -EBUSY);
	CHECK_EQ(av_guest_unmap_grant(guest, handle), 0);
	CHECK_EQ(av_grant_unshare(t_hv, ref), 0);
	CHECK(av_grant_unshare(t_hv, ref) < 0);
	CHECK(av_grant_share(t_hv, 0, 0, &ref, (void **)&page) < 0);
	av_domain_close(dom);
}

T_MAIN(T_CASE(t_setup), T_CASE(test_evtchn_both_ways), T_CASE(test_unbound_port),
       T_CASE(test_grant_map_and_copy), T_CASE(test_share_with_guest), T_CASE(t_teardown))
