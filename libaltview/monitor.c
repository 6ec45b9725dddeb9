/* SPDX-License-Identifier: MIT */
/*
 * monitor.c — vm_events in altview's own types.  Backends deliver Xen's
 * vm_event_request_t; here it becomes a struct av_event, and a response
 * becomes Xen's vm_event_response_t.  Each synchronous event gets a
 * sequence number so an answer can only be given once.
 */
#include <stdlib.h>

#include "private.h"

#include <altview/xen.h>

_Static_assert(sizeof(vm_event_request_t) <= AV_XEN_REQUEST_MAX,
	       "struct av_event holds a whole vm_event_request_t");

static const uint32_t kind_reason[AV_EVENT__MAX] = {
	[AV_EVENT_MEM_ACCESS] = VM_EVENT_REASON_MEM_ACCESS,
	[AV_EVENT_BREAKPOINT] = VM_EVENT_REASON_SOFTWARE_BREAKPOINT,
	[AV_EVENT_SINGLESTEP] = VM_EVENT_REASON_SINGLESTEP,
	[AV_EVENT_CPUID] = VM_EVENT_REASON_CPUID,
	[AV_EVENT_GUEST_REQUEST] = VM_EVENT_REASON_GUEST_REQUEST,
};

static enum av_event_kind reason_kind(uint32_t reason)
{
	for (int k = AV_EVENT_MEM_ACCESS; k < AV_EVENT__MAX; k++)
		if (kind_reason[k] == reason)
			return (enum av_event_kind)k;
	return 0;
}

AV_API int av_monitor_open(av_domain *dom, const struct av_monitor_opts *opts, av_monitor **out)
{
	struct av_monitor_opts o = { .sz = sizeof(o) };
	struct av_monitor *mon;
	int r;

	if (!dom || !out || !OPTS_VALID(dom->hv, opts, av_monitor_opts, ring_pages))
		return -EINVAL;
	r = domain_check(dom);
	if (r < 0)
		return r;
	o.transport = OPTS_GET(opts, av_monitor_opts, transport, AV_TRANSPORT_CHANNELS);
	o.ring_pages = OPTS_GET(opts, av_monitor_opts, ring_pages, 0);
	if (o.transport != AV_TRANSPORT_CHANNELS && o.transport != AV_TRANSPORT_RING) {
		av_err(dom->hv, "av_monitor_open: unknown transport %d", (int)o.transport);
		return -EINVAL;
	}
	if (!dom->nr_vcpus) {
		av_err(dom->hv, "av_monitor_open: domain %u has no vCPUs to monitor", dom->id);
		return -EINVAL;
	}
	mon = calloc(1, sizeof(*mon));
	if (!mon)
		return -ENOMEM;
	mon->dom = dom;
	r = dom->hv->ops->monitor_open(mon, &o);
	if (r < 0) {
		free(mon);
		return r;
	}
	pthread_mutex_lock(&dom->hv->lock);
	list_add(&dom->monitors, &mon->link);
	pthread_mutex_unlock(&dom->hv->lock);
	*out = mon;
	return 0;
}

AV_API void av_monitor_close(av_monitor *mon)
{
	if (!mon)
		return;
	pthread_mutex_lock(&mon->dom->hv->lock);
	list_del(&mon->link);
	pthread_mutex_unlock(&mon->dom->hv->lock);
	mon->dom->hv->ops->monitor_close(mon);
	free(mon);
}

AV_API int av_monitor_set_events(av_monitor *mon, uint32_t mask)
{
	uint32_t reasons = 0;

	if (!mon)
		return -EINVAL;
	for (int k = 0; k < 32; k++) {
		if (!(mask & (1u << k)))
			continue;
		if (k < AV_EVENT_MEM_ACCESS || k >= AV_EVENT__MAX) {
			av_err(mon->dom->hv, "av_monitor_set_events: no event kind %d", k);
			return -EINVAL;
		}
		reasons |= 1u << kind_reason[k];
	}
	return mon->dom->hv->ops->monitor_set_reasons(mon, reasons);
}

