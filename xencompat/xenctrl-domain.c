/* SPDX-License-Identifier: MIT */
/*
 * xenctrl-domain.c — libxenctrl's domain and vCPU inspection: domain
 * info, vCPU state and context, HVM save records, versions.  What xenctx,
 * xen-hvmctx and LibVMI read, from libaltview's domain info and registers.
 *
 * altview's guests are HVM guests with hardware-assisted paging as far as
 * these calls tell; their registers come from the vCPU (paused for the
 * read, as Xen pauses it), and what altview does not keep (FPU state,
 * debug registers 0-3, IDT, TR, LDT, TSC) reads as zero.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define XC_WANT_COMPAT_MAP_FOREIGN_API 1
#include <xenctrl.h>
#include <xen/hvm/save.h>

#include "private.h"

/* What Xen 4.17 reports itself as. */
#define XEN_VERSION_4_17 ((4 << 16) | 17)
#define XEN_CAPABILITIES "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64"

XENCOMPAT_API int xc_version(xc_interface *xch, int cmd, void *arg)
{
	switch (cmd) {
	case XENVER_version:
		return XEN_VERSION_4_17;
	case XENVER_extraversion:
		if (!arg)
			return xencompat_fail(-EFAULT);
		snprintf(arg, sizeof(xen_extraversion_t), ".altview");
		return 0;
	case XENVER_capabilities:
		if (!arg)
			return xencompat_fail(-EFAULT);
		snprintf(arg, sizeof(xen_capabilities_info_t), "%s", XEN_CAPABILITIES);
		return 0;
	}
	return xencompat_fail(-EOPNOTSUPP);
}

/* Xen 4.17 answers EOPNOTSUPP for an HVM guest, and the call returns 1, not -1. */
XENCOMPAT_API int xc_domain_get_guest_width(xc_interface *xch, uint32_t domid,
					    unsigned int *guest_width)
{
	errno = EOPNOTSUPP;
	return 1;
}

/*
 * A guest whose vCPUs have all ended their programs is what Xen calls
 * blocked (every vCPU halted), not running.
 */
static void fill_dominfo(const struct av_domain_info *in, bool idle, xc_dominfo_t *out)
{
	memset(out, 0, sizeof(*out));
	out->domid = in->id;
	out->dying = in->state == AV_DOMAIN_DYING;
	out->crashed = in->state == AV_DOMAIN_CRASHED;
	out->paused = in->state == AV_DOMAIN_PAUSED;
	out->running = in->state == AV_DOMAIN_RUNNING && !idle;
	out->blocked = in->state == AV_DOMAIN_RUNNING && idle;
	out->hvm = 1;
	out->hap = 1;
	out->nr_pages = in->memory_bytes / AV_PAGE_SIZE;
	out->max_memkb = in->memory_bytes / 1024;
	out->nr_online_vcpus = in->nr_vcpus;
	out->max_vcpu_id = in->nr_vcpus ? in->nr_vcpus - 1 : 0;
}

/*
 * As XEN_DOMCTL_getdomaininfo in a loop: each entry is the first domain
 * with an id at least the one asked; -1 (ESRCH) when not even one is.
 */
XENCOMPAT_API int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
				    xc_dominfo_t *info)
{
	uint32_t ids[256];
	av_hv *hv = xencompat_hv();
	unsigned int n = 0;
	int nr;

	if (!hv)
		return -1;
	nr = av_domain_list(hv, ids, 256);
	if (nr < 0)
		return xencompat_fail(nr);
	for (int i = 0; i < nr && i < 256 && n < max_doms; i++) {
		struct av_domain_info di = { .sz = sizeof(di) };
		av_domain *dom;

		if (ids[i] < first_domid || xencompat_domain(ids[i], &dom) < 0 ||
		    av_domain_get_info(dom, &di) < 0)
			continue;
		fill_dominfo(&di, av_domain_wait_idle(dom, 0) == 0, &info[n++]);
	}
	if (n == 0 && max_doms)
		return xencompat_fail(-ESRCH);
	return (int)n;
}

/*
 * The machine altview's guests share: its memory (0 when the backend
 * cannot tell), this host's CPUs, and what Xen would call HVM with HAP.
 */
