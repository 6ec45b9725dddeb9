/* SPDX-License-Identifier: MIT */
/*
 * backend-xen-monitor.c — Xen's vm_event ring as a libaltview monitor:
 * one ring page per domain, the port bound with libxenevtchn.
 *
 * Xen has one ring where altview has a slot per vCPU, so the ring is
 * sorted here: whichever thread finds it has requests (av_monitor_next,
 * a thread per vCPU in av_monitor_wait, a handler thread) takes them all,
 * each synchronous one into its vCPU's place, each asynchronous one into
 * a queue (answered at once: on Xen every request's slot is freed by an
 * answer).  A vCPU has at most one synchronous request out, since it
 * waits for the answer, so per-vCPU order holds and one slow consumer
 * never keeps the ring from the others.  One thread at a time waits on
 * the port; the others wait to be told.
 *
 * The ring is written by the hypervisor, which this side trusts no more
 * than any other party: the request producer is read once and taken only
 * if it is within a ring of what was consumed (else the ring goes back to
 * Xen, so that no vCPU waits on it for ever), each request is copied
 * before it is looked at, and one of another interface version or for a
 * vCPU the domain lacks is dropped with a log line (answered, so that no
 * vCPU of Xen's stays paused on it, if it names one).
 *
 * Where libaltview's semantics differ from Xen's the answer is adjusted
 * so that a tool written for hv: behaves the same here: a CPUID or
 * breakpoint event answered without registers continues after the
 * instruction (Xen would run it again), and a denied write is Xen's
 * EMULATE|EMULATE_NOWRITE (Xen's DENY is for control-register writes).
 */
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "backend-xen.h"

#define ASYNC_QUEUE 64
/* Waits are cut into slices this long: a closing monitor is noticed within one. */
#define WAIT_SLICE_MS 50

enum vcpu_place { PLACE_EMPTY, PLACE_QUEUED, PLACE_TAKEN };

struct xen_monitor {
	xenevtchn_handle *xce;
	evtchn_port_t local;
	vm_event_sring_t *sring;
	pthread_mutex_t lock;               /* everything below */
	pthread_cond_t sorted;              /* the ring was sorted, or the monitor closes */
	vm_event_back_ring_t back;
	uint32_t reasons;                   /* VM_EVENT_REASON_ bits turned on */
	uint32_t nr_vcpus;
	vm_event_request_t *held;           /* per vCPU: its synchronous request */
	enum vcpu_place *place;             /* ... waiting to be taken, or taken and unanswered */
	uint32_t next_vcpu;                 /* where next() looks first: no vCPU starves */
	vm_event_request_t async[ASYNC_QUEUE];
	uint32_t async_head, async_count;
	uint64_t async_dropped;
	int error;                          /* the ring went mad: every taker hears it */
	bool ring_only;                     /* AV_TRANSPORT_RING asked: next() only, as on hv: */
	bool polling;                       /* a thread waits on the port ... */
	int wake;                           /* ... and this, written when another sorted the ring */
	bool stopping;
	bool given_back;                    /* the ring went mad and Xen has it back */
	pthread_t *handlers;
	uint32_t nr_handlers;
};

static struct xen_monitor *xmon_of(struct av_monitor *mon)
{
	return mon->be;
}

static void xmon_free(struct av_monitor *mon, struct xen_monitor *m)
{
	xc_interface *xch = xen_of(mon->dom->hv)->xch;

	if (m->sring) {
		munmap(m->sring, XC_PAGE_SIZE);
		if (!m->given_back && xc_monitor_disable(xch, mon->dom->id) < 0)
			xen_fail(mon->dom->hv, -1, "xc_monitor_disable");
	}
	if (m->xce) {
		if (m->local)
			xenevtchn_unbind(m->xce, m->local);
		xenevtchn_close(m->xce);
	}
	if (m->wake >= 0)
		close(m->wake);
	pthread_cond_destroy(&m->sorted);
	pthread_mutex_destroy(&m->lock);
	free(m->held);
	free(m->place);
	free(m);
}

