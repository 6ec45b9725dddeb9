/* SPDX-License-Identifier: MIT */
/*
 * backend-xen-evtchn.c — libaltview's event channel handles as
 * libxenevtchn's, one for one, and a port's status through libxenctrl.
 */
#include <poll.h>

#include "backend-xen.h"

/*
 * Linux's evtchn device blocks a read with nothing pending; libaltview's
 * pending() says -EAGAIN instead, so the fd is asked first.
 */
int xen_pending_nowait(xenevtchn_handle *h)
{
	struct pollfd p = { .fd = xenevtchn_fd(h), .events = POLLIN };

	if (poll(&p, 1, 0) != 1)
		return -EAGAIN;
	errno = 0;
	return xen_errno(xenevtchn_pending(h));
}

static xenevtchn_handle *xce_of(struct av_evtchn *xce)
{
	return xce->be;
}

int xen_evtchn_open(struct av_evtchn *xce)
{
	errno = 0;
	xce->be = xenevtchn_open(NULL, 0);
	return xce->be ? 0 : xen_fail(xce->hv, -1, "xenevtchn_open");
}

void xen_evtchn_close(struct av_evtchn *xce)
{
	xenevtchn_close(xce_of(xce));
}

int xen_evtchn_fd(struct av_evtchn *xce)
{
	return xenevtchn_fd(xce_of(xce));
}

int xen_evtchn_bind_interdomain(struct av_evtchn *xce, uint32_t domid, uint32_t port)
{
	errno = 0;
	return xen_errno(xenevtchn_bind_interdomain(xce_of(xce), domid, port));
}

int xen_evtchn_bind_unbound(struct av_evtchn *xce, uint32_t domid)
{
	errno = 0;
	return xen_errno(xenevtchn_bind_unbound_port(xce_of(xce), domid));
}

int xen_evtchn_unbind(struct av_evtchn *xce, uint32_t port)
{
	errno = 0;
	return xen_errno(xenevtchn_unbind(xce_of(xce), port));
}

int xen_evtchn_notify(struct av_evtchn *xce, uint32_t port)
{
	errno = 0;
	return xen_errno(xenevtchn_notify(xce_of(xce), port));
}

int xen_evtchn_pending(struct av_evtchn *xce)
{
	return xen_pending_nowait(xce_of(xce));
}

int xen_evtchn_unmask(struct av_evtchn *xce, uint32_t port)
{
	errno = 0;
	return xen_errno(xenevtchn_unmask(xce_of(xce), port));
}

int xen_evtchn_status(struct av_domain *dom, uint32_t port, struct evtchn_status *st)
{
	xc_evtchn_status_t s = { .dom = (domid_t)dom->id, .port = port };
	int r;

	errno = 0;
	r = xc_evtchn_status(xen_of(dom->hv)->xch, &s);
	if (r < 0)
		return xen_errno(r);
	*st = s;
	return 0;
}
