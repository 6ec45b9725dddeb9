/* SPDX-License-Identifier: MIT */
/*
 * x86.h — what the x86 engine's files share: its domain and vCPU state, and
 * the guest's hypercalls (x86-hypercall.c) served between emulation calls.
 * Internal to the core.
 */
#pragma once

#include <unicorn/unicorn.h>

#include "private.h"

#define X86_STACK_BYTES      (64 * 1024)
#define X86_DEFAULT_REGIONS  1024
#define RFLAGS_TF            (UINT64_C(1) << 8)
#define CONSOLE_LINE         256

struct x86_vcpu;

struct x86_domain {
	struct hv_domain *d;
	uint64_t entry;
	uint64_t ram_bytes;
	bool parallel;
	unsigned int max_regions;

	/* One vCPU in Unicorn at a time (unless parallel): a fair ticket lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t next_ticket, serving;
	struct x86_vcpu *running;

	pthread_mutex_t console_lock;
	char console[CONSOLE_LINE];
	size_t console_len;
};

struct run {
	uint64_t gfn, nr, mfn;
	uint32_t perms;
};

struct runs {
	struct run *r;
	size_t nr, cap;
};

enum trap { TRAP_NONE, TRAP_MEM, TRAP_BREAKPOINT, TRAP_DEBUG, TRAP_OTHER_INTR };

/*
 * One Unicorn engine and the view it maps.  A vCPU keeps an engine per view
 * it visits (up to X86_ENGINES), so that switching views — DRAKVUF does it
 * twice per breakpoint — is a register copy, not a remap, and each engine
 * keeps the code it translated.
 */
struct engine {
	uc_engine *uc;
	uc_hook hooks[5];
	struct runs map;            /* what the engine has mapped */
	uint64_t gen;               /* p2m generation and view it was built from */
	unsigned int view;
	bool synced;
	uint64_t poke_seq;          /* dom0's writes to guest memory seen so far */
	uint64_t used;              /* when it last ran, for eviction */
};

#define X86_ENGINES 4

struct x86_vcpu {
	struct hv_vcpu *v;
	struct x86_domain *xd;
	struct engine *e;           /* the one that runs the active view */
	struct engine *engines[X86_ENGINES];
	uc_context *context;        /* carries the CPU from one engine to another */
	uint64_t clock;
	/*
	 * Asked to come out (pause, stop, another vCPU's turn).  Only the block
	 * hook acts on it, at a block boundary: a uc_emu_stop() from another
	 * thread can land inside a block and leave rip behind memory effects
	 * already done (the multi-vCPU test caught increments run twice).
	 */
	_Atomic bool stop_req;
	bool stopped;               /* the block hook stopped the engine */
	bool must_step;             /* one instruction that must run (EMULATE, DENY) */
	bool decided;               /* the fault hook resolved the fault already: */
	int decision;               /* HV_ACCESS_*, or -errno */
	uint64_t decided_raw;

	enum trap trap;
	uint64_t trap_addr;
	unsigned int trap_kind;     /* HV_ACCESS_* */
	uint32_t intno;
	bool set_tf;                /* TF is ours, not the guest's */
	/* CPUID results this vCPU has asked the engine for (x86.c, cpuid_result). */
	struct cpuid_result {
		uint32_t leaf, subleaf;
		uint64_t abcd[4];
	} cpuid[16];
	unsigned int nr_cpuid;
	uint8_t scratch[HV_PAGE_SIZE] __attribute__((aligned(HV_PAGE_SIZE)));
};

/* What a vCPU does after an exit from emulation. */
enum step { STEP_ON, STEP_DONE, STEP_CRASH, STEP_STOP };

/* Where machine frame @mfn is in this process. */
static inline uint8_t *machine_ptr(struct hv_domain *d, uint64_t mfn)
{
	return d->hv->machine + (mfn << HV_PAGE_SHIFT);
}

/* Guest-physical copy through the host p2m, for the loader and hypercalls (x86-image.c). */
int x86_guest_copy(struct hv_domain *d, uint64_t gpa, void *buf, size_t len, bool to_guest);
/* Loads the guest's ELF image into its RAM and sets its entry point; *@why says what is wrong. */
int x86_load_elf(struct x86_domain *xd, const uint8_t *img, size_t size, const char **why);
/* The hypercall the guest made with vmcall; rip moves past it. */
enum step x86_hypercall(struct x86_vcpu *xv);

/* The engine's memory map (x86-map.c). */
/* Makes the engine's map the vCPU's view again (and picks the engine for that view). */
int x86_sync_map(struct x86_vcpu *xv);
/* Drops the code translated from pages dom0 wrote since last time. */
void x86_drop_poked_code(struct x86_vcpu *xv);
/* The run holding @gfn, or NULL. */
struct run *x86_run_of(struct x86_vcpu *xv, uint64_t gfn);
int x86_map_run(struct x86_vcpu *xv, const struct run *r);
void x86_unmap_run(struct x86_vcpu *xv, const struct run *r);
/* Maps @r at @host instead of its frames (a page copied aside for one step). */
int x86_map_at(struct x86_vcpu *xv, const struct run *r, void *host);
/* Drops the code the engine translated from @nr pages at @gfn. */
void x86_drop_code(struct x86_vcpu *xv, uint64_t gfn, uint64_t nr);

/* The engine for @view, made or reused; it becomes the vCPU's (x86.c). */
int x86_select_engine(struct x86_vcpu *xv, unsigned int view);
