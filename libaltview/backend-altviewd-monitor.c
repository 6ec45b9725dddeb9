/* SPDX-License-Identifier: MIT */
/*
 * backend-altviewd-monitor.c — the altviewd backend's monitors: a subscription
 * (Domain.Subscribe) and the channel it hands back (common/channel.h).
 *
 * Events and answers never touch the bus: a vCPU's synchronous event sits
 * in its slot until this side moves the slot's word from PENDING to
 * ANSWERED for the same sequence number, which can only succeed while the
 * daemon still waits for it.  A thread per vCPU sleeps on its slot's word;
 * pollers wait on the notify eventfd instead, and say so in the header so
 * that the daemon writes it for synchronous events as well.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend-altviewd.h"
#include "bus-connect.h"
#include "channel.h"
#include "names.h"
#include "org-altview1.h"

struct channel {
	char path[OBJECT_PATH_MAX];         /* the subscription's object */
	int notify_fd;
	struct channel_consumer chan;
	/* Per vCPU: the seq of the event last handed out, and whether next() has. */
	_Atomic uint32_t taken_seq[ALTVIEW_MAX_VCPUS];
	_Atomic bool taken_by_next[ALTVIEW_MAX_VCPUS];
	uint32_t next_vcpu;                         /* next(): where its look starts */
	/* Per vCPU: the taken event's registers and the count they were posted with. */
	pthread_mutex_t regs_lock;
	struct vm_event_regs_x86 taken_regs[ALTVIEW_MAX_VCPUS];
	uint32_t taken_gen[ALTVIEW_MAX_VCPUS];
	struct spin_budget spin[ALTVIEW_MAX_VCPUS];      /* wait(): one thread per vCPU */
	/* av_monitor_set_handler(): a thread per vCPU here, as the vCPU's own on hv:. */
	pthread_t *handlers;
	uint32_t nr_handlers;
	_Atomic bool stopping;
};

static struct channel *chan_of(struct av_monitor *mon)
{
	return mon->be;
}

static void channel_free(struct channel *c)
{
	channel_consumer_deinit(&c->chan);
	if (c->notify_fd >= 0)
		close(c->notify_fd);
	pthread_mutex_destroy(&c->regs_lock);
	free(c);
}

/* A daemon gone wrong must not take its clients with it: the channel is checked, then kept to. */
static int channel_map(struct av_monitor *mon, struct channel *c, int memfd)
{
	char why[160];
	int r;

	r = channel_consumer_init(&c->chan, memfd, mon->dom->nr_vcpus, why, sizeof(why));
	if (r == -EPROTO)
		av_err(mon->dom->hv, "%s: the daemon's channel is not one this library reads: %s",
		       c->path, why);
	return r;
}

