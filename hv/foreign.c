/* SPDX-License-Identifier: MIT */
/*
 * Foreign mapping: dom0 maps a range of a guest's frames into its own
 * address space (the core of xenforeignmemory_map).  The frames must stay
 * allocated while mapped, so the mapping holds references, and this is where
 * the superpage table pays off: a 2 MiB chunk that the host p2m maps with a
 * 2 MiB leaf, whose block is enabled, is held with one superpage reference
 * (plus the SUPERPAGE type when writable) instead of 512 page references.
 * A chunk that cannot go whole (NOSUPER, not enabled, split in the p2m)
 * falls back to per-frame references unless the caller forbids it.
 *
 * The mapping records exactly what it took, so unmapping releases the same
 * references whatever has happened to the p2m since.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "private.h"
#include "prwlock.h"

struct segment {
	uint64_t mfn;
	uint64_t nr;
	bool super;
};

struct hv_mapping {
	struct hv_mapping *next;
	struct hv_domain *d;                  /* holds a domain reference */
	uint8_t *addr;
	uint64_t gfn;
	size_t nr;
	unsigned int flags;
	struct segment *segs;
	size_t nr_segs, segs_cap;
};

#define MAP_KNOWN_FLAGS (HV_MAP_WRITE | HV_MAP_4K | HV_MAP_SUPERPAGE_ONLY)

static int add_segment(struct hv_mapping *m, uint64_t mfn, uint64_t nr, bool super)
{
	struct segment *last = m->nr_segs ? &m->segs[m->nr_segs - 1] : NULL;

	if (!super && last && !last->super && last->mfn + last->nr == mfn) {
		last->nr += nr;
		return 0;
	}
	if (m->nr_segs == m->segs_cap) {
		size_t cap = m->segs_cap ? m->segs_cap * 2 : 8;
		struct segment *s = realloc(m->segs, cap * sizeof(*s));

		if (!s)
			return -ENOMEM;
		m->segs = s;
		m->segs_cap = cap;
	}
	m->segs[m->nr_segs++] = (struct segment){ .mfn = mfn, .nr = nr, .super = super };
	return 0;
}

static void release_refs(struct hv *hv, struct hv_mapping *m)
{
	bool write = m->flags & HV_MAP_WRITE;
	uint64_t ops = 0, sops = 0;

	for (size_t s = 0; s < m->nr_segs; s++) {
		const struct segment *seg = &m->segs[s];

		if (seg->super) {
			if (write)
				spage_put_type(mfn_to_spage(hv, seg->mfn), &sops);
			spage_put(mfn_to_spage(hv, seg->mfn), &sops);
			continue;
		}
		for (uint64_t i = 0; i < seg->nr; i++) {
			if (write)
				page_put_type(hv, seg->mfn + i, &ops);
			page_put(hv, seg->mfn + i, &ops);
		}
	}
	frame_account(hv, ops, sops);
	m->nr_segs = 0;
}

static int take_superpage(struct hv *hv, struct hv_domain *d, uint64_t mfn, bool write,
			  uint64_t *sops)
{
	struct spage_info *sp = mfn_to_spage(hv, mfn);
	int r;

	if (!(atomic_load_explicit(&sp->type_info, memory_order_acquire) & SGT_ENABLED))
		return -ENXIO;
	/* Enabled means one owner for all 512 frames: checking one checks all. */
	if (atomic_load_explicit(&mfn_to_page(hv, mfn)->owner, memory_order_relaxed) != d->id)
		return -EPERM;
	spage_get(sp, sops);
	if (write) {
		r = spage_get_type(sp, HV_SGT_SUPERPAGE, sops);
		if (r < 0) {
			spage_put(sp, sops);
			return r;
		}
	}
	return 0;
}

static int take_page(struct hv *hv, struct hv_domain *d, uint64_t mfn, bool write, uint64_t *ops)
{
	int r = page_get(hv, mfn, d->id, ops);

	if (r == 0 && write) {
		r = page_get_type(hv, mfn, HV_PGT_WRITABLE, ops);
		if (r < 0)
			page_put(hv, mfn, ops);
	}
	return r;
}

static int take_refs_locked(struct hv *hv, struct hv_mapping *m, uint64_t gfn)
{
	bool write = m->flags & HV_MAP_WRITE;
	uint64_t ops = 0, sops = 0;
	int r = 0;

	for (size_t i = 0; i < m->nr;) {
		struct hv_p2m_entry e;
		bool whole = !(m->flags & HV_MAP_4K) && !((gfn + i) & (HV_SUPERPAGE_PAGES - 1)) &&
			     m->nr - i >= HV_SUPERPAGE_PAGES;

		r = p2m_lookup_locked(&m->d->p2m, gfn + i, &e);
		if (r < 0)
			break;
		if (write && e.type != HV_P2M_RAM_RW) {
			r = -EACCES;
			break;
		}
		if ((m->flags & HV_MAP_SUPERPAGE_ONLY) && !whole) {
			r = -EINVAL;
			break;
		}
		if (whole && e.order == HV_SUPERPAGE_ORDER) {
			r = take_superpage(hv, m->d, e.mfn, write, &sops);
			if (r == 0) {
				r = add_segment(m, e.mfn, HV_SUPERPAGE_PAGES, true);
				if (r < 0) {
					if (write)
						spage_put_type(mfn_to_spage(hv, e.mfn), &sops);
					spage_put(mfn_to_spage(hv, e.mfn), &sops);
					break;
				}
				i += HV_SUPERPAGE_PAGES;
				continue;
			}
		} else if (whole) {
			r = -EBUSY;     /* split in the p2m: not mappable whole */
		}
		if (r < 0 && (m->flags & HV_MAP_SUPERPAGE_ONLY))
			break;

		r = take_page(hv, m->d, e.mfn, write, &ops);
		if (r < 0)
			break;
		r = add_segment(m, e.mfn, 1, false);
		if (r < 0) {
			if (write)
				page_put_type(hv, e.mfn, &ops);
			page_put(hv, e.mfn, &ops);
			break;
		}
		i++;
	}
	frame_account(hv, ops, sops);
	if (r < 0)
		release_refs(hv, m);
	return r;
}

