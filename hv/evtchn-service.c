/* SPDX-License-Identifier: MIT */
/*
 * evtchn-service.c — handles used from another process: an exported
 * handle's memfd and eventfds go to the other side, which asks for
 * notifications by setting bits and writing an eventfd; one service thread
 * per core (epoll) sends them, for the handle's own ports only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evtchn.h"

/* Handles lock held. */
static bool handle_listed(struct hv *hv, const struct hv_evtchn_handle *h)
{
	for (const struct hv_evtchn_handle *i = hv->evtchn_handles; i; i = i->next)
		if (i == h)
			return true;
	return false;
}

static void *service_thread(void *arg)
{
	struct hv *hv = arg;

	for (;;) {
		struct epoll_event ev[16];
		int n = epoll_wait(hv->evtchn_epoll, ev, 16, -1);

		for (int i = 0; i < n; i++) {
			struct hv_evtchn_handle *h = ev[i].data.ptr;
			uint64_t drain;

			if (!h)
				return NULL;            /* the stop eventfd */
			hv_mutex_lock(&hv->evtchn_handles_lock);
			if (!handle_listed(hv, h)) {    /* closed since epoll_wait */
				hv_mutex_unlock(&hv->evtchn_handles_lock);
				continue;
			}
			(void)!read(h->down_fd, &drain, sizeof(drain));
			for (unsigned int w = 0; w < NR_WORDS; w++) {
				uint64_t bits = atomic_exchange(&h->shm->notify[w], 0);

				/* Another process wrote these bits: only its own ports count. */
				for (; bits; bits &= bits - 1) {
					evtchn_port_t p = w * 64 + (unsigned int)__builtin_ctzll(bits);

					if (evtchn_handle_owns(h, p))
						evtchn_send_port(hv->dom0_evtchn, p);
				}
			}
			hv_mutex_unlock(&hv->evtchn_handles_lock);
		}
	}
}

int hv_evtchn_export(struct hv_evtchn_handle *h, struct hv_evtchn_export *ex)
{
	struct hv *hv;
	int r = 0;

	if (!h || !h->hv || !ex)
		return -EINVAL;
	hv = h->hv;
	hv_mutex_lock(&hv->evtchn_handles_lock);
	if (!hv->evtchn_service_started) {
		struct epoll_event stop = { .events = EPOLLIN, .data.ptr = NULL };

		hv->evtchn_epoll = epoll_create1(EPOLL_CLOEXEC);
		hv->evtchn_stop = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (hv->evtchn_epoll < 0 || hv->evtchn_stop < 0 ||
		    epoll_ctl(hv->evtchn_epoll, EPOLL_CTL_ADD, hv->evtchn_stop, &stop) < 0)
			r = -errno;
		if (r == 0)
			r = -pthread_create(&hv->evtchn_service, NULL, service_thread, hv);
		hv->evtchn_service_started = r == 0;
	}
	if (r == 0 && !h->exported) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = h };

		if (epoll_ctl(hv->evtchn_epoll, EPOLL_CTL_ADD, h->down_fd, &ev) < 0)
			r = -errno;
		h->exported = r == 0;
	}
	hv_mutex_unlock(&hv->evtchn_handles_lock);
	if (r == 0)
		*ex = (struct hv_evtchn_export){ .shm_fd = h->shm_fd, .up_fd = h->up_fd,
						 .down_fd = h->down_fd };
	return r;
}

int hv_evtchn_import(const struct hv_evtchn_export *ex, struct hv_evtchn_handle **out)
{
	struct hv_evtchn_handle *h;
	int r;

	if (!ex || !out)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->shm_fd = fcntl(ex->shm_fd, F_DUPFD_CLOEXEC, 0);
	h->up_fd = fcntl(ex->up_fd, F_DUPFD_CLOEXEC, 0);
	h->down_fd = fcntl(ex->down_fd, F_DUPFD_CLOEXEC, 0);
	r = h->shm_fd < 0 || h->up_fd < 0 || h->down_fd < 0 ? -errno : evtchn_handle_map(h);
	if (r < 0) {
		evtchn_handle_free(h);
		return r;
	}
	*out = h;
	return 0;
}

void evtchn_service_stop(struct hv *hv)
{
	if (hv->evtchn_service_started) {
		evtchn_kick(hv->evtchn_stop);
		pthread_join(hv->evtchn_service, NULL);
		hv->evtchn_service_started = false;
	}
	if (hv->evtchn_epoll >= 0)
		close(hv->evtchn_epoll);
	if (hv->evtchn_stop >= 0)
		close(hv->evtchn_stop);
	while (hv->evtchn_handles)
		hv_evtchn_handle_close(hv->evtchn_handles);
}
