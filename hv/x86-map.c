/* SPDX-License-Identifier: MIT */
/*
 * x86-map.c — an engine's memory map: its vCPU's active view as runs of
 * gfns with the same permissions and contiguous frames, each a Unicorn
 * region, rebuilt from the view whenever the domain's p2m generation or
 * the vCPU's view changed by unmapping only the runs that differ and
 * mapping their replacements (never inside emulation).  Code translated
 * from pages dom0 wrote is dropped before the next start.
 *
 * Unicorn 2.0.1 checks execute permission only when it translates code,
 * keeps what it translated across an unmap, and may give the next region
 * the RAM offset the old one had: code translated from a run is dropped
 * before the run is unmapped, or it would run on in the run's replacement
 * whatever its permissions or frames.
 */
#include <errno.h>
#include <stdlib.h>

#include "x86.h"

static uint32_t access_prot(xenmem_access_t a)
{
	static const uint32_t prot[] = {
		[XENMEM_access_n] = UC_PROT_NONE,
		[XENMEM_access_r] = UC_PROT_READ,
		[XENMEM_access_w] = UC_PROT_WRITE,
		[XENMEM_access_rw] = UC_PROT_READ | UC_PROT_WRITE,
		[XENMEM_access_x] = UC_PROT_EXEC,
		[XENMEM_access_rx] = UC_PROT_READ | UC_PROT_EXEC,
		[XENMEM_access_wx] = UC_PROT_WRITE | UC_PROT_EXEC,
		[XENMEM_access_rwx] = UC_PROT_ALL,
		/* Faults that the core resolves: the first write, any access. */
		[XENMEM_access_rx2rw] = UC_PROT_READ | UC_PROT_EXEC,
		[XENMEM_access_n2rwx] = UC_PROT_NONE,
	};

	return (unsigned int)a < sizeof(prot) / sizeof(prot[0]) ? prot[a] : UC_PROT_NONE;
}