/* The next run of contiguous frames from segment *@s on, superpages merged too. */
static bool next_run(const struct hv_mapping *m, size_t *s, uint64_t *mfn, uint64_t *nr)
{
	if (*s >= m->nr_segs)
		return false;
	*mfn = m->segs[*s].mfn;
	*nr = 0;
	do {
		*nr += m->segs[*s].nr;
		(*s)++;
	} while (*s < m->nr_segs && m->segs[*s].mfn == *mfn + *nr);
	return true;
}

static size_t export_runs(const struct hv_mapping *m, struct frame_run *runs, size_t room)
{
	size_t n = 0, s = 0;
	uint64_t mfn, nr;

	for (; next_run(m, &s, &mfn, &nr); n++)
		if (n < room)
			runs[n] = (struct frame_run){ .offset = mfn << HV_PAGE_SHIFT, .pages = nr };
	return n;
}

static int map_address_space(struct hv *hv, struct hv_mapping *m, uint64_t gfn)
{
	size_t n = export_runs(m, NULL, 0);
	struct frame_run *runs = calloc(n, sizeof(*runs));
	int r;

	if (!runs)
		return -ENOMEM;
	export_runs(m, runs, n);
	r = frame_map(hv->machine_fd, runs, n, gfn, m->nr, m->flags & HV_MAP_WRITE, (void **)&m->addr);
	free(runs);
	return r;
}

static void mapping_free(struct hv *hv, struct hv_mapping *m)
{
	release_refs(hv, m);
	hv_domain_put(m->d);
	free(m->segs);
	free(m);
}

int hv_foreign_map(struct hv *hv, domid_t domid, uint64_t gfn, size_t nr,
		   unsigned int flags, void **addr)
{
	struct hv_mapping *m;
	int r;

	if (!hv || !addr || nr == 0 || (flags & ~MAP_KNOWN_FLAGS) ||
	    ((flags & HV_MAP_4K) && (flags & HV_MAP_SUPERPAGE_ONLY)))
		return -EINVAL;
	if (gfn > HV_MAX_GFN || nr > HV_MAX_GFN + 1 - gfn)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->gfn = gfn;
	m->nr = nr;
	m->flags = flags;
	r = hv_domain_get(hv, domid, &m->d);
	if (r < 0) {
		free(m);
		return r;
	}

	hv_prw_read_lock(&m->d->p2m.lock);
	r = take_refs_locked(hv, m, gfn);
	hv_prw_read_unlock(&m->d->p2m.lock);
	if (r == 0)
		r = map_address_space(hv, m, gfn);
	if (r < 0) {
		mapping_free(hv, m);
		return r;
	}

	hv_mutex_lock(&hv->mappings_lock);
	m->next = hv->mappings;
	hv->mappings = m;
	hv_mutex_unlock(&hv->mappings_lock);
	*addr = m->addr;
	return 0;
}

int hv_foreign_unmap(struct hv *hv, void *addr)
{
	struct hv_mapping **pm, *m = NULL;

	if (!hv || !addr)
		return -EINVAL;
	hv_mutex_lock(&hv->mappings_lock);
	for (pm = &hv->mappings; *pm; pm = &(*pm)->next) {
		if ((*pm)->addr == addr) {
			m = *pm;
			*pm = m->next;
			break;
		}
	}
	hv_mutex_unlock(&hv->mappings_lock);
	if (!m)
		return -ENOENT;
	munmap(m->addr, m->nr << HV_PAGE_SHIFT);
	/* What dom0 may have written through it may be code an engine translated. */
	if (m->flags & HV_MAP_WRITE)
		hv_domain_code_written(m->d, m->gfn, m->nr);
	mapping_free(hv, m);
	return 0;
}

int hv_foreign_export(struct hv *hv, void *addr, int *fd, struct frame_run *runs,
		      size_t *nr_runs)
{
	struct hv_mapping *m;
	size_t need = 0;
	bool write = false;
	int r = -ENOENT;

	if (!hv || !addr || !fd || !nr_runs || (!runs && *nr_runs))
		return -EINVAL;
	hv_mutex_lock(&hv->mappings_lock);
	for (m = hv->mappings; m; m = m->next) {
		if (m->addr == addr) {
			need = export_runs(m, runs, *nr_runs);
			write = m->flags & HV_MAP_WRITE;
			r = need > *nr_runs ? -ENOSPC : 0;
			break;
		}
	}
	hv_mutex_unlock(&hv->mappings_lock);
	if (r == 0 || r == -ENOSPC)
		*nr_runs = need;
	if (r < 0)
		return r;
	*fd = machine_fd_open(hv, write);
	return *fd < 0 ? *fd : 0;
}

void foreign_unmap_all(struct hv *hv)
{
	while (hv->mappings)
		hv_foreign_unmap(hv, hv->mappings->addr);
}
