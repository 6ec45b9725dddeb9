/* SPDX-License-Identifier: MIT */
/*
 * xen-api — a tool written against Xen 4.17's headers (libxen-dev) and
 * linked -lxenctrl -lxenevtchn -lxenforeignmemory, as a Xen tool is, that
 * calls what altview serves with Xen's arguments, good and bad, and checks
 * Xen's answers.  Run under altview-xen with a 4-vCPU x86 guest as domain 1.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define XC_WANT_COMPAT_MAP_FOREIGN_API 1
#define XC_WANT_COMPAT_DEVICEMODEL_API 1
#define XC_WANT_COMPAT_EVTCHN_API 1
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xentoollog.h>
#include <xen/hvm/save.h>
#include <xen/vm_event.h>

#include "harness.h"

#define DOM 1
#define NO_DOM 999

static xc_interface *xch;

/* -1 with @err, as Xen's libraries fail. */
#define CHECK_FAILS(call, err)                                                  \
	do {                                                                    \
		errno = 0;                                                      \
		CHECK_EQ((long)(call), -1);                                     \
		CHECK_EQ(errno, err);                                           \
	} while (0)

static void open_interface(void)
{
	xch = xc_interface_open(NULL, NULL, 0);
	CHECK(xch);
	CHECK_EQ(xc_version(xch, XENVER_version, NULL), (4 << 16) | 17);
	xen_capabilities_info_t caps;
	CHECK_EQ(xc_version(xch, XENVER_capabilities, &caps), 0);
	CHECK(strstr(caps, "xen-3.0-x86_64"));
	CHECK_EQ(xc_vm_event_get_version(xch), VM_EVENT_INTERFACE_VERSION);
	/* The last-error calls: nothing failed yet. */
	const xc_error *e = xc_get_last_error(xch);
	CHECK(e && e->code == XC_ERROR_NONE);
	CHECK(xc_error_code_to_desc(XC_INVALID_PARAM));
	xc_clear_last_error(xch);
}

/* libxentoollog, which tools hand to every open call. */
static void logging(void)
{
	xentoollog_logger_stdiostream *lg = xtl_createlogger_stdiostream(stderr, XTL_ERROR, 0);

	CHECK(lg);
	xtl_stdiostream_set_minlevel(lg, XTL_WARN);
	xtl_stdiostream_adjust_flags(lg, XTL_STDIOSTREAM_HIDE_PROGRESS, 0);
	CHECK(!strcmp(xtl_level_to_string(XTL_ERROR), "error"));
	xtl_log((xentoollog_logger *)lg, XTL_DEBUG, -1, "xen-api", "below the level: not printed");
	xtl_progress((xentoollog_logger *)lg, "xen-api", "progress", 1, 2);
	xtl_logger_destroy((xentoollog_logger *)lg);
}

