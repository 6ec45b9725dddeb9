/* SPDX-License-Identifier: MIT */
/*
 * backend-xen.c — "xen:": libaltview on a Xen 4.17 host, through Xen's own
 * libraries: domains, memory, registers, views and access.
 *
 * Xen sets the limits: domains are made and ended by the toolstack (xl),
 * a vCPU is paused only with its domain, outside an event a vCPU changes
 * view only with all the others, and a view's default access is fixed at
 * creation.  Those calls are -EOPNOTSUPP here, with a log line that says
 * why.  Errors are Xen's errnos as libxenctrl reports them.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "backend-xen.h"

#include <xen/hvm/hvm_info_table.h>

/* A mapping libxenforeignmemory made, and how many pages it is: its unmap needs both. */
struct xen_mapping {
	struct xen_mapping *next;
	void *addr;
	size_t pages;
};

struct xen_domain {
	pthread_mutex_t lock;
	struct xen_mapping *mappings;
	bool access_required;       /* as last set here: Xen has no call to read it */
};

static struct xen_domain *xdom_of(struct av_domain *dom)
{
	return dom->be;
}

int xen_fail(struct av_hv *hv, int r, const char *what)
{
	r = xen_errno(r);
	av_err(hv, "xen: %s: %s", what, strerror(-r));
	return r;
}

static int unsupported(struct av_hv *hv, const char *what, const char *why)
{
	av_err(hv, "xen: %s: %s", what, why);
	return -EOPNOTSUPP;
}

/* ---- the hypervisor ------------------------------------------------------------------- */

static void be_close(struct av_hv *hv)
{
	struct xen_backend *x = xen_of(hv);

	if (!x)
		return;
	xen_grants_close(x);
	pthread_mutex_destroy(&x->grants_lock);
	if (x->xs)
		xs_close(x->xs);
	if (x->fmem)
		xenforeignmemory_close(x->fmem);
	if (x->xch)
		xc_interface_close(x->xch);
	free(x);
	hv->be = NULL;
}

