/* SPDX-License-Identifier: MIT */
/*
 * xenctrl.c — libxenctrl.so.4.17 (VERS_4.17.0): the calls a VMI tool
 * makes, over libaltview with Xen's semantics and error conventions (-1
 * and errno, the hypercall's errno).  Every other export of Debian's
 * library is a stub that fails with EOPNOTSUPP (symbols/libxenctrl.syms).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XC_WANT_COMPAT_DEVICEMODEL_API 1
#include <xenctrl.h>

#include "private.h"

/* Xen's view table holds 10 views, view 0 included (MAX_ALTP2M). */
#define XEN_MAX_ALTP2M 10

struct xc_interface_core {
	xc_error last_error;
};

static int result(int r)
{
	return r < 0 ? xencompat_fail(r) : 0;
}

/* ---- the interface ------------------------------------------------------------------ */

XENCOMPAT_API xc_interface *xc_interface_open(xentoollog_logger *logger,
					      xentoollog_logger *dombuild_logger,
					      unsigned open_flags)
{
	if (!xencompat_hv())
		return NULL;
	return calloc(1, sizeof(struct xc_interface_core));
}

XENCOMPAT_API int xc_interface_close(xc_interface *xch)
{
	free(xch);
	return 0;
}

XENCOMPAT_API const xc_error *xc_get_last_error(xc_interface *handle)
{
	return &handle->last_error;
}

XENCOMPAT_API void xc_clear_last_error(xc_interface *handle)
{
	memset(&handle->last_error, 0, sizeof(handle->last_error));
}

XENCOMPAT_API const char *xc_error_code_to_desc(int code)
{
	switch (code) {
	case XC_ERROR_NONE: return "No error details";
	case XC_INTERNAL_ERROR: return "Internal error";
	case XC_INVALID_KERNEL: return "Invalid kernel";
	case XC_INVALID_PARAM: return "Invalid configuration";
	case XC_OUT_OF_MEMORY: return "Out of memory";
	}
	return "Unknown error code";
}

/* ---- domains ------------------------------------------------------------------------- */

XENCOMPAT_API int xc_domain_pause(xc_interface *xch, uint32_t domid)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domid, dom);
	return result(av_domain_pause(dom));
}

XENCOMPAT_API int xc_domain_unpause(xc_interface *xch, uint32_t domid)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domid, dom);
	return result(av_domain_unpause(dom));
}

/*
 * As a toolstack ends a crashed guest.  Its ring goes first, as Xen tears
 * down vm_event; the cached handle stays and answers ESRCH from now on.
 */
XENCOMPAT_API int xc_domain_destroy(xc_interface *xch, uint32_t domid)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domid, dom);
	xencompat_relay_disable(domid);
	return result(av_domain_destroy(dom));
}

/* The last gfn of RAM, inclusive, as XENMEM_maximum_gpfn: tools loop up to it. */
XENCOMPAT_API int xc_domain_maximum_gpfn(xc_interface *xch, uint32_t domid, xen_pfn_t *gpfns)
{
	struct av_domain_info info;
	av_domain *dom;

	DOMAIN_INFO_OR_FAIL(domid, dom, info);
	*gpfns = info.memory_bytes / AV_PAGE_SIZE - 1;
	return 0;
}

XENCOMPAT_API int xc_domain_set_access_required(xc_interface *xch, uint32_t domid,
						unsigned int required)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domid, dom);
	return result(av_domain_set_access_required(dom, required != 0));
}

XENCOMPAT_API int xc_domain_debug_control(xc_interface *xch, uint32_t domid, uint32_t sop,
					  uint32_t vcpu)
{
	struct av_domain_info info;
	av_domain *dom;

	DOMAIN_INFO_OR_FAIL(domid, dom, info);
	if (vcpu >= info.nr_vcpus || sop > XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_ON)
		return xencompat_fail(-EINVAL);
	return result(av_vcpu_set_singlestep(dom, vcpu, sop == XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_ON));
}

