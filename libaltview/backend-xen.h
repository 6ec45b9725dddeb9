/* SPDX-License-Identifier: MIT */
/*
 * backend-xen.h — the xen: backend's three parts: control over libxenctrl,
 * libxenforeignmemory and libxenstore (backend-xen.c), Xen's one vm_event ring per
 * domain (backend-xen-monitor.c), and event channels over libxenevtchn
 * (backend-xen-evtchn.c).  Linked against Xen 4.17's libraries: on a Xen
 * host Xen's own, in tests altview's Xen-compatible ones.
 */
#pragma once

#include "private.h"

/* private.h's barriers are the C11 ones; xenctrl.h brings Xen's own for its ring macros. */
#undef xen_mb
#undef xen_rmb
#undef xen_wmb
#include <xenctrl.h>
#include <xenevtchn.h>
#include <xenforeignmemory.h>
#include <xengnttab.h>
#include <xenstore.h>

struct xen_grant;

struct xen_backend {
	xc_interface *xch;
	xenforeignmemory_handle *fmem;
	struct xs_handle *xs;       /* domain names; NULL without a xenstored to ask */

	pthread_mutex_t grants_lock;    /* the rest: grants (backend-xen-grant.c) */
	xengnttab_handle *gnttab;
	xengntshr_handle *gntshr;
	struct xen_grant *mappings, *shared;
	uint32_t next_handle;
};

static inline struct xen_backend *xen_of(struct av_hv *hv)
{
	return hv->be;
}

/* -errno from a libxenctrl-style failure (-1 and errno). */
static inline int xen_errno(int r)
{
	return r < 0 ? (errno ? -errno : -EIO) : r;
}

/* Logs what Xen refused and returns it as -errno. */
int xen_fail(struct av_hv *hv, int r, const char *what);

/* backend-xen-grant.c: map, unmap and copy say GNTST_ codes, share and unshare errnos */
int xen_grant_map(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t gntmap_flags,
		  void **addr, uint32_t *handle);
int xen_grant_unmap(struct av_hv *hv, uint32_t handle);
int xen_grant_copy(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t offset, void *buf,
		   uint32_t len, bool to_grant);
int xen_grant_share(struct av_hv *hv, uint32_t domid, bool readonly, uint32_t *ref, void **addr);
int xen_grant_unshare(struct av_hv *hv, uint32_t ref);
/* Every mapping and shared page undone (av_close). */
void xen_grants_close(struct xen_backend *x);

/* backend-xen-monitor.c */
int xen_monitor_open(struct av_monitor *mon, const struct av_monitor_opts *opts);
void xen_monitor_close(struct av_monitor *mon);
int xen_monitor_set_reasons(struct av_monitor *mon, uint32_t reasons);
int xen_monitor_fd(struct av_monitor *mon);
int xen_monitor_next(struct av_monitor *mon, vm_event_request_t *req);
int xen_monitor_next_async(struct av_monitor *mon, vm_event_request_t *req);
int xen_monitor_wait(struct av_monitor *mon, uint32_t vcpu, int timeout_ms, vm_event_request_t *req);
int xen_monitor_set_handler(struct av_monitor *mon);
int xen_monitor_respond(struct av_monitor *mon, const vm_event_response_t *rsp);
void xen_monitor_get_stats(struct av_monitor *mon, struct av_monitor_stats *st);

/* backend-xen-evtchn.c */
/* The next pending port, -EAGAIN when none, without blocking as Linux's device would. */
int xen_pending_nowait(xenevtchn_handle *h);
int xen_evtchn_open(struct av_evtchn *xce);
void xen_evtchn_close(struct av_evtchn *xce);
int xen_evtchn_fd(struct av_evtchn *xce);
int xen_evtchn_bind_interdomain(struct av_evtchn *xce, uint32_t domid, uint32_t port);
int xen_evtchn_bind_unbound(struct av_evtchn *xce, uint32_t domid);
int xen_evtchn_unbind(struct av_evtchn *xce, uint32_t port);
int xen_evtchn_notify(struct av_evtchn *xce, uint32_t port);
int xen_evtchn_pending(struct av_evtchn *xce);
int xen_evtchn_unmask(struct av_evtchn *xce, uint32_t port);
int xen_evtchn_status(struct av_domain *dom, uint32_t port, struct evtchn_status *st);
