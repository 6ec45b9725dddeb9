/* SPDX-License-Identifier: MIT */
/*
 * The engine interface: what runs a vCPU's guest code, and the services
 * the core gives it.  The core owns translation, access enforcement,
 * events and pausing; an engine only decides what the guest does next and
 * asks the core for every memory access it cannot answer from its cache.
 * Engine services are called from the vCPU's own thread only.
 */
#pragma once

#include "hv.h"

enum hv_run {
	HV_RUN_YIELD,      /* stopped between steps because a pause or stop was asked */
	HV_RUN_DONE,       /* the program finished */
	HV_RUN_CRASH,      /* the domain was crashed (hv_domain_crash) */
};

struct hv_engine_ops {
	const char *name;
	/*
	 * Optional: once per domain, after its memory is populated and before
	 * any vCPU exists (hv_domain_engine_state() hands @state to them).  A
	 * guest image that cannot run crashes the domain with a reason rather
	 * than failing creation, so the tool that made it can see why.
	 */
	int (*domain_init)(struct hv_domain *d, const void *config, void **state);
	void (*domain_deinit)(void *state);
	int (*vcpu_init)(struct hv_vcpu *v, const void *config, void **state);
	void (*vcpu_deinit)(void *state);
	/* Runs until the program ends or hv_vcpu_should_yield() turns true. */
	enum hv_run (*run)(struct hv_vcpu *v, void *state);
	/*
	 * Optional, from any thread: make run() return soon, because a pause
	 * or stop was asked.  May be lost if run() is just starting: the core
	 * repeats it until the vCPU is out of the guest.
	 */
	void (*kick)(void *state);
};

void *hv_domain_engine_state(struct hv_domain *d);

/* True while each completed step must end in hv_vcpu_step_done() promptly. */
bool hv_vcpu_stepping(struct hv_vcpu *v);

/* Kinds of access: the MEM_ACCESS_* bits of Xen's vm_event.h. */
#define HV_ACCESS_R MEM_ACCESS_R
#define HV_ACCESS_W MEM_ACCESS_W
#define HV_ACCESS_X MEM_ACCESS_X

/* Cheap (one relaxed load): checked between guest steps. */
bool hv_vcpu_should_yield(struct hv_vcpu *v);

/*
 * One guest access of @len bytes at gfn:offset (within one page), through
 * the active view, with Xen's access semantics; raises MEM_ACCESS events and
 * waits for their answers.  0: done (or a write discarded or denied);
 * -EINTR: the vCPU is being stopped; -EFAULT: the domain crashed.
 */
int hv_vcpu_access(struct hv_vcpu *v, uint64_t gfn, uint32_t offset, uint32_t len,
		   unsigned int kind, void *buf);

/*
 * The decision half of hv_vcpu_access(), for engines that perform accesses
 * themselves: ALLOWED (the entry, in *raw, permits it now), EMULATE (do it
 * once through *raw although the view forbids it), DENIED (drop the write;
 * *raw is the page the instruction may still read),
 * after every event and answer Xen's semantics call for.  -EINTR, -EFAULT
 * as for hv_vcpu_access().
 */
enum { HV_ACCESS_ALLOWED, HV_ACCESS_EMULATE, HV_ACCESS_DENIED };
int hv_vcpu_access_resolve(struct hv_vcpu *v, uint64_t gfn, uint32_t offset, unsigned int kind,
			   uint64_t *raw);

/*
 * Raises @ev (reason and reason data filled by the engine).  Returns 1 when
 * a listener took it (for a synchronous event @resp holds the answer, its
 * registers already applied), 0 when nobody listens, -EINTR when stopping.
 */
int hv_vcpu_raise(struct hv_vcpu *v, struct hv_event *ev, struct hv_response *resp);

/* The guest's own view switch (VMFUNC): -EPERM for a hidden view. */
int hv_vcpu_guest_switch_view(struct hv_vcpu *v, unsigned int idx);

/* Pause point: the vCPU stops itself until someone unpauses it. */
void hv_vcpu_pause_self(struct hv_vcpu *v);

/*
 * After every completed guest step: applies a pending fast single-step
 * view switch, or raises SINGLESTEP when single-stepping.  0, or -EINTR.
 */
int hv_vcpu_step_done(struct hv_vcpu *v, uint64_t next_gfn);

/* The register file; the engine owns it while it runs. */
struct vm_event_regs_x86 *hv_vcpu_regs(struct hv_vcpu *v);
void hv_vcpu_count_step(struct hv_vcpu *v);

void hv_domain_crash(struct hv_domain *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
