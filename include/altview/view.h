/* SPDX-License-Identifier: MIT */
/*
 * altview/view.h — alternate views of a domain's memory (Xen's altp2m).
 *
 * View 0 is the host p2m and always exists.  Other views see the host's
 * entries until they change single pages: access rights, or which frame
 * backs a gfn (change_gfn).  A view's default access is what
 * AV_ACCESS_DEFAULT stands for in it.  Every call is thread-safe;
 * changes are atomic per call (a range or batch is checked whole before
 * anything changes).  Errors: -EOPNOTSUPP views not enabled, -ENOENT no such
 * view or gfn, -ENOSPC no free view, -EBUSY view in use, -EINVAL bad argument.
 */
#ifndef ALTVIEW_VIEW_H
#define ALTVIEW_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <altview/common.h>
#include <altview/domain.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The values of Xen's xenmem_access_t. */
enum av_access {
	AV_ACCESS_N = 0,
	AV_ACCESS_R,
	AV_ACCESS_W,
	AV_ACCESS_RW,
	AV_ACCESS_X,
	AV_ACCESS_RX,
	AV_ACCESS_WX,
	AV_ACCESS_RWX,
	AV_ACCESS_RX2RW,    /* r-x until the first write makes it rw- (no event) */
	AV_ACCESS_N2RWX,    /* any access becomes rwx, with an async event */
	AV_ACCESS_DEFAULT,  /* the view's default access */
};

#define AV_INVALID_GFN UINT64_MAX

/* Up to @max_views views, view 0 included (0: 10).  */
AV_API int av_views_enable(av_domain *dom, uint32_t max_views);
/* Returns every vCPU to view 0 and destroys all views. */
AV_API int av_views_disable(av_domain *dom);

AV_API int av_view_create(av_domain *dom, enum av_access default_access, uint32_t *view);
/* -EBUSY while a vCPU is in the view. */
AV_API int av_view_destroy(av_domain *dom, uint32_t view);
/* Switches every vCPU; -EPERM for a hidden view (as Xen's switch_to_view). */
AV_API int av_view_switch(av_domain *dom, uint32_t view);
/* Switches one vCPU (any view, hidden or not). */
AV_API int av_vcpu_switch_view(av_domain *dom, uint32_t vcpu, uint32_t view);
AV_API int av_vcpu_get_view(av_domain *dom, uint32_t vcpu, uint32_t *view);
/* A hidden view is entered only through av_vcpu_switch_view() or an answer, never by the guest. */
AV_API int av_view_set_visible(av_domain *dom, uint32_t view, bool visible);

AV_API int av_view_set_access(av_domain *dom, uint32_t view, uint64_t gfn, uint64_t nr,
			      enum av_access access);
/* All or nothing; on -EINVAL/-ENOENT *failed (if given) is the first bad index. */
AV_API int av_view_set_access_multi(av_domain *dom, uint32_t view, const uint64_t *gfns,
				    const enum av_access *access, size_t n, size_t *failed);
AV_API int av_view_get_access(av_domain *dom, uint32_t view, uint64_t gfn,
			      enum av_access *access);
AV_API int av_view_set_default_access(av_domain *dom, uint32_t view, enum av_access access);

/*
 * In @view (not 0), back @old_gfn with the frame of @new_gfn;
 * @new_gfn == AV_INVALID_GFN restores the host mapping.
 */
AV_API int av_view_change_gfn(av_domain *dom, uint32_t view, uint64_t old_gfn, uint64_t new_gfn);

#ifdef __cplusplus
}
#endif

#endif