int altviewd_monitor_open(struct av_monitor *mon, const struct av_monitor_opts *opts)
{
	struct channel *c;
	sd_bus_message *reply = NULL;
	const char *path;
	int memfd, notify_fd, r;

	if (opts->transport != AV_TRANSPORT_CHANNELS) {
		av_err(mon->dom->hv, "av_monitor_open: altviewd offers the channels transport only");
		return -EOPNOTSUPP;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->notify_fd = -1;
	pthread_mutex_init(&c->regs_lock, NULL);
	/* No kinds at first, as on hv: (av_monitor_set_events says which). */
	r = altviewd_call(mon->dom->hv, altviewd_domain_path(mon->dom), DOMAIN_IFACE, "Subscribe",
			  -ESRCH, &reply, "a{sv}", 0);
	if (r >= 0)
		r = sd_bus_message_read(reply, "ohh", &path, &memfd, &notify_fd);
	if (r >= 0) {
		snprintf(c->path, sizeof(c->path), "%s", path);
		r = channel_map(mon, c, memfd);
	}
	if (r >= 0) {
		c->notify_fd = fcntl(notify_fd, F_DUPFD_CLOEXEC, 3);
		r = c->notify_fd < 0 ? -errno : 0;
	}
	sd_bus_message_unref(reply);
	if (r < 0) {
		if (c->path[0])
			altviewd_call(mon->dom->hv, c->path, CLIENT_IFACE, "Close", 0, NULL, "");
		channel_free(c);
		return r;
	}
	/* A caller may poll before its first next(): the first event must make the fd readable. */
	channel_want_notify(&c->chan, true);
	mon->be = c;
	return 0;
}

/* Closing the subscription makes the daemon answer whatever this monitor still owes. */
static void handlers_stop(struct channel *c)
{
	atomic_store(&c->stopping, true);
	for (uint32_t v = 0; v < c->nr_handlers; v++)
		pthread_join(c->handlers[v], NULL);
	free(c->handlers);
	c->handlers = NULL;
	c->nr_handlers = 0;
}

void altviewd_monitor_close(struct av_monitor *mon)
{
	struct channel *c = chan_of(mon);

	handlers_stop(c);

	altviewd_call(mon->dom->hv, c->path, CLIENT_IFACE, "Close", 0, NULL, "");
	channel_free(c);
}

static const struct {
	uint32_t reason;
	enum av_event_kind kind;
} reason_kinds[] = {
	{ VM_EVENT_REASON_MEM_ACCESS, AV_EVENT_MEM_ACCESS },
	{ VM_EVENT_REASON_SOFTWARE_BREAKPOINT, AV_EVENT_BREAKPOINT },
	{ VM_EVENT_REASON_SINGLESTEP, AV_EVENT_SINGLESTEP },
	{ VM_EVENT_REASON_CPUID, AV_EVENT_CPUID },
	{ VM_EVENT_REASON_GUEST_REQUEST, AV_EVENT_GUEST_REQUEST },
};

int altviewd_monitor_set_reasons(struct av_monitor *mon, uint32_t reasons)
{
	const char *names[AV_EVENT__MAX + 1] = { 0 };
	sd_bus_message *m = NULL;
	size_t n = 0;
	int r;

	for (size_t i = 0; i < sizeof(reason_kinds) / sizeof(reason_kinds[0]); i++)
		if (reasons & (1u << reason_kinds[i].reason))
			names[n++] = event_kind_name(reason_kinds[i].kind);
	r = altviewd_new_call(mon->dom->hv, chan_of(mon)->path, CLIENT_IFACE, "SetFilter", &m);
	if (r >= 0)
		r = av_bus_append_kinds_filter(m, (char **)names);
	if (r >= 0)
		r = altviewd_send(mon->dom->hv, m, -ENOENT, NULL, NULL);
	sd_bus_message_unref(m);
	return r < 0 ? r : 0;
}

int altviewd_monitor_fd(struct av_monitor *mon)
{
	return chan_of(mon)->notify_fd;
}

/* ---- taking events ---------------------------------------------------------------- */

/* The slot's pending event into @req if it has one; @again allows one handed out before. */
static bool slot_take(struct channel *c, uint32_t vcpu, bool again, vm_event_request_t *req)
{
	uint32_t w = channel_slot_word(&c->chan, vcpu), gen;

	if (CHANNEL_WORD_STATE(w) != CHANNEL_PENDING)
		return false;
	if (!again && atomic_load(&c->taken_by_next[vcpu]) &&
	    atomic_load(&c->taken_seq[vcpu]) == CHANNEL_WORD_SEQ(w))
		return false;
	if (!channel_slot_copy(&c->chan, vcpu, w, req, &gen))
		return false;
	pthread_mutex_lock(&c->regs_lock);
	c->taken_regs[vcpu] = req->data.regs.x86;
	c->taken_gen[vcpu] = gen;
	atomic_store(&c->taken_seq[vcpu], CHANNEL_WORD_SEQ(w));
	pthread_mutex_unlock(&c->regs_lock);
	atomic_store(&c->taken_by_next[vcpu], !again);
	return true;
}

bool altviewd_monitor_regs(struct av_monitor *mon, uint32_t vcpu, struct vm_event_regs_x86 *regs)
{
	struct channel *c = chan_of(mon);
	bool fresh;

	if (vcpu >= c->chan.geo.nr_vcpus)
		return false;
	pthread_mutex_lock(&c->regs_lock);
	/* Still waiting in the event taken, and nobody has set its registers since. */
	fresh = atomic_load(&c->taken_seq[vcpu]) &&
		channel_slot_word(&c->chan, vcpu) ==
			CHANNEL_WORD(atomic_load(&c->taken_seq[vcpu]), CHANNEL_PENDING) &&
		channel_regs_gen(&c->chan, vcpu) == c->taken_gen[vcpu];
	if (fresh)
		*regs = c->taken_regs[vcpu];
	pthread_mutex_unlock(&c->regs_lock);
	return fresh;
}

/* A ring the daemon broke is said once per take, not taken for an empty one. */
static int ring_take(struct av_monitor *mon, struct channel *c, vm_event_request_t *req)
{
	int r = channel_ring_take(&c->chan, req);

	if (r == -EPROTO)
		av_err(mon->dom->hv, "%s: the daemon's ring head is not within a ring of this "
		       "client's tail", c->path);
	return r;
}

/* Where a look for any vCPU's event starts moves on each time, so none waits behind the others. */
static int take_any(struct av_monitor *mon, struct channel *c, vm_event_request_t *req)
{
	uint64_t posted[ALTVIEW_MAX_VCPUS / 64];
	const uint32_t nr_vcpus = c->chan.geo.nr_vcpus;
	const uint32_t nr_words = CHANNEL_POSTED_WORD(nr_vcpus - 1) + 1;
	int r = ring_take(mon, c, req);

	if (r != -EAGAIN)
		return r;
	for (uint32_t i = 0; i < nr_words; i++)
		posted[i] = channel_posted(&c->chan, i);
	for (uint32_t k = 0; k < nr_vcpus; k++) {
		uint32_t v = (c->next_vcpu + k) % nr_vcpus;

		if (!(posted[CHANNEL_POSTED_WORD(v)] & CHANNEL_POSTED_BIT(v)))
			continue;
		/* Cleared before the word is read: a post after this sets it again. */
		channel_posted_clear(&c->chan, v);
		if (slot_take(c, v, false, req)) {
			c->next_vcpu = (v + 1) % nr_vcpus;
			return 0;
		}
	}
	return -EAGAIN;
}

/*
 * A poller that keeps finding events costs the daemon nothing but the
 * slot writes: sync_notify asks for the eventfd only once a look found
 * nothing and the caller is about to poll.  The flag is set before that
 * last look (Dekker with post() in the daemon), so an event posted after
 * it is seen either by the look or through the eventfd.  The eventfd is
 * drained before the flag is set, never after: a post whose event the
 * first look already took may find the flag set and write the eventfd
 * meanwhile, and draining that write with the flag gone would leave
 * nothing to wake the poller for the next event.
 */
int altviewd_monitor_next(struct av_monitor *mon, vm_event_request_t *req)
{
	struct channel *c = chan_of(mon);
	eventfd_t ignored;
	int r = take_any(mon, c, req);

	if (r != -EAGAIN) {
		if (r == 0)
			channel_want_notify(&c->chan, false);
		return r;
	}
	eventfd_read(c->notify_fd, &ignored);
	channel_want_notify(&c->chan, true);
	return take_any(mon, c, req);
}

int altviewd_monitor_next_async(struct av_monitor *mon, vm_event_request_t *req)
{
	struct channel *c = chan_of(mon);
	eventfd_t ignored;

	eventfd_read(c->notify_fd, &ignored);
	return ring_take(mon, c, req);
}

int altviewd_monitor_wait(struct av_monitor *mon, uint32_t vcpu, int timeout_ms,
			  vm_event_request_t *req)
{
	struct channel *c = chan_of(mon);
	uint64_t deadline = monotonic_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint32_t w = channel_slot_word(&c->chan, vcpu);
		int64_t left;

		if (slot_take(c, vcpu, true, req))
			return 0;
		if (channel_slot_spin(&c->chan, vcpu, w, &c->spin[vcpu]))
			continue;
		left = (int64_t)(deadline - monotonic_ms());
		if (left <= 0)
			return -ETIMEDOUT;
		channel_slot_nap(&c->chan, vcpu, w, (int)left);
	}
}