XENCOMPAT_API int xc_physinfo(xc_interface *xch, xc_physinfo_t *info)
{
	struct av_hv_info hi = { .sz = sizeof(hi) };
	av_hv *hv = xencompat_hv();
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int r;

	if (!hv)
		return -1;
	r = av_hv_get_info(hv, &hi);
	if (r < 0)
		return xencompat_fail(r);
	memset(info, 0, sizeof(*info));
	info->threads_per_core = 1;
	info->nr_cpus = cpus > 0 ? (uint32_t)cpus : 1;
	info->cores_per_socket = info->nr_cpus;
	info->max_cpu_id = info->nr_cpus - 1;
	info->nr_nodes = 1;
	info->capabilities = XEN_SYSCTL_PHYSCAP_hvm | XEN_SYSCTL_PHYSCAP_hap;
	info->total_pages = hi.machine_bytes / XC_PAGE_SIZE;
	info->max_mfn = info->total_pages ? info->total_pages - 1 : 0;
	return 0;
}

/* LibVMI's form of the same: struct xen_domctl_getdomaininfo, XEN_DOMINF_* flags. */
XENCOMPAT_API int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain,
					unsigned int max_domains, xc_domaininfo_t *info)
{
	xc_dominfo_t *di = max_domains ? calloc(max_domains, sizeof(*di)) : NULL;
	int n;

	if (max_domains && !di)
		return xencompat_fail(-ENOMEM);
	n = max_domains ? xc_domain_getinfo(xch, first_domain, max_domains, di) : 0;
	for (int i = 0; i < n; i++) {
		memset(&info[i], 0, sizeof(info[i]));
		info[i].domain = (domid_t)di[i].domid;
		info[i].flags = XEN_DOMINF_hvm_guest | XEN_DOMINF_hap |
				(di[i].dying ? XEN_DOMINF_dying : 0) |
				(di[i].paused ? XEN_DOMINF_paused : 0) |
				(di[i].running ? XEN_DOMINF_running : 0) |
				(di[i].blocked ? XEN_DOMINF_blocked : 0) |
				(di[i].crashed ? XEN_DOMINF_shutdown |
					(SHUTDOWN_crash << XEN_DOMINF_shutdownshift) : 0);
		info[i].tot_pages = di[i].nr_pages;
		info[i].max_pages = di[i].nr_pages;
		info[i].nr_online_vcpus = di[i].nr_online_vcpus;
		info[i].max_vcpu_id = di[i].max_vcpu_id;
	}
	free(di);
	/* None at or past @first_domain is an empty list here, not an error. */
	return n < 0 && errno == ESRCH ? 0 : n;
}

/*
 * As Xen's HVM setvcpucontext takes them: the general-purpose registers,
 * rip and rflags.  Control registers and segments stay the vCPU's own.
 */
static void take_user_regs(struct av_regs_x86 *r, const struct cpu_user_regs_x86_64 *u)
{
	r->r15 = u->r15; r->r14 = u->r14; r->r13 = u->r13; r->r12 = u->r12;
	r->rbp = u->rbp; r->rbx = u->rbx; r->r11 = u->r11; r->r10 = u->r10;
	r->r9 = u->r9; r->r8 = u->r8; r->rax = u->rax; r->rcx = u->rcx;
	r->rdx = u->rdx; r->rsi = u->rsi; r->rdi = u->rdi; r->rip = u->rip;
	r->rflags = u->rflags; r->rsp = u->rsp;
}

/*
 * A vCPU's registers, read (and with @set, then written) as Xen does: the
 * vCPU paused meanwhile.
 */
static int vcpu_regs(uint32_t domid, uint32_t vcpu, struct av_regs_x86 *regs,
		     const struct cpu_user_regs_x86_64 *set)
{
	struct av_domain_info info;
	av_domain *dom;
	int r = xencompat_domain_info(domid, &dom, &info);

	if (r == 0 && vcpu >= info.nr_vcpus)
		r = -EINVAL;
	if (r == 0)
		r = av_vcpu_pause(dom, vcpu);
	if (r < 0)
		return r;
	r = av_vcpu_get_regs(dom, vcpu, regs);
	if (r == 0 && set) {
		take_user_regs(regs, set);
		r = av_vcpu_set_regs(dom, vcpu, regs);
	}
	av_vcpu_unpause(dom, vcpu);
	return r;
}

XENCOMPAT_API int xc_vcpu_getinfo(xc_interface *xch, uint32_t domid, uint32_t vcpu,
				  xc_vcpuinfo_t *info)
{
	struct av_domain_info di;
	av_domain *dom;

	DOMAIN_INFO_OR_FAIL(domid, dom, di);
	if (vcpu >= di.nr_vcpus)
		return xencompat_fail(-EINVAL);
	memset(info, 0, sizeof(*info));
	info->vcpu = vcpu;
	info->online = 1;
	info->running = di.state == AV_DOMAIN_RUNNING;
	info->blocked = !info->running;
	return 0;
}

