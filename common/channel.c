/* SPDX-License-Identifier: MIT */
/*
 * channel.c — both ends of the channel altviewd shares with a subscriber
 * (layout and protocol in channel.h), in one place as Xen's io/ring.h
 * keeps both ends of its ring: the producer is altviewd, root; the
 * consumer is a client, anybody in the altview group.
 *
 * The rule that shapes every function here: where a party reads or writes
 * is computed from its own private state only (struct channel_geometry,
 * its own ring index, the seq it posted).  A field the other party writes
 * is loaded once, into a local, and compared against that private state
 * before anything depends on it; a payload the other party writes is
 * copied out once and only the copy is looked at.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"

static struct channel_slot *slot_at(struct channel_header *hdr, uint32_t vcpu)
{
	return (struct channel_slot *)((uint8_t *)hdr + CHANNEL_HEADER_SIZE +
				       (size_t)vcpu * CHANNEL_SLOT_SIZE);
}

static _Atomic uint32_t *word_at(struct channel_header *hdr, uint32_t vcpu)
{
	return channel_atomic(&slot_at(hdr, vcpu)->word);
}

static vm_event_request_t *ring_at(struct channel_header *hdr, const struct channel_geometry *geo,
				   uint32_t index)
{
	return (vm_event_request_t *)((uint8_t *)hdr + CHANNEL_HEADER_SIZE +
				      (size_t)geo->nr_vcpus * CHANNEL_SLOT_SIZE) +
	       (index & (geo->ring_entries - 1));
}

static bool geometry_valid(uint32_t nr_vcpus, uint32_t ring_entries)
{
	return nr_vcpus && nr_vcpus <= ALTVIEW_MAX_VCPUS && ring_entries &&
	       ring_entries <= CHANNEL_RING_MAX && !(ring_entries & (ring_entries - 1));
}

/* ---- the producer ------------------------------------------------------------------ */

static int channel_memfd(uint64_t size, int *out)
{
	/* Sealed against resizing: neither side's accesses can be made to fault. */
	const unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	int fd = memfd_create("altview-channel", MFD_CLOEXEC | MFD_ALLOW_SEALING), r;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, seals) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

int channel_producer_init(struct channel_producer *p, uint32_t nr_vcpus, uint32_t ring_entries,
			  int *memfd)
{
	int fd = -1, r;

	if (!geometry_valid(nr_vcpus, ring_entries))
		return -EINVAL;
	*p = (struct channel_producer){
		.geo = { nr_vcpus, ring_entries, channel_size(nr_vcpus, ring_entries) },
	};
	p->seq = calloc(nr_vcpus, sizeof(*p->seq));
	p->regs_gen = calloc(nr_vcpus, sizeof(*p->regs_gen));
	p->spin = calloc(nr_vcpus, sizeof(*p->spin));
	r = p->seq && p->regs_gen && p->spin ? channel_memfd(p->geo.size, &fd) : -ENOMEM;
	if (r < 0)
		goto fail;
	p->hdr = mmap(NULL, p->geo.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p->hdr == MAP_FAILED) {
		r = -errno;
		p->hdr = NULL;
		close(fd);
		goto fail;
	}
	*p->hdr = (struct channel_header){
		.magic = CHANNEL_MAGIC,
		.version = CHANNEL_VERSION,
		.nr_vcpus = nr_vcpus,
		.ring_entries = ring_entries,
		.size = p->geo.size,
		.slots_offset = CHANNEL_HEADER_SIZE,
		.ring_offset = CHANNEL_HEADER_SIZE + (uint64_t)nr_vcpus * CHANNEL_SLOT_SIZE,
	};
	*memfd = fd;
	return 0;
fail:
	channel_producer_deinit(p);
	return r;
}

void channel_producer_deinit(struct channel_producer *p)
{
	if (p->hdr)
		munmap(p->hdr, p->geo.size);
	free(p->seq);
	free(p->regs_gen);
	free(p->spin);
	*p = (struct channel_producer){ 0 };
}

