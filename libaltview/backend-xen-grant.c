/* SPDX-License-Identifier: MIT */
/*
 * backend-xen-grant.c — grants on Xen through libxengnttab: what guests
 * granted dom0, mapped (gntdev) or copied (GNTTABOP_copy), and dom0's
 * pages shared with a guest (gntalloc).  libaltview's handles name the
 * mappings; libxengnttab needs their addresses back to undo them.
 * Xen's errors reach libaltview as it expects them from a backend: GNTST_
 * codes for mapping and copying, errnos for sharing.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include "backend-xen.h"

struct xen_grant {
	struct xen_grant *next;
	uint32_t id;                /* a mapping's handle, or a shared page's reference */
	void *addr;
};

/* Lock held: the entry of @list named @id, unlinked; NULL if none is. */
static struct xen_grant *take_locked(struct xen_grant **list, uint32_t id)
{
	for (struct xen_grant **pos = list; *pos; pos = &(*pos)->next) {
		if ((*pos)->id == id) {
			struct xen_grant *g = *pos;

			*pos = g->next;
			return g;
		}
	}
	return NULL;
}

static int16_t status_from_errno(int err)
{
	return grant_errno_status(err ? -err : -EIO);
}

/* The gnttab handle (opened on first use: a host without gntdev still has the rest). */
static xengnttab_handle *gnttab(struct xen_backend *x)
{
	if (!x->gnttab)
		x->gnttab = xengnttab_open(NULL, 0);
	return x->gnttab;
}

int xen_grant_map(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t gntmap_flags,
		  void **addr, uint32_t *handle)
{
	struct xen_backend *x = xen_of(hv);
	int prot = PROT_READ | (gntmap_flags & GNTMAP_readonly ? 0 : PROT_WRITE);
	struct xen_grant *g = malloc(sizeof(*g));
	void *p = NULL;
	int16_t st = GNTST_general_error;

	pthread_mutex_lock(&x->grants_lock);
	errno = 0;
	if (g && gnttab(x))
		p = xengnttab_map_grant_ref(x->gnttab, domid, ref, prot);
	if (p) {
		*g = (struct xen_grant){ .next = x->mappings, .id = ++x->next_handle, .addr = p };
		x->mappings = g;
		*addr = p;
		*handle = g->id;
		st = GNTST_okay;
	} else if (g) {
		st = status_from_errno(errno);
		free(g);
	}
	pthread_mutex_unlock(&x->grants_lock);
	return st;
}

int xen_grant_unmap(struct av_hv *hv, uint32_t handle)
{
	struct xen_backend *x = xen_of(hv);
	struct xen_grant *g;
	int16_t st = GNTST_bad_handle;

	pthread_mutex_lock(&x->grants_lock);
	g = take_locked(&x->mappings, handle);
	if (g) {
		errno = 0;
		st = xengnttab_unmap(x->gnttab, g->addr, 1) < 0 ? status_from_errno(errno) : GNTST_okay;
		free(g);
	}
	pthread_mutex_unlock(&x->grants_lock);
	return st;
}

int xen_grant_copy(struct av_hv *hv, uint32_t domid, uint32_t ref, uint32_t offset, void *buf,
		   uint32_t len, bool to_grant)
{
	struct xen_backend *x = xen_of(hv);
	xengnttab_grant_copy_segment_t seg = { .len = (uint16_t)len };
	int16_t st = GNTST_general_error;
	int r = -1;

	if (to_grant) {
		seg.flags = GNTCOPY_dest_gref;
		seg.source.virt = buf;
		seg.dest.foreign.ref = ref;
		seg.dest.foreign.offset = (uint16_t)offset;
		seg.dest.foreign.domid = (uint16_t)domid;
	} else {
		seg.flags = GNTCOPY_source_gref;
		seg.dest.virt = buf;
		seg.source.foreign.ref = ref;
		seg.source.foreign.offset = (uint16_t)offset;
		seg.source.foreign.domid = (uint16_t)domid;
	}
	pthread_mutex_lock(&x->grants_lock);
	errno = 0;
	if (gnttab(x))
		r = xengnttab_grant_copy(x->gnttab, 1, &seg);
	pthread_mutex_unlock(&x->grants_lock);
	if (r < 0)
		st = status_from_errno(errno);
	else
		st = seg.status;
	return st;
}

int xen_grant_share(struct av_hv *hv, uint32_t domid, bool readonly, uint32_t *ref, void **addr)
{
	struct xen_backend *x = xen_of(hv);
	struct xen_grant *g = malloc(sizeof(*g));
	void *p = NULL;
	int r = -ENOMEM;

	pthread_mutex_lock(&x->grants_lock);
	errno = 0;
	if (g && !x->gntshr)
		x->gntshr = xengntshr_open(NULL, 0);
	if (g && x->gntshr)
		p = xengntshr_share_pages(x->gntshr, domid, 1, ref, !readonly);
	if (p) {
		*g = (struct xen_grant){ .next = x->shared, .id = *ref, .addr = p };
		x->shared = g;
		*addr = p;
		r = 0;
	} else if (g) {
		r = xen_errno(-1);
		free(g);
	}
	pthread_mutex_unlock(&x->grants_lock);
	return r;
}

int xen_grant_unshare(struct av_hv *hv, uint32_t ref)
{
	struct xen_backend *x = xen_of(hv);
	struct xen_grant *g;
	int r = -ENOENT;

	pthread_mutex_lock(&x->grants_lock);
	g = take_locked(&x->shared, ref);
	if (g) {
		errno = 0;
		if (xengntshr_unshare(x->gntshr, g->addr, 1) < 0) {
			/* Still mapped by the guest: the page stays shared, and listed. */
			r = xen_errno(-1);
			g->next = x->shared;
			x->shared = g;
		} else {
			r = 0;
			free(g);
		}
	}
	pthread_mutex_unlock(&x->grants_lock);
	return r;
}

void xen_grants_close(struct xen_backend *x)
{
	while (x->mappings) {
		struct xen_grant *g = x->mappings;

		x->mappings = g->next;
		xengnttab_unmap(x->gnttab, g->addr, 1);
		free(g);
	}
	while (x->shared) {
		struct xen_grant *g = x->shared;

		x->shared = g->next;
		xengntshr_unshare(x->gntshr, g->addr, 1);
		free(g);
	}
	if (x->gnttab)
		xengnttab_close(x->gnttab);
	if (x->gntshr)
		xengntshr_close(x->gntshr);
}