static int be_open(struct av_hv *hv, const char *arg, const struct av_open_opts *opts)
{
	struct xen_backend *x;

	if (arg && *arg) {
		av_err(hv, "xen: takes no argument (got \"%s\")", arg);
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	pthread_mutex_init(&x->grants_lock, NULL);
	hv->be = x;
	errno = 0;
	x->xch = xc_interface_open(NULL, NULL, 0);
	if (!x->xch) {
		int r = xen_fail(hv, -1, "xc_interface_open (is this dom0, as root?)");

		be_close(hv);
		return r;
	}
	x->fmem = xenforeignmemory_open(NULL, 0);
	if (!x->fmem) {
		int r = xen_fail(hv, -1, "xenforeignmemory_open");

		be_close(hv);
		return r;
	}
	x->xs = xs_open(XS_OPEN_READONLY);
	if (!x->xs)
		av_log(hv, AV_LOG_DEBUG, "xen: no xenstore (%s): domains have no names", strerror(errno));
	return 0;
}

static int be_get_info(struct av_hv *hv, struct av_hv_info *info)
{
	struct xen_backend *x = xen_of(hv);
	int version = xc_version(x->xch, XENVER_version, NULL);
	xc_physinfo_t phys = { 0 };

	if (version < 0)
		return xen_fail(hv, version, "xc_version");
	info->hv_version_major = (uint32_t)version >> 16;
	info->hv_version_minor = (uint32_t)version & 0xffff;
	info->vm_event_version = (uint32_t)xc_vm_event_get_version(x->xch);
	info->max_views = XEN_MAX_ALTP2M;
	info->max_vcpus = HVM_MAX_VCPUS < ALTVIEW_MAX_VCPUS ? HVM_MAX_VCPUS : ALTVIEW_MAX_VCPUS;
	/* Not every dom0 may ask (XSM): the size is then unknown, 0. */
	if (xc_physinfo(x->xch, &phys) == 0)
		info->machine_bytes = phys.total_pages * XC_PAGE_SIZE;
	return 0;
}

/* ---- domains ---------------------------------------------------------------------------- */

/* Xen's record of @domid, which getinfolist gives for the first id at or past it. */
static int domain_record(struct av_hv *hv, uint32_t domid, xc_domaininfo_t *info)
{
	int n;

	errno = 0;
	n = xc_domain_getinfolist(xen_of(hv)->xch, domid, 1, info);
	if (n < 0 && errno != ESRCH)
		return xen_fail(hv, n, "xc_domain_getinfolist");
	return n == 1 && info->domain == domid ? 0 : -ESRCH;
}

static int be_domain_list(struct av_hv *hv, uint32_t *ids, size_t max)
{
	xc_domaininfo_t info[64];
	uint32_t next = 1;      /* dom0 is where this runs, not a guest to monitor */
	size_t count = 0;

	for (;;) {
		int n;

		errno = 0;
		n = xc_domain_getinfolist(xen_of(hv)->xch, next, 64, info);
		if (n < 0 && errno != ESRCH)
			return xen_fail(hv, n, "xc_domain_getinfolist");
		if (n <= 0)
			break;
		for (int i = 0; i < n && i < 64; i++) {
			/* Ids only go up: a list that goes back is not Xen's, and would never end. */
			if (info[i].domain < next)
				return xen_fail(hv, (errno = EPROTO, -1), "xc_domain_getinfolist");
			if (count < max)
				ids[count] = info[i].domain;
			count++;
			next = (uint32_t)info[i].domain + 1;
		}
		if (n < 64 || next >= DOMID_FIRST_RESERVED)
			break;
	}
	return count > INT32_MAX ? INT32_MAX : (int)count;
}

static int be_domain_open(struct av_hv *hv, uint32_t id, struct av_domain *dom)
{
	struct xen_domain *xd;
	xc_domaininfo_t info;
	int r;

	if (id == 0 || id >= DOMID_FIRST_RESERVED)
		return -ESRCH;
	r = domain_record(hv, id, &info);
	if (r < 0)
		return r;
	if (info.max_vcpu_id >= ALTVIEW_MAX_VCPUS) {
		av_err(hv, "xen: domain %u has %u vCPUs, more than altview's %u", id,
		       info.max_vcpu_id + 1, ALTVIEW_MAX_VCPUS);
		return -E2BIG;
	}
	xd = calloc(1, sizeof(*xd));
	if (!xd)
		return -ENOMEM;
	pthread_mutex_init(&xd->lock, NULL);
	dom->be = xd;
	dom->id = id;
	dom->nr_vcpus = info.max_vcpu_id + 1;
	return 0;
}

/* Lock held (or the handle closing): the mapping at *@pos undone and unlinked. */
static int mapping_drop_locked(struct av_domain *dom, struct xen_mapping **pos)
{
	struct xen_mapping *m = *pos;
	int r;

	*pos = m->next;
	r = xenforeignmemory_unmap(xen_of(dom->hv)->fmem, m->addr, m->pages);
	free(m);
	return r < 0 ? xen_fail(dom->hv, r, "xenforeignmemory_unmap") : 0;
}

static void be_domain_close(struct av_domain *dom)
{
	struct xen_domain *xd = xdom_of(dom);

	while (xd->mappings)
		mapping_drop_locked(dom, &xd->mappings);
	pthread_mutex_destroy(&xd->lock);
	free(xd);
}

static enum av_domain_state state_of(const xc_domaininfo_t *info)
{
	if (info->flags & XEN_DOMINF_dying)
		return AV_DOMAIN_DYING;
	if ((info->flags & XEN_DOMINF_shutdown) &&
	    ((info->flags >> XEN_DOMINF_shutdownshift) & XEN_DOMINF_shutdownmask) == SHUTDOWN_crash)
		return AV_DOMAIN_CRASHED;
	if (info->flags & (XEN_DOMINF_paused | XEN_DOMINF_shutdown))
		return AV_DOMAIN_PAUSED;
	return AV_DOMAIN_RUNNING;
}

/* The toolstack's name for it, as xenstore keeps it: at most @size - 1 bytes, or "". */
static void domain_name(struct xen_backend *x, uint32_t domid, char *name, size_t size)
{
	char path[64];
	unsigned int len = 0;
	char *v;

	name[0] = 0;
	if (!x->xs)
		return;
	snprintf(path, sizeof(path), "/local/domain/%u/name", domid);
	v = xs_read(x->xs, XBT_NULL, path, &len);
	if (!v)
		return;
	if (len >= size)
		len = (unsigned int)size - 1;
	memcpy(name, v, len);
	name[len] = 0;
	free(v);
}

static int be_domain_get_info(struct av_domain *dom, struct av_domain_info *info)
{
	struct xen_backend *x = xen_of(dom->hv);
	xc_domaininfo_t rec;
	bool altp2m = false;
	int r;

	r = domain_record(dom->hv, dom->id, &rec);
	if (r == -ESRCH) {
		info->state = AV_DOMAIN_DYING;
		return 0;
	}
	if (r < 0)
		return r;
	info->state = state_of(&rec);
	info->memory_bytes = rec.tot_pages * XC_PAGE_SIZE;
	if (info->state == AV_DOMAIN_CRASHED)
		snprintf(info->crash_reason, sizeof(info->crash_reason), "crashed (Xen)");
	domain_name(x, dom->id, info->name, sizeof(info->name));
	/* Without altp2m=1 on Xen's command line the question fails: no views then. */
	if (xc_altp2m_get_domain_state(x->xch, dom->id, &altp2m) == 0 && altp2m)
		info->max_views = XEN_MAX_ALTP2M;
	pthread_mutex_lock(&xdom_of(dom)->lock);
	info->access_required = xdom_of(dom)->access_required;
	pthread_mutex_unlock(&xdom_of(dom)->lock);
	return 0;
}

/*
 * No hypercall to ask before each call: Xen fails a call on a domain that
 * is gone with ESRCH itself, and get_info says dying.
 */
static bool be_domain_alive(struct av_domain *dom)
{
	return true;
}

static int be_domain_pause(struct av_domain *dom, bool pause)
{
	xc_interface *xch = xen_of(dom->hv)->xch;
	int r = pause ? xc_domain_pause(xch, dom->id) : xc_domain_unpause(xch, dom->id);

	return r < 0 ? xen_fail(dom->hv, r, pause ? "xc_domain_pause" : "xc_domain_unpause") : 0;
}

/* Xen's idle: every vCPU blocked (halted), or a guest that crashed or shut down. */
static int ask_idle(struct av_domain *dom, bool *idle)
{
	xc_domaininfo_t rec;
	int r = domain_record(dom->hv, dom->id, &rec);

	*idle = r == 0 && (rec.flags & (XEN_DOMINF_blocked | XEN_DOMINF_shutdown)) &&
		!(rec.flags & XEN_DOMINF_running);
	return r;
}

static int be_domain_wait_idle(struct av_domain *dom, int timeout_ms)
{
	return domain_poll_idle(dom, timeout_ms, ask_idle);
}

static int be_domain_set_access_required(struct av_domain *dom, bool required)
{
	int r = xc_domain_set_access_required(xen_of(dom->hv)->xch, dom->id, required);

	if (r < 0)
		return xen_fail(dom->hv, r, "xc_domain_set_access_required");
	pthread_mutex_lock(&xdom_of(dom)->lock);
	xdom_of(dom)->access_required = required;
	pthread_mutex_unlock(&xdom_of(dom)->lock);
	return 0;
}

static int be_domain_create(struct av_hv *hv, const struct av_domain_spec *spec, struct av_domain *dom)
{
	return unsupported(hv, "creating a domain", "Xen's toolstack does that (xl create)");
}

static int be_domain_destroy(struct av_domain *dom)
{
	return unsupported(dom->hv, "destroying a domain",
			   "Xen's toolstack does that, with its devices (xl destroy)");
}

/* ---- guest memory ------------------------------------------------------------------------ */

static int be_map(struct av_domain *dom, uint64_t gfn, size_t nr, unsigned int flags, void **addr)
{
	struct xen_domain *xd = xdom_of(dom);
	xen_pfn_t *gfns = calloc(nr, sizeof(*gfns));
	int *err = calloc(nr, sizeof(*err));
	struct xen_mapping *m = malloc(sizeof(*m));
	int prot = PROT_READ | (flags & AV_MAP_WRITE ? PROT_WRITE : 0);
	void *p = NULL;
	int r = 0;

	if (!gfns || !err || !m) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < nr; i++)
		gfns[i] = gfn + i;
	p = xenforeignmemory_map(xen_of(dom->hv)->fmem, dom->id, prot, nr, gfns, err);
	if (!p) {
		r = xen_fail(dom->hv, -1, "xenforeignmemory_map");
		goto out;
	}
	for (size_t i = 0; i < nr; i++) {
		if (err[i]) {
			av_err(dom->hv, "xen: gfn %#" PRIx64 " of domain %u: %s", gfn + i, dom->id,
			       strerror(err[i] < 0 ? -err[i] : err[i]));
			r = -EFAULT;
			break;
		}
	}
	if (r < 0) {
		xenforeignmemory_unmap(xen_of(dom->hv)->fmem, p, nr);
		goto out;
	}
	*m = (struct xen_mapping){ .addr = p, .pages = nr };
	pthread_mutex_lock(&xd->lock);
	m->next = xd->mappings;
	xd->mappings = m;
	pthread_mutex_unlock(&xd->lock);
	*addr = p;
	m = NULL;
out:
	free(m);
	free(err);
	free(gfns);
	return r;
}


