/* SPDX-License-Identifier: MIT */
/*
 * Grant tables, Xen's v1 (seed 002 for the lock).  A domain's table lives in
 * frames it owns and writes itself: grant_entry_v1_t {flags, domid, frame}
 * from Xen's public grant_table.h.  Whatever the guest wrote is read once,
 * validated, and claimed with compare-exchange on the {flags, domid} word
 * (GTF_reading / GTF_writing), retried a bounded number of times as Xen
 * does, because the guest may change the entry under us at any moment.
 *
 * Map, unmap and copy take the table lock for reading and it is the
 * per-thread reader lock, so concurrent mappers never share a cache line
 * for it; setup and growth take it for writing.  Under it, an active entry
 * per grant (its own small lock) counts the pins that keep GTF_reading and
 * GTF_writing set.  dom0's mappings are tracked by handle (maptrack), each
 * holding a page reference, a writable type for a writable map, and a
 * NOSUPER reference: a granted frame that is mapped keeps its 2 MiB block
 * from being mapped whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "private.h"
#include "prwlock.h"

#define ENTRIES_PER_FRAME (HV_PAGE_SIZE / sizeof(grant_entry_v1_t))
#define CLAIM_RETRIES     4     /* Xen gives up on an entry that keeps changing */

struct active_grant {
	atomic_flag lock;
	uint32_t pins, write_pins;
};

/*
 * The table lock.  The per-thread reader lock is what the core uses; the
 * other two are there so the benchmark can compare against them through
 * the very same map/unmap/copy paths.
 */
struct grant_lock {
	enum hv_grant_lock kind;
	struct hv_prwlock prw;
	pthread_rwlock_t rw;
	_Atomic int counter;                  /* readers, or -1 while written */
};

/* A grant of dom0's that this guest maps (under the dom0 grants lock). */
struct guest_map {
	bool used, readonly;
	grant_ref_t ref;
	uint64_t gfn, mfn;
};

struct grant_table {
	struct grant_lock lock;
	unsigned int nr_frames, max_frames;
	uint64_t *mfns;
	struct active_grant *active;          /* nr_frames * ENTRIES_PER_FRAME */
	struct guest_map *maps;
	size_t nr_maps;
};

/* dom0's own grant entries: dom0 is this process, so they live here. */
struct dom0_grant {
	bool used, readonly;
	domid_t guest;
	uint64_t mfn;
	void *addr;                           /* dom0's mapping of the frame */
	uint32_t pins;                        /* guest mappings */
};

struct dom0_grants {
	struct hv_mutex lock;
	struct dom0_grant e[HV_DOM0_GRANTS];
};

struct maptrack_entry {
	bool used;
	bool readonly;
	struct hv_domain *d;                  /* holds a domain reference */
	grant_ref_t ref;
	uint64_t mfn;
	void *addr;
};

struct maptrack {
	struct hv_mutex lock;
	struct maptrack_entry *entries;
	size_t nr, cap;
};

/* ---- the table -------------------------------------------------------------------- */

/* The per-thread reader lock reports to the order checker itself; the others here. */
static void gt_read_lock(struct grant_lock *l)
{
	if (l->kind == HV_GRANT_LOCK_PER_THREAD) {
		hv_prw_read_lock(&l->prw);
		return;
	}
	lock_order_acquired(HV_LOCK_GRANT, "grant table");
	if (l->kind == HV_GRANT_LOCK_PTHREAD) {
		pthread_rwlock_rdlock(&l->rw);
		return;
	}
	for (;;) {
		int n = atomic_load_explicit(&l->counter, memory_order_relaxed);

		if (n >= 0 && atomic_compare_exchange_weak_explicit(&l->counter, &n, n + 1,
								    memory_order_acquire,
								    memory_order_relaxed))
			return;
		cpu_relax();
	}
}

static void gt_read_unlock(struct grant_lock *l)
{
	if (l->kind == HV_GRANT_LOCK_PER_THREAD) {
		hv_prw_read_unlock(&l->prw);
		return;
	}
	if (l->kind == HV_GRANT_LOCK_PTHREAD)
		pthread_rwlock_unlock(&l->rw);
	else
		atomic_fetch_sub_explicit(&l->counter, 1, memory_order_release);
	lock_order_released(HV_LOCK_GRANT, "grant table");
}

