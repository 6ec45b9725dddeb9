/* SPDX-License-Identifier: MIT */
/*
 * altviewd's answer merging (altviewd/answer.c): the documented rule, case by
 * case, and the checks that keep a client's garbage out of the merge.
 */
#include <string.h>

#include "answer.h"
#include "harness.h"

static vm_event_request_t req(uint32_t reason)
{
	vm_event_request_t r;

	memset(&r, 0, sizeof(r));
	r.version = VM_EVENT_INTERFACE_VERSION;
	r.vcpu_id = 2;
	r.reason = reason;
	r.flags = VM_EVENT_FLAG_VCPU_PAUSED;
	return r;
}

static struct answer ans(uint32_t flags, int32_t priority, uint64_t serial)
{
	vm_event_request_t q = req(VM_EVENT_REASON_MEM_ACCESS);
	struct answer a = { .priority = priority, .serial = serial };

	answer_default(DEFAULT_ANSWER_ALLOW, &q, &a.rsp);
	a.rsp.flags |= flags;
	return a;
}

static uint32_t merged_flags(const struct answer *a, size_t n)
{
	vm_event_request_t q = req(VM_EVENT_REASON_MEM_ACCESS);
	vm_event_response_t out;

	answers_merge(a, n, &q, &out);
	return out.flags;
}

static void deny_beats_emulate_beats_allow(void)
{
	struct answer a[3] = { ans(0, 0, 1), ans(VM_EVENT_FLAG_EMULATE, 0, 2),
			       ans(VM_EVENT_FLAG_DENY, 0, 3) };

	CHECK_EQ(merged_flags(a, 1), VM_EVENT_FLAG_VCPU_PAUSED);
	CHECK_EQ(merged_flags(a, 2), VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_EMULATE);
	CHECK_EQ(merged_flags(a, 3), VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_DENY);
	/* Order does not matter. */
	CHECK_EQ(merged_flags(a + 1, 2), VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_DENY);
}

static void one_view_switch_highest_priority(void)
{
	struct answer a[3] = { ans(VM_EVENT_FLAG_ALTERNATE_P2M, 1, 1),
			       ans(VM_EVENT_FLAG_ALTERNATE_P2M, 5, 2),
			       ans(VM_EVENT_FLAG_ALTERNATE_P2M, 5, 3) };
	vm_event_request_t q = req(VM_EVENT_REASON_MEM_ACCESS);
	vm_event_response_t out;

	a[0].rsp.altp2m_idx = 1;
	a[1].rsp.altp2m_idx = 2;
	a[2].rsp.altp2m_idx = 3;
	answers_merge(a, 3, &q, &out);
	CHECK(out.flags & VM_EVENT_FLAG_ALTERNATE_P2M);
	/* Priority 5 twice: the older subscription (serial 2) wins the tie. */
	CHECK_EQ(out.altp2m_idx, 2);
	answers_merge(a, 1, &q, &out);
	CHECK_EQ(out.altp2m_idx, 1);
}

static void fast_singlestep_comes_with_the_winning_switch(void)
{
	struct answer a[2] = { ans(VM_EVENT_FLAG_ALTERNATE_P2M, 9, 1),
			       ans(VM_EVENT_FLAG_FAST_SINGLESTEP, 0, 2) };
	vm_event_request_t q = req(VM_EVENT_REASON_MEM_ACCESS);
	vm_event_response_t out;

	a[0].rsp.altp2m_idx = 4;
	a[1].rsp.u.fast_singlestep.p2midx = 7;
	answers_merge(a, 2, &q, &out);
	/* The higher priority asked for a plain switch: the other's step view is not mixed in. */
	CHECK_EQ(out.flags & (VM_EVENT_FLAG_ALTERNATE_P2M | VM_EVENT_FLAG_FAST_SINGLESTEP),
		 VM_EVENT_FLAG_ALTERNATE_P2M);
	CHECK_EQ(out.altp2m_idx, 4);
	CHECK_EQ(out.u.fast_singlestep.p2midx, 0);
}

