/* SPDX-License-Identifier: MIT */
/*
 * hv.h — internal API of the embedded hypervisor core.
 *
 * This is not the product ABI (that is libaltview); it is the interface the
 * library backends, the tests and the benchmarks use.  All functions return
 * 0 or a positive value on success and a negative errno on failure.  A call
 * that fails leaves every reference count and table exactly as it found it.
 *
 * Vocabulary follows Xen: gfn = guest frame number, mfn = machine frame
 * number, p2m = the gfn -> mfn table of a domain, dom0 = the process that
 * uses the core.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xen-public.h"

#define HV_PAGE_SHIFT        12
#define HV_PAGE_SIZE         (1UL << HV_PAGE_SHIFT)
#define HV_SUPERPAGE_ORDER   9
#define HV_SUPERPAGE_PAGES   (1UL << HV_SUPERPAGE_ORDER)
#define HV_SUPERPAGE_SIZE    (HV_PAGE_SIZE << HV_SUPERPAGE_ORDER)
#define HV_MAX_ORDER         18                    /* 1 GiB blocks */
#define HV_GFN_BITS          36                    /* 4 levels x 9 bits */
#define HV_MAX_GFN           ((UINT64_C(1) << HV_GFN_BITS) - 1)
#define HV_INVALID_MFN       UINT64_MAX
#define HV_INVALID_GFN       UINT64_MAX
#define HV_DOMID_DOM0        ((domid_t)0)
#define HV_MAX_DOMAINS       1024

struct hv;
struct hv_domain;

/* ---- hypervisor instance ------------------------------------------------ */

enum hv_log_level { HV_LOG_ERR = 3, HV_LOG_WARNING = 4, HV_LOG_INFO = 6, HV_LOG_DEBUG = 7 };
typedef void hv_log_fn(void *ctx, enum hv_log_level level, const char *msg);

struct hv_opts {
	size_t sz;                  /* sizeof(struct hv_opts) */
	uint64_t machine_bytes;     /* machine memory; rounded down to 4 KiB */
	hv_log_fn *log;             /* optional; the core never prints */
	void *log_ctx;
};

int hv_new(const struct hv_opts *opts, struct hv **out);
void hv_free(struct hv *hv);

/* Machine memory as a file another process can map (frames at mfn << 12). */
int hv_machine_fd(const struct hv *hv);
uint64_t hv_machine_frames(const struct hv *hv);

/*
 * Reference operations performed so far: one per increment or decrement of
 * a page count, page type count, superpage count or superpage type count.
 * Exists so benchmarks and tests can count the work a path does.
 */
struct hv_stats {
	uint64_t page_ref_ops;
	uint64_t spage_ref_ops;
	uint64_t free_frames;
};
void hv_get_stats(struct hv *hv, struct hv_stats *st);

/* ---- frame table and superpage table ------------------------------------ */

/*
 * Page types are mutually exclusive per frame (Xen's PGT_* rule): a frame
 * with a non-zero type count only takes more references of the same type.
 * Every type except NONE and WRITABLE conflicts with superpage mapping.
 */
enum hv_page_type {
	HV_PGT_NONE = 0,
	HV_PGT_WRITABLE,        /* plain guest RAM mapped writable */
	HV_PGT_GRANT_TABLE,     /* holds a grant table */
	HV_PGT_VM_EVENT,        /* vm_event ring or slot buffer */
	HV_PGT_REMAPPED,        /* backs a different gfn in some view */
	HV_PGT__MAX,
};

#define HV_PGT_COUNT_MAX     0xffffu    /* type count width: 16 bits */
#define HV_SGT_COUNT_MAX     0xffffu

enum hv_spage_type { HV_SGT_NONE = 0, HV_SGT_SUPERPAGE = 1, HV_SGT_NOSUPER = 2 };

struct hv_frame_info {
	uint32_t count;             /* general references, including allocation */
	enum hv_page_type type;
	uint32_t type_count;
	domid_t owner;              /* DOMID_INVALID when free */
};