static void gt_write_lock(struct grant_lock *l)
{
	if (l->kind == HV_GRANT_LOCK_PER_THREAD) {
		hv_prw_write_lock(&l->prw);
		return;
	}
	lock_order_acquired(HV_LOCK_GRANT, "grant table");
	if (l->kind == HV_GRANT_LOCK_PTHREAD) {
		pthread_rwlock_wrlock(&l->rw);
		return;
	}
	for (int zero = 0; !atomic_compare_exchange_weak_explicit(&l->counter, &zero, -1,
								 memory_order_acquire,
								 memory_order_relaxed);
	     zero = 0)
		cpu_relax();
}

static void gt_write_unlock(struct grant_lock *l)
{
	if (l->kind == HV_GRANT_LOCK_PER_THREAD) {
		hv_prw_write_unlock(&l->prw);
		return;
	}
	if (l->kind == HV_GRANT_LOCK_PTHREAD)
		pthread_rwlock_unlock(&l->rw);
	else
		atomic_store_explicit(&l->counter, 0, memory_order_release);
	lock_order_released(HV_LOCK_GRANT, "grant table");
}

static void active_lock(struct active_grant *a)
{
	while (atomic_flag_test_and_set_explicit(&a->lock, memory_order_acquire))
		cpu_relax();
}

static void active_unlock(struct active_grant *a)
{
	atomic_flag_clear_explicit(&a->lock, memory_order_release);
}

/* The guest-visible entry, in the guest's own table frame. */
static grant_entry_v1_t *shared_entry(struct hv_domain *d, grant_ref_t ref)
{
	uint64_t mfn = d->grant->mfns[ref / ENTRIES_PER_FRAME];

	return (grant_entry_v1_t *)(d->hv->machine + (mfn << HV_PAGE_SHIFT)) +
	       ref % ENTRIES_PER_FRAME;
}

/* {flags, domid} as one word: what the guest and the core race on. */
static _Atomic uint32_t *entry_word(grant_entry_v1_t *e)
{
	return (_Atomic uint32_t *)e;
}

int grant_init(struct hv_domain *d, unsigned int max_frames, enum hv_grant_lock kind)
{
	struct grant_table *gt;

	if ((unsigned int)kind > HV_GRANT_LOCK_ATOMIC)
		return -EINVAL;
	gt = calloc(1, sizeof(*gt));
	if (!gt)
		return -ENOMEM;
	gt->max_frames = max_frames ? max_frames : HV_GNTTAB_DEFAULT_MAX_FRAMES;
	gt->mfns = calloc(gt->max_frames, sizeof(*gt->mfns));
	if (!gt->mfns) {
		free(gt);
		return -ENOMEM;
	}
	gt->lock.kind = kind;
	hv_prwlock_init(&gt->lock.prw, &hv_grant_class, HV_LOCK_GRANT, "grant table");
	pthread_rwlock_init(&gt->lock.rw, NULL);
	d->grant = gt;
	return 0;
}

/* Table frames are the domain's own pages; the blocks list frees them. */
void grant_deinit(struct hv_domain *d)
{
	struct grant_table *gt = d->grant;

	if (!gt)
		return;
	for (unsigned int i = 0; i < gt->nr_frames; i++)
		hv_frame_put_typed(d, gt->mfns[i], HV_PGT_GRANT_TABLE);
	hv_prwlock_deinit(&gt->lock.prw);
	pthread_rwlock_destroy(&gt->lock.rw);
	free(gt->maps);
	free(gt->active);
	free(gt->mfns);
	free(gt);
	d->grant = NULL;
}

