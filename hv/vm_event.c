/* SPDX-License-Identifier: MIT */
/*
 * vm_event, the producer side (seed 004).  A monitor is the domain's event
 * listener and turns events into vm_event_request_t (Xen's public layout,
 * interface version 7) on one of two transports:
 *
 *  ring      Xen's single shared ring.  A vCPU with a synchronous event
 *            waits for a free entry (counted in ring_waits), puts its
 *            request and is answered when the monitor notifies the ring's
 *            port and the core pulls the responses off.
 *  channels  one slot per vCPU for synchronous events, so vCPUs never wait
 *            for each other, and an async ring that never blocks: full
 *            means the event is counted as dropped.  The vCPU waits on its
 *            slot's state itself (spin, then futex), so a monitor in another
 *            process answers without calling into the core.
 *
 * Buffers live in a memfd the core allocates (not guest memory), which the
 * monitor maps, like Xen's acquire_resource.  Ring indices are read and
 * written with acquire/release atomics rather than ring.h's plain stores
 * and fences, which is the same protocol in a form sanitizers can check.
 *
 * Responses come from another, possibly buggy or hostile, program: each is
 * copied out of shared memory once and validated (version, vCPU, flags,
 * views).  A bad one is counted and logged, and the request is put back, so
 * the vCPU keeps waiting for a valid answer or for the monitor to go away.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "private.h"


struct hv_monitor {
	struct hv_domain *d;
	enum hv_monitor_transport transport;
	int fd;
	uint8_t *buf;
	size_t size;

	struct hv_mutex ring_lock;
	pthread_cond_t ring_space;
	vm_event_sring_t *sring;
	vm_event_front_ring_t front;
	unsigned int ring_pages;
	evtchn_port_t ring_port;

	uint8_t *slots;
	evtchn_port_t slot_ports[ALTVIEW_MAX_VCPUS];
	vm_event_request_t *pending;          /* per vCPU: the request last submitted */
	struct spin_budget spin[ALTVIEW_MAX_VCPUS];  /* per vCPU, used by its thread only */
	_Atomic(hv_monitor_handler_fn *) handler;
	void *handler_ctx;                    /* written once, before handler */

	_Atomic bool disabling;
	_Atomic uint64_t requests, responses, bad_responses, bad_slot_states, async_dropped,
		ring_waits;
};

static struct hv_vm_event_slot *slot_of(struct hv_monitor *mon, unsigned int vcpu)
{
	return vm_event_slot(mon->slots, vcpu);
}

static bool giving_up(struct hv_monitor *mon)
{
	return atomic_load(&mon->disabling) || atomic_load(&mon->d->stopping);
}

/* ---- requests ----------------------------------------------------------------- */

static void fill_request(const struct hv_event *ev, vm_event_request_t *req)
{
	memset(req, 0, sizeof(*req));
	req->version = VM_EVENT_INTERFACE_VERSION;
	req->flags = ev->sync ? VM_EVENT_FLAG_VCPU_PAUSED : 0;
	req->reason = ev->reason;
	req->vcpu_id = ev->vcpu_id;
	req->altp2m_idx = ev->view;
	/* As Xen: set on every event while views are on, view 0 included. */
	if (ev->view || ev->views_on)
		req->flags |= VM_EVENT_FLAG_ALTERNATE_P2M;
	switch (ev->reason) {
	case VM_EVENT_REASON_MEM_ACCESS:
		req->u.mem_access.gfn = ev->u.mem_access.gfn;
		req->u.mem_access.offset = ev->u.mem_access.offset;
		req->u.mem_access.gla = ev->u.mem_access.gla;
		req->u.mem_access.flags = ev->u.mem_access.flags;
		break;
	case VM_EVENT_REASON_SOFTWARE_BREAKPOINT:
		req->u.software_breakpoint.gfn = ev->u.software_breakpoint.gfn;
		req->u.software_breakpoint.insn_length = ev->u.software_breakpoint.insn_length;
		break;
	case VM_EVENT_REASON_CPUID:
		req->u.cpuid.leaf = ev->u.cpuid.leaf;
		req->u.cpuid.subleaf = ev->u.cpuid.subleaf;
		req->u.cpuid.insn_length = ev->u.cpuid.insn_length;
		break;
	case VM_EVENT_REASON_SINGLESTEP:
		req->u.singlestep.gfn = ev->u.singlestep.gfn;
		break;
	default:
		break;
	}
	req->data.regs.x86 = ev->regs;
}

