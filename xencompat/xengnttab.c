/* SPDX-License-Identifier: MIT */
/*
 * xengnttab.c — libxengnttab.so.1: mapping and copying what guests
 * granted dom0 (xengnttab_*), and sharing dom0's pages with a guest
 * (xengntshr_*), over libaltview's grants.
 *
 * A grant stays mapped, and pinned in the guest's table, until the tool
 * calls xengnttab_unmap(): each handle keeps the libaltview handles of
 * its mappings.  Several references mapped at once are one range of
 * the tool's own, each page put there from libaltview's export of it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xengnttab.h>

#include "private.h"

struct grant_mapping {
	struct grant_mapping *next;
	void *addr;
	uint32_t count;
	bool own;                   /* a range of this library's (else libaltview's mapping) */
	uint32_t handles[];         /* libaltview's, one per page */
};

struct shared_page {
	struct shared_page *next;
	void *addr;
	uint32_t ref;
};

/* Xen's one handle type for both halves: a gnttab handle maps, a gntshr handle shares. */
struct xengntdev_handle {
	pthread_mutex_t lock;
	struct grant_mapping *maps;
	struct shared_page *pages;
};

static struct xengntdev_handle *handle_new(void)
{
	struct xengntdev_handle *h;

	if (!xencompat_hv())
		return NULL;
	h = calloc(1, sizeof(*h));
	if (h)
		pthread_mutex_init(&h->lock, NULL);
	return h;
}

XENCOMPAT_API xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned int flags)
{
	return handle_new();
}

static void unmap_one(struct grant_mapping *m)
{
	for (uint32_t i = 0; i < m->count; i++)
		av_grant_unmap(xencompat_hv(), m->handles[i]);
	if (m->own)
		munmap(m->addr, (size_t)m->count * AV_PAGE_SIZE);
	free(m);
}

XENCOMPAT_API int xengnttab_close(xengnttab_handle *xgt)
{
	if (!xgt)
		return 0;
	while (xgt->maps) {
		struct grant_mapping *m = xgt->maps;

		xgt->maps = m->next;
		unmap_one(m);
	}
	while (xgt->pages) {
		struct shared_page *p = xgt->pages;

		xgt->pages = p->next;
		av_grant_unshare(xencompat_hv(), p->ref);
		free(p);
	}
	pthread_mutex_destroy(&xgt->lock);
	free(xgt);
	return 0;
}

/* Linux's gntdev sizes its table itself: nothing to set. */
XENCOMPAT_API int xengnttab_set_max_grants(xengnttab_handle *xgt, uint32_t nr_grants)
{
	return 0;
}

/* Puts the grant libaltview mapped as @handle at @at: MAP_FIXED inside a reservation. */
static int place(uint32_t handle, int prot, uint8_t *at)
{
	uint64_t offset;
	int fd, r;

	r = av_grant_export(xencompat_hv(), handle, &fd, &offset);
	if (r < 0)
		return r;
	if (mmap(at, AV_PAGE_SIZE, prot, MAP_SHARED | MAP_FIXED, fd, (off_t)offset) == MAP_FAILED)
		r = -errno;
	close(fd);
	return r;
}

XENCOMPAT_API void *xengnttab_map_grant_refs(xengnttab_handle *xgt, uint32_t count,
					     uint32_t *domids, uint32_t *refs, int prot)
{
	struct grant_mapping *m;
	unsigned int flags = prot & PROT_WRITE ? 0 : AV_GRANT_READONLY;
	void *single = NULL;
	int r = 0;

	if (!xgt || !count || count > (1u << 20) || !domids || !refs) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m) + count * sizeof(m->handles[0]));
	if (!m)
		return NULL;
	if (count > 1) {
		m->addr = mmap(NULL, (size_t)count * AV_PAGE_SIZE, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (m->addr == MAP_FAILED) {
			free(m);
			return NULL;
		}
		m->own = true;
	}
	for (uint32_t i = 0; r == 0 && i < count; i++) {
		r = av_grant_map(xencompat_hv(), domids[i], refs[i], flags, &single, &m->handles[i]);
		if (r == 0)
			m->count = i + 1;
		if (r == 0 && m->own)
			r = place(m->handles[i], prot, (uint8_t *)m->addr + (size_t)i * AV_PAGE_SIZE);
	}
	if (r < 0) {
		unmap_one(m);
		errno = -r;
		return NULL;
	}
	if (!m->own)
		m->addr = single;
	pthread_mutex_lock(&xgt->lock);
	m->next = xgt->maps;
	xgt->maps = m;
	pthread_mutex_unlock(&xgt->lock);
	return m->addr;
}

XENCOMPAT_API void *xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref,
					    int prot)
{
	return xengnttab_map_grant_refs(xgt, 1, &domid, &ref, prot);
}