/*
 * The x86 engine resumes a vCPU after its int3 when the answer does not
 * redirect it: as if the guest's handler had run and returned, which is
 * what a reinjected breakpoint comes to for altview's guests (they have no
 * IDT).  Any other vector has no way into the guest.
 */
XENCOMPAT_API int xc_hvm_inject_trap(xc_interface *xch, uint32_t domid, int vcpu, uint8_t vector,
				     uint8_t type, uint32_t error_code, uint8_t insn_len,
				     uint64_t cr2)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domid, dom);
	return vector == 3 /* #BP */ ? 0 : xencompat_fail(-EOPNOTSUPP);
}

/* ---- the vm_event ring and what it delivers ------------------------------------------- */

XENCOMPAT_API void *xc_monitor_enable(xc_interface *xch, uint32_t domain_id, uint32_t *port)
{
	av_domain *dom;
	void *ring;
	int r = port ? xencompat_domain(domain_id, &dom) : -EINVAL;

	if (r == 0)
		r = xencompat_relay_enable(domain_id, &ring, port);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return ring;
}

XENCOMPAT_API int xc_monitor_disable(xc_interface *xch, uint32_t domain_id)
{
	return result(xencompat_relay_disable(domain_id));
}

XENCOMPAT_API int xc_monitor_resume(xc_interface *xch, uint32_t domain_id)
{
	return result(xencompat_relay_resume(domain_id));
}

XENCOMPAT_API int xc_vm_event_get_version(xc_interface *xch)
{
	return VM_EVENT_INTERFACE_VERSION;
}

/* Xen's monitor ops need no ring; here delivery is the ring's, so none means ENODEV. */
static int monitor_kind(uint32_t domid, enum av_event_kind kind, bool enable)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domid, dom);
	return result(xencompat_relay_events(domid, kind, enable));
}

XENCOMPAT_API int xc_monitor_software_breakpoint(xc_interface *xch, uint32_t domain_id, bool enable)
{
	return monitor_kind(domain_id, AV_EVENT_BREAKPOINT, enable);
}

XENCOMPAT_API int xc_monitor_singlestep(xc_interface *xch, uint32_t domain_id, bool enable)
{
	return monitor_kind(domain_id, AV_EVENT_SINGLESTEP, enable);
}

XENCOMPAT_API int xc_monitor_cpuid(xc_interface *xch, uint32_t domain_id, bool enable)
{
	return monitor_kind(domain_id, AV_EVENT_CPUID, enable);
}

XENCOMPAT_API int xc_monitor_guest_request(xc_interface *xch, uint32_t domain_id, bool enable,
					   bool sync, bool allow_userspace)
{
	return monitor_kind(domain_id, AV_EVENT_GUEST_REQUEST, enable);
}

/*
 * altview's guests have no page tables of their own for an access to fault
 * in while the processor walks them: there is nothing to suppress.
 */
XENCOMPAT_API int xc_monitor_inguest_pagefault(xc_interface *xch, uint32_t domain_id, bool disable)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domain_id, dom);
	return 0;
}

/* No emulator of altview's gives up on an instruction: the event is never raised. */
XENCOMPAT_API int xc_monitor_emul_unimplemented(xc_interface *xch, uint32_t domain_id, bool enable)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domain_id, dom);
	return 0;
}

/* No event source in altview's engines: EOPNOTSUPP, which Xen also answers without the hardware. */
XENCOMPAT_API int xc_monitor_write_ctrlreg(xc_interface *xch, uint32_t domain_id, uint16_t index,
					   bool enable, bool sync, uint64_t bitmask,
					   bool onchangeonly)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domain_id, dom);
	return xencompat_fail(index > 3 ? -EINVAL : -EOPNOTSUPP);
}

XENCOMPAT_API int xc_monitor_debug_exceptions(xc_interface *xch, uint32_t domain_id, bool enable,
					      bool sync)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domain_id, dom);
	return xencompat_fail(-EOPNOTSUPP);
}