struct hv_spage_info {
	uint32_t count;
	enum hv_spage_type type;
	uint32_t type_count;
	bool enabled;               /* whole 2 MiB allocated to one domain at once */
};

int hv_frame_info(const struct hv *hv, uint64_t mfn, struct hv_frame_info *fi);
int hv_spage_info(const struct hv *hv, uint64_t mfn, struct hv_spage_info *si);

/*
 * Typed use of one frame of @d (grant table, vm_event buffer, view remap):
 * a page reference plus a type reference.  A conflicting type also takes a
 * NOSUPER reference on the frame's superpage and fails with -EBUSY while
 * that 2 MiB block is mapped as a superpage.
 */
int hv_frame_get_typed(struct hv_domain *d, uint64_t mfn, enum hv_page_type type);
int hv_frame_put_typed(struct hv_domain *d, uint64_t mfn, enum hv_page_type type);

/* ---- domains -------------------------------------------------------------- */

struct hv_domain_opts {
	size_t sz;
	uint64_t memory_bytes;      /* guest RAM from gfn 0; multiple of 4 KiB */
};

/* Returns a reference the caller releases with hv_domain_put(). */
int hv_domain_create(struct hv *hv, const struct hv_domain_opts *opts, struct hv_domain **out);
/* Looks a live domain up and takes a reference. */
int hv_domain_get(struct hv *hv, domid_t id, struct hv_domain **out);
void hv_domain_put(struct hv_domain *d);
/*
 * Removes the domain from the table and tears its p2m down.  Its memory goes
 * back to the heap when the last reference (a dom0 mapping, say) is gone.
 */
int hv_domain_destroy(struct hv_domain *d);

domid_t hv_domain_id(const struct hv_domain *d);
uint64_t hv_domain_tot_pages(const struct hv_domain *d);
/* Allocation blocks of the domain, in gfn order: returns the count. */
size_t hv_domain_blocks(const struct hv_domain *d, uint64_t *mfn, unsigned int *order, size_t max);

/* ---- host p2m --------------------------------------------------------------- */

enum hv_p2m_type {
	HV_P2M_INVALID = 0,
	HV_P2M_RAM_RW,
	HV_P2M_RAM_RO,
	HV_P2M__MAX,
};

struct hv_p2m_entry {
	uint64_t mfn;               /* of this gfn (not of the leaf's start) */
	enum hv_p2m_type type;
	xenmem_access_t access;     /* XENMEM_access_n .. XENMEM_access_n2rwx */
	bool suppress_ve;
	unsigned int order;         /* 0: 4 KiB leaf, 9: 2 MiB leaf */
};

/* -ENOENT for a gfn with no entry. */
int hv_p2m_get_entry(struct hv_domain *d, uint64_t gfn, struct hv_p2m_entry *e);
/*
 * Sets the leaf for @gfn of size 1 << e->order.  An order-0 change inside a
 * 2 MiB leaf splits that leaf into 512 entries first; an order-9 set
 * replaces whatever was below.  e->type == HV_P2M_INVALID removes.
 */
int hv_p2m_set_entry(struct hv_domain *d, uint64_t gfn, const struct hv_p2m_entry *e);
/* Page-table pages the p2m uses (for memory accounting and tests). */
uint64_t hv_p2m_tables(struct hv_domain *d);

/* ---- foreign mapping into dom0 (xenforeignmemory_map) ---------------------- */

enum hv_map_flags {
	HV_MAP_WRITE          = 1u << 0,
	HV_MAP_4K             = 1u << 1,  /* never use the superpage path */
	HV_MAP_SUPERPAGE_ONLY = 1u << 2,  /* -EBUSY instead of falling back to 4 KiB */
};

/*
 * Maps @nr frames of domain @domid from @gfn into this process.  A 2 MiB
 * aligned, enabled, host-2M-mapped chunk takes one superpage reference;
 * anything else one page reference per frame.
 */
int hv_foreign_map(struct hv *hv, domid_t domid, uint64_t gfn, size_t nr,
		   unsigned int flags, void **addr);
/* -ENOENT for an address that is not the start of a live mapping. */
int hv_foreign_unmap(struct hv *hv, void *addr);
