/* SPDX-License-Identifier: MIT */
/*
 * evtchn.c — event channel handles as libxenevtchn has them: one pollable
 * fd, pending() hands out a fired port masked, unmask() re-arms it.
 *
 * A handle binds two kinds of port.  Ports this library fires itself are
 * local: a vm_event ring's (relay.c) and VIRQ_DOM_EXC (virq.c) are marked
 * pending and the handle's eventfd written.  Any other port is the
 * guest's, bound through libaltview's av_evtchn, opened on first need.
 * The fd a tool polls is an epoll set of both, readable when either is.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <xen/xen.h>

#include "private.h"

/* Local ports: above any port libaltview hands out. */
#define LOCAL_BASE 0x10000u
#define MAX_LOCAL_BINDINGS 16

struct local_binding {
	bool virq;                  /* VIRQ_DOM_EXC; else the ring of (domid, remote) */
	uint32_t domid, remote, local;
	bool pending, masked;
};

struct xencompat_evtchn {
	pthread_mutex_t lock;
	int epfd, efd;
	av_evtchn *real;
	struct local_binding locals[MAX_LOCAL_BINDINGS];
	size_t nr_locals;
	uint32_t next_local;
};

static void local_detach(struct xencompat_evtchn *h, const struct local_binding *b);

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
	h->next_local = LOCAL_BASE;
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
	for (size_t i = 0; i < h->nr_locals; i++)
		local_detach(h, &h->locals[i]);
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

static struct local_binding *local_of(struct xencompat_evtchn *h, uint32_t local)
{
	for (size_t i = 0; i < h->nr_locals; i++)
		if (h->locals[i].local == local)
			return &h->locals[i];
	return NULL;
}

/* A local port's source stops firing it.  Without the handle's lock: sources fire under theirs. */
static void local_detach(struct xencompat_evtchn *h, const struct local_binding *b)
{
	if (b->virq)
		virq_detach(h, b->local);
	else
		relay_detach(b->domid, b->remote, h);
}

/* A new local port (or -ENOSPC), not yet bound to its source. */
static int local_reserve(struct xencompat_evtchn *h, uint32_t *local)
{
	int r = 0;

	pthread_mutex_lock(&h->lock);
	if (h->nr_locals < MAX_LOCAL_BINDINGS)
		*local = h->next_local++;
	else
		r = -ENOSPC;
	pthread_mutex_unlock(&h->lock);
	return r;
}

static void local_add(struct xencompat_evtchn *h, struct local_binding b)
{
	pthread_mutex_lock(&h->lock);
	h->locals[h->nr_locals++] = b;
	pthread_mutex_unlock(&h->lock);
}

int xencompat_evtchn_bind_interdomain(struct xencompat_evtchn *h, uint32_t domid, uint32_t remote)
{
	av_evtchn *real;
	uint32_t local;
	int r;

	r = local_reserve(h, &local);
	if (r == 0)
		r = relay_attach(domid, remote, h, local);
	if (r == 0) {
		local_add(h, (struct local_binding){ .domid = domid, .remote = remote, .local = local });
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

/* Xen's global VIRQ_DOM_EXC only: altview raises no other VIRQ for a tool. */
int xencompat_evtchn_bind_virq(struct xencompat_evtchn *h, unsigned int virq)
{
	uint32_t local;
	int r;

	if (virq >= NR_VIRQS)
		return -EINVAL;
	if (virq != VIRQ_DOM_EXC) {
		xencompat_log("VIRQ %u: altview raises only VIRQ_DOM_EXC (%u)", virq, VIRQ_DOM_EXC);
		return -EOPNOTSUPP;
	}
	r = local_reserve(h, &local);
	if (r == 0)
		r = virq_attach(h, local);
	if (r < 0)
		return r;
	local_add(h, (struct local_binding){ .virq = true, .local = local });
	return (int)local;
}

int xencompat_evtchn_unbind(struct xencompat_evtchn *h, uint32_t port)
{
	struct local_binding *b, gone = { 0 };
	bool local = false;

	pthread_mutex_lock(&h->lock);
	b = local_of(h, port);
	if (b) {
		gone = *b;
		*b = h->locals[--h->nr_locals];
		local = true;
	}
	pthread_mutex_unlock(&h->lock);
	if (local) {
		local_detach(h, &gone);
		return 0;
	}
	return h->real ? av_evtchn_unbind(h->real, port) : -ENOENT;
}

int xencompat_evtchn_notify(struct xencompat_evtchn *h, uint32_t port)
{
	struct local_binding *b;
	uint32_t domid = 0, remote = 0;
	bool ring = false;

	pthread_mutex_lock(&h->lock);
	b = local_of(h, port);
	if (b && !b->virq) {
		domid = b->domid;
		remote = b->remote;
		ring = true;
	}
	pthread_mutex_unlock(&h->lock);
	if (b) {
		/* A VIRQ has no other end to tell, as on Xen. */
		if (ring)
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
	for (size_t i = 0; i < h->nr_locals; i++) {
		struct local_binding *b = &h->locals[i];

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
	struct local_binding *b;

	pthread_mutex_lock(&h->lock);
	b = local_of(h, port);
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
	struct local_binding *b;

	pthread_mutex_lock(&h->lock);
	b = local_of(h, port);
	if (b) {
		b->pending = true;
		if (!b->masked)
			eventfd_write(h->efd, 1);
	}
	pthread_mutex_unlock(&h->lock);
}
