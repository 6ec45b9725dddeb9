/* SPDX-License-Identifier: MIT */
/*
 * relay.c — Xen's vm_event ring for a Xen tool, fed from a libaltview
 * monitor on any backend.
 *
 * The ring is a page of a memfd: the tool gets a mapping of its own (Xen
 * tools free it with a plain munmap), this side keeps another.  A thread
 * per vCPU takes that vCPU's synchronous events (av_monitor_wait), puts
 * each on the ring, tells the tool through the port it bound and sleeps;
 * the tool's notify takes the responses off the ring in the tool's own
 * thread and answers through av_monitor_respond_xen(), which the vCPU,
 * spinning in libaltview's slot, sees at once.  The waiting thread wakes
 * the tool from the CPU it is about to leave to it, and the vCPU never
 * sleeps: on a virtual machine whose idle CPUs halt, no wake-up crosses
 * CPUs (doc/performance.md).  A vCPU finding the ring full waits for room,
 * as Xen's vCPUs do.  Asynchronous events go on the ring from a thread of
 * the relay's own, and before any synchronous event that follows them:
 * Xen keeps a vCPU's requests in order.
 *
 * The page is the tool's to scribble on: this side keeps its own indices
 * and ring size, reads the response producer once and takes it only if it
 * is within a ring of what it consumed, and copies each response before
 * looking at it.  A response for a vCPU with no event on the ring is
 * dropped; one libaltview refuses is replaced by a plain answer, so that
 * no vCPU stays paused because of what a tool wrote.
 *
 * Events are delivered only for the kinds a tool turned on, and none at
 * enable: the tool initialises the ring (SHARED_RING_INIT) after
 * xc_monitor_enable() returns, and a request produced before that would
 * be wiped.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

/* Xen's own on x86-64 (TSO): loads and stores keep their order, the compiler must too. */
#define xen_mb() __asm__ volatile("mfence" ::: "memory")
#define xen_rmb() __asm__ volatile("" ::: "memory")
#define xen_wmb() __asm__ volatile("" ::: "memory")

#include "private.h"

#define RING_PAGE 4096
/* Xen's ring port lies in the guest's table; this one is the same number in each guest. */
#define RING_PORT 0x10000u

struct held {
	bool valid;
	struct av_event ev;
};

static pthread_cond_t answered = PTHREAD_COND_INITIALIZER;     /* a held event went, or room */

struct relay {
	struct relay *next;
	uint32_t domid, port;
	av_domain *dom;
	av_monitor *mon;
	uint32_t nr_vcpus;
	uint32_t kinds;                     /* AV_EVENT_BIT()s turned on */
	int memfd, wake;
	vm_event_sring_t *sring;            /* this side's mapping */
	vm_event_front_ring_t front;        /* private indices and size */
	struct held *held;                  /* per vCPU: the event on the ring awaiting its answer */
	struct xencompat_evtchn *bound;
	uint32_t local;
	pthread_t thread;                   /* asynchronous events, responses nobody notified */
	bool thread_started;
	pthread_t *waiters;                 /* per vCPU: its synchronous events */
	uint32_t nr_waiters;                /* started */
	bool stopping;                      /* written under the relays lock */
};

/* Rings, their bindings, and everything the threads do with them. */
static pthread_mutex_t relays_lock = PTHREAD_MUTEX_INITIALIZER;
static struct relay *relays;

static struct relay *find_locked(uint32_t domid)
{
	for (struct relay *r = relays; r; r = r->next)
		if (r->domid == domid)
			return r;
	return NULL;
}

static void answer_plainly(struct relay *r, struct held *h)
{
	av_monitor_respond(r->mon, &h->ev, NULL);
	h->valid = false;
}

