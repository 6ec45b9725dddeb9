/* SPDX-License-Identifier: MIT */
/*
 * evtchn.c — event channel handles as libxenevtchn has them: one pollable
 * fd, pending() hands out a fired port masked, unmask() re-arms it.
 *
 * A handle binds two kinds of port.  A vm_event ring's port (relay.c) is
 * this library's own: the relay marks it pending and writes the handle's
 * eventfd.  Any other port is the guest's, bound through libaltview's
 * av_evtchn, opened on first need.  The fd a tool polls is an epoll set of
 * both, readable when either is.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "private.h"

/* Local ports of ring bindings: above any port libaltview hands out. */
#define RING_LOCAL_BASE 0x10000u
#define MAX_RING_BINDINGS 16

struct ring_binding {
	uint32_t domid, remote, local;
	bool pending, masked;
};

struct xencompat_evtchn {
	pthread_mutex_t lock;
	int epfd, efd;
	av_evtchn *real;
	struct ring_binding rings[MAX_RING_BINDINGS];
	size_t nr_rings;
	uint32_t next_local;
};

static int watch(struct xencompat_evtchn *h, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(h->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int xencompat_evtchn_open(struct xencompat_evtchn **out)
{
	struct xencompat_evtchn *h;
	int r;

	if (!xencompat_hv())
		return -errno;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	pthread_mutex_init(&h->lock, NULL);
	h->next_local = RING_LOCAL_BASE;
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r = h->epfd < 0 || h->efd < 0 ? -errno : watch(h, h->efd);
	if (r < 0) {
		xencompat_evtchn_close(h);
		return r;
	}
	*out = h;
	return 0;
}

void xencompat_evtchn_close(struct xencompat_evtchn *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nr_rings; i++)
		relay_detach(h->rings[i].domid, h->rings[i].remote, h);
	if (h->real)
		av_evtchn_close(h->real);
	if (h->epfd >= 0)
		close(h->epfd);
	if (h->efd >= 0)
		close(h->efd);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

int xencompat_evtchn_fd(struct xencompat_evtchn *h)
{
	return h->epfd;
}

/* The guest's own ports go through libaltview, on a handle opened on first need. */
static int real_handle(struct xencompat_evtchn *h, av_evtchn **out)
{
	int r = 0;

	pthread_mutex_lock(&h->lock);
	if (!h->real) {
		r = av_evtchn_open(xencompat_hv(), NULL, &h->real);
		if (r == 0)
			r = watch(h, av_evtchn_fd(h->real));
		if (r < 0 && h->real) {
			av_evtchn_close(h->real);
			h->real = NULL;
		}
	}
	*out = h->real;
	pthread_mutex_unlock(&h->lock);
	return r;
}

static struct ring_binding *ring_of(struct xencompat_evtchn *h, uint32_t local)
{
	for (size_t i = 0; i < h->nr_rings; i++)
		if (h->rings[i].local == local)
			return &h->rings[i];
	return NULL;
}

int xencompat_evtchn_bind_interdomain(struct xencompat_evtchn *h, uint32_t domid, uint32_t remote)
{
	av_evtchn *real;
	uint32_t local;
	int r;

	pthread_mutex_lock(&h->lock);
	local = h->next_local++;
	r = h->nr_rings < MAX_RING_BINDINGS ? 0 : -ENOSPC;
	pthread_mutex_unlock(&h->lock);
	if (r == 0)
		r = relay_attach(domid, remote, h, local);
	if (r == 0) {
		pthread_mutex_lock(&h->lock);
		h->rings[h->nr_rings++] = (struct ring_binding){ .domid = domid, .remote = remote,
								 .local = local };
		pthread_mutex_unlock(&h->lock);
		return (int)local;
	}
	if (r != -ENOENT)
		return r;
	r = real_handle(h, &real);
	return r < 0 ? r : av_evtchn_bind_interdomain(real, domid, remote);
}

int xencompat_evtchn_bind_unbound(struct xencompat_evtchn *h, uint32_t domid)
{
	av_evtchn *real;
	int r = real_handle(h, &real);

	return r < 0 ? r : av_evtchn_bind_unbound_port(real, domid);
}

int xencompat_evtchn_unbind(struct xencompat_evtchn *h, uint32_t port)
{
	struct ring_binding *b, gone = { 0 };
	bool ring = false;

	pthread_mutex_lock(&h->lock);
	b = ring_of(h, port);
	if (b) {
		gone = *b;
		*b = h->rings[--h->nr_rings];
		ring = true;
	}
	pthread_mutex_unlock(&h->lock);
	if (ring) {
		relay_detach(gone.domid, gone.remote, h);
		return 0;
	}
	return h->real ? av_evtchn_unbind(h->real, port) : -ENOENT;
}

int xencompat_evtchn_notify(struct xencompat_evtchn *h, uint32_t port)
{
	struct ring_binding *b;
	uint32_t domid = 0, remote = 0;

	pthread_mutex_lock(&h->lock);
	b = ring_of(h, port);
	if (b) {
		domid = b->domid;
		remote = b->remote;
	}
	pthread_mutex_unlock(&h->lock);
	if (b) {
		relay_kick(domid, remote);
		return 0;
	}
	return h->real ? av_evtchn_notify(h->real, port) : -ENOENT;
}

int xencompat_evtchn_pending(struct xencompat_evtchn *h)
{
	uint64_t drain;
	int port = -EAGAIN, more = 0;

	pthread_mutex_lock(&h->lock);
	(void)!read(h->efd, &drain, sizeof(drain));
	for (size_t i = 0; i < h->nr_rings; i++) {
		struct ring_binding *b = &h->rings[i];

		if (!b->pending || b->masked)
			continue;
		if (port < 0) {
			b->pending = false;
			b->masked = true;   /* until unmasked, as the kernel driver does */
			port = (int)b->local;
		} else {
			more = 1;
		}
	}
	if (more)
		eventfd_write(h->efd, 1);
	pthread_mutex_unlock(&h->lock);
	if (port >= 0 || !h->real)
		return port;
	return av_evtchn_pending(h->real);
}

int xencompat_evtchn_unmask(struct xencompat_evtchn *h, uint32_t port)
{
	struct ring_binding *b;

	pthread_mutex_lock(&h->lock);
	b = ring_of(h, port);
	if (b) {
		b->masked = false;
		/* Fired while masked: say so now, or it would be lost. */
		if (b->pending)
			eventfd_write(h->efd, 1);
	}
	pthread_mutex_unlock(&h->lock);
	if (b)
		return 0;
	return h->real ? av_evtchn_unmask(h->real, port) : -ENOENT;
}

void xencompat_evtchn_fire(struct xencompat_evtchn *h, uint32_t port)
{
	struct ring_binding *b;

	pthread_mutex_lock(&h->lock);
	b = ring_of(h, port);
	if (b) {
		b->pending = true;
		if (!b->masked)
			eventfd_write(h->efd, 1);
	}
	pthread_mutex_unlock(&h->lock);
}
