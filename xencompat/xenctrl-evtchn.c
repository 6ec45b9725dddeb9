/* SPDX-License-Identifier: MIT */
/*
 * xenctrl-evtchn.c — libxenctrl's event channel calls: the xc_evtchn_*
 * twins of libxenevtchn that Xen keeps for old tools (xenctrl_compat.h),
 * which call libxenevtchn as Xen's do, and the domain-side
 * xc_evtchn_alloc_unbound.
 */
#include <errno.h>

#define XC_WANT_COMPAT_EVTCHN_API 1
#include <xenctrl.h>
#include <xenevtchn.h>

#include "private.h"

XENCOMPAT_API xc_evtchn *xc_evtchn_open(xentoollog_logger *logger, unsigned int open_flags)
{
	return xenevtchn_open(logger, open_flags);
}

XENCOMPAT_API int xc_evtchn_close(xc_evtchn *xce)
{
	return xenevtchn_close(xce);
}

XENCOMPAT_API int xc_evtchn_fd(xc_evtchn *xce)
{
	return xenevtchn_fd(xce);
}

XENCOMPAT_API int xc_evtchn_notify(xc_evtchn *xce, evtchn_port_t port)
{
	return xenevtchn_notify(xce, port);
}

XENCOMPAT_API xc_evtchn_port_or_error_t xc_evtchn_bind_unbound_port(xc_evtchn *xce, uint32_t domid)
{
	return xenevtchn_bind_unbound_port(xce, domid);
}

XENCOMPAT_API xc_evtchn_port_or_error_t xc_evtchn_bind_interdomain(xc_evtchn *xce, uint32_t domid,
								  evtchn_port_t remote_port)
{
	return xenevtchn_bind_interdomain(xce, domid, remote_port);
}

XENCOMPAT_API xc_evtchn_port_or_error_t xc_evtchn_bind_virq(xc_evtchn *xce, unsigned int virq)
{
	return xenevtchn_bind_virq(xce, virq);
}

XENCOMPAT_API int xc_evtchn_unbind(xc_evtchn *xce, evtchn_port_t port)
{
	return xenevtchn_unbind(xce, port);
}

XENCOMPAT_API xc_evtchn_port_or_error_t xc_evtchn_pending(xc_evtchn *xce)
{
	return xenevtchn_pending(xce);
}

XENCOMPAT_API int xc_evtchn_unmask(xc_evtchn *xce, evtchn_port_t port)
{
	return xenevtchn_unmask(xce, port);
}

/* EVTCHNOP_alloc_unbound for @dom: a port of the guest's that @remote_dom may bind. */
XENCOMPAT_API xc_evtchn_port_or_error_t xc_evtchn_alloc_unbound(xc_interface *xch, uint32_t dom,
								uint32_t remote_dom)
{
	av_domain *d;
	int r;

	DOMAIN_OR_FAIL(dom, d);
	r = av_guest_evtchn_alloc_unbound(d, remote_dom);
	return r < 0 ? xencompat_fail(r) : r;
}
