/* SPDX-License-Identifier: MIT */
/*
 * backend-altviewd-evtchn.c — event channels through altviewd: the daemon
 * owns the dom0 handle and binds ports on it (org.altview1.EventChannel);
 * this process imports the handle's shared state and eventfds and waits,
 * takes pending ports, unmasks and notifies without a bus round trip.
 */
#include <stdlib.h>
#include <string.h>

#include "backend-altviewd.h"
/* The core's handle import: this is the other end of its exported handles. */
#include "hv.h"
#include "org-altview1.h"

struct remote_evtchn {
	char path[OBJECT_PATH_MAX];
	struct hv_evtchn_handle *h;
	/* The ports bound here: notifying another is -ENOENT, as on hv:, not a silent no-op. */
	pthread_mutex_t lock;
	uint64_t bound[HV_EVTCHN_PORTS / 64];
};

static void set_bound(struct remote_evtchn *rx, uint32_t port, bool bound)
{
	if (port >= HV_EVTCHN_PORTS)
		return;
	pthread_mutex_lock(&rx->lock);
	if (bound)
		rx->bound[port / 64] |= UINT64_C(1) << (port % 64);
	else
		rx->bound[port / 64] &= ~(UINT64_C(1) << (port % 64));
	pthread_mutex_unlock(&rx->lock);
}

static bool is_bound(struct remote_evtchn *rx, uint32_t port)
{
	bool r;

	if (port >= HV_EVTCHN_PORTS)
		return false;
	pthread_mutex_lock(&rx->lock);
	r = rx->bound[port / 64] & (UINT64_C(1) << (port % 64));
	pthread_mutex_unlock(&rx->lock);
	return r;
}

static struct remote_evtchn *rx_of(struct av_evtchn *xce)
{
	return xce->be;
}

int altviewd_evtchn_open(struct av_evtchn *xce)
{
	struct remote_evtchn *rx = calloc(1, sizeof(*rx));
	struct hv_evtchn_export ex;
	sd_bus_message *reply = NULL;
	const char *path;
	int r;

	if (!rx)
		return -ENOMEM;
	pthread_mutex_init(&rx->lock, NULL);
	r = altviewd_call(xce->hv, MANAGER_PATH, MANAGER_IFACE, "OpenEventChannel", -EIO, &reply,
			  NULL);
	if (r >= 0)
		r = sd_bus_message_read(reply, "ohhh", &path, &ex.shm_fd, &ex.up_fd, &ex.down_fd);
	if (r >= 0 && strlen(path) >= sizeof(rx->path))
		r = -EPROTO;
	if (r >= 0) {
		strcpy(rx->path, path);
		/* Duplicates the descriptors: the reply's go with it. */
		r = hv_evtchn_import(&ex, &rx->h);
		if (r < 0)
			altviewd_call(xce->hv, rx->path, EVTCHN_IFACE, "Close", -ENOENT, NULL, NULL);
	}
	sd_bus_message_unref(reply);
	if (r < 0) {
		pthread_mutex_destroy(&rx->lock);
		free(rx);
		return r;
	}
	xce->be = rx;
	return 0;
}

void altviewd_evtchn_close(struct av_evtchn *xce)
{
	struct remote_evtchn *rx = rx_of(xce);

	altviewd_call(xce->hv, rx->path, EVTCHN_IFACE, "Close", -ENOENT, NULL, NULL);
	hv_evtchn_handle_close(rx->h);
	pthread_mutex_destroy(&rx->lock);
	free(rx);
}

int altviewd_evtchn_fd(struct av_evtchn *xce)
{
	return hv_evtchn_fd(rx_of(xce)->h);
}

static int bind_reply(struct av_evtchn *xce, const char *member, const char *types, uint32_t a,
		      uint32_t b)
{
	sd_bus_message *reply = NULL;
	uint32_t port;
	int r;

	r = altviewd_call(xce->hv, rx_of(xce)->path, EVTCHN_IFACE, member, -EBADF, &reply, types, a,
			  b);
	if (r >= 0)
		r = sd_bus_message_read(reply, "u", &port);
	sd_bus_message_unref(reply);
	if (r >= 0 && port >= HV_EVTCHN_PORTS)
		r = -EPROTO;
	if (r >= 0)
		set_bound(rx_of(xce), port, true);
	return r < 0 ? r : (int)port;
}

int altviewd_evtchn_bind_interdomain(struct av_evtchn *xce, uint32_t domid, uint32_t port)
{
	return bind_reply(xce, "BindInterdomain", "uu", domid, port);
}

int altviewd_evtchn_bind_unbound(struct av_evtchn *xce, uint32_t domid)
{
	return bind_reply(xce, "BindUnbound", "u", domid, 0);
}

int altviewd_evtchn_unbind(struct av_evtchn *xce, uint32_t port)
{
	int r = altviewd_call(xce->hv, rx_of(xce)->path, EVTCHN_IFACE, "Unbind", -EBADF, NULL, "u",
			      port);

	if (r < 0)
		return r;
	set_bound(rx_of(xce), port, false);
	return 0;
}

int altviewd_evtchn_notify(struct av_evtchn *xce, uint32_t port)
{
	if (!is_bound(rx_of(xce), port))
		return port >= HV_EVTCHN_PORTS ? -EINVAL : -ENOENT;
	return hv_evtchn_notify(rx_of(xce)->h, port);
}

int altviewd_evtchn_pending(struct av_evtchn *xce)
{
	return hv_evtchn_pending(rx_of(xce)->h);
}

int altviewd_evtchn_unmask(struct av_evtchn *xce, uint32_t port)
{
	return hv_evtchn_unmask_port(rx_of(xce)->h, port);
}

int altviewd_evtchn_status(struct av_domain *dom, uint32_t port, struct evtchn_status *st)
{
	sd_bus_message *reply = NULL;
	uint32_t status, vcpu, domain, other;
	int r;

	r = altviewd_call(dom->hv, altviewd_domain_path(dom), DOMAIN_IFACE, "GetEventChannelStatus",
			  -ESRCH, &reply, "u", port);
	if (r >= 0)
		r = sd_bus_message_read(reply, "uuuu", &status, &vcpu, &domain, &other);
	sd_bus_message_unref(reply);
	if (r < 0)
		return r;
	memset(st, 0, sizeof(*st));
	st->dom = (domid_t)dom->id;
	st->port = port;
	st->status = status;
	st->vcpu = vcpu;
	if (status == EVTCHNSTAT_unbound)
		st->u.unbound.dom = (domid_t)domain;
	else if (status == EVTCHNSTAT_interdomain) {
		st->u.interdomain.dom = (domid_t)domain;
		st->u.interdomain.port = other;
	} else if (status == EVTCHNSTAT_virq)
		st->u.virq = other;
	return 0;
}