static void domains(void)
{
	xc_dominfo_t info[4];
	xen_pfn_t max;
	unsigned int width;

	CHECK_EQ(xc_domain_getinfo(xch, DOM, 4, info), 1);
	CHECK_EQ(info[0].domid, DOM);
	CHECK(info[0].hvm && info[0].hap && info[0].running);
	CHECK_EQ(info[0].max_vcpu_id, 3);
	CHECK_EQ(info[0].nr_pages, 512);
	CHECK_FAILS(xc_domain_getinfo(xch, NO_DOM, 1, info), ESRCH);
	xc_domaininfo_t list[4];
	CHECK_EQ(xc_domain_getinfolist(xch, 0, 4, list), 1);
	CHECK_EQ(list[0].domain, DOM);
	CHECK(list[0].flags & XEN_DOMINF_hvm_guest);
	CHECK_EQ(list[0].max_vcpu_id, 3);
	CHECK_EQ(xc_domain_getinfolist(xch, NO_DOM, 4, list), 0);
	CHECK_EQ(xc_domain_maximum_gpfn(xch, DOM, &max), 0);
	CHECK_EQ(max, 0x1ff);                           /* the last gfn of 2 MiB */
	CHECK_FAILS(xc_domain_maximum_gpfn(xch, NO_DOM, &max), ESRCH);
	CHECK_EQ(xc_domain_get_guest_width(xch, DOM, &width), 1);     /* as Xen for HVM */
	CHECK_EQ(xc_domain_pause(xch, DOM), 0);
	CHECK_EQ(xc_domain_getinfo(xch, DOM, 1, info), 1);
	CHECK(info[0].paused);
	CHECK_EQ(xc_domain_unpause(xch, DOM), 0);
	CHECK_FAILS(xc_domain_pause(xch, NO_DOM), ESRCH);
	CHECK_EQ(xc_domain_set_access_required(xch, DOM, 0), 0);

	xc_evtchn_status_t st = { .dom = DOM, .port = 1 };
	CHECK_EQ(xc_evtchn_status(xch, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_closed);
	st.port = 100000;
	CHECK_FAILS(xc_evtchn_status(xch, &st), EINVAL);
	st.dom = NO_DOM;
	CHECK_FAILS(xc_evtchn_status(xch, &st), ESRCH);
}

static void vcpus(void)
{
	vcpu_guest_context_any_t ctx;
	struct hvm_hw_cpu cpu;
	xc_vcpuinfo_t vi;
	uint8_t *buf;
	int size;

	CHECK_EQ(xc_vcpu_getinfo(xch, DOM, 3, &vi), 0);
	CHECK(vi.online);
	CHECK_FAILS(xc_vcpu_getinfo(xch, DOM, 4, &vi), EINVAL);
	CHECK_EQ(xc_vcpu_getcontext(xch, DOM, 0, &ctx), 0);
	CHECK(ctx.x64.user_regs.rip >= 0x100000 && ctx.x64.user_regs.rip < 0x200000);
	CHECK(ctx.x64.flags & VGCF_online);
	CHECK_FAILS(xc_vcpu_getcontext(xch, DOM, 7, &ctx), EINVAL);
	/* setcontext takes the general registers; the guest gets its own back before it runs. */
	CHECK_EQ(xc_domain_pause(xch, DOM), 0);
	CHECK_EQ(xc_vcpu_getcontext(xch, DOM, 2, &ctx), 0);
	vcpu_guest_context_any_t mine = ctx;
	mine.x64.user_regs.rax = 0x5eed5eed5eedull;
	mine.x64.user_regs.r15 = 0x15;
	mine.x64.ctrlreg[3] = 0;                        /* not taken: the vCPU's own stays */
	CHECK_EQ(xc_vcpu_setcontext(xch, DOM, 2, &mine), 0);
	CHECK_EQ(xc_vcpu_getcontext(xch, DOM, 2, &mine), 0);
	CHECK_EQ(mine.x64.user_regs.rax, 0x5eed5eed5eedull);
	CHECK_EQ(mine.x64.user_regs.r15, 0x15);
	CHECK_EQ(mine.x64.ctrlreg[3], ctx.x64.ctrlreg[3]);
	CHECK_EQ(xc_vcpu_setcontext(xch, DOM, 2, &ctx), 0);
	CHECK_FAILS(xc_vcpu_setcontext(xch, DOM, 4, &ctx), EINVAL);
	CHECK_FAILS(xc_vcpu_setcontext(xch, NO_DOM, 0, &ctx), ESRCH);
	CHECK_FAILS(xc_vcpu_setcontext(xch, DOM, 0, NULL), EINVAL);
	CHECK_EQ(xc_domain_unpause(xch, DOM), 0);
	CHECK_EQ(xc_domain_hvm_getcontext_partial(xch, DOM, HVM_SAVE_CODE(CPU), 1, &cpu,
						  sizeof(cpu)), 0);
	CHECK(cpu.rip >= 0x100000 && cpu.rsp > 0x100000);
	CHECK_FAILS(xc_domain_hvm_getcontext_partial(xch, DOM, HVM_SAVE_CODE(CPU), 9, &cpu,
						     sizeof(cpu)), ENOENT);
	CHECK_FAILS(xc_domain_hvm_getcontext_partial(xch, DOM, HVM_SAVE_CODE(CPU), 0, &cpu, 8),
		    ENOBUFS);
	size = xc_domain_hvm_getcontext(xch, DOM, NULL, 0);
	CHECK(size > 0);
	buf = malloc((size_t)size);
	CHECK_EQ(xc_domain_hvm_getcontext(xch, DOM, buf, (uint32_t)size), size);
	/* HEADER, 4 CPUs, END: the descriptors say so. */
	struct hvm_save_descriptor *d = (void *)buf;
	CHECK_EQ(d->typecode, HVM_SAVE_CODE(HEADER));
	d = (void *)(buf + sizeof(*d) + d->length);
	CHECK_EQ(d->typecode, HVM_SAVE_CODE(CPU));
	CHECK_FAILS(xc_domain_hvm_getcontext(xch, DOM, buf, 16), ENOSPC);
	free(buf);
	CHECK_EQ(xc_translate_foreign_address(xch, DOM, 0, 0x112345), 0x112);
}

static void memory(void)
{
	xen_pfn_t gfns[3] = { 0x112, 0x100, 0x7fffff };
	int err[3];
	uint8_t *p;
	xenforeignmemory_handle *fmem = xenforeignmemory_open(NULL, 0);

	/* The guest's code page, mapped and freed as tools free it: munmap. */
	p = xc_map_foreign_range(xch, DOM, XC_PAGE_SIZE, PROT_READ, 0x100);
	CHECK(p);
	if (p) {
		CHECK(p[0] != 0 || p[1] != 0);
		munmap(p, XC_PAGE_SIZE);
	}
	CHECK(!xc_map_foreign_range(xch, NO_DOM, XC_PAGE_SIZE, PROT_READ, 0x100));
	p = xc_map_foreign_pages(xch, DOM, PROT_READ, gfns, 2);
	CHECK(p);
	if (p)
		munmap(p, 2 * XC_PAGE_SIZE);
	/* A gfn past RAM: all or nothing without err, per page with it. */
	CHECK(!xenforeignmemory_map(fmem, DOM, PROT_READ, 3, gfns, NULL));
	p = xenforeignmemory_map(fmem, DOM, PROT_READ, 3, gfns, err);
	CHECK(p);
	CHECK_EQ(err[0], 0);
	CHECK_EQ(err[1], 0);
	CHECK(err[2] < 0);
	if (p)
		CHECK_EQ(xenforeignmemory_unmap(fmem, p, 3), 0);
	/* map2 at an address of the tool's choosing, and a restricted handle. */
	p = xenforeignmemory_map2(fmem, DOM, NULL, PROT_READ, 0, 2, gfns, err);
	CHECK(p && err[0] == 0 && err[1] == 0);
	if (p)
		CHECK_EQ(xenforeignmemory_unmap(fmem, p, 2), 0);
	CHECK(!xenforeignmemory_map2(fmem, NO_DOM, NULL, PROT_READ, 0, 1, gfns, err));
	CHECK_EQ(xenforeignmemory_restrict(fmem, DOM), 0);
	p = xc_map_foreign_bulk(xch, DOM, PROT_READ | PROT_WRITE, gfns, err, 1);
	CHECK(p && err[0] == 0);
	if (p)
		munmap(p, XC_PAGE_SIZE);
	CHECK_EQ(xenforeignmemory_close(fmem), 0);
}

/* The ring: enable, the port bound through libxenevtchn, one event, answered. */
static void monitor(void)
{
	vm_event_back_ring_t back;
	vm_event_sring_t *ring;
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	xenmem_access_t a;
	uint32_t port;
	uint16_t view;
	int local, got = 0;

	CHECK(xce);
	CHECK_FAILS(xc_set_mem_access(xch, DOM, XENMEM_access_rx, 0x112, 1), ENODEV);
	ring = xc_monitor_enable(xch, DOM, &port);
	CHECK(ring);
	if (!ring)
		return;
	errno = 0;
	CHECK(!xc_monitor_enable(xch, DOM, &port));
	CHECK_EQ(errno, EBUSY);                         /* one ring per domain, as Xen */
	SHARED_RING_INIT(ring);
	BACK_RING_INIT(&back, ring, XC_PAGE_SIZE);
	local = xenevtchn_bind_interdomain(xce, DOM, port);
	CHECK(local > 0);
	CHECK_FAILS(xenevtchn_bind_interdomain(xce, NO_DOM, port), ESRCH);
	CHECK_EQ(xc_monitor_software_breakpoint(xch, DOM, true), 0);
	CHECK_FAILS(xc_monitor_software_breakpoint(xch, DOM, true), EEXIST);
	CHECK_FAILS(xc_monitor_debug_exceptions(xch, DOM, true, true), EOPNOTSUPP);
	CHECK_FAILS(xc_monitor_debug_exceptions(xch, NO_DOM, true, true), ESRCH);
	CHECK_FAILS(xc_monitor_descriptor_access(xch, DOM, true), EOPNOTSUPP);
	CHECK_FAILS(xc_monitor_write_ctrlreg(xch, DOM, VM_EVENT_X86_CR4, true, true, 0, false),
		    EOPNOTSUPP);
	CHECK_FAILS(xc_monitor_write_ctrlreg(xch, DOM, 7, true, true, 0, false), EINVAL);
	/* Kinds turned on and off again; a second "on" is EEXIST, as Xen's monitor ops. */
	CHECK_EQ(xc_monitor_singlestep(xch, DOM, true), 0);
	CHECK_FAILS(xc_monitor_singlestep(xch, DOM, true), EEXIST);
	CHECK_EQ(xc_monitor_singlestep(xch, DOM, false), 0);
	CHECK_EQ(xc_monitor_cpuid(xch, DOM, true), 0);
	CHECK_EQ(xc_monitor_cpuid(xch, DOM, false), 0);
	CHECK_EQ(xc_monitor_guest_request(xch, DOM, true, true, true), 0);
	CHECK_EQ(xc_monitor_guest_request(xch, DOM, false, true, true), 0);
	CHECK_FAILS(xc_monitor_cpuid(xch, NO_DOM, true), ESRCH);
	CHECK_EQ(xc_monitor_inguest_pagefault(xch, DOM, true), 0);
	CHECK_EQ(xc_monitor_emul_unimplemented(xch, DOM, true), 0);
	CHECK_FAILS(xc_monitor_emul_unimplemented(xch, NO_DOM, true), ESRCH);
	CHECK_EQ(xc_get_mem_access(xch, DOM, 0x112, &a), 0);
	CHECK_EQ(a, XENMEM_access_rwx);
	CHECK_FAILS(xc_get_mem_access(xch, DOM, 0x7fffff, &a), EINVAL);

	/* Breakpoints answered until one vCPU's has come round twice. */
	for (int tries = 0; got < 8 && tries < 100; tries++) {
		struct pollfd pfd = { .fd = xenevtchn_fd(xce), .events = POLLIN };

		if (poll(&pfd, 1, 100) == 1) {
			int p = xenevtchn_pending(xce);

			CHECK_EQ(p, local);
			xenevtchn_unmask(xce, (evtchn_port_t)p);
		}
		while (RING_HAS_UNCONSUMED_REQUESTS(&back)) {
			vm_event_request_t req;
			vm_event_response_t rsp = { .version = VM_EVENT_INTERFACE_VERSION };

			RING_COPY_REQUEST(&back, back.req_cons, &req);
			back.req_cons++;
			CHECK_EQ(req.reason, VM_EVENT_REASON_SOFTWARE_BREAKPOINT);
			rsp.vcpu_id = req.vcpu_id;
			rsp.flags = req.flags & VM_EVENT_FLAG_VCPU_PAUSED;
			rsp.reason = req.reason;
			*RING_GET_RESPONSE(&back, back.rsp_prod_pvt) = rsp;
			back.rsp_prod_pvt++;
			got++;
		}
		RING_PUSH_RESPONSES(&back);
		xenevtchn_notify(xce, (evtchn_port_t)local);
	}
	CHECK(got >= 8);
	/* Responses for events never sent are dropped: nothing stalls. */
	vm_event_response_t stray = { .version = VM_EVENT_INTERFACE_VERSION, .vcpu_id = 2,
				      .flags = VM_EVENT_FLAG_VCPU_PAUSED };
	*RING_GET_RESPONSE(&back, back.rsp_prod_pvt) = stray;
	back.rsp_prod_pvt++;
	RING_PUSH_RESPONSES(&back);
	xenevtchn_notify(xce, (evtchn_port_t)local);
	CHECK_EQ(xc_monitor_software_breakpoint(xch, DOM, false), 0);

	/* Views, with Xen's errnos. */
	bool on = true;
	CHECK_EQ(xc_altp2m_get_domain_state(xch, DOM, &on), 0);
	CHECK(!on);
	CHECK_FAILS(xc_altp2m_get_domain_state(xch, NO_DOM, &on), ESRCH);
	CHECK_EQ(xc_altp2m_set_domain_state(xch, DOM, true), 0);
	CHECK_EQ(xc_altp2m_get_domain_state(xch, DOM, &on), 0);
	CHECK(on);
	CHECK_EQ(xc_altp2m_create_view(xch, DOM, XENMEM_access_rwx, &view), 0);
	CHECK(view > 0);
	CHECK_EQ(xc_altp2m_set_visibility(xch, DOM, view, false), 0);
	CHECK_FAILS(xc_altp2m_switch_to_view(xch, DOM, view), EINVAL);   /* hidden */
	CHECK_EQ(xc_altp2m_set_visibility(xch, DOM, view, true), 0);
	CHECK_FAILS(xc_altp2m_set_visibility(xch, DOM, 9, true), EINVAL);
	CHECK_EQ(xc_altp2m_set_mem_access(xch, DOM, view, 0x112, XENMEM_access_rx), 0);
	CHECK_EQ(xc_altp2m_set_mem_access(xch, DOM, view, 0x7fffff, XENMEM_access_rx), 0);
	CHECK_EQ(xc_altp2m_get_mem_access(xch, DOM, view, 0x112, &a), 0);
	CHECK_EQ(a, XENMEM_access_rx);
	uint8_t acc[2] = { XENMEM_access_r, XENMEM_access_x };
	uint64_t pages[2] = { 0x120, 0x121 };
	CHECK_EQ(xc_altp2m_set_mem_access_multi(xch, DOM, view, acc, pages, 2), 0);
	CHECK_EQ(xc_altp2m_get_mem_access(xch, DOM, view, 0x121, &a), 0);
	CHECK_EQ(a, XENMEM_access_x);
	CHECK_EQ(xc_altp2m_change_gfn(xch, DOM, view, 0x130, 0x131), 0);
	CHECK_EQ(xc_altp2m_change_gfn(xch, DOM, view, 0x130, ~0ull), 0);
	uint16_t idx = 7;
	CHECK_EQ(xc_altp2m_get_vcpu_p2m_idx(xch, DOM, 0, &idx), 0);
	CHECK_EQ(idx, 0);
	CHECK_FAILS(xc_altp2m_destroy_view(xch, DOM, 0), EBUSY);
	CHECK_FAILS(xc_altp2m_switch_to_view(xch, DOM, 9), EINVAL);
	for (int i = 0; i < 8; i++) {
		uint16_t more;

		if (xc_altp2m_create_view(xch, DOM, XENMEM_access_rwx, &more) < 0) {
			CHECK_EQ(errno, EINVAL);                /* the table of 10 is full */
			break;
		}
	}
	CHECK_EQ(xc_altp2m_set_domain_state(xch, DOM, false), 0);
	CHECK_EQ(xc_domain_debug_control(xch, DOM, XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_OFF, 0), 0);
	CHECK_FAILS(xc_domain_debug_control(xch, DOM, XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_OFF, 31),
		    EINVAL);
	CHECK_EQ(xc_hvm_inject_trap(xch, DOM, 0, 3, 6, ~0u, 1, 0), 0);
	CHECK_FAILS(xc_hvm_inject_trap(xch, DOM, 0, 14, 3, 0, 0, 0), EOPNOTSUPP);

	munmap(ring, XC_PAGE_SIZE);                     /* before disable, as xen-access does */
	CHECK_EQ(xc_monitor_disable(xch, DOM), 0);
	CHECK_FAILS(xc_monitor_disable(xch, DOM), EINVAL);
	CHECK_EQ(xenevtchn_unbind(xce, (evtchn_port_t)local), 0);
	CHECK_EQ(xenevtchn_close(xce), 0);
	/* A later tool can enable a monitor again. */
	ring = xc_monitor_enable(xch, DOM, &port);
	CHECK(ring);
	if (ring) {
		munmap(ring, XC_PAGE_SIZE);
		CHECK_EQ(xc_monitor_disable(xch, DOM), 0);
	}
}

/*
 * A tool that scribbles over its ring breaks its own monitoring, never the
 * guest: the indices it wrote are not taken, and disabling the monitor
 * lets every vCPU that waited go on.
 */
static void scribbled_ring(void)
{
	vm_event_sring_t *ring;
	xc_dominfo_t info;
	uint32_t port;
	uint64_t before, after;
	vcpu_guest_context_any_t ctx;

	ring = xc_monitor_enable(xch, DOM, &port);
	CHECK(ring);
	if (!ring)
		return;
	SHARED_RING_INIT(ring);
	CHECK_EQ(xc_monitor_software_breakpoint(xch, DOM, true), 0);
	usleep(200000);                                 /* vCPUs now wait in their int3s */
	memset(ring, 0xa5, XC_PAGE_SIZE);               /* indices, requests, all of it */
	CHECK_EQ(xc_monitor_resume(xch, DOM), 0);
	usleep(100000);
	/* A producer index no ring could have is not taken: nothing read, nothing written back. */
	CHECK_EQ(ring->rsp_event, 0xa5a5a5a5u);
	munmap(ring, XC_PAGE_SIZE);
	CHECK_EQ(xc_monitor_disable(xch, DOM), 0);
	CHECK_EQ(xc_domain_getinfo(xch, DOM, 1, &info), 1);
	CHECK(info.running && !info.crashed);
	CHECK_EQ(xc_vcpu_getcontext(xch, DOM, 1, &ctx), 0);
	before = ctx.x64.user_regs.rax ^ ctx.x64.user_regs.rip ^ ctx.x64.user_regs.rsi;
	usleep(100000);
	CHECK_EQ(xc_vcpu_getcontext(xch, DOM, 1, &ctx), 0);
	after = ctx.x64.user_regs.rax ^ ctx.x64.user_regs.rip ^ ctx.x64.user_regs.rsi;
	CHECK(before != after);                         /* vCPU 1 runs again */
}

/* libxenctrl's twins of libxenevtchn, a guest-side unbound port, the VIRQs. */
static void event_channels(void)
{
	xc_evtchn *xce = xc_evtchn_open(NULL, 0);
	xc_evtchn_status_t st = { .dom = DOM };
	int port, local, virq;

	CHECK(xce);
	if (!xce)
		return;
	CHECK(xc_evtchn_fd(xce) >= 0);
	port = xc_evtchn_alloc_unbound(xch, DOM, 0);
	CHECK(port > 0);
	CHECK_FAILS(xc_evtchn_alloc_unbound(xch, NO_DOM, 0), ESRCH);
	st.port = (evtchn_port_t)port;
	CHECK_EQ(xc_evtchn_status(xch, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_unbound);
	local = xc_evtchn_bind_interdomain(xce, DOM, (evtchn_port_t)port);
	CHECK(local > 0);
	CHECK_EQ(xc_evtchn_status(xch, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
	CHECK_EQ(xc_evtchn_notify(xce, (evtchn_port_t)local), 0);
	CHECK_FAILS(xc_evtchn_pending(xce), EAGAIN);       /* the guest has not sent */
	CHECK(xc_evtchn_bind_unbound_port(xce, DOM) > 0);
	virq = xc_evtchn_bind_virq(xce, VIRQ_DOM_EXC);
	CHECK(virq > 0);
	CHECK_FAILS(xc_evtchn_bind_virq(xce, VIRQ_TIMER), EOPNOTSUPP);
	CHECK_FAILS(xc_evtchn_bind_virq(xce, NR_VIRQS), EINVAL);
	CHECK_EQ(xc_evtchn_unmask(xce, (evtchn_port_t)virq), 0);
	CHECK_EQ(xc_evtchn_unbind(xce, (evtchn_port_t)virq), 0);
	CHECK_EQ(xc_evtchn_unbind(xce, (evtchn_port_t)local), 0);
	CHECK_FAILS(xc_evtchn_unbind(xce, (evtchn_port_t)local), ENOENT);
	CHECK_EQ(xc_evtchn_close(xce), 0);
}

/*
 * Xen's rule for a trapped access nobody listens to: relaxed while access
 * is not required, the domain crashed once it is.  Last: the guest dies.
 */
static void access_required(void)
{
	xenevtchn_handle *xce = xenevtchn_open(NULL, 0);
	int virq = xce ? xenevtchn_bind_virq(xce, VIRQ_DOM_EXC) : -1;
	xc_dominfo_t info;
	vm_event_sring_t *ring;
	uint32_t port;

	CHECK(virq > 0);
	CHECK_FAILS(xc_domain_set_access_required(xch, NO_DOM, 1), ESRCH);
	for (unsigned int required = 0; required < 2; required++) {
		CHECK_EQ(xc_domain_set_access_required(xch, DOM, required), 0);
		ring = xc_monitor_enable(xch, DOM, &port);
		CHECK(ring);
		if (!ring)
			return;
		/* Every page read-only, then nobody listens: the guest's next write traps. */
		CHECK_EQ(xc_set_mem_access(xch, DOM, XENMEM_access_rx, 0, 512), 0);
		munmap(ring, XC_PAGE_SIZE);
		CHECK_EQ(xc_monitor_disable(xch, DOM), 0);
		usleep(200000);
		CHECK_EQ(xc_domain_getinfo(xch, DOM, 1, &info), 1);
		CHECK_EQ(info.crashed, required);
	}
	/* The crash is a domain exception: VIRQ_DOM_EXC fires, as Xen tells dom0. */
	struct pollfd pfd = { .fd = xce ? xenevtchn_fd(xce) : -1, .events = POLLIN };
	CHECK_EQ(poll(&pfd, 1, 2000), 1);
	CHECK_EQ(xenevtchn_pending(xce), virq);
	CHECK_EQ(xenevtchn_unmask(xce, (evtchn_port_t)virq), 0);
	CHECK_EQ(xenevtchn_close(xce), 0);
	/* Ended as a toolstack ends a crashed guest; then it is gone. */
	CHECK_EQ(xc_domain_destroy(xch, DOM), 0);
	CHECK_FAILS(xc_domain_destroy(xch, DOM), ESRCH);
	CHECK_FAILS(xc_domain_pause(xch, DOM), ESRCH);
	CHECK_FAILS(xc_domain_getinfo(xch, DOM, 1, &info), ESRCH);
}

static void unsupported(void)
{
	/* A call altview does not serve: Xen's failure, errno EOPNOTSUPP. */
	CHECK_FAILS(xc_domain_setmaxmem(xch, DOM, 1024), EOPNOTSUPP);
	CHECK_FAILS(xc_domain_destroy(xch, NO_DOM), ESRCH);
	CHECK_EQ(xc_interface_close(xch), 0);
}

T_MAIN(T_CASE(open_interface), T_CASE(logging), T_CASE(domains), T_CASE(vcpus), T_CASE(memory), T_CASE(monitor),
       T_CASE(scribbled_ring), T_CASE(event_channels), T_CASE(access_required), T_CASE(unsupported))
