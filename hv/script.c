/* SPDX-License-Identifier: MIT */
/*
 * The script engine: each vCPU runs a declared program of guest steps.
 * It has no cache and no memory map of its own, so every access goes
 * through the core's translation and access checks; that makes it the
 * deterministic driver of the core's tests and benchmarks.  regs.rip is
 * the index of the step being executed, so events say where they came from.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

#define LOOP_DEPTH 8

enum step_op {
	OP_READ,
	OP_WRITE,
	OP_EXEC,
	OP_INT3,
	OP_CPUID,
	OP_GUEST_REQUEST,
	OP_SWITCH_VIEW,
	OP_PAUSE,
	OP_LOOP,
	OP_END_LOOP,
};

struct step {
	enum step_op op;
	uint32_t offset, len;
	uint32_t count;        /* OP_LOOP */
	size_t begin;          /* OP_END_LOOP: index of its OP_LOOP */
	uint64_t gfn;
	uint64_t value;        /* OP_WRITE data; OP_CPUID leaf | subleaf << 32; view */
};

struct hv_script {
	struct step *steps;
	size_t nr, cap;
	size_t open[LOOP_DEPTH];
	unsigned int depth;
	int error;             /* first builder error, sticky */
};

struct hv_script *hv_script_new(void)
{
	return calloc(1, sizeof(struct hv_script));
}

void hv_script_free(struct hv_script *s)
{
	if (s) {
		free(s->steps);
		free(s);
	}
}

static int add(struct hv_script *s, struct step st, bool valid)
{
	if (!s)
		return -EINVAL;
	if (!valid) {
		if (!s->error)
			s->error = -EINVAL;
		return -EINVAL;
	}
	if (s->nr == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 16;
		struct step *n = realloc(s->steps, cap * sizeof(*n));

		if (!n) {
			s->error = -ENOMEM;
			return -ENOMEM;
		}
		s->steps = n;
		s->cap = cap;
	}
	s->steps[s->nr++] = st;
	return 0;
}

static bool in_page(uint64_t gfn, uint32_t offset, uint32_t len)
{
	return gfn <= HV_MAX_GFN && len >= 1 && offset < HV_PAGE_SIZE && len <= HV_PAGE_SIZE - offset;
}

int hv_script_read(struct hv_script *s, uint64_t gfn, uint32_t offset, uint32_t len)
{
	return add(s, (struct step){ .op = OP_READ, .gfn = gfn, .offset = offset, .len = len },
		   in_page(gfn, offset, len));
}

int hv_script_write(struct hv_script *s, uint64_t gfn, uint32_t offset, uint32_t len,
		    uint64_t value)
{
	return add(s, (struct step){ .op = OP_WRITE, .gfn = gfn, .offset = offset, .len = len,
				     .value = value },
		   in_page(gfn, offset, len));
}

int hv_script_exec(struct hv_script *s, uint64_t gfn, uint32_t offset, uint32_t len)
{
	return add(s, (struct step){ .op = OP_EXEC, .gfn = gfn, .offset = offset, .len = len },
		   in_page(gfn, offset, len));
}

int hv_script_int3(struct hv_script *s, uint64_t gfn, uint32_t offset)
{
	return add(s, (struct step){ .op = OP_INT3, .gfn = gfn, .offset = offset, .len = 1 },
		   in_page(gfn, offset, 1));
}

int hv_script_cpuid(struct hv_script *s, uint32_t leaf, uint32_t subleaf)
{
	return add(s, (struct step){ .op = OP_CPUID, .value = leaf | (uint64_t)subleaf << 32 },
		   true);
}

int hv_script_guest_request(struct hv_script *s)
{
	return add(s, (struct step){ .op = OP_GUEST_REQUEST }, true);
}

int hv_script_switch_view(struct hv_script *s, unsigned int idx)
{
	return add(s, (struct step){ .op = OP_SWITCH_VIEW, .value = idx }, idx < ALTVIEW_MAX_VIEWS);
}

int hv_script_pause_point(struct hv_script *s)
{
	return add(s, (struct step){ .op = OP_PAUSE }, true);
}

int hv_script_loop_begin(struct hv_script *s, uint32_t count)
{
	int r;

	if (!s)
		return -EINVAL;
	r = add(s, (struct step){ .op = OP_LOOP, .count = count },
		count >= 1 && s->depth < LOOP_DEPTH);
	if (r == 0)
		s->open[s->depth++] = s->nr - 1;
	return r;
}

int hv_script_loop_end(struct hv_script *s)
{
	int r;

	if (!s)
		return -EINVAL;
	r = add(s, (struct step){ .op = OP_END_LOOP, .begin = s->depth ? s->open[s->depth - 1] : 0 },
		s->depth > 0);
	if (r == 0)
		s->depth--;
	return r;
}

int hv_script_check(const struct hv_script *s)
{
	if (!s)
		return -EINVAL;
	if (s->error)
		return s->error;
	return s->depth ? -EINVAL : 0;
}

/* ---- the engine ------------------------------------------------------------------ */

struct script_vcpu {
	struct step *steps;    /* a private copy: the caller's script may go away */
	size_t nr, pc;
	uint32_t left[LOOP_DEPTH];
	unsigned int depth;
	uint8_t buf[HV_PAGE_SIZE];
};