int xen_monitor_open(struct av_monitor *mon, const struct av_monitor_opts *opts)
{
	struct av_hv *hv = mon->dom->hv;
	struct xen_monitor *m = calloc(1, sizeof(*m));
	uint32_t port;
	int local;

	if (!m)
		return -ENOMEM;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->sorted, NULL);
	m->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->wake < 0) {
		int r = -errno;

		xmon_free(mon, m);
		return r;
	}
	m->nr_vcpus = mon->dom->nr_vcpus;
	m->held = calloc(m->nr_vcpus, sizeof(*m->held));
	m->place = calloc(m->nr_vcpus, sizeof(*m->place));
	if (!m->held || !m->place) {
		xmon_free(mon, m);
		return -ENOMEM;
	}
	errno = 0;
	m->sring = xc_monitor_enable(xen_of(hv)->xch, mon->dom->id, &port);
	if (!m->sring) {
		int r = xen_fail(hv, -1, "xc_monitor_enable (Xen allows one monitor per domain; "
				 "altviewd shares it among clients)");

		xmon_free(mon, m);
		return r;
	}
	m->xce = xenevtchn_open(NULL, 0);
	local = m->xce ? xenevtchn_bind_interdomain(m->xce, mon->dom->id, port) : -1;
	if (local < 0) {
		int r = xen_fail(hv, -1, "binding the ring's event channel");

		xmon_free(mon, m);
		return r;
	}
	m->local = (evtchn_port_t)local;
	m->ring_only = opts->transport == AV_TRANSPORT_RING;
	SHARED_RING_INIT(m->sring);
	BACK_RING_INIT(&m->back, m->sring, XC_PAGE_SIZE);
	mon->be = m;
	return 0;
}

/* Lock held: @rsp onto the ring, not yet published. */
static void queue_response_locked(struct xen_monitor *m, const vm_event_response_t *rsp)
{
	memcpy(RING_GET_RESPONSE(&m->back, m->back.rsp_prod_pvt), rsp, sizeof(*rsp));
	m->back.rsp_prod_pvt++;
}

/* Lock held: the responses queued published, and Xen told once (a hypercall on Xen). */
static void push_responses_locked(struct xen_monitor *m)
{
	RING_PUSH_RESPONSES(&m->back);
	xenevtchn_notify(m->xce, m->local);
}


static void handlers_stop(struct xen_monitor *m)
{
	pthread_mutex_lock(&m->lock);
	m->stopping = true;
	pthread_cond_broadcast(&m->sorted);
	pthread_mutex_unlock(&m->lock);
	for (uint32_t v = 0; v < m->nr_handlers; v++)
		pthread_join(m->handlers[v], NULL);
	free(m->handlers);
	m->handlers = NULL;
	m->nr_handlers = 0;
}

void xen_monitor_close(struct av_monitor *mon)
{
	struct xen_monitor *m = xmon_of(mon);
	bool let_go = false;

	handlers_stop(m);
	/* Xen will not disable a ring vCPUs wait on: each is let go first. */
	pthread_mutex_lock(&m->lock);
	for (uint32_t v = 0; v < m->nr_vcpus; v++) {
		if (m->place[v] == PLACE_EMPTY)
			continue;
		queue_response_locked(m, &(vm_event_response_t){ .version = VM_EVENT_INTERFACE_VERSION,
								 .vcpu_id = v, .reason = m->held[v].reason,
								 .flags = VM_EVENT_FLAG_VCPU_PAUSED });
		m->place[v] = PLACE_EMPTY;
		let_go = true;
	}
	if (let_go)
		push_responses_locked(m);
	pthread_mutex_unlock(&m->lock);
	xmon_free(mon, m);
}

