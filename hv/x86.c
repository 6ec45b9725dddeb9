/* SPDX-License-Identifier: MIT */
/*
 * x86.c — the x86 engine: real x86-64 guest code in Unicorn, one engine per
 * vCPU, all mapping the domain's machine frames directly.
 *
 * An engine's memory map is its vCPU's active view (x86-map.c), the
 * guest's image is loaded by x86-image.c, its hypercalls are served by
 * x86-hypercall.c; this file keeps the engines, their hooks and the loop
 * that runs a vCPU.
 *
 * Everything that may wait — events, answers, hypercalls, the domain's
 * run lock — happens between emulation calls: hooks only record what
 * happened and stop the engine.  What Unicorn 2.0.1 makes us design around
 * (see the issue this came from): protection faults are precise only with
 * a read/write hook installed; single steps use RFLAGS.TF and the #DB hook,
 * not counted runs; a stop asked before emulation really starts is lost,
 * so a kick only sets a flag that a block hook acts on at the next block
 * (a stop from another thread can land mid-block and leave rip behind);
 * LOCK is not atomic across engines, so a domain's vCPUs run one at a time
 * unless the guest is declared free of shared atomics; thousands of regions
 * abort the process, so a map past max_regions crashes the domain instead.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "x86.h"

/* ---- the domain: its image (x86-image.c), scheduling, console ----------------- */

static int x86_domain_init(struct hv_domain *d, const void *config, void **state)
{
	const struct hv_x86_config *cfg = config;
	struct x86_domain *xd;
	const char *why = NULL;

	if (!cfg)
		return -EINVAL;
	xd = calloc(1, sizeof(*xd));
	if (!xd)
		return -ENOMEM;
	xd->d = d;
	xd->ram_bytes = hv_domain_tot_pages(d) << HV_PAGE_SHIFT;     /* RAM only: nothing else is there yet */
	xd->parallel = cfg->parallel;
	xd->max_regions = cfg->max_regions ? cfg->max_regions : X86_DEFAULT_REGIONS;
	pthread_mutex_init(&xd->lock, NULL);
	pthread_cond_init(&xd->cond, NULL);
	pthread_mutex_init(&xd->console_lock, NULL);
	*state = xd;
	/* A bad image is the guest's problem, not the caller's: the domain exists, crashed. */
	if (x86_load_elf(xd, cfg->image, cfg->image_size, &why) < 0)
		hv_domain_crash(d, "guest image: %s", why);
	return 0;
}

static void x86_domain_deinit(void *state)
{
	struct x86_domain *xd = state;

	pthread_mutex_destroy(&xd->lock);
	pthread_cond_destroy(&xd->cond);
	pthread_mutex_destroy(&xd->console_lock);
	free(xd);
}

/* ---- scheduling: one vCPU of the domain in Unicorn at a time -------------------- */

static void enter(struct x86_vcpu *xv)
{
	struct x86_domain *xd = xv->xd;
	uint64_t ticket;

	if (xd->parallel)
		return;
	pthread_mutex_lock(&xd->lock);
	ticket = xd->next_ticket++;
	while (xd->serving != ticket) {
		struct timespec t;

		/* Ask the one in there to come out at its next block; ask again if it missed it. */
		if (xd->running)
			atomic_store(&xd->running->stop_req, true);
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 1000000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&xd->cond, &xd->lock, &t);
	}
	xd->running = xv;
	pthread_mutex_unlock(&xd->lock);
}

static void leave(struct x86_vcpu *xv)
{
	struct x86_domain *xd = xv->xd;

	if (xd->parallel)
		return;
	pthread_mutex_lock(&xd->lock);
	xd->running = NULL;
	xd->serving++;
	pthread_cond_broadcast(&xd->cond);
	pthread_mutex_unlock(&xd->lock);
}

/* ---- registers ------------------------------------------------------------------------ */

#define GPRS(X) X(RAX, rax) X(RBX, rbx) X(RCX, rcx) X(RDX, rdx) X(RSI, rsi) X(RDI, rdi) \
	X(RBP, rbp) X(RSP, rsp) X(R8, r8) X(R9, r9) X(R10, r10) X(R11, r11) X(R12, r12) \
	X(R13, r13) X(R14, r14) X(R15, r15) X(RIP, rip) X(RFLAGS, rflags) X(CR0, cr0) \
	X(CR2, cr2) X(CR3, cr3) X(CR4, cr4) X(FS_BASE, fs_base) X(GS_BASE, gs_base)

