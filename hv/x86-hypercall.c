/* SPDX-License-Identifier: MIT */
/*
 * x86-hypercall.c — the Xen hypercalls an x86 guest makes with vmcall
 * (rax: the hypercall, rdi, rsi, rdx: its arguments, rax: the result), a
 * handler per hypercall in one table.  They run between emulation calls,
 * so a handler may wait (a guest request waits for its monitor).  A
 * pointer the guest passes that is not its RAM crashes the domain, as Xen
 * would fail the guest; anything else unknown is -ENOSYS.
 */
#include <errno.h>
#include <inttypes.h>

#include "x86.h"

/* One hypercall as the guest made it, and the result it gets in rax. */
struct hypercall {
	struct x86_vcpu *xv;
	struct hv_vcpu *v;
	struct hv_domain *d;
	uint64_t nr, a1, a2, a3;
	int64_t ret;
};

typedef enum step hypercall_fn(struct hypercall *hc);

static enum step bad_pointer(struct hypercall *hc, const char *what, uint64_t gpa)
{
	hv_domain_crash(hc->d, "vCPU %u: hypercall %" PRIu64 ": bad %s pointer %#" PRIx64,
			hc->v->id, hc->nr, what, gpa);
	return STEP_CRASH;
}

/* A guest struct in, or back out: a bad pointer crashes the domain. */
static bool copy_in(struct hypercall *hc, const char *what, uint64_t gpa, void *op, size_t size)
{
	return x86_guest_copy(hc->d, gpa, op, size, false) == 0 || (bad_pointer(hc, what, gpa), false);
}

static bool copy_out(struct hypercall *hc, const char *what, uint64_t gpa, void *op, size_t size)
{
	return x86_guest_copy(hc->d, gpa, op, size, true) == 0 || (bad_pointer(hc, what, gpa), false);
}