static const struct {
	uint32_t reason;
	int (*set)(xc_interface *xch, uint32_t domid, bool enable);
} switches[] = {
	{ VM_EVENT_REASON_SOFTWARE_BREAKPOINT, xc_monitor_software_breakpoint },
	{ VM_EVENT_REASON_SINGLESTEP, xc_monitor_singlestep },
	{ VM_EVENT_REASON_CPUID, xc_monitor_cpuid },
};

/* Memory access needs no switch on Xen: its events come once access is restricted. */
int xen_monitor_set_reasons(struct av_monitor *mon, uint32_t reasons)
{
	struct xen_monitor *m = xmon_of(mon);
	xc_interface *xch = xen_of(mon->dom->hv)->xch;
	uint32_t changed = reasons ^ m->reasons;
	int r;

	for (size_t i = 0; i < sizeof(switches) / sizeof(switches[0]); i++) {
		uint32_t bit = 1u << switches[i].reason;

		if (!(changed & bit))
			continue;
		errno = 0;
		r = switches[i].set(xch, mon->dom->id, reasons & bit);
		if (r < 0 && errno != EEXIST)
			return xen_fail(mon->dom->hv, r, "turning a monitor event on or off");
		m->reasons ^= bit;
	}
	if (changed & (1u << VM_EVENT_REASON_GUEST_REQUEST)) {
		bool on = reasons & (1u << VM_EVENT_REASON_GUEST_REQUEST);

		errno = 0;
		/* Synchronous, and from the guest's user space too, as altview raises it. */
		r = xc_monitor_guest_request(xch, mon->dom->id, on, true, true);
		if (r < 0 && errno != EEXIST)
			return xen_fail(mon->dom->hv, r, "xc_monitor_guest_request");
		m->reasons ^= 1u << VM_EVENT_REASON_GUEST_REQUEST;
	}
	m->reasons = (m->reasons & ~(1u << VM_EVENT_REASON_MEM_ACCESS)) |
		     (reasons & (1u << VM_EVENT_REASON_MEM_ACCESS));
	return 0;
}

int xen_monitor_fd(struct av_monitor *mon)
{
	return xenevtchn_fd(xmon_of(mon)->xce);
}

/* The port's notification, if one came, taken and the port re-armed: without blocking. */
static int drain_port(struct av_monitor *mon, struct xen_monitor *m)
{
	int port = xen_pending_nowait(m->xce);

	if (port == -EAGAIN)
		return 0;
	if (port < 0)
		return xen_fail(mon->dom->hv, (errno = -port, -1), "xenevtchn_pending");
	if (xenevtchn_unmask(m->xce, (evtchn_port_t)port) < 0)
		return xen_fail(mon->dom->hv, -1, "xenevtchn_unmask");
	return 0;
}

/* Lock held: @req dropped, its slot freed, and a vCPU it names let go if no other request holds it. */
static void drop_locked(struct av_monitor *mon, struct xen_monitor *m, const vm_event_request_t *req)
{
	bool known = req->vcpu_id < m->nr_vcpus;

	av_log(mon->dom->hv, AV_LOG_WARNING, "xen: domain %u's ring: a request of version %u for "
	       "vCPU %u dropped", mon->dom->id, req->version, req->vcpu_id);
	queue_response_locked(m, &(vm_event_response_t){
		.version = VM_EVENT_INTERFACE_VERSION, .vcpu_id = req->vcpu_id,
		.flags = known && m->place[req->vcpu_id] == PLACE_EMPTY ?
			 req->flags & VM_EVENT_FLAG_VCPU_PAUSED : 0 });
}

/*
 * Lock held: the ring's indexes jumped, so nothing on it can be believed,
 * and no answer written to it would be either.  Xen gets the ring back:
 * disabling the monitor lets every vCPU that waits on it go, and the guest
 * runs on unmonitored, while the monitor says -EPROTO until it is closed.
 */
