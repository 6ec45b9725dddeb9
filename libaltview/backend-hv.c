/* SPDX-License-Identifier: MIT */
/*
 * backend-hv.c — the "hv:" backend: the embedded hypervisor core in this process.
 * The core already speaks Xen's types; what is left is handle bookkeeping,
 * turning a spec into the core's domain options, and naming domains (Xen
 * keeps names in xenstore, not in the hypervisor: so does altview).
 */
#include <stdio.h>
#include <stdlib.h>

#include "hv.h"
#include "backend-hv-script.h"
#include "backend-hv-x86.h"
#include "private.h"

#define HV_BACKEND_DEFAULT_MACHINE (256ull << 20)

struct hv_backend {
	struct hv *core;
	pthread_mutex_t names_lock;
	char names[HV_MAX_DOMAINS][64];
};

struct hv_mon {
	struct hv_monitor *m;
	struct hv_evtchn_handle *h;
	struct hv_consumer *c;
};

static struct hv_backend *be_of(struct av_hv *hv)
{
	return hv->be;
}

static struct hv *core_of(struct av_hv *hv)
{
	return be_of(hv)->core;
}

static struct hv_domain *dom_of(struct av_domain *dom)
{
	return dom->be;
}

static struct hv_vcpu *vcpu_of(struct av_domain *dom, uint32_t vcpu)
{
	return hv_domain_vcpu(dom_of(dom), vcpu);
}

static void core_log(void *ctx, enum hv_log_level level, const char *msg)
{
	av_log(ctx, (enum av_log_level)level, "hv: %s", msg);
}

static int be_open(struct av_hv *hv, const char *arg, const struct av_open_opts *opts)
{
	struct hv_backend *be;
	int r;

	if (*arg) {
		av_err(hv, "av_open: \"hv:%s\": the embedded backend takes no argument", arg);
		return -EINVAL;
	}
	be = calloc(1, sizeof(*be));
	if (!be)
		return -ENOMEM;
	struct hv_opts ho = {
		.sz = sizeof(ho),
		.machine_bytes = OPTS_GET(opts, av_open_opts, machine_bytes, 0),
		.log = core_log,
		.log_ctx = hv,
	};
	if (!ho.machine_bytes)
		ho.machine_bytes = HV_BACKEND_DEFAULT_MACHINE;
	r = hv_new(&ho, &be->core);
	if (r < 0) {
		av_err(hv, "hv: cannot set up %" PRIu64 " bytes of machine memory: %s",
		       ho.machine_bytes, av_strerror(r));
		free(be);
		return r;
	}
	pthread_mutex_init(&be->names_lock, NULL);
	hv->be = be;
	return 0;
}

static void be_close(struct av_hv *hv)
{
	struct hv_backend *be = be_of(hv);

	hv_free(be->core);
	pthread_mutex_destroy(&be->names_lock);
	free(be);
}

static int be_get_info(struct av_hv *hv, struct av_hv_info *info)
{
	info->hv_version_major = AV_VERSION_MAJOR;
	info->hv_version_minor = AV_VERSION_MINOR;
	info->max_views = ALTVIEW_MAX_VIEWS;
	info->max_vcpus = ALTVIEW_MAX_VCPUS;
	info->machine_bytes = hv_machine_frames(core_of(hv)) << HV_PAGE_SHIFT;
	return 0;
}

/* ---- domains ------------------------------------------------------------------------ */

static void set_name(struct av_hv *hv, domid_t id, const char *name)
{
	struct hv_backend *be = be_of(hv);

	pthread_mutex_lock(&be->names_lock);
	snprintf(be->names[id], sizeof(be->names[id]), "%s", name ? name : "");
	pthread_mutex_unlock(&be->names_lock);
}

static int be_domain_create(struct av_hv *hv, const struct av_domain_spec *spec,
			    struct av_domain *dom)
{
	struct hv_domain_opts o = {
		.sz = sizeof(o),
		.memory_bytes = spec->memory_bytes,
		.nr_vcpus = spec->nr_vcpus,
		.access_required = spec->access_required,
		.max_grant_frames = spec->grant_frames > HV_GNTTAB_DEFAULT_MAX_FRAMES ? spec->grant_frames : 0,
	};
	struct hv_script_config cfg = { 0 };
	struct hv_x86_config x86 = { 0 };
	struct hv_script **scripts = NULL;
	struct hv_domain *d;
	int r;