static const int reg_ids[] = {
#define X(uc, f) UC_X86_REG_##uc,
	GPRS(X)
#undef X
};
#define NR_REGS (sizeof(reg_ids) / sizeof(reg_ids[0]))

/* The first @n of the vCPU's registers into the engine (GPRS order). */
static void write_regs(struct x86_vcpu *xv, int n)
{
	struct vm_event_regs_x86 *r = hv_vcpu_regs(xv->v);
	uint64_t vals[NR_REGS];
	void *ptrs[NR_REGS];
	size_t i = 0;

#define X(uc, f) vals[i] = r->f; ptrs[i] = &vals[i]; i++;
	GPRS(X)
#undef X
	uc_reg_write_batch(xv->e->uc, (int *)reg_ids, ptrs, n);
}

/* @step: run one instruction only (TF), whatever the monitor asked. */
static void regs_to_engine(struct x86_vcpu *xv, bool step)
{
	struct vm_event_regs_x86 *r = hv_vcpu_regs(xv->v);

	/* Unicorn runs flat: its own control registers stand (no paging). */
	write_regs(xv, (int)NR_REGS - 6);
	xv->set_tf = (step || hv_vcpu_stepping(xv->v)) && !(r->rflags & RFLAGS_TF);
	if (xv->set_tf) {
		uint64_t fl = r->rflags | RFLAGS_TF;

		uc_reg_write(xv->e->uc, UC_X86_REG_RFLAGS, &fl);
	}
}

/* From inside a hook the 16 GPRs only: writing rip there derails the engine. */
static void regs_to_engine_gprs(struct x86_vcpu *xv)
{
	write_regs(xv, 16);
}

/* Read only: the monitor sees long mode; it cannot take the engine out of it. */
static void efer_from_engine(struct x86_vcpu *xv)
{
	uc_x86_msr efer = { .rid = 0xc0000080 };

	if (uc_reg_read(xv->e->uc, UC_X86_REG_MSR, &efer) == UC_ERR_OK)
		hv_vcpu_regs(xv->v)->msr_efer = efer.value;
}

static void regs_from_engine(struct x86_vcpu *xv)
{
	struct vm_event_regs_x86 *r = hv_vcpu_regs(xv->v);
	uint64_t vals[NR_REGS];
	void *ptrs[NR_REGS];

	for (size_t i = 0; i < NR_REGS; i++)
		ptrs[i] = &vals[i];
	uc_reg_read_batch(xv->e->uc, (int *)reg_ids, ptrs, (int)NR_REGS);
	size_t i = 0;
#define X(uc, f) r->f = vals[i++];
	GPRS(X)
#undef X
	if (xv->set_tf)
		r->rflags &= ~RFLAGS_TF;
	efer_from_engine(xv);
}

/* ---- hooks: record, stop, never wait ----------------------------------------------------- */

static void hook_rw(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value, void *ctx)
{
	/* Present only so that protection faults stop at the faulting instruction. */
}

/*
 * A read or write fault is resolved inside its hook (events and answers,
 * with the run lock released): when the page may now be accessed through
 * the frame the engine maps, the hook lets the access go on (that is also
 * how EMULATE performs it once), and nothing is remapped.  Anything else —
 * a map or code the answer changed, a denied write, a stop — faults out,
 * and the run loop finishes the decision already taken (mem_trap()).
 */