static int grow(struct hv_domain *d, unsigned int nr_frames)
{
	struct grant_table *gt = d->grant;
	struct active_grant *active;

	active = realloc(gt->active, nr_frames * ENTRIES_PER_FRAME * sizeof(*active));
	if (!active)
		return GNTST_general_error;
	gt->active = active;
	memset(active + gt->nr_frames * ENTRIES_PER_FRAME, 0,
	       (nr_frames - gt->nr_frames) * ENTRIES_PER_FRAME * sizeof(*active));
	while (gt->nr_frames < nr_frames) {
		uint64_t gfn = HV_GNTTAB_GFN_BASE + gt->nr_frames, mfn;
		struct hv_p2m_entry e = { .type = HV_P2M_RAM_RW, .access = XENMEM_access_rwx };

		if (heap_alloc_domheap(d, 0, &mfn) < 0)
			return GNTST_general_error;
		memset(d->hv->machine + (mfn << HV_PAGE_SHIFT), 0, HV_PAGE_SIZE);
		e.mfn = mfn;
		if (domain_add_block(d, mfn, gfn, 0) < 0 ||
		    hv_frame_get_typed(d, mfn, HV_PGT_GRANT_TABLE) < 0 ||
		    hv_p2m_set_entry(d, gfn, &e) < 0)
			return GNTST_general_error;
		gt->mfns[gt->nr_frames++] = mfn;
	}
	return GNTST_okay;
}

int hv_gnttab_setup_table(struct hv_domain *d, unsigned int nr_frames, uint64_t *gfns)
{
	struct grant_table *gt;
	int r = GNTST_okay;

	if (!d || !gfns)
		return GNTST_general_error;
	gt = d->grant;
	gt_write_lock(&gt->lock);
	if (nr_frames == 0 || nr_frames > gt->max_frames)
		r = GNTST_general_error;
	else if (nr_frames > gt->nr_frames)
		r = grow(d, nr_frames);
	for (unsigned int i = 0; r == GNTST_okay && i < nr_frames; i++)
		gfns[i] = HV_GNTTAB_GFN_BASE + i;
	gt_write_unlock(&gt->lock);
	return r;
}

int hv_gnttab_query_size(struct hv_domain *d, unsigned int *nr_frames, unsigned int *max_frames)
{
	if (!d || !nr_frames || !max_frames)
		return GNTST_general_error;
	gt_read_lock(&d->grant->lock);
	*nr_frames = d->grant->nr_frames;
	*max_frames = d->grant->max_frames;
	gt_read_unlock(&d->grant->lock);
	return GNTST_okay;
}

/* ---- pins: claiming an entry the guest wrote ------------------------------------------ */

/*
 * Takes one pin on @ref for dom0 (read lock held): claims GTF_reading, and
 * GTF_writing for a writable pin, on the guest's entry, then references the
 * frame it names.  Returns a GNTST code; *mfn on success.
 */