static void give_back_locked(struct av_monitor *mon, struct xen_monitor *m)
{
	m->error = -EPROTO;
	m->given_back = true;
	for (uint32_t v = 0; v < m->nr_vcpus; v++)
		m->place[v] = PLACE_EMPTY;
	m->async_count = 0;
	if (xc_monitor_disable(xen_of(mon->dom->hv)->xch, mon->dom->id) < 0)
		xen_fail(mon->dom->hv, -1, "xc_monitor_disable, giving the ring back");
	else
		av_log(mon->dom->hv, AV_LOG_WARNING, "xen: domain %u's ring given back to Xen: the "
		       "guest runs on unmonitored", mon->dom->id);
	pthread_cond_broadcast(&m->sorted);
}

/*
 * Lock held: every request on the ring sorted into its place.  The
 * producer index is read once and taken only if it is within a ring of
 * what was consumed; each request is copied before it is looked at.
 */
static void sort_ring_locked(struct av_monitor *mon, struct xen_monitor *m)
{
	RING_IDX prod = __atomic_load_n(&m->sring->req_prod, __ATOMIC_ACQUIRE);
	RING_IDX answered = m->back.rsp_prod_pvt;
	bool any = false;

	if (m->error)
		return;
	if (prod - m->back.req_cons > RING_SIZE(&m->back)) {
		av_log(mon->dom->hv, AV_LOG_WARNING, "xen: domain %u's ring: request index %u, %u "
		       "consumed: not a ring's", mon->dom->id, prod, m->back.req_cons);
		give_back_locked(mon, m);
		return;
	}
	while (m->back.req_cons != prod) {
		vm_event_request_t req;
		bool sync;

		RING_COPY_REQUEST(&m->back, m->back.req_cons, &req);
		m->back.req_cons++;
		sync = req.flags & VM_EVENT_FLAG_VCPU_PAUSED;
		if (req.version != VM_EVENT_INTERFACE_VERSION || req.vcpu_id >= m->nr_vcpus ||
		    (sync && m->place[req.vcpu_id] != PLACE_EMPTY)) {
			drop_locked(mon, m, &req);
			continue;
		}
		any = true;
		if (sync) {
			m->held[req.vcpu_id] = req;
			m->place[req.vcpu_id] = PLACE_QUEUED;
			continue;
		}
		/* Every request's slot is freed by an answer, Xen's protocol. */
		queue_response_locked(m, &(vm_event_response_t){ .version = VM_EVENT_INTERFACE_VERSION,
								 .vcpu_id = req.vcpu_id,
								 .reason = req.reason });
		if (m->async_count == ASYNC_QUEUE) {
			m->async_dropped++;
			continue;
		}
		m->async[(m->async_head + m->async_count++) % ASYNC_QUEUE] = req;
	}
	m->sring->req_event = m->back.req_cons + 1;
	/* The slots of dropped and asynchronous requests back to Xen, one notify for all. */
	if (m->back.rsp_prod_pvt != answered)
		push_responses_locked(m);
	if (!any)
		return;
	pthread_cond_broadcast(&m->sorted);
	/* The port's notification may be gone to this thread: the poller would sleep on. */
	if (m->polling)
		eventfd_write(m->wake, 1);
}

/* Lock held: @vcpu's queued request handed out. */
static void take_locked(struct xen_monitor *m, uint32_t vcpu, vm_event_request_t *req)
{
	*req = m->held[vcpu];
	m->place[vcpu] = PLACE_TAKEN;
}

/* Lock held: the oldest asynchronous request, or -EAGAIN. */
static int pop_async_locked(struct xen_monitor *m, vm_event_request_t *req)
{
	if (!m->async_count)
		return -EAGAIN;
	*req = m->async[m->async_head];
	m->async_head = (m->async_head + 1) % ASYNC_QUEUE;
	m->async_count--;
	return 0;
}

