/* SPDX-License-Identifier: MIT */
/*
 * Event channels (seed 003).  Each domain, and dom0, has a table of ports in
 * buckets of 64 channels that are allocated on demand and never freed
 * before the table, so a sender can index them without a lock.
 *
 * The per-channel lock is an atomic counter used as a rwlock: a sender or
 * a state query takes it with a *try*-read and, when that fails, drops the
 * event or returns a default; bind and close take it for writing by adding
 * a large increment and waiting for readers to drain.  Dropping is legal
 * only because a writer always starts or ends with the channel free or
 * unbound, where an event has nowhere to go anyway.  Writers of one channel
 * are serialized by the owning tables' event locks (two tables: address
 * order), two channels are write-locked in address order.
 *
 * Delivery goes to one of three places: a port served inside the core
 * (vm_event), a dom0 handle (shared pending/mask bitmaps plus an eventfd,
 * so the consumer may live in another process), or the guest's own
 * pending/mask bitmaps.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evtchn.h"

/* ---- the channel lock ------------------------------------------------------- */

static void ch_write_lock(struct evtchn *c)
{
	unsigned int spins = 0;

	atomic_fetch_add_explicit(&c->lock, WRITE_INC, memory_order_acquire);
	while (atomic_load_explicit(&c->lock, memory_order_acquire) != WRITE_INC)
		if (++spins % 128 == 0)
			sched_yield();      /* a reader may have been preempted */
}

static void ch_write_unlock(struct evtchn *c)
{
	atomic_fetch_sub_explicit(&c->lock, WRITE_INC, memory_order_release);
}

bool evtchn_tryread_lock(struct evtchn *c)
{
	if (atomic_load_explicit(&c->lock, memory_order_relaxed) >= WRITE_INC)
		return false;
	if (atomic_fetch_add_explicit(&c->lock, 1, memory_order_acquire) + 1 < WRITE_INC)
		return true;
	atomic_fetch_sub_explicit(&c->lock, 1, memory_order_relaxed);
	return false;
}

void evtchn_read_unlock(struct evtchn *c)
{
	atomic_fetch_sub_explicit(&c->lock, 1, memory_order_release);
}

static void ch_double_write_lock(struct evtchn *a, struct evtchn *b)
{
	if (a > b) {
		struct evtchn *t = a;

		a = b;
		b = t;
	}
	ch_write_lock(a);
	if (a != b)
		ch_write_lock(b);
}

static void ch_double_write_unlock(struct evtchn *a, struct evtchn *b)
{
	ch_write_unlock(a);
	if (a != b)
		ch_write_unlock(b);
}

/* ---- tables --------------------------------------------------------------------- */

struct evtchn *evtchn_channel(struct evtchn_table *t, evtchn_port_t port)
{
	struct evtchn *b;

	if (port >= HV_EVTCHN_PORTS)
		return NULL;
	b = atomic_load_explicit(&t->buckets[port / BUCKET_PORTS], memory_order_acquire);
	return b ? &b[port % BUCKET_PORTS] : NULL;
}

int evtchn_table_new(struct hv *hv, domid_t id, struct evtchn_table **out)
{
	struct evtchn_table *t = calloc(1, sizeof(*t));
	struct evtchn *b = calloc(BUCKET_PORTS, sizeof(*b));

	if (!t || !b) {
		free(t);
		free(b);
		return -ENOMEM;
	}
	t->hv = hv;
	t->id = id;
	hv_mutex_init(&t->event_lock, HV_LOCK_EVENT, "event");
	b[0].state = ECS_RESERVED;            /* port 0 is never valid, as in Xen */
	atomic_init(&t->buckets[0], b);
	*out = t;
	return 0;
}

void evtchn_table_free(struct evtchn_table *t)
{
	if (!t)
		return;
	for (unsigned int i = 0; i < NR_BUCKETS; i++)
		free(atomic_load(&t->buckets[i]));
	hv_mutex_deinit(&t->event_lock);
	free(t);
}

/* Event lock held. */
static int port_alloc(struct evtchn_table *t)
{
	for (unsigned int i = 0; i < NR_BUCKETS; i++) {
		struct evtchn *b = atomic_load_explicit(&t->buckets[i], memory_order_relaxed);

		if (!b) {
			b = calloc(BUCKET_PORTS, sizeof(*b));
			if (!b)
				return -ENOMEM;
			atomic_store_explicit(&t->buckets[i], b, memory_order_release);
		}
		for (unsigned int j = 0; j < BUCKET_PORTS; j++)
			if (b[j].state == ECS_FREE)
				return (int)(i * BUCKET_PORTS + j);
	}
	return -ENOSPC;
}

