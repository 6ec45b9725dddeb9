/* SPDX-License-Identifier: MIT */
/*
 * domain.c — domain handles: lifecycle, guest memory, vCPU state.
 */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "private.h"

static struct av_domain *domain_handle_new(struct av_hv *hv)
{
	struct av_domain *dom = calloc(1, sizeof(*dom));

	if (dom) {
		dom->hv = hv;
		list_init(&dom->link);
		list_init(&dom->monitors);
	}
	return dom;
}

/* Keeps a handle the backend filled in (@r: its create or open), or drops it. */
static int domain_handle_add(struct av_domain *dom, int r, av_domain **out)
{
	if (r < 0) {
		free(dom);
		return r;
	}
	pthread_mutex_lock(&dom->hv->lock);
	list_add(&dom->hv->domains, &dom->link);
	pthread_mutex_unlock(&dom->hv->lock);
	*out = dom;
	return 0;
}

void domain_handle_free(struct av_domain *dom)
{
	while (dom->monitors.next != &dom->monitors)
		av_monitor_close(list_entry(dom->monitors.next, struct av_monitor, link));
	pthread_mutex_lock(&dom->hv->lock);
	list_del(&dom->link);
	pthread_mutex_unlock(&dom->hv->lock);
	dom->hv->ops->domain_close(dom);
	free(dom);
}

static int domain_create(struct av_hv *hv, const struct av_domain_spec *spec, av_domain **out)
{
	struct av_domain *dom;

	if (!spec->memory_bytes || spec->memory_bytes % AV_PAGE_SIZE) {
		av_err(hv, "domain spec: memory_bytes %" PRIu64 " is not a positive multiple of 4096",
		       spec->memory_bytes);
		return -EINVAL;
	}
	if (spec->nr_vcpus > ALTVIEW_MAX_VCPUS) {
		av_err(hv, "domain spec: %u vCPUs, at most %u", spec->nr_vcpus, ALTVIEW_MAX_VCPUS);
		return -EINVAL;
	}
	if (spec->nr_vcpus && !spec->engine) {
		av_err(hv, "domain spec: vCPUs need an engine");
		return -EINVAL;
	}
	if (!hv->ops->domain_create)
		return -EOPNOTSUPP;
	if (!(dom = domain_handle_new(hv)))
		return -ENOMEM;
	return domain_handle_add(dom, hv->ops->domain_create(hv, spec, dom), out);
}

AV_API int av_domain_create(av_hv *hv, const struct av_domain_spec *spec, av_domain **out)
{
	struct av_domain_spec s = { .sz = sizeof(s) };

	if (!hv || !spec || !out)
		return -EINVAL;
	if (!opts_valid(hv, spec, offsetofend(struct av_domain_spec, grant_frames), "av_domain_spec"))
		return -EINVAL;
	memcpy((char *)&s + sizeof(size_t), (const char *)spec + sizeof(size_t),
	       (spec->sz < sizeof(s) ? spec->sz : sizeof(s)) - sizeof(size_t));
	return domain_create(hv, &s, out);
}

AV_API int av_domain_create_json(av_hv *hv, const char *json, av_domain **out)
{
	struct av_domain_spec spec = { .sz = sizeof(spec) };
	struct spec_owner *owner;
	int r;

	if (!hv || !json || !out)
		return -EINVAL;
	r = spec_parse_json(hv, json, &spec, &owner);
	if (r < 0)
		return r;
	r = domain_create(hv, &spec, out);
	spec_owner_free(owner);
	return r;
}

AV_API int av_domain_list(av_hv *hv, uint32_t *ids, size_t max)
{
	if (!hv || (!ids && max))
		return -EINVAL;
	return hv->ops->domain_list(hv, ids, max);
}

AV_API int av_domain_open(av_hv *hv, uint32_t domid, av_domain **out)
{
	struct av_domain *dom;

	if (!hv || !out)
		return -EINVAL;
	if (!(dom = domain_handle_new(hv)))
		return -ENOMEM;
	return domain_handle_add(dom, hv->ops->domain_open(hv, domid, dom), out);
}

