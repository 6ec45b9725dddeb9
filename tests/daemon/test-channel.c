/* SPDX-License-Identifier: MIT */
/*
 * The channel's two ends (common/channel.c) against each other in one
 * process, each with the other side's fields rewritten: where either end
 * reads or writes must follow from its own private geometry, never from
 * what the other party put in shared memory.  Under ASan an access outside
 * the mapping's bounds would show here; natively it would fault.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "channel.h"
#include "harness.h"

#define VCPUS 3
#define RING 4

static vm_event_request_t request(uint32_t vcpu, bool sync, uint32_t tag)
{
	vm_event_request_t r;

	memset(&r, 0, sizeof(r));
	r.version = VM_EVENT_INTERFACE_VERSION;
	r.vcpu_id = vcpu;
	r.flags = sync ? VM_EVENT_FLAG_VCPU_PAUSED : 0;
	r.reason = VM_EVENT_REASON_GUEST_REQUEST;
	r.data.regs.x86.rax = tag;
	return r;
}

struct pair {
	struct channel_producer p;
	struct channel_consumer c;
	int memfd;
	char why[160];
};

static int pair_init(struct pair *x)
{
	int r = channel_producer_init(&x->p, VCPUS, RING, &x->memfd);

	if (r == 0)
		r = channel_consumer_init(&x->c, x->memfd, VCPUS, x->why, sizeof(x->why));
	return r;
}

static void pair_deinit(struct pair *x)
{
	channel_consumer_deinit(&x->c);
	channel_producer_deinit(&x->p);
	close(x->memfd);
}

static void a_round_trip(void)
{
	struct pair x;
	vm_event_request_t req = request(1, true, 42), got;
	vm_event_response_t rsp = { .version = VM_EVENT_INTERFACE_VERSION, .vcpu_id = 1 }, back;
	uint32_t w, gen;

	CHECK_EQ(pair_init(&x), 0);
	channel_post(&x.p, 1, &req);
	CHECK(channel_posted(&x.c, 0) & CHANNEL_POSTED_BIT(1));
	w = channel_slot_word(&x.c, 1);
	CHECK(channel_slot_copy(&x.c, 1, w, &got, &gen));
	CHECK_EQ(got.data.regs.x86.rax, 42);
	CHECK_EQ(channel_take_answer(&x.p, 1, &back), -EAGAIN);
	CHECK_EQ(channel_answer(&x.c, 1, CHANNEL_WORD_SEQ(w), &rsp), 0);
	CHECK_EQ(channel_take_answer(&x.p, 1, &back), 0);
	CHECK_EQ(back.vcpu_id, 1);
	/* Answered twice: the slot no longer waits. */
	CHECK_EQ(channel_answer(&x.c, 1, CHANNEL_WORD_SEQ(w), &rsp), -ESTALE);
	pair_deinit(&x);
}

/*
 * An event's registers are the vCPU's until someone sets them: the slot
 * keeps the count it was posted with, the header counts on.
 */
static void registers_set_after_the_event(void)
{
	struct pair x;
	vm_event_request_t req = request(1, true, 7), got;
	uint32_t gen;

	CHECK_EQ(pair_init(&x), 0);
	channel_regs_changed(&x.p, 1);               /* before the event: the event is newer */
	channel_post(&x.p, 1, &req);
	CHECK(channel_slot_copy(&x.c, 1, channel_slot_word(&x.c, 1), &got, &gen));
	CHECK_EQ(gen, channel_regs_gen(&x.c, 1));
	CHECK_EQ(channel_regs_gen(&x.c, 0), 0);      /* another vCPU's count is its own */
	channel_regs_changed(&x.p, 1);               /* SetRegisters while it waits */
	CHECK(gen != channel_regs_gen(&x.c, 1));
	channel_regs_changed(&x.p, 9);               /* no such vCPU: nothing written */
	CHECK_EQ(channel_regs_gen(&x.c, 9), 0);
	pair_deinit(&x);
}

/* The producer's geometry is its own: header fields the client rewrote change nothing. */
static void producer_ignores_the_header(void)
{
	struct pair x;
	vm_event_request_t req = request(0, false, 7), got;

	CHECK_EQ(pair_init(&x), 0);
	x.p.hdr->nr_vcpus = UINT32_MAX;
	x.p.hdr->ring_entries = 1u << 31;
	x.p.hdr->ring_offset = UINT64_MAX;
	x.p.hdr->size = 1;
	x.p.hdr->ring_head = 0x7fffffff;
	for (int i = 0; i < RING; i++)
		CHECK(channel_ring_push(&x.p, &req));
	/* Full, by the producer's own count, whatever the header now says. */
	CHECK(!channel_ring_push(&x.p, &req));
	/* A tail from the future is a full ring, not a licence to write. */
	x.p.hdr->ring_tail = 12345;
	CHECK(!channel_ring_push(&x.p, &req));
	x.p.hdr->ring_tail = 0;
	CHECK_EQ(channel_ring_take(&x.c, &got), 0);
	CHECK_EQ(got.data.regs.x86.rax, 7);
	/* Every slot expired by the producer's count of them. */
	channel_post(&x.p, VCPUS - 1, &req);
	channel_expire_all(&x.p);
	CHECK_EQ(CHANNEL_WORD_STATE(channel_slot_word(&x.c, VCPUS - 1)), CHANNEL_EXPIRED);
	pair_deinit(&x);
}

