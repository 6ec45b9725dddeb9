/* SPDX-License-Identifier: MIT */
/*
 * Domains.  dom0 is the process using the core and has no structure here;
 * guests get ids 1..HV_MAX_DOMAINS-1.  A domain is reference counted: the
 * domain table holds one reference until destroy, and anything that keeps
 * its frames in use (a dom0 mapping) holds another, so the memory returns
 * to the heap only when nothing can still reach it.
 */
#include <errno.h>
#include <stdlib.h>

#include "private.h"
#include "prwlock.h"

int domain_add_block(struct hv_domain *d, uint64_t mfn, uint64_t gfn, unsigned int order)
{
	int r = 0;

	hv_mutex_lock(&d->page_alloc_lock);
	if (d->nr_blocks == d->blocks_cap) {
		size_t cap = d->blocks_cap ? d->blocks_cap * 2 : 16;
		struct hv_block *b = realloc(d->blocks, cap * sizeof(*b));

		if (!b) {
			r = -ENOMEM;
			goto out;
		}
		d->blocks = b;
		d->blocks_cap = cap;
	}
	d->blocks[d->nr_blocks++] = (struct hv_block){ .mfn = mfn, .gfn = gfn, .order = order };
	atomic_fetch_add_explicit(&d->tot_pages, UINT64_C(1) << order, memory_order_relaxed);
out:
	hv_mutex_unlock(&d->page_alloc_lock);
	return r;
}

