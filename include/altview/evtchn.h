/* SPDX-License-Identifier: MIT */
/*
 * altview/evtchn.h — event channels, shaped like libxenevtchn.
 *
 * A handle has one pollable fd.  av_evtchn_pending() returns the next port
 * that fired and masks it; av_evtchn_unmask() after handling re-arms it.
 * A port that fires in between makes the fd readable again: nothing is lost.
 * A handle may be used from several threads, but pending/unmask of one port
 * belong to one thread at a time.
 */
#ifndef ALTVIEW_EVTCHN_H
#define ALTVIEW_EVTCHN_H

#include <stdint.h>

#include <altview/common.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct av_evtchn av_evtchn;

struct av_evtchn_opts {
	size_t sz;
};

AV_API int av_evtchn_open(av_hv *hv, const struct av_evtchn_opts *opts, av_evtchn **out);
/* Unbinds every port bound through the handle. */
AV_API void av_evtchn_close(av_evtchn *xce);
AV_API int av_evtchn_fd(av_evtchn *xce);

/* Bind to a port of @domid; return the local port. */
AV_API int av_evtchn_bind_interdomain(av_evtchn *xce, uint32_t domid, uint32_t remote_port);
/* A new local port that @domid may bind to. */
AV_API int av_evtchn_bind_unbound_port(av_evtchn *xce, uint32_t domid);
AV_API int av_evtchn_unbind(av_evtchn *xce, uint32_t port);
AV_API int av_evtchn_notify(av_evtchn *xce, uint32_t port);
/* The next local port that fired, or -EAGAIN. */
AV_API int av_evtchn_pending(av_evtchn *xce);
AV_API int av_evtchn_unmask(av_evtchn *xce, uint32_t port);

/*
 * What another process needs to use this handle, as altviewd's clients do:
 * the shared state, the eventfd that is readable when a port fired, and
 * the one it writes to have ports notified.  They stay the handle's (do not
 * close them).  There, the handle waits, takes pending ports, unmasks and
 * notifies, for its own ports only; binding stays here.  -EOPNOTSUPP where
 * the handle is not this process's own.
 */
AV_API int av_evtchn_export(av_evtchn *xce, int *shared_fd, int *up_fd, int *down_fd);

#ifdef __cplusplus
}
#endif

#endif