static bool hook_prot(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
		      void *ctx)
{
	struct x86_vcpu *xv = ctx;
	struct hv_vcpu *v = xv->v;
	uint64_t gfn = addr >> HV_PAGE_SHIFT, raw = 0;
	struct run *cur = x86_run_of(xv, gfn);
	struct vm_event_regs_x86 before;
	int r;

	xv->trap = TRAP_MEM;
	xv->trap_addr = addr;
	xv->trap_kind = type == UC_MEM_WRITE_PROT ? HV_ACCESS_W :
			type == UC_MEM_FETCH_PROT ? HV_ACCESS_X : HV_ACCESS_R;
	xv->decided = false;
	/*
	 * Out without deciding: the one instruction of one_instruction_with(),
	 * and fetches (a fetch let through here is fetched again, and faults
	 * again, when its block is translated).
	 */
	if (xv->must_step || !cur || xv->trap_kind == HV_ACCESS_X)
		return false;
	regs_from_engine(xv);
	before = *hv_vcpu_regs(v);
	leave(xv);
	r = hv_vcpu_access_resolve(v, gfn, addr & (HV_PAGE_SIZE - 1), xv->trap_kind, &raw);
	enter(xv);
	xv->decided = true;
	xv->decision = r;
	xv->decided_raw = raw;
	/*
	 * Done here, unless the answer set registers (they cannot all be written
	 * from a hook) or changed the map or dom0's code: then out, exactly, and
	 * the registers as the answer left them are the vCPU's.
	 */
	if ((r == HV_ACCESS_ALLOWED || r == HV_ACCESS_EMULATE) &&
	    !memcmp(&before, hv_vcpu_regs(v), sizeof(before)) &&
	    raw >> HV_PAGE_SHIFT == cur->mfn + (gfn - cur->gfn) &&
	    atomic_load(&v->d->p2m_gen) == xv->e->gen && atomic_load(&v->active_view) == xv->e->view &&
	    atomic_load(&v->d->poke_seq) == xv->e->poke_seq) {
		xv->trap = TRAP_NONE;
		return true;
	}
	return false;
}

/*
 * Where the engine stopped is only exact inside the hook (after a stop the
 * reported rip may be the start of the translated block): keep it.
 */
static void hook_intr(uc_engine *uc, uint32_t intno, void *ctx)
{
	struct x86_vcpu *xv = ctx;

	uc_reg_read(uc, UC_X86_REG_RIP, &xv->trap_addr);
	xv->intno = intno;
	xv->trap = intno == 3 ? TRAP_BREAKPOINT : intno == 1 ? TRAP_DEBUG : TRAP_OTHER_INTR;
	uc_emu_stop(uc);
}

static void hook_block(uc_engine *uc, uint64_t addr, uint32_t size, void *ctx)
{
	struct x86_vcpu *xv = ctx;

	if (atomic_load_explicit(&xv->stop_req, memory_order_relaxed) && !xv->must_step) {
		xv->stopped = true;
		uc_emu_stop(uc);
	}
}

/*
 * What CPUID @leaf/@subleaf gives in this engine.  Unicorn says only by
 * running the instruction, so once per leaf it runs in an engine of its
 * own, and the answer is kept (a vCPU asks few leaves).  0 on success.
 */
static int cpuid_result(struct x86_vcpu *xv, uint32_t leaf, uint32_t subleaf, uint64_t abcd[4])
{
	static const uint8_t insn[] = { 0x0f, 0xa2 };
	static const int ids[] = { UC_X86_REG_RAX, UC_X86_REG_RBX, UC_X86_REG_RCX, UC_X86_REG_RDX };
	uint64_t rax = leaf, rcx = subleaf;
	struct cpuid_result *c;
	uc_engine *uc;
	bool ok;

	for (unsigned int i = 0; i < xv->nr_cpuid; i++) {
		if (xv->cpuid[i].leaf == leaf && xv->cpuid[i].subleaf == subleaf) {
			memcpy(abcd, xv->cpuid[i].abcd, sizeof(xv->cpuid[i].abcd));
			return 0;
		}
	}
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &uc) != UC_ERR_OK)
		return -ENOMEM;
	ok = uc_mem_map(uc, 0x1000, 0x1000, UC_PROT_ALL) == UC_ERR_OK &&
	     uc_mem_write(uc, 0x1000, insn, sizeof(insn)) == UC_ERR_OK &&
	     uc_reg_write(uc, UC_X86_REG_RAX, &rax) == UC_ERR_OK &&
	     uc_reg_write(uc, UC_X86_REG_RCX, &rcx) == UC_ERR_OK &&
	     uc_emu_start(uc, 0x1000, 0x1000 + sizeof(insn), 0, 1) == UC_ERR_OK;
	for (unsigned int i = 0; ok && i < 4; i++)
		ok = uc_reg_read(uc, ids[i], &abcd[i]) == UC_ERR_OK;
	uc_close(uc);
	if (!ok)
		return -EIO;
	c = &xv->cpuid[xv->nr_cpuid < 16 ? xv->nr_cpuid++ : leaf % 16];
	*c = (struct cpuid_result){ .leaf = leaf, .subleaf = subleaf };
	memcpy(c->abcd, abcd, sizeof(c->abcd));
	return 0;
}