/* Write lock held: back to free, with nothing left behind. */
static void ch_reset(struct evtchn_table *t, struct evtchn *c, evtchn_port_t port)
{
	uint64_t bit = UINT64_C(1) << (port % 64);

	c->state = ECS_FREE;
	c->remote = NULL;
	c->handle = NULL;
	c->consumer = NULL;
	c->consumer_ctx = NULL;
	atomic_fetch_and(&t->pending[port / 64], ~bit);
	atomic_fetch_and(&t->mask[port / 64], ~bit);
}

/* ---- delivery -------------------------------------------------------------------- */

void evtchn_kick(int fd)
{
	uint64_t one = 1;

	/* Only EAGAIN (counter full) can fail, and then the fd is readable anyway. */
	(void)!write(fd, &one, sizeof(one));
}

static bool bitmap_set_pending(_Atomic uint64_t *pending, _Atomic uint64_t *mask,
			       evtchn_port_t port)
{
	uint64_t bit = UINT64_C(1) << (port % 64);

	if (atomic_fetch_or(&pending[port / 64], bit) & bit)
		return false;                  /* already pending: nothing new to say */
	return !(atomic_load(&mask[port / 64]) & bit);
}

/* Called with the sending channel read-locked, which keeps @port bound. */
static void deliver(struct evtchn_table *t, evtchn_port_t port)
{
	struct evtchn *c = evtchn_channel(t, port);

	if (c->consumer)
		c->consumer(c->consumer_ctx, port);
	else if (c->handle) {
		if (bitmap_set_pending(c->handle->shm->pending, c->handle->shm->mask, port))
			evtchn_kick(c->handle->up_fd);
	} else {
		bitmap_set_pending(t->pending, t->mask, port);
	}
}

int evtchn_send_port(struct evtchn_table *t, evtchn_port_t port)
{
	struct evtchn *c = evtchn_channel(t, port);
	int r = 0;

	if (!c)
		return -EINVAL;
	if (!evtchn_tryread_lock(c))
		return 0;           /* being bound or closed: the event has no target */
	switch (c->state) {
	case ECS_INTERDOMAIN:
		deliver(c->remote, c->remote_port);
		break;
	case ECS_IPI:
		deliver(t, port);
		break;
	case ECS_UNBOUND:
		break;
	default:
		r = -EINVAL;
	}
	evtchn_read_unlock(c);
	return r;
}

/* ---- binding and closing ------------------------------------------------------------ */

/* Resolves a domid to its table, holding a domain reference in *ref. */
static int table_of(struct hv *hv, domid_t id, struct evtchn_table **t, struct hv_domain **ref)
{
	int r;

	*ref = NULL;
	if (id == HV_DOMID_DOM0) {
		*t = hv->dom0_evtchn;
		return 0;
	}
	r = hv_domain_get(hv, id, ref);
	if (r == 0)
		*t = (*ref)->evtchn;
	return r;
}

int evtchn_alloc_unbound(struct evtchn_table *t, domid_t remote, struct hv_evtchn_handle *h,
			 hv_evtchn_consumer_fn *consumer, void *ctx)
{
	struct evtchn *c;
	int port;

	hv_mutex_lock(&t->event_lock);
	port = port_alloc(t);
	if (port >= 0) {
		c = evtchn_channel(t, (evtchn_port_t)port);
		ch_write_lock(c);
		c->state = ECS_UNBOUND;
		c->remote_dom = remote;
		c->handle = h;
		c->consumer = consumer;
		c->consumer_ctx = ctx;
		ch_write_unlock(c);
	}
	hv_mutex_unlock(&t->event_lock);
	return port;
}

int evtchn_bind_interdomain(struct evtchn_table *lt, struct hv *hv, domid_t remote,
			    evtchn_port_t rport, struct hv_evtchn_handle *h)
{
	struct hv_domain *ref;
	struct evtchn_table *rt;
	struct evtchn *lc, *rc;
	int r, port;

	r = table_of(hv, remote, &rt, &ref);
	if (r < 0)
		return r;
	hv_mutex_lock_pair(&lt->event_lock, &rt->event_lock);
	rc = evtchn_channel(rt, rport);
	if (!rc)
		r = -EINVAL;
	else if (rc->state != ECS_UNBOUND || rc->remote_dom != lt->id)
		r = -EINVAL;
	else if ((port = port_alloc(lt)) < 0)
		r = port;
	if (r == 0) {
		lc = evtchn_channel(lt, (evtchn_port_t)port);
		ch_double_write_lock(lc, rc);
		lc->state = ECS_INTERDOMAIN;
		lc->remote = rt;
		lc->remote_port = rport;
		lc->handle = h;
		rc->state = ECS_INTERDOMAIN;
		rc->remote = lt;
		rc->remote_port = (evtchn_port_t)port;
		ch_double_write_unlock(lc, rc);
		r = port;
	}
	hv_mutex_unlock_pair(&lt->event_lock, &rt->event_lock);
	hv_domain_put(ref);
	return r;
}