	if (spec->nr_vcpus && !strcmp(spec->engine, "script")) {
		r = script_program_parse(hv, spec->program, spec->nr_vcpus, &scripts, &cfg.nr);
		if (r < 0)
			return r;
		cfg.scripts = (const struct hv_script *const *)scripts;
		o.engine = &hv_script_engine;
		o.engine_config = &cfg;
	} else if (spec->nr_vcpus && !strcmp(spec->engine, "x86")) {
		r = x86_program_parse(hv, spec->program, &x86);
		if (r < 0)
			return r;
		o.engine = &hv_x86_engine;
		o.engine_config = &x86;
	} else if (spec->nr_vcpus) {
		av_err(hv, "domain spec: unknown engine \"%s\" (this build has: script, x86)",
		       spec->engine);
		return -EINVAL;
	}
	r = hv_domain_create(core_of(hv), &o, &d);
	script_program_free(scripts, cfg.nr);
	x86_program_free(&x86);
	if (r < 0) {
		av_err(hv, "hv: cannot create a domain of %" PRIu64 " bytes, %u vCPUs: %s",
		       spec->memory_bytes, spec->nr_vcpus, av_strerror(r));
		return r;
	}
	if (spec->grant_frames) {
		uint64_t *gfns = calloc(spec->grant_frames, sizeof(*gfns));

		r = gfns ? grant_status_errno(hv, (int16_t)hv_gnttab_setup_table(d, spec->grant_frames, gfns),
					      "domain spec: grant_frames") : -ENOMEM;
		free(gfns);
		if (r < 0) {
			hv_domain_destroy(d);
			hv_domain_put(d);
			return r;
		}
	}
	set_name(hv, hv_domain_id(d), spec->name);
	dom->be = d;
	dom->id = hv_domain_id(d);
	dom->nr_vcpus = hv_domain_nr_vcpus(d);
	return 0;
}

static int be_domain_list(struct av_hv *hv, uint32_t *ids, size_t max)
{
	domid_t buf[HV_MAX_DOMAINS];
	int n = hv_domain_list(core_of(hv), buf, HV_MAX_DOMAINS);

	for (int i = 0; i < n && (size_t)i < max; i++)
		ids[i] = buf[i];
	return n;
}

static int be_domain_open(struct av_hv *hv, uint32_t id, struct av_domain *dom)
{
	struct hv_domain *d;
	int r = id < HV_MAX_DOMAINS && id ? hv_domain_get(core_of(hv), (domid_t)id, &d) : -ESRCH;

	if (r < 0) {
		av_err(hv, "no domain %u", id);
		return -ESRCH;
	}
	dom->be = d;
	dom->id = id;
	dom->nr_vcpus = hv_domain_nr_vcpus(d);
	return 0;
}

static void be_domain_close(struct av_domain *dom)
{
	hv_domain_put(dom_of(dom));
}

static int be_domain_get_info(struct av_domain *dom, struct av_domain_info *info)
{
	struct hv_backend *be = be_of(dom->hv);
	struct hv_domain *d = dom_of(dom);
	const char *why;

	switch (hv_domain_state(d)) {
	case HV_DOMAIN_RUNNING: info->state = AV_DOMAIN_RUNNING; break;
	case HV_DOMAIN_PAUSED: info->state = AV_DOMAIN_PAUSED; break;
	case HV_DOMAIN_CRASHED: info->state = AV_DOMAIN_CRASHED; break;
	default: info->state = AV_DOMAIN_DYING; break;
	}
	info->memory_bytes = hv_domain_tot_pages(d) << HV_PAGE_SHIFT;
	why = hv_domain_crash_reason(d);
	snprintf(info->crash_reason, sizeof(info->crash_reason), "%s", why ? why : "");
	info->access_required = hv_domain_access_required(d);
	info->max_views = hv_views_max(d);
	pthread_mutex_lock(&be->names_lock);
	memcpy(info->name, be->names[dom->id], sizeof(info->name));
	pthread_mutex_unlock(&be->names_lock);
	return 0;
}

static int be_domain_set_access_required(struct av_domain *dom, bool required)
{
	hv_domain_set_access_required(dom_of(dom), required);
	return 0;
}

static bool be_domain_alive(struct av_domain *dom)
{
	return hv_domain_state(dom_of(dom)) != HV_DOMAIN_DYING;
}

static int be_domain_pause(struct av_domain *dom, bool pause)
{
	return pause ? hv_domain_pause(dom_of(dom)) : hv_domain_unpause(dom_of(dom));
}