/*
 * CPUID is answered inside its hook: a stop from an instruction hook only
 * takes effect at the end of the block (the instructions behind it would
 * run first), and rewriting rip from there derails the engine.  So the
 * event is raised here, with the domain's run lock released meanwhile;
 * a view switch or single-step toggle in the answer applies from the next
 * block on.
 */
static int hook_cpuid(uc_engine *uc, void *ctx)
{
	struct x86_vcpu *xv = ctx;
	struct vm_event_regs_x86 *regs = hv_vcpu_regs(xv->v);
	struct hv_event ev = { .reason = VM_EVENT_REASON_CPUID, .sync = true };
	struct hv_response resp = { 0 };
	uint64_t abcd[4];
	int r;

	regs_from_engine(xv);
	ev.u.cpuid.leaf = (uint32_t)regs->rax;
	ev.u.cpuid.subleaf = (uint32_t)regs->rcx;
	ev.u.cpuid.insn_length = 2;
	/*
	 * As Xen: the event shows the result the guest would get, so that a
	 * monitor answering SET_REGISTERS from it (rip past CPUID) hands the
	 * guest the right values.  Without that flag CPUID runs as usual.
	 */
	if (cpuid_result(xv, ev.u.cpuid.leaf, ev.u.cpuid.subleaf, abcd) == 0) {
		regs->rax = abcd[0];
		regs->rbx = abcd[1];
		regs->rcx = abcd[2];
		regs->rdx = abcd[3];
	}
	leave(xv);
	r = hv_vcpu_raise(xv->v, &ev, &resp);
	enter(xv);
	if (r < 0) {
		/* Being stopped: out at the end of this block, CPUID not run. */
		atomic_store(&xv->stop_req, true);
		xv->stopped = true;
		uc_emu_stop(uc);
		return 1;
	}
	if (r == 0 || !(resp.flags & VM_EVENT_FLAG_SET_REGISTERS))
		return 0;       /* the instruction runs */
	/* The monitor's registers are the answer (rip goes past CPUID as it would). */
	regs_to_engine_gprs(xv);
	return 1;
}

/* ---- vCPUs -------------------------------------------------------------------------------- */

static void engine_free(struct engine *e)
{
	if (!e)
		return;
	uc_close(e->uc);
	free(e->map.r);
	free(e);
}

static struct engine *engine_new(struct x86_vcpu *xv)
{
	struct engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	if (uc_open(UC_ARCH_X86, UC_MODE_64, &e->uc) != UC_ERR_OK) {
		free(e);
		return NULL;
	}
	if (uc_hook_add(e->uc, &e->hooks[0], UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, hook_rw, xv, 1, 0) ||
	    uc_hook_add(e->uc, &e->hooks[1], UC_HOOK_MEM_PROT, hook_prot, xv, 1, 0) ||
	    uc_hook_add(e->uc, &e->hooks[2], UC_HOOK_INTR, hook_intr, xv, 1, 0) ||
	    uc_hook_add(e->uc, &e->hooks[3], UC_HOOK_INSN, hook_cpuid, xv, 1, 0, UC_X86_INS_CPUID) ||
	    uc_hook_add(e->uc, &e->hooks[4], UC_HOOK_BLOCK, hook_block, xv, 1, 0)) {
		engine_free(e);
		return NULL;
	}
	/* Unicorn's own CPU state (segments, FPU/SSE) goes along on a switch. */
	if (!xv->context && uc_context_alloc(e->uc, &xv->context) != UC_ERR_OK) {
		engine_free(e);
		return NULL;
	}
	e->poke_seq = atomic_load(&xv->v->d->poke_seq);
	return e;
}

/*
 * Makes xv->e the engine for @view: the one that has it, else a new one
 * while there is room, else the one unused longest (remapped by sync_map).
 */