static int pin(struct hv_domain *d, grant_ref_t ref, bool readonly, uint64_t *mfn)
{
	struct grant_table *gt = d->grant;
	struct active_grant *act;
	grant_entry_v1_t *e;
	uint32_t want = GTF_reading | (readonly ? 0 : GTF_writing);
	int r = GNTST_okay;

	if (ref >= gt->nr_frames * ENTRIES_PER_FRAME)
		return GNTST_bad_gntref;
	act = &gt->active[ref];
	e = shared_entry(d, ref);
	active_lock(act);
	for (unsigned int tries = 0;; tries++) {
		uint32_t word = atomic_load(entry_word(e));
		uint16_t flags = (uint16_t)word, domid = (uint16_t)(word >> 16);

		if ((flags & GTF_type_mask) != GTF_permit_access || domid != HV_DOMID_DOM0) {
			r = GNTST_general_error;        /* not granted to us */
			break;
		}
		if (!readonly && (flags & GTF_readonly)) {
			r = GNTST_general_error;        /* write pin of a read-only grant */
			break;
		}
		if ((word & want) == want || atomic_compare_exchange_strong(entry_word(e), &word,
									      word | want))
			break;
		if (tries == CLAIM_RETRIES) {
			r = GNTST_general_error;        /* the guest keeps changing it */
			break;
		}
	}
	if (r == GNTST_okay) {
		/* The frame is read once, after the claim: the guest may not change it now. */
		struct hv_p2m_entry pe;
		uint64_t gfn = __atomic_load_n(&e->frame, __ATOMIC_ACQUIRE), ops = 0, sops = 0;

		if (hv_p2m_get_entry(d, gfn, &pe) < 0 || pe.type != HV_P2M_RAM_RW ||
		    gfn >= HV_GNTTAB_GFN_BASE)
			r = GNTST_bad_page;
		else if (page_get(d->hv, pe.mfn, d->id, &ops) < 0)
			r = GNTST_bad_page;
		else if (!readonly && page_get_type(d->hv, pe.mfn, HV_PGT_WRITABLE, &ops) < 0) {
			page_put(d->hv, pe.mfn, &ops);
			r = GNTST_general_error;
		} else if (spage_get_type(mfn_to_spage(d->hv, pe.mfn), HV_SGT_NOSUPER, &sops) < 0) {
			if (!readonly)
				page_put_type(d->hv, pe.mfn, &ops);
			page_put(d->hv, pe.mfn, &ops);
			r = GNTST_general_error;        /* its block is mapped whole right now */
		}
		frame_account(d->hv, ops, sops);
		*mfn = pe.mfn;
	}
	if (r == GNTST_okay) {
		act->pins++;
		act->write_pins += !readonly;
	} else if (act->pins == 0) {
		/* Nothing holds the entry: give back what this attempt claimed. */
		atomic_fetch_and(entry_word(e), ~(uint32_t)(GTF_reading | GTF_writing));
	} else if (act->write_pins == 0) {
		atomic_fetch_and(entry_word(e), ~(uint32_t)GTF_writing);
	}
	active_unlock(act);
	return r;
}

static void unpin(struct hv_domain *d, grant_ref_t ref, bool readonly, uint64_t mfn)
{
	struct active_grant *act = &d->grant->active[ref];
	grant_entry_v1_t *e = shared_entry(d, ref);
	uint64_t ops = 0, sops = 0;

	active_lock(act);
	spage_put_type(mfn_to_spage(d->hv, mfn), &sops);
	if (!readonly)
		page_put_type(d->hv, mfn, &ops);
	page_put(d->hv, mfn, &ops);
	frame_account(d->hv, ops, sops);
	act->pins--;
	act->write_pins -= !readonly;
	if (!act->write_pins)
		atomic_fetch_and(entry_word(e), ~(uint32_t)GTF_writing);
	if (!act->pins)
		atomic_fetch_and(entry_word(e), ~(uint32_t)GTF_reading);
	active_unlock(act);
}

/* ---- dom0: map, unmap, copy --------------------------------------------------------------- */

int maptrack_init(struct hv *hv)
{
	hv->maptrack = calloc(1, sizeof(*hv->maptrack));
	hv->dom0_grants = calloc(1, sizeof(*hv->dom0_grants));
	if (!hv->maptrack || !hv->dom0_grants)
		return -ENOMEM;
	hv_mutex_init(&hv->maptrack->lock, HV_LOCK_MAPTRACK, "maptrack");
	hv_mutex_init(&hv->dom0_grants->lock, HV_LOCK_DOM0_GRANTS, "dom0 grants");
	return 0;
}

static int16_t unmap_entry(struct hv *hv, struct maptrack_entry *m)
{
	struct hv_domain *d = m->d;

	munmap(m->addr, HV_PAGE_SIZE);
	gt_read_lock(&d->grant->lock);
	unpin(d, m->ref, m->readonly, m->mfn);
	gt_read_unlock(&d->grant->lock);
	hv_domain_put(d);
	return GNTST_okay;
}