XENCOMPAT_API int xc_monitor_descriptor_access(xc_interface *xch, uint32_t domain_id, bool enable)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domain_id, dom);
	return xencompat_fail(-EOPNOTSUPP);
}

/* ---- access and views ------------------------------------------------------------------ */

/* Setting access means events for it: delivery turns on with the first access set. */
static void want_access_events(uint32_t domid)
{
	xencompat_relay_events(domid, AV_EVENT_MEM_ACCESS, true);
}

/*
 * The host p2m: ~0 sets its default, a range is clipped to RAM (Xen sets
 * access on the holes too, which have no entries here).  Xen needs the
 * monitor ring for this (ENODEV) and a range within max_gpfn (EINVAL).
 */
XENCOMPAT_API int xc_set_mem_access(xc_interface *xch, uint32_t domain_id, xenmem_access_t access,
				    uint64_t first_pfn, uint32_t nr)
{
	struct av_domain_info info = { .sz = sizeof(info) };
	uint64_t pages;
	av_domain *dom;
	int r;

	DOMAIN_OR_FAIL(domain_id, dom);
	if (!xencompat_relay_active(domain_id))
		return xencompat_fail(-ENODEV);
	want_access_events(domain_id);
	if (first_pfn == ~0ull)
		return result(av_view_set_default_access(dom, 0, (enum av_access)access));
	r = av_domain_get_info(dom, &info);
	if (r < 0)
		return xencompat_fail(r);
	pages = info.memory_bytes / AV_PAGE_SIZE;
	if (nr && first_pfn + nr - 1 > pages - 1 && first_pfn + nr - 1 >= first_pfn)
		nr = first_pfn < pages ? (uint32_t)(pages - first_pfn) : 0;
	if (!nr)
		return 0;
	return result(av_view_set_access(dom, 0, first_pfn, nr, (enum av_access)access));
}

XENCOMPAT_API int xc_get_mem_access(xc_interface *xch, uint32_t domain_id, uint64_t pfn,
				    xenmem_access_t *access)
{
	enum av_access a;
	av_domain *dom;
	int r;

	DOMAIN_OR_FAIL(domain_id, dom);
	if (!xencompat_relay_active(domain_id))
		return xencompat_fail(-ENODEV);
	r = av_view_get_access(dom, 0, pfn, &a);
	if (r < 0)
		return xencompat_fail(r == -ENOENT ? -EINVAL : r);
	*access = (xenmem_access_t)a;
	return 0;
}

XENCOMPAT_API int xc_altp2m_set_domain_state(xc_interface *handle, uint32_t dom, bool state)
{
	av_domain *d;

	DOMAIN_OR_FAIL(dom, d);
	return result(state ? av_views_enable(d, XEN_MAX_ALTP2M) : av_views_disable(d));
}

XENCOMPAT_API int xc_altp2m_get_domain_state(xc_interface *handle, uint32_t dom, bool *state)
{
	struct av_domain_info info;
	av_domain *d;

	DOMAIN_INFO_OR_FAIL(dom, d, info);
	*state = info.max_views != 0;
	return 0;
}

/* altview keeps view 0 visible (vCPUs fall back to it); Xen's errors for missing views are EINVAL. */
XENCOMPAT_API int xc_altp2m_set_visibility(xc_interface *handle, uint32_t domid, uint16_t view_id,
					   bool visible)
{
	av_domain *dom;
	int r;

	DOMAIN_OR_FAIL(domid, dom);
	r = av_view_set_visible(dom, view_id, visible);
	return result(r == -ENOENT ? -EINVAL : r);
}