bool channel_post(struct channel_producer *p, uint32_t vcpu, const vm_event_request_t *req)
{
	struct channel_slot *slot = slot_at(p->hdr, vcpu);
	uint64_t *posted = &p->hdr->sync_posted[CHANNEL_POSTED_WORD(vcpu)];
	uint64_t bit = CHANNEL_POSTED_BIT(vcpu);
	uint8_t *notify = &p->hdr->sync_notify;

	p->seq[vcpu] = CHANNEL_SEQ_NEXT(p->seq[vcpu]);
	__atomic_store_n(&slot->regs_gen, atomic_load(&p->regs_gen[vcpu]), __ATOMIC_RELAXED);
	memcpy(&slot->req, req, sizeof(*req));
	slot_publish(channel_atomic(&slot->word), CHANNEL_WORD(p->seq[vcpu], CHANNEL_PENDING),
		     &slot->client_sleeping);
	/* A bit still set has not been looked at: the client will see the word. */
	if (!(__atomic_load_n(posted, __ATOMIC_SEQ_CST) & bit))
		__atomic_fetch_or(posted, bit, __ATOMIC_SEQ_CST);
	/*
	 * After the word and its bit, as the client sets it before its last
	 * look; taken back, so that only the first event of a burst pays for
	 * the eventfd write and the client's wake-up.
	 */
	return __atomic_load_n(notify, __ATOMIC_SEQ_CST) &&
	       __atomic_exchange_n(notify, 0, __ATOMIC_SEQ_CST);
}

void channel_regs_changed(struct channel_producer *p, uint32_t vcpu)
{
	if (vcpu >= p->geo.nr_vcpus)
		return;
	atomic_store_explicit(channel_atomic(&p->hdr->regs_gen[vcpu]),
			      atomic_fetch_add(&p->regs_gen[vcpu], 1) + 1, memory_order_release);
}

/* The slot's state word for the event last posted: PENDING until something happens. */
static uint32_t pending_word(const struct channel_producer *p, uint32_t vcpu)
{
	return CHANNEL_WORD(p->seq[vcpu], CHANNEL_PENDING);
}

bool channel_spin(struct channel_producer *p, uint32_t vcpu)
{
	return spin_until(word_at(p->hdr, vcpu), pending_word(p, vcpu), false,
			  &p->spin[vcpu]);
}

void channel_nap(struct channel_producer *p, uint32_t vcpu, int ms)
{
	struct channel_slot *slot = slot_at(p->hdr, vcpu);

	slot_nap(channel_atomic(&slot->word), pending_word(p, vcpu), true,
		 &slot->daemon_sleeping, ms);
}

int channel_take_answer(struct channel_producer *p, uint32_t vcpu, vm_event_response_t *rsp)
{
	struct channel_slot *slot = slot_at(p->hdr, vcpu);
	uint32_t w = atomic_load_explicit(channel_atomic(&slot->word), memory_order_acquire);

	if (w == pending_word(p, vcpu))
		return -EAGAIN;
	if (w != CHANNEL_WORD(p->seq[vcpu], CHANNEL_ANSWERED))
		return -EPROTO;
	/* The client may still be writing it: this copy is the answer, whatever it holds. */
	memcpy(rsp, &slot->rsp, sizeof(*rsp));
	return 0;
}

bool channel_expire(struct channel_producer *p, uint32_t vcpu)
{
	uint32_t w = pending_word(p, vcpu);

	return atomic_compare_exchange_strong(word_at(p->hdr, vcpu), &w,
					      CHANNEL_WORD(p->seq[vcpu], CHANNEL_EXPIRED));
}

void channel_expire_all(struct channel_producer *p)
{
	for (uint32_t v = 0; v < p->geo.nr_vcpus; v++) {
		_Atomic uint32_t *word = word_at(p->hdr, v);
		uint32_t w = atomic_load(word);

		/*
		 * The seq here is the slot's, not this thread's copy (the vCPU's
		 * dispatcher owns that): whatever a client wrote, the word only
		 * ever leaves PENDING.  Changing it ends a dispatcher's futex wait.
		 */
		if (CHANNEL_WORD_STATE(w) == CHANNEL_PENDING &&
		    atomic_compare_exchange_strong(word, &w, CHANNEL_WORD(CHANNEL_WORD_SEQ(w),
									  CHANNEL_EXPIRED)))
			futex_wake(word);
	}
}