void maptrack_deinit(struct hv *hv)
{
	/* Guests are gone by now, and their mappings of dom0's grants with them. */
	for (grant_ref_t ref = 0; hv->dom0_grants && ref < HV_DOM0_GRANTS; ref++)
		if (hv->dom0_grants->e[ref].used)
			hv_gnttab_unshare(hv, ref);
	if (hv->dom0_grants) {
		hv_mutex_deinit(&hv->dom0_grants->lock);
		free(hv->dom0_grants);
		hv->dom0_grants = NULL;
	}
	if (!hv->maptrack)
		return;
	for (size_t i = 0; i < hv->maptrack->nr; i++)
		if (hv->maptrack->entries[i].used)
			unmap_entry(hv, &hv->maptrack->entries[i]);
	free(hv->maptrack->entries);
	hv_mutex_deinit(&hv->maptrack->lock);
	free(hv->maptrack);
	hv->maptrack = NULL;
}

static int16_t track(struct hv *hv, struct maptrack_entry *m, grant_handle_t *handle)
{
	struct maptrack *mt = hv->maptrack;
	size_t i;
	int16_t r = GNTST_okay;

	hv_mutex_lock(&mt->lock);
	for (i = 0; i < mt->nr && mt->entries[i].used; i++)
		;
	if (i == mt->nr) {
		if (mt->nr == mt->cap) {
			size_t cap = mt->cap ? mt->cap * 2 : 64;
			struct maptrack_entry *n = realloc(mt->entries, cap * sizeof(*n));

			if (!n || cap > UINT32_MAX)
				r = GNTST_no_space;
			else {
				mt->entries = n;
				mt->cap = cap;
			}
		}
		if (r == GNTST_okay)
			mt->nr++;
	}
	if (r == GNTST_okay) {
		mt->entries[i] = *m;
		mt->entries[i].used = true;
		*handle = (grant_handle_t)i;
	}
	hv_mutex_unlock(&mt->lock);
	return r;
}

int16_t hv_gnttab_map(struct hv *hv, domid_t granter, grant_ref_t ref, uint32_t flags,
		      void **addr, grant_handle_t *handle)
{
	struct maptrack_entry m = { .ref = ref, .readonly = flags & GNTMAP_readonly };
	int16_t r;
	int prot = PROT_READ | (m.readonly ? 0 : PROT_WRITE);

	if (!hv || !addr || !handle || !(flags & GNTMAP_host_map) ||
	    (flags & ~(uint32_t)(GNTMAP_host_map | GNTMAP_readonly)))
		return GNTST_general_error;
	if (hv_domain_get(hv, granter, &m.d) < 0)
		return GNTST_bad_domain;
	gt_read_lock(&m.d->grant->lock);
	r = (int16_t)pin(m.d, ref, m.readonly, &m.mfn);
	gt_read_unlock(&m.d->grant->lock);
	if (r == GNTST_okay) {
		m.addr = mmap(NULL, HV_PAGE_SIZE, prot, MAP_SHARED, hv->machine_fd,
			      (off_t)(m.mfn << HV_PAGE_SHIFT));
		if (m.addr == MAP_FAILED)
			r = GNTST_no_space;
		else if ((r = track(hv, &m, handle)) != GNTST_okay)
			munmap(m.addr, HV_PAGE_SIZE);
		if (r != GNTST_okay) {
			gt_read_lock(&m.d->grant->lock);
			unpin(m.d, ref, m.readonly, m.mfn);
			gt_read_unlock(&m.d->grant->lock);
		}
	}
	if (r != GNTST_okay) {
		hv_domain_put(m.d);
		return r;
	}
	*addr = m.addr;
	return GNTST_okay;
}

int16_t hv_gnttab_unmap(struct hv *hv, grant_handle_t handle)
{
	struct maptrack *mt;
	struct maptrack_entry m = { .used = false };

	if (!hv)
		return GNTST_general_error;
	mt = hv->maptrack;
	hv_mutex_lock(&mt->lock);
	if (handle < mt->nr && mt->entries[handle].used) {
		m = mt->entries[handle];
		mt->entries[handle].used = false;
	}
	hv_mutex_unlock(&mt->lock);
	return m.used ? unmap_entry(hv, &m) : GNTST_bad_handle;
}