static int be_unmap(struct av_domain *dom, void *addr)
{
	struct xen_domain *xd = xdom_of(dom);
	struct xen_mapping **pos;
	int r = -ENOENT;

	pthread_mutex_lock(&xd->lock);
	for (pos = &xd->mappings; *pos; pos = &(*pos)->next) {
		if ((*pos)->addr == addr) {
			r = mapping_drop_locked(dom, pos);
			break;
		}
	}
	pthread_mutex_unlock(&xd->lock);
	return r;
}

/* ---- vCPUs --------------------------------------------------------------------------------- */

static int be_vcpu_pause(struct av_domain *dom, uint32_t vcpu, bool pause)
{
	return unsupported(dom->hv, "pausing one vCPU", "Xen's toolstack pauses whole domains");
}

/* The vCPU's save record: Xen pauses the vCPU for the read itself. */
static int be_vcpu_get_regs(struct av_domain *dom, uint32_t vcpu, struct vm_event_regs_x86 *regs)
{
	struct hvm_hw_cpu c;
	int r;

	r = xc_domain_hvm_getcontext_partial(xen_of(dom->hv)->xch, dom->id, HVM_SAVE_CODE(CPU), (uint16_t)vcpu,
					     &c, sizeof(c));
	if (r < 0)
		return xen_fail(dom->hv, r, "xc_domain_hvm_getcontext_partial");
	memset(regs, 0, sizeof(*regs));
	regs->rax = c.rax; regs->rbx = c.rbx; regs->rcx = c.rcx; regs->rdx = c.rdx;
	regs->rbp = c.rbp; regs->rsi = c.rsi; regs->rdi = c.rdi; regs->rsp = c.rsp;
	regs->r8 = c.r8; regs->r9 = c.r9; regs->r10 = c.r10; regs->r11 = c.r11;
	regs->r12 = c.r12; regs->r13 = c.r13; regs->r14 = c.r14; regs->r15 = c.r15;
	regs->rip = c.rip; regs->rflags = c.rflags;
	regs->cr0 = c.cr0; regs->cr2 = c.cr2; regs->cr3 = c.cr3; regs->cr4 = c.cr4;
	regs->dr6 = c.dr6; regs->dr7 = c.dr7;
	regs->cs_sel = (uint16_t)c.cs_sel; regs->ds_sel = (uint16_t)c.ds_sel;
	regs->es_sel = (uint16_t)c.es_sel; regs->fs_sel = (uint16_t)c.fs_sel;
	regs->gs_sel = (uint16_t)c.gs_sel; regs->ss_sel = (uint16_t)c.ss_sel;
	regs->fs_base = c.fs_base; regs->gs_base = c.gs_base; regs->shadow_gs = c.shadow_gs;
	regs->gdtr_base = c.gdtr_base; regs->gdtr_limit = (uint16_t)c.gdtr_limit;
	regs->sysenter_cs = c.sysenter_cs; regs->sysenter_esp = c.sysenter_esp;
	regs->sysenter_eip = c.sysenter_eip;
	regs->msr_efer = c.msr_efer; regs->msr_star = c.msr_star; regs->msr_lstar = c.msr_lstar;
	return 0;
}