int x86_select_engine(struct x86_vcpu *xv, unsigned int view)
{
	struct engine *to = NULL, *lru = NULL;
	size_t free_slot = X86_ENGINES;

	xv->e->used = ++xv->clock;
	if (xv->e->view == view)
		return 0;
	for (size_t i = 0; i < X86_ENGINES; i++) {
		struct engine *e = xv->engines[i];

		if (!e) {
			if (free_slot == X86_ENGINES)
				free_slot = i;
		} else if (e->synced && e->view == view) {
			to = e;
		} else if (e != xv->e && (!lru || e->used < lru->used)) {
			lru = e;
		}
	}
	if (!to && free_slot < X86_ENGINES)
		to = xv->engines[free_slot] = engine_new(xv);
	if (!to)
		to = lru;
	if (!to)
		return -ENOMEM;
	if (uc_context_save(xv->e->uc, xv->context) != UC_ERR_OK ||
	    uc_context_restore(to->uc, xv->context) != UC_ERR_OK)
		return -EIO;
	xv->e = to;
	xv->e->used = ++xv->clock;
	return 0;
}

static int x86_vcpu_init(struct hv_vcpu *v, const void *config, void **state)
{
	struct x86_domain *xd = hv_domain_engine_state(v->d);
	struct vm_event_regs_x86 *r = hv_vcpu_regs(v);
	struct x86_vcpu *xv;

	if (!xd)
		return -EINVAL;
	xv = aligned_alloc(HV_PAGE_SIZE, sizeof(*xv));
	if (!xv)
		return -ENOMEM;
	memset(xv, 0, sizeof(*xv));
	xv->v = v;
	xv->xd = xd;
	xv->e = xv->engines[0] = engine_new(xv);
	if (!xv->e) {
		if (xv->context)
			uc_context_free(xv->context);
		free(xv);
		return -ENOMEM;
	}
	/* The ABI of our guests: entry(vcpu id in rdi) on a stack of its own, at the top of RAM. */
	memset(r, 0, sizeof(*r));
	r->rip = xd->entry;
	r->rdi = v->id;
	r->rsp = xd->ram_bytes - (uint64_t)v->id * X86_STACK_BYTES - 8;
	r->rflags = 0x2;
	r->cr0 = 0x11;
	/* In long mode from the start, as the guest will find itself: tools size registers by it. */
	efer_from_engine(xv);
	*state = xv;
	return 0;
}

static void x86_vcpu_deinit(void *state)
{
	struct x86_vcpu *xv = state;

	for (size_t i = 0; i < X86_ENGINES; i++)
		engine_free(xv->engines[i]);
	uc_context_free(xv->context);
	free(xv);
}

static void x86_kick(void *state)
{
	struct x86_vcpu *xv = state;

	atomic_store(&xv->stop_req, true);
}

/* Runs the instruction at rip, and only it, whatever else is asked meanwhile. */
static uc_err step_one(struct x86_vcpu *xv)
{
	uc_err e;

	/* TF, not a counted run: after a counted run Unicorn flushes all translated code. */
	regs_to_engine(xv, true);
	xv->trap = TRAP_NONE;
	xv->must_step = true;
	enter(xv);
	e = uc_emu_start(xv->e->uc, hv_vcpu_regs(xv->v)->rip, 0, 0, 0);
	leave(xv);
	xv->must_step = false;
	regs_from_engine(xv);
	return e;
}

/*
 * Runs one instruction with page @gfn rwx (EMULATE), or backed by @scratch
 * (DENY: a copy that takes the write and is thrown away).  Permissions
 * alone change in place; another frame needs the page's run split.
 */
static enum step one_instruction_with(struct x86_vcpu *xv, uint64_t gfn, void *scratch)
{
	struct run *cur = x86_run_of(xv, gfn);
	struct run page = { .gfn = gfn, .nr = 1, .perms = UC_PROT_ALL }, before, after;
	uint64_t addr = gfn << HV_PAGE_SHIFT;
	uc_err e;