static int be_domain_wait_idle(struct av_domain *dom, int timeout_ms)
{
	return hv_domain_wait_idle(dom_of(dom), timeout_ms);
}

static int be_domain_destroy(struct av_domain *dom)
{
	int r = hv_domain_destroy(dom_of(dom));

	if (r == 0)
		set_name(dom->hv, (domid_t)dom->id, NULL);
	return r;
}

static int be_map(struct av_domain *dom, uint64_t gfn, size_t nr, unsigned int flags, void **addr)
{
	return hv_foreign_map(core_of(dom->hv), (domid_t)dom->id, gfn, nr,
			      flags & AV_MAP_WRITE ? HV_MAP_WRITE : 0, addr);
}

static int be_unmap(struct av_domain *dom, void *addr)
{
	return hv_foreign_unmap(core_of(dom->hv), addr);
}

/* The core's runs are the ABI's, field for field. */
_Static_assert(sizeof(struct av_frame_run) == sizeof(struct frame_run) &&
	       offsetof(struct av_frame_run, offset) == offsetof(struct frame_run, offset) &&
	       offsetof(struct av_frame_run, pages) == offsetof(struct frame_run, pages),
	       "struct av_frame_run is struct frame_run");

static int be_map_export(struct av_domain *dom, void *addr, int *fd, struct av_frame_run *runs,
			 size_t *nr_runs)
{
	return hv_foreign_export(core_of(dom->hv), addr, fd, (struct frame_run *)runs, nr_runs);
}

static int be_vcpu_pause(struct av_domain *dom, uint32_t vcpu, bool pause)
{
	return pause ? hv_vcpu_pause(vcpu_of(dom, vcpu)) : hv_vcpu_unpause(vcpu_of(dom, vcpu));
}

static int be_vcpu_get_regs(struct av_domain *dom, uint32_t vcpu, struct vm_event_regs_x86 *regs)
{
	return hv_vcpu_get_regs(vcpu_of(dom, vcpu), regs);
}

static int be_vcpu_set_regs(struct av_domain *dom, uint32_t vcpu,
			    const struct vm_event_regs_x86 *regs)
{
	return hv_vcpu_set_regs(vcpu_of(dom, vcpu), regs);
}

static int be_vcpu_set_singlestep(struct av_domain *dom, uint32_t vcpu, bool enable)
{
	return hv_vcpu_set_singlestep(vcpu_of(dom, vcpu), enable);
}

/* ---- views -------------------------------------------------------------------------- */

static int be_views_enable(struct av_domain *dom, uint32_t max_views)
{
	return hv_views_enable(dom_of(dom), max_views);
}

static int be_views_disable(struct av_domain *dom)
{
	return hv_views_disable(dom_of(dom));
}

static int be_view_create(struct av_domain *dom, xenmem_access_t def, uint32_t *view)
{
	unsigned int idx;
	int r = hv_view_create(dom_of(dom), def, &idx);

	if (r == 0)
		*view = idx;
	return r;
}

static int be_view_destroy(struct av_domain *dom, uint32_t view)
{
	return hv_view_destroy(dom_of(dom), view);
}

static int be_view_switch(struct av_domain *dom, uint32_t view)
{
	return hv_view_switch(dom_of(dom), view);
}

static int be_vcpu_switch_view(struct av_domain *dom, uint32_t vcpu, uint32_t view)
{
	return hv_vcpu_switch_view(vcpu_of(dom, vcpu), view);
}

static int be_vcpu_get_view(struct av_domain *dom, uint32_t vcpu, uint32_t *view)
{
	*view = hv_vcpu_view(vcpu_of(dom, vcpu));
	return 0;
}

static int be_view_set_visible(struct av_domain *dom, uint32_t view, bool visible)
{
	return hv_view_set_visible(dom_of(dom), view, visible);
}

static int be_view_set_access(struct av_domain *dom, uint32_t view, uint64_t gfn, uint64_t nr,
			      xenmem_access_t access)
{
	return hv_view_set_access(dom_of(dom), view, gfn, nr, access);
}

static int be_view_set_access_multi(struct av_domain *dom, uint32_t view, const uint64_t *gfns,
				    const xenmem_access_t *access, size_t n, size_t *failed)
{
	return hv_view_set_access_multi(dom_of(dom), view, gfns, access, n, failed);
}

static int be_view_get_access(struct av_domain *dom, uint32_t view, uint64_t gfn,
			      xenmem_access_t *access)
{
	return hv_view_get_access(dom_of(dom), view, gfn, access);
}

