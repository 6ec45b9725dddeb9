/* SPDX-License-Identifier: MIT */
/*
 * Alternate views (Xen's altp2m, seed 000).  View 0 is the host p2m itself;
 * views 1..max_views-1 are sparse: an open-addressing table of the entries
 * the view changed, and a lookup miss falls through to the host entry.  Xen
 * builds a full EPT per view and copies host entries in lazily on faults;
 * not building one at all makes a view's memory proportional to what it
 * changed, and creating one free.
 *
 * Locks, always in this order: host p2m, view list, one view.  A host change
 * propagates to the views (altp2m_propagate_locked): entries derived from the
 * changed host entry are dropped, and a change inside a view's remapped gfn
 * range resets the view, as p2m_altp2m_propagate_change does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"
#include "prwlock.h"

/* ---- the sparse table ---------------------------------------------------- */

static size_t slot_index(const struct hv_view *vw, uint64_t gfn)
{
	return (size_t)((gfn * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - vw->bits));
}

static struct view_slot *table_find(const struct hv_view *vw, uint64_t gfn)
{
	size_t mask;

	if (!vw->bits)
		return NULL;
	mask = ((size_t)1 << vw->bits) - 1;
	for (size_t i = slot_index(vw, gfn);; i = (i + 1) & mask) {
		if (vw->slots[i].gfn == gfn)
			return &vw->slots[i];
		if (vw->slots[i].gfn == SLOT_EMPTY)
			return NULL;
	}
}

static void table_insert(struct hv_view *vw, uint64_t gfn, uint64_t raw)
{
	size_t mask = ((size_t)1 << vw->bits) - 1;

	for (size_t i = slot_index(vw, gfn);; i = (i + 1) & mask) {
		if (vw->slots[i].gfn == gfn) {
			vw->slots[i].raw = raw;
			return;
		}
		if (vw->slots[i].gfn == SLOT_EMPTY) {
			vw->slots[i] = (struct view_slot){ .gfn = gfn, .raw = raw };
			vw->nr++;
			return;
		}
	}
}

/*
 * Makes room for @extra more entries at a load of at most 3/4, so that the
 * inserts that follow cannot fail half way through an operation.
 */
static int table_reserve(struct hv_view *vw, size_t extra)
{
	size_t need = vw->nr + extra;
	unsigned int bits = vw->bits;

	while (((size_t)3 << bits) / 4 < need)
		bits++;
	if (bits == vw->bits)
		return 0;
	if (bits < 4)
		bits = 4;

	struct hv_view grown = { .bits = bits };

	grown.slots = malloc(sizeof(*grown.slots) << bits);
	if (!grown.slots)
		return -ENOMEM;
	for (size_t i = 0; i < ((size_t)1 << bits); i++)
		grown.slots[i].gfn = SLOT_EMPTY;
	for (size_t i = 0; vw->bits && i < ((size_t)1 << vw->bits); i++)
		if (vw->slots[i].gfn != SLOT_EMPTY)
			table_insert(&grown, vw->slots[i].gfn, vw->slots[i].raw);
	free(vw->slots);
	vw->slots = grown.slots;
	vw->bits = bits;
	return 0;
}

/* Backward-shift deletion keeps probe chains intact without tombstones. */
static bool table_delete(struct hv_view *vw, uint64_t gfn)
{
	struct view_slot *s = table_find(vw, gfn);
	size_t mask, i, j;

	if (!s)
		return false;
	mask = ((size_t)1 << vw->bits) - 1;
	i = (size_t)(s - vw->slots);
	for (j = (i + 1) & mask; vw->slots[j].gfn != SLOT_EMPTY; j = (j + 1) & mask) {
		size_t home = slot_index(vw, vw->slots[j].gfn);

		/* Move j back to the hole unless its home lies cyclically in (i, j]. */
		if ((i < j) ? (home <= i || home > j) : (home <= i && home > j)) {
			vw->slots[i] = vw->slots[j];
			i = j;
		}
	}
	vw->slots[i].gfn = SLOT_EMPTY;
	vw->nr--;
	return true;
}