int xen_monitor_next(struct av_monitor *mon, vm_event_request_t *req)
{
	struct xen_monitor *m = xmon_of(mon);
	int r = drain_port(mon, m);

	if (r < 0)
		return r;
	pthread_mutex_lock(&m->lock);
	sort_ring_locked(mon, m);
	r = m->error ? m->error : -EAGAIN;
	for (uint32_t i = 0; r == -EAGAIN && i < m->nr_vcpus; i++) {
		uint32_t v = (m->next_vcpu + i) % m->nr_vcpus;

		if (m->place[v] == PLACE_QUEUED) {
			take_locked(m, v, req);
			m->next_vcpu = v + 1;
			r = 0;
		}
	}
	if (r == -EAGAIN)
		r = pop_async_locked(m, req);
	pthread_mutex_unlock(&m->lock);
	return r;
}

static int ring_only(struct av_monitor *mon, const char *what)
{
	av_err(mon->dom->hv, "%s: a ring monitor's events are taken with av_monitor_next()", what);
	return -EOPNOTSUPP;
}

int xen_monitor_next_async(struct av_monitor *mon, vm_event_request_t *req)
{
	struct xen_monitor *m = xmon_of(mon);
	int r;

	if (m->ring_only)
		return ring_only(mon, "av_monitor_next_async");
	r = drain_port(mon, m);
	if (r < 0)
		return r;
	pthread_mutex_lock(&m->lock);
	sort_ring_locked(mon, m);
	r = m->error ? m->error : -EAGAIN;
	if (r == -EAGAIN)
		r = pop_async_locked(m, req);
	pthread_mutex_unlock(&m->lock);
	return r;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Lock held: until @vcpu has a request (then 0: one still unanswered is
 * the same one again, as a vCPU's slot holds it), @deadline passes
 * (-ETIMEDOUT), the ring goes mad or the monitor closes.  One waiter at a
 * time polls the port, with the lock let go; the rest sleep until it has
 * sorted what came.
 */
static int wait_queued_locked(struct av_monitor *mon, struct xen_monitor *m, uint32_t vcpu,
			      int64_t deadline)
{
	for (;;) {
		int64_t left;

		sort_ring_locked(mon, m);
		if (m->place[vcpu] != PLACE_EMPTY)
			return 0;
		if (m->error)
			return m->error;
		if (m->stopping)
			return -ECANCELED;
		left = deadline - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		if (left > WAIT_SLICE_MS)
			left = WAIT_SLICE_MS;
		if (!m->polling) {
			struct pollfd p[2] = { { .fd = xenevtchn_fd(m->xce), .events = POLLIN },
					       { .fd = m->wake, .events = POLLIN } };
			uint64_t drain;
			int r;

			m->polling = true;
			pthread_mutex_unlock(&m->lock);
			poll(p, 2, (int)left);
			(void)!read(m->wake, &drain, sizeof(drain));
			r = drain_port(mon, m);
			pthread_mutex_lock(&m->lock);
			m->polling = false;
			/* Another waiter takes over the port. */
			pthread_cond_broadcast(&m->sorted);
			if (r < 0 && !m->error)
				m->error = r;
		} else {
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += left * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&m->sorted, &m->lock, &until);
		}
	}
}

int xen_monitor_wait(struct av_monitor *mon, uint32_t vcpu, int timeout_ms, vm_event_request_t *req)
{
	struct xen_monitor *m = xmon_of(mon);
	int r;

	if (m->ring_only)
		return ring_only(mon, "av_monitor_wait");
	pthread_mutex_lock(&m->lock);
	r = wait_queued_locked(mon, m, vcpu, now_ms() + timeout_ms);
	if (r == 0)
		take_locked(m, vcpu, req);
	pthread_mutex_unlock(&m->lock);
	return r == -ECANCELED ? -ETIMEDOUT : r;
}

/* A thread per vCPU in this process, as through altviewd: Xen raises events in the hypervisor. */
static void handler_loop(struct av_monitor *mon, uint32_t vcpu)
{
	struct xen_monitor *m = xmon_of(mon);
	int r;

	for (;;) {
		pthread_mutex_lock(&m->lock);
		r = wait_queued_locked(mon, m, vcpu, now_ms() + WAIT_SLICE_MS);
		pthread_mutex_unlock(&m->lock);
		if (r == -ECANCELED || (r < 0 && r != -ETIMEDOUT))
			return;
		/* Takes the vCPU's request, calls the handler, answers if it did not. */
		if (r == 0)
			monitor_handle(mon, vcpu);
	}
}

int xen_monitor_set_handler(struct av_monitor *mon)
{
	struct xen_monitor *m = xmon_of(mon);
	int r;

	if (m->ring_only)
		return ring_only(mon, "av_monitor_set_handler");
	r = monitor_threads_start(mon, handler_loop, &m->handlers, &m->nr_handlers);
	if (r < 0)
		handlers_stop(m);
	return r;
}

/* libaltview's meaning of an answer, in Xen's terms (see the top of the file). */
static void adjust(const vm_event_request_t *req, vm_event_response_t *rsp)
{
	uint32_t len = 0;

	if ((rsp->flags & VM_EVENT_FLAG_DENY) && req->reason == VM_EVENT_REASON_MEM_ACCESS)
		rsp->flags = (rsp->flags & ~VM_EVENT_FLAG_DENY) | VM_EVENT_FLAG_EMULATE |
			     VM_EVENT_FLAG_EMULATE_NOWRITE;
	if (req->reason == VM_EVENT_REASON_CPUID)
		len = req->u.cpuid.insn_length;
	else if (req->reason == VM_EVENT_REASON_SOFTWARE_BREAKPOINT)
		len = req->u.software_breakpoint.insn_length;
	if (len && !(rsp->flags & VM_EVENT_FLAG_SET_REGISTERS)) {
		rsp->data.regs.x86 = req->data.regs.x86;
		rsp->data.regs.x86.rip += len;
		rsp->flags |= VM_EVENT_FLAG_SET_REGISTERS;
	}
}

/* Xen has no call to ask whether a view exists; asking a gfn's access in it tells. */
static bool view_exists(struct av_monitor *mon, uint16_t view)
{
	xenmem_access_t a;

	return view == 0 ||
	       xc_altp2m_get_mem_access(xen_of(mon->dom->hv)->xch, mon->dom->id, view, 0, &a) == 0;
}

int xen_monitor_respond(struct av_monitor *mon, const vm_event_response_t *in)
{
	struct xen_monitor *m = xmon_of(mon);
	vm_event_response_t rsp = *in;
	int missing = -1;

	/* Xen would let the vCPU go in its old view, silently: a view that is not there is refused here, as on hv:. */
	if ((rsp.flags & VM_EVENT_FLAG_ALTERNATE_P2M) && !view_exists(mon, rsp.altp2m_idx))
		missing = rsp.altp2m_idx;
	else if ((rsp.flags & VM_EVENT_FLAG_FAST_SINGLESTEP) &&
		 !view_exists(mon, rsp.u.fast_singlestep.p2midx))
		missing = rsp.u.fast_singlestep.p2midx;
	if (missing >= 0) {
		av_err(mon->dom->hv, "av_monitor_respond: domain %u has no view %d", mon->dom->id,
		       missing);
		return -EINVAL;
	}

	pthread_mutex_lock(&m->lock);
	if (rsp.vcpu_id >= m->nr_vcpus || m->place[rsp.vcpu_id] != PLACE_TAKEN) {
		pthread_mutex_unlock(&m->lock);
		av_err(mon->dom->hv, "xen: no event of vCPU %u waits for an answer", rsp.vcpu_id);
		return -ENOENT;
	}
	adjust(&m->held[rsp.vcpu_id], &rsp);
	m->place[rsp.vcpu_id] = PLACE_EMPTY;
	queue_response_locked(m, &rsp);
	push_responses_locked(m);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

void xen_monitor_get_stats(struct av_monitor *mon, struct av_monitor_stats *st)
{
	struct xen_monitor *m = xmon_of(mon);

	pthread_mutex_lock(&m->lock);
	st->async_dropped = m->async_dropped;
	pthread_mutex_unlock(&m->lock);
}