XENCOMPAT_API void *xengnttab_map_domain_grant_refs(xengnttab_handle *xgt, uint32_t count,
						    uint32_t domid, uint32_t *refs, int prot)
{
	uint32_t *domids = calloc(count ? count : 1, sizeof(*domids));
	void *addr;

	if (!domids)
		return NULL;
	for (uint32_t i = 0; i < count; i++)
		domids[i] = domid;
	addr = xengnttab_map_grant_refs(xgt, count, domids, refs, prot);
	free(domids);
	return addr;
}

XENCOMPAT_API int xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	struct grant_mapping **pos, *m = NULL;

	if (!xgt) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&xgt->lock);
	for (pos = &xgt->maps; *pos; pos = &(*pos)->next) {
		if ((*pos)->addr == start_address && (*pos)->count == count) {
			m = *pos;
			*pos = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&xgt->lock);
	if (!m) {
		errno = EINVAL;         /* as gntdev says of a range it did not map */
		return -1;
	}
	unmap_one(m);
	return 0;
}

static int16_t status_of(int r)
{
	switch (r) {
	case 0: return GNTST_okay;
	case -ESRCH: return GNTST_bad_domain;
	case -EINVAL: return GNTST_bad_gntref;
	case -EPERM: case -EACCES: return GNTST_permission_denied;
	case -EFAULT: return GNTST_bad_virt_addr;
	default: return GNTST_general_error;
	}
}

/* Segments between a grant and this process's memory; grant to grant goes through a page here. */
XENCOMPAT_API int xengnttab_grant_copy(xengnttab_handle *xgt, uint32_t count,
				       xengnttab_grant_copy_segment_t *segs)
{
	av_hv *hv = xencompat_hv();

	if (!xgt || (count && !segs)) {
		errno = EINVAL;
		return -1;
	}
	for (uint32_t i = 0; i < count; i++) {
		xengnttab_grant_copy_segment_t *s = &segs[i];
		bool from = s->flags & GNTCOPY_source_gref, to = s->flags & GNTCOPY_dest_gref;
		uint8_t page[AV_PAGE_SIZE];
		int r = -EINVAL;

		if (from && to) {
			r = s->len <= sizeof(page) ? 0 : -EINVAL;
			if (r == 0)
				r = av_grant_copy_from(hv, s->source.foreign.domid, s->source.foreign.ref,
						       s->source.foreign.offset, page, s->len);
			if (r == 0)
				r = av_grant_copy_to(hv, s->dest.foreign.domid, s->dest.foreign.ref,
						     s->dest.foreign.offset, page, s->len);
		} else if (from) {
			r = av_grant_copy_from(hv, s->source.foreign.domid, s->source.foreign.ref,
					       s->source.foreign.offset, s->dest.virt, s->len);
		} else if (to) {
			r = av_grant_copy_to(hv, s->dest.foreign.domid, s->dest.foreign.ref,
					     s->dest.foreign.offset, s->source.virt, s->len);
		}
		s->status = status_of(r);
	}
	return 0;
}

/* ---- dom0's pages, shared with a guest -------------------------------------------------- */

XENCOMPAT_API xengntshr_handle *xengntshr_open(struct xentoollog_logger *logger, unsigned int flags)
{
	return handle_new();
}

XENCOMPAT_API int xengntshr_close(xengntshr_handle *xgs)
{
	return xengnttab_close(xgs);
}

/* One page at a time: altview shares pages singly, not as one range. */
XENCOMPAT_API void *xengntshr_share_pages(xengntshr_handle *xgs, uint32_t domid, int count,
					  uint32_t *refs, int writable)
{
	struct shared_page *p;
	void *addr;
	int r;

	if (!xgs || !refs || count != 1) {
		if (count > 1)
			xencompat_log("xengntshr_share_pages: altview shares one page at a time");
		errno = count > 1 ? EOPNOTSUPP : EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	r = av_grant_share(xencompat_hv(), domid, writable ? 0 : AV_GRANT_READONLY, &p->ref, &addr);
	if (r < 0) {
		free(p);
		errno = -r;
		return NULL;
	}
	p->addr = addr;
	refs[0] = p->ref;
	pthread_mutex_lock(&xgs->lock);
	p->next = xgs->pages;
	xgs->pages = p;
	pthread_mutex_unlock(&xgs->lock);
	return addr;
}

XENCOMPAT_API int xengntshr_unshare(xengntshr_handle *xgs, void *start_address, uint32_t count)
{
	struct shared_page **pos, *p = NULL;
	int r;

	if (!xgs || count != 1) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&xgs->lock);
	for (pos = &xgs->pages; *pos; pos = &(*pos)->next) {
		if ((*pos)->addr == start_address) {
			p = *pos;
			*pos = p->next;
			break;
		}
	}
	pthread_mutex_unlock(&xgs->lock);
	if (!p) {
		errno = EINVAL;
		return -1;
	}
	r = av_grant_unshare(xencompat_hv(), p->ref);
	if (r < 0) {
		/* Still mapped by the guest (EBUSY): the page stays shared, and listed. */
		pthread_mutex_lock(&xgs->lock);
		p->next = xgs->pages;
		xgs->pages = p;
		pthread_mutex_unlock(&xgs->lock);
		return xencompat_fail(r);
	}
	free(p);
	return 0;
}