/*
 * Checks an answer copied out of shared memory and turns it into the core's
 * decision.  Only a synchronous answer (VCPU_PAUSED) resumes a vCPU.
 */
static int check_response(struct hv_monitor *mon, const vm_event_response_t *rsp,
			  unsigned int vcpu, struct hv_response *out)
{
	struct hv_domain *d = mon->d;
	uint32_t flags = xen_response_flags(rsp->flags) & ~XEN_RESPONSE_FLAGS_IGNORED;
	const char *why = NULL;

	if (rsp->version != VM_EVENT_INTERFACE_VERSION)
		why = "wrong interface version";
	else if (rsp->vcpu_id != vcpu)
		why = "wrong vcpu_id";
	else if (flags & ~HV_RESPONSE_FLAGS)
		why = "unknown flags";
	else if (!(flags & VM_EVENT_FLAG_VCPU_PAUSED))
		why = "no VCPU_PAUSED on a synchronous answer";
	else if ((flags & VM_EVENT_FLAG_ALTERNATE_P2M) && !view_exists(d, rsp->altp2m_idx))
		why = "no such view";
	else if ((flags & VM_EVENT_FLAG_FAST_SINGLESTEP) &&
		 !view_exists(d, rsp->u.fast_singlestep.p2midx))
		why = "no such fast single-step view";
	if (why) {
		atomic_fetch_add(&mon->bad_responses, 1);
		hv_log(d->hv, HV_LOG_WARNING, "d%u vCPU %u: vm_event response rejected: %s",
		       d->id, vcpu, why);
		return -EINVAL;
	}
	*out = (struct hv_response){
		.flags = flags,
		.view = rsp->altp2m_idx,
		.fast_singlestep_view = rsp->u.fast_singlestep.p2midx,
		.regs = rsp->data.regs.x86,
	};
	return 0;
}

/* ---- the ring ---------------------------------------------------------------------- */

static RING_IDX rsp_prod(struct hv_monitor *mon)
{
	return __atomic_load_n(&mon->sring->rsp_prod, __ATOMIC_ACQUIRE);
}

/*
 * Pulls every response off the ring (ring lock held).  A monitor can
 * announce more responses than there are requests out; those are ignored.
 */
static void ring_take_responses(struct hv_monitor *mon)
{
	RING_IDX prod = rsp_prod(mon);

	if (prod - mon->front.rsp_cons > mon->front.req_prod_pvt - mon->front.rsp_cons) {
		atomic_fetch_add(&mon->bad_responses, 1);
		hv_log(mon->d->hv, HV_LOG_WARNING, "d%u: vm_event ring producer index %u is bogus",
		       mon->d->id, prod);
		prod = mon->front.req_prod_pvt;
	}
	while (mon->front.rsp_cons != prod) {
		vm_event_response_t rsp;
		struct hv_response resp;

		memcpy(&rsp, RING_GET_RESPONSE(&mon->front, mon->front.rsp_cons), sizeof(rsp));
		mon->front.rsp_cons++;
		atomic_fetch_add(&mon->responses, 1);
		/* Asynchronous requests are acknowledged with an answer that resumes nothing. */
		if (!(rsp.flags & VM_EVENT_FLAG_VCPU_PAUSED) && rsp.version == VM_EVENT_INTERFACE_VERSION)
			continue;
		if (rsp.vcpu_id >= mon->d->nr_vcpus) {
			atomic_fetch_add(&mon->bad_responses, 1);
			continue;
		}
		if (check_response(mon, &rsp, rsp.vcpu_id, &resp) == 0 &&
		    hv_vcpu_respond(mon->d->vcpus[rsp.vcpu_id], &resp) < 0)
			atomic_fetch_add(&mon->bad_responses, 1);   /* nobody waits for it */
	}
	pthread_cond_broadcast(&mon->ring_space);
}

/* The monitor notified the ring's port: answers are there. */
void vm_event_ring_notified(void *ctx, evtchn_port_t port)
{
	struct hv_monitor *mon = ctx;

	(void)port;
	hv_mutex_lock(&mon->ring_lock);
	ring_take_responses(mon);
	hv_mutex_unlock(&mon->ring_lock);
}

/*
 * Puts a request on the ring.  With @wait a full ring makes the vCPU wait
 * for space (Xen's vm_event_wait_slot); without, a full ring drops it.
 */