/*
 * Closes @port; an interdomain peer goes back to unbound, waiting for us
 * again, as Xen's evtchn_close leaves it.  For that both tables' event
 * locks are needed in address order, so ours is dropped and both retaken,
 * holding a reference on the peer's domain meanwhile.  A peer that is being
 * destroyed closes its side itself; we only wait for that.
 */
int evtchn_close(struct evtchn_table *t, evtchn_port_t port, bool allow_consumer)
{
	for (;;) {
		struct evtchn_table *rt;
		struct hv_domain *ref;
		struct evtchn *c, *rc;
		domid_t rid;

		hv_mutex_lock(&t->event_lock);
		c = evtchn_channel(t, port);
		if (!c || c->state == ECS_FREE || c->state == ECS_RESERVED) {
			hv_mutex_unlock(&t->event_lock);
			return -EINVAL;
		}
		if (c->consumer && !allow_consumer) {
			hv_mutex_unlock(&t->event_lock);
			return -EBUSY;      /* the core serves this port (vm_event) */
		}
		if (c->state != ECS_INTERDOMAIN) {
			if (c->state == ECS_VIRQ)
				t->virq_port[c->virq] = 0;
			ch_write_lock(c);
			ch_reset(t, c, port);
			ch_write_unlock(c);
			hv_mutex_unlock(&t->event_lock);
			return 0;
		}
		rid = c->remote->id;
		hv_mutex_unlock(&t->event_lock);
		if (table_of(t->hv, rid, &rt, &ref) < 0) {
			sched_yield();
			continue;
		}
		hv_mutex_lock_pair(&t->event_lock, &rt->event_lock);
		if (c->state == ECS_INTERDOMAIN && c->remote == rt) {
			rc = evtchn_channel(rt, c->remote_port);
			ch_double_write_lock(c, rc);
			rc->state = ECS_UNBOUND;
			rc->remote_dom = t->id;
			rc->remote = NULL;
			ch_reset(t, c, port);
			ch_double_write_unlock(c, rc);
			hv_mutex_unlock_pair(&t->event_lock, &rt->event_lock);
			hv_domain_put(ref);
			return 0;
		}
		/* Changed while unlocked (the peer closed first): look again. */
		hv_mutex_unlock_pair(&t->event_lock, &rt->event_lock);
		hv_domain_put(ref);
	}
}

int evtchn_close_port(struct evtchn_table *t, evtchn_port_t port)
{
	return evtchn_close(t, port, true);
}

/* Every port of a table, at domain destroy: peers become unbound. */
void evtchn_table_close_all(struct evtchn_table *t)
{
	for (evtchn_port_t p = 1; p < HV_EVTCHN_PORTS; p++) {
		struct evtchn *c = evtchn_channel(t, p);

		if (!c) {
			p |= BUCKET_PORTS - 1;     /* the rest of this bucket does not exist */
			continue;
		}
		if (c->state != ECS_FREE && c->state != ECS_RESERVED)
			evtchn_close(t, p, true);
	}
}

/* ---- guest-side operations --------------------------------------------------------------- */

int hv_evtchn_alloc_unbound(struct hv_domain *d, domid_t remote)
{
	if (!d)
		return -EINVAL;
	return evtchn_alloc_unbound(d->evtchn, remote, NULL, NULL, NULL);
}

int hv_evtchn_bind_interdomain(struct hv_domain *d, domid_t remote, evtchn_port_t remote_port)
{
	if (!d || remote == d->id)
		return -EINVAL;
	return evtchn_bind_interdomain(d->evtchn, d->hv, remote, remote_port, NULL);
}