static int be_view_set_default_access(struct av_domain *dom, uint32_t view, xenmem_access_t access)
{
	return hv_view_set_default_access(dom_of(dom), view, access);
}

static int be_view_change_gfn(struct av_domain *dom, uint32_t view, uint64_t old_gfn,
			      uint64_t new_gfn)
{
	return hv_view_change_gfn(dom_of(dom), view, old_gfn,
				  new_gfn == AV_INVALID_GFN ? HV_INVALID_GFN : new_gfn);
}

/* ---- monitors ----------------------------------------------------------------------- */

static struct hv_mon *mon_of(struct av_monitor *mon)
{
	return mon->be;
}

static void mon_free(struct hv_mon *hm)
{
	/* First: it waits out handler calls, which use the consumer. */
	if (hm->m)
		hv_monitor_disable(hm->m);
	hv_consumer_close(hm->c);
	hv_evtchn_handle_close(hm->h);
	free(hm);
}

static int be_monitor_open(struct av_monitor *mon, const struct av_monitor_opts *opts)
{
	struct hv_monitor_opts o = {
		.sz = sizeof(o),
		.transport = opts->transport == AV_TRANSPORT_RING ? HV_MONITOR_RING
								  : HV_MONITOR_CHANNELS,
		.ring_pages = opts->ring_pages,
	};
	struct av_hv *hv = mon->dom->hv;
	struct hv_monitor_info info;
	struct hv_mon *hm = calloc(1, sizeof(*hm));
	int r;

	if (!hm)
		return -ENOMEM;
	r = hv_monitor_enable(dom_of(mon->dom), &o, &hm->m);
	if (r == -EBUSY)
		av_err(hv, "domain %u is monitored already", mon->dom->id);
	if (r == 0)
		r = hv_evtchn_open(core_of(hv), &hm->h);
	if (r == 0)
		r = hv_monitor_get_info(hm->m, &info);
	if (r == 0)
		r = hv_consumer_open(&info, hm->h, &hm->c);
	if (r < 0) {
		mon_free(hm);
		return r;
	}
	mon->be = hm;
	return 0;
}

static void be_monitor_close(struct av_monitor *mon)
{
	mon_free(mon_of(mon));
}

static int be_monitor_set_reasons(struct av_monitor *mon, uint32_t reasons)
{
	return hv_monitor_set_reasons(mon_of(mon)->m, reasons);
}

static int be_monitor_fd(struct av_monitor *mon)
{
	return hv_consumer_fd(mon_of(mon)->c);
}

static int be_monitor_next(struct av_monitor *mon, vm_event_request_t *req)
{
	return hv_consumer_next(mon_of(mon)->c, req);
}

static int be_monitor_next_async(struct av_monitor *mon, vm_event_request_t *req)
{
	return hv_consumer_next_async(mon_of(mon)->c, req);
}

static int be_monitor_wait(struct av_monitor *mon, uint32_t vcpu, int timeout_ms,
			   vm_event_request_t *req)
{
	return hv_consumer_wait(mon_of(mon)->c, vcpu, timeout_ms, req);
}

/*
 * The core refuses an answer naming a view that does not exist only when
 * the vCPU looks at it, and then asks again.  Saying so here lets the caller
 * answer otherwise at once; an answer that stays wrong would bring the same
 * request back for ever.
 */
static int be_monitor_respond(struct av_monitor *mon, const vm_event_response_t *rsp)
{
	struct hv_domain *d = dom_of(mon->dom);
	int missing = -1;

	if (!(rsp->flags & VM_EVENT_FLAG_VCPU_PAUSED))
		return hv_consumer_respond(mon_of(mon)->c, rsp);
	if ((rsp->flags & VM_EVENT_FLAG_ALTERNATE_P2M) && !hv_view_exists(d, rsp->altp2m_idx))
		missing = rsp->altp2m_idx;
	else if ((rsp->flags & VM_EVENT_FLAG_FAST_SINGLESTEP) &&
		 !hv_view_exists(d, rsp->u.fast_singlestep.p2midx))
		missing = rsp->u.fast_singlestep.p2midx;
	if (missing >= 0) {
		av_err(mon->dom->hv, "av_monitor_respond: domain %u has no view %d", mon->dom->id,
		       missing);
		return -EINVAL;
	}
	return hv_consumer_respond(mon_of(mon)->c, rsp);
}