static void take_responses(struct relay *r)
{
	RING_IDX prod = __atomic_load_n(&r->sring->rsp_prod, __ATOMIC_ACQUIRE);

	if (prod - r->front.rsp_cons > RING_SIZE(&r->front))
		return;         /* not a producer index any ring could have: wait for a sane one */
	while (r->front.rsp_cons != prod) {
		vm_event_response_t rsp;
		struct held *h;

		RING_COPY_RESPONSE(&r->front, r->front.rsp_cons, &rsp);
		r->front.rsp_cons++;
		/* Asynchronous events are answered too, with nothing to resume. */
		if (!(rsp.flags & VM_EVENT_FLAG_VCPU_PAUSED))
			continue;
		/* A response for no event on the ring: dropped. */
		if (rsp.vcpu_id >= r->nr_vcpus || !r->held[rsp.vcpu_id].valid)
			continue;
		h = &r->held[rsp.vcpu_id];
		if (av_monitor_respond_xen(r->mon, &h->ev, &rsp, sizeof(rsp)) < 0)
			answer_plainly(r, h);
		h->valid = false;
	}
	r->sring->rsp_event = r->front.rsp_cons + 1;
	pthread_cond_broadcast(&answered);
}

/* Relays lock held, room on the ring: @req on it, and the tool told. */
static void put_request(struct relay *r, const vm_event_request_t *req)
{
	memcpy(RING_GET_REQUEST(&r->front, r->front.req_prod_pvt), req, sizeof(*req));
	r->front.req_prod_pvt++;
	RING_PUSH_REQUESTS(&r->front);
	if (r->bound)
		xencompat_evtchn_fire(r->bound, r->local);
}

/* Asynchronous events onto the ring while it has room. */
static void push_async(struct relay *r)
{
	while (!RING_FULL(&r->front)) {
		struct av_event ev = { .sz = sizeof(ev) };
		const vm_event_request_t *req;

		if (av_monitor_next_async(r->mon, &ev) < 0)
			break;
		req = av_event_xen_request(&ev);
		if (req)
			put_request(r, req);
	}
}

/*
 * A synchronous event, on its vCPU's waiter: on the ring once there is
 * room, after the asynchronous events raised before it (Xen keeps a
 * vCPU's requests in order), then a wait for the tool's answer (or for
 * the ring to go, when it is answered plainly).
 */
static void take_event(struct relay *r, struct av_event *ev)
{
	const vm_event_request_t *req = av_event_xen_request(ev);
	bool unanswered = true;

	pthread_mutex_lock(&relays_lock);
	while (req && !r->stopping) {
		push_async(r);
		if (!RING_FULL(&r->front))
			break;
		pthread_cond_wait(&answered, &relays_lock);
	}
	if (req && !r->stopping) {
		r->held[ev->vcpu] = (struct held){ .valid = true, .ev = *ev };
		put_request(r, req);
		while (!r->stopping && r->held[ev->vcpu].valid)
			pthread_cond_wait(&answered, &relays_lock);
		unanswered = r->held[ev->vcpu].valid;
		r->held[ev->vcpu].valid = false;
	}
	/* The ring is going (or the event has no Xen form): no answer will come from it. */
	if (unanswered)
		av_monitor_respond(r->mon, ev, NULL);
	pthread_mutex_unlock(&relays_lock);
}

struct waiter_arg {
	struct relay *r;
	uint32_t vcpu;
};

static void *waiter_thread(void *arg)
{
	struct waiter_arg a = *(struct waiter_arg *)arg;

	free(arg);
	while (!__atomic_load_n(&a.r->stopping, __ATOMIC_ACQUIRE)) {
		struct av_event ev = { .sz = sizeof(ev) };

		/* Woken now and then to see whether the ring goes. */
		if (av_monitor_wait(a.r->mon, a.vcpu, 100, &ev) == 0)
			take_event(a.r, &ev);
	}
	return NULL;
}