static int bind_local(struct hv_domain *d, enum ecs state, uint32_t virq, unsigned int vcpu)
{
	struct evtchn_table *t = d->evtchn;
	int port;

	hv_mutex_lock(&t->event_lock);
	if (state == ECS_VIRQ && t->virq_port[virq]) {
		hv_mutex_unlock(&t->event_lock);
		return -EEXIST;
	}
	port = port_alloc(t);
	if (port >= 0) {
		struct evtchn *c = evtchn_channel(t, (evtchn_port_t)port);

		ch_write_lock(c);
		c->state = (uint8_t)state;
		c->virq = virq;
		c->notify_vcpu = vcpu;
		ch_write_unlock(c);
		if (state == ECS_VIRQ)
			t->virq_port[virq] = (evtchn_port_t)port;
	}
	hv_mutex_unlock(&t->event_lock);
	return port;
}

int hv_evtchn_bind_virq(struct hv_domain *d, uint32_t virq, unsigned int vcpu)
{
	if (!d || virq >= NR_VIRQS || vcpu >= d->nr_vcpus)
		return -EINVAL;
	return bind_local(d, ECS_VIRQ, virq, vcpu);
}

int hv_evtchn_bind_ipi(struct hv_domain *d, unsigned int vcpu)
{
	if (!d || vcpu >= d->nr_vcpus)
		return -EINVAL;
	return bind_local(d, ECS_IPI, 0, vcpu);
}

int hv_evtchn_send(struct hv_domain *d, evtchn_port_t port)
{
	return d ? evtchn_send_port(d->evtchn, port) : -EINVAL;
}

int hv_evtchn_close(struct hv_domain *d, evtchn_port_t port)
{
	return d ? evtchn_close(d->evtchn, port, false) : -EINVAL;
}

int hv_evtchn_raise_virq(struct hv_domain *d, uint32_t virq)
{
	struct evtchn *c;
	evtchn_port_t port;

	if (!d || virq >= NR_VIRQS)
		return -EINVAL;
	hv_mutex_lock(&d->evtchn->event_lock);
	port = d->evtchn->virq_port[virq];
	hv_mutex_unlock(&d->evtchn->event_lock);
	c = evtchn_channel(d->evtchn, port);
	if (!port || !c)
		return -ENOENT;
	if (evtchn_tryread_lock(c)) {
		if (c->state == ECS_VIRQ && c->virq == virq)
			deliver(d->evtchn, port);
		evtchn_read_unlock(c);
	}
	return 0;
}

static int guest_bit(struct hv_domain *d, evtchn_port_t port, bool mask, bool set)
{
	struct evtchn *c;
	uint64_t bit = UINT64_C(1) << (port % 64);
	int r = -EINVAL;

	if (!d || !(c = evtchn_channel(d->evtchn, port)))
		return -EINVAL;
	if (!evtchn_tryread_lock(c))
		return -EAGAIN;
	if (c->state != ECS_FREE && c->state != ECS_RESERVED) {
		_Atomic uint64_t *w = (mask ? d->evtchn->mask : d->evtchn->pending) + port / 64;

		r = !!((set ? atomic_fetch_or(w, bit) : atomic_fetch_and(w, ~bit)) & bit);
	}
	evtchn_read_unlock(c);
	return r;
}

int hv_evtchn_mask(struct hv_domain *d, evtchn_port_t port)
{
	int r = guest_bit(d, port, true, true);

	return r < 0 ? r : 0;
}

int hv_evtchn_unmask(struct hv_domain *d, evtchn_port_t port)
{
	int r = guest_bit(d, port, true, false);

	return r < 0 ? r : 0;
}

int hv_evtchn_test_and_clear(struct hv_domain *d, evtchn_port_t port)
{
	return guest_bit(d, port, false, false);
}

int hv_evtchn_status(struct hv_domain *d, evtchn_port_t port, struct evtchn_status *st)
{
	struct evtchn *c;

	if (!d || !st || !(c = evtchn_channel(d->evtchn, port)))
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->dom = d->id;
	st->port = port;
	/* A channel being changed reads as closed: the seed's default. */
	st->status = EVTCHNSTAT_closed;
	if (!evtchn_tryread_lock(c))
		return 0;
	st->vcpu = c->notify_vcpu;
	switch (c->state) {
	case ECS_UNBOUND:
		st->status = EVTCHNSTAT_unbound;
		st->u.unbound.dom = c->remote_dom;
		break;
	case ECS_INTERDOMAIN:
		st->status = EVTCHNSTAT_interdomain;
		st->u.interdomain.dom = c->remote->id;
		st->u.interdomain.port = c->remote_port;
		break;
	case ECS_VIRQ:
		st->status = EVTCHNSTAT_virq;
		st->u.virq = c->virq;
		break;
	case ECS_IPI:
		st->status = EVTCHNSTAT_ipi;
		break;
	default:
		break;
	}
	evtchn_read_unlock(c);
	return 0;
}
