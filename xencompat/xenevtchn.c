/* SPDX-License-Identifier: MIT */
/*
 * xenevtchn.c — libxenevtchn.so.1 (VERS_1.0 .. VERS_1.2) over the handles
 * of libaltview-xen: -1 and errno, as the Linux driver's library returns.
 */
#include <errno.h>

#include <xenevtchn.h>

#include "private.h"

/* The library's handle is altview's, under Xen's name. */
struct xenevtchn_handle;

static struct xencompat_evtchn *handle(xenevtchn_handle *xce)
{
	return (struct xencompat_evtchn *)xce;
}

static int result(int r)
{
	return r < 0 ? xencompat_fail(r) : r;
}

XENCOMPAT_API xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
	struct xencompat_evtchn *h;
	int r;

	if (flags & ~XENEVTCHN_NO_CLOEXEC) {
		errno = EINVAL;
		return NULL;
	}
	r = xencompat_evtchn_open(&h);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return (xenevtchn_handle *)h;
}

XENCOMPAT_API int xenevtchn_close(xenevtchn_handle *xce)
{
	xencompat_evtchn_close(handle(xce));
	return 0;
}

XENCOMPAT_API int xenevtchn_fd(xenevtchn_handle *xce)
{
	return xencompat_evtchn_fd(handle(xce));
}

XENCOMPAT_API int xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	return result(xencompat_evtchn_notify(handle(xce), port));
}

XENCOMPAT_API xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *xce,
								   uint32_t domid)
{
	return result(xencompat_evtchn_bind_unbound(handle(xce), domid));
}

XENCOMPAT_API xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *xce,
								  uint32_t domid,
								  evtchn_port_t remote_port)
{
	return result(xencompat_evtchn_bind_interdomain(handle(xce), domid, remote_port));
}

XENCOMPAT_API xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *xce, unsigned int virq)
{
	return result(xencompat_evtchn_bind_virq(handle(xce), virq));
}

XENCOMPAT_API int xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	return result(xencompat_evtchn_unbind(handle(xce), port));
}

XENCOMPAT_API xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *xce)
{
	return result(xencompat_evtchn_pending(handle(xce)));
}

XENCOMPAT_API int xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	return result(xencompat_evtchn_unmask(handle(xce), port));
}