static int ring_put(struct hv_monitor *mon, const vm_event_request_t *req, bool wait)
{
	int r = 0;

	hv_mutex_lock(&mon->ring_lock);
	if (!RING_FREE_REQUESTS(&mon->front))
		ring_take_responses(mon);
	while (!RING_FREE_REQUESTS(&mon->front)) {
		if (!wait || giving_up(mon)) {
			r = -ENOSPC;
			break;
		}
		atomic_fetch_add(&mon->ring_waits, 1);
		hv_cond_wait(&mon->ring_space, &mon->ring_lock);
		ring_take_responses(mon);
	}
	if (r == 0) {
		memcpy(RING_GET_REQUEST(&mon->front, mon->front.req_prod_pvt), req, sizeof(*req));
		mon->front.req_prod_pvt++;
		__atomic_store_n(&mon->sring->req_prod, mon->front.req_prod_pvt, __ATOMIC_RELEASE);
	}
	hv_mutex_unlock(&mon->ring_lock);
	if (r == 0) {
		atomic_fetch_add(&mon->requests, 1);
		evtchn_send_port(mon->d->evtchn, mon->ring_port);
	}
	return r;
}

/* ---- the slots ---------------------------------------------------------------------- */

static void slot_submit(struct hv_monitor *mon, struct hv_vm_event_slot *s, unsigned int vcpu)
{
	memcpy(&s->u.req, &mon->pending[vcpu], sizeof(s->u.req));
	slot_publish(slot_state(s), HV_SLOT_SUBMIT, &s->monitor_sleeping);
	/* A handler takes it on this thread: nobody to tell. */
	if (!atomic_load_explicit(&mon->handler, memory_order_acquire))
		evtchn_send_port(mon->d->evtchn, mon->slot_ports[vcpu]);
}

static void slot_handle(struct hv_monitor *mon, unsigned int vcpu)
{
	hv_monitor_handler_fn *fn = atomic_load_explicit(&mon->handler, memory_order_acquire);

	if (fn)
		fn(mon->handler_ctx, vcpu);
}

/* Waits for FINISH; false when the monitor is going away or the domain stops. */
static bool slot_wait_finish(struct hv_monitor *mon, unsigned int vcpu)
{
	struct hv_vm_event_slot *s = slot_of(mon, vcpu);
	if (spin_until(slot_state(s), HV_SLOT_SUBMIT, false, &mon->spin[vcpu]))
		return true;
	for (;;) {
		if (giving_up(mon))
			return false;
		slot_nap(slot_state(s), HV_SLOT_SUBMIT, true, &s->vcpu_sleeping, SLOT_SLEEP_SLICE_MS);
		if (atomic_load_explicit(slot_state(s), memory_order_acquire) != HV_SLOT_SUBMIT)
			return !giving_up(mon);
	}
}

/*
 * Looks at a slot the vCPU waits on: 0 and the decision in @resp when a
 * valid answer is there (the slot goes back to idle), -EINVAL when what is
 * there is rejected (the request is put back for the monitor), -EAGAIN
 * when it is still the monitor's turn.
 */
int vm_event_slot_collect(struct hv_monitor *mon, unsigned int vcpu, struct hv_response *resp)
{
	struct hv_vm_event_slot *s = slot_of(mon, vcpu);
	uint32_t state = atomic_load_explicit(slot_state(s), memory_order_acquire);
	vm_event_response_t rsp;

	if (state == HV_SLOT_SUBMIT)
		return -EAGAIN;
	if (state == HV_SLOT_FINISH) {
		memcpy(&rsp, &s->u.rsp, sizeof(rsp));       /* once: it may change under us */
		if (check_response(mon, &rsp, vcpu, resp) == 0) {
			atomic_store_explicit(slot_state(s), HV_SLOT_IDLE, memory_order_release);
			atomic_fetch_add(&mon->responses, 1);
			return 0;
		}
	} else {
		atomic_fetch_add(&mon->bad_slot_states, 1);
		hv_log(mon->d->hv, HV_LOG_WARNING, "d%u vCPU %u: slot state %u while waiting",
		       mon->d->id, vcpu, state);
	}
	/* Ask again: the request as it was, the vCPU still paused. */
	slot_submit(mon, s, vcpu);
	return -EINVAL;
}