int hv_gnttab_export(struct hv *hv, grant_handle_t handle, int *fd, uint64_t *offset)
{
	struct maptrack *mt;
	bool used = false, readonly = true;
	uint64_t mfn = 0;

	if (!hv || !fd || !offset)
		return -EINVAL;
	mt = hv->maptrack;
	hv_mutex_lock(&mt->lock);
	if (handle < mt->nr && mt->entries[handle].used) {
		used = true;
		readonly = mt->entries[handle].readonly;
		mfn = mt->entries[handle].mfn;
	}
	hv_mutex_unlock(&mt->lock);
	if (!used)
		return -ENOENT;
	*fd = machine_fd_open(hv, !readonly);
	*offset = mfn << HV_PAGE_SHIFT;
	return *fd < 0 ? *fd : 0;
}

/* One side of a copy: a grant of @domid, or (dom0 is privileged) one of its gfns. */
struct copy_side {
	struct hv_domain *d;
	bool gref;
	grant_ref_t ref;
	uint64_t mfn;
};

/*
 * The caller holds the domain table for reading, which keeps both domains
 * alive without touching their reference counts: a copy writes no line
 * that another copy of other grants reads.
 */
static int16_t copy_acquire(struct hv *hv, const struct gnttab_copy_ptr *p, bool gref,
			    bool readonly, struct copy_side *s)
{
	int16_t r = GNTST_okay;

	s->gref = gref;
	s->d = domain_lookup_locked(hv, p->domid);
	if (!s->d)
		return GNTST_bad_domain;
	if (gref) {
		s->ref = p->u.ref;
		/* One table at a time: two held at once could deadlock two writers. */
		gt_read_lock(&s->d->grant->lock);
		r = (int16_t)pin(s->d, s->ref, readonly, &s->mfn);
		gt_read_unlock(&s->d->grant->lock);
	} else {
		struct hv_p2m_entry e;

		if (hv_p2m_get_entry(s->d, p->u.gmfn, &e) < 0 || e.type != HV_P2M_RAM_RW)
			r = GNTST_bad_page;
		s->mfn = e.mfn;
	}
	if (r != GNTST_okay)
		s->d = NULL;
	return r;
}

static void copy_release(struct copy_side *s, bool readonly)
{
	if (!s->d || !s->gref)
		return;
	gt_read_lock(&s->d->grant->lock);
	unpin(s->d, s->ref, readonly, s->mfn);
	gt_read_unlock(&s->d->grant->lock);
}

int16_t hv_gnttab_copy(struct hv *hv, struct gnttab_copy *op)
{
	struct copy_side src = { 0 }, dst = { 0 };

	if (!hv || !op)
		return GNTST_general_error;
	if ((uint32_t)op->source.offset + op->len > HV_PAGE_SIZE ||
	    (uint32_t)op->dest.offset + op->len > HV_PAGE_SIZE ||
	    (op->flags & ~(GNTCOPY_source_gref | GNTCOPY_dest_gref)))
		return op->status = GNTST_bad_copy_arg;
	hv_prw_read_lock(&hv->domlist_lock);
	op->status = copy_acquire(hv, &op->source, op->flags & GNTCOPY_source_gref, true, &src);
	if (op->status == GNTST_okay)
		op->status = copy_acquire(hv, &op->dest, op->flags & GNTCOPY_dest_gref, false, &dst);
	if (op->status == GNTST_okay)
		memmove(hv->machine + (dst.mfn << HV_PAGE_SHIFT) + op->dest.offset,
			hv->machine + (src.mfn << HV_PAGE_SHIFT) + op->source.offset, op->len);
	copy_release(&dst, false);
	copy_release(&src, true);
	hv_prw_read_unlock(&hv->domlist_lock);
	return op->status;
}

/* ---- the guest's side ------------------------------------------------------------------------ */

int hv_gnttab_grant_access(struct hv_domain *d, grant_ref_t ref, domid_t domid, uint64_t gfn,
			   bool readonly)
{
	grant_entry_v1_t *e;
	int r = 0;

	if (!d)
		return -EINVAL;
	gt_read_lock(&d->grant->lock);
	if (ref >= d->grant->nr_frames * ENTRIES_PER_FRAME || gfn > UINT32_MAX) {
		r = -EINVAL;
	} else {
		/* As a guest does it: frame and domid first, then the flags that publish them. */
		e = shared_entry(d, ref);
		__atomic_store_n(&e->frame, (uint32_t)gfn, __ATOMIC_RELAXED);
		atomic_store_explicit(entry_word(e), (uint32_t)domid << 16 |
				      GTF_permit_access | (readonly ? GTF_readonly : 0),
				      memory_order_release);
	}
	gt_read_unlock(&d->grant->lock);
	return r;
}

