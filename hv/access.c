/* SPDX-License-Identifier: MIT */
/*
 * Guest memory accesses: translation through the vCPU's active view and
 * enforcement of Xen's access types.
 *
 * Translation is cached per vCPU (struct tlb, direct mapped by gfn, tagged
 * with the view).  The whole cache is valid while its generation equals the
 * domain's p2m_gen, which every host or view change bumps after making the
 * change: a hit costs one shared load that writers rarely touch, and a
 * reader never writes shared memory.  An access racing with a change may use
 * the old entry once, exactly as if it had happened just before the change.
 *
 * Access semantics (xenmem_access_t): the permission bits allow or not;
 * rx2rw turns into rw on a write without an event; n2rwx turns into rwx on
 * any access and sends an asynchronous event; any other violation sends a
 * synchronous MEM_ACCESS event and the access is retried with the monitor's
 * decision applied (EMULATE performs it once, DENY drops a write).  With no
 * listener the entry relaxes to rwx, or the domain crashes when access is
 * required.  Upgrades and relaxations change the vCPU's current view.
 */
#include <errno.h>
#include <string.h>

#include "private.h"

static const uint8_t access_perms[] = {
	[XENMEM_access_n] = 0,
	[XENMEM_access_r] = MEM_ACCESS_R,
	[XENMEM_access_w] = MEM_ACCESS_W,
	[XENMEM_access_rw] = MEM_ACCESS_RW,
	[XENMEM_access_x] = MEM_ACCESS_X,
	[XENMEM_access_rx] = MEM_ACCESS_RX,
	[XENMEM_access_wx] = MEM_ACCESS_WX,
	[XENMEM_access_rwx] = MEM_ACCESS_RWX,
	[XENMEM_access_rx2rw] = MEM_ACCESS_RX,
	[XENMEM_access_n2rwx] = 0,
};

static int translate(struct hv_vcpu *v, uint64_t gfn, uint64_t *raw)
{
	struct hv_domain *d = v->d;
	uint64_t gen = atomic_load_explicit(&d->p2m_gen, memory_order_acquire);
	unsigned int view = atomic_load_explicit(&v->active_view, memory_order_acquire);
	unsigned int slot = (unsigned int)(gfn & (TLB_ENTRIES - 1));
	int r;

	if (gen != v->tlb.gen) {
		for (unsigned int i = 0; i < TLB_ENTRIES; i++)
			v->tlb.e[i].gfn = HV_INVALID_GFN;
		v->tlb.gen = gen;
	}
	if (v->tlb.e[slot].gfn == gfn && v->tlb.e[slot].view == view) {
		*raw = v->tlb.e[slot].raw;
		return 0;
	}
	r = altp2m_vcpu_effective(v, view, gfn, raw);
	if (r == 0) {
		v->tlb.e[slot].gfn = gfn;
		v->tlb.e[slot].view = view;
		v->tlb.e[slot].raw = *raw;
	}
	return r;
}

/*
 * Guest memory is shared by all vCPUs (and dom0 mappings), and guests may
 * legitimately race on it.  Like the hardware, an aligned word access is
 * atomic, so copies are relaxed atomic loads and stores: aligned 8-byte
 * words where possible, bytes elsewhere.
 */
static void guest_copy(uint8_t *dst, const uint8_t *src, uint32_t len, bool to_guest)
{
	uint32_t i = 0;

	if (!(((uintptr_t)dst | (uintptr_t)src) & 7)) {
		for (; i + 8 <= len; i += 8) {
			if (to_guest)
				__atomic_store_n((uint64_t *)(dst + i), *(const uint64_t *)(src + i),
						 __ATOMIC_RELAXED);
			else
				*(uint64_t *)(dst + i) = __atomic_load_n((const uint64_t *)(src + i),
									 __ATOMIC_RELAXED);
		}
	}
	for (; i < len; i++) {
		if (to_guest)
			__atomic_store_n(dst + i, src[i], __ATOMIC_RELAXED);
		else
			dst[i] = __atomic_load_n(src + i, __ATOMIC_RELAXED);
	}
}

