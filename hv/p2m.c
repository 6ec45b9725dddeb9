/* SPDX-License-Identifier: MIT */
/*
 * Host p2m: a 4-level radix of 512-entry tables (EPT's shape), indexed by
 * 9 gfn bits per level, with 4 KiB leaves at level 1 and 2 MiB leaves at
 * level 2.  Entries are the p2m word of private.h; a non-leaf entry holds
 * its child table's address instead of an mfn.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"
#include "prwlock.h"

#define P2M_ENTRIES      512

static inline unsigned int p2m_index(uint64_t gfn, unsigned int level)
{
	return (gfn >> (9 * (level - 1))) & (P2M_ENTRIES - 1);
}

static inline uint64_t *p2m_child(uint64_t e)
{
	return (uint64_t *)(uintptr_t)(e & P2M_ADDR_MASK);
}

static uint64_t *table_new(struct p2m *p2m)
{
	uint64_t *t = aligned_alloc(HV_PAGE_SIZE, HV_PAGE_SIZE);

	if (t) {
		memset(t, 0, HV_PAGE_SIZE);
		p2m->nr_tables++;
	}
	return t;
}

static void table_free(struct p2m *p2m, uint64_t *t, unsigned int level)
{
	for (unsigned int i = 0; level > 1 && i < P2M_ENTRIES; i++)
		if ((t[i] & P2M_PRESENT) && !(t[i] & P2M_SUPER))
			table_free(p2m, p2m_child(t[i]), level - 1);
	free(t);
	p2m->nr_tables--;
}

int p2m_init(struct p2m *p2m)
{
	hv_prwlock_init(&p2m->lock, &hv_p2m_class, HV_LOCK_P2M_HOST, "p2m host");
	p2m->nr_tables = 0;
	p2m->root = table_new(p2m);
	if (!p2m->root) {
		hv_prwlock_deinit(&p2m->lock);
		return -ENOMEM;
	}
	return 0;
}

static void clear_locked(struct p2m *p2m)
{
	for (unsigned int i = 0; i < P2M_ENTRIES; i++) {
		if (p2m->root[i] & P2M_PRESENT)
			table_free(p2m, p2m_child(p2m->root[i]), 3);
		p2m->root[i] = 0;
	}
}

void p2m_clear(struct p2m *p2m)
{
	hv_prw_write_lock(&p2m->lock);
	clear_locked(p2m);
	hv_prw_write_unlock(&p2m->lock);
}

void p2m_deinit(struct p2m *p2m)
{
	clear_locked(p2m);
	table_free(p2m, p2m->root, 1);
	hv_prwlock_deinit(&p2m->lock);
}

int p2m_lookup_locked(struct p2m *p2m, uint64_t gfn, struct hv_p2m_entry *e)
{
	uint64_t *t = p2m->root;

	if (gfn > HV_MAX_GFN)
		return -EINVAL;
	for (unsigned int level = 4; level > 1; level--) {
		uint64_t raw = t[p2m_index(gfn, level)];

		if (!(raw & P2M_PRESENT))
			return -ENOENT;
		if (raw & P2M_SUPER) {
			p2m_unpack(raw, gfn & (HV_SUPERPAGE_PAGES - 1), HV_SUPERPAGE_ORDER, e);
			return 0;
		}
		t = p2m_child(raw);
	}
	uint64_t raw = t[p2m_index(gfn, 1)];

	if (!(raw & P2M_PRESENT))
		return -ENOENT;
	p2m_unpack(raw, 0, 0, e);
	return 0;
}

static void walk(uint64_t *t, unsigned int level, uint64_t base, p2m_walk_fn *fn, void *ctx)
{
	for (unsigned int i = 0; i < P2M_ENTRIES; i++) {
		uint64_t raw = t[i], gfn = base | ((uint64_t)i << (9 * (level - 1)));

		if (!(raw & P2M_PRESENT))
			continue;
		if (level == 1 || (raw & P2M_SUPER))
			fn(ctx, gfn, raw, level == 1 ? 0 : HV_SUPERPAGE_ORDER);
		else
			walk(p2m_child(raw), level - 1, gfn, fn, ctx);
	}
}

void p2m_walk_locked(struct p2m *p2m, p2m_walk_fn *fn, void *ctx)
{
	walk(p2m->root, 4, 0, fn, ctx);
}

static int entry_valid(uint64_t gfn, const struct hv_p2m_entry *e)
{
	if (gfn > HV_MAX_GFN || (e->order != 0 && e->order != HV_SUPERPAGE_ORDER))
		return -EINVAL;
	if (gfn & ((UINT64_C(1) << e->order) - 1))
		return -EINVAL;
	if (e->type >= HV_P2M__MAX)
		return -EINVAL;
	if (e->type == HV_P2M_INVALID)
		return 0;
	/* "default" is a request to use the default, never a stored value. */
	if ((unsigned int)e->access > XENMEM_access_n2rwx)
		return -EINVAL;
	if (e->mfn >= (UINT64_C(1) << (64 - HV_PAGE_SHIFT)) ||
	    (e->mfn & ((UINT64_C(1) << e->order) - 1)))
		return -EINVAL;
	return 0;
}

