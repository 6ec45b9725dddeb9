/* SPDX-License-Identifier: MIT */
/*
 * The grant guest: sets up a one-frame grant table, grants dom0 its buffer
 * page under GRANT_REF, opens an event channel for dom0 (its port in
 * result[2]) and stops at a guest request so dom0 can bind it; then fills
 * the buffer and notifies dom0 on the channel.
 */
#include "guest.h"

struct grant_entry {
	uint16_t flags, domid;
	uint32_t frame;
};

struct alloc_unbound {
	uint16_t dom, remote_dom;
	uint32_t port;
};

struct setup_table {
	uint16_t dom;
	uint32_t nr_frames;
	int16_t status;
	uint64_t frame_list;
};

__attribute__((section(".buffer"), aligned(4096))) volatile unsigned char buffer[4096];
__attribute__((section(".result"), aligned(4096))) volatile uint64_t result[512];

void main(uint64_t vcpu);

void main(uint64_t vcpu)
{
	uint64_t frames[1] = { 0 };
	struct setup_table op = { .dom = 0x7ff0, .nr_frames = 1, .frame_list = (uint64_t)frames };
	volatile struct grant_entry *table;

	if (vcpu)
		return;
	hypercall3(HC_grant_table_op, GNTTABOP_setup_table, (long)&op, 1);
	result[0] = (uint64_t)op.status;
	result[1] = frames[0];
	if (op.status)
		return;
	struct alloc_unbound ch = { .dom = 0x7ff0, .remote_dom = 0 };

	if (hypercall3(HC_event_channel_op, EVTCHNOP_alloc_unbound, (long)&ch, 0))
		return;
	result[2] = ch.port;
	guest_request();        /* dom0 binds the port meanwhile */
	for (int i = 0; i < 4096; i++)
		buffer[i] = GRANT_BYTE(i);
	/* The table is guest memory at the frame the hypervisor gave: write the entry as Linux does. */
	table = (volatile struct grant_entry *)(frames[0] << 12);
	table[GRANT_REF].domid = 0;
	table[GRANT_REF].frame = GUEST_PAGE(GUEST_BUFFER);
	__asm__ volatile("" ::: "memory");
	table[GRANT_REF].flags = 1;     /* GTF_permit_access */
	console("grant: shared\n");
	hypercall3(HC_event_channel_op, EVTCHNOP_send, (long)&ch.port, 0);
}