/*
 * As Xen's setvcpucontext takes them for an HVM guest: the general
 * registers, rip and rflags.  Control registers and segments stay.
 */
static int be_vcpu_set_regs(struct av_domain *dom, uint32_t vcpu, const struct vm_event_regs_x86 *regs)
{
	xc_interface *xch = xen_of(dom->hv)->xch;
	vcpu_guest_context_any_t ctx;
	struct cpu_user_regs_x86_64 *u = &ctx.x64.user_regs;
	int r;

	r = xc_vcpu_getcontext(xch, dom->id, vcpu, &ctx);
	if (r < 0)
		return xen_fail(dom->hv, r, "xc_vcpu_getcontext");
	u->rax = regs->rax; u->rbx = regs->rbx; u->rcx = regs->rcx; u->rdx = regs->rdx;
	u->rbp = regs->rbp; u->rsi = regs->rsi; u->rdi = regs->rdi; u->rsp = regs->rsp;
	u->r8 = regs->r8; u->r9 = regs->r9; u->r10 = regs->r10; u->r11 = regs->r11;
	u->r12 = regs->r12; u->r13 = regs->r13; u->r14 = regs->r14; u->r15 = regs->r15;
	u->rip = regs->rip; u->rflags = regs->rflags;
	r = xc_vcpu_setcontext(xch, dom->id, vcpu, &ctx);
	return r < 0 ? xen_fail(dom->hv, r, "xc_vcpu_setcontext") : 0;
}