/* Garbage in a slot is a bad answer, never an answer. */
static void producer_refuses_garbage_words(void)
{
	struct pair x;
	vm_event_request_t req = request(2, true, 1);
	vm_event_response_t back;
	_Atomic uint32_t *word;

	CHECK_EQ(pair_init(&x), 0);
	channel_post(&x.p, 2, &req);
	word = channel_atomic(&((struct channel_slot *)((uint8_t *)x.p.hdr + CHANNEL_HEADER_SIZE +
							 2 * CHANNEL_SLOT_SIZE))->word);
	atomic_store(word, CHANNEL_WORD(CHANNEL_WORD_SEQ(atomic_load(word)) + 1, CHANNEL_ANSWERED));
	CHECK_EQ(channel_take_answer(&x.p, 2, &back), -EPROTO);
	atomic_store(word, UINT32_MAX);
	CHECK_EQ(channel_take_answer(&x.p, 2, &back), -EPROTO);
	pair_deinit(&x);
}

/* The consumer's side: a daemon gone wrong must not take the client with it. */
static void consumer_refuses_a_runaway_head(void)
{
	struct pair x;
	vm_event_request_t got;

	CHECK_EQ(pair_init(&x), 0);
	x.c.hdr->ring_entries = 1u << 30;
	x.c.hdr->nr_vcpus = UINT32_MAX;
	x.c.hdr->ring_head = RING + 1;
	CHECK_EQ(channel_ring_take(&x.c, &got), -EPROTO);
	x.c.hdr->ring_head = UINT32_MAX;
	CHECK_EQ(channel_ring_take(&x.c, &got), -EPROTO);
	x.c.hdr->ring_head = 0;
	CHECK_EQ(channel_ring_take(&x.c, &got), -EAGAIN);
	pair_deinit(&x);
}

static void consumer_skips_foreign_requests(void)
{
	struct pair x;
	vm_event_request_t req = request(0, true, 1), got;
	uint32_t gen;

	CHECK_EQ(pair_init(&x), 0);
	req.vcpu_id = 2;    /* posted in vCPU 0's slot */
	channel_post(&x.p, 0, &req);
	CHECK(!channel_slot_copy(&x.c, 0, channel_slot_word(&x.c, 0), &got, &gen));
	req = request(1, true, 1);
	req.version = 1;
	channel_post(&x.p, 1, &req);
	CHECK(!channel_slot_copy(&x.c, 1, channel_slot_word(&x.c, 1), &got, &gen));
	pair_deinit(&x);
}

/* Channels that do not add up are refused before anything is read through them. */
static void consumer_checks_the_channel(void)
{
	struct pair x;
	struct channel_consumer c;
	char why[160];
	int fd;

	CHECK_EQ(pair_init(&x), 0);
	CHECK_EQ(channel_consumer_init(&c, x.memfd, VCPUS + 1, why, sizeof(why)), -EPROTO);
	x.p.hdr->ring_entries = 3;
	CHECK_EQ(channel_consumer_init(&c, x.memfd, VCPUS, why, sizeof(why)), -EPROTO);
	x.p.hdr->ring_entries = RING;
	x.p.hdr->ring_offset++;
	CHECK_EQ(channel_consumer_init(&c, x.memfd, VCPUS, why, sizeof(why)), -EPROTO);
	x.p.hdr->ring_offset--;
	x.p.hdr->version = 1;
	CHECK_EQ(channel_consumer_init(&c, x.memfd, VCPUS, why, sizeof(why)), -EPROTO);
	pair_deinit(&x);

	/* Unsealed memory could shrink under the mapping. */
	fd = memfd_create("not-a-channel", MFD_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ(ftruncate(fd, (off_t)channel_size(VCPUS, RING)), 0);
	CHECK_EQ(channel_consumer_init(&c, fd, VCPUS, why, sizeof(why)), -EPROTO);
	CHECK(strstr(why, "sealed"));
	close(fd);
}

T_MAIN(T_CASE(a_round_trip), T_CASE(registers_set_after_the_event), T_CASE(producer_ignores_the_header),
       T_CASE(producer_refuses_garbage_words), T_CASE(consumer_refuses_a_runaway_head),
       T_CASE(consumer_skips_foreign_requests), T_CASE(consumer_checks_the_channel))
