/* SPDX-License-Identifier: MIT */
/*
 * vm_event, the consumer side: what a monitor does with the buffers the
 * core allocated.  It needs nothing but the memfd, the event channel handle
 * and the port numbers, so the same code runs in the process that owns the
 * core or, imported, in another one.
 *
 * Synchronous answers go into the vCPU's slot (channels), waking the vCPU
 * only if it sleeps, or onto the ring followed by a notify (ring).  Every
 * asynchronous request is acknowledged with an empty answer, which is what
 * frees its ring entry, Xen's protocol.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "private.h"


struct hv_consumer {
	struct hv_monitor_info info;
	int fd;
	uint8_t *buf;
	vm_event_sring_t *sring;
	vm_event_back_ring_t back;
	pthread_mutex_t ring_lock;            /* not a core lock: this side is the monitor's */
	struct hv_evtchn_handle *h;
	bool imported;
	evtchn_port_t ring_port, slot_ports[ALTVIEW_MAX_VCPUS];   /* dom0's ends */
	_Atomic uint8_t taken[ALTVIEW_MAX_VCPUS];  /* next() handed this slot's request out */
	struct spin_budget spin[ALTVIEW_MAX_VCPUS];  /* wait(): per slot, one waiter at a time */
};

static struct hv_vm_event_slot *slot_of(struct hv_consumer *c, unsigned int vcpu)
{
	return vm_event_slot(c->buf + c->info.slots_offset, vcpu);
}

static bool channels(const struct hv_consumer *c)
{
	return c->info.transport == HV_MONITOR_CHANNELS;
}

static int consumer_map(struct hv_consumer *c, int fd)
{
	size_t ring_bytes = (size_t)c->info.ring_pages * HV_PAGE_SIZE;

	if (c->info.nr_vcpus > ALTVIEW_MAX_VCPUS || ring_bytes > c->info.size ||
	    (channels(c) && c->info.slots_offset + (uint64_t)c->info.nr_vcpus *
			    HV_VM_EVENT_SLOT_SIZE > c->info.size))
		return -EINVAL;
	c->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	c->buf = mmap(NULL, c->info.size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->buf == MAP_FAILED) {
		c->buf = NULL;
		return -errno;
	}
	c->sring = (vm_event_sring_t *)(c->buf + c->info.ring_offset);
	/* Start where the monitor's side stands, as BACK_RING_ATTACH does. */
	BACK_RING_INIT(&c->back, c->sring, ring_bytes);
	c->back.rsp_prod_pvt = c->back.req_cons =
		__atomic_load_n(&c->sring->rsp_prod, __ATOMIC_ACQUIRE);
	pthread_mutex_init(&c->ring_lock, NULL);
	return 0;
}