static void transfer(struct hv_vcpu *v, uint64_t raw, uint32_t offset, uint32_t len,
		     unsigned int kind, void *buf)
{
	uint8_t *frame = v->d->hv->machine + ((raw >> HV_PAGE_SHIFT) << HV_PAGE_SHIFT);
	enum hv_p2m_type type = (enum hv_p2m_type)((raw >> P2M_TYPE_SHIFT) & 0xf);

	if (kind == HV_ACCESS_W) {
		/* Xen's p2m_ram_ro: writes are discarded, reads work. */
		if (type != HV_P2M_RAM_RO)
			guest_copy(frame + offset, buf, len, true);
	} else {
		guest_copy(buf, frame + offset, len, false);
	}
	atomic_fetch_add_explicit(&v->accesses, 1, memory_order_relaxed);
}

/* An upgrade that cannot be made would retry forever: crash instead. */
static int set_current_access(struct hv_vcpu *v, uint64_t gfn, xenmem_access_t a)
{
	int r = hv_view_set_access(v->d, atomic_load(&v->active_view), gfn, 1, a);

	if (r < 0)
		hv_domain_crash(v->d, "vCPU %u: cannot change access of gfn %#" PRIx64 ": %s",
				v->id, gfn, strerror(-r));
	return r;
}

int hv_vcpu_access_resolve(struct hv_vcpu *v, uint64_t gfn, uint32_t offset, unsigned int kind,
			   uint64_t *raw_out)
{
	struct hv_domain *d = v->d;

	for (;;) {
		struct hv_response resp;
		struct hv_event ev;
		uint64_t raw;
		xenmem_access_t a;
		int r;

		if (translate(v, gfn, &raw) < 0) {
			hv_domain_crash(d, "vCPU %u: access to gfn %#" PRIx64 " outside guest memory",
					v->id, gfn);
			return -EFAULT;
		}
		a = p2m_raw_access(raw);
		if (access_perms[a] & kind) {
			*raw_out = raw;
			return HV_ACCESS_ALLOWED;
		}
		if (a == XENMEM_access_rx2rw && kind == HV_ACCESS_W) {
			if (set_current_access(v, gfn, XENMEM_access_rw) < 0)
				return -EFAULT;
			continue;
		}

		ev = (struct hv_event){
			.reason = VM_EVENT_REASON_MEM_ACCESS,
			.sync = a != XENMEM_access_n2rwx,
			.u.mem_access = {
				.gfn = gfn,
				.offset = offset,
				.gla = (gfn << HV_PAGE_SHIFT) | offset,
				/* Flat guests: the access is at its linear address, as Xen says of a fault with one. */
				.flags = kind | MEM_ACCESS_GLA_VALID | MEM_ACCESS_FAULT_WITH_GLA,
			},
		};
		if (a == XENMEM_access_n2rwx) {
			/* Upgrade first: the guest goes on while the monitor hears of it. */
			if (set_current_access(v, gfn, XENMEM_access_rwx) < 0)
				return -EFAULT;
			r = hv_vcpu_raise(v, &ev, &resp);
			if (r < 0)
				return r;
			continue;
		}

		r = hv_vcpu_raise(v, &ev, &resp);
		if (r < 0)
			return r;
		if (r == 0) {
			if (atomic_load_explicit(&d->access_required, memory_order_relaxed)) {
				hv_domain_crash(d, "vCPU %u: mem_access violation at gfn %#" PRIx64
						   " with no listener and access required",
						v->id, gfn);
				return -EFAULT;
			}
			if (set_current_access(v, gfn, XENMEM_access_rwx) < 0)
				return -EFAULT;
			continue;
		}
		if (resp.flags & VM_EVENT_FLAG_EMULATE) {
			/* Once, through the entry as it is now: the view may have switched. */
			if (translate(v, gfn, &raw) < 0)
				continue;
			*raw_out = raw;
			return HV_ACCESS_EMULATE;
		}
		if ((resp.flags & VM_EVENT_FLAG_DENY) && kind == HV_ACCESS_W) {
			*raw_out = raw;
			return HV_ACCESS_DENIED;
		}
	}
}

int hv_vcpu_access(struct hv_vcpu *v, uint64_t gfn, uint32_t offset, uint32_t len,
		   unsigned int kind, void *buf)
{
	uint64_t raw;
	int r = hv_vcpu_access_resolve(v, gfn, offset, kind, &raw);

	if (r == HV_ACCESS_ALLOWED || r == HV_ACCESS_EMULATE)
		transfer(v, raw, offset, len, kind, buf);
	return r < 0 ? r : 0;
}