int altviewd_monitor_respond(struct av_monitor *mon, const vm_event_response_t *rsp)
{
	struct channel *c = chan_of(mon);
	uint32_t vcpu = rsp->vcpu_id;
	int r = channel_answer(&c->chan, vcpu, atomic_load(&c->taken_seq[vcpu]), rsp);

	if (r == -ETIMEDOUT)
		av_err(mon->dom->hv, "vCPU %u: too late: the daemon answered this event with its "
		       "default answer", vcpu);
	else if (r < 0)
		av_err(mon->dom->hv, "vCPU %u: the daemon no longer waits for this answer", vcpu);
	return r;
}

void altviewd_monitor_get_stats(struct av_monitor *mon, struct av_monitor_stats *st)
{
	st->async_dropped = channel_dropped(&chan_of(mon)->chan);
}

/* Naps are short: closing the monitor waits for each thread to see it. */
#define HANDLER_NAP_MS 50

static void handler_loop(struct av_monitor *mon, uint32_t vcpu)
{
	struct channel *c = chan_of(mon);

	while (!atomic_load(&c->stopping)) {
		uint32_t w = channel_slot_word(&c->chan, vcpu);

		/* Takes the vCPU's event if there is one, calls the handler, answers if it did not. */
		monitor_handle(mon, vcpu);
		channel_slot_nap(&c->chan, vcpu, w, HANDLER_NAP_MS);
	}
}

int altviewd_monitor_set_handler(struct av_monitor *mon)
{
	struct channel *c = chan_of(mon);
	int r = monitor_threads_start(mon, handler_loop, &c->handlers, &c->nr_handlers);

	if (r < 0)
		handlers_stop(c);
	return r;
}
