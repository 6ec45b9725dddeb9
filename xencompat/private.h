/* SPDX-License-Identifier: MIT */
/*
 * private.h — libaltview-xen.so.0, the one library that holds the state of
 * altview's Xen-compatible libraries for a process, and what the façades
 * (libxenctrl.so.4.17, libxenevtchn.so.1, ...) call in it.  A Xen tool gets
 * its ring from libxenctrl and binds the ring's port with libxenevtchn:
 * both must see the same monitor, so neither façade keeps any state.
 *
 * Everything goes through libaltview's public API, on whatever backend the
 * environment names (ALTVIEW_XEN_URI, altview-xen(1)): the core in this
 * process, or altviewd.
 */
#pragma once

#ifndef __XEN_TOOLS__
#define __XEN_TOOLS__ 1
#endif

#include <stdbool.h>
#include <stdint.h>

#include <altview/altview.h>
#include <altview/xen.h>

/* Exported by libaltview-xen.so.0 to the façades, in its private node only. */
#define XENCOMPAT_PRIVATE __attribute__((visibility("default")))
/* Exported by a façade under Xen's own name and node. */
#define XENCOMPAT_API __attribute__((visibility("default")))

/* ---- core.c: the process's hypervisor and its guests ------------------------------ */

/*
 * libaltview's handle for this process, opened on first use from the
 * environment: ALTVIEW_XEN_URI (default "hv:"); for "hv:", the guests of
 * ALTVIEW_XEN_SPECS (a colon-separated list of libaltview JSON specs) are
 * created and started, as Xen guests run when a tool attaches.  NULL with
 * errno set when that failed.
 */
XENCOMPAT_PRIVATE av_hv *xencompat_hv(void);
/*
 * A handle on guest @domid, kept for the process: 0, or a negative errno,
 * -ESRCH for a guest that is not there (Xen's answer, whatever the backend said).
 */
XENCOMPAT_PRIVATE int xencompat_domain(uint32_t domid, av_domain **dom);
/* In a façade call: the guest into @dom, or -1 with errno as Xen fails. */
#define DOMAIN_OR_FAIL(domid, dom)                                             \
	do {                                                                   \
		int _r = xencompat_domain((domid), &(dom));                    \
		if (_r < 0)                                                    \
			return xencompat_fail(_r);                             \
	} while (0)
/* The guest and what libaltview says of it, as xencompat_domain() fails. */
XENCOMPAT_PRIVATE int xencompat_domain_info(uint32_t domid, av_domain **dom,
					    struct av_domain_info *info);
#define DOMAIN_INFO_OR_FAIL(domid, dom, info)                                  \
	do {                                                                   \
		int _r = xencompat_domain_info((domid), &(dom), &(info));      \
		if (_r < 0)                                                    \
			return xencompat_fail(_r);                             \
	} while (0)
/* Xen's convention from a negative errno: errno set, -1 returned. */
XENCOMPAT_PRIVATE int xencompat_fail(int r);
XENCOMPAT_PRIVATE void xencompat_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* What a stub says when called: once per function, errno EOPNOTSUPP. */
XENCOMPAT_PRIVATE void xencompat_unsupported(const char *lib, const char *name);

/* ---- foreign.c: guest frames in this process ----------------------------------------- */

/*
 * Maps the @n gfns of @gfns (PROT_READ, and PROT_WRITE if @prot has it)
 * into one range the caller frees with munmap().  With @err, each page's
 * result (0 or -errno) and the range even if some failed (those pages
 * inaccessible); without, all or nothing (EFAULT).  NULL with errno.
 */
XENCOMPAT_PRIVATE void *xencompat_map(uint32_t domid, int prot, const uint64_t *gfns, size_t n,
				      int *err);

/* ---- evtchn.c: event channel handles as libxenevtchn has them --------------------- */

struct xencompat_evtchn;
XENCOMPAT_PRIVATE int xencompat_evtchn_open(struct xencompat_evtchn **out);
XENCOMPAT_PRIVATE void xencompat_evtchn_close(struct xencompat_evtchn *h);
XENCOMPAT_PRIVATE int xencompat_evtchn_fd(struct xencompat_evtchn *h);
XENCOMPAT_PRIVATE int xencompat_evtchn_bind_interdomain(struct xencompat_evtchn *h,
							uint32_t domid, uint32_t remote);
XENCOMPAT_PRIVATE int xencompat_evtchn_bind_unbound(struct xencompat_evtchn *h, uint32_t domid);
XENCOMPAT_PRIVATE int xencompat_evtchn_bind_virq(struct xencompat_evtchn *h, unsigned int virq);
XENCOMPAT_PRIVATE int xencompat_evtchn_unbind(struct xencompat_evtchn *h, uint32_t port);
XENCOMPAT_PRIVATE int xencompat_evtchn_notify(struct xencompat_evtchn *h, uint32_t port);
XENCOMPAT_PRIVATE int xencompat_evtchn_pending(struct xencompat_evtchn *h);
XENCOMPAT_PRIVATE int xencompat_evtchn_unmask(struct xencompat_evtchn *h, uint32_t port);
/* The relay's side: @port of @h fired (a request is on the ring). */
void xencompat_evtchn_fire(struct xencompat_evtchn *h, uint32_t port);

/* ---- relay.c: Xen's vm_event ring, fed from a libaltview monitor --------------------- */

/*
 * xc_monitor_enable(): a Xen ring page for the tool (a mapping of its own,
 * which it may munmap) and the port it binds to be told of requests.
 * -EBUSY when the domain has one already, as on Xen.
 */
XENCOMPAT_PRIVATE int xencompat_relay_enable(uint32_t domid, void **ring, uint32_t *port);
/* xc_monitor_disable(): every waiting vCPU is let go; -EINVAL without a ring. */
XENCOMPAT_PRIVATE int xencompat_relay_disable(uint32_t domid);
/* Turns an event kind's delivery on or off: -EEXIST when it already is, -ENODEV without a ring. */
XENCOMPAT_PRIVATE int xencompat_relay_events(uint32_t domid, enum av_event_kind kind, bool on);
/* Whether @domid has a ring (Xen's access calls need one). */
XENCOMPAT_PRIVATE bool xencompat_relay_active(uint32_t domid);
/* xc_monitor_resume(): the tool put responses on the ring. */
XENCOMPAT_PRIVATE int xencompat_relay_resume(uint32_t domid);
/*
 * A handle binds the ring port @port of @domid as its @local port: -ENOENT
 * when there is no such ring, -EBUSY when another handle has it.  Rings
 * are named by (domid, port), never by pointer: one may be disabled while
 * a handle still holds the port.
 */
int relay_attach(uint32_t domid, uint32_t port, struct xencompat_evtchn *h, uint32_t local);
void relay_detach(uint32_t domid, uint32_t port, struct xencompat_evtchn *h);
/* ---- virq.c: VIRQ_DOM_EXC, fired when a domain crashes or goes ------------------ */

int virq_attach(struct xencompat_evtchn *h, uint32_t local);
void virq_detach(struct xencompat_evtchn *h, uint32_t local);

/* The tool notified the ring's port: responses may wait on the ring. */
void relay_kick(uint32_t domid, uint32_t port);