static int script_vcpu_init(struct hv_vcpu *v, const void *config, void **state)
{
	const struct hv_script_config *cfg = config;
	const struct hv_script *s;
	struct script_vcpu *st;

	if (!cfg || !cfg->nr || !cfg->scripts)
		return -EINVAL;
	/* One script for all, or one per vCPU; vCPUs past the list idle. */
	s = cfg->nr == 1 ? cfg->scripts[0] : hv_vcpu_id(v) < cfg->nr ? cfg->scripts[hv_vcpu_id(v)] : NULL;
	if (s && hv_script_check(s) < 0)
		return -EINVAL;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	if (s && s->nr) {
		st->steps = malloc(s->nr * sizeof(*st->steps));
		if (!st->steps) {
			free(st);
			return -ENOMEM;
		}
		memcpy(st->steps, s->steps, s->nr * sizeof(*st->steps));
		st->nr = s->nr;
	}
	*state = st;
	return 0;
}

static void script_vcpu_deinit(void *state)
{
	struct script_vcpu *st = state;

	free(st->steps);
	free(st);
}

/* 1 when a listener took the event, 0 when nobody listens, or -EINTR. */
static int raise_sync(struct hv_vcpu *v, struct hv_event *ev)
{
	struct hv_response resp;

	ev->sync = true;
	return hv_vcpu_raise(v, ev, &resp);
}

#define STEP_NOT_RETIRED 1

static int run_step(struct hv_vcpu *v, struct script_vcpu *st, const struct step *s)
{
	struct vm_event_regs_x86 *regs = hv_vcpu_regs(v);
	struct hv_event ev = { 0 };
	int r;

	switch (s->op) {
	case OP_READ:
		r = hv_vcpu_access(v, s->gfn, s->offset, s->len, HV_ACCESS_R, st->buf);
		if (r == 0) {
			regs->rax = 0;
			memcpy(&regs->rax, st->buf, s->len < 8 ? s->len : 8);
		}
		return r;
	case OP_WRITE:
		for (uint32_t i = 0; i < s->len; i++)
			st->buf[i] = (uint8_t)(s->value >> (8 * (i % 8)));
		return hv_vcpu_access(v, s->gfn, s->offset, s->len, HV_ACCESS_W, st->buf);
	case OP_EXEC:
		return hv_vcpu_access(v, s->gfn, s->offset, s->len, HV_ACCESS_X, st->buf);
	case OP_INT3:
		/* The int3 byte is fetched like any instruction, then trapped. */
		r = hv_vcpu_access(v, s->gfn, s->offset, 1, HV_ACCESS_X, st->buf);
		if (r < 0)
			return r;
		ev.reason = VM_EVENT_REASON_SOFTWARE_BREAKPOINT;
		ev.u.software_breakpoint.gfn = s->gfn;
		ev.u.software_breakpoint.insn_length = 1;
		r = raise_sync(v, &ev);
		/* Like x86's #BP a trapped int3 retires nothing: no single step is spent. */
		return r == 1 ? STEP_NOT_RETIRED : r;
	case OP_CPUID:
		/* What the "hardware" answers unless the monitor sets registers. */
		regs->rax = (uint32_t)s->value;
		regs->rbx = 0x746c7661;     /* "avlt" */
		regs->rcx = (uint32_t)(s->value >> 32);
		regs->rdx = 0;
		ev.reason = VM_EVENT_REASON_CPUID;
		ev.u.cpuid.leaf = (uint32_t)s->value;
		ev.u.cpuid.subleaf = (uint32_t)(s->value >> 32);
		ev.u.cpuid.insn_length = 2;
		r = raise_sync(v, &ev);
		return r < 0 ? r : 0;
	case OP_GUEST_REQUEST:
		ev.reason = VM_EVENT_REASON_GUEST_REQUEST;
		r = raise_sync(v, &ev);
		return r < 0 ? r : 0;
	case OP_SWITCH_VIEW:
		/* Refused switches are counted by the core; the guest goes on. */
		hv_vcpu_guest_switch_view(v, (unsigned int)s->value);
		return 0;
	case OP_PAUSE:
	case OP_LOOP:
	case OP_END_LOOP:
		break;
	}
	return 0;
}

static enum hv_run script_run(struct hv_vcpu *v, void *state)
{
	struct script_vcpu *st = state;

	while (st->pc < st->nr) {
		const struct step *s = &st->steps[st->pc];
		int r;

		if (hv_vcpu_should_yield(v))
			return HV_RUN_YIELD;
		hv_vcpu_regs(v)->rip = st->pc;
		switch (s->op) {
		case OP_LOOP:
			st->left[st->depth++] = s->count;
			st->pc++;
			continue;
		case OP_END_LOOP:
			if (--st->left[st->depth - 1] > 0) {
				st->pc = s->begin + 1;
			} else {
				st->depth--;
				st->pc++;
			}
			continue;
		case OP_PAUSE:
			st->pc++;
			hv_vcpu_count_step(v);
			hv_vcpu_pause_self(v);
			return HV_RUN_YIELD;
		default:
			break;
		}
		r = run_step(v, st, s);
		if (r == -EFAULT)
			return HV_RUN_CRASH;
		if (r < 0)
			return HV_RUN_YIELD;    /* stopping: the step is not done */
		st->pc++;
		hv_vcpu_count_step(v);
		hv_vcpu_regs(v)->rip = st->pc;
		if (r != STEP_NOT_RETIRED &&
		    hv_vcpu_step_done(v, st->pc < st->nr ? st->steps[st->pc].gfn : 0) < 0)
			return HV_RUN_YIELD;
	}
	return HV_RUN_DONE;
}

const struct hv_engine_ops hv_script_engine = {
	.name = "script",
	.vcpu_init = script_vcpu_init,
	.vcpu_deinit = script_vcpu_deinit,
	.run = script_run,
};
