/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: arbitrary bytes as a monitor's answers.  The first byte
 * picks the transport and the vCPU; the rest is written over that vCPU's
 * slot (state, flags, response) or over the whole shared ring (indices and
 * entries), and the core then takes answers exactly where it takes them in
 * real runs.  The core must not crash, and a slot must end either idle with
 * an accepted answer or resubmitted with the request back.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "private.h"

static struct hv *hv;
static struct hv_domain *d;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct hv_opts opts = { .sz = sizeof(opts), .machine_bytes = 16 << 20 };
	struct hv_script *s = hv_script_new();
	struct hv_script_config cfg = { .nr = 1, .scripts = (const struct hv_script *const *)&s };
	struct hv_domain_opts dopts = {
		.sz = sizeof(dopts), .memory_bytes = 1 << 20, .nr_vcpus = 2,
		.engine = &hv_script_engine, .engine_config = &cfg,
	};
	unsigned int view;

	(void)argc;
	(void)argv;
	if (hv_new(&opts, &hv) < 0 || hv_domain_create(hv, &dopts, &d) < 0 ||
	    hv_views_enable(d, 4) < 0 || hv_view_create(d, XENMEM_access_rwx, &view) < 0)
		abort();
	hv_script_free(s);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hv_monitor_opts opts = { .sz = sizeof(opts) };
	struct hv_monitor_info info;
	struct hv_monitor *mon;
	uint8_t *buf;

	if (size < 1)
		return 0;
	opts.transport = data[0] & 1 ? HV_MONITOR_RING : HV_MONITOR_CHANNELS;
	if (hv_monitor_enable(d, &opts, &mon) < 0 || hv_monitor_get_info(mon, &info) < 0)
		abort();
	buf = mmap(NULL, info.size, PROT_READ | PROT_WRITE, MAP_SHARED, info.fd, 0);
	if (buf == MAP_FAILED)
		abort();
	data++;
	size--;

	if (opts.transport == HV_MONITOR_CHANNELS) {
		unsigned int vcpu = (data[-1] >> 1) & 1;
		struct hv_vm_event_slot *s = vm_event_slot(buf + info.slots_offset, vcpu);
		struct hv_response resp;
		int r;

		memcpy(s, data, size < HV_VM_EVENT_SLOT_SIZE ? size : HV_VM_EVENT_SLOT_SIZE);
		r = vm_event_slot_collect(mon, vcpu, &resp);
		if (r == 0 && (s->state != HV_SLOT_IDLE || (resp.flags & ~HV_RESPONSE_FLAGS) ||
			       !(resp.flags & VM_EVENT_FLAG_VCPU_PAUSED)))
			abort();
		if (r != 0 && s->state != HV_SLOT_SUBMIT)
			abort();
	} else {
		size_t ring = (size_t)info.ring_pages * HV_PAGE_SIZE;

		memcpy(buf, data, size < ring ? size : ring);
		vm_event_ring_notified(mon, 0);
	}
	munmap(buf, info.size);
	hv_monitor_disable(mon);
	return 0;
}
