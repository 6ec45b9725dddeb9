/* SPDX-License-Identifier: MIT */
/*
 * The superpage table (seed 001): one spage_info per 2 MiB of machine
 * memory.  A 2 MiB block is either unused as a unit (NONE), mapped whole
 * (SUPERPAGE) or holding 4 KiB uses that forbid mapping it whole (NOSUPER);
 * the type count says how many users hold the current type, and the two
 * non-NONE types exclude each other.  Everything is a compare-exchange loop
 * so map paths never take a lock for it.
 */
#include <errno.h>

#include "private.h"

void spage_get(struct spage_info *sp, uint64_t *ops)
{
	atomic_fetch_add_explicit(&sp->count_info, 1, memory_order_acquire);
	++*ops;
}

void spage_put(struct spage_info *sp, uint64_t *ops)
{
	uint64_t x = atomic_load_explicit(&sp->count_info, memory_order_relaxed);

	do {
		if (x == 0)
			return;     /* unbalanced put: refuse rather than wrap */
	} while (!atomic_compare_exchange_weak_explicit(&sp->count_info, &x, x - 1,
							memory_order_release,
							memory_order_relaxed));
	++*ops;
}

int spage_get_type(struct spage_info *sp, enum hv_spage_type type, uint64_t *ops)
{
	uint64_t x = atomic_load_explicit(&sp->type_info, memory_order_relaxed), nx;

	do {
		uint64_t count = x & SGT_COUNT_MASK;

		if (count == SGT_COUNT_MASK)
			return -EOVERFLOW;
		if (count == 0)
			nx = (x & ~(SGT_TYPE_MASK | SGT_COUNT_MASK)) |
			     ((uint64_t)type << SGT_TYPE_SHIFT) | 1;
		else if (((x & SGT_TYPE_MASK) >> SGT_TYPE_SHIFT) != (uint64_t)type)
			return -EBUSY;
		else
			nx = x + 1;
	} while (!atomic_compare_exchange_weak_explicit(&sp->type_info, &x, nx,
							memory_order_acq_rel,
							memory_order_relaxed));
	++*ops;
	return 0;
}

void spage_put_type(struct spage_info *sp, uint64_t *ops)
{
	uint64_t x = atomic_load_explicit(&sp->type_info, memory_order_relaxed), nx;

	do {
		if ((x & SGT_COUNT_MASK) == 0)
			return;
		nx = x - 1;
		if ((nx & SGT_COUNT_MASK) == 0)
			nx &= ~SGT_TYPE_MASK;   /* back to NONE with the last user */
	} while (!atomic_compare_exchange_weak_explicit(&sp->type_info, &x, nx,
							memory_order_acq_rel,
							memory_order_relaxed));
	++*ops;
}

/*
 * Only a block handed to one domain in one allocation can be mapped whole:
 * that is what guarantees all 512 frames have the same owner.
 */
void spage_enable(struct hv *hv, uint64_t mfn, unsigned int order)
{
	if (order < HV_SUPERPAGE_ORDER)
		return;
	for (uint64_t i = 0; i < (UINT64_C(1) << (order - HV_SUPERPAGE_ORDER)); i++)
		atomic_fetch_or(&mfn_to_spage(hv, mfn)[i].type_info, SGT_ENABLED);
}

void spage_disable(struct hv *hv, uint64_t mfn, unsigned int order)
{
	if (order < HV_SUPERPAGE_ORDER)
		return;
	for (uint64_t i = 0; i < (UINT64_C(1) << (order - HV_SUPERPAGE_ORDER)); i++)
		atomic_fetch_and(&mfn_to_spage(hv, mfn)[i].type_info, ~SGT_ENABLED);
}

int hv_spage_info(const struct hv *hv, uint64_t mfn, struct hv_spage_info *si)
{
	if (!mfn_valid(hv, mfn) || !si)
		return -EINVAL;
	const struct spage_info *sp = mfn_to_spage(hv, mfn);
	uint64_t t = atomic_load(&sp->type_info);

	si->count = (uint32_t)atomic_load(&sp->count_info);
	si->type = (enum hv_spage_type)((t & SGT_TYPE_MASK) >> SGT_TYPE_SHIFT);
	si->type_count = (uint32_t)(t & SGT_COUNT_MASK);
	si->enabled = t & SGT_ENABLED;
	return 0;
}