/* Whole lines into the log, printable characters only. */
static void console_write(struct x86_domain *xd, const char *s, size_t n)
{
	pthread_mutex_lock(&xd->console_lock);
	for (size_t i = 0; i < n; i++) {
		bool full = xd->console_len == sizeof(xd->console) - 1;

		if (s[i] != '\n' && !full) {
			xd->console[xd->console_len++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
			continue;
		}
		xd->console[xd->console_len] = 0;
		hv_log(xd->d->hv, HV_LOG_INFO, "d%u console: %s", xd->d->id, xd->console);
		xd->console_len = 0;
		if (s[i] != '\n')
			xd->console[xd->console_len++] = s[i];
	}
	pthread_mutex_unlock(&xd->console_lock);
}

static enum step console_io(struct hypercall *hc)
{
	char buf[256];

	if (hc->a1 != CONSOLEIO_write)
		return STEP_ON;
	if (hc->a2 > 4096) {
		hv_domain_crash(hc->d, "vCPU %u: console write of %" PRIu64 " bytes", hc->v->id,
				hc->a2);
		return STEP_CRASH;
	}
	for (uint64_t at = 0; at < hc->a2; at += sizeof(buf)) {
		size_t n = hc->a2 - at < sizeof(buf) ? hc->a2 - at : sizeof(buf);

		if (!copy_in(hc, "console", hc->a3 + at, buf, n))
			return STEP_CRASH;
		console_write(hc->xv->xd, buf, n);
	}
	hc->ret = 0;
	return STEP_ON;
}

static enum step sched_op(struct hypercall *hc)
{
	if (hc->a1 == SCHEDOP_shutdown)
		return STEP_DONE;
	if (hc->a1 == SCHEDOP_yield)
		hc->ret = 0;
	return STEP_ON;
}

static enum step hvm_op(struct hypercall *hc)
{
	struct hv_event ev = { .reason = VM_EVENT_REASON_GUEST_REQUEST, .sync = true };
	struct hv_response resp;

	if (hc->a1 != HVMOP_guest_request_vm_event)
		return STEP_ON;
	if (hv_vcpu_raise(hc->v, &ev, &resp) < 0)
		return STEP_STOP;
	hc->ret = 0;
	return STEP_ON;
}

static enum step event_channel_op(struct hypercall *hc)
{
	struct evtchn_alloc_unbound alloc;
	struct evtchn_send send;    /* close's struct has the same shape */

	switch (hc->a1) {
	case EVTCHNOP_alloc_unbound:
		if (!copy_in(hc, "evtchn_alloc_unbound", hc->a2, &alloc, sizeof(alloc)))
			return STEP_CRASH;
		hc->ret = hv_evtchn_alloc_unbound(hc->d, alloc.remote_dom);
		if (hc->ret < 0)
			return STEP_ON;
		alloc.port = (evtchn_port_t)hc->ret;
		hc->ret = 0;
		return copy_out(hc, "evtchn_alloc_unbound", hc->a2, &alloc, sizeof(alloc)) ? STEP_ON
											    : STEP_CRASH;
	case EVTCHNOP_send:
	case EVTCHNOP_close:
		if (!copy_in(hc, "event channel", hc->a2, &send, sizeof(send)))
			return STEP_CRASH;
		hc->ret = hc->a1 == EVTCHNOP_send ? hv_evtchn_send(hc->d, send.port)
						  : hv_evtchn_close(hc->d, send.port);
		return STEP_ON;
	default:
		return STEP_ON;
	}
}

static enum step gnttab_setup_table(struct hypercall *hc)
{
	struct gnttab_setup_table op;
	uint64_t gfns[HV_GNTTAB_DEFAULT_MAX_FRAMES];
	uint64_t list;

	if (!copy_in(hc, "gnttab_setup_table", hc->a2, &op, sizeof(op)))
		return STEP_CRASH;
	list = (uint64_t)(uintptr_t)op.frame_list.p;
	if (op.nr_frames > HV_GNTTAB_DEFAULT_MAX_FRAMES) {
		op.status = GNTST_general_error;
	} else {
		op.status = (int16_t)hv_gnttab_setup_table(hc->d, op.nr_frames, gfns);
		if (op.status == GNTST_okay &&
		    !copy_out(hc, "frame_list", list, gfns, op.nr_frames * sizeof(xen_pfn_t)))
			return STEP_CRASH;
	}
	if (!copy_out(hc, "gnttab_setup_table", hc->a2, &op, sizeof(op)))
		return STEP_CRASH;
	hc->ret = 0;
	return STEP_ON;
}

static enum step gnttab_query_size(struct hypercall *hc)
{
	struct gnttab_query_size op;
	unsigned int cur, max;

	if (!copy_in(hc, "gnttab_query_size", hc->a2, &op, sizeof(op)))
		return STEP_CRASH;
	op.status = (int16_t)hv_gnttab_query_size(hc->d, &cur, &max);
	op.nr_frames = cur;
	op.max_nr_frames = max;
	if (!copy_out(hc, "gnttab_query_size", hc->a2, &op, sizeof(op)))
		return STEP_CRASH;
	hc->ret = 0;
	return STEP_ON;
}

/* One operation at a time (count 1), as the test guests make them. */
static enum step grant_table_op(struct hypercall *hc)
{
	if (hc->a3 != 1)
		return STEP_ON;
	if (hc->a1 == GNTTABOP_setup_table)
		return gnttab_setup_table(hc);
	if (hc->a1 == GNTTABOP_query_size)
		return gnttab_query_size(hc);
	return STEP_ON;
}

static hypercall_fn *const hypercalls[] = {
	[__HYPERVISOR_console_io] = console_io,
	[__HYPERVISOR_sched_op] = sched_op,
	[__HYPERVISOR_hvm_op] = hvm_op,
	[__HYPERVISOR_event_channel_op] = event_channel_op,
	[__HYPERVISOR_grant_table_op] = grant_table_op,
};

enum step x86_hypercall(struct x86_vcpu *xv)
{
	struct vm_event_regs_x86 *regs = hv_vcpu_regs(xv->v);
	struct hypercall hc = {
		.xv = xv, .v = xv->v, .d = xv->v->d, .nr = regs->rax,
		.a1 = regs->rdi, .a2 = regs->rsi, .a3 = regs->rdx, .ret = -ENOSYS,
	};
	enum step step = STEP_ON;

	regs->rip += 3;     /* vmcall */
	if (hc.nr < sizeof(hypercalls) / sizeof(hypercalls[0]) && hypercalls[hc.nr])
		step = hypercalls[hc.nr](&hc);
	if (step == STEP_ON)
		regs->rax = (uint64_t)hc.ret;
	return step;
}