XENCOMPAT_API int xc_vcpu_getcontext(xc_interface *xch, uint32_t domid, uint32_t vcpu,
				     vcpu_guest_context_any_t *ctxt)
{
	struct vcpu_guest_context_x86_64 *c = &ctxt->x64;
	struct av_regs_x86 r;
	int e = ctxt ? vcpu_regs(domid, vcpu, &r, NULL) : -EINVAL;

	if (e < 0)
		return xencompat_fail(e);
	memset(ctxt, 0, sizeof(*ctxt));
	c->flags = VGCF_online;
	c->user_regs = (struct cpu_user_regs_x86_64){
		.r15 = r.r15, .r14 = r.r14, .r13 = r.r13, .r12 = r.r12, .rbp = r.rbp, .rbx = r.rbx,
		.r11 = r.r11, .r10 = r.r10, .r9 = r.r9, .r8 = r.r8, .rax = r.rax, .rcx = r.rcx,
		.rdx = r.rdx, .rsi = r.rsi, .rdi = r.rdi, .rip = r.rip, .cs = r.cs_sel,
		.rflags = r.rflags, .rsp = r.rsp, .ss = r.ss_sel, .es = r.es_sel, .ds = r.ds_sel,
		.fs = r.fs_sel, .gs = r.gs_sel,
	};
	c->ctrlreg[0] = r.cr0;
	c->ctrlreg[2] = r.cr2;
	c->ctrlreg[3] = r.cr3;
	c->ctrlreg[4] = r.cr4;
	c->debugreg[6] = r.dr6;
	c->debugreg[7] = r.dr7;
	c->fs_base = r.fs_base;
	c->gs_base_kernel = r.shadow_gs;
	c->gs_base_user = r.gs_base;
	return 0;
}

XENCOMPAT_API int xc_vcpu_setcontext(xc_interface *xch, uint32_t domid, uint32_t vcpu,
				     vcpu_guest_context_any_t *ctxt)
{
	struct av_regs_x86 r;
	int e = ctxt ? vcpu_regs(domid, vcpu, &r, &ctxt->x64.user_regs) : -EINVAL;

	return e < 0 ? xencompat_fail(e) : 0;
}

static void fill_hw_cpu(const struct av_regs_x86 *r, struct hvm_hw_cpu *c)
{
	memset(c, 0, sizeof(*c));
	c->rax = r->rax;
	c->rbx = r->rbx;
	c->rcx = r->rcx;
	c->rdx = r->rdx;
	c->rbp = r->rbp;
	c->rsi = r->rsi;
	c->rdi = r->rdi;
	c->rsp = r->rsp;
	c->r8 = r->r8;
	c->r9 = r->r9;
	c->r10 = r->r10;
	c->r11 = r->r11;
	c->r12 = r->r12;
	c->r13 = r->r13;
	c->r14 = r->r14;
	c->r15 = r->r15;
	c->rip = r->rip;
	c->rflags = r->rflags;
	c->cr0 = r->cr0;
	c->cr2 = r->cr2;
	c->cr3 = r->cr3;
	c->cr4 = r->cr4;
	c->dr6 = r->dr6;
	c->dr7 = r->dr7;
	c->cs_sel = r->cs_sel;
	c->ds_sel = r->ds_sel;
	c->es_sel = r->es_sel;
	c->fs_sel = r->fs_sel;
	c->gs_sel = r->gs_sel;
	c->ss_sel = r->ss_sel;
	c->gdtr_limit = r->gdtr_limit;
	c->fs_base = r->fs_base;
	c->gs_base = r->gs_base;
	c->gdtr_base = r->gdtr_base;
	c->sysenter_cs = r->sysenter_cs;
	c->sysenter_esp = r->sysenter_esp;
	c->sysenter_eip = r->sysenter_eip;
	c->shadow_gs = r->shadow_gs;
	c->msr_lstar = r->msr_lstar;
	c->msr_star = r->msr_star;
	c->msr_efer = r->msr_efer;
}

XENCOMPAT_API int xc_domain_hvm_getcontext_partial(xc_interface *xch, uint32_t domid,
						   uint16_t typecode, uint16_t instance,
						   void *ctxt_buf, uint32_t size)
{
	struct av_regs_x86 r;
	int e;

	if (typecode != HVM_SAVE_CODE(CPU))
		return xencompat_fail(-EOPNOTSUPP);
	if (!ctxt_buf || size < sizeof(struct hvm_hw_cpu))
		return xencompat_fail(-ENOBUFS);
	e = vcpu_regs(domid, instance, &r, NULL);
	if (e < 0)
		return xencompat_fail(e == -EINVAL ? -ENOENT : e);
	fill_hw_cpu(&r, ctxt_buf);
	return 0;
}