static int be_vcpu_set_singlestep(struct av_domain *dom, uint32_t vcpu, bool enable)
{
	int r = xc_domain_debug_control(xen_of(dom->hv)->xch, dom->id,
					enable ? XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_ON :
						 XEN_DOMCTL_DEBUG_OP_SINGLE_STEP_OFF, vcpu);

	return r < 0 ? xen_fail(dom->hv, r, "xc_domain_debug_control") : 0;
}

/* ---- views and access ---------------------------------------------------------------------- */

static int be_views_enable(struct av_domain *dom, uint32_t max_views)
{
	int r;

	if (max_views > XEN_MAX_ALTP2M) {
		av_err(dom->hv, "xen: Xen has %u views, not %u", XEN_MAX_ALTP2M, max_views);
		return -EINVAL;
	}
	r = xc_altp2m_set_domain_state(xen_of(dom->hv)->xch, dom->id, true);
	return r < 0 ? xen_fail(dom->hv, r, "xc_altp2m_set_domain_state (altp2m=1 on Xen's "
				"command line, altp2m=\"external\" for the guest?)") : 0;
}

static int be_views_disable(struct av_domain *dom)
{
	int r = xc_altp2m_set_domain_state(xen_of(dom->hv)->xch, dom->id, false);

	return r < 0 ? xen_fail(dom->hv, r, "xc_altp2m_set_domain_state") : 0;
}

static int be_view_create(struct av_domain *dom, xenmem_access_t def, uint32_t *view)
{
	uint16_t id;
	int r = xc_altp2m_create_view(xen_of(dom->hv)->xch, dom->id, def, &id);

	if (r < 0)
		return xen_fail(dom->hv, r, "xc_altp2m_create_view");
	*view = id;
	return 0;
}

static int be_view_destroy(struct av_domain *dom, uint32_t view)
{
	int r = xc_altp2m_destroy_view(xen_of(dom->hv)->xch, dom->id, (uint16_t)view);

	return r < 0 ? xen_fail(dom->hv, r, "xc_altp2m_destroy_view") : 0;
}

