/* SPDX-License-Identifier: MIT */
/* Structures shared between the core's mechanisms; never seen outside hv/. */
#pragma once

#include <stdarg.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine.h"
#include "hv.h"
#include "lock.h"
#include "prwlock.h"
#include "slot-sync.h"

#define HV_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define HV_FREE_LINK     UINT32_MAX

/*
 * One per machine frame.  count_info and type_info change only through
 * compare-exchange loops (frame.c); the buddy fields only under the heap
 * lock (heap.c).
 */
struct page_info {
	_Atomic uint64_t count_info;          /* general reference count */
	_Atomic uint64_t type_info;           /* type in bits 60..63, count in 0..15 */
	_Atomic domid_t owner;
	bool buddy_free;                      /* head of a free block */
	uint8_t buddy_order;
	uint32_t buddy_next, buddy_prev;      /* free list, by mfn */
};

#define PGT_TYPE_SHIFT   60
#define PGT_TYPE_MASK    (UINT64_C(0xf) << PGT_TYPE_SHIFT)
#define PGT_COUNT_MASK   ((uint64_t)HV_PGT_COUNT_MAX)
#define PGC_COUNT_MASK   ((uint64_t)UINT32_MAX)

/* One per 2 MiB of machine memory (seed 001's spage_info). */
struct spage_info {
	_Atomic uint64_t count_info;
	_Atomic uint64_t type_info;           /* type bits 62..63, enabled 61, count 0..15 */
};

#define SGT_TYPE_SHIFT   62
#define SGT_TYPE_MASK    (UINT64_C(3) << SGT_TYPE_SHIFT)
#define SGT_ENABLED      (UINT64_C(1) << 61)
#define SGT_COUNT_MASK   ((uint64_t)HV_SGT_COUNT_MAX)

struct hv_heap {
	struct hv_mutex lock;
	uint32_t free_head[HV_MAX_ORDER + 1];
	uint64_t free_frames;
};

/* A live dom0 mapping of guest frames (foreign.c). */
struct hv_mapping;

struct evtchn_table;
struct hv_evtchn_handle;
struct grant_table;
struct maptrack;
struct dom0_grants;
typedef void hv_evtchn_consumer_fn(void *ctx, evtchn_port_t port);

struct hv {
	int machine_fd;
	uint8_t *machine;                     /* the whole of machine memory */
	uint64_t nr_frames;
	struct page_info *frame_table;
	struct spage_info *spage_table;
	uint64_t nr_spages;
	struct hv_heap heap;

	struct hv_prwlock domlist_lock;       /* looked up on every operation: per-thread */
	struct hv_domain *domains[HV_MAX_DOMAINS];
	domid_t next_domid;

	struct hv_mutex mappings_lock;
	struct hv_mapping *mappings;

	_Atomic uint64_t page_ref_ops;
	_Atomic uint64_t spage_ref_ops;

	struct evtchn_table *dom0_evtchn;
	struct maptrack *maptrack;            /* dom0's grant mappings */
	struct dom0_grants *dom0_grants;      /* what dom0 grants guests */
	struct hv_mutex evtchn_handles_lock;
	struct hv_evtchn_handle *evtchn_handles;
	int evtchn_epoll, evtchn_stop;        /* notify service for other processes */
	pthread_t evtchn_service;
	bool evtchn_service_started;

	hv_log_fn *log;
	void *log_ctx;
};

struct hv_block {
	uint64_t mfn;
	uint64_t gfn;
	unsigned int order;
};

/*
 * The p2m entry word, shared by the host p2m and the views:
 *
 *   bit 0      present
 *   bit 1      2 MiB leaf (host p2m level 2 only)
 *   bits 2-5   p2m type
 *   bits 6-9   access (xenmem_access_t)
 *   bit 10     suppress #VE
 *   bits 12-63 mfn
 */
#define P2M_PRESENT      (UINT64_C(1) << 0)
#define P2M_SUPER        (UINT64_C(1) << 1)
#define P2M_TYPE_SHIFT   2
#define P2M_ACCESS_SHIFT 6
#define P2M_ACCESS_MASK  (UINT64_C(0xf) << P2M_ACCESS_SHIFT)
#define P2M_SVE          (UINT64_C(1) << 10)
#define P2M_ADDR_MASK    (~UINT64_C(0xfff))