static void on_handler_event(void *ctx, unsigned int vcpu)
{
	monitor_handle(ctx, vcpu);
}

static int be_monitor_set_handler(struct av_monitor *mon)
{
	return hv_monitor_set_handler(mon_of(mon)->m, on_handler_event, mon);
}

static void be_monitor_get_stats(struct av_monitor *mon, struct av_monitor_stats *st)
{
	struct hv_monitor_stats hs;

	hv_monitor_get_stats(mon_of(mon)->m, &hs);
	st->async_dropped = hs.async_dropped;
	st->ring_waits = hs.ring_waits;
	st->bad_responses = hs.bad_responses;
}

/* ---- event channels ----------------------------------------------------------------- */

static struct hv_evtchn_handle *xce_of(struct av_evtchn *xce)
{
	return xce->be;
}

static int be_evtchn_open(struct av_evtchn *xce)
{
	struct hv_evtchn_handle *h;
	int r = hv_evtchn_open(core_of(xce->hv), &h);

	if (r == 0)
		xce->be = h;
	return r;
}

static void be_evtchn_close(struct av_evtchn *xce)
{
	hv_evtchn_handle_close(xce_of(xce));
}

static int be_evtchn_fd(struct av_evtchn *xce)
{
	return hv_evtchn_fd(xce_of(xce));
}

static int be_evtchn_bind_interdomain(struct av_evtchn *xce, uint32_t domid, uint32_t port)
{
	if (domid > UINT16_MAX)
		return -ESRCH;
	return hv_evtchn_bind_interdomain_port(xce_of(xce), (domid_t)domid, port);
}

static int be_evtchn_bind_unbound(struct av_evtchn *xce, uint32_t domid)
{
	if (domid > UINT16_MAX)
		return -ESRCH;
	return hv_evtchn_bind_unbound_port(xce_of(xce), (domid_t)domid);
}

static int be_evtchn_unbind(struct av_evtchn *xce, uint32_t port)
{
	return hv_evtchn_unbind(xce_of(xce), port);
}

static int be_evtchn_notify(struct av_evtchn *xce, uint32_t port)
{
	return hv_evtchn_notify(xce_of(xce), port);
}

static int be_evtchn_pending(struct av_evtchn *xce)
{
	return hv_evtchn_pending(xce_of(xce));
}

static int be_evtchn_unmask(struct av_evtchn *xce, uint32_t port)
{
	return hv_evtchn_unmask_port(xce_of(xce), port);
}

static int be_evtchn_status(struct av_domain *dom, uint32_t port, struct evtchn_status *st)
{
	return hv_evtchn_status(dom_of(dom), port, st);
}

static int be_evtchn_export(struct av_evtchn *xce, int *shared_fd, int *up_fd, int *down_fd)
{
	struct hv_evtchn_export ex;
	int r = hv_evtchn_export(xce_of(xce), &ex);

	if (r == 0) {
		*shared_fd = ex.shm_fd;
		*up_fd = ex.up_fd;
		*down_fd = ex.down_fd;
	}
	return r;
}

/* ---- grants ------------------------------------------------------------------------- */

static int be_grant_map(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t gntmap_flags,
			void **addr, uint32_t *handle)
{
	grant_handle_t h;
	int16_t st;

	if (domid > UINT16_MAX)
		return GNTST_bad_domain;
	st = hv_gnttab_map(core_of(hv), (domid_t)domid, ref, gntmap_flags, addr, &h);
	if (st == GNTST_okay)
		*handle = h;
	return st;
}

static int be_grant_unmap(struct av_hv *hv, uint32_t handle)
{
	return hv_gnttab_unmap(core_of(hv), handle);
}

static int be_grant_export(struct av_hv *hv, uint32_t handle, int *fd, uint64_t *offset)
{
	return hv_gnttab_export(core_of(hv), handle, fd, offset);
}

/* The core copies between domains' frames; this process is not one, so map. */
static int be_grant_copy(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t offset,
			 void *buf, uint32_t len, bool to_grant)
{
	uint32_t handle;
	void *page;
	int st = be_grant_map(hv, domid, ref, GNTMAP_host_map | (to_grant ? 0 : GNTMAP_readonly),
			      &page, &handle);

	if (st != GNTST_okay)
		return st;
	if (to_grant)
		memcpy((char *)page + offset, buf, len);
	else
		memcpy(buf, (char *)page + offset, len);
	return be_grant_unmap(hv, handle);
}