int hv_gnttab_end_access(struct hv_domain *d, grant_ref_t ref)
{
	_Atomic uint32_t *w;
	uint32_t word;
	int r = 0;

	if (!d)
		return -EINVAL;
	gt_read_lock(&d->grant->lock);
	if (ref >= d->grant->nr_frames * ENTRIES_PER_FRAME) {
		r = -EINVAL;
	} else {
		w = entry_word(shared_entry(d, ref));
		word = atomic_load(w);
		/* Linux's gnttab_end_foreign_access_ref: only while nobody holds it. */
		do {
			if (word & (GTF_reading | GTF_writing)) {
				r = -EBUSY;
				break;
			}
		} while (!atomic_compare_exchange_weak(w, &word, 0));
	}
	gt_read_unlock(&d->grant->lock);
	return r;
}

/* ---- dom0's grants to guests ------------------------------------------------------------------ */

int hv_gnttab_share(struct hv *hv, domid_t guest, bool readonly, grant_ref_t *ref, void **addr)
{
	struct dom0_grants *g;
	grant_ref_t i;
	uint64_t mfn;
	void *p;
	int r;

	if (!hv || !ref || !addr || guest == HV_DOMID_DOM0 || guest >= HV_MAX_DOMAINS)
		return -EINVAL;
	r = heap_alloc_owned(hv, HV_DOMID_DOM0, 0, &mfn);
	if (r < 0)
		return r;
	p = mmap(NULL, HV_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, hv->machine_fd,
		 (off_t)(mfn << HV_PAGE_SHIFT));
	if (p == MAP_FAILED) {
		heap_free_owned(hv, HV_DOMID_DOM0, mfn, 0);
		return -ENOMEM;
	}
	memset(p, 0, HV_PAGE_SIZE);
	g = hv->dom0_grants;
	hv_mutex_lock(&g->lock);
	for (i = 0; i < HV_DOM0_GRANTS && g->e[i].used; i++)
		;
	if (i < HV_DOM0_GRANTS)
		g->e[i] = (struct dom0_grant){ .used = true, .readonly = readonly, .guest = guest,
					       .mfn = mfn, .addr = p };
	hv_mutex_unlock(&g->lock);
	if (i == HV_DOM0_GRANTS) {
		munmap(p, HV_PAGE_SIZE);
		heap_free_owned(hv, HV_DOMID_DOM0, mfn, 0);
		return -ENOSPC;
	}
	*ref = i;
	*addr = p;
	return 0;
}

int hv_gnttab_unshare(struct hv *hv, grant_ref_t ref)
{
	struct dom0_grants *g;
	struct dom0_grant e = { 0 };
	int r = 0;

	if (!hv || ref >= HV_DOM0_GRANTS)
		return -EINVAL;
	g = hv->dom0_grants;
	hv_mutex_lock(&g->lock);
	if (!g->e[ref].used)
		r = -ENOENT;
	else if (g->e[ref].pins)
		r = -EBUSY;
	else {
		e = g->e[ref];
		g->e[ref].used = false;
	}
	hv_mutex_unlock(&g->lock);
	if (r == 0) {
		munmap(e.addr, HV_PAGE_SIZE);
		heap_free_owned(hv, HV_DOMID_DOM0, e.mfn, 0);
	}
	return r;
}

/* dom0 grants lock held: reserve a mapping slot in the guest's table. */
static struct guest_map *guest_map_slot(struct grant_table *gt)
{
	for (size_t i = 0; i < gt->nr_maps; i++)
		if (!gt->maps[i].used)
			return &gt->maps[i];