static void registers_from_one_client(void)
{
	struct answer a[2] = { ans(VM_EVENT_FLAG_SET_REGISTERS, 0, 1),
			       ans(VM_EVENT_FLAG_SET_REGISTERS, 3, 2) };
	vm_event_request_t q = req(VM_EVENT_REASON_CPUID);
	vm_event_response_t out;

	a[0].rsp.data.regs.x86.rip = 0x1000;
	a[0].rsp.data.regs.x86.rax = 1;
	a[1].rsp.data.regs.x86.rip = 0x2000;
	answers_merge(a, 2, &q, &out);
	CHECK(out.flags & VM_EVENT_FLAG_SET_REGISTERS);
	CHECK_EQ(out.data.regs.x86.rip, 0x2000);
	/* Whole, not field by field: nothing of the loser's registers. */
	CHECK_EQ(out.data.regs.x86.rax, 0);
	CHECK_EQ(out.reason, VM_EVENT_REASON_CPUID);
}

static void singlestep_toggles_once(void)
{
	struct answer a[2] = { ans(VM_EVENT_FLAG_TOGGLE_SINGLESTEP, 0, 1),
			       ans(VM_EVENT_FLAG_TOGGLE_SINGLESTEP, 0, 2) };

	CHECK_EQ(merged_flags(a, 2), VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_TOGGLE_SINGLESTEP);
}

static void nobody_interested(void)
{
	vm_event_request_t mem = req(VM_EVENT_REASON_MEM_ACCESS);
	vm_event_request_t bp = req(VM_EVENT_REASON_SOFTWARE_BREAKPOINT);
	vm_event_response_t out;

	answers_merge(NULL, 0, &mem, &out);
	CHECK_EQ(out.flags, VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_EMULATE);
	answers_merge(NULL, 0, &bp, &out);
	CHECK_EQ(out.flags, VM_EVENT_FLAG_VCPU_PAUSED);
	CHECK_EQ(out.vcpu_id, 2);
	CHECK_EQ(out.version, VM_EVENT_INTERFACE_VERSION);
}

static void defaults(void)
{
	vm_event_request_t q = req(VM_EVENT_REASON_MEM_ACCESS);
	vm_event_response_t out;
	enum default_answer def;

	CHECK_EQ(default_answer_from_name("emulate", &def), 0);
	answer_default(def, &q, &out);
	CHECK_EQ(out.flags, VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_EMULATE);
	CHECK_EQ(default_answer_from_name("deny", &def), 0);
	answer_default(def, &q, &out);
	CHECK_EQ(out.flags, VM_EVENT_FLAG_VCPU_PAUSED | VM_EVENT_FLAG_DENY);
	CHECK(default_answer_from_name("maybe", &def) < 0);
}

static void checks(void)
{
	vm_event_request_t q = req(VM_EVENT_REASON_MEM_ACCESS);
	struct answer a = ans(0, 0, 1);

	CHECK(answer_check(&a.rsp, &q, 10) == NULL);
	a.rsp.version = 6;
	CHECK(answer_check(&a.rsp, &q, 10) != NULL);
	a = ans(0, 0, 1);
	a.rsp.vcpu_id = 3;
	CHECK(answer_check(&a.rsp, &q, 10) != NULL);
	a = ans(1u << 30, 0, 1);
	CHECK(answer_check(&a.rsp, &q, 10) != NULL);
	a = ans(VM_EVENT_FLAG_ALTERNATE_P2M, 0, 1);
	a.rsp.altp2m_idx = 10;
	CHECK(answer_check(&a.rsp, &q, 10) != NULL);
	a.rsp.altp2m_idx = 9;
	CHECK(answer_check(&a.rsp, &q, 10) == NULL);
	a = ans(VM_EVENT_FLAG_FAST_SINGLESTEP, 0, 1);
	a.rsp.u.fast_singlestep.p2midx = 11;
	CHECK(answer_check(&a.rsp, &q, 10) != NULL);
}

int main(void)
{
	static const struct t_case cases[] = {
		{ "DENY beats EMULATE beats allow", deny_beats_emulate_beats_allow },
		{ "one view switch: the highest priority's, then the oldest", one_view_switch_highest_priority },
		{ "a fast single-step comes only with the winning switch", fast_singlestep_comes_with_the_winning_switch },
		{ "registers from one client, whole", registers_from_one_client },
		{ "single-stepping toggles once however many ask", singlestep_toggles_once },
		{ "nobody interested: a memory access is emulated", nobody_interested },
		{ "default answers by name", defaults },
		{ "bad answers are refused", checks },
	};

	return t_run(cases, sizeof(cases) / sizeof(cases[0]));
}