static inline uint64_t p2m_pack(const struct hv_p2m_entry *e, uint64_t mfn, bool super)
{
	return P2M_PRESENT | (super ? P2M_SUPER : 0) |
	       ((uint64_t)e->type << P2M_TYPE_SHIFT) |
	       ((uint64_t)e->access << P2M_ACCESS_SHIFT) |
	       (e->suppress_ve ? P2M_SVE : 0) | (mfn << HV_PAGE_SHIFT);
}

static inline void p2m_unpack(uint64_t raw, uint64_t mfn_offset, unsigned int order,
			      struct hv_p2m_entry *e)
{
	e->mfn = (raw >> HV_PAGE_SHIFT) + mfn_offset;
	e->type = (enum hv_p2m_type)((raw >> P2M_TYPE_SHIFT) & 0xf);
	e->access = (xenmem_access_t)((raw >> P2M_ACCESS_SHIFT) & 0xf);
	e->suppress_ve = raw & P2M_SVE;
	e->order = order;
}

static inline xenmem_access_t p2m_raw_access(uint64_t raw)
{
	return (xenmem_access_t)((raw & P2M_ACCESS_MASK) >> P2M_ACCESS_SHIFT);
}

static inline uint64_t p2m_raw_with_access(uint64_t raw, xenmem_access_t a)
{
	return (raw & ~(P2M_ACCESS_MASK | P2M_SUPER)) | ((uint64_t)a << P2M_ACCESS_SHIFT);
}

struct p2m {
	struct hv_prwlock lock;               /* read on every translation miss: per-thread */
	uint64_t *root;                       /* 512 entries of level 4 */
	uint64_t nr_tables;
};

/* A changed entry of a view: open addressing, gfn SLOT_EMPTY when free. */
struct view_slot {
	uint64_t gfn;
	uint64_t raw;                         /* p2m word */
};
#define SLOT_EMPTY UINT64_MAX

/* gfn is backed by src's frame mfn, which the view holds a reference on. */
struct view_remap {
	uint64_t gfn, src, mfn;
};

struct hv_view {
	struct hv_rwlock lock;
	unsigned int idx;
	xenmem_access_t default_access;
	_Atomic bool visible;
	_Atomic unsigned int active_vcpus;
	struct view_slot *slots;
	unsigned int bits;                    /* capacity is 1 << bits, 0 when empty */
	size_t nr;
	struct view_remap *remaps;
	size_t nr_remaps, remaps_cap;
	uint64_t remap_min, remap_max;        /* Xen's min/max_remapped_gfn */
};

struct altp2m {
	struct hv_rwlock list_lock;
	bool enabled;
	unsigned int max_views;
	struct hv_view *views[ALTVIEW_MAX_VIEWS];
};

#define TLB_ENTRIES 256

/* A vCPU's translation cache; valid while its gen equals the domain's. */
struct tlb {
	uint64_t gen;
	struct {
		uint64_t gfn;
		uint64_t raw;
		unsigned int view;
	} e[TLB_ENTRIES];
};

struct hv_vcpu {
	struct hv_domain *d;
	unsigned int id;
	pthread_t thread;
	bool thread_started;

	/* Run state, under lock; the thread waits on cond. */
	struct hv_mutex lock;
	pthread_cond_t cond;
	unsigned int pause_count;
	bool at_pause_point;
	bool in_guest;                        /* executing steps right now */
	bool done;
	bool waiting_event;                   /* a synchronous event awaits an answer */
	bool answer_claimed, answered;
	struct hv_response answer;
	_Atomic bool yield_req;               /* pause_count || stop: read between steps */

	_Atomic unsigned int active_view;
	struct vm_event_regs_x86 regs;        /* owned by the engine while in guest */
	void *engine_state;
	struct tlb tlb;                       /* vCPU thread only */

	/* Single-step: toggled by answers; fast single-step switches view after one step. */
	_Atomic bool singlestep, fast_ss_pending;
	_Atomic unsigned int fast_ss_view;

	_Atomic uint64_t steps, accesses, sync_events, async_events, denied_view_switches;
	_Atomic uint64_t singlesteps;
};

#define DOMAIN_POKES 16

struct hv_domain {
	struct hv *hv;
	domid_t id;
	_Atomic unsigned int refcount;
	_Atomic bool live;                    /* fully built */
	_Atomic bool dying;

