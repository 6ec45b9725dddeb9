/* SPDX-License-Identifier: MIT */
/*
 * xenforeignmemory.c — libxenforeignmemory.so.1: guest frames mapped into
 * this process (foreign.c), freed with munmap() as Linux's library frees
 * them.  Resources (map_resource) are Xen's own objects: not served.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <xenctrl.h>
#include <xenforeignmemory.h>

#include "private.h"

struct xenforeignmemory_handle {
	int unused;
};

XENCOMPAT_API xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
							     unsigned open_flags)
{
	if (!xencompat_hv())
		return NULL;
	return calloc(1, sizeof(struct xenforeignmemory_handle));
}

XENCOMPAT_API int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
	free(fmem);
	return 0;
}

XENCOMPAT_API void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot,
					 size_t pages, const xen_pfn_t arr[], int err[])
{
	if (!pages || !arr) {
		errno = EINVAL;
		return NULL;
	}
	return xencompat_map(dom, prot, arr, pages, err);
}

/* An address asked for is a hint Linux may not honour either: only MAP_FIXED is refused. */
XENCOMPAT_API void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom, void *addr,
					  int prot, int flags, size_t pages,
					  const xen_pfn_t arr[], int err[])
{
	if (flags & MAP_FIXED) {
		errno = EOPNOTSUPP;
		return NULL;
	}
	return xenforeignmemory_map(fmem, dom, prot, pages, arr, err);
}

XENCOMPAT_API int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t pages)
{
	return munmap(addr, pages * XC_PAGE_SIZE);
}

XENCOMPAT_API int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid)
{
	return 0;
}
