/* SPDX-License-Identifier: MIT */
/*
 * channel.h — the memory altviewd shares with one subscription: what
 * Domain.Subscribe() hands out as a sealed memfd (org.altview1(5),
 * "Channels").  The daemon writes requests, the client writes answers;
 * payloads are Xen's vm_event_request_t / vm_event_response_t, version 7,
 * as on every other altview transport.
 *
 *   header    at 0, CHANNEL_HEADER_SIZE bytes
 *   slots     a CHANNEL_SLOT_SIZE slot per vCPU: synchronous events
 *   ring      ring_entries requests: asynchronous events and copies
 *
 * A slot's word is (seq << 2 | state).  The daemon posts an event as
 * (seq, PENDING); the client answers by writing rsp and moving the word to
 * (seq, ANSWERED) with a compare-and-swap, so an answer can only ever land
 * on the event it was meant for.  When the client's time is up the daemon
 * moves the word to (seq, EXPIRED) itself, and a late answer fails its
 * compare-and-swap: that is how the client learns its event was answered
 * for it.  Each side sleeps on the word (slot-sync.h) after setting its
 * sleeping flag.
 *
 * A client that takes every vCPU's events on one thread, polling the
 * eventfd, finds the posted slots through sync_posted: a bit per vCPU that
 * the daemon sets after the word and the client clears before it reads
 * the word, so a look costs a cache line rather than one per vCPU.  Before
 * it sleeps in poll() it drains the eventfd, then sets sync_notify and
 * looks once more; the daemon writes the eventfd for a synchronous event
 * only when it takes sync_notify back from 1 to 0, once per sleep.
 *
 * The ring is single-producer (daemon: head), single-consumer (client:
 * tail), never blocking: when it is full the event is counted in dropped.
 *
 * A client reads the registers of a vCPU that waits in its event from the
 * event itself, without a round trip, as long as nobody has set them since
 * (SetRegisters, which another holder may call): regs_gen counts, per
 * vCPU, the times the daemon set them, and each slot carries the count as
 * it was when the event was posted.  Equal counts, and the event still
 * pending: the event's registers are the vCPU's.
 *
 * Each side may be hostile to the other: altviewd is root and its clients
 * are not; a client must survive a daemon gone wrong.  So this header and
 * channel.c own both ends of the protocol, and neither end ever lets
 * shared memory decide where it reads or writes (struct channel_geometry).
 * The daemon takes a tail that is not behind its head by at most the ring
 * as a full ring, a word in any other state than ANSWERED for the current
 * seq as a bad answer; the client takes a head that runs away from its
 * tail as a broken channel, and skips a slot whose request is not for it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "slot-sync.h"
#include "xen-public.h"

#define CHANNEL_MAGIC 0x31637661u           /* "avc1" */
#define CHANNEL_VERSION 3
#define CHANNEL_HEADER_SIZE 4096
#define CHANNEL_SLOT_SIZE 1024
#define CHANNEL_RING_DEFAULT 256
#define CHANNEL_RING_MAX 65536

enum channel_state {
	CHANNEL_IDLE = 0,
	CHANNEL_PENDING = 1,
	CHANNEL_ANSWERED = 2,
	CHANNEL_EXPIRED = 3,
};

#define CHANNEL_WORD(seq, state) ((uint32_t)(seq) << 2 | (uint32_t)(state))
#define CHANNEL_WORD_STATE(word) ((word) & 3u)
#define CHANNEL_WORD_SEQ(word) ((word) >> 2)
/* seq wraps in 30 bits and is never 0, so no event's word is IDLE's. */
#define CHANNEL_SEQ_NEXT(seq) (((seq) + 1) & 0x3fffffffu ? ((seq) + 1) & 0x3fffffffu : 1u)

/* Where vCPU @vcpu's bit is in sync_posted: the word, and the bit in it. */
#define CHANNEL_POSTED_WORD(vcpu) ((vcpu) / 64)
#define CHANNEL_POSTED_BIT(vcpu) (1ull << ((vcpu) % 64))

