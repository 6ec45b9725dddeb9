/* SPDX-License-Identifier: MIT */
/* Structures shared between the core's mechanisms; never seen outside hv/. */
#pragma once

#include <stdarg.h>
#include <inttypes.h>
#include <stdatomic.h>

#include "hv.h"
#include "lock.h"

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

struct hv {
	int machine_fd;
	uint8_t *machine;                     /* the whole of machine memory */
	uint64_t nr_frames;
	struct page_info *frame_table;
	struct spage_info *spage_table;
	uint64_t nr_spages;
	struct hv_heap heap;

	struct hv_rwlock domlist_lock;
	struct hv_domain *domains[HV_MAX_DOMAINS];
	domid_t next_domid;

	struct hv_mutex mappings_lock;
	struct hv_mapping *mappings;

	_Atomic uint64_t page_ref_ops;
	_Atomic uint64_t spage_ref_ops;

	hv_log_fn *log;
	void *log_ctx;
};

struct hv_block {
	uint64_t mfn;
	uint64_t gfn;
	unsigned int order;
};

struct p2m {
	struct hv_rwlock lock;
	uint64_t *root;                       /* 512 entries of level 4 */
	uint64_t nr_tables;
};

struct hv_domain {
	struct hv *hv;
	domid_t id;
	_Atomic unsigned int refcount;
	_Atomic bool live;                    /* fully built */
	_Atomic bool dying;

	struct hv_mutex page_alloc_lock;
	struct hv_block *blocks;              /* the domain's page list, by block */
	size_t nr_blocks, blocks_cap;
	uint64_t tot_pages;

	struct p2m p2m;
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

/* p2m.c */
int p2m_init(struct p2m *p2m);
void p2m_deinit(struct p2m *p2m);
/* Drops every entry and table; the p2m stays usable (and empty). */
void p2m_clear(struct p2m *p2m);
/* Caller holds the p2m lock. */
int p2m_lookup_locked(struct p2m *p2m, uint64_t gfn, struct hv_p2m_entry *e);
int p2m_set_locked(struct p2m *p2m, uint64_t gfn, const struct hv_p2m_entry *e);

/* foreign.c */
void foreign_unmap_all(struct hv *hv);
