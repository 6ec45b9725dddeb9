/* SPDX-License-Identifier: MIT */
/*
 * monitor.c — multiplexing one domain's vm_events to many subscriptions.
 *
 * Each synchronous event is dispatched on the vCPU's own thread
 * (av_monitor_set_handler), so vCPUs are served in parallel and a slow
 * client holds up only the vCPU it is slow on.  That it is the vCPU's
 * thread matters on a busy machine: each hand-off between threads is a
 * futex sleep and wake-up, and the guest, the daemon and the client would
 * otherwise be three threads taking turns where two do.  For each event
 * the thread picks the matching subscriptions under the lock (taking
 * references), posts the event into each one's slot, then collects the
 * answers outside the lock: each by its deadline, a missing one replaced
 * by the default answer.  The merged answer goes back with
 * av_monitor_respond_xen().  One more thread
 * takes the asynchronous events and pushes them onto the rings, never
 * waiting: a full ring counts a drop.
 *
 * Everything read from a channel is the client's to scribble on: the answer
 * is copied out once and checked, ring indices are bounded before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"
#include "monitor.h"

/* The async thread looks at the stop flag this often. */
#define WAIT_SLICE_MS 100
/* A dead client's slot is noticed within this, even if its wake-up is missed. */
#define NAP_SLICE_MS 50