struct channel_header {
	uint32_t magic;
	uint32_t version;
	uint32_t nr_vcpus;
	uint32_t ring_entries;      /* a power of two */
	uint64_t size;              /* of the whole memfd */
	uint64_t slots_offset;
	uint64_t ring_offset;
	uint64_t dropped;           /* daemon: async events the ring had no room for */
	uint8_t sync_notify;        /* client: write the eventfd for the next sync event */
	/* daemon sets a vCPU's bit after posting to its slot, a poller clears it before looking */
	uint64_t sync_posted[ALTVIEW_MAX_VCPUS / 64] __attribute__((aligned(64)));
	uint32_t ring_head __attribute__((aligned(64)));    /* daemon */
	uint32_t ring_tail __attribute__((aligned(64)));    /* client */
	/* daemon: per vCPU, how many times its registers were set other than by an answer */
	uint32_t regs_gen[ALTVIEW_MAX_VCPUS] __attribute__((aligned(64)));
};

struct channel_slot {
	uint32_t word;
	uint8_t client_sleeping;
	uint8_t daemon_sleeping;
	uint16_t pad;
	uint32_t regs_gen;          /* daemon: regs_gen[vcpu] when req was posted */
	vm_event_request_t req;     /* daemon */
	vm_event_response_t rsp;    /* client */
};

_Static_assert(sizeof(struct channel_header) <= CHANNEL_HEADER_SIZE, "header fits its page");
_Static_assert(sizeof(struct channel_slot) <= CHANNEL_SLOT_SIZE, "slot fits its size");

static inline _Atomic uint32_t *channel_atomic(uint32_t *p)
{
	return (_Atomic uint32_t *)p;
}

static inline uint64_t channel_size(uint32_t nr_vcpus, uint32_t ring_entries)
{
	return CHANNEL_HEADER_SIZE + (uint64_t)nr_vcpus * CHANNEL_SLOT_SIZE +
	       (uint64_t)ring_entries * sizeof(vm_event_request_t);
}

/*
 * Both ends keep the channel's geometry to themselves: it is decided once
 * (the producer when it creates the channel, the consumer when it checks
 * the one it was given) and never read back from shared memory, which the
 * other party may rewrite at any moment.  Every index either end computes
 * is bounded by these private copies; everything read from a field the
 * other party writes is read once, into private memory, then checked.
 */
struct channel_geometry {
	uint32_t nr_vcpus;
	uint32_t ring_entries;      /* a power of two */
	uint64_t size;
};

/* ---- the producer: altviewd ---------------------------------------------------- */

struct channel_producer {
	struct channel_header *hdr;
	struct channel_geometry geo;
	uint32_t ring_head;         /* the only copy the producer trusts */
	uint32_t *seq;              /* per vCPU: the event last posted to its slot */
	_Atomic uint32_t *regs_gen; /* per vCPU: what the header says (any thread bumps it) */
	struct spin_budget *spin;   /* per vCPU: how long waiting for an answer spins */
};

/*
 * A sealed memfd of @nr_vcpus slots and a ring of @ring_entries (a power of
 * two up to CHANNEL_RING_MAX) in *@memfd, mapped by the producer.
 */
int channel_producer_init(struct channel_producer *p, uint32_t nr_vcpus, uint32_t ring_entries,
			  int *memfd);
void channel_producer_deinit(struct channel_producer *p);

/*
 * Posts @req into @vcpu's slot as a new event.  True when the consumer
 * asked to be woken (sync_notify), which this call took back: the caller
 * writes the eventfd.
 */
bool channel_post(struct channel_producer *p, uint32_t vcpu, const vm_event_request_t *req);

/* Spins on the slot while it is pending, within the vCPU's adaptive budget; false when out. */
bool channel_spin(struct channel_producer *p, uint32_t vcpu);
/* Sleeps at most @ms while the slot is pending. */
void channel_nap(struct channel_producer *p, uint32_t vcpu, int ms);

