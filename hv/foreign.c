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

/*
 * Every 2 MiB-aligned gfn lands on a 2 MiB-aligned address (so the kernel
 * can use huge TLB entries): the mapping starts at the first 2 MiB boundary
 * of the reservation plus the gfn's offset inside its chunk, so the
 * reservation must hold that offset as well as the alignment slack.
 */
size_t foreign_reserve_len(uint64_t gfn, size_t len)
{
	return len + HV_SUPERPAGE_SIZE + ((gfn & (HV_SUPERPAGE_PAGES - 1)) << HV_PAGE_SHIFT);
}

uintptr_t foreign_place(uintptr_t base, uint64_t gfn)
{
	uintptr_t aligned = (base + HV_SUPERPAGE_SIZE - 1) & ~(uintptr_t)(HV_SUPERPAGE_SIZE - 1);

	return aligned + ((gfn & (HV_SUPERPAGE_PAGES - 1)) << HV_PAGE_SHIFT);
}

/* Reserves address space, then maps each run of contiguous frames with one mmap. */
static int map_address_space(struct hv *hv, struct hv_mapping *m, uint64_t gfn)
{
	size_t len = m->nr << HV_PAGE_SHIFT;
	size_t reserve = foreign_reserve_len(gfn, len);
	int prot = PROT_READ | ((m->flags & HV_MAP_WRITE) ? PROT_WRITE : 0);
	uint8_t *base, *addr;

	base = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return -errno;
	addr = (uint8_t *)foreign_place((uintptr_t)base, gfn);
	if (addr > base)
		munmap(base, (size_t)(addr - base));
	if (base + reserve > addr + len)
		munmap(addr + len, (size_t)(base + reserve - (addr + len)));

	size_t off = 0;

	for (size_t s = 0; s < m->nr_segs;) {
		uint64_t mfn = m->segs[s].mfn, nr = 0;

		do {
			nr += m->segs[s].nr;
			s++;
		} while (s < m->nr_segs && m->segs[s].mfn == mfn + nr);
		if (mmap(addr + off, nr << HV_PAGE_SHIFT, prot, MAP_SHARED | MAP_FIXED,
			 hv->machine_fd, (off_t)(mfn << HV_PAGE_SHIFT)) == MAP_FAILED) {
			int r = -errno;

			munmap(addr, len);
			return r;
		}
		off += nr << HV_PAGE_SHIFT;
	}
	m->addr = addr;
	return 0;
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

void foreign_unmap_all(struct hv *hv)
{
	while (hv->mappings)
		hv_foreign_unmap(hv, hv->mappings->addr);
}