/* ---- remapped gfns ------------------------------------------------------------ */

static struct view_remap *remap_find(struct hv_view *vw, uint64_t gfn)
{
	for (size_t i = 0; i < vw->nr_remaps; i++)
		if (vw->remaps[i].gfn == gfn)
			return &vw->remaps[i];
	return NULL;
}

/*
 * A frame shown at a second gfn must stay allocated, and its 2 MiB block
 * may no longer be mapped whole writable: a page reference plus a NOSUPER
 * type reference on the block (no page type, so dom0 can still write the
 * frame through a 4 KiB mapping, which is how shadow pages are filled).
 */
static int remap_take(struct hv_domain *d, uint64_t mfn)
{
	uint64_t ops = 0, sops = 0;
	int r = page_get(d->hv, mfn, d->id, &ops);

	if (r == 0) {
		r = spage_get_type(mfn_to_spage(d->hv, mfn), HV_SGT_NOSUPER, &sops);
		if (r < 0)
			page_put(d->hv, mfn, &ops);
	}
	frame_account(d->hv, ops, sops);
	return r;
}

static void remap_release(struct hv_domain *d, uint64_t mfn)
{
	uint64_t ops = 0, sops = 0;

	spage_put_type(mfn_to_spage(d->hv, mfn), &sops);
	page_put(d->hv, mfn, &ops);
	frame_account(d->hv, ops, sops);
}

static void remap_recompute_range(struct hv_view *vw)
{
	vw->remap_min = UINT64_MAX;
	vw->remap_max = 0;
	for (size_t i = 0; i < vw->nr_remaps; i++) {
		if (vw->remaps[i].gfn < vw->remap_min)
			vw->remap_min = vw->remaps[i].gfn;
		if (vw->remaps[i].gfn > vw->remap_max)
			vw->remap_max = vw->remaps[i].gfn;
	}
}

static void remap_drop(struct hv_domain *d, struct hv_view *vw, struct view_remap *rm)
{
	table_delete(vw, rm->gfn);
	remap_release(d, rm->mfn);
	*rm = vw->remaps[--vw->nr_remaps];
	remap_recompute_range(vw);
}

/* Xen's p2m_reset_altp2m: the view forgets everything it changed. */
static void view_reset_locked(struct hv_domain *d, struct hv_view *vw)
{
	for (size_t i = 0; i < vw->nr_remaps; i++)
		remap_release(d, vw->remaps[i].mfn);
	free(vw->remaps);
	free(vw->slots);
	vw->remaps = NULL;
	vw->nr_remaps = vw->remaps_cap = 0;
	vw->slots = NULL;
	vw->bits = 0;
	vw->nr = 0;
	remap_recompute_range(vw);
}

static void view_free(struct hv_domain *d, struct hv_view *vw)
{
	view_reset_locked(d, vw);
	hv_rwlock_deinit(&vw->lock);
	free(vw);
}

/* ---- lookups -------------------------------------------------------------------- */

static bool access_valid(xenmem_access_t a, bool allow_default)
{
	return (unsigned int)a <= XENMEM_access_n2rwx ||
	       (allow_default && a == XENMEM_access_default);
}

int view_lookup_locked(struct hv_domain *d, unsigned int idx, struct hv_view **out)
{
	if (idx >= ALTVIEW_MAX_VIEWS)
		return -EINVAL;
	*out = NULL;
	if (idx == 0)
		return 0;
	if (!d->altp2m.enabled)
		return -EOPNOTSUPP;
	if (idx >= d->altp2m.max_views)
		return -EINVAL;
	if (!d->altp2m.views[idx])
		return -ENOENT;
	*out = d->altp2m.views[idx];
	return 0;
}

/* The host p2m word for one gfn (never a 2 MiB leaf word). */
static int host_raw_locked(struct hv_domain *d, uint64_t gfn, uint64_t *raw)
{
	struct hv_p2m_entry e;
	int r = p2m_lookup_locked(&d->p2m, gfn, &e);

	if (r == 0)
		*raw = p2m_pack(&e, e.mfn, false);
	return r;
}