/*
 * What the consumer made of the pending event:
 *   0          answered: its response, copied once, in *@rsp (unchecked)
 *   -EAGAIN    still pending
 *   -EPROTO    the slot's word is neither pending nor the answer to it
 */
int channel_take_answer(struct channel_producer *p, uint32_t vcpu, vm_event_response_t *rsp);
/*
 * Ends the wait for the pending event: true if the slot then showed it
 * expired, false if an answer came first (take it with channel_take_answer).
 */
bool channel_expire(struct channel_producer *p, uint32_t vcpu);
/* Expires every slot's pending event and wakes whoever sleeps on one (the consumer went away). */
void channel_expire_all(struct channel_producer *p);

/* @vcpu's registers were set (not by an answer): events already posted no longer show them. */
void channel_regs_changed(struct channel_producer *p, uint32_t vcpu);

/* Appends @req to the ring; false (nothing written) when the ring is full. */
bool channel_ring_push(struct channel_producer *p, const vm_event_request_t *req);
void channel_set_dropped(struct channel_producer *p, uint64_t dropped);

/* ---- the consumer: libaltview's altviewd: backend ----------------------------------- */

struct channel_consumer {
	struct channel_header *hdr;
	struct channel_geometry geo;
	uint32_t ring_tail;         /* the only copy the consumer trusts */
};

/*
 * Maps the channel in @memfd and checks it is one this code speaks, for a
 * domain of @nr_vcpus: sealed against shrinking, the size its header
 * states, magic and version.  -EPROTO with the reason in @why otherwise.
 */
int channel_consumer_init(struct channel_consumer *c, int memfd, uint32_t nr_vcpus,
			  char *why, size_t whysz);
void channel_consumer_deinit(struct channel_consumer *c);

/*
 * The next request on the ring into @req: 0, -EAGAIN when there is none,
 * -EPROTO when the producer's head is not within a ring of the tail.
 */
int channel_ring_take(struct channel_consumer *c, vm_event_request_t *req);

/* @vcpu's slot word, for the handshake below. */
uint32_t channel_slot_word(struct channel_consumer *c, uint32_t vcpu);
/*
 * The request of the event the slot showed as @word (PENDING) into @req,
 * if the word has not moved on meanwhile and the request is one for that
 * vCPU: a slot the producer rewrites while it is copied is not taken.
 */
bool channel_slot_copy(struct channel_consumer *c, uint32_t vcpu, uint32_t word,
		       vm_event_request_t *req, uint32_t *regs_gen);
/* How many times @vcpu's registers were set: equal to the taken event's, its registers hold. */
uint32_t channel_regs_gen(struct channel_consumer *c, uint32_t vcpu);
/*
 * Answers the event of @seq in @vcpu's slot: 0, -ETIMEDOUT when the
 * producer expired it, -ESTALE when the slot holds another event.
 */
int channel_answer(struct channel_consumer *c, uint32_t vcpu, uint32_t seq,
		   const vm_event_response_t *rsp);
/* Spins, then sleeps at most @ms, while @vcpu's slot word is still @word. */
bool channel_slot_spin(struct channel_consumer *c, uint32_t vcpu, uint32_t word,
		       struct spin_budget *b);
void channel_slot_nap(struct channel_consumer *c, uint32_t vcpu, uint32_t word, int ms);

/* The posted bits of vCPUs [64 * @i, 64 * @i + 63], and clearing one before its slot is read. */
uint64_t channel_posted(struct channel_consumer *c, uint32_t i);
void channel_posted_clear(struct channel_consumer *c, uint32_t vcpu);
/* Asks the producer to write the eventfd for the next synchronous event (or no longer). */
void channel_want_notify(struct channel_consumer *c, bool want);
uint64_t channel_dropped(struct channel_consumer *c);
