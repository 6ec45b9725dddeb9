/* SPDX-License-Identifier: MIT */
/*
 * grant.c — grant tables from dom0's side, and an embedded guest's own
 * grant and event channel operations.  Backends report GNTST_* as Xen's
 * hypercalls do; callers get an errno and the log gets Xen's name.
 */
#include "private.h"

static const struct {
	int16_t st;
	int err;
	const char *name;
} grant_statuses[] = {
	{ GNTST_general_error, -EIO, "GNTST_general_error" },
	{ GNTST_bad_domain, -ESRCH, "GNTST_bad_domain" },
	{ GNTST_bad_gntref, -EINVAL, "GNTST_bad_gntref" },
	{ GNTST_bad_handle, -ENOENT, "GNTST_bad_handle" },
	{ GNTST_bad_virt_addr, -EFAULT, "GNTST_bad_virt_addr" },
	{ GNTST_bad_dev_addr, -EFAULT, "GNTST_bad_dev_addr" },
	{ GNTST_no_device_space, -ENOSPC, "GNTST_no_device_space" },
	{ GNTST_permission_denied, -EPERM, "GNTST_permission_denied" },
	{ GNTST_bad_page, -EINVAL, "GNTST_bad_page" },
	{ GNTST_bad_copy_arg, -EINVAL, "GNTST_bad_copy_arg" },
	{ GNTST_address_too_big, -EINVAL, "GNTST_address_too_big" },
	{ GNTST_eagain, -EAGAIN, "GNTST_eagain" },
	{ GNTST_no_space, -ENOSPC, "GNTST_no_space" },
};

int grant_status_errno(struct av_hv *hv, int16_t st, const char *what)
{
	if (st == GNTST_okay)
		return 0;
	for (size_t i = 0; i < sizeof(grant_statuses) / sizeof(grant_statuses[0]); i++) {
		if (grant_statuses[i].st == st) {
			av_err(hv, "%s: %s", what, grant_statuses[i].name);
			return grant_statuses[i].err;
		}
	}
	/* Not a GNTST_ code: a backend's own negative errno. */
	return st < 0 ? st : -EIO;
}

int16_t grant_errno_status(int err)
{
	if (err >= 0)
		return GNTST_okay;
	for (size_t i = 0; i < sizeof(grant_statuses) / sizeof(grant_statuses[0]); i++)
		if (grant_statuses[i].err == err)
			return grant_statuses[i].st;
	return GNTST_general_error;
}

/* Grants are the embedded hypervisor's own: backends in front of another process have none. */
static int grants_check(struct av_hv *hv)
{
	if (!hv)
		return -EINVAL;
	if (hv->ops->grant_map)
		return 0;
	av_err(hv, "grant tables: the %s backend has none", hv->ops->name);
	return -EOPNOTSUPP;
}

AV_API int av_grant_map(av_hv *hv, uint32_t domid, uint32_t ref, unsigned int flags,
			void **addr, uint32_t *handle)
{
	uint32_t gntmap = GNTMAP_host_map;

	int r = grants_check(hv);

	if (r < 0)
		return r;
	if (!addr || !handle || (flags & ~AV_GRANT_READONLY))
		return -EINVAL;
	if (flags & AV_GRANT_READONLY)
		gntmap |= GNTMAP_readonly;
	return grant_status_errno(hv, hv->ops->grant_map(hv, domid, ref, gntmap, addr, handle),
				  "av_grant_map");
}

AV_API int av_grant_unmap(av_hv *hv, uint32_t handle)
{
	int r = grants_check(hv);

	if (r < 0)
		return r;
	return grant_status_errno(hv, hv->ops->grant_unmap(hv, handle), "av_grant_unmap");
}

AV_API int av_grant_export(av_hv *hv, uint32_t handle, int *fd, uint64_t *offset)
{
	int r = grants_check(hv);

	if (r < 0)
		return r;
	if (!fd || !offset)
		return -EINVAL;
	return BACKEND_OPTIONAL(hv, grant_export, hv, handle, fd, offset);
}

static int grant_copy(av_hv *hv, uint32_t domid, uint32_t ref, uint32_t offset, void *buf,
		      uint32_t len, bool to_grant)
{
	int r = grants_check(hv);

	if (r < 0)
		return r;
	if (!buf || !len || offset >= AV_PAGE_SIZE || len > AV_PAGE_SIZE - offset) {
		av_err(hv, "grant copy: %u bytes at offset %u do not fit in a page", len, offset);
		return -EINVAL;
	}
	return grant_status_errno(hv, hv->ops->grant_copy(hv, domid, ref, offset, buf, len, to_grant),
				  "grant copy");
}

AV_API int av_grant_copy_from(av_hv *hv, uint32_t domid, uint32_t ref, uint32_t offset,
			      void *buf, uint32_t len)
{
	return grant_copy(hv, domid, ref, offset, buf, len, false);
}

AV_API int av_grant_copy_to(av_hv *hv, uint32_t domid, uint32_t ref, uint32_t offset,
			    const void *buf, uint32_t len)
{
	return grant_copy(hv, domid, ref, offset, (void *)buf, len, true);
}

AV_API int av_grant_share(av_hv *hv, uint32_t domid, unsigned int flags, uint32_t *ref, void **addr)
{
	int r = grants_check(hv);

	if (r < 0)
		return r;
	if (!ref || !addr || (flags & ~AV_GRANT_READONLY))
		return -EINVAL;
	return BACKEND_OPTIONAL(hv, grant_share, hv, domid, flags & AV_GRANT_READONLY, ref, addr);
}

AV_API int av_grant_unshare(av_hv *hv, uint32_t ref)
{
	int r = grants_check(hv);

	return r < 0 ? r : BACKEND_OPTIONAL(hv, grant_unshare, hv, ref);
}

/* ---- the guest's side ------------------------------------------------------------ */

#define GUEST_OP(dom, op, ...)                                                  \
	({                                                                      \
		int _r = domain_check(dom);                                     \
		_r < 0 ? _r : !(dom)->hv->ops->op ? -EOPNOTSUPP                 \
						  : (dom)->hv->ops->op((dom), __VA_ARGS__); \
	})

AV_API int av_guest_grant_access(av_domain *dom, uint32_t ref, uint32_t domid, uint64_t gfn,
				 bool readonly)
{
	return GUEST_OP(dom, guest_grant_access, ref, domid, gfn, readonly);
}

AV_API int av_guest_end_access(av_domain *dom, uint32_t ref)
{
	return GUEST_OP(dom, guest_end_access, ref);
}

AV_API int av_guest_map_grant(av_domain *dom, uint32_t ref, uint64_t gfn, bool readonly,
			      uint32_t *handle)
{
	if (!handle)
		return -EINVAL;
	return GUEST_OP(dom, guest_map_grant, ref, gfn, readonly, handle);
}

AV_API int av_guest_unmap_grant(av_domain *dom, uint32_t handle)
{
	return GUEST_OP(dom, guest_unmap_grant, handle);
}

AV_API int av_guest_evtchn_alloc_unbound(av_domain *dom, uint32_t remote)
{
	return GUEST_OP(dom, guest_evtchn_alloc_unbound, remote);
}

AV_API int av_guest_evtchn_send(av_domain *dom, uint32_t port)
{
	return GUEST_OP(dom, guest_evtchn_send, port);
}

AV_API int av_guest_evtchn_test_and_clear(av_domain *dom, uint32_t port)
{
	return GUEST_OP(dom, guest_evtchn_test_and_clear, port);
}