/* Replaces a 2 MiB leaf by a table of 512 equal 4 KiB leaves. */
static int split_super(struct p2m *p2m, uint64_t *slot)
{
	uint64_t *l1 = table_new(p2m);
	struct hv_p2m_entry e;

	if (!l1)
		return -ENOMEM;
	p2m_unpack(*slot, 0, 0, &e);
	for (unsigned int i = 0; i < P2M_ENTRIES; i++)
		l1[i] = p2m_pack(&e, e.mfn + i, false);
	*slot = P2M_PRESENT | (uint64_t)(uintptr_t)l1;
	return 0;
}

int p2m_set_locked(struct p2m *p2m, uint64_t gfn, const struct hv_p2m_entry *e)
{
	bool remove = e->type == HV_P2M_INVALID;
	uint64_t *t = p2m->root;
	int r = entry_valid(gfn, e);

	if (r < 0)
		return r;
	for (unsigned int level = 4; level > 2; level--) {
		uint64_t *slot = &t[p2m_index(gfn, level)];

		if (!(*slot & P2M_PRESENT)) {
			uint64_t *child;

			if (remove)
				return 0;
			child = table_new(p2m);
			if (!child)
				return -ENOMEM;
			*slot = P2M_PRESENT | (uint64_t)(uintptr_t)child;
		}
		t = p2m_child(*slot);
	}

	uint64_t *l2 = &t[p2m_index(gfn, 2)];

	if (e->order == HV_SUPERPAGE_ORDER) {
		if ((*l2 & P2M_PRESENT) && !(*l2 & P2M_SUPER))
			table_free(p2m, p2m_child(*l2), 1);
		*l2 = remove ? 0 : p2m_pack(e, e->mfn, true);
		return 0;
	}
	if (!(*l2 & P2M_PRESENT)) {
		uint64_t *l1;

		if (remove)
			return 0;
		l1 = table_new(p2m);
		if (!l1)
			return -ENOMEM;
		*l2 = P2M_PRESENT | (uint64_t)(uintptr_t)l1;
	} else if (*l2 & P2M_SUPER) {
		r = split_super(p2m, l2);
		if (r < 0)
			return r;
	}
	p2m_child(*l2)[p2m_index(gfn, 1)] = remove ? 0 : p2m_pack(e, e->mfn, false);
	return 0;
}

int hv_p2m_get_entry(struct hv_domain *d, uint64_t gfn, struct hv_p2m_entry *e)
{
	int r;

	if (!d || !e)
		return -EINVAL;
	hv_prw_read_lock(&d->p2m.lock);
	r = p2m_lookup_locked(&d->p2m, gfn, e);
	hv_prw_read_unlock(&d->p2m.lock);
	return r;
}

int hv_p2m_set_entry(struct hv_domain *d, uint64_t gfn, const struct hv_p2m_entry *e)
{
	int r;

	if (!d || !e)
		return -EINVAL;
	if (atomic_load(&d->dying))
		return -ESRCH;
	hv_prw_write_lock(&d->p2m.lock);
	hv_read_lock(&d->altp2m.list_lock);
	r = p2m_set_locked(&d->p2m, gfn, e);
	if (r == 0) {
		altp2m_propagate_locked(d, gfn, UINT64_C(1) << e->order);
		p2m_changed(d);
	}
	hv_read_unlock(&d->altp2m.list_lock);
	hv_prw_write_unlock(&d->p2m.lock);
	return r;
}

uint64_t hv_p2m_tables(struct hv_domain *d)
{
	uint64_t n;

	hv_prw_read_lock(&d->p2m.lock);
	n = d->p2m.nr_tables;
	hv_prw_read_unlock(&d->p2m.lock);
	return n;
}
