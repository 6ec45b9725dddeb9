/* SPDX-License-Identifier: MIT */
/*
 * evtchn-handle.c — dom0's event channel handles, shaped like
 * libxenevtchn's: ports bound to a handle deliver into pending and mask
 * bitmaps in a memfd plus an eventfd, so the consumer may map them from
 * another process (evtchn-service.c); closing a handle closes its ports.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "evtchn.h"

int evtchn_handle_map(struct hv_evtchn_handle *h)
{
	h->shm = mmap(NULL, sizeof(*h->shm), PROT_READ | PROT_WRITE, MAP_SHARED, h->shm_fd, 0);
	if (h->shm == MAP_FAILED) {
		h->shm = NULL;
		return -errno;
	}
	return 0;
}

void evtchn_handle_free(struct hv_evtchn_handle *h)
{
	if (h->shm)
		munmap(h->shm, sizeof(*h->shm));
	if (h->shm_fd >= 0)
		close(h->shm_fd);
	if (h->up_fd >= 0)
		close(h->up_fd);
	if (h->down_fd >= 0)
		close(h->down_fd);
	free(h);
}

int hv_evtchn_open(struct hv *hv, struct hv_evtchn_handle **out)
{
	struct hv_evtchn_handle *h;
	int r = 0;

	if (!hv || !out)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->hv = hv;
	h->shm_fd = memfd_create("altview-evtchn", MFD_CLOEXEC);
	h->up_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->down_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (h->shm_fd < 0 || h->up_fd < 0 || h->down_fd < 0 ||
	    ftruncate(h->shm_fd, sizeof(*h->shm)) < 0)
		r = -errno;
	if (r == 0)
		r = evtchn_handle_map(h);
	if (r < 0) {
		evtchn_handle_free(h);
		return r;
	}
	hv_mutex_lock(&hv->evtchn_handles_lock);
	h->next = hv->evtchn_handles;
	hv->evtchn_handles = h;
	hv_mutex_unlock(&hv->evtchn_handles_lock);
	*out = h;
	return 0;
}

bool evtchn_handle_owns(struct hv_evtchn_handle *h, evtchn_port_t port)
{
	struct evtchn *c = evtchn_channel(h->hv->dom0_evtchn, port);
	bool mine = false;

	if (c && evtchn_tryread_lock(c)) {
		mine = c->handle == h && c->state != ECS_FREE;
		evtchn_read_unlock(c);
	}
	return mine;
}

void hv_evtchn_handle_close(struct hv_evtchn_handle *h)
{
	if (!h)
		return;
	if (h->hv) {
		struct hv *hv = h->hv;

		for (evtchn_port_t p = 1; p < HV_EVTCHN_PORTS; p++)
			if (evtchn_channel(hv->dom0_evtchn, p) && evtchn_handle_owns(h, p))
				evtchn_close(hv->dom0_evtchn, p, true);
		hv_mutex_lock(&hv->evtchn_handles_lock);
		for (struct hv_evtchn_handle **ph = &hv->evtchn_handles; *ph; ph = &(*ph)->next)
			if (*ph == h) {
				*ph = h->next;
				break;
			}
		if (h->exported)
			epoll_ctl(hv->evtchn_epoll, EPOLL_CTL_DEL, h->down_fd, NULL);
		hv_mutex_unlock(&hv->evtchn_handles_lock);
	}
	evtchn_handle_free(h);
}

int hv_evtchn_fd(const struct hv_evtchn_handle *h)
{
	return h ? h->up_fd : -EINVAL;
}

int hv_evtchn_bind_interdomain_port(struct hv_evtchn_handle *h, domid_t domid,
				    evtchn_port_t remote_port)
{
	if (!h || !h->hv || domid == HV_DOMID_DOM0)
		return -EINVAL;
	return evtchn_bind_interdomain(h->hv->dom0_evtchn, h->hv, domid, remote_port, h);
}

int hv_evtchn_bind_unbound_port(struct hv_evtchn_handle *h, domid_t domid)
{
	if (!h || !h->hv || domid == HV_DOMID_DOM0)
		return -EINVAL;
	return evtchn_alloc_unbound(h->hv->dom0_evtchn, domid, h, NULL, NULL);
}

int hv_evtchn_unbind(struct hv_evtchn_handle *h, evtchn_port_t port)
{
	if (!h || !h->hv)
		return -EINVAL;
	if (!evtchn_handle_owns(h, port))
		return -ENOENT;
	return evtchn_close(h->hv->dom0_evtchn, port, true);
}

int hv_evtchn_notify(struct hv_evtchn_handle *h, evtchn_port_t port)
{
	if (!h || port >= HV_EVTCHN_PORTS)
		return -EINVAL;
	if (h->hv)
		return evtchn_handle_owns(h, port) ? evtchn_send_port(h->hv->dom0_evtchn, port) : -ENOENT;
	/* From another process: the core's service thread sends for us. */
	atomic_fetch_or(&h->shm->notify[port / 64], UINT64_C(1) << (port % 64));
	evtchn_kick(h->down_fd);
	return 0;
}

int hv_evtchn_pending(struct hv_evtchn_handle *h)
{
	uint64_t drain;
	int found = -EAGAIN;

	if (!h)
		return -EINVAL;
	(void)!read(h->up_fd, &drain, sizeof(drain));
	for (unsigned int w = 0; w < NR_WORDS; w++) {
		uint64_t ready = atomic_load(&h->shm->pending[w]) & ~atomic_load(&h->shm->mask[w]);

		while (ready) {
			uint64_t bit = ready & -ready;

			ready &= ~bit;
			if (found >= 0) {
				evtchn_kick(h->up_fd);         /* more to come: stay readable */
				return found;
			}
			/* Mask first: the port is ours until unmasked (the kernel driver's rule). */
			if (atomic_fetch_or(&h->shm->mask[w], bit) & bit)
				continue;
			atomic_fetch_and(&h->shm->pending[w], ~bit);
			found = (int)(w * 64 + (unsigned int)__builtin_ctzll(bit));
		}
	}
	return found;
}

int hv_evtchn_unmask_port(struct hv_evtchn_handle *h, evtchn_port_t port)
{
	uint64_t bit = UINT64_C(1) << (port % 64);

	if (!h || port >= HV_EVTCHN_PORTS)
		return -EINVAL;
	atomic_fetch_and(&h->shm->mask[port / 64], ~bit);
	/* Fired while masked: say so now, or it would be lost. */
	if (atomic_load(&h->shm->pending[port / 64]) & bit)
		evtchn_kick(h->up_fd);
	return 0;
}
