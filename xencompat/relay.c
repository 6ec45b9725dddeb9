/* SPDX-License-Identifier: MIT */
/*
 * relay.c — Xen's vm_event ring for a Xen tool, fed from a libaltview
 * monitor on any backend.
 *
 * The ring is a page of a memfd: the tool gets a mapping of its own (Xen
 * tools free it with a plain munmap), this side keeps another.  Each
 * synchronous event is put on the ring by the thread that raised it (a
 * libaltview handler: on hv: the vCPU's own), which tells the tool through
 * the port it bound and waits; the tool's notify takes the responses off
 * the ring in the tool's own thread and answers through
 * av_monitor_respond_xen(), which lets the waiting thread go.  Two
 * hand-offs per event, as on Xen (vCPU to tool, tool to vCPU).  A vCPU
 * finding the ring full waits for room, as Xen's vCPUs do.  Asynchronous
 * events go on the ring from a thread of the relay's own.
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
	pthread_t thread;
	bool stopping;
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

/*
 * A synchronous event, on the thread that raised it: on the ring once
 * there is room, then a wait for the tool's answer (or for the ring to go,
 * when the library answers it plainly).
 */
static void on_event(av_monitor *mon, struct av_event *ev, void *ctx)
{
	struct relay *r = ctx;
	const vm_event_request_t *req = av_event_xen_request(ev);

	if (!req || ev->vcpu >= r->nr_vcpus)
		return;
	bool unanswered = true;

	pthread_mutex_lock(&relays_lock);
	while (!r->stopping && RING_FULL(&r->front))
		pthread_cond_wait(&answered, &relays_lock);
	if (!r->stopping) {
		r->held[ev->vcpu] = (struct held){ .valid = true, .ev = *ev };
		put_request(r, req);
		while (!r->stopping && r->held[ev->vcpu].valid)
			pthread_cond_wait(&answered, &relays_lock);
		unanswered = r->held[ev->vcpu].valid;
		r->held[ev->vcpu].valid = false;
	}
	/* The ring is going: no answer will come from it. */
	if (unanswered)
		av_monitor_respond(mon, ev, NULL);
	pthread_mutex_unlock(&relays_lock);
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
	free(r->held);
	free(r);
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
		e = av_monitor_set_handler(r->mon, on_event, r);
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
	sigset_t all, old;
	void *page;
	int e;

	if (!xencompat_hv())
		return -errno;
	/*
	 * Made outside the relays lock: opening the monitor takes the domain's
	 * listener lock, which a vCPU in on_event() holds while it takes ours.
	 */
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
	/* The relay thread must not take the tool's signals. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = -pthread_create(&r->thread, NULL, relay_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e < 0) {
		munmap(page, RING_PAGE);
		relay_free(r);
		return e;
	}
	pthread_mutex_lock(&relays_lock);
	if (find_locked(domid)) {
		/* Another thread enabled it meanwhile: Xen's answer, EBUSY. */
		r->stopping = true;
		pthread_mutex_unlock(&relays_lock);
		eventfd_write(r->wake, 1);
		pthread_join(r->thread, NULL);
		munmap(page, RING_PAGE);
		relay_free(r);
		return -EBUSY;
	}
	r->next = relays;
	relays = r;
	pthread_mutex_unlock(&relays_lock);
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
			r->stopping = true;
			break;
		}
	}
	/* Handlers waiting for room or an answer let their events go. */
	pthread_cond_broadcast(&answered);
	pthread_mutex_unlock(&relays_lock);
	if (!r)
		return -EINVAL;
	eventfd_write(r->wake, 1);
	pthread_join(r->thread, NULL);
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