void hv_consumer_close(struct hv_consumer *c)
{
	if (!c)
		return;
	if (c->imported) {
		hv_evtchn_handle_close(c->h);
	} else if (c->h) {
		if (c->ring_port)
			hv_evtchn_unbind(c->h, c->ring_port);
		for (unsigned int i = 0; i < c->info.nr_vcpus; i++)
			if (c->slot_ports[i])
				hv_evtchn_unbind(c->h, c->slot_ports[i]);
	}
	if (c->buf) {
		munmap(c->buf, c->info.size);
		pthread_mutex_destroy(&c->ring_lock);
	}
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int hv_consumer_open(const struct hv_monitor_info *info, struct hv_evtchn_handle *h,
		     struct hv_consumer **out)
{
	struct hv_consumer *c;
	int r;

	if (!info || !h || !out)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->info = *info;
	c->fd = -1;
	r = consumer_map(c, info->fd);
	c->h = h;
	if (r == 0) {
		r = hv_evtchn_bind_interdomain_port(h, info->domid, info->ring_port);
		c->ring_port = r > 0 ? (evtchn_port_t)r : 0;
	}
	for (unsigned int i = 0; r >= 0 && channels(c) && i < info->nr_vcpus; i++) {
		r = hv_evtchn_bind_interdomain_port(h, info->domid, info->slot_ports[i]);
		c->slot_ports[i] = r > 0 ? (evtchn_port_t)r : 0;
	}
	if (r < 0) {
		hv_consumer_close(c);
		return r;
	}
	*out = c;
	return 0;
}

int hv_consumer_export(struct hv_consumer *c, struct hv_consumer_export *ex)
{
	int r;

	if (!c || !ex || c->imported)
		return -EINVAL;
	memset(ex, 0, sizeof(*ex));
	r = hv_evtchn_export(c->h, &ex->evtchn);
	if (r < 0)
		return r;
	ex->info = c->info;
	ex->info.fd = c->fd;
	ex->local_ring_port = c->ring_port;
	memcpy(ex->local_slot_ports, c->slot_ports, sizeof(ex->local_slot_ports));
	return 0;
}

int hv_consumer_import(const struct hv_consumer_export *ex, struct hv_consumer **out)
{
	struct hv_consumer *c;
	int r;

	if (!ex || !out)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->info = ex->info;
	c->fd = -1;
	c->imported = true;
	r = consumer_map(c, ex->info.fd);
	if (r == 0)
		r = hv_evtchn_import(&ex->evtchn, &c->h);
	if (r < 0) {
		c->imported = false;
		hv_consumer_close(c);
		return r;
	}
	c->ring_port = ex->local_ring_port;
	memcpy(c->slot_ports, ex->local_slot_ports, sizeof(c->slot_ports));
	*out = c;
	return 0;
}

int hv_consumer_fd(const struct hv_consumer *c)
{
	return c ? hv_evtchn_fd(c->h) : -EINVAL;
}

/* ---- taking requests -------------------------------------------------------------- */

int hv_consumer_wait(struct hv_consumer *c, unsigned int vcpu, int timeout_ms,
		     vm_event_request_t *req)
{
	struct hv_vm_event_slot *s;
	uint64_t deadline;

	if (!c || !req || vcpu >= c->info.nr_vcpus)
		return -EINVAL;
	if (!channels(c))
		return -EOPNOTSUPP;
	s = slot_of(c, vcpu);
	if (spin_until(slot_state(s), HV_SLOT_SUBMIT, true, &c->spin[vcpu])) {
		memcpy(req, &s->u.req, sizeof(*req));
		return 0;
	}
	deadline = monotonic_ms() + (uint64_t)timeout_ms;
	for (;;) {
		int64_t left = (int64_t)(deadline - monotonic_ms());

		if (left <= 0)
			return -ETIMEDOUT;
		slot_nap(slot_state(s), HV_SLOT_SUBMIT, false, &s->monitor_sleeping,
			 left < SLOT_SLEEP_SLICE_MS ? (int)left : SLOT_SLEEP_SLICE_MS);
		if (atomic_load_explicit(slot_state(s), memory_order_acquire) == HV_SLOT_SUBMIT) {
			memcpy(req, &s->u.req, sizeof(*req));
			return 0;
		}
	}
}

static void ring_put_response(struct hv_consumer *c, const vm_event_response_t *rsp)
{
	memcpy(RING_GET_RESPONSE(&c->back, c->back.rsp_prod_pvt), rsp, sizeof(*rsp));
	c->back.rsp_prod_pvt++;
	__atomic_store_n(&c->sring->rsp_prod, c->back.rsp_prod_pvt, __ATOMIC_RELEASE);
}

static void drain_notifications(struct hv_consumer *c)
{
	int p;

	/* The ports only say "look": the buffers tell what is there. */
	while ((p = hv_evtchn_pending(c->h)) >= 0)
		hv_evtchn_unmask_port(c->h, (evtchn_port_t)p);
}

/* The shared ring: every request on the ring transport, the async ones on channels. */
static int ring_next(struct hv_consumer *c, vm_event_request_t *req)
{
	bool async = false;
	int r = -EAGAIN;

	pthread_mutex_lock(&c->ring_lock);
	if (c->back.req_cons != __atomic_load_n(&c->sring->req_prod, __ATOMIC_ACQUIRE)) {
		memcpy(req, RING_GET_REQUEST(&c->back, c->back.req_cons), sizeof(*req));
		c->back.req_cons++;
		r = 0;
		async = !(req->flags & VM_EVENT_FLAG_VCPU_PAUSED);
		if (async) {
			vm_event_response_t ack = { .version = VM_EVENT_INTERFACE_VERSION,
						    .vcpu_id = req->vcpu_id, .reason = req->reason };

			ring_put_response(c, &ack);
		}
	}
	pthread_mutex_unlock(&c->ring_lock);
	return r;
}

int hv_consumer_next(struct hv_consumer *c, vm_event_request_t *req)
{
	if (!c || !req)
		return -EINVAL;
	drain_notifications(c);
	if (ring_next(c, req) == 0)
		return 0;
	for (unsigned int i = 0; channels(c) && i < c->info.nr_vcpus; i++) {
		struct hv_vm_event_slot *s = slot_of(c, i);
		uint8_t free_slot = 0;

		if (atomic_load_explicit(slot_state(s), memory_order_acquire) == HV_SLOT_SUBMIT &&
		    atomic_compare_exchange_strong(&c->taken[i], &free_slot, 1)) {
			memcpy(req, &s->u.req, sizeof(*req));
			return 0;
		}
	}
	return -EAGAIN;
}

int hv_consumer_next_async(struct hv_consumer *c, vm_event_request_t *req)
{
	if (!c || !req)
		return -EINVAL;
	if (!channels(c))
		return -EOPNOTSUPP;
	drain_notifications(c);
	return ring_next(c, req);
}

int hv_consumer_respond(struct hv_consumer *c, const vm_event_response_t *rsp)
{
	if (!c || !rsp)
		return -EINVAL;
	if (channels(c) && (rsp->flags & VM_EVENT_FLAG_VCPU_PAUSED)) {
		struct hv_vm_event_slot *s;

		if (rsp->vcpu_id >= c->info.nr_vcpus)
			return -EINVAL;
		s = slot_of(c, rsp->vcpu_id);
		if (atomic_load_explicit(slot_state(s), memory_order_acquire) != HV_SLOT_SUBMIT)
			return -ENOENT;         /* answered already, or never asked */
		memcpy(&s->u.rsp, rsp, sizeof(*rsp));
		atomic_store(&c->taken[rsp->vcpu_id], 0);
		slot_publish(slot_state(s), HV_SLOT_FINISH, &s->vcpu_sleeping);
		return 0;
	}
	pthread_mutex_lock(&c->ring_lock);
	ring_put_response(c, rsp);
	pthread_mutex_unlock(&c->ring_lock);
	return hv_evtchn_notify(c->h, c->ring_port);
}