	if (!cur)
		return STEP_ON;
	if (!scratch) {
		uc_mem_protect(xv->e->uc, addr, HV_PAGE_SIZE, UC_PROT_ALL);
		e = step_one(xv);
		/* Taking execute back checks nothing Unicorn translated meanwhile. */
		if (!(cur->perms & UC_PROT_EXEC))
			x86_drop_code(xv, gfn, 1);
		uc_mem_protect(xv->e->uc, addr, HV_PAGE_SIZE, cur->perms);
	} else {
		before = (struct run){ cur->gfn, gfn - cur->gfn, cur->mfn, cur->perms };
		after = (struct run){ gfn + 1, cur->gfn + cur->nr - gfn - 1,
				      cur->mfn + (gfn - cur->gfn) + 1, cur->perms };
		x86_unmap_run(xv, cur);
		if (before.nr)
			x86_map_run(xv, &before);
		x86_map_at(xv, &page, scratch);
		if (after.nr)
			x86_map_run(xv, &after);
		e = step_one(xv);
		if (before.nr)
			x86_unmap_run(xv, &before);
		x86_unmap_run(xv, &page);
		if (after.nr)
			x86_unmap_run(xv, &after);
		x86_map_run(xv, cur);
	}
	if (xv->trap != TRAP_DEBUG) {
		/* It did not complete (another fault): the main loop sees it again. */
		return STEP_ON;
	}
	hv_vcpu_regs(xv->v)->rip = xv->trap_addr;
	if (e != UC_ERR_OK) {
		hv_domain_crash(xv->v->d, "vCPU %u: emulating one access failed: %s", xv->v->id,
				uc_strerror(e));
		return STEP_CRASH;
	}
	/* A monitor that single-steps hears of this instruction like any other. */
	if (hv_vcpu_stepping(xv->v) &&
	    hv_vcpu_step_done(xv->v, hv_vcpu_regs(xv->v)->rip >> HV_PAGE_SHIFT) < 0)
		return STEP_STOP;
	return STEP_ON;
}

/* A fault's decision (the hook's, or taken now), finished with the map made current. */
static enum step mem_trap(struct x86_vcpu *xv)
{
	struct hv_vcpu *v = xv->v;
	uint64_t gfn = xv->trap_addr >> HV_PAGE_SHIFT;

	if (!xv->decided)
		xv->decision = hv_vcpu_access_resolve(v, gfn, xv->trap_addr & (HV_PAGE_SIZE - 1),
						      xv->trap_kind, &xv->decided_raw);
	if (xv->decision == -EINTR)
		return STEP_STOP;
	if (xv->decision < 0)
		return STEP_CRASH;
	if (x86_sync_map(xv) < 0)
		return STEP_CRASH;
	x86_drop_poked_code(xv);
	/* Once, through the entry the view has now (the map holds it: just synced). */
	if (xv->decision == HV_ACCESS_EMULATE)
		return one_instruction_with(xv, gfn, NULL);
	if (xv->decision == HV_ACCESS_DENIED) {
		/* The write lands on a scratch copy of the page and is thrown away. */
		memcpy(xv->scratch, machine_ptr(v->d, xv->decided_raw >> HV_PAGE_SHIFT), HV_PAGE_SIZE);
		return one_instruction_with(xv, gfn, xv->scratch);
	}
	return STEP_ON;     /* allowed now: the map was stale, or the monitor changed it */
}

static enum step breakpoint_trap(struct x86_vcpu *xv)
{
	struct vm_event_regs_x86 *regs = hv_vcpu_regs(xv->v);
	struct hv_event ev = { .reason = VM_EVENT_REASON_SOFTWARE_BREAKPOINT, .sync = true };
	struct hv_response resp = { 0 };
	uint64_t after = xv->trap_addr;
	int r;

	/* Xen reports the int3 itself; it has not run as far as the guest knows. */
	regs->rip = after - 1;
	ev.u.software_breakpoint.gfn = regs->rip >> HV_PAGE_SHIFT;
	ev.u.software_breakpoint.insn_length = 1;
	r = hv_vcpu_raise(xv->v, &ev, &resp);
	if (r < 0)
		return STEP_STOP;
	/*
	 * A monitor that moved the vCPU (another view, a fast single step, new
	 * registers) wants the instruction there run; otherwise the guest goes
	 * on after the int3, as if its own handler had returned.
	 */
	if (r == 0 || !(resp.flags & (VM_EVENT_FLAG_ALTERNATE_P2M | VM_EVENT_FLAG_FAST_SINGLESTEP |
				      VM_EVENT_FLAG_SET_REGISTERS)))
		regs->rip = after;
	return STEP_ON;
}