AV_API int av_monitor_fd(av_monitor *mon)
{
	return mon ? mon->dom->hv->ops->monitor_fd(mon) : -EINVAL;
}

static bool event_size_ok(struct av_monitor *mon, const struct av_event *ev)
{
	if (ev && ev->sz >= offsetofend(struct av_event, seq))
		return true;
	av_err(mon->dom->hv, "struct av_event: sz %zu is too small", ev ? ev->sz : 0);
	return false;
}

/*
 * An event of a kind altview does not deliver is answered at once with no
 * flags: nobody else could ever let its vCPU go.
 */
static bool deliverable(struct av_monitor *mon, const vm_event_request_t *req)
{
	if (reason_kind(req->reason))
		return true;
	if (req->flags & VM_EVENT_FLAG_VCPU_PAUSED) {
		vm_event_response_t rsp = { .version = VM_EVENT_INTERFACE_VERSION,
					    .vcpu_id = req->vcpu_id, .reason = req->reason,
					    .flags = VM_EVENT_FLAG_VCPU_PAUSED };

		mon->dom->hv->ops->monitor_respond(mon, &rsp);
	}
	av_log(mon->dom->hv, AV_LOG_DEBUG, "domain %u: answered an event of reason %u itself",
	       mon->dom->id, req->reason);
	return false;
}