static int be_grant_share(struct av_hv *hv, uint32_t domid, bool readonly, uint32_t *ref,
			  void **addr)
{
	grant_ref_t gref;
	int r;

	if (domid > UINT16_MAX)
		return -ESRCH;
	r = hv_gnttab_share(core_of(hv), (domid_t)domid, readonly, &gref, addr);
	if (r == 0)
		*ref = gref;
	return r;
}

static int be_grant_unshare(struct av_hv *hv, uint32_t ref)
{
	return hv_gnttab_unshare(core_of(hv), ref);
}

static int be_guest_grant_access(struct av_domain *dom, uint32_t ref, uint32_t domid,
				 uint64_t gfn, bool readonly)
{
	if (domid > UINT16_MAX)
		return -ESRCH;
	return hv_gnttab_grant_access(dom_of(dom), ref, (domid_t)domid, gfn, readonly);
}

static int be_guest_end_access(struct av_domain *dom, uint32_t ref)
{
	return hv_gnttab_end_access(dom_of(dom), ref);
}

static int be_guest_map_grant(struct av_domain *dom, uint32_t ref, uint64_t gfn, bool readonly,
			      uint32_t *handle)
{
	grant_handle_t h;
	int16_t st = hv_gnttab_guest_map(dom_of(dom), ref, gfn,
					 GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0), &h);

	if (st == GNTST_okay)
		*handle = h;
	return grant_status_errno(dom->hv, st, "guest grant map");
}

static int be_guest_unmap_grant(struct av_domain *dom, uint32_t handle)
{
	return grant_status_errno(dom->hv, hv_gnttab_guest_unmap(dom_of(dom), (grant_handle_t)handle),
				  "guest grant unmap");
}

static int be_guest_evtchn_alloc_unbound(struct av_domain *dom, uint32_t remote)
{
	if (remote > UINT16_MAX)
		return -ESRCH;
	return hv_evtchn_alloc_unbound(dom_of(dom), (domid_t)remote);
}

static int be_guest_evtchn_send(struct av_domain *dom, uint32_t port)
{
	return hv_evtchn_send(dom_of(dom), port);
}

static int be_guest_evtchn_test_and_clear(struct av_domain *dom, uint32_t port)
{
	return hv_evtchn_test_and_clear(dom_of(dom), port);
}

const struct av_backend_ops av_backend_hv = {
	.name = "hv",
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
	.domain_set_access_required = be_domain_set_access_required,
	.domain_wait_idle = be_domain_wait_idle,
	.domain_destroy = be_domain_destroy,
	.map = be_map,
	.unmap = be_unmap,
	.map_export = be_map_export,
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
	.monitor_open = be_monitor_open,
	.monitor_close = be_monitor_close,
	.monitor_set_reasons = be_monitor_set_reasons,
	.monitor_fd = be_monitor_fd,
	.monitor_next = be_monitor_next,
	.monitor_next_async = be_monitor_next_async,
	.monitor_wait = be_monitor_wait,
	.monitor_respond = be_monitor_respond,
	.monitor_set_handler = be_monitor_set_handler,
	.monitor_get_stats = be_monitor_get_stats,
	.evtchn_open = be_evtchn_open,
	.evtchn_close = be_evtchn_close,
	.evtchn_fd = be_evtchn_fd,
	.evtchn_bind_interdomain = be_evtchn_bind_interdomain,
	.evtchn_bind_unbound = be_evtchn_bind_unbound,
	.evtchn_unbind = be_evtchn_unbind,
	.evtchn_notify = be_evtchn_notify,
	.evtchn_pending = be_evtchn_pending,
	.evtchn_unmask = be_evtchn_unmask,
	.evtchn_export = be_evtchn_export,
	.evtchn_status = be_evtchn_status,
	.grant_map = be_grant_map,
	.grant_unmap = be_grant_unmap,
	.grant_export = be_grant_export,
	.grant_copy = be_grant_copy,
	.grant_share = be_grant_share,
	.grant_unshare = be_grant_unshare,
	.guest_grant_access = be_guest_grant_access,
	.guest_end_access = be_guest_end_access,
	.guest_map_grant = be_guest_map_grant,
	.guest_unmap_grant = be_guest_unmap_grant,
	.guest_evtchn_alloc_unbound = be_guest_evtchn_alloc_unbound,
	.guest_evtchn_send = be_guest_evtchn_send,
	.guest_evtchn_test_and_clear = be_guest_evtchn_test_and_clear,
};