/* ---- running ------------------------------------------------------------------------------- */

static enum step exit_reason(struct x86_vcpu *xv, uc_err e)
{
	struct hv_vcpu *v = xv->v;
	struct vm_event_regs_x86 *regs = hv_vcpu_regs(v);
	uint8_t insn[3];

	switch (xv->trap) {
	case TRAP_MEM:
		return mem_trap(xv);
	case TRAP_BREAKPOINT:
		return breakpoint_trap(xv);
	case TRAP_DEBUG:
		regs->rip = xv->trap_addr;
		return hv_vcpu_step_done(v, regs->rip >> HV_PAGE_SHIFT) < 0 ? STEP_STOP : STEP_ON;
	case TRAP_OTHER_INTR:
		hv_domain_crash(v->d, "vCPU %u: exception %u at rip %#" PRIx64 " (the guest has no IDT)",
				v->id, xv->intno, regs->rip);
		return STEP_CRASH;
	case TRAP_NONE:
		break;
	}
	switch (e) {
	case UC_ERR_OK:
		/* Stopped at a block because someone asked, or the guest halted. */
		return xv->stopped ? STEP_ON : STEP_DONE;
	case UC_ERR_INSN_INVALID:
		if (uc_mem_read(xv->e->uc, regs->rip, insn, sizeof(insn)) == UC_ERR_OK &&
		    insn[0] == 0x0f && insn[1] == 0x01 && insn[2] == 0xc1)
			return x86_hypercall(xv);
		hv_domain_crash(v->d, "vCPU %u: invalid instruction at rip %#" PRIx64, v->id, regs->rip);
		return STEP_CRASH;
	case UC_ERR_READ_UNMAPPED:
	case UC_ERR_WRITE_UNMAPPED:
	case UC_ERR_FETCH_UNMAPPED:
		hv_domain_crash(v->d, "vCPU %u: %s at rip %#" PRIx64 " outside guest memory", v->id,
				e == UC_ERR_FETCH_UNMAPPED ? "fetch" : e == UC_ERR_WRITE_UNMAPPED ? "write" : "read",
				regs->rip);
		return STEP_CRASH;
	default:
		hv_domain_crash(v->d, "vCPU %u: %s at rip %#" PRIx64, v->id, uc_strerror(e), regs->rip);
		return STEP_CRASH;
	}
}

static enum hv_run x86_run(struct hv_vcpu *v, void *state)
{
	struct x86_vcpu *xv = state;

	for (;;) {
		enum step s;
		uc_err e;

		if (hv_vcpu_should_yield(v))
			return v->d->crashed ? HV_RUN_CRASH : HV_RUN_YIELD;
		if (x86_sync_map(xv) < 0)
			return HV_RUN_CRASH;
		x86_drop_poked_code(xv);
		regs_to_engine(xv, false);
		xv->trap = TRAP_NONE;
		xv->stopped = false;
		enter(xv);
		e = uc_emu_start(xv->e->uc, hv_vcpu_regs(v)->rip, 0, 0, 0);
		/* Whoever asked has been served; one who asks later asks again. */
		atomic_store(&xv->stop_req, false);
		leave(xv);
		/* A fault the hook decided left the registers as the answer set them. */
		if (xv->trap != TRAP_MEM || !xv->decided)
			regs_from_engine(xv);
		if (e == UC_ERR_OK && xv->trap == TRAP_NONE && xv->stopped)
			continue;
		s = exit_reason(xv, e);
		if (s == STEP_DONE)
			return HV_RUN_DONE;
		if (s == STEP_CRASH)
			return HV_RUN_CRASH;
		if (s == STEP_STOP)
			return HV_RUN_YIELD;
	}
}

const struct hv_engine_ops hv_x86_engine = {
	.name = "x86",
	.domain_init = x86_domain_init,
	.domain_deinit = x86_domain_deinit,
	.vcpu_init = x86_vcpu_init,
	.vcpu_deinit = x86_vcpu_deinit,
	.run = x86_run,
	.kick = x86_kick,
};
