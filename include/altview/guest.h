/* SPDX-License-Identifier: MIT */
/*
 * altview/guest.h — what an embedded guest does on its own side of grant
 * tables and event channels.
 *
 * Guests of the embedded hypervisor whose engine cannot make hypercalls
 * (the script engine) have them made here on their behalf; everything else
 * sees the result exactly as if the guest had made the call.  Backends whose
 * guests run their own kernels return -EOPNOTSUPP.  Thread-safe.
 */
#ifndef ALTVIEW_GUEST_H
#define ALTVIEW_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#include <altview/common.h>
#include <altview/domain.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Grants @domid access to @gfn through entry @ref of the guest's table. */
AV_API int av_guest_grant_access(av_domain *dom, uint32_t ref, uint32_t domid, uint64_t gfn,
				 bool readonly);
/* -EBUSY while the grant is mapped. */
AV_API int av_guest_end_access(av_domain *dom, uint32_t ref);
/* Maps grant @ref of dom0 (av_grant_share) at @gfn, where nothing is mapped. */
AV_API int av_guest_map_grant(av_domain *dom, uint32_t ref, uint64_t gfn, bool readonly,
			      uint32_t *handle);
AV_API int av_guest_unmap_grant(av_domain *dom, uint32_t handle);

/* A port @remote may bind to; returns it. */
AV_API int av_guest_evtchn_alloc_unbound(av_domain *dom, uint32_t remote);
AV_API int av_guest_evtchn_send(av_domain *dom, uint32_t port);
/* 1 if the port was pending (and clears it), 0 if not. */
AV_API int av_guest_evtchn_test_and_clear(av_domain *dom, uint32_t port);

#ifdef __cplusplus
}
#endif

#endif