/* Host p2m lock held, and the list lock or a reason @vw cannot go away. */
static int effective_locked(struct hv_domain *d, struct hv_view *vw, uint64_t gfn, uint64_t *raw)
{
	if (vw) {
		const struct view_slot *s;

		hv_read_lock(&vw->lock);
		s = table_find(vw, gfn);
		if (s)
			*raw = s->raw;
		hv_read_unlock(&vw->lock);
		if (s)
			return 0;
	}
	return host_raw_locked(d, gfn, raw);
}

int altp2m_effective(struct hv_domain *d, unsigned int idx, uint64_t gfn, uint64_t *raw)
{
	struct hv_view *vw;
	int r;

	hv_prw_read_lock(&d->p2m.lock);
	hv_read_lock(&d->altp2m.list_lock);
	r = view_lookup_locked(d, idx, &vw);
	if (r == 0)
		r = effective_locked(d, vw, gfn, raw);
	hv_read_unlock(&d->altp2m.list_lock);
	hv_prw_read_unlock(&d->p2m.lock);
	return r;
}

/*
 * A vCPU's own active view needs no list lock: it cannot be destroyed
 * while the vCPU uses it (destroy checks active_vcpus with every vCPU
 * paused), and the vCPU reads active_view with acquire after the switch
 * published it.  So the miss path of a view costs one lock more than the
 * host's, not two.
 */
int altp2m_vcpu_effective(struct hv_vcpu *v, unsigned int idx, uint64_t gfn, uint64_t *raw)
{
	struct hv_domain *d = v->d;
	int r;

	hv_prw_read_lock(&d->p2m.lock);
	r = effective_locked(d, idx ? d->altp2m.views[idx] : NULL, gfn, raw);
	hv_prw_read_unlock(&d->p2m.lock);
	return r;
}

struct scan {
	struct hv_view *vw;
	altp2m_scan_fn *fn;
	void *ctx;
};

static void scan_leaf(void *ctx, uint64_t gfn, uint64_t raw, unsigned int order)
{
	struct scan *sc = ctx;
	uint64_t mfn = raw >> HV_PAGE_SHIFT;

	for (uint64_t i = 0; i < (UINT64_C(1) << order); i++) {
		const struct view_slot *s = sc->vw ? table_find(sc->vw, gfn + i) : NULL;
		uint64_t word = (raw & ~(P2M_ADDR_MASK | P2M_SUPER)) | ((mfn + i) << HV_PAGE_SHIFT);

		sc->fn(sc->ctx, gfn + i, s ? s->raw : word);
	}
}

void altp2m_vcpu_scan(struct hv_vcpu *v, unsigned int idx, altp2m_scan_fn *fn, void *ctx)
{
	struct hv_domain *d = v->d;
	struct scan sc = { .vw = idx ? d->altp2m.views[idx] : NULL, .fn = fn, .ctx = ctx };

	hv_prw_read_lock(&d->p2m.lock);
	if (sc.vw)
		hv_read_lock(&sc.vw->lock);
	p2m_walk_locked(&d->p2m, scan_leaf, &sc);
	if (sc.vw)
		hv_read_unlock(&sc.vw->lock);
	hv_prw_read_unlock(&d->p2m.lock);
}