	struct hv_mutex page_alloc_lock;
	struct hv_block *blocks;              /* the domain's page list, by block */
	size_t nr_blocks, blocks_cap;
	/* Grows under page_alloc_lock (a grant table's frames); anyone may read it. */
	_Atomic uint64_t tot_pages;
	/*
	 * Guest memory dom0 wrote that may hold code (a breakpoint, a patch):
	 * engines that translate code drop what they made from it.  A ring of
	 * the last writes; an engine that fell further behind drops all.
	 */
	pthread_mutex_t pokes_lock;
	_Atomic uint64_t poke_seq;
	struct { uint64_t gfn, nr; } pokes[DOMAIN_POKES];

	struct evtchn_table *evtchn;
	struct grant_table *grant;
	struct p2m p2m;
	xenmem_access_t default_access;       /* what "default" means in view 0 */
	struct altp2m altp2m;
	/* Bumped after every change of the host p2m or a view: flushes TLBs. */
	_Atomic uint64_t p2m_gen;

	const struct hv_engine_ops *engine;
	void *engine_state;                   /* the engine's per-domain state */
	_Atomic bool access_required;         /* changed at run time by the monitor */
	unsigned int nr_vcpus;
	struct hv_vcpu **vcpus;
	_Atomic unsigned int pause_count;
	_Atomic bool stopping;                /* vCPU threads are to exit */

	struct hv_rwlock listener_lock;
	_Atomic uint32_t listener_reasons;
	struct hv_monitor *_Atomic monitor;   /* at most one, as in Xen */
	hv_event_fn *listener;
	void *listener_ctx;

	struct hv_mutex state_lock;           /* crash reason and idle waiting */
	pthread_cond_t state_cond;
	bool crashed;
	char crash_reason[160];
	unsigned int vcpus_finished;
};

static inline struct page_info *mfn_to_page(const struct hv *hv, uint64_t mfn)
{
	return &hv->frame_table[mfn];
}

static inline struct spage_info *mfn_to_spage(const struct hv *hv, uint64_t mfn)
{
	return &hv->spage_table[mfn >> HV_SUPERPAGE_ORDER];
}

static inline bool mfn_valid(const struct hv *hv, uint64_t mfn)
{
	return mfn < hv->nr_frames;
}