bool channel_ring_push(struct channel_producer *p, const vm_event_request_t *req)
{
	struct channel_header *h = p->hdr;
	uint32_t tail = atomic_load_explicit(channel_atomic(&h->ring_tail), memory_order_acquire);

	/* A tail from the future (a scribbling client) reads as a full ring. */
	if (p->ring_head - tail >= p->geo.ring_entries)
		return false;
	memcpy(ring_at(h, &p->geo, p->ring_head), req, sizeof(*req));
	p->ring_head++;
	atomic_store_explicit(channel_atomic(&h->ring_head), p->ring_head, memory_order_release);
	return true;
}

void channel_set_dropped(struct channel_producer *p, uint64_t dropped)
{
	__atomic_store_n(&p->hdr->dropped, dropped, __ATOMIC_RELAXED);
}

/* ---- the consumer ------------------------------------------------------------------ */

__attribute__((format(printf, 3, 4)))
static int refuse(char *why, size_t whysz, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whysz, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

/* What the header says, read once: the producer may change it while it is looked at. */
static int header_check(const struct channel_header *shared, uint64_t size, uint32_t nr_vcpus,
			struct channel_geometry *geo, char *why, size_t whysz)
{
	struct channel_header h;

	memcpy(&h, shared, sizeof(h));
	if (h.magic != CHANNEL_MAGIC || h.version != CHANNEL_VERSION)
		return refuse(why, whysz, "not a channel of version %d (magic %#x, version %u)",
			      CHANNEL_VERSION, h.magic, h.version);
	if (h.nr_vcpus != nr_vcpus || !geometry_valid(h.nr_vcpus, h.ring_entries))
		return refuse(why, whysz, "%u slots and %u ring entries, for a domain of %u vCPUs",
			      h.nr_vcpus, h.ring_entries, nr_vcpus);
	if (h.size != size || size != channel_size(h.nr_vcpus, h.ring_entries) ||
	    h.slots_offset != CHANNEL_HEADER_SIZE ||
	    h.ring_offset != CHANNEL_HEADER_SIZE + (uint64_t)h.nr_vcpus * CHANNEL_SLOT_SIZE)
		return refuse(why, whysz, "its layout does not add up to its %llu bytes",
			      (unsigned long long)size);
	*geo = (struct channel_geometry){ h.nr_vcpus, h.ring_entries, size };
	return 0;
}

int channel_consumer_init(struct channel_consumer *c, int memfd, uint32_t nr_vcpus,
			  char *why, size_t whysz)
{
	struct channel_geometry geo;
	struct stat st;
	void *hdr;
	int seals, r;

	*c = (struct channel_consumer){ 0 };
	if (fstat(memfd, &st) < 0)
		return -errno;
	seals = fcntl(memfd, F_GET_SEALS);
	/* Unsealed, it could shrink under the mapping, and every access would be a SIGBUS away. */
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return refuse(why, whysz, "the memory is not sealed against shrinking");
	if ((uint64_t)st.st_size < CHANNEL_HEADER_SIZE ||
	    (uint64_t)st.st_size > channel_size(ALTVIEW_MAX_VCPUS, CHANNEL_RING_MAX))
		return refuse(why, whysz, "%lld bytes is not the size of a channel",
			      (long long)st.st_size);
	hdr = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (hdr == MAP_FAILED)
		return -errno;
	r = header_check(hdr, (uint64_t)st.st_size, nr_vcpus, &geo, why, whysz);
	if (r < 0) {
		munmap(hdr, (size_t)st.st_size);
		return r;
	}
	c->hdr = hdr;
	c->geo = geo;
	c->ring_tail = atomic_load(channel_atomic(&c->hdr->ring_tail));
	return 0;
}

void channel_consumer_deinit(struct channel_consumer *c)
{
	if (c->hdr)
		munmap(c->hdr, c->geo.size);
	*c = (struct channel_consumer){ 0 };
}

int channel_ring_take(struct channel_consumer *c, vm_event_request_t *req)
{
	struct channel_header *h = c->hdr;
	uint32_t head = atomic_load_explicit(channel_atomic(&h->ring_head), memory_order_acquire);

	if (head == c->ring_tail)
		return -EAGAIN;
	if (head - c->ring_tail > c->geo.ring_entries)
		return -EPROTO;
	memcpy(req, ring_at(h, &c->geo, c->ring_tail), sizeof(*req));
	c->ring_tail++;
	atomic_store_explicit(channel_atomic(&h->ring_tail), c->ring_tail, memory_order_release);
	return 0;
}

uint32_t channel_slot_word(struct channel_consumer *c, uint32_t vcpu)
{
	return atomic_load_explicit(word_at(c->hdr, vcpu), memory_order_acquire);
}

bool channel_slot_copy(struct channel_consumer *c, uint32_t vcpu, uint32_t word,
		       vm_event_request_t *req, uint32_t *regs_gen)
{
	if (CHANNEL_WORD_STATE(word) != CHANNEL_PENDING)
		return false;
	*regs_gen = __atomic_load_n(&slot_at(c->hdr, vcpu)->regs_gen, __ATOMIC_RELAXED);
	memcpy(req, &slot_at(c->hdr, vcpu)->req, sizeof(*req));
	/* Posted again while it was being copied: not the event copied, take it next time. */
	if (channel_slot_word(c, vcpu) != word)
		return false;
	return req->version == VM_EVENT_INTERFACE_VERSION && req->vcpu_id == vcpu &&
	       (req->flags & VM_EVENT_FLAG_VCPU_PAUSED);
}

uint32_t channel_regs_gen(struct channel_consumer *c, uint32_t vcpu)
{
	if (vcpu >= c->geo.nr_vcpus)
		return 0;
	return atomic_load_explicit(channel_atomic(&c->hdr->regs_gen[vcpu]), memory_order_acquire);
}

int channel_answer(struct channel_consumer *c, uint32_t vcpu, uint32_t seq,
		   const vm_event_response_t *rsp)
{
	struct channel_slot *slot = slot_at(c->hdr, vcpu);
	uint32_t w = CHANNEL_WORD(seq, CHANNEL_PENDING);

	memcpy(&slot->rsp, rsp, sizeof(*rsp));
	if (!atomic_compare_exchange_strong(channel_atomic(&slot->word), &w,
					    CHANNEL_WORD(seq, CHANNEL_ANSWERED)))
		return w == CHANNEL_WORD(seq, CHANNEL_EXPIRED) ? -ETIMEDOUT : -ESTALE;
	if (__atomic_load_n(&slot->daemon_sleeping, __ATOMIC_SEQ_CST))
		futex_wake(channel_atomic(&slot->word));
	return 0;
}

bool channel_slot_spin(struct channel_consumer *c, uint32_t vcpu, uint32_t word,
		       struct spin_budget *b)
{
	return spin_until(word_at(c->hdr, vcpu), word, false, b);
}

void channel_slot_nap(struct channel_consumer *c, uint32_t vcpu, uint32_t word, int ms)
{
	struct channel_slot *slot = slot_at(c->hdr, vcpu);

	slot_nap(channel_atomic(&slot->word), word, true, &slot->client_sleeping, ms);
}

uint64_t channel_posted(struct channel_consumer *c, uint32_t i)
{
	return __atomic_load_n(&c->hdr->sync_posted[i], __ATOMIC_SEQ_CST);
}

void channel_posted_clear(struct channel_consumer *c, uint32_t vcpu)
{
	__atomic_fetch_and(&c->hdr->sync_posted[CHANNEL_POSTED_WORD(vcpu)],
			   ~CHANNEL_POSTED_BIT(vcpu), __ATOMIC_SEQ_CST);
}

void channel_want_notify(struct channel_consumer *c, bool want)
{
	uint8_t *notify = &c->hdr->sync_notify;

	/* Sequentially consistent when set, as the posted bits are read: Dekker with post. */
	if (want)
		__atomic_store_n(notify, 1, __ATOMIC_SEQ_CST);
	else if (__atomic_load_n(notify, __ATOMIC_RELAXED))
		__atomic_store_n(notify, 0, __ATOMIC_RELAXED);
}

uint64_t channel_dropped(struct channel_consumer *c)
{
	return __atomic_load_n(&c->hdr->dropped, __ATOMIC_RELAXED);
}