static int be_view_switch(struct av_domain *dom, uint32_t view)
{
	int r = xc_altp2m_switch_to_view(xen_of(dom->hv)->xch, dom->id, (uint16_t)view);

	return r < 0 ? xen_fail(dom->hv, r, "xc_altp2m_switch_to_view") : 0;
}

static int be_vcpu_switch_view(struct av_domain *dom, uint32_t vcpu, uint32_t view)
{
	return unsupported(dom->hv, "switching one vCPU's view",
			   "Xen does it only in an answer (AV_RESPONSE_SWITCH_VIEW)");
}

static int be_vcpu_get_view(struct av_domain *dom, uint32_t vcpu, uint32_t *view)
{
	uint16_t idx;
	int r = xc_altp2m_get_vcpu_p2m_idx(xen_of(dom->hv)->xch, dom->id, vcpu, &idx);

	if (r < 0)
		return xen_fail(dom->hv, r, "xc_altp2m_get_vcpu_p2m_idx");
	*view = idx;
	return 0;
}

static int be_view_set_visible(struct av_domain *dom, uint32_t view, bool visible)
{
	int r = xc_altp2m_set_visibility(xen_of(dom->hv)->xch, dom->id, (uint16_t)view, visible);

	return r < 0 ? xen_fail(dom->hv, r, "xc_altp2m_set_visibility") : 0;
}

static bool altp2m_on(struct av_domain *dom)
{
	bool on = false;

	return xc_altp2m_get_domain_state(xen_of(dom->hv)->xch, dom->id, &on) == 0 && on;
}

/*
 * View 0 without altp2m is Xen's host p2m, whose access needs the monitor
 * ring (ENODEV without one, as on Xen); with altp2m on, and for every
 * other view, access is set a gfn at a time.
 */
static int be_view_set_access(struct av_domain *dom, uint32_t view, uint64_t gfn, uint64_t nr,
			      xenmem_access_t access)
{
	xc_interface *xch = xen_of(dom->hv)->xch;
	int r;

	if (view == 0 && !altp2m_on(dom)) {
		for (uint64_t done = 0; done < nr; done += UINT32_MAX) {
			uint32_t n = nr - done > UINT32_MAX ? UINT32_MAX : (uint32_t)(nr - done);

			r = xc_set_mem_access(xch, dom->id, access, gfn + done, n);
			if (r < 0)
				return xen_fail(dom->hv, r, "xc_set_mem_access");
		}
		return 0;
	}
	for (uint64_t i = 0; i < nr; i++) {
		r = xc_altp2m_set_mem_access(xch, dom->id, (uint16_t)view, gfn + i, access);
		if (r < 0)
			return xen_fail(dom->hv, r, "xc_altp2m_set_mem_access");
	}
	return 0;
}

static int be_view_set_access_multi(struct av_domain *dom, uint32_t view, const uint64_t *gfns,
				    const xenmem_access_t *access, size_t n, size_t *failed)
{
	uint8_t *a = malloc(n ? n : 1);
	uint64_t *g = malloc((n ? n : 1) * sizeof(*g));
	int r = -ENOMEM;

	if (a && g) {
		for (size_t i = 0; i < n; i++) {
			a[i] = (uint8_t)access[i];
			g[i] = gfns[i];
		}
		r = xc_altp2m_set_mem_access_multi(xen_of(dom->hv)->xch, dom->id, (uint16_t)view, a, g,
						   (uint32_t)n);
		/* Xen does not say which entry it stopped at. */
		if (r < 0) {
			*failed = 0;
			r = xen_fail(dom->hv, r, "xc_altp2m_set_mem_access_multi");
		}
	}
	free(a);
	free(g);
	return r;
}

static int be_view_get_access(struct av_domain *dom, uint32_t view, uint64_t gfn,
			      xenmem_access_t *access)
{
	xc_interface *xch = xen_of(dom->hv)->xch;
	int r;

	if (view == 0 && !altp2m_on(dom))
		r = xc_get_mem_access(xch, dom->id, gfn, access);
	else
		r = xc_altp2m_get_mem_access(xch, dom->id, (uint16_t)view, gfn, access);
	return r < 0 ? xen_fail(dom->hv, r, "getting a gfn's access") : 0;
}