static int map_block(struct hv_domain *d, uint64_t mfn, uint64_t gfn, unsigned int order)
{
	unsigned int leaf = order >= HV_SUPERPAGE_ORDER ? HV_SUPERPAGE_ORDER : 0;
	struct hv_p2m_entry e = {
		.type = HV_P2M_RAM_RW,
		.access = XENMEM_access_rwx,
		.order = leaf,
	};

	for (uint64_t i = 0; i < (UINT64_C(1) << order); i += UINT64_C(1) << leaf) {
		int r;

		e.mfn = mfn + i;
		r = p2m_set_locked(&d->p2m, gfn + i, &e);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Guest RAM comes in the largest blocks that are aligned in gfn space and
 * still available: an order >= 9 block gets 2 MiB p2m leaves and enabled
 * superpages, which is what makes the superpage mapping path possible.
 */
static int populate(struct hv_domain *d, uint64_t pages)
{
	int r = 0;

	hv_prw_write_lock(&d->p2m.lock);
	for (uint64_t gfn = 0; gfn < pages;) {
		unsigned int order = HV_MAX_ORDER;
		uint64_t mfn;

		while (order && ((gfn & ((UINT64_C(1) << order) - 1)) ||
				 gfn + (UINT64_C(1) << order) > pages))
			order--;
		while ((r = heap_alloc_domheap(d, order, &mfn)) == -ENOMEM && order)
			order--;
		if (r < 0)
			break;
		r = domain_add_block(d, mfn, gfn, order);
		if (r < 0) {
			heap_free_domheap(d, mfn, order);
			break;
		}
		r = map_block(d, mfn, gfn, order);
		if (r < 0)
			break;
		gfn += UINT64_C(1) << order;
	}
	hv_prw_write_unlock(&d->p2m.lock);
	return r;
}

static void domain_free(struct hv_domain *d)
{
	vcpus_stop(d);
	vcpus_free(d);
	/* Views and the grant table hold references on frames: release them first. */
	altp2m_deinit(d);
	grant_deinit(d);
	evtchn_table_free(d->evtchn);
	for (size_t i = 0; i < d->nr_blocks; i++)
		heap_free_domheap(d, d->blocks[i].mfn, d->blocks[i].order);
	free(d->blocks);
	p2m_deinit(&d->p2m);
	hv_rwlock_deinit(&d->listener_lock);
	pthread_cond_destroy(&d->state_cond);
	hv_mutex_deinit(&d->state_lock);
	pthread_mutex_destroy(&d->pokes_lock);
	hv_mutex_deinit(&d->page_alloc_lock);
	free(d);
}

static int reserve_domid(struct hv *hv, struct hv_domain *d)
{
	int r = -ENOSPC;

	hv_prw_write_lock(&hv->domlist_lock);
	for (unsigned int n = 0; n < HV_MAX_DOMAINS - 1; n++) {
		domid_t id = hv->next_domid;

		hv->next_domid = id + 1 < HV_MAX_DOMAINS ? id + 1 : 1;
		if (!hv->domains[id]) {
			/* Published now, found by hv_domain_get() only once live. */
			d->id = id;
			hv->domains[id] = d;
			r = 0;
			break;
		}
	}
	hv_prw_write_unlock(&hv->domlist_lock);
	return r;
}

static void release_domid(struct hv *hv, struct hv_domain *d)
{
	hv_prw_write_lock(&hv->domlist_lock);
	hv->domains[d->id] = NULL;
	hv_prw_write_unlock(&hv->domlist_lock);
}

static int opts_valid(const struct hv_domain_opts *opts)
{
	if (opts->sz < sizeof(*opts))
		return -EINVAL;
	if (opts->memory_bytes == 0 || opts->memory_bytes % HV_PAGE_SIZE ||
	    (opts->memory_bytes >> HV_PAGE_SHIFT) > HV_MAX_GFN)
		return -EINVAL;
	if (opts->nr_vcpus > ALTVIEW_MAX_VCPUS || (opts->nr_vcpus && !opts->engine))
		return -EINVAL;
	return 0;
}

int hv_domain_create(struct hv *hv, const struct hv_domain_opts *opts, struct hv_domain **out)
{
	struct hv_domain *d;
	int r;

	if (!hv || !opts || !out || opts_valid(opts) < 0)
		return -EINVAL;
	if ((opts->memory_bytes >> HV_PAGE_SHIFT) > heap_free_frames(hv))
		return -ENOMEM;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->hv = hv;
	atomic_init(&d->refcount, 2);          /* the table's and the caller's */
	d->default_access = XENMEM_access_rwx;
	hv_mutex_init(&d->page_alloc_lock, HV_LOCK_PAGE_ALLOC, "page_alloc");
	hv_mutex_init(&d->state_lock, HV_LOCK_DOMSTATE, "domain state");
	hv_cond_init(&d->state_cond);
	pthread_mutex_init(&d->pokes_lock, NULL);
	hv_rwlock_init(&d->listener_lock, HV_LOCK_LISTENER, "listener");
	altp2m_init(d);
	r = p2m_init(&d->p2m);
	if (r < 0) {
		altp2m_deinit(d);
		hv_rwlock_deinit(&d->listener_lock);
		pthread_cond_destroy(&d->state_cond);
		hv_mutex_deinit(&d->state_lock);
		hv_mutex_deinit(&d->page_alloc_lock);
		free(d);
		return r;
	}
	r = reserve_domid(hv, d);
	if (r == 0) {
		r = evtchn_table_new(hv, d->id, &d->evtchn);
		if (r == 0)
			r = grant_init(d, opts->max_grant_frames, opts->grant_lock);
		if (r == 0)
			r = populate(d, opts->memory_bytes >> HV_PAGE_SHIFT);
		if (r == 0)
			r = vcpus_create(d, opts);
		if (r < 0)
			release_domid(hv, d);
	}
	if (r < 0) {
		domain_free(d);
		return r;
	}
	atomic_store_explicit(&d->live, true, memory_order_release);
	*out = d;
	return 0;
}

int hv_domain_get(struct hv *hv, domid_t id, struct hv_domain **out)
{
	struct hv_domain *d;
	int r = -ESRCH;

	if (!hv || !out)
		return -EINVAL;
	if (id == HV_DOMID_DOM0 || id >= HV_MAX_DOMAINS)
		return -EINVAL;
	hv_prw_read_lock(&hv->domlist_lock);
	d = domain_lookup_locked(hv, id);
	if (d) {
		atomic_fetch_add(&d->refcount, 1);
		*out = d;
		r = 0;
	}
	hv_prw_read_unlock(&hv->domlist_lock);
	return r;
}

int hv_domain_list(struct hv *hv, domid_t *ids, size_t max)
{
	size_t n = 0;

	if (!hv || (!ids && max))
		return -EINVAL;
	hv_prw_read_lock(&hv->domlist_lock);
	for (unsigned int id = 1; id < HV_MAX_DOMAINS; id++) {
		if (!domain_lookup_locked(hv, (domid_t)id))
			continue;
		if (n < max)
			ids[n] = (domid_t)id;
		n++;
	}
	hv_prw_read_unlock(&hv->domlist_lock);
	return (int)n;
}

struct hv_domain *domain_lookup_locked(struct hv *hv, domid_t id)
{
	/* dom0 is this process: it has no entry (ids start at 1). */
	struct hv_domain *d = id != HV_DOMID_DOM0 && id < HV_MAX_DOMAINS ? hv->domains[id] : NULL;

	if (d && atomic_load_explicit(&d->live, memory_order_acquire) && !atomic_load(&d->dying))
		return d;
	return NULL;
}

void hv_domain_code_written(struct hv_domain *d, uint64_t gfn, uint64_t nr)
{
	uint64_t seq;

	if (!d || !nr)
		return;
	pthread_mutex_lock(&d->pokes_lock);
	seq = atomic_load(&d->poke_seq);
	d->pokes[seq % DOMAIN_POKES].gfn = gfn;
	d->pokes[seq % DOMAIN_POKES].nr = nr;
	atomic_store_explicit(&d->poke_seq, seq + 1, memory_order_release);
	pthread_mutex_unlock(&d->pokes_lock);
}

void hv_domain_put(struct hv_domain *d)
{
	if (d && atomic_fetch_sub(&d->refcount, 1) == 1)
		domain_free(d);
}

int hv_domain_destroy(struct hv_domain *d)
{
	if (!d)
		return -EINVAL;
	if (atomic_exchange(&d->dying, true))
		return -ESRCH;
	release_domid(d->hv, d);
	/* Nothing runs in the guest any more (not callable from a listener). */
	vcpus_stop(d);
	evtchn_table_close_all(d->evtchn);
	grant_release_guest_maps(d);
	/* The guest is gone: nothing may translate through its p2m again. */
	p2m_clear(&d->p2m);
	hv_domain_put(d);
	return 0;
}

domid_t hv_domain_id(const struct hv_domain *d)
{
	return d->id;
}

uint64_t hv_domain_tot_pages(const struct hv_domain *d)
{
	return atomic_load_explicit(&d->tot_pages, memory_order_relaxed);
}

void hv_domain_set_access_required(struct hv_domain *d, bool required)
{
	atomic_store_explicit(&d->access_required, required, memory_order_relaxed);
}

bool hv_domain_access_required(struct hv_domain *d)
{
	return atomic_load_explicit(&d->access_required, memory_order_relaxed);
}

size_t hv_domain_blocks(const struct hv_domain *d, uint64_t *mfn, unsigned int *order, size_t max)
{
	size_t n = d->nr_blocks < max ? d->nr_blocks : max;

	for (size_t i = 0; i < n; i++) {
		mfn[i] = d->blocks[i].mfn;
		order[i] = d->blocks[i].order;
	}
	return d->nr_blocks;
}