static void *relay_thread(void *arg)
{
	struct relay *r = arg;

	for (;;) {
		struct pollfd p[2] = {
			{ .fd = av_monitor_fd(r->mon), .events = POLLIN },
			{ .fd = r->wake, .events = POLLIN },
		};
		uint64_t drain;
		bool stop;

		/* Answers a tool put on the ring without notifying are taken within 100 ms. */
		poll(p, 2, 100);
		(void)!read(r->wake, &drain, sizeof(drain));
		pthread_mutex_lock(&relays_lock);
		stop = r->stopping;
		if (!stop) {
			/* resume() and a tool that answers without notifying: looked at here too. */
			take_responses(r);
			push_async(r);
		}
		pthread_mutex_unlock(&relays_lock);
		if (stop)
			return NULL;
	}
}

static void relay_free(struct relay *r)
{
	/* Handlers answered what they held when the ring stopped; closing lets the rest go. */
	if (r->mon)
		av_monitor_close(r->mon);
	if (r->sring)
		munmap(r->sring, RING_PAGE);
	if (r->memfd >= 0)
		close(r->memfd);
	if (r->wake >= 0)
		close(r->wake);
	free(r->waiters);
	free(r->held);
	free(r);
}

/* The relay's threads, with none of the tool's signals. */
static int relay_start(struct relay *r)
{
	sigset_t all, old;
	int e;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = -pthread_create(&r->thread, NULL, relay_thread, r);
	r->thread_started = e == 0;
	for (uint32_t v = 0; e == 0 && v < r->nr_vcpus; v++) {
		struct waiter_arg *a = malloc(sizeof(*a));

		if (!a) {
			e = -ENOMEM;
			break;
		}
		*a = (struct waiter_arg){ .r = r, .vcpu = v };
		e = -pthread_create(&r->waiters[v], NULL, waiter_thread, a);
		if (e < 0)
			free(a);
		else
			r->nr_waiters++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
}

/* Threads waiting for room or an answer let their events go; all of them end. */
static void relay_stop(struct relay *r)
{
	pthread_mutex_lock(&relays_lock);
	__atomic_store_n(&r->stopping, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&answered);
	pthread_mutex_unlock(&relays_lock);
	eventfd_write(r->wake, 1);
	if (r->thread_started)
		pthread_join(r->thread, NULL);
	for (uint32_t v = 0; v < r->nr_waiters; v++)
		pthread_join(r->waiters[v], NULL);
}

static int relay_new(uint32_t domid, struct relay **out)
{
	struct relay *r = calloc(1, sizeof(*r));
	struct av_domain_info info;
	int e;

	if (!r)
		return -ENOMEM;
	r->domid = domid;
	r->port = RING_PORT;
	r->memfd = memfd_create("altview-xen-ring", MFD_CLOEXEC);
	r->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->memfd < 0 || r->wake < 0 || ftruncate(r->memfd, RING_PAGE) < 0) {
		e = -errno;
		goto fail;
	}
	r->sring = mmap(NULL, RING_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, 0);
	if (r->sring == MAP_FAILED) {
		r->sring = NULL;
		e = -errno;
		goto fail;
	}
	/* Xen initialises its front end only; the tool's SHARED_RING_INIT follows. */
	SHARED_RING_INIT(r->sring);
	FRONT_RING_INIT(&r->front, r->sring, RING_PAGE);
	e = xencompat_domain_info(domid, &r->dom, &info);
	if (e == 0 && !info.nr_vcpus)
		e = -EINVAL;
	if (e == 0) {
		r->nr_vcpus = info.nr_vcpus;
		r->held = calloc(info.nr_vcpus, sizeof(*r->held));
		e = r->held ? av_monitor_open(r->dom, NULL, &r->mon) : -ENOMEM;
	}
	if (e == 0)
		r->waiters = calloc(info.nr_vcpus, sizeof(*r->waiters));
	if (e == 0 && !r->waiters)
		e = -ENOMEM;
	if (e < 0)
		goto fail;
	*out = r;
	return 0;
fail:
	relay_free(r);
	return e;
}

