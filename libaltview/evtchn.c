/* SPDX-License-Identifier: MIT */
/* evtchn.c — event channel handles (libxenevtchn's shape). */
#include <stdlib.h>

#include <altview/xen.h>

#include "private.h"

AV_API int av_evtchn_open(av_hv *hv, const struct av_evtchn_opts *opts, av_evtchn **out)
{
	struct av_evtchn *xce;
	int r;

	if (!hv || !out || !OPTS_VALID(hv, opts, av_evtchn_opts, sz))
		return -EINVAL;
	xce = calloc(1, sizeof(*xce));
	if (!xce)
		return -ENOMEM;
	xce->hv = hv;
	r = BACKEND_OPTIONAL(hv, evtchn_open, xce);
	if (r < 0) {
		free(xce);
		return r;
	}
	pthread_mutex_lock(&hv->lock);
	list_add(&hv->evtchns, &xce->link);
	pthread_mutex_unlock(&hv->lock);
	*out = xce;
	return 0;
}

AV_API void av_evtchn_close(av_evtchn *xce)
{
	if (!xce)
		return;
	pthread_mutex_lock(&xce->hv->lock);
	list_del(&xce->link);
	pthread_mutex_unlock(&xce->hv->lock);
	xce->hv->ops->evtchn_close(xce);
	free(xce);
}

AV_API int av_evtchn_fd(av_evtchn *xce)
{
	return xce ? xce->hv->ops->evtchn_fd(xce) : -EINVAL;
}

AV_API int av_evtchn_bind_interdomain(av_evtchn *xce, uint32_t domid, uint32_t remote_port)
{
	return xce ? xce->hv->ops->evtchn_bind_interdomain(xce, domid, remote_port) : -EINVAL;
}

AV_API int av_evtchn_bind_unbound_port(av_evtchn *xce, uint32_t domid)
{
	return xce ? xce->hv->ops->evtchn_bind_unbound(xce, domid) : -EINVAL;
}

AV_API int av_evtchn_unbind(av_evtchn *xce, uint32_t port)
{
	return xce ? xce->hv->ops->evtchn_unbind(xce, port) : -EINVAL;
}

AV_API int av_evtchn_notify(av_evtchn *xce, uint32_t port)
{
	return xce ? xce->hv->ops->evtchn_notify(xce, port) : -EINVAL;
}

AV_API int av_evtchn_pending(av_evtchn *xce)
{
	return xce ? xce->hv->ops->evtchn_pending(xce) : -EINVAL;
}

AV_API int av_evtchn_unmask(av_evtchn *xce, uint32_t port)
{
	return xce ? xce->hv->ops->evtchn_unmask(xce, port) : -EINVAL;
}

AV_API int av_evtchn_export(av_evtchn *xce, int *shared_fd, int *up_fd, int *down_fd)
{
	if (!xce || !shared_fd || !up_fd || !down_fd)
		return -EINVAL;
	return BACKEND_OPTIONAL(xce->hv, evtchn_export, xce, shared_fd, up_fd, down_fd);
}

AV_API int av_evtchn_status_xen(av_domain *dom, uint32_t port, struct evtchn_status *st)
{
	int r = domain_check(dom);

	if (r < 0)
		return r;
	if (!st)
		return -EINVAL;
	return BACKEND_OPTIONAL(dom->hv, evtchn_status, dom, port, st);
}