/* HEADER, a CPU record per vCPU, END: what tools read of Xen's stream. */
XENCOMPAT_API int xc_domain_hvm_getcontext(xc_interface *xch, uint32_t domid, uint8_t *ctxt_buf,
					   uint32_t size)
{
	const size_t desc = sizeof(struct hvm_save_descriptor);
	struct av_domain_info info;
	size_t need, off = 0;
	av_domain *dom;
	int r;

	DOMAIN_INFO_OR_FAIL(domid, dom, info);
	need = desc + sizeof(struct hvm_save_header) +
	       info.nr_vcpus * (desc + sizeof(struct hvm_hw_cpu)) + desc;
	if (!ctxt_buf)
		return (int)need;
	if (size < need)
		return xencompat_fail(-ENOSPC);
	r = av_domain_pause(dom);
	if (r < 0)
		return xencompat_fail(r);
	memcpy(ctxt_buf, &(struct hvm_save_descriptor){ .typecode = HVM_SAVE_CODE(HEADER),
		.length = sizeof(struct hvm_save_header) }, desc);
	off += desc;
	memcpy(ctxt_buf + off, &(struct hvm_save_header){ .magic = HVM_FILE_MAGIC,
		.version = HVM_FILE_VERSION }, sizeof(struct hvm_save_header));
	off += sizeof(struct hvm_save_header);
	for (uint32_t v = 0; v < info.nr_vcpus && r == 0; v++) {
		struct av_regs_x86 regs;
		struct hvm_hw_cpu cpu;

		r = av_vcpu_get_regs(dom, v, &regs);
		if (r < 0)
			break;
		fill_hw_cpu(&regs, &cpu);
		memcpy(ctxt_buf + off, &(struct hvm_save_descriptor){ .typecode = HVM_SAVE_CODE(CPU),
			.instance = (uint16_t)v, .length = sizeof(cpu) }, desc);
		off += desc;
		memcpy(ctxt_buf + off, &cpu, sizeof(cpu));
		off += sizeof(cpu);
	}
	av_domain_unpause(dom);
	if (r < 0)
		return xencompat_fail(r);
	memcpy(ctxt_buf + off, &(struct hvm_save_descriptor){ .typecode = HVM_SAVE_CODE(END) },
	       desc);
	off += desc;
	return (int)off;
}

/*
 * altview's guests run with flat addressing (no guest page tables of their
 * own): a virtual address is its guest-physical address.
 */
XENCOMPAT_API unsigned long xc_translate_foreign_address(xc_interface *xch, uint32_t dom, int vcpu,
							 unsigned long long virt)
{
	struct av_regs_x86 r;
	int e = vcpu_regs(dom, (uint32_t)vcpu, &r, NULL);

	if (e < 0) {
		errno = -e;
		return 0;
	}
	return (unsigned long)(virt >> XC_PAGE_SHIFT);
}

/* ---- guest frames, mapped as Xen's compatibility API maps them ------------------------ */

/* For HVM guests Xen's "mfn" here is a gfn: @size bytes from it, all or nothing. */
XENCOMPAT_API void *xc_map_foreign_range(xc_interface *xch, uint32_t dom, int size, int prot,
					 unsigned long mfn)
{
	size_t n = size > 0 ? ((size_t)size + XC_PAGE_SIZE - 1) / XC_PAGE_SIZE : 0;
	uint64_t *gfns = n ? calloc(n, sizeof(*gfns)) : NULL;
	void *p;

	if (!gfns) {
		errno = n ? ENOMEM : EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		gfns[i] = mfn + i;
	p = xencompat_map(dom, prot, gfns, n, NULL);
	free(gfns);
	return p;
}

XENCOMPAT_API void *xc_map_foreign_pages(xc_interface *xch, uint32_t dom, int prot,
					 const xen_pfn_t *arr, int num)
{
	if (num <= 0 || !arr) {
		errno = EINVAL;
		return NULL;
	}
	return xencompat_map(dom, prot, arr, (size_t)num, NULL);
}

XENCOMPAT_API void *xc_map_foreign_bulk(xc_interface *xch, uint32_t dom, int prot,
					const xen_pfn_t *arr, int *err, unsigned int num)
{
	if (!num || !arr || !err) {
		errno = EINVAL;
		return NULL;
	}
	return xencompat_map(dom, prot, arr, num, err);
}

/* ---- event channels ---------------------------------------------------------------------- */

XENCOMPAT_API int xc_evtchn_status(xc_interface *xch, xc_evtchn_status_t *status)
{
	av_domain *dom;
	int r;

	DOMAIN_OR_FAIL(status->dom, dom);
	r = av_evtchn_status_xen(dom, status->port, status);
	return r < 0 ? xencompat_fail(r) : 0;
}
