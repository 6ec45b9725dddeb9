/* SPDX-License-Identifier: MIT */
/*
 * altview/grant.h — grant tables (Xen v1): map and copy what a guest
 * granted, and share this process's frames with a guest.
 *
 * Results are negative errnos, like the rest of the library.  What the
 * hypervisor refuses is logged with Xen's GNTST_* name and mapped: bad
 * reference -EINVAL, no such domain -ESRCH, no access -EPERM, and, as in
 * Xen, writing through a read-only grant GNTST_general_error, -EIO.
 * Thread-safe.
 */
#ifndef ALTVIEW_GRANT_H
#define ALTVIEW_GRANT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <altview/common.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
	AV_GRANT_READONLY = 1u << 0,
};

/* Maps grant @ref of @domid; @handle identifies the mapping for unmap. */
AV_API int av_grant_map(av_hv *hv, uint32_t domid, uint32_t ref, unsigned int flags,
			void **addr, uint32_t *handle);
AV_API int av_grant_unmap(av_hv *hv, uint32_t handle);
/*
 * As av_map_export() for a grant mapping: *@fd, a new descriptor of the
 * file that holds the page (read-only for a read-only mapping), and the
 * page's byte @offset in it.  The page stays the mapping's until
 * av_grant_unmap().  -EOPNOTSUPP where no file holds guest memory.
 */
AV_API int av_grant_export(av_hv *hv, uint32_t handle, int *fd, uint64_t *offset);

/* Copies @len bytes at @offset of grant @ref of @domid from/to @buf. */
AV_API int av_grant_copy_from(av_hv *hv, uint32_t domid, uint32_t ref, uint32_t offset,
			      void *buf, uint32_t len);
AV_API int av_grant_copy_to(av_hv *hv, uint32_t domid, uint32_t ref, uint32_t offset,
			    const void *buf, uint32_t len);

/*
 * Allocates a page and grants it to @domid (like gntalloc): *ref is the
 * reference the guest maps, *addr this process's mapping of the page.
 */
AV_API int av_grant_share(av_hv *hv, uint32_t domid, unsigned int flags, uint32_t *ref,
			  void **addr);
/* Ends a share; -EBUSY while the guest maps it. */
AV_API int av_grant_unshare(av_hv *hv, uint32_t ref);

#ifdef __cplusplus
}
#endif

#endif