static void slot_event(struct hv_monitor *mon, struct hv_vcpu *v)
{
	struct hv_vm_event_slot *s = slot_of(mon, v->id);
	struct hv_response resp = { 0 };
	uint32_t state = atomic_load(slot_state(s));

	/* The slot is the vCPU's while it does not wait: anything else was scribbled. */
	if (state != HV_SLOT_IDLE) {
		atomic_fetch_add(&mon->bad_slot_states, 1);
		hv_log(mon->d->hv, HV_LOG_WARNING, "d%u vCPU %u: slot state %u, expected idle",
		       mon->d->id, v->id, state);
	}
	atomic_fetch_add(&mon->requests, 1);
	slot_submit(mon, s, v->id);
	for (slot_handle(mon, v->id); slot_wait_finish(mon, v->id); slot_handle(mon, v->id)) {
		if (vm_event_slot_collect(mon, v->id, &resp) == 0) {
			hv_vcpu_respond(v, &resp);
			return;
		}
	}
	/* Disabled or stopping: resume with no decision, like Xen's disable. */
	resp = (struct hv_response){ 0 };
	atomic_store_explicit(slot_state(s), HV_SLOT_IDLE, memory_order_release);
	hv_vcpu_respond(v, &resp);
}

/* A monitor written for Xen notifies the slot's port after answering. */
static void slot_notified(void *ctx, evtchn_port_t port)
{
	struct hv_monitor *mon = ctx;

	for (unsigned int i = 0; i < mon->d->nr_vcpus; i++)
		if (mon->slot_ports[i] == port)
			futex_wake(slot_state(slot_of(mon, i)));
}

/* ---- the listener ------------------------------------------------------------------------- */

static void monitor_event(void *ctx, struct hv_vcpu *v, const struct hv_event *ev)
{
	struct hv_monitor *mon = ctx;
	vm_event_request_t *req = &mon->pending[v->id];

	fill_request(ev, req);
	if (mon->transport == HV_MONITOR_CHANNELS && ev->sync) {
		slot_event(mon, v);
		return;
	}
	if (ring_put(mon, req, mon->transport == HV_MONITOR_RING) < 0) {
		if (ev->sync) {
			/* Giving up: the vCPU must not wait for an answer that cannot come. */
			struct hv_response none = { 0 };

			hv_vcpu_respond(v, &none);
		} else {
			atomic_fetch_add(&mon->async_dropped, 1);
		}
	}
}

void vm_event_kick(struct hv_monitor *mon)
{
	for (unsigned int i = 0; mon->slots && i < mon->d->nr_vcpus; i++)
		futex_wake(slot_state(slot_of(mon, i)));
	hv_mutex_lock(&mon->ring_lock);
	pthread_cond_broadcast(&mon->ring_space);
	hv_mutex_unlock(&mon->ring_lock);
}

/* ---- enable and disable ----------------------------------------------------------------------- */

static void monitor_free(struct hv_monitor *mon)
{
	struct evtchn_table *t = mon->d->evtchn;

	if (mon->ring_port)
		evtchn_close_port(t, mon->ring_port);
	for (unsigned int i = 0; i < mon->d->nr_vcpus; i++)
		if (mon->slot_ports[i])
			evtchn_close_port(t, mon->slot_ports[i]);
	if (mon->buf)
		munmap(mon->buf, mon->size);
	if (mon->fd >= 0)
		close(mon->fd);
	pthread_cond_destroy(&mon->ring_space);
	hv_mutex_deinit(&mon->ring_lock);
	free(mon->pending);
	hv_domain_put(mon->d);
	free(mon);
}

static int monitor_buffers(struct hv_monitor *mon)
{
	size_t ring_bytes = (size_t)mon->ring_pages * HV_PAGE_SIZE;
	size_t slot_bytes = mon->transport == HV_MONITOR_CHANNELS ?
			    (size_t)mon->d->nr_vcpus * HV_VM_EVENT_SLOT_SIZE : 0;

	mon->size = ring_bytes + ((slot_bytes + HV_PAGE_SIZE - 1) & ~(HV_PAGE_SIZE - 1));
	mon->fd = memfd_create("altview-vm-event", MFD_CLOEXEC);
	if (mon->fd < 0 || ftruncate(mon->fd, (off_t)mon->size) < 0)
		return -errno;
	mon->buf = mmap(NULL, mon->size, PROT_READ | PROT_WRITE, MAP_SHARED, mon->fd, 0);
	if (mon->buf == MAP_FAILED) {
		mon->buf = NULL;
		return -errno;
	}
	mon->sring = (vm_event_sring_t *)mon->buf;
	SHARED_RING_INIT(mon->sring);
	FRONT_RING_INIT(&mon->front, mon->sring, ring_bytes);
	if (slot_bytes)
		mon->slots = mon->buf + ring_bytes;
	return 0;
}

int hv_monitor_enable(struct hv_domain *d, const struct hv_monitor_opts *opts,
		      struct hv_monitor **out)
{
	struct hv_monitor *mon, *none = NULL;
	int r;