/* Xen's table is full at 10 views: EINVAL, not ENOSPC. */
XENCOMPAT_API int xc_altp2m_create_view(xc_interface *handle, uint32_t domid,
					xenmem_access_t default_access, uint16_t *view_id)
{
	av_domain *dom;
	uint32_t view;
	int r;

	DOMAIN_OR_FAIL(domid, dom);
	r = av_view_create(dom, (enum av_access)default_access, &view);
	if (r < 0)
		return xencompat_fail(r == -ENOSPC ? -EINVAL : r);
	*view_id = (uint16_t)view;
	return 0;
}

XENCOMPAT_API int xc_altp2m_destroy_view(xc_interface *handle, uint32_t domid, uint16_t view_id)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domid, dom);
	if (view_id == 0)
		return xencompat_fail(-EBUSY);
	return result(av_view_destroy(dom, view_id));
}

XENCOMPAT_API int xc_altp2m_switch_to_view(xc_interface *handle, uint32_t domid, uint16_t view_id)
{
	av_domain *dom;
	int r;

	DOMAIN_OR_FAIL(domid, dom);
	r = av_view_switch(dom, view_id);
	return result(r == -ENOENT || r == -EPERM ? -EINVAL : r);
}

/* A gfn with no RAM behind it is skipped, as Xen skips it for a view: 0. */
XENCOMPAT_API int xc_altp2m_set_mem_access(xc_interface *handle, uint32_t domid, uint16_t view_id,
					   xen_pfn_t gfn, xenmem_access_t access)
{
	av_domain *dom;
	int r;

	DOMAIN_OR_FAIL(domid, dom);
	want_access_events(domid);
	r = av_view_set_access(dom, view_id, gfn, 1, (enum av_access)access);
	return result(r == -ENOENT && view_id ? 0 : r);
}

XENCOMPAT_API int xc_altp2m_get_mem_access(xc_interface *handle, uint32_t domid, uint16_t view_id,
					   xen_pfn_t gfn, xenmem_access_t *access)
{
	enum av_access a;
	av_domain *dom;
	int r;

	DOMAIN_OR_FAIL(domid, dom);
	r = av_view_get_access(dom, view_id, gfn, &a);
	if (r < 0)
		return xencompat_fail(r);
	*access = (xenmem_access_t)a;
	return 0;
}

XENCOMPAT_API int xc_altp2m_change_gfn(xc_interface *handle, uint32_t domid, uint16_t view_id,
				       xen_pfn_t old_gfn, xen_pfn_t new_gfn)
{
	av_domain *dom;

	DOMAIN_OR_FAIL(domid, dom);
	return result(av_view_change_gfn(dom, view_id, old_gfn, new_gfn));
}

/* All or nothing here where Xen stops at the first failure: neither changes a page past it. */
XENCOMPAT_API int xc_altp2m_set_mem_access_multi(xc_interface *handle, uint32_t domid,
						 uint16_t view_id, uint8_t *access, uint64_t *gfns,
						 uint32_t nr)
{
	enum av_access *a = nr ? calloc(nr, sizeof(*a)) : NULL;
	size_t failed;
	av_domain *dom;
	int r;

	if (nr && !a)
		return xencompat_fail(-ENOMEM);
	r = xencompat_domain(domid, &dom);
	if (r == 0) {
		for (uint32_t i = 0; i < nr; i++)
			a[i] = (enum av_access)access[i];
		want_access_events(domid);
		r = nr ? av_view_set_access_multi(dom, view_id, gfns, a, nr, &failed) : 0;
	}
	free(a);
	return result(r == -ENOENT && !view_id ? -EINVAL : r == -ENOENT ? -ESRCH : r);
}

XENCOMPAT_API int xc_altp2m_get_vcpu_p2m_idx(xc_interface *handle, uint32_t domid,
					     uint32_t vcpuid, uint16_t *p2midx)
{
	av_domain *dom;
	uint32_t view;
	int r;

	DOMAIN_OR_FAIL(domid, dom);
	r = av_vcpu_get_view(dom, vcpuid, &view);
	if (r < 0)
		return xencompat_fail(r);
	*p2midx = (uint16_t)view;
	return 0;
}