void hv_log(const struct hv *hv, enum hv_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* frame.c — references counted by the caller into *ops. */
int page_get(struct hv *hv, uint64_t mfn, domid_t owner, uint64_t *ops);
void page_put(struct hv *hv, uint64_t mfn, uint64_t *ops);
int page_get_type(struct hv *hv, uint64_t mfn, enum hv_page_type type, uint64_t *ops);
void page_put_type(struct hv *hv, uint64_t mfn, uint64_t *ops);
void frame_account(struct hv *hv, uint64_t page_ops, uint64_t spage_ops);

/* superpage.c */
void spage_get(struct spage_info *sp, uint64_t *ops);
void spage_put(struct spage_info *sp, uint64_t *ops);
int spage_get_type(struct spage_info *sp, enum hv_spage_type type, uint64_t *ops);
void spage_put_type(struct spage_info *sp, uint64_t *ops);
void spage_enable(struct hv *hv, uint64_t mfn, unsigned int order);
void spage_disable(struct hv *hv, uint64_t mfn, unsigned int order);
static inline bool spage_conflicts(enum hv_page_type type)
{
	return type != HV_PGT_NONE && type != HV_PGT_WRITABLE;
}

/* heap.c */
void heap_init(struct hv *hv);
uint64_t heap_free_frames(struct hv *hv);
int heap_alloc_domheap(struct hv_domain *d, unsigned int order, uint64_t *mfn);
void heap_free_domheap(struct hv_domain *d, uint64_t mfn, unsigned int order);
/* The same for frames of a domain that has no struct here (dom0's own). */
int heap_alloc_owned(struct hv *hv, domid_t owner, unsigned int order, uint64_t *mfn);
void heap_free_owned(struct hv *hv, domid_t owner, uint64_t mfn, unsigned int order);

/* p2m.c */
int p2m_init(struct p2m *p2m);
void p2m_deinit(struct p2m *p2m);
/* Drops every entry and table; the p2m stays usable (and empty). */
void p2m_clear(struct p2m *p2m);
/* Caller holds the p2m lock. */
int p2m_lookup_locked(struct p2m *p2m, uint64_t gfn, struct hv_p2m_entry *e);
/* Every present leaf in ascending gfn order: its first gfn, its word, its order. */
typedef void p2m_walk_fn(void *ctx, uint64_t gfn, uint64_t raw, unsigned int order);
void p2m_walk_locked(struct p2m *p2m, p2m_walk_fn *fn, void *ctx);
int p2m_set_locked(struct p2m *p2m, uint64_t gfn, const struct hv_p2m_entry *e);

/* view.c: host write lock and list read lock held. */
void altp2m_propagate_locked(struct hv_domain *d, uint64_t gfn, uint64_t nr);
int altp2m_init(struct hv_domain *d);
void altp2m_deinit(struct hv_domain *d);
/* Effective p2m word of @gfn in view @idx (takes the locks). */
int altp2m_effective(struct hv_domain *d, unsigned int idx, uint64_t gfn, uint64_t *raw);
/* The same for @v's own active view @idx, from @v's thread. */
int altp2m_vcpu_effective(struct hv_vcpu *v, unsigned int idx, uint64_t gfn, uint64_t *raw);
/*
 * Every gfn the vCPU's view @idx maps, ascending, with its effective 4 KiB
 * word: what an engine that keeps its own copy of the map rebuilds from.
 */
typedef void altp2m_scan_fn(void *ctx, uint64_t gfn, uint64_t raw);
/* The gfns some view changed, ascending, no repeats (the caller frees *gfns). */
int altp2m_changed_gfns(struct hv_domain *d, uint64_t **gfns, size_t *n);
void altp2m_vcpu_scan(struct hv_vcpu *v, unsigned int idx, altp2m_scan_fn *fn, void *ctx);
/* With the list lock held: switch @v, keeping the views' vCPU counts. */
void vcpu_switch_view_locked(struct hv_vcpu *v, unsigned int idx);
int view_lookup_locked(struct hv_domain *d, unsigned int idx, struct hv_view **out);

static inline void p2m_changed(struct hv_domain *d)
{
	atomic_fetch_add_explicit(&d->p2m_gen, 1, memory_order_release);
}

/* vm_event.c: wakes vCPUs waiting on their slots (domain stopping). */
void vm_event_kick(struct hv_monitor *mon);
/* The two places answers are taken from shared memory (and fuzzed). */
int vm_event_slot_collect(struct hv_monitor *mon, unsigned int vcpu, struct hv_response *resp);
void vm_event_ring_notified(void *ctx, evtchn_port_t port);
bool view_exists(struct hv_domain *d, unsigned int idx);

static inline struct hv_vm_event_slot *vm_event_slot(uint8_t *slots, unsigned int vcpu)
{
	return (struct hv_vm_event_slot *)(slots + (size_t)vcpu * HV_VM_EVENT_SLOT_SIZE);
}

static inline _Atomic uint32_t *slot_state(struct hv_vm_event_slot *s)
{
	return (_Atomic uint32_t *)&s->state;
}

/* vcpu.c */
int vcpus_create(struct hv_domain *d, const struct hv_domain_opts *opts);
void vcpus_stop(struct hv_domain *d);
void vcpus_free(struct hv_domain *d);

/* grant.c */
int grant_init(struct hv_domain *d, unsigned int max_frames, enum hv_grant_lock kind);
void grant_deinit(struct hv_domain *d);
int maptrack_init(struct hv *hv);
void maptrack_deinit(struct hv *hv);
void grant_release_guest_maps(struct hv_domain *d);

/*
 * domain.c: a live domain by id without taking a reference; valid while the
 * caller holds domlist_lock for reading (destroy must write-lock it).
 */
struct hv_domain *domain_lookup_locked(struct hv *hv, domid_t id);
/* domain.c: record a block the domain owns (freed with the domain). */
int domain_add_block(struct hv_domain *d, uint64_t mfn, uint64_t gfn, unsigned int order);

/* evtchn.c */
int evtchn_table_new(struct hv *hv, domid_t id, struct evtchn_table **out);
void evtchn_table_free(struct evtchn_table *t);
void evtchn_table_close_all(struct evtchn_table *t);
/* A port of @t, unbound for @remote, delivered to @h or served by @consumer. */
int evtchn_alloc_unbound(struct evtchn_table *t, domid_t remote, struct hv_evtchn_handle *h,
			 hv_evtchn_consumer_fn *consumer, void *ctx);
int evtchn_send_port(struct evtchn_table *t, evtchn_port_t port);
int evtchn_close_port(struct evtchn_table *t, evtchn_port_t port);
void evtchn_service_stop(struct hv *hv);

/* machine.c: a new descriptor of machine memory, read-only unless @write. */
int machine_fd_open(struct hv *hv, bool write);

/* foreign.c */
void foreign_unmap_all(struct hv *hv);
/* Address space a mapping of @len bytes from @gfn reserves, and where in it it goes. */
