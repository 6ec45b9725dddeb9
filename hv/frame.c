/* SPDX-License-Identifier: MIT */
/*
 * The frame table: a general reference count and an exclusive type with
 * its own count per machine frame, as Xen's page_info.  The allocation
 * itself holds one general reference (heap.c), so a count of zero means
 * "free" and get fails on it.  Types that conflict with superpage mapping
 * also hold a NOSUPER reference on the frame's 2 MiB block.
 */
#include <errno.h>

#include "private.h"

int page_get(struct hv *hv, uint64_t mfn, domid_t owner, uint64_t *ops)
{
	struct page_info *pg = mfn_to_page(hv, mfn);
	uint64_t x = atomic_load_explicit(&pg->count_info, memory_order_relaxed);

	do {
		if ((x & PGC_COUNT_MASK) == 0)
			return -ENOENT;
		if ((x & PGC_COUNT_MASK) == PGC_COUNT_MASK)
			return -EOVERFLOW;
	} while (!atomic_compare_exchange_weak_explicit(&pg->count_info, &x, x + 1,
							memory_order_acquire,
							memory_order_relaxed));
	/*
	 * The owner only changes while the count is zero, so once we hold a
	 * reference it is stable; checking after the increment is what makes
	 * the check race-free (Xen's get_page does the same).
	 */
	if (atomic_load_explicit(&pg->owner, memory_order_relaxed) != owner) {
		atomic_fetch_sub_explicit(&pg->count_info, 1, memory_order_release);
		return -EPERM;
	}
	++*ops;
	return 0;
}

void page_put(struct hv *hv, uint64_t mfn, uint64_t *ops)
{
	struct page_info *pg = mfn_to_page(hv, mfn);
	uint64_t x = atomic_load_explicit(&pg->count_info, memory_order_relaxed);

	do {
		/* Only the allocator drops the allocation's own reference. */
		if ((x & PGC_COUNT_MASK) <= 1) {
			hv_log(hv, HV_LOG_ERR, "unbalanced put of mfn %#" PRIx64, mfn);
			return;
		}
	} while (!atomic_compare_exchange_weak_explicit(&pg->count_info, &x, x - 1,
							memory_order_release,
							memory_order_relaxed));
	++*ops;
}

/* Drops one type reference; returns the type it belonged to, or -ENOENT. */
static int type_dec(struct hv *hv, uint64_t mfn, uint64_t *ops)
{
	struct page_info *pg = mfn_to_page(hv, mfn);
	uint64_t x = atomic_load_explicit(&pg->type_info, memory_order_relaxed), nx;

	do {
		if ((x & PGT_COUNT_MASK) == 0) {
			hv_log(hv, HV_LOG_ERR, "unbalanced type put of mfn %#" PRIx64, mfn);
			return -ENOENT;
		}
		nx = x - 1;
		if ((nx & PGT_COUNT_MASK) == 0)
			nx = 0;     /* the type goes with its last user */
	} while (!atomic_compare_exchange_weak_explicit(&pg->type_info, &x, nx,
							memory_order_acq_rel,
							memory_order_relaxed));
	++*ops;
	return (int)(x >> PGT_TYPE_SHIFT);
}

int page_get_type(struct hv *hv, uint64_t mfn, enum hv_page_type type, uint64_t *ops)
{
	struct page_info *pg = mfn_to_page(hv, mfn);
	uint64_t x = atomic_load_explicit(&pg->type_info, memory_order_relaxed), nx;

	do {
		uint64_t count = x & PGT_COUNT_MASK;

		if (count == PGT_COUNT_MASK)
			return -EOVERFLOW;
		if (count == 0)
			nx = ((uint64_t)type << PGT_TYPE_SHIFT) | 1;
		else if ((x >> PGT_TYPE_SHIFT) != (uint64_t)type)
			return -EBUSY;
		else
			nx = x + 1;
	} while (!atomic_compare_exchange_weak_explicit(&pg->type_info, &x, nx,
							memory_order_acq_rel,
							memory_order_relaxed));
	++*ops;

	if (spage_conflicts(type)) {
		uint64_t sops = 0;
		int r = spage_get_type(mfn_to_spage(hv, mfn), HV_SGT_NOSUPER, &sops);

		frame_account(hv, 0, sops);
		if (r < 0) {
			/* Undo only the page type: no NOSUPER reference was taken. */
			type_dec(hv, mfn, ops);
			return r;
		}
	}
	return 0;
}

void page_put_type(struct hv *hv, uint64_t mfn, uint64_t *ops)
{
	int type = type_dec(hv, mfn, ops);

	if (type > 0 && spage_conflicts((enum hv_page_type)type)) {
		uint64_t sops = 0;

		spage_put_type(mfn_to_spage(hv, mfn), &sops);
		frame_account(hv, 0, sops);
	}
}

/*
 * Counters are summed per call, not per operation, so that counting the
 * work does not itself become a shared cache line every map path bounces.
 */
void frame_account(struct hv *hv, uint64_t page_ops, uint64_t spage_ops)
{
	if (page_ops)
		atomic_fetch_add_explicit(&hv->page_ref_ops, page_ops, memory_order_relaxed);
	if (spage_ops)
		atomic_fetch_add_explicit(&hv->spage_ref_ops, spage_ops, memory_order_relaxed);
}

int hv_frame_get_typed(struct hv_domain *d, uint64_t mfn, enum hv_page_type type)
{
	struct hv *hv = d->hv;
	uint64_t ops = 0;
	int r;

	if (!mfn_valid(hv, mfn) || type <= HV_PGT_NONE || type >= HV_PGT__MAX)
		return -EINVAL;
	r = page_get(hv, mfn, d->id, &ops);
	if (r == 0) {
		r = page_get_type(hv, mfn, type, &ops);
		if (r < 0)
			page_put(hv, mfn, &ops);
	}
	frame_account(hv, ops, 0);
	return r;
}

int hv_frame_put_typed(struct hv_domain *d, uint64_t mfn, enum hv_page_type type)
{
	struct hv *hv = d->hv;
	struct hv_frame_info fi;
	uint64_t ops = 0;

	if (hv_frame_info(hv, mfn, &fi) < 0)
		return -EINVAL;
	if (fi.owner != d->id)
		return -EPERM;
	if (fi.type != type || fi.type_count == 0 || fi.count < 2)
		return -ENOENT;
	page_put_type(hv, mfn, &ops);
	page_put(hv, mfn, &ops);
	frame_account(hv, ops, 0);
	return 0;
}

int hv_frame_info(const struct hv *hv, uint64_t mfn, struct hv_frame_info *fi)
{
	if (!mfn_valid(hv, mfn) || !fi)
		return -EINVAL;
	const struct page_info *pg = mfn_to_page(hv, mfn);
	uint64_t t = atomic_load(&pg->type_info);

	fi->count = (uint32_t)(atomic_load(&pg->count_info) & PGC_COUNT_MASK);
	fi->type = (enum hv_page_type)(t >> PGT_TYPE_SHIFT);
	fi->type_count = (uint32_t)(t & PGT_COUNT_MASK);
	fi->owner = atomic_load(&pg->owner);
	return 0;
}
