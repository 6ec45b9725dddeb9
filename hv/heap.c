/* SPDX-License-Identifier: MIT */
/*
 * Buddy allocator over machine frames, orders 0..HV_MAX_ORDER.  A free
 * block is a head frame with buddy_free set and its order; free lists are
 * doubly linked through the frame table by mfn.  Handing a block to a
 * domain (assign) gives every frame its allocation reference and owner and,
 * for order >= 9, enables its superpages.
 */
#include <errno.h>
#include <stdlib.h>

#include "private.h"

static void list_add(struct hv *hv, uint64_t mfn, unsigned int order)
{
	struct page_info *pg = mfn_to_page(hv, mfn);
	uint32_t head = hv->heap.free_head[order];

	pg->buddy_free = true;
	pg->buddy_order = (uint8_t)order;
	pg->buddy_prev = HV_FREE_LINK;
	pg->buddy_next = head;
	if (head != HV_FREE_LINK)
		mfn_to_page(hv, head)->buddy_prev = (uint32_t)mfn;
	hv->heap.free_head[order] = (uint32_t)mfn;
}

static void list_del(struct hv *hv, uint64_t mfn, unsigned int order)
{
	struct page_info *pg = mfn_to_page(hv, mfn);

	if (pg->buddy_prev != HV_FREE_LINK)
		mfn_to_page(hv, pg->buddy_prev)->buddy_next = pg->buddy_next;
	else
		hv->heap.free_head[order] = pg->buddy_next;
	if (pg->buddy_next != HV_FREE_LINK)
		mfn_to_page(hv, pg->buddy_next)->buddy_prev = pg->buddy_prev;
	pg->buddy_free = false;
}

/* Caller holds the heap lock. */
static void free_block(struct hv *hv, uint64_t mfn, unsigned int order)
{
	hv->heap.free_frames += UINT64_C(1) << order;
	while (order < HV_MAX_ORDER) {
		uint64_t buddy = mfn ^ (UINT64_C(1) << order);
		struct page_info *bp;

		if (!mfn_valid(hv, buddy))
			break;
		bp = mfn_to_page(hv, buddy);
		if (!bp->buddy_free || bp->buddy_order != order)
			break;
		list_del(hv, buddy, order);
		mfn &= ~(UINT64_C(1) << order);
		order++;
	}
	list_add(hv, mfn, order);
}

static int alloc_block(struct hv *hv, unsigned int order, uint64_t *mfn)
{
	unsigned int o = order;

	hv_mutex_lock(&hv->heap.lock);
	while (o <= HV_MAX_ORDER && hv->heap.free_head[o] == HV_FREE_LINK)
		o++;
	if (o > HV_MAX_ORDER) {
		hv_mutex_unlock(&hv->heap.lock);
		return -ENOMEM;
	}
	*mfn = hv->heap.free_head[o];
	list_del(hv, *mfn, o);
	/* Give back the upper halves until the block is the size asked for. */
	while (o > order) {
		o--;
		list_add(hv, *mfn + (UINT64_C(1) << o), o);
	}
	hv->heap.free_frames -= UINT64_C(1) << order;
	hv_mutex_unlock(&hv->heap.lock);
	return 0;
}

void heap_init(struct hv *hv)
{
	for (unsigned int o = 0; o <= HV_MAX_ORDER; o++)
		hv->heap.free_head[o] = HV_FREE_LINK;
	for (uint64_t i = 0; i < hv->nr_frames; i++)
		atomic_init(&hv->frame_table[i].owner, DOMID_INVALID);

	/* Seed the free lists with the largest aligned blocks that fit. */
	hv_mutex_lock(&hv->heap.lock);
	for (uint64_t mfn = 0; mfn < hv->nr_frames;) {
		unsigned int order = HV_MAX_ORDER;

		while ((mfn & ((UINT64_C(1) << order) - 1)) ||
		       mfn + (UINT64_C(1) << order) > hv->nr_frames)
			order--;
		free_block(hv, mfn, order);
		mfn += UINT64_C(1) << order;
	}
	hv_mutex_unlock(&hv->heap.lock);
}

uint64_t heap_free_frames(struct hv *hv)
{
	uint64_t n;

	hv_mutex_lock(&hv->heap.lock);
	n = hv->heap.free_frames;
	hv_mutex_unlock(&hv->heap.lock);
	return n;
}

int heap_alloc_owned(struct hv *hv, domid_t owner, unsigned int order, uint64_t *mfn)
{
	int r;

	if (order > HV_MAX_ORDER)
		return -EINVAL;
	r = alloc_block(hv, order, mfn);
	if (r < 0)
		return r;
	for (uint64_t i = 0; i < (UINT64_C(1) << order); i++) {
		struct page_info *pg = mfn_to_page(hv, *mfn + i);

		atomic_store_explicit(&pg->owner, owner, memory_order_relaxed);
		atomic_store_explicit(&pg->type_info, 0, memory_order_relaxed);
		atomic_store_explicit(&pg->count_info, 1, memory_order_release);
	}
	spage_enable(hv, *mfn, order);
	return 0;
}

int heap_alloc_domheap(struct hv_domain *d, unsigned int order, uint64_t *mfn)
{
	return heap_alloc_owned(d->hv, d->id, order, mfn);
}

/*
 * Returns a block the domain no longer references anywhere.  Counts above
 * the allocation reference here mean a reference was leaked by some path:
 * such a frame must not be reused, so the whole block is held back and the
 * leak is reported instead.
 */
void heap_free_owned(struct hv *hv, domid_t owner, uint64_t mfn, unsigned int order)
{
	for (uint64_t i = 0; i < (UINT64_C(1) << order); i++) {
		struct hv_frame_info fi;

		hv_frame_info(hv, mfn + i, &fi);
		if (fi.count != 1 || fi.type_count != 0 || fi.owner != owner) {
			hv_log(hv, HV_LOG_ERR,
			       "d%u: mfn %#" PRIx64 " still referenced (count %u type count %u); "
			       "block of order %u leaked", owner, mfn + i, fi.count,
			       fi.type_count, order);
			return;
		}
	}
	for (uint64_t i = 0; order >= HV_SUPERPAGE_ORDER &&
			     i < (UINT64_C(1) << (order - HV_SUPERPAGE_ORDER)); i++) {
		struct hv_spage_info si;

		hv_spage_info(hv, mfn + (i << HV_SUPERPAGE_ORDER), &si);
		if (si.count || si.type_count) {
			hv_log(hv, HV_LOG_ERR,
			       "d%u: superpage at mfn %#" PRIx64 " still referenced; "
			       "block of order %u leaked", owner,
			       mfn + (i << HV_SUPERPAGE_ORDER), order);
			return;
		}
	}
	spage_disable(hv, mfn, order);
	for (uint64_t i = 0; i < (UINT64_C(1) << order); i++) {
		struct page_info *pg = mfn_to_page(hv, mfn + i);

		atomic_store_explicit(&pg->count_info, 0, memory_order_relaxed);
		atomic_store_explicit(&pg->owner, DOMID_INVALID, memory_order_release);
	}
	hv_mutex_lock(&hv->heap.lock);
	free_block(hv, mfn, order);
	hv_mutex_unlock(&hv->heap.lock);
}

void heap_free_domheap(struct hv_domain *d, uint64_t mfn, unsigned int order)
{
	heap_free_owned(d->hv, d->id, mfn, order);
}