	struct guest_map *n = realloc(gt->maps, (gt->nr_maps + 16) * sizeof(*n));

	if (!n)
		return NULL;
	memset(n + gt->nr_maps, 0, 16 * sizeof(*n));
	gt->maps = n;
	gt->nr_maps += 16;
	return &gt->maps[gt->nr_maps - 16];
}

int16_t hv_gnttab_guest_map(struct hv_domain *d, grant_ref_t ref, uint64_t gfn, uint32_t flags,
			    grant_handle_t *handle)
{
	bool readonly = flags & GNTMAP_readonly;
	struct hv_p2m_entry e;
	struct dom0_grants *g;
	struct guest_map *m;
	uint64_t ops = 0;
	int16_t r = GNTST_okay;

	if (!d || !handle || !(flags & GNTMAP_host_map) ||
	    (flags & ~(uint32_t)(GNTMAP_host_map | GNTMAP_readonly)))
		return GNTST_general_error;
	if (ref >= HV_DOM0_GRANTS)
		return GNTST_bad_gntref;
	/* Only where nothing is: a grant does not silently replace guest RAM. */
	if (gfn > HV_MAX_GFN || hv_p2m_get_entry(d, gfn, &e) != -ENOENT)
		return GNTST_bad_virt_addr;
	g = d->hv->dom0_grants;
	hv_mutex_lock(&g->lock);
	if (!g->e[ref].used)
		r = GNTST_bad_gntref;
	else if (g->e[ref].guest != d->id)
		r = GNTST_permission_denied;
	else if (!readonly && g->e[ref].readonly)
		r = GNTST_general_error;
	else if (!(m = guest_map_slot(d->grant)))
		r = GNTST_no_space;
	else if (page_get(d->hv, g->e[ref].mfn, HV_DOMID_DOM0, &ops) < 0)
		r = GNTST_general_error;
	if (r == GNTST_okay) {
		*m = (struct guest_map){ .used = true, .readonly = readonly, .ref = ref, .gfn = gfn,
					 .mfn = g->e[ref].mfn };
		g->e[ref].pins++;
		*handle = (grant_handle_t)(m - d->grant->maps);
		e = (struct hv_p2m_entry){ .mfn = m->mfn, .access = XENMEM_access_rwx,
					   .type = readonly ? HV_P2M_RAM_RO : HV_P2M_RAM_RW };
	}
	hv_mutex_unlock(&g->lock);
	frame_account(d->hv, ops, 0);
	if (r == GNTST_okay && hv_p2m_set_entry(d, gfn, &e) < 0) {
		hv_gnttab_guest_unmap(d, *handle);
		r = GNTST_general_error;
	}
	return r;
}

int16_t hv_gnttab_guest_unmap(struct hv_domain *d, grant_handle_t handle)
{
	struct hv_p2m_entry none = { .type = HV_P2M_INVALID };
	struct dom0_grants *g;
	struct guest_map m = { 0 };
	uint64_t ops = 0;

	if (!d)
		return GNTST_general_error;
	g = d->hv->dom0_grants;
	hv_mutex_lock(&g->lock);
	if (handle < d->grant->nr_maps && d->grant->maps[handle].used) {
		m = d->grant->maps[handle];
		d->grant->maps[handle].used = false;
	}
	hv_mutex_unlock(&g->lock);
	if (!m.used)
		return GNTST_bad_handle;
	/* Out of the p2m first: no vCPU may reach the frame once dom0 can free it. */
	hv_p2m_set_entry(d, m.gfn, &none);
	page_put(d->hv, m.mfn, &ops);
	frame_account(d->hv, ops, 0);
	hv_mutex_lock(&g->lock);
	g->e[m.ref].pins--;
	hv_mutex_unlock(&g->lock);
	return GNTST_okay;
}

/* A dying guest gives back dom0's frames it still maps. */
void grant_release_guest_maps(struct hv_domain *d)
{
	for (size_t i = 0; d->grant && i < d->grant->nr_maps; i++)
		if (d->grant->maps[i].used)
			hv_gnttab_guest_unmap(d, (grant_handle_t)i);
}