static int cmp_gfn(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int altp2m_changed_gfns(struct hv_domain *d, uint64_t **out, size_t *n)
{
	uint64_t *gfns = NULL;
	size_t nr = 0, cap = 0;
	int r = 0;

	hv_read_lock(&d->altp2m.list_lock);
	for (unsigned int i = 1; d->altp2m.enabled && i < d->altp2m.max_views && r == 0; i++) {
		struct hv_view *vw = d->altp2m.views[i];

		if (!vw)
			continue;
		hv_read_lock(&vw->lock);
		for (size_t j = 0; vw->bits && j < (size_t)1 << vw->bits; j++) {
			if (vw->slots[j].gfn == SLOT_EMPTY)
				continue;
			if (nr == cap) {
				uint64_t *g = realloc(gfns, (cap = cap ? cap * 2 : 64) * sizeof(*g));

				if (!g) {
					r = -ENOMEM;
					break;
				}
				gfns = g;
			}
			gfns[nr++] = vw->slots[j].gfn;
		}
		hv_read_unlock(&vw->lock);
	}
	hv_read_unlock(&d->altp2m.list_lock);
	if (r < 0) {
		free(gfns);
		return r;
	}
	if (nr > 1)
		qsort(gfns, nr, sizeof(*gfns), cmp_gfn);
	*n = 0;
	for (size_t i = 0; i < nr; i++)
		if (!*n || gfns[*n - 1] != gfns[i])
			gfns[(*n)++] = gfns[i];
	*out = gfns;
	return 0;
}

int hv_view_get_entry(struct hv_domain *d, unsigned int idx, uint64_t gfn, struct hv_p2m_entry *e)
{
	uint64_t raw;
	int r;

	if (!d || !e || gfn > HV_MAX_GFN)
		return -EINVAL;
	r = altp2m_effective(d, idx, gfn, &raw);
	if (r == 0)
		p2m_unpack(raw, 0, 0, e);
	return r;
}

int hv_view_get_access(struct hv_domain *d, unsigned int idx, uint64_t gfn,
		       xenmem_access_t *access)
{
	struct hv_p2m_entry e;
	int r;

	if (!access)
		return -EINVAL;
	r = hv_view_get_entry(d, idx, gfn, &e);
	if (r == 0)
		*access = e.access;
	return r;
}

/* ---- propagation of host changes ----------------------------------------------- */

void altp2m_propagate_locked(struct hv_domain *d, uint64_t gfn, uint64_t nr)
{
	if (!d->altp2m.enabled)
		return;
	for (unsigned int idx = 1; idx < d->altp2m.max_views; idx++) {
		struct hv_view *vw = d->altp2m.views[idx];

		if (!vw)
			continue;
		hv_write_lock(&vw->lock);
		if (vw->nr_remaps && gfn <= vw->remap_max && gfn + nr > vw->remap_min) {
			view_reset_locked(d, vw);
		} else if (vw->nr) {
			for (uint64_t g = gfn; g < gfn + nr; g++)
				table_delete(vw, g);
			for (size_t i = 0; i < vw->nr_remaps;) {
				if (vw->remaps[i].src >= gfn && vw->remaps[i].src < gfn + nr)
					remap_drop(d, vw, &vw->remaps[i]);
				else
					i++;
			}
		}
		hv_write_unlock(&vw->lock);
	}
}

/* ---- access ------------------------------------------------------------------------ */

static int range_valid(uint64_t gfn, uint64_t nr)
{
	return nr && gfn <= HV_MAX_GFN && nr <= HV_MAX_GFN + 1 - gfn ? 0 : -EINVAL;
}

/* Host write lock and list read lock held; the whole range exists. */
static int host_set_access_locked(struct hv_domain *d, uint64_t gfn, uint64_t nr,
				  xenmem_access_t a)
{
	for (uint64_t g = gfn; g < gfn + nr;) {
		struct hv_p2m_entry e;
		int r = p2m_lookup_locked(&d->p2m, g, &e);

		if (r < 0)
			return r;
		/* A whole 2 MiB leaf inside the range keeps being one leaf. */
		if (e.order == HV_SUPERPAGE_ORDER && !(g & (HV_SUPERPAGE_PAGES - 1)) &&
		    gfn + nr - g >= HV_SUPERPAGE_PAGES) {
			e.access = a;
			r = p2m_set_locked(&d->p2m, g, &e);
			if (r < 0)
				return r;
			altp2m_propagate_locked(d, g, HV_SUPERPAGE_PAGES);
			g += HV_SUPERPAGE_PAGES;
			continue;
		}
		e.order = 0;
		e.access = a;
		r = p2m_set_locked(&d->p2m, g, &e);
		if (r < 0)
			return r;
		altp2m_propagate_locked(d, g, 1);
		g++;
	}
	return 0;
}

/* View write lock held; room for every gfn reserved. */
static void view_set_access_locked(struct hv_domain *d, struct hv_view *vw, uint64_t gfn,
				   xenmem_access_t a)
{
	const struct view_slot *s = table_find(vw, gfn);
	uint64_t raw = 0;

	/* The caller checked that the host maps every gfn of the operation. */
	if (s)
		raw = s->raw;
	else
		host_raw_locked(d, gfn, &raw);
	table_insert(vw, gfn, p2m_raw_with_access(raw, a));
}

static xenmem_access_t resolve_default(struct hv_domain *d, struct hv_view *vw, xenmem_access_t a)
{
	if (a != XENMEM_access_default)
		return a;
	return vw ? vw->default_access : d->default_access;
}

/*
 * Sets access for gfns[i] (or gfn..gfn+nr-1 when gfns is NULL) to access[i]
 * (or @a).  Everything is checked before anything changes.
 */
static int set_access(struct hv_domain *d, unsigned int idx, uint64_t gfn, uint64_t nr,
		      const uint64_t *gfns, const xenmem_access_t *access, xenmem_access_t a,
		      size_t *failed)
{
	struct hv_view *vw;
	int r;

	if (idx == 0)
		hv_prw_write_lock(&d->p2m.lock);
	else
		hv_prw_read_lock(&d->p2m.lock);
	hv_read_lock(&d->altp2m.list_lock);
	r = view_lookup_locked(d, idx, &vw);

	for (uint64_t i = 0; r == 0 && i < nr; i++) {
		uint64_t g = gfns ? gfns[i] : gfn + i, raw;

		if (gfns && (g > HV_MAX_GFN || !access_valid(access[i], true)))
			r = -EINVAL;
		else
			r = host_raw_locked(d, g, &raw);
		if (r < 0 && failed)
			*failed = (size_t)i;
	}
	if (r == 0 && idx == 0) {
		if (gfns) {
			for (uint64_t i = 0; r == 0 && i < nr; i++)
				r = host_set_access_locked(d, gfns[i], 1, resolve_default(d, NULL, access[i]));
		} else {
			r = host_set_access_locked(d, gfn, nr, resolve_default(d, NULL, a));
		}
	} else if (r == 0) {
		hv_write_lock(&vw->lock);
		r = table_reserve(vw, nr);
		for (uint64_t i = 0; r == 0 && i < nr; i++)
			view_set_access_locked(d, vw, gfns ? gfns[i] : gfn + i,
					       resolve_default(d, vw, gfns ? access[i] : a));
		hv_write_unlock(&vw->lock);
	}
	if (r == 0)
		p2m_changed(d);
	hv_read_unlock(&d->altp2m.list_lock);
	if (idx == 0)
		hv_prw_write_unlock(&d->p2m.lock);
	else
		hv_prw_read_unlock(&d->p2m.lock);
	return r;
}

int hv_view_set_access(struct hv_domain *d, unsigned int idx, uint64_t gfn, uint64_t nr,
		       xenmem_access_t access)
{
	if (!d || range_valid(gfn, nr) < 0 || !access_valid(access, true))
		return -EINVAL;
	return set_access(d, idx, gfn, nr, NULL, NULL, access, NULL);
}

int hv_view_set_access_multi(struct hv_domain *d, unsigned int idx, const uint64_t *gfns,
			     const xenmem_access_t *access, size_t n, size_t *failed)
{
	if (!d || !gfns || !access || n == 0)
		return -EINVAL;
	return set_access(d, idx, 0, n, gfns, access, XENMEM_access_default, failed);
}

int hv_view_set_default_access(struct hv_domain *d, unsigned int idx, xenmem_access_t access)
{
	struct hv_view *vw;
	int r;

	if (!d || !access_valid(access, false))
		return -EINVAL;
	hv_prw_write_lock(&d->p2m.lock);
	hv_read_lock(&d->altp2m.list_lock);
	r = view_lookup_locked(d, idx, &vw);
	if (r == 0 && vw) {
		hv_write_lock(&vw->lock);
		vw->default_access = access;
		hv_write_unlock(&vw->lock);
	} else if (r == 0) {
		d->default_access = access;
	}
	hv_read_unlock(&d->altp2m.list_lock);
	hv_prw_write_unlock(&d->p2m.lock);
	return r;
}

int hv_view_get_default_access(struct hv_domain *d, unsigned int idx, xenmem_access_t *access)
{
	struct hv_view *vw;
	int r;

	if (!d || !access)
		return -EINVAL;
	hv_prw_read_lock(&d->p2m.lock);
	hv_read_lock(&d->altp2m.list_lock);
	r = view_lookup_locked(d, idx, &vw);
	if (r == 0)
		*access = vw ? vw->default_access : d->default_access;
	hv_read_unlock(&d->altp2m.list_lock);
	hv_prw_read_unlock(&d->p2m.lock);
	return r;
}

/* ---- change_gfn --------------------------------------------------------------------- */

static int change_gfn_locked(struct hv_domain *d, struct hv_view *vw, uint64_t old_gfn,
			     uint64_t new_gfn)
{
	struct view_remap *rm = remap_find(vw, old_gfn);
	uint64_t raw = 0;
	int r;

	if (new_gfn == HV_INVALID_GFN) {
		/* Revert: the view shows the host entry again. */
		if (rm)
			remap_drop(d, vw, rm);
		else
			table_delete(vw, old_gfn);
		return 0;
	}
	const struct view_slot *s = table_find(vw, new_gfn);

	if (s)
		raw = s->raw;
	else if ((r = host_raw_locked(d, new_gfn, &raw)) < 0)
		return r;

	uint64_t mfn = raw >> HV_PAGE_SHIFT;

	if (!rm && vw->nr_remaps == vw->remaps_cap) {
		size_t cap = vw->remaps_cap ? vw->remaps_cap * 2 : 8;
		struct view_remap *n = realloc(vw->remaps, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		vw->remaps = n;
		vw->remaps_cap = cap;
	}
	r = table_reserve(vw, 1);
	if (r == 0)
		r = remap_take(d, mfn);
	if (r < 0)
		return r;
	if (rm) {
		remap_release(d, rm->mfn);
	} else {
		rm = &vw->remaps[vw->nr_remaps++];
		rm->gfn = old_gfn;
	}
	rm->src = new_gfn;
	rm->mfn = mfn;
	remap_recompute_range(vw);
	table_insert(vw, old_gfn, raw);
	return 0;
}

int hv_view_change_gfn(struct hv_domain *d, unsigned int idx, uint64_t old_gfn, uint64_t new_gfn)
{
	struct hv_view *vw;
	uint64_t raw;
	int r;

	if (!d || idx == 0 || old_gfn > HV_MAX_GFN ||
	    (new_gfn > HV_MAX_GFN && new_gfn != HV_INVALID_GFN))
		return -EINVAL;
	hv_prw_read_lock(&d->p2m.lock);
	hv_read_lock(&d->altp2m.list_lock);
	r = view_lookup_locked(d, idx, &vw);
	if (r == 0)
		r = host_raw_locked(d, old_gfn, &raw);
	if (r == 0) {
		hv_write_lock(&vw->lock);
		r = change_gfn_locked(d, vw, old_gfn, new_gfn);
		hv_write_unlock(&vw->lock);
		if (r == 0)
			p2m_changed(d);
	}
	hv_read_unlock(&d->altp2m.list_lock);
	hv_prw_read_unlock(&d->p2m.lock);
	return r;
}

/* ---- the view list ------------------------------------------------------------------- */

int altp2m_init(struct hv_domain *d)
{
	hv_rwlock_init(&d->altp2m.list_lock, HV_LOCK_VIEW_LIST, "view list");
	return 0;
}

void altp2m_deinit(struct hv_domain *d)
{
	for (unsigned int i = 1; i < ALTVIEW_MAX_VIEWS; i++)
		if (d->altp2m.views[i])
			view_free(d, d->altp2m.views[i]);
	hv_rwlock_deinit(&d->altp2m.list_lock);
}

int hv_views_enable(struct hv_domain *d, unsigned int max_views)
{
	int r = 0;

	if (!d || max_views > ALTVIEW_MAX_VIEWS)
		return -EINVAL;
	hv_write_lock(&d->altp2m.list_lock);
	if (d->altp2m.enabled) {
		r = -EEXIST;
	} else {
		__atomic_store_n(&d->altp2m.enabled, true, __ATOMIC_RELAXED);
		d->altp2m.max_views = max_views ? max_views : HV_DEFAULT_MAX_VIEWS;
	}
	hv_write_unlock(&d->altp2m.list_lock);
	return r;
}

unsigned int hv_views_max(struct hv_domain *d)
{
	unsigned int max;

	hv_read_lock(&d->altp2m.list_lock);
	max = d->altp2m.enabled ? d->altp2m.max_views : 0;
	hv_read_unlock(&d->altp2m.list_lock);
	return max;
}

int hv_views_disable(struct hv_domain *d)
{
	int r = 0;

	if (!d)
		return -EINVAL;
	hv_domain_pause(d);
	hv_write_lock(&d->altp2m.list_lock);
	if (!d->altp2m.enabled) {
		r = -EOPNOTSUPP;
	} else {
		for (unsigned int i = 0; i < d->nr_vcpus; i++)
			vcpu_switch_view_locked(d->vcpus[i], 0);
		for (unsigned int i = 1; i < ALTVIEW_MAX_VIEWS; i++) {
			if (d->altp2m.views[i])
				view_free(d, d->altp2m.views[i]);
			d->altp2m.views[i] = NULL;
		}
		__atomic_store_n(&d->altp2m.enabled, false, __ATOMIC_RELAXED);
		p2m_changed(d);
	}
	hv_write_unlock(&d->altp2m.list_lock);
	hv_domain_unpause(d);
	return r;
}

int hv_view_create(struct hv_domain *d, xenmem_access_t default_access, unsigned int *idx)
{
	struct hv_view *vw;
	int r = -ENOSPC;

	if (!d || !idx || !access_valid(default_access, true))
		return -EINVAL;
	vw = calloc(1, sizeof(*vw));
	if (!vw)
		return -ENOMEM;
	hv_rwlock_init(&vw->lock, HV_LOCK_VIEW, "view");
	atomic_init(&vw->visible, true);
	remap_recompute_range(vw);

	hv_write_lock(&d->altp2m.list_lock);
	if (!d->altp2m.enabled)
		r = -EOPNOTSUPP;
	for (unsigned int i = 1; d->altp2m.enabled && i < d->altp2m.max_views; i++) {
		if (!d->altp2m.views[i]) {
			vw->idx = i;
			vw->default_access = default_access == XENMEM_access_default ?
					     d->default_access : default_access;
			d->altp2m.views[i] = vw;
			*idx = i;
			r = 0;
			break;
		}
	}
	hv_write_unlock(&d->altp2m.list_lock);
	if (r < 0)
		view_free(d, vw);
	return r;
}

int hv_view_destroy(struct hv_domain *d, unsigned int idx)
{
	struct hv_view *vw = NULL;
	int r;

	if (!d)
		return -EINVAL;
	if (idx == 0)
		return -EBUSY;          /* the host p2m is not a view one can drop */
	/* No vCPU may be in the middle of a translation through the view. */
	hv_domain_pause(d);
	hv_write_lock(&d->altp2m.list_lock);
	r = view_lookup_locked(d, idx, &vw);
	if (r == 0 && atomic_load(&vw->active_vcpus))
		r = -EBUSY;
	if (r == 0) {
		d->altp2m.views[idx] = NULL;
		p2m_changed(d);
	}
	hv_write_unlock(&d->altp2m.list_lock);
	hv_domain_unpause(d);
	if (r == 0)
		view_free(d, vw);
	return r;
}

void vcpu_switch_view_locked(struct hv_vcpu *v, unsigned int idx)
{
	struct altp2m *a = &v->d->altp2m;
	unsigned int old = atomic_load(&v->active_view);

	if (old == idx)
		return;
	if (idx)
		atomic_fetch_add(&a->views[idx]->active_vcpus, 1);
	if (old)
		atomic_fetch_sub(&a->views[old]->active_vcpus, 1);
	atomic_store_explicit(&v->active_view, idx, memory_order_release);
}

int hv_view_switch(struct hv_domain *d, unsigned int idx)
{
	struct hv_view *vw;
	int r;

	if (!d)
		return -EINVAL;
	hv_domain_pause(d);
	hv_read_lock(&d->altp2m.list_lock);
	r = view_lookup_locked(d, idx, &vw);
	if (r == 0 && vw && !atomic_load(&vw->visible))
		r = -EPERM;
	for (unsigned int i = 0; r == 0 && i < d->nr_vcpus; i++)
		vcpu_switch_view_locked(d->vcpus[i], idx);
	hv_read_unlock(&d->altp2m.list_lock);
	hv_domain_unpause(d);
	return r;
}

int hv_vcpu_switch_view(struct hv_vcpu *v, unsigned int idx)
{
	struct hv_view *vw;
	int r;

	if (!v)
		return -EINVAL;
	hv_read_lock(&v->d->altp2m.list_lock);
	r = view_lookup_locked(v->d, idx, &vw);
	if (r == 0)
		vcpu_switch_view_locked(v, idx);
	hv_read_unlock(&v->d->altp2m.list_lock);
	return r;
}

int hv_vcpu_guest_switch_view(struct hv_vcpu *v, unsigned int idx)
{
	struct hv_view *vw;
	int r;

	hv_read_lock(&v->d->altp2m.list_lock);
	r = view_lookup_locked(v->d, idx, &vw);
	if (r == 0 && vw && !atomic_load(&vw->visible))
		r = -EPERM;
	if (r == 0)
		vcpu_switch_view_locked(v, idx);
	hv_read_unlock(&v->d->altp2m.list_lock);
	if (r < 0)
		atomic_fetch_add_explicit(&v->denied_view_switches, 1, memory_order_relaxed);
	return r;
}

int hv_view_set_visible(struct hv_domain *d, unsigned int idx, bool visible)
{
	struct hv_view *vw;
	int r;

	if (!d || idx == 0)
		return -EINVAL;
	hv_read_lock(&d->altp2m.list_lock);
	r = view_lookup_locked(d, idx, &vw);
	if (r == 0)
		atomic_store(&vw->visible, visible);
	hv_read_unlock(&d->altp2m.list_lock);
	return r;
}

bool view_exists(struct hv_domain *d, unsigned int idx)
{
	struct hv_view *vw;
	bool ok;

	hv_read_lock(&d->altp2m.list_lock);
	ok = view_lookup_locked(d, idx, &vw) == 0;
	hv_read_unlock(&d->altp2m.list_lock);
	return ok;
}

bool hv_view_exists(struct hv_domain *d, unsigned int idx)
{
	return d && view_exists(d, idx);
}

int hv_view_usage(struct hv_domain *d, unsigned int idx, uint64_t *entries, uint64_t *bytes)
{
	struct hv_view *vw;
	int r;

	if (!d || !entries || !bytes)
		return -EINVAL;
	hv_read_lock(&d->altp2m.list_lock);
	r = view_lookup_locked(d, idx, &vw);
	if (r == 0 && vw) {
		hv_read_lock(&vw->lock);
		*entries = vw->nr;
		*bytes = sizeof(*vw) + (vw->bits ? sizeof(*vw->slots) << vw->bits : 0) +
			 vw->remaps_cap * sizeof(*vw->remaps);
		hv_read_unlock(&vw->lock);
	} else if (r == 0) {
		*entries = *bytes = 0;
	}
	hv_read_unlock(&d->altp2m.list_lock);
	return r;
}
