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
 * The daemon trusts nothing it reads back: a tail that is not behind head
 * by at most ring_entries is treated as a full ring, a word in any other
 * state than ANSWERED for the current seq as a bad answer.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "slot-sync.h"
#include "xen-public.h"

#define CHANNEL_MAGIC 0x31637661u           /* "avc1" */
#define CHANNEL_VERSION 2
#define CHANNEL_MAX_VCPUS 128
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
	uint64_t sync_posted[CHANNEL_MAX_VCPUS / 64] __attribute__((aligned(64)));
	uint32_t ring_head __attribute__((aligned(64)));    /* daemon */
	uint32_t ring_tail __attribute__((aligned(64)));    /* client */
};

struct channel_slot {
	uint32_t word;
	uint8_t client_sleeping;
	uint8_t daemon_sleeping;
	uint16_t pad;
	vm_event_request_t req;     /* daemon */
	vm_event_response_t rsp;    /* client */
};

_Static_assert(sizeof(struct channel_header) <= CHANNEL_HEADER_SIZE, "header fits its page");
_Static_assert(sizeof(struct channel_slot) <= CHANNEL_SLOT_SIZE, "slot fits its size");

static inline uint64_t channel_size(uint32_t nr_vcpus, uint32_t ring_entries)
{
	return CHANNEL_HEADER_SIZE + (uint64_t)nr_vcpus * CHANNEL_SLOT_SIZE +
	       (uint64_t)ring_entries * sizeof(vm_event_request_t);
}

static inline struct channel_slot *channel_slot(void *base, uint32_t vcpu)
{
	return (struct channel_slot *)((uint8_t *)base + CHANNEL_HEADER_SIZE +
				       (size_t)vcpu * CHANNEL_SLOT_SIZE);
}

static inline vm_event_request_t *channel_ring_entry(void *base, uint32_t nr_vcpus,
						     uint32_t index)
{
	return (vm_event_request_t *)((uint8_t *)base + CHANNEL_HEADER_SIZE +
				      (size_t)nr_vcpus * CHANNEL_SLOT_SIZE) + index;
}

static inline _Atomic uint32_t *channel_atomic(uint32_t *p)
{
	return (_Atomic uint32_t *)p;
}
