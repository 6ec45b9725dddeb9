/* SPDX-License-Identifier: MIT */
/*
 * altview/xen.h — Xen's own vm_event payload of an altview event, for tools
 * written against Xen's interface.  Needs Xen's public headers (libxen-dev).
 */
#ifndef ALTVIEW_XEN_H
#define ALTVIEW_XEN_H

#include <stdint.h>

#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif
#include <xen/xen.h>
#include <xen/event_channel.h>
#include <xen/vm_event.h>

#include <altview/monitor.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The vm_event_request_t behind @ev, or NULL if the event has none. */
static inline const vm_event_request_t *av_event_xen_request(const struct av_event *ev)
{
	if (ev->xen_size < sizeof(vm_event_request_t))
		return (const vm_event_request_t *)0;
	return (const vm_event_request_t *)(const void *)ev->xen;
}

/*
 * Answers the synchronous event @ev with Xen's own response, for monitors
 * written against Xen and for relays that merge answers in Xen's terms
 * (altviewd).  @size is sizeof(*rsp); VM_EVENT_FLAG_VCPU_PAUSED is implied,
 * version and vcpu_id must match.  Otherwise as av_monitor_respond().
 */
AV_API int av_monitor_respond_xen(av_monitor *mon, const struct av_event *ev,
				  const vm_event_response_t *rsp, size_t size);

/*
 * What port @port of the guest is, as EVTCHNOP_status says (@st's dom and
 * port are filled in): closed, unbound (for which domain), interdomain (to
 * which domain's port), virq, ipi.  -EINVAL past the guest's last port.
 * Thread-safe.
 */
AV_API int av_evtchn_status_xen(av_domain *dom, uint32_t port, struct evtchn_status *st);

#ifdef __cplusplus
}
#endif

#endif