static int be_view_set_default_access(struct av_domain *dom, uint32_t view, xenmem_access_t access)
{
	int r;

	if (view != 0)
		return unsupported(dom->hv, "a view's default access",
				   "Xen fixes it when the view is created");
	r = xc_set_mem_access(xen_of(dom->hv)->xch, dom->id, access, ~0ull, 0);
	return r < 0 ? xen_fail(dom->hv, r, "xc_set_mem_access (the default)") : 0;
}

static int be_view_change_gfn(struct av_domain *dom, uint32_t view, uint64_t old_gfn, uint64_t new_gfn)
{
	int r = xc_altp2m_change_gfn(xen_of(dom->hv)->xch, dom->id, (uint16_t)view, old_gfn,
				     new_gfn == AV_INVALID_GFN ? ~0ull : new_gfn);

	return r < 0 ? xen_fail(dom->hv, r, "xc_altp2m_change_gfn") : 0;
}

const struct av_backend_ops av_backend_xen = {
	.name = "xen",
	.open = be_open,
	.close = be_close,
	.get_info = be_get_info,

	.domain_create = be_domain_create,
	.domain_list = be_domain_list,
	.domain_open = be_domain_open,
	.domain_close = be_domain_close,
	.domain_get_info = be_domain_get_info,
	.domain_alive = be_domain_alive,
	.domain_pause = be_domain_pause,
	.domain_wait_idle = be_domain_wait_idle,
	.domain_set_access_required = be_domain_set_access_required,
	.domain_destroy = be_domain_destroy,

	.map = be_map,
	.unmap = be_unmap,

	.vcpu_pause = be_vcpu_pause,
	.vcpu_get_regs = be_vcpu_get_regs,
	.vcpu_set_regs = be_vcpu_set_regs,
	.vcpu_set_singlestep = be_vcpu_set_singlestep,

	.views_enable = be_views_enable,
	.views_disable = be_views_disable,
	.view_create = be_view_create,
	.view_destroy = be_view_destroy,
	.view_switch = be_view_switch,
	.vcpu_switch_view = be_vcpu_switch_view,
	.vcpu_get_view = be_vcpu_get_view,
	.view_set_visible = be_view_set_visible,
	.view_set_access = be_view_set_access,
	.view_set_access_multi = be_view_set_access_multi,
	.view_get_access = be_view_get_access,
	.view_set_default_access = be_view_set_default_access,
	.view_change_gfn = be_view_change_gfn,

	.monitor_open = xen_monitor_open,
	.monitor_close = xen_monitor_close,
	.monitor_set_reasons = xen_monitor_set_reasons,
	.monitor_fd = xen_monitor_fd,
	.monitor_next = xen_monitor_next,
	.monitor_next_async = xen_monitor_next_async,
	.monitor_wait = xen_monitor_wait,
	.monitor_set_handler = xen_monitor_set_handler,
	.monitor_respond = xen_monitor_respond,
	.monitor_get_stats = xen_monitor_get_stats,

	.evtchn_open = xen_evtchn_open,
	.evtchn_close = xen_evtchn_close,
	.evtchn_fd = xen_evtchn_fd,
	.evtchn_bind_interdomain = xen_evtchn_bind_interdomain,
	.evtchn_bind_unbound = xen_evtchn_bind_unbound,
	.evtchn_unbind = xen_evtchn_unbind,
	.evtchn_notify = xen_evtchn_notify,
	.evtchn_pending = xen_evtchn_pending,
	.evtchn_unmask = xen_evtchn_unmask,
	.evtchn_status = xen_evtchn_status,

	.grant_map = xen_grant_map,
	.grant_unmap = xen_grant_unmap,
	.grant_copy = xen_grant_copy,
	.grant_share = xen_grant_share,
	.grant_unshare = xen_grant_unshare,
};