static int runs_push(struct runs *rs, const struct run *r)
{
	if (rs->nr == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct run *n = realloc(rs->r, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		rs->r = n;
		rs->cap = cap;
	}
	rs->r[rs->nr++] = *r;
	return 0;
}

struct build {
	struct runs *rs;
	int err;
	/* Pages some view changes: a run of their own in every view (see sync_map). */
	const uint64_t *alone;
	size_t nr_alone, next_alone;
	bool last_alone;
};

static bool alone(struct build *b, uint64_t gfn)
{
	while (b->next_alone < b->nr_alone && b->alone[b->next_alone] < gfn)
		b->next_alone++;
	return b->next_alone < b->nr_alone && b->alone[b->next_alone] == gfn;
}

/* Coalesces the view's entries, in gfn order, into runs. */
static void build_entry(void *ctx, uint64_t gfn, uint64_t raw)
{
	struct build *b = ctx;
	struct run *last = b->rs->nr ? &b->rs->r[b->rs->nr - 1] : NULL;
	bool own = alone(b, gfn);
	enum hv_p2m_type type = (enum hv_p2m_type)((raw >> P2M_TYPE_SHIFT) & 0xf);
	uint32_t perms = access_prot(p2m_raw_access(raw));
	uint64_t mfn = raw >> HV_PAGE_SHIFT;

	if (type == HV_P2M_RAM_RO)
		perms &= ~(uint32_t)UC_PROT_WRITE;
	if (last && !own && !b->last_alone && last->gfn + last->nr == gfn &&
	    last->mfn + last->nr == mfn && last->perms == perms) {
		last->nr++;
		return;
	}
	b->last_alone = own;
	if (b->err == 0)
		b->err = runs_push(b->rs, &(struct run){ .gfn = gfn, .nr = 1, .mfn = mfn, .perms = perms });
}

static bool run_equal(const struct run *a, const struct run *b)
{
	return a->gfn == b->gfn && a->nr == b->nr && a->mfn == b->mfn && a->perms == b->perms;
}

/* Whether @r appears in @rs (sorted by gfn): runs of one map never overlap. */
static bool runs_has(const struct runs *rs, const struct run *r)
{
	size_t lo = 0, hi = rs->nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (rs->r[mid].gfn < r->gfn)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < rs->nr && run_equal(&rs->r[lo], r);
}

void x86_drop_code(struct x86_vcpu *xv, uint64_t gfn, uint64_t nr)
{
	uc_ctl_remove_cache(xv->e->uc, gfn << HV_PAGE_SHIFT, (gfn + nr) << HV_PAGE_SHIFT);
}

int x86_map_at(struct x86_vcpu *xv, const struct run *r, void *host)
{
	uc_err e = uc_mem_map_ptr(xv->e->uc, r->gfn << HV_PAGE_SHIFT, r->nr << HV_PAGE_SHIFT, r->perms,
				  host);

	return e == UC_ERR_OK ? 0 : -EIO;
}

int x86_map_run(struct x86_vcpu *xv, const struct run *r)
{
	return x86_map_at(xv, r, machine_ptr(xv->v->d, r->mfn));
}

void x86_unmap_run(struct x86_vcpu *xv, const struct run *r)
{
	/* A run without execute has no code: it was dropped when execute went. */
	if (r->perms & UC_PROT_EXEC)
		x86_drop_code(xv, r->gfn, r->nr);
	uc_mem_unmap(xv->e->uc, r->gfn << HV_PAGE_SHIFT, r->nr << HV_PAGE_SHIFT);
}

/*
 * Makes the engine's map the vCPU's view again, touching only the runs that
 * differ.  Every page some view changes is a run of its own in every view,
 * so switching views remaps those pages only: the large runs around them
 * stay, and so does the code translated from them.
 * The generation is read first: a change during the scan leaves it stale,
 * so the next start scans again.
 */
int x86_sync_map(struct x86_vcpu *xv)
{
	struct hv_vcpu *v = xv->v;
	struct hv_domain *d = v->d;
	uint64_t gen = atomic_load_explicit(&d->p2m_gen, memory_order_acquire);
	unsigned int view = atomic_load_explicit(&v->active_view, memory_order_acquire);
	struct runs want = { 0 };
	struct build b = { .rs = &want };
	uint64_t *changed = NULL;
	int r = 0;

	if (x86_select_engine(xv, view) < 0) {
		hv_domain_crash(d, "vCPU %u: no engine for view %u", v->id, view);
		return -EFAULT;
	}
	if (xv->e->synced && gen == xv->e->gen && view == xv->e->view)
		return 0;
	b.err = altp2m_changed_gfns(d, &changed, &b.nr_alone);
	b.alone = changed;
	if (b.err == 0)
		altp2m_vcpu_scan(v, view, build_entry, &b);
	free(changed);
	if (b.err) {
		free(want.r);
		hv_domain_crash(d, "vCPU %u: no memory for the engine's map", v->id);
		return -EFAULT;
	}
	if (want.nr > xv->xd->max_regions) {
		free(want.r);
		hv_domain_crash(d, "vCPU %u: view %u needs %zu engine regions, more than the %u allowed "
				   "(max_regions)", v->id, view, want.nr, xv->xd->max_regions);
		return -EFAULT;
	}
	for (size_t i = 0; i < xv->e->map.nr; i++)
		if (!runs_has(&want, &xv->e->map.r[i]))
			x86_unmap_run(xv, &xv->e->map.r[i]);
	for (size_t i = 0; i < want.nr && r == 0; i++)
		if (!runs_has(&xv->e->map, &want.r[i]))
			r = x86_map_run(xv, &want.r[i]);
	free(xv->e->map.r);
	xv->e->map = want;
	if (r < 0) {
		hv_domain_crash(d, "vCPU %u: the engine refused a memory region", v->id);
		return -EFAULT;
	}
	xv->e->gen = gen;
	xv->e->view = view;
	xv->e->synced = true;
	return 0;
}

/* Drops the code translated from pages dom0 wrote since last time. */
void x86_drop_poked_code(struct x86_vcpu *xv)
{
	struct hv_domain *d = xv->v->d;
	uint64_t seq = atomic_load_explicit(&d->poke_seq, memory_order_acquire);

	if (seq == xv->e->poke_seq)
		return;
	pthread_mutex_lock(&d->pokes_lock);
	seq = atomic_load(&d->poke_seq);
	if (seq - xv->e->poke_seq > DOMAIN_POKES) {
		for (size_t i = 0; i < xv->e->map.nr; i++)
			x86_drop_code(xv, xv->e->map.r[i].gfn, xv->e->map.r[i].nr);
	} else {
		for (uint64_t s = xv->e->poke_seq; s < seq; s++)
			x86_drop_code(xv, d->pokes[s % DOMAIN_POKES].gfn, d->pokes[s % DOMAIN_POKES].nr);
	}
	pthread_mutex_unlock(&d->pokes_lock);
	xv->e->poke_seq = seq;
}

/* The run holding @gfn, or NULL. */
struct run *x86_run_of(struct x86_vcpu *xv, uint64_t gfn)
{
	for (size_t i = 0; i < xv->e->map.nr; i++)
		if (gfn - xv->e->map.r[i].gfn < xv->e->map.r[i].nr)
			return &xv->e->map.r[i];
	return NULL;
}
