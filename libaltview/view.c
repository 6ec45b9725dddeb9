/* SPDX-License-Identifier: MIT */
/*
 * view.c — alternate views.  altview's access values are Xen's; what is
 * left to do here is refusing what is not one.
 */
#include <stdlib.h>

#include "private.h"

_Static_assert(AV_ACCESS_RX2RW == (int)XENMEM_access_rx2rw &&
	       AV_ACCESS_N2RWX == (int)XENMEM_access_n2rwx &&
	       AV_ACCESS_DEFAULT == (int)XENMEM_access_default,
	       "enum av_access follows xenmem_access_t");

static bool access_valid(struct av_domain *dom, enum av_access a)
{
	if ((unsigned int)a <= AV_ACCESS_DEFAULT)
		return true;
	av_err(dom->hv, "domain %u: %d is not an access value", dom->id, (int)a);
	return false;
}

#define CHECK_DOM(dom)                                  \
	do {                                            \
		int _r = domain_check(dom);             \
		if (_r < 0)                             \
			return _r;                      \
	} while (0)

AV_API int av_views_enable(av_domain *dom, uint32_t max_views)
{
	CHECK_DOM(dom);
	return dom->hv->ops->views_enable(dom, max_views);
}

AV_API int av_views_disable(av_domain *dom)
{
	CHECK_DOM(dom);
	return dom->hv->ops->views_disable(dom);
}

AV_API int av_view_create(av_domain *dom, enum av_access default_access, uint32_t *view)
{
	CHECK_DOM(dom);
	if (!view || !access_valid(dom, default_access))
		return -EINVAL;
	return dom->hv->ops->view_create(dom, (xenmem_access_t)default_access, view);
}

AV_API int av_view_destroy(av_domain *dom, uint32_t view)
{
	CHECK_DOM(dom);
	return dom->hv->ops->view_destroy(dom, view);
}

AV_API int av_view_switch(av_domain *dom, uint32_t view)
{
	CHECK_DOM(dom);
	return dom->hv->ops->view_switch(dom, view);
}

AV_API int av_vcpu_switch_view(av_domain *dom, uint32_t vcpu, uint32_t view)
{
	CHECK_DOM(dom);
	if (vcpu >= dom->nr_vcpus)
		return -EINVAL;
	return dom->hv->ops->vcpu_switch_view(dom, vcpu, view);
}

AV_API int av_vcpu_get_view(av_domain *dom, uint32_t vcpu, uint32_t *view)
{
	CHECK_DOM(dom);
	if (vcpu >= dom->nr_vcpus || !view)
		return -EINVAL;
	return dom->hv->ops->vcpu_get_view(dom, vcpu, view);
}

AV_API int av_view_set_visible(av_domain *dom, uint32_t view, bool visible)
{
	CHECK_DOM(dom);
	return dom->hv->ops->view_set_visible(dom, view, visible);
}

AV_API int av_view_set_access(av_domain *dom, uint32_t view, uint64_t gfn, uint64_t nr,
			      enum av_access access)
{
	CHECK_DOM(dom);
	if (!access_valid(dom, access))
		return -EINVAL;
	return dom->hv->ops->view_set_access(dom, view, gfn, nr, (xenmem_access_t)access);
}

AV_API int av_view_set_access_multi(av_domain *dom, uint32_t view, const uint64_t *gfns,
				    const enum av_access *access, size_t n, size_t *failed)
{
	xenmem_access_t *xa;
	size_t bad = 0;
	int r;

	CHECK_DOM(dom);
	if (!gfns || !access || !n)
		return -EINVAL;
	xa = malloc(n * sizeof(*xa));
	if (!xa)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!access_valid(dom, access[i])) {
			free(xa);
			if (failed)
				*failed = i;
			return -EINVAL;
		}
		xa[i] = (xenmem_access_t)access[i];
	}
	r = dom->hv->ops->view_set_access_multi(dom, view, gfns, xa, n, &bad);
	if (r < 0 && failed)
		*failed = bad;
	free(xa);
	return r;
}

AV_API int av_view_get_access(av_domain *dom, uint32_t view, uint64_t gfn, enum av_access *access)
{
	xenmem_access_t xa;
	int r;

	CHECK_DOM(dom);
	if (!access)
		return -EINVAL;
	r = dom->hv->ops->view_get_access(dom, view, gfn, &xa);
	if (r == 0)
		*access = (enum av_access)xa;
	return r;
}

AV_API int av_view_set_default_access(av_domain *dom, uint32_t view, enum av_access access)
{
	CHECK_DOM(dom);
	if (!access_valid(dom, access) || access == AV_ACCESS_DEFAULT)
		return -EINVAL;
	return dom->hv->ops->view_set_default_access(dom, view, (xenmem_access_t)access);
}

AV_API int av_view_change_gfn(av_domain *dom, uint32_t view, uint64_t old_gfn, uint64_t new_gfn)
{
	CHECK_DOM(dom);
	return dom->hv->ops->view_change_gfn(dom, view, old_gfn, new_gfn);
}
