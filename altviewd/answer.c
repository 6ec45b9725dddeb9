/* SPDX-License-Identifier: MIT */
/*
 * answer.c — checking, defaulting and merging clients' answers.
 */
#include <errno.h>
#include <string.h>

#include "answer.h"
#include "names.h"

/* What a client may ask for; the daemon adds VCPU_PAUSED itself. */
#define CLIENT_FLAGS                                                                        \
	(VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_EMULATE | VM_EVENT_FLAG_DENY |             \
	 VM_EVENT_FLAG_ALTERNATE_P2M | VM_EVENT_FLAG_SET_REGISTERS |                          \
	 VM_EVENT_FLAG_TOGGLE_SINGLESTEP | VM_EVENT_FLAG_FAST_SINGLESTEP)

static const char *const default_names[] = {
	[DEFAULT_ANSWER_ALLOW] = "allow",
	[DEFAULT_ANSWER_EMULATE] = "emulate",
	[DEFAULT_ANSWER_DENY] = "deny",
};

int default_answer_from_name(const char *name, enum default_answer *out)
{
	int i = NAME_LOOKUP(default_names, name);

	if (i >= 0)
		*out = (enum default_answer)i;
	return i < 0 ? i : 0;
}

const char *default_answer_name(enum default_answer def)
{
	return default_names[def];
}

const char *answer_check(const vm_event_response_t *rsp, const vm_event_request_t *req,
			 uint32_t nr_views)
{
	if (rsp->version != VM_EVENT_INTERFACE_VERSION)
		return "wrong interface version";
	if (rsp->vcpu_id != req->vcpu_id)
		return "wrong vcpu_id";
	if (rsp->flags & ~(CLIENT_FLAGS | XEN_RESPONSE_FLAGS_IGNORED))
		return "unknown flags";
	if ((rsp->flags & VM_EVENT_FLAG_ALTERNATE_P2M) && rsp->altp2m_idx >= nr_views)
		return "view out of range";
	if ((rsp->flags & VM_EVENT_FLAG_FAST_SINGLESTEP) &&
	    rsp->u.fast_singlestep.p2midx >= nr_views)
		return "fast single-step view out of range";
	return NULL;
}

static void answer_init(const vm_event_request_t *req, uint32_t flags, vm_event_response_t *rsp)
{
	memset(rsp, 0, sizeof(*rsp));
	rsp->version = VM_EVENT_INTERFACE_VERSION;
	rsp->vcpu_id = req->vcpu_id;
	rsp->reason = req->reason;
	rsp->flags = VM_EVENT_FLAG_VCPU_PAUSED | flags;
}

void answer_default(enum default_answer def, const vm_event_request_t *req,
		    vm_event_response_t *rsp)
{
	static const uint32_t flags[] = {
		[DEFAULT_ANSWER_ALLOW] = 0,
		[DEFAULT_ANSWER_EMULATE] = VM_EVENT_FLAG_EMULATE,
		[DEFAULT_ANSWER_DENY] = VM_EVENT_FLAG_DENY,
	};

	answer_init(req, flags[def], rsp);
}

/* The answer that asks for @flag and ranks first: highest priority, then oldest. */
static const struct answer *winner(const struct answer *a, size_t n, uint32_t flag)
{
	const struct answer *best = NULL;

	for (size_t i = 0; i < n; i++) {
		if (!(a[i].rsp.flags & flag))
			continue;
		if (!best || a[i].priority > best->priority ||
		    (a[i].priority == best->priority && a[i].serial < best->serial))
			best = &a[i];
	}
	return best;
}

void answers_merge(const struct answer *answers, size_t n, const vm_event_request_t *req,
		   vm_event_response_t *out)
{
	const struct answer *view, *regs;
	uint32_t any = 0;

	for (size_t i = 0; i < n; i++)
		any |= answers[i].rsp.flags;
	if (!n && req->reason == VM_EVENT_REASON_MEM_ACCESS)
		any = VM_EVENT_FLAG_EMULATE;
	answer_init(req, any & VM_EVENT_FLAG_DENY ? VM_EVENT_FLAG_DENY
			 : any & VM_EVENT_FLAG_EMULATE ? VM_EVENT_FLAG_EMULATE : 0, out);
	out->flags |= any & VM_EVENT_FLAG_TOGGLE_SINGLESTEP;

	view = winner(answers, n, VM_EVENT_FLAG_ALTERNATE_P2M | VM_EVENT_FLAG_FAST_SINGLESTEP);
	if (view) {
		out->flags |= view->rsp.flags &
			      (VM_EVENT_FLAG_ALTERNATE_P2M | VM_EVENT_FLAG_FAST_SINGLESTEP);
		out->altp2m_idx = view->rsp.altp2m_idx;
		out->u.fast_singlestep.p2midx = view->rsp.u.fast_singlestep.p2midx;
	}
	regs = winner(answers, n, VM_EVENT_FLAG_SET_REGISTERS);
	if (regs) {
		out->flags |= VM_EVENT_FLAG_SET_REGISTERS;
		out->data.regs.x86 = regs->rsp.data.regs.x86;
	}
}
