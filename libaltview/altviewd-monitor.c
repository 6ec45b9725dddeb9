/* SPDX-License-Identifier: MIT */
/*
 * altviewd-monitor.c — the altviewd backend's monitors: a subscription
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "altviewd.h"
#include "bus-connect.h"
#include "channel.h"
#include "names.h"
#include "org-altview1.h"

struct channel {
	char path[OBJECT_PATH_MAX];         /* the subscription's object */
	int memfd, notify_fd;
	struct channel_header *hdr;
	uint64_t size;
	uint32_t nr_vcpus;
	/* Per vCPU: the seq of the event last handed out, and whether next() has. */
	_Atomic uint32_t taken_seq[AV_MAX_VCPUS];
	_Atomic bool taken_by_next[AV_MAX_VCPUS];
	uint32_t next_vcpu;                         /* next(): where its look starts */
	struct spin_budget spin[AV_MAX_VCPUS];      /* wait(): one thread per vCPU */
};

static struct channel *chan_of(struct av_monitor *mon)
{
	return mon->be;
}

static struct channel_slot *slot_of(struct channel *c, uint32_t vcpu)
{
	return channel_slot(c->hdr, vcpu);
}

/* The daemon is trusted, but a channel that does not add up is not mapped blindly. */
static int channel_check(struct av_monitor *mon, struct channel *c)
{
	const struct channel_header *h = c->hdr;
	struct stat st;
	int seals = fcntl(c->memfd, F_GET_SEALS);

	if (fstat(c->memfd, &st) < 0 || seals < 0 || !(seals & F_SEAL_SHRINK) ||
	    (uint64_t)st.st_size != c->size || h->magic != CHANNEL_MAGIC ||
	    h->version != CHANNEL_VERSION || h->nr_vcpus != mon->dom->nr_vcpus ||
	    h->nr_vcpus > CHANNEL_MAX_VCPUS ||
	    !h->ring_entries || (h->ring_entries & (h->ring_entries - 1)) ||
	    h->size != channel_size(h->nr_vcpus, h->ring_entries) || h->size != c->size ||
	    h->slots_offset != CHANNEL_HEADER_SIZE) {
		av_err(mon->dom->hv, "%s: the daemon's channel is not one this library reads "
		       "(version %u)", c->path, h->version);
		return -EPROTO;
	}
	return 0;
}

static int channel_map(struct av_monitor *mon, struct channel *c)
{
	struct stat st;

	if (fstat(c->memfd, &st) < 0)
		return -errno;
	c->size = (uint64_t)st.st_size;
	if (c->size < CHANNEL_HEADER_SIZE)
		return -EPROTO;
	c->hdr = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (c->hdr == MAP_FAILED) {
		c->hdr = NULL;
		return -errno;
	}
	c->nr_vcpus = mon->dom->nr_vcpus;
	return channel_check(mon, c);
}

static void channel_free(struct channel *c)
{
	if (c->hdr)
		munmap(c->hdr, c->size);
	if (c->memfd >= 0)
		close(c->memfd);
	if (c->notify_fd >= 0)
		close(c->notify_fd);
	free(c);
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
	c->memfd = c->notify_fd = -1;
	/* No kinds at first, as on hv: (av_monitor_set_events says which). */
	r = altviewd_call(mon->dom->hv, altviewd_domain_path(mon->dom), DOMAIN_IFACE, "Subscribe",
			  -ESRCH, &reply, "a{sv}", 0);
	if (r >= 0)
		r = sd_bus_message_read(reply, "ohh", &path, &memfd, &notify_fd);
	if (r >= 0) {
		snprintf(c->path, sizeof(c->path), "%s", path);
		c->memfd = fcntl(memfd, F_DUPFD_CLOEXEC, 3);
		c->notify_fd = fcntl(notify_fd, F_DUPFD_CLOEXEC, 3);
		r = c->memfd < 0 || c->notify_fd < 0 ? -errno : 0;
	}
	sd_bus_message_unref(reply);
	if (r >= 0)
		r = channel_map(mon, c);
	if (r < 0) {
		if (c->path[0])
			altviewd_call(mon->dom->hv, c->path, CLIENT_IFACE, "Close", 0, NULL, "");
		channel_free(c);
		return r;
	}
	/* A caller may poll before its first next(): the first event must make the fd readable. */
	__atomic_store_n(&c->hdr->sync_notify, 1, __ATOMIC_SEQ_CST);
	mon->be = c;
	return 0;
}