int xencompat_relay_enable(uint32_t domid, void **ring, uint32_t *port)
{
	struct relay *r = NULL;
	void *page;
	int e;

	if (!xencompat_hv())
		return -errno;
	/* Made outside the relays lock, which the tools' notifies take meanwhile. */
	if (xencompat_relay_active(domid))
		return -EBUSY;
	e = relay_new(domid, &r);
	if (e < 0)
		return e;
	page = mmap(NULL, RING_PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, r->memfd, 0);
	if (page == MAP_FAILED) {
		e = -errno;
		relay_free(r);
		return e;
	}
	e = relay_start(r);
	pthread_mutex_lock(&relays_lock);
	/* Another thread enabled it meanwhile: Xen's answer, EBUSY. */
	if (e == 0 && find_locked(domid))
		e = -EBUSY;
	if (e == 0) {
		r->next = relays;
		relays = r;
	}
	pthread_mutex_unlock(&relays_lock);
	if (e < 0) {
		relay_stop(r);
		munmap(page, RING_PAGE);
		relay_free(r);
		return e;
	}
	*ring = page;
	*port = r->port;
	return 0;
}

int xencompat_relay_disable(uint32_t domid)
{
	struct relay **p, *r = NULL;

	pthread_mutex_lock(&relays_lock);
	for (p = &relays; *p; p = &(*p)->next) {
		if ((*p)->domid == domid) {
			r = *p;
			*p = r->next;
			break;
		}
	}
	pthread_mutex_unlock(&relays_lock);
	if (!r)
		return -EINVAL;
	relay_stop(r);
	relay_free(r);
	return 0;
}

int xencompat_relay_events(uint32_t domid, enum av_event_kind kind, bool on)
{
	struct relay *r;
	uint32_t kinds;
	int e = 0;

	pthread_mutex_lock(&relays_lock);
	r = find_locked(domid);
	if (!r)
		e = -ENODEV;
	else if (!!(r->kinds & AV_EVENT_BIT(kind)) == on)
		e = -EEXIST;
	if (e == 0) {
		kinds = on ? r->kinds | AV_EVENT_BIT(kind) : r->kinds & ~AV_EVENT_BIT(kind);
		e = av_monitor_set_events(r->mon, kinds);
		if (e == 0)
			r->kinds = kinds;
	}
	pthread_mutex_unlock(&relays_lock);
	return e;
}

bool xencompat_relay_active(uint32_t domid)
{
	bool active;

	pthread_mutex_lock(&relays_lock);
	active = find_locked(domid) != NULL;
	pthread_mutex_unlock(&relays_lock);
	return active;
}

int xencompat_relay_resume(uint32_t domid)
{
	struct relay *r;

	pthread_mutex_lock(&relays_lock);
	r = find_locked(domid);
	if (r) {
		take_responses(r);
		push_async(r);
	}
	pthread_mutex_unlock(&relays_lock);
	return r ? 0 : -EINVAL;
}

int relay_attach(uint32_t domid, uint32_t port, struct xencompat_evtchn *h, uint32_t local)
{
	struct relay *r;
	int e = 0;

	pthread_mutex_lock(&relays_lock);
	r = find_locked(domid);
	if (!r || r->port != port)
		e = -ENOENT;
	else if (r->bound && r->bound != h)
		e = -EBUSY;
	else {
		r->bound = h;
		r->local = local;
	}
	pthread_mutex_unlock(&relays_lock);
	return e;
}

void relay_detach(uint32_t domid, uint32_t port, struct xencompat_evtchn *h)
{
	struct relay *r;

	pthread_mutex_lock(&relays_lock);
	r = find_locked(domid);
	if (r && r->port == port && r->bound == h)
		r->bound = NULL;
	pthread_mutex_unlock(&relays_lock);
}

/* In the tool's own thread: no hand-off to a thread of the relay's. */
void relay_kick(uint32_t domid, uint32_t port)
{
	struct relay *r;

	pthread_mutex_lock(&relays_lock);
	r = find_locked(domid);
	if (r && r->port == port) {
		take_responses(r);
		push_async(r);
	}
	pthread_mutex_unlock(&relays_lock);
}