	if (!d || !opts || !out || opts->sz < sizeof(*opts) ||
	    (opts->transport != HV_MONITOR_CHANNELS && opts->transport != HV_MONITOR_RING) ||
	    opts->ring_pages > 64)
		return -EINVAL;
	mon = calloc(1, sizeof(*mon));
	if (!mon)
		return -ENOMEM;
	/* The monitor may outlive hv_domain_destroy(): it keeps the structure. */
	atomic_fetch_add(&d->refcount, 1);
	mon->d = d;
	mon->fd = -1;
	mon->transport = opts->transport;
	mon->ring_pages = opts->ring_pages ? opts->ring_pages : 1;
	hv_mutex_init(&mon->ring_lock, HV_LOCK_VM_EVENT, "vm_event ring");
	hv_cond_init(&mon->ring_space);
	mon->pending = calloc(d->nr_vcpus ? d->nr_vcpus : 1, sizeof(*mon->pending));
	r = mon->pending ? monitor_buffers(mon) : -ENOMEM;
	if (r == 0) {
		r = evtchn_alloc_unbound(d->evtchn, HV_DOMID_DOM0, NULL, vm_event_ring_notified, mon);
		mon->ring_port = r > 0 ? (evtchn_port_t)r : 0;
	}
	for (unsigned int i = 0; r >= 0 && mon->slots && i < d->nr_vcpus; i++) {
		r = evtchn_alloc_unbound(d->evtchn, HV_DOMID_DOM0, NULL, slot_notified, mon);
		mon->slot_ports[i] = r > 0 ? (evtchn_port_t)r : 0;
	}
	if (r >= 0 && !atomic_compare_exchange_strong(&d->monitor, &none, mon))
		r = -EBUSY;
	if (r < 0) {
		monitor_free(mon);
		return r;
	}
	hv_domain_set_listener(d, 0, monitor_event, mon);
	*out = mon;
	return 0;
}

int hv_monitor_disable(struct hv_monitor *mon)
{
	struct hv_domain *d;

	if (!mon)
		return -EINVAL;
	d = mon->d;
	atomic_store(&mon->disabling, true);
	vm_event_kick(mon);
	/* Waits for vCPUs inside the listener, then answers those still waiting. */
	hv_domain_set_listener(d, 0, NULL, NULL);
	atomic_store(&d->monitor, NULL);
	monitor_free(mon);
	return 0;
}

int hv_monitor_set_reasons(struct hv_monitor *mon, uint32_t reasons)
{
	if (!mon || (reasons & ~HV_MONITOR_REASONS))
		return -EINVAL;
	return hv_domain_set_listener_reasons(mon->d, reasons);
}

int hv_monitor_get_info(struct hv_monitor *mon, struct hv_monitor_info *info)
{
	if (!mon || !info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->domid = mon->d->id;
	info->transport = mon->transport;
	info->nr_vcpus = mon->d->nr_vcpus;
	info->fd = mon->fd;
	info->size = mon->size;
	info->ring_offset = 0;
	info->ring_pages = mon->ring_pages;
	info->ring_port = mon->ring_port;
	info->slots_offset = mon->slots ? (uint64_t)(mon->slots - mon->buf) : 0;
	memcpy(info->slot_ports, mon->slot_ports, sizeof(info->slot_ports));
	return 0;
}

int hv_monitor_set_handler(struct hv_monitor *mon, hv_monitor_handler_fn *fn, void *ctx)
{
	int r = -EBUSY;

	if (!mon || !fn)
		return -EINVAL;
	if (mon->transport != HV_MONITOR_CHANNELS)
		return -EOPNOTSUPP;
	/* Only against another setter: vCPUs read handler, then ctx, lock-free. */
	hv_mutex_lock(&mon->ring_lock);
	if (!atomic_load(&mon->handler)) {
		mon->handler_ctx = ctx;
		atomic_store_explicit(&mon->handler, fn, memory_order_release);
		r = 0;
	}
	hv_mutex_unlock(&mon->ring_lock);
	return r;
}

void hv_monitor_get_stats(struct hv_monitor *mon, struct hv_monitor_stats *st)
{
	st->requests = atomic_load(&mon->requests);
	st->responses = atomic_load(&mon->responses);
	st->bad_responses = atomic_load(&mon->bad_responses);
	st->bad_slot_states = atomic_load(&mon->bad_slot_states);
	st->async_dropped = atomic_load(&mon->async_dropped);
	st->ring_waits = atomic_load(&mon->ring_waits);
}