AV_API int av_domain_close(av_domain *dom)
{
	bool busy;

	if (!dom)
		return -EINVAL;
	pthread_mutex_lock(&dom->hv->lock);
	busy = dom->monitors.next != &dom->monitors;
	pthread_mutex_unlock(&dom->hv->lock);
	if (busy) {
		av_err(dom->hv, "av_domain_close: domain %u still has a monitor open", dom->id);
		return -EBUSY;
	}
	domain_handle_free(dom);
	return 0;
}

AV_API uint32_t av_domain_id(const av_domain *dom)
{
	return dom ? dom->id : 0;
}

AV_API int av_domain_get_info(av_domain *dom, struct av_domain_info *info)
{
	struct av_domain_info full = { .sz = sizeof(full) };
	int r;

	if (!dom || !info || info->sz < sizeof(size_t))
		return -EINVAL;
	full.id = dom->id;
	full.nr_vcpus = dom->nr_vcpus;
	r = dom->hv->ops->domain_get_info(dom, &full);
	if (r < 0)
		return r;
	out_fill(info, &full, sizeof(full));
	return 0;
}

int domain_check(struct av_domain *dom)
{
	if (!dom)
		return -EINVAL;
	if (!dom->hv->ops->domain_alive(dom)) {
		av_err(dom->hv, "domain %u is gone", dom->id);
		return -ESRCH;
	}
	return 0;
}

AV_API int av_domain_pause(av_domain *dom)
{
	int r = domain_check(dom);

	return r < 0 ? r : dom->hv->ops->domain_pause(dom, true);
}

AV_API int av_domain_unpause(av_domain *dom)
{
	int r = domain_check(dom);

	return r < 0 ? r : dom->hv->ops->domain_pause(dom, false);
}

int domain_poll_idle(struct av_domain *dom, int timeout_ms,
		     int (*idle)(struct av_domain *dom, bool *yes))
{
	struct timespec now, end;
	long nap_us = 1000;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout_ms / 1000;
	end.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	for (;;) {
		bool yes = false;
		int r = idle(dom, &yes);

		if (r < 0 || yes)
			return r;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec * 1000000000L + now.tv_nsec >= end.tv_sec * 1000000000L + end.tv_nsec)
			return -ETIMEDOUT;
		usleep((useconds_t)nap_us);
		if (nap_us < 20000)
			nap_us *= 2;
	}
}

AV_API int av_domain_wait_idle(av_domain *dom, int timeout_ms)
{
	if (!dom || timeout_ms < 0)
		return -EINVAL;
	return BACKEND_OPTIONAL(dom->hv, domain_wait_idle, dom, timeout_ms);
}

AV_API int av_domain_set_access_required(av_domain *dom, bool required)
{
	int r = domain_check(dom);

	return r < 0 ? r : BACKEND_OPTIONAL(dom->hv, domain_set_access_required, dom, required);
}

AV_API int av_domain_destroy(av_domain *dom)
{
	return dom ? dom->hv->ops->domain_destroy(dom) : -EINVAL;
}

/* ---- memory ---------------------------------------------------------------------- */

AV_API int av_map(av_domain *dom, uint64_t gfn, size_t nr, unsigned int flags, void **addr)
{
	if (!dom || !addr || !nr || (flags & ~AV_MAP_WRITE))
		return -EINVAL;
	return BACKEND_OPTIONAL(dom->hv, map, dom, gfn, nr, flags, addr);
}

AV_API int av_unmap(av_domain *dom, void *addr)
{
	if (!dom || !addr)
		return -EINVAL;
	return BACKEND_OPTIONAL(dom->hv, unmap, dom, addr);
}

AV_API int av_map_export(av_domain *dom, void *addr, int *fd, struct av_frame_run *runs,
			 size_t *nr_runs)
{
	if (!dom || !addr || !fd || !nr_runs || (!runs && *nr_runs))
		return -EINVAL;
	return BACKEND_OPTIONAL(dom->hv, map_export, dom, addr, fd, runs, nr_runs);
}