static uint64_t relaxed_get(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void relaxed_inc(_Atomic uint64_t *v)
{
	atomic_store_explicit(v, relaxed_get(v) + 1, memory_order_relaxed);
}

/*
 * A synchronous event's number: unique per monitor (the vCPU's count of
 * events, times the vCPU limit, plus the vCPU), and the same number again
 * for the same event taken twice (a wait that returned it before, or an
 * answer the hypervisor refused).
 */
static uint64_t sync_seq(struct av_monitor *mon, uint32_t vcpu)
{
	uint64_t seq = atomic_load_explicit(&mon->pending[vcpu], memory_order_acquire);

	if (!seq) {
		relaxed_inc(&mon->sync_events[vcpu]);
		seq = relaxed_get(&mon->sync_events[vcpu]) * ALTVIEW_MAX_VCPUS + vcpu;
		atomic_store_explicit(&mon->pending[vcpu], seq, memory_order_release);
	}
	return seq;
}

/*
 * Fills @ev around the request already in ev->xen.  @ev is the caller's
 * struct when it is whole (the common case: no copy), else a local one
 * that out_fill() trims to what an older caller's struct holds.
 */
static int to_event(struct av_monitor *mon, struct av_event *ev, struct av_event *out)
{
	const vm_event_request_t *req = (const void *)ev->xen;

	if (req->vcpu_id >= mon->dom->nr_vcpus) {
		av_err(mon->dom->hv, "domain %u: event for vCPU %u, which it does not have",
		       mon->dom->id, req->vcpu_id);
		return -EPROTO;
	}
	ev->kind = reason_kind(req->reason);
	ev->vcpu = req->vcpu_id;
	ev->view = req->altp2m_idx;
	if (req->flags & VM_EVENT_FLAG_VCPU_PAUSED) {
		ev->flags = AV_EVENT_F_SYNC;
		ev->seq = sync_seq(mon, ev->vcpu);
	} else {
		ev->flags = 0;
		ev->seq = 0;
		relaxed_inc(&mon->async_events);
	}
	memset(&ev->u, 0, sizeof(ev->u));
	switch (ev->kind) {
	case AV_EVENT_MEM_ACCESS:
		ev->u.mem.gfn = req->u.mem_access.gfn;
		ev->u.mem.offset = req->u.mem_access.offset;
		ev->u.mem.gla = req->u.mem_access.gla;
		ev->u.mem.access = (req->u.mem_access.flags & MEM_ACCESS_R ? AV_MEM_R : 0) |
				   (req->u.mem_access.flags & MEM_ACCESS_W ? AV_MEM_W : 0) |
				   (req->u.mem_access.flags & MEM_ACCESS_X ? AV_MEM_X : 0) |
				   (req->u.mem_access.flags & MEM_ACCESS_GLA_VALID ? AV_MEM_GLA_VALID : 0);
		break;
	case AV_EVENT_BREAKPOINT:
		ev->u.breakpoint.gfn = req->u.software_breakpoint.gfn;
		ev->u.breakpoint.insn_length = req->u.software_breakpoint.insn_length;
		break;
	case AV_EVENT_SINGLESTEP:
		ev->u.singlestep.gfn = req->u.singlestep.gfn;
		break;
	case AV_EVENT_CPUID:
		ev->u.cpuid.leaf = req->u.cpuid.leaf;
		ev->u.cpuid.subleaf = req->u.cpuid.subleaf;
		ev->u.cpuid.insn_length = req->u.cpuid.insn_length;
		break;
	default:
		break;
	}
	regs_from_xen(&req->data.regs.x86, &ev->regs);
	ev->xen_size = sizeof(*req);
	if (ev != out)
		out_fill(out, ev, sizeof(*ev));
	return 0;
}

static struct av_event *event_buffer(struct av_event *out, struct av_event *local)
{
	if (out->sz >= sizeof(*out))
		return out;
	local->sz = sizeof(*local);
	return local;
}

/*
 * Takes requests with @take_expr (which reads one into `req`) until one is
 * for the caller, and turns it into an event.
 */
#define TAKE_EVENT(mon, out, take_expr)                                                 \
	({                                                                              \
		struct av_event _local, *_ev = event_buffer(out, &_local);              \
		vm_event_request_t *req = (vm_event_request_t *)(void *)_ev->xen;       \
		int _r;                                                                 \
		do {                                                                    \
			_r = (take_expr);                                               \
		} while (_r == 0 && !deliverable(mon, req));                            \
		_r < 0 ? _r : to_event(mon, _ev, out);                                  \
	})

AV_API int av_monitor_next(av_monitor *mon, struct av_event *ev)
{
	if (!mon || !event_size_ok(mon, ev))
		return -EINVAL;
	return TAKE_EVENT(mon, ev, mon->dom->hv->ops->monitor_next(mon, req));
}

AV_API int av_monitor_next_async(av_monitor *mon, struct av_event *ev)
{
	if (!mon || !event_size_ok(mon, ev))
		return -EINVAL;
	return TAKE_EVENT(mon, ev, BACKEND_OPTIONAL(mon->dom->hv, monitor_next_async, mon, req));
}

AV_API int av_monitor_wait(av_monitor *mon, uint32_t vcpu, int timeout_ms, struct av_event *ev)
{
	if (!mon || !event_size_ok(mon, ev) || timeout_ms < 0)
		return -EINVAL;
	if (vcpu >= mon->dom->nr_vcpus) {
		av_err(mon->dom->hv, "av_monitor_wait: domain %u has no vCPU %u", mon->dom->id, vcpu);
		return -EINVAL;
	}
	return TAKE_EVENT(mon, ev, BACKEND_OPTIONAL(mon->dom->hv, monitor_wait, mon, vcpu, timeout_ms, req));
}

AV_API int av_monitor_set_handler(av_monitor *mon, av_monitor_handler_fn *fn, void *ctx)
{
	struct av_hv *hv;
	int r = -EBUSY;

	if (!mon || !fn)
		return -EINVAL;
	hv = mon->dom->hv;
	if (!hv->ops->monitor_set_handler) {
		av_err(hv, "av_monitor_set_handler: events are raised in another process here");
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&hv->lock);
	if (!mon->handler) {
		mon->handler = fn;
		mon->handler_ctx = ctx;
		r = hv->ops->monitor_set_handler(mon);
		if (r < 0)
			mon->handler = NULL;
	}
	pthread_mutex_unlock(&hv->lock);
	return r;
}

void monitor_handle(struct av_monitor *mon, uint32_t vcpu)
{
	struct av_event ev = { .sz = sizeof(ev) };

	if (TAKE_EVENT(mon, &ev, mon->dom->hv->ops->monitor_wait(mon, vcpu, 0, req)) < 0)
		return;         /* answered here already: not a kind altview delivers */
	mon->handler(mon, &ev, mon->handler_ctx);
	if (atomic_load(&mon->pending[vcpu]) == ev.seq && av_monitor_respond(mon, &ev, NULL) == 0)
		av_log(mon->dom->hv, AV_LOG_WARNING, "domain %u vCPU %u: the handler left event %"
		       PRIu64 " unanswered: resumed with no flags", mon->dom->id, vcpu, ev.seq);
}

struct vcpu_thread {
	struct av_monitor *mon;
	uint32_t vcpu;
	void (*loop)(struct av_monitor *mon, uint32_t vcpu);
};

static void *vcpu_thread(void *arg)
{
	struct vcpu_thread t = *(struct vcpu_thread *)arg;

	free(arg);
	t.loop(t.mon, t.vcpu);
	return NULL;
}

int monitor_threads_start(struct av_monitor *mon,
			  void (*loop)(struct av_monitor *mon, uint32_t vcpu),
			  pthread_t **threads, uint32_t *nr)
{
	uint32_t n = mon->dom->nr_vcpus;

	*nr = 0;
	*threads = calloc(n, sizeof(**threads));
	if (!*threads)
		return -ENOMEM;
	for (; *nr < n; (*nr)++) {
		struct vcpu_thread *t = malloc(sizeof(*t));
		int r;

		if (!t)
			return -ENOMEM;
		*t = (struct vcpu_thread){ .mon = mon, .vcpu = *nr, .loop = loop };
		r = -pthread_create(&(*threads)[*nr], NULL, vcpu_thread, t);
		if (r < 0) {
			free(t);
			return r;
		}
	}
	return 0;
}

static const struct {
	uint32_t av, xen;
} response_flags[] = {
	{ AV_RESPONSE_EMULATE, VM_EVENT_FLAG_EMULATE },
	{ AV_RESPONSE_DENY, VM_EVENT_FLAG_DENY },
	{ AV_RESPONSE_SWITCH_VIEW, VM_EVENT_FLAG_ALTERNATE_P2M },
	{ AV_RESPONSE_SET_REGS, VM_EVENT_FLAG_SET_REGISTERS },
	{ AV_RESPONSE_TOGGLE_SINGLESTEP, VM_EVENT_FLAG_TOGGLE_SINGLESTEP },
	{ AV_RESPONSE_FAST_SINGLESTEP, VM_EVENT_FLAG_FAST_SINGLESTEP },
};

/*
 * Builds Xen's answer, all of it defined: it goes into memory another
 * party reads, and stack garbage there would be a leak.
 */
static int to_xen_response(struct av_monitor *mon, const struct av_event *ev,
			   const struct av_response *in, vm_event_response_t *rsp)
{
	struct av_hv *hv = mon->dom->hv;
	const vm_event_request_t *req = (const void *)ev->xen;
	struct av_response local;
	const struct av_response *r = in;
	uint32_t left;

	memset(rsp, 0, sizeof(*rsp));
	rsp->version = VM_EVENT_INTERFACE_VERSION;
	rsp->vcpu_id = ev->vcpu;
	rsp->flags = VM_EVENT_FLAG_VCPU_PAUSED;
	if (ev->sz >= offsetofend(struct av_event, xen) && ev->xen_size == sizeof(*req))
		rsp->reason = req->reason;
	if (!in)
		return 0;
	if (!OPTS_VALID(hv, in, av_response, step_view))
		return -EINVAL;
	if (in->sz < sizeof(local)) {
		memset(&local, 0, sizeof(local));
		memcpy(&local, in, in->sz);
		r = &local;
	}
	left = r->flags;
	for (size_t i = 0; i < sizeof(response_flags) / sizeof(response_flags[0]); i++) {
		if (left & response_flags[i].av) {
			rsp->flags |= response_flags[i].xen;
			left &= ~response_flags[i].av;
		}
	}
	if (left) {
		av_err(hv, "av_monitor_respond: unknown flags %#x", left);
		return -EINVAL;
	}
	if (((r->flags & AV_RESPONSE_SWITCH_VIEW) && r->view >= ALTVIEW_MAX_VIEWS) ||
	    ((r->flags & AV_RESPONSE_FAST_SINGLESTEP) && r->step_view >= ALTVIEW_MAX_VIEWS)) {
		av_err(hv, "av_monitor_respond: view %u is out of range",
		       r->view >= ALTVIEW_MAX_VIEWS ? r->view : r->step_view);
		return -EINVAL;
	}
	rsp->altp2m_idx = (uint16_t)r->view;
	rsp->u.fast_singlestep.p2midx = (uint16_t)r->step_view;
	if (r->flags & AV_RESPONSE_SET_REGS) {
		if (!rsp->reason) {
			av_err(hv, "av_monitor_respond: SET_REGS needs the whole event (its sz)");
			return -EINVAL;
		}
		/* What altview's struct lacks stays as the vCPU had it. */
		rsp->data.regs.x86 = req->data.regs.x86;
		regs_to_xen(&r->regs, &rsp->data.regs.x86);
	}
	return 0;
}

/* Hands the answer for @ev on, once: the event's seq is given up only if the backend takes it. */
static int respond_once(struct av_monitor *mon, const struct av_event *ev, const vm_event_response_t *x)
{
	uint64_t seq = ev->seq;
	int r;

	if (!seq || !atomic_compare_exchange_strong(&mon->pending[ev->vcpu], &seq, 0)) {
		av_err(mon->dom->hv, "av_monitor_respond: event %" PRIu64 " of vCPU %u was answered already",
		       ev->seq, ev->vcpu);
		return -EALREADY;
	}
	r = mon->dom->hv->ops->monitor_respond(mon, x);
	if (r < 0)
		/* Still unanswered: let the caller try again. */
		atomic_store(&mon->pending[ev->vcpu], ev->seq);
	return r;
}

static bool sync_event_ok(struct av_monitor *mon, const struct av_event *ev)
{
	if (!mon || !event_size_ok(mon, ev))
		return false;
	if (ev->vcpu >= mon->dom->nr_vcpus || !(ev->flags & AV_EVENT_F_SYNC)) {
		av_err(mon->dom->hv, "av_monitor_respond: not a synchronous event of this domain");
		return false;
	}
	return true;
}

AV_API int av_monitor_respond(av_monitor *mon, const struct av_event *ev,
			      const struct av_response *rsp)
{
	vm_event_response_t x;
	int r;

	if (!sync_event_ok(mon, ev))
		return -EINVAL;
	r = to_xen_response(mon, ev, rsp, &x);
	return r < 0 ? r : respond_once(mon, ev, &x);
}

AV_API int av_monitor_respond_xen(av_monitor *mon, const struct av_event *ev,
				  const vm_event_response_t *rsp, size_t size)
{
	vm_event_response_t x;

	if (!sync_event_ok(mon, ev) || !rsp)
		return -EINVAL;
	if (size != sizeof(x) || rsp->version != VM_EVENT_INTERFACE_VERSION || rsp->vcpu_id != ev->vcpu) {
		av_err(mon->dom->hv, "av_monitor_respond_xen: size %zu, version %u or vCPU %u does not fit "
		       "event %" PRIu64 " of vCPU %u", size, rsp->version, rsp->vcpu_id, ev->seq, ev->vcpu);
		return -EINVAL;
	}
	x = *rsp;
	x.flags |= VM_EVENT_FLAG_VCPU_PAUSED;
	return respond_once(mon, ev, &x);
}

AV_API int av_monitor_get_stats(av_monitor *mon, struct av_monitor_stats *st)
{
	struct av_monitor_stats full = { .sz = sizeof(full) };

	if (!mon || !st || st->sz < sizeof(size_t))
		return -EINVAL;
	mon->dom->hv->ops->monitor_get_stats(mon, &full);
	/* Every synchronous event taken was answered, but those still pending. */
	full.events = relaxed_get(&mon->async_events);
	for (uint32_t v = 0; v < mon->dom->nr_vcpus; v++) {
		uint64_t n = relaxed_get(&mon->sync_events[v]);

		full.events += n;
		full.responses += n - (atomic_load(&mon->pending[v]) ? 1 : 0);
	}
	out_fill(st, &full, sizeof(full));
	return 0;
}