static uint64_t relaxed_get(_Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void relaxed_add(_Atomic uint64_t *v, uint64_t n)
{
	atomic_fetch_add_explicit(v, n, memory_order_relaxed);
}

/* ---- subscriptions ------------------------------------------------------------ */

static void sink_ref(struct sink *sink)
{
	atomic_fetch_add_explicit(&sink->refs, 1, memory_order_relaxed);
}

void sink_unref(struct sink *sink)
{
	if (!sink || atomic_fetch_sub_explicit(&sink->refs, 1, memory_order_acq_rel) != 1)
		return;
	channel_producer_deinit(&sink->chan);
	if (sink->notify_fd >= 0)
		close(sink->notify_fd);
	free(sink->destination);
	free(sink);
}

int sink_new(struct monitor *mon, bool signals, uint32_t ring_entries, const char *destination,
	    int *memfd, struct sink **out)
{
	struct sink *sink;
	int r = 0;

	sink = calloc(1, sizeof(*sink));
	if (!sink)
		return -ENOMEM;
	sink->refs = 1;
	sink->signals = signals;
	sink->notify_fd = -1;
	sink->destination = strdup(destination);
	if (!sink->destination)
		r = -ENOMEM;
	else if (!signals) {
		r = channel_producer_init(&sink->chan, mon->nr_vcpus, ring_entries, memfd);
		if (r >= 0) {
			sink->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
			if (sink->notify_fd < 0) {
				r = -errno;
				close(*memfd);
			}
		}
	}
	if (r < 0) {
		sink_unref(sink);
		return r;
	}
	*out = sink;
	return 0;
}

static void notify(struct sink *sink)
{
	eventfd_write(sink->notify_fd, 1);
}

/* ---- matching ----------------------------------------------------------------- */

static bool bit_test(const uint64_t *bits, uint32_t i)
{
	return bits[i / 64] >> (i % 64) & 1;
}

static bool event_gfn(const struct av_event *ev, uint64_t *gfn)
{
	switch (ev->kind) {
	case AV_EVENT_MEM_ACCESS: *gfn = ev->u.mem.gfn; return true;
	case AV_EVENT_BREAKPOINT: *gfn = ev->u.breakpoint.gfn; return true;
	case AV_EVENT_SINGLESTEP: *gfn = ev->u.singlestep.gfn; return true;
	default: return false;
	}
}

/* Events without a gfn (CPUID, guest requests) pass any gfn ranges. */
static bool filter_match(const struct filter *f, const struct av_event *ev)
{
	uint64_t gfn;
	bool in = false;

	if (!(f->kinds & AV_EVENT_BIT(ev->kind)))
		return false;
	if (!f->any_vcpu && (ev->vcpu >= ALTVIEW_MAX_VCPUS || !bit_test(f->vcpus, ev->vcpu)))
		return false;
	if (!f->any_view && (ev->view >= ALTVIEW_MAX_VIEWS || !bit_test(f->views, ev->view)))
		return false;
	if (!f->nr_gfn_ranges || !event_gfn(ev, &gfn))
		return true;
	for (uint32_t i = 0; i < f->nr_gfn_ranges && !in; i++)
		in = gfn >= f->gfns[i].first && gfn <= f->gfns[i].last;
	return in;
}

/*
 * The live subscriptions @ev is for, referenced, and (if @priority) their
 * priorities as of now; at most mon->max_subs.
 */
static size_t match(struct monitor *mon, const struct av_event *ev, struct sink **out,
		    int32_t *priority)
{
	size_t n = 0;

	pthread_mutex_lock(&mon->lock);
	for (size_t i = 0; i < mon->nr_sinks; i++) {
		struct sink *sink = mon->sinks[i];

		if (!atomic_load_explicit(&sink->dead, memory_order_relaxed) &&
		    filter_match(&sink->filter, ev)) {
			sink_ref(sink);
			if (priority)
				priority[n] = sink->filter.priority;
			out[n++] = sink;
		}
	}
	pthread_mutex_unlock(&mon->lock);
	return n;
}

/* ---- asynchronous delivery ------------------------------------------------------ */

static void ring_push(struct sink *sink, const vm_event_request_t *req)
{
	if (!channel_ring_push(&sink->chan, req)) {
		relaxed_add(&sink->dropped, 1);
		channel_set_dropped(&sink->chan, relaxed_get(&sink->dropped));
		return;
	}
	relaxed_add(&sink->events, 1);
	notify(sink);
}

static void signal_push(struct signal_queue *q, struct sink *sink, const struct av_event *ev);

static void deliver_async(struct monitor *mon, struct sink *sink, const struct av_event *ev)
{
	if (sink->signals)
		signal_push(mon->signals, sink, ev);
	else
		ring_push(sink, (const vm_event_request_t *)(const void *)ev->xen);
}

static void *async_thread(void *arg)
{
	struct monitor *mon = arg;
	struct pollfd p = { .fd = av_monitor_fd(mon->mon), .events = POLLIN };
	struct sink **sinks = calloc(mon->max_sinks, sizeof(*sinks));
	AV_OPTS(av_event, ev);

	while (sinks && !atomic_load(&mon->stopping)) {
		int r = av_monitor_next_async(mon->mon, &ev);

		if (r == -EAGAIN) {
			poll(&p, 1, WAIT_SLICE_MS);
			continue;
		}
		if (r < 0) {
			/* For good (on xen:, a ring gone mad is given back to Xen): say so once. */
			log_error("domain %u: its monitor failed (%s); the next subscription gets a "
				  "new one", mon->domid, av_strerror(r));
			atomic_store(&mon->broken, true);
			break;
		}
		for (size_t i = 0, n = match(mon, &ev, sinks, NULL); i < n; i++) {
			deliver_async(mon, sinks[i], &ev);
			sink_unref(sinks[i]);
		}
	}
	free(sinks);
	return NULL;
}

/* ---- synchronous delivery ------------------------------------------------------- */

/*
 * Set before the event is visible, cleared once its answer is collected; a
 * flag of its own per vCPU, so that on the event path it is a plain store,
 * written only by that vCPU's dispatcher.
 */
static void awaited_mark(struct sink *sink, uint32_t vcpu, bool waits)
{
	atomic_store_explicit(&sink->awaited[vcpu], waits, memory_order_release);
}

bool sink_awaits(struct sink *sink, uint32_t vcpu)
{
	return vcpu < ALTVIEW_MAX_VCPUS &&
	       atomic_load_explicit(&sink->awaited[vcpu], memory_order_acquire);
}

void monitor_regs_changed(struct monitor *mon, uint32_t vcpu)
{
	pthread_mutex_lock(&mon->lock);
	for (size_t i = 0; i < mon->nr_sinks; i++)
		if (!mon->sinks[i]->signals)
			channel_regs_changed(&mon->sinks[i]->chan, vcpu);
	pthread_mutex_unlock(&mon->lock);
}

static void post(struct sink *sink, uint32_t vcpu, const vm_event_request_t *req)
{
	bool wanted;

	awaited_mark(sink, vcpu, true);
	wanted = channel_post(&sink->chan, vcpu, req);

	relaxed_add(&sink->events, 1);
	if (wanted)
		notify(sink);
}

/*
 * Spinning for an answer only pays while every party to the hand-off is on
 * a CPU: the vCPU's thread and each client it waits for.  When more of them
 * wait at once (in this process: many vCPUs, several clients) than there
 * are CPUs, a spin only keeps a client off the CPU it needs to answer, and
 * the waits go straight to sleep.  The count is process-wide because the
 * CPUs are.
 */
static struct {
	_Atomic int parties;        /* vCPU threads collecting + the answers they wait for */
	_Atomic int cpus;           /* allowed, as of the last monitor_new() */
} demand;

static void demand_add(int n)
{
	atomic_fetch_add_explicit(&demand.parties, n, memory_order_relaxed);
}

static bool demand_fits(void)
{
	return atomic_load_explicit(&demand.parties, memory_order_relaxed) <=
	       atomic_load_explicit(&demand.cpus, memory_order_relaxed);
}

/* View 0 is everyone's; root may use any view, as on the bus (view.c). */
static bool view_usable(struct monitor *mon, const struct sink *sink, uint32_t view)
{
	uint64_t key;

	if (!view || !sink->uid)
		return true;
	key = atomic_load_explicit(&mon->view_keys[view], memory_order_relaxed);
	return key && (key == sink->conn_key || key == VIEW_KEY_UID(sink->uid));
}

/*
 * An answer moves a vCPU only into a view its client could switch it to
 * over the bus, so one client cannot steer the guest into another's view.
 */
static const char *switch_check(struct monitor *mon, const struct sink *sink,
				const vm_event_response_t *rsp)
{
	if ((rsp->flags & VM_EVENT_FLAG_ALTERNATE_P2M) && !view_usable(mon, sink, rsp->altp2m_idx))
		return "a switch into a view that is not its client's";
	if ((rsp->flags & VM_EVENT_FLAG_FAST_SINGLESTEP) &&
	    !view_usable(mon, sink, rsp->u.fast_singlestep.p2midx))
		return "a fast single step into a view that is not its client's";
	return NULL;
}

/*
 * @sink's answer to the event posted in its slot for @vcpu, by @deadline
 * (CLOCK_MONOTONIC ms); false when the default answer applies.
 */
static bool collect(struct monitor *mon, struct sink *sink, uint32_t vcpu, uint64_t deadline,
		    const vm_event_request_t *req, vm_event_response_t *rsp)
{
	struct channel_producer *chan = &sink->chan;
	const char *why;
	int r;

	while ((r = channel_take_answer(chan, vcpu, rsp)) == -EAGAIN && !atomic_load(&sink->dead)) {
		uint64_t now;

		if (demand_fits() && channel_spin(chan, vcpu))
			continue;
		now = monotonic_ms();
		if (now >= deadline) {
			if (!channel_expire(chan, vcpu))
				continue;       /* answered just now */
			relaxed_add(&sink->expired, 1);
			notify(sink);
			return false;
		}
		channel_nap(chan, vcpu, deadline - now < NAP_SLICE_MS ? (int)(deadline - now)
								    : NAP_SLICE_MS);
	}
	if (atomic_load(&sink->dead))
		return false;
	if (r == -EPROTO) {
		relaxed_add(&sink->bad_answers, 1);
		log_debug("domain %u vCPU %u: %s wrote a slot state that is not an answer",
			  mon->domid, vcpu, sink->path);
		return false;
	}
	why = answer_check(rsp, req, ALTVIEW_MAX_VIEWS);
	if (!why)
		why = switch_check(mon, sink, rsp);
	if (why) {
		relaxed_add(&sink->bad_answers, 1);
		log_debug("domain %u vCPU %u: %s answered badly: %s", mon->domid, vcpu, sink->path,
			  why);
		return false;
	}
	/* A client answering in Xen's words is merged in altview's. */
	rsp->flags = xen_response_flags(rsp->flags);
	return true;
}

/*
 * The merged answer, or if the hypervisor refuses it (a view that went
 * away meanwhile), the same without view switch and registers, then none:
 * the vCPU never stays paused for want of an acceptable answer.
 */
static void respond(struct monitor *mon, const struct av_event *ev, vm_event_response_t *rsp)
{
	int r = av_monitor_respond_xen(mon->mon, ev, rsp, sizeof(*rsp));

	if (r == -EINVAL) {
		rsp->flags &= ~(VM_EVENT_FLAG_ALTERNATE_P2M | VM_EVENT_FLAG_FAST_SINGLESTEP |
				VM_EVENT_FLAG_SET_REGISTERS);
		r = av_monitor_respond_xen(mon->mon, ev, rsp, sizeof(*rsp));
	}
	if (r == -EINVAL)
		r = av_monitor_respond(mon->mon, ev, NULL);
	if (r < 0)
		log_warning("domain %u vCPU %u: answering event %" PRIu64 ": %s", mon->domid,
			    ev->vcpu, ev->seq, av_strerror(r));
	else
		relaxed_add(&mon->merged, 1);
}

/* A vCPU's events come one at a time: what dispatching one needs, per vCPU. */
struct dispatch {
	struct sink **sinks;
	int32_t *priority;
	struct answer *answers;
};

static void dispatch_sync(struct monitor *mon, const struct av_event *ev)
{
	const vm_event_request_t *req = (const void *)ev->xen;
	struct dispatch *dp = &mon->dispatch[ev->vcpu];
	enum default_answer def = atomic_load_explicit(&mon->default_answer, memory_order_relaxed);
	uint64_t deadline = monotonic_ms() + (uint64_t)atomic_load_explicit(&mon->timeout_ms,
								       memory_order_relaxed);
	size_t n = match(mon, ev, dp->sinks, dp->priority), nr_posted = 0, nr_answers = 0;
	vm_event_response_t merged;

	relaxed_add(&mon->taken, 1);
	for (size_t i = 0; i < n; i++) {
		if (dp->sinks[i]->signals) {
			signal_push(mon->signals, dp->sinks[i], ev);
		} else {
			post(dp->sinks[i], ev->vcpu, req);
			nr_posted++;
		}
	}
	demand_add(1 + (int)nr_posted);
	for (size_t i = 0; i < n; i++) {
		struct answer *a = &dp->answers[nr_answers];

		if (dp->sinks[i]->signals)
			continue;
		if (!collect(mon, dp->sinks[i], ev->vcpu, deadline, req, &a->rsp))
			answer_default(def, req, &a->rsp);
		awaited_mark(dp->sinks[i], ev->vcpu, false);
		demand_add(-1);
		a->priority = dp->priority[i];
		a->serial = dp->sinks[i]->serial;
		nr_answers++;
	}
	demand_add(-1);
	answers_merge(dp->answers, nr_answers, req, &merged);
	respond(mon, ev, &merged);
	for (size_t i = 0; i < n; i++)
		sink_unref(dp->sinks[i]);
}

/* On the vCPU's own thread (hv:): no hand-off between the guest and the clients. */
static void on_sync_event(av_monitor *m, struct av_event *ev, void *ctx)
{
	dispatch_sync(ctx, ev);
}

/* ---- the monitor ------------------------------------------------------------- */

static int dispatch_alloc(struct monitor *mon)
{
	mon->dispatch = calloc(mon->nr_vcpus, sizeof(*mon->dispatch));
	if (!mon->dispatch)
		return -ENOMEM;
	for (uint32_t v = 0; v < mon->nr_vcpus; v++) {
		struct dispatch *dp = &mon->dispatch[v];

		dp->sinks = calloc(mon->max_sinks, sizeof(*dp->sinks));
		dp->priority = calloc(mon->max_sinks, sizeof(*dp->priority));
		dp->answers = calloc(mon->max_sinks, sizeof(*dp->answers));
		if (!dp->sinks || !dp->priority || !dp->answers)
			return -ENOMEM;
	}
	return 0;
}

static void dispatch_free(struct monitor *mon)
{
	for (uint32_t v = 0; mon->dispatch && v < mon->nr_vcpus; v++) {
		free(mon->dispatch[v].sinks);
		free(mon->dispatch[v].priority);
		free(mon->dispatch[v].answers);
	}
	free(mon->dispatch);
}

/*
 * Events are dispatched on the vCPUs' own threads: a thread of ours per
 * vCPU would cost a hand-off per event (see the top of this file).
 */
static int dispatch_start(struct monitor *mon)
{
	int r = av_monitor_set_handler(mon->mon, on_sync_event, mon);

	if (r == -EOPNOTSUPP)
		log_error("domain %u: the backend cannot hand events to altviewd on the vCPU's "
			  "thread; monitoring needs \"hv:\"", mon->domid);
	if (r < 0)
		return r;
	r = -pthread_create(&mon->async, NULL, async_thread, mon);
	if (r == 0)
		mon->async_started = true;
	return r;
}

int monitor_new(av_domain *handle, uint32_t domid, uint32_t nr_vcpus, struct signal_queue *q,
		size_t max_sinks, struct monitor **out)
{
	struct monitor *mon;
	int r;

	if (!nr_vcpus || nr_vcpus > ALTVIEW_MAX_VCPUS)
		return -EINVAL;
	mon = calloc(1, sizeof(*mon));
	if (!mon)
		return -ENOMEM;
	*mon = (struct monitor){
		.handle = handle, .domid = domid, .nr_vcpus = nr_vcpus, .signals = q,
		.max_sinks = max_sinks, .timeout_ms = 1000,
	};
	pthread_mutex_init(&mon->lock, NULL);
	atomic_store_explicit(&demand.cpus, cpus_allowed(), memory_order_relaxed);
	mon->sinks = calloc(max_sinks, sizeof(*mon->sinks));
	r = mon->sinks ? dispatch_alloc(mon) : -ENOMEM;
	if (r == 0)
		r = av_monitor_open(handle, NULL, &mon->mon);
	if (r == 0)
		r = dispatch_start(mon);
	if (r < 0) {
		monitor_free(mon);
		return r;
	}
	*out = mon;
	return 0;
}

void monitor_set_view_key(struct monitor *mon, uint32_t view, uint64_t key)
{
	if (view < ALTVIEW_MAX_VIEWS)
		atomic_store_explicit(&mon->view_keys[view], key, memory_order_relaxed);
}

void monitor_set_answers(struct monitor *mon, int timeout_ms, enum default_answer def)
{
	atomic_store(&mon->timeout_ms, timeout_ms);
	atomic_store(&mon->default_answer, (int)def);
}

/* No more events for @sink; whatever a dispatch thread waits on is answered at once. */
static void sink_kill(struct sink *sink)
{
	atomic_store(&sink->dead, true);
	if (sink->signals)
		return;
	channel_expire_all(&sink->chan);
	notify(sink);
}

void monitor_free(struct monitor *mon)
{
	if (!mon)
		return;
	atomic_store(&mon->stopping, true);
	pthread_mutex_lock(&mon->lock);
	for (size_t i = 0; i < mon->nr_sinks; i++)
		sink_kill(mon->sinks[i]);
	pthread_mutex_unlock(&mon->lock);
	if (mon->async_started)
		pthread_join(mon->async, NULL);
	/* Waits out on_sync_event() calls, answers with no flags whatever a vCPU still waits on. */
	av_monitor_close(mon->mon);
	for (size_t i = 0; i < mon->nr_sinks; i++)
		sink_unref(mon->sinks[i]);
	dispatch_free(mon);
	free(mon->sinks);
	pthread_mutex_destroy(&mon->lock);
	free(mon);
}

bool monitor_broken(struct monitor *mon)
{
	return atomic_load(&mon->broken);
}

/* Called with the lock held: what the guest must report now. */
static int kinds_update(struct monitor *mon)
{
	uint32_t kinds = 0;
	int r;

	for (size_t i = 0; i < mon->nr_sinks; i++)
		kinds |= mon->sinks[i]->filter.kinds;
	if (kinds == mon->kinds)
		return 0;
	r = av_monitor_set_events(mon->mon, kinds);
	if (r < 0)
		return r;
	/*
	 * Single-stepping that nobody watches any more (its client went away
	 * between a step's toggle and the step) would only slow the vCPU down.
	 */
	if ((mon->kinds & ~kinds) & AV_EVENT_BIT(AV_EVENT_SINGLESTEP))
		for (uint32_t v = 0; v < mon->nr_vcpus; v++)
			av_vcpu_set_singlestep(mon->handle, v, false);
	mon->kinds = kinds;
	return 0;
}

int monitor_add(struct monitor *mon, struct sink *sink)
{
	int r;

	pthread_mutex_lock(&mon->lock);
	if (mon->nr_sinks == mon->max_sinks) {
		pthread_mutex_unlock(&mon->lock);
		return -ENOSPC;
	}
	mon->sinks[mon->nr_sinks++] = sink;
	r = kinds_update(mon);
	if (r < 0)
		mon->sinks[--mon->nr_sinks] = NULL;
	else
		sink_ref(sink);
	pthread_mutex_unlock(&mon->lock);
	return r;
}

int monitor_set_filter(struct monitor *mon, struct sink *sink, const struct filter *f)
{
	struct filter old;
	int r;

	pthread_mutex_lock(&mon->lock);
	old = sink->filter;
	sink->filter = *f;
	r = kinds_update(mon);
	if (r < 0)
		sink->filter = old;
	pthread_mutex_unlock(&mon->lock);
	return r;
}

void monitor_remove(struct monitor *mon, struct sink *sink)
{
	bool found = false;

	pthread_mutex_lock(&mon->lock);
	for (size_t i = 0; i < mon->nr_sinks && !found; i++) {
		if (mon->sinks[i] != sink)
			continue;
		mon->sinks[i] = mon->sinks[--mon->nr_sinks];
		found = true;
	}
	sink_kill(sink);
	if (found)
		kinds_update(mon);
	pthread_mutex_unlock(&mon->lock);
	if (found)
		sink_unref(sink);
}

/* ---- Event signals ----------------------------------------------------------- */

#define SIGNAL_QUEUE_SIZE 4096

struct queued_note {
	struct sink *sink;            /* referenced until sent */
	struct event_note note;
};

struct signal_queue {
	pthread_mutex_t lock;
	struct queued_note *notes;
	uint32_t head, tail;        /* under lock */
	int wake_fd;
	struct event *wake;
	signal_emit_fn *emit;
	void *ctx;
};

static void signal_push(struct signal_queue *q, struct sink *sink, const struct av_event *ev)
{
	struct queued_note *qn;
	bool was_empty;
	uint64_t gfn = 0;

	pthread_mutex_lock(&q->lock);
	if (q->head - q->tail == SIGNAL_QUEUE_SIZE) {
		pthread_mutex_unlock(&q->lock);
		relaxed_add(&sink->dropped, 1);
		return;
	}
	was_empty = q->head == q->tail;
	qn = &q->notes[q->head++ % SIGNAL_QUEUE_SIZE];
	sink_ref(sink);
	qn->sink = sink;
	event_gfn(ev, &gfn);
	qn->note = (struct event_note){
		.kind = ev->kind, .vcpu = ev->vcpu, .view = ev->view,
		.access = ev->kind == AV_EVENT_MEM_ACCESS ? ev->u.mem.access : 0,
		.sync = ev->flags & AV_EVENT_F_SYNC, .gfn = gfn, .rip = ev->regs.rip,
	};
	pthread_mutex_unlock(&q->lock);
	relaxed_add(&sink->events, 1);
	/* One wake-up per batch: the main loop drains everything queued by then. */
	if (was_empty)
		eventfd_write(q->wake_fd, 1);
}

static void on_signal_wake(evutil_socket_t fd, short what, void *arg)
{
	struct signal_queue *q = arg;
	struct queued_note batch[64];
	eventfd_t ignored;
	uint32_t n;

	eventfd_read(q->wake_fd, &ignored);
	do {
		pthread_mutex_lock(&q->lock);
		for (n = 0; n < 64 && q->tail != q->head; n++)
			batch[n] = q->notes[q->tail++ % SIGNAL_QUEUE_SIZE];
		pthread_mutex_unlock(&q->lock);
		for (uint32_t i = 0; i < n; i++) {
			/* A subscription closed meanwhile gets nothing more. */
			if (!atomic_load(&batch[i].sink->dead))
				q->emit(q->ctx, batch[i].sink, &batch[i].note);
			sink_unref(batch[i].sink);
		}
	} while (n == 64);
}

int signal_queue_new(struct event_base *base, signal_emit_fn *emit, void *ctx,
		     struct signal_queue **out)
{
	struct signal_queue *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	pthread_mutex_init(&q->lock, NULL);
	q->wake_fd = -1;
	q->emit = emit;
	q->ctx = ctx;
	q->notes = calloc(SIGNAL_QUEUE_SIZE, sizeof(*q->notes));
	if (q->notes)
		q->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->wake_fd >= 0)
		q->wake = event_new(base, q->wake_fd, EV_READ | EV_PERSIST, on_signal_wake, q);
	if (!q->wake || event_add(q->wake, NULL) < 0) {
		signal_queue_free(q);
		return -ENOMEM;
	}
	*out = q;
	return 0;
}

void signal_queue_free(struct signal_queue *q)
{
	if (!q)
		return;
	if (q->wake)
		event_free(q->wake);
	while (q->notes && q->tail != q->head)
		sink_unref(q->notes[q->tail++ % SIGNAL_QUEUE_SIZE].sink);
	if (q->wake_fd >= 0)
		close(q->wake_fd);
	free(q->notes);
	pthread_mutex_destroy(&q->lock);
	free(q);
}