/* Maps the pages under [gpa, gpa + len) and copies through the mapping. */
static int copy_guest(struct av_domain *dom, uint64_t gpa, void *buf, size_t len, bool write)
{
	uint64_t first = gpa >> AV_PAGE_SHIFT, last;
	void *map;
	int r;

	if (!dom || (!buf && len) || gpa + len < gpa)
		return -EINVAL;
	if (!len)
		return 0;
	if (dom->hv->ops->copy)
		return dom->hv->ops->copy(dom, gpa, buf, len, write);
	last = (gpa + len - 1) >> AV_PAGE_SHIFT;
	r = BACKEND_OPTIONAL(dom->hv, map, dom, first, last - first + 1, write ? AV_MAP_WRITE : 0, &map);
	if (r < 0)
		return r;
	if (write)
		memcpy((char *)map + (gpa & (AV_PAGE_SIZE - 1)), buf, len);
	else
		memcpy(buf, (char *)map + (gpa & (AV_PAGE_SIZE - 1)), len);
	return dom->hv->ops->unmap(dom, map);
}

AV_API int av_read(av_domain *dom, uint64_t gpa, void *buf, size_t len)
{
	return copy_guest(dom, gpa, buf, len, false);
}

AV_API int av_write(av_domain *dom, uint64_t gpa, const void *buf, size_t len)
{
	return copy_guest(dom, gpa, (void *)buf, len, true);
}

/* ---- vCPUs ----------------------------------------------------------------------- */

static int check_vcpu(struct av_domain *dom, uint32_t vcpu)
{
	int r = domain_check(dom);

	if (r < 0)
		return r;
	if (vcpu >= dom->nr_vcpus) {
		av_err(dom->hv, "domain %u has no vCPU %u", dom->id, vcpu);
		return -EINVAL;
	}
	return 0;
}

AV_API int av_vcpu_pause(av_domain *dom, uint32_t vcpu)
{
	int r = check_vcpu(dom, vcpu);

	return r < 0 ? r : BACKEND_OPTIONAL(dom->hv, vcpu_pause, dom, vcpu, true);
}

AV_API int av_vcpu_unpause(av_domain *dom, uint32_t vcpu)
{
	int r = check_vcpu(dom, vcpu);

	return r < 0 ? r : BACKEND_OPTIONAL(dom->hv, vcpu_pause, dom, vcpu, false);
}

/* The vCPU's registers as the backend keeps them, once the arguments check. */
static int regs_fetch(av_domain *dom, uint32_t vcpu, const struct av_regs_x86 *regs,
		      struct vm_event_regs_x86 *x)
{
	int r = check_vcpu(dom, vcpu);

	if (r == 0 && !regs)
		r = -EINVAL;
	return r < 0 ? r : BACKEND_OPTIONAL(dom->hv, vcpu_get_regs, dom, vcpu, x);
}

AV_API int av_vcpu_get_regs(av_domain *dom, uint32_t vcpu, struct av_regs_x86 *regs)
{
	struct vm_event_regs_x86 x;
	int r = regs_fetch(dom, vcpu, regs, &x);

	if (r == 0)
		regs_from_xen(&x, regs);
	return r;
}

AV_API int av_vcpu_set_regs(av_domain *dom, uint32_t vcpu, const struct av_regs_x86 *regs)
{
	struct vm_event_regs_x86 x;
	/* Read first: Xen's struct has state altview's does not carry. */
	int r = regs_fetch(dom, vcpu, regs, &x);

	if (r == 0) {
		regs_to_xen(regs, &x);
		r = BACKEND_OPTIONAL(dom->hv, vcpu_set_regs, dom, vcpu, &x);
	}
	return r;
}

AV_API int av_vcpu_set_singlestep(av_domain *dom, uint32_t vcpu, bool enable)
{
	int r = check_vcpu(dom, vcpu);

	return r < 0 ? r : dom->hv->ops->vcpu_set_singlestep(dom, vcpu, enable);
}