/* Closing the subscription makes the daemon answer whatever this monitor still owes. */
void altviewd_monitor_close(struct av_monitor *mon)
{
	struct channel *c = chan_of(mon);

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

static int ring_take(struct channel *c, vm_event_request_t *req)
{
	struct channel_header *h = c->hdr;
	uint32_t tail = atomic_load_explicit(channel_atomic(&h->ring_tail), memory_order_relaxed);
	uint32_t head = atomic_load_explicit(channel_atomic(&h->ring_head), memory_order_acquire);

	if (tail == head)
		return -EAGAIN;
	memcpy(req, channel_ring_entry(h, h->nr_vcpus, tail & (h->ring_entries - 1)), sizeof(*req));
	atomic_store_explicit(channel_atomic(&h->ring_tail), tail + 1, memory_order_release);
	return 0;
}

/* The slot's pending event into @req if it has one; @again allows one handed out before. */
static bool slot_take(struct channel *c, uint32_t vcpu, bool again, vm_event_request_t *req)
{
	struct channel_slot *slot = slot_of(c, vcpu);
	uint32_t w = atomic_load_explicit(channel_atomic(&slot->word), memory_order_acquire);

	if (CHANNEL_WORD_STATE(w) != CHANNEL_PENDING)
		return false;
	if (!again && atomic_load(&c->taken_by_next[vcpu]) &&
	    atomic_load(&c->taken_seq[vcpu]) == CHANNEL_WORD_SEQ(w))
		return false;
	memcpy(req, &slot->req, sizeof(*req));
	/* Posted again while it was being copied: not the event copied, take it next time. */
	if (atomic_load_explicit(channel_atomic(&slot->word), memory_order_acquire) != w)
		return false;
	atomic_store(&c->taken_seq[vcpu], CHANNEL_WORD_SEQ(w));
	atomic_store(&c->taken_by_next[vcpu], !again);
	return true;
}

/* Where a look for any vCPU's event starts moves on each time, so none waits behind the others. */
static int take_any(struct channel *c, vm_event_request_t *req)
{
	uint64_t posted[CHANNEL_MAX_VCPUS / 64];
	const uint32_t nr_words = CHANNEL_POSTED_WORD(c->nr_vcpus - 1) + 1;

	if (ring_take(c, req) == 0)
		return 0;
	for (uint32_t i = 0; i < nr_words; i++)
		posted[i] = __atomic_load_n(&c->hdr->sync_posted[i], __ATOMIC_SEQ_CST);
	for (uint32_t k = 0; k < c->nr_vcpus; k++) {
		uint32_t v = (c->next_vcpu + k) % c->nr_vcpus;
		uint32_t word = CHANNEL_POSTED_WORD(v);
		uint64_t bit = CHANNEL_POSTED_BIT(v);

		if (!(posted[word] & bit))
			continue;
		/* Cleared before the word is read: a post after this sets it again. */
		__atomic_fetch_and(&c->hdr->sync_posted[word], ~bit, __ATOMIC_SEQ_CST);
		if (slot_take(c, v, false, req)) {
			c->next_vcpu = (v + 1) % c->nr_vcpus;
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
	uint8_t *sync_notify = &c->hdr->sync_notify;
	eventfd_t ignored;

	if (take_any(c, req) == 0) {
		if (__atomic_load_n(sync_notify, __ATOMIC_RELAXED))
			__atomic_store_n(sync_notify, 0, __ATOMIC_RELAXED);
		return 0;
	}
	eventfd_read(c->notify_fd, &ignored);
	/* Sequentially consistent, as take_any()'s loads of the posted bits: Dekker with post(). */
	__atomic_store_n(sync_notify, 1, __ATOMIC_SEQ_CST);
	return take_any(c, req);
}

int altviewd_monitor_next_async(struct av_monitor *mon, vm_event_request_t *req)
{
	struct channel *c = chan_of(mon);
	eventfd_t ignored;

	eventfd_read(c->notify_fd, &ignored);
	return ring_take(c, req);
}

int altviewd_monitor_wait(struct av_monitor *mon, uint32_t vcpu, int timeout_ms,
			  vm_event_request_t *req)
{
	struct channel *c = chan_of(mon);
	struct channel_slot *slot = slot_of(c, vcpu);
	_Atomic uint32_t *word = channel_atomic(&slot->word);
	uint64_t deadline = monotonic_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint32_t w = atomic_load_explicit(word, memory_order_acquire);
		int64_t left;

		if (slot_take(c, vcpu, true, req))
			return 0;
		if (spin_until(word, w, false, &c->spin[vcpu]))
			continue;
		left = (int64_t)(deadline - monotonic_ms());
		if (left <= 0)
			return -ETIMEDOUT;
		slot_nap(word, w, true, &slot->client_sleeping, (int)left);
	}
}

int altviewd_monitor_respond(struct av_monitor *mon, const vm_event_response_t *rsp)
{
	struct channel *c = chan_of(mon);
	uint32_t vcpu = rsp->vcpu_id;
	struct channel_slot *slot = slot_of(c, vcpu);
	uint32_t seq = atomic_load(&c->taken_seq[vcpu]);
	uint32_t w = CHANNEL_WORD(seq, CHANNEL_PENDING);

	memcpy(&slot->rsp, rsp, sizeof(*rsp));
	if (!atomic_compare_exchange_strong(channel_atomic(&slot->word), &w,
					    CHANNEL_WORD(seq, CHANNEL_ANSWERED))) {
		if (w == CHANNEL_WORD(seq, CHANNEL_EXPIRED)) {
			av_err(mon->dom->hv, "vCPU %u: too late: the daemon answered this event with "
			       "its default answer", vcpu);
			return -ETIMEDOUT;
		}
		av_err(mon->dom->hv, "vCPU %u: the daemon no longer waits for this answer", vcpu);
		return -ESTALE;
	}
	if (__atomic_load_n(&slot->daemon_sleeping, __ATOMIC_SEQ_CST))
		futex_wake(channel_atomic(&slot->word));
	return 0;
}

void altviewd_monitor_get_stats(struct av_monitor *mon, struct av_monitor_stats *st)
{
	st->async_dropped = __atomic_load_n(&chan_of(mon)->hdr->dropped, __ATOMIC_RELAXED);
}
